/* libmicrohttpd glue: start-up, the per-request state machine, the body limit
 * and turning a struct web_resp into a response with the security headers.
 * The daemon runs one internal polling thread, so every handler and callback
 * runs on that thread, one at a time. */
#include "web/web_int.h"

#include <microhttpd.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/secret.h"

/* A body past the limit is read and dropped so the client can get its 413;
 * past this much the connection is dropped instead. */
#define WEB_MAX_DISCARD (4u * WEB_MAX_BODY)

static const struct {
	const char *name;
	const char *value;
} security_headers[] = {
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "
				"object-src 'none'; base-uri 'self'; form-action 'self'; "
				"frame-ancestors 'none'"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
};

const char *web__req_header(const struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *web__req_arg(const struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* The client's address as text, for the login rate limit and logs. */
static void client_addr(struct MHD_Connection *conn, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
			  (socklen_t)cap);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)cap);
}

int web__resp_header(struct web_resp *r, const char *name, const char *value)
{
	size_t n = strlen(value);

	if (r->nhdr == WEB_RESP_HEADERS || n >= WEB_RESP_HEADER_VALUE)
		return ERR_FULL;
	r->hdr[r->nhdr].name = name;
	memcpy(r->hdr[r->nhdr].value, value, n + 1);
	r->nhdr++;
	return 0;
}

void web__resp_text(struct web_resp *r, unsigned status, const char *text)
{
	web__buf_release(&r->body);
	r->status = status;
	r->content_type = "text/plain; charset=utf-8";
	r->cache_control = NULL;
	r->fixed = NULL;
	r->fixed_len = 0;
	r->nhdr = 0;
	web_buf_appendf(&r->body, "%s\n", text);
}

static unsigned method_of(const char *m)
{
	if (strcmp(m, MHD_HTTP_METHOD_GET) == 0)
		return WEB_M_GET;
	if (strcmp(m, MHD_HTTP_METHOD_HEAD) == 0)
		return WEB_M_HEAD;
	if (strcmp(m, MHD_HTTP_METHOD_POST) == 0)
		return WEB_M_POST;
	return WEB_M_OTHER;
}

/* True when a Content-Length header announces more than WEB_MAX_BODY. A
 * malformed value is left to libmicrohttpd, which refuses it. */
static bool announced_too_large(const char *cl)
{
	uint64_t v = 0;
	size_t i;

	if (!cl)
		return false;
	for (i = 0; cl[i] >= '0' && cl[i] <= '9'; i++) {
		if (v > WEB_MAX_BODY)
			return true;
		v = v * 10 + (uint64_t)(cl[i] - '0');
	}
	return v > WEB_MAX_BODY;
}

static enum MHD_Result respond(struct web *w, struct web_req *req)
{
	struct web_resp resp;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t i;

	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	resp.content_type = "text/plain; charset=utf-8";
	web__buf_init(&resp.body, WEB_MAX_RESPONSE);
	web__dispatch(w, req, &resp);
	if (resp.body.err) {
		LOG_ERROR_ERR("web", "response too large", resp.body.err, "status=%u", resp.status);
		web__resp_text(&resp, 500, "internal error");
	}
	if (resp.fixed) {
		r = MHD_create_response_from_buffer(resp.fixed_len, (void *)(uintptr_t)resp.fixed,
						    MHD_RESPMEM_PERSISTENT);
	} else {
		size_t len;
		char *data = web__buf_detach(&resp.body, &len);

		r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
		if (!r)
			free(data);
	}
	if (!r)
		return MHD_NO;
	ret = MHD_YES;
	for (i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]) && ret == MHD_YES;
	     i++)
		ret =
		    MHD_add_response_header(r, security_headers[i].name, security_headers[i].value);
	if (ret == MHD_YES && resp.status != 304)
		ret = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp.content_type);
	if (ret == MHD_YES)
		ret = MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
					      resp.cache_control ? resp.cache_control : "no-store");
	for (i = 0; i < resp.nhdr && ret == MHD_YES; i++)
		ret = MHD_add_response_header(r, resp.hdr[i].name, resp.hdr[i].value);
	if (ret == MHD_YES)
		ret = MHD_queue_response(req->conn, resp.status, r);
	MHD_destroy_response(r);
	req->responded = true;
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct web *w = cls;
	struct web_req *req = *con_cls;

	(void)version;
	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->method = method_of(method);
		req->path = url;
		req->conn = conn;
		client_addr(conn, req->addr, sizeof(req->addr));
		web__buf_init(&req->body, WEB_MAX_BODY);
		*con_cls = req;
		/* Refuse an announced oversized body before it is sent. */
		if (announced_too_large(web__req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH))) {
			req->too_large = true;
			return respond(w, req);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		req->body_seen += *upload_data_size;
		if (req->body_seen > WEB_MAX_DISCARD)
			return MHD_NO;
		if (!req->too_large && !req->responded &&
		    web_buf_append(&req->body, upload_data, *upload_data_size) != 0) {
			if (req->body.err != ERR_FULL)
				return MHD_NO;
			req->too_large = true;
			web__buf_release(&req->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->responded)
		return MHD_YES;
	return respond(w, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct web_req *req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!req)
		return;
	web__buf_release(&req->body);
	free(req);
	*con_cls = NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes in place like libmicrohttpd's own, except that %00 stays as
 * written: a decoded NUL would cut the path short in every C string that
 * follows, so "/static/app.css%00.png" must not become "/static/app.css". */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *r = s, *o = s;

	(void)cls;
	(void)conn;
	while (*r) {
		int hi, lo;

		if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 &&
		    (hi | lo) != 0) {
			*o++ = (char)(hi * 16 + lo);
			r += 3;
			continue;
		}
		*o++ = *r++;
	}
	*o = '\0';
	return (size_t)(o - s);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256], q[300];
	size_t i;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (i = 0; msg[i]; i++)
		if ((unsigned char)msg[i] < 0x20)
			msg[i] = ' ';
	while (i > 0 && msg[i - 1] == ' ')
		msg[--i] = '\0';
	LOG_WARN("web", "microhttpd", "detail=%s", log_q(q, sizeof(q), msg));
}

/* Starts the daemon on the first address of host that binds. */
static int start(struct web *w, const struct web_cfg *cfg, struct err_info *info)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc, bind_errno = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(cfg->host, NULL, &hints, &res);
	if (rc != 0)
		return err_set(info, ERR_CONFIG, "APP_HOST=%s does not resolve: %s", cfg->host,
			       gai_strerror(rc));
	for (ai = res; ai && !w->daemon; ai = ai->ai_next) {
		struct sockaddr_storage ss;
		unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;

		if (ai->ai_family == AF_INET) {
			memcpy(&ss, ai->ai_addr, sizeof(struct sockaddr_in));
			((struct sockaddr_in *)&ss)->sin_port = htons(cfg->port);
		} else if (ai->ai_family == AF_INET6) {
			memcpy(&ss, ai->ai_addr, sizeof(struct sockaddr_in6));
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(cfg->port);
			flags |= MHD_USE_IPv6;
		} else {
			continue;
		}
		errno = 0;
		/* The logger goes first so that every message takes it. */
		w->daemon = MHD_start_daemon(
		    flags, 0, NULL, NULL, on_request, w, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, w,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
		    (unsigned int)WEB_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned int)WEB_CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)WEB_CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
		    MHD_OPTION_UNESCAPE_CALLBACK, unescape, w, MHD_OPTION_END);
		if (!w->daemon)
			bind_errno = errno;
	}
	freeaddrinfo(res);
	if (!w->daemon)
		return err_set(info, ERR_NET, "cannot listen on %s:%u: %s", cfg->host,
			       (unsigned)cfg->port,
			       bind_errno ? err_str(-bind_errno) : "daemon did not start");
	return 0;
}

static int load_files(struct web *w, const char *share, struct err_info *info)
{
	char path[4096];
	size_t i;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/src/web/templates", share) >= sizeof(path))
		return err_set(info, ERR_RANGE, "share dir path too long");
	rc = web__tpl_load_dir(w->tpl, path, info);
	if (rc)
		return rc;
	for (i = 0; web__required_templates[i]; i++)
		if (!web__tpl_has(w->tpl, web__required_templates[i]))
			return err_set(info, ERR_NOTFOUND, "template %s/%s: not found", path,
				       web__required_templates[i]);
	snprintf(path, sizeof(path), "%s/src/web/static", share);
	rc = web__assets_load_dir(&w->assets, path, info);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/third_party/htmx/htmx.min.js", share);
	return web__assets_add_file(&w->assets, "htmx.min.js", path, info);
}

/* Login settings: with auth on, the user and a parseable hash are required
 * (config_check_dashboard said so already; this keeps web_new safe alone). */
static int setup_auth(struct web *w, const struct web_cfg *cfg, struct err_info *info)
{
	w->auth_on = cfg->auth;
	w->secure_cookies = cfg->tls;
	w->ttl_s = cfg->session_ttl_s ? cfg->session_ttl_s : 28800u;
	w->now_ns = clock_mono_ns;
	if (web__token(w->dev.id) != 0 || web__token(w->dev.csrf) != 0)
		return err_set(info, ERR_CRYPTO, "web_new: no random bytes for tokens");
	w->dev.used = true;
	w->dev.expires_ns = UINT64_MAX;
	snprintf(w->dev.user, sizeof(w->dev.user), "%s", cfg->auth ? "metrics" : "dev");
	if (!cfg->auth)
		return 0;
	if (!cfg->user[0] || strlen(cfg->user) >= sizeof(w->user) ||
	    secret_empty(cfg->password_hash))
		return err_set(info, ERR_CONFIG,
			       "DASHBOARD_USER and DASHBOARD_PASSWORD_HASH are required while "
			       "DASHBOARD_AUTH=on");
	memcpy(w->user, cfg->user, strlen(cfg->user) + 1); /* length checked above */
	if (web__pwhash_parse((const char *)secret__bytes(cfg->password_hash),
			      secret_len(cfg->password_hash), &w->pw) != 0)
		return err_set(info, ERR_CONFIG,
			       "DASHBOARD_PASSWORD_HASH=[redacted]: expected "
			       "scrypt$N$r$p$<salt>$<hash> from `arbitrade secrets hash-password`");
	return 0;
}

struct web *web_new(const struct web_cfg *cfg, const struct web_deps *deps, struct err_info *info)
{
	struct web *w = NULL;
	const union MHD_DaemonInfo *di;
	char q[CONFIG_STR + 8];
	int rc;

	if (!cfg || !deps || !deps->share_dir || !deps->db_ping || !cfg->host[0]) {
		err_set(info, ERR_INVALID, "web_new: host, share_dir and db_ping are required");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		err_set(info, ERR_NOMEM, "web_new: out of memory");
		return NULL;
	}
	w->mode = deps->trading_mode;
	w->db_ping = deps->db_ping;
	w->health_extra = deps->health_extra;
	w->reader = deps->reader;
	w->snapshot = deps->snapshot;
	w->pause = deps->pause;
	w->kill = deps->kill;
	w->set_mode = deps->set_mode;
	w->audit = deps->audit;
	w->ctx = deps->ctx;
	w->start_ns = clock_mono_ns();
	rc = setup_auth(w, cfg, info);
	if (rc)
		goto cleanup;
	w->tpl = web__tpl_set_new();
	if (!w->tpl) {
		rc = err_set(info, ERR_NOMEM, "web_new: out of memory");
		goto cleanup;
	}
	rc = load_files(w, deps->share_dir, info);
	if (rc)
		goto cleanup;
	rc = start(w, cfg, info);
	if (rc)
		goto cleanup;
	di = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
	w->port = di ? di->port : cfg->port;
	LOG_INFO("web", "listening", "host=%s port=%u", log_q(q, sizeof(q), cfg->host),
		 (unsigned)w->port);
	return w;
cleanup:
	web_free(w);
	return NULL;
}

void web_free(struct web *w)
{
	if (!w)
		return;
	if (w->daemon)
		MHD_stop_daemon(w->daemon);
	web__assets_release(&w->assets);
	web__tpl_set_free(w->tpl);
	OPENSSL_cleanse(w, sizeof(*w));
	free(w);
}

uint16_t web_port(const struct web *w)
{
	return w->port;
}

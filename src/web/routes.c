/* The route table and its handlers. A handler fills a struct web_resp and
 * returns 0; any error it returns becomes a 500, logged here. */
#include "web/web_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"

#define STATIC_PREFIX "/static/"

const char *const web__required_templates[] = {
    "layout.html",	  "index.html",		"status.html",	  "login.html",
    "opportunities.html", "trades.html",	"portfolio.html", "latency.html",
    "audit.html",	  "overview_part.html", "message.html",	  NULL};

/* A reading of the things /health reports, taken once per request. */
struct health {
	bool db_ok;
	uint64_t uptime_s;
	enum trading_mode mode;
};

static void health_read(struct web *w, struct health *h)
{
	h->db_ok = w->db_ping(w->ctx) == 0;
	h->uptime_s = (clock_mono_ns() - w->start_ns) / 1000000000ull;
	h->mode = w->mode;
	if (w->snapshot) {
		struct web_snapshot snap;

		web__snapshot(w, &snap);
		h->mode = snap.mode;
	}
}

static int route_health(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	struct health h;
	struct web_buf *b = &resp->body;

	(void)req;
	health_read(w, &h);
	resp->status = h.db_ok ? 200 : 503;
	resp->content_type = "application/json";
	web_buf_append(b, "{\"status\":", 10);
	web__buf_json_str(b, h.db_ok ? "ok" : "degraded");
	web_json_add_str(b, "version", ARB_VERSION);
	web_json_add_i64(b, "uptime_s", (int64_t)h.uptime_s);
	web_json_add_str(b, "database", h.db_ok ? "ok" : "unreachable");
	web_json_add_str(b, "trading_mode", config_mode_name(h.mode));
	if (w->health_extra)
		w->health_extra(w->ctx, b);
	web_buf_append(b, "}\n", 2);
	return b->err;
}

static void fmt_uptime(uint64_t s, char *buf, size_t cap)
{
	uint64_t d = s / 86400, hh = s / 3600 % 24, mm = s / 60 % 60, ss = s % 60;

	if (d)
		snprintf(buf, cap, "%" PRIu64 "d %02" PRIu64 "h %02" PRIu64 "m", d, hh, mm);
	else
		snprintf(buf, cap, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, hh, mm, ss);
}

static int render_status(struct web *w, struct web_buf *out, struct err_info *info)
{
	struct health h;
	char up[32];

	health_read(w, &h);
	fmt_uptime(h.uptime_s, up, sizeof(up));
	const struct web_tpl_var vars[] = {
	    {"status", h.db_ok ? "ok" : "degraded"},
	    {"database", h.db_ok ? "ok" : "unreachable"},
	    {"uptime", up},
	    {"mode", config_mode_name(h.mode)},
	    {"version", ARB_VERSION},
	};
	return web__tpl_render(w->tpl, "status.html", vars, sizeof(vars) / sizeof(vars[0]), out,
			       info);
}

static int route_status(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	struct err_info info = {0};
	char q[sizeof(info.msg) + 8];
	int rc;

	(void)req;
	resp->content_type = "text/html; charset=utf-8";
	rc = render_status(w, &resp->body, &info);
	if (rc)
		LOG_ERROR_ERR("web", "render failed", rc, "page=status detail=%s",
			      log_q(q, sizeof(q), info.msg));
	return rc;
}

static int route_login(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	if (req->method == WEB_M_POST)
		return web__route_login_post(w, req, resp);
	return web__route_login_get(w, req, resp);
}

static bool etag_matches(const char *header, const char *etag)
{
	return header && (strcmp(header, "*") == 0 || strstr(header, etag) != NULL);
}

static int route_static(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	const char *name = req->path + strlen(STATIC_PREFIX);
	const struct web_asset *a;

	/* Names were checked at load time; checking the request too means a
	 * future change to the table cannot open a traversal. */
	a = web__asset_name_ok(name) ? web__assets_find(&w->assets, name) : NULL;
	if (!a) {
		web__resp_text(resp, 404, "not found");
		return 0;
	}
	resp->cache_control = "public, max-age=3600";
	web__resp_header(resp, "ETag", a->etag);
	if (etag_matches(web__req_header(req, "If-None-Match"), a->etag)) {
		resp->status = 304;
		return 0;
	}
	resp->content_type = a->content_type;
	resp->fixed = a->data;
	resp->fixed_len = a->len;
	return 0;
}

static const struct web_route routes[] = {
    {"/", WEB_M_GET | WEB_M_HEAD, web__route_overview, WEB_AUTH_SESSION},
    {"/health", WEB_M_GET | WEB_M_HEAD, route_health, WEB_AUTH_PUBLIC},
    {"/login", WEB_M_GET | WEB_M_HEAD | WEB_M_POST, route_login, WEB_AUTH_PUBLIC},
    {"/logout", WEB_M_POST, web__route_logout, WEB_AUTH_SESSION},
    {"/opportunities", WEB_M_GET | WEB_M_HEAD, web__route_opps, WEB_AUTH_SESSION},
    {"/trades", WEB_M_GET | WEB_M_HEAD, web__route_trades, WEB_AUTH_SESSION},
    {"/portfolio", WEB_M_GET | WEB_M_HEAD, web__route_portfolio, WEB_AUTH_SESSION},
    {"/latency", WEB_M_GET | WEB_M_HEAD, web__route_latency, WEB_AUTH_SESSION},
    {"/audit", WEB_M_GET | WEB_M_HEAD, web__route_audit, WEB_AUTH_SESSION},
    {"/metrics", WEB_M_GET | WEB_M_HEAD, web__route_metrics, WEB_AUTH_BASIC},
    {"/partials/status", WEB_M_GET | WEB_M_HEAD, route_status, WEB_AUTH_SESSION},
    {"/partials/overview", WEB_M_GET | WEB_M_HEAD, web__route_overview_part, WEB_AUTH_SESSION},
    {"/partials/opportunities", WEB_M_GET | WEB_M_HEAD, web__route_opps_part, WEB_AUTH_SESSION},
    {"/control/", WEB_M_POST, web__route_control, WEB_AUTH_SESSION},
    {STATIC_PREFIX, WEB_M_GET | WEB_M_HEAD, route_static, WEB_AUTH_PUBLIC},
};

static const struct web_route *route_find(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const char *p = routes[i].path;
		size_t n = strlen(p);

		if (n > 1 && p[n - 1] == '/' ? strncmp(path, p, n) == 0 : strcmp(path, p) == 0)
			return &routes[i];
	}
	return NULL;
}

static void allow_header(struct web_resp *resp, unsigned methods)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{WEB_M_GET, "GET"}, {WEB_M_HEAD, "HEAD"}, {WEB_M_POST, "POST"}};
	char v[64] = "";
	size_t i, len = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(methods & names[i].bit))
			continue;
		len += (size_t)snprintf(v + len, sizeof(v) - len, "%s%s", len ? ", " : "",
					names[i].name);
	}
	web__resp_header(resp, "Allow", v);
}

void web__dispatch(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	const struct web_route *r;
	int rc;

	if (req->too_large) {
		web__resp_text(resp, 413, "request body too large");
		return;
	}
	r = route_find(req->path);
	if (!r) {
		web__resp_text(resp, 404, "not found");
		return;
	}
	if (!(req->method & r->methods)) {
		web__resp_text(resp, 405, "method not allowed");
		allow_header(resp, r->methods);
		return;
	}
	if (r->auth != WEB_AUTH_PUBLIC && !web__auth_gate(w, req, resp, r->auth == WEB_AUTH_BASIC))
		return;
	if (r->auth == WEB_AUTH_SESSION && req->method == WEB_M_POST && !web__csrf_ok(w, req, resp))
		return;
	rc = r->handle(w, req, resp);
	if (rc) {
		LOG_ERROR_ERR("web", "handler failed", rc, "route=%s", r->path);
		web__resp_text(resp, 500, "internal error");
	}
}

/* The web server over a real socket: /health (200 and 503), /, static files,
 * 404, 405, 413 and path traversal. A raw-socket HTTP client keeps the test
 * free of extra libraries; the share dir is a temporary copy of the real
 * templates and stylesheet plus a fake htmx. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "web/web.h"
#include "web/web_int.h"

#define SRC_DIR	  TEST_DATA_DIR "/../.."
#define FAKE_HTMX "/* fake htmx for tests */\nvar htmx = {};\n"
#define SECRET	  "TOP-SECRET-CONTENT"

/* ---- a tiny HTTP/1.1 client ---- */

struct res {
	int status;
	char *raw; /* whole response, NUL terminated */
	size_t len;
	char *body; /* into raw */
	size_t body_len;
};

static void res_free(struct res *r)
{
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

static int dial(int family, uint16_t port)
{
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (family == AF_INET) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	} else {
		struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

		a.sin6_addr = in6addr_loopback;
		assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	}
	return fd;
}

/* Sends raw bytes (the whole request) and reads the response until the
 * server closes the connection. */
static void exchange_on(int family, uint16_t port, const char *req, size_t req_len, struct res *r)
{
	int fd = dial(family, port);
	size_t off = 0, cap = 1 << 16;

	memset(r, 0, sizeof(*r));
	while (off < req_len) {
		ssize_t n = send(fd, req + off, req_len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the server may close early (413): read what it said */
		off += (size_t)n;
	}
	r->raw = malloc(cap);
	assert_non_null(r->raw);
	for (;;) {
		ssize_t n;

		if (cap - r->len < 4096) {
			cap *= 2;
			r->raw = realloc(r->raw, cap);
			assert_non_null(r->raw);
		}
		n = recv(fd, r->raw + r->len, cap - r->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET)
			break;
		if (n < 0)
			fail_msg("recv: %s", strerror(errno));
		if (n == 0)
			break;
		r->len += (size_t)n;
	}
	close(fd);
	r->raw[r->len] = '\0';
	assert_true(r->len > 12);
	assert_memory_equal(r->raw, "HTTP/1.1 ", 9);
	r->status = (int)strtol(r->raw + 9, NULL, 10);
	r->body = strstr(r->raw, "\r\n\r\n");
	assert_non_null(r->body);
	r->body += 4;
	r->body_len = r->len - (size_t)(r->body - r->raw);
}

static void exchange(uint16_t port, const char *req, struct res *r)
{
	exchange_on(AF_INET, port, req, strlen(req), r);
}

/* The value of response header `name` copied into out, or NULL. */
static const char *header(const struct res *r, const char *name, char *out, size_t cap)
{
	const char *p = r->raw;
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL && p < r->body - 2) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			snprintf(out, cap, "%.*s", (int)(e - v), v);
			return out;
		}
	}
	return NULL;
}

static void expect_header(const struct res *r, const char *name, const char *want)
{
	char v[512];

	if (!header(r, name, v, sizeof(v)))
		fail_msg("no %s header in:\n%s", name, r->raw);
	if (strcmp(v, want) != 0)
		fail_msg("%s: \"%s\", want \"%s\"", name, v, want);
}

static void get(uint16_t port, const char *method, const char *path, struct res *r)
{
	char req[1024];

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		 method, path);
	exchange(port, req, r);
}

/* Every response, error or not, carries these. */
static void expect_security_headers(const struct res *r)
{
	expect_header(r, "X-Content-Type-Options", "nosniff");
	expect_header(r, "X-Frame-Options", "DENY");
	expect_header(r, "Referrer-Policy", "no-referrer");
	expect_header(r, "Content-Security-Policy",
		      "default-src 'self'; img-src 'self' data:; style-src 'self'; "
		      "object-src 'none'; base-uri 'self'; form-action 'self'; "
		      "frame-ancestors 'none'");
}

static void expect_length(const struct res *r)
{
	char want[32];

	snprintf(want, sizeof(want), "%zu", r->body_len);
	expect_header(r, "Content-Length", want);
}

static void expect_status(uint16_t port, const char *method, const char *path, int status)
{
	struct res r;

	get(port, method, path, &r);
	if (r.status != status)
		fail_msg("%s %s: %d, want %d\n%s", method, path, r.status, status, r.raw);
	expect_security_headers(&r);
	if (strstr(r.raw, SECRET))
		fail_msg("%s %s leaked a file outside static", method, path);
	if (strcmp(method, "HEAD") == 0) {
		assert_int_equal(r.body_len, 0);
	} else if (status == 404) {
		expect_length(&r);
		expect_header(&r, "Content-Type", "text/plain; charset=utf-8");
		assert_string_equal(r.body, "not found\n");
	}
	res_free(&r);
}

/* ---- fixture ---- */

struct fake_db {
	int fail;
	int pings;
};

struct fx {
	char share[64];
	struct fake_db db;
	struct web *w;
	uint16_t port;
	char css[8192]; /* the real app.css, as copied */
	size_t css_len;
};

static void copy(const char *from, const char *to, char *keep, size_t cap, size_t *len)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[4096];
	size_t n, total = 0;

	if (!in)
		fail_msg("cannot open %s", from);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		assert_int_equal(fwrite(buf, 1, n, out), n);
		if (keep) {
			assert_true(total + n < cap);
			memcpy(keep + total, buf, n);
		}
		total += n;
	}
	if (len)
		*len = total;
	fclose(in);
	fclose(out);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void make_share(struct fx *f)
{
	static const char *const dirs[] = {
	    "src",	   "src/web",	      "src/web/templates", "src/web/static",
	    "third_party", "third_party/htmx"};
	char a[512], b[512];

	snprintf(f->share, sizeof(f->share), "/tmp/arb_web_test.XXXXXX");
	assert_non_null(mkdtemp(f->share));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(a, sizeof(a), "%s/%s", f->share, dirs[i]);
		assert_int_equal(mkdir(a, 0700), 0);
	}
	for (size_t i = 0; web__required_templates[i]; i++) {
		const char *t = web__required_templates[i];

		snprintf(a, sizeof(a), "%s/src/web/templates/%s", SRC_DIR, t);
		snprintf(b, sizeof(b), "%s/src/web/templates/%s", f->share, t);
		copy(a, b, NULL, 0, NULL);
	}
	snprintf(a, sizeof(a), "%s/src/web/static/app.css", SRC_DIR);
	snprintf(b, sizeof(b), "%s/src/web/static/app.css", f->share);
	copy(a, b, f->css, sizeof(f->css), &f->css_len);
	snprintf(a, sizeof(a), "%s/src/web/static/favicon.svg", SRC_DIR);
	snprintf(b, sizeof(b), "%s/src/web/static/favicon.svg", f->share);
	copy(a, b, NULL, 0, NULL);
	snprintf(b, sizeof(b), "%s/third_party/htmx/htmx.min.js", f->share);
	write_file(b, FAKE_HTMX);
	/* Bait for traversal: files outside static, one reached by a symlink. */
	snprintf(b, sizeof(b), "%s/secret.css", f->share);
	write_file(b, SECRET);
	snprintf(b, sizeof(b), "%s/src/web/secret.css", f->share);
	write_file(b, SECRET);
	snprintf(a, sizeof(a), "%s/secret.css", f->share);
	snprintf(b, sizeof(b), "%s/src/web/static/leak.css", f->share);
	assert_int_equal(symlink(a, b), 0);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int fake_ping(void *ctx)
{
	struct fake_db *db = ctx;

	db->pings++;
	return db->fail ? ERR_DB : 0;
}

static void fake_extra(void *ctx, struct web_buf *out)
{
	(void)ctx;
	web_json_add_str(out, "feed", "up<1>");
	web_json_add_i64(out, "books", 42);
}

static struct web_deps deps_for(struct fx *f)
{
	struct web_deps d = {
	    .share_dir = f->share,
	    .trading_mode = TRADING_PAPER,
	    .db_ping = fake_ping,
	    .health_extra = fake_extra,
	    .ctx = &f->db,
	};
	return d;
}

static struct web_cfg cfg_for(const char *host, uint16_t port)
{
	struct web_cfg c;

	memset(&c, 0, sizeof(c));
	snprintf(c.host, sizeof(c.host), "%s", host);
	c.port = port;
	return c;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err_info info = {0};
	struct web_cfg cfg = cfg_for("127.0.0.1", 0);
	struct web_deps d;

	assert_non_null(f);
	make_share(f);
	d = deps_for(f);
	f->w = web_new(&cfg, &d, &info);
	if (!f->w)
		fail_msg("web_new: %d %s", info.code, info.msg);
	f->port = web_port(f->w);
	assert_true(f->port != 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	web_free(f->w);
	nftw(f->share, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- tests ---- */

/* Checks the exact /health body; uptime is read back from it. */
static void expect_health(const struct res *r, bool ok)
{
	char want[512];
	const char *u = strstr(r->body, "\"uptime_s\":");
	long up;

	assert_non_null(u);
	up = strtol(u + 11, NULL, 10);
	assert_true(up >= 0 && up < 60);
	snprintf(want, sizeof(want),
		 "{\"status\":\"%s\",\"version\":\"%s\",\"uptime_s\":%ld,\"database\":\"%s\","
		 "\"trading_mode\":\"paper\",\"feed\":\"up\\u003c1\\u003e\",\"books\":42}\n",
		 ok ? "ok" : "degraded", ARB_VERSION, up, ok ? "ok" : "unreachable");
	assert_string_equal(r->body, want);
	expect_header(r, "Content-Type", "application/json");
	expect_header(r, "Cache-Control", "no-store");
	expect_security_headers(r);
	expect_length(r);
}

static void health_ok(void **state)
{
	struct fx *f = *state;
	struct res r;

	get(f->port, "GET", "/health", &r);
	assert_int_equal(r.status, 200);
	expect_health(&r, true);
	assert_int_equal(f->db.pings, 1);
	res_free(&r);

	get(f->port, "GET", "/health?verbose=1", &r);
	assert_int_equal(r.status, 200);
	expect_health(&r, true);
	res_free(&r);
}

static void health_db_down(void **state)
{
	struct fx *f = *state;
	struct res r;

	f->db.fail = 1;
	get(f->port, "GET", "/health", &r);
	assert_int_equal(r.status, 503);
	expect_health(&r, false);
	res_free(&r);

	/* The page still renders and says so. */
	get(f->port, "GET", "/partials/status", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<dd>unreachable</dd>"));
	assert_non_null(strstr(r.body, "status-degraded"));
	res_free(&r);

	f->db.fail = 0;
	get(f->port, "GET", "/health", &r);
	assert_int_equal(r.status, 200);
	expect_health(&r, true);
	res_free(&r);
}

static void index_page(void **state)
{
	struct fx *f = *state;
	struct res r, h;
	char len[32];

	get(f->port, "GET", "/", &r);
	assert_int_equal(r.status, 200);
	expect_header(&r, "Content-Type", "text/html; charset=utf-8");
	expect_header(&r, "Cache-Control", "no-store");
	expect_security_headers(&r);
	expect_length(&r);
	assert_memory_equal(r.body, "<!doctype html>", 15);
	static const char *const want[] = {
	    "<title>Overview · Arbitrade</title>",
	    "<link rel=\"stylesheet\" href=\"/static/app.css\">",
	    "<script src=\"/static/htmx.min.js\" defer></script>",
	    "<h1>Overview</h1>",
	    "<dd id=\"ov-mode\">paper</dd>",
	    "hx-get=\"/partials/overview\"",
	    "<dd id=\"ov-feed\">disconnected</dd>",
	    "<a href=\"/\" aria-current=\"page\">Overview</a>",
	    "<dd>no database</dd>",
	    "<footer>Arbitrade " ARB_VERSION "</footer>",
	    "</html>",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(r.body, want[i]))
			fail_msg("/ lacks %s:\n%s", want[i], r.body);
	assert_null(strstr(r.body, "{{"));
	assert_null(strstr(r.body, "style="));

	/* HEAD: same headers, no body. */
	get(f->port, "HEAD", "/", &h);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.body_len, 0);
	snprintf(len, sizeof(len), "%zu", r.body_len);
	expect_header(&h, "Content-Length", len);
	expect_header(&h, "Content-Type", "text/html; charset=utf-8");
	expect_security_headers(&h);
	res_free(&h);
	res_free(&r);
}

static void static_files(void **state)
{
	struct fx *f = *state;
	struct res r;
	char etag[64], req[256];

	get(f->port, "GET", "/static/app.css", &r);
	assert_int_equal(r.status, 200);
	expect_header(&r, "Content-Type", "text/css; charset=utf-8");
	expect_header(&r, "Cache-Control", "public, max-age=3600");
	expect_security_headers(&r);
	expect_length(&r);
	assert_int_equal(r.body_len, f->css_len);
	assert_memory_equal(r.body, f->css, f->css_len);
	assert_non_null(header(&r, "ETag", etag, sizeof(etag)));
	assert_int_equal(strlen(etag), 18);
	res_free(&r);

	/* Revalidation: the same ETag gives 304 and no body. */
	snprintf(req, sizeof(req),
		 "GET /static/app.css HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: %s\r\n"
		 "Connection: close\r\n\r\n",
		 etag);
	exchange(f->port, req, &r);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.body_len, 0);
	expect_header(&r, "ETag", etag);
	expect_security_headers(&r);
	res_free(&r);
	exchange(f->port,
		 "GET /static/app.css HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: \"0\"\r\n"
		 "Connection: close\r\n\r\n",
		 &r);
	assert_int_equal(r.status, 200);
	res_free(&r);

	get(f->port, "GET", "/static/htmx.min.js", &r);
	assert_int_equal(r.status, 200);
	expect_header(&r, "Content-Type", "text/javascript; charset=utf-8");
	assert_string_equal(r.body, FAKE_HTMX);
	expect_security_headers(&r);
	res_free(&r);

	get(f->port, "GET", "/static/favicon.svg", &r);
	assert_int_equal(r.status, 200);
	expect_header(&r, "Content-Type", "image/svg+xml");
	res_free(&r);

	/* Percent-decoding works for ordinary characters. */
	get(f->port, "GET", "/static/app%2ecss", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, f->css_len);
	res_free(&r);

	get(f->port, "HEAD", "/static/htmx.min.js", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	res_free(&r);
}

static void not_found(void **state)
{
	struct fx *f = *state;
	static const char *const paths[] = {
	    "/nope",
	    "/index.html",
	    "/health/",
	    "/healthz",
	    "/partials/",
	    "/static",
	    "/static/",
	    "/static/nope.css",
	    "/static/app.CSS",
	    "/static/app.css/",
	    "/static//app.css",
	    "/static/./app.css",
	    "/static/leak.css",
	    "/static/secret.css",
	    /* traversal, plain and encoded */
	    "/static/../CMakeLists.txt",
	    "/static/../secret.css",
	    "/static/../../secret.css",
	    "/static/../../../secret.css",
	    "/static/%2e%2e/x",
	    "/static/%2e%2e/secret.css",
	    "/static/%2E%2E/%2E%2E/%2E%2E/secret.css",
	    "/static/..%2fx",
	    "/static/..%2f..%2f..%2fsecret.css",
	    "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.css",
	    "/static/.%2e/secret.css",
	    "/static/%252e%252e/secret.css",
	    "/static/..\\..\\secret.css",
	    "/static/%5c..%5csecret.css",
	    "/static/app.css%00.png",
	    "/static/%00",
	    "/static/%2fetc%2fpasswd",
	    "//etc/passwd",
	    "/..",
	    "/../secret.css",
	    "/static/..",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		expect_status(f->port, "GET", paths[i], 404);
		expect_status(f->port, "HEAD", paths[i], 404);
	}
	/* Unknown path with another method is still 404. */
	expect_status(f->port, "POST", "/nope", 404);
}

static void method_not_allowed(void **state)
{
	struct fx *f = *state;
	static const char *const m[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
	static const char *const paths[] = {"/", "/health", "/partials/status", "/static/app.css"};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		for (size_t j = 0; j < sizeof(paths) / sizeof(paths[0]); j++) {
			struct res r;

			get(f->port, m[i], paths[j], &r);
			if (r.status != 405)
				fail_msg("%s %s: %d, want 405", m[i], paths[j], r.status);
			expect_header(&r, "Allow", "GET, HEAD");
			expect_security_headers(&r);
			assert_string_equal(r.body, "method not allowed\n");
			res_free(&r);
		}

	/* With a small body too; the db is not touched. */
	struct res r;
	int pings = f->db.pings;
	exchange(f->port,
		 "POST /health HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
		 "Content-Length: 5\r\nConnection: close\r\n\r\nhello",
		 &r);
	assert_int_equal(r.status, 405);
	assert_int_equal(f->db.pings, pings);
	res_free(&r);
}

static void body_too_large(void **state)
{
	struct fx *f = *state;
	struct res r;
	char req[256];
	size_t big = WEB_MAX_BODY + 1, n;
	char *buf;

	/* Announced: refused before the body is sent. */
	snprintf(req, sizeof(req),
		 "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000000\r\n"
		 "Connection: close\r\n\r\n");
	exchange(f->port, req, &r);
	assert_int_equal(r.status, 413);
	assert_string_equal(r.body, "request body too large\n");
	expect_security_headers(&r);
	res_free(&r);

	/* Content-Length one past the limit, body sent. */
	buf = malloc(big + 256);
	assert_non_null(buf);
	n = (size_t)snprintf(buf, 256,
			     "POST /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n"
			     "Connection: close\r\n\r\n",
			     big);
	memset(buf + n, 'a', big);
	exchange_on(AF_INET, f->port, buf, n + big, &r);
	assert_int_equal(r.status, 413);
	res_free(&r);

	/* At the limit exactly: accepted (405 on this route). */
	n = (size_t)snprintf(buf, 256,
			     "POST /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: %u\r\n"
			     "Connection: close\r\n\r\n",
			     WEB_MAX_BODY);
	memset(buf + n, 'a', WEB_MAX_BODY);
	exchange_on(AF_INET, f->port, buf, n + WEB_MAX_BODY, &r);
	assert_int_equal(r.status, 405);
	res_free(&r);
	free(buf);

	/* Chunked, no length announced: counted as it arrives. */
	size_t chunk = 16384, chunks = WEB_MAX_BODY / chunk + 2, off;
	buf = malloc(256 + chunks * (chunk + 16));
	assert_non_null(buf);
	off =
	    (size_t)snprintf(buf, 256,
			     "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
			     "Connection: close\r\n\r\n");
	for (size_t i = 0; i < chunks; i++) {
		off += (size_t)snprintf(buf + off, 16, "%zx\r\n", chunk);
		memset(buf + off, 'b', chunk);
		off += chunk;
		memcpy(buf + off, "\r\n", 2);
		off += 2;
	}
	memcpy(buf + off, "0\r\n\r\n", 5);
	off += 5;
	exchange_on(AF_INET, f->port, buf, off, &r);
	assert_int_equal(r.status, 413);
	res_free(&r);
	free(buf);

	/* The server is still well. */
	expect_status(f->port, "GET", "/health", 200);
}

static void start_errors(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct web_cfg cfg = cfg_for("127.0.0.1", 0);
	struct web_deps d = deps_for(f);
	char a[512], b[512];

	/* Port in use. */
	cfg.port = f->port;
	assert_null(web_new(&cfg, &d, &info));
	assert_int_equal(info.code, ERR_NET);
	assert_non_null(strstr(info.msg, "127.0.0.1"));
	cfg.port = 0;

	/* Missing arguments. */
	assert_null(web_new(NULL, &d, &info));
	assert_int_equal(info.code, ERR_INVALID);
	d.db_ping = NULL;
	assert_null(web_new(&cfg, &d, &info));
	assert_int_equal(info.code, ERR_INVALID);
	d = deps_for(f);
	cfg.host[0] = '\0';
	assert_null(web_new(&cfg, &d, &info));
	assert_int_equal(info.code, ERR_INVALID);
	cfg = cfg_for("127.0.0.1", 0);

	/* No htmx. */
	snprintf(a, sizeof(a), "%s/third_party/htmx/htmx.min.js", f->share);
	snprintf(b, sizeof(b), "%s/third_party/htmx/htmx.moved", f->share);
	assert_int_equal(rename(a, b), 0);
	assert_null(web_new(&cfg, &d, &info));
	assert_int_equal(info.code, ERR_NOTFOUND);
	assert_non_null(strstr(info.msg, "htmx.min.js"));
	assert_int_equal(rename(b, a), 0);

	/* A required template missing, then a broken one. */
	snprintf(a, sizeof(a), "%s/src/web/templates/status.html", f->share);
	snprintf(b, sizeof(b), "%s/src/web/templates/status.moved", f->share);
	assert_int_equal(rename(a, b), 0);
	assert_null(web_new(&cfg, &d, &info));
	assert_int_equal(info.code, ERR_NOTFOUND);
	assert_non_null(strstr(info.msg, "status.html"));
	write_file(a, "<p>\n{{status}</p>");
	assert_null(web_new(&cfg, &d, &info));
	assert_int_equal(info.code, ERR_PARSE);
	assert_non_null(strstr(info.msg, "status.html line 2"));
	assert_int_equal(rename(b, a), 0);

	/* No share dir at all. */
	d.share_dir = "/nonexistent/arbitrade";
	assert_null(web_new(&cfg, &d, &info));
	assert_int_equal(info.code, ERR_NOTFOUND);

	web_free(NULL);
	/* The running server was not disturbed. */
	expect_status(f->port, "GET", "/health", 200);
}

static void render_error_is_500(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct web_cfg cfg = cfg_for("127.0.0.1", 0);
	struct web_deps d = deps_for(f);
	struct web *w;
	char a[512];
	struct res r;

	/* A template naming a variable the handler does not pass. */
	snprintf(a, sizeof(a), "%s/src/web/templates/index.html", f->share);
	write_file(a, "<p>{{nosuchvar}}</p>");
	w = web_new(&cfg, &d, &info);
	assert_non_null(w);
	get(web_port(w), "GET", "/", &r);
	assert_int_equal(r.status, 500);
	assert_string_equal(r.body, "internal error\n");
	expect_security_headers(&r);
	assert_null(strstr(r.raw, "<p>"));
	res_free(&r);
	web_free(w);
}

static void live_mode_and_hosts(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct web_cfg cfg = cfg_for("localhost", 0);
	struct web_deps d = deps_for(f);
	struct web *w;
	struct res r;

	d.trading_mode = TRADING_LIVE;
	d.health_extra = NULL;
	w = web_new(&cfg, &d, &info);
	if (!w)
		fail_msg("localhost: %s", info.msg);
	/* localhost may be ::1 or 127.0.0.1; ask the one that answers. */
	{
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(web_port(w))};
		int family;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		family = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? AF_INET : AF_INET6;
		close(fd);
		static const char q[] =
		    "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
		exchange_on(family, web_port(w), q, sizeof(q) - 1, &r);
	}
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"trading_mode\":\"live\"}"));
	res_free(&r);
	web_free(w);

	/* IPv6 literal, when the machine has IPv6 loopback. */
	cfg = cfg_for("::1", 0);
	w = web_new(&cfg, &d, &info);
	if (!w) {
		assert_int_equal(info.code, ERR_NET);
		return;
	}
	static const char q6[] = "GET / HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n";
	exchange_on(AF_INET6, web_port(w), q6, sizeof(q6) - 1, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<dd id=\"ov-mode\">live</dd>"));
	assert_non_null(strstr(r.body, "mode-live"));
	res_free(&r);
	web_free(w);
}

static void keep_alive(void **state)
{
	struct fx *f = *state;
	static const char two[] =
	    "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
	    "GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	struct res r;

	exchange_on(AF_INET, f->port, two, sizeof(two) - 1, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "HTTP/1.1 404 Not Found\r\n"));
	res_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(health_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(health_db_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(index_page, setup, teardown),
	    cmocka_unit_test_setup_teardown(static_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(not_found, setup, teardown),
	    cmocka_unit_test_setup_teardown(method_not_allowed, setup, teardown),
	    cmocka_unit_test_setup_teardown(body_too_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(start_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(render_error_is_500, setup, teardown),
	    cmocka_unit_test_setup_teardown(live_mode_and_hosts, setup, teardown),
	    cmocka_unit_test_setup_teardown(keep_alive, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

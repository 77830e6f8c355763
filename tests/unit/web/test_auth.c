/* Dashboard login over a real socket: redirects and 401s without a session,
 * the login form and its CSRF cookie, wrong passwords, cookie attributes,
 * CSRF on every POST, logout, session expiry, login rate limits, /metrics
 * with HTTP Basic auth, the controls' callbacks, and the password hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/secret.h"
#include "web/web.h"
#include "web/web_int.h"

#define SHARE	  TEST_DATA_DIR "/../.."
#define USER	  "ops"
#define PASSWORD  "correct horse battery"
#define TTL_S	  120u
#define BASIC_OK  "b3BzOmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==" /* ops:correct horse battery */
#define BASIC_BAD "b3BzOndyb25n"			 /* ops:wrong */

/* ---- a tiny HTTP client ---- */

struct res {
	int status;
	char raw[1 << 20];
	size_t len;
	char *body;
};

static void http(uint16_t port, const char *req, size_t req_len, struct res *r)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 10};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t off = 0;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	while (off < req_len) {
		ssize_t n = send(fd, req + off, req_len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	r->len = 0;
	for (;;) {
		ssize_t n = recv(fd, r->raw + r->len, sizeof(r->raw) - 1 - r->len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	close(fd);
	r->raw[r->len] = '\0';
	assert_true(r->len > 12);
	r->status = (int)strtol(r->raw + 9, NULL, 10);
	r->body = strstr(r->raw, "\r\n\r\n");
	assert_non_null(r->body);
	r->body += 4;
}

/* method path, extra header lines (each ending \r\n), form body or NULL. */
static void req(uint16_t port, const char *method, const char *path, const char *hdrs,
		const char *body, struct res *r)
{
	static char buf[1 << 17];
	int n = snprintf(buf, sizeof(buf),
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s"
			 "Content-Length: %zu\r\n\r\n%s",
			 method, path, hdrs ? hdrs : "",
			 body ? "Content-Type: application/x-www-form-urlencoded\r\n" : "",
			 body ? strlen(body) : 0, body ? body : "");
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	http(port, buf, (size_t)n, r);
}

/* The n-th (0-based) value of header name, copied, or NULL. */
static const char *header_n(const struct res *r, const char *name, int nth, char *out, size_t cap)
{
	const char *p = r->raw;
	size_t n = strlen(name);

	while ((p = strstr(p, "\r\n")) != NULL && p < r->body - 2) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':' && nth-- == 0) {
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

static const char *header(const struct res *r, const char *name, char *out, size_t cap)
{
	return header_n(r, name, 0, out, cap);
}

/* ---- the fixture: a server with auth on and fake callbacks ---- */

static _Atomic uint64_t clock_skew_ns;

static uint64_t skewed_clock(void)
{
	return clock_mono_ns() + atomic_load(&clock_skew_ns);
}

struct fx {
	struct web *w;
	uint16_t port;
	struct secret *hash;
	int pauses, kills, modes, audits;
	bool last_pause;
	enum trading_mode mode;
	char actor[64];
	char last_audit[64];
	const char *mode_refusal;
	char cookie[160]; /* "Cookie: arb_session=...\r\n" after login */
	char csrf[WEB_TOKEN_HEX];
};

static int fake_ping(void *ctx)
{
	(void)ctx;
	return 0;
}

static void fake_snapshot(void *ctx, struct web_snapshot *s)
{
	struct fx *f = ctx;

	s->mode = f->mode;
	s->live_available = true;
	s->paused = f->last_pause;
	s->messages = 1234;
	s->orders[WEB_ORDER_FILLED] = 3;
	s->books_live = 7;
	s->n_balances = 1;
	snprintf(s->balances[0].asset, sizeof(s->balances[0].asset), "US\"D");
	s->balances[0].amount = 1000.5;
	hist_init(&s->hot_path);
	hist_record(&s->hot_path, 800);	    /* <= 1 us */
	hist_record(&s->hot_path, 30000);   /* <= 50 us */
	hist_record(&s->hot_path, 2000000); /* <= 2.5 ms */
	hist_init(&s->decision_to_order);
}

static int fake_pause(void *ctx, bool paused, const char *actor)
{
	struct fx *f = ctx;

	f->pauses++;
	f->last_pause = paused;
	snprintf(f->actor, sizeof(f->actor), "%s", actor);
	return 0;
}

static int fake_kill(void *ctx, const char *actor)
{
	struct fx *f = ctx;

	f->kills++;
	snprintf(f->actor, sizeof(f->actor), "%s", actor);
	return 0;
}

static const char *fake_set_mode(void *ctx, enum trading_mode m, const char *actor)
{
	struct fx *f = ctx;

	f->modes++;
	snprintf(f->actor, sizeof(f->actor), "%s", actor);
	if (f->mode_refusal)
		return f->mode_refusal;
	f->mode = m;
	return NULL;
}

static void fake_audit(void *ctx, const char *actor, const char *action, const char *detail)
{
	struct fx *f = ctx;

	(void)detail;
	f->audits++;
	snprintf(f->last_audit, sizeof(f->last_audit), "%s %s", actor, action);
}

static struct web *start(struct fx *f, bool auth, bool secure, struct err_info *info)
{
	struct web_cfg cfg;
	struct web_deps d = {
	    .share_dir = SHARE,
	    .trading_mode = TRADING_PAPER,
	    .db_ping = fake_ping,
	    .snapshot = fake_snapshot,
	    .pause = fake_pause,
	    .kill = fake_kill,
	    .set_mode = fake_set_mode,
	    .audit = fake_audit,
	    .ctx = f,
	};

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.1");
	snprintf(cfg.user, sizeof(cfg.user), USER);
	cfg.auth = auth;
	cfg.tls = secure;
	cfg.session_ttl_s = TTL_S;
	cfg.password_hash = f->hash;
	return web_new(&cfg, &d, info);
}

static int setup_with(void **state, bool secure)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err_info info = {0};
	char hash[WEB_PWHASH_MAX];

	assert_non_null(f);
	/* A low cost keeps the test fast; the format is the production one. */
	assert_int_equal(
	    web_password_hash(PASSWORD, strlen(PASSWORD), 1024, 8, 1, hash, sizeof(hash)), 0);
	f->hash = secret_new(hash, strlen(hash));
	f->w = start(f, true, secure, &info);
	if (!f->w)
		fail_msg("web_new: %d %s", info.code, info.msg);
	/* Before any request, so the web thread only ever sees this clock. */
	f->w->now_ns = skewed_clock;
	atomic_store(&clock_skew_ns, 0);
	f->port = web_port(f->w);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, false);
}

static int setup_secure(void **state)
{
	return setup_with(state, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	web_free(f->w);
	secret_free(f->hash);
	free(f);
	return 0;
}

/* GET /login: the form's token and its cookie; returns the token. */
static void login_form(struct fx *f, char tok[WEB_TOKEN_HEX])
{
	static struct res r;
	char c[256], want[160];
	const char *v;

	req(f->port, "GET", "/login", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	v = strstr(r.body, "name=\"csrf\" value=\"");
	assert_non_null(v);
	snprintf(tok, WEB_TOKEN_HEX, "%.*s", WEB_TOKEN_HEX - 1, v + 19);
	assert_int_equal(strlen(tok), WEB_TOKEN_HEX - 1);
	assert_non_null(header(&r, "Set-Cookie", c, sizeof(c)));
	snprintf(want, sizeof(want), "%s=%s; Path=/login; HttpOnly; SameSite=Strict;",
		 WEB_LOGIN_COOKIE, tok);
	if (strncmp(c, want, strlen(want)) != 0)
		fail_msg("login cookie %s, want %s...", c, want);
}

static int login_as(struct fx *f, const char *user, const char *pw, struct res *r)
{
	char tok[WEB_TOKEN_HEX], hdr[160], body[256];

	login_form(f, tok);
	snprintf(hdr, sizeof(hdr), "Cookie: %s=%s\r\n", WEB_LOGIN_COOKIE, tok);
	snprintf(body, sizeof(body), "csrf=%s&user=%s&password=%s", tok, user, pw);
	req(f->port, "POST", "/login", hdr, body, r);
	return r->status;
}

/* Logs in, keeps the session cookie and reads the page's CSRF token. */
static void login(struct fx *f)
{
	static struct res r;
	char c[256];
	const char *v;

	assert_int_equal(login_as(f, USER, "correct+horse+battery", &r), 303);
	assert_non_null(header(&r, "Location", c, sizeof(c)));
	assert_string_equal(c, "/");
	assert_non_null(header(&r, "Set-Cookie", c, sizeof(c)));
	assert_memory_equal(c, WEB_SESSION_COOKIE "=", strlen(WEB_SESSION_COOKIE) + 1);
	snprintf(f->cookie, sizeof(f->cookie), "Cookie: %.*s\r\n", (int)(strchr(c, ';') - c), c);
	req(f->port, "GET", "/", f->cookie, NULL, &r);
	assert_int_equal(r.status, 200);
	v = strstr(r.body, "\"X-CSRF-Token\":\"");
	assert_non_null(v);
	snprintf(f->csrf, sizeof(f->csrf), "%.*s", WEB_TOKEN_HEX - 1, v + 16);
}

/* ---- tests ---- */

static void no_session(void **state)
{
	struct fx *f = *state;
	static struct res r;
	char v[128];

	req(f->port, "GET", "/", "Accept: text/html\r\n", NULL, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location", v, sizeof(v)), "/login");
	req(f->port, "GET", "/trades", NULL, NULL, &r);
	assert_int_equal(r.status, 303);

	/* htmx and JSON clients get 401; htmx is told where to go. */
	req(f->port, "GET", "/partials/overview", "HX-Request: true\r\n", NULL, &r);
	assert_int_equal(r.status, 401);
	assert_string_equal(header(&r, "HX-Redirect", v, sizeof(v)), "/login");
	req(f->port, "GET", "/opportunities", "Accept: application/json\r\n", NULL, &r);
	assert_int_equal(r.status, 401);
	req(f->port, "POST", "/control/pause", NULL, "csrf=x", &r);
	assert_int_equal(r.status, 401);
	assert_int_equal(f->pauses, 0);

	/* A forged cookie is no session. */
	req(f->port, "GET", "/",
	    "Cookie: arb_session=0000000000000000000000000000000000000000"
	    "000000000000000000000000\r\n",
	    NULL, &r);
	assert_int_equal(r.status, 303);

	/* Public routes stay public. */
	req(f->port, "GET", "/health", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	req(f->port, "GET", "/static/app.css", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	req(f->port, "GET", "/login", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "name=\"password\""));
	assert_null(strstr(r.body, "{{"));
}

static void wrong_credentials(void **state)
{
	struct fx *f = *state;
	static struct res r;
	char c[160];

	assert_int_equal(login_as(f, USER, "wrong", &r), 401);
	assert_non_null(strstr(r.body, "Wrong user name or password."));
	assert_null(header(&r, "Location", c, sizeof(c)));
	/* The only cookie set is a fresh login token, never a session. */
	assert_non_null(header(&r, "Set-Cookie", c, sizeof(c)));
	assert_memory_equal(c, WEB_LOGIN_COOKIE "=", strlen(WEB_LOGIN_COOKIE) + 1);
	assert_int_equal(login_as(f, "root", "correct+horse+battery", &r), 401);
	assert_int_equal(login_as(f, "", "", &r), 401);
	assert_string_equal(f->last_audit, "anonymous login_failed");
	assert_int_equal(f->w->logins_failed, 3);
}

static void login_csrf(void **state)
{
	struct fx *f = *state;
	static struct res r;
	char tok[WEB_TOKEN_HEX], other[WEB_TOKEN_HEX], hdr[160], body[256];

	login_form(f, tok);
	login_form(f, other);
	/* No token at all. */
	req(f->port, "POST", "/login", NULL, "user=ops&password=correct+horse+battery", &r);
	assert_int_equal(r.status, 403);
	/* The field without its cookie. */
	snprintf(body, sizeof(body), "csrf=%s&user=ops&password=correct+horse+battery", tok);
	req(f->port, "POST", "/login", NULL, body, &r);
	assert_int_equal(r.status, 403);
	/* Cookie and field from different forms. */
	snprintf(hdr, sizeof(hdr), "Cookie: %s=%s\r\n", WEB_LOGIN_COOKIE, other);
	req(f->port, "POST", "/login", hdr, body, &r);
	assert_int_equal(r.status, 403);
	assert_int_equal(f->audits, 0);
}

static void session_cookie_and_csrf(void **state)
{
	struct fx *f = *state;
	static struct res r;
	char c[256], want[256], hdr[512], body[128];

	assert_int_equal(login_as(f, USER, "correct+horse+battery", &r), 303);
	assert_non_null(header(&r, "Set-Cookie", c, sizeof(c)));
	/* 256 random bits as hex, then the attributes. */
	assert_int_equal(strcspn(c + strlen(WEB_SESSION_COOKIE) + 1, ";"), 64);
	snprintf(want, sizeof(want), "; Path=/; HttpOnly; SameSite=Strict; Max-Age=%u", TTL_S);
	assert_string_equal(strchr(c, ';'), want);
	assert_string_equal(f->last_audit, "operator:ops login");

	login(f);
	/* POST without the token, with a wrong one: 403, nothing happens. */
	req(f->port, "POST", "/control/pause", f->cookie, "x=1", &r);
	assert_int_equal(r.status, 403);
	snprintf(body, sizeof(body), "csrf=%064d", 0);
	req(f->port, "POST", "/control/pause", f->cookie, body, &r);
	assert_int_equal(r.status, 403);
	snprintf(hdr, sizeof(hdr), "%sX-CSRF-Token: %s0\r\n", f->cookie, f->csrf);
	req(f->port, "POST", "/control/pause", hdr, NULL, &r);
	assert_int_equal(r.status, 403);
	assert_int_equal(f->pauses, 0);
	assert_true(f->w->csrf_refused >= 3);

	/* The form field works, and so does the header htmx sends. */
	snprintf(body, sizeof(body), "csrf=%s", f->csrf);
	req(f->port, "POST", "/control/pause", f->cookie, body, &r);
	assert_int_equal(r.status, 303);
	assert_int_equal(f->pauses, 1);
	assert_true(f->last_pause);
	assert_string_equal(f->actor, "operator:ops");
	snprintf(hdr, sizeof(hdr), "%sX-CSRF-Token: %s\r\n", f->cookie, f->csrf);
	req(f->port, "POST", "/control/resume", hdr, NULL, &r);
	assert_int_equal(r.status, 303);
	assert_int_equal(f->pauses, 2);
	assert_false(f->last_pause);
}

static void secure_cookie(void **state)
{
	struct fx *f = *state;
	static struct res r;
	char c[256];

	assert_int_equal(login_as(f, USER, "correct+horse+battery", &r), 303);
	assert_non_null(header(&r, "Set-Cookie", c, sizeof(c)));
	assert_non_null(strstr(c, "; HttpOnly; SameSite=Strict;"));
	assert_string_equal(c + strlen(c) - 8, "; Secure");
}

static void logout(void **state)
{
	struct fx *f = *state;
	static struct res r;
	char c[256], body[128];

	login(f);
	req(f->port, "POST", "/logout", f->cookie, NULL, &r);
	assert_int_equal(r.status, 403); /* logout is a POST like any other */
	snprintf(body, sizeof(body), "csrf=%s", f->csrf);
	req(f->port, "POST", "/logout", f->cookie, body, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location", c, sizeof(c)), "/login");
	assert_non_null(header(&r, "Set-Cookie", c, sizeof(c)));
	assert_non_null(strstr(c, WEB_SESSION_COOKIE "=;"));
	assert_non_null(strstr(c, "Max-Age=0"));
	assert_string_equal(f->last_audit, "operator:ops logout");
	/* The old cookie no longer works. */
	req(f->port, "GET", "/", f->cookie, NULL, &r);
	assert_int_equal(r.status, 303);
}

static void session_expiry(void **state)
{
	struct fx *f = *state;
	static struct res r;

	login(f);
	atomic_store(&clock_skew_ns, (uint64_t)(TTL_S - 5) * 1000000000ull);
	req(f->port, "GET", "/", f->cookie, NULL, &r);
	assert_int_equal(r.status, 200);
	atomic_store(&clock_skew_ns, (uint64_t)(TTL_S + 1) * 1000000000ull);
	req(f->port, "GET", "/", f->cookie, NULL, &r);
	assert_int_equal(r.status, 303);
	/* A new login works at the new time. */
	login(f);
	atomic_store(&clock_skew_ns, 0);
}

static void login_rate_limit(void **state)
{
	struct fx *f = *state;
	static struct res r;
	char v[32];
	unsigned i;

	for (i = 0; i < WEB_RL_PER_ADDR; i++)
		assert_int_equal(login_as(f, USER, "nope", &r), 401);
	/* Over the limit even the right password is refused, unchecked. */
	assert_int_equal(login_as(f, USER, "correct+horse+battery", &r), 429);
	assert_string_equal(header(&r, "Retry-After", v, sizeof(v)), "60");
	assert_int_equal(f->w->logins_failed, WEB_RL_PER_ADDR);
	/* A minute later the window is fresh. */
	atomic_store(&clock_skew_ns, (uint64_t)(WEB_RL_WINDOW_S + 1) * 1000000000ull);
	assert_int_equal(login_as(f, USER, "correct+horse+battery", &r), 303);
	atomic_store(&clock_skew_ns, 0);
}

/* The global limit, across many addresses, on the limiter itself (no
 * request is in flight, so the test thread may touch the server's state). */
static void global_rate_limit(void **state)
{
	struct fx *f = *state;
	char addr[32];
	unsigned i, ok = 0;

	for (i = 0; i < WEB_RL_GLOBAL + 10; i++) {
		snprintf(addr, sizeof(addr), "10.0.%u.%u", i / 200, i % 200);
		ok += web__ratelimit_take(f->w, addr);
	}
	assert_int_equal(ok, WEB_RL_GLOBAL);
	assert_false(web__ratelimit_take(f->w, "10.9.9.9"));
}

static void controls(void **state)
{
	struct fx *f = *state;
	static struct res r;
	char body[256];

	login(f);
	/* The kill switch and live mode need their typed confirmations. */
	snprintf(body, sizeof(body), "csrf=%s", f->csrf);
	req(f->port, "POST", "/control/kill", f->cookie, body, &r);
	assert_int_equal(r.status, 400);
	assert_int_equal(f->kills, 0);
	snprintf(body, sizeof(body), "csrf=%s&confirm=KILL", f->csrf);
	req(f->port, "POST", "/control/kill", f->cookie, body, &r);
	assert_int_equal(r.status, 303);
	assert_int_equal(f->kills, 1);

	snprintf(body, sizeof(body), "csrf=%s&mode=live&confirm=live", f->csrf);
	req(f->port, "POST", "/control/mode", f->cookie, body, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "Type LIVE"));
	assert_int_equal(f->modes, 0);
	snprintf(body, sizeof(body), "csrf=%s&mode=bogus", f->csrf);
	req(f->port, "POST", "/control/mode", f->cookie, body, &r);
	assert_int_equal(r.status, 400);
	f->mode_refusal = "no <credentials>";
	snprintf(body, sizeof(body), "csrf=%s&mode=live&confirm=LIVE", f->csrf);
	req(f->port, "POST", "/control/mode", f->cookie, body, &r);
	assert_int_equal(r.status, 409);
	assert_non_null(strstr(r.body, "no &lt;credentials&gt;"));
	f->mode_refusal = NULL;
	req(f->port, "POST", "/control/mode", f->cookie, body, &r);
	assert_int_equal(r.status, 303);
	assert_int_equal(f->mode, TRADING_LIVE);
	req(f->port, "GET", "/", f->cookie, NULL, &r);
	assert_non_null(strstr(r.body, "mode-live"));
	assert_non_null(strstr(r.body, "Switch to paper"));
	req(f->port, "POST", "/control/nothing", f->cookie, body, &r);
	assert_int_equal(r.status, 404);
}

static void metrics(void **state)
{
	struct fx *f = *state;
	static struct res r;
	char v[128];

	req(f->port, "GET", "/metrics", NULL, NULL, &r);
	assert_int_equal(r.status, 401);
	assert_string_equal(header(&r, "WWW-Authenticate", v, sizeof(v)),
			    "Basic realm=\"arbitrade\"");
	req(f->port, "GET", "/metrics", "Authorization: Basic " BASIC_BAD "\r\n", NULL, &r);
	assert_int_equal(r.status, 401);
	req(f->port, "GET", "/metrics", "Authorization: Basic " BASIC_OK "\r\n", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type", v, sizeof(v)),
			    "text/plain; version=0.0.4; charset=utf-8");
	static const char *const want[] = {
	    "# TYPE arbitrade_messages_total counter\narbitrade_messages_total 1234\n",
	    "arbitrade_orders_total{outcome=\"filled\"} 3\n",
	    "arbitrade_orders_total{outcome=\"rejected\"} 0\n",
	    "arbitrade_books{state=\"live\"} 7\n",
	    "arbitrade_trading_mode{mode=\"paper\"} 1\n",
	    "arbitrade_balance{asset=\"US\\\"D\"} 1000.5\n",
	    "# TYPE arbitrade_hot_path_latency_seconds histogram\n",
	    "arbitrade_hot_path_latency_seconds_bucket{le=\"+Inf\"} 3\n",
	    "arbitrade_hot_path_latency_seconds_count 3\n",
	    "arbitrade_hot_path_latency_seconds_sum 0.002030800\n",
	    "arbitrade_decision_to_order_latency_seconds_count 0\n",
	    "arbitrade_dashboard_logins_failed_total 1\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(r.body, want[i]))
			fail_msg("/metrics lacks %s:\n%s", want[i], r.body);
	/* Buckets are cumulative: 1 at the first bound, 2 by 50 us, 3 by 2.5 ms. */
	const char *b = strstr(r.body, "arbitrade_hot_path_latency_seconds_bucket{le=\"1.");
	assert_non_null(b);
	assert_non_null(strstr(b, "} 1\n"));
	unsigned long last = 0;
	for (b = r.body; (b = strstr(b, "hot_path_latency_seconds_bucket{")) != NULL; b++) {
		unsigned long n = strtoul(strstr(b, "} ") + 2, NULL, 10);

		assert_true(n >= last);
		last = n;
	}
	assert_int_equal(last, 3);
	/* A Basic-auth scrape can read but never post. */
	req(f->port, "POST", "/control/pause", "Authorization: Basic " BASIC_OK "\r\n",
	    "csrf=", &r);
	assert_int_equal(r.status, 401);
}

static void limits(void **state)
{
	struct fx *f = *state;
	static struct res r;
	static char big[WEB_MAX_BODY + 4096];
	char hdr[128];
	int n;

	/* An oversized login body: 413 before any check. */
	memset(big, 'a', sizeof(big) - 1);
	n = snprintf(hdr, sizeof(hdr),
		     "POST /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		     "Content-Length: %zu\r\n\r\n",
		     sizeof(big) - 1);
	http(f->port, hdr, (size_t)n, &r);
	assert_int_equal(r.status, 413);
	/* Traversal stays a 404, logged in or not. */
	req(f->port, "GET", "/static/../web.h", NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	req(f->port, "GET", "/static/%2e%2e/web.h", NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	login(f);
	req(f->port, "GET", "/static/..%2fweb.h", f->cookie, NULL, &r);
	assert_int_equal(r.status, 404);
	req(f->port, "GET", "/../src/web/web.h", f->cookie, NULL, &r);
	assert_int_equal(r.status, 404);
}

static void pages_render(void **state)
{
	struct fx *f = *state;
	static struct res r;
	static const char *const pages[] = {"/",
					    "/opportunities",
					    "/trades",
					    "/portfolio",
					    "/latency",
					    "/audit",
					    "/audit?page=999",
					    "/opportunities?cycle=%3Cx%3E&verdict=zzz",
					    "/partials/overview",
					    "/partials/opportunities",
					    "/partials/status"};

	login(f);
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		req(f->port, "GET", pages[i], f->cookie, NULL, &r);
		if (r.status != 200)
			fail_msg("%s: %d\n%s", pages[i], r.status, r.raw);
		assert_null(strstr(r.body, "{{"));
		assert_null(strstr(r.body, "<x>"));
	}
	/* No reader: the tables say so rather than fail. */
	req(f->port, "GET", "/trades", f->cookie, NULL, &r);
	assert_non_null(strstr(r.body, "No database connection"));
	/* The latency page draws the snapshot's histogram as SVG. */
	req(f->port, "GET", "/latency", f->cookie, NULL, &r);
	assert_non_null(strstr(r.body, "<svg class=\"chart\""));
	assert_non_null(strstr(r.body, "(3 samples"));
}

static void password_hashes(void **state)
{
	struct web_pwhash h;
	struct err_info info = {0};
	struct fx f2;
	char a[WEB_PWHASH_MAX], b[WEB_PWHASH_MAX];
	static const char *const bad[] = {
	    "",
	    "bcrypt$10$x",
	    "scrypt$1000$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==", /* N not 2^k */
	    "scrypt$1024$8$1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==",	 /* salt too short */
	    "scrypt$1024$8$1$c2FsdHNhbHRzYWx0$aGFzaA==",		 /* hash too short */
	    "scrypt$1024$8$1$c2Fsd*NhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==",
	    "scrypt$1024$8$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==",
	    "scrypt$01024$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==",
	};

	(void)state;
	assert_int_equal(web_password_hash("pw", 2, 1024, 8, 1, a, sizeof(a)), 0);
	assert_int_equal(web_password_hash("pw", 2, 1024, 8, 1, b, sizeof(b)), 0);
	assert_memory_equal(a, "scrypt$1024$8$1$", 16);
	assert_string_not_equal(a, b); /* fresh salts */
	assert_int_equal(web_password_verify(a, strlen(a), "pw", 2), 0);
	assert_int_equal(web_password_verify(b, strlen(b), "pw", 2), 0);
	assert_int_equal(web_password_verify(a, strlen(a), "pW", 2), ERR_AUTH);
	assert_int_equal(web_password_verify(a, strlen(a), "", 0), ERR_AUTH);
	assert_int_equal(web_password_hash("pw", 2, 1000, 8, 1, b, sizeof(b)), ERR_INVALID);
	assert_int_equal(web_password_hash("pw", 2, 1024, 8, 1, b, 20), ERR_RANGE);
	assert_int_equal(web__pwhash_parse(a, strlen(a), &h), 0);
	assert_int_equal(h.n, 1024);
	assert_int_equal(h.salt_len, 16);
	assert_int_equal(h.hash_len, 32);
	/* Unpadded base64 is accepted too. */
	assert_int_equal(
	    web__pwhash_parse("scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", 51, &h), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (web__pwhash_parse(bad[i], strlen(bad[i]), &h) != ERR_PARSE)
			fail_msg("accepted %s", bad[i]);

	/* web_new refuses auth without a usable hash. */
	memset(&f2, 0, sizeof(f2));
	f2.hash = secret_new("scrypt$nope", 11);
	assert_null(start(&f2, true, false, &info));
	assert_int_equal(info.code, ERR_CONFIG);
	assert_null(strstr(info.msg, "nope"));
	secret_free(f2.hash);
	f2.hash = NULL;
	memset(&info, 0, sizeof(info));
	assert_null(start(&f2, true, false, &info));
	assert_int_equal(info.code, ERR_CONFIG);
}

static void form_fields(void **state)
{
	char out[32];
	const char body[] = "a=1&csrf=x%2By+z&bad=%00&long=0123456789012345678901234567890123&e=";

	(void)state;
	assert_int_equal(web__form_get(body, strlen(body), "csrf", out, sizeof(out)), 5);
	assert_string_equal(out, "x+y z");
	assert_int_equal(web__form_get(body, strlen(body), "a", out, sizeof(out)), 1);
	assert_int_equal(web__form_get(body, strlen(body), "bad", out, sizeof(out)), -1);
	assert_int_equal(web__form_get(body, strlen(body), "long", out, sizeof(out)), -1);
	assert_int_equal(web__form_get(body, strlen(body), "e", out, sizeof(out)), 0);
	assert_int_equal(web__form_get(body, strlen(body), "cs", out, sizeof(out)), -1);
	assert_int_equal(web__form_get("x=%4", 4, "x", out, sizeof(out)), -1);
	assert_int_equal(web__form_get(NULL, 0, "x", out, sizeof(out)), -1);
	assert_true(web__token_eq("ab", "ab") == false); /* only full-length tokens */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(no_session, setup, teardown),
	    cmocka_unit_test_setup_teardown(wrong_credentials, setup, teardown),
	    cmocka_unit_test_setup_teardown(login_csrf, setup, teardown),
	    cmocka_unit_test_setup_teardown(session_cookie_and_csrf, setup, teardown),
	    cmocka_unit_test_setup_teardown(secure_cookie, setup_secure, teardown),
	    cmocka_unit_test_setup_teardown(logout, setup, teardown),
	    cmocka_unit_test_setup_teardown(session_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(login_rate_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(global_rate_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(controls, setup, teardown),
	    cmocka_unit_test_setup_teardown(metrics, setup, teardown),
	    cmocka_unit_test_setup_teardown(limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(pages_render, setup, teardown),
	    cmocka_unit_test(password_hashes),
	    cmocka_unit_test(form_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

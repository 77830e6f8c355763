/* Shared by the web module's .c files and tests/unit/web/ only. */
#ifndef ARB_WEB_WEB_INT_H
#define ARB_WEB_WEB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "web/web.h"

struct MHD_Daemon;
struct MHD_Connection;

/* ---- buffers (buf.c) ---- */

/* Largest response body the server builds. */
#define WEB_MAX_RESPONSE (8u * 1024u * 1024u)

struct web_buf {
	char *data; /* malloc'd, NUL terminated when len > 0; NULL when empty */
	size_t len;
	size_t cap;
	size_t max; /* len never exceeds max */
	int err;    /* sticky: 0, ERR_NOMEM or ERR_FULL */
};

void web__buf_init(struct web_buf *b, size_t max);
/* Frees the data; the buffer is empty and usable again (err cleared). */
void web__buf_release(struct web_buf *b);
/* Hands the data to the caller (free() it) and leaves b empty. */
char *web__buf_detach(struct web_buf *b, size_t *len);
/* Appends s HTML-escaped: & < > " ' become entities. */
int web__buf_html(struct web_buf *b, const char *s, size_t n);
/* Appends s as a quoted JSON string; control characters and < > & are
 * written as \u escapes so the text is safe inside HTML too. */
int web__buf_json_str(struct web_buf *b, const char *s);

/* Reads a whole regular file of at most max bytes into a malloc'd, NUL
 * terminated buffer (returned owned). Returns 0, -errno, ERR_RANGE (too big)
 * or ERR_NOMEM. */
int web__file_read(const char *path, size_t max, char **out, size_t *len);

/* ---- templates (template.c) ----
 *
 * Syntax: {{name}} writes the variable HTML-escaped, {{{name}}} writes it as
 * is (only for fragments the server rendered itself). Names are 1..63 of
 * [A-Za-z0-9_.-], spaces inside the braces are ignored. Anything else inside
 * braces, or an unclosed tag, is a parse error at load time. Rendering a name
 * the caller did not pass is ERR_NOTFOUND. */

struct web_tpl_set;

struct web_tpl_var {
	const char *name;
	const char *value; /* NULL renders as "" */
};

struct web_tpl_set *web__tpl_set_new(void);
void web__tpl_set_free(struct web_tpl_set *s);
/* Parses text (copied) as template `name`. Returns 0, ERR_PARSE with info
 * naming the template and line, ERR_FULL (too many templates), ERR_INVALID
 * (duplicate name) or ERR_NOMEM. */
int web__tpl_add(struct web_tpl_set *s, const char *name, const char *text, size_t len,
		 struct err_info *info);
/* Adds every *.html regular file directly under dir, named by file name. */
int web__tpl_load_dir(struct web_tpl_set *s, const char *dir, struct err_info *info);
bool web__tpl_has(const struct web_tpl_set *s, const char *name);
/* Appends template `name` rendered with vars to out. Returns 0, ERR_NOTFOUND
 * (no such template or variable, info names it) or the buffer's error. */
int web__tpl_render(const struct web_tpl_set *s, const char *name, const struct web_tpl_var *vars,
		    size_t nvars, struct web_buf *out, struct err_info *info);

/* ---- static assets (static.c) ---- */

#define WEB_ASSET_NAME	    64
#define WEB_ASSET_MAX_BYTES (4u * 1024u * 1024u)
#define WEB_ASSET_MAX_COUNT 128u

struct web_asset {
	char name[WEB_ASSET_NAME];
	const char *content_type;
	char *data;
	size_t len;
	char etag[24]; /* "\"<16 hex>\"" */
};

struct web_assets {
	struct web_asset *v;
	size_t n;
};

/* True for a single path segment of [A-Za-z0-9._-] that does not start with
 * a dot and so cannot be "..", hidden, or contain a separator. */
bool web__asset_name_ok(const char *name);
/* The Content-Type for a served extension, NULL when not served. */
const char *web__content_type(const char *name);
/* Loads file `path` as asset `name`. Returns 0, -errno, ERR_INVALID (bad name
 * or type), ERR_RANGE, ERR_FULL or ERR_NOMEM; info names the path. */
int web__assets_add_file(struct web_assets *a, const char *name, const char *path,
			 struct err_info *info);
/* Loads every regular file directly under dir whose name and extension are
 * served; entries resolving (realpath) outside dir are skipped. */
int web__assets_load_dir(struct web_assets *a, const char *dir, struct err_info *info);
const struct web_asset *web__assets_find(const struct web_assets *a, const char *name);
void web__assets_release(struct web_assets *a);

/* ---- requests, responses, routes (server.c, routes.c) ---- */

enum web_method {
	WEB_M_GET = 1u << 0,
	WEB_M_HEAD = 1u << 1,
	WEB_M_POST = 1u << 2,
	WEB_M_OTHER = 1u << 3,
};

struct web_req {
	unsigned method;  /* one enum web_method bit */
	const char *path; /* percent-decoded; borrowed until the request completes */
	char addr[48];	  /* client address text, "" unknown */
	struct MHD_Connection *conn;
	struct web_buf body; /* at most WEB_MAX_BODY */
	size_t body_seen;    /* bytes received, kept or not */
	bool too_large;
	bool responded; /* a response is queued (413 before the body) */
};

/* A request header's value, or NULL. Borrowed until the request completes. */
const char *web__req_header(const struct web_req *req, const char *name);

#define WEB_RESP_HEADERS      8
#define WEB_RESP_HEADER_VALUE 256

struct web_resp {
	unsigned status;
	const char *content_type;  /* static string */
	const char *cache_control; /* static string; NULL means "no-store" */
	/* A body borrowed for the life of the server (assets); when set it is
	 * sent instead of body. */
	const char *fixed;
	size_t fixed_len;
	struct web_buf body;
	size_t nhdr;
	struct {
		const char *name; /* static string */
		char value[WEB_RESP_HEADER_VALUE];
	} hdr[WEB_RESP_HEADERS];
};

/* Adds a header (name static, value copied). ERR_FULL when there is no room
 * or the value is too long. */
int web__resp_header(struct web_resp *r, const char *name, const char *value);
/* Replaces the response with a plain-text one: status and a one-line body. */
void web__resp_text(struct web_resp *r, unsigned status, const char *text);

/* ---- auth (auth.c) ---- */

#define WEB_TOKEN_BYTES	   32 /* session ids and CSRF tokens: 256 random bits */
#define WEB_TOKEN_HEX	   (2 * WEB_TOKEN_BYTES + 1)
#define WEB_SESSIONS	   64u /* logged-in sessions at once; the oldest is evicted */
#define WEB_USER_LEN	   64
#define WEB_SESSION_COOKIE "arb_session"
#define WEB_LOGIN_COOKIE   "arb_login" /* the login form's CSRF double-submit cookie */

/* Login attempts: per client address and for the whole server, in a fixed
 * window; past either limit POST /login answers 429 without checking. */
#define WEB_RL_WINDOW_S 60u
#define WEB_RL_PER_ADDR 5u
#define WEB_RL_GLOBAL	30u
#define WEB_RL_ADDRS	64u

struct web_session {
	bool used;
	char id[WEB_TOKEN_HEX];
	char csrf[WEB_TOKEN_HEX];
	char user[WEB_USER_LEN];
	uint64_t created_ns, expires_ns; /* web's clock */
};

struct web_pwhash {
	uint64_t n;
	uint32_t r, p;
	unsigned char salt[64];
	size_t salt_len;
	unsigned char hash[64];
	size_t hash_len;
};

struct web_ratelimit {
	struct {
		char addr[48];
		uint64_t start_ns;
		uint32_t n;
	} per[WEB_RL_ADDRS];
	uint64_t global_start_ns;
	uint32_t global_n;
};

/* Parses scrypt$N$r$p$salt$hash. Returns 0 or ERR_PARSE. */
int web__pwhash_parse(const char *s, size_t len, struct web_pwhash *out);
/* 0 when pw matches h, ERR_AUTH when not, ERR_CRYPTO. Constant time. */
int web__pwhash_verify(const struct web_pwhash *h, const char *pw, size_t len);
/* Hex of WEB_TOKEN_BYTES random bytes into out[WEB_TOKEN_HEX]. 0 or ERR_CRYPTO. */
int web__token(char out[WEB_TOKEN_HEX]);
/* Constant-time equality of two NUL-terminated tokens (false for NULL). */
bool web__token_eq(const char *a, const char *b);

struct web;
/* The session named by the request's cookie, if live (expired ones are
 * dropped), else NULL. */
struct web_session *web__session_find(struct web *w, const struct web_req *req);
/* Starts a session for user; NULL when no token could be made. */
struct web_session *web__session_new(struct web *w, const char *user);
void web__session_end(struct web_session *s);
/* Set-Cookie value for the session (or for clearing it when s is NULL). */
void web__session_cookie(const struct web *w, const struct web_session *s, char *out, size_t cap);
/* Counts one login attempt from addr; false when over a limit. */
bool web__ratelimit_take(struct web *w, const char *addr);
/* The value of form or query field name from an urlencoded body, decoded
 * into out. Returns the length or -1 when absent or too long. */
long web__form_get(const char *body, size_t len, const char *name, char *out, size_t cap);

/* POST /login, GET /login, POST /logout and the auth gate in dispatch. */
int web__route_login_get(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_login_post(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_logout(struct web *w, const struct web_req *req, struct web_resp *resp);
/* Checks a protected request: sets w->cur and returns true, or fills resp
 * (303 to /login, 401) and returns false. basic allows HTTP Basic auth. */
bool web__auth_gate(struct web *w, const struct web_req *req, struct web_resp *resp, bool basic);
/* For POSTs: true when the request carries the current session's CSRF
 * token; otherwise resp is a 403. */
bool web__csrf_ok(struct web *w, const struct web_req *req, struct web_resp *resp);

/* ---- queries (queries.c) ---- */

enum web_query {
	WEB_Q_VERDICTS_TODAY,
	WEB_Q_PNL_TODAY,
	WEB_Q_OPPS,
	WEB_Q_CYCLES,
	WEB_Q_TRADES,
	WEB_Q_PORTFOLIO,
	WEB_Q_BALANCES,
	WEB_Q_LATENCY,
	WEB_Q_LATENCY_BUCKETS,
	WEB_Q_AUDIT_COUNT,
	WEB_Q_AUDIT,
	WEB_Q_COUNT
};

/* The statement's text (its columns are listed in queries.c). */
const char *web__sql(enum web_query q);
/* Runs q on the web thread's reader. Returns 0, fn's value, ERR_BADSTATE
 * (no reader) or ERR_DB (logged). */
int web__query(struct web *w, enum web_query q, const char *const *params, size_t nparams,
	       store_row_fn fn, void *ctx);

/* ---- pages (pages.c), charts (charts.c), metrics (metrics.c) ---- */

int web__render_page(struct web *w, struct web_resp *resp, const char *page, const char *title,
		     const struct web_tpl_var *vars, size_t nvars);
void web__snapshot(struct web *w, struct web_snapshot *out);
int web__route_overview(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_overview_part(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_opps(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_opps_part(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_trades(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_portfolio(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_latency(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_audit(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_control(struct web *w, const struct web_req *req, struct web_resp *resp);
int web__route_metrics(struct web *w, const struct web_req *req, struct web_resp *resp);

/* A point of a line chart: x in seconds (any origin), y any unit. */
struct web_point {
	double x, y;
};
/* Appends an inline SVG line chart of pts (sorted by x) with axis labels;
 * label names the series for screen readers. An empty series renders a
 * "no data" box. */
void web__svg_line(struct web_buf *b, const char *label, const struct web_point *pts, size_t n,
		   const char *y_unit);
/* Appends an inline SVG bar chart: n bars with their labels and counts. */
void web__svg_bars(struct web_buf *b, const char *label, const char *const *names,
		   const double *vals, size_t n);

/* Appends a string literal or C string. */
#define PUT(b, s) web_buf_append((b), (s), strlen(s))
/* Appends s HTML-escaped (NULL: nothing). */
void web__esc(struct web_buf *b, const char *s);
/* Appends a DECIMAL's text trimmed and escaped; NULL as a dash. */
void web__esc_dec(struct web_buf *b, const char *s);
/* A page with a heading and one message, with the given status. */
int web__message(struct web *w, struct web_resp *resp, unsigned status, const char *title,
		 const char *text);

/* Per-bucket (not cumulative) counts of h at web_hist_bounds_ns, the last
 * one above every bound. */
void web__hist_buckets(const struct hist *h, double out[WEB_HIST_BUCKETS + 1]);

/* Formats a DECIMAL's text without trailing zeros ("1.500000" -> "1.5"). */
void web__trim_decimal(const char *in, char *out, size_t cap);
/* Formats nanoseconds for people: "850 ns", "12.3 µs", "4.56 ms", "1.2 s". */
void web__fmt_ns(double ns, char *out, size_t cap);

struct web {
	struct MHD_Daemon *daemon;
	uint16_t port;
	enum trading_mode mode;
	int (*db_ping)(void *ctx);
	void (*health_extra)(void *ctx, struct web_buf *out);
	struct store_reader *reader;
	void (*snapshot)(void *ctx, struct web_snapshot *out);
	int (*pause)(void *ctx, bool paused, const char *actor);
	int (*kill)(void *ctx, const char *actor);
	const char *(*set_mode)(void *ctx, enum trading_mode mode, const char *actor);
	void (*audit)(void *ctx, const char *actor, const char *action, const char *detail);
	void *ctx;
	/* auth */
	bool auth_on;
	bool secure_cookies;
	uint32_t ttl_s;
	char user[WEB_USER_LEN];
	struct web_pwhash pw;
	struct web_session sessions[WEB_SESSIONS];
	struct web_session dev;	 /* the session every request has when auth is off */
	struct web_session *cur; /* the request's session, set by the gate */
	struct web_ratelimit rl;
	uint64_t (*now_ns)(void);			      /* clock_mono_ns; tests move it */
	uint64_t logins_failed, logins_limited, csrf_refused; /* counters for /metrics */
	uint64_t start_ns;				      /* clock_mono_ns at web_new */
	struct web_tpl_set *tpl;
	struct web_assets assets;
};

typedef int (*web_handler_fn)(struct web *w, const struct web_req *req, struct web_resp *resp);

enum web_route_auth {
	WEB_AUTH_SESSION, /* a session (or auth off); POSTs need the CSRF token */
	WEB_AUTH_PUBLIC,  /* no session needed (/health, /static, /login) */
	WEB_AUTH_BASIC,	  /* a session or HTTP Basic credentials (/metrics) */
};

struct web_route {
	const char *path; /* exact, or a prefix when it ends with '/' and is not "/" */
	unsigned methods; /* enum web_method bits */
	web_handler_fn handle;
	enum web_route_auth auth;
};

/* A query-string argument, or NULL. Borrowed until the request completes. */
const char *web__req_arg(const struct web_req *req, const char *name);

/* Routes req: fills resp with the handler's answer, or 404, 405 (with Allow),
 * 413 or 500. Runs on the web thread. */
void web__dispatch(struct web *w, const struct web_req *req, struct web_resp *resp);

/* Templates every page needs; web_new fails when one is missing. */
extern const char *const web__required_templates[];

#endif

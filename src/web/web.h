/* The web shell: an HTTP server (libmicrohttpd) for the dashboard and /health.
 *
 * web_new loads every template and static asset into memory, binds
 * APP_HOST:APP_PORT and starts one internal thread, "the web thread", which
 * runs every request and every callback in struct web_deps, one at a time.
 * Nothing is read from disk after start-up, so a request path can never name a
 * file: /static/<name> is a lookup in the table loaded at start.
 *
 * Routes (see README, Dashboard): every page and partial needs a session
 * unless DASHBOARD_AUTH=off; without one an HTML GET is redirected (303) to
 * /login and an htmx or JSON request gets 401.
 *   GET|HEAD /health                public; JSON, 200, or 503 when the database is unusable
 *   GET|HEAD /static/<name>         public; files under the static dir, plus htmx.min.js
 *   GET /login, POST /login         public; the login form (CSRF double-submit cookie)
 *   POST /logout                    ends the session
 *   GET /, /opportunities, /trades, /portfolio, /latency, /audit   pages
 *   GET /partials/status|overview|opportunities                    htmx fragments
 *   POST /control/pause|resume|kill|mode                           operator actions
 *   GET /metrics                    Prometheus text; a session or HTTP Basic auth
 * Every POST needs the session's CSRF token (form field csrf or header
 * X-CSRF-Token), else 403.  * Any other path is 404, another method on a known path 405, a request
 * body over WEB_MAX_BODY 413. Every response carries the security headers (nosniff, frame DENY,
 * no-referrer, a same-origin Content-Security-Policy). */
#ifndef ARB_WEB_WEB_H
#define ARB_WEB_WEB_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "core/config.h"
#include "core/err.h"
#include "core/hist.h"

struct store_reader;

/* Limits of the server; a request over one is refused, never buffered. */
#define WEB_MAX_BODY		 (64u * 1024u) /* request body bytes, else 413 */
#define WEB_MAX_CONNECTIONS	 64u	       /* open connections at once */
#define WEB_CONNECTION_TIMEOUT_S 15u	       /* idle seconds before a close */
#define WEB_CONNECTION_MEMORY	 (64u * 1024u) /* per connection: request line + headers */

struct web;

/* A growable output buffer handed to callbacks that write part of a response.
 * Errors are sticky: after a failed append (out of memory, or the response
 * cap reached) every later append does nothing and the response becomes a 500,
 * so callers may ignore the return values. */
struct web_buf;

/* Appends n bytes. Returns 0, or ERR_NOMEM / ERR_FULL (sticky). */
int web_buf_append(struct web_buf *b, const void *p, size_t n);
/* Appends printf-formatted text. Returns 0, or ERR_NOMEM / ERR_FULL. */
int web_buf_appendf(struct web_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON object members, each written as `,"key":value`: for health_extra, which
 * writes into an object that already holds members. key is written as given
 * (use plain ASCII names); val is escaped. A non-finite double is written as
 * null. Return 0, or ERR_NOMEM / ERR_FULL. */
int web_json_add_str(struct web_buf *b, const char *key, const char *val);
int web_json_add_i64(struct web_buf *b, const char *key, int64_t val);
int web_json_add_double(struct web_buf *b, const char *key, double val);
int web_json_add_bool(struct web_buf *b, const char *key, int val);

/* ---- Snapshots published by the pipeline ---- */

/* The bucket bounds /metrics and the latency page use (ns, ascending):
 * each is rounded up to the edge of its struct hist bucket, so the counts
 * are exact (hist_count_le). */
#define WEB_HIST_BUCKETS 16
extern const int64_t web_hist_bounds_ns[WEB_HIST_BUCKETS];

#define WEB_MAX_BALANCES 16
#define WEB_ASSET_LEN	 16

struct web_balance {
	char asset[WEB_ASSET_LEN];
	double amount;	   /* display only; the books of record are fixed point */
	double value_home; /* NaN when unpriced */
};

/* Orders by outcome, the index of web_snapshot.orders. */
enum web_order_outcome {
	WEB_ORDER_FILLED,
	WEB_ORDER_PARTIAL,
	WEB_ORDER_CANCELED,
	WEB_ORDER_REJECTED,
	WEB_ORDER_EXPIRED,
	WEB_ORDER_FAILED,
	WEB_ORDER_OUTCOMES
};

/* What the dashboard shows of the running bot, filled by deps.snapshot on
 * the web thread from values the pipeline publishes (atomics, seqlocks); the
 * filler must never block on the hot path. Zeroed before each call. */
struct web_snapshot {
	enum trading_mode mode;
	bool live_available; /* credentials configured: switching to live is allowed */
	bool paused;
	bool killed;
	char exchange_status[32]; /* Kraken's status channel: "online", ...; "" unknown */
	bool feed_connected;
	uint32_t books_live, books_invalid, books_stale;
	uint64_t messages;	    /* WS messages received */
	uint64_t parse_errors;	    /* messages refused by the codecs */
	uint64_t checksum_failures; /* book checksum mismatches */
	uint64_t reconnects;
	double msg_rate;	  /* messages per second, recent */
	uint64_t opportunities;	  /* detected since start */
	uint64_t cycles_executed; /* since start */
	uint64_t orders[WEB_ORDER_OUTCOMES];
	size_t n_balances;
	struct web_balance balances[WEB_MAX_BALANCES];
	char home_asset[WEB_ASSET_LEN];
	/* Copies of the pipeline's histograms (core/hist.h; hist_read of its
	 * hist_pub). Zeroed counts mean no data; min need not be set. */
	struct hist hot_path;	       /* frame arrival to decision */
	struct hist decision_to_order; /* decision to order sent */
};

/* What the server needs from the rest of the program. */
struct web_deps {
	/* Root of the shared files, borrowed during web_new only. Templates
	 * are read from <share_dir>/src/web/templates, static files from
	 * <share_dir>/src/web/static, and <share_dir>/third_party/htmx/htmx.min.js
	 * is served as /static/htmx.min.js. */
	const char *share_dir;
	enum trading_mode trading_mode;
	/* Required. Returns 0 when the database answers (e.g. SELECT 1 on the
	 * web thread's read-only connection), any other value when it does not.
	 * Called on the web thread for /health and the status fragment. */
	int (*db_ping)(void *ctx);
	/* Optional. Appends members to the /health JSON object with the
	 * web_json_add_* functions. Called on the web thread; out is valid only
	 * during the call. */
	void (*health_extra)(void *ctx, struct web_buf *out);
	/* Optional: the web thread's own read connection (store_reader_open),
	 * borrowed until web_free and used only on the web thread. Without it
	 * the pages show "no database" instead of tables. */
	struct store_reader *reader;
	/* Optional. Fills *out (zeroed first) with the bot's current state.
	 * Without it the mode comes from trading_mode and the rest is empty. */
	void (*snapshot)(void *ctx, struct web_snapshot *out);
	/* Optional controls; a missing one makes its button answer 501. actor
	 * is "operator:<user>", borrowed during the call; the callee records
	 * the audit event. pause and kill return 0 or an ERR_* code; set_mode
	 * returns NULL when done or a static text saying why not (shown to the
	 * operator). */
	int (*pause)(void *ctx, bool paused, const char *actor);
	int (*kill)(void *ctx, const char *actor);
	const char *(*set_mode)(void *ctx, enum trading_mode mode, const char *actor);
	/* Optional. Records an audit event (login, logout, refused login) with
	 * actor and action as given and detail a JSON object or NULL; must not
	 * block. Web thread. */
	void (*audit)(void *ctx, const char *actor, const char *action, const char *detail);
	void *ctx; /* borrowed until web_free; passed to the callbacks */
};

/* Password hashes for DASHBOARD_PASSWORD_HASH, in the form
 * scrypt$N$r$p$<salt base64>$<hash base64> (standard base64, 16-byte salt,
 * 32-byte hash). */
#define WEB_PWHASH_MAX 160
#define WEB_SCRYPT_N   32768u
#define WEB_SCRYPT_R   8u
#define WEB_SCRYPT_P   1u

/* Hashes pw (len bytes) with a fresh random salt and the cost N, r, p (N a
 * power of two >= 1024; 0 for the defaults above) into out (NUL terminated).
 * Returns 0, ERR_INVALID, ERR_RANGE (cap too small) or ERR_CRYPTO. Any
 * thread; takes ~100 ms at the default cost. */
int web_password_hash(const char *pw, size_t len, uint64_t n, uint32_t r, uint32_t p, char *out,
		      size_t cap);

/* 0 when pw matches hash, ERR_AUTH when not, ERR_PARSE when hash is not in
 * the form above, ERR_CRYPTO. Compares in constant time. Any thread. */
int web_password_verify(const char *hash, size_t hash_len, const char *pw, size_t len);

/* Loads templates and static assets, binds cfg->host:cfg->port and starts the
 * web thread. host is an IPv4 or IPv6 literal or a name such as "localhost"
 * (the first address getaddrinfo gives); port 0 picks a free port, see
 * web_port. cfg and deps are copied; deps->ctx stays borrowed.
 * Returned owned: stop and free with web_free. Returns NULL on error with info
 * filled: ERR_INVALID (bad arguments), ERR_NOTFOUND (missing directory or
 * file, path named), ERR_PARSE (template syntax, file and line named),
 * ERR_CONFIG (host does not resolve; cfg->auth on without cfg->user or with
 * a password hash that does not parse, never quoting it), ERR_NET (bind or
 * daemon start failed), ERR_CRYPTO (no random bytes), ERR_NOMEM. The password
 * hash is copied (wiped at web_free); the secret stays the caller's. Call
 * from the main thread. */
struct web *web_new(const struct web_cfg *cfg, const struct web_deps *deps, struct err_info *info);

/* Stops the daemon (closing connections, joining the web thread) and frees
 * everything. web_free(NULL) does nothing. Call from the thread that called
 * web_new, never from a callback. */
void web_free(struct web *w);

/* The port actually bound, in host order (useful when cfg->port was 0). */
uint16_t web_port(const struct web *w);

#endif

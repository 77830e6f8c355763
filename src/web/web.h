/* The web shell: an HTTP server (libmicrohttpd) for the dashboard and /health.
 *
 * web_new loads every template and static asset into memory, binds
 * APP_HOST:APP_PORT and starts one internal thread, "the web thread", which
 * runs every request and every callback in struct web_deps, one at a time.
 * Nothing is read from disk after start-up, so a request path can never name a
 * file: /static/<name> is a lookup in the table loaded at start.
 *
 * Routes today:
 *   GET|HEAD /                 the overview page (templates layout.html + index.html)
 *   GET|HEAD /health           JSON, 200, or 503 when the database is unusable
 *   GET|HEAD /partials/status  HTML fragment polled by the overview page
 *   GET|HEAD /static/<name>    files directly under the static dir, plus htmx.min.js
 * Any other path is 404, another method on a known path 405, a request body
 * over WEB_MAX_BODY 413. Every response carries the security headers
 * (nosniff, frame DENY, no-referrer, a same-origin Content-Security-Policy). */
#ifndef ARB_WEB_WEB_H
#define ARB_WEB_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"

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
	void *ctx; /* borrowed until web_free; passed to the callbacks */
};

/* Loads templates and static assets, binds cfg->host:cfg->port and starts the
 * web thread. host is an IPv4 or IPv6 literal or a name such as "localhost"
 * (the first address getaddrinfo gives); port 0 picks a free port, see
 * web_port. cfg and deps are copied; deps->ctx stays borrowed.
 * Returned owned: stop and free with web_free. Returns NULL on error with info
 * filled: ERR_INVALID (bad arguments), ERR_NOTFOUND (missing directory or
 * file, path named), ERR_PARSE (template syntax, file and line named),
 * ERR_CONFIG (host does not resolve), ERR_NET (bind or daemon start failed),
 * ERR_NOMEM. Call from the main thread. */
struct web *web_new(const struct web_cfg *cfg, const struct web_deps *deps, struct err_info *info);

/* Stops the daemon (closing connections, joining the web thread) and frees
 * everything. web_free(NULL) does nothing. Call from the thread that called
 * web_new, never from a callback. */
void web_free(struct web *w);

/* The port actually bound, in host order (useful when cfg->port was 0). */
uint16_t web_port(const struct web *w);

#endif

/* Shared by the web module's .c files and tests/unit/web/ only. */
#ifndef ARB_WEB_WEB_INT_H
#define ARB_WEB_WEB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

struct web {
	struct MHD_Daemon *daemon;
	uint16_t port;
	enum trading_mode mode;
	int (*db_ping)(void *ctx);
	void (*health_extra)(void *ctx, struct web_buf *out);
	void *ctx;
	uint64_t start_ns; /* clock_mono_ns at web_new */
	struct web_tpl_set *tpl;
	struct web_assets assets;
};

typedef int (*web_handler_fn)(struct web *w, const struct web_req *req, struct web_resp *resp);

struct web_route {
	const char *path; /* exact, or a prefix when it ends with '/' and is not "/" */
	unsigned methods; /* enum web_method bits */
	web_handler_fn handle;
};

/* Routes req: fills resp with the handler's answer, or 404, 405 (with Allow),
 * 413 or 500. Runs on the web thread. */
void web__dispatch(struct web *w, const struct web_req *req, struct web_resp *resp);

/* Templates every page needs; web_new fails when one is missing. */
extern const char *const web__required_templates[];

#endif

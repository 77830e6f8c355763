/* Internal to the simulator's core files (sim.c, scenario.c, market.c,
 * ws_public.c, control.c): a small reading layer over jsmn and a growable
 * text buffer for the messages the simulator writes. The simulator is not on
 * the bot's hot path, so both allocate. jsmn itself is compiled once, static,
 * in json.c; this header only needs its token type (same options as there). */
#ifndef ARB_SIM_SIM_JSON_H
#define ARB_SIM_SIM_JSON_H

#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#define JSMN_HEADER
#include <jsmn.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* A parsed document: tokens over js (borrowed for the life of the doc). */
struct sim_json {
	const char *js;
	size_t len;
	jsmntok_t *tok; /* owned */
	int n;
};

/* Tokenizes len bytes of js (borrowed until sim__json_release). Returns 0,
 * ERR_PARSE (invalid JSON, trailing bytes, not an object or array at the top)
 * or ERR_NOMEM. */
int sim__json_parse(struct sim_json *j, const char *js, size_t len);
void sim__json_release(struct sim_json *j);

/* The index after the subtree rooted at token i. */
int sim__json_skip(const struct sim_json *j, int i);
/* The value token of key in the object at token obj, or -1. */
int sim__json_get(const struct sim_json *j, int obj, const char *key);
/* The k-th element of the array at token arr (k from 0), or -1. */
int sim__json_elem(const struct sim_json *j, int arr, int k);
bool sim__json_is(const struct sim_json *j, int i, const char *s);
bool sim__json_is_string(const struct sim_json *j, int i);
bool sim__json_is_object(const struct sim_json *j, int i);
bool sim__json_is_array(const struct sim_json *j, int i);
/* Copies a string or primitive token (raw, no unescaping) into buf with a
 * NUL; ERR_RANGE if it does not fit, ERR_SCHEMA for a container. */
int sim__json_str(const struct sim_json *j, int i, char *buf, size_t cap);
/* A JSON integer (no fraction, no exponent). */
int sim__json_i64(const struct sim_json *j, int i, int64_t *out);
/* A number or a string holding one, through strtod (scenario settings only,
 * never money on the wire). */
int sim__json_double(const struct sim_json *j, int i, double *out);
/* A decimal (number or string) parsed exactly at scale (core/fixed.h). */
int sim__json_fixed(const struct sim_json *j, int i, int scale, int64_t *out);
int sim__json_bool(const struct sim_json *j, int i, bool *out);

/* A growable text buffer; LWS_PRE bytes of headroom are kept before the
 * text so a finished message can be handed to lws_write without a copy. */
struct sim_buf {
	char *mem; /* owned; the text starts at mem + head */
	size_t head;
	size_t len; /* text bytes */
	size_t cap; /* bytes after head */
	bool oom;   /* an append failed; the text is incomplete */
};
void sim__buf_init(struct sim_buf *b, size_t head);
void sim__buf_release(struct sim_buf *b);
void sim__buf_reset(struct sim_buf *b);
char *sim__buf_text(const struct sim_buf *b);
void sim__buf_add(struct sim_buf *b, const char *s, size_t n);
void sim__buf_str(struct sim_buf *b, const char *s);
void sim__buf_printf(struct sim_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v at scale with exactly scale decimals, as Kraken prints book numbers. */
void sim__buf_fixed(struct sim_buf *b, int64_t v, int scale);
/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" of wall_ns, quoted. */
void sim__buf_time(struct sim_buf *b, int64_t wall_ns);

#endif

/* The decoder: lifecycle, frame classification, the small messages (status,
 * heartbeat, pong, acknowledgements, errors), value conversions and error
 * accounting. Books are in codec_book.c, instruments in codec_instrument.c. */
#include "kraken/codec_int.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/fixed.h"

#define MAX_TOKENS   (1u << 26)
#define MAX_FRAME    (1u << 30)
#define LOG_EVERY_NS 1000000000ull

struct name {
	const char *s;
	size_t len;
};
#define NAME(lit)                                                                                  \
	{                                                                                          \
		lit, sizeof(lit) - 1                                                               \
	}

/* ---- lifecycle ---------------------------------------------------------- */

struct kr_decoder *kr_decoder_new(size_t max_tokens)
{
	struct kr_decoder *d;

	if (max_tokens == 0)
		max_tokens = KR_DECODER_DEFAULT_TOKENS;
	if (max_tokens > MAX_TOKENS)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cap_tok = (unsigned int)max_tokens;
	d->tok = calloc(max_tokens, sizeof(*d->tok));
	d->depth = calloc(max_tokens, sizeof(*d->depth));
	d->pairs = calloc(KR_MAX_PAIRS, sizeof(*d->pairs));
	d->stage = calloc(KR_MAX_PAIRS, sizeof(*d->stage));
	d->slots = calloc(KR__SLOTS, sizeof(*d->slots));
	d->changed = calloc(KR_MAX_PAIRS, sizeof(*d->changed));
	d->mark = calloc(KR_MAX_PAIRS, sizeof(*d->mark));
	d->mark_changed = calloc(KR_MAX_PAIRS, sizeof(*d->mark_changed));
	if (!d->tok || !d->depth || !d->pairs || !d->stage || !d->slots || !d->changed ||
	    !d->mark || !d->mark_changed) {
		kr_decoder_free(d);
		return NULL;
	}
	return d;
}

void kr_decoder_free(struct kr_decoder *d)
{
	if (!d)
		return;
	free(d->mark_changed);
	free(d->mark);
	free(d->changed);
	free(d->slots);
	free(d->stage);
	free(d->pairs);
	free(d->depth);
	free(d->tok);
	free(d);
}

void kr_decoder_stats(const struct kr_decoder *d, struct kr_decoder_stats *out)
{
	*out = d->stats;
}

/* ---- errors ------------------------------------------------------------- */

static int reason_code(enum kr_decode_reason r)
{
	switch (r) {
	case KR_DECODE_JSON:
	case KR_DECODE_NUMBER:
		return ERR_PARSE;
	case KR_DECODE_TOKENS:
	case KR_DECODE_CAPACITY:
		return ERR_FULL;
	case KR_DECODE_SCHEMA:
	case KR_DECODE_RANGE:
	case KR_DECODE_SYMBOL:
	case KR_DECODE__COUNT:
		break;
	}
	return ERR_SCHEMA;
}

const char *kr_decode_reason_str(enum kr_decode_reason r)
{
	switch (r) {
	case KR_DECODE_JSON:
		return "json";
	case KR_DECODE_TOKENS:
		return "tokens";
	case KR_DECODE_SCHEMA:
		return "schema";
	case KR_DECODE_NUMBER:
		return "number";
	case KR_DECODE_RANGE:
		return "range";
	case KR_DECODE_SYMBOL:
		return "symbol";
	case KR_DECODE_CAPACITY:
		return "capacity";
	case KR_DECODE__COUNT:
		break;
	}
	return "?";
}

static int vfail(struct kr_decoder *d, struct err_info *info, enum kr_decode_reason reason,
		 const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* Formatting happens only here, on the error path. The clock is read only
 * here too, to pace the log; decoding itself never reads it. */
static int vfail(struct kr_decoder *d, struct err_info *info, enum kr_decode_reason reason,
		 const char *fmt, va_list ap)
{
	struct err_info local;
	struct err_info *ei = info ? info : &local;
	int code = reason_code(reason);

	d->stats.dropped[reason]++;
	ei->code = code;
	vsnprintf(ei->msg, sizeof(ei->msg), fmt, ap);
	if (log_ratelimit_ok(&d->rl, clock_mono_ns(), LOG_EVERY_NS))
		LOG_WARN("kraken", "frame dropped",
			 "reason=%s dropped=%llu suppressed=%llu detail=\"%s\"",
			 kr_decode_reason_str(reason), (unsigned long long)d->stats.dropped[reason],
			 (unsigned long long)d->rl.suppressed, ei->msg);
	return code;
}

int kr__fail(struct kr_decoder *d, struct err_info *info, enum kr_decode_reason reason,
	     const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(d, info, reason, fmt, ap);
	va_end(ap);
	return rc;
}

/* Up to 40 bytes of frame text, safe to quote in a message and a log field. */
static void excerpt(char *out, size_t cap, const char *s, size_t n)
{
	size_t i, k = 0, max = n > 40 ? 40 : n;

	for (i = 0; i < max && k + 4 < cap; i++) {
		char c = s[i];
		out[k++] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '\'') ? '?' : c;
	}
	if (max < n && k + 4 < cap) {
		out[k++] = '.';
		out[k++] = '.';
		out[k++] = '.';
	}
	out[k] = '\0';
}

void kr__excerpt(char *out, size_t cap, const struct kr_decoder *d, int i)
{
	excerpt(out, cap, d->js + d->tok[i].start, (size_t)kr__tlen(&d->tok[i]));
}

static const char *type_name(const jsmntok_t *t)
{
	switch (t->type) {
	case JSMN_OBJECT:
		return "object";
	case JSMN_ARRAY:
		return "array";
	case JSMN_STRING:
		return "string";
	case JSMN_PRIMITIVE:
		return "literal or number";
	case JSMN_UNDEFINED:
		break;
	}
	return "?";
}

int kr__fail_value(struct kr_decoder *d, struct err_info *info, enum kr__verr e, int i, int scale,
		   const char *what, ...)
{
	const jsmntok_t *t = &d->tok[i];
	char field[128], text[48];
	va_list ap;

	va_start(ap, what);
	vsnprintf(field, sizeof(field), what, ap);
	va_end(ap);
	kr__excerpt(text, sizeof(text), d, i);
	switch (e) {
	case KR__V_TEXT:
		return kr__fail(d, info, KR_DECODE_NUMBER, "%s: malformed value '%s'", field, text);
	case KR__V_RANGE:
		if (scale >= 0)
			return kr__fail(d, info, KR_DECODE_RANGE,
					"%s: %s has more than %d decimals or is out of range",
					field, text, scale);
		return kr__fail(d, info, KR_DECODE_RANGE, "%s: %s is out of range", field, text);
	case KR__V_TYPE:
	case KR__V_OK:
		break;
	}
	return kr__fail(d, info, KR_DECODE_SCHEMA, "%s: wrong type (%s)", field, type_name(t));
}

/* ---- tokens and values -------------------------------------------------- */

int kr__skip(const struct kr_decoder *d, int i)
{
	int pending = 1;

	while (pending > 0 && i < d->ntok) {
		pending += d->tok[i].size - 1;
		i++;
	}
	return i;
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number(const char *s, size_t n)
{
	size_t i = 0, st;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return false;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < n && digit(s[i]))
			i++;
	} else {
		return false;
	}
	if (i < n && s[i] == '.') {
		st = ++i;
		while (i < n && digit(s[i]))
			i++;
		if (i == st)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		st = i;
		while (i < n && digit(s[i]))
			i++;
		if (i == st)
			return false;
	}
	return i == n;
}

/* A bare word (true, false, null, or jsmn's lenient "trash") is not a number. */
static bool is_word(const char *js, const jsmntok_t *t)
{
	char c = js[t->start];

	return t->type == JSMN_PRIMITIVE && (c == 't' || c == 'f' || c == 'n');
}

/* Digits only, canonical (no sign, fraction, exponent or leading zero). */
static enum kr__verr digits_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (!json_number(s, n))
		return KR__V_TEXT;
	if (s[0] == '-')
		return KR__V_RANGE;
	for (size_t i = 0; i < n; i++) {
		unsigned dg;

		if (!digit(s[i]))
			return KR__V_TEXT; /* a fraction or exponent: not an integer */
		dg = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - dg) / 10)
			return KR__V_RANGE;
		v = v * 10 + dg;
	}
	*out = v;
	return KR__V_OK;
}

enum kr__verr kr__u64(const char *js, const jsmntok_t *t, uint64_t *out)
{
	if (t->type != JSMN_PRIMITIVE || t->size != 0 || is_word(js, t))
		return KR__V_TYPE;
	return digits_u64(js + t->start, (size_t)kr__tlen(t), out);
}

enum kr__verr kr__int_loose(const char *js, const jsmntok_t *t, int64_t *out)
{
	const char *s = js + t->start;
	size_t n = (size_t)kr__tlen(t);
	bool neg = n > 0 && s[0] == '-';
	uint64_t v;
	enum kr__verr e;

	if (!kr__scalar(t) || is_word(js, t))
		return KR__V_TYPE;
	e = digits_u64(s + neg, n - neg, &v);
	if (e == KR__V_OK && neg && n == 1)
		e = KR__V_TEXT;
	if (e != KR__V_OK)
		return e;
	if (v > (uint64_t)INT64_MAX)
		return KR__V_RANGE;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return KR__V_OK;
}

enum kr__verr kr__decimal(const char *js, const jsmntok_t *t, int scale, int64_t *out)
{
	const char *s = js + t->start;
	size_t n = (size_t)kr__tlen(t);
	int64_t v;
	int rc;

	if (!kr__scalar(t) || is_word(js, t))
		return KR__V_TYPE;
	/* fx_parse holds the text to JSON's number grammar. */
	rc = fx_parse(s, n, scale, &v);
	if (rc == ERR_RANGE)
		return KR__V_RANGE;
	if (rc != 0)
		return KR__V_TEXT;
	*out = v;
	return KR__V_OK;
}

enum kr__verr kr__bool(const char *js, const jsmntok_t *t, bool *out)
{
	if (t->type != JSMN_PRIMITIVE || t->size != 0)
		return KR__V_TYPE;
	if (KR__IS(js, t, "true"))
		*out = true;
	else if (KR__IS(js, t, "false"))
		*out = false;
	else
		return KR__V_TYPE;
	return KR__V_OK;
}

enum kr__verr kr__time(const char *js, const jsmntok_t *t, int64_t *out)
{
	int64_t ns;

	if (kr__string(t) != KR__V_OK)
		return KR__V_TYPE;
	if (clock_parse_rfc3339(js + t->start, (size_t)kr__tlen(t), &ns) != 0)
		return KR__V_TEXT;
	*out = ns;
	return KR__V_OK;
}

static struct kr_view view(const struct kr_decoder *d, int i)
{
	struct kr_view v = {NULL, 0};

	if (i >= 0) {
		v.p = d->js + d->tok[i].start;
		v.len = (size_t)kr__tlen(&d->tok[i]);
	}
	return v;
}

/* Finds the values of names in the object at obj: idx[k] is the value's
 * token or -1. A malformed or repeated key fails the frame. */
static int lookup(struct kr_decoder *d, int obj, const struct name *names, int n, int *idx,
		  struct err_info *info, const char *ctx)
{
	const jsmntok_t *t = d->tok;
	int i = obj + 1, nk = t[obj].size;

	for (int k = 0; k < n; k++)
		idx[k] = -1;
	for (int k = 0; k < nk; k++) {
		if (!kr__key(d, i))
			return kr__fail(d, info, KR_DECODE_JSON, "%s: malformed key", ctx);
		for (int m = 0; m < n; m++) {
			if (!kr__is(d->js, &t[i], names[m].s, names[m].len))
				continue;
			if (idx[m] >= 0)
				return kr__fail(d, info, KR_DECODE_SCHEMA, "%s: duplicate key '%s'",
						ctx, names[m].s);
			idx[m] = i + 1;
			break;
		}
		i = kr__skip(d, i + 1);
	}
	return 0;
}

/* ---- small messages ----------------------------------------------------- */

static enum kr_system_status system_status(const char *s, size_t n)
{
	static const struct name names[] = {NAME("online"), NAME("maintenance"),
					    NAME("cancel_only"), NAME("post_only")};
	static const enum kr_system_status values[] = {KR_SYSTEM_ONLINE, KR_SYSTEM_MAINTENANCE,
						       KR_SYSTEM_CANCEL_ONLY, KR_SYSTEM_POST_ONLY};

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (names[k].len == n && memcmp(names[k].s, s, n) == 0)
			return values[k];
	return KR_SYSTEM_UNKNOWN;
}

static int decode_status(struct kr_decoder *d, int data, struct kr_event *ev, struct err_info *info)
{
	static const struct name names[] = {NAME("system"), NAME("connection_id"),
					    NAME("api_version"), NAME("version")};
	const jsmntok_t *t = d->tok;
	struct kr_status_event *st = &ev->status;
	int idx[4], rc, o = data + 1;
	enum kr__verr e;

	if (data < 0)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "status: missing data");
	if (t[data].type != JSMN_ARRAY || t[data].size < 1)
		return kr__fail(d, info, KR_DECODE_SCHEMA,
				"status data: expected a non-empty array");
	if (t[o].type != JSMN_OBJECT)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "status data[0]: expected an object");
	rc = lookup(d, o, names, 4, idx, info, "status data[0]");
	if (rc)
		return rc;
	if (idx[0] < 0)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "status data[0]: missing system");
	if (kr__string(&t[idx[0]]) != KR__V_OK)
		return kr__fail_value(d, info, KR__V_TYPE, idx[0], -1, "status system");
	st->system_text = view(d, idx[0]);
	st->system = system_status(st->system_text.p, st->system_text.len);
	st->has_connection_id = idx[1] >= 0;
	st->connection_id = 0;
	if (idx[1] >= 0) {
		e = kr__u64(d->js, &t[idx[1]], &st->connection_id);
		if (e)
			return kr__fail_value(d, info, e, idx[1], -1, "status connection_id");
	}
	for (int k = 2; k < 4; k++)
		if (idx[k] >= 0 && kr__string(&t[idx[k]]) != KR__V_OK)
			return kr__fail_value(d, info, KR__V_TYPE, idx[k], -1, "status %s",
					      names[k].s);
	st->api_version = view(d, idx[2]);
	st->version = view(d, idx[3]);
	if (st->system == KR_SYSTEM_UNKNOWN)
		d->stats.unknown_enum++;
	ev->kind = KR_EV_STATUS;
	return 0;
}

/* Root keys, in the order of the ROOT_* indices. */
static const struct name root_names[] = {
    NAME("channel"), NAME("method"),  NAME("type"),	NAME("data"),
    NAME("success"), NAME("error"),   NAME("req_id"),	NAME("result"),
    NAME("symbol"),  NAME("time_in"), NAME("time_out"),
};
enum {
	ROOT_CHANNEL,
	ROOT_METHOD,
	ROOT_TYPE,
	ROOT_DATA,
	ROOT_SUCCESS,
	ROOT_ERROR,
	ROOT_REQ_ID,
	ROOT_RESULT,
	ROOT_SYMBOL,
	ROOT_TIME_IN,
	ROOT_TIME_OUT,
	ROOT__COUNT
};

/* The reply fields every method response may carry: success, error, req_id,
 * time_in, time_out. success defaults to true. */
struct reply {
	bool success;
	bool has_success;
	struct kr_view error;
	bool has_req_id;
	uint64_t req_id;
	int64_t time_in_ns, time_out_ns;
};

static int decode_reply(struct kr_decoder *d, const int *root, const char *ctx, struct reply *r,
			struct err_info *info)
{
	const jsmntok_t *t = d->tok;
	enum kr__verr e;

	r->success = true;
	r->has_success = root[ROOT_SUCCESS] >= 0;
	if (r->has_success) {
		e = kr__bool(d->js, &t[root[ROOT_SUCCESS]], &r->success);
		if (e)
			return kr__fail_value(d, info, e, root[ROOT_SUCCESS], -1, "%s success",
					      ctx);
	}
	if (root[ROOT_ERROR] >= 0 && kr__string(&t[root[ROOT_ERROR]]) != KR__V_OK)
		return kr__fail_value(d, info, KR__V_TYPE, root[ROOT_ERROR], -1, "%s error", ctx);
	r->error = view(d, root[ROOT_ERROR]);
	r->has_req_id = root[ROOT_REQ_ID] >= 0;
	r->req_id = 0;
	if (r->has_req_id) {
		e = kr__u64(d->js, &t[root[ROOT_REQ_ID]], &r->req_id);
		if (e)
			return kr__fail_value(d, info, e, root[ROOT_REQ_ID], -1, "%s req_id", ctx);
	}
	r->time_in_ns = 0;
	r->time_out_ns = 0;
	if (root[ROOT_TIME_IN] >= 0) {
		e = kr__time(d->js, &t[root[ROOT_TIME_IN]], &r->time_in_ns);
		if (e)
			return kr__fail_value(d, info, e, root[ROOT_TIME_IN], -1, "%s time_in",
					      ctx);
	}
	if (root[ROOT_TIME_OUT] >= 0) {
		e = kr__time(d->js, &t[root[ROOT_TIME_OUT]], &r->time_out_ns);
		if (e)
			return kr__fail_value(d, info, e, root[ROOT_TIME_OUT], -1, "%s time_out",
					      ctx);
	}
	return 0;
}

static int decode_pong(struct kr_decoder *d, const int *root, struct kr_event *ev,
		       struct err_info *info)
{
	struct reply r;
	int rc = decode_reply(d, root, "pong", &r, info);

	if (rc)
		return rc;
	ev->pong.has_req_id = r.has_req_id;
	ev->pong.req_id = r.req_id;
	ev->pong.success = r.success;
	ev->pong.error = r.error;
	ev->pong.time_in_ns = r.time_in_ns;
	ev->pong.time_out_ns = r.time_out_ns;
	ev->kind = KR_EV_PONG;
	return 0;
}

static int decode_ack(struct kr_decoder *d, const int *root, bool sub, struct kr_event *ev,
		      struct err_info *info)
{
	static const struct name names[] = {NAME("channel"), NAME("symbol"), NAME("depth"),
					    NAME("snapshot"), NAME("warnings")};
	const char *ctx = sub ? "subscribe" : "unsubscribe";
	const jsmntok_t *t = d->tok;
	struct kr_ack_event *a = &ev->ack;
	int idx[5] = {-1, -1, -1, -1, -1}, res = root[ROOT_RESULT], sym, rc;
	struct reply r;
	enum kr__verr e;

	rc = decode_reply(d, root, ctx, &r, info);
	if (rc)
		return rc;
	if (!r.has_success)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "%s: missing success", ctx);
	if (!r.success && !r.error.p)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "%s: failure without error", ctx);
	if (res >= 0) {
		if (t[res].type != JSMN_OBJECT)
			return kr__fail_value(d, info, KR__V_TYPE, res, -1, "%s result", ctx);
		rc = lookup(d, res, names, 5, idx, info,
			    sub ? "subscribe result" : "unsubscribe result");
		if (rc)
			return rc;
	} else if (r.success) {
		return kr__fail(d, info, KR_DECODE_SCHEMA, "%s: missing result", ctx);
	}
	if (r.success && idx[0] < 0)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "%s result: missing channel", ctx);
	if (idx[0] >= 0 && kr__string(&t[idx[0]]) != KR__V_OK)
		return kr__fail_value(d, info, KR__V_TYPE, idx[0], -1, "%s result.channel", ctx);
	sym = idx[1] >= 0 ? idx[1] : root[ROOT_SYMBOL];
	if (sym >= 0 && kr__string(&t[sym]) != KR__V_OK)
		return kr__fail_value(d, info, KR__V_TYPE, sym, -1, "%s symbol", ctx);
	a->depth = 0;
	if (idx[2] >= 0) {
		uint64_t v;

		e = kr__u64(d->js, &t[idx[2]], &v);
		if (e == KR__V_OK && v > UINT32_MAX)
			e = KR__V_RANGE;
		if (e)
			return kr__fail_value(d, info, e, idx[2], -1, "%s result.depth", ctx);
		a->depth = (uint32_t)v;
	}
	a->snapshot = false;
	if (idx[3] >= 0) {
		e = kr__bool(d->js, &t[idx[3]], &a->snapshot);
		if (e)
			return kr__fail_value(d, info, e, idx[3], -1, "%s result.snapshot", ctx);
	}
	a->n_warnings = 0;
	if (idx[4] >= 0) {
		if (t[idx[4]].type != JSMN_ARRAY)
			return kr__fail_value(d, info, KR__V_TYPE, idx[4], -1, "%s result.warnings",
					      ctx);
		a->n_warnings = (uint32_t)t[idx[4]].size;
	}
	a->success = r.success;
	a->error = r.error;
	a->channel_text = view(d, idx[0]);
	a->channel = KR_CHANNEL_OTHER;
	if (idx[0] >= 0 && KR__IS(d->js, &t[idx[0]], "book"))
		a->channel = KR_CHANNEL_BOOK;
	else if (idx[0] >= 0 && KR__IS(d->js, &t[idx[0]], "instrument"))
		a->channel = KR_CHANNEL_INSTRUMENT;
	a->symbol = view(d, sym);
	a->pair_id = sym >= 0 ? kr__find(d, a->symbol.p, a->symbol.len) : KR_PAIR_NONE;
	a->has_req_id = r.has_req_id;
	a->req_id = r.req_id;
	a->time_in_ns = r.time_in_ns;
	a->time_out_ns = r.time_out_ns;
	ev->kind = sub ? KR_EV_SUBSCRIBE : KR_EV_UNSUBSCRIBE;
	return 0;
}

static int decode_method(struct kr_decoder *d, const int *root, struct kr_event *ev,
			 struct err_info *info)
{
	const jsmntok_t *m = &d->tok[root[ROOT_METHOD]];
	struct reply r;
	int rc;

	if (kr__string(m) != KR__V_OK)
		return kr__fail_value(d, info, KR__V_TYPE, root[ROOT_METHOD], -1, "method");
	if (KR__IS(d->js, m, "pong"))
		return decode_pong(d, root, ev, info);
	if (KR__IS(d->js, m, "subscribe"))
		return decode_ack(d, root, true, ev, info);
	if (KR__IS(d->js, m, "unsubscribe"))
		return decode_ack(d, root, false, ev, info);
	rc = decode_reply(d, root, "reply", &r, info);
	if (rc)
		return rc;
	if (!r.success || r.error.p) {
		ev->error.method = view(d, root[ROOT_METHOD]);
		ev->error.error = r.error;
		ev->error.has_req_id = r.has_req_id;
		ev->error.req_id = r.req_id;
		ev->kind = KR_EV_ERROR;
		return 0;
	}
	ev->unknown.channel = view(d, -1);
	ev->unknown.method = view(d, root[ROOT_METHOD]);
	ev->kind = KR_EV_UNKNOWN;
	return 0;
}

static int decode_channel(struct kr_decoder *d, const int *root, struct kr_event *ev,
			  struct err_info *info)
{
	const jsmntok_t *c = &d->tok[root[ROOT_CHANNEL]];

	if (kr__string(c) != KR__V_OK)
		return kr__fail_value(d, info, KR__V_TYPE, root[ROOT_CHANNEL], -1, "channel");
	if (KR__IS(d->js, c, "book"))
		return kr__decode_book(d, root[ROOT_TYPE], root[ROOT_DATA], ev, info);
	if (KR__IS(d->js, c, "heartbeat")) {
		ev->kind = KR_EV_HEARTBEAT;
		return 0;
	}
	if (KR__IS(d->js, c, "status"))
		return decode_status(d, root[ROOT_DATA], ev, info);
	if (KR__IS(d->js, c, "instrument"))
		return kr__decode_instrument(d, root[ROOT_TYPE], root[ROOT_DATA], ev, info);
	ev->unknown.channel = view(d, root[ROOT_CHANNEL]);
	ev->unknown.method = view(d, -1);
	ev->kind = KR_EV_UNKNOWN;
	return 0;
}

/* jsmn closes a container by walking parent links up from the last token,
 * so k nested closing brackets cost k*k/2 steps: 100 KB of brackets would
 * hold the thread for seconds. Nesting deeper than KR_MAX_NESTING is refused
 * for every frame. Frames up to PRESCAN_MIN bytes (book updates) are checked
 * after tokenizing, in tree_ok, since their worst case is a few tens of
 * microseconds. Longer frames are checked before: nesting cannot be deeper
 * than the count of '[' and '{' bytes, which is cheap to take, and only a
 * frame with more of them than the limit needs the exact, string-aware scan. */
#define PRESCAN_MIN 512

static size_t count_openers(const char *s, size_t n, size_t stop)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7full, ones = 0x0101010101010101ull;
	size_t i = 0, total = 0;

	for (; i + 8 <= n && total <= stop; i += 8) {
		uint64_t w, z;

		memcpy(&w, s + i, 8);
		/* '[' | 0x20 == '{': a byte of w is an opener when it is 0 here. */
		w = (w | 0x2020202020202020ull) ^ 0x7b7b7b7b7b7b7b7bull;
		z = ~(((w & low7) + low7) | w | low7); /* 0x80 in each zero byte */
		total += (size_t)(((z >> 7) * ones) >> 56);
	}
	for (; i < n; i++)
		total += ((unsigned char)s[i] | 0x20) == '{';
	return total;
}

static bool nesting_ok(const char *s, size_t n)
{
	int depth = 0;

	if (n <= PRESCAN_MIN || count_openers(s, n, KR_MAX_NESTING) <= KR_MAX_NESTING)
		return true;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
		} else if (c == '[' || c == '{') {
			if (++depth > KR_MAX_NESTING)
				return false;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return true;
}

/* jsmn's strict mode still builds a tree from some invalid text: a key
 * without a value, "a":"b":1 (1 becomes a child of "b"), a second top-level
 * value. One pass over the parent links checks the shape JSON allows: object
 * members are string keys with one value each, scalars have no children. */
static int tree_ok(struct kr_decoder *d)
{
	const jsmntok_t *t = d->tok;
	uint8_t *depth = d->depth;

	/* depth: the containers open at a token, itself included, as the
	 * pre-scan counts them. */
	depth[0] = 1;
	for (int i = 1; i < d->ntok; i++) {
		int p = t[i].parent;

		if (p < 0)
			return KR_DECODE_JSON;
		depth[i] =
		    (uint8_t)(depth[p] + (t[i].type == JSMN_OBJECT || t[i].type == JSMN_ARRAY));
		if (depth[i] > KR_MAX_NESTING)
			return KR_DECODE_CAPACITY;
		switch (t[p].type) {
		case JSMN_OBJECT:
			if (t[i].type != JSMN_STRING || t[i].size != 1)
				return false;
			break;
		case JSMN_ARRAY:
			break;
		case JSMN_STRING:
			if (t[p].parent < 0 || t[t[p].parent].type != JSMN_OBJECT)
				return false;
			break;
		case JSMN_PRIMITIVE:
		case JSMN_UNDEFINED:
			return KR_DECODE_JSON;
		}
	}
	return -1;
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int decode(struct kr_decoder *d, const char *frame, size_t len, struct kr_event *ev,
		  struct err_info *info)
{
	int root[ROOT__COUNT], n, rc;
	jsmn_parser p;
	size_t end;

	if (len == 0)
		return kr__fail(d, info, KR_DECODE_JSON, "empty frame");
	if (len > MAX_FRAME)
		return kr__fail(d, info, KR_DECODE_CAPACITY, "frame of %zu bytes too large", len);
	if (!nesting_ok(frame, len))
		return kr__fail(d, info, KR_DECODE_CAPACITY, "JSON nested deeper than %d",
				KR_MAX_NESTING);
	jsmn_init(&p);
	n = jsmn_parse(&p, frame, len, d->tok, d->cap_tok);
	if (n == JSMN_ERROR_NOMEM)
		return kr__fail(d, info, KR_DECODE_TOKENS, "more than %u JSON tokens", d->cap_tok);
	if (n == JSMN_ERROR_PART)
		return kr__fail(d, info, KR_DECODE_JSON, "truncated JSON (%zu bytes)", len);
	if (n < 0)
		return kr__fail(d, info, KR_DECODE_JSON, "invalid JSON at byte %u", p.pos);
	d->ntok = (int)p.toknext;
	if (d->ntok == 0)
		return kr__fail(d, info, KR_DECODE_JSON, "no JSON value");
	if (d->tok[0].type != JSMN_OBJECT)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "frame: expected an object, got %s",
				type_name(&d->tok[0]));
	/* jsmn stops at a NUL and accepts several values in a row: the object
	 * must be followed by nothing but whitespace. */
	end = (size_t)d->tok[0].end;
	while (end < len && space(frame[end]))
		end++;
	if (end != len)
		return kr__fail(d, info, KR_DECODE_JSON, "bytes after the JSON value at byte %zu",
				end);
	/* jsmn also skips a stray ':' before the first value. */
	for (size_t i = 0; i < (size_t)d->tok[0].start; i++)
		if (!space(frame[i]))
			return kr__fail(d, info, KR_DECODE_JSON,
					"bytes before the JSON value at byte %zu", i);
	rc = tree_ok(d);
	if (rc == KR_DECODE_JSON)
		return kr__fail(d, info, KR_DECODE_JSON, "invalid JSON structure");
	if (rc == KR_DECODE_CAPACITY)
		return kr__fail(d, info, KR_DECODE_CAPACITY, "JSON nested deeper than %d",
				KR_MAX_NESTING);
	rc = lookup(d, 0, root_names, ROOT__COUNT, root, info, "frame");
	if (rc)
		return rc;
	if (root[ROOT_CHANNEL] >= 0)
		return decode_channel(d, root, ev, info);
	if (root[ROOT_METHOD] >= 0)
		return decode_method(d, root, ev, info);
	if (root[ROOT_ERROR] >= 0) {
		struct reply r;

		rc = decode_reply(d, root, "error reply", &r, info);
		if (rc)
			return rc;
		ev->error.method = view(d, -1);
		ev->error.error = r.error;
		ev->error.has_req_id = r.has_req_id;
		ev->error.req_id = r.req_id;
		ev->kind = KR_EV_ERROR;
		return 0;
	}
	return kr__fail(d, info, KR_DECODE_SCHEMA, "frame: no channel, method or error");
}

int kr_decode(struct kr_decoder *d, const char *frame, size_t len, struct kr_event *ev,
	      struct err_info *info)
{
	int rc;

	d->stats.frames++;
	d->js = frame;
	d->ntok = 0;
	ev->kind = KR_EV_NONE;
	/* Book messages in Kraken's own layout skip jsmn (codec_fast.c); any
	 * other frame, and any the fast path doubts, takes the general path. */
	if (kr__decode_book_fast(d, frame, len, ev)) {
		d->stats.decoded++;
		return 0;
	}
	rc = decode(d, frame, len, ev, info);
	if (rc) {
		ev->kind = KR_EV_NONE;
		return rc;
	}
	d->stats.decoded++;
	if (ev->kind == KR_EV_UNKNOWN)
		d->stats.unknown++;
	return 0;
}

/* ---- names -------------------------------------------------------------- */

const char *kr_event_kind_str(enum kr_event_kind k)
{
	static const char *const names[] = {"none",	 "status",	"heartbeat", "pong",
					    "subscribe", "unsubscribe", "book",	     "instrument",
					    "error",	 "unknown"};

	if ((unsigned)k < sizeof(names) / sizeof(names[0]))
		return names[k];
	return "?";
}

const char *kr_system_status_str(enum kr_system_status s)
{
	static const char *const names[] = {"unknown", "online", "maintenance", "cancel_only",
					    "post_only"};

	if ((unsigned)s < sizeof(names) / sizeof(names[0]))
		return names[s];
	return "?";
}

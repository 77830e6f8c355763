/* The private WS v2 codec (kraken/private.h): executions, balances and
 * method replies in, trading requests out. Tokens and entries live in arrays
 * sized at kr_priv_decoder_new; a frame only fills them. */
#include "kraken/rest_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/fixed.h"
#include "kraken/private.h"

struct kr_priv_decoder {
	jsmntok_t *tok;
	size_t cap_tok;
	struct kr_priv_exec *exec;
	struct kr_priv_balance *bal;
	size_t cap_ent;
};

struct kr_priv_decoder *kr_priv_decoder_new(size_t max_tokens, size_t max_entries)
{
	struct kr_priv_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cap_tok = max_tokens ? max_tokens : KR_PRIV_TOKENS;
	d->cap_ent = max_entries ? max_entries : KR_PRIV_ENTRIES;
	d->tok = calloc(d->cap_tok, sizeof(*d->tok));
	d->exec = calloc(d->cap_ent, sizeof(*d->exec));
	d->bal = calloc(d->cap_ent, sizeof(*d->bal));
	if (!d->tok || !d->exec || !d->bal) {
		kr_priv_decoder_free(d);
		return NULL;
	}
	return d;
}

void kr_priv_decoder_free(struct kr_priv_decoder *d)
{
	if (!d)
		return;
	free(d->tok);
	free(d->exec);
	free(d->bal);
	free(d);
}

const char *kr_exec_type_str(enum kr_exec_type t)
{
	static const char *const n[] = {"other",  "pending_new", "new",	   "trade",
					"filled", "canceled",	 "expired"};
	return (unsigned)t < sizeof(n) / sizeof(n[0]) ? n[t] : "other";
}

const char *kr_ord_status_str(enum kr_ord_status s)
{
	static const char *const n[] = {"",	  "pending_new", "new",	   "partially_filled",
					"filled", "canceled",	 "expired"};
	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "";
}

static enum kr_exec_type exec_type(const struct kr__js *j, int i)
{
	for (int k = 1; k <= KR_EXEC_EXPIRED; k++)
		if (kr__js_eq(j, i, kr_exec_type_str((enum kr_exec_type)k)))
			return (enum kr_exec_type)k;
	return KR_EXEC_OTHER;
}

static enum kr_ord_status ord_status(const struct kr__js *j, int i)
{
	for (int k = 1; k <= KR_ORD_EXPIRED; k++)
		if (kr__js_eq(j, i, kr_ord_status_str((enum kr_ord_status)k)))
			return (enum kr_ord_status)k;
	return KR_ORD_NONE;
}

/* A string field copied, with characters unsafe to quote again replaced;
 * absent leaves out "". ERR_SCHEMA when present but not a string or too long. */
static int str_field(const struct kr__js *j, int obj, const char *key, char *out, size_t cap,
		     struct err_info *info, const char *ctx)
{
	int i = kr__js_get(j, obj, key);

	out[0] = '\0';
	if (i < 0)
		return 0;
	if (j->t[i].type != JSMN_STRING || kr__js_str(j, i, out, cap) != 0)
		return err_set(info, ERR_SCHEMA, "%s: %s is not a string of at most %zu bytes", ctx,
			       key, cap - 1);
	for (char *p = out; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			*p = '?';
	return 0;
}

static int dec_field(const struct kr__js *j, int obj, const char *key, bool *has,
		     struct kr_dec *out, struct err_info *info, const char *ctx)
{
	int i = kr__js_get(j, obj, key);

	*has = false;
	if (i < 0)
		return 0;
	if (j->t[i].type != JSMN_PRIMITIVE || kr__js_dec(j, i, out) != 0)
		return err_set(info, ERR_SCHEMA, "%s: %s is not a decimal number", ctx, key);
	*has = true;
	return 0;
}

static int time_field(const struct kr__js *j, int obj, const char *key, int64_t *out,
		      struct err_info *info, const char *ctx)
{
	int i = kr__js_get(j, obj, key);

	*out = 0;
	/* Kraken writes "0" for a disarmed dead man's switch (triggerTime). */
	if (i < 0 || kr__js_eq(j, i, "0"))
		return 0;
	if (j->t[i].type != JSMN_STRING ||
	    clock_parse_rfc3339(j->s + j->t[i].start, (size_t)(j->t[i].end - j->t[i].start), out) !=
		0)
		return err_set(info, ERR_SCHEMA, "%s: %s is not an RFC3339 time", ctx, key);
	return 0;
}

static int int_field(const struct kr__js *j, int obj, const char *key, bool *has, int64_t *out,
		     struct err_info *info, const char *ctx)
{
	int i = kr__js_get(j, obj, key);

	*has = false;
	if (i < 0)
		return 0;
	if (j->t[i].type != JSMN_PRIMITIVE || kr__js_int(j, i, out) != 0)
		return err_set(info, ERR_SCHEMA, "%s: %s is not an integer", ctx, key);
	*has = true;
	return 0;
}

/* fees: [{"asset":"USD","qty":0.3458}, ...]: the qtys summed (one asset). */
static int fees(const struct kr__js *j, int obj, struct kr_priv_exec *e, struct err_info *info)
{
	int a = kr__js_get(j, obj, "fees");
	bool has;

	if (a < 0)
		return 0;
	if (j->t[a].type != JSMN_ARRAY)
		return err_set(info, ERR_SCHEMA, "executions: fees is not an array");
	e->fee = (struct kr_dec){0, 0};
	for (int k = 0, i = a + 1; k < j->t[a].size; k++, i = kr__js_skip(j, i)) {
		struct kr_dec q;
		char asset[KR_ASSET_MAX];
		int64_t x, y;

		if (j->t[i].type != JSMN_OBJECT)
			return err_set(info, ERR_SCHEMA, "executions: fees[%d] is not an object",
				       k);
		if (str_field(j, i, "asset", asset, sizeof(asset), info, "executions fees") ||
		    dec_field(j, i, "qty", &has, &q, info, "executions fees"))
			return ERR_SCHEMA;
		if (!has || !asset[0])
			return err_set(info, ERR_SCHEMA, "executions: fees[%d] lacks asset or qty",
				       k);
		if (e->fee_asset[0] && strcmp(e->fee_asset, asset) != 0)
			return err_set(info, ERR_SCHEMA, "executions: fees in two assets (%s, %s)",
				       e->fee_asset, asset);
		memcpy(e->fee_asset, asset, sizeof(asset));
		int sc = q.scale > e->fee.scale ? q.scale : e->fee.scale;
		if (kr_dec_to_scale(q, sc, &x) || kr_dec_to_scale(e->fee, sc, &y) ||
		    __builtin_add_overflow(x, y, &e->fee.v))
			return err_set(info, ERR_SCHEMA, "executions: fees out of range");
		e->fee.scale = sc;
		e->has_fee = true;
	}
	return 0;
}

static int one_exec(const struct kr__js *j, int o, struct kr_priv_exec *e, struct err_info *info)
{
	static const char *ctx = "executions";
	char side[8];
	int i;

	memset(e, 0, sizeof(*e));
	if (j->t[o].type != JSMN_OBJECT)
		return err_set(info, ERR_SCHEMA, "executions: data entry is not an object");
	i = kr__js_get(j, o, "exec_type");
	if (i < 0 || j->t[i].type != JSMN_STRING)
		return err_set(info, ERR_SCHEMA, "executions: exec_type missing");
	e->exec_type = exec_type(j, i);
	i = kr__js_get(j, o, "order_status");
	if (i >= 0)
		e->order_status = ord_status(j, i);
	if (str_field(j, o, "order_id", e->order_id, sizeof(e->order_id), info, ctx) ||
	    str_field(j, o, "cl_ord_id", e->cl_ord_id, sizeof(e->cl_ord_id), info, ctx) ||
	    str_field(j, o, "symbol", e->symbol, sizeof(e->symbol), info, ctx) ||
	    str_field(j, o, "side", side, sizeof(side), info, ctx) ||
	    str_field(j, o, "order_type", e->order_type, sizeof(e->order_type), info, ctx) ||
	    str_field(j, o, "time_in_force", e->time_in_force, sizeof(e->time_in_force), info,
		      ctx) ||
	    str_field(j, o, "exec_id", e->exec_id, sizeof(e->exec_id), info, ctx) ||
	    str_field(j, o, "reason", e->reason, sizeof(e->reason), info, ctx) ||
	    int_field(j, o, "order_userref", &e->has_userref, &e->order_userref, info, ctx) ||
	    dec_field(j, o, "order_qty", &e->has_order_qty, &e->order_qty, info, ctx) ||
	    dec_field(j, o, "limit_price", &e->has_limit_price, &e->limit_price, info, ctx) ||
	    dec_field(j, o, "cum_qty", &e->has_cum_qty, &e->cum_qty, info, ctx) ||
	    dec_field(j, o, "cum_cost", &e->has_cum_cost, &e->cum_cost, info, ctx) ||
	    dec_field(j, o, "avg_price", &e->has_avg_price, &e->avg_price, info, ctx) ||
	    dec_field(j, o, "last_qty", &e->has_last_qty, &e->last_qty, info, ctx) ||
	    dec_field(j, o, "last_price", &e->has_last_price, &e->last_price, info, ctx) ||
	    time_field(j, o, "timestamp", &e->timestamp_ns, info, ctx) || fees(j, o, e, info))
		return ERR_SCHEMA;
	if (!e->order_id[0])
		return err_set(info, ERR_SCHEMA, "executions: order_id missing");
	e->side = strcmp(side, "buy") == 0 ? 'b' : strcmp(side, "sell") == 0 ? 's' : 0;
	if (side[0] && !e->side)
		return err_set(info, ERR_SCHEMA, "executions: side %s is not buy or sell", side);
	return 0;
}

static int one_balance(const struct kr__js *j, int o, bool snapshot, struct kr_priv_balance *b,
		       struct err_info *info)
{
	static const char *ctx = "balances";
	bool has;

	memset(b, 0, sizeof(*b));
	if (j->t[o].type != JSMN_OBJECT)
		return err_set(info, ERR_SCHEMA, "balances: data entry is not an object");
	if (str_field(j, o, "asset", b->asset, sizeof(b->asset), info, ctx) ||
	    dec_field(j, o, "balance", &has, &b->balance, info, ctx))
		return ERR_SCHEMA;
	if (!b->asset[0] || !has)
		return err_set(info, ERR_SCHEMA, "balances: asset or balance missing");
	if (snapshot)
		return 0;
	if (dec_field(j, o, "amount", &b->has_amount, &b->amount, info, ctx) ||
	    dec_field(j, o, "fee", &has, &b->fee, info, ctx) ||
	    str_field(j, o, "type", b->type, sizeof(b->type), info, ctx) ||
	    str_field(j, o, "ref_id", b->ref_id, sizeof(b->ref_id), info, ctx))
		return ERR_SCHEMA;
	return 0;
}

static int one_result(const struct kr__js *j, int o, struct kr_priv_result *r,
		      struct err_info *info)
{
	memset(r, 0, sizeof(*r));
	if (j->t[o].type != JSMN_OBJECT)
		return err_set(info, ERR_SCHEMA, "reply: result entry is not an object");
	if (str_field(j, o, "order_id", r->order_id, sizeof(r->order_id), info, "reply") ||
	    str_field(j, o, "cl_ord_id", r->cl_ord_id, sizeof(r->cl_ord_id), info, "reply") ||
	    int_field(j, o, "order_userref", &r->has_userref, &r->order_userref, info, "reply"))
		return ERR_SCHEMA;
	return 0;
}

static int reply(const struct kr__js *j, struct kr_priv_reply *r, struct err_info *info)
{
	int i, res;
	int64_t v;

	memset(r, 0, sizeof(*r));
	if (str_field(j, 0, "method", r->method, sizeof(r->method), info, "reply"))
		return ERR_SCHEMA;
	i = kr__js_get(j, 0, "success");
	r->success = i >= 0 ? kr__js_eq(j, i, "true") : strcmp(r->method, "pong") == 0;
	if (str_field(j, 0, "error", r->error, sizeof(r->error), info, "reply") ||
	    int_field(j, 0, "req_id", &r->has_req_id, &v, info, "reply") ||
	    time_field(j, 0, "time_in", &r->time_in_ns, info, "reply") ||
	    time_field(j, 0, "time_out", &r->time_out_ns, info, "reply"))
		return ERR_SCHEMA;
	if (r->has_req_id) {
		if (v < 0)
			return err_set(info, ERR_SCHEMA, "reply: req_id is negative");
		r->req_id = (uint64_t)v;
	}
	if (!r->success && !r->error[0])
		snprintf(r->error, sizeof(r->error), "unknown error");
	res = kr__js_get(j, 0, "result");
	if (res < 0)
		return 0;
	if (j->t[res].type == JSMN_ARRAY) {
		for (int k = 0, e = res + 1; k < j->t[res].size; k++, e = kr__js_skip(j, e)) {
			if (r->n_results == KR_PRIV_BATCH_MAX)
				return err_set(info, ERR_SCHEMA, "reply: more than %d results",
					       KR_PRIV_BATCH_MAX);
			if (one_result(j, e, &r->results[r->n_results++], info))
				return ERR_SCHEMA;
		}
		return 0;
	}
	if (j->t[res].type != JSMN_OBJECT)
		return err_set(info, ERR_SCHEMA, "reply: result is not an object");
	if (str_field(j, res, "channel", r->channel, sizeof(r->channel), info, "reply") ||
	    int_field(j, res, "count", &r->has_count, &r->count, info, "reply") ||
	    time_field(j, res, "currentTime", &r->current_ns, info, "reply") ||
	    time_field(j, res, "triggerTime", &r->trigger_ns, info, "reply"))
		return ERR_SCHEMA;
	if (kr__js_get(j, res, "order_id") >= 0 || kr__js_get(j, res, "cl_ord_id") >= 0) {
		if (one_result(j, res, &r->results[0], info))
			return ERR_SCHEMA;
		r->n_results = 1;
	}
	return 0;
}

static enum kr_system_status system_status(const struct kr__js *j, int data)
{
	static const struct {
		const char *s;
		enum kr_system_status v;
	} m[] = {{"online", KR_SYSTEM_ONLINE},
		 {"maintenance", KR_SYSTEM_MAINTENANCE},
		 {"cancel_only", KR_SYSTEM_CANCEL_ONLY},
		 {"post_only", KR_SYSTEM_POST_ONLY}};
	int e = data >= 0 && j->t[data].type == JSMN_ARRAY && j->t[data].size > 0 ? data + 1 : -1;
	int s = kr__js_get(j, e, "system");

	for (size_t k = 0; s >= 0 && k < sizeof(m) / sizeof(m[0]); k++)
		if (kr__js_eq(j, s, m[k].s))
			return m[k].v;
	return KR_SYSTEM_UNKNOWN;
}

int kr_priv_decode(struct kr_priv_decoder *d, const char *frame, size_t len,
		   struct kr_priv_msg *out, struct err_info *info)
{
	struct kr__js j = {.s = frame, .t = d->tok};
	jsmn_parser p;
	int ch, data, ty, sq, rc = 0;

	memset(out, 0, sizeof(*out));
	jsmn_init(&p);
	j.n = jsmn_parse(&p, frame, len, d->tok, (unsigned)d->cap_tok);
	if (j.n <= 0 || d->tok[0].type != JSMN_OBJECT)
		return err_set(info, ERR_PARSE, "private frame: not a JSON object (%d)", j.n);
	ch = kr__js_get(&j, 0, "channel");
	if (ch < 0) {
		if (kr__js_get(&j, 0, "method") < 0)
			return err_set(info, ERR_SCHEMA,
				       "private frame: neither channel nor method");
		out->kind = KR_PRIV_REPLY;
		return reply(&j, &out->reply, info);
	}
	data = kr__js_get(&j, 0, "data");
	ty = kr__js_get(&j, 0, "type");
	out->snapshot = kr__js_eq(&j, ty, "snapshot");
	sq = kr__js_get(&j, 0, "sequence");
	if (sq >= 0) {
		int64_t v;
		if (kr__js_int(&j, sq, &v) != 0 || v < 0)
			return err_set(info, ERR_SCHEMA,
				       "private frame: sequence is not an integer");
		out->has_sequence = true;
		out->sequence = (uint64_t)v;
	}
	if (kr__js_eq(&j, ch, "heartbeat")) {
		out->kind = KR_PRIV_HEARTBEAT;
		return 0;
	}
	if (kr__js_eq(&j, ch, "status")) {
		out->kind = KR_PRIV_STATUS;
		out->system = system_status(&j, data);
		return 0;
	}
	bool ex = kr__js_eq(&j, ch, "executions"), bal = kr__js_eq(&j, ch, "balances");
	if (!ex && !bal) {
		out->kind = KR_PRIV_OTHER;
		return 0;
	}
	out->kind = ex ? KR_PRIV_EXECUTIONS : KR_PRIV_BALANCES;
	if (data < 0 || d->tok[data].type != JSMN_ARRAY)
		return err_set(info, ERR_SCHEMA, "%s: data is not an array",
			       ex ? "executions" : "balances");
	if (ty < 0 || (!out->snapshot && !kr__js_eq(&j, ty, "update")))
		return err_set(info, ERR_SCHEMA, "%s: type is not snapshot or update",
			       ex ? "executions" : "balances");
	for (int k = 0, e = data + 1; k < d->tok[data].size; k++, e = kr__js_skip(&j, e)) {
		if (out->n == d->cap_ent) {
			rc = err_set(info, ERR_FULL, "%s: more than %zu entries, the rest dropped",
				     ex ? "executions" : "balances", d->cap_ent);
			break;
		}
		int r = ex ? one_exec(&j, e, &d->exec[out->n], info)
			   : one_balance(&j, e, out->snapshot, &d->bal[out->n], info);
		if (r)
			return r;
		out->n++;
	}
	out->exec = ex ? d->exec : NULL;
	out->bal = bal ? d->bal : NULL;
	return rc;
}

/* ---- Encoders ---- */

/* Text safe to put between quotes as is: printable ASCII without '"' '\\'. */
static bool plain(const char *s)
{
	for (; s && *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return s != NULL;
}

static int done(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? ERR_RANGE : n;
}

int kr_priv_encode_sub_executions(char *buf, size_t cap, const char *token, bool snap_orders,
				  bool snap_trades, uint64_t req_id)
{
	if (!plain(token))
		return ERR_INVALID;
	return done(
	    snprintf(buf, cap,
		     "{\"method\":\"subscribe\",\"params\":{\"channel\":\"executions\","
		     "\"token\":\"%s\",\"snap_orders\":%s,\"snap_trades\":%s},\"req_id\":%llu}",
		     token, snap_orders ? "true" : "false", snap_trades ? "true" : "false",
		     (unsigned long long)req_id),
	    cap);
}

int kr_priv_encode_sub_balances(char *buf, size_t cap, const char *token, uint64_t req_id)
{
	if (!plain(token))
		return ERR_INVALID;
	return done(snprintf(buf, cap,
			     "{\"method\":\"subscribe\",\"params\":{\"channel\":\"balances\","
			     "\"token\":\"%s\",\"snapshot\":true},\"req_id\":%llu}",
			     token, (unsigned long long)req_id),
		    cap);
}

/* A bounded appender: add_order is on the way to the wire, and a handful of
 * snprintf calls cost microseconds there. */
struct out {
	char *p, *end; /* end: the last byte, kept for the NUL */
	bool over;
};

static void put(struct out *w, const char *s)
{
	for (; *s; s++) {
		if (w->p == w->end) {
			w->over = true;
			return;
		}
		*w->p++ = *s;
	}
}

static void put_u64(struct out *w, uint64_t v)
{
	char d[24], *p = d + sizeof(d) - 1;
	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, p);
}

/* The checks every order passes, and its formatted numbers. */
static int order_ok(const struct kr_priv_order *o, char *qty, char *px, char *t)
{
	if (!plain(o->symbol) || o->qty <= 0 ||
	    (o->cl_ord_id && *o->cl_ord_id && !plain(o->cl_ord_id)) ||
	    (o->fee_preference && strcmp(o->fee_preference, "base") != 0 &&
	     strcmp(o->fee_preference, "quote") != 0))
		return ERR_INVALID;
	if (fx_format(o->qty, o->qty_scale, qty, 32) < 0)
		return ERR_INVALID;
	if (!o->market &&
	    (o->limit_price <= 0 || fx_format(o->limit_price, o->price_scale, px, 32) < 0))
		return ERR_INVALID;
	if (o->cl_ord_id && strlen(o->cl_ord_id) >= 64)
		return ERR_INVALID;
	if (o->deadline_ns && clock_fmt_rfc3339(o->deadline_ns, 3, t, 40) < 0)
		return ERR_INVALID;
	return 0;
}

/* An order's fields after "order_type" up to its last, without symbol,
 * token and deadline: shared by add_order and batch_add's orders. */
static void put_order(struct out *w, const struct kr_priv_order *o, const char *qty, const char *px)
{
	put(w, "\"order_type\":\"");
	put(w, o->market ? "market" : "limit");
	put(w, "\",\"side\":\"");
	put(w, o->buy ? "buy" : "sell");
	put(w, "\",\"order_qty\":");
	put(w, qty);
	if (!o->market) {
		put(w, ",\"limit_price\":");
		put(w, px);
	}
	put(w, ",\"time_in_force\":\"");
	put(w, o->ioc ? "ioc" : "gtc");
	put(w, "\"");
	if (o->cl_ord_id && *o->cl_ord_id) {
		put(w, ",\"cl_ord_id\":\"");
		put(w, o->cl_ord_id);
		put(w, "\"");
	}
	if (o->fee_preference) {
		put(w, ",\"fee_preference\":\"");
		put(w, o->fee_preference);
		put(w, "\"");
	}
}

/* The request's end, shared by add_order and batch_add: symbol,
 * deadline (NULL: none), token, req_id. The length, or ERR_RANGE. */
static int finish(struct out *w, const char *buf, const char *symbol, const char *deadline,
		  const char *token, uint64_t req_id)
{
	put(w, ",\"symbol\":\"");
	put(w, symbol);
	put(w, "\"");
	if (deadline) {
		put(w, ",\"deadline\":\"");
		put(w, deadline);
		put(w, "\"");
	}
	put(w, ",\"token\":\"");
	put(w, token);
	put(w, "\"},\"req_id\":");
	put_u64(w, req_id);
	put(w, "}");
	*w->p = '\0';
	return w->over ? ERR_RANGE : (int)(w->p - buf);
}

int kr_priv_encode_add_order(char *buf, size_t cap, const struct kr_priv_order *o,
			     const char *token, uint64_t req_id)
{
	char qty[32], px[32], t[40];

	if (!plain(token) || order_ok(o, qty, px, t) != 0)
		return ERR_INVALID;
	if (cap == 0)
		return ERR_RANGE;
	struct out w = {buf, buf + cap - 1, false};
	put(&w, "{\"method\":\"add_order\",\"params\":{");
	put_order(&w, o, qty, px);
	return finish(&w, buf, o->symbol, o->deadline_ns ? t : NULL, token, req_id);
}

int kr_priv_encode_batch_add(char *buf, size_t cap, const struct kr_priv_order *o, size_t n,
			     const char *token, uint64_t req_id)
{
	char qty[32], px[32], t[40];

	if (!o || n < 2 || n > KR_PRIV_BATCH_MAX || !plain(token) || !plain(o[0].symbol))
		return ERR_INVALID;
	if (cap == 0)
		return ERR_RANGE;
	struct out w = {buf, buf + cap - 1, false};
	put(&w, "{\"method\":\"batch_add\",\"params\":{\"orders\":[");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(o[i].symbol, o[0].symbol) != 0 || order_ok(&o[i], qty, px, t) != 0)
			return ERR_INVALID;
		put(&w, i ? ",{" : "{");
		put_order(&w, &o[i], qty, px);
		put(&w, "}");
	}
	put(&w, "]");
	/* The batch's deadline is its first order's. */
	if (o[0].deadline_ns && clock_fmt_rfc3339(o[0].deadline_ns, 3, t, sizeof(t)) < 0)
		return ERR_INVALID;
	return finish(&w, buf, o[0].symbol, o[0].deadline_ns ? t : NULL, token, req_id);
}

int kr_priv_encode_cancel_order(char *buf, size_t cap, const char *order_id, const char *cl_ord_id,
				const char *token, uint64_t req_id)
{
	const char *key = cl_ord_id ? "cl_ord_id" : "order_id";
	const char *id = cl_ord_id ? cl_ord_id : order_id;

	if (!plain(token) || !plain(id) || !*id)
		return ERR_INVALID;
	return done(snprintf(buf, cap,
			     "{\"method\":\"cancel_order\",\"params\":{\"%s\":[\"%s\"],"
			     "\"token\":\"%s\"},\"req_id\":%llu}",
			     key, id, token, (unsigned long long)req_id),
		    cap);
}

int kr_priv_encode_cancel_all(char *buf, size_t cap, const char *token, uint64_t req_id)
{
	if (!plain(token))
		return ERR_INVALID;
	return done(snprintf(buf, cap,
			     "{\"method\":\"cancel_all\",\"params\":{\"token\":\"%s\"},"
			     "\"req_id\":%llu}",
			     token, (unsigned long long)req_id),
		    cap);
}

int kr_priv_encode_cancel_after(char *buf, size_t cap, uint32_t timeout_s, const char *token,
				uint64_t req_id)
{
	if (!plain(token) || timeout_s >= 86400)
		return ERR_INVALID;
	return done(snprintf(buf, cap,
			     "{\"method\":\"cancel_all_orders_after\",\"params\":{\"timeout\":%u,"
			     "\"token\":\"%s\"},\"req_id\":%llu}",
			     timeout_s, token, (unsigned long long)req_id),
		    cap);
}

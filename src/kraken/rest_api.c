/* Typed public endpoints and the account queries (balances, fees, token). */
#include "kraken/rest_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"

#define JS(r) ((struct kr__js){(r)->body, (r)->tok, (r)->ntok})

/* Schema errors name the field; the caller's info gets the first one. */
static int bad(struct err_info *info, const char *what, const char *field)
{
	return err_set(info, ERR_SCHEMA, "%s: result.%s missing or malformed", what, field);
}

static int opt_dec(const struct kr__js *j, int obj, const char *key, struct kr_dec *d)
{
	int i = kr__js_get(j, obj, key);

	d->v = 0;
	d->scale = 0;
	if (i < 0 || (j->t[i].type == JSMN_PRIMITIVE && kr__js_eq(j, i, "null")))
		return 0;
	return kr__js_dec(j, i, d);
}

int kr_rest_time(struct kr_rest *c, struct kr_rest_time *out, struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	int rc = kr_rest_public(c, "Time", NULL, &r, info);

	if (rc)
		return rc;
	j = JS(r);
	memset(out, 0, sizeof(*out));
	if (kr__js_int(&j, kr__js_get(&j, r->result, "unixtime"), &out->unixtime))
		rc = bad(info, "Time", "unixtime");
	else
		kr__js_str(&j, kr__js_get(&j, r->result, "rfc1123"), out->rfc1123,
			   sizeof(out->rfc1123));
	kr_rest_resp_free(r);
	return rc;
}

static enum kr_system_status status_of(const char *s)
{
	if (strcmp(s, "online") == 0)
		return KR_SYSTEM_ONLINE;
	if (strcmp(s, "maintenance") == 0)
		return KR_SYSTEM_MAINTENANCE;
	if (strcmp(s, "cancel_only") == 0)
		return KR_SYSTEM_CANCEL_ONLY;
	if (strcmp(s, "post_only") == 0)
		return KR_SYSTEM_POST_ONLY;
	return KR_SYSTEM_UNKNOWN;
}

int kr_rest_system_status(struct kr_rest *c, struct kr_rest_status *out, struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	char ts[48];
	int rc = kr_rest_public(c, "SystemStatus", NULL, &r, info);

	if (rc)
		return rc;
	j = JS(r);
	memset(out, 0, sizeof(*out));
	if (kr__js_str(&j, kr__js_get(&j, r->result, "status"), out->status_text,
		       sizeof(out->status_text))) {
		rc = bad(info, "SystemStatus", "status");
		goto done;
	}
	out->status = status_of(out->status_text);
	if (kr__js_str(&j, kr__js_get(&j, r->result, "timestamp"), ts, sizeof(ts)) == 0)
		clock_parse_rfc3339(ts, strlen(ts), &out->timestamp_ns);
done:
	kr_rest_resp_free(r);
	return rc;
}

static int query1(char *q, size_t cap, const char *key, const char *val)
{
	size_t len = 0;

	q[0] = '\0';
	if (!val || !*val)
		return 0;
	return kr_rest_form_add(q, cap, &len, key, val);
}

int kr_rest_assets(struct kr_rest *c, const char *assets, struct kr_rest_assets *out,
		   struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	char q[1024];
	int rc, i, k;

	memset(out, 0, sizeof(*out));
	if (query1(q, sizeof(q), "asset", assets))
		return err_set(info, ERR_RANGE, "Assets: asset list too long");
	rc = kr_rest_public(c, "Assets", q, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	if (j.t[r->result].type != JSMN_OBJECT) {
		rc = bad(info, "Assets", "(object)");
		goto done;
	}
	out->v = calloc((size_t)j.t[r->result].size + 1, sizeof(*out->v));
	if (!out->v) {
		rc = err_set(info, ERR_NOMEM, "Assets: out of memory");
		goto done;
	}
	for (k = 0, i = r->result + 1; k < j.t[r->result].size; k++, i = kr__js_skip(&j, i + 1)) {
		struct kr_rest_asset *a = &out->v[out->n];
		int64_t d = 0, dd = 0;
		int o = i + 1;

		if (kr__js_str(&j, i, a->id, sizeof(a->id)) || j.t[o].type != JSMN_OBJECT ||
		    kr__js_int(&j, kr__js_get(&j, o, "decimals"), &d)) {
			rc = bad(info, "Assets", "<asset>.decimals");
			goto done;
		}
		kr__js_str(&j, kr__js_get(&j, o, "altname"), a->altname, sizeof(a->altname));
		kr__js_int(&j, kr__js_get(&j, o, "display_decimals"), &dd);
		kr__js_str(&j, kr__js_get(&j, o, "status"), a->status, sizeof(a->status));
		a->decimals = (int)d;
		a->display_decimals = (int)dd;
		out->n++;
	}
done:
	if (rc)
		kr_rest_assets_free(out);
	kr_rest_resp_free(r);
	return rc;
}

/* The percent of the first tier of a [[volume, percent], ...] schedule. */
static void first_fee(const struct kr__js *j, int arr, struct kr_dec *d)
{
	d->v = 0;
	d->scale = 0;
	if (arr < 0 || j->t[arr].type != JSMN_ARRAY || j->t[arr].size < 1 ||
	    j->t[arr + 1].type != JSMN_ARRAY || j->t[arr + 1].size < 2)
		return;
	kr__js_dec(j, kr__js_skip(j, arr + 2), d);
}

int kr_rest_asset_pairs(struct kr_rest *c, const char *pairs, struct kr_rest_pairs *out,
			struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	char q[4096];
	int rc, i, k;

	memset(out, 0, sizeof(*out));
	if (query1(q, sizeof(q), "pair", pairs))
		return err_set(info, ERR_RANGE, "AssetPairs: pair list too long");
	rc = kr_rest_public(c, "AssetPairs", q, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	if (j.t[r->result].type != JSMN_OBJECT) {
		rc = bad(info, "AssetPairs", "(object)");
		goto done;
	}
	out->v = calloc((size_t)j.t[r->result].size + 1, sizeof(*out->v));
	if (!out->v) {
		rc = err_set(info, ERR_NOMEM, "AssetPairs: out of memory");
		goto done;
	}
	for (k = 0, i = r->result + 1; k < j.t[r->result].size; k++, i = kr__js_skip(&j, i + 1)) {
		struct kr_rest_pair *p = &out->v[out->n];
		int64_t pd, ld, cd = 0;
		int o = i + 1;

		if (kr__js_str(&j, i, p->id, sizeof(p->id)) || j.t[o].type != JSMN_OBJECT ||
		    kr__js_int(&j, kr__js_get(&j, o, "pair_decimals"), &pd) ||
		    kr__js_int(&j, kr__js_get(&j, o, "lot_decimals"), &ld) || pd < 0 || pd > 18 ||
		    ld < 0 || ld > 18) {
			rc = bad(info, "AssetPairs", "<pair>.pair_decimals/lot_decimals");
			goto done;
		}
		kr__js_int(&j, kr__js_get(&j, o, "cost_decimals"), &cd);
		p->pair_decimals = (int)pd;
		p->lot_decimals = (int)ld;
		p->cost_decimals = (int)cd;
		kr__js_str(&j, kr__js_get(&j, o, "altname"), p->altname, sizeof(p->altname));
		kr__js_str(&j, kr__js_get(&j, o, "wsname"), p->wsname, sizeof(p->wsname));
		kr__js_str(&j, kr__js_get(&j, o, "base"), p->base, sizeof(p->base));
		kr__js_str(&j, kr__js_get(&j, o, "quote"), p->quote, sizeof(p->quote));
		kr__js_str(&j, kr__js_get(&j, o, "status"), p->status, sizeof(p->status));
		if (opt_dec(&j, o, "ordermin", &p->ordermin) ||
		    opt_dec(&j, o, "costmin", &p->costmin) ||
		    opt_dec(&j, o, "tick_size", &p->tick_size)) {
			rc = bad(info, "AssetPairs", "<pair>.ordermin/costmin/tick_size");
			goto done;
		}
		first_fee(&j, kr__js_get(&j, o, "fees"), &p->taker_fee);
		first_fee(&j, kr__js_get(&j, o, "fees_maker"), &p->maker_fee);
		out->n++;
	}
done:
	if (rc)
		kr_rest_pairs_free(out);
	kr_rest_resp_free(r);
	return rc;
}

/* Element k of the array at arr, or -1. */
static int elem(const struct kr__js *j, int arr, int k)
{
	int i;

	if (arr < 0 || j->t[arr].type != JSMN_ARRAY || k >= j->t[arr].size)
		return -1;
	i = arr + 1;
	while (k-- > 0)
		i = kr__js_skip(j, i);
	return i;
}

static int dec_at(const struct kr__js *j, int obj, const char *key, int k, struct kr_dec *d)
{
	int i = elem(j, kr__js_get(j, obj, key), k);

	d->v = 0;
	d->scale = 0;
	return i < 0 ? ERR_SCHEMA : kr__js_dec(j, i, d);
}

int kr_rest_ticker(struct kr_rest *c, const char *pair, struct kr_rest_ticker *out,
		   struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	char q[256];
	int rc, o;

	memset(out, 0, sizeof(*out));
	if (!pair || !*pair || query1(q, sizeof(q), "pair", pair))
		return err_set(info, ERR_INVALID, "Ticker: one pair expected");
	rc = kr_rest_public(c, "Ticker", q, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	if (j.t[r->result].type != JSMN_OBJECT || j.t[r->result].size < 1) {
		rc = bad(info, "Ticker", "<pair>");
		goto done;
	}
	o = r->result + 2;
	kr__js_str(&j, r->result + 1, out->pair, sizeof(out->pair));
	if (j.t[o].type != JSMN_OBJECT || dec_at(&j, o, "a", 0, &out->ask) ||
	    dec_at(&j, o, "a", 2, &out->ask_qty) || dec_at(&j, o, "b", 0, &out->bid) ||
	    dec_at(&j, o, "b", 2, &out->bid_qty) || dec_at(&j, o, "c", 0, &out->last) ||
	    dec_at(&j, o, "c", 1, &out->last_qty)) {
		rc = bad(info, "Ticker", "<pair>.a/b/c");
		goto done;
	}
	dec_at(&j, o, "v", 1, &out->volume_24h);
	dec_at(&j, o, "p", 1, &out->vwap_24h);
	dec_at(&j, o, "l", 1, &out->low_24h);
	dec_at(&j, o, "h", 1, &out->high_24h);
	opt_dec(&j, o, "o", &out->open);
	kr__js_int(&j, elem(&j, kr__js_get(&j, o, "t"), 1), &out->trades_24h);
done:
	kr_rest_resp_free(r);
	return rc;
}

static int levels(const struct kr__js *j, int arr, struct kr_rest_level *v, size_t *n)
{
	int i, k;

	*n = 0;
	if (arr < 0 || j->t[arr].type != JSMN_ARRAY || j->t[arr].size > KR_REST_MAX_DEPTH)
		return ERR_SCHEMA;
	for (k = 0, i = arr + 1; k < j->t[arr].size; k++, i = kr__js_skip(j, i)) {
		if (j->t[i].type != JSMN_ARRAY || j->t[i].size < 2 ||
		    kr__js_dec(j, i + 1, &v[k].price) || kr__js_dec(j, i + 2, &v[k].qty) ||
		    v[k].price.v <= 0 || v[k].qty.v < 0)
			return ERR_SCHEMA;
		v[k].ts = 0;
		if (j->t[i].size >= 3)
			kr__js_int(j, i + 3, &v[k].ts);
		(*n)++;
	}
	return 0;
}

int kr_rest_depth(struct kr_rest *c, const char *pair, unsigned count, struct kr_rest_depth **out,
		  struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr_rest_depth *d;
	struct kr__js j;
	char q[256], cnt[16];
	size_t len = 0;
	int rc, o;

	*out = NULL;
	if (!pair || !*pair || count < 1 || count > KR_REST_MAX_DEPTH)
		return err_set(info, ERR_INVALID, "Depth: one pair and a count of 1..500 expected");
	snprintf(cnt, sizeof(cnt), "%u", count);
	q[0] = '\0';
	if (kr_rest_form_add(q, sizeof(q), &len, "pair", pair) ||
	    kr_rest_form_add(q, sizeof(q), &len, "count", cnt))
		return err_set(info, ERR_RANGE, "Depth: pair name too long");
	rc = kr_rest_public(c, "Depth", q, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	d = calloc(1, sizeof(*d));
	if (!d) {
		rc = err_set(info, ERR_NOMEM, "Depth: out of memory");
		goto done;
	}
	o = r->result + 2;
	if (j.t[r->result].type != JSMN_OBJECT || j.t[r->result].size < 1 ||
	    j.t[o].type != JSMN_OBJECT ||
	    levels(&j, kr__js_get(&j, o, "bids"), d->bids, &d->n_bids) ||
	    levels(&j, kr__js_get(&j, o, "asks"), d->asks, &d->n_asks)) {
		rc = bad(info, "Depth", "<pair>.bids/asks");
		free(d);
		goto done;
	}
	kr__js_str(&j, r->result + 1, d->pair, sizeof(d->pair));
	*out = d;
done:
	kr_rest_resp_free(r);
	return rc;
}

static int balances(struct kr_rest *c, bool ex, struct kr_rest_balances *out, struct err_info *info)
{
	const char *what = ex ? "BalanceEx" : "Balance";
	struct kr_rest_resp *r;
	struct kr__js j;
	int rc, i, k;

	memset(out, 0, sizeof(*out));
	rc = kr_rest_private(c, what, NULL, true, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	if (j.t[r->result].type != JSMN_OBJECT || j.t[r->result].size > KR_REST_MAX_ASSETS) {
		rc = bad(info, what, "(object of at most 512 assets)");
		goto done;
	}
	for (k = 0, i = r->result + 1; k < j.t[r->result].size; k++, i = kr__js_skip(&j, i + 1)) {
		struct kr_rest_balance *b = &out->v[out->n];
		int o = i + 1;

		if (kr__js_str(&j, i, b->asset, sizeof(b->asset)))
			rc = ERR_SCHEMA;
		else if (!ex)
			rc = kr__js_dec(&j, o, &b->balance);
		else if (j.t[o].type != JSMN_OBJECT ||
			 kr__js_dec(&j, kr__js_get(&j, o, "balance"), &b->balance))
			rc = ERR_SCHEMA;
		else
			rc = opt_dec(&j, o, "credit", &b->credit) ||
				     opt_dec(&j, o, "credit_used", &b->credit_used) ||
				     opt_dec(&j, o, "hold_trade", &b->hold_trade)
				 ? ERR_SCHEMA
				 : 0;
		if (rc) {
			rc = bad(info, what, b->asset[0] ? b->asset : "<asset>");
			goto done;
		}
		out->n++;
	}
done:
	kr_rest_resp_free(r);
	return rc;
}

int kr_rest_balance(struct kr_rest *c, struct kr_rest_balances *out, struct err_info *info)
{
	return balances(c, false, out, info);
}

int kr_rest_balance_ex(struct kr_rest *c, struct kr_rest_balances *out, struct err_info *info)
{
	return balances(c, true, out, info);
}

int kr_rest_trade_balance(struct kr_rest *c, const char *asset, struct kr_rest_trade_balance *out,
			  struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	char q[128];
	int rc, o;

	memset(out, 0, sizeof(*out));
	if (query1(q, sizeof(q), "asset", asset))
		return err_set(info, ERR_RANGE, "TradeBalance: asset too long");
	rc = kr_rest_private(c, "TradeBalance", q, true, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	o = r->result;
	if (j.t[o].type != JSMN_OBJECT || opt_dec(&j, o, "eb", &out->eb) ||
	    opt_dec(&j, o, "tb", &out->tb) || opt_dec(&j, o, "m", &out->m) ||
	    opt_dec(&j, o, "n", &out->n) || opt_dec(&j, o, "c", &out->c) ||
	    opt_dec(&j, o, "v", &out->v) || opt_dec(&j, o, "e", &out->e) ||
	    opt_dec(&j, o, "mf", &out->mf) || opt_dec(&j, o, "ml", &out->ml) ||
	    opt_dec(&j, o, "uv", &out->uv) || kr__js_get(&j, o, "eb") < 0)
		rc = bad(info, "TradeBalance", "eb/tb/...");
	kr_rest_resp_free(r);
	return rc;
}

static int fee_map(const struct kr__js *j, int obj, struct kr_rest_trade_volume *out, bool maker)
{
	int i, k;

	if (obj < 0 || (j->t[obj].type == JSMN_PRIMITIVE && kr__js_eq(j, obj, "null")))
		return 0;
	if (j->t[obj].type != JSMN_OBJECT)
		return ERR_SCHEMA;
	for (k = 0, i = obj + 1; k < j->t[obj].size; k++, i = kr__js_skip(j, i + 1)) {
		char pair[KR_REST_NAME_MAX];
		struct kr_rest_fee *f = NULL;
		struct kr_dec fee;
		int o = i + 1;

		if (kr__js_str(j, i, pair, sizeof(pair)) || j->t[o].type != JSMN_OBJECT ||
		    kr__js_dec(j, kr__js_get(j, o, "fee"), &fee))
			return ERR_SCHEMA;
		for (size_t n = 0; n < out->n; n++)
			if (strcmp(out->fees[n].pair, pair) == 0)
				f = &out->fees[n];
		if (!f) {
			if (out->n >= KR_REST_MAX_FEES)
				return ERR_FULL;
			f = &out->fees[out->n++];
			memset(f, 0, sizeof(*f));
			memcpy(f->pair, pair, sizeof(pair));
			f->maker_fee = fee;
		}
		if (maker) {
			f->maker_fee = fee;
			continue;
		}
		f->fee = fee;
		if (opt_dec(j, o, "nextfee", &f->next_fee) ||
		    opt_dec(j, o, "nextvolume", &f->next_volume) ||
		    opt_dec(j, o, "tiervolume", &f->tier_volume))
			return ERR_SCHEMA;
	}
	return 0;
}

int kr_rest_trade_volume(struct kr_rest *c, const char *pairs, struct kr_rest_trade_volume *out,
			 struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	char q[2048];
	int rc;

	memset(out, 0, sizeof(*out));
	if (query1(q, sizeof(q), "pair", pairs))
		return err_set(info, ERR_RANGE, "TradeVolume: pair list too long");
	rc = kr_rest_private(c, "TradeVolume", q, true, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	kr__js_str(&j, kr__js_get(&j, r->result, "currency"), out->currency, sizeof(out->currency));
	if (opt_dec(&j, r->result, "volume", &out->volume) ||
	    fee_map(&j, kr__js_get(&j, r->result, "fees"), out, false) ||
	    fee_map(&j, kr__js_get(&j, r->result, "fees_maker"), out, true))
		rc = bad(info, "TradeVolume", "volume/fees/fees_maker");
	kr_rest_resp_free(r);
	return rc;
}

double kr_rest_fee_bps(struct kr_dec percent)
{
	return kr_dec_double(percent) * 100.0;
}

int kr_rest_ws_token(struct kr_rest *c, char *token, size_t cap, uint32_t *expires,
		     struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	int64_t exp = 0;
	int rc;

	if (cap)
		token[0] = '\0';
	rc = kr_rest_private(c, "GetWebSocketsToken", NULL, true, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	if (kr__js_str(&j, kr__js_get(&j, r->result, "token"), token, cap) ||
	    kr__js_int(&j, kr__js_get(&j, r->result, "expires"), &exp) || exp < 0) {
		rc = bad(info, "GetWebSocketsToken", "token/expires");
		if (cap)
			token[0] = '\0';
	} else if (expires) {
		*expires = exp > UINT32_MAX ? UINT32_MAX : (uint32_t)exp;
	}
	/* The body held the token: wipe it before it is freed. */
	memset(r->body, 0, r->len);
	kr_rest_resp_free(r);
	return rc;
}

void kr_rest_assets_free(struct kr_rest_assets *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void kr_rest_pairs_free(struct kr_rest_pairs *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

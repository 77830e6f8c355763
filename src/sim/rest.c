/* The simulator's REST side (PROTOCOL.md §6-9) on libmicrohttpd, one thread
 * per connection: the public endpoints over the market, the private ones
 * over the accounts, with API-Key lookup, API-Sign verification (the
 * project's own signer), strictly increasing nonces per key and a per-key
 * call counter, answering in Kraken's {"error":[...],"result":...} envelope
 * with Kraken's documented error strings. */
#include "sim/account.h"

#include <microhttpd.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/fixed.h"
#include "core/log.h"
#include "kraken/sign.h"
#include "sim/sim_json.h"

#define BODY_MAX   (64u * 1024u)
#define FIELDS_MAX 256

struct sim_rest_srv {
	struct MHD_Daemon *d;
	pthread_t ticker;
	bool ticker_on;
	volatile bool stop;
	struct sim *s;
};

struct req {
	char *body;
	size_t len;
	bool too_big;
};

/* A form body split into url-decoded fields (borrowed from text). */
struct form {
	size_t n;
	char *k[FIELDS_MAX], *v[FIELDS_MAX];
	char *text;
};

static int hexv(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

static void url_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%' && hexv(s[1]) >= 0 && hexv(s[2]) >= 0) {
			*o++ = (char)(hexv(s[1]) * 16 + hexv(s[2]));
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static int form_parse(struct form *f, const char *body, size_t len)
{
	char *p, *amp;

	memset(f, 0, sizeof(*f));
	f->text = malloc(len + 1);
	if (!f->text)
		return ERR_NOMEM;
	memcpy(f->text, body, len);
	f->text[len] = '\0';
	for (p = f->text; p && *p; p = amp) {
		char *eq;

		amp = strchr(p, '&');
		if (amp)
			*amp++ = '\0';
		if (f->n >= FIELDS_MAX)
			return ERR_FULL;
		eq = strchr(p, '=');
		if (eq)
			*eq++ = '\0';
		url_decode(p);
		if (eq)
			url_decode(eq);
		f->k[f->n] = p;
		f->v[f->n] = eq ? eq : p + strlen(p);
		f->n++;
	}
	return 0;
}

static const char *form_get(const struct form *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->k[i], key) == 0)
			return f->v[i];
	return NULL;
}

/* Copies the next comma-separated item of *p into out (cut to cap); false
 * at the end of the list. */
static bool next_item(const char **p, char *out, size_t cap)
{
	const char *s = *p, *e;
	size_t n;

	if (!s || !*s)
		return false;
	e = strchr(s, ',');
	n = e ? (size_t)(e - s) : strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = e ? e + 1 : NULL;
	return true;
}

/* ---- pairs and formatting ------------------------------------------------- */

static void altname(const struct kr_pair *p, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s", p->base, p->quote);
}

/* "BTC/USD", "BTCUSD" or "XBTUSD" -> pair index, or -1. */
static long find_pair(struct sim *s, const char *name)
{
	char alt[64], want[64];
	size_t n = sim__pair_count(s);
	long i = sim__pair_find(s, name);

	if (i >= 0 || !name)
		return i;
	snprintf(want, sizeof(want), "%s", name);
	if (strncasecmp(want, "XBT", 3) == 0)
		memcpy(want, "BTC", 3);
	for (size_t k = 0; k < n; k++) {
		altname(sim__pair(s, k), alt, sizeof(alt));
		if (strcasecmp(alt, want) == 0 || strcasecmp(sim__pair(s, k)->symbol, want) == 0)
			return (long)k;
	}
	return -1;
}

static void q_fixed(struct sim_buf *b, int64_t v, int scale)
{
	sim__buf_str(b, "\"");
	sim__buf_fixed(b, v, scale);
	sim__buf_str(b, "\"");
}

static const char *pair_status(enum kr_pair_status st)
{
	switch (st) {
	case KR_PAIR_STATUS_ONLINE:
		return "online";
	case KR_PAIR_STATUS_CANCEL_ONLY:
		return "cancel_only";
	case KR_PAIR_STATUS_POST_ONLY:
		return "post_only";
	case KR_PAIR_STATUS_LIMIT_ONLY:
		return "limit_only";
	case KR_PAIR_STATUS_REDUCE_ONLY:
		return "reduce_only";
	default:
		return "maintenance";
	}
}

/* ---- public endpoints ------------------------------------------------------ */

typedef const char *(*pub_fn)(struct sim *s, struct MHD_Connection *c, struct sim_buf *b);

static const char *pub_time(struct sim *s, struct MHD_Connection *c, struct sim_buf *b)
{
	int64_t now = clock_wall_ns();
	time_t t = (time_t)(now / 1000000000LL);
	struct tm tm;
	char rfc[64];

	(void)s;
	(void)c;
	char day[16], hms[16];

	gmtime_r(&t, &tm);
	/* Kraken's own form: a two-digit year, "Sun, 21 Mar 21 14:23:14 +0000". */
	strftime(day, sizeof(day), "%a, %d %b", &tm);
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	snprintf(rfc, sizeof(rfc), "%s %02d %s +0000", day, tm.tm_year % 100, hms);
	sim__buf_printf(b, "{\"unixtime\":%lld,\"rfc1123\":\"%s\"}", (long long)t, rfc);
	return NULL;
}

static const char *pub_status(struct sim *s, struct MHD_Connection *c, struct sim_buf *b)
{
	(void)c;
	sim__buf_printf(
	    b, "{\"status\":\"%s\",\"timestamp\":", kr_system_status_str(sim__system_status(s)));
	sim__buf_time(b, clock_wall_ns());
	sim__buf_str(b, "}");
	return NULL;
}

static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (!list || !*list)
		return true;
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && strncasecmp(p, name, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

static const char *pub_assets(struct sim *s, struct MHD_Connection *c, struct sim_buf *b)
{
	const char *want = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "asset");
	char seen[256][KR_ASSET_MAX];
	size_t ns = 0, np = sim__pair_count(s);
	bool first = true;

	sim__buf_str(b, "{");
	for (size_t i = 0; i < np; i++) {
		const struct kr_pair *p = sim__pair(s, i);

		for (int side = 0; side < 2; side++) {
			const char *a = side ? p->quote : p->base;
			int dec = side ? p->price_precision : p->qty_precision;
			size_t k;

			for (k = 0; k < ns && strcmp(seen[k], a) != 0; k++) {
			}
			if (k < ns || ns >= 256 || !listed(want, a))
				continue;
			snprintf(seen[ns++], KR_ASSET_MAX, "%s", a);
			sim__buf_printf(b,
					"%s\"%s\":{\"aclass\":\"currency\",\"altname\":\"%s\","
					"\"decimals\":10,\"display_decimals\":%d,"
					"\"collateral_value\":1.0,\"status\":\"enabled\"}",
					first ? "" : ",", a, a, dec);
			first = false;
		}
	}
	sim__buf_str(b, "}");
	return first && want && *want ? "EQuery:Unknown asset" : NULL;
}

static const char *pub_pairs(struct sim *s, struct MHD_Connection *c, struct sim_buf *b)
{
	const char *want = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pair");
	size_t np = sim__pair_count(s);
	bool first = true;
	char alt[64];
	int taker = 26, maker = 16;

	if (want && *want) {
		/* Every listed name must be known, as on Kraken. */
		char t[64];

		for (const char *cur = want; next_item(&cur, t, sizeof(t));)
			if (find_pair(s, t) < 0)
				return "EQuery:Unknown asset pair";
	}
	if (sim__account_count(s) > 0)
		sim__account_fees(s, 0, &taker, &maker);
	sim__buf_str(b, "{");
	for (size_t i = 0; i < np; i++) {
		const struct kr_pair *p = sim__pair(s, i);
		bool hit = !want || !*want;

		if (!hit) {
			char t[64];

			for (const char *cur = want; !hit && next_item(&cur, t, sizeof(t));)
				hit = find_pair(s, t) == (long)i;
		}
		if (!hit)
			continue;
		altname(p, alt, sizeof(alt));
		sim__buf_printf(
		    b,
		    "%s\"%s\":{\"altname\":\"%s\",\"wsname\":\"%s\","
		    "\"aclass_base\":\"currency\",\"base\":\"%s\","
		    "\"aclass_quote\":\"currency\",\"quote\":\"%s\",\"lot\":\"unit\","
		    "\"cost_decimals\":%d,\"pair_decimals\":%d,\"lot_decimals\":%d,"
		    "\"lot_multiplier\":1,\"leverage_buy\":[],\"leverage_sell\":[],"
		    "\"fees\":[[0,%d.%02d]],\"fees_maker\":[[0,%d.%02d]],"
		    "\"fee_volume_currency\":\"USD\",\"margin_call\":80,\"margin_stop\":40,"
		    "\"ordermin\":",
		    first ? "" : ",", alt, alt, p->symbol, p->base, p->quote, p->cost_precision,
		    p->price_precision, p->qty_precision, taker / 100, taker % 100, maker / 100,
		    maker % 100);
		q_fixed(b, p->qty_min, p->qty_precision);
		sim__buf_str(b, ",\"costmin\":");
		q_fixed(b, p->cost_min, p->cost_precision);
		sim__buf_str(b, ",\"tick_size\":");
		q_fixed(b, p->price_increment, p->price_precision);
		sim__buf_printf(b, ",\"status\":\"%s\"}", pair_status(p->status));
		first = false;
	}
	sim__buf_str(b, "}");
	return NULL;
}

static const char *one_pair(struct sim *s, struct MHD_Connection *c, long *idx)
{
	const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "pair");

	if (!name || !*name)
		return "EGeneral:Invalid arguments:pair";
	*idx = find_pair(s, name);
	return *idx < 0 ? "EQuery:Unknown asset pair" : NULL;
}

static const char *pub_ticker(struct sim *s, struct MHD_Connection *c, struct sim_buf *b)
{
	const struct book_level *bid, *ask;
	const struct kr_pair *p;
	const struct book *bk;
	size_t nb = 0, na = 0;
	const char *err;
	char alt[64];
	long i;

	if ((err = one_pair(s, c, &i)) != NULL)
		return err;
	p = sim__pair(s, (size_t)i);
	bk = sim__book(s, (size_t)i);
	bid = bk ? book_bids(bk, &nb) : NULL;
	ask = bk ? book_asks(bk, &na) : NULL;
	if (!nb || !na)
		return "EService:Unavailable";
	altname(p, alt, sizeof(alt));
	sim__buf_printf(b, "{\"%s\":{\"a\":[", alt);
	q_fixed(b, ask[0].price, p->price_precision);
	sim__buf_str(b, ",\"1\",");
	q_fixed(b, ask[0].qty, p->qty_precision);
	sim__buf_str(b, "],\"b\":[");
	q_fixed(b, bid[0].price, p->price_precision);
	sim__buf_str(b, ",\"1\",");
	q_fixed(b, bid[0].qty, p->qty_precision);
	sim__buf_str(b, "],\"c\":[");
	q_fixed(b, (ask[0].price + bid[0].price) / 2, p->price_precision);
	sim__buf_str(b, ",\"0\"],\"v\":[\"0\",\"0\"],\"p\":[");
	q_fixed(b, bid[0].price, p->price_precision);
	sim__buf_str(b, ",");
	q_fixed(b, bid[0].price, p->price_precision);
	sim__buf_str(b, "],\"t\":[0,0],\"l\":[");
	q_fixed(b, bid[0].price, p->price_precision);
	sim__buf_str(b, ",");
	q_fixed(b, bid[0].price, p->price_precision);
	sim__buf_str(b, "],\"h\":[");
	q_fixed(b, ask[0].price, p->price_precision);
	sim__buf_str(b, ",");
	q_fixed(b, ask[0].price, p->price_precision);
	sim__buf_str(b, "],\"o\":");
	q_fixed(b, bid[0].price, p->price_precision);
	sim__buf_str(b, "}}");
	return NULL;
}

static void levels(struct sim_buf *b, const struct kr_pair *p, const struct book_level *lv,
		   size_t n, size_t count, long long ts)
{
	for (size_t k = 0; k < n && k < count; k++) {
		sim__buf_str(b, k ? ",[" : "[");
		q_fixed(b, lv[k].price, p->price_precision);
		sim__buf_str(b, ",");
		q_fixed(b, lv[k].qty, p->qty_precision);
		sim__buf_printf(b, ",%lld]", ts);
	}
}

static const char *pub_depth(struct sim *s, struct MHD_Connection *c, struct sim_buf *b)
{
	const char *cnt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "count");
	const struct book_level *lv;
	const struct kr_pair *p;
	const struct book *bk;
	long long ts = (long long)(clock_wall_ns() / 1000000000LL);
	size_t n = 0, count = 100;
	const char *err;
	char alt[64];
	long i;

	if ((err = one_pair(s, c, &i)) != NULL)
		return err;
	if (cnt) {
		char *end;
		long v = strtol(cnt, &end, 10);

		if (*end || v < 1 || v > 500)
			return "EGeneral:Invalid arguments:count";
		count = (size_t)v;
	}
	p = sim__pair(s, (size_t)i);
	bk = sim__book(s, (size_t)i);
	altname(p, alt, sizeof(alt));
	sim__buf_printf(b, "{\"%s\":{\"asks\":[", alt);
	lv = bk ? book_asks(bk, &n) : NULL;
	levels(b, p, lv, n, count, ts);
	sim__buf_str(b, "],\"bids\":[");
	n = 0;
	lv = bk ? book_bids(bk, &n) : NULL;
	levels(b, p, lv, n, count, ts);
	sim__buf_str(b, "]}}");
	return NULL;
}

/* ---- private endpoints ----------------------------------------------------- */

struct pctx {
	struct sim *s;
	size_t acct;
	struct sim_account *a;
	const struct form *f;
	struct sim_buf *b;
	bool first;
	const char *filter_cloid;
	bool has_ref;
	int64_t ref;
};

typedef const char *(*priv_fn)(struct pctx *x);

static const char *p_balance(struct pctx *x)
{
	sim__buf_str(x->b, "{");
	for (size_t i = 0; i < x->a->nassets; i++) {
		sim__buf_printf(x->b, "%s\"%s\":", i ? "," : "", x->a->bal[i].asset);
		q_fixed(x->b, x->a->bal[i].total, SIM_BAL_SCALE);
	}
	sim__buf_str(x->b, "}");
	return NULL;
}

static const char *p_balance_ex(struct pctx *x)
{
	sim__buf_str(x->b, "{");
	for (size_t i = 0; i < x->a->nassets; i++) {
		sim__buf_printf(x->b, "%s\"%s\":{\"balance\":", i ? "," : "", x->a->bal[i].asset);
		q_fixed(x->b, x->a->bal[i].total, SIM_BAL_SCALE);
		sim__buf_str(x->b,
			     ",\"credit\":\"0.0000\",\"credit_used\":\"0.0000\",\"hold_trade\":");
		q_fixed(x->b, x->a->bal[i].hold, SIM_BAL_SCALE);
		sim__buf_str(x->b, "}");
	}
	sim__buf_str(x->b, "}");
	return NULL;
}

static const char *p_trade_balance(struct pctx *x)
{
	const char *asset = form_get(x->f, "asset");
	struct sim_balance *b;
	int64_t eb;

	if (!asset || !*asset || strcmp(asset, "ZUSD") == 0)
		asset = "USD";
	b = sim__bal(x->a, asset, false);
	/* Equivalent balance in the asset: only that asset's own holdings are
	 * counted (the simulator has no conversion rates for REST). */
	eb = b ? b->total : 0;
	sim__buf_str(x->b, "{\"eb\":");
	q_fixed(x->b, eb, SIM_BAL_SCALE);
	sim__buf_str(x->b, ",\"tb\":");
	q_fixed(x->b, eb, SIM_BAL_SCALE);
	sim__buf_str(x->b, ",\"m\":\"0.0000\",\"n\":\"0.0000\",\"c\":\"0.0000\",\"v\":\"0.0000\","
			   "\"e\":");
	q_fixed(x->b, eb, SIM_BAL_SCALE);
	sim__buf_str(x->b, ",\"mf\":");
	q_fixed(x->b, eb, SIM_BAL_SCALE);
	sim__buf_str(x->b, ",\"uv\":\"0.0000\"}");
	return NULL;
}

static const char *status_name(enum sim_order_status st)
{
	static const char *const n[] = {"open", "closed", "canceled", "expired"};

	return n[st];
}

static void order_json(struct sim *s, struct sim_buf *b, const struct sim_order *o)
{
	const struct kr_pair *p = sim__pair(s, o->pair);
	const struct sim_order_req *r = &o->req;
	char alt[64];
	int64_t avg = 0;

	altname(p, alt, sizeof(alt));
	sim__buf_printf(b, "\"%s\":{\"refid\":null,\"userref\":", o->txid);
	if (r->has_userref)
		sim__buf_printf(b, "%" PRId64, r->userref);
	else
		sim__buf_str(b, "null");
	if (r->cl_ord_id[0])
		sim__buf_printf(b, ",\"cl_ord_id\":\"%s\"", r->cl_ord_id);
	sim__buf_printf(b, ",\"status\":\"%s\",\"opentm\":%.6f,\"starttm\":0,\"expiretm\":0,",
			status_name(o->status), (double)o->open_ns / 1e9);
	sim__buf_printf(
	    b, "\"descr\":{\"pair\":\"%s\",\"type\":\"%s\",\"ordertype\":\"%s\",\"price\":", alt,
	    r->side == SIM_BUY ? "buy" : "sell", r->type == SIM_LIMIT ? "limit" : "market");
	q_fixed(b, r->type == SIM_LIMIT ? r->price : 0, p->price_precision);
	sim__buf_printf(b, ",\"price2\":\"0\",\"leverage\":\"none\",\"order\":\"%s ",
			r->side == SIM_BUY ? "buy" : "sell");
	sim__buf_fixed(b, r->qty, p->qty_precision);
	sim__buf_printf(b, " %s @ %s", alt, r->type == SIM_LIMIT ? "limit " : "market");
	if (r->type == SIM_LIMIT)
		sim__buf_fixed(b, r->price, p->price_precision);
	sim__buf_str(b, "\",\"close\":\"\"},\"vol\":");
	q_fixed(b, r->qty, p->qty_precision);
	sim__buf_str(b, ",\"vol_exec\":");
	q_fixed(b, o->vol_exec, p->qty_precision);
	sim__buf_str(b, ",\"cost\":");
	q_fixed(b, o->cost, SIM_BAL_SCALE);
	sim__buf_str(b, ",\"fee\":");
	q_fixed(b, o->fee, SIM_BAL_SCALE);
	if (o->vol_exec > 0) {
		/* Average price = cost / vol_exec, at the pair's price precision. */
		__int128 num = (__int128)o->cost * fx_pow10(p->qty_precision);
		int shift = SIM_BAL_SCALE - p->price_precision;

		num /= o->vol_exec;
		while (shift-- > 0)
			num /= 10;
		avg = (int64_t)num;
	}
	sim__buf_str(b, ",\"price\":");
	q_fixed(b, avg, p->price_precision);
	sim__buf_printf(b,
			",\"stopprice\":\"0\",\"limitprice\":\"0\",\"misc\":\"%s\","
			"\"oflags\":\"%s%s\"",
			o->vol_exec > 0 && o->vol_exec < r->qty ? "partial" : "",
			o->fee_asset == 'b' ? "fcib" : "fciq", r->post_only ? ",post" : "");
	if (o->status != SIM_ORDER_OPEN)
		sim__buf_printf(b, ",\"closetm\":%.6f,\"reason\":\"%s\"", (double)o->close_ns / 1e9,
				o->reason ? o->reason : "");
	sim__buf_str(b, "}");
}

static void list_one(void *ctx, const struct sim_order *o)
{
	struct pctx *x = ctx;

	if (x->has_ref && !(o->req.has_userref && o->req.userref == x->ref))
		return;
	if (x->filter_cloid && strcmp(o->req.cl_ord_id, x->filter_cloid) != 0)
		return;
	if (!x->first)
		sim__buf_str(x->b, ",");
	x->first = false;
	order_json(x->s, x->b, o);
}

static const char *filters(struct pctx *x)
{
	const char *ref = form_get(x->f, "userref"), *cl = form_get(x->f, "cl_ord_id");

	if (ref && *ref) {
		char *end;

		x->ref = strtoll(ref, &end, 10);
		if (*end)
			return "EGeneral:Invalid arguments:userref";
		x->has_ref = true;
	}
	if (cl && *cl)
		x->filter_cloid = cl;
	return NULL;
}

static void closed_one(void *ctx, const struct sim_order *o)
{
	if (o->status != SIM_ORDER_OPEN)
		list_one(ctx, o);
}

static const char *p_open(struct pctx *x)
{
	const char *err = filters(x);

	if (err)
		return err;
	sim__buf_str(x->b, "{\"open\":{");
	x->first = true;
	sim__orders_each(x->s, x->acct, true, list_one, x);
	sim__buf_str(x->b, "}}");
	return NULL;
}

static const char *p_closed(struct pctx *x)
{
	const char *err = filters(x);

	if (err)
		return err;
	sim__buf_str(x->b, "{\"closed\":{");
	x->first = true;
	sim__orders_each(x->s, x->acct, false, closed_one, x);
	sim__buf_str(x->b, "},\"count\":0}");
	return NULL;
}

static const char *p_query(struct pctx *x)
{
	const char *ids = form_get(x->f, "txid");
	char t[64];
	int n = 0;

	if (!ids || !*ids)
		return "EGeneral:Invalid arguments:txid";
	sim__buf_str(x->b, "{");
	for (const char *cur = ids; next_item(&cur, t, sizeof(t));) {
		const struct sim_order *o = sim__order_get(x->s, x->acct, t);

		if (++n > 50)
			return "EGeneral:Invalid arguments:txid";
		if (!o)
			return "EOrder:Invalid order";
		if (n > 1)
			sim__buf_str(x->b, ",");
		order_json(x->s, x->b, o);
	}
	sim__buf_str(x->b, "}");
	return NULL;
}

/* Reads one order from the form; keys are prefix + name + suffix. */
static const char *read_order(struct pctx *x, const char *pre, const char *suf, long pair,
			      struct sim_order_req *r)
{
	char key[64];
	const char *v, *pv;
	const struct kr_pair *p;

#define GET(name) (snprintf(key, sizeof(key), "%s%s%s", pre, (name), suf), form_get(x->f, key))
	memset(r, 0, sizeof(*r));
	if (pair < 0) {
		v = GET("pair");
		if (!v || !*v)
			return "EGeneral:Invalid arguments:pair";
		pair = find_pair(x->s, v);
		if (pair < 0)
			return "EQuery:Unknown asset pair";
	}
	r->pair = (size_t)pair;
	p = sim__pair(x->s, r->pair);
	v = GET("type");
	if (!v || (strcmp(v, "buy") && strcmp(v, "sell")))
		return "EGeneral:Invalid arguments:type";
	r->side = strcmp(v, "buy") == 0 ? SIM_BUY : SIM_SELL;
	v = GET("ordertype");
	if (!v || (strcmp(v, "market") && strcmp(v, "limit")))
		return "EGeneral:Invalid arguments:ordertype";
	r->type = strcmp(v, "limit") == 0 ? SIM_LIMIT : SIM_MARKET;
	v = GET("volume");
	if (!v || fx_parse(v, strlen(v), p->qty_precision, &r->qty) || r->qty <= 0)
		return "EGeneral:Invalid arguments:volume";
	pv = GET("price");
	if (r->type == SIM_LIMIT &&
	    (!pv || fx_parse(pv, strlen(pv), p->price_precision, &r->price) || r->price <= 0))
		return "EGeneral:Invalid arguments:price";
	v = GET("timeinforce");
	if (v && *v) {
		if (strcasecmp(v, "IOC") == 0)
			r->tif = SIM_IOC;
		else if (strcasecmp(v, "GTC") == 0)
			r->tif = SIM_GTC;
		else
			return "EGeneral:Invalid arguments:timeinforce";
	}
	v = GET("oflags");
	if (v && *v) {
		char t[32];

		for (const char *cur = v; next_item(&cur, t, sizeof(t));) {
			if (strcmp(t, "post") == 0)
				r->post_only = true;
			else if (strcmp(t, "fcib") == 0)
				r->fee_in = 'b';
			else if (strcmp(t, "fciq") == 0)
				r->fee_in = 'q';
			else if (strcmp(t, "nompp") != 0)
				return "EGeneral:Invalid arguments:oflags";
		}
	}
	v = GET("userref");
	if (v && *v) {
		char *end;
		long long ref = strtoll(v, &end, 10);

		if (*end || ref < INT32_MIN || ref > INT32_MAX)
			return "EGeneral:Invalid arguments:userref";
		r->has_userref = true;
		r->userref = ref;
	}
	v = GET("cl_ord_id");
	if (v && *v) {
		if (r->has_userref || strlen(v) >= sizeof(r->cl_ord_id))
			return "EGeneral:Invalid arguments:cl_ord_id";
		snprintf(r->cl_ord_id, sizeof(r->cl_ord_id), "%s", v);
	}
#undef GET
	return NULL;
}

static bool truthy(const char *v)
{
	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static void descr(struct sim *s, struct sim_buf *b, const struct sim_order_req *r)
{
	const struct kr_pair *p = sim__pair(s, r->pair);
	char alt[64];

	altname(p, alt, sizeof(alt));
	sim__buf_printf(b, "\"descr\":{\"order\":\"%s ", r->side == SIM_BUY ? "buy" : "sell");
	sim__buf_fixed(b, r->qty, p->qty_precision);
	sim__buf_printf(b, " %s @ %s", alt, r->type == SIM_LIMIT ? "limit " : "market");
	if (r->type == SIM_LIMIT)
		sim__buf_fixed(b, r->price, p->price_precision);
	sim__buf_str(b, "\"}");
}

static const char *p_add(struct pctx *x)
{
	struct sim_order_req r;
	struct sim_order o;
	const char *err = read_order(x, "", "", -1, &r);

	if (err)
		return err;
	r.validate = truthy(form_get(x->f, "validate"));
	if (sim__order_place(x->s, x->acct, &r, &o, &err))
		return err;
	sim__buf_str(x->b, "{");
	descr(x->s, x->b, &r);
	if (!r.validate)
		sim__buf_printf(x->b, ",\"txid\":[\"%s\"]", o.txid);
	sim__buf_str(x->b, "}");
	return NULL;
}

static const char *p_batch(struct pctx *x)
{
	const char *pair = form_get(x->f, "pair"), *err;
	bool validate = truthy(form_get(x->f, "validate"));
	struct sim_order_req r[16];
	char pre[32];
	long pi;
	size_t n;

	if (!pair || !*pair)
		return "EGeneral:Invalid arguments:pair";
	pi = find_pair(x->s, pair);
	if (pi < 0)
		return "EQuery:Unknown asset pair";
	for (n = 0; n < 16; n++) {
		char key[40];

		snprintf(key, sizeof(key), "orders[%zu][type]", n);
		if (!form_get(x->f, key))
			break;
	}
	if (n < 2 || n > 15)
		return "EGeneral:Invalid arguments:orders";
	/* The whole batch is checked before any order is placed. */
	for (size_t i = 0; i < n; i++) {
		snprintf(pre, sizeof(pre), "orders[%zu][", i);
		if ((err = read_order(x, pre, "]", pi, &r[i])) != NULL)
			return err;
	}
	sim__buf_str(x->b, "{\"orders\":[");
	for (size_t i = 0; i < n; i++) {
		struct sim_order o;

		r[i].validate = validate;
		sim__buf_str(x->b, i ? ",{" : "{");
		descr(x->s, x->b, &r[i]);
		if (sim__order_place(x->s, x->acct, &r[i], &o, &err))
			sim__buf_printf(x->b, ",\"error\":\"%s\"", err);
		else if (!validate)
			sim__buf_printf(x->b, ",\"txid\":\"%s\"", o.txid);
		sim__buf_str(x->b, "}");
	}
	sim__buf_str(x->b, "]}");
	return NULL;
}

static const char *p_cancel(struct pctx *x)
{
	const char *txid = form_get(x->f, "txid"), *cl = form_get(x->f, "cl_ord_id"), *err;
	int n = 0;

	if ((!txid || !*txid) && (!cl || !*cl))
		return "EGeneral:Invalid arguments:txid";
	if (sim__order_cancel(x->s, x->acct, txid, cl, &n, &err))
		return err;
	sim__buf_printf(x->b, "{\"count\":%d,\"pending\":false}", n);
	return NULL;
}

static const char *p_cancel_all(struct pctx *x)
{
	int n = 0;

	if (sim__system_status(x->s) == KR_SYSTEM_MAINTENANCE)
		return "EService:Unavailable";
	sim__order_cancel_all(x->s, x->acct, &n);
	sim__buf_printf(x->b, "{\"count\":%d}", n);
	return NULL;
}

static const char *p_cancel_after(struct pctx *x)
{
	const char *t = form_get(x->f, "timeout");
	int64_t now = clock_wall_ns(), trig = 0;
	char *end;
	long v;

	if (!t || !*t)
		return "EGeneral:Invalid arguments:timeout";
	v = strtol(t, &end, 10);
	if (*end || v < 0 || v >= 86400)
		return "EGeneral:Invalid arguments:timeout";
	sim__cancel_all_after(x->s, x->acct, (uint32_t)v, now, &trig);
	sim__buf_str(x->b, "{\"currentTime\":");
	sim__buf_time(x->b, now);
	sim__buf_str(x->b, ",\"triggerTime\":");
	if (trig)
		sim__buf_time(x->b, trig);
	else
		sim__buf_str(x->b, "\"0\"");
	sim__buf_str(x->b, "}");
	return NULL;
}

static const char *p_volume(struct pctx *x)
{
	const char *pairs = form_get(x->f, "pair");
	char t[64], alt[64];
	const char *cur;
	bool first = true;

	sim__buf_str(x->b, "{\"currency\":\"ZUSD\",\"volume\":\"0.0000\",\"fees\":{");
	if (pairs && *pairs) {
		for (cur = pairs; next_item(&cur, t, sizeof(t));) {
			long i = find_pair(x->s, t);

			if (i < 0)
				return "EQuery:Unknown asset pair";
			altname(sim__pair(x->s, (size_t)i), alt, sizeof(alt));
			sim__buf_printf(x->b,
					"%s\"%s\":{\"fee\":\"%d.%02d00\",\"minfee\":\"0.1000\","
					"\"maxfee\":\"%d.%02d00\",\"nextfee\":null,"
					"\"nextvolume\":null,\"tiervolume\":\"0.0000\"}",
					first ? "" : ",", alt, x->a->taker_bps / 100,
					x->a->taker_bps % 100, x->a->taker_bps / 100,
					x->a->taker_bps % 100);
			first = false;
		}
	}
	sim__buf_str(x->b, "},\"fees_maker\":{");
	if (pairs && *pairs) {
		first = true;
		for (cur = pairs; next_item(&cur, t, sizeof(t));) {
			altname(sim__pair(x->s, (size_t)find_pair(x->s, t)), alt, sizeof(alt));
			sim__buf_printf(x->b,
					"%s\"%s\":{\"fee\":\"%d.%02d00\",\"minfee\":\"0.0000\","
					"\"maxfee\":\"%d.%02d00\",\"nextfee\":null,"
					"\"nextvolume\":null,\"tiervolume\":\"0.0000\"}",
					first ? "" : ",", alt, x->a->maker_bps / 100,
					x->a->maker_bps % 100, x->a->maker_bps / 100,
					x->a->maker_bps % 100);
			first = false;
		}
	}
	sim__buf_str(x->b, "}}");
	return NULL;
}

static const char *p_token(struct pctx *x)
{
	char tok[64];

	sim__account_token(x->s, x->acct, tok, sizeof(tok));
	sim__buf_printf(x->b, "{\"token\":\"%s\",\"expires\":900}", tok);
	return NULL;
}

/* ---- routing --------------------------------------------------------------- */

static const struct {
	const char *name;
	pub_fn fn;
} pubs[] = {{"Time", pub_time},	       {"SystemStatus", pub_status}, {"Assets", pub_assets},
	    {"AssetPairs", pub_pairs}, {"Ticker", pub_ticker},	     {"Depth", pub_depth}};

static const struct {
	const char *name;
	priv_fn fn;
	unsigned perm_any; /* any of these bits */
	unsigned perm_all; /* and all of these */
	double cost;	   /* REST counter; 0 for the trading calls */
} privs[] = {
    {"Balance", p_balance, SIM_PERM_QUERY_FUNDS, 0, 1},
    {"BalanceEx", p_balance_ex, SIM_PERM_QUERY_FUNDS, 0, 1},
    {"TradeBalance", p_trade_balance, SIM_PERM_QUERY_OPEN, 0, 1},
    {"OpenOrders", p_open, SIM_PERM_QUERY_OPEN, 0, 1},
    {"ClosedOrders", p_closed, SIM_PERM_QUERY_CLOSED, 0, 1},
    {"QueryOrders", p_query, SIM_PERM_QUERY_OPEN | SIM_PERM_QUERY_CLOSED, 0, 1},
    {"AddOrder", p_add, SIM_PERM_TRADE, 0, 0},
    {"AddOrderBatch", p_batch, SIM_PERM_TRADE, SIM_PERM_CANCEL, 0},
    {"CancelOrder", p_cancel, SIM_PERM_TRADE | SIM_PERM_CANCEL, 0, 0},
    {"CancelAll", p_cancel_all, SIM_PERM_TRADE | SIM_PERM_CANCEL, 0, 1},
    {"CancelAllOrdersAfter", p_cancel_after, SIM_PERM_TRADE | SIM_PERM_CANCEL, 0, 1},
    {"TradeVolume", p_volume, SIM_PERM_QUERY_FUNDS, 0, 1},
    {"GetWebSocketsToken", p_token, SIM_PERM_WEBSOCKET, 0, 1},
};

/* The key's call counter (PROTOCOL.md §8.1): true when cost fits. */
static bool rate_ok(struct sim_account *a, double cost)
{
	uint64_t now = clock_mono_ns();

	if (a->rate_t_ns && now > a->rate_t_ns) {
		a->rate_level -= (double)(now - a->rate_t_ns) / 1e9 * a->rate_decay;
		if (a->rate_level < 0)
			a->rate_level = 0;
	}
	a->rate_t_ns = now;
	if (cost > 0 && a->rate_level + cost > a->rate_max)
		return false;
	a->rate_level += cost;
	return true;
}

/* Authenticates and runs one private call; returns the error or NULL. */
static const char *private_call(struct sim *s, struct MHD_Connection *c, const char *method,
				const struct req *rq, struct sim_buf *b, unsigned *delay_ms)
{
	const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "API-Key");
	const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "API-Sign");
	struct sim_accounts *st = sim__accts(s);
	char path[128], want[KR_SIGN_LEN + 1];
	const char *nonce_text, *err = NULL;
	struct sim_account *a;
	struct form f;
	uint64_t nonce;
	size_t m;
	long acct;
	char *end;

	for (m = 0; m < sizeof(privs) / sizeof(privs[0]); m++)
		if (strcmp(privs[m].name, method) == 0)
			break;
	if (m == sizeof(privs) / sizeof(privs[0]))
		return "EGeneral:Unknown method";
	if (form_parse(&f, rq->body ? rq->body : "", rq->len)) {
		free(f.text);
		return "EGeneral:Invalid arguments";
	}
	acct = key ? sim__account_find(s, key) : -1;
	if (acct < 0) {
		err = "EAPI:Invalid key";
		goto done;
	}
	a = &st->acct[acct];
	nonce_text = form_get(&f, "nonce");
	errno = 0;
	nonce = nonce_text && *nonce_text ? strtoull(nonce_text, &end, 10) : 0;
	if (!nonce_text || !*nonce_text || *end || errno || nonce == 0) {
		err = "EAPI:Invalid nonce";
		goto done;
	}
	snprintf(path, sizeof(path), "/0/private/%s", method);
	if (!sig ||
	    kr_sign(a->api_secret, path, nonce, rq->body, rq->len, want, sizeof(want)) < 0 ||
	    strlen(sig) != KR_SIGN_LEN || memcmp(sig, want, KR_SIGN_LEN) != 0) {
		err = "EAPI:Invalid signature";
		goto done;
	}
	if (nonce <= a->last_nonce) {
		err = "EAPI:Invalid nonce";
		goto done;
	}
	a->last_nonce = nonce;
	if (!rate_ok(a, privs[m].cost)) {
		err = "EAPI:Rate limit exceeded";
		goto done;
	}
	if (!(a->perms & privs[m].perm_any) ||
	    (privs[m].perm_all && (a->perms & privs[m].perm_all) != privs[m].perm_all)) {
		err = "EGeneral:Permission denied";
		goto done;
	}
	{
		struct pctx x = {.s = s, .acct = (size_t)acct, .a = a, .f = &f, .b = b};

		err = privs[m].fn(&x);
	}
	if (st->delay_n > 0) {
		st->delay_n--;
		*delay_ms = st->delay_ms;
	}
done:
	free(f.text);
	/* Every handler returns a static string (Kraken's error text) or NULL,
	 * never a pointer into the form or the handler's context. */
	// cppcheck-suppress returnDanglingLifetime
	return err;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *err,
			     struct sim_buf *result)
{
	struct sim_buf out;
	struct MHD_Response *r;
	enum MHD_Result ret;

	sim__buf_init(&out, 0);
	if (err)
		sim__buf_printf(&out, "{\"error\":[\"%s\"]}", err);
	else
		sim__buf_printf(&out, "{\"error\":[],\"result\":%s}", sim__buf_text(result));
	if (out.oom) {
		sim__buf_release(&out);
		return MHD_NO;
	}
	r = MHD_create_response_from_buffer(out.len, sim__buf_text(&out), MHD_RESPMEM_MUST_COPY);
	sim__buf_release(&out);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_len, void **con_cls)
{
	struct sim_rest_srv *srv = cls;
	struct req *rq = *con_cls;
	struct sim_buf res;
	const char *err = NULL;
	unsigned code = 200, delay_ms = 0;
	enum MHD_Result ret;

	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*data_len) {
		if (rq->len + *data_len > BODY_MAX) {
			rq->too_big = true;
		} else {
			char *nb = realloc(rq->body, rq->len + *data_len + 1);

			if (!nb)
				return MHD_NO;
			rq->body = nb;
			memcpy(rq->body + rq->len, data, *data_len);
			rq->len += *data_len;
			rq->body[rq->len] = '\0';
		}
		*data_len = 0;
		return MHD_YES;
	}
	sim__buf_init(&res, 0);
	if (rq->too_big) {
		code = 413;
		err = "EGeneral:Invalid arguments";
	} else if (strncmp(url, "/0/public/", 10) == 0) {
		size_t k, np = sizeof(pubs) / sizeof(pubs[0]);

		for (k = 0; k < np && strcmp(pubs[k].name, url + 10) != 0; k++) {
		}
		if (k == np) {
			code = 404;
			err = "EGeneral:Unknown method";
		} else {
			sim__lock(srv->s);
			err = pubs[k].fn(srv->s, c, &res);
			sim__unlock(srv->s);
		}
	} else if (strncmp(url, "/0/private/", 11) == 0) {
		if (strcmp(method, "POST") != 0) {
			code = 405;
			err = "EGeneral:Invalid arguments";
		} else {
			sim__lock(srv->s);
			err = private_call(srv->s, c, url + 11, rq, &res, &delay_ms);
			sim__unlock(srv->s);
			if (err && strcmp(err, "EGeneral:Unknown method") == 0)
				code = 404;
		}
	} else {
		code = 404;
		err = "EGeneral:Unknown method";
	}
	if (delay_ms) {
		/* The test hook: the request was processed, the answer comes late. */
		struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		}
	}
	ret = res.oom ? MHD_NO : reply(c, code, err, &res);
	sim__buf_release(&res);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static void *tick_main(void *arg)
{
	struct sim_rest_srv *srv = arg;

	while (!srv->stop) {
		struct timespec ts = {0, 100000000L};

		nanosleep(&ts, NULL);
		sim__lock(srv->s);
		sim__accounts_tick(srv->s, clock_wall_ns());
		sim__unlock(srv->s);
	}
	return NULL;
}

int sim__rest_start(struct sim *s, const char *host, uint16_t port, uint16_t *bound,
		    struct err_info *info)
{
	struct sim_accounts *st = sim__accts(s);
	struct sim_rest_srv *srv;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	const union MHD_DaemonInfo *di;

	if (!st)
		return err_set(info, ERR_BADSTATE, "sim REST: accounts not initialised");
	if (!host || strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || (ntohl(sa.sin_addr.s_addr) >> 24) != 127)
		return err_set(info, ERR_INVALID,
			       "sim REST: host %s is not an IPv4 loopback address", host);
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return err_set(info, ERR_NOMEM, "sim REST: out of memory");
	srv->s = s;
	srv->d = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL,
	    NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, srv, MHD_OPTION_CONNECTION_LIMIT, 64u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!srv->d) {
		free(srv);
		return err_set(info, ERR_NET, "sim REST: cannot listen on %s:%u", host, port);
	}
	di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
	if (bound)
		*bound = di ? di->port : port;
	if (pthread_create(&srv->ticker, NULL, tick_main, srv) == 0)
		srv->ticker_on = true;
	st->rest = srv;
	return 0;
}

void sim__rest_stop(struct sim *s)
{
	struct sim_accounts *st = sim__accts(s);
	struct sim_rest_srv *srv = st ? st->rest : NULL;

	if (!srv)
		return;
	srv->stop = true;
	if (srv->ticker_on)
		pthread_join(srv->ticker, NULL);
	MHD_stop_daemon(srv->d);
	free(srv);
	st->rest = NULL;
}

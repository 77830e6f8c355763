/* Shared by the exec tests: a three-pair universe (BTC/USD, ETH/BTC,
 * ETH/USD), hand-made books behind an exec_levels_fn, a scripted fake venue,
 * and a sink that keeps every record. Header-only: each test binary
 * includes it once. */
#ifndef TEST_EXEC_FIXTURE_H
#define TEST_EXEC_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "exec/exec.h"
#include "exec/exec_int.h"

/* ---- universe -------------------------------------------------------------- */

enum { P_BTCUSD = 0, P_ETHBTC = 1, P_ETHUSD = 2, N_PAIRS = 3 };

static inline void fx_pairs(struct arb_pair p[N_PAIRS])
{
	memset(p, 0, sizeof(struct arb_pair) * N_PAIRS);
	/* BTC/USD: price 0.1 USD, qty 1e-8 BTC, qty_min 0.0001, cost_min 0.50 USD */
	p[0] = (struct arb_pair){.symbol = "BTC/USD",
				 .base = "BTC",
				 .quote = "USD",
				 .price_scale = 1,
				 .qty_scale = 8,
				 .cost_scale = 2,
				 .price_increment = 1,
				 .qty_increment = 1,
				 .qty_min = 10000,
				 .cost_min = 50,
				 .taker_fee_bps = 26,
				 .tradable = true};
	/* ETH/BTC: price 1e-5 BTC, qty 1e-8 ETH, qty_min 0.001, cost_min 0.00002 BTC */
	p[1] = (struct arb_pair){.symbol = "ETH/BTC",
				 .base = "ETH",
				 .quote = "BTC",
				 .price_scale = 5,
				 .qty_scale = 8,
				 .cost_scale = 8,
				 .price_increment = 1,
				 .qty_increment = 1,
				 .qty_min = 100000,
				 .cost_min = 2000,
				 .taker_fee_bps = 26,
				 .tradable = true};
	/* ETH/USD: price 0.01 USD, qty 1e-8 ETH, qty_min 0.001, cost_min 0.50 USD */
	p[2] = (struct arb_pair){.symbol = "ETH/USD",
				 .base = "ETH",
				 .quote = "USD",
				 .price_scale = 2,
				 .qty_scale = 8,
				 .cost_scale = 2,
				 .price_increment = 1,
				 .qty_increment = 1,
				 .qty_min = 100000,
				 .cost_min = 50,
				 .taker_fee_bps = 26,
				 .tradable = true};
}

/* ---- books ------------------------------------------------------------------- */

#define FX_LEVELS 8
struct fx_books {
	struct book_level asks[N_PAIRS][FX_LEVELS], bids[N_PAIRS][FX_LEVELS];
	size_t na[N_PAIRS], nb[N_PAIRS];
	unsigned calls;
};

static inline int fx_levels(void *ctx, uint32_t pair, enum venue_side side, struct book_level *out,
			    size_t cap, size_t *n)
{
	struct fx_books *b = ctx;
	b->calls++;
	if (pair >= N_PAIRS)
		return ERR_NOTFOUND;
	size_t have = side == VENUE_BUY ? b->na[pair] : b->nb[pair];
	const struct book_level *lv = side == VENUE_BUY ? b->asks[pair] : b->bids[pair];
	*n = have < cap ? have : cap;
	memcpy(out, lv, *n * sizeof(*out));
	return 0;
}

static inline void fx_ask(struct fx_books *b, int pair, int64_t price, int64_t qty)
{
	b->asks[pair][b->na[pair]++] = (struct book_level){price, qty};
}
static inline void fx_bid(struct fx_books *b, int pair, int64_t price, int64_t qty)
{
	b->bids[pair][b->nb[pair]++] = (struct book_level){price, qty};
}

/* ---- the opportunity ------------------------------------------------------- */

/* USD>BTC>ETH>USD: buy BTC/USD, buy ETH/BTC, sell ETH/USD. */
static inline struct arb_opp fx_opp(uint64_t id, int64_t btc_qty, int64_t btc_px, int64_t eth_qty,
				    int64_t ethbtc_px, int64_t ethusd_px)
{
	struct arb_opp o;
	memset(&o, 0, sizeof(o));
	o.id = id;
	o.n_legs = 3;
	snprintf(o.home, sizeof(o.home), "USD");
	snprintf(o.path, sizeof(o.path), "USD>BTC>ETH>USD");
	struct {
		uint32_t pair;
		const char *sym, *in, *out;
		enum arb_side side;
		int ps;
		int64_t px, qty;
	} legs[3] = {{P_BTCUSD, "BTC/USD", "USD", "BTC", ARB_BUY, 1, btc_px, btc_qty},
		     {P_ETHBTC, "ETH/BTC", "BTC", "ETH", ARB_BUY, 5, ethbtc_px, eth_qty},
		     {P_ETHUSD, "ETH/USD", "ETH", "USD", ARB_SELL, 2, ethusd_px, eth_qty}};
	for (int i = 0; i < 3; i++) {
		struct arb_leg *l = &o.legs[i];
		l->pair = legs[i].pair;
		snprintf(l->symbol, sizeof(l->symbol), "%s", legs[i].sym);
		snprintf(l->asset_in, sizeof(l->asset_in), "%s", legs[i].in);
		snprintf(l->asset_out, sizeof(l->asset_out), "%s", legs[i].out);
		l->side = legs[i].side;
		l->price_scale = legs[i].ps;
		l->qty_scale = 8;
		l->limit_price = legs[i].px;
		l->qty = legs[i].qty;
		l->fee_bps = 26;
	}
	o.size_home = 100;
	o.profit_home = 0.2;
	o.profit_bps = 20;
	return o;
}

/* ---- the sink ------------------------------------------------------------------ */

#define FX_MAX_REC 64
struct fx_sink {
	struct exec_trade trades[FX_MAX_REC];
	size_t n_trades;
	char actions[FX_MAX_REC][48];
	char details[FX_MAX_REC][768];
	size_t n_audit;
	size_t n_portfolio;
	struct venue_balance last_bal[EXEC_MAX_BALANCES];
	size_t n_last_bal;
};

static inline void fx_on_trade(void *ctx, const struct exec_trade *t)
{
	struct fx_sink *s = ctx;
	if (s->n_trades < FX_MAX_REC)
		s->trades[s->n_trades++] = *t;
}
static inline void fx_on_audit(void *ctx, const char *action, const char *detail)
{
	struct fx_sink *s = ctx;
	if (s->n_audit < FX_MAX_REC) {
		snprintf(s->actions[s->n_audit], sizeof(s->actions[0]), "%s", action);
		snprintf(s->details[s->n_audit], sizeof(s->details[0]), "%s", detail);
		s->n_audit++;
	}
}
static inline void fx_on_portfolio(void *ctx, const struct venue_balance *b, size_t n,
				   const char *home)
{
	struct fx_sink *s = ctx;
	(void)home;
	s->n_portfolio++;
	s->n_last_bal = n;
	memcpy(s->last_bal, b, n * sizeof(*b));
}
static inline struct exec_sink fx_sink_make(struct fx_sink *s)
{
	memset(s, 0, sizeof(*s));
	return (struct exec_sink){fx_on_trade, fx_on_audit, fx_on_portfolio, s};
}
/* Index of the first audit event with action (after from), or -1. */
static inline int fx_audit_find(const struct fx_sink *s, const char *action, size_t from)
{
	for (size_t i = from; i < s->n_audit; i++)
		if (strcmp(s->actions[i], action) == 0)
			return (int)i;
	return -1;
}

/* ---- the fake venue --------------------------------------------------------- */

/* What the fake does with the k-th order placed. fill_num/fill_den of the
 * quantity fills (rounded down) at the limit price, or at price for a
 * market order; no fee unless fee is set (in fee_scale units). */
struct fx_step {
	enum venue_status status;
	int64_t fill_num, fill_den;
	int64_t price; /* market orders */
	int64_t fee;
	const char *reason;
};

#define FX_MAX_ORDERS 16
struct fx_venue {
	struct fx_step script[FX_MAX_ORDERS];
	size_t n_script;
	struct venue_order placed[FX_MAX_ORDERS];
	struct venue_report reports[FX_MAX_ORDERS];
	bool delivered[FX_MAX_ORDERS];
	size_t n_placed;
	unsigned hold_polls; /* reports wait this many polls */
	unsigned polls_since[FX_MAX_ORDERS];
	unsigned cancel_all_calls, queries, cancels;
	int query_err; /* non-zero: query() fails with it */
	bool deliver;  /* false: keep every report back (a crash before reports) */
	/* When set: at each place(), whether this file already held a line
	 * naming the order (its journaled intent). */
	const char *journal;
	bool journaled[FX_MAX_ORDERS];
};

static inline bool fx_file_has(const char *path, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0'; /* the journal's data ends at its first NUL */
	return strstr(buf, needle) != NULL;
}

static inline int fv_place(void *ctx, const struct venue_order *o)
{
	struct fx_venue *v = ctx;
	if (v->n_placed == FX_MAX_ORDERS)
		return ERR_FULL;
	size_t k = v->n_placed++;
	v->placed[k] = *o;
	if (v->journal)
		v->journaled[k] = fx_file_has(v->journal, o->cl_ord_id);
	struct fx_step st =
	    k < v->n_script ? v->script[k] : (struct fx_step){VENUE_ST_FILLED, 1, 1, 0, 0, NULL};
	struct venue_report *r = &v->reports[k];
	memset(r, 0, sizeof(*r));
	snprintf(r->cl_ord_id, sizeof(r->cl_ord_id), "%s", o->cl_ord_id);
	snprintf(r->order_id, sizeof(r->order_id), "FAKE-%zu", k);
	snprintf(r->symbol, sizeof(r->symbol), "%s", o->symbol);
	r->status = st.status;
	r->side = o->side;
	r->price_scale = o->price_scale;
	r->qty_scale = o->qty_scale;
	r->fee_scale = exec__fee_scale(o->price_scale, o->qty_scale);
	r->qty = o->qty;
	r->filled_qty = st.fill_den ? o->qty * st.fill_num / st.fill_den : 0;
	int64_t px = o->type == VENUE_LIMIT ? o->limit_price : st.price;
	r->avg_price = r->filled_qty ? px : 0;
	r->cost = r->filled_qty * px; /* ps + qs <= 18 in the fixture */
	r->fee = st.fee;
	snprintf(r->fee_asset, sizeof(r->fee_asset), "%s", st.fee ? "USD" : "");
	snprintf(r->reason, sizeof(r->reason), "%s", st.reason ? st.reason : "");
	r->ts_ns = o->sent_ns + 1000;
	return 0;
}
static inline int fv_cancel(void *ctx, const char *id)
{
	struct fx_venue *v = ctx;
	(void)id;
	v->cancels++;
	return ERR_NOTFOUND;
}
static inline int fv_cancel_all(void *ctx)
{
	((struct fx_venue *)ctx)->cancel_all_calls++;
	return 0;
}
static inline int fv_query(void *ctx, const char *id, struct venue_report *out)
{
	struct fx_venue *v = ctx;
	v->queries++;
	if (v->query_err)
		return v->query_err;
	for (size_t k = 0; k < v->n_placed; k++)
		if (strcmp(v->placed[k].cl_ord_id, id) == 0) {
			*out = v->reports[k];
			return 0;
		}
	return ERR_NOTFOUND;
}
static inline int fv_balances(void *ctx, struct venue_balance *out, size_t cap, size_t *n)
{
	(void)ctx;
	(void)out;
	(void)cap;
	*n = 0;
	return 0;
}
static inline int fv_poll(void *ctx, uint64_t now, venue_report_fn fn, void *arg)
{
	struct fx_venue *v = ctx;
	int n = 0;
	(void)now;
	if (!v->deliver)
		return 0;
	for (size_t k = 0; k < v->n_placed; k++) {
		if (v->delivered[k] || v->polls_since[k]++ < v->hold_polls)
			continue;
		v->delivered[k] = true;
		fn(arg, &v->reports[k]);
		n++;
	}
	return n;
}
static inline void fv_destroy(void *ctx)
{
	(void)ctx;
}
static const struct venue_ops fx_venue_ops = {.name = "fake",
					      .place = fv_place,
					      .cancel = fv_cancel,
					      .cancel_all = fv_cancel_all,
					      .query = fv_query,
					      .balances = fv_balances,
					      .poll = fv_poll,
					      .destroy = fv_destroy};

static inline struct venue fx_venue_make(struct fx_venue *v)
{
	memset(v, 0, sizeof(*v));
	v->deliver = true;
	return (struct venue){&fx_venue_ops, v};
}

/* ---- risk --------------------------------------------------------------------- */

static inline struct risk *fx_risk(void)
{
	struct risk_limits l;
	memset(&l, 0, sizeof(l));
	l.min_profit_bps = 1;
	l.max_notional = 1000;
	l.max_book_age_ms = 2000;
	l.max_exposure = 10000;
	l.max_cycles_per_min = 100;
	l.daily_loss_limit = 100;
	l.max_consecutive_failures = 5;
	return risk_new(&l, NULL);
}

static inline struct exec_cfg fx_exec_cfg(const struct arb_pair *pairs, struct fx_books *books)
{
	struct exec_cfg c;
	memset(&c, 0, sizeof(c));
	c.pairs = pairs;
	c.n_pairs = N_PAIRS;
	c.default_fee_bps = 26;
	c.slippage_bps = 0;
	c.max_book_age_ms = 2000;
	c.levels = fx_levels;
	c.levels_ctx = books;
	return c;
}

#define T0   1000000000000ull /* a monotonic "now" for the tests */
#define WALL 1796126400000000000ll

#endif

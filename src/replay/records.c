/* Detector opportunities and execution trades as store records: one
 * conversion, used by `arbitrade run` and the backtest alike. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/fixed.h"
#include "replay/replay.h"

/* Profit and fees are estimates in double; stored to 10^-10 of the home
 * asset, well below any increment Kraken lists. */
#define REC_SCALE 10

static struct store_amount amt_d(double v)
{
	struct store_amount a;
	if (!isfinite(v) || store_amount_from_double(v, REC_SCALE, &a) != 0)
		return STORE_AMOUNT_NULL;
	return a;
}

/* Record fields are fixed arrays; a longer text is cut (names fit in
 * practice: a 4-leg path is about 20 characters). */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

void replay_rec_opportunity(const struct arb_opp *o, int64_t wall_ns, enum store_mode mode,
			    enum store_verdict verdict, const char *reason, struct store_rec *out)
{
	memset(out, 0, sizeof *out);
	out->type = STORE_REC_OPPORTUNITY;
	struct store_opportunity *r = &out->u.opp;
	r->ts_ns = wall_ns;
	r->opp_id = o->id;
	r->mode = mode;
	r->verdict = verdict;
	r->n_legs = o->n_legs > STORE_MAX_LEGS ? STORE_MAX_LEGS : o->n_legs;
	copy(r->cycle, sizeof r->cycle, o->path);
	copy(r->home_asset, sizeof r->home_asset, o->home);
	for (unsigned i = 0; i < r->n_legs; i++) {
		const struct arb_leg *l = &o->legs[i];
		struct store_leg *s = &r->legs[i];
		copy(s->symbol, sizeof s->symbol, l->symbol);
		s->side = l->side == ARB_BUY ? STORE_SIDE_BUY : STORE_SIDE_SELL;
		s->book_age_ms = (int32_t)(l->book_age_ms > INT32_MAX ? INT32_MAX : l->book_age_ms);
		s->price = store_amt(l->limit_price, l->price_scale);
		s->qty = store_amt(l->qty, l->qty_scale);
		s->rate = l->rate;
	}
	r->size = amt_d(o->size_home);
	r->expected_profit = amt_d(o->profit_home);
	r->expected_fee = amt_d(o->fee_home);
	r->expected_profit_bps = o->profit_bps;
	r->net_rate = o->net_rate;
	r->max_book_age_ms =
	    (int32_t)(o->max_book_age_ms > INT32_MAX ? INT32_MAX : o->max_book_age_ms);
	r->detect_latency_ns =
	    o->detect_ns >= o->trigger_ns ? (int64_t)(o->detect_ns - o->trigger_ns) : -1;
	copy(r->reason, sizeof r->reason, reason);
}

static enum store_order_status status_of(enum venue_status s)
{
	switch (s) {
	case VENUE_ST_PENDING:
		return STORE_STATUS_PENDING;
	case VENUE_ST_OPEN:
		return STORE_STATUS_OPEN;
	case VENUE_ST_PARTIAL:
		return STORE_STATUS_PARTIALLY_FILLED;
	case VENUE_ST_FILLED:
		return STORE_STATUS_FILLED;
	case VENUE_ST_CANCELED:
		return STORE_STATUS_CANCELED;
	case VENUE_ST_EXPIRED:
		return STORE_STATUS_EXPIRED;
	case VENUE_ST_REJECTED:
		return STORE_STATUS_REJECTED;
	case VENUE_ST_UNKNOWN:
		break;
	}
	return STORE_STATUS_UNKNOWN;
}

void replay_rec_trade(const struct exec_trade *t, enum store_mode mode, struct store_rec *out)
{
	memset(out, 0, sizeof *out);
	out->type = STORE_REC_TRADE;
	struct store_trade *r = &out->u.trade;
	r->ts_ns = t->ts_ns;
	r->opp_id = t->opp_id;
	r->mode = mode;
	r->side = t->side == VENUE_BUY ? STORE_SIDE_BUY : STORE_SIDE_SELL;
	r->order_type = t->type == VENUE_MARKET ? STORE_ORDER_MARKET : STORE_ORDER_LIMIT;
	r->tif = t->tif == VENUE_GTC ? STORE_TIF_GTC : STORE_TIF_IOC;
	r->status = status_of(t->status);
	r->leg = t->leg;
	copy(r->cycle, sizeof r->cycle, t->cycle);
	copy(r->cl_ord_id, sizeof r->cl_ord_id, t->cl_ord_id);
	copy(r->order_id, sizeof r->order_id, t->order_id);
	copy(r->symbol, sizeof r->symbol, t->symbol);
	copy(r->fee_asset, sizeof r->fee_asset, t->fee_asset);
	r->limit_price =
	    t->type == VENUE_MARKET ? STORE_AMOUNT_NULL : store_amt(t->limit_price, t->price_scale);
	r->qty = store_amt(t->qty, t->qty_scale);
	r->filled_qty = store_amt(t->filled_qty, t->qty_scale);
	r->avg_price =
	    t->filled_qty > 0 ? store_amt(t->avg_price, t->price_scale) : STORE_AMOUNT_NULL;
	r->fee = store_amt(t->fee, t->fee_scale);
	r->expected_profit = amt_d(t->expected_profit);
	r->realised_profit = amt_d(t->realised_profit);
	r->submit_latency_ns = t->submit_latency_ns;
	r->ack_latency_ns = t->ack_latency_ns;
	r->fill_latency_ns = t->fill_latency_ns;
	if (t->unwind && !t->reason[0])
		copy(r->reason, sizeof r->reason, "unwind");
	else if (t->unwind)
		snprintf(r->reason, sizeof r->reason, "unwind: %s", t->reason);
	else
		copy(r->reason, sizeof r->reason, t->reason);
}

void replay_rec_portfolio(const struct venue_balance *b, const char *home, double price_home,
			  int64_t wall_ns, enum store_mode mode, struct store_rec *out)
{
	memset(out, 0, sizeof *out);
	out->type = STORE_REC_PORTFOLIO;
	struct store_portfolio *r = &out->u.portfolio;
	r->ts_ns = wall_ns;
	r->mode = mode;
	copy(r->asset, sizeof r->asset, b->asset);
	copy(r->home_asset, sizeof r->home_asset, home);
	r->balance = store_amt(b->amount, b->scale);
	if (strcmp(b->asset, home) == 0)
		r->value_home = r->balance;
	else
		r->value_home = amt_d(fx_to_double(b->amount, b->scale) * price_home);
}

static double best(const struct arb_pair *p, uint32_t id, enum venue_side side,
		   exec_levels_fn levels, void *ctx)
{
	struct book_level l[1];
	size_t n = 0;
	if (levels(ctx, id, side, l, 1, &n) != 0 || n == 0)
		return NAN;
	return fx_to_double(l[0].price, p->price_scale);
}

double replay_price_in_home(const struct arb_pair *pairs, uint32_t n, exec_levels_fn levels,
			    void *levels_ctx, const char *asset, const char *home)
{
	if (strcmp(asset, home) == 0)
		return 1.0;
	if (!levels)
		return NAN;
	for (uint32_t i = 0; i < n; i++) {
		const struct arb_pair *p = &pairs[i];
		/* A sell takes the bids; a buy takes the asks. */
		if (strcmp(p->base, asset) == 0 && strcmp(p->quote, home) == 0)
			return best(p, i, VENUE_SELL, levels, levels_ctx);
		if (strcmp(p->base, home) == 0 && strcmp(p->quote, asset) == 0) {
			double ask = best(p, i, VENUE_BUY, levels, levels_ctx);
			return ask > 0 ? 1.0 / ask : NAN;
		}
	}
	return NAN;
}

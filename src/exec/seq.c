/* The cycle: legs, sizing from fills, the per-cycle ledger, unwind, records. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/fixed.h"
#include "core/log.h"
#include "exec/exec_int.h"

#define M6 1000000

const char *venue_status_name(enum venue_status s)
{
	static const char *const names[] = {"pending",	"open",	   "partially_filled", "filled",
					    "canceled", "expired", "rejected",	       "unknown"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *exec__json(char *buf, size_t cap, const char *s)
{
	size_t k = 0;
	for (; *s && k + 2 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20)
			continue;
		if (c == '"' || c == '\\')
			buf[k++] = '\\';
		buf[k++] = (char)c;
	}
	buf[k] = '\0';
	return buf;
}

void exec__audit(struct exec *e, const char *action, const char *fmt, ...)
{
	if (!e->sink.on_audit)
		return;
	char detail[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	e->sink.on_audit(e->sink.ctx, action, detail);
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

void exec__emit_trade(struct exec *e, const struct exec_order *o, const char *reason,
		      double realised)
{
	if (!e->sink.on_trade)
		return;
	const struct venue_report *r = &o->last;
	struct exec_trade t;
	memset(&t, 0, sizeof(t));
	t.ts_ns = e->wall_ns;
	t.opp_id = e->cyc.opp.id;
	t.leg = (uint8_t)o->leg;
	t.unwind = o->unwind;
	copy(t.cycle, sizeof(t.cycle), e->cyc.opp.path);
	copy(t.cl_ord_id, sizeof(t.cl_ord_id), o->o.cl_ord_id);
	copy(t.order_id, sizeof(t.order_id), r->order_id);
	copy(t.symbol, sizeof(t.symbol), o->o.symbol);
	copy(t.fee_asset, sizeof(t.fee_asset), r->fee_asset);
	copy(t.reason, sizeof(t.reason), reason && *reason ? reason : r->reason);
	t.side = o->o.side;
	t.type = o->o.type;
	t.tif = o->o.tif;
	t.status = r->status;
	t.price_scale = o->o.price_scale;
	t.qty_scale = o->o.qty_scale;
	t.fee_scale = exec__fee_scale(t.price_scale, t.qty_scale);
	t.limit_price = o->o.limit_price;
	t.qty = o->o.qty;
	t.filled_qty = r->filled_qty;
	t.avg_price = r->avg_price;
	t.fee = r->fee;
	t.expected_profit = e->cyc.opp.profit_home;
	t.realised_profit = realised;
	t.submit_latency_ns = o->o.sent_ns >= o->decide_ns && o->decide_ns
				  ? (int64_t)(o->o.sent_ns - o->decide_ns)
				  : -1;
	t.ack_latency_ns = o->ack_ns ? (int64_t)(o->ack_ns - o->o.sent_ns) : -1;
	t.fill_latency_ns = r->ts_ns >= o->o.sent_ns ? (int64_t)(r->ts_ns - o->o.sent_ns) : -1;
	e->sink.on_trade(e->sink.ctx, &t);
}

/* ---- the ledger ------------------------------------------------------- */

static struct exec_ledger *led(struct exec_cycle *c, const char *asset)
{
	for (unsigned i = 0; i < c->n_led; i++)
		if (strcmp(c->led[i].asset, asset) == 0)
			return &c->led[i];
	if (c->n_led == EXEC_MAX_LEDGER)
		return NULL; /* cannot happen: a cycle touches n_legs + 1 assets */
	struct exec_ledger *l = &c->led[c->n_led++];
	memset(l, 0, sizeof(*l));
	copy(l->asset, sizeof(l->asset), asset);
	return l;
}

static void led_add(struct exec_cycle *c, const char *asset, __int128 d18)
{
	struct exec_ledger *l = led(c, asset);
	if (l)
		l->amt18 += d18;
}

/* Books an order's fills: base and quote move, the fee leaves fee_asset. */
static void led_apply(struct exec *e, const struct exec_order *o)
{
	const struct arb_pair *p = &e->pairs[o->o.pair_id];
	const struct venue_report *r = &o->last;
	int fs = r->fee_scale >= 0 && r->fee_scale <= 18
		     ? r->fee_scale
		     : exec__fee_scale(o->o.price_scale, o->o.qty_scale);
	__int128 base = (__int128)r->filled_qty * fx_pow10(18 - o->o.qty_scale);
	__int128 cost = (__int128)r->cost * fx_pow10(18 - fs);
	__int128 fee = (__int128)r->fee * fx_pow10(18 - fs);
	int sgn = o->o.side == VENUE_BUY ? 1 : -1;
	led_add(&e->cyc, p->base, sgn * base);
	led_add(&e->cyc, p->quote, -sgn * cost);
	if (r->fee)
		led_add(&e->cyc, r->fee_asset[0] ? r->fee_asset : p->quote, -fee);
}

/* ---- prices and sizes ------------------------------------------------- */

/* The worst acceptable price: the detector's limit moved by the slippage
 * tolerance, rounded to the increment so the tolerance is never exceeded. */
static int64_t worst_price(const struct exec *e, const struct arb_leg *l)
{
	const struct arb_pair *p = &e->pairs[l->pair];
	int64_t inc = p->price_increment;
	__int128 px =
	    (__int128)l->limit_price * (l->side == ARB_BUY ? M6 + e->slip_cbps : M6 - e->slip_cbps);
	if (l->side == ARB_BUY)
		return (int64_t)(px / M6 / inc * inc);
	__int128 up = (px + M6 - 1) / M6;
	return (int64_t)((up + inc - 1) / inc * inc);
}

static bool below_min(const struct arb_pair *p, int64_t qty, int64_t price)
{
	if (qty <= 0 || qty < p->qty_min)
		return true;
	if (price <= 0)
		return false;		       /* a market order's cost is checked by the venue */
	__int128 cost = (__int128)qty * price; /* scale ps + qs */
	__int128 min = p->cost_min;
	int pq = p->price_scale + p->qty_scale;
	for (int s = p->cost_scale; s < pq; s++)
		min *= 10;
	for (int s = pq; s < p->cost_scale; s++)
		cost *= 10;
	return cost < min;
}

/* How much base a buy at price (with the fee) can pay for with have18 of
 * quote, rounded down to the qty increment. */
static int64_t buy_qty(const struct exec *e, uint32_t pair, int64_t price, __int128 have18)
{
	const struct arb_pair *p = &e->pairs[pair];
	int fs = exec__fee_scale(p->price_scale, p->qty_scale);
	int pq = p->price_scale + p->qty_scale;
	int64_t fee = e->fee_cbps[pair];
	if (have18 <= 0 || price <= 0)
		return 0;
	__int128 have_fs = have18 / fx_pow10(18 - fs);
	__int128 num = have_fs * fx_pow10(pq - fs) * M6;
	__int128 q = num / ((__int128)price * (M6 + fee));
	q = q / p->qty_increment * p->qty_increment;
	/* The venue rounds the fee up: step down until cost + fee fits. */
	while (q > 0) {
		__int128 c = q * price;
		__int128 c_fs = pq > 18 ? c / fx_pow10(pq - 18) : c;
		if (c_fs + (c_fs * fee + M6 - 1) / M6 <= have_fs)
			break;
		q -= p->qty_increment;
	}
	return q > INT64_MAX ? 0 : (int64_t)q;
}

static int64_t sell_qty(const struct exec *e, uint32_t pair, __int128 have18)
{
	const struct arb_pair *p = &e->pairs[pair];
	if (have18 <= 0)
		return 0;
	__int128 q = have18 / fx_pow10(18 - p->qty_scale);
	q = q / p->qty_increment * p->qty_increment;
	return q > INT64_MAX ? 0 : (int64_t)q;
}

/* ---- sending ------------------------------------------------------------ */

static struct exec_order *new_order(struct exec *e, uint32_t pair, enum venue_side side,
				    enum venue_order_type type, int64_t price, int64_t qty, int leg,
				    bool unwind, uint64_t decide_ns)
{
	struct exec_cycle *c = &e->cyc;
	if (c->n_orders == EXEC_MAX_ORDERS)
		return NULL;
	const struct arb_pair *p = &e->pairs[pair];
	struct exec_order *o = &c->orders[c->n_orders];
	memset(o, 0, sizeof(*o));
	unsigned attempt = 0;
	for (unsigned i = 0; i < c->n_orders; i++)
		if (c->orders[i].unwind == unwind && (unwind || c->orders[i].leg == leg))
			attempt++;
	if (exec_clid(c->opp.id, unwind ? 'u' : (char)('0' + leg), attempt, o->o.cl_ord_id,
		      sizeof(o->o.cl_ord_id)) < 0)
		return NULL;
	copy(o->o.symbol, sizeof(o->o.symbol), p->symbol);
	o->o.pair_id = pair;
	o->o.side = side;
	o->o.type = type;
	o->o.tif = VENUE_IOC;
	o->o.price_scale = p->price_scale;
	o->o.qty_scale = p->qty_scale;
	o->o.limit_price = type == VENUE_LIMIT ? price : 0;
	o->o.qty = qty;
	o->hash = exec__hash(o->o.cl_ord_id);
	o->decide_ns = decide_ns;
	o->o.origin_ns = c->origin_ns;
	o->leg = leg;
	o->unwind = unwind;
	c->n_orders++;
	return o;
}

/* Journals and places o; 0 or the refusal's code (see refused()). */
static int place(struct exec *e, struct exec_order *o)
{
	struct exec_cycle *c = &e->cyc;
	o->o.sent_ns = e->now_ns;
	int rc = exec__journal_intent(e, o);
	/* On the execution thread, stamp the send after the journal write (its
	 * cost is part of decision to order) with a fresh reading: now_ns is
	 * when this poll began, often before the opportunity was detected.
	 * A replay keeps the poll's time, its clock. */
	if (e->thread_clock)
		o->o.sent_ns = e->thread_clock->mono_ns(e->thread_clock->ctx);
	if (rc == 0)
		rc = e->venue->ops->place(e->venue->ctx, &o->o);
	/* A cycle's first orders are synced once all of them are out. */
	if (!c->origin_ns)
		exec__journal_sync(e);
	if (rc == 0) {
		c->inflight++;
		e->st.orders++;
		if (o->unwind)
			e->st.unwinds++;
	}
	return rc;
}

/* An order place() could not send is final at once, and recorded. */
static void refused(struct exec *e, struct exec_order *o, int rc)
{
	e->st.place_errors++;
	o->done = true;
	o->last.status = VENUE_ST_REJECTED;
	o->last.fee_scale = exec__fee_scale(o->o.price_scale, o->o.qty_scale);
	o->last.ts_ns = e->now_ns;
	snprintf(o->last.reason, sizeof(o->last.reason), "not sent: %s", err_str(rc));
	exec__journal_done(e, o);
	exec__emit_trade(e, o, NULL, NAN);
	LOG_WARN("exec", "order not sent", "cl_ord_id=%s symbol=%s err=\"%s\"", o->o.cl_ord_id,
		 o->o.symbol, err_str(rc));
}

static bool send(struct exec *e, struct exec_order *o)
{
	int rc = place(e, o);
	if (rc != 0)
		refused(e, o, rc);
	return rc == 0;
}

static struct exec_order *leg_order(struct exec *e, int i, int64_t qty, uint64_t decide_ns)
{
	const struct arb_leg *l = &e->cyc.opp.legs[i];
	int64_t px = worst_price(e, l);
	enum venue_side side = l->side == ARB_BUY ? VENUE_BUY : VENUE_SELL;
	struct exec_order *o =
	    new_order(e, l->pair, side, VENUE_LIMIT, px, qty, i, false, decide_ns);
	if (!o)
		copy(e->cyc.why, sizeof(e->cyc.why), "order table full");
	return o;
}

static void leg_refused(struct exec *e, struct exec_order *o, int rc)
{
	refused(e, o, rc);
	snprintf(e->cyc.why, sizeof(e->cyc.why), "leg %d not sent: %s", o->leg, o->last.reason);
}

static bool send_leg(struct exec *e, int i, int64_t qty, uint64_t decide_ns)
{
	struct exec_order *o = leg_order(e, i, qty, decide_ns);
	if (!o)
		return false;
	int rc = place(e, o);
	if (rc != 0) {
		leg_refused(e, o, rc);
		return false;
	}
	return true;
}

/* ---- the cycle ---------------------------------------------------------- */

static void snapshot(struct exec *e)
{
	size_t n = 0;
	if (!e->sink.on_portfolio ||
	    e->venue->ops->balances(e->venue->ctx, e->bal, EXEC_MAX_BALANCES, &n) < 0)
		return;
	e->sink.on_portfolio(e->sink.ctx, e->bal, n, e->cyc.opp.home);
}

static void finish(struct exec *e)
{
	struct exec_cycle *c = &e->cyc;
	bool ok = !c->partial && !c->stopping;
	struct exec_ledger *home = led(c, c->opp.home);
	double pnl = home ? (double)home->amt18 / 1e18 : 0;
	char held[256] = "";
	size_t k = 0;
	for (unsigned i = 0; i < c->n_led; i++) {
		if (strcmp(c->led[i].asset, c->opp.home) == 0 || c->led[i].amt18 <= 0)
			continue;
		char amt[48];
		int64_t a = (int64_t)(c->led[i].amt18 / fx_pow10(8));
		fx_format(a, 10, amt, sizeof(amt));
		int w = snprintf(held + k, sizeof(held) - k, "%s\"%s\":%s", k ? "," : "",
				 c->led[i].asset, amt);
		if (w > 0 && (size_t)w < sizeof(held) - k)
			k += (size_t)w;
	}
	c->realised = pnl;
	c->finished = true;
	if (ok)
		e->st.completed++;
	else
		e->st.failed++;
	risk_cycle_done(e->risk, c->opp.size_home, pnl, ok, e->wall_ns);
	char why[4 * VENUE_REASON_MAX];
	exec__audit(e, "cycle_done",
		    "{\"opp_id\":%llu,\"cycle\":\"%s\",\"ok\":%s,\"expected_profit\":%.10g,"
		    "\"realised_profit\":%.10g,\"orders\":%u,\"held\":{%s},\"reason\":\"%s\"}",
		    (unsigned long long)c->opp.id, c->opp.path, ok ? "true" : "false",
		    c->opp.profit_home, pnl, c->n_orders, held,
		    exec__json(why, sizeof(why), c->why));
	snapshot(e);
	if (c->inflight == 0 && !e->journal_keep)
		exec__journal_reset(e);
	c->active = false;
}

static int find_pair(const struct exec *e, const char *base, const char *quote)
{
	for (uint32_t i = 0; i < e->cfg.n_pairs; i++)
		if (e->pairs[i].tradable && strcmp(e->pairs[i].base, base) == 0 &&
		    strcmp(e->pairs[i].quote, quote) == 0)
			return (int)i;
	return -1;
}

/* Audits what the cycle leaves held: action "alert" (held, no pair,
 * inventory shifted), or "dust" (below the unwind pair's minimums). */
static void alert(struct exec *e, const char *what, const struct exec_ledger *l)
{
	char amt[48];
	fx_format((int64_t)(l->amt18 / fx_pow10(8)), 10, amt, sizeof(amt));
	exec__audit(e, strcmp(what, "dust") == 0 ? "dust" : "alert",
		    "{\"opp_id\":%llu,\"cycle\":\"%s\",\"alert\":\"%s\",\"asset\":\"%s\","
		    "\"amount\":%s}",
		    (unsigned long long)e->cyc.opp.id, e->cyc.opp.path, what, l->asset, amt);
}

/* Sends the next unwind order; false when nothing is left to unwind. */
static bool unwind_next(struct exec *e)
{
	struct exec_cycle *c = &e->cyc;
	for (unsigned i = 0; i < c->n_led; i++) {
		struct exec_ledger *l = &c->led[i];
		if (strcmp(l->asset, c->opp.home) == 0 || l->amt18 <= 0 ||
		    l->unwind_tries >= EXEC_UNWIND_TRIES)
			continue;
		if (e->cfg.unwind_hold || e->kill_seen || c->unknown) {
			/* After the kill switch, or with an order whose fills are
			 * unknown, nothing more is traded. */
			l->unwind_tries = EXEC_UNWIND_TRIES;
			alert(e,
			      e->kill_seen ? "held_after_kill"
			      : c->unknown ? "held_order_unknown"
					   : "held",
			      l);
			continue;
		}
		l->unwind_tries++;
		int sell = find_pair(e, l->asset, c->opp.home);
		int buy = sell < 0 ? find_pair(e, c->opp.home, l->asset) : -1;
		int64_t qty = 0;
		uint32_t pair = 0;
		if (sell >= 0) {
			pair = (uint32_t)sell;
			qty = sell_qty(e, pair, l->amt18);
		} else if (buy >= 0) {
			size_t n = 0;
			pair = (uint32_t)buy;
			if (e->cfg.levels &&
			    e->cfg.levels(e->cfg.levels_ctx, pair, VENUE_BUY, e->lv, 1, &n) == 0 &&
			    n > 0) {
				__int128 px = (__int128)e->lv[0].price * (M6 + e->slip_cbps) / M6;
				qty = buy_qty(e, pair, (int64_t)px, l->amt18);
			}
		} else {
			l->unwind_tries = EXEC_UNWIND_TRIES;
			alert(e, "unwind_no_pair", l);
			continue;
		}
		if (below_min(&e->pairs[pair], qty, 0)) {
			l->unwind_tries = EXEC_UNWIND_TRIES;
			alert(e, "dust", l);
			continue;
		}
		struct exec_order *o =
		    new_order(e, pair, sell >= 0 ? VENUE_SELL : VENUE_BUY, VENUE_MARKET, 0, qty,
			      c->next_leg > 0 ? c->next_leg - 1 : 0, true, e->now_ns);
		if (!o)
			return false;
		exec__audit(e, "unwind",
			    "{\"opp_id\":%llu,\"cycle\":\"%s\",\"asset\":\"%s\",\"symbol\":\"%s\","
			    "\"side\":\"%s\",\"qty\":%lld,\"cl_ord_id\":\"%s\"}",
			    (unsigned long long)c->opp.id, c->opp.path, l->asset, o->o.symbol,
			    sell >= 0 ? "sell" : "buy", (long long)qty, o->o.cl_ord_id);
		if (send(e, o))
			return true;
	}
	return false;
}

/* After the last order of a step is final: the next leg, an unwind, or the end. */
static void advance(struct exec *e, const struct exec_order *last)
{
	struct exec_cycle *c = &e->cyc;
	if (c->inflight > 0)
		return;
	if (e->cfg.inventory) {
		for (unsigned i = 0; i < c->n_orders; i++)
			if (c->orders[i].last.filled_qty < c->orders[i].o.qty)
				c->partial = true;
		if (c->partial)
			for (unsigned i = 0; i < c->n_led; i++)
				if (c->led[i].amt18 != 0)
					alert(e, "inventory_shifted", &c->led[i]);
		finish(e);
		return;
	}
	if (!c->stopping && e->kill_seen) {
		c->stopping = true;
		copy(c->why, sizeof(c->why), "kill switch");
	}
	if (!c->stopping && last && !last->unwind) {
		int i = last->leg;
		if (last->last.filled_qty == 0) {
			c->stopping = true;
			snprintf(c->why, sizeof(c->why), "leg %d %s: %s", i,
				 venue_status_name(last->last.status), last->last.reason);
			exec__audit(
			    e, "leg_failed",
			    "{\"opp_id\":%llu,\"leg\":%d,\"symbol\":\"%s\",\"status\":\"%s\"}",
			    (unsigned long long)c->opp.id, i, last->o.symbol,
			    venue_status_name(last->last.status));
		} else if (last->last.filled_qty < last->o.qty) {
			c->partial = true;
		}
		if (!c->stopping && i + 1 < c->opp.n_legs) {
			const struct arb_leg *nl = &c->opp.legs[i + 1];
			struct exec_ledger *have = led(c, nl->asset_in);
			int64_t px = worst_price(e, nl);
			int64_t qty = nl->side == ARB_BUY
					  ? buy_qty(e, nl->pair, px, have ? have->amt18 : 0)
					  : sell_qty(e, nl->pair, have ? have->amt18 : 0);
			if (below_min(&e->pairs[nl->pair], qty, px)) {
				c->stopping = true;
				snprintf(c->why, sizeof(c->why),
					 "leg %d %s: %lld below the pair's minimums", i + 1,
					 nl->symbol, (long long)qty);
			} else {
				c->next_leg = i + 2;
				if (send_leg(e, i + 1, qty, last->last.ts_ns))
					return;
				c->stopping = true;
			}
		}
	}
	if (unwind_next(e))
		return;
	finish(e);
}

void exec__on_report(void *arg, const struct venue_report *r)
{
	struct exec *e = arg;
	struct exec_cycle *c = &e->cyc;
	e->st.reports++;
	e->work++;
	struct exec_order *o = NULL;
	if (c->active) {
		uint64_t h = exec__hash(r->cl_ord_id);
		for (unsigned i = 0; i < c->n_orders && !o; i++)
			if (c->orders[i].hash == h &&
			    strcmp(c->orders[i].o.cl_ord_id, r->cl_ord_id) == 0)
				o = &c->orders[i];
	}
	if (!o || o->done) {
		e->st.stray_reports++;
		return;
	}
	o->last = *r;
	if (!o->ack_ns && r->status != VENUE_ST_PENDING)
		o->ack_ns = r->ts_ns ? r->ts_ns : e->now_ns;
	if (!venue_status_final(r->status))
		return;
	o->done = true;
	c->inflight--;
	exec__journal_done(e, o);
	led_apply(e, o);
	advance(e, o);
	exec__emit_trade(e, o, NULL, c->finished && !c->active ? c->realised : NAN);
}

bool exec__opp_ok(const struct exec *e, const struct arb_opp *o, char *why, size_t cap)
{
	if (o->n_legs < 2 || o->n_legs > ARB_MAX_LEGS) {
		snprintf(why, cap, "malformed: %u legs", (unsigned)o->n_legs);
		return false;
	}
	for (int i = 0; i < o->n_legs; i++) {
		const struct arb_leg *l = &o->legs[i];
		if (l->pair >= e->cfg.n_pairs || e->pairs[l->pair].symbol[0] == '\0') {
			snprintf(why, cap, "malformed: leg %d pair %u outside the universe", i,
				 l->pair);
			return false;
		}
		const struct arb_pair *p = &e->pairs[l->pair];
		const char *in = l->side == ARB_BUY ? p->quote : p->base;
		const char *out = l->side == ARB_BUY ? p->base : p->quote;
		const char *prev = i == 0 ? o->home : o->legs[i - 1].asset_out;
		if (l->qty <= 0 || l->limit_price <= 0 || l->price_scale != p->price_scale ||
		    l->qty_scale != p->qty_scale || strcmp(l->asset_in, in) != 0 ||
		    strcmp(l->asset_out, out) != 0 || strcmp(l->asset_in, prev) != 0) {
			snprintf(why, cap,
				 "malformed: leg %d (%.31s) does not match its pair or chain", i,
				 p->symbol);
			return false;
		}
	}
	if (strcmp(o->legs[o->n_legs - 1].asset_out, o->home) != 0) {
		snprintf(why, cap, "malformed: the cycle does not end in %.15s", o->home);
		return false;
	}
	return true;
}

void exec__check_timeouts(struct exec *e)
{
	struct exec_cycle *c = &e->cyc;
	if (!c->active || c->inflight == 0)
		return;
	for (unsigned i = 0; i < c->n_orders; i++) {
		struct exec_order *o = &c->orders[i];
		if (o->done || e->now_ns < o->o.sent_ns + e->order_timeout_ns)
			continue;
		e->st.order_timeouts++;
		e->work++;
		struct venue_report r = o->last;
		int rc = e->venue->ops->query(e->venue->ctx, o->o.cl_ord_id, &r);
		if (rc == 0 && venue_status_final(r.status)) {
			exec__on_report(e, &r); /* may move the cycle on: look again next poll */
			return;
		}
		e->st.orders_unknown++;
		(void)e->venue->ops->cancel(e->venue->ctx, o->o.cl_ord_id);
		if (rc != 0)
			r = o->last; /* what the reports said so far */
		r.status = VENUE_ST_UNKNOWN;
		snprintf(r.reason, sizeof(r.reason), "no final report after %llu ms (query: %s)",
			 (unsigned long long)(e->order_timeout_ns / 1000000u),
			 rc == 0 ? "not final" : err_str(rc));
		o->last = r;
		o->done = true;
		c->inflight--;
		c->unknown = c->stopping = true;
		e->journal_keep = true; /* its intent stays for the restart's reconcile */
		snprintf(c->why, sizeof(c->why), "order %s: %s", o->o.cl_ord_id, r.reason);
		char js[2 * VENUE_REASON_MAX];
		exec__audit(e, "alert",
			    "{\"opp_id\":%llu,\"cycle\":\"%s\",\"alert\":\"order_unknown\","
			    "\"cl_ord_id\":\"%s\",\"filled_qty\":%lld,\"reason\":\"%s\"}",
			    (unsigned long long)c->opp.id, c->opp.path, o->o.cl_ord_id,
			    (long long)r.filled_qty, exec__json(js, sizeof(js), r.reason));
		led_apply(e, o); /* the fills known so far */
		advance(e, o);
		exec__emit_trade(e, o, NULL, c->finished && !c->active ? c->realised : NAN);
		return;
	}
}

void exec__start_cycle(struct exec *e, const struct arb_opp *opp)
{
	struct exec_cycle *c = &e->cyc;
	memset(c, 0, sizeof(*c));
	c->active = true;
	c->opp = *opp;
	e->st.started++;
	uint64_t decide = opp->detect_ns ? opp->detect_ns : e->now_ns;
	/* The first orders go out before anything is recorded: formatting
	 * the decision costs microseconds the market does not wait for. What
	 * a refused order records comes after the decision, as it must. */
	struct exec_order *o[ARB_MAX_LEGS] = {0};
	int rc[ARB_MAX_LEGS] = {0};
	int first = e->cfg.inventory ? opp->n_legs : 1;
	c->origin_ns = decide;
	for (int i = 0; i < first; i++) {
		o[i] = leg_order(e, i, opp->legs[i].qty, decide);
		rc[i] = o[i] ? place(e, o[i]) : ERR_FULL;
	}
	c->origin_ns = 0;
	exec__journal_sync(e);
	exec__audit(e, "cycle_accepted",
		    "{\"opp_id\":%llu,\"cycle\":\"%s\",\"size\":%.10g,\"expected_profit\":%.10g,"
		    "\"profit_bps\":%.4f,\"mode\":\"%s\"}",
		    (unsigned long long)opp->id, opp->path, opp->size_home, opp->profit_home,
		    opp->profit_bps, e->cfg.inventory ? "inventory" : "sequential");
	bool all = true;
	for (int i = 0; i < first; i++)
		if (rc[i] != 0) {
			all = false;
			if (o[i])
				leg_refused(e, o[i], rc[i]);
		}
	c->next_leg = first;
	if (e->cfg.inventory) {
		if (!all)
			c->partial = true;
		if (c->inflight == 0)
			advance(e, NULL);
		return;
	}
	if (!all) {
		c->stopping = true;
		finish(e);
	}
}

void exec_warm(struct exec *e)
{
	if (!e->reconciled || e->cyc.active || e->cfg.n_pairs == 0)
		return;
	/* The steps of leg_order() and place() on a scratch order. */
	struct exec_order o;
	const struct arb_pair *p = &e->pairs[e->warm_pair++ % e->cfg.n_pairs];
	memset(&o, 0, sizeof(o));
	(void)exec_clid(e->st.started + 1, '0', 0, o.o.cl_ord_id, sizeof(o.o.cl_ord_id));
	copy(o.o.symbol, sizeof(o.o.symbol), p->symbol);
	o.o.side = VENUE_BUY;
	o.o.type = VENUE_LIMIT;
	o.o.price_scale = p->price_scale;
	o.o.qty_scale = p->qty_scale;
	o.o.limit_price = p->price_increment;
	o.o.qty = p->qty_increment;
	(void)exec__hash(o.o.cl_ord_id);
	/* The cycle's table, which start_cycle clears: one read per line. */
	const volatile unsigned char *c = (const volatile unsigned char *)&e->cyc;
	for (size_t i = 0; i < sizeof(e->cyc); i += 64)
		(void)c[i];
	exec__journal_warm(e, &o);
	if (e->venue->ops->warm)
		e->venue->ops->warm(e->venue->ctx);
}

void exec__on_kill(struct exec *e)
{
	int rc = e->venue->ops->cancel_all(e->venue->ctx);
	char why[2 * RISK_TEXT_MAX];
	exec__audit(e, "kill_switch",
		    "{\"reason\":\"%s\",\"cancel_all\":\"%s\",\"active_cycle\":%s}",
		    exec__json(why, sizeof(why), risk_kill_reason(e->risk)),
		    rc == 0 ? "requested" : err_str(rc), e->cyc.active ? "true" : "false");
	char q[2 * RISK_TEXT_MAX];
	LOG_WARN("exec", "kill switch: trading stopped", "reason=%s",
		 log_q(q, sizeof(q), risk_kill_reason(e->risk)));
	if (e->cyc.active && e->cyc.inflight == 0) {
		e->cyc.stopping = true;
		copy(e->cyc.why, sizeof(e->cyc.why), "kill switch");
		advance(e, NULL);
	}
}

/* The sequencer: sequential legs against the paper venue with exact fills,
 * fees and balances; a partial fill sizing the next leg; unwind and hold
 * after a rejected leg; inventory mode; the kill switch; unique client ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <time.h>

#include "exec_fixture.h"

struct world {
	struct arb_pair pairs[N_PAIRS];
	struct fx_books books;
	struct fx_sink sink;
	struct venue venue;
	struct fx_venue fake;
	struct risk *risk;
	struct exec *exec;
};

static void world_books(struct world *w)
{
	memset(&w->books, 0, sizeof(w->books));
	/* BTC/USD asks 50000.0 x 0.001, 50010.0 x 0.01; bid 49990.0 x 1 */
	fx_ask(&w->books, P_BTCUSD, 500000, 100000);
	fx_ask(&w->books, P_BTCUSD, 500100, 1000000);
	fx_bid(&w->books, P_BTCUSD, 499900, 100000000);
	/* ETH/BTC ask 0.05000 x 1 */
	fx_ask(&w->books, P_ETHBTC, 5000, 100000000);
	/* ETH/USD bid 2510.00 x 1 */
	fx_bid(&w->books, P_ETHUSD, 251000, 100000000);
}

/* Paper venue (fake == false) or the scripted fake. */
static void world_init(struct world *w, bool fake, bool inventory, bool hold)
{
	memset(w, 0, sizeof(*w));
	fx_pairs(w->pairs);
	world_books(w);
	if (fake) {
		w->venue = fx_venue_make(&w->fake);
	} else {
		struct paper_cfg pc = {.pairs = w->pairs,
				       .n_pairs = N_PAIRS,
				       .default_fee_bps = 26,
				       .slippage_bps = 0,
				       .latency_ms = 0,
				       .balances =
					   inventory ? "USD=1000,BTC=0.01,ETH=1" : "USD=1000",
				       .levels = fx_levels,
				       .levels_ctx = &w->books};
		struct err_info info = {0};
		assert_int_equal(paper_venue_new(&pc, &w->venue, &info), 0);
	}
	w->risk = fx_risk();
	assert_non_null(w->risk);
	struct exec_cfg c = fx_exec_cfg(w->pairs, &w->books);
	c.inventory = inventory;
	c.unwind_hold = hold;
	struct exec_sink s = fx_sink_make(&w->sink);
	struct err_info info = {0};
	w->exec = exec_new(&c, &w->venue, w->risk, &s, &info);
	assert_non_null(w->exec);
	assert_int_equal(exec_reconcile(w->exec, WALL, &info), 0);
}

static void world_free(struct world *w)
{
	exec_free(w->exec);
	if (w->venue.ops != &fx_venue_ops)
		w->venue.ops->destroy(w->venue.ctx);
	risk_free(w->risk);
}

/* Polls until the sequencer is idle; returns the polls it took. */
static int run(struct world *w, uint64_t now)
{
	int polls = 0;
	do {
		assert_true(exec_poll(w->exec, now, WALL) >= 0);
		polls++;
		assert_true(polls < 100);
	} while (!exec_idle(w->exec));
	return polls;
}

static void submit(struct world *w, const struct arb_opp *o)
{
	risk_admit(w->risk, o, T0);
	assert_int_equal(exec_submit(w->exec, o), 0);
}

static void test_sequential_paper_exact(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, false, false, false);
	/* Leg 0 buys 0.002 BTC (limit 50010.0, the worst level walked); legs 1
	 * and 2 plan 0.0398 ETH but are sized from the fills. */
	struct arb_opp o = fx_opp(7, 200000, 500100, 3980000, 5000, 251000);
	o.detect_ns = T0;
	o.trigger_ns = T0;
	submit(&w, &o);
	run(&w, T0);
	assert_int_equal(w.sink.n_trades, 3);
	const struct exec_trade *t = w.sink.trades;

	/* Leg 0, BTC/USD buy 0.002: 0.001 @ 50000.0 + 0.001 @ 50010.0.
	 * cost = 50.000 + 50.010 = 100.010 USD (scale 1 + 8 = 9: 100010000000)
	 * fee  = ceil(100.010 * 0.0026, 9 decimals) = 0.260026000 USD
	 * avg  = 100.010 / 0.002 = 50005.0 */
	assert_string_equal(t[0].symbol, "BTC/USD");
	assert_int_equal(t[0].side, VENUE_BUY);
	assert_int_equal(t[0].status, VENUE_ST_FILLED);
	assert_int_equal(t[0].limit_price, 500100);
	assert_int_equal(t[0].filled_qty, 200000);
	assert_int_equal(t[0].avg_price, 500050);
	assert_int_equal(t[0].fee_scale, 9);
	assert_int_equal(t[0].fee, 260026000);
	assert_string_equal(t[0].fee_asset, "USD");

	/* Leg 1, ETH/BTC buy sized from the 0.002 BTC leg 0 returned:
	 * q = floor(0.002 / (0.05 * 1.0026), 8 decimals) = 0.03989626 ETH
	 * cost = 0.03989626 * 0.05 = 0.0019948130000 BTC (scale 13)
	 * fee  = ceil(0.0019948130000 * 0.0026, 13) = 0.0000051865138 BTC
	 * cost + fee = 0.0019999995138 <= 0.002: 0.0000000004862 BTC is dust. */
	assert_string_equal(t[1].symbol, "ETH/BTC");
	assert_int_equal(t[1].qty, 3989626);
	assert_int_equal(t[1].filled_qty, 3989626);
	assert_int_equal(t[1].fee, 51865138);
	assert_string_equal(t[1].fee_asset, "BTC");

	/* Leg 2, ETH/USD sell of the 0.03989626 ETH leg 1 bought, @ 2510.00:
	 * cost = 100.1396126000 USD (scale 10), fee = ceil(cost * 0.0026, 10)
	 * = 0.2603629928 USD, proceeds 99.8792496072 USD. */
	assert_string_equal(t[2].symbol, "ETH/USD");
	assert_int_equal(t[2].side, VENUE_SELL);
	assert_int_equal(t[2].qty, 3989626);
	assert_int_equal(t[2].filled_qty, 3989626);
	assert_int_equal(t[2].avg_price, 251000);
	assert_int_equal(t[2].fee, 2603629928);

	/* USD: 1000 - 100.010 - 0.260026 + 99.8792496072 = 999.6092236072.
	 * BTC: the 0.0000000004862 dust. ETH: 0. */
	assert_true(paper_balance18(w.venue.ctx, "USD") == (__int128)9996092236072ll * 100000000);
	assert_true(paper_balance18(w.venue.ctx, "BTC") == 486200000);
	assert_true(paper_balance18(w.venue.ctx, "ETH") == 0);
	/* Realised P&L on the last record: 999.6092236072 - 1000. */
	assert_true(isnan(t[0].realised_profit) && isnan(t[1].realised_profit));
	assert_true(fabs(t[2].realised_profit - (-0.3907763928)) < 1e-9);
	assert_true(fabs(risk_day_pnl(w.risk, WALL) - (-0.3907763928)) < 1e-8);
	assert_true(risk_exposure(w.risk) < 1e-9);
	assert_int_equal(risk_failure_streak(w.risk), 0);

	assert_true(fx_audit_find(&w.sink, "cycle_accepted", 0) >= 0);
	int d = fx_audit_find(&w.sink, "dust", 0);
	assert_true(d >= 0);
	assert_non_null(strstr(w.sink.details[d], "\"asset\":\"BTC\""));
	int done = fx_audit_find(&w.sink, "cycle_done", 0);
	assert_true(done >= 0);
	assert_non_null(strstr(w.sink.details[done], "\"ok\":true"));
	assert_int_equal(w.sink.n_portfolio, 1);
	assert_true(w.sink.n_last_bal >= 3);
	struct exec_stats st;
	exec_stats(w.exec, &st);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.orders, 3);
	world_free(&w);
}

static void test_partial_leg_sizes_next(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, false, false, false);
	/* Only 0.03 ETH offered on ETH/BTC: leg 1 fills 0.03, the rest of
	 * its 0.03989626 is cancelled (IOC). */
	w.books.na[P_ETHBTC] = 0;
	fx_ask(&w.books, P_ETHBTC, 5000, 3000000);
	struct arb_opp o = fx_opp(8, 200000, 500100, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	submit(&w, &o);
	run(&w, T0);
	/* legs 0, 1 (partial), 2, then an unwind of the BTC leg 1 left. */
	assert_int_equal(w.sink.n_trades, 4);
	const struct exec_trade *t = w.sink.trades;
	assert_int_equal(t[1].status, VENUE_ST_CANCELED);
	assert_int_equal(t[1].filled_qty, 3000000);
	/* Leg 2 sells exactly the 0.03 ETH leg 1 returned. */
	assert_int_equal(t[2].qty, 3000000);
	assert_int_equal(t[2].filled_qty, 3000000);
	/* BTC left: 0.002 - 0.03 * 0.05 - ceil(0.0015 * 0.0026, 13 decimals)
	 * = 0.002 - 0.0015 - 0.0000039 = 0.0004961 BTC, sold at market on
	 * BTC/USD (49990.0 bid): qty 0.0004961. */
	assert_true(t[3].unwind);
	assert_int_equal(t[3].type, VENUE_MARKET);
	assert_int_equal(t[3].side, VENUE_SELL);
	assert_string_equal(t[3].symbol, "BTC/USD");
	assert_int_equal(t[3].qty, 49610);
	assert_int_equal(t[3].filled_qty, 49610);
	assert_true(paper_balance18(w.venue.ctx, "BTC") == 0);
	assert_true(fx_audit_find(&w.sink, "unwind", 0) >= 0);
	int done = fx_audit_find(&w.sink, "cycle_done", 0);
	assert_non_null(strstr(w.sink.details[done], "\"ok\":false"));
	assert_int_equal(risk_failure_streak(w.risk), 1);
	world_free(&w);
}

static void test_rejected_leg_unwinds_home(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true, false, false);
	/* Leg 0 fills 0.002 BTC @ 50000.0; leg 1 is rejected; the unwind
	 * market-sells the 0.002 BTC, filled @ 49990.0. */
	w.fake.script[0] = (struct fx_step){VENUE_ST_FILLED, 1, 1, 0, 0, NULL};
	w.fake.script[1] =
	    (struct fx_step){VENUE_ST_REJECTED, 0, 1, 0, 0, "EOrder:Insufficient funds"};
	w.fake.script[2] = (struct fx_step){VENUE_ST_FILLED, 1, 1, 499900, 0, NULL};
	w.fake.n_script = 3;
	struct arb_opp o = fx_opp(9, 200000, 500000, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	submit(&w, &o);
	run(&w, T0);
	assert_int_equal(w.fake.n_placed, 3);
	const struct venue_order *u = &w.fake.placed[2];
	assert_string_equal(u->symbol, "BTC/USD");
	assert_int_equal(u->side, VENUE_SELL);
	assert_int_equal(u->type, VENUE_MARKET);
	assert_int_equal(u->tif, VENUE_IOC);
	assert_int_equal(u->qty, 200000);
	assert_non_null(strstr(u->cl_ord_id, "-u0"));
	assert_int_equal(w.sink.n_trades, 3);
	assert_int_equal(w.sink.trades[1].status, VENUE_ST_REJECTED);
	assert_string_equal(w.sink.trades[1].reason, "EOrder:Insufficient funds");
	assert_true(fx_audit_find(&w.sink, "leg_failed", 0) >= 0);
	assert_true(fx_audit_find(&w.sink, "unwind", 0) >= 0);
	/* P&L: -100.000 + 99.980 = -0.02 USD (no fees in the fake). */
	assert_true(fabs(w.sink.trades[2].realised_profit - (-0.02)) < 1e-12);
	assert_int_equal(risk_failure_streak(w.risk), 1);
	world_free(&w);
}

static void test_rejected_leg_hold(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true, false, true);
	w.fake.script[0] = (struct fx_step){VENUE_ST_FILLED, 1, 1, 0, 0, NULL};
	w.fake.script[1] = (struct fx_step){VENUE_ST_CANCELED, 0, 1, 0, 0, "no liquidity"};
	w.fake.n_script = 2;
	struct arb_opp o = fx_opp(10, 200000, 500000, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	submit(&w, &o);
	run(&w, T0);
	assert_int_equal(w.fake.n_placed, 2); /* nothing unwound */
	int a = fx_audit_find(&w.sink, "alert", 0);
	assert_true(a >= 0);
	assert_non_null(strstr(w.sink.details[a], "\"alert\":\"held\""));
	assert_non_null(strstr(w.sink.details[a], "\"asset\":\"BTC\""));
	assert_non_null(strstr(w.sink.details[a], "\"amount\":0.0020000000"));
	assert_int_equal(fx_audit_find(&w.sink, "unwind", 0), -1);
	world_free(&w);
}

static void test_inventory_all_at_once(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true, true, false);
	w.fake.hold_polls = 3; /* reports come late */
	struct arb_opp o = fx_opp(11, 200000, 500000, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	submit(&w, &o);
	assert_true(exec_poll(w.exec, T0, WALL) > 0);
	/* All three legs went out before any report came back, at their planned sizes. */
	assert_int_equal(w.fake.n_placed, 3);
	assert_int_equal(w.sink.n_trades, 0);
	assert_int_equal(w.fake.placed[0].qty, 200000);
	assert_int_equal(w.fake.placed[1].qty, 3980000);
	assert_int_equal(w.fake.placed[2].qty, 3980000);
	assert_int_equal(w.fake.placed[2].side, VENUE_SELL);
	run(&w, T0);
	assert_int_equal(w.sink.n_trades, 3);
	int done = fx_audit_find(&w.sink, "cycle_done", 0);
	assert_non_null(strstr(w.sink.details[done], "\"ok\":true"));
	world_free(&w);
}

static void test_inventory_paper(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, false, true, false);
	struct arb_opp o = fx_opp(12, 200000, 500100, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	submit(&w, &o);
	run(&w, T0);
	assert_int_equal(w.sink.n_trades, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(w.sink.trades[i].status, VENUE_ST_FILLED);
	/* ETH: 1 + 0.0398 - 0.0398 */
	assert_true(paper_balance18(w.venue.ctx, "ETH") == (__int128)1000000000000000000ll);
	world_free(&w);
}

static void test_kill_switch_stops_and_cancels(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true, false, false);
	w.fake.hold_polls = 2;
	struct arb_opp o = fx_opp(13, 200000, 500000, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	submit(&w, &o);
	assert_true(exec_poll(w.exec, T0, WALL) > 0);
	assert_int_equal(w.fake.n_placed, 1);
	risk_kill(w.risk, "operator \"bob\"");
	run(&w, T0);
	assert_int_equal(w.fake.cancel_all_calls, 1);
	assert_int_equal(w.fake.n_placed, 1); /* no leg 1, no unwind */
	int k = fx_audit_find(&w.sink, "kill_switch", 0);
	assert_true(k >= 0);
	assert_non_null(strstr(w.sink.details[k], "operator \\\"bob\\\""));
	int a = fx_audit_find(&w.sink, "alert", 0);
	assert_non_null(strstr(w.sink.details[a], "held_after_kill"));
	/* A new opportunity is dropped, its exposure given back. */
	double before = risk_exposure(w.risk);
	submit(&w, &o);
	run(&w, T0);
	assert_int_equal(w.fake.n_placed, 1);
	assert_true(fabs(risk_exposure(w.risk) - (before)) < 1e-9);
	assert_int_equal(w.fake.cancel_all_calls, 1); /* once */
	struct exec_stats st;
	exec_stats(w.exec, &st);
	assert_int_equal(st.dropped_killed, 1);
	world_free(&w);
}

static void test_busy_and_stale(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true, false, false);
	w.fake.hold_polls = 2;
	struct arb_opp o = fx_opp(14, 200000, 500000, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	submit(&w, &o);
	assert_true(exec_poll(w.exec, T0, WALL) > 0);
	o.id = 15;
	submit(&w, &o); /* a cycle is running */
	o.id = 16;
	run(&w, T0);
	o.trigger_ns = T0 - 2001000000ull; /* older than 2000 ms */
	submit(&w, &o);
	run(&w, T0);
	struct exec_stats st;
	exec_stats(w.exec, &st);
	assert_int_equal(st.dropped_busy, 1);
	assert_int_equal(st.dropped_stale, 1);
	assert_int_equal(st.started, 1);
	int r = fx_audit_find(&w.sink, "cycle_rejected", 0);
	assert_non_null(strstr(w.sink.details[r], "\"reason\":\"busy\""));
	assert_true(risk_exposure(w.risk) < 1e-9);
	world_free(&w);
}

static void test_slippage_prices(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true, false, false);
	exec_free(w.exec);
	struct exec_cfg c = fx_exec_cfg(w.pairs, &w.books);
	c.slippage_bps = 5;
	struct exec_sink s = fx_sink_make(&w.sink);
	w.exec = exec_new(&c, &w.venue, w.risk, &s, NULL);
	assert_int_equal(exec_reconcile(w.exec, WALL, NULL), 0);
	w.pairs[P_ETHUSD].price_increment = 5; /* exec copied the pairs: no effect */
	struct arb_opp o = fx_opp(17, 200000, 500100, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	submit(&w, &o);
	run(&w, T0);
	/* Buy: 50010.0 * 1.0005 = 50035.005 -> 50035.0 (down: never beyond the tolerance). */
	assert_int_equal(w.fake.placed[0].limit_price, 500350);
	/* Buy ETH/BTC: 0.05000 * 1.0005 = 0.0500250 -> 0.05002. */
	assert_int_equal(w.fake.placed[1].limit_price, 5002);
	/* Sell: 2510.00 * 0.9995 = 2508.745 -> 2508.75 (up). */
	assert_int_equal(w.fake.placed[2].limit_price, 250875);
	world_free(&w);
}

static void test_leg_below_minimum_unwinds(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true, false, false);
	/* Leg 0 fills 0.00005 of 0.002 BTC: leg 1 could buy 0.00099 ETH,
	 * below ETH/BTC's qty_min 0.001, so it is not sent and the BTC is
	 * unwound; 0.00005 BTC is below BTC/USD's qty_min 0.0001: dust. */
	w.fake.script[0] = (struct fx_step){VENUE_ST_CANCELED, 1, 40, 0, 0, NULL};
	w.fake.n_script = 1;
	struct arb_opp o = fx_opp(18, 200000, 500000, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	submit(&w, &o);
	run(&w, T0);
	assert_int_equal(w.fake.n_placed, 1);
	int d = fx_audit_find(&w.sink, "dust", 0);
	assert_true(d >= 0);
	int done = fx_audit_find(&w.sink, "cycle_done", 0);
	assert_non_null(strstr(w.sink.details[done], "below the pair's minimums"));
	world_free(&w);
}

static void test_unwind_buys_home(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true, false, false);
	/* BTC>USD>ETH>BTC: sell 0.002 BTC/USD @ 50000.0 (100.0 USD, no fee in
	 * the fake), then buy ETH/USD is rejected. 100 USD is held and BTC is
	 * the base of BTC/USD, so the unwind buys BTC at market, sized from the
	 * 50000.0 ask with the 26 bps fee: floor(100 / (50000 * 1.0026), 8
	 * decimals) = 0.00199481 (cost 99.7405 + fee 0.2593253 <= 100). */
	struct arb_opp o = fx_opp(21, 200000, 500000, 3980000, 5000, 251000);
	snprintf(o.home, sizeof(o.home), "BTC");
	snprintf(o.path, sizeof(o.path), "BTC>USD>ETH>BTC");
	o.legs[0].side = ARB_SELL;
	snprintf(o.legs[0].asset_in, sizeof(o.legs[0].asset_in), "BTC");
	snprintf(o.legs[0].asset_out, sizeof(o.legs[0].asset_out), "USD");
	o.legs[1].pair = P_ETHUSD;
	o.legs[1].price_scale = 2;
	o.legs[1].limit_price = 251000;
	snprintf(o.legs[1].symbol, sizeof(o.legs[1].symbol), "ETH/USD");
	snprintf(o.legs[1].asset_in, sizeof(o.legs[1].asset_in), "USD");
	o.legs[2].pair = P_ETHBTC;
	o.legs[2].price_scale = 5;
	o.legs[2].limit_price = 5000;
	snprintf(o.legs[2].symbol, sizeof(o.legs[2].symbol), "ETH/BTC");
	snprintf(o.legs[2].asset_out, sizeof(o.legs[2].asset_out), "BTC");
	o.trigger_ns = T0;
	w.fake.script[0] = (struct fx_step){VENUE_ST_FILLED, 1, 1, 0, 0, NULL};
	w.fake.script[1] = (struct fx_step){VENUE_ST_REJECTED, 0, 1, 0, 0, "EOrder:Unknown"};
	w.fake.script[2] = (struct fx_step){VENUE_ST_FILLED, 1, 1, 500000, 0, NULL};
	w.fake.n_script = 3;
	submit(&w, &o);
	run(&w, T0);
	assert_int_equal(w.fake.n_placed, 3);
	assert_int_equal(w.fake.placed[0].side, VENUE_SELL);
	const struct venue_order *u = &w.fake.placed[2];
	assert_string_equal(u->symbol, "BTC/USD");
	assert_int_equal(u->side, VENUE_BUY);
	assert_int_equal(u->type, VENUE_MARKET);
	assert_int_equal(u->qty, 199481);
	assert_true(w.books.calls > 0); /* sized from the book */
	world_free(&w);
}

static void test_ring_full(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true, false, false);
	exec_free(w.exec);
	struct exec_cfg c = fx_exec_cfg(w.pairs, &w.books);
	c.ring_capacity = 2;
	struct exec_sink s = fx_sink_make(&w.sink);
	w.exec = exec_new(&c, &w.venue, w.risk, &s, NULL);
	assert_int_equal(exec_reconcile(w.exec, WALL, NULL), 0);
	struct arb_opp o = fx_opp(22, 200000, 500000, 3980000, 5000, 251000);
	assert_int_equal(exec_submit(w.exec, &o), 0);
	assert_int_equal(exec_submit(w.exec, &o), 0);
	assert_int_equal(exec_submit(w.exec, &o), ERR_FULL);
	struct exec_stats st;
	exec_stats(w.exec, &st);
	assert_int_equal(st.submitted, 2);
	assert_int_equal(st.ring_full, 1);
	world_free(&w);
}

static void test_malformed_dropped(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true, false, false);
	struct arb_opp bad[5];
	for (int i = 0; i < 5; i++) {
		bad[i] = fx_opp(30 + (uint64_t)i, 200000, 500000, 3980000, 5000, 251000);
		bad[i].trigger_ns = T0;
	}
	bad[0].n_legs = 1;
	bad[1].legs[1].pair = 7;	/* no such pair */
	bad[2].legs[1].side = ARB_SELL; /* sells ETH it lacks */
	snprintf(bad[3].legs[2].asset_out, sizeof(bad[3].legs[2].asset_out),
		 "EUR"); /* wrong pair asset */
	bad[4].legs[0].price_scale = 3;
	for (int i = 0; i < 5; i++)
		submit(&w, &bad[i]);
	run(&w, T0);
	assert_int_equal(w.fake.n_placed, 0);
	struct exec_stats st;
	exec_stats(w.exec, &st);
	assert_int_equal(st.dropped_malformed, 5);
	assert_int_equal(st.started, 0);
	assert_true(risk_exposure(w.risk) < 1e-9);
	int r = fx_audit_find(&w.sink, "cycle_rejected", 0);
	assert_non_null(strstr(w.sink.details[r], "malformed: 1 legs"));
	world_free(&w);
}

static void test_unique_clids(void **state)
{
	(void)state;
	static char seen[4096][20];
	size_t n = 0;
	uint64_t ids[] = {0, 1, 35, 36, 1764579600000000ull, UINT64_MAX};
	const char legs[] = "0123u";
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		for (size_t l = 0; l < 5; l++)
			for (unsigned a = 0; a < 36; a++) {
				char buf[20];
				int len = exec_clid(ids[i], legs[l], a, buf, sizeof(buf));
				assert_true(len > 0 && len <= VENUE_CLID_KRAKEN_MAX);
				for (int k = 0; k < len; k++)
					assert_true((buf[k] >= 'a' && buf[k] <= 'z') ||
						    (buf[k] >= '0' && buf[k] <= '9') ||
						    buf[k] == '-');
				for (size_t j = 0; j < n; j++)
					assert_string_not_equal(seen[j], buf);
				memcpy(seen[n++], buf, sizeof(buf));
			}
	char small[10];
	assert_int_equal(exec_clid(1, '0', 0, small, sizeof(small)), ERR_RANGE);
	assert_int_equal(exec_clid(1, '0', 36, seen[0], 20), ERR_RANGE);

	/* Within a cycle with an unwind every order has its own id. */
	struct world w;
	world_init(&w, false, false, false);
	w.books.na[P_ETHBTC] = 0;
	fx_ask(&w.books, P_ETHBTC, 5000, 3000000);
	struct arb_opp o = fx_opp(19, 200000, 500100, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	submit(&w, &o);
	run(&w, T0);
	assert_int_equal(w.sink.n_trades, 4);
	for (size_t i = 0; i < w.sink.n_trades; i++)
		for (size_t j = i + 1; j < w.sink.n_trades; j++)
			assert_string_not_equal(w.sink.trades[i].cl_ord_id,
						w.sink.trades[j].cl_ord_id);
	assert_string_equal(w.sink.trades[0].cl_ord_id, "arj-00");
	world_free(&w);
}

static void test_thread_runs_cycle(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, false, false, false);
	assert_int_equal(exec_start(w.exec, NULL), 0);
	assert_int_equal(exec_start(w.exec, NULL), ERR_BADSTATE);
	struct arb_opp o = fx_opp(20, 200000, 500100, 3980000, 5000, 251000);
	o.trigger_ns = clock_mono_ns();
	submit(&w, &o);
	/* Wait for the cycle to be taken and finished (correctness, not time). */
	for (int i = 0; i < 20000; i++) {
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
		if (risk_exposure(w.risk) < 1e-9)
			break;
	}
	exec_stop(w.exec);
	assert_int_equal(w.sink.n_trades, 3);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sequential_paper_exact),
	    cmocka_unit_test(test_partial_leg_sizes_next),
	    cmocka_unit_test(test_rejected_leg_unwinds_home),
	    cmocka_unit_test(test_rejected_leg_hold),
	    cmocka_unit_test(test_inventory_all_at_once),
	    cmocka_unit_test(test_inventory_paper),
	    cmocka_unit_test(test_kill_switch_stops_and_cancels),
	    cmocka_unit_test(test_busy_and_stale),
	    cmocka_unit_test(test_slippage_prices),
	    cmocka_unit_test(test_leg_below_minimum_unwinds),
	    cmocka_unit_test(test_unwind_buys_home),
	    cmocka_unit_test(test_ring_full),
	    cmocka_unit_test(test_malformed_dropped),
	    cmocka_unit_test(test_unique_clids),
	    cmocka_unit_test(test_thread_runs_cycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The paper venue on its own: latency, depth walk, limit, IOC remainder,
 * slippage, fees, funds, minimums, and reading a real book. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "exec_fixture.h"

struct pw {
	struct arb_pair pairs[N_PAIRS];
	struct fx_books books;
	struct venue v;
	struct venue_report got[8];
	int n_got;
};

static void on_rep(void *arg, const struct venue_report *r)
{
	struct pw *w = arg;
	if (w->n_got < 8)
		w->got[w->n_got++] = *r;
}

static void pw_init(struct pw *w, double slip, uint32_t latency_ms, const char *bal)
{
	memset(w, 0, sizeof(*w));
	fx_pairs(w->pairs);
	fx_ask(&w->books, P_BTCUSD, 500000, 100000);  /* 50000.0 x 0.001 */
	fx_ask(&w->books, P_BTCUSD, 500100, 1000000); /* 50010.0 x 0.01 */
	fx_bid(&w->books, P_BTCUSD, 499900, 100000);  /* 49990.0 x 0.001 */
	fx_bid(&w->books, P_BTCUSD, 499800, 1000000); /* 49980.0 x 0.01 */
	struct paper_cfg c = {.pairs = w->pairs,
			      .n_pairs = N_PAIRS,
			      .default_fee_bps = 26,
			      .slippage_bps = slip,
			      .latency_ms = latency_ms,
			      .balances = bal,
			      .levels = fx_levels,
			      .levels_ctx = &w->books};
	struct err_info info = {0};
	assert_int_equal(paper_venue_new(&c, &w->v, &info), 0);
}

static struct venue_order order(const char *id, enum venue_side side, enum venue_order_type t,
				int64_t px, int64_t qty)
{
	struct venue_order o = {.pair_id = P_BTCUSD,
				.side = side,
				.type = t,
				.tif = VENUE_IOC,
				.price_scale = 1,
				.qty_scale = 8,
				.limit_price = px,
				.qty = qty,
				.sent_ns = T0};
	snprintf(o.cl_ord_id, sizeof(o.cl_ord_id), "%s", id);
	snprintf(o.symbol, sizeof(o.symbol), "BTC/USD");
	return o;
}

static int poll_at(struct pw *w, uint64_t now)
{
	return w->v.ops->poll(w->v.ctx, now, on_rep, w);
}

static void test_latency_and_ioc_limit(void **state)
{
	(void)state;
	struct pw w;
	pw_init(&w, 0, 50, "USD=1000");
	/* Buy 0.005 with limit 50000.0: only the first level qualifies. */
	struct venue_order o = order("p1", VENUE_BUY, VENUE_LIMIT, 500000, 500000);
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), 0);
	assert_int_equal(poll_at(&w, T0 + 49999999), 0); /* 50 ms not yet passed */
	assert_int_equal(poll_at(&w, T0 + 50000000), 1);
	const struct venue_report *r = &w.got[0];
	assert_int_equal(r->status, VENUE_ST_CANCELED);
	assert_string_equal(r->reason, "ioc remainder cancelled");
	assert_int_equal(r->filled_qty, 100000);
	assert_int_equal(r->avg_price, 500000);
	/* cost 50.000 USD (scale 9), fee ceil(50 * 0.0026) = 0.13 USD */
	assert_int_equal(r->cost, 50000000000ll);
	assert_int_equal(r->fee, 130000000);
	assert_int_equal(r->ts_ns, T0 + 50000000);
	assert_int_equal(poll_at(&w, T0 + 60000000), 0); /* delivered once */
	/* USD 1000 - 50 - 0.13 = 949.87; BTC 0.001 */
	assert_true(paper_balance18(w.v.ctx, "USD") == (__int128)94987 * 10000000000000000ll);
	assert_true(paper_balance18(w.v.ctx, "BTC") == (__int128)1000000000000000ll);
	struct venue_balance b[8];
	size_t n = 0;
	assert_int_equal(w.v.ops->balances(w.v.ctx, b, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(b[0].asset, "USD");
	assert_int_equal(b[0].scale, PAPER_BALANCE_SCALE);
	assert_int_equal(b[0].amount, 9498700000000ll);
	/* query by client id after the fill */
	struct venue_report q;
	assert_int_equal(w.v.ops->query(w.v.ctx, "p1", &q), 0);
	assert_int_equal(q.filled_qty, 100000);
	assert_int_equal(w.v.ops->query(w.v.ctx, "nope", &q), ERR_NOTFOUND);
	w.v.ops->destroy(w.v.ctx);
}

static void test_slippage_and_market_sell(void **state)
{
	(void)state;
	struct pw w;
	pw_init(&w, 10, 0, "USD=1000,BTC=0.1");
	/* 10 bps: the 50000.0 ask would fill at 50050.0. A 50040.0 limit caps
	 * the slippage: it fills at its limit, never past it. A 49990.0 limit,
	 * below the ask itself, fills nothing. A 50050.0 limit takes the whole
	 * slippage. */
	struct venue_order o = order("s1", VENUE_BUY, VENUE_LIMIT, 500400, 100000);
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), 0);
	o = order("s2", VENUE_BUY, VENUE_LIMIT, 500500, 100000);
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), 0);
	/* Market sell 0.002 walks the bids: 0.001 @ 49990.0 * 0.999 = 49940.01
	 * -> 49940.0 (down), 0.001 @ 49980.0 * 0.999 = 49930.02 -> 49930.0. */
	o = order("s3", VENUE_SELL, VENUE_MARKET, 0, 200000);
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), 0);
	o = order("s4", VENUE_BUY, VENUE_LIMIT, 499900, 100000);
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), 0);
	assert_int_equal(poll_at(&w, T0), 4);
	assert_int_equal(w.got[0].status, VENUE_ST_FILLED);
	assert_int_equal(w.got[0].avg_price, 500400);
	assert_int_equal(w.got[1].status, VENUE_ST_FILLED);
	assert_int_equal(w.got[1].avg_price, 500500);
	assert_int_equal(w.got[3].status, VENUE_ST_CANCELED);
	assert_int_equal(w.got[3].filled_qty, 0);
	assert_int_equal(w.got[2].status, VENUE_ST_FILLED);
	/* cost 49.940 + 49.930 = 99.870 USD; avg 49935.0; fee ceil(0.259662) */
	assert_int_equal(w.got[2].cost, 99870000000ll);
	assert_int_equal(w.got[2].avg_price, 499350);
	assert_int_equal(w.got[2].fee, 259662000);
	assert_string_equal(w.got[2].fee_asset, "USD");
	w.v.ops->destroy(w.v.ctx);
}

static void test_refusals(void **state)
{
	(void)state;
	struct pw w;
	pw_init(&w, 0, 0, "USD=10");
	struct venue_order o = order("r1", VENUE_BUY, VENUE_LIMIT, 500100, 200000);
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), 0);
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), ERR_INVALID); /* same id twice */
	o = order("r2", VENUE_SELL, VENUE_LIMIT, 499900, 100000);   /* holds no BTC */
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), 0);
	o = order("r3", VENUE_BUY, VENUE_LIMIT, 500000, 5000); /* below qty_min 0.0001 */
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), 0);
	o = order("r4", VENUE_BUY, VENUE_LIMIT, 500000, 100000);
	o.tif = VENUE_GTC;
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), ERR_INVALID);
	o = order("r5", VENUE_BUY, VENUE_LIMIT, 500000, 100000);
	o.pair_id = 99;
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), ERR_NOTFOUND);
	o = order("r6", VENUE_BUY, VENUE_LIMIT, 500000, 100000);
	o.price_scale = 2;
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), ERR_INVALID);
	assert_int_equal(poll_at(&w, T0), 3);
	assert_int_equal(w.got[0].status, VENUE_ST_REJECTED);
	assert_string_equal(w.got[0].reason, "EOrder:Insufficient funds");
	assert_int_equal(w.got[1].status, VENUE_ST_REJECTED);
	assert_string_equal(w.got[1].reason, "EOrder:Insufficient funds");
	assert_int_equal(w.got[2].status, VENUE_ST_REJECTED);
	assert_string_equal(w.got[2].reason, "EOrder:Order minimum not met");
	assert_true(paper_balance18(w.v.ctx, "USD") == (__int128)10 * 1000000000000000000ll);
	assert_int_equal(w.v.ops->cancel_all(w.v.ctx), 0);
	w.v.ops->destroy(w.v.ctx);

	/* cost_min: 0.0001 BTC @ 50000.0 = 5 USD < 6 USD */
	pw_init(&w, 0, 0, "USD=1000");
	w.v.ops->destroy(w.v.ctx);
	w.pairs[P_BTCUSD].cost_min = 600;
	struct paper_cfg c = {.pairs = w.pairs,
			      .n_pairs = N_PAIRS,
			      .default_fee_bps = 26,
			      .balances = "USD=1000",
			      .levels = fx_levels,
			      .levels_ctx = &w.books};
	assert_int_equal(paper_venue_new(&c, &w.v, NULL), 0);
	o = order("c1", VENUE_BUY, VENUE_LIMIT, 500000, 10000);
	assert_int_equal(w.v.ops->place(w.v.ctx, &o), 0);
	w.n_got = 0;
	assert_int_equal(poll_at(&w, T0), 1);
	assert_string_equal(w.got[0].reason, "EOrder:Cost minimum not met");
	w.v.ops->destroy(w.v.ctx);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct arb_pair pairs[N_PAIRS];
	struct fx_books books;
	fx_pairs(pairs);
	struct paper_cfg c = {.pairs = pairs,
			      .n_pairs = N_PAIRS,
			      .default_fee_bps = 26,
			      .balances = "USD=1000,BTC",
			      .levels = fx_levels,
			      .levels_ctx = &books};
	struct venue v;
	struct err_info info = {0};
	assert_int_equal(paper_venue_new(&c, &v, &info), ERR_PARSE);
	assert_non_null(strstr(info.msg, "\"BTC\""));
	c.balances = "USD=abc";
	assert_int_equal(paper_venue_new(&c, &v, &info), ERR_PARSE);
	assert_non_null(strstr(info.msg, "USD"));
	c.balances = "USD=-5";
	assert_true(paper_venue_new(&c, &v, &info) < 0);
	c.balances = NULL;
	c.levels = NULL;
	assert_int_equal(paper_venue_new(&c, &v, &info), ERR_INVALID);
	c.levels = fx_levels;
	pairs[1].qty_increment = 0;
	assert_int_equal(paper_venue_new(&c, &v, &info), ERR_INVALID);
	assert_non_null(strstr(info.msg, "ETH/BTC"));
}

static void test_levels_from_real_book(void **state)
{
	(void)state;
	struct book *b = book_new("BTC/USD", 1, 8, 10, NULL);
	assert_non_null(b);
	struct book_level asks[2] = {{500000, 100000}, {500100, 1000000}};
	struct book_level bids[1] = {{499900, 100000}};
	struct book_level out[4];
	size_t n = 9;
	assert_int_equal(exec_levels_from_book(b, VENUE_BUY, out, 4, &n), 0);
	assert_int_equal(n, 0); /* not valid yet */
	book_begin(b, true);
	for (int i = 0; i < 2; i++)
		assert_int_equal(book_set_ask(b, asks[i].price, asks[i].qty), 0);
	assert_int_equal(book_set_bid(b, bids[0].price, bids[0].qty), 0);
	assert_int_equal(book_end(b, book_checksum_levels(asks, 2, bids, 1), T0), 0);
	assert_true(book_valid(b));
	assert_int_equal(exec_levels_from_book(b, VENUE_BUY, out, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[1].price, 500100);
	assert_int_equal(exec_levels_from_book(b, VENUE_SELL, out, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].price, 499900);
	assert_int_equal(exec_levels_from_book(b, VENUE_BUY, out, 1, &n), 0);
	assert_int_equal(n, 1); /* cut to cap */
	book_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_latency_and_ioc_limit),
	    cmocka_unit_test(test_slippage_and_market_sell),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_levels_from_real_book),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

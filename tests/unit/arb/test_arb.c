/* The detector on hand-built universes: cycle counts worked out by hand, a
 * fully hand-computed opportunity with fees, depth and rounding, the trust
 * rules (invalid and stale books), status changes, balances, minimums and
 * the emission path. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arb/arb.h"
#include "arb_test.h"
#include "core/alloc_count.h"

#define T0  1000000000ull /* book stamps */
#define NOW (T0 + 1000000ull)

enum { P_BTCUSD, P_ETHBTC, P_ETHUSD, N_TRI };

/* BTC/USD at whole dollars and 0.01 BTC, ETH/BTC at 0.0001 BTC and 0.001 ETH,
 * ETH/USD at whole dollars and 0.001 ETH. */
static void tri_pairs(struct arb_pair p[N_TRI])
{
	p[P_BTCUSD] = tp_pair("BTC", "USD", 0, 2);
	p[P_ETHBTC] = tp_pair("ETH", "BTC", 4, 3);
	p[P_ETHUSD] = tp_pair("ETH", "USD", 0, 3);
}

struct tri {
	struct arb_pair pairs[N_TRI];
	struct book *books[N_TRI];
	struct arb *a;
	struct clock_manual cm;
	struct clock clk;
	struct arb_opp got[ARB_MAX_EMIT];
	unsigned n_got;
};

static void collect(void *ctx, const struct arb_opp *o)
{
	struct tri *t = ctx;
	if (t->n_got < ARB_MAX_EMIT)
		t->got[t->n_got++] = *o;
}

static void tri_books(struct tri *t)
{
	const struct book_level btc_b[] = {{49900, 100}}, btc_a[] = {{50000, 50}};
	const struct book_level eb_b[] = {{490, 100000}}, eb_a[] = {{500, 100000}};
	const struct book_level eu_b[] = {{2600, 1000}, {2400, 5000}}, eu_a[] = {{2610, 10000}};
	t->books[P_BTCUSD] = tp_book(&t->pairs[P_BTCUSD], btc_b, 1, btc_a, 1, T0);
	t->books[P_ETHBTC] = tp_book(&t->pairs[P_ETHBTC], eb_b, 1, eb_a, 1, T0);
	t->books[P_ETHUSD] = tp_book(&t->pairs[P_ETHUSD], eu_b, 2, eu_a, 1, T0);
}

static int tri_setup(void **state)
{
	struct tri *t = calloc(1, sizeof *t);
	struct err_info info;
	struct arb_cfg cfg = tp_cfg("USD", 10, 5, 10000);
	assert_non_null(t);
	tri_pairs(t->pairs);
	tri_books(t);
	t->cm.wall_ns = 5000000000;
	t->clk = clock_manual_make(&t->cm);
	t->a = arb_new(&cfg, &t->clk, 77, &info);
	assert_non_null(t->a);
	assert_int_equal(arb_set_universe(t->a, t->pairs, N_TRI, 0, &info), 0);
	for (unsigned i = 0; i < N_TRI; i++) {
		assert_non_null(t->books[i]);
		assert_int_equal(arb_bind_book(t->a, i, t->books[i]), 0);
	}
	arb_set_callback(t->a, collect, t);
	*state = t;
	return 0;
}

static int tri_teardown(void **state)
{
	struct tri *t = *state;
	arb_free(t->a);
	for (unsigned i = 0; i < N_TRI; i++)
		book_free(t->books[i]);
	free(t);
	return 0;
}

static uint32_t find_cycle(struct arb *a, const char *name)
{
	char buf[ARB_PATH_MAX];
	for (uint32_t c = 0; c < arb_cycle_count(a); c++)
		if (arb_cycle_name(a, c, buf, sizeof buf) > 0 && strcmp(buf, name) == 0)
			return c;
	fail_msg("no cycle %s", name);
	return UINT32_MAX;
}

static void test_triangle_cycles(void **state)
{
	struct tri *t = *state;
	const uint32_t *ids;
	unsigned n;
	uint32_t pairs[ARB_MAX_LEGS];
	enum arb_side sides[ARB_MAX_LEGS];

	/* USD has two triangles, one per direction, and no 4-cycle. */
	assert_int_equal(arb_cycle_count(t->a), 2);
	assert_int_equal(arb_cycle_count_by(t->a, "USD", 3), 2);
	assert_int_equal(arb_cycle_count_by(t->a, "USD", 4), 0);
	assert_int_equal(arb_cycles_through(t->a, P_ETHBTC, &ids), 2);
	uint32_t c = find_cycle(t->a, "USD>BTC>ETH>USD");
	assert_int_equal(arb_cycle_legs(t->a, c, &n, pairs, sides), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pairs[0], P_BTCUSD);
	assert_int_equal(sides[0], ARB_BUY);
	assert_int_equal(pairs[1], P_ETHBTC);
	assert_int_equal(sides[1], ARB_BUY);
	assert_int_equal(pairs[2], P_ETHUSD);
	assert_int_equal(sides[2], ARB_SELL);
	find_cycle(t->a, "USD>ETH>BTC>USD");
	char small[8];
	assert_int_equal(arb_cycle_name(t->a, c, small, sizeof small), ERR_RANGE);
	assert_int_equal(arb_cycle_name(t->a, 99, small, sizeof small), ERR_NOTFOUND);
}

/* The hand-computed example. Fees 10 bps (f = 0.001), cap 10000 USD.
 * Top of book: 1/(50000*1.001) * 1/(0.05*1.001) * 2600*0.999 = 1.0369, so the
 * screen passes. The ETH/USD bids are 1 ETH at 2600 then 5 at 2400; selling
 * at 2400*0.999 loses against 2505.0 USD paid per ETH, so the best size sells
 * about 1 ETH. Q1 steps by 0.01 BTC:
 *   Q1 = 0.05 BTC: pay 0.05*50000 = 2500 + 2.5 fee = 2502.5 USD.
 *     ETH/BTC: budget 0.05/1.001 = 0.0499500 BTC / 0.05 = 0.9990010 ETH,
 *     down to 0.999 ETH: cost 0.04995 BTC + 0.00004995 fee (dust 0.00000005).
 *     ETH/USD: sell 0.999 at 2600 = 2597.4 - 2.5974 fee = 2594.8026 USD.
 *     profit 2594.8026 - 2502.5 = 92.3026 USD = 368.84 bps.
 *   Q1 = 0.06: pay 3003; 0.06/1.001/0.05 = 1.1988 -> 1.198 ETH; sell 1 at 2600
 *     + 0.198 at 2400 = 3075.2 - 3.0752 = 3072.1248; profit 69.1248.
 *   Q1 = 0.04: pay 2002; 0.799 ETH -> 2077.4 - 2.0774 = 2075.3226; profit 73.3226.
 * So 0.05 BTC wins. */
static void test_hand_example(void **state)
{
	struct tri *t = *state;
	struct arb_opp o;
	uint32_t c = find_cycle(t->a, "USD>BTC>ETH>USD");

	assert_int_equal(arb_eval_cycle(t->a, c, NOW, &o), ARB_V_OPP);
	assert_string_equal(o.path, "USD>BTC>ETH>USD");
	assert_string_equal(o.home, "USD");
	assert_int_equal(o.n_legs, 3);
	assert_int_equal(o.legs[0].qty, 5);
	assert_int_equal(o.legs[1].qty, 999);
	assert_int_equal(o.legs[2].qty, 999);
	assert_int_equal(o.legs[0].limit_price, 50000);
	assert_int_equal(o.legs[1].limit_price, 500);
	assert_int_equal(o.legs[2].limit_price, 2600);
	assert_int_equal(o.legs[0].side, ARB_BUY);
	assert_int_equal(o.legs[2].side, ARB_SELL);
	assert_string_equal(o.legs[1].asset_in, "BTC");
	assert_string_equal(o.legs[1].asset_out, "ETH");
	assert_true(fabs(o.size_home - 2502.5) < 1e-9);
	assert_true(fabs(o.out_home - 2594.8026) < 1e-9);
	assert_true(fabs(o.profit_home - 92.3026) < 1e-9);
	assert_true(fabs(o.profit_bps - 92.3026 / 2502.5 * 1e4) < 1e-6);
	assert_true(fabs(o.legs[1].expected_in - 0.04999995) < 1e-12);
	assert_true(fabs(o.legs[0].fee - 2.5) < 1e-9);
	assert_true(fabs(o.legs[2].fee - 2.5974) < 1e-9);
	assert_true(fabs(o.legs[0].fee_bps - 10) < 1e-9);
	/* Fees in home units: 2.5 + 0.00004995 BTC at 2502.5/0.05 USD/BTC + 2.5974. */
	assert_true(fabs(o.fee_home - (2.5 + 0.00004995 * 2502.5 / 0.05 + 2.5974)) < 1e-6);
	/* The product of leg rates ignores the 0.00000005 BTC of dust. */
	assert_true(fabs(o.net_rate - 2594.8026 / 2502.5 * 0.05 / 0.04999995) < 1e-12);
	assert_int_equal(o.max_book_age_ms, 1);
	assert_int_equal(o.legs[0].book_age_ms, 1);
	assert_int_equal(o.trigger_ns, NOW);

	char line[512];
	int n = arb_opp_describe(&o, line, sizeof line);
	assert_true(n > 0);
	assert_non_null(strstr(line, "USD>BTC>ETH>USD"));
	assert_non_null(strstr(line, "BUY 0.05 BTC/USD @<=50000"));
	assert_non_null(strstr(line, "SELL 0.999 ETH/USD @>=2600"));
	assert_int_equal(arb_opp_describe(&o, line, 16), ERR_RANGE);
	assert_int_equal(strlen(line), 15);

	/* The other direction fails the top-of-book bound. */
	assert_int_equal(arb_eval_cycle(t->a, find_cycle(t->a, "USD>ETH>BTC>USD"), NOW, &o),
			 ARB_V_SCREENED);
}

/* With 2100 USD available: 2100/1.001/50000 = 0.04195 BTC -> 0.04, the
 * profit of 73.3226 computed above. */
static void test_balance_caps_size(void **state)
{
	struct tri *t = *state;
	struct arb_opp o;
	uint32_t c = find_cycle(t->a, "USD>BTC>ETH>USD");
	assert_int_equal(arb_set_balance(t->a, "USD", 2100), 0);
	assert_int_equal(arb_eval_cycle(t->a, c, NOW, &o), ARB_V_OPP);
	assert_int_equal(o.legs[0].qty, 4);
	assert_true(fabs(o.profit_home - 73.3226) < 1e-9);
	assert_int_equal(arb_set_balance(t->a, "BTC", 1), ERR_NOTFOUND);
	assert_int_equal(arb_set_balance(t->a, "USD", -1), ERR_RANGE);
	/* Too little for the minimum increment: 0.01 BTC costs 500.5 USD. */
	assert_int_equal(arb_set_balance(t->a, "USD", 500), 0);
	assert_int_equal(arb_eval_cycle(t->a, c, NOW, &o), ARB_V_TOO_SMALL);
}

static void test_emit_and_ids(void **state)
{
	struct tri *t = *state;
	struct arb_stats st;
	assert_int_equal(arb_on_book(t->a, P_ETHUSD, NOW), 1);
	assert_int_equal(t->n_got, 1);
	assert_int_equal(t->got[0].id, 77);
	assert_int_equal(t->got[0].detect_ns, 5000000000ull);
	assert_int_equal(t->got[0].trigger_ns, NOW);
	assert_true(fabs(t->got[0].profit_home - 92.3026) < 1e-9);
	assert_int_equal(arb_on_book(t->a, P_BTCUSD, NOW), 1);
	assert_int_equal(t->got[1].id, 78);
	assert_int_equal(arb_on_book(t->a, 7, NOW), ERR_NOTFOUND);
	arb_stats(t->a, &st);
	assert_int_equal(st.events, 3);
	assert_int_equal(st.unknown_pair, 1);
	assert_int_equal(st.opps, 2);
	/* The books did not move since they were bound: only the group with a
	 * cycle passing the screen (ETH/USD sold, BTC/USD bought) is scanned. */
	assert_int_equal(st.cycles_touched, 2);
	assert_int_equal(st.verdicts[ARB_V_SCREENED], 0);
	assert_int_equal(st.events_skipped, 0);
	assert_int_equal(st.verdicts[ARB_V_OPP], 2);
	assert_string_equal(arb_verdict_name(ARB_V_STALE_BOOK), "stale_book");
}

/* Allocation-free evaluation and emission (skipped where not measurable). */
static void test_no_alloc(void **state)
{
	struct tri *t = *state;
	if (!alloc_count_supported())
		skip();
	assert_int_equal(arb_on_book(t->a, P_ETHUSD, NOW), 1);
	alloc_count_enable(true);
	uint64_t before = alloc_count();
	for (int i = 0; i < 100; i++)
		arb_on_book(t->a, (uint32_t)(i % N_TRI), NOW);
	uint64_t after = alloc_count();
	alloc_count_enable(false);
	assert_int_equal(after - before, 0);
}

static void test_stale_and_invalid(void **state)
{
	struct tri *t = *state;
	struct arb_opp o;
	uint32_t c = find_cycle(t->a, "USD>BTC>ETH>USD");
	/* 1000 ms is still fresh; 1000 ms + 1 ns is not. */
	assert_int_equal(arb_eval_cycle(t->a, c, T0 + 1000000000ull, &o), ARB_V_OPP);
	assert_int_equal(arb_eval_cycle(t->a, c, T0 + 1000000001ull, &o), ARB_V_STALE_BOOK);
	assert_int_equal(arb_on_book(t->a, P_ETHUSD, T0 + 2000000000ull), 0);
	assert_int_equal(t->n_got, 0);
	/* A book that lost its checksum never trades, fresh or not. */
	book_invalidate(t->books[P_ETHBTC]);
	assert_int_equal(arb_eval_cycle(t->a, c, NOW, &o), ARB_V_INVALID_BOOK);
	assert_int_equal(arb_on_book(t->a, P_ETHUSD, NOW), 0);
	assert_int_equal(arb_on_book(t->a, P_ETHBTC, NOW), 0);
	assert_int_equal(t->n_got, 0);
	/* A matching snapshot makes it valid again. */
	const struct book_level b[] = {{490, 100000}}, a[] = {{500, 100000}};
	assert_int_equal(tp_fill(t->books[P_ETHBTC], b, 1, a, 1, T0), 0);
	assert_int_equal(arb_on_book(t->a, P_ETHBTC, NOW), 1);
	/* Unbound book. */
	assert_int_equal(arb_bind_book(t->a, P_ETHBTC, NULL), 0);
	assert_int_equal(arb_eval_cycle(t->a, c, NOW, &o), ARB_V_NO_BOOK);
	assert_int_equal(arb_on_book(t->a, P_BTCUSD, NOW), 0);
	/* A book at other scales is refused. */
	assert_int_equal(arb_bind_book(t->a, P_ETHBTC, t->books[P_ETHUSD]), ERR_INVALID);
}

static void test_maintenance_removes_cycles(void **state)
{
	struct tri *t = *state;
	struct err_info info;
	const uint32_t *ids;
	struct arb_opp o;
	assert_int_equal(arb_set_tradable(t->a, P_ETHUSD, false, &info), 0);
	assert_int_equal(arb_cycle_count(t->a), 0);
	assert_int_equal(arb_cycles_through(t->a, P_BTCUSD, &ids), 0);
	assert_int_equal(arb_on_book(t->a, P_ETHUSD, NOW), 0);
	assert_int_equal(arb_eval_cycle(t->a, 0, NOW, &o), ARB_V_NOT_TRADABLE);
	assert_int_equal(arb_set_tradable(t->a, P_ETHUSD, true, &info), 0);
	assert_int_equal(arb_cycle_count(t->a), 2);
	/* Books stay bound by index across the rebuild. */
	assert_int_equal(arb_on_book(t->a, P_ETHUSD, NOW), 1);
	assert_int_equal(arb_set_tradable(t->a, 9, false, &info), ERR_NOTFOUND);
}

static void test_minimums(void **state)
{
	struct tri *t = *state;
	struct err_info info;
	struct arb_opp o;
	uint32_t c;
	/* Selling at least 2 ETH reaches the 2400 bids: every size loses. */
	t->pairs[P_ETHUSD].qty_min = 2000;
	assert_int_equal(arb_set_universe(t->a, t->pairs, N_TRI, 0, &info), 0);
	c = find_cycle(t->a, "USD>BTC>ETH>USD");
	assert_int_equal(arb_eval_cycle(t->a, c, NOW, &o), ARB_V_UNPROFITABLE);
	/* A cost minimum of 20000 USD on BTC/USD cannot fit the 10000 cap. */
	t->pairs[P_ETHUSD].qty_min = 0;
	t->pairs[P_BTCUSD].cost_min = 2000000; /* at cost scale 2 */
	assert_int_equal(arb_set_universe(t->a, t->pairs, N_TRI, 0, &info), 0);
	assert_int_equal(arb_eval_cycle(t->a, c, NOW, &o), ARB_V_TOO_SMALL);
	/* 2400 USD minimum: Q1 = 0.05 (2500 USD) still clears it. */
	t->pairs[P_BTCUSD].cost_min = 240000;
	assert_int_equal(arb_set_universe(t->a, t->pairs, N_TRI, 0, &info), 0);
	assert_int_equal(arb_eval_cycle(t->a, c, NOW, &o), ARB_V_OPP);
	assert_int_equal(o.legs[0].qty, 5);
}

static void test_fees_and_threshold(void **state)
{
	struct tri *t = *state;
	struct arb_opp o;
	uint32_t c = find_cycle(t->a, "USD>BTC>ETH>USD");
	/* A 400 bps fee on ETH/USD: 2600*0.96 = 2496 < 2505 paid per ETH. */
	assert_int_equal(arb_set_fee(t->a, P_ETHUSD, 400), 0);
	assert_int_equal(arb_eval_cycle(t->a, c, NOW, &o), ARB_V_SCREENED);
	/* The pair record's fee applies when the tier's is unset. */
	assert_int_equal(arb_set_fee(t->a, P_ETHUSD, ARB_FEE_DEFAULT), 0);
	assert_int_equal(arb_eval_cycle(t->a, c, NOW, &o), ARB_V_OPP);
	assert_true(fabs(o.legs[2].fee_bps - 10) < 1e-9);
	assert_int_equal(arb_set_fee(t->a, P_ETHUSD, 20000), ERR_RANGE);
	assert_int_equal(arb_set_fee(t->a, 5000, 1), ERR_NOTFOUND);
}

static void test_threshold(void **state)
{
	struct tri *t = *state;
	struct arb_cfg cfg = tp_cfg("USD", 10, 400, 10000);
	struct err_info info;
	struct arb_opp o;
	/* The top-of-book bound is 2597.4 / 2505.0025 = 368.8515 bps, so a 400 bps
	 * minimum screens the cycle out before any walk. */
	struct arb *a = arb_new(&cfg, NULL, 1, &info);
	assert_non_null(a);
	assert_int_equal(arb_set_universe(a, t->pairs, N_TRI, 0, &info), 0);
	for (unsigned i = 0; i < N_TRI; i++)
		assert_int_equal(arb_bind_book(a, i, t->books[i]), 0);
	uint32_t c = find_cycle(a, "USD>BTC>ETH>USD");
	assert_int_equal(arb_eval_cycle(a, c, NOW, &o), ARB_V_SCREENED);
	arb_free(a);
	/* between the walk (368.8415) and the top (368.8515) */
	cfg.min_profit_bps = cfg.detect_min_profit_bps = 368.845;
	a = arb_new(&cfg, NULL, 1, &info);
	assert_non_null(a);
	assert_int_equal(arb_set_universe(a, t->pairs, N_TRI, 0, &info), 0);
	for (unsigned i = 0; i < N_TRI; i++)
		assert_int_equal(arb_bind_book(a, i, t->books[i]), 0);
	assert_int_equal(arb_eval_cycle(a, c, NOW, &o), ARB_V_BELOW_MIN);
	assert_true(fabs(o.profit_home - 92.3026) < 1e-9);
	assert_int_equal(arb_on_book(a, P_ETHUSD, NOW), 0);
	arb_free(a);
}

/* ARB_DETECT_MIN_PROFIT_BPS below ARB_MIN_PROFIT_BPS: the detector screens,
 * judges and emits by the detect threshold alone, so a cycle between the two
 * (368.84 bps, with the trade minimum at 400) is reported for risk to reject. */
static void test_detect_threshold(void **state)
{
	struct tri *t = *state;
	struct arb_cfg cfg = tp_cfg("USD", 10, 400, 10000);
	struct err_info info;
	struct arb_opp o;

	cfg.detect_min_profit_bps = 5;
	struct arb *a = arb_new(&cfg, NULL, 1, &info);
	assert_non_null(a);
	assert_int_equal(arb_set_universe(a, t->pairs, N_TRI, 0, &info), 0);
	for (unsigned i = 0; i < N_TRI; i++)
		assert_int_equal(arb_bind_book(a, i, t->books[i]), 0);
	uint32_t c = find_cycle(a, "USD>BTC>ETH>USD");
	assert_int_equal(arb_eval_cycle(a, c, NOW, &o), ARB_V_OPP);
	assert_true(o.profit_bps > 368.84 && o.profit_bps < cfg.min_profit_bps);
	assert_true(fabs(o.profit_home - 92.3026) < 1e-9);
	t->n_got = 0;
	arb_set_callback(a, collect, t);
	assert_int_equal(arb_on_book(a, P_ETHUSD, NOW), 1);
	assert_int_equal(t->n_got, 1);
	assert_string_equal(t->got[0].path, "USD>BTC>ETH>USD");
	assert_true(t->got[0].profit_bps < cfg.min_profit_bps);
	arb_free(a);

	/* Above the cycle's bound the detect threshold screens it out again. */
	cfg.detect_min_profit_bps = 368.9;
	a = arb_new(&cfg, NULL, 1, &info);
	assert_non_null(a);
	assert_int_equal(arb_set_universe(a, t->pairs, N_TRI, 0, &info), 0);
	for (unsigned i = 0; i < N_TRI; i++)
		assert_int_equal(arb_bind_book(a, i, t->books[i]), 0);
	c = find_cycle(a, "USD>BTC>ETH>USD");
	assert_int_equal(arb_eval_cycle(a, c, NOW, &o), ARB_V_SCREENED);
	t->n_got = 0;
	arb_set_callback(a, collect, t);
	assert_int_equal(arb_on_book(a, P_ETHUSD, NOW), 0);
	assert_int_equal(t->n_got, 0);
	arb_free(a);

	/* A negative detect threshold is not a configuration arb_new takes. */
	cfg.detect_min_profit_bps = -1;
	assert_null(arb_new(&cfg, NULL, 1, &info));
	assert_int_equal(info.code, ERR_INVALID);
}

/* A limit price rounds away from the book onto the price increment. */
static void test_limit_rounding(void **state)
{
	(void)state;
	struct arb_pair p[N_TRI];
	struct arb_cfg cfg = tp_cfg("USD", 10, 5, 10000);
	struct err_info info;
	struct arb_opp o;
	tri_pairs(p);
	p[P_BTCUSD].price_increment = 10;
	p[P_ETHUSD].price_increment = 10;
	const struct book_level btc_a[] = {{50005, 50}};
	const struct book_level eb_a[] = {{500, 100000}};
	const struct book_level eu_b[] = {{2605, 1000}};
	struct book *b0 = tp_book(&p[0], NULL, 0, btc_a, 1, T0);
	struct book *b1 = tp_book(&p[1], NULL, 0, eb_a, 1, T0);
	struct book *b2 = tp_book(&p[2], eu_b, 1, NULL, 0, T0);
	struct arb *a = arb_new(&cfg, NULL, 1, &info);
	assert_non_null(a);
	assert_int_equal(arb_set_universe(a, p, N_TRI, 0, &info), 0);
	arb_bind_book(a, 0, b0);
	arb_bind_book(a, 1, b1);
	arb_bind_book(a, 2, b2);
	assert_int_equal(arb_eval_cycle(a, find_cycle(a, "USD>BTC>ETH>USD"), NOW, &o), ARB_V_OPP);
	assert_int_equal(o.legs[0].limit_price, 50010); /* buy: up */
	assert_int_equal(o.legs[2].limit_price, 2600);	/* sell: down */
	/* The empty sides: the reverse cycle has no asks on ETH/USD. */
	assert_int_equal(arb_eval_cycle(a, find_cycle(a, "USD>ETH>BTC>USD"), NOW, &o),
			 ARB_V_EMPTY_BOOK);
	arb_free(a);
	book_free(b0);
	book_free(b1);
	book_free(b2);
}

/* K4 on USD, EUR, BTC, ETH: per home 3 triangles and 3 four-cycles, each in
 * two directions. Through BTC/USD: for USD the 2 triangles and the 2
 * four-cycles that use the edge, both ways (8); for EUR the triangle EUR,
 * USD, BTC and the same 2 four-cycles, both ways (6). */
static void test_k4_counts(void **state)
{
	(void)state;
	struct arb_pair p[6] = {tp_pair("BTC", "USD", 1, 8), tp_pair("ETH", "USD", 2, 8),
				tp_pair("ETH", "BTC", 5, 8), tp_pair("BTC", "EUR", 1, 8),
				tp_pair("ETH", "EUR", 2, 8), tp_pair("EUR", "USD", 5, 8)};
	struct arb_cfg cfg = tp_cfg("USD, EUR,GBP", 26, 5, 100);
	struct err_info info;
	const uint32_t *ids;
	const char *homes[ARB_MAX_HOMES];
	struct arb *a = arb_new(&cfg, NULL, 1, &info);
	assert_non_null(a);
	assert_int_equal(arb_set_universe(a, p, 6, 0, &info), 0);
	assert_int_equal(arb_homes(a, homes), 3);
	assert_string_equal(homes[1], "EUR");
	assert_int_equal(arb_cycle_count(a), 24);
	assert_int_equal(arb_cycle_count_by(a, "USD", 3), 6);
	assert_int_equal(arb_cycle_count_by(a, "USD", 4), 6);
	assert_int_equal(arb_cycle_count_by(a, "EUR", 0), 12);
	assert_int_equal(arb_cycle_count_by(a, "GBP", 0), 0);
	assert_int_equal(arb_cycle_count_by(a, NULL, 4), 12);
	assert_int_equal(arb_cycles_through(a, 0, &ids), 14);
	uint32_t idx;
	assert_int_equal(arb_pair_find(a, "ETH/EUR", &idx), 0);
	assert_int_equal(idx, 4);
	assert_int_equal(arb_pair_find(a, "XRP/EUR", &idx), ERR_NOTFOUND);
	/* A capacity below the count is an error that says how many. */
	assert_int_equal(arb_set_universe(a, p, 6, 10, &info), ERR_FULL);
	assert_non_null(strstr(info.msg, "24"));
	assert_int_equal(arb_set_universe(a, p, 6, 10, NULL), ERR_FULL);
	assert_int_equal(arb_cycle_count(a), 24); /* the old universe stays */
	arb_free(a);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct arb_pair p[2] = {tp_pair("BTC", "USD", 1, 8), tp_pair("ETH", "ETH", 1, 8)};
	struct arb_cfg cfg = tp_cfg("USD", 26, 5, 100);
	struct err_info info;
	struct arb *a = arb_new(&cfg, NULL, 1, &info);
	assert_non_null(a);
	assert_int_equal(arb_set_universe(a, p, 2, 0, &info), ERR_INVALID);
	assert_non_null(strstr(info.msg, "ETH/ETH"));
	p[1] = tp_pair("ETH", "USD", 1, 8);
	p[1].qty_increment = 0;
	assert_int_equal(arb_set_universe(a, p, 2, 0, &info), ERR_INVALID);
	assert_non_null(strstr(info.msg, "increment"));
	p[1].qty_increment = 1;
	p[1].price_scale = 19;
	assert_int_equal(arb_set_universe(a, p, 2, 0, &info), ERR_INVALID);
	arb_free(a);
	cfg = tp_cfg(" , ", 26, 5, 100);
	assert_null(arb_new(&cfg, NULL, 1, &info));
	assert_int_equal(info.code, ERR_INVALID);
	cfg = tp_cfg("USD,USD", 26, 5, 100);
	assert_null(arb_new(&cfg, NULL, 1, &info));
	assert_non_null(strstr(info.msg, "twice"));
	cfg = tp_cfg("USD", 26, 5, 0);
	assert_null(arb_new(&cfg, NULL, 1, &info));
	arb_free(NULL);
	arb_graph_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_triangle_cycles, tri_setup, tri_teardown),
	    cmocka_unit_test_setup_teardown(test_hand_example, tri_setup, tri_teardown),
	    cmocka_unit_test_setup_teardown(test_balance_caps_size, tri_setup, tri_teardown),
	    cmocka_unit_test_setup_teardown(test_emit_and_ids, tri_setup, tri_teardown),
	    cmocka_unit_test_setup_teardown(test_no_alloc, tri_setup, tri_teardown),
	    cmocka_unit_test_setup_teardown(test_stale_and_invalid, tri_setup, tri_teardown),
	    cmocka_unit_test_setup_teardown(test_maintenance_removes_cycles, tri_setup,
					    tri_teardown),
	    cmocka_unit_test_setup_teardown(test_minimums, tri_setup, tri_teardown),
	    cmocka_unit_test_setup_teardown(test_fees_and_threshold, tri_setup, tri_teardown),
	    cmocka_unit_test_setup_teardown(test_threshold, tri_setup, tri_teardown),
	    cmocka_unit_test_setup_teardown(test_detect_threshold, tri_setup, tri_teardown),
	    cmocka_unit_test(test_limit_rounding),
	    cmocka_unit_test(test_k4_counts),
	    cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

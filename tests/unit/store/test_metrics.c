/* Metrics in SQL over a small hand-made history with known answers. */
#include "store_test.h"

#include <math.h>

#include "store/metrics.h"

#define DAY_NS (86400LL * 1000000000LL)
#define US     1000LL /* rows are stored to the microsecond */

static struct store_rec opp(uint64_t id, int64_t ts, enum store_verdict v, const char *home,
			    int64_t exp_units, int64_t lat_ns)
{
	struct store_rec r;
	memset(&r, 0, sizeof r);
	r.type = STORE_REC_OPPORTUNITY;
	r.u.opp.ts_ns = ts;
	r.u.opp.opp_id = id;
	r.u.opp.verdict = v;
	r.u.opp.n_legs = 3;
	set_str(r.u.opp.cycle, sizeof r.u.opp.cycle, "USD>BTC>ETH>USD");
	set_str(r.u.opp.home_asset, sizeof r.u.opp.home_asset, home);
	for (int i = 0; i < 3; i++) {
		set_str(r.u.opp.legs[i].symbol, STORE_SYMBOL_LEN, "BTC/USD");
		r.u.opp.legs[i].price = store_amt(1, 0);
		r.u.opp.legs[i].qty = store_amt(1, 0);
		r.u.opp.legs[i].book_age_ms = 1;
	}
	r.u.opp.size = store_amt(100, 0);
	r.u.opp.expected_profit = store_amt(exp_units, 2);
	r.u.opp.expected_fee = store_amt(1, 2);
	r.u.opp.max_book_age_ms = 1;
	r.u.opp.detect_latency_ns = lat_ns;
	return r;
}

static struct store_rec trade(uint64_t opp_id, int64_t ts, uint8_t leg, int64_t fee_units,
			      const char *fee_asset, int64_t realised_units, int64_t submit_ns)
{
	struct store_rec r;
	memset(&r, 0, sizeof r);
	r.type = STORE_REC_TRADE;
	r.u.trade.ts_ns = ts;
	r.u.trade.opp_id = opp_id;
	r.u.trade.leg = leg;
	r.u.trade.status = STORE_STATUS_FILLED;
	r.u.trade.tif = STORE_TIF_IOC;
	snprintf(r.u.trade.cl_ord_id, STORE_ID_LEN, "arb-%llu-%u", (unsigned long long)opp_id, leg);
	set_str(r.u.trade.symbol, STORE_SYMBOL_LEN, "BTC/USD");
	set_str(r.u.trade.fee_asset, STORE_ASSET_LEN, fee_asset);
	r.u.trade.qty = store_amt(1, 0);
	r.u.trade.filled_qty = store_amt(1, 0);
	r.u.trade.fee = store_amt(fee_units, 4);
	r.u.trade.realised_profit = store_amt(realised_units, 2);
	r.u.trade.expected_profit = STORE_AMOUNT_NULL;
	r.u.trade.submit_latency_ns = submit_ns;
	r.u.trade.ack_latency_ns = -1;
	r.u.trade.fill_latency_ns = -1;
	return r;
}

static void metrics_known_history(void **state)
{
	(void)state;
	struct tdb t;
	struct err_info info = {0};
	tdb_init(&t);
	struct store *s = tdb_open(&t);
	const int64_t d0 = T0_NS, d1 = T0_NS + DAY_NS;

	/* Day 0: opps 1 (detected, then executed), 2 (rejected); day 1: opps 3
	 * (executed) and 4 (missed). 4 opportunities, 2 executed: hit rate 0.5.
	 * Detection latencies 100, 200, 300, 400 ns (the later row of opp 1
	 * counts too: 5 rows, values 100,100,200,300,400 -> p50 200). */
	struct store_rec recs[] = {
	    opp(1, d0, STORE_VERDICT_DETECTED, "USD", 150, 100),
	    opp(1, d0 + 10 * US, STORE_VERDICT_EXECUTED, "USD", 150, 100),
	    opp(2, d0 + 20 * US, STORE_VERDICT_REJECTED, "USD", 90, 200),
	    opp(3, d1, STORE_VERDICT_EXECUTED, "USD", 200, 300),
	    opp(4, d1 + 20 * US, STORE_VERDICT_MISSED, "EUR", 50, 400),
	    /* opp 1: three legs, realised 1.20 USD; fees 0.0010 USD + 0.0002 BTC x2 */
	    trade(1, d0 + 11 * US, 0, 10, "USD", 120, 1000),
	    trade(1, d0 + 12 * US, 1, 2, "BTC", 120, 2000),
	    trade(1, d0 + 13 * US, 2, 2, "BTC", 120, 3000),
	    /* opp 3: one leg recorded, realised -0.30 USD */
	    trade(3, d1 + 1 * US, 0, 30, "USD", -30, 4000),
	};
	for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
		assert_int_equal(store_enqueue(s, &recs[i]), 0);
	assert_int_equal(store_flush(s, 10000), 0);

	struct store_reader *rd = store_reader_open(s, &info);
	assert_non_null(rd);
	static struct store_metrics m;
	assert_int_equal(store_metrics_collect(rd, 0, &m, &info), 0);

	assert_int_equal(m.opportunities, 4);
	assert_int_equal(m.verdicts[STORE_VERDICT_EXECUTED], 2);
	assert_int_equal(m.verdicts[STORE_VERDICT_REJECTED], 1);
	assert_int_equal(m.verdicts[STORE_VERDICT_MISSED], 1);
	assert_int_equal(m.verdicts[STORE_VERDICT_DETECTED], 0);
	assert_true(fabs(m.hit_rate - 0.5) < 1e-12);
	assert_int_equal(m.orders, 4);
	assert_int_equal(m.orders_by_status[STORE_STATUS_FILLED], 4);
	assert_int_equal(m.cycles_traded, 2);

	/* Expected 1.50 + 2.00, realised 1.20 - 0.30 = 0.9. */
	assert_int_equal(m.n_profit, 1);
	assert_string_equal(m.profit[0].home, "USD");
	assert_int_equal(m.profit[0].cycles, 2);
	assert_string_equal(m.profit[0].expected, "3.5");
	assert_string_equal(m.profit[0].realised, "0.9");

	assert_int_equal(m.n_fees, 2);
	assert_string_equal(m.fees[0].asset, "USD");
	assert_string_equal(m.fees[0].total, "0.004");
	assert_string_equal(m.fees[1].asset, "BTC");
	assert_string_equal(m.fees[1].total, "0.0004");

	/* Days oldest first: 2024-01-02 USD (2 opps, 1 cycle, 1.2), 2024-01-03
	 * EUR (1 opp, no cycle), 2024-01-03 USD (1 opp, 1 cycle, -0.3). */
	assert_int_equal(m.n_days, 3);
	assert_string_equal(m.days[0].day, "2024-01-02");
	assert_string_equal(m.days[0].home, "USD");
	assert_int_equal(m.days[0].opportunities, 2);
	assert_int_equal(m.days[0].cycles, 1);
	assert_string_equal(m.days[0].realised, "1.2");
	assert_string_equal(m.days[1].day, "2024-01-03");
	assert_string_equal(m.days[1].home, "EUR");
	assert_int_equal(m.days[1].cycles, 0);
	assert_string_equal(m.days[1].realised, "");
	assert_string_equal(m.days[2].home, "USD");
	assert_string_equal(m.days[2].realised, "-0.3");

	assert_int_equal(m.latency[STORE_METRICS_DETECT].n, 5);
	assert_true(fabs(m.latency[STORE_METRICS_DETECT].p50 - 200) < 1e-9);
	assert_true(fabs(m.latency[STORE_METRICS_DETECT].max - 400) < 1e-9);
	/* submit 1000..4000: p50 2500, p90 3700 (linear interpolation). */
	assert_int_equal(m.latency[STORE_METRICS_SUBMIT].n, 4);
	assert_true(fabs(m.latency[STORE_METRICS_SUBMIT].p50 - 2500) < 1e-9);
	assert_true(fabs(m.latency[STORE_METRICS_SUBMIT].p90 - 3700) < 1e-9);
	assert_int_equal(m.latency[STORE_METRICS_ACK].n, 0);
	assert_true(isnan(m.latency[STORE_METRICS_ACK].p50));

	/* since = day 1: only opps 3 and 4, one trade. */
	assert_int_equal(store_metrics_collect(rd, d1, &m, &info), 0);
	assert_int_equal(m.opportunities, 2);
	assert_int_equal(m.orders, 1);
	assert_string_equal(m.profit[0].realised, "-0.3");

	/* The JSON names every part. */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	store_metrics_write_json(&m, d1, f);
	fclose(f);
	assert_non_null(strstr(buf, "\"hit_rate\":0.5"));
	assert_non_null(strstr(buf, "\"pnl_by_day\":["));
	assert_non_null(strstr(buf, "\"ack\":{\"n\":0,\"p50\":null"));
	free(buf);

	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

static void metrics_empty(void **state)
{
	(void)state;
	struct tdb t;
	struct err_info info = {0};
	tdb_init(&t);
	struct store *s = tdb_open(&t);
	struct store_reader *rd = store_reader_open(s, &info);
	static struct store_metrics m;
	assert_int_equal(store_metrics_collect(rd, 0, &m, &info), 0);
	assert_int_equal(m.opportunities, 0);
	assert_true(isnan(m.hit_rate));
	assert_int_equal(m.n_days, 0);
	assert_int_equal(store_metrics_collect(rd, -1, &m, &info), ERR_INVALID);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

/* The C scan used by the benchmark agrees with the SQL on synthetic rows. */
static void metrics_scan_agrees(void **state)
{
	(void)state;
	struct tdb t;
	struct err_info info = {0};
	static struct store_metrics a, b;
	tdb_init(&t);
	struct store *s = tdb_open(&t);
	assert_int_equal(store_metrics_synthesize(s, 20000, &info), 0);
	assert_int_equal(store_metrics_synthesize(s, 5000, &info), 0);
	struct store_reader *rd = store_reader_open(s, &info);
	assert_int_equal(store_metrics_collect(rd, 0, &a, &info), 0);
	assert_int_equal(store_metrics_collect_scan(rd, 0, &b, &info), 0);
	assert_int_equal(a.opportunities, 25000);
	assert_int_equal(b.opportunities, 25000);
	/* i % 5 == 0 executed: 4000 + 1000. */
	assert_int_equal(a.verdicts[STORE_VERDICT_EXECUTED], 5000);
	assert_memory_equal(a.verdicts, b.verdicts, sizeof a.verdicts);
	assert_true(fabs(a.hit_rate - 0.2) < 1e-12);
	assert_true(fabs(a.hit_rate - b.hit_rate) < 1e-12);
	assert_int_equal(a.latency[0].n, b.latency[0].n);
	assert_true(fabs(a.latency[0].p50 - b.latency[0].p50) < 1e-6);
	assert_true(fabs(a.latency[0].p99 - b.latency[0].p99) < 1e-6);
	assert_true(fabs(a.latency[0].max - b.latency[0].max) < 1e-6);
	assert_int_equal(a.orders, 15000);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(metrics_known_history),
	    cmocka_unit_test(metrics_empty),
	    cmocka_unit_test(metrics_scan_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

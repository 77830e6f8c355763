/* End to end, paper venue: `arbitrade sim --scenario basic.json` and
 * `arbitrade run` (TRADING_MODE=paper) as child processes on loopback.
 *
 * One bot run, one injected window after another (POST /control/window on
 * USD>BTC>ETH):
 *   (a) the first window is detected, passes risk and executes three legs;
 *       the balances in portfolio_snapshots are the start balance moved by
 *       the fills and fees in trades, and the realised profit is the USD
 *       gained; /metrics and /health show the counts and latencies;
 *   (d) later windows are rejected with the risk rule's reason in the
 *       opportunities table: rate_limit (RISK_MAX_CYCLES_PER_MIN=1), paused
 *       (dashboard), exchange_offline (sim status maintenance), killed;
 *   (e) the dashboard's kill switch: audited with the operator, no cycle
 *       after it, /metrics says killed.
 * ARB_SLIPPAGE_BPS=0: the paper venue worsens each level by the slippage and
 * rounds up, while the sequencer's limit is moved by the same slippage and
 * rounded down, so with a non-zero slippage a walk to the detector's worst
 * level never fills (reported to the exec owner). */
#include "test_e2e.h"

static int setup(void **state)
{
	(void)state;
	return e2e_setup("basic.json");
}

static int teardown(void **state)
{
	(void)state;
	return e2e_teardown();
}

/* Injects a window and waits until /health's key grows past before. */
static void window_until(struct e2e_bot *b, const char *key, long long before)
{
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 1500), 200);
	long long v = e2e_wait_num(b, key, before + 1, 10000);
	if (v <= before)
		fail_msg("%s stayed %lld after a window:\n%s", key, v, b->p.out);
	e2e_pause_ms(b, 1700); /* let the window close */
}

static void test_paper_cycle_and_rules(void **state)
{
	(void)state;
	struct e2e_bot b;
	static const char *const extra[] = {"TRADING_MODE=paper",
					    "PAPER_STARTING_BALANCES=USD=1000",
					    "ARB_SLIPPAGE_BPS=0",
					    "RISK_MAX_CYCLES_PER_MIN=1",
					    "ARB_MAX_NOTIONAL=100",
					    "ARB_MIN_PROFIT_BPS=5",
					    "RISK_MAX_EXPOSURE=500",
					    "ARB_PAPER_LATENCY_MS=0",
					    "RISK_MAX_CONSECUTIVE_FAILURES=50",
					    NULL};
	e2e_start_bot(&b, "paper.duckdb", false, extra);

	/* (a) one cycle through every stage. */
	window_until(&b, "cycles_executed", 0);
	assert_int_equal(e2e_health_num(&b, "cycles_executed"), 1);

	/* (d) rate_limit: one cycle a minute, and it was just used. */
	long long rej = e2e_health_num(&b, "rejected");
	window_until(&b, "rejected", rej);

	/* paused, from the dashboard. */
	assert_int_equal(e2e_dash_post(&b, "/control/pause", ""), 303);
	rej = e2e_health_num(&b, "rejected");
	window_until(&b, "rejected", rej);
	assert_int_equal(e2e_dash_post(&b, "/control/resume", ""), 303);

	/* exchange_offline: the status channel says maintenance. */
	assert_int_equal(e2e_control("POST", "/control/status?value=maintenance"), 200);
	e2e_pause_ms(&b, 600);
	rej = e2e_health_num(&b, "rejected");
	window_until(&b, "rejected", rej);
	assert_int_equal(e2e_control("POST", "/control/status?value=online"), 200);
	e2e_pause_ms(&b, 600);

	/* (e) the kill switch from the dashboard, then one more window. */
	assert_int_equal(e2e_dash_post(&b, "/control/kill", "confirm=KILL"), 303);
	assert_true(e2e_health_has(&b, "\"killed\":true"));
	rej = e2e_health_num(&b, "rejected");
	window_until(&b, "rejected", rej);
	assert_int_equal(e2e_health_num(&b, "cycles_executed"), 1);

	static char m[1 << 17];
	assert_int_equal(h_http(b.port, "GET", "/metrics", NULL, NULL, m, sizeof m), 200);
	assert_non_null(strstr(m, "\narbitrade_cycles_executed_total 1\n"));
	assert_non_null(strstr(m, "\narbitrade_killed 1\n"));
	assert_non_null(strstr(m, "arbitrade_orders_total{outcome=\"filled\"} 3\n"));
	assert_non_null(strstr(m, "arbitrade_balance{asset=\"USD\"}"));
	assert_null(strstr(m, "\narbitrade_opportunities_total 0\n"));
	assert_null(strstr(m, "\narbitrade_hot_path_latency_seconds_count 0\n"));
	const char *d2o = strstr(m, "\narbitrade_decision_to_order_latency_seconds_count ");
	assert_non_null(d2o);
	long n_d2o =
	    strtol(d2o + strlen("\narbitrade_decision_to_order_latency_seconds_count "), NULL, 10);
	e2e_stop_bot(&b);

	/* The cycle: latest verdict executed, three filled legs in order. */
	const char *db = b.db;
	assert_int_equal(e2e_sql_i64(db,
				     "WITH l AS (SELECT * FROM opportunities QUALIFY "
				     "row_number() OVER (PARTITION BY opp_id ORDER BY ts DESC)=1) "
				     "SELECT count(*) FROM l WHERE verdict='executed'"),
			 1);
	char opp[32], q[512];
	e2e_sql_text(db, "SELECT opp_id FROM opportunities WHERE verdict='executed'", opp,
		     sizeof opp);
	assert_true(opp[0] != '\0');
	snprintf(q, sizeof q,
		 "SELECT count(*) FROM opportunities WHERE opp_id=%s AND verdict IN "
		 "('detected','accepted')",
		 opp);
	assert_int_equal(e2e_sql_i64(db, q), 2);
	snprintf(q, sizeof q,
		 "SELECT string_agg(symbol || ' ' || side || ' ' || status, ',' ORDER BY leg) "
		 "FROM trades WHERE opp_id=%s",
		 opp);
	char legs[256];
	e2e_sql_text(db, q, legs, sizeof legs);
	assert_string_equal(legs, "BTC/USD buy filled,ETH/BTC buy filled,ETH/USD sell filled");
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM trades"), 3);

	/* Balances: start + fills - fees, per asset (fees in the quote). The
	 * trades keep avg_price rounded to the price unit, so USD and BTC
	 * are compared within half a unit per unit of quantity. */
	double d0 = e2e_sql_f64(
	    db,
	    "SELECT filled_qty::DOUBLE*avg_price::DOUBLE + fee::DOUBLE FROM trades WHERE leg=0");
	double b0 = e2e_sql_f64(db, "SELECT filled_qty FROM trades WHERE leg=0");
	double d1 = e2e_sql_f64(
	    db,
	    "SELECT filled_qty::DOUBLE*avg_price::DOUBLE + fee::DOUBLE FROM trades WHERE leg=1");
	double e1 = e2e_sql_f64(db, "SELECT filled_qty FROM trades WHERE leg=1");
	double u2 = e2e_sql_f64(
	    db,
	    "SELECT filled_qty::DOUBLE*avg_price::DOUBLE - fee::DOUBLE FROM trades WHERE leg=2");
	double e2 = e2e_sql_f64(db, "SELECT filled_qty FROM trades WHERE leg=2");
#define LAST(a)                                                                                    \
	"SELECT balance FROM portfolio_snapshots WHERE asset='" a "' ORDER BY ts DESC LIMIT 1"
	double usd = e2e_sql_f64(db, LAST("USD"));
	double btc = e2e_sql_f64(db, LAST("BTC"));
	double eth = e2e_sql_f64(db, LAST("ETH"));
	assert_true(fabs(usd - (1000.0 - d0 + u2)) < 1e-3);
	assert_true(fabs(btc - (b0 - d1)) < 1e-7);
	assert_true(fabs(eth - (e1 - e2)) < 1e-12);
	assert_true(b0 > 0 && e1 > 0 && e2 > 0);
	double realised =
	    e2e_sql_f64(db, "SELECT realised_profit FROM trades WHERE leg=2 AND realised_profit "
			    "IS NOT NULL");
	assert_true(fabs(realised - (usd - 1000.0)) < 1e-6);
	/* Latencies: detection on every opportunity row, the histograms
	 * filled (decision -> order: one per order placed). */
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM opportunities WHERE "
					 "detect_latency_ns IS NULL"),
			 0);
	assert_int_equal(n_d2o, 3);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM trades WHERE fill_latency_ns IS "
					 "NOT NULL"),
			 3);

	/* (d) each rule's reason. */
	static const char *const rules[] = {"rate_limit", "paused", "exchange_offline", "killed"};
	for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
		snprintf(q, sizeof q,
			 "SELECT count(*) FROM opportunities WHERE verdict='rejected' AND reason "
			 "LIKE '%s: %%'",
			 rules[i]);
		if (e2e_sql_i64(db, q) < 1)
			fail_msg("no opportunity rejected for %s", rules[i]);
	}
	/* (e) the kill switch: one audit event with the operator, and nothing
	 * accepted after it. */
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM audit_events WHERE "
					 "action='kill_switch' AND actor='operator:dev'"),
			 1);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM opportunities o WHERE "
					 "verdict='accepted' AND ts > (SELECT min(ts) FROM "
					 "audit_events WHERE action='kill_switch')"),
			 0);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM audit_events WHERE "
					 "action='pause' AND actor='operator:dev'"),
			 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_paper_cycle_and_rules, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

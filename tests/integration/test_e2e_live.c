/* End to end, live venue: `arbitrade run` with TRADING_MODE=live trades
 * over the simulator's private WebSocket and REST with its test account
 * (basic.json), everything on loopback. One bot run, one step after another:
 *   (a) an injected window executes three legs; at the end the bot's last
 *       portfolio snapshot equals the simulator's own balances (REST
 *       Balance, asked by the test with the same key);
 *   (b) /control/partial_next: the next order (leg 1) fills half; leg 2 is
 *       sized from what leg 1 filled, leg 3 from what leg 2 filled;
 *   (c) /control/reject_next: leg 1 is refused with Kraken's error text,
 *       the opportunity's final row says so and nothing is unwound;
 *       a leg 2 that cannot fill (leg 1 held back by /control/delay_ack
 *       until the window closed) is unwound to USD by a sell of BTC/USD;
 *   (e) SIGUSR1: the kill switch, audited with its source, cancel_all
 *       requested, no cycle after it.
 * All of it twice: with the transport thread (default) and with
 * EXEC_BUSY_POLL=true, where the execution thread runs the private
 * connection itself (inline transport).
 * The simulator's one-shot faults act on the next add_order, which is always
 * a cycle's first leg: a fault on leg 2 itself cannot be aimed from outside,
 * hence (b) on leg 1 and the closed window for (c)'s unwind. */
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

/* The simulator's balance of asset, from REST Balance with the test key. */
static double sim_balance(const char *asset)
{
	struct err_info info = {0};
	struct e2e_rest r;
	static struct kr_rest_balances bal;
	e2e_rest_open_ex(&r, true);
	if (kr_rest_balance(r.c, &bal, &info) != 0)
		fail_msg("Balance: %s", info.msg);
	double v = NAN;
	for (size_t i = 0; i < bal.n; i++)
		if (strcmp(bal.v[i].asset, asset) == 0)
			v = (double)bal.v[i].balance.v / pow(10, bal.v[i].balance.scale);
	e2e_rest_close(&r);
	return v;
}

static void run_live(bool busy)
{
	struct e2e_bot b;
	const char *const extra[] = {"RISK_MAX_CYCLES_PER_MIN=10000",
				     "RISK_MAX_CONSECUTIVE_FAILURES=50",
				     "ARB_MIN_PROFIT_BPS=5",
				     "ARB_MAX_NOTIONAL=100",
				     "RISK_MAX_EXPOSURE=500",
				     "RISK_DEADMAN_TIMEOUT_S=60",
				     busy ? "EXEC_BUSY_POLL=true" : "EXEC_BUSY_POLL=false",
				     NULL};
	e2e_start_bot(&b, busy ? "live-inline.duckdb" : "live.duckdb", true, extra);

	/* (a) */
	long long n = e2e_cycles(&b);
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 600), 200);
	e2e_wait_cycle(&b, n, "window");
	e2e_pause_ms(&b, 1200);
	assert_true(e2e_health_num(&b, "cycles_executed") >= 1);
	/* The first order of each cycle was timed to the socket. */
	e2e_pause_ms(&b, 300);
	assert_true(e2e_health_has(&b, "\"first_order_wire\":{\"count\":"));
	assert_false(e2e_health_has(&b, "\"first_order_wire\":{\"count\":0,"));

	/* (b) */
	n = e2e_cycles(&b);
	assert_int_equal(e2e_control("POST", "/control/partial_next?ratio=0.5"), 200);
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 600), 200);
	e2e_wait_cycle(&b, n, "partial");
	e2e_pause_ms(&b, 1200);

	/* (c) rejected leg 1 */
	n = e2e_cycles(&b);
	assert_int_equal(
	    e2e_control("POST", "/control/reject_next?error=EOrder:Insufficient%20funds"), 200);
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 600), 200);
	e2e_wait_cycle(&b, n, "reject");
	e2e_pause_ms(&b, 1200);

	/* (c) leg 2 finds its window closed: unwind */
	n = e2e_cycles(&b);
	assert_int_equal(e2e_control("POST", "/control/delay_ack?ms=1500"), 200);
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 300), 200);
	e2e_wait_cycle(&b, n, "unwind");
	e2e_pause_ms(&b, 1500);

	/* (e) SIGUSR1 */
	kill(b.p.pid, SIGUSR1);
	for (int i = 0; i < 60 && !e2e_health_has(&b, "\"killed\":true"); i++)
		e2e_pause_ms(&b, 50);
	assert_true(e2e_health_has(&b, "\"killed\":true"));
	n = e2e_cycles(&b);
	long long acc = e2e_health_num(&b, "accepted");
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 600), 200);
	e2e_pause_ms(&b, 1500);
	assert_int_equal(e2e_cycles(&b), n);
	assert_int_equal(e2e_health_num(&b, "accepted"), acc);
	e2e_stop_bot(&b);

	const char *db = b.db;
	char q[1024], txt[256];
	/* (a) an executed cycle with three filled legs. */
	assert_true(e2e_sql_i64(db, "SELECT count(*) FROM opportunities WHERE "
				    "verdict='executed'") >= 1);
	/* Balances: the bot's last snapshot is the simulator's account. */
	static const char *const assets[] = {"USD", "BTC", "ETH"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(q, sizeof q,
			 "SELECT balance FROM portfolio_snapshots WHERE asset='%s' ORDER BY ts "
			 "DESC LIMIT 1",
			 assets[i]);
		double mine = e2e_sql_f64(db, q), theirs = sim_balance(assets[i]);
		if (!(fabs(mine - theirs) < 1e-8))
			fail_msg("%s: bot %.10f, simulator %.10f", assets[i], mine, theirs);
	}
	assert_true(sim_balance("USD") != 10000.0);

	/* (b) the half-filled leg 1, and the legs sized from it. */
	int64_t partial = e2e_sql_i64(db, "SELECT opp_id FROM trades WHERE leg=0 AND "
					  "filled_qty > 0 AND filled_qty < qty");
	assert_true(partial > 0);
	snprintf(q, sizeof q,
		 "SELECT (SELECT filled_qty::DOUBLE FROM trades WHERE opp_id=%lld AND leg=0), "
		 "(SELECT qty::DOUBLE*limit_price::DOUBLE FROM trades WHERE opp_id=%lld AND leg=1)",
		 (long long)partial, (long long)partial);
	duckdb_result r;
	assert_true(e2e_sql(db, q, &r));
	double f0 = duckdb_value_double(&r, 0, 0), spend1 = duckdb_value_double(&r, 1, 0);
	duckdb_destroy_result(&r);
	/* Leg 2 buys ETH with the BTC leg 1 bought: at most all of it, fee
	 * included, and not less than what one ETH increment less would cost. */
	assert_true(spend1 * 1.0026 <= f0 * (1 + 1e-9));
	assert_true(spend1 * 1.0026 > f0 * 0.99);
	snprintf(q, sizeof q,
		 "SELECT (SELECT filled_qty FROM trades WHERE opp_id=%lld AND leg=1) = "
		 "(SELECT qty FROM trades WHERE opp_id=%lld AND leg=2)",
		 (long long)partial, (long long)partial);
	e2e_sql_text(db, q, txt, sizeof txt);
	assert_string_equal(txt, "true");

	/* (c) the refused leg 1: its final row names the error; no unwind. */
	int64_t rej = e2e_sql_i64(db, "SELECT opp_id FROM trades WHERE leg=0 AND "
				      "status='rejected'");
	assert_true(rej > 0);
	snprintf(q, sizeof q,
		 "SELECT reason FROM opportunities WHERE opp_id=%lld ORDER BY ts DESC LIMIT 1",
		 (long long)rej);
	e2e_sql_text(db, q, txt, sizeof txt);
	assert_non_null(strstr(txt, "Insufficient funds"));
	snprintf(q, sizeof q, "SELECT count(*) FROM trades WHERE opp_id=%lld", (long long)rej);
	assert_int_equal(e2e_sql_i64(db, q), 1);
	/* The unwind: leg 2 unfilled, then BTC sold back to USD. */
	/* Windows closing under a running cycle can unwind too; the delayed
	 * one is the cycle whose leg 2 got nothing at all. */
	int64_t unw = e2e_sql_i64(db, "SELECT u.opp_id FROM trades u JOIN trades l ON "
				      "l.opp_id=u.opp_id AND l.leg=1 AND l.cl_ord_id NOT LIKE "
				      "'%-u%' AND l.filled_qty=0 WHERE u.cl_ord_id LIKE '%-u%' AND "
				      "u.symbol='BTC/USD' AND u.side='sell' AND u.filled_qty > 0 "
				      "ORDER BY u.ts LIMIT 1");
	if (unw <= 0) {
		e2e_sql_text(db,
			     "SELECT string_agg(cl_ord_id||' '||symbol||' '||status, '; ') "
			     "FROM trades",
			     txt, sizeof txt);
		fail_msg("no unwind sell of BTC/USD; trades: %s", txt);
	}
	snprintf(q, sizeof q,
		 "SELECT verdict || ' ' || reason FROM opportunities WHERE opp_id=%lld ORDER BY "
		 "ts DESC LIMIT 1",
		 (long long)unw);
	e2e_sql_text(db, q, txt, sizeof txt);
	assert_non_null(strstr(txt, "missed failed: 1 of 3 legs filled, unwound"));

	/* (e) */
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM audit_events WHERE "
					 "action='kill_switch' AND actor='signal:SIGUSR1'"),
			 1);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM audit_events WHERE "
					 "action='kill_switch' AND actor='exec' AND detail LIKE "
					 "'%\"cancel_all\":\"requested\"%'"),
			 1);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM trades WHERE ts > (SELECT "
					 "min(ts) FROM audit_events WHERE action='kill_switch')"),
			 0);
}

static void test_live_cycles_faults_kill(void **state)
{
	(void)state;
	run_live(false);
}

static void test_live_inline_transport(void **state)
{
	(void)state;
	run_live(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_live_cycles_faults_kill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_inline_transport, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

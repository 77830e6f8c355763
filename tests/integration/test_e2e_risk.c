/* End to end, paper venue (basic.json): the rules and controls the other
 * scenarios do not reach.
 *   (d) max_exposure: RISK_MAX_EXPOSURE below the cycle size rejects every
 *       opportunity with that reason;
 *   mode switch: with credentials configured, the dashboard's switch to
 *       live is refused while the pipeline runs (the venue is chosen at
 *       start), with a text saying to restart, and audited;
 *   (e) `arbitrade kill` (RISK_KILL_FILE): the running bot engages the kill
 *       switch within about a second, audited with the file as actor; a
 *       later window is rejected as killed;
 *   min_profit: ARB_DETECT_MIN_PROFIT_BPS=0 below ARB_MIN_PROFIT_BPS=500, so
 *       a window's cycle is detected and recorded (a near miss) and risk
 *       rejects it with that reason; nothing is traded. */
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

static const char *const extra[] = {
    "TRADING_MODE=paper",
    "KRAKEN_API_KEY=" E2E_KEY,
    "KRAKEN_API_SECRET=" E2E_SECRET,
    "KRAKEN_API_KEY_PERMISSIONS=query_funds,query_open,query_closed,trade,cancel,websocket",
    "PAPER_STARTING_BALANCES=USD=1000",
    "ARB_MAX_NOTIONAL=100",
    "RISK_MAX_EXPOSURE=50",
    "ARB_SLIPPAGE_BPS=0",
    NULL};

static void window_until_rejected(struct e2e_bot *b)
{
	long long before = e2e_health_num(b, "rejected");
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 1000), 200);
	if (e2e_wait_num(b, "rejected", before + 1, 10000) <= before)
		fail_msg("no rejection after a window:\n%s", b->p.out);
	e2e_pause_ms(b, 1200);
}

static void test_exposure_mode_switch_kill_file(void **state)
{
	(void)state;
	struct e2e_bot b;
	e2e_start_bot(&b, "risk.duckdb", false, extra);

	window_until_rejected(&b);
	assert_int_equal(e2e_health_num(&b, "accepted"), 0);

	assert_int_equal(e2e_dash_post(&b, "/control/mode", "mode=live&confirm=LIVE"), 409);
	assert_non_null(strstr(e2e_resp, "not supported"));
	assert_true(e2e_health_has(&b, "\"mode\":\"paper\""));

	/* `arbitrade kill` with the bot's configuration. */
	struct e2e_bot k;
	static char kv[48][700];
	char *envp[49];
	snprintf(k.db, sizeof k.db, "%s", b.db);
	e2e_env(&k, false, extra, envp, kv, 48);
	char *argv[] = {ARBITRADE_BIN, "kill", "--reason", "e2e test", NULL};
	struct h_proc p;
	assert_int_equal(h_run(&p, e2e_dir, argv, envp, NULL, 10000), 0);
	for (int i = 0; i < 60 && !e2e_health_has(&b, "\"killed\":true"); i++)
		e2e_pause_ms(&b, 50);
	assert_true(e2e_health_has(&b, "\"killed\":true"));
	window_until_rejected(&b);
	e2e_stop_bot(&b);

	const char *db = b.db;
	assert_true(e2e_sql_i64(db, "SELECT count(*) FROM opportunities WHERE verdict='rejected' "
				    "AND reason LIKE 'max_exposure: %'") >= 1);
	assert_true(e2e_sql_i64(db, "SELECT count(*) FROM opportunities WHERE verdict='rejected' "
				    "AND reason LIKE 'killed: %'") >= 1);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM opportunities WHERE "
					 "verdict='accepted'"),
			 0);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM audit_events WHERE "
					 "action='mode_change_refused' AND actor='operator:dev'"),
			 1);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM audit_events WHERE "
					 "action='kill_switch' AND actor LIKE 'kill_file:%/KILL'"),
			 1);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM audit_events WHERE "
					 "action='kill_switch' AND actor='exec'"),
			 1);
}

static const char *const near_miss[] = {
    "TRADING_MODE=paper",
    "PAPER_STARTING_BALANCES=USD=1000",
    "ARB_MAX_NOTIONAL=100",
    "RISK_MAX_EXPOSURE=500", /* room for the cycle: no later rule stops it */
    "ARB_SLIPPAGE_BPS=0",
    "ARB_MIN_PROFIT_BPS=500",	   /* risk trades only from here */
    "ARB_DETECT_MIN_PROFIT_BPS=0", /* the detector reports every profitable cycle */
    NULL};

/* The detector alone would make min_profit unreachable: it applies the same
 * minimum. With the detect threshold lower, risk's rule is what rejects. */
static void test_min_profit_near_miss(void **state)
{
	(void)state;
	struct e2e_bot b;
	e2e_start_bot(&b, "min_profit.duckdb", false, near_miss);

	window_until_rejected(&b);
	assert_int_equal(e2e_health_num(&b, "accepted"), 0);
	assert_true(e2e_health_num(&b, "opportunities") >= 1);
	e2e_stop_bot(&b);

	const char *db = b.db;
	assert_true(e2e_sql_i64(db, "SELECT count(*) FROM opportunities WHERE verdict='rejected' "
				    "AND reason LIKE 'min_profit: %'") >= 1);
	/* Each is a near miss: detected, profitable, below the trade minimum. */
	assert_int_equal(
	    e2e_sql_i64(db, "SELECT count(*) FROM opportunities WHERE "
			    "verdict='rejected' AND reason LIKE 'min_profit: %' AND "
			    "NOT (expected_profit_bps >= 0 AND expected_profit_bps < 500)"),
	    0);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM opportunities r WHERE "
					 "r.verdict='rejected' AND r.reason LIKE 'min_profit: %' "
					 "AND NOT EXISTS (SELECT 1 FROM opportunities d WHERE "
					 "d.opp_id=r.opp_id AND d.verdict='detected')"),
			 0);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM opportunities WHERE "
					 "verdict IN ('accepted', 'executed')"),
			 0);
	assert_int_equal(e2e_sql_i64(db, "SELECT count(*) FROM trades"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_exposure_mode_switch_kill_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_min_profit_near_miss, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

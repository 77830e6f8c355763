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
 *       rejects it with that reason; nothing is traded.
 * Live venue (the simulator's private side, its one-shot faults), the two
 * rules that need a finished cycle:
 *   circuit_breaker: RISK_MAX_CONSECUTIVE_FAILURES=1, leg 1 refused by
 *       /control/reject_next; the next window is rejected with that reason
 *       and starts no cycle; the dashboard's resume clears the streak and a
 *       window trades again;
 *   daily_loss: RISK_DAILY_LOSS_LIMIT=0.05, leg 1 held back by
 *       /control/delay_ack until the window closed, so leg 2 cannot fill and
 *       BTC is sold back at a loss (above the limit, checked in the DB); the
 *       next window is rejected with that reason, naming that loss. */
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

/* ---- live venue: the rules a finished cycle trips ---- */

/* The wall clock in microseconds, the unit of the DB's ts (epoch_us). */
static long long wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A window after the rule tripped: some opportunity is rejected, none is
 * accepted and no cycle starts. Returns the wall clock taken before it. */
static long long window_blocked(struct e2e_bot *b)
{
	long long n = e2e_cycles(b), acc = e2e_health_num(b, "accepted");
	long long rej = e2e_health_num(b, "rejected");
	long long mark = wall_us();
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 600), 200);
	if (e2e_wait_num(b, "rejected", rej + 1, 5000) <= rej)
		fail_msg("no rejection after a window:\n%s", b->p.out);
	e2e_pause_ms(b, 900); /* the window is over */
	assert_int_equal(e2e_cycles(b), n);
	assert_int_equal(e2e_health_num(b, "accepted"), acc);
	return mark;
}

/* Every opportunity detected in [from, to) (wall us) has a rejected row
 * whose reason starts with prefix, and nothing else happened to them; at
 * least one did. */
static void all_rejected_as(const char *db, long long from, long long to, const char *prefix)
{
	char q[512], rng[128];
	snprintf(rng, sizeof rng, "epoch_us(ts) >= %lld AND epoch_us(ts) < %lld", from, to);
	snprintf(q, sizeof q, "SELECT count(*) FROM opportunities WHERE verdict='detected' AND %s",
		 rng);
	int64_t detected = e2e_sql_i64(db, q);
	snprintf(q, sizeof q,
		 "SELECT count(*) FROM opportunities WHERE verdict='rejected' AND reason LIKE "
		 "'%s%%' AND %s",
		 prefix, rng);
	int64_t rejected = e2e_sql_i64(db, q);
	snprintf(q, sizeof q,
		 "SELECT count(*) FROM opportunities WHERE verdict NOT IN ('detected', "
		 "'rejected') AND %s",
		 rng);
	int64_t other = e2e_sql_i64(db, q);
	if (!(detected >= 1 && rejected == detected && other == 0))
		fail_msg("%s: %lld detected, %lld rejected as such, %lld otherwise", prefix,
			 (long long)detected, (long long)rejected, (long long)other);
}

static const char *const breaker[] = {
    "RISK_MAX_CONSECUTIVE_FAILURES=1", /* one failed cycle trips it */
    "RISK_MAX_CYCLES_PER_MIN=10000",
    "ARB_MIN_PROFIT_BPS=5",
    "ARB_MAX_NOTIONAL=100",
    "RISK_MAX_EXPOSURE=500",
    NULL};

static void test_live_circuit_breaker(void **state)
{
	(void)state;
	struct e2e_bot b;
	e2e_start_bot(&b, "breaker.duckdb", true, breaker);

	/* The fault takes the first add_order: the first accepted cycle's leg
	 * 1. The window's later opportunities are busy, then already blocked. */
	long long n = e2e_cycles(&b), ok0 = e2e_health_num(&b, "cycles_executed");
	assert_int_equal(
	    e2e_control("POST", "/control/reject_next?error=EOrder:Insufficient%20funds"), 200);
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 300), 200);
	e2e_wait_cycle(&b, n, "reject");
	e2e_pause_ms(&b, 600); /* the first window is over */
	assert_int_equal(e2e_health_num(&b, "cycles_failed"), 1);
	assert_int_equal(e2e_health_num(&b, "cycles_executed"), ok0);

	long long blocked = window_blocked(&b);

	/* Resume clears the streak: the same window trades again, so it was the
	 * breaker, not another rule, that held the second one back. */
	long long resumed = wall_us();
	assert_int_equal(e2e_dash_post(&b, "/control/resume", ""), 303);
	n = e2e_cycles(&b);
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 600), 200);
	e2e_wait_cycle(&b, n, "after resume");
	e2e_pause_ms(&b, 900);
	e2e_stop_bot(&b);

	const char *db = b.db;
	char q[512];
	/* The one failed cycle: leg 1 refused, nothing else sent. */
	int64_t rej = e2e_sql_i64(db, "SELECT opp_id FROM trades WHERE leg=0 AND "
				      "status='rejected'");
	assert_true(rej > 0);
	snprintf(q, sizeof q, "SELECT count(*) FROM trades WHERE opp_id=%lld", (long long)rej);
	assert_int_equal(e2e_sql_i64(db, q), 1);
	/* The only failed cycle before the resume (after it, the window's
	 * last cycle may unwind as the window closes under it). */
	snprintf(q, sizeof q,
		 "SELECT count(*) FROM audit_events WHERE action='cycle_done' AND detail LIKE "
		 "'%%\"ok\":false%%' AND epoch_us(ts) < %lld",
		 resumed);
	assert_int_equal(e2e_sql_i64(db, q), 1);
	all_rejected_as(
	    db, blocked, resumed,
	    "circuit_breaker: 1 failed cycles in a row (RISK_MAX_CONSECUTIVE_FAILURES=1)");
	snprintf(q, sizeof q,
		 "SELECT count(*) FROM opportunities WHERE verdict='accepted' AND epoch_us(ts) "
		 ">= %lld",
		 resumed);
	assert_true(e2e_sql_i64(db, q) >= 1);
}

/* Leg 1 must still fill after the delay (prices walk about 6 bps in 1.5 s,
 * the default slippage is 5); leg 2 must not (its window gave back over
 * 150 bps, more than the 50 allowed). */
static const char *const daily_loss[] = {
    "RISK_DAILY_LOSS_LIMIT=0.05",	/* one unwind loses more */
    "RISK_MAX_CONSECUTIVE_FAILURES=50", /* the breaker (checked first) stays out */
    "RISK_MAX_CYCLES_PER_MIN=10000",
    "ARB_MIN_PROFIT_BPS=5",
    "ARB_MAX_NOTIONAL=100",
    "RISK_MAX_EXPOSURE=500",
    "ARB_SLIPPAGE_BPS=50",
    NULL};

static void test_live_daily_loss(void **state)
{
	(void)state;
	struct e2e_bot b;
	e2e_start_bot(&b, "daily_loss.duckdb", true, daily_loss);

	/* Leg 1 reaches the book after the 300 ms window closed: leg 2 finds
	 * nothing at its limit and the BTC is sold back, spread and two fees
	 * lost. The window's other opportunities come while it runs (busy). */
	long long n = e2e_cycles(&b), ok0 = e2e_health_num(&b, "cycles_executed");
	assert_int_equal(e2e_control("POST", "/control/delay_ack?ms=1500"), 200);
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 300), 200);
	e2e_wait_cycle(&b, n, "unwind");
	e2e_pause_ms(&b, 300);
	assert_int_equal(e2e_health_num(&b, "cycles_failed"), 1);
	assert_int_equal(e2e_health_num(&b, "cycles_executed"), ok0);

	long long blocked = window_blocked(&b);
	long long end = wall_us();
	e2e_stop_bot(&b);

	const char *db = b.db;
	char q[512], txt[512];
	/* The losing cycle: leg 2 unfilled, BTC sold back to USD. */
	int64_t unw = e2e_sql_i64(db, "SELECT u.opp_id FROM trades u JOIN trades l ON "
				      "l.opp_id=u.opp_id AND l.leg=1 AND l.cl_ord_id NOT LIKE "
				      "'%-u%' AND l.filled_qty=0 WHERE u.cl_ord_id LIKE '%-u%' AND "
				      "u.symbol='BTC/USD' AND u.side='sell' AND u.filled_qty > 0 "
				      "LIMIT 1");
	if (unw <= 0) {
		e2e_sql_text(db,
			     "SELECT string_agg(cl_ord_id||' '||symbol||' '||status, '; ') "
			     "FROM trades",
			     txt, sizeof txt);
		fail_msg("no unwind sell of BTC/USD; trades: %s", txt);
	}
	assert_int_equal(e2e_sql_i64(db, "SELECT count(DISTINCT opp_id) FROM trades"), 1);
	/* Its realised loss, from the trades and from the audit, is above the
	 * limit: the rejection below is not for a loss that never was. */
	snprintf(q, sizeof q,
		 "SELECT realised_profit::DOUBLE FROM trades WHERE opp_id=%lld AND "
		 "realised_profit IS NOT NULL",
		 (long long)unw);
	double loss = e2e_sql_f64(db, q);
	e2e_sql_text(db, "SELECT detail FROM audit_events WHERE action='cycle_done'", txt,
		     sizeof txt);
	const char *rp = strstr(txt, "\"realised_profit\":");
	assert_non_null(rp);
	double audited = strtod(rp + strlen("\"realised_profit\":"), NULL);
	if (!(loss < -0.05 && fabs(audited - loss) < 1e-8))
		fail_msg("realised %.10f (audit %.10f), limit 0.05", loss, audited);

	all_rejected_as(db, blocked, end, "daily_loss: realised P&L today ");
	/* The reason names that loss (%.8f). */
	snprintf(q, sizeof q,
		 "SELECT reason FROM opportunities WHERE verdict='rejected' AND epoch_us(ts) >= "
		 "%lld ORDER BY ts LIMIT 1",
		 blocked);
	e2e_sql_text(db, q, txt, sizeof txt);
	const char *today = strstr(txt, "today ");
	assert_non_null(today);
	double named = strtod(today + strlen("today "), NULL);
	if (!(fabs(named - loss) < 1e-7))
		fail_msg("reason %s, realised %.10f", txt, loss);
	assert_non_null(strstr(txt, "<= -RISK_DAILY_LOSS_LIMIT 0.05000000"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_exposure_mode_switch_kill_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_min_profit_near_miss, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_circuit_breaker, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_daily_loss, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

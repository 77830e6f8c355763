/* End to end, crash safety with the live venue (basic.json):
 *   (f) kill -9 of the bot while its first leg is at the exchange (the
 *       simulator holds the add_order back with /control/delay_ack), then a
 *       restart on the same database and journal: the intent is reconciled
 *       through REST (the order is found, its fill recorded, a "reconcile"
 *       audit event written) and never sent again: the simulator knows
 *       exactly one order with that cl_ord_id, and trading resumes. */
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

static const char *const extra[] = {"RISK_MAX_CYCLES_PER_MIN=10000", "ARB_MIN_PROFIT_BPS=5",
				    "ARB_MAX_NOTIONAL=100", NULL};

static void test_kill9_mid_cycle_then_restart(void **state)
{
	(void)state;
	struct e2e_bot b;
	char journal[700];

	e2e_start_bot(&b, "crash.duckdb", true, extra);
	snprintf(journal, sizeof journal, "%s.journal", b.db);
	assert_int_equal(e2e_control("POST", "/control/delay_ack?ms=2500"), 200);
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 400), 200);
	/* Wait for the intent in the journal (written and synced before the
	 * order is sent), then kill the bot while the order is held. */
	struct stat st;
	for (int i = 0; i < 100 && (stat(journal, &st) != 0 || st.st_size == 0); i++)
		e2e_pause_ms(&b, 20);
	assert_int_equal(stat(journal, &st), 0);
	assert_true(st.st_size > 0);
	e2e_pause_ms(&b, 200);
	kill(b.p.pid, SIGKILL);
	assert_int_equal(h_wait(&b.p, 10000), 128 + SIGKILL);
	e2e_running = NULL;
	/* The simulator runs the held order after its delay. */
	h_sleep_ms(3000);

	struct e2e_bot b2;
	e2e_start_bot(&b2, "crash.duckdb", true, extra);
	e2e_pause_ms(&b2, 500);
	/* Trading goes on after the restart. */
	long long n = e2e_health_num(&b2, "cycles_executed");
	assert_int_equal(e2e_window("USD,BTC,ETH", 150, 400), 200);
	assert_true(e2e_wait_num(&b2, "cycles_executed", n + 1, 10000) > n);
	e2e_pause_ms(&b2, 800);
	e2e_stop_bot(&b2);

	const char *db = b2.db;
	assert_true(e2e_sql_i64(db, "SELECT count(*) FROM audit_events WHERE action='reconcile'") >=
		    1);
	char clid[64], q[512];
	e2e_sql_text(db,
		     "SELECT json_extract_string(detail, '$.cl_ord_id') FROM audit_events WHERE "
		     "action='reconcile' ORDER BY ts LIMIT 1",
		     clid, sizeof clid);
	if (!clid[0])
		e2e_sql_text(db, "SELECT detail FROM audit_events WHERE action='reconcile'", clid,
			     sizeof clid);
	assert_true(strncmp(clid, "ar", 2) == 0);
	assert_non_null(strstr(clid, "-0"));
	/* The reconciled order is recorded once, filled at the exchange. */
	snprintf(q, sizeof q, "SELECT count(*) FROM trades WHERE cl_ord_id='%s'", clid);
	assert_int_equal(e2e_sql_i64(db, q), 1);
	snprintf(q, sizeof q, "SELECT status FROM trades WHERE cl_ord_id='%s'", clid);
	char status[32];
	e2e_sql_text(db, q, status, sizeof status);
	assert_string_equal(status, "filled");

	/* The simulator: exactly one order with that id, none open. */
	struct e2e_rest r;
	struct err_info info = {0};
	struct kr_rest_orders closed = {0}, open = {0};
	struct kr_rest_order_filter f = {.cl_ord_id = clid};
	e2e_rest_open_ex(&r, true);
	if (kr_rest_closed_orders(r.c, &f, &closed, &info) != 0)
		fail_msg("ClosedOrders: %s", info.msg);
	if (kr_rest_open_orders(r.c, &f, &open, &info) != 0)
		fail_msg("OpenOrders: %s", info.msg);
	size_t same = 0;
	for (size_t i = 0; i < closed.n; i++)
		same += strcmp(closed.v[i].cl_ord_id, clid) == 0;
	for (size_t i = 0; i < open.n; i++)
		same += strcmp(open.v[i].cl_ord_id, clid) == 0;
	assert_int_equal(same, 1);
	kr_rest_orders_free(&closed);
	kr_rest_orders_free(&open);
	e2e_rest_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_kill9_mid_cycle_then_restart, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

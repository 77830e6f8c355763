/* End to end, the dead man's switch with the live venue (basic.json):
 *   (g) the bot runs with RISK_DEADMAN_TIMEOUT_S=10 (the configuration's
 *       minimum) and refreshes cancel_all_orders_after; the test rests a GTC
 *       order on the account far from the market. While the bot runs the
 *       order stays open; once the bot is SIGSTOPped (silent), the
 *       simulator cancels it when the last timeout runs out. */
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

static enum kr_order_status order_status(struct e2e_rest *r, const char *txid)
{
	struct err_info info = {0};
	struct kr_rest_orders l = {0};
	if (kr_rest_query_orders(r->c, txid, &l, &info) != 0)
		fail_msg("QueryOrders: %s", info.msg);
	enum kr_order_status s = l.n == 1 ? l.v[0].status : KR_ORDER_UNKNOWN;
	kr_rest_orders_free(&l);
	return s;
}

static void test_deadman_cancels_after_silence(void **state)
{
	(void)state;
	static const char *const extra[] = {"RISK_DEADMAN_TIMEOUT_S=10", NULL};
	struct e2e_bot b;
	struct e2e_rest r;
	struct err_info info = {0};
	struct kr_rest_add_result res;

	e2e_start_bot(&b, "deadman.duckdb", true, extra);
	e2e_rest_open(&r);
	/* A resting buy far below the market (60000): it cannot fill. */
	struct kr_rest_order_req o = {.pair = "BTC/USD",
				      .side = "buy",
				      .ordertype = "limit",
				      .volume = {1000, 5},
				      .has_price = true,
				      .price = {100000, 1},
				      .timeinforce = "GTC"};
	memset(&res, 0, sizeof res);
	if (kr_rest_add_order(r.c, &o, &res, &info) != 0)
		fail_msg("AddOrder: %s", info.msg);
	assert_int_equal(res.n_txid, 1);
	/* The bot keeps refreshing (every timeout / 3): still open well past
	 * the timeout while it runs. */
	e2e_pause_ms(&b, 12000);
	assert_int_equal(order_status(&r, res.txid[0]), KR_ORDER_OPEN);

	kill(b.p.pid, SIGSTOP);
	h_sleep_ms(5000);
	/* Silent for less than the timeout: not cancelled yet. */
	assert_int_equal(order_status(&r, res.txid[0]), KR_ORDER_OPEN);
	enum kr_order_status s = KR_ORDER_OPEN;
	for (int i = 0; i < 160 && s == KR_ORDER_OPEN; i++) {
		h_sleep_ms(100);
		s = order_status(&r, res.txid[0]);
	}
	assert_int_equal(s, KR_ORDER_CANCELED);
	e2e_rest_close(&r);
	kill(b.p.pid, SIGCONT);
	e2e_stop_bot(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_deadman_cancels_after_silence, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

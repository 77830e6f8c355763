/* The private WS v2 codec against Kraken's documented messages
 * (PROTOCOL.md §5, vectors.json ws_v2_*): executions lifecycle, balances
 * updates, subscribe/add_order/batch_add/cancel replies, and the encoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kraken/private.h"

static struct kr_priv_decoder *dec;

static int setup(void **state)
{
	(void)state;
	dec = kr_priv_decoder_new(0, 4);
	return dec ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kr_priv_decoder_free(dec);
	return 0;
}

static int decode(const char *s, struct kr_priv_msg *m, struct err_info *info)
{
	return kr_priv_decode(dec, s, strlen(s), m, info);
}

static int64_t at(struct kr_dec d, int scale)
{
	int64_t v = -1;
	assert_int_equal(kr_dec_to_scale(d, scale, &v), 0);
	return v;
}

static void test_lifecycle(void **state)
{
	static const char m8[] =
	    "{\"channel\":\"executions\",\"type\":\"update\",\"data\":[{\"order_id\":\"OK4GJX-"
	    "KSTLS-7DZZO5\",\"order_userref\":3,\"symbol\":\"BTC/USD\",\"order_qty\":0.005,"
	    "\"cum_cost\":0.0,\"time_in_force\":\"GTC\",\"exec_type\":\"pending_new\",\"side\":"
	    "\"sell\",\"order_type\":\"limit\",\"limit_price_type\":\"static\",\"limit_price\":"
	    "26500.0,\"stop_price\":0.0,\"order_status\":\"pending_new\",\"fee_usd_equiv\":0.0,"
	    "\"fee_ccy_pref\":\"fciq\",\"timestamp\":\"2023-09-22T10:33:05.709950Z\"}],"
	    "\"sequence\":8}";
	static const char m9[] =
	    "{\"channel\":\"executions\",\"type\":\"update\",\"data\":[{\"timestamp\":\"2023-09-"
	    "22T10:33:05.709982Z\",\"order_status\":\"new\",\"exec_type\":\"new\",\"order_"
	    "userref\":"
	    "3,\"order_id\":\"OK4GJX-KSTLS-7DZZO5\"}],\"sequence\":9}";
	static const char m10[] =
	    "{\"channel\":\"executions\",\"type\":\"update\",\"data\":[{\"order_id\":\"OK4GJX-"
	    "KSTLS-7DZZO5\",\"order_userref\":3,\"exec_id\":\"TGBB7L-HT5LX-J3BZ4A\",\"exec_type\":"
	    "\"trade\",\"trade_id\":62887576,\"symbol\":\"BTC/USD\",\"side\":\"sell\",\"last_qty\":"
	    "0.005,\"last_price\":26599.9,\"liquidity_ind\":\"t\",\"cost\":132.9995,\"order_type\":"
	    "\"limit\",\"timestamp\":\"2023-09-22T10:33:05.709993Z\",\"order_status\":\"partially_"
	    "filled\",\"cum_qty\":0.005,\"cum_cost\":132.9995,\"avg_price\":26599.9,\"fee_usd_"
	    "equiv\":0.3458,\"fees\":[{\"asset\":\"USD\",\"qty\":0.3458}]}],\"sequence\":10}";
	struct kr_priv_msg m;
	struct err_info info = {0};
	(void)state;

	assert_int_equal(decode(m8, &m, &info), 0);
	assert_int_equal(m.kind, KR_PRIV_EXECUTIONS);
	assert_false(m.snapshot);
	assert_true(m.has_sequence);
	assert_int_equal(m.sequence, 8);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.exec[0].exec_type, KR_EXEC_PENDING_NEW);
	assert_int_equal(m.exec[0].order_status, KR_ORD_PENDING_NEW);
	assert_string_equal(m.exec[0].order_id, "OK4GJX-KSTLS-7DZZO5");
	assert_true(m.exec[0].has_userref);
	assert_int_equal(m.exec[0].order_userref, 3);
	assert_string_equal(m.exec[0].symbol, "BTC/USD");
	assert_int_equal(m.exec[0].side, 's');
	assert_string_equal(m.exec[0].time_in_force, "GTC");
	assert_int_equal(at(m.exec[0].order_qty, 8), 500000);
	assert_int_equal(at(m.exec[0].limit_price, 1), 265000);
	assert_false(m.exec[0].has_cum_qty);
	assert_false(m.exec[0].has_fee);
	assert_true(m.exec[0].timestamp_ns > 0);

	assert_int_equal(decode(m9, &m, &info), 0);
	assert_int_equal(m.exec[0].exec_type, KR_EXEC_NEW);
	assert_int_equal(m.exec[0].order_status, KR_ORD_NEW);
	assert_string_equal(m.exec[0].symbol, "");
	assert_int_equal(m.exec[0].side, 0);

	assert_int_equal(decode(m10, &m, &info), 0);
	const struct kr_priv_exec *e = &m.exec[0];
	assert_int_equal(e->exec_type, KR_EXEC_TRADE);
	assert_int_equal(e->order_status, KR_ORD_PARTIALLY_FILLED);
	assert_string_equal(e->exec_id, "TGBB7L-HT5LX-J3BZ4A");
	assert_int_equal(at(e->last_qty, 8), 500000);
	assert_int_equal(at(e->last_price, 1), 265999);
	assert_int_equal(at(e->cum_qty, 8), 500000);
	assert_int_equal(at(e->cum_cost, 4), 1329995);
	assert_int_equal(at(e->avg_price, 1), 265999);
	assert_true(e->has_fee);
	assert_string_equal(e->fee_asset, "USD");
	assert_int_equal(at(e->fee, 4), 3458);
}

static void test_bad_executions(void **state)
{
	struct kr_priv_msg m;
	struct err_info info = {0};
	(void)state;
	assert_int_equal(decode("{\"channel\":\"executions\",\"type\":\"update\",\"data\":[{"
				"\"order_id\":\"O1\"}]}",
				&m, &info),
			 ERR_SCHEMA);
	assert_non_null(strstr(info.msg, "exec_type"));
	assert_int_equal(decode("{\"channel\":\"executions\",\"type\":\"update\",\"data\":[{"
				"\"exec_type\":\"new\",\"order_id\":\"O1\",\"cum_qty\":\"x\"}]}",
				&m, &info),
			 ERR_SCHEMA);
	assert_non_null(strstr(info.msg, "cum_qty"));
	assert_int_equal(
	    decode("{\"channel\":\"executions\",\"type\":\"update\",\"data\":{}}", &m, &info),
	    ERR_SCHEMA);
	assert_int_equal(decode("{\"channel\":\"executions\",\"type\":\"update\",\"data\":[{"
				"\"exec_type\":\"trade\",\"order_id\":\"O1\",\"fees\":[{\"asset\":"
				"\"USD\",\"qty\":1},{\"asset\":\"BTC\",\"qty\":1}]}]}",
				&m, &info),
			 ERR_SCHEMA);
	assert_int_equal(decode("{\"channel\":\"executions\",", &m, &info), ERR_PARSE);
	assert_int_equal(decode("[1,2]", &m, &info), ERR_PARSE);
	assert_int_equal(decode("{\"foo\":1}", &m, &info), ERR_SCHEMA);
	/* Over the entry capacity: the first ones are kept. */
	char big[1024];
	size_t n = (size_t)snprintf(big, sizeof(big),
				    "{\"channel\":\"executions\",\"type\":\"snapshot\",\"data\":[");
	for (int k = 0; k < 6; k++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
				      "%s{\"exec_type\":\"new\",\"order_id\":\"O%d\"}",
				      k ? "," : "", k);
	snprintf(big + n, sizeof(big) - n, "]}");
	assert_int_equal(decode(big, &m, &info), ERR_FULL);
	assert_int_equal(m.n, 4);
	assert_true(m.snapshot);
	assert_string_equal(m.exec[3].order_id, "O3");
}

static void test_balances(void **state)
{
	static const char u[] =
	    "{\"channel\":\"balances\",\"type\":\"update\",\"data\":[{\"ledger_id\":\"A5KS77-LQRMP-"
	    "SMMN4B\",\"ref_id\":\"AGBB7L-HT5LX-J3BB4A\",\"timestamp\":\"2023-09-22T10:33:05."
	    "710082Z\",\"type\":\"trade\",\"asset\":\"USD\",\"asset_class\":\"currency\","
	    "\"category\":\"trade\",\"wallet_type\":\"spot\",\"wallet_id\":\"main\",\"amount\":"
	    "132.9995,\"fee\":0.3458,\"balance\":500}],\"sequence\":10}";
	static const char s[] =
	    "{\"channel\":\"balances\",\"type\":\"snapshot\",\"data\":[{\"asset\":\"BTC\","
	    "\"asset_class\":\"currency\",\"balance\":0.5,\"wallets\":[{\"type\":\"spot\",\"id\":"
	    "\"main\",\"balance\":0.5}]}],\"sequence\":1}";
	struct kr_priv_msg m;
	struct err_info info = {0};
	(void)state;
	assert_int_equal(decode(u, &m, &info), 0);
	assert_int_equal(m.kind, KR_PRIV_BALANCES);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.bal[0].asset, "USD");
	assert_true(m.bal[0].has_amount);
	assert_int_equal(at(m.bal[0].amount, 4), 1329995);
	assert_int_equal(at(m.bal[0].fee, 4), 3458);
	assert_int_equal(at(m.bal[0].balance, 0), 500);
	assert_string_equal(m.bal[0].type, "trade");
	assert_string_equal(m.bal[0].ref_id, "AGBB7L-HT5LX-J3BB4A");
	assert_int_equal(decode(s, &m, &info), 0);
	assert_true(m.snapshot);
	assert_string_equal(m.bal[0].asset, "BTC");
	assert_int_equal(at(m.bal[0].balance, 8), 50000000);
	assert_int_equal(decode("{\"channel\":\"balances\",\"type\":\"update\",\"data\":[{"
				"\"asset\":\"USD\"}]}",
				&m, &info),
			 ERR_SCHEMA);
}

static void test_replies(void **state)
{
	struct kr_priv_msg m;
	struct err_info info = {0};
	(void)state;
	assert_int_equal(
	    decode(
		"{\"method\":\"subscribe\",\"result\":{\"channel\":\"executions\",\"maxratecount\":"
		"125,\"snap_orders\":true,\"snap_trades\":true},\"success\":true,\"time_in\":"
		"\"2023-10-16T13:18:35.303171Z\",\"time_out\":\"2023-10-16T13:18:35.318297Z\"}",
		&m, &info),
	    0);
	assert_int_equal(m.kind, KR_PRIV_REPLY);
	assert_string_equal(m.reply.method, "subscribe");
	assert_true(m.reply.success);
	assert_string_equal(m.reply.channel, "executions");
	assert_true(m.reply.time_out_ns > m.reply.time_in_ns);

	assert_int_equal(
	    decode("{\"method\":\"add_order\",\"req_id\":123456789,\"result\":{\"order_id\":"
		   "\"AA5JGQ-SBMRC-SCJ7J7\",\"order_userref\":100054},\"success\":true,\"time_in\":"
		   "\"2023-09-21T14:15:07.197274Z\",\"time_out\":\"2023-09-21T14:15:07.205301Z\"}",
		   &m, &info),
	    0);
	assert_true(m.reply.has_req_id);
	assert_int_equal(m.reply.req_id, 123456789);
	assert_int_equal(m.reply.n_results, 1);
	assert_string_equal(m.reply.results[0].order_id, "AA5JGQ-SBMRC-SCJ7J7");
	assert_int_equal(m.reply.results[0].order_userref, 100054);

	assert_int_equal(
	    decode("{\"method\":\"batch_add\",\"req_id\":1234567890,\"result\":[{\"order_id\":"
		   "\"ORDERX-IDXXX-XXXXX1\",\"order_userref\":1},{\"order_id\":\"ORDERX-IDXXX-"
		   "XXXXX2\",\"order_userref\":2}],\"success\":true,\"time_in\":\"2022-06-13T08:09:"
		   "10.123456Z\",\"time_out\":\"2022-06-13T08:09:10.789012Z\"}",
		   &m, &info),
	    0);
	assert_int_equal(m.reply.n_results, 2);
	assert_string_equal(m.reply.results[1].order_id, "ORDERX-IDXXX-XXXXX2");

	assert_int_equal(decode("{\"method\":\"cancel_all\",\"req_id\":1234567890,\"result\":{"
				"\"count\":1},\"success\":true,\"time_in\":\"2023-09-26T13:09:48."
				"463201Z\",\"time_out\":\"2023-09-26T13:09:48.471419Z\"}",
				&m, &info),
			 0);
	assert_true(m.reply.has_count);
	assert_int_equal(m.reply.count, 1);

	assert_int_equal(decode("{\"method\":\"cancel_all_orders_after\",\"req_id\":1234567890,"
				"\"result\":{\"currentTime\":\"2023-09-21T15:49:29Z\","
				"\"triggerTime\":\"2023-09-21T15:51:09Z\"},\"success\":true,"
				"\"time_in\":\"2023-09-21T15:49:28.627900Z\",\"time_out\":\"2023-"
				"09-21T15:49:28.649057Z\"}",
				&m, &info),
			 0);
	assert_int_equal(m.reply.trigger_ns - m.reply.current_ns, 100000000000LL);

	assert_int_equal(
	    decode("{\"method\":\"add_order\",\"req_id\":7,\"error\":\"EOrder:"
		   "Insufficient funds\",\"success\":false,\"time_in\":\"2023-09-21T14:"
		   "15:07.197274Z\",\"time_out\":\"2023-09-21T14:15:07.205301Z\"}",
		   &m, &info),
	    0);
	assert_false(m.reply.success);
	assert_string_equal(m.reply.error, "EOrder:Insufficient funds");

	assert_int_equal(decode("{\"method\":\"pong\",\"req_id\":101,\"time_in\":\"2023-09-24T14:"
				"10:23.799685Z\",\"time_out\":\"2023-09-24T14:10:23.799703Z\"}",
				&m, &info),
			 0);
	assert_true(m.reply.success);
	assert_int_equal(decode("{\"channel\":\"status\",\"data\":[{\"api_version\":\"v2\","
				"\"connection_id\":13834774380200032777,\"system\":\"cancel_only\","
				"\"version\":\"2.0.0\"}],\"type\":\"update\"}",
				&m, &info),
			 0);
	assert_int_equal(m.kind, KR_PRIV_STATUS);
	assert_int_equal(m.system, KR_SYSTEM_CANCEL_ONLY);
	assert_int_equal(decode("{\"channel\":\"heartbeat\"}", &m, &info), 0);
	assert_int_equal(m.kind, KR_PRIV_HEARTBEAT);
	assert_int_equal(
	    decode("{\"method\":\"add_order\",\"req_id\":-1,\"success\":true}", &m, &info),
	    ERR_SCHEMA);
}

static void test_encoders(void **state)
{
	char b[512];
	(void)state;
	assert_true(kr_priv_encode_sub_executions(b, sizeof(b), "TOK", true, false, 5) > 0);
	assert_string_equal(b, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"executions\","
			       "\"token\":\"TOK\",\"snap_orders\":true,\"snap_trades\":false},"
			       "\"req_id\":5}");
	assert_true(kr_priv_encode_sub_balances(b, sizeof(b), "TOK", 6) > 0);
	assert_non_null(strstr(b, "\"channel\":\"balances\""));
	struct kr_priv_order o = {.symbol = "BTC/USD",
				  .buy = true,
				  .ioc = true,
				  .qty = 150000,
				  .qty_scale = 8,
				  .limit_price = 600001,
				  .price_scale = 1,
				  .cl_ord_id = "ar1x-01",
				  .fee_preference = "quote"};
	assert_true(kr_priv_encode_add_order(b, sizeof(b), &o, "TOK", 9) > 0);
	assert_string_equal(b, "{\"method\":\"add_order\",\"params\":{\"order_type\":\"limit\","
			       "\"side\":\"buy\",\"order_qty\":0.00150000,"
			       "\"limit_price\":60000.1,\"time_in_force\":\"ioc\",\"cl_ord_id\":"
			       "\"ar1x-01\",\"fee_preference\":\"quote\",\"symbol\":\"BTC/USD\","
			       "\"token\":\"TOK\"},\"req_id\":9}");
	/* The length returned; a buffer one byte short is ERR_RANGE, never a
	 * cut request; the deadline goes between the symbol and the token. */
	int n = kr_priv_encode_add_order(b, sizeof(b), &o, "TOK", 9);
	assert_int_equal(n, (int)strlen(b));
	char exact[512];
	assert_int_equal(kr_priv_encode_add_order(exact, (size_t)n + 1, &o, "TOK", 9), n);
	assert_string_equal(exact, b);
	assert_int_equal(kr_priv_encode_add_order(exact, (size_t)n, &o, "TOK", 9), ERR_RANGE);
	o.deadline_ns = 1796126400123000000ll;
	assert_true(kr_priv_encode_add_order(b, sizeof(b), &o, "TOK", 18446744073709551615ull) > 0);
	assert_non_null(
	    strstr(b, "\"fee_preference\":\"quote\",\"symbol\":\"BTC/USD\",\"deadline\":\"2026-"));
	assert_non_null(strstr(b, ".123Z\",\"token\":\"TOK\"},\"req_id\":18446744073709551615}"));
	o.deadline_ns = 0;
	/* batch_add: one symbol, the orders without symbol and token. */
	struct kr_priv_order bo[2] = {o, o};
	bo[1].buy = false;
	bo[1].ioc = false;
	bo[1].cl_ord_id = "ar1x-02";
	assert_true(kr_priv_encode_batch_add(b, sizeof(b), bo, 2, "TOK", 11) > 0);
	assert_string_equal(b,
			    "{\"method\":\"batch_add\",\"params\":{\"orders\":[{\"order_type\":"
			    "\"limit\",\"side\":\"buy\",\"order_qty\":0.00150000,\"limit_price\":"
			    "60000.1,\"time_in_force\":\"ioc\",\"cl_ord_id\":\"ar1x-01\","
			    "\"fee_preference\":\"quote\"},{\"order_type\":\"limit\",\"side\":"
			    "\"sell\",\"order_qty\":0.00150000,\"limit_price\":60000.1,"
			    "\"time_in_force\":\"gtc\",\"cl_ord_id\":\"ar1x-02\","
			    "\"fee_preference\":\"quote\"}],\"symbol\":\"BTC/USD\",\"token\":"
			    "\"TOK\"},\"req_id\":11}");
	assert_int_equal(kr_priv_encode_batch_add(b, sizeof(b), bo, 1, "TOK", 11), ERR_INVALID);
	bo[1].symbol = "ETH/USD";
	assert_int_equal(kr_priv_encode_batch_add(b, sizeof(b), bo, 2, "TOK", 11), ERR_INVALID);
	bo[1].symbol = "BTC/USD";
	bo[1].qty = 0;
	assert_int_equal(kr_priv_encode_batch_add(b, sizeof(b), bo, 2, "TOK", 11), ERR_INVALID);
	o.market = true;
	o.buy = false;
	o.ioc = false;
	assert_true(kr_priv_encode_add_order(b, sizeof(b), &o, "TOK", 10) > 0);
	assert_null(strstr(b, "limit_price"));
	assert_non_null(strstr(b, "\"order_type\":\"market\",\"side\":\"sell\""));
	o.cl_ord_id = "bad\"id";
	assert_int_equal(kr_priv_encode_add_order(b, sizeof(b), &o, "TOK", 10), ERR_INVALID);
	o.cl_ord_id = NULL;
	assert_int_equal(kr_priv_encode_add_order(b, 20, &o, "TOK", 10), ERR_RANGE);
	assert_true(kr_priv_encode_cancel_order(b, sizeof(b), NULL, "ar1x-01", "TOK", 3) > 0);
	assert_string_equal(b,
			    "{\"method\":\"cancel_order\",\"params\":{\"cl_ord_id\":[\"ar1x-01\"],"
			    "\"token\":\"TOK\"},\"req_id\":3}");
	assert_true(kr_priv_encode_cancel_all(b, sizeof(b), "TOK", 4) > 0);
	assert_true(kr_priv_encode_cancel_after(b, sizeof(b), 60, "TOK", 5) > 0);
	assert_string_equal(b, "{\"method\":\"cancel_all_orders_after\",\"params\":{\"timeout\":60,"
			       "\"token\":\"TOK\"},\"req_id\":5}");
	assert_int_equal(kr_priv_encode_cancel_after(b, sizeof(b), 86400, "TOK", 5), ERR_INVALID);
	/* Round trip: what we send decodes. */
	struct kr_priv_msg m;
	struct err_info info = {0};
	assert_int_equal(decode(b, &m, &info), 0);
	assert_int_equal(m.kind, KR_PRIV_REPLY);
	assert_string_equal(m.reply.method, "cancel_all_orders_after");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lifecycle), cmocka_unit_test(test_bad_executions),
	    cmocka_unit_test(test_balances),  cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_encoders),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

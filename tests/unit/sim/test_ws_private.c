/* The simulator's private WS v2 side (/v2-auth) through a raw-socket client
 * on loopback, decoded with the project's private codec: token checks,
 * executions and balances snapshots and updates, add_order / batch_add /
 * cancel_order / cancel_all / cancel_all_orders_after replies, and the
 * scripted faults (reject, partial fill, delayed acknowledgement). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/clock.h"
#include "kraken/private.h"
#include "sim/sim_int.h"
#include "unit/sim/sim_test.h"

static struct st_sim g_sim;
static struct kr_priv_decoder *g_dec;
static struct kr_priv_msg g_m;
static char g_tok[64];

static int setup(void **state)
{
	(void)state;
	g_dec = kr_priv_decoder_new(0, 0);
	if (!g_dec || st_start(&g_sim, TEST_DATA_DIR "/sim/basic.json") != 0)
		return -1;
	sim__lock(g_sim.s);
	int rc = sim__account_token(g_sim.s, 0, g_tok, sizeof(g_tok));
	sim__unlock(g_sim.s);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	st_stop(&g_sim);
	kr_priv_decoder_free(g_dec);
	return 0;
}

/* The next message that is not a heartbeat or status, decoded into g_m. */
static int next(struct st_ws *w, long timeout_ms)
{
	for (;;) {
		long n = st_ws_recv(w, timeout_ms);
		if (n < 0)
			return (int)n;
		struct err_info info = {0};
		int rc = kr_priv_decode(g_dec, w->msg, (size_t)n, &g_m, &info);
		if (rc != 0) {
			fprintf(stderr, "decode: %s: %.400s\n", info.msg, w->msg);
			return rc;
		}
		if (g_m.kind != KR_PRIV_HEARTBEAT && g_m.kind != KR_PRIV_STATUS)
			return 0;
	}
}

/* Waits for an executions update with exec_type t for order_id (any when
 * NULL); other messages are skipped. */
static const struct kr_priv_exec *wait_exec(struct st_ws *w, enum kr_exec_type t,
					    const char *order_id, long timeout_ms)
{
	long end = st_now_ms() + timeout_ms;
	while (st_now_ms() < end) {
		if (next(w, end - st_now_ms()) != 0)
			return NULL;
		if (g_m.kind != KR_PRIV_EXECUTIONS || g_m.snapshot)
			continue;
		for (size_t k = 0; k < g_m.n; k++)
			if (g_m.exec[k].exec_type == t &&
			    (!order_id || strcmp(g_m.exec[k].order_id, order_id) == 0))
				return &g_m.exec[k];
	}
	return NULL;
}

static const struct kr_priv_reply *wait_reply(struct st_ws *w, const char *method)
{
	for (int k = 0; k < 200; k++) {
		if (next(w, 5000) != 0)
			return NULL;
		if (g_m.kind == KR_PRIV_REPLY && strcmp(g_m.reply.method, method) == 0)
			return &g_m.reply;
	}
	return NULL;
}

static void sendf(struct st_ws *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sendf(struct st_ws *w, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_int_equal(st_ws_send(w, buf), 0);
}

static int64_t at(struct kr_dec d, int scale)
{
	int64_t v = -1;
	assert_int_equal(kr_dec_to_scale(d, scale, &v), 0);
	return v;
}

static void open_auth(struct st_ws *w, bool balances)
{
	char buf[512];
	assert_int_equal(st_ws_open(w, sim_ws_port(g_sim.s), "/v2-auth"), 0);
	assert_true(kr_priv_encode_sub_executions(buf, sizeof(buf), g_tok, true, false, 1) > 0);
	assert_int_equal(st_ws_send(w, buf), 0);
	const struct kr_priv_reply *r = wait_reply(w, "subscribe");
	assert_non_null(r);
	assert_true(r->success);
	assert_string_equal(r->channel, "executions");
	assert_int_equal(next(w, 5000), 0);
	assert_int_equal(g_m.kind, KR_PRIV_EXECUTIONS);
	assert_true(g_m.snapshot);
	if (!balances)
		return;
	assert_true(kr_priv_encode_sub_balances(buf, sizeof(buf), g_tok, 2) > 0);
	assert_int_equal(st_ws_send(w, buf), 0);
	r = wait_reply(w, "subscribe");
	assert_non_null(r);
	assert_true(r->success);
	assert_string_equal(r->channel, "balances");
	assert_int_equal(next(w, 5000), 0);
	assert_int_equal(g_m.kind, KR_PRIV_BALANCES);
	assert_true(g_m.snapshot);
}

static void test_token(void **state)
{
	struct st_ws w;
	(void)state;
	assert_int_equal(st_ws_open(&w, sim_ws_port(g_sim.s), "/v2-auth"), 0);
	sendf(&w, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"executions\",\"token\":"
		  "\"nope\"},\"req_id\":4}");
	const struct kr_priv_reply *r = wait_reply(&w, "subscribe");
	assert_non_null(r);
	assert_false(r->success);
	assert_string_equal(r->error, "EAPI:Invalid token");
	assert_int_equal(r->req_id, 4);
	sendf(&w, "{\"method\":\"add_order\",\"params\":{\"order_type\":\"limit\"},\"req_id\":5}");
	r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_false(r->success);
	assert_string_equal(r->error, "EGeneral:Invalid arguments:token");
	sendf(&w, "{\"method\":\"cancel_all\",\"params\":{\"token\":\"%s\"},\"req_id\":6}", g_tok);
	r = wait_reply(&w, "cancel_all");
	assert_non_null(r);
	assert_true(r->success);
	assert_true(r->has_count);
	st_ws_close(&w);
}

static void test_ioc_fill(void **state)
{
	struct st_ws w;
	(void)state;
	open_auth(&w, true);
	int64_t usd0 = -1;
	for (size_t k = 0; k < g_m.n; k++)
		if (strcmp(g_m.bal[k].asset, "USD") == 0)
			usd0 = at(g_m.bal[k].balance, 2);
	assert_true(usd0 > 0);
	sendf(&w,
	      "{\"method\":\"add_order\",\"params\":{\"order_type\":\"limit\",\"side\":\"buy\","
	      "\"order_qty\":0.001,\"symbol\":\"BTC/USD\",\"limit_price\":70000.0,"
	      "\"time_in_force\":\"ioc\",\"cl_ord_id\":\"t-ioc-1\",\"fee_preference\":\"quote\","
	      "\"token\":\"%s\"},\"req_id\":10}",
	      g_tok);
	const struct kr_priv_reply *r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_true(r->success);
	assert_int_equal(r->req_id, 10);
	assert_true(r->time_in_ns > 0 && r->time_out_ns >= r->time_in_ns);
	assert_string_equal(r->results[0].cl_ord_id, "t-ioc-1");
	char oid[KR_PRIV_ID_MAX];
	snprintf(oid, sizeof(oid), "%s", r->results[0].order_id);
	assert_true(oid[0] == 'O');
	const struct kr_priv_exec *e = wait_exec(&w, KR_EXEC_PENDING_NEW, oid, 5000);
	assert_non_null(e);
	assert_string_equal(e->cl_ord_id, "t-ioc-1");
	assert_string_equal(e->symbol, "BTC/USD");
	assert_string_equal(e->time_in_force, "IOC");
	assert_int_equal(at(e->order_qty, 8), 100000);
	assert_non_null(wait_exec(&w, KR_EXEC_NEW, oid, 5000));
	e = wait_exec(&w, KR_EXEC_TRADE, oid, 5000);
	assert_non_null(e);
	assert_true(e->has_fee);
	assert_string_equal(e->fee_asset, "USD");
	assert_true(at(e->fee, 10) > 0);
	e = wait_exec(&w, KR_EXEC_FILLED, oid, 5000);
	assert_non_null(e);
	assert_int_equal(e->order_status, KR_ORD_FILLED);
	assert_int_equal(at(e->cum_qty, 8), 100000);
	int64_t avg = at(e->avg_price, 1);
	assert_true(avg > 500000 && avg < 700000);
	/* Balances: a USD update lower than before. */
	bool usd = false;
	for (int k = 0; k < 20 && !usd; k++) {
		assert_int_equal(next(&w, 5000), 0);
		if (g_m.kind == KR_PRIV_BALANCES && !g_m.snapshot &&
		    strcmp(g_m.bal[0].asset, "USD") == 0) {
			usd = true;
			assert_true(g_m.bal[0].has_amount);
			assert_true(at(g_m.bal[0].amount, 10) < 0);
			assert_true(at(g_m.bal[0].balance, 2) < usd0);
			assert_true(g_m.has_sequence);
		}
	}
	assert_true(usd);
	st_ws_close(&w);
}

static void test_rejects(void **state)
{
	struct st_ws w;
	(void)state;
	open_auth(&w, false);
	sendf(&w,
	      "{\"method\":\"add_order\",\"params\":{\"order_type\":\"market\",\"side\":"
	      "\"sell\",\"order_qty\":100,\"symbol\":\"BTC/USD\",\"token\":\"%s\"},\"req_id\":11}",
	      g_tok);
	const struct kr_priv_reply *r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_false(r->success);
	assert_string_equal(r->error, "EOrder:Insufficient funds");
	sendf(&w,
	      "{\"method\":\"add_order\",\"params\":{\"order_type\":\"market\",\"side\":"
	      "\"sell\",\"order_qty\":0.001,\"symbol\":\"XBT/USD\",\"token\":\"%s\"}}",
	      g_tok);
	r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_string_equal(r->error, "EQuery:Unknown asset pair");
	sendf(&w,
	      "{\"method\":\"add_order\",\"params\":{\"order_type\":\"market\",\"side\":"
	      "\"sell\",\"order_qty\":0.001,\"symbol\":\"BTC/USD\",\"colour\":1,\"token\":\"%s\"}}",
	      g_tok);
	r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_string_equal(r->error, "EGeneral:Invalid arguments:Unsupported field: 'colour'");
	sendf(&w,
	      "{\"method\":\"add_order\",\"params\":{\"order_type\":\"limit\",\"side\":"
	      "\"buy\",\"order_qty\":0.001,\"symbol\":\"BTC/USD\",\"limit_price\":30000.05,"
	      "\"token\":\"%s\"}}",
	      g_tok);
	r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_false(r->success);
	sendf(&w,
	      "{\"method\":\"add_order\",\"params\":{\"order_type\":\"limit\",\"side\":"
	      "\"buy\",\"order_qty\":0.001,\"symbol\":\"BTC/USD\",\"limit_price\":30000.0,"
	      "\"cl_ord_id\":\"much-too-long-for-kraken-ids\",\"token\":\"%s\"}}",
	      g_tok);
	r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_string_equal(r->error, "EGeneral:Invalid arguments:cl_ord_id");
	st_ws_close(&w);
}

static void place_resting(struct st_ws *w, const char *clid, char *oid, size_t cap)
{
	sendf(w,
	      "{\"method\":\"add_order\",\"params\":{\"order_type\":\"limit\",\"side\":\"buy\","
	      "\"order_qty\":0.001,\"symbol\":\"BTC/USD\",\"limit_price\":30000.0,"
	      "\"cl_ord_id\":\"%s\",\"token\":\"%s\"},\"req_id\":20}",
	      clid, g_tok);
	const struct kr_priv_reply *r = wait_reply(w, "add_order");
	assert_non_null(r);
	assert_true(r->success);
	snprintf(oid, cap, "%s", r->results[0].order_id);
	assert_non_null(wait_exec(w, KR_EXEC_NEW, oid, 5000));
}

static void test_cancels(void **state)
{
	struct st_ws w;
	char a[KR_PRIV_ID_MAX], b[KR_PRIV_ID_MAX], c[KR_PRIV_ID_MAX];
	(void)state;
	open_auth(&w, false);
	place_resting(&w, "t-gtc-a", a, sizeof(a));
	sendf(&w,
	      "{\"method\":\"cancel_order\",\"params\":{\"cl_ord_id\":[\"t-gtc-a\"],\"token\":"
	      "\"%s\"},\"req_id\":21}",
	      g_tok);
	const struct kr_priv_reply *r = wait_reply(&w, "cancel_order");
	assert_non_null(r);
	assert_true(r->success);
	assert_string_equal(r->results[0].order_id, a);
	assert_string_equal(r->results[0].cl_ord_id, "t-gtc-a");
	const struct kr_priv_exec *e = wait_exec(&w, KR_EXEC_CANCELED, a, 5000);
	assert_non_null(e);
	assert_string_equal(e->reason, "User requested");
	sendf(&w,
	      "{\"method\":\"cancel_order\",\"params\":{\"order_id\":[\"%s\"],\"token\":"
	      "\"%s\"},\"req_id\":22}",
	      a, g_tok);
	r = wait_reply(&w, "cancel_order");
	assert_non_null(r);
	assert_string_equal(r->error, "EOrder:Unknown order");
	/* A fresh connection's snapshot lists the open orders. */
	place_resting(&w, "t-gtc-b", b, sizeof(b));
	place_resting(&w, "t-gtc-c", c, sizeof(c));
	struct st_ws w2;
	open_auth(&w2, false);
	st_ws_close(&w2);
	char buf[512];
	assert_int_equal(st_ws_open(&w2, sim_ws_port(g_sim.s), "/v2-auth"), 0);
	assert_true(kr_priv_encode_sub_executions(buf, sizeof(buf), g_tok, true, false, 1) > 0);
	assert_int_equal(st_ws_send(&w2, buf), 0);
	assert_non_null(wait_reply(&w2, "subscribe"));
	assert_int_equal(next(&w2, 5000), 0);
	assert_true(g_m.snapshot);
	assert_int_equal(g_m.n, 2);
	assert_string_equal(g_m.exec[0].cl_ord_id, "t-gtc-b");
	assert_int_equal(g_m.exec[1].order_status, KR_ORD_NEW);
	st_ws_close(&w2);
	sendf(&w, "{\"method\":\"cancel_all\",\"params\":{\"token\":\"%s\"},\"req_id\":23}", g_tok);
	r = wait_reply(&w, "cancel_all");
	assert_non_null(r);
	assert_int_equal(r->count, 2);
	assert_non_null(wait_exec(&w, KR_EXEC_CANCELED, b, 5000));
	st_ws_close(&w);
}

static void test_dead_man(void **state)
{
	struct st_ws w;
	char a[KR_PRIV_ID_MAX];
	(void)state;
	open_auth(&w, false);
	sendf(&w,
	      "{\"method\":\"cancel_all_orders_after\",\"params\":{\"timeout\":86400,\"token\":"
	      "\"%s\"},\"req_id\":30}",
	      g_tok);
	const struct kr_priv_reply *r = wait_reply(&w, "cancel_all_orders_after");
	assert_non_null(r);
	assert_string_equal(r->error, "EGeneral:Invalid arguments:timeout");
	place_resting(&w, "t-dms", a, sizeof(a));
	sendf(&w,
	      "{\"method\":\"cancel_all_orders_after\",\"params\":{\"timeout\":1,\"token\":"
	      "\"%s\"},\"req_id\":31}",
	      g_tok);
	r = wait_reply(&w, "cancel_all_orders_after");
	assert_non_null(r);
	assert_true(r->success);
	assert_int_equal(r->trigger_ns - r->current_ns, 1000000000LL);
	/* Nobody refreshes it: the engine cancels by itself. */
	const struct kr_priv_exec *e = wait_exec(&w, KR_EXEC_CANCELED, a, 10000);
	assert_non_null(e);
	sendf(&w,
	      "{\"method\":\"cancel_all_orders_after\",\"params\":{\"timeout\":0,\"token\":"
	      "\"%s\"},\"req_id\":32}",
	      g_tok);
	r = wait_reply(&w, "cancel_all_orders_after");
	assert_non_null(r);
	assert_true(r->success);
	assert_int_equal(r->trigger_ns, 0);
	st_ws_close(&w);
}

static void test_batch(void **state)
{
	struct st_ws w;
	(void)state;
	open_auth(&w, false);
	sendf(&w,
	      "{\"method\":\"batch_add\",\"params\":{\"symbol\":\"BTC/USD\",\"orders\":["
	      "{\"order_type\":\"limit\",\"side\":\"buy\",\"order_qty\":0.001,\"limit_price\":"
	      "30000.0,\"order_userref\":1},{\"order_type\":\"limit\",\"side\":\"sell\","
	      "\"order_qty\":50,\"limit_price\":90000.0,\"order_userref\":2}],\"token\":\"%s\"},"
	      "\"req_id\":40}",
	      g_tok);
	const struct kr_priv_reply *r = wait_reply(&w, "batch_add");
	assert_non_null(r);
	assert_true(r->success);
	assert_int_equal(r->n_results, 2);
	assert_true(r->results[0].order_id[0] == 'O');
	assert_int_equal(r->results[0].order_userref, 1);
	assert_string_equal(r->results[1].order_id, "");
	sendf(&w,
	      "{\"method\":\"batch_add\",\"params\":{\"symbol\":\"BTC/USD\",\"orders\":["
	      "{\"order_type\":\"limit\",\"side\":\"buy\",\"order_qty\":0.001,\"limit_price\":"
	      "30000.0}],\"token\":\"%s\"}}",
	      g_tok);
	r = wait_reply(&w, "batch_add");
	assert_non_null(r);
	assert_string_equal(r->error, "EGeneral:Invalid arguments:orders");
	sendf(&w,
	      "{\"method\":\"cancel_order\",\"params\":{\"order_userref\":[1],\"token\":\"%s\"}}",
	      g_tok);
	r = wait_reply(&w, "cancel_order");
	assert_non_null(r);
	assert_true(r->success);
	st_ws_close(&w);
}

static void test_faults(void **state)
{
	struct st_ws w;
	char body[4096];
	uint16_t port = sim_ws_port(g_sim.s);
	(void)state;
	open_auth(&w, false);
	assert_int_equal(st_http(port, "POST",
				 "/control/reject_next?error=EOrder:Rate%20limit%20exceeded", body,
				 sizeof(body)),
			 200);
#define IOC                                                                                        \
	"{\"method\":\"add_order\",\"params\":{\"order_type\":\"limit\",\"side\":\"buy\","         \
	"\"order_qty\":0.002,\"symbol\":\"BTC/USD\",\"limit_price\":70000.0,"                      \
	"\"time_in_force\":\"ioc\",\"cl_ord_id\":\"%s\",\"token\":\"%s\"},\"req_id\":50}"
	sendf(&w, IOC, "t-f1", g_tok);
	const struct kr_priv_reply *r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_string_equal(r->error, "EOrder:Rate limit exceeded");
	/* The fault was for one order only. */
	sendf(&w, IOC, "t-f2", g_tok);
	r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_true(r->success);
	assert_int_equal(
	    st_http(port, "POST", "/control/partial_next?ratio=0.5", body, sizeof(body)), 200);
	assert_int_equal(st_http(port, "POST", "/control/partial_next?ratio=2", body, sizeof(body)),
			 400);
	assert_non_null(strstr(body, "ratio"));
	sendf(&w, IOC, "t-f3", g_tok);
	r = wait_reply(&w, "add_order");
	assert_non_null(r);
	char oid[KR_PRIV_ID_MAX];
	snprintf(oid, sizeof(oid), "%s", r->results[0].order_id);
	const struct kr_priv_exec *e = wait_exec(&w, KR_EXEC_PENDING_NEW, oid, 5000);
	assert_non_null(e);
	assert_int_equal(at(e->order_qty, 8), 200000);
	e = wait_exec(&w, KR_EXEC_CANCELED, oid, 5000);
	assert_non_null(e);
	assert_int_equal(at(e->cum_qty, 8), 100000);
	/* A delayed acknowledgement: nothing for a while, then all of it. */
	assert_int_equal(st_http(port, "POST", "/control/delay_ack?ms=400", body, sizeof(body)),
			 200);
	assert_int_equal(st_http(port, "POST", "/control/delay_ack?ms=0", body, sizeof(body)), 400);
	long t0 = st_now_ms();
	sendf(&w, IOC, "t-f4", g_tok);
	r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_true(r->success);
	assert_true(st_now_ms() - t0 >= 300);
	assert_string_equal(r->results[0].cl_ord_id, "t-f4");
	assert_int_equal(st_http(port, "GET", "/control/delay_ack?ms=5", body, sizeof(body)), 405);
	st_ws_close(&w);
}

static void test_deadline(void **state)
{
	struct st_ws w;
	char body[1024], t[40];
	(void)state;
	open_auth(&w, false);
	assert_true(clock_fmt_rfc3339(clock_wall_ns() - 1000000000LL, 3, t, sizeof(t)) > 0);
	sendf(&w,
	      "{\"method\":\"add_order\",\"params\":{\"order_type\":\"market\",\"side\":"
	      "\"buy\",\"order_qty\":0.001,\"symbol\":\"BTC/USD\",\"deadline\":\"%s\","
	      "\"token\":\"%s\"}}",
	      t, g_tok);
	const struct kr_priv_reply *r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_string_equal(r->error, "EService:Deadline elapsed");
	/* Held past its deadline by a slow engine: refused, never placed. */
	assert_int_equal(
	    st_http(sim_ws_port(g_sim.s), "POST", "/control/delay_ack?ms=500", body, sizeof(body)),
	    200);
	assert_true(clock_fmt_rfc3339(clock_wall_ns() + 200000000LL, 3, t, sizeof(t)) > 0);
	sendf(&w,
	      "{\"method\":\"add_order\",\"params\":{\"order_type\":\"market\",\"side\":"
	      "\"buy\",\"order_qty\":0.001,\"symbol\":\"BTC/USD\",\"deadline\":\"%s\","
	      "\"token\":\"%s\"}}",
	      t, g_tok);
	r = wait_reply(&w, "add_order");
	assert_non_null(r);
	assert_string_equal(r->error, "EService:Deadline elapsed");
	st_ws_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token),    cmocka_unit_test(test_ioc_fill),
	    cmocka_unit_test(test_rejects),  cmocka_unit_test(test_cancels),
	    cmocka_unit_test(test_dead_man), cmocka_unit_test(test_batch),
	    cmocka_unit_test(test_faults),   cmocka_unit_test(test_deadline),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

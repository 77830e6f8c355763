/* The live venue's translations (exec/live_map.c): Kraken's execution events
 * and REST orders to venue reports, pair lookups by Kraken's names, and the
 * venue's refusals that need no exchange (bad fields, duplicate ids, an
 * unreachable socket without REST fallback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "exec/live_int.h"

static struct kr_priv_decoder *dec;

static int setup(void **state)
{
	(void)state;
	dec = kr_priv_decoder_new(0, 0);
	return dec ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	kr_priv_decoder_free(dec);
	return 0;
}

static const struct kr_priv_exec *ev(const char *frame)
{
	static struct kr_priv_msg m;
	struct err_info info = {0};
	assert_int_equal(kr_priv_decode(dec, frame, strlen(frame), &m, &info), 0);
	assert_int_equal(m.kind, KR_PRIV_EXECUTIONS);
	assert_int_equal(m.n, 1);
	return &m.exec[0];
}

#define EV(body) ev("{\"channel\":\"executions\",\"type\":\"update\",\"data\":[{" body "}]}")

static struct venue_report fresh(int64_t qty)
{
	struct venue_report r = {.status = VENUE_ST_PENDING,
				 .price_scale = 1,
				 .qty_scale = 8,
				 .fee_scale = live__fee_scale(1, 8),
				 .qty = qty};
	snprintf(r.cl_ord_id, sizeof(r.cl_ord_id), "c1");
	return r;
}

static void test_lifecycle(void **state)
{
	struct venue_report r = fresh(500000);
	(void)state;
	assert_int_equal(r.fee_scale, 9);
	assert_true(live__apply_exec(
	    &r,
	    EV("\"order_id\":\"OK4GJX\",\"exec_type\":\"pending_new\",\"order_status\":"
	       "\"pending_new\",\"order_qty\":0.005"),
	    1));
	assert_int_equal(r.status, VENUE_ST_PENDING);
	assert_string_equal(r.order_id, "OK4GJX");
	assert_true(live__apply_exec(
	    &r, EV("\"order_id\":\"OK4GJX\",\"exec_type\":\"new\",\"order_status\":\"new\""), 2));
	assert_int_equal(r.status, VENUE_ST_OPEN);
	assert_int_equal(r.ts_ns, 2);
	/* The same event again changes nothing. */
	assert_false(live__apply_exec(
	    &r, EV("\"order_id\":\"OK4GJX\",\"exec_type\":\"new\",\"order_status\":\"new\""), 3));
	assert_true(live__apply_exec(
	    &r,
	    EV("\"order_id\":\"OK4GJX\",\"exec_type\":\"trade\",\"order_status\":"
	       "\"partially_filled\",\"last_qty\":0.002,\"last_price\":26599.9,\"cum_qty\":0.002,"
	       "\"cum_cost\":53.1998,\"avg_price\":26599.9,\"fees\":[{\"asset\":\"USD\",\"qty\":0."
	       "1383}]"),
	    4));
	assert_int_equal(r.status, VENUE_ST_PARTIAL);
	assert_int_equal(r.filled_qty, 200000);
	assert_int_equal(r.cost, 53199800000);
	assert_int_equal(r.avg_price, 265999);
	assert_int_equal(r.fee, 138300000);
	assert_string_equal(r.fee_asset, "USD");
	/* The second fill completes it even though the status still says partial
	 * (as in Kraken's own example); fees add up. */
	assert_true(live__apply_exec(
	    &r,
	    EV("\"order_id\":\"OK4GJX\",\"exec_type\":\"trade\",\"order_status\":"
	       "\"partially_filled\",\"cum_qty\":0.005,\"cum_cost\":132.9995,\"avg_price\":26599.9,"
	       "\"fees\":[{\"asset\":\"USD\",\"qty\":0.2075}]"),
	    5));
	assert_int_equal(r.status, VENUE_ST_FILLED);
	assert_int_equal(r.filled_qty, 500000);
	assert_int_equal(r.fee, 345800000);
	/* Final stays final; cumulative amounts never shrink. */
	assert_false(live__apply_exec(
	    &r,
	    EV("\"order_id\":\"OK4GJX\",\"exec_type\":\"canceled\",\"order_status\":\"canceled\","
	       "\"cum_qty\":0.001"),
	    6));
	assert_int_equal(r.status, VENUE_ST_FILLED);
	assert_int_equal(r.filled_qty, 500000);
}

static void test_ends(void **state)
{
	(void)state;
	struct venue_report r = fresh(200000);
	live__apply_exec(&r,
			 EV("\"order_id\":\"O2\",\"exec_type\":\"canceled\",\"order_status\":"
			    "\"canceled\",\"cum_qty\":0.001,\"reason\":\"Immediate or cancel\""),
			 1);
	assert_int_equal(r.status, VENUE_ST_CANCELED);
	assert_int_equal(r.filled_qty, 100000);
	assert_string_equal(r.reason, "Immediate or cancel");
	r = fresh(200000);
	live__apply_exec(
	    &r, EV("\"order_id\":\"O3\",\"exec_type\":\"expired\",\"order_status\":\"expired\""),
	    1);
	assert_int_equal(r.status, VENUE_ST_EXPIRED);
	r = fresh(200000);
	live__apply_exec(
	    &r, EV("\"order_id\":\"O4\",\"exec_type\":\"filled\",\"order_status\":\"filled\""), 1);
	assert_int_equal(r.status, VENUE_ST_FILLED);
	/* A snapshot entry of a partly filled open order. */
	r = fresh(200000);
	live__apply_exec(&r,
			 EV("\"order_id\":\"O5\",\"exec_type\":\"new\",\"order_status\":"
			    "\"partially_filled\",\"cum_qty\":0.0005"),
			 1);
	assert_int_equal(r.status, VENUE_ST_PARTIAL);
	assert_int_equal(r.filled_qty, 50000);
}

static void test_from_rest(void **state)
{
	(void)state;
	struct kr_rest_order ro = {.status = KR_ORDER_CLOSED,
				   .vol = {200000, 8},
				   .vol_exec = {200000, 8},
				   .cost = {12000, 1},
				   .fee = {312, 2},
				   .avg_price = {600000, 1}};
	snprintf(ro.txid, sizeof(ro.txid), "OTX");
	struct venue_report r = fresh(200000);
	live__from_rest(&r, &ro, 9);
	assert_int_equal(r.status, VENUE_ST_FILLED);
	assert_string_equal(r.order_id, "OTX");
	assert_int_equal(r.filled_qty, 200000);
	assert_int_equal(r.avg_price, 600000);
	assert_int_equal(r.cost, 1200000000000);
	assert_int_equal(r.fee, 3120000000);
	ro.vol_exec = (struct kr_dec){100000, 8};
	live__from_rest(&r, &ro, 9);
	assert_int_equal(r.status, VENUE_ST_CANCELED); /* closed short: IOC remainder */
	ro.status = KR_ORDER_OPEN;
	ro.vol_exec = (struct kr_dec){0, 0};
	live__from_rest(&r, &ro, 9);
	assert_int_equal(r.status, VENUE_ST_OPEN);
	/* Unknown pair: the decimals' own scales. */
	struct venue_report u = {.qty_scale = -1};
	live__from_rest(&u, &ro, 9);
	assert_int_equal(u.qty_scale, 8);
	assert_int_equal(u.price_scale, 1);
	assert_int_equal(u.qty, 200000);
}

static void test_pairs(void **state)
{
	struct kr_pair p[2];
	(void)state;
	memset(p, 0, sizeof(p));
	snprintf(p[0].symbol, sizeof(p[0].symbol), "BTC/USD");
	snprintf(p[0].base, sizeof(p[0].base), "BTC");
	snprintf(p[0].quote, sizeof(p[0].quote), "USD");
	snprintf(p[1].symbol, sizeof(p[1].symbol), "ETH/BTC");
	snprintf(p[1].base, sizeof(p[1].base), "ETH");
	snprintf(p[1].quote, sizeof(p[1].quote), "BTC");
	assert_ptr_equal(live__pair(p, 2, "BTC/USD"), &p[0]);
	assert_ptr_equal(live__pair(p, 2, "XBTUSD"), &p[0]);
	assert_ptr_equal(live__pair(p, 2, "XXBTZUSD"), &p[0]);
	assert_ptr_equal(live__pair(p, 2, "ETHXBT"), &p[1]);
	assert_ptr_equal(live__pair(p, 2, "XETHXXBT"), &p[1]);
	assert_null(live__pair(p, 2, "SOL/USD"));
	assert_null(live__pair(NULL, 0, "BTC/USD"));
}

/* Refusals the venue makes itself: no exchange needed. The socket points
 * at a closed loopback port and the REST fallback is off. */
static void test_refusals(void **state)
{
	struct kr_rest_opts ro = {.base_url = "http://127.0.0.1:9"};
	struct err_info info = {0};
	struct kr_rest *rest = kr_rest_new(&ro, &info);
	struct venue v;
	(void)state;
	assert_non_null(rest);
	struct live_opts o = {.ws_auth_url = "ws://example.com/v2-auth", .rest = rest};
	assert_int_equal(live_venue_new(&o, &v, &info), ERR_CONFIG);
	o.ws_auth_url = "ws://127.0.0.1:9/v2-auth";
	o.no_rest_fallback = true;
	o.reconnect_min_ms = 50;
	o.reconnect_max_ms = 100;
	assert_int_equal(live_venue_new(&o, &v, &info), 0);
	struct venue_order ord = {.type = VENUE_LIMIT,
				  .tif = VENUE_IOC,
				  .price_scale = 1,
				  .qty_scale = 8,
				  .limit_price = 10,
				  .qty = 10};
	snprintf(ord.symbol, sizeof(ord.symbol), "BTC/USD");
	snprintf(ord.cl_ord_id, sizeof(ord.cl_ord_id), "this-id-is-too-long-for-kraken");
	assert_int_equal(v.ops->place(v.ctx, &ord), ERR_INVALID);
	snprintf(ord.cl_ord_id, sizeof(ord.cl_ord_id), "ok-1");
	ord.qty = 0;
	assert_int_equal(v.ops->place(v.ctx, &ord), ERR_INVALID);
	ord.qty = 10;
	ord.limit_price = 0;
	assert_int_equal(v.ops->place(v.ctx, &ord), ERR_INVALID);
	ord.limit_price = 10;
	assert_int_equal(v.ops->place(v.ctx, &ord), ERR_BADSTATE);
	assert_int_equal(v.ops->cancel(v.ctx, "ok-1"), ERR_NOTFOUND);
	assert_int_equal(v.ops->cancel_all(v.ctx), ERR_BADSTATE);
	assert_false(live_ready(v.ctx));
	struct live_stats st;
	live_stats(v.ctx, &st);
	assert_false(st.connected);
	v.ops->destroy(v.ctx);
	kr_rest_free(rest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lifecycle), cmocka_unit_test(test_ends),
	    cmocka_unit_test(test_from_rest), cmocka_unit_test(test_pairs),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

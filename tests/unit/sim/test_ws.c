/* The simulator's public WS v2 side, through a raw-socket client on
 * loopback, decoded and verified with the project's own kr_decode and book. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "book/book.h"
#include "kraken/codec.h"
#include "unit/sim/sim_test.h"

#include "fake_rest.c"

static struct st_sim g_sim;
static struct kr_event *g_ev;

static int setup(void **state)
{
	(void)state;
	g_ev = calloc(1, sizeof(*g_ev));
	return st_start(&g_sim, TEST_DATA_DIR "/sim/fast.json");
}

static int teardown(void **state)
{
	(void)state;
	st_stop(&g_sim);
	free(g_ev);
	return 0;
}

/* Next message that is not a heartbeat, decoded into g_ev. */
static int next_event(struct st_ws *w, struct kr_decoder *d, long timeout_ms)
{
	for (;;) {
		long n = st_ws_recv(w, timeout_ms);
		if (n < 0)
			return (int)n;
		struct err_info info = {0};
		int rc = kr_decode(d, w->msg, (size_t)n, g_ev, &info);
		if (rc != 0) {
			fprintf(stderr, "decode: %s: %.300s\n", info.msg, w->msg);
			return rc;
		}
		if (g_ev->kind != KR_EV_HEARTBEAT)
			return 0;
	}
}

static void open_client(struct st_ws *w, struct kr_decoder *d, const char *path)
{
	assert_int_equal(st_ws_open(w, sim_ws_port(g_sim.s), path), 0);
	assert_int_equal(next_event(w, d, 5000), 0);
	assert_int_equal(g_ev->kind, KR_EV_STATUS);
	assert_int_equal(g_ev->status.system, KR_SYSTEM_ONLINE);
	assert_true(g_ev->status.has_connection_id);
	assert_int_equal(g_ev->status.api_version.len, 2);
}

static void subscribe_instrument(struct st_ws *w, struct kr_decoder *d)
{
	char buf[256];
	assert_true(kr_encode_subscribe_instrument(buf, sizeof(buf), 3) > 0);
	assert_int_equal(st_ws_send(w, buf), 0);
	assert_int_equal(next_event(w, d, 5000), 0);
	assert_int_equal(g_ev->kind, KR_EV_SUBSCRIBE);
	assert_true(g_ev->ack.success);
	assert_int_equal(g_ev->ack.channel, KR_CHANNEL_INSTRUMENT);
	assert_int_equal(g_ev->ack.req_id, 3);
	assert_int_equal(g_ev->ack.n_warnings, 1);
	assert_int_equal(next_event(w, d, 5000), 0);
	assert_int_equal(g_ev->kind, KR_EV_INSTRUMENT);
	assert_true(g_ev->instrument.snapshot);
	assert_int_equal(g_ev->instrument.n_pairs, 6);
	assert_int_equal(g_ev->instrument.n_assets, 4);
}

static void test_status_and_ping(void **state)
{
	(void)state;
	struct kr_decoder *d = kr_decoder_new(0);
	struct st_ws w;
	open_client(&w, d, "/v2");
	assert_int_equal(st_ws_send(&w, "{\"method\":\"ping\",\"req_id\":101}"), 0);
	assert_int_equal(next_event(&w, d, 5000), 0);
	assert_int_equal(g_ev->kind, KR_EV_PONG);
	assert_true(g_ev->pong.has_req_id);
	assert_int_equal(g_ev->pong.req_id, 101);
	assert_true(g_ev->pong.time_in_ns > 0);
	assert_true(g_ev->pong.time_out_ns >= g_ev->pong.time_in_ns);
	/* The private path answers the same status and ping. */
	struct st_ws w2;
	open_client(&w2, d, "/v2-auth");
	assert_int_equal(st_ws_send(&w2, "{\"method\":\"ping\"}"), 0);
	assert_int_equal(next_event(&w2, d, 5000), 0);
	assert_int_equal(g_ev->kind, KR_EV_PONG);
	assert_false(g_ev->pong.has_req_id);
	/* Any other path is refused. */
	struct st_ws w3;
	assert_int_not_equal(st_ws_open(&w3, sim_ws_port(g_sim.s), "/v3"), 0);
	st_ws_close(&w3);
	st_ws_close(&w2);
	st_ws_close(&w);
	kr_decoder_free(d);
}

static void test_instrument(void **state)
{
	(void)state;
	struct kr_decoder *d = kr_decoder_new(0);
	struct st_ws w;
	open_client(&w, d, "/v2");
	subscribe_instrument(&w, d);
	uint32_t id = kr_decoder_find(d, "ETH/BTC", 7);
	assert_int_not_equal(id, KR_PAIR_NONE);
	const struct kr_pair *p = kr_decoder_pair(d, id);
	assert_string_equal(p->base, "ETH");
	assert_string_equal(p->quote, "BTC");
	assert_int_equal(p->price_precision, 5);
	assert_int_equal(p->qty_precision, 8);
	assert_int_equal(p->price_increment, 1);
	assert_int_equal(p->qty_min, 200000);
	assert_int_equal(p->status, KR_PAIR_STATUS_ONLINE);
	st_ws_close(&w);
	kr_decoder_free(d);
}

static void test_subscribe_errors(void **state)
{
	(void)state;
	struct kr_decoder *d = kr_decoder_new(0);
	struct st_ws w;
	open_client(&w, d, "/v2");
	subscribe_instrument(&w, d);
	assert_int_equal(st_ws_send(&w,
				    "{\"method\":\"subscribe\",\"params\":{\"channel\":\"book\","
				    "\"symbol\":[\"XBT/USD\"]},\"req_id\":5}"),
			 0);
	assert_int_equal(next_event(&w, d, 5000), 0);
	assert_int_equal(g_ev->kind, KR_EV_SUBSCRIBE);
	assert_false(g_ev->ack.success);
	assert_int_equal(g_ev->ack.req_id, 5);
	assert_non_null(strstr(w.msg, "\"error\":\"Currency pair not supported XBT/USD\""));
	assert_non_null(strstr(w.msg, "\"symbol\":\"XBT/USD\""));
	assert_non_null(strstr(w.msg, "\"time_in\":"));
	assert_int_equal(st_ws_send(&w,
				    "{\"method\":\"subscribe\",\"params\":{\"channel\":\"book\","
				    "\"symbol\":[\"BTC/USD\"],\"depth\":7}}"),
			 0);
	assert_int_equal(next_event(&w, d, 5000), 0);
	assert_false(g_ev->ack.success);
	assert_non_null(strstr(w.msg, "depth"));
	assert_int_equal(st_ws_send(&w,
				    "{\"method\":\"unsubscribe\",\"params\":{\"channel\":\"book\","
				    "\"symbol\":[\"BTC/USD\"]}}"),
			 0);
	assert_int_equal(next_event(&w, d, 5000), 0);
	assert_int_equal(g_ev->kind, KR_EV_UNSUBSCRIBE);
	assert_false(g_ev->ack.success);
	assert_int_equal(st_ws_send(&w, "not json"), 0);
	assert_true(st_ws_recv(&w, 5000) > 0);
	assert_non_null(strstr(w.msg, "\"success\":false"));
	assert_int_equal(st_ws_send(&w, "{\"method\":\"add_order\",\"req_id\":9}"), 0);
	assert_true(st_ws_recv(&w, 5000) > 0);
	assert_non_null(strstr(w.msg, "\"success\":false"));
	assert_non_null(strstr(w.msg, "\"method\":\"add_order\""));
	st_ws_close(&w);
	kr_decoder_free(d);
}

/* A request split over fragments is reassembled; one over the 1 MiB cap is
 * refused with an error and the connection carries on. */
static void test_fragments_and_oversize(void **state)
{
	(void)state;
	struct kr_decoder *d = kr_decoder_new(0);
	struct st_ws w;
	open_client(&w, d, "/v2");
	const char *a = "{\"method\":\"pi", *b = "ng\",\"req_id\":42}";
	assert_int_equal(st_ws_send_frame(&w, a, strlen(a), 1, 0), 0);
	assert_int_equal(st_ws_send_frame(&w, b, strlen(b), 0, 1), 0);
	assert_int_equal(next_event(&w, d, 5000), 0);
	assert_int_equal(g_ev->kind, KR_EV_PONG);
	assert_int_equal(g_ev->pong.req_id, 42);
	size_t big = (1u << 20) + 100;
	char *junk = malloc(big);
	memset(junk, ' ', big);
	junk[0] = '{';
	junk[big - 1] = '}';
	assert_int_equal(st_ws_send_frame(&w, junk, big, 1, 1), 0);
	free(junk);
	assert_true(st_ws_recv(&w, 10000) > 0);
	assert_non_null(strstr(w.msg, "too large"));
	assert_int_equal(st_ws_send(&w, "{\"method\":\"ping\",\"req_id\":43}"), 0);
	assert_int_equal(next_event(&w, d, 5000), 0);
	assert_int_equal(g_ev->pong.req_id, 43);
	st_ws_close(&w);
	kr_decoder_free(d);
}

struct tracked {
	struct book *b;
	uint32_t id;
	unsigned ok, bad;
};

static int apply(struct tracked *t, size_t n)
{
	const struct kr_book_event *e = &g_ev->book;
	for (size_t k = 0; k < n; k++) {
		if (t[k].id != e->pair_id)
			continue;
		book_begin(t[k].b, e->snapshot);
		for (uint32_t i = 0; i < e->n_bids; i++)
			book_set_bid(t[k].b, e->bids[i].price, e->bids[i].qty);
		for (uint32_t i = 0; i < e->n_asks; i++)
			book_set_ask(t[k].b, e->asks[i].price, e->asks[i].qty);
		int rc = book_end(t[k].b, e->checksum, 1);
		if (rc == 0)
			t[k].ok++;
		else
			t[k].bad++;
		return rc;
	}
	return ERR_NOTFOUND;
}

static void books_verify_at(unsigned depth)
{
	const char *syms[] = {"BTC/USD", "ETH/BTC", "SOL/ETH"};
	struct kr_decoder *d = kr_decoder_new(0);
	struct tracked t[3];
	struct st_ws w;
	char buf[512];
	open_client(&w, d, "/v2");
	subscribe_instrument(&w, d);
	for (int k = 0; k < 3; k++) {
		const struct kr_pair *p =
		    kr_decoder_pair(d, kr_decoder_find(d, syms[k], strlen(syms[k])));
		assert_non_null(p);
		t[k].b = book_new(syms[k], p->price_precision, p->qty_precision, depth, NULL);
		t[k].id = p->id;
		t[k].ok = t[k].bad = 0;
	}
	assert_true(kr_encode_subscribe_book(buf, sizeof(buf), syms, 3, depth, 11) > 0);
	assert_int_equal(st_ws_send(&w, buf), 0);
	int acks = 0, snaps = 0, updates = 0;
	while (updates < 400) {
		assert_int_equal(next_event(&w, d, 5000), 0);
		if (g_ev->kind == KR_EV_SUBSCRIBE) {
			assert_true(g_ev->ack.success);
			assert_int_equal(g_ev->ack.depth, depth);
			assert_true(g_ev->ack.snapshot);
			acks++;
			continue;
		}
		assert_int_equal(g_ev->kind, KR_EV_BOOK);
		if (g_ev->book.snapshot) {
			snaps++;
			assert_true(g_ev->book.n_bids == depth || g_ev->book.n_bids >= 25);
		} else {
			updates++;
		}
		assert_int_equal(apply(t, 3), 0);
	}
	assert_int_equal(acks, 3);
	assert_int_equal(snaps, 3);
	for (int k = 0; k < 3; k++) {
		size_t nb, na;
		book_bids(t[k].b, &nb);
		book_asks(t[k].b, &na);
		assert_true(book_valid(t[k].b));
		assert_int_equal(t[k].bad, 0);
		assert_true(t[k].ok > 10);
		assert_true(nb <= depth && na <= depth && nb >= 10 && na >= 10);
	}
	/* Unsubscribe one: acknowledged, and its book messages stop. */
	assert_true(kr_encode_unsubscribe_book(buf, sizeof(buf), syms, 1, depth, 12) > 0);
	assert_int_equal(st_ws_send(&w, buf), 0);
	for (;;) {
		assert_int_equal(next_event(&w, d, 5000), 0);
		if (g_ev->kind == KR_EV_UNSUBSCRIBE)
			break;
		assert_int_equal(apply(t, 3), 0);
	}
	assert_true(g_ev->ack.success);
	assert_int_equal(g_ev->ack.req_id, 12);
	for (int k = 0; k < 100; k++) {
		assert_int_equal(next_event(&w, d, 5000), 0);
		assert_int_equal(g_ev->kind, KR_EV_BOOK);
		assert_int_not_equal(g_ev->book.pair_id, t[0].id);
		assert_int_equal(apply(t, 3), 0);
	}
	st_ws_close(&w);
	for (int k = 0; k < 3; k++)
		book_free(t[k].b);
	kr_decoder_free(d);
}

static void test_books_depth_10(void **state)
{
	(void)state;
	books_verify_at(10);
}

static void test_books_depth_25(void **state)
{
	(void)state;
	books_verify_at(25);
}

/* Deeper than the simulated book: every level is published, and levels
 * that go are deleted on the wire. */
static void test_books_depth_1000(void **state)
{
	(void)state;
	books_verify_at(1000);
}

static void test_heartbeat(void **state)
{
	(void)state;
	struct kr_decoder *d = kr_decoder_new(0);
	struct st_ws w;
	open_client(&w, d, "/v2");
	subscribe_instrument(&w, d);
	int hb = 0;
	for (int k = 0; k < 20 && !hb; k++) {
		long n = st_ws_recv(&w, 3000);
		assert_true(n > 0);
		hb = strcmp(w.msg, "{\"channel\":\"heartbeat\"}") == 0;
	}
	assert_true(hb);
	st_ws_close(&w);
	kr_decoder_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_and_ping),  cmocka_unit_test(test_instrument),
	    cmocka_unit_test(test_subscribe_errors), cmocka_unit_test(test_fragments_and_oversize),
	    cmocka_unit_test(test_books_depth_10),   cmocka_unit_test(test_books_depth_25),
	    cmocka_unit_test(test_books_depth_1000), cmocka_unit_test(test_heartbeat),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

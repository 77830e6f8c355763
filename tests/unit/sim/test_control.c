/* The control endpoint and the faults it triggers, against an in-process
 * simulator, through a raw-socket WS client and plain HTTP on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "book/book.h"
#include "kraken/codec.h"
#include "sim/sim_srv.h"
#include "unit/sim/sim_test.h"

#include "fake_rest.c"

static struct st_sim g_sim;
static struct kr_event *g_ev;
static char g_body[1 << 20];

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

static uint16_t port(void)
{
	return sim_ws_port(g_sim.s);
}

static int post(const char *path)
{
	return st_http(port(), "POST", path, g_body, sizeof(g_body));
}

/* Next non-heartbeat message decoded into g_ev; a decode error is returned. */
static int next_event(struct st_ws *w, struct kr_decoder *d, long timeout_ms)
{
	for (;;) {
		long n = st_ws_recv(w, timeout_ms);
		if (n < 0)
			return (int)n;
		int rc = kr_decode(d, w->msg, (size_t)n, g_ev, NULL);
		if (rc != 0 || g_ev->kind != KR_EV_HEARTBEAT)
			return rc;
	}
}

/* A client subscribed to instrument and to book BTC/USD at depth 10. */
static void subscribed(struct st_ws *w, struct kr_decoder *d, struct book **b)
{
	char buf[256];
	const char *sym = "BTC/USD";
	assert_int_equal(st_ws_open(w, port(), "/v2"), 0);
	assert_int_equal(next_event(w, d, 5000), 0);
	assert_int_equal(g_ev->kind, KR_EV_STATUS);
	kr_encode_subscribe_instrument(buf, sizeof(buf), 1);
	st_ws_send(w, buf);
	do
		assert_int_equal(next_event(w, d, 5000), 0);
	while (g_ev->kind != KR_EV_INSTRUMENT);
	*b = book_new(sym, 1, 8, 10, NULL);
	kr_encode_subscribe_book(buf, sizeof(buf), &sym, 1, 10, 2);
	st_ws_send(w, buf);
	do
		assert_int_equal(next_event(w, d, 5000), 0);
	while (g_ev->kind != KR_EV_BOOK);
	assert_true(g_ev->book.snapshot);
}

static int apply(struct book *b)
{
	const struct kr_book_event *e = &g_ev->book;
	book_begin(b, e->snapshot);
	for (uint32_t i = 0; i < e->n_bids; i++)
		book_set_bid(b, e->bids[i].price, e->bids[i].qty);
	for (uint32_t i = 0; i < e->n_asks; i++)
		book_set_ask(b, e->asks[i].price, e->asks[i].qty);
	return book_end(b, e->checksum, 1);
}

static void test_drop(void **state)
{
	(void)state;
	struct kr_decoder *d = kr_decoder_new(0);
	struct st_ws a, b;
	assert_int_equal(st_ws_open(&a, port(), "/v2"), 0);
	assert_int_equal(st_ws_open(&b, port(), "/v2-auth"), 0);
	assert_true(st_ws_recv(&a, 5000) > 0);
	assert_true(st_ws_recv(&b, 5000) > 0);
	assert_int_equal(post("/control/drop"), 200);
	assert_non_null(strstr(g_body, "\"ok\":true"));
	long r;
	while ((r = st_ws_recv(&a, 5000)) > 0) {
	}
	assert_int_equal(r, -1);
	while ((r = st_ws_recv(&b, 5000)) > 0) {
	}
	assert_int_equal(r, -1);
	st_ws_close(&a);
	st_ws_close(&b);
	kr_decoder_free(d);
}

static void test_corrupt_checksum(void **state)
{
	(void)state;
	struct kr_decoder *d = kr_decoder_new(0);
	struct st_ws w;
	struct book *b;
	subscribed(&w, d, &b);
	assert_int_equal(apply(b), 0);
	for (int k = 0; k < 20; k++) {
		assert_int_equal(next_event(&w, d, 5000), 0);
		assert_int_equal(apply(b), 0);
	}
	assert_int_equal(post("/control/corrupt_checksum?symbol=BTC/USD"), 200);
	int bad = 0;
	for (int k = 0; k < 150; k++) {
		assert_int_equal(next_event(&w, d, 5000), 0);
		assert_int_equal(g_ev->kind, KR_EV_BOOK);
		int rc = apply(b);
		if (rc == ERR_CHECKSUM)
			bad++;
		else
			assert_int_equal(rc, 0);
	}
	assert_int_equal(bad, 1);
	/* The levels were right all along: a fresh snapshot matches again. */
	assert_int_equal(post("/control/corrupt_checksum?symbol=XBT/USD"), 400);
	assert_non_null(strstr(g_body, "symbol"));
	assert_int_equal(post("/control/corrupt_checksum"), 400);
	assert_non_null(strstr(g_body, "symbol"));
	st_ws_close(&w);
	book_free(b);
	kr_decoder_free(d);
}

static void test_malformed_and_status(void **state)
{
	(void)state;
	struct kr_decoder *d = kr_decoder_new(0);
	struct st_ws w;
	struct book *b;
	subscribed(&w, d, &b);
	assert_int_equal(post("/control/malformed"), 200);
	int parse_errors = 0;
	for (int k = 0; k < 200 && !parse_errors; k++) {
		int rc = next_event(&w, d, 5000);
		if (rc == ERR_PARSE)
			parse_errors++;
		else
			assert_int_equal(rc, 0);
	}
	assert_int_equal(parse_errors, 1);
	/* The connection carries on. */
	st_ws_send(&w, "{\"method\":\"ping\",\"req_id\":77}");
	do
		assert_int_equal(next_event(&w, d, 5000), 0);
	while (g_ev->kind != KR_EV_PONG);
	assert_int_equal(g_ev->pong.req_id, 77);

	assert_int_equal(post("/control/status?value=maintenance"), 200);
	do
		assert_int_equal(next_event(&w, d, 5000), 0);
	while (g_ev->kind != KR_EV_STATUS);
	assert_int_equal(g_ev->status.system, KR_SYSTEM_MAINTENANCE);
	assert_int_equal(st_http(port(), "GET", "/control/state", g_body, sizeof(g_body)), 200);
	assert_non_null(strstr(g_body, "\"system_status\":\"maintenance\""));
	assert_non_null(strstr(g_body, "\"book\":[\"BTC/USD\"]"));
	assert_int_equal(post("/control/status?value=online"), 200);
	do
		assert_int_equal(next_event(&w, d, 5000), 0);
	while (g_ev->kind != KR_EV_STATUS);
	assert_int_equal(g_ev->status.system, KR_SYSTEM_ONLINE);
	assert_int_equal(post("/control/status?value=sleepy"), 400);
	assert_non_null(strstr(g_body, "value"));
	st_ws_close(&w);
	book_free(b);
	kr_decoder_free(d);
}

static void test_stall(void **state)
{
	(void)state;
	struct kr_decoder *d = kr_decoder_new(0);
	struct st_ws w;
	struct book *b;
	subscribed(&w, d, &b);
	assert_int_equal(apply(b), 0);
	assert_int_equal(post("/control/stall?ms=5000"), 200);
	/* Frames already in flight when the stall began still arrive; after
	 * them, a gap. */
	for (int k = 0; k < 5000 && st_ws_recv(&w, 250) > 0; k++) {
		if (kr_decode(d, w.msg, strlen(w.msg), g_ev, NULL) == 0 && g_ev->kind == KR_EV_BOOK)
			assert_int_equal(apply(b), 0);
	}
	st_ws_send(&w, "{\"method\":\"ping\",\"req_id\":5}");
	/* Well inside the stall nothing at all arrives, not even the pong. */
	assert_int_equal(st_ws_recv(&w, 800), -2);
	/* Then everything resumes: the pong, and updates that still verify. */
	int pong = 0, books = 0;
	while (!pong || books < 5) {
		assert_int_equal(next_event(&w, d, 5000), 0);
		if (g_ev->kind == KR_EV_PONG)
			pong = 1;
		if (g_ev->kind == KR_EV_BOOK) {
			assert_int_equal(apply(b), 0);
			books++;
		}
	}
	assert_int_equal(post("/control/stall?ms=abc"), 400);
	assert_non_null(strstr(g_body, "ms"));
	st_ws_close(&w);
	book_free(b);
	kr_decoder_free(d);
}

static double product(const int *a)
{
	sim__lock(g_sim.s);
	double p = sim__cycle_product(g_sim.s, a, 3);
	sim__unlock(g_sim.s);
	return p;
}

static void test_window(void **state)
{
	(void)state;
	int a[3];
	char ids[3][KR_ASSET_MAX] = {"USD", "BTC", "ETH"};
	assert_int_equal(sim__cycle_resolve(g_sim.s, ids, 3, a, NULL), 0);
	double before = product(a);
	assert_true(before > 0.99 && before < 1.0);
	assert_int_equal(post("/control/window?cycle=USD,BTC,ETH&bps=60&ms=3000"), 200);
	assert_non_null(strstr(g_body, "\"pair\":\"ETH/BTC\""));
	/* The window opens on the next tick (10 ms); wait for it, bounded. */
	long t0 = st_now_ms();
	double during = 0;
	while (st_now_ms() - t0 < 1000 && (during = product(a)) < 1.0)
		st_sleep_ms(10);
	assert_true(during > 1.003 && during < 1.009);
	/* After it closes the cycle is back below 1. */
	long t1 = st_now_ms();
	double after = 2;
	while (st_now_ms() - t1 < 10000 && (after = product(a)) > 1.0)
		st_sleep_ms(50);
	assert_true(after < 1.0);
	assert_true(st_now_ms() - t0 >= 2900);
	assert_int_equal(post("/control/window?cycle=USD,XYZ,ETH&bps=60&ms=3000"), 400);
	assert_non_null(strstr(g_body, "XYZ"));
	assert_int_equal(post("/control/window?cycle=USD,BTC,ETH&bps=60"), 400);
	assert_non_null(strstr(g_body, "ms"));
	assert_int_equal(st_http(port(), "GET", "/control/nothing", g_body, sizeof(g_body)), 404);
}

static void test_state_books(void **state)
{
	(void)state;
	assert_int_equal(st_http(port(), "GET", "/control/state", g_body, sizeof(g_body)), 200);
	struct sim_json j;
	assert_int_equal(sim__json_parse(&j, g_body, strlen(g_body)), 0);
	int books = sim__json_get(&j, 0, "books");
	int btc = sim__json_get(&j, books, "BTC/USD");
	int64_t sum, n;
	assert_int_equal(sim__json_i64(&j, sim__json_get(&j, btc, "checksum"), &sum), 0);
	/* Rebuild the top 10 of each side from the listed levels. */
	struct book_level bids[10], asks[10];
	int jb = sim__json_get(&j, btc, "bids"), ja = sim__json_get(&j, btc, "asks");
	assert_true(j.tok[jb].size >= 10 && j.tok[ja].size >= 10);
	for (int k = 0; k < 10; k++) {
		int e = sim__json_elem(&j, jb, k);
		assert_int_equal(sim__json_fixed(&j, e + 1, 1, &bids[k].price), 0);
		assert_int_equal(sim__json_fixed(&j, e + 2, 8, &bids[k].qty), 0);
		e = sim__json_elem(&j, ja, k);
		assert_int_equal(sim__json_fixed(&j, e + 1, 1, &asks[k].price), 0);
		assert_int_equal(sim__json_fixed(&j, e + 2, 8, &asks[k].qty), 0);
	}
	assert_int_equal((uint32_t)sum, book_checksum_levels(asks, 10, bids, 10));
	assert_int_equal(sim__json_i64(&j, sim__json_get(&j, 0, "messages_sent"), &n), 0);
	assert_true(n > 0);
	sim__json_release(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drop),
	    cmocka_unit_test(test_corrupt_checksum),
	    cmocka_unit_test(test_malformed_and_status),
	    cmocka_unit_test(test_stall),
	    cmocka_unit_test(test_window),
	    cmocka_unit_test(test_state_books),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

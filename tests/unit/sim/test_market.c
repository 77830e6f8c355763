/* The simulator's market without the network: seeded determinism, books
 * that stay sane, no accidental arbitrage, scripted windows, fills, the
 * subscriber diff, replay of a recording and scenario errors. The sims here
 * are built but never run: ticks are driven by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "book/book.h"
#include "sim/sim_srv.h"

#include "fake_rest.c"

static struct sim *open_sim(const char *path, bool has_seed, uint64_t seed)
{
	struct sim_opts o = {.scenario_path = path, .has_seed = has_seed, .seed = seed};
	struct err_info info = {0};
	struct sim *s = sim_new(&o, &info);
	if (!s)
		fprintf(stderr, "sim_new(%s): %s\n", path, info.msg);
	return s;
}

static void run_ticks(struct sim *s, int n, uint32_t *sums)
{
	for (int k = 0; k < n; k++) {
		sim__market_tick(s);
		for (size_t i = 0; i < s->n_pairs; i++)
			if (sums)
				sums[(size_t)k * s->n_pairs + i] = book_checksum(s->pairs[i].book);
	}
}

static void test_determinism(void **state)
{
	(void)state;
	enum { N = 400 };
	struct sim *a = open_sim(TEST_DATA_DIR "/sim/basic.json", false, 0);
	struct sim *b = open_sim(TEST_DATA_DIR "/sim/basic.json", false, 0);
	struct sim *c = open_sim(TEST_DATA_DIR "/sim/basic.json", true, 43);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	size_t np = a->n_pairs;
	uint32_t *sa = calloc(N * np, 4), *sb = calloc(N * np, 4), *sc = calloc(N * np, 4);
	run_ticks(a, N, sa);
	run_ticks(b, N, sb);
	run_ticks(c, N, sc);
	assert_memory_equal(sa, sb, N * np * 4);
	assert_memory_not_equal(sa, sc, N * np * 4);
	/* At 5 updates/s, 400 ticks (4 s) make about 20 updates per pair. */
	for (size_t i = 0; i < np; i++)
		assert_in_range(a->pairs[i].updates, 18, 23);
	free(sa);
	free(sb);
	free(sc);
	sim_free(a);
	sim_free(b);
	sim_free(c);
}

/* Every 3-cycle of assets that the universe links, as asset indices. */
static size_t cycles(const struct sim *s, int (*out)[3], size_t cap)
{
	size_t n = 0;
	for (size_t x = 0; x < s->n_assets; x++)
		for (size_t y = 0; y < s->n_assets; y++)
			for (size_t z = 0; z < s->n_assets; z++) {
				if (x == y || y == z || x == z || n >= cap)
					continue;
				int c[3] = {(int)x, (int)y, (int)z};
				if (sim__cycle_product(s, c, 3) > 0)
					memcpy(out[n++], c, sizeof(c));
			}
	return n;
}

static void test_books_sane_and_no_accidental_arbitrage(void **state)
{
	(void)state;
	struct sim *s = open_sim(TEST_DATA_DIR "/sim/fast.json", false, 0);
	assert_non_null(s);
	int cyc[64][3];
	size_t nc = cycles(s, cyc, 64);
	/* USD,BTC,ETH,SOL: 4 triangles, each in 2 directions and 3 rotations. */
	assert_int_equal(nc, 24);
	double worst = 0;
	for (int t = 0; t < 3000; t++) {
		sim__market_tick(s);
		for (size_t i = 0; i < s->n_pairs; i++) {
			size_t nb, na;
			const struct book_level *bids = book_bids(s->pairs[i].book, &nb);
			const struct book_level *asks = book_asks(s->pairs[i].book, &na);
			assert_true(book_valid(s->pairs[i].book));
			assert_true(nb >= 10 && na >= 10 && nb <= 35 && na <= 35);
			assert_true(bids[0].price < asks[0].price);
		}
		for (size_t k = 0; k < nc; k++) {
			double p = sim__cycle_product(s, cyc[k], 3);
			assert_true(p < 1.0);
			if (p > worst)
				worst = p;
		}
	}
	/* Close to 1 (spreads only), never above it. */
	assert_true(worst > 0.995);
	sim_free(s);
}

static const char *write_tmp(char *path, size_t cap, const char *name, const char *text)
{
	snprintf(path, cap, "%s/arb-sim-%d-%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
		 (int)getpid(), name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

#define PAIRS                                                                                      \
	"\"universe\":["                                                                           \
	"{\"symbol\":\"BTC/USD\",\"base\":\"BTC\",\"quote\":\"USD\",\"price_precision\":1,"        \
	"\"qty_precision\":8,\"price_increment\":\"0.1\",\"qty_increment\":\"0.00000001\","        \
	"\"qty_min\":\"0.0001\",\"cost_min\":\"0.5\",\"mid\":60000},"                              \
	"{\"symbol\":\"ETH/USD\",\"base\":\"ETH\",\"quote\":\"USD\",\"price_precision\":2,"        \
	"\"qty_precision\":8,\"price_increment\":\"0.01\",\"qty_increment\":\"0.00000001\","       \
	"\"qty_min\":\"0.002\",\"cost_min\":\"0.5\",\"mid\":3000},"                                \
	"{\"symbol\":\"ETH/BTC\",\"base\":\"ETH\",\"quote\":\"BTC\",\"price_precision\":5,"        \
	"\"qty_precision\":8,\"price_increment\":\"0.00001\",\"qty_increment\":\"0.00000001\","    \
	"\"qty_min\":\"0.002\",\"cost_min\":\"0.00002\"}]"

static void test_scripted_window(void **state)
{
	(void)state;
	char path[512];
	write_tmp(path, sizeof(path), "win.json",
		  "{\"seed\":5," PAIRS ",\"windows\":[{\"at_ms\":1000,\"cycle\":[\"USD\",\"BTC\","
		  "\"ETH\"],\"bps\":60,\"ms\":500}]}");
	struct sim *s = open_sim(path, false, 0);
	assert_non_null(s);
	int c[3];
	char ids[3][KR_ASSET_MAX] = {"USD", "BTC", "ETH"};
	assert_int_equal(sim__cycle_resolve(s, ids, 3, c, NULL), 0);
	run_ticks(s, 99, NULL);
	assert_true(sim__cycle_product(s, c, 3) < 1.0);
	run_ticks(s, 2, NULL);
	for (int t = 0; t < 48; t++) {
		double p = sim__cycle_product(s, c, 3);
		assert_true(p > 1.004 && p < 1.008);
		run_ticks(s, 1, NULL);
	}
	run_ticks(s, 3, NULL);
	for (int t = 0; t < 200; t++) {
		assert_true(sim__cycle_product(s, c, 3) < 1.0);
		run_ticks(s, 1, NULL);
	}
	sim_free(s);
	unlink(path);
}

static void test_consume(void **state)
{
	(void)state;
	struct sim *s = open_sim(TEST_DATA_DIR "/sim/basic.json", false, 0);
	assert_non_null(s);
	size_t na;
	const struct book_level *asks = book_asks(s->pairs[0].book, &na);
	struct book_level a0 = asks[0], a1 = asks[1];
	/* A buy up to the second level takes all of the first and part of it. */
	assert_int_equal(sim__book_consume(s, 0, 'a', a1.price, a0.qty + 1), 0);
	asks = book_asks(s->pairs[0].book, &na);
	assert_int_equal(asks[0].price, a1.price);
	assert_int_equal(asks[0].qty, a1.qty - 1);
	assert_true(book_valid(s->pairs[0].book));
	assert_true(s->pairs[0].dirty);
	/* A limit below the best ask takes nothing. */
	assert_int_equal(sim__book_consume(s, 0, 'a', asks[0].price - 1, 5), 0);
	asks = book_asks(s->pairs[0].book, &na);
	assert_int_equal(asks[0].qty, a1.qty - 1);
	assert_int_equal(sim__book_consume(s, 0, 'x', 1, 1), ERR_INVALID);
	assert_int_equal(sim__book_consume(s, 99, 'a', 1, 1), ERR_INVALID);
	sim_free(s);
}

static void test_diff_side(void **state)
{
	(void)state;
	struct book_level out[16];
	/* Bids, depth 3: 100 deleted; 97 fell below the depth (not sent). */
	const struct book_level old[] = {{100, 1}, {99, 2}, {98, 3}};
	const struct book_level nw[] = {{99, 2}, {98, 4}, {96, 1}};
	size_t n = sim__diff_side('b', old, 3, nw, 3, 3, out);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].price, 100);
	assert_int_equal(out[0].qty, 0);
	assert_int_equal(out[1].price, 98);
	assert_int_equal(out[1].qty, 4);
	assert_int_equal(out[2].price, 96);
	/* An insert at the top pushes 98 out of a full depth: no delete for it. */
	const struct book_level nw2[] = {{101, 5}, {100, 1}, {99, 2}};
	n = sim__diff_side('b', old, 3, nw2, 3, 3, out);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].price, 101);
	/* The same with the view not full: 99 and 98 are deleted explicitly. */
	n = sim__diff_side('b', old, 3, nw2, 2, 3, out);
	assert_int_equal(n, 3);
	assert_int_equal(out[2].price, 98);
	assert_int_equal(out[2].qty, 0);
	/* Asks run the other way. */
	const struct book_level oa[] = {{10, 1}, {11, 1}};
	const struct book_level na2[] = {{9, 1}, {10, 2}};
	n = sim__diff_side('a', oa, 2, na2, 2, 2, out);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].price, 9);
	assert_int_equal(out[1].price, 10);
	assert_int_equal(out[1].qty, 2);
	assert_int_equal(sim__diff_side('a', oa, 2, oa, 2, 10, out), 0);
}

static void test_replay(void **state)
{
	(void)state;
	char rec[512], scen[1024], path[512];
	write_tmp(
	    rec, sizeof(rec), "rec.jsonl",
	    "{\"recv_ts\":\"2026-01-01T00:00:00.000000000Z\",\"msg\":{\"channel\":\"status\","
	    "\"data\":[{\"system\":\"online\"}],\"type\":\"update\"}}\n"
	    "{\"recv_ts\":\"2026-01-01T00:00:00.000000000Z\",\"msg\":{\"channel\":\"book\","
	    "\"type\":\"snapshot\",\"data\":[{\"symbol\":\"BTC/USD\",\"bids\":[{\"price\":100.0,"
	    "\"qty\":1.0},{\"price\":99.5,\"qty\":2.0}],\"asks\":[{\"price\":101.0,\"qty\":1.5}],"
	    "\"checksum\":0,\"timestamp\":\"2026-01-01T00:00:00.000000Z\"}]}}\n"
	    "{\"recv_ts\":\"2026-01-01T00:00:00.500000000Z\",\"msg\":{\"channel\":\"book\","
	    "\"type\":\"update\",\"data\":[{\"symbol\":\"BTC/USD\",\"bids\":[{\"price\":100.0,"
	    "\"qty\":0}],\"asks\":[{\"price\":100.5,\"qty\":0.25}],\"checksum\":0,"
	    "\"timestamp\":\"2026-01-01T00:00:00.500000Z\"}]}}\n");
	snprintf(scen, sizeof(scen),
		 "{\"universe\":[{\"symbol\":\"BTC/USD\",\"base\":\"BTC\",\"quote\":\"USD\","
		 "\"price_precision\":1,\"qty_precision\":8,\"price_increment\":\"0.1\","
		 "\"qty_increment\":\"0.00000001\",\"qty_min\":\"0.0001\",\"cost_min\":\"0.5\","
		 "\"mid\":100,\"replay\":\"%s\"}]}",
		 rec);
	write_tmp(path, sizeof(path), "replay.json", scen);
	struct sim *s = open_sim(path, false, 0);
	assert_non_null(s);
	size_t nb, na;
	const struct book_level *b = book_bids(s->pairs[0].book, &nb);
	assert_int_equal(nb, 2);
	assert_int_equal(b[0].price, 1000);
	run_ticks(s, 49, NULL);
	assert_int_equal(book_bids(s->pairs[0].book, &nb)[0].price, 1000);
	run_ticks(s, 1, NULL);
	b = book_bids(s->pairs[0].book, &nb);
	const struct book_level *a = book_asks(s->pairs[0].book, &na);
	assert_int_equal(nb, 1);
	assert_int_equal(b[0].price, 995);
	assert_int_equal(na, 2);
	assert_int_equal(a[0].price, 1005);
	assert_int_equal(a[0].qty, 25000000);
	/* It loops: after a pause the snapshot comes back. */
	run_ticks(s, 120, NULL);
	assert_int_equal(book_bids(s->pairs[0].book, &nb)[0].price, 1000);
	assert_true(book_valid(s->pairs[0].book));
	sim_free(s);
	unlink(path);
	unlink(rec);
}

static void expect_error(const char *text, const char *needle)
{
	char path[512];
	struct err_info info = {0};
	write_tmp(path, sizeof(path), "bad.json", text);
	struct sim_opts o = {.scenario_path = path};
	struct sim *s = sim_new(&o, &info);
	if (s || !strstr(info.msg, needle))
		fprintf(stderr, "for %s: got \"%s\", want \"%s\"\n", text, info.msg, needle);
	assert_null(s);
	assert_non_null(strstr(info.msg, needle));
	unlink(path);
}

static void test_scenario_errors(void **state)
{
	(void)state;
	expect_error("{", "not valid JSON");
	expect_error("[]", "must be an object");
	expect_error("{\"universe\":[]}", "universe");
	expect_error("{\"bogus\":1," PAIRS "}", "bogus");
	expect_error("{\"universe\":[{\"symbol\":\"BTC/USD\"}]}", "base");
	expect_error("{\"universe\":[{\"symbol\":\"BTC/USD\",\"base\":\"BTC\",\"quote\":\"USD\","
		     "\"price_precision\":1,\"qty_precision\":8,\"price_increment\":\"0.01\","
		     "\"qty_increment\":\"0.00000001\",\"qty_min\":\"0\",\"cost_min\":\"0\"}]}",
		     "price_increment");
	expect_error("{\"universe\":[{\"symbol\":\"BTC/USD\",\"base\":\"BTC\",\"quote\":\"USD\","
		     "\"price_precision\":1,\"qty_precision\":8,\"price_increment\":\"0.1\","
		     "\"qty_increment\":\"0.00000001\",\"qty_min\":\"0\",\"cost_min\":\"0\"}]}",
		     "mid");
	expect_error("{" PAIRS ",\"windows\":[{\"at_ms\":1,\"cycle\":[\"USD\",\"DOGE\"],\"bps\":5,"
		     "\"ms\":10}]}",
		     "DOGE");
	expect_error("{" PAIRS ",\"faults\":[{\"at_ms\":1,\"kind\":\"explode\"}]}", "explode");
	expect_error("{" PAIRS ",\"faults\":[{\"at_ms\":1,\"kind\":\"corrupt_checksum\","
		     "\"symbol\":\"X/Y\"}]}",
		     "X/Y");
	struct err_info info = {0};
	struct sim_opts o = {.scenario_path = TEST_DATA_DIR "/sim/basic.json", .host = "10.0.0.1"};
	assert_null(sim_new(&o, &info));
	assert_non_null(strstr(info.msg, "loopback"));
	o.scenario_path = "/nonexistent/scenario.json";
	o.host = NULL;
	assert_null(sim_new(&o, &info));
	assert_non_null(strstr(info.msg, "/nonexistent/scenario.json"));
	assert_true(sim_host_is_loopback("127.0.0.1"));
	assert_true(sim_host_is_loopback("::1"));
	assert_false(sim_host_is_loopback("0.0.0.0"));
	assert_false(sim_host_is_loopback("192.168.1.1"));
}

static void test_scripted_faults(void **state)
{
	(void)state;
	char path[512];
	write_tmp(path, sizeof(path), "faults.json",
		  "{" PAIRS ",\"faults\":[{\"at_ms\":100,\"kind\":\"status\",\"value\":"
		  "\"cancel_only\"},{\"at_ms\":200,\"kind\":\"corrupt_checksum\",\"symbol\":"
		  "\"ETH/BTC\"},{\"at_ms\":300,\"kind\":\"stall\",\"ms\":60000},"
		  "{\"at_ms\":400,\"kind\":\"status\",\"value\":\"online\"}]}");
	struct sim *s = open_sim(path, false, 0);
	assert_non_null(s);
	long eb = sim__pair_find(s, "ETH/BTC");
	assert_true(eb >= 0);
	run_ticks(s, 9, NULL);
	assert_int_equal(sim__system_status(s), KR_SYSTEM_ONLINE);
	run_ticks(s, 1, NULL);
	assert_int_equal(sim__system_status(s), KR_SYSTEM_CANCEL_ONLY);
	assert_false(s->pairs[eb].corrupt);
	run_ticks(s, 10, NULL);
	/* Armed until an update is published to a subscriber (none here). */
	assert_true(s->pairs[eb].corrupt);
	assert_false(sim__stalled(s));
	run_ticks(s, 10, NULL);
	assert_true(sim__stalled(s));
	run_ticks(s, 10, NULL);
	assert_int_equal(sim__system_status(s), KR_SYSTEM_ONLINE);
	sim_free(s);
	unlink(path);
}

static void test_demo_windows(void **state)
{
	(void)state;
	struct sim *s = open_sim(TEST_DATA_DIR "/sim/demo.json", false, 0);
	assert_non_null(s);
	assert_true(s->n_pairs >= 8 && s->n_pairs <= 12);
	assert_true(s->n_windows >= 4);
	/* Every window of the demo opens a cycle above 1 while it lasts. */
	for (size_t k = 0; k < s->n_windows; k++) {
		struct sim_window *w = &s->windows[k];
		while (s->tick < w->tick + w->ticks / 2)
			sim__market_tick(s);
		assert_true(sim__cycle_product(s, w->assets, w->n) > 1.0);
	}
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_determinism),
	    cmocka_unit_test(test_books_sane_and_no_accidental_arbitrage),
	    cmocka_unit_test(test_scripted_window),
	    cmocka_unit_test(test_consume),
	    cmocka_unit_test(test_diff_side),
	    cmocka_unit_test(test_replay),
	    cmocka_unit_test(test_scenario_errors),
	    cmocka_unit_test(test_scripted_faults),
	    cmocka_unit_test(test_demo_windows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

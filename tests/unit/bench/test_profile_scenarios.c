/* The profiler's scenarios in-process, for correctness only (no timing is
 * asserted): every timed event is counted in every stage, the generated
 * book frames verify (a wrong checksum fails the scenario), the detector
 * emits opportunities on the price jumps, every cycle of the execution spike
 * fills, the reconnect storm recovers after each drop, and the hot-path
 * stages make no heap call after warm-up where the build counts them. Bad
 * options and files are errors naming what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/profile.h"
#include "core/alloc_count.h"

static struct prof_opts opts(uint64_t iterations)
{
	struct prof_opts o = {.iterations = iterations,
			      .drops = 2,
			      .max_seconds = 30,
			      .universe_path = TEST_DATA_DIR "/universe/kraken_like.tsv",
			      .sim_scenario = TEST_DATA_DIR "/sim/basic.json",
			      .seed = 1};
	return o;
}

static void check_stages(const struct prof_scenario *sc, uint64_t events)
{
	assert_int_equal(sc->events, events);
	for (unsigned i = 0; i < sc->n_stages; i++) {
		const struct prof_stage *st = &sc->st[i];

		assert_int_equal(hist_count(&st->h), events);
		if (!st->hot_path)
			continue;
		if (!alloc_count_supported()) {
			assert_false(sc->allocs_measured);
			continue;
		}
		assert_int_equal(st->alloc_evts, events);
		if (st->alloc_sum != 0)
			fail_msg("%s/%s: %llu heap calls after warm-up", sc->name, st->name,
				 (unsigned long long)st->alloc_sum);
	}
}

static void test_book_burst(void **state)
{
	struct prof_scenario *sc = calloc(1, sizeof(*sc));
	struct prof_opts o = opts(5000);
	struct err_info info = {0};

	(void)state;
	assert_non_null(sc);
	assert_int_equal(prof_book_burst(&o, sc, &info), 0);
	assert_string_equal(sc->name, "book_update_burst");
	assert_int_equal(sc->n_stages, 4);
	assert_string_equal(sc->st[0].name, "parse");
	assert_string_equal(sc->st[3].name, "e2e");
	check_stages(sc, 5000);
	/* 5,000 updates hold about ten price jumps: the detector emitted. */
	assert_non_null(strstr(sc->note, "305886 cycles"));
	assert_null(strstr(sc->note, " 0 opportunities"));
	printf("%s\n", sc->note);
	free(sc);
}

static void test_exec_spike(void **state)
{
	struct prof_scenario *sc = calloc(1, sizeof(*sc));
	struct prof_opts o = opts(1000);
	struct err_info info = {0};

	(void)state;
	assert_non_null(sc);
	assert_int_equal(prof_exec_spike(&o, sc, &info), 0);
	assert_int_equal(sc->n_stages, 3);
	check_stages(sc, 1000);
	/* Warm-up included: 1,256 cycles of three filled orders. */
	assert_non_null(strstr(sc->note, "1256 cycles, 3768 orders filled"));
	free(sc);
}

static void test_reconnect(void **state)
{
	struct prof_scenario *sc = calloc(1, sizeof(*sc));
	struct prof_opts o = opts(1);
	struct err_info info = {0};

	(void)state;
	assert_non_null(sc);
	assert_int_equal(prof_reconnect(&o, sc, &info), 0);
	assert_int_equal(sc->n_stages, 2);
	check_stages(sc, 2);
	assert_false(sc->cpu_scaled);
	/* recover ends after reopen, for every drop. */
	assert_true(hist_min(&sc->st[1].h) >= hist_min(&sc->st[0].h));
	assert_non_null(strstr(sc->note, "6 books"));
	free(sc);
}

static void test_bad_inputs(void **state)
{
	struct prof_scenario *sc = calloc(1, sizeof(*sc));
	struct prof_opts o = opts(10);
	struct err_info info = {0};
	char path[] = "/tmp/prof-universe-XXXXXX";
	int fd;
	FILE *f;

	(void)state;
	assert_non_null(sc);
	o.universe_path = "/nonexistent/universe.tsv";
	assert_true(prof_book_burst(&o, sc, &info) < 0);
	assert_non_null(strstr(info.msg, "/nonexistent/universe.tsv"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("BTC/USD\tBTC\tUSD\tonline\t1\t8\t5\t0.1\t0.00000001\t0.0001\t0.5\n", f);
	fclose(f);
	o.universe_path = path;
	memset(&info, 0, sizeof(info));
	assert_int_equal(prof_book_burst(&o, sc, &info), ERR_PARSE);
	assert_non_null(strstr(info.msg, "line 1: 11 columns"));
	unlink(path);
	o = opts(10);
	o.sim_scenario = "/nonexistent/scenario.json";
	memset(&info, 0, sizeof(info));
	assert_true(prof_reconnect(&o, sc, &info) != 0);
	assert_true(info.msg[0] != '\0');
	assert_null(prof_scenario_find("nope"));
	assert_true(prof_scenario_find("execution_spike") == prof_exec_spike);
	free(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_book_burst),
	    cmocka_unit_test(test_exec_spike),
	    cmocka_unit_test(test_reconnect),
	    cmocka_unit_test(test_bad_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

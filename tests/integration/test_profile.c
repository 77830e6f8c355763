/* arbitrade profile: every scenario runs for real (the reconnect storm
 * against an in-process simulator on 127.0.0.1) and writes the result JSON
 * with every stage's statistics; the hot path makes no heap call after
 * warm-up (asserted only where the build counts allocations: not under
 * ASan, which the output then says); profile check passes against a
 * baseline made from the same run, fails with exit 1 against one ten times
 * faster, and exits 2 on bad files, naming the key. No timing is asserted:
 * the comparisons that pass compare a run with itself (ratio 1) or use
 * limits of 1000x. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bench/profile.h"
#include "integration/harness.h"

static char *env[] = {"PATH=/usr/bin:/bin", "LOG_LEVEL=warn", NULL};
static char tmp[256];
static char result[300], baseline[300], generous[300], strict[300];

#define ITERS "2000"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 16];

	assert_non_null(f);
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int run(struct h_proc *p, char *const argv[])
{
	int rc = h_run(p, tmp, argv, env, NULL, 240000);

	printf("$ %s %s ... -> %d\n%s\n", argv[1], argv[2], rc, p->out);
	return rc;
}

static int setup(void **state)
{
	(void)state;
	if (h_tmpdir(tmp, sizeof(tmp)) != 0)
		return -1;
	snprintf(result, sizeof(result), "%s/result.json", tmp);
	snprintf(baseline, sizeof(baseline), "%s/baseline.json", tmp);
	snprintf(generous, sizeof(generous), "%s/generous.json", tmp);
	write_file(generous, "{\"version\":1,\"runs\":1,\"defaults\":{\"p50_max_ratio\":1000,"
			     "\"p99_max_ratio\":1000,\"throughput_min_ratio\":0.001}}\n");
	/* The committed limits, with the exact allocation checks. */
	snprintf(strict, sizeof(strict), "%s/ops/performance/latency_thresholds.json",
		 TEST_DATA_DIR "/../..");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rmrf(tmp);
	return 0;
}

static const struct {
	const char *scenario, *stage;
	bool per_iteration; /* count == --iterations */
} want[] = {
    {"book_update_burst", "parse", true},  {"book_update_burst", "apply", true},
    {"book_update_burst", "detect", true}, {"book_update_burst", "e2e", true},
    {"execution_spike", "risk", true},	   {"execution_spike", "submit_place", true},
    {"execution_spike", "cycle", true},	   {"reconnect_storm", "reopen", false},
    {"reconnect_storm", "recover", false},
};

static void test_profile_all(void **state)
{
	char *argv[] = {ARBITRADE_BIN,
			"profile",
			"--scenario",
			"all",
			"--iterations",
			ITERS,
			"--drops",
			"2",
			"--universe",
			TEST_DATA_DIR "/universe/kraken_like.tsv",
			"--sim-scenario",
			TEST_DATA_DIR "/sim/basic.json",
			"--output",
			result,
			NULL};
	struct h_proc p;
	struct prof_summary s;
	struct err_info info = {0};
	size_t len;
	char *json;
	bool counting;

	(void)state;
	assert_int_equal(run(&p, argv), 0);
	/* The readable table. */
	assert_non_null(strstr(p.out, "p50 ns"));
	assert_non_null(strstr(p.out, "allocs/event"));
	json = read_file(result, &len);
	assert_non_null(strstr(json, "\"tool\":\"arbitrade profile\""));
	counting = strstr(json, "\"alloc_counting\":true") != NULL;
	assert_true(counting || strstr(json, "\"alloc_counting\":false"));
	assert_int_equal(prof_parse_result(json, len, &s, &info), 0);
	assert_int_equal(s.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct prof_stat *st = prof_find(&s, want[i].scenario, want[i].stage);

		if (!st)
			fail_msg("%s/%s missing from the result", want[i].scenario, want[i].stage);
		if (want[i].per_iteration)
			assert_int_equal(st->count, 2000);
		else
			assert_int_equal(st->count, 2);
		assert_true(st->p50 > 0 && st->p50 <= st->p90 && st->p90 <= st->p99 &&
			    st->p99 <= st->max);
		assert_true(st->throughput > 0);
		assert_int_equal(st->hot_path, want[i].per_iteration);
		if (!st->hot_path)
			continue;
		if (!counting) {
			printf("%s/%s: allocation counting unavailable in this build (ASan): "
			       "the zero-allocation assertion is skipped\n",
			       st->scenario, st->stage);
			assert_false(st->allocs_measured);
			continue;
		}
		assert_true(st->allocs_measured);
		if (st->allocs != 0 || st->allocs_per_event != 0)
			fail_msg("%s/%s: %.0f heap calls after warm-up on the hot path",
				 st->scenario, st->stage, st->allocs);
	}
	if (!counting)
		assert_non_null(strstr(p.out, "allocations: not measured"));
}

/* Runs after test_profile_all (the result file). */
static void test_check_same_run(void **state)
{
	char *update[] = {ARBITRADE_BIN, "profile",	      "check", "--baseline",
			  baseline,	 "--thresholds",      strict,  "--input",
			  result,	 "--update-baseline", NULL};
	char *same[] = {ARBITRADE_BIN,	"profile", "check",   "--baseline", baseline,
			"--thresholds", strict,	   "--input", result,	    NULL};
	struct h_proc p;
	struct prof_summary b;
	struct err_info info = {0};
	size_t len;
	char *text;

	(void)state;
	assert_int_equal(run(&p, update), 0);
	text = read_file(baseline, &len);
	assert_int_equal(prof_parse_baseline(text, len, &b, &info), 0);
	assert_int_equal(b.n, sizeof(want) / sizeof(want[0]));
	/* The same numbers against themselves: every ratio is 1. */
	assert_int_equal(run(&p, same), 0);
	assert_non_null(strstr(p.out, "PASS book_update_burst/e2e"));
	assert_non_null(strstr(p.out, "profile check: PASS"));
	assert_null(strstr(p.out, "FAIL"));
}

/* The check running the scenarios itself, with limits of 1000x. */
static void test_check_live_run(void **state)
{
	char *argv[] = {ARBITRADE_BIN,
			"profile",
			"check",
			"--baseline",
			baseline,
			"--thresholds",
			generous,
			"--iterations",
			ITERS,
			"--drops",
			"2",
			"--universe",
			TEST_DATA_DIR "/universe/kraken_like.tsv",
			"--sim-scenario",
			TEST_DATA_DIR "/sim/basic.json",
			NULL};
	struct h_proc p;

	(void)state;
	assert_int_equal(run(&p, argv), 0);
	assert_non_null(strstr(p.out, "median of 1 runs"));
	assert_non_null(strstr(p.out, "PASS reconnect_storm/recover"));
}

/* A baseline ten times faster than the run: exit 1, FAIL lines. */
static void test_check_doctored(void **state)
{
	char doctored[320];
	char *argv[] = {ARBITRADE_BIN,	"profile", "check",   "--baseline", doctored,
			"--thresholds", strict,	   "--input", result,	    NULL};
	struct h_proc p;
	struct prof_summary b;
	struct err_info info = {0};
	size_t len;
	char *text;
	FILE *f;

	(void)state;
	text = read_file(baseline, &len);
	assert_int_equal(prof_parse_baseline(text, len, &b, &info), 0);
	for (unsigned i = 0; i < b.n; i++) {
		b.s[i].p50 /= 10;
		b.s[i].p99 /= 10;
		b.s[i].throughput *= 10;
	}
	snprintf(doctored, sizeof(doctored), "%s/doctored.json", tmp);
	f = fopen(doctored, "w");
	assert_non_null(f);
	assert_int_equal(prof_write_baseline(f, &b, 5, 2000), 0);
	fclose(f);
	assert_int_equal(run(&p, argv), 1);
	assert_non_null(strstr(p.out, "FAIL book_update_burst/parse"));
	assert_non_null(strstr(p.out, "profile check: FAIL"));
}

/* Bad files: exit 2 and the key named. */
static void test_check_bad_files(void **state)
{
	char bad_t[320], bad_b[320], missing[320];
	char *t_argv[] = {ARBITRADE_BIN,  "profile", "check",	"--baseline", baseline,
			  "--thresholds", bad_t,     "--input", result,	      NULL};
	char *b_argv[] = {ARBITRADE_BIN,  "profile", "check",	"--baseline", bad_b,
			  "--thresholds", strict,    "--input", result,	      NULL};
	char *m_argv[] = {ARBITRADE_BIN,  "profile", "check",	"--baseline", missing,
			  "--thresholds", strict,    "--input", result,	      NULL};
	struct h_proc p;

	(void)state;
	snprintf(bad_t, sizeof(bad_t), "%s/bad_thresholds.json", tmp);
	snprintf(bad_b, sizeof(bad_b), "%s/bad_baseline.json", tmp);
	snprintf(missing, sizeof(missing), "%s/no_such_baseline.json", tmp);
	write_file(bad_t, "{\"version\":1,\"defaults\":{\"p50_max_ratio\":3}}\n");
	assert_int_equal(run(&p, t_argv), 2);
	assert_non_null(strstr(p.out, "key runs is missing"));
	write_file(bad_t, "{\"version\":1,\"runs\":5,\"defaults\":{\"p50_ratio\":3}}\n");
	assert_int_equal(run(&p, t_argv), 2);
	assert_non_null(strstr(p.out, "unknown key defaults.p50_ratio"));
	write_file(bad_b, "{\"version\":1,\"scenarios\":{\"book_update_burst\":{\"parse\":"
			  "{\"p50\":400,\"throughput\":1}}}}\n");
	assert_int_equal(run(&p, b_argv), 2);
	assert_non_null(strstr(p.out, "scenarios.book_update_burst.parse.p99 is missing"));
	write_file(bad_b, "not json\n");
	assert_int_equal(run(&p, b_argv), 2);
	assert_non_null(strstr(p.out, "not a JSON object"));
	assert_int_equal(run(&p, m_argv), 2);
	assert_non_null(strstr(p.out, "no_such_baseline.json"));
}

/* The subcommand that was there before still works. */
static void test_gen_book_stream(void **state)
{
	char out[320];
	char *argv[] = {ARBITRADE_BIN, "profile", "gen-book-stream", "--out", out,
			"--messages",  "100",	  "--pairs",	     "3",     NULL};
	struct h_proc p;
	size_t len;

	(void)state;
	snprintf(out, sizeof(out), "%s/stream.jsonl", tmp);
	assert_int_equal(run(&p, argv), 0);
	assert_non_null(strstr(read_file(out, &len), "\"channel\":\"book\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_profile_all),	    cmocka_unit_test(test_check_same_run),
	    cmocka_unit_test(test_check_live_run),  cmocka_unit_test(test_check_doctored),
	    cmocka_unit_test(test_check_bad_files), cmocka_unit_test(test_gen_book_stream),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

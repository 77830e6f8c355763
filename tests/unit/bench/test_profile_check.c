/* The regression check of `arbitrade profile check` (bench/profile.h):
 * medians, the result / baseline / thresholds files, and the ratio
 * comparison, with planted numbers only: nothing here depends on timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/profile.h"

static const char thresholds_ok[] =
    "{\"version\":1,\"runs\":5,\"iterations\":1000,\n"
    " \"defaults\":{\"p50_max_ratio\":3.0,\"p99_max_ratio\":5.0,\"throughput_min_ratio\":0.33},\n"
    " \"stages\":{\"book_update_burst/parse\":{\"allocs_per_event_max\":0},\n"
    "   \"reconnect_storm/recover\":{\"p50_max_ratio\":5,\"p99_max_ratio\":10}}}\n";

static const char baseline_ok[] =
    "{\"version\":1,\"runs\":5,\"iterations\":1000,\"scenarios\":{\n"
    " \"book_update_burst\":{\"parse\":{\"p50\":400,\"p99\":700,\"throughput\":2000000},\n"
    "                        \"e2e\":{\"p50\":1000,\"p99\":4000,\"throughput\":800000}},\n"
    " \"reconnect_storm\":{\"recover\":{\"p50\":50000000,\"p99\":200000000,\"throughput\":12.5}}}}"
    "\n";

static struct prof_stat stat_of(const char *sc, const char *st, double p50, double p99, double tp)
{
	struct prof_stat s;

	memset(&s, 0, sizeof(s));
	snprintf(s.scenario, sizeof(s.scenario), "%s", sc);
	snprintf(s.stage, sizeof(s.stage), "%s", st);
	s.count = 1000;
	s.p50 = p50;
	s.p90 = (p50 + p99) / 2;
	s.p99 = p99;
	s.max = p99 * 2;
	s.throughput = tp;
	s.hot_path = true;
	s.allocs_measured = true;
	return s;
}

/* The current run equal to baseline_ok. */
static void current(struct prof_summary *c)
{
	memset(c, 0, sizeof(*c));
	c->s[c->n++] = stat_of("book_update_burst", "parse", 400, 700, 2000000);
	c->s[c->n++] = stat_of("book_update_burst", "e2e", 1000, 4000, 800000);
	c->s[c->n++] = stat_of("reconnect_storm", "recover", 50000000, 200000000, 12.5);
	c->s[2].hot_path = false;
}

static void load(struct prof_summary *b, struct prof_thresholds *t)
{
	struct err_info info = {0};

	assert_int_equal(prof_parse_baseline(baseline_ok, strlen(baseline_ok), b, &info), 0);
	assert_int_equal(prof_parse_thresholds(thresholds_ok, strlen(thresholds_ok), t, &info), 0);
}

static void test_median(void **state)
{
	double odd[] = {5, 1, 9, 3, 7}, even[] = {4, 1, 3, 2}, one[] = {42};

	(void)state;
	assert_true(prof_median(odd, 5) == 5.0);
	assert_true(prof_median(even, 4) == 2.5);
	assert_true(prof_median(one, 1) == 42.0);
}

/* A noisy neighbour in one run moves the median little; one allocation in
 * any run is kept (the worst run, not the median). */
static void test_median_runs(void **state)
{
	static const double p50[5] = {100, 101, 5000, 99, 102};
	struct prof_summary *runs = calloc(5, sizeof(*runs)), med;

	(void)state;
	assert_non_null(runs);
	for (int r = 0; r < 5; r++) {
		runs[r].s[runs[r].n++] = stat_of("a", "x", p50[r], p50[r] * 3, 1e6 / p50[r]);
		runs[r].s[runs[r].n++] = stat_of("a", "only_first", 1, 1, 1);
		if (r)
			runs[r].n = 1; /* "only_first" is missing from the later runs */
	}
	runs[3].s[0].allocs = 2;
	runs[3].s[0].allocs_per_event = 0.002;
	prof_median_runs(runs, 5, &med);
	assert_int_equal(med.n, 1);
	assert_string_equal(med.s[0].stage, "x");
	assert_true(med.s[0].p50 == 101);
	assert_true(med.s[0].p99 == 303);
	assert_true(med.s[0].allocs == 2);
	assert_true(med.s[0].allocs_per_event == 0.002);
	assert_true(med.s[0].allocs_measured);
	runs[1].s[0].allocs_measured = false;
	prof_median_runs(runs, 5, &med);
	assert_false(med.s[0].allocs_measured);
	free(runs);
}

static void test_parse_thresholds(void **state)
{
	struct prof_thresholds t;
	struct err_info info = {0};
	const struct prof_limit *l;

	(void)state;
	assert_int_equal(prof_parse_thresholds(thresholds_ok, strlen(thresholds_ok), &t, &info), 0);
	assert_int_equal(t.runs, 5);
	assert_int_equal(t.iterations, 1000);
	assert_true(t.def.p50_max_ratio == 3.0 && t.def.throughput_min_ratio == 0.33);
	assert_false(t.def.check_allocs);
	l = prof_limit_for(&t, "book_update_burst", "parse");
	assert_true(l->check_allocs && l->allocs_max == 0);
	assert_true(l->p50_max_ratio == 3.0 && l->p99_max_ratio == 5.0); /* inherited */
	l = prof_limit_for(&t, "reconnect_storm", "recover");
	assert_true(l->p50_max_ratio == 5.0 && l->p99_max_ratio == 10.0);
	assert_true(l->throughput_min_ratio == 0.33);
	assert_false(l->check_allocs);
	assert_ptr_equal(prof_limit_for(&t, "book_update_burst", "e2e"), &t.def);
	assert_ptr_equal(prof_limit_for(&t, "book_update_burs", "parse"), &t.def);
}

/* Each bad file names what is wrong. */
static void expect_bad_thresholds(const char *text, int code, const char *needle)
{
	struct prof_thresholds t;
	struct err_info info = {0};
	int rc = prof_parse_thresholds(text, strlen(text), &t, &info);

	if (rc != code || !strstr(info.msg, needle))
		fail_msg("%s: got %d \"%s\", want %d naming %s", text, rc, info.msg, code, needle);
}

static void test_bad_thresholds(void **state)
{
	(void)state;
	expect_bad_thresholds("", ERR_PARSE, "not a JSON object");
	expect_bad_thresholds("{\"version\":1,\"runs\":5", ERR_PARSE, "not a JSON object");
	expect_bad_thresholds("{\"runs\":5,\"defaults\":{}}", ERR_SCHEMA, "version");
	expect_bad_thresholds("{\"version\":2,\"runs\":5,\"defaults\":{}}", ERR_SCHEMA, "version");
	expect_bad_thresholds("{\"version\":1,\"defaults\":{}}", ERR_SCHEMA, "key runs is missing");
	expect_bad_thresholds("{\"version\":1,\"runs\":0,\"defaults\":{}}", ERR_RANGE, "runs");
	expect_bad_thresholds("{\"version\":1,\"runs\":\"5\",\"defaults\":{}}", ERR_SCHEMA,
			      "key runs is not a number");
	expect_bad_thresholds("{\"version\":1,\"runs\":5}", ERR_SCHEMA, "defaults");
	expect_bad_thresholds("{\"version\":1,\"runs\":5,\"defaults\":{\"p50_max\":3}}", ERR_SCHEMA,
			      "unknown key defaults.p50_max");
	expect_bad_thresholds("{\"version\":1,\"runs\":5,\"defaults\":{\"p99_max_ratio\":-1}}",
			      ERR_RANGE, "defaults.p99_max_ratio");
	expect_bad_thresholds(
	    "{\"version\":1,\"runs\":5,\"defaults\":{},\"stages\":{\"parse\":{}}}", ERR_SCHEMA,
	    "stages.parse");
	expect_bad_thresholds("{\"version\":1,\"runs\":5,\"defaults\":{},"
			      "\"stages\":{\"a/b\":{\"allocs_per_event_max\":null}}}",
			      ERR_SCHEMA, "stages.a/b.allocs_per_event_max");
}

static void expect_bad_baseline(const char *text, int code, const char *needle)
{
	struct prof_summary b;
	struct err_info info = {0};
	int rc = prof_parse_baseline(text, strlen(text), &b, &info);

	if (rc != code || !strstr(info.msg, needle))
		fail_msg("%s: got %d \"%s\", want %d naming %s", text, rc, info.msg, code, needle);
}

static void test_parse_baseline(void **state)
{
	struct prof_summary b;
	struct err_info info = {0};
	const struct prof_stat *s;

	(void)state;
	assert_int_equal(prof_parse_baseline(baseline_ok, strlen(baseline_ok), &b, &info), 0);
	assert_int_equal(b.n, 3);
	s = prof_find(&b, "reconnect_storm", "recover");
	assert_non_null(s);
	assert_true(s->p50 == 50000000 && s->p99 == 200000000 && s->throughput == 12.5);
	assert_null(prof_find(&b, "reconnect_storm", "parse"));
	expect_bad_baseline("[]", ERR_PARSE, "not a JSON object");
	expect_bad_baseline("{\"version\":1}", ERR_SCHEMA, "key scenarios is missing");
	expect_bad_baseline("{\"version\":1,\"scenarios\":{}}", ERR_SCHEMA, "no stage");
	expect_bad_baseline(
	    "{\"version\":1,\"scenarios\":{\"s\":{\"x\":{\"p50\":1,\"throughput\":2}}}}",
	    ERR_SCHEMA, "key scenarios.s.x.p99 is missing");
	expect_bad_baseline(
	    "{\"version\":1,\"scenarios\":{\"s\":{\"x\":{\"p50\":1,\"p99\":\"fast\","
	    "\"throughput\":2}}}}",
	    ERR_SCHEMA, "scenarios.s.x.p99 is not a number");
	expect_bad_baseline(
	    "{\"version\":1,\"scenarios\":{\"s\":{\"x\":{\"p50\":-1,\"p99\":1,\"throughput\":2}}}}",
	    ERR_RANGE, "scenarios.s.x");
	expect_bad_baseline("{\"version\":1,\"scenarios\":{\"s\":[1]}}", ERR_SCHEMA,
			    "scenarios.s is not an object");
}

static void test_compare_pass(void **state)
{
	struct prof_summary b, c;
	struct prof_thresholds t;

	(void)state;
	load(&b, &t);
	current(&c);
	assert_int_equal(prof_compare(&b, &c, &t, stdout), 0);
	/* Inside the limits: p50 2.9x, p99 4.9x, throughput 0.34x. */
	c.s[0].p50 = 400 * 2.9;
	c.s[0].p99 = 700 * 4.9;
	c.s[0].throughput = 2000000 * 0.34;
	assert_int_equal(prof_compare(&b, &c, &t, NULL), 0);
}

/* A planted regression fails, one comparison each. */
static void test_compare_regressions(void **state)
{
	struct prof_summary b, c;
	struct prof_thresholds t;

	(void)state;
	load(&b, &t);
	current(&c);
	c.s[0].p50 = 400 * 3.1;
	assert_int_equal(prof_compare(&b, &c, &t, stdout), 1);
	current(&c);
	c.s[1].p99 = 4000 * 5.5;
	assert_int_equal(prof_compare(&b, &c, &t, NULL), 1);
	current(&c);
	c.s[1].throughput = 800000 * 0.3;
	assert_int_equal(prof_compare(&b, &c, &t, NULL), 1);
	/* reconnect's own limits: 4.9x passes there, 5.1x does not. */
	current(&c);
	c.s[2].p50 = 50000000 * 4.9;
	assert_int_equal(prof_compare(&b, &c, &t, NULL), 0);
	c.s[2].p50 = 50000000 * 5.1;
	assert_int_equal(prof_compare(&b, &c, &t, NULL), 1);
	/* Everything 10x slower: p50, p99 and throughput of all three. */
	current(&c);
	for (unsigned i = 0; i < c.n; i++) {
		c.s[i].p50 *= 10;
		c.s[i].p99 *= 11;
		c.s[i].throughput /= 10;
	}
	assert_int_equal(prof_compare(&b, &c, &t, stdout), 9);
}

/* Allocations are exact: one heap call after warm-up fails; not measured
 * (ASan) is skipped, not passed as zero; a stage gone missing fails. */
static void test_compare_allocs_and_missing(void **state)
{
	struct prof_summary b, c;
	struct prof_thresholds t;

	(void)state;
	load(&b, &t);
	current(&c);
	c.s[0].allocs = 1;
	c.s[0].allocs_per_event = 1.0 / 1000;
	assert_int_equal(prof_compare(&b, &c, &t, stdout), 1);
	c.s[0].allocs_measured = false;
	assert_int_equal(prof_compare(&b, &c, &t, stdout), 0);
	/* e2e has no allocation limit: its heap calls are not compared. */
	current(&c);
	c.s[1].allocs = 5;
	c.s[1].allocs_per_event = 0.005;
	assert_int_equal(prof_compare(&b, &c, &t, NULL), 0);
	current(&c);
	c.n = 2; /* reconnect_storm/recover missing */
	assert_int_equal(prof_compare(&b, &c, &t, stdout), 1);
	/* A stage only in the run is new, not a failure. */
	current(&c);
	c.s[c.n++] = stat_of("book_update_burst", "new_stage", 1, 1, 1);
	assert_int_equal(prof_compare(&b, &c, &t, stdout), 0);
}

/* What prof_write_result and prof_write_baseline write reads back. */
static void test_round_trip(void **state)
{
	struct prof_scenario *sc = calloc(2, sizeof(*sc));
	struct prof_summary sum, back, base;
	struct err_info info = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(sc);
	snprintf(sc[0].name, sizeof(sc[0].name), "book_update_burst");
	snprintf(sc[0].note, sizeof(sc[0].note), "planted");
	sc[0].cpu_scaled = true;
	sc[0].allocs_measured = true;
	sc[0].wall_ns = 2000;
	sc[0].cpu_ns = 1000; /* half the time preempted: CPU throughput is twice wall */
	prof__stage(&sc[0], "parse", true);
	for (int i = 1; i <= 100; i++)
		prof__record(&sc[0].st[0], (uint64_t)i * 10, 0, i > 10);
	snprintf(sc[1].name, sizeof(sc[1].name), "reconnect_storm");
	prof__stage(&sc[1], "recover", false);
	prof__record(&sc[1].st[0], 50000000, 7, true);
	prof_summarize(sc, 2, &sum);
	assert_int_equal(sum.n, 2);
	assert_true(sum.s[0].p50 >= 490 && sum.s[0].p50 <= 510);
	assert_true(sum.s[0].max == 1000);
	/* 100 events in 50,500 ns of wall, scaled by cpu/wall = 0.5. */
	assert_true(sum.s[0].throughput > 3.96e6 && sum.s[0].throughput < 3.97e6);
	assert_true(sum.s[0].allocs_measured && sum.s[0].allocs == 0);
	assert_false(sum.s[1].allocs_measured); /* the scenario said not measured */

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(prof_write_result(f, sc, 2, 100), 0);
	fclose(f);
	assert_int_equal(prof_parse_result(buf, len, &back, &info), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.s[1].scenario, "reconnect_storm");
	assert_true(back.s[0].p50 == sum.s[0].p50 && back.s[0].p99 == sum.s[0].p99);
	assert_true(back.s[0].allocs_measured && back.s[0].hot_path);
	assert_false(back.s[1].allocs_measured);
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(prof_write_baseline(f, &sum, 5, 100), 0);
	fclose(f);
	assert_int_equal(prof_parse_baseline(buf, len, &base, &info), 0);
	assert_int_equal(base.n, 2);
	assert_true(base.s[1].p50 == 50000000);
	free(buf);
	free(sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_median),
	    cmocka_unit_test(test_median_runs),
	    cmocka_unit_test(test_parse_thresholds),
	    cmocka_unit_test(test_bad_thresholds),
	    cmocka_unit_test(test_parse_baseline),
	    cmocka_unit_test(test_compare_pass),
	    cmocka_unit_test(test_compare_regressions),
	    cmocka_unit_test(test_compare_allocs_and_missing),
	    cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

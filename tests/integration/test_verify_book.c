/* arbitrade verify-book against the Kraken checksum vectors (files built from
 * tests/data/kraken/vectors.json by make_verify_files.py) and against a
 * generated stream from `arbitrade profile gen-book-stream`: the real binary,
 * its JSON summary and its exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "integration/harness.h"

static char *env[] = {"PATH=/usr/bin:/bin", "LOG_LEVEL=warn", NULL};
static char tmp[256];

static int run(struct h_proc *p, char *const argv[])
{
	return h_run(p, tmp, argv, env, NULL, 120000);
}

/* The JSON summary line of the output (stdout and stderr are merged). */
static const char *summary(const struct h_proc *p)
{
	const char *s = strstr(p->out, "{\"messages\":");
	assert_non_null(s);
	return s;
}

/* The unsigned number after "key": in s; fails the test if absent. */
static uint64_t field(const char *s, const char *key)
{
	char pat[64];
	const char *at;
	char *end;
	unsigned long long v;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	at = strstr(s, pat);
	if (!at)
		fail_msg("no %s in %s", key, s);
	v = strtoull(at + strlen(pat), &end, 10);
	assert_true(end != at + strlen(pat));
	return (uint64_t)v;
}

static void data_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/kraken/%s", TEST_DATA_DIR, name);
}

/* The book page's MATIC/USD snapshot and update, as printed (trailing zeros
 * dropped, no instrument data): 2439117997 then 2114181697 reproduce only at
 * the inferred 4/8 decimals. */
static void test_matic_vectors(void **state)
{
	struct h_proc p;
	char path[512];
	const char *s;

	(void)state;
	data_path(path, sizeof(path), "verify_matic.jsonl");
	char *argv[] = {ARBITRADE_BIN, "verify-book", path, NULL};
	assert_int_equal(run(&p, argv), 0);
	s = summary(&p);
	assert_int_equal(field(s, "messages"), 2);
	assert_int_equal(field(s, "symbols"), 1);
	assert_int_equal(field(s, "snapshots"), 1);
	assert_int_equal(field(s, "updates"), 1);
	assert_int_equal(field(s, "checksum_ok"), 2);
	assert_int_equal(field(s, "checksum_mismatch"), 0);
	assert_int_equal(field(s, "parse_errors"), 0);
	assert_int_equal(field(s, "precision_inferred"), 1);
	assert_non_null(strstr(s, "\"first_mismatch\":null"));
	assert_non_null(strstr(p.out, "inferred price_precision 4, qty_precision 8"));
	assert_non_null(strstr(s, "\"latency_ns\":{\"p50\":"));
}

/* Every vector in one recording with the instrument channel, acks and
 * heartbeats: the three level-2 books and the level3 example's per-order
 * checksum (at BTC/USD's precisions from the instrument message). */
static void test_all_vectors_recorded(void **state)
{
	struct h_proc p;
	char path[512];
	const char *s;

	(void)state;
	data_path(path, sizeof(path), "verify_vectors.jsonl");
	char *argv[] = {ARBITRADE_BIN, "verify-book", path, NULL};
	assert_int_equal(run(&p, argv), 0);
	s = summary(&p);
	assert_int_equal(field(s, "messages"), 11);
	assert_int_equal(field(s, "decoded"), 11);
	assert_int_equal(field(s, "symbols"), 3);
	assert_int_equal(field(s, "snapshots"), 3);
	assert_int_equal(field(s, "updates"), 1);
	assert_int_equal(field(s, "checksum_ok"), 5);
	assert_int_equal(field(s, "level3_snapshots"), 1);
	assert_int_equal(field(s, "checksum_mismatch"), 0);
	assert_int_equal(field(s, "parse_errors"), 0);
	/* BTC/USD comes from the instrument message; MATIC and the v1 book
	 * are inferred. */
	assert_int_equal(field(s, "precision_inferred"), 2);
	assert_null(strstr(p.out, "for BTC/USD"));
}

/* The level3 example alone: precisions inferred from its decimals. */
static void test_level3_alone(void **state)
{
	struct h_proc p;
	char path[512];
	const char *s;

	(void)state;
	data_path(path, sizeof(path), "verify_level3.jsonl");
	char *argv[] = {ARBITRADE_BIN, "verify-book", path, NULL};
	assert_int_equal(run(&p, argv), 0);
	s = summary(&p);
	assert_int_equal(field(s, "level3_snapshots"), 1);
	assert_int_equal(field(s, "checksum_ok"), 1);
	assert_int_equal(field(s, "checksum_mismatch"), 0);
	assert_non_null(strstr(p.out, "no instrument data for level3 BTC/USD"));
}

static void test_mismatch(void **state)
{
	struct h_proc p;
	char path[512];
	const char *s;

	(void)state;
	data_path(path, sizeof(path), "verify_mismatch.jsonl");
	char *argv[] = {ARBITRADE_BIN, "verify-book", path, NULL};
	assert_int_equal(run(&p, argv), 1);
	s = summary(&p);
	assert_int_equal(field(s, "checksum_ok"), 1);
	assert_int_equal(field(s, "checksum_mismatch"), 1);
	assert_non_null(strstr(s, "\"first_mismatch\":{\"line\":2,\"symbol\":\"MATIC/USD\"}"));
}

static void test_unusable_input(void **state)
{
	struct h_proc p;
	char path[512], missing[600];

	(void)state;
	data_path(path, sizeof(path), "verify_garbage.txt");
	char *argv[] = {ARBITRADE_BIN, "verify-book", path, NULL};
	assert_int_equal(run(&p, argv), 2);
	assert_non_null(strstr(p.out, "no line is a Kraken v2 message"));
	assert_null(strstr(p.out, "{\"messages\":"));

	snprintf(missing, sizeof(missing), "%s/does-not-exist.jsonl", tmp);
	char *argv2[] = {ARBITRADE_BIN, "verify-book", missing, NULL};
	assert_int_equal(run(&p, argv2), 2);
	assert_non_null(strstr(p.out, "No such file"));

	char *argv3[] = {ARBITRADE_BIN, "verify-book", path, "--depth", "7", NULL};
	assert_int_equal(run(&p, argv3), 2);
	assert_non_null(strstr(p.out, "--depth must be"));

	char *argv4[] = {ARBITRADE_BIN, "verify-book", NULL};
	assert_int_equal(run(&p, argv4), 2);
}

/* A line that is not JSON in the middle of a good file is counted, named
 * and survived; the books around it still verify. */
static void test_bad_line_survived(void **state)
{
	struct h_proc p;
	char src[512], path[600], buf[4096];
	FILE *in, *out;
	size_t n;
	const char *s;

	(void)state;
	data_path(src, sizeof(src), "verify_matic.jsonl");
	snprintf(path, sizeof(path), "%s/with-junk.jsonl", tmp);
	in = fopen(src, "r");
	out = fopen(path, "w");
	assert_non_null(in);
	assert_non_null(out);
	assert_non_null(fgets(buf, sizeof(buf), in));
	fputs(buf, out);
	fputs("{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\n", out);
	fputs("\n   \n", out);
	n = fread(buf, 1, sizeof(buf), in);
	fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	char *argv[] = {ARBITRADE_BIN, "verify-book", path, NULL};
	assert_int_equal(run(&p, argv), 0);
	s = summary(&p);
	assert_int_equal(field(s, "parse_errors"), 1);
	assert_int_equal(field(s, "checksum_ok"), 2);
	assert_non_null(strstr(p.out, "first at line 2"));
}

/* The generator and the verifier agree on every checksum, with no heap call
 * after warm-up, in both line formats and at depth 10 and 25. */
static void generated(const char *depth, bool raw)
{
	struct h_proc p;
	char path[512];
	const char *s;

	snprintf(path, sizeof(path), "%s/gen-%s-%d.jsonl", tmp, depth, raw);
	char *gen[] = {ARBITRADE_BIN,
		       "profile",
		       "gen-book-stream",
		       "--out",
		       path,
		       "--messages",
		       "30000",
		       "--pairs",
		       "20",
		       "--depth",
		       (char *)depth,
		       "--seed",
		       "7",
		       raw ? "--raw" : NULL,
		       NULL};
	assert_int_equal(run(&p, gen), 0);
	char *ver[] = {ARBITRADE_BIN, "verify-book", path, NULL};
	assert_int_equal(run(&p, ver), 0);
	s = summary(&p);
	assert_int_equal(field(s, "messages"), 30000);
	assert_int_equal(field(s, "symbols"), 20);
	assert_int_equal(field(s, "snapshots"), 20);
	assert_int_equal(field(s, "checksum_mismatch"), 0);
	assert_int_equal(field(s, "parse_errors"), 0);
	assert_int_equal(field(s, "unverified_updates"), 0);
	assert_int_equal(field(s, "precision_inferred"), 0);
	assert_int_equal(field(s, "checksum_ok"), field(s, "snapshots") + field(s, "updates"));
	assert_true(field(s, "updates") > 29000);
	if (!strstr(s, "\"allocations_after_warmup\":null"))
		assert_int_equal(field(s, "allocations_after_warmup"), 0);
}

static void test_generated_depth10(void **state)
{
	(void)state;
	generated("10", false);
}

static void test_generated_depth25_raw(void **state)
{
	(void)state;
	generated("25", true);
}

/* The same seed writes the same bytes; the depth of the file's acks is used
 * unless --depth says otherwise, and a wrong depth breaks the checksums. */
static void test_generated_deterministic_and_depth(void **state)
{
	struct h_proc p;
	char a[512], b[512], cmd[1200];

	(void)state;
	snprintf(a, sizeof(a), "%s/a.jsonl", tmp);
	snprintf(b, sizeof(b), "%s/b.jsonl", tmp);
	char *g1[] = {
	    ARBITRADE_BIN, "profile", "gen-book-stream", "--out", a,	    "--messages", "5000",
	    "--pairs",	   "21",      "--depth",	 "25",	  "--seed", "42",	  NULL};
	char *g2[] = {
	    ARBITRADE_BIN, "profile", "gen-book-stream", "--out", b,	    "--messages", "5000",
	    "--pairs",	   "21",      "--depth",	 "25",	  "--seed", "42",	  NULL};
	assert_int_equal(run(&p, g1), 0);
	assert_int_equal(run(&p, g2), 0);
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
	assert_int_equal(system(cmd), 0);

	char *v10[] = {ARBITRADE_BIN, "verify-book", a, "--depth", "10", NULL};
	assert_int_equal(run(&p, v10), 1);
	assert_true(field(summary(&p), "checksum_mismatch") > 0);
	char *v25[] = {ARBITRADE_BIN, "verify-book", a, "--depth", "25", NULL};
	assert_int_equal(run(&p, v25), 0);

	char *bad[] = {ARBITRADE_BIN, "profile", "gen-book-stream", "--out", a, "--pairs",
		       "0",	      NULL};
	assert_int_equal(run(&p, bad), 2);
}

static int setup(void **state)
{
	(void)state;
	return h_tmpdir(tmp, sizeof(tmp));
}

static int teardown(void **state)
{
	(void)state;
	h_rmrf(tmp);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matic_vectors),
	    cmocka_unit_test(test_all_vectors_recorded),
	    cmocka_unit_test(test_level3_alone),
	    cmocka_unit_test(test_mismatch),
	    cmocka_unit_test(test_unusable_input),
	    cmocka_unit_test(test_bad_line_survived),
	    cmocka_unit_test(test_generated_depth10),
	    cmocka_unit_test(test_generated_depth25_raw),
	    cmocka_unit_test(test_generated_deterministic_and_depth),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* bench: the envelope scanner, precision inference, the verifier's counting
 * rules and the generator, on in-memory buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_int.h"

static struct kr_view V(const char *s) {
	struct kr_view v = {s, strlen(s)};
	return v;
}

static bool
view_is(struct kr_view v, const char *s)
{
	return v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

static void test_line_message(void **state)
{
	struct kr_view m;
	const char *rec = "{\"recv_ts\":\"2026-01-01T00:00:00.000000001Z\",\"msg\":{\"channel\":"
			  "\"heartbeat\"}}\r";
	const char *spaced = " { \"recv_ts\" : \"x\" , \"msg\" : {\"a\": [1, {\"b\": \"}\"}]} } ";

	(void)state;
	assert_true(bench__line_message(rec, strlen(rec), &m));
	assert_true(view_is(m, "{\"channel\":\"heartbeat\"}"));
	assert_true(bench__line_message(spaced, strlen(spaced), &m));
	assert_true(view_is(m, "{\"a\": [1, {\"b\": \"}\"}]}"));
	assert_true(bench__line_message("{\"method\":\"pong\"}", 17, &m));
	assert_int_equal(m.len, 17);
	assert_false(bench__line_message("hello", 5, &m));
	assert_false(bench__line_message("[1,2]", 5, &m));
	assert_false(bench__line_message("{\"recv_ts\":\"x\",\"msg\":3}", 23, &m));
	assert_false(bench__line_message("{\"other\":1}", 11, &m));
	assert_false(bench__line_message("{\"recv_ts\":\"x\",\"msg\":{\"a\":", 26, &m));
	assert_false(bench__line_message("", 0, &m));
}

/* A recording line with a member after "msg": the fast layout check gives
 * a view the decoder refuses, the verifier retries with the full scan. */
static void test_member_after_msg(void **state)
{
	const char *line = "{\"recv_ts\":\"2026-01-01T00:00:00Z\",\"msg\":{\"channel\":"
			   "\"heartbeat\"},\"note\":{}}\n";
	struct bench_verify_opts vo = {.depth = 0, .notes = NULL};
	struct err_info info = {0};
	struct kr_view m;
	static struct bench_verify_result r;

	(void)state;
	assert_true(bench__line_message_slow(line, strlen(line), &m));
	assert_true(view_is(m, "{\"channel\":\"heartbeat\"}"));
	assert_int_equal(bench_verify(line, strlen(line), &vo, &r, &info), 0);
	assert_int_equal(r.decoded, 1);
	assert_int_equal(r.parse_errors, 0);
}

static void test_member_element(void **state)
{
	struct kr_view v;

	(void)state;
	assert_true(bench__member(V("{\"a\":1,\"b\":{\"c\":[true]}}"), "b", &v));
	assert_true(view_is(v, "{\"c\":[true]}"));
	assert_false(bench__member(V("{\"a\":1}"), "b", &v));
	assert_false(bench__member(V("{}"), "a", &v));
	assert_false(bench__member(V("{\"a\" 1}"), "a", &v));
	assert_true(bench__member(V("{\"a\\\"\":2,\"x\":3}"), "x", &v));
	assert_true(view_is(v, "3"));
	assert_true(bench__element(V("[10, \"s\", [1]]"), 2, &v));
	assert_true(view_is(v, "[1]"));
	assert_false(bench__element(V("[10]"), 1, &v));
	assert_false(bench__element(V("[]"), 0, &v));
	assert_int_equal(bench__skip_value("[1,[2,{\"k\":\"]\"}]]x", 18, 0), 17);
	assert_int_equal(bench__skip_value("[1,2}", 5, 0), 0);
	assert_int_equal(bench__skip_value("\"abc", 4, 0), 0);
}

static void test_decimals(void **state)
{
	(void)state;
	assert_int_equal(bench__decimals(V("0.5660")), 4);
	assert_int_equal(bench__decimals(V("45281.0")), 1);
	assert_int_equal(bench__decimals(V("\"0.00100000\"")), 8);
	assert_int_equal(bench__decimals(V("1e-08")), 8);
	assert_int_equal(bench__decimals(V("1.5E-3")), 4);
	assert_int_equal(bench__decimals(V("1.5e2")), 0);
	assert_int_equal(bench__decimals(V("12")), 0);
	assert_int_equal(bench__decimals(V("-3.25")), 2);
	assert_int_equal(bench__decimals(V("abc")), -1);
	assert_int_equal(bench__decimals(V("1.")), -1);
	assert_int_equal(bench__decimals(V("1e")), -1);
	assert_int_equal(bench__decimals(V("true")), -1);
}

static void test_infer(void **state)
{
	struct kr_view sym;
	int pp = -1, qp = -1;
	const char *snap =
	    "{\"channel\":\"book\",\"type\":\"snapshot\",\"data\":[{\"symbol\":"
	    "\"MATIC/USD\",\"bids\":[{\"price\":0.566,\"qty\":18097.1547},{\"price\":"
	    "0.5657,\"qty\":606.70854372}],\"asks\":[],\"checksum\":1,\"timestamp\":"
	    "\"2023-10-06T17:35:55.440295Z\"}]}";
	const char *upd = "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"X/Y\","
			  "\"bids\":[{\"price\":1.5,\"qty\":2}],\"asks\":[]}]}";

	(void)state;
	assert_true(bench__infer_precision(V(snap), &sym, &pp, &qp));
	assert_true(view_is(sym, "MATIC/USD"));
	assert_int_equal(pp, 4);
	assert_int_equal(qp, 8);
	assert_false(bench__infer_precision(V(upd), &sym, &pp, &qp));
	assert_false(bench__infer_precision(V("{\"channel\":\"heartbeat\"}"), &sym, &pp, &qp));
}

/* A generated stream in memory. */
static char *gen(const struct bench_gen_opts *o, size_t *len)
{
	struct bench_gen_stats st;
	struct err_info info = {0};
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(bench_gen_book_stream(f, o, &st, &info), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(st.messages, o->messages);
	assert_int_equal(st.snapshots, o->pairs);
	assert_int_equal(st.bytes, *len);
	return buf;
}

static struct bench_verify_result res;

static void test_generated_verifies(void **state)
{
	struct bench_gen_opts o = {.messages = 20000, .pairs = 22, .depth = 10, .seed = 3};
	struct bench_verify_opts vo = {.depth = 0, .notes = NULL};
	struct err_info info = {0};
	size_t len;
	char *buf = gen(&o, &len);

	(void)state;
	assert_int_equal(bench_verify(buf, len, &vo, &res, &info), 0);
	assert_int_equal(res.messages, 20000);
	assert_int_equal(res.decoded, 20000);
	assert_int_equal(res.symbols, 22);
	assert_int_equal(res.snapshots, 22);
	assert_int_equal(res.checksum_mismatch, 0);
	assert_int_equal(res.book_errors, 0);
	assert_int_equal(res.unverified, 0);
	assert_int_equal(res.parse_errors, 0);
	assert_int_equal(res.inferred, 0);
	assert_int_equal(res.checksum_ok, res.snapshots + res.updates);
	assert_int_equal(hist_count(&res.latency), 20000);
	assert_int_equal(res.warmup_messages, BENCH_WARMUP_MESSAGES);
	if (res.allocs_measured)
		assert_int_equal(res.allocs_after_warmup, 0);
	free(buf);
}

/* Find the n-th line (1-based) of buf. */
static char *nth_line(char *buf, unsigned n)
{
	char *p = buf;
	while (--n > 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	return p;
}

/* A wrong checksum is reported at its line; the book's later updates are
 * unverified (no new snapshot) and the other books still verify. */
static void test_corrupt_checksum(void **state)
{
	struct bench_gen_opts o = {.messages = 3000, .pairs = 20, .depth = 10, .seed = 9};
	struct bench_verify_opts vo = {.depth = 10, .notes = NULL};
	struct err_info info = {0};
	size_t len;
	char *buf = gen(&o, &len), *line, *ck, *nl;
	unsigned target = 100;

	(void)state;
	/* Line 100 is an update (after status, instrument, 20 acks, 20
	 * snapshots); flip its checksum's last digit. */
	line = nth_line(buf, target);
	nl = strchr(line, '\n');
	ck = strstr(line, "\"checksum\":");
	assert_non_null(ck);
	assert_true(ck < nl && strstr(line, "\"type\":\"update\"") < nl);
	ck += strlen("\"checksum\":");
	*ck = *ck == '1' ? '2' : '1';
	assert_int_equal(bench_verify(buf, len, &vo, &res, &info), 0);
	assert_int_equal(res.checksum_mismatch, 1);
	assert_int_equal(res.first_mismatch_line, target);
	assert_true(res.first_mismatch_symbol[0] != '\0');
	assert_true(res.unverified > 0);
	assert_int_equal(res.book_errors, 0);
	assert_int_equal(res.checksum_ok + res.checksum_mismatch, res.snapshots + res.updates);
	free(buf);
}

static void test_update_before_snapshot_and_errors(void **state)
{
	const char *text =
	    "{\"channel\":\"instrument\",\"type\":\"snapshot\",\"data\":{\"assets\":[],\"pairs\":[{"
	    "\"symbol\":\"BTC/USD\",\"base\":\"BTC\",\"quote\":\"USD\",\"status\":\"online\","
	    "\"price_precision\":1,\"price_increment\":0.1,\"qty_precision\":8,\"qty_increment\":"
	    "1e-08,\"qty_min\":0.0001,\"cost_min\":0.5,\"cost_precision\":5}]}}\n"
	    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"BTC/"
	    "USD\",\"bids\":[{"
	    "\"price\":45283.5,\"qty\":0.1}],\"asks\":[],\"checksum\":1,\"timestamp\":"
	    "\"2023-10-06T17:35:55.440295Z\"}]}\n"
	    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"BTC/"
	    "USD\",\"bids\":[{"
	    "\"price\":45283.55,\"qty\":0.1}],\"asks\":[],\"checksum\":1,\"timestamp\":"
	    "\"2023-10-06T17:35:55.440295Z\"}]}\n"
	    "not json\n";
	struct bench_verify_opts vo = {.depth = 0, .notes = NULL};
	struct err_info info = {0};

	(void)state;
	assert_int_equal(bench_verify(text, strlen(text), &vo, &res, &info), 0);
	assert_int_equal(res.lines, 4);
	assert_int_equal(res.messages, 3);
	assert_int_equal(res.decoded, 2);
	assert_int_equal(res.unverified, 1);
	assert_int_equal(res.checksum_ok + res.checksum_mismatch, 0);
	assert_int_equal(res.parse_errors, 2);
	/* 45283.55 has more decimals than BTC/USD's price precision */
	assert_int_equal(res.first_parse_error_line, 3);
	assert_non_null(strstr(res.first_parse_error, "price"));

	vo.depth = 7;
	assert_int_equal(bench_verify(text, strlen(text), &vo, &res, &info), ERR_INVALID);
	vo.depth = 0;
	assert_int_equal(bench_verify("x\ny\n", 4, &vo, &res, &info), ERR_PARSE);
	assert_int_equal(bench_verify("", 0, &vo, &res, &info), ERR_PARSE);
}

/* Reads a test data file into a buffer (the test frees it). */
static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/kraken/%s", TEST_DATA_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 64);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The level3 example's per-order checksum: as documented, with one order's
 * quantity changed (mismatch), with an order missing its quantity (a named
 * error), and as an update (not replayed: unverified). */
static void test_level3(void **state)
{
	struct bench_verify_opts vo = {.depth = 0, .notes = NULL};
	struct err_info info = {0};
	size_t len;
	char *buf = slurp("verify_level3.jsonl", &len), *p;

	(void)state;
	assert_int_equal(bench_verify(buf, len, &vo, &res, &info), 0);
	assert_int_equal(res.level3_snapshots, 1);
	assert_int_equal(res.checksum_ok, 1);
	assert_int_equal(res.checksum_mismatch, 0);

	p = strstr(buf, "\"order_qty\":\"0.88968699\"");
	assert_non_null(p);
	p[strlen("\"order_qty\":\"0.8896869")] = '8';
	assert_int_equal(bench_verify(buf, len, &vo, &res, &info), 0);
	assert_int_equal(res.checksum_mismatch, 1);
	assert_int_equal(res.first_mismatch_line, 1);
	assert_string_equal(res.first_mismatch_symbol, "BTC/USD");

	memcpy(p + 1, "order_qtx", 9);
	assert_int_equal(bench_verify(buf, len, &vo, &res, &info), 0);
	assert_int_equal(res.parse_errors, 1);
	assert_non_null(strstr(res.first_parse_error, "order_qty"));
	assert_int_equal(res.checksum_ok + res.checksum_mismatch, 0);

	p = strstr(buf, "\"snapshot\"");
	assert_non_null(p);
	memcpy(p, "\"update\"  ", 10);
	assert_int_equal(bench_verify(buf, len, &vo, &res, &info), 0);
	assert_int_equal(res.level3_snapshots, 0);
	assert_int_equal(res.unverified, 1);
	free(buf);
}

static void test_gen_options(void **state)
{
	struct bench_gen_opts o = {.messages = 100, .pairs = 0, .depth = 10, .seed = 1};
	struct bench_gen_stats st;
	struct err_info info = {0};

	(void)state;
	assert_int_equal(bench_gen_book_stream(stdout, &o, &st, &info), ERR_INVALID);
	o.pairs = 60;
	assert_int_equal(bench_gen_book_stream(stdout, &o, &st, &info), ERR_INVALID);
	assert_non_null(strstr(info.msg, "messages"));
	o.pairs = 2;
	o.depth = 11;
	assert_int_equal(bench_gen_book_stream(stdout, &o, &st, &info), ERR_INVALID);
}

/* More pairs than the named ones get synthetic names and still verify;
 * deep books too. */
static void test_many_pairs_deep(void **state)
{
	struct bench_gen_opts o = {.messages = 4000, .pairs = 40, .depth = 100, .seed = 5};
	struct bench_verify_opts vo = {.depth = 0, .notes = NULL};
	struct err_info info = {0};
	size_t len;
	char *buf = gen(&o, &len);

	(void)state;
	assert_non_null(strstr(buf, "\"symbol\":\"T39/"));
	assert_int_equal(bench_verify(buf, len, &vo, &res, &info), 0);
	assert_int_equal(res.symbols, 40);
	assert_int_equal(res.checksum_mismatch, 0);
	assert_int_equal(res.book_errors, 0);
	assert_int_equal(res.checksum_ok, res.snapshots + res.updates);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_message),
	    cmocka_unit_test(test_member_element),
	    cmocka_unit_test(test_member_after_msg),
	    cmocka_unit_test(test_decimals),
	    cmocka_unit_test(test_infer),
	    cmocka_unit_test(test_generated_verifies),
	    cmocka_unit_test(test_corrupt_checksum),
	    cmocka_unit_test(test_update_before_snapshot_and_errors),
	    cmocka_unit_test(test_level3),
	    cmocka_unit_test(test_gen_options),
	    cmocka_unit_test(test_many_pairs_deep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The backtest's input reader: both formats, time order (stable for equal
 * times), bad lines with their number, skipping, precision inference, and
 * seed snapshots applied to a book with a computed checksum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "replay/replay_int.h"

static char path[64];

static void write_file(const char *text)
{
	snprintf(path, sizeof path, "/tmp/arb-events-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

#define L(ts, sym, bids, asks)                                                                     \
	"{\"timestamp\":\"" ts "\",\"symbol\":\"" sym "\",\"bids\":" bids ",\"asks\":" asks "}\n"

static void seed_order_is_stable(void **state)
{
	(void)state;
	struct replay__events *e = NULL;
	struct err_info info = {0};
	write_file(L("2024-01-01T00:00:02Z", "BTC/USD", "[[42000.1,0.5]]", "[[42000.2,0.25]]")
		       L("2024-01-01T00:00:01Z", "ETH/USD", "[[\"2500.10\",\"1.000\"]]",
			 "[[2500.2,3]]") "\n" /* a blank line is ignored */
		   L("2024-01-01T00:00:01Z", "ETH/BTC", "[[0.05952,2.5]]", "[[0.05953,1e-3]]")
		       L("2024-01-01T00:00:02.000000001Z", "BTC/USD", "[]", "[[42000.3,1]]"));
	assert_int_equal(replay__events_load(path, false, &e, &info), 0);
	assert_int_equal(e->n, 4);
	assert_int_equal(e->blank_lines, 1);
	/* Time order; the two events at :01 keep their file order (lines 2, 4). */
	assert_int_equal(e->ev[0].line, 2);
	assert_int_equal(e->ev[1].line, 4);
	assert_int_equal(e->ev[2].line, 1);
	assert_int_equal(e->ev[3].line, 5);
	assert_int_equal(e->ev[3].ts_ns - e->ev[2].ts_ns, 1);
	assert_int_equal(e->nsym, 3);
	/* Inferred precisions: the most fraction digits seen, trailing zeros
	 * and exponents included. */
	assert_string_equal(e->sym[0].name, "BTC/USD");
	assert_int_equal(e->sym[0].price_decimals, 1);
	assert_int_equal(e->sym[0].qty_decimals, 2);
	assert_string_equal(e->sym[1].name, "ETH/USD");
	assert_int_equal(e->sym[1].price_decimals, 2);
	assert_int_equal(e->sym[1].qty_decimals, 3);
	assert_string_equal(e->sym[2].base, "ETH");
	assert_string_equal(e->sym[2].quote, "BTC");
	assert_int_equal(e->sym[2].price_decimals, 5);
	assert_int_equal(e->sym[2].qty_decimals, 3);
	replay__events_free(e);
	unlink(path);
}

static void recording_lines(void **state)
{
	(void)state;
	struct replay__events *e = NULL;
	struct err_info info = {0};
	write_file("{\"recv_ts\":\"2024-01-01T00:00:00.000000005Z\",\"msg\":{\"channel\":"
		   "\"heartbeat\"}}\n"
		   "{\"recv_ts\":\"2024-01-01T00:00:00.000000001Z\",\"msg\":{\"channel\":"
		   "\"status\",\"type\":\"update\",\"data\":[]}}\n");
	assert_int_equal(replay__events_load(path, false, &e, &info), 0);
	assert_int_equal(e->n, 2);
	assert_int_equal(e->ev[0].kind, REPLAY__RECORD);
	assert_int_equal(e->ev[0].line, 2);
	const char *line;
	int n = replay__events_tokenize(e, 0, &line);
	assert_true(n > 0);
	int msg = replay__json_get(line, e->tok, n, 0, "msg");
	assert_true(msg > 0);
	int ch = replay__json_get(line, e->tok, n, msg, "channel");
	assert_memory_equal(line + e->tok[ch].start, "status", 6);
	replay__events_free(e);
	unlink(path);
}

static void bad_lines(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
	    {"not json\n", "not one JSON object"},
	    {"{\"symbol\":\"BTC/USD\",\"bids\":[],\"asks\":[]}\n", "no \"timestamp\""},
	    {"{\"timestamp\":\"yesterday\",\"symbol\":\"BTC/USD\",\"bids\":[],\"asks\":[]}\n",
	     "not an RFC3339 time"},
	    {"{\"timestamp\":\"2024-01-01T00:00:00Z\",\"symbol\":\"BTCUSD\",\"bids\":[],"
	     "\"asks\":[]}\n",
	     "is not BASE/QUOTE"},
	    {"{\"timestamp\":\"2024-01-01T00:00:00Z\",\"symbol\":\"BTC/USD\",\"asks\":[]}\n",
	     "missing \"bids\""},
	    {"{\"timestamp\":\"2024-01-01T00:00:00Z\",\"symbol\":\"BTC/USD\",\"bids\":[[1]],"
	     "\"asks\":[]}\n",
	     "bids\" level 0 is not [price, qty]"},
	    {"{\"timestamp\":\"2024-01-01T00:00:00Z\",\"symbol\":\"BTC/USD\",\"bids\":[[1,2]],"
	     "\"asks\":[]} trailing\n",
	     "not one JSON object"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[512];
		struct replay__events *e = NULL;
		struct err_info info = {0};
		snprintf(text, sizeof text, "%s%s",
			 L("2024-01-01T00:00:00Z", "BTC/USD", "[[1,1]]", "[[2,1]]"), cases[i].text);
		write_file(text);
		assert_int_equal(replay__events_load(path, false, &e, &info), ERR_PARSE);
		assert_null(e);
		if (!strstr(info.msg, ":2: ") || !strstr(info.msg, cases[i].why))
			fail_msg("case %zu: '%s' lacks line 2 or '%s'", i, info.msg, cases[i].why);
		/* Skipping counts the line and keeps the good one. */
		assert_int_equal(replay__events_load(path, true, &e, &info), 0);
		assert_int_equal(e->n, 1);
		assert_int_equal(e->bad_lines, 1);
		assert_int_equal(e->first_bad_line, 2);
		replay__events_free(e);
		unlink(path);
	}
	struct replay__events *e = NULL;
	struct err_info info = {0};
	write_file("");
	assert_int_equal(replay__events_load(path, false, &e, &info), ERR_PARSE);
	assert_non_null(strstr(info.msg, "empty"));
	unlink(path);
	assert_true(replay__events_load("/nonexistent/x.jsonl", false, &e, &info) < 0);
	assert_non_null(strstr(info.msg, "/nonexistent/x.jsonl"));
}

static void seed_snapshot_applies(void **state)
{
	(void)state;
	struct replay__events *e = NULL;
	struct err_info info = {0};
	static struct replay__levels scratch;
	char why[160];
	/* Unsorted levels, a duplicate price (the later wins), a zero qty
	 * (dropped): the book holds them sorted, and it is valid. */
	write_file(L("2024-01-01T00:00:00Z", "BTC/USD", "[[100.1,1],[100.3,2],[100.2,0],[100.3,5]]",
		     "[[100.5,1],[100.4,2.25]]")
		       L("2024-01-01T00:00:01Z", "BTC/USD", "[[100.12,1]]", "[[100.5,1]]"));
	assert_int_equal(replay__events_load(path, false, &e, &info), 0);
	struct book *b = book_new("BTC/USD", 1, 2, 10, &info);
	assert_non_null(b);
	const char *line;
	int n = replay__events_tokenize(e, 0, &line);
	assert_int_equal(
	    replay__seed_apply(b, line, e->tok, n, e->ev[0].ts_ns, &scratch, why, sizeof why), 0);
	assert_true(book_valid(b));
	size_t nb, na;
	const struct book_level *bids = book_bids(b, &nb), *asks = book_asks(b, &na);
	assert_int_equal(nb, 2);
	assert_int_equal(bids[0].price, 1003);
	assert_int_equal(bids[0].qty, 500);
	assert_int_equal(bids[1].price, 1001);
	assert_int_equal(na, 2);
	assert_int_equal(asks[0].price, 1004);
	assert_int_equal(asks[0].qty, 225);
	/* More decimals than the pair's precision is an error naming the value. */
	n = replay__events_tokenize(e, 1, &line);
	assert_int_equal(
	    replay__seed_apply(b, line, e->tok, n, e->ev[1].ts_ns, &scratch, why, sizeof why),
	    ERR_PARSE);
	assert_non_null(strstr(why, "100.12"));
	book_free(b);
	replay__events_free(e);
	unlink(path);
}

/* The cached-minute parser agrees with the full one. */
static void timestamps(void **state)
{
	(void)state;
	static struct replay__events e;
	static const char *const v[] = {
	    "2024-01-01T00:00:00Z",	      "2024-01-01T00:00:00.5Z",
	    "2024-01-01T00:00:59.999999999Z", "2024-01-01T00:00:07.000001Z",
	    "2024-01-01T00:01:00Z",	      "2024-01-01T00:01:00.123+02:00",
	    "2024-01-01T00:01:01.1Z",	      "2023-12-31T23:59:59.000000001Z",
	    "2024-02-29T12:30:45.25Z",	      "2024-02-29T12:30:45.25Z",
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		int64_t a = 0, b = 0;
		assert_int_equal(clock_parse_rfc3339(v[i], strlen(v[i]), &a), 0);
		assert_int_equal(replay__ts(&e, v[i], strlen(v[i]), &b), 0);
		if (a != b)
			fail_msg("%s: %lld != %lld", v[i], (long long)a, (long long)b);
	}
	/* Bad text after a cached minute still fails. */
	int64_t x;
	assert_int_equal(replay__ts(&e, "2024-02-29T12:30:45.Z", 21, &x) != 0, 1);
	assert_int_equal(replay__ts(&e, "2024-02-29T12:30:61Z", 20, &x) != 0, 1);
	assert_int_equal(replay__ts(&e, "2024-02-29T12:30:45.1x3Z", 24, &x) != 0, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(seed_order_is_stable),
	    cmocka_unit_test(recording_lines),
	    cmocka_unit_test(bad_lines),
	    cmocka_unit_test(seed_snapshot_applies),
	    cmocka_unit_test(timestamps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

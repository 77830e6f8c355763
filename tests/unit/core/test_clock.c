#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"

#define NS 1000000000LL

static int64_t parse(const char *s)
{
	int64_t ns = 0;
	int rc = clock_parse_rfc3339(s, strlen(s), &ns);
	if (rc != 0)
		fail_msg("parse of \"%s\" failed: %d", s, rc);
	return ns;
}

static void fmt_known(void **state)
{
	(void)state;
	static const struct {
		int64_t ns;
		int digits;
		const char *want;
	} v[] = {
	    {0, 0, "1970-01-01T00:00:00Z"},
	    {0, 3, "1970-01-01T00:00:00.000Z"},
	    {1620762429896860000LL, 6, "2021-05-11T19:47:09.896860Z"},
	    {1620762429896860000LL, 9, "2021-05-11T19:47:09.896860000Z"},
	    {1620762429896860000LL, 1, "2021-05-11T19:47:09.8Z"},
	    /* truncated, not rounded */
	    {1620762429999999999LL, 3, "2021-05-11T19:47:09.999Z"},
	    {951782400LL * NS, 0, "2000-02-29T00:00:00Z"},
	    {1709164800LL * NS + 1, 9, "2024-02-29T00:00:00.000000001Z"},
	    {1798761599LL * NS, 0, "2026-12-31T23:59:59Z"},
	    {-1, 9, "1969-12-31T23:59:59.999999999Z"},
	    {-NS, 0, "1969-12-31T23:59:59Z"},
	    {INT64_MAX, 9, "2262-04-11T23:47:16.854775807Z"},
	    {INT64_MIN, 9, "1677-09-21T00:12:43.145224192Z"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char buf[64];
		int n = clock_fmt_rfc3339(v[i].ns, v[i].digits, buf, sizeof(buf));
		assert_int_equal(n, (int)strlen(v[i].want));
		assert_string_equal(buf, v[i].want);
	}
}

static void fmt_bounds(void **state)
{
	(void)state;
	char buf[64];
	/* 20 chars + NUL exactly fits; one less does not. */
	assert_int_equal(clock_fmt_rfc3339(0, 0, buf, 21), 20);
	assert_int_equal(clock_fmt_rfc3339(0, 0, buf, 20), ERR_RANGE);
	assert_int_equal(clock_fmt_rfc3339(0, 9, buf, 31), 30);
	assert_int_equal(clock_fmt_rfc3339(0, 9, buf, 30), ERR_RANGE);
	assert_int_equal(clock_fmt_rfc3339(0, 10, buf, sizeof(buf)), ERR_INVALID);
	assert_int_equal(clock_fmt_rfc3339(0, -1, buf, sizeof(buf)), ERR_INVALID);
}

/* Cross-check the calendar arithmetic against libc's gmtime_r. */
static void fmt_matches_gmtime(void **state)
{
	(void)state;
	for (int64_t s = -2208988800LL; s < 4102444800LL; s += 86400LL * 37 + 3671) {
		struct tm tm;
		time_t t = (time_t)s;
		char want[64], got[64];
		assert_non_null(gmtime_r(&t, &tm));
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		assert_int_equal(clock_fmt_rfc3339(s * NS, 0, got, sizeof(got)), 20);
		assert_string_equal(got, want);
		assert_int_equal(parse(want), s * NS);
	}
}

static void parse_known(void **state)
{
	(void)state;
	assert_int_equal(parse("2021-05-11T19:47:09.896860Z"), 1620762429896860000LL);
	assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse("1970-01-01T00:00:00.000000001Z"), 1);
	assert_int_equal(parse("1969-12-31T23:59:59.5Z"), -NS / 2);
	assert_int_equal(parse("2021-05-11t19:47:09z"), 1620762429LL * NS);
	/* Offsets: local time minus offset is UTC. */
	assert_int_equal(parse("2021-05-11T21:47:09.896860+02:00"), 1620762429896860000LL);
	assert_int_equal(parse("2021-05-11T14:17:09.896860-05:30"), 1620762429896860000LL);
	assert_int_equal(parse("2021-05-12T00:00:00+00:00"), parse("2021-05-12T00:00:00-00:00"));
	assert_int_equal(parse("2021-01-01T00:30:00+01:00"), parse("2020-12-31T23:30:00Z"));
	assert_int_equal(parse("2000-02-29T12:00:00Z"), 951825600LL * NS);
	assert_int_equal(parse("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
	assert_int_equal(parse("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
}

static void round_trip(void **state)
{
	(void)state;
	int64_t samples[] = {0,
			     1,
			     -1,
			     1620762429896860000LL,
			     1764018000123456789LL,
			     -123456789012345678LL,
			     INT64_MAX,
			     INT64_MIN};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char buf[64];
		int64_t back = 0;
		int n = clock_fmt_rfc3339(samples[i], 9, buf, sizeof(buf));
		assert_true(n > 0);
		assert_int_equal(clock_parse_rfc3339(buf, (size_t)n, &back), 0);
		assert_int_equal(back, samples[i]);
		/* Fewer digits round toward the past and still parse. */
		n = clock_fmt_rfc3339(samples[i], 3, buf, sizeof(buf));
		if (samples[i] == INT64_MIN) {
			/* ...except the earliest time, whose truncation falls outside. */
			assert_int_equal(clock_parse_rfc3339(buf, (size_t)n, &back), ERR_PARSE);
			continue;
		}
		assert_int_equal(clock_parse_rfc3339(buf, (size_t)n, &back), 0);
		assert_true(back <= samples[i] && samples[i] - back < 1000000);
	}
}

static void parse_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "2021-05-11",
	    "2021-05-11T19:47:09",	       /* no zone */
	    "2021-05-11 19:47:09Z",	       /* space separator */
	    "2021-05-11T19:47:09.Z",	       /* empty fraction */
	    "2021-05-11T19:47:09.1234567891Z", /* 10 digits */
	    "2021-05-11T19:47:09ZZ",
	    "2021-05-11T19:47:09Z ",
	    " 2021-05-11T19:47:09Z",
	    "2021-5-11T19:47:09Z",
	    "21-05-11T19:47:09Z",
	    "2021-05-11T19:47Z",
	    "2021-05-11T19:47:9Z",
	    "2021-13-11T19:47:09Z",
	    "2021-00-11T19:47:09Z",
	    "2021-05-00T19:47:09Z",
	    "2021-04-31T19:47:09Z",
	    "2021-02-29T19:47:09Z", /* not a leap year */
	    "1900-02-29T00:00:00Z", /* not a leap year */
	    "2021-05-11T24:00:00Z",
	    "2021-05-11T19:60:09Z",
	    "2021-05-11T19:47:60Z", /* leap second */
	    "2021-05-11T19:47:09+0200",
	    "2021-05-11T19:47:09+02",
	    "2021-05-11T19:47:09+24:00",
	    "2021-05-11T19:47:09+02:60",
	    "2021-05-11T19:47:09 +02:00",
	    "2021-05-11T19:47:09UTC",
	    "2021-05-11T19:47:09.12a4Z",
	    "2021-05-11T19:47:0aZ",
	    "2021-05-11T-9:47:09Z",
	    "2262-04-11T23:47:16.854775808Z", /* past INT64_MAX ns */
	    "1677-09-21T00:12:43.145224191Z", /* before INT64_MIN ns */
	    "9999-12-31T23:59:59Z",
	    "0000-01-01T00:00:00Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ns = 42;
		int rc = clock_parse_rfc3339(bad[i], strlen(bad[i]), &ns);
		if (rc != ERR_PARSE)
			fail_msg("\"%s\" was not rejected (rc %d)", bad[i], rc);
		assert_int_equal(ns, 42);
	}
	/* len is honoured: a valid prefix of a longer buffer is not enough. */
	const char *s = "2021-05-11T19:47:09Z";
	int64_t ns;
	assert_int_equal(clock_parse_rfc3339(s, strlen(s) - 1, &ns), ERR_PARSE);
	assert_int_equal(clock_parse_rfc3339("2021-05-11T19:47:09Zjunk", 20, &ns), 0);
	assert_int_equal(ns, 1620762429LL * NS);
}

static void clocks(void **state)
{
	(void)state;
	uint64_t a = clock_mono_ns();
	uint64_t b = clock_mono_ns();
	assert_true(b >= a);
	/* Wall clock is after 2024 on any machine running these tests. */
	assert_true(clock_wall_ns() > 1704067200LL * NS);
	assert_true(clock_system.mono_ns(clock_system.ctx) >= b);
	int64_t w = clock_system.wall_ns(clock_system.ctx);
	assert_true(w > 1704067200LL * NS);

	struct clock_manual m = {.wall_ns = 1234};
	struct clock c = clock_manual_make(&m);
	assert_int_equal(c.wall_ns(c.ctx), 1234);
	assert_int_equal(c.mono_ns(c.ctx), 1234);
	m.wall_ns = 5678;
	assert_int_equal(c.wall_ns(c.ctx), 5678);
	assert_int_equal(c.mono_ns(c.ctx), 5678);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fmt_known),
	    cmocka_unit_test(fmt_bounds),
	    cmocka_unit_test(fmt_matches_gmtime),
	    cmocka_unit_test(parse_known),
	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(parse_rejects),
	    cmocka_unit_test(clocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

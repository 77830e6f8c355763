#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "core/err.h"
#include "core/fixed.h"

struct vec {
	const char *text;
	int scale;
	int rc;
	int64_t value;	   /* when rc == 0 */
	const char *token; /* when rc == 0 and not NULL */
};

static const struct vec vecs[] = {
    /* Kraken shapes */
    {"45285.2", 1, 0, 452852, "452852"},
    {"45285.2", 5, 0, 4528520000, "4528520000"},
    {"0.00100000", 8, 0, 100000, "100000"},
    {"1e-08", 8, 0, 1, "1"},
    {"1E-08", 8, 0, 1, "1"},
    {"1e-8", 8, 0, 1, "1"},
    {"4.0", 8, 0, 400000000, "400000000"},
    {"0.5666", 4, 0, 5666, "5666"},
    {"18097.1547", 4, 0, 180971547, "180971547"},
    {"0.00000001", 8, 0, 1, "1"},
    {"0", 8, 0, 0, "0"},
    {"0.0", 2, 0, 0, "0"},
    {"-0", 2, 0, 0, "0"},
    {"0e5", 0, 0, 0, "0"},
    {"0.000e-99", 0, 0, 0, "0"},
    {"-3.2", 1, 0, -32, "32"},
    {"-0.5666", 8, 0, -56660000, "56660000"},
    {"100", 0, 0, 100, "100"},
    {"100", 2, 0, 10000, "10000"},
    {"1000000", 0, 0, 1000000, "1000000"},
    {"10.01", 2, 0, 1001, "1001"},
    {"1.5e2", 0, 0, 150, "150"},
    {"1.5e+2", 0, 0, 150, "150"},
    {"15e-1", 1, 0, 15, "15"},
    {"2.5E3", 2, 0, 250000, "250000"},
    {"0.0001e4", 0, 0, 1, "1"},
    /* trailing zeros beyond the scale are fine */
    {"45285.20000000", 1, 0, 452852, "452852"},
    {"0.56660000000000000000000000000000000", 4, 0, 5666, "5666"},
    {"4.0", 0, 0, 4, "4"},
    {"1000e-3", 0, 0, 1, "1"},
    {"10000000000000000000000000e-25", 0, 0, 1, "1"},
    {"100000000000000000000000000e-25", 0, 0, 10, "10"},
    /* limits */
    {"9223372036854775807", 0, 0, INT64_MAX, "9223372036854775807"},
    {"-9223372036854775807", 0, 0, -INT64_MAX, "9223372036854775807"},
    {"9.223372036854775807", 18, 0, INT64_MAX, "9223372036854775807"},
    {"92233720368.54775807", 8, 0, INT64_MAX, NULL},
    {"0.000000000000000001", 18, 0, 1, "1"},
    /* non-zero digits beyond scale */
    {"0.5666", 3, ERR_RANGE, 0, NULL},
    {"45285.25", 1, ERR_RANGE, 0, NULL},
    {"1e-09", 8, ERR_RANGE, 0, NULL},
    {"0.000000001", 8, ERR_RANGE, 0, NULL},
    {"1.0000000000000000000000001", 8, ERR_RANGE, 0, NULL},
    /* overflow */
    {"9223372036854775808", 0, ERR_RANGE, 0, NULL},
    {"-9223372036854775808", 0, ERR_RANGE, 0, NULL},
    {"92233720368.54775808", 8, ERR_RANGE, 0, NULL},
    {"100000000000", 8, ERR_RANGE, 0, NULL},
    {"18446744073709551616", 0, ERR_RANGE, 0, NULL},
    {"123456789012345678901234567890", 0, ERR_RANGE, 0, NULL},
    {"1e19", 0, ERR_RANGE, 0, NULL},
    {"1e99999999999999999999", 0, ERR_RANGE, 0, NULL},
    {"1e-99999999999999999999", 8, ERR_RANGE, 0, NULL},
    {"10", 18, ERR_RANGE, 0, NULL},
    /* garbage and non-canonical text */
    {"", 8, ERR_PARSE, 0, NULL},
    {"-", 8, ERR_PARSE, 0, NULL},
    {"+1", 8, ERR_PARSE, 0, NULL},
    {"1.", 8, ERR_PARSE, 0, NULL},
    {".5", 8, ERR_PARSE, 0, NULL},
    {"-.5", 8, ERR_PARSE, 0, NULL},
    {"01", 8, ERR_PARSE, 0, NULL},
    {"00.5", 8, ERR_PARSE, 0, NULL},
    {"-01", 8, ERR_PARSE, 0, NULL},
    {"1e", 8, ERR_PARSE, 0, NULL},
    {"1e+", 8, ERR_PARSE, 0, NULL},
    {"1e-", 8, ERR_PARSE, 0, NULL},
    {"1.e5", 8, ERR_PARSE, 0, NULL},
    {"1.5.5", 8, ERR_PARSE, 0, NULL},
    {"1,5", 8, ERR_PARSE, 0, NULL},
    {" 1", 8, ERR_PARSE, 0, NULL},
    {"1 ", 8, ERR_PARSE, 0, NULL},
    {"\"1\"", 8, ERR_PARSE, 0, NULL},
    {"0x10", 8, ERR_PARSE, 0, NULL},
    {"nan", 8, ERR_PARSE, 0, NULL},
    {"inf", 8, ERR_PARSE, 0, NULL},
    {"--1", 8, ERR_PARSE, 0, NULL},
    {"1e5.5", 8, ERR_PARSE, 0, NULL},
    {"1ee5", 8, ERR_PARSE, 0, NULL},
    {"e5", 8, ERR_PARSE, 0, NULL},
    {"1/2", 8, ERR_PARSE, 0, NULL},
    {"1:", 8, ERR_PARSE, 0, NULL}, /* ':' is '0' + 10 */
    {"1/", 8, ERR_PARSE, 0, NULL}, /* '/' is '0' - 1 */
    /* bad scale */
    {"1", -1, ERR_INVALID, 0, NULL},
    {"1", 19, ERR_INVALID, 0, NULL},
};

static void parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		const struct vec *v = &vecs[i];
		int64_t out = 0x5a5a5a5a;
		int rc = fx_parse(v->text, strlen(v->text), v->scale, &out);
		if (rc != v->rc)
			fail_msg("\"%s\"@%d: rc %d, want %d", v->text, v->scale, rc, v->rc);
		if (rc != 0) {
			/* Failure leaves the output untouched. */
			assert_int_equal(out, 0x5a5a5a5a);
			continue;
		}
		if (out != v->value)
			fail_msg("\"%s\"@%d: got %lld, want %lld", v->text, v->scale,
				 (long long)out, (long long)v->value);
		if (v->token) {
			char tok[21];
			int n = fx_token(out, tok, sizeof(tok));
			assert_int_equal(n, (int)strlen(v->token));
			assert_string_equal(tok, v->token);
		}
	}
}

/* fx_parse reads exactly len bytes, never past them and never a NUL. */
static void parse_length_bounded(void **state)
{
	(void)state;
	int64_t v;
	const char buf[] = "12345.678";
	assert_int_equal(fx_parse(buf, 3, 0, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(fx_parse(buf, 7, 1, &v), 0);
	assert_int_equal(v, 123456);
	assert_int_equal(fx_parse(buf, 6, 2, &v), ERR_PARSE); /* "12345." */
	assert_int_equal(fx_parse("1\0"
				  "5",
				  3, 0, &v),
			 ERR_PARSE);
	/* JSON-embedded number, as a tokenizer view would hand it over. */
	const char *json = "{\"price\":45285.2,\"qty\":0.001}";
	assert_int_equal(fx_parse(json + 9, 7, 1, &v), 0);
	assert_int_equal(v, 452852);
	assert_int_equal(fx_parse(json + 23, 5, 8, &v), 0);
	assert_int_equal(v, 100000);
	/* Text longer than FX_MAX_TEXT is refused outright. */
	char lng[FX_MAX_TEXT + 2];
	memset(lng, '0', sizeof(lng));
	lng[1] = '.';
	assert_int_equal(fx_parse(lng, FX_MAX_TEXT, 8, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(fx_parse(lng, FX_MAX_TEXT + 1, 8, &v), ERR_RANGE);
}

static void format_values(void **state)
{
	(void)state;
	static const struct {
		int64_t v;
		int scale;
		const char *want;
	} f[] = {
	    {5666, 8, "0.00005666"},
	    {56660000, 8, "0.56660000"},
	    {452852, 1, "45285.2"},
	    {0, 0, "0"},
	    {0, 3, "0.000"},
	    {-32, 1, "-3.2"},
	    {-1, 8, "-0.00000001"},
	    {7, 0, "7"},
	    {-7, 0, "-7"},
	    {INT64_MAX, 0, "9223372036854775807"},
	    {INT64_MIN, 0, "-9223372036854775808"},
	    {INT64_MIN, 18, "-9.223372036854775808"},
	    {INT64_MAX, 18, "9.223372036854775807"},
	    {1, 18, "0.000000000000000001"},
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		char buf[32];
		int n = fx_format(f[i].v, f[i].scale, buf, sizeof(buf));
		assert_int_equal(n, (int)strlen(f[i].want));
		assert_string_equal(buf, f[i].want);
	}
	char buf[32];
	assert_int_equal(fx_format(452852, 1, buf, 8), 7);
	assert_int_equal(fx_format(452852, 1, buf, 7), ERR_RANGE);
	assert_int_equal(fx_format(INT64_MIN, 18, buf, 22), 21);
	assert_int_equal(fx_format(1, 19, buf, sizeof(buf)), ERR_INVALID);
	assert_int_equal(fx_token(INT64_MIN, buf, 21), 19);
	assert_string_equal(buf, "9223372036854775808");
	assert_int_equal(fx_token(0, buf, 2), 1);
	assert_string_equal(buf, "0");
	assert_int_equal(fx_token(123, buf, 3), ERR_RANGE);
}

/* Format then parse gives the value back, over a spread of magnitudes. */
static void round_trip(void **state)
{
	(void)state;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int scale = (int)(x % 19);
		int64_t v = (int64_t)(x >> (x % 64));
		if (i & 1)
			v = -v;
		if (v == INT64_MIN)
			v++;
		char buf[32];
		int64_t back = 0;
		int n = fx_format(v, scale, buf, sizeof(buf));
		assert_true(n > 0);
		if (fx_parse(buf, (size_t)n, scale, &back) != 0 || back != v)
			fail_msg("round trip of %lld@%d via \"%s\" gave %lld", (long long)v, scale,
				 buf, (long long)back);
	}
}

static void pow10_rescale_double(void **state)
{
	(void)state;
	int64_t p = 1;
	for (int n = 0; n <= 18; n++) {
		assert_int_equal(fx_pow10(n), p);
		if (n < 18)
			p *= 10;
	}
	int64_t out;
	assert_int_equal(fx_rescale(452852, 1, 8, &out), 0);
	assert_int_equal(out, 4528520000000LL);
	assert_int_equal(fx_rescale(4528520000000LL, 8, 1, &out), 0);
	assert_int_equal(out, 452852);
	assert_int_equal(fx_rescale(199, 2, 0, &out), 0);
	assert_int_equal(out, 1);
	assert_int_equal(fx_rescale(-199, 2, 0, &out), 0);
	assert_int_equal(out, -1); /* toward zero */
	assert_int_equal(fx_rescale(5, 3, 3, &out), 0);
	assert_int_equal(out, 5);
	assert_int_equal(fx_rescale(INT64_MAX / 10 + 1, 0, 1, &out), ERR_RANGE);
	assert_int_equal(fx_rescale(-(INT64_MAX / 10 + 1), 0, 1, &out), ERR_RANGE);
	assert_int_equal(fx_rescale(9, 0, 18, &out), 0);
	assert_int_equal(out, 9 * fx_pow10(18));
	assert_int_equal(fx_rescale(10, 0, 18, &out), ERR_RANGE);
	assert_int_equal(fx_rescale(1, 0, 19, &out), ERR_INVALID);

	assert_true(fx_to_double(452852, 1) == 45285.2);
	assert_true(fx_to_double(-5666, 4) == -0.5666);
	assert_true(fx_to_double(100000, 8) == 0.001);
	assert_true(fx_to_double(0, 8) == 0.0);
	assert_true(fabs(fx_to_double(INT64_MAX, 8) - 92233720368.54775807) < 1e-4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_table),	    cmocka_unit_test(parse_length_bounded),
	    cmocka_unit_test(format_values),	    cmocka_unit_test(round_trip),
	    cmocka_unit_test(pow10_rescale_double),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

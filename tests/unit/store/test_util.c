/* Store helpers without a database: ages, amounts, UTF-8, SQL quoting,
 * paths, timestamps and enumeration names. */
#include "store_test.h"

#include <math.h>

static void parse_age(void **state)
{
	static const struct {
		const char *in;
		int rc;
		int64_t s;
	} v[] = {
	    {"30d", 0, 30 * 86400},
	    {"12h", 0, 12 * 3600},
	    {"90m", 0, 90 * 60},
	    {"45s", 0, 45},
	    {"2w", 0, 14 * 86400},
	    {"0d", 0, 0},
	    {"007h", 0, 7 * 3600},
	    {"106751991167300d", 0, 106751991167300LL * 86400},
	    {"106751991167301d", ERR_RANGE, 0},
	    {"99999999999999999999s", ERR_RANGE, 0},
	    {"", ERR_PARSE, 0},
	    {"d", ERR_PARSE, 0},
	    {"30", ERR_PARSE, 0},
	    {"30D", ERR_PARSE, 0},
	    {"30dd", ERR_PARSE, 0},
	    {"30 d", ERR_PARSE, 0},
	    {" 30d", ERR_PARSE, 0},
	    {"-30d", ERR_PARSE, 0},
	    {"+30d", ERR_PARSE, 0},
	    {"1.5d", ERR_PARSE, 0},
	    {"30y", ERR_PARSE, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		int64_t s = -7;
		int rc = store_parse_age(v[i].in, &s);
		if (rc != v[i].rc)
			fail_msg("'%s': rc %d, want %d", v[i].in, rc, v[i].rc);
		if (rc == 0 && s != v[i].s)
			fail_msg("'%s': %lld, want %lld", v[i].in, (long long)s, (long long)v[i].s);
		if (rc != 0)
			assert_int_equal(s, -7);
	}
	assert_int_equal(store_parse_age(NULL, NULL), ERR_INVALID);
}

static void amount_from_double(void **state)
{
	static const struct {
		double v;
		int scale;
		int rc;
		int64_t units;
	} t[] = {
	    {0.1, 8, 0, 10000000},
	    {-0.1, 8, 0, -10000000},
	    {1.005, 2, 0, 100}, /* 1.005 is 1.00499999... in binary */
	    {0.5, 0, 0, 1},
	    {-0.5, 0, 0, -1},
	    {2.5, 0, 0, 3},
	    {123.456789, 4, 0, 1234568},
	    {9.2e18, 0, 0, 9200000000000000000LL},
	    {9.3e18, 0, ERR_RANGE, 0},
	    {1.0, 19, ERR_INVALID, 0},
	    {1.0, -1, ERR_INVALID, 0},
	    {NAN, 2, ERR_RANGE, 0},
	    {INFINITY, 2, ERR_RANGE, 0},
	    {10.0, 18, ERR_RANGE, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct store_amount a = {-1, -1};
		int rc = store_amount_from_double(t[i].v, t[i].scale, &a);
		if (rc != t[i].rc)
			fail_msg("#%zu: rc %d want %d", i, rc, t[i].rc);
		if (rc == 0) {
			assert_int_equal(a.units, t[i].units);
			assert_int_equal(a.scale, t[i].scale);
		}
	}
	assert_int_equal(store_amt(5, 3).units, 5);
	assert_int_equal(store_amt(5, 3).scale, 3);
	assert_int_equal(STORE_AMOUNT_NULL.scale, STORE_SCALE_NULL);
}

static void utf8(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"plain", "plain"},
	    {"é ü €  𝄞", "é ü €  𝄞"},
	    {"a\xff"
	     "b",
	     "a?b"},
	    {"\xc3", "?"},		  /* truncated 2-byte */
	    {"\xe2\x82", "??"},		  /* truncated 3-byte */
	    {"\xc0\xaf", "??"},		  /* overlong '/' */
	    {"\xe0\x80\xaf", "???"},	  /* overlong */
	    {"\xed\xa0\x80", "???"},	  /* surrogate */
	    {"\xf4\x90\x80\x80", "????"}, /* above U+10FFFF */
	    {"\xf0\x9f\x98\x80!", "\xf0\x9f\x98\x80!"},
	    {"x\x80y", "x?y"}, /* stray continuation */
	};
	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char out[64] = {0};
		size_t n = strlen(v[i].in);
		store__utf8_clean(v[i].in, n, out);
		assert_string_equal(out, v[i].out);
		assert_int_equal(store__utf8_valid_prefix(v[i].in, n) == n,
				 strcmp(v[i].in, v[i].out) == 0);
	}
	assert_int_equal(store__utf8_valid_prefix("ab\xff", 3), 2);
}

static void sql_quote(void **state)
{
	char buf[32];
	(void)state;
	assert_int_equal(store__sql_quote("a'b''c", buf, sizeof buf), 0);
	assert_string_equal(buf, "'a''b''''c'");
	assert_int_equal(store__sql_quote("", buf, sizeof buf), 0);
	assert_string_equal(buf, "''");
	assert_int_equal(store__sql_quote("abc", buf, 5), ERR_RANGE);
	assert_int_equal(store__sql_quote("abc", buf, 6), 0);
	assert_string_equal(buf, "'abc'");
	assert_int_equal(store__sql_quote("'", buf, 4), ERR_RANGE);
	assert_int_equal(store__sql_quote("'", buf, 5), 0);
	assert_string_equal(buf, "''''");
}

static void paths(void **state)
{
	char buf[64], dir[400], sub[500];
	struct tdb t;
	struct stat st;
	(void)state;
	assert_int_equal(store__dirname("a/b/c.db", buf, sizeof buf), 0);
	assert_string_equal(buf, "a/b");
	assert_int_equal(store__dirname("c.db", buf, sizeof buf), 0);
	assert_string_equal(buf, ".");
	assert_int_equal(store__dirname("/c.db", buf, sizeof buf), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(store__dirname("abc/d", buf, 3), ERR_RANGE);

	tdb_init(&t);
	snprintf(dir, sizeof dir, "%s/x//y/z/", t.dir);
	assert_int_equal(store__mkdir_p(dir, 0700), 0);
	assert_int_equal(store__mkdir_p(dir, 0700), 0); /* again: fine */
	snprintf(sub, sizeof sub, "%s/x/y/z", t.dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(sub, sizeof sub, "%s/x/y/z/f", t.dir);
	{
		FILE *f = fopen(sub, "w");
		assert_non_null(f);
		fclose(f);
	}
	snprintf(sub, sizeof sub, "%s/x/y/z/f/g", t.dir);
	assert_int_equal(store__mkdir_p(sub, 0700), -ENOTDIR);
	assert_int_equal(store__mkdir_p("", 0700), 0);
	tdb_release(&t);
}

static void timestamps(void **state)
{
	char buf[64];
	(void)state;
	assert_int_equal(store__fmt_ts_us(0, buf, sizeof buf), 0);
	assert_string_equal(buf, "1970-01-01 00:00:00.000000+00");
	assert_int_equal(store__fmt_ts_us(-1, buf, sizeof buf), 0);
	assert_string_equal(buf, "1969-12-31 23:59:59.999999+00");
	assert_int_equal(store__fmt_ts_us(T0_NS / 1000, buf, sizeof buf), 0);
	assert_string_equal(buf, "2024-01-02 03:04:05.678901+00");
	assert_int_equal(store__fmt_ts_us(0, buf, 10), ERR_RANGE);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(store_mode_name(STORE_MODE_PAPER), "paper");
	assert_string_equal(store_mode_name(STORE_MODE_LIVE), "live");
	assert_string_equal(store_mode_name(STORE_MODE_BACKTEST), "backtest");
	assert_null(store_mode_name((enum store_mode)3));
	assert_null(store_mode_name((enum store_mode) - 1));
	assert_string_equal(store_side_name(STORE_SIDE_SELL), "sell");
	assert_string_equal(store_verdict_name(STORE_VERDICT_MISSED), "missed");
	assert_null(store_verdict_name((enum store_verdict)5));
	assert_string_equal(store_order_type_name(STORE_ORDER_MARKET), "market");
	assert_string_equal(store_tif_name(STORE_TIF_GTD), "gtd");
	assert_null(store_tif_name((enum store_tif)4));
	assert_string_equal(store_status_name(STORE_STATUS_PARTIALLY_FILLED), "partially_filled");
	assert_string_equal(store_status_name(STORE_STATUS_UNKNOWN), "unknown");
	assert_null(store_status_name((enum store_order_status)8));
	/* Records stay small enough to copy through the ring. */
	assert_true(sizeof(struct store_rec) <= 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_age), cmocka_unit_test(amount_from_double),
	    cmocka_unit_test(utf8),	 cmocka_unit_test(sql_quote),
	    cmocka_unit_test(paths),	 cmocka_unit_test(timestamps),
	    cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* arbitrade cycles: the real binary on the hand universes in
 * tests/data/universe (an instrument snapshot with a pair in maintenance, an
 * AssetPairs response) and on the generated Kraken-sized sample, checking
 * its counts, listings, errors and exit statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "integration/harness.h"

static char *env[] = {"PATH=/usr/bin:/bin", "LOG_LEVEL=warn", NULL};
static char tmp[256];

static int run(struct h_proc *p, const char *a1, const char *a2, const char *a3, const char *a4,
	       const char *a5, const char *a6)
{
	char *argv[] = {(char *)ARBITRADE_BIN,
			"cycles",
			(char *)a1,
			(char *)a2,
			(char *)a3,
			(char *)a4,
			(char *)a5,
			(char *)a6,
			NULL};
	return h_run(p, tmp, argv, env, NULL, 60000);
}

#define UNI(name) TEST_DATA_DIR "/universe/" name

static void expect(const struct h_proc *p, const char *text)
{
	if (!strstr(p->out, text))
		fail_msg("output lacks \"%s\":\n%s", text, p->out);
}

/* Triangle BTC/USD, ETH/BTC, ETH/USD both ways; XRP/USD leads nowhere
 * because XRP/BTC is in maintenance. */
static void test_instrument_snapshot(void **state)
{
	(void)state;
	struct h_proc p;
	assert_int_equal(
	    run(&p, "--universe", UNI("tri.json"), "--home", "USD", "--pair", "BTC/USD"), 0);
	expect(&p, "5 pairs (4 tradable), 2 cycles");
	expect(&p, "cycles through BTC/USD: 2");
	expect(&p, "USD>BTC>ETH>USD");
	expect(&p, "buy BTC/USD, buy ETH/BTC, sell ETH/USD");
	expect(&p, "USD>ETH>BTC>USD");
	expect(&p, "buy ETH/USD, sell ETH/BTC, sell BTC/USD");
	assert_int_equal(
	    run(&p, "--universe", UNI("tri.json"), "--home", "USD", "--pair", "XRP/BTC"), 0);
	expect(&p, "cycles through XRP/BTC: 0");
	assert_int_equal(run(&p, "--universe", UNI("tri.json"), "--pair", "DOGE/USD", NULL, NULL),
			 1);
	expect(&p, "no pair DOGE/USD");
}

/* K4 on USD, EUR, BTC, ETH from AssetPairs (XBT named BTC as in v2): per home
 * 3 triangles and 3 four-cycles, both ways. */
static void test_asset_pairs(void **state)
{
	(void)state;
	struct h_proc p;
	assert_int_equal(run(&p, "--universe", UNI("k4_assetpairs.json"), "--home", "USD,EUR",
			     "--pair", "BTC/USD"),
			 0);
	expect(&p, "6 pairs (6 tradable), 24 cycles");
	expect(&p, "USD               6          6         12");
	expect(&p, "EUR               6          6         12");
	expect(&p, "cycles through BTC/USD: 14");
	expect(&p, "sell ETH/BTC");
}

static void test_default_sample(void **state)
{
	(void)state;
	struct h_proc p;
	assert_int_equal(run(&p, "--home", "USD,EUR,USDT,BTC", "--pair", "ETH/BTC", "--limit", "3"),
			 0);
	expect(&p, "generated sample");
	expect(&p, "1109 pairs");
	expect(&p, "cycles through ETH/BTC: ");
	expect(&p, "more (--limit 0 lists them all)");
}

static void test_bad_input(void **state)
{
	(void)state;
	struct h_proc p;
	char bad[300], book[300];
	snprintf(bad, sizeof bad, "%s/garbage.json", tmp);
	snprintf(book, sizeof book, "%s/book.json", tmp);
	FILE *f = fopen(bad, "w");
	assert_non_null(f);
	fputs("{\"channel\":\"instrument\",\"type\":\"snapshot\",\"data\":{\"pairs\":[{", f);
	fclose(f);
	f = fopen(book, "w");
	assert_non_null(f);
	fputs("{\"error\":[],\"result\":{\"X\":{\"wsname\":\"NOSLASH\"}}}", f);
	fclose(f);
	assert_int_equal(run(&p, "--universe", bad, NULL, NULL, NULL, NULL), 1);
	expect(&p, "garbage.json");
	assert_int_equal(run(&p, "--universe", book, NULL, NULL, NULL, NULL), 1);
	expect(&p, "wsname \"NOSLASH\" is not BASE/QUOTE");
	assert_int_equal(run(&p, "--universe", "/nonexistent/u.json", NULL, NULL, NULL, NULL), 1);
	expect(&p, "cannot open /nonexistent/u.json");
	assert_int_equal(run(&p, "--universe", UNI("tri.json"), "--home", "", NULL, NULL), 1);
	expect(&p, "no home asset");
	assert_int_equal(run(&p, "--limit", "many", NULL, NULL, NULL, NULL), 2);
	assert_int_equal(run(&p, "stray", NULL, NULL, NULL, NULL, NULL), 2);
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
	    cmocka_unit_test(test_instrument_snapshot),
	    cmocka_unit_test(test_asset_pairs),
	    cmocka_unit_test(test_default_sample),
	    cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

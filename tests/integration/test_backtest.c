/* Scenario: `arbitrade backtest` through the real binary.
 *
 * The hand-computed case: three pairs, BTC/USD mispriced for one second.
 *   t=0  BTC/USD 50000.0 / 50000.1   ETH/USD 2500.00 / 2500.01   ETH/BTC 0.05000 / 0.05001
 *   t=2  BTC/USD asks 49500.0 x 0.005 (then 50000.1), bid 49499.9
 *   t=3  BTC/USD back to 50000.0 / 50000.1
 * With a 10 bps taker fee, no slippage and no latency, the cycle
 * USD>BTC>ETH>USD buys the whole cheap level and nothing more (the next
 * level, 50000.1, loses):
 *   leg 1  buy 0.00500000 BTC at 49500.0: cost 247.5 USD, fee 0.2475 USD
 *   leg 2  buy ETH with 0.005 BTC at 0.05001 incl. fee:
 *          floor(0.005 / (0.05001 * 1.001), 8 dp) = 0.09988012 ETH,
 *          cost 0.0049950048012 BTC, fee 0.0000049950049 BTC (rounded up at 13 dp),
 *          0.0000000001939 BTC left over (dust)
 *   leg 3  sell 0.09988012 ETH at 2500.00: 249.7003 USD, fee 0.2497003 USD
 *   USD: 1000 - 247.5 - 0.2475 + 249.7003 - 0.2497003 = 1001.7030997
 * With 1500 ms latency leg 1 reaches the book after the window has closed:
 * nothing fills, a miss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <duckdb.h>

#include "book/book.h"
#include "harness.h"

static char dir[512];

static void make_env(char **envp, size_t cap, const char *const *extra)
{
	static char kv[8][700];
	size_t n = 0;
	snprintf(kv[n++], sizeof kv[0], "PATH=/usr/bin:/bin");
	snprintf(kv[n++], sizeof kv[0], "HOME=%s", dir);
	snprintf(kv[n++], sizeof kv[0], "DUCKDB_PATH=%s/unused.duckdb", dir);
	snprintf(kv[n++], sizeof kv[0], "ARB_MAX_NOTIONAL=1000");
	snprintf(kv[n++], sizeof kv[0], "ARB_MAX_BOOK_AGE_MS=10000");
	size_t i = 0;
	for (; i < n && i + 1 < cap; i++)
		envp[i] = kv[i];
	for (size_t j = 0; extra && extra[j] && i + 1 < cap; j++)
		envp[i++] = (char *)extra[j];
	envp[i] = NULL;
}

static int run(struct h_proc *p, char *const argv[])
{
	char *envp[16];
	make_env(envp, 16, NULL);
	return h_run(p, dir, argv, envp, NULL, 60000);
}

static void write_text(const char *name, const char *text)
{
	char path[700];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_text(const char *name)
{
	static char buf[1 << 16];
	char path[700];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

#define SEED(ts, sym, bids, asks)                                                                  \
	"{\"timestamp\":\"" ts "\",\"symbol\":\"" sym "\",\"bids\":" bids ",\"asks\":" asks "}\n"

static const char seed[] = SEED("2024-01-01T00:00:00Z", "BTC/USD", "[[\"50000.0\",\"1.00000000\"]]",
				"[[\"50000.1\",\"1.00000000\"]]")
    SEED("2024-01-01T00:00:00Z", "ETH/USD", "[[\"2500.00\",\"10.00000000\"]]",
	 "[[\"2500.01\",\"10.00000000\"]]")
	SEED("2024-01-01T00:00:00Z", "ETH/BTC", "[[\"0.05000\",\"10.00000000\"]]",
	     "[[\"0.05001\",\"10.00000000\"]]")
	    SEED("2024-01-01T00:00:02Z", "BTC/USD", "[[\"49499.9\",\"1.00000000\"]]",
		 "[[\"49500.0\",\"0.00500000\"],[\"50000.1\",\"1.00000000\"]]")
		SEED("2024-01-01T00:00:03Z", "BTC/USD", "[[\"50000.0\",\"1.00000000\"]]",
		     "[[\"50000.1\",\"1.00000000\"]]");

/* A report must hold a piece of text; on failure the report is shown. */
static void has(const char *report, const char *want)
{
	if (!strstr(report, want))
		fail_msg("report lacks %s:\n%s", want, report);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(h_tmpdir(dir, sizeof dir), 0);
	write_text("seed.jsonl", seed);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rmrf(dir);
	return 0;
}

static char *bt(const char *events, const char *latency, const char *report, const char *extra,
		int want_rc)
{
	struct h_proc p;
	char ev[700], rp[700];
	snprintf(ev, sizeof ev, "%s/%s", dir, events);
	snprintf(rp, sizeof rp, "%s/%s", dir, report);
	char *argv[16] = {ARBITRADE_BIN,
			  "backtest",
			  "--events",
			  ev,
			  "--starting-balances",
			  "USD=1000",
			  "--taker-fee-bps",
			  "10",
			  "--slippage-bps",
			  "0",
			  "--latency-ms",
			  (char *)latency,
			  "--report",
			  rp,
			  (char *)extra,
			  NULL};
	int rc = run(&p, argv);
	if (rc != want_rc)
		fail_msg("backtest exited %d, want %d:\n%s", rc, want_rc, p.out);
	return want_rc == 0 ? read_text(report) : NULL;
}

static void hand_computed_hit(void **state)
{
	(void)state;
	char *r = bt("seed.jsonl", "0", "hit.json", NULL, 0);
	has(r, "\"events\":5,");
	has(r, "\"opportunities\":1,");
	has(r, "\"executed_cycles\":1,");
	has(r, "\"legs\":3,");
	has(r, "\"final_balances\":{\"USD\":\"1001.7030997000\"");
	has(r, "\"pnl\":{\"USD\":\"1.7030997000\"");
	has(r, "\"fees\":{\"USD\":\"0.4972003\",\"BTC\":\"0.0000049950049\"}");
	has(r, "\"outcome\":\"executed\",\"expected_profit\":1.7030997000,"
	       "\"realised_profit\":1.7030997000");
	has(r, "\"hit_rate\":1.0000000000");
}

/* With slippage the legs fill at their limits (the detector's price moved by
 * the tolerance), which the 1% window still pays for. */
static void slippage_still_fills(void **state)
{
	(void)state;
	struct h_proc p;
	char ev[700], rp[700];
	snprintf(ev, sizeof ev, "%s/seed.jsonl", dir);
	snprintf(rp, sizeof rp, "%s/slip.json", dir);
	char *argv[] = {ARBITRADE_BIN,
			"backtest",
			"--events",
			ev,
			"--starting-balances",
			"USD=1000",
			"--taker-fee-bps",
			"10",
			"--slippage-bps",
			"5",
			"--latency-ms",
			"0",
			"--report",
			rp,
			NULL};
	assert_int_equal(run(&p, argv), 0);
	char *r = read_text("slip.json");
	has(r, "\"executed_cycles\":1,");
	has(r, "\"legs\":3,");
}

static void latency_makes_a_miss(void **state)
{
	(void)state;
	char *r = bt("seed.jsonl", "1500", "miss.json", NULL, 0);
	has(r, "\"executed_cycles\":0,");
	has(r, "\"missed\":1,");
	has(r, "\"legs\":1,");
	has(r, "leg 1 not filled at its limit by order time + latency\":1");
	has(r, "\"final_balances\":{\"USD\":\"1000.0000000000\"");
}

static void deterministic(void **state)
{
	(void)state;
	char a[1 << 16];
	char *r = bt("seed.jsonl", "50", "d1.json", NULL, 0);
	snprintf(a, sizeof a, "%s", r);
	r = bt("seed.jsonl", "50", "d2.json", NULL, 0);
	assert_string_equal(a, r);
}

static int64_t db_i64(const char *path, const char *sql)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_result res;
	int64_t v = -1;
	assert_int_equal(duckdb_open(path, &db), DuckDBSuccess);
	assert_int_equal(duckdb_connect(db, &con), DuckDBSuccess);
	if (duckdb_query(con, sql, &res) == DuckDBSuccess)
		v = duckdb_value_int64(&res, 0, 0);
	else
		fprintf(stderr, "%s: %s\n", sql, duckdb_result_error(&res));
	duckdb_destroy_result(&res);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return v;
}

static void database_rows(void **state)
{
	(void)state;
	char db[700];
	snprintf(db, sizeof db, "%s/bt.duckdb", dir);
	char arg[720];
	snprintf(arg, sizeof arg, "--db=%s", db);
	bt("seed.jsonl", "0", "db.json", arg, 0);
	assert_int_equal(db_i64(db, "SELECT count(*) FROM trades WHERE mode = 'backtest' AND "
				    "status = 'filled'"),
			 3);
	assert_int_equal(db_i64(db, "SELECT count(*) FROM trades WHERE symbol = 'ETH/BTC' AND "
				    "filled_qty = 0.09988012 AND fee = 0.0000049950049"),
			 1);
	assert_int_equal(db_i64(db, "SELECT count(*) FROM opportunities WHERE verdict = "
				    "'executed' AND cycle = 'USD>BTC>ETH>USD'"),
			 1);
	assert_int_equal(
	    db_i64(db, "SELECT count(*) FROM trades WHERE realised_profit = 1.7030997"), 1);

	/* Portfolio rows value every asset in the home asset: the BTC dust at
	 * the best bid then, 0.0000000001 BTC x 49499.9 = 0.0000049500 USD. */
	assert_int_equal(db_i64(db, "SELECT count(*) FROM portfolio_snapshots WHERE asset = 'BTC' "
				    "AND value_home = 0.00000495"),
			 1);
	assert_int_equal(db_i64(db, "SELECT count(*) FROM portfolio_snapshots WHERE asset = 'USD' "
				    "AND value_home = balance"),
			 1);

	/* `arbitrade metrics` reads the backtest's database. */
	struct h_proc p;
	char *m[] = {ARBITRADE_BIN, "metrics", "--db", db, "--json", NULL};
	assert_int_equal(run(&p, m), 0);
	has(p.out, "\"opportunities\":1,");
	has(p.out, "\"executed\":1");
	has(p.out, "\"hit_rate\":1,");
	has(p.out, "\"orders\":3,");
	has(p.out, "\"profit\":[{\"home\":\"USD\",\"cycles\":1,\"expected\":\"1.7030997\","
		   "\"realised\":\"1.7030997\"}]");
	char *text[] = {ARBITRADE_BIN, "metrics", "--db", db, "--since", "30d", NULL};
	assert_int_equal(run(&p, text), 0);
	char *bad[] = {ARBITRADE_BIN, "metrics", "--db", db, "--since", "soon", NULL};
	assert_int_equal(run(&p, bad), 2);
	has(p.out, "--since 'soon'");
	char *bench[] = {ARBITRADE_BIN, "metrics", "--bench", "20000", NULL};
	assert_int_equal(run(&p, bench), 0);
	has(p.out, "\"agree\":true");
}

/* The same scenario as a recording: an instrument snapshot, then book
 * snapshots with the checksums Kraken would send. */
static void book_msg(char *out, size_t cap, const char *ts, const char *sym, const char *bids,
		     const char *asks, const struct book_level *b, size_t nb,
		     const struct book_level *a, size_t na)
{
	uint32_t sum = book_checksum_levels(a, na, b, nb);
	snprintf(out, cap,
		 "{\"recv_ts\":\"%s\",\"msg\":{\"channel\":\"book\",\"type\":\"snapshot\","
		 "\"data\":[{\"symbol\":\"%s\",\"bids\":%s,\"asks\":%s,\"checksum\":%u,"
		 "\"timestamp\":\"%s\"}]}}\n",
		 ts, sym, bids, asks, sum, ts);
}

#define PAIR(sym, base, quote, pp, pi, cmin)                                                       \
	"{\"symbol\":\"" sym "\",\"base\":\"" base "\",\"quote\":\"" quote                         \
	"\",\"status\":\"online\",\"price_increment\":" pi ",\"price_precision\":" pp              \
	",\"qty_increment\":1e-08,\"qty_precision\":8,\"qty_min\":0.0001,\"cost_min\":" cmin       \
	",\"cost_precision\":5}"

static void recording_format(void **state)
{
	(void)state;
	static char text[8192];
	char line[1024];
	size_t k = 0;
	k += (size_t)snprintf(text + k, sizeof text - k,
			      "{\"recv_ts\":\"2023-12-31T23:59:59Z\",\"msg\":{\"channel\":"
			      "\"instrument\",\"type\":\"snapshot\",\"data\":{\"assets\":[],"
			      "\"pairs\":[%s,%s,%s]}}}\n",
			      PAIR("BTC/USD", "BTC", "USD", "1", "0.1", "0.5"),
			      PAIR("ETH/USD", "ETH", "USD", "2", "0.01", "0.5"),
			      PAIR("ETH/BTC", "ETH", "BTC", "5", "0.00001", "0.00002"));
	const struct book_level b1[] = {{500000, 100000000}}, a1[] = {{500001, 100000000}};
	const struct book_level b2[] = {{250000, 1000000000}}, a2[] = {{250001, 1000000000}};
	const struct book_level b3[] = {{5000, 1000000000}}, a3[] = {{5001, 1000000000}};
	const struct book_level b4[] = {{494999, 100000000}},
				a4[] = {{495000, 500000}, {500001, 100000000}};
	book_msg(line, sizeof line, "2024-01-01T00:00:00Z", "BTC/USD",
		 "[{\"price\":50000.0,\"qty\":1.00000000}]", "[{\"price\":50000.1,\"qty\":1.0}]",
		 b1, 1, a1, 1);
	k += (size_t)snprintf(text + k, sizeof text - k, "%s", line);
	book_msg(line, sizeof line, "2024-01-01T00:00:00Z", "ETH/USD",
		 "[{\"price\":2500.00,\"qty\":10}]", "[{\"price\":2500.01,\"qty\":10}]", b2, 1, a2,
		 1);
	k += (size_t)snprintf(text + k, sizeof text - k, "%s", line);
	book_msg(line, sizeof line, "2024-01-01T00:00:00Z", "ETH/BTC",
		 "[{\"price\":0.05000,\"qty\":10}]", "[{\"price\":0.05001,\"qty\":10}]", b3, 1, a3,
		 1);
	k += (size_t)snprintf(text + k, sizeof text - k, "%s", line);
	book_msg(line, sizeof line, "2024-01-01T00:00:02Z", "BTC/USD",
		 "[{\"price\":49499.9,\"qty\":1}]",
		 "[{\"price\":49500.0,\"qty\":0.005},{\"price\":50000.1,\"qty\":1}]", b4, 1, a4, 2);
	k += (size_t)snprintf(text + k, sizeof text - k, "%s", line);
	book_msg(line, sizeof line, "2024-01-01T00:00:03Z", "BTC/USD",
		 "[{\"price\":50000.0,\"qty\":1}]", "[{\"price\":50000.1,\"qty\":1}]", b1, 1, a1,
		 1);
	k += (size_t)snprintf(text + k, sizeof text - k, "%s", line);
	write_text("rec.jsonl", text);
	char *r = bt("rec.jsonl", "0", "rec.json", NULL, 0);
	has(r, "\"precisions\":\"instruments\"");
	has(r, "\"book_errors\":0,");
	has(r, "\"executed_cycles\":1,");
	has(r, "\"final_balances\":{\"USD\":\"1001.7030997000\"");
}

static void bad_input(void **state)
{
	(void)state;
	static char text[4096];
	struct h_proc p;
	snprintf(text, sizeof text, "%s%s%s", seed,
		 "{\"timestamp\":\"2024-01-01T00:00:04Z\",\"symbol\":\"BTC/USD\",\"bids\":[[1]],"
		 "\"asks\":[]}\n",
		 "not json at all\n");
	write_text("bad.jsonl", text);
	char ev[700];
	snprintf(ev, sizeof ev, "%s/bad.jsonl", dir);
	char *argv[] = {ARBITRADE_BIN, "backtest", "--events", ev, NULL};
	assert_int_equal(run(&p, argv), 2);
	assert_non_null(strstr(p.out, "bad.jsonl:6:"));
	assert_non_null(strstr(p.out, "level 0 is not [price, qty]"));

	char *r = bt("bad.jsonl", "0", "skip.json", "--skip-bad-lines", 0);
	has(r, "\"bad_lines\":2,");
	has(r, "\"first_bad_line\":6,");
	has(r, "\"executed_cycles\":1,");

	char *missing[] = {ARBITRADE_BIN, "backtest", NULL};
	assert_int_equal(run(&p, missing), 2);
	assert_non_null(strstr(p.out, "--events FILE is required"));
	char *neg[] = {ARBITRADE_BIN, "backtest", "--events", ev, "--latency-ms", "-5", NULL};
	assert_int_equal(run(&p, neg), 2);
	assert_non_null(strstr(p.out, "--latency-ms"));
	char *nofile[] = {ARBITRADE_BIN, "backtest", "--events", "/nonexistent.jsonl", NULL};
	assert_int_equal(run(&p, nofile), 2);
	assert_non_null(strstr(p.out, "/nonexistent.jsonl"));
}

/* An AssetPairs answer gives the precisions and minimums: with an ordermin
 * of 0.01 BTC the cheap level alone (0.005 BTC) is too small, and the best
 * size that clears the minimum takes 0.005 more at 50000.1, still a profit:
 *   leg 1  0.01 BTC for 247.5 + 250.0005 = 497.5005 USD, fee 0.4975005
 *   leg 2  floor(0.01 / (0.05001 * 1.001), 8 dp) = 0.19976024 ETH
 *   leg 3  0.19976024 * 2500.00 = 499.4006 USD, fee 0.4994006
 *   USD: 1000 - 497.5005 - 0.4975005 + 499.4006 - 0.4994006 = 1000.9031989 */
static void asset_pairs_instruments(void **state)
{
	(void)state;
	write_text("pairs.json",
		   "{\"error\":[],\"result\":{"
		   "\"XXBTZUSD\":{\"altname\":\"XBTUSD\",\"wsname\":\"XBT/USD\",\"base\":\"XXBT\","
		   "\"quote\":\"ZUSD\",\"pair_decimals\":1,\"cost_decimals\":5,\"lot_decimals\":8,"
		   "\"ordermin\":\"0.01\",\"costmin\":\"0.5\",\"tick_size\":\"0.1\",\"status\":"
		   "\"online\"},"
		   "\"XETHZUSD\":{\"altname\":\"ETHUSD\",\"wsname\":\"ETH/USD\",\"base\":\"XETH\","
		   "\"quote\":\"ZUSD\",\"pair_decimals\":2,\"cost_decimals\":5,\"lot_decimals\":8,"
		   "\"ordermin\":\"0.001\",\"costmin\":\"0.5\",\"tick_size\":\"0.01\",\"status\":"
		   "\"online\"},"
		   "\"XETHXXBT\":{\"altname\":\"ETHXBT\",\"wsname\":\"ETH/XBT\",\"base\":\"XETH\","
		   "\"quote\":\"XXBT\",\"pair_decimals\":5,\"cost_decimals\":8,\"lot_decimals\":8,"
		   "\"ordermin\":\"0.001\",\"costmin\":\"0.00002\",\"tick_size\":\"0.00001\","
		   "\"status\":\"online\"}}}");
	char arg[720];
	snprintf(arg, sizeof arg, "--instruments=%s/pairs.json", dir);
	char *r = bt("seed.jsonl", "0", "ap.json", arg, 0);
	has(r, "\"precisions\":\"instruments\"");
	has(r, "\"executed_cycles\":1,");
	has(r, "\"legs\":3,");
	has(r, "\"final_balances\":{\"USD\":\"1000.9031989000\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hand_computed_hit),
	    cmocka_unit_test(slippage_still_fills),
	    cmocka_unit_test(latency_makes_a_miss),
	    cmocka_unit_test(deterministic),
	    cmocka_unit_test(database_rows),
	    cmocka_unit_test(recording_format),
	    cmocka_unit_test(bad_input),
	    cmocka_unit_test(asset_pairs_instruments),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

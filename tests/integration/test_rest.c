/* The REST client and `arbitrade account` against the real simulator:
 * `arbitrade sim --scenario basic.json` runs as a child process; the test
 * trades over REST, checks balances and the book, and runs the account
 * command with good and bad credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "integration/harness.h"
#include "kraken/rest.h"
#include "kraken/sign.h"

#define KEY    "sim-test-key-1"
#define SECRET "YXJiaXRyYWRlLXNpbS10ZXN0LXNlY3JldC1ub3QtYS1yZWFsLWtyYWtlbi1rZXkh"

static char dir[256];
static char rest_url[128];
static struct h_proc sim;

static int start_sim(void **state)
{
	char *argv[] = {ARBITRADE_BIN, "sim", "--scenario", TEST_DATA_DIR "/sim/basic.json", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};

	(void)state;
	if (h_tmpdir(dir, sizeof(dir)) != 0 || h_spawn(&sim, dir, argv, envp) != 0)
		return -1;
	for (int i = 0; i < 500; i++) {
		const char *u;

		h_drain(&sim);
		u = strstr(sim.out, "\"rest_url\":\"");
		if (u && strchr(u + 12, '"')) {
			size_t n;

			u += 12;
			n = (size_t)(strchr(u, '"') - u);
			if (n >= sizeof(rest_url))
				return -1;
			memcpy(rest_url, u, n);
			rest_url[n] = '\0';
			return 0;
		}
		if (waitpid(sim.pid, NULL, WNOHANG) == sim.pid) {
			fprintf(stderr, "sim exited early:\n%s\n", sim.out);
			sim.pid = 0;
			return -1;
		}
		h_sleep_ms(20);
	}
	fprintf(stderr, "sim not ready:\n%s\n", sim.out);
	return -1;
}

static int stop_sim(void **state)
{
	(void)state;
	if (sim.pid > 0) {
		kill(sim.pid, SIGTERM);
		if (h_wait(&sim, 10000) != 0)
			h_kill(&sim);
	}
	h_rmrf(dir);
	return 0;
}

static void test_trade_over_rest(void **state)
{
	struct secret *k = secret_new(KEY, strlen(KEY)), *s = secret_new(SECRET, strlen(SECRET));
	struct kr_rest_balances *b = calloc(1, sizeof(*b));
	struct err_info info = {0};
	struct kr_rest_opts o = {0};
	struct kr_rest_add_result res;
	struct kr_rest_order_req r = {.pair = "BTC/USD",
				      .side = "buy",
				      .ordertype = "market",
				      .volume = {1000000, 8},
				      .has_userref = true,
				      .userref = 77};
	struct kr_rest_order_filter f = {.has_userref = true, .userref = 77};
	struct kr_rest_order found;
	struct kr_rest_pairs ps;
	struct kr_rest_status st;
	struct kr_nonce *n;
	struct kr_rest *c;
	char path[512];
	int64_t usd0 = 0, usd1 = 0, btc0 = 0, btc1 = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/nonce.txt", dir);
	n = kr_nonce_open(path, NULL, &info);
	assert_non_null(n);
	o.base_url = rest_url;
	o.api_key = k;
	o.api_secret = s;
	o.nonce = n;
	o.timeout_ms = 5000;
	o.tier = "pro";
	c = kr_rest_new(&o, &info);
	assert_non_null(c);
	assert_int_equal(kr_rest_system_status(c, &st, &info), 0);
	assert_int_equal(st.status, KR_SYSTEM_ONLINE);
	assert_int_equal(kr_rest_asset_pairs(c, NULL, &ps, &info), 0);
	assert_true(ps.n >= 6);
	kr_rest_pairs_free(&ps);
	assert_int_equal(kr_rest_balance(c, b, &info), 0);
	for (size_t i = 0; i < b->n; i++) {
		if (strcmp(b->v[i].asset, "USD") == 0)
			kr_dec_to_scale(b->v[i].balance, 2, &usd0);
		if (strcmp(b->v[i].asset, "BTC") == 0)
			kr_dec_to_scale(b->v[i].balance, 8, &btc0);
	}
	assert_int_equal(usd0, 1000000);
	if (kr_rest_add_order(c, &r, &res, &info) != 0)
		fail_msg("AddOrder: %s", info.msg);
	assert_int_equal(res.n_txid, 1);
	assert_int_equal(kr_rest_reconcile(c, &f, &found, &info), 1);
	assert_string_equal(found.txid, res.txid[0]);
	assert_int_equal(kr_rest_balance(c, b, &info), 0);
	for (size_t i = 0; i < b->n; i++) {
		if (strcmp(b->v[i].asset, "USD") == 0)
			kr_dec_to_scale(b->v[i].balance, 2, &usd1);
		if (strcmp(b->v[i].asset, "BTC") == 0)
			kr_dec_to_scale(b->v[i].balance, 8, &btc1);
	}
	assert_true(usd1 < usd0);
	assert_int_equal(btc1 - btc0, 1000000);
	kr_rest_free(c);
	kr_nonce_free(n);
	secret_free(k);
	secret_free(s);
	free(b);
}

static void run_account(const char *secret, int want_rc, const char *want_text)
{
	char env_key[64], env_secret[160], env_url[160], env_db[300], env_file[300];
	char *argv[] = {ARBITRADE_BIN, "account", "--env-file", env_file, NULL};
	char *envp[] = {"PATH=/usr/bin:/bin",
			env_key,
			env_secret,
			env_url,
			env_db,
			"KRAKEN_API_KEY_PERMISSIONS=query,trade,websocket",
			"BOOK_SYMBOLS=BTC/USD,ETH/USD",
			NULL};
	struct h_proc p;
	FILE *fp;
	int rc;

	snprintf(env_file, sizeof(env_file), "%s/empty.env", dir);
	fp = fopen(env_file, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(env_key, sizeof(env_key), "KRAKEN_API_KEY=%s", KEY);
	snprintf(env_secret, sizeof(env_secret), "KRAKEN_API_SECRET=%s", secret);
	snprintf(env_url, sizeof(env_url), "KRAKEN_REST_URL=%s", rest_url);
	snprintf(env_db, sizeof(env_db), "DUCKDB_PATH=%s/db/a.duckdb", dir);
	rc = h_run(&p, dir, argv, envp, NULL, 30000);
	if (rc != want_rc || !strstr(p.out, want_text))
		fprintf(stderr, "account output:\n%s\n", p.out);
	assert_int_equal(rc, want_rc);
	assert_non_null(strstr(p.out, want_text));
	assert_null(strstr(p.out, secret));
	assert_null(strstr(p.out, KEY));
}

static void test_account_command(void **state)
{
	(void)state;
	run_account(SECRET, 0, "taker 26.00 bps");
	run_account(SECRET, 0, "Open orders:");
	run_account("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", 1, "EAPI:Invalid signature");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trade_over_rest),
	    cmocka_unit_test(test_account_command),
	};

	return cmocka_run_group_tests(tests, start_sim, stop_sim);
}

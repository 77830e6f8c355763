/* The dashboard end to end: the real binary makes the password hash
 * (`secrets hash-password`), `run --no-market-data` serves a database seeded
 * through the store, an operator logs in over HTTP, sees the opportunity and
 * the trade, pauses, kills, is refused live mode without credentials, and
 * /metrics reflects it; after a clean stop the audit log in DuckDB names the
 * operator for every action. Configuration errors around the login exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>

#include "core/clock.h"
#include "harness.h"
#include "store/store.h"

#define PASSWORD "integration-password"
#define BASIC	 "YWRtaW46aW50ZWdyYXRpb24tcGFzc3dvcmQ=" /* admin:integration-password */

static char dir[400], db[480], envf[480], hash[256], home[480];
static char resp[1 << 18];

/* Only what the bot needs (and the sanitizers' options, under make sanitize). */
static char *const *child_env(void)
{
	static char path[600], san[3][300], *envp[6];
	static const char *const pass[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
	size_t n = 0;

	snprintf(path, sizeof(path), "PATH=%s", getenv("PATH") ? getenv("PATH") : "/usr/bin");
	snprintf(home, sizeof(home), "HOME=%s", dir);
	envp[n++] = path;
	envp[n++] = home;
	for (size_t i = 0; i < 3; i++) {
		if (!getenv(pass[i]))
			continue;
		snprintf(san[i], sizeof(san[i]), "%s=%s", pass[i], getenv(pass[i]));
		envp[n++] = san[i];
	}
	envp[n] = NULL;
	return envp;
}

static void write_env(const char *extra, int port)
{
	FILE *f = fopen(envf, "w");

	assert_non_null(f);
	fprintf(f,
		"APP_ENV=test\nAPP_PORT=%d\nDUCKDB_PATH=%s\nSTORE_FLUSH_MS=20\n"
		"DASHBOARD_USER=admin\n%s\n",
		port, db, extra);
	fclose(f);
}

static void make_hash(void)
{
	struct h_proc p;
	char *argv[] = {ARBITRADE_BIN, "secrets", "hash-password", NULL};
	char *bad[] = {ARBITRADE_BIN, "secrets", "hash-password", PASSWORD, NULL};

	/* The password travels on stdin only. */
	assert_int_equal(h_run(&p, dir, bad, child_env(), "", 30000), 2);
	assert_int_equal(h_run(&p, dir, argv, child_env(), PASSWORD, 30000), 0);
	assert_memory_equal(p.out, "scrypt$32768$8$1$", 17);
	snprintf(hash, sizeof(hash), "%.*s", (int)strcspn(p.out, "\n"), p.out);
	assert_null(strstr(p.out, PASSWORD));
}

static void seed(void)
{
	struct store_cfg cfg = {.batch_rows = 64, .flush_ms = 10, .ring_capacity = 256};
	struct err_info info = {0};
	struct store *s;
	struct store_rec r;

	snprintf(cfg.duckdb_path, sizeof(cfg.duckdb_path), "%s", db);
	s = store_open(&cfg, &info);
	if (!s)
		fail_msg("store_open: %s", info.msg);
	memset(&r, 0, sizeof(r));
	r.type = STORE_REC_OPPORTUNITY;
	r.u.opp.ts_ns = clock_wall_ns() - 5000000000ll;
	r.u.opp.opp_id = 4242;
	r.u.opp.verdict = STORE_VERDICT_EXECUTED;
	r.u.opp.n_legs = 1;
	snprintf(r.u.opp.cycle, sizeof(r.u.opp.cycle), "USD>XBT>ETH>USD");
	snprintf(r.u.opp.home_asset, sizeof(r.u.opp.home_asset), "USD");
	snprintf(r.u.opp.legs[0].symbol, sizeof(r.u.opp.legs[0].symbol), "XBT/USD");
	r.u.opp.legs[0].price = store_amt(6000010, 2);
	r.u.opp.legs[0].qty = store_amt(1, 2);
	r.u.opp.size = store_amt(60000, 2);
	r.u.opp.expected_profit = store_amt(3141, 3);
	r.u.opp.expected_fee = store_amt(1, 1);
	r.u.opp.detect_latency_ns = 33000;
	assert_int_equal(store_enqueue(s, &r), 0);
	memset(&r, 0, sizeof(r));
	r.type = STORE_REC_TRADE;
	r.u.trade.ts_ns = clock_wall_ns() - 4000000000ll;
	r.u.trade.opp_id = 4242;
	r.u.trade.status = STORE_STATUS_FILLED;
	snprintf(r.u.trade.cycle, sizeof(r.u.trade.cycle), "USD>XBT>ETH>USD");
	snprintf(r.u.trade.cl_ord_id, sizeof(r.u.trade.cl_ord_id), "arb-4242-0");
	snprintf(r.u.trade.symbol, sizeof(r.u.trade.symbol), "XBT/USD");
	snprintf(r.u.trade.fee_asset, sizeof(r.u.trade.fee_asset), "USD");
	r.u.trade.qty = store_amt(1, 2);
	r.u.trade.filled_qty = store_amt(1, 2);
	r.u.trade.avg_price = store_amt(6000010, 2);
	r.u.trade.limit_price = store_amt(6000010, 2);
	r.u.trade.fee = store_amt(156, 2);
	r.u.trade.expected_profit = store_amt(3141, 3);
	r.u.trade.realised_profit = store_amt(2718, 3);
	r.u.trade.submit_latency_ns = 120000;
	r.u.trade.ack_latency_ns = -1;
	r.u.trade.fill_latency_ns = -1;
	assert_int_equal(store_enqueue(s, &r), 0);
	assert_int_equal(store_close(s), 0);
}

/* The value of cookie name from a Set-Cookie header in resp. */
static void set_cookie(const char *name, char *out, size_t cap)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "Set-Cookie: %s=", name);
	p = strstr(resp, pat);
	if (!p)
		fail_msg("no %s cookie in:\n%.2000s", name, resp);
	p += strlen(pat);
	snprintf(out, cap, "%.*s", (int)strcspn(p, ";\r"), p);
}

static void page_token(char *out, size_t cap)
{
	const char *p = strstr(resp, "name=\"csrf\" value=\"");

	assert_non_null(p);
	p += 19;
	snprintf(out, cap, "%.*s", (int)strcspn(p, "\""), p);
	assert_int_equal(strlen(out), 64);
}

static int post(int port, const char *path, const char *cookie, const char *body)
{
	return h_http(port, "POST", path, cookie, body, resp, sizeof(resp));
}

struct audit_rows {
	char text[4096];
};

static int audit_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct audit_rows *a = ctx;
	size_t len = strlen(a->text);

	(void)names;
	if (n == 2)
		snprintf(a->text + len, sizeof(a->text) - len, "%s %s\n", v[0] ? v[0] : "",
			 v[1] ? v[1] : "");
	return 0;
}

static void dashboard_end_to_end(void **state)
{
	char *run[] = {ARBITRADE_BIN, "run", "--no-market-data", "--env-file", envf, NULL};
	char login_tok[80], sess[80], cookie[256], tok[80], body[256], extra[400];
	struct audit_rows a = {{0}};
	struct err_info info = {0};
	struct store_reader *rd;
	struct h_proc p;
	int port = h_free_port();

	(void)state;
	snprintf(extra, sizeof(extra), "DASHBOARD_PASSWORD_HASH=%s", hash);
	write_env(extra, port);
	assert_int_equal(h_spawn(&p, dir, run, child_env()), 0);
	if (h_http_wait(port, "/health", 200, 30000) != 0) {
		h_kill(&p);
		fail_msg("dashboard did not start:\n%s", p.out);
	}

	assert_int_equal(h_http(port, "GET", "/", NULL, NULL, resp, sizeof(resp)), 303);
	assert_non_null(strstr(resp, "Location: /login"));
	assert_int_equal(h_http(port, "GET", "/login", NULL, NULL, resp, sizeof(resp)), 200);
	set_cookie("arb_login", login_tok, sizeof(login_tok));
	snprintf(cookie, sizeof(cookie), "Cookie: arb_login=%s\r\n", login_tok);
	snprintf(body, sizeof(body), "csrf=%s&user=admin&password=wrong", login_tok);
	assert_int_equal(post(port, "/login", cookie, body), 401);
	snprintf(body, sizeof(body), "csrf=%s&user=admin&password=%s", login_tok, PASSWORD);
	assert_int_equal(post(port, "/login", cookie, body), 303);
	set_cookie("arb_session", sess, sizeof(sess));
	snprintf(cookie, sizeof(cookie), "Cookie: arb_session=%s\r\n", sess);

	/* The seeded opportunity and trade. */
	assert_int_equal(h_http(port, "GET", "/opportunities", cookie, NULL, resp, sizeof(resp)),
			 200);
	assert_non_null(strstr(resp, "USD&gt;XBT&gt;ETH&gt;USD"));
	assert_non_null(strstr(resp, "3.141 USD"));
	assert_int_equal(h_http(port, "GET", "/trades", cookie, NULL, resp, sizeof(resp)), 200);
	assert_non_null(strstr(resp, "realised <strong>2.718</strong>"));
	assert_non_null(strstr(resp, "60000.1"));
	assert_int_equal(h_http(port, "GET", "/", cookie, NULL, resp, sizeof(resp)), 200);
	assert_non_null(strstr(resp, "<dd id=\"ov-trades\">1</dd>"));
	page_token(tok, sizeof(tok));

	/* Controls: CSRF first, then pause, kill, and live refused. */
	assert_int_equal(post(port, "/control/pause", cookie, "x=1"), 403);
	snprintf(body, sizeof(body), "csrf=%s", tok);
	assert_int_equal(post(port, "/control/pause", cookie, body), 303);
	assert_int_equal(h_http(port, "GET", "/", cookie, NULL, resp, sizeof(resp)), 200);
	assert_non_null(strstr(resp, ">paused</dd>"));
	snprintf(body, sizeof(body), "csrf=%s&confirm=KILL", tok);
	assert_int_equal(post(port, "/control/kill", cookie, body), 303);
	snprintf(body, sizeof(body), "csrf=%s", tok);
	assert_int_equal(post(port, "/control/resume", cookie, body), 409);
	snprintf(body, sizeof(body), "csrf=%s&mode=live&confirm=LIVE", tok);
	assert_int_equal(post(port, "/control/mode", cookie, body), 409);
	assert_non_null(strstr(resp, "KRAKEN_API_KEY"));

	assert_int_equal(h_http(port, "GET", "/metrics", "Authorization: Basic " BASIC "\r\n", NULL,
				resp, sizeof(resp)),
			 200);
	assert_non_null(strstr(resp, "\narbitrade_paused 1\n"));
	assert_non_null(strstr(resp, "\narbitrade_killed 1\n"));
	assert_non_null(strstr(resp, "arbitrade_trading_mode{mode=\"paper\"} 1\n"));

	snprintf(body, sizeof(body), "csrf=%s", tok);
	assert_int_equal(post(port, "/logout", cookie, body), 303);
	assert_int_equal(h_http(port, "GET", "/", cookie, NULL, resp, sizeof(resp)), 303);

	kill(p.pid, SIGTERM);
	assert_int_equal(h_wait(&p, 30000), 0);
	assert_null(strstr(p.out, hash + 20));
	assert_null(strstr(p.out, PASSWORD));

	rd = store_reader_open_path(db, &info);
	if (!rd)
		fail_msg("reader: %s", info.msg);
	assert_int_equal(store_query(rd, "SELECT actor, action FROM audit_events ORDER BY id",
				     audit_row, &a, &info),
			 0);
	store_reader_close(rd);
	static const char *const want[] = {
	    "system start\n",
	    "anonymous login_failed\n",
	    "operator:admin login\n",
	    "operator:admin pause\n",
	    "operator:admin kill_switch\n",
	    "operator:admin mode_change_refused\n",
	    "operator:admin logout\n",
	    "system stop\n",
	};
	const char *at = a.text;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *hit = strstr(at, want[i]);

		if (!hit)
			fail_msg("audit log lacks (in order) %s in:\n%s", want[i], a.text);
		at = hit + strlen(want[i]);
	}
}

static void login_config_errors(void **state)
{
	char *check[] = {ARBITRADE_BIN, "run", "--check", "--env-file", envf, NULL};
	struct h_proc p;

	(void)state;
	write_env("DASHBOARD_PASSWORD_HASH=scrypt$1024$8$1$not*base64$x", 8080);
	assert_int_equal(h_run(&p, dir, check, child_env(), NULL, 30000), 2);
	assert_non_null(strstr(p.out, "DASHBOARD_PASSWORD_HASH"));
	assert_null(strstr(p.out, "not*base64"));
	write_env("DASHBOARD_PASSWORD_HASH=", 8080);
	assert_int_equal(h_run(&p, dir, check, child_env(), NULL, 30000), 2);
	assert_non_null(strstr(p.out, "DASHBOARD_PASSWORD_HASH"));
	write_env("DASHBOARD_PASSWORD_HASH="
		  "scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		  8080);
	assert_int_equal(h_run(&p, dir, check, child_env(), NULL, 30000), 0);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(h_tmpdir(dir, sizeof(dir)), 0);
	snprintf(db, sizeof(db), "%s/db/arb.duckdb", dir);
	snprintf(envf, sizeof(envf), "%s/test.env", dir);
	make_hash();
	seed();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rmrf(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dashboard_end_to_end),
	    cmocka_unit_test(login_config_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

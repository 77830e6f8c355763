/* Shared by the end-to-end scenarios (test_e2e_*.c): the real simulator and
 * the real `arbitrade run` as child processes on loopback, a temporary
 * DuckDB read after the bot stopped, the dashboard driven over HTTP.
 * Header-only, like harness.h; each scenario is its own binary. */
#ifndef ARB_TESTS_E2E_H
#define ARB_TESTS_E2E_H

#include <duckdb.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/secret.h"
#include "harness.h"
#include "kraken/rest.h"
#include "kraken/sign.h"

#define E2E_KEY	   "sim-test-key-1"
#define E2E_SECRET "YXJiaXRyYWRlLXNpbS10ZXN0LXNlY3JldC1ub3QtYS1yZWFsLWtyYWtlbi1rZXkh"

static char e2e_dir[512];
static struct h_proc e2e_sim;
static char e2e_ws_url[256], e2e_ws_auth_url[256], e2e_rest_url[256];
static int e2e_ctl_port;

struct e2e_bot {
	struct h_proc p;
	int port;
	char db[600];
};

/* The bot a failed assertion leaves running: teardown kills it. */
static struct e2e_bot *e2e_running;

/* Keeps a child's pipe from filling: reads everything, keeping the tail. */
static __attribute__((unused)) void e2e_drain(struct h_proc *p)
{
	if (p->pid <= 0)
		return;
	if (p->out_len > sizeof(p->out) / 2) {
		size_t keep = 8192;
		memmove(p->out, p->out + p->out_len - keep, keep);
		p->out_len = keep;
		p->out[keep] = '\0';
	}
	h_drain(p);
}

static __attribute__((unused)) int e2e_url(const char *key, char *out, size_t cap)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\":\"", key);
	const char *u = strstr(e2e_sim.out, k);
	if (!u)
		return -1;
	u += strlen(k);
	const char *e = strchr(u, '"');
	if (!e || (size_t)(e - u) >= cap)
		return -1;
	memcpy(out, u, (size_t)(e - u));
	out[e - u] = '\0';
	return 0;
}

/* Starts `arbitrade sim --scenario <TEST_DATA_DIR>/sim/<name>` and reads
 * its ready line. 0 or -1. */
static __attribute__((unused)) int e2e_start_sim(const char *name)
{
	char scen[600];
	snprintf(scen, sizeof scen, "%s/sim/%s", TEST_DATA_DIR, name);
	char *argv[] = {ARBITRADE_BIN, "sim", "--scenario", scen, NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", "LOG_LEVEL=warn", NULL};
	if (h_spawn(&e2e_sim, e2e_dir, argv, envp) != 0)
		return -1;
	for (int i = 0; i < 500; i++) {
		h_drain(&e2e_sim);
		if (strstr(e2e_sim.out, "\"event\":\"ready\"") && strstr(e2e_sim.out, "}\n")) {
			if (e2e_url("ws_url", e2e_ws_url, sizeof e2e_ws_url) ||
			    e2e_url("ws_auth_url", e2e_ws_auth_url, sizeof e2e_ws_auth_url) ||
			    e2e_url("rest_url", e2e_rest_url, sizeof e2e_rest_url))
				return -1;
			const char *port = strrchr(e2e_ws_url, ':');
			e2e_ctl_port = port ? (int)strtol(port + 1, NULL, 10) : -1;
			return e2e_ctl_port > 0 ? 0 : -1;
		}
		if (waitpid(e2e_sim.pid, NULL, WNOHANG) == e2e_sim.pid) {
			fprintf(stderr, "sim exited early:\n%s\n", e2e_sim.out);
			e2e_sim.pid = 0;
			return -1;
		}
		h_sleep_ms(20);
	}
	fprintf(stderr, "sim not ready:\n%s\n", e2e_sim.out);
	return -1;
}

static __attribute__((unused)) void e2e_stop_sim(void)
{
	if (e2e_sim.pid > 0) {
		kill(e2e_sim.pid, SIGTERM);
		if (h_wait(&e2e_sim, 10000) == -1)
			h_kill(&e2e_sim);
	}
}

/* POST/GET on the simulator's control endpoint; the HTTP status. */
static __attribute__((unused)) int e2e_control(const char *method, const char *path)
{
	static char resp[1 << 16];
	return h_http(e2e_ctl_port, method, path, NULL, NULL, resp, sizeof resp);
}

static __attribute__((unused)) int e2e_window(const char *cycle, int bps, int ms)
{
	char path[160];
	snprintf(path, sizeof path, "/control/window?cycle=%s&bps=%d&ms=%d", cycle, bps, ms);
	return e2e_control("POST", path);
}

/* The bot's environment: loopback URLs of the sim, a temp DB, the dashboard
 * on a free port without login (APP_ENV=dev), then `extra` (NULL-terminated
 * KEY=VALUE entries, which win over the defaults above them). live: the live
 * venue with the sim's test account. */
static __attribute__((unused)) void e2e_env(struct e2e_bot *b, bool live, const char *const *extra,
					    char **envp, char kv[][700], size_t max)
{
	size_t n = 0;
	b->port = h_free_port();
	snprintf(kv[n++], 700, "PATH=/usr/bin:/bin");
	snprintf(kv[n++], 700, "HOME=%s", e2e_dir);
	snprintf(kv[n++], 700, "ARB_SHARE_DIR=%s/../..", TEST_DATA_DIR);
	snprintf(kv[n++], 700, "DUCKDB_PATH=%s", b->db);
	snprintf(kv[n++], 700, "RISK_KILL_FILE=%s/KILL", e2e_dir);
	snprintf(kv[n++], 700, "APP_ENV=dev");
	snprintf(kv[n++], 700, "DASHBOARD_AUTH=off");
	snprintf(kv[n++], 700, "APP_PORT=%d", b->port);
	snprintf(kv[n++], 700, "LOG_JSON=false");
	snprintf(kv[n++], 700, "KRAKEN_WS_URL=%s", e2e_ws_url);
	snprintf(kv[n++], 700, "KRAKEN_WS_AUTH_URL=%s", e2e_ws_auth_url);
	snprintf(kv[n++], 700, "KRAKEN_REST_URL=%s", e2e_rest_url);
	snprintf(kv[n++], 700, "KRAKEN_WS_RECONNECT_MIN_MS=500");
	snprintf(kv[n++], 700, "KRAKEN_WS_RECONNECT_MAX_MS=1000");
	snprintf(kv[n++], 700, "BOOK_SYMBOLS=all");
	snprintf(kv[n++], 700, "STORE_FLUSH_MS=50");
	if (live) {
		snprintf(kv[n++], 700, "TRADING_MODE=live");
		snprintf(kv[n++], 700, "KRAKEN_API_KEY=" E2E_KEY);
		snprintf(kv[n++], 700, "KRAKEN_API_SECRET=" E2E_SECRET);
		snprintf(kv[n++], 700,
			 "KRAKEN_API_KEY_PERMISSIONS=query_funds,query_open,"
			 "query_closed,trade,cancel,websocket");
		snprintf(kv[n++], 700, "KRAKEN_REST_TIER=pro");
	}
	for (size_t i = 0; extra && extra[i]; i++) {
		size_t kl = strcspn(extra[i], "=");
		size_t j = 0;
		while (j < n && strncmp(kv[j], extra[i], kl + 1) != 0)
			j++;
		if (j == n && n + 1 < max)
			n++;
		snprintf(kv[j], 700, "%s", extra[i]);
	}
	for (size_t i = 0; i < n; i++)
		envp[i] = kv[i];
	envp[n] = NULL;
}

/* A number member of the /health JSON ("cycles_executed", ...); -1 when
 * absent or the bot does not answer. */
static __attribute__((unused)) long long e2e_health_num(const struct e2e_bot *b, const char *key)
{
	static char resp[1 << 16];
	char k[64];
	if (h_http(b->port, "GET", "/health", NULL, NULL, resp, sizeof resp) < 0)
		return -1;
	snprintf(k, sizeof k, "\"%s\":", key);
	const char *s = strstr(resp, k);
	return s ? strtoll(s + strlen(k), NULL, 10) : -1;
}

static __attribute__((unused)) bool e2e_health_has(const struct e2e_bot *b, const char *text)
{
	static char resp[1 << 16];
	if (h_http(b->port, "GET", "/health", NULL, NULL, resp, sizeof resp) < 0)
		return false;
	return strstr(resp, text) != NULL;
}

/* Cycles started so far: executed + failed (/health trading). */
static __attribute__((unused)) long long e2e_cycles(struct e2e_bot *b)
{
	return e2e_health_num(b, "cycles_executed") + e2e_health_num(b, "cycles_failed");
}

/* Waits (10 s at most) for a cycle after the first `before`. */
static __attribute__((unused)) void e2e_wait_cycle(struct e2e_bot *b, long long before,
						   const char *what)
{
	for (int i = 0; i < 200; i++) {
		e2e_drain(&b->p);
		if (e2e_cycles(b) > before)
			return;
		h_sleep_ms(50);
	}
	fail_msg("%s: no cycle finished:\n%s", what, b->p.out);
}

/* Starts the bot and waits until /health says trading is ready. */
static __attribute__((unused)) void e2e_start_bot(struct e2e_bot *b, const char *db_name, bool live,
						  const char *const *extra)
{
	static char kv[48][700];
	char *envp[49];
	snprintf(b->db, sizeof b->db, "%s/%s", e2e_dir, db_name);
	e2e_env(b, live, extra, envp, kv, 48);
	char *argv[] = {ARBITRADE_BIN, "run", NULL};
	assert_int_equal(h_spawn(&b->p, e2e_dir, argv, envp), 0);
	e2e_running = b;
	for (int i = 0; i < 400; i++) {
		e2e_drain(&b->p);
		if (e2e_health_has(b, "\"trading\":{\"ready\":true"))
			return;
		if (waitpid(b->p.pid, NULL, WNOHANG) == b->p.pid) {
			b->p.pid = 0;
			fail_msg("the bot exited:\n%s", b->p.out);
		}
		h_sleep_ms(50);
	}
	fail_msg("trading never ready:\n%s", b->p.out);
}

/* Waits up to ms for /health's key to reach at least want. */
static __attribute__((unused)) long long e2e_wait_num(struct e2e_bot *b, const char *key,
						      long long want, long ms)
{
	long long v = -1;
	for (long t = 0; t <= ms; t += 50) {
		e2e_drain(&b->p);
		v = e2e_health_num(b, key);
		if (v >= want)
			return v;
		h_sleep_ms(50);
	}
	return v;
}

/* Sleeps ms while keeping the bot's pipe drained. */
static __attribute__((unused)) void e2e_pause_ms(struct e2e_bot *b, long ms)
{
	for (long t = 0; t < ms; t += 50) {
		e2e_drain(&b->p);
		h_sleep_ms(50);
	}
}

static __attribute__((unused)) void e2e_stop_bot(struct e2e_bot *b)
{
	kill(b->p.pid, SIGTERM);
	int st = h_wait(&b->p, 30000);
	e2e_running = NULL;
	if (st != 0)
		fail_msg("bot exit status %d:\n%s", st, b->p.out);
}

/* The dashboard's CSRF token (auth off: the dev session's). */
static __attribute__((unused)) void e2e_csrf(const struct e2e_bot *b, char *tok, size_t cap)
{
	static char resp[1 << 17];
	assert_int_equal(h_http(b->port, "GET", "/", NULL, NULL, resp, sizeof resp), 200);
	const char *s = strstr(resp, "name=\"csrf\" value=\"");
	assert_non_null(s);
	s += strlen("name=\"csrf\" value=\"");
	size_t n = strcspn(s, "\"");
	assert_true(n < cap);
	memcpy(tok, s, n);
	tok[n] = '\0';
}

/* The last dashboard POST's response (headers and body). */
static char e2e_resp[1 << 16];

/* A dashboard POST with the CSRF token; form is "a=b&..." or "". */
static __attribute__((unused)) int e2e_dash_post(const struct e2e_bot *b, const char *path,
						 const char *form)
{
	char tok[128], body[512], hdr[64];
	e2e_csrf(b, tok, sizeof tok);
	int n = snprintf(body, sizeof body, "csrf=%s%s%s", tok, form[0] ? "&" : "", form);
	snprintf(hdr, sizeof hdr, "Content-Type: application/x-www-form-urlencoded\r\n");
	(void)n;
	return h_http(b->port, "POST", path, hdr, body, e2e_resp, sizeof e2e_resp);
}

/* ---- DuckDB, after the bot stopped ---- */

static __attribute__((unused)) bool e2e_sql(const char *db, const char *sql, duckdb_result *res)
{
	duckdb_database d;
	duckdb_connection c;
	if (duckdb_open(db, &d) != DuckDBSuccess)
		fail_msg("cannot open %s", db);
	if (duckdb_connect(d, &c) != DuckDBSuccess)
		fail_msg("cannot connect to %s", db);
	bool ok = duckdb_query(c, sql, res) == DuckDBSuccess;
	if (!ok)
		fprintf(stderr, "%s: %s\n", sql, duckdb_result_error(res));
	duckdb_disconnect(&c);
	duckdb_close(&d);
	return ok;
}

static __attribute__((unused)) int64_t e2e_sql_i64(const char *db, const char *sql)
{
	duckdb_result r;
	int64_t v = -1;
	if (e2e_sql(db, sql, &r) && duckdb_row_count(&r) > 0)
		v = duckdb_value_int64(&r, 0, 0);
	duckdb_destroy_result(&r);
	return v;
}

static __attribute__((unused)) double e2e_sql_f64(const char *db, const char *sql)
{
	duckdb_result r;
	double v = NAN;
	if (e2e_sql(db, sql, &r) && duckdb_row_count(&r) > 0 && !duckdb_value_is_null(&r, 0, 0))
		v = duckdb_value_double(&r, 0, 0);
	duckdb_destroy_result(&r);
	return v;
}

/* The first value as text into out ("" for none / NULL). */
static __attribute__((unused)) void e2e_sql_text(const char *db, const char *sql, char *out,
						 size_t cap)
{
	duckdb_result r;
	out[0] = '\0';
	if (e2e_sql(db, sql, &r) && duckdb_row_count(&r) > 0) {
		char *v = duckdb_value_varchar(&r, 0, 0);
		if (v)
			snprintf(out, cap, "%s", v);
		duckdb_free(v);
	}
	duckdb_destroy_result(&r);
}

/* A REST client of the simulator with the test account (its own nonce
 * file), for what the simulator itself says: balances, orders. */
struct e2e_rest {
	struct secret *key, *sec;
	struct kr_nonce *nonce;
	struct kr_rest *c;
};

/* bots_nonce: use the bot's own nonce file (next to its database), which
 * is only possible while no bot runs; else a file of the test's, whose
 * clock-based nonces are behind a bot that restarted (a restart jumps its
 * nonces ahead). */
static __attribute__((unused)) void e2e_rest_open_ex(struct e2e_rest *r, bool bots_nonce)
{
	struct err_info info = {0};
	char path[600];
	r->key = secret_new(E2E_KEY, strlen(E2E_KEY));
	r->sec = secret_new(E2E_SECRET, strlen(E2E_SECRET));
	snprintf(path, sizeof path, "%s/test-nonce", e2e_dir);
	if (bots_nonce && kr_nonce_default_path(r->key, e2e_dir, path, sizeof path) != 0)
		fail_msg("nonce path");
	r->nonce = kr_nonce_open(path, NULL, &info);
	if (!r->nonce)
		fail_msg("nonce: %s", info.msg);
	struct kr_rest_opts o = {.base_url = e2e_rest_url,
				 .api_key = r->key,
				 .api_secret = r->sec,
				 .nonce = r->nonce,
				 .timeout_ms = 5000,
				 .tier = "pro"};
	r->c = kr_rest_new(&o, &info);
	if (!r->c)
		fail_msg("rest: %s", info.msg);
}

static __attribute__((unused)) void e2e_rest_open(struct e2e_rest *r)
{
	e2e_rest_open_ex(r, false);
}

static __attribute__((unused)) void e2e_rest_close(struct e2e_rest *r)
{
	kr_rest_free(r->c);
	kr_nonce_free(r->nonce);
	secret_free(r->key);
	secret_free(r->sec);
	memset(r, 0, sizeof *r);
}

static __attribute__((unused)) int e2e_setup(const char *scenario)
{
	assert_int_equal(h_tmpdir(e2e_dir, sizeof e2e_dir), 0);
	if (e2e_start_sim(scenario) != 0)
		fail_msg("cannot start the simulator");
	return 0;
}

static __attribute__((unused)) int e2e_teardown(void)
{
	if (e2e_running && e2e_running->p.pid > 0) {
		fprintf(stderr, "bot output (tail):\n%s\n", e2e_running->p.out);
		kill(e2e_running->p.pid, SIGCONT);
		h_kill(&e2e_running->p);
	}
	e2e_running = NULL;
	e2e_stop_sim();
	if (!getenv("E2E_KEEP"))
		h_rmrf(e2e_dir);
	else
		fprintf(stderr, "kept %s\n", e2e_dir);
	return 0;
}

#endif

/* Scenario: the foundation through the real binary. Command line (usage,
 * exit codes), configuration errors exit 2, `run --check`, `run` serving
 * /health and / on loopback, SIGTERM flushing queued records into DuckDB,
 * migrations twice, the audit archive, and secrets through stdin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <duckdb.h>

#include "harness.h"

static char dir[512];
static char db_path[600];
static char port_kv[64];
static int port;

/* A minimal environment: nothing from the caller leaks in. */
static void make_env(char **envp, size_t cap, const char *const *extra)
{
	static char kv[16][700];
	size_t n = 0;
	snprintf(kv[n++], sizeof(kv[0]), "PATH=/usr/bin:/bin");
	snprintf(kv[n++], sizeof(kv[0]), "HOME=%s", dir);
	snprintf(kv[n++], sizeof(kv[0]), "XDG_CONFIG_HOME=%s/config", dir);
	snprintf(kv[n++], sizeof(kv[0]), "DUCKDB_PATH=%s", db_path);
	/* Login is covered by the dashboard tests; here the shell runs without it. */
	snprintf(kv[n++], sizeof(kv[0]), "APP_ENV=dev");
	snprintf(kv[n++], sizeof(kv[0]), "DASHBOARD_AUTH=off");
	snprintf(kv[n++], sizeof(kv[0]), "%s", port_kv);
	size_t i = 0;
	for (; i < n && i + 1 < cap; i++)
		envp[i] = kv[i];
	for (size_t j = 0; extra && extra[j] && i + 1 < cap; j++)
		envp[i++] = (char *)extra[j];
	envp[i] = NULL;
}

static int run_cmd(struct h_proc *p, char *const argv[], const char *const *extra,
		   const char *stdin_text)
{
	char *envp[32];
	make_env(envp, 32, extra);
	return h_run(p, dir, argv, envp, stdin_text, 30000);
}

static int64_t db_count(const char *sql)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_result res;
	int64_t v = -1;
	if (duckdb_open(db_path, &db) != DuckDBSuccess)
		return -2;
	if (duckdb_connect(db, &con) == DuckDBSuccess) {
		if (duckdb_query(con, sql, &res) == DuckDBSuccess) {
			v = duckdb_value_int64(&res, 0, 0);
			duckdb_destroy_result(&res);
		} else {
			fprintf(stderr, "query failed: %s\n", duckdb_result_error(&res));
			duckdb_destroy_result(&res);
		}
		duckdb_disconnect(&con);
	}
	duckdb_close(&db);
	return v;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(h_tmpdir(dir, sizeof(dir)), 0);
	snprintf(db_path, sizeof(db_path), "%s/data/nested/arbitrade.duckdb", dir);
	port = h_free_port();
	assert_true(port > 0);
	snprintf(port_kv, sizeof(port_kv), "APP_PORT=%d", port);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h_rmrf(dir);
	return 0;
}

static void test_cli_usage(void **state)
{
	(void)state;
	struct h_proc p;
	char *version[] = {ARBITRADE_BIN, "--version", NULL};
	assert_int_equal(run_cmd(&p, version, NULL, NULL), 0);
	assert_non_null(strstr(p.out, "arbitrade "));

	char *none[] = {ARBITRADE_BIN, NULL};
	assert_int_equal(run_cmd(&p, none, NULL, NULL), 2);
	assert_non_null(strstr(p.out, "usage:"));

	char *unknown[] = {ARBITRADE_BIN, "frobnicate", NULL};
	assert_int_equal(run_cmd(&p, unknown, NULL, NULL), 2);
	assert_non_null(strstr(p.out, "unknown command"));
	assert_non_null(strstr(p.out, "usage:"));

	char *badopt[] = {ARBITRADE_BIN, "run", "--frobnicate", NULL};
	assert_int_equal(run_cmd(&p, badopt, NULL, NULL), 2);
	assert_non_null(strstr(p.out, "usage: arbitrade run"));

	const char *cmds[] = {"run", "migrate", "audit-archive", "secrets"};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *help[] = {ARBITRADE_BIN, (char *)cmds[i], "--help", NULL};
		assert_int_equal(run_cmd(&p, help, NULL, NULL), 0);
		assert_non_null(strstr(p.out, "usage: arbitrade"));
	}
}

static void test_config_check(void **state)
{
	(void)state;
	struct h_proc p;
	char *check[] = {ARBITRADE_BIN, "run", "--check", NULL};
	assert_int_equal(run_cmd(&p, check, NULL, NULL), 0);
	assert_non_null(strstr(p.out, "configuration OK"));

	const char *bad_port[] = {"APP_PORT=80x", NULL};
	assert_int_equal(run_cmd(&p, check, bad_port, NULL), 2);
	assert_non_null(strstr(p.out, "APP_PORT"));
	assert_non_null(strstr(p.out, "80x"));

	const char *typo[] = {"ARB_MIN_PROFT_BPS=5", NULL};
	assert_int_equal(run_cmd(&p, check, typo, NULL), 2);
	assert_non_null(strstr(p.out, "ARB_MIN_PROFT_BPS"));

	const char *live[] = {"TRADING_MODE=live", NULL};
	assert_int_equal(run_cmd(&p, check, live, NULL), 2);
	assert_non_null(strstr(p.out, "TRADING_MODE"));

	/* The detector may report below what risk trades, never above. */
	const char *detect[] = {"ARB_MIN_PROFIT_BPS=20", "ARB_DETECT_MIN_PROFIT_BPS=25", NULL};
	assert_int_equal(run_cmd(&p, check, detect, NULL), 2);
	assert_non_null(strstr(p.out, "ARB_DETECT_MIN_PROFIT_BPS=25"));
	assert_non_null(strstr(p.out, "ARB_MIN_PROFIT_BPS=20"));
	const char *near[] = {"ARB_MIN_PROFIT_BPS=20", "ARB_DETECT_MIN_PROFIT_BPS=0", NULL};
	assert_int_equal(run_cmd(&p, check, near, NULL), 0);

	/* A .env file in the working directory is read; the environment wins. */
	char envfile[700];
	snprintf(envfile, sizeof(envfile), "%s/.env", dir);
	FILE *f = fopen(envfile, "w");
	assert_non_null(f);
	fprintf(f, "# comment\nLOG_LEVEL=verbose\n");
	fclose(f);
	assert_int_equal(run_cmd(&p, check, NULL, NULL), 2);
	assert_non_null(strstr(p.out, "LOG_LEVEL"));
	const char *fix[] = {"LOG_LEVEL=debug", NULL};
	assert_int_equal(run_cmd(&p, check, fix, NULL), 0);
	unlink(envfile);
}

static void test_secrets_roundtrip(void **state)
{
	(void)state;
	struct h_proc p;
	char *genkey[] = {ARBITRADE_BIN, "secrets", "genkey", NULL};
	assert_int_equal(run_cmd(&p, genkey, NULL, NULL), 0);
	char key[64] = {0};
	assert_int_equal(sscanf(p.out, "%63s", key), 1);
	assert_int_equal(strlen(key), 44);

	char keykv[100];
	snprintf(keykv, sizeof(keykv), "FERNET_KEY=%s", key);
	const char *env_key[] = {keykv, NULL};
	/* The value arrives on stdin; a value on argv is refused. */
	char *argv_value[] = {ARBITRADE_BIN, "secrets", "encrypt", "hunter2", NULL};
	assert_int_equal(run_cmd(&p, argv_value, env_key, NULL), 2);

	const char *secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5"
			     "nE9qa99HAZtuZuj6F1huXg==";
	char *enc[] = {ARBITRADE_BIN, "secrets", "encrypt", NULL};
	assert_int_equal(run_cmd(&p, enc, env_key, secret), 0);
	assert_null(strstr(p.out, secret));
	char token[512] = {0};
	assert_int_equal(sscanf(p.out, "%511s", token), 1);
	assert_memory_equal(token, "enc:", 4);

	char *dec[] = {ARBITRADE_BIN, "secrets", "decrypt", NULL};
	assert_int_equal(run_cmd(&p, dec, env_key, token), 0);
	assert_non_null(strstr(p.out, secret));

	/* The encrypted value works as configuration. */
	char apikey[] = "KRAKEN_API_KEY=test-key-123";
	char apisecret[600];
	snprintf(apisecret, sizeof(apisecret), "KRAKEN_API_SECRET=%s", token);
	const char *env_creds[] = {
	    keykv, apikey, apisecret,
	    "KRAKEN_API_KEY_PERMISSIONS=query_funds,query_open,trade,cancel,websocket", NULL};
	char *check[] = {ARBITRADE_BIN, "run", "--check", NULL};
	assert_int_equal(run_cmd(&p, check, env_creds, NULL), 0);
	assert_null(strstr(p.out, secret));

	/* A token made with another key is refused, naming the key only. */
	char other[100];
	snprintf(other, sizeof(other), "FERNET_KEY=%s",
		 "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=");
	const char *env_other[] = {
	    other, apikey, apisecret,
	    "KRAKEN_API_KEY_PERMISSIONS=query_funds,query_open,trade,cancel,websocket", NULL};
	assert_int_equal(run_cmd(&p, check, env_other, NULL), 2);
	assert_non_null(strstr(p.out, "KRAKEN_API_SECRET"));
	assert_null(strstr(p.out, secret));
}

static void test_run_health_and_sigterm(void **state)
{
	(void)state;
	struct h_proc p;
	char *envp[32];
	char resp[65536];
	char *run[] = {ARBITRADE_BIN, "run", "--no-market-data", NULL};
	const char *extra[] = {"LOG_JSON=true", NULL};

	make_env(envp, 32, extra);
	assert_int_equal(h_spawn(&p, dir, run, envp), 0);
	if (h_http_wait(port, "/health", 200, 20000) != 0) {
		h_drain(&p);
		fprintf(stderr, "child output:\n%s\n", p.out);
		h_kill(&p);
		fail_msg("/health never answered 200");
	}
	assert_int_equal(h_http(port, "GET", "/health", NULL, NULL, resp, sizeof(resp)), 200);
	assert_non_null(strstr(resp, "application/json"));
	assert_non_null(strstr(resp, "\"status\""));
	assert_non_null(strstr(resp, "\"database\""));
	assert_non_null(strstr(resp, "\"trading_mode\":\"paper\""));
	assert_int_equal(h_http(port, "GET", "/", NULL, NULL, resp, sizeof(resp)), 200);
	assert_non_null(strstr(resp, "text/html"));
	assert_int_equal(h_http(port, "GET", "/no/such/page", NULL, NULL, resp, sizeof(resp)), 404);
	assert_int_equal(
	    h_http(port, "GET", "/static/../CMakeLists.txt", NULL, NULL, resp, sizeof(resp)), 404);

	kill(p.pid, SIGTERM);
	int st = h_wait(&p, 20000);
	if (st != 0)
		fprintf(stderr, "child output:\n%s\n", p.out);
	assert_int_equal(st, 0);
	/* The JSON log has ts/level/module/msg on every line. */
	assert_non_null(strstr(p.out, "\"level\":\"info\""));

	/* Audit events written at start and at the stop (enqueued after SIGTERM)
	 * are in the database: the writer flushed before closing. */
	assert_int_equal(db_count("SELECT count(*) FROM audit_events WHERE action = 'start'"), 1);
	assert_int_equal(db_count("SELECT count(*) FROM audit_events WHERE action = 'stop'"), 1);
}

static void test_migrate_and_archive(void **state)
{
	(void)state;
	struct h_proc p;
	char *migrate[] = {ARBITRADE_BIN, "migrate", NULL};
	assert_int_equal(run_cmd(&p, migrate, NULL, NULL), 0);
	assert_int_equal(run_cmd(&p, migrate, NULL, NULL), 0);
	assert_non_null(strstr(p.out, "0 applied"));
	int64_t versions = db_count("SELECT count(*) FROM schema_migrations");
	assert_true(versions >= 1);
	assert_int_equal(
	    db_count("SELECT count(*) - count(DISTINCT version) FROM schema_migrations"), 0);

	int64_t before = db_count("SELECT count(*) FROM audit_events");
	assert_true(before >= 2);
	/* A failed export deletes nothing. */
	char bad_out[700];
	snprintf(bad_out, sizeof(bad_out), "%s/no/such/dir/x.parquet", dir);
	char *fail[] = {ARBITRADE_BIN, "audit-archive", "--older-than", "0s", "--out", bad_out,
			NULL};
	assert_int_equal(run_cmd(&p, fail, NULL, NULL), 1);
	assert_int_equal(db_count("SELECT count(*) FROM audit_events"), before);

	char out[700];
	snprintf(out, sizeof(out), "%s/audit.parquet", dir);
	char *ok[] = {ARBITRADE_BIN, "audit-archive", "--older-than", "0s", "--out", out, NULL};
	assert_int_equal(run_cmd(&p, ok, NULL, NULL), 0);
	assert_int_equal(db_count("SELECT count(*) FROM audit_events"), 0);
	char sql[900];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM read_parquet('%s')", out);
	assert_int_equal(db_count(sql), before);

	char *bad_age[] = {ARBITRADE_BIN, "audit-archive", "--older-than", "soon", NULL};
	assert_int_equal(run_cmd(&p, bad_age, NULL, NULL), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cli_usage),
	    cmocka_unit_test(test_config_check),
	    cmocka_unit_test(test_secrets_roundtrip),
	    cmocka_unit_test(test_run_health_and_sigterm),
	    cmocka_unit_test(test_migrate_and_archive),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

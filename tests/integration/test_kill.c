/* arbitrade kill: creates RISK_KILL_FILE (0600, its directory 0700, the
 * reason inside), which risk_kill_file_check turns into the kill switch;
 * --clear removes it; bad options exit 2. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "integration/harness.h"
#include "risk/risk.h"

static char dir[256];

static int run_kill(struct h_proc *p, const char *a1, const char *a2, const char *a3)
{
	static char kv[6][700];
	char *envp[7];
	size_t n = 0;
	snprintf(kv[n++], sizeof(kv[0]), "PATH=/usr/bin:/bin");
	snprintf(kv[n++], sizeof(kv[0]), "HOME=%s", dir);
	snprintf(kv[n++], sizeof(kv[0]), "DUCKDB_PATH=%s/data/arbitrade.duckdb", dir);
	snprintf(kv[n++], sizeof(kv[0]), "RISK_KILL_FILE=%s/run/KILL", dir);
	snprintf(kv[n++], sizeof(kv[0]), "APP_ENV=dev");
	for (size_t i = 0; i < n; i++)
		envp[i] = kv[i];
	envp[n] = NULL;
	char *argv[] = {ARBITRADE_BIN, "kill", (char *)a1, (char *)a2, (char *)a3, NULL};
	return h_run(p, dir, argv, envp, NULL, 60000);
}

static void test_kill_command(void **state)
{
	(void)state;
	assert_int_equal(h_tmpdir(dir, sizeof(dir)), 0);
	char path[400];
	snprintf(path, sizeof(path), "%s/run/KILL", dir);
	struct h_proc p;

	assert_int_equal(run_kill(&p, "--reason", "fat \"finger\"", NULL), 0);
	assert_non_null(strstr(p.out, "kill switch set"));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char rundir[400];
	snprintf(rundir, sizeof(rundir), "%s/run", dir);
	assert_int_equal(stat(rundir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	char text[512] = {0};
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	assert_non_null(strstr(text, "\"reason\":\"fat \\\"finger\\\"\""));

	/* What the bot does with it. */
	struct risk_limits l = {.min_profit_bps = 1,
				.max_notional = 1,
				.max_book_age_ms = 1,
				.max_exposure = 1,
				.max_cycles_per_min = 1,
				.daily_loss_limit = 1,
				.max_consecutive_failures = 1};
	snprintf(l.kill_file, sizeof(l.kill_file), "%s", path);
	struct risk *r = risk_new(&l, NULL);
	assert_non_null(r);
	assert_true(risk_kill_file_check(r));
	assert_true(risk_killed(r));
	risk_free(r);

	assert_int_equal(run_kill(&p, "--clear", NULL, NULL), 0);
	assert_non_null(strstr(p.out, "kill file removed"));
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(run_kill(&p, "--clear", NULL, NULL), 0);
	assert_non_null(strstr(p.out, "no kill file"));
	assert_int_equal(run_kill(&p, "--bogus", NULL, NULL), 2);
	assert_int_equal(run_kill(&p, "extra", NULL, NULL), 2);
	h_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill_command)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

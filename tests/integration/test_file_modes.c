/* Files the bot creates are owner-only whatever the caller's umask: after
 * `arbitrade migrate`, `arbitrade audit-archive` and `arbitrade secrets
 * genkey --write`, run under umask 022, the database, its archive and the
 * Fernet key file are 0600 and every directory created for them is 0700
 * (app__process_init sets umask 077; the key and nonce files also set their
 * modes explicitly). */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <duckdb.h>

#include "integration/harness.h"

static char dir[512];

static int run_cmd(struct h_proc *p, char *const argv[])
{
	static char kv[8][700];
	char *envp[9];
	size_t n = 0;
	snprintf(kv[n++], sizeof(kv[0]), "PATH=/usr/bin:/bin");
	snprintf(kv[n++], sizeof(kv[0]), "HOME=%s", dir);
	snprintf(kv[n++], sizeof(kv[0]), "XDG_CONFIG_HOME=%s/config", dir);
	snprintf(kv[n++], sizeof(kv[0]), "DUCKDB_PATH=%s/data/nested/arbitrade.duckdb", dir);
	snprintf(kv[n++], sizeof(kv[0]), "APP_ENV=dev");
	snprintf(kv[n++], sizeof(kv[0]), "DASHBOARD_AUTH=off");
	for (size_t i = 0; i < n; i++)
		envp[i] = kv[i];
	envp[n] = NULL;
	int rc = h_run(p, dir, argv, envp, NULL, 60000);
	if (rc != 0)
		fprintf(stderr, "%s %s: exit %d\n%s\n", argv[0], argv[1], rc, p->out);
	return rc;
}

static unsigned mode_of(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		fprintf(stderr, "missing: %s\n", path);
		return 01000000;
	}
	return (unsigned)(st.st_mode & 07777);
}

/* Every entry below root (recursively): files 0600, directories 0700.
 * Returns the number of entries checked. */
static int check_tree(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[1200];
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
		assert_int_equal(lstat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			if ((st.st_mode & 07777) != 0700)
				fprintf(stderr, "%s: mode %04o\n", path, st.st_mode & 07777);
			assert_int_equal(st.st_mode & 07777, 0700);
			n += 1 + check_tree(path);
		} else {
			if ((st.st_mode & 07777) != 0600)
				fprintf(stderr, "%s: mode %04o\n", path, st.st_mode & 07777);
			assert_int_equal(st.st_mode & 07777, 0600);
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Inserts one audit event dated yesterday, so audit-archive has a row. */
static int plant_audit_event(const char *db_path)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_result res;
	int rc = -1;
	if (duckdb_open(db_path, &db) != DuckDBSuccess)
		return -1;
	if (duckdb_connect(db, &con) == DuckDBSuccess) {
		if (duckdb_query(con,
				 "INSERT INTO audit_events (ts, mode, actor, action) VALUES "
				 "(now() - INTERVAL 1 DAY, 'paper', 'test', 'plant')",
				 &res) == DuckDBSuccess)
			rc = 0;
		else
			fprintf(stderr, "insert failed: %s\n", duckdb_result_error(&res));
		duckdb_destroy_result(&res);
		duckdb_disconnect(&con);
	}
	duckdb_close(&db);
	return rc;
}

static int setup(void **state)
{
	(void)state;
	/* A permissive mask, inherited by the children: the binary must not
	 * depend on the caller's. */
	umask(022);
	return h_tmpdir(dir, sizeof(dir));
}

static int teardown(void **state)
{
	(void)state;
	h_rmrf(dir);
	return 0;
}

static void test_database_files(void **state)
{
	(void)state;
	struct h_proc p;
	char path[700];

	char *migrate[] = {ARBITRADE_BIN, "migrate", NULL};
	assert_int_equal(run_cmd(&p, migrate), 0);
	snprintf(path, sizeof(path), "%s/data/nested/arbitrade.duckdb", dir);
	assert_int_equal(mode_of(path), 0600);
	snprintf(path, sizeof(path), "%s/data", dir);
	assert_int_equal(mode_of(path), 0700);
	snprintf(path, sizeof(path), "%s/data/nested", dir);
	assert_int_equal(mode_of(path), 0700);

	/* The archive directory and Parquet file beside the database, for an
	 * audit event a day old. */
	snprintf(path, sizeof(path), "%s/data/nested/arbitrade.duckdb", dir);
	assert_int_equal(plant_audit_event(path), 0);
	char *archive[] = {ARBITRADE_BIN, "audit-archive", "--older-than", "1h", NULL};
	assert_int_equal(run_cmd(&p, archive), 0);
	assert_non_null(strstr(p.out, "archived"));
	assert_null(strstr(p.out, "nothing archived"));
	snprintf(path, sizeof(path), "%s/data/nested/archive", dir);
	assert_int_equal(mode_of(path), 0700);
	assert_int_equal(check_tree(path), 1); /* the Parquet file, 0600 */

	/* Everything under data/: nested/, the database, any WAL, archive/
	 * and its file. */
	snprintf(path, sizeof(path), "%s/data", dir);
	assert_true(check_tree(path) >= 4);
}

static void test_key_file(void **state)
{
	(void)state;
	struct h_proc p;
	char path[700];

	char *genkey[] = {ARBITRADE_BIN, "secrets", "genkey", "--write", NULL};
	assert_int_equal(run_cmd(&p, genkey), 0);
	snprintf(path, sizeof(path), "%s/config/arbitrade/fernet.key", dir);
	assert_int_equal(mode_of(path), 0600);
	snprintf(path, sizeof(path), "%s/config/arbitrade", dir);
	assert_int_equal(mode_of(path), 0700);
	snprintf(path, sizeof(path), "%s/config", dir);
	assert_int_equal(mode_of(path), 0700);
	assert_int_equal(check_tree(path), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_database_files),
	    cmocka_unit_test(test_key_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

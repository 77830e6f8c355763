/* The audit archive: rows move to Parquet and are deleted only after the
 * export succeeded, in one transaction; any failure deletes nothing. */
#include "store_test.h"

#include <ctype.h>
#include <dirent.h>

#include "core/clock.h"

#define DAY_NS (86400LL * 1000000000LL)
#define N_OLD  50
#define N_NEW  20

struct fx {
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	int64_t now_ns;
	char old_ids[4096]; /* string_agg of the old rows' ids, before archiving */
	int64_t id_sum;
};

static void fx_old_ids(struct fx *f, char *buf, size_t cap)
{
	q_text(f->rd,
	       "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) FROM audit_events "
	       "WHERE ts < now() - INTERVAL 30 DAY",
	       buf, cap);
}

/* 50 audit events 40 days old, 20 an hour old, a few opportunities; the old
 * ones are still queued (not flushed) when the tests archive. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	tdb_init(&f->t);
	f->t.cfg.flush_ms = 600000;
	f->t.cfg.batch_rows = 100000;
	f->s = tdb_open(&f->t);
	f->rd = store_reader_open(f->s, NULL);
	assert_non_null(f->rd);
	f->now_ns = clock_wall_ns();
	for (uint64_t i = 0; i < N_NEW; i++) {
		struct store_rec r = mk_audit(1000 + i, f->now_ns - 3600LL * 1000000000LL);
		assert_int_equal(store_enqueue(f->s, &r), 0);
	}
	for (uint64_t i = 0; i < 3; i++) {
		struct store_rec r = mk_portfolio(i);
		assert_int_equal(store_enqueue(f->s, &r), 0);
	}
	assert_int_equal(store_flush(f->s, 10000), 0);
	for (uint64_t i = 0; i < N_OLD; i++) {
		struct store_rec r = mk_audit(i, f->now_ns - 40 * DAY_NS - (int64_t)i * 1000000000);
		assert_int_equal(store_enqueue(f->s, &r), 0);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_reader_close(f->rd);
	assert_int_equal(store_close(f->s), 0);
	tdb_release(&f->t);
	free(f);
	return 0;
}

static int64_t audit_count(struct fx *f)
{
	return q_i64(f->rd, "SELECT count(*) FROM audit_events");
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static unsigned archive_files(struct fx *f)
{
	char dir[400];
	DIR *d;
	struct dirent *e;
	unsigned n = 0;
	snprintf(dir, sizeof dir, "%s/data/db/archive", f->t.dir);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* After a failure: every row is still there, with the same ids. */
static void assert_untouched(struct fx *f)
{
	char ids[4096];
	assert_int_equal(audit_count(f), N_OLD + N_NEW);
	fx_old_ids(f, ids, sizeof ids);
	assert_string_equal(ids, f->old_ids);
	assert_int_equal(q_i64(f->rd, "SELECT count(*) FROM portfolio_snapshots"), 3);
}

static void snapshot_ids(struct fx *f)
{
	assert_int_equal(store_flush(f->s, 10000), 0);
	assert_int_equal(audit_count(f), N_OLD + N_NEW);
	fx_old_ids(f, f->old_ids, sizeof f->old_ids);
}

static void archive_moves_old_rows(void **state)
{
	struct fx *f = *state;
	char path[512], sql[1024], buf[4096], ids_before[4096], prefix[400];
	uint64_t rows = 0;
	struct err_info info = {0};
	int64_t max_archived;

	/* The old rows are still queued here: the archive flushes first. */
	assert_int_equal(
	    store_audit_archive(f->s, 30 * 86400, NULL, path, sizeof path, &rows, &info), 0);
	assert_int_equal(rows, N_OLD);
	snprintf(prefix, sizeof prefix, "%s/data/db/archive/audit-", f->t.dir);
	assert_memory_equal(path, prefix, strlen(prefix));
	assert_string_equal(path + strlen(path) - strlen(".parquet"), ".parquet");
	/* audit-YYYYmmddTHHMMSSZ */
	assert_true(strlen(path) >= strlen(prefix) + 16 + strlen(".parquet"));
	assert_int_equal(path[strlen(prefix) + 8], 'T');
	assert_int_equal(path[strlen(prefix) + 15], 'Z');
	assert_true(exists(path));

	/* Exactly the old rows left the table, the new ones stayed. */
	assert_int_equal(audit_count(f), N_NEW);
	assert_int_equal(q_i64(f->rd, "SELECT count(*) FROM audit_events "
				      "WHERE ts < now() - INTERVAL 30 DAY"),
			 0);
	assert_int_equal(q_i64(f->rd, "SELECT count(*) FROM portfolio_snapshots"), 3);

	/* The file holds them, whole. */
	snprintf(sql, sizeof sql, "SELECT count(*) FROM read_parquet('%s')", path);
	assert_int_equal(q_i64(f->rd, sql), N_OLD);
	snprintf(sql, sizeof sql,
		 "SELECT string_agg(action, ',' ORDER BY action) = "
		 "(SELECT string_agg('action-' || i, ',' ORDER BY 'action-' || i) FROM range(%d) "
		 "t(i)) FROM read_parquet('%s')",
		 N_OLD, path);
	q_text(f->rd, sql, buf, sizeof buf);
	assert_string_equal(buf, "true");
	snprintf(sql, sizeof sql, "SELECT detail FROM read_parquet('%s') WHERE action = 'action-7'",
		 path);
	q_text(f->rd, sql, buf, sizeof buf);
	assert_string_equal(buf, "{\"i\":7,\"note\":\"it's\"}");
	snprintf(sql, sizeof sql,
		 "SELECT count(DISTINCT id) FROM read_parquet('%s') WHERE id IS NOT NULL AND ts IS "
		 "NOT NULL AND mode IS NOT NULL AND actor IS NOT NULL",
		 path);
	assert_int_equal(q_i64(f->rd, sql), N_OLD);
	snprintf(sql, sizeof sql, "SELECT max(id) FROM read_parquet('%s')", path);
	max_archived = q_i64(f->rd, sql);

	/* Ids are never reused after an archive. */
	{
		struct store_rec r = mk_audit(500, f->now_ns);
		assert_int_equal(store_enqueue(f->s, &r), 0);
		assert_int_equal(store_flush(f->s, 10000), 0);
		assert_true(q_i64(f->rd, "SELECT max(id) FROM audit_events") > max_archived);
	}

	/* A second archive right away picks a new name, never overwriting. */
	for (uint64_t i = 0; i < 3; i++) {
		struct store_rec r = mk_audit(600 + i, f->now_ns - 50 * DAY_NS);
		assert_int_equal(store_enqueue(f->s, &r), 0);
	}
	q_text(f->rd, "SELECT count(*) FROM audit_events", ids_before, sizeof ids_before);
	{
		char path2[512];
		assert_int_equal(
		    store_audit_archive(f->s, 30 * 86400, NULL, path2, sizeof path2, &rows, &info),
		    0);
		assert_int_equal(rows, 3);
		assert_string_not_equal(path, path2);
		assert_true(exists(path) && exists(path2));
		snprintf(sql, sizeof sql, "SELECT count(*) FROM read_parquet('%s')", path);
		assert_int_equal(q_i64(f->rd, sql), N_OLD);
	}
	assert_int_equal(audit_count(f), N_NEW + 1);
	assert_int_equal(archive_files(f), 2);
}

static void archive_export_failure_deletes_nothing(void **state)
{
	struct fx *f = *state;
	char out[512], path[512] = "unchanged";
	uint64_t rows = 99;
	struct err_info info = {0};
	FILE *fp;
	snapshot_ids(f);

	/* A directory that does not exist. */
	snprintf(out, sizeof out, "%s/no/such/dir/a.parquet", f->t.dir);
	assert_int_equal(
	    store_audit_archive(f->s, 30 * 86400, out, path, sizeof path, &rows, &info), ERR_DB);
	assert_non_null(strstr(info.msg, "export"));
	assert_int_equal(rows, 0);
	assert_string_equal(path, "");
	assert_false(exists(out));
	assert_untouched(f);

	/* A path inside a regular file. */
	snprintf(out, sizeof out, "%s/plain", f->t.dir);
	fp = fopen(out, "w");
	assert_non_null(fp);
	fclose(fp);
	snprintf(out, sizeof out, "%s/plain/a.parquet", f->t.dir);
	memset(&info, 0, sizeof info);
	assert_int_equal(store_audit_archive(f->s, 30 * 86400, out, NULL, 0, NULL, &info), ERR_DB);
	assert_untouched(f);

	/* The store works on: a later archive to a good path succeeds. */
	snprintf(out, sizeof out, "%s/good.parquet", f->t.dir);
	assert_int_equal(
	    store_audit_archive(f->s, 30 * 86400, out, path, sizeof path, &rows, &info), 0);
	assert_int_equal(rows, N_OLD);
	assert_string_equal(path, out);
	assert_int_equal(audit_count(f), N_NEW);
}

/* A failure after the file is written (before the check, before the delete,
 * before the commit) rolls back, removes the file and keeps every row. */
static void archive_late_failures_roll_back(void **state)
{
	struct fx *f = *state;
	static const enum store__archive_stage stages[] = {
	    STORE__ARCHIVE_FAIL_AFTER_EXPORT,
	    STORE__ARCHIVE_FAIL_AFTER_VERIFY,
	    STORE__ARCHIVE_FAIL_AFTER_DELETE,
	};
	char out[512], path[512];
	uint64_t rows;
	snapshot_ids(f);
	for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
		struct err_info info = {0};
		atomic_store(&f->s->t_archive_fail_stage, (int)stages[i]);
		snprintf(out, sizeof out, "%s/late-%zu.parquet", f->t.dir, i);
		rows = 99;
		assert_int_equal(
		    store_audit_archive(f->s, 30 * 86400, out, path, sizeof path, &rows, &info),
		    ERR_IO);
		assert_non_null(strstr(info.msg, "injected"));
		assert_int_equal(rows, 0);
		assert_false(exists(out));
		assert_untouched(f);
	}
	atomic_store(&f->s->t_archive_fail_stage, 0);
	assert_int_equal(
	    store_audit_archive(f->s, 30 * 86400, NULL, path, sizeof path, &rows, NULL), 0);
	assert_int_equal(rows, N_OLD);
	assert_int_equal(audit_count(f), N_NEW);
	assert_int_equal(archive_files(f), 1);
}

static void archive_refusals(void **state)
{
	struct fx *f = *state;
	char out[512], path[512], small[8];
	uint64_t rows = 99;
	struct err_info info = {0};
	FILE *fp;
	snapshot_ids(f);

	/* An existing file is never overwritten. */
	snprintf(out, sizeof out, "%s/exists.parquet", f->t.dir);
	fp = fopen(out, "w");
	assert_non_null(fp);
	fputs("keep me", fp);
	fclose(fp);
	assert_int_equal(
	    store_audit_archive(f->s, 30 * 86400, out, path, sizeof path, &rows, &info), -EEXIST);
	{
		char buf[16] = {0};
		fp = fopen(out, "r");
		assert_non_null(fp);
		assert_non_null(fgets(buf, sizeof buf, fp));
		fclose(fp);
		assert_string_equal(buf, "keep me");
	}
	assert_untouched(f);

	assert_int_equal(store_audit_archive(f->s, -1, NULL, path, sizeof path, &rows, &info),
			 ERR_INVALID);
	assert_int_equal(store_audit_archive(NULL, 1, NULL, path, sizeof path, &rows, &info),
			 ERR_INVALID);
	assert_int_equal(
	    store_audit_archive(f->s, 30 * 86400, NULL, small, sizeof small, &rows, &info),
	    ERR_RANGE);
	assert_untouched(f);

	/* Nothing old enough: no file, no rows, success. */
	snprintf(path, sizeof path, "x");
	assert_int_equal(
	    store_audit_archive(f->s, 365 * 86400, NULL, path, sizeof path, &rows, &info), 0);
	assert_int_equal(rows, 0);
	assert_string_equal(path, "");
	assert_int_equal(archive_files(f), 0);
	assert_untouched(f);
}

/* audit_events is append-only: in the store's sources, only archive.c
 * deletes from it, and nothing updates, truncates or drops it. */
static void audit_events_append_only_in_sources(void **state)
{
	static const char *const banned[] = {"update audit_events", "truncate audit_events",
					     "drop table audit_events", "alter table audit_events"};
	char dir[1024], file[1400], *text;
	DIR *d;
	struct dirent *e;
	unsigned files = 0, deleters = 0;
	(void)state;
	snprintf(dir, sizeof dir, "%s/../../src/store", TEST_DATA_DIR);
	d = opendir(dir);
	assert_non_null(d);
	text = malloc(1 << 20);
	assert_non_null(text);
	while ((e = readdir(d)) != NULL) {
		size_t n, len = strlen(e->d_name);
		FILE *fp;
		if (len < 3 ||
		    (strcmp(e->d_name + len - 2, ".c") && strcmp(e->d_name + len - 2, ".h")))
			continue;
		snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
		fp = fopen(file, "r");
		assert_non_null(fp);
		n = fread(text, 1, (1 << 20) - 1, fp);
		fclose(fp);
		text[n] = '\0';
		/* Lower case, whitespace runs as one space. */
		{
			size_t o = 0;
			for (size_t i = 0; i < n; i++) {
				char c = (char)tolower((unsigned char)text[i]);
				if (isspace((unsigned char)c)) {
					if (o && text[o - 1] == ' ')
						continue;
					c = ' ';
				}
				text[o++] = c;
			}
			text[o] = '\0';
		}
		files++;
		for (size_t b = 0; b < sizeof banned / sizeof banned[0]; b++)
			if (strstr(text, banned[b]))
				fail_msg("%s contains '%s'", e->d_name, banned[b]);
		if (strstr(text, "delete from audit_events")) {
			if (strcmp(e->d_name, "archive.c") != 0)
				fail_msg("%s deletes from audit_events", e->d_name);
			deleters++;
		}
	}
	closedir(d);
	free(text);
	assert_true(files >= 5);
	assert_int_equal(deleters, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(archive_moves_old_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(archive_export_failure_deletes_nothing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(archive_late_failures_roll_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(archive_refusals, setup, teardown),
	    cmocka_unit_test(audit_events_append_only_in_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

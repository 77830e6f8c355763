/* The audit archive: the only code that deletes from audit_events, and only
 * rows it has just written to a Parquet file and read back. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "store/store_int.h"

#define MAX_AGE_S	(100LL * 366 * 86400)
#define FLUSH_BEFORE_MS 10000

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Picks "<db dir>/archive/audit-YYYYmmddTHHMMSSZ[-n].parquet", making the
 * directory; a name already taken gets the next suffix. */
static int default_path(struct store *s, int64_t now_ns, char *out, size_t cap,
			struct err_info *info)
{
	char base[PATH_MAX], dir[PATH_MAX + 16], stamp[32];
	time_t t = (time_t)(now_ns / 1000000000);
	struct tm tm;
	struct stat st;
	int rc;
	if (strcmp(s->cfg.duckdb_path, ":memory:") == 0)
		return err_set(info, ERR_INVALID, "an in-memory database needs an explicit --out");
	rc = store__dirname(s->cfg.duckdb_path, base, sizeof base);
	if (rc != 0)
		return err_set(info, rc, "database path too long");
	rc = snprintf(dir, sizeof dir, "%s/archive", base);
	if (rc < 0 || (size_t)rc >= sizeof dir)
		return err_set(info, ERR_RANGE, "database path too long");
	rc = store__mkdir_p(dir, 0700);
	if (rc != 0)
		return err_set(info, rc, "%s: %s", dir, err_str(rc));
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 0; i < 1000; i++) {
		int n = i ? snprintf(out, cap, "%s/audit-%s-%d.parquet", dir, stamp, i)
			  : snprintf(out, cap, "%s/audit-%s.parquet", dir, stamp);
		if (n < 0 || (size_t)n >= cap)
			return err_set(info, ERR_RANGE, "archive path too long");
		if (lstat(out, &st) != 0)
			return 0;
	}
	return err_set(info, -EEXIST, "%s/audit-%s*.parquet: no free name", dir, stamp);
}

static bool injected(struct store *s, enum store__archive_stage at)
{
	return atomic_load(&s->t_archive_fail_stage) == (int)at;
}

/* The transaction; on failure the caller rolls back and removes the file
 * (*created tells whether COPY may have made it). */
static int archive_txn(struct store *s, const char *cutoff, const char *qpath, const char *path,
		       bool *created, uint64_t *rows, struct err_info *info)
{
	duckdb_connection c = s->aconn;
	char sql[PATH_MAX * 2 + 512];
	int64_t n, copied, in_file, distinct_ids, matching;
	duckdb_result res;
	struct err_info e = {0};
	int rc;

	rc = store__exec(c, "BEGIN TRANSACTION", info);
	if (rc != 0)
		return rc;
	snprintf(sql, sizeof sql,
		 "SELECT CAST(count(*) AS BIGINT) FROM audit_events WHERE ts < TIMESTAMPTZ '%s'",
		 cutoff);
	rc = store__query_i64(c, sql, &n, info);
	if (rc != 0 || n == 0)
		return rc;

	*created = true;
	snprintf(sql, sizeof sql,
		 "COPY (SELECT * FROM audit_events WHERE ts < TIMESTAMPTZ '%s' ORDER BY id) "
		 "TO %s (FORMAT parquet)",
		 cutoff, qpath);
	rc = store__query_i64(c, sql, &copied, &e);
	if (rc != 0)
		return err_set(info, ERR_DB, "export to %s failed: %s", path, e.msg);
	if (copied != n)
		return err_set(info, ERR_DB, "export wrote %lld rows, expected %lld",
			       (long long)copied, (long long)n);
	if (injected(s, STORE__ARCHIVE_FAIL_AFTER_EXPORT))
		return err_set(info, ERR_IO, "injected failure after export");
	rc = fsync_path(path);
	if (rc != 0)
		return err_set(info, rc, "fsync %s: %s", path, err_str(rc));

	/* Read the file back: the same number of distinct ids, each naming a row
	 * this transaction is about to delete. */
	snprintf(sql, sizeof sql, "SELECT CAST(count(*) AS BIGINT) FROM read_parquet(%s)", qpath);
	rc = store__query_i64(c, sql, &in_file, &e);
	if (rc == 0) {
		snprintf(sql, sizeof sql,
			 "SELECT CAST(count(DISTINCT id) AS BIGINT) FROM read_parquet(%s)", qpath);
		rc = store__query_i64(c, sql, &distinct_ids, &e);
	}
	if (rc == 0) {
		snprintf(sql, sizeof sql,
			 "SELECT CAST(count(*) AS BIGINT) FROM read_parquet(%s) f "
			 "JOIN audit_events a ON a.id = f.id AND a.ts = f.ts "
			 "WHERE a.ts < TIMESTAMPTZ '%s'",
			 qpath, cutoff);
		rc = store__query_i64(c, sql, &matching, &e);
	}
	if (rc != 0)
		return err_set(info, ERR_DB, "reading back %s failed: %s", path, e.msg);
	if (in_file != n || distinct_ids != n || matching != n)
		return err_set(info, ERR_DB,
			       "%s holds %lld rows (%lld ids, %lld matching), expected %lld", path,
			       (long long)in_file, (long long)distinct_ids, (long long)matching,
			       (long long)n);
	if (injected(s, STORE__ARCHIVE_FAIL_AFTER_VERIFY))
		return err_set(info, ERR_IO, "injected failure after verify");

	snprintf(sql, sizeof sql,
		 "DELETE FROM audit_events WHERE ts < TIMESTAMPTZ '%s' "
		 "AND id IN (SELECT id FROM read_parquet(%s))",
		 cutoff, qpath);
	if (duckdb_query(c, sql, &res) != DuckDBSuccess) {
		rc = err_set(info, ERR_DB, "delete: %s", duckdb_result_error(&res));
		duckdb_destroy_result(&res);
		return rc;
	}
	copied = (int64_t)duckdb_rows_changed(&res);
	duckdb_destroy_result(&res);
	if (copied != n)
		return err_set(info, ERR_DB, "delete removed %lld rows, expected %lld",
			       (long long)copied, (long long)n);
	if (injected(s, STORE__ARCHIVE_FAIL_AFTER_DELETE))
		return err_set(info, ERR_IO, "injected failure after delete");
	rc = store__exec(c, "COMMIT", info);
	if (rc != 0)
		return rc;
	*rows = (uint64_t)n;
	return 0;
}

int store_audit_archive(struct store *s, int64_t older_than_s, const char *out_path,
			char *written_path, size_t cap, uint64_t *rows, struct err_info *info)
{
	char path[PATH_MAX], qpath[PATH_MAX * 2 + 3], cutoff[64], qe[300];
	int64_t now_ns = clock_wall_ns();
	uint64_t n = 0;
	bool created = false;
	struct stat st;
	struct err_info local = {0};
	int rc;

	if (!info)
		info = &local;
	if (written_path && cap)
		written_path[0] = '\0';
	if (rows)
		*rows = 0;
	if (!s || older_than_s < 0 || older_than_s > MAX_AGE_S)
		return err_set(info, ERR_INVALID, "archive: bad age %lld s",
			       (long long)older_than_s);
	if (out_path) {
		if (!out_path[0] || strlen(out_path) >= sizeof path)
			return err_set(info, ERR_INVALID, "archive: bad output path");
		memcpy(path, out_path, strlen(out_path) + 1);
		if (lstat(path, &st) == 0)
			return err_set(info, -EEXIST, "%s exists; an archive is never overwritten",
				       path);
	} else {
		rc = default_path(s, now_ns, path, sizeof path, info);
		if (rc != 0)
			return rc;
	}
	if (written_path && strlen(path) >= cap)
		return err_set(info, ERR_RANGE, "archive: written_path buffer too small");
	if (store__sql_quote(path, qpath, sizeof qpath) != 0)
		return err_set(info, ERR_RANGE, "archive: path too long");
	rc = store__fmt_ts_us(now_ns / 1000 - older_than_s * 1000000, cutoff, sizeof cutoff);
	if (rc != 0)
		return err_set(info, rc, "archive: cutoff out of range");

	/* Events still queued go in this archive too; a flush that times out
	 * only means they wait for the next one. */
	if (store_flush(s, FLUSH_BEFORE_MS) != 0)
		LOG_WARN("store", "archive: writer flush timed out, continuing", NULL);

	pthread_mutex_lock(&s->admin_mu);
	rc = archive_txn(s, cutoff, qpath, path, &created, &n, info);
	if (rc != 0 || n == 0)
		store__exec(s->aconn, "ROLLBACK", NULL);
	pthread_mutex_unlock(&s->admin_mu);

	if (rc != 0) {
		/* Nothing was deleted; a partial or unverified file must not be
		 * mistaken for an archive. */
		if (created && unlink(path) != 0 && errno != ENOENT && errno != ENOTDIR)
			LOG_WARN("store", "archive: cannot remove the failed export", "path=%s",
				 log_q(qe, sizeof qe, path));
		LOG_ERROR("store", "audit archive failed, nothing deleted", "err=%s",
			  log_q(qe, sizeof qe, info->msg));
		return rc;
	}
	if (rows)
		*rows = n;
	if (n > 0) {
		if (written_path)
			memcpy(written_path, path, strlen(path) + 1);
		LOG_INFO("store", "audit events archived", "rows=%llu path=%s",
			 (unsigned long long)n, log_q(qe, sizeof qe, path));
	}
	return 0;
}

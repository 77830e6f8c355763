/* Helpers shared by the store unit tests: temporary databases, record
 * builders, and small query helpers over store_query. */
#ifndef ARB_TESTS_STORE_TEST_H
#define ARB_TESTS_STORE_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_int.h"

/* Wall clock of the test records: 2024-01-02 03:04:05.678901234 UTC. */
#define T0_NS 1704164645678901234LL

struct tdb {
	char dir[256];
	struct store_cfg cfg;
};

static inline int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* A fresh temporary directory; the database sits two levels below it, so
 * store_open has parent directories to create. */
static inline void tdb_init(struct tdb *t)
{
	memset(t, 0, sizeof *t);
	snprintf(t->dir, sizeof t->dir, "/tmp/arb-store-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->cfg.duckdb_path, sizeof t->cfg.duckdb_path, "%s/data/db/arb.duckdb", t->dir);
	t->cfg.batch_rows = 256;
	t->cfg.flush_ms = 20;
	t->cfg.ring_capacity = 1 << 14;
	t->cfg.audit_retention_days = 30;
}

static inline void tdb_release(struct tdb *t)
{
	nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline struct store *tdb_open(struct tdb *t)
{
	struct err_info info = {0};
	struct store *s = store_open(&t->cfg, &info);
	if (!s)
		fail_msg("store_open: %s (%d)", info.msg, info.code);
	return s;
}

/* ---- Queries ---------------------------------------------------------------- */

struct rows {
	size_t n;
	char text[1 << 16]; /* rows joined by '\n', columns by '|', NULL as "∅" */
	size_t len;
};

static inline int collect_row(void *ctx, size_t ncols, const char *const *names,
			      const char *const *values)
{
	struct rows *r = ctx;
	(void)names;
	for (size_t i = 0; i < ncols; i++) {
		int n = snprintf(r->text + r->len, sizeof r->text - r->len, "%s%s", i ? "|" : "",
				 values[i] ? values[i] : "∅");
		assert_true(n >= 0 && (size_t)n < sizeof r->text - r->len);
		r->len += (size_t)n;
	}
	assert_true(r->len + 1 < sizeof r->text);
	r->text[r->len++] = '\n';
	r->text[r->len] = '\0';
	r->n++;
	return 0;
}

static inline void q_rows(struct store_reader *rd, const char *sql, struct rows *out)
{
	struct err_info info = {0};
	memset(out, 0, sizeof *out);
	int rc = store_query(rd, sql, collect_row, out, &info);
	if (rc != 0)
		fail_msg("query failed (%d): %s\n  %s", rc, info.msg, sql);
}

/* The single value of a one-row, one-column query, as text. */
static inline void q_text(struct store_reader *rd, const char *sql, char *buf, size_t cap)
{
	static struct rows r;
	q_rows(rd, sql, &r);
	if (r.n != 1)
		fail_msg("expected one row, got %zu: %s", r.n, sql);
	assert_true(r.len > 0);
	r.text[r.len - 1] = '\0';
	size_t l = strlen(r.text);
	if (l >= cap)
		fail_msg("value longer than %zu bytes: %s", cap, sql);
	memcpy(buf, r.text, l + 1);
}

static inline int64_t q_i64(struct store_reader *rd, const char *sql)
{
	char buf[64], *end;
	long long v;
	q_text(rd, sql, buf, sizeof buf);
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end || end == buf)
		fail_msg("not an integer: '%s' from %s", buf, sql);
	return v;
}

/* ---- Expected text ---------------------------------------------------------------- */

/* How DuckDB prints DECIMAL(38,18): written independently of the store's
 * scaling, digit by digit. */
static inline void dec_text(struct store_amount a, char *buf, size_t cap)
{
	char digits[32];
	uint64_t mag;
	size_t nd, intd, o = 0;
	if (a.scale == STORE_SCALE_NULL) {
		snprintf(buf, cap, "∅");
		return;
	}
	mag = a.units < 0 ? (uint64_t)0 - (uint64_t)a.units : (uint64_t)a.units;
	snprintf(digits, sizeof digits, "%" PRIu64, mag);
	nd = strlen(digits);
	assert_true(cap > 64);
	if (a.units < 0)
		buf[o++] = '-';
	intd = nd > (size_t)a.scale ? nd - (size_t)a.scale : 0;
	if (intd == 0)
		buf[o++] = '0';
	else
		for (size_t i = 0; i < intd; i++)
			buf[o++] = digits[i];
	buf[o++] = '.';
	for (int i = 0; i < a.scale - (int)nd; i++)
		buf[o++] = '0';
	for (size_t i = intd; i < nd; i++)
		buf[o++] = digits[i];
	for (int i = a.scale; i < 18; i++)
		buf[o++] = '0';
	buf[o] = '\0';
}

/* ---- Records ---------------------------------------------------------------- */

static inline void set_str(char *dst, size_t cap, const char *src)
{
	memset(dst, 0, cap);
	snprintf(dst, cap, "%s", src);
}

static inline struct store_rec mk_audit(uint64_t i, int64_t ts_ns)
{
	struct store_rec r;
	memset(&r, 0, sizeof r);
	r.type = STORE_REC_AUDIT;
	r.u.audit.ts_ns = ts_ns;
	r.u.audit.mode = (enum store_mode)(i % 3);
	snprintf(r.u.audit.actor, sizeof r.u.audit.actor, "operator:%" PRIu64, i % 7);
	snprintf(r.u.audit.action, sizeof r.u.audit.action, "action-%" PRIu64, i);
	snprintf(r.u.audit.detail, sizeof r.u.audit.detail, "{\"i\":%" PRIu64 ",\"note\":\"it's\"}",
		 i);
	return r;
}

static inline struct store_rec mk_portfolio(uint64_t i)
{
	struct store_rec r;
	memset(&r, 0, sizeof r);
	r.type = STORE_REC_PORTFOLIO;
	r.u.portfolio.ts_ns = T0_NS + (int64_t)i * 1000;
	r.u.portfolio.mode = STORE_MODE_LIVE;
	snprintf(r.u.portfolio.asset, sizeof r.u.portfolio.asset, "A%" PRIu64, i % 100000u);
	set_str(r.u.portfolio.home_asset, sizeof r.u.portfolio.home_asset, "USD");
	r.u.portfolio.balance = store_amt((int64_t)i * 12345 - 77, (int)(i % 19));
	r.u.portfolio.value_home = i % 4 ? store_amt((int64_t)i, 2) : STORE_AMOUNT_NULL;
	return r;
}

#endif

/* The writer thread: pops records, appends them as data chunks with the
 * DuckDB appender, one transaction per batch, and retries a failed batch
 * whole, so a batch is written exactly once or not at all. */
#include <stdio.h>
#include <string.h>

#include "core/fixed.h"

#include "core/log.h"
#include "store/store_int.h"

/* After this many failed attempts a batch is written row by row, to tell a
 * record the database refuses on its own from a database that refuses
 * everything; then again every ISOLATE_EVERY attempts. */
#define ISOLATE_AFTER  3
#define ISOLATE_EVERY  10
#define BACKOFF_MIN_MS 20
#define BACKOFF_MAX_MS 1000

/* ---- Schema check ---------------------------------------------------------------- */

static bool kind_ok(duckdb_logical_type t, enum store__kind k);

static bool legs_ok(duckdb_logical_type t)
{
	duckdb_logical_type child;
	bool ok;
	if (duckdb_get_type_id(t) != DUCKDB_TYPE_LIST)
		return false;
	child = duckdb_list_type_child_type(t);
	ok = duckdb_get_type_id(child) == DUCKDB_TYPE_STRUCT &&
	     duckdb_struct_type_child_count(child) == store__n_leg_cols;
	for (idx_t i = 0; ok && i < store__n_leg_cols; i++) {
		char *name = duckdb_struct_type_child_name(child, i);
		duckdb_logical_type ct = duckdb_struct_type_child_type(child, i);
		ok = name && strcmp(name, store__leg_cols[i].name) == 0 &&
		     kind_ok(ct, store__leg_cols[i].kind);
		duckdb_free(name);
		duckdb_destroy_logical_type(&ct);
	}
	duckdb_destroy_logical_type(&child);
	return ok;
}

static bool kind_ok(duckdb_logical_type t, enum store__kind k)
{
	switch (k) {
	case STORE__K_TS:
		return duckdb_get_type_id(t) == DUCKDB_TYPE_TIMESTAMP_TZ;
	case STORE__K_DEC:
		return duckdb_get_type_id(t) == DUCKDB_TYPE_DECIMAL &&
		       duckdb_decimal_width(t) == 38 && duckdb_decimal_scale(t) == 18 &&
		       duckdb_decimal_internal_type(t) == DUCKDB_TYPE_HUGEINT;
	case STORE__K_U64:
		return duckdb_get_type_id(t) == DUCKDB_TYPE_UBIGINT;
	case STORE__K_I64:
		return duckdb_get_type_id(t) == DUCKDB_TYPE_BIGINT;
	case STORE__K_I32:
		return duckdb_get_type_id(t) == DUCKDB_TYPE_INTEGER;
	case STORE__K_U8:
		return duckdb_get_type_id(t) == DUCKDB_TYPE_UTINYINT;
	case STORE__K_F64:
		return duckdb_get_type_id(t) == DUCKDB_TYPE_DOUBLE;
	case STORE__K_TEXT:
		return duckdb_get_type_id(t) == DUCKDB_TYPE_VARCHAR;
	case STORE__K_LEGS:
		return legs_ok(t);
	}
	return false;
}

static int appender_error(duckdb_appender ap, const char *what, char *err, size_t cap)
{
	duckdb_error_data e = ap ? duckdb_appender_error_data(ap) : NULL;
	const char *m = e && duckdb_error_data_has_error(e) ? duckdb_error_data_message(e) : NULL;
	snprintf(err, cap, "%s: %s", what, m ? m : "unknown appender error");
	if (e)
		duckdb_destroy_error_data(&e);
	return ERR_DB;
}

/* An appender on table t with the writer's column list. */
static int open_appender(struct store *s, const struct store__table *t, duckdb_appender *ap,
			 char *err, size_t cap)
{
	*ap = NULL;
	if (duckdb_appender_create(s->wconn, NULL, t->name, ap) != DuckDBSuccess)
		return appender_error(*ap, t->name, err, cap);
	for (size_t c = 0; c < t->ncols; c++)
		if (duckdb_appender_add_column(*ap, t->cols[c].name) != DuckDBSuccess)
			return appender_error(*ap, t->cols[c].name, err, cap);
	return 0;
}

int store__writer_prepare(struct store *s, struct err_info *info)
{
	char err[256];
	int rc = 0;
	for (size_t ti = 0; ti < STORE__NTABLES && rc == 0; ti++) {
		const struct store__table *t = &store__tables[ti];
		duckdb_appender ap;
		if (open_appender(s, t, &ap, err, sizeof err) != 0) {
			rc = err_set(info, ERR_SCHEMA, "table %s: %s", t->name, err);
		} else if (duckdb_appender_column_count(ap) != t->ncols) {
			rc = err_set(info, ERR_SCHEMA, "table %s: expected %zu columns", t->name,
				     t->ncols);
		}
		for (size_t c = 0; c < t->ncols && rc == 0; c++) {
			s->types[ti][c] = duckdb_appender_column_type(ap, c);
			if (!kind_ok(s->types[ti][c], t->cols[c].kind))
				rc =
				    err_set(info, ERR_SCHEMA, "column %s.%s has an unexpected type",
					    t->name, t->cols[c].name);
		}
		duckdb_appender_destroy(&ap);
	}
	return rc;
}

void store__writer_release(struct store *s)
{
	for (size_t ti = 0; ti < STORE__NTABLES; ti++)
		for (size_t c = 0; c < STORE__MAX_COLS; c++)
			if (s->types[ti][c])
				duckdb_destroy_logical_type(&s->types[ti][c]);
}

/* ---- Values into vectors ---------------------------------------------------------------- */

static void set_null(duckdb_vector v, idx_t row)
{
	duckdb_vector_ensure_validity_writable(v);
	duckdb_validity_set_row_invalid(duckdb_vector_get_validity(v), row);
}

static void w_ts(duckdb_vector v, idx_t row, int64_t ns)
{
	int64_t us = ns / 1000;
	if (ns % 1000 < 0)
		us--; /* round down before the epoch too */
	((duckdb_timestamp *)duckdb_vector_get_data(v))[row].micros = us;
}

static void w_dec(struct store *s, duckdb_vector v, idx_t row, struct store_amount a)
{
	__int128 x;
	if (a.scale < 0 || a.scale > 18) {
		if (a.scale != STORE_SCALE_NULL)
			atomic_fetch_add_explicit(&s->invalid, 1, memory_order_relaxed);
		set_null(v, row);
		return;
	}
	/* |units| < 2^63 and 10^18 < 2^60, so the product fits in 124 bits. */
	x = (__int128)a.units * (int64_t)fx_pow10_u64[18 - a.scale];
	((duckdb_hugeint *)duckdb_vector_get_data(v))[row] = (duckdb_hugeint){
	    .lower = (uint64_t)(unsigned __int128)x,
	    .upper = (int64_t)(x >> 64),
	};
}

static void w_u64(duckdb_vector v, idx_t row, uint64_t x)
{
	((uint64_t *)duckdb_vector_get_data(v))[row] = x;
}

static void w_u8(duckdb_vector v, idx_t row, uint8_t x)
{
	((uint8_t *)duckdb_vector_get_data(v))[row] = x;
}

/* Negative means unknown for every BIGINT and INTEGER column we fill. */
static void w_i64(duckdb_vector v, idx_t row, int64_t x)
{
	if (x < 0)
		set_null(v, row);
	else
		((int64_t *)duckdb_vector_get_data(v))[row] = x;
}

static void w_i32(duckdb_vector v, idx_t row, int32_t x)
{
	if (x < 0)
		set_null(v, row);
	else
		((int32_t *)duckdb_vector_get_data(v))[row] = x;
}

static void w_f64(duckdb_vector v, idx_t row, double x)
{
	if (x != x)
		set_null(v, row);
	else
		((double *)duckdb_vector_get_data(v))[row] = x;
}

/* DuckDB refuses a whole append with invalid UTF-8, so bad bytes become '?'
 * here rather than poisoning the batch. */
static void w_text(duckdb_vector v, idx_t row, const char *str, size_t cap)
{
	size_t len = strnlen(str, cap);
	char clean[STORE_DETAIL_LEN];
	if (len == 0) {
		set_null(v, row);
		return;
	}
	if (store__utf8_valid_prefix(str, len) != len) {
		store__utf8_clean(str, len, clean);
		str = clean;
	}
	duckdb_vector_assign_string_element_len(v, row, str, len);
}

static void w_name(struct store *s, duckdb_vector v, idx_t row, const char *name)
{
	if (!name) {
		atomic_fetch_add_explicit(&s->invalid, 1, memory_order_relaxed);
		set_null(v, row);
		return;
	}
	duckdb_vector_assign_string_element(v, row, name);
}

/* ---- Rows ---------------------------------------------------------------- */

/* Fills one row; columns in the order of the table's store__col list. */
struct fill {
	struct store *s;
	duckdb_data_chunk chunk;
	idx_t row;
	idx_t col;
};

static duckdb_vector next(struct fill *f)
{
	return duckdb_data_chunk_get_vector(f->chunk, f->col++);
}

static void w_legs(struct fill *f, duckdb_vector lv, const struct store_leg *legs, unsigned n)
{
	idx_t off = duckdb_list_vector_get_size(lv);
	duckdb_vector sv, c[6];
	if (n > STORE_MAX_LEGS)
		n = STORE_MAX_LEGS;
	duckdb_list_vector_reserve(lv, off + n);
	/* Fetched after the reserve, which may move the child's buffers. */
	sv = duckdb_list_vector_get_child(lv);
	for (idx_t i = 0; i < 6; i++)
		c[i] = duckdb_struct_vector_get_child(sv, i);
	for (unsigned k = 0; k < n; k++) {
		const struct store_leg *l = &legs[k];
		idx_t r = off + k;
		w_text(c[0], r, l->symbol, sizeof l->symbol);
		w_name(f->s, c[1], r, store_side_name(l->side));
		w_dec(f->s, c[2], r, l->price);
		w_dec(f->s, c[3], r, l->qty);
		w_f64(c[4], r, l->rate);
		w_i32(c[5], r, l->book_age_ms);
	}
	duckdb_list_vector_set_size(lv, off + n);
	((duckdb_list_entry *)duckdb_vector_get_data(lv))[f->row] = (duckdb_list_entry){off, n};
}

static void fill_opp(struct fill *f, const struct store_opportunity *o)
{
	struct store *s = f->s;
	idx_t r = f->row;
	w_ts(next(f), r, o->ts_ns);
	w_u64(next(f), r, o->opp_id);
	w_name(s, next(f), r, store_mode_name(o->mode));
	w_text(next(f), r, o->cycle, sizeof o->cycle);
	w_text(next(f), r, o->home_asset, sizeof o->home_asset);
	w_u8(next(f), r, o->n_legs);
	w_legs(f, next(f), o->legs, o->n_legs);
	w_dec(s, next(f), r, o->size);
	w_dec(s, next(f), r, o->expected_profit);
	w_dec(s, next(f), r, o->expected_fee);
	w_f64(next(f), r, o->expected_profit_bps);
	w_f64(next(f), r, o->net_rate);
	w_i32(next(f), r, o->max_book_age_ms);
	w_i64(next(f), r, o->detect_latency_ns);
	w_name(s, next(f), r, store_verdict_name(o->verdict));
	w_text(next(f), r, o->reason, sizeof o->reason);
}

static void fill_trade(struct fill *f, const struct store_trade *t)
{
	struct store *s = f->s;
	idx_t r = f->row;
	w_ts(next(f), r, t->ts_ns);
	w_u64(next(f), r, t->opp_id);
	w_name(s, next(f), r, store_mode_name(t->mode));
	w_text(next(f), r, t->cycle, sizeof t->cycle);
	w_u8(next(f), r, t->leg);
	w_text(next(f), r, t->cl_ord_id, sizeof t->cl_ord_id);
	w_text(next(f), r, t->order_id, sizeof t->order_id);
	w_text(next(f), r, t->symbol, sizeof t->symbol);
	w_name(s, next(f), r, store_side_name(t->side));
	w_name(s, next(f), r, store_order_type_name(t->order_type));
	w_name(s, next(f), r, store_tif_name(t->tif));
	w_dec(s, next(f), r, t->limit_price);
	w_dec(s, next(f), r, t->qty);
	w_dec(s, next(f), r, t->filled_qty);
	w_dec(s, next(f), r, t->avg_price);
	w_dec(s, next(f), r, t->fee);
	w_text(next(f), r, t->fee_asset, sizeof t->fee_asset);
	w_name(s, next(f), r, store_status_name(t->status));
	w_text(next(f), r, t->reason, sizeof t->reason);
	w_dec(s, next(f), r, t->expected_profit);
	w_dec(s, next(f), r, t->realised_profit);
	w_i64(next(f), r, t->submit_latency_ns);
	w_i64(next(f), r, t->ack_latency_ns);
	w_i64(next(f), r, t->fill_latency_ns);
}

static void fill_portfolio(struct fill *f, const struct store_portfolio *p)
{
	struct store *s = f->s;
	idx_t r = f->row;
	w_ts(next(f), r, p->ts_ns);
	w_name(s, next(f), r, store_mode_name(p->mode));
	w_text(next(f), r, p->asset, sizeof p->asset);
	w_text(next(f), r, p->home_asset, sizeof p->home_asset);
	w_dec(s, next(f), r, p->balance);
	w_dec(s, next(f), r, p->value_home);
}

static void fill_audit(struct fill *f, const struct store_audit *a)
{
	struct store *s = f->s;
	idx_t r = f->row;
	w_ts(next(f), r, a->ts_ns);
	w_name(s, next(f), r, store_mode_name(a->mode));
	w_text(next(f), r, a->actor, sizeof a->actor);
	w_text(next(f), r, a->action, sizeof a->action);
	w_text(next(f), r, a->detail, sizeof a->detail);
}

static void fill_row(struct fill *f, const struct store_rec *r)
{
	f->col = 0;
	switch (r->type) {
	case STORE_REC_OPPORTUNITY:
		fill_opp(f, &r->u.opp);
		break;
	case STORE_REC_TRADE:
		fill_trade(f, &r->u.trade);
		break;
	case STORE_REC_PORTFOLIO:
		fill_portfolio(f, &r->u.portfolio);
		break;
	case STORE_REC_AUDIT:
		fill_audit(f, &r->u.audit);
		break;
	}
}

/* ---- Transactions ---------------------------------------------------------------- */

static int append_chunk(duckdb_appender ap, duckdb_data_chunk *chunk, idx_t rows, char *err,
			size_t cap)
{
	int rc = 0;
	duckdb_data_chunk_set_size(*chunk, rows);
	if (duckdb_append_data_chunk(ap, *chunk) != DuckDBSuccess)
		rc = appender_error(ap, "append", err, cap);
	duckdb_destroy_data_chunk(chunk);
	return rc;
}

/* Appends the records of table ti among recs[0..n) and flushes them into the
 * open transaction. */
static int append_table(struct store *s, size_t ti, const struct store_rec *recs, size_t n,
			char *err, size_t cap)
{
	const struct store__table *t = &store__tables[ti];
	const idx_t vsize = duckdb_vector_size();
	duckdb_appender ap = NULL;
	struct fill f = {.s = s};
	size_t count = 0;
	int rc;
	for (size_t i = 0; i < n; i++)
		count += recs[i].type == t->type;
	if (count == 0)
		return 0;
	rc = open_appender(s, t, &ap, err, cap);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (recs[i].type != t->type)
			continue;
		if (!f.chunk) {
			f.chunk = duckdb_create_data_chunk(s->types[ti], t->ncols);
			f.row = 0;
		}
		fill_row(&f, &recs[i]);
		if (++f.row == vsize)
			rc = append_chunk(ap, &f.chunk, f.row, err, cap);
	}
	if (rc == 0 && f.chunk)
		rc = append_chunk(ap, &f.chunk, f.row, err, cap);
	if (rc == 0 && duckdb_appender_flush(ap) != DuckDBSuccess)
		rc = appender_error(ap, "flush", err, cap);
	if (f.chunk)
		duckdb_destroy_data_chunk(&f.chunk);
	duckdb_appender_destroy(&ap);
	return rc;
}

static bool take_injected_failure(struct store *s)
{
	unsigned n = atomic_load(&s->t_fail_commits);
	while (n > 0)
		if (atomic_compare_exchange_weak(&s->t_fail_commits, &n, n - 1))
			return true;
	return false;
}

static bool has_poison(const struct store *s, const struct store_rec *recs, size_t n)
{
	if (!s->t_poison_action[0])
		return false;
	for (size_t i = 0; i < n; i++)
		if (recs[i].type == STORE_REC_AUDIT &&
		    strncmp(recs[i].u.audit.action, s->t_poison_action, STORE_NAME_LEN) == 0)
			return true;
	return false;
}

/* Writes recs[0..n) in one transaction; all or nothing. */
static int write_txn(struct store *s, const struct store_rec *recs, size_t n, char *err, size_t cap)
{
	struct err_info e = {0};
	int rc;
	atomic_fetch_add(&s->t_txns, 1);
	if (store__exec(s->wconn, "BEGIN TRANSACTION", &e) != 0) {
		snprintf(err, cap, "begin: %.200s", e.msg);
		return ERR_DB;
	}
	rc = 0;
	for (size_t ti = 0; ti < STORE__NTABLES && rc == 0; ti++)
		rc = append_table(s, ti, recs, n, err, cap);
	if (rc == 0 && take_injected_failure(s)) {
		snprintf(err, cap, "injected failure");
		rc = ERR_DB;
	}
	if (rc == 0 && has_poison(s, recs, n)) {
		snprintf(err, cap, "injected poison record");
		rc = ERR_DB;
	}
	if (rc == 0 && store__exec(s->wconn, "COMMIT", &e) != 0) {
		snprintf(err, cap, "commit: %.200s", e.msg);
		rc = ERR_DB;
	}
	if (rc != 0)
		store__exec(s->wconn, "ROLLBACK", NULL);
	return rc;
}

static const char *type_name(enum store_rec_type t)
{
	switch (t) {
	case STORE_REC_OPPORTUNITY:
		return "opportunity";
	case STORE_REC_TRADE:
		return "trade";
	case STORE_REC_PORTFOLIO:
		return "portfolio";
	case STORE_REC_AUDIT:
		return "audit";
	}
	return "?";
}

static void reject(struct store *s, const struct store_rec *r, const char *err)
{
	char qe[160], qk[200];
	char key[160];
	switch (r->type) {
	case STORE_REC_OPPORTUNITY:
		snprintf(key, sizeof key, "opp_id=%llu", (unsigned long long)r->u.opp.opp_id);
		break;
	case STORE_REC_TRADE:
		snprintf(key, sizeof key, "opp_id=%llu cl_ord_id=%.*s",
			 (unsigned long long)r->u.trade.opp_id, STORE_ID_LEN, r->u.trade.cl_ord_id);
		break;
	case STORE_REC_PORTFOLIO:
		snprintf(key, sizeof key, "asset=%.*s", STORE_ASSET_LEN, r->u.portfolio.asset);
		break;
	case STORE_REC_AUDIT:
		snprintf(key, sizeof key, "actor=%.*s action=%.*s", STORE_NAME_LEN,
			 r->u.audit.actor, STORE_NAME_LEN, r->u.audit.action);
		break;
	}
	atomic_fetch_add(&s->rejected, 1);
	LOG_ERROR("store", "record refused by the database, dropped", "type=%s key=%s err=%s",
		  type_name(r->type), log_q(qk, sizeof qk, key), log_q(qe, sizeof qe, err));
}

/* Writes batch[0..n) one record per transaction. Keeps the failures at the
 * front and returns how many. When some rows went in and others did not, the
 * others are refused for what they hold: after two more tries each they are
 * rejected and 0 is returned. */
static size_t isolate(struct store *s, size_t n, char *err, size_t cap)
{
	size_t keep = 0, ok = 0;
	for (size_t i = 0; i < n; i++) {
		if (write_txn(s, &s->batch[i], 1, err, cap) == 0) {
			atomic_fetch_add(&s->written, 1);
			ok++;
		} else {
			atomic_fetch_add(&s->write_errors, 1);
			if (keep != i)
				s->batch[keep] = s->batch[i];
			keep++;
		}
	}
	if (keep == 0 || ok == 0)
		return keep;
	for (size_t i = 0; i < keep; i++) {
		int rc = ERR_DB;
		for (int tries = 0; tries < 2 && rc != 0; tries++) {
			rc = write_txn(s, &s->batch[i], 1, err, cap);
			if (rc != 0)
				atomic_fetch_add(&s->write_errors, 1);
		}
		if (rc == 0)
			atomic_fetch_add(&s->written, 1);
		else
			reject(s, &s->batch[i], err);
	}
	return 0;
}

static bool past_close_deadline(struct store *s)
{
	bool over;
	pthread_mutex_lock(&s->mu);
	over = s->stop && store__mono_ns() >= s->close_deadline_ns;
	pthread_mutex_unlock(&s->mu);
	return over;
}

static void wait_ms(struct store *s, uint64_t ms)
{
	struct timespec dl = store__deadline(ms);
	pthread_mutex_lock(&s->mu);
	pthread_cond_timedwait(&s->wake, &s->mu, &dl);
	pthread_mutex_unlock(&s->mu);
}

/* Writes batch[0..n), retrying with backoff until it is in, or until close
 * gives up on it. */
static void commit_batch(struct store *s, size_t n)
{
	char err[256], qe[300];
	unsigned attempt = 0;
	uint64_t backoff = BACKOFF_MIN_MS;
	for (;;) {
		if (write_txn(s, s->batch, n, err, sizeof err) == 0) {
			atomic_fetch_add(&s->written, n);
			atomic_store(&s->failing, false);
			return;
		}
		attempt++;
		atomic_fetch_add(&s->write_errors, 1);
		atomic_store(&s->failing, true);
		store__set_error(s, err);
		LOG_WARN("store", "batch write failed, retrying", "rows=%zu attempt=%u err=%s", n,
			 attempt, log_q(qe, sizeof qe, err));
		if (n > 1 && attempt >= ISOLATE_AFTER &&
		    (attempt - ISOLATE_AFTER) % ISOLATE_EVERY == 0)
			n = isolate(s, n, err, sizeof err);
		if (n == 0) {
			atomic_store(&s->failing, false);
			return;
		}
		if (past_close_deadline(s)) {
			atomic_fetch_add(&s->lost, n);
			LOG_ERROR("store", "giving up on a batch at close, records lost",
				  "rows=%zu attempts=%u err=%s", n, attempt,
				  log_q(qe, sizeof qe, err));
			return;
		}
		wait_ms(s, backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
}

/* ---- The thread ---------------------------------------------------------------- */

void *store__writer_main(void *arg)
{
	struct store *s = arg;
	const uint64_t flush_ns = (uint64_t)s->cfg.flush_ms * 1000000u;
	uint64_t poll_ms = s->cfg.flush_ms / 4;
	uint64_t t0 = 0;
	size_t n = 0;
	if (poll_ms < 1)
		poll_ms = 1;
	if (poll_ms > 10)
		poll_ms = 10;
	for (;;) {
		uint64_t ticket = 0;
		bool empty = false, stop;
		pthread_mutex_lock(&s->mu);
		stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop || !atomic_load(&s->t_paused)) {
			while (n < s->batch_cap) {
				if (ring_mpsc_pop(s->ring, &s->batch[n]) != 0) {
					empty = true;
					break;
				}
				if ((int)s->batch[n].type == STORE__REC_FLUSH) {
					ticket = s->batch[n].u.internal_;
					break;
				}
				if (n++ == 0)
					t0 = store__mono_ns();
			}
		} else {
			empty = true;
		}
		if (n > 0 &&
		    (n == s->batch_cap || ticket || stop || store__mono_ns() - t0 >= flush_ns)) {
			commit_batch(s, n);
			n = 0;
		}
		if (ticket) {
			pthread_mutex_lock(&s->mu);
			s->flush_done = ticket;
			pthread_cond_broadcast(&s->done);
			pthread_mutex_unlock(&s->mu);
			continue;
		}
		if (!empty)
			continue;
		if (stop && n == 0)
			break;
		{
			struct timespec dl = store__deadline(poll_ms);
			pthread_mutex_lock(&s->mu);
			if (!s->stop && !s->kick)
				pthread_cond_timedwait(&s->wake, &s->mu, &dl);
			s->kick = false;
			pthread_mutex_unlock(&s->mu);
		}
	}
	return NULL;
}

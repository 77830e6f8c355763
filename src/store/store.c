#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "store/store_int.h"

/* Records are copied whole through the ring; keep them small. */
_Static_assert(sizeof(struct store_rec) <= 1024, "struct store_rec grew past 1 KiB");

/* ---- Names ---------------------------------------------------------------- */

#define NAME_OF(tab, v) ((unsigned)(v) < sizeof tab / sizeof tab[0] ? tab[(unsigned)(v)] : NULL)

const char *store_mode_name(enum store_mode m)
{
	static const char *const t[] = {"paper", "live", "backtest"};
	return NAME_OF(t, m);
}

const char *store_side_name(enum store_side s)
{
	static const char *const t[] = {"buy", "sell"};
	return NAME_OF(t, s);
}

const char *store_verdict_name(enum store_verdict v)
{
	static const char *const t[] = {"detected", "accepted", "rejected", "executed", "missed"};
	return NAME_OF(t, v);
}

const char *store_order_type_name(enum store_order_type o)
{
	static const char *const t[] = {"limit", "market"};
	return NAME_OF(t, o);
}

const char *store_tif_name(enum store_tif f)
{
	static const char *const t[] = {"gtc", "ioc", "fok", "gtd"};
	return NAME_OF(t, f);
}

const char *store_status_name(enum store_order_status s)
{
	static const char *const t[] = {"pending",  "open",    "partially_filled", "filled",
					"canceled", "expired", "rejected",	   "unknown"};
	return NAME_OF(t, s);
}

/* ---- Validation ---------------------------------------------------------------- */

static bool amt_ok(struct store_amount a, bool nullable)
{
	if (a.scale == STORE_SCALE_NULL)
		return nullable;
	return a.scale >= 0 && a.scale <= 18;
}

static bool opp_valid(const struct store_opportunity *o)
{
	if (!store_mode_name(o->mode) || !store_verdict_name(o->verdict))
		return false;
	if (o->n_legs < 1 || o->n_legs > STORE_MAX_LEGS || !o->cycle[0] || !o->home_asset[0])
		return false;
	for (unsigned k = 0; k < o->n_legs; k++) {
		const struct store_leg *l = &o->legs[k];
		if (!l->symbol[0] || !store_side_name(l->side) || !amt_ok(l->price, true) ||
		    !amt_ok(l->qty, true))
			return false;
	}
	return amt_ok(o->size, true) && amt_ok(o->expected_profit, true) &&
	       amt_ok(o->expected_fee, true);
}

static bool trade_valid(const struct store_trade *t)
{
	if (!store_mode_name(t->mode) || !store_side_name(t->side) ||
	    !store_order_type_name(t->order_type) || !store_tif_name(t->tif) ||
	    !store_status_name(t->status))
		return false;
	if (!t->cl_ord_id[0] || !t->symbol[0])
		return false;
	return amt_ok(t->qty, false) && amt_ok(t->filled_qty, false) &&
	       amt_ok(t->limit_price, true) && amt_ok(t->avg_price, true) && amt_ok(t->fee, true) &&
	       amt_ok(t->expected_profit, true) && amt_ok(t->realised_profit, true);
}

bool store__rec_valid(const struct store_rec *r)
{
	switch (r->type) {
	case STORE_REC_OPPORTUNITY:
		return opp_valid(&r->u.opp);
	case STORE_REC_TRADE:
		return trade_valid(&r->u.trade);
	case STORE_REC_PORTFOLIO:
		return store_mode_name(r->u.portfolio.mode) && r->u.portfolio.asset[0] &&
		       amt_ok(r->u.portfolio.balance, false) &&
		       amt_ok(r->u.portfolio.value_home, true);
	case STORE_REC_AUDIT:
		return store_mode_name(r->u.audit.mode) && r->u.audit.actor[0] &&
		       r->u.audit.action[0];
	}
	return false;
}

/* ---- Lifecycle ---------------------------------------------------------------- */

static int init_cond(pthread_cond_t *c)
{
	pthread_condattr_t a;
	int rc = pthread_condattr_init(&a);
	if (rc == 0)
		rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return -rc;
}

static int open_conn(struct store *s, duckdb_connection *c, struct err_info *info)
{
	if (duckdb_connect(s->db, c) != DuckDBSuccess)
		return err_set(info, ERR_DB, "cannot connect to %s", s->cfg.duckdb_path);
	/* TIMESTAMPTZ text in UTC whatever the host's zone. Fails harmlessly
	 * without ICU, where UTC is the only zone anyway. */
	store__exec(*c, "SET TimeZone = 'UTC'", NULL);
	return 0;
}

/* Releases everything but the thread, which is joined or was never started. */
static void destroy(struct store *s)
{
	struct store_rec r;
	if (s->ring) {
		while (ring_mpsc_pop(s->ring, &r) == 0)
			if ((int)r.type != STORE__REC_FLUSH)
				atomic_fetch_add(&s->lost, 1);
	}
	store__writer_release(s);
	if (s->wconn)
		duckdb_disconnect(&s->wconn);
	if (s->pconn)
		duckdb_disconnect(&s->pconn);
	if (s->aconn)
		duckdb_disconnect(&s->aconn);
	if (s->db)
		duckdb_close(&s->db);
	ring_mpsc_free(s->ring);
	free(s->batch);
	pthread_cond_destroy(&s->done);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->flush_mu);
	pthread_mutex_destroy(&s->admin_mu);
	pthread_mutex_destroy(&s->ping_mu);
	free(s);
}

static int check_cfg(const struct store_cfg *cfg, struct err_info *info)
{
	size_t len = strnlen(cfg->duckdb_path, sizeof cfg->duckdb_path);
	if (len == 0 || len == sizeof cfg->duckdb_path)
		return err_set(info, ERR_CONFIG, "DUCKDB_PATH: empty or too long");
	if (cfg->batch_rows < 1 || cfg->batch_rows > 1u << 20)
		return err_set(info, ERR_CONFIG, "STORE_BATCH_ROWS=%u: expected 1..%u",
			       cfg->batch_rows, 1u << 20);
	if (cfg->flush_ms < 1)
		return err_set(info, ERR_CONFIG, "STORE_FLUSH_MS=%u: expected >= 1", cfg->flush_ms);
	if (cfg->ring_capacity < 2 || cfg->ring_capacity > 1u << 24)
		return err_set(info, ERR_CONFIG, "STORE_RING_CAPACITY=%u: expected 2..%u",
			       cfg->ring_capacity, 1u << 24);
	return 0;
}

struct store *store_open(const struct store_cfg *cfg, struct err_info *info)
{
	struct store *s;
	char dir[PATH_MAX];
	char *oerr = NULL;
	int rc;
	if (!cfg) {
		err_set(info, ERR_INVALID, "no store configuration");
		return NULL;
	}
	if (check_cfg(cfg, info) != 0)
		return NULL;
	s = calloc(1, sizeof *s);
	if (!s) {
		err_set(info, ERR_NOMEM, "store: out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	pthread_mutex_init(&s->ping_mu, NULL);
	pthread_mutex_init(&s->admin_mu, NULL);
	pthread_mutex_init(&s->flush_mu, NULL);
	pthread_mutex_init(&s->mu, NULL);
	if ((rc = init_cond(&s->wake)) != 0 || (rc = init_cond(&s->done)) != 0) {
		err_set(info, rc, "store: condition variable: %s", err_str(rc));
		goto fail_early;
	}

	if (strcmp(s->cfg.duckdb_path, ":memory:") != 0) {
		rc = store__dirname(s->cfg.duckdb_path, dir, sizeof dir);
		if (rc == 0)
			rc = store__mkdir_p(dir, 0700);
		if (rc != 0) {
			err_set(info, rc, "DUCKDB_PATH=%s: cannot create its directory: %s",
				s->cfg.duckdb_path, err_str(rc));
			goto fail;
		}
	}
	if (duckdb_open_ext(s->cfg.duckdb_path, &s->db, NULL, &oerr) != DuckDBSuccess) {
		err_set(info, ERR_DB, "DUCKDB_PATH=%s: %s", s->cfg.duckdb_path,
			oerr ? oerr : "cannot open");
		duckdb_free(oerr);
		s->db = NULL;
		goto fail;
	}
	if (open_conn(s, &s->wconn, info) != 0 || open_conn(s, &s->pconn, info) != 0 ||
	    open_conn(s, &s->aconn, info) != 0)
		goto fail;
	if (store__migrate_conn(s->wconn, &s->migrations_applied, info) != 0)
		goto fail;
	if (store__writer_prepare(s, info) != 0)
		goto fail;

	s->ring = ring_mpsc_new(sizeof(struct store_rec), s->cfg.ring_capacity);
	s->batch_cap = s->cfg.batch_rows;
	s->batch = calloc(s->batch_cap, sizeof *s->batch);
	if (!s->ring || !s->batch) {
		err_set(info, ERR_NOMEM, "store: out of memory for the ring (%u) or batch (%u)",
			s->cfg.ring_capacity, s->cfg.batch_rows);
		goto fail;
	}
	rc = pthread_create(&s->thread, NULL, store__writer_main, s);
	if (rc != 0) {
		err_set(info, -rc, "store: cannot start the writer: %s", err_str(-rc));
		goto fail;
	}
	pthread_setname_np(s->thread, "arb-store");
	s->thread_started = true;
	if (s->migrations_applied)
		LOG_INFO("store", "migrations applied", "count=%u version=%d",
			 s->migrations_applied, store_schema_version_latest());
	return s;
fail:
	destroy(s);
	return NULL;
fail_early:
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->flush_mu);
	pthread_mutex_destroy(&s->admin_mu);
	pthread_mutex_destroy(&s->ping_mu);
	free(s);
	return NULL;
}

int store_close(struct store *s)
{
	uint64_t lost;
	if (!s)
		return 0;
	atomic_store(&s->closing, true);
	if (s->thread_started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		s->close_deadline_ns = store__mono_ns() + (uint64_t)STORE_CLOSE_RETRY_MS * 1000000u;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	/* The writer drained the ring; count anything a producer pushed after
	 * that, ignoring the contract. */
	{
		struct store_rec r;
		while (s->ring && ring_mpsc_pop(s->ring, &r) == 0)
			if ((int)r.type != STORE__REC_FLUSH)
				atomic_fetch_add(&s->lost, 1);
	}
	lost = atomic_load(&s->lost);
	if (lost)
		LOG_ERROR("store", "records lost at close", "lost=%llu", (unsigned long long)lost);
	destroy(s);
	return lost ? ERR_DB : 0;
}

unsigned store_migrations_applied(const struct store *s)
{
	return s ? s->migrations_applied : 0;
}

int store_migrate(struct store *s, unsigned *applied, struct err_info *info)
{
	int rc;
	if (!s)
		return err_set(info, ERR_INVALID, "no store");
	pthread_mutex_lock(&s->admin_mu);
	rc = store__migrate_conn(s->aconn, applied, info);
	pthread_mutex_unlock(&s->admin_mu);
	return rc;
}

/* ---- Writing ---------------------------------------------------------------- */

int store_enqueue(struct store *s, const struct store_rec *r)
{
	if (!s || !r)
		return ERR_INVALID;
	if (atomic_load_explicit(&s->closing, memory_order_relaxed))
		return ERR_BADSTATE;
	if (!store__rec_valid(r)) {
		atomic_fetch_add_explicit(&s->invalid, 1, memory_order_relaxed);
		return ERR_INVALID;
	}
	if (ring_mpsc_push(s->ring, r) != 0) {
		atomic_fetch_add_explicit(&s->dropped, 1, memory_order_relaxed);
		return ERR_FULL;
	}
	atomic_fetch_add_explicit(&s->enqueued, 1, memory_order_relaxed);
	return 0;
}

static bool expired(const struct timespec *dl)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > dl->tv_sec || (now.tv_sec == dl->tv_sec && now.tv_nsec >= dl->tv_nsec);
}

/* The marker goes into the ring behind every record whose push completed
 * before it, and the writer commits what it holds when it pops the marker, so
 * the marker's ticket coming back means those records are in. Flushes are
 * serialized, so tickets come back in order. */
int store_flush(struct store *s, uint32_t timeout_ms)
{
	struct timespec dl = store__deadline(timeout_ms);
	struct store_rec m;
	uint64_t ticket;
	int rc = 0;
	if (!s)
		return ERR_INVALID;
	if (atomic_load(&s->closing))
		return ERR_BADSTATE;
	memset(&m, 0, sizeof m);
	pthread_mutex_lock(&s->flush_mu);
	ticket = ++s->flush_ticket;
	m.type = (enum store_rec_type)STORE__REC_FLUSH;
	m.u.internal_ = ticket;
	while (ring_mpsc_push(s->ring, &m) != 0) {
		struct timespec pause = {0, 1000000};
		if (expired(&dl)) {
			rc = ERR_TIMEOUT;
			goto out;
		}
		nanosleep(&pause, NULL);
	}
	pthread_mutex_lock(&s->mu);
	s->kick = true;
	pthread_cond_signal(&s->wake);
	while (s->flush_done < ticket && rc == 0)
		if (pthread_cond_timedwait(&s->done, &s->mu, &dl) == ETIMEDOUT &&
		    s->flush_done < ticket)
			rc = ERR_TIMEOUT;
	pthread_mutex_unlock(&s->mu);
out:
	pthread_mutex_unlock(&s->flush_mu);
	return rc;
}

void store_stats(struct store *s, struct store_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!s)
		return;
	out->enqueued = atomic_load(&s->enqueued);
	out->written = atomic_load(&s->written);
	out->dropped = atomic_load(&s->dropped);
	out->write_errors = atomic_load(&s->write_errors);
	out->rejected = atomic_load(&s->rejected);
	out->invalid = atomic_load(&s->invalid);
	out->lost = atomic_load(&s->lost);
	out->queued = s->ring ? ring_mpsc_count(s->ring) : 0;
	out->failing = atomic_load(&s->failing);
	pthread_mutex_lock(&s->mu);
	memcpy(out->last_error, s->last_error, sizeof out->last_error);
	pthread_mutex_unlock(&s->mu);
}

int store_ping(struct store *s)
{
	int64_t n;
	int rc;
	if (!s)
		return ERR_INVALID;
	pthread_mutex_lock(&s->ping_mu);
	rc = store__query_i64(s->pconn, "SELECT CAST(count(*) AS BIGINT) FROM schema_migrations",
			      &n, NULL);
	pthread_mutex_unlock(&s->ping_mu);
	if (rc != 0 || atomic_load(&s->failing))
		return ERR_DB;
	return 0;
}

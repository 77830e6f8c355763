/* The writer thread: many producers, a full ring, flush, retries, records the
 * database refuses, close with a dead database, and readers beside the
 * writer. */
#include "store_test.h"

#include <pthread.h>
#include <time.h>

#define PRODUCERS    8
#define PER_PRODUCER 5000

struct producer {
	struct store *s;
	unsigned id;
	uint64_t ok, full, other;
};

/* Audit records whose action names producer and sequence, so the database
 * can be checked for each record exactly once. */
static void *produce(void *arg)
{
	struct producer *p = arg;
	for (uint64_t i = 0; i < PER_PRODUCER; i++) {
		struct store_rec r;
		int rc;
		if (i % 2) {
			r = mk_audit(i, T0_NS + (int64_t)i);
			snprintf(r.u.audit.action, sizeof r.u.audit.action, "p%u-%" PRIu64, p->id,
				 i);
		} else {
			r = mk_portfolio(i);
			snprintf(r.u.portfolio.asset, sizeof r.u.portfolio.asset, "p%u-%" PRIu64,
				 p->id, i);
		}
		rc = store_enqueue(p->s, &r);
		if (rc == 0)
			p->ok++;
		else if (rc == ERR_FULL)
			p->full++;
		else
			p->other++; /* checked on the main thread: cmocka asserts are not
				       thread-safe */
	}
	return NULL;
}

static void run_producers(struct store *s, struct producer *p)
{
	pthread_t th[PRODUCERS];
	for (unsigned i = 0; i < PRODUCERS; i++) {
		p[i] = (struct producer){.s = s, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	}
	for (unsigned i = 0; i < PRODUCERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(p[i].other, 0);
	}
}

static void many_producers_nothing_lost(void **state)
{
	struct producer p[PRODUCERS];
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct store_stats st;
	uint64_t ok = 0;
	(void)state;
	tdb_init(&t);
	t.cfg.ring_capacity = 1 << 16; /* room for all: nothing may drop */
	t.cfg.batch_rows = 1000;
	s = tdb_open(&t);
	run_producers(s, p);
	for (unsigned i = 0; i < PRODUCERS; i++) {
		assert_int_equal(p[i].full, 0);
		ok += p[i].ok;
	}
	assert_int_equal(ok, PRODUCERS * PER_PRODUCER);
	assert_int_equal(store_flush(s, 30000), 0);
	store_stats(s, &st);
	assert_int_equal(st.enqueued, ok);
	assert_int_equal(st.written, ok);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.write_errors, 0);
	assert_int_equal(st.queued, 0);
	rd = store_reader_open(s, NULL);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events"), ok / 2);
	assert_int_equal(q_i64(rd, "SELECT count(DISTINCT action) FROM audit_events"), ok / 2);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM portfolio_snapshots"), ok / 2);
	assert_int_equal(q_i64(rd, "SELECT count(DISTINCT asset) FROM portfolio_snapshots"),
			 ok / 2);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

/* With a small ring some records drop; every accepted one is written, and
 * the counters add up. */
static void small_ring_counts_drops(void **state)
{
	struct producer p[PRODUCERS];
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct store_stats st;
	uint64_t ok = 0, full = 0;
	(void)state;
	tdb_init(&t);
	t.cfg.ring_capacity = 64;
	t.cfg.batch_rows = 32;
	s = tdb_open(&t);
	run_producers(s, p);
	for (unsigned i = 0; i < PRODUCERS; i++) {
		ok += p[i].ok;
		full += p[i].full;
	}
	assert_int_equal(ok + full, PRODUCERS * PER_PRODUCER);
	assert_int_equal(store_flush(s, 30000), 0);
	store_stats(s, &st);
	assert_int_equal(st.enqueued, ok);
	assert_int_equal(st.dropped, full);
	assert_int_equal(st.written, ok);
	rd = store_reader_open(s, NULL);
	assert_int_equal(q_i64(rd, "SELECT (SELECT count(*) FROM audit_events) + "
				   "(SELECT count(*) FROM portfolio_snapshots)"),
			 ok);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

static void ring_full_is_err_full(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct store_stats st;
	struct store_rec r;
	(void)state;
	tdb_init(&t);
	t.cfg.ring_capacity = 8;
	s = tdb_open(&t);
	atomic_store(&s->t_paused, true);
	for (uint64_t i = 0; i < 8; i++) {
		r = mk_audit(i, T0_NS);
		assert_int_equal(store_enqueue(s, &r), 0);
	}
	r = mk_audit(8, T0_NS);
	assert_int_equal(store_enqueue(s, &r), ERR_FULL);
	assert_int_equal(store_enqueue(s, &r), ERR_FULL);
	store_stats(s, &st);
	assert_int_equal(st.enqueued, 8);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.queued, 8);
	/* A flush cannot even queue its marker, and says so in time. */
	assert_int_equal(store_flush(s, 50), ERR_TIMEOUT);
	atomic_store(&s->t_paused, false);
	assert_int_equal(store_flush(s, 10000), 0);
	store_stats(s, &st);
	assert_int_equal(st.written, 8);
	assert_int_equal(st.queued, 0);
	rd = store_reader_open(s, NULL);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events"), 8);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events WHERE action = 'action-8'"),
			 0);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* flush_ms is an upper bound on waiting; a flush does not wait for it. */
static void flush_writes_now(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct store_rec r = mk_audit(1, T0_NS);
	uint64_t t0;
	(void)state;
	tdb_init(&t);
	t.cfg.flush_ms = 600000;
	t.cfg.batch_rows = 100000;
	s = tdb_open(&t);
	rd = store_reader_open(s, NULL);
	assert_int_equal(store_enqueue(s, &r), 0);
	usleep(50000);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events"), 0);
	t0 = now_ms();
	assert_int_equal(store_flush(s, 10000), 0);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events"), 1);
	/* A flush with nothing queued returns too. */
	assert_int_equal(store_flush(s, 10000), 0);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

/* flush_ms alone (no flush call, batch never full) gets records written. */
static void flush_ms_bounds_latency(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct store_rec r = mk_audit(1, T0_NS);
	int64_t n = 0;
	(void)state;
	tdb_init(&t);
	t.cfg.flush_ms = 30;
	t.cfg.batch_rows = 100000;
	s = tdb_open(&t);
	rd = store_reader_open(s, NULL);
	assert_int_equal(store_enqueue(s, &r), 0);
	for (int i = 0; i < 500 && n == 0; i++) {
		usleep(10000);
		n = q_i64(rd, "SELECT count(*) FROM audit_events");
	}
	assert_int_equal(n, 1);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

/* A failed transaction is rolled back and the batch retried whole: every
 * record exactly once. */
static void failed_writes_are_retried(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct store_stats st;
	(void)state;
	tdb_init(&t);
	t.cfg.batch_rows = 1000;
	t.cfg.flush_ms = 10;
	s = tdb_open(&t);
	atomic_store(&s->t_paused, true);
	for (uint64_t i = 0; i < 300; i++) {
		struct store_rec r = i % 2 ? mk_audit(i, T0_NS) : mk_portfolio(i);
		assert_int_equal(store_enqueue(s, &r), 0);
	}
	atomic_store(&s->t_fail_commits, 2u);
	atomic_store(&s->t_paused, false);
	assert_int_equal(store_flush(s, 20000), 0);
	store_stats(s, &st);
	assert_int_equal(st.written, 300);
	assert_int_equal(st.write_errors, 2);
	assert_int_equal(st.rejected, 0);
	assert_false(st.failing);
	assert_string_equal(st.last_error, "injected failure");
	rd = store_reader_open(s, NULL);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events"), 150);
	assert_int_equal(q_i64(rd, "SELECT count(DISTINCT action) FROM audit_events"), 150);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM portfolio_snapshots"), 150);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

/* One record the database refuses does not hold the others back forever:
 * after a few attempts the batch goes row by row, the rest are written and
 * only that record is rejected (and logged). */
static void poison_record_isolated(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct store_stats st;
	(void)state;
	tdb_init(&t);
	t.cfg.batch_rows = 1000;
	s = tdb_open(&t);
	set_str(s->t_poison_action, sizeof s->t_poison_action, "poison");
	atomic_store(&s->t_paused, true);
	for (uint64_t i = 0; i < 20; i++) {
		struct store_rec r = mk_audit(i, T0_NS);
		if (i == 7)
			set_str(r.u.audit.action, sizeof r.u.audit.action, "poison");
		assert_int_equal(store_enqueue(s, &r), 0);
	}
	atomic_store(&s->t_paused, false);
	assert_int_equal(store_flush(s, 30000), 0);
	store_stats(s, &st);
	assert_int_equal(st.written, 19);
	assert_int_equal(st.rejected, 1);
	assert_int_equal(st.lost, 0);
	assert_false(st.failing);
	rd = store_reader_open(s, NULL);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events"), 19);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events WHERE action = 'poison'"), 0);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

/* When every write fails, close retries for STORE_CLOSE_RETRY_MS, then
 * reports the loss instead of hanging. */
static void close_with_dead_database_reports_loss(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	uint64_t t0;
	(void)state;
	tdb_init(&t);
	s = tdb_open(&t);
	atomic_store(&s->t_fail_commits, 1000000000u);
	for (uint64_t i = 0; i < 5; i++) {
		struct store_rec r = mk_audit(i, T0_NS);
		assert_int_equal(store_enqueue(s, &r), 0);
	}
	t0 = now_ms();
	assert_int_equal(store_close(s), ERR_DB);
	assert_true(now_ms() - t0 < STORE_CLOSE_RETRY_MS + 5000);
	s = tdb_open(&t);
	rd = store_reader_open(s, NULL);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events"), 0);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

struct bg {
	struct store *s;
	atomic_bool done;
	uint64_t n;
};

static void *bg_produce(void *arg)
{
	struct bg *b = arg;
	for (uint64_t i = 0; i < b->n; i++) {
		struct store_rec r = mk_portfolio(i);
		while (store_enqueue(b->s, &r) == ERR_FULL)
			usleep(100);
	}
	atomic_store(&b->done, true);
	return NULL;
}

static void reader_beside_writer(void **state)
{
	struct tdb t;
	struct bg b;
	pthread_t th;
	struct store_reader *rd;
	int64_t last = 0, n;
	unsigned reads = 0;
	(void)state;
	tdb_init(&t);
	t.cfg.batch_rows = 200;
	t.cfg.flush_ms = 5;
	t.cfg.ring_capacity = 1024;
	b.s = tdb_open(&t);
	b.n = 20000;
	atomic_init(&b.done, false);
	rd = store_reader_open(b.s, NULL);
	assert_non_null(rd);
	assert_int_equal(pthread_create(&th, NULL, bg_produce, &b), 0);
	while (!atomic_load(&b.done) || reads < 5) {
		n = q_i64(rd, "SELECT count(*) FROM portfolio_snapshots");
		assert_true(n >= last); /* committed batches only ever add */
		assert_int_equal(store_ping(b.s), 0);
		last = n;
		reads++;
	}
	pthread_join(th, NULL);
	assert_int_equal(store_flush(b.s, 30000), 0);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM portfolio_snapshots"), (int64_t)b.n);
	store_reader_close(rd);
	assert_int_equal(store_close(b.s), 0);
	tdb_release(&t);
}

static int stop_at_two(void *ctx, size_t ncols, const char *const *names, const char *const *values)
{
	int *n = ctx;
	(void)ncols;
	(void)names;
	(void)values;
	return ++*n == 2 ? 42 : 0;
}

static int check_names(void *ctx, size_t ncols, const char *const *names, const char *const *values)
{
	int *n = ctx;
	assert_int_equal(ncols, 3);
	assert_string_equal(names[0], "a");
	assert_string_equal(names[1], "b");
	assert_string_equal(names[2], "c");
	assert_string_equal(values[0], "x y");
	assert_null(values[1]);
	assert_string_equal(values[2], "");
	(*n)++;
	return 0;
}

static void reader_queries(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct rows r;
	struct err_info info = {0};
	int n = 0;
	(void)state;
	tdb_init(&t);
	s = tdb_open(&t);
	for (uint64_t i = 0; i < 5; i++) {
		struct store_rec rec = mk_audit(i, T0_NS + (int64_t)i * 1000);
		assert_int_equal(store_enqueue(s, &rec), 0);
	}
	assert_int_equal(store_flush(s, 10000), 0);
	rd = store_reader_open(s, &info);
	assert_non_null(rd);

	/* Order, NULLs, empty strings, names, trailing semicolons. */
	q_rows(rd, "SELECT action FROM audit_events ORDER BY ts DESC;  \n", &r);
	assert_string_equal(r.text, "action-4\naction-3\naction-2\naction-1\naction-0\n");
	assert_int_equal(
	    store_query(rd, "SELECT 'x y' AS a, NULL AS b, '' AS c", check_names, &n, NULL), 0);
	assert_int_equal(n, 1);
	q_rows(rd, "SELECT 1 -- a comment", &r);
	assert_string_equal(r.text, "1\n");
	q_rows(rd, "WITH x AS (SELECT 2 AS v) SELECT v * 21 FROM x", &r);
	assert_string_equal(r.text, "42\n");
	q_rows(rd, "SELECT count(*) FROM audit_events WHERE false", &r);
	assert_string_equal(r.text, "0\n");

	/* The callback stops the query. */
	n = 0;
	assert_int_equal(store_query(rd, "SELECT * FROM range(10)", stop_at_two, &n, NULL), 42);
	assert_int_equal(n, 2);
	assert_int_equal(store_query(rd, "SELECT * FROM range(10)", NULL, NULL, NULL), 0);

	/* Parameters. */
	{
		const char *p[] = {"action-3", "2"};
		static struct rows pr;
		memset(&pr, 0, sizeof pr);
		assert_int_equal(store_query_params(rd,
						    "SELECT action FROM audit_events WHERE action "
						    "<> $1 ORDER BY id LIMIT $2",
						    p, 2, collect_row, &pr, &info),
				 0);
		assert_string_equal(pr.text, "action-0\naction-1\n");
		assert_int_equal(store_query_params(rd, "SELECT $1", p, 2, NULL, NULL, &info),
				 ERR_INVALID);
	}

	/* A reader cannot change anything: not a DELETE, not a second
	 * statement smuggled in, not DDL. */
	assert_int_equal(store_query(rd, "DELETE FROM audit_events", NULL, NULL, &info), ERR_DB);
	assert_int_equal(
	    store_query(rd, "SELECT 1); DELETE FROM audit_events; SELECT (1", NULL, NULL, &info),
	    ERR_DB);
	assert_int_equal(store_query(rd, "UPDATE audit_events SET actor = 'x'", NULL, NULL, &info),
			 ERR_DB);
	assert_int_equal(store_query(rd, "DROP TABLE audit_events", NULL, NULL, &info), ERR_DB);
	assert_int_equal(store_query(rd, "SELECT * FROM nosuchtable", NULL, NULL, &info), ERR_DB);
	assert_non_null(strstr(info.msg, "nosuchtable"));
	assert_int_equal(store_query(rd, " ; ", NULL, NULL, &info), ERR_INVALID);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events"), 5);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events WHERE actor = 'x'"), 0);
	store_reader_close(rd);
	store_reader_close(NULL);
	assert_int_equal(store_close(s), 0);

	/* Offline, read-only, from the path. */
	rd = store_reader_open_path(t.cfg.duckdb_path, &info);
	assert_non_null(rd);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM audit_events"), 5);
	store_reader_close(rd);
	{
		char missing[300];
		snprintf(missing, sizeof missing, "%s/nope.duckdb", t.dir);
		memset(&info, 0, sizeof info);
		assert_null(store_reader_open_path(missing, &info));
		assert_int_equal(info.code, ERR_DB);
	}
	tdb_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(many_producers_nothing_lost),
	    cmocka_unit_test(small_ring_counts_drops),
	    cmocka_unit_test(ring_full_is_err_full),
	    cmocka_unit_test(flush_writes_now),
	    cmocka_unit_test(flush_ms_bounds_latency),
	    cmocka_unit_test(failed_writes_are_retried),
	    cmocka_unit_test(poison_record_isolated),
	    cmocka_unit_test(close_with_dead_database_reports_loss),
	    cmocka_unit_test(reader_beside_writer),
	    cmocka_unit_test(reader_queries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

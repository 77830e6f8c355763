/* Store lifecycle: migrations, schema types, exact round trips of every record
 * type, validation and ping. */
#include "store_test.h"

#include <math.h>

#define N_EACH 2500 /* more than one DuckDB vector (2048) per table */

/* ---- Record builders with edge values
 * ---------------------------------------------------------------- */

static uint64_t opp_id_of(uint64_t i)
{
	return i == N_EACH - 1 ? UINT64_MAX : 1000 + i;
}

static uint64_t index_of(const char *opp_id)
{
	unsigned long long v = strtoull(opp_id, NULL, 10);
	return v == UINT64_MAX ? N_EACH - 1 : v - 1000;
}

static struct store_amount size_of(uint64_t i)
{
	if (i == 0)
		return store_amt(INT64_MAX, 18);
	if (i == 1)
		return store_amt(-INT64_MAX, 0);
	if (i == 2)
		return store_amt(-1, 18);
	return store_amt((int64_t)i * 1000, (int)(i % 19));
}

static const char *reason_of(uint64_t i, bool stored)
{
	if (i % 2)
		return stored ? NULL : "";
	return stored ? "fee ? too high é" : "fee \xff too high é";
}

static struct store_rec mk_opp(uint64_t i)
{
	struct store_rec r;
	struct store_opportunity *o = &r.u.opp;
	memset(&r, 0, sizeof r);
	r.type = STORE_REC_OPPORTUNITY;
	o->ts_ns = i == 3 ? -1 : T0_NS + (int64_t)i * 1000003;
	o->opp_id = opp_id_of(i);
	o->mode = (enum store_mode)(i % 3);
	o->verdict = (enum store_verdict)(i % 5);
	o->n_legs = (uint8_t)(1 + i % STORE_MAX_LEGS);
	snprintf(o->cycle, sizeof o->cycle, "USD>BTC>ETH>USD#%" PRIu64, i);
	set_str(o->home_asset, sizeof o->home_asset, "USD");
	for (unsigned k = 0; k < o->n_legs; k++) {
		struct store_leg *l = &o->legs[k];
		snprintf(l->symbol, sizeof l->symbol, "P%u/USD", k);
		l->side = (enum store_side)(k % 2);
		l->price = store_amt((int64_t)(i * 100 + k), (int)(k % 10));
		l->qty = k == 2 ? STORE_AMOUNT_NULL : store_amt(-(int64_t)(k + 1), 18);
		l->rate = 1.0 + k / 1024.0;
		l->book_age_ms = k == 1 ? -1 : (int32_t)(k * 10);
	}
	o->size = size_of(i);
	o->expected_profit = i % 5 == 0 ? STORE_AMOUNT_NULL : store_amt(-(int64_t)i, 6);
	o->expected_fee = store_amt((int64_t)i, 18);
	o->expected_profit_bps = i % 7 == 0 ? NAN : (double)i / 8.0;
	o->net_rate = 1.0 + (double)i / 65536.0;
	o->max_book_age_ms = i % 3 == 0 ? -1 : (int32_t)i;
	o->detect_latency_ns = i % 4 == 0 ? -1 : (int64_t)i * 1000;
	set_str(o->reason, sizeof o->reason, reason_of(i, false));
	return r;
}

static struct store_rec mk_trade(uint64_t i)
{
	struct store_rec r;
	struct store_trade *t = &r.u.trade;
	memset(&r, 0, sizeof r);
	r.type = STORE_REC_TRADE;
	t->ts_ns = T0_NS + (int64_t)i;
	t->opp_id = opp_id_of(i);
	t->mode = (enum store_mode)(i % 3);
	t->side = (enum store_side)(i % 2);
	t->order_type = (enum store_order_type)(i % 2);
	t->tif = (enum store_tif)(i % 4);
	t->status = (enum store_order_status)(i % 8);
	t->leg = (uint8_t)(i % 3);
	set_str(t->cycle, sizeof t->cycle, "USD>BTC>ETH>USD");
	snprintf(t->cl_ord_id, sizeof t->cl_ord_id, "cl-%08" PRIu64, i);
	if (i % 3)
		snprintf(t->order_id, sizeof t->order_id, "OUF4EM-%05" PRIu64 "-MQMWZD", i);
	snprintf(t->symbol, sizeof t->symbol, "BTC/USD");
	set_str(t->fee_asset, sizeof t->fee_asset, "USD");
	t->limit_price = t->order_type == STORE_ORDER_MARKET ? STORE_AMOUNT_NULL
							     : store_amt(4213456 + (int64_t)i, 1);
	t->qty = store_amt(50000000 + (int64_t)i, 8);
	t->filled_qty = store_amt((int64_t)i, 8);
	t->avg_price = i % 2 ? store_amt(4213450, 1) : STORE_AMOUNT_NULL;
	t->fee = store_amt(-(int64_t)i * 7, 4);
	t->expected_profit = store_amt(12345, 5);
	t->realised_profit = i % 6 ? store_amt(-(int64_t)i, 3) : STORE_AMOUNT_NULL;
	t->submit_latency_ns = (int64_t)i * 11;
	t->ack_latency_ns = i % 5 ? (int64_t)i * 1000000 : -1;
	t->fill_latency_ns = INT64_MAX - (int64_t)i;
	set_str(t->reason, sizeof t->reason, i % 4 ? "" : "unwind: leg 2 rejected");
	return r;
}

/* ---- Comparisons ---------------------------------------------------------------- */

static void eq(const char *got, const char *want, const char *what, uint64_t i)
{
	if (!want) {
		if (got)
			fail_msg("%s[%" PRIu64 "]: want NULL, got '%s'", what, i, got);
		return;
	}
	if (!got || strcmp(got, want) != 0)
		fail_msg("%s[%" PRIu64 "]: want '%s', got '%s'", what, i, want, got ? got : "NULL");
}

static void eq_dec(const char *got, struct store_amount a, const char *what, uint64_t i)
{
	char b[80];
	dec_text(a, b, sizeof b);
	eq(got, a.scale == STORE_SCALE_NULL ? NULL : b, what, i);
}

static void eq_int(const char *got, long long want, bool null, const char *what, uint64_t i)
{
	char b[32];
	snprintf(b, sizeof b, "%lld", want);
	eq(got, null ? NULL : b, what, i);
}

static void eq_u64(const char *got, unsigned long long want, const char *what, uint64_t i)
{
	char b[32];
	snprintf(b, sizeof b, "%llu", want);
	eq(got, b, what, i);
}

static void eq_f64(const char *got, double want, const char *what, uint64_t i)
{
	if (isnan(want)) {
		eq(got, NULL, what, i);
		return;
	}
	if (!got || strtod(got, NULL) != want)
		fail_msg("%s[%" PRIu64 "]: want %.17g, got '%s'", what, i, want,
			 got ? got : "NULL");
}

static long long floor_us(int64_t ns)
{
	return ns / 1000 - (ns % 1000 < 0);
}

struct seen {
	uint64_t rows;
	unsigned char hit[N_EACH];
};

static int check_opp(void *ctx, size_t ncols, const char *const *names, const char *const *v)
{
	struct seen *sn = ctx;
	uint64_t i = index_of(v[0]);
	struct store_rec r = mk_opp(i);
	const struct store_opportunity *o = &r.u.opp;
	(void)names;
	assert_int_equal(ncols, 16);
	assert_true(i < N_EACH);
	assert_false(sn->hit[i]);
	sn->hit[i] = 1;
	sn->rows++;
	eq_u64(v[0], o->opp_id, "opp_id", i);
	eq_int(v[1], floor_us(o->ts_ns), false, "ts", i);
	eq(v[2], store_mode_name(o->mode), "mode", i);
	eq(v[3], o->cycle, "cycle", i);
	eq(v[4], "USD", "home_asset", i);
	eq_int(v[5], o->n_legs, false, "n_legs", i);
	eq_dec(v[6], o->size, "size", i);
	eq_dec(v[7], o->expected_profit, "expected_profit", i);
	eq_dec(v[8], o->expected_fee, "expected_fee", i);
	eq_f64(v[9], o->expected_profit_bps, "expected_profit_bps", i);
	eq_f64(v[10], o->net_rate, "net_rate", i);
	eq_int(v[11], o->max_book_age_ms, o->max_book_age_ms < 0, "max_book_age_ms", i);
	eq_int(v[12], o->detect_latency_ns, o->detect_latency_ns < 0, "detect_latency_ns", i);
	eq(v[13], store_verdict_name(o->verdict), "verdict", i);
	eq(v[14], reason_of(i, true), "reason", i);
	eq_int(v[15], o->n_legs, false, "len(legs)", i);
	return 0;
}

static int check_leg(void *ctx, size_t ncols, const char *const *names, const char *const *v)
{
	uint64_t *rows = ctx;
	uint64_t i = index_of(v[0]);
	unsigned k = (unsigned)strtoul(v[1], NULL, 10) - 1;
	struct store_rec r = mk_opp(i);
	const struct store_leg *l;
	(void)names;
	assert_int_equal(ncols, 8);
	assert_true(k < r.u.opp.n_legs);
	l = &r.u.opp.legs[k];
	eq(v[2], l->symbol, "leg.symbol", i);
	eq(v[3], store_side_name(l->side), "leg.side", i);
	eq_dec(v[4], l->price, "leg.price", i);
	eq_dec(v[5], l->qty, "leg.qty", i);
	eq_f64(v[6], l->rate, "leg.rate", i);
	eq_int(v[7], l->book_age_ms, l->book_age_ms < 0, "leg.book_age_ms", i);
	(*rows)++;
	return 0;
}

static int check_trade(void *ctx, size_t ncols, const char *const *names, const char *const *v)
{
	struct seen *sn = ctx;
	uint64_t i = index_of(v[0]);
	struct store_rec r = mk_trade(i);
	const struct store_trade *t = &r.u.trade;
	(void)names;
	assert_int_equal(ncols, 24);
	assert_true(i < N_EACH);
	assert_false(sn->hit[i]);
	sn->hit[i] = 1;
	sn->rows++;
	eq_int(v[1], floor_us(t->ts_ns), false, "ts", i);
	eq(v[2], store_mode_name(t->mode), "mode", i);
	eq(v[3], t->cycle, "cycle", i);
	eq_int(v[4], t->leg, false, "leg", i);
	eq(v[5], t->cl_ord_id, "cl_ord_id", i);
	eq(v[6], t->order_id[0] ? t->order_id : NULL, "order_id", i);
	eq(v[7], t->symbol, "symbol", i);
	eq(v[8], store_side_name(t->side), "side", i);
	eq(v[9], store_order_type_name(t->order_type), "order_type", i);
	eq(v[10], store_tif_name(t->tif), "tif", i);
	eq_dec(v[11], t->limit_price, "limit_price", i);
	eq_dec(v[12], t->qty, "qty", i);
	eq_dec(v[13], t->filled_qty, "filled_qty", i);
	eq_dec(v[14], t->avg_price, "avg_price", i);
	eq_dec(v[15], t->fee, "fee", i);
	eq(v[16], t->fee_asset, "fee_asset", i);
	eq(v[17], store_status_name(t->status), "status", i);
	eq(v[18], t->reason[0] ? t->reason : NULL, "reason", i);
	eq_dec(v[19], t->expected_profit, "expected_profit", i);
	eq_dec(v[20], t->realised_profit, "realised_profit", i);
	eq_int(v[21], t->submit_latency_ns, false, "submit_latency_ns", i);
	eq_int(v[22], t->ack_latency_ns, t->ack_latency_ns < 0, "ack_latency_ns", i);
	eq_int(v[23], t->fill_latency_ns, false, "fill_latency_ns", i);
	return 0;
}

static int check_portfolio(void *ctx, size_t ncols, const char *const *names, const char *const *v)
{
	struct seen *sn = ctx;
	uint64_t i = strtoull(v[0] + 1, NULL, 10); /* asset "A<i>" */
	struct store_rec r = mk_portfolio(i);
	(void)names;
	assert_int_equal(ncols, 5);
	assert_true(i < N_EACH);
	assert_false(sn->hit[i]);
	sn->hit[i] = 1;
	sn->rows++;
	eq_int(v[1], floor_us(r.u.portfolio.ts_ns), false, "ts", i);
	eq(v[2], "live", "mode", i);
	eq_dec(v[3], r.u.portfolio.balance, "balance", i);
	eq_dec(v[4], r.u.portfolio.value_home, "value_home", i);
	return 0;
}

static int check_audit(void *ctx, size_t ncols, const char *const *names, const char *const *v)
{
	struct seen *sn = ctx;
	uint64_t i = strtoull(v[3] + strlen("action-"), NULL, 10);
	struct store_rec r = mk_audit(i, T0_NS - (int64_t)i * 1000);
	(void)names;
	assert_int_equal(ncols, 6);
	assert_true(i < N_EACH);
	assert_false(sn->hit[i]);
	sn->hit[i] = 1;
	sn->rows++;
	assert_non_null(v[0]); /* id from the sequence */
	eq_int(v[1], floor_us(r.u.audit.ts_ns), false, "ts", i);
	eq(v[2], store_mode_name(r.u.audit.mode), "mode", i);
	eq(v[4], r.u.audit.actor, "actor", i);
	eq(v[5], r.u.audit.detail, "detail", i);
	return 0;
}

static void run_check(struct store_reader *rd, const char *sql, store_row_fn fn, void *ctx)
{
	struct err_info info = {0};
	int rc = store_query(rd, sql, fn, ctx, &info);
	if (rc != 0)
		fail_msg("query failed (%d): %s", rc, info.msg);
}

/* ---- Tests ---------------------------------------------------------------- */

static void migrations_applied_twice(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct stat st;
	char dir[300];
	unsigned applied = 99;
	(void)state;
	tdb_init(&t);

	s = tdb_open(&t);
	assert_int_equal(store_migrations_applied(s), store_schema_version_latest());
	assert_true(store_migrations_applied(s) >= 1);
	assert_int_equal(store_migrate(s, &applied, NULL), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(store_close(s), 0);

	/* The parent directories were created private. */
	snprintf(dir, sizeof dir, "%s/data/db", t.dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(dir, sizeof dir, "%s/data", t.dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	s = tdb_open(&t);
	assert_int_equal(store_migrations_applied(s), 0);
	applied = 99;
	assert_int_equal(store_migrate(s, &applied, NULL), 0);
	assert_int_equal(applied, 0);
	rd = store_reader_open(s, NULL);
	assert_non_null(rd);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM schema_migrations"),
			 store_schema_version_latest());
	assert_int_equal(q_i64(rd, "SELECT count(DISTINCT version) FROM schema_migrations"),
			 store_schema_version_latest());
	assert_int_equal(q_i64(rd, "SELECT max(version) FROM schema_migrations"),
			 store_schema_version_latest());
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM schema_migrations "
				   "WHERE name IS NULL OR applied_at IS NULL"),
			 0);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

static void migrations_incremental_failed_and_newer(void **state)
{
	struct store__migration list[3];
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct err_info info = {0};
	(void)state;
	tdb_init(&t);
	assert_int_equal(store__n_builtin_migrations, 1);
	list[0] = store__builtin_migrations[0];

	s = tdb_open(&t);
	assert_int_equal(store_migrations_applied(s), 1);
	assert_int_equal(store_close(s), 0);

	/* A broken migration 2 rolls back whole: its first table does not
	 * survive, and it is not recorded. */
	list[1] = (struct store__migration){2, "broken",
					    "CREATE TABLE t_ok (x INTEGER);\n"
					    "CREATE TABLE t_bad (x NOSUCHTYPE);"};
	store__migrations_override = list;
	store__n_migrations_override = 2;
	assert_null(store_open(&t.cfg, &info));
	assert_int_equal(info.code, ERR_DB);
	assert_non_null(strstr(info.msg, "migration 2 (broken)"));

	/* A good migration 2 applies alone, once. */
	list[1] = (struct store__migration){2, "add t2", "CREATE TABLE t2 (x INTEGER);"};
	s = tdb_open(&t);
	assert_int_equal(store_migrations_applied(s), 1);
	assert_int_equal(store_schema_version_latest(), 2);
	rd = store_reader_open(s, NULL);
	assert_int_equal(
	    q_i64(rd, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 't_ok'"), 0);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 't2'"),
			 1);
	assert_int_equal(q_i64(rd, "SELECT count(*) FROM schema_migrations"), 2);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	s = tdb_open(&t);
	assert_int_equal(store_migrations_applied(s), 0);
	assert_int_equal(store_close(s), 0);

	/* An older build refuses a newer schema. */
	store__migrations_override = NULL;
	store__n_migrations_override = 0;
	memset(&info, 0, sizeof info);
	assert_null(store_open(&t.cfg, &info));
	assert_int_equal(info.code, ERR_SCHEMA);
	tdb_release(&t);
}

static const char *const amount_cols[] = {
    "opportunities.size",
    "opportunities.expected_profit",
    "opportunities.expected_fee",
    "trades.limit_price",
    "trades.qty",
    "trades.filled_qty",
    "trades.avg_price",
    "trades.fee",
    "trades.expected_profit",
    "trades.realised_profit",
    "portfolio_snapshots.balance",
    "portfolio_snapshots.value_home",
};

struct schema_seen {
	unsigned amounts, times, doubles, rows;
	bool legs, audit_id;
};

static int check_column(void *ctx, size_t ncols, const char *const *names, const char *const *v)
{
	struct schema_seen *ss = ctx;
	char full[128];
	const char *col = v[1], *type = v[2];
	bool amount = false;
	(void)names;
	assert_int_equal(ncols, 3);
	ss->rows++;
	snprintf(full, sizeof full, "%s.%s", v[0], col);
	for (size_t i = 0; i < sizeof amount_cols / sizeof amount_cols[0]; i++)
		amount = amount || strcmp(full, amount_cols[i]) == 0;
	if (amount) {
		if (strcmp(type, "DECIMAL(38,18)") != 0)
			fail_msg("%s is %s, want DECIMAL(38,18)", full, type);
		ss->amounts++;
	}
	if (strcmp(col, "ts") == 0 || strcmp(col, "applied_at") == 0) {
		if (strcmp(type, "TIMESTAMP WITH TIME ZONE") != 0)
			fail_msg("%s is %s, want TIMESTAMPTZ", full, type);
		ss->times++;
	}
	/* Binary floating point only for rates and basis points. */
	if (strstr(type, "FLOAT") || strstr(type, "REAL")) {
		fail_msg("%s is %s", full, type);
	}
	if (strcmp(type, "DOUBLE") == 0) {
		size_t n = strlen(col);
		if (!(n > 4 && strcmp(col + n - 4, "_bps") == 0) && !strstr(col, "rate"))
			fail_msg("%s is DOUBLE but is not a rate", full);
		ss->doubles++;
	}
	if (strcmp(full, "opportunities.legs") == 0) {
		const char *want = "STRUCT(symbol VARCHAR, side VARCHAR, price DECIMAL(38,18), "
				   "qty DECIMAL(38,18), rate DOUBLE, book_age_ms INTEGER)[]";
		if (strcmp(type, want) != 0)
			fail_msg("legs is %s", type);
		ss->legs = true;
	}
	if (strcmp(full, "audit_events.id") == 0) {
		assert_string_equal(type, "BIGINT");
		ss->audit_id = true;
	}
	if (strstr(col, "latency_ns"))
		assert_string_equal(type, "BIGINT");
	return 0;
}

static void schema_types(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct schema_seen ss = {0};
	(void)state;
	tdb_init(&t);
	s = tdb_open(&t);
	rd = store_reader_open(s, NULL);
	assert_non_null(rd);
	run_check(rd,
		  "SELECT table_name, column_name, data_type FROM duckdb_columns() "
		  "WHERE table_name IN ('schema_migrations', 'opportunities', 'trades', "
		  "'portfolio_snapshots', 'audit_events') ORDER BY table_name, column_index",
		  check_column, &ss);
	assert_int_equal(ss.amounts, sizeof amount_cols / sizeof amount_cols[0]);
	assert_int_equal(ss.times, 5);	 /* four tables' ts + applied_at */
	assert_int_equal(ss.doubles, 2); /* expected_profit_bps, net_rate */
	assert_true(ss.legs);
	assert_true(ss.audit_id);
	assert_int_equal(ss.rows, 3 + 16 + 24 + 6 + 6);
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

/* Everything is enqueued while the writer is held, so store_close alone
 * writes it all: the records enqueued just before shutdown are in the
 * database afterwards, exactly. */
static void enqueued_before_close_round_trip(void **state)
{
	static struct seen sn;
	struct tdb t;
	struct store *s;
	struct store_reader *rd;
	struct store_stats st;
	uint64_t legs = 0, want_legs = 0;
	(void)state;
	tdb_init(&t);
	t.cfg.batch_rows = 4096;
	t.cfg.flush_ms = 60000;
	s = tdb_open(&t);
	atomic_store(&s->t_paused, true);
	for (uint64_t i = 0; i < N_EACH; i++) {
		struct store_rec r = mk_opp(i);
		want_legs += r.u.opp.n_legs;
		assert_int_equal(store_enqueue(s, &r), 0);
		r = mk_trade(i);
		assert_int_equal(store_enqueue(s, &r), 0);
		r = mk_portfolio(i);
		assert_int_equal(store_enqueue(s, &r), 0);
		r = mk_audit(i, T0_NS - (int64_t)i * 1000);
		assert_int_equal(store_enqueue(s, &r), 0);
	}
	store_stats(s, &st);
	assert_int_equal(st.enqueued, 4 * N_EACH);
	assert_int_equal(st.written, 0);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(store_close(s), 0);

	s = tdb_open(&t);
	store_stats(s, &st);
	assert_int_equal(st.written, 0);
	rd = store_reader_open(s, NULL);
	assert_non_null(rd);

	memset(&sn, 0, sizeof sn);
	run_check(rd,
		  "SELECT opp_id, epoch_us(ts), mode, cycle, home_asset, n_legs, size, "
		  "expected_profit, expected_fee, expected_profit_bps, net_rate, max_book_age_ms, "
		  "detect_latency_ns, verdict, reason, len(legs) FROM opportunities",
		  check_opp, &sn);
	assert_int_equal(sn.rows, N_EACH);
	run_check(rd,
		  "SELECT opp_id, k, legs[k].symbol, legs[k].side, legs[k].price, legs[k].qty, "
		  "legs[k].rate, legs[k].book_age_ms FROM opportunities, range(1, 7) r(k) "
		  "WHERE k <= len(legs)",
		  check_leg, &legs);
	assert_int_equal(legs, want_legs);

	memset(&sn, 0, sizeof sn);
	run_check(
	    rd,
	    "SELECT opp_id, epoch_us(ts), mode, cycle, leg, cl_ord_id, order_id, symbol, side, "
	    "order_type, tif, limit_price, qty, filled_qty, avg_price, fee, fee_asset, status, "
	    "reason, expected_profit, realised_profit, submit_latency_ns, ack_latency_ns, "
	    "fill_latency_ns FROM trades",
	    check_trade, &sn);
	assert_int_equal(sn.rows, N_EACH);

	memset(&sn, 0, sizeof sn);
	run_check(rd,
		  "SELECT asset, epoch_us(ts), mode, balance, value_home FROM portfolio_snapshots",
		  check_portfolio, &sn);
	assert_int_equal(sn.rows, N_EACH);

	memset(&sn, 0, sizeof sn);
	run_check(rd, "SELECT id, epoch_us(ts), mode, action, actor, detail FROM audit_events",
		  check_audit, &sn);
	assert_int_equal(sn.rows, N_EACH);
	assert_int_equal(q_i64(rd, "SELECT count(DISTINCT id) FROM audit_events"), N_EACH);

	/* Text forms the dashboard sees: UTC times, exact decimals. */
	{
		char buf[128];
		q_text(rd, "SELECT ts FROM opportunities WHERE opp_id = 1000", buf, sizeof buf);
		assert_string_equal(buf, "2024-01-02 03:04:05.678901+00");
		q_text(rd, "SELECT ts FROM opportunities WHERE opp_id = 1003", buf, sizeof buf);
		assert_string_equal(buf, "1969-12-31 23:59:59.999999+00");
		q_text(rd, "SELECT size FROM opportunities WHERE opp_id = 1000", buf, sizeof buf);
		assert_string_equal(buf, "9.223372036854775807");
		q_text(rd, "SELECT sum(size) FROM opportunities WHERE opp_id IN (1000, 1002)", buf,
		       sizeof buf);
		assert_string_equal(buf, "9.223372036854775806");
	}
	store_reader_close(rd);
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

static void expect_invalid(struct store *s, const struct store_rec *r, unsigned *bad)
{
	assert_int_equal(store_enqueue(s, r), ERR_INVALID);
	(*bad)++;
}

static void enqueue_validation(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_rec r;
	struct store_stats st;
	unsigned bad = 0;
	(void)state;
	tdb_init(&t);
	s = tdb_open(&t);

	r = mk_opp(5);
	r.type = (enum store_rec_type)0;
	expect_invalid(s, &r, &bad);
	r.type = (enum store_rec_type)STORE__REC_FLUSH;
	expect_invalid(s, &r, &bad);
	r = mk_opp(5);
	r.u.opp.n_legs = 0;
	expect_invalid(s, &r, &bad);
	r.u.opp.n_legs = STORE_MAX_LEGS + 1;
	expect_invalid(s, &r, &bad);
	r = mk_opp(5);
	r.u.opp.legs[0].price.scale = 19;
	expect_invalid(s, &r, &bad);
	r = mk_opp(5);
	r.u.opp.mode = (enum store_mode)3;
	expect_invalid(s, &r, &bad);
	r = mk_opp(5);
	r.u.opp.verdict = (enum store_verdict) - 1;
	expect_invalid(s, &r, &bad);
	r = mk_opp(5);
	r.u.opp.cycle[0] = '\0';
	expect_invalid(s, &r, &bad);
	r = mk_trade(5);
	r.u.trade.qty = STORE_AMOUNT_NULL;
	expect_invalid(s, &r, &bad);
	r = mk_trade(5);
	r.u.trade.cl_ord_id[0] = '\0';
	expect_invalid(s, &r, &bad);
	r = mk_trade(5);
	r.u.trade.status = (enum store_order_status)8;
	expect_invalid(s, &r, &bad);
	r = mk_trade(5);
	r.u.trade.fee.scale = -2;
	expect_invalid(s, &r, &bad);
	r = mk_portfolio(5);
	r.u.portfolio.balance = STORE_AMOUNT_NULL;
	expect_invalid(s, &r, &bad);
	r = mk_audit(5, T0_NS);
	r.u.audit.action[0] = '\0';
	expect_invalid(s, &r, &bad);
	assert_int_equal(store_enqueue(s, NULL), ERR_INVALID);
	assert_int_equal(store_enqueue(NULL, &r), ERR_INVALID);

	/* Unterminated text is cut at its array, not read past it. */
	r = mk_audit(6, T0_NS);
	memset(r.u.audit.actor, 'x', sizeof r.u.audit.actor);
	assert_int_equal(store_enqueue(s, &r), 0);
	assert_int_equal(store_flush(s, 10000), 0);
	store_stats(s, &st);
	assert_int_equal(st.invalid, bad);
	assert_int_equal(st.enqueued, 1);
	assert_int_equal(st.written, 1);
	{
		struct store_reader *rd = store_reader_open(s, NULL);
		assert_int_equal(q_i64(rd, "SELECT length(actor) FROM audit_events"),
				 STORE_NAME_LEN);
		assert_int_equal(q_i64(rd, "SELECT count(*) FROM opportunities"), 0);
		store_reader_close(rd);
	}
	assert_int_equal(store_close(s), 0);
	tdb_release(&t);
}

static void ping_reports_writer_failure(void **state)
{
	struct tdb t;
	struct store *s;
	struct store_rec r = mk_audit(1, T0_NS);
	struct store_stats st;
	(void)state;
	tdb_init(&t);
	s = tdb_open(&t);
	assert_int_equal(store_ping(s), 0);
	atomic_store(&s->t_fail_commits, 1000000u);
	assert_int_equal(store_enqueue(s, &r), 0);
	for (int i = 0; i < 500 && store_ping(s) == 0; i++)
		usleep(10000);
	assert_int_equal(store_ping(s), ERR_DB);
	store_stats(s, &st);
	assert_true(st.failing);
	assert_true(st.write_errors >= 1);
	assert_non_null(strstr(st.last_error, "injected failure"));
	atomic_store(&s->t_fail_commits, 0u);
	assert_int_equal(store_flush(s, 10000), 0);
	assert_int_equal(store_ping(s), 0);
	store_stats(s, &st);
	assert_false(st.failing);
	assert_int_equal(st.written, 1);
	assert_int_equal(store_close(s), 0);
	assert_int_equal(store_ping(NULL), ERR_INVALID);
	tdb_release(&t);
}

static void open_errors(void **state)
{
	struct tdb t;
	struct err_info info = {0};
	struct store *s;
	char file[300];
	FILE *f;
	(void)state;
	tdb_init(&t);

	t.cfg.batch_rows = 0;
	assert_null(store_open(&t.cfg, &info));
	assert_int_equal(info.code, ERR_CONFIG);
	t.cfg.batch_rows = 10;
	t.cfg.duckdb_path[0] = '\0';
	assert_null(store_open(&t.cfg, &info));
	assert_int_equal(info.code, ERR_CONFIG);

	/* A parent that is a regular file. */
	snprintf(file, sizeof file, "%s/plain", t.dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(t.cfg.duckdb_path, sizeof t.cfg.duckdb_path, "%s/plain/sub/arb.duckdb", t.dir);
	memset(&info, 0, sizeof info);
	assert_null(store_open(&t.cfg, &info));
	assert_int_equal(info.code, -ENOTDIR);

	/* One read-write open per file and process at a time through the store;
	 * a second store on the same file would be a second database instance,
	 * so the app never does that. Closing frees the file for the next. */
	tdb_release(&t);
	tdb_init(&t);
	s = tdb_open(&t);
	assert_int_equal(store_close(s), 0);
	s = tdb_open(&t);
	assert_int_equal(store_close(s), 0);
	assert_int_equal(store_close(NULL), 0);
	tdb_release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(migrations_applied_twice),
	    cmocka_unit_test(migrations_incremental_failed_and_newer),
	    cmocka_unit_test(schema_types),
	    cmocka_unit_test(enqueued_before_close_round_trip),
	    cmocka_unit_test(enqueue_validation),
	    cmocka_unit_test(ping_reports_writer_failure),
	    cmocka_unit_test(open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

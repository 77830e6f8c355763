#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/* Amounts are DECIMAL(38,18): every int64 count at any scale 0..18 fits
 * exactly (9.3e18 * 1e18 < 1e38), and SUM() stays exact. Times are
 * TIMESTAMPTZ; latencies are BIGINT nanoseconds. No table has an index: the
 * writer appends, and indexes would slow it for queries that scan anyway. */
#define DEC	   "DECIMAL(38,18)"
#define MODE_CHECK "CHECK (mode IN ('paper', 'live', 'backtest'))"
#define SIDE_CHECK "CHECK (side IN ('buy', 'sell'))"

static const char m1_sql[] =
    "CREATE TABLE opportunities (\n"
    "  ts TIMESTAMPTZ NOT NULL,\n"
    "  opp_id UBIGINT NOT NULL,\n"
    "  mode VARCHAR NOT NULL " MODE_CHECK ",\n"
    "  cycle VARCHAR NOT NULL,\n"
    "  home_asset VARCHAR NOT NULL,\n"
    "  n_legs UTINYINT NOT NULL,\n"
    "  legs STRUCT(symbol VARCHAR, side VARCHAR, price " DEC ", qty " DEC
    ", rate DOUBLE, book_age_ms INTEGER)[] NOT NULL,\n"
    "  size " DEC ",\n"
    "  expected_profit " DEC ",\n"
    "  expected_fee " DEC ",\n"
    "  expected_profit_bps DOUBLE,\n"
    "  net_rate DOUBLE,\n"
    "  max_book_age_ms INTEGER,\n"
    "  detect_latency_ns BIGINT,\n"
    "  verdict VARCHAR NOT NULL CHECK (verdict IN ('detected', 'accepted', 'rejected', "
    "'executed', 'missed')),\n"
    "  reason VARCHAR\n"
    ");\n"
    "CREATE TABLE trades (\n"
    "  ts TIMESTAMPTZ NOT NULL,\n"
    "  opp_id UBIGINT NOT NULL,\n"
    "  mode VARCHAR NOT NULL " MODE_CHECK ",\n"
    "  cycle VARCHAR,\n"
    "  leg UTINYINT NOT NULL,\n"
    "  cl_ord_id VARCHAR NOT NULL,\n"
    "  order_id VARCHAR,\n"
    "  symbol VARCHAR NOT NULL,\n"
    "  side VARCHAR NOT NULL " SIDE_CHECK ",\n"
    "  order_type VARCHAR NOT NULL CHECK (order_type IN ('limit', 'market')),\n"
    "  tif VARCHAR NOT NULL CHECK (tif IN ('gtc', 'ioc', 'fok', 'gtd')),\n"
    "  limit_price " DEC ",\n"
    "  qty " DEC " NOT NULL,\n"
    "  filled_qty " DEC " NOT NULL,\n"
    "  avg_price " DEC ",\n"
    "  fee " DEC ",\n"
    "  fee_asset VARCHAR,\n"
    "  status VARCHAR NOT NULL CHECK (status IN ('pending', 'open', 'partially_filled', "
    "'filled', 'canceled', 'expired', 'rejected', 'unknown')),\n"
    "  reason VARCHAR,\n"
    "  expected_profit " DEC ",\n"
    "  realised_profit " DEC ",\n"
    "  submit_latency_ns BIGINT,\n"
    "  ack_latency_ns BIGINT,\n"
    "  fill_latency_ns BIGINT\n"
    ");\n"
    "CREATE TABLE portfolio_snapshots (\n"
    "  ts TIMESTAMPTZ NOT NULL,\n"
    "  mode VARCHAR NOT NULL " MODE_CHECK ",\n"
    "  asset VARCHAR NOT NULL,\n"
    "  home_asset VARCHAR,\n"
    "  balance " DEC " NOT NULL,\n"
    "  value_home " DEC "\n"
    ");\n"
    "CREATE SEQUENCE audit_events_id_seq START 1;\n"
    "CREATE TABLE audit_events (\n"
    "  id BIGINT NOT NULL DEFAULT nextval('audit_events_id_seq'),\n"
    "  ts TIMESTAMPTZ NOT NULL,\n"
    "  mode VARCHAR NOT NULL " MODE_CHECK ",\n"
    "  actor VARCHAR NOT NULL,\n"
    "  action VARCHAR NOT NULL,\n"
    "  detail VARCHAR\n"
    ");\n";

const struct store__migration store__builtin_migrations[] = {
    {1, "initial schema", m1_sql},
};
const size_t store__n_builtin_migrations =
    sizeof store__builtin_migrations / sizeof store__builtin_migrations[0];

const struct store__migration *store__migrations_override;
size_t store__n_migrations_override;

/* Column lists the writer fills, in its order (rows.c); store_open checks them
 * against the tables the migrations made. */
static const struct store__col opp_cols[] = {
    {"ts", STORE__K_TS},
    {"opp_id", STORE__K_U64},
    {"mode", STORE__K_TEXT},
    {"cycle", STORE__K_TEXT},
    {"home_asset", STORE__K_TEXT},
    {"n_legs", STORE__K_U8},
    {"legs", STORE__K_LEGS},
    {"size", STORE__K_DEC},
    {"expected_profit", STORE__K_DEC},
    {"expected_fee", STORE__K_DEC},
    {"expected_profit_bps", STORE__K_F64},
    {"net_rate", STORE__K_F64},
    {"max_book_age_ms", STORE__K_I32},
    {"detect_latency_ns", STORE__K_I64},
    {"verdict", STORE__K_TEXT},
    {"reason", STORE__K_TEXT},
};

const struct store__col store__leg_cols[] = {
    {"symbol", STORE__K_TEXT}, {"side", STORE__K_TEXT}, {"price", STORE__K_DEC},
    {"qty", STORE__K_DEC},     {"rate", STORE__K_F64},	{"book_age_ms", STORE__K_I32},
};
const size_t store__n_leg_cols = sizeof store__leg_cols / sizeof store__leg_cols[0];

static const struct store__col trade_cols[] = {
    {"ts", STORE__K_TS},
    {"opp_id", STORE__K_U64},
    {"mode", STORE__K_TEXT},
    {"cycle", STORE__K_TEXT},
    {"leg", STORE__K_U8},
    {"cl_ord_id", STORE__K_TEXT},
    {"order_id", STORE__K_TEXT},
    {"symbol", STORE__K_TEXT},
    {"side", STORE__K_TEXT},
    {"order_type", STORE__K_TEXT},
    {"tif", STORE__K_TEXT},
    {"limit_price", STORE__K_DEC},
    {"qty", STORE__K_DEC},
    {"filled_qty", STORE__K_DEC},
    {"avg_price", STORE__K_DEC},
    {"fee", STORE__K_DEC},
    {"fee_asset", STORE__K_TEXT},
    {"status", STORE__K_TEXT},
    {"reason", STORE__K_TEXT},
    {"expected_profit", STORE__K_DEC},
    {"realised_profit", STORE__K_DEC},
    {"submit_latency_ns", STORE__K_I64},
    {"ack_latency_ns", STORE__K_I64},
    {"fill_latency_ns", STORE__K_I64},
};

static const struct store__col portfolio_cols[] = {
    {"ts", STORE__K_TS},	   {"mode", STORE__K_TEXT},   {"asset", STORE__K_TEXT},
    {"home_asset", STORE__K_TEXT}, {"balance", STORE__K_DEC}, {"value_home", STORE__K_DEC},
};

/* id is left to its DEFAULT (the sequence). */
static const struct store__col audit_cols[] = {
    {"ts", STORE__K_TS},       {"mode", STORE__K_TEXT},	  {"actor", STORE__K_TEXT},
    {"action", STORE__K_TEXT}, {"detail", STORE__K_TEXT},
};

#define TABLE(t, n, c)                                                                             \
	{                                                                                          \
		t, n, c, sizeof c / sizeof c[0]                                                    \
	}
const struct store__table store__tables[STORE__NTABLES] = {
    TABLE(STORE_REC_OPPORTUNITY, "opportunities", opp_cols),
    TABLE(STORE_REC_TRADE, "trades", trade_cols),
    TABLE(STORE_REC_PORTFOLIO, "portfolio_snapshots", portfolio_cols),
    TABLE(STORE_REC_AUDIT, "audit_events", audit_cols),
};

static void migrations(const struct store__migration **m, size_t *n)
{
	if (store__migrations_override) {
		*m = store__migrations_override;
		*n = store__n_migrations_override;
	} else {
		*m = store__builtin_migrations;
		*n = store__n_builtin_migrations;
	}
}

int store_schema_version_latest(void)
{
	const struct store__migration *m;
	size_t n;
	migrations(&m, &n);
	return n ? m[n - 1].version : 0;
}

static int apply_one(duckdb_connection c, const struct store__migration *m, struct err_info *info)
{
	char q_name[256], sql[512];
	struct err_info e = {0};
	int rc;
	if (store__sql_quote(m->name, q_name, sizeof q_name) != 0)
		return err_set(info, ERR_INVALID, "migration %d: name too long", m->version);
	snprintf(sql, sizeof sql,
		 "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, %s, now())",
		 m->version, q_name);
	rc = store__exec(c, "BEGIN TRANSACTION", &e);
	if (rc == 0)
		rc = store__exec(c, m->sql, &e);
	if (rc == 0)
		rc = store__exec(c, sql, &e);
	if (rc == 0)
		rc = store__exec(c, "COMMIT", &e);
	if (rc != 0) {
		store__exec(c, "ROLLBACK", NULL);
		return err_set(info, ERR_DB, "migration %d (%s): %s", m->version, m->name, e.msg);
	}
	return 0;
}

int store__migrate_conn(duckdb_connection c, unsigned *applied, struct err_info *info)
{
	const struct store__migration *m;
	size_t n;
	unsigned count = 0;
	int64_t have, latest;
	int rc;
	migrations(&m, &n);
	if (applied)
		*applied = 0;
	rc = store__exec(c,
			 "CREATE TABLE IF NOT EXISTS schema_migrations ("
			 "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
			 "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
			 info);
	if (rc != 0)
		return rc;
	rc = store__query_i64(
	    c, "SELECT CAST(coalesce(max(version), 0) AS BIGINT) FROM schema_migrations", &have,
	    info);
	if (rc != 0)
		return rc;
	latest = n ? m[n - 1].version : 0;
	if (have > latest)
		return err_set(info, ERR_SCHEMA,
			       "database schema version %lld is newer than this build knows (%lld)",
			       (long long)have, (long long)latest);
	for (size_t i = 0; i < n; i++) {
		char sql[128];
		int64_t done;
		snprintf(
		    sql, sizeof sql,
		    "SELECT CAST(count(*) AS BIGINT) FROM schema_migrations WHERE version = %d",
		    m[i].version);
		rc = store__query_i64(c, sql, &done, info);
		if (rc != 0)
			return rc;
		if (done)
			continue;
		rc = apply_one(c, &m[i], info);
		if (rc != 0)
			return rc;
		count++;
	}
	if (applied)
		*applied = count;
	return 0;
}

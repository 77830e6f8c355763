/* Storage: DuckDB at DUCKDB_PATH, written by one writer thread.
 *
 * store_open creates the file's parent directories (0700), opens the database,
 * applies the numbered migrations (each in its own transaction, recorded in
 * schema_migrations) and starts the writer thread, which owns the write
 * connection. Any thread hands records to the writer with store_enqueue, which
 * copies a fixed-size struct store_rec into a bounded MPSC ring and never
 * blocks. The writer appends them with the DuckDB appender, one transaction
 * per batch of at most cfg->batch_rows records, at least every cfg->flush_ms.
 *
 * DuckDB lets one process open a file read-write and then hands out any number
 * of connections inside that process. The dashboard reads through a
 * store_reader, its own connection on the same database; commands that run
 * without the bot read through store_reader_open_path (read-only).
 *
 * Schema (migration 1; every amount DECIMAL(38,18), every time TIMESTAMPTZ in
 * UTC with microsecond precision, latencies BIGINT nanoseconds, DOUBLE only
 * for rates and basis points):
 *
 *   schema_migrations(version INTEGER PK, name, applied_at TIMESTAMPTZ)
 *   opportunities(ts, opp_id UBIGINT, mode, cycle, home_asset, n_legs,
 *       legs STRUCT(symbol, side, price DECIMAL, qty DECIMAL, rate DOUBLE,
 *                   book_age_ms INTEGER)[],
 *       size, expected_profit, expected_fee (DECIMAL), expected_profit_bps,
 *       net_rate (DOUBLE), max_book_age_ms, detect_latency_ns, verdict, reason)
 *   trades(ts, opp_id, mode, cycle, leg, cl_ord_id, order_id, symbol, side,
 *       order_type, tif, limit_price, qty, filled_qty, avg_price, fee
 *       (DECIMAL), fee_asset, status, reason, expected_profit,
 *       realised_profit (DECIMAL), submit_latency_ns, ack_latency_ns,
 *       fill_latency_ns)
 *   portfolio_snapshots(ts, mode, asset, balance, value_home (DECIMAL),
 *       home_asset)
 *   audit_events(id BIGINT from audit_events_id_seq, ts, mode, actor, action,
 *       detail JSON text)
 *
 * Enumerations are stored as lower-case text (the *_name functions below) and
 * checked by CHECK constraints. Rows are only ever appended. audit_events in
 * particular is append-only: nothing in this module updates or deletes its
 * rows except store_audit_archive, after the rows are safely in Parquet. */
#ifndef ARB_STORE_STORE_H
#define ARB_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"

struct store;
struct store_reader;

/* ---- Values ---------------------------------------------------------------- */

/* An exact decimal amount: units * 10^-scale, the project's fixed-point form
 * (core/fixed.h), stored as DECIMAL(38,18). scale is 0..18; STORE_SCALE_NULL
 * stores SQL NULL (unknown). Any other scale is stored as NULL and counted in
 * store_stats.invalid. */
struct store_amount {
	int64_t units;
	int32_t scale;
};

#define STORE_SCALE_NULL  (-1)
#define STORE_AMOUNT_NULL ((struct store_amount){0, STORE_SCALE_NULL})

static inline struct store_amount store_amt(int64_t units, int scale)
{
	return (struct store_amount){units, (int32_t)scale};
}

/* Rounds v to the nearest multiple of 10^-scale (half away from zero), for
 * amounts computed in double such as estimated profit. Returns 0, ERR_RANGE
 * when v is not finite or does not fit, ERR_INVALID when scale is not 0..18. */
int store_amount_from_double(double v, int scale, struct store_amount *out);

/* Other NULL conventions in records: an empty string, a negative latency or
 * age, and a NaN double are stored as NULL. Strings are fixed NUL-terminated
 * arrays; text that is not valid UTF-8 is stored with each bad byte replaced
 * by '?'. Timestamps are wall-clock ns since the Unix epoch (clock_wall_ns),
 * stored to the microsecond (rounded down). */

enum store_mode { STORE_MODE_PAPER, STORE_MODE_LIVE, STORE_MODE_BACKTEST };
enum store_side { STORE_SIDE_BUY, STORE_SIDE_SELL };
enum store_verdict {
	STORE_VERDICT_DETECTED,
	STORE_VERDICT_ACCEPTED,
	STORE_VERDICT_REJECTED,
	STORE_VERDICT_EXECUTED,
	STORE_VERDICT_MISSED
};
enum store_order_type { STORE_ORDER_LIMIT, STORE_ORDER_MARKET };
enum store_tif { STORE_TIF_GTC, STORE_TIF_IOC, STORE_TIF_FOK, STORE_TIF_GTD };
enum store_order_status {
	STORE_STATUS_PENDING,
	STORE_STATUS_OPEN,
	STORE_STATUS_PARTIALLY_FILLED,
	STORE_STATUS_FILLED,
	STORE_STATUS_CANCELED,
	STORE_STATUS_EXPIRED,
	STORE_STATUS_REJECTED,
	STORE_STATUS_UNKNOWN
};

/* The text stored for each value ("paper", "buy", "accepted", "ioc",
 * "partially_filled", ...); NULL when out of range. Any thread. */
const char *store_mode_name(enum store_mode m);
const char *store_side_name(enum store_side s);
const char *store_verdict_name(enum store_verdict v);
const char *store_order_type_name(enum store_order_type t);
const char *store_tif_name(enum store_tif t);
const char *store_status_name(enum store_order_status s);

/* SQL: the order of an opportunity's rows when their times tie (a backtest
 * with no latency records several verdicts in one instant): a final verdict
 * outranks accepted, which outranks detected. Readers take the latest row by
 * (ts, this). */
#define STORE_SQL_VERDICT_RANK                                                                     \
	"(CASE verdict WHEN 'detected' THEN 0 WHEN 'accepted' THEN 1 ELSE 2 END)"

/* ---- Records ---------------------------------------------------------------- */

#define STORE_SYMBOL_LEN 16 /* "BTC/USD" */
#define STORE_ASSET_LEN	 16
#define STORE_CYCLE_LEN	 64 /* "USD>BTC>ETH>USD" */
#define STORE_REASON_LEN 128
#define STORE_ID_LEN	 48 /* cl_ord_id, exchange order id */
#define STORE_NAME_LEN	 48 /* audit actor and action */
#define STORE_DETAIL_LEN 768
#define STORE_MAX_LEGS	 6

/* One leg of a cycle as evaluated: the order the detector would place. price
 * and qty use the pair's own scales; rate is the conversion rate of the leg
 * after fees (units out per unit in). */
struct store_leg {
	char symbol[STORE_SYMBOL_LEN];
	enum store_side side;
	int32_t book_age_ms; /* age of the book when evaluated; < 0 unknown */
	struct store_amount price;
	struct store_amount qty;
	double rate;
};

/* An opportunity the detector found, and what became of it. Rows are appended,
 * never updated: a later verdict for the same opp_id is a new row, and readers
 * take the latest row by ts. opp_id must be unique across runs (seed the
 * counter from the start time); trades refer to it. */
struct store_opportunity {
	int64_t ts_ns; /* wall clock, detection */
	uint64_t opp_id;
	enum store_mode mode;
	enum store_verdict verdict;
	uint8_t n_legs; /* 1..STORE_MAX_LEGS; legs[n_legs..] ignored */
	char cycle[STORE_CYCLE_LEN];
	char home_asset[STORE_ASSET_LEN];
	struct store_leg legs[STORE_MAX_LEGS];
	struct store_amount size;	     /* start amount, home asset units */
	struct store_amount expected_profit; /* home asset units, after fees */
	struct store_amount expected_fee;    /* home asset units */
	double expected_profit_bps;
	double net_rate;	       /* product of the legs' rates */
	int32_t max_book_age_ms;       /* oldest book used; < 0 unknown */
	int64_t detect_latency_ns;     /* book update arrival to verdict; < 0 unknown */
	char reason[STORE_REASON_LEN]; /* why rejected / missed; "" none */
};

/* One order (one leg of an executed cycle) in its final or latest state. */
struct store_trade {
	int64_t ts_ns;
	uint64_t opp_id; /* the opportunity this order executes */
	enum store_mode mode;
	enum store_side side;
	enum store_order_type order_type;
	enum store_tif tif;
	enum store_order_status status;
	uint8_t leg; /* 0-based index in the cycle */
	char cycle[STORE_CYCLE_LEN];
	char cl_ord_id[STORE_ID_LEN];
	char order_id[STORE_ID_LEN]; /* exchange order id; "" if none */
	char symbol[STORE_SYMBOL_LEN];
	char fee_asset[STORE_ASSET_LEN];
	struct store_amount limit_price; /* NULL for market orders */
	struct store_amount qty;
	struct store_amount filled_qty;
	struct store_amount avg_price; /* NULL until filled */
	struct store_amount fee;
	struct store_amount expected_profit; /* of the whole cycle, home units */
	struct store_amount realised_profit; /* of the whole cycle; NULL if not known yet */
	int64_t submit_latency_ns;	     /* decision to order sent; < 0 unknown */
	int64_t ack_latency_ns;		     /* sent to exchange acknowledgement */
	int64_t fill_latency_ns;	     /* sent to last fill */
	char reason[STORE_REASON_LEN];	     /* reject / cancel / unwind reason */
};

/* One asset's balance at a point in time. */
struct store_portfolio {
	int64_t ts_ns;
	enum store_mode mode;
	char asset[STORE_ASSET_LEN];
	char home_asset[STORE_ASSET_LEN];
	struct store_amount balance;
	struct store_amount value_home; /* balance valued in home_asset; NULL unpriced */
};

/* An operator action or a decision worth keeping (append-only). */
struct store_audit {
	int64_t ts_ns;
	enum store_mode mode;
	char actor[STORE_NAME_LEN];    /* "system", "risk", "operator:alice" */
	char action[STORE_NAME_LEN];   /* "pause", "kill_switch", "login", ... */
	char detail[STORE_DETAIL_LEN]; /* a JSON object as text; "" none */
};

enum store_rec_type {
	STORE_REC_OPPORTUNITY = 1,
	STORE_REC_TRADE,
	STORE_REC_PORTFOLIO,
	STORE_REC_AUDIT
};

/* What store_enqueue copies through the ring (fixed size, no pointers). */
struct store_rec {
	enum store_rec_type type;
	union {
		struct store_opportunity opp;
		struct store_trade trade;
		struct store_portfolio portfolio;
		struct store_audit audit;
		uint64_t internal_; /* the store's own markers; never set by callers */
	} u;
};

/* ---- Lifecycle ---------------------------------------------------------------- */

/* Opens (creating) the database at cfg->duckdb_path, creating missing parent
 * directories with mode 0700, applies pending migrations and starts the writer
 * thread. cfg is copied. Returns the store owned (store_close), or NULL with
 * info filled: ERR_CONFIG for a bad cfg value, -errno when a directory cannot
 * be made, ERR_DB when DuckDB cannot open the file (another process has it
 * open read-write) or a migration fails (that migration is rolled back; the
 * ones before it stay applied). Call from the thread that will close it. */
struct store *store_open(const struct store_cfg *cfg, struct err_info *info);

/* Stops the writer after it has written everything queued, then closes the
 * database. Producers must have stopped enqueuing. A write that keeps failing
 * is retried for up to STORE_CLOSE_RETRY_MS in all; records still unwritten
 * then are counted as lost and logged. Returns 0, or ERR_DB when records were
 * lost. store_close(NULL) does nothing. Not concurrently with any other call
 * on s; readers opened on s must be closed first. */
int store_close(struct store *s);

#define STORE_CLOSE_RETRY_MS 5000

/* Migrations store_open applied (0 when the schema was already current). */
unsigned store_migrations_applied(const struct store *s);

/* Applies pending migrations now, on the store's admin connection, and sets
 * *applied (may be NULL). Idempotent: a current schema applies 0. Returns 0 or
 * ERR_DB with info. Any thread but the writer. */
int store_migrate(struct store *s, unsigned *applied, struct err_info *info);

/* The highest migration version this build knows. */
int store_schema_version_latest(void);

/* ---- Writing ---------------------------------------------------------------- */

/* Copies *r into the writer's ring. Any thread; never blocks, never
 * allocates. Returns 0; ERR_FULL when the ring is full: the record is dropped
 * and counted in store_stats.dropped, and the caller surfaces it (a
 * rate-limited log line, a metric); ERR_INVALID for an unknown r->type;
 * ERR_BADSTATE after store_close has begun. */
int store_enqueue(struct store *s, const struct store_rec *r);

/* Waits until every record enqueued before the call is committed (or given
 * up as lost at close). Returns 0, or ERR_TIMEOUT after timeout_ms (the writer
 * keeps retrying). Any thread but the writer; one flush runs at a time. */
int store_flush(struct store *s, uint32_t timeout_ms);

struct store_stats {
	uint64_t enqueued;     /* accepted by store_enqueue */
	uint64_t written;      /* committed to the database */
	uint64_t dropped;      /* refused by store_enqueue, ring full */
	uint64_t write_errors; /* failed batch or row write attempts (each retried) */
	uint64_t rejected;     /* records the database refused on their own; logged, not retried */
	uint64_t invalid;      /* values stored as NULL because out of range (bad scale, enum) */
	uint64_t lost;	       /* unwritten at close after retries; logged */
	uint64_t queued;       /* approximate records waiting in the ring */
	bool failing;	       /* the last write attempt failed and is being retried */
	char last_error[256];  /* the last write error; "" none */
};

/* A consistent-enough snapshot of the counters. Any thread. */
void store_stats(struct store *s, struct store_stats *out);

/* 0 when the database answers a query and the writer is not failing,
 * ERR_DB otherwise (for /health). Uses its own connection under a mutex and
 * never waits for the writer. Any thread. */
int store_ping(struct store *s);

/* ---- Reading ---------------------------------------------------------------- */

/* A connection for queries (dashboard, metrics), on the store's database.
 * Returned owned (store_reader_close); use it from one thread at a time. Its
 * session time zone is UTC. NULL with info (ERR_DB, ERR_NOMEM) on failure. */
struct store_reader *store_reader_open(struct store *s, struct err_info *info);

/* A read-only database of its own at path, for commands that run without the
 * bot (metrics, reports). Fails with ERR_DB while another process has the file
 * open read-write. Never while a store is open on the same file in this
 * process. Returned owned (store_reader_close). */
struct store_reader *store_reader_open_path(const char *path, struct err_info *info);

/* store_reader_close(NULL) does nothing. */
void store_reader_close(struct store_reader *r);

/* Called once per result row. names and values hold ncols strings, borrowed
 * until the callback returns; values[i] is NULL for SQL NULL, otherwise the
 * value cast to VARCHAR (DECIMAL(38,18) as "1.500000000000000000", TIMESTAMPTZ
 * as "2024-01-02 03:04:05.123456+00"). Return 0 to go on; anything else stops
 * the query and store_query returns it. */
typedef int (*store_row_fn)(void *ctx, size_t ncols, const char *const *names,
			    const char *const *values);

/* Runs one SELECT (or WITH ... SELECT) statement and calls fn per row (fn may
 * be NULL). Only one statement is accepted and it must be a query, so a
 * reader cannot modify data. Returns 0, fn's non-zero value, or ERR_DB /
 * ERR_INVALID with info. */
int store_query(struct store_reader *r, const char *sql, store_row_fn fn, void *ctx,
		struct err_info *info);

/* As store_query, binding params[0..nparams) as VARCHAR values to the
 * statement's placeholders ($1 or ?) in order; DuckDB casts them where the
 * statement needs another type. */
int store_query_params(struct store_reader *r, const char *sql, const char *const *params,
		       size_t nparams, store_row_fn fn, void *ctx, struct err_info *info);

/* ---- Audit archive ---------------------------------------------------------------- */

/* Moves audit events older than older_than_s seconds (ts < now - older_than_s)
 * to a Parquet file. Flushes the writer first, then in one transaction: exports
 * the rows, checks the file holds exactly them (count and ids), fsyncs it,
 * deletes exactly those rows (by id) and commits. If anything fails, the
 * transaction is rolled back, the file is removed and no row is deleted.
 *
 * out_path NULL: "<dir of the database>/archive/audit-YYYYmmddTHHMMSSZ.parquet"
 * (directory created 0700). An existing file is never overwritten (-EEXIST).
 * The path used is copied to written_path (cap bytes, may be NULL/0); when no
 * row is old enough, nothing is written, *rows is 0 and written_path is "".
 * Returns 0, ERR_INVALID, -errno, ERR_RANGE (written_path too small) or ERR_DB
 * with info. Any thread but the writer; archives run one at a time. */
int store_audit_archive(struct store *s, int64_t older_than_s, const char *out_path,
			char *written_path, size_t cap, uint64_t *rows, struct err_info *info);

/* Parses an age such as "30d", "12h", "90m", "45s" or "2w" (a decimal count,
 * then one unit) into seconds. Returns 0, ERR_PARSE or ERR_RANGE. */
int store_parse_age(const char *s, int64_t *seconds);

#endif

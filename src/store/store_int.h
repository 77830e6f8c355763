/* Shared by the store module and its unit tests only. */
#ifndef ARB_STORE_STORE_INT_H
#define ARB_STORE_STORE_INT_H

#include <duckdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

#include "core/ring.h"
#include "store/store.h"

/* The marker store_flush pushes through the ring; u.internal_ holds its ticket. */
#define STORE__REC_FLUSH 0x7f

/* ---- Schema ---------------------------------------------------------------- */

struct store__migration {
	int version; /* 1, 2, ... ascending, never reused */
	const char *name;
	const char *sql; /* one or more statements, run in one transaction */
};

extern const struct store__migration store__builtin_migrations[];
extern const size_t store__n_builtin_migrations;

/* The migrations this build applies; tests may point these elsewhere before
 * store_open (NULL restores the built-in list). */
extern const struct store__migration *store__migrations_override;
extern size_t store__n_migrations_override;

/* How the writer fills a column. */
enum store__kind {
	STORE__K_TS,   /* TIMESTAMPTZ from wall ns */
	STORE__K_DEC,  /* DECIMAL(38,18) from struct store_amount */
	STORE__K_U64,  /* UBIGINT */
	STORE__K_I64,  /* BIGINT; negative values as NULL where documented */
	STORE__K_I32,  /* INTEGER */
	STORE__K_U8,   /* UTINYINT */
	STORE__K_F64,  /* DOUBLE, NaN as NULL */
	STORE__K_TEXT, /* VARCHAR, "" as NULL */
	STORE__K_LEGS  /* STRUCT(...)[] of store__leg_cols */
};

struct store__col {
	const char *name;
	enum store__kind kind;
};

#define STORE__MAX_COLS 32
#define STORE__NTABLES	4

struct store__table {
	enum store_rec_type type;
	const char *name;
	const struct store__col *cols;
	size_t ncols;
};

/* Indexed by type - STORE_REC_OPPORTUNITY. */
extern const struct store__table store__tables[STORE__NTABLES];
extern const struct store__col store__leg_cols[];
extern const size_t store__n_leg_cols;

/* Applies pending migrations on c; sets *applied. ERR_DB / ERR_SCHEMA + info. */
int store__migrate_conn(duckdb_connection c, unsigned *applied, struct err_info *info);

/* ---- The store ---------------------------------------------------------------- */

struct store {
	struct store_cfg cfg;
	duckdb_database db;
	duckdb_connection wconn; /* the writer thread's (migrations before it starts) */
	duckdb_connection pconn; /* store_ping's, under ping_mu */
	duckdb_connection aconn; /* archive and store_migrate, under admin_mu */
	pthread_mutex_t ping_mu;
	pthread_mutex_t admin_mu;
	pthread_mutex_t flush_mu; /* one store_flush at a time */
	unsigned migrations_applied;

	struct ring_mpsc *ring;
	struct store_rec *batch; /* writer only */
	size_t batch_cap;
	/* Per table, the column types the appender expects (checked at open). */
	duckdb_logical_type types[STORE__NTABLES][STORE__MAX_COLS];

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;  /* guards the fields below up to last_error */
	pthread_cond_t wake; /* writer waits; CLOCK_MONOTONIC */
	pthread_cond_t done; /* flushers wait; CLOCK_MONOTONIC */
	bool stop;
	bool kick;
	uint64_t close_deadline_ns; /* mono; retries end here once stop is set */
	uint64_t flush_done;	    /* the last marker ticket the writer passed */
	char last_error[256];
	uint64_t flush_ticket; /* under flush_mu */

	atomic_bool closing;
	atomic_bool failing;
	_Atomic uint64_t enqueued;
	_Atomic uint64_t written;
	_Atomic uint64_t dropped;
	_Atomic uint64_t write_errors;
	_Atomic uint64_t rejected;
	_Atomic uint64_t invalid;
	_Atomic uint64_t lost;

	/* Test hooks (tests/unit/store only). */
	atomic_bool t_paused;		      /* writer pops nothing (until stop) */
	_Atomic unsigned t_fail_commits;      /* the next n transactions fail */
	char t_poison_action[STORE_NAME_LEN]; /* set before records flow */
	atomic_int t_archive_fail_stage;      /* see store__archive_stage */
	_Atomic uint64_t t_txns;	      /* transactions attempted */
};

enum store__archive_stage {
	STORE__ARCHIVE_OK = 0,
	STORE__ARCHIVE_FAIL_AFTER_EXPORT,
	STORE__ARCHIVE_FAIL_AFTER_VERIFY,
	STORE__ARCHIVE_FAIL_AFTER_DELETE,
};

/* writer.c */
int store__writer_prepare(struct store *s, struct err_info *info); /* checks schema, caches types */
void store__writer_release(struct store *s);
void *store__writer_main(void *arg);
/* Valid record for the ring (enum ranges, scales, required text). */
bool store__rec_valid(const struct store_rec *r);

/* util.c */
/* A reader: its own connection (reader.c, metrics_bench.c). */
struct store_reader {
	duckdb_database own_db; /* store_reader_open_path only */
	duckdb_connection conn;
};

int store__exec(duckdb_connection c, const char *sql, struct err_info *info);
/* Runs sql and reads the first column of the first row as BIGINT. */
int store__query_i64(duckdb_connection c, const char *sql, int64_t *out, struct err_info *info);
/* Writes s as a single-quoted SQL literal; ERR_RANGE if cap is too small. */
int store__sql_quote(const char *s, char *buf, size_t cap);
/* mkdir -p dir with mode for the directories it creates. 0 or -errno. */
int store__mkdir_p(const char *dir, mode_t mode);
/* Copies the directory part of path ("." when none); ERR_RANGE when too long. */
int store__dirname(const char *path, char *buf, size_t cap);
/* Length of the valid UTF-8 prefix of s[0..len). */
size_t store__utf8_valid_prefix(const char *s, size_t len);
/* Copies s[0..len) to out (len bytes), each byte of an invalid sequence as '?'. */
void store__utf8_clean(const char *s, size_t len, char *out);
/* "YYYY-MM-DD HH:MM:SS.ffffff+00" for wall microseconds; ERR_RANGE. */
int store__fmt_ts_us(int64_t us, char *buf, size_t cap);
void store__set_error(struct store *s, const char *msg);
uint64_t store__mono_ns(void);
/* Absolute CLOCK_MONOTONIC deadline ms from now, for pthread_cond_timedwait. */
struct timespec store__deadline(uint64_t ms);

#endif

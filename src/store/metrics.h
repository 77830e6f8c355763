/* Metrics computed in DuckDB SQL over the recorded tables: hit rate,
 * opportunities by verdict, realised against expected profit, fees, PnL by
 * day and latency quantiles. Every number is an aggregate the database
 * computes (GROUP BY, quantile_cont, arg_max); nothing here scans rows in C.
 * `arbitrade metrics` and the dashboard use the same queries.
 *
 * Conventions: an opportunity's verdict is its latest row (opportunities are
 * appended, never updated). A cycle's realised profit is the realised_profit
 * of its trades (every leg carries the cycle's value; the maximum is taken,
 * NULLs ignored). Amounts are kept as the exact decimal text DuckDB prints
 * (DECIMAL(38,18) trimmed of trailing zeros); fees stay per fee asset,
 * because fees in different assets do not add up. */
#ifndef ARB_STORE_METRICS_H
#define ARB_STORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_METRICS_AMOUNT_LEN 48
#define STORE_METRICS_MAX_HOMES	 8
#define STORE_METRICS_MAX_FEES	 32
#define STORE_METRICS_MAX_DAYS	 92
#define STORE_METRICS_NVERDICTS	 5

/* Latency stages, in the order of store_metrics.latency[]. */
enum store_metrics_stage {
	STORE_METRICS_DETECT, /* opportunities.detect_latency_ns */
	STORE_METRICS_SUBMIT, /* trades.submit_latency_ns */
	STORE_METRICS_ACK,    /* trades.ack_latency_ns */
	STORE_METRICS_FILL,   /* trades.fill_latency_ns */
	STORE_METRICS_NSTAGES
};

struct store_metrics_quantiles {
	uint64_t n;		   /* rows with a value */
	double p50, p90, p99, max; /* ns; NaN when n == 0 */
};

struct store_metrics_profit {
	char home[STORE_ASSET_LEN];
	uint64_t cycles; /* cycles with trades in this home asset */
	char expected[STORE_METRICS_AMOUNT_LEN];
	char realised[STORE_METRICS_AMOUNT_LEN]; /* "" when none is known */
};

struct store_metrics_fee {
	char asset[STORE_ASSET_LEN];
	char total[STORE_METRICS_AMOUNT_LEN];
};

struct store_metrics_day {
	char day[11]; /* "2026-12-01", UTC */
	char home[STORE_ASSET_LEN];
	uint64_t opportunities;
	uint64_t cycles;
	char realised[STORE_METRICS_AMOUNT_LEN];
};

struct store_metrics {
	uint64_t opportunities;			    /* distinct opp_id */
	uint64_t verdicts[STORE_METRICS_NVERDICTS]; /* by enum store_verdict */
	uint64_t cycles_traded;			    /* distinct opp_id in trades */
	double hit_rate;			    /* executed / opportunities; NaN when none */
	uint64_t orders;
	uint64_t orders_by_status[8]; /* by enum store_order_status */
	size_t n_profit;
	struct store_metrics_profit profit[STORE_METRICS_MAX_HOMES];
	size_t n_fees;
	struct store_metrics_fee fees[STORE_METRICS_MAX_FEES];
	size_t n_days; /* newest last; at most STORE_METRICS_MAX_DAYS, the newest kept */
	struct store_metrics_day days[STORE_METRICS_MAX_DAYS];
	struct store_metrics_quantiles latency[STORE_METRICS_NSTAGES];
};

/* Fills *out with the metrics of rows whose ts >= since_ns (wall-clock ns;
 * 0 for everything). Runs a handful of aggregate queries on r. Returns 0, or
 * ERR_DB / ERR_INVALID with info. Groups beyond a fixed capacity are left
 * out (the largest are kept). Thread: whoever owns r. */
int store_metrics_collect(struct store_reader *r, int64_t since_ns, struct store_metrics *out,
			  struct err_info *info);

/* The stage's name ("detect", "submit", "ack", "fill"); NULL out of range. */
const char *store_metrics_stage_name(enum store_metrics_stage s);

/* Writes m as one JSON object (no trailing newline) to f. */
void store_metrics_write_json(const struct store_metrics *m, int64_t since_ns, FILE *f);

/* ---- Benchmark support ---- */

/* Appends n synthetic opportunities (a fifth of them executed, with three
 * trades each) spread over the last 30 days, generated inside DuckDB with
 * INSERT ... SELECT on the store's admin connection (so a million rows take
 * seconds). For benchmarks and demos only: it bypasses the writer. Returns 0
 * or ERR_DB with info. Any thread but the writer. */
int store_metrics_synthesize(struct store *s, uint64_t n, struct err_info *info);

/* The same verdict counts, hit rate and detection-latency quantiles as
 * store_metrics_collect, computed the slow way: every opportunity row is
 * fetched and aggregated in C (latest verdict per opp_id, a sort for the
 * quantiles). It exists to measure the SQL path against; fills only
 * opportunities, verdicts, hit_rate and latency[STORE_METRICS_DETECT]. */
/* Only the verdict counts, hit rate and detection-latency quantiles, by SQL:
 * the same subset as store_metrics_collect_scan, to compare like with like. */
int store_metrics_collect_subset(struct store_reader *r, int64_t since_ns,
				 struct store_metrics *out, struct err_info *info);

int store_metrics_collect_scan(struct store_reader *r, int64_t since_ns, struct store_metrics *out,
			       struct err_info *info);

#endif

/* The latency profiler behind `arbitrade profile --scenario ...` and its
 * regression check (`arbitrade profile check`), against the committed
 * ops/performance/latency_baseline.json and latency_thresholds.json.
 *
 * Scenarios (each fills one struct prof_scenario):
 *   book_update_burst  generated Kraken v2 book frames for the ~1,000-pair
 *                      universe at depth 10, in bursts over random pairs:
 *                      kr_decode (parse), book_begin/set/end with the
 *                      checksum (apply), arb_on_book (detect), and the three
 *                      together (e2e).
 *   execution_spike    bursts of valid 3-leg opportunities through
 *                      risk_check_admit (risk), exec_submit until the paper
 *                      venue's place() is entered (submit_place), and
 *                      exec_submit until every leg filled (cycle).
 *   reconnect_storm    an in-process simulator (sim_new/sim_run on a thread)
 *                      and the real market-data session (kr_ws + kr_ws_feed);
 *                      POST /control/drop, then the time until every book is
 *                      valid again with an update after the drop (recover).
 *
 * Per stage: count, p50, p90, p99 and max of the per-event wall time
 * (clock_mono_ns; core/hist.h, within 1.6%), a throughput in events per
 * second of CPU time (see prof_stage.throughput) and the heap calls made
 * during the stage's events after warm-up (core/alloc_count.h), which must
 * be 0 on the hot path.
 *
 * Threads: every function runs on its caller's thread; the reconnect
 * scenario starts (and joins) the simulator's thread itself. */
#ifndef ARB_BENCH_PROFILE_H
#define ARB_BENCH_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/hist.h"

#define PROF_NAME_MAX	  32
#define PROF_MAX_STAGES	  4
#define PROF_MAX_SCENARIO 3
#define PROF_MAX_STATS	  (PROF_MAX_STAGES * PROF_MAX_SCENARIO)
/* Most runs the check takes the median over. */
#define PROF_MAX_RUNS 31

/* Events of each scenario before allocations are counted. */
#define PROF_WARMUP 256u

struct prof_stage {
	char name[PROF_NAME_MAX];
	bool hot_path;	     /* the check requires 0 heap calls after warm-up */
	struct hist h;	     /* per event, wall ns */
	uint64_t alloc_sum;  /* heap calls during this stage's events after warm-up */
	uint64_t alloc_evts; /* events counted in alloc_sum */
};

struct prof_scenario {
	char name[PROF_NAME_MAX];
	uint64_t events;      /* events timed */
	uint64_t wall_ns;     /* wall time of the timed loop */
	uint64_t cpu_ns;      /* CPU time of the thread in the timed loop */
	bool cpu_scaled;      /* throughput in CPU time (false: wall, when the
				 thread mostly waits on another, as in reconnect) */
	bool allocs_measured; /* alloc_count_supported() */
	char note[160];	      /* one line about what ran (pairs, cycles, ...) */
	unsigned n_stages;
	struct prof_stage st[PROF_MAX_STAGES];
};

struct prof_opts {
	uint64_t iterations;	   /* events per scenario (book updates, opportunities) */
	unsigned drops;		   /* reconnect_storm: drops (0: 5) */
	uint32_t max_seconds;	   /* reconnect_storm: stop after this long (0: 30) */
	const char *universe_path; /* TSV universe (tests/data/universe/kraken_like.tsv) */
	const char *sim_scenario;  /* simulator scenario (tests/data/sim/basic.json) */
	uint64_t seed;		   /* generated traffic */
};

/* The scenarios. Each fills *out (zeroed first) and returns 0, or an error
 * with info filled (ERR_INVALID for options, -errno / ERR_PARSE for the
 * universe or scenario file, ERR_CHECKSUM when a generated book does not
 * verify, ERR_TIMEOUT when a reconnect does not recover). They allocate
 * their fixtures before the timed loop and free them after. */
int prof_book_burst(const struct prof_opts *o, struct prof_scenario *out, struct err_info *info);
int prof_exec_spike(const struct prof_opts *o, struct prof_scenario *out, struct err_info *info);
int prof_reconnect(const struct prof_opts *o, struct prof_scenario *out, struct err_info *info);

/* The scenario names, in the order "all" runs them; index with
 * prof_scenario_fn. */
extern const char *const prof_scenario_names[PROF_MAX_SCENARIO];
typedef int (*prof_scenario_fn)(const struct prof_opts *o, struct prof_scenario *out,
				struct err_info *info);
prof_scenario_fn prof_scenario_find(const char *name);

/* Stage helpers for the scenarios: adds a stage (name copied) and returns
 * its index; records one event of ns with allocs heap calls (counted only
 * when counted is true, i.e. after warm-up). */
unsigned prof__stage(struct prof_scenario *sc, const char *name, bool hot_path);
void prof__record(struct prof_stage *st, uint64_t ns, uint64_t allocs, bool counted);
/* The thread's CPU time in ns (CLOCK_THREAD_CPUTIME_ID). */
uint64_t prof__cpu_ns(void);

/* ---- results, baselines and the check ----------------------------------- */

/* One stage's statistics, as written to a result and compared. */
struct prof_stat {
	char scenario[PROF_NAME_MAX];
	char stage[PROF_NAME_MAX];
	uint64_t count;
	double p50, p90, p99, max; /* ns */
	double throughput;	   /* events/s */
	bool hot_path;
	bool allocs_measured;
	double allocs;		 /* heap calls after warm-up (the check: max over runs) */
	double allocs_per_event; /* allocs / events counted; meaningless unless measured */
};

struct prof_summary {
	unsigned n;
	struct prof_stat s[PROF_MAX_STATS];
};

/* The statistics of the scenarios sc[0..n). */
void prof_summarize(const struct prof_scenario *sc, unsigned n, struct prof_summary *out);

/* Writes the result JSON (one object, see README "Profiling"), or the
 * readable table. 0 or -errno. */
int prof_write_result(FILE *f, const struct prof_scenario *sc, unsigned n, uint64_t iterations);
void prof_print_table(FILE *f, const struct prof_scenario *sc, unsigned n);

/* The stage (scenario, stage) in s, or NULL. */
const struct prof_stat *prof_find(const struct prof_summary *s, const char *scenario,
				  const char *stage);

/* The median of v[0..n) (n >= 1; v is reordered). The mean of the two middle
 * values when n is even. */
double prof_median(double *v, size_t n);

/* The per-stage median of each statistic over runs[0..n) (n >= 1): p50, p90,
 * p99, max and throughput each as the median of its own values; allocs as the
 * largest (exact, not a median: one allocation in any run is a regression);
 * allocs_measured only when every run measured. Stages missing from a run
 * are left out. */
void prof_median_runs(const struct prof_summary *runs, unsigned n, struct prof_summary *out);

/* Parses a result file (prof_write_result's format) into *out. 0, or
 * ERR_PARSE / ERR_SCHEMA with info naming the key ("scenarios.x.stages.y.p50"). */
int prof_parse_result(const char *buf, size_t len, struct prof_summary *out, struct err_info *info);

/* The baseline: per scenario and stage p50, p99 and throughput. */
int prof_write_baseline(FILE *f, const struct prof_summary *median, unsigned runs,
			uint64_t iterations);
int prof_parse_baseline(const char *buf, size_t len, struct prof_summary *out,
			struct err_info *info);

/* Limits of one stage: current / baseline ratios, and allocations. */
struct prof_limit {
	char key[2 * PROF_NAME_MAX + 2]; /* "scenario/stage"; "" for the defaults */
	double p50_max_ratio;		 /* p50 <= base * this; 0: not compared */
	double p99_max_ratio;
	double throughput_min_ratio; /* throughput >= base * this; 0: not compared */
	bool check_allocs;	     /* allocs <= allocs_max (exact) */
	double allocs_max;
};

struct prof_thresholds {
	unsigned runs;	       /* how many runs the check takes the median over */
	uint64_t iterations;   /* default --iterations of the check (0: none given) */
	struct prof_limit def; /* "defaults" */
	unsigned n;
	struct prof_limit st[PROF_MAX_STATS];
};

/* Parses the thresholds file. 0, or ERR_PARSE / ERR_SCHEMA / ERR_RANGE with
 * info naming the key. */
int prof_parse_thresholds(const char *buf, size_t len, struct prof_thresholds *out,
			  struct err_info *info);

/* The limits for (scenario, stage): the stage's entry, else the defaults. */
const struct prof_limit *prof_limit_for(const struct prof_thresholds *t, const char *scenario,
					const char *stage);

/* Compares cur (the median over runs) with base under t, printing one line
 * per comparison with PASS, FAIL or SKIP to f (NULL prints nothing). A stage
 * of the baseline missing from cur fails; a stage only in cur is listed as
 * new. Returns the number of failed comparisons. */
unsigned prof_compare(const struct prof_summary *base, const struct prof_summary *cur,
		      const struct prof_thresholds *t, FILE *f);

#endif

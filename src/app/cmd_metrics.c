/* arbitrade metrics [--since AGE|TIME] [--db FILE] [--json]: the recorded
 * history summarised by DuckDB (store/metrics.h), read-only. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app_int.h"
#include "core/clock.h"
#include "store/metrics.h"

/* --bench N: a temporary database with N synthetic opportunities, then the
 * SQL aggregates against the same numbers computed by a scan in C. */
static int run_bench(const struct config *cfg, uint64_t n)
{
	static struct store_metrics sql_m, scan_m;
	char dir[] = "/tmp/arbitrade-metrics-bench-XXXXXX";
	struct store_cfg sc = cfg->store;
	struct store *s = NULL;
	struct store_reader *rd = NULL;
	struct err_info info = {0};
	double best_sql = INFINITY, best_scan = INFINITY;
	int rc = APP_FAIL;

	if (!mkdtemp(dir)) {
		perror("arbitrade metrics: mkdtemp");
		return APP_FAIL;
	}
	snprintf(sc.duckdb_path, sizeof sc.duckdb_path, "%s/bench.duckdb", dir);
	s = store_open(&sc, &info);
	if (!s)
		goto fail;
	uint64_t t0 = clock_mono_ns();
	if (store_metrics_synthesize(s, n, &info) != 0)
		goto fail;
	double fill_s = (double)(clock_mono_ns() - t0) / 1e9;
	rd = store_reader_open(s, &info);
	if (!rd)
		goto fail;
	/* Best of five runs each: the machine is shared and noisy. */
	static struct store_metrics sub_m;
	double best_sub = INFINITY;
	for (int i = 0; i < 5; i++) {
		uint64_t a = clock_mono_ns();
		if (store_metrics_collect(rd, 0, &sql_m, &info) != 0)
			goto fail;
		uint64_t b = clock_mono_ns();
		if (store_metrics_collect_subset(rd, 0, &sub_m, &info) != 0)
			goto fail;
		uint64_t c = clock_mono_ns();
		if (store_metrics_collect_scan(rd, 0, &scan_m, &info) != 0)
			goto fail;
		uint64_t d = clock_mono_ns();
		best_sql = fmin(best_sql, (double)(b - a) / 1e6);
		best_sub = fmin(best_sub, (double)(c - b) / 1e6);
		best_scan = fmin(best_scan, (double)(d - c) / 1e6);
	}
	bool agree = sql_m.opportunities == scan_m.opportunities &&
		     memcmp(sql_m.verdicts, scan_m.verdicts, sizeof sql_m.verdicts) == 0 &&
		     memcmp(sub_m.verdicts, scan_m.verdicts, sizeof sub_m.verdicts) == 0 &&
		     fabs(sql_m.latency[0].p99 - scan_m.latency[0].p99) < 1e-6 &&
		     fabs(sub_m.latency[0].p99 - scan_m.latency[0].p99) < 1e-6;
	printf("{\"rows\":%" PRIu64 ",\"fill_s\":%.2f,\"sql_all_metrics_ms\":%.1f,"
	       "\"sql_subset_ms\":%.1f,\"c_scan_subset_ms\":%.1f,\"agree\":%s}\n",
	       sql_m.opportunities, fill_s, best_sql, best_sub, best_scan,
	       agree ? "true" : "false");
	rc = agree ? APP_OK : APP_FAIL;
	if (!agree)
		fprintf(stderr, "arbitrade metrics: SQL and C scan disagree\n");
	goto cleanup;
fail:
	fprintf(stderr, "arbitrade metrics --bench: %s\n", info.msg);
cleanup:
	store_reader_close(rd);
	store_close(s);
	char rmcmd[128];
	snprintf(rmcmd, sizeof rmcmd, "rm -rf '%s'", dir);
	if (system(rmcmd) != 0)
		fprintf(stderr, "arbitrade metrics: could not remove %s\n", dir);
	return rc;
}

static int bad_usage(const char *why)
{
	fprintf(stderr, "arbitrade metrics: %s\n\n", why);
	app__usage(stderr, app__find("metrics"));
	return APP_USAGE;
}

/* "24h", "30d" (an age) or an RFC3339 time. */
static int parse_since(const char *s, int64_t *out_ns)
{
	int64_t secs;
	if (store_parse_age(s, &secs) == 0) {
		*out_ns = clock_wall_ns() - secs * 1000000000LL;
		if (*out_ns < 0)
			*out_ns = 0;
		return 0;
	}
	return clock_parse_rfc3339(s, strlen(s), out_ns);
}

static void print_ns(const char *name, const struct store_metrics_quantiles *q)
{
	if (q->n == 0) {
		printf("  %-8s no samples\n", name);
		return;
	}
	printf("  %-8s n=%-8" PRIu64 " p50=%.0f ns  p90=%.0f ns  p99=%.0f ns  max=%.0f ns\n", name,
	       q->n, q->p50, q->p90, q->p99, q->max);
}

static void print_text(const struct store_metrics *m)
{
	printf("opportunities: %" PRIu64 "  (", m->opportunities);
	for (int i = 0; i < STORE_METRICS_NVERDICTS; i++)
		printf("%s%s %" PRIu64, i ? ", " : "", store_verdict_name((enum store_verdict)i),
		       m->verdicts[i]);
	printf(")\n");
	if (isnan(m->hit_rate))
		printf("hit rate: n/a\n");
	else
		printf("hit rate: %.2f%% executed\n", 100.0 * m->hit_rate);
	printf("orders: %" PRIu64 " in %" PRIu64 " cycles\n", m->orders, m->cycles_traded);
	for (size_t i = 0; i < m->n_profit; i++)
		printf("profit %s: expected %s, realised %s over %" PRIu64 " cycles\n",
		       m->profit[i].home, m->profit[i].expected,
		       m->profit[i].realised[0] ? m->profit[i].realised : "unknown",
		       m->profit[i].cycles);
	for (size_t i = 0; i < m->n_fees; i++)
		printf("fees %s: %s\n", m->fees[i].asset, m->fees[i].total);
	if (m->n_days)
		printf("pnl by day:\n");
	for (size_t i = 0; i < m->n_days; i++)
		printf("  %s %-5s opportunities %-6" PRIu64 " cycles %-5" PRIu64 " realised %s\n",
		       m->days[i].day, m->days[i].home, m->days[i].opportunities, m->days[i].cycles,
		       m->days[i].realised[0] ? m->days[i].realised : "-");
	printf("latency:\n");
	for (int s = 0; s < STORE_METRICS_NSTAGES; s++)
		print_ns(store_metrics_stage_name((enum store_metrics_stage)s), &m->latency[s]);
}

int app__cmd_metrics(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"env-file", required_argument, NULL, 'e'}, {"since", required_argument, NULL, 's'},
	    {"db", required_argument, NULL, 'd'},	{"json", no_argument, NULL, 'j'},
	    {"bench", required_argument, NULL, 'b'},	{NULL, 0, NULL, 0}};
	static struct store_metrics m;
	const char *env_file = NULL, *since = NULL, *db = NULL;
	bool json = false;
	uint64_t bench = 0;
	int64_t since_ns = 0;
	struct config cfg;
	struct store_reader *rd = NULL;
	struct err_info info = {0};
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			env_file = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'b': {
			char *end = NULL;
			bench = strtoull(optarg, &end, 10);
			if (!end || *end || bench == 0 || bench > 100000000ull)
				return bad_usage("--bench takes a row count from 1 to 100000000");
			break;
		}
		default:
			return bad_usage("unknown or incomplete option");
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument");
	if (since && parse_since(since, &since_ns) != 0) {
		fprintf(
		    stderr,
		    "arbitrade metrics: --since '%s' is neither an age (24h, 30d) nor an RFC3339 "
		    "time\n",
		    since);
		return APP_USAGE;
	}
	rc = app__load_config(&cfg, env_file);
	if (rc != APP_OK)
		return rc;
	if (bench) {
		rc = run_bench(&cfg, bench);
		goto cleanup;
	}
	rd = store_reader_open_path(db ? db : cfg.store.duckdb_path, &info);
	if (!rd) {
		fprintf(stderr,
			"arbitrade metrics: cannot open the database read-only: %s\n"
			"(while the bot runs it holds the file; its dashboard shows the same "
			"metrics)\n",
			info.msg);
		rc = APP_FAIL;
		goto cleanup;
	}
	if (store_metrics_collect(rd, since_ns, &m, &info) != 0) {
		fprintf(stderr, "arbitrade metrics: %s\n", info.msg);
		rc = APP_FAIL;
		goto cleanup;
	}
	if (json) {
		store_metrics_write_json(&m, since_ns, stdout);
		putchar('\n');
	} else {
		print_text(&m);
	}
	rc = APP_OK;
cleanup:
	store_reader_close(rd);
	config_release(&cfg);
	return rc;
}

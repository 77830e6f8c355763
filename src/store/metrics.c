/* Metrics as SQL aggregates. Each query returns few rows; the callbacks only
 * copy them into the fixed result struct. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/metrics.h"
#include "store/store_int.h"

/* Every query filters on this, with $1 the start in microseconds. */
#define SINCE(col) col " >= to_timestamp($1::BIGINT / 1000000.0)"

/* An amount as exact text without trailing zeros: DECIMAL(38,18) prints 18
 * fraction digits. */
#define AMT(expr) "rtrim(rtrim((" expr ")::VARCHAR, '0'), '.')"

static const char q_verdicts[] =
    "WITH latest AS (SELECT opp_id, arg_max(verdict, (ts, " STORE_SQL_VERDICT_RANK
    ")) AS v FROM opportunities WHERE " SINCE(
	"ts") " GROUP BY opp_id) SELECT v, count(*) FROM latest GROUP BY v";

static const char q_orders[] =
    "SELECT status, count(*) FROM trades WHERE " SINCE("ts") " GROUP BY status";

/* One row per cycle that has trades: its home asset and opportunity from the
 * latest opportunity row, its profit from the trades. */
#define CYCLES                                                                                     \
	"WITH opp AS (SELECT opp_id, arg_max(home_asset, ts) AS home, arg_max(expected_profit, "   \
	"ts) AS expected FROM opportunities GROUP BY opp_id), cyc AS (SELECT t.opp_id, "           \
	"min(t.ts) AS ts, coalesce(any_value(o.home), '?') AS home, "                              \
	"coalesce(max(t.expected_profit), any_value(o.expected)) AS expected, "                    \
	"max(t.realised_profit) AS realised FROM trades t LEFT JOIN opp o USING (opp_id) "         \
	"WHERE " SINCE("t.ts") " GROUP BY t.opp_id) "

static const char q_profit[] =
    CYCLES "SELECT home, count(*), " AMT("coalesce(sum(expected), 0)") ", " AMT(
	"sum(realised)") " FROM cyc GROUP BY home ORDER BY count(*) DESC LIMIT 8";

static const char q_fees[] = "SELECT fee_asset, " AMT("sum(fee)") " FROM trades WHERE " SINCE(
    "ts") " AND fee IS NOT NULL AND fee_asset IS NOT "
	  "NULL GROUP BY fee_asset ORDER BY sum(fee) DESC LIMIT 32";

static const char q_days[] =
    CYCLES ", days AS (SELECT strftime(date_trunc('day', ts), '%Y-%m-%d') AS day, home, count(*) "
	   "AS cycles, sum(realised) AS realised FROM cyc GROUP BY ALL), od AS (SELECT "
	   "strftime(date_trunc('day', ts), '%Y-%m-%d') AS day, home_asset AS home, count(DISTINCT "
	   "opp_id) AS n FROM opportunities WHERE " SINCE(
	       "ts") " GROUP BY ALL) SELECT day, home, coalesce(od.n, 0), coalesce(days.cycles, "
		     "0), " AMT("days.realised") " FROM od FULL JOIN days USING (day, home) "
						 "ORDER BY day DESC, home DESC LIMIT 92";

#define QUANT(col)                                                                                 \
	"count(" col "), quantile_cont(" col ", 0.5), quantile_cont(" col ", 0.9), "               \
	"quantile_cont(" col ", 0.99), max(" col ")"

static const char q_lat_opp[] =
    "SELECT " QUANT("detect_latency_ns") " FROM opportunities WHERE " SINCE("ts");
static const char q_lat_trades[] = "SELECT " QUANT("submit_latency_ns") ", " QUANT(
    "ack_latency_ns") ", " QUANT("fill_latency_ns") " FROM trades WHERE " SINCE("ts");

static uint64_t u64_of(const char *v)
{
	return v ? strtoull(v, NULL, 10) : 0;
}

static double dbl_of(const char *v)
{
	return v ? strtod(v, NULL) : NAN;
}

static void copy(char *dst, size_t cap, const char *v)
{
	snprintf(dst, cap, "%s", v ? v : "");
}

static int row_verdict(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct store_metrics *m = ctx;
	(void)names;
	if (n < 2 || !v[0])
		return 0;
	for (int i = 0; i < STORE_METRICS_NVERDICTS; i++)
		if (strcmp(v[0], store_verdict_name((enum store_verdict)i)) == 0)
			m->verdicts[i] = u64_of(v[1]);
	m->opportunities += u64_of(v[1]);
	return 0;
}

static int row_order(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct store_metrics *m = ctx;
	(void)names;
	if (n < 2 || !v[0])
		return 0;
	for (int i = 0; i < 8; i++)
		if (strcmp(v[0], store_status_name((enum store_order_status)i)) == 0)
			m->orders_by_status[i] = u64_of(v[1]);
	m->orders += u64_of(v[1]);
	return 0;
}

static int row_profit(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct store_metrics *m = ctx;
	(void)names;
	if (n < 4 || m->n_profit >= STORE_METRICS_MAX_HOMES)
		return 0;
	struct store_metrics_profit *p = &m->profit[m->n_profit++];
	copy(p->home, sizeof p->home, v[0]);
	p->cycles = u64_of(v[1]);
	copy(p->expected, sizeof p->expected, v[2]);
	copy(p->realised, sizeof p->realised, v[3]);
	m->cycles_traded += p->cycles;
	return 0;
}

static int row_fee(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct store_metrics *m = ctx;
	(void)names;
	if (n < 2 || m->n_fees >= STORE_METRICS_MAX_FEES)
		return 0;
	struct store_metrics_fee *f = &m->fees[m->n_fees++];
	copy(f->asset, sizeof f->asset, v[0]);
	copy(f->total, sizeof f->total, v[1]);
	return 0;
}

static int row_day(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct store_metrics *m = ctx;
	(void)names;
	if (n < 5 || m->n_days >= STORE_METRICS_MAX_DAYS)
		return 0;
	struct store_metrics_day *d = &m->days[m->n_days++];
	copy(d->day, sizeof d->day, v[0]);
	copy(d->home, sizeof d->home, v[1]);
	d->opportunities = u64_of(v[2]);
	d->cycles = u64_of(v[3]);
	copy(d->realised, sizeof d->realised, v[4]);
	return 0;
}

static void quantiles(struct store_metrics_quantiles *q, const char *const *v)
{
	q->n = u64_of(v[0]);
	q->p50 = dbl_of(v[1]);
	q->p90 = dbl_of(v[2]);
	q->p99 = dbl_of(v[3]);
	q->max = dbl_of(v[4]);
}

static int row_lat_opp(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct store_metrics *m = ctx;
	(void)names;
	if (n >= 5)
		quantiles(&m->latency[STORE_METRICS_DETECT], v);
	return 0;
}

static int row_lat_trades(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct store_metrics *m = ctx;
	(void)names;
	if (n >= 15)
		for (int s = 0; s < 3; s++)
			quantiles(&m->latency[STORE_METRICS_SUBMIT + s], v + 5 * s);
	return 0;
}

/* Runs every query, or with subset only the verdict and detection-latency
 * ones (what store_metrics_collect_scan computes, for the benchmark). */
static int collect(struct store_reader *r, int64_t since_ns, bool subset, struct store_metrics *out,
		   struct err_info *info)
{
	static const struct {
		const char *sql;
		store_row_fn fn;
	} qs[] = {{q_verdicts, row_verdict},
		  {q_orders, row_order},
		  {q_profit, row_profit},
		  {q_fees, row_fee},
		  {q_days, row_day},
		  {q_lat_opp, row_lat_opp},
		  {q_lat_trades, row_lat_trades}};
	char since[32];
	const char *params[1] = {since};

	if (!r || !out || since_ns < 0)
		return err_set(info, ERR_INVALID, "metrics: bad argument");
	memset(out, 0, sizeof *out);
	for (int s = 0; s < STORE_METRICS_NSTAGES; s++) {
		struct store_metrics_quantiles *q = &out->latency[s];
		q->p50 = q->p90 = q->p99 = q->max = NAN;
	}
	snprintf(since, sizeof since, "%" PRId64, since_ns / 1000);
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		if (subset && qs[i].sql != q_verdicts && qs[i].sql != q_lat_opp)
			continue;
		int rc = store_query_params(r, qs[i].sql, params, 1, qs[i].fn, out, info);
		if (rc != 0)
			return rc;
	}
	/* Newest day last reads better in tables and charts. */
	for (size_t i = 0; i < out->n_days / 2; i++) {
		struct store_metrics_day t = out->days[i];
		out->days[i] = out->days[out->n_days - 1 - i];
		out->days[out->n_days - 1 - i] = t;
	}
	out->hit_rate = out->opportunities ? (double)out->verdicts[STORE_VERDICT_EXECUTED] /
						 (double)out->opportunities
					   : NAN;
	return 0;
}

int store_metrics_collect(struct store_reader *r, int64_t since_ns, struct store_metrics *out,
			  struct err_info *info)
{
	return collect(r, since_ns, false, out, info);
}

int store_metrics_collect_subset(struct store_reader *r, int64_t since_ns,
				 struct store_metrics *out, struct err_info *info)
{
	return collect(r, since_ns, true, out, info);
}

const char *store_metrics_stage_name(enum store_metrics_stage s)
{
	static const char *const names[] = {"detect", "submit", "ack", "fill"};
	return (unsigned)s < STORE_METRICS_NSTAGES ? names[s] : NULL;
}

static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.17g", v);
	else
		fputs("null", f);
}

/* Amount text from DuckDB is a plain decimal number; "" becomes null. */
static void json_amount(FILE *f, const char *v)
{
	if (v[0])
		fprintf(f, "\"%s\"", v);
	else
		fputs("null", f);
}

void store_metrics_write_json(const struct store_metrics *m, int64_t since_ns, FILE *f)
{
	char ts[40] = "";
	time_t secs = (time_t)(since_ns / 1000000000);
	struct tm tm;
	if (gmtime_r(&secs, &tm))
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "{\"since\":\"%s\",\"opportunities\":%" PRIu64 ",\"verdicts\":{", ts,
		m->opportunities);
	for (int i = 0; i < STORE_METRICS_NVERDICTS; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "",
			store_verdict_name((enum store_verdict)i), m->verdicts[i]);
	fputs("},\"hit_rate\":", f);
	json_num(f, m->hit_rate);
	fprintf(f, ",\"cycles_traded\":%" PRIu64 ",\"orders\":%" PRIu64 ",\"orders_by_status\":{",
		m->cycles_traded, m->orders);
	for (int i = 0; i < 8; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "",
			store_status_name((enum store_order_status)i), m->orders_by_status[i]);
	fputs("},\"profit\":[", f);
	for (size_t i = 0; i < m->n_profit; i++) {
		const struct store_metrics_profit *p = &m->profit[i];
		fprintf(f, "%s{\"home\":\"%s\",\"cycles\":%" PRIu64 ",\"expected\":", i ? "," : "",
			p->home, p->cycles);
		json_amount(f, p->expected);
		fputs(",\"realised\":", f);
		json_amount(f, p->realised);
		fputc('}', f);
	}
	fputs("],\"fees\":{", f);
	for (size_t i = 0; i < m->n_fees; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", m->fees[i].asset);
		json_amount(f, m->fees[i].total);
	}
	fputs("},\"pnl_by_day\":[", f);
	for (size_t i = 0; i < m->n_days; i++) {
		const struct store_metrics_day *d = &m->days[i];
		fprintf(f,
			"%s{\"day\":\"%s\",\"home\":\"%s\",\"opportunities\":%" PRIu64
			",\"cycles\":%" PRIu64 ",\"realised\":",
			i ? "," : "", d->day, d->home, d->opportunities, d->cycles);
		json_amount(f, d->realised);
		fputc('}', f);
	}
	fputs("],\"latency_ns\":{", f);
	for (int s = 0; s < STORE_METRICS_NSTAGES; s++) {
		const struct store_metrics_quantiles *q = &m->latency[s];
		fprintf(f, "%s\"%s\":{\"n\":%" PRIu64 ",\"p50\":", s ? "," : "",
			store_metrics_stage_name((enum store_metrics_stage)s), q->n);
		json_num(f, q->p50);
		fputs(",\"p90\":", f);
		json_num(f, q->p90);
		fputs(",\"p99\":", f);
		json_num(f, q->p99);
		fputs(",\"max\":", f);
		json_num(f, q->max);
		fputc('}', f);
	}
	fputs("}}", f);
}

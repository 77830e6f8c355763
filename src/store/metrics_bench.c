/* Benchmark support for metrics: synthetic history made inside DuckDB, and
 * the same aggregates computed by a scan in C to compare the SQL against. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/metrics.h"
#include "store/store_int.h"

int store_metrics_synthesize(struct store *s, uint64_t n, struct err_info *info)
{
	char sql[4096];
	int rc;
	if (!s || n == 0)
		return err_set(info, ERR_INVALID, "synthesize: bad argument");
	/* ids continue after the highest one so repeated runs never collide. */
	snprintf(
	    sql, sizeof sql,
	    "INSERT INTO opportunities (ts, opp_id, mode, cycle, home_asset, n_legs, legs, size, "
	    "expected_profit, expected_fee, expected_profit_bps, net_rate, max_book_age_ms, "
	    "detect_latency_ns, verdict, reason) "
	    "SELECT now() - to_seconds(i %% 2592000), b.base + i, 'paper', "
	    "CASE i %% 3 WHEN 0 THEN 'USD>BTC>ETH>USD' WHEN 1 THEN 'USD>ETH>BTC>USD' ELSE "
	    "'EUR>BTC>SOL>EUR' END, CASE i %% 3 WHEN 2 THEN 'EUR' ELSE 'USD' END, 3, "
	    "[{'symbol': 'BTC/USD', 'side': 'buy', 'price': 50000.1, 'qty': 0.01, 'rate': 0.99, "
	    "'book_age_ms': 3}, {'symbol': 'ETH/BTC', 'side': 'buy', 'price': 0.05, 'qty': 0.2, "
	    "'rate': 0.99, 'book_age_ms': 4}, {'symbol': 'ETH/USD', 'side': 'sell', 'price': "
	    "2500.5, 'qty': 0.2, 'rate': 0.99, 'book_age_ms': 5}], 500, (i %% 997) / 1000.0, "
	    "0.39, (i %% 997) / 50.0, 1.0 + (i %% 997) / 1e6, 5, (hash(i) %% 20000)::BIGINT, "
	    "CASE i %% 5 WHEN 0 THEN 'executed' WHEN 1 THEN 'rejected' WHEN 2 THEN 'missed' "
	    "ELSE 'detected' END, CASE i %% 5 WHEN 1 THEN 'max_cycles_per_min' ELSE NULL END "
	    "FROM range(%" PRIu64 ") t(i), (SELECT coalesce(max(opp_id), 0) + 1 AS base FROM "
	    "opportunities) b",
	    n);
	pthread_mutex_lock(&s->admin_mu);
	rc = store__exec(s->aconn, "BEGIN TRANSACTION", info);
	if (rc == 0)
		rc = store__exec(s->aconn, sql, info);
	if (rc == 0) {
		snprintf(
		    sql, sizeof sql,
		    "INSERT INTO trades (ts, opp_id, mode, cycle, leg, cl_ord_id, symbol, side, "
		    "order_type, tif, limit_price, qty, filled_qty, avg_price, fee, fee_asset, "
		    "status, expected_profit, realised_profit, submit_latency_ns, "
		    "ack_latency_ns, fill_latency_ns) "
		    "SELECT o.ts, o.opp_id, 'paper', o.cycle, l.leg, 'arb-' || o.opp_id || '-' "
		    "|| l.leg, 'BTC/USD', 'buy', 'limit', 'ioc', 50000.1, 0.01, 0.01, 50000.1, "
		    "0.0013, o.home_asset, 'filled', o.expected_profit, o.expected_profit - "
		    "0.0005, 4000 + o.opp_id %% 3000, 150000 + o.opp_id %% 90000, 200000 + "
		    "o.opp_id %% 90000 FROM opportunities o, range(3) l(leg) WHERE o.verdict = "
		    "'executed' AND o.opp_id > (SELECT coalesce(max(opp_id), 0) FROM trades)");
		rc = store__exec(s->aconn, sql, info);
	}
	if (rc == 0)
		rc = store__exec(s->aconn, "COMMIT", info);
	else
		store__exec(s->aconn, "ROLLBACK", NULL);
	pthread_mutex_unlock(&s->admin_mu);
	return rc;
}

/* Latest row per opp_id: an open-addressing table keyed by opp_id. */
struct latest {
	uint64_t id; /* 0 = empty slot (ids start at 1) */
	int64_t ts;
	int8_t verdict;
};

static int verdict_of(const char *p, size_t len)
{
	for (int i = 0; i < STORE_METRICS_NVERDICTS; i++) {
		const char *name = store_verdict_name((enum store_verdict)i);
		if (strlen(name) == len && memcmp(name, p, len) == 0)
			return i;
	}
	return -1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* quantile_cont: linear interpolation between the closest ranks. */
static double quantile(const int64_t *v, size_t n, double p)
{
	double pos = p * (double)(n - 1);
	size_t lo = (size_t)pos;
	double frac = pos - (double)lo;
	if (lo + 1 >= n)
		return (double)v[n - 1];
	return (double)v[lo] + frac * (double)(v[lo + 1] - v[lo]);
}

int store_metrics_collect_scan(struct store_reader *r, int64_t since_ns, struct store_metrics *out,
			       struct err_info *info)
{
	char sql[256];
	duckdb_result res;
	struct latest *tab = NULL;
	int64_t *lat = NULL;
	size_t cap = 1u << 16, used = 0, nlat = 0, latcap = 1u << 16;
	int rc = 0;

	if (!r || !out)
		return err_set(info, ERR_INVALID, "scan: bad argument");
	memset(out, 0, sizeof *out);
	snprintf(sql, sizeof sql,
		 "SELECT opp_id, epoch_us(ts), verdict, detect_latency_ns FROM opportunities "
		 "WHERE ts >= to_timestamp(%" PRId64 " / 1000000.0)",
		 since_ns / 1000);
	if (duckdb_query(r->conn, sql, &res) != DuckDBSuccess) {
		rc = err_set(info, ERR_DB, "%s", duckdb_result_error(&res));
		duckdb_destroy_result(&res);
		return rc;
	}
	tab = calloc(cap, sizeof *tab);
	lat = malloc(latcap * sizeof *lat);
	if (!tab || !lat) {
		rc = err_set(info, ERR_NOMEM, "scan: out of memory");
		goto cleanup;
	}
	for (;;) {
		duckdb_data_chunk ch = duckdb_fetch_chunk(res);
		if (!ch)
			break;
		idx_t rows = duckdb_data_chunk_get_size(ch);
		duckdb_vector cv[4];
		for (idx_t c = 0; c < 4; c++)
			cv[c] = duckdb_data_chunk_get_vector(ch, c);
		const uint64_t *ids = duckdb_vector_get_data(cv[0]);
		const int64_t *ts = duckdb_vector_get_data(cv[1]);
		const duckdb_string_t *vs = duckdb_vector_get_data(cv[2]);
		const int64_t *ls = duckdb_vector_get_data(cv[3]);
		uint64_t *lvalid = duckdb_vector_get_validity(cv[3]);
		for (idx_t i = 0; i < rows && rc == 0; i++) {
			if (used * 2 >= cap) {
				/* Grow and rehash: the benchmark's C side may allocate. */
				size_t ncap = cap * 2;
				struct latest *nt = calloc(ncap, sizeof *nt);
				if (!nt) {
					rc = err_set(info, ERR_NOMEM, "scan: out of memory");
					break;
				}
				for (size_t k = 0; k < cap; k++) {
					if (!tab[k].id)
						continue;
					size_t h = (tab[k].id * 0x9E3779B97F4A7C15ull) & (ncap - 1);
					while (nt[h].id)
						h = (h + 1) & (ncap - 1);
					nt[h] = tab[k];
				}
				free(tab);
				tab = nt;
				cap = ncap;
			}
			size_t h = (ids[i] * 0x9E3779B97F4A7C15ull) & (cap - 1);
			while (tab[h].id && tab[h].id != ids[i])
				h = (h + 1) & (cap - 1);
			duckdb_string_t sv = vs[i];
			const char *vp = duckdb_string_is_inlined(sv) ? sv.value.inlined.inlined
								      : sv.value.pointer.ptr;
			int v = verdict_of(vp, sv.value.inlined.length);
			if (!tab[h].id) {
				tab[h] = (struct latest){ids[i], ts[i], (int8_t)v};
				used++;
			} else if (ts[i] >= tab[h].ts) {
				tab[h].ts = ts[i];
				tab[h].verdict = (int8_t)v;
			}
			if (!lvalid || duckdb_validity_row_is_valid(lvalid, i)) {
				if (nlat == latcap) {
					int64_t *nl = realloc(lat, latcap * 2 * sizeof *lat);
					if (!nl) {
						rc =
						    err_set(info, ERR_NOMEM, "scan: out of memory");
						break;
					}
					lat = nl;
					latcap *= 2;
				}
				lat[nlat++] = ls[i];
			}
		}
		duckdb_destroy_data_chunk(&ch);
		if (rc)
			goto cleanup;
	}
	for (size_t k = 0; k < cap; k++) {
		if (!tab[k].id)
			continue;
		out->opportunities++;
		if (tab[k].verdict >= 0)
			out->verdicts[tab[k].verdict]++;
	}
	out->hit_rate = out->opportunities ? (double)out->verdicts[STORE_VERDICT_EXECUTED] /
						 (double)out->opportunities
					   : NAN;
	struct store_metrics_quantiles *q = &out->latency[STORE_METRICS_DETECT];
	q->n = nlat;
	q->p50 = q->p90 = q->p99 = q->max = NAN;
	if (nlat) {
		qsort(lat, nlat, sizeof *lat, cmp_i64);
		q->p50 = quantile(lat, nlat, 0.5);
		q->p90 = quantile(lat, nlat, 0.9);
		q->p99 = quantile(lat, nlat, 0.99);
		q->max = (double)lat[nlat - 1];
	}
cleanup:
	free(tab);
	free(lat);
	duckdb_destroy_result(&res);
	return rc;
}

/* Every SQL statement the dashboard runs, in one place so that the ones
 * `arbitrade metrics` also needs can move to store/ unchanged. All are
 * aggregate or windowed queries over the append-only tables (schema in
 * store/store.h): an opportunity's state is its latest row by ts, an order's
 * its latest row per (opp_id, leg). Times are UTC (the reader's session). */
#include "web/web_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"

#define LATEST_OPPS                                                                                \
	"SELECT * FROM opportunities "                                                             \
	"QUALIFY row_number() OVER (PARTITION BY opp_id ORDER BY ts DESC, " STORE_SQL_VERDICT_RANK \
	" DESC) = 1"
#define LATEST_LEGS                                                                                \
	"SELECT * FROM trades "                                                                    \
	"QUALIFY row_number() OVER (PARTITION BY opp_id, leg ORDER BY ts DESC) = 1"
#define LATENCY_SAMPLES                                                                            \
	"SELECT 'detect' AS stage, detect_latency_ns AS ns FROM opportunities "                    \
	"WHERE detect_latency_ns IS NOT NULL "                                                     \
	"UNION ALL SELECT 'submit', submit_latency_ns FROM trades WHERE submit_latency_ns IS NOT " \
	"NULL "                                                                                    \
	"UNION ALL SELECT 'ack', ack_latency_ns FROM trades WHERE ack_latency_ns IS NOT NULL "     \
	"UNION ALL SELECT 'fill', fill_latency_ns FROM trades WHERE fill_latency_ns IS NOT NULL"

static const char *const sql[WEB_Q_COUNT] = {
    /* verdict, count: today's opportunities by their latest verdict */
    [WEB_Q_VERDICTS_TODAY] =
	"WITH o AS (" LATEST_OPPS ") SELECT verdict, count(*) AS n FROM o "
	"WHERE ts >= date_trunc('day', now()) GROUP BY verdict ORDER BY verdict",
    /* home_asset, cycles, realised, expected: today's executed cycles */
    [WEB_Q_PNL_TODAY] =
	"WITH c AS (SELECT opp_id, max(realised_profit) AS realised, max(expected_profit) AS "
	"expected FROM (" LATEST_LEGS ") WHERE ts >= date_trunc('day', now()) GROUP BY opp_id), "
	"h AS (SELECT opp_id, any_value(home_asset) AS home_asset FROM opportunities GROUP BY "
	"opp_id) "
	"SELECT coalesce(h.home_asset, '?') AS home_asset, count(*) AS cycles, sum(c.realised) AS "
	"realised, sum(c.expected) AS expected FROM c LEFT JOIN h USING (opp_id) GROUP BY 1 "
	"ORDER BY 1",
    /* ts, opp_id, cycle, n_legs, size, home_asset, expected_profit, bps,
     * net_rate, verdict, reason, detect_latency_ns; $1 cycle, $2 verdict
     * ('' = any) */
    [WEB_Q_OPPS] =
	"WITH o AS (" LATEST_OPPS ") SELECT strftime(ts, '%Y-%m-%d %H:%M:%S') AS ts, opp_id, "
	"cycle, n_legs, size, home_asset, expected_profit, round(expected_profit_bps, 2) AS bps, "
	"round(net_rate, 6) AS net_rate, verdict, reason, detect_latency_ns FROM o "
	"WHERE ($1 = '' OR cycle = $1) AND ($2 = '' OR verdict = $2) "
	"ORDER BY o.ts DESC, opp_id DESC LIMIT 200",
    /* cycle, n: the cycles seen, for the filter */
    [WEB_Q_CYCLES] = "SELECT cycle, count(DISTINCT opp_id) AS n FROM opportunities GROUP BY "
		     "cycle ORDER BY n DESC, cycle LIMIT 100",
    /* one row per leg of the latest 50 executed cycles, cycle columns
     * repeated: opp_id, started, cycle, mode, legs, filled, expected,
     * realised, leg, symbol, side, status, qty, filled_qty, avg_price, fee,
     * fee_asset, submit_latency_ns, reason */
    [WEB_Q_TRADES] =
	"WITH l AS (" LATEST_LEGS "), c AS (SELECT opp_id, min(ts) AS started, any_value(cycle) "
	"AS cycle, any_value(mode) AS mode, count(*) AS legs, count(*) FILTER (WHERE status = "
	"'filled') AS filled, max(expected_profit) AS expected, max(realised_profit) AS realised "
	"FROM l GROUP BY opp_id ORDER BY started DESC LIMIT 50) "
	"SELECT c.opp_id, strftime(c.started, '%Y-%m-%d %H:%M:%S') AS started, c.cycle, c.mode, "
	"c.legs, c.filled, c.expected, c.realised, l.leg, l.symbol, l.side, l.status, l.qty, "
	"l.filled_qty, l.avg_price, l.fee, l.fee_asset, l.submit_latency_ns, l.reason "
	"FROM c JOIN l USING (opp_id) ORDER BY c.started DESC, c.opp_id, l.leg",
    /* t (epoch seconds), home_asset, value: total portfolio value at each of
     * the latest 1000 snapshot times, each asset at its latest value as of
     * that time (assets are snapshotted at slightly different times) */
    [WEB_Q_PORTFOLIO] =
	"WITH p AS (SELECT ts, home_asset, asset, value_home FROM portfolio_snapshots WHERE "
	"value_home IS NOT NULL AND home_asset IS NOT NULL), "
	"t AS (SELECT DISTINCT ts, home_asset FROM p ORDER BY ts DESC LIMIT 1000), "
	"a AS (SELECT DISTINCT home_asset, asset FROM p), "
	"g AS (SELECT t.ts, t.home_asset, a.asset FROM t JOIN a USING (home_asset)) "
	"SELECT epoch(g.ts) AS t, g.home_asset, sum(p.value_home) AS value FROM g ASOF JOIN p "
	"ON g.home_asset = p.home_asset AND g.asset = p.asset AND g.ts >= p.ts "
	"GROUP BY g.ts, g.home_asset ORDER BY g.home_asset, g.ts",
    /* asset, balance, value_home, home_asset, ts: each asset's latest balance */
    [WEB_Q_BALANCES] =
	"SELECT asset, balance, value_home, home_asset, strftime(ts, '%Y-%m-%d %H:%M:%S') AS ts "
	"FROM portfolio_snapshots QUALIFY row_number() OVER (PARTITION BY asset ORDER BY ts DESC) "
	"= 1 ORDER BY asset",
    /* stage, n, p50, p90, p99, max (ns) */
    [WEB_Q_LATENCY] = "WITH s AS (" LATENCY_SAMPLES ") SELECT stage, count(*) AS n, "
		      "round(quantile_cont(ns, 0.5)) AS p50, round(quantile_cont(ns, 0.9)) AS "
		      "p90, round(quantile_cont(ns, 0.99)) AS p99, max(ns) AS max FROM s GROUP BY "
		      "stage ORDER BY stage",
    /* stage, b (bucket index into web_hist_bounds_ns, WEB_HIST_BUCKETS =
     * above the last), n */
    [WEB_Q_LATENCY_BUCKETS] =
	"WITH s AS (" LATENCY_SAMPLES ") SELECT stage, (SELECT count(*) FROM "
	"unnest([1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, "
	"2500000, 5000000, 10000000, 25000000, 100000000, 1000000000]) AS u(bound) WHERE "
	"s.ns > u.bound) AS b, count(*) AS n FROM s GROUP BY ALL ORDER BY stage, b",
    /* n: audit events in all */
    [WEB_Q_AUDIT_COUNT] = "SELECT count(*) AS n FROM audit_events",
    /* id, ts, mode, actor, action, detail; $1 offset */
    [WEB_Q_AUDIT] = "SELECT id, strftime(ts, '%Y-%m-%d %H:%M:%S') AS ts, mode, actor, action, "
		    "detail FROM audit_events ORDER BY id DESC LIMIT 50 OFFSET CAST($1 AS "
		    "BIGINT)",
};

_Static_assert(WEB_HIST_BUCKETS == 16, "WEB_Q_LATENCY_BUCKETS lists web_hist_bounds_ns");

const char *web__sql(enum web_query q)
{
	return q < WEB_Q_COUNT ? sql[q] : NULL;
}

int web__query(struct web *w, enum web_query q, const char *const *params, size_t nparams,
	       store_row_fn fn, void *ctx)
{
	struct err_info info = {0};
	char m[sizeof(info.msg) + 8];
	int rc;

	if (!w->reader)
		return ERR_BADSTATE;
	rc = nparams ? store_query_params(w->reader, sql[q], params, nparams, fn, ctx, &info)
		     : store_query(w->reader, sql[q], fn, ctx, &info);
	if (rc == ERR_DB || rc == ERR_INVALID)
		LOG_WARN_ERR("web", "query failed", rc, "query=%d detail=%s", (int)q,
			     log_q(m, sizeof(m), info.msg));
	return rc;
}

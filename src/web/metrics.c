/* GET /metrics: the snapshot in Prometheus text exposition format 0.0.4.
 * Counters end in _total, histograms are in seconds with cumulative
 * _bucket{le=...} lines, _sum and _count. */
#include "web/web_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const int64_t web_hist_bounds_ns[WEB_HIST_BUCKETS] = {
    1000,   2500,    5000,    10000,   25000,	 50000,	   100000,    250000,
    500000, 1000000, 2500000, 5000000, 10000000, 25000000, 100000000, 1000000000,
};

/* The edge of the hist bucket holding v: counts up to it are exact. */
static uint64_t edge(int64_t v)
{
	return hist_bucket_hi(hist_bucket_of((uint64_t)v));
}

void web__hist_buckets(const struct hist *h, double out[WEB_HIST_BUCKETS + 1])
{
	uint64_t prev = 0, c;
	size_t i;

	for (i = 0; i < WEB_HIST_BUCKETS; i++) {
		c = hist_count_le(h, edge(web_hist_bounds_ns[i]));
		out[i] = (double)(c - prev);
		prev = c;
	}
	out[WEB_HIST_BUCKETS] = (double)(h->count - prev);
}

static const char *const outcome_names[WEB_ORDER_OUTCOMES] = {
    "filled", "partially_filled", "canceled", "rejected", "expired", "failed",
};

static void help(struct web_buf *b, const char *name, const char *type, const char *text)
{
	web_buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void counter(struct web_buf *b, const char *name, const char *text, uint64_t v)
{
	help(b, name, "counter", text);
	web_buf_appendf(b, "%s %" PRIu64 "\n", name, v);
}

static void gauge(struct web_buf *b, const char *name, const char *text, double v)
{
	help(b, name, "gauge", text);
	web_buf_appendf(b, "%s %.17g\n", name, v);
}

static void hist(struct web_buf *b, const char *name, const char *text, const struct hist *h)
{
	uint64_t cum = 0;
	size_t i;

	help(b, name, "histogram", text);
	for (i = 0; i < WEB_HIST_BUCKETS; i++) {
		uint64_t le = edge(web_hist_bounds_ns[i]);

		cum = hist_count_le(h, le);
		web_buf_appendf(b, "%s_bucket{le=\"%.9g\"} %" PRIu64 "\n", name, (double)le / 1e9,
				cum);
	}
	web_buf_appendf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->count);
	web_buf_appendf(b, "%s_sum %.9f\n", name, (double)h->sum / 1e9);
	web_buf_appendf(b, "%s_count %" PRIu64 "\n", name, h->count);
}

/* A label value: backslash, quote and newline escaped. */
static void label(struct web_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			web_buf_appendf(b, "\\%c", *s);
		else if (*s == '\n')
			PUT(b, "\\n");
		else
			web_buf_append(b, s, 1);
	}
}

int web__route_metrics(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	struct web_snapshot s;
	struct web_buf *b = &resp->body;
	size_t i;

	(void)req;
	web__snapshot(w, &s);
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	counter(b, "arbitrade_messages_total", "WebSocket messages received", s.messages);
	counter(b, "arbitrade_parse_errors_total", "messages refused by the codecs",
		s.parse_errors);
	counter(b, "arbitrade_checksum_failures_total", "order book checksum mismatches",
		s.checksum_failures);
	counter(b, "arbitrade_reconnects_total", "market data reconnections", s.reconnects);
	counter(b, "arbitrade_opportunities_total", "opportunities detected", s.opportunities);
	counter(b, "arbitrade_cycles_executed_total", "cycles executed", s.cycles_executed);
	help(b, "arbitrade_orders_total", "counter", "orders by outcome");
	for (i = 0; i < WEB_ORDER_OUTCOMES; i++)
		web_buf_appendf(b, "arbitrade_orders_total{outcome=\"%s\"} %" PRIu64 "\n",
				outcome_names[i], s.orders[i]);
	counter(b, "arbitrade_dashboard_logins_failed_total", "failed dashboard logins",
		w->logins_failed);
	counter(b, "arbitrade_dashboard_logins_limited_total", "logins refused by the rate limit",
		w->logins_limited);
	counter(b, "arbitrade_dashboard_csrf_refused_total", "POSTs refused for their CSRF token",
		w->csrf_refused);
	help(b, "arbitrade_books", "gauge", "order books by state");
	web_buf_appendf(b, "arbitrade_books{state=\"live\"} %u\n", s.books_live);
	web_buf_appendf(b, "arbitrade_books{state=\"invalid\"} %u\n", s.books_invalid);
	web_buf_appendf(b, "arbitrade_books{state=\"stale\"} %u\n", s.books_stale);
	gauge(b, "arbitrade_feed_connected", "1 when the market data feed is connected",
	      s.feed_connected);
	gauge(b, "arbitrade_message_rate", "messages per second, recent", s.msg_rate);
	help(b, "arbitrade_trading_mode", "gauge", "1 for the current trading mode");
	web_buf_appendf(b, "arbitrade_trading_mode{mode=\"paper\"} %d\n", s.mode == TRADING_PAPER);
	web_buf_appendf(b, "arbitrade_trading_mode{mode=\"live\"} %d\n", s.mode == TRADING_LIVE);
	gauge(b, "arbitrade_paused", "1 while trading is paused", s.paused);
	gauge(b, "arbitrade_killed", "1 after the kill switch", s.killed);
	help(b, "arbitrade_balance", "gauge", "balance per asset");
	for (i = 0; i < s.n_balances && i < WEB_MAX_BALANCES; i++) {
		PUT(b, "arbitrade_balance{asset=\"");
		label(b, s.balances[i].asset);
		web_buf_appendf(b, "\"} %.17g\n", s.balances[i].amount);
	}
	hist(b, "arbitrade_hot_path_latency_seconds",
	     "frame arrival to decision on the market data thread", &s.hot_path);
	hist(b, "arbitrade_decision_to_order_latency_seconds", "decision to order sent",
	     &s.decision_to_order);
	return b->err;
}

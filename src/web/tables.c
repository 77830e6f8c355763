/* The table pages: opportunities (live, filtered), trades (cycles with their
 * legs), portfolio (value over time), latency (per stage) and the audit log
 * (paged). Each runs its queries from queries.c on the web thread's reader. */
#include "web/web_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V(i) (v[(i)] ? v[(i)] : "")

static const char *const verdicts[] = {"detected", "accepted", "rejected", "executed", "missed"};

static void td(struct web_buf *b, const char *cls, const char *s)
{
	if (cls)
		web_buf_appendf(b, "<td class=\"%s\">", cls);
	else
		PUT(b, "<td>");
	web__esc(b, s);
	PUT(b, "</td>");
}

static void td_dec(struct web_buf *b, const char *s)
{
	PUT(b, "<td class=\"num\">");
	web__esc_dec(b, s);
	PUT(b, "</td>");
}

static void td_ns(struct web_buf *b, const char *s)
{
	char t[32];

	PUT(b, "<td class=\"num\">");
	if (s) {
		web__fmt_ns(strtod(s, NULL), t, sizeof(t));
		web__esc(b, t);
	} else {
		PUT(b, "–");
	}
	PUT(b, "</td>");
}

static const char *db_note(struct web *w)
{
	return w->reader ? "" : "<p class=\"alert\">No database connection: tables are empty.</p>";
}

/* ---- opportunities ---- */

struct opp_ctx {
	struct web_buf *b;
	size_t n;
	const char *sel;
};

static int opp_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct opp_ctx *c = ctx;
	struct web_buf *b = c->b;

	(void)names;
	if (n < 12)
		return 0;
	c->n++;
	PUT(b, "<tr class=\"row-");
	web__esc(b, V(9));
	PUT(b, "\">");
	td(b, "nowrap", V(0));
	td(b, "num", V(1));
	td(b, NULL, V(2));
	td_dec(b, v[4]);
	PUT(b, "<td class=\"num\">");
	web__esc_dec(b, v[6]);
	PUT(b, " ");
	web__esc(b, V(5));
	PUT(b, "</td>");
	td(b, "num", V(7));
	td(b, "num", V(8));
	PUT(b, "<td><span class=\"verdict verdict-");
	web__esc(b, V(9));
	PUT(b, "\">");
	web__esc(b, V(9));
	PUT(b, "</span></td>");
	td(b, "muted", V(10));
	td_ns(b, v[11]);
	PUT(b, "</tr>");
	return 0;
}

/* Filters from the query string, checked: a verdict must be one we know,
 * a cycle only printable ASCII; anything else is ignored. */
static void opp_filters(const struct web_req *req, char *cycle, size_t ccap, char *verdict,
			size_t vcap)
{
	const char *c = web__req_arg(req, "cycle"), *v = web__req_arg(req, "verdict");
	size_t i;

	cycle[0] = verdict[0] = '\0';
	if (c && strlen(c) < ccap) {
		for (i = 0; c[i] && c[i] > 0x20 && c[i] < 0x7f; i++)
			;
		if (!c[i])
			snprintf(cycle, ccap, "%s", c);
	}
	for (i = 0; v && i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
		if (strcmp(v, verdicts[i]) == 0)
			snprintf(verdict, vcap, "%s", v);
}

static int opp_table(struct web *w, const char *cycle, const char *verdict, struct web_buf *b)
{
	const char *params[] = {cycle, verdict};
	struct opp_ctx c = {.b = b};

	PUT(b, "<table class=\"grid\" id=\"opp-table\"><thead><tr><th>Time (UTC)</th><th>Id</th>"
	       "<th>Cycle</th><th class=\"num\">Size</th><th class=\"num\">Expected profit</th>"
	       "<th class=\"num\">bps</th><th class=\"num\">Net rate</th><th>Verdict</th>"
	       "<th>Reason</th><th class=\"num\">Detect</th></tr></thead><tbody>");
	web__query(w, WEB_Q_OPPS, params, 2, opp_row, &c);
	if (c.n == 0)
		PUT(b, "<tr><td colspan=\"10\" class=\"muted\">no opportunities match</td></tr>");
	PUT(b, "</tbody></table>");
	return b->err;
}

static int cycle_opt(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct opp_ctx *c = ctx;

	(void)names;
	if (n < 2 || !v[0])
		return 0;
	PUT(c->b, "<option value=\"");
	web__esc(c->b, v[0]);
	web_buf_appendf(c->b, "\"%s>", strcmp(v[0], c->sel) == 0 ? " selected" : "");
	web__esc(c->b, v[0]);
	PUT(c->b, " (");
	web__esc(c->b, v[1]);
	PUT(c->b, ")</option>");
	return 0;
}

int web__route_opps(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	char cycle[STORE_CYCLE_LEN], verdict[16];
	struct web_buf table, cyc, vsel;
	struct opp_ctx c = {.b = &cyc};
	size_t i;
	int rc;

	opp_filters(req, cycle, sizeof(cycle), verdict, sizeof(verdict));
	web__buf_init(&table, WEB_MAX_RESPONSE);
	web__buf_init(&cyc, 256 * 1024);
	web__buf_init(&vsel, 4096);
	c.sel = cycle;
	PUT(&cyc, "<option value=\"\">any cycle</option>");
	web__query(w, WEB_Q_CYCLES, NULL, 0, cycle_opt, &c);
	PUT(&vsel, "<option value=\"\">any verdict</option>");
	for (i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++)
		web_buf_appendf(&vsel, "<option value=\"%s\"%s>%s</option>", verdicts[i],
				strcmp(verdict, verdicts[i]) == 0 ? " selected" : "", verdicts[i]);
	opp_table(w, cycle, verdict, &table);
	const struct web_tpl_var vars[] = {
	    {"cycles", cyc.data},
	    {"verdicts", vsel.data},
	    {"table", table.data},
	    {"db_note", db_note(w)},
	};
	rc = web__render_page(w, resp, "opportunities.html", "Opportunities", vars,
			      sizeof(vars) / sizeof(vars[0]));
	web__buf_release(&table);
	web__buf_release(&cyc);
	web__buf_release(&vsel);
	return rc;
}

int web__route_opps_part(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	char cycle[STORE_CYCLE_LEN], verdict[16];

	opp_filters(req, cycle, sizeof(cycle), verdict, sizeof(verdict));
	resp->content_type = "text/html; charset=utf-8";
	return opp_table(w, cycle, verdict, &resp->body);
}

/* ---- trades ---- */

struct trade_ctx {
	struct web_buf *b;
	char last[32];
	size_t n;
};

static int trade_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct trade_ctx *c = ctx;
	struct web_buf *b = c->b;

	(void)names;
	if (n < 19)
		return 0;
	if (strcmp(c->last, V(0)) != 0) {
		snprintf(c->last, sizeof(c->last), "%s", V(0));
		c->n++;
		PUT(b, "<tr class=\"cycle-row\"><td class=\"nowrap\">");
		web__esc(b, V(1));
		PUT(b, "</td><td class=\"num\">");
		web__esc(b, V(0));
		PUT(b, "</td><td colspan=\"3\"><strong>");
		web__esc(b, V(2));
		PUT(b, "</strong> <span class=\"muted\">");
		web__esc(b, V(3));
		PUT(b, " · ");
		web__esc(b, V(5));
		PUT(b, "/");
		web__esc(b, V(4));
		PUT(b, " legs filled</span></td><td colspan=\"3\">expected ");
		web__esc_dec(b, v[6]);
		PUT(b, " · realised <strong>");
		web__esc_dec(b, v[7]);
		PUT(b, "</strong></td><td colspan=\"3\"></td></tr>");
	}
	PUT(b, "<tr class=\"leg-row\"><td></td>");
	web_buf_appendf(b, "<td class=\"num muted\">leg %s</td>", V(8));
	td(b, NULL, V(9));
	td(b, NULL, V(10));
	td(b, NULL, V(11));
	td_dec(b, v[12]);
	td_dec(b, v[13]);
	td_dec(b, v[14]);
	PUT(b, "<td class=\"num\">");
	web__esc_dec(b, v[15]);
	PUT(b, " ");
	web__esc(b, V(16));
	PUT(b, "</td>");
	td_ns(b, v[17]);
	td(b, "muted", V(18));
	PUT(b, "</tr>");
	return 0;
}

int web__route_trades(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	struct web_buf b;
	struct trade_ctx c = {.b = &b};
	int rc;

	(void)req;
	web__buf_init(&b, WEB_MAX_RESPONSE);
	PUT(&b, "<table class=\"grid\" id=\"trades-table\"><thead><tr><th>Started (UTC)</th>"
		"<th>Id / leg</th><th>Pair</th><th>Side</th><th>Status</th><th class=\"num\">Qty"
		"</th><th class=\"num\">Filled</th><th class=\"num\">Avg price</th><th "
		"class=\"num\">Fee</th><th class=\"num\">Submit</th><th>Reason</th></tr></thead>"
		"<tbody>");
	web__query(w, WEB_Q_TRADES, NULL, 0, trade_row, &c);
	if (c.n == 0)
		PUT(&b, "<tr><td colspan=\"11\" class=\"muted\">no trades yet</td></tr>");
	PUT(&b, "</tbody></table>");
	const struct web_tpl_var vars[] = {{"table", b.data}, {"db_note", db_note(w)}};
	rc = web__render_page(w, resp, "trades.html", "Trades", vars, 2);
	web__buf_release(&b);
	return rc;
}

/* ---- portfolio ---- */

#define MAX_POINTS 1000
#define MAX_SERIES 4

struct series {
	char home[STORE_ASSET_LEN];
	struct web_point *pts;
	size_t n;
};

struct port_ctx {
	struct series s[MAX_SERIES];
	size_t ns;
	struct web_point pool[MAX_SERIES][MAX_POINTS];
};

static int port_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct port_ctx *c = ctx;
	struct series *s = NULL;
	size_t i;

	(void)names;
	if (n < 3 || !v[0] || !v[2])
		return 0;
	for (i = 0; i < c->ns && !s; i++)
		if (strcmp(c->s[i].home, V(1)) == 0)
			s = &c->s[i];
	if (!s) {
		if (c->ns == MAX_SERIES)
			return 0;
		s = &c->s[c->ns];
		snprintf(s->home, sizeof(s->home), "%s", V(1));
		s->pts = c->pool[c->ns++];
	}
	if (s->n < MAX_POINTS) {
		s->pts[s->n].x = strtod(v[0], NULL);
		s->pts[s->n].y = strtod(v[2], NULL);
		s->n++;
	}
	return 0;
}

static int bal_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct web_buf *b = ctx;

	(void)names;
	if (n < 5)
		return 0;
	PUT(b, "<tr>");
	td(b, NULL, V(0));
	td_dec(b, v[1]);
	PUT(b, "<td class=\"num\">");
	web__esc_dec(b, v[2]);
	PUT(b, " ");
	web__esc(b, V(3));
	PUT(b, "</td>");
	td(b, "muted", V(4));
	PUT(b, "</tr>");
	return 0;
}

int web__route_portfolio(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	struct port_ctx *c = calloc(1, sizeof(*c));
	struct web_buf charts, bal;
	size_t i;
	int rc;

	(void)req;
	if (!c)
		return ERR_NOMEM;
	web__buf_init(&charts, WEB_MAX_RESPONSE);
	web__buf_init(&bal, WEB_MAX_RESPONSE);
	web__query(w, WEB_Q_PORTFOLIO, NULL, 0, port_row, c);
	for (i = 0; i < c->ns; i++) {
		char label[64];

		snprintf(label, sizeof(label), "Portfolio value in %s", c->s[i].home);
		PUT(&charts, "<figure><figcaption>");
		web__esc(&charts, label);
		PUT(&charts, "</figcaption>");
		web__svg_line(&charts, label, c->s[i].pts, c->s[i].n, c->s[i].home);
		PUT(&charts, "</figure>");
	}
	if (c->ns == 0)
		web__svg_line(&charts, "Portfolio value", NULL, 0, "");
	PUT(&bal, "<table class=\"grid\"><thead><tr><th>Asset</th><th class=\"num\">Balance</th>"
		  "<th class=\"num\">Value</th><th>As of (UTC)</th></tr></thead><tbody>");
	i = bal.len;
	web__query(w, WEB_Q_BALANCES, NULL, 0, bal_row, &bal);
	if (bal.len == i)
		PUT(&bal, "<tr><td colspan=\"4\" class=\"muted\">no snapshots yet</td></tr>");
	PUT(&bal, "</tbody></table>");
	const struct web_tpl_var vars[] = {
	    {"charts", charts.data}, {"balances", bal.data}, {"db_note", db_note(w)}};
	rc = web__render_page(w, resp, "portfolio.html", "Portfolio", vars, 3);
	web__buf_release(&charts);
	web__buf_release(&bal);
	free(c);
	return rc;
}

/* ---- latency ---- */

#define STAGES 4

struct lat_ctx {
	struct web_buf *b;
	size_t n;
	char stage[STAGES][16];
	double bucket[STAGES][WEB_HIST_BUCKETS + 1];
	size_t nstages;
};

static int lat_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct lat_ctx *c = ctx;

	(void)names;
	if (n < 6)
		return 0;
	c->n++;
	PUT(c->b, "<tr>");
	td(c->b, NULL, V(0));
	td(c->b, "num", V(1));
	td_ns(c->b, v[2]);
	td_ns(c->b, v[3]);
	td_ns(c->b, v[4]);
	td_ns(c->b, v[5]);
	PUT(c->b, "</tr>");
	return 0;
}

static int lat_bucket(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct lat_ctx *c = ctx;
	size_t i, b;

	(void)names;
	if (n < 3 || !v[0] || !v[1])
		return 0;
	for (i = 0; i < c->nstages; i++)
		if (strcmp(c->stage[i], v[0]) == 0)
			break;
	if (i == c->nstages) {
		if (c->nstages == STAGES)
			return 0;
		snprintf(c->stage[c->nstages++], sizeof(c->stage[0]), "%s", v[0]);
	}
	b = (size_t)strtoul(v[1], NULL, 10);
	if (b <= WEB_HIST_BUCKETS)
		c->bucket[i][b] += strtod(V(2), NULL);
	return 0;
}

/* Short labels, so that every bar of the chart can carry one. */
static void bucket_names(char names[WEB_HIST_BUCKETS + 1][24], const char *ptrs[])
{
	size_t i;

	for (i = 0; i < WEB_HIST_BUCKETS; i++) {
		double ns = (double)web_hist_bounds_ns[i];

		if (ns < 1e6)
			snprintf(names[i], 24, "%gµs", ns / 1e3);
		else if (ns < 1e9)
			snprintf(names[i], 24, "%gms", ns / 1e6);
		else
			snprintf(names[i], 24, "%gs", ns / 1e9);
		ptrs[i] = names[i];
	}
	snprintf(names[WEB_HIST_BUCKETS], 24, ">1s");
	ptrs[WEB_HIST_BUCKETS] = names[WEB_HIST_BUCKETS];
}

static void hist_chart(struct web_buf *b, const char *label, const struct hist *h,
		       const char *const *names)
{
	double vals[WEB_HIST_BUCKETS + 1];

	web__hist_buckets(h, vals);
	PUT(b, "<figure><figcaption>");
	web__esc(b, label);
	web_buf_appendf(b, " <span class=\"muted\">(%" PRIu64 " samples", h->count);
	if (h->count) {
		char t[32], p50[32], p99[32];

		web__fmt_ns(hist_mean(h), t, sizeof(t));
		web__fmt_ns((double)hist_quantile(h, 0.5), p50, sizeof(p50));
		web__fmt_ns((double)hist_quantile(h, 0.99), p99, sizeof(p99));
		web_buf_appendf(b, ", mean %s, p50 %s, p99 %s", t, p50, p99);
	}
	PUT(b, ")</span></figcaption>");
	web__svg_bars(b, label, names, vals, WEB_HIST_BUCKETS + 1);
	PUT(b, "</figure>");
}

int web__route_latency(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	struct lat_ctx *c = calloc(1, sizeof(*c));
	struct web_buf table, charts;
	struct web_snapshot s;
	char names[WEB_HIST_BUCKETS + 1][24];
	const char *ptrs[WEB_HIST_BUCKETS + 1];
	size_t i;
	int rc;

	(void)req;
	if (!c)
		return ERR_NOMEM;
	bucket_names(names, ptrs);
	web__buf_init(&table, WEB_MAX_RESPONSE);
	web__buf_init(&charts, WEB_MAX_RESPONSE);
	c->b = &table;
	PUT(&table, "<table class=\"grid\" id=\"latency-table\"><thead><tr><th>Stage</th><th "
		    "class=\"num\">Samples</th><th class=\"num\">p50</th><th class=\"num\">p90</th>"
		    "<th class=\"num\">p99</th><th class=\"num\">Max</th></tr></thead><tbody>");
	web__query(w, WEB_Q_LATENCY, NULL, 0, lat_row, c);
	if (c->n == 0)
		PUT(&table,
		    "<tr><td colspan=\"6\" class=\"muted\">no latencies recorded yet</td></tr>");
	PUT(&table, "</tbody></table>");
	web__query(w, WEB_Q_LATENCY_BUCKETS, NULL, 0, lat_bucket, c);
	web__snapshot(w, &s);
	hist_chart(&charts, "Hot path: frame to decision (this run)", &s.hot_path, ptrs);
	hist_chart(&charts, "Decision to order sent (this run)", &s.decision_to_order, ptrs);
	for (i = 0; i < c->nstages; i++) {
		char label[64];

		snprintf(label, sizeof(label), "Stage %s (recorded)", c->stage[i]);
		PUT(&charts, "<figure><figcaption>");
		web__esc(&charts, label);
		PUT(&charts, "</figcaption>");
		web__svg_bars(&charts, label, ptrs, c->bucket[i], WEB_HIST_BUCKETS + 1);
		PUT(&charts, "</figure>");
	}
	const struct web_tpl_var vars[] = {
	    {"table", table.data}, {"charts", charts.data}, {"db_note", db_note(w)}};
	rc = web__render_page(w, resp, "latency.html", "Latency", vars, 3);
	web__buf_release(&table);
	web__buf_release(&charts);
	free(c);
	return rc;
}

/* ---- audit ---- */

#define AUDIT_PAGE 50

static int count_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	(void)names;
	if (n >= 1 && v[0])
		*(uint64_t *)ctx = strtoull(v[0], NULL, 10);
	return 0;
}

static int audit_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct web_buf *b = ctx;

	(void)names;
	if (n < 6)
		return 0;
	PUT(b, "<tr>");
	td(b, "num", V(0));
	td(b, "nowrap", V(1));
	td(b, NULL, V(2));
	td(b, NULL, V(3));
	td(b, NULL, V(4));
	td(b, "detail", V(5));
	PUT(b, "</tr>");
	return 0;
}

int web__route_audit(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	const char *ps = web__req_arg(req, "page");
	uint64_t page = 0, total = 0, pages;
	char off[24], pager[512];
	const char *params[] = {off};
	struct web_buf b;
	size_t before;
	int rc;

	if (ps) {
		char *end = NULL;
		unsigned long long p = strtoull(ps, &end, 10);

		if (end && !*end && ps[0] >= '0' && ps[0] <= '9' && p < 1000000)
			page = p;
	}
	web__query(w, WEB_Q_AUDIT_COUNT, NULL, 0, count_row, &total);
	pages = total ? (total + AUDIT_PAGE - 1) / AUDIT_PAGE : 1;
	if (page >= pages)
		page = pages - 1;
	snprintf(off, sizeof(off), "%" PRIu64, page * AUDIT_PAGE);
	web__buf_init(&b, WEB_MAX_RESPONSE);
	PUT(&b, "<table class=\"grid\" id=\"audit-table\"><thead><tr><th>Id</th><th>Time (UTC)"
		"</th><th>Mode</th><th>Actor</th><th>Action</th><th>Detail</th></tr></thead>"
		"<tbody>");
	before = b.len;
	web__query(w, WEB_Q_AUDIT, params, 1, audit_row, &b);
	if (b.len == before)
		PUT(&b, "<tr><td colspan=\"6\" class=\"muted\">no events</td></tr>");
	PUT(&b, "</tbody></table>");
	snprintf(pager, sizeof(pager),
		 "%s%" PRIu64 "%s <span>page %" PRIu64 " of %" PRIu64 " · %" PRIu64
		 " events</span> %s%" PRIu64 "%s",
		 page ? "<a rel=\"prev\" href=\"/audit?page=" : "<!--", page ? page - 1 : 0,
		 page ? "\">← newer</a>" : "-->", page + 1, pages, total,
		 page + 1 < pages ? "<a rel=\"next\" href=\"/audit?page=" : "<!--", page + 1,
		 page + 1 < pages ? "\">older →</a>" : "-->");
	const struct web_tpl_var vars[] = {
	    {"table", b.data}, {"pager", pager}, {"db_note", db_note(w)}};
	rc = web__render_page(w, resp, "audit.html", "Audit log", vars, 3);
	web__buf_release(&b);
	return rc;
}

/* The layout and the overview page with its controls. Tables and charts are
 * HTML the server renders from query rows (every value escaped) and hands to
 * the templates as raw fragments. */
#include "web/web_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static const struct {
	const char *path, *title;
} nav[] = {
    {"/", "Overview"},	     {"/opportunities", "Opportunities"},
    {"/trades", "Trades"},   {"/portfolio", "Portfolio"},
    {"/latency", "Latency"}, {"/audit", "Audit log"},
};

void web__esc(struct web_buf *b, const char *s)
{
	if (s)
		web__buf_html(b, s, strlen(s));
}

void web__esc_dec(struct web_buf *b, const char *s)
{
	char t[64];

	if (!s) {
		web_buf_append(b, "–", strlen("–"));
		return;
	}
	web__trim_decimal(s, t, sizeof(t));
	web__esc(b, t);
}

void web__snapshot(struct web *w, struct web_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	out->mode = w->mode;
	if (w->snapshot)
		w->snapshot(w->ctx, out);
	out->exchange_status[sizeof(out->exchange_status) - 1] = '\0';
	out->home_asset[sizeof(out->home_asset) - 1] = '\0';
	if (out->n_balances > WEB_MAX_BALANCES)
		out->n_balances = WEB_MAX_BALANCES;
}

static void render_nav(struct web_buf *b, const char *title)
{
	size_t i;

	for (i = 0; i < sizeof(nav) / sizeof(nav[0]); i++)
		web_buf_appendf(b, "<a href=\"%s\"%s>%s</a>", nav[i].path,
				strcmp(nav[i].title, title) == 0 ? " aria-current=\"page\"" : "",
				nav[i].title);
}

int web__render_page(struct web *w, struct web_resp *resp, const char *page, const char *title,
		     const struct web_tpl_var *vars, size_t nvars)
{
	struct err_info info = {0};
	struct web_buf content, navb;
	struct web_snapshot snap;
	char q[sizeof(info.msg) + 8];
	int rc;

	web__snapshot(w, &snap);
	web__buf_init(&content, WEB_MAX_RESPONSE);
	web__buf_init(&navb, 4096);
	render_nav(&navb, title);
	rc = web__tpl_render(w->tpl, page, vars, nvars, &content, &info);
	if (rc == 0) {
		const struct web_tpl_var lvars[] = {
		    {"title", title},
		    {"mode", config_mode_name(snap.mode)},
		    {"version", ARB_VERSION},
		    {"content", content.data},
		    {"nav", navb.data},
		    {"user", w->cur ? w->cur->user : ""},
		    {"csrf", w->cur ? w->cur->csrf : ""},
		    {"logout_hidden", w->auth_on ? "" : "hidden"},
		};
		resp->content_type = "text/html; charset=utf-8";
		rc = web__tpl_render(w->tpl, "layout.html", lvars, sizeof(lvars) / sizeof(lvars[0]),
				     &resp->body, &info);
	}
	web__buf_release(&content);
	web__buf_release(&navb);
	if (rc)
		LOG_ERROR_ERR("web", "render failed", rc, "page=%s detail=%s", page,
			      log_q(q, sizeof(q), info.msg));
	return rc;
}

int web__message(struct web *w, struct web_resp *resp, unsigned status, const char *title,
		 const char *text)
{
	const struct web_tpl_var vars[] = {{"heading", title}, {"message", text}};
	int rc = web__render_page(w, resp, "message.html", title, vars, 2);

	resp->status = status;
	return rc;
}

/* ---- overview ---- */

struct today {
	struct web_buf *verdicts, *pnl;
	uint64_t opps, cycles;
};

static int verdict_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct today *t = ctx;

	(void)names;
	if (n < 2)
		return 0;
	t->opps += strtoull(v[1] ? v[1] : "0", NULL, 10);
	web_buf_appendf(t->verdicts, "%s<span class=\"verdict verdict-",
			t->verdicts->len ? " " : "");
	web__esc(t->verdicts, v[0]);
	PUT(t->verdicts, "\">");
	web__esc(t->verdicts, v[0]);
	PUT(t->verdicts, " ");
	web__esc(t->verdicts, v[1]);
	PUT(t->verdicts, "</span>");
	return 0;
}

static int pnl_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct today *t = ctx;

	(void)names;
	if (n < 4)
		return 0;
	t->cycles += strtoull(v[1] ? v[1] : "0", NULL, 10);
	if (t->pnl->len)
		PUT(t->pnl, "<br>");
	web__esc_dec(t->pnl, v[2]);
	PUT(t->pnl, " ");
	web__esc(t->pnl, v[0]);
	PUT(t->pnl, " <span class=\"muted\">(expected ");
	web__esc_dec(t->pnl, v[3]);
	PUT(t->pnl, ")</span>");
	return 0;
}

static int balance_row(void *ctx, size_t n, const char *const *names, const char *const *v)
{
	struct web_buf *b = ctx;

	(void)names;
	if (n < 5)
		return 0;
	PUT(b, "<tr><td>");
	web__esc(b, v[0]);
	PUT(b, "</td><td class=\"num\">");
	web__esc_dec(b, v[1]);
	PUT(b, "</td><td class=\"num\">");
	web__esc_dec(b, v[2]);
	PUT(b, " ");
	web__esc(b, v[3]);
	PUT(b, "</td><td class=\"muted\">");
	web__esc(b, v[4]);
	PUT(b, "</td></tr>");
	return 0;
}

static void balances_html(struct web *w, const struct web_snapshot *s, struct web_buf *b)
{
	size_t i, before;

	PUT(b, "<table class=\"grid\"><thead><tr><th>Asset</th><th class=\"num\">Balance</th>"
	       "<th class=\"num\">Value</th><th>As of</th></tr></thead><tbody>");
	before = b->len;
	for (i = 0; i < s->n_balances; i++) {
		PUT(b, "<tr><td>");
		web__esc(b, s->balances[i].asset);
		web_buf_appendf(b, "</td><td class=\"num\">%.8g</td><td class=\"num\">",
				s->balances[i].amount);
		if (isfinite(s->balances[i].value_home))
			web_buf_appendf(b, "%.2f ", s->balances[i].value_home);
		else
			PUT(b, "– ");
		web__esc(b, s->home_asset);
		PUT(b, "</td><td class=\"muted\">now</td></tr>");
	}
	if (s->n_balances == 0)
		web__query(w, WEB_Q_BALANCES, NULL, 0, balance_row, b);
	if (b->len == before)
		PUT(b, "<tr><td colspan=\"4\" class=\"muted\">no balances yet</td></tr>");
	PUT(b, "</tbody></table>");
}

static int render_overview_part(struct web *w, struct web_buf *out)
{
	struct web_snapshot s;
	struct web_buf verdicts, pnl, bal;
	struct today t = {.verdicts = &verdicts, .pnl = &pnl};
	struct err_info info = {0};
	char books[64], checks[24], recon[24], rate[24], perr[24], opps[24], cycles[24], msgs[24];
	const char *state, *db;
	int rc;

	web__snapshot(w, &s);
	web__buf_init(&verdicts, 64 * 1024);
	web__buf_init(&pnl, 64 * 1024);
	web__buf_init(&bal, 256 * 1024);
	web__query(w, WEB_Q_VERDICTS_TODAY, NULL, 0, verdict_row, &t);
	web__query(w, WEB_Q_PNL_TODAY, NULL, 0, pnl_row, &t);
	balances_html(w, &s, &bal);
	db = !w->reader ? "no database" : w->db_ping(w->ctx) == 0 ? "ok" : "unreachable";
	state = s.killed ? "killed" : s.paused ? "paused" : "running";
	snprintf(books, sizeof(books), "%u live · %u invalid · %u stale", s.books_live,
		 s.books_invalid, s.books_stale);
	snprintf(checks, sizeof(checks), "%" PRIu64, s.checksum_failures);
	snprintf(recon, sizeof(recon), "%" PRIu64, s.reconnects);
	snprintf(rate, sizeof(rate), "%.1f/s", s.msg_rate);
	snprintf(perr, sizeof(perr), "%" PRIu64, s.parse_errors);
	snprintf(msgs, sizeof(msgs), "%" PRIu64, s.messages);
	snprintf(opps, sizeof(opps), "%" PRIu64, t.opps);
	snprintf(cycles, sizeof(cycles), "%" PRIu64, t.cycles);
	const struct web_tpl_var vars[] = {
	    {"mode", config_mode_name(s.mode)},
	    {"state", state},
	    {"exchange", s.exchange_status[0] ? s.exchange_status : "unknown"},
	    {"feed", s.feed_connected ? "connected" : "disconnected"},
	    {"books", books},
	    {"checksum_failures", checks},
	    {"reconnects", recon},
	    {"msg_rate", rate},
	    {"messages", msgs},
	    {"parse_errors", perr},
	    {"opps_today", opps},
	    {"verdicts_today", verdicts.len ? verdicts.data : ""},
	    {"trades_today", cycles},
	    {"pnl_today", pnl.len ? pnl.data : "–"},
	    {"balances", bal.data},
	    {"database", db},
	};
	rc = web__tpl_render(w->tpl, "overview_part.html", vars, sizeof(vars) / sizeof(vars[0]),
			     out, &info);
	web__buf_release(&verdicts);
	web__buf_release(&pnl);
	web__buf_release(&bal);
	return rc;
}

static void csrf_field(struct web *w, struct web_buf *b)
{
	PUT(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	web__esc(b, w->cur ? w->cur->csrf : "");
	PUT(b, "\">");
}

static void controls_html(struct web *w, struct web_buf *b)
{
	struct web_snapshot s;

	web__snapshot(w, &s);
	if (s.killed) {
		PUT(b, "<p class=\"alert\" role=\"alert\">Kill switch engaged: trading is stopped "
		       "until the bot is restarted.</p>");
	} else {
		web_buf_appendf(b, "<form method=\"post\" action=\"/control/%s\" class=\"inline\">",
				s.paused ? "resume" : "pause");
		csrf_field(w, b);
		web_buf_appendf(b,
				"<button type=\"submit\" id=\"btn-%s\">%s trading</button></form>",
				s.paused ? "resume" : "pause", s.paused ? "Resume" : "Pause");
		PUT(b, "<form method=\"post\" action=\"/control/kill\" class=\"inline\">");
		csrf_field(w, b);
		PUT(b, "<label>Type KILL to confirm <input name=\"confirm\" autocomplete=\"off\" "
		       "size=\"6\" required pattern=\"KILL\"></label> <button type=\"submit\" "
		       "class=\"danger\" id=\"btn-kill\">Kill switch</button></form>");
	}
	PUT(b, "<form method=\"post\" action=\"/control/mode\" class=\"mode-form\">");
	csrf_field(w, b);
	if (s.mode == TRADING_LIVE) {
		PUT(b,
		    "<input type=\"hidden\" name=\"mode\" value=\"paper\"><button type=\"submit\" "
		    "id=\"btn-paper\">Switch to paper</button>");
	} else if (s.live_available) {
		PUT(b,
		    "<input type=\"hidden\" name=\"mode\" value=\"live\"><label>Type LIVE to "
		    "trade real money <input name=\"confirm\" autocomplete=\"off\" size=\"6\" "
		    "required pattern=\"LIVE\"></label> <button type=\"submit\" class=\"danger\" "
		    "id=\"btn-live\">Switch to live</button>");
	} else {
		PUT(b, "<span class=\"muted\">Live trading is unavailable: no Kraken API "
		       "credentials are configured.</span>");
	}
	PUT(b, "</form>");
}

static int overview(struct web *w, struct web_resp *resp)
{
	struct web_buf part, ctl;
	int rc;

	web__buf_init(&part, WEB_MAX_RESPONSE);
	web__buf_init(&ctl, 64 * 1024);
	rc = render_overview_part(w, &part);
	controls_html(w, &ctl);
	if (rc == 0) {
		const struct web_tpl_var vars[] = {
		    {"overview", part.data},
		    {"controls", ctl.data},
		};
		rc = web__render_page(w, resp, "index.html", "Overview", vars, 2);
	}
	web__buf_release(&part);
	web__buf_release(&ctl);
	return rc;
}

int web__route_overview(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	(void)req;
	return overview(w, resp);
}

int web__route_overview_part(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	(void)req;
	resp->content_type = "text/html; charset=utf-8";
	return render_overview_part(w, &resp->body);
}

/* ---- controls ---- */

int web__route_control(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	const char *what = req->path + strlen("/control/");
	char actor[WEB_USER_LEN + 16], field[16];
	const char *body = req->body.data;
	size_t blen = req->body.len;
	int rc = 0;

	snprintf(actor, sizeof(actor), "operator:%s", w->cur->user);
	if (strcmp(what, "pause") == 0 || strcmp(what, "resume") == 0) {
		if (!w->pause)
			return web__message(w, resp, 501, "Not available",
					    "Pausing is not wired in this process.");
		rc = w->pause(w->ctx, what[0] == 'p', actor);
	} else if (strcmp(what, "kill") == 0) {
		if (!w->kill)
			return web__message(w, resp, 501, "Not available",
					    "The kill switch is not wired in this process.");
		if (web__form_get(body, blen, "confirm", field, sizeof(field)) < 0 ||
		    strcmp(field, "KILL") != 0)
			return web__message(w, resp, 400, "Not confirmed",
					    "Type KILL to confirm the kill switch.");
		rc = w->kill(w->ctx, actor);
	} else if (strcmp(what, "mode") == 0) {
		enum trading_mode m;
		const char *why;

		if (!w->set_mode)
			return web__message(w, resp, 501, "Not available",
					    "Switching modes is not wired in this process.");
		if (web__form_get(body, blen, "mode", field, sizeof(field)) < 0 ||
		    (strcmp(field, "paper") != 0 && strcmp(field, "live") != 0))
			return web__message(w, resp, 400, "Bad request",
					    "mode must be paper or live.");
		m = field[0] == 'l' ? TRADING_LIVE : TRADING_PAPER;
		if (m == TRADING_LIVE &&
		    (web__form_get(body, blen, "confirm", field, sizeof(field)) < 0 ||
		     strcmp(field, "LIVE") != 0))
			return web__message(w, resp, 400, "Not confirmed",
					    "Type LIVE to switch to live trading with real money.");
		why = w->set_mode(w->ctx, m, actor);
		if (why)
			return web__message(w, resp, 409, "Mode not changed", why);
	} else {
		web__resp_text(resp, 404, "not found");
		return 0;
	}
	if (rc == ERR_BADSTATE)
		return web__message(w, resp, 409, "Refused",
				    "The kill switch is engaged; restart the bot to trade again.");
	if (rc)
		return rc;
	{
		char q[WEB_USER_LEN + 8];

		LOG_INFO("web", "operator action", "action=%s user=%s", what,
			 log_q(q, sizeof(q), w->cur->user));
	}
	web__resp_text(resp, 303, "done: /");
	web__resp_header(resp, "Location", "/");
	return 0;
}

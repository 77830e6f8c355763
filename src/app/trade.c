/* The execution thread of `arbitrade run`: it owns the venue (paper, or live
 * with TRADING_MODE=live) and the sequencer, and writes what they do.
 *
 * Start: wait for the md thread's first universe (pipe_int.h: uni), create
 * the venue and the sequencer with it, exec_reconcile the journal next to the
 * database (retried every 2 s while the venue cannot tell), publish the
 * balances, then set p->exec so the md thread may submit.
 *
 * Loop: exec_poll (kill switch, venue reports, legs, the next opportunity);
 * after a cycle, the opportunity's final row; every 250 ms the balances
 * (for risk and the detector), the decision->order histogram and the
 * counters; every 60 s a portfolio snapshot.
 *
 * Final verdicts: the md thread pushes a copy of every submitted
 * opportunity to p->pending in submission order; exec's sink names each one
 * it picks up ("cycle_accepted" or "cycle_rejected", one per opportunity, in
 * the same order), so the copy is found by popping up to its opp_id. */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/pipe_int.h"
#include "core/fixed.h"
#include "core/log.h"
#include "exec/live.h"
#include "kraken/rest.h"
#include "kraken/sign.h"
#include "replay/replay.h"

#define PUBLISH_NS   (250ull * 1000000ull)
#define PORTFOLIO_NS (60ull * 1000000000ull)
#define RECONCILE_NS (2000ull * 1000000ull)
/* Busy-poll this long after the last thing done: legs follow reports and
 * opportunities come in bursts, and a sleeping thread takes tens of
 * microseconds to wake. Then sleep in poll() for at most SLEEP_MS, unless
 * EXEC_BUSY_POLL (never sleep: a core of its own). */
#define SPIN_NS (50ull * 1000000ull)
/* EXEC_BUSY_POLL: how often an idle execution thread rehearses an order
 * (exec_warm: about a microsecond each time, a few % of its core). */
#define WARM_NS	    (20ull * 1000ull)
#define SLEEP_MS    1
#define AUDIT_DEFER 16

/* The venue as the sequencer sees it: every op forwarded, with place()
 * stamped against the decision it follows (the opportunity's detect_ns for
 * a cycle's first order, the delivery of the last report for the others):
 * the decision -> order histogram, measured where the order leaves. */
struct app_vwrap {
	struct app_pipeline *p;
	venue_report_fn fn;
	void *arg;
	uint64_t last_report_ns;
};

struct app_trade {
	struct venue venue; /* the real one */
	struct venue outer; /* app_vwrap around it, given to exec */
	struct app_vwrap wrap;
	struct venue_ops wops; /* wrap_ops with the real venue's name */
	bool venue_made;
	bool live;
	struct hist wire; /* a copy of the live venue's, for publishing */
	struct kr_nonce *nonce;
	struct kr_rest *rest;
	struct exec *e;
	struct hist d2o;
	struct hist first; /* a cycle's first order: detect_ns -> place() */
	struct app_bal_snap bal;
	/* The cycle in flight: its copy and what its trades said. */
	bool in_flight, done;
	struct app_pending cur;
	unsigned filled_legs, unwinds;
	bool any_fill;
	char why[VENUE_REASON_MAX];
	int64_t last_rec_ns;
	/* Audit events of the current exec_poll turn, written to the store
	 * after the turn: building a record is not on the way to the order. */
	unsigned n_aud;
	struct store_rec aud[AUDIT_DEFER];
};

/* ---- records ---- */

static void enqueue(struct app_pipeline *p, const struct store_rec *r)
{
	(void)store_enqueue(p->store, r);
}

static int64_t rec_ts(struct app_trade *t)
{
	int64_t now = clock_wall_ns();
	if (now < t->last_rec_ns + 1000)
		now = t->last_rec_ns + 1000;
	t->last_rec_ns = now;
	return now;
}

static void final_row(struct app_pipeline *p, const struct app_pending *o, enum store_verdict v,
		      const char *reason)
{
	struct store_rec r;
	int64_t ts = rec_ts(p->trade);
	if (ts <= o->rec_ns + 1000)
		ts = o->rec_ns + 1000;
	replay_rec_opportunity(&o->opp, ts, p->smode, v, reason, &r);
	enqueue(p, &r);
}

/* The opportunity copy for opp_id: earlier copies are ones exec never got
 * (its ring was full) and are skipped. */
static bool pending_take(struct app_pipeline *p, uint64_t opp_id, struct app_pending *out)
{
	while (ring_spsc_pop(p->pending, out) == 0)
		if (out->opp.id == opp_id)
			return true;
	return false;
}

/* The value of "key":"..." or "key":N in exec's detail JSON, unescaped. */
static void detail_str(const char *detail, const char *key, char *out, size_t cap)
{
	char k[48];
	snprintf(k, sizeof k, "\"%s\":", key);
	const char *s = detail ? strstr(detail, k) : NULL;
	size_t n = 0;
	out[0] = '\0';
	if (!s)
		return;
	s += strlen(k);
	bool quoted = *s == '"';
	s += quoted;
	for (; *s && n + 1 < cap; s++) {
		if (quoted && *s == '"')
			break;
		if (!quoted && (*s == ',' || *s == '}'))
			break;
		if (quoted && *s == '\\' && s[1])
			s++;
		out[n++] = *s;
	}
	out[n] = '\0';
}

static void finish_cycle(struct app_pipeline *p)
{
	struct app_trade *t = p->trade;
	char reason[STORE_REASON_LEN];
	enum store_verdict v = STORE_VERDICT_MISSED;
	if (t->filled_legs == t->cur.opp.n_legs && t->unwinds == 0) {
		v = STORE_VERDICT_EXECUTED;
		reason[0] = '\0';
		atomic_fetch_add_explicit(&p->cycles_executed, 1, memory_order_relaxed);
	} else if (!t->any_fill) {
		snprintf(reason, sizeof reason, "missed: leg 1 not filled: %s",
			 t->why[0] ? t->why : "nothing at the limit");
		atomic_fetch_add_explicit(&p->cycles_failed, 1, memory_order_relaxed);
	} else {
		snprintf(reason, sizeof reason, "failed: %u of %u legs filled%s%s%.60s",
			 t->filled_legs, (unsigned)t->cur.opp.n_legs, t->unwinds ? ", unwound" : "",
			 t->why[0] ? ": " : "", t->why);
		atomic_fetch_add_explicit(&p->cycles_failed, 1, memory_order_relaxed);
	}
	final_row(p, &t->cur, v, reason);
	atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
	t->in_flight = false;
	t->done = false;
}

/* ---- exec's sink (exec thread, inside exec_poll) ---- */

static enum web_order_outcome outcome_of(const struct exec_trade *x)
{
	switch (x->status) {
	case VENUE_ST_FILLED:
		return x->filled_qty < x->qty ? WEB_ORDER_PARTIAL : WEB_ORDER_FILLED;
	case VENUE_ST_CANCELED:
		return x->filled_qty > 0 ? WEB_ORDER_PARTIAL : WEB_ORDER_CANCELED;
	case VENUE_ST_REJECTED:
		return WEB_ORDER_REJECTED;
	case VENUE_ST_EXPIRED:
		return x->filled_qty > 0 ? WEB_ORDER_PARTIAL : WEB_ORDER_EXPIRED;
	default:
		return WEB_ORDER_FAILED;
	}
}

static void on_trade(void *ctx, const struct exec_trade *x)
{
	struct app_pipeline *p = ctx;
	struct app_trade *t = p->trade;
	struct store_rec r;
	atomic_fetch_add_explicit(&p->orders[outcome_of(x)], 1, memory_order_relaxed);
	if (t->in_flight && x->opp_id == t->cur.opp.id) {
		if (x->unwind)
			t->unwinds++;
		else if (x->status == VENUE_ST_FILLED && x->filled_qty == x->qty)
			t->filled_legs++;
		if (x->filled_qty > 0)
			t->any_fill = true;
		if (x->reason[0] && !t->why[0])
			snprintf(t->why, sizeof t->why, "%s", x->reason);
	}
	replay_rec_trade(x, p->smode, &r);
	enqueue(p, &r);
}

static void on_audit(void *ctx, const char *action, const char *detail)
{
	struct app_pipeline *p = ctx;
	struct app_trade *t = p->trade;
	char id[32];
	if (t->n_aud < AUDIT_DEFER) {
		struct store_audit *a = &t->aud[t->n_aud++].u.audit;
		a->ts_ns = clock_wall_ns();
		a->mode = p->smode;
		snprintf(a->actor, sizeof a->actor, "exec");
		snprintf(a->action, sizeof a->action, "%s", action);
		snprintf(a->detail, sizeof a->detail, "%s", detail ? detail : "");
	} else {
		app__audit(p->store, p->cfg->trading_mode, "exec", action, detail);
	}
	if (strcmp(action, "cycle_accepted") == 0 || strcmp(action, "cycle_rejected") == 0) {
		struct app_pending o;
		detail_str(detail, "opp_id", id, sizeof id);
		if (!pending_take(p, strtoull(id, NULL, 10), &o)) {
			/* Cannot happen (every submit is pushed first); if it
			 * did, the md thread must not wait for it forever. */
			LOG_WARN("exec", "no copy of a submitted opportunity", "opp_id=%s", id);
			atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
			return;
		}
		if (action[6] == 'a') {
			t->cur = o;
			t->in_flight = true;
			t->done = false;
			t->filled_legs = t->unwinds = 0;
			t->any_fill = false;
			t->why[0] = '\0';
			return;
		}
		char why[VENUE_REASON_MAX], reason[STORE_REASON_LEN];
		detail_str(detail, "reason", why, sizeof why);
		snprintf(reason, sizeof reason, "missed: %s",
			 strcmp(why, "busy") == 0 ? "busy: another cycle was executing" : why);
		final_row(p, &o, STORE_VERDICT_MISSED, reason);
		atomic_fetch_sub_explicit(&p->inflight, 1, memory_order_release);
	} else if (strcmp(action, "cycle_done") == 0 && t->in_flight) {
		/* The cycle's last trade record may follow: closed after the turn. */
		t->done = true;
	}
}

static void flush_audit(struct app_pipeline *p)
{
	struct app_trade *t = p->trade;
	for (unsigned i = 0; i < t->n_aud; i++)
		enqueue(p, &t->aud[i]);
	t->n_aud = 0;
}

static void publish_balances(struct app_pipeline *p, const struct venue_balance *b, size_t n)
{
	struct app_bal_snap *s = &p->trade->bal;
	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < n && s->n < APP_BAL_MAX; i++)
		s->b[s->n++] = b[i];
	app__seq_write(&p->bal_seq, p->bal_w, s, APP_BAL_WORDS);
}

static void portfolio_rows(struct app_pipeline *p, const struct venue_balance *b, size_t n,
			   const char *home)
{
	int64_t now = clock_wall_ns();
	for (size_t i = 0; i < n; i++) {
		struct store_rec r;
		double px = replay_price_in_home(p->uni, atomic_load(&p->uni_n),
						 app__books_pub_levels, p->bpub, b[i].asset, home);
		replay_rec_portfolio(&b[i], home, px, now, p->smode, &r);
		enqueue(p, &r);
	}
}

static void on_portfolio(void *ctx, const struct venue_balance *b, size_t n, const char *home)
{
	struct app_pipeline *p = ctx;
	portfolio_rows(p, b, n, home);
	publish_balances(p, b, n);
}

/* The venue's balances now: published, and with rows when asked. */
static void balances_now(struct app_pipeline *p, bool rows)
{
	struct venue_balance b[APP_BAL_MAX];
	size_t n = 0;
	struct app_trade *t = p->trade;
	if (t->venue.ops->balances(t->venue.ctx, b, APP_BAL_MAX, &n) != 0)
		return;
	publish_balances(p, b, n);
	if (rows) {
		char home[ARB_ASSET_MAX];
		snprintf(home, sizeof home, "%.*s", (int)strcspn(p->cfg->arb.home_assets, ","),
			 p->cfg->arb.home_assets);
		portfolio_rows(p, b, n, home);
	}
}

/* ---- the venue wrapper (exec thread) ---- */

static int w_place(void *ctx, const struct venue_order *o)
{
	struct app_vwrap *w = ctx;
	struct app_trade *t = w->p->trade;
	uint64_t now = clock_mono_ns();
	/* The orders a cycle starts with carry its detection; the others
	 * follow the report that decided them. */
	uint64_t decide = o->origin_ns ? o->origin_ns : w->last_report_ns;
	if (decide && now >= decide) {
		hist_record(&t->d2o, now - decide);
		if (o->origin_ns)
			hist_record(&t->first, now - decide);
	}
	return t->venue.ops->place(t->venue.ctx, o);
}

static int w_cancel(void *ctx, const char *cl_ord_id)
{
	struct app_vwrap *w = ctx;
	return w->p->trade->venue.ops->cancel(w->p->trade->venue.ctx, cl_ord_id);
}

static int w_cancel_all(void *ctx)
{
	struct app_vwrap *w = ctx;
	return w->p->trade->venue.ops->cancel_all(w->p->trade->venue.ctx);
}

static int w_query(void *ctx, const char *cl_ord_id, struct venue_report *out)
{
	struct app_vwrap *w = ctx;
	return w->p->trade->venue.ops->query(w->p->trade->venue.ctx, cl_ord_id, out);
}

static int w_balances(void *ctx, struct venue_balance *out, size_t cap, size_t *n)
{
	struct app_vwrap *w = ctx;
	return w->p->trade->venue.ops->balances(w->p->trade->venue.ctx, out, cap, n);
}

static void w_report(void *arg, const struct venue_report *r)
{
	struct app_vwrap *w = arg;
	w->last_report_ns = clock_mono_ns();
	w->fn(w->arg, r);
}

static int w_poll(void *ctx, uint64_t now_ns, venue_report_fn fn, void *arg)
{
	struct app_vwrap *w = ctx;
	w->fn = fn;
	w->arg = arg;
	return w->p->trade->venue.ops->poll(w->p->trade->venue.ctx, now_ns, w_report, w);
}

static void w_warm(void *ctx)
{
	struct app_vwrap *w = ctx;
	struct app_trade *t = w->p->trade;
	if (t->venue.ops->warm)
		t->venue.ops->warm(t->venue.ctx);
}

static void w_destroy(void *ctx)
{
	(void)ctx; /* the real venue is destroyed by app__trade_stop */
}

static const struct venue_ops wrap_ops = {.name = "",
					  .place = w_place,
					  .cancel = w_cancel,
					  .cancel_all = w_cancel_all,
					  .query = w_query,
					  .balances = w_balances,
					  .poll = w_poll,
					  .warm = w_warm,
					  .destroy = w_destroy};

/* ---- start-up ---- */

static int make_live(struct app_pipeline *p, struct err_info *info)
{
	const struct config *cfg = p->cfg;
	struct app_trade *t = p->trade;
	char path[CONFIG_PATH + 128], dbdir[CONFIG_PATH];
	if (cfg->kraken.nonce_file[0]) {
		snprintf(path, sizeof path, "%s", cfg->kraken.nonce_file);
	} else {
		snprintf(dbdir, sizeof dbdir, "%s", cfg->store.duckdb_path);
		if (kr_nonce_default_path(cfg->kraken.api_key, dirname(dbdir), path, sizeof path))
			return err_set(info, ERR_RANGE, "nonce file path: too long");
	}
	t->nonce = kr_nonce_open(path, NULL, info);
	if (!t->nonce)
		return ERR_INVALID;
	struct kr_rest_opts ro = {.base_url = cfg->kraken.rest_url,
				  .api_key = cfg->kraken.api_key,
				  .api_secret = cfg->kraken.api_secret,
				  .nonce = t->nonce,
				  .timeout_ms = cfg->kraken.rest_timeout_ms,
				  .tier = cfg->kraken.rest_tier};
	t->rest = kr_rest_new(&ro, info);
	if (!t->rest)
		return ERR_INVALID;
	uint32_t n = atomic_load_explicit(&p->uni_n, memory_order_acquire);
	struct kr_pair *kp = calloc(n, sizeof *kp);
	if (!kp)
		return err_set(info, ERR_NOMEM, "out of memory");
	/* The instrument records for query(): rebuilt from the arb pairs,
	 * which carry the same precisions and minimums. */
	for (uint32_t i = 0; i < n; i++) {
		const struct arb_pair *a = &p->uni[i];
		snprintf(kp[i].symbol, sizeof kp[i].symbol, "%s", a->symbol);
		snprintf(kp[i].base, sizeof kp[i].base, "%s", a->base);
		snprintf(kp[i].quote, sizeof kp[i].quote, "%s", a->quote);
		kp[i].id = i;
		kp[i].status = a->tradable ? KR_PAIR_STATUS_ONLINE : KR_PAIR_STATUS_MAINTENANCE;
		kp[i].price_precision = a->price_scale;
		kp[i].qty_precision = a->qty_scale;
		kp[i].cost_precision = a->cost_scale;
		kp[i].price_increment = a->price_increment;
		kp[i].qty_increment = a->qty_increment;
		kp[i].qty_min = a->qty_min;
		kp[i].cost_min = a->cost_min;
	}
	struct live_opts lo;
	live_opts_from_config(cfg, &lo);
	lo.rest = t->rest;
	lo.pairs = kp;
	lo.n_pairs = n;
	int rc = live_venue_new(&lo, &t->venue, info);
	free(kp);
	t->live = rc == 0;
	return rc;
}

static int make_venue(struct app_pipeline *p, struct err_info *info)
{
	struct app_trade *t = p->trade;
	int rc;
	if (p->cfg->trading_mode == TRADING_LIVE) {
		rc = make_live(p, info);
	} else {
		struct paper_cfg pc = {.pairs = p->uni,
				       .n_pairs = atomic_load(&p->uni_n),
				       .default_fee_bps = p->cfg->arb.taker_fee_bps,
				       .slippage_bps = p->cfg->arb.slippage_bps,
				       .latency_ms = p->cfg->arb.paper_latency_ms,
				       .balances = p->cfg->paper_balances,
				       .levels = app__books_pub_levels,
				       .levels_ctx = p->bpub};
		rc = paper_venue_new(&pc, &t->venue, info);
	}
	t->venue_made = rc == 0;
	return rc;
}

static bool stopping(struct app_pipeline *p)
{
	return atomic_load_explicit(&p->stop, memory_order_acquire);
}

static void nap(long ns)
{
	struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
	nanosleep(&ts, NULL);
}

static int start_trading(struct app_pipeline *p)
{
	struct app_trade *t = p->trade;
	struct err_info info = {0};
	char jpath[CONFIG_PATH + 16];
	while (!stopping(p) && atomic_load_explicit(&p->uni_n, memory_order_acquire) == 0)
		nap(20 * 1000000L);
	if (stopping(p))
		return ERR_BADSTATE;
	if (make_venue(p, &info) != 0) {
		LOG_ERROR("exec", "cannot create the venue; trading is off", "mode=%s err=\"%s\"",
			  config_mode_name(p->cfg->trading_mode), info.msg);
		app__audit(p->store, p->cfg->trading_mode, "system", "alert",
			   "{\"what\":\"venue not created: trading is off\"}");
		atomic_store(&p->not_ready, "execution off: the venue could not be created (log)");
		return ERR_INVALID;
	}
	struct exec_cfg ec;
	exec_cfg_from_config(p->cfg, &ec);
	exec_journal_path(p->cfg->store.duckdb_path, jpath, sizeof jpath);
	ec.pairs = p->uni;
	ec.n_pairs = atomic_load(&p->uni_n);
	ec.journal_path = jpath;
	ec.levels = app__books_pub_levels;
	ec.levels_ctx = p->bpub;
	struct exec_sink sink = {
	    .on_trade = on_trade, .on_audit = on_audit, .on_portfolio = on_portfolio, .ctx = p};
	t->wrap.p = p;
	t->wops = wrap_ops;
	t->wops.name = t->venue.ops->name;
	t->outer.ops = &t->wops;
	t->outer.ctx = &t->wrap;
	t->e = exec_new(&ec, &t->outer, p->risk, &sink, &info);
	if (!t->e) {
		LOG_ERROR("exec", "cannot create the sequencer; trading is off", "err=\"%s\"",
			  info.msg);
		atomic_store(&p->not_ready,
			     "execution off: the sequencer could not be created (log)");
		return ERR_INVALID;
	}
	for (;;) {
		/* Poll the venue meanwhile: a live venue connects and answers
		 * through it. */
		int rc = exec_reconcile(t->e, clock_wall_ns(), &info);
		flush_audit(p);
		if (rc == 0)
			break;
		if (rc != ERR_UNKNOWN) {
			LOG_ERROR("exec", "journal reconcile failed; trading is off",
				  "journal=%s err=\"%s\"", jpath, info.msg);
			atomic_store(&p->not_ready,
				     "execution off: the journal reconcile failed (log)");
			return rc;
		}
		LOG_WARN("exec", "journal not reconciled yet; retrying", "err=\"%s\"", info.msg);
		atomic_store(&p->not_ready, "execution not ready: the venue cannot tell yet what "
					    "became of a journaled order; retrying");
		uint64_t until = clock_mono_ns() + RECONCILE_NS;
		while (!stopping(p) && clock_mono_ns() < until)
			nap(50 * 1000000L);
		if (stopping(p))
			return ERR_BADSTATE;
	}
	balances_now(p, true);
	atomic_store_explicit(&p->exec, t->e, memory_order_release);
	atomic_store(&p->trading_ready, true);
	LOG_INFO("exec", "trading", "venue=%s journal=%s pairs=%u", t->venue.ops->name, jpath,
		 (unsigned)ec.n_pairs);
	return 0;
}

static void *trade_main(void *arg)
{
	struct app_pipeline *p = arg;
	struct app_trade *t = p->trade;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (start_trading(p) != 0)
		return NULL;
	uint64_t last_pub = clock_mono_ns(), last_port = last_pub, last_work = last_pub;
	uint64_t last_warm = last_pub;
	while (!stopping(p)) {
		uint64_t now = clock_mono_ns();
		int n = exec_poll(t->e, now, clock_wall_ns());
		flush_audit(p);
		if (t->in_flight && t->done)
			finish_cycle(p);
		if (now - last_pub >= PUBLISH_NS) {
			last_pub = now;
			hist_publish(&p->d2o_pub, &t->d2o);
			hist_publish(&p->first_pub, &t->first);
			if (t->live) {
				hist_read(live_wire_hist(t->venue.ctx), &t->wire);
				hist_publish(&p->wire_pub, &t->wire);
			}
			if (!t->in_flight)
				balances_now(p, now - last_port >= PORTFOLIO_NS);
			if (now - last_port >= PORTFOLIO_NS)
				last_port = now;
		}
		if (n > 0 || !exec_idle(t->e)) {
			last_work = now;
			continue;
		}
		if (p->cfg->arb.busy_poll && !t->in_flight && now - last_warm >= WARM_NS) {
			/* Keep the order's path in cache between opportunities. */
			exec_warm(t->e);
			last_warm = now;
		}
		if (now - last_work < SPIN_NS || p->cfg->arb.busy_poll)
			continue;
		atomic_store_explicit(&p->exec_sleeping, true, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		if (exec_idle(t->e)) {
			struct pollfd pfd = {.fd = p->wake_fd, .events = POLLIN};
			uint64_t v;
			if (poll(&pfd, 1, SLEEP_MS) > 0 && read(p->wake_fd, &v, sizeof v) < 0) {
				/* EAGAIN: another read took it; nothing to do. */
			}
		}
		atomic_store_explicit(&p->exec_sleeping, false, memory_order_relaxed);
	}
	flush_audit(p);
	/* The balances as the run leaves them, for the record. */
	balances_now(p, true);
	hist_publish(&p->d2o_pub, &t->d2o);
	return NULL;
}

int app__trade_start(struct app_pipeline *p)
{
	p->trade = calloc(1, sizeof *p->trade);
	if (!p->trade)
		return -ENOMEM;
	hist_init(&p->trade->d2o);
	hist_init(&p->trade->first);
	for (unsigned i = 0; i < AUDIT_DEFER; i++)
		p->trade->aud[i].type = STORE_REC_AUDIT;
	atomic_store(&p->stop, false);
	int rc = pthread_create(&p->thread, NULL, trade_main, p);
	if (rc != 0)
		return -rc;
	pthread_setname_np(p->thread, "arb-exec");
	p->thread_started = true;
	return 0;
}

void app__trade_stop(struct app_pipeline *p)
{
	struct app_trade *t = p->trade;
	if (!t)
		return;
	atomic_store(&p->stop, true);
	if (p->thread_started) {
		pthread_join(p->thread, NULL);
		p->thread_started = false;
	}
	atomic_store(&p->exec, NULL);
	atomic_store(&p->trading_ready, false);
	if (t->e) {
		struct exec_stats st;
		exec_stats(t->e, &st);
		LOG_INFO("exec", "stopped",
			 "started=%" PRIu64 " completed=%" PRIu64 " failed=%" PRIu64
			 " orders=%" PRIu64 " dropped_busy=%" PRIu64 " dropped_stale=%" PRIu64,
			 st.started, st.completed, st.failed, st.orders, st.dropped_busy,
			 st.dropped_stale);
	}
	exec_free(t->e);
	if (t->venue_made)
		t->venue.ops->destroy(t->venue.ctx);
	kr_rest_free(t->rest);
	kr_nonce_free(t->nonce);
	free(t);
	p->trade = NULL;
}

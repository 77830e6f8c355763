/* The backtest loop: every event, in time order, through the same detector,
 * checks and sequencer as `arbitrade run`, on one thread with the replay
 * clock. The venue is the paper venue reading the replayed books, so an
 * order placed at t fills against the book as the recording has it at
 * t + latency: before an event at T is applied, the sequencer is polled at
 * T - 1 ns, which fills every order due by then against the books as they
 * stood. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fixed.h"
#include "core/log.h"
#include "replay/replay_int.h"

void replay__count_add(struct replay__count *tab, size_t *n, size_t cap, const char *what)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(tab[i].what, what) == 0) {
			tab[i].n++;
			return;
		}
	if (*n < cap) {
		snprintf(tab[*n].what, sizeof tab[*n].what, "%s", what);
		tab[(*n)++].n = 1;
	} else {
		tab[cap - 1].n++; /* the last slot collects the rest */
	}
}

static void enqueue(struct replay *r, const struct store_rec *rec)
{
	if (r->store && store_enqueue(r->store, rec) != 0)
		LOG_WARN("replay", "record not queued for the database", "type=%d", rec->type);
}

/* ---- venue levels: the replayed books ---- */

static int levels(void *ctx, uint32_t pair_id, enum venue_side side, struct book_level *out,
		  size_t cap, size_t *n)
{
	struct replay *r = ctx;
	*n = 0;
	if (pair_id >= r->npairs || !r->books[pair_id])
		return ERR_NOTFOUND;
	return exec_levels_from_book(r->books[pair_id], side, out, cap, n);
}

/* ---- balances, for risk and the detector ---- */

static double balance_of(const struct replay *r, const char *asset)
{
	for (size_t i = 0; i < r->nbal; i++)
		if (strcmp(r->bal[i].asset, asset) == 0)
			return fx_to_double(r->bal[i].amount, r->bal[i].scale);
	return 0;
}

static void refresh_balances(struct replay *r)
{
	if (!r->bal_dirty)
		return;
	r->bal_dirty = false;
	if (r->venue.ops->balances(r->venue.ctx, r->bal, REPLAY__MAX_ASSETS, &r->nbal) != 0)
		r->nbal = 0;
	const char *homes = r->cfg->arb.home_assets;
	for (size_t i = 0; i < r->nbal; i++) {
		size_t al = strlen(r->bal[i].asset);
		const char *h = strstr(homes, r->bal[i].asset);
		if (h && (h == homes || h[-1] == ',') && (h[al] == ',' || h[al] == '\0'))
			arb_set_balance(r->arb, r->bal[i].asset,
					fx_to_double(r->bal[i].amount, r->bal[i].scale));
	}
}

/* ---- the cycle in flight ---- */

static void finish_cycle(struct replay *r, const char *why_dropped)
{
	struct replay_report *p = r->rep;
	const char *outcome;
	enum store_verdict v;
	char reason[VENUE_REASON_MAX + 32] = "";
	if (why_dropped) {
		outcome = "missed";
		v = STORE_VERDICT_MISSED;
		snprintf(reason, sizeof reason, "%s", why_dropped);
	} else if (r->cur_filled_legs == r->cur.n_legs && r->cur_unwinds == 0) {
		outcome = "executed";
		v = STORE_VERDICT_EXECUTED;
	} else if (!r->cur_any_fill) {
		outcome = "missed";
		v = STORE_VERDICT_MISSED;
		snprintf(reason, sizeof reason, "leg 1 not filled: %s",
			 r->cur_reason[0] ? r->cur_reason : "nothing at the limit");
	} else {
		outcome = "failed";
		v = STORE_VERDICT_MISSED;
		snprintf(reason, sizeof reason, "partial: %u of %u legs filled%s%s",
			 r->cur_filled_legs, r->cur.n_legs, r->cur_reason[0] ? ": " : "",
			 r->cur_reason);
	}
	if (v == STORE_VERDICT_EXECUTED)
		p->executed++;
	else if (strcmp(outcome, "failed") == 0)
		p->failed++;
	else
		p->missed++;
	if (v != STORE_VERDICT_EXECUTED)
		replay__count_add(
		    p->misses, &p->n_misses, REPLAY__MAX_REASONS,
		    why_dropped ? why_dropped
				: (strcmp(outcome, "failed") == 0
				       ? "a later leg did not fill completely"
				       : "leg 1 not filled at its limit by order time + latency"));
	if (p->n_cycles < REPLAY__MAX_CYCLES) {
		struct replay__cycle *c = &p->cycles[p->n_cycles++];
		c->opp_id = r->cur.id;
		snprintf(c->path, sizeof c->path, "%s", r->cur.path);
		snprintf(c->outcome, sizeof c->outcome, "%s", outcome);
		c->expected_profit = r->cur.profit_home;
		c->realised_profit = r->cur_realised;
		c->ts_ns = r->now;
	} else {
		p->cycles_unlisted++;
	}
	struct store_rec rec;
	replay_rec_opportunity(&r->cur, (int64_t)r->now, STORE_MODE_BACKTEST, v, reason, &rec);
	enqueue(r, &rec);
	r->in_flight = false;
	r->bal_dirty = true;
}

static void on_trade(void *ctx, const struct exec_trade *t)
{
	struct replay *r = ctx;
	struct replay_report *p = r->rep;
	struct store_rec rec;
	p->orders++;
	if (t->unwind) {
		p->unwind_orders++;
		r->cur_unwinds++;
	} else if (t->status == VENUE_ST_FILLED && t->filled_qty == t->qty) {
		r->cur_filled_legs++;
	}
	if (t->filled_qty > 0)
		r->cur_any_fill = true;
	if (t->reason[0] && !r->cur_reason[0])
		snprintf(r->cur_reason, sizeof r->cur_reason, "%s", t->reason);
	if (isfinite(t->realised_profit))
		r->cur_realised = t->realised_profit;
	if (t->submit_latency_ns >= 0)
		hist_record(&p->decision, (uint64_t)t->submit_latency_ns);
	if (t->fee > 0 && t->fee_asset[0]) {
		size_t i = 0;
		while (i < p->n_fees && strcmp(p->fees[i].asset, t->fee_asset) != 0)
			i++;
		if (i == p->n_fees && p->n_fees < REPLAY__MAX_ASSETS)
			snprintf(p->fees[p->n_fees++].asset, VENUE_ASSET_MAX, "%s", t->fee_asset);
		if (i < p->n_fees)
			p->fees[i].amt18 += (__int128)t->fee * fx_pow10(18 - t->fee_scale);
	}
	replay_rec_trade(t, STORE_MODE_BACKTEST, &rec);
	enqueue(r, &rec);
}

static void on_audit(void *ctx, const char *action, const char *detail)
{
	struct replay *r = ctx;
	struct store_rec rec;
	memset(&rec, 0, sizeof rec);
	rec.type = STORE_REC_AUDIT;
	rec.u.audit.ts_ns = (int64_t)r->now;
	rec.u.audit.mode = STORE_MODE_BACKTEST;
	snprintf(rec.u.audit.actor, sizeof rec.u.audit.actor, "exec");
	snprintf(rec.u.audit.action, sizeof rec.u.audit.action, "%s", action);
	snprintf(rec.u.audit.detail, sizeof rec.u.audit.detail, "%s", detail ? detail : "");
	enqueue(r, &rec);
	/* The cycle's last trade record may follow this event: close the cycle
	 * once the sequencer's turn is over (drive). */
	if (r->in_flight && strcmp(action, "cycle_done") == 0)
		r->cur_done = true;
}

static void on_portfolio(void *ctx, const struct venue_balance *b, size_t n, const char *home)
{
	struct replay *r = ctx;
	for (size_t i = 0; i < n && r->store; i++) {
		struct store_rec rec;
		double px = replay_price_in_home(r->pairs, r->npairs, levels, r, b[i].asset, home);
		replay_rec_portfolio(&b[i], home, px, (int64_t)r->now, STORE_MODE_BACKTEST, &rec);
		enqueue(r, &rec);
	}
}

/* ---- opportunities ---- */

static void reject(struct replay *r, const struct arb_opp *o, const char *reason)
{
	struct store_rec rec;
	replay_rec_opportunity(o, (int64_t)r->now, STORE_MODE_BACKTEST, STORE_VERDICT_REJECTED,
			       reason, &rec);
	enqueue(r, &rec);
}

static void on_opp(void *ctx, const struct arb_opp *o)
{
	struct replay *r = ctx;
	struct replay_report *p = r->rep;
	struct risk_leg_state legs[ARB_MAX_LEGS];
	struct risk_verdict rv;
	p->opportunities++;
	refresh_balances(r);
	for (unsigned i = 0; i < o->n_legs && i < ARB_MAX_LEGS; i++) {
		const struct arb_leg *l = &o->legs[i];
		const struct arb_pair *ap = &r->pairs[l->pair];
		const struct book *b = r->books[l->pair];
		legs[i] = (struct risk_leg_state){
		    .book_valid = b && book_valid(b),
		    .pair_online = ap->tradable,
		    .book_age_ms = l->book_age_ms,
		    .qty_min = ap->qty_min,
		    .cost_min = ap->cost_min,
		    .cost_scale = ap->cost_scale,
		    .balance_in = balance_of(r, l->asset_in),
		};
	}
	struct risk_input in = {.opp = o,
				.legs = legs,
				.exchange_online = true,
				.now_ns = r->now,
				.wall_ns = (int64_t)r->now};
	enum risk_reason why = risk_check(r->risk, &in, &rv);
	if (why != RISK_OK) {
		p->rejected[why]++;
		reject(r, o, rv.text[0] ? rv.text : risk_reason_str(why));
		return;
	}
	/* Sequential execution runs one cycle at a time: a second opportunity
	 * while one is in flight is a miss, said so, not a silent drop. */
	if (r->in_flight || !exec_idle(r->ex)) {
		p->missed++;
		replay__count_add(p->misses, &p->n_misses, REPLAY__MAX_REASONS,
				  "another cycle was executing");
		struct store_rec rec;
		replay_rec_opportunity(o, (int64_t)r->now, STORE_MODE_BACKTEST,
				       STORE_VERDICT_MISSED, "another cycle was executing", &rec);
		enqueue(r, &rec);
		return;
	}
	risk_admit(r->risk, o, r->now);
	if (exec_submit(r->ex, o) != 0) {
		risk_release(r->risk, o->size_home);
		p->missed++;
		replay__count_add(p->misses, &p->n_misses, REPLAY__MAX_REASONS,
				  "execution queue full");
		return;
	}
	p->accepted++;
	r->in_flight = true;
	r->cur = *o;
	r->cur_filled_legs = r->cur_unwinds = 0;
	r->cur_any_fill = false;
	r->cur_done = false;
	r->cur_realised = 0;
	r->cur_reason[0] = '\0';
	struct store_rec rec;
	replay_rec_opportunity(o, (int64_t)r->now, STORE_MODE_BACKTEST, STORE_VERDICT_ACCEPTED,
			       NULL, &rec);
	enqueue(r, &rec);
}

/* Runs the sequencer at t until it has nothing more to do now. */
static void drive(struct replay *r, uint64_t t)
{
	uint64_t saved = r->now;
	r->now = t;
	r->clk_state.wall_ns = (int64_t)t;
	for (int guard = 0; guard < 64; guard++)
		if (exec_poll(r->ex, t, (int64_t)t) <= 0)
			break;
	if (r->in_flight && r->cur_done)
		finish_cycle(r, NULL);
	/* The sequencer drops an opportunity it finds stale or killed on
	 * pickup without a cycle: close it here, with why. */
	if (r->in_flight && exec_idle(r->ex)) {
		struct exec_stats st;
		exec_stats(r->ex, &st);
		if (st.dropped_stale > r->last_st.dropped_stale)
			finish_cycle(r, "stale when execution started");
		else if (st.dropped_killed > r->last_st.dropped_killed)
			finish_cycle(r, "kill switch");
		else if (st.dropped_busy > r->last_st.dropped_busy)
			finish_cycle(r, "another cycle was executing");
		r->last_st = st;
	}
	r->now = saved;
}

/* ---- events ---- */

static struct book *book_for(struct replay *r, uint32_t pair, int levels_per_side,
			     struct err_info *info)
{
	if (r->books[pair])
		return r->books[pair];
	const struct arb_pair *ap = &r->pairs[pair];
	struct book *b = book_new(ap->symbol, ap->price_scale, ap->qty_scale,
				  replay__depth_for(levels_per_side), info);
	if (!b)
		return NULL;
	r->books[pair] = b;
	if (arb_bind_book(r->arb, pair, b) != 0) {
		err_set(info, ERR_INVALID, "%s: the detector refused its book", ap->symbol);
		return NULL;
	}
	return b;
}

static int apply_record(struct replay *r, size_t i, uint64_t ts, int *pair_out,
			struct err_info *info)
{
	const struct replay__event *e = &r->ev->ev[i];
	struct err_info di = {0};
	*pair_out = -1;
	if (kr_decode(r->dec, r->ev->data + e->off + e->msg_off, e->msg_len, r->kev, &di) != 0) {
		r->rep->decode_errors++;
		return err_set(info, ERR_PARSE, "line %u: %s", e->line, di.msg);
	}
	const struct kr_event *ev = r->kev;
	if (ev->kind == KR_EV_INSTRUMENT) {
		/* Status changes move cycles in and out of the detector. */
		for (uint32_t k = 0; k < ev->instrument.n_changed; k++) {
			uint32_t id = ev->instrument.changed[k];
			if (id >= r->npairs)
				continue;
			bool tradable =
			    kr_decoder_pair(r->dec, id)->status == KR_PAIR_STATUS_ONLINE;
			if (tradable != r->pairs[id].tradable) {
				r->pairs[id].tradable = tradable;
				arb_set_tradable(r->arb, id, tradable, NULL);
			}
		}
		return 0;
	}
	if (ev->kind != KR_EV_BOOK)
		return 0;
	const struct kr_book_event *be = &ev->book;
	if (be->pair_id >= r->npairs)
		return 0;
	struct book *b = book_for(r, be->pair_id,
				  (int)(be->n_bids > be->n_asks ? be->n_bids : be->n_asks), info);
	if (!b)
		return ERR_INVALID;
	if (!be->snapshot && !book_valid(b))
		return 0; /* an update before its snapshot, or after a mismatch */
	int rc = kr_book_apply(b, be, ts);
	if (rc != 0) {
		r->rep->book_errors++;
		return 0; /* the book stays invalid until the next snapshot */
	}
	*pair_out = (int)be->pair_id;
	return 0;
}

static int apply_seed(struct replay *r, size_t i, const char *line, int n, uint64_t ts,
		      int *pair_out, struct err_info *info)
{
	const struct replay__event *e = &r->ev->ev[i];
	char why[160];
	*pair_out = -1;
	int pair = r->sym2pair[e->symbol];
	if (pair < 0)
		return err_set(info, ERR_PARSE, "line %u: symbol %s is not in the instruments",
			       e->line, r->ev->sym[e->symbol].name);
	struct book *b = book_for(r, (uint32_t)pair, r->ev->sym[e->symbol].max_levels, info);
	if (!b)
		return ERR_INVALID;
	int rc =
	    replay__seed_apply(b, line, r->ev->tok, n, (int64_t)ts, r->scratch, why, sizeof why);
	if (rc != 0) {
		r->rep->book_errors++;
		return err_set(info, ERR_PARSE, "line %u: %s", e->line, why);
	}
	*pair_out = pair;
	return 0;
}

static int replay_events(struct replay *r, struct err_info *info)
{
	struct replay_report *p = r->rep;
	uint64_t t0 = clock_mono_ns();
	struct timespec c0, c1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (size_t i = 0; i < r->ev->n; i++) {
		const struct replay__event *e = &r->ev->ev[i];
		uint64_t ts = (uint64_t)e->ts_ns;
		/* Every 8th event is timed: two clock reads per event would cost
		 * more than some events do. */
		bool timed = (i & 7) == 0;
		uint64_t a = timed ? clock_mono_ns() : 0;
		if (ts > 0)
			drive(r, ts - 1);
		r->now = ts;
		r->clk_state.wall_ns = e->ts_ns;
		int pair = -1, rc;
		if (e->kind == REPLAY__SEED) {
			const char *line;
			int n = replay__events_tokenize(r->ev, i, &line);
			rc = n < 0 ? err_set(info, ERR_PARSE, "line %u: not JSON", e->line)
				   : apply_seed(r, i, line, n, ts, &pair, info);
		} else {
			rc = apply_record(r, i, ts, &pair, info);
		}
		if (rc != 0) {
			if (!r->opts.skip_bad_lines)
				return rc;
			p->bad_lines++;
			if (!p->first_bad_line) {
				p->first_bad_line = e->line;
				snprintf(p->first_bad_why, sizeof p->first_bad_why, "%.150s",
					 info->msg);
			}
			continue;
		}
		p->events++;
		if (pair >= 0 && book_valid(r->books[pair]))
			arb_on_book(r->arb, (uint32_t)pair, ts);
		drive(r, ts);
		if (timed)
			hist_record(&p->compute, clock_mono_ns() - a);
	}
	/* Let everything in flight finish: the last orders fill against the
	 * final books. */
	uint64_t end = r->ev->n ? (uint64_t)r->ev->ev[r->ev->n - 1].ts_ns : 0;
	for (int k = 0; k < 16 && (r->in_flight || !exec_idle(r->ex)); k++)
		drive(r, end + (uint64_t)(k + 1) * 1000000000ull * 60);
	if (r->in_flight)
		finish_cycle(r, "the recording ended");
	p->wall_s = (double)(clock_mono_ns() - t0) / 1e9;
	/* CPU time too: on a shared machine it says more than the wall clock. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	p->cpu_s = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	return 0;
}

/* ---- set-up ---- */

static int build_universe(struct replay *r, struct err_info *info)
{
	int rc;
	if (r->opts.instruments_path) {
		rc = replay__universe_from_file(r, r->opts.instruments_path, info);
	} else if (r->ev->nsym == 0) {
		/* A recording: its first instrument message. */
		rc = ERR_NOTFOUND;
		for (size_t i = 0; i < r->ev->n && rc == ERR_NOTFOUND; i++) {
			const struct replay__event *e = &r->ev->ev[i];
			const char *m = r->ev->data + e->off + e->msg_off;
			if (!memmem(m, e->msg_len, "\"instrument\"", 12))
				continue;
			if (kr_decode(r->dec, m, e->msg_len, r->kev, NULL) == 0 &&
			    r->kev->kind == KR_EV_INSTRUMENT)
				rc = replay__universe_from_decoder(r, info);
		}
		if (rc == ERR_NOTFOUND)
			rc = err_set(
			    info, ERR_PARSE,
			    "the recording holds no instrument message: give --instruments");
	} else {
		rc = replay__universe_infer(r, info);
	}
	if (rc != 0)
		return rc;
	for (uint32_t s = 0; s < r->ev->nsym; s++) {
		r->sym2pair[s] = replay__find_pair(r, r->ev->sym[s].name);
		if (r->sym2pair[s] < 0)
			return err_set(info, ERR_PARSE,
				       "symbol %s of the events is not in the instruments",
				       r->ev->sym[s].name);
	}
	if (r->opts.taker_fee_bps >= 0)
		for (uint32_t i = 0; i < r->npairs; i++)
			r->pairs[i].taker_fee_bps = r->opts.taker_fee_bps;
	return 0;
}

static int setup(struct replay *r, struct err_info *info)
{
	struct arb_cfg acfg = r->cfg->arb;
	struct risk_limits lim;
	int rc;
	if (r->opts.taker_fee_bps >= 0)
		acfg.taker_fee_bps = r->opts.taker_fee_bps;
	if (r->opts.slippage_bps >= 0)
		acfg.slippage_bps = r->opts.slippage_bps;
	if (r->opts.latency_ms >= 0)
		acfg.paper_latency_ms = (uint32_t)r->opts.latency_ms;
	r->rep->slippage_bps = acfg.slippage_bps;
	r->rep->taker_fee_bps = acfg.taker_fee_bps;
	r->rep->latency_ms = acfg.paper_latency_ms;

	r->clk = clock_manual_make(&r->clk_state);
	r->arb = arb_new(&acfg, &r->clk, 1, info);
	if (!r->arb)
		return info->code ? info->code : ERR_NOMEM;
	arb_set_callback(r->arb, on_opp, r);
	rc = arb_set_universe(r->arb, r->pairs, r->npairs, 0, info);
	if (rc != 0)
		return rc;

	risk_limits_from_config(r->cfg, &lim);
	lim.kill_file[0] = '\0'; /* a file on this machine must not steer a backtest */
	r->risk = risk_new(&lim, info);
	if (!r->risk)
		return info->code ? info->code : ERR_NOMEM;

	struct paper_cfg pc = {.pairs = r->pairs,
			       .n_pairs = r->npairs,
			       .default_fee_bps = acfg.taker_fee_bps,
			       .slippage_bps = acfg.slippage_bps,
			       .latency_ms = acfg.paper_latency_ms,
			       .balances = r->opts.starting_balances ? r->opts.starting_balances
								     : r->cfg->paper_balances,
			       .levels = levels,
			       .levels_ctx = r};
	rc = paper_venue_new(&pc, &r->venue, info);
	if (rc != 0)
		return rc;

	struct exec_cfg ec;
	exec_cfg_from_config(r->cfg, &ec);
	ec.pairs = r->pairs;
	ec.n_pairs = r->npairs;
	ec.default_fee_bps = acfg.taker_fee_bps;
	ec.slippage_bps = acfg.slippage_bps;
	ec.journal_path = NULL; /* nothing to recover in a replay */
	ec.levels = levels;
	ec.levels_ctx = r;
	ec.clock = &r->clk;
	struct exec_sink sink = {
	    .on_trade = on_trade, .on_audit = on_audit, .on_portfolio = on_portfolio, .ctx = r};
	r->ex = exec_new(&ec, &r->venue, r->risk, &sink, info);
	if (!r->ex)
		return info->code ? info->code : ERR_NOMEM;
	rc = exec_reconcile(r->ex, r->ev->ev[0].ts_ns, info);
	if (rc != 0)
		return rc;
	r->bal_dirty = true;
	refresh_balances(r);
	r->rep->n_start = r->nbal < REPLAY__MAX_ASSETS ? r->nbal : REPLAY__MAX_ASSETS;
	memcpy(r->rep->start, r->bal, r->rep->n_start * sizeof r->bal[0]);
	return 0;
}

static void teardown(struct replay *r)
{
	exec_free(r->ex);
	if (r->venue.ops)
		r->venue.ops->destroy(r->venue.ctx);
	risk_free(r->risk);
	arb_free(r->arb);
	for (uint32_t i = 0; i < ARB_MAX_PAIRS; i++)
		book_free(r->books[i]);
	kr_decoder_free(r->dec);
	free(r->kev);
	free(r->scratch);
	replay__events_free(r->ev);
}

int replay__finish_report(struct replay *r);

int replay_run(const struct config *cfg, const struct replay_opts *o, struct replay_report **out,
	       struct err_info *info)
{
	struct replay *r = NULL;
	struct replay_report *rep = NULL;
	int rc;

	*out = NULL;
	if (!cfg || !o || !o->events_path)
		return err_set(info, ERR_INVALID, "backtest: --events is required");
	r = calloc(1, sizeof *r);
	rep = calloc(1, sizeof *rep);
	if (!r || !rep) {
		rc = err_set(info, ERR_NOMEM, "backtest: out of memory");
		goto cleanup;
	}
	r->cfg = cfg;
	r->opts = *o;
	r->rep = rep;
	hist_init(&rep->decision);
	hist_init(&rep->compute);
	r->dec = kr_decoder_new(0);
	r->kev = malloc(sizeof *r->kev);
	r->scratch = malloc(sizeof *r->scratch);
	if (!r->dec || !r->kev || !r->scratch) {
		rc = err_set(info, ERR_NOMEM, "backtest: out of memory");
		goto cleanup;
	}
	rc = replay__events_load(o->events_path, o->skip_bad_lines, &r->ev, info);
	if (rc != 0)
		goto cleanup;
	rep->bad_lines = r->ev->bad_lines;
	rep->blank_lines = r->ev->blank_lines;
	rep->first_bad_line = r->ev->first_bad_line;
	snprintf(rep->first_bad_why, sizeof rep->first_bad_why, "%s", r->ev->first_bad_why);
	rep->first_ts = r->ev->ev[0].ts_ns;
	rep->last_ts = r->ev->ev[r->ev->n - 1].ts_ns;
	rc = build_universe(r, info);
	if (rc != 0)
		goto cleanup;
	rep->inferred = r->inferred;
	if (o->db_path) {
		struct store_cfg sc = cfg->store;
		snprintf(sc.duckdb_path, sizeof sc.duckdb_path, "%s", o->db_path);
		r->store = store_open(&sc, info);
		if (!r->store) {
			rc = info->code ? info->code : ERR_DB;
			goto cleanup;
		}
	}
	rc = setup(r, info);
	if (rc != 0)
		goto cleanup;
	rc = replay_events(r, info);
	if (rc != 0)
		goto cleanup;
	rc = replay__finish_report(r);
	if (rc != 0)
		goto cleanup;
	*out = rep;
	rep = NULL;
cleanup:
	if (r) {
		if (r->store && store_close(r->store) != 0 && rc == 0)
			rc = err_set(info, ERR_DB,
				     "backtest: records were lost writing the database");
		teardown(r);
		free(r);
	}
	free(rep);
	if (rc != 0 && *out) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

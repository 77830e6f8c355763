/* Pre-trade risk checks, the kill switch and the circuit breakers. */
#include "risk/risk.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WINDOW_NS   60000000000ull
#define E8	    100000000.0
#define NS_PER_DAY  86400000000000ll
#define BALANCE_EPS 1e-12 /* relative: the detector's doubles, not a margin */

struct risk {
	struct risk_limits lim;
	/* Rate window, check thread only: admit stamps, oldest at tail. */
	uint64_t *win;
	uint32_t win_cap, win_head, win_n;
	struct risk_stats st;
	/* Shared with other threads. */
	_Atomic int64_t exposure_e8;
	_Atomic uint64_t kill_file_errors;
	_Atomic uint32_t failures;
	_Atomic bool paused;
	_Atomic int kill_state; /* 0 off, 1 being set, 2 set with reason */
	char kill_reason[RISK_TEXT_MAX];
	/* Daily P&L, one writer (execution thread), seqlock for readers. */
	_Atomic uint64_t day_seq;
	_Atomic int64_t day;
	_Atomic int64_t day_pnl_e8;
};

static const char *const reason_names[RISK__COUNT] = {
    [RISK_OK] = "ok",
    [RISK_KILLED] = "killed",
    [RISK_PAUSED] = "paused",
    [RISK_CIRCUIT_BREAKER] = "circuit_breaker",
    [RISK_DAILY_LOSS] = "daily_loss",
    [RISK_EXCHANGE_OFFLINE] = "exchange_offline",
    [RISK_BAD_OPPORTUNITY] = "bad_opportunity",
    [RISK_BOOK_INVALID] = "book_invalid",
    [RISK_BOOK_STALE] = "book_stale",
    [RISK_MIN_PROFIT] = "min_profit",
    [RISK_ORDER_MINIMUM] = "order_minimum",
    [RISK_BALANCE] = "balance",
    [RISK_MAX_NOTIONAL] = "max_notional",
    [RISK_MAX_EXPOSURE] = "max_exposure",
    [RISK_RATE_LIMIT] = "rate_limit",
};

const char *risk_reason_str(enum risk_reason r)
{
	return (unsigned)r < RISK__COUNT ? reason_names[r] : "unknown";
}

void risk_limits_from_config(const struct config *cfg, struct risk_limits *out)
{
	memset(out, 0, sizeof(*out));
	out->min_profit_bps = cfg->arb.min_profit_bps;
	out->max_notional = cfg->arb.max_notional;
	out->max_book_age_ms = cfg->arb.max_book_age_ms;
	out->max_exposure = cfg->risk.max_exposure;
	out->max_cycles_per_min = cfg->risk.max_cycles_per_min;
	out->daily_loss_limit = cfg->risk.daily_loss_limit;
	out->max_consecutive_failures = cfg->risk.max_consecutive_failures;
	out->inventory = strcmp(cfg->arb.exec_mode, "inventory") == 0;
	snprintf(out->kill_file, sizeof(out->kill_file), "%s", cfg->risk.kill_file);
}

struct risk *risk_new(const struct risk_limits *limits, struct err_info *info)
{
	const struct risk_limits *l = limits;
	if (!(l->min_profit_bps >= 0) || !(l->max_notional > 0) || !(l->max_exposure > 0) ||
	    !(l->daily_loss_limit > 0) || l->max_cycles_per_min < 1 ||
	    l->max_cycles_per_min > 10000 || l->max_consecutive_failures < 1 ||
	    l->max_book_age_ms < 1) {
		err_set(info, ERR_INVALID,
			"risk: a limit is out of bounds (notional %g, exposure %g, "
			"daily loss %g, cycles/min %u, failures %u, book age %u)",
			l->max_notional, l->max_exposure, l->daily_loss_limit,
			l->max_cycles_per_min, l->max_consecutive_failures, l->max_book_age_ms);
		return NULL;
	}
	struct risk *r = calloc(1, sizeof(*r));
	if (r)
		r->win = calloc(l->max_cycles_per_min, sizeof(*r->win));
	if (!r || !r->win) {
		free(r);
		err_set(info, ERR_NOMEM, "risk: out of memory");
		return NULL;
	}
	r->lim = *l;
	r->lim.kill_file[sizeof(r->lim.kill_file) - 1] = '\0';
	r->win_cap = l->max_cycles_per_min;
	atomic_init(&r->day, INT64_MIN);
	return r;
}

void risk_free(struct risk *r)
{
	if (!r)
		return;
	free(r->win);
	free(r);
}

static int64_t utc_day(int64_t wall_ns)
{
	int64_t d = wall_ns / NS_PER_DAY;
	return wall_ns < 0 && wall_ns % NS_PER_DAY ? d - 1 : d;
}

double risk_day_pnl(const struct risk *r, int64_t wall_ns)
{
	struct risk *m = (struct risk *)r; /* atomics are read only */
	int64_t want = utc_day(wall_ns), day, pnl;
	uint64_t s1, s2;
	do {
		s1 = atomic_load_explicit(&m->day_seq, memory_order_acquire);
		day = atomic_load_explicit(&m->day, memory_order_relaxed);
		pnl = atomic_load_explicit(&m->day_pnl_e8, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&m->day_seq, memory_order_relaxed);
	} while ((s1 & 1) || s1 != s2);
	return day == want ? (double)pnl / E8 : 0.0;
}

double risk_exposure(const struct risk *r)
{
	return (double)atomic_load(&((struct risk *)r)->exposure_e8) / E8;
}

uint32_t risk_failure_streak(const struct risk *r)
{
	return atomic_load(&((struct risk *)r)->failures);
}

static enum risk_reason verdict(struct risk_verdict *out, enum risk_reason why, int leg,
				const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum risk_reason verdict(struct risk_verdict *out, enum risk_reason why, int leg,
				const char *fmt, ...)
{
	va_list ap;
	out->reason = why;
	out->leg = leg;
	va_start(ap, fmt);
	vsnprintf(out->text, sizeof(out->text), fmt, ap);
	va_end(ap);
	return why;
}

/* qty * price (scale ps + qs) < cost_min (scale cs), exactly. */
static bool below_cost_min(int64_t qty, int64_t price, int pq_scale, int64_t cost_min, int cs)
{
	__int128 cost = (__int128)qty * price;
	__int128 min = cost_min;
	for (int s = cs; s < pq_scale; s++)
		min *= 10;
	for (int s = pq_scale; s < cs; s++) {
		if (cost > min)
			return false; /* already larger; scaling up cannot change that */
		cost *= 10;
	}
	return cost < min;
}

static bool opp_sane(const struct arb_opp *o)
{
	if (o->n_legs < 2 || o->n_legs > ARB_MAX_LEGS || !isfinite(o->size_home) ||
	    !isfinite(o->profit_bps) || !isfinite(o->profit_home) || o->size_home <= 0)
		return false;
	for (unsigned i = 0; i < o->n_legs; i++) {
		const struct arb_leg *l = &o->legs[i];
		if (l->qty <= 0 || l->limit_price <= 0 || !isfinite(l->expected_in) ||
		    !isfinite(l->expected_out) || l->price_scale < 0 || l->price_scale > 18 ||
		    l->qty_scale < 0 || l->qty_scale > 18)
			return false;
	}
	return true;
}

static enum risk_reason check(struct risk *r, const struct risk_input *in, struct risk_verdict *out)
{
	const struct risk_limits *lim = &r->lim;
	const struct arb_opp *o = in->opp;

	if (atomic_load_explicit(&r->kill_state, memory_order_acquire) != 0)
		return verdict(out, RISK_KILLED, -1, "kill switch: %s", risk_kill_reason(r));
	if (atomic_load_explicit(&r->paused, memory_order_relaxed))
		return verdict(out, RISK_PAUSED, -1, "paused by operator");
	uint32_t fails = atomic_load_explicit(&r->failures, memory_order_relaxed);
	if (fails >= lim->max_consecutive_failures)
		return verdict(out, RISK_CIRCUIT_BREAKER, -1,
			       "%u failed cycles in a row (RISK_MAX_CONSECUTIVE_FAILURES=%u)",
			       fails, lim->max_consecutive_failures);
	double pnl = risk_day_pnl(r, in->wall_ns);
	if (pnl <= -lim->daily_loss_limit)
		return verdict(out, RISK_DAILY_LOSS, -1,
			       "realised P&L today %.8f <= -RISK_DAILY_LOSS_LIMIT %.8f", pnl,
			       lim->daily_loss_limit);
	if (!in->exchange_online)
		return verdict(out, RISK_EXCHANGE_OFFLINE, -1, "exchange status is not online");
	if (!o || !in->legs || !opp_sane(o))
		return verdict(out, RISK_BAD_OPPORTUNITY, -1,
			       "malformed opportunity (legs, sizes or amounts out of range)");
	for (int i = 0; i < o->n_legs; i++)
		if (!in->legs[i].pair_online)
			return verdict(out, RISK_EXCHANGE_OFFLINE, i, "leg %d %s: pair not online",
				       i, o->legs[i].symbol);
	for (int i = 0; i < o->n_legs; i++)
		if (!in->legs[i].book_valid)
			return verdict(out, RISK_BOOK_INVALID, i, "leg %d %s: book not valid", i,
				       o->legs[i].symbol);
	for (int i = 0; i < o->n_legs; i++)
		if (in->legs[i].book_age_ms > lim->max_book_age_ms)
			return verdict(out, RISK_BOOK_STALE, i,
				       "leg %d %s: book %u ms old > ARB_MAX_BOOK_AGE_MS %u", i,
				       o->legs[i].symbol, in->legs[i].book_age_ms,
				       lim->max_book_age_ms);
	if (o->profit_bps < lim->min_profit_bps)
		return verdict(out, RISK_MIN_PROFIT, -1,
			       "profit %.3f bps < ARB_MIN_PROFIT_BPS %.3f", o->profit_bps,
			       lim->min_profit_bps);
	for (int i = 0; i < o->n_legs; i++) {
		const struct arb_leg *l = &o->legs[i];
		const struct risk_leg_state *s = &in->legs[i];
		if (l->qty < s->qty_min)
			return verdict(out, RISK_ORDER_MINIMUM, i,
				       "leg %d %s: qty %lld < qty_min %lld", i, l->symbol,
				       (long long)l->qty, (long long)s->qty_min);
		if (s->cost_scale < 0 || s->cost_scale > 18)
			return verdict(out, RISK_BAD_OPPORTUNITY, i, "leg %d %s: cost scale %d", i,
				       l->symbol, s->cost_scale);
		if (below_cost_min(l->qty, l->limit_price, l->price_scale + l->qty_scale,
				   s->cost_min, s->cost_scale))
			return verdict(out, RISK_ORDER_MINIMUM, i,
				       "leg %d %s: cost below cost_min %lld (scale %d)", i,
				       l->symbol, (long long)s->cost_min, s->cost_scale);
	}
	for (int i = 0; i < o->n_legs; i++) {
		const struct arb_leg *l = &o->legs[i];
		/* Sequential legs after the first are paid by the leg before. */
		double have = in->legs[i].balance_in;
		if (!lim->inventory && i > 0)
			have += o->legs[i - 1].expected_out;
		if (l->expected_in > have * (1 + BALANCE_EPS))
			return verdict(out, RISK_BALANCE, i,
				       "leg %d %s: needs %.10g %s (fees included), %.10g available",
				       i, l->symbol, l->expected_in, l->asset_in, have);
	}
	if (o->size_home > lim->max_notional)
		return verdict(out, RISK_MAX_NOTIONAL, -1, "size %.8f %s > ARB_MAX_NOTIONAL %.8f",
			       o->size_home, o->home, lim->max_notional);
	double open = risk_exposure(r);
	if (open + o->size_home > lim->max_exposure)
		return verdict(out, RISK_MAX_EXPOSURE, -1,
			       "exposure open %.8f + size %.8f > RISK_MAX_EXPOSURE %.8f", open,
			       o->size_home, lim->max_exposure);
	while (r->win_n > 0) {
		uint32_t tail = (r->win_head + r->win_cap - r->win_n) % r->win_cap;
		if (in->now_ns >= WINDOW_NS && r->win[tail] <= in->now_ns - WINDOW_NS)
			r->win_n--; /* left the window */
		else
			break;
	}
	if (r->win_n >= lim->max_cycles_per_min)
		return verdict(out, RISK_RATE_LIMIT, -1,
			       "%u cycles in the last 60 s (RISK_MAX_CYCLES_PER_MIN=%u)", r->win_n,
			       lim->max_cycles_per_min);
	out->reason = RISK_OK;
	out->leg = -1;
	out->text[0] = '\0';
	return RISK_OK;
}

enum risk_reason risk_check(struct risk *r, const struct risk_input *in, struct risk_verdict *out)
{
	enum risk_reason why = check(r, in, out);
	r->st.checks++;
	if (why == RISK_OK)
		r->st.accepted++;
	else
		r->st.rejected[why]++;
	return why;
}

void risk_admit(struct risk *r, const struct arb_opp *opp, uint64_t now_ns)
{
	if (r->win_n == r->win_cap)
		r->win_n--; /* the oldest leaves; only when admitted past a rejection */
	r->win[r->win_head] = now_ns;
	r->win_head = (r->win_head + 1) % r->win_cap;
	r->win_n++;
	atomic_fetch_add(&r->exposure_e8, (int64_t)llround(opp->size_home * E8));
}

enum risk_reason risk_check_admit(struct risk *r, const struct risk_input *in,
				  struct risk_verdict *out)
{
	enum risk_reason why = risk_check(r, in, out);
	if (why == RISK_OK)
		risk_admit(r, in->opp, in->now_ns);
	return why;
}

void risk_cycle_done(struct risk *r, double size_home, double pnl_home, bool ok, int64_t wall_ns)
{
	atomic_fetch_sub(&r->exposure_e8, (int64_t)llround(size_home * E8));
	if (ok)
		atomic_store(&r->failures, 0);
	else
		atomic_fetch_add(&r->failures, 1);
	if (!isfinite(pnl_home))
		pnl_home = 0;
	int64_t d = utc_day(wall_ns);
	int64_t cur = atomic_load_explicit(&r->day, memory_order_relaxed);
	int64_t pnl = cur == d ? atomic_load_explicit(&r->day_pnl_e8, memory_order_relaxed) : 0;
	pnl += (int64_t)llround(pnl_home * E8);
	uint64_t s = atomic_load_explicit(&r->day_seq, memory_order_relaxed);
	atomic_store_explicit(&r->day_seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&r->day, d, memory_order_relaxed);
	atomic_store_explicit(&r->day_pnl_e8, pnl, memory_order_relaxed);
	atomic_store_explicit(&r->day_seq, s + 2, memory_order_release);
}

void risk_release(struct risk *r, double size_home)
{
	atomic_fetch_sub(&r->exposure_e8, (int64_t)llround(size_home * E8));
}

void risk_kill(struct risk *r, const char *reason)
{
	int expect = 0;
	if (!atomic_compare_exchange_strong(&r->kill_state, &expect, 1))
		return;
	snprintf(r->kill_reason, sizeof(r->kill_reason), "%s", reason && *reason ? reason : "kill");
	atomic_store_explicit(&r->kill_state, 2, memory_order_release);
}

void risk_kill_signal(struct risk *r)
{
	static const char why[] = "signal";
	int expect = 0;
	if (!atomic_compare_exchange_strong(&r->kill_state, &expect, 1))
		return;
	for (size_t i = 0; i < sizeof(why); i++)
		r->kill_reason[i] = why[i];
	atomic_store_explicit(&r->kill_state, 2, memory_order_release);
}

bool risk_killed(const struct risk *r)
{
	return atomic_load_explicit(&((struct risk *)r)->kill_state, memory_order_acquire) != 0;
}

const char *risk_kill_reason(const struct risk *r)
{
	int s = atomic_load_explicit(&((struct risk *)r)->kill_state, memory_order_acquire);
	return s == 2 ? r->kill_reason : s == 1 ? "kill requested" : "";
}

bool risk_kill_file_check(struct risk *r)
{
	struct stat st;
	if (r->lim.kill_file[0] == '\0')
		return false;
	if (stat(r->lim.kill_file, &st) == 0) {
		/* A long path is cut: the reason is for people, not for parsing. */
		char why[RISK_TEXT_MAX];
		int n = snprintf(why, sizeof(why), "kill file %.*s exists", RISK_TEXT_MAX - 20,
				 r->lim.kill_file);
		(void)n;
		risk_kill(r, why);
		return true;
	}
	if (errno != ENOENT)
		atomic_fetch_add(&r->kill_file_errors, 1);
	return false;
}

void risk_pause(struct risk *r)
{
	atomic_store(&r->paused, true);
}

void risk_resume(struct risk *r)
{
	atomic_store(&r->failures, 0);
	atomic_store(&r->paused, false);
}

bool risk_paused(const struct risk *r)
{
	return atomic_load(&((struct risk *)r)->paused);
}

void risk_stats(const struct risk *r, struct risk_stats *out)
{
	*out = r->st;
	out->kill_file_errors = atomic_load(&((struct risk *)r)->kill_file_errors);
}

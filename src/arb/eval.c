/* Evaluation of one cycle: trust checks, the top-of-book screen, the depth
 * walk and the choice of size.
 *
 * The size variable is the first leg's base quantity Q1 (a multiple of its
 * qty increment). Every later leg converts as much of the previous output as
 * its increments and depth allow, so profit(Q1) is one function of one
 * integer. Without rounding it is concave and piecewise linear: each leg's
 * output is a concave piecewise-linear function of its input (worse prices
 * deeper in the book), and so is their composition. Its maximum therefore
 * sits where some leg crosses a level boundary or a minimum, or at the cap.
 * We map each of those points back to Q1 through the legs' continuous
 * inverses, then evaluate the real, rounded function at the neighbouring
 * multiples of the increment and keep the best. Rounding moves the optimum by
 * at most an increment per leg; tests/unit/arb/test_eval_ref.c checks that
 * against a brute force over every Q1. */
#include <math.h>
#include <string.h>

#include "arb/arb_int.h"
#include "core/fixed.h"

struct leg {
	const struct arb_pair *p;
	const struct book_level *lv;
	size_t n;
	enum arb_side side;
	double f;	 /* fee fraction */
	double qm;	 /* 10^-qty_scale */
	double pq;	 /* 10^-(price_scale + qty_scale): raw price*qty to quote units */
	double cmin_raw; /* cost_min in raw price*qty units */
	int64_t inc, qmin, depth;
	uint32_t age_ms;
};

/* An amount carried between legs. A buy returns an exact base quantity; keep
 * it as an integer so the next leg sells all of it, not all but one unit of a
 * rounding error. */
struct amt {
	double v;
	int64_t x;
	int xs;
	bool exact;
};

struct fill {
	int64_t q;
	double cost_raw;
	int64_t worst;
	double in, out, fee;
};

double arb__top_rate(const struct book *b, enum arb_side side, double fee_bps)
{
	size_t n = 0;
	const struct book_level *lv;
	double f = fee_bps / 1e4;
	if (!b)
		return 0;
	if (side == ARB_BUY) {
		lv = book_asks(b, &n);
		if (!n)
			return 0;
		return 1.0 / (fx_to_double(lv[0].price, book_price_scale(b)) * (1 + f));
	}
	lv = book_bids(b, &n);
	if (!n)
		return 0;
	return fx_to_double(lv[0].price, book_price_scale(b)) * (1 - f);
}

/* Raw cost (sum of price * qty in integer units, as a double) of buying or
 * selling q base units through the levels; *worst gets the last price used. */
static double cost_of(const struct leg *l, int64_t q, int64_t *worst)
{
	double c = 0;
	for (size_t i = 0; i < l->n && q > 0; i++) {
		int64_t take = q < l->lv[i].qty ? q : l->lv[i].qty;
		c += (double)l->lv[i].price * (double)take;
		*worst = l->lv[i].price;
		q -= take;
	}
	return c;
}

static int64_t round_down(int64_t q, int64_t inc)
{
	return q - q % inc;
}

/* The largest q (multiple of the increment, within depth) whose cost with the
 * fee fits in a quote units. */
static int64_t buy_max(const struct leg *l, double a)
{
	double budget = a / (1 + l->f) / l->pq, cum = 0;
	int64_t q = 0, worst = 0;
	for (size_t i = 0; i < l->n; i++) {
		double lc = (double)l->lv[i].price * (double)l->lv[i].qty;
		if (cum + lc <= budget) {
			cum += lc;
			q += l->lv[i].qty;
			continue;
		}
		double part = floor((budget - cum) / (double)l->lv[i].price);
		if (part > 0)
			q += (int64_t)part;
		break;
	}
	/* The estimate above divides, the check below multiplies: settle on the
	 * check's answer exactly, from whichever side the estimate fell. */
	q = round_down(q, l->inc);
	while (q > 0 && cost_of(l, q, &worst) * l->pq * (1 + l->f) > a)
		q -= l->inc;
	while (q + l->inc <= l->depth && cost_of(l, q + l->inc, &worst) * l->pq * (1 + l->f) <= a)
		q += l->inc;
	return q;
}

static int64_t sell_max(const struct leg *l, const struct amt *a)
{
	int64_t q = 0;
	if (a->exact) {
		if (fx_rescale(a->x, a->xs, l->p->qty_scale, &q))
			q = l->depth;
	} else {
		double r = floor(a->v / l->qm);
		q = r >= (double)l->depth ? l->depth : (r > 0 ? (int64_t)r : 0);
	}
	if (q > l->depth)
		q = l->depth;
	return round_down(q, l->inc);
}

/* Runs the cycle for a first-leg quantity q1. Returns false when a leg falls
 * below its minimums; *profit and fills (if not NULL) are then meaningless. */
static bool forward(const struct leg *legs, unsigned n, int64_t q1, double *spent, double *out,
		    struct fill *fills)
{
	struct amt a = {0};
	for (unsigned k = 0; k < n; k++) {
		const struct leg *l = &legs[k];
		struct fill fl = {.worst = 0};
		if (k == 0)
			fl.q = q1;
		else
			fl.q = l->side == ARB_BUY ? buy_max(l, a.v) : sell_max(l, &a);
		if (fl.q <= 0 || fl.q < l->qmin)
			return false;
		fl.cost_raw = cost_of(l, fl.q, &fl.worst);
		if (fl.cost_raw < l->cmin_raw)
			return false;
		double cost = fl.cost_raw * l->pq;
		fl.fee = cost * l->f;
		if (l->side == ARB_BUY) {
			fl.in = cost + fl.fee;
			fl.out = (double)fl.q * l->qm;
			a = (struct amt){
			    .v = fl.out, .x = fl.q, .xs = l->p->qty_scale, .exact = true};
		} else {
			fl.in = (double)fl.q * l->qm;
			fl.out = cost - fl.fee;
			a = (struct amt){.v = fl.out};
		}
		if (k == 0)
			*spent = fl.in;
		if (fills)
			fills[k] = fl;
	}
	*out = a.v;
	return true;
}

/* Continuous walks (no rounding), for mapping breakpoints back to Q1. */
static double cost_cont(const struct leg *l, double q)
{
	double c = 0;
	for (size_t i = 0; i < l->n && q > 0; i++) {
		double take = q < (double)l->lv[i].qty ? q : (double)l->lv[i].qty;
		c += (double)l->lv[i].price * take;
		q -= take;
	}
	return c;
}

static double qty_for_cost(const struct leg *l, double c)
{
	double q = 0;
	for (size_t i = 0; i < l->n && c > 0; i++) {
		double lc = (double)l->lv[i].price * (double)l->lv[i].qty;
		if (c >= lc) {
			q += (double)l->lv[i].qty;
			c -= lc;
		} else {
			q += c / (double)l->lv[i].price;
			c = 0;
		}
	}
	return q;
}

/* Input of leg l (its asset_in units) that yields out (its asset_out units). */
static double inverse(const struct leg *l, double out)
{
	if (l->side == ARB_BUY)
		return cost_cont(l, out / l->qm) * l->pq * (1 + l->f);
	return qty_for_cost(l, out / (1 - l->f) / l->pq) * l->qm;
}

/* Q1 (raw qty of leg 0) at which leg k's input reaches in_k. */
static double back_to_q1(const struct leg *legs, unsigned k, double in_k)
{
	double x = in_k;
	for (unsigned j = k - 1; j > 0; j--)
		x = inverse(&legs[j], x);
	const struct leg *l0 = &legs[0];
	if (l0->side == ARB_BUY)
		return x / l0->qm;
	return qty_for_cost(l0, x / (1 - l0->f) / l0->pq);
}

/* The continuous profit (no rounding, no minimums) at first-leg quantity q1
 * (raw units, fractional): the concave function the candidates sit on. */
static double profit_cont(const struct leg *legs, unsigned n, double q1)
{
	const struct leg *l0 = &legs[0];
	double spent, x;
	if (l0->side == ARB_BUY) {
		spent = cost_cont(l0, q1) * l0->pq * (1 + l0->f);
		x = q1 * l0->qm;
	} else {
		spent = q1 * l0->qm;
		x = cost_cont(l0, q1) * l0->pq * (1 - l0->f);
	}
	for (unsigned k = 1; k < n; k++) {
		const struct leg *l = &legs[k];
		if (l->side == ARB_BUY) {
			x = qty_for_cost(l, x / (1 + l->f) / l->pq) * l->qm;
		} else {
			double q = x / l->qm;
			x = cost_cont(l, q < (double)l->depth ? q : (double)l->depth) * l->pq *
			    (1 - l->f);
		}
	}
	return x - spent;
}

/* Candidates: each leg's level boundaries up to the cap and its minimums,
 * mapped back to Q1, and the cap itself. Past 128 levels inside the cap on
 * one leg, the deeper boundaries are not tried (the size found is then
 * still executable, only perhaps not the largest profit). */
#define MAX_LEVEL_CAND 128
#define MAX_CAND       (1 + ARB_MAX_LEGS * (MAX_LEVEL_CAND + 2))

struct search {
	const struct leg *legs;
	unsigned n;
	int64_t qmax;
	int64_t best_q;
	double best_profit;
	bool found;
	unsigned n_cand;
	double cand[MAX_CAND];
	bool is_min[MAX_CAND];
};

static void try_q(struct search *s, int64_t q)
{
	double spent = 0, out = 0;
	if (q <= 0 || q > s->qmax)
		return;
	if (!forward(s->legs, s->n, q, &spent, &out, NULL))
		return;
	double profit = out - spent;
	if (!s->found || profit > s->best_profit || (profit == s->best_profit && q < s->best_q)) {
		s->found = true;
		s->best_profit = profit;
		s->best_q = q;
	}
}

/* The rounded function at the multiples of the increment around raw. */
static void try_around(struct search *s, double raw)
{
	int64_t inc = s->legs[0].inc;
	int64_t base = raw >= (double)s->qmax ? s->qmax : round_down((int64_t)raw, inc);
	try_q(s, base - inc);
	try_q(s, base);
	try_q(s, base + inc);
}

static void add_cand(struct search *s, double raw, bool is_min)
{
	if (!(raw > 0))
		raw = 0;
	if (raw > (double)s->qmax)
		raw = (double)s->qmax;
	if (s->n_cand < MAX_CAND) {
		s->cand[s->n_cand] = raw;
		s->is_min[s->n_cand++] = is_min;
	}
}

static void collect(struct search *s)
{
	const struct leg *legs = s->legs;
	add_cand(s, (double)s->qmax, false);
	for (unsigned k = 0; k < s->n; k++) {
		const struct leg *l = &legs[k];
		double cum_q = 0, cum_c = 0;
		for (size_t i = 0; i < l->n && i < MAX_LEVEL_CAND; i++) {
			cum_q += (double)l->lv[i].qty;
			cum_c += (double)l->lv[i].price * (double)l->lv[i].qty;
			double in = l->side == ARB_BUY ? cum_c * l->pq * (1 + l->f) : cum_q * l->qm;
			double q1 = k == 0 ? cum_q : back_to_q1(legs, k, in);
			add_cand(s, q1, false);
			if (q1 >= (double)s->qmax)
				break; /* deeper levels map past the cap too */
		}
		if (k == 0) {
			add_cand(s, (double)l->qmin, true);
			add_cand(s, qty_for_cost(l, l->cmin_raw), true);
			continue;
		}
		double qmin_in = l->side == ARB_BUY
				     ? cost_cont(l, (double)l->qmin) * l->pq * (1 + l->f)
				     : (double)l->qmin * l->qm;
		double cmin_in = l->side == ARB_BUY ? l->cmin_raw * l->pq * (1 + l->f)
						    : qty_for_cost(l, l->cmin_raw) * l->qm;
		add_cand(s, back_to_q1(legs, k, qmin_in), true);
		add_cand(s, back_to_q1(legs, k, cmin_in), true);
	}
}

/* The continuous maximum sits on a breakpoint (concavity): find it on the
 * cheap continuous function, then evaluate the rounded one around it. When
 * the minimums make it infeasible, the best feasible size is the smallest
 * one, at or just above one of the minimums mapped back. */
static void search_size(struct search *s)
{
	collect(s);
	double best = 0, best_raw = 0;
	bool have = false;
	for (unsigned i = 0; i < s->n_cand; i++) {
		if (s->cand[i] <= 0)
			continue;
		double p = profit_cont(s->legs, s->n, s->cand[i]);
		if (!have || p > best) {
			have = true;
			best = p;
			best_raw = s->cand[i];
		}
	}
	if (!have)
		return;
	try_around(s, best_raw);
	if (s->found)
		return;
	for (unsigned i = 0; i < s->n_cand; i++)
		if (s->is_min[i] && s->cand[i] >= best_raw)
			try_around(s, s->cand[i]);
}

static enum arb_verdict load_legs(const struct arb__env *env, const struct arb__cycle *c,
				  uint64_t now_ns, struct leg *legs, double *top)
{
	*top = 1;
	for (unsigned k = 0; k < c->n_legs; k++) {
		uint32_t pi = ARB__DIR_PAIR(c->dir[k]);
		struct leg *l = &legs[k];
		const struct book *b = env->books[pi];
		if (!env->tradable[pi])
			return ARB_V_NOT_TRADABLE;
		if (!b)
			return ARB_V_NO_BOOK;
		if (!book_valid(b))
			return ARB_V_INVALID_BOOK;
		uint64_t last = book_last_update_ns(b);
		uint64_t age = now_ns > last ? now_ns - last : 0;
		if (age > env->max_age_ns)
			return ARB_V_STALE_BOOK;
		memset(l, 0, sizeof *l);
		l->p = &env->g->pairs[pi];
		l->side = ARB__DIR_SIDE(c->dir[k]);
		l->lv = l->side == ARB_BUY ? book_asks(b, &l->n) : book_bids(b, &l->n);
		if (!l->n)
			return ARB_V_EMPTY_BOOK;
		l->f = env->fee_bps[pi] / 1e4;
		l->qm = 1.0 / (double)fx_pow10(l->p->qty_scale);
		l->pq = l->qm / (double)fx_pow10(l->p->price_scale);
		/* cost_min is at cost_scale; raw units are at price + qty scale. */
		l->cmin_raw = (double)l->p->cost_min / (double)fx_pow10(l->p->cost_scale) / l->pq;
		l->inc = l->p->qty_increment;
		l->qmin = l->p->qty_min;
		int64_t d = 0;
		for (size_t i = 0; i < l->n; i++)
			d += l->lv[i].qty;
		l->depth = round_down(d, l->inc);
		l->age_ms = (uint32_t)(age / 1000000u);
		double p0 = (double)l->lv[0].price / (double)fx_pow10(l->p->price_scale);
		*top *= l->side == ARB_BUY ? 1.0 / (p0 * (1 + l->f)) : p0 * (1 - l->f);
	}
	return ARB_V_OPP;
}

static void fill_opp(const struct arb__env *env, const struct arb__cycle *c, const struct leg *legs,
		     const struct fill *fills, uint32_t ci, uint64_t now_ns, struct arb_opp *o)
{
	const struct arb_graph *g = env->g;
	unsigned n = c->n_legs;
	memset(o, 0, sizeof *o);
	o->cycle = ci;
	o->n_legs = (uint8_t)n;
	memcpy(o->home, g->homes[c->home], sizeof o->home);
	o->trigger_ns = now_ns;
	o->net_rate = 1;
	size_t pos = strlen(o->home);
	memcpy(o->path, o->home, pos + 1);
	for (unsigned k = 0; k < n; k++) {
		const struct leg *l = &legs[k];
		const struct fill *fl = &fills[k];
		struct arb_leg *lg = &o->legs[k];
		lg->pair = ARB__DIR_PAIR(c->dir[k]);
		memcpy(lg->symbol, l->p->symbol, sizeof lg->symbol);
		lg->side = l->side;
		const char *in = l->side == ARB_BUY ? l->p->quote : l->p->base;
		const char *out = l->side == ARB_BUY ? l->p->base : l->p->quote;
		memcpy(lg->asset_in, in, sizeof lg->asset_in);
		memcpy(lg->asset_out, out, sizeof lg->asset_out);
		lg->price_scale = l->p->price_scale;
		lg->qty_scale = l->p->qty_scale;
		int64_t pinc = l->p->price_increment;
		lg->limit_price = l->side == ARB_BUY ? (fl->worst + pinc - 1) / pinc * pinc
						     : fl->worst / pinc * pinc;
		lg->qty = fl->q;
		lg->expected_in = fl->in;
		lg->expected_out = fl->out;
		lg->rate = fl->in > 0 ? fl->out / fl->in : 0;
		lg->fee_bps = l->f * 1e4;
		lg->fee = fl->fee;
		lg->book_age_ms = l->age_ms;
		if (l->age_ms > o->max_book_age_ms)
			o->max_book_age_ms = l->age_ms;
		o->net_rate *= lg->rate;
		size_t len = strlen(out);
		if (pos + 1 + len < sizeof o->path) {
			o->path[pos++] = '>';
			memcpy(o->path + pos, out, len + 1);
			pos += len;
		}
	}
	o->size_home = fills[0].in;
	o->out_home = fills[n - 1].out;
	o->profit_home = o->out_home - o->size_home;
	o->profit_bps = o->size_home > 0 ? o->profit_home / o->size_home * 1e4 : 0;
	/* Fees at the cycle's own rates: the home spent per unit of each asset
	 * acquired along the way; a fee charged in the home asset counts as it is. */
	for (unsigned k = 0; k < n; k++) {
		bool in_quote = legs[k].side == ARB_BUY;
		double value = 1;
		if (in_quote && k > 0)
			value = o->size_home / fills[k - 1].out;
		else if (!in_quote && k + 1 < n)
			value = o->size_home / fills[k].out;
		o->fee_home += fills[k].fee * value;
	}
}

enum arb_verdict arb__eval(const struct arb__env *env, uint32_t ci, uint64_t now_ns,
			   struct arb_opp *out)
{
	const struct arb_graph *g = env->g;
	if (!g || ci >= g->n_cycles)
		return ARB_V_NOT_TRADABLE;
	const struct arb__cycle *c = &g->cycles[ci];
	struct leg legs[ARB_MAX_LEGS];
	double top;
	enum arb_verdict v = load_legs(env, c, now_ns, legs, &top);
	if (v != ARB_V_OPP)
		return v;
	if (top * (1 + 1e-12) < 1 + env->min_profit_bps / 1e4)
		return ARB_V_SCREENED;
	struct search s = {.legs = legs, .n = c->n_legs};
	double cap = env->cap[c->home];
	const struct leg *l0 = &legs[0];
	if (l0->side == ARB_BUY) {
		s.qmax = buy_max(l0, cap);
	} else {
		struct amt a = {.v = cap};
		s.qmax = sell_max(l0, &a);
	}
	search_size(&s);
	if (!s.found)
		return ARB_V_TOO_SMALL;
	if (!(s.best_profit > 0))
		return ARB_V_UNPROFITABLE;
	struct fill fills[ARB_MAX_LEGS];
	double spent = 0, ret = 0;
	forward(legs, c->n_legs, s.best_q, &spent, &ret, fills);
	fill_opp(env, c, legs, fills, ci, now_ns, out);
	return out->profit_bps >= env->min_profit_bps ? ARB_V_OPP : ARB_V_BELOW_MIN;
}

/* The detector against a brute-force reference on thousands of random
 * universes and books.
 *
 * The reference is written here from the model in arb.h, independently of
 * src/arb: cycles by nested loops over every sequence of directed pairs, and
 * the best size by evaluating EVERY first-leg quantity Q1 (each multiple of
 * its increment up to the depth and the cap), with a binary search for each
 * buy leg's largest affordable quantity. It checks that:
 *   - both find the same set of cycles;
 *   - what the detector reports is exactly the model at the detector's Q1
 *     (every leg's quantity, the amounts and the profit);
 *   - the detector's profit is at most the reference's best and short of it
 *     by less than one quantity increment per leg (valued in the home asset):
 *     the price of evaluating ~40 candidate sizes instead of all of them;
 *   - a cycle the reference finds clearly above the minimum is reported, one
 *     below it never is, and the top-of-book screen never hides one;
 *   - no cycle is ever reported from an invalid, stale or empty book;
 *   - arb_on_book emits exactly the best opportunities through the pair. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arb/arb.h"
#include "arb_test.h"

#define MAX_ASSETS 6
#define MAX_PAIRS  15
#define MAX_LV	   6
#define MAX_CYC	   4096
#define NOW	   (100ull * 1000000000ull)
#define MAX_AGE_MS 500

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double unif(double lo, double hi)
{
	return lo + (hi - lo) * (double)(rnd() >> 11) / 9007199254740992.0;
}

static int irand(int lo, int hi)
{
	return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

struct world {
	int n_assets;
	double value[MAX_ASSETS]; /* fair value in A0 units */
	char names[MAX_ASSETS][8];
	int n_pairs;
	struct arb_pair pairs[MAX_PAIRS];
	int base[MAX_PAIRS], quote[MAX_PAIRS];
	double fee[MAX_PAIRS]; /* effective fee, bps */
	struct book *books[MAX_PAIRS];
	bool usable[MAX_PAIRS]; /* valid and fresh */
	double cap[2];
	double min_bps;
};

/* ---- the world ---------------------------------------------------------- */

static void make_pairs(struct world *w)
{
	w->n_assets = irand(3, MAX_ASSETS);
	w->value[0] = 1;
	for (int a = 0; a < w->n_assets; a++) {
		w->names[a][0] = 'A', w->names[a][1] = (char)('0' + a), w->names[a][2] = '\0';
		if (a)
			w->value[a] = exp(unif(-3, 5));
	}
	w->n_pairs = 0;
	for (int i = 0; i < w->n_assets; i++) {
		for (int j = i + 1; j < w->n_assets; j++) {
			if (unif(0, 1) > 0.75 || w->n_pairs == MAX_PAIRS)
				continue;
			int b = i, q = j;
			if (rnd() & 1)
				b = j, q = i;
			double price = w->value[b] / w->value[q];
			int ps = (int)ceil(3 - log10(price));
			ps = ps < 0 ? 0 : (ps > 12 ? 12 : ps);
			int qs = (int)lround(log10(w->value[b])) + irand(1, 2);
			qs = qs < 0 ? 0 : (qs > 8 ? 8 : qs);
			struct arb_pair p = tp_pair(w->names[b], w->names[q], ps, qs);
			static const int incs[] = {1, 1, 2, 5, 10};
			p.qty_increment = incs[irand(0, 4)];
			int m = irand(0, 5);
			p.qty_min = m == 0 ? p.qty_increment : (m == 1 ? 3 * p.qty_increment : 0);
			p.cost_scale = ps + qs > 8 ? 8 : ps + qs;
			if (irand(0, 4) == 0) /* about 0.2 home units, in quote */
				p.cost_min = (int64_t)(0.2 / w->value[q] * pow(10, p.cost_scale));
			p.taker_fee_bps = irand(0, 2) ? ARB_FEE_DEFAULT : unif(0, 30);
			p.tradable = irand(0, 9) != 0;
			int k = w->n_pairs++;
			w->pairs[k] = p;
			w->base[k] = b;
			w->quote[k] = q;
			w->fee[k] = p.taker_fee_bps < 0 ? 10 : p.taker_fee_bps;
		}
	}
}

static void make_books_one(struct world *w, int k)
{
	{
		const struct arb_pair *p = &w->pairs[k];
		double scale = pow(10, p->price_scale);
		double fair = w->value[w->base[k]] / w->value[w->quote[k]];
		struct book_level bids[MAX_LV], asks[MAX_LV];
		size_t nb = (size_t)irand(0, MAX_LV), na = (size_t)irand(0, MAX_LV);
		if (irand(0, 9))
			nb += !nb, na += !na;
		int64_t bid = llround(fair * (1 + unif(-0.01, 0.02)) * scale);
		int64_t ask = llround((double)bid * (1 + unif(0.0003, 0.01)));
		bid = bid < 2 ? 2 : bid;
		ask = ask <= bid ? bid + 1 : ask;
		int64_t step_lo = llround(fair * scale * 0.0005) + 1;
		for (size_t i = 0; i < nb; i++) {
			bids[i].price = bid;
			bids[i].qty =
			    p->qty_increment * irand(1, 150) + (irand(0, 3) ? 0 : irand(0, 3));
			bid -= step_lo * irand(1, 10);
			if (bid < 1) {
				nb = i + 1;
				break;
			}
		}
		for (size_t i = 0; i < na; i++) {
			asks[i].price = ask;
			asks[i].qty =
			    p->qty_increment * irand(1, 150) + (irand(0, 3) ? 0 : irand(0, 3));
			ask += step_lo * irand(1, 10);
		}
		uint64_t stamp = NOW - (uint64_t)irand(0, MAX_AGE_MS) * 1000000u;
		bool stale = irand(0, 39) == 0;
		if (stale)
			stamp = NOW - (uint64_t)(MAX_AGE_MS + irand(1, 5000)) * 1000000u;
		if (!w->books[k])
			w->books[k] = book_new(p->symbol, p->price_scale, p->qty_scale, 10, NULL);
		assert_non_null(w->books[k]);
		assert_int_equal(tp_fill(w->books[k], bids, nb, asks, na, stamp), 0);
		bool invalid = irand(0, 39) == 0;
		if (invalid)
			book_invalidate(w->books[k]);
		w->usable[k] = !stale && !invalid;
	}
}

static void make_books(struct world *w)
{
	for (int k = 0; k < w->n_pairs; k++)
		make_books_one(w, k);
}

/* ---- reference cycles -------------------------------------------------- */

struct rcycle {
	int home, n;
	int pair[4];
	enum arb_side side[4];
};

static int key_cmp(const void *x, const void *y)
{
	const struct rcycle *a = x, *b = y;
	if (a->home != b->home)
		return a->home - b->home;
	if (a->n != b->n)
		return a->n - b->n;
	for (int i = 0; i < a->n; i++) {
		if (a->pair[i] != b->pair[i])
			return a->pair[i] - b->pair[i];
		if (a->side[i] != b->side[i])
			return (int)a->side[i] - (int)b->side[i];
	}
	return 0;
}

static int in_asset(const struct world *w, int p, enum arb_side s)
{
	return s == ARB_BUY ? w->quote[p] : w->base[p];
}

static int out_asset(const struct world *w, int p, enum arb_side s)
{
	return s == ARB_BUY ? w->base[p] : w->quote[p];
}

/* Every sequence of len directed pairs from home back to home over distinct
 * intermediate assets, trying every directed pair at every position. */
static void ref_extend(const struct world *w, int h, int len, int i, int at, int *d, int *seen,
		       struct rcycle *out, int *n)
{
	for (int e = 0; e < w->n_pairs * 2; e++) {
		int p = e / 2;
		enum arb_side s = (enum arb_side)(e % 2);
		if (!w->pairs[p].tradable || in_asset(w, p, s) != at)
			continue;
		int to = out_asset(w, p, s);
		d[i] = e;
		if (i + 1 == len) {
			if (to != h)
				continue;
			struct rcycle *c = &out[(*n)++];
			c->home = h;
			c->n = len;
			for (int j = 0; j < len; j++) {
				c->pair[j] = d[j] / 2;
				c->side[j] = (enum arb_side)(d[j] % 2);
			}
			continue;
		}
		bool dup = false;
		for (int j = 0; j <= i; j++)
			dup |= seen[j] == to;
		if (dup)
			continue;
		seen[i + 1] = to;
		ref_extend(w, h, len, i + 1, to, d, seen, out, n);
	}
}

static int ref_cycles(const struct world *w, int n_homes, struct rcycle *out)
{
	int n = 0;
	for (int h = 0; h < n_homes && h < w->n_assets; h++) {
		for (int len = 3; len <= 4; len++) {
			int d[4], seen[4] = {h};
			ref_extend(w, h, len, 0, h, d, seen, out, &n);
		}
	}
	return n;
}

/* ---- reference evaluation ---------------------------------------------- */

struct rleg {
	const struct book_level *lv;
	size_t n;
	enum arb_side side;
	double f, qm, pq, cmin;
	int64_t inc, qmin, depth;
	int qs;
};

static double rcost(const struct rleg *l, int64_t q)
{
	double c = 0;
	for (size_t i = 0; i < l->n && q > 0; i++) {
		int64_t t = q < l->lv[i].qty ? q : l->lv[i].qty;
		c += (double)l->lv[i].price * (double)t;
		q -= t;
	}
	return c;
}

static bool affordable(const struct rleg *l, int64_t q, double a)
{
	return rcost(l, q) * l->pq * (1 + l->f) <= a;
}

/* Largest multiple of inc within depth that a quote units pay for. */
static int64_t rbuy(const struct rleg *l, double a)
{
	int64_t lo = 0, hi = l->depth / l->inc;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo + 1) / 2;
		if (affordable(l, mid * l->inc, a))
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo * l->inc;
}

struct ramt {
	double v;
	int64_t x;
	int xs;
	bool exact;
};

static int64_t rsell(const struct rleg *l, const struct ramt *a)
{
	int64_t q;
	if (a->exact) {
		q = a->x;
		for (int s = a->xs; s < l->qs; s++)
			q = q > INT64_MAX / 10 ? INT64_MAX : q * 10;
		for (int s = l->qs; s < a->xs; s++)
			q /= 10;
	} else {
		double r = floor(a->v / l->qm);
		q = r >= (double)l->depth ? l->depth : (r > 0 ? (int64_t)r : 0);
	}
	if (q > l->depth)
		q = l->depth;
	return q / l->inc * l->inc;
}

struct rres {
	int64_t q[4];
	double spent, out;
};

static bool rforward(const struct rleg *legs, int n, int64_t q1, struct rres *r)
{
	struct ramt a = {0};
	for (int k = 0; k < n; k++) {
		const struct rleg *l = &legs[k];
		int64_t q = k == 0 ? q1 : (l->side == ARB_BUY ? rbuy(l, a.v) : rsell(l, &a));
		if (q <= 0 || q < l->qmin)
			return false;
		double c = rcost(l, q);
		if (c < l->cmin)
			return false;
		double cost = c * l->pq, fee = cost * l->f;
		double in = l->side == ARB_BUY ? cost + fee : (double)q * l->qm;
		if (l->side == ARB_BUY)
			a = (struct ramt){
			    .v = (double)q * l->qm, .x = q, .xs = l->qs, .exact = true};
		else
			a = (struct ramt){.v = cost - fee};
		if (k == 0)
			r->spent = in;
		r->q[k] = q;
	}
	r->out = a.v;
	return true;
}

struct rbest {
	bool usable, found;
	int64_t q1;
	double profit, bps, top, tol;
};

static struct rbest ref_eval(const struct world *w, const struct rcycle *c)
{
	struct rbest b = {.usable = true, .top = 1};
	struct rleg legs[4];
	for (int k = 0; k < c->n; k++) {
		int p = c->pair[k];
		const struct arb_pair *pp = &w->pairs[p];
		struct rleg *l = &legs[k];
		l->side = c->side[k];
		l->lv = l->side == ARB_BUY ? book_asks(w->books[p], &l->n)
					   : book_bids(w->books[p], &l->n);
		if (!w->usable[p] || !l->n)
			b.usable = false;
		if (!l->n)
			return b;
		l->f = w->fee[p] / 1e4;
		l->qs = pp->qty_scale;
		l->qm = 1.0 / pow(10, pp->qty_scale);
		l->pq = l->qm / pow(10, pp->price_scale);
		l->cmin = (double)pp->cost_min / pow(10, pp->cost_scale) / l->pq;
		l->inc = pp->qty_increment;
		l->qmin = pp->qty_min;
		int64_t d = 0;
		for (size_t i = 0; i < l->n; i++)
			d += l->lv[i].qty;
		l->depth = d / l->inc * l->inc;
		double p0 = (double)l->lv[0].price / pow(10, pp->price_scale);
		b.top *= l->side == ARB_BUY ? 1 / (p0 * (1 + l->f)) : p0 * (1 - l->f);
		b.tol += (double)l->inc * l->qm * w->value[w->base[p]] / w->value[c->home];
	}
	double cap = w->cap[c->home];
	for (int64_t q1 = legs[0].inc; q1 <= legs[0].depth; q1 += legs[0].inc) {
		struct rres r;
		const struct rleg *l0 = &legs[0];
		double spend = l0->side == ARB_BUY ? rcost(l0, q1) * l0->pq * (1 + l0->f)
						   : (double)q1 * l0->qm;
		if (spend > cap)
			break;
		if (!rforward(legs, c->n, q1, &r))
			continue;
		double profit = r.out - r.spent;
		if (!b.found || profit > b.profit) {
			b.found = true;
			b.profit = profit;
			b.q1 = q1;
			b.bps = profit / r.spent * 1e4;
		}
	}
	return b;
}

/* The model at the detector's Q1 must be what the detector reported. */
static void check_opp_matches_model(const struct world *w, const struct rcycle *c,
				    const struct arb_opp *o)
{
	struct rleg legs[4];
	struct rres r;
	for (int k = 0; k < c->n; k++) {
		int p = c->pair[k];
		const struct arb_pair *pp = &w->pairs[p];
		struct rleg *l = &legs[k];
		l->side = c->side[k];
		l->lv = l->side == ARB_BUY ? book_asks(w->books[p], &l->n)
					   : book_bids(w->books[p], &l->n);
		l->f = w->fee[p] / 1e4;
		l->qs = pp->qty_scale;
		l->qm = 1.0 / pow(10, pp->qty_scale);
		l->pq = l->qm / pow(10, pp->price_scale);
		l->cmin = (double)pp->cost_min / pow(10, pp->cost_scale) / l->pq;
		l->inc = pp->qty_increment;
		l->qmin = pp->qty_min;
		int64_t d = 0;
		for (size_t i = 0; i < l->n; i++)
			d += l->lv[i].qty;
		l->depth = d / l->inc * l->inc;
		assert_int_equal(o->legs[k].pair, (uint32_t)p);
		assert_int_equal(o->legs[k].side, c->side[k]);
	}
	assert_true(o->legs[0].qty % legs[0].inc == 0);
	assert_true(rforward(legs, c->n, o->legs[0].qty, &r));
	for (int k = 0; k < c->n; k++)
		assert_int_equal(o->legs[k].qty, r.q[k]);
	assert_true(fabs(o->size_home - r.spent) <= 1e-9 * (1 + fabs(r.spent)));
	assert_true(fabs(o->out_home - r.out) <= 1e-9 * (1 + fabs(r.out)));
	assert_true(o->size_home <= w->cap[c->home] * (1 + 1e-12));
}

struct stats {
	unsigned universes, cycles, compared, opps, exact, unusable, screened;
	double worst_gap_incs;
	unsigned verdicts[ARB_V_COUNT];
	unsigned stream_opps;
};

static struct arb_opp emitted[ARB_MAX_EMIT];
static unsigned n_emitted;

static void on_opp(void *ctx, const struct arb_opp *o)
{
	(void)ctx;
	assert_true(n_emitted < ARB_MAX_EMIT);
	emitted[n_emitted++] = *o;
}

static int profit_desc(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? 1 : (a > b ? -1 : 0);
}

static void check_world(struct world *w, int n_homes, struct stats *st)
{
	static struct rcycle ref[MAX_CYC], det[MAX_CYC];
	struct err_info info;
	char homes[32];
	snprintf(homes, sizeof homes, n_homes == 2 ? "A0,A1" : "A0");
	struct arb_cfg cfg = tp_cfg(homes, 10, w->min_bps, 1e9);
	cfg.max_book_age_ms = MAX_AGE_MS;
	struct arb *a = arb_new(&cfg, NULL, 1, &info);
	assert_non_null(a);
	assert_int_equal(arb_set_universe(a, w->pairs, (uint32_t)w->n_pairs, 0, &info), 0);
	for (int h = 0; h < n_homes; h++)
		assert_int_equal(arb_set_balance(a, w->names[h], w->cap[h]), 0);
	for (int k = 0; k < w->n_pairs; k++)
		assert_int_equal(arb_bind_book(a, (uint32_t)k, w->books[k]), 0);
	arb_set_callback(a, on_opp, NULL);

	/* Same cycles. */
	int nr = ref_cycles(w, n_homes, ref);
	uint32_t nd = arb_cycle_count(a);
	assert_int_equal(nd, (uint32_t)nr);
	for (uint32_t c = 0; c < nd; c++) {
		unsigned n;
		uint32_t pairs[4];
		enum arb_side sides[4];
		char name[ARB_PATH_MAX];
		assert_int_equal(arb_cycle_legs(a, c, &n, pairs, sides), 0);
		assert_int_equal(arb_cycle_name(a, c, name, sizeof name) > 0, 1);
		det[c].home = name[1] - '0';
		det[c].n = (int)n;
		for (unsigned i = 0; i < n; i++) {
			det[c].pair[i] = (int)pairs[i];
			det[c].side[i] = sides[i];
		}
	}
	static struct rcycle sorted[MAX_CYC];
	memcpy(sorted, det, nd * sizeof *det);
	qsort(sorted, nd, sizeof *sorted, key_cmp);
	qsort(ref, (size_t)nr, sizeof *ref, key_cmp);
	for (int i = 0; i < nr; i++)
		assert_int_equal(key_cmp(&sorted[i], &ref[i]), 0);
	st->cycles += nd;

	/* Same evaluation. */
	for (uint32_t c = 0; c < nd; c++) {
		struct arb_opp o;
		enum arb_verdict v = arb_eval_cycle(a, c, NOW, &o);
		struct rbest b = ref_eval(w, &det[c]);
		bool reported = v == ARB_V_OPP || v == ARB_V_BELOW_MIN;
		st->verdicts[v]++;
		if (!b.usable) {
			st->unusable++;
			assert_false(reported);
			continue;
		}
		st->compared++;
		if (v == ARB_V_SCREENED) {
			st->screened++;
			assert_true(b.top < 1 + w->min_bps / 1e4 + 1e-9);
			assert_true(!b.found || b.bps < w->min_bps + 1e-6);
			continue;
		}
		if (reported) {
			check_opp_matches_model(w, &det[c], &o);
			assert_true(b.found);
			assert_true(o.profit_home <= b.profit + 1e-9 * (1 + fabs(b.profit)));
			double gap = b.profit - o.profit_home;
			if (gap > b.tol + 1e-9)
				fail_msg("cycle %s: detector %.12g at Q1=%lld, reference %.12g at "
					 "Q1=%lld, tolerance %.12g",
					 o.path, o.profit_home, (long long)o.legs[0].qty, b.profit,
					 (long long)b.q1, b.tol);
			if (gap / b.tol > st->worst_gap_incs)
				st->worst_gap_incs = gap / b.tol;
			st->exact += gap <= 1e-9 * (1 + fabs(b.profit));
			assert_true((v == ARB_V_OPP) == (o.profit_bps >= w->min_bps));
			st->opps += v == ARB_V_OPP;
		} else if (b.found && b.profit > 2 * b.tol && b.bps >= w->min_bps + 1) {
			fail_msg(
			    "cycle %u missed: verdict %s, reference %.12g (%.3f bps) at Q1=%lld",
			    (unsigned)c, arb_verdict_name(v), b.profit, b.bps, (long long)b.q1);
		}
	}

	/* arb_on_book emits the best opportunities through the pair. */
	for (int k = 0; k < w->n_pairs; k++) {
		double want[MAX_CYC];
		unsigned nw = 0;
		const uint32_t *ids;
		uint32_t n = arb_cycles_through(a, (uint32_t)k, &ids);
		for (uint32_t i = 0; i < n; i++) {
			struct arb_opp o;
			if (arb_eval_cycle(a, ids[i], NOW, &o) == ARB_V_OPP)
				want[nw++] = o.profit_home;
		}
		qsort(want, nw, sizeof *want, profit_desc);
		n_emitted = 0;
		int rc = arb_on_book(a, (uint32_t)k, NOW);
		unsigned expect = nw < ARB_MAX_EMIT ? nw : ARB_MAX_EMIT;
		assert_int_equal(rc, (int)expect);
		assert_int_equal(n_emitted, expect);
		for (unsigned i = 0; i < expect; i++) {
			assert_true(fabs(emitted[i].profit_home - want[i]) <= 1e-12);
			for (unsigned l = 0; l < emitted[i].n_legs; l++)
				assert_true(w->usable[emitted[i].legs[l].pair]);
			if (i)
				assert_true(emitted[i].id == emitted[i - 1].id + 1);
		}
	}
	/* A stream of updates, each followed by arb_on_book: the cached rates
	 * and pass flags it keeps must never hide an opportunity. Half of the
	 * updates leave the best prices alone (a quantity deeper or at the
	 * top), the others re-draw the book or invalidate it. */
	for (int u = 0; u < 20 && w->n_pairs; u++) {
		int q = irand(0, w->n_pairs - 1);
		struct book_level bids[16], asks[16];
		size_t nb = 0, na = 0;
		const struct book_level *lb = book_bids(w->books[q], &nb);
		const struct book_level *la = book_asks(w->books[q], &na);
		memcpy(bids, lb, nb * sizeof *bids);
		memcpy(asks, la, na * sizeof *asks);
		int kind = irand(0, 3);
		if (kind <= 1 && (nb || na)) {
			struct book_level *lv = nb && (!na || (rnd() & 1)) ? bids : asks;
			size_t n = lv == bids ? nb : na;
			lv[irand(0, (int)n - 1)].qty = w->pairs[q].qty_increment * irand(1, 150);
			assert_int_equal(tp_fill(w->books[q], bids, nb, asks, na, NOW), 0);
			w->usable[q] = true;
		} else if (kind == 2) {
			book_invalidate(w->books[q]);
			w->usable[q] = false;
		} else {
			make_books_one(w, q);
		}
		double want[MAX_CYC];
		unsigned nw = 0;
		const uint32_t *ids;
		uint32_t n = arb_cycles_through(a, (uint32_t)q, &ids);
		for (uint32_t i = 0; i < n; i++) {
			struct arb_opp o;
			if (arb_eval_cycle(a, ids[i], NOW, &o) == ARB_V_OPP)
				want[nw++] = o.profit_home;
		}
		qsort(want, nw, sizeof *want, profit_desc);
		n_emitted = 0;
		unsigned expect = nw < ARB_MAX_EMIT ? nw : ARB_MAX_EMIT;
		assert_int_equal(arb_on_book(a, (uint32_t)q, NOW), (int)expect);
		for (unsigned i = 0; i < expect; i++)
			assert_true(fabs(emitted[i].profit_home - want[i]) <= 1e-12);
		st->stream_opps += expect;
	}

	/* A pair going to maintenance takes exactly its cycles with it. */
	int k = w->n_pairs ? irand(0, w->n_pairs - 1) : 0;
	if (w->n_pairs && w->pairs[k].tradable) {
		const uint32_t *ids;
		assert_int_equal(arb_set_tradable(a, (uint32_t)k, false, &info), 0);
		w->pairs[k].tradable = false;
		int left = ref_cycles(w, n_homes, ref);
		w->pairs[k].tradable = true;
		int through = 0;
		for (uint32_t c = 0; c < nd; c++)
			for (int l = 0; l < det[c].n; l++)
				through += det[c].pair[l] == k;
		assert_int_equal(arb_cycle_count(a), (uint32_t)left);
		assert_int_equal(left, (int)nd - through);
		assert_int_equal(arb_cycles_through(a, (uint32_t)k, &ids), 0);
		n_emitted = 0;
		assert_int_equal(arb_on_book(a, (uint32_t)k, NOW), 0);
		assert_int_equal(arb_set_tradable(a, (uint32_t)k, true, &info), 0);
		assert_int_equal(arb_cycle_count(a), nd);
	}
	arb_free(a);
}

static void test_random_worlds(void **state)
{
	(void)state;
	struct stats st = {0};
	rng_state = 0x9e3779b97f4a7c15ull;
	for (int u = 0; u < 600; u++) {
		struct world w;
		memset(&w, 0, sizeof w);
		make_pairs(&w);
		for (int r = 0; r < 6; r++) {
			make_books(&w);
			int n_homes = irand(1, 2);
			for (int h = 0; h < 2; h++) {
				double caps[] = {5, 50, 500, 1e9};
				w.cap[h] = caps[irand(0, 3)] / (h ? w.value[1] : 1);
			}
			w.min_bps = irand(0, 1) ? 0 : unif(0, 50);
			check_world(&w, n_homes, &st);
		}
		for (int k = 0; k < w.n_pairs; k++)
			book_free(w.books[k]);
		st.universes++;
	}
	printf("universes %u, cycles %u, compared %u (screened %u), unusable %u, opps %u, "
	       "exact optimum %u, worst gap %.3f of the tolerance, opps in update streams %u\n",
	       st.universes, st.cycles, st.compared, st.screened, st.unusable, st.opps, st.exact,
	       st.worst_gap_incs, st.stream_opps);
	for (int v = 0; v < ARB_V_COUNT; v++)
		printf("  %-13s %u\n", arb_verdict_name((enum arb_verdict)v), st.verdicts[v]);
	/* The worlds must exercise the interesting paths, or the test proves little. */
	assert_true(st.opps > 1000);
	assert_true(st.stream_opps > 1000);
	assert_true(st.unusable > 3000);
	assert_true(st.screened > 10000);
	assert_true(st.verdicts[ARB_V_TOO_SMALL] > 100 && st.verdicts[ARB_V_BELOW_MIN] > 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_worlds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The market: one truth book per pair (struct book at SIM_BOOK_DEPTH), moved
 * by a seeded random walk of the assets' values, by replayed recordings
 * (replay.c), by
 * arbitrage windows and by fills (sim__book_consume). Every change goes
 * through one path: build the new sides in scratch arrays, diff them against
 * the truth, apply the diff as a book update, mark the pair dirty; ws_public.c
 * then publishes each subscriber's own diff at its depth. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/fixed.h"
#include "core/log.h"
#include "sim/sim_srv.h"

uint64_t sim__rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double sim__uniform(uint64_t *state)
{
	return (double)(sim__rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

double sim__normal(uint64_t *state)
{
	double u1 = sim__uniform(state), u2 = sim__uniform(state);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

size_t sim__pair_count(const struct sim *s)
{
	return s->n_pairs;
}

const struct kr_pair *sim__pair(const struct sim *s, size_t i)
{
	return i < s->n_pairs ? &s->pairs[i].kp : NULL;
}

long sim__pair_find(const struct sim *s, const char *symbol)
{
	for (size_t i = 0; i < s->n_pairs; i++)
		if (strcmp(s->pairs[i].kp.symbol, symbol) == 0)
			return (long)i;
	return -1;
}

const struct book *sim__book(const struct sim *s, size_t i)
{
	return i < s->n_pairs ? s->pairs[i].book : NULL;
}

enum kr_system_status sim__system_status(const struct sim *s)
{
	return s->status;
}

/* a is better than b on this side: higher bids, lower asks. */
static bool better(char side, int64_t a, int64_t b)
{
	return side == 'b' ? a > b : a < b;
}

size_t sim__side_set(char side, struct book_level *lv, size_t n, size_t cap, int64_t price,
		     int64_t qty)
{
	size_t i = 0;
	while (i < n && better(side, lv[i].price, price))
		i++;
	if (i < n && lv[i].price == price) {
		if (qty > 0) {
			lv[i].qty = qty;
			return n;
		}
		memmove(&lv[i], &lv[i + 1], (n - i - 1) * sizeof(*lv));
		return n - 1;
	}
	if (qty <= 0 || n >= cap)
		return n;
	memmove(&lv[i + 1], &lv[i], (n - i) * sizeof(*lv));
	lv[i].price = price;
	lv[i].qty = qty;
	return n + 1;
}

size_t sim__diff_side(char side, const struct book_level *old, size_t nold,
		      const struct book_level *nw, size_t nnew, unsigned depth,
		      struct book_level *out)
{
	size_t i = 0, k = 0, n = 0;
	bool full = nnew >= depth && nnew > 0;
	while (i < nold || k < nnew) {
		if (k >= nnew || (i < nold && better(side, old[i].price, nw[k].price))) {
			/* Gone. A subscriber drops what falls below its depth itself. */
			if (!(full && better(side, nw[nnew - 1].price, old[i].price)))
				out[n++] = (struct book_level){old[i].price, 0};
			i++;
		} else if (i >= nold || better(side, nw[k].price, old[i].price)) {
			out[n++] = nw[k++];
		} else {
			if (old[i].qty != nw[k].qty)
				out[n++] = nw[k];
			i++;
			k++;
		}
	}
	return n;
}

size_t sim__top(const struct sim *s, size_t pair, char side, struct book_level *out, size_t cap)
{
	size_t n = 0;
	const struct book_level *lv =
	    side == 'b' ? book_bids(s->pairs[pair].book, &n) : book_asks(s->pairs[pair].book, &n);
	if (n > cap)
		n = cap;
	memcpy(out, lv, n * sizeof(*out));
	return n;
}

void sim__commit(struct sim *s, size_t i, size_t nb, size_t na)
{
	struct sim_pair *p = &s->pairs[i];
	size_t ob = sim__top(s, i, 'b', s->old_bids, SIM_BOOK_DEPTH);
	size_t oa = sim__top(s, i, 'a', s->old_asks, SIM_BOOK_DEPTH);
	if (nb > SIM_BOOK_DEPTH)
		nb = SIM_BOOK_DEPTH;
	if (na > SIM_BOOK_DEPTH)
		na = SIM_BOOK_DEPTH;
	size_t db =
	    sim__diff_side('b', s->old_bids, ob, s->scratch_bids, nb, SIM_BOOK_DEPTH, s->view_bids);
	size_t da =
	    sim__diff_side('a', s->old_asks, oa, s->scratch_asks, na, SIM_BOOK_DEPTH, s->view_asks);
	if (db == 0 && da == 0)
		return;
	uint32_t want = book_checksum_levels(s->scratch_asks, na < 10 ? na : 10, s->scratch_bids,
					     nb < 10 ? nb : 10);
	/* The truth's first message is a snapshot so the book is valid; the
	 * expected checksum is the one of the sides just built, so book_end
	 * checks that book/ applied them exactly. */
	bool snap = !book_valid(p->book);
	book_begin(p->book, snap);
	if (snap) {
		for (size_t k = 0; k < nb; k++)
			book_set_bid(p->book, s->scratch_bids[k].price, s->scratch_bids[k].qty);
		for (size_t k = 0; k < na; k++)
			book_set_ask(p->book, s->scratch_asks[k].price, s->scratch_asks[k].qty);
	} else {
		for (size_t k = 0; k < db; k++)
			book_set_bid(p->book, s->view_bids[k].price, s->view_bids[k].qty);
		for (size_t k = 0; k < da; k++)
			book_set_ask(p->book, s->view_asks[k].price, s->view_asks[k].qty);
	}
	int rc = book_end(p->book, want, clock_mono_ns());
	if (rc != 0)
		LOG_ERROR("sim", "truth book update failed", "symbol=%s err=%s", p->kp.symbol,
			  err_str(rc));
	p->dirty = true;
	p->updates++;
}

static int64_t rand_qty(struct sim *s, struct sim_pair *p)
{
	double units =
	    s->level_notional / s->assets[p->base].value * (0.2 + 2.8 * sim__uniform(&p->rng));
	double fx = units * (double)fx_pow10(p->kp.qty_precision);
	int64_t inc = p->kp.qty_increment;
	int64_t q = (int64_t)(fx / (double)inc) * inc;
	int64_t min = p->kp.qty_min > inc ? p->kp.qty_min : inc;
	return q < min ? min : q;
}

double sim__pair_mid(const struct sim *s, size_t i)
{
	const struct sim_pair *p = &s->pairs[i];
	return s->assets[p->base].value / s->assets[p->quote].value * p->bias;
}

/* One random-walk update of pair i: the top follows the mid, then a few
 * levels change, appear or disappear, and the tail is kept near p->levels. */
static void walk_update(struct sim *s, size_t i)
{
	struct sim_pair *p = &s->pairs[i];
	const size_t cap = 2 * SIM_BOOK_DEPTH;
	struct book_level *bids = s->scratch_bids, *asks = s->scratch_asks;
	size_t nb = sim__top(s, i, 'b', bids, SIM_BOOK_DEPTH);
	size_t na = sim__top(s, i, 'a', asks, SIM_BOOK_DEPTH);
	double mid = sim__pair_mid(s, i) * (double)fx_pow10(p->kp.price_precision);
	int64_t inc = p->kp.price_increment;
	int64_t bb = (int64_t)floor(mid * (1 - p->half_spread) / (double)inc) * inc;
	int64_t ba = (int64_t)ceil(mid * (1 + p->half_spread) / (double)inc) * inc;
	if (bb < inc)
		bb = inc;
	if (ba <= bb)
		ba = bb + inc;
	int64_t step = (int64_t)llround(mid * p->level_step / (double)inc) * inc;
	if (step < inc)
		step = inc;
	size_t maxn = p->levels + 5 > SIM_BOOK_DEPTH ? SIM_BOOK_DEPTH : p->levels + 5;

	/* Levels the new top crossed go. */
	size_t cut = 0;
	while (cut < nb && bids[cut].price > bb)
		cut++;
	memmove(bids, bids + cut, (nb - cut) * sizeof(*bids));
	nb -= cut;
	cut = 0;
	while (cut < na && asks[cut].price < ba)
		cut++;
	memmove(asks, asks + cut, (na - cut) * sizeof(*asks));
	na -= cut;
	if (nb == 0 || bids[0].price != bb)
		nb = sim__side_set('b', bids, nb, cap, bb, rand_qty(s, p));
	if (na == 0 || asks[0].price != ba)
		na = sim__side_set('a', asks, na, cap, ba, rand_qty(s, p));

	unsigned ops = 1 + (unsigned)(sim__rand(&p->rng) % 3);
	for (unsigned o = 0; o < ops; o++) {
		char side = (sim__rand(&p->rng) & 1) ? 'b' : 'a';
		struct book_level *lv = side == 'b' ? bids : asks;
		size_t *n = side == 'b' ? &nb : &na;
		double r = sim__uniform(&p->rng);
		if (r < 0.5) {
			size_t lim = *n < 15 ? *n : 15;
			size_t k = (size_t)(sim__rand(&p->rng) % lim);
			lv[k].qty = rand_qty(s, p);
		} else if (r < 0.75) {
			if (*n > 2) {
				size_t k = 1 + (size_t)(sim__rand(&p->rng) % (*n - 1));
				*n = sim__side_set(side, lv, *n, cap, lv[k].price, 0);
			}
		} else {
			int64_t j = 1 + (int64_t)(sim__rand(&p->rng) % (p->levels + 1));
			int64_t px = side == 'b' ? bb - j * step : ba + j * step;
			/* Off the grid by a random number of increments, as real books are. */
			px += (side == 'b' ? -1 : 1) * (int64_t)(sim__rand(&p->rng) % 3) * inc;
			if (px > 0)
				*n = sim__side_set(side, lv, *n, cap, px, rand_qty(s, p));
		}
	}
	while (nb > maxn)
		nb--;
	while (na > maxn)
		na--;
	while (nb < p->levels && bids[nb - 1].price - step > 0)
		nb = sim__side_set('b', bids, nb, cap, bids[nb - 1].price - step, rand_qty(s, p));
	while (na < p->levels)
		na = sim__side_set('a', asks, na, cap, asks[na - 1].price + step, rand_qty(s, p));
	sim__commit(s, i, nb, na);
}

int sim__book_consume(struct sim *s, size_t i, char side, int64_t limit_price, int64_t qty)
{
	if (i >= s->n_pairs || (side != 'a' && side != 'b') || qty < 0)
		return ERR_INVALID;
	size_t nb = sim__top(s, i, 'b', s->scratch_bids, SIM_BOOK_DEPTH);
	size_t na = sim__top(s, i, 'a', s->scratch_asks, SIM_BOOK_DEPTH);
	struct book_level *lv = side == 'b' ? s->scratch_bids : s->scratch_asks;
	size_t *n = side == 'b' ? &nb : &na;
	while (qty > 0 && *n > 0) {
		/* limit_price 0 = no limit (a market order). */
		if (limit_price > 0 && better(side, limit_price, lv[0].price))
			break;
		int64_t take = lv[0].qty < qty ? lv[0].qty : qty;
		qty -= take;
		*n = sim__side_set(side, lv, *n, 2 * SIM_BOOK_DEPTH, lv[0].price, lv[0].qty - take);
	}
	sim__commit(s, i, nb, na);
	return 0;
}

/* ---- Windows ---- */

/* The pair linking x and y, with *sell true when it is x/y (selling x). */
static long leg_pair(const struct sim *s, int x, int y, bool *sell)
{
	for (size_t i = 0; i < s->n_pairs; i++) {
		const struct sim_pair *p = &s->pairs[i];
		if (p->base == x && p->quote == y) {
			*sell = true;
			return (long)i;
		}
		if (p->base == y && p->quote == x) {
			*sell = false;
			return (long)i;
		}
	}
	return -1;
}

double sim__cycle_product(const struct sim *s, const int *assets, int n)
{
	double prod = 1;
	for (int k = 0; k < n; k++) {
		bool sell;
		long pi = leg_pair(s, assets[k], assets[(k + 1) % n], &sell);
		if (pi < 0)
			return 0;
		const struct sim_pair *p = &s->pairs[pi];
		size_t cnt;
		const struct book_level *lv =
		    sell ? book_bids(p->book, &cnt) : book_asks(p->book, &cnt);
		if (cnt == 0)
			return 0;
		double px = fx_to_double(lv[0].price, p->kp.price_precision);
		prod *= sell ? px : 1.0 / px;
	}
	return prod;
}

static int window_begin(struct sim *s, struct sim_window *w, struct err_info *info)
{
	double p0 = 1;
	long chosen = -1;
	bool chosen_sell = false, chosen_cross = false;
	for (int k = 0; k < w->n; k++) {
		bool sell;
		int x = w->assets[k], y = w->assets[(k + 1) % w->n];
		long pi = leg_pair(s, x, y, &sell);
		if (pi < 0)
			return err_set(info, ERR_NOTFOUND, "cycle: no pair between %s and %s",
				       s->assets[x].id, s->assets[y].id);
		double hs = s->pairs[pi].half_spread;
		p0 *= sell ? (1 - hs) : 1 / (1 + hs);
		/* Move a leg away from the cycle's home asset (a cross pair) when
		 * there is one, else the last leg. */
		bool cross = x != w->assets[0] && y != w->assets[0];
		if (!chosen_cross && (cross || k == w->n - 1)) {
			chosen = pi;
			chosen_sell = sell;
			chosen_cross = cross;
		}
	}
	if (chosen < 0)
		return err_set(info, ERR_INVALID, "cycle: fewer than 2 assets");
	/* The spreads cost p0; the window adds bps on top of giving that back. */
	double f = (1 + w->bps / 1e4) / p0;
	w->pair = chosen;
	w->bias = chosen_sell ? f : 1 / f;
	s->pairs[chosen].bias *= w->bias;
	s->pairs[chosen].force = true;
	w->started = true;
	LOG_INFO("sim", "arbitrage window opens", "pair=%s bps=%g ticks=%llu",
		 s->pairs[chosen].kp.symbol, w->bps, (unsigned long long)w->ticks);
	return 0;
}

static void window_end(struct sim *s, struct sim_window *w)
{
	s->pairs[w->pair].bias /= w->bias;
	if (fabs(s->pairs[w->pair].bias - 1) < 1e-12)
		s->pairs[w->pair].bias = 1;
	s->pairs[w->pair].force = true;
	w->ended = true;
	LOG_INFO("sim", "arbitrage window closes", "pair=%s", s->pairs[w->pair].kp.symbol);
}

int sim__window_start(struct sim *s, const int *assets, int n, double bps, uint64_t ms,
		      struct err_info *info)
{
	if (n < 2 || n > SIM_MAX_CYCLE || bps < 0 || bps > 10000 || ms == 0)
		return err_set(info, ERR_INVALID, "window: bad cycle, bps or ms");
	/* Reuse an ended slot when the table is full. */
	size_t slot = s->n_windows;
	if (slot >= SIM_MAX_WINDOWS) {
		for (slot = 0; slot < s->n_windows; slot++)
			if (s->windows[slot].ended)
				break;
		if (slot >= SIM_MAX_WINDOWS)
			return err_set(info, ERR_FULL, "window: %d windows open", SIM_MAX_WINDOWS);
	}
	struct sim_window w = {
	    .tick = s->tick, .ticks = (ms + SIM_TICK_MS - 1) / SIM_TICK_MS, .n = n, .bps = bps};
	memcpy(w.assets, assets, (size_t)n * sizeof(*assets));
	int rc = window_begin(s, &w, info);
	if (rc != 0)
		return rc;
	s->windows[slot] = w;
	if (slot == s->n_windows)
		s->n_windows++;
	return 0;
}

/* ---- Ticks ---- */

void sim__market_tick(struct sim *s)
{
	s->tick++;
	int ref = s->pairs[0].quote;
	for (size_t a = 0; a < s->n_assets; a++)
		if ((int)a != ref)
			s->assets[a].value *= exp(s->vol_per_tick * sim__normal(&s->rng));
	for (size_t k = 0; k < s->n_windows; k++) {
		struct sim_window *w = &s->windows[k];
		if (!w->started && s->tick >= w->tick) {
			struct err_info info = {0};
			if (window_begin(s, w, &info) != 0) {
				LOG_WARN("sim", "window not started", "why=\"%s\"", info.msg);
				w->started = w->ended = true;
			}
		}
		if (w->started && !w->ended && s->tick >= w->tick + w->ticks)
			window_end(s, w);
	}
	for (size_t k = 0; k < s->n_faults; k++) {
		struct sim_fault *f = &s->faults[k];
		if (!f->done && s->tick >= f->tick) {
			f->done = true;
			sim__fault_apply(s, f);
		}
	}
	for (size_t i = 0; i < s->n_pairs; i++) {
		struct sim_pair *p = &s->pairs[i];
		if (p->replay) {
			sim__replay_step(s, i);
			continue;
		}
		p->acc += p->ups * SIM_TICK_MS / 1000.0;
		if (p->acc >= 1 || p->force) {
			if (p->acc >= 1)
				p->acc -= 1;
			p->force = false;
			walk_update(s, i);
		}
	}
}

int sim__market_init(struct sim *s, struct err_info *info)
{
	size_t n = 2 * SIM_BOOK_DEPTH;
	s->scratch_bids = calloc(n, sizeof(struct book_level));
	s->scratch_asks = calloc(n, sizeof(struct book_level));
	s->old_bids = calloc(n, sizeof(struct book_level));
	s->old_asks = calloc(n, sizeof(struct book_level));
	s->view_bids = calloc(2 * n, sizeof(struct book_level));
	s->view_asks = calloc(2 * n, sizeof(struct book_level));
	if (!s->scratch_bids || !s->scratch_asks || !s->old_bids || !s->old_asks || !s->view_bids ||
	    !s->view_asks)
		return err_set(info, ERR_NOMEM, "sim: out of memory");
	s->rng = s->seed ^ 0x5151515151515151ull;
	for (size_t i = 0; i < s->n_pairs; i++) {
		struct sim_pair *p = &s->pairs[i];
		p->book = book_new(p->kp.symbol, p->kp.price_precision, p->kp.qty_precision,
				   SIM_BOOK_DEPTH, info);
		if (!p->book)
			return info ? info->code : ERR_NOMEM;
		p->rng = s->seed * 0x9e3779b97f4a7c15ull + i + 1;
		if (p->replay)
			sim__replay_step(s, i);
		else
			walk_update(s, i);
		p->dirty = false;
	}
	s->status = KR_SYSTEM_ONLINE;
	return 0;
}

void sim__market_free(struct sim *s)
{
	for (size_t i = 0; i < SIM_MAX_PAIRS; i++) {
		book_free(s->pairs[i].book);
		s->pairs[i].book = NULL;
		sim__replay_free(s->pairs[i].replay);
		s->pairs[i].replay = NULL;
	}
	free(s->scratch_bids);
	free(s->scratch_asks);
	free(s->old_bids);
	free(s->old_asks);
	free(s->view_bids);
	free(s->view_asks);
}

/* The detector handle: universe swaps, bindings, and the per-event loop over
 * the cycles through the updated pair. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arb/arb_int.h"

struct arb {
	struct arb_cfg cfg;
	const struct clock *clock;
	uint64_t next_id;
	arb_opp_fn fn;
	void *ctx;
	struct arb_graph *g;
	unsigned n_homes;
	char homes[ARB_MAX_HOMES][ARB_ASSET_MAX];
	double balance[ARB_MAX_HOMES];
	double cap[ARB_MAX_HOMES];
	uint32_t max_cycles;
	struct arb_stats stats;
	/* By pair index. fee_set is the account tier's fee (negative: none);
	 * fee is what evaluation uses. rate caches each directed use's
	 * top-of-book rate for the screen, refreshed by arb_on_book. */
	const struct book *books[ARB_MAX_PAIRS];
	double fee_set[ARB_MAX_PAIRS];
	double fee[ARB_MAX_PAIRS];
	bool tradable[ARB_MAX_PAIRS];
	float rate[ARB_MAX_PAIRS * 2 + 1]; /* + ARB__DIR_ONE; float: 32 KiB, in L1 */
	/* The best opportunities of the current event, best first. */
	struct arb_opp top[ARB_MAX_EMIT];
	struct arb_opp scratch;
};

static const char *const verdict_names[ARB_V_COUNT] = {
    [ARB_V_OPP] = "opp",
    [ARB_V_BELOW_MIN] = "below_min",
    [ARB_V_NO_BOOK] = "no_book",
    [ARB_V_INVALID_BOOK] = "invalid_book",
    [ARB_V_STALE_BOOK] = "stale_book",
    [ARB_V_EMPTY_BOOK] = "empty_book",
    [ARB_V_SCREENED] = "screened",
    [ARB_V_TOO_SMALL] = "too_small",
    [ARB_V_UNPROFITABLE] = "unprofitable",
    [ARB_V_NOT_TRADABLE] = "not_tradable",
};

const char *arb_verdict_name(enum arb_verdict v)
{
	return (unsigned)v < ARB_V_COUNT ? verdict_names[v] : "unknown";
}

static void update_caps(struct arb *a)
{
	for (unsigned h = 0; h < a->n_homes; h++)
		a->cap[h] =
		    a->balance[h] < a->cfg.max_notional ? a->balance[h] : a->cfg.max_notional;
}

static void refresh_fee(struct arb *a, uint32_t p)
{
	double f = a->fee_set[p];
	if (f < 0 && a->g && p < a->g->n_pairs)
		f = a->g->pairs[p].taker_fee_bps;
	a->fee[p] = f < 0 ? a->cfg.taker_fee_bps : f;
}

/* Refreshes pair p's two cached rates; returns which changed, as bits
 * 1 << side, and which improved (rose), as bits 4 << side. */
static unsigned refresh_rates(struct arb *a, uint32_t p)
{
	unsigned changed = 0;
	/* Rounded up by a part in 10^6, far more than float's error, so the
	 * screen on these floats never rejects what the exact bound passes. */
	double up = 1 + 1e-6;
	for (unsigned side = ARB_BUY; side <= ARB_SELL; side++) {
		float r = (float)(arb__top_rate(a->books[p], (enum arb_side)side, a->fee[p]) * up);
		changed |= (unsigned)(a->rate[ARB__DIR(p, side)] != r) << side;
		changed |= (unsigned)(r > a->rate[ARB__DIR(p, side)]) << (side + 2);
		a->rate[ARB__DIR(p, side)] = r;
	}
	return changed;
}

static float screen_threshold(const struct arb *a)
{
	return (float)(1 + a->cfg.detect_min_profit_bps / 1e4);
}

/* The top-of-book bound of the cycle of entry e in group d. */
static float screen_rate(const struct arb *a, uint32_t d, const struct arb__entry *e)
{
	const float *rate = a->rate;
	return rate[d] * rate[e->other[0]] * rate[e->other[1]] * rate[e->other[2]];
}

static float other_rate(const float *rate, const struct arb__entry *e)
{
	return rate[e->other[0]] * rate[e->other[1]] * rate[e->other[2]];
}

/* The first entry of [i, to) that passes the screen or still carries the
 * pass flag: the hot loop, kept free of anything else. */
static uint32_t next_candidate(const float *rate, const struct arb__entry *e, uint32_t i,
			       uint32_t to, float need)
{
	for (; i < to; i++)
		if ((other_rate(rate, &e[i]) >= need) | (e[i].pass != 0))
			break;
	return i;
}

/* Sets cycle c's pass flag in all its entries and counts it per group
 * (rare: only when a cycle crosses the screen's threshold). */
static void set_pass(struct arb_graph *g, uint32_t c, const struct arb__entry *e, bool pass)
{
	if ((e->pass != 0) == pass)
		return;
	const struct arb__cycle *cy = &g->cycles[c];
	for (unsigned l = 0; l < cy->n_legs; l++) {
		g->entries[g->epos[(size_t)c * ARB_MAX_LEGS + l]].pass = pass;
		g->pass_count[cy->dir[l]] += pass ? 1u : UINT32_MAX;
	}
}

static void rescreen_group(struct arb *a, uint32_t d)
{
	struct arb_graph *g = a->g;
	float thr = screen_threshold(a);
	for (uint32_t i = g->grp_off[d]; i < g->grp_off[d + 1]; i++)
		set_pass(g, g->idx[i], &g->entries[i], screen_rate(a, d, &g->entries[i]) >= thr);
}

/* Re-screens the cycles through pair after its rates changed outside an
 * event (a book bound, a fee set), so the pass flags stay true. */
static void rescreen_pair(struct arb *a, uint32_t pair)
{
	if (!a->g || pair >= a->g->n_pairs)
		return;
	rescreen_group(a, ARB__DIR(pair, ARB_BUY));
	rescreen_group(a, ARB__DIR(pair, ARB_SELL));
}

struct arb *arb_new(const struct arb_cfg *cfg, const struct clock *clock, uint64_t id_seed,
		    struct err_info *info)
{
	if (!cfg) {
		err_set(info, ERR_INVALID, "arb_new: no configuration");
		return NULL;
	}
	if (!(cfg->max_notional > 0) || cfg->taker_fee_bps < 0 || cfg->taker_fee_bps > 10000 ||
	    !(cfg->detect_min_profit_bps >= 0)) {
		err_set(info, ERR_INVALID,
			"arb_new: ARB_MAX_NOTIONAL must be > 0 and fees/minimums in range");
		return NULL;
	}
	struct arb *a = calloc(1, sizeof *a);
	if (!a) {
		err_set(info, ERR_NOMEM, "out of memory creating the detector");
		return NULL;
	}
	a->cfg = *cfg;
	int n = arb__parse_homes(cfg->home_assets, a->homes, info);
	if (n < 0) {
		free(a);
		return NULL;
	}
	a->n_homes = (unsigned)n;
	a->clock = clock ? clock : &clock_system;
	if (!id_seed)
		id_seed = (uint64_t)(a->clock->wall_ns(a->clock->ctx) / 1000);
	a->next_id = id_seed ? id_seed : 1;
	a->rate[ARB__DIR_ONE] = 1;
	for (unsigned h = 0; h < a->n_homes; h++)
		a->balance[h] = INFINITY;
	update_caps(a);
	for (uint32_t p = 0; p < ARB_MAX_PAIRS; p++) {
		a->fee_set[p] = ARB_FEE_DEFAULT;
		refresh_fee(a, p);
	}
	return a;
}

void arb_free(struct arb *a)
{
	if (!a)
		return;
	arb_graph_free(a->g);
	free(a);
}

void arb_set_callback(struct arb *a, arb_opp_fn fn, void *ctx)
{
	a->fn = fn;
	a->ctx = ctx;
}

struct arb_graph *arb_install(struct arb *a, struct arb_graph *g)
{
	struct arb_graph *old = a->g;
	a->g = g;
	a->stats.rebuilds++;
	for (uint32_t p = 0; p < ARB_MAX_PAIRS; p++) {
		a->tradable[p] = g && p < g->n_pairs && g->pairs[p].tradable;
		/* A book kept at the old precision would be read at the wrong scale. */
		if (a->books[p] && g && p < g->n_pairs &&
		    (book_price_scale(a->books[p]) != g->pairs[p].price_scale ||
		     book_qty_scale(a->books[p]) != g->pairs[p].qty_scale))
			a->books[p] = NULL;
		refresh_fee(a, p);
		refresh_rates(a, p);
	}
	if (g) {
		float thr = screen_threshold(a);
		for (uint32_t c = 0; c < g->n_cycles; c++) {
			const struct arb__entry *e = &g->entries[g->epos[(size_t)c * ARB_MAX_LEGS]];
			set_pass(g, c, e, screen_rate(a, g->cycles[c].dir[0], e) >= thr);
		}
	}
	return old;
}

int arb_set_universe(struct arb *a, const struct arb_pair *pairs, uint32_t n_pairs,
		     uint32_t max_cycles, struct err_info *info)
{
	struct err_info local;
	if (!info)
		info = &local;
	info->code = ERR_INVALID;
	struct arb_graph *g = arb_graph_new(pairs, n_pairs, a->cfg.home_assets, max_cycles, info);
	if (!g)
		return info->code;
	a->max_cycles = max_cycles;
	arb_graph_free(arb_install(a, g));
	return 0;
}

int arb_set_tradable(struct arb *a, uint32_t pair, bool tradable, struct err_info *info)
{
	if (!a->g || pair >= a->g->n_pairs)
		return err_set(info, ERR_NOTFOUND, "pair %u is not in the universe",
			       (unsigned)pair);
	/* Refuse at once; a failed rebuild must not leave a dead pair tradable. */
	if (!tradable)
		a->tradable[pair] = false;
	uint32_t n = a->g->n_pairs;
	struct arb_pair *copy = malloc(((size_t)n + 1) * sizeof *copy);
	if (!copy)
		return err_set(info, ERR_NOMEM, "out of memory rebuilding the universe");
	memcpy(copy, a->g->pairs, n * sizeof *copy);
	copy[pair].tradable = tradable;
	int rc = arb_set_universe(a, copy, n, a->max_cycles, info);
	free(copy);
	return rc;
}

int arb_bind_book(struct arb *a, uint32_t pair, const struct book *b)
{
	if (pair >= ARB_MAX_PAIRS)
		return ERR_NOTFOUND;
	if (b && a->g && pair < a->g->n_pairs &&
	    (book_price_scale(b) != a->g->pairs[pair].price_scale ||
	     book_qty_scale(b) != a->g->pairs[pair].qty_scale))
		return ERR_INVALID;
	a->books[pair] = b;
	if (refresh_rates(a, pair))
		rescreen_pair(a, pair);
	return 0;
}

int arb_set_fee(struct arb *a, uint32_t pair, double bps)
{
	if (pair >= ARB_MAX_PAIRS)
		return ERR_NOTFOUND;
	if (bps > 10000 || isnan(bps))
		return ERR_RANGE;
	a->fee_set[pair] = bps < 0 ? ARB_FEE_DEFAULT : bps;
	refresh_fee(a, pair);
	if (refresh_rates(a, pair))
		rescreen_pair(a, pair);
	return 0;
}

int arb_set_balance(struct arb *a, const char *asset, double amount)
{
	if (!(amount >= 0))
		return ERR_RANGE;
	for (unsigned h = 0; h < a->n_homes; h++) {
		if (strcmp(a->homes[h], asset) == 0) {
			a->balance[h] = amount;
			update_caps(a);
			return 0;
		}
	}
	return ERR_NOTFOUND;
}

static struct arb__env env_of(const struct arb *a)
{
	return (struct arb__env){
	    .g = a->g,
	    .books = a->books,
	    .fee_bps = a->fee,
	    .tradable = a->tradable,
	    .cap = a->cap,
	    .max_age_ns = (uint64_t)a->cfg.max_book_age_ms * 1000000u,
	    .min_profit_bps = a->cfg.detect_min_profit_bps,
	};
}

/* Keeps the best ARB_MAX_EMIT of the event in a->top, best first. */
static void keep(struct arb *a, unsigned *n)
{
	unsigned i = *n;
	if (i == ARB_MAX_EMIT) {
		a->stats.opps_dropped++;
		if (a->scratch.profit_home <= a->top[i - 1].profit_home)
			return;
		i--;
	} else {
		(*n)++;
	}
	while (i > 0 && a->top[i - 1].profit_home < a->scratch.profit_home) {
		a->top[i] = a->top[i - 1];
		i--;
	}
	a->top[i] = a->scratch;
}

int arb_on_book(struct arb *a, uint32_t pair, uint64_t trigger_ns)
{
	struct arb_graph *g = a->g;
	a->stats.events++;
	if (!g || pair >= g->n_pairs) {
		a->stats.unknown_pair++;
		return ERR_NOTFOUND;
	}
	unsigned changed = refresh_rates(a, pair);
	struct arb__env env = env_of(a);
	float thr = screen_threshold(a);
	unsigned n_top = 0, groups = 0;
	const struct arb__entry *e = g->entries;
	uint64_t screened = 0, walked = 0;
	for (unsigned side = ARB_BUY; side <= ARB_SELL; side++) {
		uint32_t d = ARB__DIR(pair, side);
		/* A group whose rate did not rise cannot gain a cycle passing the
		 * screen; with none passing before, nothing in it can be an
		 * opportunity (and no pass flag needs clearing). */
		if (!(changed & (4u << side)) && g->pass_count[d] == 0)
			continue;
		groups++;
		uint32_t from = g->grp_off[d], to = g->grp_off[d + 1];
		a->stats.cycles_touched += to - from;
		/* The other legs' product must reach thr / rate[d]; a zero rate
		 * (empty side) gives infinity, which nothing reaches. */
		const float need = thr / a->rate[d];
		uint32_t i = from;
		for (;;) {
			i = next_candidate(a->rate, e, i, to, need);
			if (i == to)
				break;
			bool pass = other_rate(a->rate, &e[i]) >= need;
			if ((e[i].pass != 0) != pass)
				set_pass(g, g->idx[i], &e[i], pass); /* a crossing */
			if (pass) {
				walked++;
				enum arb_verdict v =
				    arb__eval(&env, g->idx[i], trigger_ns, &a->scratch);
				a->stats.verdicts[v]++;
				if (v == ARB_V_OPP)
					keep(a, &n_top);
			}
			i++;
		}
		screened += (to - from) - walked;
		a->stats.cycles_walked += walked;
		walked = 0;
	}
	if (!groups)
		a->stats.events_skipped++;
	a->stats.verdicts[ARB_V_SCREENED] += screened;
	if (!n_top)
		return 0;
	uint64_t now = a->clock->mono_ns(a->clock->ctx);
	for (unsigned i = 0; i < n_top; i++) {
		a->top[i].id = a->next_id++;
		a->top[i].detect_ns = now;
		a->stats.opps++;
		if (a->fn)
			a->fn(a->ctx, &a->top[i]);
	}
	return (int)n_top;
}

enum arb_verdict arb_eval_cycle(struct arb *a, uint32_t cycle, uint64_t now_ns, struct arb_opp *out)
{
	struct arb__env env = env_of(a);
	return arb__eval(&env, cycle, now_ns, out);
}

uint32_t arb_cycle_count(const struct arb *a)
{
	return a->g ? a->g->n_cycles : 0;
}

uint32_t arb_pair_count(const struct arb *a)
{
	return a->g ? a->g->n_pairs : 0;
}

int arb_pair_find(const struct arb *a, const char *symbol, uint32_t *out)
{
	for (uint32_t i = 0; a->g && i < a->g->n_pairs; i++) {
		if (strcmp(a->g->pairs[i].symbol, symbol) == 0) {
			*out = i;
			return 0;
		}
	}
	return ERR_NOTFOUND;
}

uint32_t arb_cycles_through(const struct arb *a, uint32_t pair, const uint32_t **out)
{
	*out = NULL;
	if (!a->g || pair >= a->g->n_pairs)
		return 0;
	*out = a->g->idx + a->g->grp_off[2 * pair];
	return a->g->grp_off[2 * pair + 2] - a->g->grp_off[2 * pair];
}

uint32_t arb_cycle_count_by(const struct arb *a, const char *home, unsigned n_legs)
{
	uint32_t n = 0;
	for (unsigned h = 0; a->g && h < a->g->n_homes; h++) {
		if (home && strcmp(home, a->g->homes[h]) != 0)
			continue;
		for (unsigned l = 3; l <= ARB_MAX_LEGS; l++)
			if (!n_legs || n_legs == l)
				n += a->g->by_len[h][l];
	}
	return n;
}

int arb_cycle_legs(const struct arb *a, uint32_t cycle, unsigned *n_legs,
		   uint32_t pairs[ARB_MAX_LEGS], enum arb_side sides[ARB_MAX_LEGS])
{
	if (!a->g || cycle >= a->g->n_cycles)
		return ERR_NOTFOUND;
	const struct arb__cycle *c = &a->g->cycles[cycle];
	*n_legs = c->n_legs;
	for (unsigned k = 0; k < c->n_legs; k++) {
		pairs[k] = ARB__DIR_PAIR(c->dir[k]);
		sides[k] = ARB__DIR_SIDE(c->dir[k]);
	}
	return 0;
}

int arb_cycle_name(const struct arb *a, uint32_t cycle, char *buf, size_t cap)
{
	if (!a->g || cycle >= a->g->n_cycles)
		return ERR_NOTFOUND;
	const struct arb_graph *g = a->g;
	const struct arb__cycle *c = &g->cycles[cycle];
	size_t pos = 0;
	const char *name = g->homes[c->home];
	for (unsigned k = 0; k <= c->n_legs; k++) {
		if (k > 0) {
			uint32_t p = ARB__DIR_PAIR(c->dir[k - 1]);
			name = ARB__DIR_SIDE(c->dir[k - 1]) == ARB_BUY ? g->pairs[p].base
								       : g->pairs[p].quote;
		}
		size_t len = strlen(name);
		if (pos + len + (k > 0) + 1 > cap)
			return ERR_RANGE;
		if (k > 0)
			buf[pos++] = '>';
		memcpy(buf + pos, name, len + 1);
		pos += len;
	}
	return (int)pos;
}

unsigned arb_homes(const struct arb *a, const char *out[ARB_MAX_HOMES])
{
	for (unsigned h = 0; h < a->n_homes; h++)
		out[h] = a->homes[h];
	return a->n_homes;
}

void arb_stats(const struct arb *a, struct arb_stats *out)
{
	*out = a->stats;
}

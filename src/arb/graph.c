/* The asset graph and its cycles: built once per universe, off the hot path,
 * into arrays that never change afterwards. */
#include <stdlib.h>
#include <string.h>

#include "arb/arb_int.h"

/* One outgoing edge of an asset: the pair, the side that leaves it, and the
 * asset it reaches. */
struct edge {
	uint32_t dir;
	uint32_t to;
};

struct builder {
	struct arb_graph *g;
	uint32_t *adj_off; /* n_assets + 1 */
	struct edge *adj;
	uint32_t cap;	 /* cycles array capacity */
	uint32_t max;	 /* max_cycles */
	uint64_t needed; /* cycles found, also past max */
	int rc;
};

int arb__parse_homes(const char *list, char homes[ARB_MAX_HOMES][ARB_ASSET_MAX],
		     struct err_info *info)
{
	int n = 0;
	const char *p = list ? list : "";
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *s = p;
		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len) {
			if (len >= ARB_ASSET_MAX)
				return err_set(info, ERR_INVALID,
					       "home asset \"%.*s\" is longer than %d characters",
					       (int)len, s, ARB_ASSET_MAX - 1);
			if (n == ARB_MAX_HOMES)
				return err_set(info, ERR_INVALID, "more than %d home assets",
					       ARB_MAX_HOMES);
			for (int i = 0; i < n; i++)
				if (strlen(homes[i]) == len && memcmp(homes[i], s, len) == 0)
					return err_set(info, ERR_INVALID,
						       "home asset %s is listed twice", homes[i]);
			memcpy(homes[n], s, len);
			homes[n][len] = '\0';
			n++;
		}
		p = e ? e + 1 : p + strlen(p);
	}
	if (n == 0)
		return err_set(info, ERR_INVALID, "no home asset given (ARB_HOME_ASSETS)");
	return n;
}

static int check_pair(const struct arb_pair *p, uint32_t i, struct err_info *info)
{
	if (!memchr(p->symbol, '\0', sizeof p->symbol) || !p->symbol[0] ||
	    !memchr(p->base, '\0', sizeof p->base) || !p->base[0] ||
	    !memchr(p->quote, '\0', sizeof p->quote) || !p->quote[0])
		return err_set(info, ERR_INVALID, "pair %u: symbol, base and quote must be set",
			       (unsigned)i);
	if (strcmp(p->base, p->quote) == 0)
		return err_set(info, ERR_INVALID, "pair %s: base and quote are both %s", p->symbol,
			       p->base);
	if (p->price_scale < 0 || p->price_scale > 18 || p->qty_scale < 0 || p->qty_scale > 18 ||
	    p->cost_scale < 0 || p->cost_scale > 18)
		return err_set(info, ERR_INVALID, "pair %s: a scale is outside 0..18", p->symbol);
	if (p->price_increment <= 0 || p->qty_increment <= 0 || p->qty_min < 0 || p->cost_min < 0)
		return err_set(info, ERR_INVALID,
			       "pair %s: increments must be > 0 and minimums >= 0", p->symbol);
	if (p->taker_fee_bps > 10000)
		return err_set(info, ERR_INVALID, "pair %s: taker fee %.2f bps is above 10000",
			       p->symbol, p->taker_fee_bps);
	return 0;
}

static uint32_t asset_id(struct arb_graph *g, const char *name)
{
	for (uint32_t i = 0; i < g->n_assets; i++)
		if (strcmp(g->assets[i], name) == 0)
			return i;
	memcpy(g->assets[g->n_assets], name, ARB_ASSET_MAX);
	return g->n_assets++;
}

static void emit(struct builder *b, const uint32_t *dirs, unsigned n, unsigned home)
{
	struct arb_graph *g = b->g;
	b->needed++;
	if (b->rc || g->n_cycles == b->max)
		return;
	if (g->n_cycles == b->cap) {
		uint32_t ncap = b->cap ? b->cap * 2 : 1024;
		if (ncap > b->max)
			ncap = b->max;
		struct arb__cycle *c = realloc(g->cycles, (size_t)ncap * sizeof *c);
		if (!c) {
			b->rc = ERR_NOMEM;
			return;
		}
		g->cycles = c;
		b->cap = ncap;
	}
	struct arb__cycle *c = &g->cycles[g->n_cycles++];
	memset(c, 0, sizeof *c);
	memcpy(c->dir, dirs, n * sizeof *dirs);
	c->n_legs = (uint8_t)n;
	c->home = (uint8_t)home;
	g->by_len[home][n]++;
}

/* Depth-first walk from the home asset over distinct assets; a cycle closes
 * when an edge returns home after 3 or 4 legs. near_home marks the assets
 * one edge away from home, so the last level only follows edges that close. */
static void walk(struct builder *b, unsigned home, uint32_t at, uint32_t *dirs, unsigned depth,
		 uint32_t *path, const bool *near_home)
{
	uint32_t h = b->g->home_asset[home];
	for (uint32_t e = b->adj_off[at]; e < b->adj_off[at + 1]; e++) {
		const struct edge *ed = &b->adj[e];
		if (ed->to == h) {
			if (depth + 1 >= 3) {
				dirs[depth] = ed->dir;
				emit(b, dirs, depth + 1, home);
			}
			continue;
		}
		if (depth + 1 >= ARB_MAX_LEGS)
			continue;
		if (depth + 2 == ARB_MAX_LEGS && !near_home[ed->to])
			continue;
		bool seen = false;
		for (unsigned i = 0; i <= depth; i++)
			seen |= path[i] == ed->to;
		if (seen)
			continue;
		dirs[depth] = ed->dir;
		path[depth + 1] = ed->to;
		walk(b, home, ed->to, dirs, depth + 1, path, near_home);
	}
}

static int build_adjacency(struct builder *b)
{
	struct arb_graph *g = b->g;
	b->adj_off = calloc((size_t)g->n_assets + 1, sizeof *b->adj_off);
	b->adj = calloc((size_t)g->n_pairs * 2 + 1, sizeof *b->adj);
	if (!b->adj_off || !b->adj)
		return ERR_NOMEM;
	for (uint32_t i = 0; i < g->n_pairs; i++) {
		if (!g->pairs[i].tradable)
			continue;
		b->adj_off[g->pair_quote[i] + 1]++;
		b->adj_off[g->pair_base[i] + 1]++;
	}
	for (uint32_t a = 0; a < g->n_assets; a++)
		b->adj_off[a + 1] += b->adj_off[a];
	uint32_t *fill = calloc((size_t)g->n_assets + 1, sizeof *fill);
	if (!fill)
		return ERR_NOMEM;
	memcpy(fill, b->adj_off, ((size_t)g->n_assets + 1) * sizeof *fill);
	for (uint32_t i = 0; i < g->n_pairs; i++) {
		if (!g->pairs[i].tradable)
			continue;
		b->adj[fill[g->pair_quote[i]]++] =
		    (struct edge){.dir = ARB__DIR(i, ARB_BUY), .to = g->pair_base[i]};
		b->adj[fill[g->pair_base[i]]++] =
		    (struct edge){.dir = ARB__DIR(i, ARB_SELL), .to = g->pair_quote[i]};
	}
	free(fill);
	return 0;
}

static int build_index(struct arb_graph *g)
{
	size_t n_dirs = (size_t)g->n_pairs * 2, n_ent = (size_t)g->n_cycles * ARB_MAX_LEGS + 1;
	g->grp_off = calloc(n_dirs + 1, sizeof *g->grp_off);
	g->idx = malloc(n_ent * sizeof *g->idx);
	g->entries = malloc(n_ent * sizeof *g->entries);
	g->pass_count = calloc(n_dirs + 1, sizeof *g->pass_count);
	g->epos = malloc(n_ent * sizeof *g->epos);
	uint32_t *fill = calloc(n_dirs + 1, sizeof *fill);
	if (!g->grp_off || !g->idx || !g->entries || !g->pass_count || !g->epos || !fill) {
		free(fill);
		return ERR_NOMEM;
	}
	for (uint32_t c = 0; c < g->n_cycles; c++)
		for (unsigned l = 0; l < g->cycles[c].n_legs; l++)
			g->grp_off[g->cycles[c].dir[l] + 1]++;
	for (size_t d = 0; d < n_dirs; d++)
		g->grp_off[d + 1] += g->grp_off[d];
	memcpy(fill, g->grp_off, (n_dirs + 1) * sizeof *fill);
	for (uint32_t c = 0; c < g->n_cycles; c++) {
		const struct arb__cycle *cy = &g->cycles[c];
		for (unsigned l = 0; l < ARB_MAX_LEGS; l++) {
			g->epos[(size_t)c * ARB_MAX_LEGS + l] = UINT32_MAX;
			if (l >= cy->n_legs)
				continue;
			struct arb__entry e = {.pass = 0};
			for (unsigned o = 0; o < ARB_MAX_LEGS - 1; o++) {
				unsigned k = l + 1 + o;
				e.other[o] = (uint16_t)(k < l + cy->n_legs ? cy->dir[k % cy->n_legs]
									   : ARB__DIR_ONE);
			}
			uint32_t at = fill[cy->dir[l]]++;
			g->idx[at] = c;
			g->entries[at] = e;
			g->epos[(size_t)c * ARB_MAX_LEGS + l] = at;
		}
	}
	free(fill);
	return 0;
}

struct arb_graph *arb_graph_new(const struct arb_pair *pairs, uint32_t n_pairs, const char *homes,
				uint32_t max_cycles, struct err_info *info)
{
	struct builder b = {.max = max_cycles ? max_cycles : ARB_DEFAULT_MAX_CYCLES};
	bool *near_home = NULL;
	int rc = 0;
	if (n_pairs > ARB_MAX_PAIRS || (n_pairs && !pairs)) {
		err_set(info, ERR_INVALID, "universe of %u pairs: at most %d", (unsigned)n_pairs,
			ARB_MAX_PAIRS);
		return NULL;
	}
	for (uint32_t i = 0; i < n_pairs; i++)
		if (check_pair(&pairs[i], i, info))
			return NULL;
	struct arb_graph *g = calloc(1, sizeof *g);
	if (!g)
		goto nomem;
	b.g = g;
	rc = arb__parse_homes(homes, g->homes, info);
	if (rc < 0)
		goto cleanup;
	g->n_homes = (unsigned)rc;
	rc = 0;
	g->n_pairs = n_pairs;
	g->pairs = malloc(((size_t)n_pairs + 1) * sizeof *g->pairs);
	g->pair_base = malloc(((size_t)n_pairs + 1) * sizeof *g->pair_base);
	g->pair_quote = malloc(((size_t)n_pairs + 1) * sizeof *g->pair_quote);
	g->assets = malloc(((size_t)n_pairs * 2 + 1) * sizeof *g->assets);
	if (!g->pairs || !g->pair_base || !g->pair_quote || !g->assets)
		goto nomem;
	if (n_pairs)
		memcpy(g->pairs, pairs, n_pairs * sizeof *pairs);
	for (uint32_t i = 0; i < n_pairs; i++) {
		g->pair_base[i] = asset_id(g, g->pairs[i].base);
		g->pair_quote[i] = asset_id(g, g->pairs[i].quote);
	}
	for (unsigned h = 0; h < g->n_homes; h++) {
		g->home_asset[h] = UINT32_MAX;
		for (uint32_t a = 0; a < g->n_assets; a++)
			if (strcmp(g->assets[a], g->homes[h]) == 0)
				g->home_asset[h] = a;
	}
	rc = build_adjacency(&b);
	if (rc)
		goto cleanup;
	near_home = calloc((size_t)g->n_assets + 1, sizeof *near_home);
	if (!near_home)
		goto nomem;
	for (unsigned h = 0; h < g->n_homes; h++) {
		uint32_t ha = g->home_asset[h];
		if (ha == UINT32_MAX)
			continue;
		memset(near_home, 0, g->n_assets * sizeof *near_home);
		for (uint32_t e = b.adj_off[ha]; e < b.adj_off[ha + 1]; e++)
			near_home[b.adj[e].to] = true;
		uint32_t dirs[ARB_MAX_LEGS], path[ARB_MAX_LEGS + 1] = {ha};
		walk(&b, h, ha, dirs, 0, path, near_home);
	}
	if (b.rc) {
		rc = b.rc;
		goto nomem;
	}
	if (b.needed > b.max) {
		rc = err_set(info, ERR_FULL,
			     "the universe has %llu cycles, more than the capacity of %u",
			     (unsigned long long)b.needed, (unsigned)b.max);
		goto cleanup;
	}
	rc = build_index(g);
	if (rc)
		goto nomem;
	goto cleanup;
nomem:
	rc = err_set(info, ERR_NOMEM, "out of memory building the arbitrage universe");
cleanup:
	free(near_home);
	free(b.adj_off);
	free(b.adj);
	if (rc) {
		arb_graph_free(g);
		return NULL;
	}
	return g;
}

void arb_graph_free(struct arb_graph *g)
{
	if (!g)
		return;
	free(g->pairs);
	free(g->pair_base);
	free(g->pair_quote);
	free(g->assets);
	free(g->cycles);
	free(g->grp_off);
	free(g->idx);
	free(g->entries);
	free(g->pass_count);
	free(g->epos);
	free(g);
}

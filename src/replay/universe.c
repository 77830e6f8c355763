/* The backtest's universe: pair precisions and minimums from an instrument
 * message (a file of its own, or the first one in a recording), or inferred
 * from the decimals a seed file uses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fixed.h"
#include "replay/replay_int.h"

int replay__name(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		return ERR_RANGE;
	memcpy(dst, src, n + 1);
	return 0;
}

int replay_arb_pair_from_kr(const struct kr_pair *k, struct arb_pair *out)
{
	memset(out, 0, sizeof *out);
	out->price_scale = k->price_precision;
	out->qty_scale = k->qty_precision;
	out->cost_scale = k->cost_precision;
	out->price_increment = k->price_increment;
	out->qty_increment = k->qty_increment;
	out->qty_min = k->qty_min;
	out->cost_min = k->cost_min;
	out->taker_fee_bps = ARB_FEE_DEFAULT;
	out->tradable = k->status == KR_PAIR_STATUS_ONLINE;
	if (replay__name(out->symbol, sizeof out->symbol, k->symbol) != 0 ||
	    replay__name(out->base, sizeof out->base, k->base) != 0 ||
	    replay__name(out->quote, sizeof out->quote, k->quote) != 0)
		return ERR_RANGE;
	return 0;
}

int replay__universe_from_file(struct replay *r, const char *path, struct err_info *info)
{
	struct err_info why = {0};
	int rc = kr_universe_load_file(r->dec, path, &why);
	if (rc != 0)
		return err_set(info, rc == ERR_EMPTY || rc == ERR_SCHEMA ? ERR_PARSE : rc,
			       "--instruments %s", why.msg);
	return replay__universe_from_decoder(r, info);
}

int replay__universe_from_decoder(struct replay *r, struct err_info *info)
{
	uint32_t n = kr_decoder_pair_count(r->dec);
	if (n == 0)
		return err_set(info, ERR_PARSE, "the instrument message lists no pair");
	if (n > ARB_MAX_PAIRS)
		return err_set(info, ERR_RANGE, "%u pairs, more than %d", n, ARB_MAX_PAIRS);
	for (uint32_t i = 0; i < n; i++)
		if (replay_arb_pair_from_kr(kr_decoder_pair(r->dec, i), &r->pairs[i]) != 0)
			return err_set(info, ERR_RANGE, "pair %s: a name is too long",
				       kr_decoder_pair(r->dec, i)->symbol);
	r->npairs = n;
	r->from_decoder = true;
	return 0;
}

int replay__universe_infer(struct replay *r, struct err_info *info)
{
	struct replay__events *e = r->ev;
	if (e->nsym == 0)
		return err_set(
		    info, ERR_PARSE,
		    "no instrument data: give --instruments (a Kraken instrument message "
		    "or an AssetPairs answer) for a recording without one");
	for (uint32_t i = 0; i < e->nsym; i++) {
		const struct replay__symbol *s = &e->sym[i];
		struct arb_pair *p = &r->pairs[i];
		memset(p, 0, sizeof *p);
		if (replay__name(p->symbol, sizeof p->symbol, s->name) != 0 ||
		    replay__name(p->base, sizeof p->base, s->base) != 0 ||
		    replay__name(p->quote, sizeof p->quote, s->quote) != 0)
			return err_set(info, ERR_RANGE, "symbol %s: an asset name is too long",
				       s->name);
		p->price_scale = s->price_decimals;
		p->qty_scale = s->qty_decimals;
		p->cost_scale = s->price_decimals + s->qty_decimals > 18
				    ? 18
				    : s->price_decimals + s->qty_decimals;
		/* Inferred: the smallest step the data shows, no minimums. */
		p->price_increment = 1;
		p->qty_increment = 1;
		p->qty_min = 0;
		p->cost_min = 0;
		p->taker_fee_bps = ARB_FEE_DEFAULT;
		p->tradable = true;
	}
	r->npairs = e->nsym;
	r->inferred = true;
	return 0;
}

int replay__find_pair(const struct replay *r, const char *symbol)
{
	for (uint32_t i = 0; i < r->npairs; i++)
		if (strcmp(r->pairs[i].symbol, symbol) == 0)
			return (int)i;
	return -1;
}

unsigned replay__depth_for(int levels)
{
	static const unsigned depths[] = {10, 25, 100, 500, 1000};
	for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++)
		if ((unsigned)levels <= depths[i])
			return depths[i];
	return 1000;
}

/* A REST AssetPairs answer as the backtest's universe. REST names assets the
 * v1 way (wsname "XBT/USD"); WS v2 and the recordings say "BTC/USD", so the
 * two renamed assets are mapped back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fixed.h"
#include "replay/replay_int.h"

static void v2_asset(const char *p, size_t len, char *out, size_t cap)
{
	if (len == 3 && memcmp(p, "XBT", 3) == 0)
		p = "BTC";
	else if (len == 3 && memcmp(p, "XDG", 3) == 0)
		p = "DOGE", len = 4;
	if (len >= cap)
		len = cap - 1; /* the symbol check below refuses it */
	memcpy(out, p, len);
	out[len] = '\0';
}

static int int_of(const char *js, const jsmntok_t *t, int i, int *out)
{
	const char *p;
	size_t len;
	int64_t v;
	if (i < 0 || !replay__num_text(js, &t[i], &p, &len) || fx_parse(p, len, 0, &v) != 0 ||
	    v < 0 || v > 18)
		return ERR_PARSE;
	*out = (int)v;
	return 0;
}

/* A decimal field at scale; absent is 0 when optional. */
static int dec_of(const char *js, const jsmntok_t *t, int i, int scale, bool optional, int64_t *out)
{
	const char *p;
	size_t len;
	if (i < 0) {
		*out = 0;
		return optional ? 0 : ERR_PARSE;
	}
	if (!replay__num_text(js, &t[i], &p, &len) || fx_parse(p, len, scale, out) != 0 || *out < 0)
		return ERR_PARSE;
	return 0;
}

int replay__universe_from_asset_pairs(struct replay *r, const char *js, size_t len,
				      struct err_info *info)
{
	jsmn_parser jp;
	jsmntok_t *t = r->ev->tok;
	jsmn_init(&jp);
	int n = jsmn_parse(&jp, js, len, t, REPLAY__MAX_TOKENS);
	if (n < 1 || t[0].type != JSMN_OBJECT)
		return err_set(info, ERR_PARSE, "AssetPairs: not a JSON object (or over %u tokens)",
			       REPLAY__MAX_TOKENS);
	int err = replay__json_get(js, t, n, 0, "error");
	if (err >= 0 && t[err].type == JSMN_ARRAY && t[err].size > 0)
		return err_set(info, ERR_PARSE, "AssetPairs: the answer is an error: %.*s",
			       t[err].end - t[err].start, js + t[err].start);
	int res = replay__json_get(js, t, n, 0, "result");
	if (res < 0 || t[res].type != JSMN_OBJECT || t[res].size == 0)
		return err_set(info, ERR_PARSE, "AssetPairs: no pairs in \"result\"");
	uint32_t np = 0;
	int i = res + 1;
	for (int k = 0; k < t[res].size; k++) {
		int key = i, obj = i + 1;
		i = replay__json_skip(t, n, obj);
		if (t[obj].type != JSMN_OBJECT)
			continue;
		if (np >= ARB_MAX_PAIRS)
			return err_set(info, ERR_RANGE, "AssetPairs: more than %d pairs",
				       ARB_MAX_PAIRS);
		int ws = replay__json_get(js, t, n, obj, "wsname");
		if (ws < 0 || t[ws].type != JSMN_STRING)
			continue; /* dark-pool ".d" entries have no wsname */
		const char *w = js + t[ws].start;
		size_t wl = (size_t)(t[ws].end - t[ws].start);
		const char *slash = memchr(w, '/', wl);
		if (!slash)
			continue;
		struct arb_pair *p = &r->pairs[np];
		memset(p, 0, sizeof *p);
		v2_asset(w, (size_t)(slash - w), p->base, sizeof p->base);
		v2_asset(slash + 1, wl - (size_t)(slash - w) - 1, p->quote, sizeof p->quote);
		if (strlen(p->base) + strlen(p->quote) + 2 > sizeof p->symbol)
			return err_set(info, ERR_RANGE, "AssetPairs: %.*s: name too long", (int)wl,
				       w);
		memcpy(p->symbol, p->base, strlen(p->base));
		p->symbol[strlen(p->base)] = '/';
		memcpy(p->symbol + strlen(p->base) + 1, p->quote, strlen(p->quote) + 1);
		int pd = 0, ld = 0, cd = 0;
		if (int_of(js, t, replay__json_get(js, t, n, obj, "pair_decimals"), &pd) != 0 ||
		    int_of(js, t, replay__json_get(js, t, n, obj, "lot_decimals"), &ld) != 0)
			return err_set(info, ERR_PARSE,
				       "AssetPairs %.*s: bad pair_decimals or lot_decimals",
				       t[key].end - t[key].start, js + t[key].start);
		if (int_of(js, t, replay__json_get(js, t, n, obj, "cost_decimals"), &cd) != 0)
			cd = pd + ld > 18 ? 18 : pd + ld;
		p->price_scale = pd;
		p->qty_scale = ld;
		p->cost_scale = cd;
		if (dec_of(js, t, replay__json_get(js, t, n, obj, "tick_size"), pd, true,
			   &p->price_increment) != 0 ||
		    dec_of(js, t, replay__json_get(js, t, n, obj, "ordermin"), ld, true,
			   &p->qty_min) != 0 ||
		    dec_of(js, t, replay__json_get(js, t, n, obj, "costmin"), cd, true,
			   &p->cost_min) != 0)
			return err_set(info, ERR_PARSE,
				       "AssetPairs %.*s: tick_size, ordermin or costmin has more "
				       "decimals than the pair's precision",
				       t[key].end - t[key].start, js + t[key].start);
		if (p->price_increment == 0)
			p->price_increment = 1;
		p->qty_increment = 1;
		p->taker_fee_bps = ARB_FEE_DEFAULT;
		int st = replay__json_get(js, t, n, obj, "status");
		p->tradable = st < 0 || (t[st].end - t[st].start == 6 &&
					 memcmp(js + t[st].start, "online", 6) == 0);
		np++;
	}
	if (np == 0)
		return err_set(info, ERR_PARSE, "AssetPairs: no pair with a wsname");
	r->npairs = np;
	return 0;
}

/* The paper venue: queued IOC orders filled against the local books at
 * sent + latency, balances kept exactly. See paper.h for the rules. */
#include "exec/paper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fixed.h"
#include "exec/exec_int.h"

#define LEVELS_CAP 1000

struct paper_asset {
	char name[VENUE_ASSET_MAX];
	__int128 amount18;
};

struct paper_slot {
	struct venue_order o;
	struct venue_report rep;
	uint64_t hash;
	uint64_t due_ns;
	bool used;
	bool queued; /* waiting for its fill */
};

struct paper {
	struct arb_pair *pairs; /* indexed by pair index; symbol[0] == 0 for a gap */
	int64_t *fee_cbps;	/* per pair id, hundredths of a basis point */
	size_t n_ids;
	int64_t slip_cbps;
	uint64_t latency_ns;
	exec_levels_fn levels;
	void *levels_ctx;
	struct book_level *lv;
	struct paper_slot *slots;
	size_t cap;
	size_t head;	 /* next slot to use, circular */
	size_t n_queued; /* slots waiting for their fill */
	uint64_t next_order_id;
	struct paper_asset assets[PAPER_MAX_ASSETS];
	size_t n_assets;
};

static struct paper_asset *asset_get(struct paper *p, const char *name, bool create)
{
	for (size_t i = 0; i < p->n_assets; i++)
		if (strcmp(p->assets[i].name, name) == 0)
			return &p->assets[i];
	if (!create || p->n_assets == PAPER_MAX_ASSETS || strlen(name) >= VENUE_ASSET_MAX)
		return NULL;
	struct paper_asset *a = &p->assets[p->n_assets++];
	memcpy(a->name, name, strlen(name) + 1);
	a->amount18 = 0;
	return a;
}

__int128 paper_balance18(void *ctx, const char *asset)
{
	struct paper_asset *a = asset_get(ctx, asset, false);
	return a ? a->amount18 : 0;
}

/* "USD=1000,BTC=0.1": amounts parsed at 10 decimals, kept at 18. */
static int parse_balances(struct paper *p, const char *s, struct err_info *info)
{
	while (s && *s) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		const char *eq = memchr(s, '=', len);
		if (!eq || eq == s || (size_t)(eq - s) >= VENUE_ASSET_MAX)
			return err_set(
			    info, ERR_PARSE,
			    "PAPER_STARTING_BALANCES: entry \"%.*s\" is not ASSET=amount", (int)len,
			    s);
		char name[VENUE_ASSET_MAX];
		memcpy(name, s, (size_t)(eq - s));
		name[eq - s] = '\0';
		int64_t v;
		int rc = fx_parse(eq + 1, len - (size_t)(eq - s) - 1, PAPER_BALANCE_SCALE, &v);
		if (rc < 0 || v < 0)
			return err_set(info, rc < 0 ? rc : ERR_RANGE,
				       "PAPER_STARTING_BALANCES: amount of %s \"%.*s\" is not a "
				       "non-negative decimal with at most %d decimals",
				       name, (int)(len - (size_t)(eq - s) - 1), eq + 1,
				       PAPER_BALANCE_SCALE);
		struct paper_asset *a = asset_get(p, name, true);
		if (!a)
			return err_set(info, ERR_FULL,
				       "PAPER_STARTING_BALANCES: more than %d assets",
				       PAPER_MAX_ASSETS);
		a->amount18 = (__int128)v * fx_pow10(18 - PAPER_BALANCE_SCALE);
		s = end ? end + 1 : NULL;
	}
	return 0;
}

static void paper_destroy(void *ctx)
{
	struct paper *p = ctx;
	if (!p)
		return;
	free(p->pairs);
	free(p->fee_cbps);
	free(p->lv);
	free(p->slots);
	free(p);
}

static const struct arb_pair *pair_of(const struct paper *p, uint32_t id)
{
	if (id >= p->n_ids || p->pairs[id].symbol[0] == '\0')
		return NULL;
	return &p->pairs[id];
}

static struct paper_slot *slot_find(struct paper *p, const char *cl_ord_id)
{
	uint64_t h = exec__hash(cl_ord_id);
	for (size_t i = 0; i < p->cap; i++)
		if (p->slots[i].used && p->slots[i].hash == h &&
		    strcmp(p->slots[i].o.cl_ord_id, cl_ord_id) == 0)
			return &p->slots[i];
	return NULL;
}

static int paper_place(void *ctx, const struct venue_order *o)
{
	struct paper *p = ctx;
	if (o->qty <= 0 || (o->type == VENUE_LIMIT && o->limit_price <= 0) || o->tif != VENUE_IOC ||
	    o->cl_ord_id[0] == '\0' || memchr(o->cl_ord_id, '\0', VENUE_ID_MAX) == NULL)
		return ERR_INVALID;
	const struct arb_pair *kp = pair_of(p, o->pair_id);
	if (!kp)
		return ERR_NOTFOUND;
	if (o->price_scale != kp->price_scale || o->qty_scale != kp->qty_scale)
		return ERR_INVALID;
	if (slot_find(p, o->cl_ord_id))
		return ERR_INVALID; /* never the same client id twice */
	struct paper_slot *s = &p->slots[p->head];
	if (s->used && s->queued)
		return ERR_FULL;
	p->head = (p->head + 1) % p->cap;
	memset(s, 0, sizeof(*s));
	s->o = *o;
	s->hash = exec__hash(o->cl_ord_id);
	s->due_ns = o->sent_ns + p->latency_ns;
	s->used = s->queued = true;
	p->n_queued++;
	struct venue_report *r = &s->rep;
	memcpy(r->cl_ord_id, o->cl_ord_id, sizeof(r->cl_ord_id));
	snprintf(r->order_id, sizeof(r->order_id), "PAPER-%06llu",
		 (unsigned long long)++p->next_order_id);
	snprintf(r->symbol, sizeof(r->symbol), "%s", kp->symbol);
	r->status = VENUE_ST_PENDING;
	r->side = o->side;
	r->price_scale = o->price_scale;
	r->qty_scale = o->qty_scale;
	r->fee_scale = exec__fee_scale(o->price_scale, o->qty_scale);
	r->qty = o->qty;
	r->ts_ns = o->sent_ns;
	return 0;
}

static int paper_cancel(void *ctx, const char *cl_ord_id)
{
	/* IOC orders never rest: a queued order is in flight, not open. */
	(void)ctx;
	(void)cl_ord_id;
	return ERR_NOTFOUND;
}

static int paper_cancel_all(void *ctx)
{
	(void)ctx;
	return 0; /* nothing rests in the paper book */
}

static int paper_query(void *ctx, const char *cl_ord_id, struct venue_report *out)
{
	struct paper_slot *s = slot_find(ctx, cl_ord_id);
	if (!s)
		return ERR_NOTFOUND;
	*out = s->rep;
	return 0;
}

static int paper_balances(void *ctx, struct venue_balance *out, size_t cap, size_t *n)
{
	struct paper *p = ctx;
	size_t k = 0;
	for (size_t i = 0; i < p->n_assets && k < cap; i++, k++) {
		memcpy(out[k].asset, p->assets[i].name, sizeof(out[k].asset));
		out[k].scale = PAPER_BALANCE_SCALE;
		__int128 v = p->assets[i].amount18 / fx_pow10(18 - PAPER_BALANCE_SCALE);
		out[k].amount = v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
	}
	*n = k;
	return 0;
}

static void reject(struct venue_report *r, const char *why)
{
	r->status = VENUE_ST_REJECTED;
	snprintf(r->reason, sizeof(r->reason), "%s", why);
}

/* Fills one due order; the result is in s->rep. */
static void fill(struct paper *p, struct paper_slot *s, uint64_t now_ns)
{
	const struct venue_order *o = &s->o;
	struct venue_report *r = &s->rep;
	const struct arb_pair *kp = pair_of(p, o->pair_id);
	int ps = o->price_scale, qs = o->qty_scale, fs = r->fee_scale;
	int64_t fee_cbps = p->fee_cbps[o->pair_id];
	r->ts_ns = now_ns;

	if (o->qty % kp->qty_increment != 0 ||
	    (o->type == VENUE_LIMIT && o->limit_price % kp->price_increment != 0)) {
		reject(r, "EOrder:Invalid arguments:increment");
		return;
	}
	if (o->qty < kp->qty_min) {
		reject(r, "EOrder:Order minimum not met");
		return;
	}
	size_t n = 0;
	int rc = p->levels(p->levels_ctx, o->pair_id, o->side, p->lv, LEVELS_CAP, &n);
	if (rc < 0) {
		reject(r, "EGeneral:Unknown asset pair");
		return;
	}
	/* Walk the depth: cost at scale ps + qs (exact), at most 36 decimals. */
	__int128 cost_pq = 0;
	int64_t filled = 0;
	for (size_t i = 0; i < n && filled < o->qty; i++) {
		__int128 adj =
		    (__int128)p->lv[i].price *
		    (o->side == VENUE_BUY ? 1000000 + p->slip_cbps : 1000000 - p->slip_cbps);
		int64_t px = (int64_t)(adj / 1000000);
		if (o->side == VENUE_BUY && adj % 1000000 != 0)
			px++;
		if (o->type == VENUE_LIMIT) {
			bool buy = o->side == VENUE_BUY;
			if (buy ? p->lv[i].price > o->limit_price : p->lv[i].price < o->limit_price)
				break;
			/* Slippage moves a fill toward the limit, never past it: an
			 * IOC limit order cannot fill worse than its limit, and the
			 * sequencer sets the limit at the same tolerance, rounded
			 * the safe way, so without this cap an order at the worst
			 * level the detector walked would never fill. */
			if (buy ? px > o->limit_price : px < o->limit_price)
				px = o->limit_price;
		}
		int64_t take = o->qty - filled < p->lv[i].qty ? o->qty - filled : p->lv[i].qty;
		filled += take;
		cost_pq += (__int128)take * px;
	}
	/* Rescale the cost to fs (ps + qs capped at 18) and to 18 decimals. */
	__int128 cost_fs = ps + qs > 18 ? cost_pq / fx_pow10(ps + qs - 18) : cost_pq;
	__int128 fee_fs = (cost_fs * fee_cbps + 999999) / 1000000;
	__int128 mul18 = fx_pow10(18 - fs);
	struct paper_asset *base = asset_get(p, kp->base, true);
	struct paper_asset *quote = asset_get(p, kp->quote, true);
	if (!base || !quote) {
		reject(r, "EGeneral:Internal error:asset table full");
		return;
	}
	if (filled > 0) {
		/* cost_min is at cost_precision; compare at 18 decimals. */
		__int128 min18 = (__int128)kp->cost_min * fx_pow10(18 - kp->cost_scale);
		if (cost_fs * mul18 < min18) {
			reject(r, "EOrder:Cost minimum not met");
			return;
		}
	}
	__int128 base18 = (__int128)filled * fx_pow10(18 - qs);
	if (o->side == VENUE_BUY) {
		__int128 need18 = (cost_fs + fee_fs) * mul18;
		if (o->type == VENUE_LIMIT) {
			__int128 lim_pq = (__int128)o->qty * o->limit_price;
			__int128 lim_fs = ps + qs > 18 ? lim_pq / fx_pow10(ps + qs - 18) : lim_pq;
			need18 = (lim_fs + (lim_fs * fee_cbps + 999999) / 1000000) * mul18;
		}
		if (need18 > quote->amount18) {
			reject(r, "EOrder:Insufficient funds");
			return;
		}
	} else if ((__int128)o->qty * fx_pow10(18 - qs) > base->amount18) {
		reject(r, "EOrder:Insufficient funds");
		return;
	}
	if (o->side == VENUE_BUY) {
		base->amount18 += base18;
		quote->amount18 -= (cost_fs + fee_fs) * mul18;
	} else {
		base->amount18 -= base18;
		quote->amount18 += (cost_fs - fee_fs) * mul18;
	}
	r->filled_qty = filled;
	r->cost = (int64_t)cost_fs;
	r->fee = (int64_t)fee_fs;
	r->avg_price = filled ? (int64_t)((cost_pq + filled / 2) / filled) : 0;
	if (filled > 0)
		snprintf(r->fee_asset, sizeof(r->fee_asset), "%s", kp->quote);
	if (filled == o->qty) {
		r->status = VENUE_ST_FILLED;
	} else {
		r->status = VENUE_ST_CANCELED;
		snprintf(r->reason, sizeof(r->reason), "%s",
			 n == 0 ? "no liquidity" : "ioc remainder cancelled");
	}
}

static int paper_poll(void *ctx, uint64_t now_ns, venue_report_fn fn, void *arg)
{
	struct paper *p = ctx;
	int delivered = 0;
	if (p->n_queued == 0)
		return 0;
	/* Oldest first: slots from head round the ring are in placement order. */
	for (size_t k = 0; k < p->cap; k++) {
		struct paper_slot *s = &p->slots[(p->head + k) % p->cap];
		if (!s->used || !s->queued || s->due_ns > now_ns)
			continue;
		fill(p, s, now_ns);
		s->queued = false;
		p->n_queued--;
		fn(arg, &s->rep);
		delivered++;
	}
	return delivered;
}

static const struct venue_ops paper_ops = {
    .name = "paper",
    .place = paper_place,
    .cancel = paper_cancel,
    .cancel_all = paper_cancel_all,
    .query = paper_query,
    .balances = paper_balances,
    .poll = paper_poll,
    .destroy = paper_destroy,
};

int paper_venue_new(const struct paper_cfg *cfg, struct venue *out, struct err_info *info)
{
	int rc = 0;
	struct paper *p = calloc(1, sizeof(*p));
	if (!p)
		return err_set(info, ERR_NOMEM, "paper venue: out of memory");
	if (!cfg->levels) {
		rc = err_set(info, ERR_INVALID, "paper venue: no book levels callback");
		goto cleanup;
	}
	if (cfg->slippage_bps < 0 || cfg->slippage_bps > 1000 || cfg->default_fee_bps < 0 ||
	    cfg->default_fee_bps > 1000) {
		rc = err_set(info, ERR_RANGE,
			     "paper venue: slippage %g or fee %g bps outside 0..1000",
			     cfg->slippage_bps, cfg->default_fee_bps);
		goto cleanup;
	}
	p->n_ids = cfg->n_pairs;
	p->cap = cfg->max_orders ? cfg->max_orders : 1024;
	p->pairs = calloc(p->n_ids ? p->n_ids : 1, sizeof(*p->pairs));
	p->fee_cbps = calloc(p->n_ids ? p->n_ids : 1, sizeof(*p->fee_cbps));
	p->lv = calloc(LEVELS_CAP, sizeof(*p->lv));
	p->slots = calloc(p->cap, sizeof(*p->slots));
	if (!p->pairs || !p->fee_cbps || !p->lv || !p->slots) {
		rc = err_set(info, ERR_NOMEM, "paper venue: out of memory");
		goto cleanup;
	}
	for (uint32_t i = 0; i < cfg->n_pairs; i++) {
		const struct arb_pair *kp = &cfg->pairs[i];
		if (kp->symbol[0] == '\0')
			continue; /* a gap in the index space */
		double fee = kp->taker_fee_bps < 0 ? cfg->default_fee_bps : kp->taker_fee_bps;
		if (kp->price_increment <= 0 || kp->qty_increment <= 0 || kp->price_scale < 0 ||
		    kp->price_scale > 18 || kp->qty_scale < 0 || kp->qty_scale > 18 ||
		    kp->cost_scale < 0 || kp->cost_scale > 18 || !(fee >= 0 && fee <= 1000)) {
			rc = err_set(info, ERR_INVALID,
				     "paper venue: pair %s has a bad scale, increment or fee",
				     kp->symbol);
			goto cleanup;
		}
		p->pairs[i] = *kp;
		p->fee_cbps[i] = exec__cbps(fee);
	}
	p->slip_cbps = exec__cbps(cfg->slippage_bps);
	p->latency_ns = (uint64_t)cfg->latency_ms * 1000000u;
	p->levels = cfg->levels;
	p->levels_ctx = cfg->levels_ctx;
	rc = parse_balances(p, cfg->balances, info);
	if (rc < 0)
		goto cleanup;
	out->ops = &paper_ops;
	out->ctx = p;
	return 0;
cleanup:
	paper_destroy(p);
	return rc;
}

int exec_levels_from_book(const struct book *b, enum venue_side side, struct book_level *out,
			  size_t cap, size_t *n)
{
	size_t have = 0;
	*n = 0;
	if (!book_valid(b))
		return 0;
	const struct book_level *lv = side == VENUE_BUY ? book_asks(b, &have) : book_bids(b, &have);
	if (have > cap)
		have = cap;
	memcpy(out, lv, have * sizeof(*out));
	*n = have;
	return 0;
}

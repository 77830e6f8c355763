/* Pure translations for the live venue: Kraken's execution events and REST
 * orders to struct venue_report, and pair lookups by any of Kraken's names. */
#include <stdio.h>
#include <string.h>

#include "exec/live_int.h"

int live__fee_scale(int price_scale, int qty_scale)
{
	int s = price_scale + qty_scale;
	return s > 18 ? 18 : s;
}

/* "BTC/USD" against "XBTUSD" / "XXBTZUSD": Kraken's REST names use XBT for
 * BTC and may prefix X/Z to each asset. */
static bool rest_name_is(const struct kr_pair *p, const char *name)
{
	char a[2][KR_ASSET_MAX];
	char alt[64], legacy[64];
	live__copy(a[0], sizeof(a[0]), strcmp(p->base, "BTC") == 0 ? "XBT" : p->base);
	live__copy(a[1], sizeof(a[1]), strcmp(p->quote, "BTC") == 0 ? "XBT" : p->quote);
	snprintf(alt, sizeof(alt), "%s%s", a[0], a[1]);
	snprintf(legacy, sizeof(legacy), "X%sZ%s", a[0], a[1]);
	if (strcmp(name, alt) == 0 || strcmp(name, legacy) == 0)
		return true;
	snprintf(legacy, sizeof(legacy), "X%sX%s", a[0], a[1]);
	if (strcmp(name, legacy) == 0)
		return true;
	snprintf(alt, sizeof(alt), "%s%s", p->base, p->quote);
	return strcmp(name, alt) == 0;
}

const struct kr_pair *live__pair(const struct kr_pair *pairs, size_t n, const char *name)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(pairs[k].symbol, name) == 0)
			return &pairs[k];
	for (size_t k = 0; k < n; k++)
		if (rest_name_is(&pairs[k], name))
			return &pairs[k];
	return NULL;
}

static bool to_scale(struct kr_dec d, int scale, int64_t *out)
{
	return kr_dec_to_scale(d, scale, out) == 0;
}

static void set_status(struct venue_report *r, enum venue_status s)
{
	if (!venue_status_final(r->status))
		r->status = s;
}

bool live__apply_exec(struct venue_report *r, const struct kr_priv_exec *e, uint64_t now_ns)
{
	struct venue_report was = *r;
	int64_t v;

	if (e->order_id[0])
		live__copy(r->order_id, sizeof(r->order_id), e->order_id);
	if (e->has_cum_qty && to_scale(e->cum_qty, r->qty_scale, &v) && v > r->filled_qty)
		r->filled_qty = v;
	if (e->has_cum_cost && to_scale(e->cum_cost, r->fee_scale, &v) && v > r->cost)
		r->cost = v;
	if (e->has_avg_price && to_scale(e->avg_price, r->price_scale, &v) && v > 0)
		r->avg_price = v;
	if (e->exec_type == KR_EXEC_TRADE && e->has_fee && to_scale(e->fee, r->fee_scale, &v)) {
		r->fee += v;
		live__copy(r->fee_asset, sizeof(r->fee_asset), e->fee_asset);
	}
	if (e->reason[0] && (e->exec_type == KR_EXEC_CANCELED || e->exec_type == KR_EXEC_EXPIRED))
		live__copy(r->reason, sizeof(r->reason), e->reason);
	bool complete = r->qty > 0 && r->filled_qty >= r->qty;
	switch (e->exec_type) {
	case KR_EXEC_PENDING_NEW:
		if (r->status == VENUE_ST_UNKNOWN)
			r->status = VENUE_ST_PENDING;
		break;
	case KR_EXEC_NEW:
		if (r->status == VENUE_ST_PENDING || r->status == VENUE_ST_UNKNOWN ||
		    r->status == VENUE_ST_OPEN)
			r->status = e->order_status == KR_ORD_PARTIALLY_FILLED || r->filled_qty > 0
					? VENUE_ST_PARTIAL
					: VENUE_ST_OPEN;
		break;
	case KR_EXEC_TRADE:
		set_status(r, complete || e->order_status == KR_ORD_FILLED ? VENUE_ST_FILLED
									   : VENUE_ST_PARTIAL);
		break;
	case KR_EXEC_FILLED:
		set_status(r, VENUE_ST_FILLED);
		break;
	case KR_EXEC_CANCELED:
		set_status(r, complete ? VENUE_ST_FILLED : VENUE_ST_CANCELED);
		break;
	case KR_EXEC_EXPIRED:
		set_status(r, complete ? VENUE_ST_FILLED : VENUE_ST_EXPIRED);
		break;
	case KR_EXEC_OTHER:
		if (e->order_status == KR_ORD_CANCELED)
			set_status(r, VENUE_ST_CANCELED);
		else if (e->order_status == KR_ORD_EXPIRED)
			set_status(r, VENUE_ST_EXPIRED);
		else if (e->order_status == KR_ORD_FILLED)
			set_status(r, VENUE_ST_FILLED);
		break;
	}
	bool changed = was.status != r->status || was.filled_qty != r->filled_qty ||
		       was.cost != r->cost || was.fee != r->fee || was.avg_price != r->avg_price ||
		       strcmp(was.order_id, r->order_id) != 0;
	if (changed)
		r->ts_ns = now_ns;
	return changed;
}

void live__from_rest(struct venue_report *r, const struct kr_rest_order *ro, uint64_t now_ns)
{
	int64_t v;

	if (r->qty_scale < 0) {
		r->qty_scale = ro->vol.scale;
		r->price_scale = ro->avg_price.scale > ro->limit_price.scale
				     ? ro->avg_price.scale
				     : ro->limit_price.scale;
		r->fee_scale = live__fee_scale(r->price_scale, r->qty_scale);
	}
	live__copy(r->order_id, sizeof(r->order_id), ro->txid);
	if (to_scale(ro->vol, r->qty_scale, &v))
		r->qty = v;
	if (to_scale(ro->vol_exec, r->qty_scale, &v))
		r->filled_qty = v;
	if (to_scale(ro->avg_price, r->price_scale, &v))
		r->avg_price = v;
	if (to_scale(ro->cost, r->fee_scale, &v))
		r->cost = v;
	if (to_scale(ro->fee, r->fee_scale, &v))
		r->fee = v;
	if (ro->reason[0])
		live__copy(r->reason, sizeof(r->reason), ro->reason);
	bool complete = r->qty > 0 && r->filled_qty >= r->qty;
	switch (ro->status) {
	case KR_ORDER_PENDING:
		r->status = VENUE_ST_PENDING;
		break;
	case KR_ORDER_OPEN:
		r->status = r->filled_qty > 0 ? VENUE_ST_PARTIAL : VENUE_ST_OPEN;
		break;
	case KR_ORDER_CLOSED:
		r->status = complete ? VENUE_ST_FILLED : VENUE_ST_CANCELED;
		break;
	case KR_ORDER_CANCELED:
		r->status = complete ? VENUE_ST_FILLED : VENUE_ST_CANCELED;
		break;
	case KR_ORDER_EXPIRED:
		r->status = complete ? VENUE_ST_FILLED : VENUE_ST_EXPIRED;
		break;
	default:
		r->status = VENUE_ST_UNKNOWN;
		break;
	}
	r->ts_ns = now_ns;
}

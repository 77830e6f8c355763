/* Book snapshots and updates (PROTOCOL.md §2.2): the hot path. Levels are
 * written straight into the caller's event at the pair's scales. */
#include "kraken/codec_int.h"

#include "core/fixed.h"

static const char *side_name(bool bids)
{
	return bids ? "bids" : "asks";
}

/* Parses the level array at token i into out and its length into *count. */
static int parse_side(struct kr_decoder *d, int i, const struct kr_pair *p, bool bids,
		      struct kr_level *out, uint32_t *count, struct err_info *info)
{
	const jsmntok_t *t = d->tok;
	const char *js = d->js;
	int n, k;

	if (t[i].type != JSMN_ARRAY)
		return kr__fail_value(d, info, KR__V_TYPE, i, -1, "book %s", side_name(bids));
	n = t[i].size;
	if (n > KR_MAX_LEVELS)
		return kr__fail(d, info, KR_DECODE_CAPACITY, "book %s: %d levels, more than %d",
				side_name(bids), n, KR_MAX_LEVELS);
	i++;
	for (k = 0; k < n; k++) {
		int nk, price = -1, qty = -1;
		enum kr__verr e;

		if (i >= d->ntok || t[i].type != JSMN_OBJECT)
			return kr__fail(d, info, KR_DECODE_SCHEMA,
					"book %s[%d]: expected an object", side_name(bids), k);
		nk = t[i].size;
		i++;
		for (int j = 0; j < nk; j++) {
			if (!kr__key(d, i))
				return kr__fail(d, info, KR_DECODE_JSON,
						"book %s[%d]: malformed key", side_name(bids), k);
			if (KR__IS(js, &t[i], "price")) {
				if (price >= 0)
					goto dup;
				price = i + 1;
			} else if (KR__IS(js, &t[i], "qty")) {
				if (qty >= 0)
					goto dup;
				qty = i + 1;
			}
			i = kr__skip(d, i + 1);
		}
		if (price < 0 || qty < 0)
			return kr__fail(d, info, KR_DECODE_SCHEMA, "book %s[%d]: missing %s",
					side_name(bids), k, price < 0 ? "price" : "qty");
		e = kr__decimal(js, &t[price], p->price_precision, &out[k].price);
		if (e == KR__V_OK && out[k].price <= 0)
			e = KR__V_RANGE;
		if (e)
			return kr__fail_value(d, info, e, price, p->price_precision,
					      "book %s[%d].price (%s)", side_name(bids), k,
					      p->symbol);
		e = kr__decimal(js, &t[qty], p->qty_precision, &out[k].qty);
		if (e == KR__V_OK && out[k].qty < 0)
			e = KR__V_RANGE;
		if (e)
			return kr__fail_value(d, info, e, qty, p->qty_precision,
					      "book %s[%d].qty (%s)", side_name(bids), k,
					      p->symbol);
		continue;
	dup:
		return kr__fail(d, info, KR_DECODE_SCHEMA, "book %s[%d]: duplicate key",
				side_name(bids), k);
	}
	*count = (uint32_t)n;
	return 0;
}

int kr__decode_book(struct kr_decoder *d, int ty, int data, struct kr_event *ev,
		    struct err_info *info)
{
	const jsmntok_t *t = d->tok;
	const char *js = d->js;
	struct kr_book_event *b = &ev->book;
	int sym = -1, bids = -1, asks = -1, cks = -1, ts = -1, i, nk, o, rc;
	const struct kr_pair *p;
	uint64_t checksum;
	uint32_t id;
	enum kr__verr e;
	bool snapshot;

	if (ty < 0)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "book: missing type");
	if (KR__IS(js, &t[ty], "update") && kr__string(&t[ty]) == KR__V_OK)
		snapshot = false;
	else if (KR__IS(js, &t[ty], "snapshot") && kr__string(&t[ty]) == KR__V_OK)
		snapshot = true;
	else
		return kr__fail(d, info, KR_DECODE_SCHEMA,
				"book type: expected 'snapshot' or 'update'");
	if (data < 0)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "book: missing data");
	if (t[data].type != JSMN_ARRAY || t[data].size != 1)
		return kr__fail(d, info, KR_DECODE_SCHEMA,
				"book data: expected an array of one element");
	o = data + 1;
	if (t[o].type != JSMN_OBJECT)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "book data[0]: expected an object");
	nk = t[o].size;
	i = o + 1;
	for (int k = 0; k < nk; k++) {
		const jsmntok_t *key = &t[i];
		int *slot = NULL;

		if (!kr__key(d, i))
			return kr__fail(d, info, KR_DECODE_JSON, "book data[0]: malformed key");
		if (KR__IS(js, key, "bids"))
			slot = &bids;
		else if (KR__IS(js, key, "asks"))
			slot = &asks;
		else if (KR__IS(js, key, "symbol"))
			slot = &sym;
		else if (KR__IS(js, key, "checksum"))
			slot = &cks;
		else if (KR__IS(js, key, "timestamp"))
			slot = &ts;
		if (slot) {
			if (*slot >= 0)
				return kr__fail(d, info, KR_DECODE_SCHEMA,
						"book data[0]: duplicate key");
			*slot = i + 1;
		}
		i = kr__skip(d, i + 1);
	}
	if (sym < 0 || bids < 0 || asks < 0 || cks < 0 || ts < 0)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "book data[0]: missing %s",
				sym < 0	   ? "symbol"
				: bids < 0 ? "bids"
				: asks < 0 ? "asks"
				: cks < 0  ? "checksum"
					   : "timestamp");
	if (kr__string(&t[sym]) != KR__V_OK)
		return kr__fail_value(d, info, KR__V_TYPE, sym, -1, "book symbol");
	id = kr__find(d, js + t[sym].start, (size_t)kr__tlen(&t[sym]));
	if (id == KR_PAIR_NONE) {
		char text[48];

		kr__excerpt(text, sizeof(text), d, sym);
		return kr__fail(d, info, KR_DECODE_SYMBOL, "book symbol: unknown '%s'", text);
	}
	p = &d->pairs[id];
	e = kr__u64(js, &t[cks], &checksum);
	if (e == KR__V_OK && checksum > UINT32_MAX)
		e = KR__V_RANGE;
	if (e)
		return kr__fail_value(d, info, e, cks, -1, "book checksum (%s)", p->symbol);
	e = kr__time(js, &t[ts], &b->timestamp_ns);
	if (e)
		return kr__fail_value(d, info, e, ts, -1, "book timestamp (%s)", p->symbol);
	rc = parse_side(d, bids, p, true, b->bids, &b->n_bids, info);
	if (rc)
		return rc;
	rc = parse_side(d, asks, p, false, b->asks, &b->n_asks, info);
	if (rc)
		return rc;
	b->pair_id = id;
	b->snapshot = snapshot;
	b->price_scale = p->price_precision;
	b->qty_scale = p->qty_precision;
	b->checksum = (uint32_t)checksum;
	ev->kind = KR_EV_BOOK;
	return 0;
}

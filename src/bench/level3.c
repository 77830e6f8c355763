/* Level-3 snapshots in verify-book. Kraken's level3 checksum (PROTOCOL.md
 * §2.4) hashes every order of the best 10 price levels of each side, in
 * queue order: asks from the lowest price, then bids from the highest. A
 * level-2 book cannot rebuild it, so a snapshot is checked on its own:
 * orders are read in the order given, until an 11th price appears. Level3
 * updates (orders added, changed, deleted by id) are not replayed. */
#include "bench/bench_int.h"

#include <string.h>

#include "book/book.h"
#include "core/fixed.h"

static bool is_str(struct kr_view v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n + 2 && v.p[0] == '"' && memcmp(v.p + 1, s, n) == 0 && v.p[n + 1] == '"';
}

static struct kr_view unquote(struct kr_view v)
{
	if (v.len >= 2 && v.p[0] == '"' && v.p[v.len - 1] == '"') {
		v.p++;
		v.len -= 2;
	}
	return v;
}

/* Most decimals among the orders' prices and quantities. */
static void side_decimals(struct kr_view side, int *pp, int *qp)
{
	struct kr_view o, v;
	int d;

	for (size_t k = 0; bench__element(side, k, &o); k++) {
		if (bench__member(o, "limit_price", &v) && (d = bench__decimals(v)) > *pp)
			*pp = d;
		if (bench__member(o, "order_qty", &v) && (d = bench__decimals(v)) > *qp)
			*qp = d;
	}
}

/* The orders of the best BOOK_CHECKSUM_LEVELS prices of one side into out. */
static int side_orders(struct kr_view side, bool bids, int pp, int qp, struct book_level *out,
		       size_t cap, size_t *n, struct err_info *info)
{
	struct kr_view o, v;
	size_t prices = 0;

	*n = 0;
	if (side.len == 0 || side.p[0] != '[')
		return err_set(info, ERR_SCHEMA, "level3 %s: expected an array",
			       bids ? "bids" : "asks");
	for (size_t k = 0; bench__element(side, k, &o); k++) {
		struct book_level l;
		struct kr_view t;

		if (!bench__member(o, "limit_price", &v) ||
		    (t = unquote(v), fx_parse(t.p, t.len, pp, &l.price)) != 0 || l.price <= 0)
			return err_set(info, ERR_SCHEMA,
				       "level3 %s[%zu].limit_price: missing or "
				       "not a price at %d decimals",
				       bids ? "bids" : "asks", k, pp);
		if (!bench__member(o, "order_qty", &v) ||
		    (t = unquote(v), fx_parse(t.p, t.len, qp, &l.qty)) != 0 || l.qty < 0)
			return err_set(info, ERR_SCHEMA,
				       "level3 %s[%zu].order_qty: missing or "
				       "not a quantity at %d decimals",
				       bids ? "bids" : "asks", k, qp);
		if (*n > 0 && l.price != out[*n - 1].price) {
			if (bids ? l.price > out[*n - 1].price : l.price < out[*n - 1].price)
				return err_set(info, ERR_SCHEMA,
					       "level3 %s[%zu]: orders not best price first",
					       bids ? "bids" : "asks", k);
		}
		if (*n == 0 || l.price != out[*n - 1].price)
			prices++;
		if (prices > BOOK_CHECKSUM_LEVELS)
			break;
		if (*n == cap)
			return err_set(info, ERR_FULL,
				       "level3 %s: more than %zu orders in the top "
				       "%d prices",
				       bids ? "bids" : "asks", cap, BOOK_CHECKSUM_LEVELS);
		out[(*n)++] = l;
	}
	return 0;
}

int bench__level3(struct kr_decoder *d, struct kr_view msg, struct book_level *buf, size_t cap,
		  struct bench__l3 *out, struct err_info *info)
{
	struct kr_view v, data, book, bids, asks, sym, ck;
	uint64_t sum = 0;
	size_t na, nb;
	uint32_t id;
	int rc, pp = 0, qp = 0;

	if (!bench__member(msg, "type", &v) || !is_str(v, "snapshot"))
		return 1;
	if (!bench__member(msg, "data", &data) || !bench__element(data, 0, &book) ||
	    !bench__member(book, "symbol", &v) || v.len < 3 || v.p[0] != '"' ||
	    v.p[v.len - 1] != '"' || !bench__member(book, "checksum", &ck) ||
	    !bench__member(book, "bids", &bids) || !bench__member(book, "asks", &asks))
		return err_set(info, ERR_SCHEMA,
			       "level3 snapshot: missing data, symbol, checksum, bids or asks");
	sym = unquote(v);
	if (sym.len >= sizeof(out->symbol))
		return err_set(info, ERR_SCHEMA, "level3 snapshot: symbol too long");
	memcpy(out->symbol, sym.p, sym.len);
	out->symbol[sym.len] = '\0';
	for (size_t i = 0; i < ck.len; i++) {
		if (ck.p[i] < '0' || ck.p[i] > '9' || ck.len > 10)
			return err_set(info, ERR_SCHEMA, "level3 %s checksum: not an integer",
				       out->symbol);
		sum = sum * 10u + (uint64_t)(ck.p[i] - '0');
	}
	if (ck.len == 0 || sum > UINT32_MAX)
		return err_set(info, ERR_SCHEMA, "level3 %s checksum: out of range", out->symbol);
	/* The pair's precisions when the file has them, else the decimals
	 * written in this snapshot (the snapshot prints full precision). */
	id = kr_decoder_find(d, sym.p, sym.len);
	if (id != KR_PAIR_NONE) {
		pp = kr_decoder_pair(d, id)->price_precision;
		qp = kr_decoder_pair(d, id)->qty_precision;
		out->inferred = false;
	} else {
		side_decimals(bids, &pp, &qp);
		side_decimals(asks, &pp, &qp);
		out->inferred = true;
	}
	rc = side_orders(asks, false, pp, qp, buf, cap / 2u, &na, info);
	if (rc == 0)
		rc = side_orders(bids, true, pp, qp, buf + cap / 2u, cap / 2u, &nb, info);
	if (rc)
		return rc;
	out->expected = (uint32_t)sum;
	out->got = book_checksum_levels(buf, na, buf + cap / 2u, nb);
	out->orders = na + nb;
	return 0;
}

/* Helpers shared by the arb unit tests: pair records and valid books. */
#ifndef ARB_TESTS_UNIT_ARB_TEST_H
#define ARB_TESTS_UNIT_ARB_TEST_H

#include <stdio.h>
#include <string.h>

#include "arb/arb.h"
#include "book/book.h"

static inline struct arb_pair tp_pair(const char *base, const char *quote, int ps, int qs)
{
	struct arb_pair p;
	memset(&p, 0, sizeof p);
	snprintf(p.symbol, sizeof p.symbol, "%s/%s", base, quote);
	snprintf(p.base, sizeof p.base, "%s", base);
	snprintf(p.quote, sizeof p.quote, "%s", quote);
	p.price_scale = ps;
	p.qty_scale = qs;
	p.cost_scale = ps + qs > 18 ? 18 : ps + qs;
	p.price_increment = 1;
	p.qty_increment = 1;
	p.taker_fee_bps = ARB_FEE_DEFAULT;
	p.tradable = true;
	return p;
}

/* Replaces b's levels with bids (best first) and asks (best first) by a
 * snapshot with the matching checksum, stamped recv_ns: b is then valid.
 * Returns book_end's result. */
static inline int tp_fill(struct book *b, const struct book_level *bids, size_t nb,
			  const struct book_level *asks, size_t na, uint64_t recv_ns)
{
	book_begin(b, true);
	for (size_t i = 0; i < nb; i++)
		book_set_bid(b, bids[i].price, bids[i].qty);
	for (size_t i = 0; i < na; i++)
		book_set_ask(b, asks[i].price, asks[i].qty);
	size_t ca = na < BOOK_CHECKSUM_LEVELS ? na : BOOK_CHECKSUM_LEVELS;
	size_t cb = nb < BOOK_CHECKSUM_LEVELS ? nb : BOOK_CHECKSUM_LEVELS;
	return book_end(b, book_checksum_levels(asks, ca, bids, cb), recv_ns);
}

static inline struct book *tp_book(const struct arb_pair *p, const struct book_level *bids,
				   size_t nb, const struct book_level *asks, size_t na,
				   uint64_t recv_ns)
{
	struct book *b = book_new(p->symbol, p->price_scale, p->qty_scale, 10, NULL);
	if (b && tp_fill(b, bids, nb, asks, na, recv_ns) != 0) {
		book_free(b);
		return NULL;
	}
	return b;
}

static inline struct arb_cfg tp_cfg(const char *homes, double fee_bps, double min_bps,
				    double max_notional)
{
	struct arb_cfg c;
	memset(&c, 0, sizeof c);
	snprintf(c.home_assets, sizeof c.home_assets, "%s", homes);
	c.taker_fee_bps = fee_bps;
	c.min_profit_bps = min_bps;
	c.detect_min_profit_bps = min_bps; /* config_load's default: the same */
	c.max_notional = max_notional;
	c.max_book_age_ms = 1000;
	return c;
}

#endif

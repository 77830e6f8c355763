/* Seed-format lines: the whole visible top of a book at one time, applied as
 * a snapshot. The line carries no checksum, so the one Kraken would have sent
 * is computed from the levels (which then verifies the book's own
 * arithmetic: truncation, order, duplicate prices). */
#include <stdlib.h>
#include <string.h>

#include "core/fixed.h"
#include "replay/replay_int.h"

static int cmp_desc(const void *a, const void *b)
{
	const struct book_level *x = a, *y = b;
	return (x->price < y->price) - (x->price > y->price);
}

static int cmp_asc(const void *a, const void *b)
{
	const struct book_level *x = a, *y = b;
	return (x->price > y->price) - (x->price < y->price);
}

/* Parses one side into out (sorted best first, duplicate prices merged by
 * keeping the last, zero quantities dropped). Returns the count or ERR_PARSE
 * / ERR_RANGE with why. */
static int parse_side(const char *js, const jsmntok_t *t, int ntok, int arr, int ps, int qs,
		      bool bids, struct book_level *out, size_t cap, char *why, size_t wcap)
{
	size_t n = 0;
	int i = arr + 1;
	for (int k = 0; k < t[arr].size; k++, i += 3) {
		const char *pp, *qp;
		size_t pl, ql;
		int64_t price, qty;
		if (i + 2 >= ntok || !replay__num_text(js, &t[i + 1], &pp, &pl) ||
		    !replay__num_text(js, &t[i + 2], &qp, &ql)) {
			snprintf(why, wcap, "%s level %d is not [price, qty]",
				 bids ? "bids" : "asks", k);
			return ERR_PARSE;
		}
		if (fx_parse(pp, pl, ps, &price) != 0 || price <= 0) {
			snprintf(why, wcap,
				 "%s level %d: price '%.*s' is not a positive decimal with at most "
				 "%d places",
				 bids ? "bids" : "asks", k, (int)(pl > 32 ? 32 : pl), pp, ps);
			return ERR_PARSE;
		}
		if (fx_parse(qp, ql, qs, &qty) != 0 || qty < 0) {
			snprintf(
			    why, wcap,
			    "%s level %d: qty '%.*s' is not a decimal >= 0 with at most %d places",
			    bids ? "bids" : "asks", k, (int)(ql > 32 ? 32 : ql), qp, qs);
			return ERR_PARSE;
		}
		if (qty == 0)
			continue;
		if (n == cap) {
			snprintf(why, wcap, "more than %zu levels on one side", cap);
			return ERR_RANGE;
		}
		out[n++] = (struct book_level){price, qty};
	}
	qsort(out, n, sizeof *out, bids ? cmp_desc : cmp_asc);
	/* Merge equal prices: the later entry in the line wins, as in an update. */
	size_t w = 0;
	for (size_t r = 0; r < n; r++) {
		if (w && out[w - 1].price == out[r].price)
			out[w - 1] = out[r];
		else
			out[w++] = out[r];
	}
	return (int)w;
}

int replay__seed_apply(struct book *b, const char *js, const jsmntok_t *t, int ntok, int64_t ts,
		       struct replay__levels *scratch, char *why, size_t wcap)
{
	int ps = book_price_scale(b), qs = book_qty_scale(b);
	unsigned depth = book_depth(b);
	int bi = replay__json_get(js, t, ntok, 0, "bids");
	int ai = replay__json_get(js, t, ntok, 0, "asks");
	if (bi < 0 || ai < 0) {
		snprintf(why, wcap, "missing bids or asks");
		return ERR_PARSE;
	}
	int nb =
	    parse_side(js, t, ntok, bi, ps, qs, true, scratch->bids, REPLAY__MAX_LEVELS, why, wcap);
	if (nb < 0)
		return nb;
	int na = parse_side(js, t, ntok, ai, ps, qs, false, scratch->asks, REPLAY__MAX_LEVELS, why,
			    wcap);
	if (na < 0)
		return na;
	if ((unsigned)nb > depth)
		nb = (int)depth;
	if ((unsigned)na > depth)
		na = (int)depth;
	uint32_t sum = book_checksum_levels(
	    scratch->asks, (size_t)(na < BOOK_CHECKSUM_LEVELS ? na : BOOK_CHECKSUM_LEVELS),
	    scratch->bids, (size_t)(nb < BOOK_CHECKSUM_LEVELS ? nb : BOOK_CHECKSUM_LEVELS));
	book_begin(b, true);
	for (int i = 0; i < nb; i++)
		book_set_bid(b, scratch->bids[i].price, scratch->bids[i].qty);
	for (int i = 0; i < na; i++)
		book_set_ask(b, scratch->asks[i].price, scratch->asks[i].qty);
	int rc = book_end(b, sum, (uint64_t)ts);
	if (rc != 0)
		snprintf(why, wcap, "the book did not accept the levels: %s", err_str(rc));
	return rc;
}

/* Applying snapshots and updates (PROTOCOL.md §2.3). Each side is a sorted
 * array, best level first: bids by descending price, asks by ascending price.
 * A level is found by binary search and inserted or removed with memmove,
 * which at the depths Kraken serves (10 to 1000) costs less than any linked
 * structure would in cache misses. */
#include "book/book_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/fixed.h"

struct side {
	struct book_level *lv; /* cap entries, lv[0] is the best level */
	size_t n;
	/* A level was pushed out by the capacity during the current message,
	 * and the best price among those that were. */
	bool dropped;
	int64_t drop_best;
};

struct book {
	struct side bids;
	struct side asks;
	size_t depth;
	size_t cap;
	bool in_msg;
	bool snapshot;
	bool rejected;	/* the current message carried a bad level */
	bool top_dirty; /* the top 10 changed since checksum was computed */
	bool valid;
	uint32_t checksum;
	uint64_t last_update_ns;
	int price_scale;
	int qty_scale;
	struct book_stats stats;
	char symbol[BOOK_SYMBOL_MAX + 1];
	struct book__tokcache tok;   /* checksum text of the top levels */
	struct book_level storage[]; /* bids then asks, cap each */
};

struct book *book_new(const char *symbol, int price_scale, int qty_scale, unsigned depth,
		      struct err_info *info)
{
	struct book *b;
	size_t len, cap;

	if (symbol == NULL || (len = strlen(symbol)) == 0 || len > BOOK_SYMBOL_MAX) {
		err_set(info, ERR_INVALID, "book: symbol must have 1 to %d bytes", BOOK_SYMBOL_MAX);
		return NULL;
	}
	if (price_scale < 0 || price_scale > FX_MAX_SCALE || qty_scale < 0 ||
	    qty_scale > FX_MAX_SCALE) {
		err_set(info, ERR_INVALID, "book %s: scales %d/%d outside 0..%d", symbol,
			price_scale, qty_scale, FX_MAX_SCALE);
		return NULL;
	}
	if (depth != 10 && depth != 25 && depth != 100 && depth != 500 && depth != 1000) {
		err_set(info, ERR_INVALID, "book %s: depth %u is not 10, 25, 100, 500 or 1000",
			symbol, depth);
		return NULL;
	}

	/* Headroom of one depth: a message may insert up to depth new levels
	 * before the truncation without pushing one out that a later removal in
	 * the same message would bring back into view. */
	cap = 2u * (size_t)depth;
	b = calloc(1, sizeof(*b) + 2u * cap * sizeof(struct book_level));
	if (b == NULL) {
		err_set(info, ERR_NOMEM, "book %s: out of memory", symbol);
		return NULL;
	}
	memcpy(b->symbol, symbol, len + 1);
	b->price_scale = price_scale;
	b->qty_scale = qty_scale;
	b->depth = depth;
	b->cap = cap;
	b->bids.lv = b->storage;
	b->asks.lv = b->storage + cap;
	b->top_dirty = true;
	return b;
}

void book_free(struct book *b)
{
	free(b);
}

void book_clear(struct book *b)
{
	assert(!b->in_msg);
	b->bids.n = 0;
	b->asks.n = 0;
	b->top_dirty = true;
	b->valid = false;
}

void book_invalidate(struct book *b)
{
	b->valid = false;
	b->stats.invalidations++;
}

void book_begin(struct book *b, bool snapshot)
{
	assert(!b->in_msg);
	b->in_msg = true;
	b->snapshot = snapshot;
	b->rejected = false;
	b->bids.dropped = false;
	b->asks.dropped = false;
	if (snapshot) {
		b->bids.n = 0;
		b->asks.n = 0;
		b->top_dirty = true;
	}
}

/* desc is a constant in each caller, so the compiler specialises the two
 * sides and the comparisons below carry no branch on it. */
static inline bool better(int64_t a, int64_t b, bool desc)
{
	return desc ? a > b : a < b;
}

/* The first index whose price is not better than price. */
static inline size_t lower_bound(const struct book_level *lv, size_t n, int64_t price, bool desc)
{
	size_t lo = 0;

	while (n > 0) {
		size_t half = n / 2;
		if (better(lv[lo + half].price, price, desc)) {
			lo += half + 1;
			n -= half + 1;
		} else {
			n = half;
		}
	}
	return lo;
}

static inline int set_level(struct book *b, struct side *s, int64_t price, int64_t qty, bool desc)
{
	struct book_level *lv = s->lv;
	size_t n = s->n;
	size_t i;

	assert(b->in_msg);
	if (price <= 0 || qty < 0) {
		b->rejected = true;
		return ERR_RANGE;
	}

	i = lower_bound(lv, n, price, desc);
	if (i < n && lv[i].price == price) {
		if (qty == 0) {
			memmove(&lv[i], &lv[i + 1], (n - i - 1) * sizeof(*lv));
			s->n = n - 1;
		} else {
			lv[i].qty = qty;
		}
		if (i < BOOK_CHECKSUM_LEVELS)
			b->top_dirty = true;
		return 0;
	}
	if (qty == 0)
		return 0; /* not in the book: it was beyond the depth */

	if (n == b->cap) {
		/* Full: the worst level goes, or the new one if it is the worst.
		 * book_end() decides whether that loss is visible. */
		int64_t lost = i == n ? price : lv[n - 1].price;
		if (!s->dropped || better(lost, s->drop_best, desc))
			s->drop_best = lost;
		s->dropped = true;
		if (i == n)
			return 0;
		n--;
	}
	memmove(&lv[i + 1], &lv[i], (n - i) * sizeof(*lv));
	lv[i].price = price;
	lv[i].qty = qty;
	s->n = n + 1;
	if (i < BOOK_CHECKSUM_LEVELS)
		b->top_dirty = true;
	return 0;
}

int book_set_bid(struct book *b, int64_t price, int64_t qty)
{
	return set_level(b, &b->bids, price, qty, true);
}

int book_set_ask(struct book *b, int64_t price, int64_t qty)
{
	return set_level(b, &b->asks, price, qty, false);
}

/* Truncates s to depth and tells whether a level lost to the capacity may
 * belong in the top depth: the book is then exact only if depth levels
 * remain and all of them are better than every lost one. */
static bool truncate_side(struct side *s, size_t depth, bool desc)
{
	if (s->n > depth)
		s->n = depth;
	if (!s->dropped)
		return false;
	return s->n < depth || !better(s->lv[s->n - 1].price, s->drop_best, desc);
}

int book_end(struct book *b, uint32_t expected, uint64_t recv_ns)
{
	bool lost;
	int rc = 0;

	assert(b->in_msg);
	b->in_msg = false;
	b->last_update_ns = recv_ns;
	if (b->snapshot)
		b->stats.snapshots++;
	else
		b->stats.updates++;

	/* Both sides are truncated whatever happens, so the arrays never hold
	 * more than depth levels outside a message. */
	lost = truncate_side(&b->bids, b->depth, true);
	lost |= truncate_side(&b->asks, b->depth, false);

	if (b->top_dirty) {
		size_t na = b->asks.n < BOOK_CHECKSUM_LEVELS ? b->asks.n : BOOK_CHECKSUM_LEVELS;
		size_t nb = b->bids.n < BOOK_CHECKSUM_LEVELS ? b->bids.n : BOOK_CHECKSUM_LEVELS;
		b->checksum = book__checksum_cached(&b->tok, b->asks.lv, na, b->bids.lv, nb);
		b->top_dirty = false;
	}

	if (b->rejected) {
		rc = ERR_RANGE;
		b->stats.rejects++;
	} else if (lost) {
		rc = ERR_FULL;
		b->stats.overflows++;
	} else if (b->checksum != expected) {
		rc = ERR_CHECKSUM;
		b->stats.mismatches++;
	}

	if (rc != 0)
		b->valid = false;
	else if (b->snapshot)
		b->valid = true;
	return rc;
}

const char *book_symbol(const struct book *b)
{
	return b->symbol;
}

int book_price_scale(const struct book *b)
{
	return b->price_scale;
}

int book_qty_scale(const struct book *b)
{
	return b->qty_scale;
}

unsigned book_depth(const struct book *b)
{
	return (unsigned)b->depth;
}

bool book_valid(const struct book *b)
{
	return b->valid;
}

uint64_t book_last_update_ns(const struct book *b)
{
	return b->last_update_ns;
}

uint32_t book_checksum(const struct book *b)
{
	return b->checksum;
}

const struct book_level *book_bids(const struct book *b, size_t *n)
{
	assert(!b->in_msg);
	*n = b->bids.n;
	return b->bids.lv;
}

const struct book_level *book_asks(const struct book *b, size_t *n)
{
	assert(!b->in_msg);
	*n = b->asks.n;
	return b->asks.lv;
}

void book_stats(const struct book *b, struct book_stats *out)
{
	*out = b->stats;
}

size_t book__capacity(const struct book *b)
{
	return b->cap;
}

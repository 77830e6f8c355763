/* What one thread of the pipeline publishes for another without a lock: a
 * seqlock over atomic words, and with it a copy of the top of every book.
 *
 * Books belong to the md thread, which changes them in place; the paper
 * venue fills orders on the exec thread. So after each applied book message
 * the md thread copies the top APP_PUB_LEVELS levels of each side into the
 * pair's slot (seq odd while writing), and the exec thread copies a slot out,
 * retrying while seq is odd or changed. The copy is consistent (one book
 * state, never half of two) and at most one message old. */
#include <stdlib.h>
#include <string.h>

#include "app/pipe_int.h"

void app__seq_write(_Atomic uint64_t *seq, _Atomic uint64_t *w, const void *src, size_t nwords)
{
	const unsigned char *s = src;
	uint64_t q = atomic_load_explicit(seq, memory_order_relaxed);
	atomic_store_explicit(seq, q + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < nwords; i++) {
		uint64_t v;
		memcpy(&v, s + i * sizeof v, sizeof v);
		atomic_store_explicit(&w[i], v, memory_order_relaxed);
	}
	atomic_store_explicit(seq, q + 2, memory_order_release);
}

void app__seq_read(const _Atomic uint64_t *seq, const _Atomic uint64_t *w, void *dst, size_t nwords)
{
	/* The atomics are only loaded; the casts drop a const C11 does not
	 * allow on atomic_load's argument in older compilers. */
	_Atomic uint64_t *sq = (_Atomic uint64_t *)seq;
	_Atomic uint64_t *ww = (_Atomic uint64_t *)w;
	unsigned char *d = dst;
	for (;;) {
		uint64_t s1 = atomic_load_explicit(sq, memory_order_acquire);
		if (s1 & 1u)
			continue;
		for (size_t i = 0; i < nwords; i++) {
			uint64_t v = atomic_load_explicit(&ww[i], memory_order_relaxed);
			memcpy(d + i * sizeof v, &v, sizeof v);
		}
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(sq, memory_order_relaxed) == s1)
			return;
	}
}

/* One slot's plain content. */
struct levels {
	uint64_t valid;
	uint64_t nb, na;
	struct book_level bids[APP_PUB_LEVELS];
	struct book_level asks[APP_PUB_LEVELS];
};

#define LV_WORDS (sizeof(struct levels) / sizeof(uint64_t))
_Static_assert(sizeof(struct levels) % sizeof(uint64_t) == 0, "levels must be made of words");

struct slot {
	_Atomic uint64_t seq;
	_Atomic uint64_t w[LV_WORDS];
};

struct app_books_pub {
	uint32_t cap;
	struct slot *slots;
};

struct app_books_pub *app__books_pub_new(uint32_t cap)
{
	struct app_books_pub *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->slots = calloc(cap, sizeof *p->slots);
	if (!p->slots) {
		free(p);
		return NULL;
	}
	p->cap = cap;
	return p;
}

void app__books_pub_free(struct app_books_pub *p)
{
	if (!p)
		return;
	free(p->slots);
	free(p);
}

void app__books_pub_write(struct app_books_pub *p, uint32_t id, const struct book *b)
{
	struct levels lv;
	size_t nb = 0, na = 0;
	if (id >= p->cap)
		return;
	const struct book_level *bids = book_bids(b, &nb);
	const struct book_level *asks = book_asks(b, &na);
	if (nb > APP_PUB_LEVELS)
		nb = APP_PUB_LEVELS;
	if (na > APP_PUB_LEVELS)
		na = APP_PUB_LEVELS;
	memset(&lv, 0, sizeof lv);
	lv.valid = book_valid(b);
	lv.nb = nb;
	lv.na = na;
	if (nb)
		memcpy(lv.bids, bids, nb * sizeof *bids);
	if (na)
		memcpy(lv.asks, asks, na * sizeof *asks);
	app__seq_write(&p->slots[id].seq, p->slots[id].w, &lv, LV_WORDS);
}

int app__books_pub_levels(void *ctx, uint32_t pair_id, enum venue_side side, struct book_level *out,
			  size_t cap, size_t *n)
{
	struct app_books_pub *p = ctx;
	struct levels lv;
	*n = 0;
	if (pair_id >= p->cap)
		return ERR_NOTFOUND;
	app__seq_read(&p->slots[pair_id].seq, p->slots[pair_id].w, &lv, LV_WORDS);
	if (!lv.valid)
		return 0;
	size_t k = side == VENUE_BUY ? lv.na : lv.nb;
	if (k > cap)
		k = cap;
	memcpy(out, side == VENUE_BUY ? lv.asks : lv.bids, k * sizeof *out);
	*n = k;
	return 0;
}

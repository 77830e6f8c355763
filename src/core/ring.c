#include "core/ring.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define CACHE_LINE 64

/* Indices run freely (size_t wraps after 2^64 records, which never happens in
 * practice, and the arithmetic is modular anyway); a slot is index & mask. */

struct ring_spsc {
	/* Read-only after _new. */
	size_t mask;
	size_t elem_size;
	unsigned char *slots;

	/* Producer line: the index it publishes and its cache of the consumer's. */
	alignas(CACHE_LINE) _Atomic size_t head;
	size_t tail_cache;

	/* Consumer line. */
	alignas(CACHE_LINE) _Atomic size_t tail;
	size_t head_cache;

	/* Keeps the slots that follow in the same allocation off the consumer line. */
	alignas(CACHE_LINE) unsigned char data[];
};

struct ring_mpsc {
	size_t mask;
	size_t elem_size;
	size_t stride; /* bytes per cell: sequence number, then the record */
	unsigned char *cells;

	alignas(CACHE_LINE) _Atomic size_t enqueue_pos; /* shared by all producers */
	alignas(CACHE_LINE) _Atomic size_t dequeue_pos; /* written by the consumer only */
	alignas(CACHE_LINE) unsigned char data[];
};

/* Rounds n up to a power of two; 0 for zero input or overflow. */
static size_t pow2_ceil(size_t n)
{
	size_t p = 1;
	if (n == 0)
		n = 1;
	while (p < n) {
		if (p > SIZE_MAX / 2)
			return 0;
		p <<= 1;
	}
	return p;
}

/* Allocates hdr bytes of header followed by n * each bytes, cache-line aligned.
 * aligned_alloc wants a size that is a multiple of the alignment. */
static void *alloc_ring(size_t hdr, size_t n, size_t each)
{
	size_t body;
	size_t total;
	if (each != 0 && n > (SIZE_MAX - hdr - CACHE_LINE) / each)
		return NULL;
	body = n * each;
	total = (hdr + body + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
	return aligned_alloc(CACHE_LINE, total);
}

struct ring_spsc *ring_spsc_new(size_t elem_size, size_t capacity)
{
	struct ring_spsc *r;
	size_t cap = pow2_ceil(capacity);
	if (cap == 0 || elem_size == 0)
		return NULL;
	r = alloc_ring(sizeof(*r), cap, elem_size);
	if (!r)
		return NULL;
	r->mask = cap - 1;
	r->elem_size = elem_size;
	r->slots = r->data;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->tail_cache = 0;
	r->head_cache = 0;
	return r;
}

void ring_spsc_free(struct ring_spsc *r)
{
	free(r);
}

int ring_spsc_push(struct ring_spsc *r, const void *elem)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (head - r->tail_cache > r->mask) {
		/* Looks full from our cached view: refresh it once. */
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head - r->tail_cache > r->mask)
			return ERR_FULL;
	}
	memcpy(r->slots + (head & r->mask) * r->elem_size, elem, r->elem_size);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return 0;
}

int ring_spsc_pop(struct ring_spsc *r, void *out)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (tail == r->head_cache) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		if (tail == r->head_cache)
			return ERR_EMPTY;
	}
	memcpy(out, r->slots + (tail & r->mask) * r->elem_size, r->elem_size);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return 0;
}

/* Reads the consumer index first: both only grow, so the producer index read
 * afterwards is never behind it. */
static size_t span(const _Atomic size_t *lo, const _Atomic size_t *hi, size_t cap)
{
	size_t t = atomic_load_explicit((_Atomic size_t *)lo, memory_order_acquire);
	size_t h = atomic_load_explicit((_Atomic size_t *)hi, memory_order_acquire);
	size_t n = h - t;
	return n > cap ? cap : n;
}

size_t ring_spsc_count(const struct ring_spsc *r)
{
	return span(&r->tail, &r->head, r->mask + 1);
}

struct ring_mpsc *ring_mpsc_new(size_t elem_size, size_t capacity)
{
	struct ring_mpsc *r;
	size_t cap = pow2_ceil(capacity);
	size_t stride;
	if (cap == 0 || elem_size == 0 || elem_size > SIZE_MAX / 2)
		return NULL;
	/* Each cell starts with its atomic sequence number, so cells keep its
	 * alignment; records are copied in and out with memcpy. */
	stride = sizeof(_Atomic size_t) + elem_size;
	stride = (stride + alignof(_Atomic size_t) - 1) & ~(alignof(_Atomic size_t) - 1);
	r = alloc_ring(sizeof(*r), cap, stride);
	if (!r)
		return NULL;
	r->mask = cap - 1;
	r->elem_size = elem_size;
	r->stride = stride;
	r->cells = r->data;
	for (size_t i = 0; i < cap; i++)
		atomic_init((_Atomic size_t *)(void *)(r->cells + i * stride), i);
	atomic_init(&r->enqueue_pos, 0);
	atomic_init(&r->dequeue_pos, 0);
	return r;
}

void ring_mpsc_free(struct ring_mpsc *r)
{
	free(r);
}

static _Atomic size_t *cell_seq(const struct ring_mpsc *r, size_t pos)
{
	return (_Atomic size_t *)(void *)(r->cells + (pos & r->mask) * r->stride);
}

static unsigned char *cell_data(const struct ring_mpsc *r, size_t pos)
{
	return r->cells + (pos & r->mask) * r->stride + sizeof(_Atomic size_t);
}

/* Vyukov's bounded queue: a cell whose sequence equals pos is free for the
 * producer claiming pos; one whose sequence equals pos + 1 holds the record
 * for the consumer; the consumer then sets it to pos + capacity, freeing it
 * for the producer one lap later. */
int ring_mpsc_push(struct ring_mpsc *r, const void *elem)
{
	size_t pos = atomic_load_explicit(&r->enqueue_pos, memory_order_relaxed);
	_Atomic size_t *seqp;
	for (;;) {
		size_t seq;
		ptrdiff_t dif;
		seqp = cell_seq(r, pos);
		seq = atomic_load_explicit(seqp, memory_order_acquire);
		dif = (ptrdiff_t)(seq - pos);
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&r->enqueue_pos, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
			/* pos now holds the current enqueue position; retry. */
		} else if (dif < 0) {
			return ERR_FULL; /* the cell one lap back is not consumed yet */
		} else {
			pos = atomic_load_explicit(&r->enqueue_pos, memory_order_relaxed);
		}
	}
	memcpy(cell_data(r, pos), elem, r->elem_size);
	atomic_store_explicit(seqp, pos + 1, memory_order_release);
	return 0;
}

int ring_mpsc_pop(struct ring_mpsc *r, void *out)
{
	size_t pos = atomic_load_explicit(&r->dequeue_pos, memory_order_relaxed);
	_Atomic size_t *seqp = cell_seq(r, pos);
	size_t seq = atomic_load_explicit(seqp, memory_order_acquire);
	/* Empty, or the producer that claimed this cell has not finished writing:
	 * either way the next record in order is not ready. */
	if (seq != pos + 1)
		return ERR_EMPTY;
	memcpy(out, cell_data(r, pos), r->elem_size);
	atomic_store_explicit(seqp, pos + r->mask + 1, memory_order_release);
	atomic_store_explicit(&r->dequeue_pos, pos + 1, memory_order_relaxed);
	return 0;
}

size_t ring_mpsc_count(const struct ring_mpsc *r)
{
	return span(&r->dequeue_pos, &r->enqueue_pos, r->mask + 1);
}

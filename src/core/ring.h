/* Bounded lock-free rings of fixed-size records, the only way threads share
 * data. Capacity is a power of two; indices run freely; producer and consumer
 * state sit on separate cache lines.
 *
 * ring_spsc: one producer thread, one consumer thread; each side caches the
 *   other's index. ring_mpsc: many producers, one consumer (per-slot sequence
 *   numbers, Vyukov). Both: push returns ERR_FULL when full, and the caller
 *   decides whether to drop and count or to push back; each ring's owner
 *   documents which. Neither allocates after _new. */
#ifndef ARB_CORE_RING_H
#define ARB_CORE_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring_spsc;
struct ring_mpsc;

/* capacity is rounded up to a power of two (0 counts as 1). Allocates once;
 * returns NULL on allocation failure or elem_size 0. Records are copied in and
 * out with memcpy, so they need no particular alignment. _free(NULL) is a
 * no-op; free only once no thread uses the ring. */
struct ring_spsc *ring_spsc_new(size_t elem_size, size_t capacity);
void ring_spsc_free(struct ring_spsc *r);
int ring_spsc_push(struct ring_spsc *r, const void *elem); /* 0 or ERR_FULL; producer only */
int ring_spsc_pop(struct ring_spsc *r, void *out);	   /* 0 or ERR_EMPTY; consumer only */
size_t ring_spsc_count(const struct ring_spsc *r);	   /* approximate, any thread */

struct ring_mpsc *ring_mpsc_new(size_t elem_size, size_t capacity);
void ring_mpsc_free(struct ring_mpsc *r);
int ring_mpsc_push(struct ring_mpsc *r, const void *elem); /* 0 or ERR_FULL; any thread */
int ring_mpsc_pop(struct ring_mpsc *r, void *out);	   /* 0 or ERR_EMPTY; one consumer */
size_t ring_mpsc_count(const struct ring_mpsc *r);	   /* approximate, any thread */

#endif

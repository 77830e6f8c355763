/* Log-linear latency histogram (see hist.h for the bucket layout). */
#include "core/hist.h"

#include <string.h>

#define SUB (1u << HIST_SUB_BITS)

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

size_t hist_bucket_of(uint64_t ns)
{
	unsigned e, shift;

	if (ns < HIST_LINEAR)
		return (size_t)ns;
	if (ns > HIST_MAX_NS)
		ns = HIST_MAX_NS;
	/* e is the position of the leading one; the next HIST_SUB_BITS bits
	 * pick the sub-bucket. (e - SUB_BITS) * SUB + (ns >> shift) folds the
	 * octave offset and the leading one into one sum. */
	e = 63u - (unsigned)__builtin_clzll(ns);
	shift = e - HIST_SUB_BITS;
	return (size_t)shift * SUB + (size_t)(ns >> shift);
}

uint64_t hist_bucket_lo(size_t i)
{
	size_t k, e;

	if (i < HIST_LINEAR)
		return i;
	k = i - HIST_LINEAR;
	e = k / SUB + HIST_SUB_BITS + 1u;
	return (uint64_t)(SUB + k % SUB) << (e - HIST_SUB_BITS);
}

uint64_t hist_bucket_hi(size_t i)
{
	size_t e;

	if (i < HIST_LINEAR)
		return i;
	e = (i - HIST_LINEAR) / SUB + HIST_SUB_BITS + 1u;
	return hist_bucket_lo(i) + (UINT64_C(1) << (e - HIST_SUB_BITS)) - 1u;
}

void hist_record_n(struct hist *h, uint64_t ns, uint64_t n)
{
	if (n == 0)
		return;
	h->buckets[hist_bucket_of(ns)] += n;
	h->count += n;
	h->sum += ns * n;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	if (ns > HIST_MAX_NS)
		h->clamped += n;
}

void hist_record(struct hist *h, uint64_t ns)
{
	hist_record_n(h, ns, 1);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (src->count == 0)
		return;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	dst->clamped += src->clamped;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

static uint64_t clamp(uint64_t v, const struct hist *h)
{
	if (v < h->min)
		return h->min;
	if (v > h->max)
		return h->max;
	return v;
}

uint64_t hist_quantile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	if (!(p > 0.0))
		return h->min;
	if (p >= 1.0)
		return h->max;
	/* The smallest rank r with r >= p * count, at least 1. */
	rank = (uint64_t)(p * (double)h->count);
	if ((double)rank < p * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t lo = hist_bucket_lo(i), hi = hist_bucket_hi(i);
			return clamp(lo + (hi - lo) / 2u, h);
		}
	}
	return h->max;
}

uint64_t hist_count(const struct hist *h)
{
	return h->count;
}

uint64_t hist_min(const struct hist *h)
{
	return h->count ? h->min : 0;
}

uint64_t hist_max(const struct hist *h)
{
	return h->max;
}

double hist_mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

uint64_t hist_count_le(const struct hist *h, uint64_t le_ns)
{
	uint64_t n = 0;

	if (le_ns >= HIST_MAX_NS)
		return h->count;
	for (size_t i = 0; i < HIST_BUCKETS && hist_bucket_hi(i) <= le_ns; i++)
		n += h->buckets[i];
	return n;
}

/* ---- publication (seqlock) ---------------------------------------------- */

enum { W_COUNT, W_SUM, W_MIN, W_MAX, W_CLAMPED, W_BUCKETS };

void hist_pub_init(struct hist_pub *pub)
{
	struct hist empty;

	atomic_init(&pub->seq, 0);
	hist_init(&empty);
	atomic_init(&pub->words[W_COUNT], 0);
	atomic_init(&pub->words[W_SUM], 0);
	atomic_init(&pub->words[W_MIN], empty.min);
	atomic_init(&pub->words[W_MAX], 0);
	atomic_init(&pub->words[W_CLAMPED], 0);
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		atomic_init(&pub->words[W_BUCKETS + i], 0);
}

void hist_publish(struct hist_pub *pub, const struct hist *h)
{
	uint64_t s = atomic_load_explicit(&pub->seq, memory_order_relaxed);

	atomic_store_explicit(&pub->seq, s + 1u, memory_order_relaxed);
	/* The odd sequence must be visible before any word changes. */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&pub->words[W_COUNT], h->count, memory_order_relaxed);
	atomic_store_explicit(&pub->words[W_SUM], h->sum, memory_order_relaxed);
	atomic_store_explicit(&pub->words[W_MIN], h->min, memory_order_relaxed);
	atomic_store_explicit(&pub->words[W_MAX], h->max, memory_order_relaxed);
	atomic_store_explicit(&pub->words[W_CLAMPED], h->clamped, memory_order_relaxed);
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		atomic_store_explicit(&pub->words[W_BUCKETS + i], h->buckets[i],
				      memory_order_relaxed);
	atomic_store_explicit(&pub->seq, s + 2u, memory_order_release);
}

uint64_t hist_read(const struct hist_pub *pub, struct hist *out)
{
	/* The struct is const to the reader, but C11 atomic loads take a
	 * non-const pointer; nothing is written through it. */
	struct hist_pub *p = (struct hist_pub *)(uintptr_t)pub;
	uint64_t s1, s2;

	for (;;) {
		s1 = atomic_load_explicit(&p->seq, memory_order_acquire);
		if (s1 & 1u)
			continue;
		out->count = atomic_load_explicit(&p->words[W_COUNT], memory_order_relaxed);
		out->sum = atomic_load_explicit(&p->words[W_SUM], memory_order_relaxed);
		out->min = atomic_load_explicit(&p->words[W_MIN], memory_order_relaxed);
		out->max = atomic_load_explicit(&p->words[W_MAX], memory_order_relaxed);
		out->clamped = atomic_load_explicit(&p->words[W_CLAMPED], memory_order_relaxed);
		for (size_t i = 0; i < HIST_BUCKETS; i++)
			out->buckets[i] =
			    atomic_load_explicit(&p->words[W_BUCKETS + i], memory_order_relaxed);
		/* The loads above must complete before seq is read again. */
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(&p->seq, memory_order_relaxed);
		if (s1 == s2)
			return s1 / 2u;
	}
}

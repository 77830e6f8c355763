/* Latency histograms in nanoseconds: fixed size, allocation free.
 *
 * Buckets are log-linear, as in HDR histogram: values below 64 ns have one
 * bucket each (exact); above, every power of two [2^e, 2^(e+1)) is split
 * into 32 equal sub-buckets. A bucket is therefore at most 1/32 (3.1%) of its
 * lowest value wide, and a quantile, reported as the middle of its bucket, is
 * within 1.6% of the true sample (and always inside [min, max]). The range is
 * 0 to HIST_MAX_NS (2^38 - 1 ns, about 275 s); larger values are recorded in
 * the top bucket and counted in `clamped`. count, sum, min and max are exact.
 *
 * struct hist is a plain value (HIST_BUCKETS counters, about 8.7 KiB): embed
 * it, zero it with hist_init(), record into it from ONE thread. Copying it
 * (`struct hist snap = *h;`, or hist_merge into a zeroed one) by the owning
 * thread gives a snapshot that may be handed to any other thread, e.g.
 * through a ring or a mutex-protected slot.
 *
 * For a reader that polls while the owner keeps recording (dashboard,
 * /metrics), publish through struct hist_pub: the owner calls
 * hist_publish() now and then (not per event: it copies every bucket), and
 * any number of readers call hist_read(), which never blocks the owner and
 * retries while a publish is in progress (a seqlock).
 *
 * Nothing here allocates, locks, logs or reads the clock: the caller passes
 * the measured duration (e.g. the difference of two clock_mono_ns()). Every
 * function except hist_publish/hist_read touches only the histograms given,
 * so each one follows the thread rules of the struct it is called on. */
#ifndef ARB_CORE_HIST_H
#define ARB_CORE_HIST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sub-buckets per power of two: 2^HIST_SUB_BITS. */
#define HIST_SUB_BITS 5
/* Values below this have a bucket each. */
#define HIST_LINEAR (2u << HIST_SUB_BITS)
/* Highest value with its own bucket; larger values are clamped to it. */
#define HIST_MAX_NS ((UINT64_C(1) << 38) - 1u)
/* 64 exact buckets, then 32 octaves [2^6, 2^38) of 32 sub-buckets. */
#define HIST_BUCKETS (HIST_LINEAR + (38u - (HIST_SUB_BITS + 1u)) * (1u << HIST_SUB_BITS))

struct hist {
	uint64_t count;	  /* values recorded */
	uint64_t sum;	  /* their sum in ns (exact until 2^64, about 584 years) */
	uint64_t min;	  /* smallest value; UINT64_MAX while count is 0 */
	uint64_t max;	  /* largest value; 0 while count is 0 */
	uint64_t clamped; /* values above HIST_MAX_NS (in the top bucket) */
	uint64_t buckets[HIST_BUCKETS];
};

/* Empties h. Call before first use (a zeroed struct is NOT empty: min). */
void hist_init(struct hist *h);

/* Records one value of ns nanoseconds. O(1): a count-leading-zeros, an
 * index and five updates. */
void hist_record(struct hist *h, uint64_t ns);

/* Records n values of ns each (n may be 0). */
void hist_record_n(struct hist *h, uint64_t ns, uint64_t n);

/* Adds every value of src to dst (dst and src may not be the same). */
void hist_merge(struct hist *dst, const struct hist *src);

/* The value at quantile p (0 <= p <= 1; 0.5 is the median, 0.99 the 99th
 * percentile): the smallest recorded value v such that at least p * count
 * values are <= v, reported as the middle of v's bucket clamped to
 * [min, max]. p <= 0 gives min, p >= 1 gives max. 0 when h is empty. */
uint64_t hist_quantile(const struct hist *h, double p);

uint64_t hist_count(const struct hist *h);
/* 0 when empty (not UINT64_MAX), so that printing it is always sensible. */
uint64_t hist_min(const struct hist *h);
uint64_t hist_max(const struct hist *h);
/* sum / count, 0.0 when empty. */
double hist_mean(const struct hist *h);

/* Values recorded in buckets whose every value is <= le_ns: the cumulative
 * count of a Prometheus bucket `le`. Exact when le_ns + 1 is a bucket
 * boundary (every value below 64, then 32 steps per power of two); otherwise
 * the bucket straddling le_ns is left out. le_ns >= HIST_MAX_NS gives count. */
uint64_t hist_count_le(const struct hist *h, uint64_t le_ns);

/* The bucket index of value ns (clamped), and the lowest and highest value of
 * bucket i (i < HIST_BUCKETS), for callers that walk the buckets themselves. */
size_t hist_bucket_of(uint64_t ns);
uint64_t hist_bucket_lo(size_t i);
uint64_t hist_bucket_hi(size_t i);

/* A histogram published by one writer thread and read by any others. Every
 * word is an atomic, so readers never see a torn value, and seq (odd while a
 * publish is running) tells them when to retry. Initialise with
 * hist_pub_init() before the threads start; lives as long as its owner. */
struct hist_pub {
	_Atomic uint64_t seq;
	_Atomic uint64_t words[5 + HIST_BUCKETS];
};

void hist_pub_init(struct hist_pub *pub);

/* Copies h into pub. One writer at a time (the thread that owns h). Cost: one
 * relaxed store per bucket, about a microsecond; call it periodically. */
void hist_publish(struct hist_pub *pub, const struct hist *h);

/* Copies the last published histogram into *out (an empty one before the
 * first publish). Any thread; spins only while a publish is in progress.
 * Returns the number of publishes so far (seq / 2), so a reader can tell
 * whether anything changed. */
uint64_t hist_read(const struct hist_pub *pub, struct hist *out);

#endif

/* core/hist: bucket layout, quantile precision against sorted samples,
 * merge, Prometheus-style cumulative counts and seqlock publication. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/hist.h"

static struct hist h1, h2, h3;

static void test_empty(void **state)
{
	(void)state;
	hist_init(&h1);
	assert_int_equal(hist_count(&h1), 0);
	assert_int_equal(hist_min(&h1), 0);
	assert_int_equal(hist_max(&h1), 0);
	assert_int_equal(hist_quantile(&h1, 0.5), 0);
	assert_true(hist_mean(&h1) == 0.0);
	assert_int_equal(hist_count_le(&h1, 1000), 0);
}

/* Every bucket is contiguous with the next, and each value maps into the
 * bucket whose bounds contain it. */
static void test_layout(void **state)
{
	(void)state;
	assert_int_equal(hist_bucket_lo(0), 0);
	for (size_t i = 0; i + 1 < HIST_BUCKETS; i++) {
		assert_true(hist_bucket_lo(i) <= hist_bucket_hi(i));
		assert_int_equal(hist_bucket_hi(i) + 1, hist_bucket_lo(i + 1));
		assert_int_equal(hist_bucket_of(hist_bucket_lo(i)), i);
		assert_int_equal(hist_bucket_of(hist_bucket_hi(i)), i);
		/* width / lo <= 1/32 above the linear range */
		if (i >= HIST_LINEAR)
			assert_true((hist_bucket_hi(i) - hist_bucket_lo(i) + 1) * 32 <=
				    hist_bucket_lo(i));
	}
	assert_int_equal(hist_bucket_hi(HIST_BUCKETS - 1), HIST_MAX_NS);
	assert_int_equal(hist_bucket_of(HIST_MAX_NS + 1), HIST_BUCKETS - 1);
	assert_int_equal(hist_bucket_of(UINT64_MAX), HIST_BUCKETS - 1);
	/* 100 s is inside the range */
	assert_true(hist_bucket_of(100000000000ull) < HIST_BUCKETS - 1);
}

static void test_exact_small(void **state)
{
	(void)state;
	hist_init(&h1);
	for (uint64_t v = 1; v <= 50; v++)
		hist_record(&h1, v);
	assert_int_equal(hist_count(&h1), 50);
	assert_int_equal(hist_min(&h1), 1);
	assert_int_equal(hist_max(&h1), 50);
	assert_int_equal(hist_quantile(&h1, 0.5), 25);
	assert_int_equal(hist_quantile(&h1, 0.02), 1);
	assert_int_equal(hist_quantile(&h1, 0.021), 2);
	assert_int_equal(hist_quantile(&h1, 0.99), 50);
	assert_int_equal(hist_quantile(&h1, 0.0), 1);
	assert_int_equal(hist_quantile(&h1, 1.0), 50);
	assert_true(hist_mean(&h1) == 25.5);
	assert_int_equal(hist_count_le(&h1, 10), 10);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Log-uniform samples from 1 ns to 100 s: each quantile is within 1/32 of the
 * sorted sample at the same rank. */
static void test_precision(void **state)
{
	enum { N = 20000 };
	static uint64_t v[N];
	static const double ps[] = {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999};
	unsigned __int128 sum = 0;

	(void)state;
	hist_init(&h1);
	for (int i = 0; i < N; i++) {
		unsigned bits = (unsigned)(rng() % 37u);
		v[i] = (rng() & ((UINT64_C(1) << bits) - 1u)) | (UINT64_C(1) << bits);
		hist_record(&h1, v[i]);
		sum += v[i];
	}
	qsort(v, N, sizeof(v[0]), cmp_u64);
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		double x = ps[k] * N;
		size_t rank = (size_t)x;
		if ((double)rank < x)
			rank++;
		uint64_t want = v[rank - 1], got = hist_quantile(&h1, ps[k]);
		uint64_t diff = got > want ? got - want : want - got;
		assert_true(diff * 32 <= want);
	}
	assert_int_equal(hist_min(&h1), v[0]);
	assert_int_equal(hist_max(&h1), v[N - 1]);
	assert_int_equal(h1.sum, (uint64_t)sum);
	assert_int_equal(h1.clamped, 0);
}

static void test_merge_and_le(void **state)
{
	(void)state;
	hist_init(&h1);
	hist_init(&h2);
	hist_init(&h3);
	hist_record_n(&h1, 1000, 90);
	hist_record_n(&h2, 5000, 10);
	hist_record_n(&h2, 7, 0);
	hist_merge(&h3, &h1);
	hist_merge(&h3, &h2);
	assert_int_equal(hist_count(&h3), 100);
	assert_int_equal(hist_min(&h3), 1000);
	assert_int_equal(hist_max(&h3), 5000);
	assert_int_equal(h3.sum, 90 * 1000 + 10 * 5000);
	assert_true(hist_quantile(&h3, 0.9) >= 1000 - 1000 / 32 &&
		    hist_quantile(&h3, 0.9) <= 1000 + 1000 / 32);
	assert_true(hist_quantile(&h3, 0.91) >= 5000 - 5000 / 32);
	/* le boundaries: everything at 1000 is in buckets ending by 1023 */
	assert_int_equal(hist_count_le(&h3, 1023), 90);
	assert_int_equal(hist_count_le(&h3, 4000), 90);
	assert_int_equal(hist_count_le(&h3, 8191), 100);
	assert_int_equal(hist_count_le(&h3, UINT64_MAX), 100);
	assert_int_equal(hist_count_le(&h3, 999), 0);
}

static void test_clamped(void **state)
{
	(void)state;
	hist_init(&h1);
	hist_record(&h1, HIST_MAX_NS + 5);
	hist_record(&h1, 10);
	assert_int_equal(h1.clamped, 1);
	assert_int_equal(hist_max(&h1), HIST_MAX_NS + 5);
	assert_int_equal(h1.buckets[HIST_BUCKETS - 1], 1);
	assert_int_equal(hist_quantile(&h1, 1.0), HIST_MAX_NS + 5);
}

/* A writer publishes histograms whose every value is the same number k, so a
 * consistent snapshot has buckets[bucket_of(k)] == count and sum == k * count;
 * a torn one would break that. */
static struct hist_pub pub;
static atomic_bool done;

static void *writer(void *arg)
{
	static struct hist w;
	(void)arg;
	for (uint64_t k = 1; k <= 3000; k++) {
		hist_init(&w);
		hist_record_n(&w, k * 37u, k);
		hist_publish(&pub, &w);
	}
	atomic_store(&done, true);
	return NULL;
}

static void test_publish(void **state)
{
	static struct hist r;
	pthread_t t;
	uint64_t reads = 0, last = 0;

	(void)state;
	hist_pub_init(&pub);
	assert_int_equal(hist_read(&pub, &r), 0);
	assert_int_equal(hist_count(&r), 0);
	assert_int_equal(r.min, UINT64_MAX);
	atomic_store(&done, false);
	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
	while (!atomic_load(&done) || reads == 0) {
		uint64_t seq = hist_read(&pub, &r);
		assert_true(seq >= last);
		last = seq;
		reads++;
		if (r.count == 0)
			continue;
		assert_int_equal(r.sum, r.count * r.count * 37u);
		assert_int_equal(r.buckets[hist_bucket_of(r.count * 37u)], r.count);
		assert_int_equal(r.min, r.count * 37u);
	}
	pthread_join(t, NULL);
	assert_int_equal(hist_read(&pub, &r), 3000);
	assert_int_equal(r.count, 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),	 cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_exact_small),	 cmocka_unit_test(test_precision),
	    cmocka_unit_test(test_merge_and_le), cmocka_unit_test(test_clamped),
	    cmocka_unit_test(test_publish),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

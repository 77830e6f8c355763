#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "core/err.h"
#include "core/ring.h"

/* An odd-sized record, so the rings' copies are checked byte for byte. */
struct rec {
	uint64_t seq;
	uint32_t producer;
	char tag[5];
};

static struct rec mk(uint64_t seq, uint32_t producer)
{
	struct rec r;
	memset(&r, 0, sizeof(r));
	r.seq = seq;
	r.producer = producer;
	r.tag[0] = (char)('a' + seq % 26);
	return r;
}

static void spsc_basic(void **state)
{
	(void)state;
	struct ring_spsc *r = ring_spsc_new(sizeof(struct rec), 5); /* rounds to 8 */
	struct rec in, out;
	assert_non_null(r);
	assert_int_equal(ring_spsc_count(r), 0);
	assert_int_equal(ring_spsc_pop(r, &out), ERR_EMPTY);
	for (uint64_t i = 0; i < 8; i++) {
		in = mk(i, 0);
		assert_int_equal(ring_spsc_push(r, &in), 0);
		assert_int_equal(ring_spsc_count(r), i + 1);
	}
	in = mk(99, 0);
	assert_int_equal(ring_spsc_push(r, &in), ERR_FULL);
	assert_int_equal(ring_spsc_count(r), 8);
	for (uint64_t i = 0; i < 8; i++) {
		struct rec want = mk(i, 0);
		assert_int_equal(ring_spsc_pop(r, &out), 0);
		assert_memory_equal(&out, &want, sizeof(out));
	}
	assert_int_equal(ring_spsc_pop(r, &out), ERR_EMPTY);
	assert_int_equal(ring_spsc_count(r), 0);
	ring_spsc_free(r);
	ring_spsc_free(NULL);
}

static void spsc_capacity_rounding(void **state)
{
	(void)state;
	static const size_t asks[][2] = {{0, 1}, {1, 1}, {2, 2}, {3, 4}, {4, 4}, {1000, 1024}};
	for (size_t k = 0; k < sizeof(asks) / sizeof(asks[0]); k++) {
		struct ring_spsc *r = ring_spsc_new(sizeof(uint32_t), asks[k][0]);
		uint32_t v = 7;
		size_t n = 0;
		assert_non_null(r);
		while (ring_spsc_push(r, &v) == 0)
			n++;
		assert_int_equal(n, asks[k][1]);
		ring_spsc_free(r);
	}
	assert_null(ring_spsc_new(0, 8));
	assert_null(ring_spsc_new(8, SIZE_MAX));
}

/* Many laps around a small ring with an uneven fill level. */
static void spsc_wraparound(void **state)
{
	(void)state;
	struct ring_spsc *r = ring_spsc_new(sizeof(uint64_t), 4);
	uint64_t next_in = 0, next_out = 0, v;
	assert_non_null(r);
	for (int lap = 0; lap < 1000; lap++) {
		int pushes = 1 + lap % 4;
		for (int i = 0; i < pushes; i++) {
			if (ring_spsc_push(r, &next_in) == 0)
				next_in++;
		}
		int pops = 1 + (lap * 7) % 3;
		for (int i = 0; i < pops; i++) {
			if (ring_spsc_pop(r, &v) == 0) {
				assert_int_equal(v, next_out);
				next_out++;
			}
		}
		assert_int_equal(ring_spsc_count(r), next_in - next_out);
		assert_true(next_in - next_out <= 4);
	}
	while (ring_spsc_pop(r, &v) == 0)
		assert_int_equal(v, next_out++);
	assert_int_equal(next_in, next_out);
	assert_true(next_in > 1000);
	ring_spsc_free(r);
}

#define STRESS_N 1000000ULL

static void *spsc_producer(void *arg)
{
	struct ring_spsc *r = arg;
	for (uint64_t i = 0; i < STRESS_N; i++) {
		struct rec x = mk(i, 1);
		while (ring_spsc_push(r, &x) != 0)
			;
	}
	return NULL;
}

static void spsc_stress(void **state)
{
	(void)state;
	struct ring_spsc *r = ring_spsc_new(sizeof(struct rec), 1024);
	pthread_t t;
	uint64_t expect = 0;
	assert_non_null(r);
	assert_int_equal(pthread_create(&t, NULL, spsc_producer, r), 0);
	while (expect < STRESS_N) {
		struct rec out;
		if (ring_spsc_pop(r, &out) != 0)
			continue;
		/* Check the whole record, not just the order, so a torn copy shows. */
		struct rec want = mk(expect, 1);
		if (memcmp(&out, &want, sizeof(out)) != 0)
			fail_msg("item %llu arrived as seq %llu", (unsigned long long)expect,
				 (unsigned long long)out.seq);
		expect++;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	struct rec out;
	assert_int_equal(ring_spsc_pop(r, &out), ERR_EMPTY);
	ring_spsc_free(r);
}

static void mpsc_basic(void **state)
{
	(void)state;
	struct ring_mpsc *r = ring_mpsc_new(sizeof(struct rec), 3); /* rounds to 4 */
	struct rec in, out;
	assert_non_null(r);
	assert_int_equal(ring_mpsc_pop(r, &out), ERR_EMPTY);
	for (uint64_t i = 0; i < 4; i++) {
		in = mk(i, 2);
		assert_int_equal(ring_mpsc_push(r, &in), 0);
	}
	assert_int_equal(ring_mpsc_count(r), 4);
	in = mk(4, 2);
	assert_int_equal(ring_mpsc_push(r, &in), ERR_FULL);
	/* Free one slot, and exactly one more push fits. */
	assert_int_equal(ring_mpsc_pop(r, &out), 0);
	assert_int_equal(out.seq, 0);
	assert_int_equal(ring_mpsc_push(r, &in), 0);
	assert_int_equal(ring_mpsc_push(r, &in), ERR_FULL);
	for (uint64_t i = 1; i <= 4; i++) {
		struct rec want = mk(i, 2);
		assert_int_equal(ring_mpsc_pop(r, &out), 0);
		assert_memory_equal(&out, &want, sizeof(out));
	}
	assert_int_equal(ring_mpsc_pop(r, &out), ERR_EMPTY);
	assert_int_equal(ring_mpsc_count(r), 0);
	ring_mpsc_free(r);
	ring_mpsc_free(NULL);
	assert_null(ring_mpsc_new(0, 8));
}

static void mpsc_wraparound(void **state)
{
	(void)state;
	struct ring_mpsc *r = ring_mpsc_new(sizeof(uint32_t), 2);
	uint32_t in = 0, want = 0, v;
	assert_non_null(r);
	for (int lap = 0; lap < 5000; lap++) {
		if (ring_mpsc_push(r, &in) == 0)
			in++;
		if (lap % 3 != 0 && ring_mpsc_push(r, &in) == 0)
			in++;
		assert_true(ring_mpsc_count(r) <= 2);
		if (ring_mpsc_pop(r, &v) == 0)
			assert_int_equal(v, want++);
	}
	while (ring_mpsc_pop(r, &v) == 0)
		assert_int_equal(v, want++);
	assert_int_equal(in, want);
	assert_true(in > 5000);
	ring_mpsc_free(r);
}

#define MP_PRODUCERS 4
#define MP_PER	     250000ULL

struct mp_arg {
	struct ring_mpsc *r;
	uint32_t id;
};

static void *mpsc_producer(void *p)
{
	struct mp_arg *a = p;
	for (uint64_t i = 0; i < MP_PER; i++) {
		struct rec x = mk(i, a->id);
		while (ring_mpsc_push(a->r, &x) != 0)
			;
	}
	return NULL;
}

static void mpsc_stress(void **state)
{
	(void)state;
	struct ring_mpsc *r = ring_mpsc_new(sizeof(struct rec), 256);
	pthread_t t[MP_PRODUCERS];
	struct mp_arg args[MP_PRODUCERS];
	uint64_t next[MP_PRODUCERS] = {0};
	uint64_t total = 0;
	assert_non_null(r);
	for (uint32_t i = 0; i < MP_PRODUCERS; i++) {
		args[i].r = r;
		args[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, mpsc_producer, &args[i]), 0);
	}
	while (total < MP_PRODUCERS * MP_PER) {
		struct rec out;
		if (ring_mpsc_pop(r, &out) != 0)
			continue;
		if (out.producer >= MP_PRODUCERS)
			fail_msg("bad producer id %u", out.producer);
		/* Each producer's items arrive in its own order, so "exactly once"
		 * means each one is the next expected for its producer. */
		struct rec want = mk(next[out.producer], out.producer);
		if (memcmp(&out, &want, sizeof(out)) != 0)
			fail_msg("producer %u: expected seq %llu, got %llu", out.producer,
				 (unsigned long long)next[out.producer],
				 (unsigned long long)out.seq);
		next[out.producer]++;
		total++;
	}
	for (int i = 0; i < MP_PRODUCERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(next[i], MP_PER);
	}
	struct rec out;
	assert_int_equal(ring_mpsc_pop(r, &out), ERR_EMPTY);
	assert_int_equal(ring_mpsc_count(r), 0);
	ring_mpsc_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(spsc_basic),      cmocka_unit_test(spsc_capacity_rounding),
	    cmocka_unit_test(spsc_wraparound), cmocka_unit_test(spsc_stress),
	    cmocka_unit_test(mpsc_basic),      cmocka_unit_test(mpsc_wraparound),
	    cmocka_unit_test(mpsc_stress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

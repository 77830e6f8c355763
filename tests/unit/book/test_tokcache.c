/* book__checksum_cached (reused level texts) against book_checksum_levels
 * over random top-10 sequences: levels inserted, removed, shifted, changed
 * in quantity only or in price only, sides shrinking to nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "book/book_int.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void mutate(struct book_level *lv, size_t *n)
{
	size_t i = *n ? (size_t)(next() % *n) : 0;

	switch (next() % 6) {
	case 0: /* insert */
		if (*n < BOOK_CHECKSUM_LEVELS) {
			memmove(&lv[i + 1], &lv[i], (*n - i) * sizeof(*lv));
			lv[i].price = (int64_t)(next() % 100000) + 1;
			lv[i].qty = (int64_t)(next() % 1000000);
			(*n)++;
		}
		break;
	case 1: /* remove */
		if (*n > 0) {
			memmove(&lv[i], &lv[i + 1], (*n - i - 1) * sizeof(*lv));
			(*n)--;
		}
		break;
	case 2: /* qty only */
		if (*n > 0)
			lv[i].qty = (int64_t)(next() % 1000000);
		break;
	case 3: /* price only, same digits count or not */
		if (*n > 0)
			lv[i].price = (int64_t)(next() % 100000) + 1;
		break;
	case 4: /* swap two neighbours: same values, other positions */
		if (i + 1 < *n) {
			struct book_level t = lv[i];
			lv[i] = lv[i + 1];
			lv[i + 1] = t;
		}
		break;
	default: /* nothing: the same book again */
		break;
	}
}

static void test_cached_equals_plain(void **state)
{
	static struct book__tokcache c;
	struct book_level asks[BOOK_CHECKSUM_LEVELS + 1], bids[BOOK_CHECKSUM_LEVELS + 1];
	size_t na = 0, nb = 0;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (int round = 0; round < 200000; round++) {
		if (next() & 1)
			mutate(asks, &na);
		else
			mutate(bids, &nb);
		if (na > BOOK_CHECKSUM_LEVELS || nb > BOOK_CHECKSUM_LEVELS)
			fail();
		uint32_t want = book_checksum_levels(asks, na, bids, nb);
		uint32_t got = book__checksum_cached(&c, asks, na, bids, nb);
		if (want != got)
			fail_msg("round %d: cached %08x, plain %08x", round, got, want);
	}
}

/* More levels than the checksum covers: only the top ones count. */
static void test_clamps_to_top(void **state)
{
	static struct book__tokcache c;
	struct book_level lv[15];

	(void)state;
	for (int i = 0; i < 15; i++) {
		lv[i].price = 1000 - i;
		lv[i].qty = 7 + i;
	}
	assert_int_equal(book__checksum_cached(&c, lv, 15, lv, 12),
			 book_checksum_levels(lv, 10, lv, 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cached_equals_plain),
	    cmocka_unit_test(test_clamps_to_top),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

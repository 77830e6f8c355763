/* books_pub.c: the md thread's copy of each book's top levels, read by the
 * exec thread (paper fills) without a lock.
 *   - a valid book's asks (buy) and bids (sell) come back best first, cut to
 *     APP_PUB_LEVELS and to the caller's cap;
 *   - an invalid book or a slot never written gives no levels, an id out of
 *     range ERR_NOTFOUND;
 *   - under a writer that keeps rewriting the book, every read is one whole
 *     state: all levels of a copy carry the same generation. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/pipe_int.h"
#include "book/book.h"

#define N 12 /* levels per side written: more than APP_PUB_LEVELS */

/* A snapshot of N levels a side whose quantities all equal gen. */
static void snapshot(struct book *b, int64_t gen)
{
	struct book_level asks[N], bids[N];
	for (int i = 0; i < N; i++) {
		asks[i] = (struct book_level){1000 + i, gen};
		bids[i] = (struct book_level){999 - i, gen};
	}
	book_begin(b, true);
	for (int i = 0; i < N; i++) {
		assert_int_equal(book_set_ask(b, asks[i].price, asks[i].qty), 0);
		assert_int_equal(book_set_bid(b, bids[i].price, bids[i].qty), 0);
	}
	uint32_t ck = book_checksum_levels(asks, 10, bids, 10);
	assert_int_equal(book_end(b, ck, (uint64_t)gen), 0);
}

static void test_levels(void **state)
{
	(void)state;
	struct book *b = book_new("BTC/USD", 1, 8, 25, NULL);
	struct app_books_pub *p = app__books_pub_new(8);
	struct book_level out[APP_PUB_LEVELS + 4];
	size_t n = 99;
	assert_non_null(b);
	assert_non_null(p);

	assert_int_equal(app__books_pub_levels(p, 3, VENUE_BUY, out, 16, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(app__books_pub_levels(p, 8, VENUE_BUY, out, 16, &n), ERR_NOTFOUND);

	snapshot(b, 7);
	assert_true(book_valid(b));
	app__books_pub_write(p, 3, b);
	assert_int_equal(app__books_pub_levels(p, 3, VENUE_BUY, out, 16, &n), 0);
	assert_int_equal(n, APP_PUB_LEVELS);
	assert_int_equal(out[0].price, 1000);
	assert_int_equal(out[APP_PUB_LEVELS - 1].price, 1000 + APP_PUB_LEVELS - 1);
	assert_int_equal(out[0].qty, 7);
	assert_int_equal(app__books_pub_levels(p, 3, VENUE_SELL, out, 3, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].price, 999);
	assert_int_equal(out[2].price, 997);

	/* Invalid (disconnect): no levels to fill against. */
	book_invalidate(b);
	app__books_pub_write(p, 3, b);
	assert_int_equal(app__books_pub_levels(p, 3, VENUE_SELL, out, 16, &n), 0);
	assert_int_equal(n, 0);
	/* Writing past the table is ignored. */
	app__books_pub_write(p, 100, b);

	app__books_pub_free(p);
	book_free(b);
}

struct race {
	struct app_books_pub *p;
	struct book *b;
	atomic_bool stop;
};

static void *writer(void *arg)
{
	struct race *r = arg;
	for (int64_t gen = 1; !atomic_load(&r->stop); gen++) {
		snapshot(r->b, gen);
		app__books_pub_write(r->p, 0, r->b);
	}
	return NULL;
}

static void test_consistent_under_writes(void **state)
{
	(void)state;
	struct race r = {.p = app__books_pub_new(1), .b = book_new("ETH/USD", 1, 8, 25, NULL)};
	pthread_t t;
	assert_non_null(r.p);
	assert_non_null(r.b);
	atomic_init(&r.stop, false);
	assert_int_equal(pthread_create(&t, NULL, writer, &r), 0);
	unsigned seen = 0;
	for (int i = 0; i < 200000; i++) {
		struct book_level out[APP_PUB_LEVELS];
		size_t n = 0;
		assert_int_equal(
		    app__books_pub_levels(r.p, 0, i & 1 ? VENUE_BUY : VENUE_SELL, out, 10, &n), 0);
		for (size_t k = 1; k < n; k++)
			if (out[k].qty != out[0].qty)
				fail_msg("torn copy: level 0 gen %lld, level %zu gen %lld",
					 (long long)out[0].qty, k, (long long)out[k].qty);
		seen += n > 0;
	}
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	assert_true(seen > 0);
	app__books_pub_free(r.p);
	book_free(r.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_consistent_under_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Book maintenance rules (PROTOCOL.md §2.3): table-driven scenarios written
 * in a small text notation, a randomised comparison against a naive model at
 * every depth, argument checks, and a check that applying messages never
 * allocates. The checksum itself is pinned to Kraken's vectors in
 * test_checksum.c; here the expected checksum of each step is the one of the
 * expected levels. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "book/book.h"
#include "book/book_int.h"

/* ---- counting allocations ---------------------------------------------
 * The executable's malloc, calloc and realloc take precedence over libc's
 * and forward to glibc's own entry points, counting calls. Sanitizer builds
 * bring their own allocator, so there the check is skipped. */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#if defined(__GLIBC__)
#define COUNT_ALLOCS 1
#else
#define COUNT_ALLOCS 0
#endif
#endif

#if COUNT_ALLOCS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

static size_t alloc_calls;

void *malloc(size_t n)
{
	alloc_calls++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	alloc_calls++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	alloc_calls++;
	return __libc_realloc(p, n);
}
#endif

/* ---- notation -----------------------------------------------------------
 * A message is "S ..." (snapshot) or "U ..." (update) followed by levels
 * "b<price>=<qty>" or "a<price>=<qty>", applied in the order written. A side
 * is written "<price>=<qty> ...". "<p1>..<p2>=<q>" stands for every price
 * from p1 to p2 in steps of 10, in that order, each with quantity q. */
#define MAX_LEVELS 4096

struct op {
	char side; /* 'b' or 'a' */
	int64_t price;
	int64_t qty;
};

static int64_t parse_int(const char **s)
{
	char *end;
	long long v = strtoll(*s, &end, 10);
	if (end == *s)
		fail_msg("bad number at \"%s\"", *s);
	*s = end;
	return (int64_t)v;
}

/* Parses "[b|a]<price>[..<price>]=<qty>" items; side_letter false for an
 * expected side. Returns the number of ops. */
static size_t parse_items(const char *s, bool side_letter, struct op *ops, size_t cap)
{
	size_t n = 0;

	while (*s != '\0') {
		char side = 'b';
		int64_t p1, p2, q, step;

		if (*s == ' ') {
			s++;
			continue;
		}
		if (side_letter) {
			side = *s++;
			if (side != 'b' && side != 'a')
				fail_msg("bad side '%c'", side);
		}
		p1 = p2 = parse_int(&s);
		if (s[0] == '.' && s[1] == '.') {
			s += 2;
			p2 = parse_int(&s);
		}
		if (*s++ != '=')
			fail_msg("expected '=' in \"%s\"", s - 1);
		q = parse_int(&s);
		step = p2 >= p1 ? 10 : -10;
		for (int64_t p = p1;; p += step) {
			assert_true(n < cap);
			ops[n].side = side;
			ops[n].price = p;
			ops[n].qty = q;
			n++;
			if (p == p2)
				break;
			assert_true(step > 0 ? p < p2 : p > p2);
		}
	}
	return n;
}

static size_t parse_side(const char *s, struct book_level *lv, size_t cap)
{
	static struct op ops[MAX_LEVELS];
	size_t n = parse_items(s, false, ops, MAX_LEVELS);

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		lv[i].price = ops[i].price;
		lv[i].qty = ops[i].qty;
	}
	return n;
}

static uint32_t top_checksum(const struct book_level *asks, size_t na,
			     const struct book_level *bids, size_t nb)
{
	return book_checksum_levels(asks, na < 10 ? na : 10, bids, nb < 10 ? nb : 10);
}

static void assert_side(const char *what, const struct book_level *got, size_t ngot,
			const struct book_level *want, size_t nwant)
{
	if (ngot != nwant)
		fail_msg("%s: %zu levels, want %zu", what, ngot, nwant);
	for (size_t i = 0; i < nwant; i++) {
		if (got[i].price != want[i].price || got[i].qty != want[i].qty)
			fail_msg("%s[%zu]: %" PRId64 "=%" PRId64 ", want %" PRId64 "=%" PRId64,
				 what, i, got[i].price, got[i].qty, want[i].price, want[i].qty);
	}
}

/* ---- table-driven scenarios ------------------------------------------ */

enum { CK_RIGHT, CK_WRONG };

struct step {
	const char *msg;
	int checksum; /* CK_RIGHT: pass the checksum of the expected levels */
	int rc;	      /* expected book_end() result */
	bool valid;   /* expected book_valid() after */
	const char *bids;
	const char *asks;
};

#define MAX_STEPS 8

struct scenario {
	const char *name;
	unsigned depth;
	struct step steps[MAX_STEPS];
	struct book_stats stats; /* at the end; invalidations unused */
};

#define FULL_S "S b1000..910=1 a1010..1100=1"
#define FULL_B "1000..910=1"
#define FULL_A "1010..1100=1"

static const struct scenario scenarios[] = {
    {"insert_at_top",
     10,
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b1005=7", CK_RIGHT, 0, true, "1005=7 1000..920=1", FULL_A},
      {"U a1001=3", CK_RIGHT, 0, true, "1005=7 1000..920=1", "1001=3 1010..1090=1"}},
     {1, 2, 0, 0, 0, 0}},
    {"delete_unknown_price_is_ignored",
     10,
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      /* beyond the depth, between two levels, and on the other side */
      {"U b900=0 b995=0 a2000=0 a1005=0 b1010=0 a1000=0", CK_RIGHT, 0, true, FULL_B, FULL_A}},
     {1, 1, 0, 0, 0, 0}},
    {"truncate_after_insert_in_the_middle",
     10,
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b955=4 a1055=4", CK_RIGHT, 0, true, "1000..960=1 955=4 950..920=1",
       "1010..1050=1 1055=4 1060..1090=1"},
      /* the truncated levels are gone: removing them changes nothing */
      {"U b910=0 a1100=0", CK_RIGHT, 0, true, "1000..960=1 955=4 950..920=1",
       "1010..1050=1 1055=4 1060..1090=1"},
      /* a level that falls below the depth is not sent again by Kraken;
       * removing the top leaves 9 until Kraken sends the 10th */
      {"U b1000=0", CK_RIGHT, 0, true, "990..960=1 955=4 950..920=1",
       "1010..1050=1 1055=4 1060..1090=1"}},
     {1, 3, 0, 0, 0, 0}},
    {"insert_then_delete_in_one_message",
     10,
     /* Before truncation the message leaves 10 levels, so 910 stays. */
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b1010=2 b1000=0 a1005=2 a1010=0", CK_RIGHT, 0, true, "1010=2 990..910=1",
       "1005=2 1020..1100=1"}},
     {1, 1, 0, 0, 0, 0}},
    {"quantity_replaces_not_adds",
     10,
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b990=5 a1100=9", CK_RIGHT, 0, true, "1000=1 990=5 980..910=1", "1010..1090=1 1100=9"},
      {"U b990=2", CK_RIGHT, 0, true, "1000=1 990=2 980..910=1", "1010..1090=1 1100=9"}},
     {1, 2, 0, 0, 0, 0}},
    {"repeated_price_in_one_message",
     10,
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b990=5 b990=0 b990=7 b985=3 b985=0 a1015=2 a1015=9 a1010=0 a1010=4", CK_RIGHT, 0, true,
       "1000=1 990=7 980..910=1", "1010=4 1015=9 1020..1090=1"}},
     {1, 1, 0, 0, 0, 0}},
    {"snapshot_replaces_the_book",
     10,
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"S b500=1 a600=2", CK_RIGHT, 0, true, "500=1", "600=2"},
      {"S", CK_RIGHT, 0, true, "", ""}},
     {3, 0, 0, 0, 0, 0}},
    {"snapshot_unordered_and_deeper_than_depth",
     10,
     {{"S b910..1000=1 b900..860=2 a1100..1010=1 a1110..1150=3 b2000=0", CK_RIGHT, 0, true, FULL_B,
       FULL_A}},
     {1, 0, 0, 0, 0, 0}},
    {"one_sided_and_empty_book",
     10,
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b1000..910=0", CK_RIGHT, 0, true, "", FULL_A},
      {"U a1010..1100=0", CK_RIGHT, 0, true, "", ""},
      {"U b5=1", CK_RIGHT, 0, true, "5=1", ""}},
     {1, 3, 0, 0, 0, 0}},
    {"mismatch_marks_invalid_until_a_good_snapshot",
     10,
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b1005=1", CK_WRONG, ERR_CHECKSUM, false, "1005=1 1000..920=1", FULL_A},
      /* a matching update does not make the book valid again */
      {"U b1005=2", CK_RIGHT, 0, false, "1005=2 1000..920=1", FULL_A},
      /* neither does a snapshot that does not match */
      {FULL_S, CK_WRONG, ERR_CHECKSUM, false, FULL_B, FULL_A},
      {FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b1000=3", CK_RIGHT, 0, true, "1000=3 990..910=1", FULL_A}},
     {3, 3, 2, 0, 0, 0}},
    {"update_before_any_snapshot",
     10,
     {{"U b100=1 a200=1", CK_RIGHT, 0, false, "100=1", "200=1"},
      {"S b100=1 a200=1", CK_RIGHT, 0, true, "100=1", "200=1"}},
     {1, 1, 0, 0, 0, 0}},
    {"bad_level_rejects_the_message",
     10,
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      /* the good levels around the bad one are applied */
      {"U b1005=1 b0=1 a1001=1", CK_RIGHT, ERR_RANGE, false, "1005=1 1000..920=1",
       "1001=1 1010..1090=1"},
      {FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U a-1010=1", CK_RIGHT, ERR_RANGE, false, FULL_B, FULL_A},
      {FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b990=-1", CK_RIGHT, ERR_RANGE, false, FULL_B, FULL_A},
      {"S b1000=1 a1010=-5", CK_RIGHT, ERR_RANGE, false, "1000=1", ""}},
     {4, 3, 0, 4, 0, 0}},
    {"capacity_overflow_that_stays_invisible",
     10,
     /* Capacity is 20: the 11th insert pushes out 910, and the new worst
      * level 900 is lost too, but both would be truncated anyway. */
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b1110..1010=1 b900=1", CK_RIGHT, 0, true, "1110..1020=1", FULL_A}},
     {1, 1, 0, 0, 0, 0}},
    {"capacity_overflow_that_loses_a_level",
     10,
     /* 910 is pushed out, then the removals would bring it back into view. */
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b1110..1010=1 b1110..1010=0", CK_RIGHT, ERR_FULL, false, "1000..920=1", FULL_A},
      {FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      /* 910 and then 920 are pushed out; after the removals and 915 ten
       * levels remain, but the lost 920 is better than the kept 915 */
      {"U b1110..1010=1 b1005=1 b1110..1010=0 b915=1", CK_RIGHT, ERR_FULL, false,
       "1005=1 1000..930=1 915=1", FULL_A}},
     {2, 2, 0, 0, 2, 0}},
    {"capacity_overflow_on_the_ask_side",
     10,
     /* The same on the asks, with a harmless bid change in the message:
      * 1100 is pushed out, then the removals would bring it back. */
     {{FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      {"U b1000=2 a900..1000=1 a900..1000=0", CK_RIGHT, ERR_FULL, false, "1000=2 990..910=1",
       "1010..1090=1"},
      {FULL_S, CK_RIGHT, 0, true, FULL_B, FULL_A},
      /* pushed out and truncated anyway */
      {"U a900..1000=1 a1200=1", CK_RIGHT, 0, true, FULL_B, "900..990=1"}},
     {2, 2, 0, 0, 1, 0}},
    {"depth_25_changes_below_the_top_10",
     25,
     {{"S b1000..760=1 a1010..1250=1", CK_RIGHT, 0, true, "1000..760=1", "1010..1250=1"},
      {"U b770=2 a1240=0", CK_RIGHT, 0, true, "1000..780=1 770=2 760=1", "1010..1230=1 1250=1"},
      {"U b755=1 a1260=1", CK_RIGHT, 0, true, "1000..780=1 770=2 760=1",
       "1010..1230=1 1250..1260=1"},
      {"U b750=1", CK_RIGHT, 0, true, "1000..780=1 770=2 760=1", "1010..1230=1 1250..1260=1"},
      {"U b1000=0", CK_RIGHT, 0, true, "990..780=1 770=2 760=1", "1010..1230=1 1250..1260=1"}},
     {1, 4, 0, 0, 0, 0}},
};

static void run_scenario(void **state)
{
	const struct scenario *sc = *state;
	static struct op ops[MAX_LEVELS];
	static struct book_level want_b[MAX_LEVELS], want_a[MAX_LEVELS];
	struct book *b = book_new("TEST/USD", 1, 8, sc->depth, NULL);
	struct book_stats st;

	assert_non_null(b);
	for (size_t k = 0; k < MAX_STEPS && sc->steps[k].msg != NULL; k++) {
		const struct step *s = &sc->steps[k];
		size_t nops, nb, na, gb, ga;
		const struct book_level *lb, *la;
		uint32_t ck;
		uint64_t t = 1000u + k;

		assert_true(s->msg[0] == 'S' || s->msg[0] == 'U');
		nops = parse_items(s->msg + 1, true, ops, MAX_LEVELS);
		nb = parse_side(s->bids, want_b, MAX_LEVELS);
		na = parse_side(s->asks, want_a, MAX_LEVELS);
		ck = top_checksum(want_a, na, want_b, nb);
		if (s->checksum == CK_WRONG)
			ck ^= 0x5a5a5a5au;

		book_begin(b, s->msg[0] == 'S');
		for (size_t i = 0; i < nops; i++) {
			int want = ops[i].price <= 0 || ops[i].qty < 0 ? ERR_RANGE : 0;
			int rc = ops[i].side == 'b' ? book_set_bid(b, ops[i].price, ops[i].qty)
						    : book_set_ask(b, ops[i].price, ops[i].qty);
			if (rc != want)
				fail_msg("step %zu op %zu: rc %d want %d", k, i, rc, want);
		}
		int rc = book_end(b, ck, t);
		if (rc != s->rc)
			fail_msg("step %zu (%s): book_end %d (%s), want %d (%s)", k, s->msg, rc,
				 err_str(rc), s->rc, err_str(s->rc));
		if (book_valid(b) != s->valid)
			fail_msg("step %zu (%s): valid %d, want %d", k, s->msg, book_valid(b),
				 s->valid);
		lb = book_bids(b, &gb);
		la = book_asks(b, &ga);
		assert_side("bids", lb, gb, want_b, nb);
		assert_side("asks", la, ga, want_a, na);
		/* The computed checksum is the one of the levels, whatever was
		 * expected. */
		assert_int_equal(book_checksum(b), top_checksum(want_a, na, want_b, nb));
		assert_int_equal(book_last_update_ns(b), t);
	}
	book_stats(b, &st);
	assert_int_equal(st.snapshots, sc->stats.snapshots);
	assert_int_equal(st.updates, sc->stats.updates);
	assert_int_equal(st.mismatches, sc->stats.mismatches);
	assert_int_equal(st.rejects, sc->stats.rejects);
	assert_int_equal(st.overflows, sc->stats.overflows);
	assert_int_equal(st.invalidations, 0);
	book_free(b);
}

/* ---- construction and accessors --------------------------------------- */

static void test_new_rejects_bad_arguments(void **state)
{
	static const unsigned bad_depths[] = {0, 1, 9, 11, 24, 50, 250, 999, 1001, 2000};
	static const int bad_scales[][2] = {{-1, 8}, {1, -1}, {19, 8}, {1, 19}, {-100, 100}};
	struct err_info info;
	char long_sym[BOOK_SYMBOL_MAX + 2];
	(void)state;

	for (size_t i = 0; i < sizeof(bad_depths) / sizeof(bad_depths[0]); i++) {
		memset(&info, 0, sizeof(info));
		assert_null(book_new("BTC/USD", 1, 8, bad_depths[i], &info));
		assert_int_equal(info.code, ERR_INVALID);
		assert_non_null(strstr(info.msg, "depth"));
	}
	for (size_t i = 0; i < sizeof(bad_scales) / sizeof(bad_scales[0]); i++) {
		memset(&info, 0, sizeof(info));
		assert_null(book_new("BTC/USD", bad_scales[i][0], bad_scales[i][1], 10, &info));
		assert_int_equal(info.code, ERR_INVALID);
	}
	memset(long_sym, 'X', sizeof(long_sym) - 1);
	long_sym[sizeof(long_sym) - 1] = '\0';
	assert_null(book_new(long_sym, 1, 8, 10, &info));
	assert_int_equal(info.code, ERR_INVALID);
	assert_null(book_new("", 1, 8, 10, &info));
	assert_int_equal(info.code, ERR_INVALID);
	assert_null(book_new(NULL, 1, 8, 10, &info));
	assert_int_equal(info.code, ERR_INVALID);
	/* info is optional */
	assert_null(book_new(NULL, 1, 8, 10, NULL));
	book_free(NULL);
}

static void test_new_and_accessors(void **state)
{
	static const unsigned depths[] = {10, 25, 100, 500, 1000};
	char sym[BOOK_SYMBOL_MAX + 1];
	(void)state;

	memset(sym, 'Y', BOOK_SYMBOL_MAX);
	sym[BOOK_SYMBOL_MAX] = '\0';
	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		struct book_stats st;
		size_t n = 99;
		struct book *b = book_new(i == 0 ? sym : "MATIC/USD", 4, 18, depths[i], NULL);

		assert_non_null(b);
		assert_string_equal(book_symbol(b), i == 0 ? sym : "MATIC/USD");
		assert_int_equal(book_price_scale(b), 4);
		assert_int_equal(book_qty_scale(b), 18);
		assert_int_equal(book_depth(b), depths[i]);
		assert_int_equal(book__capacity(b), 2u * depths[i]);
		assert_false(book_valid(b));
		assert_int_equal(book_last_update_ns(b), 0);
		assert_int_equal(book_checksum(b), 0);
		assert_non_null(book_bids(b, &n));
		assert_int_equal(n, 0);
		n = 99;
		assert_non_null(book_asks(b, &n));
		assert_int_equal(n, 0);
		book_stats(b, &st);
		assert_int_equal(st.snapshots + st.updates + st.mismatches + st.rejects +
				     st.overflows + st.invalidations,
				 0);
		book_free(b);
	}
	/* the symbol is copied */
	memcpy(sym, "ETH/EUR", 8);
	struct book *b = book_new(sym, 2, 8, 10, NULL);
	assert_non_null(b);
	sym[0] = 'Z';
	assert_string_equal(book_symbol(b), "ETH/EUR");
	book_free(b);
}

static void apply_full(struct book *b, uint64_t t)
{
	book_begin(b, true);
	for (int64_t i = 0; i < 10; i++) {
		assert_int_equal(book_set_bid(b, 1000 - 10 * i, 1), 0);
		assert_int_equal(book_set_ask(b, 1010 + 10 * i, 1), 0);
	}
	struct book_level bids[10], asks[10];
	for (int64_t i = 0; i < 10; i++) {
		bids[i] = (struct book_level){1000 - 10 * i, 1};
		asks[i] = (struct book_level){1010 + 10 * i, 1};
	}
	assert_int_equal(book_end(b, book_checksum_levels(asks, 10, bids, 10), t), 0);
}

static void test_invalidate_clear_and_times(void **state)
{
	struct book *b = book_new("BTC/USD", 1, 8, 10, NULL);
	struct book_stats st;
	size_t n;
	(void)state;

	assert_non_null(b);
	apply_full(b, 111);
	assert_true(book_valid(b));
	assert_int_equal(book_last_update_ns(b), 111);
	uint32_t ck = book_checksum(b);

	/* invalidate keeps the levels and is counted */
	book_invalidate(b);
	assert_false(book_valid(b));
	book_bids(b, &n);
	assert_int_equal(n, 10);
	book_stats(b, &st);
	assert_int_equal(st.invalidations, 1);
	assert_int_equal(book_checksum(b), ck);

	/* the receive time is recorded on failures too */
	book_begin(b, false);
	assert_int_equal(book_set_bid(b, 1005, 1), 0);
	assert_int_equal(book_end(b, 0, 222), ERR_CHECKSUM);
	assert_int_equal(book_last_update_ns(b), 222);
	book_begin(b, false);
	assert_int_equal(book_set_bid(b, -1, 1), ERR_RANGE);
	assert_int_equal(book_end(b, book_checksum(b), 333), ERR_RANGE);
	assert_int_equal(book_last_update_ns(b), 333);

	apply_full(b, 444);
	assert_true(book_valid(b));

	/* clear empties, invalidates, keeps counters and time */
	book_clear(b);
	assert_false(book_valid(b));
	book_bids(b, &n);
	assert_int_equal(n, 0);
	book_asks(b, &n);
	assert_int_equal(n, 0);
	assert_int_equal(book_last_update_ns(b), 444);
	book_stats(b, &st);
	assert_int_equal(st.snapshots, 2);
	assert_int_equal(st.updates, 2);
	assert_int_equal(st.mismatches, 1);
	assert_int_equal(st.rejects, 1);
	assert_int_equal(st.invalidations, 1);

	/* after a clear the checksum is recomputed over the empty book */
	book_begin(b, false);
	assert_int_equal(book_end(b, 0, 555), 0);
	assert_int_equal(book_checksum(b), 0);
	assert_false(book_valid(b));
	book_free(b);
}

/* ---- randomised comparison with a naive model ------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717u;
}

static int64_t rnd_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

struct model_side {
	struct book_level lv[4 * 1000 + 64];
	size_t n;
	bool desc;
};

/* Unbounded during a message, linear search, truncated afterwards. */
static void model_set(struct model_side *m, int64_t price, int64_t qty)
{
	size_t i = 0;

	while (i < m->n && (m->desc ? m->lv[i].price > price : m->lv[i].price < price))
		i++;
	if (i < m->n && m->lv[i].price == price) {
		if (qty == 0) {
			for (size_t j = i; j + 1 < m->n; j++)
				m->lv[j] = m->lv[j + 1];
			m->n--;
		} else {
			m->lv[i].qty = qty;
		}
		return;
	}
	if (qty == 0)
		return;
	assert_true(m->n < sizeof(m->lv) / sizeof(m->lv[0]));
	for (size_t j = m->n; j > i; j--)
		m->lv[j] = m->lv[j - 1];
	m->lv[i] = (struct book_level){price, qty};
	m->n++;
}

static struct model_side model_b, model_a;

static void random_run(unsigned depth, unsigned messages, uint64_t seed)
{
	struct book *b = book_new("RND/USD", 2, 8, depth, NULL);
	int64_t span = 3 * (int64_t)depth + 20;
	struct book_stats st;
	unsigned nsnap = 0;

	assert_non_null(b);
	rng_state = seed;
	model_b.desc = true;
	model_a.desc = false;
	model_b.n = model_a.n = 0;

	for (unsigned m = 0; m < messages; m++) {
		bool snap = m == 0 || rnd() % 50 == 0;
		/* Within the capacity (2 depth): a snapshot of up to 2 depth levels
		 * (deeper than the depth, unordered), an update of up to depth. */
		size_t maxops = snap ? 2u * depth : (depth < 24 ? depth : 24);
		size_t nops = snap ? (size_t)rnd_range(0, (int64_t)maxops)
				   : (size_t)rnd_range(1, (int64_t)maxops);
		const struct book_level *lv;
		size_t n;

		if (snap) {
			nsnap++;
			model_b.n = model_a.n = 0;
		}
		book_begin(b, snap);
		for (size_t i = 0; i < nops; i++) {
			bool bid = rnd() & 1;
			/* bids live in [1, span], asks in [span + 1, 2 span] */
			int64_t price = rnd_range(1, span) + (bid ? 0 : span);
			int64_t qty = !snap && rnd() % 3 == 0 ? 0 : rnd_range(1, 1000000000000);
			if (bid) {
				assert_int_equal(book_set_bid(b, price, qty), 0);
				model_set(&model_b, price, qty);
			} else {
				assert_int_equal(book_set_ask(b, price, qty), 0);
				model_set(&model_a, price, qty);
			}
		}
		if (model_b.n > depth)
			model_b.n = depth;
		if (model_a.n > depth)
			model_a.n = depth;
		uint32_t ck = top_checksum(model_a.lv, model_a.n, model_b.lv, model_b.n);
		int rc = book_end(b, ck, m);
		if (rc != 0)
			fail_msg("depth %u message %u: %s", depth, m, err_str(rc));
		assert_true(book_valid(b));
		assert_int_equal(book_checksum(b), ck);
		lv = book_bids(b, &n);
		assert_side("bids", lv, n, model_b.lv, model_b.n);
		lv = book_asks(b, &n);
		assert_side("asks", lv, n, model_a.lv, model_a.n);
	}
	book_stats(b, &st);
	assert_int_equal(st.snapshots, nsnap);
	assert_int_equal(st.updates, messages - nsnap);
	assert_int_equal(st.mismatches + st.rejects + st.overflows, 0);
	book_free(b);
}

static void test_random_depth_10(void **state)
{
	(void)state;
	random_run(10, 20000, 0x9e3779b97f4a7c15u);
}

static void test_random_depth_25(void **state)
{
	(void)state;
	random_run(25, 10000, 0x2545f4914f6cdd1du);
}

static void test_random_depth_100(void **state)
{
	(void)state;
	random_run(100, 5000, 12345);
}

static void test_random_depth_1000(void **state)
{
	(void)state;
	random_run(1000, 2000, 777);
}

/* A depth-1000 snapshot deeper than the depth: bids given worst first (every
 * insert goes to the top, the slowest case), asks as a random permutation of
 * 1500 levels of which the best 1000 stay. */
static void test_depth_1000_snapshot(void **state)
{
	static struct book_level asks[1500], bids[1000];
	static size_t perm[1500];
	struct book *b = book_new("BIG/USD", 1, 8, 1000, NULL);
	const struct book_level *lv;
	size_t n;
	(void)state;

	assert_non_null(b);
	for (size_t i = 0; i < 1500; i++) {
		if (i < 1000)
			bids[i] = (struct book_level){100000 - 7 * (int64_t)i, (int64_t)i + 1};
		asks[i] = (struct book_level){100001 + 3 * (int64_t)i, 5 * (int64_t)i + 1};
		perm[i] = i;
	}
	rng_state = 42;
	for (size_t i = 1499; i > 0; i--) {
		size_t j = (size_t)(rnd() % (i + 1));
		size_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	book_begin(b, true);
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(book_set_bid(b, bids[999 - i].price, bids[999 - i].qty), 0);
	for (size_t i = 0; i < 1500; i++)
		assert_int_equal(book_set_ask(b, asks[perm[i]].price, asks[perm[i]].qty), 0);
	assert_int_equal(book_end(b, book_checksum_levels(asks, 10, bids, 10), 1), 0);
	assert_true(book_valid(b));
	lv = book_bids(b, &n);
	assert_side("bids", lv, n, bids, 1000);
	lv = book_asks(b, &n);
	assert_side("asks", lv, n, asks, 1000);

	/* removing the best ask leaves 999: the 1001st was truncated away */
	book_begin(b, false);
	assert_int_equal(book_set_ask(b, asks[0].price, 0), 0);
	assert_int_equal(book_end(b, book_checksum_levels(asks + 1, 10, bids, 10), 2), 0);
	lv = book_asks(b, &n);
	assert_side("asks", lv, n, asks + 1, 999);
	assert_true(book_valid(b));
	book_free(b);
}

static void test_depth_1000_insert_top_truncates(void **state)
{
	static struct book_level bids[1001], asks[1];
	struct book *b = book_new("BIG/USD", 1, 8, 1000, NULL);
	const struct book_level *lv;
	size_t n;
	(void)state;

	assert_non_null(b);
	asks[0] = (struct book_level){200000, 1};
	book_begin(b, true);
	assert_int_equal(book_set_ask(b, asks[0].price, asks[0].qty), 0);
	for (int64_t i = 0; i < 1000; i++)
		assert_int_equal(book_set_bid(b, 100000 - i, i + 1), 0);
	for (int64_t i = 0; i < 1000; i++)
		bids[i + 1] = (struct book_level){100000 - i, i + 1};
	assert_int_equal(book_end(b, book_checksum_levels(asks, 1, bids + 1, 10), 1), 0);

	bids[0] = (struct book_level){100001, 77};
	book_begin(b, false);
	assert_int_equal(book_set_bid(b, 100001, 77), 0);
	assert_int_equal(book_end(b, book_checksum_levels(asks, 1, bids, 10), 2), 0);
	lv = book_bids(b, &n);
	assert_side("bids", lv, n, bids, 1000);
	assert_true(book_valid(b));
	book_free(b);
}

/* ---- the hot path never allocates --------------------------------------- */

static void test_apply_never_allocates(void **state)
{
	(void)state;
#if !COUNT_ALLOCS
	skip();
#else
	struct book *b = book_new("ALLOC/USD", 4, 8, 1000, NULL);
	struct book_level lv[2];
	size_t before, after, n;
	unsigned bad = 0;
	volatile uint32_t sink = 0;

	assert_non_null(b);
	rng_state = 99;
	before = alloc_calls;
	for (unsigned m = 0; m < 20000; m++) {
		book_begin(b, m % 1000 == 0);
		for (unsigned i = 0; i < 8; i++) {
			int64_t p = rnd_range(1, 3000);
			int64_t q = rnd() % 3 == 0 ? 0 : rnd_range(1, 100000);
			bad += (unsigned)(p <= 1500 ? book_set_bid(b, p, q) != 0
						    : book_set_ask(b, p, q) != 0);
		}
		(void)book_set_bid(b, -1, 1); /* a rejected level allocates nothing either */
		(void)book_end(b, 0, m);
		sink += book_checksum(b) + (uint32_t)book_valid(b);
		sink += (uint32_t)book_last_update_ns(b);
		const struct book_level *top = book_bids(b, &n);
		sink += n > 0 ? (uint32_t)top[0].price : (uint32_t)n;
		lv[0] = (struct book_level){(int64_t)m + 1, 7};
		lv[1] = (struct book_level){INT64_MAX, INT64_MAX};
		sink += book_checksum_levels(lv, 2, lv, 2);
		if (m % 5000 == 0) {
			book_invalidate(b);
			book_clear(b);
		}
	}
	after = alloc_calls;
	(void)sink;
	assert_int_equal(bad, 0);
	assert_int_equal(after - before, 0);
	/* the counter works: book_new allocates */
	struct book *b2 = book_new("X/Y", 1, 1, 10, NULL);
	assert_true(alloc_calls > after);
	book_free(b2);
	book_free(b);
#endif
}

int main(void)
{
	static const struct CMUnitTest fixed_tests[] = {
	    cmocka_unit_test(test_new_rejects_bad_arguments),
	    cmocka_unit_test(test_new_and_accessors),
	    cmocka_unit_test(test_invalidate_clear_and_times),
	    cmocka_unit_test(test_random_depth_10),
	    cmocka_unit_test(test_random_depth_25),
	    cmocka_unit_test(test_random_depth_100),
	    cmocka_unit_test(test_random_depth_1000),
	    cmocka_unit_test(test_depth_1000_snapshot),
	    cmocka_unit_test(test_depth_1000_insert_top_truncates),
	    cmocka_unit_test(test_apply_never_allocates),
	};
	enum { NSC = sizeof(scenarios) / sizeof(scenarios[0]) };
	static struct CMUnitTest sc_tests[NSC];
	int failed;

	for (size_t i = 0; i < NSC; i++) {
		sc_tests[i].name = scenarios[i].name;
		sc_tests[i].test_func = run_scenario;
		sc_tests[i].initial_state = (void *)(uintptr_t)&scenarios[i];
	}
	failed = _cmocka_run_group_tests("book_scenarios", sc_tests, NSC, NULL, NULL);
	failed += cmocka_run_group_tests_name("book", fixed_tests, NULL, NULL);
	return failed;
}

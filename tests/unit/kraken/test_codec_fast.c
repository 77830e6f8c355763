/* The book fast path (src/kraken/codec_fast.c) must accept exactly what the
 * general decoder accepts for frames in Kraken's layout, with the same
 * event. The general path is forced by adding a leading unknown key, which
 * the general decoder ignores and the fast path refuses. Frames are checked
 * as written and after thousands of random one- and two-byte mutations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kraken/codec_int.h"

static struct kr_decoder *dec;
static struct kr_event *e1, *e2;

static void put(const char *sym, int pp, int qp)
{
	struct kr_pair p;

	memset(&p, 0, sizeof(p));
	snprintf(p.symbol, sizeof(p.symbol), "%s", sym);
	memcpy(p.base, "B", 2);
	memcpy(p.quote, "Q", 2);
	p.status = KR_PAIR_STATUS_ONLINE;
	p.price_precision = pp;
	p.qty_precision = qp;
	p.cost_precision = 5;
	p.price_increment = 1;
	p.qty_increment = 1;
	assert_int_equal(kr_decoder_put_pair(dec, &p, NULL), 0);
}

static const char *const frames[] = {
    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"MATIC/USD\",\"bids\":[{"
    "\"price\":0.5657,\"qty\":1098.3947558}],\"asks\":[],\"checksum\":2114181697,\"timestamp\":"
    "\"2023-10-06T17:35:55.440295Z\"}]}",
    "{\"channel\": \"book\", \"type\": \"snapshot\", \"data\": [{\"symbol\": \"BTC/USD\", "
    "\"bids\": [{\"price\": 45283.5, \"qty\": 0.10000000}, {\"price\": 45283.4, \"qty\": "
    "1.54582015}], \"asks\": [{\"price\": 45285.2, \"qty\": 0.001}, {\"price\": 45286.4, "
    "\"qty\": 0}], \"checksum\": 3310070434, \"timestamp\": \"2023-10-06T17:35:55.440295Z\"}]}",
    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"XRP/BTC\",\"bids\":[],"
    "\"asks\":[{\"price\":0.00001330,\"qty\":50000.00000000},{\"price\":1.33e-5,\"qty\":12},"
    "{\"price\":0.0000134,\"qty\":0.0}],\"checksum\":0,\"timestamp\":\"2026-01-01T00:00:00Z\"}]}"
    "\n",
    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"USDT/USD\",\"bids\":[{"
    "\"price\":1.00010,\"qty\":199999.99},{\"price\":\"1.00009\",\"qty\":\"5\"}],\"asks\":[],"
    "\"checksum\":4294967295,\"timestamp\":\"2026-01-01T00:00:00.123456789+02:00\"}]}",
    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"BIG/USD\",\"bids\":[{"
    "\"price\":123456789012345678,\"qty\":9223372036854775807}],\"asks\":[{\"price\":"
    "1234567890123456789,\"qty\":1}],\"checksum\":12,\"timestamp\":\"2026-01-01T00:00:00Z\"}]}",
};

static unsigned accepted;

/* When the fast path accepts text (e1), the general path alone (e2) must
 * accept it too, with the same event. (When the fast path refuses a frame,
 * kr_decode hands the same bytes to the general decoder, so whatever it
 * answers is the general decoder's own answer.) */
static void compare(const char *text, size_t n)
{
	static const char pre[] = "{\"zz_fast_path_off\":0,";
	static char buf[8192];
	int r2;

	assert_true(n + sizeof(pre) < sizeof(buf));
	if (!kr__decode_book_fast(dec, text, n, e1))
		return;
	assert_int_equal(e1->kind, KR_EV_BOOK);
	accepted++;
	/* Leading whitespace is valid JSON: the key goes after the brace. */
	while (n > 0 && text[0] != '{') {
		if (text[0] != ' ' && text[0] != '\n' && text[0] != '\t' && text[0] != '\r')
			fail_msg("accepted with a leading byte 0x%02x: %.*s",
				 (unsigned char)text[0], (int)n, text);
		text++;
		n--;
	}
	assert_true(n > 0);
	memcpy(buf, pre, sizeof(pre) - 1);
	memcpy(buf + sizeof(pre) - 1, text + 1, n - 1);
	r2 = kr_decode(dec, buf, n + sizeof(pre) - 2, e2, NULL);
	if (r2 != 0)
		fail_msg("accepted, but the general decoder says %d for: %.*s", r2, (int)n, text);
	assert_int_equal(e2->kind, KR_EV_BOOK);
	assert_int_equal(e1->book.pair_id, e2->book.pair_id);
	assert_int_equal(e1->book.snapshot, e2->book.snapshot);
	assert_int_equal(e1->book.price_scale, e2->book.price_scale);
	assert_int_equal(e1->book.qty_scale, e2->book.qty_scale);
	assert_int_equal(e1->book.checksum, e2->book.checksum);
	assert_true(e1->book.timestamp_ns == e2->book.timestamp_ns);
	assert_int_equal(e1->book.n_bids, e2->book.n_bids);
	assert_int_equal(e1->book.n_asks, e2->book.n_asks);
	assert_memory_equal(e1->book.bids, e2->book.bids,
			    e1->book.n_bids * sizeof(struct kr_level));
	assert_memory_equal(e1->book.asks, e2->book.asks,
			    e1->book.n_asks * sizeof(struct kr_level));
}

static void test_same_event(void **state)
{
	struct kr_decoder_stats st;

	(void)state;
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		assert_int_equal(kr_decode(dec, frames[i], strlen(frames[i]), e1, NULL), 0);
		compare(frames[i], strlen(frames[i]));
	}
	assert_int_equal(e1->book.bids[0].price, 123456789012345678);
	/* Kraken's layout, with or without spaces and exponents, takes the fast
	 * path; string-quoted numbers do not. */
	assert_true(kr__decode_book_fast(dec, frames[0], strlen(frames[0]), e1));
	assert_true(kr__decode_book_fast(dec, frames[1], strlen(frames[1]), e1));
	assert_true(kr__decode_book_fast(dec, frames[2], strlen(frames[2]), e1));
	assert_false(kr__decode_book_fast(dec, frames[3], strlen(frames[3]), e1));
	assert_true(kr__decode_book_fast(dec, frames[4], strlen(frames[4]), e1));
	kr_decoder_stats(dec, &st);
	assert_int_equal(st.frames, st.decoded);
}

static void test_values(void **state)
{
	(void)state;
	assert_int_equal(kr_decode(dec, frames[0], strlen(frames[0]), e1, NULL), 0);
	assert_int_equal(e1->book.bids[0].price, 5657);
	assert_int_equal(e1->book.bids[0].qty, 109839475580);
	assert_int_equal(e1->book.checksum, 2114181697u);
	assert_int_equal(kr_decode(dec, frames[2], strlen(frames[2]), e1, NULL), 0);
	assert_int_equal(e1->book.asks[0].price, 1330);
	assert_int_equal(e1->book.asks[1].price, 1330);
	assert_int_equal(e1->book.asks[2].qty, 0);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Bytes that change the meaning of a frame the most. */
static const char alphabet[] = "{}[],:\"\\ 0123456789.-+eEaZtf\n";

static void test_mutations(void **state)
{
	static char buf[4096];

	(void)state;
	for (int round = 0; round < 60000; round++) {
		const char *f = frames[next() % (sizeof(frames) / sizeof(frames[0]))];
		size_t n = strlen(f), pos;
		int edits = 1 + (int)(next() % 2);

		memcpy(buf, f, n);
		while (edits-- > 0 && n > 1) {
			pos = next() % n;
			switch (next() % 3) {
			case 0:
				buf[pos] = alphabet[next() % (sizeof(alphabet) - 1)];
				break;
			case 1:
				memmove(buf + pos, buf + pos + 1, n - pos - 1);
				n--;
				break;
			default:
				memmove(buf + pos + 1, buf + pos, n - pos);
				buf[pos] = alphabet[next() % (sizeof(alphabet) - 1)];
				n++;
				break;
			}
		}
		compare(buf, n);
	}
	/* Mutations that keep a valid book (a digit for a digit, a space) are
	 * common enough that many frames must still have been accepted. */
	if (accepted < 3000)
		fail_msg("only %u mutated frames were accepted", accepted);
}

static int setup(void **state)
{
	(void)state;
	dec = kr_decoder_new(0);
	e1 = malloc(sizeof(*e1));
	e2 = malloc(sizeof(*e2));
	if (!dec || !e1 || !e2)
		return -1;
	put("MATIC/USD", 4, 8);
	put("BTC/USD", 1, 8);
	put("XRP/BTC", 8, 8);
	put("USDT/USD", 5, 2);
	put("BIG/USD", 0, 0);
	/* The mutations make the decoder warn; keep the test output short. */
	log__level = LOG_LEVEL_ERROR + 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kr_decoder_free(dec);
	free(e1);
	free(e2);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_event),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

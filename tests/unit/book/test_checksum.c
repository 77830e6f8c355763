/* The Kraken checksum against every book vector in
 * tests/data/kraken/vectors.json (a copy of shared/kraken/vectors.json),
 * read with jsmn: the checksum, and where the file gives them the asks, bids
 * and whole input strings, both through book_checksum_levels() and through a
 * book fed the vector's levels. A vector this file does not know fails the
 * test, so new vectors cannot be skipped silently. Also: the token routine
 * against snprintf and fx_token, and chunked hashing of long inputs. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#define JSMN_STATIC
#include <jsmn.h>

#include "book/book.h"
#include "book/book_int.h"
#include "core/fixed.h"

/* ---- the vectors file and a few jsmn helpers ---------------------------- */

static char *js;
static size_t js_len;
static jsmntok_t *tok;
static int ntok;

static int load_vectors(void **state)
{
	const char *path = TEST_DATA_DIR "/kraken/vectors.json";
	FILE *f = fopen(path, "rb");
	jsmn_parser p;
	long sz;
	(void)state;

	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	js_len = (size_t)sz;
	js = malloc(js_len + 1);
	if (js == NULL || fread(js, 1, js_len, f) != js_len) {
		fclose(f);
		return -1;
	}
	fclose(f);
	js[js_len] = '\0';

	jsmn_init(&p);
	ntok = jsmn_parse(&p, js, js_len, NULL, 0);
	if (ntok <= 0)
		return -1;
	tok = calloc((size_t)ntok, sizeof(*tok));
	if (tok == NULL)
		return -1;
	jsmn_init(&p);
	if (jsmn_parse(&p, js, js_len, tok, (unsigned)ntok) != ntok)
		return -1;
	return 0;
}

static int free_vectors(void **state)
{
	(void)state;
	free(tok);
	free(js);
	return 0;
}

static size_t tlen(int i)
{
	return (size_t)(tok[i].end - tok[i].start);
}

static const char *tptr(int i)
{
	return js + tok[i].start;
}

static bool teq(int i, const char *s)
{
	return tlen(i) == strlen(s) && memcmp(tptr(i), s, tlen(i)) == 0;
}

/* The index just past token i and everything inside it. In jsmn a key has
 * size 1 (its value), so counting children works for objects too. */
static int tok_next(int i)
{
	int pending = 1;

	while (pending > 0) {
		pending += tok[i].size - 1;
		i++;
	}
	return i;
}

/* The value of key in object obj, or -1. */
static int get(int obj, const char *key)
{
	int i = obj + 1;

	assert_int_equal(tok[obj].type, JSMN_OBJECT);
	for (int k = 0; k < tok[obj].size; k++) {
		if (teq(i, key))
			return i + 1;
		i = tok_next(i + 1);
	}
	return -1;
}

static int must_get(int obj, const char *key)
{
	int v = get(obj, key);
	if (v < 0)
		fail_msg("missing key \"%s\"", key);
	return v;
}

/* Element k of array arr. */
static int at(int arr, int k)
{
	int i = arr + 1;

	assert_int_equal(tok[arr].type, JSMN_ARRAY);
	assert_true(k < tok[arr].size);
	while (k-- > 0)
		i = tok_next(i);
	return i;
}

/* A NUL-terminated copy of a string or primitive token, in buf. */
static const char *tstr(int i, char *buf, size_t cap)
{
	assert_true(tlen(i) < cap);
	memcpy(buf, tptr(i), tlen(i));
	buf[tlen(i)] = '\0';
	return buf;
}

static int64_t tfx(int i, int scale)
{
	int64_t v;
	int rc = fx_parse(tptr(i), tlen(i), scale, &v);
	if (rc != 0)
		fail_msg("fx_parse(\"%.*s\", %d): %s", (int)tlen(i), tptr(i), scale, err_str(rc));
	return v;
}

static uint32_t tu32(int i)
{
	char buf[32];
	char *end;
	unsigned long long v = strtoull(tstr(i, buf, sizeof(buf)), &end, 10);
	assert_true(*end == '\0' && v <= UINT32_MAX);
	return (uint32_t)v;
}

/* Decimals written in a number's text ("45281.0" -> 1, "0.566" -> 3). */
static int decimals(int i)
{
	const char *dot = memchr(tptr(i), '.', tlen(i));
	return dot == NULL ? 0 : (int)(tptr(i) + tlen(i) - dot - 1);
}

/* ---- what this file knows about each vector ----------------------------- */

struct spec {
	const char *id;
	int price_scale; /* the pair's precisions */
	int qty_scale;
	const char *symbol;
};

static const struct spec specs[] = {
    {"ws_v2_guide_btcusd_snapshot", 1, 8, "BTC/USD"},
    {"ws_v2_book_page_matic_snapshot", 4, 8, "MATIC/USD"},
    {"ws_v2_book_page_matic_update", 4, 8, "MATIC/USD"},
    /* v1 guide: XBT/USD-style book with prices at 5 and volumes at 8 dp */
    {"ws_v1_guide_book_state", 5, 8, "V1/GUIDE"},
    /* level3 is per order: checked with book_checksum_levels() only */
    {"ws_v2_level3_guide_btcusd_snapshot", 1, 8, "BTC/USD"},
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

static int find_vector(const char *id)
{
	int arr = must_get(0, "book_checksum");
	for (int k = 0; k < tok[arr].size; k++) {
		int v = at(arr, k);
		if (teq(must_get(v, "id"), id))
			return v;
	}
	return -1;
}

static const struct spec *find_spec(const char *id)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (strcmp(specs[i].id, id) == 0)
			return &specs[i];
	return NULL;
}

/* Levels read from the vector: either [price, qty, ...] arrays or objects
 * with the given keys. The text's decimals must not exceed the scales, and
 * the widest must equal them: the scale is the precision the vector shows. */
struct levels {
	struct book_level lv[64];
	size_t n;
	int max_pdec, max_qdec;
};

static void read_levels(int arr, const char *pkey, const char *qkey, int ps, int qs,
			struct levels *out)
{
	out->n = 0;
	out->max_pdec = out->max_qdec = 0;
	for (int k = 0; k < tok[arr].size; k++) {
		int e = at(arr, k), p, q;
		if (pkey == NULL) {
			assert_int_equal(tok[e].type, JSMN_ARRAY);
			p = at(e, 0);
			q = at(e, 1);
		} else {
			p = must_get(e, pkey);
			q = must_get(e, qkey);
		}
		assert_true(out->n < sizeof(out->lv) / sizeof(out->lv[0]));
		out->lv[out->n].price = tfx(p, ps);
		out->lv[out->n].qty = tfx(q, qs);
		out->n++;
		if (decimals(p) > out->max_pdec)
			out->max_pdec = decimals(p);
		if (decimals(q) > out->max_qdec)
			out->max_qdec = decimals(q);
	}
}

static void assert_text(const char *what, const struct book_level *asks, size_t na,
			const struct book_level *bids, size_t nb, int want_tok)
{
	static char got[8192], want[8192];
	int len = book__checksum_text(asks, na, bids, nb, got, sizeof(got) - 1);

	assert_true(len >= 0);
	got[len] = '\0';
	tstr(want_tok, want, sizeof(want));
	if (strcmp(got, want) != 0)
		fail_msg("%s:\n got  %s\n want %s", what, got, want);
}

static void assert_levels_equal(const struct book_level *got, size_t ngot,
				const struct book_level *want, size_t nwant)
{
	assert_int_equal(ngot, nwant);
	for (size_t i = 0; i < nwant; i++) {
		assert_int_equal(got[i].price, want[i].price);
		assert_int_equal(got[i].qty, want[i].qty);
	}
}

static void assert_sorted(const struct levels *l, bool desc, bool strict)
{
	for (size_t i = 1; i < l->n; i++) {
		int64_t a = l->lv[i - 1].price, b = l->lv[i].price;
		assert_true(desc ? (strict ? a > b : a >= b) : (strict ? a < b : a <= b));
	}
}

/* Feeds a book the levels (worst first, to exercise the ordering) as one
 * message and returns book_end()'s result. */
static int feed(struct book *b, bool snapshot, const struct levels *asks, const struct levels *bids,
		uint32_t expected, uint64_t t)
{
	book_begin(b, snapshot);
	for (size_t i = asks->n; i-- > 0;)
		assert_int_equal(book_set_ask(b, asks->lv[i].price, asks->lv[i].qty), 0);
	for (size_t i = bids->n; i-- > 0;)
		assert_int_equal(book_set_bid(b, bids->lv[i].price, bids->lv[i].qty), 0);
	return book_end(b, expected, t);
}

static void assert_book_is(struct book *b, const struct levels *asks, const struct levels *bids)
{
	size_t n;
	const struct book_level *lv = book_asks(b, &n);
	assert_levels_equal(lv, n, asks->lv, asks->n);
	lv = book_bids(b, &n);
	assert_levels_equal(lv, n, bids->lv, bids->n);
}

/* ---- every vector is known, every known vector is there ---------------- */

static void test_vectors_file_is_fully_covered(void **state)
{
	int arr = must_get(0, "book_checksum");
	char id[128];
	(void)state;

	assert_true(teq(must_get(0, "schema"), "arbitrade/kraken-vectors/1"));
	assert_int_equal(tok[arr].size, (int)NSPECS);
	for (int k = 0; k < tok[arr].size; k++) {
		int v = at(arr, k);
		tstr(must_get(v, "id"), id, sizeof(id));
		if (find_spec(id) == NULL)
			fail_msg("vector \"%s\" is not checked by this test", id);
		assert_true(teq(must_get(v, "verified"), "true"));
	}
	for (size_t i = 0; i < NSPECS; i++)
		assert_true(find_vector(specs[i].id) >= 0);
}

/* ---- level-2 vectors ------------------------------------------------------ */

/* Checks precision, strings and checksum of asks/bids against vector v. */
static void check_l2(int v, const struct spec *sp, struct levels *asks, struct levels *bids)
{
	uint32_t want = tu32(must_get(v, "expected_checksum"));
	int fp = get(v, "format_precision_required"), t;

	assert_int_equal(asks->n, 10);
	assert_int_equal(bids->n, 10);
	assert_sorted(asks, false, true);
	assert_sorted(bids, true, true);
	if (fp >= 0) {
		assert_int_equal(tfx(must_get(fp, "price_decimals"), 0), sp->price_scale);
		assert_int_equal(tfx(must_get(fp, "qty_decimals"), 0), sp->qty_scale);
	}

	if ((t = get(v, "expected_asks_string")) >= 0)
		assert_text("asks", asks->lv, asks->n, NULL, 0, t);
	if ((t = get(v, "expected_bids_string")) >= 0)
		assert_text("bids", NULL, 0, bids->lv, bids->n, t);
	if ((t = get(v, "expected_checksum_input")) >= 0)
		assert_text("input", asks->lv, asks->n, bids->lv, bids->n, t);
	assert_int_equal(book_checksum_levels(asks->lv, asks->n, bids->lv, bids->n), want);

	/* Through a book at each depth: the top 10 decide, whatever the depth. */
	static const unsigned depths[] = {10, 25, 1000};
	for (size_t d = 0; d < 3; d++) {
		struct book *b =
		    book_new(sp->symbol, sp->price_scale, sp->qty_scale, depths[d], NULL);
		assert_non_null(b);
		assert_int_equal(feed(b, true, asks, bids, want, 42), 0);
		assert_true(book_valid(b));
		assert_int_equal(book_checksum(b), want);
		assert_book_is(b, asks, bids);
		/* a checksum off by one bit is a mismatch */
		assert_int_equal(feed(b, true, asks, bids, want ^ 1u, 43), ERR_CHECKSUM);
		assert_false(book_valid(b));
		book_free(b);
	}
}

/* Asks and bids of a v2 "book" message: data[0].asks / .bids. */
static void read_message(int msg, const struct spec *sp, struct levels *asks, struct levels *bids,
			 uint32_t *checksum)
{
	int d;

	assert_true(teq(must_get(msg, "channel"), "book"));
	d = at(must_get(msg, "data"), 0);
	assert_true(teq(must_get(d, "symbol"), sp->symbol));
	read_levels(must_get(d, "asks"), "price", "qty", sp->price_scale, sp->qty_scale, asks);
	read_levels(must_get(d, "bids"), "price", "qty", sp->price_scale, sp->qty_scale, bids);
	*checksum = tu32(must_get(d, "checksum"));
}

static void test_v2_guide_btcusd(void **state)
{
	const struct spec *sp = find_spec("ws_v2_guide_btcusd_snapshot");
	int v = find_vector(sp->id);
	struct levels asks, bids;
	(void)state;

	assert_true(v >= 0);
	read_levels(must_get(v, "asks_levels"), NULL, NULL, 1, 8, &asks);
	read_levels(must_get(v, "bids_levels"), NULL, NULL, 1, 8, &bids);
	/* the strings carry the full precision */
	assert_int_equal(asks.max_pdec, 1);
	assert_int_equal(bids.max_qdec, 8);
	check_l2(v, sp, &asks, &bids);
	assert_int_equal(book_checksum_levels(asks.lv, 10, bids.lv, 10), 3310070434u);
}

static void test_matic_snapshot(void **state)
{
	const struct spec *sp = find_spec("ws_v2_book_page_matic_snapshot");
	int v = find_vector(sp->id);
	struct levels asks, bids, masks, mbids;
	uint32_t mck;
	(void)state;

	assert_true(v >= 0);
	read_levels(must_get(v, "asks_levels"), NULL, NULL, 4, 8, &asks);
	read_levels(must_get(v, "bids_levels"), NULL, NULL, 4, 8, &bids);
	/* the printed text lost trailing zeros: "0.567", "24306.41678" */
	assert_true(asks.max_pdec <= 4 && asks.max_qdec <= 8);
	check_l2(v, sp, &asks, &bids);
	assert_int_equal(book_checksum_levels(asks.lv, 10, bids.lv, 10), 2439117997u);

	/* the message as printed (JSON numbers) gives the same integers */
	read_message(must_get(v, "snapshot_message"), sp, &masks, &mbids, &mck);
	assert_int_equal(mck, 2439117997u);
	assert_levels_equal(masks.lv, masks.n, asks.lv, asks.n);
	assert_levels_equal(mbids.lv, mbids.n, bids.lv, bids.n);
}

/* Kraken's own mistake to avoid: tokens made from the printed text, without
 * padding to the precision, give the checksum the vector records as wrong. */
static void test_matic_printed_text_is_not_the_token(void **state)
{
	int v = find_vector("ws_v2_book_page_matic_snapshot");
	int d, side, k;
	char text[2048];
	size_t len = 0;
	(void)state;

	assert_true(v >= 0);
	d = at(must_get(must_get(v, "snapshot_message"), "data"), 0);
	for (int s = 0; s < 2; s++) {
		side = must_get(d, s == 0 ? "asks" : "bids");
		for (k = 0; k < tok[side].size; k++) {
			int e = at(side, k);
			for (int f = 0; f < 2; f++) {
				int t = must_get(e, f == 0 ? "price" : "qty");
				bool lead = true;
				for (size_t c = 0; c < tlen(t); c++) {
					char ch = tptr(t)[c];
					if (ch == '.' || (lead && ch == '0'))
						continue;
					lead = false;
					assert_true(len < sizeof(text));
					text[len++] = ch;
				}
			}
		}
	}
	uint32_t naive = (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), (const Bytef *)text, len);
	assert_int_equal(naive, tu32(must_get(v, "checksum_if_printed_text_used_without_padding")));
	assert_int_not_equal(naive, tu32(must_get(v, "expected_checksum")));
}

static void test_matic_update(void **state)
{
	const struct spec *sp = find_spec("ws_v2_book_page_matic_update");
	int v = find_vector(sp->id), base, t;
	struct levels asks, bids, uasks, ubids;
	uint32_t sck, uck;
	struct book_stats st;
	size_t na, nb;
	const struct book_level *la, *lb;
	(void)state;

	assert_true(v >= 0);
	t = must_get(v, "applies_on_top_of");
	char base_id[128];
	base = find_vector(tstr(t, base_id, sizeof(base_id)));
	assert_true(base >= 0);
	assert_non_null(find_spec(base_id));
	assert_int_equal(find_spec(base_id)->price_scale, sp->price_scale);
	assert_int_equal(find_spec(base_id)->qty_scale, sp->qty_scale);

	read_message(must_get(base, "snapshot_message"), sp, &asks, &bids, &sck);
	read_message(must_get(v, "update_message"), sp, &uasks, &ubids, &uck);
	assert_int_equal(uck, tu32(must_get(v, "expected_checksum")));
	assert_int_equal(uck, 2114181697u);
	assert_int_equal(
	    tfx(must_get(must_get(v, "format_precision_required"), "price_decimals"), 0),
	    sp->price_scale);

	for (size_t d = 0; d < 2; d++) {
		struct book *b =
		    book_new(sp->symbol, sp->price_scale, sp->qty_scale, d == 0 ? 10 : 100, NULL);
		assert_non_null(b);
		assert_int_equal(feed(b, true, &asks, &bids, sck, 1), 0);
		assert_true(book_valid(b));
		assert_int_equal(feed(b, false, &uasks, &ubids, uck, 2), 0);
		assert_true(book_valid(b));
		assert_int_equal(book_checksum(b), 2114181697u);
		assert_int_equal(book_last_update_ns(b), 2);
		book_stats(b, &st);
		assert_int_equal(st.snapshots, 1);
		assert_int_equal(st.updates, 1);
		assert_int_equal(st.mismatches, 0);

		la = book_asks(b, &na);
		lb = book_bids(b, &nb);
		assert_int_equal(na, 10);
		assert_int_equal(nb, 10);
		assert_text("asks", la, na, NULL, 0, must_get(v, "expected_asks_string"));
		assert_text("bids", NULL, 0, lb, nb, must_get(v, "expected_bids_string"));
		assert_text("input", la, na, lb, nb, must_get(v, "expected_checksum_input"));
		/* replaced, not added: 0.5657 now holds 1098.3947558 */
		assert_int_equal(lb[9].price, 5657);
		assert_int_equal(lb[9].qty, 109839475580);
		book_free(b);
	}

	/* Adding instead of replacing would not match. */
	struct book_level added[10];
	memcpy(added, bids.lv, sizeof(added));
	added[9].qty += ubids.lv[0].qty;
	assert_int_not_equal(book_checksum_levels(asks.lv, 10, added, 10), uck);
}

static void test_v1_guide(void **state)
{
	const struct spec *sp = find_spec("ws_v1_guide_book_state");
	int v = find_vector(sp->id), st, e;
	struct levels asks, bids, upd;
	char fmt[64];
	(void)state;

	assert_true(v >= 0);
	st = must_get(v, "book_state");
	read_levels(must_get(st, "as"), NULL, NULL, sp->price_scale, sp->qty_scale, &asks);
	read_levels(must_get(st, "bs"), NULL, NULL, sp->price_scale, sp->qty_scale, &bids);
	assert_int_equal(asks.max_pdec, sp->price_scale);
	assert_int_equal(asks.max_qdec, sp->qty_scale);
	assert_int_equal(bids.max_pdec, sp->price_scale);
	assert_int_equal(bids.max_qdec, sp->qty_scale);
	check_l2(v, sp, &asks, &bids);
	assert_int_equal(book_checksum_levels(asks.lv, 10, bids.lv, 10), 974947235u);

	/* The guide's update entry ["0.05000", "0.00000304", ts] -> "5000304". */
	e = must_get(v, "example_update_entry");
	upd.n = 1;
	upd.lv[0].price = tfx(at(e, 0), sp->price_scale);
	upd.lv[0].qty = tfx(at(e, 1), sp->qty_scale);
	assert_text("update entry", upd.lv, 1, NULL, 0,
		    must_get(v, "example_update_entry_formatted"));
	tstr(must_get(v, "example_update_entry_formatted"), fmt, sizeof(fmt));

	/* Applied to the book it replaces the best bid's volume. */
	struct book *b = book_new(sp->symbol, sp->price_scale, sp->qty_scale, 10, NULL);
	struct levels none = {.n = 0};
	struct book_level nb[10];
	assert_non_null(b);
	assert_int_equal(feed(b, true, &asks, &bids, 974947235u, 1), 0);
	memcpy(nb, bids.lv, sizeof(nb));
	nb[0].qty = upd.lv[0].qty;
	assert_int_equal(feed(b, false, &none, &upd, book_checksum_levels(asks.lv, 10, nb, 10), 2),
			 0);
	assert_true(book_valid(b));
	size_t n;
	const struct book_level *lb = book_bids(b, &n);
	assert_levels_equal(lb, n, nb, 10);
	book_free(b);
}

/* level3: the same tokens, but every order of the top 10 price levels of
 * each side contributes, in queue order. struct book keeps aggregated levels,
 * so this variant goes through book_checksum_levels() with one entry per
 * order. */
static void test_level3_per_order(void **state)
{
	const struct spec *sp = find_spec("ws_v2_level3_guide_btcusd_snapshot");
	int v = find_vector(sp->id), msg, d;
	struct levels asks, bids;
	uint32_t want;
	(void)state;

	assert_true(v >= 0);
	msg = must_get(v, "snapshot_message");
	assert_true(teq(must_get(msg, "channel"), "level3"));
	d = at(must_get(msg, "data"), 0);
	read_levels(must_get(d, "asks"), "limit_price", "order_qty", 1, 8, &asks);
	read_levels(must_get(d, "bids"), "limit_price", "order_qty", 1, 8, &bids);
	assert_int_equal(asks.max_pdec, 1);
	assert_int_equal(bids.max_qdec, 8);
	assert_sorted(&asks, false, false);
	assert_sorted(&bids, true, false);
	want = tu32(must_get(d, "checksum"));
	assert_int_equal(want, tu32(must_get(v, "expected_checksum")));
	assert_int_equal(want, 1063832831u);

	/* keep the orders of the 10 best distinct prices */
	struct levels *sides[2] = {&asks, &bids};
	for (int s = 0; s < 2; s++) {
		size_t distinct = 0, keep = 0;
		for (size_t i = 0; i < sides[s]->n; i++) {
			if (i == 0 || sides[s]->lv[i].price != sides[s]->lv[i - 1].price)
				distinct++;
			if (distinct > 10)
				break;
			keep++;
		}
		sides[s]->n = keep;
	}
	assert_text("asks", asks.lv, asks.n, NULL, 0, must_get(v, "expected_asks_string"));
	assert_text("bids", NULL, 0, bids.lv, bids.n, must_get(v, "expected_bids_string"));
	assert_int_equal(book_checksum_levels(asks.lv, asks.n, bids.lv, bids.n), want);
}

static void test_format_token_examples(void **state)
{
	int arr = must_get(0, "format_token_examples");
	char in[64], want[64], got[BOOK__TOKEN_MAX + 1], fxt[32];
	(void)state;

	assert_true(tok[arr].size >= 9);
	for (int k = 0; k < tok[arr].size; k++) {
		int e = at(arr, k);
		int t = must_get(e, "input");
		int64_t x = tfx(t, decimals(t));
		size_t n = book__token(x, got);
		got[n] = '\0';
		tstr(t, in, sizeof(in));
		if (strcmp(got, tstr(must_get(e, "output"), want, sizeof(want))) != 0)
			fail_msg("token of %s: %s, want %s", in, got, want);
		/* the core's token routine agrees */
		int m = fx_token(x, fxt, sizeof(fxt));
		assert_int_equal(m, (int)n);
		assert_memory_equal(fxt, got, n);
	}
}

/* ---- tokens and hashing -------------------------------------------------- */

/* Trailing zeros: "0.5660", "0.566" and "0.56600000" are one integer at
 * scale 4, hence one token, hence one checksum. */
static void test_trailing_zeros(void **state)
{
	static const char *const texts[] = {"0.5660", "0.566", "0.56600000", "0.5660000000"};
	char got[BOOK__TOKEN_MAX + 1];
	(void)state;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int64_t v;
		assert_int_equal(fx_parse(texts[i], strlen(texts[i]), 4, &v), 0);
		assert_int_equal(v, 5660);
		size_t n = book__token(v, got);
		got[n] = '\0';
		assert_string_equal(got, "5660");
	}
	int64_t q;
	assert_int_equal(fx_parse("18097.1547", 10, 8, &q), 0);
	size_t n = book__token(q, got);
	got[n] = '\0';
	assert_string_equal(got, "1809715470000");
}

static void check_token(int64_t v)
{
	char got[BOOK__TOKEN_MAX + 8], want[32];
	uint64_t u = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
	size_t n;

	memset(got, '#', sizeof(got));
	n = book__token(v, got);
	snprintf(want, sizeof(want), "%" PRIu64, u);
	if (n != strlen(want) || memcmp(got, want, n) != 0)
		fail_msg("token(%" PRId64 ") = %.*s, want %s", v, (int)n, got, want);
	assert_true(n <= BOOK__TOKEN_MAX);
	assert_true(got[n] == '#'); /* writes nothing past the token */
}

static void test_token_boundaries(void **state)
{
	(void)state;
	check_token(0);
	check_token(INT64_MAX);
	check_token(INT64_MIN);
	check_token(-1);
	for (int k = 0; k <= 18; k++) {
		int64_t p = fx_pow10(k);
		/* p * 9 and 2 * p stay below INT64_MAX up to 10^18 */
		check_token(p - 1);
		check_token(p);
		check_token(p + 1);
		check_token(2 * p - 1);
		check_token(-p);
		check_token(p * 9);
	}
	for (int bit = 0; bit < 63; bit++) {
		check_token((int64_t)1 << bit);
		check_token(((int64_t)1 << bit) - 1);
	}
}

static uint64_t rng = 0x853c49e6748fea9bu;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717u;
}

/* Values of every length, not only huge ones. */
static int64_t rnd_value(void)
{
	int shift = (int)(rnd() % 64);
	return (int64_t)(rnd() >> shift);
}

static void test_token_random(void **state)
{
	char a[32], b[32];
	(void)state;

	for (int i = 0; i < 200000; i++) {
		int64_t v = rnd_value();
		check_token(v);
		if (i % 16 == 0) {
			size_t n = book__token(v, a);
			int m = fx_token(v, b, sizeof(b));
			assert_int_equal(m, (int)n);
			assert_memory_equal(a, b, n);
		}
	}
}

static uint32_t crc_of_text(const struct book_level *asks, size_t na, const struct book_level *bids,
			    size_t nb)
{
	static char text[200000];
	int len = book__checksum_text(asks, na, bids, nb, text, sizeof(text));
	assert_true(len >= 0);
	return (uint32_t)crc32_z(crc32(0L, Z_NULL, 0), (const Bytef *)text, (size_t)len);
}

/* Inputs longer than one stack chunk are hashed in pieces; every length
 * around the chunk size must hash as the whole text does. */
static void test_checksum_any_length(void **state)
{
	static struct book_level asks[2000], bids[2000];
	(void)state;

	for (size_t i = 0; i < 2000; i++) {
		asks[i].price = i % 3 == 0 ? INT64_MAX - (int64_t)i : rnd_value();
		asks[i].qty = i % 5 == 0 ? 0 : rnd_value();
		bids[i].price = rnd_value();
		bids[i].qty = i % 7 == 0 ? INT64_MAX : rnd_value();
	}
	assert_int_equal(book_checksum_levels(NULL, 0, NULL, 0), 0);
	assert_int_equal(crc_of_text(NULL, 0, NULL, 0), 0);
	for (size_t na = 0; na <= 64; na++)
		for (size_t nb = 0; nb <= 64; nb += (na % 4 == 0 ? 1 : 13))
			assert_int_equal(book_checksum_levels(asks, na, bids, nb),
					 crc_of_text(asks, na, bids, nb));
	assert_int_equal(book_checksum_levels(asks, 2000, bids, 2000),
			 crc_of_text(asks, 2000, bids, 2000));
	/* order matters: asks first */
	assert_int_not_equal(book_checksum_levels(asks, 10, bids, 10),
			     book_checksum_levels(bids, 10, asks, 10));
}

static void test_checksum_text_capacity(void **state)
{
	struct book_level l[2] = {{452852, 100000}, {1, 0}};
	char buf[16];
	(void)state;

	/* "452852100000" + "10" = 14 bytes */
	assert_int_equal(book__checksum_text(l, 2, NULL, 0, buf, 14), 14);
	assert_memory_equal(buf, "45285210000010", 14);
	assert_int_equal(book__checksum_text(l, 2, NULL, 0, buf, 13), ERR_RANGE);
	assert_int_equal(book__checksum_text(l, 1, l + 1, 1, buf, 16), 14);
	assert_int_equal(book__checksum_text(NULL, 0, NULL, 0, buf, 0), 0);
}

int main(void)
{
	static const struct CMUnitTest vector_tests[] = {
	    cmocka_unit_test(test_vectors_file_is_fully_covered),
	    cmocka_unit_test(test_v2_guide_btcusd),
	    cmocka_unit_test(test_matic_snapshot),
	    cmocka_unit_test(test_matic_printed_text_is_not_the_token),
	    cmocka_unit_test(test_matic_update),
	    cmocka_unit_test(test_v1_guide),
	    cmocka_unit_test(test_level3_per_order),
	    cmocka_unit_test(test_format_token_examples),
	};
	static const struct CMUnitTest token_tests[] = {
	    cmocka_unit_test(test_trailing_zeros),
	    cmocka_unit_test(test_token_boundaries),
	    cmocka_unit_test(test_token_random),
	    cmocka_unit_test(test_checksum_any_length),
	    cmocka_unit_test(test_checksum_text_capacity),
	};
	int failed =
	    cmocka_run_group_tests_name("vectors", vector_tests, load_vectors, free_vectors);
	failed += cmocka_run_group_tests_name("tokens", token_tests, NULL, NULL);
	return failed;
}

/* Fuzz target: Kraken WS v2 frames through kr_decode, and every decoded book
 * message applied to a book, as the market-data thread does.
 *
 * An input is a list of frames separated by '\n' (Kraken sends one JSON
 * object per frame, without newlines), so one input can define a pair with an
 * instrument message and then feed its book. Each input starts from a fresh
 * decoder, with BTC/USD and MATIC/USD already in the table, so runs do not
 * depend on earlier inputs.
 *
 * Checked besides memory safety: the fast and the general decoding paths
 * agree on every book message (differential, below); every decoded level is
 * in range; after every book_end the sides are sorted, strictly, with
 * positive prices and quantities, within the depth, and the book's checksum
 * is the CRC of its top levels; a book is valid only when the last message
 * succeeded. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book/book.h"
#include "fuzz.h"
#include "kraken/codec.h"

#define FUZZ_TOKENS 8192u
#define FUZZ_BOOKS  8u
#define FUZZ_DEPTH  10u

static struct kr_event *ev, *ev2;
static char *variant;

/* Differential check of the two decoding paths. Book messages in Kraken's
 * exact layout take a fast path that skips jsmn; the same frame with an
 * unknown key put first is the same message to the schema (unknown keys are
 * ignored) but leaves that layout, so it takes the general path. Both must
 * agree: same outcome, and for a book the same event, level for level. */
static void differential(struct kr_decoder *d, const char *frame, size_t len, int rc)
{
	static const char extra[] = "{\"zz_fuzz\":0,";
	struct err_info info = {0};

	if (len < 2 || frame[0] != '{' || len + sizeof(extra) > (1u << 20))
		return;
	memcpy(variant, extra, sizeof(extra) - 1);
	memcpy(variant + sizeof(extra) - 1, frame + 1, len - 1);
	int rc2 = kr_decode(d, variant, len - 1 + sizeof(extra) - 1, ev2, &info);
	if (rc == ERR_FULL || rc2 == ERR_FULL)
		return; /* two more tokens may cross the token limit */
	if (rc != 0) {
		/* "{}" plus a key is no longer empty: only books are compared. */
		return;
	}
	if (ev->kind != KR_EV_BOOK)
		return;
	FUZZ_CHECK(rc2 == 0 && ev2->kind == KR_EV_BOOK);
	const struct kr_book_event *a = &ev->book, *b = &ev2->book;
	FUZZ_CHECK(a->pair_id == b->pair_id && a->snapshot == b->snapshot);
	FUZZ_CHECK(a->price_scale == b->price_scale && a->qty_scale == b->qty_scale);
	FUZZ_CHECK(a->checksum == b->checksum && a->timestamp_ns == b->timestamp_ns);
	FUZZ_CHECK(a->n_bids == b->n_bids && a->n_asks == b->n_asks);
	FUZZ_CHECK(memcmp(a->bids, b->bids, a->n_bids * sizeof(a->bids[0])) == 0);
	FUZZ_CHECK(memcmp(a->asks, b->asks, a->n_asks * sizeof(a->asks[0])) == 0);
}

static void put_pair(struct kr_decoder *d, const char *sym, const char *base, const char *quote,
		     int pp, int qp)
{
	struct kr_pair p;
	memset(&p, 0, sizeof(p));
	snprintf(p.symbol, sizeof(p.symbol), "%s", sym);
	snprintf(p.base, sizeof(p.base), "%s", base);
	snprintf(p.quote, sizeof(p.quote), "%s", quote);
	p.status = KR_PAIR_STATUS_ONLINE;
	p.price_precision = pp;
	p.qty_precision = qp;
	p.cost_precision = 5;
	p.price_increment = 1;
	p.qty_increment = 1;
	FUZZ_CHECK(kr_decoder_put_pair(d, &p, NULL) == 0);
}

static void check_side(const struct book_level *lv, size_t n, bool desc)
{
	FUZZ_CHECK(n <= FUZZ_DEPTH);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(lv[i].price > 0 && lv[i].qty > 0);
		if (i > 0)
			FUZZ_CHECK(desc ? lv[i].price < lv[i - 1].price
					: lv[i].price > lv[i - 1].price);
	}
}

static void apply(struct book *b, const struct kr_book_event *be)
{
	size_t nb, na;
	int rc;

	book_begin(b, be->snapshot);
	for (uint32_t i = 0; i < be->n_bids; i++)
		book_set_bid(b, be->bids[i].price, be->bids[i].qty);
	for (uint32_t i = 0; i < be->n_asks; i++)
		book_set_ask(b, be->asks[i].price, be->asks[i].qty);
	rc = book_end(b, be->checksum, 1);

	const struct book_level *bids = book_bids(b, &nb);
	const struct book_level *asks = book_asks(b, &na);
	check_side(bids, nb, true);
	check_side(asks, na, false);
	size_t cb = nb < BOOK_CHECKSUM_LEVELS ? nb : BOOK_CHECKSUM_LEVELS;
	size_t ca = na < BOOK_CHECKSUM_LEVELS ? na : BOOK_CHECKSUM_LEVELS;
	FUZZ_CHECK(book_checksum(b) == book_checksum_levels(asks, ca, bids, cb));
	if (rc != 0)
		FUZZ_CHECK(!book_valid(b));
	else if (be->snapshot)
		FUZZ_CHECK(book_valid(b));
}

static void on_book(struct kr_decoder *d, struct book **books)
{
	const struct kr_book_event *be = &ev->book;
	const struct kr_pair *p = kr_decoder_pair(d, be->pair_id);

	FUZZ_CHECK(p != NULL);
	FUZZ_CHECK(be->n_bids <= KR_MAX_LEVELS && be->n_asks <= KR_MAX_LEVELS);
	for (uint32_t i = 0; i < be->n_bids; i++)
		FUZZ_CHECK(be->bids[i].price > 0 && be->bids[i].qty >= 0);
	for (uint32_t i = 0; i < be->n_asks; i++)
		FUZZ_CHECK(be->asks[i].price > 0 && be->asks[i].qty >= 0);
	if (be->pair_id >= FUZZ_BOOKS)
		return;
	struct book *b = books[be->pair_id];
	/* A precision change means a new book at the new scales, as the feed
	 * resubscribes. */
	if (b && (book_price_scale(b) != be->price_scale || book_qty_scale(b) != be->qty_scale)) {
		book_free(b);
		b = books[be->pair_id] = NULL;
	}
	if (!b) {
		b = book_new(p->symbol, be->price_scale, be->qty_scale, FUZZ_DEPTH, NULL);
		if (!b)
			return; /* a symbol longer than a book takes: refused cleanly */
		books[be->pair_id] = b;
	}
	apply(b, be);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct book *books[FUZZ_BOOKS] = {0};
	struct kr_decoder *d;
	const char *p = (const char *)data, *end = p + size;

	if (!ev) {
		ev = malloc(sizeof(*ev));
		ev2 = malloc(sizeof(*ev2));
		variant = malloc(1u << 20);
		if (!ev || !ev2 || !variant)
			abort();
	}
	d = kr_decoder_new(FUZZ_TOKENS);
	if (!d)
		abort();
	put_pair(d, "BTC/USD", "BTC", "USD", 1, 8);
	put_pair(d, "MATIC/USD", "MATIC", "USD", 4, 8);

	while (p <= end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		struct err_info info = {0};
		/* Each frame in its own heap buffer of exactly its length, so a
		 * read past the frame is an ASan error, not the next frame. */
		char *frame = malloc(len ? len : 1);
		if (!frame)
			abort();
		memcpy(frame, p, len);
		int rc = kr_decode(d, frame, len, ev, &info);
		differential(d, frame, len, rc);
		if (rc == 0) {
			FUZZ_CHECK(ev->kind != KR_EV_NONE);
			if (ev->kind == KR_EV_BOOK)
				on_book(d, books);
		} else {
			FUZZ_CHECK(ev->kind == KR_EV_NONE);
			FUZZ_CHECK(rc == ERR_PARSE || rc == ERR_SCHEMA || rc == ERR_FULL);
			FUZZ_CHECK(memchr(info.msg, '\0', sizeof(info.msg)) != NULL);
		}
		free(frame);
		if (!nl)
			break;
		p = nl + 1;
	}

	struct kr_decoder_stats st;
	kr_decoder_stats(d, &st);
	uint64_t dropped = 0;
	for (int i = 0; i < KR_DECODE__COUNT; i++)
		dropped += st.dropped[i];
	FUZZ_CHECK(st.decoded + dropped == st.frames);
	for (size_t i = 0; i < FUZZ_BOOKS; i++)
		book_free(books[i]);
	kr_decoder_free(d);
	return 0;
}

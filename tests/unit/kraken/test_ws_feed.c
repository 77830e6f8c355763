/* The market-data session without a network: frames in, requests out. The
 * universe creates the books, subscriptions go out in batches, snapshots
 * validate, a checksum mismatch resubscribes exactly that symbol, malformed
 * frames are counted and survived, a disconnect invalidates every book and a
 * reconnect rebuilds them from fresh snapshots. Book frames are generated
 * here with their true Kraken checksums (a mirror book computes them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "book/book.h"
#include "core/fixed.h"
#include "kraken/ws.h"

#define SEC 1000000000ull

/* Allocation counting for the hot path: glibc's allocator under our own
 * malloc, when no sanitizer owns malloc. */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS 1
#endif
static long n_allocs;
static bool counting;
#if COUNT_ALLOCS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
void *malloc(size_t n)
{
	if (counting)
		n_allocs++;
	return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
	if (counting)
		n_allocs++;
	return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
	if (counting)
		n_allocs++;
	return __libc_realloc(p, n);
}
#endif

/* ---- The captured transport ---- */

struct cap {
	char sent[256][KR_WS_TX_MAX + 1];
	size_t n;
	bool refuse;
	size_t books_seen; /* changes after which the book was valid */
	size_t changes;	   /* every change */
	size_t rebinds;	   /* on_books calls */
	size_t nbooks_at_rebind;
	uint32_t last_pair;
	uint32_t last_checksum;
};
static struct cap cap;

static int cap_send(void *ctx, const char *text, size_t len)
{
	struct cap *c = ctx;
	if (c->refuse)
		return ERR_FULL;
	assert_true(c->n < 256);
	assert_true(len <= KR_WS_TX_MAX);
	memcpy(c->sent[c->n], text, len);
	c->sent[c->n][len] = '\0';
	c->n++;
	return 0;
}

static void cap_book(void *ctx, const struct book *b, uint32_t pair_id, uint64_t recv_ns)
{
	struct cap *c = ctx;
	(void)recv_ns;
	c->changes++;
	if (!book_valid(b))
		return;
	c->books_seen++;
	c->last_pair = pair_id;
	c->last_checksum = book_checksum(b);
}

static void cap_books(void *ctx, const struct kr_ws_feed *f)
{
	struct cap *c = ctx;
	c->rebinds++;
	c->nbooks_at_rebind = kr_ws_feed_book_count(f);
}

/* Requests sent since index from that contain needle. */
static size_t sent_with(size_t from, const char *needle)
{
	size_t k = 0;
	for (size_t i = from; i < cap.n; i++)
		k += strstr(cap.sent[i], needle) != NULL;
	return k;
}

/* ---- Frames ---- */

static const char INSTRUMENTS[] =
    "{\"channel\":\"instrument\",\"type\":\"snapshot\",\"data\":{\"assets\":[],\"pairs\":["
    "{\"symbol\":\"BTC/USD\",\"base\":\"BTC\",\"quote\":\"USD\",\"status\":\"online\","
    "\"qty_precision\":8,\"qty_increment\":1e-08,\"price_precision\":1,\"price_increment\":0.1,"
    "\"qty_min\":0.0001,\"cost_min\":0.5,\"cost_precision\":5},"
    "{\"symbol\":\"ETH/USD\",\"base\":\"ETH\",\"quote\":\"USD\",\"status\":\"online\","
    "\"qty_precision\":8,\"qty_increment\":1e-08,\"price_precision\":2,\"price_increment\":0.01,"
    "\"qty_min\":0.001,\"cost_min\":0.5,\"cost_precision\":5},"
    "{\"symbol\":\"ETH/BTC\",\"base\":\"ETH\",\"quote\":\"BTC\",\"status\":\"online\","
    "\"qty_precision\":8,\"qty_increment\":1e-08,\"price_precision\":5,\"price_increment\":1e-05,"
    "\"qty_min\":0.001,\"cost_min\":0.00002,\"cost_precision\":8},"
    "{\"symbol\":\"OLD/USD\",\"base\":\"OLD\",\"quote\":\"USD\",\"status\":\"delisted\","
    "\"qty_precision\":8,\"qty_increment\":1e-08,\"price_precision\":2,\"price_increment\":0.01,"
    "\"qty_min\":0.001,\"cost_min\":0.5,\"cost_precision\":5}]}}";

/* The simulated exchange's books, to produce frames with true checksums. */
struct mirror {
	struct book *b;
	const char *symbol;
	int ps, qs;
};
static struct mirror mir[3];

static void mirror_init(void)
{
	static const struct {
		const char *s;
		int ps, qs;
	} m[] = {{"BTC/USD", 1, 8}, {"ETH/USD", 2, 8}, {"ETH/BTC", 5, 8}};
	for (size_t i = 0; i < 3; i++) {
		mir[i].symbol = m[i].s;
		mir[i].ps = m[i].ps;
		mir[i].qs = m[i].qs;
		mir[i].b = book_new(m[i].s, m[i].ps, m[i].qs, 10, NULL);
		assert_non_null(mir[i].b);
	}
}

static void mirror_free(void)
{
	for (size_t i = 0; i < 3; i++)
		book_free(mir[i].b);
}

static size_t put_levels(char *out, size_t cap_, const struct mirror *m, const struct book_level *l,
			 size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char p[32], q[32];
		fx_format(l[i].price, m->ps, p, sizeof p);
		fx_format(l[i].qty, m->qs, q, sizeof q);
		o += (size_t)snprintf(out + o, cap_ - o, "%s{\"price\":%s,\"qty\":%s}",
				      i ? "," : "", p, q);
	}
	return o;
}

/* A book frame for mirror m: applies the levels to the mirror and writes the
 * message with the mirror's checksum (plus bump, to corrupt it). */
static size_t book_frame(char *out, size_t cap_, struct mirror *m, bool snapshot,
			 const struct book_level *bids, size_t nb, const struct book_level *asks,
			 size_t na, uint32_t bump)
{
	book_begin(m->b, snapshot);
	for (size_t i = 0; i < nb; i++)
		book_set_bid(m->b, bids[i].price, bids[i].qty);
	for (size_t i = 0; i < na; i++)
		book_set_ask(m->b, asks[i].price, asks[i].qty);
	book_end(m->b, 0, 0);
	uint32_t cs = book_checksum(m->b) + bump;
	size_t o =
	    (size_t)snprintf(out, cap_,
			     "{\"channel\":\"book\",\"type\":\"%s\",\"data\":[{\"symbol\":\"%s\","
			     "\"bids\":[",
			     snapshot ? "snapshot" : "update", m->symbol);
	o += put_levels(out + o, cap_ - o, m, bids, nb);
	o += (size_t)snprintf(out + o, cap_ - o, "],\"asks\":[");
	o += put_levels(out + o, cap_ - o, m, asks, na);
	o += (size_t)snprintf(out + o, cap_ - o,
			      "],\"checksum\":%u,\"timestamp\":\"2023-10-06T17:35:55.440295Z\"}]}",
			      cs);
	return o;
}

static char frame[16384];

static size_t snapshot_of(size_t i, int64_t mid)
{
	struct book_level bids[12], asks[12];
	for (int k = 0; k < 12; k++) {
		bids[k] = (struct book_level){mid - 1 - k, 100000000 + k};
		asks[k] = (struct book_level){mid + 1 + k, 200000000 + k};
	}
	return book_frame(frame, sizeof frame, &mir[i], true, bids, 12, asks, 12, 0);
}

static size_t update_of(size_t i, int64_t price, int64_t qty, uint32_t bump)
{
	struct book_level bid = {price, qty};
	return book_frame(frame, sizeof frame, &mir[i], false, &bid, 1, NULL, 0, bump);
}

static struct kr_ws_feed *feed_new(const char *symbols)
{
	struct err_info info = {0};
	struct kr_ws_feed_opts o = {
	    .symbols = symbols,
	    .depth = 10,
	    .cb = {.send = cap_send, .on_book = cap_book, .on_books = cap_books, .ctx = &cap},
	};
	struct kr_ws_feed *f = kr_ws_feed_new(&o, &info);
	if (!f)
		fail_msg("kr_ws_feed_new: %s", info.msg);
	return f;
}

static int setup(void **state)
{
	(void)state;
	memset(&cap, 0, sizeof cap);
	mirror_init();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mirror_free();
	return 0;
}

static void feed(struct kr_ws_feed *f, const char *s, size_t len, uint64_t t)
{
	int rc = kr_ws_feed_frame(f, s, len, t);
	if (rc != 0)
		fail_msg("frame refused (%s): %.200s", err_str(rc), s);
}

#define FEED(f, lit, t) feed((f), (lit), sizeof(lit) - 1, (t))

static void test_lifecycle(void **state)
{
	(void)state;
	struct kr_ws_feed *f = feed_new("BTC/USD, ETH/USD,XRP/USD,BTC/USD");
	struct kr_ws_feed_stats st;

	kr_ws_feed_open(f, 1 * SEC);
	assert_int_equal(cap.n, 1);
	assert_non_null(strstr(cap.sent[0], "\"channel\":\"instrument\""));

	FEED(
	    f,
	    "{\"channel\":\"status\",\"type\":\"update\",\"data\":[{\"api_version\":\"v2\","
	    "\"connection_id\":13834774380200032777,\"system\":\"online\",\"version\":\"2.0.0\"}]}",
	    1 * SEC);
	FEED(f, INSTRUMENTS, 1 * SEC);
	/* Two books (XRP/USD is not listed, the duplicate counts once), one
	 * subscribe request for both. */
	assert_int_equal(kr_ws_feed_book_count(f), 2);
	assert_int_equal(cap.rebinds, 1);
	assert_int_equal(cap.nbooks_at_rebind, 2);
	assert_int_equal(cap.n, 2);
	assert_non_null(strstr(cap.sent[1], "\"method\":\"subscribe\""));
	assert_non_null(strstr(cap.sent[1], "\"symbol\":[\"BTC/USD\",\"ETH/USD\"]"));
	assert_non_null(strstr(cap.sent[1], "\"depth\":10"));
	kr_ws_feed_stats(f, 1 * SEC, 2 * SEC, &st);
	assert_int_equal(st.books, 2);
	assert_int_equal(st.valid, 0);
	assert_int_equal(st.missing, 1);
	assert_int_equal(st.system, KR_SYSTEM_ONLINE);
	assert_true(st.instruments);

	/* An update before the snapshot belongs to no subscription: ignored. */
	size_t n = update_of(0, 499999, 5, 0);
	feed(f, frame, n, 2 * SEC);
	kr_ws_feed_stats(f, 2 * SEC, 2 * SEC, &st);
	assert_int_equal(st.ignored, 1);
	assert_int_equal(st.book_messages, 0);

	n = snapshot_of(0, 500000);
	feed(f, frame, n, 2 * SEC);
	n = snapshot_of(1, 300000);
	feed(f, frame, n, 2 * SEC);
	kr_ws_feed_stats(f, 2 * SEC, 2 * SEC, &st);
	assert_int_equal(st.valid, 2);
	assert_int_equal(st.invalid, 0);
	assert_int_equal(cap.books_seen, 2);
	const struct book *btc = kr_ws_feed_find(f, "BTC/USD");
	assert_non_null(btc);
	assert_true(book_valid(btc));
	assert_int_equal(book_checksum(btc), book_checksum(mir[0].b));
	assert_int_equal(book_last_update_ns(btc), 2 * SEC);
	assert_null(kr_ws_feed_find(f, "ETH/BTC"));

	/* Updates apply and verify. */
	for (int i = 0; i < 20; i++) {
		n = update_of(0, 499999 - i % 5, (int64_t)(i + 1) * 1000, 0);
		feed(f, frame, n, 3 * SEC);
		assert_true(book_valid(btc));
		assert_int_equal(book_checksum(btc), book_checksum(mir[0].b));
		assert_int_equal(cap.last_checksum, book_checksum(mir[0].b));
	}
	assert_int_equal(cap.books_seen, 22);

	/* Staleness: ETH/USD last moved at 2 s. */
	kr_ws_feed_stats(f, 5 * SEC, 2 * SEC + 1, &st);
	assert_int_equal(st.stale, 1);
	kr_ws_feed_stats(f, 3 * SEC, 2 * SEC, &st);
	assert_int_equal(st.stale, 0);
	kr_ws_feed_free(f);
}

static void test_checksum_resubscribes(void **state)
{
	(void)state;
	struct kr_ws_feed *f = feed_new("BTC/USD,ETH/USD");
	struct kr_ws_feed_stats st;
	kr_ws_feed_open(f, 1 * SEC);
	FEED(f, INSTRUMENTS, 1 * SEC);
	size_t n = snapshot_of(0, 500000);
	feed(f, frame, n, 1 * SEC);
	n = snapshot_of(1, 300000);
	feed(f, frame, n, 1 * SEC);
	size_t before = cap.n;

	/* A wrong checksum on BTC/USD: reported as a change of an invalid book. */
	size_t ch = cap.changes, valid_seen = cap.books_seen;
	n = update_of(0, 499998, 777, 1);
	feed(f, frame, n, 2 * SEC);
	assert_int_equal(cap.changes, ch + 1);
	assert_int_equal(cap.books_seen, valid_seen);
	kr_ws_feed_stats(f, 2 * SEC, 10 * SEC, &st);
	assert_int_equal(st.checksum_failures, 1);
	assert_int_equal(st.resubscribes, 1);
	assert_int_equal(st.valid, 1);
	assert_false(book_valid(kr_ws_feed_find(f, "BTC/USD")));
	assert_true(book_valid(kr_ws_feed_find(f, "ETH/USD")));
	/* Exactly one unsubscribe and one subscribe, both for BTC/USD alone. */
	assert_int_equal(cap.n - before, 2);
	assert_non_null(strstr(cap.sent[before], "\"method\":\"unsubscribe\""));
	assert_non_null(strstr(cap.sent[before], "\"symbol\":[\"BTC/USD\"]"));
	assert_non_null(strstr(cap.sent[before + 1], "\"method\":\"subscribe\""));
	assert_non_null(strstr(cap.sent[before + 1], "\"symbol\":[\"BTC/USD\"]"));
	assert_int_equal(sent_with(before, "ETH/USD"), 0);

	/* Updates of the old subscription are ignored until the snapshot, and
	 * not reported. */
	n = update_of(0, 499997, 778, 0);
	feed(f, frame, n, 2 * SEC);
	assert_int_equal(cap.changes, ch + 1);
	assert_false(book_valid(kr_ws_feed_find(f, "BTC/USD")));
	FEED(f,
	     "{\"method\":\"unsubscribe\",\"result\":{\"channel\":\"book\",\"depth\":10,"
	     "\"snapshot\":true,\"symbol\":\"BTC/USD\"},\"success\":true}",
	     2 * SEC);
	n = snapshot_of(0, 510000);
	feed(f, frame, n, 3 * SEC);
	kr_ws_feed_stats(f, 3 * SEC, 10 * SEC, &st);
	assert_int_equal(st.valid, 2);
	assert_int_equal(st.checksum_failures, 1);
	assert_int_equal(st.resubscribes, 1);
	assert_int_equal(book_checksum(kr_ws_feed_find(f, "BTC/USD")), book_checksum(mir[0].b));
	/* No further requests were needed. */
	assert_int_equal(cap.n - before, 2);

	/* A snapshot with a bad checksum also resubscribes. */
	struct book_level bid = {400000, 5}, ask = {400010, 6};
	n = book_frame(frame, sizeof frame, &mir[1], true, &bid, 1, &ask, 1, 7);
	feed(f, frame, n, 4 * SEC);
	kr_ws_feed_stats(f, 4 * SEC, 10 * SEC, &st);
	assert_int_equal(st.checksum_failures, 2);
	assert_int_equal(st.resubscribes, 2);
	assert_int_equal(sent_with(before + 2, "\"symbol\":[\"ETH/USD\"]"), 2);
	kr_ws_feed_free(f);
}

static void test_malformed_survived(void **state)
{
	(void)state;
	struct kr_ws_feed *f = feed_new("BTC/USD");
	struct kr_ws_feed_stats st;
	kr_ws_feed_open(f, 1 * SEC);
	FEED(f, INSTRUMENTS, 1 * SEC);
	size_t n = snapshot_of(0, 500000);
	feed(f, frame, n, 1 * SEC);
	static const char *bad[] = {
	    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":",
	    "not json at all",
	    "",
	    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"BTC/USD\",\"bids\":"
	    "[{\"price\":\"abc\",\"qty\":1}],\"asks\":[],\"checksum\":1,\"timestamp\":"
	    "\"2023-10-06T17:35:55.440295Z\"}]}",
	    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"NOPE/USD\",\"bids\":"
	    "[],\"asks\":[],\"checksum\":1,\"timestamp\":\"2023-10-06T17:35:55.440295Z\"}]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_true(kr_ws_feed_frame(f, bad[i], strlen(bad[i]), 2 * SEC) < 0);
	kr_ws_feed_stats(f, 2 * SEC, 10 * SEC, &st);
	assert_int_equal(st.parse_errors, 5);
	assert_int_equal(st.messages, 7);
	/* The book was not touched and keeps verifying. */
	assert_true(book_valid(kr_ws_feed_find(f, "BTC/USD")));
	n = update_of(0, 499990, 42, 0);
	feed(f, frame, n, 3 * SEC);
	assert_true(book_valid(kr_ws_feed_find(f, "BTC/USD")));
	/* Error replies and refused subscriptions are counted. */
	FEED(f, "{\"error\":\"Exceeded msg rate\",\"method\":\"subscribe\",\"success\":false}",
	     3 * SEC);
	FEED(f,
	     "{\"method\":\"subscribe\",\"error\":\"Currency pair not supported XBT/USD\","
	     "\"success\":false,\"symbol\":\"XBT/USD\"}",
	     3 * SEC);
	kr_ws_feed_stats(f, 3 * SEC, 10 * SEC, &st);
	assert_int_equal(st.subscribe_errors + st.exchange_errors, 2);
	assert_int_equal(st.parse_errors, 5);
	kr_ws_feed_free(f);
}

static void test_reconnect_rebuilds(void **state)
{
	(void)state;
	struct kr_ws_feed *f = feed_new("BTC/USD,ETH/USD");
	struct kr_ws_feed_stats st;
	kr_ws_feed_open(f, 1 * SEC);
	FEED(f, INSTRUMENTS, 1 * SEC);
	size_t n = snapshot_of(0, 500000);
	feed(f, frame, n, 1 * SEC);
	n = snapshot_of(1, 300000);
	feed(f, frame, n, 1 * SEC);
	kr_ws_feed_stats(f, 1 * SEC, 10 * SEC, &st);
	assert_int_equal(st.valid, 2);

	size_t ch = cap.changes;
	kr_ws_feed_close(f, 2 * SEC);
	assert_int_equal(cap.changes, ch + 2); /* both invalidations reported */
	kr_ws_feed_stats(f, 2 * SEC, 10 * SEC, &st);
	assert_int_equal(st.valid, 0);
	assert_int_equal(st.invalid, 2);
	/* Levels are kept for display, but nothing is valid. */
	size_t nb;
	book_bids(kr_ws_feed_find(f, "BTC/USD"), &nb);
	assert_int_equal(nb, 10);
	/* Closed: ticks send nothing. */
	size_t before = cap.n;
	kr_ws_feed_tick(f, 3 * SEC);
	assert_int_equal(cap.n, before);

	/* Reopen: instrument first, then every book again in one batch. */
	kr_ws_feed_open(f, 4 * SEC);
	assert_int_equal(cap.n, before + 1);
	assert_non_null(strstr(cap.sent[before], "instrument"));
	/* An update from before the drop must not revive a book. */
	n = update_of(0, 499999, 9, 0);
	kr_ws_feed_frame(f, frame, n, 4 * SEC);
	assert_false(book_valid(kr_ws_feed_find(f, "BTC/USD")));
	FEED(f, INSTRUMENTS, 4 * SEC);
	assert_int_equal(kr_ws_feed_book_count(f), 2);
	assert_int_equal(cap.rebinds, 1); /* same books: no rebind */
	assert_int_equal(cap.n, before + 2);
	assert_non_null(strstr(cap.sent[before + 1], "\"symbol\":[\"BTC/USD\",\"ETH/USD\"]"));
	n = snapshot_of(0, 600000);
	feed(f, frame, n, 5 * SEC);
	n = snapshot_of(1, 350000);
	feed(f, frame, n, 5 * SEC);
	kr_ws_feed_stats(f, 5 * SEC, 10 * SEC, &st);
	assert_int_equal(st.valid, 2);
	assert_int_equal(st.resubscribes, 0);
	assert_int_equal(book_checksum(kr_ws_feed_find(f, "ETH/USD")), book_checksum(mir[1].b));
	kr_ws_feed_free(f);
}

/* A pair's precision changes: its book is rebuilt at the new scales (the
 * owner is told to rebind), resubscribed, and valid again from a snapshot
 * at the new scale. */
static void test_precision_change(void **state)
{
	(void)state;
	struct kr_ws_feed *f = feed_new("BTC/USD,ETH/USD");
	kr_ws_feed_open(f, 1 * SEC);
	FEED(f, INSTRUMENTS, 1 * SEC);
	size_t n = snapshot_of(0, 500000);
	feed(f, frame, n, 1 * SEC);
	const struct book *old = kr_ws_feed_find(f, "BTC/USD");
	assert_true(book_valid(old));
	assert_int_equal(book_price_scale(old), 1);
	size_t before = cap.n;
	FEED(f,
	     "{\"channel\":\"instrument\",\"type\":\"update\",\"data\":{\"assets\":[],"
	     "\"pairs\":[{\"symbol\":\"BTC/USD\",\"base\":\"BTC\",\"quote\":\"USD\","
	     "\"status\":\"online\",\"qty_precision\":8,\"qty_increment\":1e-08,"
	     "\"price_precision\":2,\"price_increment\":0.01,\"qty_min\":0.0001,"
	     "\"cost_min\":0.5,\"cost_precision\":5}]}}",
	     2 * SEC);
	assert_int_equal(cap.rebinds, 2);
	const struct book *nb = kr_ws_feed_find(f, "BTC/USD");
	assert_non_null(nb);
	assert_int_equal(book_price_scale(nb), 2);
	assert_false(book_valid(nb));
	assert_int_equal(cap.n - before, 2);
	assert_non_null(strstr(cap.sent[before], "\"method\":\"unsubscribe\""));
	assert_non_null(strstr(cap.sent[before + 1], "\"symbol\":[\"BTC/USD\"]"));
	struct mirror m2 = {
	    .b = book_new("BTC/USD", 2, 8, 10, NULL), .symbol = "BTC/USD", .ps = 2, .qs = 8};
	struct book_level bid = {5000000, 7}, ask = {5000010, 8};
	n = book_frame(frame, sizeof frame, &m2, true, &bid, 1, &ask, 1, 0);
	feed(f, frame, n, 3 * SEC);
	assert_true(book_valid(nb));
	assert_int_equal(book_checksum(nb), book_checksum(m2.b));
	book_free(m2.b);
	kr_ws_feed_free(f);
}

/* "all": a book per online pair; delisted pairs get none. */
static void test_all_pairs(void **state)
{
	(void)state;
	struct kr_ws_feed *f = feed_new("all");
	kr_ws_feed_open(f, 1 * SEC);
	FEED(f, INSTRUMENTS, 1 * SEC);
	assert_int_equal(kr_ws_feed_book_count(f), 3);
	assert_null(kr_ws_feed_find(f, "OLD/USD"));
	assert_non_null(kr_ws_feed_find(f, "ETH/BTC"));
	assert_non_null(strstr(cap.sent[1], "\"symbol\":[\"BTC/USD\",\"ETH/USD\",\"ETH/BTC\"]"));
	kr_ws_feed_free(f);
}

/* 120 pairs: the subscription goes out in batches of KR_WS_SUBSCRIBE_BATCH. */
static void test_batches(void **state)
{
	(void)state;
	static char big[65536];
	size_t o = (size_t)snprintf(big, sizeof big,
				    "{\"channel\":\"instrument\",\"type\":\"snapshot\",\"data\":{"
				    "\"assets\":[],\"pairs\":[");
	for (int i = 0; i < 120; i++)
		o += (size_t)snprintf(
		    big + o, sizeof big - o,
		    "%s{\"symbol\":\"A%03d/USD\",\"base\":\"A%03d\",\"quote\":\"USD\","
		    "\"status\":\"online\",\"qty_precision\":8,\"qty_increment\":"
		    "1e-08,\"price_precision\":2,\"price_increment\":0.01,"
		    "\"qty_min\":0.001,\"cost_min\":0.5,\"cost_precision\":5}",
		    i ? "," : "", i, i);
	o += (size_t)snprintf(big + o, sizeof big - o, "]}}");
	struct kr_ws_feed *f = feed_new("all");
	kr_ws_feed_open(f, 1 * SEC);
	feed(f, big, o, 1 * SEC);
	assert_int_equal(kr_ws_feed_book_count(f), 120);
	assert_int_equal(cap.n, 1 + 3);
	assert_int_equal(sent_with(1, "\"method\":\"subscribe\""), 3);
	assert_non_null(strstr(cap.sent[1], "A000/USD"));
	assert_non_null(strstr(cap.sent[1], "A049/USD"));
	assert_null(strstr(cap.sent[1], "A050/USD"));
	assert_non_null(strstr(cap.sent[3], "A119/USD"));
	kr_ws_feed_free(f);
}

/* A refused send is retried by the tick; a snapshot that never comes is
 * asked for again after the timeout. */
static void test_retries(void **state)
{
	(void)state;
	struct kr_ws_feed *f = feed_new("BTC/USD");
	struct kr_ws_feed_stats st;
	cap.refuse = true;
	kr_ws_feed_open(f, 1 * SEC);
	assert_int_equal(cap.n, 0);
	cap.refuse = false;
	kr_ws_feed_tick(f, 2 * SEC);
	assert_int_equal(cap.n, 1);
	assert_non_null(strstr(cap.sent[0], "instrument"));
	kr_ws_feed_tick(f, 3 * SEC);
	assert_int_equal(cap.n, 1);

	cap.refuse = true;
	FEED(f, INSTRUMENTS, 3 * SEC);
	assert_int_equal(cap.n, 1);
	cap.refuse = false;
	kr_ws_feed_tick(f, 4 * SEC);
	assert_int_equal(cap.n, 2);
	assert_non_null(strstr(cap.sent[1], "\"method\":\"subscribe\""));
	kr_ws_feed_stats(f, 4 * SEC, 10 * SEC, &st);
	assert_int_equal(st.send_errors, 2);

	/* No snapshot within 15 s: unsubscribe + subscribe again. */
	kr_ws_feed_tick(f, 10 * SEC);
	assert_int_equal(cap.n, 2);
	kr_ws_feed_tick(f, 20 * SEC);
	assert_int_equal(cap.n, 4);
	assert_non_null(strstr(cap.sent[2], "\"method\":\"unsubscribe\""));
	assert_non_null(strstr(cap.sent[3], "\"method\":\"subscribe\""));
	kr_ws_feed_stats(f, 20 * SEC, 10 * SEC, &st);
	assert_int_equal(st.resubscribes, 1);
	size_t n = snapshot_of(0, 500000);
	feed(f, frame, n, 21 * SEC);
	assert_true(book_valid(kr_ws_feed_find(f, "BTC/USD")));
	kr_ws_feed_free(f);
}

static void test_status_and_config(void **state)
{
	(void)state;
	struct kr_ws_feed *f = feed_new("BTC/USD");
	struct kr_ws_feed_stats st;
	kr_ws_feed_open(f, 1 * SEC);
	FEED(f,
	     "{\"channel\":\"status\",\"type\":\"update\",\"data\":[{\"api_version\":\"v2\","
	     "\"connection_id\":1,\"system\":\"maintenance\",\"version\":\"2.0.0\"}]}",
	     1 * SEC);
	kr_ws_feed_stats(f, 1 * SEC, 10 * SEC, &st);
	assert_int_equal(st.system, KR_SYSTEM_MAINTENANCE);
	FEED(f, "{\"channel\":\"heartbeat\"}", 1 * SEC);
	FEED(f, "{\"method\":\"pong\",\"req_id\":4}", 1 * SEC);
	kr_ws_feed_free(f);

	struct err_info info = {0};
	struct kr_ws_feed_opts o = {
	    .symbols = "BTC/USD,NOSLASH", .depth = 10, .cb = {.send = cap_send, .ctx = &cap}};
	assert_null(kr_ws_feed_new(&o, &info));
	assert_int_equal(info.code, ERR_CONFIG);
	assert_non_null(strstr(info.msg, "NOSLASH"));
	o.symbols = "BTC/USD";
	o.depth = 11;
	assert_null(kr_ws_feed_new(&o, &info));
	assert_non_null(strstr(info.msg, "BOOK_DEPTH"));
	o.depth = 10;
	o.symbols = " , ";
	assert_null(kr_ws_feed_new(&o, &info));
	o.symbols = "BTC/USD";
	o.cb.send = NULL;
	assert_null(kr_ws_feed_new(&o, &info));
	kr_ws_feed_free(NULL);
}

/* The hot path (frame -> decode -> book -> checksum -> callback) and a
 * checksum failure with its resubscription allocate nothing. */
static void test_no_alloc(void **state)
{
	(void)state;
	if (!COUNT_ALLOCS)
		skip();
	static char frames[300][512];
	static size_t lens[300];
	struct kr_ws_feed *f = feed_new("BTC/USD,ETH/USD");
	kr_ws_feed_open(f, 1 * SEC);
	FEED(f, INSTRUMENTS, 1 * SEC);
	size_t n = snapshot_of(0, 500000);
	feed(f, frame, n, 1 * SEC);
	n = snapshot_of(1, 300000);
	feed(f, frame, n, 1 * SEC);
	for (int i = 0; i < 299; i++) {
		lens[i] = update_of((size_t)(i % 2), i % 2 ? 299999 - i % 7 : 499999 - i % 7,
				    (int64_t)(i + 1) * 100, 0);
		assert_true(lens[i] < sizeof frames[i]);
		memcpy(frames[i], frame, lens[i]);
	}
	lens[299] = update_of(0, 499990, 5, 3); /* a bad checksum */
	memcpy(frames[299], frame, lens[299]);
	size_t seen = cap.books_seen;
	n_allocs = 0;
	counting = true;
	for (int i = 0; i < 300; i++)
		kr_ws_feed_frame(f, frames[i], lens[i], 2 * SEC);
	kr_ws_feed_tick(f, 3 * SEC);
	counting = false;
	assert_int_equal(n_allocs, 0);
	assert_int_equal(cap.books_seen - seen, 299);
	struct kr_ws_feed_stats st;
	kr_ws_feed_stats(f, 3 * SEC, 10 * SEC, &st);
	assert_int_equal(st.checksum_failures, 1);
	assert_int_equal(st.resubscribes, 1);
	kr_ws_feed_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checksum_resubscribes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_survived, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reconnect_rebuilds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_precision_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_pairs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_and_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_alloc, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

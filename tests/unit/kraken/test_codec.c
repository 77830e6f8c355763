/* kr_decode and the encoders: every relevant documented frame (as compact
 * literals and as the raw text of tests/data/kraken/vectors.json), the
 * instrument table, a table of malformed frames with the error, reason and
 * counter each must produce, 1,000-level books, deep nesting, and mutated
 * frames that must never crash. */
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
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "core/fixed.h"
#include "kraken/codec.h"

#define TOKENS 65536

/* ---- documented frames (PROTOCOL.md, vectors.json protocol_examples) ----- */

static const char STATUS[] =
    "{\"channel\":\"status\",\"data\":[{\"api_version\":\"v2\",\"connection_id\":"
    "13834774380200032777,\"system\":\"online\",\"version\":\"2.0.0\"}],\"type\":\"update\"}";
static const char HEARTBEAT[] = "{\"channel\":\"heartbeat\"}";
static const char PONG[] = "{\"method\":\"pong\",\"req_id\":101,\"time_in\":\"2023-09-24T14:10:23."
			   "799685Z\",\"time_out\":\"2023-09-24T14:10:23.799703Z\"}";
static const char SUB_ALGO[] =
    "{\"method\":\"subscribe\",\"result\":{\"channel\":\"book\",\"depth\":10,\"snapshot\":true,"
    "\"symbol\":\"ALGO/USD\"},\"success\":true,\"time_in\":\"2023-10-06T17:35:55.219022Z\","
    "\"time_out\":\"2023-10-06T17:35:55.219067Z\"}";
static const char SUB_MATIC[] =
    "{\"method\":\"subscribe\",\"result\":{\"channel\":\"book\",\"depth\":10,\"snapshot\":true,"
    "\"symbol\":\"MATIC/USD\"},\"success\":true,\"time_in\":\"2023-10-06T17:35:55.219022Z\","
    "\"time_out\":\"2023-10-06T17:35:55.219067Z\"}";
static const char UNSUB_MATIC[] =
    "{\"method\":\"unsubscribe\",\"result\":{\"channel\":\"book\",\"depth\":10,\"snapshot\":true,"
    "\"symbol\":\"MATIC/USD\"},\"success\":true,\"time_in\":\"2023-10-06T17:35:55.219022Z\","
    "\"time_out\":\"2023-10-06T17:35:55.219067Z\"}";
static const char SUB_INSTRUMENT[] =
    "{\"method\":\"subscribe\",\"req_id\":79,\"result\":{\"channel\":\"instrument\","
    "\"snapshot\":true,\"warnings\":[\"tick_size is deprecated, use price_increment\"]},"
    "\"success\":true,\"time_in\":\"2023-09-26T16:49:20.962586Z\",\"time_out\":\"2023-09-26T16:"
    "49:20.962630Z\"}";
static const char INSTRUMENT_SNAPSHOT[] =
    "{\"channel\":\"instrument\",\"type\":\"snapshot\",\"data\":{\"assets\":[{\"id\":\"USD\","
    "\"status\":\"enabled\",\"precision\":4,\"precision_display\":2,\"borrowable\":true,"
    "\"collateral_value\":1.0,\"margin_rate\":0.015},{\"id\":\"BTC\",\"status\":\"enabled\","
    "\"precision\":10,\"precision_display\":5,\"borrowable\":true,\"collateral_value\":1.0,"
    "\"margin_rate\":0.01},{\"id\":\"XRP\",\"status\":\"enabled\",\"precision\":8,"
    "\"precision_display\":5,\"borrowable\":true,\"collateral_value\":0.0,\"margin_rate\":0.02}"
    "],\"pairs\":[{\"symbol\":\"BTC/USD\",\"base\":\"BTC\",\"quote\":\"USD\",\"status\":"
    "\"online\",\"qty_precision\":8,\"qty_increment\":1e-08,\"price_precision\":1,"
    "\"cost_precision\":5,\"marginable\":true,\"has_index\":true,\"cost_min\":0.5,"
    "\"margin_initial\":0.2,\"position_limit_long\":250,\"position_limit_short\":200,"
    "\"tick_size\":0.1,\"price_increment\":0.1,\"qty_min\":0.0001},{\"symbol\":\"MATIC/GBP\","
    "\"base\":\"MATIC\",\"quote\":\"GBP\",\"status\":\"online\",\"qty_precision\":8,"
    "\"qty_increment\":1e-08,\"price_precision\":4,\"cost_precision\":6,\"marginable\":false,"
    "\"has_index\":true,\"cost_min\":0.43,\"tick_size\":0.0001,\"price_increment\":0.0001,"
    "\"qty_min\":4.0}]}}";
/* MATIC/USD is not in the documented instrument example; its book example
 * needs price precision 4 and qty precision 8 (PROTOCOL.md §2.4). Here every
 * number is a string, as the schema allows for cost_min. */
static const char INSTRUMENT_MATIC_USD[] =
    "{\"channel\":\"instrument\",\"type\":\"update\",\"data\":{\"assets\":[],\"pairs\":[{"
    "\"symbol\":\"MATIC/USD\",\"base\":\"MATIC\",\"quote\":\"USD\",\"status\":\"online\","
    "\"qty_precision\":\"8\",\"qty_increment\":\"1e-08\",\"price_precision\":\"4\","
    "\"cost_precision\":\"5\",\"cost_min\":\"0.5\",\"price_increment\":\"0.0001\","
    "\"qty_min\":\"4.0\"}]}}";
static const char MATIC_SNAPSHOT[] =
    "{\"channel\":\"book\",\"type\":\"snapshot\",\"data\":[{\"symbol\":\"MATIC/USD\",\"bids\":[{"
    "\"price\":0.5666,\"qty\":4831.75496356},{\"price\":0.5665,\"qty\":6658.22734739},{"
    "\"price\":0.5664,\"qty\":18724.91513344},{\"price\":0.5663,\"qty\":11563.92544914},{"
    "\"price\":0.5662,\"qty\":14006.65365711},{\"price\":0.5661,\"qty\":17454.85679807},{"
    "\"price\":0.566,\"qty\":18097.1547},{\"price\":0.5659,\"qty\":33644.89175666},{\"price\":"
    "0.5658,\"qty\":148.3464},{\"price\":0.5657,\"qty\":606.70854372}],\"asks\":[{\"price\":"
    "0.5668,\"qty\":4410.79769741},{\"price\":0.5669,\"qty\":4655.40412487},{\"price\":0.567,"
    "\"qty\":49844.89424998},{\"price\":0.5671,\"qty\":24306.41678},{\"price\":0.5672,\"qty\":"
    "29783.25223475},{\"price\":0.5673,\"qty\":57234.71239278},{\"price\":0.5674,\"qty\":"
    "45065.04744},{\"price\":0.5675,\"qty\":5912.76380354},{\"price\":0.5676,\"qty\":"
    "42514.92434778},{\"price\":0.5677,\"qty\":36304.0847022}],\"checksum\":2439117997,"
    "\"timestamp\":\"2023-10-06T17:35:55.440295Z\"}]}";
static const char MATIC_UPDATE[] =
    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"MATIC/USD\",\"bids\":[{"
    "\"price\":0.5657,\"qty\":1098.3947558}],\"asks\":[],\"checksum\":2114181697,\"timestamp\":"
    "\"2023-10-06T17:35:55.440295Z\"}]}";
static const char TICKER[] =
    "{\"channel\":\"ticker\",\"type\":\"snapshot\",\"data\":[{\"symbol\":\"ALGO/USD\",\"bid\":"
    "0.10025,\"bid_qty\":740.0,\"ask\":0.10036,\"ask_qty\":1361.44813783,\"last\":0.10035,"
    "\"volume\":997038.98383185,\"vwap\":0.10148,\"low\":0.09979,\"high\":0.10285,\"change\":"
    "-0.00017,\"change_pct\":-0.17,\"timestamp\":\"2023-09-25T09:04:31.742648Z\"}]}";
static const char CANCEL_ALL[] =
    "{\"method\":\"cancel_all\",\"req_id\":1234567890,\"result\":{\"count\":1},\"success\":true,"
    "\"time_in\":\"2023-09-26T13:09:48.463201Z\",\"time_out\":\"2023-09-26T13:09:48.471419Z\"}";

/* vectors.json bids_levels / asks_levels at price precision 4, qty 8. */
static const struct kr_level MATIC_BIDS[10] = {
    {5666, 483175496356},  {5665, 665822734739},  {5664, 1872491513344}, {5663, 1156392544914},
    {5662, 1400665365711}, {5661, 1745485679807}, {5660, 1809715470000}, {5659, 3364489175666},
    {5658, 14834640000},   {5657, 60670854372},
};
static const struct kr_level MATIC_ASKS[10] = {
    {5668, 441079769741},  {5669, 465540412487},  {5670, 4984489424998}, {5671, 2430641678000},
    {5672, 2978325223475}, {5673, 5723471239278}, {5674, 4506504744000}, {5675, 591276380354},
    {5676, 4251492434778}, {5677, 3630408470220},
};

#define T_20231006_440295 1696613755440295000LL

/* ---- helpers -------------------------------------------------------------- */

struct fx {
	struct kr_decoder *d;
	struct kr_event *ev;
	struct err_info info;
};

static int dec(struct fx *f, const char *frame)
{
	memset(&f->info, 0, sizeof(f->info));
	return kr_decode(f->d, frame, strlen(frame), f->ev, &f->info);
}

static void ok(struct fx *f, const char *frame, enum kr_event_kind kind)
{
	int rc = dec(f, frame);

	if (rc != 0)
		print_error("unexpected failure %d: %s\n", rc, f->info.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(f->ev->kind, kind);
}

static bool view_is(struct kr_view v, const char *s)
{
	return v.p && v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

/* Every call is accounted for exactly once. */
static void check_stats(const struct kr_decoder *d)
{
	struct kr_decoder_stats st;
	uint64_t sum = 0;

	kr_decoder_stats(d, &st);
	for (int r = 0; r < KR_DECODE__COUNT; r++)
		sum += st.dropped[r];
	assert_int_equal(st.frames, st.decoded + sum);
	assert_true(st.unknown <= st.decoded);
}

static int setup_tokens(void **state, size_t tokens)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->d = kr_decoder_new(tokens);
	f->ev = malloc(sizeof(*f->ev));
	assert_non_null(f->d);
	assert_non_null(f->ev);
	ok(f, INSTRUMENT_SNAPSHOT, KR_EV_INSTRUMENT);
	ok(f, INSTRUMENT_MATIC_USD, KR_EV_INSTRUMENT);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_tokens(state, TOKENS);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	check_stats(f->d);
	kr_decoder_free(f->d);
	free(f->ev);
	free(f);
	return 0;
}

static uint32_t id_of(struct fx *f, const char *sym)
{
	return kr_decoder_find(f->d, sym, strlen(sym));
}

/* CRC32 over the fixed-point tokens, PROTOCOL.md §2.4, on a book made of
 * the given levels (already best first, at most 10 used). */
static uint32_t crc_of(const struct kr_level *asks, size_t na, const struct kr_level *bids,
		       size_t nb)
{
	char buf[1024], tok[24];
	size_t n = 0;

	for (int side = 0; side < 2; side++) {
		const struct kr_level *l = side ? bids : asks;
		size_t cnt = side ? nb : na;

		for (size_t i = 0; i < cnt && i < 10; i++) {
			int k = fx_token(l[i].price, tok, sizeof(tok));

			assert_true(k > 0);
			memcpy(buf + n, tok, (size_t)k);
			n += (size_t)k;
			k = fx_token(l[i].qty, tok, sizeof(tok));
			assert_true(k > 0);
			memcpy(buf + n, tok, (size_t)k);
			n += (size_t)k;
		}
	}
	return (uint32_t)crc32(0, (const Bytef *)buf, (uInt)n);
}

/* ---- documented frames ------------------------------------------------------ */

static void test_status(void **state)
{
	struct fx *f = *state;
	const struct kr_status_event *s = &f->ev->status;

	ok(f, STATUS, KR_EV_STATUS);
	assert_int_equal(s->system, KR_SYSTEM_ONLINE);
	assert_true(view_is(s->system_text, "online"));
	assert_true(s->has_connection_id);
	assert_true(s->connection_id == 13834774380200032777ull);
	assert_true(s->connection_id > (uint64_t)INT64_MAX);
	assert_true(view_is(s->api_version, "v2"));
	assert_true(view_is(s->version, "2.0.0"));
	/* Views point into the frame. */
	assert_true(s->version.p > STATUS && s->version.p < STATUS + sizeof(STATUS));

	ok(f,
	   "{\"channel\":\"status\",\"data\":[{\"system\":\"cancel_only\"}],\"type\":\"update\"}",
	   KR_EV_STATUS);
	assert_int_equal(s->system, KR_SYSTEM_CANCEL_ONLY);
	assert_false(s->has_connection_id);
	assert_null(s->api_version.p);

	/* An engine state Kraken adds later is tolerated and counted. */
	struct kr_decoder_stats st;
	ok(f, "{\"channel\":\"status\",\"data\":[{\"system\":\"degraded\",\"connection_id\":0}]}",
	   KR_EV_STATUS);
	assert_int_equal(s->system, KR_SYSTEM_UNKNOWN);
	assert_true(view_is(s->system_text, "degraded"));
	kr_decoder_stats(f->d, &st);
	assert_int_equal(st.unknown_enum, 1);
	assert_string_equal(kr_system_status_str(KR_SYSTEM_POST_ONLY), "post_only");
}

static void test_heartbeat_pong(void **state)
{
	struct fx *f = *state;

	ok(f, HEARTBEAT, KR_EV_HEARTBEAT);
	ok(f, " \t\r\n{ \"channel\" : \"heartbeat\" }\n", KR_EV_HEARTBEAT);

	ok(f, PONG, KR_EV_PONG);
	assert_true(f->ev->pong.has_req_id);
	assert_int_equal(f->ev->pong.req_id, 101);
	assert_true(f->ev->pong.success);
	assert_null(f->ev->pong.error.p);
	assert_true(f->ev->pong.time_in_ns == 1695564623799685000LL);
	assert_true(f->ev->pong.time_out_ns == 1695564623799703000LL);

	ok(f, "{\"method\":\"pong\"}", KR_EV_PONG);
	assert_false(f->ev->pong.has_req_id);
	assert_int_equal(f->ev->pong.time_in_ns, 0);

	ok(f, "{\"method\":\"pong\",\"req_id\":18446744073709551615}", KR_EV_PONG);
	assert_true(f->ev->pong.req_id == UINT64_MAX);
}

static void test_acks(void **state)
{
	struct fx *f = *state;
	const struct kr_ack_event *a = &f->ev->ack;

	ok(f, SUB_ALGO, KR_EV_SUBSCRIBE);
	assert_true(a->success);
	assert_int_equal(a->channel, KR_CHANNEL_BOOK);
	assert_true(view_is(a->channel_text, "book"));
	assert_true(view_is(a->symbol, "ALGO/USD"));
	assert_int_equal(a->pair_id, KR_PAIR_NONE); /* not in the table: not an error */
	assert_int_equal(a->depth, 10);
	assert_true(a->snapshot);
	assert_false(a->has_req_id);
	assert_true(a->time_in_ns == 1696613755219022000LL);
	assert_true(a->time_out_ns == 1696613755219067000LL);

	ok(f, SUB_MATIC, KR_EV_SUBSCRIBE);
	assert_int_equal(a->pair_id, id_of(f, "MATIC/USD"));
	assert_int_not_equal(a->pair_id, KR_PAIR_NONE);

	ok(f, UNSUB_MATIC, KR_EV_UNSUBSCRIBE);
	assert_true(a->success);
	assert_true(view_is(a->symbol, "MATIC/USD"));

	ok(f, SUB_INSTRUMENT, KR_EV_SUBSCRIBE);
	assert_int_equal(a->channel, KR_CHANNEL_INSTRUMENT);
	assert_null(a->symbol.p);
	assert_int_equal(a->pair_id, KR_PAIR_NONE);
	assert_int_equal(a->n_warnings, 1);
	assert_true(a->has_req_id);
	assert_int_equal(a->req_id, 79);
	assert_int_equal(a->depth, 0);

	/* A failure: symbol at the top level, no result (PROTOCOL.md §1.1, §1.5). */
	ok(f,
	   "{\"error\":\"Currency pair not supported XBT/USD\",\"method\":\"subscribe\",\"req_id\":"
	   "42,\"success\":false,\"symbol\":\"XBT/"
	   "USD\",\"time_in\":\"2023-10-06T17:35:55.219022Z\","
	   "\"time_out\":\"2023-10-06T17:35:55.219067Z\"}",
	   KR_EV_SUBSCRIBE);
	assert_false(a->success);
	assert_true(view_is(a->error, "Currency pair not supported XBT/USD"));
	assert_true(view_is(a->symbol, "XBT/USD"));
	assert_null(a->channel_text.p);
	assert_int_equal(a->channel, KR_CHANNEL_OTHER);
	assert_int_equal(a->req_id, 42);
}

static void test_errors_and_unknown(void **state)
{
	struct fx *f = *state;
	struct kr_decoder_stats st;

	ok(f,
	   "{\"method\":\"add_order\",\"req_id\":7,\"success\":false,\"error\":\"EOrder:"
	   "Insufficient "
	   "funds\"}",
	   KR_EV_ERROR);
	assert_true(view_is(f->ev->error.method, "add_order"));
	assert_true(view_is(f->ev->error.error, "EOrder:Insufficient funds"));
	assert_int_equal(f->ev->error.req_id, 7);

	ok(f, "{\"error\":\"EGeneral:Invalid arguments\"}", KR_EV_ERROR);
	assert_null(f->ev->error.method.p);
	assert_true(view_is(f->ev->error.error, "EGeneral:Invalid arguments"));
	assert_false(f->ev->error.has_req_id);

	ok(f, TICKER, KR_EV_UNKNOWN);
	assert_true(view_is(f->ev->unknown.channel, "ticker"));
	assert_null(f->ev->unknown.method.p);

	ok(f, CANCEL_ALL, KR_EV_UNKNOWN);
	assert_true(view_is(f->ev->unknown.method, "cancel_all"));

	kr_decoder_stats(f->d, &st);
	assert_int_equal(st.unknown, 2);
	assert_string_equal(kr_event_kind_str(KR_EV_BOOK), "book");
}

static void test_book_snapshot_update(void **state)
{
	struct fx *f = *state;
	const struct kr_book_event *b = &f->ev->book;
	struct kr_level bids[10];

	ok(f, MATIC_SNAPSHOT, KR_EV_BOOK);
	assert_true(b->snapshot);
	assert_int_equal(b->pair_id, id_of(f, "MATIC/USD"));
	assert_int_equal(b->price_scale, 4);
	assert_int_equal(b->qty_scale, 8);
	assert_int_equal(b->n_bids, 10);
	assert_int_equal(b->n_asks, 10);
	assert_true(b->checksum == 2439117997u);
	assert_true(b->timestamp_ns == T_20231006_440295);
	for (int i = 0; i < 10; i++) {
		assert_true(b->bids[i].price == MATIC_BIDS[i].price);
		assert_true(b->bids[i].qty == MATIC_BIDS[i].qty);
		assert_true(b->asks[i].price == MATIC_ASKS[i].price);
		assert_true(b->asks[i].qty == MATIC_ASKS[i].qty);
	}
	/* "0.566" at precision 4 is 5660 and "18097.1547" at 8 is 1809715470000:
	 * the documented checksum comes out of the fixed-point tokens. */
	assert_true(b->bids[6].price == 5660);
	assert_true(crc_of(b->asks, b->n_asks, b->bids, b->n_bids) == b->checksum);

	memcpy(bids, b->bids, sizeof(bids));
	ok(f, MATIC_UPDATE, KR_EV_BOOK);
	assert_false(b->snapshot);
	assert_int_equal(b->n_bids, 1);
	assert_int_equal(b->n_asks, 0);
	assert_true(b->bids[0].price == 5657);
	assert_true(b->bids[0].qty == 109839475580);
	assert_true(b->checksum == 2114181697u);
	/* Replacing the level reproduces the documented update checksum. */
	bids[9] = b->bids[0];
	assert_true(crc_of(MATIC_ASKS, 10, bids, 10) == 2114181697u);
}

/* Number text the schema allows: strings, exponents, trailing zeros beyond
 * the precision, zero quantities; keys in any order, unknown keys skipped. */
static void test_book_number_forms(void **state)
{
	struct fx *f = *state;
	const struct kr_book_event *b = &f->ev->book;

	ok(f,
	   "{\"data\":[{\"timestamp\":\"2023-10-06T17:35:55.440295Z\",\"checksum\":0,\"asks\":[{"
	   "\"qty\":\"0\",\"x\":{\"y\":[1,{\"z\":null}]},\"price\":\"0.5668\"},{\"price\":5.668e-1,"
	   "\"qty\":1E+2},{\"price\":0.56690000000,\"qty\":0.000000010}],\"bids\":[],\"symbol\":"
	   "\"MATIC/USD\",\"extra\":[]}],\"type\":\"update\",\"channel\":\"book\"}",
	   KR_EV_BOOK);
	assert_int_equal(b->n_asks, 3);
	assert_int_equal(b->n_bids, 0);
	assert_true(b->asks[0].price == 5668 && b->asks[0].qty == 0);
	assert_true(b->asks[1].price == 5668 && b->asks[1].qty == 10000000000);
	assert_true(b->asks[2].price == 5669 && b->asks[2].qty == 1);
	assert_int_equal(b->checksum, 0);

	/* BTC/USD at price precision 1 (instrument example). */
	ok(f,
	   "{\"channel\":\"book\",\"type\":\"snapshot\",\"data\":[{\"symbol\":\"BTC/"
	   "USD\",\"bids\":[{"
	   "\"price\":45283.5,\"qty\":0.10000000}],\"asks\":[{\"price\":45285.2,\"qty\":0.001}],"
	   "\"checksum\":4294967295,\"timestamp\":\"2023-10-06T17:35:55Z\"}]}",
	   KR_EV_BOOK);
	assert_true(b->bids[0].price == 452835 && b->bids[0].qty == 10000000);
	assert_true(b->asks[0].price == 452852 && b->asks[0].qty == 100000);
	assert_true(b->checksum == UINT32_MAX);
	assert_int_equal(b->price_scale, 1);
}

static void test_instrument_snapshot(void **state)
{
	struct fx *f = *state;
	const struct kr_pair *btc, *mg, *mu;
	struct kr_decoder *d = kr_decoder_new(TOKENS);
	const struct kr_instrument_event *ie = &f->ev->instrument;

	/* The fixture decoded the two instrument frames; replay on a fresh one. */
	assert_non_null(d);
	assert_int_equal(
	    kr_decode(d, INSTRUMENT_SNAPSHOT, strlen(INSTRUMENT_SNAPSHOT), f->ev, NULL), 0);
	assert_int_equal(f->ev->kind, KR_EV_INSTRUMENT);
	assert_true(ie->snapshot);
	assert_int_equal(ie->n_assets, 3);
	assert_int_equal(ie->n_pairs, 2);
	assert_int_equal(ie->n_added, 2);
	assert_int_equal(ie->n_changed, 2);
	assert_int_equal(ie->changed[0], 0);
	assert_int_equal(ie->changed[1], 1);
	assert_false(ie->status_changed);
	assert_false(ie->precision_changed);
	assert_int_equal(kr_decoder_pair_count(d), 2);

	btc = kr_decoder_pair(d, kr_decoder_find(d, "BTC/USD", 7));
	assert_non_null(btc);
	assert_string_equal(btc->symbol, "BTC/USD");
	assert_string_equal(btc->base, "BTC");
	assert_string_equal(btc->quote, "USD");
	assert_int_equal(btc->status, KR_PAIR_STATUS_ONLINE);
	assert_int_equal(btc->price_precision, 1);
	assert_int_equal(btc->qty_precision, 8);
	assert_int_equal(btc->cost_precision, 5);
	assert_true(btc->price_increment == 1); /* 0.1 at 1 */
	assert_true(btc->qty_increment == 1);	/* 1e-08 at 8 */
	assert_true(btc->qty_min == 10000);	/* 0.0001 at 8 */
	assert_true(btc->cost_min == 50000);	/* 0.5 at 5 */

	mg = kr_decoder_pair(d, kr_decoder_find(d, "MATIC/GBP", 9));
	assert_non_null(mg);
	assert_int_equal(mg->id, 1);
	assert_int_equal(mg->price_precision, 4);
	assert_true(mg->price_increment == 1);
	assert_true(mg->qty_min == 400000000); /* 4.0 at 8 */
	assert_true(mg->cost_min == 430000);   /* 0.43 at 6 */
	kr_decoder_free(d);

	/* Strings everywhere (the fixture's MATIC/USD frame). */
	mu = kr_decoder_pair(f->d, id_of(f, "MATIC/USD"));
	assert_non_null(mu);
	assert_int_equal(mu->price_precision, 4);
	assert_int_equal(mu->qty_precision, 8);
	assert_true(mu->price_increment == 1);
	assert_true(mu->qty_increment == 1);
	assert_true(mu->qty_min == 400000000);
	assert_true(mu->cost_min == 50000);
	assert_string_equal(kr_pair_status_str(mu->status), "online");
}

#define PAIR_TAIL                                                                                  \
	"\"base\":\"BTC\",\"quote\":\"USD\",\"qty_precision\":8,\"qty_increment\":1e-08,"          \
	"\"price_increment\":0.1,\"qty_min\":0.0001,\"cost_min\":0.5"
#define INST(type, pairs)                                                                          \
	"{\"channel\":\"instrument\",\"type\":\"" type                                             \
	"\",\"data\":{\"assets\":[{\"id\":\"BTC\"}],"                                              \
	"\"pairs\":[" pairs "]}}"

static void test_instrument_updates(void **state)
{
	struct fx *f = *state;
	const struct kr_instrument_event *ie = &f->ev->instrument;
	uint32_t btc = id_of(f, "BTC/USD"), n = kr_decoder_pair_count(f->d);

	/* The same values again: nothing changed. */
	ok(f,
	   INST("update", "{\"symbol\":\"BTC/USD\",\"status\":\"online\",\"price_precision\":1,"
			  "\"cost_precision\":5," PAIR_TAIL "}"),
	   KR_EV_INSTRUMENT);
	assert_false(ie->snapshot);
	assert_int_equal(ie->n_changed, 0);
	assert_int_equal(ie->n_added, 0);

	/* A status change. */
	ok(f,
	   INST("update",
		"{\"symbol\":\"BTC/USD\",\"status\":\"cancel_only\",\"price_precision\":1,"
		"\"cost_precision\":5," PAIR_TAIL "}"),
	   KR_EV_INSTRUMENT);
	assert_int_equal(ie->n_changed, 1);
	assert_int_equal(ie->changed[0], btc);
	assert_true(ie->status_changed);
	assert_false(ie->precision_changed);
	assert_int_equal(kr_decoder_pair(f->d, btc)->status, KR_PAIR_STATUS_CANCEL_ONLY);

	/* A precision change; cost_precision absent defaults to price + qty. */
	ok(f,
	   INST(
	       "update",
	       "{\"symbol\":\"BTC/USD\",\"status\":\"cancel_only\",\"price_precision\":2," PAIR_TAIL
	       "}"),
	   KR_EV_INSTRUMENT);
	assert_int_equal(ie->n_changed, 1);
	assert_false(ie->status_changed);
	assert_true(ie->precision_changed);
	assert_int_equal(kr_decoder_pair(f->d, btc)->price_precision, 2);
	assert_int_equal(kr_decoder_pair(f->d, btc)->cost_precision, 10);
	assert_true(kr_decoder_pair(f->d, btc)->price_increment == 10);
	assert_int_equal(kr_decoder_pair_count(f->d), n);

	/* A status Kraken adds later: tolerated as UNKNOWN (not tradable). */
	ok(f,
	   INST("update",
		"{\"symbol\":\"NEW/USD\",\"status\":\"auction\",\"price_precision\":3," PAIR_TAIL
		"}"),
	   KR_EV_INSTRUMENT);
	assert_int_equal(ie->n_added, 1);
	assert_int_equal(kr_decoder_pair(f->d, n)->status, KR_PAIR_STATUS_UNKNOWN);

	/* A snapshot lists only BTC/USD: everything else becomes delisted. */
	ok(f,
	   INST("snapshot", "{\"symbol\":\"BTC/USD\",\"status\":\"online\",\"price_precision\":1,"
			    "\"cost_precision\":5," PAIR_TAIL "}"),
	   KR_EV_INSTRUMENT);
	assert_true(ie->snapshot);
	assert_true(ie->status_changed);
	assert_true(ie->precision_changed);
	assert_int_equal(ie->n_changed, n + 1);
	for (uint32_t id = 0; id <= n; id++)
		assert_int_equal(kr_decoder_pair(f->d, id)->status,
				 id == btc ? KR_PAIR_STATUS_ONLINE : KR_PAIR_STATUS_DELISTED);
	/* Ids are dense and stable. */
	assert_int_equal(id_of(f, "BTC/USD"), btc);
	assert_null(kr_decoder_pair(f->d, n + 1));
}

/* One bad pair rejects the message and leaves the table untouched. */
static void test_instrument_atomic(void **state)
{
	struct fx *f = *state;
	uint32_t n = kr_decoder_pair_count(f->d);
	int rc;

	rc = dec(f, INST("update", "{\"symbol\":\"AAA/USD\",\"status\":\"online\","
				   "\"price_precision\":1," PAIR_TAIL "},{\"symbol\":\"BBB/USD\","
				   "\"status\":\"online\",\"price_precision\":19," PAIR_TAIL "}"));
	assert_int_equal(rc, ERR_SCHEMA);
	assert_non_null(strstr(f->info.msg, "pairs[1].price_precision"));
	assert_int_equal(kr_decoder_pair_count(f->d), n);
	assert_int_equal(id_of(f, "AAA/USD"), KR_PAIR_NONE);
}

static void test_put_find(void **state)
{
	struct fx *f = *state;
	struct kr_pair p;
	uint32_t id, n = kr_decoder_pair_count(f->d);

	memset(&p, 0, sizeof(p));
	memcpy(p.symbol, "ETH/BTC", 8);
	memcpy(p.base, "ETH", 4);
	memcpy(p.quote, "BTC", 4);
	p.status = KR_PAIR_STATUS_POST_ONLY;
	p.price_precision = 5;
	p.qty_precision = 8;
	p.cost_precision = 8;
	p.price_increment = 1;
	p.qty_increment = 1;
	p.id = 12345;
	assert_int_equal(kr_decoder_put_pair(f->d, &p, &id), 0);
	assert_int_equal(id, n);
	assert_int_equal(kr_decoder_pair(f->d, id)->id, id);
	assert_int_equal(id_of(f, "ETH/BTC"), id);
	p.price_precision = 6;
	assert_int_equal(kr_decoder_put_pair(f->d, &p, &id), 0);
	assert_int_equal(id, n);
	assert_int_equal(kr_decoder_pair(f->d, n)->price_precision, 6);
	p.price_increment = 0;
	assert_int_equal(kr_decoder_put_pair(f->d, &p, NULL), ERR_SCHEMA);
	p.price_increment = 1;
	p.qty_precision = 19;
	assert_int_equal(kr_decoder_put_pair(f->d, &p, NULL), ERR_SCHEMA);

	assert_int_equal(kr_decoder_find(f->d, "ETH/BT", 6), KR_PAIR_NONE);
	assert_int_equal(kr_decoder_find(f->d, "ETH/BTCX", 8), KR_PAIR_NONE);
	assert_int_equal(kr_decoder_find(f->d, "ETH/BTC\0", 8), KR_PAIR_NONE);
	assert_int_equal(kr_decoder_find(f->d, "", 0), KR_PAIR_NONE);

	/* Fill the table to capacity: the next new symbol is ERR_FULL. */
	for (uint32_t i = kr_decoder_pair_count(f->d); i < KR_MAX_PAIRS; i++) {
		int k = snprintf(p.symbol, sizeof(p.symbol), "S%u/USD", i);

		assert_true(k > 0);
		p.qty_precision = 8;
		assert_int_equal(kr_decoder_put_pair(f->d, &p, &id), 0);
		assert_int_equal(id, i);
	}
	for (uint32_t i = n + 1; i < KR_MAX_PAIRS; i += 97) {
		char s[32];
		int k = snprintf(s, sizeof(s), "S%u/USD", i);

		assert_int_equal(kr_decoder_find(f->d, s, (size_t)k), i);
	}
	memcpy(p.symbol, "ONE/MORE", 9);
	assert_int_equal(kr_decoder_put_pair(f->d, &p, NULL), ERR_FULL);
	assert_int_equal(dec(f, INST("update", "{\"symbol\":\"TWO/MORE\",\"status\":\"online\","
					       "\"price_precision\":1," PAIR_TAIL "}")),
			 ERR_FULL);
	assert_non_null(strstr(f->info.msg, "table full"));
	/* Known symbols still update when the table is full. */
	ok(f,
	   INST("update",
		"{\"symbol\":\"BTC/USD\",\"status\":\"online\",\"price_precision\":1," PAIR_TAIL
		"}"),
	   KR_EV_INSTRUMENT);
}

/* ---- malformed frames ------------------------------------------------------- */

#define TS	       "\"timestamp\":\"2023-10-06T17:35:55.440295Z\""
#define BOOK_HEAD      "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"MATIC/USD\","
#define BK(bids, asks) BOOK_HEAD "\"bids\":" bids ",\"asks\":" asks ",\"checksum\":1," TS "}]}"
#define BKC(cks)       BOOK_HEAD "\"bids\":[],\"asks\":[],\"checksum\":" cks "," TS "}]}"
#define LV(p, q)       "[{\"price\":" p ",\"qty\":" q "}]"
#define PR(fields)                                                                                 \
	INST("update", "{\"symbol\":\"X/USD\",\"base\":\"X\",\"quote\":\"USD\",\"status\":"        \
		       "\"online\"," fields "}")
#define PR_OK_NUMS                                                                                 \
	"\"price_precision\":2,\"qty_precision\":8,\"price_increment\":0.01,\"qty_increment\":"    \
	"1e-08,\"qty_min\":0.1,\"cost_min\":0.5"

static const struct bad {
	const char *frame;
	int rc;
	enum kr_decode_reason reason;
	const char *msg; /* a substring of err_info.msg */
} bad[] = {
    /* Not JSON, or not all of it. */
    {"", ERR_PARSE, KR_DECODE_JSON, "empty"},
    {"   \n", ERR_PARSE, KR_DECODE_JSON, "no JSON"},
    {"hello", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\"", ERR_PARSE, KR_DECODE_JSON, "truncated"},
    {"{\"channel\":\"heartbe", ERR_PARSE, KR_DECODE_JSON, "truncated"},
    {"{\"channel\":\"heartbeat\"}}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\"]", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\"}{\"channel\":\"heartbeat\"}", ERR_PARSE, KR_DECODE_JSON,
     "bytes after"},
    {"{\"channel\":\"heartbeat\"} x", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\" \"x\"}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":\"b\":1}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":[\"b\":1]}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":{\"b\"}}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":{\"b\":}}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":{\"b\":1,\"c\"}}", ERR_PARSE, KR_DECODE_JSON,
     "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":{1:2}}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":{[1]:2}}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":[\"b\":1]}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":{\"b\"}}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":{\"b\":}}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heartbeat\",\"a\":{1:2}}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":+1}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"{\"channel\":\"heart\\qbeat\"}", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"\x01\xff\xfe", ERR_PARSE, KR_DECODE_JSON, "invalid JSON"},
    {"123", ERR_PARSE, KR_DECODE_JSON, "truncated"},
    /* Well-formed, wrong shape. */
    {"123 ", ERR_SCHEMA, KR_DECODE_SCHEMA, "expected an object"},
    {"[1,2]", ERR_SCHEMA, KR_DECODE_SCHEMA, "expected an object"},
    {"\"heartbeat\"", ERR_SCHEMA, KR_DECODE_SCHEMA, "expected an object"},
    {"{}", ERR_SCHEMA, KR_DECODE_SCHEMA, "no channel, method or error"},
    {"{\"channel\":5}", ERR_SCHEMA, KR_DECODE_SCHEMA, "channel: wrong type"},
    {"{\"channel\":\"heartbeat\",\"channel\":\"book\"}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "duplicate key 'channel'"},
    {"{\"method\":[\"pong\"]}", ERR_SCHEMA, KR_DECODE_SCHEMA, "method: wrong type"},
    {"{\"method\":\"pong\",\"req_id\":\"101\"}", ERR_SCHEMA, KR_DECODE_SCHEMA, "req_id"},
    {"{\"method\":\"pong\",\"req_id\":-1}", ERR_SCHEMA, KR_DECODE_RANGE, "req_id"},
    {"{\"method\":\"pong\",\"req_id\":1.5}", ERR_PARSE, KR_DECODE_NUMBER, "req_id"},
    {"{\"method\":\"pong\",\"req_id\":18446744073709551616}", ERR_SCHEMA, KR_DECODE_RANGE,
     "req_id"},
    {"{\"method\":\"pong\",\"time_in\":\"yesterday\"}", ERR_PARSE, KR_DECODE_NUMBER, "time_in"},
    {"{\"method\":\"pong\",\"success\":\"true\"}", ERR_SCHEMA, KR_DECODE_SCHEMA, "success"},
    {"{\"method\":\"pong\",\"success\":tru}", ERR_SCHEMA, KR_DECODE_SCHEMA, "success"},
    {"{\"method\":\"subscribe\",\"result\":{\"channel\":\"book\"}}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "missing success"},
    {"{\"method\":\"subscribe\",\"success\":true}", ERR_SCHEMA, KR_DECODE_SCHEMA, "missing result"},
    {"{\"method\":\"subscribe\",\"success\":false}", ERR_SCHEMA, KR_DECODE_SCHEMA, "without error"},
    {"{\"method\":\"subscribe\",\"success\":true,\"result\":{\"symbol\":\"A/B\"}}", ERR_SCHEMA,
     KR_DECODE_SCHEMA, "missing channel"},
    {"{\"method\":\"subscribe\",\"success\":true,\"result\":{\"channel\":\"book\",\"depth\":"
     "4294967296}}",
     ERR_SCHEMA, KR_DECODE_RANGE, "depth"},
    {"{\"method\":\"unsubscribe\",\"success\":true,\"result\":[]}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "unsubscribe result"},
    {"{\"error\":[\"EGeneral:Invalid arguments\"]}", ERR_SCHEMA, KR_DECODE_SCHEMA, "error"},
    {"{\"channel\":\"status\"}", ERR_SCHEMA, KR_DECODE_SCHEMA, "missing data"},
    {"{\"channel\":\"status\",\"data\":[]}", ERR_SCHEMA, KR_DECODE_SCHEMA, "non-empty array"},
    {"{\"channel\":\"status\",\"data\":[{\"api_version\":\"v2\"}]}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "missing system"},
    {"{\"channel\":\"status\",\"data\":[{\"system\":1}]}", ERR_SCHEMA, KR_DECODE_SCHEMA, "system"},
    {"{\"channel\":\"status\",\"data\":[{\"system\":\"online\",\"connection_id\":"
     "18446744073709551616}]}",
     ERR_SCHEMA, KR_DECODE_RANGE, "connection_id"},
    {"{\"channel\":\"status\",\"data\":[{\"system\":\"online\",\"connection_id\":-5}]}", ERR_SCHEMA,
     KR_DECODE_RANGE, "connection_id"},
    {"{\"channel\":\"status\",\"data\":[{\"system\":\"online\",\"connection_id\":1e3}]}", ERR_PARSE,
     KR_DECODE_NUMBER, "connection_id"},
    /* Books. */
    {"{\"channel\":\"book\",\"data\":[]}", ERR_SCHEMA, KR_DECODE_SCHEMA, "missing type"},
    {"{\"channel\":\"book\",\"type\":\"delta\",\"data\":[]}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "book type"},
    {"{\"channel\":\"book\",\"type\":\"update\"}", ERR_SCHEMA, KR_DECODE_SCHEMA, "missing data"},
    {"{\"channel\":\"book\",\"type\":\"update\",\"data\":{}}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "one element"},
    {"{\"channel\":\"book\",\"type\":\"update\",\"data\":[{},{}]}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "one element"},
    {"{\"channel\":\"book\",\"type\":\"update\",\"data\":[[]]}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "expected an object"},
    {"{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"bids\":[],\"asks\":[],\"checksum\":"
     "1," TS "}]}",
     ERR_SCHEMA, KR_DECODE_SCHEMA, "missing symbol"},
    {BOOK_HEAD "\"asks\":[],\"checksum\":1," TS "}]}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "missing bids"},
    {BOOK_HEAD "\"bids\":[],\"checksum\":1," TS "}]}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "missing asks"},
    {BOOK_HEAD "\"bids\":[],\"asks\":[]," TS "}]}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "missing checksum"},
    {BOOK_HEAD "\"bids\":[],\"asks\":[],\"checksum\":1}]}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "missing timestamp"},
    {BOOK_HEAD "\"bids\":[],\"bids\":[],\"asks\":[],\"checksum\":1," TS "}]}", ERR_SCHEMA,
     KR_DECODE_SCHEMA, "duplicate key"},
    {"{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"XBT/USD\",\"bids\":[],"
     "\"asks\":[],\"checksum\":1," TS "}]}",
     ERR_SCHEMA, KR_DECODE_SYMBOL, "unknown 'XBT/USD'"},
    {"{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":\"matic/usd\",\"bids\":[],"
     "\"asks\":[],\"checksum\":1," TS "}]}",
     ERR_SCHEMA, KR_DECODE_SYMBOL, "unknown"},
    {"{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":7,\"bids\":[],"
     "\"asks\":[],\"checksum\":1," TS "}]}",
     ERR_SCHEMA, KR_DECODE_SCHEMA, "book symbol: wrong type"},
    {BKC("4294967296"), ERR_SCHEMA, KR_DECODE_RANGE, "checksum"},
    {BKC("99999999999999999999999"), ERR_SCHEMA, KR_DECODE_RANGE, "checksum"},
    {BKC("-1"), ERR_SCHEMA, KR_DECODE_RANGE, "checksum"},
    {BKC("1.0"), ERR_PARSE, KR_DECODE_NUMBER, "checksum"},
    {BKC("01"), ERR_PARSE, KR_DECODE_NUMBER, "checksum"},
    {BKC("\"2439117997\""), ERR_SCHEMA, KR_DECODE_SCHEMA, "checksum"},
    {BKC("null"), ERR_SCHEMA, KR_DECODE_SCHEMA, "checksum"},
    {BOOK_HEAD "\"bids\":[],\"asks\":[],\"checksum\":1,\"timestamp\":\"2023-13-06T17:35:55Z\"}]}",
     ERR_PARSE, KR_DECODE_NUMBER, "timestamp"},
    {BOOK_HEAD "\"bids\":[],\"asks\":[],\"checksum\":1,\"timestamp\":1696613755}]}", ERR_SCHEMA,
     KR_DECODE_SCHEMA, "timestamp"},
    {BK("{}", "[]"), ERR_SCHEMA, KR_DECODE_SCHEMA, "book bids: wrong type"},
    {BK("[]", "[[0.5,1]]"), ERR_SCHEMA, KR_DECODE_SCHEMA, "asks[0]: expected an object"},
    {BK("[{\"price\":0.5}]", "[]"), ERR_SCHEMA, KR_DECODE_SCHEMA, "bids[0]: missing qty"},
    {BK("[{\"qty\":0.5}]", "[]"), ERR_SCHEMA, KR_DECODE_SCHEMA, "bids[0]: missing price"},
    {BK("[{\"price\":0.5,\"qty\":1,\"price\":0.6}]", "[]"), ERR_SCHEMA, KR_DECODE_SCHEMA,
     "duplicate"},
    {BK("[]", "[{\"price\":0.5,\"qty\":1},{\"price\":0.5}]"), ERR_SCHEMA, KR_DECODE_SCHEMA,
     "asks[1]: missing qty"},
    {BK(LV("{}", "1"), "[]"), ERR_SCHEMA, KR_DECODE_SCHEMA, "bids[0].price (MATIC/USD): wrong"},
    {BK(LV("[0.5]", "1"), "[]"), ERR_SCHEMA, KR_DECODE_SCHEMA, "bids[0].price"},
    {BK(LV("true", "1"), "[]"), ERR_SCHEMA, KR_DECODE_SCHEMA, "bids[0].price"},
    {BK(LV("null", "1"), "[]"), ERR_SCHEMA, KR_DECODE_SCHEMA, "bids[0].price"},
    {BK(LV("nan", "1"), "[]"), ERR_SCHEMA, KR_DECODE_SCHEMA, "bids[0].price"},
    {BK(LV("0.5", "false"), "[]"), ERR_SCHEMA, KR_DECODE_SCHEMA, "bids[0].qty"},
    {BK(LV("\"abc\"", "1"), "[]"), ERR_PARSE, KR_DECODE_NUMBER, "malformed value 'abc'"},
    {BK(LV("\"\"", "1"), "[]"), ERR_PARSE, KR_DECODE_NUMBER, "bids[0].price"},
    {BK(LV("01.5", "1"), "[]"), ERR_PARSE, KR_DECODE_NUMBER, "bids[0].price"},
    {BK(LV("1.", "1"), "[]"), ERR_PARSE, KR_DECODE_NUMBER, "bids[0].price"},
    {BK(LV("1e", "1"), "[]"), ERR_PARSE, KR_DECODE_NUMBER, "bids[0].price"},
    {BK(LV("0.5.5", "1"), "[]"), ERR_PARSE, KR_DECODE_NUMBER, "bids[0].price"},
    {BK(LV("0x10", "1"), "[]"), ERR_PARSE, KR_DECODE_NUMBER, "bids[0].price"},
    {BK(LV("-", "1"), "[]"), ERR_PARSE, KR_DECODE_NUMBER, "bids[0].price"},
    {BK(LV("\" 0.5\"", "1"), "[]"), ERR_PARSE, KR_DECODE_NUMBER, "bids[0].price"},
    {BK(LV("0.56661", "1"), "[]"), ERR_SCHEMA, KR_DECODE_RANGE,
     "bids[0].price (MATIC/USD): 0.56661 has more than 4 decimals"},
    {BK("[]", LV("0.5666", "1.000000001")), ERR_SCHEMA, KR_DECODE_RANGE,
     "asks[0].qty (MATIC/USD): 1.000000001 has more than 8 decimals"},
    {BK(LV("5666e-8", "1"), "[]"), ERR_SCHEMA, KR_DECODE_RANGE, "more than 4 decimals"},
    {BK(LV("0", "1"), "[]"), ERR_SCHEMA, KR_DECODE_RANGE, "bids[0].price"},
    {BK(LV("-0.5", "1"), "[]"), ERR_SCHEMA, KR_DECODE_RANGE, "bids[0].price"},
    {BK(LV("0.5", "-1"), "[]"), ERR_SCHEMA, KR_DECODE_RANGE, "bids[0].qty"},
    {BK(LV("1e400", "1"), "[]"), ERR_SCHEMA, KR_DECODE_RANGE, "bids[0].price"},
    {BK(LV("922337203685477.5808", "1"), "[]"), ERR_SCHEMA, KR_DECODE_RANGE, "bids[0].price"},
    {BK(LV("123456789012345678901234567890", "1"), "[]"), ERR_SCHEMA, KR_DECODE_RANGE,
     "bids[0].price"},
    /* Instruments. */
    {"{\"channel\":\"instrument\",\"type\":\"update\",\"data\":[]}", ERR_SCHEMA, KR_DECODE_SCHEMA,
     "instrument data: wrong type"},
    {"{\"channel\":\"instrument\",\"type\":\"update\",\"data\":{\"assets\":[]}}", ERR_SCHEMA,
     KR_DECODE_SCHEMA, "missing pairs"},
    {"{\"channel\":\"instrument\",\"data\":{\"assets\":[],\"pairs\":[]}}", ERR_SCHEMA,
     KR_DECODE_SCHEMA, "missing type"},
    {"{\"channel\":\"instrument\",\"type\":\"update\",\"data\":{\"assets\":[1],\"pairs\":[]}}",
     ERR_SCHEMA, KR_DECODE_SCHEMA, "assets[0]"},
    {"{\"channel\":\"instrument\",\"type\":\"update\",\"data\":{\"assets\":[],\"pairs\":{}}}",
     ERR_SCHEMA, KR_DECODE_SCHEMA, "instrument pairs: wrong type"},
    {"{\"channel\":\"instrument\",\"type\":\"update\",\"data\":{\"assets\":[],\"pairs\":[7]}}",
     ERR_SCHEMA, KR_DECODE_SCHEMA, "pairs[0]: wrong type"},
    {PR("\"price_precision\":2,\"qty_precision\":8,\"price_increment\":0.01,\"qty_increment\":"
	"1e-08,\"qty_min\":0.1"),
     ERR_SCHEMA, KR_DECODE_SCHEMA, "pairs[0]: missing cost_min"},
    {PR("\"price_precision\":19,\"qty_precision\":8,\"price_increment\":0.01,\"qty_increment\":"
	"1e-08,\"qty_min\":0.1,\"cost_min\":0.5"),
     ERR_SCHEMA, KR_DECODE_RANGE, "price_precision"},
    {PR("\"price_precision\":2.0,\"qty_precision\":8,\"price_increment\":0.01,\"qty_increment\""
	":1e-08,\"qty_min\":0.1,\"cost_min\":0.5"),
     ERR_PARSE, KR_DECODE_NUMBER, "price_precision"},
    {PR("\"price_precision\":-1,\"qty_precision\":8,\"price_increment\":0.01,\"qty_increment\":"
	"1e-08,\"qty_min\":0.1,\"cost_min\":0.5"),
     ERR_SCHEMA, KR_DECODE_RANGE, "price_precision"},
    {PR("\"price_precision\":2,\"qty_precision\":8,\"price_increment\":0.01,\"qty_increment\":"
	"1e-09,\"qty_min\":0.1,\"cost_min\":0.5"),
     ERR_SCHEMA, KR_DECODE_RANGE, "qty_increment (X/USD): 1e-09 has more than 8 decimals"},
    {PR("\"price_precision\":2,\"qty_precision\":8,\"price_increment\":0,\"qty_increment\":"
	"1e-08,\"qty_min\":0.1,\"cost_min\":0.5"),
     ERR_SCHEMA, KR_DECODE_RANGE, "price_increment"},
    {PR("\"price_precision\":2,\"qty_precision\":8,\"price_increment\":0.01,\"qty_increment\":"
	"1e-08,\"qty_min\":-0.1,\"cost_min\":0.5"),
     ERR_SCHEMA, KR_DECODE_RANGE, "qty_min"},
    {PR("\"price_precision\":2,\"qty_precision\":8,\"price_increment\":0.01,\"qty_increment\":"
	"1e-08,\"qty_min\":0.1,\"cost_min\":{}"),
     ERR_SCHEMA, KR_DECODE_SCHEMA, "cost_min"},
    {PR("\"price_precision\":2,\"qty_precision\":8,\"price_increment\":0.01,\"qty_increment\":"
	"1e-08,\"qty_min\":0.1,\"cost_min\":0.5,\"qty_min\":1"),
     ERR_SCHEMA, KR_DECODE_SCHEMA, "duplicate key 'qty_min'"},
    {PR("\"status\":\"online\"," PR_OK_NUMS), ERR_SCHEMA, KR_DECODE_SCHEMA,
     "duplicate key 'status'"},
    {INST("update",
	  "{\"symbol\":\"X/USD\",\"base\":\"X\",\"quote\":\"USD\",\"status\":1," PR_OK_NUMS "}"),
     ERR_SCHEMA, KR_DECODE_SCHEMA, "pairs[0].status"},
    {INST("update", "{\"symbol\":\"X /USD\",\"base\":\"X\",\"quote\":\"USD\",\"status\":"
		    "\"online\"," PR_OK_NUMS "}"),
     ERR_SCHEMA, KR_DECODE_SCHEMA, "pairs[0].symbol"},
    {INST("update", "{\"symbol\":\"\",\"base\":\"X\",\"quote\":\"USD\",\"status\":"
		    "\"online\"," PR_OK_NUMS "}"),
     ERR_SCHEMA, KR_DECODE_SCHEMA, "pairs[0].symbol"},
    {INST("update", "{\"symbol\":\"X\\\"/USD\",\"base\":\"X\",\"quote\":\"USD\",\"status\":"
		    "\"online\"," PR_OK_NUMS "}"),
     ERR_SCHEMA, KR_DECODE_SCHEMA, "pairs[0].symbol"},
    {INST("update", "{\"symbol\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ/ABCDEFGHIJKLMNOPQRSTUVWXYZ\","
		    "\"base\":\"X\",\"quote\":\"USD\",\"status\":\"online\"," PR_OK_NUMS "}"),
     ERR_FULL, KR_DECODE_CAPACITY, "pairs[0].symbol: longer than 47"},
    {INST("update", "{\"symbol\":\"X/USD\",\"base\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ\",\"quote\":"
		    "\"USD\",\"status\":\"online\"," PR_OK_NUMS "}"),
     ERR_FULL, KR_DECODE_CAPACITY, "pairs[0].base"},
};

static void test_malformed(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad *b = &bad[i];
		struct kr_decoder_stats before, after;
		uint32_t npairs = kr_decoder_pair_count(f->d);
		int rc;

		kr_decoder_stats(f->d, &before);
		f->ev->kind = KR_EV_HEARTBEAT;
		rc = dec(f, b->frame);
		kr_decoder_stats(f->d, &after);
		if (rc != b->rc || !strstr(f->info.msg, b->msg) ||
		    after.dropped[b->reason] != before.dropped[b->reason] + 1)
			print_error("case %zu: %s\n  rc %d (want %d), reason %s, msg '%s' (want "
				    "'%s')\n",
				    i, b->frame, rc, b->rc, kr_decode_reason_str(b->reason),
				    f->info.msg, b->msg);
		assert_int_equal(rc, b->rc);
		assert_int_equal(f->info.code, b->rc);
		assert_int_equal(f->ev->kind, KR_EV_NONE);
		assert_non_null(strstr(f->info.msg, b->msg));
		assert_int_equal(after.frames, before.frames + 1);
		assert_int_equal(after.decoded, before.decoded);
		for (int r = 0; r < KR_DECODE__COUNT; r++)
			assert_int_equal(after.dropped[r],
					 before.dropped[r] + (r == (int)b->reason ? 1 : 0));
		assert_int_equal(kr_decoder_pair_count(f->d), npairs);
		/* The decoder is still usable. */
		ok(f, HEARTBEAT, KR_EV_HEARTBEAT);
	}
	/* A NULL err_info is fine. */
	assert_int_equal(kr_decode(f->d, "{", 1, f->ev, NULL), ERR_PARSE);
}

/* Every proper prefix of a valid frame is truncated JSON. */
static void test_truncated(void **state)
{
	struct fx *f = *state;
	const char *frames[] = {MATIC_SNAPSHOT, MATIC_UPDATE,	STATUS,
				PONG,		SUB_INSTRUMENT, INSTRUMENT_SNAPSHOT};

	for (size_t k = 0; k < sizeof(frames) / sizeof(frames[0]); k++) {
		size_t n = strlen(frames[k]);
		char *copy = malloc(n);

		assert_non_null(copy);
		for (size_t len = 0; len < n; len++) {
			/* An exact-size copy, so ASan sees any read past len. */
			memcpy(copy, frames[k], len);
			assert_int_equal(kr_decode(f->d, copy, len, f->ev, &f->info), ERR_PARSE);
			assert_int_equal(f->ev->kind, KR_EV_NONE);
		}
		free(copy);
	}
}

/* A NUL inside the frame ends jsmn's scan; the decoder notices. */
static void test_embedded_nul(void **state)
{
	struct fx *f = *state;
	static const char frame[] = "{\"channel\":\"heartbeat\"}\0{\"x\":1}";

	assert_int_equal(kr_decode(f->d, frame, sizeof(frame) - 1, f->ev, &f->info), ERR_PARSE);
	assert_non_null(strstr(f->info.msg, "bytes after"));
	assert_int_equal(kr_decode(f->d, frame, 10, f->ev, &f->info), ERR_PARSE);
}

static char *nested(const char *head, size_t depth, const char *tail)
{
	size_t hn = strlen(head), tn = strlen(tail);
	char *s = malloc(hn + 2 * depth + tn + 1);

	assert_non_null(s);
	memcpy(s, head, hn);
	memset(s + hn, '[', depth);
	memset(s + hn + depth, ']', depth);
	memcpy(s + hn + 2 * depth, tail, tn + 1);
	return s;
}

static void test_deep_nesting(void **state)
{
	struct fx *f = *state;
	char *s;

	/* Unknown keys may nest; the decoder skips them without recursion. */
	s = nested("{\"channel\":\"heartbeat\",\"x\":", 20, "}");
	ok(f, s, KR_EV_HEARTBEAT);
	free(s);
	s = nested(BOOK_HEAD "\"x\":", 30, ",\"bids\":[],\"asks\":[],\"checksum\":1," TS "}]}");
	ok(f, s, KR_EV_BOOK);
	free(s);

	/* The bound is the same whether a frame is checked before tokenizing
	 * (long) or after (short): 64 containers pass, 65 do not. */
	for (size_t pad = 0; pad <= 1024; pad += 1024) {
		static const char pre[] = "{\"channel\":\"heartbeat\",\"pad\":\"";
		static const char post[] = "\",\"x\":";
		char head[1100];

		memset(head, 0, sizeof(head));
		memcpy(head, pre, sizeof(pre) - 1);
		memset(head + sizeof(pre) - 1, '[', pad); /* brackets in a string do not nest */
		memcpy(head + sizeof(pre) - 1 + pad, post, sizeof(post) - 1);
		s = nested(head, KR_MAX_NESTING - 1, "}");
		assert_true(strlen(s) > 512 || pad == 0);
		ok(f, s, KR_EV_HEARTBEAT);
		free(s);
		s = nested(head, KR_MAX_NESTING, "}");
		assert_int_equal(dec(f, s), ERR_FULL);
		assert_non_null(strstr(f->info.msg, "nested deeper than 64"));
		free(s);
	}

	/* Far deeper than any Kraken message: refused, quickly. */
	s = nested("{\"channel\":\"heartbeat\",\"x\":", 50000, "}");
	assert_int_equal(dec(f, s), ERR_FULL);
	free(s);
	s = nested("{\"channel\":\"heartbeat\",\"x\":", 200, "}"); /* short: after tokenizing */
	assert_true(strlen(s) < 512);
	assert_int_equal(dec(f, s), ERR_FULL);
	free(s);
	s = nested("", 1000000, "");
	assert_true(dec(f, s) < 0);
	free(s);
	s = nested("", 1000000, "");
	s[1000000] = '\0'; /* only the opening brackets */
	assert_true(dec(f, s) < 0);
	free(s);
}

static void test_token_capacity(void **state)
{
	struct kr_decoder *d = kr_decoder_new(16);
	struct kr_event *ev = malloc(sizeof(*ev));
	struct err_info info;
	struct kr_decoder_stats st;

	(void)state;
	assert_non_null(d);
	assert_non_null(ev);
	assert_int_equal(kr_decode(d, MATIC_SNAPSHOT, strlen(MATIC_SNAPSHOT), ev, &info), ERR_FULL);
	assert_non_null(strstr(info.msg, "more than 16 JSON tokens"));
	assert_int_equal(kr_decode(d, HEARTBEAT, strlen(HEARTBEAT), ev, &info), 0);
	kr_decoder_stats(d, &st);
	assert_int_equal(st.dropped[KR_DECODE_TOKENS], 1);
	check_stats(d);
	kr_decoder_free(d);
	kr_decoder_free(NULL);
	assert_null(kr_decoder_new((size_t)1 << 27));
	free(ev);
}

/* A depth-1000 snapshot, and one level too many. */
static char *big_book(int levels)
{
	size_t cap = 128 + (size_t)levels * 2 * 64, n;
	char *s = malloc(cap);
	int k;

	assert_non_null(s);
	k = snprintf(s, cap,
		     "{\"channel\":\"book\",\"type\":\"snapshot\",\"data\":[{\"symbol\":"
		     "\"BTC/USD\",\"bids\":[");
	n = (size_t)k;
	for (int side = 0; side < 2; side++) {
		for (int i = 0; i < levels; i++) {
			/* Bids 50000.0 down by 0.1, asks 50000.1 up; qty i + 1 satoshi. */
			long p = side ? 500001 + i : 500000 - i;

			k = snprintf(s + n, cap - n, "%s{\"price\":%ld.%ld,\"qty\":0.%08d}",
				     i ? "," : "", p / 10, p % 10, i + 1);
			n += (size_t)k;
		}
		k = snprintf(s + n, cap - n, "%s", side ? "]," : "],\"asks\":[");
		n += (size_t)k;
	}
	k = snprintf(s + n, cap - n, "\"checksum\":3310070434," TS "}]}");
	assert_true((size_t)k < cap - n);
	return s;
}

static void test_book_1000_levels(void **state)
{
	struct fx *f = *state;
	const struct kr_book_event *b = &f->ev->book;
	char *s = big_book(KR_MAX_LEVELS);

	ok(f, s, KR_EV_BOOK);
	assert_int_equal(b->n_bids, KR_MAX_LEVELS);
	assert_int_equal(b->n_asks, KR_MAX_LEVELS);
	for (int i = 0; i < KR_MAX_LEVELS; i++) {
		assert_true(b->bids[i].price == 500000 - i);
		assert_true(b->asks[i].price == 500001 + i);
		assert_true(b->bids[i].qty == i + 1);
		assert_true(b->asks[i].qty == i + 1);
	}
	assert_true(b->checksum == 3310070434u);
	free(s);

	s = big_book(KR_MAX_LEVELS + 1);
	assert_int_equal(dec(f, s), ERR_FULL);
	assert_non_null(strstr(f->info.msg, "1001 levels"));
	free(s);
}

/* Random damage to valid frames: any result but a crash, and every call is
 * counted once. Deterministic. */
static void test_mutations(void **state)
{
	struct fx *f = *state;
	const char *frames[] = {MATIC_SNAPSHOT, MATIC_UPDATE,	     STATUS,   PONG,
				SUB_MATIC,	INSTRUMENT_SNAPSHOT, HEARTBEAT};
	static const char alphabet[] = "{}[]\":,\\0123456789.-+eE tfnu\x00\xff";
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (int iter = 0; iter < 30000; iter++) {
		const char *src = frames[(size_t)iter % (sizeof(frames) / sizeof(frames[0]))];
		size_t n = strlen(src);
		char *s = malloc(n);
		int muts;

		assert_non_null(s);
		memcpy(s, src, n);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		muts = 1 + (int)(x % 4);
		for (int m = 0; m < muts; m++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			s[(x >> 8) % n] = alphabet[(x >> 40) % (sizeof(alphabet) - 1)];
		}
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (x % 5 == 0)
			n = (size_t)(x >> 16) % n;
		(void)kr_decode(f->d, s, n, f->ev, &f->info);
		free(s);
	}
	check_stats(f->d);
	ok(f, MATIC_UPDATE, KR_EV_BOOK);
}

/* ---- the raw documented text from vectors.json ------------------------------- */

struct vec {
	char *js;
	jsmntok_t *tok;
	int n;
};

static int vskip(const struct vec *v, int i)
{
	int pending = 1;

	while (pending > 0 && i < v->n) {
		pending += v->tok[i].size - 1;
		i++;
	}
	return i;
}

/* The value of key in the object at obj, or -1. */
static int vget(const struct vec *v, int obj, const char *key)
{
	int i = obj + 1;

	for (int k = 0; k < v->tok[obj].size; k++) {
		const jsmntok_t *t = &v->tok[i];

		if ((size_t)(t->end - t->start) == strlen(key) &&
		    memcmp(v->js + t->start, key, strlen(key)) == 0)
			return i + 1;
		i = vskip(v, i + 1);
	}
	return -1;
}

/* The element of the array at arr whose "id" is id. */
static int vfind(const struct vec *v, int arr, const char *id)
{
	int i = arr + 1;

	for (int k = 0; k < v->tok[arr].size; k++) {
		int idv = vget(v, i, "id");

		if (idv >= 0 && (size_t)(v->tok[idv].end - v->tok[idv].start) == strlen(id) &&
		    memcmp(v->js + v->tok[idv].start, id, strlen(id)) == 0)
			return i;
		i = vskip(v, i);
	}
	fail_msg("vector %s not found", id);
	return -1;
}

static void load_vectors(struct vec *v)
{
	FILE *fp = fopen(TEST_DATA_DIR "/kraken/vectors.json", "rb");
	long len;
	jsmn_parser p;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len > 0);
	rewind(fp);
	v->js = malloc((size_t)len);
	v->tok = malloc(100000 * sizeof(*v->tok));
	assert_non_null(v->js);
	assert_non_null(v->tok);
	assert_int_equal(fread(v->js, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	jsmn_init(&p);
	v->n = jsmn_parse(&p, v->js, (size_t)len, v->tok, 100000);
	assert_true(v->n > 0);
}

/* Decodes the pretty-printed text of the value at token i as a frame. */
static void decode_raw(struct fx *f, const struct vec *v, int i, enum kr_event_kind kind)
{
	size_t n = (size_t)(v->tok[i].end - v->tok[i].start);
	char *copy = malloc(n);
	int rc;

	assert_non_null(copy);
	memcpy(copy, v->js + v->tok[i].start, n);
	rc = kr_decode(f->d, copy, n, f->ev, &f->info);
	if (rc)
		print_error("%d: %s\n", rc, f->info.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(f->ev->kind, kind);
	free(copy); /* views die with the frame; results below use copied ints */
}

static void test_vectors_file(void **state)
{
	struct fx *f = *state;
	struct vec v;
	int pe, bc, e, r;

	load_vectors(&v);
	pe = vget(&v, 0, "protocol_examples");
	bc = vget(&v, 0, "book_checksum");
	assert_true(pe > 0 && bc > 0);

	e = vfind(&v, pe, "ws_v2_status");
	decode_raw(f, &v, vget(&v, e, "message"), KR_EV_STATUS);
	assert_true(f->ev->status.connection_id == 13834774380200032777ull);
	assert_int_equal(f->ev->status.system, KR_SYSTEM_ONLINE);

	e = vfind(&v, pe, "ws_v2_heartbeat");
	decode_raw(f, &v, vget(&v, e, "message"), KR_EV_HEARTBEAT);

	e = vfind(&v, pe, "ws_v2_ping");
	decode_raw(f, &v, vget(&v, e, "response"), KR_EV_PONG);
	assert_int_equal(f->ev->pong.req_id, 101);

	e = vfind(&v, pe, "ws_v2_book_subscribe");
	r = vget(&v, e, "responses");
	assert_int_equal(v.tok[r].size, 2);
	decode_raw(f, &v, r + 1, KR_EV_SUBSCRIBE);
	assert_int_equal(f->ev->ack.pair_id, KR_PAIR_NONE);
	decode_raw(f, &v, vskip(&v, r + 1), KR_EV_SUBSCRIBE);
	assert_int_equal(f->ev->ack.pair_id, id_of(f, "MATIC/USD"));
	assert_int_equal(f->ev->ack.depth, 10);

	e = vfind(&v, pe, "ws_v2_book_unsubscribe");
	r = vget(&v, e, "responses");
	decode_raw(f, &v, r + 1, KR_EV_UNSUBSCRIBE);

	e = vfind(&v, pe, "ws_v2_instrument_subscribe");
	decode_raw(f, &v, vget(&v, e, "response"), KR_EV_SUBSCRIBE);
	assert_int_equal(f->ev->ack.req_id, 79);
	assert_int_equal(f->ev->ack.n_warnings, 1);

	e = vfind(&v, pe, "ws_v2_instrument_snapshot");
	decode_raw(f, &v, vget(&v, e, "message"), KR_EV_INSTRUMENT);
	assert_int_equal(f->ev->instrument.n_pairs, 2);
	assert_int_equal(f->ev->instrument.n_changed, 1); /* MATIC/USD became delisted */
	assert_true(f->ev->instrument.status_changed);
	assert_true(kr_decoder_pair(f->d, id_of(f, "BTC/USD"))->qty_increment == 1);
	/* Put MATIC/USD back online for the book frames. */
	ok(f, INSTRUMENT_MATIC_USD, KR_EV_INSTRUMENT);

	e = vfind(&v, bc, "ws_v2_book_page_matic_snapshot");
	decode_raw(f, &v, vget(&v, e, "snapshot_message"), KR_EV_BOOK);
	assert_int_equal(f->ev->book.n_bids, 10);
	for (int i = 0; i < 10; i++) {
		assert_true(f->ev->book.bids[i].price == MATIC_BIDS[i].price);
		assert_true(f->ev->book.bids[i].qty == MATIC_BIDS[i].qty);
		assert_true(f->ev->book.asks[i].price == MATIC_ASKS[i].price);
		assert_true(f->ev->book.asks[i].qty == MATIC_ASKS[i].qty);
	}
	assert_true(f->ev->book.checksum == 2439117997u);
	assert_true(crc_of(f->ev->book.asks, 10, f->ev->book.bids, 10) == 2439117997u);

	e = vfind(&v, bc, "ws_v2_book_page_matic_update");
	decode_raw(f, &v, vget(&v, e, "update_message"), KR_EV_BOOK);
	assert_true(f->ev->book.bids[0].qty == 109839475580);
	assert_true(f->ev->book.checksum == 2114181697u);

	/* Other channels in the file decode as unknown, never as errors. */
	e = vfind(&v, pe, "ws_v2_trade_update");
	decode_raw(f, &v, vget(&v, e, "message"), KR_EV_UNKNOWN);
	e = vfind(&v, pe, "ws_v2_executions_lifecycle");
	r = vget(&v, e, "messages");
	decode_raw(f, &v, r + 1, KR_EV_UNKNOWN);

	free(v.tok);
	free(v.js);
}

/* ---- encoders ------------------------------------------------------------- */

static void test_encoders(void **state)
{
	const char *syms[] = {"ALGO/USD", "MATIC/USD"};
	const char *bad_syms[] = {"BTC/USD", "A\"B"};
	const char *long_sym[] = {"ABCDEFGHIJKLMNOPQRSTUVWXYZ/ABCDEFGHIJKLMNOPQRSTUVWXYZ"};
	static const char sub[] = "{\"method\":\"subscribe\",\"params\":{\"channel\":\"book\","
				  "\"symbol\":[\"ALGO/USD\",\"MATIC/USD\"],\"depth\":10,"
				  "\"snapshot\":true},\"req_id\":18446744073709551615}";
	static const char unsub[] = "{\"method\":\"unsubscribe\",\"params\":{\"channel\":\"book\","
				    "\"symbol\":[\"MATIC/USD\"],\"depth\":1000},\"req_id\":0}";
	static const char inst[] = "{\"method\":\"subscribe\",\"params\":{\"channel\":"
				   "\"instrument\",\"snapshot\":true},\"req_id\":79}";
	static const char ping[] = "{\"method\":\"ping\",\"req_id\":101}";
	char buf[512];

	(void)state;
	assert_int_equal(kr_encode_subscribe_book(buf, sizeof(buf), syms, 2, 10, UINT64_MAX),
			 (int)strlen(sub));
	assert_string_equal(buf, sub);
	assert_int_equal(kr_encode_unsubscribe_book(buf, sizeof(buf), syms + 1, 1, 1000, 0),
			 (int)strlen(unsub));
	assert_string_equal(buf, unsub);
	assert_int_equal(kr_encode_subscribe_instrument(buf, sizeof(buf), 79), (int)strlen(inst));
	assert_string_equal(buf, inst);
	assert_int_equal(kr_encode_ping(buf, sizeof(buf), 101), (int)strlen(ping));
	assert_string_equal(buf, ping);

	/* Exactly enough room, and one byte less, for every encoder. */
	for (size_t cap = 0; cap <= strlen(sub) + 1; cap++) {
		int want = cap > strlen(sub) ? (int)strlen(sub) : ERR_RANGE;

		memset(buf, 'x', sizeof(buf));
		assert_int_equal(kr_encode_subscribe_book(buf, cap, syms, 2, 10, UINT64_MAX), want);
		if (cap > 0)
			assert_int_equal(buf[want > 0 ? (size_t)want : 0], '\0');
		assert_int_equal(buf[cap], 'x');
	}
	for (size_t cap = 0; cap <= strlen(ping) + 1; cap++) {
		int want = cap > strlen(ping) ? (int)strlen(ping) : ERR_RANGE;

		memset(buf, 'x', sizeof(buf));
		assert_int_equal(kr_encode_ping(buf, cap, 101), want);
		assert_int_equal(buf[cap], 'x');
		assert_int_equal(kr_encode_subscribe_instrument(buf, cap, 79),
				 cap > strlen(inst) ? (int)strlen(inst) : ERR_RANGE);
	}

	assert_int_equal(kr_encode_subscribe_book(buf, sizeof(buf), syms, 2, 11, 1), ERR_INVALID);
	assert_int_equal(kr_encode_subscribe_book(buf, sizeof(buf), syms, 0, 10, 1), ERR_INVALID);
	assert_int_equal(kr_encode_subscribe_book(buf, sizeof(buf), bad_syms, 2, 10, 1),
			 ERR_INVALID);
	assert_int_equal(kr_encode_subscribe_book(buf, sizeof(buf), long_sym, 1, 10, 1),
			 ERR_INVALID);
	assert_int_equal(kr_encode_subscribe_book(NULL, 10, syms, 2, 10, 1), ERR_INVALID);
	assert_int_equal(kr_encode_unsubscribe_book(buf, sizeof(buf), NULL, 1, 10, 1), ERR_INVALID);
	for (unsigned dp = 0; dp <= 1000; dp++) {
		int rc = kr_encode_subscribe_book(buf, sizeof(buf), syms, 1, dp, 1);

		assert_true((rc > 0) ==
			    (dp == 10 || dp == 25 || dp == 100 || dp == 500 || dp == 1000));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_heartbeat_pong, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_acks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_and_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_book_snapshot_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_book_number_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_instrument_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_instrument_updates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_instrument_atomic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_find, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_embedded_nul, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
	    cmocka_unit_test(test_token_capacity),
	    cmocka_unit_test_setup_teardown(test_book_1000_levels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mutations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vectors_file, setup, teardown),
	    cmocka_unit_test(test_encoders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

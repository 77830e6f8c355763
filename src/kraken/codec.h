/* Kraken WebSocket v2 codec: frames in, typed events out (PROTOCOL.md §1-3).
 *
 * The decoder is the hot path of market data. It tokenizes each frame with
 * jsmn into a token array allocated once by kr_decoder_new, reads fields as
 * (ptr, len) views into the frame, and parses prices and quantities from the
 * raw number text straight into fixed point (core/fixed.h) at the pair's own
 * precision, never through double. A book message in Kraken's own layout
 * (keys in Kraken's order, numbers unquoted) is read in one pass without
 * jsmn, giving the same event; any other frame takes the general path. kr_decode never allocates,
 * locks or logs synchronously; a frame that fails to parse or breaks the schema is counted per
 * reason (kr_decoder_stats), described in err_info, logged through the asynchronous log at most
 * once per second, and dropped: the caller keeps the connection and carries on.
 *
 * The decoder also holds the instrument table: one struct kr_pair per symbol
 * with a dense id, filled by `instrument` channel messages as they are
 * decoded (or by kr_decoder_put_pair). Book messages are parsed at the scales
 * of their pair, so a book for a symbol the table does not hold is an error.
 *
 * Threads: a decoder and everything it returns belong to one thread (the
 * market-data thread). Other threads get copies of the plain records.
 *
 * The encoders build the few requests the market-data connection sends. They
 * write into caller buffers and never allocate. */
#ifndef ARB_KRAKEN_CODEC_H
#define ARB_KRAKEN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Most levels per side in one book message: Kraken's largest depth. */
#define KR_MAX_LEVELS 1000
/* Capacity of the instrument table (Kraken lists about 1,100 spot pairs). */
#define KR_MAX_PAIRS 4096
/* Longest symbol and asset id, with their NUL. */
#define KR_SYMBOL_MAX 48
#define KR_ASSET_MAX  24
/* Deepest JSON nesting accepted; Kraken's messages nest 4 to 6 deep. */
#define KR_MAX_NESTING 64
/* A pair id that names no pair. */
#define KR_PAIR_NONE UINT32_MAX
/* A token array that holds an instrument snapshot of a few thousand pairs
 * (about 40 tokens per pair, 15 per asset) and a depth-1000 book snapshot
 * (about 10,000 tokens) with room to spare: 262,144 tokens, 5 MiB. */
#define KR_DECODER_DEFAULT_TOKENS (1u << 18)

/* A borrowed view of bytes inside the decoded frame, not NUL-terminated;
 * p is NULL and len 0 when the field was absent. JSON string escapes are
 * left as they are on the wire. Valid until the frame buffer is reused or
 * the next kr_decode call, whichever comes first. */
struct kr_view {
	const char *p;
	size_t len;
};

/* Pair trading status (instrument channel). Values Kraken adds later decode
 * as KR_PAIR_STATUS_UNKNOWN, which callers must treat as not tradable; they
 * are counted in kr_decoder_stats.unknown_enum. */
enum kr_pair_status {
	KR_PAIR_STATUS_UNKNOWN = 0,
	KR_PAIR_STATUS_ONLINE,
	KR_PAIR_STATUS_CANCEL_ONLY,
	KR_PAIR_STATUS_DELISTED,
	KR_PAIR_STATUS_LIMIT_ONLY,
	KR_PAIR_STATUS_MAINTENANCE,
	KR_PAIR_STATUS_POST_ONLY,
	KR_PAIR_STATUS_REDUCE_ONLY,
	KR_PAIR_STATUS_WORK_IN_PROGRESS,
};

/* Engine state (status channel); unknown values as for pair status. */
enum kr_system_status {
	KR_SYSTEM_UNKNOWN = 0,
	KR_SYSTEM_ONLINE,
	KR_SYSTEM_MAINTENANCE,
	KR_SYSTEM_CANCEL_ONLY,
	KR_SYSTEM_POST_ONLY,
};

/* One tradable pair. Amounts are fixed point: an int64_t count of
 * 10^-scale units, at the scale named beside each field. */
struct kr_pair {
	char symbol[KR_SYMBOL_MAX]; /* "BTC/USD", NUL-terminated */
	char base[KR_ASSET_MAX];    /* "BTC" */
	char quote[KR_ASSET_MAX];   /* "USD" */
	uint32_t id;		    /* dense, from 0 in order of arrival; never reused */
	enum kr_pair_status status;
	int price_precision;	 /* 0..18: book prices are parsed at this scale */
	int qty_precision;	 /* 0..18: book quantities are parsed at this scale */
	int cost_precision;	 /* 0..18: scale of cost_min; cost_precision from
				    Kraken, or min(price + qty precision, 18) when absent */
	int64_t price_increment; /* > 0, at price_precision */
	int64_t qty_increment;	 /* > 0, at qty_precision */
	int64_t qty_min;	 /* >= 0, at qty_precision */
	int64_t cost_min;	 /* >= 0, at cost_precision */
};

/* One price level: qty is the new absolute quantity, 0 deletes the level. */
struct kr_level {
	int64_t price; /* > 0, at the pair's price_precision */
	int64_t qty;   /* >= 0, at the pair's qty_precision */
};

enum kr_event_kind {
	KR_EV_NONE = 0,	   /* nothing decoded (kr_decode returned an error) */
	KR_EV_STATUS,	   /* status channel */
	KR_EV_HEARTBEAT,   /* heartbeat channel */
	KR_EV_PONG,	   /* reply to ping */
	KR_EV_SUBSCRIBE,   /* subscribe acknowledgement, success or failure */
	KR_EV_UNSUBSCRIBE, /* unsubscribe acknowledgement, success or failure */
	KR_EV_BOOK,	   /* book snapshot or update */
	KR_EV_INSTRUMENT,  /* instrument snapshot or update, already applied to the table */
	KR_EV_ERROR,	   /* an error reply to another method, or a bare {"error": ...} */
	KR_EV_UNKNOWN,	   /* well-formed, but a channel or method this codec does not decode */
};

/* Channels named in acknowledgements. */
enum kr_channel {
	KR_CHANNEL_OTHER = 0,
	KR_CHANNEL_BOOK,
	KR_CHANNEL_INSTRUMENT,
};

struct kr_status_event {
	enum kr_system_status system;
	struct kr_view system_text; /* the raw value, also when system is UNKNOWN */
	uint64_t connection_id;	    /* 0 when absent (may exceed INT64_MAX) */
	bool has_connection_id;
	struct kr_view api_version; /* "v2" */
	struct kr_view version;	    /* service version, "2.0.0" */
};

struct kr_pong_event {
	bool has_req_id;
	uint64_t req_id;
	bool success;	      /* true unless the reply says "success": false */
	struct kr_view error; /* set when the reply carries an error */
	int64_t time_in_ns;   /* ns since the epoch, 0 when absent */
	int64_t time_out_ns;
};

/* An acknowledgement of subscribe or unsubscribe: one per symbol. */
struct kr_ack_event {
	bool success;
	struct kr_view error; /* set on failure */
	enum kr_channel channel;
	struct kr_view channel_text; /* from result; may be absent on failure */
	struct kr_view symbol;	     /* from result, or the reply itself on failure */
	uint32_t pair_id;	     /* symbol's id, KR_PAIR_NONE when absent or unknown */
	uint32_t depth;		     /* 0 when absent */
	bool snapshot;		     /* false when absent */
	uint32_t n_warnings;	     /* entries of result.warnings */
	bool has_req_id;
	uint64_t req_id;
	int64_t time_in_ns; /* 0 when absent */
	int64_t time_out_ns;
};

/* A book message. bids and asks hold the levels in wire order; entries past
 * n_bids / n_asks are left as they were. Every level has been checked:
 * price > 0, qty >= 0, no more decimals than the pair's precisions. */
struct kr_book_event {
	uint32_t pair_id;
	bool snapshot;	      /* false: update */
	int price_scale;      /* the pair's price_precision when decoded */
	int qty_scale;	      /* the pair's qty_precision when decoded */
	uint32_t checksum;    /* CRC32 Kraken computed after applying this message */
	int64_t timestamp_ns; /* ns since the epoch */
	uint32_t n_bids;
	uint32_t n_asks;
	struct kr_level bids[KR_MAX_LEVELS];
	struct kr_level asks[KR_MAX_LEVELS];
};

/* An instrument message, already applied to the decoder's table when this
 * event is returned (a message that fails to decode leaves the table as it
 * was). A snapshot also marks every known pair it does not list DELISTED. */
struct kr_instrument_event {
	bool snapshot;
	uint32_t n_assets;	 /* asset objects in the message (not stored) */
	uint32_t n_pairs;	 /* pair objects in the message */
	uint32_t n_added;	 /* pairs new to the table */
	uint32_t n_changed;	 /* pairs added or changed, the length of changed */
	const uint32_t *changed; /* their ids, each once; borrowed until the next kr_decode */
	bool status_changed;	 /* a pair already known changed status */
	bool precision_changed;	 /* a pair already known changed price or qty
				    precision: books kept at the old scales must be
				    dropped and resubscribed */
};

struct kr_error_event {
	struct kr_view method; /* absent for a bare error */
	struct kr_view error;  /* absent when the reply only says "success": false */
	bool has_req_id;
	uint64_t req_id;
};

struct kr_unknown_event {
	struct kr_view channel; /* e.g. "ticker" */
	struct kr_view method;	/* e.g. "add_order" (a successful reply) */
};

/* One decoded frame. Large (about 32 KiB, for the book levels): allocate it
 * once, at start-up, and reuse it. Only the member named by kind is set. */
struct kr_event {
	enum kr_event_kind kind;
	union {
		struct kr_status_event status;
		struct kr_pong_event pong;
		struct kr_ack_event ack; /* SUBSCRIBE and UNSUBSCRIBE */
		struct kr_book_event book;
		struct kr_instrument_event instrument;
		struct kr_error_event error;
		struct kr_unknown_event unknown;
	};
};

/* Why a frame was dropped; each has a counter in kr_decoder_stats. */
enum kr_decode_reason {
	KR_DECODE_JSON = 0, /* ERR_PARSE: empty, truncated, invalid JSON, trailing bytes */
	KR_DECODE_TOKENS,   /* ERR_FULL: more JSON tokens than the decoder holds */
	KR_DECODE_SCHEMA,   /* ERR_SCHEMA: a field missing, duplicated, of the wrong
			       type, or an unexpected value */
	KR_DECODE_NUMBER,   /* ERR_PARSE: malformed number or timestamp text */
	KR_DECODE_RANGE,    /* ERR_SCHEMA: a number out of range, or with more
			       decimals than the pair's precision */
	KR_DECODE_SYMBOL,   /* ERR_SCHEMA: a book for a symbol not in the table */
	KR_DECODE_CAPACITY, /* ERR_FULL: more levels, pairs, or longer names than
			       the fixed capacities, nesting deeper than
			       KR_MAX_NESTING, or a frame over 1 GiB */
	KR_DECODE__COUNT
};

struct kr_decoder_stats {
	uint64_t frames;		    /* kr_decode calls */
	uint64_t decoded;		    /* calls that returned 0 */
	uint64_t unknown;		    /* of those, KR_EV_UNKNOWN */
	uint64_t unknown_enum;		    /* status values decoded as *_UNKNOWN */
	uint64_t dropped[KR_DECODE__COUNT]; /* calls that failed, by reason */
};

struct kr_decoder;

/* Creates a decoder with room for max_tokens JSON tokens per frame (0 means
 * KR_DECODER_DEFAULT_TOKENS; at most 2^26) and an empty instrument table of
 * KR_MAX_PAIRS pairs. Everything it will need is allocated here.
 * Returned owned: free with kr_decoder_free. Returns NULL on allocation
 * failure or a max_tokens out of bounds. Start-up only. */
struct kr_decoder *kr_decoder_new(size_t max_tokens);

/* Frees d and its table. kr_decoder_free(NULL) does nothing. */
void kr_decoder_free(struct kr_decoder *d);

/* Decodes one complete text frame of len bytes (not NUL-terminated; frame is
 * borrowed for the call) into *ev.
 *
 * Returns 0 with ev->kind set, or a negative code with ev->kind KR_EV_NONE:
 * ERR_PARSE (KR_DECODE_JSON, KR_DECODE_NUMBER), ERR_SCHEMA (KR_DECODE_SCHEMA,
 * KR_DECODE_RANGE, KR_DECODE_SYMBOL) or ERR_FULL (KR_DECODE_TOKENS,
 * KR_DECODE_CAPACITY). On error, info (when not NULL) receives the code and a
 * message naming the field, e.g. "book bids[3].price (MATIC/USD): 0.56661 has
 * more than 4 decimals or is out of range"; the reason is counted and the
 * message logged, rate-limited. Any input is safe: the frame is dropped and
 * the decoder stays usable.
 *
 * Views in *ev point into frame and are borrowed: they stay valid until the
 * frame buffer is reused or the next kr_decode call on d, whichever comes
 * first. Pair ids stay valid for the life of d.
 *
 * Unknown keys are ignored. Decimal fields accept a JSON number (exponent
 * form included) or a string holding one; integer fields (checksum, depth,
 * req_id, connection_id) must be plain JSON integers; instrument precisions
 * may also be strings. Strings are compared as raw bytes (no unescaping).
 * JSON nested deeper than KR_MAX_NESTING containers is refused (ERR_FULL),
 * since jsmn's cost grows with the square of the nesting.
 *
 * Never allocates, locks or blocks. Thread of d only. */
int kr_decode(struct kr_decoder *d, const char *frame, size_t len, struct kr_event *ev,
	      struct err_info *info);

/* Copies d's counters into *out. Thread of d only. */
void kr_decoder_stats(const struct kr_decoder *d, struct kr_decoder_stats *out);

/* Pairs in the table; ids run from 0 to the count - 1. */
uint32_t kr_decoder_pair_count(const struct kr_decoder *d);

/* The pair with this id, or NULL. Borrowed: the record lives as long as d,
 * and a later instrument message may change its fields in place. */
const struct kr_pair *kr_decoder_pair(const struct kr_decoder *d, uint32_t id);

/* The id of the pair whose symbol is the len bytes at symbol, or
 * KR_PAIR_NONE. Hashes the bytes; no allocation. */
uint32_t kr_decoder_find(const struct kr_decoder *d, const char *symbol, size_t len);

/* Adds p to the table, or replaces the fields of the pair with the same
 * symbol (p->id is ignored), e.g. from REST AssetPairs at start-up. The
 * fields are validated as an instrument message's would be. Writes the
 * pair's id to *id_out when not NULL. Returns 0, ERR_SCHEMA (a field out of
 * bounds) or ERR_FULL (KR_MAX_PAIRS reached). Thread of d only. */
int kr_decoder_put_pair(struct kr_decoder *d, const struct kr_pair *p, uint32_t *id_out);

/* Names for logs; static strings, never NULL. */
const char *kr_decode_reason_str(enum kr_decode_reason r);
const char *kr_event_kind_str(enum kr_event_kind k);
const char *kr_pair_status_str(enum kr_pair_status s);
const char *kr_system_status_str(enum kr_system_status s);

/* Encoders. Each writes one request and a NUL into buf and returns its length
 * (without the NUL), ERR_RANGE when cap is too small (buf then holds an empty
 * string if cap > 0), or ERR_INVALID for bad arguments. Symbols (borrowed for
 * the call) must be 1..KR_SYMBOL_MAX-1 printable ASCII bytes without '"' or
 * '\\'. Any thread. */

/* Reads a universe from path into d's instrument table: a Kraken instrument
 * message (raw, or a recording line {"recv_ts":...,"msg":...}) or a REST
 * AssetPairs answer (v1 names mapped to v2: XBT is BTC, XDG is DOGE;
 * precisions from pair/lot/cost_decimals, increments from tick_size and the
 * lot decimals, minimums from ordermin/costmin). Returns 0, or an error with
 * info naming the file and the problem: -errno, ERR_PARSE, ERR_SCHEMA,
 * ERR_EXCHANGE (an AssetPairs error answer), ERR_EMPTY (no pair), ERR_RANGE
 * (over 64 MiB). Start-up only: allocates. Thread of d. */
int kr_universe_load_file(struct kr_decoder *d, const char *path, struct err_info *info);

struct book;
/* Applies a decoded book message to b (snapshot or update) and verifies its
 * checksum: book_end()'s result (0, ERR_CHECKSUM, ERR_RANGE, ERR_FULL), or
 * ERR_INVALID when the message's scales are not the book's (the pair's
 * precision changed: b is invalidated and must be rebuilt). recv_ns is the
 * message's monotonic arrival stamp. Never allocates. The book's thread. */
int kr_book_apply(struct book *b, const struct kr_book_event *e, uint64_t recv_ns);

/* {"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD",...],
 *  "depth":10,"snapshot":true},"req_id":1}
 * n >= 1; depth is one of 10, 25, 100, 500, 1000. */
int kr_encode_subscribe_book(char *buf, size_t cap, const char *const *symbols, size_t n,
			     unsigned depth, uint64_t req_id);

/* {"method":"unsubscribe","params":{"channel":"book","symbol":[...],"depth":10},
 *  "req_id":2} — depth must match the subscription's. */
int kr_encode_unsubscribe_book(char *buf, size_t cap, const char *const *symbols, size_t n,
			       unsigned depth, uint64_t req_id);

/* {"method":"subscribe","params":{"channel":"instrument","snapshot":true},
 *  "req_id":3} */
int kr_encode_subscribe_instrument(char *buf, size_t cap, uint64_t req_id);

/* {"method":"ping","req_id":4} */
int kr_encode_ping(char *buf, size_t cap, uint64_t req_id);

#endif

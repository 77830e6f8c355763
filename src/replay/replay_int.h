/* Shared by the replay module's .c files and tests/unit/replay/ only.
 *
 * jsmn is compiled static into each file that includes this header, with
 * the same options as the kraken codec. */
#ifndef ARB_REPLAY_REPLAY_INT_H
#define ARB_REPLAY_REPLAY_INT_H

#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/arb.h"
#include "book/book.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/hist.h"
#include "exec/exec.h"
#include "kraken/codec.h"
#include "replay/replay.h"
#include "risk/risk.h"

/* Tokens for one input line: a seed line with 1,000 levels a side needs
 * about 6,000; a recorded depth-1000 snapshot about 10,000. */
#define REPLAY__MAX_TOKENS  (1u << 15)
#define REPLAY__MAX_SYMBOLS 1024
#define REPLAY__SYMBOL_MAX  32

/* What a line holds. */
enum replay__kind {
	REPLAY__SEED = 1, /* {"timestamp","symbol","bids","asks"}: the visible top */
	REPLAY__RECORD,	  /* {"recv_ts","msg"}: a message as `arbitrade record` wrote it */
};

/* One event, in replay order after the sort. */
struct replay__event {
	int64_t ts_ns;	  /* the line's timestamp / recv_ts */
	uint32_t line;	  /* 1-based line number in the file */
	uint32_t symbol;  /* index into the symbol table (seed lines); UINT32_MAX none */
	uint64_t off;	  /* byte offset of the line */
	uint32_t len;	  /* its length without the newline */
	uint32_t msg_off; /* recordings: the "msg" value's offset in the line */
	uint32_t msg_len; /* and length */
	uint8_t kind;	  /* enum replay__kind */
};

/* Per symbol, what the data says about its precision (seed lines). */
struct replay__symbol {
	char name[REPLAY__SYMBOL_MAX];
	char base[REPLAY__SYMBOL_MAX];
	char quote[REPLAY__SYMBOL_MAX];
	int price_decimals; /* most fraction digits seen in a price */
	int qty_decimals;   /* most fraction digits seen in a quantity */
	int max_levels;	    /* most levels on one side of one line */
	uint64_t events;
};

/* The loaded file: mapped, indexed, sorted. */
struct replay__events {
	const char *data; /* the mapping (owned) */
	size_t size;
	struct replay__event *ev; /* owned */
	size_t n;
	struct replay__symbol sym[REPLAY__MAX_SYMBOLS];
	uint32_t nsym;
	uint64_t bad_lines;	 /* skipped with skip_bad_lines */
	uint64_t blank_lines;	 /* empty lines, ignored */
	uint32_t first_bad_line; /* 0 none */
	char first_bad_why[160]; /* what was wrong with it */
	jsmntok_t *tok;		 /* REPLAY__MAX_TOKENS, owned, reused per line */
	/* The last timestamp's "YYYY-MM-DDTHH:MM:" and that minute in ns:
	 * consecutive lines mostly share it (replay__ts). */
	char ts_minute[17];
	int64_t ts_minute_ns;
};

/* Parses an RFC3339 time like clock_parse_rfc3339, reusing the previous
 * call's minute when the text starts with it (the common case in a file in
 * time order). */
int replay__ts(struct replay__events *e, const char *s, size_t len, int64_t *out);

/* Maps path, tokenizes every line once to learn its time, kind and symbol,
 * and sorts the events by time, stable for equal times. A bad line (not
 * JSON, no timestamp, a malformed level, an unknown shape) fails the load
 * with ERR_PARSE and info naming the line and what was wrong, unless
 * skip_bad is set: then it is counted in bad_lines and left out. An empty
 * file or one with no event is ERR_PARSE. Returns 0 or an error; *out is
 * returned owned (replay__events_free). */
int replay__events_load(const char *path, bool skip_bad, struct replay__events **out,
			struct err_info *info);
void replay__events_free(struct replay__events *e);

/* Tokenizes event i's line into e->tok; returns the token count, or
 * ERR_PARSE. The tokens are valid until the next call. */
int replay__events_tokenize(struct replay__events *e, size_t i, const char **line);

/* Index of the token for key in the object at token obj, or -1. */
int replay__json_get(const char *js, const jsmntok_t *t, int ntok, int obj, const char *key);
/* The index of the token after the value at token i (skipping its children). */
int replay__json_skip(const jsmntok_t *t, int ntok, int i);

/* The text of a number or a numeric string token (quotes excluded). false
 * when the token is neither. */
bool replay__num_text(const char *js, const jsmntok_t *t, const char **p, size_t *len);

/* Most levels one side of a seed line may hold. */
#define REPLAY__MAX_LEVELS 1000

struct replay__levels {
	struct book_level bids[REPLAY__MAX_LEVELS];
	struct book_level asks[REPLAY__MAX_LEVELS];
};

/* Applies a seed line (tokens t[0..ntok) of js) to b as a snapshot at the
 * book's scales, truncated to its depth, with the checksum computed from the
 * levels; ts is the replay clock's stamp. Returns 0, or ERR_PARSE/ERR_RANGE
 * (a price or qty with more decimals than the pair's precision, a bad level)
 * or book_end's error, with why. scratch is caller-owned work space. */
int replay__seed_apply(struct book *b, const char *js, const jsmntok_t *t, int ntok, int64_t ts,
		       struct replay__levels *scratch, char *why, size_t wcap);

/* ---- the engine (run.c, universe.c, report.c) ---- */

#define REPLAY__MAX_ASSETS  64
#define REPLAY__MAX_REASONS 16
#define REPLAY__MAX_CYCLES  1000 /* cycles listed one by one in the report */

struct replay__count {
	char what[VENUE_REASON_MAX];
	uint64_t n;
};

struct replay__cycle {
	uint64_t opp_id;
	char path[ARB_PATH_MAX];
	char outcome[16]; /* "executed", "failed", "missed" */
	double expected_profit, realised_profit;
	uint64_t ts_ns;
};

/* Fees summed exactly per asset, at 18 decimals. */
struct replay__fee {
	char asset[VENUE_ASSET_MAX];
	__int128 amt18;
};

struct replay_report {
	char home[VENUE_ASSET_MAX];
	int64_t first_ts, last_ts;
	uint64_t events, bad_lines, blank_lines, book_errors, decode_errors, symbols;
	uint32_t first_bad_line;
	char first_bad_why[160];
	bool inferred; /* precisions inferred from the data */
	double slippage_bps, taker_fee_bps;
	int64_t latency_ms;
	uint64_t opportunities, accepted, executed, failed, missed;
	uint64_t rejected[RISK__COUNT];
	uint64_t orders, unwind_orders;
	struct replay__count misses[REPLAY__MAX_REASONS];
	size_t n_misses;
	struct replay__fee fees[REPLAY__MAX_ASSETS];
	size_t n_fees;
	struct venue_balance start[REPLAY__MAX_ASSETS], final[REPLAY__MAX_ASSETS];
	size_t n_start, n_final;
	double pnl_home;    /* the PnL of every asset valued in home at the last mids */
	char unpriced[256]; /* assets with PnL but no price to home */
	struct replay__cycle cycles[REPLAY__MAX_CYCLES];
	size_t n_cycles;
	uint64_t cycles_unlisted;
	struct hist decision; /* submit latency on the replay clock (deterministic) */
	struct hist compute;  /* measured wall time per event (varies; text only) */
	double wall_s;	      /* measured */
	double cpu_s;	      /* measured: the replay thread's CPU time */
};

struct replay {
	const struct config *cfg;
	struct replay_opts opts;
	struct replay__events *ev;
	struct kr_decoder *dec;
	struct kr_event *kev;
	struct replay__levels *scratch;
	struct arb_pair pairs[ARB_MAX_PAIRS];
	struct book *books[ARB_MAX_PAIRS];
	int32_t sym2pair[REPLAY__MAX_SYMBOLS];
	uint32_t npairs;
	bool from_decoder, inferred;
	struct clock_manual clk_state;
	struct clock clk;
	struct arb *arb;
	struct risk *risk;
	struct venue venue;
	struct exec *ex;
	struct store *store;
	struct replay_report *rep;
	/* the cycle in flight (sequential: one at a time) */
	bool in_flight;
	struct arb_opp cur;
	unsigned cur_filled_legs, cur_unwinds;
	bool cur_any_fill;
	bool cur_done; /* the sequencer said cycle_done */
	double cur_realised;
	char cur_reason[VENUE_REASON_MAX];
	struct exec_stats last_st;
	struct venue_balance bal[REPLAY__MAX_ASSETS];
	size_t nbal;
	bool bal_dirty;
	uint64_t now;
};

/* Copies src into dst; ERR_RANGE (dst untouched) when it does not fit. */
int replay__name(char *dst, size_t cap, const char *src);
int replay__universe_from_file(struct replay *r, const char *path, struct err_info *info);
int replay__universe_from_decoder(struct replay *r, struct err_info *info);
int replay__universe_infer(struct replay *r, struct err_info *info);
int replay__find_pair(const struct replay *r, const char *symbol);
/* The smallest depth Kraken offers that holds levels per side. */
unsigned replay__depth_for(int levels);

void replay__count_add(struct replay__count *tab, size_t *n, size_t cap, const char *what);

#endif

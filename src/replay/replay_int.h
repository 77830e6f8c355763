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

#include "book/book.h"
#include "core/err.h"
#include "replay/replay.h"

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
	int64_t ts_ns;	 /* the line's timestamp / recv_ts */
	uint32_t line;	 /* 1-based line number in the file */
	uint32_t symbol; /* index into the symbol table (seed lines); UINT32_MAX none */
	uint64_t off;	 /* byte offset of the line */
	uint32_t len;	 /* its length without the newline */
	uint8_t kind;	 /* enum replay__kind */
};

/* Per symbol, what the data says about its precision (seed lines). */
struct replay__symbol {
	char name[REPLAY__SYMBOL_MAX];
	char base[REPLAY__SYMBOL_MAX];
	char quote[REPLAY__SYMBOL_MAX];
	int price_decimals; /* most fraction digits seen in a price */
	int qty_decimals;   /* most fraction digits seen in a quantity */
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
};

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

#endif

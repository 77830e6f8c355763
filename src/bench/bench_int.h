/* Shared by the .c files of src/bench/ and by tests/unit/bench/ only. */
#ifndef ARB_BENCH_BENCH_INT_H
#define ARB_BENCH_BENCH_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "bench/bench.h"
#include "kraken/codec.h"

/* A minimal JSON scanner for the recording envelope and for inferring
 * precisions. It checks only what it needs: strings with escapes, balanced
 * containers, scalars up to the next delimiter. It never allocates. */

/* The index just after the JSON value that starts at s[i] (after optional
 * whitespace), or 0 if there is no well-formed value there. */
size_t bench__skip_value(const char *s, size_t n, size_t i);

/* In the object obj (its first non-blank byte must be '{'), finds the member
 * whose raw key bytes are key, and sets *v to its value (trimmed). Returns
 * false when obj is not an object, the key is absent or the object is
 * malformed before the key. */
bool bench__member(struct kr_view obj, const char *key, struct kr_view *v);

/* The element k (0-based) of the array arr, as bench__member. */
bool bench__element(struct kr_view arr, size_t k, struct kr_view *v);

/* The message of one line: the value of "msg" in a recording line
 * ({"recv_ts":"...","msg":{...}}), or the line itself when it is a raw Kraken
 * message (an object with "channel" or "method"). Returns false otherwise. */
bool bench__line_message(const char *line, size_t n, struct kr_view *msg);
/* The same, always scanning the line (the fast layout check above trusts
 * that "msg" is the last member). */
bool bench__line_message_slow(const char *line, size_t n, struct kr_view *msg);

/* Decimals written in a number's text (a JSON number or a string holding
 * one): "0.5660" 4, "45281.0" 1, "1e-08" 8, "12" 0; -1 if not a number. */
int bench__decimals(struct kr_view num);

/* From a book snapshot message, its symbol (view into msg) and the most
 * decimals among its prices and among its quantities. Returns false if msg
 * is not a book snapshot with a symbol and at least one level. */
bool bench__infer_precision(struct kr_view msg, struct kr_view *symbol, int *price_prec,
			    int *qty_prec);

/* One level3 snapshot checked by bench__level3. */
struct bench__l3 {
	uint32_t expected; /* the message's checksum */
	uint32_t got;	   /* computed over its orders */
	size_t orders;	   /* orders hashed */
	bool inferred;	   /* precisions from the snapshot's decimals */
	char symbol[KR_SYMBOL_MAX];
};

struct book_level;

/* Checks a level3 message (msg: a frame whose channel is "level3"): 0 with
 * *out filled for a snapshot, 1 for anything else (an update: not replayed),
 * or ERR_SCHEMA / ERR_FULL with info filled for a malformed snapshot. buf
 * holds cap orders (half per side) and is scratch. Allocation free. */
int bench__level3(struct kr_decoder *d, struct kr_view msg, struct book_level *buf, size_t cap,
		  struct bench__l3 *out, struct err_info *info);

#endif

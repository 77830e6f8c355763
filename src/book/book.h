/* Level-2 order books in fixed point, maintained as Kraken documents them
 * (PROTOCOL.md §2): a snapshot replaces the book, an update sets absolute
 * quantities (qty 0 removes a level, any other qty replaces it), each side is
 * truncated to the subscribed depth after every message, and the CRC32
 * checksum over the top 10 levels of each side is verified after every
 * message.
 *
 * Prices and quantities are int64_t counts of 10^-scale units, at the pair's
 * price_precision and qty_precision (core/fixed.h). The kraken/ codec parses
 * the JSON and feeds already-scaled integers in through book_begin(),
 * book_set_bid()/book_set_ask() and book_end().
 *
 * Threads: a book belongs to one thread (the market-data thread, or the replay
 * thread). Nothing here locks; other threads read published copies, never the
 * book itself.
 *
 * Memory: book_new() allocates the book and its level arrays once. Nothing
 * else allocates, locks or logs; every function below is O(depth) at worst. */
#ifndef ARB_BOOK_BOOK_H
#define ARB_BOOK_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Levels per side that the Kraken checksum covers, whatever the depth. */
#define BOOK_CHECKSUM_LEVELS 10
/* Longest symbol book_new() accepts, in bytes, without the NUL. */
#define BOOK_SYMBOL_MAX 31

/* One price level. price > 0 and qty > 0 for every level stored in a book;
 * both are scaled by the book's price_scale / qty_scale. */
struct book_level {
	int64_t price;
	int64_t qty;
};

/* Counters, one per applied message; each failed message counts in exactly
 * one of mismatches, rejects and overflows. */
struct book_stats {
	uint64_t snapshots;	/* snapshot messages applied (book_end after begin(true)) */
	uint64_t updates;	/* update messages applied */
	uint64_t mismatches;	/* messages whose checksum did not match: ERR_CHECKSUM */
	uint64_t rejects;	/* messages with a bad level (price <= 0, qty < 0): ERR_RANGE */
	uint64_t overflows;	/* messages that lost a level to the capacity: ERR_FULL */
	uint64_t invalidations; /* book_invalidate() calls */
};

struct book;

/* Creates an empty, invalid book for symbol (copied; at most BOOK_SYMBOL_MAX
 * bytes) with prices at price_scale and quantities at qty_scale decimals
 * (0..FX_MAX_SCALE) and depth levels per side (10, 25, 100, 500 or 1000, the
 * depths Kraken accepts). Allocates room for 2 * depth levels per side, so
 * one message may insert up to depth levels before truncation without losing
 * any. Returns owned (free with book_free), or NULL with info (if not NULL)
 * filled: ERR_INVALID for a bad argument, ERR_NOMEM. Start-up only. */
struct book *book_new(const char *symbol, int price_scale, int qty_scale, unsigned depth,
		      struct err_info *info);

/* Frees b. book_free(NULL) does nothing. */
void book_free(struct book *b);

/* Empties both sides and marks b invalid (e.g. before resubscribing). Counters
 * and last_update_ns are kept. Not during a message. */
void book_clear(struct book *b);

/* Marks b invalid, keeping its levels (e.g. on disconnect: the levels are still
 * shown, but nothing may trade on them). Only a snapshot whose checksum matches
 * makes it valid again. Counted in invalidations. */
void book_invalidate(struct book *b);

/* Starts applying one message. A snapshot empties both sides first. Between
 * book_begin() and book_end() the level arrays are being rewritten: do not
 * read them. Calling book_begin() twice without book_end() is a programmer
 * error (asserted). */
void book_begin(struct book *b, bool snapshot);

/* Sets one level of the message being applied, in message order: qty is the
 * new absolute quantity at price; qty 0 removes the level, and a qty 0 for a
 * price not in the book is ignored (Kraken does not tell which levels fell
 * below the depth). The same price may appear several times in one message;
 * the last one wins. Returns 0, or ERR_RANGE for price <= 0 or qty < 0: the
 * level is skipped and book_end() then fails the whole message. Only between
 * book_begin() and book_end(). */
int book_set_bid(struct book *b, int64_t price, int64_t qty);
int book_set_ask(struct book *b, int64_t price, int64_t qty);

/* Finishes the message: truncates each side to the depth, computes the
 * checksum over the top BOOK_CHECKSUM_LEVELS levels of each side, compares it
 * with expected (the message's "checksum") and records recv_ns (the message's
 * monotonic receive stamp) as the last update time, whatever the outcome.
 * Returns:
 *   0             applied; a matching snapshot makes b valid, a matching
 *                 update leaves validity as it was (an update never makes an
 *                 invalid book valid: the levels below the top 10 are not
 *                 covered by the checksum);
 *   ERR_RANGE     a level of the message was rejected (counted in rejects);
 *   ERR_FULL      one message inserted so many levels that one was lost to the
 *                 capacity and the top depth levels can no longer be trusted
 *                 (counted in overflows);
 *   ERR_CHECKSUM  the checksum did not match (counted in mismatches).
 * Every error marks b invalid; the levels as applied are kept for inspection.
 * The caller should then resubscribe to obtain a fresh snapshot. */
int book_end(struct book *b, uint32_t expected, uint64_t recv_ns);

/* The symbol given to book_new(). Borrowed, valid until book_free(). */
const char *book_symbol(const struct book *b);
int book_price_scale(const struct book *b);
int book_qty_scale(const struct book *b);
unsigned book_depth(const struct book *b);

/* True when the last snapshot matched its checksum and every message since
 * then was applied without error, and b was not invalidated or cleared since.
 * Nothing may trade on an invalid book. */
bool book_valid(const struct book *b);

/* recv_ns of the last book_end() (0 before the first), for staleness. */
uint64_t book_last_update_ns(const struct book *b);

/* The checksum computed by the last book_end() (0 before the first). */
uint32_t book_checksum(const struct book *b);

/* The bids, best (highest price) first, and the asks, best (lowest price)
 * first; *n receives the number of levels (at most the depth). Borrowed,
 * valid until the next book_begin(), book_clear() or book_free(). */
const struct book_level *book_bids(const struct book *b, size_t *n);
const struct book_level *book_asks(const struct book *b, size_t *n);

/* Copies b's counters into *out. */
void book_stats(const struct book *b, struct book_stats *out);

/* The Kraken CRC32 (zlib / IEEE) over every level given: for each ask, then
 * each bid, in the order given, the price's token then the qty's token, where
 * a token is the integer's decimal digits with no sign and no leading zeros
 * ("0" for zero). For a level-2 checksum pass the best 10 asks (low to high)
 * and the best 10 bids (high to low); the level3 per-order variant passes
 * every order of those levels, in queue order. Any number of levels; never
 * allocates. Any thread. */
uint32_t book_checksum_levels(const struct book_level *asks, size_t na,
			      const struct book_level *bids, size_t nb);

#endif

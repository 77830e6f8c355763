/* Shared by the .c files of src/book/ and by tests/unit/book/ only. */
#ifndef ARB_BOOK_BOOK_INT_H
#define ARB_BOOK_BOOK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book/book.h"

/* Longest token: the digits of |INT64_MIN| = 9223372036854775808. */
#define BOOK__TOKEN_MAX 19

/* Writes the checksum token of v (its decimal digits, no sign, no leading
 * zeros, "0" for zero) to out, which has room for BOOK__TOKEN_MAX bytes; no
 * NUL. Returns the length. */
size_t book__token(int64_t v, char *out);

/* Writes the text book_checksum_levels() hashes (asks then bids, price token
 * then qty token per level) to buf, without a NUL. Returns the length, or
 * ERR_RANGE if cap is too small. For tests and diagnostics. */
int book__checksum_text(const struct book_level *asks, size_t na, const struct book_level *bids,
			size_t nb, char *buf, size_t cap);

/* The checksum text of one level, kept from one message to the next so
 * that only changed levels are formatted again (book_end). */
struct book__tok {
	int64_t price;
	int64_t qty;
	size_t len;
	char text[2 * BOOK__TOKEN_MAX];
};

/* The texts of the top levels of both sides at the last checksum: two sets,
 * the last one (cur) and the one being built. Zeroed memory is empty. */
struct book__tokcache {
	unsigned cur;
	size_t n[2][2];					/* [set][0 asks, 1 bids] */
	struct book__tok e[2][2][BOOK_CHECKSUM_LEVELS]; /* [set][side][level] */
};

/* book_checksum_levels() for at most BOOK_CHECKSUM_LEVELS levels per side,
 * reusing the text of levels that are in c from the previous call (at the
 * same position or one away, as after one insert or removal above them)
 * and storing the new texts in c. Same result as book_checksum_levels. */
uint32_t book__checksum_cached(struct book__tokcache *c, const struct book_level *asks, size_t na,
			       const struct book_level *bids, size_t nb);

/* CRC-32 (zlib / IEEE) of len bytes continuing from crc (0 to start), the
 * same value as zlib's crc32_z; uses PCLMULQDQ where the CPU has it
 * (crc32.c). Any thread. */
uint32_t book__crc32(uint32_t crc, const void *buf, size_t len);

/* For tests: true makes book__crc32 use zlib only; false restores the CPU
 * check. Not thread-safe; call before any thread computes checksums. */
void book__crc32_force_portable(bool on);

/* Levels per side the book holds during a message, before truncation. */
size_t book__capacity(const struct book *b);

#endif

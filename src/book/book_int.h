/* Shared by the .c files of src/book/ and by tests/unit/book/ only. */
#ifndef ARB_BOOK_BOOK_INT_H
#define ARB_BOOK_BOOK_INT_H

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

/* Levels per side the book holds during a message, before truncation. */
size_t book__capacity(const struct book *b);

#endif

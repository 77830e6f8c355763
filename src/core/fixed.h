/* Fixed-point money. A price or quantity is an int64_t count of 10^-scale
 * units (scale = the pair's precision). Text is parsed straight into that
 * integer, never through double. */
#ifndef ARB_CORE_FIXED_H
#define ARB_CORE_FIXED_H

#include <stddef.h>
#include <stdint.h>

#define FX_MAX_SCALE 18
/* Longest text fx_parse accepts; longer text is ERR_RANGE. */
#define FX_MAX_TEXT 64

/* Parses decimal text ("0.5666", "18097.1547", "1e-08", "4.0", "-3.2") of
 * exactly len bytes into value * 10^scale. Rejects (ERR_PARSE) empty text,
 * stray characters, leading '+', and (ERR_RANGE) non-zero digits beyond scale
 * or overflow. Trailing zeros beyond scale are accepted. Never allocates.
 * The grammar is JSON's: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, so
 * "1.", ".5", "01" and " 1" are ERR_PARSE. "-0" is 0. ERR_INVALID if scale is
 * outside 0..FX_MAX_SCALE. *out is written only on success. Any thread. */
int fx_parse(const char *s, size_t len, int scale, int64_t *out);

/* Writes v as decimal text with exactly scale fractional digits ("0.56660000"),
 * NUL terminated; no point when scale is 0. Returns the length, ERR_RANGE if
 * cap is too small (cap >= 22 always suffices) or ERR_INVALID for a bad scale. */
int fx_format(int64_t v, int scale, char *buf, size_t cap);

/* Writes the Kraken checksum token of v: its decimal digits without sign or
 * leading zeros ("0" for zero), NUL terminated. Returns the length, or
 * ERR_RANGE if cap is too small; cap >= 21 always suffices. */
int fx_token(int64_t v, char *buf, size_t cap);

/* 10^0 .. 10^19, for fx_pow10 and for callers that index it directly on a
 * hot path. */
extern const uint64_t fx_pow10_u64[20];

/* 10^n for 0 <= n <= 18. */
int64_t fx_pow10(int n);

/* Converts between scales, rounding toward zero when scale shrinks.
 * Returns 0, ERR_RANGE on overflow or ERR_INVALID for a bad scale. */
int fx_rescale(int64_t v, int from_scale, int to_scale, int64_t *out);

/* v as a double in units (for rates and estimated P&L only). */
double fx_to_double(int64_t v, int scale);

#endif

/* Fixed-point money. A price or quantity is an int64_t count of 10^-scale
 * units (scale = the pair's precision). Text is parsed straight into that
 * integer, never through double. */
#ifndef ARB_CORE_FIXED_H
#define ARB_CORE_FIXED_H

#include <stddef.h>
#include <stdint.h>

#define FX_MAX_SCALE 18

/* Parses decimal text ("0.5666", "18097.1547", "1e-08", "4.0", "-3.2") of
 * exactly len bytes into value * 10^scale. Rejects (ERR_PARSE) empty text,
 * stray characters, leading '+', and (ERR_RANGE) non-zero digits beyond scale
 * or overflow. Trailing zeros beyond scale are accepted. Never allocates. */
int fx_parse(const char *s, size_t len, int scale, int64_t *out);

/* Writes v as decimal text with exactly scale fractional digits ("0.56660000").
 * Returns the length or ERR_RANGE if cap is too small. */
int fx_format(int64_t v, int scale, char *buf, size_t cap);

/* Writes the Kraken checksum token of v: its decimal digits without sign or
 * leading zeros ("0" for zero). Returns the length. cap >= 21 always suffices. */
int fx_token(int64_t v, char *buf, size_t cap);

/* 10^n for 0 <= n <= 18. */
int64_t fx_pow10(int n);

/* Converts between scales, rounding toward zero when scale shrinks.
 * Returns 0 or ERR_RANGE on overflow. */
int fx_rescale(int64_t v, int from_scale, int to_scale, int64_t *out);

/* v as a double in units (for rates and estimated P&L only). */
double fx_to_double(int64_t v, int scale);

#endif

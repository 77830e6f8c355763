#include "core/fixed.h"

#include <assert.h>

#include "core/err.h"

const uint64_t fx_pow10_u64[20] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    10000000000000000000ULL,
};

int64_t fx_pow10(int n)
{
	assert(n >= 0 && n <= 18);
	if (n < 0 || n > 18)
		return 0;
	return (int64_t)fx_pow10_u64[n];
}

static inline unsigned digit(char c)
{
	return (unsigned)(unsigned char)c - (unsigned)'0';
}

/* One pass, JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 *
 * Zeros are not multiplied in as they are read but counted in `zeros`, and
 * folded into the significand only when a non-zero digit follows. So at the end
 * sig has no trailing zeros, and the value is sig * 10^(zeros - frac + exp);
 * scaled, that power is p = scale + zeros - frac + exp. If p < 0 the last
 * (non-zero) digit of sig falls beyond scale, which is ERR_RANGE; no division
 * is ever needed. A significand wider than 19 digits cannot fit either, since
 * then the result would be at least sig. */
int fx_parse(const char *s, size_t len, int scale, int64_t *out)
{
	const char *p = s;
	const char *end = s + len;
	uint64_t sig = 0;
	int zeros = 0; /* zeros read since the last non-zero digit */
	int frac = 0;  /* digits read after the point */
	int exp = 0;
	int neg = 0;
	int pw;
	unsigned d;

	if (scale < 0 || scale > FX_MAX_SCALE)
		return ERR_INVALID;
	if (len == 0)
		return ERR_PARSE;
	if (len > FX_MAX_TEXT)
		return ERR_RANGE;

	if (*p == '-') {
		neg = 1;
		if (++p == end)
			return ERR_PARSE;
	}

	/* Integer part: a lone 0, or digits not starting with 0. */
	d = digit(*p);
	if (d > 9)
		return ERR_PARSE;
	if (d == 0) {
		p++;
	} else {
		do {
			if (d == 0) {
				zeros++;
			} else {
				if (zeros > 18 ||
				    __builtin_mul_overflow(sig, fx_pow10_u64[zeros + 1], &sig) ||
				    __builtin_add_overflow(sig, (uint64_t)d, &sig))
					return ERR_RANGE;
				zeros = 0;
			}
			p++;
		} while (p != end && (d = digit(*p)) <= 9);
	}

	if (p != end && *p == '.') {
		const char *f0 = ++p;
		while (p != end && (d = digit(*p)) <= 9) {
			if (d == 0) {
				zeros++;
			} else if (sig == 0) {
				/* Leading zeros of a fraction like 0.000123 carry no value. */
				sig = d;
				zeros = 0;
			} else {
				if (zeros > 18 ||
				    __builtin_mul_overflow(sig, fx_pow10_u64[zeros + 1], &sig) ||
				    __builtin_add_overflow(sig, (uint64_t)d, &sig))
					return ERR_RANGE;
				zeros = 0;
			}
			p++;
		}
		if (p == f0)
			return ERR_PARSE;
		frac = (int)(p - f0);
	}

	if (p != end && (*p == 'e' || *p == 'E')) {
		int eneg = 0;
		if (++p == end)
			return ERR_PARSE;
		if (*p == '+' || *p == '-') {
			eneg = *p == '-';
			if (++p == end)
				return ERR_PARSE;
		}
		if (digit(*p) > 9)
			return ERR_PARSE;
		while (p != end && (d = digit(*p)) <= 9) {
			/* Saturate: anything this large is out of range either way. */
			if (exp < 100000)
				exp = exp * 10 + (int)d;
			p++;
		}
		if (eneg)
			exp = -exp;
	}

	if (p != end)
		return ERR_PARSE;

	if (sig == 0) {
		*out = 0;
		return 0;
	}
	pw = scale + zeros - frac + exp;
	if (pw < 0 || pw > 18)
		return ERR_RANGE;
	if (__builtin_mul_overflow(sig, fx_pow10_u64[pw], &sig) || sig > (uint64_t)INT64_MAX)
		return ERR_RANGE;
	*out = neg ? -(int64_t)sig : (int64_t)sig;
	return 0;
}

/* Writes the digits of u right-aligned ending before `end`; returns the start. */
static char *utoa_rev(uint64_t u, char *end)
{
	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return end;
}

static uint64_t magnitude(int64_t v)
{
	/* Correct for INT64_MIN too: negate in unsigned arithmetic. */
	return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

int fx_format(int64_t v, int scale, char *buf, size_t cap)
{
	char tmp[48];
	char *end = tmp + sizeof(tmp);
	char *q = end;
	uint64_t u = magnitude(v);
	size_t n;

	if (scale < 0 || scale > FX_MAX_SCALE)
		return ERR_INVALID;
	if (scale > 0) {
		uint64_t ip = u / fx_pow10_u64[scale];
		uint64_t fp = u % fx_pow10_u64[scale];
		for (int i = 0; i < scale; i++) {
			*--q = (char)('0' + fp % 10);
			fp /= 10;
		}
		*--q = '.';
		q = utoa_rev(ip, q);
	} else {
		q = utoa_rev(u, q);
	}
	if (v < 0)
		*--q = '-';
	n = (size_t)(end - q);
	if (cap < n + 1)
		return ERR_RANGE;
	for (size_t i = 0; i < n; i++)
		buf[i] = q[i];
	buf[n] = '\0';
	return (int)n;
}

int fx_token(int64_t v, char *buf, size_t cap)
{
	char tmp[24];
	char *end = tmp + sizeof(tmp);
	char *q = utoa_rev(magnitude(v), end);
	size_t n = (size_t)(end - q);
	if (cap < n + 1)
		return ERR_RANGE;
	for (size_t i = 0; i < n; i++)
		buf[i] = q[i];
	buf[n] = '\0';
	return (int)n;
}

int fx_rescale(int64_t v, int from_scale, int to_scale, int64_t *out)
{
	if (from_scale < 0 || from_scale > FX_MAX_SCALE || to_scale < 0 || to_scale > FX_MAX_SCALE)
		return ERR_INVALID;
	if (to_scale >= from_scale) {
		if (__builtin_mul_overflow(v, (int64_t)fx_pow10_u64[to_scale - from_scale], out))
			return ERR_RANGE;
		return 0;
	}
	/* C division truncates toward zero. */
	*out = v / (int64_t)fx_pow10_u64[from_scale - to_scale];
	return 0;
}

double fx_to_double(int64_t v, int scale)
{
	if (scale < 0 || scale > FX_MAX_SCALE)
		return 0.0;
	int64_t p = (int64_t)fx_pow10_u64[scale];
	/* Below 2^53 both operands are exact, so one division is correctly
	 * rounded: 452852 at scale 1 gives exactly the double 45285.2. Above it,
	 * split whole and fractional parts so (double)v's rounding does not
	 * swallow the fraction. */
	if (v > -(1LL << 53) && v < (1LL << 53))
		return (double)v / (double)p;
	return (double)(v / p) + (double)(v % p) / (double)p;
}

/* A fast path for the frame the market-data thread sees most: a book message
 * in exactly Kraken's own layout,
 *
 *   {"channel":"book","type":"update"|"snapshot","data":[{"symbol":"...",
 *    "bids":[{"price":N,"qty":N},...],"asks":[...],"checksum":N,
 *    "timestamp":"..."}]}
 *
 * (whitespace between tokens allowed), read in one pass without jsmn. It
 * accepts a strict subset of what the general decoder accepts, and produces
 * the same event for it: numbers go through the same fx_parse at the pair's
 * precisions, the checksum through the same canonical integer rule, the
 * timestamp through clock_parse_rfc3339. Anything else, or anything wrong
 * (another key order, an extra key, a string-quoted number, an escape, an
 * unknown symbol, a bad number), is not handled here: kr__decode_book_fast
 * returns false and the general decoder decides, and words its error. */
#include "kraken/codec_int.h"

#include "core/clock.h"
#include "core/fixed.h"

struct cur {
	const char *p, *end;
};

static inline __attribute__((always_inline)) void ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

/* Skips whitespace, then the literal lit (a key with its quotes, or a
 * punctuation byte). Always inlined, so that memcmp of a constant length
 * becomes a compare or two. */
static inline __attribute__((always_inline)) bool lit(struct cur *c, const char *s, size_t n)
{
	ws(c);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return false;
	c->p += n;
	return true;
}
#define LIT(c, s) lit((c), (s), sizeof(s) - 1)

/* A JSON string without escapes: the bytes between the quotes. */
static inline __attribute__((always_inline)) bool str(struct cur *c, const char **s, size_t *n)
{
	const char *q;

	ws(c);
	if (c->p >= c->end || *c->p != '"')
		return false;
	q = c->p + 1;
	while (q < c->end && *q != '"') {
		if (*q == '\\')
			return false;
		q++;
	}
	if (q >= c->end)
		return false;
	*s = c->p + 1;
	*n = (size_t)(q - *s);
	c->p = q + 1;
	return true;
}

/* The text of a bare JSON number (fx_parse checks its grammar). */
static inline bool num(struct cur *c, const char **s, size_t *n)
{
	const char *q;

	ws(c);
	q = c->p;
	while (q < c->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == '-' || *q == 'e' ||
			      *q == 'E' || *q == '+'))
		q++;
	if (q == c->p)
		return false;
	*s = c->p;
	*n = (size_t)(q - c->p);
	c->p = q;
	return true;
}

/* A decimal at scale. The common form, digits with at most scale decimals
 * and at most 18 digits in all, is computed here; for it fx_parse would give
 * the same value. Every other text (sign, exponent, leading zero, more
 * decimals, longer) goes to fx_parse itself. */
static inline bool decimal(struct cur *c, int scale, int64_t *out)
{
	const char *p, *s;
	uint64_t ip = 0, fp = 0; /* at most 19 digits each: no overflow */
	int nd = 0, nf = 0;
	size_t n;

	ws(c);
	p = c->p;
	while (p < c->end && *p >= '0' && *p <= '9' && nd < 19) {
		ip = ip * 10u + (uint64_t)(*p - '0');
		p++;
		nd++;
	}
	if (nd > 0 && nd < 19 && !(nd > 1 && c->p[0] == '0')) {
		if (p < c->end && *p == '.') {
			/* One digit past scale is enough to send the text to fx_parse. */
			p++;
			while (p < c->end && *p >= '0' && *p <= '9' && nf <= scale) {
				fp = fp * 10u + (uint64_t)(*p - '0');
				p++;
				nf++;
			}
		}
		if (p < c->end && *p != 'e' && *p != 'E' && *p != '.' && (*p < '0' || *p > '9') &&
		    (nf > 0 || p[-1] != '.') && nf <= scale && nd + scale <= 18) {
			/* nd + scale <= 18 digits: below 10^18. */
			*out = (int64_t)(ip * fx_pow10_u64[scale] + fp * fx_pow10_u64[scale - nf]);
			c->p = p;
			return true;
		}
	}
	return num(c, &s, &n) && fx_parse(s, n, scale, out) == 0;
}

static bool side(struct cur *c, const struct kr_pair *p, struct kr_level *out, uint32_t *count)
{
	uint32_t k = 0;

	if (!LIT(c, "["))
		return false;
	if (LIT(c, "]")) {
		*count = 0;
		return true;
	}
	for (;;) {
		if (k == KR_MAX_LEVELS || !LIT(c, "{") || !LIT(c, "\"price\"") || !LIT(c, ":") ||
		    !decimal(c, p->price_precision, &out[k].price) || out[k].price <= 0 ||
		    !LIT(c, ",") || !LIT(c, "\"qty\"") || !LIT(c, ":") ||
		    !decimal(c, p->qty_precision, &out[k].qty) || out[k].qty < 0 || !LIT(c, "}"))
			return false;
		k++;
		if (LIT(c, "]"))
			break;
		if (!LIT(c, ","))
			return false;
	}
	*count = k;
	return true;
}

/* A canonical unsigned integer up to UINT32_MAX, as kr__u64 demands. */
static bool checksum(struct cur *c, uint32_t *out)
{
	const char *s;
	size_t n;
	uint64_t v = 0;

	if (!num(c, &s, &n) || n > 10 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10u + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool kr__decode_book_fast(struct kr_decoder *d, const char *frame, size_t len, struct kr_event *ev)
{
	struct cur c = {frame, frame + len};
	struct kr_book_event *b = &ev->book;
	const struct kr_pair *p;
	const char *s;
	size_t n;
	uint32_t id;
	bool snapshot;

	if (!LIT(&c, "{") || !LIT(&c, "\"channel\"") || !LIT(&c, ":") || !LIT(&c, "\"book\"") ||
	    !LIT(&c, ",") || !LIT(&c, "\"type\"") || !LIT(&c, ":") || !str(&c, &s, &n))
		return false;
	if (n == 6 && memcmp(s, "update", 6) == 0)
		snapshot = false;
	else if (n == 8 && memcmp(s, "snapshot", 8) == 0)
		snapshot = true;
	else
		return false;
	if (!LIT(&c, ",") || !LIT(&c, "\"data\"") || !LIT(&c, ":") || !LIT(&c, "[") ||
	    !LIT(&c, "{") || !LIT(&c, "\"symbol\"") || !LIT(&c, ":") || !str(&c, &s, &n))
		return false;
	id = kr__find(d, s, n);
	if (id == KR_PAIR_NONE)
		return false;
	p = &d->pairs[id];
	if (!LIT(&c, ",") || !LIT(&c, "\"bids\"") || !LIT(&c, ":") ||
	    !side(&c, p, b->bids, &b->n_bids) || !LIT(&c, ",") || !LIT(&c, "\"asks\"") ||
	    !LIT(&c, ":") || !side(&c, p, b->asks, &b->n_asks) || !LIT(&c, ",") ||
	    !LIT(&c, "\"checksum\"") || !LIT(&c, ":") || !checksum(&c, &b->checksum) ||
	    !LIT(&c, ",") || !LIT(&c, "\"timestamp\"") || !LIT(&c, ":") || !str(&c, &s, &n) ||
	    clock_parse_rfc3339(s, n, &b->timestamp_ns) != 0 || !LIT(&c, "}") || !LIT(&c, "]") ||
	    !LIT(&c, "}"))
		return false;
	ws(&c);
	if (c.p != c.end)
		return false;
	b->pair_id = id;
	b->snapshot = snapshot;
	b->price_scale = p->price_precision;
	b->qty_scale = p->qty_precision;
	ev->kind = KR_EV_BOOK;
	return true;
}

/* Kraken CRC32 over fixed-point levels (PROTOCOL.md §2.4). The token of a
 * price or quantity is the scaled integer's own digits: writing the value at
 * the pair's full precision, deleting the '.' and stripping leading zeros
 * gives exactly those digits, whatever text the JSON carried. */
#include "book/book_int.h"

#include <string.h>

static const char digit_pairs[200] = "00010203040506070809"
				     "10111213141516171819"
				     "20212223242526272829"
				     "30313233343536373839"
				     "40414243444546474849"
				     "50515253545556575859"
				     "60616263646566676869"
				     "70717273747576777879"
				     "80818283848586878889"
				     "90919293949596979899";

static const uint64_t pow10_u64[20] = {1u,
				       10u,
				       100u,
				       1000u,
				       10000u,
				       100000u,
				       1000000u,
				       10000000u,
				       100000000u,
				       1000000000u,
				       10000000000u,
				       100000000000u,
				       1000000000000u,
				       10000000000000u,
				       100000000000000u,
				       1000000000000000u,
				       10000000000000000u,
				       100000000000000000u,
				       1000000000000000000u,
				       10000000000000000000u};

/* Number of decimal digits of v (1 for zero), without a loop: the bit length
 * times log10(2) (about 1233 / 4096) is the digit count or one less. */
static inline unsigned count_digits(uint64_t v)
{
	unsigned bits = 64u - (unsigned)__builtin_clzll(v | 1u);
	unsigned t = (bits * 1233u) >> 12;
	return t + (v >= pow10_u64[t] || v == 0 ? 1u : 0u);
}

/* Writes the digits of u backwards from their known end, two per step: the
 * division by the constant 100 compiles to a multiplication. A SWAR variant
 * writing eight digits per 64-bit word measured slower on typical price and
 * quantity widths (6 to 13 digits), so the plain loop stays. */
static inline size_t put_token(char *out, uint64_t u)
{
	unsigned n = count_digits(u);
	char *p = out + n;

	while (u >= 100u) {
		size_t r = (size_t)(u % 100u) * 2u;
		u /= 100u;
		p -= 2;
		memcpy(p, digit_pairs + r, 2);
	}
	if (u >= 10u) {
		p -= 2;
		memcpy(p, digit_pairs + (size_t)u * 2u, 2);
	} else {
		*--p = (char)('0' + (char)u);
	}
	return n;
}

/* |v| in unsigned arithmetic, so that INT64_MIN is defined. */
static inline uint64_t magnitude(int64_t v)
{
	return v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
}

size_t book__token(int64_t v, char *out)
{
	return put_token(out, magnitude(v));
}

/* Room for the 10 + 10 levels of a level-2 checksum, so that one crc32() call
 * covers them; longer inputs (level3) are hashed in chunks. */
#define TEXT_CHUNK (2u * BOOK_CHECKSUM_LEVELS * 2u * BOOK__TOKEN_MAX)

static inline size_t put_level(char *p, const struct book_level *l)
{
	size_t n = put_token(p, magnitude(l->price));
	return n + put_token(p + n, magnitude(l->qty));
}

uint32_t book_checksum_levels(const struct book_level *asks, size_t na,
			      const struct book_level *bids, size_t nb)
{
	char buf[TEXT_CHUNK];
	size_t len = 0;
	uint32_t crc = 0;

	for (size_t i = 0; i < na + nb; i++) {
		const struct book_level *l = i < na ? &asks[i] : &bids[i - na];
		if (len > TEXT_CHUNK - 2u * BOOK__TOKEN_MAX) {
			crc = book__crc32((uint32_t)crc, buf, len);
			len = 0;
		}
		len += put_level(buf + len, l);
	}
	crc = book__crc32((uint32_t)crc, buf, len);
	return (uint32_t)crc;
}

/* One side's text into out, from the previous set old (nold entries) where
 * the level is there, writing the new set nw. */
static size_t side_text(const struct book__tok *old, size_t nold, struct book__tok *nw,
			const struct book_level *lv, size_t n, char *out)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		const struct book__tok *hit = NULL;
		size_t k = i > 0 ? i - 1 : 0;

		for (; k <= i + 1 && k < nold; k++) {
			if (old[k].price == lv[i].price && old[k].qty == lv[i].qty) {
				hit = &old[k];
				break;
			}
		}
		if (hit) {
			nw[i] = *hit;
		} else {
			nw[i].price = lv[i].price;
			nw[i].qty = lv[i].qty;
			nw[i].len = put_level(nw[i].text, &lv[i]);
			hit = &nw[i];
		}
		/* A fixed-size copy is a few vector moves; out has room for
		 * BOOK_CHECKSUM_LEVELS full-size texts per side. It reads the
		 * old entry, not the copy just stored, which the CPU could not
		 * forward to the load. */
		memcpy(out + len, hit->text, sizeof(hit->text));
		len += nw[i].len;
	}
	return len;
}

uint32_t book__checksum_cached(struct book__tokcache *c, const struct book_level *asks, size_t na,
			       const struct book_level *bids, size_t nb)
{
	char buf[TEXT_CHUNK];
	unsigned cur = c->cur, nxt = cur ^ 1u;
	size_t len;

	if (na > BOOK_CHECKSUM_LEVELS)
		na = BOOK_CHECKSUM_LEVELS;
	if (nb > BOOK_CHECKSUM_LEVELS)
		nb = BOOK_CHECKSUM_LEVELS;
	len = side_text(c->e[cur][0], c->n[cur][0], c->e[nxt][0], asks, na, buf);
	len += side_text(c->e[cur][1], c->n[cur][1], c->e[nxt][1], bids, nb, buf + len);
	c->n[nxt][0] = na;
	c->n[nxt][1] = nb;
	c->cur = nxt;
	return book__crc32(0, buf, len);
}

int book__checksum_text(const struct book_level *asks, size_t na, const struct book_level *bids,
			size_t nb, char *buf, size_t cap)
{
	char tmp[2u * BOOK__TOKEN_MAX];
	size_t len = 0;

	for (size_t i = 0; i < na + nb; i++) {
		const struct book_level *l = i < na ? &asks[i] : &bids[i - na];
		size_t n = put_level(tmp, l);
		if (n > cap - len)
			return ERR_RANGE;
		memcpy(buf + len, tmp, n);
		len += n;
	}
	return (int)len;
}

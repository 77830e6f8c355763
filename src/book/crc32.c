/* CRC-32 (zlib / IEEE 802.3, reflected) for the book checksum. On x86-64
 * CPUs with PCLMULQDQ, 16-byte blocks are folded with carry-less multiplies
 * (Gopal et al., "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ Instruction", Intel 2009: fold by 128 bits with x^(128+32) and
 * x^(128-32) mod P, reduce 128 to 64 bits, then Barrett-reduce to 32); the
 * tail below 16 bytes and other CPUs use zlib. A level-2 checksum text is
 * 200 to 400 bytes, where this is several times faster than zlib's tables. */
#include "book/book_int.h"

#include <zlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define HAVE_CLMUL_PATH 1

/* The constants for the reflected polynomial 0x104C11DB7 (bit-reflected
 * domain, from the paper): k3 = x^(128+32) mod P, k4 = x^(128-32) mod P,
 * k5 = x^64 mod P, P' = the polynomial, u = floor(x^64 / P). */
#define K3 0x01751997d0ll
#define K4 0x00ccaa009ell
#define K5 0x0163cd6124ll
#define PP 0x01db710641ll
#define MU 0x01f7011641ll

__attribute__((target("pclmul,sse4.1"))) static uint32_t
crc_clmul(uint32_t crc, const unsigned char *p, size_t len)
{
	const __m128i k34 = _mm_set_epi64x(K4, K3);
	const __m128i k5 = _mm_set_epi64x(0, K5);
	const __m128i pu = _mm_set_epi64x(MU, PP);
	const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
	__m128i x, t;

	/* len is a positive multiple of 16. */
	x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)p),
			  _mm_cvtsi32_si128((int)~crc));
	for (p += 16, len -= 16; len > 0; p += 16, len -= 16) {
		__m128i lo = _mm_clmulepi64_si128(x, k34, 0x00);
		__m128i hi = _mm_clmulepi64_si128(x, k34, 0x11);
		x = _mm_xor_si128(_mm_xor_si128(lo, hi),
				  _mm_loadu_si128((const __m128i *)(const void *)p));
	}
	/* 128 bits to 96, then to 64. */
	t = _mm_clmulepi64_si128(x, k34, 0x10);
	x = _mm_xor_si128(_mm_srli_si128(x, 8), t);
	t = _mm_srli_si128(x, 4);
	x = _mm_clmulepi64_si128(_mm_and_si128(x, low32), k5, 0x00);
	x = _mm_xor_si128(x, t);
	/* Barrett reduction to 32 bits. */
	t = _mm_clmulepi64_si128(_mm_and_si128(x, low32), pu, 0x10);
	t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), pu, 0x00);
	x = _mm_xor_si128(x, t);
	return ~(uint32_t)_mm_extract_epi32(x, 1);
}

static bool portable;

/* __builtin_cpu_supports reads what libgcc's start-up code found: a load. */
static bool have_clmul(void)
{
	return !portable && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}
#endif

uint32_t book__crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

#ifdef HAVE_CLMUL_PATH
	if (len >= 16 && have_clmul()) {
		size_t blocks = len & ~(size_t)15u;

		crc = crc_clmul(crc, p, blocks);
		p += blocks;
		len -= blocks;
	}
#endif
	return (uint32_t)crc32_z(crc, p, len);
}

void book__crc32_force_portable(bool on)
{
#ifdef HAVE_CLMUL_PATH
	portable = on;
#else
	(void)on;
#endif
}

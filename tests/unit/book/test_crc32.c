/* book__crc32 (PCLMULQDQ folding where the CPU has it) against zlib, at every
 * length up to 1 KiB, every start offset within 16 bytes, and continued from
 * a running CRC; then the portable path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <zlib.h>

#include "book/book_int.h"

static unsigned char data[1024 + 16];

static void fill(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < sizeof(data); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		data[i] = (unsigned char)x;
	}
}

static void check_all(void)
{
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len <= 1024; len++) {
			uint32_t want = (uint32_t)crc32_z(0, data + off, len);
			uint32_t got = book__crc32(0, data + off, len);
			if (want != got)
				fail_msg("offset %zu length %zu: %08x, zlib %08x", off, len, got,
					 want);
		}
	/* Continued: crc(a || b) from crc(a). */
	for (size_t split = 0; split <= 300; split += 7) {
		uint32_t a = book__crc32(0, data, split);
		assert_int_equal(book__crc32(a, data + split, 300 - split),
				 (uint32_t)crc32_z(0, data, 300));
	}
}

static void test_matches_zlib(void **state)
{
	(void)state;
	fill();
	check_all();
	/* The documented example checksum input of the v2 guide. */
	{
		static const char in[] =
		    "452852100000452864154571953452866154571109452896154560911452902158906604529"
		    "181545534914529474454749452961353800004529759945542452995187728274528351000"
		    "000045283415458201545282110000000452810100000004528031545925864527907990000"
		    "45277633101034527753000000045277315460273745276615445238";
		assert_int_equal(book__crc32(0, in, sizeof(in) - 1), 3310070434u);
	}
}

static void test_portable(void **state)
{
	(void)state;
	book__crc32_force_portable(true);
	check_all();
	book__crc32_force_portable(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matches_zlib),
	    cmocka_unit_test(test_portable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* core/alloc_count: the replacement allocator sees our calls and libc's own,
 * counts only while enabled, and keeps memory usable both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/alloc_count.h"

/* Keeps the compiler from pairing and removing malloc/free. */
static void *volatile sink;

static void test_counts_when_enabled(void **state)
{
	struct alloc_stats a, b;
	uint64_t before;
	void *p = NULL;

	(void)state;
	if (!alloc_count_supported()) {
		alloc_count_enable(true);
		sink = malloc(16);
		free(sink);
		alloc_count_enable(false);
		assert_int_equal(alloc_count(), 0);
		skip();
	}
	alloc_count_enable(true);
	alloc_count_stats(&a);
	sink = malloc(32);
	sink = realloc(sink, 4096);
	free(sink);
	sink = calloc(4, 8);
	free(sink);
	free(NULL);
	assert_int_equal(posix_memalign(&p, 64, 100), 0);
	assert_true(((uintptr_t)p & 63u) == 0);
	free(p);
	alloc_count_stats(&b);
	assert_int_equal(b.mallocs - a.mallocs, 2);
	assert_int_equal(b.reallocs - a.reallocs, 1);
	assert_int_equal(b.callocs - a.callocs, 1);
	assert_int_equal(b.frees - a.frees, 3);

	/* strdup allocates inside libc: the replacement sees it too. */
	before = alloc_count();
	sink = strdup("counted inside libc");
	assert_true(alloc_count() > before);
	free(sink);
	alloc_count_enable(false);
}

static void test_off_counts_nothing(void **state)
{
	uint64_t before;

	(void)state;
	alloc_count_enable(false);
	before = alloc_count();
	for (int i = 0; i < 100; i++) {
		sink = malloc((size_t)i + 1);
		free(sink);
	}
	assert_int_equal(alloc_count(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_when_enabled),
	    cmocka_unit_test(test_off_counts_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

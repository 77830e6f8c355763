/* The counters of the counting allocator (see alloc_count.h). Each
 * replacement lives in its own object file (alloc_malloc.c, alloc_calloc.c,
 * alloc_realloc.c, alloc_free.c, alloc_memalign.c) so that the linker takes
 * from libarb_core.a only those a binary does not define itself: a test
 * that brings its own malloc keeps it, and gets ours for the rest. Each one
 * forwards to glibc's allocator entry points, so nothing here allocates and
 * no bootstrap buffer is needed before dlsym, as an RTLD_NEXT interposer
 * would need. */
#include "core/alloc_count.h"

#include "core/alloc_int.h"

atomic_bool alloc__counting;
_Atomic uint64_t alloc__n_malloc, alloc__n_calloc, alloc__n_realloc, alloc__n_free;

void alloc_count_enable(bool on)
{
	atomic_store_explicit(&alloc__counting, on, memory_order_relaxed);
}

uint64_t alloc_count(void)
{
	struct alloc_stats s;

	alloc_count_stats(&s);
	return s.mallocs + s.callocs + s.reallocs + s.frees;
}

void alloc_count_stats(struct alloc_stats *out)
{
	out->mallocs = atomic_load_explicit(&alloc__n_malloc, memory_order_relaxed);
	out->callocs = atomic_load_explicit(&alloc__n_calloc, memory_order_relaxed);
	out->reallocs = atomic_load_explicit(&alloc__n_realloc, memory_order_relaxed);
	out->frees = atomic_load_explicit(&alloc__n_free, memory_order_relaxed);
}

bool alloc_count_supported(void)
{
#ifdef ARB_ALLOC_NATIVE
	return false;
#else
	return true;
#endif
}

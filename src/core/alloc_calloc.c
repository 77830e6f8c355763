/* The counting calloc (alloc_count.c says why each is its own file). */
#include "core/alloc_int.h"

#ifndef ARB_ALLOC_NATIVE

void *calloc(size_t k, size_t n)
{
	alloc__count(&alloc__n_calloc);
	return __libc_calloc(k, n);
}

#endif

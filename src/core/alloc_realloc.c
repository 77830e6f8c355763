/* The counting realloc (alloc_count.c says why each is its own file). */
#include "core/alloc_int.h"

#ifndef ARB_ALLOC_NATIVE

void *realloc(void *p, size_t n)
{
	alloc__count(&alloc__n_realloc);
	return __libc_realloc(p, n);
}

#endif

/* The counting malloc (alloc_count.c says why each is its own file). */
#include "core/alloc_int.h"

#ifndef ARB_ALLOC_NATIVE

void *malloc(size_t n)
{
	alloc__count(&alloc__n_malloc);
	return __libc_malloc(n);
}

#endif

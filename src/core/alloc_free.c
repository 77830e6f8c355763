/* The counting free (alloc_count.c says why each is its own file). */
#include "core/alloc_int.h"

#ifndef ARB_ALLOC_NATIVE

void free(void *p)
{
	if (p == NULL)
		return;
	alloc__count(&alloc__n_free);
	__libc_free(p);
}

#endif

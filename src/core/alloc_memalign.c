/* The counting memalign (alloc_count.c says why each is its own file). */
#include "core/alloc_int.h"

#include <errno.h>

#ifndef ARB_ALLOC_NATIVE

void *memalign(size_t align, size_t n)
{
	alloc__count(&alloc__n_malloc);
	return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	alloc__count(&alloc__n_malloc);
	return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	/* POSIX: a power of two multiple of sizeof(void *). */
	if (align < sizeof(void *) || (align & (align - 1u)) != 0)
		return EINVAL;
	alloc__count(&alloc__n_malloc);
	p = __libc_memalign(align, n);
	if (p == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

#endif

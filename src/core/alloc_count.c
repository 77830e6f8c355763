/* The counting allocator (see alloc_count.h). Each replacement forwards to
 * glibc's allocator entry points, so nothing here allocates itself and no
 * bootstrap buffer is needed before dlsym, as an RTLD_NEXT interposer would. */
#include "core/alloc_count.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARB_ALLOC_NATIVE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARB_ALLOC_NATIVE 1
#endif
#endif

static atomic_bool counting;
static _Atomic uint64_t n_malloc, n_calloc, n_realloc, n_free;

void alloc_count_enable(bool on)
{
	atomic_store_explicit(&counting, on, memory_order_relaxed);
}

uint64_t alloc_count(void)
{
	struct alloc_stats s;

	alloc_count_stats(&s);
	return s.mallocs + s.callocs + s.reallocs + s.frees;
}

void alloc_count_stats(struct alloc_stats *out)
{
	out->mallocs = atomic_load_explicit(&n_malloc, memory_order_relaxed);
	out->callocs = atomic_load_explicit(&n_calloc, memory_order_relaxed);
	out->reallocs = atomic_load_explicit(&n_realloc, memory_order_relaxed);
	out->frees = atomic_load_explicit(&n_free, memory_order_relaxed);
}

#ifdef ARB_ALLOC_NATIVE

bool alloc_count_supported(void)
{
	return false;
}

#else

bool alloc_count_supported(void)
{
	return true;
}

/* glibc's own entry points (exported by libc.so.6 since 2.0). */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t k, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);

/* The replacements have external linkage by design; their prototypes are
 * <stdlib.h>'s, which is not included so that glibc's attributes on them do
 * not clash with these definitions. */
void *malloc(size_t n);
void *calloc(size_t k, size_t n);
void *realloc(void *p, size_t n);
void free(void *p);
int posix_memalign(void **out, size_t align, size_t n);
void *aligned_alloc(size_t align, size_t n);
void *memalign(size_t align, size_t n);

static inline void count(_Atomic uint64_t *c)
{
	if (__builtin_expect(atomic_load_explicit(&counting, memory_order_relaxed), 0))
		atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

void *malloc(size_t n)
{
	count(&n_malloc);
	return __libc_malloc(n);
}

void *calloc(size_t k, size_t n)
{
	count(&n_calloc);
	return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
	count(&n_realloc);
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (p == NULL)
		return;
	count(&n_free);
	__libc_free(p);
}

void *memalign(size_t align, size_t n)
{
	count(&n_malloc);
	return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	count(&n_malloc);
	return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	/* POSIX: a power of two multiple of sizeof(void *). */
	if (align < sizeof(void *) || (align & (align - 1u)) != 0)
		return EINVAL;
	count(&n_malloc);
	p = __libc_memalign(align, n);
	if (p == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

#endif

/* Shared by src/core/alloc_*.c only: the counters behind alloc_count.h. */
#ifndef ARB_CORE_ALLOC_INT_H
#define ARB_CORE_ALLOC_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARB_ALLOC_NATIVE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARB_ALLOC_NATIVE 1
#endif
#endif

extern atomic_bool alloc__counting;
extern _Atomic uint64_t alloc__n_malloc, alloc__n_calloc, alloc__n_realloc, alloc__n_free;

static inline void alloc__count(_Atomic uint64_t *c)
{
	if (__builtin_expect(atomic_load_explicit(&alloc__counting, memory_order_relaxed), 0))
		atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
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

#endif

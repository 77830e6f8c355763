/* Counting the process's heap calls, to prove the hot path allocates nothing.
 *
 * How: src/core/alloc_*.c define malloc, calloc, realloc, free,
 * posix_memalign, aligned_alloc and memalign, each forwarding to glibc's own
 * allocator (__libc_malloc and friends, which glibc exports for exactly this
 * kind of replacement). A definition in the executable takes precedence over
 * libc.so's, so every call in the process is seen: our static libraries, the
 * shared libraries (DuckDB, OpenSSL, libwebsockets) and libc itself. Each
 * replacement is its own object in libarb_core.a, pulled in by the linker as
 * soon as a binary calls that function without defining it: every binary
 * linking core has them, and a test that defines its own malloc keeps it
 * (its calls are then not counted here). Memory from either side is the same
 * glibc heap, so mixing is safe.
 *
 * Counting is off until alloc_count_enable(true): while off, each call costs
 * one well-predicted branch on a read-mostly flag, so production threads do
 * not contend on the counters. While on, each call is one relaxed atomic add.
 *
 * Under AddressSanitizer (make sanitize) the sanitizer owns malloc, so the
 * replacement is not compiled: alloc_count_supported() is false and the
 * counters stay 0. Callers must report "not measured" then, never "zero".
 *
 * Any thread may call every function here. */
#ifndef ARB_CORE_ALLOC_COUNT_H
#define ARB_CORE_ALLOC_COUNT_H

#include <stdbool.h>
#include <stdint.h>

struct alloc_stats {
	uint64_t mallocs;  /* malloc, posix_memalign, aligned_alloc, memalign */
	uint64_t callocs;  /* calloc */
	uint64_t reallocs; /* realloc (also realloc(NULL, n) and realloc(p, 0)) */
	uint64_t frees;	   /* free of a non-NULL pointer */
};

/* True when the counting allocator is compiled in (not under ASan). */
bool alloc_count_supported(void);

/* Starts (true) or stops (false) counting; counts are kept across a stop. */
void alloc_count_enable(bool on);

/* Every counted heap call so far: mallocs + callocs + reallocs + frees. Take
 * it before and after a section; the difference is that section's calls (of
 * every thread of the process). */
uint64_t alloc_count(void);

/* The same, by kind. */
void alloc_count_stats(struct alloc_stats *out);

#endif

/* The libFuzzer entry point each fuzz/fuzz_<name>.c defines. The same file
 * links either with libFuzzer (ARB_FUZZ, `make fuzz`) or with replay_main.c,
 * which feeds it every file of fuzz/regressions/<name>/ and
 * fuzz/corpus/<name>/ under ctest. A target aborts (__builtin_trap) when an
 * invariant breaks; the sanitizers catch the rest. */
#ifndef ARB_FUZZ_FUZZ_H
#define ARB_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input of size bytes (borrowed for the call). Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the target when cond is false: a bug the sanitizers cannot see. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#endif

/* Time. Read the clock once per event: stamp on arrival, pass the stamp down.
 * The replay clock sits behind the same struct, which keeps backtests
 * deterministic. */
#ifndef ARB_CORE_CLOCK_H
#define ARB_CORE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in ns; never goes back. Any thread. */
uint64_t clock_mono_ns(void);
/* CLOCK_REALTIME in ns since the Unix epoch. Any thread. */
int64_t clock_wall_ns(void);

/* The seam: live code asks a struct clock, replay substitutes its own. */
struct clock {
	uint64_t (*mono_ns)(void *ctx);
	int64_t (*wall_ns)(void *ctx);
	void *ctx;
};
extern const struct clock clock_system;

/* A manual clock for replay and tests: both readings return *ctx-held time. */
struct clock_manual {
	int64_t wall_ns;
};
struct clock clock_manual_make(struct clock_manual *m);

/* Writes "YYYY-MM-DDTHH:MM:SS.fffffffffZ" (frac_digits 0..9 fractional digits,
 * none and no dot when 0), NUL terminated, in UTC. The fraction is truncated,
 * never rounded. Returns the length, ERR_RANGE if cap is too small (cap >= 31
 * always suffices) or ERR_INVALID if frac_digits is outside 0..9. Any thread. */
int clock_fmt_rfc3339(int64_t wall_ns, int frac_digits, char *buf, size_t cap);

/* Parses RFC3339 ("2021-05-11T19:47:09.896860Z", offsets like +02:00 too)
 * into ns since the epoch. Exactly len bytes: a date, 'T', a time, an optional
 * fraction of 1..9 digits, then 'Z' or +HH:MM/-HH:MM ('t' and 'z' too, as RFC
 * 3339 allows). Out-of-range fields, leap seconds (:60), anything else and
 * times outside the int64 ns range are ERR_PARSE. No locale or TZ use. */
int clock_parse_rfc3339(const char *s, size_t len, int64_t *out_ns);

#endif

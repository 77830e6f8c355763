/* Error codes shared by every module.
 *
 * A function that can fail returns int: 0 on success, -errno for a failed
 * syscall, or a negative ERR_* code below. ERR_* values sit below every errno
 * value, so err_str() can name either kind. When the caller needs detail (which
 * config key, which JSON field) it passes a struct err_info, whose fixed buffer
 * means reporting an error never allocates. */
#ifndef ARB_CORE_ERR_H
#define ARB_CORE_ERR_H

#include <stddef.h>

enum err_code {
	ERR_BASE = -10000,
	ERR_INVALID = -10001,	/* bad argument or input */
	ERR_PARSE = -10002,	/* malformed text: JSON, number, config line */
	ERR_SCHEMA = -10003,	/* well-formed input with a wrong shape */
	ERR_RANGE = -10004,	/* value out of bounds, overflow */
	ERR_NOMEM = -10005,	/* allocation failed (start-up paths only) */
	ERR_FULL = -10006,	/* a fixed capacity (ring, table) is exhausted */
	ERR_EMPTY = -10007,	/* nothing to read */
	ERR_NOTFOUND = -10008,	/* unknown key, symbol, route */
	ERR_CONFIG = -10009,	/* configuration rule broken */
	ERR_CRYPTO = -10010,	/* a crypto primitive failed */
	ERR_AUTH = -10011,	/* token or signature does not verify */
	ERR_EXPIRED = -10012,	/* token past its TTL */
	ERR_IO = -10013,	/* I/O failed without an errno */
	ERR_DB = -10014,	/* DuckDB reported an error */
	ERR_TIMEOUT = -10015,	/* deadline passed */
	ERR_BADSTATE = -10016,	/* call not valid in the current state */
	ERR_CHECKSUM = -10017,	/* book checksum mismatch */
	ERR_EXCHANGE = -10018,	/* the exchange returned an error (text in err_info) */
	ERR_RATELIMIT = -10019, /* rate limit reached */
	ERR_NET = -10020,	/* network / transport failure */
	ERR_UNKNOWN = -10021,	/* outcome unknown (e.g. order sent, no reply) */
	ERR_REJECTED = -10022,	/* refused by a rule (risk, permissions) */
	ERR_LAST = -10023
};

/* Detail for an error, filled by the callee when given. msg is always NUL
 * terminated; it never contains secret values. */
struct err_info {
	int code;
	char msg[256];
};

/* Static, never NULL, for both -errno values and ERR_* codes. Thread-safe. */
const char *err_str(int code);

/* Fills info (if not NULL) with code and a printf-style message; returns code
 * so callers can write `return err_set(info, ERR_PARSE, "...")`. */
int err_set(struct err_info *info, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

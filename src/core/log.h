/* Structured, levelled, asynchronous logging.
 *
 * A LOG_* macro checks the level before formatting anything, formats one
 * fixed-size record on the caller's stack and pushes it onto an MPSC ring;
 * the log thread writes records out as JSON lines {ts, level, module, msg,
 * fields} or as readable text. Callers never block: when the ring is full the
 * record is dropped and counted (log_dropped()).
 *
 * Fields are a printf format of space-separated key=value pairs, e.g.
 *   LOG_WARN("book", "checksum mismatch", "symbol=%s expected=%u got=%u", s, a, b);
 * A value containing spaces or quotes must be written key="..." (quotes are
 * added by log_q()). Numbers are emitted as JSON numbers, the rest as strings.
 * An unquoted value that matches the JSON number grammar is a number, anything
 * else (and any quoted value) a string; a bare word without '=' becomes
 * "word":true. Pass NULL when there are no fields (GCC rejects an empty ""
 * format under -Wformat-zero-length).
 *
 * Each record holds at most LOG_MODULE_MAX - 1 bytes of module, LOG_MSG_MAX - 1
 * of msg and LOG_FIELDS_MAX - 1 of formatted fields; longer text is cut and the
 * line is marked "truncated":true. JSON output is always valid UTF-8: invalid
 * bytes become U+FFFD.
 *
 * Never pass a secret: struct secret has no accessor for logs and prints as
 * LOG_REDACTED. */
#ifndef ARB_CORE_LOG_H
#define ARB_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h" /* err_str() in the _ERR macros */

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

#define LOG_MODULE_MAX 16
#define LOG_MSG_MAX    96
#define LOG_FIELDS_MAX 388
#define LOG_RING_CAP   4096

#define LOG_REDACTED "[redacted]"

struct log_options {
	enum log_level level;
	bool json; /* false: readable text */
	int fd;	   /* where the log thread writes; 2 for stderr */
};

/* The current minimum level; read by the macros without a lock. Defaults to
 * LOG_LEVEL_INFO; log_start sets it from the options. */
extern int log__level;

/* Starts the log thread. Before log_start (and after log_stop) records are
 * written synchronously to stderr (text, or JSON once a JSON log has run), so
 * early start-up errors are never lost. The log thread blocks all signals,
 * writes to opt->fd (borrowed: the caller keeps it open until log_stop returns
 * and closes it afterwards) and sleeps ~2 ms when the ring is empty.
 * Returns 0, -EINVAL for a bad fd, -EALREADY if running, or -errno.
 * Call from main; may be called again after log_stop. */
int log_start(const struct log_options *opt);

/* Drains the ring, writes everything still queued and joins the thread. A
 * record written concurrently either reaches the ring before the drain or goes
 * synchronously to stderr; none is lost. No-op if not running. Call from the
 * thread that called log_start. */
void log_stop(void);

/* Records dropped because the ring was full (monotonic counter). */
uint64_t log_dropped(void);

/* Parses "debug|info|warn|error"; returns 0 or ERR_PARSE. */
int log_level_parse(const char *s, enum log_level *out);

/* Quotes s for use as a field value: writes "..." into buf with '"' and '\\'
 * escaped, cut to fit cap (the closing quote is always written when cap >= 3).
 * Returns buf, for use as a %s argument. Any thread. */
const char *log_q(char *buf, size_t cap, const char *s);

/* Called by the macros only: formats one record and queues it (or writes it
 * to stderr when the log thread is not running). Any thread; never blocks on
 * the log thread. fields_fmt may be NULL. */
void log__write(enum log_level lvl, const char *module, const char *msg, const char *fields_fmt,
		...) __attribute__((format(printf, 4, 5)));

#define LOG_AT(lvl, mod, msg, ...)                                                                 \
	do {                                                                                       \
		if ((int)(lvl) >= log__level)                                                      \
			log__write((lvl), (mod), (msg), __VA_ARGS__);                              \
	} while (0)

#define LOG_DEBUG(mod, msg, ...) LOG_AT(LOG_LEVEL_DEBUG, mod, msg, __VA_ARGS__)
#define LOG_INFO(mod, msg, ...)	 LOG_AT(LOG_LEVEL_INFO, mod, msg, __VA_ARGS__)
#define LOG_WARN(mod, msg, ...)	 LOG_AT(LOG_LEVEL_WARN, mod, msg, __VA_ARGS__)
#define LOG_ERROR(mod, msg, ...) LOG_AT(LOG_LEVEL_ERROR, mod, msg, __VA_ARGS__)

/* _err variants append err="<err_str(rc)>" (errno or ERR_* code). */
#define LOG_WARN_ERR(mod, msg, rc, fmt, ...)                                                       \
	LOG_AT(LOG_LEVEL_WARN, mod, msg, fmt " err=\"%s\"", ##__VA_ARGS__, err_str(rc))
#define LOG_ERROR_ERR(mod, msg, rc, fmt, ...)                                                      \
	LOG_AT(LOG_LEVEL_ERROR, mod, msg, fmt " err=\"%s\"", ##__VA_ARGS__, err_str(rc))

/* A rate limiter for hot-path warnings: true at most once per interval_ns
 * (the first call is always true). suppressed counts the calls that returned
 * false, monotonically. Single-threaded per instance; use one static per call
 * site, zero-initialised. */
struct log_ratelimit {
	uint64_t next_ns;
	uint64_t suppressed;
};
bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ns, uint64_t interval_ns);

#endif

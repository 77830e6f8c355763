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
 * Never pass a secret: struct secret has no accessor for logs and prints as
 * LOG_REDACTED. */
#ifndef ARB_CORE_LOG_H
#define ARB_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

#define LOG_REDACTED "[redacted]"

struct log_options {
	enum log_level level;
	bool json;  /* false: readable text */
	int fd;     /* where the log thread writes; 2 for stderr */
};

/* The current minimum level; read by the macros without a lock. */
extern int log__level;

/* Starts the log thread. Before log_start (and after log_stop) records are
 * written synchronously to stderr, so early start-up errors are never lost.
 * Returns 0 or -errno. Call once from main. */
int log_start(const struct log_options *opt);

/* Drains the ring, writes everything still queued and joins the thread. */
void log_stop(void);

/* Records dropped because the ring was full (monotonic counter). */
uint64_t log_dropped(void);

/* Parses "debug|info|warn|error"; returns 0 or ERR_PARSE. */
int log_level_parse(const char *s, enum log_level *out);

void log__write(enum log_level lvl, const char *module, const char *msg, const char *fields_fmt,
		...) __attribute__((format(printf, 4, 5)));

#define LOG_AT(lvl, mod, msg, ...)                                                                 \
	do {                                                                                       \
		if ((int)(lvl) >= log__level)                                                      \
			log__write((lvl), (mod), (msg), __VA_ARGS__);                               \
	} while (0)

#define LOG_DEBUG(mod, msg, ...) LOG_AT(LOG_LEVEL_DEBUG, mod, msg, __VA_ARGS__)
#define LOG_INFO(mod, msg, ...)	 LOG_AT(LOG_LEVEL_INFO, mod, msg, __VA_ARGS__)
#define LOG_WARN(mod, msg, ...)	 LOG_AT(LOG_LEVEL_WARN, mod, msg, __VA_ARGS__)
#define LOG_ERROR(mod, msg, ...) LOG_AT(LOG_LEVEL_ERROR, mod, msg, __VA_ARGS__)

/* _err variants append err="<err_str(rc)>" (errno or ERR_* code). */
#define LOG_WARN_ERR(mod, msg, rc, fmt, ...)                                                      \
	LOG_AT(LOG_LEVEL_WARN, mod, msg, fmt " err=\"%s\"", ##__VA_ARGS__, err_str(rc))
#define LOG_ERROR_ERR(mod, msg, rc, fmt, ...)                                                     \
	LOG_AT(LOG_LEVEL_ERROR, mod, msg, fmt " err=\"%s\"", ##__VA_ARGS__, err_str(rc))

/* A rate limiter for hot-path warnings: true at most once per interval_ns.
 * Single-threaded per instance; use one static per call site. */
struct log_ratelimit {
	uint64_t next_ns;
	uint64_t suppressed;
};
bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ns, uint64_t interval_ns);

#endif

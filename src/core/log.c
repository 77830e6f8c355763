#include "core/log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/ring.h"

#define REC_TRUNCATED 0x1

/* One record, copied through the ring as is: 512 bytes, eight cache lines. */
struct log_rec {
	int64_t ts;
	uint8_t level;
	uint8_t flags;
	uint16_t fields_len;
	char module[LOG_MODULE_MAX];
	char msg[LOG_MSG_MAX];
	char fields[LOG_FIELDS_MAX];
};
_Static_assert(sizeof(struct log_rec) == 512, "log record is 512 bytes");

/* Every input byte becomes at most 6 output bytes (\u00XX, or a bare word's
 * `"w":true,`), plus a fixed frame, so a line never needs more than this. */
#define LINE_CAP  4096
#define BATCH_CAP (64 * 1024)
_Static_assert(128 + 6 * (LOG_MODULE_MAX + LOG_MSG_MAX + LOG_FIELDS_MAX) <= LINE_CAP,
	       "LINE_CAP bounds the longest formatted record");

#define IDLE_SLEEP_NS 2000000L

enum { ST_IDLE = 0, ST_RUNNING, ST_STOPPED };

int log__level = LOG_LEVEL_INFO;

static struct {
	/* Writers bump inflight, then read state: log_stop flips state, then
	 * waits for inflight to reach zero, so a writer either pushes before the
	 * final drain or sees the stop and writes synchronously (seq_cst on both
	 * sides makes this Dekker-style handshake hold). */
	_Atomic int state;
	_Atomic unsigned inflight;
	_Atomic bool quit;
	_Atomic uint64_t dropped;
	_Atomic bool json; /* format for the synchronous path too */
	struct ring_mpsc *ring;
	pthread_t thread;
	int fd;
	char batch[BATCH_CAP]; /* log thread only */
} g;

/* ---- output ---------------------------------------------------------- */

struct out {
	char *p;
	size_t len;
	size_t cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (n > o->cap - o->len)
		n = o->cap - o->len;
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void putc_(struct out *o, char c)
{
	if (o->len < o->cap)
		o->p[o->len++] = c;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static const char hexdig[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0 if the
 * bytes there are not one (overlong forms and surrogates included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t need;
	unsigned lo = 0x80, hi = 0xbf;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < need + 1)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i <= need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need + 1;
}

/* JSON string body (without quotes). */
static void put_json_str(struct out *o, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = u[i];
		size_t k;
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			putc_(o, (char)c);
			i++;
			continue;
		}
		switch (c) {
		case '"':
			put(o, "\\\"", 2);
			break;
		case '\\':
			put(o, "\\\\", 2);
			break;
		case '\n':
			put(o, "\\n", 2);
			break;
		case '\r':
			put(o, "\\r", 2);
			break;
		case '\t':
			put(o, "\\t", 2);
			break;
		case '\b':
			put(o, "\\b", 2);
			break;
		case '\f':
			put(o, "\\f", 2);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char e[6] = {'\\', 'u', '0', '0', hexdig[c >> 4], hexdig[c & 15]};
				put(o, e, 6);
				break;
			}
			k = utf8_len(u + i, n - i);
			if (k == 0) {
				put(o, "\\ufffd", 6);
				break;
			}
			put(o, s + i, k);
			i += k;
			continue;
		}
		i++;
	}
}

/* Readable text: one line per record, so control bytes are escaped. */
static void put_text(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != 0x7f) {
			putc_(o, (char)c);
		} else if (c == '\n') {
			put(o, "\\n", 2);
		} else if (c == '\r') {
			put(o, "\\r", 2);
		} else if (c == '\t') {
			put(o, "\\t", 2);
		} else {
			char e[4] = {'\\', 'x', hexdig[c >> 4], hexdig[c & 15]};
			put(o, e, 4);
		}
	}
}

/* The JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s, size_t n)
{
	size_t i = 0;
	size_t d0;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return false;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		return false;
	}
	if (i < n && s[i] == '.') {
		d0 = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d0)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		d0 = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d0)
			return false;
	}
	return i == n;
}

/* Emits the `k=v k2="v 2" word` text as the members of a JSON object.
 * Inside quotes a backslash takes the next byte literally (log_q's escapes);
 * an unterminated quote, as left by truncation, runs to the end. */
static void put_json_fields(struct out *o, const char *s, size_t n)
{
	size_t i = 0;
	bool first = true;
	char val[LOG_FIELDS_MAX];

	while (i < n) {
		size_t ks, ke;
		while (i < n && s[i] == ' ')
			i++;
		if (i >= n)
			break;
		ks = i;
		while (i < n && s[i] != '=' && s[i] != ' ')
			i++;
		ke = i;
		if (!first)
			putc_(o, ',');
		first = false;
		putc_(o, '"');
		put_json_str(o, s + ks, ke - ks);
		putc_(o, '"');
		putc_(o, ':');
		if (i >= n || s[i] == ' ') {
			puts_(o, "true");
			continue;
		}
		i++; /* '=' */
		if (i < n && s[i] == '"') {
			size_t vl = 0;
			i++;
			while (i < n && s[i] != '"') {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				val[vl++] = s[i++];
			}
			if (i < n)
				i++; /* closing quote */
			putc_(o, '"');
			put_json_str(o, val, vl);
			putc_(o, '"');
		} else {
			size_t vs = i;
			while (i < n && s[i] != ' ')
				i++;
			if (is_json_number(s + vs, i - vs)) {
				put(o, s + vs, i - vs);
			} else {
				putc_(o, '"');
				put_json_str(o, s + vs, i - vs);
				putc_(o, '"');
			}
		}
	}
}

static const char *const level_json[] = {"debug", "info", "warn", "error"};
static const char *const level_text[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

/* Formats one record as a full line, newline included; returns its length. */
static size_t format_rec(const struct log_rec *r, bool json, char *buf, size_t cap)
{
	struct out o = {buf, 0, cap};
	char ts[40];
	int tn;
	unsigned lvl = r->level <= LOG_LEVEL_ERROR ? r->level : LOG_LEVEL_ERROR;

	tn = clock_fmt_rfc3339(r->ts, json ? 6 : 3, ts, sizeof(ts));
	if (tn < 0)
		tn = 0;
	if (json) {
		puts_(&o, "{\"ts\":\"");
		put(&o, ts, (size_t)tn);
		puts_(&o, "\",\"level\":\"");
		puts_(&o, level_json[lvl]);
		puts_(&o, "\",\"module\":\"");
		put_json_str(&o, r->module, strlen(r->module));
		puts_(&o, "\",\"msg\":\"");
		put_json_str(&o, r->msg, strlen(r->msg));
		puts_(&o, "\",\"fields\":{");
		put_json_fields(&o, r->fields, r->fields_len);
		putc_(&o, '}');
		if (r->flags & REC_TRUNCATED)
			puts_(&o, ",\"truncated\":true");
		puts_(&o, "}\n");
	} else {
		put(&o, ts, (size_t)tn);
		putc_(&o, ' ');
		puts_(&o, level_text[lvl]);
		putc_(&o, ' ');
		put_text(&o, r->module, strlen(r->module));
		puts_(&o, ": ");
		put_text(&o, r->msg, strlen(r->msg));
		if (r->fields_len) {
			putc_(&o, ' ');
			put_text(&o, r->fields, r->fields_len);
		}
		if (r->flags & REC_TRUNCATED)
			puts_(&o, " [truncated]");
		putc_(&o, '\n');
	}
	return o.len;
}

/* Writes all of buf, retrying on EINTR, short writes and (for a non-blocking
 * fd) EAGAIN. Other errors drop the rest: there is nowhere to report them. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			if (poll(&p, 1, 1000) < 0 && errno != EINTR)
				return;
		} else {
			return;
		}
	}
}

/* ---- the log thread ---------------------------------------------------- */

static void *log_main(void *arg)
{
	struct log_rec rec;
	size_t used = 0;
	bool quitting = false;
	(void)arg;

	for (;;) {
		bool got = false;
		while (ring_mpsc_pop(g.ring, &rec) == 0) {
			if (BATCH_CAP - used < LINE_CAP) {
				write_all(g.fd, g.batch, used);
				used = 0;
			}
			used +=
			    format_rec(&rec, atomic_load_explicit(&g.json, memory_order_relaxed),
				       g.batch + used, LINE_CAP);
			got = true;
		}
		if (used) {
			write_all(g.fd, g.batch, used);
			used = 0;
		}
		if (quitting)
			break;
		/* Every push finished before quit was set, so one more drain after
		 * seeing it empties the ring for good. */
		if (atomic_load_explicit(&g.quit, memory_order_acquire)) {
			quitting = true;
			continue;
		}
		if (!got) {
			struct timespec ts = {0, IDLE_SLEEP_NS};
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int log_start(const struct log_options *opt)
{
	sigset_t all, old;
	int rc;

	if (!opt || opt->fd < 0)
		return -EINVAL;
	if (atomic_load(&g.state) == ST_RUNNING)
		return -EALREADY;
	g.ring = ring_mpsc_new(sizeof(struct log_rec), LOG_RING_CAP);
	if (!g.ring)
		return -ENOMEM;
	g.fd = opt->fd;
	atomic_store(&g.json, opt->json);
	atomic_store(&g.quit, false);
	log__level = (int)opt->level;

	/* Signals belong to the main thread, never to the log thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&g.thread, NULL, log_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0)
		pthread_setname_np(g.thread, "arb-log");
	if (rc != 0) {
		ring_mpsc_free(g.ring);
		g.ring = NULL;
		return -rc;
	}
	atomic_store(&g.state, ST_RUNNING);
	return 0;
}

void log_stop(void)
{
	int expected = ST_RUNNING;
	if (!atomic_compare_exchange_strong(&g.state, &expected, ST_STOPPED))
		return;
	while (atomic_load(&g.inflight) != 0) {
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
	}
	atomic_store_explicit(&g.quit, true, memory_order_release);
	pthread_join(g.thread, NULL);
	ring_mpsc_free(g.ring);
	g.ring = NULL;
}

uint64_t log_dropped(void)
{
	return atomic_load_explicit(&g.dropped, memory_order_relaxed);
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level lvl;
	} names[] = {
	    {"debug", LOG_LEVEL_DEBUG},
	    {"info", LOG_LEVEL_INFO},
	    {"warn", LOG_LEVEL_WARN},
	    {"error", LOG_LEVEL_ERROR},
	};
	if (!s || !out)
		return ERR_PARSE;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].lvl;
			return 0;
		}
	}
	return ERR_PARSE;
}

const char *log_q(char *buf, size_t cap, const char *s)
{
	size_t o = 0;
	if (cap < 3) {
		if (cap)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	/* Room is kept for the closing quote and the NUL. */
	for (; s && *s; s++) {
		bool esc = *s == '"' || *s == '\\';
		if (o + (esc ? 2u : 1u) > cap - 2)
			break;
		if (esc)
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* Copies a C string into a fixed field, cutting it; true if it was cut. */
static bool copy_field(char *dst, size_t cap, const char *src)
{
	size_t n;
	if (!src) {
		dst[0] = '\0';
		return false;
	}
	n = strnlen(src, cap);
	if (n == cap) {
		memcpy(dst, src, cap - 1);
		dst[cap - 1] = '\0';
		return true;
	}
	memcpy(dst, src, n + 1);
	return false;
}

void log__write(enum log_level lvl, const char *module, const char *msg, const char *fields_fmt,
		...)
{
	struct log_rec rec;

	if ((int)lvl < log__level)
		return;
	rec.ts = clock_wall_ns();
	rec.level = (uint8_t)(lvl <= LOG_LEVEL_ERROR ? lvl : LOG_LEVEL_ERROR);
	rec.flags = 0;
	if (copy_field(rec.module, sizeof(rec.module), module))
		rec.flags |= REC_TRUNCATED;
	if (copy_field(rec.msg, sizeof(rec.msg), msg))
		rec.flags |= REC_TRUNCATED;
	rec.fields_len = 0;
	rec.fields[0] = '\0';
	if (fields_fmt) {
		va_list ap;
		int n;
		va_start(ap, fields_fmt);
		n = vsnprintf(rec.fields, sizeof(rec.fields), fields_fmt, ap);
		va_end(ap);
		if (n < 0) {
			rec.fields[0] = '\0';
		} else if ((size_t)n >= sizeof(rec.fields)) {
			rec.fields_len = (uint16_t)(sizeof(rec.fields) - 1);
			rec.flags |= REC_TRUNCATED;
		} else {
			rec.fields_len = (uint16_t)n;
		}
	}

	atomic_fetch_add(&g.inflight, 1);
	if (atomic_load(&g.state) == ST_RUNNING) {
		if (ring_mpsc_push(g.ring, &rec) != 0)
			atomic_fetch_add_explicit(&g.dropped, 1, memory_order_relaxed);
		atomic_fetch_sub(&g.inflight, 1);
		return;
	}
	atomic_fetch_sub(&g.inflight, 1);

	{
		char line[LINE_CAP];
		size_t n = format_rec(&rec, atomic_load_explicit(&g.json, memory_order_relaxed),
				      line, sizeof(line));
		write_all(STDERR_FILENO, line, n);
	}
}

bool log_ratelimit_ok(struct log_ratelimit *rl, uint64_t now_ns, uint64_t interval_ns)
{
	if (now_ns >= rl->next_ns) {
		rl->next_ns = now_ns > UINT64_MAX - interval_ns ? UINT64_MAX : now_ns + interval_ns;
		return true;
	}
	rl->suppressed++;
	return false;
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

/* ---- helpers -------------------------------------------------------------- */

static int temp_fd(void)
{
	char path[] = "/tmp/arb_test_log_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

/* Everything written to fd so far, NUL terminated; caller frees. */
static char *slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	assert_true(end >= 0);
	char *buf = malloc((size_t)end + 1);
	assert_non_null(buf);
	size_t got = 0;
	while (got < (size_t)end) {
		ssize_t n = pread(fd, buf + got, (size_t)end - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (len)
		*len = got;
	return buf;
}

static const void *has(const char *l, size_t n, const char *needle)
{
	return memmem(l, n, needle, strlen(needle));
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Returns the line'th line (0-based) as a pointer into s and its length
 * without the newline; fails the test if absent or unterminated. */
static const char *line_at(const char *s, size_t line, size_t *len)
{
	for (size_t i = 0; i < line; i++) {
		s = strchr(s, '\n');
		assert_non_null(s);
		s++;
	}
	const char *e = strchr(s, '\n');
	assert_non_null(e);
	*len = (size_t)(e - s);
	return s;
}

/* A strict JSON validator (RFC 8259), independent of the code under test. */
static const char *j_value(const char *p, const char *e, int depth);

static const char *j_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static const char *j_string(const char *p, const char *e)
{
	if (p >= e || *p != '"')
		return NULL;
	p++;
	while (p < e) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			p++;
			if (p >= e)
				return NULL;
			if (*p == 'u') {
				if (e - p < 5 || !is_hex(p[1]) || !is_hex(p[2]) || !is_hex(p[3]) ||
				    !is_hex(p[4]))
					return NULL;
				p += 5;
			} else if (strchr("\"\\/bfnrt", *p) && *p) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		if (c < 0x80) {
			p++;
			continue;
		}
		int need = c >= 0xf0 && c <= 0xf4   ? 3
			   : c >= 0xe0		    ? 2
			   : c >= 0xc2 && c <= 0xdf ? 1
						    : -1;
		if (need < 0 || c > 0xf4 || e - p <= need)
			return NULL;
		for (int k = 1; k <= need; k++)
			if (((unsigned char)p[k] & 0xc0) != 0x80)
				return NULL;
		p += need + 1;
	}
	return NULL;
}

static const char *j_digits(const char *p, const char *e)
{
	const char *s = p;
	while (p < e && *p >= '0' && *p <= '9')
		p++;
	return p == s ? NULL : p;
}

static const char *j_number(const char *p, const char *e)
{
	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (!(p = j_digits(p, e)))
		return NULL;
	if (p < e && *p == '.' && !(p = j_digits(p + 1, e)))
		return NULL;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (!(p = j_digits(p, e)))
			return NULL;
	}
	return p;
}

static const char *j_value(const char *p, const char *e, int depth)
{
	if (depth > 32)
		return NULL;
	p = j_ws(p, e);
	if (p >= e)
		return NULL;
	if (*p == '"')
		return j_string(p, e);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		int obj = *p == '{';
		p = j_ws(p + 1, e);
		if (p < e && *p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				if (!(p = j_string(j_ws(p, e), e)))
					return NULL;
				p = j_ws(p, e);
				if (p >= e || *p != ':')
					return NULL;
				p++;
			}
			if (!(p = j_value(p, e, depth + 1)))
				return NULL;
			p = j_ws(p, e);
			if (p < e && *p == ',') {
				p++;
				continue;
			}
			if (p < e && *p == close)
				return p + 1;
			return NULL;
		}
	}
	if (e - p >= 4 && memcmp(p, "true", 4) == 0)
		return p + 4;
	if (e - p >= 5 && memcmp(p, "false", 5) == 0)
		return p + 5;
	if (e - p >= 4 && memcmp(p, "null", 4) == 0)
		return p + 4;
	return j_number(p, e);
}

static void assert_json_line(const char *l, size_t n)
{
	const char *end = j_value(l, l + n, 0);
	if (!end || j_ws(end, l + n) != l + n)
		fail_msg("not a JSON object line: %.*s", (int)n, l);
	assert_true(l[0] == '{');
}

/* Checks that line is a JSON log line whose ts lies in [lo, hi] and whose
 * remainder after the timestamp is exactly rest. */
static void assert_json_rec(const char *l, size_t n, int64_t lo, int64_t hi, const char *rest)
{
	static const char head[] = "{\"ts\":\"";
	assert_json_line(l, n);
	assert_true(n > sizeof(head) - 1 + 29);
	assert_memory_equal(l, head, sizeof(head) - 1);
	const char *ts = l + sizeof(head) - 1;
	/* six fractional digits: "2026-11-24T21:00:00.123456Z" is 27 bytes */
	int64_t t;
	assert_int_equal(clock_parse_rfc3339(ts, 27, &t), 0);
	assert_true(ts[27] == '"');
	assert_true(t >= lo / 1000 * 1000 && t <= hi);
	size_t off = sizeof(head) - 1 + 28;
	assert_true(l[off] == ',');
	off++;
	if (n - off != strlen(rest) || memcmp(l + off, rest, n - off) != 0)
		fail_msg("line mismatch:\n got: %.*s\nwant: %s", (int)(n - off), l + off, rest);
}

static int calls;
static int bump(void)
{
	return ++calls;
}

/* ---- tests ---------------------------------------------------------------- */

static void json_lines(void **state)
{
	(void)state;
	int fd = temp_fd();
	struct log_options opt = {.level = LOG_LEVEL_DEBUG, .json = true, .fd = fd};
	char q[64];
	int64_t lo = clock_wall_ns();

	assert_int_equal(log_start(&opt), 0);
	assert_int_equal(log_start(&opt), -EALREADY);
	assert_int_equal(log__level, LOG_LEVEL_DEBUG);
	LOG_INFO("store", "hello \"world\"\nline2\\",
		 "count=%d price=%s name=%s q=%s neg=%d f=%.2f", 42, "45285.2", "abc",
		 log_q(q, sizeof(q), "has \"quotes\" and\tspaces\n"), -7, 1.5);
	LOG_DEBUG("book", "numbers?", "a=01 b=1. c=-0 d=1e-08 e=+1 f=0x1f g=nan h=1.5E+3 i=-");
	LOG_WARN("ws", "no fields", NULL);
	LOG_ERROR("ws", "bare", "reconnect attempt=3 empty= =v");
	LOG_WARN_ERR("kraken", "send failed", ERR_TIMEOUT, "attempt=%d", 2);
	LOG_ERROR_ERR("kraken", "errno", -ENOENT, "path=%s", "/x");
	log_stop();
	log_stop(); /* no-op */
	int64_t hi = clock_wall_ns();

	char *out = slurp(fd, NULL);
	const char *l;
	size_t n;
	assert_int_equal(count_lines(out), 6);
	l = line_at(out, 0, &n);
	assert_json_rec(
	    l, n, lo, hi,
	    "\"level\":\"info\",\"module\":\"store\",\"msg\":\"hello \\\"world\\\"\\nline2\\\\\","
	    "\"fields\":{\"count\":42,\"price\":45285.2,\"name\":\"abc\","
	    "\"q\":\"has \\\"quotes\\\" and\\tspaces\\n\",\"neg\":-7,\"f\":1.50}}");
	l = line_at(out, 1, &n);
	assert_json_rec(
	    l, n, lo, hi,
	    "\"level\":\"debug\",\"module\":\"book\",\"msg\":\"numbers?\",\"fields\":{"
	    "\"a\":\"01\",\"b\":\"1.\",\"c\":-0,\"d\":1e-08,\"e\":\"+1\",\"f\":\"0x1f\","
	    "\"g\":\"nan\",\"h\":1.5E+3,\"i\":\"-\"}}");
	l = line_at(out, 2, &n);
	assert_json_rec(
	    l, n, lo, hi,
	    "\"level\":\"warn\",\"module\":\"ws\",\"msg\":\"no fields\",\"fields\":{}}");
	l = line_at(out, 3, &n);
	assert_json_rec(l, n, lo, hi,
			"\"level\":\"error\",\"module\":\"ws\",\"msg\":\"bare\",\"fields\":{"
			"\"reconnect\":true,\"attempt\":3,\"empty\":\"\",\"\":\"v\"}}");
	l = line_at(out, 4, &n);
	assert_json_rec(
	    l, n, lo, hi,
	    "\"level\":\"warn\",\"module\":\"kraken\",\"msg\":\"send failed\",\"fields\":{"
	    "\"attempt\":2,\"err\":\"timed out\"}}");
	l = line_at(out, 5, &n);
	assert_json_rec(l, n, lo, hi,
			"\"level\":\"error\",\"module\":\"kraken\",\"msg\":\"errno\",\"fields\":{"
			"\"path\":\"/x\",\"err\":\"No such file or directory\"}}");
	free(out);
	close(fd);
}

/* Control bytes, invalid UTF-8, valid UTF-8 and truncation all stay valid JSON. */
static void json_escaping_and_truncation(void **state)
{
	(void)state;
	int fd = temp_fd();
	struct log_options opt = {.level = LOG_LEVEL_INFO, .json = true, .fd = fd};
	char big[1000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char longmsg[200];
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';

	assert_int_equal(log_start(&opt), 0);
	LOG_INFO("m", "ctl \x01\x1f\x7f bad \xff\xc0\xaf\xed\xa0\x80 ok \xe2\x82\xac",
		 "v=\"a\\\"b\\\\c\" raw=%s", "\xf0\x9f\x98\x80");
	LOG_INFO("m", "big", "k=%s", big);
	LOG_INFO("m", "quote", "k=\"%s", big); /* quote cut by truncation */
	LOG_INFO("a-very-long-module-name", longmsg, "k=1");
	log_stop();

	char *out = slurp(fd, NULL);
	const char *l;
	size_t n;
	assert_int_equal(count_lines(out), 4);
	for (size_t i = 0; i < 4; i++) {
		l = line_at(out, i, &n);
		assert_json_line(l, n);
	}
	l = line_at(out, 0, &n);
	const char *want0 =
	    "\"msg\":\"ctl \\u0001\\u001f\\u007f bad \\ufffd\\ufffd\\ufffd"
	    "\\ufffd\\ufffd\\ufffd ok \xe2\x82\xac\",\"fields\":{\"v\":\"a\\\"b\\\\c\","
	    "\"raw\":\"\xf0\x9f\x98\x80\"}}";
	if (!strstr(l, want0))
		fail_msg("escaping: %.*s", (int)n, l);
	assert_null(has(l, n, "truncated"));

	l = line_at(out, 1, &n);
	assert_non_null(has(l, n, "\"fields\":{\"k\":\"xxx"));
	assert_non_null(has(l, n, "\"},\"truncated\":true}"));
	/* 387 bytes of formatted fields survive: "k=" plus exactly 385 x's. */
	char xs[386], want1[512];
	memset(xs, 'x', 385);
	xs[385] = '\0';
	snprintf(want1, sizeof(want1), "{\"k\":\"%s\"},\"truncated\":true}", xs);
	assert_true(n > strlen(want1));
	if (memcmp(l + n - strlen(want1), want1, strlen(want1)) != 0)
		fail_msg("truncated fields: %.*s", (int)n, l);

	l = line_at(out, 2, &n);
	assert_non_null(has(l, n, "\"truncated\":true}"));

	l = line_at(out, 3, &n);
	assert_non_null(has(l, n, "\"module\":\"a-very-long-mod\","));
	assert_non_null(has(l, n, "\"fields\":{\"k\":1},\"truncated\":true}"));
	free(out);
	close(fd);
}

static void level_filtering(void **state)
{
	(void)state;
	int fd = temp_fd();
	struct log_options opt = {.level = LOG_LEVEL_WARN, .json = true, .fd = fd};
	assert_int_equal(log_start(&opt), 0);
	calls = 0;
	LOG_DEBUG("m", "debug", "n=%d", bump());
	LOG_INFO("m", "info", "n=%d", bump());
	/* Arguments below the level are never even evaluated. */
	assert_int_equal(calls, 0);
	log__write(LOG_LEVEL_INFO, "m", "direct info", NULL);
	LOG_WARN("m", "warn", "n=%d", bump());
	LOG_ERROR("m", "error", "n=%d", bump());
	assert_int_equal(calls, 2);
	log_stop();

	char *out = slurp(fd, NULL);
	assert_int_equal(count_lines(out), 2);
	assert_non_null(strstr(out, "\"level\":\"warn\",\"module\":\"m\",\"msg\":\"warn\","
				    "\"fields\":{\"n\":1}}\n"));
	assert_non_null(strstr(out, "\"level\":\"error\",\"module\":\"m\",\"msg\":\"error\","
				    "\"fields\":{\"n\":2}}\n"));
	assert_null(strstr(out, "info"));
	assert_null(strstr(out, "debug"));
	free(out);
	close(fd);
	log__level = LOG_LEVEL_INFO;
}

static void text_mode(void **state)
{
	(void)state;
	int fd = temp_fd();
	struct log_options opt = {.level = LOG_LEVEL_DEBUG, .json = false, .fd = fd};
	int64_t lo = clock_wall_ns();
	assert_int_equal(log_start(&opt), 0);
	LOG_INFO("store", "msg", "k=v k2=\"quoted v\"");
	LOG_DEBUG("book", "two\nlines", "n=%d", 5);
	LOG_WARN("ws", "plain", NULL);
	LOG_ERROR("exec", "bad", "x=1");
	log_stop();
	int64_t hi = clock_wall_ns();

	char *out = slurp(fd, NULL);
	static const char *const rest[] = {
	    " INFO  store: msg k=v k2=\"quoted v\"",
	    " DEBUG book: two\\nlines n=5",
	    " WARN  ws: plain",
	    " ERROR exec: bad x=1",
	};
	assert_int_equal(count_lines(out), 4);
	for (size_t i = 0; i < 4; i++) {
		size_t n;
		const char *l = line_at(out, i, &n);
		int64_t t;
		/* "2026-11-24T21:00:00.123Z" is 24 bytes. */
		assert_true(n > 24);
		assert_int_equal(clock_parse_rfc3339(l, 24, &t), 0);
		assert_true(t >= lo / 1000000 * 1000000 && t <= hi);
		if (n - 24 != strlen(rest[i]) || memcmp(l + 24, rest[i], n - 24) != 0)
			fail_msg("text line %zu: %.*s", i, (int)n, l);
	}
	free(out);
	close(fd);
}

/* Before log_start and after log_stop records go straight to stderr. */
static void sync_before_and_after(void **state)
{
	(void)state;
	int errfd = temp_fd();
	int saved = dup(2);
	int fd = temp_fd();
	assert_true(saved >= 0);
	assert_true(dup2(errfd, 2) == 2);

	LOG_ERROR("app", "early", "code=%d", 1);
	struct log_options opt = {.level = LOG_LEVEL_INFO, .json = true, .fd = fd};
	assert_int_equal(log_start(&opt), 0);
	LOG_INFO("app", "running", NULL);
	log_stop();
	LOG_ERROR("app", "late", "code=%d", 2);

	assert_true(dup2(saved, 2) == 2);
	close(saved);

	char *err = slurp(errfd, NULL);
	char *out = slurp(fd, NULL);
	assert_int_equal(count_lines(err), 2);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "\"msg\":\"running\""));
	size_t n;
	const char *l = line_at(err, 0, &n);
	assert_true(n > 0);
	assert_non_null(has(l, n, "app: early code=1"));
	l = line_at(err, 1, &n);
	assert_non_null(has(l, n, "\"msg\":\"late\",\"fields\":{\"code\":2}}"));
	assert_json_line(l, n);
	free(err);
	free(out);
	close(errfd);
	close(fd);
}

/* A blocked writer fills the ring: the overflow is dropped and counted, and
 * every record is either written or counted. */
struct drain {
	int fd;
	size_t lines;
	size_t bytes;
};

static void *drain_pipe(void *arg)
{
	struct drain *d = arg;
	char buf[65536];
	for (;;) {
		ssize_t n = read(d->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			d->lines += buf[i] == '\n';
		d->bytes += (size_t)n;
	}
	return NULL;
}

static void drops_counted(void **state)
{
	(void)state;
	int p[2];
	enum { N = 20000 };
	assert_int_equal(pipe(p), 0);
	struct log_options opt = {.level = LOG_LEVEL_INFO, .json = true, .fd = p[1]};
	uint64_t before = log_dropped();
	assert_int_equal(log_start(&opt), 0);
	for (int i = 0; i < N; i++)
		LOG_INFO("m", "flood", "i=%d pad=%s", i,
			 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	uint64_t dropped = log_dropped() - before;
	/* Nobody reads the pipe yet: at most a ring, a pipe and a batch fit. */
	assert_true(dropped > 0);

	pthread_t t;
	struct drain d = {.fd = p[0]};
	assert_int_equal(pthread_create(&t, NULL, drain_pipe, &d), 0);
	log_stop();
	close(p[1]);
	assert_int_equal(pthread_join(t, NULL), 0);
	close(p[0]);
	assert_int_equal(log_dropped() - before, dropped);
	assert_int_equal(d.lines + dropped, N);
}

/* log_stop racing with writers loses nothing: each record is in the log file,
 * on stderr, or counted as dropped. */
#define W_THREADS 4
#define W_EACH	  3000

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < W_EACH; i++) {
		LOG_INFO("w", "rec", "t=%d i=%d", id, i);
		if (i % 64 == 0)
			usleep(50);
	}
	return NULL;
}

static void stop_while_writing(void **state)
{
	(void)state;
	int errfd = temp_fd();
	int fd = temp_fd();
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(errfd, 2) == 2);

	struct log_options opt = {.level = LOG_LEVEL_INFO, .json = true, .fd = fd};
	uint64_t before = log_dropped();
	pthread_t t[W_THREADS];
	assert_int_equal(log_start(&opt), 0);
	for (intptr_t i = 0; i < W_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)i), 0);
	usleep(3000);
	log_stop();
	for (int i = 0; i < W_THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);

	assert_true(dup2(saved, 2) == 2);
	close(saved);
	uint64_t dropped = log_dropped() - before;
	char *out = slurp(fd, NULL);
	char *err = slurp(errfd, NULL);
	size_t in_file = count_lines(out), on_err = count_lines(err);
	if (in_file + on_err + dropped != W_THREADS * W_EACH)
		fail_msg("file %zu + stderr %zu + dropped %llu != %d", in_file, on_err,
			 (unsigned long long)dropped, W_THREADS * W_EACH);
	/* Every line in either place is whole. */
	for (size_t i = 0; i < in_file; i++) {
		size_t n;
		const char *l = line_at(out, i, &n);
		assert_json_line(l, n);
	}
	for (size_t i = 0; i < on_err; i++) {
		size_t n;
		const char *l = line_at(err, i, &n);
		assert_json_line(l, n);
	}
	free(out);
	free(err);
	close(fd);
	close(errfd);
}

static void level_parse(void **state)
{
	(void)state;
	enum log_level l = LOG_LEVEL_ERROR;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("info", &l), 0);
	assert_int_equal(l, LOG_LEVEL_INFO);
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("", &l), ERR_PARSE);
	assert_int_equal(log_level_parse("INFO", &l), ERR_PARSE);
	assert_int_equal(log_level_parse("info ", &l), ERR_PARSE);
	assert_int_equal(log_level_parse("trace", &l), ERR_PARSE);
	assert_int_equal(log_level_parse(NULL, &l), ERR_PARSE);
	assert_int_equal(l, LOG_LEVEL_ERROR);
}

static void ratelimit(void **state)
{
	(void)state;
	struct log_ratelimit rl = {0};
	assert_true(log_ratelimit_ok(&rl, 1000, 100));
	assert_false(log_ratelimit_ok(&rl, 1000, 100));
	assert_false(log_ratelimit_ok(&rl, 1099, 100));
	assert_true(log_ratelimit_ok(&rl, 1100, 100));
	assert_false(log_ratelimit_ok(&rl, 1150, 100));
	assert_int_equal(rl.suppressed, 3);
	assert_true(log_ratelimit_ok(&rl, 5000, 100));
	assert_true(log_ratelimit_ok(&rl, UINT64_MAX - 10, 100));
	assert_false(log_ratelimit_ok(&rl, UINT64_MAX - 5, 100));
	assert_int_equal(rl.suppressed, 4);
}

static void quote(void **state)
{
	(void)state;
	char b[16];
	assert_string_equal(log_q(b, sizeof(b), "a b"), "\"a b\"");
	assert_string_equal(log_q(b, sizeof(b), "a\"b\\c"), "\"a\\\"b\\\\c\"");
	assert_string_equal(log_q(b, sizeof(b), ""), "\"\"");
	assert_string_equal(log_q(b, sizeof(b), NULL), "\"\"");
	assert_string_equal(log_q(b, sizeof(b), "0123456789abcdefgh"), "\"0123456789abc\"");
	/* An escape is never split from its character. */
	assert_string_equal(log_q(b, 6, "ab\"c"), "\"ab\"");
	assert_string_equal(log_q(b, 3, "abc"), "\"\"");
	assert_string_equal(log_q(b, 2, "abc"), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(json_lines),
	    cmocka_unit_test(json_escaping_and_truncation),
	    cmocka_unit_test(level_filtering),
	    cmocka_unit_test(text_mode),
	    cmocka_unit_test(sync_before_and_after),
	    cmocka_unit_test(drops_counted),
	    cmocka_unit_test(stop_while_writing),
	    cmocka_unit_test(level_parse),
	    cmocka_unit_test(ratelimit),
	    cmocka_unit_test(quote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

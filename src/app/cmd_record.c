/* arbitrade record: every message of the public Kraken connection, one JSON
 * line each, for replay and for verify-book:
 *   {"recv_ts":"2026-01-02T03:04:05.123456789Z","msg":<the frame as received>}
 * A frame that is not JSON (the decoder refused it as such) or that holds a
 * line break cannot be embedded as it is; it is written as a string instead:
 *   {"recv_ts":"...","msg_raw":"<the bytes, escaped>"}
 * where '"', '\\' and every byte outside printable ASCII are escaped
 * (\u00XX for bytes), so the file stays one valid JSON object per line.
 *
 * Lines are gathered in a 1 MiB buffer on the md thread (which here is the
 * main thread) and written with write() when it fills or every 200 ms, and
 * at exit; the connection never waits for the disk more than one write. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app_int.h"
#include "core/clock.h"
#include "core/log.h"

#define REC_BUF	     (1u << 20)
#define REC_FLUSH_NS (200ull * 1000000ull)
#define MAX_DURATION 31536000ul /* a year */

struct rec {
	int fd;
	char *buf;
	size_t len;
	int64_t wall_off; /* wall ns - mono ns, read once at start */
	uint64_t last_flush_ns;
	uint64_t lines, raw_lines, bytes;
	int err; /* first write error, -errno */
};

static int write_all(struct rec *r, const char *p, size_t n)
{
	while (n > 0 && r->err == 0) {
		ssize_t w = write(r->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r->err = -errno;
			LOG_ERROR_ERR("record", "write failed: recording stops", r->err, "fd=%d",
				      r->fd);
			break;
		}
		p += w;
		n -= (size_t)w;
		r->bytes += (uint64_t)w;
	}
	return r->err;
}

static void flush(struct rec *r)
{
	if (r->len)
		write_all(r, r->buf, r->len);
	r->len = 0;
}

static void put(struct rec *r, const char *p, size_t n)
{
	if (n > REC_BUF - r->len)
		flush(r);
	if (n > REC_BUF) {
		write_all(r, p, n);
		return;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

static void put_escaped(struct rec *r, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[6];
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			run++;
			continue;
		}
		put(r, s + i - run, run);
		run = 0;
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			put(r, tmp, 2);
		} else {
			memcpy(tmp, "\\u00", 4);
			tmp[4] = hex[c >> 4];
			tmp[5] = hex[c & 15];
			put(r, tmp, 6);
		}
	}
	put(r, s + n - run, run);
}

static void rec_tap(void *ctx, const char *frame, size_t len, uint64_t recv_ns, int decode_rc)
{
	struct rec *r = ctx;
	char head[80];
	if (r->err)
		return;
	bool raw = len == 0 || decode_rc == ERR_PARSE || decode_rc == ERR_FULL ||
		   memchr(frame, '\n', len) || memchr(frame, '\r', len);
	memcpy(head, "{\"recv_ts\":\"", 12);
	int n = clock_fmt_rfc3339((int64_t)recv_ns + r->wall_off, 9, head + 12, sizeof head - 12);
	if (n < 0)
		return;
	size_t h = 12 + (size_t)n;
	const char *key = raw ? "\",\"msg_raw\":\"" : "\",\"msg\":";
	size_t kl = strlen(key);
	memcpy(head + h, key, kl);
	h += kl;
	put(r, head, h);
	if (raw) {
		put_escaped(r, frame, len);
		put(r, "\"}\n", 3);
		r->raw_lines++;
	} else {
		put(r, frame, len);
		put(r, "}\n", 2);
	}
	r->lines++;
	if (recv_ns - r->last_flush_ns >= REC_FLUSH_NS) {
		flush(r);
		r->last_flush_ns = recv_ns;
	}
}

static int bad_usage(const char *why)
{
	fprintf(stderr, "arbitrade record: %s\n\n", why);
	app__usage(stderr, app__find("record"));
	return APP_USAGE;
}

static int parse_duration(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	if (!*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > MAX_DURATION)
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > MAX_DURATION)
		return -1;
	*out = v;
	return 0;
}

int app__cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {{"env-file", required_argument, NULL, 'e'},
					     {"out", required_argument, NULL, 'o'},
					     {"symbols", required_argument, NULL, 's'},
					     {"duration", required_argument, NULL, 'd'},
					     {NULL, 0, NULL, 0}};
	const char *env_file = NULL, *out = NULL, *symbols = NULL;
	unsigned long duration = 0;
	struct config cfg;
	struct rec r = {.fd = -1};
	struct app_md *md = NULL;
	bool log_started = false;
	int c, rc;

	memset(&cfg, 0, sizeof cfg);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			env_file = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			symbols = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &duration) != 0) {
				fprintf(
				    stderr,
				    "arbitrade record: --duration '%s' is not a whole number of "
				    "seconds 1..%lu\n",
				    optarg, MAX_DURATION);
				return APP_USAGE;
			}
			break;
		default:
			return bad_usage("unknown or incomplete option");
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument");
	if (!out || !*out)
		return bad_usage("--out FILE is required");

	rc = app__load_config(&cfg, env_file);
	if (rc != APP_OK)
		return rc;
	app__signals_install();
	struct log_options lo = {.level = cfg.log.level, .json = cfg.log.json, .fd = 2};
	if (log_start(&lo) == 0)
		log_started = true;

	r.buf = malloc(REC_BUF);
	if (!r.buf) {
		fprintf(stderr, "arbitrade record: out of memory\n");
		rc = APP_FAIL;
		goto cleanup;
	}
	r.fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r.fd < 0) {
		fprintf(stderr, "arbitrade record: cannot open %s: %s\n", out, strerror(errno));
		rc = APP_FAIL;
		goto cleanup;
	}
	struct app_md_opts mo = {.symbols = symbols, .tap = rec_tap, .tap_ctx = &r};
	md = app__md_new(&cfg, &mo);
	if (!md) {
		/* app__md_new logged why: a bad URL or symbol list is a usage error. */
		rc = APP_USAGE;
		goto cleanup;
	}
	uint64_t start = clock_mono_ns();
	r.wall_off = clock_wall_ns() - (int64_t)start;
	r.last_flush_ns = start;
	LOG_INFO("record", "recording", "out=%s url=%s symbols=%s duration_s=%lu", out,
		 cfg.kraken.ws_url, symbols ? symbols : cfg.book.symbols, duration);
	app__md_run(md, duration ? start + (uint64_t)duration * 1000000000ull : 0);
	flush(&r);
	if (r.err == 0 && fsync(r.fd) != 0 && errno != EINVAL)
		r.err = -errno;
	rc = r.err ? APP_FAIL : APP_OK;
	LOG_INFO("record", "recording stopped", "out=%s lines=%llu raw_lines=%llu bytes=%llu", out,
		 (unsigned long long)r.lines, (unsigned long long)r.raw_lines,
		 (unsigned long long)r.bytes);
	fprintf(stderr, "arbitrade record: %llu messages (%llu bytes) written to %s\n",
		(unsigned long long)r.lines, (unsigned long long)r.bytes, out);

cleanup:
	app__md_free(md);
	if (r.fd >= 0 && close(r.fd) != 0 && rc == APP_OK)
		rc = APP_FAIL;
	free(r.buf);
	if (log_started)
		log_stop();
	config_release(&cfg);
	return rc;
}

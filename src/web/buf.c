#include "web/web_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void web__buf_init(struct web_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void web__buf_release(struct web_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->err = 0;
}

char *web__buf_detach(struct web_buf *b, size_t *len)
{
	char *p = b->data;

	*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

/* Makes room for n more bytes plus a NUL. */
static int reserve(struct web_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->err)
		return b->err;
	if (n > b->max - b->len) {
		b->err = ERR_FULL;
		return b->err;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->err = ERR_NOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int web_buf_append(struct web_buf *b, const void *p, size_t n)
{
	int rc;

	if (n == 0)
		return b->err;
	rc = reserve(b, n);
	if (rc)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int web_buf_appendf(struct web_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n, rc;

	if (b->err)
		return b->err;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return ERR_INVALID;
	if ((size_t)n < sizeof(small))
		return web_buf_append(b, small, (size_t)n);
	rc = reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int web__buf_html(struct web_buf *b, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		const char *ent;

		switch (s[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		web_buf_append(b, s + run, i - run);
		web_buf_append(b, ent, strlen(ent));
		run = i + 1;
	}
	web_buf_append(b, s + run, n - run);
	return b->err;
}

int web__buf_json_str(struct web_buf *b, const char *s)
{
	size_t i, run = 0;

	web_buf_append(b, "\"", 1);
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&')
			continue;
		web_buf_append(b, s + run, i - run);
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			web_buf_append(b, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			web_buf_append(b, esc, 6);
		}
		run = i + 1;
	}
	web_buf_append(b, s + run, i - run);
	return web_buf_append(b, "\"", 1);
}

static void member(struct web_buf *b, const char *key)
{
	web_buf_append(b, ",", 1);
	web__buf_json_str(b, key);
	web_buf_append(b, ":", 1);
}

int web_json_add_str(struct web_buf *b, const char *key, const char *val)
{
	member(b, key);
	return web__buf_json_str(b, val ? val : "");
}

int web_json_add_i64(struct web_buf *b, const char *key, int64_t val)
{
	member(b, key);
	return web_buf_appendf(b, "%" PRId64, val);
}

int web_json_add_double(struct web_buf *b, const char *key, double val)
{
	member(b, key);
	if (!isfinite(val))
		return web_buf_append(b, "null", 4);
	return web_buf_appendf(b, "%.17g", val);
}

int web_json_add_bool(struct web_buf *b, const char *key, int val)
{
	member(b, key);
	return val ? web_buf_append(b, "true", 4) : web_buf_append(b, "false", 5);
}

int web__file_read(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd, rc = 0;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto cleanup;
	}
	if ((uintmax_t)st.st_size > max) {
		rc = ERR_RANGE;
		goto cleanup;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		rc = ERR_NOMEM;
		goto cleanup;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto cleanup;
		}
		if (n == 0)
			break; /* shrank while reading: keep what is there */
		got += (size_t)n;
	}
	data[got] = '\0';
	*out = data;
	*len = got;
	data = NULL;
cleanup:
	free(data);
	close(fd);
	return rc;
}

/* jsmn is compiled here, once and static, with the options sim_json.h names. */
#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

#include "sim/sim_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/fixed.h"

int sim__json_parse(struct sim_json *j, const char *js, size_t len)
{
	jsmn_parser p;
	memset(j, 0, sizeof(*j));
	j->js = js;
	j->len = len;
	jsmn_init(&p);
	int n = jsmn_parse(&p, js, len, NULL, 0);
	if (n <= 0)
		return ERR_PARSE;
	j->tok = calloc((size_t)n, sizeof(*j->tok));
	if (!j->tok)
		return ERR_NOMEM;
	jsmn_init(&p);
	j->n = jsmn_parse(&p, js, len, j->tok, (unsigned)n);
	if (j->n <= 0 || (j->tok[0].type != JSMN_OBJECT && j->tok[0].type != JSMN_ARRAY)) {
		sim__json_release(j);
		return ERR_PARSE;
	}
	/* jsmn stops at the end of the first value; anything but space after it
	 * is trailing garbage. */
	for (size_t k = (size_t)j->tok[0].end; k < len; k++) {
		if (js[k] != ' ' && js[k] != '\n' && js[k] != '\r' && js[k] != '\t') {
			sim__json_release(j);
			return ERR_PARSE;
		}
	}
	return 0;
}

void sim__json_release(struct sim_json *j)
{
	free(j->tok);
	j->tok = NULL;
	j->n = 0;
}

int sim__json_skip(const struct sim_json *j, int i)
{
	int end = j->tok[i].end;
	i++;
	while (i < j->n && j->tok[i].start < end)
		i++;
	return i;
}

int sim__json_get(const struct sim_json *j, int obj, const char *key)
{
	if (obj < 0 || obj >= j->n || j->tok[obj].type != JSMN_OBJECT)
		return -1;
	int i = obj + 1;
	for (int k = 0; k < j->tok[obj].size && i < j->n; k++) {
		if (sim__json_is(j, i, key) && j->tok[i].type == JSMN_STRING)
			return i + 1 < j->n ? i + 1 : -1;
		i = sim__json_skip(j, i + 1);
	}
	return -1;
}

int sim__json_elem(const struct sim_json *j, int arr, int k)
{
	if (arr < 0 || arr >= j->n || j->tok[arr].type != JSMN_ARRAY || k >= j->tok[arr].size)
		return -1;
	int i = arr + 1;
	for (int e = 0; e < k; e++)
		i = sim__json_skip(j, i);
	return i;
}

bool sim__json_is(const struct sim_json *j, int i, const char *s)
{
	if (i < 0 || i >= j->n)
		return false;
	size_t n = strlen(s);
	return (size_t)(j->tok[i].end - j->tok[i].start) == n &&
	       memcmp(j->js + j->tok[i].start, s, n) == 0 &&
	       (j->tok[i].type == JSMN_STRING || j->tok[i].type == JSMN_PRIMITIVE);
}

bool sim__json_is_string(const struct sim_json *j, int i)
{
	return i >= 0 && i < j->n && j->tok[i].type == JSMN_STRING;
}

bool sim__json_is_object(const struct sim_json *j, int i)
{
	return i >= 0 && i < j->n && j->tok[i].type == JSMN_OBJECT;
}

bool sim__json_is_array(const struct sim_json *j, int i)
{
	return i >= 0 && i < j->n && j->tok[i].type == JSMN_ARRAY;
}

int sim__json_str(const struct sim_json *j, int i, char *buf, size_t cap)
{
	if (i < 0 || i >= j->n)
		return ERR_SCHEMA;
	if (j->tok[i].type != JSMN_STRING && j->tok[i].type != JSMN_PRIMITIVE)
		return ERR_SCHEMA;
	size_t n = (size_t)(j->tok[i].end - j->tok[i].start);
	if (n + 1 > cap)
		return ERR_RANGE;
	memcpy(buf, j->js + j->tok[i].start, n);
	buf[n] = '\0';
	return 0;
}

int sim__json_i64(const struct sim_json *j, int i, int64_t *out)
{
	char tmp[32];
	if (i < 0 || i >= j->n || j->tok[i].type != JSMN_PRIMITIVE)
		return ERR_SCHEMA;
	if (sim__json_str(j, i, tmp, sizeof(tmp)) != 0)
		return ERR_RANGE;
	return fx_parse(tmp, strlen(tmp), 0, out);
}

int sim__json_double(const struct sim_json *j, int i, double *out)
{
	char tmp[64], *end;
	if (sim__json_str(j, i, tmp, sizeof(tmp)) != 0 || tmp[0] == '\0')
		return ERR_SCHEMA;
	errno = 0;
	double v = strtod(tmp, &end);
	if (*end != '\0' || errno != 0)
		return ERR_PARSE;
	*out = v;
	return 0;
}

int sim__json_fixed(const struct sim_json *j, int i, int scale, int64_t *out)
{
	char tmp[FX_MAX_TEXT + 1];
	int rc = sim__json_str(j, i, tmp, sizeof(tmp));
	if (rc != 0)
		return rc;
	return fx_parse(tmp, strlen(tmp), scale, out);
}

int sim__json_bool(const struct sim_json *j, int i, bool *out)
{
	if (sim__json_is(j, i, "true") && j->tok[i].type == JSMN_PRIMITIVE)
		*out = true;
	else if (sim__json_is(j, i, "false") && j->tok[i].type == JSMN_PRIMITIVE)
		*out = false;
	else
		return ERR_SCHEMA;
	return 0;
}

void sim__buf_init(struct sim_buf *b, size_t head)
{
	memset(b, 0, sizeof(*b));
	b->head = head;
}

void sim__buf_release(struct sim_buf *b)
{
	free(b->mem);
	sim__buf_init(b, b->head);
}

void sim__buf_reset(struct sim_buf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->mem)
		b->mem[b->head] = '\0';
}

char *sim__buf_text(const struct sim_buf *b)
{
	return b->mem ? b->mem + b->head : (char *)"";
}

static bool reserve(struct sim_buf *b, size_t more)
{
	if (b->oom)
		return false;
	if (b->mem && b->len + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *m = realloc(b->mem, b->head + cap);
	if (!m) {
		b->oom = true;
		return false;
	}
	b->mem = m;
	b->cap = cap;
	return true;
}

void sim__buf_add(struct sim_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->mem + b->head + b->len, s, n);
	b->len += n;
	b->mem[b->head + b->len] = '\0';
}

void sim__buf_str(struct sim_buf *b, const char *s)
{
	sim__buf_add(b, s, strlen(s));
}

void sim__buf_printf(struct sim_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->mem + b->head + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sim__buf_fixed(struct sim_buf *b, int64_t v, int scale)
{
	char tmp[32];
	int n = fx_format(v, scale, tmp, sizeof(tmp));
	if (n > 0)
		sim__buf_add(b, tmp, (size_t)n);
}

void sim__buf_time(struct sim_buf *b, int64_t wall_ns)
{
	char tmp[40];
	int n = clock_fmt_rfc3339(wall_ns, 6, tmp, sizeof(tmp));
	sim__buf_add(b, "\"", 1);
	if (n > 0)
		sim__buf_add(b, tmp, (size_t)n);
	sim__buf_add(b, "\"", 1);
}

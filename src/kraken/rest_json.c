/* JSON helpers over jsmn tokens for the REST answers, and struct kr_dec. */
#include "kraken/rest_int.h"

#include <stdlib.h>

#include "core/fixed.h"

int kr__js_parse(const char *text, size_t len, jsmntok_t **out)
{
	jsmn_parser p;
	jsmntok_t *tok;
	int n;

	*out = NULL;
	jsmn_init(&p);
	n = jsmn_parse(&p, text, len, NULL, 0);
	if (n <= 0)
		return ERR_PARSE;
	tok = calloc((size_t)n, sizeof(*tok));
	if (!tok)
		return ERR_NOMEM;
	jsmn_init(&p);
	if (jsmn_parse(&p, text, len, tok, (unsigned)n) != n || tok[0].type != JSMN_OBJECT) {
		free(tok);
		return ERR_PARSE;
	}
	/* jsmn stops at the end of the top value; anything but whitespace after
	 * it is a broken answer. */
	for (size_t i = (size_t)tok[0].end; i < len; i++) {
		if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') {
			free(tok);
			return ERR_PARSE;
		}
	}
	*out = tok;
	return n;
}

int kr__js_skip(const struct kr__js *j, int i)
{
	int unclosed = 1;

	while (unclosed > 0 && i < j->n) {
		unclosed += j->t[i].size - 1;
		i++;
	}
	return i;
}

bool kr__js_eq(const struct kr__js *j, int i, const char *s)
{
	size_t n = strlen(s);

	if (i < 0 || i >= j->n)
		return false;
	return (size_t)(j->t[i].end - j->t[i].start) == n &&
	       memcmp(j->s + j->t[i].start, s, n) == 0;
}

int kr__js_get(const struct kr__js *j, int obj, const char *key)
{
	int i, k;

	if (obj < 0 || obj >= j->n || j->t[obj].type != JSMN_OBJECT)
		return -1;
	i = obj + 1;
	for (k = 0; k < j->t[obj].size && i + 1 < j->n; k++) {
		if (j->t[i].type == JSMN_STRING && kr__js_eq(j, i, key))
			return i + 1;
		i = kr__js_skip(j, i + 1);
	}
	return -1;
}

/* A string or primitive; an object key (a string with one child) counts. */
static bool scalar(const struct kr__js *j, int i)
{
	return i >= 0 && i < j->n &&
	       ((j->t[i].type == JSMN_STRING && j->t[i].size <= 1) ||
		(j->t[i].type == JSMN_PRIMITIVE && j->t[i].size == 0));
}

int kr__js_str(const struct kr__js *j, int i, char *out, size_t cap)
{
	size_t n;

	if (cap)
		out[0] = '\0';
	if (!scalar(j, i))
		return ERR_SCHEMA;
	n = (size_t)(j->t[i].end - j->t[i].start);
	if (n + 1 > cap)
		return ERR_SCHEMA;
	memcpy(out, j->s + j->t[i].start, n);
	out[n] = '\0';
	return 0;
}

int kr__js_dec(const struct kr__js *j, int i, struct kr_dec *d)
{
	if (!scalar(j, i))
		return ERR_SCHEMA;
	return kr_dec_parse(j->s + j->t[i].start, (size_t)(j->t[i].end - j->t[i].start), d);
}

int kr__js_int(const struct kr__js *j, int i, int64_t *v)
{
	struct kr_dec d;
	int rc;

	rc = kr__js_dec(j, i, &d);
	if (rc)
		return rc;
	if (d.scale != 0)
		return ERR_SCHEMA;
	*v = d.v;
	return 0;
}

int kr__js_double(const struct kr__js *j, int i, double *v)
{
	struct kr_dec d;
	int rc = kr__js_dec(j, i, &d);

	if (rc)
		return rc;
	*v = kr_dec_double(d);
	return 0;
}

int kr_dec_parse(const char *s, size_t len, struct kr_dec *d)
{
	size_t dot = len, k, frac = 0;
	int64_t v;
	int rc = ERR_PARSE;

	if (!s || len == 0 || len > FX_MAX_TEXT)
		return len > FX_MAX_TEXT ? ERR_RANGE : ERR_PARSE;
	for (k = 0; k < len; k++) {
		if (s[k] == '.')
			dot = k;
		if (s[k] == 'e' || s[k] == 'E')
			break;
	}
	if (dot < k)
		frac = k - dot - 1;
	/* Trailing zeros are kept: "0.2600" stays at scale 4, as Kraken wrote it.
	 * An exponent can need more decimals than the text shows. */
	for (int scale = frac > FX_MAX_SCALE ? FX_MAX_SCALE : (int)frac; scale <= FX_MAX_SCALE;
	     scale++) {
		rc = fx_parse(s, len, scale, &v);
		if (rc == 0) {
			d->v = v;
			d->scale = scale;
			return 0;
		}
		if (rc == ERR_PARSE)
			return rc;
		if (k == len && frac <= FX_MAX_SCALE)
			return rc; /* no exponent: more decimals cannot help */
	}
	return rc;
}

int kr_dec_to_scale(struct kr_dec d, int scale, int64_t *out)
{
	return fx_rescale(d.v, d.scale, scale, out);
}

int kr_dec_format(struct kr_dec d, char *buf, size_t cap)
{
	return fx_format(d.v, d.scale, buf, cap);
}

double kr_dec_double(struct kr_dec d)
{
	return fx_to_double(d.v, d.scale);
}

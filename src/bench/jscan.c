/* The small JSON scanner of bench_int.h. Used outside the timed section of
 * verify-book (finding the message in a recording line) and to infer a
 * pair's precisions from a snapshot when the file has no instrument data. */
#include "bench/bench_int.h"

#include <string.h>

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* i at the opening quote; returns the index after the closing one, or 0. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

size_t bench__skip_value(const char *s, size_t n, size_t i)
{
	/* Containers nest; a small explicit stack of closers bounds the depth. */
	char stack[KR_MAX_NESTING];
	size_t depth = 0;

	i = skip_ws(s, n, i);
	if (i >= n)
		return 0;
	do {
		char c;

		if (i >= n)
			return 0;
		c = s[i];
		if (c == '"') {
			i = skip_string(s, n, i);
			if (i == 0)
				return 0;
		} else if (c == '{' || c == '[') {
			if (depth == sizeof(stack))
				return 0;
			stack[depth++] = c == '{' ? '}' : ']';
			i++;
		} else if (c == '}' || c == ']') {
			if (depth == 0 || stack[depth - 1] != c)
				return 0;
			depth--;
			i++;
		} else if (c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\r' ||
			   c == '\n') {
			if (depth == 0)
				return 0;
			i++;
		} else {
			size_t st = i;

			while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
			       s[i] != '\t' && s[i] != '\r' && s[i] != '\n' && s[i] != ':' &&
			       s[i] != '"')
				i++;
			if (i == st)
				return 0;
		}
	} while (depth > 0);
	return i;
}

static struct kr_view trim(const char *s, size_t st, size_t end)
{
	struct kr_view v;

	st = skip_ws(s, end, st);
	v.p = s + st;
	v.len = end - st;
	return v;
}

bool bench__member(struct kr_view obj, const char *key, struct kr_view *v)
{
	const char *s = obj.p;
	size_t n = obj.len, klen = strlen(key), i = skip_ws(s, n, 0);

	if (i >= n || s[i] != '{')
		return false;
	i = skip_ws(s, n, i + 1);
	if (i < n && s[i] == '}')
		return false;
	for (;;) {
		size_t ks, ke, vs, ve;

		if (i >= n || s[i] != '"')
			return false;
		ks = i + 1;
		ke = skip_string(s, n, i);
		if (ke == 0)
			return false;
		i = skip_ws(s, n, ke);
		if (i >= n || s[i] != ':')
			return false;
		vs = i + 1;
		ve = bench__skip_value(s, n, vs);
		if (ve == 0)
			return false;
		if (ke - 1 - ks == klen && memcmp(s + ks, key, klen) == 0) {
			*v = trim(s, vs, ve);
			return true;
		}
		i = skip_ws(s, n, ve);
		if (i >= n || s[i] != ',')
			return false;
		i = skip_ws(s, n, i + 1);
	}
}

bool bench__element(struct kr_view arr, size_t k, struct kr_view *v)
{
	const char *s = arr.p;
	size_t n = arr.len, i = skip_ws(s, n, 0);

	if (i >= n || s[i] != '[')
		return false;
	i = skip_ws(s, n, i + 1);
	if (i < n && s[i] == ']')
		return false;
	for (size_t e = 0;; e++) {
		size_t ve = bench__skip_value(s, n, i);

		if (ve == 0)
			return false;
		if (e == k) {
			*v = trim(s, i, ve);
			return true;
		}
		i = skip_ws(s, n, ve);
		if (i >= n || s[i] != ',')
			return false;
		i = skip_ws(s, n, i + 1);
	}
}

/* The layout `arbitrade record` writes, {"recv_ts":"...","msg":{...}}, read
 * without scanning the message: it ends at the line's last '}' but one. A
 * line that only looks like it (a member after "msg") gives a view the
 * decoder refuses, and bench__line_message_slow then finds the real one. */
static bool recorded_fast(const char *line, size_t n, struct kr_view *msg)
{
	static const char head[] = "{\"recv_ts\":\"";
	static const char mid[] = ",\"msg\":";
	const char *p, *q, *end = line + n;

	if (n < sizeof(head) + sizeof(mid) + 2 || memcmp(line, head, sizeof(head) - 1) != 0)
		return false;
	p = memchr(line + sizeof(head) - 1, '"', n - (sizeof(head) - 1));
	if (!p || (size_t)(end - p - 1) < sizeof(mid) - 1 ||
	    memcmp(p + 1, mid, sizeof(mid) - 1) != 0)
		return false;
	p += sizeof(mid);
	while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - p < 3 || end[-1] != '}' || *p != '{')
		return false;
	q = end - 1; /* the wrapper's brace */
	while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
		q--;
	if (q[-1] != '}')
		return false;
	msg->p = p;
	msg->len = (size_t)(q - p);
	return true;
}

bool bench__line_message(const char *line, size_t n, struct kr_view *msg)
{
	return recorded_fast(line, n, msg) || bench__line_message_slow(line, n, msg);
}

bool bench__line_message_slow(const char *line, size_t n, struct kr_view *msg)
{
	struct kr_view all, v;
	size_t st = skip_ws(line, n, 0), end = n;

	while (end > st && (line[end - 1] == ' ' || line[end - 1] == '\t' ||
			    line[end - 1] == '\r' || line[end - 1] == '\n'))
		end--;
	all.p = line + st;
	all.len = end - st;
	if (all.len == 0 || all.p[0] != '{')
		return false;
	if (bench__member(all, "msg", &v)) {
		if (v.len == 0 || v.p[0] != '{')
			return false;
		*msg = v;
		return true;
	}
	if (bench__member(all, "channel", &v) || bench__member(all, "method", &v)) {
		*msg = all;
		return true;
	}
	return false;
}

int bench__decimals(struct kr_view num)
{
	const char *s = num.p;
	size_t n = num.len, i = 0;
	int frac = 0, exp = 0, dec;
	bool neg_exp = false, digits = false;

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (i < n && s[i] == '-')
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		i++;
		digits = true;
	}
	if (!digits)
		return -1;
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			frac++;
		if (frac == 0)
			return -1;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			neg_exp = s[i++] == '-';
		if (i >= n)
			return -1;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (exp < 100)
				exp = exp * 10 + (s[i] - '0');
	}
	if (i != n)
		return -1;
	dec = neg_exp ? frac + exp : frac - exp;
	return dec < 0 ? 0 : dec;
}

static void side_decimals(struct kr_view side, int *pp, int *qp, size_t *levels)
{
	struct kr_view lv, num;

	for (size_t k = 0; bench__element(side, k, &lv); k++) {
		int d;

		if (bench__member(lv, "price", &num) && (d = bench__decimals(num)) > *pp)
			*pp = d;
		if (bench__member(lv, "qty", &num) && (d = bench__decimals(num)) > *qp)
			*qp = d;
		(*levels)++;
	}
}

bool bench__infer_precision(struct kr_view msg, struct kr_view *symbol, int *price_prec,
			    int *qty_prec)
{
	struct kr_view v, data, book, side;
	size_t levels = 0;
	int pp = 0, qp = 0;

	if (!bench__member(msg, "channel", &v) || v.len != 6 || memcmp(v.p, "\"book\"", 6) != 0)
		return false;
	if (!bench__member(msg, "type", &v) || v.len != 10 || memcmp(v.p, "\"snapshot\"", 10) != 0)
		return false;
	if (!bench__member(msg, "data", &data) || !bench__element(data, 0, &book))
		return false;
	if (!bench__member(book, "symbol", &v) || v.len < 3 || v.p[0] != '"' ||
	    v.p[v.len - 1] != '"')
		return false;
	symbol->p = v.p + 1;
	symbol->len = v.len - 2;
	if (bench__member(book, "bids", &side))
		side_decimals(side, &pp, &qp, &levels);
	if (bench__member(book, "asks", &side))
		side_decimals(side, &pp, &qp, &levels);
	if (levels == 0)
		return false;
	*price_prec = pp > 18 ? 18 : pp;
	*qty_prec = qp > 18 ? 18 : qp;
	return true;
}

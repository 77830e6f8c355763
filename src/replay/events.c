/* Reading backtest input: map the file, index every line by time, sort. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "replay/replay_int.h"

int replay__json_skip(const jsmntok_t *t, int ntok, int i)
{
	int end = t[i].end;
	i++;
	while (i < ntok && t[i].start < end)
		i++;
	return i;
}

int replay__json_get(const char *js, const jsmntok_t *t, int ntok, int obj, const char *key)
{
	size_t klen = strlen(key);
	if (obj < 0 || obj >= ntok || t[obj].type != JSMN_OBJECT)
		return -1;
	int i = obj + 1;
	for (int k = 0; k < t[obj].size && i < ntok; k++) {
		const jsmntok_t *kt = &t[i];
		int v = i + 1;
		if (v >= ntok)
			return -1;
		if (kt->type == JSMN_STRING && (size_t)(kt->end - kt->start) == klen &&
		    memcmp(js + kt->start, key, klen) == 0)
			return v;
		i = replay__json_skip(t, ntok, v);
	}
	return -1;
}

bool replay__num_text(const char *js, const jsmntok_t *t, const char **p, size_t *len)
{
	if (t->type != JSMN_PRIMITIVE && t->type != JSMN_STRING)
		return false;
	*p = js + t->start;
	*len = (size_t)(t->end - t->start);
	if (*len == 0)
		return false;
	if (t->type == JSMN_PRIMITIVE)
		return (**p >= '0' && **p <= '9') || **p == '-';
	return true;
}

/* Fraction digits of a decimal's text ("42000.10" -> 2; exponents count
 * their effect: "1e-08" -> 8). Trailing zeros count: they are the data's
 * stated precision. */
static int decimals_of(const char *p, size_t len)
{
	int frac = 0, in_frac = 0;
	long exp = 0;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (c == '.') {
			in_frac = 1;
		} else if (c == 'e' || c == 'E') {
			exp = strtol(p + i + 1, NULL, 10);
			break;
		} else if (in_frac) {
			frac++;
		}
	}
	long d = frac - exp;
	return d < 0 ? 0 : (int)(d > 18 ? 18 : d);
}

static uint32_t symbol_index(struct replay__events *e, const char *p, size_t len)
{
	for (uint32_t i = 0; i < e->nsym; i++)
		if (strlen(e->sym[i].name) == len && memcmp(e->sym[i].name, p, len) == 0)
			return i;
	if (e->nsym >= REPLAY__MAX_SYMBOLS || len >= REPLAY__SYMBOL_MAX)
		return UINT32_MAX;
	struct replay__symbol *s = &e->sym[e->nsym];
	memset(s, 0, sizeof *s);
	memcpy(s->name, p, len);
	const char *slash = memchr(p, '/', len);
	if (slash) {
		memcpy(s->base, p, (size_t)(slash - p));
		memcpy(s->quote, slash + 1, len - (size_t)(slash - p) - 1);
	}
	return e->nsym++;
}

/* Checks a "bids"/"asks" array of [price, qty] pairs and notes the decimals. */
static int scan_levels(const char *js, const jsmntok_t *t, int ntok, int arr,
		       struct replay__symbol *s, const char *side, char *why, size_t cap)
{
	if (arr < 0) {
		snprintf(why, cap, "missing \"%s\"", side);
		return ERR_PARSE;
	}
	if (t[arr].type != JSMN_ARRAY) {
		snprintf(why, cap, "\"%s\" is not an array", side);
		return ERR_PARSE;
	}
	int i = arr + 1;
	if (t[arr].size > s->max_levels)
		s->max_levels = t[arr].size;
	for (int k = 0; k < t[arr].size; k++) {
		const char *pp, *qp;
		size_t pl, ql;
		if (i + 2 >= ntok) {
			snprintf(why, cap, "\"%s\" level %d is truncated", side, k);
			return ERR_PARSE;
		}
		if (t[i].type != JSMN_ARRAY || t[i].size != 2 ||
		    !replay__num_text(js, &t[i + 1], &pp, &pl) ||
		    !replay__num_text(js, &t[i + 2], &qp, &ql)) {
			snprintf(why, cap, "\"%s\" level %d is not [price, qty]", side, k);
			return ERR_PARSE;
		}
		int pd = decimals_of(pp, pl), qd = decimals_of(qp, ql);
		if (pd > s->price_decimals)
			s->price_decimals = pd;
		if (qd > s->qty_decimals)
			s->qty_decimals = qd;
		i += 3;
	}
	return 0;
}

static int ts_of(const char *js, const jsmntok_t *t, int v, int64_t *out)
{
	if (v < 0 || t[v].type != JSMN_STRING)
		return ERR_PARSE;
	return clock_parse_rfc3339(js + t[v].start, (size_t)(t[v].end - t[v].start), out);
}

/* A line exactly as `arbitrade record` writes it,
 *   {"recv_ts":"<RFC3339>","msg":<message>}
 * is indexed without tokenizing: the time is read in place and the message
 * is left for the Kraken decoder, which checks it when it is replayed (a bad
 * message then stops the run at its line). Returns false for any other
 * shape, which goes through the full tokenizer. */
static int two(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

int replay__ts(struct replay__events *e, const char *s, size_t len, int64_t *out)
{
	/* "SS" or "SS.f..f" (1..9 digits) then 'Z' after a cached minute. */
	if (e->ts_minute_ns && len >= 20 && len <= 30 && memcmp(s, e->ts_minute, 17) == 0 &&
	    s[len - 1] == 'Z' && s[17] >= '0' && s[17] <= '5' && s[18] >= '0' && s[18] <= '9') {
		int64_t ns = 0, scale = 100000000;
		size_t i = 19;
		if (len > 20) {
			if (s[19] != '.' || len == 21)
				goto full;
			for (i = 20; i < len - 1; i++, scale /= 10) {
				if (s[i] < '0' || s[i] > '9')
					goto full;
				ns += (s[i] - '0') * scale;
			}
		}
		*out = e->ts_minute_ns + (int64_t)two(s + 17) * 1000000000LL + ns;
		return 0;
	}
full:;
	int rc = clock_parse_rfc3339(s, len, out);
	/* Cache the minute of a plain UTC time ('Z', no offset). */
	if (rc == 0 && len >= 20 && s[len - 1] == 'Z' && s[16] == ':') {
		int64_t sec_ns = (int64_t)two(s + 17) * 1000000000LL;
		int64_t frac = *out % 1000000000LL;
		if (frac < 0)
			frac += 1000000000LL;
		memcpy(e->ts_minute, s, 17);
		e->ts_minute_ns = *out - frac - sec_ns;
	}
	return rc;
}

static bool index_record_fast(struct replay__events *e, const char *p, size_t len,
			      struct replay__event *ev)
{
	static const char head[] = "{\"recv_ts\":\"";
	static const char mid[] = "\",\"msg\":";
	const size_t hl = sizeof head - 1, ml = sizeof mid - 1;
	if (len < hl + ml + 3 || memcmp(p, head, hl) != 0 || p[len - 1] != '}')
		return false;
	const char *q = memchr(p + hl, '"', len - hl);
	if (!q || (size_t)(q - p) + ml + 2 > len || memcmp(q, mid, ml) != 0)
		return false;
	if (replay__ts(e, p + hl, (size_t)(q - p) - hl, &ev->ts_ns) != 0)
		return false;
	const char *m = q + ml;
	if (*m != '{')
		return false;
	ev->kind = REPLAY__RECORD;
	ev->symbol = UINT32_MAX;
	ev->msg_off = (uint32_t)(m - p);
	ev->msg_len = (uint32_t)(len - 1 - (size_t)(m - p));
	return true;
}

/* Indexes one line; 0, or ERR_PARSE with why. */
static int index_line(struct replay__events *e, const char *p, size_t len, struct replay__event *ev,
		      char *why, size_t cap)
{
	jsmn_parser jp;
	jsmn_init(&jp);
	int n = jsmn_parse(&jp, p, len, e->tok, REPLAY__MAX_TOKENS);
	if (n == JSMN_ERROR_NOMEM) {
		snprintf(why, cap, "line has more than %u JSON tokens", REPLAY__MAX_TOKENS);
		return ERR_PARSE;
	}
	if (n < 1 || e->tok[0].type != JSMN_OBJECT || (size_t)e->tok[0].end != len) {
		snprintf(why, cap, "not one JSON object");
		return ERR_PARSE;
	}
	const jsmntok_t *t = e->tok;
	int ts = replay__json_get(p, t, n, 0, "timestamp");
	int sym = replay__json_get(p, t, n, 0, "symbol");
	int rts = replay__json_get(p, t, n, 0, "recv_ts");
	int msg = replay__json_get(p, t, n, 0, "msg");
	if (rts >= 0 && msg >= 0) {
		if (ts_of(p, t, rts, &ev->ts_ns) != 0) {
			snprintf(why, cap, "\"recv_ts\" is not an RFC3339 time");
			return ERR_PARSE;
		}
		if (t[msg].type != JSMN_OBJECT) {
			snprintf(why, cap, "\"msg\" is not an object");
			return ERR_PARSE;
		}
		ev->kind = REPLAY__RECORD;
		ev->symbol = UINT32_MAX;
		ev->msg_off = (uint32_t)t[msg].start;
		ev->msg_len = (uint32_t)(t[msg].end - t[msg].start);
		return 0;
	}
	if (ts < 0) {
		snprintf(why, cap,
			 "no \"timestamp\" (seed format) or \"recv_ts\"/\"msg\" (recording)");
		return ERR_PARSE;
	}
	if (ts_of(p, t, ts, &ev->ts_ns) != 0) {
		snprintf(why, cap, "\"timestamp\" is not an RFC3339 time");
		return ERR_PARSE;
	}
	if (sym < 0 || t[sym].type != JSMN_STRING) {
		snprintf(why, cap, "missing \"symbol\"");
		return ERR_PARSE;
	}
	const char *sp = p + t[sym].start;
	size_t sl = (size_t)(t[sym].end - t[sym].start);
	const char *slash = memchr(sp, '/', sl);
	if (!slash || slash == sp || slash == sp + sl - 1) {
		snprintf(why, cap, "\"symbol\" '%.*s' is not BASE/QUOTE", (int)(sl > 40 ? 40 : sl),
			 sp);
		return ERR_PARSE;
	}
	ev->symbol = symbol_index(e, sp, sl);
	if (ev->symbol == UINT32_MAX) {
		snprintf(why, cap, "too many symbols or symbol too long");
		return ERR_PARSE;
	}
	struct replay__symbol *s = &e->sym[ev->symbol];
	int rc = scan_levels(p, t, n, replay__json_get(p, t, n, 0, "bids"), s, "bids", why, cap);
	if (rc == 0)
		rc =
		    scan_levels(p, t, n, replay__json_get(p, t, n, 0, "asks"), s, "asks", why, cap);
	if (rc != 0)
		return rc;
	s->events++;
	ev->kind = REPLAY__SEED;
	return 0;
}

static int cmp_event(const void *a, const void *b)
{
	const struct replay__event *x = a, *y = b;
	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	return (x->line > y->line) - (x->line < y->line);
}

int replay__events_load(const char *path, bool skip_bad, struct replay__events **out,
			struct err_info *info)
{
	struct replay__events *e = NULL;
	struct stat st;
	int fd = -1, rc = 0;
	size_t cap = 0;

	*out = NULL;
	e = calloc(1, sizeof *e);
	if (!e)
		return err_set(info, ERR_NOMEM, "events: out of memory");
	e->tok = malloc(REPLAY__MAX_TOKENS * sizeof *e->tok);
	if (!e->tok) {
		rc = err_set(info, ERR_NOMEM, "events: out of memory");
		goto fail;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = err_set(info, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		rc = err_set(info, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_size == 0) {
		rc = err_set(info, ERR_PARSE, "%s: the file is empty", path);
		goto fail;
	}
	e->size = (size_t)st.st_size;
	e->data = mmap(NULL, e->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (e->data == MAP_FAILED) {
		e->data = NULL;
		rc = err_set(info, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	madvise((void *)e->data, e->size, MADV_SEQUENTIAL);
	close(fd);
	fd = -1;

	uint32_t line = 0;
	bool sorted = true;
	for (size_t off = 0; off < e->size;) {
		const char *p = e->data + off;
		const char *nl = memchr(p, '\n', e->size - off);
		size_t len = nl ? (size_t)(nl - p) : e->size - off;
		size_t next = off + len + (nl ? 1 : 0);
		line++;
		if (len && p[len - 1] == '\r')
			len--;
		size_t lead = 0;
		while (lead < len && (p[lead] == ' ' || p[lead] == '\t'))
			lead++;
		if (lead == len) {
			e->blank_lines++;
			off = next;
			continue;
		}
		if (e->n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			struct replay__event *nev = realloc(e->ev, ncap * sizeof *nev);
			if (!nev) {
				rc = err_set(info, ERR_NOMEM, "events: out of memory");
				goto fail;
			}
			e->ev = nev;
			cap = ncap;
		}
		struct replay__event *ev = &e->ev[e->n];
		char why[160] = "";
		memset(ev, 0, sizeof *ev);
		ev->line = line;
		ev->off = off + lead;
		ev->len = (uint32_t)(len - lead);
		if (len - lead > UINT32_MAX / 2) {
			snprintf(why, sizeof why, "line is too long");
			rc = ERR_PARSE;
		} else if (index_record_fast(e, p + lead, len - lead, ev)) {
			rc = 0;
		} else {
			rc = index_line(e, p + lead, len - lead, ev, why, sizeof why);
		}
		if (rc != 0) {
			if (!e->first_bad_line) {
				e->first_bad_line = line;
				snprintf(e->first_bad_why, sizeof e->first_bad_why, "%s", why);
			}
			if (!skip_bad) {
				rc = err_set(info, ERR_PARSE, "%s:%u: %s", path, line, why);
				goto fail;
			}
			e->bad_lines++;
			rc = 0;
			off = next;
			continue;
		}
		if (e->n && cmp_event(&e->ev[e->n - 1], ev) > 0)
			sorted = false;
		e->n++;
		off = next;
	}
	if (e->n == 0) {
		rc = err_set(info, ERR_PARSE, "%s: no event in the file (%llu bad lines)", path,
			     (unsigned long long)e->bad_lines);
		goto fail;
	}
	/* (time, line) keys are unique, so qsort's order is the stable one. */
	if (!sorted)
		qsort(e->ev, e->n, sizeof *e->ev, cmp_event);
	*out = e;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	replay__events_free(e);
	return rc;
}

int replay__events_tokenize(struct replay__events *e, size_t i, const char **line)
{
	const struct replay__event *ev = &e->ev[i];
	jsmn_parser jp;
	jsmn_init(&jp);
	*line = e->data + ev->off;
	int n = jsmn_parse(&jp, *line, ev->len, e->tok, REPLAY__MAX_TOKENS);
	return n < 1 ? ERR_PARSE : n;
}

void replay__events_free(struct replay__events *e)
{
	if (!e)
		return;
	if (e->data)
		munmap((void *)e->data, e->size);
	free(e->ev);
	free(e->tok);
	free(e);
}

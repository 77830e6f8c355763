/* Reading a universe from a file: a Kraken instrument message (raw, or a
 * line as `arbitrade record` writes it) or a REST AssetPairs answer, into a
 * decoder's instrument table. Used by `arbitrade cycles` and the backtest. */
#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fixed.h"
#include "kraken/codec.h"

/* Largest universe file read (Kraken's snapshot is about 1 MB). */
#define MAX_UNIVERSE_BYTES (64u << 20)

/* ---- AssetPairs (REST v1) ------------------------------------------------ */

struct js {
	const char *s;
	jsmntok_t *t;
	int n;
};

static bool js_eq(const struct js *j, int i, const char *lit)
{
	size_t len = strlen(lit);
	return j->t[i].type == JSMN_STRING && (size_t)(j->t[i].end - j->t[i].start) == len &&
	       memcmp(j->s + j->t[i].start, lit, len) == 0;
}

/* Index of the token after tok i and all its children. */
static int js_skip(const struct js *j, int i)
{
	int end = j->t[i].end, k = i + 1;
	while (k < j->n && j->t[k].start < end)
		k++;
	return k;
}

static int js_get(const struct js *j, int obj, const char *key)
{
	if (obj < 0 || j->t[obj].type != JSMN_OBJECT)
		return -1;
	for (int k = obj + 1; k < j->n && j->t[k].start < j->t[obj].end; k = js_skip(j, k + 1))
		if (js_eq(j, k, key))
			return k + 1;
	return -1;
}

static int js_str(const struct js *j, int i, char *buf, size_t cap)
{
	if (i < 0 || (j->t[i].type != JSMN_STRING && j->t[i].type != JSMN_PRIMITIVE))
		return -1;
	size_t len = (size_t)(j->t[i].end - j->t[i].start);
	if (len >= cap)
		return -1;
	memcpy(buf, j->s + j->t[i].start, len);
	buf[len] = '\0';
	return (int)len;
}

static int js_int(const struct js *j, int i, int *out)
{
	char buf[16];
	int64_t v;
	int len = js_str(j, i, buf, sizeof buf);
	if (len < 0 || fx_parse(buf, (size_t)len, 0, &v) || v < 0 || v > 18)
		return -1;
	*out = (int)v;
	return 0;
}

static int js_dec(const struct js *j, int i, int scale, int64_t *out)
{
	char buf[FX_MAX_TEXT];
	int len = js_str(j, i, buf, sizeof buf);
	return len < 0 ? -1 : fx_parse(buf, (size_t)len, scale, out);
}

/* Kraken's v1 names for the assets whose v2 name differs. */
static const char *v2_asset(const char *v1)
{
	if (strcmp(v1, "XBT") == 0)
		return "BTC";
	if (strcmp(v1, "XDG") == 0)
		return "DOGE";
	return v1;
}

static enum kr_pair_status v1_status(const char *s)
{
	static const struct {
		const char *name;
		enum kr_pair_status st;
	} map[] = {{"online", KR_PAIR_STATUS_ONLINE},
		   {"cancel_only", KR_PAIR_STATUS_CANCEL_ONLY},
		   {"post_only", KR_PAIR_STATUS_POST_ONLY},
		   {"limit_only", KR_PAIR_STATUS_LIMIT_ONLY},
		   {"reduce_only", KR_PAIR_STATUS_REDUCE_ONLY},
		   {"delisted", KR_PAIR_STATUS_DELISTED},
		   {"maintenance", KR_PAIR_STATUS_MAINTENANCE}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(s, map[i].name) == 0)
			return map[i].st;
	return KR_PAIR_STATUS_UNKNOWN;
}

/* One AssetPairs entry into a kr_pair: the v2 symbol from wsname ("XBT/USD"
 * becomes "BTC/USD"), precisions from pair_decimals / lot_decimals /
 * cost_decimals, increments from tick_size and the lot decimals. */
static int asset_pair(const struct js *j, int obj, const char *key, struct kr_pair *p,
		      struct err_info *info)
{
	char ws[KR_SYMBOL_MAX], status[32] = "online";
	int64_t one = 1;
	memset(p, 0, sizeof *p);
	if (js_str(j, js_get(j, obj, "wsname"), ws, sizeof ws) < 0)
		return err_set(info, ERR_SCHEMA, "AssetPairs %s: no wsname", key);
	char *slash = strchr(ws, '/');
	if (!slash || slash == ws || !slash[1])
		return err_set(info, ERR_SCHEMA, "AssetPairs %s: wsname \"%s\" is not BASE/QUOTE",
			       key, ws);
	*slash = '\0';
	const char *base = v2_asset(ws), *quote = v2_asset(slash + 1);
	if (strlen(base) >= KR_ASSET_MAX || strlen(quote) >= KR_ASSET_MAX)
		return err_set(info, ERR_SCHEMA, "AssetPairs %s: asset name too long", key);
	memcpy(p->base, base, strlen(base) + 1);
	memcpy(p->quote, quote, strlen(quote) + 1);
	snprintf(p->symbol, sizeof p->symbol, "%s/%s", p->base, p->quote);
	if (js_int(j, js_get(j, obj, "pair_decimals"), &p->price_precision) ||
	    js_int(j, js_get(j, obj, "lot_decimals"), &p->qty_precision))
		return err_set(info, ERR_SCHEMA, "AssetPairs %s: bad pair_decimals or lot_decimals",
			       key);
	if (js_int(j, js_get(j, obj, "cost_decimals"), &p->cost_precision))
		p->cost_precision = p->price_precision + p->qty_precision > 18
					? 18
					: p->price_precision + p->qty_precision;
	int ti = js_get(j, obj, "tick_size");
	if (ti < 0)
		p->price_increment = one;
	else if (js_dec(j, ti, p->price_precision, &p->price_increment))
		return err_set(info, ERR_SCHEMA, "AssetPairs %s: bad tick_size", key);
	p->qty_increment = one;
	int om = js_get(j, obj, "ordermin");
	if (om >= 0 && js_dec(j, om, p->qty_precision, &p->qty_min))
		return err_set(info, ERR_SCHEMA, "AssetPairs %s: bad ordermin", key);
	int cm = js_get(j, obj, "costmin");
	if (cm >= 0 && js_dec(j, cm, p->cost_precision, &p->cost_min))
		return err_set(info, ERR_SCHEMA, "AssetPairs %s: bad costmin", key);
	js_str(j, js_get(j, obj, "status"), status, sizeof status);
	p->status = v1_status(status);
	return 0;
}

static int load_asset_pairs(struct kr_decoder *d, const char *text, size_t len,
			    struct err_info *info)
{
	jsmn_parser ps;
	struct js j = {.s = text};
	int rc = 0;
	jsmn_init(&ps);
	j.n = jsmn_parse(&ps, text, len, NULL, 0);
	if (j.n <= 0)
		return err_set(info, ERR_PARSE, "not valid JSON");
	j.t = calloc((size_t)j.n, sizeof *j.t);
	if (!j.t)
		return err_set(info, ERR_NOMEM, "out of memory");
	jsmn_init(&ps);
	if (jsmn_parse(&ps, text, len, j.t, (unsigned)j.n) != j.n) {
		rc = err_set(info, ERR_PARSE, "not valid JSON");
		goto cleanup;
	}
	int res = js_get(&j, 0, "result");
	int err = js_get(&j, 0, "error");
	if (err >= 0 && j.t[err].type == JSMN_ARRAY && j.t[err].size > 0) {
		rc = err_set(info, ERR_EXCHANGE, "the AssetPairs response carries an error");
		goto cleanup;
	}
	if (res < 0 || j.t[res].type != JSMN_OBJECT) {
		rc = err_set(info, ERR_SCHEMA, "no \"result\" object");
		goto cleanup;
	}
	for (int k = res + 1; k < j.n && j.t[k].start < j.t[res].end; k = js_skip(&j, k + 1)) {
		char key[KR_SYMBOL_MAX];
		struct kr_pair p;
		if (js_str(&j, k, key, sizeof key) < 0)
			snprintf(key, sizeof key, "(long key)");
		rc = asset_pair(&j, k + 1, key, &p, info);
		if (rc == 0 && kr_decoder_put_pair(d, &p, NULL) != 0)
			rc = err_set(info, ERR_SCHEMA, "AssetPairs %s: a field is out of bounds",
				     key);
		if (rc)
			goto cleanup;
	}
cleanup:
	free(j.t);
	return rc;
}

/* ---- the universe file ----------------------------------------------------- */

static int read_file(const char *path, char **out, size_t *len, struct err_info *info)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	if (!f)
		return err_set(info, -errno, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		if (n == cap) {
			if (cap >= MAX_UNIVERSE_BYTES) {
				rc = err_set(info, ERR_RANGE, "%s is larger than %u bytes", path,
					     MAX_UNIVERSE_BYTES);
				goto cleanup;
			}
			cap = cap ? cap * 2 : 1u << 20;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				rc = err_set(info, ERR_NOMEM, "out of memory reading %s", path);
				goto cleanup;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = err_set(info, ERR_IO, "cannot read %s", path);
			break;
		}
	}
cleanup:
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int kr_universe_load_file(struct kr_decoder *d, const char *path, struct err_info *info)
{
	char *text = NULL;
	size_t len = 0;
	struct kr_event *ev = NULL;
	int rc = read_file(path, &text, &len, info);
	if (rc)
		return rc;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		len--;
	const char *msg = text;
	size_t mlen = len;
	/* A line as `arbitrade record` writes it: the message is "msg". */
	static const char head[] = "{\"recv_ts\":\"";
	const char *m =
	    strncmp(text, head, sizeof head - 1) == 0 ? strstr(text, "\",\"msg\":") : NULL;
	if (m && len > 0 && text[len - 1] == '}') {
		msg = m + 8;
		mlen = len - 1 - (size_t)(msg - text);
	}
	if (strstr(text, "\"channel\"")) {
		ev = malloc(sizeof *ev);
		if (!ev) {
			rc = err_set(info, ERR_NOMEM, "out of memory");
			goto cleanup;
		}
		struct err_info why = {0};
		rc = kr_decode(d, msg, mlen, ev, &why);
		if (rc) {
			rc = err_set(info, rc, "%s: %s", path, why.msg[0] ? why.msg : err_str(rc));
			goto cleanup;
		}
		if (ev->kind != KR_EV_INSTRUMENT)
			rc = err_set(info, ERR_SCHEMA,
				     "%s: a %s message, not an instrument snapshot", path,
				     kr_event_kind_str(ev->kind));
	} else if (strstr(text, "\"result\"")) {
		struct err_info why = {0};
		rc = load_asset_pairs(d, text, len, &why);
		if (rc)
			rc = err_set(info, rc, "%s: %s", path, why.msg);
	} else {
		rc = err_set(info, ERR_SCHEMA,
			     "%s: neither an instrument message (\"channel\") nor an AssetPairs "
			     "response (\"result\")",
			     path);
	}
	if (rc == 0 && kr_decoder_pair_count(d) == 0)
		rc = err_set(info, ERR_EMPTY, "%s lists no pair", path);
cleanup:
	free(ev);
	free(text);
	return rc;
}

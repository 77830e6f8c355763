/* The instrument table and the instrument channel (PROTOCOL.md §3).
 *
 * The table is an array of pairs indexed by dense id plus an open-addressing
 * hash of the symbol bytes, all allocated by kr_decoder_new. A message is
 * parsed completely into the staging array first and applied only when every
 * pair in it is valid and fits, so a bad message leaves the table as it was. */
#include "kraken/codec_int.h"

#include "core/fixed.h"

#define SLOT_MASK (KR__SLOTS - 1u)

struct name {
	const char *s;
	size_t len;
};
#define NAME(lit)                                                                                  \
	{                                                                                          \
		lit, sizeof(lit) - 1                                                               \
	}

static uint32_t hash(const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		s += 8;
		n -= 8;
	}
	if (n) {
		w = 0;
		memcpy(&w, s, n);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
	}
	h *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32);
}

uint32_t kr__find(const struct kr_decoder *d, const char *s, size_t len)
{
	uint32_t i;

	if (len == 0 || len >= KR_SYMBOL_MAX)
		return KR_PAIR_NONE;
	for (i = hash(s, len) & SLOT_MASK;; i = (i + 1) & SLOT_MASK) {
		uint32_t v = d->slots[i];
		const struct kr_pair *p;

		if (v == 0)
			return KR_PAIR_NONE;
		p = &d->pairs[v - 1];
		if (p->symbol[len] == '\0' && memcmp(p->symbol, s, len) == 0)
			return v - 1;
	}
}

uint32_t kr_decoder_find(const struct kr_decoder *d, const char *symbol, size_t len)
{
	return kr__find(d, symbol, len);
}

uint32_t kr_decoder_pair_count(const struct kr_decoder *d)
{
	return d->npairs;
}

const struct kr_pair *kr_decoder_pair(const struct kr_decoder *d, uint32_t id)
{
	return id < d->npairs ? &d->pairs[id] : NULL;
}

const char *kr_pair_status_str(enum kr_pair_status s)
{
	static const char *const names[] = {
	    "unknown",	   "online",	"cancel_only", "delisted",	   "limit_only",
	    "maintenance", "post_only", "reduce_only", "work_in_progress",
	};

	if ((unsigned)s < sizeof(names) / sizeof(names[0]))
		return names[s];
	return "?";
}

static enum kr_pair_status pair_status(const char *s, size_t n)
{
	for (unsigned k = KR_PAIR_STATUS_ONLINE; k <= KR_PAIR_STATUS_WORK_IN_PROGRESS; k++) {
		const char *name = kr_pair_status_str((enum kr_pair_status)k);

		if (strlen(name) == n && memcmp(name, s, n) == 0)
			return (enum kr_pair_status)k;
	}
	return KR_PAIR_STATUS_UNKNOWN;
}

/* A name we store and compare as raw bytes: printable, no quote or escape. */
static bool name_ok(const char *s, size_t n, size_t cap)
{
	if (n == 0 || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

const char *kr__pair_check(const struct kr_pair *p)
{
	size_t n = strnlen(p->symbol, KR_SYMBOL_MAX);

	if (!name_ok(p->symbol, n, KR_SYMBOL_MAX))
		return "symbol: empty, too long or not printable";
	if (!name_ok(p->base, strnlen(p->base, KR_ASSET_MAX), KR_ASSET_MAX))
		return "base: empty, too long or not printable";
	if (!name_ok(p->quote, strnlen(p->quote, KR_ASSET_MAX), KR_ASSET_MAX))
		return "quote: empty, too long or not printable";
	if ((unsigned)p->status > KR_PAIR_STATUS_WORK_IN_PROGRESS)
		return "status: not a kr_pair_status";
	if (p->price_precision < 0 || p->price_precision > FX_MAX_SCALE)
		return "price_precision: out of range";
	if (p->qty_precision < 0 || p->qty_precision > FX_MAX_SCALE)
		return "qty_precision: out of range";
	if (p->cost_precision < 0 || p->cost_precision > FX_MAX_SCALE)
		return "cost_precision: out of range";
	if (p->price_increment <= 0)
		return "price_increment: not positive";
	if (p->qty_increment <= 0)
		return "qty_increment: not positive";
	if (p->qty_min < 0)
		return "qty_min: negative";
	if (p->cost_min < 0)
		return "cost_min: negative";
	return NULL;
}

uint32_t kr__pair_apply(struct kr_decoder *d, const struct kr_pair *p, bool *added, bool *changed,
			bool *status_changed, bool *prec_changed)
{
	size_t len = strlen(p->symbol);
	uint32_t id = kr__find(d, p->symbol, len);
	struct kr_pair *q;

	*added = *changed = *status_changed = *prec_changed = false;
	if (id == KR_PAIR_NONE) {
		uint32_t i = hash(p->symbol, len) & SLOT_MASK;

		while (d->slots[i] != 0)
			i = (i + 1) & SLOT_MASK;
		id = d->npairs++;
		d->slots[i] = id + 1;
		d->pairs[id] = *p;
		d->pairs[id].id = id;
		*added = *changed = true;
		return id;
	}
	q = &d->pairs[id];
	*status_changed = q->status != p->status;
	*prec_changed =
	    q->price_precision != p->price_precision || q->qty_precision != p->qty_precision;
	*changed = *status_changed || *prec_changed || q->cost_precision != p->cost_precision ||
		   q->price_increment != p->price_increment ||
		   q->qty_increment != p->qty_increment || q->qty_min != p->qty_min ||
		   q->cost_min != p->cost_min || strcmp(q->base, p->base) != 0 ||
		   strcmp(q->quote, p->quote) != 0;
	*q = *p;
	q->id = id;
	return id;
}

int kr_decoder_put_pair(struct kr_decoder *d, const struct kr_pair *p, uint32_t *id_out)
{
	bool added, changed, status_changed, prec_changed;
	uint32_t id;

	if (kr__pair_check(p))
		return ERR_SCHEMA;
	if (kr__find(d, p->symbol, strlen(p->symbol)) == KR_PAIR_NONE && d->npairs >= KR_MAX_PAIRS)
		return ERR_FULL;
	id = kr__pair_apply(d, p, &added, &changed, &status_changed, &prec_changed);
	if (id_out)
		*id_out = id;
	return 0;
}

/* ---- the instrument channel --------------------------------------------- */

static const struct name pair_names[] = {
    NAME("symbol"),	     NAME("base"),	    NAME("quote"),	    NAME("status"),
    NAME("price_precision"), NAME("qty_precision"), NAME("cost_precision"), NAME("price_increment"),
    NAME("qty_increment"),   NAME("qty_min"),	    NAME("cost_min"),
};
enum {
	P_SYMBOL,
	P_BASE,
	P_QUOTE,
	P_STATUS,
	P_PRICE_PRECISION,
	P_QTY_PRECISION,
	P_COST_PRECISION,
	P_PRICE_INCREMENT,
	P_QTY_INCREMENT,
	P_QTY_MIN,
	P_COST_MIN,
	P__COUNT
};

static int copy_name(struct kr_decoder *d, int i, char *out, size_t cap, int k, const char *what,
		     struct err_info *info)
{
	const jsmntok_t *t = &d->tok[i];
	size_t n = (size_t)kr__tlen(t);

	if (kr__string(t) != KR__V_OK)
		return kr__fail_value(d, info, KR__V_TYPE, i, -1, "instrument pairs[%d].%s", k,
				      what);
	if (n >= cap)
		return kr__fail(d, info, KR_DECODE_CAPACITY,
				"instrument pairs[%d].%s: longer than %zu bytes", k, what, cap - 1);
	if (!name_ok(d->js + t->start, n, cap)) {
		char text[48];

		kr__excerpt(text, sizeof(text), d, i);
		return kr__fail(d, info, KR_DECODE_SCHEMA,
				"instrument pairs[%d].%s: '%s' is empty or not printable", k, what,
				text);
	}
	memcpy(out, d->js + t->start, n);
	out[n] = '\0';
	return 0;
}

static int precision(struct kr_decoder *d, int i, int k, const char *what, int *out,
		     struct err_info *info)
{
	int64_t v;
	enum kr__verr e = kr__int_loose(d->js, &d->tok[i], &v);

	if (e == KR__V_OK && (v < 0 || v > FX_MAX_SCALE))
		e = KR__V_RANGE;
	if (e)
		return kr__fail_value(d, info, e, i, -1, "instrument pairs[%d].%s", k, what);
	*out = (int)v;
	return 0;
}

static int amount(struct kr_decoder *d, int i, int k, const char *what, int scale, bool positive,
		  int64_t *out, struct err_info *info)
{
	enum kr__verr e = kr__decimal(d->js, &d->tok[i], scale, out);

	if (e == KR__V_OK && (positive ? *out <= 0 : *out < 0))
		e = KR__V_RANGE;
	if (e)
		return kr__fail_value(d, info, e, i, scale, "instrument pairs[%d].%s (%s)", k, what,
				      d->stage[k].symbol);
	return 0;
}

static int parse_pair(struct kr_decoder *d, int o, int k, struct err_info *info)
{
	struct kr_pair *p = &d->stage[k];
	const jsmntok_t *t = d->tok;
	int idx[P__COUNT], i = o + 1, nk, rc;

	if (t[o].type != JSMN_OBJECT)
		return kr__fail_value(d, info, KR__V_TYPE, o, -1, "instrument pairs[%d]", k);
	for (int m = 0; m < P__COUNT; m++)
		idx[m] = -1;
	nk = t[o].size;
	for (int j = 0; j < nk; j++) {
		if (!kr__key(d, i))
			return kr__fail(d, info, KR_DECODE_JSON,
					"instrument pairs[%d]: malformed key", k);
		for (int m = 0; m < P__COUNT; m++) {
			if (!kr__is(d->js, &t[i], pair_names[m].s, pair_names[m].len))
				continue;
			if (idx[m] >= 0)
				return kr__fail(d, info, KR_DECODE_SCHEMA,
						"instrument pairs[%d]: duplicate key '%s'", k,
						pair_names[m].s);
			idx[m] = i + 1;
			break;
		}
		i = kr__skip(d, i + 1);
	}
	for (int m = 0; m < P__COUNT; m++)
		if (idx[m] < 0 && m != P_COST_PRECISION)
			return kr__fail(d, info, KR_DECODE_SCHEMA,
					"instrument pairs[%d]: missing %s", k, pair_names[m].s);
	memset(p, 0, sizeof(*p));
	p->id = KR_PAIR_NONE;
	if ((rc = copy_name(d, idx[P_SYMBOL], p->symbol, KR_SYMBOL_MAX, k, "symbol", info)) ||
	    (rc = copy_name(d, idx[P_BASE], p->base, KR_ASSET_MAX, k, "base", info)) ||
	    (rc = copy_name(d, idx[P_QUOTE], p->quote, KR_ASSET_MAX, k, "quote", info)))
		return rc;
	if (kr__string(&t[idx[P_STATUS]]) != KR__V_OK)
		return kr__fail_value(d, info, KR__V_TYPE, idx[P_STATUS], -1,
				      "instrument pairs[%d].status", k);
	p->status =
	    pair_status(d->js + t[idx[P_STATUS]].start, (size_t)kr__tlen(&t[idx[P_STATUS]]));
	if ((rc = precision(d, idx[P_PRICE_PRECISION], k, "price_precision", &p->price_precision,
			    info)) ||
	    (rc = precision(d, idx[P_QTY_PRECISION], k, "qty_precision", &p->qty_precision, info)))
		return rc;
	p->cost_precision = p->price_precision + p->qty_precision;
	if (p->cost_precision > FX_MAX_SCALE)
		p->cost_precision = FX_MAX_SCALE;
	if (idx[P_COST_PRECISION] >= 0 &&
	    (rc = precision(d, idx[P_COST_PRECISION], k, "cost_precision", &p->cost_precision,
			    info)))
		return rc;
	if ((rc = amount(d, idx[P_PRICE_INCREMENT], k, "price_increment", p->price_precision, true,
			 &p->price_increment, info)) ||
	    (rc = amount(d, idx[P_QTY_INCREMENT], k, "qty_increment", p->qty_precision, true,
			 &p->qty_increment, info)) ||
	    (rc = amount(d, idx[P_QTY_MIN], k, "qty_min", p->qty_precision, false, &p->qty_min,
			 info)) ||
	    (rc = amount(d, idx[P_COST_MIN], k, "cost_min", p->cost_precision, false, &p->cost_min,
			 info)))
		return rc;
	return 0;
}

static void note_changed(struct kr_decoder *d, uint32_t id, struct kr_instrument_event *ie)
{
	if (d->mark_changed[id] == d->epoch)
		return;
	d->mark_changed[id] = d->epoch;
	d->changed[ie->n_changed++] = id;
}

int kr__decode_instrument(struct kr_decoder *d, int ty, int data, struct kr_event *ev,
			  struct err_info *info)
{
	static const struct name names[] = {NAME("assets"), NAME("pairs")};
	const jsmntok_t *t = d->tok;
	const char *js = d->js;
	struct kr_instrument_event *ie = &ev->instrument;
	int idx[2] = {-1, -1}, i, n, nk, rc;
	uint32_t fresh = 0, unknown_status = 0;
	bool snapshot;

	if (ty < 0)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "instrument: missing type");
	if (KR__IS(js, &t[ty], "update") && kr__string(&t[ty]) == KR__V_OK)
		snapshot = false;
	else if (KR__IS(js, &t[ty], "snapshot") && kr__string(&t[ty]) == KR__V_OK)
		snapshot = true;
	else
		return kr__fail(d, info, KR_DECODE_SCHEMA,
				"instrument type: expected 'snapshot' or 'update'");
	if (data < 0)
		return kr__fail(d, info, KR_DECODE_SCHEMA, "instrument: missing data");
	if (t[data].type != JSMN_OBJECT)
		return kr__fail_value(d, info, KR__V_TYPE, data, -1, "instrument data");
	nk = t[data].size;
	i = data + 1;
	for (int k = 0; k < nk; k++) {
		if (!kr__key(d, i))
			return kr__fail(d, info, KR_DECODE_JSON, "instrument data: malformed key");
		for (int m = 0; m < 2; m++) {
			if (!kr__is(js, &t[i], names[m].s, names[m].len))
				continue;
			if (idx[m] >= 0)
				return kr__fail(d, info, KR_DECODE_SCHEMA,
						"instrument data: duplicate key '%s'", names[m].s);
			idx[m] = i + 1;
			break;
		}
		i = kr__skip(d, i + 1);
	}
	for (int m = 0; m < 2; m++) {
		if (idx[m] < 0)
			return kr__fail(d, info, KR_DECODE_SCHEMA, "instrument data: missing %s",
					names[m].s);
		if (t[idx[m]].type != JSMN_ARRAY)
			return kr__fail_value(d, info, KR__V_TYPE, idx[m], -1, "instrument %s",
					      names[m].s);
	}
	/* Assets are not stored; each must still be an object. */
	n = t[idx[0]].size;
	i = idx[0] + 1;
	for (int k = 0; k < n; k++) {
		if (i >= d->ntok || t[i].type != JSMN_OBJECT)
			return kr__fail(d, info, KR_DECODE_SCHEMA,
					"instrument assets[%d]: expected an object", k);
		i = kr__skip(d, i);
	}

	n = t[idx[1]].size;
	if (n > KR_MAX_PAIRS)
		return kr__fail(d, info, KR_DECODE_CAPACITY, "instrument: %d pairs, more than %d",
				n, KR_MAX_PAIRS);
	i = idx[1] + 1;
	for (int k = 0; k < n; k++) {
		if (i >= d->ntok)
			return kr__fail(d, info, KR_DECODE_JSON, "instrument pairs[%d]: missing",
					k);
		rc = parse_pair(d, i, k, info);
		if (rc)
			return rc;
		if (kr__find(d, d->stage[k].symbol, strlen(d->stage[k].symbol)) == KR_PAIR_NONE)
			fresh++;
		if (d->stage[k].status == KR_PAIR_STATUS_UNKNOWN)
			unknown_status++;
		i = kr__skip(d, i);
	}
	/* fresh counts a symbol listed twice twice: the check errs on the safe side. */
	if (fresh > KR_MAX_PAIRS - d->npairs)
		return kr__fail(d, info, KR_DECODE_CAPACITY,
				"instrument: table full (%u pairs, %u new, capacity %d)", d->npairs,
				fresh, KR_MAX_PAIRS);

	if (++d->epoch == 0) {
		memset(d->mark, 0, KR_MAX_PAIRS * sizeof(*d->mark));
		memset(d->mark_changed, 0, KR_MAX_PAIRS * sizeof(*d->mark_changed));
		d->epoch = 1;
	}
	ie->n_added = ie->n_changed = 0;
	ie->status_changed = ie->precision_changed = false;
	for (int k = 0; k < n; k++) {
		bool added, changed, status_changed, prec_changed;
		uint32_t id = kr__pair_apply(d, &d->stage[k], &added, &changed, &status_changed,
					     &prec_changed);

		d->mark[id] = d->epoch;
		ie->n_added += added;
		ie->status_changed |= status_changed;
		ie->precision_changed |= prec_changed;
		if (changed)
			note_changed(d, id, ie);
	}
	if (snapshot) {
		for (uint32_t id = 0; id < d->npairs; id++) {
			struct kr_pair *p = &d->pairs[id];

			if (d->mark[id] == d->epoch || p->status == KR_PAIR_STATUS_DELISTED)
				continue;
			p->status = KR_PAIR_STATUS_DELISTED;
			ie->status_changed = true;
			note_changed(d, id, ie);
		}
	}
	d->stats.unknown_enum += unknown_status;
	ie->snapshot = snapshot;
	ie->n_assets = (uint32_t)t[idx[0]].size;
	ie->n_pairs = (uint32_t)n;
	ie->changed = d->changed;
	ev->kind = KR_EV_INSTRUMENT;
	return 0;
}

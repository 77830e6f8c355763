/* The scenario file: universe, walks, windows and faults (format in sim.h).
 * "accounts" and "fees" belong to account.c, which reads the same text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fixed.h"
#include "sim/sim_srv.h"

enum kr_system_status sim__status_parse(const char *v)
{
	if (strcmp(v, "online") == 0)
		return KR_SYSTEM_ONLINE;
	if (strcmp(v, "maintenance") == 0)
		return KR_SYSTEM_MAINTENANCE;
	if (strcmp(v, "cancel_only") == 0)
		return KR_SYSTEM_CANCEL_ONLY;
	if (strcmp(v, "post_only") == 0)
		return KR_SYSTEM_POST_ONLY;
	return KR_SYSTEM_UNKNOWN;
}

static enum kr_pair_status pair_status_parse(const char *v)
{
	static const struct {
		const char *s;
		enum kr_pair_status v;
	} t[] = {
	    {"online", KR_PAIR_STATUS_ONLINE},
	    {"cancel_only", KR_PAIR_STATUS_CANCEL_ONLY},
	    {"delisted", KR_PAIR_STATUS_DELISTED},
	    {"limit_only", KR_PAIR_STATUS_LIMIT_ONLY},
	    {"maintenance", KR_PAIR_STATUS_MAINTENANCE},
	    {"post_only", KR_PAIR_STATUS_POST_ONLY},
	    {"reduce_only", KR_PAIR_STATUS_REDUCE_ONLY},
	    {"work_in_progress", KR_PAIR_STATUS_WORK_IN_PROGRESS},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(v, t[i].s) == 0)
			return t[i].v;
	return KR_PAIR_STATUS_UNKNOWN;
}

static int asset_index(struct sim *s, const char *id, bool add)
{
	for (size_t i = 0; i < s->n_assets; i++)
		if (strcmp(s->assets[i].id, id) == 0)
			return (int)i;
	if (!add || s->n_assets >= SIM_MAX_ASSETS)
		return -1;
	struct sim_asset *a = &s->assets[s->n_assets];
	snprintf(a->id, sizeof(a->id), "%s", id);
	a->value = 0;
	a->precision = 8;
	return (int)s->n_assets++;
}

int sim__cycle_resolve(struct sim *s, char ids[][KR_ASSET_MAX], int n, int *out,
		       struct err_info *info)
{
	if (n < 2 || n > SIM_MAX_CYCLE)
		return err_set(info, ERR_INVALID, "cycle: %d assets, want 2..%d", n, SIM_MAX_CYCLE);
	for (int k = 0; k < n; k++) {
		out[k] = asset_index(s, ids[k], false);
		if (out[k] < 0)
			return err_set(info, ERR_NOTFOUND, "cycle: unknown asset %s", ids[k]);
	}
	return 0;
}

/* Reads key of object o as a string into buf; required or not. */
static int get_str(const struct sim_json *j, int o, const char *key, char *buf, size_t cap,
		   bool required, const char *where, struct err_info *info)
{
	int t = sim__json_get(j, o, key);
	if (t < 0) {
		if (required)
			return err_set(info, ERR_SCHEMA, "scenario: %s: missing \"%s\"", where,
				       key);
		return 1;
	}
	if (!sim__json_is_string(j, t) || sim__json_str(j, t, buf, cap) != 0 || buf[0] == '\0')
		return err_set(info, ERR_SCHEMA, "scenario: %s: \"%s\" must be a non-empty string",
			       where, key);
	return 0;
}

static int get_int(const struct sim_json *j, int o, const char *key, int64_t lo, int64_t hi,
		   int64_t *out, bool required, const char *where, struct err_info *info)
{
	int t = sim__json_get(j, o, key);
	if (t < 0) {
		if (required)
			return err_set(info, ERR_SCHEMA, "scenario: %s: missing \"%s\"", where,
				       key);
		return 1;
	}
	if (sim__json_i64(j, t, out) != 0 || *out < lo || *out > hi)
		return err_set(info, ERR_SCHEMA,
			       "scenario: %s: \"%s\" must be an integer in %lld..%lld", where, key,
			       (long long)lo, (long long)hi);
	return 0;
}

static int get_num(const struct sim_json *j, int o, const char *key, double lo, double hi,
		   double *out, bool required, const char *where, struct err_info *info)
{
	int t = sim__json_get(j, o, key);
	if (t < 0) {
		if (required)
			return err_set(info, ERR_SCHEMA, "scenario: %s: missing \"%s\"", where,
				       key);
		return 1;
	}
	if (sim__json_double(j, t, out) != 0 || !isfinite(*out) || *out < lo || *out > hi)
		return err_set(info, ERR_SCHEMA, "scenario: %s: \"%s\" must be a number in %g..%g",
			       where, key, lo, hi);
	return 0;
}

static int get_fixed(const struct sim_json *j, int o, const char *key, int scale, int64_t *out,
		     bool required, const char *where, struct err_info *info)
{
	int t = sim__json_get(j, o, key);
	if (t < 0) {
		if (required)
			return err_set(info, ERR_SCHEMA, "scenario: %s: missing \"%s\"", where,
				       key);
		return 1;
	}
	if (sim__json_fixed(j, t, scale, out) != 0 || *out < 0)
		return err_set(
		    info, ERR_SCHEMA,
		    "scenario: %s: \"%s\" must be a decimal >= 0 with at most %d decimals", where,
		    key, scale);
	return 0;
}

static int check_keys(const struct sim_json *j, int o, const char *const *allowed,
		      const char *where, struct err_info *info)
{
	int i = o + 1;
	for (int k = 0; k < j->tok[o].size; k++) {
		bool ok = false;
		for (size_t a = 0; allowed[a]; a++)
			ok = ok || sim__json_is(j, i, allowed[a]);
		if (!ok) {
			char key[64] = "";
			sim__json_str(j, i, key, sizeof(key));
			return err_set(info, ERR_SCHEMA, "scenario: %s: unknown key \"%s\"", where,
				       key);
		}
		i = sim__json_skip(j, i + 1);
	}
	return 0;
}

static int load_pair(struct sim *s, const struct sim_json *j, int o, size_t idx,
		     struct err_info *info)
{
	static const char *const keys[] = {"symbol",
					   "base",
					   "quote",
					   "price_precision",
					   "qty_precision",
					   "price_increment",
					   "qty_increment",
					   "qty_min",
					   "cost_min",
					   "cost_precision",
					   "status",
					   "mid",
					   "updates_per_sec",
					   "levels",
					   "spread_bps",
					   "replay",
					   NULL};
	char where[96], tmp[64];
	struct sim_pair *p = &s->pairs[idx];
	struct kr_pair *k = &p->kp;
	int64_t v;
	int rc;

	snprintf(where, sizeof(where), "universe[%zu]", idx);
	if (!sim__json_is_object(j, o))
		return err_set(info, ERR_SCHEMA, "scenario: %s must be an object", where);
	if ((rc = check_keys(j, o, keys, where, info)) != 0)
		return rc;
	if ((rc = get_str(j, o, "symbol", k->symbol, sizeof(k->symbol), true, where, info)) != 0)
		return rc;
	snprintf(where, sizeof(where), "universe[%zu] (%s)", idx, k->symbol);
	if (sim__pair_find(s, k->symbol) >= 0)
		return err_set(info, ERR_SCHEMA, "scenario: %s: duplicate symbol", where);
	if ((rc = get_str(j, o, "base", k->base, sizeof(k->base), true, where, info)) != 0 ||
	    (rc = get_str(j, o, "quote", k->quote, sizeof(k->quote), true, where, info)) != 0)
		return rc;
	if (strcmp(k->base, k->quote) == 0)
		return err_set(info, ERR_SCHEMA, "scenario: %s: base equals quote", where);
	if ((rc = get_int(j, o, "price_precision", 0, 12, &v, true, where, info)) != 0)
		return rc;
	k->price_precision = (int)v;
	if ((rc = get_int(j, o, "qty_precision", 0, 12, &v, true, where, info)) != 0)
		return rc;
	k->qty_precision = (int)v;
	k->cost_precision =
	    k->price_precision + k->qty_precision > 18 ? 18 : k->price_precision + k->qty_precision;
	rc = get_int(j, o, "cost_precision", 0, 18, &v, false, where, info);
	if (rc < 0)
		return rc;
	if (rc == 0)
		k->cost_precision = (int)v;
	if ((rc = get_fixed(j, o, "price_increment", k->price_precision, &k->price_increment, true,
			    where, info)) != 0 ||
	    (rc = get_fixed(j, o, "qty_increment", k->qty_precision, &k->qty_increment, true, where,
			    info)) != 0 ||
	    (rc = get_fixed(j, o, "qty_min", k->qty_precision, &k->qty_min, true, where, info)) !=
		0 ||
	    (rc = get_fixed(j, o, "cost_min", k->cost_precision, &k->cost_min, true, where,
			    info)) != 0)
		return rc;
	if (k->price_increment <= 0 || k->qty_increment <= 0)
		return err_set(info, ERR_SCHEMA, "scenario: %s: increments must be > 0", where);
	k->status = KR_PAIR_STATUS_ONLINE;
	rc = get_str(j, o, "status", tmp, sizeof(tmp), false, where, info);
	if (rc < 0)
		return rc;
	if (rc == 0 && (k->status = pair_status_parse(tmp)) == KR_PAIR_STATUS_UNKNOWN)
		return err_set(info, ERR_SCHEMA, "scenario: %s: unknown status \"%s\"", where, tmp);
	k->id = (uint32_t)idx;

	p->mid0 = 0;
	if ((rc = get_num(j, o, "mid", 1e-12, 1e12, &p->mid0, false, where, info)) < 0)
		return rc;
	p->ups = 5;
	if ((rc = get_num(j, o, "updates_per_sec", 0, 100, &p->ups, false, where, info)) < 0)
		return rc;
	p->levels = 30;
	if ((rc = get_int(j, o, "levels", 1, SIM_BOOK_DEPTH, &v, false, where, info)) < 0)
		return rc;
	if (rc == 0)
		p->levels = (unsigned)v;
	double spread = 10;
	if ((rc = get_num(j, o, "spread_bps", 0.1, 1000, &spread, false, where, info)) < 0)
		return rc;
	p->half_spread = spread / 2e4;
	p->level_step = 1e-4;
	p->bias = 1.0;

	p->base = asset_index(s, k->base, true);
	p->quote = asset_index(s, k->quote, true);
	if (p->base < 0 || p->quote < 0)
		return err_set(info, ERR_FULL, "scenario: %s: more than %d assets", where,
			       SIM_MAX_ASSETS);
	char rpath[512];
	rc = get_str(j, o, "replay", rpath, sizeof(rpath), false, where, info);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		char path[1024];
		if (rpath[0] == '/')
			snprintf(path, sizeof(path), "%s", rpath);
		else
			snprintf(path, sizeof(path), "%s/%s", s->scenario_dir, rpath);
		if ((rc = sim__replay_load(s, idx, path, info)) != 0)
			return rc;
	}
	return 0;
}

/* Gives every asset a value in the reference asset (the first pair's quote)
 * from the pairs' mids, in file order: a pair whose two assets are already
 * priced is a cross pair and follows them. */
static int price_assets(struct sim *s, struct err_info *info)
{
	for (size_t a = 0; a < s->n_assets; a++)
		s->assets[a].value = 0;
	s->assets[s->pairs[0].quote].value = 1.0;
	bool progress = true;
	while (progress) {
		progress = false;
		for (size_t i = 0; i < s->n_pairs; i++) {
			struct sim_pair *p = &s->pairs[i];
			double *vb = &s->assets[p->base].value, *vq = &s->assets[p->quote].value;
			if (p->mid0 <= 0 || (*vb > 0 && *vq > 0) || (*vb <= 0 && *vq <= 0))
				continue;
			if (*vq > 0)
				*vb = p->mid0 * *vq;
			else
				*vq = *vb / p->mid0;
			progress = true;
		}
	}
	for (size_t i = 0; i < s->n_pairs; i++) {
		const struct sim_pair *p = &s->pairs[i];
		if (s->assets[p->base].value <= 0 || s->assets[p->quote].value <= 0)
			return err_set(
			    info, ERR_SCHEMA,
			    "scenario: universe (%s): no \"mid\" links it to the other pairs",
			    p->kp.symbol);
	}
	return 0;
}

static int load_window(struct sim *s, const struct sim_json *j, int o, size_t idx,
		       struct err_info *info)
{
	static const char *const keys[] = {"at_ms", "cycle", "bps", "ms", NULL};
	char where[48];
	char ids[SIM_MAX_CYCLE][KR_ASSET_MAX];
	struct sim_window *w = &s->windows[idx];
	int64_t at, ms;
	int rc;
	snprintf(where, sizeof(where), "windows[%zu]", idx);
	if (!sim__json_is_object(j, o))
		return err_set(info, ERR_SCHEMA, "scenario: %s must be an object", where);
	if ((rc = check_keys(j, o, keys, where, info)) != 0 ||
	    (rc = get_int(j, o, "at_ms", 0, INT64_MAX / 2, &at, true, where, info)) != 0 ||
	    (rc = get_int(j, o, "ms", 1, 3600000, &ms, true, where, info)) != 0 ||
	    (rc = get_num(j, o, "bps", 0, 10000, &w->bps, true, where, info)) != 0)
		return rc;
	int c = sim__json_get(j, o, "cycle");
	if (!sim__json_is_array(j, c) || j->tok[c].size < 2 || j->tok[c].size > SIM_MAX_CYCLE)
		return err_set(info, ERR_SCHEMA, "scenario: %s: \"cycle\" must be 2..%d asset ids",
			       where, SIM_MAX_CYCLE);
	w->n = j->tok[c].size;
	for (int k = 0; k < w->n; k++) {
		int e = sim__json_elem(j, c, k);
		if (!sim__json_is_string(j, e) || sim__json_str(j, e, ids[k], KR_ASSET_MAX) != 0)
			return err_set(info, ERR_SCHEMA, "scenario: %s: cycle[%d] must be a string",
				       where, k);
	}
	struct err_info why = {0};
	if ((rc = sim__cycle_resolve(s, ids, w->n, w->assets, &why)) != 0)
		return err_set(info, rc, "scenario: %s: %s", where, why.msg);
	w->tick = (uint64_t)at / SIM_TICK_MS;
	w->ticks = ((uint64_t)ms + SIM_TICK_MS - 1) / SIM_TICK_MS;
	return 0;
}

static int load_fault(struct sim *s, const struct sim_json *j, int o, size_t idx,
		      struct err_info *info)
{
	static const char *const keys[] = {"at_ms", "kind", "symbol", "ms", "value", NULL};
	char where[48], kind[32], tmp[KR_SYMBOL_MAX];
	struct sim_fault *f = &s->faults[idx];
	int64_t at, v;
	int rc;
	snprintf(where, sizeof(where), "faults[%zu]", idx);
	if (!sim__json_is_object(j, o))
		return err_set(info, ERR_SCHEMA, "scenario: %s must be an object", where);
	if ((rc = check_keys(j, o, keys, where, info)) != 0 ||
	    (rc = get_int(j, o, "at_ms", 0, INT64_MAX / 2, &at, true, where, info)) != 0 ||
	    (rc = get_str(j, o, "kind", kind, sizeof(kind), true, where, info)) != 0)
		return rc;
	f->tick = (uint64_t)at / SIM_TICK_MS;
	f->pair = -1;
	if (strcmp(kind, "drop") == 0) {
		f->kind = SIM_FAULT_DROP;
	} else if (strcmp(kind, "malformed") == 0) {
		f->kind = SIM_FAULT_MALFORMED;
	} else if (strcmp(kind, "corrupt_checksum") == 0) {
		f->kind = SIM_FAULT_CORRUPT;
		if ((rc = get_str(j, o, "symbol", tmp, sizeof(tmp), true, where, info)) != 0)
			return rc;
		if ((f->pair = sim__pair_find(s, tmp)) < 0)
			return err_set(info, ERR_SCHEMA, "scenario: %s: unknown symbol \"%s\"",
				       where, tmp);
	} else if (strcmp(kind, "stall") == 0) {
		f->kind = SIM_FAULT_STALL;
		if ((rc = get_int(j, o, "ms", 1, 3600000, &v, true, where, info)) != 0)
			return rc;
		f->ms = (uint64_t)v;
	} else if (strcmp(kind, "status") == 0) {
		f->kind = SIM_FAULT_STATUS;
		if ((rc = get_str(j, o, "value", tmp, sizeof(tmp), true, where, info)) != 0)
			return rc;
		if ((f->status = sim__status_parse(tmp)) == KR_SYSTEM_UNKNOWN)
			return err_set(info, ERR_SCHEMA, "scenario: %s: unknown status \"%s\"",
				       where, tmp);
	} else {
		return err_set(info, ERR_SCHEMA, "scenario: %s: unknown kind \"%s\"", where, kind);
	}
	return 0;
}

int sim__scenario_load(struct sim *s, struct err_info *info)
{
	static const char *const keys[] = {"seed",	     "volatility_bps_per_sec",
					   "level_notional", "universe",
					   "windows",	     "faults",
					   "accounts",	     "fees",
					   "description",    NULL};
	struct sim_json j;
	int rc = sim__json_parse(&j, s->scenario_text, s->scenario_len);
	if (rc != 0)
		return err_set(info, rc, "scenario: not valid JSON");
	if (!sim__json_is_object(&j, 0)) {
		rc = err_set(info, ERR_SCHEMA, "scenario: the top level must be an object");
		goto cleanup;
	}
	if ((rc = check_keys(&j, 0, keys, "top level", info)) != 0)
		goto cleanup;
	int64_t seed = 1;
	if ((rc = get_int(&j, 0, "seed", 0, INT64_MAX, &seed, false, "top level", info)) < 0)
		goto cleanup;
	s->seed = (uint64_t)seed;
	double vol = 5;
	if ((rc = get_num(&j, 0, "volatility_bps_per_sec", 0, 1000, &vol, false, "top level",
			  info)) < 0)
		goto cleanup;
	/* sigma per tick of a walk with vol bps per sqrt(second). */
	s->vol_per_tick = vol / 1e4 * sqrt(SIM_TICK_MS / 1000.0);
	s->level_notional = 2000;
	if ((rc = get_num(&j, 0, "level_notional", 1e-6, 1e12, &s->level_notional, false,
			  "top level", info)) < 0)
		goto cleanup;

	int u = sim__json_get(&j, 0, "universe");
	if (!sim__json_is_array(&j, u) || j.tok[u].size < 1) {
		rc = err_set(info, ERR_SCHEMA, "scenario: \"universe\" must be a non-empty array");
		goto cleanup;
	}
	if (j.tok[u].size > SIM_MAX_PAIRS) {
		rc = err_set(info, ERR_FULL, "scenario: more than %d pairs", SIM_MAX_PAIRS);
		goto cleanup;
	}
	for (int k = 0; k < j.tok[u].size; k++) {
		if ((rc = load_pair(s, &j, sim__json_elem(&j, u, k), (size_t)k, info)) != 0)
			goto cleanup;
		s->n_pairs++;
	}
	if ((rc = price_assets(s, info)) != 0)
		goto cleanup;
	int w = sim__json_get(&j, 0, "windows");
	if (w >= 0) {
		if (!sim__json_is_array(&j, w) || j.tok[w].size > SIM_MAX_WINDOWS) {
			rc = err_set(info, ERR_SCHEMA,
				     "scenario: \"windows\" must be an array of at most %d",
				     SIM_MAX_WINDOWS);
			goto cleanup;
		}
		for (int k = 0; k < j.tok[w].size; k++) {
			if ((rc = load_window(s, &j, sim__json_elem(&j, w, k), (size_t)k, info)) !=
			    0)
				goto cleanup;
			s->n_windows++;
		}
	}
	int f = sim__json_get(&j, 0, "faults");
	if (f >= 0) {
		if (!sim__json_is_array(&j, f) || j.tok[f].size > SIM_MAX_FAULTS) {
			rc = err_set(info, ERR_SCHEMA,
				     "scenario: \"faults\" must be an array of at most %d",
				     SIM_MAX_FAULTS);
			goto cleanup;
		}
		for (int k = 0; k < j.tok[f].size; k++) {
			if ((rc = load_fault(s, &j, sim__json_elem(&j, f, k), (size_t)k, info)) !=
			    0)
				goto cleanup;
			s->n_faults++;
		}
	}
	rc = 0;
cleanup:
	sim__json_release(&j);
	return rc;
}

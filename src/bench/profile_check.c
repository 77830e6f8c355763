/* The regression check (profile.h): medians over runs, the result, baseline
 * and thresholds files, and the ratio comparison. Nothing here reads a
 * clock, so the unit tests check it with planted numbers. */
#include "bench/profile.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_int.h"

/* ---- medians -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double prof_median(double *v, size_t n)
{
	if (n == 0)
		return 0.0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

const struct prof_stat *prof_find(const struct prof_summary *s, const char *scenario,
				  const char *stage)
{
	for (unsigned i = 0; i < s->n; i++)
		if (strcmp(s->s[i].scenario, scenario) == 0 && strcmp(s->s[i].stage, stage) == 0)
			return &s->s[i];
	return NULL;
}

void prof_median_runs(const struct prof_summary *runs, unsigned n, struct prof_summary *out)
{
	double v[5][PROF_MAX_RUNS];

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	if (n > PROF_MAX_RUNS)
		n = PROF_MAX_RUNS;
	for (unsigned i = 0; i < runs[0].n; i++) {
		const struct prof_stat *first = &runs[0].s[i];
		struct prof_stat m = *first;
		unsigned have = 0;

		m.allocs = 0;
		m.allocs_measured = true;
		for (unsigned r = 0; r < n; r++) {
			const struct prof_stat *s =
			    prof_find(&runs[r], first->scenario, first->stage);

			if (!s)
				break;
			v[0][have] = s->p50;
			v[1][have] = s->p90;
			v[2][have] = s->p99;
			v[3][have] = s->max;
			v[4][have] = s->throughput;
			have++;
			m.allocs_measured = m.allocs_measured && s->allocs_measured;
			if (s->allocs > m.allocs)
				m.allocs = s->allocs;
			if (s->allocs_per_event > m.allocs_per_event)
				m.allocs_per_event = s->allocs_per_event;
		}
		if (have < n)
			continue;
		m.p50 = prof_median(v[0], n);
		m.p90 = prof_median(v[1], n);
		m.p99 = prof_median(v[2], n);
		m.max = prof_median(v[3], n);
		m.throughput = prof_median(v[4], n);
		out->s[out->n++] = m;
	}
}

/* ---- reading JSON ------------------------------------------------------- */

/* The file without surrounding whitespace. */
static struct kr_view whole(const char *buf, size_t len)
{
	while (len && (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n' || buf[0] == '\r')) {
		buf++;
		len--;
	}
	while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\n' ||
		       buf[len - 1] == '\r'))
		len--;
	return (struct kr_view){buf, len};
}

/* Member k of obj: its key (without quotes) and value. */
static bool member_at(struct kr_view obj, size_t k, struct kr_view *key, struct kr_view *val)
{
	const char *s = obj.p;
	size_t n = obj.len, i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	if (i >= n || s[i] != '{')
		return false;
	i++;
	for (size_t e = 0;; e++) {
		size_t ks, ke, ve;

		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (i >= n || s[i] != '"')
			return false;
		ks = i;
		ke = bench__skip_value(s, n, ks);
		if (ke == 0)
			return false;
		i = ke;
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (i >= n || s[i] != ':')
			return false;
		ve = bench__skip_value(s, n, i + 1);
		if (ve == 0)
			return false;
		if (e == k) {
			size_t vs = i + 1;

			while (vs < ve &&
			       (s[vs] == ' ' || s[vs] == '\t' || s[vs] == '\n' || s[vs] == '\r'))
				vs++;
			*key = (struct kr_view){s + ks + 1, ke - ks - 2};
			*val = (struct kr_view){s + vs, ve - vs};
			return true;
		}
		i = ve;
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (i >= n || s[i] != ',')
			return false;
		i++;
	}
}

static bool is_object(struct kr_view v)
{
	return v.len >= 2 && v.p[0] == '{' && bench__skip_value(v.p, v.len, 0) == v.len;
}

/* A JSON number's value; false for anything else (null, strings, junk). */
static bool view_number(struct kr_view v, double *out)
{
	char b[64];
	char *end;

	if (v.len == 0 || v.len >= sizeof(b) ||
	    !(v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9')))
		return false;
	memcpy(b, v.p, v.len);
	b[v.len] = '\0';
	errno = 0;
	*out = strtod(b, &end);
	return errno == 0 && *end == '\0' && isfinite(*out);
}

static bool view_is(struct kr_view v, const char *lit)
{
	return v.len == strlen(lit) && memcmp(v.p, lit, v.len) == 0;
}

/* The number under key in obj, or an error naming path.key. */
static int need_number(struct kr_view obj, const char *key, const char *what, const char *path,
		       double *out, struct err_info *info)
{
	struct kr_view v;

	if (!bench__member(obj, key, &v))
		return err_set(info, ERR_SCHEMA, "%s: key %s%s%s is missing", what, path,
			       path[0] ? "." : "", key);
	if (!view_number(v, out))
		return err_set(info, ERR_SCHEMA, "%s: key %s%s%s is not a number: %.*s", what, path,
			       path[0] ? "." : "", key, (int)(v.len > 40 ? 40 : v.len), v.p);
	return 0;
}

static int copy_name(struct kr_view k, char *dst, size_t cap, const char *what, const char *path,
		     struct err_info *info)
{
	if (k.len == 0 || k.len >= cap || memchr(k.p, '\\', k.len) || memchr(k.p, '/', k.len))
		return err_set(info, ERR_SCHEMA, "%s: bad name under %s: \"%.*s\"", what, path,
			       (int)(k.len > 40 ? 40 : k.len), k.p);
	memcpy(dst, k.p, k.len);
	dst[k.len] = '\0';
	return 0;
}

static int need_object(struct kr_view obj, const char *key, const char *what, const char *path,
		       struct kr_view *out, struct err_info *info)
{
	if (!bench__member(obj, key, out))
		return err_set(info, ERR_SCHEMA, "%s: key %s%s%s is missing", what, path,
			       path[0] ? "." : "", key);
	if (!is_object(*out))
		return err_set(info, ERR_SCHEMA, "%s: key %s%s%s is not an object", what, path,
			       path[0] ? "." : "", key);
	return 0;
}

static int check_version(struct kr_view all, const char *what, struct err_info *info)
{
	double ver;
	int rc;

	if (!is_object(all))
		return err_set(info, ERR_PARSE, "%s: not a JSON object", what);
	rc = need_number(all, "version", what, "", &ver, info);
	if (rc == 0 && ver != 1.0)
		rc = err_set(info, ERR_SCHEMA, "%s: key version is %g, this build reads 1", what,
			     ver);
	return rc;
}

/* ---- result files --------------------------------------------------------- */

int prof_parse_result(const char *buf, size_t len, struct prof_summary *out, struct err_info *info)
{
	static const char *what = "result";
	struct kr_view all = whole(buf, len), scs, sc, name, stages, stage, sname;
	char path[128];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_version(all, what, info)) != 0 ||
	    (rc = need_object(all, "scenarios", what, "", &scs, info)) != 0)
		return rc;
	for (size_t i = 0; member_at(scs, i, &name, &sc); i++) {
		char scn[PROF_NAME_MAX];

		if ((rc = copy_name(name, scn, sizeof(scn), what, "scenarios", info)) != 0)
			return rc;
		snprintf(path, sizeof(path), "scenarios.%s", scn);
		if (!is_object(sc))
			return err_set(info, ERR_SCHEMA, "%s: key %s is not an object", what, path);
		if ((rc = need_object(sc, "stages", what, path, &stages, info)) != 0)
			return rc;
		for (size_t k = 0; member_at(stages, k, &sname, &stage); k++) {
			struct prof_stat *s;
			struct kr_view v;
			double cnt;

			if (out->n == PROF_MAX_STATS)
				return err_set(info, ERR_FULL, "%s: more than %u stages", what,
					       PROF_MAX_STATS);
			s = &out->s[out->n];
			snprintf(s->scenario, sizeof(s->scenario), "%s", scn);
			if ((rc = copy_name(sname, s->stage, sizeof(s->stage), what, path, info)) !=
			    0)
				return rc;
			snprintf(path, sizeof(path), "scenarios.%s.stages.%s", scn, s->stage);
			if (!is_object(stage))
				return err_set(info, ERR_SCHEMA, "%s: key %s is not an object",
					       what, path);
			if ((rc = need_number(stage, "count", what, path, &cnt, info)) != 0 ||
			    (rc = need_number(stage, "p50", what, path, &s->p50, info)) != 0 ||
			    (rc = need_number(stage, "p90", what, path, &s->p90, info)) != 0 ||
			    (rc = need_number(stage, "p99", what, path, &s->p99, info)) != 0 ||
			    (rc = need_number(stage, "max", what, path, &s->max, info)) != 0 ||
			    (rc = need_number(stage, "throughput", what, path, &s->throughput,
					      info)) != 0)
				return rc;
			s->count = cnt > 0 ? (uint64_t)cnt : 0;
			s->hot_path = bench__member(stage, "hot_path", &v) && view_is(v, "true");
			if (!bench__member(stage, "allocs_after_warmup", &v))
				return err_set(info, ERR_SCHEMA,
					       "%s: key %s.allocs_after_warmup "
					       "is missing",
					       what, path);
			if (view_is(v, "null")) {
				s->allocs_measured = false;
			} else {
				if ((rc = need_number(stage, "allocs_after_warmup", what, path,
						      &s->allocs, info)) != 0 ||
				    (rc = need_number(stage, "allocs_per_event", what, path,
						      &s->allocs_per_event, info)) != 0)
					return rc;
				s->allocs_measured = true;
			}
			out->n++;
			snprintf(path, sizeof(path), "scenarios.%s", scn);
		}
	}
	if (out->n == 0)
		return err_set(info, ERR_SCHEMA, "%s: key scenarios holds no stage", what);
	return 0;
}

/* ---- baselines ---------------------------------------------------------- */

int prof_write_baseline(FILE *f, const struct prof_summary *m, unsigned runs, uint64_t iterations)
{
	const char *open = NULL;

	fprintf(f,
		"{\n  \"version\": 1,\n  \"runs\": %u,\n  \"iterations\": %llu,\n"
		"  \"statistic\": \"per stage, the median over runs of p50 and p99 (ns) and of "
		"throughput (events/s)\",\n  \"scenarios\": {",
		runs, (unsigned long long)iterations);
	for (unsigned i = 0; i < m->n; i++) {
		const struct prof_stat *s = &m->s[i];

		if (!open || strcmp(open, s->scenario) != 0) {
			fprintf(f, "%s\n    \"%s\": {", open ? "\n    }," : "", s->scenario);
			open = s->scenario;
		} else {
			fprintf(f, ",");
		}
		fprintf(f, "\n      \"%s\": {\"p50\": %.0f, \"p99\": %.0f, \"throughput\": %.1f}",
			s->stage, s->p50, s->p99, s->throughput);
	}
	fprintf(f, "%s\n  }\n}\n", open ? "\n    }" : "");
	if (fflush(f) != 0 || ferror(f))
		return errno ? -errno : ERR_IO;
	return 0;
}

int prof_parse_baseline(const char *buf, size_t len, struct prof_summary *out,
			struct err_info *info)
{
	static const char *what = "baseline";
	struct kr_view all = whole(buf, len), scs, sc, name, stage, sname;
	char path[128];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_version(all, what, info)) != 0 ||
	    (rc = need_object(all, "scenarios", what, "", &scs, info)) != 0)
		return rc;
	for (size_t i = 0; member_at(scs, i, &name, &sc); i++) {
		char scn[PROF_NAME_MAX];

		if ((rc = copy_name(name, scn, sizeof(scn), what, "scenarios", info)) != 0)
			return rc;
		if (!is_object(sc))
			return err_set(info, ERR_SCHEMA, "%s: key scenarios.%s is not an object",
				       what, scn);
		for (size_t k = 0; member_at(sc, k, &sname, &stage); k++) {
			struct prof_stat *s;

			if (out->n == PROF_MAX_STATS)
				return err_set(info, ERR_FULL, "%s: more than %u stages", what,
					       PROF_MAX_STATS);
			s = &out->s[out->n];
			snprintf(s->scenario, sizeof(s->scenario), "%s", scn);
			snprintf(path, sizeof(path), "scenarios.%s", scn);
			if ((rc = copy_name(sname, s->stage, sizeof(s->stage), what, path, info)) !=
			    0)
				return rc;
			snprintf(path, sizeof(path), "scenarios.%s.%s", scn, s->stage);
			if (!is_object(stage))
				return err_set(info, ERR_SCHEMA, "%s: key %s is not an object",
					       what, path);
			if ((rc = need_number(stage, "p50", what, path, &s->p50, info)) != 0 ||
			    (rc = need_number(stage, "p99", what, path, &s->p99, info)) != 0 ||
			    (rc = need_number(stage, "throughput", what, path, &s->throughput,
					      info)) != 0)
				return rc;
			if (s->p50 < 0 || s->p99 < 0 || s->throughput < 0)
				return err_set(info, ERR_RANGE,
					       "%s: key %s holds a negative number", what, path);
			out->n++;
		}
	}
	if (out->n == 0)
		return err_set(info, ERR_SCHEMA, "%s: key scenarios holds no stage", what);
	return 0;
}

/* ---- thresholds ----------------------------------------------------------- */

/* Reads the keys of one limit object over the values *l already holds (the
 * defaults), refusing unknown keys so a typo cannot switch a check off. */
static int read_limit(struct kr_view obj, const char *path, struct prof_limit *l,
		      struct err_info *info)
{
	static const char *what = "thresholds";
	static const char *const keys[] = {"p50_max_ratio", "p99_max_ratio", "throughput_min_ratio",
					   "allocs_per_event_max"};
	struct kr_view k, v;
	double x;
	int rc;

	for (size_t i = 0; member_at(obj, i, &k, &v); i++) {
		size_t j = 0;

		while (j < 4 && !view_is(k, keys[j]))
			j++;
		if (j == 4)
			return err_set(info, ERR_SCHEMA, "%s: unknown key %s.%.*s", what, path,
				       (int)(k.len > 40 ? 40 : k.len), k.p);
		if ((rc = need_number(obj, keys[j], what, path, &x, info)) != 0)
			return rc;
		if (x < 0)
			return err_set(info, ERR_RANGE, "%s: key %s.%s is negative", what, path,
				       keys[j]);
		if (j == 0)
			l->p50_max_ratio = x;
		else if (j == 1)
			l->p99_max_ratio = x;
		else if (j == 2)
			l->throughput_min_ratio = x;
		else {
			l->check_allocs = true;
			l->allocs_max = x;
		}
	}
	return 0;
}

int prof_parse_thresholds(const char *buf, size_t len, struct prof_thresholds *out,
			  struct err_info *info)
{
	static const char *what = "thresholds";
	struct kr_view all = whole(buf, len), def, stages, k, v;
	double runs, iters = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_version(all, what, info)) != 0 ||
	    (rc = need_number(all, "runs", what, "", &runs, info)) != 0)
		return rc;
	if (runs < 1 || runs > PROF_MAX_RUNS || runs != floor(runs))
		return err_set(info, ERR_RANGE, "%s: key runs must be a whole number 1..%u, not %g",
			       what, PROF_MAX_RUNS, runs);
	out->runs = (unsigned)runs;
	if (bench__member(all, "iterations", &v)) {
		if ((rc = need_number(all, "iterations", what, "", &iters, info)) != 0)
			return rc;
		if (iters < 1 || iters > 1e9 || iters != floor(iters))
			return err_set(info, ERR_RANGE,
				       "%s: key iterations must be a whole number 1..1e9", what);
		out->iterations = (uint64_t)iters;
	}
	if ((rc = need_object(all, "defaults", what, "", &def, info)) != 0 ||
	    (rc = read_limit(def, "defaults", &out->def, info)) != 0)
		return rc;
	if (!bench__member(all, "stages", &stages))
		return 0;
	if (!is_object(stages))
		return err_set(info, ERR_SCHEMA, "%s: key stages is not an object", what);
	for (size_t i = 0; member_at(stages, i, &k, &v); i++) {
		struct prof_limit *l;
		const char *slash;
		char path[96];

		if (out->n == PROF_MAX_STATS)
			return err_set(info, ERR_FULL, "%s: more than %u stages", what,
				       PROF_MAX_STATS);
		l = &out->st[out->n];
		*l = out->def;
		if (k.len == 0 || k.len >= sizeof(l->key) || !(slash = memchr(k.p, '/', k.len)) ||
		    slash == k.p || slash == k.p + k.len - 1)
			return err_set(info, ERR_SCHEMA,
				       "%s: key stages.%.*s is not \"scenario/stage\"", what,
				       (int)(k.len > 60 ? 60 : k.len), k.p);
		memcpy(l->key, k.p, k.len);
		l->key[k.len] = '\0';
		snprintf(path, sizeof(path), "stages.%s", l->key);
		if (!is_object(v))
			return err_set(info, ERR_SCHEMA, "%s: key %s is not an object", what, path);
		if ((rc = read_limit(v, path, l, info)) != 0)
			return rc;
		out->n++;
	}
	return 0;
}

const struct prof_limit *prof_limit_for(const struct prof_thresholds *t, const char *scenario,
					const char *stage)
{
	size_t ls = strlen(scenario);

	for (unsigned i = 0; i < t->n; i++) {
		const char *key = t->st[i].key;

		if (strncmp(key, scenario, ls) == 0 && key[ls] == '/' &&
		    strcmp(key + ls + 1, stage) == 0)
			return &t->st[i];
	}
	return &t->def;
}

/* ---- the comparison --------------------------------------------------------- */

static unsigned ratio_line(FILE *f, const char *name, const char *stat, double cur, double base,
			   double limit, bool upper, const char *unit)
{
	double r;
	bool ok;

	if (limit <= 0)
		return 0;
	if (base <= 0) {
		if (f)
			fprintf(f, "SKIP %-34s %-10s baseline is 0: nothing to compare\n", name,
				stat);
		return 0;
	}
	r = cur / base;
	ok = upper ? r <= limit : r >= limit;
	if (f)
		fprintf(f, "%s %-34s %-10s %12.0f %-4s vs baseline %12.0f: ratio %6.2f %s %.2f\n",
			ok ? "PASS" : "FAIL", name, stat, cur, unit, base, r,
			upper ? (ok ? "<=" : ">") : (ok ? ">=" : "<"), limit);
	return ok ? 0 : 1;
}

unsigned prof_compare(const struct prof_summary *base, const struct prof_summary *cur,
		      const struct prof_thresholds *t, FILE *f)
{
	unsigned fails = 0;

	for (unsigned i = 0; i < base->n; i++) {
		const struct prof_stat *b = &base->s[i];
		const struct prof_stat *c = prof_find(cur, b->scenario, b->stage);
		const struct prof_limit *l = prof_limit_for(t, b->scenario, b->stage);
		char name[2 * PROF_NAME_MAX + 2];

		snprintf(name, sizeof(name), "%s/%s", b->scenario, b->stage);
		if (!c) {
			if (f)
				fprintf(f,
					"FAIL %-34s not measured in this run (in the baseline)\n",
					name);
			fails++;
			continue;
		}
		fails += ratio_line(f, name, "p50", c->p50, b->p50, l->p50_max_ratio, true, "ns");
		fails += ratio_line(f, name, "p99", c->p99, b->p99, l->p99_max_ratio, true, "ns");
		fails += ratio_line(f, name, "throughput", c->throughput, b->throughput,
				    l->throughput_min_ratio, false, "/s");
		if (!l->check_allocs)
			continue;
		if (!c->allocs_measured) {
			if (f)
				fprintf(f,
					"SKIP %-34s allocs     not measured (no counting allocator "
					"in this build, e.g. under ASan)\n",
					name);
			continue;
		}
		if (c->allocs_per_event <= l->allocs_max) {
			if (f)
				fprintf(f,
					"PASS %-34s allocs     %.6g per event <= %g (%.0f heap "
					"calls after warm-up, worst run)\n",
					name, c->allocs_per_event, l->allocs_max, c->allocs);
		} else {
			if (f)
				fprintf(f,
					"FAIL %-34s allocs     %.6g per event > %g (%.0f heap "
					"calls after warm-up, worst run)\n",
					name, c->allocs_per_event, l->allocs_max, c->allocs);
			fails++;
		}
	}
	for (unsigned i = 0; i < cur->n && f; i++)
		if (!prof_find(base, cur->s[i].scenario, cur->s[i].stage))
			fprintf(f, "NEW  %s/%s: not in the baseline (not compared)\n",
				cur->s[i].scenario, cur->s[i].stage);
	return fails;
}

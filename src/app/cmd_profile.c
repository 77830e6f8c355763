/* arbitrade profile: the latency profiler (--scenario, src/bench/profile*.c),
 * its regression check against ops/performance/ (check), and gen-book-stream,
 * which writes the generated Kraken book stream that `make bench` verifies
 * (src/bench/gen.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app_int.h"
#include "bench/bench.h"
#include "bench/profile.h"
#include "core/log.h"

static int bad_usage(const char *why)
{
	fprintf(stderr, "arbitrade profile: %s\n\n", why);
	app__usage(stderr, app__find("profile"));
	return APP_USAGE;
}

/* A whole decimal number within [lo, hi], or false. */
static bool number(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static int gen_book_stream(int argc, char **argv)
{
	struct bench_gen_opts o = {.messages = 1000000, .pairs = 24, .depth = 10, .seed = 1};
	struct bench_gen_stats st;
	struct err_info info = {0};
	const char *out = NULL;
	FILE *f;
	uint64_t v;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--raw") == 0) {
			o.raw = true;
			continue;
		}
		if (!val)
			return bad_usage("an option is missing its value");
		i++;
		if (strcmp(a, "--out") == 0)
			out = val;
		else if (strcmp(a, "--messages") == 0 && number(val, 1, UINT64_MAX / 2, &v))
			o.messages = v;
		else if (strcmp(a, "--pairs") == 0 && number(val, 1, BENCH_GEN_MAX_PAIRS, &v))
			o.pairs = (unsigned)v;
		else if (strcmp(a, "--depth") == 0 && number(val, 10, 1000, &v))
			o.depth = (unsigned)v;
		else if (strcmp(a, "--seed") == 0 && number(val, 0, UINT64_MAX, &v))
			o.seed = v;
		else {
			fprintf(stderr,
				"arbitrade profile gen-book-stream: bad option or value: %s %s\n",
				a, val);
			return APP_USAGE;
		}
	}
	if (!out)
		return bad_usage("gen-book-stream needs --out FILE");
	f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
	if (!f) {
		fprintf(stderr, "arbitrade profile: %s: %s\n", out, strerror(errno));
		return APP_FAIL;
	}
	setvbuf(f, NULL, _IOFBF, 1u << 20);
	rc = bench_gen_book_stream(f, &o, &st, &info);
	if (f != stdout && fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == ERR_INVALID) {
		fprintf(stderr, "arbitrade profile gen-book-stream: %s\n", info.msg);
		return APP_USAGE;
	}
	if (rc != 0) {
		fprintf(stderr, "arbitrade profile gen-book-stream: %s\n",
			info.msg[0] ? info.msg : err_str(rc));
		return APP_FAIL;
	}
	fprintf(stderr,
		"gen-book-stream: %llu messages (%llu snapshots, %llu updates, %llu update "
		"levels), %llu bytes, %u pairs, depth %u, seed %llu -> %s\n",
		(unsigned long long)st.messages, (unsigned long long)st.snapshots,
		(unsigned long long)st.updates, (unsigned long long)st.levels,
		(unsigned long long)st.bytes, o.pairs, o.depth, (unsigned long long)o.seed, out);
	return APP_OK;
}

/* ---- profile --scenario and profile check --------------------------------- */

#define MAX_INPUTS PROF_MAX_RUNS

struct popts {
	struct prof_opts po;
	const char *scenario; /* NULL: all */
	const char *output;
	const char *baseline, *thresholds;
	const char *inputs[MAX_INPUTS];
	unsigned n_inputs;
	unsigned runs; /* 0: the thresholds file's */
	bool iterations_set;
	bool update_baseline;
};

static int parse_opts(int argc, char **argv, bool check, struct popts *p)
{
	const char *me = check ? "arbitrade profile check" : "arbitrade profile";
	uint64_t v;

	memset(p, 0, sizeof(*p));
	p->po.iterations = 20000;
	p->po.universe_path = "tests/data/universe/kraken_like.tsv";
	p->po.sim_scenario = "tests/data/sim/basic.json";
	p->po.seed = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (check && strcmp(a, "--update-baseline") == 0) {
			p->update_baseline = true;
			continue;
		}
		if (!val) {
			fprintf(stderr, "%s: %s is missing its value\n", me, a);
			return APP_USAGE;
		}
		i++;
		if (strcmp(a, "--scenario") == 0 &&
		    (strcmp(val, "all") == 0 || prof_scenario_find(val)))
			p->scenario = strcmp(val, "all") == 0 ? NULL : val;
		else if (strcmp(a, "--iterations") == 0 && number(val, 1, 100000000, &v)) {
			p->po.iterations = v;
			p->iterations_set = true;
		} else if (strcmp(a, "--drops") == 0 && number(val, 1, 50, &v))
			p->po.drops = (unsigned)v;
		else if (strcmp(a, "--max-seconds") == 0 && number(val, 1, 3600, &v))
			p->po.max_seconds = (uint32_t)v;
		else if (strcmp(a, "--seed") == 0 && number(val, 0, UINT64_MAX, &v))
			p->po.seed = v;
		else if (strcmp(a, "--universe") == 0)
			p->po.universe_path = val;
		else if (strcmp(a, "--sim-scenario") == 0)
			p->po.sim_scenario = val;
		else if (!check && strcmp(a, "--output") == 0)
			p->output = val;
		else if (check && strcmp(a, "--baseline") == 0)
			p->baseline = val;
		else if (check && strcmp(a, "--thresholds") == 0)
			p->thresholds = val;
		else if (check && strcmp(a, "--runs") == 0 && number(val, 1, PROF_MAX_RUNS, &v))
			p->runs = (unsigned)v;
		else if (check && strcmp(a, "--input") == 0 && p->n_inputs < MAX_INPUTS)
			p->inputs[p->n_inputs++] = val;
		else {
			fprintf(stderr, "%s: bad option or value: %s %s (see --help)\n", me, a,
				val);
			return APP_USAGE;
		}
	}
	return APP_OK;
}

/* Reads a whole file into a buffer the caller frees; NULL with a message. */
static char *slurp(const char *path, const char *what, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 1u << 16, n = 0;

	if (!f) {
		fprintf(stderr, "arbitrade profile: %s %s: %s\n", what, path, strerror(errno));
		return NULL;
	}
	while ((buf = buf ? buf : malloc(cap)) != NULL) {
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (n < cap)
			break;
		if (cap >= (64u << 20)) {
			fprintf(stderr, "arbitrade profile: %s %s: larger than 64 MiB\n", what,
				path);
			free(buf);
			buf = NULL;
			break;
		}
		char *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	if (buf && ferror(f)) {
		fprintf(stderr, "arbitrade profile: %s %s: read error\n", what, path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* Runs the chosen scenarios once into sc; returns how many, or -1 after
 * printing the error. */
static int run_once(const struct popts *p, struct prof_scenario *sc)
{
	unsigned n = 0;

	for (unsigned i = 0; i < PROF_MAX_SCENARIO; i++) {
		const char *name = prof_scenario_names[i];
		struct err_info info = {0};
		int rc;

		if (p->scenario && strcmp(p->scenario, name) != 0)
			continue;
		rc = prof_scenario_find(name)(&p->po, &sc[n], &info);
		if (rc != 0) {
			fprintf(stderr, "arbitrade profile: %s: %s\n", name,
				info.msg[0] ? info.msg : err_str(rc));
			return -1;
		}
		n++;
	}
	return (int)n;
}

static void quiet_log(void)
{
	/* The client and the simulator log connections at info: keep the
	 * table readable, and the log off the profiled thread. */
	struct log_options lo = {.level = LOG_LEVEL_ERROR, .json = false, .fd = 2};

	(void)log_start(&lo);
}

static int profile_run(int argc, char **argv)
{
	struct popts p;
	struct prof_scenario *sc;
	int rc = parse_opts(argc, argv, false, &p), n;

	if (rc != APP_OK)
		return rc;
	sc = calloc(PROF_MAX_SCENARIO, sizeof(*sc));
	if (!sc)
		return APP_FAIL;
	quiet_log();
	n = run_once(&p, sc);
	log_stop();
	if (n < 0) {
		rc = APP_FAIL;
		goto cleanup;
	}
	prof_print_table(p.output && strcmp(p.output, "-") == 0 ? stderr : stdout, sc, (unsigned)n);
	if (p.output) {
		FILE *f = strcmp(p.output, "-") == 0 ? stdout : fopen(p.output, "w");

		if (!f || prof_write_result(f, sc, (unsigned)n, p.po.iterations) != 0) {
			fprintf(stderr, "arbitrade profile: %s: %s\n", p.output, strerror(errno));
			rc = APP_FAIL;
		}
		if (f && f != stdout && fclose(f) != 0)
			rc = APP_FAIL;
	}
cleanup:
	free(sc);
	return rc;
}

/* Keeps only the stages of scenario (NULL: all). */
static void filter(struct prof_summary *s, const char *scenario)
{
	unsigned k = 0;

	if (!scenario)
		return;
	for (unsigned i = 0; i < s->n; i++)
		if (strcmp(s->s[i].scenario, scenario) == 0)
			s->s[k++] = s->s[i];
	s->n = k;
}

static int profile_check(int argc, char **argv)
{
	struct popts p;
	struct prof_thresholds th;
	struct prof_summary *base = NULL, *runs = NULL, *med = NULL;
	struct prof_scenario *sc = NULL;
	struct err_info info = {0};
	char *buf = NULL;
	size_t len;
	unsigned nruns, fails;
	int rc = parse_opts(argc, argv, true, &p);

	if (rc != APP_OK)
		return rc;
	if (!p.baseline || !p.thresholds) {
		fprintf(stderr,
			"arbitrade profile check: needs --baseline FILE and --thresholds FILE\n");
		return APP_USAGE;
	}
	base = calloc(1, sizeof(*base));
	runs = calloc(PROF_MAX_RUNS, sizeof(*runs));
	med = calloc(1, sizeof(*med));
	sc = calloc(PROF_MAX_SCENARIO, sizeof(*sc));
	if (!base || !runs || !med || !sc) {
		rc = APP_FAIL;
		goto cleanup;
	}
	if (!(buf = slurp(p.thresholds, "thresholds", &len))) {
		rc = APP_USAGE;
		goto cleanup;
	}
	if (prof_parse_thresholds(buf, len, &th, &info) != 0) {
		fprintf(stderr, "arbitrade profile check: %s: %s\n", p.thresholds, info.msg);
		rc = APP_USAGE;
		goto cleanup;
	}
	free(buf);
	buf = NULL;
	if (!p.update_baseline) {
		if (!(buf = slurp(p.baseline, "baseline", &len))) {
			rc = APP_USAGE;
			goto cleanup;
		}
		if (prof_parse_baseline(buf, len, base, &info) != 0) {
			fprintf(stderr, "arbitrade profile check: %s: %s\n", p.baseline, info.msg);
			rc = APP_USAGE;
			goto cleanup;
		}
		free(buf);
		buf = NULL;
		filter(base, p.scenario);
	}
	if (!p.iterations_set && th.iterations)
		p.po.iterations = th.iterations;
	nruns = p.n_inputs ? p.n_inputs : (p.runs ? p.runs : th.runs);
	for (unsigned r = 0; r < nruns; r++) {
		if (p.n_inputs) {
			if (!(buf = slurp(p.inputs[r], "result", &len))) {
				rc = APP_USAGE;
				goto cleanup;
			}
			if (prof_parse_result(buf, len, &runs[r], &info) != 0) {
				fprintf(stderr, "arbitrade profile check: %s: %s\n", p.inputs[r],
					info.msg);
				rc = APP_USAGE;
				goto cleanup;
			}
			free(buf);
			buf = NULL;
		} else {
			int n;

			quiet_log();
			n = run_once(&p, sc);
			log_stop();
			if (n < 0) {
				rc = APP_FAIL;
				goto cleanup;
			}
			prof_summarize(sc, (unsigned)n, &runs[r]);
			fprintf(stderr, "profile check: run %u of %u done\n", r + 1, nruns);
		}
		filter(&runs[r], p.scenario);
	}
	prof_median_runs(runs, nruns, med);
	if (p.update_baseline) {
		FILE *f = fopen(p.baseline, "w");

		if (!f || prof_write_baseline(f, med, nruns, p.po.iterations) != 0 ||
		    fclose(f) != 0) {
			fprintf(stderr, "arbitrade profile check: %s: %s\n", p.baseline,
				strerror(errno));
			rc = APP_FAIL;
			goto cleanup;
		}
		printf("profile check: baseline %s written from the median of %u runs of %llu "
		       "iterations\n",
		       p.baseline, nruns, (unsigned long long)p.po.iterations);
		goto cleanup;
	}
	printf("profile check: median of %u runs (%llu iterations) against %s, limits %s\n", nruns,
	       (unsigned long long)p.po.iterations, p.baseline, p.thresholds);
	fails = prof_compare(base, med, &th, stdout);
	printf("profile check: %s (%u comparison%s failed)\n", fails ? "FAIL" : "PASS", fails,
	       fails == 1 ? "" : "s");
	rc = fails ? APP_FAIL : APP_OK;
cleanup:
	free(buf);
	free(sc);
	free(med);
	free(runs);
	free(base);
	return rc;
}

int app__cmd_profile(int argc, char **argv)
{
	if (argc < 2)
		return bad_usage("missing --scenario, check or gen-book-stream");
	if (strcmp(argv[1], "gen-book-stream") == 0)
		return gen_book_stream(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return profile_check(argc - 1, argv + 1);
	if (strncmp(argv[1], "--", 2) == 0)
		return profile_run(argc, argv);
	fprintf(stderr, "arbitrade profile: unknown subcommand '%s'\n\n", argv[1]);
	app__usage(stderr, app__find("profile"));
	return APP_USAGE;
}

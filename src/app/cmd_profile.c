/* arbitrade profile <scenario>: benchmark helpers. gen-book-stream writes the
 * generated Kraken book stream that `make bench` verifies (src/bench/gen.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app_int.h"
#include "bench/bench.h"

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

int app__cmd_profile(int argc, char **argv)
{
	if (argc < 2)
		return bad_usage("missing scenario (gen-book-stream)");
	if (strcmp(argv[1], "gen-book-stream") == 0)
		return gen_book_stream(argc - 1, argv + 1);
	fprintf(stderr, "arbitrade profile: unknown scenario '%s'\n\n", argv[1]);
	app__usage(stderr, app__find("profile"));
	return APP_USAGE;
}

/* Fuzz target: the backtest event reader and the replay behind it
 * (replay_run), on a recording written to a temporary file.
 *
 * The first byte of an input picks the options (bit 0: skip bad lines
 * instead of stopping at the first); the rest is the events file: seed
 * JSONL lines, raw Kraken v2 messages or recording lines. Configuration is
 * the defaults (no .env, an empty environment), with no database.
 *
 * Checked besides memory safety: a failure returns a negative code with a
 * message and no report; a success returns a report, and a second run on
 * the same file writes a byte-identical JSON report (the replay is
 * deterministic). FUZZ_VERBOSE=1 prints each run's outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "fuzz.h"
#include "replay/replay.h"

static char events_path[96], env_path[96];
static struct config cfg;
static bool have_cfg;

static void cleanup(void)
{
	unlink(events_path);
	unlink(env_path);
	if (have_cfg)
		config_release(&cfg);
}

static void init(void)
{
	static char *envp[] = {NULL};
	struct err_info info = {0};
	const char *dir = getenv("TMPDIR");
	FILE *f;

	if (!dir || !*dir || strlen(dir) > 48)
		dir = "/tmp";
	snprintf(events_path, sizeof(events_path), "%s/arb-fuzz-events-%ld", dir, (long)getpid());
	snprintf(env_path, sizeof(env_path), "%s/arb-fuzz-env-%ld", dir, (long)getpid());
	f = fopen(env_path, "wb");
	if (!f || fclose(f) != 0)
		abort();
	if (config_load(&cfg, env_path, envp, &info) != 0) {
		fprintf(stderr, "fuzz_replay: config_load: %s\n", info.msg);
		abort();
	}
	have_cfg = true;
	atexit(cleanup);
}

/* Runs the replay; returns its code and, on success, the JSON report in
 * *json (malloc'd, *len bytes). */
static int run(const struct replay_opts *o, char **json, size_t *len)
{
	struct replay_report *r = NULL;
	struct err_info info = {0};
	int rc = replay_run(&cfg, o, &r, &info);

	*json = NULL;
	*len = 0;
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_replay: rc %d %s\n", rc, info.msg);
	if (rc != 0) {
		FUZZ_CHECK(rc < 0);
		FUZZ_CHECK(r == NULL);
		FUZZ_CHECK(memchr(info.msg, '\0', sizeof(info.msg)) != NULL && info.msg[0] != '\0');
		return rc;
	}
	FUZZ_CHECK(r != NULL);
	FILE *m = open_memstream(json, len);
	if (!m)
		abort();
	replay_report_write_json(r, m);
	if (fclose(m) != 0)
		abort();
	replay_report_free(r);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct replay_opts o;
	char *a, *b;
	size_t alen, blen;
	FILE *f;

	if (size < 1)
		return 0;
	if (!have_cfg)
		init();
	f = fopen(events_path, "wb");
	if (!f)
		abort();
	if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1)
		abort();
	if (fclose(f) != 0)
		abort();

	memset(&o, 0, sizeof(o));
	o.events_path = events_path;
	o.starting_balances = "USD=1000,BTC=0.1,ETH=1,MATIC=100";
	o.slippage_bps = -1;
	o.latency_ms = -1;
	o.taker_fee_bps = -1;
	o.skip_bad_lines = (data[0] & 1) != 0;

	int rc = run(&o, &a, &alen);
	if (rc == 0) {
		FUZZ_CHECK(run(&o, &b, &blen) == 0);
		FUZZ_CHECK(alen == blen && memcmp(a, b, alen) == 0);
		free(b);
	}
	free(a);
	return 0;
}

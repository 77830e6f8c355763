/* arbitrade backtest: recorded data through the production pipeline
 * (replay/replay.h), a JSON report and a readable summary. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app_int.h"
#include "replay/replay.h"

static int bad_usage(const char *why)
{
	fprintf(stderr, "arbitrade backtest: %s\n\n", why);
	app__usage(stderr, app__find("backtest"));
	return APP_USAGE;
}

static int num_opt(const char *name, const char *v, double lo, double hi, double *out)
{
	char *end = NULL;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || !end || *end || end == v || !isfinite(d) || d < lo || d > hi) {
		fprintf(stderr, "arbitrade backtest: %s '%s' is not a number from %g to %g\n", name,
			v, lo, hi);
		return -1;
	}
	*out = d;
	return 0;
}

/* Writes the report next to its final name, then renames it into place, so
 * a failed write never leaves half a report behind. */
static int write_report(const struct replay_report *rep, const char *path)
{
	char tmp[CONFIG_PATH + 16];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
		fprintf(stderr, "arbitrade backtest: --report path too long\n");
		return -1;
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "arbitrade backtest: cannot write %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	replay_report_write_json(rep, f);
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0) {
		fprintf(stderr, "arbitrade backtest: writing %s failed\n", tmp);
		remove(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "arbitrade backtest: cannot move the report to %s: %s\n", path,
			strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

int app__cmd_backtest(int argc, char **argv)
{
	static const struct option opts[] = {{"events", required_argument, NULL, 'E'},
					     {"instruments", required_argument, NULL, 'I'},
					     {"starting-balances", required_argument, NULL, 'B'},
					     {"slippage-bps", required_argument, NULL, 'S'},
					     {"latency-ms", required_argument, NULL, 'L'},
					     {"taker-fee-bps", required_argument, NULL, 'F'},
					     {"report", required_argument, NULL, 'R'},
					     {"db", required_argument, NULL, 'D'},
					     {"skip-bad-lines", no_argument, NULL, 'k'},
					     {"env-file", required_argument, NULL, 'e'},
					     {NULL, 0, NULL, 0}};
	struct replay_opts o = {.slippage_bps = -1, .latency_ms = -1, .taker_fee_bps = -1};
	const char *env_file = NULL, *report = NULL;
	struct config cfg;
	struct replay_report *rep = NULL;
	struct err_info info = {0};
	double d;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'E':
			o.events_path = optarg;
			break;
		case 'I':
			o.instruments_path = optarg;
			break;
		case 'B':
			o.starting_balances = optarg;
			break;
		case 'S':
			if (num_opt("--slippage-bps", optarg, 0, 10000, &o.slippage_bps) != 0)
				return APP_USAGE;
			break;
		case 'L':
			if (num_opt("--latency-ms", optarg, 0, 3600000, &d) != 0)
				return APP_USAGE;
			if (d != floor(d))
				return bad_usage("--latency-ms takes whole milliseconds");
			o.latency_ms = (int64_t)d;
			break;
		case 'F':
			if (num_opt("--taker-fee-bps", optarg, 0, 10000, &o.taker_fee_bps) != 0)
				return APP_USAGE;
			break;
		case 'R':
			report = optarg;
			break;
		case 'D':
			o.db_path = optarg;
			break;
		case 'k':
			o.skip_bad_lines = true;
			break;
		case 'e':
			env_file = optarg;
			break;
		default:
			return bad_usage("unknown or incomplete option");
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument");
	if (!o.events_path)
		return bad_usage("--events FILE is required");
	rc = app__load_config(&cfg, env_file);
	if (rc != APP_OK)
		return rc;
	int err = replay_run(&cfg, &o, &rep, &info);
	if (err != 0) {
		fprintf(stderr, "arbitrade backtest: %s\n", info.msg[0] ? info.msg : err_str(err));
		rc = err == ERR_PARSE || err == ERR_INVALID || err == ERR_RANGE || err == -ENOENT
			 ? APP_USAGE
			 : APP_FAIL;
		goto cleanup;
	}
	if (report && write_report(rep, report) != 0) {
		rc = APP_FAIL;
		goto cleanup;
	}
	replay_report_write_text(rep, stdout);
	rc = APP_OK;
cleanup:
	replay_report_free(rep);
	config_release(&cfg);
	return rc;
}

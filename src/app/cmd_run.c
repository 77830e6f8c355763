/* arbitrade run | migrate | audit-archive: the commands that open the
 * database. run wires storage, logging and the web server; the pipeline
 * (market data, detector, execution) is started by app__pipeline_* when the
 * command line asks for it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"
#include "web/web.h"

static int bad_usage(const char *cmd, const char *why)
{
	fprintf(stderr, "arbitrade %s: %s\n\n", cmd, why);
	app__usage(stderr, app__find(cmd));
	return APP_USAGE;
}

static enum store_mode store_mode_of(enum trading_mode m)
{
	return m == TRADING_LIVE ? STORE_MODE_LIVE : STORE_MODE_PAPER;
}

void app__audit(struct store *s, enum trading_mode mode, const char *actor, const char *action,
		const char *detail)
{
	struct store_rec r;
	memset(&r, 0, sizeof r);
	r.type = STORE_REC_AUDIT;
	r.u.audit.ts_ns = clock_wall_ns();
	r.u.audit.mode = store_mode_of(mode);
	snprintf(r.u.audit.actor, sizeof r.u.audit.actor, "%s", actor);
	snprintf(r.u.audit.action, sizeof r.u.audit.action, "%s", action);
	snprintf(r.u.audit.detail, sizeof r.u.audit.detail, "%s", detail ? detail : "");
	int rc = store_enqueue(s, &r);
	if (rc != 0)
		LOG_WARN_ERR("app", "audit event not queued", rc, "action=%s", action);
}

/* The web thread's view of the database: its own reader connection. */
struct run_ctx {
	struct store *store;
	const struct config *cfg;
	struct app_pipeline *pipe;
};

static int db_ping(void *ctx)
{
	struct run_ctx *rc = ctx;
	return store_ping(rc->store);
}

static void health_extra(void *ctx, struct web_buf *out)
{
	struct run_ctx *rc = ctx;
	struct store_stats st;
	store_stats(rc->store, &st);
	web_json_add_i64(out, "store_queued", (int64_t)st.queued);
	web_json_add_i64(out, "store_written", (int64_t)st.written);
	web_json_add_i64(out, "store_dropped", (int64_t)st.dropped);
	web_json_add_i64(out, "store_lost", (int64_t)st.lost);
	web_json_add_bool(out, "store_failing", st.failing);
	app__pipeline_health(rc->pipe, out);
}

static int start_log(const struct config *cfg)
{
	struct log_options lo = {.level = cfg->log.level, .json = cfg->log.json, .fd = 2};
	int rc = log_start(&lo);
	if (rc != 0)
		fprintf(stderr, "arbitrade: cannot start the log thread: %s\n", err_str(rc));
	return rc;
}

static int open_store(const struct config *cfg, struct store **out)
{
	struct err_info info = {0};
	*out = store_open(&cfg->store, &info);
	if (!*out) {
		LOG_ERROR("app", "cannot open the database", "path=%s err=\"%s\"",
			  cfg->store.duckdb_path, info.msg[0] ? info.msg : "unknown");
		return APP_FAIL;
	}
	return APP_OK;
}

int app__cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {{"env-file", required_argument, NULL, 'e'},
					     {"check", no_argument, NULL, 'c'},
					     {"no-market-data", no_argument, NULL, 'n'},
					     {NULL, 0, NULL, 0}};
	const char *env_file = NULL;
	bool check = false;
	struct app_run_opts ro = {.market_data = true};
	struct config cfg;
	struct store *store = NULL;
	struct web *web = NULL;
	struct app_pipeline *pipe = NULL;
	struct store_reader *reader = NULL;
	struct err_info info = {0};
	int c, rc;

	memset(&cfg, 0, sizeof cfg);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			env_file = optarg;
			break;
		case 'c':
			check = true;
			break;
		case 'n':
			ro.market_data = false;
			break;
		default:
			return bad_usage("run", "unknown or incomplete option");
		}
	}
	if (optind < argc)
		return bad_usage("run", "unexpected argument");

	rc = app__load_config(&cfg, env_file);
	if (rc != APP_OK)
		return rc;
	if (config_check_dashboard(&cfg, &info) != 0) {
		fprintf(stderr, "arbitrade: configuration error: %s\n", info.msg);
		rc = APP_USAGE;
		goto cleanup;
	}
	if (app__check_process(&cfg) != 0) {
		rc = APP_USAGE;
		goto cleanup;
	}
	if (check) {
		printf("configuration OK\n");
		rc = APP_OK;
		goto cleanup;
	}

	app__signals_install();
	if (start_log(&cfg) != 0) {
		rc = APP_FAIL;
		goto cleanup;
	}
	rc = open_store(&cfg, &store);
	if (rc != APP_OK)
		goto cleanup;
	LOG_INFO("app", "database ready", "path=%s migrations_applied=%u", cfg.store.duckdb_path,
		 store_migrations_applied(store));

	char detail[256];
	snprintf(detail, sizeof detail,
		 "{\"version\":\"%s\",\"trading_mode\":\"%s\",\"env\":\"%s\"}", ARB_VERSION,
		 config_mode_name(cfg.trading_mode), config_env_name(cfg.app.env));
	app__audit(store, cfg.trading_mode, "system", "start", detail);
	app__control_init(&cfg, store);
	/* The dashboard's own read connection; without it the pages say so. */
	reader = store_reader_open(store, &info);
	if (!reader)
		LOG_WARN("app", "no read connection for the dashboard", "err=\"%s\"", info.msg);

	pipe = app__pipeline_new(&cfg, store, &ro);
	if (!pipe) {
		rc = APP_FAIL;
		goto cleanup;
	}

	struct run_ctx ctx = {.store = store, .cfg = &cfg, .pipe = pipe};
	struct web_deps deps = {.share_dir = cfg.app.share_dir,
				.trading_mode = cfg.trading_mode,
				.db_ping = db_ping,
				.health_extra = health_extra,
				.reader = reader,
				.ctx = &ctx};
	app__control_web_deps(&deps);
	app__pipeline_web_deps(pipe, &deps);
	web = web_new(&cfg.web, &deps, &info);
	if (!web) {
		LOG_ERROR("app", "cannot start the web server", "host=%s port=%u err=\"%s\"",
			  cfg.web.host, cfg.web.port, info.msg);
		rc = APP_FAIL;
		goto cleanup;
	}
	LOG_INFO("app", "dashboard listening", "url=\"http://%s:%u/\" trading_mode=%s",
		 cfg.web.host, web_port(web), config_mode_name(cfg.trading_mode));

	rc = app__pipeline_run(pipe);

	LOG_INFO("app", "stopping", NULL);
	rc = APP_OK;

cleanup:
	web_free(web);
	app__pipeline_free(pipe);
	store_reader_close(reader);
	app__control_release();
	if (store) {
		app__audit(store, cfg.trading_mode, "system", "stop", NULL);
		if (store_close(store) != 0) {
			LOG_ERROR("app", "records were lost at close", NULL);
			rc = APP_FAIL;
		}
	}
	log_stop();
	config_release(&cfg);
	return rc;
}

int app__cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {{"env-file", required_argument, NULL, 'e'},
					     {NULL, 0, NULL, 0}};
	const char *env_file = NULL;
	struct config cfg;
	struct store *store = NULL;
	struct err_info info = {0};
	unsigned applied = 0;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'e')
			env_file = optarg;
		else
			return bad_usage("migrate", "unknown or incomplete option");
	}
	if (optind < argc)
		return bad_usage("migrate", "unexpected argument");
	rc = app__load_config(&cfg, env_file);
	if (rc != APP_OK)
		return rc;
	store = store_open(&cfg.store, &info);
	if (!store) {
		fprintf(stderr, "arbitrade migrate: %s\n", info.msg[0] ? info.msg : "cannot open");
		rc = APP_FAIL;
		goto cleanup;
	}
	applied = store_migrations_applied(store);
	printf("schema version %d: %u applied\n", store_schema_version_latest(), applied);
	rc = APP_OK;
cleanup:
	if (store_close(store) != 0)
		rc = APP_FAIL;
	config_release(&cfg);
	return rc;
}

int app__cmd_audit_archive(int argc, char **argv)
{
	static const struct option opts[] = {{"env-file", required_argument, NULL, 'e'},
					     {"older-than", required_argument, NULL, 'o'},
					     {"out", required_argument, NULL, 'f'},
					     {NULL, 0, NULL, 0}};
	const char *env_file = NULL, *age = NULL, *out = NULL;
	struct config cfg;
	struct store *store = NULL;
	struct err_info info = {0};
	char written[CONFIG_PATH + 64] = {0};
	uint64_t rows = 0;
	int64_t secs = 0;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			env_file = optarg;
			break;
		case 'o':
			age = optarg;
			break;
		case 'f':
			out = optarg;
			break;
		default:
			return bad_usage("audit-archive", "unknown or incomplete option");
		}
	}
	if (optind < argc)
		return bad_usage("audit-archive", "unexpected argument");
	if (age && store_parse_age(age, &secs) != 0) {
		fprintf(
		    stderr,
		    "arbitrade audit-archive: --older-than '%s' is not an age such as 30d, 12h, "
		    "90m or 45s\n",
		    age);
		return APP_USAGE;
	}
	rc = app__load_config(&cfg, env_file);
	if (rc != APP_OK)
		return rc;
	if (!age)
		secs = (int64_t)cfg.store.audit_retention_days * 86400;
	store = store_open(&cfg.store, &info);
	if (!store) {
		fprintf(stderr, "arbitrade audit-archive: %s\n",
			info.msg[0] ? info.msg : "cannot open the database");
		rc = APP_FAIL;
		goto cleanup;
	}
	int arc = store_audit_archive(store, secs, out, written, sizeof written, &rows, &info);
	if (arc != 0) {
		fprintf(stderr, "arbitrade audit-archive: nothing deleted: %s\n",
			info.msg[0] ? info.msg : err_str(arc));
		rc = APP_FAIL;
		goto cleanup;
	}
	if (rows == 0)
		printf("no audit events older than %lld s: nothing archived\n", (long long)secs);
	else
		printf("archived %llu audit events to %s\n", (unsigned long long)rows, written);
	rc = APP_OK;
cleanup:
	if (store_close(store) != 0)
		rc = APP_FAIL;
	config_release(&cfg);
	return rc;
}

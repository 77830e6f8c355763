/* The pipeline of `arbitrade run`: the market-data thread (md.c) keeps the
 * books fresh; the main thread waits here for a stop signal. The detector,
 * risk and execution hang off the md thread's book hook (app_md_opts.on_book,
 * NULL until the detector is wired). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app_int.h"
#include "core/log.h"
#include "kraken/codec.h"
#include "web/web.h"

struct app_pipeline {
	const struct config *cfg;
	struct store *store;
	struct app_run_opts opts;
	struct app_md *md; /* NULL with --no-market-data */
};

struct app_pipeline *app__pipeline_new(const struct config *cfg, struct store *store,
				       const struct app_run_opts *opts)
{
	struct app_pipeline *p = calloc(1, sizeof *p);
	if (!p) {
		LOG_ERROR("app", "out of memory creating the pipeline", NULL);
		return NULL;
	}
	p->cfg = cfg;
	p->store = store;
	p->opts = *opts;
	if (p->opts.market_data) {
		struct app_md_opts mo = {.on_book = NULL, .on_book_ctx = NULL};
		p->md = app__md_new(cfg, &mo);
		if (!p->md) {
			free(p);
			return NULL;
		}
	}
	return p;
}

/* The web thread's snapshot: the operator flags, then the feed's counters.
 * deps->ctx belongs to cmd_run, so the pipeline is found through this
 * pointer; a process runs one pipeline. */
static struct app_pipeline *web_pipeline;

static void pipeline_snapshot(void *ctx, struct web_snapshot *out)
{
	struct app_md_health h;
	(void)ctx;
	app__control_snapshot(out);
	if (!web_pipeline || !web_pipeline->md)
		return;
	app__md_read(web_pipeline->md, &h);
	snprintf(out->exchange_status, sizeof out->exchange_status, "%s",
		 h.published_ns ? kr_system_status_str((enum kr_system_status)h.system) : "");
	if (strcmp(out->exchange_status, "unknown") == 0)
		out->exchange_status[0] = '\0';
	out->feed_connected = h.connected != 0;
	out->books_live = (uint32_t)h.books_live;
	out->books_invalid = (uint32_t)h.books_invalid;
	out->books_stale = (uint32_t)h.books_stale;
	out->messages = h.messages;
	out->parse_errors = h.parse_errors;
	out->checksum_failures = h.checksum_failures;
	out->reconnects = h.reconnects;
	out->msg_rate = (double)h.msg_rate_milli / 1000.0;
}

void app__pipeline_web_deps(struct app_pipeline *p, struct web_deps *deps)
{
	web_pipeline = p;
	deps->snapshot = pipeline_snapshot;
}

int app__pipeline_run(struct app_pipeline *p)
{
	const struct timespec tick = {0, 50 * 1000 * 1000};
	if (p->md) {
		int rc = app__md_start(p->md);
		if (rc != 0) {
			LOG_ERROR_ERR("app", "cannot start the market-data thread", rc,
				      "thread=md");
			return rc;
		}
		LOG_INFO("app", "market data started", "url=%s symbols=%s depth=%u",
			 p->cfg->kraken.ws_url, p->cfg->book.symbols, p->cfg->book.depth);
	}
	while (!app__stop_requested())
		nanosleep(&tick, NULL);
	app__md_stop(p->md);
	return 0;
}

void app__pipeline_health(struct app_pipeline *p, struct web_buf *out)
{
	web_json_add_bool(out, "market_data", p && p->opts.market_data);
	if (p && p->md)
		app__md_health_json(p->md, out);
}

void app__pipeline_free(struct app_pipeline *p)
{
	if (!p)
		return;
	if (web_pipeline == p)
		web_pipeline = NULL;
	app__md_free(p->md);
	free(p);
}

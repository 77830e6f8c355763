/* The pipeline of `arbitrade run`: the market-data thread (md.c) keeps the
 * books fresh; the main thread waits here for a stop signal. The detector,
 * risk and execution hang off the md thread's book hook (app_md_opts.on_book,
 * NULL until the detector is wired). */
#include <stdlib.h>
#include <time.h>

#include "app/app_int.h"
#include "core/log.h"
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

void app__pipeline_web_deps(struct app_pipeline *p, struct web_deps *deps)
{
	(void)p;
	(void)deps;
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
	app__md_free(p->md);
	free(p);
}

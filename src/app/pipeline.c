/* The pipeline of `arbitrade run`. Today it holds the process until a stop is
 * requested; the market-data, detector and execution threads hang off it. */
#include <stdlib.h>
#include <time.h>

#include "app/app_int.h"
#include "core/log.h"
#include "web/web.h"

struct app_pipeline {
	const struct config *cfg;
	struct store *store;
	struct app_run_opts opts;
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
	return p;
}

void app__pipeline_web_deps(struct app_pipeline *p, struct web_deps *deps)
{
	(void)p;
	(void)deps;
}

int app__pipeline_run(struct app_pipeline *p)
{
	(void)p;
	const struct timespec tick = {0, 50 * 1000 * 1000};
	while (!app__stop_requested())
		nanosleep(&tick, NULL);
	return 0;
}

void app__pipeline_health(struct app_pipeline *p, struct web_buf *out)
{
	web_json_add_bool(out, "market_data", p && p->opts.market_data);
}

void app__pipeline_free(struct app_pipeline *p)
{
	free(p);
}

/* Operator controls of `arbitrade run`: pause, kill switch and trading mode,
 * held as process-wide atomics so that any thread reads them without a lock.
 * Every change is an audit event with the actor that asked for it. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "app/app_int.h"
#include "core/log.h"
#include "core/secret.h"
#include "risk/risk.h"
#include "web/web.h"

static struct {
	_Atomic bool paused;
	_Atomic bool killed;
	_Atomic int mode; /* enum trading_mode */
	bool live_available;
	struct store *_Atomic store;
	/* The pipeline's risk state: pause and kill reach risk_check and the
	 * sequencer (exec_poll cancels open orders once risk_killed). */
	struct risk *_Atomic risk;
	_Atomic bool venue_fixed;
} ctl;

void app__control_attach(struct risk *r, bool venue_fixed)
{
	atomic_store(&ctl.risk, r);
	atomic_store(&ctl.venue_fixed, r && venue_fixed);
}

void app__control_init(const struct config *cfg, struct store *store)
{
	atomic_store(&ctl.paused, false);
	atomic_store(&ctl.killed, false);
	atomic_store(&ctl.mode, (int)cfg->trading_mode);
	ctl.live_available =
	    !secret_empty(cfg->kraken.api_key) && !secret_empty(cfg->kraken.api_secret);
	atomic_store(&ctl.store, store);
}

void app__control_release(void)
{
	atomic_store(&ctl.store, NULL);
}

bool app__control_paused(void)
{
	return atomic_load_explicit(&ctl.paused, memory_order_acquire);
}

bool app__control_killed(void)
{
	return atomic_load_explicit(&ctl.killed, memory_order_acquire);
}

enum trading_mode app__control_mode(void)
{
	return (enum trading_mode)atomic_load_explicit(&ctl.mode, memory_order_acquire);
}

static void audit(const char *actor, const char *action, const char *detail)
{
	struct store *s = atomic_load(&ctl.store);

	if (s)
		app__audit(s, app__control_mode(), actor, action, detail);
}

int app__control_pause(bool paused, const char *actor)
{
	char q[96];

	if (app__control_killed())
		return ERR_BADSTATE;
	struct risk *r = atomic_load(&ctl.risk);
	if (r && paused)
		risk_pause(r);
	else if (r)
		risk_resume(r);
	if (atomic_exchange(&ctl.paused, paused) == paused)
		return 0;
	LOG_WARN("app", paused ? "trading paused" : "trading resumed", "actor=%s",
		 log_q(q, sizeof(q), actor));
	audit(actor, paused ? "pause" : "resume", NULL);
	return 0;
}

int app__control_kill(const char *actor)
{
	char q[96];

	/* The kill switch also pauses, so a reader of either flag stops. */
	atomic_store(&ctl.paused, true);
	struct risk *r = atomic_load(&ctl.risk);
	if (r)
		risk_kill(r, actor);
	if (atomic_exchange(&ctl.killed, true))
		return 0;
	LOG_ERROR("app", "kill switch engaged", "actor=%s", log_q(q, sizeof(q), actor));
	audit(actor, "kill_switch", NULL);
	return 0;
}

const char *app__control_set_mode(enum trading_mode m, const char *actor)
{
	enum trading_mode from = app__control_mode();
	char detail[96];

	snprintf(detail, sizeof(detail), "{\"from\":\"%s\",\"to\":\"%s\"}", config_mode_name(from),
		 config_mode_name(m));
	if (m == TRADING_LIVE && !ctl.live_available) {
		audit(actor, "mode_change_refused", detail);
		return "Live trading needs KRAKEN_API_KEY and KRAKEN_API_SECRET in the "
		       "configuration; the bot stays in paper mode.";
	}
	if (m == TRADING_LIVE && app__control_killed()) {
		audit(actor, "mode_change_refused", detail);
		return "The kill switch is engaged; restart the bot before trading live.";
	}
	if (from == m)
		return NULL;
	/* The venue is chosen when the pipeline starts (journal, reconcile,
	 * balances belong to it): switching it under a running sequencer is
	 * not supported, so say so rather than pretend. */
	if (atomic_load(&ctl.venue_fixed)) {
		audit(actor, "mode_change_refused", detail);
		return m == TRADING_LIVE
			   ? "Switching to live at runtime is not supported: stop the bot and "
			     "start it with TRADING_MODE=live."
			   : "Switching to paper at runtime is not supported: stop the bot "
			     "(open orders are cancelled by the kill switch) and start it with "
			     "TRADING_MODE=paper.";
	}
	atomic_store(&ctl.mode, (int)m);
	LOG_WARN("app", "trading mode changed", "from=%s to=%s", config_mode_name(from),
		 config_mode_name(m));
	audit(actor, "mode_change", detail);
	return NULL;
}

void app__control_snapshot(struct web_snapshot *out)
{
	out->mode = app__control_mode();
	out->paused = app__control_paused();
	out->killed = app__control_killed();
	out->live_available = ctl.live_available;
}

/* The web server's callbacks; ctx is the caller's and unused here. */
static void web_snapshot(void *ctx, struct web_snapshot *out)
{
	(void)ctx;
	app__control_snapshot(out);
}

static int web_pause(void *ctx, bool paused, const char *actor)
{
	(void)ctx;
	return app__control_pause(paused, actor);
}

static int web_kill(void *ctx, const char *actor)
{
	(void)ctx;
	return app__control_kill(actor);
}

static const char *web_set_mode(void *ctx, enum trading_mode m, const char *actor)
{
	(void)ctx;
	return app__control_set_mode(m, actor);
}

static void web_audit(void *ctx, const char *actor, const char *action, const char *detail)
{
	(void)ctx;
	audit(actor, action, detail);
}

void app__control_web_deps(struct web_deps *deps)
{
	deps->snapshot = web_snapshot;
	deps->pause = web_pause;
	deps->kill = web_kill;
	deps->set_mode = web_set_mode;
	deps->audit = web_audit;
}

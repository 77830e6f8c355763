/* The sequencer's lifecycle, the md -> exec ring, the poll loop and its
 * thread. The cycle logic is in seq.c, the journal in journal.c. */
#include "exec/exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "exec/exec_int.h"

void exec_cfg_from_config(const struct config *cfg, struct exec_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->default_fee_bps = cfg->arb.taker_fee_bps;
	out->slippage_bps = cfg->arb.slippage_bps;
	out->inventory = strcmp(cfg->arb.exec_mode, "inventory") == 0;
	out->unwind_hold = strcmp(cfg->arb.unwind, "hold") == 0;
	out->max_book_age_ms = cfg->arb.max_book_age_ms;
	out->journal_sync = strcmp(cfg->arb.journal_sync, "before") == 0 ? EXEC_JSYNC_BEFORE
			    : strcmp(cfg->arb.journal_sync, "off") == 0	 ? EXEC_JSYNC_OFF
									 : EXEC_JSYNC_AFTER;
}

int exec_journal_path(const char *duckdb_path, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s.journal", duckdb_path);
	return n < 0 || (size_t)n >= cap ? ERR_RANGE : n;
}

int exec_clid(uint64_t opp_id, char leg, unsigned attempt, char *buf, size_t cap)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char tmp[16];
	size_t n = 0;
	if (attempt >= 36 || cap < 19)
		return ERR_RANGE;
	do {
		tmp[n++] = digits[opp_id % 36];
		opp_id /= 36;
	} while (opp_id);
	size_t k = 0;
	buf[k++] = 'a';
	buf[k++] = 'r';
	while (n)
		buf[k++] = tmp[--n];
	buf[k++] = '-';
	buf[k++] = leg;
	buf[k++] = digits[attempt];
	buf[k] = '\0';
	return (int)k;
}

struct exec *exec_new(const struct exec_cfg *cfg, struct venue *venue, struct risk *risk,
		      const struct exec_sink *sink, struct err_info *info)
{
	if (!venue || !venue->ops || !risk || !cfg->pairs || cfg->n_pairs == 0 ||
	    !(cfg->slippage_bps >= 0 && cfg->slippage_bps <= 1000) ||
	    !(cfg->default_fee_bps >= 0 && cfg->default_fee_bps <= 1000)) {
		err_set(info, ERR_INVALID,
			"exec: no venue, risk or pairs, or slippage/fee out of "
			"0..1000 bps");
		return NULL;
	}
	struct exec *e = calloc(1, sizeof(*e));
	if (!e) {
		err_set(info, ERR_NOMEM, "exec: out of memory");
		return NULL;
	}
	e->jfd = -1;
	e->cfg = *cfg;
	e->venue = venue;
	e->risk = risk;
	if (sink)
		e->sink = *sink;
	if (!e->cfg.clock)
		e->cfg.clock = &clock_system;
	e->pairs = calloc(cfg->n_pairs, sizeof(*e->pairs));
	e->fee_cbps = calloc(cfg->n_pairs, sizeof(*e->fee_cbps));
	e->ring =
	    ring_spsc_new(sizeof(struct arb_opp), cfg->ring_capacity ? cfg->ring_capacity : 64);
	if (!e->pairs || !e->fee_cbps || !e->ring) {
		err_set(info, ERR_NOMEM, "exec: out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < cfg->n_pairs; i++) {
		e->pairs[i] = cfg->pairs[i];
		double fee = cfg->pairs[i].taker_fee_bps < 0 ? cfg->default_fee_bps
							     : cfg->pairs[i].taker_fee_bps;
		e->fee_cbps[i] = exec__cbps(fee);
	}
	e->slip_cbps = exec__cbps(cfg->slippage_bps);
	e->order_timeout_ns =
	    (uint64_t)(cfg->order_timeout_ms ? cfg->order_timeout_ms : 10000) * 1000000u;
	e->cfg.pairs = e->pairs;
	e->cfg.journal_path = NULL; /* copied into jpath below; cfg's string is borrowed */
	if (cfg->journal_path && cfg->journal_path[0]) {
		if (strlen(cfg->journal_path) >= sizeof(e->jpath)) {
			err_set(info, ERR_RANGE, "exec: journal path too long");
			goto fail;
		}
		memcpy(e->jpath, cfg->journal_path, strlen(cfg->journal_path) + 1);
		if (exec__journal_open(e, info) < 0)
			goto fail;
	}
	return e;
fail:
	exec_free(e);
	return NULL;
}

void exec_free(struct exec *e)
{
	if (!e)
		return;
	exec_stop(e);
	exec__journal_close(e);
	ring_spsc_free(e->ring);
	free(e->pairs);
	free(e->fee_cbps);
	free(e);
}

int exec_submit(struct exec *e, const struct arb_opp *opp)
{
	if (ring_spsc_push(e->ring, opp) < 0) {
		atomic_fetch_add_explicit(&e->ring_full, 1, memory_order_relaxed);
		return ERR_FULL;
	}
	atomic_fetch_add_explicit(&e->submitted, 1, memory_order_relaxed);
	return 0;
}

bool exec_idle(const struct exec *e)
{
	return !e->cyc.active && ring_spsc_count(e->ring) == 0;
}

/* An opportunity that will not be executed: its exposure goes back. */
static void drop(struct exec *e, const struct arb_opp *o, const char *why, uint64_t *counter)
{
	char js[2][2 * ARB_PATH_MAX];
	(*counter)++;
	risk_release(e->risk, o->size_home);
	exec__audit(e, "cycle_rejected", "{\"opp_id\":%llu,\"cycle\":\"%s\",\"reason\":\"%s\"}",
		    (unsigned long long)o->id, exec__json(js[0], sizeof(js[0]), o->path),
		    exec__json(js[1], sizeof(js[1]), why));
}

int exec_poll(struct exec *e, uint64_t now_ns, int64_t wall_ns)
{
	if (!e->reconciled)
		return ERR_BADSTATE;
	e->now_ns = now_ns;
	e->wall_ns = wall_ns;
	e->work = 0;
	if (!e->kill_seen && risk_killed(e->risk)) {
		e->kill_seen = true;
		exec__on_kill(e);
		e->work++;
	}
	int n = e->venue->ops->poll(e->venue->ctx, now_ns, exec__on_report, e);
	if (n < 0)
		LOG_WARN("exec", "venue poll failed", "venue=%s err=\"%s\"", e->venue->ops->name,
			 err_str(n));
	exec__check_timeouts(e);
	struct arb_opp opp;
	char why[128];
	while (ring_spsc_pop(e->ring, &opp) == 0) {
		e->work++;
		uint64_t age_ns = now_ns > opp.trigger_ns ? now_ns - opp.trigger_ns : 0;
		if (e->kill_seen)
			drop(e, &opp, "killed", &e->st.dropped_killed);
		else if (e->cyc.active)
			drop(e, &opp, "busy", &e->st.dropped_busy);
		else if (age_ns > (uint64_t)e->cfg.max_book_age_ms * 1000000u)
			drop(e, &opp, "stale", &e->st.dropped_stale);
		else if (!exec__opp_ok(e, &opp, why, sizeof(why)))
			drop(e, &opp, why, &e->st.dropped_malformed);
		else
			exec__start_cycle(e, &opp);
	}
	return (int)e->work;
}

static void *thread_main(void *arg)
{
	struct exec *e = arg;
	const struct clock *c = e->thread_clock;
	unsigned idle = 0;
	while (atomic_load_explicit(&e->thread_run, memory_order_acquire)) {
		int n = exec_poll(e, c->mono_ns(c->ctx), c->wall_ns(c->ctx));
		if (n > 0 || !exec_idle(e)) {
			idle = 0;
			continue;
		}
		/* Spin a little after activity (the next leg's report or the next
		 * opportunity usually follows), then sleep so idle costs nothing. */
		if (++idle < 2000)
			continue;
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int exec_start(struct exec *e, const struct clock *clock)
{
	if (!e->reconciled || e->thread_started)
		return ERR_BADSTATE;
	e->thread_clock = clock ? clock : &clock_system;
	atomic_store(&e->thread_run, true);
	int rc = pthread_create(&e->thread, NULL, thread_main, e);
	if (rc != 0)
		return -rc;
	e->thread_started = true;
	return 0;
}

void exec_stop(struct exec *e)
{
	if (!e->thread_started)
		return;
	atomic_store(&e->thread_run, false);
	pthread_join(e->thread, NULL);
	e->thread_started = false;
}

void exec_stats(const struct exec *e, struct exec_stats *out)
{
	*out = e->st;
	out->submitted = atomic_load_explicit(&((struct exec *)e)->submitted, memory_order_relaxed);
	out->ring_full = atomic_load_explicit(&((struct exec *)e)->ring_full, memory_order_relaxed);
}

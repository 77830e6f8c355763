/* The pipeline of `arbitrade run` and how a cycle flows through it
 * (README, "How a cycle flows"):
 *
 *   md thread:   WS frame -> kr_ws_feed (decode, book, checksum) -> on_book:
 *                publish the book's top levels (books_pub.c), arb_on_book,
 *                and for each opportunity on_opp: an opportunities row
 *                (detected), risk_check_admit, then exec_submit (accepted)
 *                or a row saying why not (rejected: the risk rule's text,
 *                "execution not ready", "execution queue full").
 *   exec thread: trade.c: the sequencer places the legs on the venue, and
 *                writes the trades, audit events, portfolio snapshots and
 *                the opportunity's final row (executed / missed).
 *   main thread: this file's app__pipeline_run: the kill file once a second,
 *                the SIGUSR1 kill switch, stop on SIGINT/SIGTERM.
 *
 * Nothing on the md thread's path allocates, locks, logs or waits: records
 * go to the store's ring, opportunities to exec's ring. The universe is
 * built in on_books (between book messages), where allocation is allowed. */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "app/pipe_int.h"
#include "core/fixed.h"
#include "core/log.h"
#include "kraken/codec.h"
#include "kraken/ws.h"
#include "replay/replay.h"

#define HOT_PUBLISH_NS	   (250ull * 1000000ull)
#define KILL_FILE_EVERY_NS (1000ull * 1000000ull)

/* ---- records ---- */

static void enqueue(struct app_pipeline *p, const struct store_rec *r)
{
	/* A full ring is counted by the store (store_dropped in /health). */
	(void)store_enqueue(p->store, r);
}

/* Opportunity rows of one opp must sort by ts in the order they were
 * written (latest wins), and ts is stored to the microsecond. */
static int64_t rec_ts(struct app_pipeline *p)
{
	int64_t now = clock_wall_ns();
	if (now < p->last_rec_ns + 1000)
		now = p->last_rec_ns + 1000;
	p->last_rec_ns = now;
	return now;
}

static void rec_opp_now(struct app_pipeline *p, const struct arb_opp *o, enum store_verdict v,
			const char *reason, int64_t ts)
{
	struct store_rec r;
	replay_rec_opportunity(o, ts, p->smode, v, reason, &r);
	enqueue(p, &r);
}

/* Staged (ts taken now) and written by flush_rows after the event; at
 * once when the stage is full. */
static void rec_opp_at(struct app_pipeline *p, const struct arb_opp *o, enum store_verdict v,
		       const char *reason, int64_t ts)
{
	if (p->n_rows == APP_ROWS_DEFER) {
		rec_opp_now(p, o, v, reason, ts);
		return;
	}
	struct app_row *w = &p->rows[p->n_rows++];
	w->opp = *o;
	w->v = v;
	w->ts = ts;
	snprintf(w->reason, sizeof w->reason, "%s", reason ? reason : "");
}

static void flush_rows(struct app_pipeline *p)
{
	for (unsigned i = 0; i < p->n_rows; i++) {
		const struct app_row *w = &p->rows[i];
		rec_opp_now(p, &w->opp, w->v, w->reason[0] ? w->reason : NULL, w->ts);
	}
	p->n_rows = 0;
}

static void rec_opp(struct app_pipeline *p, const struct arb_opp *o, enum store_verdict v,
		    const char *reason)
{
	rec_opp_at(p, o, v, reason, rec_ts(p));
}

/* ---- balances from the exec thread ---- */

static double balance_of(const struct app_bal_snap *s, const char *asset)
{
	for (uint64_t i = 0; i < s->n && i < APP_BAL_MAX; i++)
		if (strcmp(s->b[i].asset, asset) == 0)
			return fx_to_double(s->b[i].amount, s->b[i].scale);
	return 0;
}

/* Picks up a new balances snapshot (one atomic load when nothing changed)
 * and gives the detector its home balances, so it never sizes a cycle
 * above what can be paid. */
static void refresh_balances(struct app_pipeline *p)
{
	uint64_t s = atomic_load_explicit(&p->bal_seq, memory_order_acquire);
	if (s == p->bal_seen || (s & 1u))
		return;
	app__seq_read(&p->bal_seq, p->bal_w, &p->bal_md, APP_BAL_WORDS);
	p->bal_seen = s;
	const char *homes[ARB_MAX_HOMES];
	unsigned nh = arb_homes(p->arb, homes);
	for (unsigned i = 0; i < nh; i++)
		arb_set_balance(p->arb, homes[i], balance_of(&p->bal_md, homes[i]));
}

/* ---- the md thread ---- */

static void on_opp(void *ctx, const struct arb_opp *o)
{
	struct app_pipeline *p = ctx;
	struct risk_leg_state legs[ARB_MAX_LEGS];
	struct risk_verdict rv;

	atomic_fetch_add_explicit(&p->n_opps, 1, memory_order_relaxed);
	/* Rows are written after the decision (the accepted one after the
	 * submit, off the path to the order); their ts are taken now. */
	int64_t ts_detected = rec_ts(p);
	for (unsigned i = 0; i < o->n_legs && i < ARB_MAX_LEGS; i++) {
		const struct arb_leg *l = &o->legs[i];
		const struct arb_pair *ap = &p->pairs[l->pair];
		const struct book *b = l->pair < ARB_MAX_PAIRS ? p->books[l->pair] : NULL;
		const struct kr_pair *kp = p->dec ? kr_decoder_pair(p->dec, l->pair) : NULL;
		legs[i] = (struct risk_leg_state){
		    .book_valid = b && book_valid(b),
		    .pair_online = kp && kp->status == KR_PAIR_STATUS_ONLINE,
		    .book_age_ms = l->book_age_ms,
		    .qty_min = ap->qty_min,
		    .cost_min = ap->cost_min,
		    .cost_scale = ap->cost_scale,
		    .balance_in = balance_of(&p->bal_md, l->asset_in),
		};
	}
	struct risk_input in = {.opp = o,
				.legs = legs,
				.exchange_online = p->exchange_online,
				.now_ns = o->trigger_ns,
				.wall_ns = clock_wall_ns()};
	if (risk_check(p->risk, &in, &rv) != RISK_OK) {
		atomic_fetch_add_explicit(&p->n_rejected, 1, memory_order_relaxed);
		char why[STORE_REASON_LEN];
		snprintf(why, sizeof why, "%.20s: %.100s", risk_reason_str(rv.reason), rv.text);
		rec_opp_at(p, o, STORE_VERDICT_DETECTED, NULL, ts_detected);
		rec_opp(p, o, STORE_VERDICT_REJECTED, why);
		return;
	}
	struct exec *e = atomic_load_explicit(&p->exec, memory_order_acquire);
	if (!e) {
		atomic_fetch_add_explicit(&p->n_rejected, 1, memory_order_relaxed);
		rec_opp_at(p, o, STORE_VERDICT_DETECTED, NULL, ts_detected);
		rec_opp(p, o, STORE_VERDICT_REJECTED,
			atomic_load_explicit(&p->not_ready, memory_order_relaxed));
		return;
	}
	/* Sequential execution runs one cycle at a time: while one is in
	 * flight, another opportunity is a miss, said so, and neither uses the
	 * rate limit nor the exposure. */
	if (atomic_load_explicit(&p->inflight, memory_order_acquire) > 0) {
		atomic_fetch_add_explicit(&p->n_busy, 1, memory_order_relaxed);
		rec_opp_at(p, o, STORE_VERDICT_DETECTED, NULL, ts_detected);
		rec_opp(p, o, STORE_VERDICT_MISSED, "busy: another cycle was executing");
		return;
	}
	risk_admit(p->risk, o, o->trigger_ns);
	/* The accepted row's ts goes with the copy, so whatever the exec
	 * thread writes about this opportunity sorts after it. */
	p->pend.opp = *o;
	p->pend.rec_ns = rec_ts(p);
	if (ring_spsc_push(p->pending, &p->pend) != 0 || exec_submit(e, o) != 0) {
		/* A pending copy left behind is skipped by the exec thread. */
		risk_release(p->risk, o->size_home);
		atomic_fetch_add_explicit(&p->n_rejected, 1, memory_order_relaxed);
		rec_opp_at(p, o, STORE_VERDICT_DETECTED, NULL, ts_detected);
		rec_opp(p, o, STORE_VERDICT_REJECTED, "execution queue full");
		return;
	}
	atomic_fetch_add_explicit(&p->inflight, 1, memory_order_release);
	atomic_fetch_add_explicit(&p->n_accepted, 1, memory_order_relaxed);
	/* The push above, then the flag: the exec thread sets the flag, then
	 * looks at its ring, so one of the two sides always sees the other. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&p->exec_sleeping, memory_order_relaxed)) {
		uint64_t one = 1;
		if (write(p->wake_fd, &one, sizeof one) < 0) {
			/* EAGAIN: the counter is already non-zero, it is awake. */
		}
	}
	rec_opp_at(p, o, STORE_VERDICT_DETECTED, NULL, ts_detected);
	rec_opp_at(p, o, STORE_VERDICT_ACCEPTED, NULL, p->pend.rec_ns);
}

/* Every frame: the status channel's frames ({"channel":"status",...},
 * rare) refresh what risk is told about the exchange; the feed has already
 * applied the frame. The check is a look at the first bytes. */
static void on_frame(void *ctx, const char *frame, size_t len, uint64_t recv_ns, int rc)
{
	struct app_pipeline *p = ctx;
	if (rc != 0 || len < 24 || !memmem(frame, 24, "\"status\"", 8))
		return;
	struct kr_ws_feed_stats fs;
	kr_ws_feed_stats(app__md_feed(p->md), recv_ns, UINT64_MAX, &fs);
	p->exchange_online = fs.system == KR_SYSTEM_ONLINE;
}

/* The hot path: after every change of a book. */
static void on_book(void *ctx, const struct book *b, uint32_t pair_id, uint64_t recv_ns)
{
	struct app_pipeline *p = ctx;
	app__books_pub_write(p->bpub, pair_id, b);
	if (p->npairs == 0)
		return;
	refresh_balances(p);
	arb_on_book(p->arb, pair_id, recv_ns);
	uint64_t done = clock_mono_ns();
	flush_rows(p);
	hist_record(&p->hot, done > recv_ns ? done - recv_ns : 0);
	if (done - p->hot_pub_ns >= HOT_PUBLISH_NS) {
		hist_publish(&p->hot_pub, &p->hot);
		p->hot_pub_ns = done;
	}
}

/* Books were created or rebuilt: a new universe from the instrument table
 * (pairs we hold a book for, online), then every book bound again. */
static void on_books(void *ctx, const struct kr_ws_feed *f)
{
	struct app_pipeline *p = ctx;
	struct err_info info = {0};
	const struct kr_decoder *d = kr_ws_feed_decoder(f);
	p->dec = d;
	int n = app__arb_pairs_from_kraken(d, p->pairs, ARB_MAX_PAIRS, NULL, &info);
	if (n < 0) {
		LOG_ERROR("app", "cannot build the universe", "err=\"%s\"", info.msg);
		return;
	}
	static bool has_book[ARB_MAX_PAIRS];
	memset(has_book, 0, sizeof has_book);
	size_t nb = kr_ws_feed_book_count(f);
	for (size_t i = 0; i < nb; i++) {
		const struct book *b = kr_ws_feed_book(f, i);
		const char *sym = book_symbol(b);
		uint32_t id = kr_decoder_find(d, sym, strlen(sym));
		if (id < (uint32_t)n)
			has_book[id] = true;
	}
	/* Only pairs with a book become edges of the graph: cycles through a
	 * pair we do not watch could never be evaluated. */
	for (int i = 0; i < n; i++)
		p->pairs[i].tradable = p->pairs[i].tradable && has_book[i];
	for (uint32_t i = 0; i < ARB_MAX_PAIRS; i++)
		if (p->books[i]) {
			arb_bind_book(p->arb, i, NULL);
			p->books[i] = NULL;
		}
	int rc = arb_set_universe(p->arb, p->pairs, (uint32_t)n, 0, &info);
	if (rc != 0) {
		LOG_ERROR("app", "cannot install the universe", "err=\"%s\"", info.msg);
		return;
	}
	p->npairs = (uint32_t)n;
	for (size_t i = 0; i < nb; i++) {
		const struct book *b = kr_ws_feed_book(f, i);
		const char *sym = book_symbol(b);
		uint32_t id = kr_decoder_find(d, sym, strlen(sym));
		if (id >= (uint32_t)n)
			continue;
		if (arb_bind_book(p->arb, id, b) == 0)
			p->books[id] = b;
		else
			LOG_WARN("app", "the detector refused a book", "symbol=%s", sym);
	}
	LOG_INFO("app", "universe installed", "pairs=%d books=%zu cycles=%u", n, nb,
		 arb_cycle_count(p->arb));
	/* The sequencer and the venue take the first universe; pairs listed
	 * later are detected but not traded until a restart (README). */
	if (atomic_load_explicit(&p->uni_n, memory_order_relaxed) == 0) {
		memcpy(p->uni, p->pairs, (size_t)n * sizeof *p->uni);
		atomic_store_explicit(&p->uni_n, (uint32_t)n, memory_order_release);
	}
}

/* ---- lifecycle ---- */

struct app_pipeline *app__pipeline_new(const struct config *cfg, struct store *store,
				       const struct app_run_opts *opts)
{
	struct err_info info = {0};
	struct risk_limits lim;
	struct app_pipeline *p = calloc(1, sizeof *p);
	if (!p) {
		LOG_ERROR("app", "out of memory creating the pipeline", NULL);
		return NULL;
	}
	p->cfg = cfg;
	p->store = store;
	p->opts = *opts;
	p->wake_fd = -1;
	atomic_init(&p->not_ready, "execution not ready: waiting for the universe and the journal "
				   "reconcile");
	p->smode = cfg->trading_mode == TRADING_LIVE ? STORE_MODE_LIVE : STORE_MODE_PAPER;
	hist_init(&p->hot);
	hist_pub_init(&p->hot_pub);
	hist_pub_init(&p->d2o_pub);
	hist_pub_init(&p->first_pub);
	hist_pub_init(&p->wire_pub);
	risk_limits_from_config(cfg, &lim);
	p->risk = risk_new(&lim, &info);
	if (!p->risk) {
		LOG_ERROR("app", "cannot set up the risk checks", "err=\"%s\"", info.msg);
		goto fail;
	}
	app__control_attach(p->risk, p->opts.market_data);
	if (!p->opts.market_data)
		return p;
	p->arb = arb_new(&cfg->arb, NULL, 0, &info);
	p->pairs = calloc(ARB_MAX_PAIRS, sizeof *p->pairs);
	p->uni = calloc(ARB_MAX_PAIRS, sizeof *p->uni);
	p->bpub = app__books_pub_new(ARB_MAX_PAIRS);
	p->pending = ring_spsc_new(sizeof(struct app_pending), APP_PENDING_CAP);
	p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!p->arb || !p->pairs || !p->uni || !p->bpub || !p->pending || p->wake_fd < 0) {
		LOG_ERROR("app", "cannot set up the detector", "err=\"%s\"",
			  info.msg[0] ? info.msg : "out of memory");
		goto fail;
	}
	arb_set_callback(p->arb, on_opp, p);
	struct app_md_opts mo = {.on_book = on_book,
				 .on_book_ctx = p,
				 .on_books = on_books,
				 .on_books_ctx = p,
				 .tap = on_frame,
				 .tap_ctx = p};
	p->md = app__md_new(cfg, &mo);
	if (!p->md)
		goto fail;
	return p;
fail:
	app__pipeline_free(p);
	return NULL;
}

/* The web thread's snapshot: the operator flags, the feed's counters, then
 * what the detector and the sequencer publish. deps->ctx belongs to
 * cmd_run, so the pipeline is found through this pointer; a process runs
 * one pipeline. */
static struct app_pipeline *web_pipeline;

static void pipeline_snapshot(void *ctx, struct web_snapshot *out)
{
	struct app_pipeline *p = web_pipeline;
	struct app_md_health h;
	(void)ctx;
	app__control_snapshot(out);
	if (!p)
		return;
	snprintf(out->home_asset, sizeof out->home_asset, "%.*s",
		 (int)strcspn(p->cfg->arb.home_assets, ","), p->cfg->arb.home_assets);
	out->opportunities = atomic_load_explicit(&p->n_opps, memory_order_relaxed);
	out->cycles_executed = atomic_load_explicit(&p->cycles_executed, memory_order_relaxed);
	for (int i = 0; i < WEB_ORDER_OUTCOMES; i++)
		out->orders[i] = atomic_load_explicit(&p->orders[i], memory_order_relaxed);
	hist_read(&p->hot_pub, &out->hot_path);
	hist_read(&p->d2o_pub, &out->decision_to_order);
	struct app_bal_snap bs;
	app__seq_read(&p->bal_seq, p->bal_w, &bs, APP_BAL_WORDS);
	for (uint64_t i = 0; i < bs.n && out->n_balances < WEB_MAX_BALANCES; i++) {
		struct web_balance *wb = &out->balances[out->n_balances++];
		snprintf(wb->asset, sizeof wb->asset, "%.15s", bs.b[i].asset);
		wb->amount = fx_to_double(bs.b[i].amount, bs.b[i].scale);
		wb->value_home = strcmp(wb->asset, out->home_asset) == 0 ? wb->amount : NAN;
	}
	if (!p->md)
		return;
	app__md_read(p->md, &h);
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

/* SIGUSR1: the kill switch from a shell (`kill -USR1 <pid>`). The handler
 * only sets risk's flag (async-signal-safe); the main loop audits it. */
static struct risk *_Atomic signal_risk;

static void on_sigusr1(int sig)
{
	struct risk *r = atomic_load(&signal_risk);
	(void)sig;
	if (r)
		risk_kill_signal(r);
}

/* Every source of the kill switch ends here, on the main thread, so each is
 * one audit event with its actor (app__control_kill audits once). */
static void watch_kill(struct app_pipeline *p, uint64_t now, uint64_t *last_file)
{
	if (now - *last_file >= KILL_FILE_EVERY_NS) {
		*last_file = now;
		if (!app__control_killed() && risk_kill_file_check(p->risk)) {
			char actor[64 + CONFIG_PATH];
			snprintf(actor, sizeof actor, "kill_file:%s", p->cfg->risk.kill_file);
			app__control_kill(actor);
		}
	}
	if (!app__control_killed() && risk_killed(p->risk)) {
		const char *why = risk_kill_reason(p->risk);
		app__control_kill(strcmp(why, "signal") == 0 ? "signal:SIGUSR1" : why);
	}
}

int app__pipeline_run(struct app_pipeline *p)
{
	const struct timespec tick = {0, 50 * 1000 * 1000};
	struct sigaction sa;
	uint64_t last_file = 0;
	int rc;

	atomic_store(&signal_risk, p->risk);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	/* A kill file left from before stops trading before anything starts. */
	watch_kill(p, clock_mono_ns(), &last_file);
	if (p->md) {
		rc = app__trade_start(p);
		if (rc != 0) {
			LOG_ERROR_ERR("app", "cannot start the execution thread", rc,
				      "thread=exec");
			return rc;
		}
		rc = app__md_start(p->md);
		if (rc != 0) {
			LOG_ERROR_ERR("app", "cannot start the market-data thread", rc,
				      "thread=md");
			app__trade_stop(p);
			return rc;
		}
		LOG_INFO("app", "market data started", "url=%s symbols=%s depth=%u",
			 p->cfg->kraken.ws_url, p->cfg->book.symbols, p->cfg->book.depth);
	}
	while (!app__stop_requested()) {
		nanosleep(&tick, NULL);
		watch_kill(p, clock_mono_ns(), &last_file);
	}
	/* md first: nothing new is submitted; then exec finishes its turn. */
	app__md_stop(p->md);
	app__trade_stop(p);
	return 0;
}

/* count, p50, p99 and max of a published histogram into /health (web
 * thread; the copy is on the heap: struct hist is 8.7 KiB). */
static void health_hist(struct web_buf *out, const char *name, const struct hist_pub *pub,
			bool first)
{
	struct hist *h = malloc(sizeof *h);
	if (!h)
		return;
	hist_read(pub, h);
	web_buf_appendf(out,
			"%s\"%s\":{\"count\":%" PRIu64 ",\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64
			",\"max_ns\":%" PRIu64 "}",
			first ? "" : ",", name, hist_count(h), hist_quantile(h, 0.5),
			hist_quantile(h, 0.99), hist_max(h));
	free(h);
}

void app__pipeline_health(struct app_pipeline *p, struct web_buf *out)
{
	web_json_add_bool(out, "market_data", p && p->opts.market_data);
	if (!p)
		return;
	if (p->md)
		app__md_health_json(p->md, out);
	web_buf_appendf(
	    out,
	    ",\"trading\":{\"ready\":%s,\"mode\":\"%s\",\"killed\":%s,\"paused\":%s,"
	    "\"opportunities\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"rejected\":%" PRIu64
	    ",\"busy\":%" PRIu64 ",\"cycles_executed\":%" PRIu64 ",\"cycles_failed\":%" PRIu64 "}",
	    atomic_load(&p->trading_ready) ? "true" : "false", store_mode_name(p->smode),
	    risk_killed(p->risk) ? "true" : "false", risk_paused(p->risk) ? "true" : "false",
	    atomic_load(&p->n_opps), atomic_load(&p->n_accepted), atomic_load(&p->n_rejected),
	    atomic_load(&p->n_busy), atomic_load(&p->cycles_executed),
	    atomic_load(&p->cycles_failed));
	/* Latencies: book update arrival -> detector done (md thread),
	 * opportunity -> its first place(), decision -> every place(). */
	web_buf_appendf(out, ",\"latency\":{");
	health_hist(out, "hot_path", &p->hot_pub, true);
	health_hist(out, "first_order", &p->first_pub, false);
	health_hist(out, "first_order_wire", &p->wire_pub, false);
	health_hist(out, "decision_to_order", &p->d2o_pub, false);
	web_buf_appendf(out, "}");
}

void app__pipeline_free(struct app_pipeline *p)
{
	if (!p)
		return;
	if (web_pipeline == p)
		web_pipeline = NULL;
	app__md_free(p->md);
	app__trade_stop(p);
	atomic_store(&signal_risk, NULL);
	app__control_attach(NULL, false);
	arb_free(p->arb);
	ring_spsc_free(p->pending);
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	app__books_pub_free(p->bpub);
	free(p->uni);
	free(p->pairs);
	risk_free(p->risk);
	free(p);
}

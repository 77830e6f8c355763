/* Shared by the pipeline of `arbitrade run` only: pipeline.c (the md thread's
 * hooks: universe, detector, risk, submit; the main loop), trade.c (the
 * execution thread: venue, sequencer, records) and books_pub.c (what one
 * thread publishes for another without a lock).
 *
 * Threads and what each owns:
 *   md thread    the books, the detector (arb), risk_check/risk_admit, the
 *                producer side of exec's ring and of `pending`;
 *   exec thread  the venue, the sequencer (exec_poll), risk_cycle_done, the
 *                consumer side of `pending`;
 *   main thread  start/stop, the kill file (once a second), SIGUSR1 seen;
 *   web thread   reads the published counters, histograms and balances.
 * Everything crossing threads is an atomic or a seqlock of atomic words
 * (app__seq_write/app__seq_read): no thread ever waits for another. */
#ifndef ARB_APP_PIPE_INT_H
#define ARB_APP_PIPE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/app_int.h"
#include "arb/arb.h"
#include "core/hist.h"
#include "core/ring.h"
#include "exec/exec.h"
#include "risk/risk.h"
#include "store/store.h"
#include "web/web.h"

/* ---- seqlock over atomic words (books_pub.c) ---- */

/* One writer thread copies nwords words from src; any reader copies them out
 * into dst, retrying while a write is in progress. seq starts at 0. */
void app__seq_write(_Atomic uint64_t *seq, _Atomic uint64_t *w, const void *src, size_t nwords);
void app__seq_read(const _Atomic uint64_t *seq, const _Atomic uint64_t *w, void *dst,
		   size_t nwords);

/* ---- the top of every book, md thread -> exec thread ---- */

/* Levels per side copied after every applied book message: enough for an
 * IOC order of ARB_MAX_NOTIONAL against Kraken's books many times over. */
#define APP_PUB_LEVELS 10

struct app_books_pub;

/* cap slots, one per pair id (ARB_MAX_PAIRS). NULL when out of memory. */
struct app_books_pub *app__books_pub_new(uint32_t cap);
void app__books_pub_free(struct app_books_pub *p);
/* Copies b's top APP_PUB_LEVELS levels per side and its validity into slot
 * id. md thread only; never allocates or locks (about 40 relaxed stores). */
void app__books_pub_write(struct app_books_pub *p, uint32_t id, const struct book *b);
/* exec_levels_fn over the published copies (ctx: the app_books_pub): the
 * asks for a buy, the bids for a sell, best first; *n = 0 when the book was
 * never published or is not valid. ERR_NOTFOUND for id >= cap. Any thread. */
int app__books_pub_levels(void *ctx, uint32_t pair_id, enum venue_side side, struct book_level *out,
			  size_t cap, size_t *n);

/* ---- balances, exec thread -> md thread and web thread ---- */

#define APP_BAL_MAX 32

struct app_bal_snap {
	uint64_t n;
	struct venue_balance b[APP_BAL_MAX];
};

#define APP_BAL_WORDS (sizeof(struct app_bal_snap) / sizeof(uint64_t))
_Static_assert(sizeof(struct app_bal_snap) % sizeof(uint64_t) == 0,
	       "app_bal_snap must be made of words");

/* ---- the pipeline ---- */

/* Opportunities the md thread handed to the sequencer, copied in the same
 * order into `pending` so the exec thread can write each one's final verdict
 * (exec's sink only names the opp_id). */
#define APP_PENDING_CAP 256

struct app_pending {
	struct arb_opp opp;
	int64_t rec_ns; /* ts of its accepted row: the final row sorts after it */
};

/* Opportunity rows the md thread writes once the book event's decisions
 * are all made: one event can yield several opportunities, and formatting
 * the rows of the first ones would delay the submit of a later one. */
#define APP_ROWS_DEFER 16

struct app_row {
	struct arb_opp opp;
	enum store_verdict v;
	int64_t ts;
	char reason[STORE_REASON_LEN];
};

struct app_pipeline {
	const struct config *cfg;
	struct store *store;
	struct app_run_opts opts;
	enum store_mode smode; /* records' mode: TRADING_MODE at start */
	struct app_md *md;     /* NULL with --no-market-data */
	struct risk *risk;
	struct arb *arb;

	/* md thread */
	const struct kr_decoder *dec; /* the feed's, from on_books */
	const struct book *books[ARB_MAX_PAIRS];
	struct arb_pair *pairs; /* ARB_MAX_PAIRS; the universe now */
	uint32_t npairs;
	int64_t last_rec_ns; /* opportunities rows get increasing ts (latest wins) */
	uint64_t bal_seen;   /* balances generation last given to the detector */
	struct app_bal_snap bal_md;
	struct app_pending pend; /* staging copy for the pending ring */
	struct app_row rows[APP_ROWS_DEFER];
	unsigned n_rows;
	struct hist hot;
	uint64_t hot_pub_ns;
	bool exchange_online; /* the status channel's last word (on_frame) */

	/* md -> exec, once: the universe the sequencer and the paper venue get. */
	struct arb_pair *uni; /* ARB_MAX_PAIRS */
	_Atomic uint32_t uni_n;
	struct app_books_pub *bpub;
	struct ring_spsc *pending;
	struct exec *_Atomic exec;     /* set by the exec thread once reconciled */
	const char *_Atomic not_ready; /* why exec is NULL (static text) */
	/* The exec thread spins while busy and for a while after; then it
	 * sleeps in poll() on wake_fd (an eventfd) with exec_sleeping set, and
	 * the md thread writes wake_fd after a submit only while it is set. */
	int wake_fd;
	atomic_bool exec_sleeping;

	/* exec thread (trade.c) */
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	struct app_trade *trade;

	/* published for the web thread */
	_Atomic uint64_t n_opps, n_rejected, n_accepted, n_busy;
	/* Opportunities submitted whose final row is not written yet: md adds,
	 * exec subtracts; the md thread submits nothing while it is > 0. */
	_Atomic uint32_t inflight;
	_Atomic uint64_t cycles_executed, cycles_failed;
	_Atomic uint64_t orders[WEB_ORDER_OUTCOMES];
	_Atomic bool trading_ready; /* exec reconciled and running */
	struct hist_pub hot_pub, d2o_pub;
	struct hist_pub first_pub; /* opportunity detected -> its first place() */
	/* ... -> that order written to the socket (live venue): copied from
	 * the venue by the exec thread. */
	struct hist_pub wire_pub;
	_Atomic uint64_t bal_seq;
	_Atomic uint64_t bal_w[APP_BAL_WORDS];
};

/* The execution thread (trade.c): waits for the first universe, creates the
 * venue (paper, or live with TRADING_MODE=live) and the sequencer, reconciles
 * the journal, then runs exec_poll until app__trade_stop. start: 0 or -errno;
 * stop joins (safe when not started). */
int app__trade_start(struct app_pipeline *p);
void app__trade_stop(struct app_pipeline *p);

#endif

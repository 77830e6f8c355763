/* Shared by the exec module's .c files and tests/unit/exec/ only. */
#ifndef ARB_EXEC_EXEC_INT_H
#define ARB_EXEC_EXEC_INT_H

#include <math.h>
#include <stdint.h>

/* FNV-1a of a NUL-terminated id, to compare ids quickly before strcmp. */
static inline uint64_t exec__hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Scale of a cost (price * qty) and of a fee: ps + qs, capped at 18. */
static inline int exec__fee_scale(int price_scale, int qty_scale)
{
	return price_scale + qty_scale > 18 ? 18 : price_scale + qty_scale;
}

/* Basis points as an integer count of hundredths of a basis point
 * (1 = 10^-6), so fee and slippage arithmetic stays in integers. */
static inline int64_t exec__cbps(double bps)
{
	return (int64_t)llround(bps * 100.0);
}

#include <pthread.h>
#include <sys/types.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/ring.h"
#include "exec/exec.h"

/* Orders of one cycle: its legs and the unwinds after them. */
#define EXEC_MAX_ORDERS	   (ARB_MAX_LEGS + 8)
#define EXEC_MAX_LEDGER	   (ARB_MAX_LEGS + 2)
#define EXEC_UNWIND_TRIES  2
#define EXEC_MAX_BALANCES  64
#define EXEC_UNWIND_LEVELS 4

struct exec_order {
	struct venue_order o;
	struct venue_report last;
	uint64_t hash;	    /* of o.cl_ord_id */
	uint64_t decide_ns; /* when the sequencer decided to send it */
	uint64_t ack_ns;    /* first report past pending; 0 none */
	int leg;
	bool unwind;
	bool done;
};

/* What the cycle moved, per asset, exactly (18 decimals). */
struct exec_ledger {
	char asset[ARB_ASSET_MAX];
	__int128 amt18;
	unsigned unwind_tries;
};

struct exec_cycle {
	bool active;
	struct arb_opp opp;
	uint64_t origin_ns; /* while the first orders are sent: the detection */
	int next_leg;	    /* sequential: the next leg to send */
	unsigned n_orders, inflight;
	struct exec_order orders[EXEC_MAX_ORDERS];
	struct exec_ledger led[EXEC_MAX_LEDGER];
	unsigned n_led;
	bool stopping; /* no more legs: unwind (or, killed, nothing) then finish */
	bool partial;  /* some leg filled less than planned, or a leg was not sent */
	bool finished; /* set by finish(), for the record of the last order */
	bool unknown;  /* an order was given up without a final state */
	double realised;
	char why[2 * VENUE_REASON_MAX]; /* why the cycle stopped early */
};

struct exec {
	struct exec_cfg cfg;
	struct arb_pair *pairs;
	int64_t *fee_cbps;
	int64_t slip_cbps;
	struct venue *venue;
	struct risk *risk;
	struct exec_sink sink;
	struct ring_spsc *ring;
	int jfd;	    /* journal, -1 when disabled */
	off_t joff;	    /* where the next journal line goes */
	bool junsynced;	    /* an intent written since the last fdatasync (sync "after") */
	uint32_t warm_pair; /* exec_warm goes round the pairs */
	char *jmap;	    /* the journal's JOURNAL_BYTES mapped (after the reconcile), or NULL */
	char jpath[CONFIG_PATH];
	bool reconciled;
	bool kill_seen;
	bool journal_keep; /* an unknown order's intent must survive to the restart */
	uint64_t order_timeout_ns;
	uint64_t now_ns;
	int64_t wall_ns;
	unsigned work; /* things done in this poll */
	struct exec_cycle cyc;
	struct exec_stats st;
	/* Written by the producer (exec_submit), so kept apart from st. */
	_Atomic uint64_t submitted, ring_full;
	struct book_level lv[EXEC_UNWIND_LEVELS];
	struct venue_balance bal[EXEC_MAX_BALANCES];
	pthread_t thread;
	bool thread_started;
	_Atomic bool thread_run;
	const struct clock *thread_clock;
};

/* journal.c */
int exec__journal_open(struct exec *e, struct err_info *info);
int exec__journal_intent(struct exec *e, const struct exec_order *o);
/* exec_warm's part: the intent line of o formatted into a scratch buffer,
 * and the byte that ends the journal's data stored again (unchanged), so
 * the page is writable before the next intent (a sync write-protects it). */
void exec__journal_warm(struct exec *e, const struct exec_order *o);
/* fdatasync of the intents written since the last one (sync "after"). */
void exec__journal_sync(struct exec *e);
/* Unmaps and closes the journal (intents not synced yet are synced). */
void exec__journal_close(struct exec *e);
void exec__journal_done(struct exec *e, const struct exec_order *o);
void exec__journal_reset(struct exec *e); /* at the end of a cycle, nothing in flight */

/* seq.c */
/* Whether opp can be executed: 2..ARB_MAX_LEGS legs, each on a pair of the
 * universe with its scales, sides matching the pair's assets, each leg
 * spending what the one before returned, from home back to home. Else false
 * with why. */
bool exec__opp_ok(const struct exec *e, const struct arb_opp *o, char *why, size_t cap);
void exec__start_cycle(struct exec *e, const struct arb_opp *opp);
void exec__on_report(void *arg, const struct venue_report *r);
void exec__on_kill(struct exec *e);
/* Looks up orders of the active cycle past order_timeout_ns (see exec.h). */
void exec__check_timeouts(struct exec *e);
void exec__audit(struct exec *e, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void exec__emit_trade(struct exec *e, const struct exec_order *o, const char *reason,
		      double realised);
/* s as a JSON string body (quotes and backslashes escaped, controls
 * dropped) into buf; returns buf. */
const char *exec__json(char *buf, size_t cap, const char *s);

#endif

/* The execution sequencer: turns an opportunity that passed risk into orders
 * on a venue (exec/venue.h), follows their fills, and cleans up after a
 * failed leg.
 *
 * Sequential mode (ARB_EXEC_MODE=sequential, one cycle at a time): each leg
 * is an IOC limit order at the leg's worst acceptable price, the detector's
 * limit_price moved by ARB_SLIPPAGE_BPS against us and rounded to the
 * price increment in the safe direction (down for a buy, up for a sell, so
 * the tolerance is never exceeded). Leg 1 uses the planned quantity; every
 * later leg is sized from what the previous leg actually returned: a sell
 * spends that amount of base, a buy as much base as that quote pays for at
 * the limit price with the taker fee, both rounded down to the pair's
 * qty_increment. A leg that would be below qty_min / cost_min is not sent.
 *
 * Unwind: the sequencer keeps a per-cycle ledger of every asset the cycle
 * moved. When the cycle stops early (a leg rejected, unfilled or too small,
 * the kill switch) or leaves a partly spent input behind, every non-home
 * asset it holds is, with ARB_UNWIND=home, sold back to the home asset by
 * an IOC market order on the direct pair (a buy of the home asset is sized
 * from the top of book with the slippage tolerance and fee); with
 * ARB_UNWIND=hold it is kept and an "alert" audit event says what is held.
 * Amounts below the unwind pair's minimums stay as dust (audited). After the
 * kill switch nothing is unwound: the kill switch stops all trading.
 *
 * Inventory mode (ARB_EXEC_MODE=inventory, balances pre-positioned in every
 * asset of the cycle): all legs are sent at once at their planned sizes; a
 * leg that does not fill completely leaves the inventory shifted, which is
 * raised as an "alert" audit event (nothing is unwound).
 *
 * Client order ids: "ar" + the opportunity id in base 36 + "-" + the leg
 * ('0'..'3', or 'u' for unwind orders) + an attempt digit in base 36: at most
 * 18 characters, Kraken's free-text cl_ord_id rule, and unique as long as
 * opportunity ids are (arb seeds them from the start time).
 *
 * Crash safety: before each place() the order's intent (cl_ord_id, pair,
 * side, type, qty, price) is written to the journal file, which a process
 * crash (kill -9) cannot lose. EXEC_JOURNAL_SYNC says when it reaches the
 * disk, for an OS crash or power loss: "after" (default) fdatasyncs right
 * after the place() calls, before anything else is done, so the sync (40 us
 * to milliseconds) is not between decision and order; "before" syncs ahead
 * of place() (no window at all, the sync on the order's path); "off" never.
 * Its final state is appended (not synced) when the report arrives. At
 * start-up exec_reconcile asks the venue (query by cl_ord_id) about every
 * intent without a final state, records what it learns, cancels what is
 * still open, and never sends any of them again. Trading starts only once
 * every intent is resolved.
 *
 * Records go out through struct exec_sink (the app writes them to the store):
 * one trade record per order in its final state, an audit event for every
 * decision (accepted, rejected with reason, leg failed, unwind, alert, kill
 * switch, reconcile, cycle done) and a portfolio snapshot after each cycle.
 *
 * Threads: exec_submit is called by the market-data thread (the single
 * producer of an SPSC ring of opportunity copies); everything else by the
 * execution thread, which owns the sequencer and the venue: exec_poll in a
 * loop (or exec_start's thread does it). The replay runs both on one thread.
 * exec_poll never allocates or locks; it blocks only in fdatasync of the
 * journal before an order is sent. */
#ifndef ARB_EXEC_EXEC_H
#define ARB_EXEC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/arb.h"
#include "core/clock.h"
#include "core/err.h"
#include "exec/paper.h"
#include "exec/venue.h"
#include "risk/risk.h"

/* One order in its final state (a row of the trades table). */
struct exec_trade {
	int64_t ts_ns; /* wall clock of the final report */
	uint64_t opp_id;
	uint8_t leg; /* 0-based leg; for an unwind the leg after which it ran */
	bool unwind; /* an unwind order, not a leg of the cycle */
	char cycle[ARB_PATH_MAX];
	char cl_ord_id[VENUE_ID_MAX];
	char order_id[VENUE_ID_MAX];
	char symbol[VENUE_SYMBOL_MAX];
	char fee_asset[VENUE_ASSET_MAX];
	char reason[VENUE_REASON_MAX];
	enum venue_side side;
	enum venue_order_type type;
	enum venue_tif tif;
	enum venue_status status;
	int price_scale, qty_scale, fee_scale;
	int64_t limit_price; /* 0 for a market order */
	int64_t qty, filled_qty, avg_price, fee;
	double expected_profit;	   /* of the cycle, home units */
	double realised_profit;	   /* of the cycle, on its last record; NaN otherwise */
	int64_t submit_latency_ns; /* decision (detect, or the report that sized it) to sent */
	int64_t ack_latency_ns;	   /* sent to the venue's first report; < 0 unknown */
	int64_t fill_latency_ns;   /* sent to the final report */
};

/* Where records go. Every callback is optional (NULL skips), is called on
 * the execution thread, borrows its arguments for the call and must not
 * block (enqueue to the store). detail is a JSON object as text. */
struct exec_sink {
	void (*on_trade)(void *ctx, const struct exec_trade *t);
	void (*on_audit)(void *ctx, const char *action, const char *detail);
	void (*on_portfolio)(void *ctx, const struct venue_balance *b, size_t n,
			     const char *home_asset);
	void *ctx;
};

/* When an order's intent is fdatasync'd (EXEC_JOURNAL_SYNC). */
enum exec_journal_sync {
	EXEC_JSYNC_AFTER = 0, /* right after the place() calls of a step */
	EXEC_JSYNC_BEFORE,    /* before each place() */
	EXEC_JSYNC_OFF,	      /* never: survives a process crash, not a power loss */
};

struct exec_cfg {
	/* The universe, copied: pairs[i] is pair index i (arb_leg.pair). */
	const struct arb_pair *pairs;
	uint32_t n_pairs;
	double default_fee_bps;	  /* ARB_TAKER_FEE_BPS, for pairs with ARB_FEE_DEFAULT */
	double slippage_bps;	  /* ARB_SLIPPAGE_BPS */
	bool inventory;		  /* ARB_EXEC_MODE=inventory */
	bool unwind_hold;	  /* ARB_UNWIND=hold (default home) */
	uint32_t max_book_age_ms; /* an opportunity older than this when picked up is dropped */
	const char *journal_path; /* intent journal; NULL or "" disables it (tests only) */
	enum exec_journal_sync journal_sync; /* EXEC_JOURNAL_SYNC (header comment) */
	uint32_t ring_capacity;		     /* opportunities queued md -> exec; 0: 64 */
	/* An order with no final report this long after it was sent is looked
	 * up with query(); if that cannot say either, it is given up as
	 * "unknown": cancel requested, the cycle stopped without unwinding,
	 * an alert raised, and its intent kept for the next start's
	 * reconcile. 0: 10000. */
	uint32_t order_timeout_ms;
	exec_levels_fn levels; /* top of book for sizing an unwind buy; may be NULL */
	void *levels_ctx;
	const struct clock *clock; /* wall stamps of records; NULL: clock_system */
};

/* Fills *out from configuration (journal_path, pairs, levels left NULL). */
void exec_cfg_from_config(const struct config *cfg, struct exec_cfg *out);

/* The journal path for a database path: "<duckdb_path>.journal". Returns the
 * length or ERR_RANGE. */
int exec_journal_path(const char *duckdb_path, char *buf, size_t cap);

struct exec_stats {
	uint64_t submitted;	/* exec_submit accepted */
	uint64_t ring_full;	/* exec_submit refused (ring full) */
	uint64_t started;	/* cycles started */
	uint64_t completed;	/* every leg filled completely */
	uint64_t failed;	/* stopped early or partly filled */
	uint64_t dropped_busy;	/* picked up while a cycle was running */
	uint64_t dropped_stale; /* older than max_book_age_ms when picked up */
	uint64_t dropped_killed;
	uint64_t dropped_malformed; /* legs that do not match the universe or chain */
	uint64_t orders;	    /* orders placed */
	uint64_t place_errors;	    /* place() refused */
	uint64_t unwinds;	    /* unwind orders placed */
	uint64_t reports;	    /* reports received */
	uint64_t stray_reports;	    /* for no order of the active cycle */
	uint64_t journal_errors;
	uint64_t journal_syncs;	 /* fdatasync calls for intents */
	uint64_t order_timeouts; /* orders looked up after order_timeout_ms */
	uint64_t orders_unknown; /* of those, given up with no final state */
	uint64_t reconciled;	 /* intents resolved at start-up */
};

struct exec;

/* Creates the sequencer. venue, risk and sink->ctx are borrowed until
 * exec_free; cfg is copied (pairs too). Opens (creating, mode 0600) the
 * journal. Returns owned, or NULL with info: ERR_INVALID, ERR_NOMEM, -errno
 * for the journal. Start-up only. Trading waits for exec_reconcile. */
struct exec *exec_new(const struct exec_cfg *cfg, struct venue *venue, struct risk *risk,
		      const struct exec_sink *sink, struct err_info *info);

/* Stops exec_start's thread if running, then frees. The venue is not
 * destroyed (its owner does that). NULL does nothing. */
void exec_free(struct exec *e);

/* Reads the journal, resolves every intent without a final state through
 * venue->query (recording a trade and a "reconcile" audit event for each;
 * an open one is cancelled; one the venue never saw is recorded as not sent,
 * and none is ever sent again), then rewrites the journal with what is left
 * unresolved. 0 when all are resolved (trading may start), ERR_UNKNOWN when
 * some could not be resolved (the venue could not tell; retry later),
 * -errno for the file. Execution thread, before exec_poll. */
int exec_reconcile(struct exec *e, int64_t wall_ns, struct err_info *info);

/* Hands opp (copied) to the execution thread. 0, or ERR_FULL when the ring
 * is full: then the opportunity is dropped and counted, and the caller gives
 * its exposure back (risk_release). The market-data thread only (SPSC). */
int exec_submit(struct exec *e, const struct arb_opp *opp);

/* One turn of the execution loop at now_ns (monotonic or replay) and wall_ns:
 * acts on the kill switch (cancel_all once, audit, active cycle stopped),
 * polls the venue and handles its reports, moves the active cycle on, and
 * starts the next queued opportunity when idle. Returns the number of
 * things done (0 when idle), or ERR_BADSTATE before exec_reconcile
 * succeeded. Execution thread. */
int exec_poll(struct exec *e, uint64_t now_ns, int64_t wall_ns);

/* True when no cycle is active and nothing is queued. */
bool exec_idle(const struct exec *e);

/* Between opportunities, for an execution thread that never sleeps: goes
 * through a cycle's first order (order id, prices, the journal line
 * formatted but not written, the journal's current page touched, the
 * venue's warm()) without sending or recording anything. Does nothing
 * while a cycle runs or before the reconcile. Execution thread. */
void exec_warm(struct exec *e);

/* Runs exec_poll in a thread of its own with clock (NULL: clock_system;
 * borrowed), spinning briefly after activity and sleeping ~100 us when idle.
 * exec_reconcile must have succeeded. 0, ERR_BADSTATE or -errno. exec_stop
 * joins it; safe when not started. Owner's thread. */
int exec_start(struct exec *e, const struct clock *clock);
void exec_stop(struct exec *e);

/* Counters (execution thread, or after exec_stop). */
void exec_stats(const struct exec *e, struct exec_stats *out);

/* Writes the cl_ord_id of leg ('0'..'3', 'u') and attempt (0..35) of
 * opp_id, NUL terminated, into buf (cap >= 19). Returns the length or
 * ERR_RANGE. Any thread. */
int exec_clid(uint64_t opp_id, char leg, unsigned attempt, char *buf, size_t cap);

#endif

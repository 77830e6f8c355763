/* Pre-trade risk: every opportunity the detector finds passes risk_check
 * before it reaches the execution thread. Each rule has a configuration key
 * and a reason code; the first rule that fails rejects the opportunity with
 * that reason and a one-line explanation naming the numbers involved.
 *
 * Rules, in the order they are checked (enum risk_reason):
 *   killed            the kill switch is set (risk_kill: dashboard, `arbitrade
 *                     kill`, SIGUSR1, RISK_KILL_FILE); sticky for the process
 *   paused            risk_pause (dashboard / operator) until risk_resume
 *   circuit_breaker   RISK_MAX_CONSECUTIVE_FAILURES failed cycles in a row;
 *                     risk_resume clears it
 *   daily_loss        realised P&L of the current UTC day (of the wall clock
 *                     passed in) <= -RISK_DAILY_LOSS_LIMIT
 *   exchange_offline  the exchange (status channel) or a leg's pair is not online
 *   bad_opportunity   malformed input (no legs, a non-finite number...)
 *   book_invalid      a leg's book is not valid (checksum, disconnect)
 *   book_stale        a leg's book is older than ARB_MAX_BOOK_AGE_MS
 *   min_profit        profit_bps < ARB_MIN_PROFIT_BPS (after fees)
 *   order_minimum     a leg's qty < qty_min or qty * limit_price < cost_min
 *   balance           a leg's input asset cannot be paid, fees included
 *   max_notional      size_home > ARB_MAX_NOTIONAL
 *   max_exposure      exposure open + size_home > RISK_MAX_EXPOSURE
 *   rate_limit        RISK_MAX_CYCLES_PER_MIN cycles admitted in the last 60 s
 *                     (sliding window on the event's monotonic stamp)
 *
 * Threads: risk_check and risk_admit run on one thread (the market-data
 * thread, or the replay thread) and never allocate, lock or log. The kill and
 * pause flags are atomics any thread may set. risk_cycle_done (exposure
 * released, P&L, failure streak) runs on the execution thread and publishes
 * through atomics (the daily P&L through a single-writer sequence counter),
 * so risk_check reads it without a lock. Time is always passed in, so a
 * replay gives the same verdicts every run. */
#ifndef ARB_RISK_RISK_H
#define ARB_RISK_RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/arb.h"
#include "core/config.h"
#include "core/err.h"

enum risk_reason {
	RISK_OK = 0,
	RISK_KILLED,
	RISK_PAUSED,
	RISK_CIRCUIT_BREAKER,
	RISK_DAILY_LOSS,
	RISK_EXCHANGE_OFFLINE,
	RISK_BAD_OPPORTUNITY,
	RISK_BOOK_INVALID,
	RISK_BOOK_STALE,
	RISK_MIN_PROFIT,
	RISK_ORDER_MINIMUM,
	RISK_BALANCE,
	RISK_MAX_NOTIONAL,
	RISK_MAX_EXPOSURE,
	RISK_RATE_LIMIT,
	RISK__COUNT
};

/* "ok", "killed", "paused", "circuit_breaker", "daily_loss",
 * "exchange_offline", "bad_opportunity", "book_invalid", "book_stale",
 * "min_profit", "order_minimum", "balance", "max_notional", "max_exposure",
 * "rate_limit"; "unknown" out of range. Static. */
const char *risk_reason_str(enum risk_reason r);

/* The limits, from configuration (risk_limits_from_config) or by hand. */
struct risk_limits {
	double min_profit_bps;		   /* ARB_MIN_PROFIT_BPS */
	double max_notional;		   /* ARB_MAX_NOTIONAL, home units */
	uint32_t max_book_age_ms;	   /* ARB_MAX_BOOK_AGE_MS */
	double max_exposure;		   /* RISK_MAX_EXPOSURE, home units */
	uint32_t max_cycles_per_min;	   /* RISK_MAX_CYCLES_PER_MIN, 1..10000 */
	double daily_loss_limit;	   /* RISK_DAILY_LOSS_LIMIT, home units, > 0 */
	uint32_t max_consecutive_failures; /* RISK_MAX_CONSECUTIVE_FAILURES, >= 1 */
	bool inventory;			   /* ARB_EXEC_MODE=inventory: every leg pays from
					      its own balance */
	char kill_file[CONFIG_PATH];	   /* RISK_KILL_FILE; "" none */
};

void risk_limits_from_config(const struct config *cfg, struct risk_limits *out);

/* What the caller knows about one leg when it asks. */
struct risk_leg_state {
	bool book_valid;      /* book_valid() of the leg's book */
	bool pair_online;     /* the pair's status is online */
	uint32_t book_age_ms; /* now - the book's last update */
	int64_t qty_min;      /* at the leg's qty_scale */
	int64_t cost_min;     /* at cost_scale, quote units */
	int cost_scale;	      /* 0..18 */
	double balance_in;    /* available balance of the leg's asset_in, its units */
};

struct risk_input {
	const struct arb_opp *opp;	   /* borrowed for the call */
	const struct risk_leg_state *legs; /* opp->n_legs entries */
	bool exchange_online;		   /* status channel says online */
	uint64_t now_ns;		   /* the event's monotonic stamp (window) */
	int64_t wall_ns;		   /* wall clock (UTC day of the loss limit) */
};

#define RISK_TEXT_MAX 160

struct risk_verdict {
	enum risk_reason reason;
	int leg; /* the leg at fault, -1 when none */
	char text[RISK_TEXT_MAX];
};

struct risk_stats {
	uint64_t checks;
	uint64_t accepted;
	uint64_t rejected[RISK__COUNT]; /* by reason; [RISK_OK] unused */
	uint64_t kill_file_errors;	/* stat() failures other than ENOENT */
};

struct risk;

/* Creates the risk state with *limits (copied). Allocates the sliding window
 * (max_cycles_per_min stamps) once. Returns owned (risk_free), or NULL with
 * info: ERR_INVALID for a limit out of bounds, ERR_NOMEM. Start-up only. */
struct risk *risk_new(const struct risk_limits *limits, struct err_info *info);
void risk_free(struct risk *r);

/* Checks in->opp against every rule; fills *out (reason, leg, text) and
 * returns the reason (RISK_OK when every rule passes). Does not change any
 * state besides counters: call risk_admit for an opportunity you send on.
 * Never allocates, locks or logs. The check thread only. */
enum risk_reason risk_check(struct risk *r, const struct risk_input *in, struct risk_verdict *out);

/* Records that opp is going to execution at now_ns: adds it to the rate
 * window and its size_home to the exposure open. The check thread only. */
void risk_admit(struct risk *r, const struct arb_opp *opp, uint64_t now_ns);

/* risk_check then, when it passes, risk_admit. Returns the reason. */
enum risk_reason risk_check_admit(struct risk *r, const struct risk_input *in,
				  struct risk_verdict *out);

/* The execution thread reports a finished cycle: releases size_home from the
 * exposure open, adds pnl_home (realised, home units; 0 when unknown) to the
 * P&L of wall_ns's UTC day, and resets (ok) or extends (failed) the failure
 * streak. Also for an admitted opportunity that was never executed (ok true,
 * pnl 0). One thread (the execution thread). */
void risk_cycle_done(struct risk *r, double size_home, double pnl_home, bool ok, int64_t wall_ns);

/* Gives back the exposure of an admitted opportunity that was never
 * executed (dropped: ring full, stale, busy, killed). Leaves the failure
 * streak and the P&L alone. Any thread. */
void risk_release(struct risk *r, double size_home);

/* The kill switch. risk_kill sets it (the first reason given is kept; text
 * copied, cut to RISK_TEXT_MAX - 1) and is safe from any thread, but not
 * from a signal handler: there call risk_kill_signal. Sticky: nothing clears
 * it for the life of the process. */
void risk_kill(struct risk *r, const char *reason);
/* Async-signal-safe: sets the flag with the reason "signal". */
void risk_kill_signal(struct risk *r);
bool risk_killed(const struct risk *r);
/* The reason given to the first risk_kill, "" when not killed. Borrowed;
 * stable once risk_killed is true. Any thread. */
const char *risk_kill_reason(const struct risk *r);

/* Sets the kill switch when RISK_KILL_FILE exists. The app calls it about
 * once a second off the hot path (it calls stat). Returns true when the file
 * exists (the switch is then set). Any thread. */
bool risk_kill_file_check(struct risk *r);

/* Pause / resume new cycles (operator). resume also clears the circuit
 * breaker's failure streak; it does not clear the kill switch. Any thread. */
void risk_pause(struct risk *r);
void risk_resume(struct risk *r);
bool risk_paused(const struct risk *r);

/* Exposure open, realised P&L of the UTC day of wall_ns, failure streak.
 * Any thread; values are read without a lock and may be a moment old. */
double risk_exposure(const struct risk *r);
double risk_day_pnl(const struct risk *r, int64_t wall_ns);
uint32_t risk_failure_streak(const struct risk *r);

/* Counters; the check thread. */
void risk_stats(const struct risk *r, struct risk_stats *out);

#endif

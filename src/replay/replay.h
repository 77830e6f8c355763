/* The backtest: recorded market data replayed through the production
 * detector, pre-trade checks and execution sequencer on one thread, with a
 * replay clock and a venue that fills against the recorded books at order
 * time + latency. Deterministic: the same input and options give a
 * byte-identical report.
 *
 * Input, one JSON object per line, replayed in timestamp order (stable for
 * equal timestamps):
 *   - the seed format: {"timestamp": RFC3339, "symbol": "BASE/QUOTE",
 *     "bids": [[price, qty], ...], "asks": [[price, qty], ...]}, the whole
 *     visible top of the book at that time (prices and quantities as JSON
 *     numbers or numeric strings);
 *   - recordings written by `arbitrade record`: {"recv_ts": RFC3339,
 *     "msg": <a Kraken WS v2 message>}; instrument messages give the
 *     precisions, book messages are applied as the live client applies
 *     them, checksums included. */
#ifndef ARB_REPLAY_REPLAY_H
#define ARB_REPLAY_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "arb/arb.h"
#include "core/config.h"
#include "core/err.h"
#include "exec/exec.h"
#include "store/store.h"

/* ---- records shared with `arbitrade run` ---- */

/* An opportunity as an opportunities row with its verdict and reason
 * (reason may be NULL). Any thread. */
void replay_rec_opportunity(const struct arb_opp *o, int64_t wall_ns, enum store_mode mode,
			    enum store_verdict verdict, const char *reason, struct store_rec *out);
/* A final order state as a trades row. Any thread. */
void replay_rec_trade(const struct exec_trade *t, enum store_mode mode, struct store_rec *out);
/* One balance as a portfolio_snapshots row, valued in home at price_home
 * (home units per unit of the asset; NaN when unknown: value NULL). Any
 * thread. */
void replay_rec_portfolio(const struct venue_balance *b, const char *home, double price_home,
			  int64_t wall_ns, enum store_mode mode, struct store_rec *out);

/* What one unit of asset is worth in home, from the books as levels gives
 * them: the best bid of asset/home (what selling it would fetch), or one over
 * the best ask of home/asset; 1 for home itself; NaN when no pair of the
 * universe (pairs[0..n)) links the two directly or its book is empty. The
 * thread that may call levels. */
double replay_price_in_home(const struct arb_pair *pairs, uint32_t n, exec_levels_fn levels,
			    void *levels_ctx, const char *asset, const char *home);

/* A Kraken pair (instrument table) as the detector's record: scales,
 * increments and minimums copied, tradable when online, fee unknown
 * (ARB_FEE_DEFAULT). 0, or ERR_RANGE when a name is longer than the
 * detector keeps (the numbers are filled, the names are not). Any thread. */
struct kr_pair;
int replay_arb_pair_from_kr(const struct kr_pair *k, struct arb_pair *out);

/* ---- the backtest ---- */

struct replay_opts {
	const char *events_path;       /* required */
	const char *instruments_path;  /* NULL: precisions inferred from the data */
	const char *starting_balances; /* "USD=1000.0,BTC=0.1"; NULL: PAPER_STARTING_BALANCES */
	double slippage_bps;	       /* < 0: ARB_SLIPPAGE_BPS */
	int64_t latency_ms;	       /* < 0: ARB_PAPER_LATENCY_MS */
	double taker_fee_bps;	       /* < 0: ARB_TAKER_FEE_BPS (and the instruments' own none) */
	bool skip_bad_lines;	       /* count bad lines instead of stopping */
	const char *db_path;	       /* NULL: no database; else opportunities and trades too */
};

struct replay_report;

/* Runs the backtest: loads and sorts the events, builds the universe, and
 * replays every event through the detector, pre-trade checks and the
 * sequencer with a paper venue on the replay clock. Returns 0 with *out
 * (owned: replay_report_free), or an error with info naming what was wrong:
 * ERR_PARSE (a bad line: its number and why; an instruments file that is
 * neither an instrument message nor an AssetPairs answer), ERR_INVALID (a bad
 * option or balance), -errno (a file), ERR_DB (the database). The caller's
 * thread; everything runs on it. */
int replay_run(const struct config *cfg, const struct replay_opts *o, struct replay_report **out,
	       struct err_info *info);

/* The report as JSON (one object, newline-terminated): byte-identical for the
 * same input and options. */
void replay_report_write_json(const struct replay_report *r, FILE *f);
/* A readable summary, plus the measured compute time per event (which varies
 * from run to run and so is not in the JSON). */
void replay_report_write_text(const struct replay_report *r, FILE *f);
void replay_report_free(struct replay_report *r);

#endif

/* The paper venue: a struct venue (exec/venue.h) that fills orders against
 * the local order books and keeps its own balances. Paper is the default
 * trading mode (TRADING_MODE=paper).
 *
 * Fills: place() queues the order; poll(now) fills every queued order whose
 * time has come (sent_ns + latency_ms), against the book as it is then,
 * walking the depth of the side the order takes from (asks for a buy, bids
 * for a sell). Each level's price is worsened by slippage_bps (rounded up for
 * a buy, down for a sell, to the price scale's unit), a limit order stops at
 * its limit price, and the unfilled remainder is cancelled (IOC: the only
 * time in force paper accepts). The book itself is not changed, so two orders
 * on one pair in the same poll both see its full depth.
 *
 * Fees: taker fee per pair (arb_pair.taker_fee_bps, or default_fee_bps), charged in the
 * quote asset on buys and sells alike, rounded up to fee_scale (the report's
 * cost scale, min(price_scale + qty_scale, 18)).
 *
 * Refusals (a REJECTED report at fill time, as an exchange would answer):
 * a quantity below qty_min or not a multiple of qty_increment, a limit price
 * not a multiple of price_increment, a cost below cost_min, and insufficient
 * funds (a limit buy needs qty * limit * (1 + fee) of quote, a market buy the
 * cost of the fill plus fee, a sell its quantity of base). An empty book
 * gives CANCELED with nothing filled.
 *
 * Balances are kept exactly (128-bit at 18 decimals) and reported at
 * PAPER_BALANCE_SCALE decimals, rounded toward zero.
 *
 * Threads: the execution thread, like every venue. levels() is called from
 * poll() on that thread; see exec_levels_fn. */
#ifndef ARB_EXEC_PAPER_H
#define ARB_EXEC_PAPER_H

#include <stddef.h>
#include <stdint.h>

#include "book/book.h"
#include "core/err.h"
#include "exec/venue.h"
#include "arb/arb.h"

#define PAPER_BALANCE_SCALE 10
#define PAPER_MAX_ASSETS    64

/* Copies the levels an order on pair_id would take from, best first: the
 * asks when side is VENUE_BUY, the bids for VENUE_SELL, at most cap, into
 * out, and sets *n (0 when the book is empty or not valid). Returns 0, or an
 * error (ERR_NOTFOUND for no such book), which rejects the order. The app
 * provides it and must hand over a consistent copy: on the execution thread
 * it may not read a book the market-data thread is changing (copy from a
 * published snapshot); in replay and tests, exec_levels_from_book reads a
 * book directly. */
typedef int (*exec_levels_fn)(void *ctx, uint32_t pair_id, enum venue_side side,
			      struct book_level *out, size_t cap, size_t *n);

/* Copies b's asks (side BUY) or bids (SELL), best first, up to cap, into out;
 * *n = 0 when b is not valid. Returns 0. The calling thread must own b. */
int exec_levels_from_book(const struct book *b, enum venue_side side, struct book_level *out,
			  size_t cap, size_t *n);

struct paper_cfg {
	/* The universe, copied: pairs[i] is pair index i (arb_leg.pair,
	 * venue_order.pair_id); an empty symbol marks an unused index. Each
	 * pair's taker_fee_bps, or default_fee_bps when ARB_FEE_DEFAULT. */
	const struct arb_pair *pairs;
	uint32_t n_pairs;
	double default_fee_bps; /* ARB_TAKER_FEE_BPS */
	double slippage_bps;	/* ARB_SLIPPAGE_BPS */
	uint32_t latency_ms;	/* ARB_PAPER_LATENCY_MS */
	const char *balances;	/* PAPER_STARTING_BALANCES, "USD=1000,BTC=0.1"; NULL none */
	exec_levels_fn levels;
	void *levels_ctx;  /* borrowed until the venue is destroyed */
	size_t max_orders; /* order table (queued and recent); 0: 1024 */
};

/* Creates a paper venue into *out (ops and an owned ctx; destroy with
 * out->ops->destroy(out->ctx)). Returns 0, or ERR_INVALID / ERR_PARSE /
 * ERR_RANGE with info naming the bad value (a balance entry, a pair), or
 * ERR_NOMEM. Start-up only. */
int paper_venue_new(const struct paper_cfg *cfg, struct venue *out, struct err_info *info);

/* The exact balance of asset at 18 decimals, for tests and reports; 0 for
 * an asset never held. ctx is a paper venue's. Execution thread. */
__int128 paper_balance18(void *ctx, const char *asset);

#endif

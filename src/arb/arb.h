/* The arbitrage detector: the asset graph of the tradable universe, every
 * simple cycle of 3 and 4 legs that starts and ends at a home asset
 * (ARB_HOME_ASSETS), an index pair -> cycles, and the evaluation of the
 * cycles a book update touches: effective rates with the taker fee, a walk of
 * the book depth, the size that maximises absolute profit in the home asset
 * (bounded by the home balance, ARB_MAX_NOTIONAL and every leg's depth), and
 * rounding of every leg to the pair's increments and minimums.
 *
 * The module knows nothing of Kraken's wire format: the caller converts its
 * instrument records to struct arb_pair. Books are struct book (book/book.h),
 * borrowed: the detector reads them, never writes them.
 *
 * Fee model (Kraken's default, fee charged in the quote currency):
 *   BUY  Q base:  spend cost(Q) * (1 + f) quote, receive Q base;
 *   SELL Q base:  spend Q base, receive cost(Q) * (1 - f) quote;
 * where cost(Q) = sum of price * qty over the levels walked for Q and f is the
 * pair's taker fee (bps / 10^4). The first leg's quantity is the size
 * variable; each later leg converts as much of the previous leg's output as
 * its increments allow (quantities round DOWN to qty_increment). What is left
 * over in an intermediate asset (dust) is valued at zero, so the reported
 * profit is never optimistic about it.
 *
 * Threads: an arb and everything it returns belong to one thread (the
 * market-data thread, or the replay thread), except arb_graph_new/free and
 * arb_opp_describe, which any thread may call.
 *
 * Memory: arb_new, arb_graph_new and the universe setters allocate; call them
 * at start-up or between events when the universe changes, never per event.
 * arb_on_book and arb_eval_cycle never allocate, lock, log or read more than
 * one clock stamp per event. */
#ifndef ARB_ARB_ARB_H
#define ARB_ARB_ARB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book/book.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/err.h"

#define ARB_MAX_LEGS 4
/* Capacity of the pair table: pair indices are 0..ARB_MAX_PAIRS-1. */
#define ARB_MAX_PAIRS 4096
/* Home assets at most (ARB_HOME_ASSETS entries). */
#define ARB_MAX_HOMES  16
#define ARB_SYMBOL_MAX 32 /* with the NUL */
#define ARB_ASSET_MAX  16 /* with the NUL */
/* "USD>BTC>ETH>XRP>USD" with room: 5 assets of 15 characters and 4 '>'. */
#define ARB_PATH_MAX 96
/* Default cycle capacity when arb_new is given 0. */
#define ARB_DEFAULT_MAX_CYCLES 2000000u
/* Most opportunities one book update can emit (the best ones, by profit). */
#define ARB_MAX_EMIT 8
/* A pair's taker_fee_bps below zero means "unknown": ARB_TAKER_FEE_BPS applies. */
#define ARB_FEE_DEFAULT (-1.0)

/* One pair of the universe, filled by the caller (the app converts kr_pair).
 * Amounts are fixed point (core/fixed.h) at the scale named beside them. */
struct arb_pair {
	char symbol[ARB_SYMBOL_MAX]; /* "BTC/USD" */
	char base[ARB_ASSET_MAX];    /* "BTC" */
	char quote[ARB_ASSET_MAX];   /* "USD" */
	int price_scale;	     /* the book's price scale */
	int qty_scale;		     /* the book's qty scale */
	int cost_scale;		     /* scale of cost_min */
	int64_t price_increment;     /* > 0, at price_scale */
	int64_t qty_increment;	     /* > 0, at qty_scale */
	int64_t qty_min;	     /* >= 0, at qty_scale */
	int64_t cost_min;	     /* >= 0, at cost_scale, in quote units */
	double taker_fee_bps;	     /* account tier fee; ARB_FEE_DEFAULT when unknown */
	bool tradable;		     /* online; false for cancel_only, maintenance, delisted... */
};

enum arb_side { ARB_BUY, ARB_SELL };

struct arb_leg {		       /* one order the cycle needs */
	uint32_t pair;		       /* dense pair index in the arb universe */
	char symbol[32];	       /* "BTC/USD" */
	char asset_in[ARB_ASSET_MAX];  /* asset spent: quote for BUY, base for SELL */
	char asset_out[ARB_ASSET_MAX]; /* asset received */
	enum arb_side side;	       /* BUY: spend quote, get base (walks asks); SELL: spend base,
					  get quote (walks bids) */
	int price_scale, qty_scale;
	/* Worst level price walked, at price_scale, rounded to the price
	 * increment AWAY from the book so the order still reaches every level
	 * walked: UP for a buy, DOWN for a sell (book prices normally sit on the
	 * grid already, so this rarely changes anything). */
	int64_t limit_price;
	int64_t qty;	/* base quantity, rounded DOWN to qty_increment, at qty_scale */
	double rate;	/* effective rate incl. taker fee: units out per unit in */
	double fee_bps; /* taker fee used */
	double expected_in, expected_out; /* amounts of asset_in spent / asset_out received */
	double fee;			  /* fee charged, in quote units */
	uint32_t book_age_ms;		  /* trigger_ns - the book's last update, in ms */
};

struct arb_opp {
	uint64_t id;	/* unique, increasing; seeded from the start time so ids do not
			   repeat across runs */
	uint32_t cycle; /* cycle index (arb_cycle_name gives "USD>BTC>ETH>USD") */
	uint8_t n_legs;
	char home[16];		 /* home asset */
	char path[ARB_PATH_MAX]; /* "USD>BTC>ETH>USD" */
	struct arb_leg legs[ARB_MAX_LEGS];
	double size_home;   /* start amount actually spent by leg 1, home units */
	double out_home;    /* amount the last leg returns, home units */
	double profit_home; /* out_home - size_home: after all fees and rounding */
	double fee_home;    /* fees, valued in home units */
	double profit_bps;  /* profit_home / size_home * 10^4 */
	double net_rate;    /* product of leg rates */
	uint32_t max_book_age_ms;
	uint64_t trigger_ns; /* monotonic arrival stamp of the book update that triggered it */
	uint64_t detect_ns;  /* monotonic stamp when the evaluation finished */
};

/* Why a cycle was or was not an opportunity (arb_eval_cycle). */
enum arb_verdict {
	ARB_V_OPP = 0,	    /* profit_bps >= ARB_DETECT_MIN_PROFIT_BPS: an opportunity */
	ARB_V_BELOW_MIN,    /* executable, best size found, but below the minimum */
	ARB_V_NO_BOOK,	    /* a leg has no book bound */
	ARB_V_INVALID_BOOK, /* a leg's book is not book_valid() */
	ARB_V_STALE_BOOK,   /* a leg's book is older than ARB_MAX_BOOK_AGE_MS */
	ARB_V_EMPTY_BOOK,   /* a leg's book side has no level */
	ARB_V_SCREENED,	    /* the top-of-book bound is below the minimum */
	ARB_V_TOO_SMALL,    /* no size clears every leg's qty_min / cost_min */
	ARB_V_UNPROFITABLE, /* executable, but every size loses */
	ARB_V_NOT_TRADABLE, /* a leg's pair is not tradable (cycle no longer listed) */
	ARB_V_COUNT
};

/* Static name of a verdict ("opp", "stale_book", ...). */
const char *arb_verdict_name(enum arb_verdict v);

struct arb_stats {
	uint64_t events;		/* arb_on_book calls */
	uint64_t unknown_pair;		/* arb_on_book for a pair index outside the universe */
	uint64_t events_skipped;	/* neither side's rate rose and no cycle through the pair
					   passes the screen: nothing to re-evaluate */
	uint64_t cycles_touched;	/* cycles screened by arb_on_book (sides scanned) */
	uint64_t cycles_walked;		/* cycles that passed the screen and were depth-walked */
	uint64_t verdicts[ARB_V_COUNT]; /* per verdict, over arb_on_book's cycles */
	uint64_t opps;			/* opportunities handed to the callback */
	uint64_t opps_dropped;		/* qualifying cycles beyond ARB_MAX_EMIT in one event */
	uint64_t rebuilds;		/* universes installed */
};

/* Called once per opportunity, best first. opp is borrowed for the call only:
 * copy what you keep. Runs on the detector's thread, inside arb_on_book: it
 * must not block (push to a ring). */
typedef void (*arb_opp_fn)(void *ctx, const struct arb_opp *opp);

/* ---- universe: built off the hot path, then swapped in ---------------- */

/* An immutable universe: assets, the tradable pairs' edges, every cycle and
 * the pair -> cycles index, all in arrays sized when it is built. */
struct arb_graph;

/* Builds a universe from pairs[0..n_pairs) (copied; pair i gets index i, so
 * the caller keeps indices stable across rebuilds, e.g. kr_pair.id), homes
 * (comma list "USD,EUR,USDT,BTC"; assets absent from the universe are
 * skipped) and at most max_cycles cycles (0: ARB_DEFAULT_MAX_CYCLES). Only
 * pairs with tradable set become edges. Returns owned (arb_graph_free), or
 * NULL with info: ERR_INVALID (bad pair record, n_pairs > ARB_MAX_PAIRS, bad
 * home list), ERR_FULL (more cycles than max_cycles; info says how many were
 * needed), ERR_NOMEM. Any thread: it touches no arb. */
struct arb_graph *arb_graph_new(const struct arb_pair *pairs, uint32_t n_pairs, const char *homes,
				uint32_t max_cycles, struct err_info *info);
void arb_graph_free(struct arb_graph *g);

/* ---- the detector ------------------------------------------------------ */

struct arb;

/* Creates a detector with cfg's ARB_* values (copied), no universe, no books,
 * no callback. It reports cycles at or above cfg->detect_min_profit_bps
 * (ARB_DETECT_MIN_PROFIT_BPS); cfg->min_profit_bps is risk's and not read
 * here, so a cfg built by hand sets both. The clock is used for detect_ns
 * only (NULL: clock_system); borrowed until arb_free. Ids start at id_seed
 * (0: the wall clock in microseconds, so ids increase across runs).
 * Returns owned (arb_free), or NULL with info: ERR_INVALID, ERR_NOMEM.
 * Start-up only. */
struct arb *arb_new(const struct arb_cfg *cfg, const struct clock *clock, uint64_t id_seed,
		    struct err_info *info);
void arb_free(struct arb *a);

void arb_set_callback(struct arb *a, arb_opp_fn fn, void *ctx);

/* Installs g (taken) and returns the universe it replaces (returned owned,
 * NULL at first; free it with arb_graph_free, on any thread). Screens every
 * cycle once against the current books (about a millisecond for Kraken's
 * universe; no allocation). Between events. Books, fees and balances stay
 * bound by pair index / asset name. */
struct arb_graph *arb_install(struct arb *a, struct arb_graph *g);

/* Builds a universe like arb_graph_new with the detector's home assets and
 * cycle capacity, installs it and frees the old one. 0, or arb_graph_new's
 * errors (the old universe then stays). Between events only: allocates. */
int arb_set_universe(struct arb *a, const struct arb_pair *pairs, uint32_t n_pairs,
		     uint32_t max_cycles, struct err_info *info);

/* Changes one pair's status (online <-> maintenance, cancel_only...) and
 * rebuilds the universe, so its cycles leave (or rejoin) the index; until the
 * rebuild returns, the pair's cycles are also refused at evaluation
 * (ARB_V_NOT_TRADABLE). 0, ERR_NOTFOUND for a pair outside the universe, or
 * arb_set_universe's errors. Between events only: allocates. */
int arb_set_tradable(struct arb *a, uint32_t pair, bool tradable, struct err_info *info);

/* Binds pair's book (borrowed until unbound with NULL or arb_free). A pair
 * with no book bound makes its cycles ARB_V_NO_BOOK. The book's scales must
 * be the pair's: ERR_INVALID otherwise; ERR_NOTFOUND for pair >= ARB_MAX_PAIRS. */
int arb_bind_book(struct arb *a, uint32_t pair, const struct book *b);

/* Sets pair's taker fee in bps (account tier), or ARB_FEE_DEFAULT to fall
 * back to ARB_TAKER_FEE_BPS. 0, ERR_NOTFOUND, ERR_RANGE (> 10000 bps). */
int arb_set_fee(struct arb *a, uint32_t pair, double bps);

/* Sets the available balance of a home asset, in its units (default:
 * unlimited, so ARB_MAX_NOTIONAL alone bounds the size). 0, ERR_NOTFOUND for
 * an asset that is not a home asset, ERR_RANGE for a negative amount. */
int arb_set_balance(struct arb *a, const char *asset, double amount);

/* The hot path: pair's book was just updated by an event stamped trigger_ns
 * (monotonic ns, the "now" of every age check). Re-evaluates only the cycles
 * through pair, and hands each opportunity (at most ARB_MAX_EMIT, best profit
 * first) to the callback. Returns the number emitted, or ERR_NOTFOUND for a
 * pair outside the universe (counted). Never allocates.
 *
 * Call it after EVERY change of a bound book (book_end, book_invalidate,
 * book_clear), even when the result does not matter: the detector caches
 * each pair's top-of-book rates and which cycles pass the top-of-book screen,
 * and refreshes them here. Cycles are screened per side of the pair: a side
 * whose rate did not rise (an update below the top, or a price moving
 * against that side) cannot create an opportunity, so when it has no cycle
 * passing the screen it is not scanned; with neither side scanned the call
 * returns 0 at once (counted in events_skipped). */
int arb_on_book(struct arb *a, uint32_t pair, uint64_t trigger_ns);

/* Evaluates one cycle now (now_ns as for arb_on_book) into *out (filled for
 * ARB_V_OPP and ARB_V_BELOW_MIN, with id 0 and detect_ns 0: not an emitted
 * opportunity). For tests, the cycles command and re-checks before execution.
 * cycle >= arb_cycle_count() is ARB_V_NOT_TRADABLE. Never allocates. */
enum arb_verdict arb_eval_cycle(struct arb *a, uint32_t cycle, uint64_t now_ns,
				struct arb_opp *out);

/* ---- queries (the cycles command, the dashboard, tests) ---------------- */

uint32_t arb_cycle_count(const struct arb *a);
uint32_t arb_pair_count(const struct arb *a);
/* Index of symbol, or ERR_NOTFOUND. */
int arb_pair_find(const struct arb *a, const char *symbol, uint32_t *out);
/* The cycles through pair: *out receives a borrowed array of cycle indices
 * (valid until the next universe change); returns the count (0 for a pair
 * outside the universe or not tradable). */
uint32_t arb_cycles_through(const struct arb *a, uint32_t pair, const uint32_t **out);
/* Cycles with n_legs legs (3 or 4; 0 = any) starting at home (NULL = any). */
uint32_t arb_cycle_count_by(const struct arb *a, const char *home, unsigned n_legs);
/* A cycle's legs: n_legs, pair indices and sides, in order. 0 or ERR_NOTFOUND. */
int arb_cycle_legs(const struct arb *a, uint32_t cycle, unsigned *n_legs,
		   uint32_t pairs[ARB_MAX_LEGS], enum arb_side sides[ARB_MAX_LEGS]);
/* Writes "USD>BTC>ETH>USD", NUL terminated. Returns the length, ERR_NOTFOUND
 * or ERR_RANGE (cap too small; ARB_PATH_MAX always suffices). */
int arb_cycle_name(const struct arb *a, uint32_t cycle, char *buf, size_t cap);
/* The home assets in use, in ARB_HOME_ASSETS order; returns their number. */
unsigned arb_homes(const struct arb *a, const char *out[ARB_MAX_HOMES]);
void arb_stats(const struct arb *a, struct arb_stats *out);

/* ---- describing an opportunity (logs, records) ------------------------- */

/* Writes one line describing o: path, size, profit, bps, then each leg
 * ("BUY 0.01000000 BTC/USD @<= 50000.0 rate=..."), NUL terminated. Returns
 * the length or ERR_RANGE (truncated; 512 bytes always suffice). Any thread. */
int arb_opp_describe(const struct arb_opp *o, char *buf, size_t cap);

#endif

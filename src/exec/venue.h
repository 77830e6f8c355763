/* The venue seam: where orders go and execution reports come from. Live
 * (Kraken WS v2 private: add_order, executions, cancel_order, cancel_all),
 * paper (fills against the local books, exec/paper.c) and replay (recorded
 * books at t + latency) are the same code behind struct venue_ops.
 *
 * Threads: a venue belongs to the execution thread. Every op is called from
 * that thread only, and execution reports are delivered only from inside
 * poll(), on that thread, through the venue_report_fn given to poll. A live
 * venue whose transport runs on another thread queues what it receives and
 * hands it over in poll(); nothing here locks on the caller's side.
 *
 * Amounts are fixed point (core/fixed.h): prices at the pair's price_scale,
 * quantities at its qty_scale (both copied into every order and report), and
 * a report's fee and cost at fee_scale. A fee is charged in the quote asset
 * (Kraken's executions channel reports fees in the quote currency; a live
 * venue sends fee_preference "quote" so this holds for sells too).
 *
 * Client ids: every order carries a cl_ord_id unique across runs, at most
 * VENUE_CLID_KRAKEN_MAX characters of ASCII letters, digits and '-', so it is
 * valid as Kraken's free-text form (PROTOCOL.md §5.4). A venue keys its own
 * order table by it; query() looks orders up by it after a restart. */
#ifndef ARB_EXEC_VENUE_H
#define ARB_EXEC_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define VENUE_ID_MAX	      48 /* cl_ord_id, exchange order id, with NUL */
#define VENUE_CLID_KRAKEN_MAX 18 /* Kraken's free-text cl_ord_id limit */
#define VENUE_SYMBOL_MAX      32 /* "BTC/USD", with NUL */
#define VENUE_ASSET_MAX	      24
#define VENUE_REASON_MAX      96

enum venue_side { VENUE_BUY = 0, VENUE_SELL = 1 };
enum venue_order_type { VENUE_LIMIT = 0, VENUE_MARKET = 1 };
enum venue_tif { VENUE_IOC = 0, VENUE_GTC = 1 };

/* An order's state, as Kraken's order_status plus the outcomes the client
 * sees: REJECTED (refused before it lived: funds, minimums, bad price) and
 * UNKNOWN (the venue cannot say). FILLED, CANCELED, EXPIRED and REJECTED are
 * final; an IOC order always ends in one of them. */
enum venue_status {
	VENUE_ST_PENDING = 0, /* sent, not acknowledged (pending_new) */
	VENUE_ST_OPEN,	      /* live in the book (new) */
	VENUE_ST_PARTIAL,     /* partially_filled, still live */
	VENUE_ST_FILLED,
	VENUE_ST_CANCELED, /* IOC remainder cancelled counts here, with filled_qty */
	VENUE_ST_EXPIRED,
	VENUE_ST_REJECTED,
	VENUE_ST_UNKNOWN
};

/* "pending", "open", "partially_filled", "filled", "canceled", "expired",
 * "rejected", "unknown" (store's status names). Static. */
const char *venue_status_name(enum venue_status s);
static inline bool venue_status_final(enum venue_status s)
{
	return s == VENUE_ST_FILLED || s == VENUE_ST_CANCELED || s == VENUE_ST_EXPIRED ||
	       s == VENUE_ST_REJECTED;
}

/* An order as the sequencer sends it. Plain record, copied by place(). */
struct venue_order {
	char cl_ord_id[VENUE_ID_MAX];
	char symbol[VENUE_SYMBOL_MAX];
	uint32_t pair_id; /* the instrument table's dense id (kraken/codec.h) */
	enum venue_side side;
	enum venue_order_type type;
	enum venue_tif tif;
	int price_scale;
	int qty_scale;
	int64_t limit_price; /* > 0 for LIMIT; 0 for MARKET */
	int64_t qty;	     /* > 0, base asset, a multiple of the pair's qty_increment */
	uint64_t sent_ns;    /* monotonic (or replay) time of the place() call */
	/* The opportunity's detection (monotonic) for the orders a cycle
	 * starts with, 0 for the others: a live venue measures "opportunity
	 * to first order on the wire" from it. */
	uint64_t origin_ns;
};

/* An execution report: the order's state after an event. Amounts are
 * cumulative for the order (not per fill), so the latest report says it all
 * and a repeated or lost intermediate report does no harm. */
struct venue_report {
	char cl_ord_id[VENUE_ID_MAX];
	char order_id[VENUE_ID_MAX]; /* the venue's id; "" until acknowledged */
	char symbol[VENUE_SYMBOL_MAX];
	char fee_asset[VENUE_ASSET_MAX]; /* "" when no fee yet */
	char reason[VENUE_REASON_MAX];	 /* reject / cancel reason; "" none */
	enum venue_status status;
	enum venue_side side;
	int price_scale;
	int qty_scale;
	int fee_scale;	    /* scale of fee and cost: min(price_scale + qty_scale, 18) */
	int64_t qty;	    /* ordered quantity */
	int64_t filled_qty; /* cumulative, at qty_scale */
	int64_t avg_price;  /* volume-weighted, at price_scale, rounded to nearest; 0 unfilled */
	/* Cumulative quote amount filled (sum of qty * price), at fee_scale.
	 * Required whenever filled_qty > 0 (Kraken's cum_cost): the sequencer
	 * books the cycle's ledger from it, not from avg_price. */
	int64_t cost;
	int64_t fee;	/* cumulative, in fee_asset, at fee_scale */
	uint64_t ts_ns; /* monotonic (or replay) time of the event */
};

/* One asset balance. */
struct venue_balance {
	char asset[VENUE_ASSET_MAX];
	int scale;
	int64_t amount;
};

/* Receives one report. r is borrowed for the call. Called only from poll(). */
typedef void (*venue_report_fn)(void *arg, const struct venue_report *r);

struct venue_ops {
	const char *name; /* "paper", "live", "replay" */

	/* Sends o (copied). 0: accepted for sending; what happens to it comes
	 * as reports from poll(), a refusal too. An error means the order was
	 * certainly not sent: ERR_INVALID (bad field), ERR_FULL (order table
	 * full), ERR_RATELIMIT, ERR_BADSTATE (not connected), ERR_NOTFOUND
	 * (unknown pair). ERR_UNKNOWN: it may have been sent; query() later.
	 * A second place() with a cl_ord_id the venue already holds is refused
	 * with ERR_INVALID and never reaches the exchange. */
	int (*place)(void *ctx, const struct venue_order *o);

	/* Optional (NULL: none). Sends 2..15 orders of one symbol as one
	 * request (Kraken's batch_add), each then like a place(): reports per
	 * order. Refused as a whole before sending (ERR_INVALID: fewer than 2,
	 * more than 15, symbols differ, a bad field or a repeated cl_ord_id)
	 * or accepted as a whole. */
	int (*place_batch)(void *ctx, const struct venue_order *o, size_t n);

	/* Asks to cancel one order by cl_ord_id. 0 requested (a report
	 * follows), ERR_NOTFOUND when the venue knows no such open order. */
	int (*cancel)(void *ctx, const char *cl_ord_id);

	/* Cancels every open order of the account (the kill switch). 0 when
	 * requested; reports follow. */
	int (*cancel_all)(void *ctx);

	/* The latest state of an order by cl_ord_id, into *out: 0, or
	 * ERR_NOTFOUND when the venue never received it (then it is safe to
	 * consider it not sent), ERR_NET/ERR_TIMEOUT when it cannot tell now.
	 * May block briefly (a live venue asks REST); start-up and reconcile
	 * only, never between legs. */
	int (*query)(void *ctx, const char *cl_ord_id, struct venue_report *out);

	/* Copies up to cap balances into out and sets *n. 0 or an error. */
	int (*balances)(void *ctx, struct venue_balance *out, size_t cap, size_t *n);

	/* Does the venue's due work at now_ns (paper: fills orders whose
	 * latency has passed; live: drains reports the transport received) and
	 * delivers reports to fn(arg, report), in the order they happened.
	 * Returns the number of reports delivered, or a negative error. */
	int (*poll)(void *ctx, uint64_t now_ns, venue_report_fn fn, void *arg);

	/* Optional (NULL: none). Goes through place()'s steps on a made-up
	 * order without sending or keeping anything, so that their code and
	 * data are in cache when a real order comes: opportunities are rare,
	 * and a path that runs once a second runs cold. */
	void (*warm)(void *ctx);

	/* Frees the venue; NULL ctx does nothing. */
	void (*destroy)(void *ctx);
};

/* A venue: ops plus its state. The sequencer borrows it. */
struct venue {
	const struct venue_ops *ops;
	void *ctx;
};

#endif

/* Shared by the sim module's .c files only: the seams between the simulator's
 * parts, which are written by different hands.
 *
 *   sim.c, market.c, scenario.c, ws_public.c, control.c  the server loop
 *       (libwebsockets, one service thread), the scenario, the books, the
 *       public WS v2 side and the fault/control endpoint;
 *   account.c, rest.c  balances, orders and the matching engine, and the
 *       REST side (libmicrohttpd, its own thread);
 *   ws_private.c  the private WS v2 side (auth endpoint, executions,
 *       balances, add_order...), on the server loop.
 *
 * Locking: the market (pairs and books) and the accounts are one state shared
 * by the WS thread and the REST thread; every access holds sim__lock(). The
 * simulator is not on the bot's hot path, so a mutex is the plain choice. */
#ifndef ARB_SIM_SIM_INT_H
#define ARB_SIM_SIM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book/book.h"
#include "core/err.h"
#include "kraken/codec.h"
#include "sim/sim.h"

/* ---- The shared state lock (sim.c) ---- */
void sim__lock(struct sim *s);
void sim__unlock(struct sim *s);

/* ---- Market (market.c), under sim__lock ---- */
/* Pairs of the universe, dense index 0..n-1. Borrowed until sim_free. */
size_t sim__pair_count(const struct sim *s);
const struct kr_pair *sim__pair(const struct sim *s, size_t i);
/* Index of symbol ("BTC/USD"), or -1. */
long sim__pair_find(const struct sim *s, const char *symbol);
/* The simulator's own full book for pair i (the truth it publishes);
 * borrowed, valid while the lock is held. */
const struct book *sim__book(const struct sim *s, size_t i);
/* Takes liquidity from pair i's book after a fill: removes qty from the
 * levels the order walked (side: the book side consumed, 'b' bids or 'a'
 * asks) so the next WS update publishes the change with a correct checksum. */
int sim__book_consume(struct sim *s, size_t i, char side, int64_t limit_price, int64_t qty);
/* The system status now (scripted faults may change it). */
enum kr_system_status sim__system_status(const struct sim *s);

/* ---- The scenario (sim.c keeps the file's text for the life of the sim) ---- */
const char *sim__scenario_text(const struct sim *s, size_t *len);

/* ---- Accounts and REST (account.c, rest.c) ---- */
struct sim_accounts;
/* The slot in struct sim where account.c keeps its state. */
struct sim_accounts **sim__accounts_slot(struct sim *s);
/* Builds the accounts from the scenario's "accounts" section (API keys,
 * base64 secrets, balances, fee tiers) and stores them in the slot. Called by
 * sim_new after the market is built; sim__accounts_free by sim_free. */
int sim__accounts_init(struct sim *s, struct err_info *info);
void sim__accounts_free(struct sim *s);
/* Starts the REST server on host:port (0 = any free port) and reports the
 * bound port. Called by sim_new after the market is built. */
int sim__rest_start(struct sim *s, const char *host, uint16_t port, uint16_t *bound,
		    struct err_info *info);
/* Stops it (joins its threads). Called by sim_free; safe when not started. */
void sim__rest_stop(struct sim *s);

/* ---- WS connections (ws_public.c), appended by the simulator core ----
 * Both paths (/v2 and /v2-auth) are served by one lws protocol in
 * ws_public.c, on the server loop thread. A /v2-auth connection gets the same
 * status, ping and public channels; every other request on it is handed to
 * the private side through the ops registered with sim__ws_private_set (the
 * calls below come with sim__lock held, on the server loop thread). */
struct sim_conn;
struct sim_ws_private_ops {
	/* A text frame on /v2-auth the public side does not handle (a method
	 * other than ping, or a subscribe/unsubscribe to a channel other than
	 * book and instrument). frame is borrowed for the call. Return 0 when
	 * handled (the reply queued with sim__conn_send), ERR_NOTFOUND to let the
	 * public side reply that the method is not supported. */
	int (*on_request)(struct sim *s, struct sim_conn *c, const char *frame, size_t len);
	/* The connection closes; free what *sim__conn_private_slot holds. */
	void (*on_close)(struct sim *s, struct sim_conn *c);
	/* After sim__wake, and on every market tick (10 ms): push what other
	 * threads (REST fills) queued. May be NULL. */
	void (*on_tick)(struct sim *s);
};
/* Registers ops (borrowed until sim_free); NULL unregisters. Before sim_run,
 * e.g. from sim__accounts_init. */
void sim__ws_private_set(struct sim *s, const struct sim_ws_private_ops *ops);
/* Queues one text frame (copied) on c. Returns 0, or ERR_FULL when c's queue
 * is over its cap (c is then closed as a slow consumer). Server loop only. */
int sim__conn_send(struct sim_conn *c, const char *msg, size_t len);
/* True for a connection on /v2-auth. */
bool sim__conn_is_private(const struct sim_conn *c);
/* The connection_id sent in its status message. */
uint64_t sim__conn_id(const struct sim_conn *c);
/* A slot for the private side's per-connection state (NULL at open). */
void **sim__conn_private_slot(struct sim_conn *c);
/* Calls each connection's fn on the server loop (e.g. to push balances to
 * every private connection). */
void sim__conn_foreach(struct sim *s, void (*fn)(struct sim_conn *c, void *arg), void *arg);
/* Wakes the server loop from any thread (on_tick runs soon after). */
void sim__wake(struct sim *s);

/* ---- Accounts API (account.c), for rest.c and the private WS side ----
 * Every call below must be made with sim__lock held. Amounts: order prices
 * and quantities at the pair's price_precision / qty_precision; balances,
 * costs and fees at SIM_BAL_SCALE decimals. Asset names are the scenario's
 * ("USD", "BTC"), pairs are found by symbol ("BTC/USD"). Errors are Kraken's
 * own strings (PROTOCOL.md §9), static, e.g. "EOrder:Insufficient funds". */
#define SIM_BAL_SCALE  10
#define SIM_ASSETS_MAX 32
#define SIM_ORDERS_MAX 4096
#define SIM_TXID_MAX   24
#define SIM_CLOID_MAX  48
#define SIM_KEY_MAX    128

enum sim_side { SIM_BUY = 0, SIM_SELL };
enum sim_ordertype { SIM_MARKET = 0, SIM_LIMIT };
enum sim_tif { SIM_GTC = 0, SIM_IOC };
enum sim_order_status {
	SIM_ORDER_OPEN = 0,
	SIM_ORDER_CLOSED,
	SIM_ORDER_CANCELED,
	SIM_ORDER_EXPIRED
};

struct sim_order_req {
	size_t pair; /* index of sim__pair */
	enum sim_side side;
	enum sim_ordertype type;
	enum sim_tif tif;
	int64_t qty;   /* > 0, pair qty scale */
	int64_t price; /* limit price, pair price scale; ignored for market */
	bool post_only;
	char fee_in; /* 0 (Kraken's default: quote when buying, base when selling), 'b', 'q' */
	bool has_userref;
	int64_t userref;
	char cl_ord_id[SIM_CLOID_MAX];
	bool validate; /* check everything, place nothing */
};

struct sim_order {
	char txid[SIM_TXID_MAX];
	size_t account;
	size_t pair;
	struct sim_order_req req;
	enum sim_order_status status;
	int64_t vol_exec;	   /* pair qty scale */
	int64_t cost;		   /* quote, SIM_BAL_SCALE */
	int64_t fee;		   /* in fee_asset, SIM_BAL_SCALE */
	char fee_asset;		   /* 'b' or 'q' */
	int64_t hold;		   /* funds held for the open remainder, SIM_BAL_SCALE */
	int64_t open_ns, close_ns; /* wall clock */
	const char *reason;	   /* static; NULL while open */
};

/* One event for the executions listener: an order's state after a change. */
enum sim_exec_kind {
	SIM_EXEC_NEW = 0,
	SIM_EXEC_TRADE,
	SIM_EXEC_FILLED,
	SIM_EXEC_CANCELED,
	SIM_EXEC_EXPIRED
};
struct sim_exec {
	enum sim_exec_kind kind;
	const struct sim_order *order; /* borrowed for the call */
	int64_t last_qty, last_price;  /* SIM_EXEC_TRADE: this fill, pair scales */
	int64_t last_fee;	       /* this fill's fee, SIM_BAL_SCALE */
	char liquidity;		       /* 't' taker, 'm' maker */
	char exec_id[SIM_TXID_MAX];
};
/* Called under sim__lock, on the thread that changed the order (REST or WS):
 * copy what is needed and sim__wake; do not call back into the accounts. */
typedef void (*sim_exec_fn)(void *ctx, const struct sim_exec *e);
/* Sets the one listener (NULL clears). Also called when balances change
 * (e == NULL then). */
void sim__exec_listen(struct sim *s, sim_exec_fn fn, void *ctx);

size_t sim__account_count(struct sim *s);
/* The account with this API key, or -1. */
long sim__account_find(struct sim *s, const char *api_key);
/* Issues a WebSocket token for the account (copied into out, cap >= 48). */
int sim__account_token(struct sim *s, size_t acct, char *out, size_t cap);
/* The account a WS token belongs to, or -1 (unknown or expired). */
long sim__token_account(struct sim *s, const char *token, int64_t now_ns);

struct sim_balance {
	char asset[16];
	int64_t total; /* SIM_BAL_SCALE */
	int64_t hold;  /* held by open orders */
};
/* Copies up to cap balances; returns how many the account has. */
size_t sim__balances(struct sim *s, size_t acct, struct sim_balance *out, size_t cap);
/* The account's fees in basis points. */
void sim__account_fees(struct sim *s, size_t acct, int *taker_bps, int *maker_bps);

/* Checks and executes an order: market and limit, IOC and GTC, against the
 * pair's book (sim__book_consume after fills), fees at the taker rate,
 * balances updated; a GTC remainder rests (funds held). *out receives the
 * order. Returns 0, or ERR_REJECTED with *err set to Kraken's text. */
int sim__order_place(struct sim *s, size_t acct, const struct sim_order_req *r,
		     struct sim_order *out, const char **err);
/* Cancels by txid, by userref (txid holding its decimal text) or by
 * cl_ord_id (txid NULL). *count: how many were cancelled. ERR_REJECTED with
 * "EOrder:Unknown order" when none matched. */
int sim__order_cancel(struct sim *s, size_t acct, const char *txid, const char *cl_ord_id,
		      int *count, const char **err);
int sim__order_cancel_all(struct sim *s, size_t acct, int *count);
/* Dead man's switch: cancel everything at now + timeout_s (0 disables).
 * *trigger_ns receives the deadline (0 when disabled). */
int sim__cancel_all_after(struct sim *s, size_t acct, uint32_t timeout_s, int64_t now_ns,
			  int64_t *trigger_ns);
/* Fires due dead man's switches. Called by the REST thread every 100 ms and
 * may be called by the server loop. */
void sim__accounts_tick(struct sim *s, int64_t now_ns);
/* The account's orders, oldest first: calls fn for each (open_only: only
 * open ones). Pointers are borrowed for the call. */
void sim__orders_each(struct sim *s, size_t acct, bool open_only,
		      void (*fn)(void *ctx, const struct sim_order *o), void *ctx);
/* The order with txid, or NULL. Borrowed while the lock is held. */
const struct sim_order *sim__order_get(struct sim *s, size_t acct, const char *txid);
/* Test hook: the next n private REST answers are delayed by ms after the
 * request is processed (a lost answer: the client times out). */
void sim__rest_delay_next(struct sim *s, unsigned n, unsigned ms);

/* ---- The private WS side (ws_private.c), appended by its author ----
 * sim_new calls sim__ws_private_init after sim__accounts_init (it registers
 * the ops above and the executions listener); sim_free calls
 * sim__ws_private_free before the accounts go. */
void **sim__ws_private_slot(struct sim *s); /* sim.c: the private side's state */
int sim__ws_private_init(struct sim *s, struct err_info *info);
void sim__ws_private_free(struct sim *s);
/* Scripted faults for the next add_order (control endpoint, under the lock):
 * REJECT_NEXT refuses it with text (NULL: "EGeneral:Internal error");
 * PARTIAL_NEXT fills only value percent (1..99) and cancels the rest;
 * DELAY_ACK handles it (ack and executions) value ms (1..60000) late.
 * 0, ERR_RANGE for a bad value, ERR_BADSTATE before init. */
enum sim_priv_fault { SIM_PRIV_REJECT_NEXT = 0, SIM_PRIV_PARTIAL_NEXT, SIM_PRIV_DELAY_ACK };
int sim__ws_private_fault(struct sim *s, enum sim_priv_fault f, unsigned value, const char *text);

#endif

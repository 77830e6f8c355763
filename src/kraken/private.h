/* Kraken WebSocket v2 private channels and trading methods (PROTOCOL.md §5):
 * a decoder for what ws-auth.kraken.com/v2 sends (executions, balances,
 * method replies, status, heartbeat, pong) and encoders for what a client
 * sends (subscribe with token, add_order, cancel_order, cancel_all,
 * cancel_all_orders_after, ping).
 *
 * Amounts come out as struct kr_dec (kraken/rest.h): the exact decimal the
 * frame carried, at its own scale. Status events name no symbol, so the
 * caller, which knows the order, converts them to the pair's scales.
 *
 * Threads: a decoder belongs to one thread; the encoders are pure. Decoding
 * never allocates: tokens and entries live in arrays allocated by
 * kr_priv_decoder_new. Tokens are credentials: never log an encoded request. */
#ifndef ARB_KRAKEN_PRIVATE_H
#define ARB_KRAKEN_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "kraken/codec.h"
#include "kraken/rest.h"

#define KR_PRIV_ID_MAX	  48  /* order_id, cl_ord_id, exec_id, with NUL */
#define KR_PRIV_TEXT_MAX  128 /* error and reason strings, with NUL */
#define KR_PRIV_BATCH_MAX 15  /* batch_add results */
#define KR_PRIV_TOKENS	  8192
#define KR_PRIV_ENTRIES	  256 /* data[] entries kept per message */

enum kr_priv_kind {
	KR_PRIV_NONE = 0,
	KR_PRIV_EXECUTIONS, /* executions channel snapshot or update */
	KR_PRIV_BALANCES,   /* balances channel snapshot or update */
	KR_PRIV_REPLY,	    /* a method reply (subscribe, add_order, ..., pong) */
	KR_PRIV_STATUS,	    /* status channel */
	KR_PRIV_HEARTBEAT,
	KR_PRIV_OTHER, /* another channel: ignored */
};

/* exec_type values (PROTOCOL.md §5.2). */
enum kr_exec_type {
	KR_EXEC_OTHER = 0, /* iceberg_refill, amended, restated, status, unknown */
	KR_EXEC_PENDING_NEW,
	KR_EXEC_NEW,
	KR_EXEC_TRADE,
	KR_EXEC_FILLED,
	KR_EXEC_CANCELED,
	KR_EXEC_EXPIRED,
};

/* order_status values. */
enum kr_ord_status {
	KR_ORD_NONE = 0, /* absent */
	KR_ORD_PENDING_NEW,
	KR_ORD_NEW,
	KR_ORD_PARTIALLY_FILLED,
	KR_ORD_FILLED,
	KR_ORD_CANCELED,
	KR_ORD_EXPIRED,
};

/* One execution report. Fields a message left out are flagged absent. */
struct kr_priv_exec {
	enum kr_exec_type exec_type;
	enum kr_ord_status order_status;
	char order_id[KR_PRIV_ID_MAX];
	char cl_ord_id[KR_PRIV_ID_MAX]; /* "" when absent */
	bool has_userref;
	int64_t order_userref;
	char symbol[KR_SYMBOL_MAX]; /* "" when absent (status events) */
	char side;		    /* 'b', 's', or 0 when absent */
	char order_type[24];
	char time_in_force[8]; /* "GTC", "IOC", "GTD", "" */
	char exec_id[KR_PRIV_ID_MAX];
	char reason[KR_PRIV_TEXT_MAX];
	bool has_order_qty, has_limit_price, has_cum_qty, has_cum_cost, has_avg_price;
	bool has_last_qty, has_last_price, has_fee;
	struct kr_dec order_qty, limit_price, cum_qty, cum_cost, avg_price;
	struct kr_dec last_qty, last_price;
	struct kr_dec fee;	      /* the sum of fees[].qty: this event's fee (trade events) */
	char fee_asset[KR_ASSET_MAX]; /* fees[0].asset; "" when absent */
	int64_t timestamp_ns;	      /* 0 when absent */
};

/* One balances entry: a snapshot asset or an update ledger transaction. */
struct kr_priv_balance {
	char asset[KR_ASSET_MAX];
	struct kr_dec balance; /* total after the transaction */
	bool has_amount;       /* updates */
	struct kr_dec amount;  /* signed change */
	struct kr_dec fee;
	char type[24]; /* "trade", "deposit", ...; "" in a snapshot */
	char ref_id[KR_PRIV_ID_MAX];
};

/* A method reply. */
struct kr_priv_result {
	char order_id[KR_PRIV_ID_MAX];
	char cl_ord_id[KR_PRIV_ID_MAX];
	bool has_userref;
	int64_t order_userref;
};
struct kr_priv_reply {
	char method[32]; /* "add_order", "pong", "subscribe", ... */
	bool success;
	char error[KR_PRIV_TEXT_MAX]; /* Kraken's text when success is false */
	bool has_req_id;
	uint64_t req_id;
	char channel[24]; /* subscribe / unsubscribe: result.channel */
	/* add_order, cancel_order: results[0]; batch_add: one per order. */
	size_t n_results;
	struct kr_priv_result results[KR_PRIV_BATCH_MAX];
	bool has_count; /* cancel_all */
	int64_t count;
	int64_t current_ns, trigger_ns; /* cancel_all_orders_after; 0 absent */
	int64_t time_in_ns, time_out_ns;
};

struct kr_priv_msg {
	enum kr_priv_kind kind;
	bool snapshot;
	bool has_sequence;
	uint64_t sequence;
	size_t n;			   /* entries in exec or bal */
	const struct kr_priv_exec *exec;   /* KR_PRIV_EXECUTIONS; borrowed until the next decode */
	const struct kr_priv_balance *bal; /* KR_PRIV_BALANCES; likewise */
	struct kr_priv_reply reply;	   /* KR_PRIV_REPLY */
	enum kr_system_status system;	   /* KR_PRIV_STATUS */
};

struct kr_priv_decoder;

/* max_tokens 0: KR_PRIV_TOKENS; max_entries 0: KR_PRIV_ENTRIES. Returned
 * owned, NULL when out of memory. Start-up only. */
struct kr_priv_decoder *kr_priv_decoder_new(size_t max_tokens, size_t max_entries);
void kr_priv_decoder_free(struct kr_priv_decoder *d); /* NULL does nothing */

/* Decodes one frame (borrowed for the call) into *out. Returns 0, ERR_PARSE
 * (not JSON, or too many tokens), ERR_SCHEMA (a known message with a missing
 * or mistyped field: info names it) or ERR_FULL (more data[] entries than
 * max_entries: the first max_entries are kept and returned, the rest
 * counted as lost). Never allocates. */
int kr_priv_decode(struct kr_priv_decoder *d, const char *frame, size_t len,
		   struct kr_priv_msg *out, struct err_info *info);

/* Names for logs; static. */
const char *kr_exec_type_str(enum kr_exec_type t);
const char *kr_ord_status_str(enum kr_ord_status s);

/* ---- Encoders: each writes one request, NUL terminated, and returns its
 * length, or ERR_RANGE when cap is too small, ERR_INVALID for a bad field
 * (a token or id with characters that would need escaping). ---- */

/* {"method":"subscribe","params":{"channel":"executions","token":T,
 *  "snap_orders":B,"snap_trades":B},"req_id":N} */
int kr_priv_encode_sub_executions(char *buf, size_t cap, const char *token, bool snap_orders,
				  bool snap_trades, uint64_t req_id);
/* {"method":"subscribe","params":{"channel":"balances","token":T,"snapshot":true},...} */
int kr_priv_encode_sub_balances(char *buf, size_t cap, const char *token, uint64_t req_id);

/* An order for add_order. Amounts at the scales given. */
struct kr_priv_order {
	const char *symbol;
	bool buy;
	bool market; /* else limit */
	bool ioc;    /* else gtc */
	int64_t qty;
	int qty_scale;
	int64_t limit_price; /* limit orders */
	int price_scale;
	const char *cl_ord_id;	    /* NULL or "" none */
	const char *fee_preference; /* NULL, "base" or "quote" */
	/* Wall ns after which the engine must not match it ("deadline", sent
	 * with ms precision; Kraken allows 500 ms .. 60 s ahead); 0: none. */
	int64_t deadline_ns;
};
int kr_priv_encode_add_order(char *buf, size_t cap, const struct kr_priv_order *o,
			     const char *token, uint64_t req_id);
/* batch_add (PROTOCOL.md 5.5): 2..KR_PRIV_BATCH_MAX orders of one symbol
 * (the first's; another symbol is ERR_INVALID), the deadline from the
 * first. Returns the length, ERR_INVALID or ERR_RANGE. */
int kr_priv_encode_batch_add(char *buf, size_t cap, const struct kr_priv_order *o, size_t n,
			     const char *token, uint64_t req_id);
/* cancel_order by one cl_ord_id (or, when cl_ord_id is NULL, one order_id). */
int kr_priv_encode_cancel_order(char *buf, size_t cap, const char *order_id, const char *cl_ord_id,
				const char *token, uint64_t req_id);
int kr_priv_encode_cancel_all(char *buf, size_t cap, const char *token, uint64_t req_id);
/* timeout_s < 86400; 0 disables. */
int kr_priv_encode_cancel_after(char *buf, size_t cap, uint32_t timeout_s, const char *token,
				uint64_t req_id);

#endif

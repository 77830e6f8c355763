/* Kraken REST client (PROTOCOL.md §6-9) on libcurl.
 *
 * One client holds one reused curl easy handle (so the TLS connection is
 * kept alive between calls), the API key pair and the nonce generator it was
 * given, and a model of Kraken's per-key REST call counter (§8.1): before a
 * private call that would push the counter past the tier maximum, the client
 * waits for it to decay instead of earning "EAPI:Rate limit exceeded".
 *
 * Calls are serialised by a mutex inside the client: concurrent callers are
 * safe, each private request takes its own nonce while it holds the lock, so
 * nonces reach Kraken in the order they were issued.
 *
 * REST is not the hot path: calls block (up to the configured timeout, plus
 * rate-limit waits), and results are fixed-size structs or lists returned
 * owned. Never call these from the market-data thread.
 *
 * Errors. Every call returns 0 or a negative code, with detail in err_info:
 *   ERR_EXCHANGE   Kraken's envelope carried an error; info->msg starts with
 *                  Kraken's text exactly ("EOrder:Insufficient funds"), then
 *                  the method in parentheses;
 *   ERR_AUTH       "EAPI:Invalid key", "EAPI:Invalid signature",
 *                  "EAPI:Invalid nonce" (text in info as above);
 *   ERR_REJECTED   "EGeneral:Permission denied" (text as above);
 *   ERR_RATELIMIT  "EAPI:Rate limit exceeded" or "EService: Throttled"
 *                  after the retries allowed for the call (text as above);
 *   ERR_NET        transport failure (connect refused, DNS, TLS), or an
 *                  HTTP status other than 200;
 *   ERR_TIMEOUT    no complete answer within KRAKEN_REST_TIMEOUT_MS;
 *   ERR_PARSE / ERR_SCHEMA  a malformed, truncated or oddly shaped answer;
 *   ERR_UNKNOWN    AddOrder / AddOrderBatch was sent but its outcome is not
 *                  known (timeout, broken answer): the order may exist. The
 *                  client never re-sends it; call kr_rest_reconcile.
 *   ERR_BADSTATE   a private call on a client without credentials.
 * Retries (with backoff) happen only for calls that are safe to repeat:
 * public GETs and private queries. Cancels and orders are never retried.
 *
 * Amounts are fixed point: struct kr_dec keeps the integer and the number of
 * decimals of the text Kraken sent, so nothing is lost or rounded. */
#ifndef ARB_KRAKEN_REST_H
#define ARB_KRAKEN_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/secret.h"
#include "kraken/codec.h"
#include "kraken/sign.h"

#define KR_REST_NAME_MAX   32	       /* asset, pair id or altname, with NUL */
#define KR_REST_TXID_MAX   32	       /* "OU22CG-KLAF2-FWUDD7" with NUL */
#define KR_REST_CLOID_MAX  48	       /* cl_ord_id (UUID or 18 chars), with NUL */
#define KR_REST_DESCR_MAX  128	       /* descr.order, with NUL */
#define KR_REST_TOKEN_MAX  128	       /* GetWebSocketsToken token, with NUL */
#define KR_REST_MAX_ASSETS 512	       /* entries in one Balance answer */
#define KR_REST_MAX_FEES   64	       /* pairs in one TradeVolume answer */
#define KR_REST_MAX_DEPTH  500	       /* levels per side (Kraken's count limit) */
#define KR_REST_MAX_BATCH  15	       /* orders in one AddOrderBatch */
#define KR_REST_MAX_BODY   (16u << 20) /* a larger answer is ERR_RANGE */

/* A decimal amount: v * 10^-scale, exactly as the text said. */
struct kr_dec {
	int64_t v;
	int scale; /* 0..18 */
};

/* Parses decimal text of len bytes ("30300.10000", "1e-08", "-2") into d at
 * the smallest scale that holds it exactly. Returns 0, ERR_PARSE or
 * ERR_RANGE (more than 18 decimals or out of int64 range). Any thread. */
int kr_dec_parse(const char *s, size_t len, struct kr_dec *d);
/* d at scale (rounding toward zero when shrinking). 0, ERR_RANGE, ERR_INVALID. */
int kr_dec_to_scale(struct kr_dec d, int scale, int64_t *out);
/* Writes d as text with its own decimals (fx_format). Length or ERR_RANGE. */
int kr_dec_format(struct kr_dec d, char *buf, size_t cap);
/* d as a double, for display and rates only. */
double kr_dec_double(struct kr_dec d);

/* ---- client lifecycle --------------------------------------------------- */

struct kr_rest_opts {
	const char *base_url;		 /* "https://api.kraken.com"; http only to loopback */
	const struct secret *api_key;	 /* borrowed until kr_rest_free; NULL: public only */
	const struct secret *api_secret; /* base64 text, borrowed likewise */
	struct kr_nonce *nonce;		 /* borrowed likewise; required with a key */
	uint32_t timeout_ms;		 /* total per attempt; 0 = 10000 */
	uint32_t connect_timeout_ms;	 /* 0 = min(timeout_ms, 5000) */
	const char *tier;		 /* "starter" (default), "intermediate", "pro" */
	double rate_max;		 /* > 0 overrides the tier's counter maximum */
	double rate_decay_per_s;	 /* > 0 overrides the tier's decay */
	uint32_t max_retries;		 /* for safe calls; 0 = 2 */
	uint32_t backoff_ms;		 /* first backoff after a server rate limit; 0 = 1000 */
	const char *user_agent;		 /* NULL = "arbitrade/<version>" */
};

struct kr_rest_stats {
	uint64_t requests;	      /* HTTP requests sent (attempts) */
	uint64_t retries;	      /* attempts after the first */
	uint64_t rate_waits;	      /* private calls that waited for the counter */
	uint64_t rate_wait_ns;	      /* total time spent waiting for it */
	uint64_t server_rate_limited; /* answers saying the rate limit was exceeded */
	uint64_t timeouts;
	uint64_t net_errors;
	uint64_t bad_answers;	   /* ERR_PARSE / ERR_SCHEMA answers */
	uint64_t exchange_errors;  /* envelopes with an error */
	uint64_t unknown_outcomes; /* ERR_UNKNOWN results */
};

struct kr_rest;

/* Creates a client. Checks the URL (https://, or http:// to 127.0.0.1,
 * localhost or [::1] only), creates the curl handle and sets the timeouts.
 * Returned owned: free with kr_rest_free; NULL with info filled
 * (ERR_INVALID, ERR_CONFIG, ERR_NOMEM). Start-up; any thread. */
struct kr_rest *kr_rest_new(const struct kr_rest_opts *opts, struct err_info *info);
/* Frees c. kr_rest_free(NULL) does nothing. No call may be running. */
void kr_rest_free(struct kr_rest *c);
/* Copies the counters. Any thread. */
void kr_rest_get_stats(struct kr_rest *c, struct kr_rest_stats *out);
/* The modelled REST counter now (after decay). Any thread. */
double kr_rest_rate_level(struct kr_rest *c);

/* ---- raw calls ------------------------------------------------------------ */

/* A parsed answer: the body (owned) and the token index of "result". */
struct kr_rest_resp;
/* Frees r. NULL does nothing. */
void kr_rest_resp_free(struct kr_rest_resp *r);
/* The body text (borrowed until kr_rest_resp_free). */
const char *kr_rest_resp_body(const struct kr_rest_resp *r, size_t *len);

/* GET /0/public/<method>?<query> (query may be NULL; already encoded).
 * On success *out is returned owned. Retried when safe. */
int kr_rest_public(struct kr_rest *c, const char *method, const char *query,
		   struct kr_rest_resp **out, struct err_info *info);
/* POST /0/private/<method> with body "nonce=N" followed by "&<params>" when
 * params (form-encoded, borrowed) is not NULL or empty. Signed with API-Sign.
 * safe says whether the call may be repeated (queries). */
int kr_rest_private(struct kr_rest *c, const char *method, const char *params, bool safe,
		    struct kr_rest_resp **out, struct err_info *info);

/* Appends "&key=value" (value percent-encoded) to buf holding *len bytes,
 * NUL-terminated. Returns 0 or ERR_RANGE. A first append omits the '&'. */
int kr_rest_form_add(char *buf, size_t cap, size_t *len, const char *key, const char *value);

/* ---- public endpoints ----------------------------------------------------- */

struct kr_rest_time {
	int64_t unixtime;
	char rfc1123[40];
};
int kr_rest_time(struct kr_rest *c, struct kr_rest_time *out, struct err_info *info);

struct kr_rest_status {
	enum kr_system_status status;
	char status_text[24];
	int64_t timestamp_ns; /* 0 when absent */
};
int kr_rest_system_status(struct kr_rest *c, struct kr_rest_status *out, struct err_info *info);

struct kr_rest_asset {
	char id[KR_REST_NAME_MAX]; /* "XXBT" */
	char altname[KR_REST_NAME_MAX];
	int decimals;
	int display_decimals;
	char status[32];
};
/* A list; returned owned by the calls that fill it, free with kr_rest_list_free. */
struct kr_rest_assets {
	size_t n;
	struct kr_rest_asset *v;
};
/* assets: comma list ("XBT,ETH"), or NULL for all. */
int kr_rest_assets(struct kr_rest *c, const char *assets, struct kr_rest_assets *out,
		   struct err_info *info);

struct kr_rest_pair {
	char id[KR_REST_NAME_MAX];	/* "XXBTZUSD" */
	char altname[KR_REST_NAME_MAX]; /* "XBTUSD" */
	char wsname[KR_REST_NAME_MAX];	/* "XBT/USD" (v1 name) */
	char base[KR_REST_NAME_MAX];	/* "XXBT" */
	char quote[KR_REST_NAME_MAX];	/* "ZUSD" */
	int pair_decimals;
	int lot_decimals;
	int cost_decimals;
	struct kr_dec ordermin;	 /* base units */
	struct kr_dec costmin;	 /* quote units; 0 when absent */
	struct kr_dec tick_size; /* 0 when absent */
	struct kr_dec taker_fee; /* percent, first tier of "fees"; 0 when absent */
	struct kr_dec maker_fee; /* percent, first tier of "fees_maker" */
	char status[24];
};
struct kr_rest_pairs {
	size_t n;
	struct kr_rest_pair *v;
};
/* pairs: comma list, or NULL for all. */
int kr_rest_asset_pairs(struct kr_rest *c, const char *pairs, struct kr_rest_pairs *out,
			struct err_info *info);

struct kr_rest_ticker {
	char pair[KR_REST_NAME_MAX]; /* the key Kraken answered with */
	struct kr_dec ask, ask_qty, bid, bid_qty, last, last_qty;
	struct kr_dec volume_24h, vwap_24h, low_24h, high_24h, open;
	int64_t trades_24h;
};
/* One pair. */
int kr_rest_ticker(struct kr_rest *c, const char *pair, struct kr_rest_ticker *out,
		   struct err_info *info);

struct kr_rest_level {
	struct kr_dec price, qty;
	int64_t ts; /* Unix seconds */
};
/* Returned owned (large): free with free(). */
struct kr_rest_depth {
	char pair[KR_REST_NAME_MAX];
	size_t n_bids, n_asks;
	struct kr_rest_level bids[KR_REST_MAX_DEPTH]; /* best first */
	struct kr_rest_level asks[KR_REST_MAX_DEPTH];
};
/* count 1..500. *out is returned owned (free()). */
int kr_rest_depth(struct kr_rest *c, const char *pair, unsigned count, struct kr_rest_depth **out,
		  struct err_info *info);

/* ---- private endpoints ---------------------------------------------------- */

struct kr_rest_balance {
	char asset[KR_REST_NAME_MAX];
	struct kr_dec balance;
	/* BalanceEx only (zero from Balance): */
	struct kr_dec credit, credit_used, hold_trade;
};
struct kr_rest_balances {
	size_t n;
	struct kr_rest_balance v[KR_REST_MAX_ASSETS];
};
/* Balance / BalanceEx. *out is caller storage (about 40 KiB). */
int kr_rest_balance(struct kr_rest *c, struct kr_rest_balances *out, struct err_info *info);
int kr_rest_balance_ex(struct kr_rest *c, struct kr_rest_balances *out, struct err_info *info);

struct kr_rest_trade_balance {
	struct kr_dec eb, tb, m, n, c, v, e, mf, ml, uv; /* absent fields are 0 */
};
/* asset NULL = ZUSD. */
int kr_rest_trade_balance(struct kr_rest *c, const char *asset, struct kr_rest_trade_balance *out,
			  struct err_info *info);

enum kr_order_status {
	KR_ORDER_UNKNOWN = 0,
	KR_ORDER_PENDING,
	KR_ORDER_OPEN,
	KR_ORDER_CLOSED,
	KR_ORDER_CANCELED,
	KR_ORDER_EXPIRED,
};

struct kr_rest_order {
	char txid[KR_REST_TXID_MAX];
	bool has_userref;
	int64_t userref;
	char cl_ord_id[KR_REST_CLOID_MAX];
	enum kr_order_status status;
	char pair[KR_REST_NAME_MAX]; /* descr.pair */
	char side[8];		     /* "buy" / "sell" */
	char ordertype[24];	     /* descr.ordertype */
	struct kr_dec limit_price;   /* descr.price */
	struct kr_dec vol, vol_exec, cost, fee, avg_price;
	double opentm, closetm; /* Unix seconds; 0 when absent */
	char oflags[32];
	char reason[64];
	char descr[KR_REST_DESCR_MAX];
};
struct kr_rest_orders {
	size_t n;
	struct kr_rest_order *v;
};
/* Filters for OpenOrders / ClosedOrders: has_userref and/or a non-empty
 * cl_ord_id; both unset lists everything. */
struct kr_rest_order_filter {
	bool has_userref;
	int32_t userref;
	const char *cl_ord_id; /* borrowed; NULL or "" = none */
};
int kr_rest_open_orders(struct kr_rest *c, const struct kr_rest_order_filter *f,
			struct kr_rest_orders *out, struct err_info *info);
int kr_rest_closed_orders(struct kr_rest *c, const struct kr_rest_order_filter *f,
			  struct kr_rest_orders *out, struct err_info *info);
/* txids: comma list of at most 50 (borrowed). */
int kr_rest_query_orders(struct kr_rest *c, const char *txids, struct kr_rest_orders *out,
			 struct err_info *info);
/* Frees the list's array (orders, assets or pairs); the struct is left empty. */
void kr_rest_orders_free(struct kr_rest_orders *l);
void kr_rest_assets_free(struct kr_rest_assets *l);
void kr_rest_pairs_free(struct kr_rest_pairs *l);

/* An order to place. Strings are borrowed for the call. */
struct kr_rest_order_req {
	const char *pair;      /* id or altname, "XBTUSD" */
	const char *side;      /* "buy" / "sell" */
	const char *ordertype; /* "market", "limit", ... */
	struct kr_dec volume;  /* base units, > 0 */
	bool has_price;
	struct kr_dec price;	 /* limit price */
	const char *timeinforce; /* NULL (GTC), "GTC", "IOC", "GTD" */
	const char *oflags;	 /* NULL or comma list ("post,fciq") */
	bool has_userref;
	int32_t userref;
	const char *cl_ord_id; /* NULL or "" = none; exclusive with userref */
	bool validate;	       /* check only, do not place */
	const char *deadline;  /* NULL or RFC3339 */
};
struct kr_rest_add_result {
	char descr[KR_REST_DESCR_MAX];
	size_t n_txid; /* 0 with validate */
	char txid[4][KR_REST_TXID_MAX];
	char error[128]; /* batch entries: Kraken's per-order error, "" when none */
};
/* AddOrder. Never retried: a timeout after sending gives ERR_UNKNOWN. */
int kr_rest_add_order(struct kr_rest *c, const struct kr_rest_order_req *req,
		      struct kr_rest_add_result *out, struct err_info *info);
/* AddOrderBatch of n (2..15) orders on one pair (reqs[i].pair is ignored;
 * per-order validate/deadline are ignored in favour of the arguments).
 * out[i] receives each order's txid or error. Never retried. */
int kr_rest_add_order_batch(struct kr_rest *c, const char *pair,
			    const struct kr_rest_order_req *reqs, size_t n, bool validate,
			    const char *deadline, struct kr_rest_add_result *out,
			    struct err_info *info);
/* CancelOrder by txid (or a userref as text) or, when txid is NULL, by
 * cl_ord_id. count/pending may be NULL. */
int kr_rest_cancel_order(struct kr_rest *c, const char *txid, const char *cl_ord_id, int64_t *count,
			 bool *pending, struct err_info *info);
int kr_rest_cancel_all(struct kr_rest *c, int64_t *count, struct err_info *info);
/* timeout_s < 86400; 0 disables. Times are ns since the epoch (may be NULL). */
int kr_rest_cancel_all_after(struct kr_rest *c, uint32_t timeout_s, int64_t *current_ns,
			     int64_t *trigger_ns, struct err_info *info);

struct kr_rest_fee {
	char pair[KR_REST_NAME_MAX];
	struct kr_dec fee;	 /* taker, percent ("0.2600") */
	struct kr_dec maker_fee; /* percent; equals fee when fees_maker is absent */
	struct kr_dec next_fee;	 /* 0 when null */
	struct kr_dec next_volume;
	struct kr_dec tier_volume;
};
struct kr_rest_trade_volume {
	char currency[KR_REST_NAME_MAX];
	struct kr_dec volume;
	size_t n;
	struct kr_rest_fee fees[KR_REST_MAX_FEES];
};
/* pairs: comma list (fees are returned only for listed pairs), may be NULL. */
int kr_rest_trade_volume(struct kr_rest *c, const char *pairs, struct kr_rest_trade_volume *out,
			 struct err_info *info);
/* Percent as basis points (0.26 % -> 26.0). */
double kr_rest_fee_bps(struct kr_dec percent);

/* token is written NUL-terminated (cap >= KR_REST_TOKEN_MAX suffices);
 * expires in seconds. The token is a credential: never log it. */
int kr_rest_ws_token(struct kr_rest *c, char *token, size_t cap, uint32_t *expires,
		     struct err_info *info);

/* Reconciles an order whose AddOrder gave ERR_UNKNOWN: looks it up by
 * userref or cl_ord_id (as in f) with OpenOrders, then ClosedOrders.
 * Returns 1 and fills *found (may be NULL) when an order matches, 0 when
 * none does (it was not placed: it is then safe to place again), or a
 * negative error (the outcome is still unknown). */
int kr_rest_reconcile(struct kr_rest *c, const struct kr_rest_order_filter *f,
		      struct kr_rest_order *found, struct err_info *info);

/* Names for messages; static. */
const char *kr_order_status_str(enum kr_order_status s);

#endif

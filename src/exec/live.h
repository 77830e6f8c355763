/* The live venue: a struct venue (exec/venue.h) over Kraken's private
 * WebSocket v2 (PROTOCOL.md §5), with REST as the fallback and the source
 * of truth for reconciliation.
 *
 * Transport. live_venue_new starts one transport thread that owns the
 * private connection (kraken/ws.h's struct kr_ws on KRAKEN_WS_AUTH_URL:
 * wss:// to Kraken, ws:// to loopback only); with inline_transport there is
 * no such thread and the execution thread does its work in the ops (the
 * order is on the socket when place() returns, with no thread to wake). On every (re)connection it
 * fetches a fresh token with REST GetWebSocketsToken (and again before the
 * token's 15 minutes run out), subscribes to `executions` (snap_orders
 * true, snap_trades false, both sent explicitly) and `balances`, and is
 * "ready" once the executions snapshot has arrived.
 *
 * Orders. place() sends add_order (limit or market, time_in_force ioc/gtc,
 * cl_ord_id, fee_preference "quote" so fees are charged in the quote asset
 * for sells too); place_batch() sends 2..15 orders of one symbol as one
 * batch_add (each then followed like a placed order; over REST one by one
 * while the connection is down); cancel() sends cancel_order by cl_ord_id; cancel_all()
 * sends cancel_all. Execution reports are built from the executions
 * channel (cumulative qty and cost, average price, fees summed over the
 * trade events; order_status mapped to enum venue_status; an add_order
 * error is REJECTED with Kraken's text as reason) and handed from the
 * transport thread to the execution thread through an SPSC ring; poll()
 * delivers them. A full ring never loses a report: the order is marked and
 * its latest state re-sent when there is room.
 *
 * While the private connection is down, orders go through REST AddOrder
 * (never retried: an unknown outcome is reported UNKNOWN and reconciled,
 * never re-sent), cancels through REST CancelOrder / CancelAll. After a
 * reconnect every order not final and not in the executions snapshot is
 * looked up over REST (OpenOrders, then ClosedOrders, by cl_ord_id) and its
 * state reported; one that Kraken never saw is REJECTED ("not placed").
 * An order with no word from the exchange for ack_timeout_ms is looked up
 * the same way.
 *
 * Dead man's switch. With deadman_timeout_s > 0 the transport sends
 * cancel_all_orders_after(timeout) every timeout/3 (over REST while the
 * WebSocket is down), but only while the execution thread is alive: when
 * poll() has not been called for timeout/2 the refreshes stop and Kraken
 * cancels every open order by itself once the timeout passes.
 *
 * Threads: the ops are called from the execution thread only (venue.h);
 * live_stats and live_ready from any thread. Nothing on the ops' path
 * allocates or locks; query() and the first balances() block on REST. */
#ifndef ARB_EXEC_LIVE_H
#define ARB_EXEC_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "core/hist.h"
#include "exec/venue.h"
#include "kraken/codec.h"
#include "kraken/rest.h"

struct live_opts {
	const char *ws_auth_url; /* KRAKEN_WS_AUTH_URL; borrowed during live_venue_new */
	struct kr_rest *rest;	 /* with credentials; borrowed until destroy */
	/* The instruments (copied), for the scales of orders query() finds
	 * that this venue did not place. May be NULL/0. */
	const struct kr_pair *pairs;
	size_t n_pairs;
	uint32_t deadman_timeout_s;    /* RISK_DEADMAN_TIMEOUT_S; 0 disables */
	uint32_t ping_interval_ms;     /* KRAKEN_WS_PING_INTERVAL_MS; 0 = 20000 */
	uint32_t heartbeat_timeout_ms; /* 0 = 10000 */
	uint32_t reconnect_min_ms;     /* 0 = 1000 */
	/* No transport thread: the execution thread runs the connection in
	 * every poll() and inside place()/cancel(), so an order is written to
	 * the socket before place() returns. For an execution thread that
	 * never sleeps (EXEC_BUSY_POLL=true); its REST calls (token, fallback,
	 * lookups) then block that thread. */
	bool inline_transport;
	uint32_t reconnect_max_ms; /* 0 = 60000 */
	uint32_t ack_timeout_ms;   /* no word for this long: ask REST; 0 = 10000 */
	uint32_t orders_max;	   /* orders tracked at once; 0 = 1024 */
	bool no_rest_fallback;	   /* place/cancel refuse (ERR_BADSTATE) while down */
	uint64_t seed;		   /* reconnect jitter; 0 = from the clock */
};

/* Fills o from configuration (ws_auth_url points into cfg; rest, pairs
 * left NULL). */
void live_opts_from_config(const struct config *cfg, struct live_opts *o);

/* Creates the venue into *out (ops and an owned ctx; destroy with
 * out->ops->destroy(out->ctx)) and starts the transport thread, which
 * connects at once. 0, or ERR_INVALID / ERR_CONFIG (the URL) / ERR_NOMEM /
 * -errno with info filled. Start-up only. */
int live_venue_new(const struct live_opts *o, struct venue *out, struct err_info *info);

struct live_stats {
	bool connected; /* the private WebSocket is open */
	bool ready;	/* subscribed, executions snapshot received */
	uint64_t opens, closes;
	uint64_t tokens; /* GetWebSocketsToken calls that succeeded */
	uint64_t token_errors;
	uint64_t ws_orders;	    /* add_order sent */
	uint64_t rest_orders;	    /* AddOrder sent (fallback) */
	uint64_t rejects;	    /* orders refused by the exchange */
	uint64_t reports;	    /* reports queued to the execution thread */
	uint64_t ring_waits;	    /* reports held back by a full ring */
	uint64_t parse_errors;	    /* private frames that did not decode */
	uint64_t stray;		    /* execution reports for orders we do not know */
	uint64_t deadman_refreshes; /* cancel_all_orders_after sent */
	uint64_t reconciles;	    /* orders looked up over REST */
	uint64_t unknown;	    /* orders whose outcome is unknown now */
};

/* Counters of a live venue's ctx. Any thread. */
void live_stats(void *ctx, struct live_stats *out);
/* Opportunity detected -> its first add_order written to the socket (the
 * orders a cycle starts with, WebSocket only), published by the transport
 * thread at most every 100 ms. Lives as long as ctx. Any thread. */
const struct hist_pub *live_wire_hist(void *ctx);
/* True when the private connection is subscribed and current. Any thread. */
bool live_ready(void *ctx);

#endif

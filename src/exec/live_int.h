/* Shared by src/exec/live*.c and tests/unit/exec/test_live*.c only: the live
 * venue's state, split between the execution thread (live.c: the venue ops)
 * and the transport thread (live_ws.c: the private session). The two share
 * three SPSC rings and a few atomics, nothing else. */
#ifndef ARB_EXEC_LIVE_INT_H
#define ARB_EXEC_LIVE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/hist.h"
#include "core/log.h"
#include "core/ring.h"
#include "exec/live.h"
#include "kraken/private.h"
#include "kraken/ws.h"

/* exec -> transport. */
enum live_cmd_kind {
	LIVE_CMD_PLACE = 0,
	LIVE_CMD_CANCEL,
	LIVE_CMD_CANCEL_ALL,
	LIVE_CMD_ADOPT, /* follow an order query() found open (placed before a restart) */
};
struct live_cmd {
	enum live_cmd_kind kind;
	/* PLACE in a batch: parts are staged by the transport, the last one
	 * (batch_end) sends them all as one batch_add. */
	bool batch_part, batch_end;
	struct venue_order o;  /* PLACE; CANCEL uses o.cl_ord_id */
	struct venue_report r; /* ADOPT */
};

/* transport -> exec: a balance after a change. */
struct live_bal {
	struct venue_balance b;
};

/* An order as the transport thread knows it. */
struct live_order {
	bool used;
	struct venue_order o;
	struct venue_report r; /* the latest state */
	uint64_t req_id;       /* of its add_order; 0 when none in flight */
	uint64_t last_ns;      /* monotonic: last word about it */
	bool acked;	       /* the exchange said anything at all */
	bool check;	       /* ask REST (unknown outcome, lost connection, timeout) */
	uint64_t check_after_ns;
	bool dirty;	     /* r changed and is not in the ring yet */
	bool via_rest;	     /* placed with REST AddOrder */
	int64_t deadline_ns; /* wall: the engine matches it no later than this */
	uint32_t snap_gen;   /* the executions snapshot that last listed it */
};

/* The execution thread's view of an order: enough for duplicate and
 * cancel checks. */
struct live_seen {
	char cl_ord_id[VENUE_ID_MAX];
	bool final;
	bool used;
};

struct live {
	struct live_opts o;
	struct kr_pair *pairs; /* copied */
	size_t n_pairs;

	struct ring_spsc *cmd;	   /* struct live_cmd, exec -> transport */
	struct ring_spsc *reports; /* struct venue_report, transport -> exec */
	struct ring_spsc *bals;	   /* struct live_bal, transport -> exec */

	pthread_t th;
	bool started;
	atomic_bool stop;
	atomic_bool connected, ready;
	atomic_uint_fast64_t last_poll_ns; /* the execution thread's heartbeat */

	/* Execution thread. */
	struct live_seen *seen; /* orders_max, a ring by placement */
	uint64_t *seen_h;	/* orders_max: each slot's cl_ord_id hash, 0 when free */
	size_t seen_next;
	struct venue_balance *bal; /* VENUE_ASSETS of the latest balances */
	size_t n_bal;
	bool have_bal;

	/* Transport thread. */
	struct kr_ws *ws;
	struct kr_priv_decoder *dec;
	struct live_order *orders; /* orders_max */
	size_t slot_next;	   /* where slot() looks first: the oldest placement */
	struct venue_order stage[KR_PRIV_BATCH_MAX]; /* a batch's parts, until its end */
	size_t n_stage;
	char token[KR_REST_TOKEN_MAX];
	uint64_t token_ns, token_ttl_ns;
	bool subscribed; /* subscriptions sent on this connection */
	uint64_t next_req_id;
	uint64_t exec_sub_req, bal_sub_req;
	uint64_t next_deadman_ns;
	uint64_t next_check_ns;
	bool any_dirty;
	uint64_t next_sub_ns; /* when to (re)try token + subscriptions */
	uint32_t snap_gen;
	bool deadman_silent;  /* refreshes stopped: the execution thread is silent */
	struct hist wire;     /* opportunity -> add_order written to the socket */
	uint64_t wire_pub_ns; /* when wire was last published */
	struct hist_pub wire_pub;

	/* Counters written by the transport thread (atomics: read anywhere). */
	atomic_uint_fast64_t st_opens, st_closes, st_tokens, st_token_errors, st_ws_orders,
	    st_rest_orders, st_rejects, st_reports, st_ring_waits, st_parse_errors, st_stray,
	    st_deadman, st_reconciles, st_unknown;
};

#define LIVE_MAX_BAL 64

/* s quoted for a log field (core/log.h log_q), in a buffer that lives
 * until the end of the enclosing block. */
#define LIVE_Q(s) log_q((char[200]){0}, 200, (s))

/* Copies src into dst (cap bytes), cut short if need be, NUL-terminated. */
static inline void live__copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* live_ws.c: the transport thread's body. */
void *live__thread(void *arg);
/* One turn of that body without waiting (inline_transport): commands, the
 * socket, timers, reports. On the execution thread. */
void live__pump(struct live *l);
/* The transport's part of place() on a made-up order, nothing sent or
 * kept (venue_ops.warm). inline_transport only: on the transport's thread. */
void live__warm(struct live *l);
/* Builds the kr_ws for l (transport thread not yet running). */
int live__ws_new(struct live *l, struct err_info *info);

/* live_map.c: pure translations, for the transport and the tests. */
/* The pair with this symbol (or REST name: "XBTUSD", "XXBTZUSD", "BTC/USD"),
 * or NULL. */
const struct kr_pair *live__pair(const struct kr_pair *pairs, size_t n, const char *name);
/* fee_scale for the pair scales (venue.h). */
int live__fee_scale(int price_scale, int qty_scale);
/* Applies one execution event to r (whose scales are set). Returns true when
 * r changed. A final state is never left; amounts only grow. */
bool live__apply_exec(struct venue_report *r, const struct kr_priv_exec *e, uint64_t now_ns);
/* Fills r from a REST order (OpenOrders / ClosedOrders / QueryOrders) at
 * r's scales, or at the decimals' own when r->qty_scale < 0. */
void live__from_rest(struct venue_report *r, const struct kr_rest_order *ro, uint64_t now_ns);

#endif

/* Internal to the simulator's core files (sim.c, scenario.c, market.c,
 * ws_public.c, control.c): the body of struct sim and the functions these
 * files share. The other parts of the simulator (account.c, rest.c,
 * ws_private.c) use only the seams in sim_int.h. */
#ifndef ARB_SIM_SIM_SRV_H
#define ARB_SIM_SIM_SRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "book/book.h"
#include "kraken/codec.h"
#include "sim/sim.h"
#include "sim/sim_int.h"
#include "sim/sim_json.h"

#define SIM_MAX_PAIRS	64
#define SIM_MAX_ASSETS	64
#define SIM_MAX_WINDOWS 64
#define SIM_MAX_FAULTS	64
#define SIM_MAX_CYCLE	6
/* The truth book's depth: every depth a subscriber may ask for fits. */
#define SIM_BOOK_DEPTH 1000
/* The market advances in ticks of this length; everything scheduled (pair
 * updates, windows, faults) sits on a tick index, so a seed fixes the whole
 * sequence of book states whatever the timing of the service loop. */
#define SIM_TICK_MS 10
/* A connection whose unsent frames exceed this is a slow consumer: closed. */
#define SIM_CONN_QUEUE_MAX (64u << 20)
/* Largest request frame accepted (Kraken's requests are small). */
#define SIM_RX_MAX (1u << 20)

struct sim_replay_ev {
	uint64_t tick; /* ticks after the first event of the file */
	bool snapshot;
	uint32_t n_bids, n_asks;
	struct book_level *bids; /* owned, wire order; qty 0 deletes */
	struct book_level *asks;
};

struct sim_replay {
	struct sim_replay_ev *ev; /* owned */
	size_t n, next;
	unsigned depth;	     /* levels the recording kept per side */
	uint64_t start_tick; /* tick of the current loop's first event */
};

struct sim_pair {
	struct kr_pair kp;
	struct book *book;  /* the truth, depth SIM_BOOK_DEPTH */
	int base, quote;    /* asset indices */
	double mid0;	    /* scenario's starting mid (quote per base) */
	double ups;	    /* updates per second */
	unsigned levels;    /* target levels per side */
	double half_spread; /* fraction of the mid */
	double level_step;  /* spacing between levels, fraction of the mid */
	double bias;	    /* an arbitrage window's multiplier on the mid; 1 outside */
	double acc;	    /* accumulated fraction of an update (ups * tick) */
	uint64_t rng;
	bool dirty;		   /* the truth changed since it was last published */
	bool corrupt;		   /* the next published update carries a wrong checksum */
	bool force;		   /* regenerate at the next tick (window edges) */
	struct sim_replay *replay; /* owned, NULL for a random walk */
	uint64_t updates;	   /* truth updates made */
};

struct sim_asset {
	char id[KR_ASSET_MAX];
	double value; /* in units of the reference asset (asset 0) */
	int precision;
};

enum sim_fault_kind {
	SIM_FAULT_DROP = 0,
	SIM_FAULT_CORRUPT,
	SIM_FAULT_MALFORMED,
	SIM_FAULT_STALL,
	SIM_FAULT_STATUS,
};

struct sim_fault {
	uint64_t tick;
	enum sim_fault_kind kind;
	long pair;   /* CORRUPT */
	uint64_t ms; /* STALL */
	enum kr_system_status status;
	bool done;
};

struct sim_window {
	uint64_t tick;	/* start */
	uint64_t ticks; /* length */
	int assets[SIM_MAX_CYCLE];
	int n;
	double bps;
	/* Set when it starts. */
	bool started, ended;
	long pair; /* the leg whose book is moved */
	double bias;
};

/* One book subscription of a connection: what the subscriber holds now. */
struct sim_sub {
	size_t pair;
	unsigned depth;
	size_t n_bids, n_asks;
	struct book_level *bids; /* owned, depth entries */
	struct book_level *asks;
	struct sim_sub *next;
};

struct sim_msg {
	struct sim_msg *next;
	size_t len;
	char *mem; /* owned; the frame starts at mem + LWS_PRE */
};

struct sim_conn {
	struct sim *s;
	struct lws *wsi;
	bool priv;
	bool instrument;
	bool closing;
	uint64_t id;
	struct sim_sub *subs;
	struct sim_msg *head, *tail;
	size_t queued;
	char *rx; /* owned: a message being reassembled from fragments */
	size_t rx_len, rx_cap;
	bool rx_drop; /* the current message is over SIM_RX_MAX: dropped */
	void *priv_state;
	struct sim_conn *next, *prev;
};

/* Per-session data of the one lws protocol: a WS connection or an HTTP
 * control request. */
struct sim_http {
	char path[128];
	struct sim_buf body; /* owned: the response body, LWS_PRE headroom */
	int status;
	bool started;
	bool post_wait; /* a POST with a body: answer at body completion */
};

struct sim_pss {
	bool is_ws;
	struct sim_conn conn;
	struct sim_http http;
};

struct sim {
	pthread_mutex_t mu;
	atomic_bool stop;
	atomic_bool wake;

	/* Scenario. */
	char *scenario_text; /* owned, NUL-terminated */
	size_t scenario_len;
	char scenario_dir[512];
	uint64_t seed;
	double vol_per_tick;   /* asset walk sigma per tick */
	double level_notional; /* typical level size, reference asset units */
	struct sim_asset assets[SIM_MAX_ASSETS];
	size_t n_assets;
	struct sim_pair pairs[SIM_MAX_PAIRS];
	size_t n_pairs;
	struct sim_window windows[SIM_MAX_WINDOWS];
	size_t n_windows;
	struct sim_fault faults[SIM_MAX_FAULTS];
	size_t n_faults;
	uint64_t rng; /* the asset walk's */

	/* Market state. */
	uint64_t tick;	   /* market ticks done */
	uint64_t start_ns; /* monotonic time of tick 0 */
	enum kr_system_status status;
	uint64_t stall_until_ns;
	uint64_t next_heartbeat_ns;
	struct book_level *scratch_bids, *scratch_asks; /* 2 * SIM_BOOK_DEPTH each */
	struct book_level *old_bids, *old_asks;
	struct book_level *view_bids, *view_asks;

	/* Server. */
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	lws_sorted_usec_list_t sul;
	char host[64];
	uint16_t ws_port, rest_port;
	bool rest_started;
	struct sim_conn *conns;
	size_t n_conns;
	uint64_t next_conn_id;
	uint64_t messages_sent;
	uint64_t bad_requests;
	struct sim_buf out; /* scratch for one message */
	const struct sim_ws_private_ops *priv_ops;

	struct sim_accounts *accounts;
	void *ws_private; /* ws_private.c's state */
};

/* scenario.c: fills the universe, windows and faults from s->scenario_text.
 * info names the bad field. */
int sim__scenario_load(struct sim *s, struct err_info *info);
/* Parses "online" etc.; KR_SYSTEM_UNKNOWN when not one of the four. */
enum kr_system_status sim__status_parse(const char *v);
/* Resolves a cycle of asset ids ("USD","BTC","ETH") to asset indices. */
int sim__cycle_resolve(struct sim *s, char ids[][KR_ASSET_MAX], int n, int *out,
		       struct err_info *info);

/* market.c and replay.c, under the lock. */
/* replay.c: reads the book messages for pair idx's symbol from a recording
 * into pairs[idx].replay; applies the events due at the current tick. */
int sim__replay_load(struct sim *s, size_t idx, const char *path, struct err_info *info);
void sim__replay_step(struct sim *s, size_t i);
void sim__replay_free(struct sim_replay *r);
/* Sets price to qty in a best-first array of n levels (cap entries); qty 0
 * removes it. Returns the new count. */
size_t sim__side_set(char side, struct book_level *lv, size_t n, size_t cap, int64_t price,
		     int64_t qty);
/* Replaces pair i's truth with the scratch sides (nb bids, na asks): diffs,
 * applies the diff to the book, marks the pair dirty. */
void sim__commit(struct sim *s, size_t i, size_t nb, size_t na);
int sim__market_init(struct sim *s, struct err_info *info);
void sim__market_free(struct sim *s);
/* Advances the market by one tick: the asset walk, windows, scheduled
 * faults, due pair updates. */
void sim__market_tick(struct sim *s);
/* Starts a window now on cycle (asset indices) for ms. */
int sim__window_start(struct sim *s, const int *assets, int n, double bps, uint64_t ms,
		      struct err_info *info);
/* The current executable product of a cycle's rates at the top of the truth
 * books (before fees); 0 when a book is empty or a pair is missing. */
double sim__cycle_product(const struct sim *s, const int *assets, int n);
/* The levels turning old into nw (both best first) for a holder at depth:
 * qty 0 for a price gone, the new qty for one added or changed; a price that
 * merely fell below a full depth is left out (Kraken: the holder truncates).
 * out needs nold + nnew entries. Returns the count. */
size_t sim__diff_side(char side, const struct book_level *old, size_t nold,
		      const struct book_level *nw, size_t nnew, unsigned depth,
		      struct book_level *out);
/* Pair i's mid now (quote per base), window bias included. */
double sim__pair_mid(const struct sim *s, size_t i);
/* One side's top levels, best first, at most cap. */
size_t sim__top(const struct sim *s, size_t pair, char side, struct book_level *out, size_t cap);

/* ws_public.c and ws_book.c, on the service thread with the lock held. */
struct sim_req {
	char method[32];
	bool has_req_id;
	char req_id[24]; /* the integer's text, echoed as it came */
	int64_t time_in;
};
/* A reply in s->out: {"method":M[,"req_id":N] ... then time_in, time_out}. */
void sim__reply_head(struct sim_buf *b, const struct sim_req *r, const char *method);
void sim__reply_tail(struct sim_buf *b, const struct sim_req *r);
/* Queues an error reply; symbol may be NULL; err has no '"' or '\\'. */
void sim__reply_error(struct sim_conn *c, const struct sim_req *r, const char *method,
		      const char *err, const char *symbol);
/* Queues what s->out holds on c. */
void sim__send_out(struct sim_conn *c);
struct sim_sub *sim__sub_find(struct sim_conn *c, size_t pair);
void sim__sub_free(struct sim_sub *u);
void sim__send_instrument(struct sim_conn *c);
void sim__book_subscribe(struct sim_conn *c, const struct sim_req *r, const char *symbol,
			 unsigned depth, bool snapshot);
void sim__book_unsubscribe(struct sim_conn *c, const struct sim_req *r, const char *symbol,
			   unsigned depth);
int sim__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, struct sim_pss *pss,
		     void *in, size_t len);
/* Publishes what changed in every dirty book to its subscribers. */
void sim__publish(struct sim *s);
void sim__heartbeats(struct sim *s);
void sim__broadcast_status(struct sim *s);
void sim__broadcast_malformed(struct sim *s);
void sim__drop_all(struct sim *s);
/* A fault now (control endpoint or the scenario). */
void sim__fault_apply(struct sim *s, const struct sim_fault *f);
bool sim__stalled(const struct sim *s);

/* control.c, on the service thread. */
int sim__http_callback(struct lws *wsi, enum lws_callback_reasons reason, struct sim_pss *pss,
		       void *in, size_t len);

/* Splitmix64 and uniform/normal draws for the seeded walks. */
uint64_t sim__rand(uint64_t *state);
double sim__uniform(uint64_t *state);
double sim__normal(uint64_t *state);

#endif

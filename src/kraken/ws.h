/* Kraken WebSocket v2 market data: the public connection (PROTOCOL.md §1-3).
 *
 * Three layers, each usable on its own:
 *
 *   1. Pure helpers (ws_util.c): URL checks, the reconnect backoff, the idle
 *      watchdog, frame reassembly and subscribe batching. No I/O, no clock
 *      reads: the caller passes the time in, so tests drive them directly.
 *   2. struct kr_ws (ws_client.c): one libwebsockets client connection,
 *      wss:// with TLS and SNI, or ws:// to a loopback host only (the
 *      simulator). It reconnects by itself with backoff, pings when idle,
 *      reconnects when nothing arrives for the heartbeat timeout, reassembles
 *      fragments into one preallocated buffer and stamps each complete text
 *      frame with clock_mono_ns() on arrival.
 *   3. struct kr_ws_feed (ws_feed.c): the market-data session on top of any
 *      transport (a send seam): subscribes to instrument, creates one book per
 *      wanted pair when the universe arrives, subscribes to book in batches,
 *      applies every book message through kr_decode and book_*, verifies the
 *      checksum on every message and resubscribes a symbol whose book failed.
 *
 * Threads: a struct kr_ws and a struct kr_ws_feed belong to the thread that
 * calls kr_ws_service (the market-data thread), except kr_ws_wake. Nothing
 * on the per-frame path allocates, locks or logs synchronously. */
#ifndef ARB_KRAKEN_WS_H
#define ARB_KRAKEN_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book/book.h"
#include "core/err.h"
#include "kraken/codec.h"

/* ---- Limits ---- */

/* Kraken's Cloudflare front bans an IP for 10 minutes after about 150 connect
 * attempts in a rolling 10 minutes (PROTOCOL.md §1); we allow ourselves
 * KR_WS_CONNECT_MAX in that window, well under it. */
#define KR_WS_CONNECT_WINDOW_MS 600000u
#define KR_WS_CONNECT_MAX	100u
/* After maintenance (system status not online) Kraken asks for no more than
 * one reconnect every 5 s. */
#define KR_WS_SLOW_RECONNECT_MS 5000u
/* Symbols per subscribe/unsubscribe request. Kraken documents no limit for
 * book (PROTOCOL.md §1.6, §13.4); batches keep each request small. */
#define KR_WS_SUBSCRIBE_BATCH 50u
/* Longest request the client sends, in bytes. */
#define KR_WS_TX_MAX 4096u
/* Requests queued for sending at once. */
#define KR_WS_TX_QUEUE 64u
/* Default reassembly buffer: an instrument snapshot of every Kraken pair is
 * well under 1 MiB, a depth-1000 book snapshot under 100 KiB. */
#define KR_WS_DEFAULT_MAX_FRAME (8u << 20)

/* ---- 1. Pure helpers ---- */

struct kr_ws_url {
	bool tls; /* wss:// */
	char host[256];
	uint16_t port;	/* 443 / 80 when the URL names none */
	char path[512]; /* "/v2"; "/" when the URL has none */
};

/* Parses ws:// or wss:// URLs: scheme, host (a name, IPv4, or [IPv6]),
 * optional :port (1..65535), optional path. Refuses other schemes, userinfo,
 * empty or over-long parts, spaces and control characters (ERR_CONFIG), and
 * plain ws:// to a host that is not loopback (ERR_CONFIG: plain text to the
 * internet would expose the session). info names the URL part at fault.
 * Any thread. */
int kr_ws_url_parse(const char *url, struct kr_ws_url *out, struct err_info *info);

/* "localhost", 127.0.0.0/8 or ::1 (with or without brackets). */
bool kr_ws_host_is_loopback(const char *host);

/* Reconnect delays: exponential backoff with full jitter between min_ms and
 * max_ms, never more than KR_WS_CONNECT_MAX attempts in any
 * KR_WS_CONNECT_WINDOW_MS, and at least KR_WS_SLOW_RECONNECT_MS when asked
 * to be slow (after maintenance). Plain struct the caller embeds. */
struct kr_ws_backoff {
	uint32_t min_ms, max_ms;
	uint32_t failures; /* attempts since the last success */
	uint64_t rng;
	uint64_t hist[KR_WS_CONNECT_MAX]; /* mono ns of recent attempts, circular */
	uint32_t nhist, head;
};

/* min_ms >= 1 and max_ms >= min_ms (a larger min is taken as max); seed picks
 * the jitter sequence (any value). */
void kr_ws_backoff_init(struct kr_ws_backoff *b, uint32_t min_ms, uint32_t max_ms, uint64_t seed);

/* The wait in ms before the next attempt, from now_ns: a uniform draw from
 * [min_ms, min(max_ms, min_ms * 2^failures)], raised to
 * KR_WS_SLOW_RECONNECT_MS when slow, and raised further when the attempt
 * would be the (KR_WS_CONNECT_MAX+1)-th within the window. Counts one more
 * failure. */
uint64_t kr_ws_backoff_next(struct kr_ws_backoff *b, uint64_t now_ns, bool slow);

/* Records a connection attempt made at now_ns (for the rate window). */
void kr_ws_backoff_attempt(struct kr_ws_backoff *b, uint64_t now_ns);

/* A connection worked: the next delay starts from min_ms again. The rate
 * window is kept. */
void kr_ws_backoff_success(struct kr_ws_backoff *b);

/* What an open connection should do now, given the monotonic times of the
 * last byte received and the last request sent. */
enum kr_ws_idle {
	KR_WS_IDLE_OK = 0,
	KR_WS_IDLE_PING, /* nothing sent for ping_ns: send an application ping */
	KR_WS_IDLE_DEAD, /* nothing received for timeout_ns: reconnect */
};
enum kr_ws_idle kr_ws_idle_check(uint64_t now_ns, uint64_t last_rx_ns, uint64_t last_tx_ns,
				 uint64_t ping_ns, uint64_t timeout_ns);

/* Reassembles one message from the chunks libwebsockets delivers (fragments
 * and partial reads) into one buffer allocated at init. A message longer
 * than the capacity is dropped whole and counted, never grown. */
struct kr_ws_reasm {
	char *buf;
	size_t cap, len;
	bool dropping;	   /* the current message overflowed */
	bool done;	   /* buf holds a complete message; the next push starts anew */
	uint64_t oversize; /* messages dropped for size */
};

enum kr_ws_reasm_rc {
	KR_WS_REASM_MORE = 0, /* message not complete yet */
	KR_WS_REASM_DONE,     /* buf[0..len) holds the message until the next push */
	KR_WS_REASM_DROPPED,  /* the message was over capacity; counted */
};

/* Allocates cap bytes (cap >= 1). Returns 0 or ERR_NOMEM / ERR_INVALID.
 * Start-up only. release frees; safe on a zeroed or released struct. */
int kr_ws_reasm_init(struct kr_ws_reasm *r, size_t cap);
void kr_ws_reasm_release(struct kr_ws_reasm *r);
/* Appends n bytes; last says this chunk ends the message. The first push
 * after DONE or DROPPED starts a new message. Never allocates. */
enum kr_ws_reasm_rc kr_ws_reasm_push(struct kr_ws_reasm *r, const void *p, size_t n, bool last);
/* Forgets a partial message (the connection closed). */
void kr_ws_reasm_reset(struct kr_ws_reasm *r);

/* How many of symbols[start..n) go into the next (un)subscribe request: at
 * least 1 when start < n (a lone symbol always fits KR_WS_TX_MAX: symbols
 * are shorter than KR_SYMBOL_MAX), at most max_syms, and such that the
 * encoded request is at most max_bytes long. 0 when start >= n. */
size_t kr_ws_batch_next(const char *const *symbols, size_t n, size_t start, size_t max_syms,
			size_t max_bytes);

/* ---- 2. The connection ---- */

struct kr_ws;

struct kr_ws_cb {
	/* A complete text frame; frame is borrowed until the callback returns.
	 * recv_ns: clock_mono_ns() when its last byte arrived. Required. */
	void (*on_frame)(void *ctx, const char *frame, size_t len, uint64_t recv_ns);
	/* The WebSocket handshake completed: send subscriptions now. */
	void (*on_open)(void *ctx, uint64_t now_ns);
	/* An open connection closed or was closed (watchdog, peer, error). */
	void (*on_close)(void *ctx, uint64_t now_ns);
	/* A request queued with kr_ws_send_at and an origin_ns was written to
	 * the socket: sent_ns (clock_mono_ns) is when lws_write was called, so
	 * the kernel's part is excluded. Optional. */
	void (*on_sent)(void *ctx, uint64_t origin_ns, uint64_t sent_ns);
	void *ctx;
};

struct kr_ws_opts {
	const char *url; /* borrowed during kr_ws_new */
	uint32_t ping_interval_ms;
	uint32_t heartbeat_timeout_ms;
	uint32_t reconnect_min_ms;
	uint32_t reconnect_max_ms;
	size_t max_frame; /* reassembly capacity; 0: KR_WS_DEFAULT_MAX_FRAME */
	uint64_t seed;	  /* backoff jitter; 0: from the clock */
};

struct kr_ws_stats {
	uint64_t attempts;	 /* connection attempts */
	uint64_t opens;		 /* handshakes that completed */
	uint64_t reconnects;	 /* opens after the first */
	uint64_t closes;	 /* open connections lost */
	uint64_t connect_errors; /* attempts that failed before the handshake */
	uint64_t watchdog;	 /* connections closed for silence */
	uint64_t frames;	 /* complete text frames delivered */
	uint64_t bytes;		 /* their bytes */
	uint64_t oversize;	 /* frames dropped for size */
	uint64_t binary;	 /* binary frames dropped */
	uint64_t pings;		 /* application pings sent */
	uint64_t sent;		 /* requests written */
	uint64_t tx_full;	 /* kr_ws_send refused: queue full */
	bool connected;
	uint64_t next_attempt_ms; /* when disconnected: ms until the next attempt */
};

/* Validates the URL (kr_ws_url_parse), creates the libwebsockets context and
 * the buffers, and schedules the first connection attempt at once. cb is
 * copied, cb->ctx borrowed until kr_ws_free. Returned owned, or NULL with
 * info filled (ERR_CONFIG for the URL, ERR_NOMEM, ERR_NET). Start-up only. */
struct kr_ws *kr_ws_new(const struct kr_ws_opts *o, const struct kr_ws_cb *cb,
			struct err_info *info);

/* Closes the connection and frees everything. NULL does nothing. Thread of
 * kr_ws_service, not from a callback. */
void kr_ws_free(struct kr_ws *ws);

/* Queues one text request (copied) to be written when the socket is
 * writable. Returns 0, ERR_BADSTATE when not connected, ERR_RANGE when over
 * KR_WS_TX_MAX, ERR_FULL when KR_WS_TX_QUEUE requests are waiting (counted).
 * Queued requests are discarded when the connection closes. May be called
 * from the callbacks. Thread of kr_ws_service. */
int kr_ws_send(struct kr_ws *ws, const char *text, size_t len);
/* kr_ws_send, and cb.on_sent(origin_ns) once the request is written, when
 * origin_ns is not 0 (for latency to the wire). */
int kr_ws_send_at(struct kr_ws *ws, const char *text, size_t len, uint64_t origin_ns);

/* Runs the event loop once: waits at most about 50 ms for traffic, delivers
 * frames through the callbacks, then pings, runs the watchdog and
 * reconnects as due. Returns 0 or ERR_NET when libwebsockets failed. */
int kr_ws_service(struct kr_ws *ws);
/* kr_ws_service without the wait: does what is ready now (reads, queued
 * writes the socket takes, timers) and returns. For a thread that spins. */
int kr_ws_poll(struct kr_ws *ws);

/* kr_ws_send_at, but written at once when nothing is queued, the socket
 * can take it (lws_send_pipe_choked) and nothing was written directly
 * since the last service turn: no wait for a writable callback and a
 * second turn. Otherwise queued. A failed direct write closes the
 * connection (as a failed queued one does) and still returns 0: the
 * request may have left, so the caller's after-reconnect checks decide.
 * Thread of kr_ws_service, never inside its callbacks. */
int kr_ws_send_now(struct kr_ws *ws, const char *text, size_t len, uint64_t origin_ns);

/* Reads the send slot the next kr_ws_send fills, so that it is in cache
 * (a caller keeping its path to the wire warm). Thread of kr_ws_service. */
void kr_ws_warm(struct kr_ws *ws);

/* Makes a kr_ws_service in progress return promptly. Any thread. */
void kr_ws_wake(struct kr_ws *ws);

/* Slow reconnects (at least KR_WS_SLOW_RECONNECT_MS), for while the system
 * status is not online. */
void kr_ws_set_slow(struct kr_ws *ws, bool slow);

void kr_ws_stats(const struct kr_ws *ws, struct kr_ws_stats *out);

/* ---- 3. The market-data session ---- */

struct kr_ws_feed;

struct kr_ws_feed_cb {
	/* The transport: writes one request. Returns 0 or a negative code (a
	 * failed request is retried by kr_ws_feed_tick). Required. */
	int (*send)(void *ctx, const char *text, size_t len);
	/* After every change of a book: each applied book message whatever its
	 * outcome (a checksum failure leaves the book invalid: check
	 * book_valid), and each invalidation when the connection closes
	 * (recv_ns is then the close time). b is borrowed until the callback
	 * returns. Never called for a book message that was ignored. Optional. */
	void (*on_book)(void *ctx, const struct book *b, uint32_t pair_id, uint64_t recv_ns);
	/* Books were created or rebuilt (an instrument message named new pairs
	 * or changed a pair's precision): book pointers from before may be
	 * gone; rebind from kr_ws_feed_book(). Between book messages, on the
	 * feed's thread. Optional. */
	void (*on_books)(void *ctx, const struct kr_ws_feed *f);
	void *ctx;
};

struct kr_ws_feed_opts {
	/* BOOK_SYMBOLS: a comma list of BASE/QUOTE, or "all" for every pair
	 * whose status is online. Borrowed during kr_ws_feed_new. */
	const char *symbols;
	unsigned depth; /* BOOK_DEPTH: 10, 25, 100, 500 or 1000 */
	struct kr_ws_feed_cb cb;
};

struct kr_ws_feed_stats {
	uint32_t books;		      /* books created */
	uint32_t valid;		      /* of those, valid now */
	uint32_t invalid;	      /* books - valid */
	uint32_t stale;		      /* valid books whose last message is older than max_age */
	uint32_t missing;	      /* wanted symbols the universe does not list */
	uint64_t messages;	      /* frames handed to kr_ws_feed_frame */
	uint64_t book_messages;	      /* book messages applied */
	uint64_t parse_errors;	      /* frames kr_decode rejected */
	uint64_t checksum_failures;   /* book messages whose checksum did not match */
	uint64_t book_errors;	      /* other book messages that failed (range, capacity) */
	uint64_t resubscribes;	      /* symbols unsubscribed and subscribed again */
	uint64_t subscribe_errors;    /* subscribe acknowledgements with success false */
	uint64_t exchange_errors;     /* error replies */
	uint64_t ignored;	      /* book messages for a symbol awaiting its snapshot */
	uint64_t send_errors;	      /* requests the transport refused (retried) */
	enum kr_system_status system; /* last status message; UNKNOWN before one */
	bool instruments;	      /* an instrument snapshot arrived on this connection */
};

/* Parses the symbol list and allocates the decoder and the session's tables.
 * Books are created later, when the instrument snapshot names their pairs.
 * Returned owned, or NULL with info filled: ERR_CONFIG (a bad symbol, depth)
 * or ERR_NOMEM. Start-up only. */
struct kr_ws_feed *kr_ws_feed_new(const struct kr_ws_feed_opts *o, struct err_info *info);
void kr_ws_feed_free(struct kr_ws_feed *f); /* NULL does nothing */

/* The connection opened: subscribe to instrument (books follow when the
 * instrument snapshot arrives). */
void kr_ws_feed_open(struct kr_ws_feed *f, uint64_t now_ns);

/* The connection closed: every book is invalidated (levels kept for display)
 * and every subscription forgotten; after the next open, each book is
 * rebuilt from a fresh snapshot. */
void kr_ws_feed_close(struct kr_ws_feed *f, uint64_t now_ns);

/* Handles one complete frame (borrowed for the call) stamped recv_ns.
 * Returns kr_decode's result: 0, or the negative code of a rejected frame,
 * which has been counted and logged (rate-limited); the session carries on.
 * Never allocates. */
int kr_ws_feed_frame(struct kr_ws_feed *f, const char *frame, size_t len, uint64_t recv_ns);

/* Housekeeping, a few times a second: sends requests that could not be sent
 * before, and resubscribes symbols whose snapshot has not come within 15 s. */
void kr_ws_feed_tick(struct kr_ws_feed *f, uint64_t now_ns);

/* Counters, with staleness judged at now_ns against max_age_ns. */
void kr_ws_feed_stats(const struct kr_ws_feed *f, uint64_t now_ns, uint64_t max_age_ns,
		      struct kr_ws_feed_stats *out);

/* Books, 0..count-1, in order of creation. Borrowed until kr_ws_feed_free. */
size_t kr_ws_feed_book_count(const struct kr_ws_feed *f);
const struct book *kr_ws_feed_book(const struct kr_ws_feed *f, size_t i);
/* The book of symbol, or NULL. */
const struct book *kr_ws_feed_find(const struct kr_ws_feed *f, const char *symbol);
/* The decoder (its instrument table). Borrowed. */
const struct kr_decoder *kr_ws_feed_decoder(const struct kr_ws_feed *f);

#endif

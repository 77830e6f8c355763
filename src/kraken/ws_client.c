/* One libwebsockets client connection with reconnects, idle pings and a
 * silence watchdog. The lws context, the reassembly buffer and the send
 * queue are allocated in kr_ws_new; nothing is allocated per frame.
 *
 * lws_service() ignores its timeout since lws 3.2, so a 50 ms sorted-usec
 * timer keeps the loop turning: each kr_ws_service() call then returns at
 * least that often and runs the timers (ping, watchdog, reconnect) outside
 * the lws callbacks. */
#include <libwebsockets.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "kraken/ws.h"

#define TICK_US	      50000
#define CONNECT_TO_NS (10ull * 1000000000ull) /* a handshake that takes longer fails */
/* A connection that lived this long worked: the backoff starts over. One
 * that dies sooner counts as a failure, so a server that accepts and drops
 * at once is not hammered at the minimum delay. */
#define STABLE_NS (10ull * 1000000000ull)

enum conn_state { ST_IDLE = 0, ST_CONNECTING, ST_OPEN };

struct tx_slot {
	size_t len;
	uint64_t origin_ns;
	unsigned char buf[LWS_PRE + KR_WS_TX_MAX];
};

struct kr_ws {
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
	struct kr_ws_cb cb;
	struct kr_ws_url url;
	char host_hdr[sizeof(((struct kr_ws_url *)0)->host) + 8];
	uint64_t ping_ns, timeout_ns;
	enum conn_state state;
	uint64_t state_ns; /* when state was entered */
	uint64_t next_attempt_ns;
	uint64_t last_rx_ns, last_tx_ns;
	bool slow;
	bool ever_open;
	bool closing;	/* a close was requested for the current wsi */
	bool wrote_now; /* kr_ws_send_now wrote since the last service turn */
	bool freeing;	/* kr_ws_free is tearing the context down */
	uint64_t ping_id;

	struct kr_ws_backoff bo;
	struct kr_ws_reasm rx;
	struct tx_slot *txq; /* KR_WS_TX_QUEUE, circular */
	unsigned tx_head, tx_n;

	struct kr_ws_stats st;
	struct log_ratelimit rl;
};

static void lws_log(int level, const char *line)
{
	char q[200];
	size_t n = strlen(line);
	char buf[sizeof q];
	/* lws ends its lines with a newline. */
	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (level & LLL_ERR)
		LOG_WARN("lws", "libwebsockets", "line=%s", log_q(q, sizeof q, buf));
	else
		LOG_DEBUG("lws", "libwebsockets", "line=%s", log_q(q, sizeof q, buf));
}

static void schedule_attempt(struct kr_ws *ws, uint64_t now)
{
	uint64_t ms = kr_ws_backoff_next(&ws->bo, now, ws->slow);
	ws->next_attempt_ns = now + ms * 1000000u;
	ws->state = ST_IDLE;
	ws->state_ns = now;
	LOG_INFO("kraken", "websocket reconnect scheduled",
		 "host=%s path=%s in_ms=%llu failures=%u", ws->url.host, ws->url.path,
		 (unsigned long long)ms, ws->bo.failures);
}

/* The wsi went away: before (connect error) or after the handshake. */
static void lost(struct kr_ws *ws, bool was_open)
{
	uint64_t now = clock_mono_ns();
	ws->wsi = NULL;
	ws->closing = false;
	ws->tx_n = 0;
	kr_ws_reasm_reset(&ws->rx);
	if (ws->freeing)
		return;
	if (was_open) {
		if (now - ws->state_ns >= STABLE_NS)
			kr_ws_backoff_success(&ws->bo);
		ws->st.closes++;
		if (ws->cb.on_close)
			ws->cb.on_close(ws->cb.ctx, now);
	} else {
		ws->st.connect_errors++;
	}
	schedule_attempt(ws, now);
}

static int on_receive(struct kr_ws *ws, struct lws *wsi, const void *in, size_t len)
{
	uint64_t now = clock_mono_ns();
	ws->last_rx_ns = now;
	bool last = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
	enum kr_ws_reasm_rc r = kr_ws_reasm_push(&ws->rx, in, len, last);
	if (r == KR_WS_REASM_MORE)
		return 0;
	if (r == KR_WS_REASM_DROPPED) {
		ws->st.oversize++;
		if (log_ratelimit_ok(&ws->rl, now, 1000000000ull))
			LOG_WARN("kraken", "websocket frame over capacity dropped",
				 "capacity=%zu dropped=%llu", ws->rx.cap,
				 (unsigned long long)ws->st.oversize);
		return 0;
	}
	if (lws_frame_is_binary(wsi)) {
		ws->st.binary++;
		return 0;
	}
	ws->st.frames++;
	ws->st.bytes += ws->rx.len;
	ws->cb.on_frame(ws->cb.ctx, ws->rx.buf, ws->rx.len, now);
	return 0;
}

static int on_writeable(struct kr_ws *ws, struct lws *wsi)
{
	if (ws->closing)
		return -1;
	if (ws->tx_n == 0)
		return 0;
	struct tx_slot *s = &ws->txq[ws->tx_head];
	/* "On the wire" is the hand-over to the kernel: what the network
	 * stack does with it (loopback delivery included) is not ours. */
	uint64_t t = s->origin_ns ? clock_mono_ns() : 0;
	int w = lws_write(wsi, s->buf + LWS_PRE, s->len, LWS_WRITE_TEXT);
	if (w < (int)s->len)
		return -1;
	ws->tx_head = (ws->tx_head + 1) % KR_WS_TX_QUEUE;
	ws->tx_n--;
	ws->st.sent++;
	ws->last_tx_ns = clock_mono_ns();
	if (s->origin_ns && ws->cb.on_sent)
		ws->cb.on_sent(ws->cb.ctx, s->origin_ns, t);
	if (ws->tx_n)
		lws_callback_on_writable(wsi);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	(void)user;
	struct kr_ws *ws = lws_context_user(lws_get_context(wsi));
	if (!ws || (ws->wsi != wsi && reason != LWS_CALLBACK_EVENT_WAIT_CANCELLED))
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED: {
		uint64_t now = clock_mono_ns();
		ws->state = ST_OPEN;
		ws->state_ns = now;
		ws->last_rx_ns = ws->last_tx_ns = now;
		ws->st.opens++;
		if (ws->ever_open)
			ws->st.reconnects++;
		ws->ever_open = true;
		LOG_INFO("kraken", "websocket connected", "host=%s port=%u path=%s tls=%s",
			 ws->url.host, ws->url.port, ws->url.path, ws->url.tls ? "yes" : "no");
		if (ws->cb.on_open)
			ws->cb.on_open(ws->cb.ctx, now);
		break;
	}
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(ws, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(ws, wsi);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		char q[200];
		LOG_WARN("kraken", "websocket connect failed", "host=%s port=%u err=%s",
			 ws->url.host, ws->url.port,
			 log_q(q, sizeof q, in ? (const char *)in : "unknown"));
		lost(ws, false);
		break;
	}
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY: {
		bool was_open = ws->state == ST_OPEN;
		if (was_open && !ws->freeing)
			LOG_WARN("kraken", "websocket closed", "host=%s port=%u", ws->url.host,
				 ws->url.port);
		lost(ws, was_open);
		break;
	}
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
    {.name = "arbitrade-kraken", .callback = callback, .rx_buffer_size = 65536}, {0}};

static void tick_cb(lws_sorted_usec_list_t *sul)
{
	struct kr_ws *ws = lws_container_of(sul, struct kr_ws, sul);
	lws_sul_schedule(ws->ctx, 0, &ws->sul, tick_cb, TICK_US);
}

struct kr_ws *kr_ws_new(const struct kr_ws_opts *o, const struct kr_ws_cb *cb,
			struct err_info *info)
{
	struct kr_ws *ws = NULL;
	if (!o || !cb || !cb->on_frame) {
		err_set(info, ERR_INVALID, "kr_ws_new: missing options or on_frame");
		return NULL;
	}
	ws = calloc(1, sizeof *ws);
	if (!ws)
		goto nomem;
	if (kr_ws_url_parse(o->url, &ws->url, info) != 0)
		goto fail;
	ws->cb = *cb;
	ws->ping_ns = (uint64_t)(o->ping_interval_ms ? o->ping_interval_ms : 20000) * 1000000u;
	ws->timeout_ns =
	    (uint64_t)(o->heartbeat_timeout_ms ? o->heartbeat_timeout_ms : 10000) * 1000000u;
	uint64_t seed = o->seed ? o->seed : clock_mono_ns() ^ (uint64_t)clock_wall_ns();
	kr_ws_backoff_init(&ws->bo, o->reconnect_min_ms ? o->reconnect_min_ms : 1000,
			   o->reconnect_max_ms ? o->reconnect_max_ms : 60000, seed);
	if (kr_ws_reasm_init(&ws->rx, o->max_frame ? o->max_frame : KR_WS_DEFAULT_MAX_FRAME) != 0)
		goto nomem;
	ws->txq = calloc(KR_WS_TX_QUEUE, sizeof *ws->txq);
	if (!ws->txq)
		goto nomem;
	/* Host names the port only when it is not the scheme's default; lws
	 * takes the SNI name from it, without the port. */
	if (ws->url.port == (ws->url.tls ? 443 : 80))
		snprintf(ws->host_hdr, sizeof ws->host_hdr, "%s", ws->url.host);
	else
		snprintf(ws->host_hdr, sizeof ws->host_hdr, "%s:%u", ws->url.host, ws->url.port);

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	struct lws_context_creation_info ci;
	memset(&ci, 0, sizeof ci);
	ci.port = CONTEXT_PORT_NO_LISTEN;
	ci.protocols = protocols;
	ci.user = ws;
	ci.gid = -1;
	ci.uid = -1;
	if (ws->url.tls)
		ci.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ws->ctx = lws_create_context(&ci);
	if (!ws->ctx) {
		err_set(info, ERR_NET, "cannot create the libwebsockets context");
		goto fail;
	}
	lws_sul_schedule(ws->ctx, 0, &ws->sul, tick_cb, TICK_US);
	ws->state = ST_IDLE;
	ws->next_attempt_ns = clock_mono_ns();
	return ws;
nomem:
	err_set(info, ERR_NOMEM, "out of memory creating the WebSocket client");
fail:
	kr_ws_free(ws);
	return NULL;
}

void kr_ws_free(struct kr_ws *ws)
{
	if (!ws)
		return;
	if (ws->ctx) {
		/* Destroying the context fires WSI_DESTROY; on_close must not run
		 * into a caller that is tearing down. */
		ws->freeing = true;
		lws_sul_cancel(&ws->sul);
		lws_context_destroy(ws->ctx);
	}
	kr_ws_reasm_release(&ws->rx);
	free(ws->txq);
	free(ws);
}

int kr_ws_send(struct kr_ws *ws, const char *text, size_t len)
{
	return kr_ws_send_at(ws, text, len, 0);
}

int kr_ws_send_at(struct kr_ws *ws, const char *text, size_t len, uint64_t origin_ns)
{
	if (ws->state != ST_OPEN || !ws->wsi)
		return ERR_BADSTATE;
	if (len > KR_WS_TX_MAX)
		return ERR_RANGE;
	if (ws->tx_n == KR_WS_TX_QUEUE) {
		ws->st.tx_full++;
		return ERR_FULL;
	}
	struct tx_slot *s = &ws->txq[(ws->tx_head + ws->tx_n) % KR_WS_TX_QUEUE];
	memcpy(s->buf + LWS_PRE, text, len);
	s->len = len;
	s->origin_ns = origin_ns;
	ws->tx_n++;
	lws_callback_on_writable(ws->wsi);
	return 0;
}

static void connect_now(struct kr_ws *ws, uint64_t now)
{
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof ci);
	ci.context = ws->ctx;
	ci.address = ws->url.host;
	ci.port = ws->url.port;
	ci.path = ws->url.path;
	/* The Host header and, with TLS, the SNI name. */
	ci.host = ws->host_hdr;
	ci.origin = ws->host_hdr;
	ci.ssl_connection = ws->url.tls ? LCCSCF_USE_SSL : 0;
	ci.protocol = NULL;
	ci.local_protocol_name = protocols[0].name;
	ci.pwsi = &ws->wsi;
	ws->state = ST_CONNECTING;
	ws->state_ns = now;
	ws->st.attempts++;
	kr_ws_backoff_attempt(&ws->bo, now);
	if (!lws_client_connect_via_info(&ci)) {
		/* The failure may already have been reported through the
		 * CONNECTION_ERROR callback, which rescheduled. */
		if (ws->state == ST_CONNECTING) {
			ws->wsi = NULL;
			ws->st.connect_errors++;
			schedule_attempt(ws, now);
		}
	}
}

static void request_close(struct kr_ws *ws)
{
	if (!ws->wsi || ws->closing)
		return;
	ws->closing = true;
	lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void timers(struct kr_ws *ws, uint64_t now)
{
	if (ws->state == ST_IDLE && now >= ws->next_attempt_ns) {
		connect_now(ws, now);
		return;
	}
	if (ws->state == ST_CONNECTING && now - ws->state_ns > CONNECT_TO_NS)
		request_close(ws);
	if (ws->state != ST_OPEN || ws->closing)
		return;
	switch (
	    kr_ws_idle_check(now, ws->last_rx_ns, ws->last_tx_ns, ws->ping_ns, ws->timeout_ns)) {
	case KR_WS_IDLE_DEAD:
		ws->st.watchdog++;
		LOG_WARN("kraken", "websocket silent: reconnecting", "silent_ms=%llu",
			 (unsigned long long)((now - ws->last_rx_ns) / 1000000u));
		request_close(ws);
		break;
	case KR_WS_IDLE_PING: {
		char buf[64];
		int n = kr_encode_ping(buf, sizeof buf, ++ws->ping_id);
		if (n > 0 && kr_ws_send(ws, buf, (size_t)n) == 0) {
			ws->st.pings++;
			/* Counted as sent once queued, so a slow write does not
			 * queue a second ping. */
			ws->last_tx_ns = now;
		}
		break;
	}
	case KR_WS_IDLE_OK:
		break;
	}
}

int kr_ws_send_now(struct kr_ws *ws, const char *text, size_t len, uint64_t origin_ns)
{
	if (ws->state != ST_OPEN || !ws->wsi || ws->closing || ws->tx_n || ws->wrote_now ||
	    len > KR_WS_TX_MAX || lws_send_pipe_choked(ws->wsi))
		return kr_ws_send_at(ws, text, len, origin_ns);
	/* The slot the queue would use next is free: lws needs LWS_PRE
	 * bytes before the payload. */
	struct tx_slot *s = &ws->txq[ws->tx_head];
	memcpy(s->buf + LWS_PRE, text, len);
	uint64_t t = clock_mono_ns();
	int w = lws_write(ws->wsi, s->buf + LWS_PRE, len, LWS_WRITE_TEXT);
	ws->wrote_now = true;
	if (w < (int)len) {
		request_close(ws);
		return 0;
	}
	ws->st.sent++;
	ws->last_tx_ns = clock_mono_ns();
	if (origin_ns && ws->cb.on_sent)
		ws->cb.on_sent(ws->cb.ctx, origin_ns, t);
	return 0;
}

int kr_ws_service(struct kr_ws *ws)
{
	ws->wrote_now = false;
	int rc = lws_service(ws->ctx, 0);
	timers(ws, clock_mono_ns());
	return rc < 0 ? ERR_NET : 0;
}

int kr_ws_poll(struct kr_ws *ws)
{
	/* A negative timeout makes lws poll() with 0: nothing waits. */
	ws->wrote_now = false;
	int rc = lws_service(ws->ctx, -1);
	timers(ws, clock_mono_ns());
	return rc < 0 ? ERR_NET : 0;
}

void kr_ws_warm(struct kr_ws *ws)
{
	const struct tx_slot *s = &ws->txq[(ws->tx_head + ws->tx_n) % KR_WS_TX_QUEUE];
	const volatile unsigned char *b = s->buf;
	/* One read per cache line of a typical request (add_order: ~400 B). */
	for (size_t i = 0; i < LWS_PRE + 512 && i < sizeof s->buf; i += 64)
		(void)b[i];
}

void kr_ws_wake(struct kr_ws *ws)
{
	lws_cancel_service(ws->ctx);
}

void kr_ws_set_slow(struct kr_ws *ws, bool slow)
{
	ws->slow = slow;
}

void kr_ws_stats(const struct kr_ws *ws, struct kr_ws_stats *out)
{
	*out = ws->st;
	out->connected = ws->state == ST_OPEN && !ws->closing;
	out->next_attempt_ms = 0;
	if (ws->state == ST_IDLE) {
		uint64_t now = clock_mono_ns();
		out->next_attempt_ms =
		    ws->next_attempt_ns > now ? (ws->next_attempt_ns - now) / 1000000u : 0;
	}
	out->oversize = ws->rx.oversize;
}

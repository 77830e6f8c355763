/* The market-data thread: one kr_ws connection feeding one kr_ws_feed
 * session, and the counters it publishes for /health.
 *
 * Per frame the md thread runs kr_ws_feed_frame (decode, book, checksum),
 * then the tap (record), and for each change of a book md_book_changed,
 * the one place where the detector is called. Counters go to other threads
 * through a seqlock of relaxed atomics, written a few times a second: the md
 * thread never waits for a reader. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "app/app_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "kraken/ws.h"
#include "web/web.h"

#define PUBLISH_NS (200ull * 1000000ull)
#define RATE_NS	   (1000ull * 1000000ull)
#define NWORDS	   (sizeof(struct app_md_health) / sizeof(uint64_t))

_Static_assert(sizeof(struct app_md_health) % sizeof(uint64_t) == 0,
	       "app_md_health must be made of uint64_t words");

struct app_md {
	const struct config *cfg;
	struct kr_ws *ws;
	struct kr_ws_feed *feed;
	struct app_md_opts o;
	uint64_t max_age_ns;

	atomic_bool stop;
	bool thread_started;
	pthread_t thread;

	uint64_t last_publish_ns;
	uint64_t rate_ns, rate_msgs, rate_milli;

	/* Seqlock: odd while the md thread writes words. */
	atomic_uint seq;
	_Atomic uint64_t words[NWORDS];
};

/* Every change of a book passes here, on the md thread, right after it
 * happened: each applied message (valid or not: check book_valid) and each
 * invalidation on disconnect. This is where the detector is called
 * (o.on_book, set by the pipeline). Must not allocate, lock or log
 * synchronously. */
static void md_book_changed(void *ctx, const struct book *b, uint32_t pair_id, uint64_t recv_ns)
{
	struct app_md *m = ctx;
	if (m->o.on_book)
		m->o.on_book(m->o.on_book_ctx, b, pair_id, recv_ns);
}

/* Books were created or rebuilt: whoever holds book pointers rebinds. */
static void md_books_rebuilt(void *ctx, const struct kr_ws_feed *f)
{
	struct app_md *m = ctx;
	if (m->o.on_books)
		m->o.on_books(m->o.on_books_ctx, f);
}

static int md_send(void *ctx, const char *text, size_t len)
{
	struct app_md *m = ctx;
	return kr_ws_send(m->ws, text, len);
}

static void md_on_frame(void *ctx, const char *frame, size_t len, uint64_t recv_ns)
{
	struct app_md *m = ctx;
	int rc = kr_ws_feed_frame(m->feed, frame, len, recv_ns);
	if (m->o.tap)
		m->o.tap(m->o.tap_ctx, frame, len, recv_ns, rc);
}

static void md_on_open(void *ctx, uint64_t now_ns)
{
	struct app_md *m = ctx;
	kr_ws_feed_open(m->feed, now_ns);
}

static void md_on_close(void *ctx, uint64_t now_ns)
{
	struct app_md *m = ctx;
	kr_ws_feed_close(m->feed, now_ns);
}

struct app_md *app__md_new(const struct config *cfg, const struct app_md_opts *o)
{
	struct err_info info = {0};
	struct app_md *m = calloc(1, sizeof *m);
	if (!m) {
		LOG_ERROR("md", "out of memory creating market data", NULL);
		return NULL;
	}
	m->cfg = cfg;
	if (o)
		m->o = *o;
	m->max_age_ns = (uint64_t)cfg->arb.max_book_age_ms * 1000000u;
	atomic_init(&m->stop, false);
	atomic_init(&m->seq, 0);
	for (size_t i = 0; i < NWORDS; i++)
		atomic_init(&m->words[i], 0);

	struct kr_ws_feed_opts fo = {
	    .symbols = m->o.symbols ? m->o.symbols : cfg->book.symbols,
	    .depth = cfg->book.depth,
	    .cb = {.send = md_send,
		   .on_book = md_book_changed,
		   .on_books = md_books_rebuilt,
		   .ctx = m},
	};
	m->o.symbols = NULL; /* borrowed during new only */
	m->feed = kr_ws_feed_new(&fo, &info);
	if (!m->feed) {
		LOG_ERROR("md", "cannot set up market data", "err=\"%s\"", info.msg);
		goto fail;
	}
	struct kr_ws_opts wo = {
	    .url = cfg->kraken.ws_url,
	    .ping_interval_ms = cfg->kraken.ws_ping_interval_ms,
	    .heartbeat_timeout_ms = cfg->kraken.ws_heartbeat_timeout_ms,
	    .reconnect_min_ms = cfg->kraken.ws_reconnect_min_ms,
	    .reconnect_max_ms = cfg->kraken.ws_reconnect_max_ms,
	};
	struct kr_ws_cb cb = {
	    .on_frame = md_on_frame, .on_open = md_on_open, .on_close = md_on_close, .ctx = m};
	m->ws = kr_ws_new(&wo, &cb, &info);
	if (!m->ws) {
		LOG_ERROR("md", "cannot set up the WebSocket client", "err=\"%s\"", info.msg);
		goto fail;
	}
	return m;
fail:
	app__md_free(m);
	return NULL;
}

static void publish(struct app_md *m, uint64_t now)
{
	struct kr_ws_feed_stats fs;
	struct kr_ws_stats ws;
	struct app_md_health h;
	uint64_t w[NWORDS];

	kr_ws_feed_stats(m->feed, now, m->max_age_ns, &fs);
	kr_ws_stats(m->ws, &ws);
	if (m->rate_ns == 0) {
		m->rate_ns = now;
		m->rate_msgs = fs.messages;
	} else if (now - m->rate_ns >= RATE_NS) {
		m->rate_milli =
		    (fs.messages - m->rate_msgs) * 1000000000000ull / (now - m->rate_ns);
		m->rate_ns = now;
		m->rate_msgs = fs.messages;
	}
	memset(&h, 0, sizeof h);
	h.connected = ws.connected;
	h.system = (uint64_t)fs.system;
	h.books = fs.books;
	h.books_live = fs.valid;
	h.books_invalid = fs.invalid;
	h.books_stale = fs.stale;
	h.books_missing = fs.missing;
	h.messages = fs.messages;
	h.parse_errors = fs.parse_errors;
	h.book_messages = fs.book_messages;
	h.checksum_failures = fs.checksum_failures;
	h.resubscribes = fs.resubscribes;
	h.subscribe_errors = fs.subscribe_errors;
	h.reconnects = ws.reconnects;
	h.watchdog = ws.watchdog;
	h.oversize = ws.oversize;
	h.msg_rate_milli = m->rate_milli;
	h.published_ns = now;
	memcpy(w, &h, sizeof w);

	unsigned s = atomic_load_explicit(&m->seq, memory_order_relaxed);
	atomic_store_explicit(&m->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < NWORDS; i++)
		atomic_store_explicit(&m->words[i], w[i], memory_order_relaxed);
	atomic_store_explicit(&m->seq, s + 2, memory_order_release);

	/* While the exchange is not online, reconnect no faster than Kraken
	 * asks (PROTOCOL.md §1). */
	kr_ws_set_slow(m->ws, fs.system != KR_SYSTEM_ONLINE && fs.system != KR_SYSTEM_UNKNOWN);
}

void app__md_read(const struct app_md *m, struct app_md_health *out)
{
	uint64_t w[NWORDS];
	struct app_md *mm = (struct app_md *)m; /* the atomics are only read */
	for (;;) {
		unsigned s1 = atomic_load_explicit(&mm->seq, memory_order_acquire);
		if (s1 & 1u)
			continue;
		for (size_t i = 0; i < NWORDS; i++)
			w[i] = atomic_load_explicit(&mm->words[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&mm->seq, memory_order_relaxed) == s1)
			break;
	}
	memcpy(out, w, sizeof w);
}

int app__md_run(struct app_md *m, uint64_t deadline_ns)
{
	int rc = 0;
	publish(m, clock_mono_ns());
	while (!atomic_load_explicit(&m->stop, memory_order_relaxed) && !app__stop_requested()) {
		rc = kr_ws_service(m->ws);
		if (rc != 0) {
			LOG_ERROR_ERR("md", "WebSocket service failed", rc, "url=%s",
				      m->cfg->kraken.ws_url);
			break;
		}
		uint64_t now = clock_mono_ns();
		if (now - m->last_publish_ns >= PUBLISH_NS) {
			kr_ws_feed_tick(m->feed, now);
			publish(m, now);
			m->last_publish_ns = now;
		}
		if (deadline_ns && now >= deadline_ns)
			break;
	}
	publish(m, clock_mono_ns());
	return rc;
}

static void *md_thread(void *arg)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	app__md_run(arg, 0);
	return NULL;
}

int app__md_start(struct app_md *m)
{
	int rc = pthread_create(&m->thread, NULL, md_thread, m);
	if (rc != 0)
		return -rc;
	pthread_setname_np(m->thread, "arb-md"); /* for top -H, perf, ps -L */
	m->thread_started = true;
	return 0;
}

void app__md_stop(struct app_md *m)
{
	if (!m)
		return;
	atomic_store(&m->stop, true);
	if (m->ws)
		kr_ws_wake(m->ws);
	if (m->thread_started) {
		pthread_join(m->thread, NULL);
		m->thread_started = false;
	}
}

const struct kr_ws_feed *app__md_feed(const struct app_md *m)
{
	return m->feed;
}

void app__md_health_json(const struct app_md *m, struct web_buf *out)
{
	struct app_md_health h;
	app__md_read(m, &h);
	web_buf_appendf(out,
			",\"feed\":{\"connected\":%s,\"system_status\":\"%s\",\"books\":%llu,"
			"\"books_live\":%llu,\"books_invalid\":%llu,\"books_stale\":%llu,"
			"\"books_missing\":%llu,\"checksum_failures\":%llu,\"resubscribes\":%llu,"
			"\"reconnects\":%llu,\"messages\":%llu,\"message_rate\":%.3f,"
			"\"parse_errors\":%llu,\"book_messages\":%llu,\"subscribe_errors\":%llu,"
			"\"watchdog_timeouts\":%llu,\"oversize_frames\":%llu}",
			h.connected ? "true" : "false",
			kr_system_status_str((enum kr_system_status)h.system),
			(unsigned long long)h.books, (unsigned long long)h.books_live,
			(unsigned long long)h.books_invalid, (unsigned long long)h.books_stale,
			(unsigned long long)h.books_missing,
			(unsigned long long)h.checksum_failures, (unsigned long long)h.resubscribes,
			(unsigned long long)h.reconnects, (unsigned long long)h.messages,
			(double)h.msg_rate_milli / 1000.0, (unsigned long long)h.parse_errors,
			(unsigned long long)h.book_messages, (unsigned long long)h.subscribe_errors,
			(unsigned long long)h.watchdog, (unsigned long long)h.oversize);
}

void app__md_free(struct app_md *m)
{
	if (!m)
		return;
	app__md_stop(m);
	kr_ws_free(m->ws);
	kr_ws_feed_free(m->feed);
	free(m);
}

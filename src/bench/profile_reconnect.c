/* reconnect_storm (profile.h): the simulator in this process (sim_new, and
 * sim_run on a thread of its own) on 127.0.0.1, the real market-data
 * session against it (kr_ws, the libwebsockets client, feeding kr_ws_feed,
 * the session md.c runs), and repeated POST /control/drop. Per drop, from
 * just before the POST: reopen (the new connection's handshake completed)
 * and recover (every book valid again, each with a verified message after
 * the drop). The reconnect delay is the client's backoff minimum, set to
 * RECONNECT_MIN_MS here (production: KRAKEN_WS_RECONNECT_MIN_MS, 1 s by
 * default, which then adds to every recovery).
 *
 * Bounded: at most opts->drops drops (cap MAX_DROPS) and opts->max_seconds
 * in all; one recovery may take at most RECOVER_TIMEOUT_MS. */
#include "bench/profile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "book/book.h"
#include "core/alloc_count.h"
#include "core/clock.h"
#include "kraken/ws.h"
#include "sim/sim.h"

#define RECONNECT_MIN_MS   20u
#define RECONNECT_MAX_MS   200u
#define RECOVER_TIMEOUT_MS 15000u
#define MAX_DROPS	   50u

struct storm {
	struct kr_ws *ws;
	struct kr_ws_feed *feed;
	uint64_t opens, closes;
	uint64_t open_ns;     /* last handshake */
	uint64_t open_allocs; /* alloc_count() then */
};

static void *sim_thread(void *arg)
{
	(void)sim_run(arg);
	return NULL;
}

static int st_send(void *ctx, const char *text, size_t len)
{
	struct storm *s = ctx;

	return kr_ws_send(s->ws, text, len);
}

static void st_frame(void *ctx, const char *frame, size_t len, uint64_t recv_ns)
{
	struct storm *s = ctx;

	(void)kr_ws_feed_frame(s->feed, frame, len, recv_ns);
}

static void st_open(void *ctx, uint64_t now_ns)
{
	struct storm *s = ctx;

	s->opens++;
	s->open_ns = now_ns;
	s->open_allocs = alloc_count();
	kr_ws_feed_open(s->feed, now_ns);
}

static void st_close(void *ctx, uint64_t now_ns)
{
	struct storm *s = ctx;

	s->closes++;
	kr_ws_feed_close(s->feed, now_ns);
}

/* POST path to the simulator's control endpoint; 0 when it answers 200. */
static int control_post(uint16_t port, const char *path, struct err_info *info)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 5};
	char req[256], resp[512];
	size_t got = 0;
	int fd, n, rc = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(info, -errno, "control: socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = snprintf(req, sizeof(req),
		     "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Length: 0\r\n"
		     "Connection: close\r\n\r\n",
		     path, (unsigned)port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		rc = err_set(info, -errno, "control: POST %s: %s", path, strerror(errno));
		goto cleanup;
	}
	/* The status line is enough; read until it is complete. */
	while (got < sizeof(resp) - 1 && !memchr(resp, '\n', got)) {
		ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	resp[got] = '\0';
	if (got < 12 || memcmp(resp, "HTTP/1.", 7) != 0 || memcmp(resp + 9, "200", 3) != 0)
		rc = err_set(info, ERR_NET, "control: POST %s answered \"%.40s\"", path,
			     got ? resp : "nothing");
cleanup:
	close(fd);
	return rc;
}

/* True when every book is valid with a message after since_ns. */
static bool all_fresh(const struct storm *s, uint64_t since_ns)
{
	size_t n = kr_ws_feed_book_count(s->feed);

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct book *b = kr_ws_feed_book(s->feed, i);

		if (!b || !book_valid(b) || book_last_update_ns(b) <= since_ns)
			return false;
	}
	return true;
}

/* Services the connection until every book is fresh since since_ns and,
 * with reopen, the connection closed and opened again after closes_before /
 * opens_before; or timeout_ms passes. */
static int serve_until(struct storm *s, uint64_t since_ns, bool reopen, uint64_t closes_before,
		       uint64_t opens_before, uint32_t timeout_ms, struct err_info *info)
{
	uint64_t end = clock_mono_ns() + (uint64_t)timeout_ms * 1000000u, last_tick = 0;

	for (;;) {
		uint64_t now = clock_mono_ns();
		int rc;

		if ((!reopen || (s->closes > closes_before && s->opens > opens_before)) &&
		    all_fresh(s, since_ns))
			return 0;
		if (now > end)
			return err_set(info, ERR_TIMEOUT,
				       "reconnect_storm: books not all valid %u ms after the drop "
				       "(%zu books, %llu opens, %llu closes)",
				       (unsigned)timeout_ms, kr_ws_feed_book_count(s->feed),
				       (unsigned long long)s->opens, (unsigned long long)s->closes);
		if ((rc = kr_ws_service(s->ws)) != 0)
			return err_set(info, rc, "reconnect_storm: kr_ws_service: %s", err_str(rc));
		if (now - last_tick > 100000000u) {
			kr_ws_feed_tick(s->feed, now);
			last_tick = now;
		}
	}
}

int prof_reconnect(const struct prof_opts *o, struct prof_scenario *sc, struct err_info *info)
{
	struct sim_opts so = {.scenario_path = o->sim_scenario, .host = "127.0.0.1"};
	struct storm s;
	struct sim *sim = NULL;
	pthread_t th;
	bool running = false;
	unsigned drops = o->drops ? o->drops : 5, done = 0;
	uint64_t budget_ns = (uint64_t)(o->max_seconds ? o->max_seconds : 30) * 1000000000u;
	uint64_t w0, c0, start;
	char url[64];
	int rc = 0;

	memset(sc, 0, sizeof(*sc));
	memset(&s, 0, sizeof(s));
	snprintf(sc->name, sizeof(sc->name), "reconnect_storm");
	if (drops > MAX_DROPS)
		drops = MAX_DROPS;
	if (!(sim = sim_new(&so, info)))
		return info->code ? info->code : ERR_INVALID;
	if ((rc = pthread_create(&th, NULL, sim_thread, sim)) != 0) {
		rc = err_set(info, -rc, "reconnect_storm: cannot start the simulator thread");
		goto cleanup;
	}
	running = true;
	{
		struct kr_ws_feed_opts fo = {
		    .symbols = "all", .depth = 10, .cb = {.send = st_send, .ctx = &s}};
		struct kr_ws_opts wo = {.ping_interval_ms = 20000,
					.heartbeat_timeout_ms = 10000,
					.reconnect_min_ms = RECONNECT_MIN_MS,
					.reconnect_max_ms = RECONNECT_MAX_MS,
					.seed = o->seed ? o->seed : 1};
		struct kr_ws_cb cb = {
		    .on_frame = st_frame, .on_open = st_open, .on_close = st_close, .ctx = &s};

		snprintf(url, sizeof(url), "ws://127.0.0.1:%u/v2", (unsigned)sim_ws_port(sim));
		wo.url = url;
		if (!(s.feed = kr_ws_feed_new(&fo, info)) || !(s.ws = kr_ws_new(&wo, &cb, info))) {
			rc = info->code ? info->code : ERR_NOMEM;
			goto cleanup;
		}
	}
	/* The first connection: every book valid before the first drop. */
	if ((rc = serve_until(&s, 0, false, 0, 0, RECOVER_TIMEOUT_MS, info)) != 0)
		goto cleanup;
	prof__stage(sc, "reopen", false);
	prof__stage(sc, "recover", false);
	sc->cpu_scaled = false;
	sc->allocs_measured = alloc_count_supported();
	alloc_count_enable(true);
	w0 = start = clock_mono_ns();
	c0 = prof__cpu_ns();
	while (done < drops && clock_mono_ns() - start < budget_ns) {
		uint64_t closes = s.closes, opens = s.opens, a0 = alloc_count(), t0, t1;

		t0 = clock_mono_ns();
		if ((rc = control_post(sim_ws_port(sim), "/control/drop", info)) != 0)
			goto cleanup;
		if ((rc = serve_until(&s, t0, true, closes, opens, RECOVER_TIMEOUT_MS, info)) != 0)
			goto cleanup;
		t1 = clock_mono_ns();
		if (s.opens <= opens || s.open_ns < t0) {
			rc = err_set(info, ERR_BADSTATE,
				     "reconnect_storm: recovered without reopening");
			goto cleanup;
		}
		prof__record(&sc->st[0], s.open_ns - t0, s.open_allocs - a0, true);
		prof__record(&sc->st[1], t1 - t0, alloc_count() - a0, true);
		done++;
	}
	sc->cpu_ns = prof__cpu_ns() - c0;
	sc->wall_ns = clock_mono_ns() - w0;
	sc->events = done;
	snprintf(sc->note, sizeof(sc->note),
		 "%u drops of %u asked, %zu books at depth 10, reconnect delay %u..%u ms "
		 "(heap calls counted process-wide, simulator included)",
		 done, drops, kr_ws_feed_book_count(s.feed), RECONNECT_MIN_MS, RECONNECT_MAX_MS);
	if (done == 0)
		rc = err_set(info, ERR_TIMEOUT, "reconnect_storm: no drop within the time budget");
cleanup:
	kr_ws_free(s.ws);
	kr_ws_feed_free(s.feed);
	if (running) {
		sim_stop(sim);
		pthread_join(th, NULL);
	}
	sim_free(sim);
	return rc;
}

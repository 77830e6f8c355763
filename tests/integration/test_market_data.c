/* Scenario: the real market-data client against the real simulator.
 *
 * `arbitrade sim --scenario basic.json` runs as a child process; the test
 * drives the client in-process (kr_ws + kr_ws_feed, single-threaded) for the
 * protocol cases and runs `arbitrade run` and `arbitrade record` as child
 * processes for the rest:
 *   (a) books converge, verify, and match the simulator's GET /control/state;
 *   (b) POST /control/drop: reconnect, fresh snapshots, books valid again;
 *       POST /control/stall: the silence watchdog reconnects;
 *   (c) corrupt_checksum: exactly one resubscription, of that symbol only;
 *   (d) POST /control/malformed: counted, the connection survives;
 *   (e) maintenance status shows in /health of `arbitrade run`;
 *   (f) `arbitrade record` lines parse and their books verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "book/book.h"
#include "core/clock.h"
#include "harness.h"
#include "kraken/ws.h"

#define SYMBOLS "BTC/USD,ETH/USD,ETH/BTC"
#define NSYM	3
static const char *const syms[NSYM] = {"BTC/USD", "ETH/USD", "ETH/BTC"};

static char dir[512];
static struct h_proc sim;
static char ws_url[256];
static int ctl_port;

/* Keeps a child's pipe from filling: reads everything, keeping the tail. */
static void drain(struct h_proc *p)
{
	if (p->pid <= 0)
		return;
	if (p->out_len > sizeof(p->out) / 2) {
		size_t keep = 4096;
		memmove(p->out, p->out + p->out_len - keep, keep);
		p->out_len = keep;
		p->out[keep] = '\0';
	}
	h_drain(p);
}

static int start_sim(void)
{
	char *argv[] = {ARBITRADE_BIN, "sim", "--scenario", TEST_DATA_DIR "/sim/basic.json", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	if (h_spawn(&sim, dir, argv, envp) != 0)
		return -1;
	for (int i = 0; i < 500; i++) {
		h_drain(&sim);
		const char *r = strstr(sim.out, "\"event\":\"ready\"");
		const char *u = r ? strstr(sim.out, "\"ws_url\":\"") : NULL;
		if (u && strchr(u + 10, '"')) {
			u += 10;
			size_t n = (size_t)(strchr(u, '"') - u);
			if (n >= sizeof ws_url)
				return -1;
			memcpy(ws_url, u, n);
			ws_url[n] = '\0';
			const char *port = strrchr(ws_url, ':');
			ctl_port = port ? (int)strtol(port + 1, NULL, 10) : -1;
			return ctl_port > 0 ? 0 : -1;
		}
		if (waitpid(sim.pid, NULL, WNOHANG) == sim.pid) {
			fprintf(stderr, "sim exited early:\n%s\n", sim.out);
			sim.pid = 0;
			return -1;
		}
		h_sleep_ms(20);
	}
	fprintf(stderr, "sim not ready:\n%s\n", sim.out);
	return -1;
}

static int control(const char *method, const char *path, char *resp, size_t cap)
{
	static char local[1 << 16];
	if (!resp) {
		resp = local;
		cap = sizeof local;
	}
	return h_http(ctl_port, method, path, NULL, NULL, resp, cap);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(h_tmpdir(dir, sizeof dir), 0);
	if (start_sim() != 0)
		fail_msg("cannot start the simulator");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (sim.pid > 0) {
		kill(sim.pid, SIGTERM);
		int st = h_wait(&sim, 10000);
		if (st == -1)
			h_kill(&sim);
	}
	h_rmrf(dir);
	return 0;
}

/* ---- The in-process client ---- */

#define HIST 512

struct client {
	struct kr_ws *ws;
	struct kr_ws_feed *feed;
	/* Per symbol, the checksums of the valid states seen, newest last. */
	uint32_t hist[NSYM][HIST];
	size_t nhist[NSYM];
};

static int sym_index(const char *s)
{
	for (int i = 0; i < NSYM; i++)
		if (strcmp(s, syms[i]) == 0)
			return i;
	return -1;
}

static void c_book(void *ctx, const struct book *b, uint32_t pair_id, uint64_t recv_ns)
{
	struct client *c = ctx;
	(void)pair_id;
	(void)recv_ns;
	int i = sym_index(book_symbol(b));
	if (i < 0 || !book_valid(b))
		return;
	c->hist[i][c->nhist[i] % HIST] = book_checksum(b);
	c->nhist[i]++;
}

static int c_send(void *ctx, const char *text, size_t len)
{
	struct client *c = ctx;
	return kr_ws_send(c->ws, text, len);
}

static void c_frame(void *ctx, const char *frame, size_t len, uint64_t recv_ns)
{
	struct client *c = ctx;
	kr_ws_feed_frame(c->feed, frame, len, recv_ns);
}

static void c_open(void *ctx, uint64_t now)
{
	struct client *c = ctx;
	kr_ws_feed_open(c->feed, now);
}

static void c_close(void *ctx, uint64_t now)
{
	struct client *c = ctx;
	kr_ws_feed_close(c->feed, now);
}

static void client_start(struct client *c, uint32_t heartbeat_ms)
{
	struct err_info info = {0};
	memset(c, 0, sizeof *c);
	struct kr_ws_feed_opts fo = {
	    .symbols = SYMBOLS, .depth = 10, .cb = {.send = c_send, .on_book = c_book, .ctx = c}};
	c->feed = kr_ws_feed_new(&fo, &info);
	if (!c->feed)
		fail_msg("feed: %s", info.msg);
	struct kr_ws_opts wo = {.url = ws_url,
				.ping_interval_ms = 2000,
				.heartbeat_timeout_ms = heartbeat_ms,
				.reconnect_min_ms = 200,
				.reconnect_max_ms = 1000,
				.seed = 7};
	struct kr_ws_cb cb = {
	    .on_frame = c_frame, .on_open = c_open, .on_close = c_close, .ctx = c};
	c->ws = kr_ws_new(&wo, &cb, &info);
	if (!c->ws)
		fail_msg("client: %s", info.msg);
}

static void client_stop(struct client *c)
{
	kr_ws_free(c->ws);
	kr_ws_feed_free(c->feed);
}

static void pump(struct client *c, long ms)
{
	uint64_t end = clock_mono_ns() + (uint64_t)ms * 1000000u;
	uint64_t tick = 0;
	while (clock_mono_ns() < end) {
		assert_int_equal(kr_ws_service(c->ws), 0);
		uint64_t now = clock_mono_ns();
		if (now - tick > 100000000u) {
			kr_ws_feed_tick(c->feed, now);
			tick = now;
			drain(&sim);
		}
	}
}

static struct kr_ws_feed_stats fstats(struct client *c)
{
	struct kr_ws_feed_stats st;
	kr_ws_feed_stats(c->feed, clock_mono_ns(), 5000000000ull, &st);
	return st;
}

static struct kr_ws_stats wstats(struct client *c)
{
	struct kr_ws_stats st;
	kr_ws_stats(c->ws, &st);
	return st;
}

/* Pumps until every book is valid, up to timeout_ms. */
static bool wait_valid(struct client *c, long timeout_ms)
{
	for (long t = 0; t < timeout_ms; t += 100) {
		pump(c, 100);
		struct kr_ws_feed_stats st = fstats(c);
		if (st.books == NSYM && st.valid == NSYM)
			return true;
	}
	return false;
}

static uint64_t snapshots_of(struct client *c, const char *symbol)
{
	struct book_stats bs;
	const struct book *b = kr_ws_feed_find(c->feed, symbol);
	assert_non_null(b);
	book_stats(b, &bs);
	return bs.snapshots;
}

static bool seen(struct client *c, int i, uint32_t cs)
{
	size_t n = c->nhist[i] < HIST ? c->nhist[i] : HIST;
	for (size_t k = 0; k < n; k++)
		if (c->hist[i][k] == cs)
			return true;
	return false;
}

/* The simulator's checksum for symbol from GET /control/state. */
static bool sim_checksum(const char *state, const char *symbol, uint32_t *out)
{
	char key[64];
	snprintf(key, sizeof key, "\"%s\":{\"checksum\":", symbol);
	const char *p = strstr(state, key);
	if (!p)
		return false;
	*out = (uint32_t)strtoul(p + strlen(key), NULL, 10);
	return true;
}

/* (a) */
static void test_books_converge(void **state)
{
	(void)state;
	struct client *c = calloc(1, sizeof *c);
	client_start(c, 5000);
	assert_true(wait_valid(c, 15000));
	struct kr_ws_feed_stats st = fstats(c);
	assert_int_equal(st.checksum_failures, 0);
	assert_int_equal(st.parse_errors, 0);
	assert_int_equal(st.system, KR_SYSTEM_ONLINE);
	assert_true(st.instruments);
	pump(c, 1500);
	assert_true(fstats(c).book_messages > NSYM);

	/* The simulator's truth at some moment must be a state this client
	 * saw and verified shortly after. */
	static char resp[1 << 17];
	assert_int_equal(control("GET", "/control/state", resp, sizeof resp), 200);
	assert_non_null(strstr(resp, "\"book\""));
	for (int i = 0; i < NSYM; i++) {
		uint32_t cs = 0;
		if (!sim_checksum(resp, syms[i], &cs))
			fail_msg("no checksum for %s in /control/state: %.300s", syms[i], resp);
		bool ok = false;
		for (int t = 0; t < 30 && !(ok = seen(c, i, cs)); t++)
			pump(c, 100);
		if (!ok)
			fail_msg("%s: the simulator's checksum %u never appeared", syms[i], cs);
	}
	assert_int_equal(fstats(c).checksum_failures, 0);
	client_stop(c);
	free(c);
}

/* (b) */
static void test_drop_and_stall(void **state)
{
	(void)state;
	struct client *c = calloc(1, sizeof *c);
	client_start(c, 1500);
	assert_true(wait_valid(c, 15000));
	uint64_t snaps = snapshots_of(c, "BTC/USD");
	assert_int_equal(wstats(c).reconnects, 0);

	uint64_t t0 = clock_mono_ns();
	assert_int_equal(control("POST", "/control/drop", NULL, 0), 200);
	for (int t = 0; t < 100 && wstats(c).closes == 0; t++)
		pump(c, 50);
	assert_true(wstats(c).closes >= 1);
	for (int t = 0; t < 200 && wstats(c).reconnects == 0; t++)
		pump(c, 50);
	assert_true(wstats(c).reconnects >= 1);
	assert_true(wait_valid(c, 15000));
	/* A measurement for the log, not a check: with 200 ms minimum backoff. */
	printf("# drop to all books valid again: %.0f ms (polled every 100 ms)\n",
	       (double)(clock_mono_ns() - t0) / 1e6);
	/* Rebuilt from a fresh snapshot, not from old levels. */
	assert_true(snapshots_of(c, "BTC/USD") > snaps);
	assert_int_equal(fstats(c).checksum_failures, 0);

	/* Silence longer than the heartbeat timeout: the watchdog reconnects. */
	uint64_t rec = wstats(c).reconnects;
	assert_int_equal(control("POST", "/control/stall?ms=3000", NULL, 0), 200);
	for (int t = 0; t < 300 && wstats(c).watchdog == 0; t++)
		pump(c, 50);
	assert_true(wstats(c).watchdog >= 1);
	for (int t = 0; t < 300 && wstats(c).reconnects == rec; t++)
		pump(c, 50);
	assert_true(wstats(c).reconnects > rec);
	assert_true(wait_valid(c, 20000));
	client_stop(c);
	free(c);
}

/* (c) */
static void test_corrupt_checksum(void **state)
{
	(void)state;
	struct client *c = calloc(1, sizeof *c);
	client_start(c, 5000);
	assert_true(wait_valid(c, 15000));
	uint64_t eth = snapshots_of(c, "ETH/USD"), ethbtc = snapshots_of(c, "ETH/BTC");
	uint64_t btc = snapshots_of(c, "BTC/USD");

	assert_int_equal(control("POST", "/control/corrupt_checksum?symbol=BTC/USD", NULL, 0), 200);
	for (int t = 0; t < 200 && fstats(c).checksum_failures == 0; t++)
		pump(c, 50);
	struct kr_ws_feed_stats st = fstats(c);
	assert_int_equal(st.checksum_failures, 1);
	assert_int_equal(st.resubscribes, 1);
	assert_true(wait_valid(c, 10000));
	pump(c, 1000);
	st = fstats(c);
	assert_int_equal(st.checksum_failures, 1);
	assert_int_equal(st.resubscribes, 1);
	assert_int_equal(st.subscribe_errors, 0);
	/* Only BTC/USD got a new snapshot; the connection stayed. */
	assert_true(snapshots_of(c, "BTC/USD") > btc);
	assert_int_equal(snapshots_of(c, "ETH/USD"), eth);
	assert_int_equal(snapshots_of(c, "ETH/BTC"), ethbtc);
	assert_int_equal(wstats(c).closes, 0);

	/* A bad parameter is refused by name. */
	static char resp[4096];
	assert_int_equal(
	    control("POST", "/control/corrupt_checksum?symbol=NOPE/USD", resp, sizeof resp), 400);
	client_stop(c);
	free(c);
}

/* (d) */
static void test_malformed(void **state)
{
	(void)state;
	struct client *c = calloc(1, sizeof *c);
	client_start(c, 5000);
	assert_true(wait_valid(c, 15000));
	uint64_t msgs = fstats(c).messages;
	assert_int_equal(control("POST", "/control/malformed", NULL, 0), 200);
	for (int t = 0; t < 100 && fstats(c).parse_errors == 0; t++)
		pump(c, 50);
	assert_int_equal(fstats(c).parse_errors, 1);
	pump(c, 1000);
	struct kr_ws_feed_stats st = fstats(c);
	assert_true(st.messages > msgs + 1);
	assert_int_equal(st.valid, NSYM);
	assert_int_equal(st.parse_errors, 1);
	assert_int_equal(wstats(c).closes, 0);
	client_stop(c);
	free(c);
}

/* Frames over the reassembly capacity are dropped and counted; the
 * connection carries on with the small ones (status, heartbeats). */
static void test_oversize(void **state)
{
	(void)state;
	struct err_info info = {0};
	struct client *c = calloc(1, sizeof *c);
	struct kr_ws_feed_opts fo = {
	    .symbols = SYMBOLS, .depth = 10, .cb = {.send = c_send, .on_book = c_book, .ctx = c}};
	c->feed = kr_ws_feed_new(&fo, &info);
	assert_non_null(c->feed);
	struct kr_ws_opts wo = {.url = ws_url,
				.ping_interval_ms = 1000,
				.heartbeat_timeout_ms = 5000,
				.reconnect_min_ms = 200,
				.reconnect_max_ms = 1000,
				.max_frame = 400};
	struct kr_ws_cb cb = {
	    .on_frame = c_frame, .on_open = c_open, .on_close = c_close, .ctx = c};
	c->ws = kr_ws_new(&wo, &cb, &info);
	assert_non_null(c->ws);
	for (int t = 0; t < 100 && wstats(c).oversize == 0; t++)
		pump(c, 50);
	pump(c, 1500);
	struct kr_ws_stats ws = wstats(c);
	assert_true(ws.oversize >= 1); /* the instrument snapshot */
	assert_true(ws.frames >= 1);
	assert_int_equal(ws.closes, 0);
	assert_true(ws.connected);
	/* Nothing was sent after the instrument request: idle pings went out
	 * (and the pongs, small frames, came back). */
	assert_true(ws.pings >= 1);
	struct kr_ws_feed_stats st = fstats(c);
	assert_false(st.instruments);
	assert_int_equal(st.books, 0);
	assert_int_equal(st.parse_errors, 0);
	client_stop(c);
	free(c);
}

/* ---- Child processes ---- */

static void make_env(char **envp, char kv[][700], const char *port_kv)
{
	size_t n = 0;
	snprintf(kv[n++], 700, "PATH=/usr/bin:/bin");
	snprintf(kv[n++], 700, "HOME=%s", dir);
	snprintf(kv[n++], 700, "XDG_CONFIG_HOME=%s/config", dir);
	snprintf(kv[n++], 700, "DUCKDB_PATH=%s/md.duckdb", dir);
	snprintf(kv[n++], 700, "APP_ENV=dev");
	snprintf(kv[n++], 700, "DASHBOARD_AUTH=off");
	snprintf(kv[n++], 700, "KRAKEN_WS_URL=%s", ws_url);
	snprintf(kv[n++], 700, "BOOK_SYMBOLS=%s", SYMBOLS);
	snprintf(kv[n++], 700, "KRAKEN_WS_RECONNECT_MIN_MS=500");
	snprintf(kv[n++], 700, "KRAKEN_WS_RECONNECT_MAX_MS=1000");
	snprintf(kv[n++], 700, "ARB_MAX_BOOK_AGE_MS=60000");
	if (port_kv)
		snprintf(kv[n++], 700, "%s", port_kv);
	else
		snprintf(kv[n++], 700, "APP_PORT=%d", h_free_port());
	for (size_t i = 0; i < n; i++)
		envp[i] = kv[i];
	envp[n] = NULL;
}

/* The value of "key": in a JSON body, as text (numbers, booleans, strings
 * without their quotes). */
static bool json_val(const char *body, const char *key, char *out, size_t cap)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\":", key);
	const char *p = strstr(body, k);
	if (!p)
		return false;
	p += strlen(k);
	if (*p == '"')
		p++;
	size_t n = strcspn(p, "\",}");
	if (n >= cap)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* (e) */
static void test_run_health(void **state)
{
	(void)state;
	static char kv[16][700];
	char *envp[17], port_kv[32];
	int port = h_free_port();
	snprintf(port_kv, sizeof port_kv, "APP_PORT=%d", port);
	make_env(envp, kv, port_kv);
	struct h_proc run;
	char *argv[] = {ARBITRADE_BIN, "run", NULL};
	assert_int_equal(h_spawn(&run, dir, argv, envp), 0);

	static char resp[65536];
	char v[64];
	bool live = false;
	for (int t = 0; t < 300 && !live; t++) {
		h_sleep_ms(100);
		drain(&run);
		drain(&sim);
		if (h_http(port, "GET", "/health", NULL, NULL, resp, sizeof resp) == 200 &&
		    json_val(resp, "books_live", v, sizeof v))
			live = strcmp(v, "3") == 0;
	}
	if (!live)
		fail_msg("books never live in /health: %s\nrun output:\n%s", resp, run.out);
	assert_true(json_val(resp, "connected", v, sizeof v));
	assert_string_equal(v, "true");
	assert_true(json_val(resp, "system_status", v, sizeof v));
	assert_string_equal(v, "online");
	assert_true(json_val(resp, "books_invalid", v, sizeof v));
	assert_string_equal(v, "0");
	assert_true(json_val(resp, "checksum_failures", v, sizeof v));
	assert_string_equal(v, "0");

	assert_int_equal(control("POST", "/control/status?value=maintenance", NULL, 0), 200);
	bool maint = false;
	for (int t = 0; t < 100 && !maint; t++) {
		h_sleep_ms(100);
		drain(&run);
		if (h_http(port, "GET", "/health", NULL, NULL, resp, sizeof resp) == 200 &&
		    json_val(resp, "system_status", v, sizeof v))
			maint = strcmp(v, "maintenance") == 0;
	}
	if (!maint)
		fail_msg("maintenance never shown in /health: %s", resp);
	assert_int_equal(control("POST", "/control/status?value=online", NULL, 0), 200);
	bool online = false;
	for (int t = 0; t < 100 && !online; t++) {
		h_sleep_ms(100);
		drain(&run);
		if (h_http(port, "GET", "/health", NULL, NULL, resp, sizeof resp) == 200 &&
		    json_val(resp, "system_status", v, sizeof v))
			online = strcmp(v, "online") == 0;
	}
	assert_true(online);
	/* The dashboard's snapshot carries the same state (/metrics). */
	assert_int_equal(h_http(port, "GET", "/metrics", NULL, NULL, resp, sizeof resp), 200);
	assert_non_null(strstr(resp, "arbitrade_books{state=\"live\"} 3"));
	assert_non_null(strstr(resp, "arbitrade_feed_connected 1"));

	/* The rate is measured over a second or so. */
	bool rate = false;
	for (int t = 0; t < 50 && !rate; t++) {
		h_sleep_ms(100);
		drain(&run);
		if (h_http(port, "GET", "/health", NULL, NULL, resp, sizeof resp) == 200 &&
		    json_val(resp, "message_rate", v, sizeof v))
			rate = strtod(v, NULL) > 0;
	}
	if (!rate)
		fail_msg("no message rate: %s", resp);

	kill(run.pid, SIGTERM);
	assert_int_equal(h_wait(&run, 20000), 0);
}

/* (f) */
static int f_send(void *ctx, const char *text, size_t len)
{
	(void)ctx;
	(void)text;
	(void)len;
	return 0;
}

static void test_record(void **state)
{
	(void)state;
	static char kv[16][700];
	char *envp[17], out[600];
	make_env(envp, kv, NULL);
	snprintf(out, sizeof out, "%s/rec.jsonl", dir);
	char *argv[] = {ARBITRADE_BIN,	   "record",	 "--out", out, "--symbols",
			"BTC/USD,ETH/USD", "--duration", "3",	  NULL};
	struct h_proc p;
	if (h_spawn(&p, dir, argv, envp) != 0)
		fail_msg("spawn record");
	int st = -1;
	for (int t = 0; t < 300 && (st = h_wait(&p, 50)) == -1; t++)
		drain(&sim);
	if (st != 0)
		fail_msg("record exited %d:\n%s", st, p.out);

	FILE *f = fopen(out, "r");
	assert_non_null(f);
	struct err_info info = {0};
	struct kr_ws_feed_opts fo = {
	    .symbols = "BTC/USD,ETH/USD", .depth = 10, .cb = {.send = f_send}};
	struct kr_ws_feed *feed = kr_ws_feed_new(&fo, &info);
	assert_non_null(feed);
	kr_ws_feed_open(feed, 1);
	static char line[1 << 20];
	static const char prefix[] = "{\"recv_ts\":\"";
	size_t lines = 0;
	int64_t prev = 0;
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		assert_true(n > 0 && line[n - 1] == '\n');
		line[--n] = '\0';
		assert_memory_equal(line, prefix, sizeof prefix - 1);
		const char *ts = line + sizeof prefix - 1;
		const char *q = strchr(ts, '"');
		assert_non_null(q);
		int64_t t;
		assert_int_equal(clock_parse_rfc3339(ts, (size_t)(q - ts), &t), 0);
		assert_int_equal(q - ts, 30); /* nine fraction digits */
		assert_true(t >= prev);
		prev = t;
		assert_memory_equal(q, "\",\"msg\":", 8);
		const char *msg = q + 8;
		assert_true(line[n - 1] == '}');
		size_t mlen = (size_t)(line + n - 1 - msg);
		int rc = kr_ws_feed_frame(feed, msg, mlen, (uint64_t)lines + 1);
		if (rc != 0)
			fail_msg("line %zu does not decode (%s): %.200s", lines + 1, err_str(rc),
				 msg);
		lines++;
	}
	fclose(f);
	struct kr_ws_feed_stats fs;
	kr_ws_feed_stats(feed, 1, UINT64_MAX, &fs);
	assert_true(lines > 10);
	assert_true(fs.instruments);
	assert_int_equal(fs.books, 2);
	assert_int_equal(fs.valid, 2);
	assert_true(fs.book_messages > 4);
	assert_int_equal(fs.checksum_failures, 0);
	assert_int_equal(fs.parse_errors, 0);
	kr_ws_feed_free(feed);

	/* "all": a book for every online pair of the universe. */
	snprintf(out, sizeof out, "%s/rec_all.jsonl", dir);
	char *all[] = {ARBITRADE_BIN, "record",	    "--out", out, "--symbols",
		       "all",	      "--duration", "2",     NULL};
	assert_int_equal(h_spawn(&p, dir, all, envp), 0);
	for (int t = 0; t < 300 && (st = h_wait(&p, 50)) == -1; t++)
		drain(&sim);
	assert_int_equal(st, 0);
	fo.symbols = "all";
	feed = kr_ws_feed_new(&fo, &info);
	assert_non_null(feed);
	kr_ws_feed_open(feed, 1);
	f = fopen(out, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		const char *msg = strstr(line, "\",\"msg\":");
		assert_non_null(msg);
		msg += 8;
		size_t mlen = strlen(msg);
		assert_true(mlen > 2 && msg[mlen - 1] == '\n' && msg[mlen - 2] == '}');
		assert_int_equal(kr_ws_feed_frame(feed, msg, mlen - 2, 1), 0);
	}
	fclose(f);
	kr_ws_feed_stats(feed, 1, UINT64_MAX, &fs);
	assert_int_equal(fs.books, 6);
	assert_int_equal(fs.valid, 6);
	assert_int_equal(fs.checksum_failures, 0);
	kr_ws_feed_free(feed);

	/* Without --duration, SIGINT stops it cleanly with whole lines. */
	snprintf(out, sizeof out, "%s/rec2.jsonl", dir);
	char *nodur[] = {ARBITRADE_BIN, "record", "--out", out, "--symbols", "ETH/BTC", NULL};
	assert_int_equal(h_spawn(&p, dir, nodur, envp), 0);
	size_t got = 0;
	for (int t = 0; t < 200 && got < 5; t++) {
		h_sleep_ms(50);
		drain(&p);
		drain(&sim);
		got = 0;
		f = fopen(out, "r");
		while (f && fgets(line, sizeof line, f))
			got++;
		if (f)
			fclose(f);
	}
	assert_true(got >= 5);
	/* A frame that is not JSON is kept, as a string. */
	assert_int_equal(control("POST", "/control/malformed", NULL, 0), 200);
	h_sleep_ms(500);
	kill(p.pid, SIGINT);
	st = h_wait(&p, 10000);
	if (st != 0)
		fail_msg("record after SIGINT exited %d:\n%s", st, p.out);
	f = fopen(out, "r");
	assert_non_null(f);
	got = 0;
	size_t raw = 0;
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		assert_true(n > 2 && line[n - 1] == '\n' && line[n - 2] == '}');
		assert_memory_equal(line, prefix, sizeof prefix - 1);
		const char *r = strstr(line, "\",\"msg_raw\":\"");
		if (r) {
			raw++;
			assert_int_equal(r - line, 12 + 30);
			assert_true(n > 3 && line[n - 3] == '"');
			for (size_t k = 0; k < n - 1; k++)
				assert_true((unsigned char)line[k] >= 0x20 && line[k] != 0x7f);
		}
		got++;
	}
	fclose(f);
	assert_true(got >= 5);
	assert_int_equal(raw, 1);

	/* Plain ws:// to anything but loopback is a configuration error (exit
	 * 2) before any connection is tried. */
	char plain[] = "KRAKEN_WS_URL=ws://192.0.2.1:8080/v2";
	for (size_t i = 0; envp[i]; i++)
		if (strncmp(envp[i], "KRAKEN_WS_URL=", 14) == 0)
			envp[i] = plain;
	char *check[] = {ARBITRADE_BIN, "run", "--check", NULL};
	assert_int_equal(h_run(&p, dir, check, envp, NULL, 10000), 2);
	assert_non_null(strstr(p.out, "KRAKEN_WS_URL"));
	assert_non_null(strstr(p.out, "loopback"));
	assert_int_equal(h_run(&p, dir, nodur, envp, NULL, 10000), 2);
	make_env(envp, kv, NULL);

	/* Bad usage exits 2. */
	char *noout[] = {ARBITRADE_BIN, "record", NULL};
	assert_int_equal(h_run(&p, dir, noout, envp, NULL, 10000), 2);
	char *baddur[] = {ARBITRADE_BIN, "record", "--out", out, "--duration", "1x", NULL};
	assert_int_equal(h_run(&p, dir, baddur, envp, NULL, 10000), 2);
	char *badsym[] = {ARBITRADE_BIN, "record", "--out", out, "--symbols", "NOSLASH", NULL};
	assert_int_equal(h_run(&p, dir, badsym, envp, NULL, 10000), 2);
	assert_non_null(strstr(p.out, "NOSLASH"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_books_converge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_and_stall, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_checksum, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_health, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The live venue (exec/live.h) against `arbitrade sim` over loopback: the
 * private WS v2 session, fills with fees in the quote asset, Kraken's
 * rejections, cancels, cancel_all, a scripted partial fill, a late
 * acknowledgement, a dropped connection whose order is recovered over REST,
 * the REST fallback when the socket is unreachable, and the dead man's
 * switch firing once the execution thread goes silent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exec/live.h"
#include "integration/harness.h"
#include "kraken/rest.h"
#include "kraken/sign.h"

#define KEY    "sim-test-key-1"
#define SECRET "YXJiaXRyYWRlLXNpbS10ZXN0LXNlY3JldC1ub3QtYS1yZWFsLWtyYWtlbi1rZXkh"

static char dir[256];
static char rest_url[128], auth_url[128];
static int ws_port;
static struct h_proc sim;
static struct secret *g_key, *g_secret;
static struct kr_nonce *g_nonce;
static struct kr_rest *g_rest;
static struct kr_pair g_pairs[1];

static int url_of(const char *key, char *out, size_t cap)
{
	const char *u = strstr(sim.out, key);
	if (!u)
		return -1;
	u += strlen(key);
	const char *e = strchr(u, '"');
	if (!e || (size_t)(e - u) >= cap)
		return -1;
	memcpy(out, u, (size_t)(e - u));
	out[e - u] = '\0';
	return 0;
}

/* The port of "ws://127.0.0.1:P/...". */
static int port_of(const char *url)
{
	const char *c = strrchr(url, ':');
	return c ? (int)strtol(c + 1, NULL, 10) : -1;
}

static int start_sim(void **state)
{
	char *argv[] = {ARBITRADE_BIN, "sim", "--scenario", TEST_DATA_DIR "/sim/basic.json", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", NULL};
	struct err_info info = {0};
	char path[512];

	(void)state;
	if (h_tmpdir(dir, sizeof(dir)) != 0 || h_spawn(&sim, dir, argv, envp) != 0)
		return -1;
	for (int i = 0; i < 500 && url_of("\"rest_url\":\"", rest_url, sizeof(rest_url)) != 0;
	     i++) {
		h_sleep_ms(20);
		h_drain(&sim);
	}
	if (url_of("\"ws_auth_url\":\"", auth_url, sizeof(auth_url)) != 0 ||
	    url_of("\"rest_url\":\"", rest_url, sizeof(rest_url)) != 0) {
		fprintf(stderr, "sim not ready:\n%s\n", sim.out);
		return -1;
	}
	ws_port = port_of(auth_url);
	g_key = secret_new(KEY, strlen(KEY));
	g_secret = secret_new(SECRET, strlen(SECRET));
	snprintf(path, sizeof(path), "%s/nonce.txt", dir);
	g_nonce = kr_nonce_open(path, NULL, &info);
	struct kr_rest_opts o = {.base_url = rest_url,
				 .api_key = g_key,
				 .api_secret = g_secret,
				 .nonce = g_nonce,
				 .timeout_ms = 5000,
				 .tier = "pro"};
	g_rest = g_nonce ? kr_rest_new(&o, &info) : NULL;
	if (!g_rest) {
		fprintf(stderr, "rest: %s\n", info.msg);
		return -1;
	}
	struct kr_pair *p = &g_pairs[0];
	memset(p, 0, sizeof(*p));
	snprintf(p->symbol, sizeof(p->symbol), "BTC/USD");
	snprintf(p->base, sizeof(p->base), "BTC");
	snprintf(p->quote, sizeof(p->quote), "USD");
	p->price_precision = 1;
	p->qty_precision = 8;
	p->cost_precision = 9;
	p->price_increment = 1;
	p->qty_increment = 1;
	return 0;
}

static int stop_sim(void **state)
{
	(void)state;
	kr_rest_free(g_rest);
	kr_nonce_free(g_nonce);
	secret_free(g_key);
	secret_free(g_secret);
	int rc = 0;
	if (sim.pid > 0) {
		kill(sim.pid, SIGTERM);
		/* The simulator stops cleanly with 0 (and a sanitizer build
		 * exits otherwise when it found something). */
		if ((rc = h_wait(&sim, 10000)) != 0) {
			fprintf(stderr, "sim exit %d:\n%s\n", rc, sim.out);
			h_kill(&sim);
		}
	}
	h_rmrf(dir);
	return rc == 0 ? 0 : -1;
}

/* POST to the control endpoint; returns the HTTP status. Reads only up to
 * the end of the body the headers announce (lws may keep the socket). */
static int control(const char *path)
{
	char req[512], resp[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)ws_port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	size_t n = 0;
	int len, status = -1;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto done;
	len = snprintf(req, sizeof(req),
		       "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		       "Content-Length: 0\r\n\r\n",
		       path);
	if (write(fd, req, (size_t)len) != len)
		goto done;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (n + 1 >= sizeof(resp) || poll(&pfd, 1, 5000) <= 0)
			break;
		ssize_t r = read(fd, resp + n, sizeof(resp) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		resp[n] = '\0';
		const char *h = strstr(resp, "\r\n\r\n"), *cl = strcasestr(resp, "content-length:");
		if (h && cl && n >= (size_t)(h + 4 - resp) + strtoul(cl + 15, NULL, 10))
			break;
	}
	resp[n] = '\0';
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
done:
	if (fd >= 0)
		close(fd);
	return status;
}

/* The latest report per cl_ord_id seen by poll. */
#define MAX_SEEN 64
static struct venue_report seen[MAX_SEEN];
static int nseen, nreports;

static void on_report(void *arg, const struct venue_report *r)
{
	(void)arg;
	nreports++;
	for (int k = 0; k < nseen; k++)
		if (strcmp(seen[k].cl_ord_id, r->cl_ord_id) == 0) {
			seen[k] = *r;
			return;
		}
	if (nseen < MAX_SEEN)
		seen[nseen++] = *r;
}

static const struct venue_report *find(const char *clid)
{
	for (int k = 0; k < nseen; k++)
		if (strcmp(seen[k].cl_ord_id, clid) == 0)
			return &seen[k];
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Polls v until clid reaches status want (or a final status), within
 * timeout_ms. */
static const struct venue_report *wait_for(struct venue *v, const char *clid,
					   enum venue_status want, long timeout_ms)
{
	long end = now_ms() + timeout_ms;
	while (now_ms() < end) {
		assert_true(v->ops->poll(v->ctx, 0, on_report, NULL) >= 0);
		const struct venue_report *r = find(clid);
		if (r && (r->status == want || venue_status_final(r->status)))
			return r;
		h_sleep_ms(5);
	}
	fail_msg("no report %s for %s", venue_status_name(want), clid);
	return NULL;
}

static void wait_ready(struct venue *v)
{
	for (int k = 0; k < 2000 && !live_ready(v->ctx); k++) {
		v->ops->poll(v->ctx, 0, on_report, NULL);
		h_sleep_ms(5);
	}
	assert_true(live_ready(v->ctx));
}

static const char *g_id_prefix = "lv-";

/* g_id_prefix + s, in one of 8 rotating buffers. */
static const char *ID(const char *s)
{
	static char buf[8][48];
	static unsigned k;
	char *b = buf[k++ % 8];
	snprintf(b, sizeof buf[0], "%s%s", g_id_prefix, s);
	return b;
}

static void open_venue_ex(struct venue *v, const char *url, uint32_t deadman_s, bool inline_t)
{
	struct live_opts o = {.ws_auth_url = url,
			      .inline_transport = inline_t,
			      .rest = g_rest,
			      .pairs = g_pairs,
			      .n_pairs = 1,
			      .deadman_timeout_s = deadman_s,
			      .reconnect_min_ms = 100,
			      .reconnect_max_ms = 500,
			      .seed = 7};
	struct err_info info = {0};
	if (live_venue_new(&o, v, &info) != 0)
		fail_msg("live_venue_new: %s", info.msg);
	assert_string_equal(v->ops->name, "live");
}

static void open_venue(struct venue *v, const char *url, uint32_t deadman_s)
{
	open_venue_ex(v, url, deadman_s, false);
}

static struct venue_order order(const char *clid, enum venue_side side, enum venue_tif tif,
				int64_t price, int64_t qty)
{
	struct venue_order o = {.side = side,
				.type = VENUE_LIMIT,
				.tif = tif,
				.price_scale = 1,
				.qty_scale = 8,
				.limit_price = price,
				.qty = qty};
	snprintf(o.cl_ord_id, sizeof(o.cl_ord_id), "%s", clid);
	snprintf(o.symbol, sizeof(o.symbol), "BTC/USD");
	return o;
}

/* inline_t: the venue without a transport thread (EXEC_BUSY_POLL), whose
 * warm() is called throughout and must send nothing. Ids get their own
 * prefix per run: the simulator remembers them. */
static void run_trading(bool inline_t)
{
	struct venue v;
	struct venue_order o;
	const struct venue_report *r;

	g_id_prefix = inline_t ? "li-" : "lv-";
	open_venue_ex(&v, auth_url, 0, inline_t);
	wait_ready(&v);
	if (inline_t) {
		struct live_stats w0;
		for (int k = 0; k < 200; k++)
			v.ops->warm(v.ctx);
		live_stats(v.ctx, &w0);
		assert_int_equal(w0.ws_orders + w0.rest_orders, 0);
	}

	/* An IOC order that fills: fee in the quote asset. */
	o = order(ID("ioc-1"), VENUE_BUY, VENUE_IOC, 700000, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	assert_int_equal(v.ops->place(v.ctx, &o), ERR_INVALID); /* same cl_ord_id */
	r = wait_for(&v, ID("ioc-1"), VENUE_ST_FILLED, 10000);
	assert_int_equal(r->status, VENUE_ST_FILLED);
	assert_int_equal(r->filled_qty, 100000);
	assert_true(r->avg_price > 500000 && r->avg_price < 700000);
	assert_string_equal(r->fee_asset, "USD");
	assert_int_equal(r->fee_scale, 9);
	assert_true(r->fee > 0);
	/* 26 bps of the cost, within rounding. */
	assert_true(r->fee * 10000 >= r->cost * 25 && r->fee * 10000 <= r->cost * 27);
	assert_true(r->order_id[0] == 'O');

	/* batch_add: two orders of one symbol in one request, each reported;
	 * refused whole before sending when the batch is not one. */
	struct live_stats b0, b1;
	live_stats(v.ctx, &b0);
	struct venue_order bo[2] = {order(ID("bat-1"), VENUE_BUY, VENUE_IOC, 700000, 100000),
				    order(ID("bat-2"), VENUE_BUY, VENUE_IOC, 700000, 200000)};
	assert_int_equal(v.ops->place_batch(v.ctx, bo, 1), ERR_INVALID);
	assert_int_equal(v.ops->place_batch(v.ctx, bo, 2), 0);
	assert_int_equal(v.ops->place_batch(v.ctx, bo, 2), ERR_INVALID); /* ids placed */
	r = wait_for(&v, ID("bat-1"), VENUE_ST_FILLED, 10000);
	assert_int_equal(r->filled_qty, 100000);
	assert_true(r->order_id[0] == 'O');
	r = wait_for(&v, ID("bat-2"), VENUE_ST_FILLED, 10000);
	assert_int_equal(r->filled_qty, 200000);
	assert_true(r->fee > 0);
	live_stats(v.ctx, &b1);
	assert_int_equal(b1.ws_orders, b0.ws_orders + 2);
	struct venue_order mix[2] = {order(ID("bat-3"), VENUE_BUY, VENUE_IOC, 700000, 100000),
				     order(ID("bat-3"), VENUE_BUY, VENUE_IOC, 700000, 100000)};
	assert_int_equal(v.ops->place_batch(v.ctx, mix, 2), ERR_INVALID); /* same id twice */
	snprintf(mix[1].cl_ord_id, sizeof mix[1].cl_ord_id, "%s", ID("bat-4"));
	snprintf(mix[1].symbol, sizeof mix[1].symbol, "ETH/USD");
	assert_int_equal(v.ops->place_batch(v.ctx, mix, 2), ERR_INVALID); /* two symbols */

	/* Refused by the exchange: Kraken's text. */
	o = order(ID("rej-1"), VENUE_SELL, VENUE_IOC, 10, 10000000000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	r = wait_for(&v, ID("rej-1"), VENUE_ST_REJECTED, 10000);
	assert_int_equal(r->status, VENUE_ST_REJECTED);
	assert_string_equal(r->reason, "EOrder:Insufficient funds");
	/* Refused before sending. */
	o = order("bad id!", VENUE_BUY, VENUE_IOC, 700000, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), ERR_INVALID);
	assert_int_equal(v.ops->cancel(v.ctx, ID("never")), ERR_NOTFOUND);

	/* A resting GTC order, cancelled. */
	o = order(ID("gtc-1"), VENUE_BUY, VENUE_GTC, 300000, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	r = wait_for(&v, ID("gtc-1"), VENUE_ST_OPEN, 10000);
	assert_int_equal(r->status, VENUE_ST_OPEN);
	assert_int_equal(v.ops->cancel(v.ctx, ID("gtc-1")), 0);
	r = wait_for(&v, ID("gtc-1"), VENUE_ST_CANCELED, 10000);
	assert_int_equal(r->status, VENUE_ST_CANCELED);
	assert_int_equal(r->filled_qty, 0);
	assert_int_equal(v.ops->cancel(v.ctx, ID("gtc-1")), ERR_NOTFOUND);

	/* cancel_all. */
	o = order(ID("gtc-2"), VENUE_BUY, VENUE_GTC, 300000, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	o = order(ID("gtc-3"), VENUE_BUY, VENUE_GTC, 300100, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	wait_for(&v, ID("gtc-2"), VENUE_ST_OPEN, 10000);
	wait_for(&v, ID("gtc-3"), VENUE_ST_OPEN, 10000);
	assert_int_equal(v.ops->cancel_all(v.ctx), 0);
	assert_int_equal(wait_for(&v, ID("gtc-2"), VENUE_ST_CANCELED, 10000)->status,
			 VENUE_ST_CANCELED);
	assert_int_equal(wait_for(&v, ID("gtc-3"), VENUE_ST_CANCELED, 10000)->status,
			 VENUE_ST_CANCELED);

	/* A partial fill: the rest of the IOC order is cancelled. */
	assert_int_equal(control("/control/partial_next?ratio=0.5"), 200);
	o = order(ID("part-1"), VENUE_BUY, VENUE_IOC, 700000, 200000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	r = wait_for(&v, ID("part-1"), VENUE_ST_CANCELED, 10000);
	assert_int_equal(r->status, VENUE_ST_CANCELED);
	assert_int_equal(r->filled_qty, 100000);
	assert_int_equal(r->qty, 200000);
	assert_true(r->fee > 0);

	/* A late acknowledgement: the order is pending, then fills. */
	assert_int_equal(control("/control/delay_ack?ms=800"), 200);
	o = order(ID("late-1"), VENUE_BUY, VENUE_IOC, 700000, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	r = wait_for(&v, ID("late-1"), VENUE_ST_FILLED, 10000);
	assert_int_equal(r->status, VENUE_ST_FILLED);

	/* Balances from the balances channel. */
	struct venue_balance b[16];
	size_t nb = 0;
	assert_int_equal(v.ops->balances(v.ctx, b, 16, &nb), 0);
	bool usd = false;
	for (size_t k = 0; k < nb; k++)
		if (strcmp(b[k].asset, "USD") == 0)
			usd = b[k].amount > 0;
	assert_true(usd);

	/* The connection drops while an order's acknowledgement is on its
	 * way: after the reconnect the order is found over REST. */
	struct live_stats st0, st1;
	live_stats(v.ctx, &st0);
	assert_int_equal(control("/control/delay_ack?ms=600"), 200);
	o = order(ID("drop-1"), VENUE_BUY, VENUE_IOC, 700000, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	/* Long enough for the request to reach the simulator, well short of
	 * its 600 ms delay. */
	h_sleep_ms(250);
	assert_int_equal(control("/control/drop"), 200);
	r = wait_for(&v, ID("drop-1"), VENUE_ST_FILLED, 15000);
	assert_int_equal(r->status, VENUE_ST_FILLED);
	assert_int_equal(r->filled_qty, 100000);
	/* It came either on the new connection's stream or from REST. */
	wait_ready(&v);
	live_stats(v.ctx, &st1);
	assert_true(st1.opens > st0.opens);
	assert_true(st1.tokens > st0.tokens);

	/* query() asks REST. */
	struct venue_report q;
	assert_int_equal(v.ops->query(v.ctx, ID("ioc-1"), &q), 0);
	assert_int_equal(q.status, VENUE_ST_FILLED);
	assert_int_equal(q.filled_qty, 100000);
	assert_string_equal(q.symbol, "BTC/USD");
	assert_int_equal(q.qty_scale, 8);
	assert_int_equal(v.ops->query(v.ctx, ID("nobody"), &q), ERR_NOTFOUND);
	live_stats(v.ctx, &st1);
	assert_int_equal(st1.parse_errors, 0);
	v.ops->destroy(v.ctx);
}

static void test_trading(void **state)
{
	(void)state;
	run_trading(false);
}

static void test_trading_inline(void **state)
{
	(void)state;
	run_trading(true);
}

/* While the connection is down the order is cancelled behind the venue's
 * back (over REST): the snapshot after the reconnect no longer lists it, so
 * the venue asks REST and reports what happened. */
static void test_reconnect_recovery(void **state)
{
	struct venue v;
	struct venue_order o;
	struct err_info info = {0};
	struct live_stats st0, st1;
	(void)state;
	struct live_opts lo = {.ws_auth_url = auth_url,
			       .rest = g_rest,
			       .pairs = g_pairs,
			       .n_pairs = 1,
			       .reconnect_min_ms = 1500,
			       .reconnect_max_ms = 2000,
			       .seed = 9};
	if (live_venue_new(&lo, &v, &info) != 0)
		fail_msg("live_venue_new: %s", info.msg);
	wait_ready(&v);
	o = order("lv-rc-1", VENUE_BUY, VENUE_GTC, 300000, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	assert_int_equal(wait_for(&v, "lv-rc-1", VENUE_ST_OPEN, 10000)->status, VENUE_ST_OPEN);
	live_stats(v.ctx, &st0);
	assert_int_equal(control("/control/drop"), 200);
	assert_int_equal(kr_rest_cancel_order(g_rest, NULL, "lv-rc-1", NULL, NULL, &info), 0);
	const struct venue_report *r = wait_for(&v, "lv-rc-1", VENUE_ST_CANCELED, 15000);
	assert_int_equal(r->status, VENUE_ST_CANCELED);
	live_stats(v.ctx, &st1);
	assert_true(st1.opens > st0.opens);
	assert_true(st1.reconciles > st0.reconciles);
	v.ops->destroy(v.ctx);
}

/* A restart: the order a previous venue left open is found by query() and
 * can then be cancelled by the new one (the journal's reconcile does so). */
static void test_restart_adopt(void **state)
{
	struct venue a, b;
	struct venue_order o;
	struct venue_report q;
	(void)state;
	open_venue(&a, auth_url, 0);
	wait_ready(&a);
	o = order("lv-adopt-1", VENUE_SELL, VENUE_GTC, 900000, 100000);
	assert_int_equal(a.ops->place(a.ctx, &o), 0);
	assert_int_equal(wait_for(&a, "lv-adopt-1", VENUE_ST_OPEN, 10000)->status, VENUE_ST_OPEN);
	a.ops->destroy(a.ctx);

	open_venue(&b, auth_url, 0);
	assert_int_equal(b.ops->cancel(b.ctx, "lv-adopt-1"), ERR_NOTFOUND);
	assert_int_equal(b.ops->query(b.ctx, "lv-adopt-1", &q), 0);
	assert_int_equal(q.status, VENUE_ST_OPEN);
	assert_int_equal(q.side, VENUE_SELL);
	assert_int_equal(q.qty, 100000);
	wait_ready(&b);
	assert_int_equal(b.ops->cancel(b.ctx, "lv-adopt-1"), 0);
	const struct venue_report *r = wait_for(&b, "lv-adopt-1", VENUE_ST_CANCELED, 10000);
	assert_int_equal(r->status, VENUE_ST_CANCELED);
	b.ops->destroy(b.ctx);
}

/* An acknowledgement slower than ack_timeout_ms: the venue asks REST, which
 * does not know the order yet; since its deadline has not passed, the venue
 * waits instead of declaring it not placed, and the fill arrives. */
static void test_slow_ack(void **state)
{
	struct venue v;
	struct venue_order o;
	struct err_info info = {0};
	struct live_stats st;
	(void)state;
	struct live_opts lo = {.ws_auth_url = auth_url,
			       .rest = g_rest,
			       .pairs = g_pairs,
			       .n_pairs = 1,
			       .ack_timeout_ms = 300,
			       .seed = 11};
	if (live_venue_new(&lo, &v, &info) != 0)
		fail_msg("live_venue_new: %s", info.msg);
	wait_ready(&v);
	assert_int_equal(control("/control/delay_ack?ms=2000"), 200);
	o = order("lv-slow-1", VENUE_BUY, VENUE_IOC, 700000, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	const struct venue_report *r = wait_for(&v, "lv-slow-1", VENUE_ST_FILLED, 10000);
	assert_int_equal(r->status, VENUE_ST_FILLED);
	live_stats(v.ctx, &st);
	assert_true(st.reconciles >= 1);
	assert_int_equal(st.rejects, 0);
	v.ops->destroy(v.ctx);
}

static void test_rest_fallback(void **state)
{
	struct venue v;
	char url[64];
	struct venue_order o;
	(void)state;
	/* Nothing listens there: the socket never opens, REST carries on. */
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/v2-auth", h_free_port());
	open_venue(&v, url, 0);
	assert_false(live_ready(v.ctx));
	o = order("lv-rest-1", VENUE_BUY, VENUE_IOC, 700000, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	const struct venue_report *r = wait_for(&v, "lv-rest-1", VENUE_ST_FILLED, 10000);
	assert_int_equal(r->status, VENUE_ST_FILLED);
	assert_int_equal(r->filled_qty, 100000);
	struct live_stats st;
	live_stats(v.ctx, &st);
	assert_int_equal(st.rest_orders, 1);
	assert_int_equal(st.ws_orders, 0);
	v.ops->destroy(v.ctx);
}

static void test_dead_man(void **state)
{
	struct venue v;
	struct venue_order o;
	(void)state;
	open_venue(&v, auth_url, 2);
	wait_ready(&v);
	o = order("lv-dms-1", VENUE_BUY, VENUE_GTC, 300000, 100000);
	assert_int_equal(v.ops->place(v.ctx, &o), 0);
	assert_int_equal(wait_for(&v, "lv-dms-1", VENUE_ST_OPEN, 10000)->status, VENUE_ST_OPEN);
	struct live_stats st;
	live_stats(v.ctx, &st);
	assert_true(st.deadman_refreshes >= 1);
	/* The execution thread goes silent: no refresh, Kraken cancels. */
	h_sleep_ms(4500);
	const struct venue_report *r = wait_for(&v, "lv-dms-1", VENUE_ST_CANCELED, 5000);
	assert_int_equal(r->status, VENUE_ST_CANCELED);
	v.ops->destroy(v.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trading),
	    cmocka_unit_test(test_trading_inline),
	    cmocka_unit_test(test_reconnect_recovery),
	    cmocka_unit_test(test_restart_adopt),
	    cmocka_unit_test(test_slow_ack),
	    cmocka_unit_test(test_rest_fallback),
	    cmocka_unit_test(test_dead_man),
	};
	return cmocka_run_group_tests(tests, start_sim, stop_sim);
}

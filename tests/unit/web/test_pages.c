/* The dashboard's pages over a real DuckDB: records go in through the store
 * writer, the server reads them on its own store_reader, and each page is
 * fetched over a loopback socket. Checks the queries' meaning: an
 * opportunity's latest verdict, filters (and hostile filter values), an
 * order's latest state per leg, today's counts and PnL, the audit pager. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/clock.h"
#include "store/store.h"
#include "web/web.h"
#include "web/web_int.h"

#define SHARE TEST_DATA_DIR "/../.."

static char body[1 << 20];

static int get(uint16_t port, const char *path)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 10};
	char req[1024];
	size_t len = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), n;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		     path);
	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
	for (;;) {
		ssize_t r = recv(fd, body + len, sizeof(body) - 1 - len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	body[len] = '\0';
	assert_true(len > 12);
	return (int)strtol(body + 9, NULL, 10);
}

static void expect(const char *path, const char *const *want, size_t n, const char *const * not,
		   size_t nn, uint16_t port)
{
	int st = get(port, path);

	if (st != 200)
		fail_msg("%s: %d\n%s", path, st, body);
	for (size_t i = 0; i < n; i++)
		if (!strstr(body, want[i]))
			fail_msg("%s lacks %s:\n%s", path, want[i], body);
	for (size_t i = 0; i < nn; i++)
		if (strstr(body, not [i]))
			fail_msg("%s has %s:\n%s", path, not [i], body);
}

#define WANT(...)                                                                                  \
	(const char *const[])                                                                      \
	{                                                                                          \
		__VA_ARGS__                                                                        \
	}

/* ---- fixture ---- */

struct fx {
	char dir[128];
	struct store *s;
	struct store_reader *rd;
	struct web *w;
	uint16_t port;
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static int ping(void *ctx)
{
	return store_ping(((struct fx *)ctx)->s);
}

static void opp(struct store *s, int64_t ts, uint64_t id, const char *cycle, enum store_verdict v,
		int64_t profit_milli, const char *reason)
{
	struct store_rec r;

	memset(&r, 0, sizeof(r));
	r.type = STORE_REC_OPPORTUNITY;
	r.u.opp.ts_ns = ts;
	r.u.opp.opp_id = id;
	r.u.opp.verdict = v;
	r.u.opp.n_legs = 1;
	snprintf(r.u.opp.cycle, sizeof(r.u.opp.cycle), "%s", cycle);
	snprintf(r.u.opp.home_asset, sizeof(r.u.opp.home_asset), "USD");
	snprintf(r.u.opp.legs[0].symbol, sizeof(r.u.opp.legs[0].symbol), "XBT/USD");
	r.u.opp.size = store_amt(100, 0);
	r.u.opp.expected_profit = store_amt(profit_milli, 3);
	r.u.opp.expected_fee = STORE_AMOUNT_NULL;
	r.u.opp.detect_latency_ns = 20000 + (int64_t)id;
	snprintf(r.u.opp.reason, sizeof(r.u.opp.reason), "%s", reason);
	assert_int_equal(store_enqueue(s, &r), 0);
}

static void leg(struct store *s, int64_t ts, uint64_t id, uint8_t n, enum store_order_status st,
		int64_t realised_milli)
{
	struct store_rec r;

	memset(&r, 0, sizeof(r));
	r.type = STORE_REC_TRADE;
	r.u.trade.ts_ns = ts;
	r.u.trade.opp_id = id;
	r.u.trade.leg = n;
	r.u.trade.status = st;
	snprintf(r.u.trade.cycle, sizeof(r.u.trade.cycle), "USD>XBT>USD");
	snprintf(r.u.trade.cl_ord_id, sizeof(r.u.trade.cl_ord_id), "c-%u", (unsigned)n);
	snprintf(r.u.trade.symbol, sizeof(r.u.trade.symbol), n ? "XBT/EUR" : "XBT/USD");
	r.u.trade.qty = store_amt(5, 1);
	r.u.trade.filled_qty = store_amt(st == STORE_STATUS_FILLED ? 5 : 0, 1);
	r.u.trade.avg_price = STORE_AMOUNT_NULL;
	r.u.trade.limit_price = STORE_AMOUNT_NULL;
	r.u.trade.fee = store_amt(25, 3);
	snprintf(r.u.trade.fee_asset, sizeof(r.u.trade.fee_asset), "USD");
	r.u.trade.expected_profit = store_amt(777, 3);
	r.u.trade.realised_profit =
	    realised_milli ? store_amt(realised_milli, 3) : STORE_AMOUNT_NULL;
	r.u.trade.submit_latency_ns = 90000;
	r.u.trade.ack_latency_ns = -1;
	r.u.trade.fill_latency_ns = -1;
	assert_int_equal(store_enqueue(s, &r), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct store_cfg sc = {.batch_rows = 256, .flush_ms = 10, .ring_capacity = 1024};
	struct web_cfg wc;
	struct err_info info = {0};
	int64_t now = clock_wall_ns();

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/arb-web-pages-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(sc.duckdb_path, sizeof(sc.duckdb_path), "%s/arb.duckdb", f->dir);
	f->s = store_open(&sc, &info);
	if (!f->s)
		fail_msg("store_open: %s", info.msg);

	/* Opportunity 1: detected, then executed (the later row wins). */
	opp(f->s, now - 50000000000ll, 1, "USD>XBT>USD", STORE_VERDICT_DETECTED, 1500, "");
	opp(f->s, now - 40000000000ll, 1, "USD>XBT>USD", STORE_VERDICT_EXECUTED, 1500, "");
	/* Opportunity 2: another cycle, rejected, with markup in its reason. */
	opp(f->s, now - 30000000000ll, 2, "USD>ETH>USD", STORE_VERDICT_REJECTED, -250,
	    "<b>too thin</b>");
	/* Yesterday's: not in today's counts. */
	opp(f->s, now - 3 * 86400000000000ll, 3, "USD>ETH>USD", STORE_VERDICT_MISSED, 10, "");
	/* Cycle 1's legs: leg 0 open then filled, leg 1 canceled. */
	leg(f->s, now - 39000000000ll, 1, 0, STORE_STATUS_OPEN, 0);
	leg(f->s, now - 38000000000ll, 1, 0, STORE_STATUS_FILLED, 1234);
	leg(f->s, now - 38000000000ll, 1, 1, STORE_STATUS_CANCELED, 1234);
	for (int i = 0; i < 120; i++) {
		struct store_rec r;

		memset(&r, 0, sizeof(r));
		r.type = STORE_REC_AUDIT;
		r.u.audit.ts_ns = now - 1000000000ll * (120 - i);
		snprintf(r.u.audit.actor, sizeof(r.u.audit.actor), "tester");
		snprintf(r.u.audit.action, sizeof(r.u.audit.action), "event-%03d", i);
		assert_int_equal(store_enqueue(f->s, &r), 0);
	}
	assert_int_equal(store_flush(f->s, 10000), 0);
	f->rd = store_reader_open(f->s, &info);
	if (!f->rd)
		fail_msg("reader: %s", info.msg);

	memset(&wc, 0, sizeof(wc));
	snprintf(wc.host, sizeof(wc.host), "127.0.0.1");
	struct web_deps d = {.share_dir = SHARE, .db_ping = ping, .reader = f->rd, .ctx = f};
	f->w = web_new(&wc, &d, &info);
	if (!f->w)
		fail_msg("web_new: %s", info.msg);
	f->port = web_port(f->w);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	web_free(f->w);
	store_reader_close(f->rd);
	assert_int_equal(store_close(f->s), 0);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- tests ---- */

static void opportunities(void **state)
{
	struct fx *f = *state;

	expect("/opportunities",
	       WANT("USD&gt;XBT&gt;USD", "USD&gt;ETH&gt;USD", ">executed</span>",
		    ">rejected</span>", "&lt;b&gt;too thin&lt;/b&gt;", "1.5 USD", "-0.25 USD",
		    "<option value=\"USD&gt;ETH&gt;USD\">USD&gt;ETH&gt;USD (2)</option>"),
	       8, WANT(">detected</span>", "<b>"), 2, f->port);
	expect("/partials/opportunities?verdict=executed", WANT("USD&gt;XBT&gt;USD"), 1,
	       WANT("USD&gt;ETH&gt;USD", "<html"), 2, f->port);
	/* An opportunity whose latest verdict differs does not match its old one. */
	expect("/partials/opportunities?verdict=detected", WANT("no opportunities match"), 1,
	       WANT("USD&gt;XBT&gt;USD"), 1, f->port);
	expect("/opportunities?cycle=USD%3EETH%3EUSD",
	       WANT("too thin", "selected>USD&gt;ETH&gt;USD"), 2, WANT("1.5 USD"), 1, f->port);
	/* Hostile or unknown filter values match nothing or are ignored. */
	expect("/partials/opportunities?cycle=%27OR%271%27%3D%271", WANT("no opportunities match"),
	       1, WANT("too thin"), 1, f->port);
	expect("/partials/opportunities?verdict=%27%3B%20DROP%20TABLE%20x",
	       WANT("USD&gt;XBT&gt;USD", "too thin"), 2, NULL, 0, f->port);
}

static void trades(void **state)
{
	struct fx *f = *state;

	expect("/trades",
	       WANT("<strong>USD&gt;XBT&gt;USD</strong>", "1/2 legs filled",
		    "expected 0.777 · realised <strong>1.234</strong>", "leg 0", "leg 1",
		    "<td>canceled</td>", "0.025 USD", "90.0 µs"),
	       8, WANT("<td>open</td>"), 1, f->port);
}

static void overview(void **state)
{
	struct fx *f = *state;

	/* Today: opportunities 1 and 2 (not yesterday's 3); one cycle traded. */
	expect("/",
	       WANT("<dd id=\"ov-opps\">2</dd>", "<dd id=\"ov-trades\">1</dd>",
		    "1.234 USD <span class=\"muted\">(expected 0.777)</span>", "executed 1",
		    "rejected 1", "<dd>ok</dd>"),
	       6, WANT("missed"), 1, f->port);
}

static void audit_pages(void **state)
{
	struct fx *f = *state;

	expect("/audit",
	       WANT("event-119", "event-070", "page 1 of 3 · 120 events",
		    "href=\"/audit?page=1\">older"),
	       4, WANT("event-069", "newer"), 2, f->port);
	expect("/audit?page=1",
	       WANT("event-069", "event-020", "page 2 of 3", "?page=0\">", "?page=2\">"), 5,
	       WANT("event-119", "event-019"), 2, f->port);
	expect("/audit?page=2", WANT("event-019", "event-000", "page 3 of 3"), 3, WANT("older"), 1,
	       f->port);
	/* Past the end or not a number: the nearest valid page. */
	expect("/audit?page=99", WANT("page 3 of 3"), 1, NULL, 0, f->port);
	expect("/audit?page=-1", WANT("page 1 of 3"), 1, NULL, 0, f->port);
	expect("/audit?page=1x", WANT("page 1 of 3"), 1, NULL, 0, f->port);
}

static void latency_and_portfolio(void **state)
{
	struct fx *f = *state;

	expect("/latency",
	       WANT("<td>detect</td><td class=\"num\">4</td>",
		    "<td>submit</td><td class=\"num\">3</td>", "Stage detect (recorded)"),
	       3, NULL, 0, f->port);
	expect("/portfolio", WANT("no data yet", "no snapshots yet"), 2, NULL, 0, f->port);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(opportunities),
	    cmocka_unit_test(trades),
	    cmocka_unit_test(overview),
	    cmocka_unit_test(audit_pages),
	    cmocka_unit_test(latency_and_portfolio),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/* The WebSocket client's pure parts: URL validation, the backoff schedule and
 * its bounds (jitter range, cap, connection-rate window, slow mode), the idle
 * watchdog, frame reassembly and subscribe batching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kraken/codec.h"
#include "kraken/ws.h"

#define MS 1000000ull

static void test_url_ok(void **state)
{
	(void)state;
	struct kr_ws_url u;
	struct err_info info = {0};
	assert_int_equal(kr_ws_url_parse("wss://ws.kraken.com/v2", &u, &info), 0);
	assert_true(u.tls);
	assert_string_equal(u.host, "ws.kraken.com");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/v2");

	assert_int_equal(kr_ws_url_parse("wss://beta-ws.kraken.com", &u, &info), 0);
	assert_string_equal(u.path, "/");
	assert_int_equal(u.port, 443);

	assert_int_equal(kr_ws_url_parse("ws://127.0.0.1:40123/v2", &u, &info), 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 40123);

	assert_int_equal(kr_ws_url_parse("ws://localhost/v2?x=1", &u, &info), 0);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.path, "/v2?x=1");

	assert_int_equal(kr_ws_url_parse("ws://[::1]:8080/v2", &u, &info), 0);
	assert_string_equal(u.host, "[::1]");
	assert_int_equal(u.port, 8080);

	assert_int_equal(kr_ws_url_parse("ws://127.9.8.7:1", &u, &info), 0);
	assert_int_equal(kr_ws_url_parse("wss://10.0.0.1:65535/v2", &u, &info), 0);
	assert_int_equal(u.port, 65535);
}

static void test_url_refused(void **state)
{
	(void)state;
	static const struct {
		const char *url;
		const char *why;
	} bad[] = {
	    {"ws://ws.kraken.com/v2", "loopback"},
	    {"ws://10.0.0.1/v2", "loopback"},
	    {"ws://[::2]:80/v2", "loopback"},
	    {"ws://128.0.0.1/v2", "loopback"},
	    {"http://127.0.0.1/v2", "scheme"},
	    {"wss:/x", "scheme"},
	    {"", "scheme"},
	    {"wss:///v2", "empty"},
	    {"wss://:443/v2", "empty"},
	    {"wss://h:0/v2", "port"},
	    {"wss://h:65536/v2", "port"},
	    {"wss://h:12a/v2", "port"},
	    {"wss://h:/v2", "port"},
	    {"wss://h:123456/v2", "port"},
	    {"wss://user:pw@h/v2", "user info"},
	    {"wss://h v2", "space"},
	    {"wss://h/v\n2", "control"},
	    {"wss://[::1/v2", "unclosed"},
	    {"wss://[::1]x/v2", "junk"},
	    {"wss://h?x", "path"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct kr_ws_url u;
		struct err_info info = {0};
		int rc = kr_ws_url_parse(bad[i].url, &u, &info);
		if (rc != ERR_CONFIG || !strstr(info.msg, bad[i].why))
			fail_msg("url '%s': rc %d msg '%s', expected ERR_CONFIG naming '%s'",
				 bad[i].url, rc, info.msg, bad[i].why);
	}
	assert_int_equal(kr_ws_url_parse(NULL, &(struct kr_ws_url){0}, NULL), ERR_CONFIG);
}

static void test_loopback(void **state)
{
	(void)state;
	assert_true(kr_ws_host_is_loopback("localhost"));
	assert_true(kr_ws_host_is_loopback("LOCALHOST"));
	assert_true(kr_ws_host_is_loopback("127.0.0.1"));
	assert_true(kr_ws_host_is_loopback("127.255.0.3"));
	assert_true(kr_ws_host_is_loopback("::1"));
	assert_true(kr_ws_host_is_loopback("[::1]"));
	assert_false(kr_ws_host_is_loopback("localhost.example.com"));
	assert_false(kr_ws_host_is_loopback("126.0.0.1"));
	assert_false(kr_ws_host_is_loopback("0.0.0.0"));
	assert_false(kr_ws_host_is_loopback("::"));
	assert_false(kr_ws_host_is_loopback(""));
}

/* Each delay lies in [min, min(max, min * 2^failures)], the cap is reached,
 * and a success starts over from min. */
static void test_backoff_bounds(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 50; seed++) {
		struct kr_ws_backoff b;
		kr_ws_backoff_init(&b, 1000, 60000, seed);
		uint64_t now = 1000 * MS, ceiling = 1000;
		for (int i = 0; i < 20; i++) {
			uint64_t d = kr_ws_backoff_next(&b, now, false);
			assert_true(d >= 1000);
			assert_true(d <= ceiling);
			kr_ws_backoff_attempt(&b, now);
			now += d * MS;
			ceiling = ceiling * 2 > 60000 ? 60000 : ceiling * 2;
		}
		kr_ws_backoff_success(&b);
		assert_int_equal(kr_ws_backoff_next(&b, now, false), 1000);
	}
	/* Over many seeds, late delays spread over the range up to the cap:
	 * the jitter is full, not a fixed doubling. */
	uint64_t lo = UINT64_MAX, hi = 0;
	for (uint64_t seed = 1; seed <= 200; seed++) {
		struct kr_ws_backoff b;
		kr_ws_backoff_init(&b, 500, 8000, seed * 7919);
		uint64_t d = 0;
		for (int i = 0; i < 10; i++)
			d = kr_ws_backoff_next(&b, 0, false);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo < 2000);
	assert_true(hi > 7000);
	assert_true(hi <= 8000);
}

static void test_backoff_deterministic(void **state)
{
	(void)state;
	struct kr_ws_backoff a, b, c;
	kr_ws_backoff_init(&a, 1000, 60000, 42);
	kr_ws_backoff_init(&b, 1000, 60000, 42);
	kr_ws_backoff_init(&c, 1000, 60000, 43);
	bool differs = false;
	for (int i = 0; i < 10; i++) {
		uint64_t x = kr_ws_backoff_next(&a, 0, false), y = kr_ws_backoff_next(&b, 0, false);
		assert_int_equal(x, y);
		differs |= kr_ws_backoff_next(&c, 0, false) != x;
	}
	assert_true(differs);
	/* min > max is taken as max = min; min 0 as 1. */
	kr_ws_backoff_init(&a, 5000, 10, 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(kr_ws_backoff_next(&a, 0, false), 5000);
	kr_ws_backoff_init(&a, 0, 0, 1);
	assert_int_equal(kr_ws_backoff_next(&a, 0, false), 1);
}

static void test_backoff_slow(void **state)
{
	(void)state;
	struct kr_ws_backoff b;
	kr_ws_backoff_init(&b, 500, 2000, 9);
	for (int i = 0; i < 10; i++)
		assert_true(kr_ws_backoff_next(&b, 0, true) >= KR_WS_SLOW_RECONNECT_MS);
	kr_ws_backoff_init(&b, 500, 2000, 9);
	for (int i = 0; i < 10; i++)
		assert_true(kr_ws_backoff_next(&b, 0, false) <= 2000);
}

/* Even with the smallest delays and successes in between, no
 * (KR_WS_CONNECT_MAX+1)-th attempt falls inside any 10-minute window, which
 * keeps us under Cloudflare's ~150 per 10 minutes. */
static void test_backoff_rate_window(void **state)
{
	(void)state;
	struct kr_ws_backoff b;
	kr_ws_backoff_init(&b, 500, 500, 3);
	static uint64_t at[1000];
	uint64_t now = 5 * MS;
	for (int i = 0; i < 1000; i++) {
		uint64_t d = kr_ws_backoff_next(&b, now, false);
		now += d * MS;
		at[i] = now;
		kr_ws_backoff_attempt(&b, now);
		kr_ws_backoff_success(&b);
	}
	for (int i = KR_WS_CONNECT_MAX; i < 1000; i++)
		assert_true(at[i] - at[i - KR_WS_CONNECT_MAX] >= KR_WS_CONNECT_WINDOW_MS * MS);
	/* Within the window's first part the plain delay applies. */
	assert_int_equal(at[1] - at[0], 500 * MS);
	/* The 101st waits for the window: its delay is far above max. */
	assert_true(at[KR_WS_CONNECT_MAX] - at[KR_WS_CONNECT_MAX - 1] > 500 * MS);
	/* Kraken's documented limit, with margin. */
	assert_true(KR_WS_CONNECT_MAX < 150);
}

static void test_idle_check(void **state)
{
	(void)state;
	const uint64_t ping = 20000 * MS, to = 10000 * MS;
	assert_int_equal(kr_ws_idle_check(0, 0, 0, ping, to), KR_WS_IDLE_OK);
	assert_int_equal(kr_ws_idle_check(9999 * MS, 0, 0, ping, to), KR_WS_IDLE_OK);
	assert_int_equal(kr_ws_idle_check(10000 * MS, 0, 0, ping, to), KR_WS_IDLE_DEAD);
	/* Traffic keeps arriving (heartbeats) but nothing sent: ping. */
	assert_int_equal(kr_ws_idle_check(30000 * MS, 29000 * MS, 0, ping, to), KR_WS_IDLE_PING);
	assert_int_equal(kr_ws_idle_check(30000 * MS, 29000 * MS, 10001 * MS, ping, to),
			 KR_WS_IDLE_OK);
	/* Silence wins over ping. */
	assert_int_equal(kr_ws_idle_check(60000 * MS, 1000 * MS, 0, ping, to), KR_WS_IDLE_DEAD);
	/* Stamps after now (taken on another path) are not silence. */
	assert_int_equal(kr_ws_idle_check(5 * MS, 6 * MS, 7 * MS, ping, to), KR_WS_IDLE_OK);
}

static void test_reasm(void **state)
{
	(void)state;
	struct kr_ws_reasm r;
	assert_int_equal(kr_ws_reasm_init(&r, 16), 0);
	assert_int_equal(kr_ws_reasm_push(&r, "{\"a\":1}", 7, true), KR_WS_REASM_DONE);
	assert_int_equal(r.len, 7);
	assert_memory_equal(r.buf, "{\"a\":1}", 7);

	/* Three chunks, one message. */
	assert_int_equal(kr_ws_reasm_push(&r, "abc", 3, false), KR_WS_REASM_MORE);
	assert_int_equal(kr_ws_reasm_push(&r, "def", 3, false), KR_WS_REASM_MORE);
	assert_int_equal(kr_ws_reasm_push(&r, "gh", 2, true), KR_WS_REASM_DONE);
	assert_int_equal(r.len, 8);
	assert_memory_equal(r.buf, "abcdefgh", 8);

	/* Exactly the capacity fits. */
	assert_int_equal(kr_ws_reasm_push(&r, "0123456789", 10, false), KR_WS_REASM_MORE);
	assert_int_equal(kr_ws_reasm_push(&r, "abcdef", 6, true), KR_WS_REASM_DONE);
	assert_int_equal(r.len, 16);

	/* One byte over: dropped whole, counted, and the buffer never grew. */
	char *before = r.buf;
	assert_int_equal(kr_ws_reasm_push(&r, "0123456789", 10, false), KR_WS_REASM_MORE);
	assert_int_equal(kr_ws_reasm_push(&r, "abcdefg", 7, false), KR_WS_REASM_MORE);
	assert_int_equal(kr_ws_reasm_push(&r, "more", 4, true), KR_WS_REASM_DROPPED);
	assert_int_equal(r.oversize, 1);
	assert_ptr_equal(r.buf, before);
	assert_int_equal(r.cap, 16);
	/* The next message is intact. */
	assert_int_equal(kr_ws_reasm_push(&r, "next", 4, true), KR_WS_REASM_DONE);
	assert_int_equal(r.len, 4);
	assert_memory_equal(r.buf, "next", 4);

	/* A single oversize chunk. */
	assert_int_equal(kr_ws_reasm_push(&r, "01234567890123456", 17, true), KR_WS_REASM_DROPPED);
	assert_int_equal(r.oversize, 2);

	/* A partial message forgotten at a disconnect. */
	assert_int_equal(kr_ws_reasm_push(&r, "partial", 7, false), KR_WS_REASM_MORE);
	kr_ws_reasm_reset(&r);
	assert_int_equal(kr_ws_reasm_push(&r, "x", 1, true), KR_WS_REASM_DONE);
	assert_int_equal(r.len, 1);
	/* An empty final chunk ends a message. */
	assert_int_equal(kr_ws_reasm_push(&r, "yz", 2, false), KR_WS_REASM_MORE);
	assert_int_equal(kr_ws_reasm_push(&r, "", 0, true), KR_WS_REASM_DONE);
	assert_int_equal(r.len, 2);
	kr_ws_reasm_release(&r);
	kr_ws_reasm_release(&r);
	assert_int_equal(kr_ws_reasm_init(&r, 0), ERR_INVALID);
}

static void test_batch(void **state)
{
	(void)state;
	static char names[300][16];
	static const char *syms[300];
	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof names[i], "A%03d/USD", i);
		syms[i] = names[i];
	}
	/* 120 symbols: 50, 50, 20. */
	size_t start = 0, sizes[8], nb = 0;
	while (start < 120) {
		size_t k = kr_ws_batch_next(syms, 120, start, KR_WS_SUBSCRIBE_BATCH, KR_WS_TX_MAX);
		assert_true(k >= 1);
		sizes[nb++] = k;
		start += k;
	}
	assert_int_equal(nb, 3);
	assert_int_equal(sizes[0], 50);
	assert_int_equal(sizes[1], 50);
	assert_int_equal(sizes[2], 20);
	assert_int_equal(kr_ws_batch_next(syms, 120, 120, 50, KR_WS_TX_MAX), 0);
	assert_int_equal(kr_ws_batch_next(syms, 120, 121, 50, KR_WS_TX_MAX), 0);

	/* A byte budget smaller than 50 symbols splits earlier, and every batch's
	 * request really fits the budget. */
	char buf[KR_WS_TX_MAX];
	for (size_t budget = 200; budget <= 1200; budget += 250) {
		start = 0;
		while (start < 300) {
			size_t k = kr_ws_batch_next(syms, 300, start, 1000, budget);
			assert_true(k >= 1);
			int n = kr_encode_unsubscribe_book(buf, sizeof buf, syms + start, k, 1000,
							   UINT64_MAX);
			assert_true(n > 0);
			if (k > 1)
				assert_true((size_t)n <= budget);
			int m = kr_encode_subscribe_book(buf, sizeof buf, syms + start, k, 1000,
							 UINT64_MAX);
			assert_true(m > 0);
			if (k > 1)
				assert_true((size_t)m <= budget);
			start += k;
		}
	}
	/* A budget too small for any symbol still yields one. */
	assert_int_equal(kr_ws_batch_next(syms, 300, 0, 50, 10), 1);
	/* max_syms 0 is taken as 1. */
	assert_int_equal(kr_ws_batch_next(syms, 300, 0, 0, KR_WS_TX_MAX), 1);
	/* A full batch of the longest symbols fits the send buffer. */
	static char longn[KR_WS_SUBSCRIBE_BATCH][BOOK_SYMBOL_MAX + 1];
	static const char *longs[KR_WS_SUBSCRIBE_BATCH];
	for (size_t i = 0; i < KR_WS_SUBSCRIBE_BATCH; i++) {
		memset(longn[i], 'A', BOOK_SYMBOL_MAX);
		longn[i][10] = '/';
		longn[i][BOOK_SYMBOL_MAX] = '\0';
		longn[i][0] = (char)('A' + i % 26);
		longs[i] = longn[i];
	}
	size_t k =
	    kr_ws_batch_next(longs, KR_WS_SUBSCRIBE_BATCH, 0, KR_WS_SUBSCRIBE_BATCH, KR_WS_TX_MAX);
	assert_true(k >= 1);
	assert_true(kr_encode_unsubscribe_book(buf, sizeof buf, longs, k, 1000, UINT64_MAX) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_ok),
	    cmocka_unit_test(test_url_refused),
	    cmocka_unit_test(test_loopback),
	    cmocka_unit_test(test_backoff_bounds),
	    cmocka_unit_test(test_backoff_deterministic),
	    cmocka_unit_test(test_backoff_slow),
	    cmocka_unit_test(test_backoff_rate_window),
	    cmocka_unit_test(test_idle_check),
	    cmocka_unit_test(test_reasm),
	    cmocka_unit_test(test_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

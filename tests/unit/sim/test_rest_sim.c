/* The REST client (kraken/rest.h) against the simulator's REST side and
 * accounts (sim/rest.c, sim/account.c) over loopback, with the market faked
 * (fake_market_rest.c): every endpoint, signing and nonce errors, rate
 * limits, timeouts, broken answers and AddOrder reconciliation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_market_rest.c"

#include "core/fixed.h"
#include "kraken/rest.h"
#include "kraken/sign.h"

#define SECRET                                                                                     \
	"kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
#define OTHER "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

static const char scenario[] =
    "{\"universe\":[],\"accounts\":["
    "{\"api_key\":\"KEY1\",\"api_secret\":\"" SECRET "\","
    "\"balances\":{\"USD\":\"100000.0\",\"BTC\":\"1.0\"},\"taker_fee_bps\":26,"
    "\"maker_fee_bps\":16,\"rest_rate_max\":1000,\"rest_rate_decay\":1000},"
    "{\"api_key\":\"RO\",\"api_secret\":\"" SECRET "\",\"balances\":{\"USD\":\"5\"},"
    "\"permissions\":[\"query_funds\"],\"rest_rate_max\":1000,\"rest_rate_decay\":1000},"
    "{\"api_key\":\"LIM\",\"api_secret\":\"" SECRET "\",\"balances\":{},"
    "\"rest_rate_max\":3,\"rest_rate_decay\":4},"
    "{\"api_key\":\"LIM2\",\"api_secret\":\"" SECRET "\",\"balances\":{},"
    "\"rest_rate_max\":2,\"rest_rate_decay\":10}]}";

/* A call that must succeed; on failure the message says why. */
#define OK0(call)                                                                                  \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		if (rc_)                                                                           \
			print_error("%s: %s\n", #call, info.msg);                                  \
		assert_int_equal(rc_, 0);                                                          \
	} while (0)

struct fx {
	struct sim *s;
	uint16_t port;
	char url[64];
	char dir[128];
	struct secret *key, *secret;
	struct kr_nonce *nonce;
	struct kr_rest *c;
};

static struct kr_rest *client(struct fx *f, const char *key, const char *secret, double rmax,
			      double rdecay, uint32_t timeout_ms)
{
	struct kr_rest_opts o = {0};
	struct err_info info = {0};
	char path[256];

	secret_free(f->key);
	secret_free(f->secret);
	kr_nonce_free(f->nonce);
	f->key = secret_new(key, strlen(key));
	f->secret = secret_new(secret, strlen(secret));
	snprintf(path, sizeof(path), "%s/nonce-%s.txt", f->dir, key);
	f->nonce = kr_nonce_open(path, NULL, &info);
	assert_non_null(f->nonce);
	o.base_url = f->url;
	o.api_key = f->key;
	o.api_secret = f->secret;
	o.nonce = f->nonce;
	o.timeout_ms = timeout_ms;
	o.rate_max = rmax;
	o.rate_decay_per_s = rdecay;
	o.backoff_ms = 50;
	o.max_retries = 6;
	kr_rest_free(f->c);
	f->c = kr_rest_new(&o, &info);
	assert_non_null(f->c);
	return f->c;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct err_info info = {0};

	f->s = fake_sim_new(scenario);
	assert_int_equal(sim__accounts_init(f->s, &info), 0);
	assert_int_equal(sim__rest_start(f->s, "127.0.0.1", 0, &f->port, &info), 0);
	assert_true(f->port > 0);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u", f->port);
	snprintf(f->dir, sizeof(f->dir), "/tmp/arb-rest-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	client(f, "KEY1", SECRET, 0, 0, 3000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[256];

	kr_rest_free(f->c);
	kr_nonce_free(f->nonce);
	secret_free(f->key);
	secret_free(f->secret);
	sim__rest_stop(f->s);
	sim__accounts_free(f->s);
	fake_sim_free(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int64_t dec_at(struct kr_dec d, int scale)
{
	int64_t v = 0;

	assert_int_equal(kr_dec_to_scale(d, scale, &v), 0);
	return v;
}

static const struct kr_rest_balance *bal(const struct kr_rest_balances *b, const char *a)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->v[i].asset, a) == 0)
			return &b->v[i];
	return NULL;
}

static void test_public(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct kr_rest_time t;
	struct kr_rest_status st;
	struct kr_rest_assets as;
	struct kr_rest_pairs ps;
	struct kr_rest_ticker tk;
	struct kr_rest_depth *d = NULL;

	OK0(kr_rest_time(f->c, &t, &info));
	assert_true(t.unixtime > 1700000000);
	assert_true(strlen(t.rfc1123) > 10);
	OK0(kr_rest_system_status(f->c, &st, &info));
	assert_int_equal(st.status, KR_SYSTEM_ONLINE);
	assert_true(st.timestamp_ns > 0);
	OK0(kr_rest_assets(f->c, NULL, &as, &info));
	assert_int_equal(as.n, 3); /* BTC, USD, ETH */
	kr_rest_assets_free(&as);
	OK0(kr_rest_asset_pairs(f->c, "BTC/USD", &ps, &info));
	assert_int_equal(ps.n, 1);
	assert_string_equal(ps.v[0].altname, "BTCUSD");
	assert_string_equal(ps.v[0].wsname, "BTC/USD");
	assert_int_equal(ps.v[0].pair_decimals, 1);
	assert_int_equal(ps.v[0].lot_decimals, 8);
	assert_int_equal(dec_at(ps.v[0].ordermin, 8), 10000);
	assert_int_equal(dec_at(ps.v[0].costmin, 5), 50000);
	assert_int_equal(dec_at(ps.v[0].tick_size, 1), 1);
	assert_int_equal((int)(kr_rest_fee_bps(ps.v[0].taker_fee) + 0.5), 26);
	kr_rest_pairs_free(&ps);
	OK0(kr_rest_asset_pairs(f->c, NULL, &ps, &info));
	assert_int_equal(ps.n, 2);
	kr_rest_pairs_free(&ps);
	assert_int_equal(kr_rest_asset_pairs(f->c, "NOPE/USD", &ps, &info), ERR_EXCHANGE);
	assert_non_null(strstr(info.msg, "EQuery:Unknown asset pair"));
	OK0(kr_rest_ticker(f->c, "XBTUSD", &tk, &info));
	assert_int_equal(dec_at(tk.ask, 1), 300000);
	assert_int_equal(dec_at(tk.bid, 1), 299900);
	assert_int_equal(dec_at(tk.ask_qty, 8), 50000000);
	OK0(kr_rest_depth(f->c, "BTCUSD", 1, &d, &info));
	assert_int_equal(d->n_asks, 1);
	assert_int_equal(d->n_bids, 1);
	assert_int_equal(dec_at(d->asks[0].price, 1), 300000);
	free(d);
	OK0(kr_rest_depth(f->c, "BTC/USD", 10, &d, &info));
	assert_int_equal(d->n_asks, 2);
	assert_int_equal(dec_at(d->bids[1].price, 1), 299800);
	free(d);
}

static void test_account_queries(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct kr_rest_balances *b = calloc(1, sizeof(*b));
	struct kr_rest_trade_balance tb;
	struct kr_rest_trade_volume tv;
	char token[KR_REST_TOKEN_MAX];
	uint32_t exp = 0;

	OK0(kr_rest_balance(f->c, b, &info));
	assert_int_equal(b->n, 2);
	assert_int_equal(dec_at(bal(b, "USD")->balance, 2), 10000000);
	assert_int_equal(dec_at(bal(b, "BTC")->balance, 8), 100000000);
	OK0(kr_rest_balance_ex(f->c, b, &info));
	assert_int_equal(dec_at(bal(b, "USD")->hold_trade, 2), 0);
	OK0(kr_rest_trade_balance(f->c, NULL, &tb, &info));
	assert_int_equal(dec_at(tb.eb, 2), 10000000);
	OK0(kr_rest_trade_volume(f->c, "BTC/USD,ETH/BTC", &tv, &info));
	assert_string_equal(tv.currency, "ZUSD");
	assert_int_equal(tv.n, 2);
	assert_int_equal((int)(kr_rest_fee_bps(tv.fees[0].fee) + 0.5), 26);
	assert_int_equal((int)(kr_rest_fee_bps(tv.fees[0].maker_fee) + 0.5), 16);
	OK0(kr_rest_ws_token(f->c, token, sizeof(token), &exp, &info));
	assert_true(strlen(token) > 10);
	assert_int_equal(exp, 900);
	sim__lock(f->s);
	assert_int_equal(sim__token_account(f->s, token, clock_wall_ns()), 0);
	sim__unlock(f->s);
	free(b);
}

static struct kr_rest_order_req order(const char *side, const char *type, int64_t vol_e8,
				      int64_t px_e1)
{
	struct kr_rest_order_req r = {.pair = "BTCUSD", .side = side, .ordertype = type};

	r.volume = (struct kr_dec){vol_e8, 8};
	if (px_e1) {
		r.has_price = true;
		r.price = (struct kr_dec){px_e1, 1};
	}
	return r;
}

static void test_orders(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct kr_rest_balances *b = calloc(1, sizeof(*b));
	struct kr_rest_add_result res, batch[2];
	struct kr_rest_order_req r, rb[2];
	struct kr_rest_orders l;
	int64_t count = -1, cur = 0, trig = 0;
	char txid[KR_REST_TXID_MAX];

	/* validate: described, nothing placed, balances untouched */
	r = order("buy", "market", 10000000, 0);
	r.validate = true;
	OK0(kr_rest_add_order(f->c, &r, &res, &info));
	assert_int_equal(res.n_txid, 0);
	assert_non_null(strstr(res.descr, "buy 0.10000000 BTCUSD @ market"));
	assert_int_equal(f->s->consumed, 0);

	/* market buy 0.1 BTC at 30000.0: 3000 USD + 0.26 % fee (7.8) in quote */
	r.validate = false;
	OK0(kr_rest_add_order(f->c, &r, &res, &info));
	assert_int_equal(res.n_txid, 1);
	snprintf(txid, sizeof(txid), "%s", res.txid[0]);
	assert_int_equal(f->s->consumed, 1);
	assert_int_equal(f->s->consumed_side, 'a');
	assert_int_equal(f->s->consumed_qty, 10000000);
	OK0(kr_rest_balance(f->c, b, &info));
	assert_int_equal(dec_at(bal(b, "USD")->balance, 2), 10000000 - 300000 - 780);
	assert_int_equal(dec_at(bal(b, "BTC")->balance, 8), 110000000);
	OK0(kr_rest_query_orders(f->c, txid, &l, &info));
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].status, KR_ORDER_CLOSED);
	assert_int_equal(dec_at(l.v[0].vol_exec, 8), 10000000);
	assert_int_equal(dec_at(l.v[0].avg_price, 1), 300000);
	assert_int_equal(dec_at(l.v[0].cost, 2), 300000);
	kr_rest_orders_free(&l);

	/* GTC limit buy below the market rests; its funds are held */
	r = order("buy", "limit", 10000000, 290000);
	r.has_userref = true;
	r.userref = 7;
	OK0(kr_rest_add_order(f->c, &r, &res, &info));
	snprintf(txid, sizeof(txid), "%s", res.txid[0]);
	OK0(kr_rest_open_orders(f->c, NULL, &l, &info));
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].txid, txid);
	assert_true(l.v[0].has_userref && l.v[0].userref == 7);
	assert_int_equal(dec_at(l.v[0].limit_price, 1), 290000);
	kr_rest_orders_free(&l);
	OK0(kr_rest_balance_ex(f->c, b, &info));
	assert_int_equal(dec_at(bal(b, "USD")->hold_trade, 2), 290000 + 754);
	OK0(kr_rest_cancel_order(f->c, txid, NULL, &count, NULL, &info));
	assert_int_equal(count, 1);
	assert_int_equal(kr_rest_cancel_order(f->c, txid, NULL, &count, NULL, &info), ERR_EXCHANGE);
	assert_non_null(strstr(info.msg, "EOrder:Unknown order"));
	OK0(kr_rest_balance_ex(f->c, b, &info));
	assert_int_equal(dec_at(bal(b, "USD")->hold_trade, 2), 0);
	OK0(kr_rest_closed_orders(f->c, NULL, &l, &info));
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[1].status, KR_ORDER_CANCELED);
	kr_rest_orders_free(&l);

	/* IOC limit above the book's first level: fills 0.5 at 30000.0 only */
	r = order("buy", "limit", 50000000, 300000);
	r.timeinforce = "IOC";
	OK0(kr_rest_add_order(f->c, &r, &res, &info));
	OK0(kr_rest_query_orders(f->c, res.txid[0], &l, &info));
	assert_int_equal(dec_at(l.v[0].vol_exec, 8), 40000000); /* 0.4 left after the 0.1 */
	assert_int_equal(l.v[0].status, KR_ORDER_CLOSED);
	kr_rest_orders_free(&l);

	/* a batch of two resting sells, then CancelAll */
	rb[0] = order("sell", "limit", 10000000, 310000);
	rb[1] = order("sell", "limit", 10000000, 320000);
	assert_int_equal(kr_rest_add_order_batch(f->c, "BTCUSD", rb, 2, false, NULL, batch, &info),
			 0);
	assert_int_equal(batch[0].n_txid, 1);
	assert_int_equal(batch[1].n_txid, 1);
	assert_string_equal(batch[0].error, "");
	OK0(kr_rest_cancel_all(f->c, &count, &info));
	assert_int_equal(count, 2);

	/* the dead man's switch arms, reports its trigger and disarms */
	OK0(kr_rest_cancel_all_after(f->c, 60, &cur, &trig, &info));
	assert_true(trig - cur >= 59000000000LL && trig - cur <= 61000000000LL);
	OK0(kr_rest_cancel_all_after(f->c, 0, &cur, &trig, &info));
	assert_int_equal(trig, 0);
	free(b);
}

static void test_order_errors(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct kr_rest_add_result res;
	struct kr_rest_order_req r;

	r = order("buy", "limit", 1000000000, 299000); /* 10 BTC for 299000 USD: too much */
	assert_int_equal(kr_rest_add_order(f->c, &r, &res, &info), ERR_EXCHANGE);
	assert_non_null(strstr(info.msg, "EOrder:Insufficient funds"));
	r = order("sell", "market", 500000000, 0); /* 5 BTC of 1 */
	assert_int_equal(kr_rest_add_order(f->c, &r, &res, &info), ERR_EXCHANGE);
	assert_non_null(strstr(info.msg, "EOrder:Insufficient funds"));
	r = order("buy", "market", 1000, 0); /* 0.00001 < ordermin 0.0001 */
	assert_int_equal(kr_rest_add_order(f->c, &r, &res, &info), ERR_EXCHANGE);
	assert_non_null(strstr(info.msg, "EOrder:Order minimum not met"));
	r = order("buy", "limit", 10000, 10); /* 0.0001 at 1.0 = 0.0001 USD < costmin */
	assert_int_equal(kr_rest_add_order(f->c, &r, &res, &info), ERR_EXCHANGE);
	assert_non_null(strstr(info.msg, "EOrder:Cost minimum not met"));
	r = order("buy", "market", 10000000, 0);
	r.pair = "DOGEUSD";
	assert_int_equal(kr_rest_add_order(f->c, &r, &res, &info), ERR_EXCHANGE);
	assert_non_null(strstr(info.msg, "EQuery:Unknown asset pair"));
	r = order("buy", "limit", 10000000, 0);
	r.has_price = true;
	r.price = (struct kr_dec){2999005, 2}; /* 29990.05: finer than the pair's 0.1 */
	assert_int_equal(kr_rest_add_order(f->c, &r, &res, &info), ERR_EXCHANGE);
	assert_non_null(strstr(info.msg, "EGeneral:Invalid arguments:price"));
	sim__lock(f->s);
	f->s->status = KR_SYSTEM_CANCEL_ONLY;
	sim__unlock(f->s);
	r = order("buy", "market", 10000000, 0);
	assert_int_equal(kr_rest_add_order(f->c, &r, &res, &info), ERR_EXCHANGE);
	assert_non_null(strstr(info.msg, "EService:Market in cancel_only mode"));
	sim__lock(f->s);
	f->s->status = KR_SYSTEM_ONLINE;
	sim__unlock(f->s);
	/* nothing above reached the book */
	assert_int_equal(f->s->consumed, 0);
}

static void test_auth_errors(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct kr_rest_balances *b = calloc(1, sizeof(*b));
	struct kr_rest_add_result res;
	struct kr_rest_order_req r = order("buy", "market", 10000000, 0);

	client(f, "KEY1", OTHER, 0, 0, 3000);
	assert_int_equal(kr_rest_balance(f->c, b, &info), ERR_AUTH);
	assert_true(strncmp(info.msg, "EAPI:Invalid signature", 22) == 0);
	client(f, "NOBODY", SECRET, 0, 0, 3000);
	assert_int_equal(kr_rest_balance(f->c, b, &info), ERR_AUTH);
	assert_true(strncmp(info.msg, "EAPI:Invalid key", 16) == 0);
	client(f, "RO", SECRET, 0, 0, 3000);
	OK0(kr_rest_balance(f->c, b, &info));
	assert_int_equal(kr_rest_add_order(f->c, &r, &res, &info), ERR_REJECTED);
	assert_true(strncmp(info.msg, "EGeneral:Permission denied", 26) == 0);
	/* a secret in no log line or message */
	assert_null(strstr(info.msg, SECRET));
	free(b);
}

/* One signed POST with a chosen nonce, outside the client. */
static long raw_post(struct fx *f, uint64_t nonce, char *out, size_t cap)
{
	struct secret *sec = secret_new(SECRET, strlen(SECRET));
	char body[64], sign[KR_SIGN_LEN + 1], url[128], hs[128];
	struct curl_slist *h = NULL;
	CURL *c = curl_easy_init();
	FILE *mem = fmemopen(out, cap, "w");
	long code = 0;

	snprintf(body, sizeof(body), "nonce=%" PRIu64, nonce);
	assert_int_equal(
	    kr_sign(sec, "/0/private/Balance", nonce, body, strlen(body), sign, sizeof(sign)),
	    KR_SIGN_LEN);
	snprintf(url, sizeof(url), "%s/0/private/Balance", f->url);
	snprintf(hs, sizeof(hs), "API-Sign: %s", sign);
	h = curl_slist_append(h, "API-Key: KEY1");
	h = curl_slist_append(h, hs);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	fclose(mem);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	secret_free(sec);
	return code;
}

static void test_replayed_nonce(void **state)
{
	struct fx *f = *state;
	char out[4096];
	/* Above every nonce the client issued (microseconds now). */
	uint64_t n = (uint64_t)(clock_wall_ns() / 1000) + 3600000000ull;

	memset(out, 0, sizeof(out));
	assert_int_equal(raw_post(f, n, out, sizeof(out)), 200);
	assert_non_null(strstr(out, "\"error\":[]"));
	memset(out, 0, sizeof(out));
	assert_int_equal(raw_post(f, n, out, sizeof(out)), 200);
	assert_non_null(strstr(out, "EAPI:Invalid nonce"));
	memset(out, 0, sizeof(out));
	assert_int_equal(raw_post(f, n - 1, out, sizeof(out)), 200);
	assert_non_null(strstr(out, "EAPI:Invalid nonce"));

	/* The client behind the server's nonce: refused, tried once more with a
	 * fresh nonce (still behind, an hour is far), then the error surfaces. */
	struct err_info info = {0};
	struct kr_rest_balances *b = calloc(1, sizeof(*b));
	struct kr_rest_stats st;
	client(f, "KEY1", SECRET, 0, 0, 3000);
	assert_int_equal(kr_rest_balance(f->c, b, &info), ERR_AUTH);
	assert_non_null(strstr(info.msg, "EAPI:Invalid nonce"));
	kr_rest_get_stats(f->c, &st);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.retries, 1);
	free(b);
}

static void test_rate_wait(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct kr_rest_balances *b = calloc(1, sizeof(*b));
	struct kr_rest_stats st;

	/* The server allows 3 calls, decaying 4/s; the client models 3 at 2/s,
	 * so it waits about 0.5 s per call beyond the third, twice what the
	 * server needs: 8 calls all succeed, at least 4 after waiting, none
	 * refused, however slow or jittery a loaded machine makes each call
	 * (the margin absorbs 0.25 s of jitter per call). */
	client(f, "LIM", SECRET, 3, 2, 3000);
	for (int i = 0; i < 8; i++)
		OK0(kr_rest_balance(f->c, b, &info));
	kr_rest_get_stats(f->c, &st);
	assert_true(st.rate_waits >= 4);
	assert_int_equal(st.server_rate_limited, 0);
	assert_int_equal(st.requests, 8);
	free(b);
}

static void test_rate_backoff(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct kr_rest_balances *b = calloc(1, sizeof(*b));
	struct kr_rest_stats st;

	/* The client believes in a counter of 100; the server's is 2. The
	 * server refuses, the client backs off and the query still succeeds. */
	client(f, "LIM2", SECRET, 100, 100, 3000);
	for (int i = 0; i < 5; i++)
		OK0(kr_rest_balance(f->c, b, &info));
	kr_rest_get_stats(f->c, &st);
	assert_true(st.server_rate_limited >= 1);
	assert_true(st.retries >= 1);
	assert_int_equal(st.requests, 5 + st.retries);
	free(b);
}

static void test_reconcile(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct kr_rest_add_result res;
	struct kr_rest_order_req r = order("buy", "market", 10000000, 0);
	struct kr_rest_order_filter flt = {.has_userref = true, .userref = 4242};
	struct kr_rest_order found;
	struct kr_rest_orders l;
	struct kr_rest_stats st;

	client(f, "KEY1", SECRET, 0, 0, 300);
	r.has_userref = true;
	r.userref = 4242;
	sim__lock(f->s);
	sim__rest_delay_next(f->s, 1, 1500);
	sim__unlock(f->s);
	assert_int_equal(kr_rest_add_order(f->c, &r, &res, &info), ERR_UNKNOWN);
	assert_non_null(strstr(info.msg, "reconcile"));
	kr_rest_get_stats(f->c, &st);
	assert_int_equal(st.requests, 1); /* never re-sent */
	assert_int_equal(st.unknown_outcomes, 1);
	/* The order was placed: reconciliation finds it instead of re-sending. */
	client(f, "KEY1", SECRET, 0, 0, 3000);
	assert_int_equal(kr_rest_reconcile(f->c, &flt, &found, &info), 1);
	assert_int_equal(found.userref, 4242);
	assert_int_equal(found.status, KR_ORDER_CLOSED);
	assert_int_equal(f->s->consumed, 1);
	flt.userref = 999;
	OK0(kr_rest_reconcile(f->c, &flt, &found, &info));
	/* ... and by cl_ord_id */
	r = order("buy", "limit", 10000000, 200000);
	r.cl_ord_id = "my-order-1";
	OK0(kr_rest_add_order(f->c, &r, &res, &info));
	flt = (struct kr_rest_order_filter){.cl_ord_id = "my-order-1"};
	assert_int_equal(kr_rest_reconcile(f->c, &flt, &found, &info), 1);
	assert_string_equal(found.txid, res.txid[0]);
	OK0(kr_rest_open_orders(f->c, &flt, &l, &info));
	assert_int_equal(l.n, 1);
	kr_rest_orders_free(&l);
}

/* ---- broken servers ------------------------------------------------------- */

struct canned {
	int fd;
	uint16_t port;
	const char *reply; /* NULL: accept and never answer */
	pthread_t th;
	volatile int stop;
};

static void *canned_main(void *arg)
{
	struct canned *cn = arg;

	while (!cn->stop) {
		char buf[8192];
		int c = accept(cn->fd, NULL, NULL);

		if (c < 0)
			break;
		if (recv(c, buf, sizeof(buf), 0) > 0 && cn->reply)
			send(c, cn->reply, strlen(cn->reply), MSG_NOSIGNAL);
		if (!cn->reply) {
			while (!cn->stop && recv(c, buf, sizeof(buf), 0) > 0) {
			}
		}
		close(c);
	}
	return NULL;
}

static void canned_start(struct canned *cn, const char *reply)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);

	cn->reply = reply;
	cn->stop = 0;
	cn->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(cn->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(cn->fd, 8), 0);
	getsockname(cn->fd, (struct sockaddr *)&a, &len);
	cn->port = ntohs(a.sin_port);
	pthread_create(&cn->th, NULL, canned_main, cn);
}

static void canned_stop(struct canned *cn)
{
	cn->stop = 1;
	shutdown(cn->fd, SHUT_RDWR);
	close(cn->fd);
	pthread_join(cn->th, NULL);
}

static struct kr_rest *canned_client(struct fx *f, struct canned *cn, uint32_t timeout_ms)
{
	struct kr_rest_opts o = {0};
	struct err_info info = {0};
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", cn->port);
	o.base_url = url;
	o.api_key = f->key;
	o.api_secret = f->secret;
	o.nonce = f->nonce;
	o.timeout_ms = timeout_ms;
	o.max_retries = 1;
	return kr_rest_new(&o, &info);
}

static void test_timeout(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct canned cn;
	struct kr_rest *c;
	struct kr_rest_time t;
	struct kr_rest_add_result res;
	struct kr_rest_order_req r = order("buy", "market", 10000000, 0);
	struct kr_rest_stats st;

	canned_start(&cn, NULL);
	c = canned_client(f, &cn, 200);
	assert_non_null(c);
	assert_int_equal(kr_rest_time(c, &t, &info), ERR_TIMEOUT);
	assert_int_equal(kr_rest_add_order(c, &r, &res, &info), ERR_UNKNOWN);
	kr_rest_get_stats(c, &st);
	assert_int_equal(st.requests, 2 + 1); /* Time tried twice, AddOrder once */
	kr_rest_free(c);
	canned_stop(&cn);
}

static void test_broken_answers(void **state)
{
	static const struct {
		int status;
		const char *body;
		int want;
	} cases[] = {
	    {200, "{\"error\":[],\"result\":{\"unixt", ERR_PARSE}, /* truncated JSON */
	    {200, "not json", ERR_PARSE},
	    {200, "", ERR_PARSE},
	    {200, "[1,2]", ERR_PARSE},
	    {200, "{\"result\":{}}", ERR_SCHEMA},
	    {200, "{\"error\":\"x\",\"result\":{}}", ERR_SCHEMA},
	    {200, "{\"error\":[]}", ERR_SCHEMA},
	    {200, "{\"error\":[],\"result\":{\"unixtime\":\"x\"}}", ERR_SCHEMA},
	    {200, "{\"error\":[],\"result\":{\"unixtime\":1}} trailing", ERR_PARSE},
	    {502, "oops", ERR_NET},
	    {500, "{\"error\":[],\"result\":{\"unixtime\":1}}", ERR_NET},
	    {200, "{\"error\":[\"EService:Unavailable\"]}", ERR_EXCHANGE},
	    {200, "{\"error\":[\"EAPI:Rate limit exceeded\"]}", ERR_RATELIMIT},
	    {200, "{\"error\":[\"WGeneral:Soon\"],\"result\":{\"unixtime\":5}}", 0},
	    {-1, "{\"error\":[]", ERR_NET}, /* the transfer itself is cut short */
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err_info info = {0};
		struct kr_rest_add_result res;
		struct kr_rest_order_req r = order("buy", "market", 10000000, 0);
		struct canned cn;
		struct kr_rest *c;
		struct kr_rest_time t;
		char reply[1024];
		size_t blen = strlen(cases[i].body);
		int rc;

		snprintf(reply, sizeof(reply),
			 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 cases[i].status < 0 ? 200 : cases[i].status,
			 cases[i].status < 0 ? blen + 50 : blen, cases[i].body);
		canned_start(&cn, reply);
		c = canned_client(f, &cn, 1000);
		rc = kr_rest_time(c, &t, &info);
		if (rc != cases[i].want)
			print_error("case %zu: got %s (%s)\n", i, err_str(rc), info.msg);
		assert_int_equal(rc, cases[i].want);
		if (rc)
			assert_true(info.msg[0] != '\0');
		else
			assert_int_equal(t.unixtime, 5);
		/* For an order, a broken answer is an unknown outcome, an error a refusal. */
		rc = kr_rest_add_order(c, &r, &res, &info);
		if (cases[i].want == ERR_EXCHANGE || cases[i].want == ERR_RATELIMIT)
			assert_int_equal(rc, cases[i].want);
		else
			assert_int_equal(rc, ERR_UNKNOWN);
		kr_rest_free(c);
		canned_stop(&cn);
	}
}

static void test_unreachable_and_url(void **state)
{
	struct fx *f = *state;
	struct err_info info = {0};
	struct kr_rest_opts o = {0};
	struct kr_rest *c;
	struct kr_rest_time t;
	struct kr_rest_add_result res;
	struct kr_rest_order_req r = order("buy", "market", 10000000, 0);
	int port;

	{
		struct canned cn;

		canned_start(&cn, "");
		port = cn.port;
		canned_stop(&cn); /* closed again: connections are refused */
	}
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	o.base_url = url;
	o.api_key = f->key;
	o.api_secret = f->secret;
	o.nonce = f->nonce;
	o.max_retries = 1;
	c = kr_rest_new(&o, &info);
	assert_non_null(c);
	assert_int_equal(kr_rest_time(c, &t, &info), ERR_NET);
	/* refused before anything was sent: the order surely does not exist */
	assert_int_equal(kr_rest_add_order(c, &r, &res, &info), ERR_NET);
	kr_rest_free(c);
	o.base_url = "http://10.1.2.3:80";
	assert_null(kr_rest_new(&o, &info));
	assert_int_equal(info.code, ERR_CONFIG);
	o.base_url = "ftp://127.0.0.1";
	assert_null(kr_rest_new(&o, &info));
	o.base_url = f->url;
	o.api_key = f->key;
	o.nonce = NULL;
	assert_null(kr_rest_new(&o, &info));
	/* no credentials: private calls refuse, public calls work */
	o.api_key = NULL;
	c = kr_rest_new(&o, &info);
	assert_non_null(c);
	OK0(kr_rest_time(c, &t, &info));
	assert_int_equal(kr_rest_add_order(c, &r, &res, &info), ERR_BADSTATE);
	kr_rest_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_public, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_account_queries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_orders, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_order_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auth_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replayed_nonce, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reconcile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_broken_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreachable_and_url, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Risk rules: each rejects with its own reason (table-driven), the window,
 * the daily loss by UTC day, the circuit breaker, kill switch and pause. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "risk/risk.h"

#define S 1000000000ull
/* 2026-12-01T12:00:00Z */
#define WALL_NOON 1796126400000000000ll
#define DAY_NS	  86400000000000ll

static struct risk_limits base_limits(void)
{
	struct risk_limits l;
	memset(&l, 0, sizeof(l));
	l.min_profit_bps = 5;
	l.max_notional = 200;
	l.max_book_age_ms = 2000;
	l.max_exposure = 250;
	l.max_cycles_per_min = 3;
	l.daily_loss_limit = 10;
	l.max_consecutive_failures = 2;
	return l;
}

/* USD>BTC>ETH>USD, 100.76 USD: buy 0.00201 BTC @ 50000 (26 bps fee), buy 0.04 ETH @ 0.05 BTC,
 * sell 0.04 ETH @ 2510 USD. */
static struct arb_opp base_opp(void)
{
	struct arb_opp o;
	memset(&o, 0, sizeof(o));
	o.id = 42;
	o.n_legs = 3;
	snprintf(o.home, sizeof(o.home), "USD");
	snprintf(o.path, sizeof(o.path), "USD>BTC>ETH>USD");
	const char *sym[3] = {"BTC/USD", "ETH/BTC", "ETH/USD"};
	const char *in[3] = {"USD", "BTC", "ETH"}, *out[3] = {"BTC", "ETH", "USD"};
	enum arb_side side[3] = {ARB_BUY, ARB_BUY, ARB_SELL};
	int64_t px[3] = {500000, 50000, 25100}; /* scales 1, 6, 1 */
	int ps[3] = {1, 6, 1};
	int64_t qty[3] = {201000, 4000000, 4000000}; /* scale 8 */
	double ein[3] = {100.76130, 0.0020052, 0.04}, eout[3] = {0.00201, 0.04, 100.139};
	for (int i = 0; i < 3; i++) {
		struct arb_leg *l = &o.legs[i];
		l->pair = (uint32_t)i;
		snprintf(l->symbol, sizeof(l->symbol), "%s", sym[i]);
		snprintf(l->asset_in, sizeof(l->asset_in), "%s", in[i]);
		snprintf(l->asset_out, sizeof(l->asset_out), "%s", out[i]);
		l->side = side[i];
		l->price_scale = ps[i];
		l->qty_scale = 8;
		l->limit_price = px[i];
		l->qty = qty[i];
		l->expected_in = ein[i];
		l->expected_out = eout[i];
	}
	o.size_home = 100.7613;
	o.out_home = 100.9;
	o.profit_home = 0.1387;
	o.profit_bps = 13.76;
	return o;
}

struct fixture {
	struct arb_opp opp;
	struct risk_leg_state legs[ARB_MAX_LEGS];
	struct risk_input in;
};

static void fixture_init(struct fixture *f)
{
	f->opp = base_opp();
	for (int i = 0; i < 3; i++) {
		f->legs[i] = (struct risk_leg_state){.book_valid = true,
						     .pair_online = true,
						     .book_age_ms = 10,
						     .qty_min = 10000, /* 0.0001 */
						     .cost_min = 50,   /* 0.5 at scale 2 */
						     .cost_scale = 2,
						     .balance_in = 0};
	}
	f->legs[0].balance_in = 1000; /* USD */
	f->legs[1].cost_min = 2000;   /* 0.00002 BTC */
	f->legs[1].cost_scale = 8;
	f->in = (struct risk_input){.opp = &f->opp,
				    .legs = f->legs,
				    .exchange_online = true,
				    .now_ns = 100 * S,
				    .wall_ns = WALL_NOON};
}

struct rule_case {
	const char *name;
	void (*mutate)(struct fixture *f, struct risk *r);
	enum risk_reason want;
	int leg;
};

static void m_none(struct fixture *f, struct risk *r)
{
	(void)f;
	(void)r;
}
static void m_kill(struct fixture *f, struct risk *r)
{
	(void)f;
	risk_kill(r, "test");
}
static void m_pause(struct fixture *f, struct risk *r)
{
	(void)f;
	risk_pause(r);
}
static void m_breaker(struct fixture *f, struct risk *r)
{
	risk_cycle_done(r, 0, 0, false, f->in.wall_ns);
	risk_cycle_done(r, 0, 0, false, f->in.wall_ns);
}
static void m_loss(struct fixture *f, struct risk *r)
{
	risk_cycle_done(r, 0, -6, true, f->in.wall_ns);
	risk_cycle_done(r, 0, -4, true, f->in.wall_ns); /* -10 = -limit */
}
static void m_offline(struct fixture *f, struct risk *r)
{
	(void)r;
	f->in.exchange_online = false;
}
static void m_pair_offline(struct fixture *f, struct risk *r)
{
	(void)r;
	f->legs[2].pair_online = false;
}
static void m_bad(struct fixture *f, struct risk *r)
{
	(void)r;
	f->opp.legs[1].qty = 0;
}
static void m_invalid(struct fixture *f, struct risk *r)
{
	(void)r;
	f->legs[1].book_valid = false;
}
static void m_stale(struct fixture *f, struct risk *r)
{
	(void)r;
	f->legs[2].book_age_ms = 2001;
}
static void m_profit(struct fixture *f, struct risk *r)
{
	(void)r;
	f->opp.profit_bps = 4.99;
}
static void m_qty_min(struct fixture *f, struct risk *r)
{
	(void)r;
	f->legs[1].qty_min = 4000001;
}
static void m_cost_min(struct fixture *f, struct risk *r)
{
	(void)r;
	/* leg 0 cost: 0.00201 * 50000 = 100.50 USD; minimum 100.51 */
	f->legs[0].cost_min = 10051;
}
static void m_balance(struct fixture *f, struct risk *r)
{
	(void)r;
	f->legs[0].balance_in = 100.76; /* needs 100.7613 with the fee */
}
static void m_balance_inv(struct fixture *f, struct risk *r)
{
	(void)r;
	/* Sequential: leg 2 is paid by leg 1's 0.04 ETH, so this passes... */
	f->legs[2].balance_in = 0;
	f->opp.legs[2].expected_in = 0.0401; /* ...unless it needs more than that */
}
static void m_notional(struct fixture *f, struct risk *r)
{
	(void)r;
	f->opp.size_home = 200.5;
	f->opp.legs[0].expected_in = 200.5;
}
static void m_exposure(struct fixture *f, struct risk *r)
{
	struct arb_opp o = base_opp();
	o.size_home = 150; /* 150 + 100.7613 > 250 */
	risk_admit(r, &o, f->in.now_ns);
}
static void m_rate(struct fixture *f, struct risk *r)
{
	struct arb_opp o = base_opp();
	o.size_home = 0;
	for (int i = 0; i < 3; i++)
		risk_admit(r, &o, f->in.now_ns - 59 * S + (uint64_t)i);
}

static const struct rule_case cases[] = {
    {"passes", m_none, RISK_OK, -1},
    {"kill switch", m_kill, RISK_KILLED, -1},
    {"paused", m_pause, RISK_PAUSED, -1},
    {"circuit breaker", m_breaker, RISK_CIRCUIT_BREAKER, -1},
    {"daily loss", m_loss, RISK_DAILY_LOSS, -1},
    {"exchange offline", m_offline, RISK_EXCHANGE_OFFLINE, -1},
    {"pair offline", m_pair_offline, RISK_EXCHANGE_OFFLINE, 2},
    {"malformed", m_bad, RISK_BAD_OPPORTUNITY, -1},
    {"book invalid", m_invalid, RISK_BOOK_INVALID, 1},
    {"book stale", m_stale, RISK_BOOK_STALE, 2},
    {"min profit", m_profit, RISK_MIN_PROFIT, -1},
    {"qty_min", m_qty_min, RISK_ORDER_MINIMUM, 1},
    {"cost_min", m_cost_min, RISK_ORDER_MINIMUM, 0},
    {"balance leg 0", m_balance, RISK_BALANCE, 0},
    {"balance leg 2", m_balance_inv, RISK_BALANCE, 2},
    {"max notional", m_notional, RISK_MAX_NOTIONAL, -1},
    {"max exposure", m_exposure, RISK_MAX_EXPOSURE, -1},
    {"rate limit", m_rate, RISK_RATE_LIMIT, -1},
};

static void test_each_rule(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct risk_limits l = base_limits();
		struct risk *r = risk_new(&l, NULL);
		assert_non_null(r);
		struct fixture f;
		fixture_init(&f);
		cases[i].mutate(&f, r);
		struct risk_verdict v;
		enum risk_reason got = risk_check(r, &f.in, &v);
		if (got != cases[i].want || v.leg != cases[i].leg)
			fail_msg("case \"%s\": got %s (leg %d, \"%s\"), want %s (leg %d)",
				 cases[i].name, risk_reason_str(got), v.leg, v.text,
				 risk_reason_str(cases[i].want), cases[i].leg);
		assert_int_equal(v.reason, got);
		if (got != RISK_OK)
			assert_true(strlen(v.text) > 0);
		struct risk_stats st;
		risk_stats(r, &st);
		assert_int_equal(st.checks, 1);
		assert_int_equal(got == RISK_OK ? st.accepted : st.rejected[got], 1);
		risk_free(r);
	}
}

static void test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(risk_reason_str(RISK_PAUSED), "paused");
	assert_string_equal(risk_reason_str(RISK_RATE_LIMIT), "rate_limit");
	assert_string_equal(risk_reason_str(RISK__COUNT), "unknown");
	for (int i = 0; i < RISK__COUNT; i++)
		assert_string_not_equal(risk_reason_str((enum risk_reason)i), "unknown");
}

static void test_inventory_balance(void **state)
{
	(void)state;
	struct risk_limits l = base_limits();
	l.inventory = true;
	struct risk *r = risk_new(&l, NULL);
	struct fixture f;
	fixture_init(&f);
	struct risk_verdict v;
	/* Inventory: leg 1 pays 0.0020052 BTC from the BTC balance, which is 0. */
	assert_int_equal(risk_check(r, &f.in, &v), RISK_BALANCE);
	assert_int_equal(v.leg, 1);
	f.legs[1].balance_in = 0.0021;
	f.legs[2].balance_in = 0.04;
	assert_int_equal(risk_check(r, &f.in, &v), RISK_OK);
	risk_free(r);
}

static void test_window_slides(void **state)
{
	(void)state;
	struct risk_limits l = base_limits();
	l.max_exposure = 1e6;
	struct risk *r = risk_new(&l, NULL);
	struct fixture f;
	fixture_init(&f);
	struct risk_verdict v;
	uint64_t t0 = 1000 * S;
	for (int i = 0; i < 3; i++) {
		f.in.now_ns = t0 + (uint64_t)i * 10 * S;
		assert_int_equal(risk_check_admit(r, &f.in, &v), RISK_OK);
	}
	f.in.now_ns = t0 + 59 * S; /* 3 within the last 60 s */
	assert_int_equal(risk_check_admit(r, &f.in, &v), RISK_RATE_LIMIT);
	f.in.now_ns = t0 + 60 * S; /* the first (t0) has left the window */
	assert_int_equal(risk_check_admit(r, &f.in, &v), RISK_OK);
	assert_int_equal(risk_check(r, &f.in, &v), RISK_RATE_LIMIT);
	/* Exposure: 4 admitted x 100.7613 = 403.0452; two given back. */
	assert_true(risk_exposure(r) > 403.045 && risk_exposure(r) < 403.046);
	risk_release(r, 100.7613);
	risk_cycle_done(r, 100.7613, 0.1, true, WALL_NOON);
	assert_true(risk_exposure(r) > 201.522 && risk_exposure(r) < 201.523);
	risk_free(r);
}

static void test_daily_loss_resets_at_utc_midnight(void **state)
{
	(void)state;
	struct risk_limits l = base_limits();
	struct risk *r = risk_new(&l, NULL);
	struct fixture f;
	fixture_init(&f);
	struct risk_verdict v;
	risk_cycle_done(r, 0, -12, true, WALL_NOON);
	assert_int_equal(risk_check(r, &f.in, &v), RISK_DAILY_LOSS);
	assert_true(risk_day_pnl(r, WALL_NOON) < -11.99);
	/* 11:59:59.999 later is still the same UTC day (23:59:59.999). */
	f.in.wall_ns = WALL_NOON + DAY_NS / 2 - 1000000;
	assert_int_equal(risk_check(r, &f.in, &v), RISK_DAILY_LOSS);
	/* The next UTC day starts at 0. */
	f.in.wall_ns = WALL_NOON + DAY_NS / 2;
	assert_int_equal(risk_check(r, &f.in, &v), RISK_OK);
	assert_true(risk_day_pnl(r, f.in.wall_ns) == 0);
	/* Profit offsets loss within a day. */
	risk_cycle_done(r, 0, -8, true, f.in.wall_ns);
	risk_cycle_done(r, 0, 3, true, f.in.wall_ns);
	assert_int_equal(risk_check(r, &f.in, &v), RISK_OK);
	risk_free(r);
}

static void test_breaker_and_resume(void **state)
{
	(void)state;
	struct risk_limits l = base_limits();
	struct risk *r = risk_new(&l, NULL);
	struct fixture f;
	fixture_init(&f);
	struct risk_verdict v;
	risk_cycle_done(r, 0, 0, false, WALL_NOON);
	risk_cycle_done(r, 0, 0, true, WALL_NOON); /* a success resets the streak */
	risk_cycle_done(r, 0, 0, false, WALL_NOON);
	assert_int_equal(risk_check(r, &f.in, &v), RISK_OK);
	risk_cycle_done(r, 0, 0, false, WALL_NOON);
	assert_int_equal(risk_failure_streak(r), 2);
	assert_int_equal(risk_check(r, &f.in, &v), RISK_CIRCUIT_BREAKER);
	risk_pause(r);
	assert_true(risk_paused(r));
	assert_int_equal(risk_check(r, &f.in, &v), RISK_PAUSED);
	assert_string_equal(v.text, "paused by operator");
	risk_resume(r);
	assert_false(risk_paused(r));
	assert_int_equal(risk_check(r, &f.in, &v), RISK_OK);
	risk_free(r);
}

static void test_kill_switch(void **state)
{
	(void)state;
	char dir[] = "/tmp/risk-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct risk_limits l = base_limits();
	snprintf(l.kill_file, sizeof(l.kill_file), "%s/KILL", dir);
	struct risk *r = risk_new(&l, NULL);
	struct fixture f;
	fixture_init(&f);
	struct risk_verdict v;
	assert_false(risk_kill_file_check(r));
	assert_false(risk_killed(r));
	assert_string_equal(risk_kill_reason(r), "");
	FILE *kf = fopen(l.kill_file, "w");
	assert_non_null(kf);
	fclose(kf);
	assert_true(risk_kill_file_check(r));
	assert_true(risk_killed(r));
	assert_non_null(strstr(risk_kill_reason(r), "kill file"));
	risk_kill(r, "second reason"); /* the first reason is kept */
	assert_non_null(strstr(risk_kill_reason(r), "kill file"));
	assert_int_equal(risk_check(r, &f.in, &v), RISK_KILLED);
	assert_non_null(strstr(v.text, "kill file"));
	/* Sticky: removing the file or resuming does not clear it. */
	unlink(l.kill_file);
	risk_resume(r);
	assert_int_equal(risk_check(r, &f.in, &v), RISK_KILLED);
	rmdir(dir);
	risk_free(r);

	r = risk_new(&l, NULL);
	risk_kill_signal(r);
	assert_string_equal(risk_kill_reason(r), "signal");
	risk_free(r);
}

static void test_bad_limits(void **state)
{
	(void)state;
	struct risk_limits l = base_limits();
	struct err_info info = {0};
	l.max_cycles_per_min = 0;
	assert_null(risk_new(&l, &info));
	assert_int_equal(info.code, ERR_INVALID);
	l = base_limits();
	l.max_notional = 0;
	assert_null(risk_new(&l, &info));
	risk_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_each_rule),
	    cmocka_unit_test(test_reason_names),
	    cmocka_unit_test(test_inventory_balance),
	    cmocka_unit_test(test_window_slides),
	    cmocka_unit_test(test_daily_loss_resets_at_utc_midnight),
	    cmocka_unit_test(test_breaker_and_resume),
	    cmocka_unit_test(test_kill_switch),
	    cmocka_unit_test(test_bad_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

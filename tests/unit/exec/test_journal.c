/* Crash safety: an order journaled and sent, then a crash before any report;
 * at restart the sequencer asks the venue and never sends it again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <unistd.h>

#include "exec_fixture.h"

struct jw {
	char dir[64];
	char path[128];
	struct arb_pair pairs[N_PAIRS];
	struct fx_books books;
	struct fx_venue fake;
	struct venue venue;
	struct risk *risk;
};

static void jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->dir, sizeof(w->dir), "/tmp/exec-journal-XXXXXX");
	assert_non_null(mkdtemp(w->dir));
	char db[96];
	snprintf(db, sizeof(db), "%s/arbitrade.duckdb", w->dir);
	assert_true(exec_journal_path(db, w->path, sizeof(w->path)) > 0);
	fx_pairs(w->pairs);
	w->venue = fx_venue_make(&w->fake);
	w->risk = fx_risk();
}

static void jw_free(struct jw *w)
{
	char tmp[160];
	unlink(w->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", w->path);
	unlink(tmp);
	rmdir(w->dir);
	risk_free(w->risk);
}

static struct exec *open_exec(struct jw *w, struct fx_sink *sink)
{
	struct exec_cfg c = fx_exec_cfg(w->pairs, &w->books);
	c.journal_path = w->path;
	struct exec_sink s = fx_sink_make(sink);
	struct err_info info = {0};
	struct exec *e = exec_new(&c, &w->venue, w->risk, &s, &info);
	assert_non_null(e);
	return e;
}

static size_t file_text(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static void append_line(const char *path, const char *line)
{
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs(line, f);
	fclose(f);
}

static void test_crash_then_reconcile_no_duplicate(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	struct fx_sink s1, s2;
	struct exec *e = open_exec(&w, &s1);
	assert_int_equal(exec_poll(e, T0, WALL), ERR_BADSTATE); /* not reconciled */
	assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
	w.fake.deliver = false; /* the crash comes before any report */
	struct arb_opp o = fx_opp(1000, 200000, 500000, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	assert_int_equal(exec_submit(e, &o), 0);
	assert_true(exec_poll(e, T0, WALL) > 0);
	assert_int_equal(w.fake.n_placed, 1);
	char clid[VENUE_ID_MAX];
	snprintf(clid, sizeof(clid), "%s", w.fake.placed[0].cl_ord_id);
	char text[1024];
	file_text(w.path, text, sizeof(text));
	/* The intent was on disk before place(): "I <id> <opp> <leg> <pair> ..." */
	char want[128];
	snprintf(want, sizeof(want), "I %s 1000 0 0 BTC/USD 0 0 200000 500000 1 8\n", clid);
	assert_string_equal(text, want);
	exec_free(e); /* crash: no report, no final state */

	/* Restart: the venue did fill it. */
	e = open_exec(&w, &s2);
	assert_int_equal(exec_poll(e, T0, WALL), ERR_BADSTATE);
	assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
	assert_int_equal(w.fake.queries, 1);
	assert_int_equal(w.fake.n_placed, 1); /* not sent again */
	assert_int_equal(s2.n_trades, 1);
	assert_string_equal(s2.trades[0].cl_ord_id, clid);
	assert_int_equal(s2.trades[0].status, VENUE_ST_FILLED);
	assert_int_equal(s2.trades[0].filled_qty, 200000);
	assert_int_equal(s2.trades[0].opp_id, 1000);
	int a = fx_audit_find(&s2, "reconcile", 0);
	assert_true(a >= 0);
	assert_non_null(strstr(s2.details[a], "\"status\":\"filled\""));
	/* Everything resolved: the journal is empty again (its data ends at the
	 * first NUL; the rest is preallocated zeros). */
	file_text(w.path, text, sizeof(text));
	assert_string_equal(text, "");
	/* The late report is a stray: nothing is sent because of it. */
	w.fake.deliver = true;
	assert_true(exec_poll(e, T0, WALL) >= 0);
	struct exec_stats st;
	exec_stats(e, &st);
	assert_int_equal(st.stray_reports, 1);
	assert_int_equal(st.reconciled, 1);
	assert_int_equal(w.fake.n_placed, 1);
	exec_free(e);

	/* A third start has nothing to ask. */
	struct fx_sink s3;
	e = open_exec(&w, &s3);
	assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
	assert_int_equal(w.fake.queries, 1);
	exec_free(e);
	jw_free(&w);
}

static void test_reconcile_cases(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	/* A: never reached the venue. B: finished (a D line). C: still open at
	 * the venue. Then a torn line from the crash. */
	append_line(w.path, "I arzz-00 77 0 0 BTC/USD 0 0 200000 500000 1 8\n");
	append_line(w.path, "I arzy-00 78 0 0 BTC/USD 0 0 200000 500000 1 8\n");
	append_line(w.path, "D arzy-00 filled\n");
	struct venue_order open_o = {.cl_ord_id = "arzx-10",
				     .symbol = "ETH/BTC",
				     .pair_id = 1,
				     .side = VENUE_BUY,
				     .price_scale = 5,
				     .qty_scale = 8,
				     .limit_price = 5000,
				     .qty = 100000};
	w.fake.script[0] = (struct fx_step){VENUE_ST_OPEN, 0, 1, 0, 0, NULL};
	w.fake.n_script = 1;
	assert_int_equal(w.venue.ops->place(w.venue.ctx, &open_o), 0);
	append_line(w.path, "I arzx-10 79 1 1 ETH/BTC 0 0 100000 5000 5 8\n");
	append_line(w.path, "I arzw-0");
	struct fx_sink s;
	struct exec *e = open_exec(&w, &s);
	assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
	assert_int_equal(w.fake.queries, 2); /* A and C; B was final */
	assert_int_equal(w.fake.cancels, 1); /* C */
	assert_int_equal(w.fake.n_placed, 1);
	assert_int_equal(s.n_trades, 2);
	assert_string_equal(s.trades[0].cl_ord_id, "arzz-00");
	assert_int_equal(s.trades[0].status, VENUE_ST_CANCELED);
	assert_non_null(strstr(s.trades[0].reason, "never resent"));
	assert_string_equal(s.trades[1].cl_ord_id, "arzx-10");
	assert_int_equal(s.trades[1].leg, 1);
	assert_non_null(strstr(s.trades[1].reason, "cancel requested"));
	exec_free(e);
	jw_free(&w);
}

static void test_unresolved_blocks_trading(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	append_line(w.path, "I arzz-00 77 0 0 BTC/USD 0 0 200000 500000 1 8\n");
	w.fake.query_err = ERR_NET;
	struct fx_sink s;
	struct exec *e = open_exec(&w, &s);
	struct err_info info = {0};
	assert_int_equal(exec_reconcile(e, WALL, &info), ERR_UNKNOWN);
	assert_non_null(strstr(info.msg, "could not be reconciled"));
	assert_int_equal(exec_poll(e, T0, WALL), ERR_BADSTATE);
	assert_int_equal(exec_start(e, NULL), ERR_BADSTATE);
	/* The intent is kept for the next try. */
	char text[256];
	file_text(w.path, text, sizeof(text));
	assert_non_null(strstr(text, "I arzz-00 77 0 0 BTC/USD"));
	w.fake.query_err = 0;
	assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
	assert_true(exec_poll(e, T0, WALL) >= 0);
	assert_int_equal(w.fake.n_placed, 0);
	exec_free(e);
	jw_free(&w);
}

static void test_nosync_still_journals(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	struct config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.arb.exec_mode, sizeof(cfg.arb.exec_mode), "inventory");
	snprintf(cfg.arb.unwind, sizeof(cfg.arb.unwind), "hold");
	snprintf(cfg.arb.journal_sync, sizeof(cfg.arb.journal_sync), "off");
	cfg.arb.slippage_bps = 3;
	struct exec_cfg c;
	exec_cfg_from_config(&cfg, &c);
	assert_true(c.inventory && c.unwind_hold && c.journal_sync == EXEC_JSYNC_OFF);
	assert_true(c.slippage_bps == 3);
	snprintf(cfg.arb.journal_sync, sizeof(cfg.arb.journal_sync), "before");
	exec_cfg_from_config(&cfg, &c);
	assert_int_equal(c.journal_sync, EXEC_JSYNC_BEFORE);
	snprintf(cfg.arb.journal_sync, sizeof(cfg.arb.journal_sync), "after");
	exec_cfg_from_config(&cfg, &c);
	assert_int_equal(c.journal_sync, EXEC_JSYNC_AFTER);

	/* Without the sync the intent is still written before place(). */
	struct exec_cfg ec = fx_exec_cfg(w.pairs, &w.books);
	ec.journal_path = w.path;
	ec.journal_sync = EXEC_JSYNC_OFF;
	struct fx_sink s;
	struct exec_sink sk = fx_sink_make(&s);
	struct exec *e = exec_new(&ec, &w.venue, w.risk, &sk, NULL);
	assert_non_null(e);
	assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
	w.fake.deliver = false;
	struct arb_opp o = fx_opp(2000, 200000, 500000, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	assert_int_equal(exec_submit(e, &o), 0);
	assert_true(exec_poll(e, T0, WALL) > 0);
	char text[1024];
	file_text(w.path, text, sizeof(text));
	assert_non_null(strstr(text, w.fake.placed[0].cl_ord_id));
	assert_true(text[0] == 'I');
	exec_free(e);
	jw_free(&w);
}

/* Every mode writes each intent before its place(); "after" and "before"
 * sync once per order (the first batch of a cycle, then each later leg),
 * "off" never. A cycle runs all three legs to completion either way. */
static void test_sync_modes(void **state)
{
	(void)state;
	const enum exec_journal_sync modes[] = {EXEC_JSYNC_AFTER, EXEC_JSYNC_BEFORE,
						EXEC_JSYNC_OFF};
	const uint64_t syncs[] = {3, 3, 0};
	for (size_t m = 0; m < 3; m++) {
		struct jw w;
		jw_init(&w);
		w.fake.journal = w.path;
		struct exec_cfg ec = fx_exec_cfg(w.pairs, &w.books);
		ec.journal_path = w.path;
		ec.journal_sync = modes[m];
		struct fx_sink s;
		struct exec_sink sk = fx_sink_make(&s);
		struct exec *e = exec_new(&ec, &w.venue, w.risk, &sk, NULL);
		assert_non_null(e);
		assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
		struct arb_opp o = fx_opp(4000 + m, 200000, 500000, 3980000, 5000, 251000);
		o.trigger_ns = o.detect_ns = T0;
		assert_int_equal(exec_submit(e, &o), 0);
		for (int k = 0; k < 20 && (k == 0 || !exec_idle(e)); k++)
			assert_true(exec_poll(e, T0 + (uint64_t)k * 1000, WALL) >= 0);
		assert_true(exec_idle(e));
		struct exec_stats st;
		exec_stats(e, &st);
		assert_int_equal(st.orders, 3);
		assert_int_equal(st.completed, 1);
		assert_int_equal(st.journal_syncs, syncs[m]);
		assert_int_equal(st.journal_errors, 0);
		assert_int_equal(w.fake.n_placed, 3);
		for (size_t k = 0; k < 3; k++)
			assert_true(w.fake.journaled[k]);
		/* The first order carries the detection time; later legs not. */
		assert_int_equal(w.fake.placed[0].origin_ns, T0);
		assert_int_equal(w.fake.placed[1].origin_ns, 0);
		/* The decision is recorded once the first order is out, and
		 * before the cycle's end. */
		size_t acc = SIZE_MAX, done = SIZE_MAX;
		for (size_t k = 0; k < s.n_audit; k++) {
			if (strcmp(s.actions[k], "cycle_accepted") == 0)
				acc = k;
			if (strcmp(s.actions[k], "cycle_done") == 0)
				done = k;
		}
		assert_true(acc < done && done != SIZE_MAX);
		exec_free(e);
		jw_free(&w);
	}
}

/* exec_warm sends, records and writes nothing: the venue sees no order,
 * the sink no record, the journal's text is the same, and a cycle after
 * it runs as usual. Before the reconcile and during a cycle it does
 * nothing at all. */
static void test_warm_is_silent(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	struct fx_sink s;
	struct exec *e = open_exec(&w, &s);
	exec_warm(e); /* not reconciled yet */
	assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
	char before[1024], after[1024];
	file_text(w.path, before, sizeof(before));
	size_t audits = s.n_audit, trades = s.n_trades;
	for (int i = 0; i < 100; i++)
		exec_warm(e);
	file_text(w.path, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(w.fake.n_placed, 0);
	assert_int_equal(s.n_audit, audits);
	assert_int_equal(s.n_trades, trades);
	struct exec_stats st;
	exec_stats(e, &st);
	assert_int_equal(st.orders + st.started + st.journal_errors, 0);

	struct arb_opp o = fx_opp(5000, 200000, 500000, 3980000, 5000, 251000);
	o.trigger_ns = o.detect_ns = T0;
	assert_int_equal(exec_submit(e, &o), 0);
	assert_true(exec_poll(e, T0, WALL) > 0);
	exec_warm(e); /* a cycle runs: nothing */
	for (int k = 1; k < 20 && !exec_idle(e); k++)
		assert_true(exec_poll(e, T0 + (uint64_t)k * 1000, WALL) >= 0);
	exec_stats(e, &st);
	assert_int_equal(st.orders, 3);
	assert_int_equal(st.completed, 1);
	assert_int_equal(w.fake.n_placed, 3);
	exec_free(e);
	jw_free(&w);
}

static void test_order_timeout(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	struct fx_sink s;
	struct exec *e = open_exec(&w, &s); /* default timeout: 10 s */
	assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
	w.fake.deliver = false; /* reports never come */
	struct arb_opp o = fx_opp(3000, 200000, 500000, 3980000, 5000, 251000);
	o.trigger_ns = T0;
	assert_int_equal(exec_submit(e, &o), 0);
	assert_true(exec_poll(e, T0, WALL) > 0);
	assert_true(exec_poll(e, T0 + 9999999999ull, WALL) >= 0);
	assert_int_equal(w.fake.queries, 0); /* not yet */
	/* 10 s later query() finds leg 0 filled: the cycle goes on. */
	assert_true(exec_poll(e, T0 + 10000000000ull, WALL) > 0);
	assert_int_equal(w.fake.queries, 1);
	assert_int_equal(w.fake.n_placed, 2);
	assert_int_equal(s.n_trades, 1);
	assert_int_equal(s.trades[0].status, VENUE_ST_FILLED);
	/* Leg 1 gets no answer at all, not even from query(). */
	w.fake.query_err = ERR_NET;
	assert_true(exec_poll(e, T0 + 20000000001ull, WALL) > 0);
	assert_true(exec_idle(e));
	assert_int_equal(w.fake.n_placed, 2); /* no leg 2, no unwind */
	assert_int_equal(w.fake.cancels, 1);
	assert_int_equal(s.n_trades, 2);
	assert_int_equal(s.trades[1].status, VENUE_ST_UNKNOWN);
	assert_non_null(strstr(s.trades[1].reason, "no final report after 10000 ms"));
	int a = fx_audit_find(&s, "alert", 0);
	assert_non_null(strstr(s.details[a], "order_unknown"));
	assert_true(fx_audit_find(&s, "alert", (size_t)a + 1) >= 0); /* the BTC held */
	struct exec_stats st;
	exec_stats(e, &st);
	assert_int_equal(st.order_timeouts, 2);
	assert_int_equal(st.orders_unknown, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(risk_failure_streak(w.risk), 1);
	/* Its intent is kept for the next start. */
	char text[1024];
	file_text(w.path, text, sizeof(text));
	assert_non_null(strstr(text, w.fake.placed[1].cl_ord_id));
	exec_free(e);

	struct fx_sink s2;
	w.fake.query_err = 0;
	e = open_exec(&w, &s2);
	assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
	assert_int_equal(s2.n_trades, 1);
	assert_string_equal(s2.trades[0].cl_ord_id, w.fake.placed[1].cl_ord_id);
	exec_free(e);
	jw_free(&w);
}

static void test_bad_journal_path(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	struct exec_cfg c = fx_exec_cfg(w.pairs, &w.books);
	c.journal_path = "/nonexistent-dir/x/journal";
	struct err_info info = {0};
	assert_null(exec_new(&c, &w.venue, w.risk, NULL, &info));
	assert_true(info.code < 0);
	assert_non_null(strstr(info.msg, "journal"));
	jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crash_then_reconcile_no_duplicate),
	    cmocka_unit_test(test_reconcile_cases),
	    cmocka_unit_test(test_unresolved_blocks_trading),
	    cmocka_unit_test(test_nosync_still_journals),
	    cmocka_unit_test(test_sync_modes),
	    cmocka_unit_test(test_warm_is_silent),
	    cmocka_unit_test(test_order_timeout),
	    cmocka_unit_test(test_bad_journal_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

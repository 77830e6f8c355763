/* Benchmark: an opportunity handed to the sequencer (exec_submit) to its
 * first order passing into the venue's place(), inside the process, with the
 * paper venue. Prints p50/p99 without the journal and with each
 * EXEC_JOURNAL_SYNC mode (after: the default; before: the sync on the path).
 * Checks only correctness (every cycle placed its first order and finished);
 * the numbers are for people. ARB_BENCH_ITERS sets the cycles per run
 * (default 500, so the suite stays fast); ARB_BENCH_JSON names a file to
 * write the numbers to (scripts/bench.sh, section exec_submit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <unistd.h>

#include "exec_fixture.h"

struct shim {
	struct venue inner;
	uint64_t placed_ns;
	unsigned places;
};

static int shim_place(void *ctx, const struct venue_order *o)
{
	struct shim *s = ctx;
	if (s->placed_ns == 0)
		s->placed_ns = clock_mono_ns();
	s->places++;
	return s->inner.ops->place(s->inner.ctx, o);
}
static int shim_cancel(void *ctx, const char *id)
{
	struct shim *s = ctx;
	return s->inner.ops->cancel(s->inner.ctx, id);
}
static int shim_cancel_all(void *ctx)
{
	struct shim *s = ctx;
	return s->inner.ops->cancel_all(s->inner.ctx);
}
static int shim_query(void *ctx, const char *id, struct venue_report *out)
{
	struct shim *s = ctx;
	return s->inner.ops->query(s->inner.ctx, id, out);
}
static int shim_balances(void *ctx, struct venue_balance *out, size_t cap, size_t *n)
{
	struct shim *s = ctx;
	return s->inner.ops->balances(s->inner.ctx, out, cap, n);
}
static int shim_poll(void *ctx, uint64_t now, venue_report_fn fn, void *arg)
{
	struct shim *s = ctx;
	return s->inner.ops->poll(s->inner.ctx, now, fn, arg);
}
static void shim_destroy(void *ctx)
{
	struct shim *s = ctx;
	s->inner.ops->destroy(s->inner.ctx);
}
static const struct venue_ops shim_ops = {.name = "shim",
					  .place = shim_place,
					  .cancel = shim_cancel,
					  .cancel_all = shim_cancel_all,
					  .query = shim_query,
					  .balances = shim_balances,
					  .poll = shim_poll,
					  .destroy = shim_destroy};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct result {
	double p50_us, p99_us;
};

static void run(const char *label, const char *journal, enum exec_journal_sync sync, unsigned iters,
		struct result *res)
{
	struct arb_pair pairs[N_PAIRS];
	struct fx_books books;
	memset(&books, 0, sizeof(books));
	fx_pairs(pairs);
	fx_ask(&books, P_BTCUSD, 500000, 100000000);
	fx_bid(&books, P_BTCUSD, 499900, 100000000);
	fx_ask(&books, P_ETHBTC, 5000, 10000000000ll);
	fx_bid(&books, P_ETHUSD, 251000, 10000000000ll);
	struct paper_cfg pc = {.pairs = pairs,
			       .n_pairs = N_PAIRS,
			       .default_fee_bps = 26,
			       .balances = "USD=100000000",
			       .levels = fx_levels,
			       .levels_ctx = &books};
	struct shim sh;
	memset(&sh, 0, sizeof(sh));
	assert_int_equal(paper_venue_new(&pc, &sh.inner, NULL), 0);
	struct venue v = {&shim_ops, &sh};
	struct risk *risk = fx_risk();
	struct exec_cfg c = fx_exec_cfg(pairs, &books);
	c.journal_path = journal;
	c.journal_sync = sync;
	c.max_book_age_ms = 600000;
	struct fx_sink sink;
	struct exec_sink s = fx_sink_make(&sink);
	s.on_trade = NULL; /* the sink's fixed arrays would fill up */
	s.on_audit = NULL;
	struct exec *e = exec_new(&c, &v, risk, &s, NULL);
	assert_non_null(e);
	assert_int_equal(exec_reconcile(e, WALL, NULL), 0);
	uint64_t *lat = calloc(iters, sizeof(*lat));
	assert_non_null(lat);
	struct arb_opp o = fx_opp(1, 200000, 500000, 3980000, 5000, 251000);
	for (unsigned i = 0; i < iters; i++) {
		o.id = 1000000 + i;
		sh.placed_ns = 0;
		uint64_t t0 = clock_mono_ns();
		o.trigger_ns = o.detect_ns = t0;
		assert_int_equal(exec_submit(e, &o), 0);
		assert_true(exec_poll(e, t0, WALL) > 0);
		assert_true(sh.placed_ns >= t0);
		lat[i] = sh.placed_ns - t0;
		for (int k = 0; k < 20 && !exec_idle(e); k++)
			assert_true(exec_poll(e, clock_mono_ns(), WALL) >= 0);
		assert_true(exec_idle(e));
	}
	struct exec_stats st;
	exec_stats(e, &st);
	assert_int_equal(st.started, iters);
	assert_int_equal(st.orders, 3ull * iters);
	qsort(lat, iters, sizeof(*lat), cmp_u64);
	printf("bench exec %-12s submit->place n=%u p50=%.2f us p99=%.2f us max=%.2f us\n", label,
	       iters, (double)lat[iters / 2] / 1e3, (double)lat[(size_t)(iters * 0.99)] / 1e3,
	       (double)lat[iters - 1] / 1e3);
	res->p50_us = (double)lat[iters / 2] / 1e3;
	res->p99_us = (double)lat[(size_t)(iters * 0.99)] / 1e3;
	free(lat);
	exec_free(e);
	v.ops->destroy(v.ctx);
	risk_free(risk);
}

static void test_bench(void **state)
{
	(void)state;
	const char *env = getenv("ARB_BENCH_ITERS");
	unsigned iters = env ? (unsigned)strtoul(env, NULL, 10) : 500;
	if (iters < 10)
		iters = 10;
	struct result nj, a, b, off;
	run("no-journal", NULL, EXEC_JSYNC_AFTER, iters, &nj);
	char dir[] = "/tmp/exec-bench-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[96];
	snprintf(path, sizeof(path), "%s/bench.journal", dir);
	run("sync-after", path, EXEC_JSYNC_AFTER, iters, &a);
	run("sync-before", path, EXEC_JSYNC_BEFORE, iters, &b);
	run("sync-off", path, EXEC_JSYNC_OFF, iters, &off);
	unlink(path);
	rmdir(dir);
	const char *json = getenv("ARB_BENCH_JSON");
	if (json && *json) {
		FILE *f = fopen(json, "w");
		assert_non_null(f);
		fprintf(f,
			"{\"iterations\":%u,\"no_journal_p50_us\":%.3f,\"no_journal_p99_us\":%.3f,"
			"\"sync_after_p50_us\":%.3f,\"sync_after_p99_us\":%.3f,"
			"\"sync_before_p50_us\":%.3f,\"sync_before_p99_us\":%.3f,"
			"\"sync_off_p50_us\":%.3f,\"sync_off_p99_us\":%.3f}\n",
			iters, nj.p50_us, nj.p99_us, a.p50_us, a.p99_us, b.p50_us, b.p99_us,
			off.p50_us, off.p99_us);
		fclose(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_bench)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

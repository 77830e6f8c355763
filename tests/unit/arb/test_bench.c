/* The detector's benchmark on the Kraken-sized universe
 * (tests/data/universe/kraken_like.tsv, from gen_universe.py): depth-10
 * books around each pair's fair mid, then a stream of book updates, each
 * followed by arb_on_book on the updated pair, timed with clock_mono_ns into a
 * core/hist histogram (the book update itself is not timed). Four mixes:
 * "realistic" (70% of updates change one level's quantity, 15% move one side's
 * prices, 15% both), "top-moves" (every update moves both sides: the worst case
 * for the screen), each with pairs drawn uniformly or half of the time from
 * the 60 busiest ("-hot"). One price move in 500 dislocates its pair by
 * 0.5-2% for the next five updates, after which the pair returns to its fair
 * mid, so the walk and emission paths run too.
 *
 * As a test it checks correctness only: the universe loads, cycles exist for
 * every home asset, the updates apply, opportunities are emitted and the
 * update loop performs zero heap calls (where alloc_count can tell). The
 * latencies are printed, never asserted (benchmarks measure, tests check).
 *
 * ARB_BENCH_UPDATES (default 200000) sets the number of updates per traffic
 * mix; ARB_BENCH_HOMES (default USD,EUR,USDT,BTC) the home assets;
 * ARB_BENCH_JSON a file to write the numbers to, as one JSON object
 * (scripts/bench.sh, section detector). */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arb/arb.h"
#include "arb_test.h"
#include "core/alloc_count.h"
#include "core/clock.h"
#include "core/fixed.h"
#include "core/hist.h"

#define DEPTH 10

struct side {
	struct book_level lv[DEPTH];
};

struct bench {
	uint32_t n;
	struct arb_pair pairs[ARB_MAX_PAIRS];
	int64_t mid[ARB_MAX_PAIRS];
	struct side bids[ARB_MAX_PAIRS], asks[ARB_MAX_PAIRS];
	struct book *books[ARB_MAX_PAIRS];
	uint32_t online[ARB_MAX_PAIRS];
	uint32_t n_online;
	uint64_t opps;
	struct hist h;
	FILE *json; /* ARB_BENCH_JSON: the numbers as one JSON object */
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double unif(double lo, double hi)
{
	return lo + (hi - lo) * (double)(rnd() >> 11) / 9007199254740992.0;
}

static int field_dec(const char *s, size_t len, int scale, int64_t *out)
{
	return fx_parse(s, len, scale, out);
}

/* One TSV row into p and *mid. Returns 0 or an error naming the column. */
static int parse_row(char *line, struct arb_pair *p, int64_t *mid)
{
	char *col[12];
	int n = 0;
	for (char *s = line; n < 12;) {
		col[n++] = s;
		char *t = strchr(s, '\t');
		if (!t)
			break;
		*t = '\0';
		s = t + 1;
	}
	if (n != 12)
		return ERR_PARSE;
	col[11][strcspn(col[11], "\r\n")] = '\0';
	memset(p, 0, sizeof *p);
	snprintf(p->symbol, sizeof p->symbol, "%s", col[0]);
	snprintf(p->base, sizeof p->base, "%s", col[1]);
	snprintf(p->quote, sizeof p->quote, "%s", col[2]);
	p->tradable = strcmp(col[3], "online") == 0;
	int64_t v[3];
	for (int i = 0; i < 3; i++)
		if (field_dec(col[4 + i], strlen(col[4 + i]), 0, &v[i]))
			return ERR_PARSE;
	p->price_scale = (int)v[0];
	p->qty_scale = (int)v[1];
	p->cost_scale = (int)v[2];
	p->taker_fee_bps = ARB_FEE_DEFAULT;
	if (field_dec(col[7], strlen(col[7]), p->price_scale, &p->price_increment) ||
	    field_dec(col[8], strlen(col[8]), p->qty_scale, &p->qty_increment) ||
	    field_dec(col[9], strlen(col[9]), p->qty_scale, &p->qty_min) ||
	    field_dec(col[10], strlen(col[10]), p->cost_scale, &p->cost_min) ||
	    field_dec(col[11], strlen(col[11]), p->price_scale, mid))
		return ERR_PARSE;
	return 0;
}

static void load(struct bench *b)
{
	char path[512], line[512];
	snprintf(path, sizeof path, "%s/universe/kraken_like.tsv", TEST_DATA_DIR);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		assert_true(b->n < ARB_MAX_PAIRS);
		if (parse_row(line, &b->pairs[b->n], &b->mid[b->n]))
			fail_msg("bad row %u of %s", (unsigned)b->n + 1, path);
		b->n++;
	}
	fclose(f);
}

/* Qty worth about usd_lo..usd_hi of the quote at mid, at the pair's scales. */
static int64_t level_qty(const struct arb_pair *p, int64_t mid)
{
	double price = fx_to_double(mid, p->price_scale);
	double quote_units = exp(unif(log(20), log(20000)));
	double base = quote_units / price * (double)fx_pow10(p->qty_scale);
	int64_t q = (int64_t)base;
	return q < p->qty_min + 1 ? p->qty_min + 1 : q;
}

/* Depth-10 ladders around mid: half-spread 1-10 bps, steps 1-5 bps. */
static void make_ladders(struct bench *b, uint32_t i, int64_t mid)
{
	const struct arb_pair *p = &b->pairs[i];
	double m = (double)mid;
	int64_t bid = (int64_t)(m * (1 - unif(1, 10) / 1e4));
	int64_t ask = (int64_t)ceil(m * (1 + unif(1, 10) / 1e4));
	if (bid < 1)
		bid = 1;
	if (ask <= bid)
		ask = bid + 1;
	for (int k = 0; k < DEPTH; k++) {
		b->bids[i].lv[k] = (struct book_level){bid, level_qty(p, mid)};
		b->asks[i].lv[k] = (struct book_level){ask, level_qty(p, mid)};
		int64_t step = (int64_t)(m * unif(1, 5) / 1e4);
		step = step < 1 ? 1 : step;
		bid = bid - step < 1 ? 1 : bid - step;
		ask += step;
	}
}

static void apply(struct bench *b, uint32_t i, uint64_t t)
{
	struct book *bk = b->books[i];
	size_t nb = 0;
	for (; nb < DEPTH && b->bids[i].lv[nb].price > 0 &&
	       (nb == 0 || b->bids[i].lv[nb].price < b->bids[i].lv[nb - 1].price);
	     nb++)
		;
	book_begin(bk, true);
	for (size_t k = 0; k < nb; k++)
		book_set_bid(bk, b->bids[i].lv[k].price, b->bids[i].lv[k].qty);
	for (size_t k = 0; k < DEPTH; k++)
		book_set_ask(bk, b->asks[i].lv[k].price, b->asks[i].lv[k].qty);
	uint32_t crc = book_checksum_levels(b->asks[i].lv, DEPTH, b->bids[i].lv, nb);
	assert_int_equal(book_end(bk, crc, t), 0);
}

static void on_opp(void *ctx, const struct arb_opp *o)
{
	struct bench *b = ctx;
	(void)o;
	b->opps++;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, c = *(const uint32_t *)y;
	return a < c ? -1 : a > c;
}

/* A traffic mix. Pairs are chosen uniformly among the online ones, or (hot)
 * half of the time among the 60 busiest, the majors listed first in the
 * universe. With depth_share > 0, that share of the updates changes one
 * level's quantity and leaves the best prices where they were, as most of
 * Kraken's book updates do; of the others, which move prices, half move one
 * side only. With depth_share 0 every update moves both sides. */
struct mix {
	const char *name;
	bool hot;
	double depth_share;
};

static void run(struct bench *b, struct arb *a, unsigned n_updates, const struct mix *m)
{
	bool hot = m->hot;
	const char *name = m->name;
	hist_init(&b->h);
	uint64_t opps0 = b->opps, walked0;
	struct arb_stats st;
	arb_stats(a, &st);
	walked0 = st.cycles_walked;
	bool count = alloc_count_supported();
	uint64_t allocs0 = 0;
	if (count) {
		alloc_count_enable(true);
		allocs0 = alloc_count();
	}
	uint32_t dislocated = UINT32_MAX;
	unsigned restore_in = 0;
	for (unsigned u = 0; u < n_updates; u++) {
		uint32_t i =
		    hot && (rnd() & 1) ? b->online[rnd() % 60] : b->online[rnd() % b->n_online];
		bool restoring = false;
		if (dislocated != UINT32_MAX && --restore_in == 0) {
			i = dislocated; /* the market closes the gap */
			dislocated = UINT32_MAX;
			restoring = true;
		}
		int64_t mid = b->mid[i];
		if (!restoring && i != dislocated && unif(0, 1) < m->depth_share) {
			struct side *sd = rnd() & 1 ? &b->bids[i] : &b->asks[i];
			sd->lv[rnd() % DEPTH].qty = level_qty(&b->pairs[i], mid);
		} else if (dislocated == UINT32_MAX && i != b->online[0] && rnd() % 500 == 0) {
			/* A dislocation: this pair jumps 0.5-2% for the next 5 updates. */
			mid =
			    (int64_t)((double)mid * (1 + (rnd() & 1 ? 1 : -1) * unif(0.005, 0.02)));
			make_ladders(b, i, mid);
			dislocated = i;
			restore_in = 5;
		} else {
			mid = (int64_t)((double)mid * (1 + unif(-3, 3) / 1e4));
			struct side keep_bids = b->bids[i], keep_asks = b->asks[i];
			make_ladders(b, i, mid);
			/* Half of the price moves are one-sided: a new best bid or
			 * ask, the other side as it was (unless that would cross). */
			if (m->depth_share >= 0 && !restoring && i != dislocated && (rnd() & 1)) {
				if (rnd() & 1) {
					if (keep_asks.lv[0].price > b->bids[i].lv[0].price)
						b->asks[i] = keep_asks;
				} else if (b->asks[i].lv[0].price > keep_bids.lv[0].price) {
					b->bids[i] = keep_bids;
				}
			}
		}
		uint64_t t = clock_mono_ns();
		apply(b, i, t);
		uint64_t t0 = clock_mono_ns();
		arb_on_book(a, i, t);
		uint64_t t1 = clock_mono_ns();
		hist_record(&b->h, t1 - t0);
	}
	uint64_t allocs = count ? alloc_count() - allocs0 : 0;
	if (count)
		alloc_count_enable(false);
	arb_stats(a, &st);
	printf("bench %-14s updates=%u p50=%" PRIu64 "ns p90=%" PRIu64 "ns p99=%" PRIu64
	       "ns p99.9=%" PRIu64 "ns max=%" PRIu64 "ns mean=%.0fns walked=%" PRIu64
	       " opps=%" PRIu64 " heap_calls=%s%" PRIu64 "\n",
	       name, n_updates, hist_quantile(&b->h, 0.5), hist_quantile(&b->h, 0.9),
	       hist_quantile(&b->h, 0.99), hist_quantile(&b->h, 0.999), hist_max(&b->h),
	       hist_mean(&b->h), st.cycles_walked - walked0, b->opps - opps0,
	       count ? "" : "not measured/", allocs);
	assert_int_equal(allocs, 0);
	if (b->json) {
		char key[40];
		size_t k = 0;
		for (const char *c = name; *c && k + 1 < sizeof key; c++)
			key[k++] = *c == '-' ? '_' : *c;
		key[k] = '\0';
		fprintf(b->json,
			",\"%s_p50_ns\":%" PRIu64 ",\"%s_p99_ns\":%" PRIu64
			",\"%s_p999_ns\":%" PRIu64 ",\"%s_heap_calls\":%s",
			key, hist_quantile(&b->h, 0.5), key, hist_quantile(&b->h, 0.99), key,
			hist_quantile(&b->h, 0.999), key, count ? (allocs ? "1" : "0") : "null");
	}
}

static void test_bench(void **state)
{
	(void)state;
	static struct bench b;
	struct err_info info;
	const char *homes = getenv("ARB_BENCH_HOMES");
	const char *nu = getenv("ARB_BENCH_UPDATES");
	/* Fewer under the sanitizers (no allocation counting there either). */
	unsigned n_updates =
	    nu ? (unsigned)strtoul(nu, NULL, 10) : (alloc_count_supported() ? 200000 : 50000);
	struct arb_cfg cfg = tp_cfg(homes ? homes : "USD,EUR,USDT,BTC", 26, 5, 1000);
	cfg.max_book_age_ms = 600000;

	load(&b);
	assert_true(b.n > 1000);
	struct arb *a = arb_new(&cfg, NULL, 1, &info);
	assert_non_null(a);
	uint64_t t0 = clock_mono_ns();
	if (arb_set_universe(a, b.pairs, b.n, 0, &info))
		fail_msg("%s", info.msg);
	uint64_t t1 = clock_mono_ns();
	const char *hl[ARB_MAX_HOMES];
	unsigned nh = arb_homes(a, hl);
	printf("universe: %u pairs, %u cycles, built in %.1f ms\n", (unsigned)b.n,
	       (unsigned)arb_cycle_count(a), (double)(t1 - t0) / 1e6);
	for (unsigned h = 0; h < nh; h++) {
		printf("  home %-5s 3-leg %7u  4-leg %7u\n", hl[h],
		       (unsigned)arb_cycle_count_by(a, hl[h], 3),
		       (unsigned)arb_cycle_count_by(a, hl[h], 4));
		assert_true(arb_cycle_count_by(a, hl[h], 3) > 0);
	}
	static uint32_t through[ARB_MAX_PAIRS];
	uint32_t nt = 0;
	uint64_t t = clock_mono_ns();
	for (uint32_t i = 0; i < b.n; i++) {
		b.books[i] = book_new(b.pairs[i].symbol, b.pairs[i].price_scale,
				      b.pairs[i].qty_scale, DEPTH, &info);
		assert_non_null(b.books[i]);
		make_ladders(&b, i, b.mid[i]);
		apply(&b, i, t);
		assert_int_equal(arb_bind_book(a, i, b.books[i]), 0);
		if (b.pairs[i].tradable) {
			const uint32_t *ids;
			b.online[b.n_online++] = i;
			through[nt++] = arb_cycles_through(a, i, &ids);
		}
	}
	qsort(through, nt, sizeof *through, cmp_u32);
	const char *jp = getenv("ARB_BENCH_JSON");
	if (jp) {
		b.json = fopen(jp, "w");
		assert_non_null(b.json);
		fprintf(b.json,
			"{\"pairs\":%u,\"cycles\":%u,\"cycles_3leg\":%u,\"cycles_4leg\":%u,"
			"\"cycles_per_pair_median\":%u,\"cycles_per_pair_max\":%u,\"updates\":%u",
			(unsigned)b.n, (unsigned)arb_cycle_count(a),
			(unsigned)arb_cycle_count_by(a, NULL, 3),
			(unsigned)arb_cycle_count_by(a, NULL, 4), (unsigned)through[nt / 2],
			(unsigned)through[nt - 1], n_updates);
	}
	printf("cycles through a pair: median %u, p90 %u, p99 %u, max %u\n",
	       (unsigned)through[nt / 2], (unsigned)through[nt * 9 / 10],
	       (unsigned)through[nt * 99 / 100], (unsigned)through[nt - 1]);
	arb_set_callback(a, on_opp, &b);
	for (uint32_t i = 0; i < b.n; i++) /* warm-up: every pair once */
		arb_on_book(a, i, t);
	static const struct mix mixes[] = {
	    {"realistic", false, 0.7},
	    {"realistic-hot", true, 0.7},
	    {"top-moves", false, -1},
	    {"top-moves-hot", true, -1},
	};
	for (size_t k = 0; k < sizeof mixes / sizeof mixes[0]; k++)
		run(&b, a, n_updates, &mixes[k]);
	if (b.json) {
		fprintf(b.json, "}\n");
		fclose(b.json);
		b.json = NULL;
	}
	assert_true(b.opps > 0);
	arb_free(a);
	for (uint32_t i = 0; i < b.n; i++)
		book_free(b.books[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bench),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

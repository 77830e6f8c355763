/* execution_spike (profile.h): spikes of SPIKE valid opportunities on
 * USD>BTC>ETH>USD detected at the same instant. Each goes through
 * risk_check_admit (stage risk); those admitted go to the sequencer one
 * after the other, as the execution thread takes them: exec_submit, then
 * exec_poll until the paper venue's place() is entered (submit_place) and
 * until every leg filled and the cycle is recorded (cycle). In sequential
 * mode the sequencer runs one cycle at a time (a real spike's later
 * opportunities are dropped "busy"), so this times each cycle as if it
 * arrived when the previous one finished. The paper venue fills against
 * three fixed depth-10 books (struct book, valid checksums), with latency 0,
 * so no clock wait is timed. */
#include "bench/profile.h"

#include <stdlib.h>
#include <string.h>

#include "arb/arb.h"
#include "book/book.h"
#include "core/alloc_count.h"
#include "core/clock.h"
#include "exec/exec.h"
#include "exec/paper.h"
#include "risk/risk.h"

#define SPIKE  16u
#define NPAIRS 3u
#define WALL   INT64_C(1767225600000000000) /* 2026-01-01: a fixed day for the loss limit */

enum { P_BTCUSD, P_ETHBTC, P_ETHUSD };

struct spike {
	struct book *books[NPAIRS];
	struct venue inner; /* the paper venue */
	uint64_t placed_ns; /* first place() of the current cycle */
	uint64_t places;
};

static void pairs_init(struct arb_pair p[NPAIRS])
{
	memset(p, 0, sizeof(struct arb_pair) * NPAIRS);
	p[0] = (struct arb_pair){.symbol = "BTC/USD",
				 .base = "BTC",
				 .quote = "USD",
				 .price_scale = 1,
				 .qty_scale = 8,
				 .cost_scale = 2,
				 .price_increment = 1,
				 .qty_increment = 1,
				 .qty_min = 10000,
				 .cost_min = 50,
				 .taker_fee_bps = 26,
				 .tradable = true};
	p[1] = (struct arb_pair){.symbol = "ETH/BTC",
				 .base = "ETH",
				 .quote = "BTC",
				 .price_scale = 5,
				 .qty_scale = 8,
				 .cost_scale = 8,
				 .price_increment = 1,
				 .qty_increment = 1,
				 .qty_min = 100000,
				 .cost_min = 2000,
				 .taker_fee_bps = 26,
				 .tradable = true};
	p[2] = (struct arb_pair){.symbol = "ETH/USD",
				 .base = "ETH",
				 .quote = "USD",
				 .price_scale = 2,
				 .qty_scale = 8,
				 .cost_scale = 2,
				 .price_increment = 1,
				 .qty_increment = 1,
				 .qty_min = 100000,
				 .cost_min = 50,
				 .taker_fee_bps = 26,
				 .tradable = true};
}

/* Ten levels a side around bid / ask, one price unit apart, each of qty. */
static int fill_book(struct book *b, int64_t bid, int64_t ask, int64_t qty)
{
	struct book_level bids[10], asks[10];

	book_begin(b, true);
	for (int i = 0; i < 10; i++) {
		bids[i] = (struct book_level){bid - i, qty};
		asks[i] = (struct book_level){ask + i, qty};
		book_set_bid(b, bids[i].price, bids[i].qty);
		book_set_ask(b, asks[i].price, asks[i].qty);
	}
	return book_end(b, book_checksum_levels(asks, 10, bids, 10), clock_mono_ns());
}

static int levels(void *ctx, uint32_t pair, enum venue_side side, struct book_level *out,
		  size_t cap, size_t *n)
{
	struct spike *s = ctx;

	if (pair >= NPAIRS)
		return ERR_NOTFOUND;
	return exec_levels_from_book(s->books[pair], side, out, cap, n);
}

/* The venue the sequencer sees: the paper venue, with place() stamped. */
static int sh_place(void *ctx, const struct venue_order *o)
{
	struct spike *s = ctx;

	if (s->placed_ns == 0)
		s->placed_ns = clock_mono_ns();
	s->places++;
	return s->inner.ops->place(s->inner.ctx, o);
}
static int sh_cancel(void *ctx, const char *id)
{
	struct spike *s = ctx;
	return s->inner.ops->cancel(s->inner.ctx, id);
}
static int sh_cancel_all(void *ctx)
{
	struct spike *s = ctx;
	return s->inner.ops->cancel_all(s->inner.ctx);
}
static int sh_query(void *ctx, const char *id, struct venue_report *out)
{
	struct spike *s = ctx;
	return s->inner.ops->query(s->inner.ctx, id, out);
}
static int sh_balances(void *ctx, struct venue_balance *out, size_t cap, size_t *n)
{
	struct spike *s = ctx;
	return s->inner.ops->balances(s->inner.ctx, out, cap, n);
}
static int sh_poll(void *ctx, uint64_t now, venue_report_fn fn, void *arg)
{
	struct spike *s = ctx;
	return s->inner.ops->poll(s->inner.ctx, now, fn, arg);
}
static void sh_destroy(void *ctx)
{
	(void)ctx; /* the scenario destroys the paper venue itself */
}
static const struct venue_ops shim_ops = {.name = "profile-paper",
					  .place = sh_place,
					  .cancel = sh_cancel,
					  .cancel_all = sh_cancel_all,
					  .query = sh_query,
					  .balances = sh_balances,
					  .poll = sh_poll,
					  .destroy = sh_destroy};

/* USD>BTC>ETH>USD at the books' best prices: buy 0.002 BTC, buy the ETH it
 * pays for, sell that ETH; the sizes vary a little per opportunity. */
static void make_opp(struct arb_opp *o, uint64_t id, unsigned k, uint64_t now)
{
	static const struct {
		uint32_t pair;
		const char *sym, *in, *out;
		enum arb_side side;
		int ps;
		int64_t px;
	} legs[3] = {{P_BTCUSD, "BTC/USD", "USD", "BTC", ARB_BUY, 1, 500000},
		     {P_ETHBTC, "ETH/BTC", "BTC", "ETH", ARB_BUY, 5, 5000},
		     {P_ETHUSD, "ETH/USD", "ETH", "USD", ARB_SELL, 2, 251000}};
	int64_t btc = 200000 + 1000 * (int64_t)(k % 8);
	int64_t eth = (btc * 100000 / 5000) * 9950 / 10000;

	memset(o, 0, sizeof(*o));
	o->id = id;
	o->n_legs = 3;
	snprintf(o->home, sizeof(o->home), "USD");
	snprintf(o->path, sizeof(o->path), "USD>BTC>ETH>USD");
	for (int i = 0; i < 3; i++) {
		struct arb_leg *l = &o->legs[i];

		l->pair = legs[i].pair;
		snprintf(l->symbol, sizeof(l->symbol), "%s", legs[i].sym);
		snprintf(l->asset_in, sizeof(l->asset_in), "%s", legs[i].in);
		snprintf(l->asset_out, sizeof(l->asset_out), "%s", legs[i].out);
		l->side = legs[i].side;
		l->price_scale = legs[i].ps;
		l->qty_scale = 8;
		l->limit_price = legs[i].px;
		l->qty = i == 0 ? btc : eth;
		l->fee_bps = 26;
		l->rate = 1.0;
	}
	o->size_home = (double)btc / 1e8 * 50000.0;
	o->out_home = o->size_home * 1.002;
	o->profit_home = o->out_home - o->size_home;
	o->profit_bps = 20;
	o->net_rate = 1.002;
	o->trigger_ns = o->detect_ns = now;
}

static void risk_legs(const struct arb_pair *p, struct risk_leg_state ls[3])
{
	static const uint32_t pair_of[3] = {P_BTCUSD, P_ETHBTC, P_ETHUSD};

	for (int i = 0; i < 3; i++) {
		ls[i] = (struct risk_leg_state){.book_valid = true,
						.pair_online = true,
						.book_age_ms = 0,
						.qty_min = p[pair_of[i]].qty_min,
						.cost_min = p[pair_of[i]].cost_min,
						.cost_scale = p[pair_of[i]].cost_scale,
						.balance_in = 1e9};
	}
}

int prof_exec_spike(const struct prof_opts *o, struct prof_scenario *sc, struct err_info *info)
{
	struct arb_pair pairs[NPAIRS];
	struct spike s;
	struct venue v = {&shim_ops, &s};
	struct risk_limits lim;
	struct risk *risk = NULL;
	struct exec *e = NULL;
	struct exec_cfg c;
	struct exec_sink sink = {0};
	struct risk_leg_state ls[3];
	struct paper_cfg pc;
	bool have_venue = false;
	uint64_t done = 0, total = o->iterations + PROF_WARMUP, id = 1000000, w0, c0, rejected = 0;
	int rc = 0;

	memset(sc, 0, sizeof(*sc));
	memset(&s, 0, sizeof(s));
	snprintf(sc->name, sizeof(sc->name), "execution_spike");
	pairs_init(pairs);
	for (unsigned i = 0; i < NPAIRS; i++) {
		s.books[i] =
		    book_new(pairs[i].symbol, pairs[i].price_scale, pairs[i].qty_scale, 10, info);
		if (!s.books[i]) {
			rc = info->code ? info->code : ERR_NOMEM;
			goto cleanup;
		}
	}
	if (fill_book(s.books[P_BTCUSD], 499900, 500000, 100000000) != 0 ||
	    fill_book(s.books[P_ETHBTC], 4990, 5000, 10000000000ll) != 0 ||
	    fill_book(s.books[P_ETHUSD], 251000, 251100, 10000000000ll) != 0) {
		rc = err_set(info, ERR_CHECKSUM, "execution_spike: fixed books do not verify");
		goto cleanup;
	}
	pc = (struct paper_cfg){.pairs = pairs,
				.n_pairs = NPAIRS,
				.default_fee_bps = 26,
				.balances = "USD=100000000",
				.levels = levels,
				.levels_ctx = &s};
	if ((rc = paper_venue_new(&pc, &s.inner, info)) != 0)
		goto cleanup;
	have_venue = true;
	memset(&lim, 0, sizeof(lim));
	lim.min_profit_bps = 1;
	lim.max_notional = 1e9;
	lim.max_book_age_ms = 60000;
	lim.max_exposure = 1e12;
	lim.max_cycles_per_min = 10000;
	lim.daily_loss_limit = 1e12;
	lim.max_consecutive_failures = 1000000;
	if (!(risk = risk_new(&lim, info))) {
		rc = info->code ? info->code : ERR_NOMEM;
		goto cleanup;
	}
	memset(&c, 0, sizeof(c));
	c.pairs = pairs;
	c.n_pairs = NPAIRS;
	c.default_fee_bps = 26;
	c.slippage_bps = 10;
	c.max_book_age_ms = 600000;
	c.ring_capacity = 64;
	c.levels = levels;
	c.levels_ctx = &s;
	if (!(e = exec_new(&c, &v, risk, &sink, info))) {
		rc = info->code ? info->code : ERR_NOMEM;
		goto cleanup;
	}
	if ((rc = exec_reconcile(e, WALL, info)) != 0)
		goto cleanup;
	risk_legs(pairs, ls);
	prof__stage(sc, "risk", true);
	prof__stage(sc, "submit_place", true);
	prof__stage(sc, "cycle", true);
	sc->cpu_scaled = true;
	sc->allocs_measured = alloc_count_supported();
	alloc_count_enable(true);
	w0 = clock_mono_ns();
	c0 = prof__cpu_ns();
	for (uint64_t spike = 0; done < total; spike++) {
		struct arb_opp opp[SPIKE];
		bool ok[SPIKE];
		uint64_t now = clock_mono_ns();
		/* The risk window runs on the event stamps: 10 ms apart keeps a
		 * spike far below RISK_MAX_CYCLES_PER_MIN. */
		uint64_t ev_ns = spike * SPIKE * 10000000ull;
		unsigned n = (unsigned)(total - done < SPIKE ? total - done : SPIKE);

		for (unsigned k = 0; k < n; k++)
			make_opp(&opp[k], id++, k, now);
		for (unsigned k = 0; k < n; k++) {
			struct risk_input in = {.opp = &opp[k],
						.legs = ls,
						.exchange_online = true,
						.now_ns = ev_ns + k * 10000000ull,
						.wall_ns = WALL};
			struct risk_verdict vd;
			uint64_t a0 = alloc_count(), t0 = clock_mono_ns(), t1;

			ok[k] = risk_check_admit(risk, &in, &vd) == RISK_OK;
			t1 = clock_mono_ns();
			if (done + k >= PROF_WARMUP)
				prof__record(&sc->st[0], t1 - t0, alloc_count() - a0, true);
			if (!ok[k] && ++rejected == 1)
				rc = err_set(info, ERR_INVALID,
					     "execution_spike: risk rejected: %s", vd.text);
		}
		if (rejected)
			goto cleanup;
		for (unsigned k = 0; k < n; k++, done++) {
			bool timed = done >= PROF_WARMUP;
			uint64_t a0, a1, t0, t1;
			int polls = 0;

			s.placed_ns = 0;
			a0 = alloc_count();
			t0 = clock_mono_ns();
			opp[k].trigger_ns = opp[k].detect_ns = t0;
			if ((rc = exec_submit(e, &opp[k])) != 0) {
				err_set(info, rc, "exec_submit: %s", err_str(rc));
				goto cleanup;
			}
			while (!exec_idle(e) && polls++ < 64)
				if ((rc = exec_poll(e, clock_mono_ns(), WALL)) < 0) {
					err_set(info, rc, "exec_poll: %s", err_str(rc));
					goto cleanup;
				}
			t1 = clock_mono_ns();
			a1 = alloc_count();
			rc = 0;
			if (!exec_idle(e) || s.placed_ns < t0) {
				rc = err_set(
				    info, ERR_TIMEOUT,
				    "execution_spike: cycle %llu did not finish in 64 polls",
				    (unsigned long long)opp[k].id);
				goto cleanup;
			}
			if (timed) {
				prof__record(&sc->st[1], s.placed_ns - t0, a1 - a0, true);
				prof__record(&sc->st[2], t1 - t0, a1 - a0, true);
			}
		}
	}
	sc->cpu_ns = prof__cpu_ns() - c0;
	sc->wall_ns = clock_mono_ns() - w0;
	sc->events = o->iterations;
	{
		struct exec_stats st;

		exec_stats(e, &st);
		if (st.completed != total || st.orders != 3 * total) {
			rc = err_set(info, ERR_INVALID,
				     "execution_spike: %llu of %llu cycles completed, %llu orders",
				     (unsigned long long)st.completed, (unsigned long long)total,
				     (unsigned long long)st.orders);
			goto cleanup;
		}
		snprintf(sc->note, sizeof(sc->note),
			 "spikes of %u opportunities (3 legs) -> risk -> sequencer -> paper venue; "
			 "%llu cycles, %llu orders filled",
			 SPIKE, (unsigned long long)st.completed, (unsigned long long)st.orders);
	}
cleanup:
	exec_free(e);
	if (have_venue)
		s.inner.ops->destroy(s.inner.ctx);
	risk_free(risk);
	for (unsigned i = 0; i < NPAIRS; i++)
		book_free(s.books[i]);
	return rc;
}

/* book_update_burst (profile.h): Kraken v2 book frames for the TSV universe
 * (tests/data/universe/kraken_like.tsv, ~1,100 pairs) at depth 10, through
 * the market-data hot path exactly as md.c runs it: kr_decode, book apply
 * and checksum, arb_on_book.
 *
 * The frames are written between bursts, untimed, from a "truth" book per
 * pair: each update is applied to the truth first and carries the checksum
 * the truth then has, so the profiled book verifies only if decode and apply
 * agree with it. Mix per update: 70% a level's quantity changes, 15% a new
 * best price inside the spread (the tenth level falls out of view, unsent,
 * as Kraken does), 15% the best level leaves and a level comes into view at
 * the back. Half of the updates go to the 60 busiest pairs (the majors the
 * universe lists first). One update in 500 moves a pair's whole view by
 * 0.5-2% (taken back five updates later), so the detector also walks depth,
 * sizes and emits opportunities. */
#include "bench/profile.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arb/arb.h"
#include "book/book.h"
#include "core/alloc_count.h"
#include "core/clock.h"
#include "core/fixed.h"
#include "kraken/codec.h"

#define DEPTH	  10
#define BURST	  32u
#define HOT	  60u
#define FRAME_MAX 8192u

struct upair {
	struct arb_pair ap;
	int64_t mid; /* at price_scale */
	bool online;
	struct book *truth, *book;
};

struct burst {
	struct upair *p;
	uint32_t n;
	uint32_t *online; /* indices of online pairs */
	uint32_t n_online;
	uint64_t rng;
	char *frames; /* BURST frames of FRAME_MAX */
	size_t len[BURST];
	uint32_t pair[BURST];
	uint64_t opps;
	uint32_t dislocated; /* pair moved away from its mid, UINT32_MAX none */
	unsigned restore_in; /* updates until it moves back */
	uint64_t jumps;
};

static uint64_t rnd(struct burst *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

static double unif(struct burst *b, double lo, double hi)
{
	return lo + (hi - lo) * (double)(rnd(b) >> 11) / 9007199254740992.0;
}

/* ---- the universe file ---------------------------------------------------- */

/* One TSV row (symbol base quote status price_precision qty_precision
 * cost_precision price_increment qty_increment qty_min cost_min mid). */
static int parse_row(char *line, struct upair *u, unsigned lineno, struct err_info *info)
{
	char *col[12];
	int64_t v[3];
	int n = 0;
	struct arb_pair *p = &u->ap;

	line[strcspn(line, "\r\n")] = '\0';
	for (char *s = line; n < 12;) {
		char *t = strchr(s, '\t');

		col[n++] = s;
		if (!t)
			break;
		*t = '\0';
		s = t + 1;
	}
	if (n != 12)
		return err_set(info, ERR_PARSE, "universe line %u: %d columns, want 12", lineno, n);
	memset(u, 0, sizeof(*u));
	if (strlen(col[0]) >= BOOK_SYMBOL_MAX || strlen(col[1]) >= ARB_ASSET_MAX ||
	    strlen(col[2]) >= ARB_ASSET_MAX)
		return err_set(info, ERR_PARSE, "universe line %u: a name is too long", lineno);
	snprintf(p->symbol, sizeof(p->symbol), "%s", col[0]);
	snprintf(p->base, sizeof(p->base), "%s", col[1]);
	snprintf(p->quote, sizeof(p->quote), "%s", col[2]);
	u->online = strcmp(col[3], "online") == 0;
	p->tradable = u->online;
	for (int i = 0; i < 3; i++)
		if (fx_parse(col[4 + i], strlen(col[4 + i]), 0, &v[i]) != 0 || v[i] < 0 ||
		    v[i] > 18)
			return err_set(info, ERR_PARSE,
				       "universe line %u: column %d: bad precision", lineno, 5 + i);
	p->price_scale = (int)v[0];
	p->qty_scale = (int)v[1];
	p->cost_scale = (int)v[2];
	p->taker_fee_bps = ARB_FEE_DEFAULT;
	if (fx_parse(col[7], strlen(col[7]), p->price_scale, &p->price_increment) != 0 ||
	    fx_parse(col[8], strlen(col[8]), p->qty_scale, &p->qty_increment) != 0 ||
	    fx_parse(col[9], strlen(col[9]), p->qty_scale, &p->qty_min) != 0 ||
	    fx_parse(col[10], strlen(col[10]), p->cost_scale, &p->cost_min) != 0 ||
	    fx_parse(col[11], strlen(col[11]), p->price_scale, &u->mid) != 0 ||
	    p->price_increment <= 0 || p->qty_increment <= 0 || u->mid <= 0)
		return err_set(info, ERR_PARSE,
			       "universe line %u (%s): bad increment, minimum or mid", lineno,
			       p->symbol);
	return 0;
}

static int load_universe(const char *path, struct burst *b, struct err_info *info)
{
	char line[512];
	unsigned lineno = 0;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return err_set(info, -errno, "universe %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (b->n == ARB_MAX_PAIRS) {
			rc = err_set(info, ERR_FULL, "universe %s: more than %u pairs", path,
				     ARB_MAX_PAIRS);
			break;
		}
		if ((rc = parse_row(line, &b->p[b->n], lineno, info)) != 0)
			break;
		if (b->p[b->n].online)
			b->online[b->n_online++] = b->n;
		b->n++;
	}
	fclose(f);
	if (rc == 0 && b->n_online < 3)
		rc = err_set(info, ERR_PARSE, "universe %s: fewer than 3 online pairs", path);
	return rc;
}

/* ---- frames ------------------------------------------------------------- */

struct out {
	char *p;
	size_t n, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->n + n < o->cap) {
		memcpy(o->p + o->n, s, n);
		o->n += n;
	}
}
#define PUT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_fx(struct out *o, int64_t v, int scale)
{
	char t[32];
	int n = fx_format(v, scale, t, sizeof(t));

	put(o, t, n > 0 ? (size_t)n : 0);
}

static void put_levels(struct out *o, const struct arb_pair *p, const struct book_level *lv,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			PUT(o, ",");
		PUT(o, "{\"price\":");
		put_fx(o, lv[i].price, p->price_scale);
		PUT(o, ",\"qty\":");
		put_fx(o, lv[i].qty, p->qty_scale);
		PUT(o, "}");
	}
}

/* Writes one book message for u and applies it to the truth book, whose
 * checksum afterwards the message carries. Returns the length (0: full). */
static size_t frame(struct burst *b, struct upair *u, bool snapshot, const struct book_level *bids,
		    size_t nb, const struct book_level *asks, size_t na, char *buf)
{
	struct out o = {buf, 0, FRAME_MAX};
	char ts[40];
	int tn = clock_fmt_rfc3339(clock_wall_ns(), 6, ts, sizeof(ts));

	(void)b;
	book_begin(u->truth, snapshot);
	for (size_t i = 0; i < nb; i++)
		book_set_bid(u->truth, bids[i].price, bids[i].qty);
	for (size_t i = 0; i < na; i++)
		book_set_ask(u->truth, asks[i].price, asks[i].qty);
	/* The expected value is unknown yet: book_end reports a mismatch but
	 * computes the checksum the message must carry. */
	(void)book_end(u->truth, 0, 0);
	PUT(&o, "{\"channel\":\"book\",\"type\":\"");
	if (snapshot)
		PUT(&o, "snapshot");
	else
		PUT(&o, "update");
	PUT(&o, "\",\"data\":[{\"symbol\":\"");
	put(&o, u->ap.symbol, strlen(u->ap.symbol));
	PUT(&o, "\",\"bids\":[");
	put_levels(&o, &u->ap, bids, nb);
	PUT(&o, "],\"asks\":[");
	put_levels(&o, &u->ap, asks, na);
	PUT(&o, "],\"checksum\":");
	put_fx(&o, (int64_t)book_checksum(u->truth), 0);
	PUT(&o, ",\"timestamp\":\"");
	put(&o, ts, tn > 0 ? (size_t)tn : 0);
	PUT(&o, "\"}]}");
	return o.n + 1 < o.cap ? o.n : 0;
}

/* A level's quantity worth about 20..20,000 of the quote at mid, on the
 * quantity increment and above the minimum. */
static int64_t level_qty(struct burst *b, const struct arb_pair *p, int64_t mid)
{
	double price = fx_to_double(mid, p->price_scale);
	double quote_units = exp(unif(b, log(20), log(20000)));
	double q = quote_units / price * (double)fx_pow10(p->qty_scale);
	int64_t v = q > 9e15 ? (int64_t)9e15 : (int64_t)q;

	v -= v % p->qty_increment;
	return v < p->qty_min + p->qty_increment ? p->qty_min + p->qty_increment : v;
}

static int64_t on_grid(int64_t v, int64_t inc)
{
	v -= v % inc;
	return v < inc ? inc : v;
}

/* Depth-10 ladders around mid: half-spread 1-10 bps, steps 1-5 bps. */
static void ladders(struct burst *b, const struct arb_pair *p, int64_t mid, struct book_level *bids,
		    size_t *nb, struct book_level *asks)
{
	int64_t inc = p->price_increment;
	int64_t bid = on_grid((int64_t)((double)mid * (1 - unif(b, 1, 10) / 1e4)), inc);
	int64_t ask = on_grid((int64_t)ceil((double)mid * (1 + unif(b, 1, 10) / 1e4)), inc) + inc;

	*nb = 0;
	if (ask <= bid)
		ask = bid + inc;
	for (size_t k = 0; k < DEPTH; k++) {
		int64_t step = on_grid((int64_t)((double)mid * unif(b, 1, 5) / 1e4), inc);

		if (bid > 0)
			bids[(*nb)++] = (struct book_level){bid, level_qty(b, p, mid)};
		asks[k] = (struct book_level){ask, level_qty(b, p, mid)};
		bid -= step;
		ask += step;
	}
}

static size_t snapshot_frame(struct burst *b, struct upair *u, char *buf)
{
	struct book_level bids[DEPTH], asks[DEPTH];
	size_t nb;

	ladders(b, &u->ap, u->mid, bids, &nb, asks);
	return frame(b, u, true, bids, nb, asks, DEPTH, buf);
}

/* The whole view moves to mid in one update: every level of the truth
 * removed (qty 0), then the new ladders. */
static size_t jump_frame(struct burst *b, struct upair *u, int64_t mid, char *buf)
{
	struct book_level bids[2 * DEPTH], asks[2 * DEPTH];
	size_t nb, na, kb = 0, ka = 0, n;
	const struct book_level *tb = book_bids(u->truth, &nb), *ta = book_asks(u->truth, &na);

	for (size_t i = 0; i < nb && i < DEPTH; i++)
		bids[kb++] = (struct book_level){tb[i].price, 0};
	for (size_t i = 0; i < na && i < DEPTH; i++)
		asks[ka++] = (struct book_level){ta[i].price, 0};
	ladders(b, &u->ap, mid, bids + kb, &n, asks + ka);
	return frame(b, u, false, bids, kb + n, asks, ka + DEPTH, buf);
}

/* One update of the mix for u. */
static size_t update_frame(struct burst *b, struct upair *u, char *buf)
{
	const struct arb_pair *p = &u->ap;
	size_t nb, na;
	const struct book_level *tb = book_bids(u->truth, &nb), *ta = book_asks(u->truth, &na);
	struct book_level lv[2];
	bool bid_side = rnd(b) & 1;
	size_t n = bid_side ? nb : na;
	const struct book_level *side = bid_side ? tb : ta;
	double r = unif(b, 0, 1);
	int64_t inc = p->price_increment;
	size_t k = 0;

	if (n == 0 || nb == 0 || na == 0)
		return snapshot_frame(b, u, buf);
	if (r < 0.70) {
		lv[k++] = (struct book_level){side[rnd(b) % n].price, level_qty(b, p, u->mid)};
	} else if (r < 0.85 && ta[0].price - tb[0].price > inc) {
		/* A new best inside the spread. */
		int64_t px = bid_side ? tb[0].price + inc : ta[0].price - inc;

		lv[k++] = (struct book_level){px, level_qty(b, p, u->mid)};
	} else if (n > 1) {
		/* The best leaves; a level comes into view at the back. */
		int64_t step = inc * (int64_t)(1 + rnd(b) % 3);
		int64_t back = bid_side ? side[n - 1].price - step : side[n - 1].price + step;

		lv[k++] = (struct book_level){side[0].price, 0};
		if (back > 0)
			lv[k++] = (struct book_level){back, level_qty(b, p, u->mid)};
	} else {
		lv[k++] = (struct book_level){side[0].price, level_qty(b, p, u->mid)};
	}
	return bid_side ? frame(b, u, false, lv, k, NULL, 0, buf)
			: frame(b, u, false, NULL, 0, lv, k, buf);
}

/* ---- the scenario ------------------------------------------------------------- */

static void on_opp(void *ctx, const struct arb_opp *o)
{
	struct burst *b = ctx;

	(void)o;
	b->opps++;
}

static int setup(struct burst *b, struct kr_decoder **dp, struct arb **ap, struct err_info *info)
{
	struct arb_cfg cfg;
	struct arb *a;
	struct kr_decoder *d;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.home_assets, sizeof(cfg.home_assets), "USD,EUR,USDT,BTC");
	cfg.taker_fee_bps = 26;
	cfg.min_profit_bps = 5;
	cfg.detect_min_profit_bps = 5;
	cfg.max_notional = 1000;
	cfg.max_book_age_ms = 60000;
	d = *dp = kr_decoder_new(0);
	a = *ap = arb_new(&cfg, NULL, 1, info);
	if (!d || !a)
		return d ? (info->code ? info->code : ERR_NOMEM)
			 : err_set(info, ERR_NOMEM, "decoder: out of memory");
	for (uint32_t i = 0; i < b->n; i++) {
		const struct arb_pair *p = &b->p[i].ap;
		struct kr_pair kp;
		uint32_t id;

		memset(&kp, 0, sizeof(kp));
		snprintf(kp.symbol, sizeof(kp.symbol), "%s", p->symbol);
		snprintf(kp.base, sizeof(kp.base), "%s", p->base);
		snprintf(kp.quote, sizeof(kp.quote), "%s", p->quote);
		kp.status = b->p[i].online ? KR_PAIR_STATUS_ONLINE : KR_PAIR_STATUS_MAINTENANCE;
		kp.price_precision = p->price_scale;
		kp.qty_precision = p->qty_scale;
		kp.cost_precision = p->cost_scale;
		kp.price_increment = p->price_increment;
		kp.qty_increment = p->qty_increment;
		kp.qty_min = p->qty_min;
		kp.cost_min = p->cost_min;
		if ((rc = kr_decoder_put_pair(d, &kp, &id)) != 0 || id != i)
			return err_set(info, rc ? rc : ERR_INVALID,
				       "universe pair %s refused by the decoder", p->symbol);
	}
	{
		struct arb_pair *pairs = calloc(b->n, sizeof(*pairs));

		if (!pairs)
			return err_set(info, ERR_NOMEM, "out of memory");
		for (uint32_t i = 0; i < b->n; i++)
			pairs[i] = b->p[i].ap;
		rc = arb_set_universe(a, pairs, b->n, 0, info);
		free(pairs);
		if (rc != 0)
			return rc;
	}
	arb_set_callback(a, on_opp, b);
	for (uint32_t k = 0; k < b->n_online; k++) {
		struct upair *u = &b->p[b->online[k]];

		u->truth = book_new(u->ap.symbol, u->ap.price_scale, u->ap.qty_scale, DEPTH, info);
		u->book = book_new(u->ap.symbol, u->ap.price_scale, u->ap.qty_scale, DEPTH, info);
		if (!u->truth || !u->book)
			return info->code ? info->code : ERR_NOMEM;
		if ((rc = arb_bind_book(a, b->online[k], u->book)) != 0)
			return err_set(info, rc, "arb_bind_book %s", u->ap.symbol);
	}
	return 0;
}

/* Decodes and applies one frame; the stages are timed when st is not NULL. */
static int one(struct burst *b, struct kr_decoder *d, struct arb *a, struct kr_event *ev,
	       const char *fr, size_t len, struct prof_scenario *sc, bool counted,
	       struct err_info *info)
{
	uint64_t a0, a1, a2, a3, t0, t1, t2, t3;
	const struct kr_book_event *be = &ev->book;
	struct upair *u;
	int rc;

	a0 = alloc_count();
	t0 = clock_mono_ns();
	rc = kr_decode(d, fr, len, ev, info);
	t1 = clock_mono_ns();
	a1 = alloc_count();
	if (rc != 0 || ev->kind != KR_EV_BOOK || be->pair_id >= b->n)
		return rc ? rc : err_set(info, ERR_PARSE, "generated frame is not a book message");
	u = &b->p[be->pair_id];
	rc = kr_book_apply(u->book, be, t0);
	t2 = clock_mono_ns();
	a2 = alloc_count();
	if (rc != 0)
		return err_set(info, ERR_CHECKSUM, "%s: generated update did not verify (%s)",
			       u->ap.symbol, err_str(rc));
	rc = arb_on_book(a, be->pair_id, t0);
	t3 = clock_mono_ns();
	a3 = alloc_count();
	if (rc < 0)
		return err_set(info, rc, "arb_on_book %s: %s", u->ap.symbol, err_str(rc));
	if (sc) {
		prof__record(&sc->st[0], t1 - t0, a1 - a0, counted);
		prof__record(&sc->st[1], t2 - t1, a2 - a1, counted);
		prof__record(&sc->st[2], t3 - t2, a3 - a2, counted);
		prof__record(&sc->st[3], t3 - t0, a3 - a0, counted);
	}
	return 0;
}

static uint32_t pick(struct burst *b)
{
	uint32_t hot = b->n_online < HOT ? b->n_online : HOT;

	return (rnd(b) & 1) ? b->online[rnd(b) % hot] : b->online[rnd(b) % b->n_online];
}

/* The next update: one of the mix, or, one time in 500, a jump of a pair
 * by 0.5-2% that the market takes back five updates later, so that the
 * detector walks depth and emits opportunities as well. */
static size_t next_update(struct burst *b, char *buf, uint32_t *pair)
{
	struct upair *u;

	if (b->dislocated != UINT32_MAX && --b->restore_in == 0) {
		u = &b->p[ *pair = b->dislocated];
		b->dislocated = UINT32_MAX;
		return jump_frame(b, u, u->mid, buf);
	}
	u = &b->p[ *pair = pick(b)];
	if (b->dislocated == UINT32_MAX && rnd(b) % 500 == 0) {
		double f = 1 + ((rnd(b) & 1) ? 1 : -1) * unif(b, 0.005, 0.02);

		b->dislocated = *pair;
		b->restore_in = 5;
		b->jumps++;
		return jump_frame(b, u, (int64_t)((double)u->mid * f), buf);
	}
	return update_frame(b, u, buf);
}

int prof_book_burst(const struct prof_opts *o, struct prof_scenario *sc, struct err_info *info)
{
	struct burst b;
	struct kr_decoder *d = NULL;
	struct arb *a = NULL;
	struct kr_event *ev = NULL;
	uint64_t done = 0, total, w0, c0;
	int rc;

	memset(sc, 0, sizeof(*sc));
	memset(&b, 0, sizeof(b));
	snprintf(sc->name, sizeof(sc->name), "book_update_burst");
	b.rng = o->seed ? o->seed : 0x9e3779b97f4a7c15ull;
	b.dislocated = UINT32_MAX;
	b.p = calloc(ARB_MAX_PAIRS, sizeof(*b.p));
	b.online = calloc(ARB_MAX_PAIRS, sizeof(*b.online));
	b.frames = malloc((size_t)BURST * FRAME_MAX);
	ev = malloc(sizeof(*ev));
	if (!b.p || !b.online || !b.frames || !ev) {
		rc = err_set(info, ERR_NOMEM, "book_update_burst: out of memory");
		goto cleanup;
	}
	if ((rc = load_universe(o->universe_path, &b, info)) != 0 ||
	    (rc = setup(&b, &d, &a, info)) != 0)
		goto cleanup;
	for (uint32_t k = 0; k < b.n_online; k++) {
		size_t len = snapshot_frame(&b, &b.p[b.online[k]], b.frames);

		if (len == 0) {
			rc = err_set(info, ERR_FULL, "snapshot frame too long");
			goto cleanup;
		}
		if ((rc = one(&b, d, a, ev, b.frames, len, NULL, false, info)) != 0)
			goto cleanup;
	}
	prof__stage(sc, "parse", true);
	prof__stage(sc, "apply", true);
	prof__stage(sc, "detect", true);
	prof__stage(sc, "e2e", true);
	sc->cpu_scaled = true;
	sc->allocs_measured = alloc_count_supported();
	alloc_count_enable(true);
	total = o->iterations + PROF_WARMUP;
	w0 = clock_mono_ns();
	c0 = prof__cpu_ns();
	while (done < total) {
		unsigned nf = (unsigned)(total - done < BURST ? total - done : BURST);

		/* Write the burst (untimed), then run it back to back. */
		for (unsigned i = 0; i < nf; i++) {
			b.len[i] = next_update(&b, b.frames + (size_t)i * FRAME_MAX, &b.pair[i]);
			if (b.len[i] == 0) {
				rc = err_set(info, ERR_FULL, "update frame too long");
				goto cleanup;
			}
		}
		for (unsigned i = 0; i < nf; i++, done++) {
			bool timed = done >= PROF_WARMUP;

			rc = one(&b, d, a, ev, b.frames + (size_t)i * FRAME_MAX, b.len[i],
				 timed ? sc : NULL, timed, info);
			if (rc != 0)
				goto cleanup;
		}
	}
	sc->cpu_ns = prof__cpu_ns() - c0;
	sc->wall_ns = clock_mono_ns() - w0;
	sc->events = o->iterations;
	snprintf(sc->note, sizeof(sc->note),
		 "%u pairs (%u online), %u cycles, depth %d, bursts of %u; %llu price jumps, %llu "
		 "opportunities",
		 (unsigned)b.n, (unsigned)b.n_online, (unsigned)arb_cycle_count(a), DEPTH, BURST,
		 (unsigned long long)b.jumps, (unsigned long long)b.opps);
cleanup:
	arb_free(a);
	kr_decoder_free(d);
	if (b.p)
		for (uint32_t i = 0; i < b.n; i++) {
			book_free(b.p[i].truth);
			book_free(b.p[i].book);
		}
	free(ev);
	free(b.frames);
	free(b.online);
	free(b.p);
	return rc;
}

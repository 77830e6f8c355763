/* The generated book stream (bench.h). Each pair keeps a "true" book a little
 * deeper than the published depth; every update mutates it and publishes the
 * difference between the old and the new top `depth` levels, the way Kraken
 * does: a level that leaves the view because another one arrived above it is
 * not sent (the subscriber truncates), a level that is removed is sent with
 * qty 0, and a level that comes into view is sent in full. */
#include "bench/bench_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "book/book.h"
#include "core/clock.h"
#include "core/fixed.h"

/* Real-looking pairs: symbol, price and qty precision, a mid price at the
 * price precision, and the largest quantity of a level in whole units. */
struct gen_spec {
	const char *symbol;
	int pp, qp;
	const char *mid;
	int64_t qty_max;
};

static const struct gen_spec specs[] = {
    {"BTC/USD", 1, 8, "45000.0", 3},	   {"ETH/USD", 2, 8, "2500.00", 40},
    {"SOL/USD", 2, 8, "100.00", 300},	   {"XRP/USD", 5, 8, "0.60000", 50000},
    {"ADA/USD", 6, 8, "0.450000", 80000},  {"DOGE/USD", 7, 8, "0.0800000", 500000},
    {"DOT/USD", 4, 8, "6.5000", 5000},	   {"LTC/USD", 2, 8, "70.00", 500},
    {"LINK/USD", 5, 8, "14.00000", 3000},  {"AVAX/USD", 2, 8, "35.00", 1000},
    {"MATIC/USD", 4, 8, "0.5600", 60000},  {"ETH/BTC", 5, 8, "0.05500", 40},
    {"SOL/BTC", 7, 8, "0.0022000", 300},   {"XRP/BTC", 8, 8, "0.00001330", 50000},
    {"BTC/EUR", 1, 8, "41000.0", 3},	   {"ETH/EUR", 2, 8, "2300.00", 40},
    {"USDT/USD", 5, 2, "1.00010", 200000}, {"USDC/USD", 4, 2, "1.0000", 200000},
    {"BTC/USDT", 1, 8, "45010.0", 3},	   {"ETH/USDT", 2, 8, "2501.00", 40},
    {"SOL/ETH", 5, 8, "0.04000", 300},	   {"ADA/EUR", 6, 8, "0.410000", 80000},
    {"DOT/EUR", 4, 8, "6.0000", 5000},	   {"LTC/BTC", 6, 8, "0.001550", 500},
    {"LINK/ETH", 6, 8, "0.005600", 3000},  {"BTC/GBP", 1, 8, "35500.0", 3},
    {"ETH/GBP", 2, 8, "1980.00", 40},	   {"ATOM/USD", 4, 8, "9.5000", 3000},
    {"UNI/USD", 3, 8, "6.200", 3000},	   {"BCH/USD", 2, 8, "240.00", 100},
    {"XLM/USD", 6, 8, "0.120000", 200000}, {"ALGO/USD", 5, 8, "0.18000", 100000},
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* Extra levels kept below the published depth, so that levels fall out of
 * view and come back. */
#define SPARE_MIN 4u
#define SPARE_MAX 24u

struct side {
	struct book_level *lv; /* best first */
	size_t n;
};

struct gpair {
	char symbol[KR_SYMBOL_MAX];
	char base[KR_ASSET_MAX];
	char quote[KR_ASSET_MAX];
	int pp, qp;
	int64_t qty_max; /* at qp */
	struct side bids, asks;
};

struct gen {
	const struct bench_gen_opts *o;
	struct gpair *pairs;
	struct book_level *store; /* every side's levels */
	struct book_level *old;	  /* the view before an update: depth per side */
	struct book_level *emit;  /* levels of the message being built */
	size_t cap;		  /* levels per side */
	char *msg;		  /* one message */
	size_t msg_cap, len;
	uint64_t rng;
	int64_t wall_ns;
	FILE *out;
	struct bench_gen_stats *st;
};

static uint64_t rnd(struct gen *g)
{
	/* xorshift64*: deterministic for a seed, fast, good enough here. */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t below(struct gen *g, uint64_t n)
{
	return n ? rnd(g) % n : 0;
}

/* ---- text --------------------------------------------------------------- */

static void put(struct gen *g, const char *s, size_t n)
{
	/* msg_cap covers the largest message; see gen_new. */
	memcpy(g->msg + g->len, s, n);
	g->len += n;
}
#define PUT(g, lit) put((g), (lit), sizeof(lit) - 1)

static void put_str(struct gen *g, const char *s)
{
	put(g, s, strlen(s));
}

static void put_fx(struct gen *g, int64_t v, int scale)
{
	char b[32];
	int n = fx_format(v, scale, b, sizeof(b));

	put(g, b, n > 0 ? (size_t)n : 0);
}

static void put_u64(struct gen *g, uint64_t v)
{
	put_fx(g, (int64_t)v, 0);
}

static void put_time(struct gen *g, int64_t ns, int digits)
{
	char b[40];
	int n = clock_fmt_rfc3339(ns, digits, b, sizeof(b));

	PUT(g, "\"");
	put(g, b, n > 0 ? (size_t)n : 0);
	PUT(g, "\"");
}

/* Writes the message as one line, wrapped as `arbitrade record` does unless
 * raw; the recording stamp is a little after the exchange's timestamp. */
static int flush_line(struct gen *g)
{
	char head[80];
	int hn = 0;

	g->wall_ns += 20000 + (int64_t)below(g, 20000);
	if (!g->o->raw) {
		char ts[40];
		int n = clock_fmt_rfc3339(g->wall_ns, 9, ts, sizeof(ts));

		hn = snprintf(head, sizeof(head), "{\"recv_ts\":\"%.*s\",\"msg\":", n > 0 ? n : 0,
			      ts);
	}
	if ((hn && fwrite(head, 1, (size_t)hn, g->out) != (size_t)hn) ||
	    fwrite(g->msg, 1, g->len, g->out) != g->len ||
	    fwrite(g->o->raw ? "\n" : "}\n", 1, g->o->raw ? 1 : 2, g->out) == 0)
		return errno ? -errno : ERR_IO;
	g->st->bytes += (uint64_t)hn + g->len + (g->o->raw ? 1u : 2u);
	g->st->messages++;
	g->len = 0;
	return 0;
}

/* ---- books -------------------------------------------------------------- */

static int64_t new_qty(struct gen *g, const struct gpair *p)
{
	return 1 + (int64_t)below(g, (uint64_t)p->qty_max);
}

static void insert_at(struct side *s, size_t i, int64_t price, int64_t qty)
{
	memmove(&s->lv[i + 1], &s->lv[i], (s->n - i) * sizeof(*s->lv));
	s->lv[i].price = price;
	s->lv[i].qty = qty;
	s->n++;
}

static void remove_at(struct side *s, size_t i)
{
	memmove(&s->lv[i], &s->lv[i + 1], (s->n - i - 1) * sizeof(*s->lv));
	s->n--;
}

/* Keeps SPARE_MIN..SPARE_MAX levels below the view (invisible changes). */
static void refill(struct gen *g, struct gpair *p, struct side *s, bool bids)
{
	size_t depth = g->o->depth;

	while (s->n < depth + SPARE_MIN && s->n < g->cap) {
		int64_t step = 1 + (int64_t)below(g, 3);
		int64_t price = bids ? s->lv[s->n - 1].price - step : s->lv[s->n - 1].price + step;

		if (price <= 0)
			break;
		s->lv[s->n].price = price;
		s->lv[s->n].qty = new_qty(g, p);
		s->n++;
	}
	if (s->n > depth + SPARE_MAX)
		s->n = depth + SPARE_MAX;
}

static void init_book(struct gen *g, struct gpair *p, int64_t mid)
{
	size_t want = g->o->depth + (SPARE_MIN + SPARE_MAX) / 2u;

	p->bids.n = p->asks.n = 1;
	p->bids.lv[0].price = mid - 1 - (int64_t)below(g, 2);
	p->bids.lv[0].qty = new_qty(g, p);
	p->asks.lv[0].price = mid + 1 + (int64_t)below(g, 2);
	p->asks.lv[0].qty = new_qty(g, p);
	while (p->bids.n < want && p->bids.lv[p->bids.n - 1].price > 4) {
		p->bids.lv[p->bids.n].price =
		    p->bids.lv[p->bids.n - 1].price - 1 - (int64_t)below(g, 3);
		p->bids.lv[p->bids.n].qty = new_qty(g, p);
		p->bids.n++;
	}
	while (p->asks.n < want) {
		p->asks.lv[p->asks.n].price =
		    p->asks.lv[p->asks.n - 1].price + 1 + (int64_t)below(g, 3);
		p->asks.lv[p->asks.n].qty = new_qty(g, p);
		p->asks.n++;
	}
}

/* One random change to side s of p, in or near the view. */
static void mutate(struct gen *g, struct gpair *p, bool bids)
{
	struct side *s = bids ? &p->bids : &p->asks;
	struct side *o = bids ? &p->asks : &p->bids;
	size_t view = s->n < g->o->depth ? s->n : g->o->depth;
	uint64_t op = below(g, 100);
	int dir = bids ? -1 : 1;
	size_t i;

	if (view == 0)
		return;
	i = (size_t)below(g, view);
	if (op < 55) { /* a quantity changes */
		s->lv[i].qty = new_qty(g, p);
	} else if (op < 70) { /* a level is cancelled */
		if (s->n > 1)
			remove_at(s, i);
	} else if (op < 85) { /* a new level between two others */
		if (i + 1 < s->n) {
			int64_t gap = (s->lv[i + 1].price - s->lv[i].price) * dir;
			if (gap > 1)
				insert_at(s, i + 1,
					  s->lv[i].price +
					      dir * (1 + (int64_t)below(g, (uint64_t)gap - 1)),
					  new_qty(g, p));
			else
				s->lv[i].qty = new_qty(g, p);
		}
	} else if (op < 93) { /* a better price inside the spread */
		int64_t spread = o->lv[0].price - s->lv[0].price;
		if (spread < 0)
			spread = -spread;
		if (o->n > 0 && spread > 1)
			insert_at(s, 0,
				  s->lv[0].price -
				      dir * (1 + (int64_t)below(g, (uint64_t)spread - 1)),
				  new_qty(g, p));
		else
			s->lv[0].qty = new_qty(g, p);
	} else { /* a trade takes the best levels */
		size_t k = 1 + (size_t)below(g, 3);
		while (k-- > 0 && s->n > 2)
			remove_at(s, 0);
		s->lv[0].qty = new_qty(g, p);
	}
}

static bool has_price(const struct side *s, int64_t price)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->lv[i].price == price)
			return true;
	return false;
}

/* The levels that turn the old view (old, nold) into s's new view, into
 * g->emit from *ne; see the comment at the top of the file. */
static void diff_side(struct gen *g, const struct book_level *old, size_t nold,
		      const struct side *s, size_t *ne)
{
	size_t nnew = s->n < g->o->depth ? s->n : g->o->depth;

	for (size_t i = 0; i < nold; i++) {
		bool in_view = false;
		for (size_t j = 0; j < nnew && !in_view; j++)
			in_view = s->lv[j].price == old[i].price;
		if (!in_view && !has_price(s, old[i].price)) {
			g->emit[*ne].price = old[i].price;
			g->emit[*ne].qty = 0;
			(*ne)++;
		}
	}
	for (size_t j = 0; j < nnew; j++) {
		bool same = false;
		for (size_t i = 0; i < nold && !same; i++)
			same = old[i].price == s->lv[j].price && old[i].qty == s->lv[j].qty;
		if (!same)
			g->emit[(*ne)++] = s->lv[j];
	}
}

static void put_levels(struct gen *g, const struct gpair *p, const struct book_level *lv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put_str(g, i ? ",{\"price\":" : "{\"price\":");
		put_fx(g, lv[i].price, p->pp);
		PUT(g, ",\"qty\":");
		put_fx(g, lv[i].qty, p->qp);
		PUT(g, "}");
	}
}

static uint32_t view_checksum(const struct gpair *p)
{
	size_t na = p->asks.n < BOOK_CHECKSUM_LEVELS ? p->asks.n : BOOK_CHECKSUM_LEVELS;
	size_t nb = p->bids.n < BOOK_CHECKSUM_LEVELS ? p->bids.n : BOOK_CHECKSUM_LEVELS;

	return book_checksum_levels(p->asks.lv, na, p->bids.lv, nb);
}

static void put_book(struct gen *g, const struct gpair *p, bool snapshot,
		     const struct book_level *bids, size_t nb, const struct book_level *asks,
		     size_t na)
{
	PUT(g, "{\"channel\":\"book\",\"type\":\"");
	put_str(g, snapshot ? "snapshot" : "update");
	PUT(g, "\",\"data\":[{\"symbol\":\"");
	put_str(g, p->symbol);
	PUT(g, "\",\"bids\":[");
	put_levels(g, p, bids, nb);
	PUT(g, "],\"asks\":[");
	put_levels(g, p, asks, na);
	PUT(g, "],\"checksum\":");
	put_u64(g, view_checksum(p));
	PUT(g, ",\"timestamp\":");
	put_time(g, g->wall_ns - 250000, 6);
	PUT(g, "}]}");
}

static int snapshot(struct gen *g, struct gpair *p)
{
	size_t d = g->o->depth;

	put_book(g, p, true, p->bids.lv, p->bids.n < d ? p->bids.n : d, p->asks.lv,
		 p->asks.n < d ? p->asks.n : d);
	g->st->snapshots++;
	return flush_line(g);
}

static int update(struct gen *g, struct gpair *p)
{
	size_t d = g->o->depth, nob, noa, nb = 0, na = 0;
	struct book_level *ob = g->old, *oa = g->old + d;

	nob = p->bids.n < d ? p->bids.n : d;
	noa = p->asks.n < d ? p->asks.n : d;
	memcpy(ob, p->bids.lv, nob * sizeof(*ob));
	memcpy(oa, p->asks.lv, noa * sizeof(*oa));
	/* Retry until the change is visible: a message always moves the view. */
	for (int tries = 0; nb + na == 0 && tries < 16; tries++) {
		unsigned k = 1 + (below(g, 10) == 0 ? (unsigned)below(g, 3) : 0u);
		while (k-- > 0)
			mutate(g, p, below(g, 2) == 0);
		refill(g, p, &p->bids, true);
		refill(g, p, &p->asks, false);
		nb = na = 0;
		diff_side(g, ob, nob, &p->bids, &nb);
		na = nb;
		diff_side(g, oa, noa, &p->asks, &na);
		na -= nb;
	}
	put_book(g, p, false, g->emit, nb, g->emit + nb, na);
	g->st->updates++;
	g->st->levels += nb + na;
	return flush_line(g);
}

/* ---- session ------------------------------------------------------------ */

static void asset_list(const struct gen *g, const char **out, size_t *n)
{
	*n = 0;
	for (unsigned i = 0; i < g->o->pairs; i++) {
		const char *names[2] = {g->pairs[i].base, g->pairs[i].quote};
		for (int k = 0; k < 2; k++) {
			bool dup = false;
			for (size_t j = 0; j < *n && !dup; j++)
				dup = strcmp(out[j], names[k]) == 0;
			if (!dup)
				out[(*n)++] = names[k];
		}
	}
}

static int instrument(struct gen *g)
{
	const char **assets = calloc(2u * g->o->pairs, sizeof(*assets));
	size_t na;
	int rc;

	if (!assets)
		return ERR_NOMEM;
	asset_list(g, assets, &na);
	PUT(g, "{\"channel\":\"instrument\",\"type\":\"snapshot\",\"data\":{\"assets\":[");
	for (size_t i = 0; i < na; i++) {
		put_str(g, i ? ",{\"id\":\"" : "{\"id\":\"");
		put_str(g, assets[i]);
		PUT(g, "\",\"status\":\"enabled\",\"precision\":10,\"precision_display\":5,"
		       "\"borrowable\":false,\"collateral_value\":0.0,\"margin_rate\":0.0}");
	}
	PUT(g, "],\"pairs\":[");
	for (unsigned i = 0; i < g->o->pairs; i++) {
		const struct gpair *p = &g->pairs[i];
		put_str(g, i ? ",{\"symbol\":\"" : "{\"symbol\":\"");
		put_str(g, p->symbol);
		PUT(g, "\",\"base\":\"");
		put_str(g, p->base);
		PUT(g, "\",\"quote\":\"");
		put_str(g, p->quote);
		PUT(g, "\",\"status\":\"online\",\"qty_precision\":");
		put_u64(g, (uint64_t)p->qp);
		PUT(g, ",\"qty_increment\":");
		put_fx(g, 1, p->qp);
		PUT(g, ",\"price_precision\":");
		put_u64(g, (uint64_t)p->pp);
		PUT(g, ",\"price_increment\":");
		put_fx(g, 1, p->pp);
		PUT(g, ",\"cost_precision\":5,\"cost_min\":0.5,\"qty_min\":");
		put_fx(g, fx_pow10(p->qp) / 10000 > 0 ? fx_pow10(p->qp) / 10000 : 1, p->qp);
		PUT(g, ",\"marginable\":false,\"has_index\":true}");
	}
	PUT(g, "]}}");
	free(assets);
	rc = flush_line(g);
	return rc;
}

static int ack(struct gen *g, const struct gpair *p)
{
	PUT(g, "{\"method\":\"subscribe\",\"result\":{\"channel\":\"book\",\"depth\":");
	put_u64(g, g->o->depth);
	PUT(g, ",\"snapshot\":true,\"symbol\":\"");
	put_str(g, p->symbol);
	PUT(g, "\"},\"success\":true,\"time_in\":");
	put_time(g, g->wall_ns, 6);
	PUT(g, ",\"time_out\":");
	put_time(g, g->wall_ns + 45000, 6);
	PUT(g, "}");
	return flush_line(g);
}

static int setup_pair(struct gen *g, unsigned i, struct err_info *info)
{
	struct gpair *p = &g->pairs[i];
	const struct gen_spec *sp = &specs[i % NSPECS];
	int64_t mid;

	p->pp = sp->pp;
	p->qp = sp->qp;
	if (i < NSPECS) {
		snprintf(p->symbol, sizeof(p->symbol), "%s", sp->symbol);
	} else {
		/* Beyond the real names: T<i>/<quote of the spec it copies>. */
		const char *q = strchr(sp->symbol, '/');
		snprintf(p->symbol, sizeof(p->symbol), "T%u%s", i, q ? q : "/USD");
	}
	{
		const char *slash = strchr(p->symbol, '/');
		size_t bl = (size_t)(slash - p->symbol);
		memcpy(p->base, p->symbol, bl);
		p->base[bl] = '\0';
		snprintf(p->quote, sizeof(p->quote), "%s", slash + 1);
	}
	if (fx_parse(sp->mid, strlen(sp->mid), p->pp, &mid) != 0)
		return err_set(info, ERR_INVALID, "bad mid for %s", sp->symbol);
	p->qty_max = sp->qty_max * fx_pow10(p->qp);
	p->bids.lv = g->store + (size_t)i * 2u * g->cap;
	p->asks.lv = p->bids.lv + g->cap;
	init_book(g, p, mid);
	return 0;
}

static void gen_release(struct gen *g)
{
	free(g->pairs);
	free(g->store);
	free(g->old);
	free(g->emit);
	free(g->msg);
}

int bench_gen_book_stream(FILE *out, const struct bench_gen_opts *o, struct bench_gen_stats *st,
			  struct err_info *info)
{
	struct gen g;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (o->pairs == 0 || o->pairs > BENCH_GEN_MAX_PAIRS)
		return err_set(info, ERR_INVALID, "pairs must be 1 to %u", BENCH_GEN_MAX_PAIRS);
	if (o->depth != 10 && o->depth != 25 && o->depth != 100 && o->depth != 500 &&
	    o->depth != 1000)
		return err_set(info, ERR_INVALID, "depth %u is not 10, 25, 100, 500 or 1000",
			       o->depth);
	if (o->messages < 2u * o->pairs + 2u)
		return err_set(info, ERR_INVALID,
			       "messages must be at least 2 * pairs + 2 (%u) for the status, "
			       "instrument, acknowledgement and snapshot lines",
			       2u * o->pairs + 2u);
	memset(&g, 0, sizeof(g));
	g.o = o;
	g.out = out;
	g.st = st;
	g.rng = o->seed * 0x9e3779b97f4a7c15ull + 0x6a09e667f3bcc909ull;
	if (g.rng == 0)
		g.rng = 1;
	g.wall_ns = 1767225600ll * 1000000000ll; /* 2026-01-01T00:00:00Z */
	g.cap = o->depth + SPARE_MAX + 8u;
	/* The instrument snapshot is the longest message for small depths: about
	 * 400 bytes per pair and 150 per asset; a book message is at most
	 * 4 * depth levels (an update: old and new view) of at most 64 bytes. */
	g.msg_cap = 4096u + 1024u * o->pairs + 4u * g.cap * 64u;
	g.pairs = calloc(o->pairs, sizeof(*g.pairs));
	g.store = calloc((size_t)o->pairs * 2u * g.cap, sizeof(*g.store));
	g.old = calloc(2u * o->depth, sizeof(*g.old));
	g.emit = calloc(4u * g.cap, sizeof(*g.emit));
	g.msg = malloc(g.msg_cap);
	if (!g.pairs || !g.store || !g.old || !g.emit || !g.msg) {
		rc = err_set(info, ERR_NOMEM, "out of memory");
		goto cleanup;
	}
	for (unsigned i = 0; i < o->pairs && rc == 0; i++)
		rc = setup_pair(&g, i, info);
	if (rc)
		goto cleanup;

	PUT(&g, "{\"channel\":\"status\",\"type\":\"update\",\"data\":[{\"api_version\":\"v2\","
		"\"connection_id\":13834774380200032777,\"system\":\"online\","
		"\"version\":\"2.0.0\"}]}");
	if ((rc = flush_line(&g)) || (rc = instrument(&g)))
		goto cleanup;
	for (unsigned i = 0; i < o->pairs && rc == 0; i++)
		rc = ack(&g, &g.pairs[i]);
	for (unsigned i = 0; i < o->pairs && rc == 0; i++)
		rc = snapshot(&g, &g.pairs[i]);
	while (rc == 0 && st->messages < o->messages) {
		if (st->messages % 2000u == 0) {
			PUT(&g, "{\"channel\":\"heartbeat\"}");
			rc = flush_line(&g);
			continue;
		}
		/* Busy pairs update more often: the lower quarter of the ids gets
		 * about half of the updates, as BTC and ETH pairs do. */
		unsigned i = below(&g, 2) ? (unsigned)below(&g, (o->pairs + 3u) / 4u)
					  : (unsigned)below(&g, o->pairs);
		rc = update(&g, &g.pairs[i]);
	}
	if (rc == 0 && fflush(out) != 0)
		rc = errno ? -errno : ERR_IO;
	if (rc < 0 && rc > ERR_BASE)
		err_set(info, rc, "writing the stream: %s", err_str(rc));
cleanup:
	gen_release(&g);
	return rc;
}

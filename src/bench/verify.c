/* verify-book: rebuild every book of a recording with the project's decoder
 * and books, and check every checksum (bench.h). Everything is allocated
 * before the timed pass; the timed pass reads the buffer in place. */
#include "bench/bench_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "book/book.h"
#include "core/alloc_count.h"
#include "core/clock.h"
#include "core/log.h"

struct verifier {
	struct kr_decoder *dec;
	struct kr_event *ev;
	struct book **books;   /* KR_MAX_PAIRS, by pair id */
	unsigned *depth;       /* KR_MAX_PAIRS: from subscribe acks, 0 = unknown */
	bool *good;	       /* KR_MAX_PAIRS: a matching snapshot since the last error */
	bool *seen;	       /* KR_MAX_PAIRS: any book message */
	struct book_level *l3; /* L3_ORDERS: a level3 snapshot's top orders */
};

/* Orders of the top 10 prices of a level3 snapshot, both sides. */
#define L3_ORDERS 65536u

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* Walks the non-blank lines of a buffer, counting every line. */
struct lines {
	const char *p, *end;
	uint64_t lineno;
};

static bool next_line(struct lines *it, const char **line, size_t *n)
{
	while (it->p < it->end) {
		const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
		const char *e = nl ? nl : it->end;

		*line = it->p;
		*n = (size_t)(e - it->p);
		it->lineno++;
		it->p = nl ? nl + 1 : it->end;
		if (!blank(*line, *n))
			return true;
	}
	return false;
}

static bool is_level3(const struct kr_event *ev)
{
	return ev->kind == KR_EV_UNKNOWN && ev->unknown.channel.len == 6 &&
	       memcmp(ev->unknown.channel.p, "level3", 6) == 0;
}

static void verifier_free(struct verifier *v)
{
	if (v->books) {
		for (uint32_t i = 0; i < KR_MAX_PAIRS; i++)
			book_free(v->books[i]);
	}
	free(v->books);
	free(v->depth);
	free(v->good);
	free(v->seen);
	free(v->l3);
	free(v->ev);
	kr_decoder_free(v->dec);
}

/* A pair for a symbol that only appears in book messages: the increments are
 * one unit at the inferred precisions, which the books do not use. */
static int put_inferred(struct verifier *v, struct kr_view sym, int pp, int qp, FILE *notes)
{
	struct kr_pair p;
	const char *slash;
	size_t bl;

	if (sym.len == 0 || sym.len >= KR_SYMBOL_MAX)
		return ERR_SCHEMA;
	memset(&p, 0, sizeof(p));
	memcpy(p.symbol, sym.p, sym.len);
	slash = memchr(sym.p, '/', sym.len);
	bl = slash ? (size_t)(slash - sym.p) : sym.len;
	if (bl == 0 || bl >= KR_ASSET_MAX || (slash && sym.len - bl - 1 >= KR_ASSET_MAX))
		return ERR_SCHEMA;
	memcpy(p.base, sym.p, bl);
	if (slash && sym.len - bl - 1 > 0)
		memcpy(p.quote, slash + 1, sym.len - bl - 1);
	else
		memcpy(p.quote, "?", 2);
	p.status = KR_PAIR_STATUS_ONLINE;
	p.price_precision = pp;
	p.qty_precision = qp;
	p.cost_precision = pp + qp > 18 ? 18 : pp + qp;
	p.price_increment = 1;
	p.qty_increment = 1;
	if (kr_decoder_put_pair(v->dec, &p, NULL) != 0)
		return ERR_SCHEMA;
	if (notes)
		fprintf(notes,
			"verify-book: no instrument data for %s: inferred price_precision %d, "
			"qty_precision %d from the decimals of its first snapshot\n",
			p.symbol, pp, qp);
	return 0;
}

/* The untimed pass: instrument table, depths, inferred precisions. */
static void first_pass(struct verifier *v, const char *buf, size_t len,
		       struct bench_verify_result *r, FILE *notes)
{
	struct lines it = {buf, buf + len, 0};
	const char *line;
	size_t n;
	int saved_level = log__level;

	/* The timed pass reports the same errors; say them once. */
	log__level = LOG_LEVEL_ERROR + 1;
	while (next_line(&it, &line, &n)) {
		struct kr_view msg, sym;
		int pp, qp;

		if (!bench__line_message_slow(line, n, &msg))
			continue;
		if (kr_decode(v->dec, msg.p, msg.len, v->ev, NULL) == 0) {
			const struct kr_ack_event *a = &v->ev->ack;

			struct bench__l3 l3;

			if (v->ev->kind == KR_EV_SUBSCRIBE && a->success &&
			    a->channel == KR_CHANNEL_BOOK && a->pair_id != KR_PAIR_NONE)
				v->depth[a->pair_id] = a->depth;
			if (notes && is_level3(v->ev) &&
			    bench__level3(v->dec, msg, v->l3, L3_ORDERS, &l3, NULL) == 0 &&
			    l3.inferred)
				fprintf(notes,
					"verify-book: no instrument data for level3 %s: its "
					"precisions are inferred from the decimals of each "
					"snapshot\n",
					l3.symbol);
			continue;
		}
		if (!bench__infer_precision(msg, &sym, &pp, &qp) ||
		    kr_decoder_find(v->dec, sym.p, sym.len) != KR_PAIR_NONE)
			continue;
		if (put_inferred(v, sym, pp, qp, notes) == 0)
			r->inferred++;
	}
	log__level = saved_level;
}

static bool depth_ok(unsigned d)
{
	return d == 10 || d == 25 || d == 100 || d == 500 || d == 1000;
}

static int make_books(struct verifier *v, const struct bench_verify_opts *o, struct err_info *info)
{
	uint32_t np = kr_decoder_pair_count(v->dec);

	for (uint32_t id = 0; id < np; id++) {
		const struct kr_pair *p = kr_decoder_pair(v->dec, id);
		unsigned d = o->depth ? o->depth : depth_ok(v->depth[id]) ? v->depth[id] : 10u;
		struct err_info bi = {0};

		/* Kraken's symbols fit BOOK_SYMBOL_MAX; a longer one cannot have a book. */
		if (strlen(p->symbol) > BOOK_SYMBOL_MAX)
			continue;
		v->books[id] = book_new(p->symbol, p->price_precision, p->qty_precision, d, &bi);
		if (!v->books[id])
			return err_set(info, bi.code ? bi.code : ERR_NOMEM, "%s", bi.msg);
	}
	return 0;
}

static void parse_error(struct bench_verify_result *r, uint64_t lineno, const char *why)
{
	r->parse_errors++;
	if (r->first_parse_error_line == 0) {
		r->first_parse_error_line = lineno;
		snprintf(r->first_parse_error, sizeof(r->first_parse_error), "%s", why);
	}
}

static void mismatch(struct bench_verify_result *r, uint64_t lineno, const char *symbol)
{
	r->checksum_mismatch++;
	if (r->first_mismatch_line == 0) {
		r->first_mismatch_line = lineno;
		snprintf(r->first_mismatch_symbol, sizeof(r->first_mismatch_symbol), "%s", symbol);
	}
}

/* A level3 message: a snapshot's own checksum is checked (level3.c). */
static void apply_level3(struct verifier *v, struct kr_view msg, uint64_t lineno,
			 struct bench_verify_result *r)
{
	struct bench__l3 l3;
	struct err_info ei = {0};
	int rc = bench__level3(v->dec, msg, v->l3, L3_ORDERS, &l3, &ei);

	if (rc == 1) {
		r->unverified++;
		return;
	}
	if (rc != 0) {
		parse_error(r, lineno, ei.msg);
		return;
	}
	r->level3_snapshots++;
	if (l3.got == l3.expected)
		r->checksum_ok++;
	else
		mismatch(r, lineno, l3.symbol);
}

/* Applies one decoded book event; the outcome is counted in r. */
static void apply(struct verifier *v, const struct kr_book_event *e, uint64_t now, uint64_t lineno,
		  struct bench_verify_result *r)
{
	struct book *b = v->books[e->pair_id];
	int rc;

	if (!b) {
		/* A symbol longer than a book's name can be (BOOK_SYMBOL_MAX). */
		r->unverified++;
		return;
	}
	v->seen[e->pair_id] = true;
	if (e->price_scale != book_price_scale(b) || e->qty_scale != book_qty_scale(b)) {
		r->precision_changes++;
		v->good[e->pair_id] = false;
		return;
	}
	if (!e->snapshot && !v->good[e->pair_id]) {
		r->unverified++;
		return;
	}
	rc = kr_book_apply(b, e, now);
	if (e->snapshot)
		r->snapshots++;
	else
		r->updates++;
	v->good[e->pair_id] = rc == 0;
	if (rc == 0)
		r->checksum_ok++;
	else if (rc == ERR_CHECKSUM)
		mismatch(r, lineno, book_symbol(b));
	else
		r->book_errors++;
}

/* The calling thread's CPU time: unlike the wall clock, it does not run
 * while other processes have the core. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void timed_pass(struct verifier *v, const char *buf, size_t len,
		       struct bench_verify_result *r)
{
	struct lines it = {buf, buf + len, 0};
	const char *line;
	size_t n;
	uint64_t start, cpu0, allocs0 = 0;
	struct err_info ei;

	r->allocs_measured = alloc_count_supported();
	alloc_count_enable(true);
	cpu0 = thread_cpu_ns();
	start = clock_mono_ns();
	while (next_line(&it, &line, &n)) {
		uint64_t lineno = it.lineno, t0, t1;
		struct kr_view msg, m2;
		int rc;

		r->lines++;
		if (!bench__line_message(line, n, &msg)) {
			parse_error(r, lineno, "not a Kraken message or a recording line");
			continue;
		}
		r->messages++;
		if (r->messages == BENCH_WARMUP_MESSAGES + 1) {
			r->warmup_messages = BENCH_WARMUP_MESSAGES;
			allocs0 = alloc_count();
		}
		t0 = clock_mono_ns();
		rc = kr_decode(v->dec, msg.p, msg.len, v->ev, &ei);
		if (rc != 0 && bench__line_message_slow(line, n, &m2) &&
		    (m2.p != msg.p || m2.len != msg.len)) {
			msg = m2;
			rc = kr_decode(v->dec, msg.p, msg.len, v->ev, &ei);
		}
		if (rc == 0 && v->ev->kind == KR_EV_BOOK)
			apply(v, &v->ev->book, t0, lineno, r);
		else if (rc == 0 && is_level3(v->ev))
			apply_level3(v, msg, lineno, r);
		t1 = clock_mono_ns();
		if (rc != 0) {
			parse_error(r, lineno, ei.msg);
			continue;
		}
		r->decoded++;
		hist_record(&r->latency, t1 - t0);
	}
	r->elapsed_ns = clock_mono_ns() - start;
	r->cpu_ns = thread_cpu_ns() - cpu0;
	if (r->messages <= BENCH_WARMUP_MESSAGES) {
		r->warmup_messages = r->messages;
		allocs0 = alloc_count();
	}
	r->allocs_after_warmup = alloc_count() - allocs0;
	alloc_count_enable(false);
}

int bench_verify(const char *buf, size_t len, const struct bench_verify_opts *opts,
		 struct bench_verify_result *r, struct err_info *info)
{
	struct verifier v;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	hist_init(&r->latency);
	if (opts->depth != 0 && !depth_ok(opts->depth))
		return err_set(info, ERR_INVALID, "depth %u is not 10, 25, 100, 500 or 1000",
			       opts->depth);
	memset(&v, 0, sizeof(v));
	v.dec = kr_decoder_new(0);
	v.ev = malloc(sizeof(*v.ev));
	v.books = calloc(KR_MAX_PAIRS, sizeof(*v.books));
	v.depth = calloc(KR_MAX_PAIRS, sizeof(*v.depth));
	v.good = calloc(KR_MAX_PAIRS, sizeof(*v.good));
	v.seen = calloc(KR_MAX_PAIRS, sizeof(*v.seen));
	v.l3 = calloc(L3_ORDERS, sizeof(*v.l3));
	if (!v.dec || !v.ev || !v.books || !v.depth || !v.good || !v.seen || !v.l3) {
		rc = err_set(info, ERR_NOMEM, "out of memory");
		goto cleanup;
	}
	first_pass(&v, buf, len, r, opts->notes);
	rc = make_books(&v, opts, info);
	if (rc)
		goto cleanup;
	timed_pass(&v, buf, len, r);
	for (uint32_t id = 0; id < KR_MAX_PAIRS; id++)
		r->symbols += v.seen[id];
	if (r->decoded == 0)
		rc = err_set(info, ERR_PARSE,
			     "no line is a Kraken v2 message or a recording line "
			     "({\"recv_ts\":...,\"msg\":{...}})%s%s",
			     r->first_parse_error_line ? "; first error: " : "",
			     r->first_parse_error_line ? r->first_parse_error : "");
cleanup:
	verifier_free(&v);
	return rc;
}

/* The market-data session: instrument, then books, over any transport.
 *
 * Each book walks NONE -> WANT -> SENT -> LIVE. WANT means "subscribe on this
 * connection"; SENT waits for the snapshot (updates before it belong to an
 * earlier subscription and are ignored); LIVE applies every message. A book
 * that fails (checksum, bad level, capacity) goes to RESYNC: it is
 * unsubscribed and subscribed again in one go, and waits in SENT for a fresh
 * snapshot. Kraken handles requests in order, so no update of the old
 * subscription can follow the new snapshot. A closed connection sends every
 * book back to NONE. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "kraken/ws.h"

#define SUB_TIMEOUT_NS (15ull * 1000000000ull)
#define LOG_EVERY_NS   1000000000ull

enum sub_state { SUB_NONE = 0, SUB_WANT, SUB_RESYNC, SUB_SENT, SUB_LIVE };

struct fbook {
	struct book *b;
	uint32_t pair_id;
	enum sub_state st;
	uint64_t sent_ns;
};

struct kr_ws_feed {
	struct kr_decoder *dec;
	struct kr_event *ev; /* large: allocated once */
	struct kr_ws_feed_cb cb;
	unsigned depth;
	bool all;
	char (*want)[KR_SYMBOL_MAX];
	size_t nwant;

	struct fbook *books; /* KR_MAX_PAIRS */
	size_t nbooks;
	int32_t *by_pair;  /* KR_MAX_PAIRS: index into books, -1 for none */
	const char **syms; /* KR_MAX_PAIRS: scratch for batches */
	uint32_t *idx;	   /* KR_MAX_PAIRS: scratch for batches */

	bool open;
	bool instr_sent;
	uint64_t instr_sent_ns;
	bool instruments;
	enum kr_system_status system;
	uint64_t req_id;
	char tx[KR_WS_TX_MAX];

	struct kr_ws_feed_stats st;
	struct log_ratelimit rl_book, rl_sub, rl_err, rl_parse;
};

static bool symbol_ok(const char *s, size_t len)
{
	if (len == 0 || len >= KR_SYMBOL_MAX || len > BOOK_SYMBOL_MAX || !memchr(s, '/', len))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\' || s[i] == ',')
			return false;
	return true;
}

static int parse_symbols(struct kr_ws_feed *f, const char *list, struct err_info *info)
{
	const char *p = list ? list : "";
	while (*p == ' ')
		p++;
	if (strcasecmp(p, "all") == 0) {
		f->all = true;
		return 0;
	}
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *s = p;
		while (len && *s == ' ') {
			s++;
			len--;
		}
		while (len && s[len - 1] == ' ')
			len--;
		if (!symbol_ok(s, len))
			return err_set(
			    info, ERR_CONFIG,
			    "BOOK_SYMBOLS item '%.*s': expected BASE/QUOTE of at most %d "
			    "printable characters",
			    (int)(len > 64 ? 64 : len), s, BOOK_SYMBOL_MAX);
		bool dup = false;
		for (size_t i = 0; i < f->nwant && !dup; i++)
			dup = strlen(f->want[i]) == len && memcmp(f->want[i], s, len) == 0;
		if (!dup) {
			if (f->nwant == KR_MAX_PAIRS)
				return err_set(info, ERR_CONFIG,
					       "BOOK_SYMBOLS lists more than %d pairs",
					       KR_MAX_PAIRS);
			memcpy(f->want[f->nwant], s, len);
			f->want[f->nwant][len] = '\0';
			f->nwant++;
		}
		if (!e)
			break;
		p = e + 1;
	}
	if (f->nwant == 0)
		return err_set(info, ERR_CONFIG, "BOOK_SYMBOLS is empty: list pairs or write all");
	return 0;
}

struct kr_ws_feed *kr_ws_feed_new(const struct kr_ws_feed_opts *o, struct err_info *info)
{
	struct kr_ws_feed *f;
	if (!o || !o->cb.send) {
		err_set(info, ERR_INVALID, "kr_ws_feed_new: no transport");
		return NULL;
	}
	if (o->depth != 10 && o->depth != 25 && o->depth != 100 && o->depth != 500 &&
	    o->depth != 1000) {
		err_set(info, ERR_CONFIG, "BOOK_DEPTH=%u: expected 10, 25, 100, 500 or 1000",
			o->depth);
		return NULL;
	}
	f = calloc(1, sizeof *f);
	if (!f)
		goto nomem;
	f->cb = o->cb;
	f->depth = o->depth;
	f->want = calloc(KR_MAX_PAIRS, sizeof *f->want);
	f->books = calloc(KR_MAX_PAIRS, sizeof *f->books);
	f->by_pair = malloc(KR_MAX_PAIRS * sizeof *f->by_pair);
	f->syms = calloc(KR_MAX_PAIRS, sizeof *f->syms);
	f->idx = calloc(KR_MAX_PAIRS, sizeof *f->idx);
	f->ev = malloc(sizeof *f->ev);
	f->dec = kr_decoder_new(0);
	if (!f->want || !f->books || !f->by_pair || !f->syms || !f->idx || !f->ev || !f->dec)
		goto nomem;
	for (size_t i = 0; i < KR_MAX_PAIRS; i++)
		f->by_pair[i] = -1;
	if (parse_symbols(f, o->symbols, info) != 0) {
		kr_ws_feed_free(f);
		return NULL;
	}
	return f;
nomem:
	kr_ws_feed_free(f);
	err_set(info, ERR_NOMEM, "out of memory creating the market-data session");
	return NULL;
}

void kr_ws_feed_free(struct kr_ws_feed *f)
{
	if (!f)
		return;
	for (size_t i = 0; f->books && i < f->nbooks; i++)
		book_free(f->books[i].b);
	kr_decoder_free(f->dec);
	free(f->ev);
	free(f->idx);
	free(f->syms);
	free(f->by_pair);
	free(f->books);
	free(f->want);
	free(f);
}

static void changed(struct kr_ws_feed *f, const struct fbook *fb, uint64_t now_ns)
{
	if (f->cb.on_book)
		f->cb.on_book(f->cb.ctx, fb->b, fb->pair_id, now_ns);
}

static int send_text(struct kr_ws_feed *f, int len)
{
	if (len < 0)
		return len;
	int rc = f->cb.send(f->cb.ctx, f->tx, (size_t)len);
	if (rc != 0)
		f->st.send_errors++;
	return rc;
}

/* Sends (un)subscribe requests for every book in state from, in batches;
 * each book sent moves to state to. Stops at the first refused request: the
 * rest keep their state and the next flush retries them. */
static int send_batches(struct kr_ws_feed *f, enum sub_state from, enum sub_state to, bool unsub,
			uint64_t now_ns)
{
	size_t n = 0;
	for (size_t i = 0; i < f->nbooks; i++) {
		if (f->books[i].st == from) {
			f->idx[n] = (uint32_t)i;
			f->syms[n] = book_symbol(f->books[i].b);
			n++;
		}
	}
	for (size_t start = 0; start < n;) {
		size_t k = kr_ws_batch_next(f->syms, n, start, KR_WS_SUBSCRIBE_BATCH, KR_WS_TX_MAX);
		uint64_t id = ++f->req_id;
		int len = unsub ? kr_encode_unsubscribe_book(f->tx, sizeof f->tx, f->syms + start,
							     k, f->depth, id)
				: kr_encode_subscribe_book(f->tx, sizeof f->tx, f->syms + start, k,
							   f->depth, id);
		int rc = send_text(f, len);
		if (rc != 0)
			return rc;
		for (size_t j = start; j < start + k; j++) {
			f->books[f->idx[j]].st = to;
			f->books[f->idx[j]].sent_ns = now_ns;
		}
		start += k;
	}
	return 0;
}

static void flush(struct kr_ws_feed *f, uint64_t now_ns)
{
	if (!f->open)
		return;
	if (!f->instr_sent) {
		int len = kr_encode_subscribe_instrument(f->tx, sizeof f->tx, ++f->req_id);
		if (send_text(f, len) != 0)
			return;
		f->instr_sent = true;
		f->instr_sent_ns = now_ns;
	}
	if (send_batches(f, SUB_RESYNC, SUB_WANT, true, now_ns) != 0)
		return;
	send_batches(f, SUB_WANT, SUB_SENT, false, now_ns);
}

void kr_ws_feed_open(struct kr_ws_feed *f, uint64_t now_ns)
{
	f->open = true;
	f->instr_sent = false;
	f->instruments = false;
	flush(f, now_ns);
}

void kr_ws_feed_close(struct kr_ws_feed *f, uint64_t now_ns)
{
	f->open = false;
	f->instr_sent = false;
	f->instruments = false;
	for (size_t i = 0; i < f->nbooks; i++) {
		f->books[i].st = SUB_NONE;
		if (book_valid(f->books[i].b)) {
			book_invalidate(f->books[i].b);
			changed(f, &f->books[i], now_ns);
		}
	}
}

static void resync(struct kr_ws_feed *f, struct fbook *fb)
{
	fb->st = SUB_RESYNC;
	f->st.resubscribes++;
}

/* A book for pair id, created when the universe names it. Allocates: only
 * on instrument messages, never per book message. */
static bool add_book(struct kr_ws_feed *f, uint32_t id)
{
	const struct kr_pair *p = kr_decoder_pair(f->dec, id);
	struct err_info info = {0};
	if (!p || id >= KR_MAX_PAIRS)
		return false;
	int32_t at = f->by_pair[id];
	if (at >= 0) {
		struct fbook *fb = &f->books[at];
		if (book_price_scale(fb->b) == p->price_precision &&
		    book_qty_scale(fb->b) == p->qty_precision)
			return false;
		/* The pair's precision changed: its book must be rebuilt at the new
		 * scales from a fresh snapshot. */
		struct book *nb =
		    book_new(p->symbol, p->price_precision, p->qty_precision, f->depth, &info);
		if (!nb) {
			LOG_ERROR("kraken", "cannot rebuild a book", "symbol=%s err=\"%s\"",
				  p->symbol, info.msg);
			return false;
		}
		book_free(fb->b);
		fb->b = nb;
		LOG_INFO("kraken", "pair precision changed: book rebuilt", "symbol=%s", p->symbol);
		if (fb->st == SUB_SENT || fb->st == SUB_LIVE)
			resync(f, fb);
		return true;
	}
	if (f->nbooks == KR_MAX_PAIRS)
		return false;
	struct book *b = book_new(p->symbol, p->price_precision, p->qty_precision, f->depth, &info);
	if (!b) {
		LOG_ERROR("kraken", "cannot create a book", "symbol=%s err=\"%s\"", p->symbol,
			  info.msg);
		return false;
	}
	f->books[f->nbooks] = (struct fbook){.b = b, .pair_id = id, .st = SUB_NONE};
	f->by_pair[id] = (int32_t)f->nbooks;
	f->nbooks++;
	return true;
}

static void on_instrument(struct kr_ws_feed *f, const struct kr_instrument_event *ie,
			  uint64_t now_ns)
{
	bool grew = false;
	if (f->all) {
		for (uint32_t i = 0; i < ie->n_changed; i++) {
			const struct kr_pair *p = kr_decoder_pair(f->dec, ie->changed[i]);
			if (p && (p->status == KR_PAIR_STATUS_ONLINE || f->by_pair[p->id] >= 0))
				grew |= add_book(f, p->id);
		}
	} else {
		for (size_t i = 0; i < f->nwant; i++) {
			uint32_t id = kr_decoder_find(f->dec, f->want[i], strlen(f->want[i]));
			if (id != KR_PAIR_NONE)
				grew |= add_book(f, id);
		}
	}
	if (grew && f->cb.on_books)
		f->cb.on_books(f->cb.ctx, f);
	if (ie->snapshot)
		f->instruments = true;
	if (!f->instruments)
		return;
	for (size_t i = 0; i < f->nbooks; i++)
		if (f->books[i].st == SUB_NONE)
			f->books[i].st = SUB_WANT;
	flush(f, now_ns);
}

static void on_book(struct kr_ws_feed *f, const struct kr_book_event *be, uint64_t recv_ns)
{
	int32_t at = be->pair_id < KR_MAX_PAIRS ? f->by_pair[be->pair_id] : -1;
	if (at < 0) {
		f->st.ignored++;
		return;
	}
	struct fbook *fb = &f->books[at];
	if (fb->st != SUB_LIVE && !(fb->st == SUB_SENT && be->snapshot)) {
		f->st.ignored++;
		return;
	}
	struct book *b = fb->b;
	if (be->price_scale != book_price_scale(b) || be->qty_scale != book_qty_scale(b)) {
		f->st.book_errors++;
		book_invalidate(b);
		changed(f, fb, recv_ns);
		resync(f, fb);
		flush(f, recv_ns);
		return;
	}
	fb->st = SUB_LIVE;
	int rc = kr_book_apply(b, be, recv_ns);
	f->st.book_messages++;
	changed(f, fb, recv_ns);
	if (rc == 0)
		return;
	if (rc == ERR_CHECKSUM)
		f->st.checksum_failures++;
	else
		f->st.book_errors++;
	if (log_ratelimit_ok(&f->rl_book, recv_ns, LOG_EVERY_NS))
		LOG_WARN("kraken",
			 rc == ERR_CHECKSUM ? "book checksum mismatch: resubscribing"
					    : "book message failed: resubscribing",
			 "symbol=%s expected=%u computed=%u err=\"%s\" suppressed=%llu",
			 book_symbol(b), be->checksum, book_checksum(b), err_str(rc),
			 (unsigned long long)f->rl_book.suppressed);
	resync(f, fb);
	flush(f, recv_ns);
}

static void on_ack(struct kr_ws_feed *f, const struct kr_ack_event *a, uint64_t recv_ns)
{
	if (a->success)
		return;
	f->st.subscribe_errors++;
	if (log_ratelimit_ok(&f->rl_sub, recv_ns, LOG_EVERY_NS))
		LOG_WARN(
		    "kraken", "subscription refused", "symbol=\"%.*s\" error=\"%.*s\"",
		    (int)(a->symbol.len > 64 ? 64 : a->symbol.len), a->symbol.p ? a->symbol.p : "",
		    (int)(a->error.len > 160 ? 160 : a->error.len), a->error.p ? a->error.p : "");
}

static void on_status(struct kr_ws_feed *f, const struct kr_status_event *s)
{
	if (s->system != f->system)
		LOG_INFO("kraken", "system status", "system=%s previous=%s",
			 kr_system_status_str(s->system), kr_system_status_str(f->system));
	f->system = s->system;
}

int kr_ws_feed_frame(struct kr_ws_feed *f, const char *frame, size_t len, uint64_t recv_ns)
{
	struct err_info info;
	f->st.messages++;
	int rc = kr_decode(f->dec, frame, len, f->ev, &info);
	if (rc != 0) {
		/* kr_decode logs the detail itself, rate-limited. */
		f->st.parse_errors++;
		return rc;
	}
	switch (f->ev->kind) {
	case KR_EV_BOOK:
		on_book(f, &f->ev->book, recv_ns);
		break;
	case KR_EV_INSTRUMENT:
		on_instrument(f, &f->ev->instrument, recv_ns);
		break;
	case KR_EV_STATUS:
		on_status(f, &f->ev->status);
		break;
	case KR_EV_SUBSCRIBE:
		on_ack(f, &f->ev->ack, recv_ns);
		break;
	case KR_EV_ERROR:
		f->st.exchange_errors++;
		if (log_ratelimit_ok(&f->rl_err, recv_ns, LOG_EVERY_NS))
			LOG_WARN("kraken", "error reply", "method=\"%.*s\" error=\"%.*s\"",
				 (int)(f->ev->error.method.len > 32 ? 32 : f->ev->error.method.len),
				 f->ev->error.method.p ? f->ev->error.method.p : "",
				 (int)(f->ev->error.error.len > 160 ? 160 : f->ev->error.error.len),
				 f->ev->error.error.p ? f->ev->error.error.p : "");
		break;
	default:
		break;
	}
	return 0;
}

void kr_ws_feed_tick(struct kr_ws_feed *f, uint64_t now_ns)
{
	if (!f->open)
		return;
	if (f->instr_sent && !f->instruments && now_ns - f->instr_sent_ns > SUB_TIMEOUT_NS)
		f->instr_sent = false;
	for (size_t i = 0; i < f->nbooks; i++) {
		struct fbook *fb = &f->books[i];
		if (fb->st == SUB_SENT && now_ns - fb->sent_ns > SUB_TIMEOUT_NS)
			resync(f, fb);
	}
	flush(f, now_ns);
}

void kr_ws_feed_stats(const struct kr_ws_feed *f, uint64_t now_ns, uint64_t max_age_ns,
		      struct kr_ws_feed_stats *out)
{
	*out = f->st;
	out->books = (uint32_t)f->nbooks;
	out->valid = out->stale = out->missing = 0;
	for (size_t i = 0; i < f->nbooks; i++) {
		const struct book *b = f->books[i].b;
		if (!book_valid(b))
			continue;
		out->valid++;
		uint64_t t = book_last_update_ns(b);
		if (now_ns > t && now_ns - t > max_age_ns)
			out->stale++;
	}
	out->invalid = out->books - out->valid;
	if (!f->all && f->instruments)
		for (size_t i = 0; i < f->nwant; i++)
			if (kr_decoder_find(f->dec, f->want[i], strlen(f->want[i])) == KR_PAIR_NONE)
				out->missing++;
	out->system = f->system;
	out->instruments = f->instruments;
}

size_t kr_ws_feed_book_count(const struct kr_ws_feed *f)
{
	return f->nbooks;
}

const struct book *kr_ws_feed_book(const struct kr_ws_feed *f, size_t i)
{
	return i < f->nbooks ? f->books[i].b : NULL;
}

const struct book *kr_ws_feed_find(const struct kr_ws_feed *f, const char *symbol)
{
	uint32_t id = kr_decoder_find(f->dec, symbol, strlen(symbol));
	if (id == KR_PAIR_NONE || id >= KR_MAX_PAIRS || f->by_pair[id] < 0)
		return NULL;
	return f->books[f->by_pair[id]].b;
}

const struct kr_decoder *kr_ws_feed_decoder(const struct kr_ws_feed *f)
{
	return f->dec;
}

/* The control endpoint: plain HTTP on the WS port under /control (see
 * sim.h), served by the same lws context on the server loop thread with
 * sim__lock held. Each request answers one JSON body. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/fixed.h"
#include "core/log.h"
#include "sim/sim_srv.h"

static const char *status_name(enum kr_system_status st)
{
	return kr_system_status_str(st);
}

/* The value of ?name=... (decoded by lws) into buf; false when absent. */
static bool arg(struct lws *wsi, const char *name, char *buf, int cap)
{
	char key[32];
	snprintf(key, sizeof(key), "%s=", name);
	const char *v = lws_get_urlarg_by_name(wsi, key, buf, cap);
	if (!v)
		return false;
	memmove(buf, v, strlen(v) + 1);
	return true;
}

static bool arg_u64(struct lws *wsi, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
	char buf[64];
	return arg(wsi, name, buf, sizeof(buf)) && fx_parse(buf, strlen(buf), 0, out) == 0 &&
	       *out >= lo && *out <= hi;
}

/* JSON-safe copy of untrusted text for an error message. */
static void safe(char *dst, size_t cap, const char *src)
{
	size_t k = 0;
	for (; src[k] && k + 1 < cap; k++)
		dst[k] = (src[k] == '"' || src[k] == '\\' || (unsigned char)src[k] < 0x20) ? '?'
											   : src[k];
	dst[k] = '\0';
}

static void fail(struct sim_http *h, int status, const char *msg)
{
	h->status = status;
	sim__buf_reset(&h->body);
	sim__buf_printf(&h->body, "{\"error\":\"%s\"}", msg);
}

static void levels(struct sim_buf *b, const struct book_level *lv, size_t n,
		   const struct kr_pair *k)
{
	sim__buf_str(b, "[");
	for (size_t i = 0; i < n; i++) {
		sim__buf_str(b, i ? ",[" : "[");
		sim__buf_fixed(b, lv[i].price, k->price_precision);
		sim__buf_str(b, ",");
		sim__buf_fixed(b, lv[i].qty, k->qty_precision);
		sim__buf_str(b, "]");
	}
	sim__buf_str(b, "]");
}

static void state(struct sim *s, struct sim_buf *b)
{
	sim__buf_printf(b, "{\"connections\":%zu,\"subscriptions\":{\"book\":[", s->n_conns);
	bool first = true;
	for (size_t i = 0; i < s->n_pairs; i++) {
		bool any = false;
		for (struct sim_conn *c = s->conns; c && !any; c = c->next)
			for (struct sim_sub *u = c->subs; u && !any; u = u->next)
				any = u->pair == i;
		if (any) {
			sim__buf_printf(b, "%s\"%s\"", first ? "" : ",", s->pairs[i].kp.symbol);
			first = false;
		}
	}
	sim__buf_str(b, "]},\"books\":{");
	for (size_t i = 0; i < s->n_pairs; i++) {
		const struct sim_pair *p = &s->pairs[i];
		size_t nb, na;
		const struct book_level *bids = book_bids(p->book, &nb);
		const struct book_level *asks = book_asks(p->book, &na);
		sim__buf_printf(
		    b, "%s\"%s\":{\"checksum\":%u,\"bids\":", i ? "," : "", p->kp.symbol,
		    book_checksum_levels(asks, na < 10 ? na : 10, bids, nb < 10 ? nb : 10));
		levels(b, bids, nb, &p->kp);
		sim__buf_str(b, ",\"asks\":");
		levels(b, asks, na, &p->kp);
		sim__buf_str(b, "}");
	}
	sim__buf_printf(b, "},\"system_status\":\"%s\",\"messages_sent\":%llu,\"tick\":%llu}",
			status_name(s->status), (unsigned long long)s->messages_sent,
			(unsigned long long)s->tick);
}

static void window(struct sim *s, struct lws *wsi, struct sim_http *h)
{
	char cyc[256], ids[SIM_MAX_CYCLE][KR_ASSET_MAX], msg[300];
	int assets[SIM_MAX_CYCLE], n = 0;
	int64_t bps, ms;
	struct err_info info = {0};
	if (!arg(wsi, "cycle", cyc, sizeof(cyc))) {
		fail(h, 400, "cycle: missing (e.g. cycle=USD,BTC,ETH)");
		return;
	}
	for (char *p = cyc, *q; p && *p; p = q) {
		q = strchr(p, ',');
		if (q)
			*q++ = '\0';
		if (n >= SIM_MAX_CYCLE || strlen(p) >= KR_ASSET_MAX || !*p) {
			fail(h, 400, "cycle: 2 to 6 asset ids separated by commas");
			return;
		}
		memcpy(ids[n++], p, strlen(p) + 1);
	}
	if (!arg_u64(wsi, "bps", 0, 10000, &bps)) {
		fail(h, 400, "bps: missing or not an integer in 0..10000");
		return;
	}
	if (!arg_u64(wsi, "ms", 1, 3600000, &ms)) {
		fail(h, 400, "ms: missing or not an integer in 1..3600000");
		return;
	}
	if (sim__cycle_resolve(s, ids, n, assets, &info) != 0 ||
	    sim__window_start(s, assets, n, (double)bps, (uint64_t)ms, &info) != 0) {
		safe(msg, sizeof(msg), info.msg);
		fail(h, 400, msg);
		return;
	}
	sim__buf_printf(&h->body, "{\"ok\":true,\"pair\":\"%s\",\"bps\":%lld,\"ms\":%lld}",
			s->pairs[s->windows[s->n_windows - 1].pair].kp.symbol, (long long)bps,
			(long long)ms);
}

/* The private side's faults for the next add_order (ws_private.c). */
static void private_fault(struct sim *s, struct lws *wsi, struct sim_http *h, const char *p)
{
	char v[96] = "";
	int64_t n = 0;
	if (p[0] == 'r') {
		if (arg(wsi, "error", v, sizeof(v)) &&
		    (v[0] != 'E' || !strchr(v, ':') || strpbrk(v, "\"\\"))) {
			fail(h, 400,
			     "error: a Kraken error text such as EOrder:Insufficient funds");
			return;
		}
		sim__ws_private_fault(s, SIM_PRIV_REJECT_NEXT, 0, v);
	} else if (p[0] == 'p') {
		/* ratio=0.5: fixed point at 2 decimals, so 1..99 percent. */
		if (!arg(wsi, "ratio", v, sizeof(v)) || fx_parse(v, strlen(v), 2, &n) != 0 ||
		    sim__ws_private_fault(s, SIM_PRIV_PARTIAL_NEXT,
					  (unsigned)(n > 0 && n < 100 ? n : 0), NULL) != 0) {
			fail(h, 400, "ratio: missing or not a decimal in 0.01..0.99");
			return;
		}
	} else if (!arg_u64(wsi, "ms", 1, 60000, &n) ||
		   sim__ws_private_fault(s, SIM_PRIV_DELAY_ACK, (unsigned)n, NULL) != 0) {
		fail(h, 400, "ms: missing or not an integer in 1..60000");
		return;
	}
	sim__buf_printf(&h->body, "{\"ok\":true,\"fault\":\"%s\"}", p);
}

static void handle(struct sim *s, struct lws *wsi, struct sim_http *h, bool post)
{
	const char *p = h->path;
	char v[128], msg[200];
	int64_t n;
	h->status = 200;
	sim__buf_reset(&h->body);
	if (strncmp(p, "/control/", 9) != 0) {
		fail(h, 404, "not found");
		return;
	}
	p += 9;
	if (strcmp(p, "state") == 0) {
		state(s, &h->body);
		return;
	}
	if (!post &&
	    (strcmp(p, "drop") == 0 || strcmp(p, "corrupt_checksum") == 0 ||
	     strcmp(p, "malformed") == 0 || strcmp(p, "stall") == 0 || strcmp(p, "status") == 0 ||
	     strcmp(p, "window") == 0 || strcmp(p, "reject_next") == 0 ||
	     strcmp(p, "partial_next") == 0 || strcmp(p, "delay_ack") == 0)) {
		fail(h, 405, "method: use POST");
		return;
	}
	if (strcmp(p, "drop") == 0) {
		sim__buf_printf(&h->body, "{\"ok\":true,\"dropped\":%zu}", s->n_conns);
		LOG_INFO("sim", "control: drop", "connections=%zu", s->n_conns);
		sim__drop_all(s);
	} else if (strcmp(p, "corrupt_checksum") == 0) {
		long pi;
		if (!arg(wsi, "symbol", v, sizeof(v))) {
			fail(h, 400, "symbol: missing (e.g. symbol=BTC/USD)");
			return;
		}
		if ((pi = sim__pair_find(s, v)) < 0) {
			safe(v, sizeof(v), v);
			snprintf(msg, sizeof(msg), "symbol: unknown pair %s", v);
			fail(h, 400, msg);
			return;
		}
		s->pairs[pi].corrupt = true;
		sim__buf_printf(&h->body, "{\"ok\":true,\"symbol\":\"%s\"}",
				s->pairs[pi].kp.symbol);
	} else if (strcmp(p, "malformed") == 0) {
		sim__broadcast_malformed(s);
		sim__buf_printf(&h->body, "{\"ok\":true,\"connections\":%zu}", s->n_conns);
	} else if (strcmp(p, "stall") == 0) {
		if (!arg_u64(wsi, "ms", 1, 600000, &n)) {
			fail(h, 400, "ms: missing or not an integer in 1..600000");
			return;
		}
		s->stall_until_ns = clock_mono_ns() + (uint64_t)n * 1000000ull;
		LOG_INFO("sim", "control: stall", "ms=%lld", (long long)n);
		sim__buf_printf(&h->body, "{\"ok\":true,\"ms\":%lld}", (long long)n);
	} else if (strcmp(p, "status") == 0) {
		enum kr_system_status st;
		if (!arg(wsi, "value", v, sizeof(v)) ||
		    (st = sim__status_parse(v)) == KR_SYSTEM_UNKNOWN) {
			fail(h, 400, "value: one of online, maintenance, cancel_only, post_only");
			return;
		}
		if (s->status != st) {
			s->status = st;
			sim__broadcast_status(s);
		}
		sim__buf_printf(&h->body, "{\"ok\":true,\"system_status\":\"%s\"}",
				status_name(st));
	} else if (strcmp(p, "window") == 0) {
		window(s, wsi, h);
	} else if (strcmp(p, "reject_next") == 0 || strcmp(p, "partial_next") == 0 ||
		   strcmp(p, "delay_ack") == 0) {
		private_fault(s, wsi, h, p);
	} else {
		fail(h, 404, "not found");
	}
}

static int respond(struct lws *wsi, struct sim_http *h)
{
	unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
					  *end = hdr + sizeof(hdr) - 1;
	if (h->body.oom)
		fail(h, 500, "out of memory");
	if (lws_add_http_common_headers(wsi, (unsigned)h->status, "application/json", h->body.len,
					&p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	h->started = true;
	lws_callback_on_writable(wsi);
	return 0;
}

int sim__http_callback(struct lws *wsi, enum lws_callback_reasons reason, struct sim_pss *pss,
		       void *in, size_t len)
{
	struct sim *s = lws_context_user(lws_get_context(wsi));
	struct sim_http *h = &pss->http;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
		memset(h, 0, sizeof(*h));
		sim__buf_init(&h->body, LWS_PRE);
		snprintf(h->path, sizeof(h->path), "%s", in ? (const char *)in : "");
		if (post && lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
			h->post_wait = true;
			return 0;
		}
		handle(s, wsi, h, post);
		return respond(wsi, h);
	}
	case LWS_CALLBACK_HTTP_BODY:
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!h->post_wait)
			return 0;
		h->post_wait = false;
		handle(s, wsi, h, true);
		return respond(wsi, h);
	case LWS_CALLBACK_HTTP_WRITEABLE: {
		if (!h->started)
			return 0;
		h->started = false;
		if (!h->body.mem)
			sim__buf_add(&h->body, "", 0);
		int n = lws_write(wsi, (unsigned char *)sim__buf_text(&h->body), h->body.len,
				  LWS_WRITE_HTTP_FINAL);
		sim__buf_release(&h->body);
		if (n < 0)
			return -1;
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	}
	case LWS_CALLBACK_CLOSED_HTTP:
		sim__buf_release(&h->body);
		return 0;
	default:
		return 0;
	}
}

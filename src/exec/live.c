/* The live venue's execution-thread side: the venue ops, which only check,
 * queue commands to the transport thread (live_ws.c) and drain its reports;
 * and the lifecycle. query() and the first balances() ask REST directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "exec/live_int.h"

#define RING_CAP 1024

void live_opts_from_config(const struct config *cfg, struct live_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ws_auth_url = cfg->kraken.ws_auth_url;
	o->deadman_timeout_s = cfg->risk.deadman_timeout_s;
	o->ping_interval_ms = cfg->kraken.ws_ping_interval_ms;
	o->heartbeat_timeout_ms = cfg->kraken.ws_heartbeat_timeout_ms;
	o->reconnect_min_ms = cfg->kraken.ws_reconnect_min_ms;
	o->reconnect_max_ms = cfg->kraken.ws_reconnect_max_ms;
	o->inline_transport = cfg->arb.busy_poll;
}

/* FNV-1a, never 0 (0 marks a free slot in seen_h). */
static uint64_t clid_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h | 1;
}

/* The hashes sit in their own array: a scan reads 8 bytes per order, in
 * order, instead of a cache line each (orders_max is 1024). */
static struct live_seen *seen_find(struct live *l, const char *clid)
{
	uint64_t h = clid_hash(clid);
	for (size_t k = 0; k < l->o.orders_max; k++)
		if (l->seen_h[k] == h && strcmp(l->seen[k].cl_ord_id, clid) == 0)
			return &l->seen[k];
	return NULL;
}

/* Takes the ring's next slot for clid. */
static void seen_put(struct live *l, const char *clid)
{
	struct live_seen *s = &l->seen[l->seen_next];
	memset(s, 0, sizeof(*s));
	live__copy(s->cl_ord_id, sizeof(s->cl_ord_id), clid);
	s->used = true;
	l->seen_h[l->seen_next] = clid_hash(s->cl_ord_id);
	l->seen_next = (l->seen_next + 1) % l->o.orders_max;
}

/* Kraken's free-text cl_ord_id: at most 18 of letters, digits and '-'. */
static bool clid_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > VENUE_CLID_KRAKEN_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static int push_cmd(struct live *l, const struct live_cmd *c)
{
	if (ring_spsc_push(l->cmd, c) != 0)
		return ERR_FULL;
	if (l->o.inline_transport)
		live__pump(l);
	else
		kr_ws_wake(l->ws);
	return 0;
}

static bool may_send(struct live *l)
{
	return atomic_load(&l->ready) || !l->o.no_rest_fallback;
}

static bool fields_ok(const struct venue_order *o)
{
	return clid_ok(o->cl_ord_id) && o->qty > 0 && o->symbol[0] &&
	       (o->type != VENUE_LIMIT || o->limit_price > 0) && o->price_scale >= 0 &&
	       o->price_scale <= 18 && o->qty_scale >= 0 && o->qty_scale <= 18;
}

static int op_place_batch(void *ctx, const struct venue_order *o, size_t n)
{
	struct live *l = ctx;

	if (!o || n < 2 || n > KR_PRIV_BATCH_MAX)
		return ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		if (!fields_ok(&o[i]) || strcmp(o[i].symbol, o[0].symbol) != 0 ||
		    seen_find(l, o[i].cl_ord_id))
			return ERR_INVALID;
		for (size_t j = 0; j < i; j++)
			if (strcmp(o[i].cl_ord_id, o[j].cl_ord_id) == 0)
				return ERR_INVALID;
		const struct live_seen *s = &l->seen[(l->seen_next + i) % l->o.orders_max];
		if (s->used && !s->final)
			return ERR_FULL;
	}
	if (!may_send(l))
		return ERR_BADSTATE;
	/* The transport stages the parts and sends at the end: a push that
	 * fails part-way leaves parts it drops, unsent, at the next order. */
	for (size_t i = 0; i < n; i++) {
		struct live_cmd c = {.kind = LIVE_CMD_PLACE,
				     .batch_part = i + 1 < n,
				     .batch_end = i + 1 == n,
				     .o = o[i]};
		int rc = push_cmd(l, &c);
		if (rc != 0)
			return rc;
	}
	for (size_t i = 0; i < n; i++)
		seen_put(l, o[i].cl_ord_id);
	return 0;
}

static int op_place(void *ctx, const struct venue_order *o)
{
	struct live *l = ctx;
	struct live_cmd c = {.kind = LIVE_CMD_PLACE, .o = *o};

	if (!fields_ok(o))
		return ERR_INVALID;
	if (seen_find(l, o->cl_ord_id))
		return ERR_INVALID;
	if (!may_send(l))
		return ERR_BADSTATE;
	struct live_seen *s = &l->seen[l->seen_next];
	if (s->used && !s->final)
		return ERR_FULL; /* the oldest slot still holds a live order */
	int rc = push_cmd(l, &c);
	if (rc != 0)
		return rc;
	seen_put(l, o->cl_ord_id);
	return 0;
}

static int op_cancel(void *ctx, const char *cl_ord_id)
{
	struct live *l = ctx;
	struct live_seen *s = seen_find(l, cl_ord_id);
	struct live_cmd c = {.kind = LIVE_CMD_CANCEL};

	if (!s || s->final)
		return ERR_NOTFOUND;
	if (!may_send(l))
		return ERR_BADSTATE;
	live__copy(c.o.cl_ord_id, sizeof(c.o.cl_ord_id), cl_ord_id);
	return push_cmd(l, &c);
}

static int op_cancel_all(void *ctx)
{
	struct live *l = ctx;
	struct live_cmd c = {.kind = LIVE_CMD_CANCEL_ALL};
	if (!may_send(l))
		return ERR_BADSTATE;
	return push_cmd(l, &c);
}

/* An order still open that this venue did not place (it was placed before a
 * restart): from now on it is followed and can be cancelled like any other. */
static void adopt(struct live *l, const struct venue_report *r)
{
	struct live_cmd c = {.kind = LIVE_CMD_ADOPT, .r = *r};
	struct live_seen *s = &l->seen[l->seen_next];

	if (s->used && !s->final)
		return;
	if (push_cmd(l, &c) != 0)
		return;
	seen_put(l, r->cl_ord_id);
}

static int op_query(void *ctx, const char *cl_ord_id, struct venue_report *out)
{
	struct live *l = ctx;
	struct kr_rest_order_filter f = {.cl_ord_id = cl_ord_id};
	struct kr_rest_order ro;
	struct err_info info = {0};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = kr_rest_reconcile(l->o.rest, &f, &ro, &info);
	atomic_fetch_add(&l->st_reconciles, 1);
	if (rc < 0) {
		LOG_WARN("live", "order query failed", "cl_ord_id=%s err=%s", cl_ord_id,
			 LIVE_Q(info.msg));
		return rc == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_NET;
	}
	if (rc == 0)
		return ERR_NOTFOUND;
	const struct kr_pair *p = live__pair(l->pairs, l->n_pairs, ro.pair);
	live__copy(out->cl_ord_id, sizeof(out->cl_ord_id), cl_ord_id);
	out->qty_scale = -1;
	if (p) {
		live__copy(out->symbol, sizeof(out->symbol), p->symbol);
		live__copy(out->fee_asset, sizeof(out->fee_asset), p->quote);
		out->price_scale = p->price_precision;
		out->qty_scale = p->qty_precision;
		out->fee_scale = live__fee_scale(p->price_precision, p->qty_precision);
	} else {
		live__copy(out->symbol, sizeof(out->symbol), ro.pair);
	}
	out->side = strcmp(ro.side, "sell") == 0 ? VENUE_SELL : VENUE_BUY;
	live__from_rest(out, &ro, clock_mono_ns());
	if (!venue_status_final(out->status) && p && !seen_find(l, cl_ord_id))
		adopt(l, out);
	return 0;
}

/* Takes the balances the transport queued into the table. */
static void drain_balances(struct live *l)
{
	struct live_bal b;

	while (ring_spsc_pop(l->bals, &b) == 0) {
		size_t k = 0;
		while (k < l->n_bal && strcmp(l->bal[k].asset, b.b.asset) != 0)
			k++;
		if (k == l->n_bal && l->n_bal < LIVE_MAX_BAL)
			l->n_bal++;
		if (k < l->n_bal)
			l->bal[k] = b.b;
		l->have_bal = true;
	}
}

static int op_balances(void *ctx, struct venue_balance *out, size_t cap, size_t *n)
{
	struct live *l = ctx;

	drain_balances(l);
	if (!l->have_bal) {
		/* Before the balances channel said anything: ask REST once. */
		struct kr_rest_balances *rb = calloc(1, sizeof(*rb));
		struct err_info info = {0};
		int rc = rb ? kr_rest_balance(l->o.rest, rb, &info) : ERR_NOMEM;
		if (rc != 0) {
			free(rb);
			*n = 0;
			return rc;
		}
		for (size_t k = 0; k < rb->n && l->n_bal < LIVE_MAX_BAL; k++) {
			struct venue_balance *v = &l->bal[l->n_bal++];
			live__copy(v->asset, sizeof(v->asset), rb->v[k].asset);
			v->scale = rb->v[k].balance.scale;
			v->amount = rb->v[k].balance.v;
		}
		free(rb);
		l->have_bal = true;
	}
	*n = 0;
	for (size_t k = 0; k < l->n_bal && *n < cap; k++)
		out[(*n)++] = l->bal[k];
	return 0;
}

static int op_poll(void *ctx, uint64_t now_ns, venue_report_fn fn, void *arg)
{
	struct live *l = ctx;
	struct venue_report r;
	int n = 0;

	atomic_store(&l->last_poll_ns, clock_mono_ns());
	(void)now_ns;
	if (l->o.inline_transport)
		live__pump(l);
	drain_balances(l);
	while (ring_spsc_pop(l->reports, &r) == 0) {
		struct live_seen *s = seen_find(l, r.cl_ord_id);
		if (s && venue_status_final(r.status))
			s->final = true;
		fn(arg, &r);
		n++;
	}
	return n;
}

static void op_destroy(void *ctx)
{
	struct live *l = ctx;
	if (!l)
		return;
	if (l->started) {
		atomic_store(&l->stop, true);
		kr_ws_wake(l->ws);
		pthread_join(l->th, NULL);
	}
	kr_ws_free(l->ws);
	kr_priv_decoder_free(l->dec);
	ring_spsc_free(l->cmd);
	ring_spsc_free(l->reports);
	ring_spsc_free(l->bals);
	free(l->orders);
	free(l->seen);
	free(l->seen_h);
	free(l->bal);
	free(l->pairs);
	/* The token is a credential. */
	memset(l->token, 0, sizeof(l->token));
	free(l);
}

static void op_warm(void *ctx)
{
	struct live *l = ctx;
	struct venue_order o = {.cl_ord_id = "arwarm-00", .qty = 1};
	/* place()'s checks: the id, the table of ids placed (scanned in full:
	 * a new id is never there), then the transport's part when it runs on
	 * this thread. */
	(void)clid_ok(o.cl_ord_id);
	(void)seen_find(l, o.cl_ord_id);
	if (l->o.inline_transport)
		live__warm(l);
}

static const struct venue_ops live_ops = {
    .name = "live",
    .place = op_place,
    .place_batch = op_place_batch,
    .cancel = op_cancel,
    .cancel_all = op_cancel_all,
    .query = op_query,
    .balances = op_balances,
    .poll = op_poll,
    .warm = op_warm,
    .destroy = op_destroy,
};

int live_venue_new(const struct live_opts *o, struct venue *out, struct err_info *info)
{
	struct live *l;
	int rc;

	if (!o || !out || !o->rest || !o->ws_auth_url)
		return err_set(info, ERR_INVALID,
			       "live venue: ws_auth_url and a REST client needed");
	l = calloc(1, sizeof(*l));
	if (!l)
		return err_set(info, ERR_NOMEM, "live venue: out of memory");
	l->o = *o;
	if (!l->o.orders_max)
		l->o.orders_max = 1024;
	if (!l->o.ack_timeout_ms)
		l->o.ack_timeout_ms = 10000;
	if (o->n_pairs) {
		l->pairs = calloc(o->n_pairs, sizeof(*l->pairs));
		if (!l->pairs)
			goto nomem;
		memcpy(l->pairs, o->pairs, o->n_pairs * sizeof(*l->pairs));
		l->n_pairs = o->n_pairs;
	}
	hist_init(&l->wire);
	hist_pub_init(&l->wire_pub);
	l->cmd = ring_spsc_new(sizeof(struct live_cmd), RING_CAP);
	l->reports = ring_spsc_new(sizeof(struct venue_report), RING_CAP);
	l->bals = ring_spsc_new(sizeof(struct live_bal), RING_CAP);
	l->orders = calloc(l->o.orders_max, sizeof(*l->orders));
	l->seen = calloc(l->o.orders_max, sizeof(*l->seen));
	l->seen_h = calloc(l->o.orders_max, sizeof(*l->seen_h));
	l->bal = calloc(LIVE_MAX_BAL, sizeof(*l->bal));
	l->dec = kr_priv_decoder_new(0, 0);
	if (!l->cmd || !l->reports || !l->bals || !l->orders || !l->seen || !l->seen_h || !l->bal ||
	    !l->dec)
		goto nomem;
	l->o.ws_auth_url = o->ws_auth_url; /* borrowed for live__ws_new only */
	rc = live__ws_new(l, info);
	l->o.ws_auth_url = NULL;
	if (rc != 0)
		goto fail;
	atomic_store(&l->last_poll_ns, clock_mono_ns());
	if (!l->o.inline_transport) {
		if ((rc = pthread_create(&l->th, NULL, live__thread, l)) != 0) {
			rc = err_set(info, -rc, "live venue: cannot start the transport thread");
			goto fail;
		}
		pthread_setname_np(l->th, "arb-live");
		l->started = true;
	}
	out->ops = &live_ops;
	out->ctx = l;
	return 0;
nomem:
	rc = err_set(info, ERR_NOMEM, "live venue: out of memory");
fail:
	op_destroy(l);
	return rc;
}

const struct hist_pub *live_wire_hist(void *ctx)
{
	return &((struct live *)ctx)->wire_pub;
}

void live_stats(void *ctx, struct live_stats *out)
{
	struct live *l = ctx;
	out->connected = atomic_load(&l->connected);
	out->ready = atomic_load(&l->ready);
	out->opens = atomic_load(&l->st_opens);
	out->closes = atomic_load(&l->st_closes);
	out->tokens = atomic_load(&l->st_tokens);
	out->token_errors = atomic_load(&l->st_token_errors);
	out->ws_orders = atomic_load(&l->st_ws_orders);
	out->rest_orders = atomic_load(&l->st_rest_orders);
	out->rejects = atomic_load(&l->st_rejects);
	out->reports = atomic_load(&l->st_reports);
	out->ring_waits = atomic_load(&l->st_ring_waits);
	out->parse_errors = atomic_load(&l->st_parse_errors);
	out->stray = atomic_load(&l->st_stray);
	out->deadman_refreshes = atomic_load(&l->st_deadman);
	out->reconciles = atomic_load(&l->st_reconciles);
	out->unknown = atomic_load(&l->st_unknown);
}

bool live_ready(void *ctx)
{
	return atomic_load(&((struct live *)ctx)->ready);
}

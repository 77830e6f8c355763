/* The live venue's transport thread: the private WS v2 session (token,
 * subscriptions, add_order / cancel_order / cancel_all, the dead man's
 * switch), the REST fallback while the socket is down, and reconciliation
 * of orders whose state the stream cannot vouch for. It owns the order
 * table; the execution thread sees only the reports it queues. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "exec/live_int.h"

#define NS_MS		  1000000ull
#define NS_S		  1000000000ull
#define RETRY_NS	  (2 * NS_S)	/* token / subscribe retry */
#define CHECK_NS	  (200 * NS_MS) /* between REST look-up rounds */
#define CHECK_RETRY_NS	  NS_S		/* after a failed look-up */
#define TOKEN_REFRESH_PCT 80		/* refetch at this share of the token's life */
/* Every order carries a deadline (Kraken's default is 5 s): once it has
 * passed, with a margin for clocks, an order REST cannot find was never
 * placed and never will be. Before that, "not found" may only mean "not
 * yet". */
#define DEADLINE_NS	   (5 * NS_S)
#define DEADLINE_MARGIN_NS (2 * NS_S)

/* ---- The order table ---- */

static struct live_order *by_clid(struct live *l, const char *clid)
{
	for (size_t k = 0; k < l->o.orders_max; k++)
		if (l->orders[k].used && strcmp(l->orders[k].o.cl_ord_id, clid) == 0)
			return &l->orders[k];
	return NULL;
}

static struct live_order *by_order_id(struct live *l, const char *oid)
{
	for (size_t k = 0; k < l->o.orders_max; k++)
		if (l->orders[k].used && strcmp(l->orders[k].r.order_id, oid) == 0)
			return &l->orders[k];
	return NULL;
}

static struct live_order *by_req(struct live *l, uint64_t req_id)
{
	for (size_t k = 0; k < l->o.orders_max; k++)
		if (l->orders[k].used && l->orders[k].req_id == req_id)
			return &l->orders[k];
	return NULL;
}

/* A free slot, or the final order heard of longest ago. */
static bool reusable(const struct live_order *x)
{
	return !x->used || (venue_status_final(x->r.status) && !x->dirty);
}

/* Slots are taken round the table, so the one at the cursor is the oldest
 * placement and almost always free or final: no scan of the whole table
 * on the way to the wire. An order still live there is stepped over. */
static struct live_order *slot(struct live *l)
{
	for (size_t i = 0; i < l->o.orders_max; i++) {
		size_t k = (l->slot_next + i) % l->o.orders_max;
		if (reusable(&l->orders[k])) {
			l->slot_next = (k + 1) % l->o.orders_max;
			return &l->orders[k];
		}
	}
	return NULL;
}

/* Queues x's state for the execution thread, in order; a full ring marks it
 * to be sent later rather than losing it. */
static void emit(struct live *l, struct live_order *x)
{
	if (!l->any_dirty && ring_spsc_push(l->reports, &x->r) == 0) {
		atomic_fetch_add(&l->st_reports, 1);
		return;
	}
	if (!x->dirty)
		atomic_fetch_add(&l->st_ring_waits, 1);
	x->dirty = true;
	l->any_dirty = true;
}

static void flush(struct live *l)
{
	if (!l->any_dirty)
		return;
	l->any_dirty = false;
	for (size_t k = 0; k < l->o.orders_max; k++) {
		struct live_order *x = &l->orders[k];
		if (!x->dirty)
			continue;
		if (ring_spsc_push(l->reports, &x->r) != 0) {
			l->any_dirty = true;
			return;
		}
		x->dirty = false;
		atomic_fetch_add(&l->st_reports, 1);
	}
}

static void reject(struct live *l, struct live_order *x, const char *why)
{
	x->r.status = VENUE_ST_REJECTED;
	live__copy(x->r.reason, sizeof(x->r.reason), why);
	x->r.ts_ns = clock_mono_ns();
	x->check = false;
	x->req_id = 0;
	atomic_fetch_add(&l->st_rejects, 1);
	emit(l, x);
}

/* ---- Sending ---- */

static uint64_t req_id(struct live *l)
{
	return ++l->next_req_id;
}

static bool ready(struct live *l)
{
	return atomic_load(&l->ready);
}

static int send_text(struct live *l, const char *buf, int n)
{
	if (n < 0)
		return n;
	return kr_ws_send(l->ws, buf, (size_t)n);
}

#define WIRE_PUBLISH_NS (100ull * 1000000ull)

/* An add_order that started a cycle reached the socket. */
static void on_sent(void *ctx, uint64_t origin_ns, uint64_t sent_ns)
{
	struct live *l = ctx;
	hist_record(&l->wire, sent_ns > origin_ns ? sent_ns - origin_ns : 0);
}

static void place_rest(struct live *l, struct live_order *x)
{
	const struct venue_order *o = &x->o;
	struct kr_rest_order_req q = {
	    .pair = o->symbol,
	    .side = o->side == VENUE_BUY ? "buy" : "sell",
	    .ordertype = o->type == VENUE_LIMIT ? "limit" : "market",
	    .volume = {o->qty, o->qty_scale},
	    .has_price = o->type == VENUE_LIMIT,
	    .price = {o->limit_price, o->price_scale},
	    .timeinforce = o->tif == VENUE_IOC ? "IOC" : "GTC",
	    .oflags = "fciq",
	    .cl_ord_id = o->cl_ord_id,
	};
	struct kr_rest_add_result res;
	struct err_info info = {0};
	char dl[40];

	if (l->o.no_rest_fallback) {
		reject(l, x, "not sent: the private WebSocket is down");
		return;
	}
	x->deadline_ns = clock_wall_ns() + (int64_t)DEADLINE_NS;
	if (clock_fmt_rfc3339(x->deadline_ns, 3, dl, sizeof(dl)) > 0)
		q.deadline = dl;
	atomic_fetch_add(&l->st_rest_orders, 1);
	int rc = kr_rest_add_order(l->o.rest, &q, &res, &info);
	x->via_rest = true;
	x->last_ns = clock_mono_ns();
	if (rc == 0) {
		live__copy(x->r.order_id, sizeof(x->r.order_id), res.n_txid ? res.txid[0] : "");
		x->acked = true;
		/* Its fate comes from REST until the stream is back. */
		x->check = true;
		x->check_after_ns = x->last_ns;
		emit(l, x);
		return;
	}
	if (rc == ERR_UNKNOWN) {
		LOG_WARN("live", "AddOrder outcome unknown: reconciling, never re-sent",
			 "cl_ord_id=%s err=%s", o->cl_ord_id, LIVE_Q(info.msg));
		x->r.status = VENUE_ST_UNKNOWN;
		x->check = true;
		x->check_after_ns = x->last_ns + CHECK_RETRY_NS;
		atomic_fetch_add(&l->st_unknown, 1);
		emit(l, x);
		return;
	}
	LOG_WARN("live", "AddOrder refused", "cl_ord_id=%s err=%s", o->cl_ord_id, LIVE_Q(info.msg));
	reject(l, x, info.msg[0] ? info.msg : err_str(rc));
}

/* A slot for o, filled in (state PENDING); NULL when the table is full
 * (the refusal is reported). */
static struct live_order *order_init(struct live *l, const struct venue_order *o)
{
	struct live_order *x = slot(l);

	if (!x) {
		/* The execution thread's table mirrors this one, so this is a
		 * programmer error; refuse rather than forget a live order. */
		LOG_ERROR("live", "order table full: order refused", "cl_ord_id=%s", o->cl_ord_id);
		struct venue_report r = {.status = VENUE_ST_REJECTED};
		live__copy(r.cl_ord_id, sizeof(r.cl_ord_id), o->cl_ord_id);
		snprintf(r.reason, sizeof(r.reason), "not sent: order table full");
		ring_spsc_push(l->reports, &r);
		return NULL;
	}
	memset(x, 0, sizeof(*x));
	x->used = true;
	x->o = *o;
	struct venue_report *r = &x->r;
	live__copy(r->cl_ord_id, sizeof(r->cl_ord_id), o->cl_ord_id);
	live__copy(r->symbol, sizeof(r->symbol), o->symbol);
	/* The order names its instrument id: no search through Kraken's
	 * hundreds of pairs on the way to the wire (checked, and looked up by
	 * name when the ids do not match). */
	const struct kr_pair *p =
	    o->pair_id < l->n_pairs && strcmp(l->pairs[o->pair_id].symbol, o->symbol) == 0
		? &l->pairs[o->pair_id]
		: live__pair(l->pairs, l->n_pairs, o->symbol);
	if (p)
		live__copy(r->fee_asset, sizeof(r->fee_asset), p->quote);
	r->status = VENUE_ST_PENDING;
	r->side = o->side;
	r->price_scale = o->price_scale;
	r->qty_scale = o->qty_scale;
	r->fee_scale = live__fee_scale(o->price_scale, o->qty_scale);
	r->qty = o->qty;
	x->last_ns = clock_mono_ns();
	return x;
}

static struct kr_priv_order wire_order(const struct venue_order *o)
{
	return (struct kr_priv_order){.symbol = o->symbol,
				      .buy = o->side == VENUE_BUY,
				      .market = o->type == VENUE_MARKET,
				      .ioc = o->tif == VENUE_IOC,
				      .qty = o->qty,
				      .qty_scale = o->qty_scale,
				      .limit_price = o->limit_price,
				      .price_scale = o->price_scale,
				      .cl_ord_id = o->cl_ord_id,
				      .fee_preference = "quote",
				      .deadline_ns = clock_wall_ns() + (int64_t)DEADLINE_NS};
}

/* 2..15 orders of one symbol in one batch_add; over REST one by one while
 * the connection is not ready (or the request cannot go). */
static void do_place_batch(struct live *l, const struct venue_order *o, size_t n)
{
	struct live_order *x[KR_PRIV_BATCH_MAX];
	struct kr_priv_order k[KR_PRIV_BATCH_MAX];
	char buf[KR_WS_TX_MAX];
	size_t m = 0;

	for (size_t i = 0; i < n && i < KR_PRIV_BATCH_MAX; i++) {
		struct live_order *y = order_init(l, &o[i]);
		if (!y)
			continue;
		x[m] = y;
		k[m++] = wire_order(&o[i]);
	}
	uint64_t rid = req_id(l);
	int len = m >= 2 && ready(l)
		      ? kr_priv_encode_batch_add(buf, sizeof(buf), k, m, l->token, rid)
		      : ERR_BADSTATE;
	if (len > 0 && kr_ws_send_now(l->ws, buf, (size_t)len, 0) == 0) {
		for (size_t i = 0; i < m; i++) {
			x[i]->req_id = rid;
			x[i]->deadline_ns = k[i].deadline_ns;
		}
		atomic_fetch_add(&l->st_ws_orders, m);
		return;
	}
	if (len == ERR_INVALID)
		for (size_t i = 0; i < m; i++)
			reject(l, x[i], "not sent: the batch cannot be encoded");
	else
		for (size_t i = 0; i < m; i++)
			place_rest(l, x[i]);
}

static void do_place(struct live *l, const struct venue_order *o)
{
	struct live_order *x = order_init(l, o);
	char buf[KR_WS_TX_MAX];

	if (!x)
		return;
	if (!ready(l)) {
		place_rest(l, x);
		return;
	}
	struct kr_priv_order k = wire_order(o);
	x->deadline_ns = k.deadline_ns;
	x->req_id = req_id(l);
	int n = kr_priv_encode_add_order(buf, sizeof(buf), &k, l->token, x->req_id);
	if (n < 0) {
		reject(l, x, "not sent: the order cannot be encoded");
		return;
	}
	if (kr_ws_send_now(l->ws, buf, (size_t)n, o->origin_ns) != 0) {
		x->req_id = 0;
		place_rest(l, x);
		return;
	}
	atomic_fetch_add(&l->st_ws_orders, 1);
}

static void do_cancel(struct live *l, const char *clid)
{
	struct live_order *x = by_clid(l, clid);
	char buf[512];
	struct err_info info = {0};

	if (!x || venue_status_final(x->r.status))
		return;
	if (ready(l) && send_text(l, buf,
				  kr_priv_encode_cancel_order(buf, sizeof(buf), NULL, clid,
							      l->token, req_id(l))) == 0)
		return;
	if (l->o.no_rest_fallback)
		return;
	if (kr_rest_cancel_order(l->o.rest, NULL, clid, NULL, NULL, &info) != 0)
		LOG_WARN("live", "CancelOrder failed", "cl_ord_id=%s err=%s", clid,
			 LIVE_Q(info.msg));
	x->check = true;
	x->check_after_ns = clock_mono_ns();
}

static void do_cancel_all(struct live *l)
{
	char buf[512];
	struct err_info info = {0};
	int64_t n = 0;

	if (ready(l) &&
	    send_text(l, buf, kr_priv_encode_cancel_all(buf, sizeof(buf), l->token, req_id(l))) ==
		0)
		return;
	if (l->o.no_rest_fallback)
		return;
	if (kr_rest_cancel_all(l->o.rest, &n, &info) != 0)
		LOG_WARN("live", "CancelAll failed", "err=%s", LIVE_Q(info.msg));
	else
		LOG_INFO("live", "CancelAll over REST", "count=%lld", (long long)n);
	for (size_t k = 0; k < l->o.orders_max; k++)
		if (l->orders[k].used && !venue_status_final(l->orders[k].r.status)) {
			l->orders[k].check = true;
			l->orders[k].check_after_ns = clock_mono_ns();
		}
}

static void do_adopt(struct live *l, const struct venue_report *r)
{
	struct live_order *x = by_clid(l, r->cl_ord_id);

	if (x)
		return;
	if (!(x = slot(l))) {
		LOG_ERROR("live", "order table full: open order not followed", "cl_ord_id=%s",
			  r->cl_ord_id);
		return;
	}
	memset(x, 0, sizeof(*x));
	x->used = true;
	x->r = *r;
	live__copy(x->o.cl_ord_id, sizeof(x->o.cl_ord_id), r->cl_ord_id);
	live__copy(x->o.symbol, sizeof(x->o.symbol), r->symbol);
	x->o.side = r->side;
	x->o.price_scale = r->price_scale;
	x->o.qty_scale = r->qty_scale;
	x->o.qty = r->qty;
	x->acked = true;
	x->last_ns = clock_mono_ns();
	/* Nothing about it may come on the stream before the next snapshot. */
	x->check = !ready(l);
	x->check_after_ns = x->last_ns + CHECK_RETRY_NS;
}

static void commands(struct live *l)
{
	struct live_cmd c;
	while (ring_spsc_pop(l->cmd, &c) == 0) {
		switch (c.kind) {
		case LIVE_CMD_PLACE:
			if (c.batch_part || c.batch_end) {
				if (l->n_stage < KR_PRIV_BATCH_MAX)
					l->stage[l->n_stage++] = c.o;
				if (c.batch_end) {
					do_place_batch(l, l->stage, l->n_stage);
					l->n_stage = 0;
				}
				break;
			}
			if (l->n_stage) {
				LOG_WARN("live", "a batch's parts dropped, never sent",
					 "orders=%zu", l->n_stage);
				l->n_stage = 0;
			}
			do_place(l, &c.o);
			break;
		case LIVE_CMD_CANCEL:
			do_cancel(l, c.o.cl_ord_id);
			break;
		case LIVE_CMD_CANCEL_ALL:
			do_cancel_all(l);
			break;
		case LIVE_CMD_ADOPT:
			do_adopt(l, &c.r);
			break;
		}
	}
}

/* ---- Receiving ---- */

/* batch_add's reply: one result per order, in request order, naming its
 * cl_ord_id; a refused batch refuses every order in it. */
static void on_batch_reply(struct live *l, const struct kr_priv_reply *r)
{
	size_t hit = 0;
	for (size_t k = 0; r->has_req_id && k < l->o.orders_max; k++) {
		struct live_order *x = &l->orders[k];
		if (!x->used || x->req_id != r->req_id)
			continue;
		hit++;
		x->acked = true;
		x->last_ns = clock_mono_ns();
		if (!r->success) {
			reject(l, x, r->error);
			continue;
		}
		x->req_id = 0;
		for (size_t i = 0; i < r->n_results; i++)
			if (strcmp(r->results[i].cl_ord_id, x->o.cl_ord_id) == 0 &&
			    r->results[i].order_id[0] && !x->r.order_id[0]) {
				live__copy(x->r.order_id, sizeof(x->r.order_id),
					   r->results[i].order_id);
				emit(l, x);
			}
	}
	if (!hit)
		atomic_fetch_add(&l->st_stray, 1);
	else if (!r->success)
		LOG_INFO("live", "batch_add rejected", "orders=%zu error=%s", hit,
			 LIVE_Q(r->error));
}

static void on_reply(struct live *l, const struct kr_priv_reply *r)
{
	if (strcmp(r->method, "batch_add") == 0) {
		on_batch_reply(l, r);
		return;
	}
	if (strcmp(r->method, "add_order") == 0) {
		struct live_order *x = r->has_req_id ? by_req(l, r->req_id) : NULL;
		if (!x) {
			atomic_fetch_add(&l->st_stray, 1);
			return;
		}
		x->acked = true;
		x->last_ns = clock_mono_ns();
		if (!r->success) {
			LOG_INFO("live", "add_order rejected", "cl_ord_id=%s error=%s",
				 x->o.cl_ord_id, LIVE_Q(r->error));
			reject(l, x, r->error);
			return;
		}
		x->req_id = 0;
		if (r->n_results && r->results[0].order_id[0] && !x->r.order_id[0]) {
			live__copy(x->r.order_id, sizeof(x->r.order_id), r->results[0].order_id);
			emit(l, x);
		}
		return;
	}
	if (r->success)
		return;
	if (strcmp(r->method, "subscribe") == 0) {
		/* Most likely the token: fetch a new one and subscribe again. */
		LOG_WARN("live", "private subscribe refused", "error=%s", LIVE_Q(r->error));
		l->subscribed = false;
		l->token_ns = 0;
		l->next_sub_ns = clock_mono_ns() + RETRY_NS;
	} else if (strcmp(r->method, "cancel_all_orders_after") == 0) {
		LOG_ERROR("live", "dead man's switch refused", "error=%s", LIVE_Q(r->error));
	} else {
		LOG_INFO("live", "request refused", "method=%s error=%s", r->method,
			 LIVE_Q(r->error));
	}
}

static void on_executions(struct live *l, const struct kr_priv_msg *m)
{
	uint64_t now = clock_mono_ns();

	if (m->snapshot)
		l->snap_gen++;
	for (size_t k = 0; k < m->n; k++) {
		const struct kr_priv_exec *e = &m->exec[k];
		struct live_order *x = e->cl_ord_id[0] ? by_clid(l, e->cl_ord_id) : NULL;
		if (!x)
			x = by_order_id(l, e->order_id);
		if (!x) {
			atomic_fetch_add(&l->st_stray, 1);
			continue;
		}
		x->acked = true;
		x->last_ns = now;
		if (m->snapshot)
			x->snap_gen = l->snap_gen;
		if (live__apply_exec(&x->r, e, now))
			emit(l, x);
		if (ready(l) || m->snapshot)
			x->check = x->r.status == VENUE_ST_UNKNOWN;
	}
	if (!m->snapshot)
		return;
	/* What the snapshot does not list is not open: ask REST what became of
	 * every order we held as live. */
	for (size_t k = 0; k < l->o.orders_max; k++) {
		struct live_order *x = &l->orders[k];
		if (x->used && !venue_status_final(x->r.status) && x->snap_gen != l->snap_gen) {
			x->check = true;
			x->check_after_ns = now;
		}
	}
	if (!atomic_load(&l->ready))
		LOG_INFO("live", "private stream ready", "open_orders=%zu", m->n);
	atomic_store(&l->ready, true);
}

static void on_balances(struct live *l, const struct kr_priv_msg *m)
{
	for (size_t k = 0; k < m->n; k++) {
		struct live_bal b = {0};
		live__copy(b.b.asset, sizeof(b.b.asset), m->bal[k].asset);
		b.b.scale = m->bal[k].balance.scale;
		b.b.amount = m->bal[k].balance.v;
		/* Balances are absolute: with the ring full the next one says it. */
		(void)ring_spsc_push(l->bals, &b);
	}
}

static void on_frame(void *ctx, const char *frame, size_t len, uint64_t recv_ns)
{
	struct live *l = ctx;
	struct kr_priv_msg m;
	struct err_info info = {0};
	int rc = kr_priv_decode(l->dec, frame, len, &m, &info);
	(void)recv_ns;

	if (rc != 0 && rc != ERR_FULL) {
		atomic_fetch_add(&l->st_parse_errors, 1);
		LOG_WARN("live", "private frame rejected", "err=%s", LIVE_Q(info.msg));
		return;
	}
	switch (m.kind) {
	case KR_PRIV_REPLY:
		on_reply(l, &m.reply);
		break;
	case KR_PRIV_EXECUTIONS:
		on_executions(l, &m);
		break;
	case KR_PRIV_BALANCES:
		on_balances(l, &m);
		break;
	case KR_PRIV_STATUS:
		kr_ws_set_slow(l->ws, m.system != KR_SYSTEM_ONLINE);
		break;
	default:
		break;
	}
}

static void on_open(void *ctx, uint64_t now_ns)
{
	struct live *l = ctx;
	atomic_store(&l->connected, true);
	atomic_fetch_add(&l->st_opens, 1);
	l->subscribed = false;
	l->token_ns = 0; /* a fresh token per connection */
	l->next_sub_ns = now_ns;
}

static void on_close(void *ctx, uint64_t now_ns)
{
	struct live *l = ctx;
	(void)now_ns;
	atomic_store(&l->connected, false);
	atomic_store(&l->ready, false);
	atomic_fetch_add(&l->st_closes, 1);
	l->subscribed = false;
	/* Orders in flight are unknown until the next snapshot (or REST) says
	 * what they are; replies to requests on the old socket will not come. */
	for (size_t k = 0; k < l->o.orders_max; k++)
		l->orders[k].req_id = 0;
}

/* ---- Timers ---- */

static int fetch_token(struct live *l, uint64_t now)
{
	struct err_info info = {0};
	uint32_t expires = 0;
	int rc = kr_rest_ws_token(l->o.rest, l->token, sizeof(l->token), &expires, &info);
	if (rc != 0) {
		atomic_fetch_add(&l->st_token_errors, 1);
		LOG_WARN("live", "GetWebSocketsToken failed", "err=%s", LIVE_Q(info.msg));
		return rc;
	}
	atomic_fetch_add(&l->st_tokens, 1);
	l->token_ns = now;
	l->token_ttl_ns = (uint64_t)(expires ? expires : 900) * NS_S;
	return 0;
}

static void subscribe(struct live *l, uint64_t now)
{
	char buf[512];

	if (l->token_ns == 0 && fetch_token(l, now) != 0) {
		l->next_sub_ns = now + RETRY_NS;
		return;
	}
	l->exec_sub_req = req_id(l);
	l->bal_sub_req = req_id(l);
	if (send_text(l, buf,
		      kr_priv_encode_sub_executions(buf, sizeof(buf), l->token, true, false,
						    l->exec_sub_req)) != 0 ||
	    send_text(l, buf,
		      kr_priv_encode_sub_balances(buf, sizeof(buf), l->token, l->bal_sub_req)) !=
		0) {
		l->next_sub_ns = now + RETRY_NS;
		return;
	}
	l->subscribed = true;
	l->next_deadman_ns = now; /* arm at once on a new connection */
}

static void deadman(struct live *l, uint64_t now)
{
	uint32_t t = l->o.deadman_timeout_s;
	char buf[256];

	if (!t || now < l->next_deadman_ns)
		return;
	/* The execution thread may have polled after now was read. */
	uint64_t last = atomic_load(&l->last_poll_ns);
	uint64_t silent = now > last ? now - last : 0;
	if (silent > (uint64_t)t * NS_S / 2) {
		if (!l->deadman_silent)
			LOG_WARN(
			    "live", "execution thread silent: dead man's switch left to expire",
			    "silent_ms=%llu timeout_s=%u", (unsigned long long)(silent / NS_MS), t);
		l->deadman_silent = true;
		return;
	}
	l->deadman_silent = false;
	l->next_deadman_ns = now + (uint64_t)t * NS_S / 3;
	if (ready(l)) {
		if (send_text(l, buf,
			      kr_priv_encode_cancel_after(buf, sizeof(buf), t, l->token,
							  req_id(l))) == 0) {
			atomic_fetch_add(&l->st_deadman, 1);
			return;
		}
	}
	if (l->o.no_rest_fallback)
		return;
	struct err_info info = {0};
	if (kr_rest_cancel_all_after(l->o.rest, t, NULL, NULL, &info) == 0)
		atomic_fetch_add(&l->st_deadman, 1);
	else
		LOG_WARN("live", "CancelAllOrdersAfter failed", "err=%s", LIVE_Q(info.msg));
}

/* Asks REST about one order. */
static void check_one(struct live *l, struct live_order *x, uint64_t now)
{
	struct kr_rest_order_filter f = {.cl_ord_id = x->o.cl_ord_id};
	struct kr_rest_order ro;
	struct err_info info = {0};
	int rc = kr_rest_reconcile(l->o.rest, &f, &ro, &info);

	atomic_fetch_add(&l->st_reconciles, 1);
	if (rc < 0) {
		x->check_after_ns = now + CHECK_RETRY_NS;
		return;
	}
	if (rc == 0 && clock_wall_ns() < x->deadline_ns + (int64_t)DEADLINE_MARGIN_NS) {
		x->check_after_ns = now + CHECK_RETRY_NS;
		return;
	}
	if (rc == 0) {
		LOG_WARN("live", "order not found at Kraken after its deadline: not placed",
			 "cl_ord_id=%s", x->o.cl_ord_id);
		reject(l, x, "not placed: Kraken has no such order");
		return;
	}
	struct venue_report was = x->r;
	live__from_rest(&x->r, &ro, now);
	if (venue_status_final(was.status))
		x->r.status = was.status;
	if (x->r.fee > 0 && !x->r.fee_asset[0])
		live__copy(x->r.fee_asset, sizeof(x->r.fee_asset), was.fee_asset);
	x->acked = true;
	x->last_ns = now;
	if (memcmp(&was, &x->r, sizeof(was)) != 0)
		emit(l, x);
	/* Open orders are followed by the stream once it is up. */
	x->check = !venue_status_final(x->r.status) && !ready(l);
	x->check_after_ns = now + CHECK_RETRY_NS;
}

static void checks(struct live *l, uint64_t now)
{
	/* Connected but before the snapshot: it will say. */
	if (now < l->next_check_ns || (atomic_load(&l->connected) && !ready(l)))
		return;
	l->next_check_ns = now + CHECK_NS;
	uint64_t ack_ns = (uint64_t)l->o.ack_timeout_ms * NS_MS;
	for (size_t k = 0; k < l->o.orders_max; k++) {
		struct live_order *x = &l->orders[k];
		if (!x->used || venue_status_final(x->r.status))
			continue;
		if (!x->acked && now - x->last_ns > ack_ns && !x->check) {
			LOG_WARN("live", "no word on an order: asking REST", "cl_ord_id=%s",
				 x->o.cl_ord_id);
			x->check = true;
			x->check_after_ns = now;
		}
		if (x->check && now >= x->check_after_ns)
			check_one(l, x, now);
	}
}

static void timers(struct live *l, uint64_t now)
{
	if (atomic_load(&l->connected)) {
		if (!l->subscribed && now >= l->next_sub_ns)
			subscribe(l, now);
		else if (l->subscribed &&
			 now - l->token_ns > l->token_ttl_ns / 100 * TOKEN_REFRESH_PCT)
			fetch_token(l, now);
	}
	deadman(l, now);
	checks(l, now);
	if (now - l->wire_pub_ns >= WIRE_PUBLISH_NS) {
		hist_publish(&l->wire_pub, &l->wire);
		l->wire_pub_ns = now;
	}
}

void live__warm(struct live *l)
{
	char buf[KR_WS_TX_MAX];
	if (l->n_pairs == 0)
		return;
	const struct kr_pair *p = &l->pairs[l->slot_next % l->n_pairs];
	const struct live_order *x = &l->orders[l->slot_next];
	struct kr_priv_order k = {.symbol = p->symbol,
				  .buy = x->used, /* a read of the slot place() takes next */
				  .ioc = true,
				  .qty = p->qty_increment > 0 ? p->qty_increment : 1,
				  .qty_scale = p->qty_precision,
				  .limit_price = p->price_increment > 0 ? p->price_increment : 1,
				  .price_scale = p->price_precision,
				  .cl_ord_id = "arwarm-00",
				  .fee_preference = "quote",
				  .deadline_ns = clock_wall_ns() + (int64_t)DEADLINE_NS};
	(void)live__pair(l->pairs, l->n_pairs, p->symbol);
	(void)kr_priv_encode_add_order(buf, sizeof(buf), &k, l->token[0] ? l->token : "t", 1);
	kr_ws_warm(l->ws);
}

void live__pump(struct live *l)
{
	/* Commands first: an order queued by place() becomes a write the
	 * service turn below puts on the socket. */
	commands(l);
	kr_ws_poll(l->ws);
	commands(l);
	timers(l, clock_mono_ns());
	flush(l);
}

void *live__thread(void *arg)
{
	struct live *l = arg;
	while (!atomic_load(&l->stop)) {
		kr_ws_service(l->ws);
		commands(l);
		timers(l, clock_mono_ns());
		flush(l);
	}
	return NULL;
}

int live__ws_new(struct live *l, struct err_info *info)
{
	uint32_t hb = l->o.heartbeat_timeout_ms ? l->o.heartbeat_timeout_ms : 10000;
	uint32_t ping = l->o.ping_interval_ms ? l->o.ping_interval_ms : 20000;
	/* Quiet private connections must still be heard from within the
	 * watchdog's timeout: ping at least twice per timeout. */
	if (ping > hb / 2)
		ping = hb / 2 ? hb / 2 : 1;
	struct kr_ws_opts wo = {.url = l->o.ws_auth_url,
				.ping_interval_ms = ping,
				.heartbeat_timeout_ms = hb,
				.reconnect_min_ms = l->o.reconnect_min_ms,
				.reconnect_max_ms = l->o.reconnect_max_ms,
				.max_frame = 4u << 20,
				.seed = l->o.seed};
	struct kr_ws_cb cb = {.on_frame = on_frame,
			      .on_open = on_open,
			      .on_close = on_close,
			      .on_sent = on_sent,
			      .ctx = l};
	l->ws = kr_ws_new(&wo, &cb, info);
	return l->ws ? 0 : info ? info->code : ERR_NET;
}

/* The simulator's private WS v2 side on /v2-auth (PROTOCOL.md §5): token
 * checks, the executions and balances channels (snapshot, then updates in
 * Kraken's shapes with a per-connection sequence), and the trading methods
 * add_order, batch_add, cancel_order, cancel_all and cancel_all_orders_after
 * over the accounts API. Scripted faults for the private side: the next
 * add_order rejected, partly filled, or acknowledged late.
 *
 * Everything runs on the server loop with sim__lock held, except the
 * executions listener, which may run on the REST thread: it only copies the
 * event into a queue and wakes the loop, which sends it from on_tick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/fixed.h"
#include "core/log.h"
#include "sim/sim_int.h"
#include "sim/sim_json.h"

#define MAX_OVERRIDES 64
#define MAX_DELAYED   64
#define MAXRATECOUNT  125 /* the ack's maxratecount (Intermediate tier) */

struct ev {
	enum sim_exec_kind kind;
	struct sim_order o; /* copy at the time of the event */
	int64_t last_qty, last_price, last_fee;
	char liquidity;
	char exec_id[SIM_TXID_MAX];
};

/* A partly filled order: what the client asked for, not what was placed. */
struct override {
	char txid[SIM_TXID_MAX];
	int64_t qty;
	bool gtc;
};

struct delayed {
	uint64_t due_ns;
	uint64_t conn_id;
	long acct;
	char *frame; /* owned */
	size_t len;
};

struct wsp {
	struct sim *s;
	struct ev *q; /* owned, growable: the simulator may allocate */
	size_t nq, capq;
	bool bal_dirty;
	char reject_next[96]; /* "" none */
	unsigned partial_pct; /* 0 none */
	unsigned delay_ms;    /* 0 none */
	struct override ov[MAX_OVERRIDES];
	size_t nov;
	struct delayed dl[MAX_DELAYED];
	size_t ndl;
	uint64_t ledger_seq;
	uint64_t next_hb_ns;
};

struct pconn {
	long acct; /* -1 until a valid token was seen */
	bool exec_sub, bal_sub;
	uint64_t seq;
	struct sim_balance last[SIM_ASSETS_MAX];
	size_t nlast;
};

struct req {
	char method[32];
	bool has_req_id;
	char req_id[24];
	int64_t time_in;
};

static struct wsp *state(struct sim *s)
{
	return *sim__ws_private_slot(s);
}

/* ---- Replies ---- */

static void head(struct sim_buf *b, const struct req *r)
{
	sim__buf_reset(b);
	sim__buf_printf(b, "{\"method\":\"%s\"", r->method);
	if (r->has_req_id)
		sim__buf_printf(b, ",\"req_id\":%s", r->req_id);
}

static void tail(struct sim_buf *b, const struct req *r)
{
	sim__buf_str(b, ",\"time_in\":");
	sim__buf_time(b, r->time_in);
	sim__buf_str(b, ",\"time_out\":");
	sim__buf_time(b, clock_wall_ns());
	sim__buf_str(b, "}");
}

static void send_buf(struct sim_conn *c, struct sim_buf *b)
{
	if (b->oom) {
		LOG_ERROR("sim", "private message dropped: out of memory", NULL);
		return;
	}
	sim__conn_send(c, sim__buf_text(b), b->len);
}

/* err is static text without '"' or '\\'. */
static void reply_err(struct sim_conn *c, const struct req *r, const char *err)
{
	struct sim_buf b;
	sim__buf_init(&b, 0);
	head(&b, r);
	sim__buf_printf(&b, ",\"error\":\"%s\",\"success\":false", err);
	tail(&b, r);
	send_buf(c, &b);
	sim__buf_release(&b);
}

/* ---- Execution reports ---- */

static struct override *find_override(struct wsp *w, const char *txid)
{
	for (size_t k = 0; k < w->nov; k++)
		if (strcmp(w->ov[k].txid, txid) == 0)
			return &w->ov[k];
	return NULL;
}

/* The volume-weighted price at the pair's price precision, rounded. */
static int64_t avg_price(const struct kr_pair *p, const struct sim_order *o)
{
	if (o->vol_exec <= 0)
		return 0;
	__int128 num =
	    (__int128)o->cost * fx_pow10(p->qty_precision) * fx_pow10(p->price_precision);
	__int128 den = (__int128)o->vol_exec * fx_pow10(SIM_BAL_SCALE);
	return (int64_t)((num + den / 2) / den);
}

static const char *tif_str(const struct sim_order *o)
{
	return o->req.tif == SIM_IOC ? "IOC" : "GTC";
}

static void order_fields(struct sim_buf *b, const struct kr_pair *p, const struct sim_order *o,
			 int64_t qty)
{
	sim__buf_printf(
	    b, ",\"symbol\":\"%s\",\"side\":\"%s\",\"order_type\":\"%s\",\"order_qty\":", p->symbol,
	    o->req.side == SIM_BUY ? "buy" : "sell", o->req.type == SIM_LIMIT ? "limit" : "market");
	sim__buf_fixed(b, qty, p->qty_precision);
	if (o->req.type == SIM_LIMIT) {
		sim__buf_str(b, ",\"limit_price\":");
		sim__buf_fixed(b, o->req.price, p->price_precision);
		sim__buf_str(b, ",\"limit_price_type\":\"static\"");
	}
	sim__buf_printf(b, ",\"time_in_force\":\"%s\",\"post_only\":%s,\"fee_ccy_pref\":\"%s\"",
			tif_str(o), o->req.post_only ? "true" : "false",
			o->fee_asset == 'b' ? "fcib" : "fciq");
}

static void cum_fields(struct sim_buf *b, const struct kr_pair *p, const struct sim_order *o)
{
	sim__buf_str(b, ",\"cum_qty\":");
	sim__buf_fixed(b, o->vol_exec, p->qty_precision);
	sim__buf_str(b, ",\"cum_cost\":");
	sim__buf_fixed(b, o->cost, SIM_BAL_SCALE);
	sim__buf_str(b, ",\"avg_price\":");
	sim__buf_fixed(b, avg_price(p, o), p->price_precision);
	sim__buf_str(b, ",\"fee_usd_equiv\":");
	sim__buf_fixed(b, strcmp(o->fee_asset == 'b' ? p->base : p->quote, "USD") == 0 ? o->fee : 0,
		       SIM_BAL_SCALE);
}

static void ids(struct sim_buf *b, const struct sim_order *o)
{
	sim__buf_printf(b, "\"order_id\":\"%s\"", o->txid);
	if (o->req.cl_ord_id[0])
		sim__buf_printf(b, ",\"cl_ord_id\":\"%s\"", o->req.cl_ord_id);
	if (o->req.has_userref)
		sim__buf_printf(b, ",\"order_userref\":%lld", (long long)o->req.userref);
}

/* One data[] entry for ev (exec_type as given). */
static void entry(struct sim *s, struct sim_buf *b, const struct ev *e, const char *exec_type,
		  const char *status)
{
	struct wsp *w = state(s);
	const struct sim_order *o = &e->o;
	const struct kr_pair *p = sim__pair(s, o->pair);
	const struct override *ov = find_override(w, o->txid);
	int64_t qty = ov ? ov->qty : o->req.qty;

	sim__buf_str(b, "{");
	ids(b, o);
	sim__buf_printf(b, ",\"exec_type\":\"%s\",\"order_status\":\"%s\"", exec_type, status);
	if (strcmp(exec_type, "pending_new") == 0) {
		order_fields(b, p, o, qty);
		sim__buf_str(b, ",\"cum_cost\":0.0");
	} else if (strcmp(exec_type, "trade") == 0) {
		const char *fa = o->fee_asset == 'b' ? p->base : p->quote;
		int64_t cost = 0;
		__int128 c = (__int128)e->last_qty * e->last_price;
		/* last_qty * last_price is at qty + price precision; cost at 10 dp. */
		int sc = p->qty_precision + p->price_precision;
		if (sc <= SIM_BAL_SCALE)
			cost = (int64_t)(c * fx_pow10(SIM_BAL_SCALE - sc));
		else
			cost = (int64_t)(c / fx_pow10(sc - SIM_BAL_SCALE));
		sim__buf_printf(b,
				",\"exec_id\":\"%s\",\"trade_id\":%llu,\"symbol\":\"%s\",\"side\":"
				"\"%s\",\"last_qty\":",
				e->exec_id, (unsigned long long)(w->ledger_seq + 1), p->symbol,
				o->req.side == SIM_BUY ? "buy" : "sell");
		sim__buf_fixed(b, e->last_qty, p->qty_precision);
		sim__buf_str(b, ",\"last_price\":");
		sim__buf_fixed(b, e->last_price, p->price_precision);
		sim__buf_printf(
		    b, ",\"liquidity_ind\":\"%c\",\"cost\":", e->liquidity ? e->liquidity : 't');
		sim__buf_fixed(b, cost, SIM_BAL_SCALE);
		sim__buf_printf(b, ",\"order_type\":\"%s\"",
				o->req.type == SIM_LIMIT ? "limit" : "market");
		cum_fields(b, p, o);
		sim__buf_printf(b, ",\"fees\":[{\"asset\":\"%s\",\"qty\":", fa);
		sim__buf_fixed(b, e->last_fee, SIM_BAL_SCALE);
		sim__buf_str(b, "}]");
	} else if (strcmp(exec_type, "new") != 0) {
		cum_fields(b, p, o);
		if (o->reason)
			sim__buf_printf(b, ",\"reason\":\"%s\"", o->reason);
	}
	sim__buf_str(b, ",\"timestamp\":");
	sim__buf_time(b, clock_wall_ns());
	sim__buf_str(b, "}");
}

static void send_channel(struct sim_conn *c, struct pconn *pc, struct sim_buf *b)
{
	sim__buf_printf(b, "],\"sequence\":%llu}", (unsigned long long)++pc->seq);
	send_buf(c, b);
}

/* Sends one executions update with one entry to every subscriber of the
 * order's account. */
static void broadcast_entry(struct sim *s, const struct ev *e, const char *exec_type,
			    const char *status);

struct bcast {
	struct sim *s;
	const struct ev *e;
	const char *exec_type, *status;
};

static void bcast_one(struct sim_conn *c, void *arg)
{
	struct bcast *a = arg;
	struct pconn *pc;
	struct sim_buf b;

	if (!sim__conn_is_private(c) || !(pc = *sim__conn_private_slot(c)) || !pc->exec_sub ||
	    pc->acct != (long)a->e->o.account)
		return;
	sim__buf_init(&b, 0);
	sim__buf_str(&b, "{\"channel\":\"executions\",\"type\":\"update\",\"data\":[");
	entry(a->s, &b, a->e, a->exec_type, a->status);
	send_channel(c, pc, &b);
	sim__buf_release(&b);
}

static void broadcast_entry(struct sim *s, const struct ev *e, const char *exec_type,
			    const char *status)
{
	struct bcast a = {s, e, exec_type, status};
	sim__conn_foreach(s, bcast_one, &a);
}

static void send_event(struct sim *s, const struct ev *e)
{
	struct wsp *w = state(s);
	struct override *ov = find_override(w, e->o.txid);

	switch (e->kind) {
	case SIM_EXEC_NEW:
		broadcast_entry(s, e, "pending_new", "pending_new");
		broadcast_entry(s, e, "new", "new");
		break;
	case SIM_EXEC_TRADE: {
		int64_t qty = ov ? ov->qty : e->o.req.qty;
		broadcast_entry(s, e, "trade",
				e->o.vol_exec >= qty ? "filled" : "partially_filled");
		break;
	}
	case SIM_EXEC_FILLED:
		if (ov && e->o.vol_exec < ov->qty) {
			/* A scripted partial fill: the rest was never there. */
			struct ev c = *e;
			c.o.reason = ov->gtc ? "Liquidity exhausted (simulated partial fill)"
					     : "Immediate or cancel";
			broadcast_entry(s, &c, "canceled", "canceled");
		} else {
			broadcast_entry(s, e, "filled", "filled");
		}
		break;
	case SIM_EXEC_CANCELED:
		broadcast_entry(s, e, "canceled", "canceled");
		break;
	case SIM_EXEC_EXPIRED:
		broadcast_entry(s, e, "expired", "expired");
		break;
	}
}

/* ---- Balances ---- */

static void bal_entry(struct sim_buf *b, const struct sim_balance *x)
{
	sim__buf_printf(b, "{\"asset\":\"%s\",\"asset_class\":\"currency\",\"balance\":", x->asset);
	sim__buf_fixed(b, x->total, SIM_BAL_SCALE);
	sim__buf_str(b, ",\"wallets\":[{\"type\":\"spot\",\"id\":\"main\",\"balance\":");
	sim__buf_fixed(b, x->total, SIM_BAL_SCALE);
	sim__buf_str(b, "}]}");
}

static void bal_snapshot(struct sim *s, struct sim_conn *c, struct pconn *pc)
{
	struct sim_buf b;
	size_t n = sim__balances(s, (size_t)pc->acct, pc->last, SIM_ASSETS_MAX);

	pc->nlast = n < SIM_ASSETS_MAX ? n : SIM_ASSETS_MAX;
	sim__buf_init(&b, 0);
	sim__buf_str(&b, "{\"channel\":\"balances\",\"type\":\"snapshot\",\"data\":[");
	for (size_t k = 0; k < pc->nlast; k++) {
		if (k)
			sim__buf_str(&b, ",");
		bal_entry(&b, &pc->last[k]);
	}
	send_channel(c, pc, &b);
	sim__buf_release(&b);
}

/* One update per changed asset, as a ledger transaction would be. */
static void bal_diff(struct sim_conn *c, void *arg)
{
	struct sim *s = arg;
	struct wsp *w = state(s);
	struct sim_balance now[SIM_ASSETS_MAX];
	struct pconn *pc;

	if (!sim__conn_is_private(c) || !(pc = *sim__conn_private_slot(c)) || !pc->bal_sub)
		return;
	size_t n = sim__balances(s, (size_t)pc->acct, now, SIM_ASSETS_MAX);
	n = n < SIM_ASSETS_MAX ? n : SIM_ASSETS_MAX;
	for (size_t k = 0; k < n; k++) {
		int64_t before = 0;
		for (size_t m = 0; m < pc->nlast; m++)
			if (strcmp(pc->last[m].asset, now[k].asset) == 0)
				before = pc->last[m].total;
		if (before == now[k].total)
			continue;
		struct sim_buf b;
		char id[32];
		snprintf(id, sizeof(id), "L%015llu", (unsigned long long)++w->ledger_seq);
		sim__buf_init(&b, 0);
		sim__buf_printf(&b,
				"{\"channel\":\"balances\",\"type\":\"update\",\"data\":[{"
				"\"ledger_id\":\"%s\",\"ref_id\":\"%s\",\"timestamp\":",
				id, id);
		sim__buf_time(&b, clock_wall_ns());
		sim__buf_printf(&b,
				",\"type\":\"trade\",\"asset\":\"%s\",\"asset_class\":\"currency\","
				"\"category\":\"trade\",\"wallet_type\":\"spot\",\"wallet_id\":"
				"\"main\",\"amount\":",
				now[k].asset);
		sim__buf_fixed(&b, now[k].total - before, SIM_BAL_SCALE);
		sim__buf_str(&b, ",\"fee\":0.0,\"balance\":");
		sim__buf_fixed(&b, now[k].total, SIM_BAL_SCALE);
		sim__buf_str(&b, "}");
		send_channel(c, pc, &b);
		sim__buf_release(&b);
	}
	memcpy(pc->last, now, n * sizeof(now[0]));
	pc->nlast = n;
}

/* Sends what the listener queued. */
static void drain(struct sim *s)
{
	struct wsp *w = state(s);

	for (size_t k = 0; k < w->nq; k++)
		send_event(s, &w->q[k]);
	w->nq = 0;
	if (w->bal_dirty) {
		w->bal_dirty = false;
		sim__conn_foreach(s, bal_diff, s);
	}
}

static void listener(void *ctx, const struct sim_exec *e)
{
	struct wsp *w = ctx;

	if (!e) {
		w->bal_dirty = true;
	} else {
		if (w->nq == w->capq) {
			size_t cap = w->capq ? w->capq * 2 : 64;
			struct ev *q = realloc(w->q, cap * sizeof(*q));
			if (!q) {
				LOG_ERROR("sim", "execution event dropped: out of memory", NULL);
				return;
			}
			w->q = q;
			w->capq = cap;
		}
		struct ev *x = &w->q[w->nq++];
		x->kind = e->kind;
		x->o = *e->order;
		x->last_qty = e->last_qty;
		x->last_price = e->last_price;
		x->last_fee = e->last_fee;
		x->liquidity = e->liquidity;
		memcpy(x->exec_id, e->exec_id, sizeof(x->exec_id));
	}
	sim__wake(w->s);
}

/* ---- Requests ---- */

/* The params' token's account, or -1 after replying with the error. */
static long auth(struct sim *s, struct sim_conn *c, const struct sim_json *j, int params,
		 const struct req *r)
{
	char tok[128];
	int t = sim__json_get(j, params, "token");
	long a;

	if (!sim__json_is_object(j, params) || !sim__json_is_string(j, t) ||
	    sim__json_str(j, t, tok, sizeof(tok)) != 0) {
		reply_err(c, r, "EGeneral:Invalid arguments:token");
		return -1;
	}
	/* Kraken's exact text for a bad WS token is not documented (PROTOCOL.md
	 * §13); this mirrors the REST key error. */
	if ((a = sim__token_account(s, tok, clock_wall_ns())) < 0) {
		reply_err(c, r, "EAPI:Invalid token");
		return -1;
	}
	struct pconn *pc = *sim__conn_private_slot(c);
	if (pc)
		pc->acct = a;
	return a;
}

static struct pconn *conn_state(struct sim_conn *c)
{
	void **slot = sim__conn_private_slot(c);
	if (!*slot) {
		struct pconn *pc = calloc(1, sizeof(*pc));
		if (!pc)
			return NULL;
		pc->acct = -1;
		*slot = pc;
	}
	return *slot;
}

struct snap {
	struct sim *s;
	struct sim_buf *b;
	size_t n;
};

static void snap_order(void *ctx, const struct sim_order *o)
{
	struct snap *x = ctx;
	struct ev e = {.kind = SIM_EXEC_NEW, .o = *o};
	const struct kr_pair *p = sim__pair(x->s, o->pair);

	if (x->n++)
		sim__buf_str(x->b, ",");
	/* A snapshot entry: the open order with its details and fills so far. */
	sim__buf_str(x->b, "{");
	ids(x->b, o);
	sim__buf_printf(x->b, ",\"exec_type\":\"new\",\"order_status\":\"%s\"",
			o->vol_exec > 0 ? "partially_filled" : "new");
	order_fields(x->b, p, &e.o, o->req.qty);
	cum_fields(x->b, p, o);
	sim__buf_str(x->b, ",\"timestamp\":");
	sim__buf_time(x->b, o->open_ns);
	sim__buf_str(x->b, "}");
}

static void subscribe(struct sim *s, struct sim_conn *c, const struct sim_json *j, int params,
		      const struct req *r, bool unsub)
{
	struct pconn *pc = conn_state(c);
	char ch[32] = "";
	int k = sim__json_get(j, params, "channel");
	struct sim_buf b;
	bool snap_orders = true, snap_trades = false, snapshot = true;

	if (!pc) {
		reply_err(c, r, "EGeneral:Internal error");
		return;
	}
	sim__json_str(j, k, ch, sizeof(ch));
	if (strcmp(ch, "executions") != 0 && strcmp(ch, "balances") != 0) {
		reply_err(c, r, "EGeneral:Invalid arguments:channel");
		return;
	}
	if (auth(s, c, j, params, r) < 0)
		return;
	int so = sim__json_get(j, params, "snap_orders"),
	    st = sim__json_get(j, params, "snap_trades"), sn = sim__json_get(j, params, "snapshot");
	if ((so >= 0 && sim__json_bool(j, so, &snap_orders) != 0) ||
	    (st >= 0 && sim__json_bool(j, st, &snap_trades) != 0) ||
	    (sn >= 0 && sim__json_bool(j, sn, &snapshot) != 0)) {
		reply_err(c, r, "EGeneral:Invalid arguments:snapshot");
		return;
	}
	bool ex = ch[0] == 'e';
	if (!unsub && (ex ? pc->exec_sub : pc->bal_sub)) {
		reply_err(c, r, "Already subscribed");
		return;
	}
	sim__buf_init(&b, 0);
	head(&b, r);
	if (ex)
		sim__buf_printf(&b,
				",\"result\":{\"channel\":\"executions\",\"maxratecount\":%d,"
				"\"snap_orders\":%s,\"snap_trades\":%s},\"success\":true",
				MAXRATECOUNT, snap_orders ? "true" : "false",
				snap_trades ? "true" : "false");
	else
		sim__buf_printf(&b,
				",\"result\":{\"channel\":\"balances\",\"snapshot\":%s},"
				"\"success\":true",
				snapshot ? "true" : "false");
	tail(&b, r);
	send_buf(c, &b);
	if (unsub) {
		if (ex)
			pc->exec_sub = false;
		else
			pc->bal_sub = false;
		sim__buf_release(&b);
		return;
	}
	if (ex) {
		/* Fills queued before this subscription belong to the old stream. */
		drain(s);
		pc->exec_sub = true;
		/* snap_trades is acknowledged, but the simulator keeps no fill
		 * history to replay: its snapshot lists open orders only. */
		struct snap x = {s, &b, 0};
		sim__buf_reset(&b);
		sim__buf_str(&b, "{\"channel\":\"executions\",\"type\":\"snapshot\",\"data\":[");
		if (snap_orders)
			sim__orders_each(s, (size_t)pc->acct, true, snap_order, &x);
		send_channel(c, pc, &b);
	} else {
		pc->bal_sub = true;
		if (snapshot)
			bal_snapshot(s, c, pc);
		else
			pc->nlast = sim__balances(s, (size_t)pc->acct, pc->last, SIM_ASSETS_MAX);
	}
	sim__buf_release(&b);
}

static bool is_key(const struct sim_json *j, int obj, const char *const *keys, char *bad,
		   size_t cap)
{
	int i = obj + 1;
	for (int k = 0; k < j->tok[obj].size; k++) {
		bool ok = false;
		for (const char *const *q = keys; *q && !ok; q++)
			ok = sim__json_is(j, i, *q);
		if (!ok) {
			sim__json_str(j, i, bad, cap);
			for (char *p = bad; *p; p++)
				if (*p == '"' || *p == '\\' || *p == '\'' ||
				    (unsigned char)*p < 0x20)
					*p = '?';
			return false;
		}
		i = sim__json_skip(j, i + 1);
	}
	return true;
}

/* Parses one order's fields (add_order params, or a batch entry with the
 * batch's symbol). Returns NULL or Kraken's error text (into err). */
static const char *parse_order(struct sim *s, const struct sim_json *j, int o, long pair,
			       struct sim_order_req *r, char *err, size_t cap)
{
	static const char *const keys[] = {
	    "order_type", "side",	    "order_qty",	"symbol",
	    "token",	  "limit_price",    "limit_price_type", "time_in_force",
	    "post_only",  "cl_ord_id",	    "order_userref",	"fee_preference",
	    "validate",	  "deadline",	    "stp_type",		"reduce_only",
	    "margin",	  "effective_time", "no_mpp",		NULL};
	char v[64], bad[48];
	int i;

	memset(r, 0, sizeof(*r));
	if (!sim__json_is_object(j, o))
		return "EGeneral:Invalid arguments";
	if (!is_key(j, o, keys, bad, sizeof(bad))) {
		snprintf(err, cap, "EGeneral:Invalid arguments:Unsupported field: '%s'", bad);
		return err;
	}
	if (pair < 0) {
		if (sim__json_str(j, sim__json_get(j, o, "symbol"), v, sizeof(v)) != 0)
			return "EGeneral:Invalid arguments:symbol";
		if ((pair = sim__pair_find(s, v)) < 0)
			return "EQuery:Unknown asset pair";
	}
	const struct kr_pair *p = sim__pair(s, (size_t)pair);
	r->pair = (size_t)pair;
	if (sim__json_str(j, sim__json_get(j, o, "order_type"), v, sizeof(v)) != 0)
		return "EGeneral:Invalid arguments:order_type";
	if (strcmp(v, "limit") == 0)
		r->type = SIM_LIMIT;
	else if (strcmp(v, "market") == 0)
		r->type = SIM_MARKET;
	else
		return "EGeneral:Invalid arguments:order_type";
	if (sim__json_str(j, sim__json_get(j, o, "side"), v, sizeof(v)) != 0 ||
	    (strcmp(v, "buy") != 0 && strcmp(v, "sell") != 0))
		return "EGeneral:Invalid arguments:side";
	r->side = v[0] == 'b' ? SIM_BUY : SIM_SELL;
	i = sim__json_get(j, o, "order_qty");
	if (i < 0 || sim__json_is_string(j, i) ||
	    sim__json_fixed(j, i, p->qty_precision, &r->qty) != 0 || r->qty <= 0)
		return "EGeneral:Invalid arguments:order_qty";
	i = sim__json_get(j, o, "limit_price");
	if (r->type == SIM_LIMIT) {
		if (i < 0 || sim__json_is_string(j, i))
			return "EGeneral:Invalid arguments:limit_price";
		if (sim__json_fixed(j, i, p->price_precision, &r->price) != 0)
			return "EOrder:Invalid price";
	}
	r->tif = SIM_GTC;
	i = sim__json_get(j, o, "time_in_force");
	if (i >= 0) {
		if (sim__json_str(j, i, v, sizeof(v)) != 0)
			return "EGeneral:Invalid arguments:time_in_force";
		if (strcmp(v, "ioc") == 0)
			r->tif = SIM_IOC;
		else if (strcmp(v, "gtc") != 0)
			return "EGeneral:Invalid arguments:time_in_force";
	}
	if ((i = sim__json_get(j, o, "post_only")) >= 0 && sim__json_bool(j, i, &r->post_only) != 0)
		return "EGeneral:Invalid arguments:post_only";
	if ((i = sim__json_get(j, o, "validate")) >= 0 && sim__json_bool(j, i, &r->validate) != 0)
		return "EGeneral:Invalid arguments:validate";
	if ((i = sim__json_get(j, o, "cl_ord_id")) >= 0) {
		if (!sim__json_is_string(j, i) ||
		    sim__json_str(j, i, r->cl_ord_id, sizeof(r->cl_ord_id)) != 0 ||
		    !r->cl_ord_id[0] || strchr(r->cl_ord_id, '\\') || strchr(r->cl_ord_id, '"'))
			return "EGeneral:Invalid arguments:cl_ord_id";
		size_t n = strlen(r->cl_ord_id);
		/* Long UUID, short UUID or free text of at most 18 characters. */
		if (n != 36 && n != 32 && n > 18)
			return "EGeneral:Invalid arguments:cl_ord_id";
	}
	if ((i = sim__json_get(j, o, "order_userref")) >= 0) {
		if (r->cl_ord_id[0])
			return "EGeneral:Invalid arguments:cl_ord_id and order_userref";
		if (sim__json_i64(j, i, &r->userref) != 0)
			return "EGeneral:Invalid arguments:order_userref";
		r->has_userref = true;
	}
	if ((i = sim__json_get(j, o, "fee_preference")) >= 0) {
		if (sim__json_str(j, i, v, sizeof(v)) != 0 ||
		    (strcmp(v, "base") != 0 && strcmp(v, "quote") != 0))
			return "EGeneral:Invalid arguments:fee_preference";
		r->fee_in = v[0] == 'b' ? 'b' : 'q';
	}
	return NULL;
}

static void result_ids(struct sim_buf *b, const char *txid, const struct sim_order_req *r)
{
	sim__buf_printf(b, "{\"order_id\":\"%s\"", txid);
	if (r->cl_ord_id[0])
		sim__buf_printf(b, ",\"cl_ord_id\":\"%s\"", r->cl_ord_id);
	if (r->has_userref)
		sim__buf_printf(b, ",\"order_userref\":%lld", (long long)r->userref);
	sim__buf_str(b, "}");
}

/* Places r, applying a scripted partial fill. */
static int place(struct sim *s, long acct, struct sim_order_req *r, struct sim_order *out,
		 const char **err)
{
	struct wsp *w = state(s);
	const struct kr_pair *p = sim__pair(s, r->pair);
	int64_t want = r->qty;
	bool partial = w->partial_pct && !r->validate;
	bool gtc = r->tif == SIM_GTC;

	if (partial) {
		int64_t q = want * (int64_t)w->partial_pct / 100;
		q -= p->qty_increment > 0 ? q % p->qty_increment : 0;
		if (q < p->qty_min)
			q = p->qty_min;
		if (q < want) {
			/* The engine fills q and nothing more: placed as IOC, the
			 * reports speak of the quantity asked for. */
			r->qty = q;
			r->tif = SIM_IOC;
			w->partial_pct = 0;
			if (w->nov == MAX_OVERRIDES) {
				memmove(w->ov, w->ov + 1, (MAX_OVERRIDES - 1) * sizeof(w->ov[0]));
				w->nov--;
			}
			/* The txid is not known before placing: reserve, then fill in. */
			struct override *ov = &w->ov[w->nov++];
			memset(ov, 0, sizeof(*ov));
			ov->qty = want;
			ov->gtc = gtc;
			/* Events are only queued during placement, so the override
			 * is complete before any is sent. */
			int rc = sim__order_place(s, (size_t)acct, r, out, err);
			r->qty = want;
			if (rc != 0) {
				w->nov--;
				return rc;
			}
			memcpy(ov->txid, out->txid, sizeof(ov->txid));
			LOG_INFO("sim", "fault: partial fill", "txid=%s filled=%lld of=%lld",
				 out->txid, (long long)out->vol_exec, (long long)want);
			return 0;
		}
	}
	return sim__order_place(s, (size_t)acct, r, out, err);
}

/* Kraken's engine refuses to match a request after its deadline. NULL when
 * the request may go on, or the error text. */
static const char *deadline_check(const struct sim_json *j, int params)
{
	char t[64];
	int64_t ns;
	int i = sim__json_get(j, params, "deadline");

	if (i < 0)
		return NULL;
	if (sim__json_str(j, i, t, sizeof(t)) != 0 || clock_parse_rfc3339(t, strlen(t), &ns) != 0)
		return "EGeneral:Invalid arguments:deadline";
	return clock_wall_ns() > ns ? "EService:Deadline elapsed" : NULL;
}

static void add_order(struct sim *s, struct sim_conn *c, const struct sim_json *j, int params,
		      const struct req *r, long acct)
{
	struct wsp *w = state(s);
	struct sim_order_req o;
	struct sim_order out;
	const char *err;
	char ebuf[128];
	struct sim_buf b;

	if ((err = parse_order(s, j, params, -1, &o, ebuf, sizeof(ebuf))) != NULL ||
	    (err = deadline_check(j, params)) != NULL) {
		reply_err(c, r, err);
		return;
	}
	if (w->reject_next[0] && !o.validate) {
		snprintf(ebuf, sizeof(ebuf), "%s", w->reject_next);
		w->reject_next[0] = '\0';
		char q[160];
		LOG_INFO("sim", "fault: order rejected", "error=%s", log_q(q, sizeof(q), ebuf));
		reply_err(c, r, ebuf);
		return;
	}
	if (place(s, acct, &o, &out, &err) != 0) {
		reply_err(c, r, err ? err : "EGeneral:Internal error");
		drain(s);
		return;
	}
	sim__buf_init(&b, 0);
	head(&b, r);
	sim__buf_str(&b, ",\"result\":");
	result_ids(&b, o.validate ? "" : out.txid, &o);
	sim__buf_str(&b, ",\"success\":true");
	tail(&b, r);
	send_buf(c, &b);
	sim__buf_release(&b);
	drain(s);
}

static void batch_add(struct sim *s, struct sim_conn *c, const struct sim_json *j, int params,
		      const struct req *r, long acct)
{
	static const char *const keys[] = {"symbol",   "token",	   "orders",
					   "deadline", "validate", NULL};
	struct sim_order_req o[15];
	char v[64], ebuf[128], bad[48];
	const char *err;
	bool validate = false;
	int arr = sim__json_get(j, params, "orders"), vi = sim__json_get(j, params, "validate");
	long pair;
	struct sim_buf b;

	if (!is_key(j, params, keys, bad, sizeof(bad))) {
		snprintf(ebuf, sizeof(ebuf), "EGeneral:Invalid arguments:Unsupported field: '%s'",
			 bad);
		reply_err(c, r, ebuf);
		return;
	}
	if (sim__json_str(j, sim__json_get(j, params, "symbol"), v, sizeof(v)) != 0) {
		reply_err(c, r, "EGeneral:Invalid arguments:symbol");
		return;
	}
	if ((pair = sim__pair_find(s, v)) < 0) {
		reply_err(c, r, "EQuery:Unknown asset pair");
		return;
	}
	if (!sim__json_is_array(j, arr) || j->tok[arr].size < 2 || j->tok[arr].size > 15) {
		reply_err(c, r, "EGeneral:Invalid arguments:orders");
		return;
	}
	if (vi >= 0 && sim__json_bool(j, vi, &validate) != 0) {
		reply_err(c, r, "EGeneral:Invalid arguments:validate");
		return;
	}
	int n = j->tok[arr].size;
	/* The whole batch is validated first: one bad order rejects it all. */
	for (int k = 0; k < n; k++) {
		if ((err = parse_order(s, j, sim__json_elem(j, arr, k), pair, &o[k], ebuf,
				       sizeof(ebuf))) != NULL) {
			reply_err(c, r, err);
			return;
		}
		o[k].validate = o[k].validate || validate;
	}
	sim__buf_init(&b, 0);
	head(&b, r);
	sim__buf_str(&b, ",\"result\":[");
	for (int k = 0; k < n; k++) {
		struct sim_order out;
		if (k)
			sim__buf_str(&b, ",");
		if (place(s, acct, &o[k], &out, &err) != 0) {
			/* Rejected alone in the engine; the rest proceed. */
			sim__buf_printf(&b, "{\"error\":\"%s\"",
					err ? err : "EGeneral:Internal error");
			if (o[k].cl_ord_id[0])
				sim__buf_printf(&b, ",\"cl_ord_id\":\"%s\"", o[k].cl_ord_id);
			if (o[k].has_userref)
				sim__buf_printf(&b, ",\"order_userref\":%lld",
						(long long)o[k].userref);
			sim__buf_str(&b, "}");
			continue;
		}
		result_ids(&b, o[k].validate ? "" : out.txid, &o[k]);
	}
	sim__buf_str(&b, "],\"success\":true");
	tail(&b, r);
	send_buf(c, &b);
	sim__buf_release(&b);
	drain(s);
}

struct find_cl {
	const char *cl;
	char txid[SIM_TXID_MAX];
};

static void find_cl_fn(void *ctx, const struct sim_order *o)
{
	struct find_cl *f = ctx;
	if (!f->txid[0] && strcmp(o->req.cl_ord_id, f->cl) == 0)
		memcpy(f->txid, o->txid, sizeof(f->txid));
}

static void cancel_ok(struct sim_conn *c, const struct req *r, const char *txid, const char *cl)
{
	struct sim_buf b;
	sim__buf_init(&b, 0);
	head(&b, r);
	sim__buf_printf(&b, ",\"result\":{\"order_id\":\"%s\"", txid);
	if (cl)
		sim__buf_printf(&b, ",\"cl_ord_id\":\"%s\"", cl);
	sim__buf_str(&b, "},\"success\":true");
	tail(&b, r);
	send_buf(c, &b);
	sim__buf_release(&b);
}

static void cancel_order(struct sim *s, struct sim_conn *c, const struct sim_json *j, int params,
			 const struct req *r, long acct)
{
	static const char *const names[] = {"order_id", "cl_ord_id", "order_userref"};
	int any = 0;

	for (int kind = 0; kind < 3; kind++) {
		int arr = sim__json_get(j, params, names[kind]);
		if (arr < 0)
			continue;
		if (!sim__json_is_array(j, arr)) {
			reply_err(c, r,
				  kind == 0   ? "EGeneral:Invalid arguments:order_id"
				  : kind == 1 ? "EGeneral:Invalid arguments:cl_ord_id"
					      : "EGeneral:Invalid arguments:order_userref");
			return;
		}
		for (int k = 0; k < j->tok[arr].size; k++) {
			char id[SIM_CLOID_MAX];
			const char *err;
			int n = 0, e = sim__json_elem(j, arr, k);
			any++;
			if (sim__json_str(j, e, id, sizeof(id)) != 0 || strchr(id, '"') ||
			    strchr(id, '\\')) {
				reply_err(c, r, "EGeneral:Invalid arguments");
				continue;
			}
			if (kind == 1) {
				struct find_cl f = {.cl = id};
				sim__orders_each(s, (size_t)acct, true, find_cl_fn, &f);
				if (sim__order_cancel(s, (size_t)acct, NULL, id, &n, &err) != 0) {
					reply_err(c, r, err);
					continue;
				}
				cancel_ok(c, r, f.txid, id);
			} else {
				if (sim__order_cancel(s, (size_t)acct, id, NULL, &n, &err) != 0) {
					reply_err(c, r, err);
					continue;
				}
				cancel_ok(c, r, id, NULL);
			}
		}
	}
	if (!any)
		reply_err(c, r, "EGeneral:Invalid arguments:order_id");
	drain(s);
}

static void cancel_all(struct sim *s, struct sim_conn *c, const struct req *r, long acct)
{
	struct sim_buf b;
	int n = 0;
	sim__order_cancel_all(s, (size_t)acct, &n);
	sim__buf_init(&b, 0);
	head(&b, r);
	sim__buf_printf(&b, ",\"result\":{\"count\":%d},\"success\":true", n);
	tail(&b, r);
	send_buf(c, &b);
	sim__buf_release(&b);
	drain(s);
}

static void time_s(struct sim_buf *b, int64_t ns)
{
	char t[40];
	if (clock_fmt_rfc3339(ns, 0, t, sizeof(t)) > 0)
		sim__buf_printf(b, "\"%s\"", t);
}

static void cancel_after(struct sim *s, struct sim_conn *c, const struct sim_json *j, int params,
			 const struct req *r, long acct)
{
	int t = sim__json_get(j, params, "timeout");
	int64_t v, trig = 0, now = clock_wall_ns();
	struct sim_buf b;

	if (t < 0 || sim__json_i64(j, t, &v) != 0 || v < 0 || v >= 86400) {
		reply_err(c, r, "EGeneral:Invalid arguments:timeout");
		return;
	}
	sim__cancel_all_after(s, (size_t)acct, (uint32_t)v, now, &trig);
	sim__buf_init(&b, 0);
	head(&b, r);
	sim__buf_str(&b, ",\"result\":{\"currentTime\":");
	time_s(&b, now);
	sim__buf_str(&b, ",\"triggerTime\":");
	if (trig)
		time_s(&b, trig);
	else
		sim__buf_str(&b, "\"0\"");
	sim__buf_str(&b, "},\"success\":true");
	tail(&b, r);
	send_buf(c, &b);
	sim__buf_release(&b);
}

/* Handles one request; acct_hint >= 0 for a delayed one whose token was
 * already checked. */
static int handle(struct sim *s, struct sim_conn *c, const char *frame, size_t len, int64_t time_in,
		  bool delayed)
{
	struct wsp *w = state(s);
	struct req r = {.time_in = time_in};
	struct sim_json j = {0};
	int rc = 0;

	if (sim__json_parse(&j, frame, len) != 0 || !sim__json_is_object(&j, 0)) {
		rc = ERR_NOTFOUND;
		goto cleanup;
	}
	int m = sim__json_get(&j, 0, "method"), rid = sim__json_get(&j, 0, "req_id");
	int params = sim__json_get(&j, 0, "params");
	if (sim__json_str(&j, m, r.method, sizeof(r.method)) != 0) {
		rc = ERR_NOTFOUND;
		goto cleanup;
	}
	if (rid >= 0 && sim__json_str(&j, rid, r.req_id, sizeof(r.req_id)) == 0)
		r.has_req_id = true;
	if (strcmp(r.method, "subscribe") == 0 || strcmp(r.method, "unsubscribe") == 0) {
		subscribe(s, c, &j, params, &r, r.method[0] == 'u');
		goto cleanup;
	}
	bool known = strcmp(r.method, "add_order") == 0 || strcmp(r.method, "batch_add") == 0 ||
		     strcmp(r.method, "cancel_order") == 0 || strcmp(r.method, "cancel_all") == 0 ||
		     strcmp(r.method, "cancel_all_orders_after") == 0;
	if (!known) {
		rc = ERR_NOTFOUND;
		goto cleanup;
	}
	if (!conn_state(c)) {
		reply_err(c, &r, "EGeneral:Internal error");
		goto cleanup;
	}
	long acct = auth(s, c, &j, params, &r);
	if (acct < 0)
		goto cleanup;
	if (!delayed && w->delay_ms && strcmp(r.method, "add_order") == 0 && w->ndl < MAX_DELAYED) {
		struct delayed *d = &w->dl[w->ndl];
		d->frame = malloc(len);
		if (d->frame) {
			memcpy(d->frame, frame, len);
			d->len = len;
			d->conn_id = sim__conn_id(c);
			d->acct = acct;
			d->due_ns = clock_mono_ns() + (uint64_t)w->delay_ms * 1000000ull;
			LOG_INFO("sim", "fault: delayed acknowledgement", "ms=%u", w->delay_ms);
			w->delay_ms = 0;
			w->ndl++;
			goto cleanup;
		}
	}
	if (strcmp(r.method, "add_order") == 0)
		add_order(s, c, &j, params, &r, acct);
	else if (strcmp(r.method, "batch_add") == 0)
		batch_add(s, c, &j, params, &r, acct);
	else if (strcmp(r.method, "cancel_order") == 0)
		cancel_order(s, c, &j, params, &r, acct);
	else if (strcmp(r.method, "cancel_all") == 0)
		cancel_all(s, c, &r, acct);
	else
		cancel_after(s, c, &j, params, &r, acct);
cleanup:
	sim__json_release(&j);
	return rc;
}

static int on_request(struct sim *s, struct sim_conn *c, const char *frame, size_t len)
{
	return handle(s, c, frame, len, clock_wall_ns(), false);
}

static void on_close(struct sim *s, struct sim_conn *c)
{
	void **slot = sim__conn_private_slot(c);
	(void)s;
	free(*slot);
	*slot = NULL;
}

struct find_conn {
	uint64_t id;
	struct sim_conn *c;
};

static void find_conn_fn(struct sim_conn *c, void *arg)
{
	struct find_conn *f = arg;
	if (sim__conn_id(c) == f->id)
		f->c = c;
}

/* A delayed add_order whose connection closed meanwhile still reached the
 * engine: it is placed, and only its acknowledgement is lost. */
static void run_delayed(struct sim *s, struct delayed *d)
{
	struct find_conn f = {d->conn_id, NULL};
	sim__conn_foreach(s, find_conn_fn, &f);
	if (f.c) {
		handle(s, f.c, d->frame, d->len, clock_wall_ns(), true);
		return;
	}
	struct sim_json j = {0};
	struct sim_order_req o;
	struct sim_order out;
	const char *err;
	char ebuf[128];
	int params = -1;
	if (sim__json_parse(&j, d->frame, d->len) == 0 &&
	    (params = sim__json_get(&j, 0, "params")) >= 0 &&
	    !parse_order(s, &j, params, -1, &o, ebuf, sizeof(ebuf)) && !deadline_check(&j, params))
		place(s, d->acct, &o, &out, &err);
	sim__json_release(&j);
}

/* Kraken sends heartbeats on any connection with a subscription; the
 * public side covers book and instrument, this covers the private channels.
 * During a scripted stall they queue like everything else. */
static void heartbeat(struct sim_conn *c, void *arg)
{
	static const char hb[] = "{\"channel\":\"heartbeat\"}";
	struct pconn *pc;
	(void)arg;
	if (sim__conn_is_private(c) && (pc = *sim__conn_private_slot(c)) &&
	    (pc->exec_sub || pc->bal_sub))
		sim__conn_send(c, hb, sizeof(hb) - 1);
}

static void on_tick(struct sim *s)
{
	struct wsp *w = state(s);
	uint64_t now = clock_mono_ns();

	if (!w)
		return;
	if (now >= w->next_hb_ns) {
		w->next_hb_ns = now + 1000000000ull;
		sim__conn_foreach(s, heartbeat, NULL);
	}
	for (size_t k = 0; k < w->ndl;) {
		if (w->dl[k].due_ns > now) {
			k++;
			continue;
		}
		struct delayed d = w->dl[k];
		memmove(&w->dl[k], &w->dl[k + 1], (w->ndl - k - 1) * sizeof(d));
		w->ndl--;
		run_delayed(s, &d);
		free(d.frame);
	}
	drain(s);
}

static const struct sim_ws_private_ops ops = {
    .on_request = on_request, .on_close = on_close, .on_tick = on_tick};

int sim__ws_private_init(struct sim *s, struct err_info *info)
{
	struct wsp *w = calloc(1, sizeof(*w));
	if (!w)
		return err_set(info, ERR_NOMEM, "sim: out of memory (private WS)");
	w->s = s;
	*sim__ws_private_slot(s) = w;
	sim__exec_listen(s, listener, w);
	sim__ws_private_set(s, &ops);
	return 0;
}

void sim__ws_private_free(struct sim *s)
{
	struct wsp *w = state(s);
	if (!w)
		return;
	for (size_t k = 0; k < w->ndl; k++)
		free(w->dl[k].frame);
	free(w->q);
	free(w);
	*sim__ws_private_slot(s) = NULL;
}

int sim__ws_private_fault(struct sim *s, enum sim_priv_fault f, unsigned value, const char *text)
{
	struct wsp *w = state(s);
	if (!w)
		return ERR_BADSTATE;
	switch (f) {
	case SIM_PRIV_REJECT_NEXT:
		snprintf(w->reject_next, sizeof(w->reject_next), "%s",
			 text && *text ? text : "EGeneral:Internal error");
		return 0;
	case SIM_PRIV_PARTIAL_NEXT:
		if (value == 0 || value >= 100)
			return ERR_RANGE;
		w->partial_pct = value;
		return 0;
	case SIM_PRIV_DELAY_ACK:
		if (value == 0 || value > 60000)
			return ERR_RANGE;
		w->delay_ms = value;
		return 0;
	}
	return ERR_INVALID;
}

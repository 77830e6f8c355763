/* The simulator's accounts: balances, orders, the matching engine and the
 * dead man's switch, from the scenario's "accounts" section. One state with
 * the market, under sim__lock, shared by the REST thread and the server loop.
 *
 * Orders take liquidity from the simulator's own books (the truth it
 * publishes) and tell the market to remove it, so the public feed shows the
 * trade. A GTC limit remainder rests with its funds held; resting orders do
 * not fill later (the books are the market's random walk, not an order book
 * of participants). */
#include "sim/account.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/fixed.h"
#include "core/log.h"
#include "sim/sim_json.h"

#define TOKEN_TTL_NS (900LL * 1000000000LL) /* Kraken: use within 15 minutes */

struct sim_accounts *sim__accts(struct sim *s)
{
	return *sim__accounts_slot(s);
}

struct sim_balance *sim__bal(struct sim_account *a, const char *asset, bool create)
{
	for (size_t i = 0; i < a->nassets; i++)
		if (strcmp(a->bal[i].asset, asset) == 0)
			return &a->bal[i];
	if (!create || a->nassets >= SIM_ASSETS_MAX || strlen(asset) >= sizeof(a->bal[0].asset))
		return NULL;
	memset(&a->bal[a->nassets], 0, sizeof(a->bal[0]));
	memcpy(a->bal[a->nassets].asset, asset, strlen(asset) + 1);
	return &a->bal[a->nassets++];
}

static unsigned perm_bit(const struct sim_json *j, int i)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
	    {"query_funds", SIM_PERM_QUERY_FUNDS},
	    {"funds_query", SIM_PERM_QUERY_FUNDS},
	    {"query_open", SIM_PERM_QUERY_OPEN},
	    {"trades_query_open", SIM_PERM_QUERY_OPEN},
	    {"query_closed", SIM_PERM_QUERY_CLOSED},
	    {"trades_query_closed", SIM_PERM_QUERY_CLOSED},
	    {"trade", SIM_PERM_TRADE},
	    {"trades_modify", SIM_PERM_TRADE},
	    {"cancel", SIM_PERM_CANCEL},
	    {"trades_close", SIM_PERM_CANCEL},
	    {"websocket", SIM_PERM_WEBSOCKET},
	};

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (sim__json_is(j, i, names[k].name))
			return names[k].bit;
	return 0;
}

static int load_account(const struct sim_json *j, int o, size_t idx, struct sim_account *a,
			struct err_info *info)
{
	char secret[512];
	double v;
	int i, k, b;

	if (!sim__json_is_object(j, o))
		return err_set(info, ERR_SCHEMA, "scenario accounts[%zu]: expected an object", idx);
	if (sim__json_str(j, sim__json_get(j, o, "api_key"), a->api_key, sizeof(a->api_key)) ||
	    !a->api_key[0])
		return err_set(info, ERR_SCHEMA, "scenario accounts[%zu].api_key: missing", idx);
	if (sim__json_str(j, sim__json_get(j, o, "api_secret"), secret, sizeof(secret)) ||
	    !secret[0])
		return err_set(info, ERR_SCHEMA, "scenario accounts[%zu].api_secret: missing", idx);
	a->api_secret = secret_new(secret, strlen(secret));
	memset(secret, 0, sizeof(secret));
	if (!a->api_secret)
		return err_set(info, ERR_NOMEM, "scenario accounts: out of memory");
	a->taker_bps = 26;
	a->maker_bps = 16;
	if (sim__json_double(j, sim__json_get(j, o, "taker_fee_bps"), &v) == 0)
		a->taker_bps = (int)v;
	if (sim__json_double(j, sim__json_get(j, o, "maker_fee_bps"), &v) == 0)
		a->maker_bps = (int)v;
	if (a->taker_bps < 0 || a->taker_bps > 1000 || a->maker_bps < 0 || a->maker_bps > 1000)
		return err_set(info, ERR_SCHEMA, "scenario accounts[%zu]: fee bps outside 0..1000",
			       idx);
	/* Pro tier by default, so tests that call often are not slowed down;
	 * a scenario may choose its own counter. */
	a->rate_max = 20;
	a->rate_decay = 1.0;
	if (sim__json_double(j, sim__json_get(j, o, "rest_rate_max"), &v) == 0 && v > 0)
		a->rate_max = v;
	if (sim__json_double(j, sim__json_get(j, o, "rest_rate_decay"), &v) == 0 && v > 0)
		a->rate_decay = v;
	a->perms = SIM_PERM_ALL;
	i = sim__json_get(j, o, "permissions");
	if (i >= 0) {
		if (!sim__json_is_array(j, i))
			return err_set(info, ERR_SCHEMA,
				       "scenario accounts[%zu].permissions: expected an array",
				       idx);
		a->perms = 0;
		for (k = 0; (b = sim__json_elem(j, i, k)) >= 0; k++) {
			unsigned bit = perm_bit(j, b);

			if (!bit)
				return err_set(info, ERR_SCHEMA,
					       "scenario accounts[%zu].permissions[%d]: unknown "
					       "permission",
					       idx, k);
			a->perms |= bit;
		}
	}
	i = sim__json_get(j, o, "balances");
	if (i >= 0 && !sim__json_is_object(j, i))
		return err_set(info, ERR_SCHEMA,
			       "scenario accounts[%zu].balances: expected an object", idx);
	for (k = 0, b = i + 1; i >= 0 && k < j->tok[i].size; k++, b = sim__json_skip(j, b + 1)) {
		char asset[16];
		struct sim_balance *bal;
		int64_t amt;

		if (sim__json_str(j, b, asset, sizeof(asset)) ||
		    sim__json_fixed(j, b + 1, SIM_BAL_SCALE, &amt) || amt < 0)
			return err_set(
			    info, ERR_SCHEMA,
			    "scenario accounts[%zu].balances: \"%s\" is not an asset with "
			    "a decimal amount >= 0 (at most %d decimals)",
			    idx, asset, SIM_BAL_SCALE);
		bal = sim__bal(a, asset, true);
		if (!bal)
			return err_set(info, ERR_FULL,
				       "scenario accounts[%zu].balances: more than %d", idx,
				       SIM_ASSETS_MAX);
		bal->total = amt;
	}
	return 0;
}

int sim__accounts_init(struct sim *s, struct err_info *info)
{
	struct sim_accounts *st;
	struct sim_json j = {0};
	const char *text;
	size_t len = 0;
	int rc = 0, arr, k, o;

	st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(info, ERR_NOMEM, "accounts: out of memory");
	st->orders = calloc(SIM_ORDERS_MAX, sizeof(*st->orders));
	if (!st->orders) {
		free(st);
		return err_set(info, ERR_NOMEM, "accounts: out of memory");
	}
	*sim__accounts_slot(s) = st;
	text = sim__scenario_text(s, &len);
	if (!text || len == 0)
		return 0;
	rc = sim__json_parse(&j, text, len);
	if (rc) {
		rc = err_set(info, rc, "scenario: not valid JSON (accounts)");
		goto cleanup;
	}
	arr = sim__json_get(&j, 0, "accounts");
	if (arr < 0)
		goto cleanup;
	if (!sim__json_is_array(&j, arr)) {
		rc = err_set(info, ERR_SCHEMA, "scenario accounts: expected an array");
		goto cleanup;
	}
	st->acct = calloc((size_t)j.tok[arr].size + 1, sizeof(*st->acct));
	if (!st->acct) {
		rc = err_set(info, ERR_NOMEM, "accounts: out of memory");
		goto cleanup;
	}
	for (k = 0; (o = sim__json_elem(&j, arr, k)) >= 0; k++) {
		rc = load_account(&j, o, (size_t)k, &st->acct[k], info);
		st->n++;
		if (rc)
			goto cleanup;
		for (size_t m = 0; m + 1 < st->n; m++)
			if (strcmp(st->acct[m].api_key, st->acct[k].api_key) == 0) {
				rc = err_set(info, ERR_SCHEMA,
					     "scenario accounts[%d].api_key: used twice", k);
				goto cleanup;
			}
	}
cleanup:
	sim__json_release(&j);
	if (rc)
		sim__accounts_free(s);
	return rc;
}

void sim__accounts_free(struct sim *s)
{
	struct sim_accounts *st = *sim__accounts_slot(s);

	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		secret_free(st->acct[i].api_secret);
	free(st->acct);
	free(st->orders);
	free(st);
	*sim__accounts_slot(s) = NULL;
}

void sim__exec_listen(struct sim *s, sim_exec_fn fn, void *ctx)
{
	struct sim_accounts *st = sim__accts(s);

	st->listen = fn;
	st->listen_ctx = ctx;
}

size_t sim__account_count(struct sim *s)
{
	return sim__accts(s)->n;
}

long sim__account_find(struct sim *s, const char *api_key)
{
	struct sim_accounts *st = sim__accts(s);

	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->acct[i].api_key, api_key) == 0)
			return (long)i;
	return -1;
}

/* Deterministic ids in Kraken's shape: "OABCDE-FGHIJ-KLMNOP". */
static void make_id(char *out, size_t cap, char lead, uint64_t seq)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint64_t x = seq * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
	char t[20];
	size_t k = 0;

	t[k++] = lead;
	for (int g = 0; g < 16; g++) {
		if (g == 5 || g == 10)
			t[k++] = '-';
		t[k++] = a[x & 31];
		x = (x >> 5) | (x << 59);
		if (g == 11)
			x ^= seq;
	}
	t[k] = '\0';
	snprintf(out, cap, "%s", t);
}

int sim__account_token(struct sim *s, size_t acct, char *out, size_t cap)
{
	struct sim_accounts *st = sim__accts(s);
	struct sim_account *a;

	if (acct >= st->n || cap < 48)
		return ERR_INVALID;
	a = &st->acct[acct];
	make_id(a->token, sizeof(a->token), 'T', ++st->seq ^ (uint64_t)clock_wall_ns());
	a->token_expires_ns = clock_wall_ns() + TOKEN_TTL_NS;
	snprintf(out, cap, "%s", a->token);
	return 0;
}

long sim__token_account(struct sim *s, const char *token, int64_t now_ns)
{
	struct sim_accounts *st = sim__accts(s);

	for (size_t i = 0; i < st->n; i++)
		if (st->acct[i].token[0] && strcmp(st->acct[i].token, token) == 0 &&
		    now_ns < st->acct[i].token_expires_ns)
			return (long)i;
	return -1;
}

size_t sim__balances(struct sim *s, size_t acct, struct sim_balance *out, size_t cap)
{
	struct sim_accounts *st = sim__accts(s);
	struct sim_account *a;

	if (acct >= st->n)
		return 0;
	a = &st->acct[acct];
	for (size_t i = 0; i < a->nassets && i < cap; i++)
		out[i] = a->bal[i];
	return a->nassets;
}

void sim__account_fees(struct sim *s, size_t acct, int *taker_bps, int *maker_bps)
{
	struct sim_accounts *st = sim__accts(s);

	*taker_bps = acct < st->n ? st->acct[acct].taker_bps : 0;
	*maker_bps = acct < st->n ? st->acct[acct].maker_bps : 0;
}

/* ---- amounts -------------------------------------------------------------- */

/* v * 10^(to - from), toward zero; false on overflow. */
static bool rescale128(__int128 v, int from, int to, int64_t *out)
{
	while (from < to) {
		v *= 10;
		from++;
		if (v > INT64_MAX || v < INT64_MIN)
			return false;
	}
	while (from > to) {
		v /= 10;
		from--;
	}
	if (v > INT64_MAX || v < INT64_MIN)
		return false;
	*out = (int64_t)v;
	return true;
}

/* price * qty in quote units at SIM_BAL_SCALE. */
static bool notional(const struct kr_pair *p, int64_t price, int64_t qty, int64_t *out)
{
	return rescale128((__int128)price * qty, p->price_precision + p->qty_precision,
			  SIM_BAL_SCALE, out);
}

static bool base_amount(const struct kr_pair *p, int64_t qty, int64_t *out)
{
	return rescale128(qty, p->qty_precision, SIM_BAL_SCALE, out);
}

/* Fees round up, as exchanges do. */
static int64_t fee_of(int64_t amount, int bps)
{
	return (int64_t)(((__int128)amount * bps + 9999) / 10000);
}

/* ---- the matching engine ------------------------------------------------- */

struct walk {
	int64_t qty;	 /* filled, pair qty scale */
	int64_t cost;	 /* quote, SIM_BAL_SCALE */
	int64_t last_px; /* the last level touched */
	size_t nlevels;
};

/* Walks the opposite side of the book for r up to qty (no changes). */
static bool walk_book(const struct book *b, const struct kr_pair *p, const struct sim_order_req *r,
		      int64_t qty, struct walk *w)
{
	const struct book_level *lv;
	size_t n = 0;

	memset(w, 0, sizeof(*w));
	if (!b)
		return true;
	lv = r->side == SIM_BUY ? book_asks(b, &n) : book_bids(b, &n);
	for (size_t i = 0; i < n && w->qty < qty; i++) {
		int64_t q, c;

		if (r->type == SIM_LIMIT &&
		    (r->side == SIM_BUY ? lv[i].price > r->price : lv[i].price < r->price))
			break;
		q = lv[i].qty < qty - w->qty ? lv[i].qty : qty - w->qty;
		if (!notional(p, lv[i].price, q, &c) || w->cost > INT64_MAX - c)
			return false;
		w->qty += q;
		w->cost += c;
		w->last_px = lv[i].price;
		w->nlevels = i + 1;
	}
	return true;
}

static void emit(struct sim_accounts *st, enum sim_exec_kind kind, const struct sim_order *o,
		 int64_t qty, int64_t px, int64_t fee)
{
	struct sim_exec e = {.kind = kind,
			     .order = o,
			     .last_qty = qty,
			     .last_price = px,
			     .last_fee = fee,
			     .liquidity = 't'};

	if (!st->listen)
		return;
	if (kind == SIM_EXEC_TRADE)
		make_id(e.exec_id, sizeof(e.exec_id), 'T', ++st->seq);
	st->listen(st->listen_ctx, &e);
}

static char fee_side(const struct sim_order_req *r)
{
	if (r->fee_in == 'b' || r->fee_in == 'q')
		return r->fee_in;
	return r->side == SIM_BUY ? 'q' : 'b'; /* Kraken's defaults (fciq / fcib) */
}

static int64_t avail(const struct sim_balance *b)
{
	return b ? b->total - b->hold : 0;
}

/* Kraken's refusals for the engine and pair states (PROTOCOL.md §9). */
static const char *state_refusal(struct sim *s, const struct kr_pair *p,
				 const struct sim_order_req *r)
{
	enum kr_system_status st = sim__system_status(s);
	bool post = r->type == SIM_LIMIT && r->post_only;

	if (st == KR_SYSTEM_MAINTENANCE || p->status == KR_PAIR_STATUS_MAINTENANCE ||
	    p->status == KR_PAIR_STATUS_DELISTED || p->status == KR_PAIR_STATUS_WORK_IN_PROGRESS)
		return "EService:Unavailable";
	if (st == KR_SYSTEM_CANCEL_ONLY || p->status == KR_PAIR_STATUS_CANCEL_ONLY)
		return "EService:Market in cancel_only mode";
	if ((st == KR_SYSTEM_POST_ONLY || p->status == KR_PAIR_STATUS_POST_ONLY) && !post)
		return "EService:Market in post_only mode";
	if (p->status == KR_PAIR_STATUS_LIMIT_ONLY && r->type != SIM_LIMIT)
		return "EGeneral:Invalid arguments:ordertype";
	if (p->status != KR_PAIR_STATUS_ONLINE && p->status != KR_PAIR_STATUS_POST_ONLY &&
	    p->status != KR_PAIR_STATUS_LIMIT_ONLY)
		return "EService:Unavailable";
	return NULL;
}

static struct sim_order *new_order(struct sim_accounts *st)
{
	struct sim_order *o;

	if (st->norders == SIM_ORDERS_MAX) {
		/* Forget the oldest closed order; if it is still open, the book is full. */
		if (st->orders[st->head].status == SIM_ORDER_OPEN)
			return NULL;
		st->head = (st->head + 1) % SIM_ORDERS_MAX;
		st->norders--;
	}
	o = &st->orders[(st->head + st->norders) % SIM_ORDERS_MAX];
	st->norders++;
	memset(o, 0, sizeof(*o));
	return o;
}

static void release_hold(struct sim_account *a, const struct kr_pair *p, struct sim_order *o)
{
	const char *asset =
	    o->req.side == SIM_BUY ? (o->fee_asset == 'q' ? p->quote : p->quote) : p->base;
	struct sim_balance *b = sim__bal(a, asset, false);

	if (b && o->hold) {
		b->hold -= o->hold;
		if (b->hold < 0)
			b->hold = 0;
	}
	o->hold = 0;
}

/* Books one fill of qty at px on o for account a. */
static bool book_fill(struct sim_account *a, const struct kr_pair *p, struct sim_order *o,
		      int64_t qty, int64_t px, int64_t *fee_out)
{
	struct sim_balance *bb = sim__bal(a, p->base, true), *qb = sim__bal(a, p->quote, true);
	int64_t cost, base, fee;

	if (!bb || !qb || !notional(p, px, qty, &cost) || !base_amount(p, qty, &base))
		return false;
	fee = fee_of(o->fee_asset == 'q' ? cost : base, a->taker_bps);
	if (o->req.side == SIM_BUY) {
		qb->total -= cost + (o->fee_asset == 'q' ? fee : 0);
		bb->total += base - (o->fee_asset == 'b' ? fee : 0);
	} else {
		bb->total -= base + (o->fee_asset == 'b' ? fee : 0);
		qb->total += cost - (o->fee_asset == 'q' ? fee : 0);
	}
	o->vol_exec += qty;
	o->cost += cost;
	o->fee += fee;
	*fee_out = fee;
	return true;
}

int sim__order_place(struct sim *s, size_t acct, const struct sim_order_req *r,
		     struct sim_order *out, const char **err)
{
	struct sim_accounts *st = sim__accts(s);
	const struct kr_pair *p;
	const struct book *b;
	struct sim_account *a;
	struct sim_order *o;
	struct walk w;
	int64_t need = 0, cost_est = 0, cmin, base = 0, hold = 0;
	const struct book_level *best;
	size_t nbest = 0;
	char fs;

	*err = NULL;
	if (acct >= st->n || r->pair >= sim__pair_count(s)) {
		*err = "EQuery:Unknown asset pair";
		return ERR_REJECTED;
	}
	a = &st->acct[acct];
	p = sim__pair(s, r->pair);
	b = sim__book(s, r->pair);
	if ((*err = state_refusal(s, p, r)) != NULL)
		return ERR_REJECTED;
	if (r->qty <= 0) {
		*err = "EGeneral:Invalid arguments:volume";
		return ERR_REJECTED;
	}
	if (r->type == SIM_LIMIT && r->price <= 0) {
		*err = "EGeneral:Invalid arguments:price";
		return ERR_REJECTED;
	}
	if (p->qty_increment > 0 && r->qty % p->qty_increment != 0) {
		*err = "EGeneral:Invalid arguments:volume";
		return ERR_REJECTED;
	}
	if (r->type == SIM_LIMIT && p->price_increment > 0 && r->price % p->price_increment != 0) {
		*err = "EOrder:Tick size check failed";
		return ERR_REJECTED;
	}
	if (r->qty < p->qty_min) {
		*err = "EOrder:Order minimum not met";
		return ERR_REJECTED;
	}
	if (r->post_only && r->type != SIM_LIMIT) {
		*err = "EGeneral:Invalid arguments:oflags";
		return ERR_REJECTED;
	}
	/* The cost at the limit, or for a market order at the touch. */
	best = b ? (r->side == SIM_BUY ? book_asks(b, &nbest) : book_bids(b, &nbest)) : NULL;
	if (r->type == SIM_LIMIT ? !notional(p, r->price, r->qty, &cost_est)
	    : nbest		 ? !notional(p, best[0].price, r->qty, &cost_est)
				 : false) {
		*err = "EGeneral:Invalid arguments:volume";
		return ERR_REJECTED;
	}
	if (!rescale128(p->cost_min, p->cost_precision, SIM_BAL_SCALE, &cmin))
		cmin = INT64_MAX;
	if ((r->type == SIM_LIMIT || nbest) && cost_est < cmin) {
		*err = "EOrder:Cost minimum not met";
		return ERR_REJECTED;
	}
	fs = fee_side(r);
	if (!walk_book(b, p, r, r->qty, &w) || !base_amount(p, r->qty, &base)) {
		*err = "EGeneral:Invalid arguments:volume";
		return ERR_REJECTED;
	}
	/* Funds: a buy needs the quote it can spend (at the limit for the part
	 * that may rest), a sell the base it delivers; plus the fee where it
	 * is charged. */
	if (r->side == SIM_BUY) {
		int64_t spend = r->type == SIM_LIMIT ? cost_est : w.cost;

		need = spend + (fs == 'q' ? fee_of(spend, a->taker_bps) : 0);
		if (need > avail(sim__bal(a, p->quote, false))) {
			*err = "EOrder:Insufficient funds";
			return ERR_REJECTED;
		}
	} else {
		need = base + (fs == 'b' ? fee_of(base, a->taker_bps) : 0);
		if (need > avail(sim__bal(a, p->base, false))) {
			*err = "EOrder:Insufficient funds";
			return ERR_REJECTED;
		}
	}
	if (r->validate) {
		memset(out, 0, sizeof(*out));
		out->req = *r;
		out->account = acct;
		out->pair = r->pair;
		return 0;
	}
	o = new_order(st);
	if (!o) {
		*err = "EOrder:Orders limit exceeded";
		return ERR_REJECTED;
	}
	o->account = acct;
	o->pair = r->pair;
	o->req = *r;
	o->fee_asset = fs;
	o->open_ns = clock_wall_ns();
	o->status = SIM_ORDER_OPEN;
	make_id(o->txid, sizeof(o->txid), 'O', ++st->seq);
	emit(st, SIM_EXEC_NEW, o, 0, 0, 0);
	if (r->post_only && w.qty > 0) {
		/* A post-only order that would take liquidity is cancelled, not filled. */
		o->status = SIM_ORDER_CANCELED;
		o->reason = "Post only order";
		o->close_ns = o->open_ns;
		emit(st, SIM_EXEC_CANCELED, o, 0, 0, 0);
		*out = *o;
		return 0;
	}
	if (w.qty > 0) {
		const struct book_level *lv;
		size_t n = 0;
		int64_t left = w.qty;

		lv = r->side == SIM_BUY ? book_asks(b, &n) : book_bids(b, &n);
		for (size_t i = 0; i < w.nlevels && i < n && left > 0; i++) {
			int64_t q = lv[i].qty < left ? lv[i].qty : left, fee = 0;

			if (!book_fill(a, p, o, q, lv[i].price, &fee))
				break;
			left -= q;
			emit(st, SIM_EXEC_TRADE, o, q, lv[i].price, fee);
		}
		sim__book_consume(s, r->pair, r->side == SIM_BUY ? 'a' : 'b', w.last_px, w.qty);
	}
	if (o->vol_exec >= r->qty) {
		o->status = SIM_ORDER_CLOSED;
		o->close_ns = clock_wall_ns();
		emit(st, SIM_EXEC_FILLED, o, 0, 0, 0);
	} else if (r->type == SIM_MARKET || r->tif == SIM_IOC) {
		o->status = o->vol_exec > 0 ? SIM_ORDER_CLOSED : SIM_ORDER_EXPIRED;
		if (r->type == SIM_MARKET && o->vol_exec == 0)
			o->status = SIM_ORDER_CANCELED;
		o->reason =
		    r->type == SIM_MARKET ? "Insufficient liquidity" : "Immediate or cancel";
		o->close_ns = clock_wall_ns();
		emit(st, o->status == SIM_ORDER_EXPIRED ? SIM_EXEC_EXPIRED : SIM_EXEC_CANCELED, o,
		     0, 0, 0);
	} else {
		/* The GTC remainder rests: hold what it may still spend. */
		int64_t rem = r->qty - o->vol_exec, amt;
		struct sim_balance *hb = sim__bal(a, r->side == SIM_BUY ? p->quote : p->base, true);

		if (r->side == SIM_BUY && notional(p, r->price, rem, &amt))
			hold = amt + (fs == 'q' ? fee_of(amt, a->taker_bps) : 0);
		else if (r->side == SIM_SELL && base_amount(p, rem, &amt))
			hold = amt + (fs == 'b' ? fee_of(amt, a->taker_bps) : 0);
		if (hb) {
			hb->hold += hold;
			o->hold = hold;
		}
	}
	if (st->listen)
		st->listen(st->listen_ctx, NULL);
	*out = *o;
	return 0;
}

static void cancel_one(struct sim *s, struct sim_accounts *st, struct sim_order *o,
		       const char *reason)
{
	release_hold(&st->acct[o->account], sim__pair(s, o->pair), o);
	o->status = SIM_ORDER_CANCELED;
	o->reason = reason;
	o->close_ns = clock_wall_ns();
	emit(st, SIM_EXEC_CANCELED, o, 0, 0, 0);
}

#define EACH_ORDER(st, o)                                                                          \
	for (size_t k_ = 0; k_ < (st)->norders; k_++)                                              \
		if (((o) = &(st)->orders[((st)->head + k_) % SIM_ORDERS_MAX]) != NULL)

int sim__order_cancel(struct sim *s, size_t acct, const char *txid, const char *cl_ord_id,
		      int *count, const char **err)
{
	struct sim_accounts *st = sim__accts(s);
	struct sim_order *o;
	bool by_ref = false;
	int64_t ref = 0;
	int n = 0;

	*err = NULL;
	*count = 0;
	if (sim__system_status(s) == KR_SYSTEM_MAINTENANCE) {
		*err = "EService:Unavailable";
		return ERR_REJECTED;
	}
	if (txid && *txid) {
		char *end;

		ref = strtoll(txid, &end, 10);
		by_ref = *end == '\0';
	}
	EACH_ORDER(st, o)
	{
		if (o->account != acct || o->status != SIM_ORDER_OPEN)
			continue;
		if (txid && *txid
			? (by_ref ? !(o->req.has_userref && o->req.userref == ref)
				  : strcmp(o->txid, txid) != 0)
			: !(cl_ord_id && *cl_ord_id && strcmp(o->req.cl_ord_id, cl_ord_id) == 0))
			continue;
		cancel_one(s, st, o, "User requested");
		n++;
	}
	*count = n;
	if (n == 0) {
		*err = "EOrder:Unknown order";
		return ERR_REJECTED;
	}
	if (st->listen)
		st->listen(st->listen_ctx, NULL);
	return 0;
}

int sim__order_cancel_all(struct sim *s, size_t acct, int *count)
{
	struct sim_accounts *st = sim__accts(s);
	struct sim_order *o;
	int n = 0;

	EACH_ORDER(st, o)
	{
		if (o->account == acct && o->status == SIM_ORDER_OPEN) {
			cancel_one(s, st, o, "User requested");
			n++;
		}
	}
	*count = n;
	if (n && st->listen)
		st->listen(st->listen_ctx, NULL);
	return 0;
}

int sim__cancel_all_after(struct sim *s, size_t acct, uint32_t timeout_s, int64_t now_ns,
			  int64_t *trigger_ns)
{
	struct sim_accounts *st = sim__accts(s);

	if (acct >= st->n || timeout_s >= 86400)
		return ERR_INVALID;
	st->acct[acct].deadman_ns = timeout_s ? now_ns + (int64_t)timeout_s * 1000000000LL : 0;
	if (trigger_ns)
		*trigger_ns = st->acct[acct].deadman_ns;
	return 0;
}

void sim__accounts_tick(struct sim *s, int64_t now_ns)
{
	struct sim_accounts *st = sim__accts(s);
	int n;

	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++) {
		if (st->acct[i].deadman_ns && now_ns >= st->acct[i].deadman_ns) {
			st->acct[i].deadman_ns = 0;
			sim__order_cancel_all(s, i, &n);
			LOG_INFO("sim", "dead man's switch fired", "account=%zu cancelled=%d", i,
				 n);
		}
	}
}

void sim__orders_each(struct sim *s, size_t acct, bool open_only,
		      void (*fn)(void *ctx, const struct sim_order *o), void *ctx)
{
	struct sim_accounts *st = sim__accts(s);
	struct sim_order *o;

	EACH_ORDER(st, o)
	{
		if (o->account == acct && (!open_only || o->status == SIM_ORDER_OPEN))
			fn(ctx, o);
	}
}

const struct sim_order *sim__order_get(struct sim *s, size_t acct, const char *txid)
{
	struct sim_accounts *st = sim__accts(s);
	struct sim_order *o;

	EACH_ORDER(st, o)
	{
		if (o->account == acct && strcmp(o->txid, txid) == 0)
			return o;
	}
	return NULL;
}

void sim__rest_delay_next(struct sim *s, unsigned n, unsigned ms)
{
	struct sim_accounts *st = sim__accts(s);

	st->delay_n = n;
	st->delay_ms = ms;
}

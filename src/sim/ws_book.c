/* The book and instrument channels of the WS side: subscriptions, the
 * snapshot at subscribe time, and each subscriber's own update at its depth
 * after every change of the truth (sim__publish, once per tick). On the
 * server loop thread with sim__lock held. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "sim/sim_srv.h"

static void levels_json(struct sim_buf *b, const struct book_level *lv, size_t n,
			const struct kr_pair *kp)
{
	sim__buf_str(b, "[");
	for (size_t k = 0; k < n; k++) {
		sim__buf_str(b, k ? ",{\"price\":" : "{\"price\":");
		sim__buf_fixed(b, lv[k].price, kp->price_precision);
		sim__buf_str(b, ",\"qty\":");
		sim__buf_fixed(b, lv[k].qty, kp->qty_precision);
		sim__buf_str(b, "}");
	}
	sim__buf_str(b, "]");
}

static void send_book(struct sim_conn *c, const struct kr_pair *kp, bool snapshot,
		      const struct book_level *bids, size_t nb, const struct book_level *asks,
		      size_t na, uint32_t checksum)
{
	struct sim_buf *b = &c->s->out;
	sim__buf_reset(b);
	sim__buf_printf(
	    b, "{\"channel\":\"book\",\"type\":\"%s\",\"data\":[{\"symbol\":\"%s\",\"bids\":",
	    snapshot ? "snapshot" : "update", kp->symbol);
	levels_json(b, bids, nb, kp);
	sim__buf_str(b, ",\"asks\":");
	levels_json(b, asks, na, kp);
	sim__buf_printf(b, ",\"checksum\":%u,\"timestamp\":", checksum);
	sim__buf_time(b, clock_wall_ns());
	sim__buf_str(b, "}]}");
	sim__send_out(c);
}

static uint32_t top_checksum(const struct book_level *bids, size_t nb,
			     const struct book_level *asks, size_t na)
{
	return book_checksum_levels(asks, na < BOOK_CHECKSUM_LEVELS ? na : BOOK_CHECKSUM_LEVELS,
				    bids, nb < BOOK_CHECKSUM_LEVELS ? nb : BOOK_CHECKSUM_LEVELS);
}

struct sim_sub *sim__sub_find(struct sim_conn *c, size_t pair)
{
	for (struct sim_sub *u = c->subs; u; u = u->next)
		if (u->pair == pair)
			return u;
	return NULL;
}

void sim__sub_free(struct sim_sub *u)
{
	free(u->bids);
	free(u->asks);
	free(u);
}

void sim__send_instrument(struct sim_conn *c)
{
	struct sim *s = c->s;
	struct sim_buf *b = &s->out;
	sim__buf_reset(b);
	sim__buf_str(b, "{\"channel\":\"instrument\",\"type\":\"snapshot\",\"data\":{\"assets\":[");
	for (size_t a = 0; a < s->n_assets; a++) {
		int prec = 4;
		for (size_t i = 0; i < s->n_pairs; i++)
			if (s->pairs[i].base == (int)a && s->pairs[i].kp.qty_precision > prec)
				prec = s->pairs[i].kp.qty_precision;
		sim__buf_printf(b,
				"%s{\"id\":\"%s\",\"status\":\"enabled\",\"precision\":%d,"
				"\"precision_display\":%d,\"borrowable\":false,"
				"\"collateral_value\":0.0,\"margin_rate\":0.0}",
				a ? "," : "", s->assets[a].id, prec, prec > 5 ? 5 : prec);
	}
	sim__buf_str(b, "],\"pairs\":[");
	for (size_t i = 0; i < s->n_pairs; i++) {
		const struct kr_pair *k = &s->pairs[i].kp;
		sim__buf_printf(
		    b,
		    "%s{\"symbol\":\"%s\",\"base\":\"%s\",\"quote\":\"%s\",\"status\":\"%s\","
		    "\"qty_precision\":%d,\"qty_increment\":",
		    i ? "," : "", k->symbol, k->base, k->quote, kr_pair_status_str(k->status),
		    k->qty_precision);
		sim__buf_fixed(b, k->qty_increment, k->qty_precision);
		sim__buf_printf(b,
				",\"price_precision\":%d,\"cost_precision\":%d,"
				"\"marginable\":false,\"has_index\":false,\"cost_min\":",
				k->price_precision, k->cost_precision);
		sim__buf_fixed(b, k->cost_min, k->cost_precision);
		sim__buf_str(b, ",\"tick_size\":");
		sim__buf_fixed(b, k->price_increment, k->price_precision);
		sim__buf_str(b, ",\"price_increment\":");
		sim__buf_fixed(b, k->price_increment, k->price_precision);
		sim__buf_str(b, ",\"qty_min\":");
		sim__buf_fixed(b, k->qty_min, k->qty_precision);
		sim__buf_str(b, "}");
	}
	sim__buf_str(b, "]}}");
	sim__send_out(c);
}

static void book_ack(struct sim_conn *c, const struct sim_req *r, const char *method,
		     const char *symbol, unsigned depth, bool snapshot)
{
	struct sim_buf *b = &c->s->out;
	sim__reply_head(b, r, method);
	sim__buf_printf(b,
			",\"result\":{\"channel\":\"book\",\"depth\":%u,\"snapshot\":%s,"
			"\"symbol\":\"%s\"},\"success\":true",
			depth, snapshot ? "true" : "false", symbol);
	sim__reply_tail(b, r);
	sim__send_out(c);
}

void sim__book_subscribe(struct sim_conn *c, const struct sim_req *r, const char *symbol,
			 unsigned depth, bool snapshot)
{
	struct sim *s = c->s;
	char err[96];
	long pi = sim__pair_find(s, symbol);
	if (pi < 0) {
		snprintf(err, sizeof(err), "Currency pair not supported %s", symbol);
		sim__reply_error(c, r, "subscribe", err, symbol);
		return;
	}
	if (sim__sub_find(c, (size_t)pi)) {
		sim__reply_error(c, r, "subscribe", "Already subscribed", symbol);
		return;
	}
	struct sim_sub *u = calloc(1, sizeof(*u));
	if (u) {
		u->bids = calloc(depth, sizeof(*u->bids));
		u->asks = calloc(depth, sizeof(*u->asks));
	}
	if (!u || !u->bids || !u->asks) {
		if (u)
			sim__sub_free(u);
		sim__reply_error(c, r, "subscribe", "EGeneral:Internal error", symbol);
		return;
	}
	u->pair = (size_t)pi;
	u->depth = depth;
	u->n_bids = sim__top(s, u->pair, 'b', u->bids, depth);
	u->n_asks = sim__top(s, u->pair, 'a', u->asks, depth);
	u->next = c->subs;
	c->subs = u;
	book_ack(c, r, "subscribe", symbol, depth, snapshot);
	if (snapshot)
		send_book(c, &s->pairs[pi].kp, true, u->bids, u->n_bids, u->asks, u->n_asks,
			  top_checksum(u->bids, u->n_bids, u->asks, u->n_asks));
}

void sim__book_unsubscribe(struct sim_conn *c, const struct sim_req *r, const char *symbol,
			   unsigned depth)
{
	long pi = sim__pair_find(c->s, symbol);
	char err[96];
	if (pi < 0) {
		snprintf(err, sizeof(err), "Currency pair not supported %s", symbol);
		sim__reply_error(c, r, "unsubscribe", err, symbol);
		return;
	}
	for (struct sim_sub **pp = &c->subs; *pp; pp = &(*pp)->next) {
		if ((*pp)->pair == (size_t)pi) {
			struct sim_sub *u = *pp;
			*pp = u->next;
			book_ack(c, r, "unsubscribe", symbol, depth ? depth : u->depth, true);
			sim__sub_free(u);
			return;
		}
	}
	sim__reply_error(c, r, "unsubscribe", "Subscription Not Found", symbol);
}

/* ---- Publishing ---- */

void sim__publish(struct sim *s)
{
	if (sim__stalled(s))
		return;
	for (size_t i = 0; i < s->n_pairs; i++) {
		struct sim_pair *p = &s->pairs[i];
		if (!p->dirty)
			continue;
		p->dirty = false;
		size_t tb = sim__top(s, i, 'b', s->old_bids, SIM_BOOK_DEPTH);
		size_t ta = sim__top(s, i, 'a', s->old_asks, SIM_BOOK_DEPTH);
		uint32_t sum = top_checksum(s->old_bids, tb, s->old_asks, ta);
		bool corrupted = false;
		for (struct sim_conn *c = s->conns; c; c = c->next) {
			struct sim_sub *u = sim__sub_find(c, i);
			if (!u || c->closing)
				continue;
			size_t nb = tb < u->depth ? tb : u->depth;
			size_t na = ta < u->depth ? ta : u->depth;
			size_t db = sim__diff_side('b', u->bids, u->n_bids, s->old_bids, nb,
						   u->depth, s->view_bids);
			size_t da = sim__diff_side('a', u->asks, u->n_asks, s->old_asks, na,
						   u->depth, s->view_asks);
			if (db == 0 && da == 0)
				continue;
			uint32_t wire = sum;
			if (p->corrupt) {
				wire = sum ^ 0x5a5a5a5au;
				corrupted = true;
			}
			send_book(c, &p->kp, false, s->view_bids, db, s->view_asks, da, wire);
			memcpy(u->bids, s->old_bids, nb * sizeof(*u->bids));
			memcpy(u->asks, s->old_asks, na * sizeof(*u->asks));
			u->n_bids = nb;
			u->n_asks = na;
		}
		if (corrupted) {
			p->corrupt = false;
			LOG_INFO("sim", "fault: corrupt checksum sent", "symbol=%s", p->kp.symbol);
		}
	}
}

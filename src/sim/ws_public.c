/* The WS v2 side of the simulator on /v2 and /v2-auth: connections, status
 * on connect, request parsing, ping/pong, subscribe/unsubscribe dispatch
 * (the book and instrument channels themselves are in ws_book.c),
 * heartbeats, and the faults that act on connections. Everything runs on
 * the server loop thread with sim__lock held. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/fixed.h"
#include "core/log.h"
#include "sim/sim_srv.h"

static const unsigned depths[] = {10, 25, 100, 500, 1000};

bool sim__stalled(const struct sim *s)
{
	return s->stall_until_ns != 0 && clock_mono_ns() < s->stall_until_ns;
}

void sim__ws_private_set(struct sim *s, const struct sim_ws_private_ops *ops)
{
	s->priv_ops = ops;
}

bool sim__conn_is_private(const struct sim_conn *c)
{
	return c->priv;
}

uint64_t sim__conn_id(const struct sim_conn *c)
{
	return c->id;
}

void **sim__conn_private_slot(struct sim_conn *c)
{
	return &c->priv_state;
}

void sim__conn_foreach(struct sim *s, void (*fn)(struct sim_conn *c, void *arg), void *arg)
{
	for (struct sim_conn *c = s->conns, *nx; c; c = nx) {
		nx = c->next;
		fn(c, arg);
	}
}

static void close_conn(struct sim_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	lws_callback_on_writable(c->wsi);
}

int sim__conn_send(struct sim_conn *c, const char *msg, size_t len)
{
	if (c->closing)
		return ERR_BADSTATE;
	if (c->queued + len > SIM_CONN_QUEUE_MAX) {
		LOG_WARN("sim", "slow consumer closed", "conn=%llu queued=%zu",
			 (unsigned long long)c->id, c->queued);
		close_conn(c);
		return ERR_FULL;
	}
	struct sim_msg *m = malloc(sizeof(*m));
	char *mem = malloc(LWS_PRE + len + 1);
	if (!m || !mem) {
		free(m);
		free(mem);
		close_conn(c);
		return ERR_NOMEM;
	}
	memcpy(mem + LWS_PRE, msg, len);
	m->mem = mem;
	m->len = len;
	m->next = NULL;
	if (c->tail)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	c->queued += len;
	if (!sim__stalled(c->s))
		lws_callback_on_writable(c->wsi);
	return 0;
}

void sim__send_out(struct sim_conn *c)
{
	struct sim *s = c->s;
	if (s->out.oom) {
		LOG_ERROR("sim", "message dropped: out of memory", NULL);
		close_conn(c);
		return;
	}
	sim__conn_send(c, sim__buf_text(&s->out), s->out.len);
}

static const char *status_str(enum kr_system_status st)
{
	switch (st) {
	case KR_SYSTEM_MAINTENANCE:
		return "maintenance";
	case KR_SYSTEM_CANCEL_ONLY:
		return "cancel_only";
	case KR_SYSTEM_POST_ONLY:
		return "post_only";
	default:
		return "online";
	}
}

static void send_status(struct sim_conn *c)
{
	struct sim_buf *b = &c->s->out;
	sim__buf_reset(b);
	sim__buf_printf(b,
			"{\"channel\":\"status\",\"data\":[{\"api_version\":\"v2\","
			"\"connection_id\":%llu,\"system\":\"%s\",\"version\":\"2.0.0\"}],"
			"\"type\":\"update\"}",
			(unsigned long long)c->id, status_str(c->s->status));
	sim__send_out(c);
}

void sim__broadcast_status(struct sim *s)
{
	for (struct sim_conn *c = s->conns; c; c = c->next)
		send_status(c);
}

void sim__broadcast_malformed(struct sim *s)
{
	/* Cut off mid-object, as a broken proxy or a torn frame would. */
	static const char bad[] =
	    "{\"channel\":\"book\",\"type\":\"update\",\"data\":[{\"symbol\":";
	for (struct sim_conn *c = s->conns; c; c = c->next)
		if (!c->priv)
			sim__conn_send(c, bad, sizeof(bad) - 1);
}

void sim__drop_all(struct sim *s)
{
	for (struct sim_conn *c = s->conns; c; c = c->next)
		close_conn(c);
}

void sim__fault_apply(struct sim *s, const struct sim_fault *f)
{
	switch (f->kind) {
	case SIM_FAULT_DROP:
		LOG_INFO("sim", "fault: drop", "connections=%zu", s->n_conns);
		sim__drop_all(s);
		break;
	case SIM_FAULT_CORRUPT:
		if (f->pair >= 0 && (size_t)f->pair < s->n_pairs)
			s->pairs[f->pair].corrupt = true;
		break;
	case SIM_FAULT_MALFORMED:
		sim__broadcast_malformed(s);
		break;
	case SIM_FAULT_STALL:
		s->stall_until_ns = clock_mono_ns() + f->ms * 1000000ull;
		LOG_INFO("sim", "fault: stall", "ms=%llu", (unsigned long long)f->ms);
		break;
	case SIM_FAULT_STATUS:
		if (s->status != f->status) {
			s->status = f->status;
			sim__broadcast_status(s);
		}
		break;
	}
}

/* ---- Replies ---- */

void sim__reply_head(struct sim_buf *b, const struct sim_req *r, const char *method)
{
	sim__buf_reset(b);
	sim__buf_printf(b, "{\"method\":\"%s\"", method);
	if (r->has_req_id)
		sim__buf_printf(b, ",\"req_id\":%s", r->req_id);
}

void sim__reply_tail(struct sim_buf *b, const struct sim_req *r)
{
	sim__buf_str(b, ",\"time_in\":");
	sim__buf_time(b, r->time_in);
	sim__buf_str(b, ",\"time_out\":");
	sim__buf_time(b, clock_wall_ns());
	sim__buf_str(b, "}");
}

/* An error reply; symbol may be NULL. err must not contain '"' or '\\'. */
void sim__reply_error(struct sim_conn *c, const struct sim_req *r, const char *method,
		      const char *err, const char *symbol)
{
	struct sim_buf *b = &c->s->out;
	c->s->bad_requests++;
	sim__reply_head(b, r, method[0] ? method : "unknown");
	sim__buf_printf(b, ",\"error\":\"%s\",\"success\":false", err);
	if (symbol)
		sim__buf_printf(b, ",\"symbol\":\"%s\"", symbol);
	sim__reply_tail(b, r);
	sim__send_out(c);
}

/* Returns true when handled, false to hand the request to the private side. */
static bool handle_subscribe(struct sim_conn *c, const struct sim_json *j, const struct sim_req *r,
			     bool unsub)
{
	const char *m = unsub ? "unsubscribe" : "subscribe";
	int params = sim__json_get(j, 0, "params");
	int ch = sim__json_get(j, params, "channel");
	char channel[32] = "";
	if (!sim__json_is_object(j, params) || !sim__json_is_string(j, ch) ||
	    sim__json_str(j, ch, channel, sizeof(channel)) != 0) {
		sim__reply_error(c, r, m, "EGeneral:Invalid arguments", NULL);
		return true;
	}
	if (strcmp(channel, "instrument") == 0) {
		if (unsub) {
			c->instrument = false;
		} else {
			c->instrument = true;
		}
		struct sim_buf *b = &c->s->out;
		sim__reply_head(b, r, m);
		sim__buf_str(b, ",\"result\":{\"channel\":\"instrument\",\"snapshot\":true,"
				"\"warnings\":[\"tick_size is deprecated, use price_increment\"]},"
				"\"success\":true");
		sim__reply_tail(b, r);
		sim__send_out(c);
		bool snap = true;
		int st = sim__json_get(j, params, "snapshot");
		if (st >= 0 && sim__json_bool(j, st, &snap) != 0) {
			snap = true;
		}
		if (!unsub && snap)
			sim__send_instrument(c);
		return true;
	}
	if (strcmp(channel, "book") != 0) {
		if (c->priv && c->s->priv_ops)
			return false;
		char err[80];
		snprintf(err, sizeof(err), "Channel %s not supported", channel);
		for (char *q = err; *q; q++)
			if (*q == '"' || *q == '\\')
				*q = '?';
		sim__reply_error(c, r, m, err, NULL);
		return true;
	}
	int syms = sim__json_get(j, params, "symbol");
	if (!sim__json_is_array(j, syms) || j->tok[syms].size == 0) {
		sim__reply_error(c, r, m, "EGeneral:Invalid arguments:symbol", NULL);
		return true;
	}
	unsigned depth = 10;
	bool depth_ok = true, snapshot = true;
	int dt = sim__json_get(j, params, "depth");
	if (dt >= 0) {
		int64_t d;
		depth_ok = false;
		if (sim__json_i64(j, dt, &d) == 0)
			for (size_t k = 0; k < sizeof(depths) / sizeof(depths[0]); k++)
				if (d == depths[k]) {
					depth = depths[k];
					depth_ok = true;
				}
	}
	int st = sim__json_get(j, params, "snapshot");
	bool snapshot_ok = st < 0 || sim__json_bool(j, st, &snapshot) == 0;
	for (int k = 0; k < j->tok[syms].size; k++) {
		char sym[KR_SYMBOL_MAX];
		int e = sim__json_elem(j, syms, k);
		if (!sim__json_is_string(j, e) || sim__json_str(j, e, sym, sizeof(sym)) != 0 ||
		    strchr(sym, '\\')) {
			sim__reply_error(c, r, m, "EGeneral:Invalid arguments:symbol", NULL);
			continue;
		}
		if (!depth_ok)
			sim__reply_error(c, r, m, "EGeneral:Invalid arguments:depth", sym);
		else if (!snapshot_ok)
			sim__reply_error(c, r, m, "EGeneral:Invalid arguments:snapshot", sym);
		else if (unsub)
			sim__book_unsubscribe(c, r, sym, dt >= 0 ? depth : 0);
		else
			sim__book_subscribe(c, r, sym, depth, snapshot);
	}
	return true;
}

static void handle_frame(struct sim_conn *c, const char *frame, size_t len)
{
	struct sim *s = c->s;
	struct sim_req r = {.time_in = clock_wall_ns()};
	struct sim_json j;
	if (sim__json_parse(&j, frame, len) != 0 || !sim__json_is_object(&j, 0)) {
		if (j.tok)
			sim__json_release(&j);
		LOG_DEBUG("sim", "malformed request", "conn=%llu len=%zu",
			  (unsigned long long)c->id, len);
		sim__reply_error(c, &r, "", "EGeneral:Invalid arguments", NULL);
		return;
	}
	int m = sim__json_get(&j, 0, "method");
	int rid = sim__json_get(&j, 0, "req_id");
	if (rid >= 0) {
		int64_t v;
		if (sim__json_i64(&j, rid, &v) == 0 && v >= 0 &&
		    sim__json_str(&j, rid, r.req_id, sizeof(r.req_id)) == 0)
			r.has_req_id = true;
	}
	if (!sim__json_is_string(&j, m) || sim__json_str(&j, m, r.method, sizeof(r.method)) != 0 ||
	    strchr(r.method, '\\')) {
		sim__reply_error(c, &r, "", "EGeneral:Invalid arguments:method", NULL);
		goto cleanup;
	}
	if (rid >= 0 && !r.has_req_id) {
		sim__reply_error(c, &r, r.method, "EGeneral:Invalid arguments:req_id", NULL);
		goto cleanup;
	}
	if (strcmp(r.method, "ping") == 0) {
		sim__reply_head(&s->out, &r, "pong");
		sim__reply_tail(&s->out, &r);
		sim__send_out(c);
		goto cleanup;
	}
	if (strcmp(r.method, "subscribe") == 0 || strcmp(r.method, "unsubscribe") == 0) {
		if (handle_subscribe(c, &j, &r, r.method[0] == 'u'))
			goto cleanup;
	}
	if (c->priv && s->priv_ops && s->priv_ops->on_request &&
	    s->priv_ops->on_request(s, c, frame, len) != ERR_NOTFOUND)
		goto cleanup;
	sim__reply_error(c, &r, r.method, "EGeneral:Invalid arguments:method", NULL);
cleanup:
	sim__json_release(&j);
}

void sim__heartbeats(struct sim *s)
{
	static const char hb[] = "{\"channel\":\"heartbeat\"}";
	uint64_t now = clock_mono_ns();
	if (sim__stalled(s) || now < s->next_heartbeat_ns)
		return;
	s->next_heartbeat_ns = now + 1000000000ull;
	for (struct sim_conn *c = s->conns; c; c = c->next)
		if (c->subs || c->instrument)
			sim__conn_send(c, hb, sizeof(hb) - 1);
}

/* ---- lws callbacks for WS connections ---- */

static bool path_ok(struct lws *wsi, bool *priv)
{
	char uri[64];
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
		return false;
	if (strcmp(uri, "/v2") == 0 || strcmp(uri, "/v2/") == 0) {
		*priv = false;
		return true;
	}
	if (strcmp(uri, "/v2-auth") == 0 || strcmp(uri, "/v2-auth/") == 0) {
		*priv = true;
		return true;
	}
	return false;
}

static void conn_release(struct sim_conn *c)
{
	struct sim *s = c->s;
	if (c->priv && s->priv_ops && s->priv_ops->on_close)
		s->priv_ops->on_close(s, c);
	while (c->subs) {
		struct sim_sub *u = c->subs;
		c->subs = u->next;
		sim__sub_free(u);
	}
	while (c->head) {
		struct sim_msg *m = c->head;
		c->head = m->next;
		free(m->mem);
		free(m);
	}
	c->tail = NULL;
	free(c->rx);
	c->rx = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else if (s->conns == c)
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
}

int sim__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, struct sim_pss *pss,
		     void *in, size_t len)
{
	struct sim *s = lws_context_user(lws_get_context(wsi));
	struct sim_conn *c = pss ? &pss->conn : NULL;
	bool priv = false;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* Only the two Kraken paths upgrade to WebSocket. */
		return path_ok(wsi, &priv) ? 0 : 1;
	case LWS_CALLBACK_ESTABLISHED:
		memset(pss, 0, sizeof(*pss));
		pss->is_ws = true;
		path_ok(wsi, &priv);
		c->s = s;
		c->wsi = wsi;
		c->priv = priv;
		/* Kraken's ids are large; any distinct value will do here. */
		c->id = 13834774380200000000ull + (++s->next_conn_id);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->n_conns++;
		send_status(c);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (!c || !c->s)
			return 0;
		if (!c->rx_drop) {
			if (c->rx_len + len > SIM_RX_MAX) {
				c->rx_drop = true;
			} else {
				if (c->rx_len + len > c->rx_cap) {
					size_t cap = c->rx_cap ? c->rx_cap : 4096;
					while (cap < c->rx_len + len)
						cap *= 2;
					char *nr = realloc(c->rx, cap);
					if (!nr)
						return -1;
					c->rx = nr;
					c->rx_cap = cap;
				}
				memcpy(c->rx + c->rx_len, in, len);
				c->rx_len += len;
			}
		}
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
			if (c->rx_drop) {
				struct sim_req r = {.time_in = clock_wall_ns()};
				sim__reply_error(c, &r, "",
						 "EGeneral:Invalid arguments:request too large",
						 NULL);
			} else {
				handle_frame(c, c->rx, c->rx_len);
			}
			c->rx_len = 0;
			c->rx_drop = false;
		}
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE: {
		if (!c || !c->s)
			return 0;
		if (c->closing) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, NULL, 0);
			return -1;
		}
		if (sim__stalled(s) || !c->head)
			return 0;
		struct sim_msg *m = c->head;
		int n = lws_write(wsi, (unsigned char *)m->mem + LWS_PRE, m->len, LWS_WRITE_TEXT);
		if (n < (int)m->len)
			return -1;
		c->head = m->next;
		if (!c->head)
			c->tail = NULL;
		c->queued -= m->len;
		free(m->mem);
		free(m);
		s->messages_sent++;
		if (c->head)
			lws_callback_on_writable(wsi);
		return 0;
	}
	case LWS_CALLBACK_CLOSED:
		if (c && c->s)
			conn_release(c);
		return 0;
	default:
		return 0;
	}
}

/* Orders over REST: queries, AddOrder (and batch), cancels, and the
 * reconciliation of an order whose outcome is unknown. */
#include "kraken/rest_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"

#define JS(r)	   ((struct kr__js){(r)->body, (r)->tok, (r)->ntok})
#define FORM_MAX   8192
#define BATCH_FORM (FORM_MAX * 4)

const char *kr_order_status_str(enum kr_order_status s)
{
	static const char *const names[] = {"unknown", "pending",  "open",
					    "closed",  "canceled", "expired"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static enum kr_order_status status_of(const struct kr__js *j, int i)
{
	static const char *const names[] = {"pending", "open", "closed", "canceled", "expired"};

	for (int k = 0; k < 5; k++)
		if (kr__js_eq(j, i, names[k]))
			return (enum kr_order_status)(k + 1);
	return KR_ORDER_UNKNOWN;
}

static int opt_dec(const struct kr__js *j, int obj, const char *key, struct kr_dec *d)
{
	int i = kr__js_get(j, obj, key);

	d->v = 0;
	d->scale = 0;
	if (i < 0 || kr__js_eq(j, i, "null") || kr__js_eq(j, i, ""))
		return 0;
	return kr__js_dec(j, i, d);
}

static int one_order(const struct kr__js *j, int key, struct kr_rest_order *o)
{
	int v = key + 1, d, i;

	memset(o, 0, sizeof(*o));
	if (kr__js_str(j, key, o->txid, sizeof(o->txid)) || j->t[v].type != JSMN_OBJECT)
		return ERR_SCHEMA;
	i = kr__js_get(j, v, "status");
	if (i < 0)
		return ERR_SCHEMA;
	o->status = status_of(j, i);
	i = kr__js_get(j, v, "userref");
	if (i >= 0 && !kr__js_eq(j, i, "null") && kr__js_int(j, i, &o->userref) == 0)
		o->has_userref = true;
	kr__js_str(j, kr__js_get(j, v, "cl_ord_id"), o->cl_ord_id, sizeof(o->cl_ord_id));
	if (opt_dec(j, v, "vol", &o->vol) || opt_dec(j, v, "vol_exec", &o->vol_exec) ||
	    opt_dec(j, v, "cost", &o->cost) || opt_dec(j, v, "fee", &o->fee) ||
	    opt_dec(j, v, "price", &o->avg_price))
		return ERR_SCHEMA;
	kr__js_double(j, kr__js_get(j, v, "opentm"), &o->opentm);
	kr__js_double(j, kr__js_get(j, v, "closetm"), &o->closetm);
	kr__js_str(j, kr__js_get(j, v, "oflags"), o->oflags, sizeof(o->oflags));
	kr__js_str(j, kr__js_get(j, v, "reason"), o->reason, sizeof(o->reason));
	d = kr__js_get(j, v, "descr");
	if (d >= 0 && j->t[d].type == JSMN_OBJECT) {
		kr__js_str(j, kr__js_get(j, d, "pair"), o->pair, sizeof(o->pair));
		kr__js_str(j, kr__js_get(j, d, "type"), o->side, sizeof(o->side));
		kr__js_str(j, kr__js_get(j, d, "ordertype"), o->ordertype, sizeof(o->ordertype));
		kr__js_str(j, kr__js_get(j, d, "order"), o->descr, sizeof(o->descr));
		if (opt_dec(j, d, "price", &o->limit_price))
			return ERR_SCHEMA;
	}
	return 0;
}

/* Parses {txid: order, ...} at obj into out (appending). */
static int order_map(const struct kr__js *j, int obj, struct kr_rest_orders *out)
{
	struct kr_rest_order *nv;
	int i, k;

	if (obj < 0 || j->t[obj].type != JSMN_OBJECT)
		return ERR_SCHEMA;
	nv = realloc(out->v, (out->n + (size_t)j->t[obj].size + 1) * sizeof(*nv));
	if (!nv)
		return ERR_NOMEM;
	out->v = nv;
	for (k = 0, i = obj + 1; k < j->t[obj].size; k++, i = kr__js_skip(j, i + 1)) {
		if (one_order(j, i, &out->v[out->n]))
			return ERR_SCHEMA;
		out->n++;
	}
	return 0;
}

static int filter_form(const struct kr_rest_order_filter *f, char *q, size_t cap)
{
	size_t len = 0;
	char ref[16];

	q[0] = '\0';
	if (!f)
		return 0;
	if (f->has_userref) {
		snprintf(ref, sizeof(ref), "%" PRId32, f->userref);
		if (kr_rest_form_add(q, cap, &len, "userref", ref))
			return ERR_RANGE;
	}
	if (f->cl_ord_id && *f->cl_ord_id &&
	    kr_rest_form_add(q, cap, &len, "cl_ord_id", f->cl_ord_id))
		return ERR_RANGE;
	return 0;
}

static int list_call(struct kr_rest *c, const char *method, const char *params, const char *member,
		     struct kr_rest_orders *out, struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = kr_rest_private(c, method, params, true, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	rc = order_map(&j, member ? kr__js_get(&j, r->result, member) : r->result, out);
	if (rc) {
		kr_rest_orders_free(out);
		rc = err_set(info, rc, "%s: result%s%s: malformed order list", method,
			     member ? "." : "", member ? member : "");
	}
	kr_rest_resp_free(r);
	return rc;
}

int kr_rest_open_orders(struct kr_rest *c, const struct kr_rest_order_filter *f,
			struct kr_rest_orders *out, struct err_info *info)
{
	char q[256];

	if (filter_form(f, q, sizeof(q)))
		return err_set(info, ERR_RANGE, "OpenOrders: filter too long");
	return list_call(c, "OpenOrders", q, "open", out, info);
}

int kr_rest_closed_orders(struct kr_rest *c, const struct kr_rest_order_filter *f,
			  struct kr_rest_orders *out, struct err_info *info)
{
	char q[256];

	if (filter_form(f, q, sizeof(q)))
		return err_set(info, ERR_RANGE, "ClosedOrders: filter too long");
	return list_call(c, "ClosedOrders", q, "closed", out, info);
}

int kr_rest_query_orders(struct kr_rest *c, const char *txids, struct kr_rest_orders *out,
			 struct err_info *info)
{
	char q[FORM_MAX];
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	if (!txids || !*txids)
		return err_set(info, ERR_INVALID, "QueryOrders: txid required");
	q[0] = '\0';
	if (kr_rest_form_add(q, sizeof(q), &len, "txid", txids))
		return err_set(info, ERR_RANGE, "QueryOrders: txid list too long");
	return list_call(c, "QueryOrders", q, NULL, out, info);
}

void kr_rest_orders_free(struct kr_rest_orders *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Appends one order's fields, each key wrapped as prefix + key + suffix
 * ("orders[0][" "type" "]" for a batch, "" "type" "" for AddOrder). */
static int order_form(const struct kr_rest_order_req *o, const char *pre, bool batch, char *q,
		      size_t cap, size_t *len)
{
	char key[64], num[32];
	int rc = 0;

#define ADD(k, v)                                                                                  \
	do {                                                                                       \
		snprintf(key, sizeof(key), batch ? "%s%s]" : "%s%s", pre, (k));                    \
		if ((rc = kr_rest_form_add(q, cap, len, key, (v))) != 0)                           \
			return rc;                                                                 \
	} while (0)
	if ((!batch && (!o->pair || !*o->pair)) || !o->side || !o->ordertype || o->volume.v <= 0)
		return ERR_INVALID;
	if (o->has_userref && o->cl_ord_id && *o->cl_ord_id)
		return ERR_INVALID; /* Kraken: mutually exclusive */
	ADD("ordertype", o->ordertype);
	if (!batch)
		ADD("pair", o->pair);
	ADD("type", o->side);
	if (kr_dec_format(o->volume, num, sizeof(num)) < 0)
		return ERR_RANGE;
	ADD("volume", num);
	if (o->has_price) {
		if (o->price.v <= 0 || kr_dec_format(o->price, num, sizeof(num)) < 0)
			return ERR_INVALID;
		ADD("price", num);
	}
	if (o->timeinforce && *o->timeinforce)
		ADD("timeinforce", o->timeinforce);
	if (o->oflags && *o->oflags)
		ADD("oflags", o->oflags);
	if (o->has_userref) {
		snprintf(num, sizeof(num), "%" PRId32, o->userref);
		ADD("userref", num);
	}
	if (o->cl_ord_id && *o->cl_ord_id)
		ADD("cl_ord_id", o->cl_ord_id);
	if (!batch && o->validate)
		ADD("validate", "true");
	if (!batch && o->deadline && *o->deadline)
		ADD("deadline", o->deadline);
#undef ADD
	return 0;
}

static void add_result(const struct kr__js *j, int obj, struct kr_rest_add_result *out)
{
	int d = kr__js_get(j, obj, "descr"), t = kr__js_get(j, obj, "txid");

	memset(out, 0, sizeof(*out));
	if (d >= 0)
		kr__js_str(j, kr__js_get(j, d, "order"), out->descr, sizeof(out->descr));
	if (t >= 0 && j->t[t].type == JSMN_ARRAY) {
		for (int k = 0, i = t + 1; k < j->t[t].size && out->n_txid < 4; k++, i++)
			if (kr__js_str(j, i, out->txid[out->n_txid], KR_REST_TXID_MAX) == 0)
				out->n_txid++;
	} else if (t >= 0 && kr__js_str(j, t, out->txid[0], KR_REST_TXID_MAX) == 0) {
		out->n_txid = 1;
	}
	kr__js_str(j, kr__js_get(j, obj, "error"), out->error, sizeof(out->error));
}

int kr_rest_add_order(struct kr_rest *c, const struct kr_rest_order_req *req,
		      struct kr_rest_add_result *out, struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	char q[FORM_MAX];
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	q[0] = '\0';
	rc = req ? order_form(req, "", false, q, sizeof(q), &len) : ERR_INVALID;
	if (rc)
		return err_set(info, rc,
			       "AddOrder: bad request (pair, side, ordertype, volume > 0, "
			       "price > 0 when given, userref and cl_ord_id exclusive)");
	rc = kr_rest_private(c, "AddOrder", q, false, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	add_result(&j, r->result, out);
	if (!req->validate && out->n_txid == 0)
		rc = err_set(info, ERR_UNKNOWN,
			     "AddOrder: the answer has no txid; reconcile the order");
	kr_rest_resp_free(r);
	return rc;
}

int kr_rest_add_order_batch(struct kr_rest *c, const char *pair,
			    const struct kr_rest_order_req *reqs, size_t n, bool validate,
			    const char *deadline, struct kr_rest_add_result *out,
			    struct err_info *info)
{
	struct kr_rest_resp *r = NULL;
	struct kr__js j;
	char *q, pre[32];
	size_t len = 0;
	int rc = 0, arr;

	if (!pair || !*pair || !reqs || n < 2 || n > KR_REST_MAX_BATCH)
		return err_set(info, ERR_INVALID,
			       "AddOrderBatch: a pair and 2..15 orders expected");
	q = malloc(BATCH_FORM);
	if (!q)
		return err_set(info, ERR_NOMEM, "AddOrderBatch: out of memory");
	q[0] = '\0';
	for (size_t i = 0; i < n && rc == 0; i++) {
		snprintf(pre, sizeof(pre), "orders[%zu][", i);
		rc = order_form(&reqs[i], pre, true, q, BATCH_FORM, &len);
		memset(&out[i], 0, sizeof(out[i]));
	}
	if (rc == 0)
		rc = kr_rest_form_add(q, BATCH_FORM, &len, "pair", pair);
	if (rc == 0 && validate)
		rc = kr_rest_form_add(q, BATCH_FORM, &len, "validate", "true");
	if (rc == 0 && deadline && *deadline)
		rc = kr_rest_form_add(q, BATCH_FORM, &len, "deadline", deadline);
	if (rc) {
		rc = err_set(info, rc, "AddOrderBatch: bad order in the batch");
		goto cleanup;
	}
	rc = kr_rest_private(c, "AddOrderBatch", q, false, &r, info);
	if (rc)
		goto cleanup;
	j = JS(r);
	arr = kr__js_get(&j, r->result, "orders");
	if (arr < 0 || j.t[arr].type != JSMN_ARRAY || (size_t)j.t[arr].size != n) {
		rc = err_set(
		    info, ERR_UNKNOWN,
		    "AddOrderBatch: result.orders does not list %zu orders; reconcile them", n);
		goto cleanup;
	}
	for (int k = 0, i = arr + 1; k < j.t[arr].size; k++, i = kr__js_skip(&j, i))
		add_result(&j, i, &out[k]);
cleanup:
	kr_rest_resp_free(r);
	free(q);
	return rc;
}

int kr_rest_cancel_order(struct kr_rest *c, const char *txid, const char *cl_ord_id, int64_t *count,
			 bool *pending, struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	char q[512];
	size_t len = 0;
	int64_t n = 0;
	int rc, p;

	q[0] = '\0';
	if ((txid && *txid) ? kr_rest_form_add(q, sizeof(q), &len, "txid", txid)
	    : (cl_ord_id && *cl_ord_id)
		? kr_rest_form_add(q, sizeof(q), &len, "cl_ord_id", cl_ord_id)
		: ERR_INVALID)
		return err_set(info, ERR_INVALID,
			       "CancelOrder: a txid, userref or cl_ord_id expected");
	rc = kr_rest_private(c, "CancelOrder", q, false, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	if (kr__js_int(&j, kr__js_get(&j, r->result, "count"), &n))
		rc = err_set(info, ERR_SCHEMA, "CancelOrder: result.count missing");
	p = kr__js_get(&j, r->result, "pending");
	if (count)
		*count = n;
	if (pending)
		*pending = p >= 0 && kr__js_eq(&j, p, "true");
	kr_rest_resp_free(r);
	return rc;
}

int kr_rest_cancel_all(struct kr_rest *c, int64_t *count, struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	int64_t n = 0;
	int rc = kr_rest_private(c, "CancelAll", NULL, false, &r, info);

	if (rc)
		return rc;
	j = JS(r);
	if (kr__js_int(&j, kr__js_get(&j, r->result, "count"), &n))
		rc = err_set(info, ERR_SCHEMA, "CancelAll: result.count missing");
	if (count)
		*count = n;
	kr_rest_resp_free(r);
	return rc;
}

static int time_field(const struct kr__js *j, int obj, const char *key, int64_t *out)
{
	char t[48];

	if (kr__js_str(j, kr__js_get(j, obj, key), t, sizeof(t)))
		return ERR_SCHEMA;
	return clock_parse_rfc3339(t, strlen(t), out) ? ERR_SCHEMA : 0;
}

int kr_rest_cancel_all_after(struct kr_rest *c, uint32_t timeout_s, int64_t *current_ns,
			     int64_t *trigger_ns, struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	char q[64], num[16];
	size_t len = 0;
	int64_t cur = 0, trig = 0;
	int rc;

	if (timeout_s >= 86400)
		return err_set(info, ERR_INVALID, "CancelAllOrdersAfter: timeout %u is not < 86400",
			       timeout_s);
	snprintf(num, sizeof(num), "%u", timeout_s);
	q[0] = '\0';
	kr_rest_form_add(q, sizeof(q), &len, "timeout", num);
	rc = kr_rest_private(c, "CancelAllOrdersAfter", q, false, &r, info);
	if (rc)
		return rc;
	j = JS(r);
	if (time_field(&j, r->result, "currentTime", &cur) ||
	    (timeout_s && time_field(&j, r->result, "triggerTime", &trig)))
		rc = err_set(info, ERR_SCHEMA,
			     "CancelAllOrdersAfter: result.currentTime/triggerTime malformed");
	if (current_ns)
		*current_ns = cur;
	if (trigger_ns)
		*trigger_ns = trig;
	kr_rest_resp_free(r);
	return rc;
}

static bool matches(const struct kr_rest_order *o, const struct kr_rest_order_filter *f)
{
	if (f->has_userref && (!o->has_userref || o->userref != f->userref))
		return false;
	if (f->cl_ord_id && *f->cl_ord_id && strcmp(o->cl_ord_id, f->cl_ord_id) != 0)
		return false;
	return true;
}

int kr_rest_reconcile(struct kr_rest *c, const struct kr_rest_order_filter *f,
		      struct kr_rest_order *found, struct err_info *info)
{
	struct kr_rest_orders l;
	int rc;

	if (!f || (!f->has_userref && !(f->cl_ord_id && *f->cl_ord_id)))
		return err_set(info, ERR_INVALID, "reconcile: a userref or cl_ord_id is required");
	for (int pass = 0; pass < 2; pass++) {
		rc = pass == 0 ? kr_rest_open_orders(c, f, &l, info)
			       : kr_rest_closed_orders(c, f, &l, info);
		if (rc)
			return rc;
		/* Filter again: the server's filter is trusted but not relied on. */
		for (size_t i = 0; i < l.n; i++) {
			if (matches(&l.v[i], f)) {
				if (found)
					*found = l.v[i];
				kr_rest_orders_free(&l);
				return 1;
			}
		}
		kr_rest_orders_free(&l);
	}
	return 0;
}

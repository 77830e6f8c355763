/* One-line descriptions of opportunities for logs and records. */
#include <stdarg.h>
#include <stdio.h>

#include "arb/arb.h"
#include "core/fixed.h"

struct out {
	char *buf;
	size_t cap, len;
	bool trunc;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int n = vsnprintf(o->buf + o->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		o->trunc = true;
		o->len = o->cap ? o->cap - 1 : 0;
		return;
	}
	o->len += (size_t)n;
}

int arb_opp_describe(const struct arb_opp *op, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap};
	if (!cap)
		return ERR_RANGE;
	buf[0] = '\0';
	put(&o, "%s size=%.8g %s profit=%.8g %s (%.2f bps) fees=%.8g rate=%.6f age<=%ums", op->path,
	    op->size_home, op->home, op->profit_home, op->home, op->profit_bps, op->fee_home,
	    op->net_rate, (unsigned)op->max_book_age_ms);
	for (unsigned k = 0; k < op->n_legs && k < ARB_MAX_LEGS; k++) {
		const struct arb_leg *l = &op->legs[k];
		char q[32], p[32];
		if (fx_format(l->qty, l->qty_scale, q, sizeof q) < 0)
			q[0] = '\0';
		if (fx_format(l->limit_price, l->price_scale, p, sizeof p) < 0)
			p[0] = '\0';
		put(&o, "; %s %s %s @%s%s rate=%.8g", l->side == ARB_BUY ? "BUY" : "SELL", q,
		    l->symbol, l->side == ARB_BUY ? "<=" : ">=", p, l->rate);
	}
	return o.trunc ? ERR_RANGE : (int)o.len;
}

/* Fuzz target: Kraken WS v2 private frames (executions, balances, method
 * replies, status) through kr_priv_decode, as the execution thread reads
 * them from ws-auth. An input is a list of frames separated by '\n'.
 *
 * Checked besides memory safety: every frame gets a known outcome; entries
 * stay within the decoder's capacity; every text field is NUL-terminated
 * inside its array; every decimal has a scale of 0..18. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kraken/private.h"

#define FUZZ_ENTRIES 16u

#define TEXT_OK(a) FUZZ_CHECK(memchr((a), '\0', sizeof(a)) != NULL)

static struct kr_priv_decoder *dec;

static void check_dec(const struct kr_dec *d)
{
	FUZZ_CHECK(d->scale >= 0 && d->scale <= 18);
}

static void check_exec(const struct kr_priv_exec *e)
{
	TEXT_OK(e->order_id);
	TEXT_OK(e->cl_ord_id);
	TEXT_OK(e->symbol);
	TEXT_OK(e->order_type);
	TEXT_OK(e->time_in_force);
	TEXT_OK(e->exec_id);
	TEXT_OK(e->reason);
	TEXT_OK(e->fee_asset);
	FUZZ_CHECK(e->side == 0 || e->side == 'b' || e->side == 's');
	if (e->has_order_qty)
		check_dec(&e->order_qty);
	if (e->has_limit_price)
		check_dec(&e->limit_price);
	if (e->has_cum_qty)
		check_dec(&e->cum_qty);
	if (e->has_cum_cost)
		check_dec(&e->cum_cost);
	if (e->has_avg_price)
		check_dec(&e->avg_price);
	if (e->has_last_qty)
		check_dec(&e->last_qty);
	if (e->has_last_price)
		check_dec(&e->last_price);
	if (e->has_fee)
		check_dec(&e->fee);
}

static void check_msg(const struct kr_priv_msg *m)
{
	FUZZ_CHECK(m->n <= FUZZ_ENTRIES);
	switch (m->kind) {
	case KR_PRIV_EXECUTIONS:
		FUZZ_CHECK(m->n == 0 || m->exec != NULL);
		for (size_t i = 0; i < m->n; i++)
			check_exec(&m->exec[i]);
		break;
	case KR_PRIV_BALANCES:
		FUZZ_CHECK(m->n == 0 || m->bal != NULL);
		for (size_t i = 0; i < m->n; i++) {
			TEXT_OK(m->bal[i].asset);
			TEXT_OK(m->bal[i].type);
			TEXT_OK(m->bal[i].ref_id);
			check_dec(&m->bal[i].balance);
			check_dec(&m->bal[i].fee);
			if (m->bal[i].has_amount)
				check_dec(&m->bal[i].amount);
		}
		break;
	case KR_PRIV_REPLY:
		TEXT_OK(m->reply.method);
		TEXT_OK(m->reply.error);
		break;
	case KR_PRIV_STATUS:
	case KR_PRIV_HEARTBEAT:
	case KR_PRIV_OTHER:
		break;
	case KR_PRIV_NONE:
	default:
		FUZZ_CHECK(0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	if (!dec) {
		/* Few entries, so ERR_FULL (entries kept, the rest counted)
		 * is reachable with small inputs. */
		dec = kr_priv_decoder_new(4096, FUZZ_ENTRIES);
		if (!dec)
			abort();
	}
	while (p <= end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		struct kr_priv_msg m;
		struct err_info info = {0};
		char *frame = malloc(len ? len : 1);
		if (!frame)
			abort();
		memcpy(frame, p, len);
		memset(&m, 0, sizeof(m));
		int rc = kr_priv_decode(dec, frame, len, &m, &info);
		if (rc == 0 || rc == ERR_FULL) {
			check_msg(&m);
			if (rc == ERR_FULL)
				FUZZ_CHECK(m.n == FUZZ_ENTRIES);
		} else {
			FUZZ_CHECK(rc == ERR_PARSE || rc == ERR_SCHEMA);
			FUZZ_CHECK(memchr(info.msg, '\0', sizeof(info.msg)) != NULL);
		}
		free(frame);
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

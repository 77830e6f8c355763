/* The client-side model of Kraken's REST call counter (PROTOCOL.md §8.1). */
#include "kraken/rest_int.h"

#include <strings.h>

void kr__rate_init(struct kr__rate *r, double max, double decay)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
	r->decay = decay > 0 ? decay : 0.33;
}

double kr__rate_level(struct kr__rate *r, uint64_t now_ns)
{
	if (now_ns > r->t_ns) {
		double dt = (double)(now_ns - r->t_ns) / 1e9;

		r->level -= dt * r->decay;
		if (r->level < 0)
			r->level = 0;
		r->t_ns = now_ns;
	}
	return r->level;
}

uint64_t kr__rate_wait_ns(struct kr__rate *r, double cost, uint64_t now_ns)
{
	double level = kr__rate_level(r, now_ns);
	double over;

	if (r->blocked_until_ns > now_ns)
		return r->blocked_until_ns - now_ns;
	if (cost <= 0 || level + cost <= r->max)
		return 0;
	over = level + cost - r->max;
	/* Round up, plus a millisecond, so the wait never ends a hair early. */
	return (uint64_t)(over / r->decay * 1e9) + 1000000u;
}

void kr__rate_add(struct kr__rate *r, double cost, uint64_t now_ns)
{
	kr__rate_level(r, now_ns);
	r->level += cost;
}

void kr__rate_penalize(struct kr__rate *r, uint64_t now_ns, uint64_t backoff_ns)
{
	kr__rate_level(r, now_ns);
	if (r->level < r->max)
		r->level = r->max;
	if (now_ns + backoff_ns > r->blocked_until_ns)
		r->blocked_until_ns = now_ns + backoff_ns;
}

int kr__rate_tier(const char *tier, double *max, double *decay)
{
	if (!tier || !*tier || strcasecmp(tier, "starter") == 0) {
		*max = 15;
		*decay = 0.33;
	} else if (strcasecmp(tier, "intermediate") == 0) {
		*max = 20;
		*decay = 0.5;
	} else if (strcasecmp(tier, "pro") == 0) {
		*max = 20;
		*decay = 1.0;
	} else {
		return ERR_INVALID;
	}
	return 0;
}

double kr__rate_cost(const char *method)
{
	static const char *const free_calls[] = {"AddOrder", "AddOrderBatch", "CancelOrder", NULL};
	static const char *const double_calls[] = {"Ledgers", "QueryLedgers", "TradesHistory",
						   "QueryTrades", NULL};

	for (size_t i = 0; free_calls[i]; i++)
		if (strcmp(method, free_calls[i]) == 0)
			return 0;
	for (size_t i = 0; double_calls[i]; i++)
		if (strcmp(method, double_calls[i]) == 0)
			return 2;
	return 1;
}

static bool starts(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && memcmp(s, lit, n) == 0;
}

int kr__rest_classify(const char *s, size_t len)
{
	if (starts(s, len, "EAPI:Invalid key") || starts(s, len, "EAPI:Invalid signature") ||
	    starts(s, len, "EAPI:Invalid nonce") || starts(s, len, "EGeneral:Temporary lockout"))
		return ERR_AUTH;
	if (starts(s, len, "EGeneral:Permission denied") ||
	    starts(s, len, "EAccount:Invalid permissions"))
		return ERR_REJECTED;
	if (starts(s, len, "EAPI:Rate limit exceeded") || starts(s, len, "EService: Throttled") ||
	    starts(s, len, "EService:Throttled"))
		return ERR_RATELIMIT;
	return ERR_EXCHANGE;
}

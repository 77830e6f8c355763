/* Shared by src/kraken/rest*.c and tests/unit/kraken/test_rest*.c only: the
 * parsed answer, JSON helpers over jsmn tokens, and the REST call counter.
 *
 * jsmn is compiled static into each file that includes this header with the
 * same options as codec_int.h, so jsmntok_t has one layout in the module. */
#ifndef ARB_KRAKEN_REST_INT_H
#define ARB_KRAKEN_REST_INT_H

#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kraken/rest.h"

struct kr_rest_resp {
	char *body; /* NUL-terminated copy of the answer */
	size_t len;
	jsmntok_t *tok;
	int ntok;
	int result; /* token of "result", -1 when absent */
};

/* A token array over text, for the helpers below. */
struct kr__js {
	const char *s;
	const jsmntok_t *t;
	int n;
};

/* Tokenizes text (len bytes) into a newly allocated array (*out, free());
 * returns the token count, ERR_PARSE (malformed or truncated JSON, or
 * trailing bytes after the top value) or ERR_NOMEM. */
int kr__js_parse(const char *text, size_t len, jsmntok_t **out);
/* The token after the subtree at i. */
int kr__js_skip(const struct kr__js *j, int i);
/* The value token of key in the object at obj, or -1. */
int kr__js_get(const struct kr__js *j, int obj, const char *key);
/* Token i equals the literal s (string contents or primitive text). */
bool kr__js_eq(const struct kr__js *j, int i, const char *s);
/* Copies a string (or primitive) token, raw, NUL-terminated. ERR_SCHEMA when
 * i < 0, not a scalar, or longer than cap - 1. */
int kr__js_str(const struct kr__js *j, int i, char *out, size_t cap);
/* Decimal from a string or number token. ERR_SCHEMA / ERR_PARSE / ERR_RANGE. */
int kr__js_dec(const struct kr__js *j, int i, struct kr_dec *d);
/* Integer from a number token (or a string holding one). */
int kr__js_int(const struct kr__js *j, int i, int64_t *v);
/* Number (possibly fractional) as double, for timestamps. */
int kr__js_double(const struct kr__js *j, int i, double *v);

/* Kraken's REST counter model (PROTOCOL.md §8.1): level decays at decay/s
 * towards 0; a call adds its cost; above max the server refuses. */
struct kr__rate {
	double max;
	double decay; /* per second, > 0 */
	double level;
	uint64_t t_ns;		   /* monotonic time of level */
	uint64_t blocked_until_ns; /* after a server refusal */
};
void kr__rate_init(struct kr__rate *r, double max, double decay);
/* How long to wait (ns) before a call of cost may go at now_ns; 0 = now. */
uint64_t kr__rate_wait_ns(struct kr__rate *r, double cost, uint64_t now_ns);
/* Books a call of cost at now_ns. */
void kr__rate_add(struct kr__rate *r, double cost, uint64_t now_ns);
/* The server said the limit was exceeded: assume the counter is full and
 * send nothing before now_ns + backoff_ns. */
void kr__rate_penalize(struct kr__rate *r, uint64_t now_ns, uint64_t backoff_ns);
/* The level at now_ns after decay. */
double kr__rate_level(struct kr__rate *r, uint64_t now_ns);
/* Tier maximum and decay ("starter", "intermediate", "pro"); 0 or ERR_INVALID. */
int kr__rate_tier(const char *tier, double *max, double *decay);
/* Counter cost of a private method: 0 for AddOrder, AddOrderBatch and
 * CancelOrder (the trading engine limits those instead), 2 for ledger and
 * trade-history queries, 1 for the rest. */
double kr__rate_cost(const char *method);

/* The error class of a Kraken error string (ERR_AUTH, ERR_REJECTED,
 * ERR_RATELIMIT or ERR_EXCHANGE). */
int kr__rest_classify(const char *text, size_t len);

#endif

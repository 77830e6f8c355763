/* Shared by src/kraken/codec*.c only: the decoder's state and token helpers.
 *
 * jsmn is compiled static into each file that includes this header, always
 * with the same options, so jsmntok_t has one layout here: parent links make
 * closing a container O(depth) instead of a scan back over every earlier
 * token (quadratic on a 1,000-level book), and strict mode rejects bare
 * words and non-string keys. */
#ifndef ARB_KRAKEN_CODEC_INT_H
#define ARB_KRAKEN_CODEC_INT_H

#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/log.h"
#include "kraken/codec.h"

/* Open-addressing slots for KR_MAX_PAIRS symbols at most half full. */
#define KR__SLOTS (2u * KR_MAX_PAIRS)

struct kr_decoder {
	jsmntok_t *tok;
	uint8_t *depth; /* per token, for the nesting bound (tree_ok) */
	unsigned int cap_tok;
	const char *js; /* the frame being decoded */
	int ntok;	/* its token count */

	struct kr_pair *pairs; /* KR_MAX_PAIRS, ids 0..npairs-1 */
	uint32_t npairs;
	uint32_t *slots;	/* KR__SLOTS; pair id + 1, 0 = empty */
	struct kr_pair *stage;	/* KR_MAX_PAIRS: an instrument message before it applies */
	uint32_t *changed;	/* KR_MAX_PAIRS: ids reported by the instrument event */
	uint32_t *mark;		/* KR_MAX_PAIRS: per pair, the epoch it was last listed */
	uint32_t *mark_changed; /* KR_MAX_PAIRS: the epoch it was last put in changed */
	uint32_t epoch;

	struct kr_decoder_stats stats;
	struct log_ratelimit rl;
};

/* Why a single value did not convert. */
enum kr__verr {
	KR__V_OK = 0,
	KR__V_TYPE,  /* wrong JSON type */
	KR__V_TEXT,  /* malformed text */
	KR__V_RANGE, /* out of range or too many decimals */
};

static inline int kr__tlen(const jsmntok_t *t)
{
	return t->end - t->start;
}

/* A string key token that matches s exactly. */
static inline bool kr__is(const char *js, const jsmntok_t *t, const char *s, size_t n)
{
	return (size_t)(t->end - t->start) == n && memcmp(js + t->start, s, n) == 0;
}
#define KR__IS(js, t, lit) kr__is((js), (t), (lit), sizeof(lit) - 1)

/* A string or primitive with no children (jsmn gives children to a scalar
 * only for malformed input such as "a":"b":1). */
static inline bool kr__scalar(const jsmntok_t *t)
{
	return (t->type == JSMN_STRING || t->type == JSMN_PRIMITIVE) && t->size == 0;
}

/* The index after the subtree rooted at i. */
int kr__skip(const struct kr_decoder *d, int i);

/* Checks that t[i] is an object key: a string with exactly one child. */
static inline bool kr__key(const struct kr_decoder *d, int i)
{
	return i + 1 < d->ntok && d->tok[i].type == JSMN_STRING && d->tok[i].size == 1;
}

/* Value conversions; none allocates or writes on failure. */
enum kr__verr kr__u64(const char *js, const jsmntok_t *t, uint64_t *out);
enum kr__verr kr__int_loose(const char *js, const jsmntok_t *t, int64_t *out);
enum kr__verr kr__decimal(const char *js, const jsmntok_t *t, int scale, int64_t *out);
enum kr__verr kr__bool(const char *js, const jsmntok_t *t, bool *out);
enum kr__verr kr__time(const char *js, const jsmntok_t *t, int64_t *out);
static inline enum kr__verr kr__string(const jsmntok_t *t)
{
	return t->type == JSMN_STRING && t->size == 0 ? KR__V_OK : KR__V_TYPE;
}

/* Counts reason, fills info, logs rate-limited; returns the ERR_* code. */
int kr__fail(struct kr_decoder *d, struct err_info *info, enum kr_decode_reason reason,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Up to 40 bytes of token i's text, made safe to quote, into out (cap >= 48). */
void kr__excerpt(char *out, size_t cap, const struct kr_decoder *d, int i);

/* kr__fail for a value that did not convert: the message names the field
 * (what, a printf format) and quotes the value's text. */
int kr__fail_value(struct kr_decoder *d, struct err_info *info, enum kr__verr e, int i, int scale,
		   const char *what, ...) __attribute__((format(printf, 6, 7)));

/* Symbol table. */
uint32_t kr__find(const struct kr_decoder *d, const char *s, size_t len);
/* Validates p's fields (not its id): 0 or a static message. */
const char *kr__pair_check(const struct kr_pair *p);
/* Inserts or replaces by symbol; the caller checked capacity and fields.
 * Sets *changed_out / *status_changed / *prec_changed as they apply. */
uint32_t kr__pair_apply(struct kr_decoder *d, const struct kr_pair *p, bool *added, bool *changed,
			bool *status_changed, bool *prec_changed);

/* The fast path for a book message in Kraken's exact layout (codec_fast.c):
 * true with *ev filled as kr__decode_book would fill it, or false, touching
 * nothing but ev->book's fields, when the general decoder must decide. */
bool kr__decode_book_fast(struct kr_decoder *d, const char *frame, size_t len, struct kr_event *ev);

/* Message decoders; i is the token of the "data" value, ty of "type". */
int kr__decode_book(struct kr_decoder *d, int ty, int data, struct kr_event *ev,
		    struct err_info *info);
int kr__decode_instrument(struct kr_decoder *d, int ty, int data, struct kr_event *ev,
			  struct err_info *info);

#endif

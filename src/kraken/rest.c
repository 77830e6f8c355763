/* The REST client: lifecycle, the curl transport, signing, the call counter,
 * retries and Kraken's {"error":[...],"result":...} envelope. The typed
 * endpoints are in rest_api.c and rest_orders.c. */
#include "kraken/rest_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"

#ifndef ARB_VERSION
#define ARB_VERSION "dev"
#endif

#define URL_MAX	  512
#define BODY_MAX  (64u * 1024u)
#define FIRST_CAP (16u * 1024u)

/* How a call may be repeated. */
enum call_kind {
	CALL_SAFE,   /* queries: retried on transport errors and rate limits */
	CALL_UNSAFE, /* cancels: never retried */
	CALL_ORDER,  /* orders: never retried, and unknown outcomes are ERR_UNKNOWN */
};

struct kr_rest {
	pthread_mutex_t lock;
	CURL *curl;
	char base[URL_MAX];
	const struct secret *key;
	const struct secret *secret;
	struct kr_nonce *nonce;
	uint32_t max_retries;
	uint32_t backoff_ms;
	struct kr__rate rate;
	char ua[64];
	/* The answer being received; reused between calls. */
	char *buf;
	size_t len, cap;
	bool too_big;
	struct kr_rest_stats stats;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void global_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* http:// is allowed only to loopback (the simulator); real Kraken is https. */
static int check_url(const char *url, struct err_info *info)
{
	static const char *const loop[] = {"127.0.0.1", "localhost", "[::1]", NULL};
	const char *host;

	if (!url || !*url)
		return err_set(info, ERR_INVALID, "KRAKEN_REST_URL: empty");
	if (strlen(url) >= URL_MAX - 64)
		return err_set(info, ERR_INVALID, "KRAKEN_REST_URL: longer than %d", URL_MAX - 64);
	if (strncmp(url, "https://", 8) == 0)
		return 0;
	if (strncmp(url, "http://", 7) != 0)
		return err_set(info, ERR_CONFIG,
			       "KRAKEN_REST_URL=%s: expected https:// (or http:// to loopback)",
			       url);
	host = url + 7;
	for (size_t i = 0; loop[i]; i++) {
		size_t n = strlen(loop[i]);

		if (strncmp(host, loop[i], n) == 0 &&
		    (host[n] == '\0' || host[n] == ':' || host[n] == '/'))
			return 0;
	}
	return err_set(
	    info, ERR_CONFIG,
	    "KRAKEN_REST_URL=%s: plain http is allowed only to 127.0.0.1, localhost or [::1]", url);
}

struct kr_rest *kr_rest_new(const struct kr_rest_opts *o, struct err_info *info)
{
	struct kr_rest *c = NULL;
	uint32_t timeout, connect;
	double max, decay;
	size_t blen;

	if (!o)
		goto bad;
	if (check_url(o->base_url, info))
		return NULL;
	if (kr__rate_tier(o->tier, &max, &decay)) {
		err_set(info, ERR_CONFIG, "KRAKEN_REST_TIER=%s: expected starter|intermediate|pro",
			o->tier);
		return NULL;
	}
	if (o->api_key && !secret_empty(o->api_key) &&
	    (!o->api_secret || secret_empty(o->api_secret) || !o->nonce)) {
		err_set(info, ERR_INVALID,
			"REST client: an API key needs its secret and a nonce file");
		return NULL;
	}
	pthread_once(&curl_once, global_init);
	if (curl_init_rc != CURLE_OK) {
		err_set(info, ERR_NET, "curl_global_init: %s", curl_easy_strerror(curl_init_rc));
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(info, ERR_NOMEM, "REST client: out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	blen = strlen(o->base_url);
	while (blen > 0 && o->base_url[blen - 1] == '/')
		blen--;
	memcpy(c->base, o->base_url, blen);
	c->base[blen] = '\0';
	if (o->api_key && !secret_empty(o->api_key)) {
		c->key = o->api_key;
		c->secret = o->api_secret;
		c->nonce = o->nonce;
	}
	c->max_retries = o->max_retries ? o->max_retries : 2;
	c->backoff_ms = o->backoff_ms ? o->backoff_ms : 1000;
	kr__rate_init(&c->rate, o->rate_max > 0 ? o->rate_max : max,
		      o->rate_decay_per_s > 0 ? o->rate_decay_per_s : decay);
	snprintf(c->ua, sizeof(c->ua), "%s",
		 o->user_agent ? o->user_agent : "arbitrade/" ARB_VERSION);
	timeout = o->timeout_ms ? o->timeout_ms : 10000;
	connect = o->connect_timeout_ms ? o->connect_timeout_ms : (timeout < 5000 ? timeout : 5000);
	c->curl = curl_easy_init();
	if (!c->curl)
		goto nomem;
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);
	curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, c->ua);
	/* Kraken may compress answers; curl inflates them. */
	curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
	return c;
nomem:
	kr_rest_free(c);
bad:
	err_set(info, o ? ERR_NOMEM : ERR_INVALID, "REST client: %s",
		o ? "out of memory" : "no options");
	return NULL;
}

void kr_rest_free(struct kr_rest *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->buf);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void kr_rest_get_stats(struct kr_rest *c, struct kr_rest_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}

double kr_rest_rate_level(struct kr_rest *c)
{
	double v;

	pthread_mutex_lock(&c->lock);
	v = kr__rate_level(&c->rate, clock_mono_ns());
	pthread_mutex_unlock(&c->lock);
	return v;
}

void kr_rest_resp_free(struct kr_rest_resp *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->tok);
	free(r);
}

const char *kr_rest_resp_body(const struct kr_rest_resp *r, size_t *len)
{
	if (len)
		*len = r->len;
	return r->body;
}

int kr_rest_form_add(char *buf, size_t cap, size_t *len, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = *len;

#define PUT(ch)                                                                                    \
	do {                                                                                       \
		if (n + 1 >= cap)                                                                  \
			goto full;                                                                 \
		buf[n++] = (ch);                                                                   \
	} while (0)
	if (n > 0)
		PUT('&');
	for (const char *p = key; *p; p++)
		PUT(*p);
	PUT('=');
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			PUT((char)*p);
		} else {
			PUT('%');
			PUT(hex[*p >> 4]);
			PUT(hex[*p & 15]);
		}
	}
#undef PUT
	buf[n] = '\0';
	*len = n;
	return 0;
full:
	if (cap > *len)
		buf[*len] = '\0';
	return ERR_RANGE;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct kr_rest *c = ud;
	size_t n = size * nmemb;

	if (c->len + n + 1 > KR_REST_MAX_BODY) {
		c->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : FIRST_CAP;
		char *nb;

		while (cap < c->len + n + 1)
			cap *= 2;
		nb = realloc(c->buf, cap);
		if (!nb)
			return 0;
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return n;
}

/* Copies the received answer and checks the envelope. Returns 0 with *out
 * set, or an error with info filled. */
static int envelope(struct kr_rest *c, const char *what, struct kr_rest_resp **out,
		    struct err_info *info)
{
	struct kr_rest_resp *r;
	struct kr__js j;
	int n, e, rc = 0;

	r = calloc(1, sizeof(*r));
	if (!r)
		return err_set(info, ERR_NOMEM, "%s: out of memory", what);
	r->body = malloc(c->len + 1);
	if (!r->body) {
		free(r);
		return err_set(info, ERR_NOMEM, "%s: out of memory", what);
	}
	memcpy(r->body, c->buf ? c->buf : "", c->len);
	r->body[c->len] = '\0';
	r->len = c->len;
	n = kr__js_parse(r->body, r->len, &r->tok);
	if (n < 0) {
		rc = err_set(info, n, "%s: the answer is not a complete JSON object (%zu bytes)",
			     what, r->len);
		goto fail;
	}
	r->ntok = n;
	j = (struct kr__js){r->body, r->tok, n};
	e = kr__js_get(&j, 0, "error");
	r->result = kr__js_get(&j, 0, "result");
	if (e < 0 || j.t[e].type != JSMN_ARRAY) {
		rc = err_set(info, ERR_SCHEMA, "%s: the answer has no \"error\" array", what);
		goto fail;
	}
	/* Errors start with 'E'; warnings ('W') leave the result usable. */
	for (int k = 0, i = e + 1; k < j.t[e].size; k++, i = kr__js_skip(&j, i)) {
		const char *s = j.s + j.t[i].start;
		size_t len = (size_t)(j.t[i].end - j.t[i].start);

		if (j.t[i].type != JSMN_STRING) {
			rc = err_set(info, ERR_SCHEMA, "%s: \"error\" holds a non-string", what);
			goto fail;
		}
		if (len > 0 && s[0] == 'E') {
			rc = kr__rest_classify(s, len);
			err_set(info, rc, "%.*s (%s)", (int)(len > 160 ? 160 : len), s, what);
			goto fail;
		}
		LOG_WARN("kraken", "REST warning", "call=\"%s\" warning=\"%.*s\"", what,
			 (int)(len > 120 ? 120 : len), s);
	}
	if (r->result < 0) {
		rc = err_set(info, ERR_SCHEMA, "%s: the answer has neither an error nor a result",
			     what);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	kr_rest_resp_free(r);
	return rc;
}

static bool not_sent(CURLcode cc)
{
	return cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_CONNECT ||
	       cc == CURLE_COULDNT_RESOLVE_PROXY || cc == CURLE_UNSUPPORTED_PROTOCOL ||
	       cc == CURLE_URL_MALFORMAT;
}

/* One attempt: performs the prepared request and classifies the answer. */
static int attempt(struct kr_rest *c, enum call_kind kind, const char *what,
		   struct kr_rest_resp **out, struct err_info *info)
{
	CURLcode cc;
	long status = 0;
	int rc;

	c->len = 0;
	c->too_big = false;
	c->stats.requests++;
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	cc = curl_easy_perform(c->curl);
	if (cc != CURLE_OK) {
		if (c->too_big) {
			c->stats.bad_answers++;
			rc = err_set(info, ERR_RANGE, "%s: the answer exceeds %u bytes", what,
				     KR_REST_MAX_BODY);
		} else if (cc == CURLE_OPERATION_TIMEDOUT) {
			c->stats.timeouts++;
			rc = err_set(info, ERR_TIMEOUT, "%s: no answer in time (%s)", what,
				     curl_easy_strerror(cc));
		} else {
			c->stats.net_errors++;
			rc = err_set(info, ERR_NET, "%s: %s", what, curl_easy_strerror(cc));
		}
		if (kind == CALL_ORDER && !not_sent(cc)) {
			c->stats.unknown_outcomes++;
			return err_set(info, ERR_UNKNOWN,
				       "%s: sent, but %s: the order may exist; reconcile it by "
				       "userref/cl_ord_id before placing it again",
				       what, curl_easy_strerror(cc));
		}
		return rc;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	rc = envelope(c, what, out, info);
	if (rc == 0 && status != 200) {
		/* A result with a non-200 status did not come from Kraken properly. */
		kr_rest_resp_free(*out);
		*out = NULL;
		rc = ERR_NET;
	}
	if (rc == ERR_NET || (status != 200 && (rc == ERR_PARSE || rc == ERR_SCHEMA))) {
		c->stats.net_errors++;
		rc = err_set(info, ERR_NET, "%s: HTTP status %ld", what, status);
	} else if (rc == ERR_PARSE || rc == ERR_SCHEMA || rc == ERR_RANGE) {
		c->stats.bad_answers++;
	} else if (rc == ERR_RATELIMIT) {
		c->stats.server_rate_limited++;
	} else if (rc != 0) {
		c->stats.exchange_errors++;
	}
	if (kind == CALL_ORDER && (rc == ERR_NET || rc == ERR_PARSE || rc == ERR_SCHEMA ||
				   rc == ERR_RANGE || rc == ERR_NOMEM)) {
		c->stats.unknown_outcomes++;
		return err_set(info, ERR_UNKNOWN,
			       "%s: the answer could not be read (%s): the order may exist; "
			       "reconcile it by userref/cl_ord_id",
			       what, err_str(rc));
	}
	return rc;
}

/* Whether a failed attempt is worth repeating for a safe call. */
static bool retryable(int rc)
{
	return rc == ERR_NET || rc == ERR_TIMEOUT || rc == ERR_RATELIMIT || rc == ERR_PARSE;
}

static uint64_t backoff_ns(const struct kr_rest *c, unsigned n, int rc)
{
	uint64_t base = (uint64_t)(rc == ERR_RATELIMIT ? c->backoff_ms : 100) * 1000000u;

	return base << (n > 6 ? 6 : n);
}

int kr_rest_public(struct kr_rest *c, const char *method, const char *query,
		   struct kr_rest_resp **out, struct err_info *info)
{
	char url[URL_MAX + BODY_MAX / 16];
	char what[96];
	int rc = ERR_INVALID;

	*out = NULL;
	snprintf(what, sizeof(what), "GET /0/public/%s", method);
	if ((size_t)snprintf(url, sizeof(url), "%s/0/public/%s%s%s", c->base, method,
			     query && *query ? "?" : "", query ? query : "") >= sizeof(url))
		return err_set(info, ERR_RANGE, "%s: query too long", what);
	pthread_mutex_lock(&c->lock);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	for (unsigned n = 0;; n++) {
		rc = attempt(c, CALL_SAFE, what, out, info);
		if (rc == 0 || !retryable(rc) || n >= c->max_retries)
			break;
		c->stats.retries++;
		sleep_ns(backoff_ns(c, n, rc));
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static enum call_kind kind_of(const char *method, bool safe)
{
	if (strcmp(method, "AddOrder") == 0 || strcmp(method, "AddOrderBatch") == 0 ||
	    strcmp(method, "EditOrder") == 0 || strcmp(method, "AmendOrder") == 0)
		return CALL_ORDER;
	return safe ? CALL_SAFE : CALL_UNSAFE;
}

/* Waits until the modelled counter allows a call of cost (lock held: calls
 * are serialised anyway, and the wait keeps their order). */
static void rate_wait(struct kr_rest *c, double cost)
{
	uint64_t now = clock_mono_ns(), w;
	bool waited = false;

	while ((w = kr__rate_wait_ns(&c->rate, cost, now)) > 0) {
		waited = true;
		c->stats.rate_wait_ns += w;
		sleep_ns(w);
		now = clock_mono_ns();
	}
	if (waited)
		c->stats.rate_waits++;
	kr__rate_add(&c->rate, cost, now);
}

static int one_private(struct kr_rest *c, enum call_kind kind, const char *method,
		       const char *params, const char *what, struct kr_rest_resp **out,
		       struct err_info *info)
{
	char path[128], url[URL_MAX + 128], sign[KR_SIGN_LEN + 1];
	char hkey[300], hsign[KR_SIGN_LEN + 16];
	char *body = NULL;
	struct curl_slist *h = NULL, *h2;
	uint64_t nonce;
	size_t plen = params ? strlen(params) : 0, blen, klen;
	int rc;

	snprintf(path, sizeof(path), "/0/private/%s", method);
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	klen = secret_len(c->key);
	if (klen + 10 >= sizeof(hkey))
		return err_set(info, ERR_INVALID, "%s: API key longer than %zu", what,
			       sizeof(hkey) - 10);
	body = malloc(plen + 32);
	if (!body)
		return err_set(info, ERR_NOMEM, "%s: out of memory", what);
	rc = kr_nonce_next(c->nonce, &nonce);
	if (rc) {
		err_set(info, rc, "%s: no nonce: %s", what, err_str(rc));
		goto cleanup;
	}
	blen = (size_t)snprintf(body, plen + 32, "nonce=%" PRIu64 "%s%s", nonce, plen ? "&" : "",
				plen ? params : "");
	rc = kr_sign(c->secret, path, nonce, body, blen, sign, sizeof(sign));
	if (rc < 0) {
		err_set(info, rc,
			"%s: signing failed (%s); check KRAKEN_API_SECRET is the base64 "
			"private key",
			what, err_str(rc));
		goto cleanup;
	}
	memcpy(hkey, "API-Key: ", 9);
	memcpy(hkey + 9, secret__bytes(c->key), klen);
	hkey[9 + klen] = '\0';
	snprintf(hsign, sizeof(hsign), "API-Sign: %s", sign);
	h = curl_slist_append(NULL, hkey);
	h2 = h ? curl_slist_append(h, hsign) : NULL;
	h2 = h2 ? curl_slist_append(h2, "Content-Type: application/x-www-form-urlencoded") : NULL;
	/* No "Expect: 100-continue" round trip on larger bodies. */
	h2 = h2 ? curl_slist_append(h2, "Expect:") : NULL;
	if (!h2) {
		rc = err_set(info, ERR_NOMEM, "%s: out of memory", what);
		goto cleanup;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)blen);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	rc = attempt(c, kind, what, out, info);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
cleanup:
	/* The header list holds the key; wipe it as well as the signature. */
	for (struct curl_slist *p = h; p; p = p->next)
		memset(p->data, 0, strlen(p->data));
	curl_slist_free_all(h);
	memset(hkey, 0, sizeof(hkey));
	free(body);
	return rc;
}

int kr_rest_private(struct kr_rest *c, const char *method, const char *params, bool safe,
		    struct kr_rest_resp **out, struct err_info *info)
{
	enum call_kind kind = kind_of(method, safe);
	double cost = kr__rate_cost(method);
	char what[96];
	int rc = 0;

	*out = NULL;
	snprintf(what, sizeof(what), "POST /0/private/%s", method);
	if (!c->key)
		return err_set(info, ERR_BADSTATE,
			       "%s: no API credentials (KRAKEN_API_KEY, KRAKEN_API_SECRET)", what);
	bool nonce_retried = false;
	pthread_mutex_lock(&c->lock);
	for (unsigned n = 0;; n++) {
		rate_wait(c, cost);
		rc = one_private(c, kind, method, params, what, out, info);
		/* Kraken refuses a nonce before it does anything, so any call,
		 * AddOrder too, may go again once with a fresh one: another
		 * process on the same key (the running bot and `arbitrade
		 * account`) can get a larger nonce in first. */
		if (rc == ERR_AUTH && info && strstr(info->msg, "EAPI:Invalid nonce") &&
		    !nonce_retried) {
			nonce_retried = true;
			c->stats.retries++;
			LOG_WARN("kraken", "nonce refused; retrying once with a fresh one",
				 "call=\"%s\"", what);
			continue;
		}
		if (rc == ERR_RATELIMIT) {
			/* The server's counter is ahead of our model (another client on the
			 * key, or a lower tier): back off before anything else goes. */
			kr__rate_penalize(&c->rate, clock_mono_ns(), backoff_ns(c, n, rc));
			LOG_WARN("kraken", "REST rate limited by the server; backing off",
				 "call=\"%s\" attempt=%u", what, n + 1);
		}
		if (rc == 0 || kind != CALL_SAFE || !retryable(rc) || n >= c->max_retries)
			break;
		c->stats.retries++;
		if (rc != ERR_RATELIMIT)
			sleep_ns(backoff_ns(c, n, rc));
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Login: scrypt password hashes, sessions held in a fixed table, CSRF tokens
 * and the login rate limits. Everything here runs on the web thread except
 * web_password_hash and web_password_verify, which keep no state. */
#include "web/web_int.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define SALT_BYTES   16
#define HASH_BYTES   32
#define SCRYPT_MAX_N (1ull << 20)
#define SCRYPT_MAX_R 32u
#define SCRYPT_MAX_P 16u

/* ---- password hashes ---- */

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Strict standard base64 (padded) into out; returns the byte count or -1. */
static long b64_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
	unsigned char tmp[192];
	char padded[256];
	size_t pad = 0, i;
	int n;

	/* Accept unpadded base64 by padding it here. */
	if (len == 0 || len % 4 == 1 || len + 3 > sizeof(padded))
		return -1;
	if (len % 4) {
		memcpy(padded, s, len);
		while (len % 4)
			padded[len++] = '=';
		s = padded;
	}
	if (s[len - 1] == '=')
		pad++;
	if (len >= 2 && s[len - 2] == '=')
		pad++;
	for (i = 0; i < len - pad; i++)
		if (!b64_char(s[i]))
			return -1;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad || (size_t)n - pad > cap)
		return -1;
	memcpy(out, tmp, (size_t)n - pad);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return (long)((size_t)n - pad);
}

/* A decimal field of the hash up to '$'; advances *p. */
static bool dec_field(const char **p, const char *end, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end || *s < '1' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	if (s >= end || *s != '$')
		return false;
	*p = s + 1;
	*out = v;
	return true;
}

int web__pwhash_parse(const char *s, size_t len, struct web_pwhash *out)
{
	const char *p = s, *end = s + len, *dollar;
	uint64_t n, r, par;
	long k;

	memset(out, 0, sizeof(*out));
	if (len < 7 || memcmp(s, "scrypt$", 7) != 0)
		return ERR_PARSE;
	p += 7;
	if (!dec_field(&p, end, SCRYPT_MAX_N, &n) || !dec_field(&p, end, SCRYPT_MAX_R, &r) ||
	    !dec_field(&p, end, SCRYPT_MAX_P, &par))
		return ERR_PARSE;
	if (n < 2 || (n & (n - 1)) != 0)
		return ERR_PARSE;
	dollar = memchr(p, '$', (size_t)(end - p));
	if (!dollar)
		return ERR_PARSE;
	k = b64_decode(p, (size_t)(dollar - p), out->salt, sizeof(out->salt));
	if (k < 8)
		return ERR_PARSE;
	out->salt_len = (size_t)k;
	p = dollar + 1;
	k = b64_decode(p, (size_t)(end - p), out->hash, sizeof(out->hash));
	if (k < 16)
		return ERR_PARSE;
	out->hash_len = (size_t)k;
	out->n = n;
	out->r = (uint32_t)r;
	out->p = (uint32_t)par;
	return 0;
}

static int scrypt(const char *pw, size_t len, const unsigned char *salt, size_t salt_len,
		  uint64_t n, uint32_t r, uint32_t p, unsigned char *key, size_t key_len)
{
	/* scrypt needs 128 * r * (N + p) bytes; allow that plus slack. */
	uint64_t maxmem = 128ull * r * (n + p) + (1u << 20);

	if (EVP_PBE_scrypt(pw, len, salt, salt_len, n, r, p, maxmem, key, key_len) != 1)
		return ERR_CRYPTO;
	return 0;
}

int web_password_hash(const char *pw, size_t len, uint64_t n, uint32_t r, uint32_t p, char *out,
		      size_t cap)
{
	unsigned char salt[SALT_BYTES], key[HASH_BYTES];
	char salt64[32], key64[48];
	int rc, w;

	if (!pw || !out)
		return ERR_INVALID;
	if (n == 0) {
		n = WEB_SCRYPT_N;
		r = WEB_SCRYPT_R;
		p = WEB_SCRYPT_P;
	}
	if (n < 1024 || n > SCRYPT_MAX_N || (n & (n - 1)) != 0 || r == 0 || r > SCRYPT_MAX_R ||
	    p == 0 || p > SCRYPT_MAX_P)
		return ERR_INVALID;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return ERR_CRYPTO;
	rc = scrypt(pw, len, salt, sizeof(salt), n, r, p, key, sizeof(key));
	if (rc)
		goto cleanup;
	EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)key64, key, sizeof(key));
	w = snprintf(out, cap, "scrypt$%" PRIu64 "$%u$%u$%s$%s", n, r, p, salt64, key64);
	rc = w < 0 || (size_t)w >= cap ? ERR_RANGE : 0;
cleanup:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(key64, sizeof(key64));
	return rc;
}

int web__pwhash_verify(const struct web_pwhash *h, const char *pw, size_t len)
{
	unsigned char key[64];
	int rc;

	rc = scrypt(pw, len, h->salt, h->salt_len, h->n, h->r, h->p, key, h->hash_len);
	if (rc == 0 && CRYPTO_memcmp(key, h->hash, h->hash_len) != 0)
		rc = ERR_AUTH;
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int web_password_verify(const char *hash, size_t hash_len, const char *pw, size_t len)
{
	struct web_pwhash h;
	int rc = web__pwhash_parse(hash, hash_len, &h);

	if (rc == 0)
		rc = web__pwhash_verify(&h, pw, len);
	OPENSSL_cleanse(&h, sizeof(h));
	return rc;
}

/* ---- tokens and sessions ---- */

int web__token(char out[WEB_TOKEN_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[WEB_TOKEN_BYTES];
	size_t i;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return ERR_CRYPTO;
	for (i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * sizeof(b)] = '\0';
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

bool web__token_eq(const char *a, const char *b)
{
	size_t n;

	if (!a || !b)
		return false;
	n = strlen(a);
	/* Only the length leaks, and every token has the same length. */
	return n == WEB_TOKEN_HEX - 1 && strlen(b) == n && CRYPTO_memcmp(a, b, n) == 0;
}

static const char *cookie(const struct web_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

struct web_session *web__session_find(struct web *w, const struct web_req *req)
{
	const char *id = cookie(req, WEB_SESSION_COOKIE);
	struct web_session *found = NULL;
	uint64_t now = w->now_ns();
	size_t i;

	if (!id)
		return NULL;
	for (i = 0; i < WEB_SESSIONS; i++) {
		struct web_session *s = &w->sessions[i];

		if (!s->used)
			continue;
		if (now >= s->expires_ns) {
			web__session_end(s);
			continue;
		}
		if (web__token_eq(s->id, id))
			found = s;
	}
	return found;
}

struct web_session *web__session_new(struct web *w, const char *user)
{
	struct web_session *s = NULL;
	uint64_t now = w->now_ns();
	size_t i;

	for (i = 0; i < WEB_SESSIONS && !s; i++)
		if (!w->sessions[i].used || now >= w->sessions[i].expires_ns)
			s = &w->sessions[i];
	for (i = 0; i < WEB_SESSIONS && !s; i++) /* full: evict the oldest */
		if (i == 0 || w->sessions[i].created_ns < s->created_ns)
			s = &w->sessions[i];
	if (!s)
		s = &w->sessions[0];
	web__session_end(s);
	if (web__token(s->id) != 0 || web__token(s->csrf) != 0) {
		web__session_end(s);
		return NULL;
	}
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->created_ns = now;
	s->expires_ns = now + (uint64_t)w->ttl_s * 1000000000ull;
	s->used = true;
	return s;
}

void web__session_end(struct web_session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
	s->used = false;
}

void web__session_cookie(const struct web *w, const struct web_session *s, char *out, size_t cap)
{
	snprintf(out, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%u%s",
		 WEB_SESSION_COOKIE, s ? s->id : "", s ? w->ttl_s : 0u,
		 w->secure_cookies ? "; Secure" : "");
}

/* ---- rate limits ---- */

static bool window_take(uint64_t now, uint64_t *start, uint32_t *n, uint32_t limit, bool count)
{
	if (now - *start >= (uint64_t)WEB_RL_WINDOW_S * 1000000000ull) {
		*start = now;
		*n = 0;
	}
	if (*n >= limit)
		return false;
	if (count)
		(*n)++;
	return true;
}

/* With count false only checks (HTTP Basic counts failures afterwards). */
static bool ratelimit(struct web *w, const char *addr, bool count)
{
	struct web_ratelimit *rl = &w->rl;
	uint64_t now = w->now_ns();
	size_t i, slot = WEB_RL_ADDRS;

	for (i = 0; i < WEB_RL_ADDRS; i++) {
		if (rl->per[i].addr[0] && strcmp(rl->per[i].addr, addr) == 0) {
			slot = i;
			break;
		}
	}
	if (slot == WEB_RL_ADDRS) {
		/* A new address takes an empty or the stalest slot. */
		slot = 0;
		for (i = 0; i < WEB_RL_ADDRS; i++) {
			if (!rl->per[i].addr[0]) {
				slot = i;
				break;
			}
			if (rl->per[i].start_ns < rl->per[slot].start_ns)
				slot = i;
		}
		if (!count)
			return rl->global_n < WEB_RL_GLOBAL ||
			       now - rl->global_start_ns >=
				   (uint64_t)WEB_RL_WINDOW_S * 1000000000ull;
		snprintf(rl->per[slot].addr, sizeof(rl->per[slot].addr), "%s", addr);
		rl->per[slot].start_ns = now;
		rl->per[slot].n = 0;
	}
	if (!window_take(now, &rl->global_start_ns, &rl->global_n, WEB_RL_GLOBAL, false) ||
	    !window_take(now, &rl->per[slot].start_ns, &rl->per[slot].n, WEB_RL_PER_ADDR, count))
		return false;
	return window_take(now, &rl->global_start_ns, &rl->global_n, WEB_RL_GLOBAL, count);
}

bool web__ratelimit_take(struct web *w, const char *addr)
{
	return ratelimit(w, addr, true);
}

/* ---- forms ---- */

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long web__form_get(const char *body, size_t len, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name), i = 0;

	while (body && i < len) {
		const char *f = body + i, *amp = memchr(f, '&', len - i);
		size_t flen = amp ? (size_t)(amp - f) : len - i, o = 0, j;

		i += flen + 1;
		if (flen <= nlen || memcmp(f, name, nlen) != 0 || f[nlen] != '=')
			continue;
		for (j = nlen + 1; j < flen; j++) {
			char c = f[j];
			int hi, lo;

			if (c == '+') {
				c = ' ';
			} else if (c == '%') {
				if (j + 2 >= flen)
					return -1;
				hi = hexv(f[j + 1]);
				lo = hexv(f[j + 2]);
				if (hi < 0 || lo < 0 || (hi | lo) == 0)
					return -1;
				c = (char)(hi * 16 + lo);
				j += 2;
			}
			if (o + 1 >= cap)
				return -1;
			out[o++] = c;
		}
		out[o] = '\0';
		return (long)o;
	}
	return -1;
}

/* ---- the gate ---- */

static bool wants_html(const struct web_req *req)
{
	const char *accept = web__req_header(req, "Accept");

	if (req->method != WEB_M_GET && req->method != WEB_M_HEAD)
		return false;
	if (web__req_header(req, "HX-Request"))
		return false;
	return !accept || strstr(accept, "text/html") || !strstr(accept, "json");
}

/* HTTP Basic credentials for /metrics scrapers. */
static bool basic_ok(struct web *w, const struct web_req *req)
{
	const char *h = web__req_header(req, "Authorization");
	unsigned char dec[256];
	char *colon;
	long n;
	bool ok;

	if (!h || strncmp(h, "Basic ", 6) != 0)
		return false;
	if (!ratelimit(w, req->addr, false)) {
		w->logins_limited++;
		return false;
	}
	n = b64_decode(h + 6, strlen(h + 6), dec, sizeof(dec) - 1);
	if (n <= 0)
		return false;
	dec[n] = '\0';
	colon = memchr(dec, ':', (size_t)n);
	if (!colon)
		return false;
	*colon = '\0';
	ok = strlen((char *)dec) == strlen(w->user) &&
	     CRYPTO_memcmp(dec, w->user, strlen(w->user)) == 0;
	ok = web__pwhash_verify(&w->pw, colon + 1, (size_t)(n - (colon + 1 - (char *)dec))) == 0 &&
	     ok;
	OPENSSL_cleanse(dec, sizeof(dec));
	if (!ok) {
		w->logins_failed++;
		ratelimit(w, req->addr, true);
	}
	return ok;
}

bool web__auth_gate(struct web *w, const struct web_req *req, struct web_resp *resp, bool basic)
{
	w->cur = NULL;
	if (!w->auth_on) {
		w->cur = &w->dev;
		return true;
	}
	w->cur = web__session_find(w, req);
	if (w->cur)
		return true;
	if (basic && basic_ok(w, req)) {
		/* A scrape has no session; it may read, never post. */
		w->cur = &w->dev;
		return true;
	}
	if (!basic && wants_html(req)) {
		web__resp_text(resp, 303, "login required: /login");
		web__resp_header(resp, "Location", "/login");
		return false;
	}
	web__resp_text(resp, 401, "login required");
	if (basic)
		web__resp_header(resp, "WWW-Authenticate", "Basic realm=\"arbitrade\"");
	else
		web__resp_header(resp, "HX-Redirect", "/login");
	return false;
}

bool web__csrf_ok(struct web *w, const struct web_req *req, struct web_resp *resp)
{
	char tok[WEB_TOKEN_HEX + 1];
	const char *h = web__req_header(req, "X-CSRF-Token");
	char q[96];
	bool ok = false;

	/* A Basic-auth scrape borrows the dev session; it may never post. */
	if (w->cur && (w->cur != &w->dev || !w->auth_on)) {
		if (h)
			ok = web__token_eq(h, w->cur->csrf);
		else if (web__form_get(req->body.data, req->body.len, "csrf", tok, sizeof(tok)) > 0)
			ok = web__token_eq(tok, w->cur->csrf);
	}
	if (!ok) {
		w->csrf_refused++;
		LOG_WARN("web", "csrf token missing or wrong", "path=%s addr=%s",
			 log_q(q, sizeof(q), req->path), req->addr);
		web__resp_text(resp, 403, "forbidden: missing or wrong CSRF token");
	}
	return ok;
}

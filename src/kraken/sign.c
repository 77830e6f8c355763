#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "kraken/sign.h"

#include <pthread.h>
#include <string.h>

/* Kraken's secrets decode to 64 bytes; the cap leaves room without letting a
 * configured value of any size reach the stack. */
#define KEY_MAX	     256
#define KEY_TEXT_MAX (KEY_MAX / 3 * 4 + 4)

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac;
static EVP_MD *sha256;

/* Explicit fetches, once: an implicit fetch would search the provider store
 * on every call. The objects live until exit. */
static void fetch(void)
{
	hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	sha256 = EVP_MD_fetch(NULL, OSSL_DIGEST_NAME_SHA2_256, NULL);
}

/* The value of a standard base64 digit, or -1. Branch-free and without a
 * table lookup, because the input is the secret. The arithmetic shifts of
 * negative ints are what gcc and clang do. */
static int b64_digit(int c)
{
	int v = -1;

	v += (((0x40 - c) & (c - 0x5b)) >> 8) & (c - 64); /* A-Z: 0..25 */
	v += (((0x60 - c) & (c - 0x7b)) >> 8) & (c - 70); /* a-z: 26..51 */
	v += (((0x2f - c) & (c - 0x3a)) >> 8) & (c + 5);  /* 0-9: 52..61 */
	v += (((0x2a - c) & (c - 0x2c)) >> 8) & 63;	  /* '+': 62 */
	v += (((0x2e - c) & (c - 0x30)) >> 8) & 64;	  /* '/': 63 */
	return v;
}

/* Strict decoding: padded, length a multiple of 4, no whitespace, zero
 * unused bits. Only the padding length, which is public, steers branches.
 * Returns the decoded length or -1. */
static int b64_decode(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t pad = 0, n, i, o = 0;
	int bad = 0;

	if (len == 0 || len % 4 != 0 || len > KEY_TEXT_MAX)
		return -1;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	n = len - pad;
	if ((n * 3) / 4 > cap)
		return -1;
	for (i = 0; i + 4 <= n; i += 4) {
		int a = b64_digit(in[i]), b = b64_digit(in[i + 1]);
		int c = b64_digit(in[i + 2]), d = b64_digit(in[i + 3]);
		unsigned w;

		bad |= a | b | c | d;
		w = ((unsigned)a & 63) << 18 | ((unsigned)b & 63) << 12 | ((unsigned)c & 63) << 6 |
		    ((unsigned)d & 63);
		out[o++] = (unsigned char)(w >> 16);
		out[o++] = (unsigned char)(w >> 8);
		out[o++] = (unsigned char)w;
	}
	if (pad) {
		int a = b64_digit(in[i]), b = b64_digit(in[i + 1]);
		int c = pad == 1 ? b64_digit(in[i + 2]) : 0;

		bad |= a | b | c;
		out[o++] = (unsigned char)(((unsigned)a & 63) << 2 | ((unsigned)b & 63) >> 4);
		if (pad == 1) {
			out[o++] =
			    (unsigned char)(((unsigned)b & 15) << 4 | ((unsigned)c & 63) >> 2);
			bad |= -(c & 3); /* non-canonical: unused bits set */
		} else {
			bad |= -(b & 15);
		}
	}
	if (bad < 0) {
		OPENSSL_cleanse(out, o);
		return -1;
	}
	return (int)o;
}

static size_t b64_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 3 <= len; i += 3) {
		unsigned w = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = digits[w >> 18];
		out[o++] = digits[(w >> 12) & 63];
		out[o++] = digits[(w >> 6) & 63];
		out[o++] = digits[w & 63];
	}
	if (i < len) {
		unsigned w = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);

		out[o++] = digits[w >> 18];
		out[o++] = digits[(w >> 12) & 63];
		out[o++] = i + 1 < len ? digits[(w >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static size_t u64_text(uint64_t v, char out[21])
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return n;
}

int kr_sign(const struct secret *secret, const char *uri_path, uint64_t nonce, const char *body,
	    size_t body_len, char *out, size_t cap)
{
	unsigned char key[KEY_MAX];
	unsigned char digest[32], mac[64];
	char nonce_text[21], digest_name[] = OSSL_DIGEST_NAME_SHA2_512;
	OSSL_PARAM params[2];
	EVP_MD_CTX *md = NULL;
	EVP_MAC_CTX *ctx = NULL;
	size_t nonce_len, mac_len = 0;
	int key_len = 0, rc;

	if (out && cap > 0)
		out[0] = '\0';
	if (!secret || !uri_path || (!body && body_len > 0) || !out)
		return ERR_INVALID;
	if (cap < KR_SIGN_LEN + 1)
		return ERR_RANGE;
	if (secret_empty(secret))
		return ERR_INVALID;
	key_len = b64_decode(secret__bytes(secret), secret_len(secret), key, sizeof(key));
	if (key_len <= 0) {
		key_len = 0;
		rc = ERR_INVALID;
		goto cleanup;
	}
	if (pthread_once(&fetch_once, fetch) != 0 || !hmac || !sha256) {
		rc = ERR_CRYPTO;
		goto cleanup;
	}

	nonce_len = u64_text(nonce, nonce_text);
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, sha256, NULL) ||
	    !EVP_DigestUpdate(md, nonce_text, nonce_len) ||
	    (body_len > 0 && !EVP_DigestUpdate(md, body, body_len)) ||
	    !EVP_DigestFinal_ex(md, digest, NULL)) {
		rc = ERR_CRYPTO;
		goto cleanup;
	}

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0);
	params[1] = OSSL_PARAM_construct_end();
	ctx = EVP_MAC_CTX_new(hmac);
	if (!ctx || !EVP_MAC_init(ctx, key, (size_t)key_len, params) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)uri_path, strlen(uri_path)) ||
	    !EVP_MAC_update(ctx, digest, sizeof(digest)) ||
	    !EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) || mac_len != sizeof(mac)) {
		rc = ERR_CRYPTO;
		goto cleanup;
	}
	rc = (int)b64_encode(mac, sizeof(mac), out);

cleanup:
	EVP_MAC_CTX_free(ctx);
	EVP_MD_CTX_free(md);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* kr_sign against Kraken's published vectors, an independent OpenSSL
 * computation, and malformed secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
/* OpenSSL's types.h declares a typedef ERR_BADSTATE, which core/err.h also
 * uses as an enumerator; OpenSSL's is renamed here, before core/err.h. */
#define ERR_BADSTATE ossl_ERR_STATE
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#undef ERR_BADSTATE

#include "kraken/sign.h"

/* Copied from /work/shared/kraken/vectors.json, "api_sign". */
static const struct vector {
	const char *id;
	const char *secret;
	uint64_t nonce;
	const char *body;
	const char *path;
	const char *api_sign;
} vectors[] = {
    {
	"rest_auth_doc_addorder",
	"kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
	1616492376594u,
	"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
	"/0/private/AddOrder",
	"4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==",
    },
    {
	"sdk_golden_balance",
	"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
	1700000000000000000u,
	"nonce=1700000000000000000",
	"/0/private/Balance",
	"6i7+cpXVLDDnDOekgsRcgFQhkYFyPDSSxhSVA8OrA6vjziXcy2K1DP3n7f9B/Kgni71WjBSQusZKxduRsdF20Q==",
    },
};

static struct secret *text_secret(const char *s)
{
	struct secret *sec = secret_new(s, strlen(s));

	assert_non_null(sec);
	return sec;
}

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		struct secret *sec = text_secret(v->secret);
		char out[KR_SIGN_LEN + 1];

		memset(out, 'x', sizeof(out));
		print_message("vector %s\n", v->id);
		assert_int_equal(
		    kr_sign(sec, v->path, v->nonce, v->body, strlen(v->body), out, sizeof(out)),
		    KR_SIGN_LEN);
		assert_string_equal(out, v->api_sign);
		secret_free(sec);
	}
}

/* A wrong nonce, path or body must change the signature. */
static void test_inputs_matter(void **state)
{
	const struct vector *v = &vectors[0];
	struct secret *sec = text_secret(v->secret);
	char out[KR_SIGN_LEN + 1];
	size_t blen = strlen(v->body);

	(void)state;
	assert_int_equal(kr_sign(sec, v->path, v->nonce + 1, v->body, blen, out, sizeof(out)),
			 KR_SIGN_LEN);
	assert_string_not_equal(out, v->api_sign);
	assert_int_equal(
	    kr_sign(sec, "/0/private/AddOrderX", v->nonce, v->body, blen, out, sizeof(out)),
	    KR_SIGN_LEN);
	assert_string_not_equal(out, v->api_sign);
	assert_int_equal(kr_sign(sec, v->path, v->nonce, v->body, blen - 1, out, sizeof(out)),
			 KR_SIGN_LEN);
	assert_string_not_equal(out, v->api_sign);
	secret_free(sec);
}

/* The same formula computed with OpenSSL's one-shot calls and its own base64,
 * over random keys of every length up to the 256-byte cap, random paths and
 * bodies, and nonces of every digit count. */
static void reference(const unsigned char *key, size_t key_len, const char *path, uint64_t nonce,
		      const char *body, size_t body_len, char *out)
{
	char nonce_text[32];
	unsigned char digest[32], mac[64];
	unsigned char *msg;
	size_t plen = strlen(path);
	unsigned int mac_len = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_non_null(md);
	snprintf(nonce_text, sizeof(nonce_text), "%llu", (unsigned long long)nonce);
	assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	assert_true(EVP_DigestUpdate(md, nonce_text, strlen(nonce_text)));
	assert_true(EVP_DigestUpdate(md, body, body_len));
	assert_true(EVP_DigestFinal_ex(md, digest, NULL));
	EVP_MD_CTX_free(md);
	msg = malloc(plen + 32);
	assert_non_null(msg);
	memcpy(msg, path, plen);
	memcpy(msg + plen, digest, 32);
	assert_non_null(HMAC(EVP_sha512(), key, (int)key_len, msg, plen + 32, mac, &mac_len));
	assert_int_equal(mac_len, 64);
	free(msg);
	assert_int_equal(EVP_EncodeBlock((unsigned char *)out, mac, 64), KR_SIGN_LEN);
}

static void test_against_openssl(void **state)
{
	(void)state;
	for (size_t key_len = 1; key_len <= 256; key_len++) {
		unsigned char key[256], rnd[8];
		char key_text[400], path[64], body[300];
		char got[KR_SIGN_LEN + 1], want[KR_SIGN_LEN + 1];
		uint64_t nonce;
		size_t body_len, plen;
		struct secret *sec;

		assert_true(RAND_bytes(key, (int)key_len));
		assert_true(RAND_bytes(rnd, sizeof(rnd)));
		memcpy(&nonce, rnd, sizeof(nonce));
		nonce >>= key_len % 64; /* 1 to 20 digits */
		body_len = key_len % 7 == 0 ? 0 : key_len + 13;
		assert_true(RAND_bytes((unsigned char *)body, (int)body_len + 1));
		plen = (size_t)snprintf(path, sizeof(path), "/0/private/M%zu", key_len);
		assert_true(plen < sizeof(path));
		assert_int_equal(EVP_EncodeBlock((unsigned char *)key_text, key, (int)key_len),
				 (key_len + 2) / 3 * 4);
		sec = text_secret(key_text);
		reference(key, key_len, path, nonce, body, body_len, want);
		assert_int_equal(
		    kr_sign(sec, path, nonce, body_len ? body : NULL, body_len, got, sizeof(got)),
		    KR_SIGN_LEN);
		assert_string_equal(got, want);
		secret_free(sec);
	}
}

static void expect_invalid_secret(const char *text, size_t len)
{
	struct secret *sec = secret_new(text, len);
	char out[KR_SIGN_LEN + 1];

	assert_non_null(sec);
	memset(out, 'x', sizeof(out));
	print_message("secret \"%.*s\"\n", (int)(len > 60 ? 60 : len), text);
	assert_int_equal(kr_sign(sec, "/0/private/Balance", 1, "nonce=1", 7, out, sizeof(out)),
			 ERR_INVALID);
	assert_int_equal(out[0], '\0');
	secret_free(sec);
}

static void test_bad_secret(void **state)
{
	static const char *const bad[] = {
	    "not base64!",
	    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",   /* padding missing */
	    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE==", /* too much padding */
	    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
	    " AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
	    "AQEBAQEBAQEBAQEB AQEBAQEBAQEBAQEBAQEBAQEBAQE=",
	    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQF=", /* unused bits set */
	    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAR==", /* unused bits set */
	    "AQ==AQEB",					    /* padding inside */
	    "-_-_",					    /* URL-safe alphabet */
	    "AQE\x80",
	    "====",
	    "A===",
	    "=AAA",
	};
	char big[400];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid_secret(bad[i], strlen(bad[i]));
	expect_invalid_secret("AQEB\0AQE", 8); /* NUL inside */

	/* 258 decoded bytes: over the cap. 256 bytes (344 chars) is accepted in
	 * test_against_openssl. */
	memset(big, 'A', 344);
	expect_invalid_secret(big, 344);

	/* An empty secret is not a key. */
	{
		struct secret *sec = secret_new("", 0);
		char out[KR_SIGN_LEN + 1];

		assert_non_null(sec);
		assert_int_equal(kr_sign(sec, "/0/private/Balance", 1, NULL, 0, out, sizeof(out)),
				 ERR_INVALID);
		secret_free(sec);
	}
}

static void test_bad_arguments(void **state)
{
	const struct vector *v = &vectors[1];
	struct secret *sec = text_secret(v->secret);
	char out[KR_SIGN_LEN + 1];
	size_t blen = strlen(v->body);

	(void)state;
	assert_int_equal(kr_sign(NULL, v->path, v->nonce, v->body, blen, out, sizeof(out)),
			 ERR_INVALID);
	assert_int_equal(kr_sign(sec, NULL, v->nonce, v->body, blen, out, sizeof(out)),
			 ERR_INVALID);
	assert_int_equal(kr_sign(sec, v->path, v->nonce, NULL, 1, out, sizeof(out)), ERR_INVALID);
	assert_int_equal(kr_sign(sec, v->path, v->nonce, v->body, blen, NULL, 100), ERR_INVALID);

	/* NULL body with zero length signs the empty body. */
	{
		char a[KR_SIGN_LEN + 1], b[KR_SIGN_LEN + 1];

		assert_int_equal(kr_sign(sec, v->path, 5, NULL, 0, a, sizeof(a)), KR_SIGN_LEN);
		assert_int_equal(kr_sign(sec, v->path, 5, "", 0, b, sizeof(b)), KR_SIGN_LEN);
		assert_string_equal(a, b);
	}
	secret_free(sec);
}

static void test_small_buffer(void **state)
{
	const struct vector *v = &vectors[0];
	struct secret *sec = text_secret(v->secret);
	char out[KR_SIGN_LEN + 2];
	size_t blen = strlen(v->body);

	(void)state;
	for (size_t cap = 0; cap <= KR_SIGN_LEN; cap++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(kr_sign(sec, v->path, v->nonce, v->body, blen, out, cap),
				 ERR_RANGE);
		if (cap > 0)
			assert_int_equal(out[0], '\0');
		else
			assert_int_equal(out[0], 'x');
		for (size_t i = 1; i < sizeof(out); i++)
			assert_int_equal(out[i], 'x');
	}
	/* Exactly enough: 88 chars and the NUL, nothing past it. */
	memset(out, 'x', sizeof(out));
	assert_int_equal(kr_sign(sec, v->path, v->nonce, v->body, blen, out, KR_SIGN_LEN + 1),
			 KR_SIGN_LEN);
	assert_int_equal(out[KR_SIGN_LEN], '\0');
	assert_int_equal(out[KR_SIGN_LEN + 1], 'x');
	assert_string_equal(out, v->api_sign);
	secret_free(sec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),	    cmocka_unit_test(test_inputs_matter),
	    cmocka_unit_test(test_against_openssl), cmocka_unit_test(test_bad_secret),
	    cmocka_unit_test(test_bad_arguments),   cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

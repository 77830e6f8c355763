/* core/secret: secrets, Fernet against the spec's vectors and Python's
 * cryptography.fernet, tampering, TTL rules and the key file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* OpenSSL's typedef ERR_BADSTATE collides with core/err.h's enumerator. */
#define ERR_BADSTATE ossl_ERR_STATE
#include <openssl/evp.h>
#include <openssl/hmac.h>
#undef ERR_BADSTATE

#include "core/secret.h"

/* github.com/fernet/spec generate.json / verify.json / invalid.json. Their
 * "now" is 1985-10-26T01:20:00-07:00, which is 499162800. */
#define SPEC_KEY "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
#define SPEC_TOKEN                                                                                 \
	"gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_"                                \
	"5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="
#define SPEC_NOW 499162800

#define TOK_CAP 4096

/* ---- helpers ---- */

static struct fernet *key_or_die(const char *text)
{
	struct err_info info = {0};
	struct fernet *f = fernet_new(text, strlen(text), &info);
	if (!f)
		fail_msg("fernet_new(%s): %s", text, info.msg);
	return f;
}

/* An independent base64url, through OpenSSL's EncodeBlock, so the tests do
 * not check the codec against itself. */
static void b64url_encode(const unsigned char *in, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	for (int i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	out[len] = '\0';
}

static size_t b64url_decode(const char *in, unsigned char *out)
{
	size_t n = strlen(in), pad = 0;
	char *tmp = malloc(n + 1);
	int len;

	assert_non_null(tmp);
	for (size_t i = 0; i < n; i++)
		tmp[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	tmp[n] = '\0';
	while (pad < n && tmp[n - 1 - pad] == '=')
		pad++;
	len = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)n);
	free(tmp);
	assert_true(len >= 0);
	return (size_t)len - pad;
}

static void key_halves(const char *key_text, unsigned char sign[16], unsigned char enc[16])
{
	unsigned char raw[64];
	assert_int_equal(b64url_decode(key_text, raw), 32);
	memcpy(sign, raw, 16);
	memcpy(enc, raw + 16, 16);
}

/* Builds a token by hand: version, timestamp, iv, AES-CBC without padding of
 * blocks (n a multiple of 16), then `extra` raw bytes, then a valid HMAC. */
static void craft(const char *key_text, unsigned char version, uint64_t ts,
		  const unsigned char iv[16], const unsigned char *blocks, size_t n,
		  const unsigned char *extra, size_t extra_n, char *out)
{
	unsigned char sign[16], enc[16], raw[1024];
	size_t off = 0;
	unsigned int maclen = 0;
	int l1 = 0, l2 = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	assert_true(n % 16 == 0 && 25 + n + extra_n + 32 <= sizeof(raw));
	key_halves(key_text, sign, enc);
	raw[off++] = version;
	for (int i = 7; i >= 0; i--)
		raw[off++] = (unsigned char)(ts >> (8 * i));
	memcpy(raw + off, iv, 16);
	off += 16;
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, enc, iv), 1);
	assert_int_equal(EVP_CIPHER_CTX_set_padding(ctx, 0), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, raw + off, &l1, blocks, (int)n), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, raw + off + l1, &l2), 1);
	EVP_CIPHER_CTX_free(ctx);
	assert_int_equal((size_t)(l1 + l2), n);
	off += n;
	if (extra_n)
		memcpy(raw + off, extra, extra_n);
	off += extra_n;
	assert_non_null(HMAC(EVP_sha256(), sign, 16, raw, off, raw + off, &maclen));
	assert_int_equal(maclen, 32);
	off += 32;
	b64url_encode(raw, off, out);
}

/* Decrypts and expects rc; on success compares the plaintext. */
static void expect_decrypt(const struct fernet *f, const char *tok, int64_t now, int64_t ttl,
			   int want_rc, const void *want, size_t want_len)
{
	struct err_info info = {0};
	struct secret *s = (struct secret *)0x1;
	int rc = fernet_decrypt(f, tok, strlen(tok), now, ttl, &s, &info);

	if (rc != want_rc)
		fail_msg("token %s now %lld ttl %lld: rc %d (%s, %s), want %d (%s)", tok,
			 (long long)now, (long long)ttl, rc, err_str(rc), info.msg, want_rc,
			 err_str(want_rc));
	if (rc != 0) {
		assert_null(s);
		assert_int_equal(info.code, rc);
		assert_true(info.msg[0] != '\0');
		return;
	}
	assert_non_null(s);
	assert_int_equal(secret_len(s), want_len);
	assert_true(secret_equals(s, want, want_len));
	if (want_len)
		assert_memory_equal(secret__bytes(s), want, want_len);
	secret_free(s);
}

static void fill(unsigned char *buf, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 7 + seed);
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Returns the next line of *cur (newline removed) and advances, or NULL at
 * the end. Empty lines are returned as "". */
static char *next_line(char **cur)
{
	char *line = *cur, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*cur = nl + 1;
	} else {
		*cur = line + strlen(line);
	}
	return line;
}

/* ---- Python ---- */

static const char *python;

/* Debian's /usr/bin/python3 ships python3-cryptography; a pyenv python on
 * PATH may not, so it is only the fallback. */
static const char *find_python(void)
{
	static const char *const candidates[] = {"/usr/bin/python3", "python3"};
	char cmd[256];

	if (python)
		return python;
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		snprintf(cmd, sizeof(cmd),
			 "%s -c 'import cryptography.fernet' >/dev/null 2>&1 </dev/null",
			 candidates[i]);
		if (system(cmd) == 0) {
			python = candidates[i];
			if (i > 0)
				print_message(
				    "note: /usr/bin/python3 lacks cryptography, using %s\n",
				    python);
			return python;
		}
	}
	return NULL;
}

/* Runs a Python script (no single quotes in it) and returns its stdout, owned. */
static char *run_python(const char *script)
{
	const char *py = find_python();
	size_t cap = 1 << 20, n = 0;
	char *cmd, *out;
	FILE *p;
	int st;

	if (!py) {
		print_message("SKIP: neither /usr/bin/python3 nor python3 on PATH can import "
			      "cryptography.fernet; install python3-cryptography\n");
		skip();
	}
	cmd = malloc(strlen(script) + 64);
	out = malloc(cap);
	assert_non_null(cmd);
	assert_non_null(out);
	snprintf(cmd, strlen(script) + 64, "%s -c '%s' </dev/null", py, script);
	p = popen(cmd, "r");
	assert_non_null(p);
	for (;;) {
		size_t r = fread(out + n, 1, cap - 1 - n, p);
		n += r;
		if (r == 0 || n == cap - 1)
			break;
	}
	out[n] = '\0';
	st = pclose(p);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("python failed (status %d) running:\n%s\noutput:\n%s", st, script, out);
	free(cmd);
	return out;
}

/* ---- secrets ---- */

static void test_secret_basics(void **state)
{
	(void)state;
	struct secret *s = secret_new("abc\0def", 7);
	struct secret *e = secret_new(NULL, 0);

	assert_non_null(s);
	assert_int_equal(secret_len(s), 7);
	assert_false(secret_empty(s));
	assert_memory_equal(secret__bytes(s), "abc\0def", 7);
	assert_true(secret_equals(s, "abc\0def", 7));
	assert_false(secret_equals(s, "abc\0deg", 7));
	assert_false(secret_equals(s, "abc\0de", 6));
	assert_false(secret_equals(s, "abc\0defg", 8));
	assert_false(secret_equals(s, NULL, 0));

	assert_non_null(e);
	assert_int_equal(secret_len(e), 0);
	assert_true(secret_empty(e));
	assert_true(secret_equals(e, "", 0));
	assert_true(secret_equals(e, NULL, 0));
	assert_false(secret_equals(e, "x", 1));

	assert_null(secret_new(NULL, 3));
	assert_true(secret_empty(NULL));
	assert_int_equal(secret_len(NULL), 0);
	assert_null(secret__bytes(NULL));
	assert_true(secret_equals(NULL, NULL, 0));
	assert_false(secret_equals(NULL, "x", 1));
	secret_free(NULL);
	secret_free(e);
	secret_free(s);
}

/* ---- keys ---- */

static void test_key_text(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4",   /* 43: no padding */
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4==", /* 45 */
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4A",  /* 44, 33 bytes */
	    "cw/0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",  /* not URL-safe */
	    "cw+0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",  /* not URL-safe */
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e5=",  /* bits under padding */
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4=4=",  /* '=' inside */
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4 ",  /* space */
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e\n=", /* newline */
	    "============================================",
	};
	char k[FERNET_KEY_TEXT_LEN + 1], k2[FERNET_KEY_TEXT_LEN + 1];
	unsigned char raw[64];
	struct err_info info;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&info, 0, sizeof(info));
		if (fernet_new(bad[i], strlen(bad[i]), &info))
			fail_msg("accepted bad key [%zu] %s", i, bad[i]);
		assert_int_equal(info.code, ERR_PARSE);
		assert_null(strstr(info.msg, "jtRR7"));
	}
	assert_null(fernet_new(NULL, 44, NULL));
	fernet_free(NULL);

	assert_int_equal(fernet_genkey(k), 0);
	assert_int_equal(fernet_genkey(k2), 0);
	assert_int_equal(strlen(k), FERNET_KEY_TEXT_LEN);
	assert_int_equal(k[43], '=');
	assert_string_not_equal(k, k2);
	assert_int_equal(b64url_decode(k, raw), 32);
	for (size_t i = 0; i < 43; i++)
		assert_non_null(strchr(
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", k[i]));
	fernet_free(key_or_die(k));

	/* Every byte value through the codec: keys of 0x00.., 0xff.., and a ramp. */
	for (int v = 0; v < 256; v += 15) {
		unsigned char r[32];
		char t[FERNET_KEY_TEXT_LEN + 1], tok[TOK_CAP];
		struct fernet *a, *b;
		unsigned char iv[16] = {0};
		for (int i = 0; i < 32; i++)
			r[i] = (unsigned char)(v + i * 37);
		b64url_encode(r, 32, t);
		a = key_or_die(t);
		b = key_or_die(t);
		assert_int_equal(fernet_encrypt_iv(a, "x", 1, 1, iv, tok, sizeof(tok)), 100);
		expect_decrypt(b, tok, 1, 0, 0, "x", 1);
		fernet_free(a);
		fernet_free(b);
	}
}

/* ---- the spec's vectors ---- */

static void test_spec_generate(void **state)
{
	(void)state;
	unsigned char iv[16];
	char tok[TOK_CAP];
	struct fernet *f = key_or_die(SPEC_KEY);

	for (int i = 0; i < 16; i++)
		iv[i] = (unsigned char)i;
	assert_int_equal(fernet_encrypt_iv(f, "hello", 5, SPEC_NOW, iv, tok, sizeof(tok)),
			 (int)strlen(SPEC_TOKEN));
	assert_string_equal(tok, SPEC_TOKEN);
	assert_int_equal(fernet_token_len(5), strlen(SPEC_TOKEN));
	fernet_free(f);
}

static void test_spec_verify(void **state)
{
	(void)state;
	struct fernet *f = key_or_die(SPEC_KEY);

	expect_decrypt(f, SPEC_TOKEN, SPEC_NOW + 1, 60, 0, "hello", 5);
	expect_decrypt(f, SPEC_TOKEN, SPEC_NOW + 1, 0, 0, "hello", 5);
	expect_decrypt(f, SPEC_TOKEN, SPEC_NOW + 1000000000, 0, 0, "hello", 5);
	fernet_free(f);
}

static void test_spec_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *desc, *token;
		int64_t now;
		int rc;
	} v[] = {
	    {"incorrect mac",
	     "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1Ydyk"
	     "QUFBQUFBQUFBQQ==",
	     SPEC_NOW + 1, ERR_AUTH},
	    {"too short", "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPA==", SPEC_NOW + 1,
	     ERR_PARSE},
	    {"invalid base64",
	     "%%%%%%%%%%%%%AECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1Ydyk"
	     "RtfsH-p1YsUD2Q==",
	     SPEC_NOW + 1, ERR_PARSE},
	    {"payload size not multiple of block size",
	     "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPOm73QeoCk9uGib28Xe5vz6oxq5nmxbx_"
	     "v7mrfyudzUm",
	     SPEC_NOW + 1, ERR_PARSE},
	    {"payload padding error",
	     "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0ODz4LEpdELGQAad7aNEHbf-JkLPIpuiYRLQ3RtXatOYREu2FWke6C"
	     "nJNYIbkuKNqOhw==",
	     SPEC_NOW + 1, ERR_AUTH},
	    {"far-future TS (unacceptable clock skew)",
	     "gAAAAAAdwStRAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAnja1xKYyhd-Y6mSkTOyTGJmw2Xc2a6"
	     "kBd-iX9b_qXQcw==",
	     SPEC_NOW + 1, ERR_AUTH},
	    {"expired TTL",
	     "gAAAAAAdwJ6xAAECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAl1-szkFVzXTuGb4hR8AKtwcaX1Ydyk"
	     "RtfsH-p1YsUD2Q==",
	     SPEC_NOW + 91, ERR_EXPIRED},
	    {"incorrect IV (causes padding error)",
	     "gAAAAAAdwJ6xBQECAwQFBgcICQoLDA0OD3HkMATM5lFqGaerZ-fWPAkLhFLHpGtDBRLRTZeUfWgHSv49TF2A"
	     "UEZ1TIvcZjK1zQ==",
	     SPEC_NOW + 1, ERR_AUTH},
	    {"trailing characters after b64 padding", SPEC_TOKEN "trailingdata", SPEC_NOW + 1,
	     ERR_PARSE},
	    {"invalid characters in b64",
	     "*gAAAAAAdwJ6wAAECAwQFBgcI!CQoLDA0ODy021?cpGVWKZ_eEwC@GM4BLLF_5CV9dOPmrhuVUPgJobwOz7Jc"
	     "bmrR64jVmpU4IwqDA==",
	     SPEC_NOW + 1, ERR_PARSE},
	    {"invalid non-urlsafe characters in b64",
	     "gAAAAAAdwJ6wAAEC/AwQFBgcICQoLDA0ODy+021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7Jcb"
	     "mrR64jVmpU4IwqDA==",
	     SPEC_NOW + 1, ERR_PARSE},
	};
	struct fernet *f = key_or_die(SPEC_KEY);

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		print_message("invalid.json: %s\n", v[i].desc);
		expect_decrypt(f, v[i].token, v[i].now, 60, v[i].rc, NULL, 0);
	}
	/* The expired and far-future vectors are authentic (of an empty
	 * message): with no TTL they decrypt, so the TTL rules refused them. */
	expect_decrypt(f, v[6].token, v[6].now, 0, 0, "", 0);
	expect_decrypt(f, v[5].token, v[5].now, 0, 0, "", 0);
	fernet_free(f);
}

/* ---- round trips and encrypt edges ---- */

static void test_roundtrip_lengths(void **state)
{
	(void)state;
	char k[FERNET_KEY_TEXT_LEN + 1], tok[TOK_CAP], tok2[TOK_CAP];
	unsigned char msg[600];
	struct fernet *f;

	assert_int_equal(fernet_genkey(k), 0);
	f = key_or_die(k);
	for (size_t n = 0; n <= sizeof(msg); n += (n < 70 ? 1 : 53)) {
		int rc;
		fill(msg, n, (unsigned int)n);
		rc = fernet_encrypt(f, msg, n, 1700000000, tok, sizeof(tok));
		assert_int_equal(rc, (int)fernet_token_len(n));
		assert_int_equal(strlen(tok), (size_t)rc);
		assert_int_equal(fernet_token_len(n) % 4, 0);
		assert_int_equal(fernet_encrypt(f, msg, n, 1700000000, tok2, sizeof(tok2)), rc);
		assert_string_not_equal(tok, tok2); /* fresh IV each time */
		expect_decrypt(f, tok, 1700000000, 60, 0, msg, n);
		expect_decrypt(f, tok2, 1700000000, 0, 0, msg, n);
	}
	fernet_free(f);
}

static void test_encrypt_args(void **state)
{
	(void)state;
	struct fernet *f = key_or_die(SPEC_KEY);
	unsigned char iv[16] = {0};
	size_t need = fernet_token_len(5) + 1;
	char tok[TOK_CAP];

	memset(tok, 'x', sizeof(tok));
	assert_int_equal(fernet_encrypt_iv(f, "hello", 5, 1, iv, tok, need - 1), ERR_RANGE);
	assert_int_equal(tok[0], '\0');
	assert_int_equal(fernet_encrypt_iv(f, "hello", 5, 1, iv, tok, need), (int)need - 1);
	assert_int_equal(tok[need - 1], '\0');
	assert_int_equal(fernet_encrypt(f, "hello", 5, -1, tok, sizeof(tok)), ERR_INVALID);
	assert_int_equal(fernet_encrypt(NULL, "hello", 5, 1, tok, sizeof(tok)), ERR_INVALID);
	assert_int_equal(fernet_encrypt(f, NULL, 5, 1, tok, sizeof(tok)), ERR_INVALID);
	assert_int_equal(fernet_encrypt(f, NULL, 0, 1, tok, sizeof(tok)), 100);
	expect_decrypt(f, tok, 1, 0, 0, "", 0);
	assert_int_equal(fernet_encrypt_iv(f, "hello", 5, 1, NULL, tok, sizeof(tok)), ERR_INVALID);
	assert_int_equal(fernet_encrypt(f, "hello", 5, 1, NULL, 0), ERR_INVALID);
	assert_int_equal(fernet_token_len(SIZE_MAX), 0);
	assert_int_equal(fernet_encrypt(f, "hello", SIZE_MAX, 1, tok, sizeof(tok)), ERR_RANGE);
	fernet_free(f);
}

static void test_decrypt_args(void **state)
{
	(void)state;
	struct fernet *f = key_or_die(SPEC_KEY);
	struct secret *s = NULL;
	struct err_info info;

	assert_int_equal(fernet_decrypt(NULL, SPEC_TOKEN, 100, SPEC_NOW, 0, &s, &info),
			 ERR_INVALID);
	assert_int_equal(fernet_decrypt(f, SPEC_TOKEN, 100, SPEC_NOW, 0, NULL, &info), ERR_INVALID);
	assert_int_equal(fernet_decrypt(f, NULL, 100, SPEC_NOW, 0, &s, &info), ERR_INVALID);
	assert_int_equal(fernet_decrypt(f, SPEC_TOKEN, 100, SPEC_NOW, -1, &s, &info), ERR_INVALID);
	assert_int_equal(fernet_decrypt(f, NULL, 0, SPEC_NOW, 0, &s, &info), ERR_PARSE);
	assert_null(s);
	/* No info: still works. */
	assert_int_equal(fernet_decrypt(f, SPEC_TOKEN, 100, SPEC_NOW, 0, &s, NULL), 0);
	assert_true(secret_equals(s, "hello", 5));
	secret_free(s);
	/* len bounds the token: the spec token without its padding is not a token. */
	assert_int_equal(fernet_decrypt(f, SPEC_TOKEN, 98, SPEC_NOW, 0, &s, NULL), ERR_PARSE);
	fernet_free(f);
}

/* ---- tampering ---- */

static void test_tamper_every_byte(void **state)
{
	(void)state;
	struct fernet *f = key_or_die(SPEC_KEY);
	unsigned char iv[16], msg[20], raw[512], mod[512];
	static const unsigned char flips[] = {0x01, 0x80, 0xff};
	char tok[TOK_CAP], bad[TOK_CAP];
	size_t n;

	fill(iv, 16, 9);
	fill(msg, sizeof(msg), 3);
	assert_true(fernet_encrypt_iv(f, msg, sizeof(msg), SPEC_NOW, iv, tok, sizeof(tok)) > 0);
	n = b64url_decode(tok, raw);
	assert_int_equal(n, 1 + 8 + 16 + 32 + 32);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < sizeof(flips); j++) {
			/* version → parse error; timestamp, iv, ciphertext, hmac → auth. */
			int want = i == 0 ? ERR_PARSE : ERR_AUTH;
			memcpy(mod, raw, n);
			mod[i] ^= flips[j];
			b64url_encode(mod, n, bad);
			expect_decrypt(f, bad, SPEC_NOW, 60, want, NULL, 0);
			expect_decrypt(f, bad, SPEC_NOW, 0, want, NULL, 0);
		}
	}
	/* A different key fails the HMAC. */
	{
		char k[FERNET_KEY_TEXT_LEN + 1];
		struct fernet *g;
		assert_int_equal(fernet_genkey(k), 0);
		g = key_or_die(k);
		expect_decrypt(g, tok, SPEC_NOW, 0, ERR_AUTH, NULL, 0);
		fernet_free(g);
	}
	/* Right signing half, wrong encryption half, and the reverse. */
	{
		unsigned char kraw[64];
		char k[64];
		struct fernet *g;
		assert_int_equal(b64url_decode(SPEC_KEY, kraw), 32);
		kraw[31] ^= 1;
		b64url_encode(kraw, 32, k);
		g = key_or_die(k);
		expect_decrypt(g, tok, SPEC_NOW, 0, ERR_AUTH, NULL, 0); /* padding or garbage */
		fernet_free(g);
		kraw[31] ^= 1;
		kraw[0] ^= 1;
		b64url_encode(kraw, 32, k);
		g = key_or_die(k);
		expect_decrypt(g, tok, SPEC_NOW, 0, ERR_AUTH, NULL, 0);
		fernet_free(g);
	}
	fernet_free(f);
}

static void test_tamper_text(void **state)
{
	(void)state;
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	struct fernet *f = key_or_die(SPEC_KEY);
	size_t n = strlen(SPEC_TOKEN);
	char bad[TOK_CAP];

	/* Every character replaced by a few others, including '=' and bytes
	 * outside the alphabet; each result must be refused. */
	for (size_t i = 0; i < n; i++) {
		static const char repl[] = {'A', 'B', 'z', '-',	 '_',  '0',	   '=',
					    '+', '/', ' ', '\n', '\0', (char)0x80, (char)0xff};
		for (size_t j = 0; j < sizeof(repl); j++) {
			struct secret *s = NULL;
			int rc;
			if (repl[j] == SPEC_TOKEN[i])
				continue;
			memcpy(bad, SPEC_TOKEN, n);
			bad[i] = repl[j];
			rc = fernet_decrypt(f, bad, n, SPEC_NOW, 60, &s, NULL);
			if (rc != ERR_AUTH && rc != ERR_PARSE)
				fail_msg("char %zu -> 0x%02x: rc %d (%s)", i,
					 (unsigned char)repl[j], rc, err_str(rc));
			assert_null(s);
		}
	}
	/* The last data character of "DA==" carries 4 bits under the padding:
	 * the other 15 spellings of the same bytes are not canonical. */
	for (const char *a = alphabet; *a; a++) {
		memcpy(bad, SPEC_TOKEN, n + 1);
		if (*a == bad[n - 3])
			continue;
		bad[n - 3] = *a;
		expect_decrypt(f, bad, SPEC_NOW, 60,
			       ((strchr(alphabet, *a) - alphabet) & 0x0f) ? ERR_PARSE : ERR_AUTH,
			       NULL, 0);
	}
	fernet_free(f);
}

static void test_truncated_and_garbage(void **state)
{
	(void)state;
	struct fernet *f = key_or_die(SPEC_KEY);
	unsigned char raw[512];
	char bad[TOK_CAP];
	size_t n = b64url_decode(SPEC_TOKEN, raw), tn = strlen(SPEC_TOKEN);
	static const char *const garbage[] = {
	    "",
	    "=",
	    "==",
	    "====",
	    "gAAA",
	    "gA==",
	    "gAAAAAAdwJ6w====",
	    "\x80\x81\x82\x83",
	    "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7Jcbm",
	    " gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7Jcbm"
	    "rR64jVmpU4IwqDA==",
	    "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7Jcbm"
	    "rR64jVmpU4IwqDA==\n",
	    "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7Jcbm"
	    "rR64jVmpU4IwqDA",
	    "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ/eEwCGM4BLLF/5CV9dOPmrhuVUPgJobwOz7Jcbm"
	    "rR64jVmpU4IwqDA==",
	};

	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		expect_decrypt(f, garbage[i], SPEC_NOW, 60, ERR_PARSE, NULL, 0);

	/* Every text prefix. */
	for (size_t l = 0; l < tn; l++) {
		struct secret *s = NULL;
		int rc = fernet_decrypt(f, SPEC_TOKEN, l, SPEC_NOW, 60, &s, NULL);
		if (rc != ERR_PARSE && rc != ERR_AUTH)
			fail_msg("prefix %zu: rc %d", l, rc);
		assert_null(s);
	}
	/* Every raw prefix, re-encoded properly: too short or a partial block is
	 * a parse error, a whole-block cut fails the HMAC. */
	for (size_t l = 1; l < n; l++) {
		b64url_encode(raw, l, bad);
		expect_decrypt(f, bad, SPEC_NOW, 60,
			       (l >= 73 && (l - 57) % 16 == 0) ? ERR_AUTH : ERR_PARSE, NULL, 0);
	}
	/* Extended by a block, or by a byte. */
	memset(raw + n, 0x41, 16);
	b64url_encode(raw, n + 16, bad);
	expect_decrypt(f, bad, SPEC_NOW, 60, ERR_AUTH, NULL, 0);
	b64url_encode(raw, n + 1, bad);
	expect_decrypt(f, bad, SPEC_NOW, 60, ERR_PARSE, NULL, 0);
	fernet_free(f);
}

/* Tokens with a valid HMAC but a broken body: the checks after the MAC. */
static void test_crafted(void **state)
{
	(void)state;
	struct fernet *f = key_or_die(SPEC_KEY);
	unsigned char iv[16], blk[48], extra[16];
	char tok[TOK_CAP];

	fill(iv, 16, 1);
	fill(extra, 16, 2);

	/* Sanity: a crafted "hello" with correct padding decrypts. */
	memcpy(blk, "hello", 5);
	memset(blk + 5, 11, 11);
	craft(SPEC_KEY, 0x80, SPEC_NOW, iv, blk, 16, NULL, 0, tok);
	expect_decrypt(f, tok, SPEC_NOW, 60, 0, "hello", 5);

	/* Every legal pad length strips exactly. */
	for (int pad = 1; pad <= 16; pad++) {
		fill(blk, 32, 5);
		memset(blk + 32 - pad, pad, (size_t)pad);
		craft(SPEC_KEY, 0x80, SPEC_NOW, iv, blk, 32, NULL, 0, tok);
		expect_decrypt(f, tok, SPEC_NOW, 60, 0, blk, (size_t)(32 - pad));
	}
	/* Bad padding: 0, 17, 255, and a pad whose earlier bytes differ. */
	static const unsigned char badlast[] = {0, 17, 32, 255};
	for (size_t i = 0; i < sizeof(badlast); i++) {
		fill(blk, 32, 5);
		blk[31] = badlast[i];
		craft(SPEC_KEY, 0x80, SPEC_NOW, iv, blk, 32, NULL, 0, tok);
		expect_decrypt(f, tok, SPEC_NOW, 60, ERR_AUTH, NULL, 0);
	}
	for (int pad = 2; pad <= 16; pad++) {
		for (int k = 2; k <= pad; k++) {
			fill(blk, 32, 5);
			memset(blk + 32 - pad, pad, (size_t)pad);
			blk[32 - k] ^= 0x40;
			craft(SPEC_KEY, 0x80, SPEC_NOW, iv, blk, 32, NULL, 0, tok);
			expect_decrypt(f, tok, SPEC_NOW, 60, ERR_AUTH, NULL, 0);
		}
	}
	/* Authentic but wrong version. */
	memcpy(blk, "hello", 5);
	memset(blk + 5, 11, 11);
	craft(SPEC_KEY, 0x81, SPEC_NOW, iv, blk, 16, NULL, 0, tok);
	expect_decrypt(f, tok, SPEC_NOW, 60, ERR_PARSE, NULL, 0);
	craft(SPEC_KEY, 0x00, SPEC_NOW, iv, blk, 16, NULL, 0, tok);
	expect_decrypt(f, tok, SPEC_NOW, 0, ERR_PARSE, NULL, 0);
	/* Authentic but empty ciphertext, or not whole blocks. */
	craft(SPEC_KEY, 0x80, SPEC_NOW, iv, blk, 0, NULL, 0, tok);
	expect_decrypt(f, tok, SPEC_NOW, 60, ERR_PARSE, NULL, 0);
	for (size_t e = 1; e < 16; e++) {
		craft(SPEC_KEY, 0x80, SPEC_NOW, iv, blk, 16, extra, e, tok);
		expect_decrypt(f, tok, SPEC_NOW, 60, ERR_PARSE, NULL, 0);
	}
	craft(SPEC_KEY, 0x80, SPEC_NOW, iv, NULL, 0, extra, 7, tok);
	expect_decrypt(f, tok, SPEC_NOW, 60, ERR_PARSE, NULL, 0);
	/* Authentic timestamps at the top of the range: future under a TTL,
	 * accepted when age is ignored. */
	craft(SPEC_KEY, 0x80, UINT64_MAX, iv, blk, 16, NULL, 0, tok);
	expect_decrypt(f, tok, SPEC_NOW, 60, ERR_AUTH, NULL, 0);
	expect_decrypt(f, tok, SPEC_NOW, 0, 0, "hello", 5);
	craft(SPEC_KEY, 0x80, (uint64_t)INT64_MAX + 1, iv, blk, 16, NULL, 0, tok);
	expect_decrypt(f, tok, INT64_MAX, 60, 0, "hello", 5); /* 1 s ahead */
	expect_decrypt(f, tok, INT64_MAX - 59, 60, 0, "hello", 5);
	expect_decrypt(f, tok, INT64_MAX - 60, 60, ERR_AUTH, NULL, 0);
	craft(SPEC_KEY, 0x80, 0, iv, blk, 16, NULL, 0, tok);
	expect_decrypt(f, tok, INT64_MAX, INT64_MAX, 0, "hello", 5);
	expect_decrypt(f, tok, INT64_MAX, INT64_MAX - 1, ERR_EXPIRED, NULL, 0);
	fernet_free(f);
}

/* ---- TTL ---- */

static void test_ttl(void **state)
{
	(void)state;
	const int64_t t = 1700000000;
	struct fernet *f = key_or_die(SPEC_KEY);
	char tok[TOK_CAP];

	assert_true(fernet_encrypt(f, "abc", 3, t, tok, sizeof(tok)) > 0);
	expect_decrypt(f, tok, t, 60, 0, "abc", 3);		  /* fresh */
	expect_decrypt(f, tok, t + 60, 60, 0, "abc", 3);	  /* age == ttl */
	expect_decrypt(f, tok, t + 61, 60, ERR_EXPIRED, NULL, 0); /* age > ttl */
	expect_decrypt(f, tok, t + 86400, 1, ERR_EXPIRED, NULL, 0);
	expect_decrypt(f, tok, t + 86400 * 3650LL, 0, 0, "abc", 3); /* age ignored */
	expect_decrypt(f, tok, t - 60, 60, 0, "abc", 3);	    /* skew allowed */
	expect_decrypt(f, tok, t - 61, 60, ERR_AUTH, NULL, 0);	    /* too far ahead */
	expect_decrypt(f, tok, t - 61, 1, ERR_AUTH, NULL, 0);
	expect_decrypt(f, tok, 0, 60, ERR_AUTH, NULL, 0);
	expect_decrypt(f, tok, 0, 0, 0, "abc", 3);
	expect_decrypt(f, tok, t - 86400, 0, 0, "abc", 3); /* no TTL: no skew rule */
	fernet_free(f);
}

/* ---- Python interop ---- */

#define PY_MAX_LEN 48

static void test_python_c_to_py(void **state)
{
	(void)state;
	static const char script[] = "import os, time\n"
				     "from cryptography.fernet import Fernet\n"
				     "f = Fernet(os.environ[\"ARB_T_KEY\"].encode())\n"
				     "now = int(os.environ[\"ARB_T_NOW\"])\n"
				     "for t in os.environ[\"ARB_T_TOKENS\"].split():\n"
				     "    print(f.decrypt_at_time(t.encode(), 60, now).hex())\n"
				     "    print(f.decrypt(t).hex())\n";
	char key[FERNET_KEY_TEXT_LEN + 1], nowbuf[32];
	char *tokens, *out, *line, *cur;
	unsigned char msg[PY_MAX_LEN + 200];
	char want[2 * sizeof(msg) + 1];
	size_t off = 0, cap = 64 * 1024;
	const int64_t now = 1700000000;
	struct fernet *f;

	if (!find_python())
		run_python(""); /* skips with the reason */
	tokens = malloc(cap);
	assert_non_null(tokens);
	assert_int_equal(fernet_genkey(key), 0);
	f = key_or_die(key);
	for (size_t n = 0; n <= PY_MAX_LEN + 200; n += n < PY_MAX_LEN ? 1 : 100) {
		int rc;
		fill(msg, n, (unsigned int)n);
		rc = fernet_encrypt(f, msg, n, now, tokens + off, cap - off);
		assert_true(rc > 0);
		off += (size_t)rc;
		tokens[off++] = ' ';
	}
	tokens[off] = '\0';
	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	setenv("ARB_T_KEY", key, 1);
	setenv("ARB_T_NOW", nowbuf, 1);
	setenv("ARB_T_TOKENS", tokens, 1);
	out = run_python(script);
	cur = out;
	for (size_t n = 0; n <= PY_MAX_LEN + 200; n += n < PY_MAX_LEN ? 1 : 100) {
		fill(msg, n, (unsigned int)n);
		hex(msg, n, want);
		for (int rep = 0; rep < 2; rep++) {
			line = next_line(&cur);
			assert_non_null(line);
			assert_string_equal(line, want);
		}
	}
	assert_null(next_line(&cur));
	unsetenv("ARB_T_TOKENS");
	free(out);
	free(tokens);
	fernet_free(f);
}

static void test_python_py_to_c(void **state)
{
	(void)state;
	/* Python makes the key and the tokens; C decrypts them, then encrypts
	 * with the Python key and Python decrypts. */
	static const char script[] =
	    "import time\n"
	    "from cryptography.fernet import Fernet\n"
	    "k = Fernet.generate_key()\n"
	    "f = Fernet(k)\n"
	    "print(k.decode())\n"
	    "print(int(time.time()))\n"
	    "for n in range(0, 49):\n"
	    "    print(f.encrypt(bytes((i * 7 + n) & 255 for i in range(n))).decode())\n"
	    "print(f.encrypt_at_time(b\"at-time\", 1000000000).decode())\n";
	static const char back[] =
	    "import os\n"
	    "from cryptography.fernet import Fernet\n"
	    "f = Fernet(os.environ[\"ARB_T_KEY\"].encode())\n"
	    "print(f.decrypt(os.environ[\"ARB_T_TOKEN\"].encode(), 120).decode())\n";
	char *out, *line, *cur, key[FERNET_KEY_TEXT_LEN + 1], tok[TOK_CAP];
	unsigned char msg[64];
	int64_t now;
	struct fernet *f;

	if (!find_python())
		run_python("");
	out = run_python(script);
	cur = out;
	line = next_line(&cur);
	assert_non_null(line);
	assert_int_equal(strlen(line), FERNET_KEY_TEXT_LEN);
	memcpy(key, line, FERNET_KEY_TEXT_LEN + 1);
	f = key_or_die(key);
	line = next_line(&cur);
	assert_non_null(line);
	now = strtoll(line, NULL, 10);
	assert_true(now > 1600000000);
	for (size_t n = 0; n <= 48; n++) {
		line = next_line(&cur);
		assert_non_null(line);
		fill(msg, n, (unsigned int)n);
		expect_decrypt(f, line, now, 60, 0, msg, n);
		expect_decrypt(f, line, now, 0, 0, msg, n);
	}
	line = next_line(&cur);
	assert_non_null(line);
	expect_decrypt(f, line, 1000000000, 1, 0, "at-time", 7);
	expect_decrypt(f, line, 1000000002, 1, ERR_EXPIRED, NULL, 0);
	expect_decrypt(f, line, 999999939, 1, ERR_AUTH, NULL, 0);
	assert_null(next_line(&cur));
	free(out);

	assert_true(fernet_encrypt(f, "from C", 6, (int64_t)time(NULL), tok, sizeof(tok)) > 0);
	setenv("ARB_T_KEY", key, 1);
	setenv("ARB_T_TOKEN", tok, 1);
	out = run_python(back);
	assert_string_equal(out, "from C\n");
	free(out);
	fernet_free(f);
}

/* C and Python agree on every TTL and clock-skew boundary. */
static void test_python_ttl_agrees(void **state)
{
	(void)state;
	static const char script[] = "import os\n"
				     "from cryptography.fernet import Fernet, InvalidToken\n"
				     "f = Fernet(os.environ[\"ARB_T_KEY\"].encode())\n"
				     "t = os.environ[\"ARB_T_TOKEN\"].encode()\n"
				     "for case in os.environ[\"ARB_T_CASES\"].split():\n"
				     "    now, ttl = (int(x) for x in case.split(\",\"))\n"
				     "    try:\n"
				     "        f.decrypt_at_time(t, ttl, now)\n"
				     "        print(1)\n"
				     "    except InvalidToken:\n"
				     "        print(0)\n";
	static const int64_t d[][2] = {
	    {0, 60},	  {60, 60},	{61, 60},   {-60, 60},	 {-61, 60},
	    {1, 1},	  {2, 1},	{-59, 1},   {-60, 1},	 {-61, 1},
	    {3600, 3600}, {3601, 3600}, {-1000, 5}, {100000, 1}, {-59, 100},
	};
	const int64_t t = 1700000000;
	char key[FERNET_KEY_TEXT_LEN + 1], tok[TOK_CAP], cases[1024], *out, *p;
	size_t off = 0;
	struct fernet *f;

	if (!find_python())
		run_python("");
	assert_int_equal(fernet_genkey(key), 0);
	f = key_or_die(key);
	assert_true(fernet_encrypt(f, "ttl", 3, t, tok, sizeof(tok)) > 0);
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		off += (size_t)snprintf(cases + off, sizeof(cases) - off, "%lld,%lld ",
					(long long)(t + d[i][0]), (long long)d[i][1]);
	setenv("ARB_T_KEY", key, 1);
	setenv("ARB_T_TOKEN", tok, 1);
	setenv("ARB_T_CASES", cases, 1);
	out = run_python(script);
	p = out;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		struct secret *s = NULL;
		int rc = fernet_decrypt(f, tok, strlen(tok), t + d[i][0], d[i][1], &s, NULL);
		assert_true(p[0] == '0' || p[0] == '1');
		if ((rc == 0) != (p[0] == '1'))
			fail_msg("age %lld ttl %lld: C rc %d, Python %s", (long long)d[i][0],
				 (long long)d[i][1], rc, p[0] == '1' ? "accepts" : "refuses");
		secret_free(s);
		p += 2;
	}
	assert_int_equal(p[0], '\0');
	unsetenv("ARB_T_CASES");
	free(out);
	fernet_free(f);
}

/* ---- key file ---- */

static char tmpdir[256];
static char *saved_xdg, *saved_home;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static int setup_tmp(void **state)
{
	(void)state;
	const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
	saved_xdg = x ? strdup(x) : NULL;
	saved_home = h ? strdup(h) : NULL;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/arb_secret_XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
	return 0;
}

static int teardown_tmp(void **state)
{
	(void)state;
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (saved_xdg)
		setenv("XDG_CONFIG_HOME", saved_xdg, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
	if (saved_home)
		setenv("HOME", saved_home, 1);
	else
		unsetenv("HOME");
	free(saved_xdg);
	free(saved_home);
	saved_xdg = saved_home = NULL;
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Same key: the same IV and time give the same token. */
static void assert_same_key(const struct fernet *a, const struct fernet *b)
{
	unsigned char iv[16] = {7};
	char t1[TOK_CAP], t2[TOK_CAP];
	assert_true(fernet_encrypt_iv(a, "same", 4, 5, iv, t1, sizeof(t1)) > 0);
	assert_true(fernet_encrypt_iv(b, "same", 4, 5, iv, t2, sizeof(t2)) > 0);
	assert_string_equal(t1, t2);
}

static void test_default_path(void **state)
{
	(void)state;
	char buf[512], want[512];

	assert_int_equal(fernet_default_key_path(buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%s/arbitrade/fernet.key", tmpdir);
	assert_string_equal(buf, want);
	assert_int_equal(fernet_default_key_path(buf, strlen(want)), ERR_RANGE);
	assert_int_equal(fernet_default_key_path(buf, strlen(want) + 1), 0);

	setenv("HOME", "/home/someone", 1);
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(fernet_default_key_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/someone/.config/arbitrade/fernet.key");
	setenv("XDG_CONFIG_HOME", "", 1);
	assert_int_equal(fernet_default_key_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/someone/.config/arbitrade/fernet.key");
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	assert_int_equal(fernet_default_key_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/someone/.config/arbitrade/fernet.key");
	unsetenv("HOME");
	unsetenv("XDG_CONFIG_HOME");
	assert_int_equal(fernet_default_key_path(buf, sizeof(buf)), ERR_NOTFOUND);
	assert_int_equal(fernet_default_key_path(NULL, 0), ERR_RANGE);
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
}

static void test_keyfile_create_reload(void **state)
{
	(void)state;
	char dir[512], path[512], buf[128];
	struct fernet *a = NULL, *b = NULL;
	struct err_info info = {0};
	FILE *fp;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/arbitrade", tmpdir);
	snprintf(path, sizeof(path), "%s/arbitrade/fernet.key", tmpdir);

	/* Missing and create == false: an error naming the path, nothing made. */
	assert_int_equal(fernet_key_load("", "", false, &a, &info), -ENOENT);
	assert_null(a);
	assert_non_null(strstr(info.msg, path));
	assert_int_equal(access(dir, F_OK), -1);

	mode_t old = umask(0);
	int rc = fernet_key_load(NULL, NULL, true, &a, &info);
	umask(old);
	if (rc != 0)
		fail_msg("create: %s", info.msg);
	assert_non_null(a);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(mode_of(path), 0600);

	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	assert_int_equal(n, FERNET_KEY_TEXT_LEN + 1);
	assert_int_equal(buf[FERNET_KEY_TEXT_LEN], '\n');
	buf[FERNET_KEY_TEXT_LEN] = '\0';
	b = key_or_die(buf);
	assert_same_key(a, b);
	fernet_free(b);
	b = NULL;

	/* Reload, with and without create: the same key, the file untouched. */
	assert_int_equal(fernet_key_load("", "", true, &b, &info), 0);
	assert_same_key(a, b);
	fernet_free(b);
	assert_int_equal(fernet_key_load("", path, false, &b, &info), 0);
	assert_same_key(a, b);
	fernet_free(b);

	/* A token made with the first load opens with the second. */
	{
		char tok[TOK_CAP];
		assert_int_equal(fernet_key_load("", "", false, &b, &info), 0);
		assert_true(fernet_encrypt(a, "api-secret", 10, 100, tok, sizeof(tok)) > 0);
		expect_decrypt(b, tok, 100, 60, 0, "api-secret", 10);
		fernet_free(b);
	}

	/* FERNET_KEY text wins over the file, with surrounding whitespace trimmed. */
	b = NULL;
	assert_int_equal(fernet_key_load(" " SPEC_KEY "\n", path, false, &b, &info), 0);
	{
		struct fernet *s = key_or_die(SPEC_KEY);
		assert_same_key(s, b);
		fernet_free(s);
	}
	fernet_free(b);
	/* Even when the file would be refused. */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(fernet_key_load(SPEC_KEY, path, false, &b, &info), 0);
	fernet_free(b);
	fernet_free(a);
}

static void test_keyfile_nested_and_home(void **state)
{
	(void)state;
	char path[512], d1[512], d2[512];
	struct fernet *a = NULL;
	struct err_info info = {0};
	mode_t old;

	/* An explicit path under directories that do not exist yet. */
	snprintf(d1, sizeof(d1), "%s/x", tmpdir);
	snprintf(d2, sizeof(d2), "%s/x//y", tmpdir);
	snprintf(path, sizeof(path), "%s/x//y/key", tmpdir);
	old = umask(0277); /* would leave the file unreadable without fchmod */
	int rc = fernet_key_load("", path, true, &a, &info);
	umask(old);
	if (rc != 0)
		fail_msg("nested: %s", info.msg);
	assert_int_equal(mode_of(d1), 0700);
	assert_int_equal(mode_of(d2), 0700);
	assert_int_equal(mode_of(path), 0600);
	fernet_free(a);
	a = NULL;
	assert_int_equal(fernet_key_load("", path, false, &a, &info), 0);
	fernet_free(a);
	a = NULL;

	/* No XDG_CONFIG_HOME: $HOME/.config/arbitrade. */
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", tmpdir, 1);
	assert_int_equal(fernet_key_load("", "", true, &a, &info), 0);
	snprintf(path, sizeof(path), "%s/.config/arbitrade/fernet.key", tmpdir);
	assert_int_equal(mode_of(path), 0600);
	snprintf(d1, sizeof(d1), "%s/.config", tmpdir);
	assert_int_equal(mode_of(d1), 0700);
	fernet_free(a);
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
}

static void test_keyfile_modes(void **state)
{
	(void)state;
	static const mode_t refused[] = {0644, 0640, 0604, 0660, 0620, 0602,
					 0610, 0601, 0606, 0666, 0777, 0611};
	static const mode_t allowed[] = {0600, 0400, 0700, 0500};
	char path[512], want_mode[16], want_chmod[600];
	struct fernet *f = NULL;
	struct err_info info;

	snprintf(path, sizeof(path), "%s/perm.key", tmpdir);
	snprintf(want_chmod, sizeof(want_chmod), "chmod 600 %s", path);
	write_file(path, SPEC_KEY "\n", 0600);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(chmod(path, refused[i]), 0);
		memset(&info, 0, sizeof(info));
		assert_int_equal(fernet_key_load("", path, true, &f, &info), ERR_CONFIG);
		assert_null(f);
		assert_int_equal(info.code, ERR_CONFIG);
		snprintf(want_mode, sizeof(want_mode), "%04o", (unsigned int)refused[i]);
		if (!strstr(info.msg, path) || !strstr(info.msg, want_mode) ||
		    !strstr(info.msg, want_chmod))
			fail_msg("mode %04o message: %s", (unsigned int)refused[i], info.msg);
		assert_null(strstr(info.msg, "jtRR7"));
		/* Refusing never rewrites the file. */
		assert_int_equal(mode_of(path), refused[i]);
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		assert_int_equal(chmod(path, allowed[i]), 0);
		if (fernet_key_load("", path, false, &f, &info) != 0)
			fail_msg("mode %04o refused: %s", (unsigned int)allowed[i], info.msg);
		fernet_free(f);
		f = NULL;
	}
	/* A directory is not a key file. */
	snprintf(path, sizeof(path), "%s/adir", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(fernet_key_load("", path, true, &f, &info), ERR_CONFIG);
	assert_non_null(strstr(info.msg, path));
}

static void test_keyfile_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "\n",
	    "SECRETSECRETSECRETSECRET\n",
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4\n",
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4==\n",
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapL eSbXpwF4e4=\n",
	    "cw/0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=\n",
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=\ncw_0x689RpI-jtRR7oE8h_"
	    "eQsKImvJapLeSbXpwF4"
	    "e4=\n",
	    "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e"
	    "4=cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=",
	};
	static const char *const good[] = {
	    SPEC_KEY,
	    SPEC_KEY "\n",
	    SPEC_KEY "\r\n",
	    "  " SPEC_KEY " \n\n",
	};
	char path[512];
	struct fernet *f = NULL, *spec = key_or_die(SPEC_KEY);
	struct err_info info;

	snprintf(path, sizeof(path), "%s/bad.key", tmpdir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i], 0600);
		memset(&info, 0, sizeof(info));
		assert_int_equal(fernet_key_load("", path, true, &f, &info), ERR_CONFIG);
		assert_null(f);
		if (!strstr(info.msg, path))
			fail_msg("message lacks the path: %s", info.msg);
		/* Key content never appears in the message. */
		assert_null(strstr(info.msg, "SECRET"));
		assert_null(strstr(info.msg, "jtRR7"));
		assert_null(strstr(info.msg, "cw_0x"));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		write_file(path, good[i], 0600);
		if (fernet_key_load("", path, false, &f, &info) != 0)
			fail_msg("good[%zu] refused: %s", i, info.msg);
		assert_same_key(spec, f);
		fernet_free(f);
		f = NULL;
	}
	/* A malformed FERNET_KEY names the setting, not the value. */
	memset(&info, 0, sizeof(info));
	assert_int_equal(fernet_key_load("SECRETSECRET", path, false, &f, &info), ERR_CONFIG);
	assert_non_null(strstr(info.msg, "FERNET_KEY"));
	assert_null(strstr(info.msg, "SECRETSECRET"));
	assert_int_equal(fernet_key_load("", "", false, NULL, &info), ERR_INVALID);
	fernet_free(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_secret_basics),
	    cmocka_unit_test(test_key_text),
	    cmocka_unit_test(test_spec_generate),
	    cmocka_unit_test(test_spec_verify),
	    cmocka_unit_test(test_spec_invalid),
	    cmocka_unit_test(test_roundtrip_lengths),
	    cmocka_unit_test(test_encrypt_args),
	    cmocka_unit_test(test_decrypt_args),
	    cmocka_unit_test(test_tamper_every_byte),
	    cmocka_unit_test(test_tamper_text),
	    cmocka_unit_test(test_truncated_and_garbage),
	    cmocka_unit_test(test_crafted),
	    cmocka_unit_test(test_ttl),
	    cmocka_unit_test(test_python_c_to_py),
	    cmocka_unit_test(test_python_py_to_c),
	    cmocka_unit_test(test_python_ttl_agrees),
	    cmocka_unit_test_setup_teardown(test_default_path, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_keyfile_create_reload, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_keyfile_nested_and_home, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_keyfile_modes, setup_tmp, teardown_tmp),
	    cmocka_unit_test_setup_teardown(test_keyfile_malformed, setup_tmp, teardown_tmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

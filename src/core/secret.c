#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define VERSION_BYTE 0x80
#define TS_LEN	     8
#define IV_LEN	     16
#define BLOCK_LEN    16
#define MAC_LEN	     32
#define HALF_KEY_LEN 16
#define HEADER_LEN   (1 + TS_LEN + IV_LEN)
/* The shortest token carries one block: PKCS7 always adds at least a byte. */
#define MIN_RAW_LEN (HEADER_LEN + BLOCK_LEN + MAC_LEN)
/* A key file holds 44 chars and perhaps a newline; anything larger is not a key. */
#define KEY_FILE_MAX 128

struct secret {
	size_t len;
	size_t cap; /* bytes allocated in b, all wiped on free */
	unsigned char b[];
};

struct fernet {
	unsigned char sign[HALF_KEY_LEN];
	unsigned char enc[HALF_KEY_LEN];
};

/* ---- secrets ---- */

static struct secret *secret_alloc(size_t cap)
{
	struct secret *s;

	if (cap > SIZE_MAX - sizeof(*s))
		return NULL;
	s = malloc(sizeof(*s) + cap);
	if (!s)
		return NULL;
	s->len = 0;
	s->cap = cap;
	return s;
}

struct secret *secret_new(const void *buf, size_t len)
{
	struct secret *s;

	if (!buf && len)
		return NULL;
	s = secret_alloc(len);
	if (!s)
		return NULL;
	if (len)
		memcpy(s->b, buf, len);
	s->len = len;
	return s;
}

void secret_free(struct secret *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s->b, s->cap);
	s->len = 0;
	free(s);
}

size_t secret_len(const struct secret *s)
{
	return s ? s->len : 0;
}

bool secret_empty(const struct secret *s)
{
	return !s || s->len == 0;
}

const unsigned char *secret__bytes(const struct secret *s)
{
	return s ? s->b : NULL;
}

bool secret_equals(const struct secret *s, const void *buf, size_t len)
{
	/* Lengths are not secret; only the bytes are compared in constant time. */
	if (secret_len(s) != len)
		return false;
	if (len == 0)
		return true;
	if (!buf)
		return false;
	return CRYPTO_memcmp(s->b, buf, len) == 0;
}

/* ---- URL-safe base64 ----
 *
 * Key text is decoded here, so the character mapping avoids table lookups and
 * branches on the data, in the way libsodium's codecs do: the cache and branch
 * predictor then learn nothing about the key. Only canonical padded text is
 * accepted; non-zero bits under the padding would let two texts name one
 * token. */

static unsigned int ct_lt(unsigned int x, unsigned int y) /* 0xff when x < y (both < 256) */
{
	return ((x - y) >> 8) & 0xffu;
}

static unsigned int ct_eq(unsigned int x, unsigned int y)
{
	return ct_lt(x ^ y, 1u);
}

static char b64_char(unsigned int x)
{
	unsigned int c = (ct_lt(x, 26) & (x + 'A')) |
			 (ct_lt(x, 52) & ~ct_lt(x, 26) & (x - 26 + 'a')) |
			 (ct_lt(x, 62) & ~ct_lt(x, 52) & (x - 52 + '0')) | (ct_eq(x, 62) & '-') |
			 (ct_eq(x, 63) & '_');
	return (char)(c & 0xffu);
}

/* 0..63, or 0xff for a character outside the URL-safe alphabet. */
static unsigned int b64_val(unsigned char ch)
{
	unsigned int c = ch;
	unsigned int upper = ~ct_lt(c, 'A') & ct_lt(c, 'Z' + 1);
	unsigned int lower = ~ct_lt(c, 'a') & ct_lt(c, 'z' + 1);
	unsigned int digit = ~ct_lt(c, '0') & ct_lt(c, '9' + 1);
	unsigned int dash = ct_eq(c, '-');
	unsigned int under = ct_eq(c, '_');
	unsigned int any = upper | lower | digit | dash | under;

	return ((upper & (c - 'A')) | (lower & (c - 'a' + 26)) | (digit & (c - '0' + 52)) |
		(dash & 62u) | (under & 63u) | (~any & 0xffu)) &
	       0xffu;
}

static size_t b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Writes b64_len(n) chars and a NUL. */
static void b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t i = 0;
	char *o = out;

	for (; i + 3 <= n; i += 3) {
		unsigned int v =
		    (unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8 | in[i + 2];
		*o++ = b64_char(v >> 18 & 63);
		*o++ = b64_char(v >> 12 & 63);
		*o++ = b64_char(v >> 6 & 63);
		*o++ = b64_char(v & 63);
	}
	if (n - i == 1) {
		unsigned int v = (unsigned int)in[i] << 16;
		*o++ = b64_char(v >> 18 & 63);
		*o++ = b64_char(v >> 12 & 63);
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		unsigned int v = (unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8;
		*o++ = b64_char(v >> 18 & 63);
		*o++ = b64_char(v >> 12 & 63);
		*o++ = b64_char(v >> 6 & 63);
		*o++ = '=';
	}
	*o = '\0';
}

/* Decodes canonical padded URL-safe base64. out holds n / 4 * 3 bytes.
 * Returns 0 and the length in *outlen, or -1. */
static int b64_decode(const char *in, size_t n, unsigned char *out, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned int bad = 0;
	size_t o = 0;

	*outlen = 0;
	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		unsigned int a = b64_val(p[i]), b = b64_val(p[i + 1]);
		unsigned int c, d, v;
		size_t pad = 0;

		if (i + 4 == n && p[i + 3] == '=')
			pad = p[i + 2] == '=' ? 2 : 1;
		c = pad == 2 ? 0 : b64_val(p[i + 2]);
		d = pad >= 1 ? 0 : b64_val(p[i + 3]);
		bad |= (a | b | c | d) & 0xc0u;
		v = (a & 63) << 18 | (b & 63) << 12 | (c & 63) << 6 | (d & 63);
		out[o++] = (unsigned char)(v >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(v >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)v;
		/* Bits under the padding must be zero. */
		if (pad == 2)
			bad |= v & 0xffffu;
		else if (pad == 1)
			bad |= v & 0xffu;
	}
	if (bad) {
		OPENSSL_cleanse(out, o);
		return -1;
	}
	*outlen = o;
	return 0;
}

/* ---- Fernet ---- */

static int crypto_fail(void)
{
	/* The queue is per thread; leaving it full would confuse the next caller. */
	ERR_clear_error();
	return ERR_CRYPTO;
}

struct fernet *fernet_new(const char *key_b64, size_t len, struct err_info *info)
{
	unsigned char raw[FERNET_KEY_TEXT_LEN / 4 * 3];
	size_t n = 0;
	struct fernet *f = NULL;

	if (!key_b64 || len != FERNET_KEY_TEXT_LEN) {
		err_set(info, ERR_PARSE, "Fernet key must be %d chars of URL-safe base64, got %zu",
			FERNET_KEY_TEXT_LEN, key_b64 ? len : 0);
		return NULL;
	}
	if (b64_decode(key_b64, len, raw, &n) != 0 || n != 2 * HALF_KEY_LEN) {
		err_set(info, ERR_PARSE, "Fernet key is not URL-safe base64 of 32 bytes");
		goto cleanup;
	}
	f = malloc(sizeof(*f));
	if (!f) {
		err_set(info, ERR_NOMEM, "out of memory for a Fernet key");
		goto cleanup;
	}
	memcpy(f->sign, raw, HALF_KEY_LEN);
	memcpy(f->enc, raw + HALF_KEY_LEN, HALF_KEY_LEN);
cleanup:
	OPENSSL_cleanse(raw, sizeof(raw));
	return f;
}

void fernet_free(struct fernet *f)
{
	if (!f)
		return;
	OPENSSL_cleanse(f, sizeof(*f));
	free(f);
}

int fernet_genkey(char out[FERNET_KEY_TEXT_LEN + 1])
{
	unsigned char raw[2 * HALF_KEY_LEN];

	if (!out)
		return ERR_INVALID;
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		out[0] = '\0';
		return crypto_fail();
	}
	b64_encode(raw, sizeof(raw), out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/* The raw token length for a message, or 0 when it would overflow. */
static size_t raw_len(size_t len)
{
	size_t blocks = len / BLOCK_LEN + 1;

	if (blocks > (SIZE_MAX - HEADER_LEN - MAC_LEN) / BLOCK_LEN / 2)
		return 0;
	return HEADER_LEN + blocks * BLOCK_LEN + MAC_LEN;
}

size_t fernet_token_len(size_t len)
{
	size_t r = raw_len(len);

	return r ? b64_len(r) : 0;
}

static int mac(const struct fernet *f, const unsigned char *data, size_t n,
	       unsigned char out[MAC_LEN])
{
	unsigned int outlen = 0;

	if (!HMAC(EVP_sha256(), f->sign, HALF_KEY_LEN, data, n, out, &outlen) || outlen != MAC_LEN)
		return crypto_fail();
	return 0;
}

int fernet_encrypt_iv(const struct fernet *f, const void *msg, size_t len, int64_t now_s,
		      const unsigned char iv[16], char *out, size_t cap)
{
	size_t rlen = raw_len(len), tlen = fernet_token_len(len);
	unsigned char *raw = NULL, *ct;
	EVP_CIPHER_CTX *ctx = NULL;
	uint64_t ts = (uint64_t)now_s;
	int n1 = 0, n2 = 0, rc;

	if (out && cap)
		out[0] = '\0';
	if (!f || !iv || !out || (!msg && len))
		return ERR_INVALID;
	if (now_s < 0)
		return ERR_INVALID;
	if (!rlen || tlen > INT_MAX || len > INT_MAX - BLOCK_LEN)
		return ERR_RANGE;
	if (cap < tlen + 1)
		return ERR_RANGE;
	raw = malloc(rlen);
	if (!raw)
		return ERR_NOMEM;
	raw[0] = VERSION_BYTE;
	for (int i = 0; i < TS_LEN; i++)
		raw[1 + i] = (unsigned char)(ts >> (8 * (TS_LEN - 1 - i)));
	memcpy(raw + 1 + TS_LEN, iv, IV_LEN);
	ct = raw + HEADER_LEN;

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, f->enc, iv) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &n1, msg ? msg : (const void *)"", (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n1, &n2) != 1) {
		rc = crypto_fail();
		goto cleanup;
	}
	if ((size_t)n1 + (size_t)n2 != rlen - HEADER_LEN - MAC_LEN) {
		rc = ERR_CRYPTO;
		goto cleanup;
	}
	rc = mac(f, raw, rlen - MAC_LEN, raw + rlen - MAC_LEN);
	if (rc != 0)
		goto cleanup;
	b64_encode(raw, rlen, out);
	rc = (int)tlen;
cleanup:
	/* Frees the key schedule and any buffered plaintext block, wiped. */
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	return rc;
}

int fernet_encrypt(const struct fernet *f, const void *msg, size_t len, int64_t now_s, char *out,
		   size_t cap)
{
	unsigned char iv[IV_LEN];

	if (out && cap)
		out[0] = '\0';
	if (!f || !out)
		return ERR_INVALID;
	if (RAND_bytes(iv, sizeof(iv)) != 1)
		return crypto_fail();
	return fernet_encrypt_iv(f, msg, len, now_s, iv, out, cap);
}

int fernet_decrypt(const struct fernet *f, const char *token, size_t len, int64_t now_s,
		   int64_t ttl_s, struct secret **out, struct err_info *info)
{
	unsigned char *raw = NULL, want[MAC_LEN];
	size_t rlen = 0, ctlen;
	struct secret *pt = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	uint64_t ts = 0;
	int n1 = 0, n2 = 0, rc;
	unsigned int pad, badpad;

	if (out)
		*out = NULL;
	if (!f || !out || (!token && len) || ttl_s < 0 || now_s < 0)
		return err_set(info, ERR_INVALID, "fernet_decrypt: invalid argument");
	if (len == 0)
		return err_set(info, ERR_PARSE, "Fernet token is empty");
	if (len % 4 != 0 || len > (size_t)INT_MAX)
		return err_set(info, ERR_PARSE, "Fernet token has a bad length (%zu chars)", len);
	raw = malloc(len / 4 * 3);
	if (!raw)
		return err_set(info, ERR_NOMEM, "out of memory decoding a Fernet token");
	if (b64_decode(token, len, raw, &rlen) != 0) {
		rc = err_set(info, ERR_PARSE, "Fernet token is not URL-safe base64");
		goto cleanup;
	}
	if (raw[0] != VERSION_BYTE) {
		rc = err_set(info, ERR_PARSE, "Fernet token has version 0x%02x, want 0x80", raw[0]);
		goto cleanup;
	}
	if (rlen < MIN_RAW_LEN || (rlen - HEADER_LEN - MAC_LEN) % BLOCK_LEN != 0) {
		rc = err_set(info, ERR_PARSE, "Fernet token has a bad length (%zu bytes)", rlen);
		goto cleanup;
	}
	ctlen = rlen - HEADER_LEN - MAC_LEN;

	/* The MAC is checked before the clock and before decrypting, so a forged
	 * token learns nothing from which check failed, and no padding oracle
	 * exists. */
	rc = mac(f, raw, rlen - MAC_LEN, want);
	if (rc != 0) {
		err_set(info, rc, "HMAC-SHA256 failed");
		goto cleanup;
	}
	if (CRYPTO_memcmp(want, raw + rlen - MAC_LEN, MAC_LEN) != 0) {
		rc = err_set(info, ERR_AUTH, "Fernet token does not verify (HMAC mismatch)");
		goto cleanup;
	}

	for (int i = 0; i < TS_LEN; i++)
		ts = ts << 8 | raw[1 + i];
	if (ttl_s > 0) {
		/* cryptography.fernet's rules: expired when ts + ttl < now, and at
		 * most FERNET_MAX_CLOCK_SKEW_S in the future. */
		if (ts > (uint64_t)now_s) {
			if (ts - (uint64_t)now_s > FERNET_MAX_CLOCK_SKEW_S) {
				rc = err_set(info, ERR_AUTH,
					     "Fernet token is from the future (%llu s ahead)",
					     (unsigned long long)(ts - (uint64_t)now_s));
				goto cleanup;
			}
		} else if ((uint64_t)now_s - ts > (uint64_t)ttl_s) {
			rc = err_set(info, ERR_EXPIRED,
				     "Fernet token expired (%llu s old, ttl %lld s)",
				     (unsigned long long)((uint64_t)now_s - ts), (long long)ttl_s);
			goto cleanup;
		}
	}

	pt = secret_alloc(ctlen);
	if (!pt) {
		rc = err_set(info, ERR_NOMEM, "out of memory for a Fernet plaintext");
		goto cleanup;
	}
	/* Padding is removed here rather than by EVP so the plaintext lands only in
	 * the secret's own buffer. */
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, f->enc, raw + 1 + TS_LEN) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_DecryptUpdate(ctx, pt->b, &n1, raw + HEADER_LEN, (int)ctlen) != 1 ||
	    EVP_DecryptFinal_ex(ctx, pt->b + n1, &n2) != 1 || (size_t)n1 + (size_t)n2 != ctlen) {
		rc = crypto_fail();
		err_set(info, rc, "AES-128-CBC decryption failed");
		goto cleanup;
	}
	pad = pt->b[ctlen - 1];
	badpad = ct_eq(pad, 0) | ~ct_lt(pad, BLOCK_LEN + 1);
	for (unsigned int i = 1; i <= BLOCK_LEN; i++) {
		unsigned int in_pad = ct_lt(i, pad + 1);
		badpad |= in_pad & (pt->b[ctlen - i] ^ pad);
	}
	if (badpad & 0xffu) {
		rc = err_set(info, ERR_AUTH, "Fernet token has bad PKCS7 padding");
		goto cleanup;
	}
	pt->len = ctlen - pad;
	*out = pt;
	pt = NULL;
	rc = 0;
cleanup:
	EVP_CIPHER_CTX_free(ctx);
	secret_free(pt);
	OPENSSL_cleanse(want, sizeof(want));
	free(raw);
	return rc;
}

/* ---- key file ---- */

int fernet_default_key_path(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;

	if (!buf || cap == 0)
		return ERR_RANGE;
	buf[0] = '\0';
	/* The XDG spec says a relative XDG_CONFIG_HOME is invalid and ignored. */
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, cap, "%s/arbitrade/fernet.key", xdg);
	else if (home && home[0])
		n = snprintf(buf, cap, "%s/.config/arbitrade/fernet.key", home);
	else
		return ERR_NOTFOUND;
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = '\0';
		return ERR_RANGE;
	}
	return 0;
}

static void trim(const char **p, size_t *n)
{
	static const char ws[] = " \t\r\n";

	while (*n && strchr(ws, (*p)[0]))
		(*p)++, (*n)--;
	while (*n && strchr(ws, (*p)[*n - 1]))
		(*n)--;
}

static int key_from_text(const char *text, size_t n, const char *what, struct fernet **out,
			 struct err_info *info)
{
	trim(&text, &n);
	*out = fernet_new(text, n, NULL);
	if (!*out)
		return err_set(info, ERR_CONFIG,
			       "%s is not a valid Fernet key (want %d chars of URL-safe base64)",
			       what, FERNET_KEY_TEXT_LEN);
	return 0;
}

/* Takes fd and closes it. */
static int read_key_fd(int fd, const char *path, struct fernet **out, struct err_info *info)
{
	char buf[KEY_FILE_MAX];
	char what[PATH_MAX + 16];
	struct stat st;
	size_t n = 0;
	int rc;

	if (fstat(fd, &st) != 0) {
		rc = -errno;
		err_set(info, rc, "cannot stat key file %s: %s", path, err_str(rc));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(info, ERR_CONFIG, "key file %s is not a regular file", path);
		goto cleanup;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = err_set(info, ERR_CONFIG,
			     "key file %s has mode %04o, open to group or others; run chmod 600 %s",
			     path, (unsigned int)(st.st_mode & 07777), path);
		goto cleanup;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			err_set(info, rc, "cannot read key file %s: %s", path, err_str(rc));
			goto cleanup;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == sizeof(buf)) {
			rc = err_set(info, ERR_CONFIG,
				     "key file %s is not a valid Fernet key (too large)", path);
			goto cleanup;
		}
	}
	snprintf(what, sizeof(what), "key file %s", path);
	rc = key_from_text(buf, n, what, out, info);
cleanup:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return rc;
}

/* Creates each missing directory of path's parent with mode 0700. */
static int make_parents(const char *path, struct err_info *info)
{
	char dir[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return err_set(info, ERR_RANGE, "key file path too long: %s", path);
	memcpy(dir, path, n + 1);
	for (size_t i = 1; i < n; i++) {
		if (dir[i] != '/' || dir[i - 1] == '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0700) == 0) {
			/* The umask may have taken bits the owner needs. */
			if (chmod(dir, 0700) != 0) {
				int rc = -errno;
				return err_set(info, rc, "cannot chmod directory %s: %s", dir,
					       err_str(rc));
			}
		} else if (errno != EEXIST) {
			int rc = -errno;
			return err_set(info, rc, "cannot create directory %s: %s", dir,
				       err_str(rc));
		}
		dir[i] = '/';
	}
	return 0;
}

static void sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	int fd;

	if (n == 0 && slash)
		n = 1;
	if (!slash) {
		dir[0] = '.';
		n = 1;
	} else if (n >= sizeof(dir)) {
		return;
	} else {
		memcpy(dir, path, n);
	}
	dir[n] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Returns -EEXIST when another process created the file first. */
static int create_key_file(const char *path, struct fernet **out, struct err_info *info)
{
	char key[FERNET_KEY_TEXT_LEN + 2];
	size_t off = 0;
	int fd = -1, rc;

	rc = make_parents(path, info);
	if (rc != 0)
		return rc;
	rc = fernet_genkey(key);
	if (rc != 0)
		return err_set(info, rc, "cannot generate a Fernet key");
	key[FERNET_KEY_TEXT_LEN] = '\n';
	key[FERNET_KEY_TEXT_LEN + 1] = '\0';

	/* O_EXCL makes creation atomic: two first starts cannot both write a key. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		if (rc != -EEXIST)
			err_set(info, rc, "cannot create key file %s: %s", path, err_str(rc));
		goto cleanup;
	}
	/* The umask may have taken the owner's read bit; set the mode exactly. */
	if (fchmod(fd, 0600) != 0)
		goto fail;
	while (off < FERNET_KEY_TEXT_LEN + 1) {
		ssize_t w = write(fd, key + off, FERNET_KEY_TEXT_LEN + 1 - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	sync_parent(path);
	rc = key_from_text(key, FERNET_KEY_TEXT_LEN, "generated key", out, info);
	goto cleanup;
fail:
	rc = -errno;
	err_set(info, rc, "cannot write key file %s: %s", path, err_str(rc));
	if (fd >= 0)
		close(fd);
	fd = -1;
	/* A half-written key file would be refused at every later start. */
	unlink(path);
cleanup:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int fernet_key_load(const char *key_text, const char *key_file, bool create, struct fernet **out,
		    struct err_info *info)
{
	char path[PATH_MAX];
	int rc;

	if (!out)
		return err_set(info, ERR_INVALID, "fernet_key_load: out is NULL");
	*out = NULL;
	if (key_text && key_text[0])
		return key_from_text(key_text, strlen(key_text), "FERNET_KEY", out, info);

	if (key_file && key_file[0]) {
		size_t n = strlen(key_file);
		if (n >= sizeof(path))
			return err_set(info, ERR_CONFIG, "key file path too long");
		memcpy(path, key_file, n + 1);
	} else {
		rc = fernet_default_key_path(path, sizeof(path));
		if (rc != 0)
			return err_set(info, ERR_CONFIG,
				       "no Fernet key: set FERNET_KEY, a key file, or HOME (%s)",
				       err_str(rc));
	}

	/* Two rounds: if another process creates the file between our open and
	 * our O_EXCL create, read the key it wrote. */
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			return read_key_fd(fd, path, out, info);
		rc = -errno;
		if (rc != -ENOENT || !create)
			return err_set(info, rc, "cannot open key file %s: %s", path, err_str(rc));
		rc = create_key_file(path, out, info);
		if (rc != -EEXIST)
			return rc;
	}
	return err_set(info, -EEXIST, "key file %s appeared and vanished while loading", path);
}

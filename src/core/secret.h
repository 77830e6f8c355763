/* Secrets and Fernet.
 *
 * struct secret holds key material. Only core/secret decrypts, only the
 * request signer reads bytes (secret__bytes), and every buffer is wiped with
 * OPENSSL_cleanse before it is freed. A secret never prints: code that wants
 * to show one writes LOG_REDACTED.
 *
 * Fernet follows the specification exactly (version 0x80, 64-bit big-endian
 * timestamp, 16-byte IV, AES-128-CBC with PKCS7, HMAC-SHA256 over everything
 * before it, URL-safe base64 with padding) and interoperates with Python's
 * cryptography.fernet both ways. */
#ifndef ARB_CORE_SECRET_H
#define ARB_CORE_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct secret;

/* Copies len bytes into a new secret. Returned owned: free with secret_free.
 * NULL on allocation failure. */
struct secret *secret_new(const void *buf, size_t len);
/* Wipes and frees. secret_free(NULL) does nothing. */
void secret_free(struct secret *s);
size_t secret_len(const struct secret *s);
bool secret_empty(const struct secret *s); /* NULL or zero length */
/* Borrowed view of the bytes, valid until secret_free. For the request signer
 * and Fernet only; never log or copy it elsewhere. Not NUL terminated. */
const unsigned char *secret__bytes(const struct secret *s);
/* Constant-time equality of a secret and a buffer. */
bool secret_equals(const struct secret *s, const void *buf, size_t len);

/* URL-safe base64 of 32 random bytes: a Fernet key is 44 chars. */
#define FERNET_KEY_TEXT_LEN 44

/* How far ahead of now_s a token's timestamp may be when ttl_s > 0, as in
 * cryptography.fernet. A token further ahead gives ERR_AUTH, not ERR_EXPIRED:
 * it is not too old, it is not valid yet. */
#define FERNET_MAX_CLOCK_SKEW_S 60

struct fernet;

/* A Fernet key from its 44-char URL-safe base64 text (signing half then
 * encryption half). Returned owned; NULL with info filled on a malformed key. */
struct fernet *fernet_new(const char *key_b64, size_t len, struct err_info *info);
void fernet_free(struct fernet *f); /* wipes; NULL does nothing */

/* Writes a new random key (44 chars + NUL) into out. Returns 0 or ERR_CRYPTO. */
int fernet_genkey(char out[FERNET_KEY_TEXT_LEN + 1]);

/* Token length for a message of len bytes (without NUL). */
size_t fernet_token_len(size_t len);

/* Encrypts msg at time now_s (Unix seconds) with a random IV. Writes the token
 * and a NUL into out (cap >= fernet_token_len(len) + 1). Returns the token
 * length or a negative error. */
int fernet_encrypt(const struct fernet *f, const void *msg, size_t len, int64_t now_s, char *out,
		   size_t cap);

/* Same with a caller-chosen IV (tests reproduce the spec's vectors). */
int fernet_encrypt_iv(const struct fernet *f, const void *msg, size_t len, int64_t now_s,
		      const unsigned char iv[16], char *out, size_t cap);

/* Verifies and decrypts token. ttl_s > 0 rejects tokens older than ttl_s
 * (ERR_EXPIRED) and tokens from more than 60 s in the future; ttl_s == 0
 * ignores age. Tampered, truncated or malformed tokens give ERR_AUTH or
 * ERR_PARSE. On success *out is returned owned as a secret (the plaintext). */
int fernet_decrypt(const struct fernet *f, const char *token, size_t len, int64_t now_s,
		   int64_t ttl_s, struct secret **out, struct err_info *info);

/* The key: key_text when non-empty (FERNET_KEY), otherwise the file at
 * key_file, or when key_file is empty, $XDG_CONFIG_HOME/arbitrade/fernet.key
 * (~/.config/... without XDG_CONFIG_HOME). A missing file is created with mode
 * 0600 (directories 0700) holding a new key when create is true. A key file
 * readable or writable by group or others is refused (ERR_CONFIG), as is a
 * malformed key. Returned owned in *out. */
int fernet_key_load(const char *key_text, const char *key_file, bool create, struct fernet **out,
		    struct err_info *info);

/* The default key file path into buf. Returns 0 or ERR_RANGE/ERR_NOTFOUND. */
int fernet_default_key_path(char *buf, size_t cap);

#endif

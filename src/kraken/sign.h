/* Kraken REST request signing and nonces (PROTOCOL.md §7).
 *
 * This is the only code that reads the API secret's bytes (STYLE.md rule 19).
 * Signing and nonces serve the REST client; the hot path trades over
 * WebSocket and never calls them. */
#ifndef ARB_KRAKEN_SIGN_H
#define ARB_KRAKEN_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/secret.h"

/* API-Sign is the base64 text of a 64-byte HMAC-SHA512: always 88 chars. */
#define KR_SIGN_LEN 88

/* The API-Sign header value for one private REST call:
 *
 *   base64(HMAC-SHA512(base64decode(secret), uri_path || SHA256(nonce || body)))
 *
 * where nonce is the decimal text of the nonce, body is the exact encoded body
 * that is sent (which must carry the same nonce), and uri_path starts at
 * /0/private, e.g. "/0/private/AddOrder".
 *
 * secret holds the base64 TEXT of the private key as Kraken shows it
 * (KRAKEN_API_SECRET): standard alphabet, padded, canonical, at most 256
 * decoded bytes. It is borrowed for the call. The decoded key lives on the
 * stack and is wiped before return. body may be NULL when body_len is 0.
 *
 * Writes KR_SIGN_LEN chars and a NUL into out. Returns KR_SIGN_LEN, or
 * ERR_INVALID (NULL argument, empty or undecodable secret), ERR_RANGE (cap <
 * KR_SIGN_LEN + 1) or ERR_CRYPTO; on error out holds "" when cap > 0. The
 * nonce is not checked against the body. Allocates transiently inside
 * OpenSSL. Any thread; reentrant. */
int kr_sign(const struct secret *secret, const char *uri_path, uint64_t nonce, const char *body,
	    size_t body_len, char *out, size_t cap);

/* Nonces.
 *
 * A nonce is microseconds since the Unix epoch, raised to last + 1 whenever
 * the wall clock has not moved past the last nonce issued (bursts, threads,
 * a clock that steps back). Nonces from one struct kr_nonce strictly increase
 * and are never shared, whichever threads call.
 *
 * They also increase across restarts, crashes included. The file at path
 * holds a high-water mark: a value no nonce ever issued exceeds. The
 * generator reserves nonces ahead of use in blocks of KR_NONCE_RESERVE_US:
 * before it issues a nonce above the mark, it writes a new mark (temp file,
 * fsync, rename, fsync of the directory). After a restart, nonces start
 * above the mark, so they stay above every nonce issued before even when the
 * wall clock has stepped back. A clean kr_nonce_free lowers the mark to the
 * last nonce issued. File format: the decimal mark and a newline.
 *
 * Kraken keeps one nonce state per API key, so each key needs its own file
 * (kr_nonce_default_path names it after the key), and only one handle may
 * use a file at a time: kr_nonce_open takes an exclusive flock on
 * "<path>.lock" (left in place) for the life of the handle, so a second bot
 * on the same file fails at start-up instead of sending the same nonces. Two
 * processes cannot share a key's nonces; give each its own key, or set a
 * nonce window on the key. "<path>.tmp" is the transient temp file. */
#define KR_NONCE_RESERVE_US 10000000u /* 10 s of wall-clock nonces per fsync */

struct kr_nonce;

/* Opens the nonce file at path (borrowed; copied), creating it with mode 0600
 * and any missing parent directories with mode 0700, and reserves the first
 * block, so an unwritable file fails here rather than on the first request.
 * clk is borrowed until kr_nonce_free; NULL means clock_system. A missing
 * file starts from the wall clock.
 *
 * Returned owned: free with kr_nonce_free. On failure returns NULL and fills
 * info (which names the path) with ERR_PARSE for a corrupt file (never reset
 * silently: the fix is to delete the file, or write a value above every nonce
 * the key has used), ERR_BADSTATE when another handle or process holds the
 * lock, ERR_RANGE when the nonce space is exhausted, ERR_INVALID, ERR_NOMEM
 * or -errno. Start-up only; any thread. */
struct kr_nonce *kr_nonce_open(const char *path, const struct clock *clk, struct err_info *info);

/* Writes the last nonce issued as the new mark, releases the lock and frees.
 * No kr_nonce_next may be running. kr_nonce_free(NULL) does nothing. */
void kr_nonce_free(struct kr_nonce *n);

/* The next nonce, into *out: greater than every nonce this file has issued.
 * Lock-free (a CAS loop) except once per reserved block, when the calling
 * thread writes and fsyncs the new mark under a mutex (milliseconds).
 * Returns 0, -errno when the mark cannot be persisted (no nonce is issued),
 * or ERR_RANGE when the nonce space is exhausted. Any thread, concurrently. */
int kr_nonce_next(struct kr_nonce *n, uint64_t *out);

/* Writes "<dir>/nonce-<h>.txt" and a NUL into out, where <h> is the first 12
 * hex digits of SHA256 of the API key's bytes (the public API-Key value, not
 * the secret): one file per key, without writing the key itself. api_key is
 * borrowed. Returns 0, ERR_INVALID (NULL or empty argument), ERR_RANGE (cap
 * too small) or ERR_CRYPTO. Any thread. */
int kr_nonce_default_path(const struct secret *api_key, const char *dir, char *out, size_t cap);

#endif

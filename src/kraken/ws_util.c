/* The pure parts of the WebSocket client: URL checks, backoff, watchdog,
 * reassembly and batching. No I/O and no clock reads. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kraken/ws.h"

/* ---- URLs ---- */

bool kr_ws_host_is_loopback(const char *host)
{
	char tmp[64];
	size_t n = strlen(host);
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof tmp)
			return false;
		memcpy(tmp, host + 1, n - 2);
		tmp[n - 2] = '\0';
		host = tmp;
	}
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

int kr_ws_url_parse(const char *url, struct kr_ws_url *out, struct err_info *info)
{
	const char *p;
	memset(out, 0, sizeof *out);
	if (!url)
		return err_set(info, ERR_CONFIG, "WebSocket URL is missing");
	for (p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f)
			return err_set(
			    info, ERR_CONFIG,
			    "WebSocket URL '%.200s' contains a space or control character", url);
	if (strncmp(url, "wss://", 6) == 0) {
		out->tls = true;
		p = url + 6;
	} else if (strncmp(url, "ws://", 5) == 0) {
		p = url + 5;
	} else {
		return err_set(info, ERR_CONFIG,
			       "WebSocket URL '%.200s': expected the scheme wss:// (or ws:// to a "
			       "loopback host)",
			       url);
	}
	size_t auth_len = strcspn(p, "/?#");
	if (memchr(p, '@', auth_len))
		return err_set(info, ERR_CONFIG, "WebSocket URL '%.200s': user info is not allowed",
			       url);
	const char *host = p, *host_end, *port = NULL;
	if (*p == '[') {
		host_end = memchr(p, ']', auth_len);
		if (!host_end)
			return err_set(info, ERR_CONFIG,
				       "WebSocket URL '%.200s': unclosed '[' in the host", url);
		host_end++;
		if (host_end < p + auth_len) {
			if (*host_end != ':')
				return err_set(info, ERR_CONFIG,
					       "WebSocket URL '%.200s': junk after the host", url);
			port = host_end + 1;
		}
	} else {
		host_end = memchr(p, ':', auth_len);
		if (host_end)
			port = host_end + 1;
		else
			host_end = p + auth_len;
	}
	size_t hlen = (size_t)(host_end - host);
	if (hlen == 0 || hlen >= sizeof out->host)
		return err_set(info, ERR_CONFIG, "WebSocket URL '%.200s': the host is %s", url,
			       hlen ? "too long" : "empty");
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	out->port = out->tls ? 443 : 80;
	if (port) {
		const char *pe = p + auth_len;
		unsigned long v = 0;
		if (port == pe || pe - port > 5)
			return err_set(info, ERR_CONFIG, "WebSocket URL '%.200s': bad port", url);
		for (const char *q = port; q < pe; q++) {
			if (*q < '0' || *q > '9')
				return err_set(info, ERR_CONFIG, "WebSocket URL '%.200s': bad port",
					       url);
			v = v * 10 + (unsigned long)(*q - '0');
		}
		if (v == 0 || v > 65535)
			return err_set(info, ERR_CONFIG,
				       "WebSocket URL '%.200s': port %lu is outside 1..65535", url,
				       v);
		out->port = (uint16_t)v;
	}
	const char *path = p + auth_len;
	if (*path == '\0')
		path = "/";
	if (*path != '/')
		return err_set(info, ERR_CONFIG,
			       "WebSocket URL '%.200s': the path must start with /", url);
	if (strlen(path) >= sizeof out->path)
		return err_set(info, ERR_CONFIG, "WebSocket URL '%.200s': the path is too long",
			       url);
	memcpy(out->path, path, strlen(path) + 1);
	if (!out->tls && !kr_ws_host_is_loopback(out->host))
		return err_set(info, ERR_CONFIG,
			       "WebSocket URL '%.200s': plain ws:// is only allowed to a loopback "
			       "host (127.0.0.0/8, ::1, localhost); use wss://",
			       url);
	return 0;
}

/* ---- Backoff ---- */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: good enough for jitter, and reproducible from a seed. */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

void kr_ws_backoff_init(struct kr_ws_backoff *b, uint32_t min_ms, uint32_t max_ms, uint64_t seed)
{
	memset(b, 0, sizeof *b);
	b->min_ms = min_ms ? min_ms : 1;
	b->max_ms = max_ms < b->min_ms ? b->min_ms : max_ms;
	b->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

uint64_t kr_ws_backoff_next(struct kr_ws_backoff *b, uint64_t now_ns, bool slow)
{
	uint64_t ceiling = b->min_ms;
	for (uint32_t i = 0; i < b->failures && ceiling < b->max_ms; i++)
		ceiling *= 2;
	if (ceiling > b->max_ms)
		ceiling = b->max_ms;
	uint64_t span = ceiling - b->min_ms + 1;
	uint64_t delay = b->min_ms + rng_next(&b->rng) % span;
	if (b->failures < UINT32_MAX)
		b->failures++;
	if (slow && delay < KR_WS_SLOW_RECONNECT_MS)
		delay = KR_WS_SLOW_RECONNECT_MS;
	if (b->nhist == KR_WS_CONNECT_MAX) {
		/* hist[head] is the oldest of the last KR_WS_CONNECT_MAX attempts:
		 * the next one may only go once it has left the window. */
		uint64_t allowed = b->hist[b->head] + (uint64_t)KR_WS_CONNECT_WINDOW_MS * 1000000u;
		if (allowed > now_ns) {
			uint64_t wait = (allowed - now_ns + 999999u) / 1000000u;
			if (wait > delay)
				delay = wait;
		}
	}
	return delay;
}

void kr_ws_backoff_attempt(struct kr_ws_backoff *b, uint64_t now_ns)
{
	b->hist[b->head] = now_ns;
	b->head = (b->head + 1) % KR_WS_CONNECT_MAX;
	if (b->nhist < KR_WS_CONNECT_MAX)
		b->nhist++;
}

void kr_ws_backoff_success(struct kr_ws_backoff *b)
{
	b->failures = 0;
}

/* ---- Watchdog ---- */

enum kr_ws_idle kr_ws_idle_check(uint64_t now_ns, uint64_t last_rx_ns, uint64_t last_tx_ns,
				 uint64_t ping_ns, uint64_t timeout_ns)
{
	if (now_ns >= last_rx_ns && now_ns - last_rx_ns >= timeout_ns)
		return KR_WS_IDLE_DEAD;
	if (now_ns >= last_tx_ns && now_ns - last_tx_ns >= ping_ns)
		return KR_WS_IDLE_PING;
	return KR_WS_IDLE_OK;
}

/* ---- Reassembly ---- */

int kr_ws_reasm_init(struct kr_ws_reasm *r, size_t cap)
{
	memset(r, 0, sizeof *r);
	if (cap == 0)
		return ERR_INVALID;
	r->buf = malloc(cap);
	if (!r->buf)
		return ERR_NOMEM;
	r->cap = cap;
	return 0;
}

void kr_ws_reasm_release(struct kr_ws_reasm *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->len = 0;
}

void kr_ws_reasm_reset(struct kr_ws_reasm *r)
{
	r->len = 0;
	r->dropping = false;
	r->done = false;
}

enum kr_ws_reasm_rc kr_ws_reasm_push(struct kr_ws_reasm *r, const void *p, size_t n, bool last)
{
	if (r->done) {
		r->len = 0;
		r->done = false;
	}
	if (!r->dropping) {
		if (n > r->cap - r->len) {
			r->dropping = true;
		} else {
			memcpy(r->buf + r->len, p, n);
			r->len += n;
		}
	}
	if (!last)
		return KR_WS_REASM_MORE;
	/* The message is over: the next push starts a new one. */
	bool dropped = r->dropping;
	r->dropping = false;
	if (dropped) {
		r->len = 0;
		r->oversize++;
		return KR_WS_REASM_DROPPED;
	}
	r->done = true;
	return KR_WS_REASM_DONE;
}

/* ---- Batching ---- */

/* The longest request around the symbol list: unsubscribe with depth 1000,
 * snapshot and a 20-digit req_id. */
#define REQ_OVERHEAD                                                                               \
	(sizeof("{\"method\":\"unsubscribe\",\"params\":{\"channel\":\"book\",\"symbol\":[],"      \
		"\"depth\":1000,\"snapshot\":true},\"req_id\":18446744073709551615}") -            \
	 1)

size_t kr_ws_batch_next(const char *const *symbols, size_t n, size_t start, size_t max_syms,
			size_t max_bytes)
{
	size_t k = 0, bytes = REQ_OVERHEAD;
	if (max_syms == 0)
		max_syms = 1;
	while (start + k < n && k < max_syms) {
		size_t add = strlen(symbols[start + k]) + 3; /* quotes and comma */
		if (k > 0 && bytes + add > max_bytes)
			break;
		bytes += add;
		k++;
	}
	return k;
}

/* Request encoders for the market-data connection (PROTOCOL.md §1.2, §1.5,
 * §2.1, §3). They append into the caller's buffer and never allocate. */
#include <string.h>

#include "kraken/codec.h"

struct out {
	char *buf;
	size_t cap;
	size_t len;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	/* Keep room for the NUL. */
	if (o->full || o->cap == 0 || n > o->cap - 1 - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, tmp + sizeof(tmp) - n, n);
}

static int finish(struct out *o)
{
	if (o->full) {
		if (o->cap > 0)
			o->buf[0] = '\0';
		return ERR_RANGE;
	}
	o->buf[o->len] = '\0';
	return (int)o->len;
}

static bool symbol_ok(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, KR_SYMBOL_MAX);
	if (n == 0 || n >= KR_SYMBOL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

static bool depth_ok(unsigned depth)
{
	return depth == 10 || depth == 25 || depth == 100 || depth == 500 || depth == 1000;
}

static int book(char *buf, size_t cap, const char *method, const char *const *symbols, size_t n,
		unsigned depth, bool snapshot, uint64_t req_id)
{
	struct out o = {buf, cap, 0, false};

	if (!buf || !symbols || n == 0 || !depth_ok(depth))
		return ERR_INVALID;
	for (size_t i = 0; i < n; i++)
		if (!symbol_ok(symbols[i]))
			return ERR_INVALID;
	puts_(&o, "{\"method\":\"");
	puts_(&o, method);
	puts_(&o, "\",\"params\":{\"channel\":\"book\",\"symbol\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			put(&o, ",", 1);
		put(&o, "\"", 1);
		puts_(&o, symbols[i]);
		put(&o, "\"", 1);
	}
	puts_(&o, "],\"depth\":");
	put_u64(&o, depth);
	if (snapshot)
		puts_(&o, ",\"snapshot\":true");
	puts_(&o, "},\"req_id\":");
	put_u64(&o, req_id);
	put(&o, "}", 1);
	return finish(&o);
}

int kr_encode_subscribe_book(char *buf, size_t cap, const char *const *symbols, size_t n,
			     unsigned depth, uint64_t req_id)
{
	return book(buf, cap, "subscribe", symbols, n, depth, true, req_id);
}

int kr_encode_unsubscribe_book(char *buf, size_t cap, const char *const *symbols, size_t n,
			       unsigned depth, uint64_t req_id)
{
	return book(buf, cap, "unsubscribe", symbols, n, depth, false, req_id);
}

int kr_encode_subscribe_instrument(char *buf, size_t cap, uint64_t req_id)
{
	struct out o = {buf, cap, 0, false};

	if (!buf)
		return ERR_INVALID;
	puts_(&o, "{\"method\":\"subscribe\",\"params\":{\"channel\":\"instrument\","
		  "\"snapshot\":true},\"req_id\":");
	put_u64(&o, req_id);
	put(&o, "}", 1);
	return finish(&o);
}

int kr_encode_ping(char *buf, size_t cap, uint64_t req_id)
{
	struct out o = {buf, cap, 0, false};

	if (!buf)
		return ERR_INVALID;
	puts_(&o, "{\"method\":\"ping\",\"req_id\":");
	put_u64(&o, req_id);
	put(&o, "}", 1);
	return finish(&o);
}

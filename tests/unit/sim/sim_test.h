/* Helpers for the simulator core's tests: an in-process sim on its own
 * thread, a minimal raw-socket WebSocket client and a one-shot HTTP client,
 * all on 127.0.0.1. Header-only; each test binary includes it once. */
#ifndef ARB_TESTS_SIM_TEST_H
#define ARB_TESTS_SIM_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim/sim.h"

struct st_sim {
	struct sim *s;
	pthread_t th;
};

static void *st_run(void *arg)
{
	sim_run(arg);
	return NULL;
}

static inline int st_start(struct st_sim *t, const char *scenario)
{
	struct sim_opts o = {.scenario_path = scenario};
	struct err_info info = {0};
	t->s = sim_new(&o, &info);
	if (!t->s) {
		fprintf(stderr, "sim_new: %s\n", info.msg);
		return -1;
	}
	return pthread_create(&t->th, NULL, st_run, t->s);
}

static inline void st_stop(struct st_sim *t)
{
	sim_stop(t->s);
	pthread_join(t->th, NULL);
	sim_free(t->s);
}

static inline long st_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static inline void st_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static inline int st_tcp(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Reads exactly n bytes within timeout_ms; 0, -1 on close/error, -2 on timeout. */
static inline int st_read_n(int fd, void *buf, size_t n, long timeout_ms)
{
	size_t got = 0;
	long end = st_now_ms() + timeout_ms;
	while (got < n) {
		long left = end - st_now_ms();
		if (left <= 0)
			return -2;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)left);
		if (r == 0)
			return -2;
		if (r < 0)
			return -1;
		ssize_t k = read(fd, (char *)buf + got, n - got);
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

struct st_ws {
	int fd;
	char *msg; /* the last message, NUL-terminated */
	size_t cap;
	int saw_close;
};

static inline int st_ws_open(struct st_ws *w, uint16_t port, const char *path)
{
	char req[512], resp[2048];
	memset(w, 0, sizeof(*w));
	w->fd = st_tcp(port);
	if (w->fd < 0)
		return -1;
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Version: 13\r\n\r\n",
			 path, port);
	if (write(w->fd, req, (size_t)n) != n)
		return -1;
	size_t len = 0;
	while (len + 1 < sizeof(resp)) {
		if (st_read_n(w->fd, resp + len, 1, 5000) != 0)
			return -1;
		len++;
		if (len >= 4 && memcmp(resp + len - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	resp[len] = '\0';
	return strncmp(resp, "HTTP/1.1 101", 12) == 0 ? 0 : -1;
}

static inline void st_ws_close(struct st_ws *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->msg);
	w->fd = -1;
	w->msg = NULL;
}

/* Sends one masked frame: opcode 1 (text) or 0 (continuation), fin or not. */
static inline int st_ws_send_frame(struct st_ws *w, const char *text, size_t n, int opcode, int fin)
{
	size_t h = 0;
	unsigned char *f = malloc(n + 14);
	const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
	f[h++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
	if (n < 126) {
		f[h++] = (unsigned char)(0x80 | n);
	} else if (n < 65536) {
		f[h++] = 0x80 | 126;
		f[h++] = (unsigned char)(n >> 8);
		f[h++] = (unsigned char)n;
	} else {
		f[h++] = 0x80 | 127;
		for (int k = 7; k >= 0; k--)
			f[h++] = (unsigned char)((uint64_t)n >> (8 * k));
	}
	memcpy(f + h, mask, 4);
	h += 4;
	for (size_t k = 0; k < n; k++)
		f[h + k] = (unsigned char)text[k] ^ mask[k & 3];
	size_t off = 0;
	while (off < h + n) {
		ssize_t wr = write(w->fd, f + off, h + n - off);
		if (wr <= 0) {
			free(f);
			return -1;
		}
		off += (size_t)wr;
	}
	free(f);
	return 0;
}

/* Sends one masked text frame. */
static inline int st_ws_send(struct st_ws *w, const char *text)
{
	return st_ws_send_frame(w, text, strlen(text), 1, 1);
}

/* Receives the next text message into w->msg. Returns its length, -1 when
 * the connection closed, -2 on timeout. */
static inline long st_ws_recv(struct st_ws *w, long timeout_ms)
{
	size_t len = 0;
	for (;;) {
		unsigned char hd[2], ext[8];
		int r = st_read_n(w->fd, hd, 2, timeout_ms);
		if (r != 0)
			return r;
		uint64_t n = hd[1] & 0x7f;
		if (n == 126) {
			if (st_read_n(w->fd, ext, 2, 5000) != 0)
				return -1;
			n = ((uint64_t)ext[0] << 8) | ext[1];
		} else if (n == 127) {
			if (st_read_n(w->fd, ext, 8, 5000) != 0)
				return -1;
			n = 0;
			for (int k = 0; k < 8; k++)
				n = (n << 8) | ext[k];
		}
		if (len + n + 1 > w->cap) {
			w->cap = (len + n + 1) * 2;
			w->msg = realloc(w->msg, w->cap);
		}
		if (n && st_read_n(w->fd, w->msg + len, n, 5000) != 0)
			return -1;
		int op = hd[0] & 0x0f;
		if (op == 8) {
			w->saw_close = 1;
			return -1;
		}
		if (op == 9 || op == 10)
			continue;
		len += n;
		if (hd[0] & 0x80) {
			w->msg[len] = '\0';
			return (long)len;
		}
	}
}

/* One HTTP request; the body lands in out (NUL-terminated). Returns the
 * status code or -1. */
static inline int st_http(uint16_t port, const char *method, const char *path, char *out,
			  size_t cap)
{
	char req[512];
	int fd = st_tcp(port);
	if (fd < 0)
		return -1;
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n", method,
			 path, strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : "");
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	size_t len = 0;
	char *buf = malloc(1 << 22);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t k = read(fd, buf + len, (1 << 22) - 1 - len);
		if (k <= 0)
			break;
		len += (size_t)k;
		/* lws keeps the connection open despite "close" sometimes: stop at
		 * the end of a body whose length the headers give. */
		buf[len] = '\0';
		char *hend = strstr(buf, "\r\n\r\n");
		const char *cl = strcasestr(buf, "content-length:");
		if (hend && cl && cl < hend) {
			size_t want = (size_t)strtoul(cl + 15, NULL, 10);
			if (len >= (size_t)(hend + 4 - buf) + want)
				break;
		}
	}
	close(fd);
	buf[len] = '\0';
	int status = -1;
	if (len > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
		status = (int)strtol(buf + 9, NULL, 10);
	char *body = strstr(buf, "\r\n\r\n");
	snprintf(out, cap, "%s", body ? body + 4 : "");
	free(buf);
	return status;
}

#endif

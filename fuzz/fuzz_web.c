/* Fuzz target: HTTP requests to the dashboard server through a real socket.
 *
 * The first input starts the web server (web_new) on 127.0.0.1, an
 * ephemeral port, with the templates and static files of the source tree
 * (ARB_SHARE_DIR overrides), DASHBOARD_AUTH off, a real empty database in
 * a temporary directory and controls that succeed, so every route is
 * reachable and runs its queries. Each input is written as raw bytes to a new connection, the
 * write side is shut, and the response is read until the server closes, or
 * 20 ms pass without a byte once some have come (50 ms before the first:
 * a request cut short is answered at once or never).
 *
 * Checked besides memory safety (the server runs in this process, so ASan
 * and UBSan see its thread): any response is an HTTP status line; a 200
 * carries the security headers; the server still accepts connections after
 * every input. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "store/store.h"
#include "web/web.h"

#ifndef ARB_SHARE_DIR_DEFAULT
#define ARB_SHARE_DIR_DEFAULT "."
#endif

#define RESP_MAX (1u << 20)

static struct web *server;
static struct store *store;
static struct store_reader *reader;
static char db_dir[128];
static uint16_t port;
static char *resp;

static int db_ping(void *ctx)
{
	(void)ctx;
	return 0;
}

/* Controls that succeed, so the routes behind them run to the end. */
static int do_pause(void *ctx, bool paused, const char *actor)
{
	(void)ctx;
	(void)paused;
	FUZZ_CHECK(actor != NULL);
	return 0;
}

static int do_kill(void *ctx, const char *actor)
{
	(void)ctx;
	FUZZ_CHECK(actor != NULL);
	return 0;
}

static const char *do_set_mode(void *ctx, enum trading_mode mode, const char *actor)
{
	(void)ctx;
	FUZZ_CHECK(actor != NULL);
	return mode == TRADING_LIVE ? "no credentials" : NULL;
}

static void stop_server(void)
{
	char cmd[200];
	web_free(server);
	server = NULL;
	store_reader_close(reader);
	reader = NULL;
	store_close(store);
	store = NULL;
	free(resp);
	resp = NULL;
	if (db_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", db_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz_web: could not remove %s\n", db_dir);
	}
}

/* A real, empty database in a temporary directory, so the pages run their
 * queries (with the request's parameters) instead of "no database". */
static void open_store(void)
{
	struct store_cfg sc;
	struct err_info info = {0};
	const char *tmp = getenv("TMPDIR");

	snprintf(db_dir, sizeof(db_dir), "%s/arb-fuzz-web-XXXXXX",
		 tmp && *tmp && strlen(tmp) < 64 ? tmp : "/tmp");
	if (!mkdtemp(db_dir))
		abort();
	memset(&sc, 0, sizeof(sc));
	snprintf(sc.duckdb_path, sizeof(sc.duckdb_path), "%s/fuzz.duckdb", db_dir);
	sc.batch_rows = 256;
	sc.flush_ms = 50;
	sc.ring_capacity = 1024;
	sc.audit_retention_days = 30;
	store = store_open(&sc, &info);
	if (!store) {
		fprintf(stderr, "fuzz_web: store_open: %s\n", info.msg);
		abort();
	}
	reader = store_reader_open(store, &info);
	if (!reader) {
		fprintf(stderr, "fuzz_web: store_reader_open: %s\n", info.msg);
		abort();
	}
}

static void start_server(void)
{
	struct web_cfg cfg;
	struct web_deps deps;
	struct err_info info = {0};
	const char *share = getenv("ARB_SHARE_DIR");

	memset(&cfg, 0, sizeof(cfg));
	memset(&deps, 0, sizeof(deps));
	snprintf(cfg.host, sizeof(cfg.host), "127.0.0.1");
	cfg.port = 0;
	cfg.auth = false;
	cfg.session_ttl_s = 3600;
	deps.share_dir = share && *share ? share : ARB_SHARE_DIR_DEFAULT;
	deps.trading_mode = TRADING_PAPER;
	deps.db_ping = db_ping;
	deps.pause = do_pause;
	deps.kill = do_kill;
	deps.set_mode = do_set_mode;
	open_store();
	deps.reader = reader;
	server = web_new(&cfg, &deps, &info);
	if (!server) {
		fprintf(stderr, "fuzz_web: web_new: %s\n", info.msg);
		abort();
	}
	port = web_port(server);
	resp = malloc(RESP_MAX + 1);
	if (!resp)
		abort();
	atexit(stop_server);
}

static int connect_server(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	FUZZ_CHECK(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The server must survive every input: failing to connect is a bug. */
	FUZZ_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

/* True when resp holds one whole response with a Content-Length body, so
 * the common case needs no idle wait. */
static bool complete(const char *r, size_t len)
{
	const char *end = memmem(r, len, "\r\n\r\n", 4);
	if (!end)
		return false;
	size_t hl = (size_t)(end - r) + 4;
	for (const char *p = r; p && p < end; p = memmem(p, (size_t)(end - p), "\r\n", 2)) {
		p += 2;
		if (strncasecmp(p, "Content-Length:", 15) == 0) {
			unsigned long long cl = strtoull(p + 15, NULL, 10);
			return len >= hl && len - hl >= cl;
		}
	}
	return false;
}

static size_t exchange(int fd, const uint8_t *data, size_t size)
{
	size_t off = 0, got = 0;

	while (off < size) {
		ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* the server may close early on a bad request */
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		/* The server keeps a connection alive after a complete response,
		 * even with our side shut: once bytes have come, a short silence
		 * ends the exchange. */
		if (poll(&pfd, 1, got ? 20 : 50) <= 0)
			break;
		ssize_t n = recv(fd, resp + got, RESP_MAX - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		resp[got] = '\0';
		if (got == RESP_MAX || complete(resp, got))
			break;
	}
	resp[got] = '\0';
	return got;
}

static bool has_header(const char *r, size_t len, const char *h)
{
	const char *end = memmem(r, len, "\r\n\r\n", 4);
	size_t hl = end ? (size_t)(end - r) : len;
	return memmem(r, hl, h, strlen(h)) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!server)
		start_server();
	int fd = connect_server();
	size_t got = exchange(fd, data, size);
	close(fd);

	/* Pipelined requests give several responses; check the first. */
	if (got >= 12) {
		FUZZ_CHECK(memcmp(resp, "HTTP/1.", 7) == 0);
		FUZZ_CHECK(resp[8] == ' ' && resp[9] >= '1' && resp[9] <= '5');
		if (memcmp(resp + 9, "200", 3) == 0) {
			FUZZ_CHECK(has_header(resp, got, "X-Content-Type-Options: nosniff"));
			FUZZ_CHECK(has_header(resp, got, "X-Frame-Options: DENY"));
		}
	}
	return 0;
}

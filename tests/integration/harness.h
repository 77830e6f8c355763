/* Helpers for integration scenarios: temp dirs, spawning the real binary with
 * a chosen environment, a raw HTTP client on loopback. Header-only; each
 * scenario is its own binary. */
#ifndef ARB_TESTS_HARNESS_H
#define ARB_TESTS_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct h_proc {
	pid_t pid;
	int out_fd; /* stdout+stderr of the child, non-blocking */
	char out[65536];
	size_t out_len;
};

static inline void h_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static inline int h_tmpdir(char *buf, size_t cap)
{
	const char *base = getenv("TMPDIR");
	snprintf(buf, cap, "%s/arbitrade-it-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(buf) ? 0 : -1;
}

static inline void h_rmrf(const char *dir)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0) {
	}
}

/* A free TCP port on 127.0.0.1 (bind port 0, read it back, close). */
static inline int h_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return ntohs(a.sin_port);
}

/* Starts argv with exactly envp as its environment, in cwd; stdin_text (may
 * be NULL: /dev/null) is written to its stdin. */
static inline int h_spawn_in(struct h_proc *p, const char *cwd, char *const argv[],
			     char *const envp[], const char *stdin_text)
{
	int fds[2], in[2];
	memset(p, 0, sizeof(*p));
	if (pipe(fds) != 0 || pipe(in) != 0)
		return -1;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		dup2(in[0], 0);
		close(in[0]);
		close(in[1]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		if (cwd && chdir(cwd) != 0)
			_exit(126);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(fds[1]);
	close(in[0]);
	if (stdin_text) {
		size_t len = strlen(stdin_text);
		if (write(in[1], stdin_text, len) != (ssize_t)len) {
		}
	}
	close(in[1]);
	p->out_fd = fds[0];
	fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

static inline int h_spawn(struct h_proc *p, const char *cwd, char *const argv[], char *const envp[])
{
	return h_spawn_in(p, cwd, argv, envp, NULL);
}

/* Collects whatever the child printed so far. */
static inline void h_drain(struct h_proc *p)
{
	for (;;) {
		if (p->out_len + 1 >= sizeof(p->out))
			return;
		ssize_t r = read(p->out_fd, p->out + p->out_len, sizeof(p->out) - 1 - p->out_len);
		if (r <= 0)
			break;
		p->out_len += (size_t)r;
	}
	p->out[p->out_len] = '\0';
}

/* Waits up to timeout_ms for the child; returns its exit status, 128+sig
 * for a signal, or -1 on timeout. */
static inline int h_wait(struct h_proc *p, long timeout_ms)
{
	for (long waited = 0; waited <= timeout_ms; waited += 20) {
		int st;
		h_drain(p);
		pid_t r = waitpid(p->pid, &st, WNOHANG);
		if (r == p->pid) {
			h_drain(p);
			close(p->out_fd);
			p->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		h_sleep_ms(20);
	}
	return -1;
}

static inline void h_kill(struct h_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		h_wait(p, 5000);
	}
}

/* Runs a command to completion with a timeout; output in p->out. */
static inline int h_run(struct h_proc *p, const char *cwd, char *const argv[], char *const envp[],
			const char *stdin_text, long timeout_ms)
{
	if (h_spawn_in(p, cwd, argv, envp, stdin_text) != 0)
		return -1;
	int rc = h_wait(p, timeout_ms);
	if (rc == -1)
		h_kill(p);
	return rc;
}

/* One HTTP/1.1 request to 127.0.0.1:port. Returns the status code (or -1)
 * and copies the whole response (headers + body) into resp. */
static inline int h_http(int port, const char *method, const char *path, const char *extra_headers,
			 const char *body, char *resp, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	char req[8192];
	size_t n = 0;
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	int len = snprintf(req, sizeof(req),
			   "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s"
			   "Content-Length: %zu\r\n\r\n%s",
			   method, path, extra_headers ? extra_headers : "",
			   body ? strlen(body) : 0, body ? body : "");
	if (write(fd, req, (size_t)len) != len) {
		close(fd);
		return -1;
	}
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (n + 1 < cap && poll(&pfd, 1, 5000) > 0) {
		ssize_t r = read(fd, resp + n, cap - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	resp[n] = '\0';
	close(fd);
	int status = -1;
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	return status;
}

/* Polls url until it answers `want` or timeout_ms passes. */
static inline int h_http_wait(int port, const char *path, int want, long timeout_ms)
{
	static char resp[65536];
	for (long waited = 0; waited <= timeout_ms; waited += 50) {
		if (h_http(port, "GET", path, NULL, NULL, resp, sizeof(resp)) == want)
			return 0;
		h_sleep_ms(50);
	}
	return -1;
}

#endif

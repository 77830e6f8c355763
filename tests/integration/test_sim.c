/* `arbitrade sim` as a process: options, the ready line, the ports it
 * serves, and a clean exit on SIGTERM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "integration/harness.h"
#include "unit/sim/sim_test.h"

static char *envp[] = {"PATH=/usr/bin:/bin", NULL};

static void test_usage_errors(void **state)
{
	(void)state;
	struct h_proc p;
	char *help[] = {ARBITRADE_BIN, "sim", "--help", NULL};
	assert_int_equal(h_run(&p, NULL, help, envp, NULL, 10000), 0);
	assert_non_null(strstr(p.out, "--scenario FILE"));
	assert_non_null(strstr(p.out, "--ws-port"));
	char *none[] = {ARBITRADE_BIN, "sim", NULL};
	assert_int_equal(h_run(&p, NULL, none, envp, NULL, 10000), 2);
	assert_non_null(strstr(p.out, "--scenario"));
	char *host[] = {ARBITRADE_BIN, "sim",	   "--scenario", TEST_DATA_DIR "/sim/basic.json",
			"--host",      "10.1.2.3", NULL};
	assert_int_equal(h_run(&p, NULL, host, envp, NULL, 10000), 2);
	assert_non_null(strstr(p.out, "loopback"));
	char *port[] = {ARBITRADE_BIN, "sim",	"--scenario", TEST_DATA_DIR "/sim/basic.json",
			"--ws-port",   "70000", NULL};
	assert_int_equal(h_run(&p, NULL, port, envp, NULL, 10000), 2);
	assert_non_null(strstr(p.out, "--ws-port"));

	char dir[256], path[512];
	assert_int_equal(h_tmpdir(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"universe\":[{\"symbol\":\"BTC/USD\",\"base\":\"BTC\"}]}", f);
	fclose(f);
	char *bad[] = {ARBITRADE_BIN, "sim", "--scenario", path, NULL};
	assert_int_equal(h_run(&p, NULL, bad, envp, NULL, 10000), 1);
	assert_non_null(strstr(p.out, "\"quote\""));
	h_rmrf(dir);
}

/* Copies the string value of key from the ready line into out. */
static int field(const char *line, const char *key, char *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *v = strstr(line, pat);
	if (!v)
		return -1;
	v += strlen(pat);
	const char *e = strchr(v, '"');
	if (!e || (size_t)(e - v) >= cap)
		return -1;
	memcpy(out, v, (size_t)(e - v));
	out[e - v] = '\0';
	return 0;
}

static void test_ready_and_sigterm(void **state)
{
	(void)state;
	struct h_proc p;
	char *argv[] = {ARBITRADE_BIN, "sim", "--scenario", TEST_DATA_DIR "/sim/basic.json",
			"--seed",      "9",   NULL};
	assert_int_equal(h_spawn(&p, NULL, argv, envp), 0);
	const char *ready = NULL;
	for (int i = 0; i < 500 && !ready; i++) {
		h_drain(&p);
		ready = strstr(p.out, "{\"event\":\"ready\"");
		if (ready && !strchr(ready, '\n'))
			ready = NULL;
		if (!ready)
			h_sleep_ms(20);
	}
	assert_non_null(ready);
	char ws[128], auth[128], rest[128], ctl[128], want[160];
	assert_int_equal(field(ready, "ws_url", ws, sizeof(ws)), 0);
	assert_int_equal(field(ready, "ws_auth_url", auth, sizeof(auth)), 0);
	assert_int_equal(field(ready, "rest_url", rest, sizeof(rest)), 0);
	assert_int_equal(field(ready, "control_url", ctl, sizeof(ctl)), 0);
	assert_int_equal(strncmp(ws, "ws://127.0.0.1:", 15), 0);
	int port = (int)strtol(ws + 15, NULL, 10);
	assert_true(port > 0);
	snprintf(want, sizeof(want), "ws://127.0.0.1:%d/v2", port);
	assert_string_equal(ws, want);
	snprintf(want, sizeof(want), "ws://127.0.0.1:%d/v2-auth", port);
	assert_string_equal(auth, want);
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/control", port);
	assert_string_equal(ctl, want);
	assert_int_equal(strncmp(rest, "http://127.0.0.1:", 17), 0);
	assert_int_not_equal((int)strtol(rest + 17, NULL, 10), port);

	static char body[1 << 20];
	assert_int_equal(st_http((uint16_t)port, "GET", "/control/state", body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\"books\":{\"BTC/USD\":{\"checksum\":"));
	struct st_ws w;
	assert_int_equal(st_ws_open(&w, (uint16_t)port, "/v2"), 0);
	assert_true(st_ws_recv(&w, 5000) > 0);
	assert_non_null(strstr(w.msg, "\"channel\":\"status\""));
	st_ws_close(&w);

	kill(p.pid, SIGTERM);
	assert_int_equal(h_wait(&p, 10000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_ready_and_sigterm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

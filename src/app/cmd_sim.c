/* `arbitrade sim`: the local Kraken exchange (src/sim/sim.h) as a process.
 * Prints the ready line on stdout once listening; SIGINT/SIGTERM stop it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/app_int.h"
#include "core/fixed.h"
#include "core/log.h"
#include "sim/sim.h"

static struct sim *volatile running;

static void on_signal(int sig)
{
	(void)sig;
	struct sim *s = running;
	if (s)
		sim_stop(s); /* an atomic store: async-signal-safe */
}

static int parse_u64(const char *flag, const char *v, uint64_t max, uint64_t *out)
{
	int64_t n;
	if (!v || fx_parse(v, strlen(v), 0, &n) != 0 || n < 0 || (uint64_t)n > max) {
		fprintf(stderr, "arbitrade sim: %s wants an integer in 0..%llu, got \"%s\"\n", flag,
			(unsigned long long)max, v ? v : "");
		return -1;
	}
	*out = (uint64_t)n;
	return 0;
}

int app__cmd_sim(int argc, char **argv)
{
	struct sim_opts o = {0};
	struct err_info info = {0};
	uint64_t v;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0) {
			app__usage(stdout, app__find("sim"));
			return APP_OK;
		} else if (strcmp(a, "--scenario") == 0 && next) {
			o.scenario_path = next;
		} else if (strcmp(a, "--host") == 0 && next) {
			o.host = next;
		} else if (strcmp(a, "--ws-port") == 0) {
			if (parse_u64(a, next, 65535, &v) != 0)
				return APP_USAGE;
			o.ws_port = (uint16_t)v;
		} else if (strcmp(a, "--rest-port") == 0) {
			if (parse_u64(a, next, 65535, &v) != 0)
				return APP_USAGE;
			o.rest_port = (uint16_t)v;
		} else if (strcmp(a, "--seed") == 0) {
			if (parse_u64(a, next, INT64_MAX, &v) != 0)
				return APP_USAGE;
			o.seed = v;
			o.has_seed = true;
		} else {
			fprintf(stderr,
				"arbitrade sim: unknown or incomplete option %s (see --help)\n", a);
			return APP_USAGE;
		}
		i++;
	}
	if (!o.scenario_path) {
		fprintf(stderr, "arbitrade sim: --scenario FILE is required (see --help)\n");
		return APP_USAGE;
	}
	if (o.host && !sim_host_is_loopback(o.host)) {
		fprintf(stderr, "arbitrade sim: --host %s is not a loopback address\n", o.host);
		return APP_USAGE;
	}
	struct log_options lo = {.level = LOG_LEVEL_INFO, .json = true, .fd = 2};
	if (log_start(&lo) != 0)
		fprintf(stderr, "arbitrade sim: cannot start the log thread\n");
	struct sim *s = sim_new(&o, &info);
	if (!s) {
		fprintf(stderr, "arbitrade sim: %s\n", info.msg[0] ? info.msg : err_str(info.code));
		log_stop();
		return APP_FAIL;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	running = s;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	const char *h = sim_host(s);
	const char *lb = strchr(h, ':') ? "[" : "", *rb = strchr(h, ':') ? "]" : "";
	printf("{\"event\":\"ready\",\"ws_url\":\"ws://%s%s%s:%u/v2\","
	       "\"ws_auth_url\":\"ws://%s%s%s:%u/v2-auth\",\"rest_url\":\"http://%s%s%s:%u\","
	       "\"control_url\":\"http://%s%s%s:%u/control\"}\n",
	       lb, h, rb, sim_ws_port(s), lb, h, rb, sim_ws_port(s), lb, h, rb, sim_rest_port(s),
	       lb, h, rb, sim_ws_port(s));
	fflush(stdout);
	int rc = sim_run(s);
	running = NULL;
	sim_free(s);
	LOG_INFO("sim", "stopped", NULL);
	log_stop();
	return rc == 0 ? APP_OK : APP_FAIL;
}

/* arbitrade kill [--reason TEXT] [--clear]: the operator's kill switch from
 * a shell. It creates RISK_KILL_FILE, which the running bot checks about once
 * a second (risk_kill_file_check): trading stops, open orders are cancelled,
 * and the switch stays set until the bot is restarted without the file.
 * --clear removes the file (it does not un-kill a running bot). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app_int.h"
#include "core/clock.h"

static int bad_usage(const char *why)
{
	fprintf(stderr, "arbitrade kill: %s\n\n", why);
	app__usage(stderr, app__find("kill"));
	return APP_USAGE;
}

/* The reason as a JSON string body: quotes, backslashes and controls dropped
 * or escaped, cut to fit. */
static void json_text(char *out, size_t cap, const char *s)
{
	size_t k = 0;
	for (; *s && k + 2 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20)
			continue;
		if (c == '"' || c == '\\')
			out[k++] = '\\';
		out[k++] = (char)c;
	}
	out[k] = '\0';
}

static int set_kill(const char *path, const char *reason)
{
	char ts[40], why[256], line[384];
	clock_fmt_rfc3339(clock_wall_ns(), 3, ts, sizeof(ts));
	json_text(why, sizeof(why), reason);
	int n = snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"reason\":\"%s\"}\n", ts, why);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT) {
		/* data/KILL before the bot ever ran: make the directory (0700). */
		char dir[CONFIG_PATH];
		snprintf(dir, sizeof(dir), "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0700) == 0 || errno == EEXIST)
				fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		}
	}
	if (fd < 0) {
		fprintf(stderr, "arbitrade kill: cannot create %s: %s\n", path, strerror(errno));
		return APP_FAIL;
	}
	int rc = APP_OK;
	if (n < 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
		fprintf(stderr, "arbitrade kill: cannot write %s: %s\n", path, strerror(errno));
		rc = APP_FAIL;
	}
	close(fd);
	if (rc == APP_OK)
		printf("kill switch set: %s exists; a running bot stops trading within about a "
		       "second\n",
		       path);
	return rc;
}

int app__cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = {{"env-file", required_argument, NULL, 'e'},
					     {"reason", required_argument, NULL, 'r'},
					     {"clear", no_argument, NULL, 'c'},
					     {NULL, 0, NULL, 0}};
	const char *env_file = NULL, *reason = "operator: arbitrade kill";
	bool clear = false;
	struct config cfg;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			env_file = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'c':
			clear = true;
			break;
		default:
			return bad_usage("unknown or incomplete option");
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument");
	rc = app__load_config(&cfg, env_file);
	if (rc != APP_OK)
		return rc;
	if (cfg.risk.kill_file[0] == '\0') {
		fprintf(stderr,
			"arbitrade kill: RISK_KILL_FILE is empty: there is no kill file to "
			"%s\n",
			clear ? "remove" : "create");
		rc = APP_USAGE;
	} else if (clear) {
		if (unlink(cfg.risk.kill_file) == 0) {
			printf("kill file removed: %s; restart the bot to trade again\n",
			       cfg.risk.kill_file);
		} else if (errno == ENOENT) {
			printf("no kill file at %s\n", cfg.risk.kill_file);
		} else {
			fprintf(stderr, "arbitrade kill: cannot remove %s: %s\n",
				cfg.risk.kill_file, strerror(errno));
			rc = APP_FAIL;
		}
	} else {
		rc = set_kill(cfg.risk.kill_file, reason);
	}
	config_release(&cfg);
	return rc;
}

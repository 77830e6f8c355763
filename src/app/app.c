#include "app/app.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "app/app_int.h"
#include "core/err.h"

const struct app_cmd app__cmds[] = {
    {"run", "run the bot: market data, detector, execution, storage and dashboard",
     "  --env-file FILE   read configuration from FILE instead of ./.env\n"
     "  --check           validate the configuration, print \"configuration OK\" and exit\n",
     app__cmd_run},
    {"record", "record every message of the public Kraken WebSocket as JSON lines",
     "  --out FILE        write {\"recv_ts\":...,\"msg\":...} lines to FILE (required)\n"
     "  --symbols A,B     books to subscribe (default BOOK_SYMBOLS; all = every pair)\n"
     "  --duration S      stop after S seconds (default: until SIGINT/SIGTERM)\n"
     "  --env-file FILE   read configuration from FILE instead of ./.env\n",
     app__cmd_record},
    {"sim", "run the local Kraken simulator (WS v2, REST, /control) from a scenario",
     "  --scenario FILE   scenario JSON (format in src/sim/sim.h), e.g.\n"
     "                    tests/data/sim/basic.json (required)\n"
     "  --host ADDR       loopback address to bind (default 127.0.0.1)\n"
     "  --ws-port N       WS and /control port (default 0: a free port)\n"
     "  --rest-port N     REST port (default 0: a free port)\n"
     "  --seed N          override the scenario's seed\n"
     "Prints one ready line with the URLs on stdout; SIGINT/SIGTERM stop it.\n",
     app__cmd_sim},
    {"account", "show the account: balances, fee tier and open orders (REST)",
     "  --env-file FILE   read configuration from FILE instead of ./.env\n"
     "Uses KRAKEN_REST_URL (Kraken or the simulator), KRAKEN_API_KEY and\n"
     "KRAKEN_API_SECRET; never prints the key or the secret.\n",
     app__cmd_account},
    {"migrate", "apply database migrations and exit",
     "  --env-file FILE   read configuration from FILE instead of ./.env\n", app__cmd_migrate},
    {"audit-archive", "export old audit events to Parquet, then delete exactly those rows",
     "  --older-than AGE  archive events older than AGE (30d, 12h, 90m); default\n"
     "                    AUDIT_RETENTION_DAYS\n"
     "  --out FILE        Parquet file to write (default: archive/audit-<UTC time>.parquet\n"
     "                    next to the database)\n"
     "  --env-file FILE   read configuration from FILE instead of ./.env\n",
     app__cmd_audit_archive},
    {"backtest", "replay recorded market data through the detector, checks and sequencer",
     "  --events FILE           seed JSONL ({timestamp,symbol,bids,asks}) or a recording\n"
     "  --instruments FILE      a Kraken instrument message or an AssetPairs answer\n"
     "                          (default: the recording's own, or inferred from the data)\n"
     "  --starting-balances L   USD=1000.0[,BTC=0.1,...] (default PAPER_STARTING_BALANCES)\n"
     "  --slippage-bps N        fill slippage (default ARB_SLIPPAGE_BPS)\n"
     "  --latency-ms N          order time to fill time (default ARB_PAPER_LATENCY_MS)\n"
     "  --taker-fee-bps N       fee of every pair (default ARB_TAKER_FEE_BPS)\n"
     "  --report FILE           write the JSON report (byte-identical across runs)\n"
     "  --db FILE               also record opportunities and trades in this DuckDB file\n"
     "  --skip-bad-lines        count bad lines instead of stopping at the first\n"
     "  --env-file FILE         read configuration from FILE instead of ./.env\n",
     app__cmd_backtest},
    {"kill", "set the kill switch: create RISK_KILL_FILE; a running bot stops trading",
     "  --reason TEXT     why (written into the kill file with the time)\n"
     "  --clear           remove the kill file instead (a running bot stays stopped)\n"
     "  --env-file FILE   read configuration from FILE instead of ./.env\n",
     app__cmd_kill},
    {"metrics", "hit rate, verdicts, profit, fees, PnL by day and latency, computed in SQL",
     "  --since AGE|TIME  only rows from then on: an age (24h, 30d) or RFC3339 time\n"
     "  --db FILE         read this database instead of DUCKDB_PATH (e.g. a backtest's)\n"
     "  --json            one JSON object instead of text\n"
     "  --bench N         benchmark: N synthetic rows in a temporary database, the SQL\n"
     "                    aggregates against a scan in C; prints JSON timings\n"
     "  --env-file FILE   read configuration from FILE instead of ./.env\n",
     app__cmd_metrics},
    {"verify-book", "rebuild every book of a recording and check every checksum (JSON summary)",
     "  FILE              recording lines ({\"recv_ts\":...,\"msg\":{...}}) or raw Kraken v2\n"
     "                    messages, one per line\n"
     "  --depth N         levels per side (10, 25, 100, 500, 1000); default: the depth\n"
     "                    of the file's subscribe acknowledgements, else 10\n"
     "Exit 0 when every checksum matched, 1 otherwise, 2 for unusable input.\n",
     app__cmd_verify_book},
    {"profile", "latency profiler, its regression check, and a generated book stream",
     "  --scenario S      book_update_burst, execution_spike, reconnect_storm or all:\n"
     "                    prints per stage count, p50/p90/p99/max ns, events/s and\n"
     "                    allocations per event\n"
     "  --iterations N    events per scenario (default 20000)\n"
     "  --output FILE     the result as JSON ('-': stdout, the table to stderr)\n"
     "  --drops N         reconnect_storm: connection drops (default 5, at most 50)\n"
     "  --max-seconds N   reconnect_storm: time budget (default 30)\n"
     "  --universe FILE   pairs TSV (default tests/data/universe/kraken_like.tsv)\n"
     "  --sim-scenario F  simulator scenario (default tests/data/sim/basic.json)\n"
     "  check --baseline FILE --thresholds FILE [--iterations N] [--runs R]\n"
     "        [--scenario S] [--input RESULT]... [--update-baseline]\n"
     "                    runs the scenarios R times (thresholds' runs), compares the\n"
     "                    median of each statistic with the baseline as ratios; exit 1\n"
     "                    on a regression, 2 on a bad file; --input compares result\n"
     "                    files instead of running; --update-baseline rewrites FILE\n"
     "  gen-book-stream --out FILE [--messages N] [--pairs P] [--depth D] [--seed S]\n"
     "                    [--raw]   N lines (default 1000000) over P pairs (default 24)\n"
     "                    at depth D (default 10); --raw writes bare messages instead\n"
     "                    of recording lines\n",
     app__cmd_profile},
    {"config", "print every configuration key with its default and meaning",
     "  keys              the key table (KEY, DEFAULT, DESCRIPTION)\n"
     "  keys --markdown   the same as a Markdown table (README)\n",
     app__cmd_config},
    {"cycles", "list the arbitrage cycles of a universe: counts by home asset and length",
     "  --universe FILE   instrument snapshot message or AssetPairs response (default:\n"
     "                    the generated sample tests/data/universe/kraken_like.json)\n"
     "  --home LIST       home assets, e.g. USD,EUR (default ARB_HOME_ASSETS)\n"
     "  --pair SYMBOL     also list the cycles through this pair, e.g. BTC/USD\n"
     "  --limit N         list at most N cycles of the pair (default 50, 0 = all)\n"
     "  --env-file FILE   read configuration from FILE instead of ./.env\n",
     app__cmd_cycles},
    {"secrets", "manage secrets: genkey | encrypt | decrypt (Fernet), hash-password",
     "  genkey [--write]  print a new Fernet key; --write stores it in the key file\n"
     "                    (FERNET_KEY_FILE, mode 0600) if none exists\n"
     "  encrypt           read a value on stdin, print enc:<token> for .env\n"
     "  decrypt [--ttl S] read a token (with or without enc:) on stdin, print the value\n"
     "  hash-password     read the dashboard password on stdin, print its scrypt hash\n"
     "                    for DASHBOARD_PASSWORD_HASH\n"
     "  --env-file FILE   read configuration from FILE instead of ./.env\n"
     "Values are read from stdin, never from the command line.\n",
     app__cmd_secrets},
};
const size_t app__ncmds = sizeof(app__cmds) / sizeof(app__cmds[0]);

static void usage_all(FILE *f)
{
	fprintf(f, "usage: arbitrade <command> [options]\n"
		   "       arbitrade <command> --help\n"
		   "       arbitrade --version\n\ncommands:\n");
	for (size_t i = 0; i < app__ncmds; i++)
		fprintf(f, "  %-14s %s\n", app__cmds[i].name, app__cmds[i].summary);
	fprintf(f, "\nConfiguration comes from ./.env and the environment; see .env.example.\n");
}

void app__usage(FILE *f, const struct app_cmd *c)
{
	fprintf(
	    f,
	    "usage: arbitrade %s [options]\n%s\n\noptions:\n%s  --help            show this help\n",
	    c->name, c->summary, c->usage);
}

const struct app_cmd *app__find(const char *name)
{
	for (size_t i = 0; i < app__ncmds; i++)
		if (strcmp(app__cmds[i].name, name) == 0)
			return &app__cmds[i];
	return NULL;
}

int app__load_config(struct config *cfg, const char *env_file)
{
	extern char **environ;
	struct err_info info = {0};
	int rc = config_load(cfg, env_file, environ, &info);
	if (rc != 0) {
		fprintf(stderr, "arbitrade: configuration error: %s\n",
			info.msg[0] ? info.msg : err_str(rc));
		return APP_USAGE;
	}
	return APP_OK;
}

long app__read_stdin(char *buf, size_t cap, const char *prompt)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO) && prompt;
	size_t n = 0;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= (tcflag_t)~ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else {
			tty = 0;
		}
	}
	while (n + 1 < cap) {
		ssize_t r = read(STDIN_FILENO, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "arbitrade: reading stdin: %s\n", strerror(errno));
			n = 0;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		/* A terminal ends the value at the first newline. */
		if (tty && memchr(buf, '\n', n))
			break;
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (n + 1 >= cap) {
		fprintf(stderr, "arbitrade: input on stdin is longer than %zu bytes\n", cap - 2);
		return -1;
	}
	if (tty) {
		char *nl = memchr(buf, '\n', n);
		if (nl)
			n = (size_t)(nl - buf);
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (long)n;
}

static atomic_int stop_signals;

static void on_signal(int sig)
{
	(void)sig;
	if (atomic_fetch_add(&stop_signals, 1) >= 1) {
		static const char msg[] = "arbitrade: second signal, exiting now\n";
		ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)w;
		_exit(130);
	}
}

void app__signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool app__stop_requested(void)
{
	return atomic_load(&stop_signals) > 0;
}

int app_main(int argc, char **argv)
{
	if (argc < 2) {
		usage_all(stderr);
		return APP_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("arbitrade %s\n", ARB_VERSION);
		return APP_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage_all(stdout);
		return APP_OK;
	}
	const struct app_cmd *c = app__find(argv[1]);
	if (!c) {
		fprintf(stderr, "arbitrade: unknown command '%s'\n\n", argv[1]);
		usage_all(stderr);
		return APP_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			app__usage(stdout, c);
			return APP_OK;
		}
	}
	app__process_init();
	return c->fn(argc - 1, argv + 1);
}

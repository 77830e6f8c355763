/* core/config: defaults, .env syntax, precedence, every value type and rule,
 * enc: values, .env.example in sync with the key table, and that no error
 * message ever carries a secret. Every case passes its own envp; nothing
 * depends on the real environment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/config_int.h"
#include "core/secret.h"

/* A Kraken-like key and a base64 secret (64 bytes), never real. */
#define KEY_VAL "kTstKeyAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghij"
#define SECRET_VAL                                                                                 \
	"BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRg=="
/* Two Fernet keys (URL-safe base64 of 32 bytes) and the spec's key. */
#define FKEY_A	  "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM="
#define FKEY_B	  "yMnKy8zNzs_Q0dLT1NXW19jZ2tvc3d7f4OHi4-Tl5uc="
#define PASS_HASH "scrypt$16384$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
#define PERMS_OK  "KRAKEN_API_KEY_PERMISSIONS=query_funds,query_open,trade,cancel,websocket"

#define EMPTY_ENV TEST_DATA_DIR "/config/empty.env"
#define EXAMPLE	  TEST_DATA_DIR "/../../.env.example"

static char tmpdir[PATH_MAX];

/* Secrets that appear in any case below: no message may contain them. */
static const char *const all_secrets[] = {KEY_VAL, SECRET_VAL, FKEY_A, FKEY_B, PASS_HASH, NULL};

/* ---- helpers ---- */

static const char *write_tmp(const char *name, const char *text, size_t len)
{
	static char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Loads with file text (NULL: the empty fixture) and a NULL-terminated env. */
static int load(struct config *cfg, const char *text, const char *const *env, struct err_info *info)
{
	const char *file = text ? write_tmp("case.env", text, strlen(text)) : EMPTY_ENV;
	memset(info, 0, sizeof(*info));
	return config_load(cfg, file, (char *const *)env, info);
}

static const struct config_key *row(const char *name)
{
	const struct config_key *k = config__find(name, strlen(name));
	if (!k)
		fail_msg("no key %s in the table", name);
	return k;
}

static const void *field(const struct config *cfg, const char *name)
{
	return (const char *)cfg + row(name)->off;
}

static void assert_contains(const char *msg, const char *want)
{
	if (!strstr(msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", msg, want);
}

static void assert_lacks(const char *msg, const char *secret)
{
	if (strstr(msg, secret))
		fail_msg("message \"%s\" contains \"%s\"", msg, secret);
}

static void assert_no_secrets(const char *msg)
{
	for (size_t i = 0; all_secrets[i]; i++)
		assert_lacks(msg, all_secrets[i]);
}

static void assert_released(const struct config *cfg)
{
	assert_null(cfg->kraken.api_key);
	assert_null(cfg->kraken.api_secret);
	assert_null(cfg->web.password_hash);
	assert_null(cfg->fernet_key);
}

static void encrypt_with(const char *key, const char *msg, char *out, size_t cap)
{
	struct err_info info = {0};
	struct fernet *f = fernet_new(key, strlen(key), &info);
	if (!f)
		fail_msg("fernet_new: %s", info.msg);
	int n = fernet_encrypt(f, msg, strlen(msg), (int64_t)time(NULL), out, cap);
	fernet_free(f);
	assert_true(n > 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/arb-test-config-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const names[] = {"case.env", "example.env", "fernet.key", ".env", NULL};
	char path[PATH_MAX + 64];
	(void)state;
	for (size_t i = 0; names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

/* ---- defaults ---- */

static void check_defaults(const struct config *c)
{
	assert_int_equal(c->app.env, APP_ENV_DEV);
	assert_string_equal(c->app.share_dir, ARB_SHARE_DIR_DEFAULT);
	assert_int_equal(c->log.level, LOG_LEVEL_INFO);
	assert_true(c->log.json);
	assert_string_equal(c->store.duckdb_path, "data/arbitrade.duckdb");
	assert_int_equal(c->store.batch_rows, 2048);
	assert_int_equal(c->store.flush_ms, 200);
	assert_int_equal(c->store.ring_capacity, 65536);
	assert_int_equal(c->store.audit_retention_days, 90);
	assert_string_equal(c->web.host, "127.0.0.1");
	assert_int_equal(c->web.port, 8080);
	assert_true(c->web.auth);
	assert_string_equal(c->web.user, "");
	assert_null(c->web.password_hash);
	assert_int_equal(c->web.session_ttl_s, 28800);
	assert_false(c->web.tls);
	assert_null(c->kraken.api_key);
	assert_null(c->kraken.api_secret);
	assert_int_equal(c->kraken.permissions, 0);
	assert_string_equal(c->kraken.ws_url, "wss://ws.kraken.com/v2");
	assert_string_equal(c->kraken.ws_auth_url, "wss://ws-auth.kraken.com/v2");
	assert_string_equal(c->kraken.rest_url, "https://api.kraken.com");
	assert_string_equal(c->kraken.nonce_file, "");
	assert_string_equal(c->kraken.rest_tier, "starter");
	assert_int_equal(c->kraken.rest_timeout_ms, 10000);
	assert_int_equal(c->kraken.ws_ping_interval_ms, 20000);
	assert_int_equal(c->kraken.ws_heartbeat_timeout_ms, 10000);
	assert_int_equal(c->kraken.ws_reconnect_min_ms, 1000);
	assert_int_equal(c->kraken.ws_reconnect_max_ms, 60000);
	assert_string_equal(c->book.symbols, "BTC/USD,ETH/USD,ETH/BTC");
	assert_int_equal(c->book.depth, 10);
	assert_string_equal(c->arb.home_assets, "USD");
	assert_true(c->arb.taker_fee_bps == 26.0);
	assert_true(c->arb.min_profit_bps == 5.0);
	assert_true(c->arb.detect_min_profit_bps == 5.0);
	assert_true(c->arb.max_notional == 100.0);
	assert_int_equal(c->arb.max_book_age_ms, 2000);
	assert_true(c->arb.slippage_bps == 5.0);
	assert_string_equal(c->arb.unwind, "home");
	assert_string_equal(c->arb.exec_mode, "sequential");
	assert_int_equal(c->arb.paper_latency_ms, 50);
	assert_true(c->risk.max_exposure == 500.0);
	assert_int_equal(c->risk.max_cycles_per_min, 10);
	assert_true(c->risk.daily_loss_limit == 50.0);
	assert_int_equal(c->risk.max_consecutive_failures, 3);
	assert_string_equal(c->risk.kill_file, "data/KILL");
	assert_int_equal(c->risk.deadman_timeout_s, 60);
	assert_int_equal(c->trading_mode, TRADING_PAPER);
	assert_string_equal(c->paper_balances, "USD=1000");
	assert_string_equal(c->fernet_key_file, "");
	assert_null(c->fernet_key);
}

static void test_defaults(void **state)
{
	static const char *const env[] = {NULL};
	struct config cfg;
	struct err_info info;
	(void)state;
	assert_int_equal(load(&cfg, NULL, env, &info), 0);
	check_defaults(&cfg);
	config_release(&cfg);

	/* envp NULL is an empty environment. */
	assert_int_equal(config_load(&cfg, EMPTY_ENV, NULL, &info), 0);
	check_defaults(&cfg);
	config_release(&cfg);
}

/* Every table row: a name, help, and a default its own parser accepts (the
 * defaults test covers the last); secrets have no default. */
static void test_table_rows(void **state)
{
	(void)state;
	assert_true(config_key_count() == config__nkeys);
	assert_true(config_key_count() >= 50);
	assert_null(config_key_name(config_key_count()));
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config_key *k = &config__keys[i];
		assert_string_equal(config_key_name(i), k->name);
		assert_non_null(k->help);
		assert_true(k->help[0] != '\0');
		assert_non_null(k->def);
		assert_ptr_equal(config__find(k->name, strlen(k->name)), k);
		if (k->type == CONFIG_T_SECRET) {
			assert_string_equal(k->def, "");
			assert_true(k->flags & CONFIG_F_SECRET);
		}
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(config__keys[j].name, k->name);
	}
}

/* No .env argument: ./.env, and a missing one is fine. */
static void test_default_env_file(void **state)
{
	static const char *const env[] = {NULL};
	char cwd[PATH_MAX];
	struct config cfg;
	struct err_info info = {0};
	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);

	assert_int_equal(config_load(&cfg, NULL, (char *const *)env, &info), 0);
	assert_int_equal(cfg.web.port, 8080);
	config_release(&cfg);

	write_tmp(".env", "APP_PORT=9999\n", 14);
	assert_int_equal(config_load(&cfg, NULL, (char *const *)env, &info), 0);
	assert_int_equal(cfg.web.port, 9999);
	config_release(&cfg);

	write_tmp(".env", "APP_PORT=99x\n", 13);
	assert_int_equal(config_load(&cfg, NULL, (char *const *)env, &info), ERR_CONFIG);
	assert_contains(info.msg, "APP_PORT=99x");
	assert_contains(info.msg, ".env line 1");

	assert_int_equal(chdir(cwd), 0);
}

static void test_named_file_missing(void **state)
{
	static const char *const env[] = {NULL};
	struct config cfg;
	struct err_info info = {0};
	(void)state;
	assert_int_equal(config_load(&cfg, "/nonexistent/arb.env", (char *const *)env, &info),
			 -ENOENT);
	assert_contains(info.msg, "/nonexistent/arb.env");
	assert_int_equal(info.code, -ENOENT);
}

/* ---- .env syntax ---- */

static void test_quoted_fixture(void **state)
{
	static const char *const env[] = {"PATH=/usr/bin", "HOME=/root", NULL};
	struct config cfg;
	struct err_info info = {0};
	(void)state;
	int rc = config_load(&cfg, TEST_DATA_DIR "/config/quoted.env", (char *const *)env, &info);
	if (rc != 0)
		fail_msg("load: %s", info.msg);
	assert_string_equal(cfg.web.host, "0.0.0.0");
	assert_string_equal(cfg.web.user, "ops");
	assert_string_equal(cfg.risk.kill_file, "/tmp/a b#c\\n");
	assert_string_equal(cfg.store.duckdb_path, "/tmp/x\\y\"z");
	assert_string_equal(cfg.arb.home_assets, "USD,EUR");
	assert_string_equal(cfg.kraken.nonce_file, "/tmp/n#1");
	assert_string_equal(cfg.paper_balances, "USD=1000,BTC=0.5");
	assert_int_equal(cfg.log.level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg.web.port, 9001);	   /* the last line wins */
	assert_int_equal(cfg.store.flush_ms, 200); /* empty: the default */
	assert_false(cfg.log.json);
	assert_string_equal(cfg.book.symbols, "BTC/USD,ETH/USD,ETH/BTC");
	assert_string_equal(cfg.arb.unwind, "hold");
	const char hash[] = "line1\nline2\t\"q\"";
	assert_true(secret_equals(cfg.kraken.api_key, hash, sizeof(hash) - 1));
	config_release(&cfg);
}

static void test_env_overrides_file(void **state)
{
	static const char *const env[] = {
	    "APP_PORT=9100", "DASHBOARD_USER=", /* empty in the environment: back to the default */
	    "NOEQUALS",				/* no '=': ignored */
	    "=orphan",				/* no name: ignored */
	    "HOME=/root",    NULL,
	};
	struct config cfg;
	struct err_info info = {0};
	(void)state;
	int rc = config_load(&cfg, TEST_DATA_DIR "/config/quoted.env", (char *const *)env, &info);
	if (rc != 0)
		fail_msg("load: %s", info.msg);
	assert_int_equal(cfg.web.port, 9100);
	assert_string_equal(cfg.web.user, "");
	assert_int_equal(cfg.log.level, LOG_LEVEL_DEBUG); /* from the file */
	config_release(&cfg);
}

static void test_syntax_fixture(void **state)
{
	static const char *const env[] = {NULL};
	struct config cfg;
	struct err_info info = {0};
	(void)state;
	assert_int_equal(
	    config_load(&cfg, TEST_DATA_DIR "/config/syntax_error.env", (char *const *)env, &info),
	    ERR_PARSE);
	assert_contains(info.msg, "syntax_error.env line 4");
	assert_contains(info.msg, "expected KEY=VALUE");
}

struct parse_case {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen(text) */
	int line;
	const char *want;
};

static const struct parse_case parse_cases[] = {
    {"no equals", "APP_PORT 8080\n", 0, 1, "no '='"},
    {"no equals after comments", "# c\n\nLOG_LEVEL=info\nBAD LINE\n", 0, 4, "no '='"},
    {"export without assignment", "export\n", 0, 1, "no '='"},
    {"key starts with a digit", "1KEY=x\n", 0, 1, "invalid key name"},
    {"dash in key", "APP-PORT=1\n", 0, 1, "invalid key name"},
    {"space in key", "APP PORT=1\n", 0, 1, "invalid key name"},
    {"empty key", "=value\n", 0, 1, "invalid key name"},
    {"unterminated double", "A=1\nB=\"open\n", 0, 2, "unterminated double quote"},
    {"unterminated single", "A='open\n", 0, 1, "unterminated single quote"},
    {"unknown escape", "A=\"a\\qb\"\n", 0, 1, "unknown escape"},
    {"text after double", "A=\"x\" trailing\n", 0, 1, "after the closing quote"},
    {"text after single", "\n\nA='x'y\n", 0, 3, "after the closing quote"},
    {"NUL byte", "A=1\nB=2\nC=\0x\n", 13, 3, "NUL byte"},
    {"secret on a bad line", "KRAKEN_API_KEY " KEY_VAL "\n", 0, 1, "no '='"},
    {"secret's padding as the '='", "KRAKEN_API_SECRET " SECRET_VAL "\n", 0, 1, "invalid key name"},
    {"secret in a bad quote", "KRAKEN_API_SECRET=\"" SECRET_VAL "\n", 0, 1,
     "unterminated double quote"},
};

static void test_parse_errors(void **state)
{
	static const char *const env[] = {NULL};
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct config cfg;
		struct err_info info = {0};
		char line[32];
		const char *path =
		    write_tmp("case.env", c->text, c->len ? c->len : strlen(c->text));
		int rc = config_load(&cfg, path, (char *const *)env, &info);
		if (rc != ERR_PARSE)
			fail_msg("%s: rc %d (%s)", c->name, rc, info.msg);
		assert_int_equal(info.code, ERR_PARSE);
		snprintf(line, sizeof(line), "case.env line %d:", c->line);
		assert_contains(info.msg, path);
		assert_contains(info.msg, line);
		assert_contains(info.msg, c->want);
		assert_no_secrets(info.msg);
		assert_released(&cfg);
	}
}

/* ---- values that load ---- */

struct good_case {
	const char *entry; /* KEY=VALUE in the environment */
	char kind;	   /* 'u' u32, 'p' u16, 'b' bool, 'd' double, 's' string, 'e' enum */
	double num;
	const char *str;
};

static const struct good_case good_cases[] = {
    {"APP_PORT=1", 'p', 1, NULL},
    {"APP_PORT=65535", 'p', 65535, NULL},
    {"APP_PORT=08080", 'p', 8080, NULL},
    {"STORE_RING_CAPACITY=1024", 'u', 1024, NULL},
    {"STORE_RING_CAPACITY=16777216", 'u', 16777216, NULL},
    {"KRAKEN_WS_RECONNECT_MIN_MS=500", 'u', 500, NULL},
    {"BOOK_DEPTH=1000", 'u', 1000, NULL},
    {"BOOK_DEPTH=25", 'u', 25, NULL},
    {"ARB_PAPER_LATENCY_MS=0", 'u', 0, NULL},
    {"LOG_JSON=false", 'b', 0, NULL},
    {"LOG_JSON=Off", 'b', 0, NULL},
    {"LOG_JSON=no", 'b', 0, NULL},
    {"LOG_JSON=0", 'b', 0, NULL},
    {"DASHBOARD_SECURE_COOKIES=TRUE", 'b', 1, NULL},
    {"DASHBOARD_SECURE_COOKIES=on", 'b', 1, NULL},
    {"DASHBOARD_SECURE_COOKIES=yes", 'b', 1, NULL},
    {"DASHBOARD_SECURE_COOKIES=1", 'b', 1, NULL},
    {"ARB_MIN_PROFIT_BPS=0", 'd', 0, NULL},
    {"ARB_MIN_PROFIT_BPS=12.5", 'd', 12.5, NULL},
    {"ARB_DETECT_MIN_PROFIT_BPS=0", 'd', 0, NULL},
    {"ARB_DETECT_MIN_PROFIT_BPS=2.5", 'd', 2.5, NULL},
    {"ARB_TAKER_FEE_BPS=1e2", 'd', 100, NULL},
    {"ARB_MAX_NOTIONAL=0.001", 'd', 0.001, NULL},
    {"RISK_DAILY_LOSS_LIMIT=1000000000", 'd', 1e9, NULL},
    {"APP_ENV=prod", 'e', APP_ENV_PROD, NULL},
    {"APP_ENV=Test", 'e', APP_ENV_TEST, NULL},
    {"LOG_LEVEL=error", 'e', LOG_LEVEL_ERROR, NULL},
    {"LOG_LEVEL=WARN", 'e', LOG_LEVEL_WARN, NULL},
    {"KRAKEN_REST_TIER=Pro", 's', 0, "pro"},
    {"ARB_EXEC_MODE=inventory", 's', 0, "inventory"},
    {"BOOK_SYMBOLS=all", 's', 0, "all"},
    {"BOOK_SYMBOLS= ALL ", 's', 0, "all"},
    {"BOOK_SYMBOLS=XBT/USD, ETH2.S/ETH ,SOL/EUR", 's', 0, "XBT/USD,ETH2.S/ETH,SOL/EUR"},
    {"ARB_HOME_ASSETS=USD,EUR,BTC", 's', 0, "USD,EUR,BTC"},
    {"PAPER_STARTING_BALANCES=USD=0,BTC=0.12345678", 's', 0, "USD=0,BTC=0.12345678"},
    {"KRAKEN_WS_URL=ws://127.0.0.1:9001/v2", 's', 0, "ws://127.0.0.1:9001/v2"},
    {"KRAKEN_REST_URL=http://127.0.0.1:9002", 's', 0, "http://127.0.0.1:9002"},
    {"APP_HOST=::1", 's', 0, "::1"},
    {"DUCKDB_PATH=/var/lib/arbitrade/db file.duckdb", 's', 0, "/var/lib/arbitrade/db file.duckdb"},
    {"ARB_SHARE_DIR=/usr/share/arbitrade", 's', 0, "/usr/share/arbitrade"},
    {"FERNET_KEY_FILE=/etc/arbitrade/fernet.key", 's', 0, "/etc/arbitrade/fernet.key"},
};

static void test_good_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const struct good_case *c = &good_cases[i];
		const char *env[] = {c->entry, NULL};
		char name[64];
		struct config cfg;
		struct err_info info;
		size_t nl = (size_t)(strchr(c->entry, '=') - c->entry);
		snprintf(name, sizeof(name), "%.*s", (int)nl, c->entry);
		if (load(&cfg, NULL, env, &info) != 0)
			fail_msg("%s: %s", c->entry, info.msg);
		const void *f = field(&cfg, name);
		switch (c->kind) {
		case 'u':
			assert_int_equal(*(const uint32_t *)f, (uint32_t)c->num);
			break;
		case 'p':
			assert_int_equal(*(const uint16_t *)f, (uint16_t)c->num);
			break;
		case 'b':
			assert_int_equal(*(const bool *)f, c->num != 0);
			break;
		case 'd':
			assert_true(*(const double *)f == c->num);
			break;
		case 'e':
			assert_int_equal(*(const int *)f, (int)c->num);
			break;
		case 's':
			assert_string_equal((const char *)f, c->str);
			break;
		default:
			fail();
		}
		config_release(&cfg);
	}
}

struct perm_case {
	const char *perms;
	unsigned bits;
};

#define Q  (KRAKEN_PERM_QUERY | KRAKEN_PERM_QUERY_FUNDS | KRAKEN_PERM_QUERY_OPEN)
#define TC (KRAKEN_PERM_TRADE | KRAKEN_PERM_CANCEL)

static const struct perm_case perm_cases[] = {
    {"query,trade", Q | TC},
    {"query_funds,query_open,trade,cancel,websocket", Q | TC | KRAKEN_PERM_WEBSOCKET},
    {"funds_query,trades_query_open,trades_modify,trades_close", Q | TC},
    {"query,create", Q | KRAKEN_PERM_TRADE},
    {" Query , TRADE ", Q | TC},
    {"query,trade,query_closed,trades_query_closed,ledger_query,export_data,deposit,funds_add,"
     "earn,funds_earn",
     Q | TC | KRAKEN_PERM_QUERY_CLOSED | KRAKEN_PERM_LEDGER | KRAKEN_PERM_EXPORT |
	 KRAKEN_PERM_DEPOSIT | KRAKEN_PERM_EARN},
};

static void test_permissions_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(perm_cases) / sizeof(perm_cases[0]); i++) {
		char perms[256];
		snprintf(perms, sizeof(perms), "KRAKEN_API_KEY_PERMISSIONS=%s",
			 perm_cases[i].perms);
		const char *env[] = {"KRAKEN_API_KEY=" KEY_VAL, "KRAKEN_API_SECRET=" SECRET_VAL,
				     perms, "TRADING_MODE=live", NULL};
		struct config cfg;
		struct err_info info;
		if (load(&cfg, NULL, env, &info) != 0)
			fail_msg("%s: %s", perms, info.msg);
		assert_int_equal(cfg.kraken.permissions, perm_cases[i].bits);
		assert_int_equal(cfg.trading_mode, TRADING_LIVE);
		assert_true(secret_equals(cfg.kraken.api_key, KEY_VAL, strlen(KEY_VAL)));
		assert_true(secret_equals(cfg.kraken.api_secret, SECRET_VAL, strlen(SECRET_VAL)));
		config_release(&cfg);
		assert_released(&cfg);
		config_release(&cfg); /* twice is harmless */
	}
}

/* ---- values and rules that fail ---- */

struct bad_case {
	const char *name;
	const char *file; /* .env text, or NULL for the empty fixture */
	const char *env[8];
	int rc;
	const char *want[4]; /* substrings the message must contain */
	const char *nots[4]; /* substrings it must not contain */
};

#define CREDS "KRAKEN_API_KEY=" KEY_VAL, "KRAKEN_API_SECRET=" SECRET_VAL

static const struct bad_case bad_cases[] = {
    /* types and bounds */
    {"int with letters",
     NULL,
     {"APP_PORT=80x"},
     ERR_CONFIG,
     {"APP_PORT=80x: expected an integer 1..65535", "(environment)"},
     {NULL}},
    {"int above range",
     NULL,
     {"APP_PORT=70000"},
     ERR_CONFIG,
     {"APP_PORT=70000", "out of range", "1..65535"},
     {NULL}},
    {"int zero", NULL, {"APP_PORT=0"}, ERR_CONFIG, {"APP_PORT=0", "out of range"}, {NULL}},
    {"int negative",
     NULL,
     {"STORE_FLUSH_MS=-5"},
     ERR_CONFIG,
     {"STORE_FLUSH_MS=-5", "expected an integer 1..60000"},
     {NULL}},
    {"int with sign", NULL, {"STORE_FLUSH_MS=+5"}, ERR_CONFIG, {"STORE_FLUSH_MS=+5"}, {NULL}},
    {"int with space", NULL, {"STORE_FLUSH_MS= 5"}, ERR_CONFIG, {"STORE_FLUSH_MS= 5"}, {NULL}},
    {"int overflow",
     NULL,
     {"STORE_BATCH_ROWS=99999999999"},
     ERR_CONFIG,
     {"STORE_BATCH_ROWS=99999999999", "1..1048576"},
     {NULL}},
    {"u32 wraps",
     NULL,
     {"STORE_BATCH_ROWS=4294967297"},
     ERR_CONFIG,
     {"STORE_BATCH_ROWS=4294967297", "out of range"},
     {NULL}},
    {"not a power of two",
     NULL,
     {"STORE_RING_CAPACITY=5000"},
     ERR_CONFIG,
     {"STORE_RING_CAPACITY=5000", "not a power of two", "a power of two 1024..16777216"},
     {NULL}},
    {"depth not allowed",
     NULL,
     {"BOOK_DEPTH=20"},
     ERR_CONFIG,
     {"BOOK_DEPTH=20", "one of 10|25|100|500|1000"},
     {NULL}},
    {"reconnect min under 500",
     NULL,
     {"KRAKEN_WS_RECONNECT_MIN_MS=100"},
     ERR_CONFIG,
     {"KRAKEN_WS_RECONNECT_MIN_MS=100", "500..3600000"},
     {NULL}},
    {"reconnect max below min",
     NULL,
     {"KRAKEN_WS_RECONNECT_MIN_MS=5000", "KRAKEN_WS_RECONNECT_MAX_MS=2000"},
     ERR_CONFIG,
     {"KRAKEN_WS_RECONNECT_MAX_MS=2000", "KRAKEN_WS_RECONNECT_MIN_MS (5000)"},
     {NULL}},
    {"detect above the default minimum",
     NULL,
     {"ARB_DETECT_MIN_PROFIT_BPS=10"},
     ERR_CONFIG,
     {"ARB_DETECT_MIN_PROFIT_BPS=10", "above ARB_MIN_PROFIT_BPS=5;",
      "expected at most ARB_MIN_PROFIT_BPS"},
     {NULL}},
    {"detect above the minimum",
     NULL,
     {"ARB_MIN_PROFIT_BPS=500", "ARB_DETECT_MIN_PROFIT_BPS=500.5"},
     ERR_CONFIG,
     {"ARB_DETECT_MIN_PROFIT_BPS=500.5", "above ARB_MIN_PROFIT_BPS=500;"},
     {NULL}},
    {"detect above the minimum in the file",
     "ARB_MIN_PROFIT_BPS=2\nARB_DETECT_MIN_PROFIT_BPS=3\n",
     {NULL},
     ERR_CONFIG,
     {"ARB_DETECT_MIN_PROFIT_BPS=3", "above ARB_MIN_PROFIT_BPS=2;"},
     {NULL}},
    {"detect below zero",
     NULL,
     {"ARB_DETECT_MIN_PROFIT_BPS=-1"},
     ERR_CONFIG,
     {"ARB_DETECT_MIN_PROFIT_BPS=-1", "out of range"},
     {NULL}},
    {"bad enum",
     NULL,
     {"APP_ENV=staging"},
     ERR_CONFIG,
     {"APP_ENV=staging", "expected one of dev|test|prod"},
     {NULL}},
    {"bad mode",
     NULL,
     {"TRADING_MODE=real"},
     ERR_CONFIG,
     {"TRADING_MODE=real", "one of paper|live"},
     {NULL}},
    {"bad level",
     "LOG_LEVEL=loud\n",
     {NULL},
     ERR_CONFIG,
     {"LOG_LEVEL=loud", "one of debug|info|warn|error", "case.env line 1"},
     {NULL}},
    {"bad choice",
     NULL,
     {"KRAKEN_REST_TIER=gold"},
     ERR_CONFIG,
     {"KRAKEN_REST_TIER=gold", "one of starter|intermediate|pro"},
     {NULL}},
    {"bad unwind", NULL, {"ARB_UNWIND=sell"}, ERR_CONFIG, {"ARB_UNWIND=sell", "home|hold"}, {NULL}},
    {"bad bool", NULL, {"LOG_JSON=maybe"}, ERR_CONFIG, {"LOG_JSON=maybe", "true|false"}, {NULL}},
    {"bad bool auth",
     NULL,
     {"DASHBOARD_AUTH=disabled"},
     ERR_CONFIG,
     {"DASHBOARD_AUTH=disabled", "on|off"},
     {NULL}},
    {"bad double",
     NULL,
     {"ARB_MIN_PROFIT_BPS=5bps"},
     ERR_CONFIG,
     {"ARB_MIN_PROFIT_BPS=5bps", "a number 0..10000"},
     {NULL}},
    {"nan", NULL, {"ARB_TAKER_FEE_BPS=nan"}, ERR_CONFIG, {"ARB_TAKER_FEE_BPS=nan"}, {NULL}},
    {"hex double",
     NULL,
     {"ARB_TAKER_FEE_BPS=0x10"},
     ERR_CONFIG,
     {"ARB_TAKER_FEE_BPS=0x10"},
     {NULL}},
    {"huge double",
     NULL,
     {"ARB_SLIPPAGE_BPS=1e400"},
     ERR_CONFIG,
     {"ARB_SLIPPAGE_BPS=1e400"},
     {NULL}},
    {"double above max",
     NULL,
     {"ARB_SLIPPAGE_BPS=1000.5"},
     ERR_CONFIG,
     {"ARB_SLIPPAGE_BPS=1000.5", "out of range"},
     {NULL}},
    {"negative fee",
     NULL,
     {"ARB_TAKER_FEE_BPS=-1"},
     ERR_CONFIG,
     {"ARB_TAKER_FEE_BPS=-1", "out of range"},
     {NULL}},
    {"zero notional",
     NULL,
     {"ARB_MAX_NOTIONAL=0"},
     ERR_CONFIG,
     {"ARB_MAX_NOTIONAL=0", "a number > 0 and <= 1000000000"},
     {NULL}},
    {"ws url scheme",
     NULL,
     {"KRAKEN_WS_URL=https://ws.kraken.com/v2"},
     ERR_CONFIG,
     {"KRAKEN_WS_URL=https://ws.kraken.com/v2", "wss://"},
     {NULL}},
    {"rest url scheme",
     NULL,
     {"KRAKEN_REST_URL=ftp://api.kraken.com"},
     ERR_CONFIG,
     {"KRAKEN_REST_URL=ftp://api.kraken.com", "https://"},
     {NULL}},
    {"url scheme only",
     NULL,
     {"KRAKEN_WS_AUTH_URL=wss://"},
     ERR_CONFIG,
     {"KRAKEN_WS_AUTH_URL=wss://"},
     {NULL}},
    {"symbol without slash",
     NULL,
     {"BOOK_SYMBOLS=BTC/USD,BTCUSD"},
     ERR_CONFIG,
     {"BOOK_SYMBOLS=BTC/USD,BTCUSD", "bad item 'BTCUSD'", "BASE/QUOTE"},
     {NULL}},
    {"empty symbol",
     NULL,
     {"BOOK_SYMBOLS=BTC/USD,,ETH/USD"},
     ERR_CONFIG,
     {"BOOK_SYMBOLS", "empty item"},
     {NULL}},
    {"all with others",
     NULL,
     {"BOOK_SYMBOLS=all,BTC/USD"},
     ERR_CONFIG,
     {"BOOK_SYMBOLS=all,BTC/USD", "bad item 'all'"},
     {NULL}},
    {"bad balance",
     NULL,
     {"PAPER_STARTING_BALANCES=USD=abc"},
     ERR_CONFIG,
     {"PAPER_STARTING_BALANCES=USD=abc", "ASSET=amount"},
     {NULL}},
    {"negative balance",
     NULL,
     {"PAPER_STARTING_BALANCES=USD=-5"},
     ERR_CONFIG,
     {"PAPER_STARTING_BALANCES=USD=-5"},
     {NULL}},
    {"bad asset",
     NULL,
     {"ARB_HOME_ASSETS=US$"},
     ERR_CONFIG,
     {"ARB_HOME_ASSETS=US$", "asset codes"},
     {NULL}},
    {"host with space",
     NULL,
     {"APP_HOST=my host"},
     ERR_CONFIG,
     {"APP_HOST=my host", "contains a space"},
     {NULL}},
    {"control character",
     NULL,
     {"DUCKDB_PATH=/tmp/a\tb"},
     ERR_CONFIG,
     {"DUCKDB_PATH=/tmp/a?b", "control character"},
     {NULL}},
    {"file value, env valid",
     "APP_PORT=80\n",
     {"APP_PORT=eighty"},
     ERR_CONFIG,
     {"APP_PORT=eighty", "(environment)"},
     {NULL}},
    /* unknown keys */
    {"typo suggested",
     NULL,
     {"APP_PROT=8080"},
     ERR_CONFIG,
     {"unknown key APP_PROT", "did you mean APP_PORT?", "(environment)"},
     {"8080"}},
    {"typo of a secret key in the file",
     "APP_PORT=8080\nKRAKEN_API_SECRT=" SECRET_VAL "\n",
     {NULL},
     ERR_CONFIG,
     {"unknown key KRAKEN_API_SECRT", "case.env line 2", "did you mean KRAKEN_API_SECRET?"},
     {NULL}},
    {"long typo",
     NULL,
     {"KRAKEN_WS_RECONECT_MAX_MS=1"},
     ERR_CONFIG,
     {"unknown key KRAKEN_WS_RECONECT_MAX_MS", "did you mean KRAKEN_WS_RECONNECT_MAX_MS?"},
     {NULL}},
    {"lower case",
     NULL,
     {"app_port=1"},
     ERR_CONFIG,
     {"unknown key app_port", "did you mean APP_PORT?"},
     {NULL}},
    {"unknown, nothing close",
     NULL,
     {"ARB_FROBNICATE_EVERYTHING=1"},
     ERR_CONFIG,
     {"unknown key ARB_FROBNICATE_EVERYTHING", ".env.example"},
     {"did you mean"}},
    {"reserved prefix SIM_", NULL, {"SIM_SPEED=2"}, ERR_CONFIG, {"unknown key SIM_SPEED"}, {NULL}},
    {"reserved prefix WEB_", NULL, {"WEB_ROOT=/"}, ERR_CONFIG, {"unknown key WEB_ROOT"}, {NULL}},
    {"reserved prefix EXEC_", NULL, {"EXEC_MODE=x"}, ERR_CONFIG, {"unknown key EXEC_MODE"}, {NULL}},
    {"reserved prefix AUDIT_",
     NULL,
     {"AUDIT_DAYS=1"},
     ERR_CONFIG,
     {"unknown key AUDIT_DAYS"},
     {NULL}},
    /* Kraken credentials */
    {"key without secret",
     NULL,
     {"KRAKEN_API_KEY=" KEY_VAL},
     ERR_CONFIG,
     {"KRAKEN_API_SECRET", "KRAKEN_API_KEY=[redacted]", "both set or both empty"},
     {NULL}},
    {"secret without key",
     NULL,
     {"KRAKEN_API_SECRET=" SECRET_VAL},
     ERR_CONFIG,
     {"KRAKEN_API_KEY=", "KRAKEN_API_SECRET=[redacted]", "both set or both empty"},
     {NULL}},
    {"secret not base64",
     NULL,
     {"KRAKEN_API_KEY=" KEY_VAL, "KRAKEN_API_SECRET=not/base64!!"},
     ERR_CONFIG,
     {"KRAKEN_API_SECRET=[redacted]", "not valid base64", "standard base64"},
     {"not/base64!!"}},
    {"secret base64url",
     NULL,
     {"KRAKEN_API_KEY=" KEY_VAL, "KRAKEN_API_SECRET=" FKEY_A},
     ERR_CONFIG,
     {"KRAKEN_API_SECRET=[redacted]", "base64"},
     {NULL}},
    {"secret bad length",
     NULL,
     {"KRAKEN_API_KEY=" KEY_VAL, "KRAKEN_API_SECRET=QUJDRA="},
     ERR_CONFIG,
     {"KRAKEN_API_SECRET=[redacted]"},
     {"QUJDRA"}},
    {"secret padding inside",
     NULL,
     {"KRAKEN_API_KEY=" KEY_VAL, "KRAKEN_API_SECRET=QU=DRA=="},
     ERR_CONFIG,
     {"KRAKEN_API_SECRET=[redacted]"},
     {"QU=DRA"}},
    {"secret three pads",
     NULL,
     {"KRAKEN_API_KEY=" KEY_VAL, "KRAKEN_API_SECRET=QUJD RA=="},
     ERR_CONFIG,
     {"KRAKEN_API_SECRET=[redacted]"},
     {"QUJD RA"}},
    {"secret only padding",
     NULL,
     {"KRAKEN_API_KEY=" KEY_VAL, "KRAKEN_API_SECRET====="},
     ERR_CONFIG,
     {"KRAKEN_API_SECRET=[redacted]"},
     {NULL}},
    {"permissions missing",
     NULL,
     {CREDS},
     ERR_CONFIG,
     {"KRAKEN_API_KEY_PERMISSIONS=", "missing query and trade"},
     {NULL}},
    {"permissions without query",
     NULL,
     {CREDS, "KRAKEN_API_KEY_PERMISSIONS=trade,websocket"},
     ERR_CONFIG,
     {"KRAKEN_API_KEY_PERMISSIONS=trade,websocket", "missing query"},
     {NULL}},
    {"half of query",
     NULL,
     {CREDS, "KRAKEN_API_KEY_PERMISSIONS=query_funds,trade"},
     ERR_CONFIG,
     {"KRAKEN_API_KEY_PERMISSIONS=query_funds,trade", "missing query"},
     {NULL}},
    {"permissions without trade",
     NULL,
     {CREDS, "KRAKEN_API_KEY_PERMISSIONS=query,cancel"},
     ERR_CONFIG,
     {"KRAKEN_API_KEY_PERMISSIONS=query,cancel", "missing trade"},
     {NULL}},
    {"permissions without creds still checked",
     NULL,
     {"KRAKEN_API_KEY_PERMISSIONS=query_funds"},
     ERR_CONFIG,
     {"KRAKEN_API_KEY_PERMISSIONS=query_funds", "missing"},
     {NULL}},
    {"withdraw",
     NULL,
     {CREDS, "KRAKEN_API_KEY_PERMISSIONS=query,trade,withdraw"},
     ERR_CONFIG,
     {"KRAKEN_API_KEY_PERMISSIONS=query,trade,withdraw", "never allowed"},
     {NULL}},
    {"funds_withdraw",
     NULL,
     {CREDS, "KRAKEN_API_KEY_PERMISSIONS=query,funds_withdraw,trade"},
     ERR_CONFIG,
     {"KRAKEN_API_KEY_PERMISSIONS", "withdrawal scopes are never allowed"},
     {NULL}},
    {"withdraw without creds",
     NULL,
     {"KRAKEN_API_KEY_PERMISSIONS=Withdraw_Funds"},
     ERR_CONFIG,
     {"KRAKEN_API_KEY_PERMISSIONS=Withdraw_Funds", "never allowed"},
     {NULL}},
    {"unknown permission",
     NULL,
     {CREDS, "KRAKEN_API_KEY_PERMISSIONS=query,trade,telepathy"},
     ERR_CONFIG,
     {"KRAKEN_API_KEY_PERMISSIONS", "unknown permission 'telepathy'"},
     {NULL}},
    {"live without creds",
     NULL,
     {"TRADING_MODE=live"},
     ERR_CONFIG,
     {"TRADING_MODE=live", "KRAKEN_API_KEY", "KRAKEN_API_SECRET"},
     {NULL}},
    {"live with empty creds",
     "KRAKEN_API_KEY=\nKRAKEN_API_SECRET=''\n",
     {"TRADING_MODE=live"},
     ERR_CONFIG,
     {"TRADING_MODE=live", "no credentials"},
     {NULL}},
    /* dashboard */
    {"auth off in prod",
     NULL,
     {"APP_ENV=prod", "DASHBOARD_AUTH=off"},
     ERR_CONFIG,
     {"DASHBOARD_AUTH=off", "APP_ENV=dev", "APP_ENV=prod"},
     {NULL}},
    {"auth off in test",
     NULL,
     {"APP_ENV=test", "DASHBOARD_AUTH=false"},
     ERR_CONFIG,
     {"DASHBOARD_AUTH=off", "APP_ENV=test"},
     {NULL}},
    /* Fernet */
    {"fernet key malformed",
     NULL,
     {"FERNET_KEY=notakey123"},
     ERR_CONFIG,
     {"FERNET_KEY=[redacted]", "not a Fernet key"},
     {"notakey123"}},
    {"fernet key encrypted",
     NULL,
     {"FERNET_KEY=enc:gAAAAABsecretish"},
     ERR_CONFIG,
     {"FERNET_KEY=[redacted]", "cannot itself be enc:"},
     {"gAAAAABsecretish"}},
    {"fernet key file encrypted",
     NULL,
     {"FERNET_KEY_FILE=enc:gAAAAABpath"},
     ERR_CONFIG,
     {"FERNET_KEY_FILE", "cannot itself be enc:"},
     {"gAAAAABpath"}},
    {"enc without a key",
     NULL,
     {"FERNET_KEY_FILE=/nonexistent/arbitrade/fernet.key", "KRAKEN_API_KEY=enc:gAAAAABxyz"},
     ERR_CONFIG,
     {"KRAKEN_API_KEY=enc:[redacted]", "no Fernet key"},
     {"gAAAAABxyz"}},
    {"enc garbage token",
     NULL,
     {"FERNET_KEY=" FKEY_A, "APP_HOST=enc:gAAAAABnottoken"},
     ERR_CONFIG,
     {"APP_HOST=enc:[redacted]", "cannot decrypt"},
     {"gAAAAABnottoken"}},
    {"dashboard hash typo",
     NULL,
     {"DASHBOARD_PASSWORD_HAHS=" PASS_HASH},
     ERR_CONFIG,
     {"unknown key DASHBOARD_PASSWORD_HAHS", "did you mean DASHBOARD_PASSWORD_HASH?"},
     {NULL}},
};

static void run_bad(const struct bad_case *c)
{
	struct config cfg;
	struct err_info info;
	int rc = load(&cfg, c->file, c->env, &info);
	if (rc != c->rc)
		fail_msg("%s: rc %d, want %d (%s)", c->name, rc, c->rc, info.msg);
	assert_int_equal(info.code, rc);
	for (size_t j = 0; j < 4 && c->want[j]; j++)
		if (!strstr(info.msg, c->want[j]))
			fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, info.msg, c->want[j]);
	for (size_t j = 0; j < 4 && c->nots[j]; j++)
		if (strstr(info.msg, c->nots[j]))
			fail_msg("%s: message \"%s\" contains \"%s\"", c->name, info.msg,
				 c->nots[j]);
	assert_no_secrets(info.msg);
	assert_true(strlen(info.msg) < sizeof(info.msg) - 1); /* not truncated */
	assert_released(&cfg);
}

static void test_bad_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		run_bad(&bad_cases[i]);
}

/* ARB_DETECT_MIN_PROFIT_BPS: unset or empty, it follows ARB_MIN_PROFIT_BPS
 * wherever that came from; given, it stands at or below it. */
static void test_detect_min_profit(void **state)
{
	static const struct {
		const char *file;
		const char *env[3];
		double min, detect;
	} cases[] = {
	    {NULL, {NULL}, 5, 5},
	    {NULL, {"ARB_MIN_PROFIT_BPS=20", NULL}, 20, 20},
	    {NULL, {"ARB_MIN_PROFIT_BPS=20", "ARB_DETECT_MIN_PROFIT_BPS=", NULL}, 20, 20},
	    {"ARB_MIN_PROFIT_BPS=7.5\n", {NULL}, 7.5, 7.5},
	    {"ARB_DETECT_MIN_PROFIT_BPS=1\n", {"ARB_DETECT_MIN_PROFIT_BPS=", NULL}, 5, 5},
	    {NULL, {"ARB_MIN_PROFIT_BPS=500", "ARB_DETECT_MIN_PROFIT_BPS=0", NULL}, 500, 0},
	    {NULL, {"ARB_MIN_PROFIT_BPS=0", NULL}, 0, 0},
	    {NULL, {"ARB_MIN_PROFIT_BPS=12.5", "ARB_DETECT_MIN_PROFIT_BPS=12.5", NULL}, 12.5, 12.5},
	    {"ARB_MIN_PROFIT_BPS=30\nARB_DETECT_MIN_PROFIT_BPS=40\n",
	     {"ARB_DETECT_MIN_PROFIT_BPS=10", NULL},
	     30,
	     10},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;
		struct err_info info;
		if (load(&cfg, cases[i].file, cases[i].env, &info) != 0)
			fail_msg("case %zu: %s", i, info.msg);
		if (cfg.arb.min_profit_bps != cases[i].min ||
		    cfg.arb.detect_min_profit_bps != cases[i].detect)
			fail_msg("case %zu: min %g detect %g, want %g %g", i,
				 cfg.arb.min_profit_bps, cfg.arb.detect_min_profit_bps,
				 cases[i].min, cases[i].detect);
		config_release(&cfg);
	}
}

/* Every key: an unparsable or over-long value names that key, and a secret
 * key's value is never shown. */
static void test_every_key_rejects(void **state)
{
	static char big[5000], entry[5100];
	(void)state;
	memset(big, 'A', sizeof(big) - 1); /* longer than any field and SECRET_MAX */
	big[sizeof(big) - 1] = '\0';
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config_key *k = &config__keys[i];
		const char *bad = "\x01"; /* a control character: no type takes it */
		char want[80];
		switch (k->type) {
		case CONFIG_T_STRING:
		case CONFIG_T_PATH:
		case CONFIG_T_URL:
		case CONFIG_T_LIST:
			bad = big;
			break;
		case CONFIG_T_SECRET:
			bad = k->flags & (CONFIG_F_BASE64 | CONFIG_F_FERNET_KEY) ? "Zm9v!bar" : big;
			break;
		default:
			break;
		}
		snprintf(entry, sizeof(entry), "%s=%s", k->name, bad);
		const char *env[] = {entry, NULL};
		struct config cfg;
		struct err_info info;
		int rc = load(&cfg, NULL, env, &info);
		if (rc != ERR_CONFIG)
			fail_msg("%s: rc %d (%s)", k->name, rc, info.msg);
		snprintf(want, sizeof(want), "%s=", k->name);
		assert_contains(info.msg, want);
		assert_contains(info.msg, "expected");
		if (k->flags & CONFIG_F_SECRET) {
			assert_contains(info.msg, "[redacted]");
			assert_lacks(info.msg, "Zm9v");
			assert_lacks(info.msg, "AAAA");
		}
		assert_released(&cfg);
	}
}

/* ---- enc: values ---- */

static void test_enc_values(void **state)
{
	char t_key[512], t_sec[512], t_port[512], t_hash[512], t_perm[512];
	char e_key[600], e_sec[600], e_port[600], e_hash[600], e_perm[600];
	(void)state;
	encrypt_with(FKEY_A, KEY_VAL, t_key, sizeof(t_key));
	encrypt_with(FKEY_A, SECRET_VAL, t_sec, sizeof(t_sec));
	encrypt_with(FKEY_A, "9090", t_port, sizeof(t_port));
	encrypt_with(FKEY_A, PASS_HASH, t_hash, sizeof(t_hash));
	encrypt_with(FKEY_A, "query,trade", t_perm, sizeof(t_perm));
	snprintf(e_key, sizeof(e_key), "KRAKEN_API_KEY=enc:%s", t_key);
	snprintf(e_sec, sizeof(e_sec), "KRAKEN_API_SECRET=enc:%s", t_sec);
	snprintf(e_port, sizeof(e_port), "APP_PORT=enc:%s", t_port);
	snprintf(e_hash, sizeof(e_hash), "DASHBOARD_PASSWORD_HASH=enc:%s", t_hash);
	snprintf(e_perm, sizeof(e_perm), "KRAKEN_API_KEY_PERMISSIONS=enc:%s", t_perm);

	/* FERNET_KEY in the environment. */
	const char *env[] = {"FERNET_KEY=" FKEY_A, e_key, e_sec, e_port, e_hash, e_perm, NULL};
	struct config cfg;
	struct err_info info;
	if (load(&cfg, NULL, env, &info) != 0)
		fail_msg("load: %s", info.msg);
	assert_true(secret_equals(cfg.kraken.api_key, KEY_VAL, strlen(KEY_VAL)));
	assert_true(secret_equals(cfg.kraken.api_secret, SECRET_VAL, strlen(SECRET_VAL)));
	assert_true(secret_equals(cfg.web.password_hash, PASS_HASH, strlen(PASS_HASH)));
	assert_true(secret_equals(cfg.fernet_key, FKEY_A, strlen(FKEY_A)));
	assert_int_equal(cfg.web.port, 9090);
	assert_true((cfg.kraken.permissions & (KRAKEN_PERM_QUERY | KRAKEN_PERM_TRADE)) ==
		    (KRAKEN_PERM_QUERY | KRAKEN_PERM_TRADE));
	config_release(&cfg);
	assert_released(&cfg);

	/* The key from a 0600 key file named in .env; the values in .env too. */
	const char *kpath = write_tmp("fernet.key", FKEY_A "\n", strlen(FKEY_A) + 1);
	char kfile[PATH_MAX + 64];
	snprintf(kfile, sizeof(kfile), "%s", kpath);
	assert_int_equal(chmod(kfile, 0600), 0);
	char text[8192];
	snprintf(text, sizeof(text), "FERNET_KEY_FILE=%s\n%s\n%s\n" PERMS_OK "\n", kfile, e_key,
		 e_sec);
	const char *noenv[] = {NULL};
	if (load(&cfg, text, noenv, &info) != 0)
		fail_msg("load with key file: %s", info.msg);
	assert_true(secret_equals(cfg.kraken.api_key, KEY_VAL, strlen(KEY_VAL)));
	assert_true(secret_equals(cfg.kraken.api_secret, SECRET_VAL, strlen(SECRET_VAL)));
	assert_null(cfg.fernet_key);
	config_release(&cfg);
}

static void test_enc_failures(void **state)
{
	char tok[512], bad_b64[512], bad_port[512];
	char e_wrong[600], e_b64[600], e_port[600];
	(void)state;
	encrypt_with(FKEY_A, SECRET_VAL, tok, sizeof(tok));
	encrypt_with(FKEY_A, "plain!not*base64", bad_b64, sizeof(bad_b64));
	encrypt_with(FKEY_A, "8080zz", bad_port, sizeof(bad_port));
	snprintf(e_wrong, sizeof(e_wrong), "KRAKEN_API_SECRET=enc:%s", tok);
	snprintf(e_b64, sizeof(e_b64), "KRAKEN_API_SECRET=enc:%s", bad_b64);
	snprintf(e_port, sizeof(e_port), "APP_PORT=enc:%s", bad_port);

	struct {
		const char *name;
		const char *env[4];
		const char *want[3];
		const char *nots[3];
	} cases[] = {
	    {"wrong key",
	     {"FERNET_KEY=" FKEY_B, "KRAKEN_API_KEY=" KEY_VAL, e_wrong},
	     {"KRAKEN_API_SECRET=enc:[redacted]", "cannot decrypt"},
	     {tok, SECRET_VAL}},
	    {"decrypted secret not base64",
	     {"FERNET_KEY=" FKEY_A, "KRAKEN_API_KEY=" KEY_VAL, e_b64},
	     {"KRAKEN_API_SECRET=[redacted]", "not valid base64"},
	     {"plain!not*base64", bad_b64}},
	    {"decrypted value of a plain key is redacted",
	     {"FERNET_KEY=" FKEY_A, e_port},
	     {"APP_PORT=[redacted]", "expected an integer 1..65535"},
	     {"8080zz", bad_port}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *env[5] = {cases[i].env[0], cases[i].env[1], cases[i].env[2],
				      cases[i].env[3], NULL};
		struct config cfg;
		struct err_info info;
		int rc = load(&cfg, NULL, env, &info);
		if (rc != ERR_CONFIG)
			fail_msg("%s: rc %d (%s)", cases[i].name, rc, info.msg);
		for (size_t j = 0; j < 3 && cases[i].want[j]; j++)
			assert_contains(info.msg, cases[i].want[j]);
		for (size_t j = 0; j < 3 && cases[i].nots[j]; j++)
			assert_lacks(info.msg, cases[i].nots[j]);
		assert_no_secrets(info.msg);
		assert_released(&cfg);
	}
}

/* ---- a long value is shortened in messages ---- */

static void test_long_values(void **state)
{
	char user[CONFIG_STR + 10], entry[CONFIG_STR + 64];
	(void)state;
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	snprintf(entry, sizeof(entry), "DASHBOARD_USER=%s", user);
	const char *env[] = {entry, NULL};
	struct config cfg;
	struct err_info info;
	assert_int_equal(load(&cfg, NULL, env, &info), ERR_CONFIG);
	assert_contains(info.msg, "DASHBOARD_USER=uuuu");
	assert_contains(info.msg, "...");
	assert_contains(info.msg, "too long");
	assert_contains(info.msg, "at most 255 characters");

	/* The longest value that fits. */
	user[CONFIG_STR - 1] = '\0';
	snprintf(entry, sizeof(entry), "DASHBOARD_USER=%s", user);
	assert_int_equal(load(&cfg, NULL, env, &info), 0);
	assert_int_equal(strlen(cfg.web.user), CONFIG_STR - 1);
	config_release(&cfg);
}

/* ---- dashboard credentials ---- */

static void test_dashboard(void **state)
{
	struct {
		const char *env[4];
		int rc;
		const char *want;
	} cases[] = {
	    {{NULL}, ERR_CONFIG, "DASHBOARD_PASSWORD_HASH"},
	    {{"DASHBOARD_USER=ops"}, ERR_CONFIG, "DASHBOARD_PASSWORD_HASH=: empty"},
	    {{"DASHBOARD_PASSWORD_HASH=" PASS_HASH}, ERR_CONFIG, "DASHBOARD_USER=: empty"},
	    {{"DASHBOARD_USER=ops", "DASHBOARD_PASSWORD_HASH=" PASS_HASH}, 0, NULL},
	    {{"APP_ENV=dev", "DASHBOARD_AUTH=off"}, 0, NULL},
	    {{"APP_ENV=prod", "DASHBOARD_USER=ops", "DASHBOARD_PASSWORD_HASH=" PASS_HASH}, 0, NULL},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *env[5] = {cases[i].env[0], cases[i].env[1], cases[i].env[2],
				      cases[i].env[3], NULL};
		struct config cfg;
		struct err_info info;
		if (load(&cfg, NULL, env, &info) != 0)
			fail_msg("case %zu: %s", i, info.msg);
		memset(&info, 0, sizeof(info));
		int rc = config_check_dashboard(&cfg, &info);
		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d (%s)", i, rc, info.msg);
		if (cases[i].want) {
			assert_int_equal(info.code, ERR_CONFIG);
			assert_contains(info.msg, cases[i].want);
			assert_contains(info.msg, "DASHBOARD_AUTH=on");
			assert_no_secrets(info.msg);
		}
		config_release(&cfg);
	}
}

/* ---- .env.example names every key with its default ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void test_env_example(void **state)
{
	size_t len, seen[CONFIG_LIST] = {0};
	char *text = slurp(EXAMPLE, &len);
	char *out = malloc(len + 1);
	size_t on = 0;
	char prev[1024] = "";
	(void)state;
	assert_non_null(out);
	assert_true(config__nkeys < CONFIG_LIST);

	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		char buf[1024];
		assert_true(ll < sizeof(buf));
		memcpy(buf, line, ll);
		buf[ll] = '\0';
		/* "#KEY=default" lines are the keys; "# ..." lines are prose. */
		if (buf[0] == '#' && buf[1] >= 'A' && buf[1] <= 'Z' && strchr(buf, '=')) {
			char *eq = strchr(buf, '=');
			const struct config_key *k = config__find(buf + 1, (size_t)(eq - buf - 1));
			if (!k)
				fail_msg(".env.example names unknown key: %s", buf);
			seen[k - config__keys]++;
			const char *want =
			    (k->flags & (CONFIG_F_SECRET | CONFIG_F_BUILD_DEFAULT)) ? "" : k->def;
			if (strcmp(eq + 1, want) != 0)
				fail_msg(".env.example: %s, table default \"%s\"", buf, want);
			if (strncmp(prev, "# ", 2) != 0 || strlen(prev) < 10)
				fail_msg(".env.example: %s has no comment line above it", buf);
			memcpy(out + on, buf + 1, ll - 1);
			on += ll - 1;
			out[on++] = '\n';
		} else {
			assert_true(buf[0] == '\0' || buf[0] == '#'); /* nothing set for real */
		}
		snprintf(prev, sizeof(prev), "%s", buf);
		line = nl ? nl + 1 : line + ll;
	}
	for (size_t i = 0; i < config__nkeys; i++)
		if (seen[i] != 1)
			fail_msg(".env.example names %s %zu times", config__keys[i].name, seen[i]);

	/* Uncommented, it loads and gives exactly the defaults. */
	const char *env[] = {NULL};
	const char *path = write_tmp("example.env", out, on);
	struct config a, b;
	struct err_info info = {0};
	if (config_load(&a, path, (char *const *)env, &info) != 0)
		fail_msg("uncommented .env.example: %s", info.msg);
	assert_int_equal(config_load(&b, EMPTY_ENV, (char *const *)env, &info), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	config_release(&a);
	config_release(&b);
	free(out);
	free(text);
}

/* ---- printing and names ---- */

static void test_print_keys(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	(void)state;
	assert_non_null(f);
	config_print_keys(f);
	assert_int_equal(fclose(f), 0);
	assert_true(strncmp(buf, "KEY ", 4) == 0);
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config_key *k = &config__keys[i];
		char want[128];
		snprintf(want, sizeof(want), "\n%s ", k->name);
		char *at = strstr(buf, want);
		if (!at)
			fail_msg("config_print_keys lacks %s", k->name);
		char *eol = strchr(at + 1, '\n');
		assert_non_null(eol);
		*eol = '\0';
		assert_non_null(strstr(at, k->help));
		if (k->def[0] && !(k->flags & CONFIG_F_SECRET))
			assert_non_null(strstr(at, k->def));
		*eol = '\n';
	}
	/* The help column starts at the same place on every line. */
	size_t col = (size_t)(strstr(buf, "DESCRIPTION") - buf);
	const char *line2 = strchr(buf, '\n') + 1;
	assert_string_equal(config__keys[0].name, "APP_ENV");
	assert_true(strncmp(line2 + col, config__keys[0].help, 10) == 0);
	free(buf);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(config_env_name(APP_ENV_DEV), "dev");
	assert_string_equal(config_env_name(APP_ENV_TEST), "test");
	assert_string_equal(config_env_name(APP_ENV_PROD), "prod");
	assert_string_equal(config_env_name((enum app_env)7), "unknown");
	assert_string_equal(config_mode_name(TRADING_PAPER), "paper");
	assert_string_equal(config_mode_name(TRADING_LIVE), "live");
	assert_string_equal(config_mode_name((enum trading_mode) - 1), "unknown");
	assert_null(config_key_name(SIZE_MAX));
}

static void test_release_safe(void **state)
{
	struct config cfg;
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	config_release(&cfg);
	config_release(&cfg);
	config_release(NULL);
}

static void test_distance(void **state)
{
	static const struct {
		const char *a, *b;
		size_t d;
	} cases[] = {
	    {"APP_PORT", "APP_PORT", 0},
	    {"APP_PROT", "APP_PORT", 1},
	    {"app_port", "APP_PORT", 0},
	    {"APP_POR", "APP_PORT", 1},
	    {"APPX_PORT", "APP_PORT", 1},
	    {"APP_HOST", "APP_PORT", 2},
	    {"", "ABC", 3},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(config__distance(cases[i].a, strlen(cases[i].a), cases[i].b,
						  strlen(cases[i].b)),
				 cases[i].d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_table_rows),
	    cmocka_unit_test(test_default_env_file),
	    cmocka_unit_test(test_named_file_missing),
	    cmocka_unit_test(test_quoted_fixture),
	    cmocka_unit_test(test_env_overrides_file),
	    cmocka_unit_test(test_syntax_fixture),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_good_values),
	    cmocka_unit_test(test_permissions_good),
	    cmocka_unit_test(test_bad_values),
	    /* the derived default (this comment also keeps clang-format to one test a line) */
	    cmocka_unit_test(test_detect_min_profit),
	    cmocka_unit_test(test_every_key_rejects),
	    cmocka_unit_test(test_enc_values),
	    cmocka_unit_test(test_enc_failures),
	    cmocka_unit_test(test_long_values),
	    cmocka_unit_test(test_dashboard),
	    cmocka_unit_test(test_env_example),
	    cmocka_unit_test(test_print_keys),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_release_safe),
	    cmocka_unit_test(test_distance),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

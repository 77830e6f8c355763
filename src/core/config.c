/* Configuration: the key table, the .env reader, and the rules between keys.
 *
 * Loading runs in four steps: every field from its row's default (parsed like
 * any other value, so a bad default fails the defaults test), then the .env
 * file and the environment collected into one raw value per key (the
 * environment replacing the file), then each raw value parsed into its field
 * (enc: values decrypted first), then the rules that span keys. */
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/config.h"
#include "core/config_int.h"
#include "core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef ARB_SHARE_DIR_DEFAULT
#define ARB_SHARE_DIR_DEFAULT "/usr/local/share/arbitrade"
#endif

#define ENV_FILE_DEFAULT ".env"
#define ENV_FILE_MAX	 (1u << 20)
#define CONFIG_MAX_KEYS	 96
#define SECRET_MAX	 4096
#define NAME_MAX_LEN	 64
#define ENC_PREFIX	 "enc:"

_Static_assert(LOG_LEVEL_DEBUG == 0 && LOG_LEVEL_INFO == 1 && LOG_LEVEL_WARN == 2 &&
		   LOG_LEVEL_ERROR == 3,
	       "level_names follows enum log_level");
_Static_assert(APP_ENV_DEV == 0 && APP_ENV_TEST == 1 && APP_ENV_PROD == 2,
	       "env_names follows enum app_env");
_Static_assert(TRADING_PAPER == 0 && TRADING_LIVE == 1, "mode_names follows enum trading_mode");
_Static_assert(sizeof(enum app_env) == sizeof(int) && sizeof(enum log_level) == sizeof(int) &&
		   sizeof(enum trading_mode) == sizeof(int),
	       "CONFIG_T_ENUM fields are int-sized");

static const char *const env_names[] = {"dev", "test", "prod", NULL};
static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};
static const char *const mode_names[] = {"paper", "live", NULL};
static const char *const tier_names[] = {"starter", "intermediate", "pro", NULL};
static const char *const unwind_names[] = {"home", "hold", NULL};
static const char *const jsync_names[] = {"after", "before", "off", NULL};
static const char *const exec_names[] = {"sequential", "inventory", NULL};
static const char *const depth_values[] = {"10", "25", "100", "500", "1000", NULL};
static const char *const ws_schemes[] = {"wss://", "ws://", NULL};
static const char *const http_schemes[] = {"https://", "http://", NULL};

static const char *const prefixes[] = {
    "APP_",  "LOG_",   "DUCKDB_", "FERNET_", "KRAKEN_", "TRADING_", "DASHBOARD_", "BOOK_", "ARB_",
    "RISK_", "PAPER_", "STORE_",  "AUDIT_",  "WEB_",	"EXEC_",    "SIM_",	  NULL};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_alnum(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* An asset code as Kraken's WS v2 writes it: letters, digits and '.'
 * (staking variants such as ETH2.S). */
/* A ws:// URL must name a loopback host (the simulator): plain text to
 * anywhere else would expose the session. The same rule as
 * kr_ws_url_parse, which core cannot call. */
static bool plain_ws_loopback(const char *url)
{
	const char *h = url + 5, *e;
	char host[64];
	if (*h == '[') {
		e = strchr(h, ']');
		return e && (size_t)(e - h) == 4 && memcmp(h, "[::1", 4) == 0;
	}
	e = h + strcspn(h, ":/?#");
	if ((size_t)(e - h) >= sizeof host)
		return false;
	memcpy(host, h, (size_t)(e - h));
	host[e - h] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (strncmp(host, "127.", 4) != 0)
		return false;
	int dots = 0;
	for (const char *p = host; *p; p++) {
		if (*p == '.')
			dots++;
		else if (*p < '0' || *p > '9')
			return false;
	}
	return dots == 3;
}

static bool asset_item(const char *s, size_t len)
{
	if (len == 0 || len > 16)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '.')
			return false;
	return true;
}

static bool symbol_item(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	if (!slash)
		return false;
	size_t blen = (size_t)(slash - s);
	return asset_item(s, blen) && asset_item(slash + 1, len - blen - 1);
}

/* ASSET=amount with a plain non-negative decimal amount. */
static bool balance_item(const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	if (!eq)
		return false;
	size_t alen = (size_t)(eq - s), i = alen + 1, digits = 0;
	if (!asset_item(s, alen))
		return false;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (digits == 0 || digits > 15)
		return false;
	if (i < len && s[i] == '.') {
		size_t frac = 0;
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			frac++;
		if (frac == 0 || frac > 18)
			return false;
	}
	return i == len;
}

/* A dashboard password hash: scrypt$N$r$p$<salt b64>$<hash b64>, as
 * `arbitrade secrets hash-password` prints (web_password_hash); N is a power
 * of two. web/auth.c parses it fully; this rejects a wrong form at load. */
static bool pwhash_item(const char *s, size_t len)
{
	size_t i = 7, f;
	uint64_t n = 0;

	if (len < 7 || memcmp(s, "scrypt$", 7) != 0)
		return false;
	for (f = 0; f < 5; f++) {
		size_t start = i, pad = 0;
		for (; i < len && s[i] != '$'; i++) {
			char c = s[i];
			bool digit = c >= '0' && c <= '9';
			if (f < 3 && (!digit || i - start > 8))
				return false;
			if (f == 0)
				n = n * 10 + (uint64_t)(c - '0');
			if (f >= 3 && c == '=')
				pad++;
			else if (f >= 3 &&
				 (pad || !(is_alnum((unsigned char)c) || c == '+' || c == '/')))
				return false;
		}
		/* base64 with or without its padding */
		if (i == start || (f >= 3 && ((i - start) % 4 == 1 || pad > 2)))
			return false;
		if ((f < 4) != (i < len))
			return false;
		i++;
	}
	return n >= 2 && (n & (n - 1)) == 0;
}

#define AT(m) .off = offsetof(struct config, m), .size = sizeof(((struct config *)0)->m)

const struct config_key config__keys[] = {
    {.name = "APP_ENV",
     .type = CONFIG_T_ENUM,
     .def = "dev",
     .choices = env_names,
     AT(app.env),
     .help = "deployment environment; DASHBOARD_AUTH=off is allowed only in dev"},
    {.name = "ARB_SHARE_DIR",
     .type = CONFIG_T_PATH,
     .def = ARB_SHARE_DIR_DEFAULT,
     AT(app.share_dir),
     .flags = CONFIG_F_BUILD_DEFAULT,
     .help = "directory holding the dashboard templates and static files (default: the "
	     "source tree, set at build time)"},
    {.name = "LOG_LEVEL",
     .type = CONFIG_T_ENUM,
     .def = "info",
     .choices = level_names,
     AT(log.level),
     .help = "lowest level written to the log"},
    {.name = "LOG_JSON",
     .type = CONFIG_T_BOOL,
     .def = "true",
     AT(log.json),
     .help = "log as JSON lines (false: readable text)"},
    {.name = "DUCKDB_PATH",
     .type = CONFIG_T_PATH,
     .def = "data/arbitrade.duckdb",
     AT(store.duckdb_path),
     .help = "DuckDB database file"},
    {.name = "STORE_BATCH_ROWS",
     .type = CONFIG_T_U32,
     .def = "2048",
     .min = 1,
     .max = 1048576,
     AT(store.batch_rows),
     .help = "most records the writer appends per flush"},
    {.name = "STORE_FLUSH_MS",
     .type = CONFIG_T_U32,
     .def = "200",
     .min = 1,
     .max = 60000,
     AT(store.flush_ms),
     .help = "longest a queued record waits before it is written"},
    {.name = "STORE_RING_CAPACITY",
     .type = CONFIG_T_U32,
     .def = "65536",
     .min = 1024,
     .max = 16777216,
     AT(store.ring_capacity),
     .flags = CONFIG_F_POW2,
     .help = "records queued for the writer at once"},
    {.name = "AUDIT_RETENTION_DAYS",
     .type = CONFIG_T_U32,
     .def = "90",
     .min = 1,
     .max = 36500,
     AT(store.audit_retention_days),
     .help = "days of audit history kept online (audit-archive default)"},
    {.name = "APP_HOST",
     .type = CONFIG_T_STRING,
     .def = "127.0.0.1",
     AT(web.host),
     .form = "a host name or IP address",
     .help = "address the dashboard listens on"},
    {.name = "APP_PORT",
     .type = CONFIG_T_U32,
     .def = "8080",
     .min = 1,
     .max = 65535,
     AT(web.port),
     .help = "dashboard HTTP port"},
    {.name = "DASHBOARD_AUTH",
     .type = CONFIG_T_BOOL,
     .def = "on",
     AT(web.auth),
     .help = "require a login for the dashboard; off is allowed only with APP_ENV=dev"},
    {.name = "DASHBOARD_USER",
     .type = CONFIG_T_STRING,
     .def = "",
     AT(web.user),
     .form = "a login name",
     .help = "dashboard login name; no default, required when auth is on"},
    {.name = "DASHBOARD_PASSWORD_HASH",
     .type = CONFIG_T_SECRET,
     .def = "",
     AT(web.password_hash),
     .flags = CONFIG_F_SECRET,
     .item = pwhash_item,
     .form = "the hash printed by `arbitrade secrets hash-password`",
     .help = "dashboard password hash (scrypt), plain or enc:<token>"},
    {.name = "DASHBOARD_SESSION_TTL_S",
     .type = CONFIG_T_U32,
     .def = "28800",
     .min = 60,
     .max = 604800,
     AT(web.session_ttl_s),
     .help = "dashboard session lifetime in seconds"},
    {.name = "DASHBOARD_SECURE_COOKIES",
     .type = CONFIG_T_BOOL,
     .def = "false",
     AT(web.tls),
     .help = "mark session cookies Secure (behind a TLS proxy)"},
    {.name = "KRAKEN_API_KEY",
     .type = CONFIG_T_SECRET,
     .def = "",
     AT(kraken.api_key),
     .flags = CONFIG_F_SECRET,
     .form = "the API key as Kraken shows it",
     .help = "Kraken API key, plain or enc:<token>; empty for paper trading"},
    {.name = "KRAKEN_API_SECRET",
     .type = CONFIG_T_SECRET,
     .def = "",
     AT(kraken.api_secret),
     .flags = CONFIG_F_SECRET | CONFIG_F_BASE64,
     .form = "standard base64 (A-Z a-z 0-9 + /, '=' padded to a multiple of 4)",
     .help = "Kraken API private key (base64), plain or enc:<token>"},
    {.name = "KRAKEN_API_KEY_PERMISSIONS",
     .type = CONFIG_T_PERMS,
     .def = "",
     AT(kraken.permissions),
     .help = "the key's permissions as granted on Kraken, e.g. "
	     "query_funds,query_open,trade,cancel,websocket"},
    {.name = "KRAKEN_WS_URL",
     .type = CONFIG_T_URL,
     .def = "wss://ws.kraken.com/v2",
     .choices = ws_schemes,
     AT(kraken.ws_url),
     .help = "public WebSocket v2 endpoint"},
    {.name = "KRAKEN_WS_AUTH_URL",
     .type = CONFIG_T_URL,
     .def = "wss://ws-auth.kraken.com/v2",
     .choices = ws_schemes,
     AT(kraken.ws_auth_url),
     .help = "authenticated WebSocket v2 endpoint"},
    {.name = "KRAKEN_REST_URL",
     .type = CONFIG_T_URL,
     .def = "https://api.kraken.com",
     .choices = http_schemes,
     AT(kraken.rest_url),
     .help = "REST API base URL"},
    {.name = "KRAKEN_NONCE_FILE",
     .type = CONFIG_T_PATH,
     .def = "",
     AT(kraken.nonce_file),
     .help = "file keeping the last REST nonce (empty: next to the database)"},
    {.name = "KRAKEN_REST_TIER",
     .type = CONFIG_T_CHOICE,
     .def = "starter",
     .choices = tier_names,
     AT(kraken.rest_tier),
     .help = "account verification tier, for the REST rate limits"},
    {.name = "KRAKEN_REST_TIMEOUT_MS",
     .type = CONFIG_T_U32,
     .def = "10000",
     .min = 100,
     .max = 120000,
     AT(kraken.rest_timeout_ms),
     .help = "REST request timeout"},
    {.name = "KRAKEN_WS_PING_INTERVAL_MS",
     .type = CONFIG_T_U32,
     .def = "20000",
     .min = 1000,
     .max = 600000,
     AT(kraken.ws_ping_interval_ms),
     .help = "send an application ping after this long without traffic"},
    {.name = "KRAKEN_WS_HEARTBEAT_TIMEOUT_MS",
     .type = CONFIG_T_U32,
     .def = "10000",
     .min = 1000,
     .max = 600000,
     AT(kraken.ws_heartbeat_timeout_ms),
     .help = "reconnect after this long without any message"},
    {.name = "KRAKEN_WS_RECONNECT_MIN_MS",
     .type = CONFIG_T_U32,
     .def = "1000",
     .min = 500,
     .max = 3600000,
     AT(kraken.ws_reconnect_min_ms),
     .help = "first reconnect delay (Cloudflare bans more than 150 connects in 10 minutes)"},
    {.name = "KRAKEN_WS_RECONNECT_MAX_MS",
     .type = CONFIG_T_U32,
     .def = "60000",
     .min = 500,
     .max = 3600000,
     AT(kraken.ws_reconnect_max_ms),
     .help = "longest reconnect delay after backoff; at least KRAKEN_WS_RECONNECT_MIN_MS"},
    {.name = "BOOK_SYMBOLS",
     .type = CONFIG_T_LIST,
     .def = "BTC/USD,ETH/USD,ETH/BTC",
     AT(book.symbols),
     .flags = CONFIG_F_ALL,
     .item = symbol_item,
     .form = "a comma list of BASE/QUOTE pairs, or all",
     .help = "pairs whose books are followed (all: every online pair)"},
    {.name = "BOOK_DEPTH",
     .type = CONFIG_T_U32,
     .def = "10",
     .choices = depth_values,
     AT(book.depth),
     .help = "order book depth subscribed per pair"},
    {.name = "ARB_HOME_ASSETS",
     .type = CONFIG_T_LIST,
     .def = "USD",
     AT(arb.home_assets),
     .item = asset_item,
     .form = "a comma list of asset codes",
     .help = "assets a cycle starts and ends in"},
    {.name = "ARB_TAKER_FEE_BPS",
     .type = CONFIG_T_DOUBLE,
     .def = "26",
     .min = 0,
     .max = 1000,
     AT(arb.taker_fee_bps),
     .help = "taker fee in basis points when the account tier is unknown"},
    {.name = "ARB_MIN_PROFIT_BPS",
     .type = CONFIG_T_DOUBLE,
     .def = "5",
     .min = 0,
     .max = 10000,
     AT(arb.min_profit_bps),
     .help = "smallest net profit in basis points worth executing"},
    /* The table has no "unset" double, so the default is empty: the field
     * stays 0 after the defaults, and derive_values() copies
     * ARB_MIN_PROFIT_BPS into it when no value was given. */
    {.name = "ARB_DETECT_MIN_PROFIT_BPS",
     .type = CONFIG_T_DOUBLE,
     .def = "",
     .min = 0,
     .max = 10000,
     AT(arb.detect_min_profit_bps),
     .help = "smallest net profit in basis points the detector reports (each one recorded); "
	     "risk rejects those below ARB_MIN_PROFIT_BPS as min_profit (empty: "
	     "ARB_MIN_PROFIT_BPS)"},
    {.name = "ARB_MAX_NOTIONAL",
     .type = CONFIG_T_DOUBLE,
     .def = "100",
     .min = 0,
     .max = 1e9,
     AT(arb.max_notional),
     .flags = CONFIG_F_POSITIVE,
     .help = "largest cycle size in home asset units"},
    {.name = "ARB_MAX_BOOK_AGE_MS",
     .type = CONFIG_T_U32,
     .def = "2000",
     .min = 1,
     .max = 600000,
     AT(arb.max_book_age_ms),
     .help = "books older than this are not traded on"},
    {.name = "ARB_SLIPPAGE_BPS",
     .type = CONFIG_T_DOUBLE,
     .def = "5",
     .min = 0,
     .max = 1000,
     AT(arb.slippage_bps),
     .help = "slippage allowance (and paper fill slippage) in basis points"},
    {.name = "ARB_UNWIND",
     .type = CONFIG_T_CHOICE,
     .def = "home",
     .choices = unwind_names,
     AT(arb.unwind),
     .help = "after a failed leg: trade back to the home asset, or hold"},
    {.name = "ARB_EXEC_MODE",
     .type = CONFIG_T_CHOICE,
     .def = "sequential",
     .choices = exec_names,
     AT(arb.exec_mode),
     .help = "send legs one after another, or all at once from held inventory"},
    {.name = "ARB_PAPER_LATENCY_MS",
     .type = CONFIG_T_U32,
     .def = "50",
     .min = 0,
     .max = 60000,
     AT(arb.paper_latency_ms),
     .help = "simulated order latency in paper mode"},
    {.name = "EXEC_JOURNAL_SYNC",
     .type = CONFIG_T_CHOICE,
     .def = "after",
     .choices = jsync_names,
     AT(arb.journal_sync),
     .help = "when an order's journaled intent is fdatasync'd: right after the order is "
	     "sent (a power loss in that instant can lose the line), before it is sent "
	     "(adds the disk's sync time to every order), or never (off: a process crash "
	     "loses nothing, a power loss may)"},
    {.name = "EXEC_BUSY_POLL",
     .type = CONFIG_T_BOOL,
     .def = "false",
     AT(arb.busy_poll),
     .help = "the execution thread never sleeps and runs the private connection itself "
	     "(a core of its own; opportunity to order on the wire about 15 us instead of "
	     "60); false: it sleeps after 50 ms idle and wakes on the next opportunity"},
    {.name = "RISK_MAX_EXPOSURE",
     .type = CONFIG_T_DOUBLE,
     .def = "500",
     .min = 0,
     .max = 1e9,
     AT(risk.max_exposure),
     .flags = CONFIG_F_POSITIVE,
     .help = "largest exposure open at once, home asset units"},
    {.name = "RISK_MAX_CYCLES_PER_MIN",
     .type = CONFIG_T_U32,
     .def = "10",
     .min = 1,
     .max = 10000,
     AT(risk.max_cycles_per_min),
     .help = "most cycles executed per minute"},
    {.name = "RISK_DAILY_LOSS_LIMIT",
     .type = CONFIG_T_DOUBLE,
     .def = "50",
     .min = 0,
     .max = 1e9,
     AT(risk.daily_loss_limit),
     .flags = CONFIG_F_POSITIVE,
     .help = "trading stops after losing this much in a UTC day, home asset units"},
    {.name = "RISK_MAX_CONSECUTIVE_FAILURES",
     .type = CONFIG_T_U32,
     .def = "3",
     .min = 1,
     .max = 1000,
     AT(risk.max_consecutive_failures),
     .help = "trading halts after this many failed cycles in a row"},
    {.name = "RISK_KILL_FILE",
     .type = CONFIG_T_PATH,
     .def = "data/KILL",
     AT(risk.kill_file),
     .help = "trading stops while this file exists"},
    {.name = "RISK_DEADMAN_TIMEOUT_S",
     .type = CONFIG_T_U32,
     .def = "60",
     .min = 10,
     .max = 86400,
     AT(risk.deadman_timeout_s),
     .help = "Kraken cancels all orders unless refreshed within this (cancel_all_orders_after)"},
    {.name = "TRADING_MODE",
     .type = CONFIG_T_ENUM,
     .def = "paper",
     .choices = mode_names,
     AT(trading_mode),
     .help = "paper simulates fills; live sends orders to Kraken"},
    {.name = "PAPER_STARTING_BALANCES",
     .type = CONFIG_T_LIST,
     .def = "USD=1000",
     AT(paper_balances),
     .item = balance_item,
     .form = "a comma list of ASSET=amount",
     .help = "paper account balances at start"},
    {.name = "FERNET_KEY",
     .type = CONFIG_T_SECRET,
     .def = "",
     AT(fernet_key),
     .flags = CONFIG_F_SECRET | CONFIG_F_FERNET_KEY | CONFIG_F_NO_ENC,
     .form = "a 44-character Fernet key from `arbitrade secrets genkey`",
     .help = "key for enc: values; overrides FERNET_KEY_FILE"},
    {.name = "FERNET_KEY_FILE",
     .type = CONFIG_T_PATH,
     .def = "",
     AT(fernet_key_file),
     .flags = CONFIG_F_NO_ENC,
     .help = "Fernet key file (empty: $XDG_CONFIG_HOME/arbitrade/fernet.key)"},
};

const size_t config__nkeys = sizeof(config__keys) / sizeof(config__keys[0]);

_Static_assert(sizeof(config__keys) / sizeof(config__keys[0]) <= CONFIG_MAX_KEYS,
	       "raise CONFIG_MAX_KEYS");

size_t config_key_count(void)
{
	return config__nkeys;
}

const char *config_key_name(size_t i)
{
	return i < config__nkeys ? config__keys[i].name : NULL;
}

const struct config_key *config__find(const char *name, size_t len)
{
	for (size_t i = 0; i < config__nkeys; i++)
		if (strlen(config__keys[i].name) == len &&
		    memcmp(config__keys[i].name, name, len) == 0)
			return &config__keys[i];
	return NULL;
}

const char *config_env_name(enum app_env e)
{
	return (unsigned)e < 3 ? env_names[e] : "unknown";
}

const char *config_mode_name(enum trading_mode m)
{
	return (unsigned)m < 2 ? mode_names[m] : "unknown";
}

static void join_choices(const char *const *c, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; c[i] && n < cap; i++) {
		int w = snprintf(buf + n, cap - n, "%s%s", i ? "|" : "", c[i]);
		if (w < 0)
			return;
		n += (size_t)w;
	}
}

void config__form(const struct config_key *k, char *buf, size_t cap)
{
	char list[96];

	switch (k->type) {
	case CONFIG_T_STRING:
		snprintf(buf, cap, "%s without spaces, at most %zu characters",
			 k->form ? k->form : "text", k->size - 1);
		return;
	case CONFIG_T_PATH:
		snprintf(buf, cap, "a file path of at most %zu characters", k->size - 1);
		return;
	case CONFIG_T_URL:
		join_choices(k->choices, list, sizeof(list));
		snprintf(buf, cap, "a URL starting %s, at most %zu characters", list, k->size - 1);
		return;
	case CONFIG_T_BOOL:
		snprintf(buf, cap, "true|false (or on|off, yes|no, 1|0)");
		return;
	case CONFIG_T_ENUM:
	case CONFIG_T_CHOICE:
		join_choices(k->choices, list, sizeof(list));
		snprintf(buf, cap, "one of %s", list);
		return;
	case CONFIG_T_U32:
		if (k->choices) {
			join_choices(k->choices, list, sizeof(list));
			snprintf(buf, cap, "one of %s", list);
		} else {
			snprintf(buf, cap, "%s %.0f..%.0f",
				 k->flags & CONFIG_F_POW2 ? "a power of two" : "an integer", k->min,
				 k->max);
		}
		return;
	case CONFIG_T_DOUBLE:
		if (k->flags & CONFIG_F_POSITIVE)
			snprintf(buf, cap, "a number > %.15g and <= %.15g", k->min, k->max);
		else
			snprintf(buf, cap, "a number %.15g..%.15g", k->min, k->max);
		return;
	case CONFIG_T_SECRET:
	case CONFIG_T_LIST:
		snprintf(buf, cap, "%s", k->form ? k->form : "text");
		return;
	case CONFIG_T_PERMS:
		snprintf(buf, cap,
			 "a comma list of Kraken permission names including query and "
			 "trade, and no withdraw scope");
		return;
	}
	snprintf(buf, cap, "a valid value");
}

/* Optimal string alignment distance: Levenshtein plus adjacent
 * transpositions, so APP_PROT is one edit from APP_PORT. */
size_t config__distance(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t d0[NAME_MAX_LEN + 1], d1[NAME_MAX_LEN + 1], d2[NAME_MAX_LEN + 1];
	size_t *pp = d0, *prev = d1, *cur = d2;

	if (alen > NAME_MAX_LEN || blen > NAME_MAX_LEN)
		return SIZE_MAX;
	for (size_t j = 0; j <= blen; j++)
		prev[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= blen; j++) {
			size_t v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + (lower(a[i - 1]) != lower(b[j - 1])) < v)
				v = prev[j - 1] + (lower(a[i - 1]) != lower(b[j - 1]));
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
		}
		size_t *t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[blen];
}

static bool has_prefix(const char *name, size_t len)
{
	for (size_t i = 0; prefixes[i]; i++) {
		size_t pl = strlen(prefixes[i]);
		if (len >= pl && strncasecmp(name, prefixes[i], pl) == 0)
			return true;
	}
	return false;
}

/* Where a value came from, for messages. */
struct origin {
	const char *file; /* NULL: the environment (line 0) or a default (line -1) */
	int line;
};

static void origin_text(const struct origin *o, char *buf, size_t cap)
{
	if (o->file)
		snprintf(buf, cap, "%.80s line %d", o->file, o->line);
	else
		snprintf(buf, cap, "%s", o->line < 0 ? "default" : "environment");
}

/* The value as shown in a message: printable characters only, at most 48 of
 * them, or [redacted]. */
static void show_value(const char *v, size_t len, bool redact, char *buf, size_t cap)
{
	size_t n = 0;
	if (redact) {
		snprintf(buf, cap, "%s", LOG_REDACTED);
		return;
	}
	for (size_t i = 0; i < len && n + 4 < cap; i++) {
		if (n == 48) {
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		unsigned char c = (unsigned char)v[i];
		buf[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[n] = '\0';
}

static int key_error(struct err_info *info, const struct config_key *k, const char *v, size_t len,
		     bool redact, const struct origin *o, const char *detail)
{
	char shown[64], form[160], where[112];
	show_value(v, len, redact, shown, sizeof(shown));
	config__form(k, form, sizeof(form));
	origin_text(o, where, sizeof(where));
	return err_set(info, ERR_CONFIG, "%s=%s: %s%sexpected %s (%s)", k->name, shown,
		       detail ? detail : "", detail ? "; " : "", form, where);
}

static bool valid_base64(const char *s, size_t n)
{
	size_t pad = 0;
	if (n == 0 || n % 4 != 0 || n > INT_MAX / 2)
		return false;
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_alnum(c) && c != '+' && c != '/')
			return false;
	}
	size_t outlen = n / 4 * 3;
	unsigned char *out = malloc(outlen);
	if (!out)
		return false;
	int r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	OPENSSL_cleanse(out, outlen);
	free(out);
	return r >= 0 && (size_t)r == outlen && outlen > pad;
}

static const struct {
	const char *name;
	unsigned bits;
} perm_names[] = {
    {"query", KRAKEN_PERM_QUERY_FUNDS | KRAKEN_PERM_QUERY_OPEN},
    {"query_funds", KRAKEN_PERM_QUERY_FUNDS},
    {"funds_query", KRAKEN_PERM_QUERY_FUNDS},
    {"query_open", KRAKEN_PERM_QUERY_OPEN},
    {"trades_query_open", KRAKEN_PERM_QUERY_OPEN},
    {"query_closed", KRAKEN_PERM_QUERY_CLOSED},
    {"trades_query_closed", KRAKEN_PERM_QUERY_CLOSED},
    {"trade", KRAKEN_PERM_TRADE | KRAKEN_PERM_CANCEL},
    {"create", KRAKEN_PERM_TRADE},
    {"trades_modify", KRAKEN_PERM_TRADE},
    {"cancel", KRAKEN_PERM_CANCEL},
    {"trades_close", KRAKEN_PERM_CANCEL},
    {"websocket", KRAKEN_PERM_WEBSOCKET},
    {"withdraw", KRAKEN_PERM_WITHDRAW},
    {"funds_withdraw", KRAKEN_PERM_WITHDRAW},
    {"deposit", KRAKEN_PERM_DEPOSIT},
    {"funds_add", KRAKEN_PERM_DEPOSIT},
    {"earn", KRAKEN_PERM_EARN},
    {"funds_earn", KRAKEN_PERM_EARN},
    {"ledger_query", KRAKEN_PERM_LEDGER},
    {"export_data", KRAKEN_PERM_EXPORT},
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits s (NUL terminated) on commas; calls fn for each item with the
 * surrounding blanks trimmed. Stops at the first nonzero return. */
static int each_item(const char *s, int (*fn)(const char *it, size_t len, void *arg), void *arg)
{
	for (;;) {
		const char *comma = strchr(s, ',');
		const char *e = comma ? comma : s + strlen(s);
		const char *b = s;
		while (b < e && is_ws(*b))
			b++;
		while (e > b && is_ws(e[-1]))
			e--;
		int rc = fn(b, (size_t)(e - b), arg);
		if (rc != 0 || !comma)
			return rc;
		s = comma + 1;
	}
}

struct perm_acc {
	unsigned bits;
	char *detail;
	size_t cap;
	bool redact;
};

static int perm_one(const char *it, size_t len, void *arg)
{
	struct perm_acc *a = arg;
	if (len == 0) {
		snprintf(a->detail, a->cap, "empty permission name");
		return ERR_CONFIG;
	}
	for (size_t i = 0; i + 8 <= len; i++) {
		if (strncasecmp(it + i, "withdraw", 8) == 0) {
			snprintf(a->detail, a->cap,
				 "withdrawal scopes are never allowed: use a key without Withdraw "
				 "Funds");
			return ERR_CONFIG;
		}
	}
	for (size_t i = 0; i < sizeof(perm_names) / sizeof(perm_names[0]); i++) {
		if (strlen(perm_names[i].name) == len &&
		    strncasecmp(perm_names[i].name, it, len) == 0) {
			a->bits |= perm_names[i].bits;
			return 0;
		}
	}
	if (a->redact)
		snprintf(a->detail, a->cap, "unknown permission name");
	else
		snprintf(a->detail, a->cap, "unknown permission '%.*s'", (int)(len > 32 ? 32 : len),
			 it);
	return ERR_CONFIG;
}

struct list_acc {
	const struct config_key *k;
	char *out;
	size_t cap, n;
	char *detail;
	size_t dcap;
	bool redact;
};

static int list_one(const char *it, size_t len, void *arg)
{
	struct list_acc *a = arg;
	if (len == 0) {
		snprintf(a->detail, a->dcap, "empty item");
		return ERR_CONFIG;
	}
	if (!a->k->item(it, len)) {
		if (a->redact)
			snprintf(a->detail, a->dcap, "bad item");
		else
			snprintf(a->detail, a->dcap, "bad item '%.*s'", (int)(len > 32 ? 32 : len),
				 it);
		return ERR_CONFIG;
	}
	if (a->n + len + 2 > a->cap) {
		snprintf(a->detail, a->dcap, "too long");
		return ERR_CONFIG;
	}
	if (a->n)
		a->out[a->n++] = ',';
	memcpy(a->out + a->n, it, len);
	a->n += len;
	a->out[a->n] = '\0';
	return 0;
}

static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Parses v (len bytes, NUL terminated at len) into k's field. Returns 0 or
 * ERR_CONFIG / ERR_NOMEM with a reason in detail; with redact the reason
 * never quotes the value. */
static int parse_into(struct config *cfg, const struct config_key *k, const char *v, size_t len,
		      bool redact, char *detail, size_t dcap)
{
	char *field = (char *)cfg + k->off;
	char tmp[CONFIG_LIST + 1];
	detail[0] = '\0';

	if (k->type == CONFIG_T_SECRET) {
		if (len > SECRET_MAX) {
			snprintf(detail, dcap, "too long");
			return ERR_CONFIG;
		}
		if ((k->flags & CONFIG_F_BASE64) && !valid_base64(v, len)) {
			snprintf(detail, dcap, "not valid base64");
			return ERR_CONFIG;
		}
		if (k->item && len > 0 && !k->item(v, len)) {
			snprintf(detail, dcap, "not in the expected form");
			return ERR_CONFIG;
		}
		if (k->flags & CONFIG_F_FERNET_KEY) {
			struct err_info sub = {0};
			struct fernet *f = fernet_new(v, len, &sub);
			if (!f) {
				snprintf(detail, dcap, "not a Fernet key");
				return ERR_CONFIG;
			}
			fernet_free(f);
		}
		struct secret *s = secret_new(v, len);
		if (!s) {
			snprintf(detail, dcap, "out of memory");
			return ERR_NOMEM;
		}
		struct secret **slot = (struct secret **)(void *)field;
		secret_free(*slot);
		*slot = s;
		return 0;
	}
	if (strlen(v) != len) {
		snprintf(detail, dcap, "contains a NUL byte");
		return ERR_CONFIG;
	}
	if (has_control(v, len)) {
		snprintf(detail, dcap, "contains a control character");
		return ERR_CONFIG;
	}

	switch (k->type) {
	case CONFIG_T_STRING:
	case CONFIG_T_PATH:
	case CONFIG_T_URL:
		if (len >= k->size) {
			snprintf(detail, dcap, "too long");
			return ERR_CONFIG;
		}
		if (k->type == CONFIG_T_URL) {
			bool ok = false;
			for (size_t i = 0; k->choices[i] && !ok; i++) {
				size_t sl = strlen(k->choices[i]);
				ok = len > sl && strncasecmp(v, k->choices[i], sl) == 0;
			}
			if (!ok || memchr(v, ' ', len)) {
				snprintf(detail, dcap, "not a URL with a supported scheme");
				return ERR_CONFIG;
			}
		}
		if (k->type == CONFIG_T_STRING && memchr(v, ' ', len)) {
			snprintf(detail, dcap, "contains a space");
			return ERR_CONFIG;
		}
		memcpy(field, v, len);
		field[len] = '\0';
		return 0;
	case CONFIG_T_BOOL: {
		static const char *const yes[] = {"true", "on", "yes", "1", NULL};
		static const char *const no[] = {"false", "off", "no", "0", NULL};
		for (size_t i = 0; yes[i]; i++) {
			if (strcasecmp(v, yes[i]) == 0) {
				*(bool *)(void *)field = true;
				return 0;
			}
			if (strcasecmp(v, no[i]) == 0) {
				*(bool *)(void *)field = false;
				return 0;
			}
		}
		return ERR_CONFIG;
	}
	case CONFIG_T_ENUM:
	case CONFIG_T_CHOICE:
		for (int i = 0; k->choices[i]; i++) {
			if (strcasecmp(v, k->choices[i]) != 0)
				continue;
			if (k->type == CONFIG_T_ENUM) {
				memcpy(field, &i, sizeof(i));
			} else {
				size_t cl = strlen(k->choices[i]);
				if (cl >= k->size)
					return ERR_CONFIG;
				memcpy(field, k->choices[i], cl + 1);
			}
			return 0;
		}
		return ERR_CONFIG;
	case CONFIG_T_U32: {
		uint64_t n = 0;
		if (len == 0 || len > 10)
			return ERR_CONFIG;
		for (size_t i = 0; i < len; i++) {
			if (v[i] < '0' || v[i] > '9')
				return ERR_CONFIG;
			n = n * 10 + (uint64_t)(v[i] - '0');
		}
		if (k->choices) {
			char canon[24];
			bool ok = false;
			snprintf(canon, sizeof(canon), "%llu", (unsigned long long)n);
			for (size_t i = 0; k->choices[i] && !ok; i++)
				ok = strcmp(canon, k->choices[i]) == 0;
			if (!ok)
				return ERR_CONFIG;
		} else if ((double)n < k->min || (double)n > k->max) {
			snprintf(detail, dcap, "out of range");
			return ERR_CONFIG;
		}
		if ((k->flags & CONFIG_F_POW2) && (n == 0 || (n & (n - 1)) != 0)) {
			snprintf(detail, dcap, "not a power of two");
			return ERR_CONFIG;
		}
		if (k->size == sizeof(uint16_t)) {
			uint16_t u = (uint16_t)n;
			memcpy(field, &u, sizeof(u));
		} else {
			uint32_t u = (uint32_t)n;
			memcpy(field, &u, sizeof(u));
		}
		return 0;
	}
	case CONFIG_T_DOUBLE: {
		char *end = NULL;
		if (len == 0 || len > 32 || strspn(v, "0123456789.eE+-") != len)
			return ERR_CONFIG;
		errno = 0;
		double d = strtod(v, &end);
		if (end != v + len || errno != 0 || !isfinite(d))
			return ERR_CONFIG;
		if (d < k->min || d > k->max || ((k->flags & CONFIG_F_POSITIVE) && d <= k->min)) {
			snprintf(detail, dcap, "out of range");
			return ERR_CONFIG;
		}
		memcpy(field, &d, sizeof(d));
		return 0;
	}
	case CONFIG_T_LIST: {
		if ((k->flags & CONFIG_F_ALL)) {
			const char *b = v, *e = v + len;
			while (b < e && is_ws(*b))
				b++;
			while (e > b && is_ws(e[-1]))
				e--;
			if (e - b == 3 && strncasecmp(b, "all", 3) == 0) {
				memcpy(field, "all", 4);
				return 0;
			}
		}
		struct list_acc a = {.k = k,
				     .out = tmp,
				     .cap = k->size < sizeof(tmp) ? k->size : sizeof(tmp),
				     .detail = detail,
				     .dcap = dcap,
				     .redact = redact};
		tmp[0] = '\0';
		if (each_item(v, list_one, &a) != 0)
			return ERR_CONFIG;
		memcpy(field, tmp, a.n + 1);
		return 0;
	}
	case CONFIG_T_PERMS: {
		struct perm_acc a = {.detail = detail, .cap = dcap, .redact = redact};
		unsigned bits;
		if (each_item(v, perm_one, &a) != 0)
			return ERR_CONFIG;
		bits = a.bits;
		if ((bits & KRAKEN_PERM_QUERY_FUNDS) && (bits & KRAKEN_PERM_QUERY_OPEN))
			bits |= KRAKEN_PERM_QUERY;
		memcpy(field, &bits, sizeof(bits));
		return 0;
	}
	case CONFIG_T_SECRET:
		break;
	}
	return ERR_CONFIG;
}

struct raw {
	const char *v; /* NULL: not given */
	struct origin o;
};

struct loader {
	struct config *cfg;
	struct err_info *info;
	struct raw raw[CONFIG_MAX_KEYS];
	char *buf; /* the .env file, values parsed in place; wiped at the end */
	size_t buflen;
	const char *file;
	struct fernet *fernet;
};

static int unknown_key(struct loader *ld, const char *name, size_t len, const struct origin *o)
{
	char where[112];
	const char *best = NULL;
	size_t bestd = SIZE_MAX;

	origin_text(o, where, sizeof(where));
	for (size_t i = 0; i < config__nkeys; i++) {
		const char *kn = config__keys[i].name;
		size_t d = config__distance(name, len, kn, strlen(kn));
		if (d < bestd) {
			bestd = d;
			best = kn;
		}
	}
	int shown = (int)(len > NAME_MAX_LEN ? NAME_MAX_LEN : len);
	/* The value is not shown: it may be a mistyped secret. */
	if (best && (bestd <= 2 || (bestd <= 3 && len >= 12)))
		return err_set(ld->info, ERR_CONFIG,
			       "unknown key %.*s (%s): did you mean %s? expected a key listed in "
			       ".env.example",
			       shown, name, where, best);
	return err_set(ld->info, ERR_CONFIG,
		       "unknown key %.*s (%s): expected a key listed in .env.example (its prefix "
		       "is reserved for Arbitrade)",
		       shown, name, where);
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > NAME_MAX_LEN || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static int record(struct loader *ld, const char *name, size_t len, const char *v,
		  const struct origin *o)
{
	const struct config_key *k = config__find(name, len);
	if (!k)
		return has_prefix(name, len) ? unknown_key(ld, name, len, o) : 0;
	ld->raw[k - config__keys] = (struct raw){.v = v, .o = *o};
	return 0;
}

static char *skip_ws(char *s)
{
	while (is_ws(*s))
		s++;
	return s;
}

static int parse_error(struct loader *ld, int line, const char *what)
{
	return err_set(ld->info, ERR_PARSE, "%.120s line %d: %s", ld->file, line, what);
}

/* One line of the .env file, NUL terminated in the buffer. The key and the
 * value are cut out in place (the unescaped value is never longer). Messages
 * never quote the line: it may hold a secret. */
static int parse_line(struct loader *ld, char *s, int line)
{
	s = skip_ws(s);
	if (*s == '\0' || *s == '#')
		return 0;
	if (strncmp(s, "export", 6) == 0 && is_ws(s[6]))
		s = skip_ws(s + 6);
	char *eq = strchr(s, '=');
	if (!eq)
		return parse_error(ld, line, "expected KEY=VALUE, found no '='");
	char *kend = eq;
	while (kend > s && is_ws(kend[-1]))
		kend--;
	size_t klen = (size_t)(kend - s);
	if (!valid_name(s, klen))
		return parse_error(ld, line,
				   "invalid key name: expected letters, digits and '_', not "
				   "starting with a digit");

	char *v = skip_ws(eq + 1), *rest = NULL;
	if (*v == '"') {
		char *w = v, *r = v + 1;
		for (;; r++) {
			if (*r == '\0')
				return parse_error(ld, line,
						   "unterminated double quote: expected a "
						   "closing \" on the same line");
			if (*r == '"')
				break;
			if (*r == '\\') {
				r++;
				switch (*r) {
				case 'n':
					*w++ = '\n';
					break;
				case 't':
					*w++ = '\t';
					break;
				case '"':
				case '\\':
					*w++ = *r;
					break;
				default:
					return parse_error(
					    ld, line,
					    "unknown escape in double quotes: expected "
					    "\\n \\t \\\" or \\\\ (single quotes take text "
					    "literally)");
				}
				continue;
			}
			*w++ = *r;
		}
		*w = '\0';
		rest = r + 1;
	} else if (*v == '\'') {
		char *q = strchr(v + 1, '\'');
		if (!q)
			return parse_error(ld, line,
					   "unterminated single quote: expected a "
					   "closing ' on the same line");
		size_t n = (size_t)(q - v - 1);
		memmove(v, v + 1, n);
		v[n] = '\0';
		rest = q + 1;
	} else {
		char *e = v;
		while (*e && !(*e == '#' && is_ws(e[-1])))
			e++;
		while (e > v && is_ws(e[-1]))
			e--;
		*e = '\0';
	}
	if (rest) {
		rest = skip_ws(rest);
		if (*rest != '\0' && *rest != '#')
			return parse_error(ld, line,
					   "unexpected text after the closing quote: "
					   "expected end of line or a # comment");
	}
	struct origin o = {.file = ld->file, .line = line};
	return record(ld, s, klen, v, &o);
}

/* Reads path into ld->buf. Returns 0, 1 when an optional file is absent, or
 * -errno / ERR_RANGE with info filled. */
static int read_env_file(struct loader *ld, const char *path, bool required)
{
	struct stat st;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ENOENT && !required)
			return 1;
		return err_set(ld->info, rc, "cannot open env file %.120s: %s", path,
			       strerror(-rc));
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		err_set(ld->info, rc, "cannot stat env file %.120s: %s", path, strerror(-rc));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)ENV_FILE_MAX) {
		rc = err_set(ld->info, ERR_RANGE,
			     "env file %.120s: expected a regular file of at most %u bytes", path,
			     ENV_FILE_MAX);
		goto cleanup;
	}
	ld->buf = malloc((size_t)st.st_size + 1);
	if (!ld->buf) {
		rc = err_set(ld->info, ERR_NOMEM, "env file %.120s: out of memory", path);
		goto cleanup;
	}
	while (ld->buflen < (size_t)st.st_size) {
		ssize_t n = read(fd, ld->buf + ld->buflen, (size_t)st.st_size - ld->buflen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			err_set(ld->info, rc, "cannot read env file %.120s: %s", path,
				strerror(-rc));
			goto cleanup;
		}
		if (n == 0)
			break;
		ld->buflen += (size_t)n;
	}
	ld->buf[ld->buflen] = '\0';
cleanup:
	close(fd);
	return rc;
}

static int parse_env_file(struct loader *ld)
{
	char *p = ld->buf, *end = ld->buf + ld->buflen;
	int line = 0;

	const char *nul = memchr(ld->buf, '\0', ld->buflen);
	if (nul) {
		int at = 1;
		for (const char *c = ld->buf; c < nul; c++)
			at += *c == '\n';
		return parse_error(ld, at, "NUL byte: expected text");
	}
	if (ld->buflen >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;
		line++;
		*eol = '\0';
		if (eol > p && eol[-1] == '\r')
			eol[-1] = '\0';
		int rc = parse_line(ld, p, line);
		if (rc != 0)
			return rc;
		p = eol + 1;
	}
	return 0;
}

static int read_environment(struct loader *ld, char *const *envp)
{
	static const struct origin env = {.file = NULL, .line = 0};
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i], *eq = strchr(e, '=');
		if (!eq || eq == e)
			continue;
		int rc = record(ld, e, (size_t)(eq - e), eq + 1, &env);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static const char *raw_or_empty(const struct loader *ld, const char *name)
{
	const struct config_key *k = config__find(name, strlen(name));
	const char *v = k ? ld->raw[k - config__keys].v : NULL;
	return v ? v : "";
}

static int decrypt_value(struct loader *ld, const struct config_key *k, const char *token,
			 const struct origin *o, struct secret **plain)
{
	struct err_info sub = {0};
	char where[112];
	int rc;

	origin_text(o, where, sizeof(where));
	if (!ld->fernet) {
		rc = fernet_key_load(raw_or_empty(ld, "FERNET_KEY"),
				     raw_or_empty(ld, "FERNET_KEY_FILE"), false, &ld->fernet, &sub);
		if (rc != 0)
			return err_set(ld->info, ERR_CONFIG,
				       "%s=enc:%s: no Fernet key to decrypt it (%.100s); expected "
				       "FERNET_KEY or a readable FERNET_KEY_FILE (%s)",
				       k->name, LOG_REDACTED, sub.msg[0] ? sub.msg : err_str(rc),
				       where);
	}
	rc = fernet_decrypt(ld->fernet, token, strlen(token), (int64_t)time(NULL), 0, plain, &sub);
	if (rc != 0)
		return err_set(ld->info, ERR_CONFIG,
			       "%s=enc:%s: cannot decrypt (%s); expected a token from `arbitrade "
			       "secrets encrypt` under the configured Fernet key (%s)",
			       k->name, LOG_REDACTED, err_str(rc), where);
	return 0;
}

static int load_value(struct loader *ld, const struct config_key *k)
{
	const struct raw *r = &ld->raw[k - config__keys];
	struct secret *plain = NULL;
	char detail[96];
	char tmp[CONFIG_LIST + 1];
	const char *v = r->v;
	size_t len;
	bool redact = (k->flags & CONFIG_F_SECRET) != 0;
	int rc = 0;

	if (!v || !*v)
		return 0; /* an empty value stands for the default */
	len = strlen(v);
	if (strncmp(v, ENC_PREFIX, strlen(ENC_PREFIX)) == 0) {
		if (k->flags & CONFIG_F_NO_ENC)
			return key_error(ld->info, k, v, len, true, &r->o,
					 "cannot itself be enc: (it unlocks the enc: values)");
		rc = decrypt_value(ld, k, v + strlen(ENC_PREFIX), &r->o, &plain);
		if (rc != 0)
			return rc;
		/* A value stored encrypted is treated as a secret from here on. */
		redact = true;
		len = secret_len(plain);
		if (k->type == CONFIG_T_SECRET) {
			v = (const char *)secret__bytes(plain);
		} else {
			if (len >= sizeof(tmp)) {
				rc = key_error(ld->info, k, "", 0, true, &r->o, "too long");
				goto cleanup;
			}
			memcpy(tmp, secret__bytes(plain), len);
			tmp[len] = '\0';
			v = tmp;
		}
	}
	rc = parse_into(ld->cfg, k, v, len, redact, detail, sizeof(detail));
	if (rc != 0)
		rc = rc == ERR_NOMEM
			 ? err_set(ld->info, rc, "%s: out of memory", k->name)
			 : key_error(ld->info, k, v, len, redact, &r->o, detail[0] ? detail : NULL);
cleanup:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	OPENSSL_cleanse(detail, sizeof(detail));
	secret_free(plain);
	return rc;
}

static int load_defaults(struct loader *ld)
{
	static const struct origin def = {.file = NULL, .line = -1};
	char detail[96];
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config_key *k = &config__keys[i];
		if (!k->def[0] || k->type == CONFIG_T_SECRET)
			continue;
		size_t len = strlen(k->def);
		if (parse_into(ld->cfg, k, k->def, len, false, detail, sizeof(detail)) != 0)
			return key_error(ld->info, k, k->def, len, false, &def,
					 detail[0] ? detail : NULL);
	}
	return 0;
}

/* The value of name as given, for rule messages: "" when unset, redacted
 * when it was encrypted. */
static const char *given(const struct loader *ld, const char *name)
{
	const char *v = raw_or_empty(ld, name);
	return strncmp(v, ENC_PREFIX, strlen(ENC_PREFIX)) == 0 ? LOG_REDACTED : v;
}

/* Values whose default is another key's value, once every key is parsed. */
static void derive_values(struct loader *ld)
{
	struct config *c = ld->cfg;
	if (!raw_or_empty(ld, "ARB_DETECT_MIN_PROFIT_BPS")[0])
		c->arb.detect_min_profit_bps = c->arb.min_profit_bps;
}

static int check_rules(struct loader *ld)
{
	const struct config *c = ld->cfg;
	bool key = !secret_empty(c->kraken.api_key), sec = !secret_empty(c->kraken.api_secret);
	char shown[64];

	if (key && !sec)
		return err_set(ld->info, ERR_CONFIG,
			       "KRAKEN_API_SECRET=: empty while KRAKEN_API_KEY=%s is set; expected "
			       "both set or both empty",
			       LOG_REDACTED);
	if (sec && !key)
		return err_set(ld->info, ERR_CONFIG,
			       "KRAKEN_API_KEY=: empty while KRAKEN_API_SECRET=%s is set; expected "
			       "both set or both empty",
			       LOG_REDACTED);

	const char *perms = given(ld, "KRAKEN_API_KEY_PERMISSIONS");
	if (key || perms[0]) {
		unsigned p = c->kraken.permissions;
		const char *missing =
		    !(p & KRAKEN_PERM_QUERY) && !(p & KRAKEN_PERM_TRADE) ? "query and trade"
		    : !(p & KRAKEN_PERM_QUERY) ? "query (query_funds and query_open)"
		    : !(p & KRAKEN_PERM_TRADE) ? "trade (create & modify orders)"
					       : NULL;
		if (missing) {
			show_value(perms, strlen(perms), false, shown, sizeof(shown));
			return err_set(
			    ld->info, ERR_CONFIG,
			    "KRAKEN_API_KEY_PERMISSIONS=%s: missing %s; expected the "
			    "key's permissions (required with a key) including query and "
			    "trade, e.g. "
			    "query_funds,query_open,trade,cancel,websocket",
			    shown, missing);
		}
	}
	if (c->trading_mode == TRADING_LIVE && !key)
		return err_set(ld->info, ERR_CONFIG,
			       "TRADING_MODE=live: no credentials; expected KRAKEN_API_KEY and "
			       "KRAKEN_API_SECRET set (or TRADING_MODE=paper)");
	if (strncmp(c->kraken.ws_url, "ws://", 5) == 0 && !plain_ws_loopback(c->kraken.ws_url))
		return err_set(ld->info, ERR_CONFIG,
			       "KRAKEN_WS_URL=%s: plain ws:// is only allowed to a loopback host "
			       "(127.0.0.0/8, ::1, localhost); expected wss://",
			       c->kraken.ws_url);
	if (strncmp(c->kraken.ws_auth_url, "ws://", 5) == 0 &&
	    !plain_ws_loopback(c->kraken.ws_auth_url))
		return err_set(ld->info, ERR_CONFIG,
			       "KRAKEN_WS_AUTH_URL=%s: plain ws:// is only allowed to a loopback "
			       "host (127.0.0.0/8, ::1, localhost); expected wss://",
			       c->kraken.ws_auth_url);
	if (c->kraken.ws_reconnect_max_ms < c->kraken.ws_reconnect_min_ms)
		return err_set(ld->info, ERR_CONFIG,
			       "KRAKEN_WS_RECONNECT_MAX_MS=%u: expected at least "
			       "KRAKEN_WS_RECONNECT_MIN_MS (%u)",
			       c->kraken.ws_reconnect_max_ms, c->kraken.ws_reconnect_min_ms);
	/* A detect threshold above the trade one would hide opportunities risk
	 * would trade: the detector reports, risk only narrows. */
	if (c->arb.detect_min_profit_bps > c->arb.min_profit_bps) {
		const char *min = given(ld, "ARB_MIN_PROFIT_BPS");
		if (!min[0]) {
			snprintf(shown, sizeof(shown), "%.15g", c->arb.min_profit_bps);
			min = shown;
		}
		return err_set(
		    ld->info, ERR_CONFIG,
		    "ARB_DETECT_MIN_PROFIT_BPS=%s: above ARB_MIN_PROFIT_BPS=%s; expected "
		    "at most ARB_MIN_PROFIT_BPS (or empty for the same value)",
		    given(ld, "ARB_DETECT_MIN_PROFIT_BPS"), min);
	}
	if (!c->web.auth && c->app.env != APP_ENV_DEV)
		return err_set(ld->info, ERR_CONFIG,
			       "DASHBOARD_AUTH=off: expected on unless APP_ENV=dev (APP_ENV=%s)",
			       config_env_name(c->app.env));
	return 0;
}

int config_load(struct config *cfg, const char *env_file, char *const *envp, struct err_info *info)
{
	struct loader *ld = calloc(1, sizeof(*ld));
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!ld)
		return err_set(info, ERR_NOMEM, "configuration: out of memory");
	ld->cfg = cfg;
	ld->info = info;
	ld->file = env_file ? env_file : ENV_FILE_DEFAULT;

	rc = load_defaults(ld);
	if (rc != 0)
		goto cleanup;
	rc = read_env_file(ld, ld->file, env_file != NULL);
	if (rc < 0)
		goto cleanup;
	rc = ld->buf ? parse_env_file(ld) : 0;
	if (rc != 0)
		goto cleanup;
	rc = read_environment(ld, envp);
	if (rc != 0)
		goto cleanup;
	/* The keys that unlock enc: values first, so a bad FERNET_KEY is
	 * reported as itself rather than as every encrypted value. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < config__nkeys; i++) {
			const struct config_key *k = &config__keys[i];
			if (((k->flags & CONFIG_F_NO_ENC) != 0) != (pass == 0))
				continue;
			rc = load_value(ld, k);
			if (rc != 0)
				goto cleanup;
		}
	}
	derive_values(ld);
	rc = check_rules(ld);
cleanup:
	fernet_free(ld->fernet);
	if (ld->buf) {
		OPENSSL_cleanse(ld->buf, ld->buflen);
		free(ld->buf);
	}
	free(ld);
	if (rc != 0)
		config_release(cfg);
	return rc;
}

void config_release(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config_key *k = &config__keys[i];
		if (k->type != CONFIG_T_SECRET)
			continue;
		struct secret **slot = (struct secret **)(void *)((char *)cfg + k->off);
		secret_free(*slot);
		*slot = NULL;
	}
}

int config_check_dashboard(const struct config *cfg, struct err_info *info)
{
	bool user = cfg->web.user[0] != '\0', hash = !secret_empty(cfg->web.password_hash);

	if (!cfg->web.auth)
		return 0;
	if (!user && !hash)
		return err_set(info, ERR_CONFIG,
			       "DASHBOARD_USER= and DASHBOARD_PASSWORD_HASH=: no dashboard "
			       "credentials; expected both set while DASHBOARD_AUTH=on (there are "
			       "no defaults; `arbitrade secrets hash-password` makes the hash)");
	if (!user)
		return err_set(info, ERR_CONFIG,
			       "DASHBOARD_USER=: empty while DASHBOARD_PASSWORD_HASH is set; "
			       "expected a login name while DASHBOARD_AUTH=on");
	if (!hash)
		return err_set(info, ERR_CONFIG,
			       "DASHBOARD_PASSWORD_HASH=: empty while DASHBOARD_USER is set; "
			       "expected the hash from `arbitrade secrets hash-password` while "
			       "DASHBOARD_AUTH=on");
	return 0;
}

/* Markdown table cells: '|' would end the cell. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', f);
		fputc(*s, f);
	}
}

void config_print_keys_markdown(FILE *f)
{
	char form[160];

	fprintf(f, "| key | default | meaning |\n|---|---|---|\n");
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config_key *k = &config__keys[i];
		const char *def = (k->flags & CONFIG_F_SECRET) ? "" : k->def;
		/* The build-time path differs per checkout; name it instead. */
		if (strcmp(k->def, ARB_SHARE_DIR_DEFAULT) == 0)
			def = "(the source tree)";
		config__form(k, form, sizeof(form));
		fprintf(f, "| `%s` | ", k->name);
		if (def[0]) {
			fputc('`', f);
			md_cell(f, def);
			fputc('`', f);
		}
		fputs(" | ", f);
		md_cell(f, k->help);
		fputs("; ", f);
		md_cell(f, form);
		fputs(" |\n", f);
	}
}

void config_print_keys(FILE *f)
{
	size_t kw = strlen("KEY"), dw = strlen("DEFAULT");
	char form[160];

	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config_key *k = &config__keys[i];
		size_t dl = (k->flags & CONFIG_F_SECRET) ? 0 : strlen(k->def);
		if (strlen(k->name) > kw)
			kw = strlen(k->name);
		if (dl > dw && dl <= 32)
			dw = dl;
	}
	fprintf(f, "%-*s  %-*s  %s\n", (int)kw, "KEY", (int)dw, "DEFAULT", "DESCRIPTION");
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config_key *k = &config__keys[i];
		config__form(k, form, sizeof(form));
		fprintf(f, "%-*s  %-*s  %s; %s\n", (int)kw, k->name, (int)dw,
			(k->flags & CONFIG_F_SECRET) ? "" : k->def, k->help, form);
	}
}

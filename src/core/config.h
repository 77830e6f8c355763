/* Configuration: one table of keys (config.c), values from a .env file and the
 * environment, the environment winning. Loaded once at start-up and never
 * changed; each module gets a const pointer to its own part.
 *
 * Every error names the key, the value (never a secret's: secrets show as
 * [redacted]) and the expected form; the caller exits with status 2. An
 * unknown key with one of the project's prefixes (APP_, KRAKEN_, ARB_, LOG_,
 * DUCKDB_, FERNET_, TRADING_, DASHBOARD_, BOOK_, PAPER_, RISK_, STORE_, WEB_,
 * AUDIT_, EXEC_, SIM_) is an error, so a typo cannot pass silently; the
 * error suggests the closest known key. Other names (PATH, HOME...) are
 * ignored.
 *
 * The .env file holds KEY=VALUE lines: '#' starts a comment line, blank lines
 * are skipped, an optional `export ` prefix is allowed, whitespace around the
 * key and an unquoted value is trimmed, and " #" ends an unquoted value. A
 * value may be 'single quoted' (literal) or "double quoted" (escapes \n \t
 * \" \\). A value spans one line. A key given twice in the file: the last
 * line wins. The environment overrides the file. An empty value, wherever
 * it comes from, stands for the key's default. A value written
 * enc:<fernet token> is decrypted at load with FERNET_KEY, or else the key
 * file (FERNET_KEY_FILE or the default path; never created here). */
#ifndef ARB_CORE_CONFIG_H
#define ARB_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/log.h"

#define CONFIG_STR  256
#define CONFIG_PATH 512
#define CONFIG_LIST 2048

enum app_env { APP_ENV_DEV, APP_ENV_TEST, APP_ENV_PROD };
enum trading_mode { TRADING_PAPER, TRADING_LIVE };

struct app_cfg {
	enum app_env env;
	char share_dir[CONFIG_PATH]; /* templates, static files (ARB_SHARE_DIR) */
};

struct log_cfg {
	enum log_level level;
	bool json;
};

struct store_cfg {
	char duckdb_path[CONFIG_PATH];
	uint32_t batch_rows;	       /* STORE_BATCH_ROWS: appends per flush at most */
	uint32_t flush_ms;	       /* STORE_FLUSH_MS: longest a record waits */
	uint32_t ring_capacity;	       /* STORE_RING_CAPACITY: records queued at once */
	uint32_t audit_retention_days; /* AUDIT_RETENTION_DAYS: archive default */
};

struct web_cfg {
	char host[CONFIG_STR]; /* APP_HOST */
	uint16_t port;	       /* APP_PORT */
	bool auth;	       /* DASHBOARD_AUTH: off only allowed with APP_ENV=dev */
	char user[CONFIG_STR]; /* DASHBOARD_USER */
	/* DASHBOARD_PASSWORD_HASH (scrypt, from secrets hash-password) */
	struct secret *password_hash;
	uint32_t session_ttl_s; /* DASHBOARD_SESSION_TTL_S */
	bool tls;		/* DASHBOARD_SECURE_COOKIES: behind a TLS proxy */
};

/* Bits of KRAKEN_API_KEY_PERMISSIONS. */
enum kraken_perm {
	KRAKEN_PERM_QUERY = 1u << 0, /* query funds / orders */
	KRAKEN_PERM_TRADE = 1u << 1, /* create & modify, cancel */
	KRAKEN_PERM_WEBSOCKET = 1u << 2,
	KRAKEN_PERM_WITHDRAW = 1u << 3, /* never allowed */
	/* Finer scopes, as Kraken names them. QUERY is set when both QUERY_FUNDS
	 * and QUERY_OPEN are; TRADE when create & modify is granted. */
	KRAKEN_PERM_CANCEL = 1u << 4,	    /* cancel, trades_close */
	KRAKEN_PERM_QUERY_FUNDS = 1u << 5,  /* query_funds, funds_query */
	KRAKEN_PERM_QUERY_OPEN = 1u << 6,   /* query_open, trades_query_open */
	KRAKEN_PERM_QUERY_CLOSED = 1u << 7, /* query_closed, trades_query_closed */
	KRAKEN_PERM_LEDGER = 1u << 8,	    /* ledger_query */
	KRAKEN_PERM_EXPORT = 1u << 9,	    /* export_data */
	KRAKEN_PERM_DEPOSIT = 1u << 10,	    /* deposit, funds_add */
	KRAKEN_PERM_EARN = 1u << 11,	    /* earn, funds_earn */
};

struct kraken_cfg {
	struct secret *api_key;	   /* KRAKEN_API_KEY; NULL when unset */
	struct secret *api_secret; /* KRAKEN_API_SECRET, base64 text as given */
	unsigned permissions;	   /* KRAKEN_API_KEY_PERMISSIONS as enum kraken_perm bits */
	char ws_url[CONFIG_STR];
	char ws_auth_url[CONFIG_STR];
	char rest_url[CONFIG_STR];
	char nonce_file[CONFIG_PATH];	  /* KRAKEN_NONCE_FILE; empty = next to the database */
	char rest_tier[16];		  /* KRAKEN_REST_TIER: starter|intermediate|pro */
	uint32_t rest_timeout_ms;	  /* KRAKEN_REST_TIMEOUT_MS */
	uint32_t ws_ping_interval_ms;	  /* KRAKEN_WS_PING_INTERVAL_MS: app ping when idle */
	uint32_t ws_heartbeat_timeout_ms; /* KRAKEN_WS_HEARTBEAT_TIMEOUT_MS: watchdog */
	uint32_t ws_reconnect_min_ms;	  /* KRAKEN_WS_RECONNECT_MIN_MS */
	uint32_t ws_reconnect_max_ms;	  /* KRAKEN_WS_RECONNECT_MAX_MS */
};

struct book_cfg {
	char symbols[CONFIG_LIST]; /* BOOK_SYMBOLS: comma list, or "all" online pairs */
	uint32_t depth;		   /* BOOK_DEPTH: 10|25|100|500|1000 */
};

struct arb_cfg {
	char home_assets[CONFIG_STR]; /* ARB_HOME_ASSETS: comma list */
	double taker_fee_bps;	      /* ARB_TAKER_FEE_BPS: when no account tier is known */
	double min_profit_bps;	      /* ARB_MIN_PROFIT_BPS: what risk lets trade */
	double detect_min_profit_bps; /* ARB_DETECT_MIN_PROFIT_BPS; unset: min_profit_bps */
	double max_notional;	      /* ARB_MAX_NOTIONAL: per cycle, home asset units */
	uint32_t max_book_age_ms;     /* ARB_MAX_BOOK_AGE_MS */
	double slippage_bps;	      /* ARB_SLIPPAGE_BPS */
	char unwind[16];	      /* ARB_UNWIND: home|hold */
	char exec_mode[16];	      /* ARB_EXEC_MODE: sequential|inventory */
	uint32_t paper_latency_ms;    /* ARB_PAPER_LATENCY_MS */
	char journal_sync[8];	      /* EXEC_JOURNAL_SYNC: after|before|off */
	bool busy_poll;		      /* EXEC_BUSY_POLL: the execution thread never sleeps */
};

struct risk_cfg {
	double max_exposure;		   /* RISK_MAX_EXPOSURE: home units open at once */
	uint32_t max_cycles_per_min;	   /* RISK_MAX_CYCLES_PER_MIN */
	double daily_loss_limit;	   /* RISK_DAILY_LOSS_LIMIT: home units */
	uint32_t max_consecutive_failures; /* RISK_MAX_CONSECUTIVE_FAILURES */
	char kill_file[CONFIG_PATH];	   /* RISK_KILL_FILE: kill switch when it exists */
	uint32_t deadman_timeout_s;	   /* RISK_DEADMAN_TIMEOUT_S: cancel_all_orders_after */
};

struct config {
	struct app_cfg app;
	struct log_cfg log;
	struct store_cfg store;
	struct web_cfg web;
	struct kraken_cfg kraken;
	struct book_cfg book;
	struct arb_cfg arb;
	struct risk_cfg risk;
	enum trading_mode trading_mode;	   /* TRADING_MODE: paper|live */
	char paper_balances[CONFIG_LIST];  /* PAPER_STARTING_BALANCES: "USD=1000,BTC=0.1" */
	char fernet_key_file[CONFIG_PATH]; /* FERNET_KEY_FILE */
	struct secret *fernet_key;	   /* FERNET_KEY */
};

/* Loads defaults, then env_file (NULL: ".env" in the working directory, and a
 * missing default file is not an error; a named file must exist), then the
 * environment (envp, NULL-terminated KEY=VALUE strings, usually environ),
 * decrypts enc:<fernet token> values, and checks every rule. On error returns
 * ERR_CONFIG (or ERR_PARSE/-errno) with info naming key, value and expected
 * form; cfg is then released. Call config_release when done. */
int config_load(struct config *cfg, const char *env_file, char *const *envp, struct err_info *info);

/* Frees the secrets held by cfg (wiped). Safe on a zeroed or released cfg. */
void config_release(struct config *cfg);

/* Writes every key with default and help to f (for --help and README), as an
 * aligned table; secrets' defaults are shown empty. */
void config_print_keys(FILE *f);
/* The same table as Markdown (README's configuration section). */
void config_print_keys_markdown(FILE *f);

/* "dev"/"test"/"prod" and "paper"/"live"; "unknown" out of range. Static. */
const char *config_env_name(enum app_env e);
const char *config_mode_name(enum trading_mode m);

/* The dashboard's login rule, for the app to call before it starts the web
 * server: with DASHBOARD_AUTH=on both DASHBOARD_USER and
 * DASHBOARD_PASSWORD_HASH must be set (there are no default credentials).
 * DASHBOARD_AUTH=off passes (config_load allows it only with APP_ENV=dev).
 * Returns 0 or ERR_CONFIG with info naming the keys. Any thread. */
int config_check_dashboard(const struct config *cfg, struct err_info *info);

/* The key table, in order, for tools and tests: the number of keys and the
 * i-th key's name (static; NULL when i >= config_key_count()). */
size_t config_key_count(void);
const char *config_key_name(size_t i);

#endif

/* Internal to src/sim/account.c and src/sim/rest.c: the accounts' state.
 * Everything here is guarded by sim__lock. Other sim files use the
 * functions declared in sim_int.h. */
#ifndef ARB_SIM_ACCOUNT_H
#define ARB_SIM_ACCOUNT_H

#include "core/secret.h"
#include "sim/sim_int.h"

/* Permission bits of a simulated key (PROTOCOL.md §11). */
enum {
	SIM_PERM_QUERY_FUNDS = 1u << 0,
	SIM_PERM_QUERY_OPEN = 1u << 1,
	SIM_PERM_QUERY_CLOSED = 1u << 2,
	SIM_PERM_TRADE = 1u << 3,
	SIM_PERM_CANCEL = 1u << 4,
	SIM_PERM_WEBSOCKET = 1u << 5,
	SIM_PERM_ALL = 0x3f,
};

struct sim_account {
	char api_key[SIM_KEY_MAX];
	struct secret *api_secret; /* base64 text, as the client holds it */
	unsigned perms;
	int taker_bps, maker_bps;
	size_t nassets;
	struct sim_balance bal[SIM_ASSETS_MAX];
	uint64_t last_nonce;
	double rate_level, rate_max, rate_decay; /* REST call counter */
	uint64_t rate_t_ns;			 /* monotonic */
	int64_t deadman_ns;			 /* 0 = off; wall clock */
	char token[48];
	int64_t token_expires_ns;
};

struct sim_rest_srv;

struct sim_accounts {
	size_t n;
	struct sim_account *acct;
	struct sim_order *orders; /* SIM_ORDERS_MAX, in placement order (a ring) */
	size_t norders, head;	  /* live records and the oldest's index */
	uint64_t seq;		  /* txids and exec ids */
	sim_exec_fn listen;
	void *listen_ctx;
	struct sim_rest_srv *rest; /* rest.c */
	unsigned delay_n, delay_ms;
};

/* The state (NULL before sim__accounts_init). */
struct sim_accounts *sim__accts(struct sim *s);
/* The account's balance entry for asset, created when create is true
 * (NULL when full or absent). */
struct sim_balance *sim__bal(struct sim_account *a, const char *asset, bool create);

#endif

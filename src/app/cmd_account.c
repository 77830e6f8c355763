/* `arbitrade account`: balances, fee tier and open orders of the configured
 * key, from KRAKEN_REST_URL (Kraken or the simulator). The key and secret
 * are never printed; failures get one line saying what to do. */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app_int.h"
#include "core/err.h"
#include "core/log.h"
#include "kraken/rest.h"

static int usage_error(const char *msg)
{
	fprintf(stderr, "arbitrade account: %s (see arbitrade account --help)\n", msg);
	return APP_USAGE;
}

/* One line for the failures people meet, from Kraken's text in info. */
static void explain(const struct config *cfg, const char *nonce_path, int rc,
		    const struct err_info *info)
{
	const char *m = info->msg;

	if (strncmp(m, "EAPI:Invalid key", 16) == 0)
		fprintf(stderr,
			"account: Kraken does not know this API key (EAPI:Invalid key): check "
			"KRAKEN_API_KEY and that the key was not deleted\n");
	else if (strncmp(m, "EAPI:Invalid signature", 22) == 0)
		fprintf(
		    stderr,
		    "account: the request signature was refused (EAPI:Invalid signature): check "
		    "that KRAKEN_API_SECRET is the base64 private key of this API key\n");
	else if (strncmp(m, "EAPI:Invalid nonce", 18) == 0)
		fprintf(
		    stderr,
		    "account: Kraken refused the nonce (EAPI:Invalid nonce): another process may "
		    "be using this API key, or %s holds a mark below the key's last nonce; use "
		    "one API key per process, or set a nonce window on the key\n",
		    nonce_path);
	else if (strncmp(m, "EGeneral:Temporary lockout", 26) == 0)
		fprintf(stderr, "account: Kraken locked the key out for a while after repeated "
				"invalid keys (EGeneral:Temporary lockout); wait, then check "
				"KRAKEN_API_KEY\n");
	else if (rc == ERR_REJECTED)
		fprintf(stderr,
			"account: permission denied (%s): the key needs Query Funds and Query Open "
			"Orders & Trades\n",
			m);
	else if (rc == ERR_NET || rc == ERR_TIMEOUT)
		fprintf(stderr, "account: cannot reach %s: %s\n", cfg->kraken.rest_url, m);
	else if (rc == ERR_RATELIMIT)
		fprintf(stderr, "account: rate limited by Kraken (%s); wait a minute and retry\n",
			m);
	else
		fprintf(stderr, "account: %s\n", m[0] ? m : err_str(rc));
}

static int nonce_path(const struct config *cfg, char *out, size_t cap, struct err_info *info)
{
	char dbdir[CONFIG_PATH];

	if (cfg->kraken.nonce_file[0]) {
		if ((size_t)snprintf(out, cap, "%s", cfg->kraken.nonce_file) >= cap)
			return err_set(info, ERR_RANGE, "KRAKEN_NONCE_FILE: too long");
		return 0;
	}
	/* Next to the database, one file per key. */
	snprintf(dbdir, sizeof(dbdir), "%s", cfg->store.duckdb_path);
	return kr_nonce_default_path(cfg->kraken.api_key, dirname(dbdir), out, cap) == 0
		   ? 0
		   : err_set(info, ERR_RANGE, "nonce file path: too long");
}

static void print_dec(const char *label, struct kr_dec d)
{
	char buf[40];

	if (kr_dec_format(d, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "?");
	printf("%s%s", label, buf);
}

static int show(struct kr_rest *c, const struct config *cfg, struct err_info *info)
{
	struct kr_rest_balances *b = calloc(1, sizeof(*b));
	struct kr_rest_trade_volume *tv = calloc(1, sizeof(*tv));
	struct kr_rest_orders open = {0};
	const char *pairs = strcmp(cfg->book.symbols, "all") == 0 ? NULL : cfg->book.symbols;
	int rc;

	if (!b || !tv) {
		rc = err_set(info, ERR_NOMEM, "out of memory");
		goto cleanup;
	}
	rc = kr_rest_balance_ex(c, b, info);
	if (rc)
		goto cleanup;
	printf("Balances (%s):\n", cfg->kraken.rest_url);
	if (b->n == 0)
		printf("  (none)\n");
	for (size_t i = 0; i < b->n; i++) {
		printf("  %-10s", b->v[i].asset);
		print_dec(" ", b->v[i].balance);
		if (b->v[i].hold_trade.v)
			print_dec("  held by orders ", b->v[i].hold_trade);
		printf("\n");
	}
	rc = kr_rest_trade_volume(c, pairs, tv, info);
	if (rc)
		goto cleanup;
	printf("Fee tier: 30-day volume %s", tv->currency);
	print_dec(" ", tv->volume);
	printf("\n");
	for (size_t i = 0; i < tv->n; i++)
		printf("  %-12s taker %.2f bps  maker %.2f bps\n", tv->fees[i].pair,
		       kr_rest_fee_bps(tv->fees[i].fee), kr_rest_fee_bps(tv->fees[i].maker_fee));
	if (tv->n == 0)
		printf("  (no pairs asked: set BOOK_SYMBOLS to see per-pair fees)\n");
	rc = kr_rest_open_orders(c, NULL, &open, info);
	if (rc)
		goto cleanup;
	printf("Open orders: %zu\n", open.n);
	for (size_t i = 0; i < open.n; i++) {
		const struct kr_rest_order *o = &open.v[i];

		printf("  %-20s %-10s %s", o->txid, kr_order_status_str(o->status),
		       o->descr[0] ? o->descr : o->pair);
		print_dec("  filled ", o->vol_exec);
		print_dec(" of ", o->vol);
		printf("\n");
	}
cleanup:
	kr_rest_orders_free(&open);
	free(tv);
	free(b);
	return rc;
}

int app__cmd_account(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"env-file", required_argument, NULL, 'e'},
	    {NULL, 0, NULL, 0},
	};
	struct config cfg = {0};
	struct err_info info = {0};
	struct kr_nonce *nonce = NULL;
	struct kr_rest *c = NULL;
	struct kr_rest_opts o = {0};
	const char *env_file = NULL;
	char npath[CONFIG_PATH + 64] = "";
	int ch, rc, ret = APP_FAIL;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'e')
			return usage_error("unknown option");
		env_file = optarg;
	}
	if (optind < argc)
		return usage_error("unexpected argument");
	rc = app__load_config(&cfg, env_file);
	if (rc != APP_OK)
		return rc;
	if (secret_empty(cfg.kraken.api_key) || secret_empty(cfg.kraken.api_secret)) {
		fprintf(stderr, "account: no API credentials: set KRAKEN_API_KEY and "
				"KRAKEN_API_SECRET (see .env.example)\n");
		goto cleanup;
	}
	if (nonce_path(&cfg, npath, sizeof(npath), &info)) {
		fprintf(stderr, "account: %s\n", info.msg);
		goto cleanup;
	}
	nonce = kr_nonce_open(npath, NULL, &info);
	if (!nonce) {
		fprintf(stderr, "account: nonce file: %s\n", info.msg);
		goto cleanup;
	}
	o.base_url = cfg.kraken.rest_url;
	o.api_key = cfg.kraken.api_key;
	o.api_secret = cfg.kraken.api_secret;
	o.nonce = nonce;
	o.timeout_ms = cfg.kraken.rest_timeout_ms;
	o.tier = cfg.kraken.rest_tier;
	c = kr_rest_new(&o, &info);
	if (!c) {
		fprintf(stderr, "account: %s\n", info.msg);
		goto cleanup;
	}
	rc = show(c, &cfg, &info);
	if (rc) {
		explain(&cfg, npath, rc, &info);
		goto cleanup;
	}
	ret = APP_OK;
cleanup:
	kr_rest_free(c);
	kr_nonce_free(nonce);
	config_release(&cfg);
	return ret;
}

/* Shared by the sim module's .c files only: the seams between the simulator's
 * parts, which are written by different hands.
 *
 *   sim.c, market.c, scenario.c, ws_public.c, control.c  the server loop
 *       (libwebsockets, one service thread), the scenario, the books, the
 *       public WS v2 side and the fault/control endpoint;
 *   account.c, rest.c  balances, orders and the matching engine, and the
 *       REST side (libmicrohttpd, its own thread);
 *   ws_private.c  the private WS v2 side (auth endpoint, executions,
 *       balances, add_order...), on the server loop.
 *
 * Locking: the market (pairs and books) and the accounts are one state shared
 * by the WS thread and the REST thread; every access holds sim__lock(). The
 * simulator is not on the bot's hot path, so a mutex is the plain choice. */
#ifndef ARB_SIM_SIM_INT_H
#define ARB_SIM_SIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "book/book.h"
#include "core/err.h"
#include "kraken/codec.h"
#include "sim/sim.h"

/* ---- The shared state lock (sim.c) ---- */
void sim__lock(struct sim *s);
void sim__unlock(struct sim *s);

/* ---- Market (market.c), under sim__lock ---- */
/* Pairs of the universe, dense index 0..n-1. Borrowed until sim_free. */
size_t sim__pair_count(const struct sim *s);
const struct kr_pair *sim__pair(const struct sim *s, size_t i);
/* Index of symbol ("BTC/USD"), or -1. */
long sim__pair_find(const struct sim *s, const char *symbol);
/* The simulator's own full book for pair i (the truth it publishes);
 * borrowed, valid while the lock is held. */
const struct book *sim__book(const struct sim *s, size_t i);
/* Takes liquidity from pair i's book after a fill: removes qty from the
 * levels the order walked (side: the book side consumed, 'b' bids or 'a'
 * asks) so the next WS update publishes the change with a correct checksum. */
int sim__book_consume(struct sim *s, size_t i, char side, int64_t limit_price, int64_t qty);
/* The system status now (scripted faults may change it). */
enum kr_system_status sim__system_status(const struct sim *s);

/* ---- The scenario (sim.c keeps the file's text for the life of the sim) ---- */
const char *sim__scenario_text(const struct sim *s, size_t *len);

/* ---- Accounts and REST (account.c, rest.c) ---- */
struct sim_accounts;
/* The slot in struct sim where account.c keeps its state. */
struct sim_accounts **sim__accounts_slot(struct sim *s);
/* Builds the accounts from the scenario's "accounts" section (API keys,
 * base64 secrets, balances, fee tiers) and stores them in the slot. Called by
 * sim_new after the market is built; sim__accounts_free by sim_free. */
int sim__accounts_init(struct sim *s, struct err_info *info);
void sim__accounts_free(struct sim *s);
/* Starts the REST server on host:port (0 = any free port) and reports the
 * bound port. Called by sim_new after the market is built. */
int sim__rest_start(struct sim *s, const char *host, uint16_t port, uint16_t *bound,
		    struct err_info *info);
/* Stops it (joins its threads). Called by sim_free; safe when not started. */
void sim__rest_stop(struct sim *s);

#endif

/* A local Kraken exchange on loopback: WS v2 (public and private) and REST,
 * speaking the protocol as ../shared/kraken/PROTOCOL.md documents it, with
 * market data from a scenario file and faults on cue. It serves the
 * integration tests, the offline demo and the reconnect benchmark.
 *
 * `arbitrade sim --scenario FILE [--host 127.0.0.1] [--ws-port N]
 *  [--rest-port N] [--seed N]` runs one; port 0 (the default) picks a free
 * port. Once listening it prints one JSON line on stdout and flushes it:
 *   {"event":"ready","ws_url":"ws://127.0.0.1:P/v2",
 *    "ws_auth_url":"ws://127.0.0.1:P/v2-auth",
 *    "rest_url":"http://127.0.0.1:R","control_url":"http://127.0.0.1:P/control"}
 * Only loopback addresses are accepted for --host.
 *
 * The WS port serves, through one libwebsockets context and one service
 * thread: WS v2 on /v2 and /v2-auth (status on connect, heartbeat each second
 * once subscribed, ping/pong, subscribe/unsubscribe acks one per symbol,
 * `instrument` snapshot, `book` snapshot and updates at depth 10, 25, 100,
 * 500 or 1000 with Kraken's CRC32 over the top 10 levels, numbers printed
 * with exactly the pair's precision), and plain HTTP on /control:
 *   POST /control/drop                       close every WS connection
 *   POST /control/corrupt_checksum?symbol=S  the next update of S has a wrong checksum
 *   POST /control/malformed                  one malformed frame to each public connection
 *   POST /control/stall?ms=N                 send nothing at all for N ms
 *   POST /control/status?value=online|maintenance|cancel_only|post_only
 *   POST /control/window?cycle=USD,BTC,ETH&bps=60&ms=3000
 *   POST /control/reject_next[?error=EOrder:...]  the next WS add_order is refused
 *   POST /control/partial_next?ratio=0.5     the next WS add_order fills only that share
 *   POST /control/delay_ack?ms=N             the next WS add_order is handled N ms late
 *   GET  /control/state                      {"connections":N,"subscriptions":{"book":[...]},
 *        "books":{"BTC/USD":{"checksum":N,"bids":[[p,q],...],"asks":[...]}},
 *        "system_status":"online","messages_sent":N}
 * Each answers 200 with a JSON body, or 400 {"error":"..."} naming the bad
 * parameter (404 for an unknown path).
 *
 * Scenario file (JSON object; unknown keys are errors, amounts may be JSON
 * numbers or strings):
 *   "seed"          integer, default 1 (--seed overrides)
 *   "volatility_bps_per_sec"  the assets' random walk, default 5
 *   "level_notional"          typical size of one level in the reference
 *                             asset (the first pair's quote), default 2000
 *   "universe": [ one object per pair:
 *     "symbol","base","quote"            "BTC/USD","BTC","USD"
 *     "price_precision","qty_precision"  integers
 *     "price_increment","qty_increment","qty_min","cost_min"  decimals
 *     "cost_precision"   integer, default min(price+qty precision, 18)
 *     "status"           pair status, default "online"
 *     "mid"              starting mid price (quote per base); a pair whose
 *                        base and quote are both priced by earlier pairs
 *                        takes its mid from them (cross pairs stay consistent)
 *     "updates_per_sec"  book updates per second, default 5
 *     "levels"           levels per side, default 30 (at most 1000)
 *     "spread_bps"       best bid to best ask, default 10
 *     "replay"           optional: a recording (lines {"recv_ts":..,"msg":{..}}
 *                        as `arbitrade record` writes them; path relative to
 *                        the scenario file) whose book messages for this
 *                        symbol are replayed at their recorded pace, looping ]
 *   "windows": [ {"at_ms":5000,"cycle":["USD","BTC","ETH"],"bps":60,"ms":3000} ]
 *       at at_ms after start, one leg of the cycle (a pair without the
 *       cycle's first asset when there is one) is moved so the cycle's
 *       top-of-book product of rates is about 1 + bps/10000 before fees, for ms
 *       (a replayed pair follows its recording and is never moved)
 *   "faults": [ {"at_ms":N,"kind":"drop"|"corrupt_checksum"|"malformed"|
 *       "stall"|"status", "symbol":"BTC/USD" (corrupt_checksum),
 *       "ms":N (stall), "value":"maintenance" (status)} ]
 *   "accounts", "fees": read by the accounts side (account.c), see there.
 * Outside windows every pair's mid is the ratio of its assets' values, so a
 * cycle's product of top-of-book rates stays below 1 by about the spreads. */
#ifndef ARB_SIM_SIM_H
#define ARB_SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct sim;

struct sim_opts {
	const char *scenario_path; /* required; borrowed for sim_new */
	const char *host;	   /* loopback address to bind; NULL = "127.0.0.1" */
	uint16_t ws_port;	   /* 0 = a free port */
	uint16_t rest_port;	   /* 0 = a free port */
	bool has_seed;		   /* seed overrides the scenario's "seed" */
	uint64_t seed;
};

/* Loads the scenario, builds the market, binds the WS/HTTP port and starts
 * the REST server (sim__rest_start). Returns owned (sim_free), or NULL with
 * info filled (ERR_INVALID: a non-loopback host or bad option; ERR_PARSE /
 * ERR_SCHEMA: the scenario, naming the field; -errno: the file or a socket).
 * Nothing is served until sim_run. */
struct sim *sim_new(const struct sim_opts *opts, struct err_info *info);

/* Runs the server loop on the calling thread until sim_stop. Returns 0, or
 * ERR_BADSTATE when already stopped before it started serving. */
int sim_run(struct sim *s);

/* Asks sim_run to return (within one 10 ms tick). Async-signal-safe and
 * thread-safe: it only sets an atomic flag. */
void sim_stop(struct sim *s);

/* Stops the REST server, frees everything. After sim_run returned (or
 * without it). sim_free(NULL) does nothing. */
void sim_free(struct sim *s);

/* The bound ports (after sim_new). */
uint16_t sim_ws_port(const struct sim *s);
uint16_t sim_rest_port(const struct sim *s);
/* The host sim_new bound, e.g. "127.0.0.1". Borrowed until sim_free. */
const char *sim_host(const struct sim *s);

/* True when host is a loopback address ("127.x.y.z", "::1", "localhost"). */
bool sim_host_is_loopback(const char *host);

#endif

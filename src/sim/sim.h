/* A local Kraken exchange on loopback: WS v2 (public and private) and REST,
 * speaking the protocol as ../shared/kraken/PROTOCOL.md documents it, with
 * market data from a scenario file and faults on cue. It serves the
 * integration tests, the offline demo and the reconnect benchmark.
 *
 * `arbitrade sim --scenario FILE [--host 127.0.0.1] [--ws-port N]
 *  [--rest-port N]` runs one; port 0 (the default) picks a free port. Once
 * listening it prints one JSON line on stdout and flushes it:
 *   {"event":"ready","ws_url":"ws://127.0.0.1:P/v2",
 *    "ws_auth_url":"ws://127.0.0.1:P/v2-auth",
 *    "rest_url":"http://127.0.0.1:R","control_url":"http://127.0.0.1:P/control"}
 * Only loopback addresses are accepted for --host. */
#ifndef ARB_SIM_SIM_H
#define ARB_SIM_SIM_H

#include <stdint.h>

#include "core/err.h"

struct sim;

#endif

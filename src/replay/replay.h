/* The backtest: recorded market data replayed through the production
 * detector, pre-trade checks and execution sequencer on one thread, with a
 * replay clock and a venue that fills against the recorded books at order
 * time + latency. Deterministic: the same input and options give a
 * byte-identical report.
 *
 * Input, one JSON object per line, replayed in timestamp order (stable for
 * equal timestamps):
 *   - the seed format: {"timestamp": RFC3339, "symbol": "BASE/QUOTE",
 *     "bids": [[price, qty], ...], "asks": [[price, qty], ...]}, the whole
 *     visible top of the book at that time (prices and quantities as JSON
 *     numbers or numeric strings);
 *   - recordings written by `arbitrade record`: {"recv_ts": RFC3339,
 *     "msg": <a Kraken WS v2 message>}; instrument messages give the
 *     precisions, book messages are applied as the live client applies
 *     them, checksums included. */
#ifndef ARB_REPLAY_REPLAY_H
#define ARB_REPLAY_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "core/err.h"

#endif

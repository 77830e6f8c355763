#!/usr/bin/env bash
# make demo: the whole bot offline, against the local simulator.
#
#   scripts/demo.sh [path/to/arbitrade]
#
# Starts `arbitrade sim --scenario tests/data/sim/demo.json` on 127.0.0.1,
# waits for its ready line, then `arbitrade run` pointed at it: market data
# from the sim's public WebSocket, orders through the LIVE venue against the
# sim's private WebSocket and REST with the scenario's test account (no real
# exchange is contacted: every URL is loopback), every pair (BOOK_SYMBOLS=all),
# a temporary DuckDB, and the dashboard on 127.0.0.1 WITHOUT a login
# (APP_ENV=dev, DASHBOARD_AUTH=off: fine on loopback, never elsewhere).
# The scenario opens arbitrage windows in its first minute; after that the
# script injects one every DEMO_WINDOW_EVERY_S seconds (POST /control/window).
# Ctrl-C stops both cleanly. Environment: DEMO_PORT (dashboard port, default
# 8080), DEMO_KEEP=1 (keep the temporary directory with the database).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/build/arbitrade}"
SCENARIO="$ROOT/tests/data/sim/demo.json"
PORT="${DEMO_PORT:-8080}"
EVERY="${DEMO_WINDOW_EVERY_S:-20}"

if [ ! -x "$BIN" ]; then
	echo "demo: $BIN is not an executable; run 'make build' first" >&2
	exit 2
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/arbitrade-demo-XXXXXX")"
SIM_PID=""
BOT_PID=""

cleanup() {
	trap - INT TERM EXIT
	if [ -n "$BOT_PID" ] && kill -0 "$BOT_PID" 2>/dev/null; then
		kill -TERM "$BOT_PID" 2>/dev/null || true
		wait "$BOT_PID" 2>/dev/null || true
	fi
	if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	if [ "${DEMO_KEEP:-0}" = 1 ]; then
		echo "demo: kept $WORK (database demo.duckdb, logs sim.log and bot.log)"
	else
		rm -rf "$WORK"
	fi
	echo "demo: stopped"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# The test account of the scenario (a made-up key the simulator accepts).
field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" "$SCENARIO" | head -n 1; }
API_KEY="$(field api_key)"
API_SECRET="$(field api_secret)"

"$BIN" sim --scenario "$SCENARIO" --host 127.0.0.1 >"$WORK/sim.out" 2>"$WORK/sim.log" &
SIM_PID=$!
READY=""
for _ in $(seq 1 100); do
	READY="$(grep -m1 '"event":"ready"' "$WORK/sim.out" 2>/dev/null || true)"
	[ -n "$READY" ] && break
	if ! kill -0 "$SIM_PID" 2>/dev/null; then
		echo "demo: the simulator exited:" >&2
		cat "$WORK/sim.log" >&2
		exit 1
	fi
	sleep 0.1
done
if [ -z "$READY" ]; then
	echo "demo: the simulator did not print its ready line within 10 s" >&2
	exit 1
fi
url() { printf '%s\n' "$READY" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
WS_URL="$(url ws_url)"
WS_AUTH_URL="$(url ws_auth_url)"
REST_URL="$(url rest_url)"
CONTROL_URL="$(url control_url)"
echo "demo: simulator ready: $WS_URL (control $CONTROL_URL)"

env -i PATH="/usr/bin:/bin" HOME="$WORK" \
	APP_ENV=dev DASHBOARD_AUTH=off APP_HOST=127.0.0.1 APP_PORT="$PORT" \
	ARB_SHARE_DIR="$ROOT" LOG_JSON=false LOG_LEVEL=info \
	DUCKDB_PATH="$WORK/demo.duckdb" RISK_KILL_FILE="$WORK/KILL" \
	KRAKEN_WS_URL="$WS_URL" KRAKEN_WS_AUTH_URL="$WS_AUTH_URL" KRAKEN_REST_URL="$REST_URL" \
	KRAKEN_API_KEY="$API_KEY" KRAKEN_API_SECRET="$API_SECRET" \
	KRAKEN_API_KEY_PERMISSIONS=query_funds,query_open,query_closed,trade,cancel,websocket \
	KRAKEN_REST_TIER=pro TRADING_MODE=live BOOK_SYMBOLS=all \
	ARB_HOME_ASSETS=USD,EUR ARB_MIN_PROFIT_BPS=1 RISK_MAX_CYCLES_PER_MIN=30 \
	RISK_MAX_CONSECUTIVE_FAILURES=10 \
	"$BIN" run >"$WORK/bot.log" 2>&1 &
BOT_PID=$!

for _ in $(seq 1 100); do
	if ! kill -0 "$BOT_PID" 2>/dev/null; then
		echo "demo: the bot exited:" >&2
		cat "$WORK/bot.log" >&2
		exit 1
	fi
	if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
		break
	fi
	sleep 0.1
done
cat <<EOF

  Dashboard:  http://127.0.0.1:$PORT/   (no login: APP_ENV=dev, DASHBOARD_AUTH=off)
  Metrics:    http://127.0.0.1:$PORT/metrics
  Mode:       live venue against the simulator's test account (loopback only)
  Kill switch from a shell:  touch $WORK/KILL   or   kill -USR1 $BOT_PID
  Windows open 5 s, 14 s, 23 s ... after start; then one every $EVERY s.
  Press Ctrl-C to stop.

EOF

# Follow the bot's log for the lines a newcomer cares about, and keep the
# market interesting once the scripted windows are over.
tail -n +1 -f "$WORK/bot.log" --pid="$BOT_PID" 2>/dev/null |
	grep --line-buffered -E "universe installed|trading|kill|ERROR|WARN" &
START=$(date +%s)
CYCLES=("USD,BTC,ETH" "USD,ETH,SOL" "USD,BTC,SOL" "EUR,BTC,ETH")
k=0
while kill -0 "$BOT_PID" 2>/dev/null; do
	sleep 1
	NOW=$(date +%s)
	if [ $(((NOW - START) % 10)) -eq 0 ] && command -v curl >/dev/null; then
		T="$(curl -s "http://127.0.0.1:$PORT/health" | sed -n 's/.*"trading":{\([^}]*\)}.*/\1/p')"
		[ -n "$T" ] && echo "demo: $T"
	fi
	if [ $((NOW - START)) -ge 60 ] && [ $(((NOW - START) % EVERY)) -eq 0 ]; then
		C="${CYCLES[$((k % ${#CYCLES[@]}))]}"
		k=$((k + 1))
		if command -v curl >/dev/null; then
			curl -s -o /dev/null -X POST "$CONTROL_URL/window?cycle=$C&bps=100&ms=3000" || true
			echo "demo: window injected on $C (100 bps for 3 s)"
		fi
	fi
done
echo "demo: the bot exited; its log:" >&2
tail -n 20 "$WORK/bot.log" >&2
exit 1

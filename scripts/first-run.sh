#!/usr/bin/env bash
# First `make run` on a fresh clone: without a .env the dashboard would refuse
# to start (login is required and there are no default credentials). Writes a
# development .env, mode 0600, that keeps the dashboard on loopback without a
# login, and says so. An existing .env is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -e .env ] && exit 0
umask 077
cat > .env <<'ENV'
# Written by the first `make run` (scripts/first-run.sh). Development settings:
# paper trading on live Kraken market data, dashboard on 127.0.0.1 without a
# login. Before exposing the dashboard, set DASHBOARD_AUTH=on with
# DASHBOARD_USER and DASHBOARD_PASSWORD_HASH (see README, Dashboard login).
APP_ENV=dev
APP_HOST=127.0.0.1
DASHBOARD_AUTH=off
TRADING_MODE=paper
ENV
echo "first run: wrote .env (development: paper mode, dashboard on 127.0.0.1 without login)"

#!/usr/bin/env bash
# First `make run` on a fresh clone: without a .env the dashboard would refuse
# to start (login is required and there are no default credentials). Writes a
# .env, mode 0600, for paper trading with the dashboard on loopback behind a
# login: user admin and a fresh random password, whose scrypt hash (made by
# the built binary, `secrets hash-password`) goes into .env. The password is
# printed once, here, and stored nowhere else. An existing .env is never
# touched.
#   usage: scripts/first-run.sh [path/to/arbitrade]   (default build/arbitrade)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -e .env ] && exit 0
bin="${1:-build/arbitrade}"
if [ ! -x "$bin" ]; then
	echo "first run: $bin is missing; build first (make build)" >&2
	exit 1
fi
umask 077
# 18 random bytes as base64 without the characters that look alike or need quoting.
password="$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy' | tr -d '=\n')"
hash="$(printf '%s' "$password" | "$bin" secrets hash-password)"
case "$hash" in
scrypt\$*) ;;
*)
	echo "first run: could not hash the dashboard password" >&2
	exit 1
	;;
esac
tmp="$(mktemp .env.XXXXXX)"
trap 'rm -f "$tmp"' EXIT
cat > "$tmp" <<ENV
# Written by the first \`make run\` (scripts/first-run.sh): paper trading on
# live Kraken market data, the dashboard on 127.0.0.1 behind a login.
# The password was printed once when this file was written; to change it:
#   printf '%s' 'new password' | build/arbitrade secrets hash-password
# and replace DASHBOARD_PASSWORD_HASH below (see README, Dashboard login).
APP_ENV=dev
APP_HOST=127.0.0.1
TRADING_MODE=paper
DASHBOARD_AUTH=on
DASHBOARD_USER=admin
DASHBOARD_PASSWORD_HASH=$hash
ENV
chmod 600 "$tmp"
mv "$tmp" .env
trap - EXIT
cat <<MSG
first run: wrote .env (paper mode, dashboard on http://127.0.0.1:8080/ behind a login)
  dashboard user:     admin
  dashboard password: $password
This password is shown only now; note it somewhere safe.
MSG

#!/usr/bin/env bash
# Installs what Arbitrade needs on Debian 12, then fetches the pinned third-party
# artifacts into third_party/ with their sha256 checked. Safe to run again: a
# second run finds everything present and does nothing.
#   scripts/bootstrap.sh          build + run dependencies
#   scripts/bootstrap.sh --test   also what the tests need (cmocka, python3-cryptography, chromium)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
tp="$here/third_party"
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

pkgs=(build-essential cmake pkg-config git ca-certificates curl
      libssl-dev zlib1g-dev libcurl4-openssl-dev libwebsockets-dev
      libmicrohttpd-dev libjsmn-dev nodejs npm)
test_pkgs=(libcmocka-dev python3 python3-cryptography clang chromium
           libclang-rt-14-dev clang-format cppcheck)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "$want_test" = 1 ]; then
	for p in "${test_pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
fi
# node and npm may come from elsewhere than Debian (nvm, nodesource): accept any on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
	m2=()
	for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || m2+=("$p"); done
	missing=("${m2[@]+"${m2[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "bootstrap: installing Debian packages: ${missing[*]}"
	sudo=""
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
		sudo=sudo
	fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# name|npm spec|file inside the package|destination|sha256 of that file
artifacts=(
	"duckdb-lib|@duckdb/node-bindings-linux-x64@1.4.4-r.4|package/libduckdb.so|duckdb/libduckdb.so|1ef33048e12235115ac0d277a0aaccbb560e33248144f488b5ac005cd9ba81b5"
	"duckdb-header|duckdb@1.4.4|package/src/duckdb/src/include/duckdb.h|duckdb/duckdb.h|cbe6a827284375c5a646b8f27dbd3a00808ce8738b5bbb49c190cb1e08540281"
	"htmx|htmx.org@2.0.4|package/dist/htmx.min.js|htmx/htmx.min.js|e209dda5c8235479f3166defc7750e1dbcd5a5c1808b7792fc2e6733768fb447"
)
if [ "$want_test" = 1 ]; then
	artifacts+=("playwright|playwright-core@1.64.1|-|playwright/node_modules/playwright-core|-")
fi

fetched=0
for a in "${artifacts[@]}"; do
	IFS='|' read -r name spec inner dest sum <<<"$a"
	out="$tp/$dest"
	if [ "$inner" = "-" ]; then
		# a whole npm package installed with npm (test tooling)
		[ -d "$out" ] && continue
		mkdir -p "$tp/playwright"
		(cd "$tp/playwright" && npm install --silent --no-audit --no-fund --prefix . "$spec" >/dev/null)
		fetched=1
		continue
	fi
	if [ -f "$out" ] && echo "$sum  $out" | sha256sum -c --quiet - 2>/dev/null; then
		continue
	fi
	echo "bootstrap: fetching $spec ($inner)"
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack --silent "$spec" >/dev/null)
	tar -xzf "$tmp"/*.tgz -C "$tmp" "$inner"
	if ! echo "$sum  $tmp/$inner" | sha256sum -c --quiet -; then
		echo "bootstrap: sha256 mismatch for $name from $spec: refusing to use it" >&2
		rm -rf "$tmp"
		exit 1
	fi
	mkdir -p "$(dirname "$out")"
	mv "$tmp/$inner" "$out"
	rm -rf "$tmp"
	fetched=1
done
[ "$fetched" = 1 ] && echo "bootstrap: third_party/ ready"
exit 0

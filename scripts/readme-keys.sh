#!/usr/bin/env bash
# Rewrites the configuration table in README.md between <!-- keys:begin -->
# and <!-- keys:end --> from the binary's own key table.
#   scripts/readme-keys.sh BIN           rewrite README.md
#   scripts/readme-keys.sh BIN --check   exit 1 if README.md is out of date
set -euo pipefail
bin=$1
mode=${2:-}
cd "$(dirname "$0")/.."
table=$(mktemp)
trap 'rm -f "$table" "$table.new"' EXIT
"$bin" config keys --markdown >"$table"
awk -v tf="$table" '
	/<!-- keys:begin -->/ { print; while ((getline l < tf) > 0) print l; skip = 1; next }
	/<!-- keys:end -->/ { skip = 0 }
	!skip { print }
' README.md >"$table.new"
if [ "$mode" = "--check" ]; then
	if ! cmp -s README.md "$table.new"; then
		echo "README.md's configuration table is out of date: run scripts/readme-keys.sh $bin" >&2
		diff -u README.md "$table.new" | head -20 >&2 || true
		exit 1
	fi
	echo "README.md configuration table matches the key table"
	exit 0
fi
cp "$table.new" README.md

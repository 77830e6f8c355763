#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time, run by `make fuzz`.
#   tools/fuzz.sh BUILD_DIR SECONDS TARGET...
# Each target starts from its committed seeds (fuzz/corpus/<t>/) and its
# regressions (fuzz/regressions/<t>/), and grows a working corpus in
# BUILD_DIR/fuzz-corpus/<t>/ (not committed). A crash leaves its input in
# BUILD_DIR/fuzz-artifacts/<t>/; fix the bug, then copy the input into
# fuzz/regressions/<t>/ so ctest (fuzz/<t>) replays it from then on.
# Exit status 1 when any target found a crash, leak or timeout.
set -uo pipefail

build=$1 secs=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
failed=()
for t in "$@"; do
	bin="$build/fuzz/fuzz_$t"
	[ -x "$bin" ] || { echo "fuzz: $bin not built"; failed+=("$t"); continue; }
	work="$build/fuzz-corpus/$t" art="$build/fuzz-artifacts/$t"
	mkdir -p "$work" "$art"
	seeds=("$root/fuzz/corpus/$t")
	[ -d "$root/fuzz/regressions/$t" ] && seeds+=("$root/fuzz/regressions/$t")
	extra=()
	[ -f "$root/fuzz/$t.dict" ] && extra=(-dict="$root/fuzz/$t.dict")
	# fuzz/<t>.options: extra libFuzzer flags, one per line, # comments
	[ -f "$root/fuzz/$t.options" ] && while read -r o; do
		[ -n "$o" ] && [ "${o#\#}" = "$o" ] && extra+=("$o")
	done <"$root/fuzz/$t.options"
	echo "fuzz: $t for ${secs}s"
	ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$art/" "${extra[@]}" "$work" "${seeds[@]}" \
		>"$build/fuzz-$t.log" 2>&1
	rc=$?
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$build/fuzz-$t.log" | sed "s/^/fuzz: $t: /"
	if [ $rc != 0 ]; then
		echo "fuzz: $t FAILED (exit $rc); log $build/fuzz-$t.log, inputs in $art/:"
		ls "$art"
		grep -m1 -A30 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|deadly signal' "$build/fuzz-$t.log"
		failed+=("$t")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]}"
	exit 1
fi
echo "fuzz: OK"

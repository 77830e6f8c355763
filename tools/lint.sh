#!/usr/bin/env bash
# Lint, run by `make lint` (and CI): every check runs, each failure is listed,
# and the exit status is 1 when any check failed.
#   format    clang-format --dry-run --Werror on tracked C files (.clang-format)
#   banned    sprintf, vsprintf, strcpy, strcat, strtok, atoi, atof, gets
#   layering  includes follow the arb_module() DEPS in CMakeLists.txt
#   cppcheck  warning, performance and portability findings (tools/cppcheck.supp)
#   secrets   tools/secret_scan.py over the work tree and the git history
# usage: tools/lint.sh [--root DIR] [--only check,check...]
set -uo pipefail

tools=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$tools/.." && pwd)
only="format,banned,layering,cppcheck,secrets"
while [ $# -gt 0 ]; do
	case "$1" in
	--root) root=$(cd "$2" && pwd); shift 2 ;;
	--only) only="$2"; shift 2 ;;
	-h|--help) sed -n '2,10p' "$0"; exit 0 ;;
	*) echo "lint: unknown option $1" >&2; exit 2 ;;
	esac
done

for c in ${only//,/ }; do
	case "$c" in
	format|banned|layering|cppcheck|secrets) ;;
	*) echo "lint: unknown check '$c' (format, banned, layering, cppcheck, secrets)" >&2; exit 2 ;;
	esac
done

failed=()
want() { [[ ",$only," == *",$1,"* ]]; }
step() { # name, command...
	local name=$1; shift
	echo "lint: $name"
	if ! "$@"; then
		failed+=("$name")
	fi
}

c_files() { # tracked C sources when root is a git tree, else every one
	if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git -C "$root" ls-files -z 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'fuzz/*.c' 'fuzz/*.h'
	else
		(cd "$root" && find src tests fuzz -name '*.[ch]' -print0 2>/dev/null)
	fi
}

run_format() {
	command -v clang-format >/dev/null || { echo "lint: clang-format not installed (scripts/bootstrap.sh --test)"; return 1; }
	(cd "$root" && c_files | xargs -0 -r clang-format --dry-run --Werror 2>&1 | grep -E '^[^ ].*: error:' | sed 's/: error: /: format: /' | sort -u -t: -k1,1 | head -50; exit "${PIPESTATUS[1]}")
	local rc=$?
	[ $rc = 0 ] || echo "lint: format: run make fmt (clang-format -i) on the files above"
	return $rc
}

run_cppcheck() {
	command -v cppcheck >/dev/null || { echo "lint: cppcheck not installed (scripts/bootstrap.sh --test)"; return 1; }
	local dirs=()
	for d in src fuzz; do [ -d "$root/$d" ] && dirs+=("$d"); done
	(cd "$root" && cppcheck -q -j2 --std=c11 --enable=warning,performance,portability \
		--error-exitcode=1 --inline-suppr --suppressions-list="$tools/cppcheck.supp" \
		-I src -D_GNU_SOURCE -DARB_VERSION='"0"' -DARB_SHARE_DIR_DEFAULT='"."' \
		--template='{file}:{line}: cppcheck {severity} [{id}]: {message}' "${dirs[@]}")
}

want format && step format run_format
want banned && step banned python3 "$tools/lint_checks.py" banned --root "$root"
want layering && step layering python3 "$tools/lint_checks.py" layering --root "$root"
want cppcheck && step cppcheck run_cppcheck
want secrets && step secrets python3 "$tools/secret_scan.py" --repo "$root"

if [ ${#failed[@]} -gt 0 ]; then
	echo "lint: FAILED: ${failed[*]}"
	exit 1
fi
echo "lint: OK"

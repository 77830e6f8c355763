#!/usr/bin/env bash
# tools/lint.sh on throwaway trees: a clean tree passes every check; a banned
# call, an include that points up the module table (derived from the
# arb_module() lines), another module's private header, a misformatted file
# and a committed secret are each caught with file and line. Then a copy of
# the real src/ with a planted banned call and layering violation.
set -euo pipefail

here="$(cd "$(dirname "$0")/../.." && pwd)"
lint="$here/tools/lint.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
run() { # dir, checks -> status; output in $tmp/out
	set +e
	bash "$lint" --root "$1" --only "$2" >"$tmp/out" 2>&1
	local rc=$?
	set -e
	return $rc
}
expect_fail() { # dir, checks, pattern, what
	if run "$1" "$2"; then
		fail "$4: lint passed"
	elif ! grep -qE -- "$3" "$tmp/out"; then
		fail "$4: no line matching '$3'"; cat "$tmp/out"
	fi
}

t="$tmp/tree"
mkdir -p "$t/src/core" "$t/src/book" "$t/src/kraken" "$t/src/web" "$t/tests/unit/book"
cp "$here/.clang-format" "$t/"
cat >"$t/CMakeLists.txt" <<'CM'
function(arb_module name)
endfunction()
arb_module(core   DEPS PkgConfig::OPENSSL m)
arb_module(book   DEPS arb_core PkgConfig::ZLIB)
arb_module(kraken DEPS arb_core arb_book)
# arb_module(web DEPS arb_book) is a comment, not the declaration
arb_module(web    DEPS arb_core)
CM
printf '#ifndef CORE_H\n#define CORE_H\nint core_x(void);\n#endif\n' >"$t/src/core/core.h"
printf '#ifndef BOOK_H\n#define BOOK_H\nint book_x(void);\n#endif\n' >"$t/src/book/book.h"
printf '#ifndef BOOK_INT_H\n#define BOOK_INT_H\nint book__y(void);\n#endif\n' >"$t/src/book/book_int.h"
cat >"$t/src/core/core.c" <<'C'
#include <stdio.h>

#include "core/core.h"

/* snprintf is fine; a comment may say sprintf( or atoi( freely. */
int core_x(void)
{
	char buf[16];
	const char *s = "strcpy(a, b) in a string is text";
	return snprintf(buf, sizeof(buf), "%s", s);
}
C
cat >"$t/src/book/book.c" <<'C'
#include "book/book.h"
#include "book/book_int.h"
#include "core/core.h"

int book__y(void)
{
	return 1;
}

int book_x(void)
{
	return core_x() + book__y();
}
C
cat >"$t/src/kraken/codec.c" <<'C'
#include "book/book.h"
#include "core/core.h"

int kr_x(void);
int kr_x(void)
{
	return book_x() + core_x();
}
C
cat >"$t/src/web/web.c" <<'C'
#include "core/core.h"

int web_x(void);
int web_x(void)
{
	return core_x();
}
C
cat >"$t/tests/unit/book/test_book.c" <<'C'
#include "book/book_int.h"
#include "core/core.h"

int main(void)
{
	return book__y() == 1 ? 0 : 1;
}
C
git -C "$t" init -q
git -C "$t" config user.email t@example.invalid
git -C "$t" config user.name test
git -C "$t" add -A
git -C "$t" commit -qm clean

all=format,banned,layering,cppcheck,secrets
run "$t" "$all" || { fail "clean tree: lint failed"; cat "$tmp/out"; }

# banned calls, found with file and line, in src/ and tests/
cp -r "$t" "$tmp/b"
printf 'int web_y(char *d);\nint web_y(char *d)\n{\n\treturn sprintf(d, "%%d", 1);\n}\n' >>"$tmp/b/src/web/web.c"
printf 'int t_y(const char *s);\nint t_y(const char *s)\n{\n\treturn atoi (s);\n}\n' >>"$tmp/b/tests/unit/book/test_book.c"
expect_fail "$tmp/b" banned "^src/web/web.c:11: banned call sprintf\(\)" "sprintf in src"
grep -qE "^tests/unit/book/test_book.c:11: banned call atoi\(\)" "$tmp/out" || fail "atoi in tests not reported"
for f in strcpy strcat strtok atof gets vsprintf; do
	cp -r "$t" "$tmp/b_$f"
	printf 'void z(char *a, char *b);\nvoid z(char *a, char *b)\n{\n\t%s(a, b);\n}\n' "$f" >>"$tmp/b_$f/src/core/core.c"
	expect_fail "$tmp/b_$f" banned "^src/core/core.c:15: banned call $f\(\)" "$f"
done

# layering: up the table, sideways, private headers, unit tests
cp -r "$t" "$tmp/l1"
sed -i 's|#include "core/core.h"|#include "core/core.h"\n#include "kraken/codec.h"|' "$tmp/l1/src/book/book.c"
expect_fail "$tmp/l1" layering "^src/book/book.c:4: module book includes \"kraken/codec.h\"" "book including kraken"
cp -r "$t" "$tmp/l2"
sed -i '1i #include "book/book.h"' "$tmp/l2/src/web/web.c"
expect_fail "$tmp/l2" layering "^src/web/web.c:1: module web includes \"book/book.h\"" "web including book (commented DEPS ignored)"
cp -r "$t" "$tmp/l3"
sed -i '1i #include "book/book_int.h"' "$tmp/l3/src/kraken/codec.c"
expect_fail "$tmp/l3" layering "^src/kraken/codec.c:1: .*private header of book" "private header"
cp -r "$t" "$tmp/l4"
mkdir -p "$tmp/l4/tests/unit/core"
printf '#include "book/book.h"\nint main(void);\n' >"$tmp/l4/tests/unit/core/test_core.c"
expect_fail "$tmp/l4" layering "^tests/unit/core/test_core.c:1: module core includes" "unit test including a higher module"
cp -r "$t" "$tmp/l5"
mkdir -p "$tmp/l5/src/extra"
printf 'int e(void);\n' >"$tmp/l5/src/extra/e.c"
expect_fail "$tmp/l5" layering "^src/extra/e.c:1: src/extra/ is not a module" "undeclared module"

# format, on tracked files
cp -r "$t" "$tmp/f"
printf 'int   web_z( void ){return 0;}\n' >>"$tmp/f/src/web/web.c"
git -C "$tmp/f" commit -qam misformat
expect_fail "$tmp/f" format "^src/web/web.c:[0-9]+:[0-9]+: format" "misformatted file"

# cppcheck
cp -r "$t" "$tmp/c"
printf 'int web_c(void);\nint web_c(void)\n{\n\tint a[4] = {0};\n\treturn a[4];\n}\n' >>"$tmp/c/src/web/web.c"
expect_fail "$tmp/c" cppcheck "^src/web/web.c:[0-9]+: cppcheck error \[arrayIndexOutOfBounds\]" "cppcheck finding"

# secrets, through the scanner
cp -r "$t" "$tmp/s"
printf 'KRAKEN_API_KEY=x\n' >"$tmp/s/.env"
git -C "$tmp/s" add -f .env && git -C "$tmp/s" commit -qm env
expect_fail "$tmp/s" secrets "\.env:1: env-file" "committed .env"

# a copy of the real tree: the planted lines are reported (whatever else
# is in flight there)
r="$tmp/real"
mkdir -p "$r"
cp -r "$here/src" "$here/CMakeLists.txt" "$r/"
printf '\nstatic void lint_plant(char *d) { strcpy(d, "x"); }\n' >>"$r/src/book/book.c"
n=$(wc -l <"$r/src/book/book.c")
expect_fail "$r" banned "^src/book/book.c:$n: banned call strcpy\(\)" "real tree: banned call"
sed -i '1i #include "store/store.h"' "$r/src/book/book.h"
expect_fail "$r" layering "^src/book/book.h:1: module book includes \"store/store.h\"" "real tree: layering"

if [ "$fails" != 0 ]; then
	echo "$fails failure(s)"
	exit 1
fi
echo "lint test: ok"

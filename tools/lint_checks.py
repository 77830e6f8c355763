#!/usr/bin/env python3
"""Source checks for tools/lint.sh.

  lint_checks.py banned   [--root DIR]   banned libc calls in src/, tests/, fuzz/
  lint_checks.py layering [--root DIR]   includes that point up the module table

banned: sprintf, vsprintf, strcpy, strcat, strtok, atoi, atof and gets, as
calls, outside comments and string literals. Use snprintf, memcpy with a
checked length, strtok_r-free parsing, and the strict parsers in core/fixed.h.

layering: the allowed includes come from CMakeLists.txt, the one source of
truth: module M (src/M/, tests/unit/M/) may include headers of M itself and of
the modules reachable through the DEPS of its arb_module(M DEPS ...) line.
Another module's private header (<module>_int.h) is never allowed.

Each finding is printed as file:line: message; exit 1 when there are any.
"""

import argparse
import os
import re
import sys

BANNED = ("sprintf", "vsprintf", "strcpy", "strcat", "strtok", "atoi", "atof", "gets")
CALL = re.compile(r"(?<![A-Za-z0-9_])(%s)\s*\(" % "|".join(BANNED))
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
MODULE = re.compile(r"^\s*arb_module\(\s*([A-Za-z0-9_]+)((?:\s+[^)]*)?)\)", re.M)


def strip_code(text):
    """Blanks comments and string/char literals, keeping line breaks, so
    line numbers survive and only code is checked."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def sources(root, dirs, exts=(".c", ".h")):
    for d in dirs:
        top = os.path.join(root, d)
        for dirpath, dirnames, files in os.walk(top):
            dirnames.sort()
            for f in sorted(files):
                if f.endswith(exts):
                    full = os.path.join(dirpath, f)
                    yield os.path.relpath(full, root), full


def check_banned(root):
    found = 0
    for rel, full in sources(root, ("src", "tests", "fuzz")):
        with open(full, encoding="utf-8", errors="replace") as f:
            code = strip_code(f.read())
        for n, line in enumerate(code.split("\n"), 1):
            for m in CALL.finditer(line):
                print("%s:%d: banned call %s(); use a bounded alternative (STYLE.md 23)" % (rel, n, m.group(1)))
                found += 1
    return found


def read_modules(root):
    """{module: set of direct arb_* deps}, from CMakeLists.txt."""
    path = os.path.join(root, "CMakeLists.txt")
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"#[^\n]*", "", f.read())
    mods = {}
    for m in MODULE.finditer(text):
        name, rest = m.group(1), m.group(2)
        if name == "name":
            continue  # the function's own definition
        words = rest.split()
        deps = set()
        if words and words[0] == "DEPS":
            deps = {w[4:] for w in words[1:] if w.startswith("arb_")}
        mods[name] = deps
    if not mods:
        print("CMakeLists.txt: no arb_module() lines found; cannot check layering")
        sys.exit(2)
    for name, deps in mods.items():
        for d in deps:
            if d not in mods:
                print("CMakeLists.txt: arb_module(%s) depends on unknown module %s" % (name, d))
                sys.exit(2)
    return mods


def closure(mods, name):
    seen, todo = set(), [name]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo.extend(mods[m])
    return seen


def check_layering(root):
    mods = read_modules(root)
    found = 0
    files = []
    for rel, full in sources(root, ("src",)):
        parts = rel.split(os.sep)
        if len(parts) >= 3 and parts[1] in mods:
            files.append((rel, full, parts[1]))
        elif len(parts) >= 3:
            print("%s:1: src/%s/ is not a module in CMakeLists.txt (add an arb_module line)" % (rel, parts[1]))
            found += 1
    for rel, full in sources(root, (os.path.join("tests", "unit"),)):
        parts = rel.split(os.sep)
        if len(parts) >= 4 and parts[2] in mods:
            files.append((rel, full, parts[2]))
    for rel, full, mod in files:
        allowed = closure(mods, mod)
        with open(full, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        for n, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = m.group(1)
            head = inc.split("/", 1)[0]
            if "/" not in inc or head not in mods:
                continue
            if head not in allowed:
                print(
                    "%s:%d: module %s includes \"%s\", but %s is not below %s "
                    "(arb_module(%s DEPS %s) in CMakeLists.txt)"
                    % (rel, n, mod, inc, head, mod, mod, " ".join("arb_" + d for d in sorted(mods[mod])) or "-")
                )
                found += 1
            elif head != mod and os.path.basename(inc).endswith("_int.h"):
                print("%s:%d: module %s includes %s, a private header of %s" % (rel, n, mod, inc, head))
                found += 1
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("check", choices=("banned", "layering"))
    ap.add_argument("--root", default=".")
    args = ap.parse_args()
    n = check_banned(args.root) if args.check == "banned" else check_layering(args.root)
    return 1 if n else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Secret scanner: the work tree and the whole git history.

Looks for Kraken API keys (56 base64 characters) and secrets (88 base64
characters ending in ==), Fernet keys (44 urlsafe base64 characters ending in
=), private keys (-----BEGIN ... PRIVATE KEY-----), committed .env files and
passwords in URLs (a scheme, then user, colon, password, at-sign, host).

Every finding names the file, the line and the commit (or "work tree") and a
fingerprint: the first 16 hex digits of the sha256 of the matched text. The
secret itself is never printed. Exit status: 0 clean, 1 findings, 2 usage or
git error.

The allowlist (.secretscan-allow at the repository root, or --allow FILE)
holds one entry per line: a path glob (fnmatch, matched against the path
relative to the repository root; "dir/**" matches everything below dir) or
"sha256:<hex prefix>" (at least 12 digits) for one matched text wherever it
appears. "#" starts a comment.

usage: tools/secret_scan.py [--repo DIR] [--allow FILE] [--no-history] [--no-worktree]
"""

import argparse
import fnmatch
import hashlib
import os
import re
import subprocess
import sys

B64 = r"A-Za-z0-9+/"
URLSAFE = r"A-Za-z0-9_\-"
# Boundaries: a key must not be part of a longer run of base64 text (Fernet
# tokens, hashes, base64 blobs), hence the look-arounds on the whole alphabet.
# A "=" may come before (KEY=value) but not after (more padding).
LEFT = r"A-Za-z0-9+/_\-"
EDGE = r"A-Za-z0-9+/=_\-"

PATTERNS = [
    ("kraken-api-secret", re.compile(r"(?<![%s])[%s]{86}==(?![%s])" % (LEFT, B64, EDGE))),
    ("kraken-api-key", re.compile(r"(?<![%s])[%s]{56}(?![%s])" % (LEFT, B64, EDGE))),
    ("fernet-key", re.compile(r"(?<![%s])[%s]{43}=(?![%s])" % (LEFT, URLSAFE, EDGE))),
    ("private-key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----")),
    (
        "url-password",
        re.compile(
            r"\b([a-zA-Z][a-zA-Z0-9+.\-]{1,15})://([^\s:/@'\"<>]+):([^\s@/'\"<>]+)@([^\s/'\"<>?#]+)"
        ),
    ),
]

# A password that is plainly a placeholder, not a value: $VAR, ${VAR}, <...>,
# ***, a printf conversion.
PLACEHOLDER = re.compile(r"^(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]*>|(\\?\*)+|%s|\.\.\.|x+|X+)$")

ENV_EXAMPLES = {".env.example", ".env.sample", ".env.template", ".env.dist"}


def fingerprint(text):
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def random_looking(s):
    """Real keys mix upper case, lower case and digits; words, hex digests and
    runs of one character do not."""
    core = s.rstrip("=")
    return (
        any(c.isupper() for c in core)
        and any(c.islower() for c in core)
        and any(c.isdigit() for c in core)
        and len(set(core)) >= 16
    )


def find_in_line(line):
    """Yields (kind, matched text, shown text) for each secret in line."""
    taken = []
    for kind, rx in PATTERNS:
        for m in rx.finditer(line):
            span = m.span()
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            text = m.group(0)
            if kind in ("kraken-api-secret", "kraken-api-key", "fernet-key"):
                if not random_looking(text):
                    continue
                shown = "%d characters" % len(text)
            elif kind == "private-key":
                shown = "a PEM private key block"
            else:
                scheme, user, pw, host = m.group(1), m.group(2), m.group(3), m.group(4)
                if PLACEHOLDER.match(pw):
                    continue
                text = pw
                shown = "%s://%s:****@%s" % (scheme, mask_user(user), host[:40])
            taken.append(span)
            yield kind, text, shown


def mask_user(user):
    return user if len(user) <= 24 else user[:24] + "..."


def is_env_file(path):
    base = os.path.basename(path)
    if base in ENV_EXAMPLES:
        return False
    return base == ".env" or base.startswith(".env.")


class Allow:
    def __init__(self, path):
        self.globs = []
        self.fps = []
        if not path or not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            for n, raw in enumerate(f, 1):
                entry = raw.split("#", 1)[0].strip()
                if not entry:
                    continue
                if entry.startswith("sha256:"):
                    fp = entry[len("sha256:"):].lower()
                    if len(fp) < 12 or not re.fullmatch(r"[0-9a-f]+", fp):
                        raise SystemExit(
                            "secret-scan: %s:%d: expected sha256:<at least 12 hex digits>" % (path, n)
                        )
                    self.fps.append(fp)
                else:
                    self.globs.append(entry)

    def path_ok(self, path):
        for g in self.globs:
            if fnmatch.fnmatchcase(path, g):
                return True
            if g.endswith("/**") and path.startswith(g[:-2]):
                return True
        return False

    def text_ok(self, text):
        full = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
        return any(full.startswith(fp) for fp in self.fps)


class Report:
    def __init__(self, allow):
        self.allow = allow
        self.count = 0
        self.seen = set()

    def add(self, where, path, line, kind, text, shown):
        if self.allow.path_ok(path) or (text and self.allow.text_ok(text)):
            return
        fp = fingerprint(text) if text else "-"
        key = (where, path, line, kind, fp)
        if key in self.seen:
            return
        self.seen.add(key)
        self.count += 1
        print(
            "secret-scan: %s: %s:%s: %s (%s) sha256:%s" % (where, path, line, kind, shown, fp)
        )


def git(repo, *args):
    p = subprocess.run(
        ["git", "-C", repo, "-c", "core.quotepath=off", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if p.returncode != 0:
        sys.stderr.write("secret-scan: git %s failed: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
        raise SystemExit(2)
    return p.stdout


def scan_text(report, where, path, data):
    if b"\0" in data[:8192]:
        return  # binary
    text = data.decode("utf-8", "surrogateescape")
    for n, line in enumerate(text.splitlines(), 1):
        for kind, secret, shown in find_in_line(line):
            report.add(where, path, n, kind, secret, shown)


def scan_worktree(repo, report):
    names = git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for path in sorted(set(n.decode("utf-8", "surrogateescape") for n in names.split(b"\0") if n)):
        full = os.path.join(repo, path)
        if not os.path.isfile(full) or os.path.islink(full):
            continue
        if is_env_file(path):
            report.add("work tree", path, 1, "env-file", "", "a .env file in the repository")
        try:
            with open(full, "rb") as f:
                data = f.read(8 * 1024 * 1024)
        except OSError:
            continue
        scan_text(report, "work tree", path, data)


HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def scan_history(repo, report):
    # Each commit's patch against its first parent; every secret ever
    # committed is an added line of some commit, including ones removed later.
    out = git(
        repo, "log", "--all", "-p", "-U0", "--no-color", "--no-ext-diff", "--no-textconv",
        "--diff-merges=first-parent", "--format=%x00commit %H",
    )
    commit = path = None
    lineno = 0
    for raw in out.split(b"\n"):
        if raw.startswith(b"\0commit "):
            commit = raw[8:].decode()[:12]
            path = None
            continue
        if raw.startswith(b"+++ "):
            name = raw[4:].decode("utf-8", "surrogateescape").rstrip("\t")
            if name.startswith('"') and name.endswith('"'):
                # git quotes names with unusual bytes, C style
                name = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
            path = None if name == "/dev/null" else (name[2:] if name.startswith("b/") else name)
            if path and is_env_file(path):
                report.add("commit " + commit, path, 1, "env-file", "", "a .env file committed")
            continue
        if raw.startswith(b"--- ") or raw.startswith(b"diff --git"):
            continue
        m = HUNK.match(raw.decode("utf-8", "surrogateescape"))
        if m:
            lineno = int(m.group(1))
            continue
        if raw.startswith(b"+") and path:
            line = raw[1:].decode("utf-8", "surrogateescape")
            for kind, secret, shown in find_in_line(line):
                report.add("commit " + commit, path, lineno, kind, secret, shown)
            lineno += 1


def main():
    ap = argparse.ArgumentParser(description="Scan the work tree and git history for secrets.")
    ap.add_argument("--repo", default=".", help="repository root (default: .)")
    ap.add_argument("--allow", help="allowlist file (default: <repo>/.secretscan-allow)")
    ap.add_argument("--no-history", action="store_true", help="skip the git history")
    ap.add_argument("--no-worktree", action="store_true", help="skip the work tree")
    args = ap.parse_args()

    top = git(args.repo, "rev-parse", "--show-toplevel").decode().strip()
    allow = Allow(args.allow if args.allow else os.path.join(top, ".secretscan-allow"))
    report = Report(allow)
    if not args.no_worktree:
        scan_worktree(top, report)
    has_commits = subprocess.run(
        ["git", "-C", top, "rev-parse", "-q", "--verify", "HEAD"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ).returncode == 0
    if not args.no_history and has_commits:
        scan_history(top, report)
    if report.count:
        print("secret-scan: %d finding(s); fix them, or allowlist false positives in .secretscan-allow" % report.count)
        return 1
    print("secret-scan: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())

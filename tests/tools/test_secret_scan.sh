#!/usr/bin/env bash
# tools/secret_scan.py against throwaway git repositories: secrets planted in
# history (added then removed), a committed .env, a password in a URL, a
# Fernet key, a PEM private key and an untracked file are each reported with
# file, line and commit, and no secret text reaches the output; a clean
# repository passes; the allowlist works by path and by fingerprint.
# The fakes are random, made at run time, so this file holds no secret.
set -euo pipefail

scan="$(cd "$(dirname "$0")/../.." && pwd)/tools/secret_scan.py"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# A random base64 string of n bytes that mixes upper, lower and digits.
rand_b64() {
	local s
	while :; do
		s=$(head -c "$1" /dev/urandom | base64 -w0)
		[[ $s =~ [A-Z] && $s =~ [a-z] && $s =~ [0-9] ]] && { echo "$s"; return; }
	done
}
newrepo() {
	rm -rf "$1" && mkdir -p "$1"
	git -C "$1" init -q
	git -C "$1" config user.email t@example.invalid
	git -C "$1" config user.name test
	git -C "$1" config commit.gpgsign false
}
commit() { git -C "$repo" add -A && git -C "$repo" commit -qm "$1" && git -C "$repo" rev-parse HEAD | cut -c1-12; }
expect() { # pattern, description
	grep -qE -- "$1" "$tmp/out" || fail "$2: no line matching '$1'"
}

key=$(rand_b64 42)                      # 56 characters: a Kraken API key
secret=$(rand_b64 64)                   # 88 characters ending in ==
fernet=$(rand_b64 32 | tr '+/' '-_')    # 44 characters, urlsafe, ending in =
pw="Pw$(head -c 12 /dev/urandom | base64 -w0 | tr -d '+/=')"
pembody=$(rand_b64 48)
begin="-----BEGIN ""RSA PRIVATE KEY-----"
end="-----END ""RSA PRIVATE KEY-----"

# --- a repository with secrets in its history ---
repo="$tmp/dirty"
newrepo "$repo"
printf 'a readme\n' >"$repo/README"
c0=$(commit "initial")
printf 'first line\nsecond line\napi_key = "%s"\n' "$key" >"$repo/config.txt"
c1=$(commit "add config")
printf 'first line\nsecond line\n' >"$repo/config.txt"
c2=$(commit "remove the key")
printf '# settings\nKRAKEN_API_SECRET=%s\n' "$secret" >"$repo/.env"
c3=$(commit "add env")
printf 'x\ny\nz\nDB_URL=postgres://admin:%s@db.internal:5432/app\n' "$pw" >"$repo/deploy.conf"
mkdir -p "$repo/keys"
printf '%s\n%s\n%s\n' "$begin" "$pembody" "$end" >"$repo/keys/id_rsa"
c4=$(commit "deploy config")
printf 'FERNET_KEY=%s\n' "$fernet" >"$repo/untracked.txt"

set +e
python3 "$scan" --repo "$repo" >"$tmp/out" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "dirty repo: exit $rc, expected 1"
expect "commit $c1: config.txt:3: kraken-api-key" "key added in history"
expect "commit $c3: \.env:1: env-file" "committed .env"
expect "commit $c3: \.env:2: kraken-api-secret" "secret in .env"
expect "work tree: \.env:2: kraken-api-secret" "secret in .env (work tree)"
expect "commit $c4: deploy\.conf:4: url-password \(postgres://admin:\*\*\*\*@db\.internal:5432\)" "password in URL"
expect "commit $c4: keys/id_rsa:1: private-key" "private key"
expect "work tree: untracked\.txt:1: fernet-key" "untracked Fernet key"
! grep -q "commit $c0" "$tmp/out" || fail "clean initial commit reported"
! grep -q "commit $c2" "$tmp/out" || fail "the removing commit reported"
for s in "$key" "$secret" "$fernet" "$pw" "$pembody"; do
	! grep -qF -- "$s" "$tmp/out" || fail "secret text in the output"
done
# The key lives on only in history: the work tree scan alone misses it.
python3 "$scan" --repo "$repo" --no-history >"$tmp/out2" 2>&1 || true
! grep -q "config.txt" "$tmp/out2" || fail "work tree scan reports a removed key"

# --- allowlist: a path glob and a fingerprint ---
fp=$(grep -E "config\.txt:3: kraken-api-key" "$tmp/out" | sed -E 's/.*sha256:([0-9a-f]+).*/\1/')
[ ${#fp} = 16 ] || fail "fingerprint not printed"
printf '# test allowlist\nsha256:%s  # the key\n.env\nkeys/**\ndeploy.conf\nuntracked.txt\n' "$fp" >"$tmp/allow"
set +e
python3 "$scan" --repo "$repo" --allow "$tmp/allow" >"$tmp/out3" 2>&1
rc=$?
set -e
[ "$rc" = 0 ] || { fail "allowlisted repo: exit $rc"; cat "$tmp/out3"; }
printf 'sha256:12ab\n' >"$tmp/badallow"
set +e
python3 "$scan" --repo "$repo" --allow "$tmp/badallow" >"$tmp/out4" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "badallow:1" "$tmp/out4" || fail "short fingerprint accepted (exit $rc)"

# --- a clean repository passes, placeholders and look-alikes included ---
repo="$tmp/clean"
newrepo "$repo"
{
	echo 'url = "https://${USER}:${PASSWORD}@host/x"'
	echo 'sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"'
	echo 'word = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"'
	echo 'see https://docs.kraken.com/api/ for keys'
} >"$repo/notes.txt"
printf 'KRAKEN_API_KEY=\n' >"$repo/.env.example"
commit "clean" >/dev/null
set +e
python3 "$scan" --repo "$repo" >"$tmp/out5" 2>&1
rc=$?
set -e
[ "$rc" = 0 ] || { fail "clean repo: exit $rc"; cat "$tmp/out5"; }

if [ "$fails" != 0 ]; then
	echo "--- scanner output (dirty repo) ---"
	cat "$tmp/out"
	exit 1
fi
echo "secret scan test: ok"

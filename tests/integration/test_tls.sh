#!/usr/bin/env bash
# TLS from the node (--tls-cert, --tls-key): a test CA and two server certificates for 127.0.0.1
# (serials 1001 and 1002) are made with openssl in the temp dir; the server runs in a network
# namespace with the first one.
# - curl --cacert gets /healthz over https (HTTP/1.1: no h2 in ALPN), served the first certificate;
# - switchboard admin --server https://... answers with --cacert and fails without it;
# - tls.py: wss auth and ping, plain http on the same port refused, SIGHUP with the second pair
#   (new connections get it, an open wss connection keeps working), SIGHUP with a key that is not
#   the certificate's (refused, logged, the second one stays);
# - start-up fails with a clear message: only --tls-cert (exit 2), a key of another certificate,
#   a missing certificate file (exit 1, naming the file, never showing the key).
# Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP=1 keeps the work directory.
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"

bin=$BUILD/switchboard
port=8443
[ -x "$bin" ] || { sb_log "missing $bin (build first)"; exit 1; }
for c in openssl curl python3; do
  command -v "$c" >/dev/null || { sb_log "$c not found"; exit 1; }
done
scale=1
if grep -qs '^SB_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then scale=3; fi

work=$(mktemp -d /tmp/sb-tls.XXXXXX)
finish() {
  if [ "$1" != 0 ] && [ -f "$work/server.log" ]; then
    echo "----- server.log (last 40 lines) -----" >&2
    tail -n 40 "$work/server.log" >&2
  fi
  [ -n "${SB_KEEP:-}" ] || rm -rf "$work"
}
sb_netns_create
sb_on_cleanup 'finish $rc'
fail() { sb_log "FAIL: $*"; exit 1; }

# The test CA and two certificates signed by it for 127.0.0.1.
mkcert() { # N SERIAL
  openssl req -newkey rsa:2048 -nodes -keyout "$work/s$1.key" -out "$work/s$1.csr" \
    -subj "/CN=switchboard test $1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    >"$work/ext"
  openssl x509 -req -in "$work/s$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -set_serial "$2" \
    -days 2 -extfile "$work/ext" -out "$work/s$1.pem" 2>/dev/null
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.pem" -days 2 \
  -subj "/CN=switchboard test CA" 2>/dev/null
mkcert 1 0x1001
mkcert 2 0x1002
cp "$work/s1.pem" "$work/cert.pem"
cp "$work/s1.key" "$work/key.pem"

common=(serve --demo --media-ip 127.0.0.1 --media-port 0 --db "$work/db.sqlite3"
        --secret-file "$work/secret")

# Start-up errors first (they exit at once; no port is bound).
out=$(sb_netns_exec "$bin" "${common[@]}" --http "127.0.0.1:$port" --tls-cert "$work/cert.pem" 2>&1) && rc=0 || rc=$?
[ "$rc" = 2 ] || fail "only --tls-cert: exit $rc, expected 2"
grep -q 'tls-cert and tls-key go together' <<<"$out" || fail "only --tls-cert: no message: $out"
out=$(sb_netns_exec "$bin" "${common[@]}" --http "127.0.0.1:$port" --tls-cert "$work/s2.pem" \
  --tls-key "$work/s1.key" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "mismatched key: exit $rc, expected 1"
grep -q "private key in $work/s1.key does not belong to the certificate in $work/s2.pem" <<<"$out" ||
  fail "mismatched key: no message naming the files: $out"
keyline=$(sed -n 2p "$work/s1.key")
if grep -qF -- "$keyline" <<<"$out"; then fail "the key's contents are in the output"; fi
out=$(sb_netns_exec "$bin" "${common[@]}" --http "127.0.0.1:$port" --tls-cert "$work/missing.pem" \
  --tls-key "$work/s1.key" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "missing certificate: exit $rc, expected 1"
grep -q "cannot read the certificate file $work/missing.pem" <<<"$out" ||
  fail "missing certificate: no message naming the file: $out"
sb_log "start-up refused: only --tls-cert (2), a key of another certificate, a missing file (1)"

sb_netns_start server "$work/server.log" "$bin" "${common[@]}" --http "127.0.0.1:$port" \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
sb_wait_for_line "$work/server.log" "Switchboard listening on https://127.0.0.1:$port/" \
  $((20 * scale)) server

certs=$(sb_netns_exec curl -sS --cacert "$work/ca.pem" -o "$work/healthz.json" -w '%{certs}http %{http_version}\n' \
  "https://127.0.0.1:$port/healthz") || fail "curl over https with the test CA failed"
grep -q '"status":"alive"' "$work/healthz.json" || fail "/healthz: $(cat "$work/healthz.json")"
grep -q '^Serial Number:1001' <<<"$certs" || fail "curl was not served serial 1001: $certs"
grep -q '^Subject:CN = switchboard test 1' <<<"$certs" || fail "curl: subject: $certs"
grep -q '^http 1.1$' <<<"$certs" || fail "curl did not speak HTTP/1.1 (ALPN): $certs"
sb_log "curl: /healthz over https (HTTP/1.1), certificate serial 1001"

# switchboard admin over https: with the test CA it is answered, without it the certificate is
# not trusted.
admin=(admin --server "https://127.0.0.1:$port" --secret-file "$work/secret" --tenant acme --user alice)
sb_netns_exec "$bin" "${admin[@]}" --cacert "$work/ca.pem" users >"$work/users.json" 2>&1 ||
  fail "admin over https with --cacert: $(cat "$work/users.json")"
grep -q '"id":"alice"' "$work/users.json" || fail "admin users: $(cat "$work/users.json")"
if sb_netns_exec "$bin" "${admin[@]}" users >/dev/null 2>&1; then
  fail "admin over https trusted the test certificate without --cacert"
fi
sb_log "admin over https: answered with --cacert, refused without"

sb_netns_exec python3 "$SRC/tests/integration/tls.py" --port "$port" --pid "${SB_PID[server]}" \
  --log "$work/server.log" --ca "$work/ca.pem" --cert "$work/cert.pem" --key "$work/key.pem" \
  --dir "$work"
grep -q 'tls.reload_failed: .*private key in .* does not belong' "$work/server.log" ||
  fail "the refused reload's error is not in the log"

rc=0
sb_stop server 10 || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 143 ] || fail "server exited with status $rc after TERM"
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work/server.log"; then
  fail "sanitizer report in the server log"
fi
sb_log "tls test passed"

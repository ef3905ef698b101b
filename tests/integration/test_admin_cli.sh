#!/usr/bin/env bash
# `switchboard admin` against a real server in a namespace of its own: reads, a connection
# revoked and allowed again, a permission change, the audit log, refusals (exit 1) and bad usage
# (exit 2).
set -euo pipefail
src=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SB_BUILD_DIR:-$src/build}
. "$src/tests/lib/netns.sh"
bin=$build/switchboard
tmp=$(mktemp -d /tmp/sb-admin.XXXXXX)
sb_netns_create
sb_on_cleanup "rm -rf '$tmp'"
sb_netns_start server "$tmp/server.log" "$bin" serve --demo --http 127.0.0.1:8080 --media-port 0 \
  --db "$tmp/db" --secret-file "$tmp/secret"
sb_wait_for_line "$tmp/server.log" "Switchboard listening" 60 server

admin() { sb_netns_exec "$bin" admin --server http://127.0.0.1:8080 --secret-file "$tmp/secret" "$@"; }
fail() { sb_log "FAIL: $*"; exit 1; }
expect() { # expect RC PATTERN CMD...: runs CMD, checks its exit status and that stdout matches
  local want=$1 pattern=$2 out rc=0
  shift 2
  out=$(admin "$@") || rc=$?
  [ "$rc" = "$want" ] || fail "admin $*: exit $rc, expected $want ($out)"
  grep -Eq -- "$pattern" <<<"$out" || fail "admin $*: output does not match $pattern: $out"
}

expect 0 '"peer":"acme".*"usable":true' --tenant globex --user carol connections
expect 0 '"allowed":false.*"usable":false' --tenant globex --user carol revoke acme
expect 0 '"peer":"globex".*"peer_allowed":false.*"usable":false' --tenant acme --user alice connections
expect 0 '"usable":true' --tenant globex --user carol allow acme
expect 0 '"external_allowed":false' --tenant globex --user carol permit dave off
expect 0 '"action":"connection_revoke"' --tenant globex --user carol audit 'action=connection_revoke&limit=5'
expect 1 '"code":"forbidden"' --tenant globex --user dave users            # not an administrator
expect 1 '"code":"(forbidden|not_found)"' --tenant globex --user carol request GET /api/admin/tenants/acme/users
rc=0; admin --bogus >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "a bad flag gave exit $rc, expected 2"
rc=0; admin --tenant globex --user carol nosuchcommand >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "an unknown command gave exit $rc, expected 2"
rc=0; sb_netns_exec "$bin" admin --server http://127.0.0.1:1 --secret-file "$tmp/secret" \
  --tenant globex --user carol users >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "no server gave exit $rc, expected 1"
sb_log "admin CLI test passed"
echo "1 passed, 0 failed"

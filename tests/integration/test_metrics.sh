#!/usr/bin/env bash
# GET /metrics against real servers in a network namespace of our own:
# - access: with --metrics-token, no token is 401 (WWW-Authenticate: Bearer), a wrong one 403, the
#   right one 200 in the Prometheus text format; without a token, loopback clients get it, a
#   client on another address and a request relayed by a proxy (X-Forwarded-For) get 403;
# - `promtool check metrics` passes on a scrape, and `promtool check rules` on the example
#   alert rules of docs/deploy/alerts.yml;
# - behaviour: a bench run (a 1:1 call and a room of three, tenant mtest) makes the workers' and
#   the tenant's counters grow, the join histogram count by each participant; the room's master
#   removes a member during the call (one revocation, one cut-time observation) and that member's
#   call.join is refused (one denial); the figures come back to 0 participants after the run;
# - the admin API's GET /api/admin/tenants/mtest/usage gives the same figures to mtest's
#   administrator and refuses another tenant's administrator, a plain user and no token.
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"
PY="python3 $SRC/tests/integration/metrics.py"

sb_require_build switchboard switchboard-bench
command -v promtool >/dev/null || { echo "promtool missing (scripts/install-deps.sh --test)"; exit 1; }

promtool check rules "$SRC/docs/deploy/alerts.yml"

sb_netns_create
work=$(mktemp -d /tmp/sb-metrics.XXXXXX)
sb_on_cleanup "rm -rf '$work'"
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$work/secret"
echo >>"$work/secret"
token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')

# A: token required. B: no token, listening on every address of the namespace.
SWITCHBOARD_METRICS_TOKEN=$token sb_netns_start a "$work/a.log" "$BUILD/switchboard" serve \
  --http 127.0.0.1:18090 --media-ip 127.0.0.1 --media-port 0 --db "$work/a.sqlite3" \
  --secret-file "$work/secret" --node-id node-a
sb_netns_start b "$work/b.log" "$BUILD/switchboard" serve --http 0.0.0.0:18091 \
  --media-ip 127.0.0.1 --media-port 0 --db "$work/b.sqlite3" --secret-file "$work/secret"
for s in a b; do
  if ! sb_wait_for_line "$work/$s.log" 'Switchboard listening' 30 "$s"; then
    cat "$work/$s.log"
    exit 1
  fi
done
sb_netns_exec ip addr add 10.77.0.1/32 dev lo

fail=0
expect() { # expect WHAT WANT GOT
  if [ "$2" != "$3" ]; then echo "FAIL: $1: expected '$2', got '$3'"; fail=1; else echo "ok: $1"; fi
}
A=http://127.0.0.1:18090/metrics
expect "A without a token" "401 Bearer" "$(sb_netns_exec $PY status $A)"
expect "A with a wrong token" "403" "$(sb_netns_exec $PY status $A wrong-token | tr -d ' ')"
expect "A with the token" "200" "$(sb_netns_exec $PY status $A "$token" | tr -d ' ')"
expect "B from loopback" "200" "$(sb_netns_exec $PY status http://127.0.0.1:18091/metrics | tr -d ' ')"
expect "B from another address" "403" \
  "$(sb_netns_exec $PY status http://10.77.0.1:18091/metrics | tr -d ' ')"
expect "B through a proxy" "403" \
  "$(sb_netns_exec $PY status http://127.0.0.1:18091/metrics '' X-Forwarded-For=203.0.113.9 | tr -d ' ')"
ctype=$(sb_netns_exec curl -s -o /dev/null -w '%{content_type}' -H "Authorization: Bearer $token" $A)
expect "content type" "text/plain; version=0.0.4; charset=utf-8" "$ctype"
if ! sb_netns_exec env SWITCHBOARD_METRICS_TOKEN=$token "$BUILD/switchboard" serve \
     --print-config | grep -qx 'metrics-token: "\*\*\*"  # environment SWITCHBOARD_METRICS_TOKEN'; then
  echo "FAIL: --print-config does not mask the metrics token"; fail=1
fi

sb_netns_exec $PY scrape $A "$token" >"$work/before.txt"
promtool check metrics <"$work/before.txt"

# A 1:1 call and a room of three for 8 s; during it the room's master removes a member.
sb_netns_exec "$BUILD/switchboard-bench" --url ws://127.0.0.1:18090/ws --secret-file "$work/secret" \
  --tenant mtest --calls 1 --rooms 1 --room-size 3 --duration 8 --threads 1 --decode-sample 0 \
  --json "$work/bench.json" --no-progress --quiet >"$work/bench.log" 2>&1 &
bench=$!
sb_on_cleanup "kill $bench 2>/dev/null || true"
sb_netns_exec $PY cut 127.0.0.1 18090 "$work/secret" mtest $A "$token" || fail=1
wait $bench || true # one member was cut on purpose: the bench may report it
sb_netns_exec $PY provision 127.0.0.1 18090 "$work/secret" || fail=1
sb_netns_exec $PY settle mtest $A "$token" || fail=1
sb_netns_exec $PY scrape $A "$token" >"$work/after.txt"
if ! promtool check metrics <"$work/after.txt"; then fail=1; fi
sb_netns_exec env SB_EXPECT_MALLOC="$(sb_expected_malloc "$BUILD/switchboard")" \
  $PY check "$work/before.txt" "$work/after.txt" 127.0.0.1 18090 "$work/secret" || {
  fail=1; grep switchboard_tenant "$work/after.txt"; tail -20 "$work/bench.log"; }
exit $fail

#!/usr/bin/env bash
# Three nodes on one PostgreSQL behind HAProxy, with headless Chromium pages as the clients
# (cluster.test.mjs): a call whose participants entered through different nodes, a revocation on
# another node than the call's, a PostgreSQL restart during a call, kill -9 of the home node, and
# a drain. Everything runs in the test's own network namespace and is stopped by PID at exit.
set -euo pipefail
src=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SB_BUILD_DIR:-$src/build}
. "$src/tests/browser/common.sh" # Chromium, node, playwright-core, the timeout scale; netns.sh
. "$src/tests/cluster/cluster.sh"
. "$src/tests/lib/pg.sh"
tmp=$(mktemp -d /tmp/sb-cluster-call.XXXXXX)
chmod 755 "$tmp" # the postgres user reaches its data directory inside
fail() { sb_log "FAIL: $*"; sb_cluster_logs; exit 1; }

sb_netns_create
sb_on_cleanup "sb_pg_stop '$tmp/pg'; [ -n \"\${SB_KEEP_LOGS:-}\" ] || rm -rf '$tmp'"
SB_PG_NETNS=$SB_NETNS sb_pg_start "$tmp/pg" >/dev/null || fail "PostgreSQL did not start"
# A short drain timeout so that the drain test moves its call within the test's time.
sb_cluster_start 3 "$tmp" --db "$SB_PG_URL" --demo --drain-timeout 4 ||
  fail "the cluster did not start"
for i in 1 2 3; do
  grep -q "storage: postgresql" "$tmp/n$i.log" || fail "n$i is not on PostgreSQL"
done

operator=$("$build/switchboard" token --tenant _operator --user ops --admin --ttl 3600 \
  --secret-file "$tmp/secret")
nodes="["
for i in 1 2 3; do
  [ "$i" = 1 ] || nodes+=","
  nodes+="{\"id\":\"n$i\",\"url\":\"http://$(sb_node_ip "$i"):$(sb_node_port "$i")/\","
  nodes+="\"pid\":${SB_PID[n$i]},\"log\":\"$tmp/n$i.log\"}"
done
nodes+="]"
restart="runuser -u postgres -- $SB_PG_BIN/pg_ctl -D $tmp/pg/data -m fast -w -t 60 restart"

rc=0
sb_netns_exec env SB_LB_URL="https://127.0.0.1:$SB_LB_PORT/" SB_NODES="$nodes" \
  SB_OPERATOR_TOKEN="$operator" SB_PG_RESTART="$restart >/dev/null" \
  NODE_EXTRA_CA_CERTS="$tmp/lb.crt" SB_TIMEOUT_SCALE="$scale" SB_CHROMIUM="$chromium_bin" \
  HOME="$tmp" timeout -k 5 $((500 - SECONDS)) \
  node --test --test-reporter=spec "$src/tests/cluster/cluster.test.mjs" || rc=$?
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp"/n*.log; then
  sb_log "sanitizer report in a node's log"
  rc=1
fi
[ "$rc" = 0 ] || fail "cluster.test.mjs failed"
sb_log "test_cluster passed"

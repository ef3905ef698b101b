#!/usr/bin/env bash
# Room and user events across nodes: two nodes on one PostgreSQL; users connected to different
# nodes hear of each other's room changes and of a connection revoked and allowed again on the
# other node (events.py). The effects travel through PostgreSQL (pg_notify, signaling/bus.c).
set -euo pipefail
src=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SB_BUILD_DIR:-$src/build}
. "$src/tests/lib/netns.sh"
. "$src/tests/cluster/cluster.sh"
. "$src/tests/lib/pg.sh"
tmp=$(mktemp -d /tmp/sb-cluster-events.XXXXXX)
chmod 755 "$tmp" # the postgres user reaches its data directory inside
fail() { sb_log "FAIL: $*"; sb_cluster_logs; exit 1; }

sb_netns_create
sb_on_cleanup "sb_pg_stop '$tmp/pg'; [ -n \"\${SB_KEEP_LOGS:-}\" ] || rm -rf '$tmp'"
SB_PG_NETNS=$SB_NETNS sb_pg_start "$tmp/pg" >/dev/null || fail "PostgreSQL did not start"
sb_cluster_start 2 "$tmp" --db "$SB_PG_URL" --demo || fail "the cluster did not start"

sb_netns_exec python3 "$src/tests/cluster/events.py" "$(sb_node_ip 1)" "$(sb_node_port 1)" \
  "$(sb_node_ip 2)" "$(sb_node_port 2)" || fail "events.py"
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp"/n*.log; then
  fail "sanitizer report in a node's log"
fi
sb_log "test_events passed"

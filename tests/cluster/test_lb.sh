#!/usr/bin/env bash
# Three nodes behind HAProxy (docs/deploy/haproxy.cfg, TLS terminated by HAProxy): round-robin
# reaches every node, ?node=ID reaches node ID, and a drained node leaves the rotation (its
# /readyz turns 503) while the others still answer and ?node= still reaches it for its calls.
set -euo pipefail
src=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SB_BUILD_DIR:-$src/build}
. "$src/tests/lib/netns.sh"
. "$src/tests/cluster/cluster.sh"
tmp=$(mktemp -d /tmp/sb-cluster.XXXXXX)
fail() { sb_log "FAIL: $*"; sb_cluster_logs; exit 1; }

sb_netns_create
sb_on_cleanup "rm -rf '$tmp'"
sb_cluster_start 3 "$tmp" --drain-timeout 30 || fail "the cluster did not start"

# 1. Each node answers its own id on both probes, and is ready.
for i in 1 2 3; do
  grep -q "\"node\":\"n$i\"" <<<"$(sb_node_get "$i" /healthz)" || fail "n$i /healthz"
  grep -q '"status":"ready"' <<<"$(sb_node_get "$i" /readyz)" || fail "n$i is not ready"
done

# 2. Round-robin through HAProxy reaches all three nodes: six requests, each node twice.
seen=$(sb_lb_nodes 6 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
sb_log "round-robin answers: $seen"
[ "$seen" = "n1=2 n2=2 n3=2 " ] || fail "round-robin did not spread over the three nodes: $seen"

# 3. ?node=ID reaches node ID, whatever the round-robin position.
for i in 1 2 3 3 2 1; do
  body=$(sb_lb_get "/healthz?node=n$i") || fail "GET /healthz?node=n$i through HAProxy"
  grep -q "\"node\":\"n$i\"" <<<"$body" || fail "?node=n$i reached another node: $body"
done

# 4. Drain n2 with the admin CLI (as the operator, on n2's own address: the nodes do not share
#    a database yet, so only n2 can record its drain).
out=$(sb_netns_exec "$build/switchboard" admin --server "http://$(sb_node_ip 2):$(sb_node_port 2)" \
  --secret-file "$tmp/secret" --tenant _operator --user ops drain n2) || fail "admin drain: $out"
grep -q '"draining":true' <<<"$out" || fail "admin drain answered $out"
body=$(sb_node_get 2 /readyz)
grep -q '"reason":"draining"' <<<"$body" || fail "drained n2's /readyz: $body"
[ "$(sb_netns_exec curl -s -o /dev/null -w '%{http_code}' "http://$(sb_node_ip 2):$(sb_node_port 2)/readyz")" = 503 ] ||
  fail "drained n2's /readyz is not 503"
grep -q '"status":"alive"' <<<"$(sb_node_get 2 /healthz)" || fail "drained n2 is not alive"
# A tenant administrator is not the operator.
rc=0
sb_netns_exec "$build/switchboard" admin --server "http://$(sb_node_ip 1):$(sb_node_port 1)" \
  --secret-file "$tmp/secret" --tenant acme --user alice drain n1 >/dev/null || rc=$?
[ "$rc" = 1 ] || fail "a tenant administrator's drain gave exit $rc, expected 1 (refused)"
grep -q '"status":"ready"' <<<"$(sb_node_get 1 /readyz)" || fail "n1 was drained by a non-operator"

# 5. HAProxy's health check takes n2 out of rotation; new requests go to n1 and n3 only.
sb_cluster_wait_state n2 0 20 || fail "HAProxy kept n2 in rotation"
seen=$(sb_lb_nodes 8 | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
sb_log "round-robin answers with n2 drained: $seen"
[ "$seen" = "n1=4 n3=4 " ] || fail "after the drain, requests went to: $seen"
[ "$(sb_haproxy_server_state n1)" = 2 ] && [ "$(sb_haproxy_server_state n3)" = 2 ] ||
  fail "n1 or n3 left the rotation"

# 6. ?node=n2 still reaches the drained node (its running calls stay reachable).
body=$(sb_lb_get "/healthz?node=n2") || fail "GET /healthz?node=n2 after the drain"
grep -q '"node":"n2"' <<<"$body" || fail "?node=n2 after the drain reached $body"

# 7. ?node=n3 of a stopped n3 is redispatched to a live node: at once (connection refused)
#    and after HAProxy's checks marked it down.
sb_stop n3 10 || fail "n3 did not stop cleanly"
body=$(sb_lb_get "/healthz?node=n3") || fail "?node=n3 of a stopped node got no answer"
grep -Eq '"node":"n[12]"' <<<"$body" || fail "?node=n3 of a stopped node reached $body"
sb_cluster_wait_state n3 0 20 node_by_id || fail "HAProxy kept the stopped n3"
body=$(sb_lb_get "/healthz?node=n3") || fail "?node=n3 of a down node got no answer"
grep -Eq '"node":"n[12]"' <<<"$body" || fail "?node=n3 of a down node reached $body"

sb_log "cluster load balancer test passed"
echo "1 passed, 0 failed"

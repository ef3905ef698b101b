# shellcheck shell=bash
# Cluster test harness: N switchboard nodes and HAProxy in front of them, in one network
# namespace of the test's own (tests/lib/netns.sh). Source this file after netns.sh, then:
#
#   sb_cluster_start 3 "$tmp" [SERVE_ARGS...]  # nodes n1..n3 + HAProxy; waits until all serve
#   sb_lb_get /healthz                         # GET through HAProxy (TLS); prints the body
#   sb_node_get 2 /readyz                      # GET from node n2 directly
#
# Node i listens for HTTP on 127.0.0.1i:808i (127.0.0.11:8081, .12:8082, ...), announces media
# on that address, keeps its own SQLite file under DIR (until the nodes share PostgreSQL) and tells
# clients to reach it as https://127.0.0.1:8443/?node=ni, the load balancer's address.
# HAProxy's configuration is docs/deploy/haproxy.cfg with its bind, stats and server lines
# replaced (sb_cluster_haproxy_config), so the tested file is the documented one.
# Every process is started with sb_netns_start and so stopped by PID at exit.

SB_LB_PORT=8443
SB_CLUSTER_N=0
SB_CLUSTER_DIR=""

# sb_cluster_logs: the end of every log of the cluster, for a failure's report.
sb_cluster_logs() {
  local f
  for f in "$SB_CLUSTER_DIR"/*.log; do
    [ -f "$f" ] || continue
    echo "---- $(basename "$f")" >&2
    tail -n 15 "$f" >&2
  done
}

# sb_node_ip I: node I's address (media and HTTP); sb_node_port I: its HTTP port. Distinct
# ports too: libwebsockets binds a listen address's whole interface (lo), not the address.
sb_node_ip() { echo "127.0.0.$((10 + $1))"; }
sb_node_port() { echo "$((8080 + $1))"; }

# sb_cluster_haproxy_config OUT CERT STATS_SOCKET N: writes HAProxy's configuration for nodes
# n1..nN: the documented file with a TLS bind on 127.0.0.1:SB_LB_PORT using CERT, the stats
# socket at STATS_SOCKET, and in each backend one server line per node (and, in the by-id
# backend, one use-server rule per node).
sb_cluster_haproxy_config() {
  local out=$1 cert=$2 stats=$3 n=$4 i servers="" rules=""
  local template=$src/docs/deploy/haproxy.cfg
  for ((i = 1; i <= n; i++)); do
    rules+="    use-server n$i if { urlp(node) n$i }\n"
    servers+="    server n$i $(sb_node_ip "$i"):$(sb_node_port "$i") check\n"
  done
  awk -v bind="    bind 127.0.0.1:$SB_LB_PORT ssl crt $cert alpn http/1.1" \
      -v stats="    stats socket $stats mode 600 level admin" -v servers="$servers" \
      -v rules="$rules" '
    /# SB-BIND$/ { print bind; next }
    /# SB-STATS$/ { print stats; next }
    /# SB-SERVERS-BEGIN by-id$/ { printf "%s%s", rules, servers; skip = 1; next }
    /# SB-SERVERS-BEGIN$/ { printf "%s", servers; skip = 1; next }
    /# SB-SERVERS-END$/ { skip = 0; next }
    !skip { print }' "$template" >"$out"
  # Each marker must have been found, or the test would run a different configuration.
  grep -q "bind 127.0.0.1:$SB_LB_PORT ssl" "$out" && grep -q "stats socket $stats" "$out" &&
    [ "$(grep -c "server n$n $(sb_node_ip "$n")" "$out")" = 2 ] &&
    grep -q "use-server n$n if" "$out"
}

# sb_cluster_cert DIR: a self-signed certificate for 127.0.0.1 with its key, as HAProxy wants
# them (one PEM file); prints its path.
sb_cluster_cert() {
  local dir=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$dir/lb.key" -out "$dir/lb.crt" 2>/dev/null ||
    return 1
  cat "$dir/lb.crt" "$dir/lb.key" >"$dir/lb.pem"
  echo "$dir/lb.pem"
}

# sb_cluster_start N DIR [SERVE_ARGS...]: the namespace (created if needed), nodes n1..nN with
# one token secret, HAProxy; returns when every node serves and HAProxy answers.
sb_cluster_start() {
  local n=$1 dir=$2 i cert
  shift 2
  SB_CLUSTER_N=$n
  SB_CLUSTER_DIR=$dir
  [ -n "$SB_NETNS" ] || sb_netns_create || return 1
  # One secret for all nodes: a token minted for one is valid on every node.
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/secret"
  chmod 600 "$dir/secret"
  for ((i = 1; i <= n; i++)); do
    sb_netns_exec ip addr add "$(sb_node_ip "$i")/32" dev lo || return 1
    sb_netns_start "n$i" "$dir/n$i.log" "$build/switchboard" serve --node-id "n$i" \
      --http "$(sb_node_ip "$i"):$(sb_node_port "$i")" --media-ip "$(sb_node_ip "$i")" --media-port 0 \
      --public-url "https://127.0.0.1:$SB_LB_PORT/?node=n$i" --db "$dir/n$i.sqlite3" \
      --secret-file "$dir/secret" --max-conns-per-address 0 "$@"
  done
  for ((i = 1; i <= n; i++)); do
    sb_wait_for_line "$dir/n$i.log" "Switchboard listening" 60 "n$i" || return 1
  done
  cert=$(sb_cluster_cert "$dir") || { sb_log "cannot make a certificate"; return 1; }
  sb_cluster_haproxy_config "$dir/haproxy.cfg" "$cert" "$dir/haproxy.sock" "$n" ||
    { sb_log "docs/deploy/haproxy.cfg lacks a marker"; return 1; }
  haproxy -c -q -f "$dir/haproxy.cfg" || { sb_log "HAProxy refuses its configuration"; return 1; }
  # -db: stay in the foreground (so the PID is HAProxy's own and TERM stops it).
  sb_netns_start haproxy "$dir/haproxy.log" haproxy -db -f "$dir/haproxy.cfg"
  sb_cluster_wait_all_up 30
}

# sb_lb_get PATH: GET through HAProxy (TLS, our self-signed certificate); prints the body and
# fails unless the answer is 2xx.
sb_lb_get() {
  sb_netns_exec curl -sf --max-time 5 --cacert "$SB_CLUSTER_DIR/lb.crt" \
    "https://127.0.0.1:$SB_LB_PORT$1"
}

# sb_lb_status PATH: prints the HTTP status of a GET through HAProxy.
sb_lb_status() {
  sb_netns_exec curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    --cacert "$SB_CLUSTER_DIR/lb.crt" "https://127.0.0.1:$SB_LB_PORT$1"
}

# sb_node_get I PATH: GET from node nI directly; prints the body (any status).
sb_node_get() {
  sb_netns_exec curl -s --max-time 5 "http://$(sb_node_ip "$1"):$(sb_node_port "$1")$2"
}

# sb_lb_nodes K: the node ids that answered K round-robin GET /healthz through HAProxy, one per
# line in answer order ("-" for a failed request).
sb_lb_nodes() {
  local k=$1 j body
  for ((j = 0; j < k; j++)); do
    body=$(sb_lb_get /healthz) || body=""
    sed -n 's/.*"node":"\([^"]*\)".*/\1/p' <<<"$body" | grep . || echo "-"
  done
}

# sb_haproxy_server_state NAME [BACKEND]: HAProxy's operational state of server NAME (2 = UP,
# 0 = DOWN) in BACKEND (default nodes, the ready ones) from the stats socket.
sb_haproxy_server_state() {
  sb_netns_exec python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(("show servers state " + sys.argv[3] + "\n").encode())
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
for line in out.decode().splitlines():
    f = line.split()
    if len(f) > 5 and f[3] == sys.argv[2]:
        print(f[5])
' "$SB_CLUSTER_DIR/haproxy.sock" "$1" "${2:-nodes}" 2>/dev/null
}

# sb_cluster_wait_state NAME STATE TIMEOUT_S: bounded wait until HAProxy has server NAME in
# STATE (2 UP, 0 DOWN).
sb_cluster_wait_state() {
  local name=$1 want=$2 deadline=$((SECONDS + $3))
  while [ "$(sb_haproxy_server_state "$name")" != "$want" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      sb_log "HAProxy did not see $name in state $want within $3 s"
      return 1
    fi
    sleep 0.2   # polling interval of a bounded wait
  done
}

# sb_cluster_wait_all_up TIMEOUT_S: every node UP in HAProxy (health checks on /readyz passed).
sb_cluster_wait_all_up() {
  local i
  for ((i = 1; i <= SB_CLUSTER_N; i++)); do
    sb_cluster_wait_state "n$i" 2 "$1" || return 1
  done
}

#!/usr/bin/env bash
# Browser TURN test: Debian's coturn (use-auth-secret) and the relay run in the test's namespace,
# each on an address of its own (a veth pair); nftables there lets only coturn's relay sockets
# reach the relay's media address, so the pages can reach the relay only through coturn. Two pages
# with the auth result's ice_servers hold a call through TURN; two pages that ignore them cannot
# connect (turn.test.mjs). Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP_LOGS=1
# keeps the logs (the secret is in that directory too).
set -euo pipefail
. "$(dirname "$0")/common.sh"
command -v turnserver >/dev/null ||
  { sb_log "turnserver missing (coturn): scripts/install-deps.sh --test"; exit 1; }
command -v nft >/dev/null ||
  { sb_log "nft missing (nftables): scripts/install-deps.sh --test"; exit 1; }

MEDIA_IP=10.78.0.1   # the relay's media (ICE-lite host candidate)
TURN_IP=10.78.0.2    # coturn's listener and relay address
TURN_PORT=3478
# coturn's relay ports, below the namespace's ephemeral range (32768-60999 by default), so that
# no socket of a page can have one of them as its source port.
RELAY_MIN=20000 RELAY_MAX=20099
TURN_TTL=3600

sb_browser_netns_setup() {
  local min_ephemeral
  min_ephemeral=$(sb_netns_exec cat /proc/sys/net/ipv4/ip_local_port_range | awk '{print $1}')
  [ "$min_ephemeral" -gt "$RELAY_MAX" ] ||
    { sb_log "ephemeral ports start at $min_ephemeral, inside coturn's relay range"; return 1; }
  ip -n "$SB_NETNS" link add sbt0 type veth peer name sbt1
  ip -n "$SB_NETNS" addr add "$MEDIA_IP/24" dev sbt0
  ip -n "$SB_NETNS" addr add "$TURN_IP/24" dev sbt1
  ip -n "$SB_NETNS" link set sbt0 up
  ip -n "$SB_NETNS" link set sbt1 up
  # Every packet to the relay's media address, UDP or TCP, is dropped unless it comes from one of
  # coturn's relay sockets. All of them are local (one namespace), so the output hook sees them.
  sb_netns_exec nft -f - <<EOF
table inet sbturn {
  chain out {
    type filter hook output priority 0; policy accept;
    ip daddr $MEDIA_IP ip saddr $TURN_IP udp sport $RELAY_MIN-$RELAY_MAX accept
    ip daddr $MEDIA_IP counter drop
  }
}
EOF
  # The shared secret: one file for switchboard, the same line in coturn's config (both 0600).
  (umask 077
   head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$sb_tmp/turn-secret"
   cat >"$sb_tmp/turnserver.conf" <<EOF
listening-ip=$TURN_IP
listening-port=$TURN_PORT
relay-ip=$TURN_IP
min-port=$RELAY_MIN
max-port=$RELAY_MAX
realm=switchboard.test
use-auth-secret
static-auth-secret=$(cat "$sb_tmp/turn-secret")
userdb=$sb_tmp/turndb
no-tls
no-dtls
no-cli
no-rfc5780
no-stun-backward-compatibility
verbose
log-file=$sb_tmp/turnserver.log
simple-log
pidfile=$sb_tmp/turnserver.pid
EOF
  )
  sb_netns_start turn "$sb_tmp/turnserver.out" turnserver -c "$sb_tmp/turnserver.conf"
  local deadline=$((SECONDS + 10 * scale))
  until sb_netns_exec ss -Hlun "sport = :$TURN_PORT" | grep -q "$TURN_IP:$TURN_PORT"; do
    sb_alive turn || { sb_log "coturn exited"; cat "$sb_tmp/turnserver.out" >&2; return 1; }
    [ "$SECONDS" -lt "$deadline" ] || { sb_log "coturn does not listen on $TURN_PORT"; return 1; }
    sleep 0.1   # polling interval of a bounded wait
  done
  sb_log "coturn listening on $TURN_IP:$TURN_PORT, relaying from $TURN_IP:$RELAY_MIN-$RELAY_MAX"
  # The server gets its TURN options from the environment, as from a unit file (the secret file
  # lives in the directory made by sb_browser_run, after its arguments were fixed); the node test
  # reads coturn's log and the firewall's counter.
  export SWITCHBOARD_TURN_URL="turn:$TURN_IP:$TURN_PORT?transport=udp"
  export SWITCHBOARD_TURN_SECRET_FILE="$sb_tmp/turn-secret"
  SB_TEST_ENV+=(SB_TURN_LOG="$sb_tmp/turnserver.log")
}

SB_TEST_ENV=(SB_TURN_URL="turn:$TURN_IP:$TURN_PORT?transport=udp" SB_TURN_TTL="$TURN_TTL"
             SB_MEDIA_ADDR="$MEDIA_IP:40000" SB_TURN_IP="$TURN_IP")
sb_browser_run turn.test.mjs --media-ip "$MEDIA_IP" --turn-ttl "$TURN_TTL"

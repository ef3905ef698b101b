#!/usr/bin/env bash
# Browser ICE-TCP test: the relay's media address is on a veth pair in the test's namespace, and
# nftables there drops UDP to it while icetcp.test.mjs says so: two pages hold a call over the
# relay's passive TCP candidate (RFC 6544) with media both ways; unauthenticated garbage, a
# slowloris and connections over the pending limit on the TCP port are closed and counted while
# that call goes on; with UDP open again, two other pages choose the UDP pair. Environment (set
# by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP_LOGS=1 keeps the logs.
set -euo pipefail
. "$(dirname "$0")/common.sh"
command -v nft >/dev/null ||
  { sb_log "nft missing (nftables): scripts/install-deps.sh --test"; exit 1; }

MEDIA_IP=10.79.0.1   # the relay's media address (its UDP and TCP host candidates)
PEER_IP=10.79.0.2    # the other end of the pair: the pages' non-loopback address
MEDIA_PORT=40000     # UDP and, by default, ICE-TCP of worker 0
MAX_PENDING=8

sb_browser_netns_setup() {
  ip -n "$SB_NETNS" link add sbi0 type veth peer name sbi1
  ip -n "$SB_NETNS" addr add "$MEDIA_IP/24" dev sbi0
  ip -n "$SB_NETNS" addr add "$PEER_IP/24" dev sbi1
  ip -n "$SB_NETNS" link set sbi0 up
  ip -n "$SB_NETNS" link set sbi1 up
  # The chain the node test fills and empties: UDP to the media address is dropped while it
  # holds that rule. Everything is local (one namespace), so the output hook sees every packet.
  sb_netns_exec nft -f - <<EOF
table inet sbicetcp {
  chain out {
    type filter hook output priority 0; policy accept;
  }
}
EOF
}

SB_TEST_ENV=(SB_MEDIA_IP="$MEDIA_IP" SB_MEDIA_PORT="$MEDIA_PORT" SB_MAX_PENDING="$MAX_PENDING")
sb_browser_run icetcp.test.mjs --media-ip "$MEDIA_IP" --media-port "$MEDIA_PORT" \
  --ice-tcp-max-pending "$MAX_PENDING"

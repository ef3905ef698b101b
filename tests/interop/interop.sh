# shellcheck shell=bash
# Sourced by the interop drivers: the browser harness (tests/browser/common.sh) plus a veth pair
# inside the test's namespace. libnice and aioice skip loopback interfaces when gathering, so with
# only lo up these stacks have no candidate at all; the pair's addresses exist only inside the
# namespace (../shared/INTEROP.md's network rule) and the relay announces SB_INTEROP_IP.
. "$(dirname "${BASH_SOURCE[0]}")/../browser/common.sh"
SB_INTEROP_IP=10.77.0.1

sb_browser_netns_setup() {
  ip -n "$SB_NETNS" link add sbv0 type veth peer name sbv1
  ip -n "$SB_NETNS" addr add "$SB_INTEROP_IP/24" dev sbv0
  ip -n "$SB_NETNS" addr add 10.77.0.2/24 dev sbv1
  ip -n "$SB_NETNS" link set sbv0 up
  ip -n "$SB_NETNS" link set sbv1 up
}

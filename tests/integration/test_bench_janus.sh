#!/usr/bin/env bash
# switchboard-bench --target janus: the bench's scenario against Debian's janus (VideoRoom over
# its WebSocket API), one publisher to three subscribers and a room of three, inside a network
# namespace of our own. Janus never gathers ICE candidates on loopback interfaces, so the
# namespace gets a veth pair (sbj0 10.99.0.1, its peer unaddressed) for Janus to gather on, and
# the bench's clients bind that same address: libnice sends through the gathering interface
# (IP_UNICAST_IF), and to a local address of that interface the kernel delivers over lo, so no
# packet crosses the veth. Checks of the report in bench_janus.py. Exit 77 (skipped) only when
# the janus binary is missing (scripts/install-deps.sh installs it).
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"

JANUS=$(command -v janus || true)
if [ -z "$JANUS" ]; then
  echo "SKIP: no janus binary (apt-get install janus; scripts/install-deps.sh does)"
  exit 77
fi
[ -x "$BUILD/switchboard-bench" ] || { echo "missing $BUILD/switchboard-bench (build first)"; exit 1; }

PORT=8188
IP=10.99.0.1
sb_netns_create
ip -n "$SB_NETNS" link add sbj0 type veth peer name sbj1
ip -n "$SB_NETNS" addr add "$IP/24" dev sbj0
ip -n "$SB_NETNS" link set sbj0 up
ip -n "$SB_NETNS" link set sbj1 up
work=$(mktemp -d /tmp/sb-bench-janus.XXXXXX)
sb_on_cleanup "rm -rf '$work'"

"$SRC/scripts/janus-config.sh" "$work/janus" "$PORT" 127.0.0.1 sbj0 >/dev/null
sb_netns_start janus "$work/janus.out" "$JANUS" -C "$work/janus/janus.jcfg" -F "$work/janus" -N
if ! sb_wait_for_line "$work/janus/janus.log" 'Websockets server started' 30 janus; then
  cat "$work/janus.out" "$work/janus/janus.log" 2>/dev/null | tail -30
  exit 1
fi

rc=0
# 1 + 3 connections in the fan-out room; 3 participants x (publisher + subscriber) in the room
sb_netns_exec "$BUILD/switchboard-bench" --target janus "ws://127.0.0.1:$PORT/" --local-ip "$IP" \
  --fanout 3 --rooms 1 --room-size 3 --duration 3 --decode-sample 4 --server-pid "${SB_PID[janus]}" \
  --json "$work/bench.json" --no-progress >"$work/out.txt" 2>&1 || rc=$?
cat "$work/out.txt"
if [ "$rc" != 0 ]; then
  echo "switchboard-bench --target janus exited with $rc; Janus's log:"
  tail -40 "$work/janus/janus.log"
  exit 1
fi
grep -q 'target *janus' "$work/out.txt" || { echo "FAIL: the summary does not name janus"; exit 1; }
# 6 streams in the fan-out (3 subscribers x audio+video), 12 in the room (3 x 2 others x 2)
python3 "$SRC/tests/integration/bench_janus.py" "$work/bench.json" 10 18 || {
  tail -40 "$work/janus/janus.log"
  exit 1
}
sb_alive janus || { echo "FAIL: janus exited during the run"; tail -40 "$work/janus/janus.log"; exit 1; }

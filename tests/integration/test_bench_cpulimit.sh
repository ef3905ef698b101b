#!/usr/bin/env bash
# switchboard-bench --cpu-limit, inside a network namespace of our own (only lo): the relay's
# worker thread and the bench's forwarder each get a cgroup (v1 cpu controller) limited to 10% of
# a CPU, for a short fan-out 16 run of 102 participants (which needs more than that: the
# DTLS handshakes of the joins alone, and the relay's steady forwarding near it). Checks of the
# JSON report: the limit's figures (10 ms period, 1 ms quota); one group per side, holding the
# relay's sb-worker-0 thread and the forwarder's process; the kernel counted periods in both
# groups (the threads ran under the quota) and held the relay's worker back in some of them (the
# limit acted); every group is gone after the bench exits. Refused before anything starts: a
# limit out of range, and a bench run where the cgroup mount is hidden (`ip netns exec`
# remounts /sys; the run proper enters the namespace with nsenter, which does not). No speed is
# asserted.
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"

sb_require_build switchboard switchboard-bench
# --cpu-limit needs the cgroup v1 cpu controller; a machine with cgroup v2 alone (Debian 12's
# default) skips (77), as the bench there refuses the option (exit status 2, checked below)
if [ ! -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
  echo "SKIP: no cgroup v1 cpu controller at /sys/fs/cgroup/cpu"
  exit 77
fi

sb_netns_create
work=$(mktemp -d /tmp/sb-bench-cpulimit.XXXXXX)
sb_on_cleanup "rm -rf '$work'"
in_ns() { nsenter --net="/run/netns/$SB_NETNS" "$@"; }

allowed=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
cpu=${allowed##*[,-]}

# out of range: exit status 2, no run
rc=0
in_ns "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --cpu-limit 5 --no-progress \
  >"$work/range.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$work/range.txt"; echo "FAIL: --cpu-limit 5 exited with $rc, not 2"; exit 1; }
# no cgroup mount in sight: a clear error naming the way out, exit status 2
rc=0
sb_netns_exec "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --cpu-limit 50 --no-progress \
  >"$work/hidden.txt" 2>&1 || rc=$?
cat "$work/hidden.txt"
[ "$rc" = 2 ] && grep -q "nsenter" "$work/hidden.txt" ||
  { echo "FAIL: --cpu-limit without the cgroup mount not refused clearly (exit $rc)"; exit 1; }

rc=0
in_ns "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --fanout 16 --fanout-rooms 6 \
  --duration 3 --ramp-rate 50 --clip-seconds 1 --resolution 320x180 --srtp aes-cm --baseline \
  --pin-server "$cpu" --cpu-limit 10 --json "$work/bench.json" --no-progress >"$work/out.txt" 2>&1 || rc=$?
cat "$work/out.txt"
[ "$rc" = 0 ] || { echo "FAIL: switchboard-bench --cpu-limit 10 exited with $rc"; exit 1; }
grep -q "cpu limit  relay" "$work/out.txt" && grep -q "cpu limit  forwarder" "$work/out.txt" ||
  { echo "FAIL: no cpu limit lines in the summary"; exit 1; }

python3 - "$work/bench.json" <<'PY'
import json, os, sys

doc = json.load(open(sys.argv[1]))
fails = []

def check(cond, what):
    if not cond:
        fails.append(what)

b = doc.get("baseline") or {}
pin, bpin = doc.get("pinning") or {}, b.get("pinning") or {}
lim, blim = pin.get("cpu_limit") or {}, bpin.get("cpu_limit") or {}
for name, l in (("relay", lim), ("forwarder", blim)):
    check(l.get("pct") == 10 and l.get("period_us") == 10000 and l.get("quota_us") == 1000,
          f"{name}: limit figures {l}")
    check(len(l.get("threads", [])) == 1, f"{name}: not one limited thread: {l.get('threads')}")
    for t in l.get("threads", []):
        check(t.get("periods", 0) > 0, f"{name}: no period ran under the quota: {t}")
        check(not os.path.exists(t.get("cgroup", "")), f"{name}: {t.get('cgroup')} left behind")
        check(os.path.basename(t.get("cgroup", "")).startswith("switchboard-bench-"),
              f"{name}: group {t.get('cgroup')}")
# the relay's group holds its worker thread; the forwarder's its (one-thread) process
workers = [t["tid"] for t in pin.get("server_threads", []) if t.get("name") == "sb-worker-0"]
check([t.get("tid") for t in lim.get("threads", [])] == workers and workers, f"relay: {lim} vs workers {workers}")
fwd = [t["tid"] for t in bpin.get("forwarder_threads", [])]
check([t.get("tid") for t in blim.get("threads", [])] == fwd and fwd, f"forwarder: {blim} vs threads {fwd}")
# the limit acted: the worker ran out of its quota in some periods
rt = (lim.get("threads") or [{}])[0]
check(rt.get("throttled_periods", 0) > 0 and rt.get("throttled_ms", 0) > 0, f"relay never held back: {rt}")
# media went through on both sides under the limit
check(doc.get("participants", {}).get("reached_media") == 102, f"relay: {doc.get('participants')}")
check((b.get("forwarder") or {}).get("rtp_forwarded", 0) > 0, f"forwarder: {b.get('forwarder')}")

print(f"bench cpu limit: relay {rt}, forwarder {(blim.get('threads') or [{}])[0]}")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY

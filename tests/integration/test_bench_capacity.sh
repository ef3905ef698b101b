#!/usr/bin/env bash
# switchboard-bench --capacity with --ramp and --baseline, inside a network namespace of our own
# (only lo), short (a 1 s clip, 1 s steps): two fan-out rooms of one publisher and three subscribers, grown room by room (steps
# of 4 participants), against a spawned server and then through the bench's own forwarder, with
# the relay's worker (and the forwarder) pinned to one CPU. Checks of the JSON report: both sides
# have a capacity figure (targets set wide, so that both reach the last step: this asserts what
# is reported, never how fast), and their ratio; the two sampled receivers measured latency and
# decoded, the four count-only receivers got packets, took none of them through SRTP and have
# no latency observation, loss is computed for every stream; the count-only receivers' clear
# header still fed transport-cc (no packet without its sequence number); the relay's worker
# thread and the forwarder ran on the CPU given. A CPU that does not exist is refused before
# anything starts. --ramp-retries measures a missed step again at the same load before the ramp
# stops. Performance figures are printed, never asserted.
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"

sb_require_build switchboard switchboard-bench

sb_netns_create
work=$(mktemp -d /tmp/sb-bench-capacity.XXXXXX)
sb_on_cleanup "rm -rf '$work'"

# the highest CPU this test may run on, and the next one, which it may not
allowed=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
cpu=${allowed##*[,-]}
absent=$((cpu + 1))

# a CPU that does not exist: a clear error, exit status 2, no run
rc=0
sb_netns_exec "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --capacity \
  --pin-server "$absent" --no-progress >"$work/refused.txt" 2>&1 || rc=$?
cat "$work/refused.txt"
[ "$rc" = 2 ] || { echo "FAIL: --pin-server $absent exited with $rc, not 2"; exit 1; }
grep -q "CPU $absent does not exist" "$work/refused.txt" || { echo "FAIL: no clear error for CPU $absent"; exit 1; }
rc=0
sb_netns_exec "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --pin-bench "0,$absent" \
  --no-progress >"$work/refused2.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "CPU $absent does not exist" "$work/refused2.txt" ||
  { cat "$work/refused2.txt"; echo "FAIL: --pin-bench 0,$absent not refused (exit $rc)"; exit 1; }

# --ramp-retries: a target no step can meet (p99 within 1 us); the first step is measured twice
# more at the same load, then the ramp stops with no capacity
rc=0
sb_netns_exec "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --fanout 3 --fanout-rooms 2 \
  --ramp --ramp-start 4 --ramp-step 4 --ramp-max 8 --ramp-step-seconds 1 --ramp-rate 20 --ramp-retries 2 \
  --target-p99-ms 0.001 --capacity --capacity-sample 2 --clip-seconds 1 --resolution 320x180 --srtp aes-cm \
  --json "$work/retries.json" --no-progress >"$work/retries.txt" 2>&1 || rc=$?
cat "$work/retries.txt"
[ "$rc" = 0 ] || { echo "FAIL: the --ramp-retries run exited with $rc"; exit 1; }
python3 - "$work/retries.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
steps = doc["ramp"]["steps"]
cap = doc["capacity"]
ok = ([s["participants"] for s in steps] == [4, 4, 4] and not any(s["ok"] for s in steps)
      and all(s["latency_samples"] > 0 for s in steps) and cap["steps_measured_again"] == 2
      and cap["stopped_by"] == "target_missed" and cap["participants"] == 0
      and doc["parameters"]["ramp"]["retries"] == 2)
print("ramp retries:", [(s["participants"], s["ok"], s["p99_us"]) for s in steps], cap.get("steps_measured_again"))
sys.exit(0 if ok else 1)
PY
[ "$(grep -c 'target missed, measured again' "$work/retries.txt")" = 2 ] ||
  { echo "FAIL: the summary does not say twice that the missed step is measured again"; exit 1; }

rc=0
sb_netns_exec "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --fanout 3 --fanout-rooms 2 \
  --ramp --ramp-start 4 --ramp-step 4 --ramp-max 8 --ramp-step-seconds 1 --ramp-rate 20 \
  --target-p99-ms 10000 --target-loss-pct 100 --capacity --capacity-sample 2 --decode-sample 2 \
  --clip-seconds 1 --resolution 320x180 --srtp aes-cm --baseline --pin-server "$cpu" --json "$work/bench.json" --html "$work/bench.html" \
  --no-progress >"$work/out.txt" 2>&1 || rc=$?
cat "$work/out.txt"
if [ "$rc" != 0 ]; then
  echo "switchboard-bench --capacity --ramp --baseline exited with $rc"
  exit 1
fi
grep -q 'capacity: participants' "$work/out.txt" || { echo "FAIL: no capacity ratio in the summary"; exit 1; }

python3 - "$work/bench.json" "$work/bench.html" "$cpu" <<'PY'
import json, sys

doc = json.load(open(sys.argv[1]))
cpu = sys.argv[3]
fails = []

def check(cond, what):
    if not cond:
        fails.append(what)

b = doc.get("baseline") or {}
check(bool(b), "no baseline object")
for name, d in (("relay", doc), ("baseline", b)):
    cap, smp = d.get("capacity") or {}, d.get("sampling") or {}
    # both steps within the (wide) targets: the capacity is the last step, both rooms
    check(cap.get("participants") == 8 and cap.get("rooms") == 2 and cap.get("stopped_by") == "ramp_max"
          and cap.get("steps") == 2, f"{name}: capacity {cap}")
    check((cap.get("forwarded_pps") or 0) > 0 and (cap.get("latency_samples") or 0) > 0
          and (cap.get("published_pct_of_nominal") or 0) > 0,
          f"{name}: capacity without load or latency: {cap}")
    steps = (d.get("ramp") or {}).get("steps", [])
    check([s.get("participants") for s in steps] == [4, 8] and all(s.get("latency_samples", 0) > 0 for s in steps),
          f"{name}: ramp steps {steps}")
    # the sample: two receivers of the first room (the one that runs from the first step)
    check(smp.get("sampled_receivers") == ["u0002", "u0003"], f"{name}: sampled {smp.get('sampled_receivers')}")
    s, c = smp.get("sampled", {}), smp.get("count_only", {})
    check(s.get("receivers") == 2 and s.get("packets", 0) > 0 and s.get("latency_samples", 0) > 0
          and s.get("packets_without_srtp") == 0, f"{name}: sampled class {s}")
    check(c.get("receivers") == 4 and c.get("packets", 0) > 0 and c.get("latency_samples") == 0
          and c.get("packets_without_srtp") == c.get("packets"), f"{name}: count-only class {c}")
    dec = d.get("decode", {})
    check(dec.get("receivers") == 2 and dec.get("frames_decoded", 0) > 0 and dec.get("frames_corrupt") == 0,
          f"{name}: decoding {dec}")
    tot = d.get("totals", {})
    check(tot.get("srtp_failures") == 0 and tot.get("unknown_ssrc_packets") == 0, f"{name}: totals {tot}")
    check(d.get("pinning") is not None, f"{name}: no pinning record")

# per stream (the relay's document lists them): latency only where sampled, loss everywhere
streams = doc.get("streams", [])
check(len(streams) == 12, f"relay: {len(streams)} streams, not 12 (6 subscribers x 2)")
for st in streams:
    who = f"{st.get('receiver')}<-{st.get('sender')} {st.get('kind')}"
    check(st.get("packets", 0) > 0 and st.get("expected", 0) > 0 and "loss_pct" in st and "lost" in st,
          f"stream {who}: no packets or no loss figure: {st}")
    if st.get("sampled"):
        check(st.get("latency_count", 0) > 0, f"sampled stream {who} without latency")
    else:
        check(st.get("sampled") is False and st.get("latency_count") == 0 and st.get("latency_max_us") == 0,
              f"count-only stream {who} has latency observations: {st}")
check(sum(1 for st in streams if st.get("sampled")) == 4, "relay: not 4 sampled streams (2 receivers x 2)")
# transport-cc from every subscriber, read from the clear header by the count-only ones too
tw = doc.get("participants", {}).get("twcc", {})
check(tw.get("accepted") == 8 and tw.get("feedback_sent", 0) > 0 and tw.get("packets_without_seq") == 0,
      f"relay: transport-cc {tw}")

# the relay's worker thread and the forwarder on the CPU given
pin = doc.get("pinning") or {}
workers = [t for t in pin.get("server_threads", []) if t.get("name", "").startswith("sb-worker-")]
check(len(workers) >= 1 and all(t.get("cpus") == cpu for t in workers), f"relay workers not on CPU {cpu}: {pin}")
bpin = b.get("pinning") or {}
check(bpin.get("forwarder_cpus") == cpu and all(t.get("cpus") == cpu for t in bpin.get("forwarder_threads", [None])),
      f"forwarder not on CPU {cpu}: {bpin}")

vs = doc.get("vs_baseline", {})
for k in ("capacity_participants", "capacity_forwarded_pps"):
    v = vs.get(k, {})
    check(v.get("relay") is not None and v.get("baseline") is not None and v.get("ratio") is not None,
          f"vs_baseline.{k}: {v}")
check(vs.get("capacity_participants", {}).get("ratio") == 1, f"capacity ratio {vs.get('capacity_participants')}")
html = open(sys.argv[2]).read()
check("<h2>Capacity</h2>" in html and "<h2>Capacity mode</h2>" in html, "HTML report without the capacity tables")

print("bench capacity: " + ", ".join(f"{k} {v.get('relay')} / {v.get('baseline')} = {v.get('ratio')}"
                                     for k, v in vs.items() if k.startswith("capacity")))
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY

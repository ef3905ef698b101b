#!/usr/bin/env bash
# scripts/bench-ab.sh, the before/after comparison against the bench's forwarder: one round of
# two builds (here the same one, twice) of a 1:1 call. Checks that both runs happened with the
# forwarder (a report each, with the relay / forwarder figures), that summary.json holds each
# build's medians, that no run lost packets, and that the script refuses arguments it sets
# itself and a build without binaries. Figures are printed, never asserted.
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
for bin in "$BUILD/switchboard" "$BUILD/switchboard-bench"; do
  [ -x "$bin" ] || { echo "missing $bin (build first)"; exit 1; }
done
work=$(mktemp -d /tmp/sb-bench-ab-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

rc=0
bash "$SRC/scripts/bench-ab.sh" -n 1 -o "$work/out" "$BUILD" "$BUILD" -- --calls 1 --duration 2 \
  --srtp aes-cm >"$work/out.txt" 2>&1 || rc=$?
cat "$work/out.txt"
[ "$rc" = 0 ] || { echo "FAIL: bench-ab.sh exited with $rc"; exit 1; }

python3 - "$work/out" <<'PY'
import json, os, sys
out = sys.argv[1]
fails = []
for side in ("a", "b"):
    path = f"{out}/{side}-1.json"
    if not os.path.exists(path):
        fails.append(f"no report {path}")
        continue
    doc = json.load(open(path))
    if "baseline" not in doc or "vs_baseline" not in doc:
        fails.append(f"{side}: run without the forwarder")
        continue
    if doc["totals"]["packets_received"] <= 0 or doc["baseline"]["totals"]["packets_received"] <= 0:
        fails.append(f"{side}: no packets on one side")
s = json.load(open(f"{out}/summary.json"))
for side in ("a", "b"):
    e = s.get(side, {})
    for k in ("relay_cpu_us_per_forwarded_packet", "baseline_cpu_us_per_forwarded_packet",
              "cpu_ratio_median", "relay_latency_p50_us", "baseline_latency_p50_us"):
        if not isinstance(e.get(k), (int, float)) or e[k] <= 0:
            fails.append(f"summary {side}.{k} = {e.get(k)}")
    if e.get("runs") != 1 or e.get("runs_with_loss") != 0 or e.get("runs_with_corrupt_frames") != 0:
        fails.append(f"summary {side}: runs {e.get('runs')}, lossy {e.get('runs_with_loss')}, "
                     f"corrupt {e.get('runs_with_corrupt_frames')}")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY
grep -q '^A .*[0-9]' "$work/out.txt" && grep -q '^B .*[0-9]' "$work/out.txt" ||
  { echo "FAIL: no median lines for A and B in the output"; exit 1; }

# What the script sets itself, and a build without binaries, are refused before anything runs.
rc=0
bash "$SRC/scripts/bench-ab.sh" -n 1 "$BUILD" "$BUILD" -- --calls 1 --baseline >"$work/refused.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q -- '--baseline is the script' "$work/refused.txt" ||
  { echo "FAIL: --baseline among the bench arguments not refused (exit $rc)"; cat "$work/refused.txt"; exit 1; }
rc=0
bash "$SRC/scripts/bench-ab.sh" -n 1 "$work/nowhere" "$BUILD" -- --calls 1 >"$work/refused.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q 'missing' "$work/refused.txt" ||
  { echo "FAIL: a build without binaries not refused (exit $rc)"; cat "$work/refused.txt"; exit 1; }
echo "bench-ab: ok"

#!/usr/bin/env bash
# Before/after comparison of two builds, each against the bench's own forwarder: runs
# `switchboard-bench --spawn-server A/switchboard BENCH_ARGS --baseline`, then the same with
# build B, and again, alternately (A B A B ...), ROUNDS times each, in a network namespace of its
# own (only lo). Prints per build the median of the relay's and the forwarder's CPU per
# forwarded packet and of their ratio (with its range), the medians of latency p50 and of RSS
# growth per subscribed stream, and whether any run lost packets or decoded a corrupt frame.
#
# On a shared or virtual machine one run differs from the next by more than most changes do (the
# same forwarder binary has ranged from 4.9 to 11.4 us per packet within minutes); alternating the
# builds spreads the machine's slow phases over both, and the medians are the figures to write
# down (docs/performance.md, "Relay speed work").
#
#   scripts/bench-ab.sh [-n ROUNDS] [-o DIR] BUILD_A BUILD_B -- BENCH_ARGS...   (as root)
#
# BUILD_A and BUILD_B are directories holding switchboard and switchboard-bench (each build's
# bench runs its own forwarder; they may be the same directory). ROUNDS defaults to 5. The JSON
# report of every run and summary.json stay in DIR (default: a new directory under /tmp). With
# --baseline-alongside among BENCH_ARGS each run serves the forwarder at the same time as the
# relay, which cancels the machine's slow phases out of each run's ratio.
# Example:
#   scripts/bench-ab.sh /tmp/before /tmp/after -- --fanout 16 --fanout-rooms 4 --duration 10 \
#       --srtp aes-cm --pin-server 1 --pin-bench 0
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
rounds=5
out=

usage() { sed -n '14,24s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    -n) [ $# -ge 2 ] || { usage >&2; exit 2; }; rounds=$2; shift 2 ;;
    -o) [ $# -ge 2 ] || { usage >&2; exit 2; }; out=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) break ;;
  esac
done
if [ $# -lt 3 ] || [ "$3" != "--" ]; then
  usage >&2
  exit 2
fi
case "$rounds" in ''|*[!0-9]*|0) echo "bench-ab: -n needs a positive number" >&2; exit 2 ;; esac
build_a=$1 build_b=$2
shift 3
for b in "$build_a" "$build_b"; do
  for bin in "$b/switchboard" "$b/switchboard-bench"; do
    [ -x "$bin" ] || { echo "bench-ab: missing $bin" >&2; exit 2; }
  done
done
for arg in "$@"; do
  case "$arg" in
    --baseline|--json|--json=*|--spawn-server|--spawn-server=*|--url|--url=*)
      echo "bench-ab: $arg is the script's to set" >&2; exit 2 ;;
  esac
done
out=${out:-$(mktemp -d /tmp/sb-bench-ab.XXXXXX)}
mkdir -p "$out"

# shellcheck source=../tests/lib/netns.sh
source "$SRC/tests/lib/netns.sh"
sb_netns_create

for r in $(seq 1 "$rounds"); do
  for side in a b; do
    if [ "$side" = a ]; then b=$build_a; else b=$build_b; fi
    sb_log "round $r/$rounds, build ${side^^} ($b)"
    if ! sb_netns_exec "$b/switchboard-bench" --spawn-server "$b/switchboard" "$@" --baseline \
        --json "$out/$side-$r.json" --no-progress --quiet >"$out/$side-$r.txt" 2>&1; then
      cat "$out/$side-$r.txt" >&2
      echo "bench-ab: the run of build ${side^^} in round $r failed (output above)" >&2
      exit 1
    fi
  done
done

python3 - "$out" "$rounds" "$build_a" "$build_b" <<'PY'
import json, statistics, sys

out, rounds, builds = sys.argv[1], int(sys.argv[2]), {"a": sys.argv[3], "b": sys.argv[4]}

def med(xs):
    xs = [x for x in xs if isinstance(x, (int, float))]
    return statistics.median(xs) if xs else None

def fmt(x, spec=".2f"):
    return "-" if x is None else format(x, spec)

summary = {}
for side, path in builds.items():
    docs = [json.load(open(f"{out}/{side}-{r}.json")) for r in range(1, rounds + 1)]
    vs = [d["vs_baseline"] for d in docs]
    cpu = [v["cpu_us_per_forwarded_packet"] for v in vs]
    ratios = [c["ratio"] for c in cpu if isinstance(c.get("ratio"), (int, float))]
    lat = [v["latency_p50_us"] for v in vs]
    s = {
        "build": path,
        "runs": rounds,
        "relay_cpu_us_per_forwarded_packet": med([c["relay"] for c in cpu]),
        "baseline_cpu_us_per_forwarded_packet": med([c["baseline"] for c in cpu]),
        "cpu_ratio_median": med(ratios),
        "cpu_ratio_min": min(ratios) if ratios else None,
        "cpu_ratio_max": max(ratios) if ratios else None,
        "relay_latency_p50_us": med([x["relay"] for x in lat]),
        "baseline_latency_p50_us": med([x["baseline"] for x in lat]),
        "rss_growth_kib_per_subscribed_stream": med(
            [d["server"].get("rss_growth_kib_per_subscribed_stream") for d in docs]),
        "runs_with_loss": sum(1 for d in docs
                              if d["totals"]["loss_pct"] > 0 or d["baseline"]["totals"]["loss_pct"] > 0),
        "runs_with_corrupt_frames": sum(1 for d in docs
                                        if d["decode"].get("frames_corrupt", 0)
                                        or d["baseline"]["decode"].get("frames_corrupt", 0)),
    }
    summary[side] = s
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)

print(f"medians of {rounds} runs per build (A B alternating), reports in {out}")
print(f"{'build':<6} {'relay us/pkt':>12} {'forwarder':>10} {'ratio':>6} {'ratio range':>12} "
      f"{'p50 relay/fwd us':>17} {'RSS KiB/stream':>15} {'lossy runs':>10} {'corrupt':>8}")
for side, s in summary.items():
    rng = f"{fmt(s['cpu_ratio_min'])}-{fmt(s['cpu_ratio_max'])}"
    p50 = f"{fmt(s['relay_latency_p50_us'], '.0f')}/{fmt(s['baseline_latency_p50_us'], '.0f')}"
    print(f"{side.upper():<6} {fmt(s['relay_cpu_us_per_forwarded_packet']):>12} "
          f"{fmt(s['baseline_cpu_us_per_forwarded_packet']):>10} {fmt(s['cpu_ratio_median']):>6} "
          f"{rng:>12} {p50:>17} {fmt(s['rss_growth_kib_per_subscribed_stream'], '.1f'):>15} "
          f"{s['runs_with_loss']:>10} {s['runs_with_corrupt_frames']:>8}")
for side, s in summary.items():
    print(f"{side.upper()}: {s['build']}")
PY

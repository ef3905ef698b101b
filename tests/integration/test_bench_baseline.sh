#!/usr/bin/env bash
# switchboard-bench --baseline: after the relay run, the same scenario (one publisher to four
# subscribers, and a room of three) goes through the bench's own forwarder, inside a network
# namespace of our own (only lo). Checks of the JSON report: the baseline forwards what it
# should (every expected stream receives packets, the sampled receivers decode frames and none
# is corrupt, latency is measured, the forwarder's forwarded count equals what the receivers got
# within their loss, no SRTP failure on either side, the clients' RTCP verified), its CPU is
# measured as the server's is (process and whole machine, /proc/stat), both runs carry the
# machine's busy CPU, each side names its allocator (the relay's as its binary links it), and
# vs_baseline holds the ratios; the HTML report has the comparison.
# Then the same with --baseline-alongside (the forwarder at the same time as the relay): the same
# checks, and both runs measured the same seconds. Performance figures are printed, never
# asserted.
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"

sb_require_build switchboard switchboard-bench

sb_netns_create
work=$(mktemp -d /tmp/sb-bench-baseline.XXXXXX)
sb_on_cleanup "rm -rf '$work'"

for mode in after alongside; do
  flag=--baseline
  [ "$mode" = alongside ] && flag=--baseline-alongside
  rc=0
  sb_netns_exec "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --fanout 4 --rooms 1 \
    --room-size 3 --duration 3 --srtp aes-cm --decode-sample 4 $flag --json "$work/$mode.json" \
    --html "$work/$mode.html" --no-progress >"$work/$mode.txt" 2>&1 || rc=$?
  cat "$work/$mode.txt"
  if [ "$rc" != 0 ]; then
    echo "switchboard-bench $flag exited with $rc"
    exit 1
  fi
  grep -q '^relay / baseline' "$work/$mode.txt" || { echo "FAIL: $mode: no ratio lines in the summary"; exit 1; }
done

python3 - "$work" "$(sb_expected_malloc "$BUILD/switchboard")" "$(sb_expected_malloc "$BUILD/switchboard-bench")" <<'PY'
import json, sys

fails = []

def check(cond, what):
    if not cond:
        fails.append(f"{mode}: {what}")

for mode in ("after", "alongside"):
  doc = json.load(open(f"{sys.argv[1]}/{mode}.json"))

  # the relay run is whole, as without --baseline
  check(doc["participants"]["reached_media"] == 8, f"relay run: {doc['participants']['reached_media']}/8 reached media")

  b = doc.get("baseline")
  check(b is not None, "no baseline object")
  b = b or {}
  parts, tot, dec, fwd = b.get("participants", {}), b.get("totals", {}), b.get("decode", {}), b.get("forwarder", {})
  check(parts.get("planned") == 8 and parts.get("reached_media") == 8 and parts.get("failed") == 0,
        f"baseline participants {parts}")
  # one publisher to 4 subscribers (2 streams each) + a room of 3 (each gets 2 others' 2 streams)
  check(tot.get("streams") == 20 and tot.get("streams_expected") == 20 and tot.get("streams_without_packets") == 0,
        f"baseline streams: {tot.get('streams')} of {tot.get('streams_expected')}, "
        f"{tot.get('streams_without_packets')} without packets")
  check(tot.get("srtp_failures") == 0 and tot.get("unknown_ssrc_packets") == 0 and tot.get("packets_without_send_time") == 0,
        f"baseline receivers: SRTP failures {tot.get('srtp_failures')}, unknown SSRC {tot.get('unknown_ssrc_packets')}, "
        f"without send time {tot.get('packets_without_send_time')}")
  check(dec.get("receivers") == 4 and dec.get("frames_decoded", 0) > 0 and dec.get("frames_corrupt") == 0
        and dec.get("undecodable_payloads") == 0, f"baseline decoding {dec}")
  lat = b.get("latency_us", {})
  order = [lat.get(k) for k in ("min", "p50", "p90", "p99", "max")]
  check(lat.get("count", 0) > 0 and None not in order and order == sorted(order),
        f"baseline latency missing or out of order: {order}")
  # what the forwarder sent is what the receivers got, but for what they lost
  recv, lost, sent = tot.get("packets_received", -1), tot.get("lost", 0), fwd.get("rtp_forwarded", -2)
  check(recv > 0 and sent - lost <= recv <= sent, f"forwarded {sent}, received {recv}, lost {lost}")
  check(fwd.get("tx_packets") == sent and fwd.get("send_fail") == 0, f"forwarder sends: {fwd}")
  check(fwd.get("drop_srtp") == 0 and fwd.get("drop_unknown") == 0 and fwd.get("drop_malformed") == 0,
        f"forwarder drops: {fwd}")
  check(fwd.get("rx_rtcp", 0) > 0, f"no client RTCP verified by the forwarder: {fwd}")
  check(fwd.get("sources") == 8 and fwd.get("clients") == 8 and fwd.get("srtp_profile") == "AES_CM_128_HMAC_SHA1_80",
        f"forwarder wiring: {fwd}")
  # the same accounting on both sides
  for name, d in (("relay", doc), ("baseline", b)):
      srv, m = d.get("server", {}), d.get("machine_cpu") or {}
      check(srv.get("cpu_us_per_forwarded_packet") is not None and srv.get("cpu_user_us_per_forwarded_packet") is not None,
            f"{name}: no process CPU per forwarded packet: {srv}")
      check(m.get("busy_seconds", 0) > 0 and m.get("busy_us_per_forwarded_packet") is not None
            and 0 < m.get("busy_pct_of_machine", 0) <= 100,
            f"{name}: machine CPU {m}")
      parts_sum = sum(m.get(k, 0) for k in ("user_seconds", "nice_seconds", "system_seconds", "irq_seconds",
                                            "softirq_seconds"))
      check(abs(parts_sum - m.get("busy_seconds", -1)) <= 0.01, f"{name}: busy != sum of its parts: {m}")
  # wake-ups of the threads that forward: the relay's worker (its 20 ms timer alone wakes it 50
  # times a second when idle, and it is mostly idle here) and the forwarder's one thread
  wk, bwk = doc["server"].get("wakeups", {}), b["server"].get("wakeups", {})
  workers = doc["server"].get("workers", [])
  check(wk.get("threads") == "sb-worker-*" and 25 <= wk.get("per_second", 0) < 100000
        and wk.get("per_forwarded_packet", 0) > 0, f"relay wake-ups: {wk}")
  per_worker = sum(w.get("wakeups_per_second", 0) for w in workers)
  check(abs(per_worker - wk.get("per_second", -1)) <= 0.01 * len(workers),
        f"relay wake-ups {wk} are not its workers' {workers}")
  check(bwk.get("threads") == "all" and 0 < bwk.get("per_second", 0) < 100000, f"forwarder wake-ups: {bwk}")
  # each side's allocator: the relay's as its binary links it, the forwarder's the bench's own
  check(doc["server"].get("malloc") == sys.argv[2] and b["server"].get("malloc") == sys.argv[3],
        f"malloc: relay {doc['server'].get('malloc')!r} (expected {sys.argv[2]!r}), forwarder "
        f"{b['server'].get('malloc')!r} (expected {sys.argv[3]!r})")
  vs = doc.get("vs_baseline", {})
  for k in ("cpu_us_per_forwarded_packet", "machine_busy_us_per_forwarded_packet", "wakeups_per_second",
            "latency_p50_us", "latency_p99_us"):
      v = vs.get(k, {})
      check(v.get("ratio") is not None and v.get("relay") is not None and v.get("baseline") is not None,
            f"vs_baseline.{k}: {v}")
  check("loss_pct" in vs, "vs_baseline has no loss")
  html = open(f"{sys.argv[1]}/{mode}.html").read()
  check("Relay against the baseline" in html and "wake-ups per second" in html,
        "HTML report without the baseline table or its wake-ups")

  # after the relay, or at the same time as it, measuring the same seconds
  check(b.get("alongside") is (mode == "alongside"), f"baseline.alongside {b.get('alongside')}")
  if mode == "alongside":
      win, bwin = doc.get("timeline", {}).get("window"), b.get("window", {})
      check(win is not None and [bwin.get("from_s"), bwin.get("to_s")] == win,
            f"windows differ: relay {win}, baseline {bwin}")
  print(f"bench baseline ({mode}): forwarded {sent}, received {recv}, lost {lost}; decoded {dec.get('frames_decoded')}; "
        + ", ".join(f"{k} {v.get('relay')} / {v.get('baseline')} = {v.get('ratio')}" for k, v in vs.items()))
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY

#!/usr/bin/env bash
# Smoke test of switchboard-bench against a real server: two 1:1 calls and one room of four for
# three seconds, inside a network namespace of our own (only lo), then checks of the JSON report:
# everybody reached media, packets on every stream, percentiles in order, frames decoded and none
# corrupt, join time present, transport-cc feedback sent and taken by the relay without loss, the
# server's allocator (read from /api/health) the one its binary links. A second short run is a
# room of three publishing simulcast whose subscribers prefer 320x180: every video stream decodes
# at the low layer's size. A third has the server drop 5% of what it forwards
# (--test-drop-percent): the bench must report that loss and still no corrupt frame.
# Performance figures are printed, never asserted.
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"

sb_require_build switchboard switchboard-bench

sb_netns_create
work=$(mktemp -d /tmp/sb-bench-smoke.XXXXXX)
sb_on_cleanup "rm -rf '$work'"

# the server's token secret: 32 random bytes as hex
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$work/secret"
echo >>"$work/secret"

sb_netns_start server "$work/server.log" "$BUILD/switchboard" serve --http 127.0.0.1:18080 \
  --media-ip 127.0.0.1 --media-port 0 --db "$work/db.sqlite3" --secret-file "$work/secret" \
  --log-format json
if ! sb_wait_for_line "$work/server.log" 'Switchboard listening' 30 server; then
  cat "$work/server.log"
  exit 1
fi

rc=0
sb_netns_exec "$BUILD/switchboard-bench" --url ws://127.0.0.1:18080/ws --secret-file "$work/secret" \
  --server-pid "${SB_PID[server]}" --calls 2 --rooms 1 --room-size 4 --duration 3 --threads 2 \
  --json "$work/bench.json" --html "$work/bench.html" --no-progress || rc=$?
if [ "$rc" != 0 ]; then
  echo "switchboard-bench exited with $rc; server log:"
  tail -50 "$work/server.log"
  exit 1
fi

python3 - "$work/bench.json" "$work/bench.html" "$(sb_expected_malloc "$BUILD/switchboard")" <<'PY'
import json, sys

doc = json.load(open(sys.argv[1]))
fails = []

def check(cond, what):
    if not cond:
        fails.append(what)

parts = doc["participants"]
check(parts["planned"] == 8 and parts["reached_media"] == 8 and parts["failed"] == 0,
      f"participants: {parts['reached_media']}/{parts['planned']} reached media, errors {parts['error_counts']}")
check(parts["answers_refused"] == 0,
      f"the server refused {parts['answers_refused']} call.answer: {parts['refusals'][:3]}")

streams = doc["streams"]
tot = doc["totals"]
# 2 calls x 2 participants x 2 streams + a room of 4 x 3 others x 2 streams
check(len(streams) == 32 and tot["streams_expected"] == 32, f"{len(streams)} streams, expected 32")
for s in streams:
    check(s["packets"] > 0, f"no packets on {s['kind']} {s['sender']} -> {s['receiver']}")
    check(s["without_send_time"] == 0, f"{s['without_send_time']} packets without send time on "
          f"{s['sender']} -> {s['receiver']}")

lat = doc["latency_us"]
order = [lat.get(k) for k in ("min", "p50", "p90", "p99", "p999", "max")]
check(lat["count"] > 0 and None not in order and order == sorted(order),
      f"latency percentiles missing or out of order: {order}")
check(len(lat["cdf"]) > 2 and lat["cdf"][-1][1] == 1.0, "latency CDF incomplete")

dec = doc["decode"]
check(dec["receivers"] > 0 and dec["frames_decoded"] > 0, f"nothing decoded: {dec}")
check(dec["frames_corrupt"] == 0 and dec["undecodable_payloads"] == 0, f"decode errors: {dec}")

join = doc["join_ms"]
check(join["count"] > 0 and join.get("p50", 0) > 0, f"no join time: {join}")
check(doc["server"].get("cpu_seconds") is not None, "no server CPU figure")
# user + kernel split of the server's CPU per forwarded packet: both present, none negative, and
# summing to the total (each is rounded to 0.001 in the JSON)
srv = doc["server"]
split = [srv.get(k) for k in ("cpu_user_us_per_forwarded_packet", "cpu_system_us_per_forwarded_packet",
                              "cpu_us_per_forwarded_packet")]
check(None not in split and min(split) >= 0 and abs(split[0] + split[1] - split[2]) <= 0.002,
      f"server CPU per forwarded packet: user {split[0]} + kernel {split[1]} != total {split[2]}")
check(tot["srtp_failures"] == 0 and tot["unknown_ssrc_packets"] == 0,
      f"SRTP failures {tot['srtp_failures']}, unknown SSRC {tot['unknown_ssrc_packets']}")
# transport-cc is negotiated by default: every participant sends feedback for what it receives,
# every packet it receives carries a transport-wide sequence number, and the relay's estimator
# takes the feedback without harm (none malformed, no loss in this run without drops)
tw, cnt = parts.get("twcc", {}), srv.get("counters", {})
check(doc["parameters"].get("twcc") is True and tw.get("accepted") == 8 and tw.get("feedback_sent", 0) >= 8 * 10
      and tw.get("packets_without_seq") == 0, f"transport-cc: parameters {doc['parameters'].get('twcc')}, {tw}")
check(all(isinstance(cnt.get(k), int) for k in ("bwe_overuse", "bwe_probes", "bwe_probe_ok", "probe_packets",
                                                 "nack_over_budget")), f"relay bwe counters missing: {cnt}")
check(cnt.get("drop_malformed") == 0 and cnt.get("drop_srtp") == 0 and tot["loss_pct"] == 0,
      f"with transport-cc feedback: relay drop_malformed {cnt.get('drop_malformed')}, drop_srtp "
      f"{cnt.get('drop_srtp')}, loss {tot['loss_pct']}%")

check(srv.get("malloc") == sys.argv[3], f"server malloc {srv.get('malloc')!r}, expected {sys.argv[3]!r}")

html = open(sys.argv[2]).read()
check("<svg" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", ""),
      "HTML report missing charts or not self-contained")

print(f"bench smoke: {parts['reached_media']} participants, {len(streams)} streams, "
      f"{tot['packets_received']} packets, loss {tot['loss_pct']}%, latency p50 {lat['p50']} us "
      f"p99 {lat['p99']} us, join p50 {join.get('p50')} ms, {dec['frames_decoded']} frames decoded, "
      f"server {split[2]} us CPU per forwarded packet (user {split[0]} + kernel {split[1]}), "
      f"transport-cc feedback {tw.get('feedback_sent')}, relay bwe_overuse {cnt.get('bwe_overuse')}")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY

# JSON logs tie a call.join to its relay events: each participant's "joined the call" line and
# its "media connected" line (logged when the relay's event arrives) carry the same request id,
# S<session>.<id of the call.join>, distinct per participant.
python3 - "$work/server.log" <<'PY' || exit 1
import json, sys
joined, media = {}, {}
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        continue  # the plain "Switchboard listening" line
    who = (o.get("tenant"), o.get("room"), o.get("user"))
    if o.get("message", "").startswith("joined the call"):
        joined[who] = o.get("request")
    elif o.get("message", "").startswith("media connected"):
        media[who] = o.get("request")
ok = len(joined) == 8 and set(media) == set(joined) and \
    all(r and r.startswith("S") and media[w] == r for w, r in joined.items()) and \
    len(set(joined.values())) == len(joined)
print(f"request ids: {len(joined)} joins, {len(media)} media lines, tied: {ok}")
sys.exit(0 if ok else 1)
PY

# Simulcast: three publishers each send rids l, m, h (320x180, 640x360, 1280x720) and every
# subscriber asks for 320x180 with call.prefer; everybody decodes everything it receives. Every
# video stream must decode frames, none corrupt, and all of them at the low layer's size.
sb_netns_exec "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --rooms 1 --room-size 3 \
  --simulcast --prefer 320x180 --duration 3 --clip-seconds 2 --decode-sample 3 --decode-all \
  --json "$work/simulcast.json" --no-progress --quiet
python3 - "$work/simulcast.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
fails = []

def check(cond, what):
    if not cond:
        fails.append(what)

par = doc["parameters"]
check(par["simulcast"] is True and par["prefer"] == {"max_width": 320, "max_height": 180},
      f"parameters: simulcast {par.get('simulcast')}, prefer {par.get('prefer')}")
check([(l["rid"], l["width"], l["height"]) for l in par.get("simulcast_layers", [])] ==
      [("l", 320, 180), ("m", 640, 360), ("h", 1280, 720)], f"layers {par.get('simulcast_layers')}")
parts = doc["participants"]
check(parts["reached_media"] == 3 and parts["failed"] == 0,
      f"participants: {parts['reached_media']}/3 reached media, errors {parts['error_counts']}")
check(parts.get("prefer_answered") == 3, f"call.prefer answered for {parts.get('prefer_answered')} of 3")
video = [s for s in doc["streams"] if s["kind"] == "video"]
check(len(video) == 6, f"{len(video)} video streams received, expected 6")
for s in video:
    who = f"{s['sender']} -> {s['receiver']}"
    dec = s.get("decode", {})
    check(dec.get("frames_decoded", 0) > 0, f"no frame decoded on {who}: {dec}")
    check(dec.get("frames_corrupt", 1) == 0, f"corrupt frames on {who}: {dec}")
    check(s["frame_sizes"] and set(s["frame_sizes"]) == {"320x180"},
          f"frame sizes (keyframe headers) on {who}: {s['frame_sizes']}")
    check(dec.get("frame_sizes") and set(dec["frame_sizes"]) == {"320x180"},
          f"decoded sizes on {who}: {dec.get('frame_sizes')}")
vs = doc["video_sizes"]
check(vs["streams_by_width"] == {"320": 6} and vs["decoded_streams_by_width"] == {"320": 6},
      f"streams by width {vs['streams_by_width']}, decoded {vs['decoded_streams_by_width']}")
srv = doc["server"]
check(srv.get("cpu_us_per_forwarded_packet") is not None, "no server CPU per forwarded packet")
print(f"bench simulcast run: video streams by width {vs['streams_by_width']}, frames by width "
      f"{vs['frames_by_width']}, {doc['decode']['frames_decoded']} frames decoded, loss "
      f"{doc['totals']['loss_pct']}%, SRTP failures {doc['totals']['srtp_failures']}, server "
      f"{srv.get('cpu_us_per_forwarded_packet')} us CPU per forwarded packet")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY

# Simulcast without a size preference: subscribers start on the low layer and are switched to
# the top one at its keyframe, with keyframe requests sent while packets are being forwarded (a
# request once overwrote the packet being built: SRTP failures at the relay and the publisher).
sb_netns_exec "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --rooms 1 --room-size 3 \
  --simulcast --duration 3 --clip-seconds 2 --json "$work/simulcast-top.json" --no-progress --quiet
python3 - "$work/simulcast-top.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
fails = []
tot, vs, cnt = doc["totals"], doc["video_sizes"], doc["server"]["counters"]
if tot["srtp_failures"] != 0 or cnt["drop_srtp"] != 0:
    fails.append(f"SRTP failures at the bench {tot['srtp_failures']}, at the relay {cnt['drop_srtp']}")
if vs["streams"] != 6 or "1280" not in vs["frames_by_width"]:
    fails.append(f"video sizes {vs}")
print(f"bench simulcast top run: frames by width {vs['frames_by_width']}, loss {tot['loss_pct']}%, "
      f"SRTP failures {tot['srtp_failures']}, relay drop_srtp {cnt['drop_srtp']}")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY

# Known loss: the bench's loss figures and its decoding check under 5% drops by the relay.
sb_netns_exec "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" \
  --server-arg=--test-drop-percent=5 --calls 2 --duration 3 --json "$work/loss.json" --no-progress \
  --quiet
python3 - "$work/loss.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
loss, dec = doc["totals"]["loss_pct"], doc["decode"]
print(f"bench loss run: loss {loss}% (server drops 5%), decode {dec}")
ok = 2.0 <= loss <= 9.0 and dec["frames_corrupt"] == 0 and dec["frames_decoded"] > 0
if not ok:
    print("FAIL: loss not seen as ~5%, or frames decoded corrupt")
sys.exit(0 if ok else 1)
PY

# Two relay workers: rooms go round-robin, so two rooms load both, and the report shows each
# worker's CPU in the window (the threads found by their names, sb-worker-<index>).
sb_netns_exec "$BUILD/switchboard-bench" --spawn-server "$BUILD/switchboard" --server-arg=--workers=2 \
  --rooms 2 --room-size 3 --duration 3 --json "$work/workers.json" --no-progress --quiet
python3 - "$work/workers.json" <<'PY'
import json, sys
srv = json.load(open(sys.argv[1]))["server"]
ws = srv.get("workers", [])
print(f"bench workers run: server {srv.get('cpu_seconds')} CPU s, workers {ws}")
fails = []
if [w["name"] for w in ws] != ["sb-worker-0", "sb-worker-1"]:
    fails.append("not exactly the two workers sb-worker-0 and sb-worker-1")
for w in ws:
    if not isinstance(w["cpu_seconds"], (int, float)) or w["cpu_seconds"] <= 0 or w["cpu_pct_of_one_core"] <= 0:
        fails.append(f"{w['name']} has no CPU in the window: its room was not there")
cpus = [w["cpu_seconds"] for w in ws if isinstance(w["cpu_seconds"], (int, float))]
if len(cpus) == 2 and not fails:
    if sum(cpus) > srv["cpu_seconds"] + 0.002:
        fails.append("the workers' CPU is more than the process's")
    # an idle worker still wakes for its timer (well under 1% of the loaded one's CPU): two equal
    # rooms, one per worker, load them alike
    if min(cpus) < 0.25 * max(cpus):
        fails.append(f"one worker carried the load ({cpus}): rooms were not spread")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY

#!/usr/bin/env bash
# Soak run (not part of the test suite): one server in a network namespace of its own, and
# switchboard-bench rounds against it back to back for SOAK_MINUTES (default 30). Each round
# provisions new users and rooms, joins 1:1 calls and group rooms, holds them, and leaves, so
# the server goes through join/leave churn as well as steady media. Between rounds, once the
# round's participants are gone, the script samples the server's RSS, open file descriptors,
# threads and the queues /api/health shows (database backlog, WebSocket connections, relay
# transports) into soak.csv, and at the end compares the first and the last third of the run
# (after two warm-up rounds).
#
#   scripts/soak.sh [BUILD_DIR]     (as root; BUILD_DIR default build)
#
# Environment: SOAK_MINUTES (30), SOAK_ROUND_SECONDS (media seconds per round, 40),
# SOAK_CALLS (2), SOAK_ROOMS (2), SOAK_ROOM_SIZE (4), SOAK_VIDEO_KBPS (300), SOAK_OUT (a new
# directory under /tmp; kept). Exits 1 if a round fails or a figure grew over the run (RSS by
# more than 10% or 4 MiB, file descriptors or threads at all, a queue not back to 0).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$SRC/build}
# shellcheck source=../tests/lib/netns.sh
source "$SRC/tests/lib/netns.sh"

minutes=${SOAK_MINUTES:-30}
round_s=${SOAK_ROUND_SECONDS:-40}
out=${SOAK_OUT:-$(mktemp -d /tmp/sb-soak.XXXXXX)}
mkdir -p "$out"
for bin in "$BUILD/switchboard" "$BUILD/switchboard-bench"; do
  [ -x "$bin" ] || { echo "missing $bin (build first)"; exit 1; }
done

sb_netns_create
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$out/secret"
echo >>"$out/secret"
sb_netns_start server "$out/server.log" "$BUILD/switchboard" serve --http 127.0.0.1:18400 \
  --media-ip 127.0.0.1 --media-port 0 --db "$out/db.sqlite3" --secret-file "$out/secret" \
  --max-conns-per-address 0
sb_wait_for_line "$out/server.log" 'Switchboard listening' 30 server
pid=${SB_PID[server]}

# sample ROUND: one CSV line once the round's calls have ended (polled, bounded).
sample() {
  local health deadline=$((SECONDS + 30))
  while :; do
    health=$(sb_netns_exec curl -sf http://127.0.0.1:18400/api/health) || health='{}'
    if python3 -c 'import json,sys; h=json.loads(sys.argv[1]); sys.exit(0 if h.get("db_backlog")==0 and h["signaling"]["connections"]==0 and sum(w["transports"] for w in h["workers"])==0 else 1)' "$health" 2>/dev/null; then
      break
    fi
    [ $SECONDS -lt $deadline ] || break # recorded as it is: the check below reports it
    sleep 0.5
  done
  python3 - "$1" "$pid" "$health" >>"$out/soak.csv" <<'PY'
import json, os, sys, time
rnd, pid, h = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status") if ":" in l)
rss = int(status["VmRSS"].split()[0])
threads = int(status["Threads"])
fds = len(os.listdir(f"/proc/{pid}/fd"))
w = h.get("workers", [])
print(f"{rnd},{int(time.time())},{rss},{fds},{threads},{h.get('db_backlog', -1)},"
      f"{h.get('signaling', {}).get('connections', -1)},{sum(x['transports'] for x in w)},"
      f"{sum(x['rtp_forwarded'] for x in w)},{sum(x['drop_srtp'] for x in w)}")
PY
}

echo "round,time,rss_kib,fds,threads,db_backlog,ws_connections,transports,rtp_forwarded,drop_srtp" \
  >"$out/soak.csv"
sample 0
end=$((SECONDS + minutes * 60))
round=0
failed=0
while [ $SECONDS -lt $end ]; do
  round=$((round + 1))
  if ! sb_netns_exec "$BUILD/switchboard-bench" --url ws://127.0.0.1:18400/ws \
      --secret-file "$out/secret" --tenant "soak$round" --calls "${SOAK_CALLS:-2}" \
      --rooms "${SOAK_ROOMS:-2}" --room-size "${SOAK_ROOM_SIZE:-4}" \
      --video-kbps "${SOAK_VIDEO_KBPS:-300}" --duration "$round_s" --threads 1 \
      --decode-sample 1 --json "$out/round-$round.json" --no-progress --quiet \
      >"$out/round-$round.log" 2>&1; then
    sb_log "round $round failed (see $out/round-$round.log)"
    failed=1
  fi
  sample "$round"
  sb_log "round $round: $(tail -n 1 "$out/soak.csv")"
done

python3 - "$out/soak.csv" <<'PY' || failed=1
import csv, statistics, sys
# Round 0 is the idle server before any call; the first two rounds warm up (allocator arenas,
# SQLite's page cache, the relay's buffer pools reach their working size).
rows = list(csv.DictReader(open(sys.argv[1])))[3:]
if len(rows) < 3:
    sys.exit("fewer than 3 rounds after the two warm-up rounds: run longer")
third = max(1, len(rows) // 3)
first, last = rows[:third], rows[-third:]
bad = []
def med(rs, k):
    return statistics.median(int(r[k]) for r in rs)
rss0, rss1 = med(first, "rss_kib"), med(last, "rss_kib")
print(f"rounds {len(rows)}; RSS median first third {rss0 / 1024:.1f} MiB, last third "
      f"{rss1 / 1024:.1f} MiB, max {max(int(r['rss_kib']) for r in rows) / 1024:.1f} MiB")
if rss1 > rss0 * 1.10 and rss1 - rss0 > 4096:
    bad.append("RSS grew")
for k in ("fds", "threads"):
    a, b = med(first, k), med(last, k)
    print(f"{k}: first third {a:.0f}, last third {b:.0f}, max {max(int(r[k]) for r in rows)}")
    if b > a:
        bad.append(f"{k} grew")
for k in ("db_backlog", "ws_connections", "transports"):
    left = [r["round"] for r in rows if int(r[k]) != 0]
    if left:
        bad.append(f"{k} not back to 0 after rounds {', '.join(left)}")
print(f"forwarded {int(rows[-1]['rtp_forwarded'])} RTP packets, SRTP drops {rows[-1]['drop_srtp']}")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
sb_log "soak: $round rounds in $minutes min; figures in $out/soak.csv"
exit $failed

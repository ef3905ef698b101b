#!/usr/bin/env bash
# The Debian package end to end: builds the .deb with CPack from the build tree, checks its
# Depends cover every library the binaries link and that they find the private libsrtp2 through
# their RUNPATH, installs it with dpkg -i, runs `systemd-analyze verify` on the installed unit,
# starts /usr/bin/switchboard with the installed /etc/switchboard/switchboard.yaml (state in a
# temporary directory, given through SWITCHBOARD_* variables; working directory /, so nothing
# comes from the source tree) inside a network namespace, checks the demo page comes from
# /usr/share/switchboard/web and every log line is JSON, and holds a 2-participant call for 3 s
# with the installed switchboard-bench. The package is purged at the end.
# Needs root (dpkg, namespaces): CI runs on a throwaway machine. Runs once: the sanitizer tree
# skips it (it tests packaging, and its binaries are the same code as the normal tree's).
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"

if grep -qs '^SB_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then
  echo "SKIP: the package test runs in the normal build tree only (this is the sanitizer tree)"
  exit 0
fi
for tool in cpack dpkg dpkg-deb systemd-analyze curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh --test)"; exit 1; }
done

trap 'echo "FAIL: line $LINENO: $BASH_COMMAND"' ERR
sb_netns_create
work=$(mktemp -d /tmp/sb-package.XXXXXX)
sb_on_cleanup "rm -rf '$work'"

# 1. The package, from the current build.
(cd "$BUILD" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/pkg/switchboard_*.deb)
sb_log "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
dpkg-deb -x "$deb" "$work/root"
depends=$(dpkg-deb -f "$deb" Depends)
dpkg-deb -e "$deb" "$work/control"
conffiles=$(cat "$work/control/conffiles")
[ "$conffiles" = /etc/switchboard/switchboard.yaml ] || { echo "FAIL: conffiles: $conffiles"; exit 1; }

# 2. Every library a binary links comes from the package itself or from a package in Depends.
fails=0
for bin in switchboard switchboard-bench; do
  runpath=$(objdump -p "$work/root/usr/bin/$bin" | awk '/RUNPATH|RPATH/{print $2}')
  case "$runpath" in
    ""|'$ORIGIN/../lib/switchboard') ;;
    *) echo "FAIL: $bin RUNPATH $runpath (must not point into /opt or the build tree)"; fails=1 ;;
  esac
  for lib in $(objdump -p "$work/root/usr/bin/$bin" | awk '/NEEDED/{print $2}'); do
    if [ -e "$work/root/usr/lib/switchboard/$lib" ]; then continue; fi
    # (awk reads to the end: an early exit would fail the pipeline with SIGPIPE under pipefail)
    # (the 64-bit entry first: libc6-i386 also ships a libc.so.6)
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ && !p {p = $NF}
                                          $1 == l && !q {q = $NF} END {print p ? p : q}')
    # dpkg knows a file by the path its package shipped (/lib or /usr/lib with merged /usr)
    real=$(readlink -f "$path")
    pkg=""
    for p in "$path" "$real" "${real#/usr}" "/usr$real"; do
      pkg=$(dpkg -S "$p" 2>/dev/null | awk -F: 'NR == 1 {print $1}') && [ -n "$pkg" ] && break
    done
    if [ -z "$pkg" ] || ! grep -Eq "(^|, )$pkg( |,|$)" <<<"$depends"; then
      echo "FAIL: $bin needs $lib ($path, package '${pkg:-?}') not in Depends: $depends"
      fails=1
    fi
  done
done
[ "$fails" = 0 ]

# 3. Install; purge at the end (a package installed before this test is replaced, then purged).
if dpkg-query -W -f='${Status}' switchboard 2>/dev/null | grep -q "install ok installed"; then
  sb_log "warning: a switchboard package was installed; this test replaces and purges it"
fi
sb_on_cleanup "dpkg -P switchboard >/dev/null 2>&1 || true"
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; exit 1; }
unit=/usr/lib/systemd/system/switchboard.service
systemd-analyze verify "$unit" >"$work/verify.log" 2>&1 || { echo "FAIL: systemd-analyze verify"; cat "$work/verify.log"; exit 1; }
if [ -s "$work/verify.log" ]; then echo "FAIL: systemd-analyze verify warns:"; cat "$work/verify.log"; exit 1; fi
grep -q '^ExecStart=/usr/bin/switchboard serve --config /etc/switchboard/switchboard.yaml$' "$unit"
for key in DynamicUser=yes StateDirectory=switchboard LimitNOFILE= AmbientCapabilities= \
           NoNewPrivileges=yes ProtectSystem=strict; do
  grep -q "^$key" "$unit" || { echo "FAIL: unit lacks $key"; exit 1; }
done
sb_log "installed; unit verified"

# 4. The installed binary with the installed config; state in $work (as the unit's
#    StateDirectory would be); run from / so nothing is found relative to the source tree.
mkdir -m 700 "$work/state"
run_env=(env -C / SWITCHBOARD_DB="$work/state/switchboard.sqlite3"
         SWITCHBOARD_SECRET_FILE="$work/state/switchboard.secret" SWITCHBOARD_HTTP=127.0.0.1:18090
         SWITCHBOARD_MEDIA_PORT=0 SWITCHBOARD_LOG_FORMAT=json)
"${run_env[@]}" /usr/bin/switchboard serve --config /etc/switchboard/switchboard.yaml \
  --print-config >"$work/effective.yaml"
grep -q '^web-dir: "/usr/share/switchboard/web"  # default$' "$work/effective.yaml" &&
  grep -q '^media-ip: "127.0.0.1"  # file$' "$work/effective.yaml" &&
  grep -q '^log-format: "json"  # environment SWITCHBOARD_LOG_FORMAT$' "$work/effective.yaml" ||
  { echo "FAIL: effective configuration:"; cat "$work/effective.yaml"; exit 1; }

sb_netns_start server "$work/server.log" "${run_env[@]}" /usr/bin/switchboard serve \
  --config /etc/switchboard/switchboard.yaml
if ! sb_wait_for_line "$work/server.log" 'Switchboard listening' 30 server; then
  cat "$work/server.log"
  exit 1
fi
sb_netns_exec curl -sf -o "$work/index.html" http://127.0.0.1:18090/
cmp -s "$work/index.html" /usr/share/switchboard/web/index.html ||
  { echo "FAIL: / is not /usr/share/switchboard/web/index.html"; exit 1; }

# 5. A call of two for 3 s with the installed bench: media both ways.
sb_netns_exec env -C / /usr/bin/switchboard-bench --url ws://127.0.0.1:18090/ws \
  --secret-file "$work/state/switchboard.secret" --server-pid "${SB_PID[server]}" --rooms 1 \
  --room-size 2 --duration 3 --json "$work/bench.json" --no-progress --quiet >"$work/bench.log" 2>&1 ||
  { echo "FAIL: switchboard-bench:"; tail -30 "$work/bench.log"; tail -30 "$work/server.log"; exit 1; }
sb_stop server 10

python3 - "$work/bench.json" "$work/server.log" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
fails = []
parts, streams = doc["participants"], doc["streams"]
if parts["reached_media"] != 2 or parts["failed"] != 0:
    fails.append(f"participants: {parts['reached_media']}/2 reached media, errors {parts['error_counts']}")
pairs = {(s["sender"], s["receiver"]) for s in streams if s["packets"] > 0}
senders = {p[0] for p in pairs}
if len(streams) != 4 or len(senders) != 2 or any(s["packets"] == 0 for s in streams):
    fails.append(f"media both ways: {[(s['kind'], s['sender'], s['receiver'], s['packets']) for s in streams]}")
events, lines = [], 0
for line in open(sys.argv[2]):
    if line.startswith("Switchboard listening"):
        continue
    lines += 1
    try:
        obj = json.loads(line)
    except ValueError:
        fails.append(f"log line is not JSON: {line!r}")
        continue
    if not {"time", "level", "message"} <= obj.keys():
        fails.append(f"log line without time/level/message: {line!r}")
    events.append(obj.get("event"))
for want in ("server.start", "server.stop"):
    if want not in events:
        fails.append(f"no {want} event in the server's log")
print(f"package call: {parts['reached_media']} participants, {len(streams)} streams, "
      f"{doc['totals']['packets_received']} packets, loss {doc['totals']['loss_pct']}%; "
      f"{lines} JSON log lines")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY

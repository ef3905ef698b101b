#!/usr/bin/env bash
# The database on a full filesystem: the server's SQLite file lies on a small tmpfs (mounted in a
# private mount namespace of this test, so nothing outside sees it and it goes away with the
# test) while a 1:1 call (switchboard-bench) holds media through the node. fullfs.py fills the
# filesystem, then every kind of change (rooms, contacts, users, permissions, connections) must
# be refused promptly with `storage_full` (HTTP 507 on the admin API), reads go on, and the call
# keeps its media; once the filler is removed the same changes succeed. After the server stops,
# the file passes SQLite's integrity and foreign-key checks and holds exactly the changes that
# were answered with success.
# Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP=1 keeps the work directory.
set -euo pipefail

# A private mount namespace first: the tmpfs below is then ours alone (`ip netns exec` copies it
# into the server's namespace) and is unmounted by the kernel whatever happens to this script.
if [ -z "${SB_FULLFS_UNSHARED:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "needs root (mount namespaces)" >&2; exit 1; }
  SB_FULLFS_UNSHARED=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"

bin=$BUILD/switchboard
driver=$SRC/tests/integration/fullfs.py
port=8080 # free by construction: the namespace is ours alone
for b in "$bin" "$BUILD/switchboard-bench"; do
  [ -x "$b" ] || { sb_log "missing $b (build first)"; exit 1; }
done
scale=1
if grep -qs '^SB_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then scale=3; fi

work=$(mktemp -d /tmp/sb-fullfs.XXXXXX)
finish() {
  local rc=$1 f
  if [ "$rc" != 0 ]; then
    for f in "$work"/*.log; do
      [ -f "$f" ] || continue
      echo "----- $f (last 40 lines) -----" >&2
      tail -n 40 "$f" >&2
    done
  fi
  umount "$work/fs" 2>/dev/null || true
  [ -n "${SB_KEEP:-}" ] || rm -rf "$work"
}
sb_netns_create
sb_on_cleanup 'finish $rc'

# 4 MiB: room for the schema, the demo data and the write-ahead log of this test, small enough
# to fill in an instant.
mkdir "$work/fs"
mount -t tmpfs -o size=4m,mode=0700 sb-fullfs "$work/fs"
db=$work/fs/db.sqlite3

sb_netns_start server "$work/server.log" "$bin" serve --demo --http "127.0.0.1:$port" \
  --media-ip 127.0.0.1 --media-port 0 --db "$db" --secret-file "$work/secret"
sb_wait_for_line "$work/server.log" "Switchboard listening" $((20 * scale)) server

# The call: one 1:1 call of a bench tenant, longer than the test; stopped by PID at the end.
sb_netns_start bench "$work/bench.log" "$BUILD/switchboard-bench" \
  --url "ws://127.0.0.1:$port/ws" --secret-file "$work/secret" --tenant fullfs --calls 1 \
  --duration $((120 * scale)) --threads 1 --decode-sample 0 --no-progress --quiet

rc=0
sb_netns_exec python3 "$driver" run --port "$port" --fs "$work/fs" --journal "$work/journal.json" \
  --timeout $((30 * scale)) || rc=$?
sb_alive server || { sb_log "the server died"; rc=1; }
sb_stop bench 5 || true
stop_rc=0
sb_stop server 10 || stop_rc=$?
if [ "$stop_rc" != 0 ] && [ "$stop_rc" != 143 ]; then
  sb_log "server exited with status $stop_rc after TERM"
  rc=1
fi
if [ -f "$work/journal.json" ]; then
  python3 "$driver" verify --db "$db" --journal "$work/journal.json" || rc=1
else
  sb_log "no journal: the run did not finish"
  rc=1
fi
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work/server.log"; then
  sb_log "sanitizer report in the server log"
  rc=1
fi
grep -E 'storage|disk|full' "$work/server.log" | head -5 >&2 || true
sb_log "full filesystem test $([ "$rc" = 0 ] && echo passed || echo FAILED)"
exit "$rc"

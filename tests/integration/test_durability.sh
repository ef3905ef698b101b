#!/usr/bin/env bash
# Durability: the server is stopped in the middle of a sequence of changes (admin HTTP API and
# client API over the WebSocket), once with SIGTERM and once with SIGKILL, and started again on
# the same database. Every change that was answered with success must be there, none may be
# half-applied, and a request in flight at the signal is wholly applied or not at all (and stays
# so). After SIGKILL the database file passes SQLite's integrity and foreign-key checks.
# durability.py (python3 standard library) drives the requests and checks the state.
# Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP=1 keeps the work directory
# (database, journal, server logs) for a look afterwards.
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"

bin=$BUILD/switchboard
driver=$SRC/tests/integration/durability.py
port=8080   # free by construction: the namespace is ours alone
[ -x "$bin" ] || { sb_log "missing $bin (build first)"; exit 1; }
command -v python3 >/dev/null || { sb_log "python3 not found"; exit 1; }
scale=1
if grep -qs '^SB_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then scale=3; fi

work=$(mktemp -d /tmp/sb-durability.XXXXXX)
finish() {
  local rc=$1 f
  if [ "$rc" != 0 ]; then
    for f in "$work"/server*.log; do
      [ -f "$f" ] || continue
      echo "----- $f (last 40 lines) -----" >&2
      tail -n 40 "$f" >&2
    done
  fi
  [ -n "${SB_KEEP:-}" ] || rm -rf "$work"
}
sb_netns_create
sb_on_cleanup 'finish $rc'

# start_server NAME: serve --demo on the one database of this test; waits until it listens.
start_server() {
  sb_netns_start "$1" "$work/$1.log" "$bin" serve --demo --http "127.0.0.1:$port" \
    --media-ip 127.0.0.1 --media-port 0 --db "$work/db.sqlite3" --secret-file "$work/secret"
  sb_wait_for_line "$work/$1.log" "Switchboard listening" $((20 * scale)) "$1"
}

# wait_exit NAME: waits (bounded) for NAME, which the driver signalled, to exit; its exit
# status goes to $exit_rc (not a $(...) subshell: only this shell can wait for its children).
wait_exit() {
  local deadline=$((SECONDS + 10 * scale))
  while sb_alive "$1" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  exit_rc=0
  sb_stop "$1" 5 || exit_rc=$?
}

# run_driver ARGS...: durability.py in the namespace, on the journal of this test.
run_driver() { sb_netns_exec python3 "$driver" "$@" --journal "$work/journal.json"; }

# Phase 1: SIGTERM after the 31st request (the middle of the fifth chain of seven steps).
start_server server1
run_driver run --pid "${SB_PID[server1]}" --signal TERM --phase 1 --kill-after 31
wait_exit server1
if [ "$exit_rc" != 0 ] && [ "$exit_rc" != 143 ]; then
  sb_log "server exited with status $exit_rc after SIGTERM"
  exit 1
fi
grep -q 'signal 15: shutting down' "$work/server1.log" || { sb_log "no shutdown line"; exit 1; }
sb_log "server stopped by SIGTERM (status $exit_rc); restarting on the same database"

start_server server2
run_driver verify

# Phase 2: SIGKILL after the 46th request (the middle of the seventh chain).
run_driver run --pid "${SB_PID[server2]}" --signal KILL --phase 2 --kill-after 46
wait_exit server2
if [ "$exit_rc" != 137 ]; then
  sb_log "server exited with status $exit_rc, expected 137 (SIGKILL)"
  exit 1
fi
sb_log "server killed; checking a copy of the database, then restarting on it"
mkdir "$work/copy"
cp "$work"/db.sqlite3* "$work/copy/"
python3 "$driver" integrity --db "$work/copy/db.sqlite3"

start_server server3
run_driver verify

src_rc=0
sb_stop server3 10 || src_rc=$?
if [ "$src_rc" != 0 ] && [ "$src_rc" != 143 ]; then
  sb_log "server exited with status $src_rc after TERM"
  exit 1
fi
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$work"/server*.log; then
  sb_log "sanitizer report in a server log"
  exit 1
fi
sb_log "durability test passed"

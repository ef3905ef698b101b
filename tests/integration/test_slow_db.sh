#!/usr/bin/env bash
# The signaling loop does not wait on the database (tests/integration/slow_db.py): a server whose
# database thread is made slow on purpose (--test-db-delay-ms, a test-only flag) keeps answering
# health checks and WebSocket pings while admin and client requests wait, in a namespace of its
# own.
set -euo pipefail
src=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SB_BUILD_DIR:-$src/build}
. "$src/tests/lib/netns.sh"
tmp=$(mktemp -d /tmp/sb-slowdb.XXXXXX)
sb_netns_create
sb_on_cleanup "rm -rf '$tmp'"
# The request rate limit is lifted: the test fills a session's queue (65 requests at once),
# which the rate limit would answer first (test_ws_limits checks that one).
sb_netns_start server "$tmp/server.log" "$build/switchboard" serve --demo --http 127.0.0.1:8080 \
  --media-port 0 --db "$tmp/db" --secret-file "$tmp/secret" --test-db-delay-ms 1500 \
  --max-requests-per-second 100000
sb_wait_for_line "$tmp/server.log" "Switchboard listening" 60 server
rc=0
sb_netns_exec python3 "$src/tests/integration/slow_db.py" 127.0.0.1 8080 || rc=$?
# Shut down with database jobs running and queued and their callers still connected: the queued
# ones are cancelled, nothing leaks, the server exits cleanly.
mkfifo "$tmp/hold.in"
sb_netns_start holder "$tmp/hold.log" sh -c "exec python3 '$src/tests/integration/slow_db.py' 127.0.0.1 8080 --hold <'$tmp/hold.in'"
exec 3>"$tmp/hold.in"
sb_wait_for_line "$tmp/hold.log" "^held" 60 holder || rc=1
stop_rc=0
sb_stop server 20 || stop_rc=$?
exec 3>&-
sb_stop holder 5 || true
if [ "$stop_rc" != 0 ] && [ "$stop_rc" != 143 ]; then
  sb_log "server exited with status $stop_rc after TERM"
  rc=1
fi
if ! grep -Eq 'shutdown: [0-9]+ queued jobs cancelled' "$tmp/server.log"; then
  sb_log "no queued database job was cancelled at shutdown"
  rc=1
fi
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/server.log"; then
  sb_log "sanitizer report in the server log"
  rc=1
fi
[ "$rc" = 0 ] || tail -n 40 "$tmp/server.log" >&2
exit "$rc"

#!/usr/bin/env bash
# Browser test driver of live admission: starts `switchboard serve --demo` and headless Chromium
# (via node and playwright-core) inside a network namespace of its own, and runs
# policy.test.mjs there: a member removed mid-call, a block mid-call and before a call, and a
# connection revoked mid-call, each checked with getStats on the pages; prints the time from the
# revoke API's response to the relay closing the transports (METRIC revoke_to_cut_ms).
# Environment (set by ctest): SB_BUILD_DIR (the tree whose switchboard to test), SB_SOURCE_DIR.
set -euo pipefail

. "$(dirname "$0")/common.sh"

bin=$build/switchboard
port=8080   # free by construction: the namespace is ours alone
[ -x "$bin" ] || { sb_log "no server binary at $bin"; exit 1; }

tmp=$(mktemp -d /tmp/sb-policy.XXXXXX)
server_log=$tmp/server.log
dump_logs() {
  local rc=$1
  if [ "$rc" != 0 ] && [ -f "$server_log" ]; then
    echo "----- server log (last 80 lines of $server_log) -----" >&2
    tail -n 80 "$server_log" >&2
  fi
  rm -rf "$tmp"
}

sb_netns_create
sb_on_cleanup 'dump_logs $rc'

sb_netns_start server "$server_log" "$bin" serve --demo --http "127.0.0.1:$port" \
  --media-ip 127.0.0.1 --db "$tmp/db" --secret-file "$tmp/secret"
sb_wait_for_line "$server_log" "Switchboard listening on http://127\.0\.0\.1:$port/" \
  $((20 * scale)) server
[ "$(cat "/proc/${SB_PID[server]}/comm" 2>/dev/null)" = switchboard ] ||
  { sb_log "pid ${SB_PID[server]} is not the server"; exit 1; }

# Bounded below ctest's 240 s (counting the start above) so that this script, not ctest's
# SIGKILL, ends the run and the trap removes the namespace.
rc=0
sb_netns_exec env SB_URL="http://127.0.0.1:$port/" SB_SERVER_LOG="$server_log" \
  SB_TIMEOUT_SCALE="$scale" SB_CHROMIUM="$chromium_bin" HOME="$tmp" \
  timeout -k 5 $((220 - SECONDS)) node --test --test-reporter=spec \
  "$browser_dir/policy.test.mjs" || rc=$?

# The server must survive the test and stop cleanly: TERM ends it (0, or 143 if it does not
# catch TERM) without sanitizer reports.
if ! sb_alive server; then
  sb_log "the server died during the test"
  rc=1
fi
src_rc=0
sb_stop server 10 || src_rc=$?
if [ "$src_rc" != 0 ] && [ "$src_rc" != 143 ]; then
  sb_log "server exited with status $src_rc after TERM"
  rc=1
fi
if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$server_log"; then
  sb_log "sanitizer report in the server log"
  rc=1
fi
sb_log "policy browser test $([ "$rc" = 0 ] && echo passed || echo FAILED)"
exit "$rc"

#!/usr/bin/env bash
# Pipelined HTTP requests on one connection (tests/integration/http_pipeline.py) against a real
# server in a namespace of its own; then SIGTERM, after which the server must exit 0 (in the
# sanitizer tree a leak report makes it exit non-zero, and the log is checked for one too).
set -euo pipefail
src=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SB_BUILD_DIR:-$src/build}
. "$src/tests/lib/netns.sh"
tmp=$(mktemp -d /tmp/sb-pipeline.XXXXXX)
sb_netns_create
sb_on_cleanup "rm -rf '$tmp'"
sb_netns_start server "$tmp/server.log" "$build/switchboard" serve --demo --http 127.0.0.1:8080 \
  --media-port 0 --db "$tmp/db" --secret-file "$tmp/secret"
sb_wait_for_line "$tmp/server.log" "Switchboard listening" 60 server
rc=0
sb_netns_exec python3 "$src/tests/integration/http_pipeline.py" 127.0.0.1 8080 || rc=$?
src_rc=0
sb_stop server 20 || src_rc=$?
if [ "$src_rc" != 0 ]; then
  sb_log "the server exited with status $src_rc after SIGTERM"
  rc=1
fi
if grep -Eq "LeakSanitizer|AddressSanitizer|runtime error" "$tmp/server.log"; then
  sb_log "sanitizer report in the server log"
  rc=1
fi
[ "$rc" = 0 ] || tail -n 60 "$tmp/server.log" >&2
exit "$rc"

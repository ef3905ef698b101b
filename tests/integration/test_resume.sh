#!/usr/bin/env bash
# Session resume after a broken WebSocket (tests/integration/resume.py) against a real server in a
# namespace of its own.
set -euo pipefail
src=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SB_BUILD_DIR:-$src/build}
. "$src/tests/lib/netns.sh"
tmp=$(mktemp -d /tmp/sb-resume.XXXXXX)
sb_netns_create
sb_on_cleanup "rm -rf '$tmp'"
sb_netns_start server "$tmp/server.log" "$build/switchboard" serve --demo --http 127.0.0.1:8080 \
  --media-port 0 --db "$tmp/db" --secret-file "$tmp/secret" --resume-grace 3
sb_wait_for_line "$tmp/server.log" "Switchboard listening" 60 server
rc=0
sb_netns_exec python3 "$src/tests/integration/resume.py" 127.0.0.1 8080 || rc=$?
[ "$rc" = 0 ] || tail -n 40 "$tmp/server.log" >&2
exit "$rc"

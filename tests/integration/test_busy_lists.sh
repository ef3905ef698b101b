#!/usr/bin/env bash
# The signaling loop stays responsive while 40 sockets ask for big lists (busy_lists.py): list
# answers are pages of bounded size and /api/health and other users' requests are answered
# during the load; a client that stops reading while events for it pile up is closed once its
# queue passes the cap, logged once.
set -euo pipefail
src=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SB_BUILD_DIR:-$src/build}
. "$src/tests/lib/netns.sh"
tmp=$(mktemp -d /tmp/sb-busylists.XXXXXX)
sb_netns_create
sb_on_cleanup "rm -rf '$tmp'"
# More connections per user and requests per second than the defaults: the load is one user's.
sb_netns_start server "$tmp/server.log" "$build/switchboard" serve --demo --http 127.0.0.1:8080 \
  --media-port 0 --db "$tmp/db" --secret-file "$tmp/secret" --max-conns-per-user 50 \
  --max-requests-per-second 1000
sb_wait_for_line "$tmp/server.log" "Switchboard listening" 60 server
rc=0
sb_netns_exec python3 "$src/tests/integration/busy_lists.py" 127.0.0.1 8080 || rc=$?
n=$(grep -c "is not reading" "$tmp/server.log" || true)
if [ "$n" != 1 ]; then
  sb_log "expected one 'is not reading' line (the client that stopped reading), found $n"
  rc=1
fi
if grep -Eq "LeakSanitizer|AddressSanitizer|runtime error" "$tmp/server.log"; then
  sb_log "sanitizer report in the server log"
  rc=1
fi
[ "$rc" = 0 ] || tail -n 40 "$tmp/server.log" >&2
exit "$rc"

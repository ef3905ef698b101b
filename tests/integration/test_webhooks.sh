#!/usr/bin/env bash
# Webhooks against a real server and a real receiver (tests/integration/webhooks.py) in a
# namespace of our own: acme's and globex's administrators configure their webhooks (others may
# not read or set them), a call in the shared room "demo" (joins, a member removed during the
# call and then refused, leaves) and a connection ended and allowed again; the receiver checks
# every signature and timestamp and fails the first delivery once, and the driver checks the
# retry, the order per room, that both tenants got their own copy, and /metrics. Then the server
# stops on TERM and must exit 0 (under ASan: the sender thread and its queue leak nothing).
set -euo pipefail
src=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SB_BUILD_DIR:-$src/build}
. "$src/tests/lib/netns.sh"
tmp=$(mktemp -d /tmp/sb-webhooks.XXXXXX)
sb_netns_create
sb_on_cleanup "rm -rf '$tmp'"
py="$src/tests/integration/webhooks.py"
echo '{}' >"$tmp/secrets.json"
sb_netns_start receiver "$tmp/receiver.log" python3 "$py" receiver 18099 "$tmp/hooks.jsonl" \
  "$tmp/secrets.json"
sb_netns_start server "$tmp/server.log" "$build/switchboard" serve --demo --http 127.0.0.1:8080 \
  --media-port 0 --db "$tmp/db" --secret-file "$tmp/secret"
sb_wait_for_line "$tmp/server.log" "Switchboard listening" 60 server
rc=0
sb_netns_exec python3 "$py" run 127.0.0.1 8080 "$tmp/secret" 18099 "$tmp/hooks.jsonl" \
  "$tmp/secrets.json" || rc=$?
if ! sb_stop server 20; then
  echo "not ok the server exits 0 on TERM"
  rc=1
fi
if grep -q "whsec_" "$tmp/server.log"; then
  echo "not ok a webhook secret reached the server's log"
  rc=1
fi
[ "$rc" = 0 ] || { tail -n 40 "$tmp/server.log" >&2; cat "$tmp/receiver.log" >&2; }
exit "$rc"

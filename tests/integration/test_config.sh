#!/usr/bin/env bash
# Configuration with the real binary: a YAML file, SWITCHBOARD_* variables and flags together
# (flags > environment > file > defaults) as --print-config shows them, with the database
# password masked; unknown keys and bad values from each source exit 2 naming the key; a server
# started from a file listens where the file says and logs JSON as the environment says; and
# docs/operations.md holds exactly `serve --print-config-reference` between its markers.
set -euo pipefail

SRC=${SB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SB_BUILD_DIR:-$SRC/build}
# shellcheck source=../lib/netns.sh
source "$SRC/tests/lib/netns.sh"
SB=$BUILD/switchboard
[ -x "$SB" ] || { echo "missing $SB (build first)"; exit 1; }

sb_netns_create
work=$(mktemp -d /tmp/sb-config.XXXXXX)
sb_on_cleanup "rm -rf '$work'"
fails=0
fail() { echo "FAIL: $*"; fails=1; }

cat >"$work/sb.yaml" <<EOF
# a comment, then keys as the flags' names
http: "127.0.0.1:18095"   # file only
workers: 2                # file, overridden by the environment
media-ip: 10.1.1.1        # file, environment and flag
db: "postgresql://sb:hunter2@db.example/sb"
secret-file: $work/secret
demo: true
EOF

# 1. Precedence, sources and masking as --print-config shows them.
out=$(SWITCHBOARD_WORKERS=3 SWITCHBOARD_MEDIA_IP=10.2.2.2 "$SB" serve --config "$work/sb.yaml" \
  --media-ip 10.3.3.3 --print-config)
expect() { grep -qxF -- "$1" <<<"$out" || fail "--print-config lacks the line '$1'"; }
expect 'http: "127.0.0.1:18095"  # file'
expect 'workers: 3  # environment SWITCHBOARD_WORKERS'
expect 'media-ip: "10.3.3.3"  # flag'
expect 'db: "postgresql://sb:***@db.example/sb"  # file'
expect 'demo: true  # file'
expect 'max-participants: 100  # default'
expect "# config: $work/sb.yaml (flag)"
grep -q hunter2 <<<"$out" && fail "--print-config shows the database password"
# the printed configuration is itself a valid config file
printf '%s\n' "$out" >"$work/printed.yaml"
"$SB" serve --config "$work/printed.yaml" --print-config >/dev/null || fail "printed config does not load"

# 2. Unknown keys and bad values: exit 2 and the key's name, from each source.
usage_error() { # usage_error NEEDLE CMD...: CMD must exit 2 with NEEDLE on stderr
  local needle=$1 rc=0
  shift
  "$@" >/dev/null 2>"$work/err" || rc=$?
  [ "$rc" = 2 ] || fail "exit $rc, not 2, for: $*"
  grep -qF -- "$needle" "$work/err" || fail "no '$needle' in: $(cat "$work/err")"
}
printf 'workers: 2\nmedia-adress: 1.2.3.4\n' >"$work/unknown.yaml"
usage_error "unknown.yaml:2: unknown key 'media-adress'" "$SB" serve --config "$work/unknown.yaml"
usage_error "unknown option '--media-adress'" "$SB" serve --media-adress 1.2.3.4
usage_error "unknown environment variable SWITCHBOARD_MEDIA_ADRESS" \
  env SWITCHBOARD_MEDIA_ADRESS=1.2.3.4 "$SB" serve
printf 'workers: 100\n' >"$work/bad.yaml"
usage_error "bad.yaml:1: workers: '100' is not an integer in 1-64" "$SB" serve --config "$work/bad.yaml"
usage_error "SWITCHBOARD_LOG_FORMAT: log-format: 'xml' is not one of text|json" \
  env SWITCHBOARD_LOG_FORMAT=xml "$SB" serve
usage_error "--media-port: 'x' is not an integer" "$SB" serve --media-port x

# 3. A server from the file (port 18095, demo), the environment (JSON logs, database) and flags
#    (media address and port).
sb_netns_start server "$work/server.log" env SWITCHBOARD_LOG_FORMAT=json SWITCHBOARD_DB="$work/db.sqlite3" \
  "$SB" serve --config "$work/sb.yaml" --media-port 0 --media-ip 127.0.0.1
if ! sb_wait_for_line "$work/server.log" 'Switchboard listening on http://127.0.0.1:18095/' 30 server; then
  cat "$work/server.log"
  exit 1
fi
sb_netns_exec curl -sf http://127.0.0.1:18095/api/demo/users >/dev/null || fail "demo (from the file) is off"
sb_stop server 10
python3 - "$work/server.log" <<'PY' || fails=1
import json, sys
bad = [l for l in open(sys.argv[1]) if not l.startswith("Switchboard listening")
       and not isinstance(json.loads(l), dict)]
start = [json.loads(l) for l in open(sys.argv[1]) if '"server.start"' in l]
if bad or not start or "18095" not in start[0]["message"]:
    print("FAIL: JSON log lines:", bad, start)
    sys.exit(1)
PY

# 4. The reference in docs/operations.md is the binary's, byte for byte.
"$SB" serve --print-config-reference >"$work/reference.md"
sed -n '/<!-- BEGIN config-reference/,/<!-- END config-reference/p' "$SRC/docs/operations.md" |
  sed '1d;$d' >"$work/docs.md"
if ! cmp -s "$work/reference.md" "$work/docs.md"; then
  fail "docs/operations.md's configuration reference differs from 'switchboard serve --print-config-reference':"
  diff "$work/docs.md" "$work/reference.md" || true
fi
[ "$fails" = 0 ] && echo "config: precedence, masking, 6 usage errors, a server from file + env + flag, docs reference in sync"
exit "$fails"

# shellcheck shell=bash
# Sourced by the browser test drivers: finds the build, Chromium and node, installs
# playwright-core from package-lock.json when missing, and sets the timeout scale.
browser_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${SB_SOURCE_DIR:-$(cd "$browser_dir/../.." && pwd)}
build=${SB_BUILD_DIR:-$src/build}
# shellcheck source=../lib/netns.sh
. "$src/tests/lib/netns.sh"

chromium_bin=""
for c in "${SB_CHROMIUM:-}" /usr/lib/chromium/chromium /usr/bin/chromium; do
  [ -n "$c" ] && [ -x "$c" ] && { chromium_bin=$c; break; }
done
[ -n "$chromium_bin" ] || { sb_log "Chromium not found: scripts/install-deps.sh --test"; exit 1; }
command -v node >/dev/null || { sb_log "node not found: scripts/install-deps.sh --test"; exit 1; }

# Sanitizer builds run the server several times slower: scale every deadline.
scale=1
if grep -qs '^SB_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then scale=3; fi

# Serialised because two trees may run their tests at once.
if [ ! -d "$browser_dir/node_modules/playwright-core" ]; then
  sb_log "installing playwright-core (npm ci)"
  (
    flock 9
    [ -d "$browser_dir/node_modules/playwright-core" ] ||
      (cd "$browser_dir" && npm ci --no-audit --no-fund >&2)
  ) 9>/tmp/switchboard-browser-npm.lock
fi

# sb_browser_run TEST.mjs [SERVER_ARGS...]: the body of every driver that needs a server (TEST.mjs
# is relative to tests/browser; a driver elsewhere passes ../its-folder/TEST.mjs). Starts
# `switchboard serve --demo` (fresh database and secret, SERVER_ARGS appended) and the node test
# inside a network namespace of its own, then checks that the server survived, stops on TERM and
# left no sanitizer report. Extra environment for node: the SB_TEST_ENV array; SB_BROWSER_SCHEME=https
# when SERVER_ARGS give the server a certificate (--tls-cert, --tls-key). On failure the
# server log's tail is printed; SB_KEEP_LOGS=1 keeps the whole directory. Exits with the result.
sb_browser_run() {
  local test_file=$1; shift
  local bin=$build/switchboard port=8080 # free by construction: the namespace is ours alone
  local scheme=${SB_BROWSER_SCHEME:-http}
  [ -x "$bin" ] || { sb_log "no server binary at $bin"; exit 1; }
  local name
  name=$(basename "$test_file")
  sb_tmp=$(mktemp -d "/tmp/sb-${name%%.*}.XXXXXX")
  sb_server_log=$sb_tmp/server.log
  sb_netns_create
  # A driver may shape the namespace first (e.g. tests/interop adds a veth pair).
  if declare -F sb_browser_netns_setup >/dev/null; then sb_browser_netns_setup; fi
  sb_on_cleanup 'sb__browser_cleanup $rc'
  sb_netns_start server "$sb_server_log" "$bin" serve --demo --http "127.0.0.1:$port" \
    --media-ip 127.0.0.1 --db "$sb_tmp/db" --secret-file "$sb_tmp/secret" "$@"
  sb_wait_for_line "$sb_server_log" "Switchboard listening on $scheme://127\.0\.0\.1:$port/" \
    $((20 * scale)) server
  [ "$(cat "/proc/${SB_PID[server]}/comm" 2>/dev/null)" = switchboard ] ||
    { sb_log "pid ${SB_PID[server]} is not the server"; exit 1; }
  # Bounded below ctest's 240 s (counting the start above) so that this script, not ctest's
  # SIGKILL, ends the run and the trap removes the namespace.
  local rc=0
  sb_netns_exec env SB_URL="$scheme://127.0.0.1:$port/" SB_SERVER_PID="${SB_PID[server]}" \
    SB_SERVER_LOG="$sb_server_log" SB_TIMEOUT_SCALE="$scale" SB_CHROMIUM="$chromium_bin" \
    HOME="$sb_tmp" "${SB_TEST_ENV[@]}" \
    timeout -k 5 $((220 - SECONDS)) node --test --test-reporter=spec "$browser_dir/$test_file" || rc=$?
  # The server must survive the test and stop cleanly: TERM ends it (0, or 143 if it does not
  # catch TERM) without sanitizer reports. With SB_BROWSER_SERVER_KILLED=1 the test kills it
  # with SIGKILL on purpose (and stops what it started in its place itself).
  local stop_rc=0
  if [ -n "${SB_BROWSER_SERVER_KILLED:-}" ]; then
    sb_stop server 10 || stop_rc=$?
    if [ "$stop_rc" != 137 ]; then
      sb_log "the server was to be killed by the test; its status is $stop_rc"
      rc=1
    fi
  else
    if ! sb_alive server; then
      sb_log "the server died during the test"
      rc=1
    fi
    sb_stop server 10 || stop_rc=$?
    if [ "$stop_rc" != 0 ] && [ "$stop_rc" != 143 ]; then
      sb_log "server exited with status $stop_rc after TERM"
      rc=1
    fi
  fi
  if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$sb_tmp"/server*.log; then
    sb_log "sanitizer report in the server log"
    rc=1
  fi
  sb_log "$test_file $([ "$rc" = 0 ] && echo passed || echo FAILED)"
  exit "$rc"
}

SB_TEST_ENV=()

sb__browser_cleanup() {
  local rc=$1
  local f
  if [ "$rc" != 0 ]; then
    for f in "$sb_tmp"/server*.log; do
      [ -f "$f" ] || continue
      echo "----- server log (last 80 lines of $f) -----" >&2
      tail -n 80 "$f" >&2
    done
  fi
  if [ -n "${SB_KEEP_LOGS:-}" ]; then
    sb_log "logs kept in $sb_tmp"
  else
    rm -rf "$sb_tmp"
  fi
}

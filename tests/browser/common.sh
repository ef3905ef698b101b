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

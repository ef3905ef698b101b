#!/usr/bin/env bash
# Interop test: aiortc (Debian's python3-aiortc, default settings) and headless Chromium in one
# call through the relay (tests/interop/aiortc.test.mjs). aioice gathers no loopback candidates,
# so the namespace gets a veth pair with addresses of its own (10.77.0.1, 10.77.0.2), which
# exists only inside it; the relay stays on 127.0.0.1.
# Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP_LOGS=1 keeps the server log.
set -euo pipefail
. "$(dirname "$0")/../browser/common.sh"
/usr/bin/python3 -c 'import aiortc' 2>/dev/null ||
  { sb_log "python3-aiortc missing: scripts/install-deps.sh --test"; exit 1; }

sb_browser_netns_setup() {
  ip -n "$SB_NETNS" link add sbv0 type veth peer name sbv1
  ip -n "$SB_NETNS" addr add 10.77.0.1/24 dev sbv0
  ip -n "$SB_NETNS" addr add 10.77.0.2/24 dev sbv1
  ip -n "$SB_NETNS" link set sbv0 up
  ip -n "$SB_NETNS" link set sbv1 up
}
sb_browser_run ../interop/aiortc.test.mjs

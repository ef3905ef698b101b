#!/usr/bin/env bash
# Interop test: aiortc (Debian's python3-aiortc, default settings) and headless Chromium in one
# call through the relay (tests/interop/stack.test.mjs). aioice gathers no loopback candidates,
# so the namespace gets a veth pair with addresses of its own (interop.sh).
# Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP_LOGS=1 keeps the server log.
set -euo pipefail
. "$(dirname "$0")/interop.sh"
/usr/bin/python3 -c 'import aiortc' 2>/dev/null ||
  { sb_log "python3-aiortc missing: scripts/install-deps.sh --test"; exit 1; }
SB_TEST_ENV=(SB_STACK=aiortc)
sb_browser_run ../interop/stack.test.mjs --media-ip "$SB_INTEROP_IP"

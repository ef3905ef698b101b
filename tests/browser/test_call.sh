#!/usr/bin/env bash
# Browser call test: two demo users hold an Opus+VP8 call through the relay in headless Chromium
# (getStats: opus packets, VP8 frames decoded, DTLS connected); a forged token gets no media.
# Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP_LOGS=1 keeps the server log.
set -euo pipefail
. "$(dirname "$0")/common.sh"
sb_browser_run call.test.mjs

#!/usr/bin/env bash
# ICE restart in a browser call (icerestart.test.mjs): a restart asked by the page keeps the
# DTLS session and the media, and nobody else notices; then nftables drops one page's media
# 5-tuple and the client library restarts ICE by itself, moving the call to a new pair. ICE-TCP
# is off so that a restart is the only way back (with it, Chromium may move to the TCP pair on
# its own). Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP_LOGS=1 keeps logs.
set -euo pipefail
. "$(dirname "$0")/common.sh"
command -v nft >/dev/null ||
  { sb_log "nft missing (nftables): scripts/install-deps.sh --test"; exit 1; }
sb_browser_run icerestart.test.mjs --ice-tcp=false

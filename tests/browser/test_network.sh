#!/usr/bin/env bash
# Network trouble during a browser call (network.test.mjs): a 5 s blackout of media and
# WebSocket (nftables in the test's namespace), then WebSockets reset (ss -K) that the client
# library resumes within the server's --resume-grace.
set -euo pipefail
. "$(dirname "$0")/common.sh"
command -v nft >/dev/null ||
  { sb_log "nft missing (nftables): scripts/install-deps.sh --test"; exit 1; }
sb_browser_run network.test.mjs

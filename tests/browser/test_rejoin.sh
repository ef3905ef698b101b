#!/usr/bin/env bash
# Browser rejoin test: a call on a node that is drained (admin drain, --drain-timeout 1) ends
# with reason "moved" and web/switchboard.js joins the room again by itself ('reconnecting',
# 'rejoined', media connected again) without the application seeing 'ended'.
# Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP_LOGS=1 keeps the server log.
set -euo pipefail
. "$(dirname "$0")/common.sh"
SB_TEST_ENV=(SB_SWITCHBOARD="$build/switchboard")
sb_browser_run rejoin.test.mjs --node-id solo --drain-timeout 1

#!/usr/bin/env bash
# A server killed with SIGKILL during a call and started again on the same database and ports:
# the demo pages rejoin by themselves and media flows again both ways (restart.test.mjs; prints
# METRIC restart_to_media_ms).
set -euo pipefail
. "$(dirname "$0")/common.sh"
SB_BROWSER_SERVER_KILLED=1
sb_browser_run restart.test.mjs

#!/usr/bin/env bash
# Live admission with real media: a member removed mid-call, a block mid-call and before a call,
# a connection revoked mid-call (getStats on the pages; METRIC revoke_to_cut_ms printed).
set -euo pipefail
. "$(dirname "$0")/common.sh"
sb_browser_run policy.test.mjs

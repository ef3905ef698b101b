#!/usr/bin/env bash
# Group call: three pages decode each other per remote participant, one leaves, a fourth joins.
set -euo pipefail
. "$(dirname "$0")/common.sh"
sb_browser_run group.test.mjs

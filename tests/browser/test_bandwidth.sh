#!/usr/bin/env bash
# Bandwidth adaptation: a subscriber behind a narrow link (tc htb in the test's namespace) is
# moved to the low simulcast layer by the delay-based estimate, and back up after a probe.
set -euo pipefail
. "$(dirname "$0")/common.sh"
sb_browser_run bandwidth.test.mjs

#!/usr/bin/env bash
# Client library test: web/switchboard.js in headless Chromium against a fake server inside the
# page (client.test.mjs); needs no Switchboard server. Runs in a network namespace of its own
# because the page's two peer connections talk over loopback.
set -euo pipefail
. "$(dirname "$0")/common.sh"

tmp=$(mktemp -d /tmp/sb-client.XXXXXX)
sb_netns_create
sb_on_cleanup "rm -rf '$tmp'"
sb_netns_exec env SB_TIMEOUT_SCALE="$scale" SB_CHROMIUM="$chromium_bin" HOME="$tmp" \
  timeout -k 5 160 node --test --test-reporter=spec "$browser_dir/client.test.mjs"

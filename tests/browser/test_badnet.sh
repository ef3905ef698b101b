#!/usr/bin/env bash
# A bad network on a browser call: the pages' media crosses an impairment proxy (impair.mjs, in
# place of netem, which this kernel lacks) in both directions: 5% random loss, 20% loss in bursts,
# 50 ms jitter with reordering; video keeps decoding through each (badnet.test.mjs; prints
# METRIC badnet_* lines). The relay binds 127.0.0.1 and announces the proxy's 127.0.0.2.
set -euo pipefail
. "$(dirname "$0")/common.sh"
port=40000
SB_TEST_ENV=(SB_RELAY_PORT="$port")
sb_browser_run badnet.test.mjs --media-ip 127.0.0.2 --bind-ip 127.0.0.1 --media-port "$port"

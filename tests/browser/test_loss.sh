#!/usr/bin/env bash
# Loss recovery: with the relay dropping 5% of what it sends to subscribers, video keeps decoding
# through NACK and RTX (subscriber nackCount, relay retransmission counters).
set -euo pipefail
. "$(dirname "$0")/common.sh"
drop=${SB_DROP_PERCENT:-5} # percent of first transmissions to subscribers the relay drops
SB_TEST_ENV=(SB_DROP_PERCENT="$drop")
sb_browser_run loss.test.mjs --test-drop-percent "$drop"

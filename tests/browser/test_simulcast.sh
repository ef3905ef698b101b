#!/usr/bin/env bash
# Simulcast: a subscriber gets the layer that fits the size it asks for and is switched up.
set -euo pipefail
. "$(dirname "$0")/common.sh"
sb_browser_run simulcast.test.mjs

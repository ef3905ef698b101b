#!/usr/bin/env bash
# Demo page UI: rooms with the external mark, group management, contacts, blocks, calls from a
# room and the administrator view, driven in headless Chromium with live updates between pages.
set -euo pipefail
. "$(dirname "$0")/common.sh"
sb_browser_run demo_ui.test.mjs

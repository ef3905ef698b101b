#!/usr/bin/env bash
# Interop test: GStreamer webrtcbin 1.22 (Debian's gstreamer1.0-plugins-bad, -nice, -good, -base,
# scripted with python3-gi) and headless Chromium in one call through the relay
# (tests/interop/stack.test.mjs): webrtcbin's default bundle policy is refused with bad_sdp,
# max-bundle (a bundle-only m-line) is accepted, and libnice's keepalives (Binding indications,
# no consent requests) with the media keep the call past the consent timeout. libnice gathers no
# loopback candidates, so the namespace gets a veth pair with addresses of its own (interop.sh).
# Environment (set by ctest): SB_BUILD_DIR, SB_SOURCE_DIR; SB_KEEP_LOGS=1 keeps the server log.
set -euo pipefail
. "$(dirname "$0")/interop.sh"
/usr/bin/python3 - <<'PY' ||
import gi
gi.require_version("Gst", "1.0")
from gi.repository import Gst
Gst.init(None)
missing = [e for e in ("webrtcbin", "nicesrc", "dtlssrtpenc", "vp8enc", "vp8dec", "opusenc",
                       "opusdec", "rtpvp8pay", "rtpopuspay", "videotestsrc", "audiotestsrc")
           if not Gst.ElementFactory.find(e)]
raise SystemExit(f"missing GStreamer elements: {missing}" if missing else 0)
PY
  { sb_log "GStreamer webrtcbin stack missing: scripts/install-deps.sh --test"; exit 1; }
SB_TEST_ENV=(SB_STACK=webrtcbin)
sb_browser_run ../interop/stack.test.mjs --media-ip "$SB_INTEROP_IP"

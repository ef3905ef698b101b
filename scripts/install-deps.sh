#!/usr/bin/env bash
# Installs what Switchboard needs on Debian 12 (run as root); safe to run again.
#
# Usage: scripts/install-deps.sh [--test]
#   --test  also install what the tests need: Chromium, Node.js + npm (if node is missing),
#           clang with libFuzzer (fuzz builds), the PostgreSQL server (the tests start their own),
#           HAProxy (cluster tests), aiortc and GStreamer webrtcbin (interop tests), Janus
#           (the bench's comparison target) and the browser tests' npm packages
# Then builds libsrtp2 with OpenSSL into /opt/switchboard (scripts/build-libsrtp.sh); if that
# fails the build falls back to Debian's libsrtp2 and this script still succeeds.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
with_tests=0

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --test) with_tests=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install-deps: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { echo "install-deps: $*"; }

if [ "$(id -u)" != 0 ]; then
  echo "install-deps: must run as root (apt-get install)" >&2
  exit 1
fi
if ! grep -qs '^ID=debian' /etc/os-release; then
  log "warning: not Debian; package names are Debian 12's"
fi

pkgs=(build-essential cmake pkg-config libuv1-dev libnice-dev libsrtp2-dev libssl-dev libopus-dev
      libvpx-dev libwebsockets-dev libwebsockets-evlib-uv libjansson-dev libjwt-dev libsqlite3-dev
      libpq-dev libyaml-dev libcurl4-openssl-dev libgoogle-perftools-dev dpkg-dev iproute2 ca-certificates
      zlib1g-dev)
# zlib1g-dev (libwebsockets-dev pulls it in too): every build configures tests/, where the ICE unit
# test signs its own STUN FINGERPRINT with zlib's CRC-32.
if [ "$with_tests" = 1 ]; then
  # libclang-rt-dev holds libFuzzer's runtime (only recommended by clang, and we install
  # without recommends); fonts give headless Chromium something to render text with.
  # haproxy is the load balancer in front of the cluster tests' nodes; they query it with curl.
  pkgs+=(chromium clang libclang-rt-dev fonts-dejavu-core postgresql haproxy curl)
  # second WebRTC stacks for tests/interop, run with Debian's /usr/bin/python3: aiortc, and
  # GStreamer webrtcbin with libnice, VP8 and Opus, scripted through GObject introspection
  pkgs+=(python3-aiortc gstreamer1.0-plugins-bad gstreamer1.0-plugins-good gstreamer1.0-plugins-base
         gstreamer1.0-nice gir1.2-gst-plugins-bad-1.0 gir1.2-gst-plugins-base-1.0 python3-gi
         python3-gst-1.0)
  # the package test: systemd-analyze verify on the installed unit
  pkgs+=(systemd)
  # promtool (in Debian's prometheus package) checks /metrics and the example alert rules
  pkgs+=(prometheus)
  # the TURN browser test: coturn's turnserver, and nft to firewall the test's namespace
  pkgs+=(coturn nftables)
  # the bench's comparison target (switchboard-bench --target janus, test_bench_janus)
  pkgs+=(janus)
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done

# Only touch apt when something is missing, so a second run is quick and offline-safe.
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
  # The TURN test starts its own turnserver in a namespace; the package's service (enabled and
  # started on a systemd host) would be a TURN server nobody configured: stop it if we added it.
  if printf '%s\n' "${missing[@]}" | grep -qx coturn && [ -d /run/systemd/system ]; then
    systemctl disable --now coturn.service >/dev/null 2>&1 || true
  fi
  # the same for Janus: the test starts its own with a generated configuration
  if printf '%s\n' "${missing[@]}" | grep -qx janus && [ -d /run/systemd/system ]; then
    systemctl disable --now janus.service >/dev/null 2>&1 || true
  fi
else
  log "all Debian packages present"
fi

if [ "$with_tests" = 1 ] && [ -f "$root/tests/browser/package-lock.json" ]; then
  if [ ! -d "$root/tests/browser/node_modules/playwright-core" ]; then
    log "installing the browser test's npm packages (npm ci)"
    (cd "$root/tests/browser" && npm ci --no-audit --no-fund)
  fi
fi

if ! "$here/build-libsrtp.sh"; then
  log "warning: libsrtp2 with OpenSSL was not built; using Debian's libsrtp2 (slower)"
fi
log "done"

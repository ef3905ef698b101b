#!/usr/bin/env bash
# Builds libsrtp 2.5.0 from Debian's own source package with OpenSSL crypto into a local prefix
# (brief §3: Debian's binary libsrtp2 uses NSS, ~3.5x slower on the AES-CM profile browsers use).
# CMake searches that prefix first; if this script fails, the build falls back to Debian's
# libsrtp2 and CMake warns at configure time.
#
# Usage: scripts/build-libsrtp.sh [--prefix DIR] [--force]
#   --prefix DIR  install prefix (default /opt/switchboard, the one CMake's SB_DEPS_PREFIX uses)
#   --force       rebuild even if an OpenSSL build of the expected version is installed
set -Eeuo pipefail

want_version=2.5.0
prefix=/opt/switchboard
force=0

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "build-libsrtp: --prefix needs a directory" >&2; exit 2; }
              prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --force) force=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-libsrtp: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$prefix" in /*) ;; *) echo "build-libsrtp: --prefix must be absolute" >&2; exit 2 ;; esac

pc="$prefix/lib/pkgconfig/libsrtp2.pc"
marker="$prefix/share/switchboard/libsrtp2.build"

log() { echo "build-libsrtp: $*"; }

# An install counts as ours when pkg-config reports the expected version and OpenSSL (libcrypto)
# as its crypto. The marker records a build made by this script; an older install made by hand the
# same way is recognised from its .pc file and library, so it is never rebuilt or removed.
already_built() {
  [ -f "$pc" ] || return 1
  grep -qx "Version: $want_version" "$pc" || return 1
  if [ -f "$marker" ] && grep -qx "crypto=openssl" "$marker"; then
    return 0
  fi
  grep -q '^Libs.private:.*-lcrypto' "$pc" || return 1
  [ -e "$prefix/lib/libsrtp2.so.1" ] || [ -e "$prefix/lib/libsrtp2.a" ]
}

if [ "$force" = 0 ] && already_built; then
  log "libsrtp2 $want_version with OpenSSL already in $prefix; nothing to do"
  exit 0
fi

workdir=""
cleanup() { [ -n "$workdir" ] && rm -rf "$workdir"; }
fail() {
  local rc=$?
  echo "build-libsrtp: FAILED (exit $rc) building libsrtp2 into $prefix." >&2
  echo "build-libsrtp: the build will fall back to Debian's libsrtp2 (NSS crypto, slower);" \
       "CMake warns about it at configure time." >&2
  exit "$rc"
}
trap cleanup EXIT
trap fail ERR

if [ "$(id -u)" != 0 ]; then
  echo "build-libsrtp: must run as root (apt-get source, writes $prefix)" >&2
  false
fi

have_deb_src() {
  grep -rqsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    && return 0
  grep -rqsiE '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources
}

# Adds a deb-src stanza for the same Debian archive the binary packages come from: the first
# deb822 stanza of debian.sources (the main archive, not -security).
add_deb_src() {
  local src=/etc/apt/sources.list.d/debian.sources dst=/etc/apt/sources.list.d/switchboard-src.sources
  local uris suites comps signed
  if [ -f "$src" ]; then
    uris=$(awk 'BEGIN{RS=""} NR==1' "$src" | sed -n 's/^URIs:[[:space:]]*//p' | head -n1)
    suites=$(awk 'BEGIN{RS=""} NR==1' "$src" | sed -n 's/^Suites:[[:space:]]*//p' | head -n1)
    comps=$(awk 'BEGIN{RS=""} NR==1' "$src" | sed -n 's/^Components:[[:space:]]*//p' | head -n1)
    signed=$(awk 'BEGIN{RS=""} NR==1' "$src" | sed -n 's/^Signed-By:[[:space:]]*//p' | head -n1)
  fi
  if [ -z "${uris:-}" ] || [ -z "${suites:-}" ]; then
    # One-line format (older images): mirror the archive's `deb` lines as `deb-src`.
    local list=/etc/apt/sources.list
    if grep -qsE '^[[:space:]]*deb[[:space:]]' "$list"; then
      log "adding /etc/apt/sources.list.d/switchboard-src.list (deb-src of $list)"
      grep -E '^[[:space:]]*deb[[:space:]]' "$list" | grep -v -- '-security' |
        sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' >/etc/apt/sources.list.d/switchboard-src.list
      apt-get update
      return
    fi
    echo "build-libsrtp: no deb-src entry and no Debian archive in $src or $list to derive one from" >&2
    return 1
  fi
  log "adding $dst (deb-src of $uris $suites)"
  {
    echo "Types: deb-src"
    echo "URIs: $uris"
    echo "Suites: $suites"
    echo "Components: ${comps:-main}"
    [ -n "${signed:-}" ] && echo "Signed-By: $signed"
  } >"$dst"
  apt-get update
}

have_deb_src || add_deb_src

# apt-get source needs dpkg-source; the build needs a compiler and OpenSSL headers.
missing=()
for p in dpkg-dev build-essential pkg-config libssl-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

workdir=$(mktemp -d /tmp/sb-libsrtp.XXXXXX)
# apt drops privileges to _apt for downloads; let it write here.
chmod 0755 "$workdir"
log "fetching Debian's libsrtp2 source into $workdir"
(cd "$workdir" && apt-get source --only-source libsrtp2 >apt-source.log 2>&1) || {
  tail -n 20 "$workdir/apt-source.log" >&2; false; }

srcdir=$(find "$workdir" -mindepth 1 -maxdepth 1 -type d -name 'libsrtp*' | head -n1)
[ -n "$srcdir" ] && [ -x "$srcdir/configure" ] || { echo "build-libsrtp: no source tree found" >&2; false; }
debver=$(cd "$srcdir" && dpkg-parsechangelog -S Version 2>/dev/null || echo unknown)
upver=${debver%%-*}; upver=${upver#*:}
if [ "$upver" != "$want_version" ]; then
  log "warning: Debian's source is $debver, expected upstream $want_version; building it anyway"
fi

log "configuring (prefix $prefix, OpenSSL crypto)"
cd "$srcdir"
./configure --prefix="$prefix" --enable-openssl >"$workdir/configure.log" 2>&1 || {
  tail -n 30 "$workdir/configure.log" >&2; false; }
log "building"
make -j2 shared_library libsrtp2.a >"$workdir/make.log" 2>&1 || { tail -n 30 "$workdir/make.log" >&2; false; }
make install >"$workdir/install.log" 2>&1 || { tail -n 30 "$workdir/install.log" >&2; false; }

# Verify the result really uses OpenSSL before recording it.
grep -q '^Libs.private:.*-lcrypto' "$pc" || { echo "build-libsrtp: $pc does not name libcrypto" >&2; false; }
if [ -e "$prefix/lib/libsrtp2.so.1" ]; then
  ldd "$prefix/lib/libsrtp2.so.1" | grep -q 'libcrypto' || {
    echo "build-libsrtp: libsrtp2.so.1 is not linked with libcrypto" >&2; false; }
fi

mkdir -p "$(dirname "$marker")"
cat >"$marker" <<MARK
version=$upver
debian_source=$debver
crypto=openssl
configure=--prefix=$prefix --enable-openssl
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
MARK
log "installed libsrtp2 $upver (Debian source $debver) with OpenSSL into $prefix"

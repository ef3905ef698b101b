# shellcheck shell=bash
# Helpers for tests that run the server and its clients inside a network namespace of their own,
# with only `lo` up, so no traffic leaves loopback (../shared/INTEROP.md). Source this file, then:
#
#   sb_netns_create                       # namespace sbt-$$ with lo up; cleanup trap installed
#   sb_netns_start server "$log" cmd...   # runs cmd in the namespace; PID in SB_PID[server]
#   sb_wait_for_line "$log" 'listening' 30 server   # poll the log, bounded; fail if server dies
#   sb_netns_exec cmd...                  # runs cmd in the namespace in the foreground
#   sb_require_build switchboard ...      # exit 1 unless each is an executable in $BUILD
#   sb_expected_malloc BIN                # tcmalloc, sanitizer or glibc, by BIN's libraries
#
# On exit (success, failure or signal) the trap kills every process started with
# sb_netns_start, by PID (TERM, then KILL after a grace period), and deletes the namespace.
# Requires root (CI runs as root).

SB_NETNS=""
declare -gA SB_PID=()
declare -ga SB_PID_ORDER=()
SB_CLEANUP_HOOKS=()

sb_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# The build's programs the test runs: each must be executable in $BUILD.
sb_require_build() {
  local bin
  for bin in "$@"; do
    [ -x "$BUILD/$bin" ] || { echo "missing $BUILD/$bin (build first)"; exit 1; }
  done
}

# The allocator a server binary must report (/api/health "malloc", switchboard_node_info's label):
# what its dynamic linking says, read independently of the server's own detection.
sb_expected_malloc() {
  local libs
  libs=$(ldd "$1")
  if grep -q 'libtcmalloc' <<<"$libs"; then echo tcmalloc
  elif grep -qE 'lib(asan|tsan)' <<<"$libs"; then echo sanitizer
  else echo glibc
  fi
}

# sb_netns_create: creates the namespace sbt-$$ with lo up and installs the cleanup trap.
sb_netns_create() {
  if [ "$(id -u)" != 0 ]; then
    sb_log "network namespaces need root"
    return 1
  fi
  SB_NETNS="sbt-$$"
  trap sb_netns_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ip netns add "$SB_NETNS" || return 1
  ip -n "$SB_NETNS" link set lo up || return 1
  sb_log "namespace $SB_NETNS ready"
}

# sb_on_cleanup CMD: runs CMD (a string for eval) during cleanup, after processes are stopped.
sb_on_cleanup() { SB_CLEANUP_HOOKS+=("$1"); }

# sb_netns_start NAME LOG CMD...: starts CMD in the namespace in the background with stdout and
# stderr in LOG; its PID goes to SB_PID[NAME]. `ip netns exec` execs CMD in place, so the PID is
# CMD's own (for /proc/PID/stat and kill).
sb_netns_start() {
  local name=$1 log=$2
  shift 2
  ip netns exec "$SB_NETNS" "$@" >"$log" 2>&1 &
  SB_PID[$name]=$!
  SB_PID_ORDER+=("$name")
  sb_log "started $name (pid ${SB_PID[$name]}): $*"
}

# sb_netns_exec CMD...: runs CMD in the namespace in the foreground; returns its exit status.
sb_netns_exec() { ip netns exec "$SB_NETNS" "$@"; }

# sb_alive NAME: true while the process started as NAME runs.
sb_alive() {
  local pid=${SB_PID[$1]:-}
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# sb_wait_for_line LOG PATTERN TIMEOUT_S [NAME]: polls LOG until a line matches the extended
# regex PATTERN; fails after TIMEOUT_S seconds, or at once if process NAME has exited.
sb_wait_for_line() {
  local log=$1 pattern=$2 timeout=$3 name=${4:-}
  local deadline=$((SECONDS + timeout))
  while ! grep -Eq -- "$pattern" "$log" 2>/dev/null; do
    if [ -n "$name" ] && ! sb_alive "$name"; then
      sb_log "$name exited before printing /$pattern/"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      sb_log "timed out after ${timeout}s waiting for /$pattern/ in $log"
      return 1
    fi
    sleep 0.1   # polling interval of a bounded wait, not synchronisation by sleeping
  done
}

# sb_stop NAME [GRACE_S]: sends TERM to NAME's PID, waits up to GRACE_S (default 10) for it to exit,
# then KILLs it. Returns the process's exit status (or 137 if it had to be killed).
sb_stop() {
  local name=$1 grace=${2:-10} pid=${SB_PID[$1]:-} rc=0
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    local deadline=$((SECONDS + grace))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      sb_log "$name (pid $pid) ignored TERM for ${grace}s; killing"
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  wait "$pid" 2>/dev/null || rc=$?
  unset "SB_PID[$name]"
  return "$rc"
}

# Trap handler: stops what we started (by PID, newest first), runs hooks, deletes the namespace.
sb_netns_cleanup() {
  local rc=$? i name
  trap - EXIT
  for ((i = ${#SB_PID_ORDER[@]} - 1; i >= 0; i--)); do
    name=${SB_PID_ORDER[$i]}
    [ -n "${SB_PID[$name]:-}" ] && { sb_stop "$name" 5 || true; }
  done
  for hook in "${SB_CLEANUP_HOOKS[@]}"; do eval "$hook" || true; done
  if [ -n "$SB_NETNS" ]; then
    # Any process still inside (a browser child that outlived its parent) would keep the
    # namespace's interfaces busy; list them for the log rather than killing by name.
    local left
    left=$(ip netns pids "$SB_NETNS" 2>/dev/null | tr '\n' ' ')
    [ -n "$left" ] && sb_log "processes still in $SB_NETNS: $left"
    for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$SB_NETNS" 2>/dev/null || sb_log "could not delete namespace $SB_NETNS"
  fi
  exit "$rc"
}

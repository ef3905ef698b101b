#!/usr/bin/env bash
# ctest fixture of the PostgreSQL test entries (tests/CMakeLists.txt): one server per build tree.
#   pg_fixture.sh start DIR   # a fresh server in DIR (an old one there is stopped and removed)
#   pg_fixture.sh stop DIR    # stops it and removes DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=pg.sh
. "$here/pg.sh"

cmd=${1:-}
dir=${2:-}
[ -n "$dir" ] || { echo "usage: pg_fixture.sh start|stop DIR" >&2; exit 2; }
case "$cmd" in
  start)
    sb_pg_stop "$dir"
    rm -rf "$dir"
    sb_pg_start "$dir" ;;
  stop)
    sb_pg_stop "$dir"
    rm -rf "$dir" ;;
  *) echo "usage: pg_fixture.sh start|stop DIR" >&2; exit 2 ;;
esac

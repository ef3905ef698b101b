# shellcheck shell=bash
# A throw-away PostgreSQL server for tests, from Debian's postgresql-15 package (installed by
# scripts/install-deps.sh --test). Source this file, then:
#
#   sb_pg_start DIR     # initdb into DIR/data, start the server; exports SB_PG_URL and friends
#   sb_pg_stop DIR      # stop the server of DIR by its PID (DIR/data/postmaster.pid), fast mode
#
# sb_pg_start DIR:
#   - DIR is created if needed and given to the `postgres` system user (initdb refuses root);
#     everything of the server lives in it: data/ (the cluster), log, and the unix socket.
#   - The server listens on 127.0.0.1 only, on a free port it picks, and on a unix socket in DIR.
#     Authentication is "trust" (local test server); the superuser is `postgres`; encoding UTF8,
#     locale C (text sorts as in SQLite).
#     fsync, synchronous_commit and full_page_writes are off: a test's data need not survive a
#     crash of the machine, and the suite is faster.
#   - On success prints the conninfo and exports:
#       SB_PG_URL         "host=127.0.0.1 port=PORT user=postgres dbname=postgres" (TCP)
#       SB_PG_SOCKET_URL  "host=DIR port=PORT user=postgres dbname=postgres" (unix socket: works
#                         from any network namespace that sees the file system)
#       SB_PG_PORT, SB_PG_DIR, SB_PG_BIN (the server's bin directory, with psql next to it)
#     and writes the TCP conninfo to DIR/conninfo. Returns non-zero (server log on stderr) on
#     failure.
#   - SB_PG_NETNS (optional): a network namespace to run the server in (`ip netns exec`); its
#     127.0.0.1 is then the namespace's own.
#   - SB_PG_EXTRA (optional): more server options, e.g. "-c max_connections=300".
# sb_pg_stop DIR: stops the server whose postmaster.pid is in DIR/data (SIGINT = fast shutdown,
#   then waits up to 30 s; SIGKILL after that) and leaves DIR in place for the caller to remove.
#   Does nothing if no server runs there. Never kills by name.
#
# Several servers may run at once (one per DIR); the cluster tests reuse this file.

SB_PG_BIN=${SB_PG_BIN:-/usr/lib/postgresql/15/bin}

# sb__pg_as_postgres CMD...: runs CMD as the postgres user (in SB_PG_NETNS if set).
sb__pg_as_postgres() {
  if [ -n "${SB_PG_NETNS:-}" ]; then
    ip netns exec "$SB_PG_NETNS" runuser -u postgres -- "$@"
  else
    runuser -u postgres -- "$@"
  fi
}

# sb__pg_free_port: a TCP port nobody listens on now (the server's bind is the real test).
sb__pg_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    if ! ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

sb_pg_start() {
  local dir=$1 port tries
  if [ -z "$dir" ] || [ ! -x "$SB_PG_BIN/initdb" ]; then
    echo "sb_pg_start: usage: sb_pg_start DIR (needs $SB_PG_BIN/initdb: apt-get install postgresql)" >&2
    return 2
  fi
  mkdir -p "$dir" || return 1
  dir=$(cd "$dir" && pwd)
  chown postgres: "$dir" && chmod 700 "$dir" || return 1
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    sb__pg_as_postgres "$SB_PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
      --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  # a port another process takes between the check and the bind makes pg_ctl fail: try another
  for tries in 1 2 3 4 5; do
    port=$(sb__pg_free_port) || return 1
    # shellcheck disable=SC2086
    if sb__pg_as_postgres "$SB_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
         -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
             ${SB_PG_EXTRA:-}" start >/dev/null; then
      SB_PG_PORT=$port
      SB_PG_DIR=$dir
      SB_PG_URL="host=127.0.0.1 port=$port user=postgres dbname=postgres"
      SB_PG_SOCKET_URL="host=$dir port=$port user=postgres dbname=postgres"
      export SB_PG_PORT SB_PG_DIR SB_PG_URL SB_PG_SOCKET_URL SB_PG_BIN
      echo "$SB_PG_URL" >"$dir/conninfo"
      echo "$SB_PG_URL"
      return 0
    fi
    echo "sb_pg_start: start on port $port failed (try $tries):" >&2
    tail -n 5 "$dir/log" >&2
  done
  return 1
}

sb_pg_stop() {
  local dir=$1 pid
  [ -f "$dir/data/postmaster.pid" ] || return 0
  pid=$(head -n 1 "$dir/data/postmaster.pid")
  case "$pid" in ''|*[!0-9]*) return 0 ;; esac
  kill -0 "$pid" 2>/dev/null || return 0
  # a stale file after a reboot may name someone else's process
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || return 0
  kill -INT "$pid"
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "sb_pg_stop: server $pid did not stop in 30 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null
  return 0
}

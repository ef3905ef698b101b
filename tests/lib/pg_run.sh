#!/usr/bin/env bash
# Runs a test executable on the PostgreSQL server of the ctest fixture (pg_fixture.sh):
#   pg_run.sh DIR DBNAME EXE [ARGS...]
# creates an empty database DBNAME on the server of DIR and runs EXE with SB_TEST_PG set to its
# conninfo (tests/signaling/store_fixture.h reads it).
set -uo pipefail
dir=$1 db=$2
shift 2
if [ ! -f "$dir/conninfo" ]; then
  echo "pg_run: no PostgreSQL server in $dir (the fixture did not start)" >&2
  exit 1
fi
base=$(sed 's/ dbname=[^ ]*//' "$dir/conninfo")
psql=/usr/lib/postgresql/15/bin/psql
"$psql" "$base dbname=postgres" -qAt -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\"" || exit 1
export SB_TEST_PG="$base dbname=$db"
exec "$@"

/* Which database a signaling test runs on: SQLite in memory, or PostgreSQL when SB_TEST_PG holds
 * a libpq conninfo (tests/lib/pg_run.sh sets it to a database of its own per test executable).
 * On PostgreSQL every open starts from empty tables (or, if a case altered the schema, a new
 * schema), so each test case is isolated as an in-memory SQLite database is. */
#ifndef SB_TEST_STORE_FIXTURE_H
#define SB_TEST_STORE_FIXTURE_H

#include "signaling/store.h"

#include <libpq-fe.h>
#include <stdlib.h>

/* The conninfo of the test database, or NULL for SQLite. */
static inline const char *sbt_pg(void) {
  const char *url = getenv("SB_TEST_PG");
  return url && *url ? url : NULL;
}

static inline int sbt_pg_run(const char *url, const char *sql, int quiet) {
  PGconn *c = PQconnectdb(url);
  int ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult *r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok && !quiet)
      fprintf(stderr, "  pg reset: %s", PQresultErrorMessage(r));
    PQclear(r);
  } else {
    fprintf(stderr, "  pg connect: %s", PQerrorMessage(c));
  }
  PQfinish(c);
  return ok ? 0 : -1;
}

/* Drops everything (schema public holds all of the schema): the next open migrates afresh. */
static inline int sbt_pg_reset(const char *url) {
  return sbt_pg_run(url, "SET client_min_messages = warning; "
                         "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public", 0);
}

/* Empties the tables and restarts the keys of a migrated schema: much faster than migrating
 * again for each case. Fails if a case altered the schema (the caller then resets). */
#define SBT_PG_EMPTY_SQL                                                                        \
  "DELETE FROM audit_tenants; DELETE FROM audit; DELETE FROM notifications; DELETE FROM "     \
  "blocks; DELETE FROM contacts; DELETE FROM room_members; DELETE FROM rooms; DELETE FROM "    \
  "connections; DELETE FROM users; DELETE FROM tenants; "                                     \
  "ALTER TABLE users ALTER COLUMN uid RESTART; "                                              \
  "ALTER TABLE notifications ALTER COLUMN id RESTART; "                                       \
  "ALTER TABLE audit ALTER COLUMN id RESTART"

/* A PostgreSQL store handed back by sbt_store_release(): the next case reuses its connection
 * (a new connection costs a server process and cold caches: most of a case's time). */
static sb_store_t *sbt_cached;

/* Opens an empty, migrated store of the backend under test. */
static inline int sbt_store_open(sb_store_t **st) {
  const char *url = sbt_pg();
  char err[256] = "";
  int rc;
  *st = NULL;
  if (!url)
    return sb_store_open_sqlite(":memory:", st, NULL, 0);
  if (sbt_cached) {
    sb_store_t *c = sbt_cached;
    sbt_cached = NULL;
    if (sb_store_exec(c, NULL, SBT_PG_EMPTY_SQL, "") >= 0) {
      *st = c;
      return 0;
    }
    sb_store_close(c);
  }
  if ((rc = sbt_pg_reset(url)) == 0 && (rc = sb_store_open(url, st, err, sizeof err)) < 0)
    fprintf(stderr, "  store open: %s\n", err);
  return rc;
}

/* Closes a store from sbt_store_open(), or keeps a PostgreSQL one for the next case. */
static inline void sbt_store_release(sb_store_t *st) {
  if (st && sbt_pg() && sb_store_tx_abort(st) == 0 && !sbt_cached) {
    while (st->tx_depth > 0)
      sb_store_rollback(st);
    sbt_cached = st;
    return;
  }
  sb_store_close(st);
}

#endif

/* Which database a signaling test runs on: SQLite in memory, or PostgreSQL when SB_TEST_PG holds
 * a libpq conninfo (tests/lib/pg_run.sh sets it to a database of its own per test executable).
 * On PostgreSQL every open starts from an empty schema, so each test case is isolated as an
 * in-memory SQLite database is. */
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

/* Drops everything the previous case left (schema public holds all of the schema). */
static inline int sbt_pg_reset(const char *url) {
  PGconn *c = PQconnectdb(url);
  int ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult *r = PQexec(c, "SET client_min_messages = warning; "
                            "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
      fprintf(stderr, "  pg reset: %s", PQresultErrorMessage(r));
    PQclear(r);
  } else {
    fprintf(stderr, "  pg connect: %s", PQerrorMessage(c));
  }
  PQfinish(c);
  return ok ? 0 : -1;
}

/* Opens an empty, migrated store of the backend under test. */
static inline int sbt_store_open(sb_store_t **st) {
  const char *url = sbt_pg();
  char err[256] = "";
  int rc;
  *st = NULL;
  if (url && sbt_pg_reset(url) < 0)
    return -1;
  rc = url ? sb_store_open(url, st, err, sizeof err) : sb_store_open_sqlite(":memory:", st, err,
                                                                             sizeof err);
  if (rc < 0)
    fprintf(stderr, "  store open: %s\n", err);
  return rc;
}

#endif

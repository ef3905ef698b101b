/* Store: parameters, errors, nested transactions, migrations, durability across SIGKILL.
 * Runs on SQLite, and again on PostgreSQL when SB_TEST_PG is set (store_fixture.h); the checks of
 * SQLite's own file handling (WAL, PRAGMAs, SIGKILL durability of the file) run on SQLite only,
 * those of PostgreSQL's (conflicts, lost connections) on PostgreSQL only. */
#include "sbtest.h"
#include "signaling/migrations.h"
#include "signaling/store.h"
#include "store_fixture.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp_path[64];

/* A fresh temp file name; sqlite creates the -wal and -shm files next to it. */
static const char *tmp_db(void) {
  snprintf(tmp_path, sizeof tmp_path, "/tmp/sb-test-store-XXXXXX");
  int fd = mkstemp(tmp_path);
  if (fd >= 0)
    close(fd);
  return tmp_path;
}

static void rm_db(const char *path) {
  char p[80];
  unlink(path);
  snprintf(p, sizeof p, "%s-wal", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", path);
  unlink(p);
}

static long long count(sb_store_t *st, const char *sql) {
  json_t *row = NULL;
  if (sb_store_get(st, &row, sql, "") != 1)
    return -1;
  long long n = json_integer_value(json_object_get(row, "n"));
  json_decref(row);
  return n;
}

/* 1 (and a line saying so) when the test is for the other backend only. */
static int skip_on(int pg, const char *why) {
  if ((sbt_pg() != NULL) != pg)
    return 0;
  printf("  skipped on %s: %s\n", pg ? "PostgreSQL" : "SQLite", why);
  return 1;
}

static const sb_migration_t *migrations(size_t *n) {
  *n = sbt_pg() ? sb_migrations_pg_count : sb_migrations_sqlite_count;
  return sbt_pg() ? sb_migrations_pg : sb_migrations_sqlite;
}

static int add_tenant(sb_store_t *st, const char *id) {
  return sb_store_exec(st, NULL, "INSERT INTO tenants (id, name, created_ms) VALUES (?, ?, 1)",
                       "ss", id, id);
}

SB_TEST(memory_store_opens_at_latest_version) {
  sb_store_t *st = NULL;
  size_t n;
  const sb_migration_t *list = migrations(&n);
  CHECK_EQ(sbt_store_open(&st), 0);
  CHECK_STR(sb_store_backend(st), sbt_pg() ? "postgresql" : "sqlite");
  CHECK_EQ(sb_store_schema_version(st), list[n - 1].version);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM schema_version"), (long long)n);
  /* both backends have the same steps */
  CHECK_EQ(sb_migrations_pg_count, sb_migrations_sqlite_count);
  for (size_t i = 0; i < n; i++) {
    CHECK_EQ(sb_migrations_pg[i].version, sb_migrations_sqlite[i].version);
    CHECK_STR(sb_migrations_pg[i].name, sb_migrations_sqlite[i].name);
  }
  sb_store_close(st);
  sb_store_close(NULL);
}

SB_TEST(exec_binds_and_returns_rows) {
  sb_store_t *st = NULL;
  json_t *rows = NULL;
  CHECK_EQ(sbt_store_open(&st), 0);
  CHECK_EQ(add_tenant(st, "acme"), 1);
  CHECK_EQ(sb_store_exec(st, NULL,
                         "INSERT INTO users (tenant_id, id, name, is_admin, external_allowed, "
                         "created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                         "sssbil", "acme", "alice", "Alice", 7, 0, 123456789012LL),
           1);
  CHECK(sb_store_exec(st, &rows, "SELECT id, name, is_admin, created_ms, NULL AS x FROM users "
                      "WHERE tenant_id = ?", "s", "acme") >= 0);
  CHECK_EQ(json_array_size(rows), 1);
  json_t *r = json_array_get(rows, 0);
  CHECK_STR(json_string_value(json_object_get(r, "name")), "Alice");
  CHECK_EQ(json_integer_value(json_object_get(r, "is_admin")), 1);
  CHECK_EQ(json_integer_value(json_object_get(r, "created_ms")), 123456789012LL);
  CHECK(json_is_null(json_object_get(r, "x")));
  json_decref(rows);
  sb_store_close(st);
}

SB_TEST(errors_are_classified_and_change_nothing) {
  sb_store_t *st = NULL;
  json_t *rows = (json_t *)1;
  CHECK_EQ(sbt_store_open(&st), 0);
  CHECK_EQ(add_tenant(st, "acme"), 1);
  CHECK_EQ(add_tenant(st, "acme"), SB_STORE_ECONSTRAINT);
  /* foreign keys are on: a user of an unknown tenant is refused */
  CHECK_EQ(sb_store_exec(st, NULL, "INSERT INTO users (tenant_id, id, name, created_ms) "
                         "VALUES ('nope', 'x', 'X', 1)", ""),
           SB_STORE_ECONSTRAINT);
  CHECK_EQ(sb_store_exec(st, &rows, "SELECT * FROM tenants WHERE id = ?", ""), SB_STORE_EMISUSE);
  CHECK(rows == NULL);
  CHECK_EQ(sb_store_exec(st, NULL, "SELECT ?", "x", 1), SB_STORE_EMISUSE);
  CHECK_EQ(sb_store_exec(st, NULL, "SELEKT 1", ""), SB_STORE_ERROR);
  CHECK(strstr(sb_store_errmsg(st), "syntax") != NULL);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM tenants"), 1);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM users"), 0);
  CHECK_STR(sb_store_strerror(SB_STORE_ECONSTRAINT), "constraint violated");
  sb_store_close(st);
}

SB_TEST(nested_transactions_roll_back_only_the_inner_step) {
  sb_store_t *st = NULL;
  CHECK_EQ(sbt_store_open(&st), 0);
  CHECK_EQ(sb_store_commit(st), SB_STORE_EMISUSE);
  CHECK_EQ(sb_store_rollback(st), SB_STORE_EMISUSE);
  CHECK_EQ(sb_store_begin(st), 0);
  CHECK_EQ(add_tenant(st, "a"), 1);
  CHECK_EQ(sb_store_begin(st), 0);
  CHECK_EQ(add_tenant(st, "b"), 1);
  CHECK_EQ(sb_store_rollback(st), 0);
  CHECK_EQ(sb_store_begin(st), 0);
  CHECK_EQ(add_tenant(st, "c"), 1);
  CHECK_EQ(sb_store_commit(st), 0);
  CHECK_EQ(sb_store_commit(st), 0);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM tenants WHERE id IN ('a', 'c')"), 2);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM tenants WHERE id = 'b'"), 0);
  /* an outer rollback undoes everything */
  CHECK_EQ(sb_store_begin(st), 0);
  CHECK_EQ(add_tenant(st, "d"), 1);
  CHECK_EQ(sb_store_rollback(st), 0);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM tenants"), 2);
  sb_store_close(st);
}

SB_TEST(file_store_uses_wal_full_sync_and_foreign_keys) {
  if (skip_on(1, "SQLite file settings"))
    return;
  const char *path = tmp_db();
  sb_store_t *st = NULL;
  json_t *row = NULL;
  CHECK_EQ(sb_store_open_sqlite(path, &st, NULL, 0), 0);
  CHECK_EQ(sb_store_get(st, &row, "PRAGMA journal_mode", ""), 1);
  CHECK_STR(json_string_value(json_object_get(row, "journal_mode")), "wal");
  json_decref(row);
  CHECK_EQ(sb_store_get(st, &row, "PRAGMA synchronous", ""), 1);
  CHECK_EQ(json_integer_value(json_object_get(row, "synchronous")), 2); /* FULL */
  json_decref(row);
  CHECK_EQ(sb_store_get(st, &row, "PRAGMA foreign_keys", ""), 1);
  CHECK_EQ(json_integer_value(json_object_get(row, "foreign_keys")), 1);
  json_decref(row);
  sb_store_close(st);
  rm_db(path);
}

SB_TEST(older_database_is_upgraded_and_reopening_is_a_no_op) {
  if (skip_on(1, "opening at an older version is a SQLite entry point"))
    return;
  const char *path = tmp_db();
  sb_store_t *st = NULL;
  json_t *before = NULL, *after = NULL;
  CHECK_EQ(sb_store_open_sqlite_at(path, 1, &st, NULL, 0), 0);
  CHECK_EQ(sb_store_schema_version(st), 1);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'audit_time'"), 0);
  CHECK_EQ(add_tenant(st, "acme"), 1);
  sb_store_close(st);

  CHECK_EQ(sb_store_open_sqlite(path, &st, NULL, 0), 0);
  CHECK_EQ(sb_store_schema_version(st), sb_migrations_sqlite[sb_migrations_sqlite_count - 1].version);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'audit_time'"), 1);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM tenants WHERE id = 'acme'"), 1);
  CHECK(sb_store_exec(st, &before, "SELECT * FROM schema_version ORDER BY version", "") >= 0);
  sb_store_close(st);

  CHECK_EQ(sb_store_open_sqlite(path, &st, NULL, 0), 0);
  CHECK(sb_store_exec(st, &after, "SELECT * FROM schema_version ORDER BY version", "") >= 0);
  CHECK(json_equal(before, after));
  CHECK_EQ(json_array_size(after), sb_migrations_sqlite_count);
  CHECK_EQ(sb_store_migrate(st, sb_migrations_sqlite, sb_migrations_sqlite_count, 0), 0);
  json_decref(before);
  json_decref(after);
  sb_store_close(st);
  rm_db(path);
}

SB_TEST(newer_database_is_refused) {
  const char *path = sbt_pg() ? sbt_pg() : tmp_db();
  sb_store_t *st = NULL;
  char err[256] = "";
  CHECK_EQ(sbt_pg() ? sbt_store_open(&st) : sb_store_open(path, &st, NULL, 0), 0);
  CHECK_EQ(sb_store_exec(st, NULL, "INSERT INTO schema_version VALUES (99, 'future', 1)", ""), 1);
  sb_store_close(st);
  CHECK(sb_store_open(path, &st, err, sizeof err) < 0);
  CHECK(st == NULL);
  CHECK(strstr(err, "newer") != NULL);
  if (!sbt_pg())
    rm_db(path);
}

SB_TEST(failed_migration_step_is_rolled_back) {
  static const sb_migration_t extra[] = {
      {99, "half", "CREATE TABLE t3 (x INTEGER); INSERT INTO nowhere VALUES (1);"},
  };
  sb_store_t *st = NULL;
  CHECK_EQ(sbt_store_open(&st), 0);
  CHECK(sb_store_migrate(st, extra, 1, 0) < 0);
  CHECK(strstr(sb_store_errmsg(st), "migration 99") != NULL);
  /* t3 is gone: selecting from it fails (the failure is outside any transaction) */
  CHECK_EQ(sb_store_exec(st, NULL, "SELECT x FROM t3", ""), SB_STORE_ERROR);
  CHECK_EQ(count(st, "SELECT MAX(version) AS n FROM schema_version"),
           sbt_pg() ? sb_migrations_pg[sb_migrations_pg_count - 1].version
                    : sb_migrations_sqlite[sb_migrations_sqlite_count - 1].version);
  sb_store_close(st);
}

/* The child commits changes of two rows each and reports each one after its commit returned;
 * the parent kills it mid-sequence. Every reported change must be there, none half. */
SB_TEST(answered_changes_survive_sigkill) {
  if (skip_on(1, "durability of the SQLite file (PostgreSQL's is the server's)"))
    return;
  const char *path = tmp_db();
  int fds[2];
  CHECK_EQ(pipe(fds), 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    sb_store_t *cst = NULL;
    close(fds[0]);
    if (sb_store_open_sqlite(path, &cst, NULL, 0) < 0)
      _exit(2);
    for (int i = 1; i < 100000; i++) {
      char id[32];
      snprintf(id, sizeof id, "t%d", i);
      if (sb_store_begin(cst) < 0 || add_tenant(cst, id) != 1 ||
          sb_store_exec(cst, NULL, "INSERT INTO users (tenant_id, id, name, created_ms) "
                        "VALUES (?, 'u', 'U', 1)", "s", id) != 1 ||
          sb_store_commit(cst) < 0)
        _exit(3);
      if (write(fds[1], &i, sizeof i) != sizeof i)
        _exit(4);
    }
    _exit(0);
  }
  close(fds[1]);
  int last = 0, v;
  while (last < 40 && read(fds[0], &v, sizeof v) == sizeof v)
    last = v;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  close(fds[0]);
  CHECK_EQ(last, 40);

  sb_store_t *st = NULL;
  CHECK_EQ(sb_store_open_sqlite(path, &st, NULL, 0), 0);
  long long tenants = count(st, "SELECT COUNT(*) AS n FROM tenants");
  CHECK(tenants >= last);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM tenants WHERE CAST(SUBSTR(id, 2) AS INTEGER) "
                     "BETWEEN 1 AND 40"),
           40);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM users"), tenants);
  sb_store_close(st);
  rm_db(path);
}

/* Inserts tenants with a long name in the open transaction until one fails; returns that. */
static int fill_until_refused(sb_store_t *st) {
  static char big[3001];
  char id[32];
  int rc = 0;
  memset(big, 'x', sizeof big - 1);
  for (int i = 0; i < 1000 && rc >= 0; i++) {
    snprintf(id, sizeof id, "big%d", i);
    rc = sb_store_exec(st, NULL, "INSERT INTO tenants (id, name, created_ms) VALUES (?, ?, 1)",
                       "ss", id, big);
  }
  return rc;
}

/* A full disk (here SQLite's max_page_count, which fails the same way: SQLITE_FULL) rolls the
 * transaction back inside SQLite. What the caller runs next in it must not commit on its own,
 * the commit must fail for that reason, and the message must stay the disk's. */
SB_TEST(full_disk_fails_the_whole_transaction) {
  if (skip_on(1, "SQLite's own rollback on SQLITE_FULL"))
    return;
  const char *path = tmp_db();
  sb_store_t *st = NULL;
  json_t *row = NULL;
  char sql[64];
  CHECK_EQ(sb_store_open_sqlite(path, &st, NULL, 0), 0);
  CHECK_EQ(add_tenant(st, "keep"), 1);
  CHECK_EQ(sb_store_get(st, &row, "PRAGMA page_count", ""), 1);
  snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld",
           (long long)json_integer_value(json_object_get(row, "page_count")) + 3);
  json_decref(row);
  CHECK(sb_store_exec(st, NULL, sql, "") >= 0);

  CHECK_EQ(sb_store_begin(st), 0);
  CHECK_EQ(add_tenant(st, "a"), 1);
  CHECK_EQ(fill_until_refused(st), SB_STORE_EFULL);
  CHECK(strstr(sb_store_errmsg(st), "full") != NULL);
  CHECK_EQ(add_tenant(st, "after"), SB_STORE_EFULL); /* not committed on its own */
  CHECK_EQ(sb_store_commit(st), SB_STORE_EFULL);
  CHECK(strstr(sb_store_errmsg(st), "full") != NULL);
  CHECK_EQ(sb_store_tx_abort(st), SB_STORE_EFULL);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM tenants"), 1);

  /* Inside a savepoint: both levels unwind without errors of their own. */
  CHECK_EQ(sb_store_begin(st), 0);
  CHECK_EQ(add_tenant(st, "b"), 1);
  CHECK_EQ(sb_store_begin(st), 0);
  CHECK_EQ(fill_until_refused(st), SB_STORE_EFULL);
  CHECK_EQ(sb_store_rollback(st), 0);
  CHECK_EQ(add_tenant(st, "c"), SB_STORE_EFULL);
  CHECK_EQ(sb_store_rollback(st), 0);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM tenants"), 1);

  /* Space again: the next transaction commits. */
  CHECK(sb_store_exec(st, NULL, "PRAGMA max_page_count = 1000000", "") >= 0);
  CHECK_EQ(sb_store_begin(st), 0);
  CHECK_EQ(sb_store_tx_abort(st), 0);
  CHECK_EQ(add_tenant(st, "d"), 1);
  CHECK_EQ(sb_store_commit(st), 0);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM tenants"), 2);
  CHECK_STR(sb_store_strerror(SB_STORE_EFULL), "disk full");
  sb_store_close(st);
  rm_db(path);
}

SB_TEST(urls_select_the_backend_and_passwords_are_redacted) {
  char out[256];
  CHECK_EQ(sb_store_url_is_pg("postgresql://sb@db/switchboard"), 1);
  CHECK_EQ(sb_store_url_is_pg("postgres://db"), 1);
  CHECK_EQ(sb_store_url_is_pg("host=/run/postgresql dbname=sb"), 1);
  CHECK_EQ(sb_store_url_is_pg("switchboard.sqlite3"), 0);
  CHECK_EQ(sb_store_url_is_pg(":memory:"), 0);
  sb_store_url_redact("postgresql://sb:s3cret@db:5432/sb?sslmode=require", out, sizeof out);
  CHECK_STR(out, "postgresql://sb:***@db:5432/sb?sslmode=require");
  sb_store_url_redact("postgresql://db/sb?user=sb&password=s3cret&sslmode=require", out,
                      sizeof out);
  CHECK_STR(out, "postgresql://db/sb?user=sb&password=***&sslmode=require");
  sb_store_url_redact("host=db password = 's3 cret' dbname=sb", out, sizeof out);
  CHECK_STR(out, "host=db password = *** dbname=sb");
  sb_store_url_redact("host=db password=s3cret", out, sizeof out);
  CHECK_STR(out, "host=db password=***");
  sb_store_url_redact("/var/lib/sb/password=x.sqlite3", out, sizeof out);
  CHECK(strstr(out, "x.sqlite3") == NULL); /* has '=': taken for a conninfo, so redacted too */
}

/* A `?` inside a literal is text, not a placeholder; booleans and reals come back as SQLite's. */
SB_TEST(placeholders_in_literals_and_value_types) {
  sb_store_t *st = NULL;
  json_t *row = NULL;
  CHECK_EQ(sbt_store_open(&st), 0);
  CHECK_EQ(sb_store_get(st, &row, "SELECT '?' AS q, 'it''s ?' AS r, CAST(? AS TEXT) AS a, "
                        "(1 = 1) AS t, (1 = 0) AS f, 1.5 AS x, CAST(? AS BIGINT) AS i", "sl",
                        "value", 1LL << 40), 1);
  CHECK_STR(json_string_value(json_object_get(row, "q")), "?");
  CHECK_STR(json_string_value(json_object_get(row, "r")), "it's ?");
  CHECK_STR(json_string_value(json_object_get(row, "a")), "value");
  CHECK(json_is_integer(json_object_get(row, "t")));
  CHECK_EQ(json_integer_value(json_object_get(row, "t")), 1);
  CHECK_EQ(json_integer_value(json_object_get(row, "f")), 0);
  CHECK(json_real_value(json_object_get(row, "x")) == 1.5);
  CHECK_EQ(json_integer_value(json_object_get(row, "i")), 1LL << 40);
  json_decref(row);
  sb_store_close(st);
}

/* Write skew: both read "no tenant yet", both insert one. Serializable lets only one commit. */
SB_TEST(pg_conflicting_transactions_fail_with_retry) {
  if (skip_on(0, "SQLite has one writer at a time: transactions never conflict"))
    return;
  sb_store_t *a = NULL, *b = NULL;
  int rb = 0;
  CHECK_EQ(sbt_store_open(&a), 0);
  CHECK_EQ(sb_store_open(sbt_pg(), &b, NULL, 0), 0);
  CHECK_EQ(sb_store_begin(a), 0);
  CHECK_EQ(sb_store_begin(b), 0);
  CHECK_EQ(count(a, "SELECT COUNT(*) AS n FROM tenants"), 0);
  CHECK_EQ(count(b, "SELECT COUNT(*) AS n FROM tenants"), 0);
  CHECK_EQ(add_tenant(a, "a"), 1);
  CHECK_EQ(sb_store_commit(a), 0);
  if ((rb = add_tenant(b, "b")) >= 0)
    rb = sb_store_commit(b);
  else
    sb_store_rollback(b);
  CHECK_EQ(rb, SB_STORE_ERETRY);
  CHECK_EQ(sb_store_tx_abort(b), SB_STORE_ERETRY);
  CHECK_STR(sb_store_strerror(SB_STORE_ERETRY), "transaction conflict, retry");
  /* the next transaction starts clean and succeeds */
  CHECK_EQ(sb_store_begin(b), 0);
  CHECK_EQ(sb_store_tx_abort(b), 0);
  CHECK_EQ(add_tenant(b, "b"), 1);
  CHECK_EQ(sb_store_commit(b), 0);
  CHECK_EQ(count(a, "SELECT COUNT(*) AS n FROM tenants"), 2);
  sb_store_close(a);
  sb_store_close(b);
}

static int terminate(sb_store_t *victim, sb_store_t *killer) {
  json_t *row = NULL;
  if (sb_store_get(victim, &row, "SELECT pg_backend_pid() AS p", "") != 1)
    return -1;
  long long pid = json_integer_value(json_object_get(row, "p"));
  json_decref(row);
  return sb_store_exec(killer, NULL, "SELECT pg_terminate_backend(CAST(? AS INTEGER))", "l", pid);
}

/* A lost connection is "unavailable"; the store reconnects on the next call between
 * transactions, never in the middle of one. */
SB_TEST(pg_lost_connection_is_unavailable_and_reconnects) {
  if (skip_on(0, "SQLite has no connection to lose"))
    return;
  sb_store_t *a = NULL, *b = NULL;
  CHECK_EQ(sbt_store_open(&a), 0);
  CHECK_EQ(sb_store_open(sbt_pg(), &b, NULL, 0), 0);
  CHECK(terminate(a, b) >= 0);
  CHECK_EQ(add_tenant(a, "x"), SB_STORE_EUNAVAILABLE);
  CHECK_EQ(add_tenant(a, "x"), 1); /* reconnected */

  CHECK_EQ(sb_store_begin(a), 0);
  CHECK_EQ(add_tenant(a, "y"), 1);
  CHECK(terminate(a, b) >= 0);
  CHECK_EQ(add_tenant(a, "z"), SB_STORE_EUNAVAILABLE);
  CHECK_EQ(add_tenant(a, "z"), SB_STORE_EUNAVAILABLE); /* still inside the lost transaction */
  CHECK_EQ(sb_store_tx_abort(a), SB_STORE_EUNAVAILABLE);
  sb_store_rollback(a);
  CHECK_EQ(count(a, "SELECT COUNT(*) AS n FROM tenants"), 1); /* y died with its transaction */
  CHECK_STR(sb_store_strerror(SB_STORE_EUNAVAILABLE), "database unavailable");
  sb_store_close(a);
  sb_store_close(b);
}

static void *open_and_close(void *arg) {
  sb_store_t *st = NULL;
  char err[256];
  *(int *)arg = sb_store_open(sbt_pg(), &st, err, sizeof err);
  sb_store_close(st);
  return NULL;
}

/* Nodes starting together on an empty database: one migrates, the others wait and find it done. */
SB_TEST(pg_nodes_starting_together_migrate_once) {
  if (skip_on(0, "a SQLite file belongs to one node"))
    return;
  pthread_t t[4];
  int rc[4];
  sb_store_t *st = NULL;
  CHECK_EQ(sbt_pg_reset(sbt_pg()), 0);
  for (int i = 0; i < 4; i++)
    CHECK_EQ(pthread_create(&t[i], NULL, open_and_close, &rc[i]), 0);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < 4; i++)
    CHECK_EQ(rc[i], 0);
  CHECK_EQ(sb_store_open(sbt_pg(), &st, NULL, 0), 0);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM schema_version"),
           (long long)sb_migrations_pg_count);
  sb_store_close(st);
}

/* Store: parameters, errors, nested transactions, migrations, durability across SIGKILL. */
#include "sbtest.h"
#include "signaling/migrations.h"
#include "signaling/store.h"

#include <signal.h>
#include <stdlib.h>
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

static int add_tenant(sb_store_t *st, const char *id) {
  return sb_store_exec(st, NULL, "INSERT INTO tenants (id, name, created_ms) VALUES (?, ?, 1)",
                       "ss", id, id);
}

SB_TEST(memory_store_opens_at_latest_version) {
  sb_store_t *st = NULL;
  char err[256] = "";
  CHECK_EQ(sb_store_open_sqlite(":memory:", &st, err, sizeof err), 0);
  CHECK_STR(sb_store_backend(st), "sqlite");
  CHECK_EQ(sb_store_schema_version(st), sb_migrations_sqlite[sb_migrations_sqlite_count - 1].version);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM schema_version"), (long long)sb_migrations_sqlite_count);
  sb_store_close(st);
  sb_store_close(NULL);
}

SB_TEST(exec_binds_and_returns_rows) {
  sb_store_t *st = NULL;
  json_t *rows = NULL;
  CHECK_EQ(sb_store_open_sqlite(":memory:", &st, NULL, 0), 0);
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
  CHECK_EQ(sb_store_open_sqlite(":memory:", &st, NULL, 0), 0);
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
  CHECK_EQ(sb_store_open_sqlite(":memory:", &st, NULL, 0), 0);
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
  const char *path = tmp_db();
  sb_store_t *st = NULL;
  char err[256] = "";
  CHECK_EQ(sb_store_open_sqlite(path, &st, NULL, 0), 0);
  CHECK_EQ(sb_store_exec(st, NULL, "INSERT INTO schema_version VALUES (99, 'future', 1)", ""), 1);
  sb_store_close(st);
  CHECK(sb_store_open_sqlite(path, &st, err, sizeof err) < 0);
  CHECK(st == NULL);
  CHECK(strstr(err, "newer") != NULL);
  rm_db(path);
}

SB_TEST(failed_migration_step_is_rolled_back) {
  static const sb_migration_t extra[] = {
      {99, "half", "CREATE TABLE t3 (x INTEGER); INSERT INTO nowhere VALUES (1);"},
  };
  sb_store_t *st = NULL;
  CHECK_EQ(sb_store_open_sqlite(":memory:", &st, NULL, 0), 0);
  CHECK(sb_store_migrate(st, extra, 1, 0) < 0);
  CHECK(strstr(sb_store_errmsg(st), "migration 99") != NULL);
  CHECK_EQ(count(st, "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 't3'"), 0);
  CHECK_EQ(count(st, "SELECT MAX(version) AS n FROM schema_version"), sb_migrations_sqlite[sb_migrations_sqlite_count - 1].version);
  sb_store_close(st);
}

/* The child commits changes of two rows each and reports each one after its commit returned;
 * the parent kills it mid-sequence. Every reported change must be there, none half. */
SB_TEST(answered_changes_survive_sigkill) {
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

/* SQLite backend of the store: one connection, WAL, synchronous=FULL so that a committed change
 * survives SIGKILL and power loss, foreign keys on, a busy timeout for another process using the
 * same file. */
#include "signaling/migrations.h"
#include "signaling/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_SQLITE_BUSY_MS 5000

typedef struct {
  sb_store_t base;
  sqlite3 *db;
} sb_store_sqlite_t;

static int sb__sqlite_status(sb_store_sqlite_t *s, int rc) {
  int status;
  snprintf(s->base.errmsg, sizeof s->base.errmsg, "%s", sqlite3_errmsg(s->db));
  switch (rc & 0xff) {
  case SQLITE_CONSTRAINT: status = SB_STORE_ECONSTRAINT; break;
  case SQLITE_BUSY:
  case SQLITE_LOCKED: status = SB_STORE_EBUSY; break;
  case SQLITE_NOMEM: status = SB_STORE_ENOMEM; break;
  case SQLITE_FULL: status = SB_STORE_EFULL; break;
  case SQLITE_IOERR: status = SB_STORE_EIO; break;
  default: status = SB_STORE_ERROR; break;
  }
  /* After SQLITE_FULL, SQLITE_IOERR (and a few others) SQLite may roll the whole transaction
   * back by itself. The statements that follow would then each commit on their own: the
   * transaction is doomed instead (sb__sqlite_exec), so that a change is never half-written. */
  if (s->base.tx_depth > 0 && sqlite3_get_autocommit(s->db) && !s->base.tx_abort)
    s->base.tx_abort = status;
  return status;
}

static int sb__sqlite_bind(sb_store_sqlite_t *s, sqlite3_stmt *stmt, const sb_store_arg_t *args,
                           int nargs) {
  int rc = SQLITE_OK;
  if (nargs != sqlite3_bind_parameter_count(stmt)) {
    snprintf(s->base.errmsg, sizeof s->base.errmsg, "statement wants %d parameters, got %d",
             sqlite3_bind_parameter_count(stmt), nargs);
    return SB_STORE_EMISUSE;
  }
  for (int i = 0; i < nargs && rc == SQLITE_OK; i++) {
    if (args[i].type == 'i')
      rc = sqlite3_bind_int64(stmt, i + 1, args[i].i);
    else if (args[i].s)
      rc = sqlite3_bind_text(stmt, i + 1, args[i].s, -1, SQLITE_STATIC);
    else
      rc = sqlite3_bind_null(stmt, i + 1);
  }
  return rc == SQLITE_OK ? 0 : sb__sqlite_status(s, rc);
}

/* Converts the current row to a JSON object keyed by column name. */
static json_t *sb__sqlite_row(sqlite3_stmt *stmt) {
  json_t *obj = json_object();
  int n = sqlite3_column_count(stmt);
  for (int i = 0; obj && i < n; i++) {
    json_t *v;
    switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(stmt, i)); break;
    case SQLITE_FLOAT: v = json_real(sqlite3_column_double(stmt, i)); break;
    case SQLITE_TEXT:
      v = json_stringn((const char *)sqlite3_column_text(stmt, i),
                       (size_t)sqlite3_column_bytes(stmt, i));
      break;
    default: v = json_null(); break;
    }
    if (!v || json_object_set_new(obj, sqlite3_column_name(stmt, i), v) != 0) {
      json_decref(obj);
      return NULL;
    }
  }
  return obj;
}

static int sb__sqlite_exec(sb_store_t *st, const char *sql, const sb_store_arg_t *args, int nargs,
                           json_t *rows) {
  sb_store_sqlite_t *s = (sb_store_sqlite_t *)st;
  const char *tail = sql;
  int changes = 0, rc;

  if (st->tx_abort && st->tx_depth > 0 && sqlite3_get_autocommit(s->db)) {
    /* SQLite already rolled the transaction back: its rollback (of the whole or of a savepoint)
     * has nothing left to do; anything else fails for the reason that ended it, and the message
     * of that failure stays. */
    return strncmp(sql, "ROLLBACK", 8) == 0 ? 0 : st->tx_abort;
  }
  while (tail && *tail) {
    sqlite3_stmt *stmt = NULL;
    rc = sqlite3_prepare_v2(s->db, tail, -1, &stmt, &tail);
    if (rc != SQLITE_OK)
      return sb__sqlite_status(s, rc);
    if (!stmt) /* only whitespace or a comment was left */
      break;
    if ((rc = sb__sqlite_bind(s, stmt, args, nargs)) < 0) {
      sqlite3_finalize(stmt);
      return rc;
    }
    nargs = 0; /* parameters belong to the first statement only */
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      json_t *row;
      if (!rows)
        continue;
      if (!(row = sb__sqlite_row(stmt)) || json_array_append_new(rows, row) != 0) {
        sqlite3_finalize(stmt);
        snprintf(s->base.errmsg, sizeof s->base.errmsg, "out of memory");
        return SB_STORE_ENOMEM;
      }
    }
    if (rc != SQLITE_DONE) {
      rc = sb__sqlite_status(s, rc);
      sqlite3_finalize(stmt);
      return rc;
    }
    changes = sqlite3_stmt_readonly(stmt) ? 0 : sqlite3_changes(s->db);
    sqlite3_finalize(stmt);
  }
  return changes;
}

/* IMMEDIATE takes the write lock at once, so two writers never deadlock upgrading read locks. */
static int sb__sqlite_begin(sb_store_t *st) {
  return sb__sqlite_exec(st, "BEGIN IMMEDIATE", NULL, 0, NULL);
}

static void sb__sqlite_close(sb_store_t *st) {
  sb_store_sqlite_t *s = (sb_store_sqlite_t *)st;
  sqlite3_close(s->db);
  free(s);
}

static const sb_store_ops_t sb__sqlite_ops = {
    .name = "sqlite",
    .exec = sb__sqlite_exec,
    .begin = sb__sqlite_begin,
    .close = sb__sqlite_close,
};

static int sb__sqlite_configure(sb_store_sqlite_t *s) {
  int rc = sqlite3_busy_timeout(s->db, SB_SQLITE_BUSY_MS);
  if (rc != SQLITE_OK)
    return sb__sqlite_status(s, rc);
  /* journal_mode answers a row; an in-memory database stays "memory", which is fine. */
  rc = sb__sqlite_exec(&s->base, "PRAGMA journal_mode=WAL", NULL, 0, NULL);
  if (rc >= 0)
    rc = sb__sqlite_exec(&s->base, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", NULL, 0,
                         NULL);
  return rc < 0 ? rc : 0;
}

int sb_store_open_sqlite_at(const char *path, int max_version, sb_store_t **out, char *err,
                            size_t errlen) {
  sb_store_sqlite_t *s = calloc(1, sizeof *s);
  int rc;

  *out = NULL;
  if (!s) {
    rc = SB_STORE_ENOMEM;
    if (err)
      snprintf(err, errlen, "out of memory");
    goto Exit;
  }
  s->base.ops = &sb__sqlite_ops;
  rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK) {
    rc = s->db ? sb__sqlite_status(s, rc) : SB_STORE_ENOMEM;
    goto Exit;
  }
  sqlite3_extended_result_codes(s->db, 1);
  if ((rc = sb__sqlite_configure(s)) < 0)
    goto Exit;
  rc = sb_store_migrate(&s->base, sb_migrations_sqlite, sb_migrations_sqlite_count, max_version);
  if (rc < 0)
    goto Exit;
  *out = &s->base;
  rc = 0;
Exit:
  if (rc < 0 && s) {
    if (err)
      snprintf(err, errlen, "%s: %s", path, s->base.errmsg[0] ? s->base.errmsg : "cannot open");
    sqlite3_close(s->db);
    free(s);
  }
  return rc;
}

int sb_store_open_sqlite(const char *path, sb_store_t **out, char *err, size_t errlen) {
  return sb_store_open_sqlite_at(path, 0, out, err, errlen);
}

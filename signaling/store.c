/* Backend-independent part of the store: parameter packing, nested transactions, migrations. */
#include "signaling/store.h"

#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SB_STORE_MAX_ARGS 16

static int sb__store_fail(sb_store_t *st, int status, const char *msg) {
  snprintf(st->errmsg, sizeof st->errmsg, "%s", msg);
  return status;
}

static int sb__store_vexec(sb_store_t *st, json_t **rows, const char *sql, const char *fmt,
                           va_list ap) {
  sb_store_arg_t args[SB_STORE_MAX_ARGS];
  int n = 0, rc;
  json_t *out = NULL;

  if (rows)
    *rows = NULL;
  for (const char *f = fmt ? fmt : ""; *f; f++, n++) {
    if (n == SB_STORE_MAX_ARGS)
      return sb__store_fail(st, SB_STORE_EMISUSE, "too many parameters");
    args[n].s = NULL;
    args[n].i = 0;
    switch (*f) {
    case 's':
      args[n].type = 's';
      args[n].s = va_arg(ap, const char *);
      break;
    case 'i':
      args[n].type = 'i';
      args[n].i = va_arg(ap, int);
      break;
    case 'b':
      args[n].type = 'i';
      args[n].i = va_arg(ap, int) ? 1 : 0;
      break;
    case 'l':
      args[n].type = 'i';
      args[n].i = va_arg(ap, long long);
      break;
    default:
      return sb__store_fail(st, SB_STORE_EMISUSE, "unknown parameter format letter");
    }
  }
  if (rows && !(out = json_array()))
    return sb__store_fail(st, SB_STORE_ENOMEM, "out of memory");
  rc = st->ops->exec(st, sql, args, n, out);
  if (rc < 0 || !rows)
    json_decref(out);
  else
    *rows = out;
  return rc;
}

int sb_store_exec(sb_store_t *st, json_t **rows, const char *sql, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = sb__store_vexec(st, rows, sql, fmt, ap);
  va_end(ap);
  return rc;
}

int sb_store_get(sb_store_t *st, json_t **row, const char *sql, const char *fmt, ...) {
  json_t *rows = NULL;
  va_list ap;
  va_start(ap, fmt);
  int rc = sb__store_vexec(st, &rows, sql, fmt, ap);
  va_end(ap);
  *row = NULL;
  if (rc < 0)
    return rc;
  if (json_array_size(rows) > 0)
    *row = json_incref(json_array_get(rows, 0));
  json_decref(rows);
  return *row ? 1 : 0;
}

/* Inner levels are savepoints named after their depth, so a failed inner step can be undone
 * without giving up the outer change. */
int sb_store_begin(sb_store_t *st) {
  char sql[48];
  int rc;
  if (st->tx_depth == 0) {
    st->tx_abort = 0;
    rc = st->ops->begin(st);
  } else {
    snprintf(sql, sizeof sql, "SAVEPOINT sb_sp%d", st->tx_depth);
    rc = st->ops->exec(st, sql, NULL, 0, NULL);
  }
  if (rc < 0)
    return rc;
  st->tx_depth++;
  return 0;
}

int sb_store_commit(sb_store_t *st) {
  char sql[48];
  int rc;
  if (st->tx_depth <= 0)
    return sb__store_fail(st, SB_STORE_EMISUSE, "commit without a transaction");
  if (st->tx_depth == 1) {
    rc = st->ops->exec(st, "COMMIT", NULL, 0, NULL);
    if (rc < 0) {
      /* A failed COMMIT (disk full, I/O error) leaves nothing half-applied: roll back. */
      st->ops->exec(st, "ROLLBACK", NULL, 0, NULL);
      st->tx_depth = 0;
      return rc;
    }
  } else {
    snprintf(sql, sizeof sql, "RELEASE SAVEPOINT sb_sp%d", st->tx_depth - 1);
    rc = st->ops->exec(st, sql, NULL, 0, NULL);
    if (rc < 0) {
      sb_store_rollback(st); /* the level ends either way, so the depth stays true */
      return rc;
    }
  }
  st->tx_depth--;
  return 0;
}

int sb_store_rollback(sb_store_t *st) {
  char sql[96];
  int rc;
  if (st->tx_depth <= 0)
    return sb__store_fail(st, SB_STORE_EMISUSE, "rollback without a transaction");
  if (st->tx_depth == 1) {
    rc = st->ops->exec(st, "ROLLBACK", NULL, 0, NULL);
  } else {
    snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT sb_sp%d; RELEASE SAVEPOINT sb_sp%d",
             st->tx_depth - 1, st->tx_depth - 1);
    rc = st->ops->exec(st, sql, NULL, 0, NULL);
  }
  st->tx_depth--;
  return rc < 0 ? rc : 0;
}

int sb_store_schema_version(const sb_store_t *st) { return st->schema_version; }

int sb_store_tx_abort(const sb_store_t *st) { return st->tx_abort; }

const char *sb_store_backend(const sb_store_t *st) { return st->ops->name; }

const char *sb_store_errmsg(const sb_store_t *st) { return st->errmsg; }

const char *sb_store_strerror(int status) {
  switch (status) {
  case SB_STORE_OK: return "ok";
  case SB_STORE_ERROR: return "storage error";
  case SB_STORE_ECONSTRAINT: return "constraint violated";
  case SB_STORE_EBUSY: return "database busy";
  case SB_STORE_ENOMEM: return "out of memory";
  case SB_STORE_EMISUSE: return "storage interface misused";
  case SB_STORE_ERETRY: return "transaction conflict, retry";
  case SB_STORE_EUNAVAILABLE: return "database unavailable";
  case SB_STORE_EFULL: return "disk full";
  case SB_STORE_EIO: return "disk I/O error";
  default: return "unknown storage status";
  }
}

int sb_store_url_is_pg(const char *url) {
  return url && (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0 ||
                 strchr(url, '=') != NULL);
}

/* The value of a conninfo keyword or URL query parameter "password" (quoted or not). */
static void sb__redact_keyword(char *s, size_t len) {
  char *pw = strstr(s, "password"), *v, *end;
  char tail[512];
  if (!pw)
    return;
  for (v = pw + 8; *v == ' '; v++)
    ;
  if (*v++ != '=')
    return;
  while (*v == ' ')
    v++;
  if (*v == '\'') {
    for (end = v + 1; *end && *end != '\''; end += end[0] == '\\' && end[1] ? 2 : 1)
      ;
    end += *end ? 1 : 0;
  } else {
    end = v + strcspn(v, " &");
  }
  snprintf(tail, sizeof tail, "%s", end);
  snprintf(v, len - (size_t)(v - s), "***%s", tail);
}

/* URL: the password is between the ':' of the user info and its '@'. */
void sb_store_url_redact(const char *url, char *out, size_t len) {
  const char *auth, *at, *colon;
  snprintf(out, len, "%s", url ? url : "");
  if (!url || !sb_store_url_is_pg(url) || len == 0)
    return;
  if ((auth = strstr(url, "://")) != NULL) {
    auth += 3;
    at = strchr(auth, '@');
    colon = strchr(auth, ':');
    if (at && colon && colon < at && !memchr(auth, '/', (size_t)(at - auth)))
      snprintf(out, len, "%.*s:***%s", (int)(colon - url), url, at);
  }
  sb__redact_keyword(out, len);
}

int sb_store_open(const char *url, sb_store_t **out, char *err, size_t errlen) {
  if (sb_store_url_is_pg(url))
    return sb_store_open_pg(url, out, err, errlen);
  return sb_store_open_sqlite(url, out, err, errlen);
}

void sb_store_close(sb_store_t *st) {
  if (!st)
    return;
  if (st->tx_depth > 0)
    st->ops->exec(st, "ROLLBACK", NULL, 0, NULL);
  st->ops->close(st);
}

static int sb__store_current_version(sb_store_t *st) {
  json_t *row = NULL;
  int rc = sb_store_exec(st, NULL,
                         "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                         "name TEXT NOT NULL, applied_ms BIGINT NOT NULL)",
                         "");
  if (rc < 0)
    return rc;
  rc = sb_store_get(st, &row, "SELECT COALESCE(MAX(version), 0) AS v FROM schema_version", "");
  if (rc < 0)
    return rc;
  int v = (int)json_integer_value(json_object_get(row, "v"));
  json_decref(row);
  return v;
}

static int sb__store_apply(sb_store_t *st, const sb_migration_t *mig) {
  int rc = sb_store_begin(st);
  if (rc < 0)
    return rc;
  rc = st->ops->exec(st, mig->sql, NULL, 0, NULL);
  if (rc >= 0)
    rc = sb_store_exec(st, NULL,
                       "INSERT INTO schema_version (version, name, applied_ms) VALUES (?, ?, ?)",
                       "isl", mig->version, mig->name, (long long)sb_wall_ms());
  if (rc < 0) {
    char msg[sizeof st->errmsg];
    snprintf(msg, sizeof msg, "%s", st->errmsg);
    sb_store_rollback(st);
    snprintf(st->errmsg, sizeof st->errmsg, "migration %d (%s): %.180s", mig->version,
             mig->name, msg);
    return rc;
  }
  return sb_store_commit(st);
}

int sb_store_migrate(sb_store_t *st, const sb_migration_t *list, size_t n, int max_version) {
  int applied = 0, rc;
  int current = sb__store_current_version(st);
  int latest = n ? list[n - 1].version : 0;

  if (current < 0)
    return current;
  if (current > latest) {
    snprintf(st->errmsg, sizeof st->errmsg,
             "database schema version %d is newer than this build knows (%d)", current, latest);
    return SB_STORE_EMISUSE;
  }
  for (size_t i = 0; i < n; i++) {
    if (list[i].version <= current)
      continue;
    if (max_version > 0 && list[i].version > max_version)
      break;
    if ((rc = sb__store_apply(st, &list[i])) < 0)
      return rc;
    current = list[i].version;
    applied++;
  }
  st->schema_version = current;
  return applied;
}

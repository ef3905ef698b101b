/* PostgreSQL backend of the store (libpq): one connection, SERIALIZABLE write transactions.
 *
 * The model's SQL uses `?` placeholders; they become $1..$n here. Values are sent as text and
 * their types left to the server (an integer argument is declared int8 so that it is never taken
 * for text). Rows come back as the same JSON objects as SQLite's: integers, reals, text, null;
 * booleans as 0/1 so that the model sees one representation.
 *
 * Concurrency: several nodes share the database. SERIALIZABLE makes every model operation behave
 * as if the operations ran one after another (what SQLite's single writer gives for free); the
 * price is that PostgreSQL may abort a transaction that conflicts (SQLSTATE 40001, or 40P01 for a
 * deadlock): that is SB_STORE_ERETRY and the caller runs the whole operation again.
 * A lost connection is SB_STORE_EUNAVAILABLE; the next call made outside a transaction reconnects
 * (inside one there is nothing to resume: the server rolled it back). */
#include "signaling/migrations.h"
#include "signaling/store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs of pg_type (catalog/pg_type_d.h is a server header). */
enum {
  SB__PG_BOOL = 16,
  SB__PG_INT8 = 20,
  SB__PG_INT2 = 21,
  SB__PG_INT4 = 23,
  SB__PG_OID = 26,
  SB__PG_FLOAT4 = 700,
  SB__PG_FLOAT8 = 701,
  SB__PG_NUMERIC = 1700,
};

/* Key of the advisory lock held while migrating ("sbmigrat" in ASCII). */
#define SB__PG_MIGRATE_LOCK "7377626d69677261"

#define SB__PG_MAX_ARGS 16

typedef struct {
  sb_store_t base;
  PGconn *conn;
  int broken; /* a connection failure was seen: reset before the next use */
} sb_store_pg_t;

static void sb__pg_notice(void *arg, const char *message) {
  (void)arg;
  (void)message; /* "relation already exists, skipping" and the like: not worth a log line */
}

/* Classifies a failed result (res may be NULL when the connection broke). */
static int sb__pg_status(sb_store_pg_t *s, const PGresult *res) {
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  int rc = SB_STORE_ERROR;

  if (!msg || !*msg)
    msg = PQerrorMessage(s->conn);
  snprintf(s->base.errmsg, sizeof s->base.errmsg, "%s", msg);
  s->base.errmsg[strcspn(s->base.errmsg, "\n")] = '\0';
  if (!state || PQstatus(s->conn) != CONNECTION_OK || strncmp(state, "08", 2) == 0 ||
      strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
      strcmp(state, "57P03") == 0) {
    s->broken = 1;
    rc = SB_STORE_EUNAVAILABLE;
  } else if (strncmp(state, "23", 2) == 0) {
    rc = SB_STORE_ECONSTRAINT;
  } else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
    rc = SB_STORE_ERETRY;
  } else if (strcmp(state, "53100") == 0) {
    rc = SB_STORE_EFULL; /* disk_full */
  } else if (strcmp(state, "25P02") == 0 && s->base.tx_abort) {
    rc = s->base.tx_abort; /* "transaction is aborted": report why it was */
  }
  if ((rc == SB_STORE_ERETRY || rc == SB_STORE_EUNAVAILABLE || rc == SB_STORE_EFULL) &&
      s->base.tx_depth > 0)
    s->base.tx_abort = rc;
  return rc;
}

/* Rewrites `?` outside quoted literals and identifiers as $1..$n into a new string and counts
 * them in *n. */
static char *sb__pg_translate(const char *sql, int *n) {
  size_t len = strlen(sql);
  char *out = malloc(len * 4 + 1), *o = out;
  char quote = 0;
  *n = 0;
  if (!out)
    return NULL;
  for (const char *p = sql; *p; p++) {
    if (quote) {
      if (*p == quote)
        quote = 0; /* a doubled quote closes and reopens: same result */
    } else if (*p == '\'' || *p == '"') {
      quote = *p;
    } else if (*p == '?') {
      o += sprintf(o, "$%d", ++*n);
      continue;
    }
    *o++ = *p;
  }
  *o = '\0';
  return out;
}

static json_t *sb__pg_value(const PGresult *res, int r, int c) {
  const char *v = PQgetvalue(res, r, c);
  char *end;
  if (PQgetisnull(res, r, c))
    return json_null();
  switch (PQftype(res, c)) {
  case SB__PG_INT2:
  case SB__PG_INT4:
  case SB__PG_INT8:
  case SB__PG_OID: return json_integer(strtoll(v, NULL, 10));
  case SB__PG_BOOL: return json_integer(v[0] == 't');
  case SB__PG_FLOAT4:
  case SB__PG_FLOAT8: return json_real(strtod(v, NULL));
  case SB__PG_NUMERIC: {
    /* SUM() of bigint is numeric; a whole number stays an integer, as SQLite answers */
    long long i = strtoll(v, &end, 10);
    return *end ? json_real(strtod(v, NULL)) : json_integer(i);
  }
  default: return json_string(v);
  }
}

static int sb__pg_rows(sb_store_pg_t *s, const PGresult *res, json_t *rows) {
  int nr = PQntuples(res), nc = PQnfields(res);
  for (int r = 0; r < nr; r++) {
    json_t *obj = json_object();
    for (int c = 0; obj && c < nc; c++) {
      json_t *v = sb__pg_value(res, r, c);
      if (!v || json_object_set_new(obj, PQfname(res, c), v) != 0) {
        json_decref(obj);
        obj = NULL;
      }
    }
    if (!obj || json_array_append_new(rows, obj) != 0) {
      snprintf(s->base.errmsg, sizeof s->base.errmsg, "out of memory");
      return SB_STORE_ENOMEM;
    }
  }
  return 0;
}

/* Reconnects after a failure, but only between transactions: inside one the server already
 * rolled it back and the caller must start over. */
static int sb__pg_ready(sb_store_pg_t *s) {
  if (!s->broken && PQstatus(s->conn) == CONNECTION_OK)
    return 0;
  if (s->base.tx_depth > 0) {
    snprintf(s->base.errmsg, sizeof s->base.errmsg, "connection lost during a transaction");
    s->base.tx_abort = SB_STORE_EUNAVAILABLE;
    return SB_STORE_EUNAVAILABLE;
  }
  PQreset(s->conn);
  if (PQstatus(s->conn) != CONNECTION_OK) {
    snprintf(s->base.errmsg, sizeof s->base.errmsg, "%s", PQerrorMessage(s->conn));
    s->base.errmsg[strcspn(s->base.errmsg, "\n")] = '\0';
    return SB_STORE_EUNAVAILABLE;
  }
  s->broken = 0;
  return 0;
}

static PGresult *sb__pg_run(sb_store_pg_t *s, const char *sql, const sb_store_arg_t *args,
                            int nargs, int *rc) {
  const char *values[SB__PG_MAX_ARGS];
  Oid types[SB__PG_MAX_ARGS];
  char ints[SB__PG_MAX_ARGS][24];
  PGresult *res = NULL;
  int n = 0;
  char *text = sb__pg_translate(sql, &n);

  *rc = 0;
  if (!text) {
    *rc = SB_STORE_ENOMEM;
  } else if (n != nargs || nargs > SB__PG_MAX_ARGS) {
    snprintf(s->base.errmsg, sizeof s->base.errmsg, "statement wants %d parameters, got %d", n,
             nargs);
    *rc = SB_STORE_EMISUSE;
  } else if (nargs == 0) {
    res = PQexec(s->conn, sql); /* may hold several statements (migrations) */
  } else {
    for (int i = 0; i < nargs; i++) {
      if (args[i].type == 'i') {
        snprintf(ints[i], sizeof ints[i], "%lld", args[i].i);
        values[i] = ints[i];
        types[i] = SB__PG_INT8;
      } else {
        values[i] = args[i].s; /* NULL sends SQL NULL */
        types[i] = 0;          /* the server infers it from the statement */
      }
    }
    res = PQexecParams(s->conn, text, nargs, types, values, NULL, NULL, 0);
  }
  free(text);
  return res;
}

static int sb__pg_exec(sb_store_t *st, const char *sql, const sb_store_arg_t *args, int nargs,
                       json_t *rows) {
  sb_store_pg_t *s = (sb_store_pg_t *)st;
  PGresult *res;
  int rc = sb__pg_ready(s);

  if (rc < 0)
    return rc;
  if (!(res = sb__pg_run(s, sql, args, nargs, &rc)))
    return rc < 0 ? rc : sb__pg_status(s, NULL);
  switch (PQresultStatus(res)) {
  case PGRES_TUPLES_OK:
    if (rows && (rc = sb__pg_rows(s, res, rows)) < 0)
      break;
    /* fall through */
  case PGRES_COMMAND_OK:
  case PGRES_EMPTY_QUERY:
    /* SQLite counts no change for a query; PostgreSQL counts the rows it returned */
    rc = strncmp(PQcmdStatus(res), "SELECT", 6) == 0 ? 0 : atoi(PQcmdTuples(res));
    break;
  default: rc = sb__pg_status(s, res); break;
  }
  PQclear(res);
  return rc;
}

static int sb__pg_begin(sb_store_t *st) {
  return sb__pg_exec(st, "BEGIN ISOLATION LEVEL SERIALIZABLE", NULL, 0, NULL);
}

static void sb__pg_close(sb_store_t *st) {
  sb_store_pg_t *s = (sb_store_pg_t *)st;
  PQfinish(s->conn);
  free(s);
}

static const sb_store_ops_t sb__pg_ops = {
    .name = "postgresql",
    .exec = sb__pg_exec,
    .begin = sb__pg_begin,
    .close = sb__pg_close,
};

/* Nodes that start together take turns: the first migrates, the others find it done. The lock
 * belongs to the session, so a node that dies while holding it releases it. */
static int sb__pg_migrate(sb_store_pg_t *s) {
  int rc = sb__pg_exec(&s->base, "SELECT pg_advisory_lock(x'" SB__PG_MIGRATE_LOCK "'::bigint)",
                       NULL, 0, NULL);
  if (rc < 0)
    return rc;
  rc = sb_store_migrate(&s->base, sb_migrations_pg, sb_migrations_pg_count, 0);
  if (sb__pg_exec(&s->base, "SELECT pg_advisory_unlock(x'" SB__PG_MIGRATE_LOCK "'::bigint)",
                  NULL, 0, NULL) < 0 && rc >= 0)
    rc = SB_STORE_EUNAVAILABLE;
  return rc;
}

int sb_store_open_pg(const char *conninfo, sb_store_t **out, char *err, size_t errlen) {
  sb_store_pg_t *s = calloc(1, sizeof *s);
  char where[256];
  int rc;

  *out = NULL;
  if (!s) {
    rc = SB_STORE_ENOMEM;
    if (err)
      snprintf(err, errlen, "out of memory");
    goto Exit;
  }
  s->base.ops = &sb__pg_ops;
  s->conn = PQconnectdb(conninfo);
  if (!s->conn) {
    rc = SB_STORE_ENOMEM;
    goto Exit;
  }
  if (PQstatus(s->conn) != CONNECTION_OK) {
    rc = sb__pg_status(s, NULL);
    goto Exit;
  }
  PQsetNoticeProcessor(s->conn, sb__pg_notice, NULL);
  if ((rc = sb__pg_migrate(s)) < 0)
    goto Exit;
  *out = &s->base;
  rc = 0;
Exit:
  if (rc < 0 && s) {
    sb_store_url_redact(conninfo, where, sizeof where);
    if (err)
      snprintf(err, errlen, "%s: %s", where, s->base.errmsg[0] ? s->base.errmsg : "cannot open");
    PQfinish(s->conn);
    free(s);
  }
  return rc;
}

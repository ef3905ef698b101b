/* Storage interface of the signaling component.
 *
 * The model talks SQL to an opaque sb_store_t; a backend (store_sqlite.c, store_pg.c) is a small
 * table of functions, after redis's connection types. Statements use `?` placeholders and the
 * common subset of SQLite and PostgreSQL (ON CONFLICT, no backend-only functions), so one model
 * serves every backend; DDL differs and lives in each backend's migration list.
 *
 * Rows come back as a jansson array of objects keyed by column name (integers, strings, null):
 * the model builds JSON answers anyway and signaling is not on the per-packet path.
 *
 * Transactions nest: the outermost sb_store_begin() opens a write transaction, inner ones are
 * savepoints, so a model operation that calls another stays one all-or-nothing change.
 * One store is used from one thread at a time. */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  SB_STORE_OK = 0,
  SB_STORE_ERROR = -1,      /* SQL or I/O failure; see sb_store_errmsg() */
  SB_STORE_ECONSTRAINT = -2, /* a UNIQUE, CHECK or FOREIGN KEY constraint refused the change */
  SB_STORE_EBUSY = -3,      /* another process held the database longer than the busy timeout */
  SB_STORE_ENOMEM = -4,
  SB_STORE_EMISUSE = -5,    /* bad arguments: unknown format letter, commit without begin */
  SB_STORE_ERETRY = -6,     /* PostgreSQL: serialization failure or deadlock; the transaction was
                             * rolled back and running it again may succeed */
  SB_STORE_EUNAVAILABLE = -7, /* PostgreSQL: the connection is lost; the next call made outside a
                               * transaction reconnects */
  SB_STORE_EFULL = -8,      /* the disk (or PostgreSQL's) is full: the change did not fit and its
                             * transaction was rolled back; nothing was changed */
  SB_STORE_EIO = -9,        /* SQLite: the operating system failed a read or write of the file */
} sb_store_status_t;

typedef struct sb_store sb_store_t;

/* One bound parameter: 's' text (NULL binds SQL NULL) or 'i' 64-bit integer. */
typedef struct {
  char type;
  const char *s;
  long long i;
} sb_store_arg_t;

/* Backend side. A backend allocates its own struct with sb_store_t as the first member. */
typedef struct {
  const char *name;
  /* Runs one statement, or several separated by ';' when nargs is 0. Appends each result row to
   * `rows` (a JSON array) when it is not NULL. Returns the number of rows changed, or < 0. */
  int (*exec)(sb_store_t *st, const char *sql, const sb_store_arg_t *args, int nargs,
              json_t *rows);
  /* Opens a write transaction (SQLite takes the write lock at once: BEGIN IMMEDIATE; PostgreSQL
   * opens a SERIALIZABLE one). */
  int (*begin)(sb_store_t *st);
  void (*close)(sb_store_t *st);
} sb_store_ops_t;

struct sb_store {
  const sb_store_ops_t *ops;
  int tx_depth;
  int schema_version;
  /* Set by a backend when a failure (SB_STORE_ERETRY, SB_STORE_EUNAVAILABLE, and SB_STORE_EFULL
   * or SB_STORE_EIO when SQLite rolled the transaction back by itself) doomed the open
   * transaction: later statements of it fail for that reason, whatever they report. Cleared when
   * the next outermost transaction begins. */
  int tx_abort;
  char errmsg[256];
};

/** Opens the store named by `url`: a "postgresql://" or "postgres://" URL, or a libpq conninfo
 * (a string with '=', e.g. "host=/run/postgresql dbname=switchboard"), selects PostgreSQL;
 * anything else is a SQLite file path. Migrates the schema to the latest version. On failure
 * returns < 0 with a message in err (may be NULL) that never contains a password. */
int sb_store_open(const char *url, sb_store_t **out, char *err, size_t errlen);

/** 1 if `url` names a PostgreSQL database (see sb_store_open()), else 0. */
int sb_store_url_is_pg(const char *url);

/** Writes `url` with any password replaced by "***" into out (for logs). */
void sb_store_url_redact(const char *url, char *out, size_t len);

/** Connects to PostgreSQL (URL or conninfo) and migrates the schema to the latest version,
 * holding an advisory lock so that nodes starting together migrate once. */
int sb_store_open_pg(const char *conninfo, sb_store_t **out, char *err, size_t errlen);

/** Opens (creating if needed) the SQLite database at `path` (":memory:" for tests), sets WAL,
 * synchronous=FULL, foreign keys and a busy timeout, and migrates the schema to the latest
 * version. On failure returns < 0 with a message in err (may be NULL). */
int sb_store_open_sqlite(const char *path, sb_store_t **out, char *err, size_t errlen);

/** As sb_store_open_sqlite(), but migrates only up to `max_version` (0: latest). For tests and
 * tools that need an older schema. */
int sb_store_open_sqlite_at(const char *path, int max_version, sb_store_t **out, char *err,
                            size_t errlen);

/** Closes the store; rolls back an open transaction. Accepts NULL. */
void sb_store_close(sb_store_t *st);

/** Runs a statement with parameters described by `fmt` ('s' const char *, 'i' int,
 * 'l' long long, 'b' int as 0/1). If rows is not NULL, *rows receives a new array of row
 * objects (caller owns it, also on failure it is NULL). Returns the rows changed or < 0. */
int sb_store_exec(sb_store_t *st, json_t **rows, const char *sql, const char *fmt, ...);

/** As sb_store_exec() but returns only the first row (new reference) in *row, or NULL.
 * Returns 1 when a row was found, 0 when none, < 0 on failure. */
int sb_store_get(sb_store_t *st, json_t **row, const char *sql, const char *fmt, ...);

/** Begins a (nested) transaction; 0 or < 0. */
int sb_store_begin(sb_store_t *st);
/** Commits the innermost transaction; for the outermost one the change is durable on return. */
int sb_store_commit(sb_store_t *st);
/** Rolls back the innermost transaction. */
int sb_store_rollback(sb_store_t *st);

/** The schema version after the migrations of the open call. */
int sb_store_schema_version(const sb_store_t *st);
/** The failure that doomed the open transaction (SB_STORE_ERETRY, SB_STORE_EUNAVAILABLE,
 * SB_STORE_EFULL or SB_STORE_EIO), or 0. Stays set after the rollback until the next outermost sb_store_begin(). */
int sb_store_tx_abort(const sb_store_t *st);
/** Name of the backend ("sqlite" or "postgresql"). */
const char *sb_store_backend(const sb_store_t *st);
/** Message of the last failure. */
const char *sb_store_errmsg(const sb_store_t *st);
/** Text for a status code. */
const char *sb_store_strerror(int status);

/* Migrations: a numbered list of SQL steps per backend; each is applied in its own transaction
 * and recorded in schema_version (version, name, applied_ms). */
typedef struct {
  int version;
  const char *name;
  const char *sql;
} sb_migration_t;

/** Applies the migrations of `list` above the current version, up to `max_version` (0: all).
 * Returns the number applied, or < 0 (the failed step is rolled back, earlier ones stay).
 * A database newer than the list is refused. */
int sb_store_migrate(sb_store_t *st, const sb_migration_t *list, size_t n, int max_version);

#endif

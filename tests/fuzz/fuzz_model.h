/* The signaling fuzz targets' database (fuzz_rpc, fuzz_http_api): an in-memory SQLite model
 * holding the demo seed (acme: alice, bob; globex: carol, dave; connected; rooms "demo" and
 * alice<->carol) and initech/erin, put back before each input, and a digest of its tables to
 * check that a refused request changed nothing. Static functions: one harness includes it. */
#ifndef SB_FUZZ_MODEL_H
#define SB_FUZZ_MODEL_H

#include "signaling/model.h"
#include "signaling/store.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE(c)                                                                          \
  do {                                                                                     \
    if (!(c))                                                                              \
      __builtin_trap();                                                                    \
  } while (0)

static sb_store_t *st;
static sb_model_t *model;
static char *restore_sql;
static char template_path[64];
static uint64_t clock_ms;

static uint64_t fixed_clock(void *ctx) { return ++clock_ms; }

static const char *const tables[] = {"tenants", "users", "connections", "rooms",
                                     "room_members", "contacts", "blocks", "notifications"};

/* A digest of every table the client API may change (as tests/signaling/model_fixture.h). */
static json_t *snapshot(void) {
  json_t *snap = json_object();
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    char sql[96];
    json_t *rows = NULL;
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1, 2", tables[i]);
    sb_store_exec(st, &rows, sql, "");
    json_object_set_new(snap, tables[i], rows ? rows : json_null());
  }
  return snap;
}

static void remove_template(void) {
  if (template_path[0])
    unlink(template_path);
}

/* The seed is built once in a file; each input copies it back into the in-memory database. */
static void fuzz_model_setup(void) {
  sb_store_t *tmpl = NULL;
  sb_model_t *tm = NULL;
  sb_model_err_t err;
  json_t *out = NULL, *rows = NULL;
  static const sb_principal_t op = {.tenant = "", .user = "operator", .operator = 1};
  sb_user_fields_t erin = {.name = "Erin", .is_admin = 1, .external_allowed = 1};
  snprintf(template_path, sizeof template_path, "/tmp/sb-fuzz-rpc-XXXXXX");
  int fd = mkstemp(template_path);
  REQUIRE(fd >= 0);
  close(fd);
  REQUIRE(sb_store_open_sqlite(template_path, &tmpl, NULL, 0) == 0);
  REQUIRE(sb_store_exec(tmpl, NULL, "PRAGMA synchronous=OFF", "") >= 0); /* a scratch file */
  REQUIRE(sb_model_create(tmpl, &tm) == 0 && sb_model_seed_demo(tm) == 0);
  REQUIRE(sb_model_tenant_create(tm, &op, "initech", "Initech", &out, &err) == 0);
  json_decref(out);
  REQUIRE(sb_model_user_create(tm, &op, "initech", "erin", &erin, &out, &err) == 0);
  json_decref(out);
  sb_model_destroy(tm);
  /* Out of WAL mode, so that attaching it makes no -wal and -shm files beside it. */
  REQUIRE(sb_store_exec(tmpl, NULL, "PRAGMA journal_mode=DELETE", "") >= 0);
  sb_store_close(tmpl);

  REQUIRE(sb_store_open_sqlite(":memory:", &st, NULL, 0) == 0);
  REQUIRE(sb_model_create(st, &model) == 0);
  sb_model_set_clock(model, fixed_clock, NULL);
  char attach[128];
  snprintf(attach, sizeof attach, "ATTACH DATABASE '%s' AS tmpl", template_path);
  REQUIRE(sb_store_exec(st, NULL, attach, "") >= 0);
  remove_template(); /* the open database keeps it: nothing is left behind, even after a crash */
  REQUIRE(sb_store_exec(st, &rows,
                        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT "
                        "LIKE 'sqlite_stat%' ORDER BY name",
                        "") >= 0);
  size_t cap = 256 + 128 * json_array_size(rows), n = 0, i;
  json_t *row;
  restore_sql = malloc(cap);
  REQUIRE(restore_sql);
  n += (size_t)snprintf(restore_sql + n, cap - n, "PRAGMA foreign_keys=OFF; BEGIN;");
  json_array_foreach(rows, i, row) {
    const char *t = json_string_value(json_object_get(row, "name"));
    n += (size_t)snprintf(restore_sql + n, cap - n,
                          " DELETE FROM main.%s; INSERT INTO main.%s SELECT * FROM tmpl.%s;", t,
                          t, t);
  }
  snprintf(restore_sql + n, cap - n, " COMMIT; PRAGMA foreign_keys=ON");
  json_decref(rows);
}

static long long changes(void) {
  json_t *row = NULL;
  REQUIRE(sb_store_get(st, &row, "SELECT total_changes() AS n", "") == 1);
  long long n = json_integer_value(json_object_get(row, "n"));
  json_decref(row);
  return n;
}

/* Back to the seed, unless nothing was written since (rolled-back writes count as written):
 * most inputs are refused or read only, and copying the seed costs most of an input. */
static void fuzz_model_restore(void) {
  clock_ms = 1800000000000ull; /* 2027: the same timestamps for every input */
  static long long clean = -1;
  if (clean >= 0 && changes() == clean)
    return;
  REQUIRE(sb_store_exec(st, NULL, restore_sql, "") >= 0);
  clean = changes();
}

/* The snapshot of the tables as they are, taken again only after something was written. */
static json_t *snap;
static long long snap_changes = -1;

static json_t *current_snapshot(void) {
  long long n = changes();
  if (!snap || n != snap_changes) {
    json_decref(snap);
    snap = snapshot();
    snap_changes = n;
  }
  return snap;
}

#endif

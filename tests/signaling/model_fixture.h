/* Test fixture of the signaling model: an empty store (SQLite in memory, or PostgreSQL: see
 * store_fixture.h) with three tenants and five users, no connections, every tenant in mode
 * "everyone". Included by the model and API tests. */
#ifndef SB_TEST_MODEL_FIXTURE_H
#define SB_TEST_MODEL_FIXTURE_H

#include "signaling/model.h"
#include "store_fixture.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  sb_store_t *st;
  sb_model_t *m;
  sb_effects_t fx;
  uint64_t now;
} fixture_t;

static uint64_t fixture_clock(void *ctx) { return ++((fixture_t *)ctx)->now; }

static inline sb_principal_t P(const char *tenant, const char *user) {
  sb_principal_t p = {0};
  snprintf(p.tenant, sizeof p.tenant, "%s", tenant);
  snprintf(p.user, sizeof p.user, "%s", user);
  return p;
}

static inline sb_user_ref_t U(const char *tenant, const char *user) {
  sb_user_ref_t u = {0};
  snprintf(u.tenant, sizeof u.tenant, "%s", tenant);
  snprintf(u.user, sizeof u.user, "%s", user);
  return u;
}

static inline const sb_principal_t *operator_principal(void) {
  static sb_principal_t op = {.tenant = "", .user = "operator", .operator = 1};
  return &op;
}

/* acme: alice (admin), bob; globex: carol (admin), dave; initech: erin (admin). */
static inline int fixture_open(fixture_t *f) {
  static const char *const users[][3] = {{"acme", "alice", "1"}, {"acme", "bob", "0"},
                                         {"globex", "carol", "1"}, {"globex", "dave", "0"},
                                         {"initech", "erin", "1"}};
  static const char *const tenants[] = {"acme", "globex", "initech"};
  sb_model_err_t err;
  json_t *out = NULL;
  memset(f, 0, sizeof *f);
  f->now = 1000000;
  sb_effects_init(&f->fx);
  if (sbt_store_open(&f->st) < 0 || sb_model_create(f->st, &f->m) < 0)
    return -1;
  sb_model_set_clock(f->m, fixture_clock, f);
  for (size_t i = 0; i < 3; i++) {
    if (sb_model_tenant_create(f->m, operator_principal(), tenants[i], tenants[i], &out, &err) < 0)
      return -1;
    json_decref(out);
  }
  for (size_t i = 0; i < 5; i++) {
    char name[32];
    snprintf(name, sizeof name, "%c%s", users[i][1][0] - 32, users[i][1] + 1);
    sb_user_fields_t uf = {.name = name, .is_admin = users[i][2][0] == '1', .external_allowed = 0};
    if (sb_model_user_create(f->m, operator_principal(), users[i][0], users[i][1], &uf, &out,
                             &err) < 0)
      return -1;
    json_decref(out);
  }
  return 0;
}

/* The demo seed (acme: alice admin, bob; globex: carol admin, dave; connected; "demo" room;
 * alice<->carol 1:1 room) plus initech/erin (admin, permitted, not connected). */
static inline int fixture_open_demo(fixture_t *f) {
  sb_user_fields_t erin = {.name = "Erin", .is_admin = 1, .external_allowed = 1};
  sb_model_err_t err;
  json_t *out = NULL;
  memset(f, 0, sizeof *f);
  f->now = 5000000;
  sb_effects_init(&f->fx);
  if (sbt_store_open(&f->st) < 0 || sb_model_create(f->st, &f->m) < 0 ||
      sb_model_seed_demo(f->m) < 0)
    return -1;
  sb_model_set_clock(f->m, fixture_clock, f);
  if (sb_model_tenant_create(f->m, operator_principal(), "initech", "Initech", &out, &err) < 0)
    return -1;
  json_decref(out);
  if (sb_model_user_create(f->m, operator_principal(), "initech", "erin", &erin, &out, &err) < 0)
    return -1;
  json_decref(out);
  return 0;
}

static inline void fixture_close(fixture_t *f) {
  sb_effects_free(&f->fx);
  sb_model_destroy(f->m);
  sbt_store_release(f->st);
}

/* Number of rows of a COUNT(*) AS n query, or -1. */
static inline long long fixture_count(fixture_t *f, const char *sql) {
  json_t *row = NULL;
  if (sb_store_get(f->st, &row, sql, "") != 1)
    return -1;
  long long n = json_integer_value(json_object_get(row, "n"));
  json_decref(row);
  return n;
}

/* A digest of every table, to assert that a refused request changed nothing. */
static inline json_t *fixture_snapshot(fixture_t *f) {
  static const char *const tables[] = {"tenants", "users", "connections", "rooms",
                                       "room_members", "contacts", "blocks", "notifications",
                                       "tenant_webhooks"};
  json_t *snap = json_object();
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    char sql[96];
    json_t *rows = NULL;
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1, 2", tables[i]);
    sb_store_exec(f->st, &rows, sql, "");
    json_object_set_new(snap, tables[i], rows ? rows : json_null());
  }
  return snap;
}

/* Finds the first effect of `kind` for (tenant, user) with `name` (event) or `room` (revoke). */
static inline const sb_effect_t *fixture_effect(const sb_effects_t *fx, sb_effect_kind_t kind,
                                                const char *tenant, const char *user,
                                                const char *name_or_room) {
  for (size_t i = 0; i < fx->len; i++) {
    const sb_effect_t *e = &fx->items[i];
    if (e->kind != kind || (tenant && strcmp(e->tenant, tenant)) || (user && strcmp(e->user, user)))
      continue;
    if (name_or_room && strcmp(kind == SB_EFFECT_EVENT ? e->name : e->room, name_or_room))
      continue;
    return e;
  }
  return NULL;
}

#endif

/* The cross-company rules as a table of cases. Each case starts from the fixture (acme: alice,
 * bob; globex: carol, dave; initech: erin; no connections; mode "everyone"), runs its set-up
 * steps (each must succeed), runs one action and compares its status, then checks the state and
 * the action's effects.
 *
 * Steps:  allow T P | revoke T P | connect T P (both sides) | mode T everyone|chosen |
 *         perm T/U 0|1 | contact T/U T/U R | group T/U R [T/U...] | add T/U R T/U |
 *         remove T/U R T/U | grant T/U R T/U | ungrant T/U R T/U | leave T/U R |
 *         block T/U T/U | unblock T/U T/U | admit T/U R
 * Checks: member R T/U | !member R T/U | master R T/U | !master R T/U | external R 0|1 |
 *         admit T/U R | deny T/U R CODE | revoked T/U R REASON | !revoked T/U R |
 *         event T/U NAME | media R T/U T/U | nomedia R
 * R is an alias of a room created by a step. */
#include "model_fixture.h"
#include "sbtest.h"

#include <stdlib.h>

typedef struct {
  const char *name, *setup, *action;
  int expect;
  const char *after;
} policy_case_t;

static const policy_case_t cases[] = {
    /* connections */
    {"one side allows: the other tenant's users stay invisible", "allow acme globex",
     "contact acme/alice globex/carol D", SB_MODEL_ENOTFOUND, ""},
    {"other side allows only", "allow globex acme", "contact acme/alice globex/carol D",
     SB_MODEL_ENOTFOUND, ""},
    {"both allow: contact opens an external 1:1 room", "connect acme globex",
     "contact acme/alice globex/carol D", 0,
     "member D acme/alice; member D globex/carol; external D 1; admit acme/alice D; "
     "admit globex/carol D; event globex/carol room.member_added"},
    {"both allow: group room with both tenants", "connect acme globex",
     "group acme/alice G acme/bob globex/carol", 0,
     "master G acme/alice; member G globex/carol; external G 1; admit globex/carol G"},
    {"same tenant needs no connection", "", "group acme/alice G acme/bob", 0,
     "member G acme/bob; external G 0; admit acme/bob G"},
    {"own side revokes: 1:1 room loses both, group loses the guests",
     "connect acme globex; contact acme/alice globex/carol D; "
     "group acme/alice G acme/bob globex/carol globex/dave",
     "revoke acme globex", 0,
     "!member D acme/alice; !member D globex/carol; member G acme/alice; member G acme/bob; "
     "!member G globex/carol; !member G globex/dave; external G 0; "
     "revoked globex/carol G connection_revoked; revoked acme/alice D connection_revoked; "
     "!revoked acme/bob G; event acme/bob room.member_removed; deny globex/carol G not_found; "
     "deny acme/alice D not_found"},
    {"other side revokes: same exclusion",
     "connect acme globex; group acme/alice G acme/bob globex/carol", "revoke globex acme", 0,
     "member G acme/alice; !member G globex/carol; revoked globex/carol G connection_revoked; "
     "event acme/alice room.member_removed"},
    {"revoking a connection that was never usable excludes nobody",
     "allow acme globex; group acme/alice G acme/bob", "revoke globex acme", 0,
     "member G acme/bob; !revoked acme/bob G"},
    {"room of a guest tenant: the side that is home keeps its members",
     "connect acme globex; group globex/carol G acme/alice globex/dave", "revoke acme globex", 0,
     "!member G acme/alice; member G globex/carol; member G globex/dave"},
    /* permission */
    {"permission off for one user: excluded from external rooms only",
     "connect acme globex; mode acme chosen; perm acme/alice 1; perm acme/bob 1; "
     "group acme/alice G acme/bob globex/carol; group acme/alice L acme/bob; "
     "contact acme/bob globex/dave D",
     "perm acme/bob 0", 0,
     "!member G acme/bob; member G acme/alice; member L acme/bob; !member D acme/bob; "
     "member D globex/dave; revoked acme/bob G permission_withdrawn; "
     "event globex/carol room.member_removed; deny acme/bob G not_found; admit acme/bob L"},
    {"mode everyone -> chosen withdraws users without their own flag",
     "connect acme globex; perm acme/alice 1; group acme/alice G acme/bob globex/carol",
     "mode acme chosen", 0, "member G acme/alice; !member G acme/bob; member G globex/carol"},
    {"an unpermitted user cannot add an external contact",
     "connect acme globex; mode acme chosen", "contact acme/bob globex/carol D",
     SB_MODEL_EFORBIDDEN, ""},
    {"an unpermitted user cannot be reached from outside",
     "connect acme globex; mode globex chosen; perm globex/carol 1",
     "contact acme/alice globex/dave D", SB_MODEL_ENOTFOUND, ""},
    {"a room with an unpermitted member cannot become external",
     "connect acme globex; mode acme chosen; perm acme/alice 1; group acme/alice G acme/bob",
     "add acme/alice G globex/carol", SB_MODEL_EFORBIDDEN, "!member G globex/carol"},
    {"an excluded last master hands the role to the longest member",
     "connect acme globex; perm acme/alice 1; mode acme chosen; "
     "group acme/alice G globex/carol globex/dave", "perm acme/alice 0", 0,
     "!member G acme/alice; master G globex/carol; !master G globex/dave; "
     "event globex/dave room.member_updated"},
    /* blocks */
    {"blocked user's 1:1 call is refused like a missing room",
     "connect acme globex; contact acme/alice globex/carol D", "block globex/carol acme/alice", 0,
     "deny acme/alice D not_found; deny globex/carol D forbidden; member D acme/alice; "
     "revoked globex/carol D blocked; revoked acme/alice D not_found; "
     "deny acme/alice NOROOM not_found"},
    {"block the other way round",
     "connect acme globex; contact acme/alice globex/carol D", "block acme/alice globex/carol", 0,
     "deny globex/carol D not_found; deny acme/alice D forbidden"},
    {"block in a group room: both admitted, media kept apart",
     "connect acme globex; group acme/alice G acme/bob globex/carol",
     "block acme/bob globex/carol", 0,
     "admit acme/bob G; admit globex/carol G; media G acme/bob globex/carol; "
     "!revoked acme/bob G; !revoked globex/carol G"},
    {"unblock restores the 1:1 call",
     "connect acme globex; contact acme/alice globex/carol D; block globex/carol acme/alice",
     "unblock globex/carol acme/alice", 0,
     "admit acme/alice D; admit globex/carol D; nomedia D"},
    {"blocking twice is a conflict", "connect acme globex; block acme/alice globex/carol",
     "block acme/alice globex/carol", SB_MODEL_ECONFLICT, ""},
    /* masters */
    {"a member who is not master cannot add", "group acme/alice G acme/bob",
     "add acme/bob G acme/alice", SB_MODEL_EFORBIDDEN, ""},
    {"a member who is not master cannot remove", "connect acme globex; "
     "group acme/alice G acme/bob globex/carol", "remove acme/bob G globex/carol",
     SB_MODEL_EFORBIDDEN, "member G globex/carol"},
    {"a non-member sees no room", "group acme/alice G acme/bob", "add globex/carol G acme/alice",
     SB_MODEL_ENOTFOUND, ""},
    {"a master removes a member, who loses admission",
     "connect acme globex; group acme/alice G acme/bob globex/carol",
     "remove acme/alice G globex/carol", 0,
     "!member G globex/carol; revoked globex/carol G member_removed; "
     "deny globex/carol G not_found; event globex/carol room.member_removed"},
    {"a master grants the role", "group acme/alice G acme/bob", "grant acme/alice G acme/bob", 0,
     "master G acme/bob; event acme/bob room.member_updated"},
    {"a non-master cannot grant", "group acme/alice G acme/bob", "grant acme/bob G acme/bob",
     SB_MODEL_EFORBIDDEN, "!master G acme/bob"},
    {"1:1 rooms have no masters", "connect acme globex; contact acme/alice globex/carol D",
     "grant acme/alice D globex/carol", SB_MODEL_EFORBIDDEN, ""},
    /* last master */
    {"the last master cannot give up the role", "group acme/alice G acme/bob",
     "ungrant acme/alice G acme/alice", SB_MODEL_ECONFLICT, "master G acme/alice"},
    {"the last master cannot leave while others stay", "group acme/alice G acme/bob",
     "leave acme/alice G", SB_MODEL_ECONFLICT, "member G acme/alice"},
    {"with a second master the first may leave",
     "group acme/alice G acme/bob; grant acme/alice G acme/bob", "leave acme/alice G", 0,
     "!member G acme/alice; master G acme/bob; revoked acme/alice G left"},
    {"the only member may leave", "group acme/alice G", "leave acme/alice G", 0,
     "!member G acme/alice"},
    {"a second master may take the first's role",
     "group acme/alice G acme/bob; grant acme/alice G acme/bob",
     "ungrant acme/bob G acme/alice", 0, "!master G acme/alice; master G acme/bob"},
    /* several tenants */
    {"every pair of tenants must be connected",
     "connect acme globex; connect globex initech; group acme/alice G globex/carol",
     "add acme/alice G initech/erin", SB_MODEL_ENOTFOUND, "!member G initech/erin"},
    {"a third tenant connected to one only cannot join",
     "connect acme globex; connect globex initech; group globex/carol G acme/alice",
     "add globex/carol G initech/erin", SB_MODEL_EFORBIDDEN, "!member G initech/erin"},
    {"three tenants all connected",
     "connect acme globex; connect globex initech; connect acme initech; "
     "group acme/alice G globex/carol", "add acme/alice G initech/erin", 0,
     "member G initech/erin; admit initech/erin G; admit globex/carol G"},
    {"revoking one pair removes only the guest side of the home tenant's room",
     "connect acme globex; connect globex initech; connect acme initech; "
     "group acme/alice G globex/carol initech/erin", "revoke initech acme", 0,
     "member G acme/alice; member G globex/carol; !member G initech/erin"},
    {"revoking between two guests removes both guests",
     "connect acme globex; connect globex initech; connect acme initech; "
     "group globex/carol G acme/alice initech/erin", "revoke initech acme", 0,
     "member G globex/carol; !member G acme/alice; !member G initech/erin"},
    /* re-opening */
    {"a contact added again reopens the 1:1 room after the connection returns",
     "connect acme globex; contact acme/alice globex/carol D; revoke acme globex; "
     "allow acme globex", "contact globex/carol acme/alice D2", 0,
     "member D acme/alice; member D globex/carol; admit acme/alice D"},
};

/* ---- the little interpreter ---- */

typedef struct {
  fixture_t f;
  char alias[8][8];
  char id[8][SB_ID_MAX + 1];
  int n;
} world_t;

static sb_user_ref_t ref(const char *spec) {
  char t[SB_ID_MAX + 1] = "", u[SB_ID_MAX + 1] = "";
  sscanf(spec, "%64[^/]/%64s", t, u);
  return U(t, u);
}

static sb_principal_t who(const char *spec) {
  sb_user_ref_t r = ref(spec);
  return P(r.tenant, r.user);
}

static const char *room_id(world_t *w, const char *alias) {
  for (int i = 0; i < w->n; i++)
    if (!strcmp(w->alias[i], alias))
      return w->id[i];
  return alias; /* an unknown alias names a room that does not exist */
}

static void room_alias(world_t *w, const char *alias, const char *id) {
  if (w->n < 8) {
    snprintf(w->alias[w->n], sizeof w->alias[0], "%s", alias);
    snprintf(w->id[w->n++], sizeof w->id[0], "%s", id);
  }
}

static const char *admin_of(const char *tenant) {
  return !strcmp(tenant, "acme") ? "alice" : !strcmp(tenant, "globex") ? "carol" : "erin";
}

static int run_admin(world_t *w, char **a, int n) {
  sb_model_err_t err;
  json_t *out = NULL;
  int rc = SB_MODEL_EBADREQ;
  if ((!strcmp(a[0], "allow") || !strcmp(a[0], "revoke")) && n == 3) {
    sb_principal_t p = P(a[1], admin_of(a[1]));
    rc = sb_model_connection_set(w->f.m, &p, a[1], a[2], a[0][0] == 'a', &out, &w->f.fx, &err);
  } else if (!strcmp(a[0], "connect") && n == 3) {
    sb_principal_t p = P(a[1], admin_of(a[1])), q = P(a[2], admin_of(a[2]));
    rc = sb_model_connection_set(w->f.m, &p, a[1], a[2], 1, &out, &w->f.fx, &err);
    json_decref(out);
    out = NULL;
    if (rc >= 0)
      rc = sb_model_connection_set(w->f.m, &q, a[2], a[1], 1, &out, &w->f.fx, &err);
  } else if (!strcmp(a[0], "mode") && n == 3) {
    sb_principal_t p = P(a[1], admin_of(a[1]));
    rc = sb_model_tenant_update(w->f.m, &p, a[1], NULL, a[2], &out, &w->f.fx, &err);
  } else if (!strcmp(a[0], "perm") && n == 3) {
    sb_user_ref_t u = ref(a[1]);
    sb_principal_t p = P(u.tenant, admin_of(u.tenant));
    sb_user_fields_t uf = {.is_admin = -1, .external_allowed = atoi(a[2])};
    rc = sb_model_user_update(w->f.m, &p, u.tenant, u.user, &uf, &out, &w->f.fx, &err);
  }
  json_decref(out);
  return rc;
}

static int run_rooms(world_t *w, char **a, int n) {
  sb_model_err_t err;
  json_t *out = NULL;
  sb_principal_t p = who(a[1]);
  sb_user_ref_t u = n > 3 ? ref(a[3]) : U("", "");
  int rc = SB_MODEL_EBADREQ;
  if (!strcmp(a[0], "group") && n >= 3) {
    sb_user_ref_t members[8];
    sb_room_fields_t rf = {.name = a[2]};
    for (int i = 3; i < n && i < 11; i++)
      members[i - 3] = ref(a[i]);
    rc = sb_model_room_create(w->f.m, &p, &rf, members, (size_t)(n - 3), &out, &w->f.fx, &err);
    if (rc >= 0)
      room_alias(w, a[2], json_string_value(json_object_get(out, "id")));
  } else if (!strcmp(a[0], "contact") && n == 4) {
    sb_contact_fields_t cf = {0};
    u = ref(a[2]);
    rc = sb_model_contact_add(w->f.m, &p, &u, &cf, &out, &w->f.fx, &err);
    if (rc >= 0)
      room_alias(w, a[3], json_string_value(json_object_get(json_object_get(out, "room"), "id")));
  } else if (!strcmp(a[0], "add") && n == 4) {
    rc = sb_model_room_add_member(w->f.m, &p, room_id(w, a[2]), &u, &w->f.fx, &err);
  } else if (!strcmp(a[0], "remove") && n == 4) {
    rc = sb_model_room_remove_member(w->f.m, &p, room_id(w, a[2]), &u, &w->f.fx, &err);
  } else if ((!strcmp(a[0], "grant") || !strcmp(a[0], "ungrant")) && n == 4) {
    rc = sb_model_room_set_master(w->f.m, &p, room_id(w, a[2]), &u, a[0][0] == 'g', &w->f.fx,
                                  &err);
  } else if (!strcmp(a[0], "leave") && n == 3) {
    rc = sb_model_room_leave(w->f.m, &p, room_id(w, a[2]), &w->f.fx, &err);
  } else if ((!strcmp(a[0], "block") || !strcmp(a[0], "unblock")) && n == 3) {
    u = ref(a[2]);
    rc = a[0][0] == 'b' ? sb_model_block_add(w->f.m, &p, &u, &w->f.fx, &err)
                        : sb_model_block_remove(w->f.m, &p, &u, &w->f.fx, &err);
  } else if (!strcmp(a[0], "admit") && n == 3) {
    sb_user_ref_t r = ref(a[1]);
    char reason[128];
    rc = sb_model_admit(w->f.m, r.tenant, r.user, room_id(w, a[2]), reason, sizeof reason);
  }
  json_decref(out);
  return rc;
}

/* Splits one step into words (in place). */
static int words(char *s, char **a, int max) {
  int n = 0;
  for (char *t = strtok(s, " "); t && n < max; t = strtok(NULL, " "))
    a[n++] = t;
  return n;
}

static int run_step(world_t *w, const char *step) {
  char buf[256], *a[12];
  snprintf(buf, sizeof buf, "%s", step);
  int n = words(buf, a, 12);
  if (n == 0)
    return 0;
  if (!strcmp(a[0], "allow") || !strcmp(a[0], "revoke") || !strcmp(a[0], "connect") ||
      !strcmp(a[0], "mode") || !strcmp(a[0], "perm"))
    return run_admin(w, a, n);
  return run_rooms(w, a, n);
}

static int is_member(world_t *w, const char *room, const char *spec, int *master) {
  sb_user_ref_t u = ref(spec);
  json_t *row = NULL;
  int rc = sb_store_get(w->f.st, &row,
                        "SELECT x.is_master FROM room_members x JOIN users u ON u.uid = x.uid "
                        "WHERE x.room_id = ? AND u.tenant_id = ? AND u.id = ?", "sss",
                        room_id(w, room), u.tenant, u.user);
  if (master)
    *master = rc == 1 && json_integer_value(json_object_get(row, "is_master")) == 1;
  json_decref(row);
  return rc == 1;
}

static int has_pair(world_t *w, const char *room, const char *x, const char *y) {
  sb_user_pair_t *pairs = NULL;
  size_t n = 0;
  int found = 0;
  sb_user_ref_t a = ref(x), b = ref(y);
  sb_model_media_exclusions(w->f.m, room_id(w, room), &pairs, &n);
  for (size_t i = 0; i < n; i++)
    found |= (!strcmp(pairs[i].a.user, a.user) && !strcmp(pairs[i].b.user, b.user)) ||
             (!strcmp(pairs[i].a.user, b.user) && !strcmp(pairs[i].b.user, a.user));
  free(pairs);
  return found || (!x[0] && n == 0);
}

/* Returns 1 when the check holds. */
static int check(world_t *w, const char *text) {
  char buf[256], *a[8];
  snprintf(buf, sizeof buf, "%s", text);
  int n = words(buf, a, 8), master = 0;
  if (n == 0)
    return 1;
  int neg = a[0][0] == '!';
  const char *c = a[0] + neg;
  int ok = 0;
  if (!strcmp(c, "member") && n == 3)
    ok = is_member(w, a[1], a[2], NULL);
  else if (!strcmp(c, "master") && n == 3)
    ok = is_member(w, a[1], a[2], &master) && master;
  else if (!strcmp(c, "external") && n == 3) {
    json_t *row = NULL;
    sb_store_get(w->f.st, &row, "SELECT COUNT(DISTINCT tenant_id) AS n FROM room_tenants WHERE "
                 "room_id = ?", "s", room_id(w, a[1]));
    ok = (json_integer_value(json_object_get(row, "n")) > 1) == (atoi(a[2]) == 1);
    json_decref(row);
  } else if (!strcmp(c, "admit") && n == 3) {
    ok = run_rooms(w, (char *[]){"admit", a[1], a[2]}, 3) == 0;
  } else if (!strcmp(c, "deny") && n == 4) {
    int rc = run_rooms(w, (char *[]){"admit", a[1], a[2]}, 3);
    ok = rc < 0 && !strcmp(sb_model_code(rc), a[3]);
  } else if (!strcmp(c, "revoked") && n >= 3) {
    sb_user_ref_t u = ref(a[1]);
    const sb_effect_t *e = fixture_effect(&w->f.fx, SB_EFFECT_REVOKE, u.tenant, u.user,
                                          room_id(w, a[2]));
    ok = e && (n < 4 || !strcmp(e->reason, a[3]));
  } else if (!strcmp(c, "event") && n == 3) {
    sb_user_ref_t u = ref(a[1]);
    ok = fixture_effect(&w->f.fx, SB_EFFECT_EVENT, u.tenant, u.user, a[2]) != NULL;
  } else if (!strcmp(c, "media") && n == 4) {
    ok = has_pair(w, a[1], a[2], a[3]);
  } else if (!strcmp(c, "nomedia") && n == 2) {
    ok = has_pair(w, a[1], "", "");
  } else {
    return 0; /* a typo in the table fails the case */
  }
  return neg ? !ok : ok;
}

/* Runs each ';'-separated part through fn; returns the index of the first failure or -1. */
static int each(world_t *w, const char *list, int (*fn)(world_t *, const char *), int want_ok,
                char *failed, size_t len) {
  char buf[1024];
  int i = 0;
  snprintf(buf, sizeof buf, "%s", list);
  char *save = NULL;
  for (char *part = strtok_r(buf, ";", &save); part; part = strtok_r(NULL, ";", &save), i++) {
    while (*part == ' ')
      part++;
    int rc = fn(w, part);
    if (want_ok ? rc < 0 : rc == 0) {
      snprintf(failed, len, "%s (status %d)", part, rc);
      return i;
    }
  }
  return -1;
}

static int check_step(world_t *w, const char *text) { return check(w, text) ? 0 : -1; }

SB_TEST(policy_table) {
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const policy_case_t *c = &cases[i];
    world_t w = {0};
    char failed[300] = "";
    int rc;
    if (fixture_open(&w.f) < 0) {
      sb_test_fail(__FILE__, __LINE__, "fixture");
      return;
    }
    if (each(&w, c->setup, run_step, 1, failed, sizeof failed) >= 0) {
      fprintf(stderr, "case \"%s\": set-up step failed: %s\n", c->name, failed);
      failures++;
    } else {
      sb_effects_clear(&w.f.fx);
      rc = run_step(&w, c->action);
      if (rc != c->expect) {
        fprintf(stderr, "case \"%s\": %s answered %d (%s), want %d\n", c->name, c->action, rc,
                sb_model_code(rc), c->expect);
        failures++;
      } else if (each(&w, c->after, check_step, 1, failed, sizeof failed) >= 0) {
        fprintf(stderr, "case \"%s\": check failed: %s\n", c->name, failed);
        failures++;
      }
    }
    fixture_close(&w.f);
  }
  CHECK_EQ(failures, 0);
}

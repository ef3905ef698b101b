/* Client API: every method, its answers and each bad input. Every case starts from the demo seed
 * (acme: alice, bob; globex: carol, dave; connected; "demo" group mastered by alice; 1:1 room
 * alice<->carol written $dm) plus initech/erin (not connected) and $local, an acme-only group of
 * alice (master) and bob. A refused call must leave every table and the effects untouched. */
#include "model_fixture.h"
#include "sbtest.h"
#include "signaling/api_client.h"

#include <stdlib.h>

typedef struct world world_t;
typedef int (*check_fn)(world_t *w, json_t *result);

typedef struct {
  const char *who, *method, *params;
  const char *expect; /* "ok" or an error code */
  check_fn check;
  const char *pre_method, *pre_params; /* a call by alice that must succeed first */
} api_case_t;

struct world {
  fixture_t f;
  char dm[SB_ID_MAX + 1], local[SB_ID_MAX + 1];
};

static int has_event(world_t *w, const char *tenant, const char *user, const char *name) {
  return fixture_effect(&w->f.fx, SB_EFFECT_EVENT, tenant, user, name) != NULL;
}

static int check_list(world_t *w, json_t *r) {
  json_t *rooms = json_object_get(r, "rooms"), *room;
  size_t i, external = 0;
  json_array_foreach(rooms, i, room) external += json_is_true(json_object_get(room, "external"));
  return json_array_size(rooms) == 3 && external == 2;
}

static int check_get(world_t *w, json_t *r) {
  json_t *room = json_object_get(r, "room");
  return json_array_size(json_object_get(room, "members")) == 4 &&
         json_is_true(json_object_get(room, "master")) &&
         !strcmp(json_string_value(json_object_get(room, "kind")), "group");
}

static int check_created(world_t *w, json_t *r) {
  json_t *room = json_object_get(r, "room");
  return json_is_true(json_object_get(room, "external")) &&
         json_array_size(json_object_get(room, "members")) == 3 &&
         has_event(w, "acme", "bob", "room.member_added") &&
         has_event(w, "globex", "dave", "room.member_added") &&
         !has_event(w, "acme", "alice", "room.member_added");
}

static int check_updated(world_t *w, json_t *r) {
  json_t *room = json_object_get(r, "room");
  return !strcmp(json_string_value(json_object_get(room, "name")), "Demo 2") &&
         has_event(w, "globex", "dave", "room.updated") &&
         fixture_count(&w->f, "SELECT COUNT(*) AS n FROM rooms WHERE id = 'demo' AND "
                              "description = 'd' AND name = 'Demo 2'") == 1;
}

static int check_added(world_t *w, json_t *r) {
  return has_event(w, "globex", "carol", "room.member_added") &&
         has_event(w, "acme", "bob", "room.member_added");
}

static int check_removed(world_t *w, json_t *r) {
  const sb_effect_t *e = fixture_effect(&w->f.fx, SB_EFFECT_REVOKE, "globex", "dave", "demo");
  return e && !strcmp(e->reason, "member_removed") &&
         has_event(w, "globex", "dave", "room.member_removed") &&
         has_event(w, "globex", "carol", "room.member_removed");
}

static int check_granted(world_t *w, json_t *r) {
  return has_event(w, "acme", "bob", "room.member_updated") &&
         fixture_count(&w->f, "SELECT COUNT(*) AS n FROM room_members WHERE room_id = 'demo' "
                              "AND is_master = 1") == 2;
}

static int check_left(world_t *w, json_t *r) {
  const sb_effect_t *e = fixture_effect(&w->f.fx, SB_EFFECT_REVOKE, "acme", "bob", "demo");
  return e && !strcmp(e->reason, "left") && has_event(w, "acme", "alice", "room.member_removed");
}

static int check_contact_added(world_t *w, json_t *r) {
  json_t *c = json_object_get(r, "contact"), *room = json_object_get(r, "room");
  return !strcmp(json_string_value(json_object_get(c, "display_name")), "D") &&
         !strcmp(json_string_value(json_object_get(c, "email")), "d@globex") &&
         json_is_true(json_object_get(c, "reachable")) &&
         !strcmp(json_string_value(json_object_get(room, "kind")), "direct") &&
         !strcmp(json_string_value(json_object_get(c, "room")),
                 json_string_value(json_object_get(room, "id"))) &&
         has_event(w, "globex", "dave", "room.member_added");
}

static int check_contact_again(world_t *w, json_t *r) {
  return !strcmp(json_string_value(json_object_get(json_object_get(r, "room"), "id")), w->dm) &&
         !strcmp(json_string_value(json_object_get(json_object_get(r, "contact"), "memo")),
                 "again") &&
         w->f.fx.len == 0;
}

static int check_contact_updated(world_t *w, json_t *r) {
  json_t *c = json_object_get(r, "contact");
  return !strcmp(json_string_value(json_object_get(c, "memo")), "new") &&
         json_is_null(json_object_get(c, "phone")) &&
         json_is_null(json_object_get(c, "display_name"));
}

static int check_contact_removed(world_t *w, json_t *r) {
  return fixture_count(&w->f, "SELECT COUNT(*) AS n FROM contacts") == 0 &&
         fixture_count(&w->f, "SELECT COUNT(*) AS n FROM rooms WHERE kind = 'direct'") == 1;
}

static int check_contacts(world_t *w, json_t *r) {
  json_t *c = json_array_get(json_object_get(r, "contacts"), 0);
  return json_array_size(json_object_get(r, "contacts")) == 1 &&
         !strcmp(json_string_value(json_object_get(c, "user")), "carol") &&
         !strcmp(json_string_value(json_object_get(c, "room")), w->dm);
}

static int check_blocked(world_t *w, json_t *r) {
  return fixture_effect(&w->f.fx, SB_EFFECT_MEDIA, NULL, NULL, "demo") != NULL &&
         fixture_count(&w->f, "SELECT COUNT(*) AS n FROM blocks") == 1;
}

static int check_blocks(world_t *w, json_t *r) {
  json_t *b = json_array_get(json_object_get(r, "blocks"), 0);
  return json_array_size(json_object_get(r, "blocks")) == 1 &&
         !strcmp(json_string_value(json_object_get(b, "user")), "dave");
}

static int check_unblocked(world_t *w, json_t *r) {
  return fixture_count(&w->f, "SELECT COUNT(*) AS n FROM blocks") == 0 &&
         fixture_effect(&w->f.fx, SB_EFFECT_MEDIA, NULL, NULL, "demo") != NULL;
}

static int check_notifications(world_t *w, json_t *r) {
  return json_is_array(json_object_get(r, "notifications"));
}

#define ALICE "acme/alice"
/* {"limit": 2} of alice's three rooms: two, and a cursor for the rest. */
static int check_first_page(world_t *w, json_t *r) {
  return json_array_size(json_object_get(r, "rooms")) == 2 &&
         json_is_string(json_object_get(r, "next_cursor"));
}

static const api_case_t cases[] = {
    {ALICE, "rooms.list", NULL, "ok", check_list},
    {ALICE, "rooms.list", "{}", "ok", check_list},
    {ALICE, "rooms.list", "{\"x\": 1}", "bad_request"},
    {ALICE, "rooms.list", "{\"limit\": 2}", "ok", check_first_page},
    {ALICE, "rooms.list", "{\"limit\": 0}", "bad_request"},
    {ALICE, "rooms.list", "{\"limit\": 501}", "bad_request"},
    {ALICE, "rooms.list", "{\"limit\": \"2\"}", "bad_request"},
    {ALICE, "rooms.list", "{\"cursor\": 5}", "bad_request"},
    {ALICE, "rooms.list", "{\"cursor\": \"garbage\"}", "bad_request"},
    {ALICE, "rooms.list", "{\"cursor\": \"12.../x\"}", "bad_request"},
    {ALICE, "contacts.list", "{\"cursor\": \"acme/\"}", "bad_request"},
    {ALICE, "contacts.list", "{\"limit\": 1000}", "bad_request"},
    {ALICE, "blocks.list", "{\"cursor\": \"1.demo\"}", "bad_request"},
    {ALICE, "rooms.list", "[]", "bad_request"},
    {"acme/ghost", "rooms.list", NULL, "unauthenticated"},
    {"acme/alice/x", "rooms.list", NULL, "unauthenticated"},
    {ALICE, "rooms.delete", "{}", "unknown_method"},
    {ALICE, "", "{}", "unknown_method"},

    {ALICE, "rooms.get", "{\"room\": \"demo\"}", "ok", check_get},
    {ALICE, "rooms.get", "{}", "bad_request"},
    {ALICE, "rooms.get", "{\"room\": 5}", "bad_request"},
    {ALICE, "rooms.get", "{\"room\": \"../etc\"}", "bad_request"},
    {ALICE, "rooms.get", "{\"room\": \"nope\"}", "not_found"},
    {"initech/erin", "rooms.get", "{\"room\": \"demo\"}", "not_found"},
    {"acme/bob", "rooms.get", "{\"room\": \"$dm\"}", "not_found"},

    {ALICE, "rooms.create",
     "{\"name\": \"x\", \"members\": [{\"user\": \"bob\"}, {\"user\": \"dave\", \"tenant\": "
     "\"globex\"}]}", "ok", check_created},
    {ALICE, "rooms.create", "{}", "bad_request"},
    {ALICE, "rooms.create", "{\"name\": \"\"}", "bad_request"},
    {ALICE, "rooms.create", "{\"name\": \"x\\u0000y\"}", "bad_request"},
    {ALICE, "rooms.create", "{\"name\": \"x\", \"photo_url\": \"ftp://a\"}", "bad_request"},
    {ALICE, "rooms.create", "{\"name\": \"x\", \"members\": \"bob\"}", "bad_request"},
    {ALICE, "rooms.create", "{\"name\": \"x\", \"members\": [1]}", "bad_request"},
    {ALICE, "rooms.create", "{\"name\": \"x\", \"members\": [{\"user\": \"bob\", \"x\": 1}]}",
     "bad_request"},
    {ALICE, "rooms.create",
     "{\"name\": \"x\", \"members\": [{\"user\": \"erin\", \"tenant\": \"initech\"}]}",
     "not_found"},
    {ALICE, "rooms.create", "{\"name\": \"x\", \"members\": [{\"user\": \"ghost\"}]}",
     "not_found"},
    {ALICE, "rooms.create", "{\"name\": \"x\", \"members\": [{\"user\": \"bob\"}, {\"user\": "
     "\"bob\"}]}", "bad_request"},
    {ALICE, "rooms.create", "{\"name\": \"x\", \"members\": [{\"user\": \"alice\"}]}",
     "bad_request"},
    {ALICE, "rooms.create", "@many", "limit_exceeded"},
    {ALICE, "rooms.create", "@longname", "bad_request"},

    {ALICE, "rooms.update", "{\"room\": \"demo\", \"name\": \"Demo 2\", \"description\": \"d\"}",
     "ok", check_updated},
    {"acme/bob", "rooms.update", "{\"room\": \"demo\", \"name\": \"x\"}", "forbidden"},
    {ALICE, "rooms.update", "{\"room\": \"demo\"}", "bad_request"},
    {ALICE, "rooms.update", "{\"room\": \"$dm\", \"name\": \"x\"}", "forbidden"},
    {ALICE, "rooms.update", "{\"room\": \"demo\", \"name\": 7}", "bad_request"},
    {"initech/erin", "rooms.update", "{\"room\": \"demo\", \"name\": \"x\"}", "not_found"},

    {ALICE, "rooms.add_member", "{\"room\": \"$local\", \"user\": \"carol\", \"tenant\": "
     "\"globex\"}", "ok", check_added},
    {ALICE, "rooms.add_member", "{\"room\": \"demo\", \"user\": \"bob\"}", "conflict"},
    {"acme/bob", "rooms.add_member", "{\"room\": \"$local\", \"user\": \"carol\", \"tenant\": "
     "\"globex\"}", "forbidden"},
    {ALICE, "rooms.add_member", "{\"room\": \"demo\", \"user\": \"erin\", \"tenant\": "
     "\"initech\"}", "not_found"},
    {ALICE, "rooms.add_member", "{\"room\": \"demo\"}", "bad_request"},
    {ALICE, "rooms.add_member", "{\"room\": \"demo\", \"user\": \"bob\", \"tenant\": 5}",
     "bad_request"},
    {ALICE, "rooms.add_member", "{\"room\": \"$dm\", \"user\": \"bob\"}", "forbidden"},

    {ALICE, "rooms.remove_member", "{\"room\": \"demo\", \"user\": \"dave\", \"tenant\": "
     "\"globex\"}", "ok", check_removed},
    {ALICE, "rooms.remove_member", "{\"room\": \"demo\", \"user\": \"alice\"}", "bad_request"},
    {ALICE, "rooms.remove_member", "{\"room\": \"demo\", \"user\": \"erin\", \"tenant\": "
     "\"initech\"}", "not_found"},
    {"globex/carol", "rooms.remove_member", "{\"room\": \"demo\", \"user\": \"dave\"}",
     "forbidden"},
    {ALICE, "rooms.remove_member", "{\"room\": \"demo\", \"user\": \"\"}", "bad_request"},

    {ALICE, "rooms.grant_master", "{\"room\": \"demo\", \"user\": \"bob\"}", "ok", check_granted},
    {ALICE, "rooms.grant_master", "{\"room\": \"demo\", \"user\": \"alice\"}", "conflict"},
    {"globex/dave", "rooms.grant_master", "{\"room\": \"demo\", \"user\": \"dave\"}",
     "forbidden"},
    {ALICE, "rooms.grant_master", "{\"room\": \"demo\", \"user\": \"ghost\"}", "not_found"},

    {ALICE, "rooms.revoke_master", "{\"room\": \"demo\", \"user\": \"alice\"}", "conflict"},
    {ALICE, "rooms.revoke_master", "{\"room\": \"demo\", \"user\": \"bob\"}", "conflict"},
    {"acme/bob", "rooms.revoke_master", "{\"room\": \"demo\", \"user\": \"alice\"}",
     "forbidden"},
    {"acme/bob", "rooms.revoke_master", "{\"room\": \"demo\", \"user\": \"alice\"}", "ok", NULL,
     "rooms.grant_master", "{\"room\": \"demo\", \"user\": \"bob\"}"},

    {"acme/bob", "rooms.leave", "{\"room\": \"demo\"}", "ok", check_left},
    {ALICE, "rooms.leave", "{\"room\": \"demo\"}", "conflict"},
    {ALICE, "rooms.leave", "{\"room\": \"nope\"}", "not_found"},
    {ALICE, "rooms.leave", "{}", "bad_request"},
    {ALICE, "rooms.leave", "{\"room\": \"demo\", \"force\": true}", "bad_request"},

    {ALICE, "contacts.list", NULL, "ok", check_contacts},
    {ALICE, "contacts.list", "{\"a\": 1}", "bad_request"},

    {ALICE, "contacts.add", "{\"user\": \"dave\", \"tenant\": \"globex\", \"display_name\": "
     "\"D\", \"phone\": \"+1 555\", \"email\": \"d@globex\", \"memo\": \"m\"}", "ok",
     check_contact_added},
    {ALICE, "contacts.add", "{\"user\": \"carol\", \"tenant\": \"globex\", \"memo\": \"again\"}",
     "ok", check_contact_again},
    {ALICE, "contacts.add", "{\"user\": \"alice\"}", "bad_request"},
    {ALICE, "contacts.add", "{\"user\": \"erin\", \"tenant\": \"initech\"}", "not_found"},
    {ALICE, "contacts.add", "{\"user\": \"dave\", \"tenant\": \"globex\", \"email\": \"nope\"}",
     "bad_request"},
    {ALICE, "contacts.add", "{\"user\": \"dave\", \"tenant\": \"globex\", \"phone\": 5}",
     "bad_request"},
    {ALICE, "contacts.add", "{}", "bad_request"},

    {ALICE, "contacts.update", "{\"user\": \"carol\", \"tenant\": \"globex\", \"memo\": \"new\", "
     "\"phone\": null}", "ok", check_contact_updated},
    {ALICE, "contacts.update", "{\"user\": \"dave\", \"tenant\": \"globex\", \"memo\": \"x\"}",
     "not_found"},
    {ALICE, "contacts.update", "{\"user\": \"carol\", \"tenant\": \"globex\"}", "bad_request"},
    {ALICE, "contacts.update", "{\"user\": \"ghost\", \"memo\": \"x\"}", "not_found"},
    {ALICE, "contacts.update", "{\"user\": \"carol\", \"tenant\": \"globex\", \"display_name\": "
     "\"\"}", "bad_request"},

    {ALICE, "contacts.remove", "{\"user\": \"carol\", \"tenant\": \"globex\"}", "ok",
     check_contact_removed},
    {ALICE, "contacts.remove", "{\"user\": \"dave\", \"tenant\": \"globex\"}", "not_found"},
    {ALICE, "contacts.remove", "{\"tenant\": \"globex\"}", "bad_request"},

    {ALICE, "blocks.list", NULL, "ok", check_blocks, "blocks.add",
     "{\"user\": \"dave\", \"tenant\": \"globex\"}"},
    {ALICE, "blocks.list", "{\"x\": true}", "bad_request"},
    {ALICE, "blocks.add", "{\"user\": \"dave\", \"tenant\": \"globex\"}", "ok", check_blocked},
    {ALICE, "blocks.add", "{\"user\": \"alice\"}", "bad_request"},
    {ALICE, "blocks.add", "{\"user\": \"erin\", \"tenant\": \"initech\"}", "not_found"},
    {ALICE, "blocks.add", "{\"user\": \"dave\", \"tenant\": \"globex\"}", "conflict", NULL,
     "blocks.add", "{\"user\": \"dave\", \"tenant\": \"globex\"}"},
    {ALICE, "blocks.remove", "{\"user\": \"dave\", \"tenant\": \"globex\"}", "ok",
     check_unblocked, "blocks.add", "{\"user\": \"dave\", \"tenant\": \"globex\"}"},
    {ALICE, "blocks.remove", "{\"user\": \"dave\", \"tenant\": \"globex\"}", "not_found"},
    {ALICE, "blocks.remove", "{\"user\": [\"dave\"]}", "bad_request"},

    {ALICE, "notifications.list", "{\"pending_only\": true, \"limit\": 10}", "ok",
     check_notifications},
    {ALICE, "notifications.list", "{\"limit\": -1}", "bad_request"},
    {ALICE, "notifications.list", "{\"limit\": \"x\"}", "bad_request"},
    {ALICE, "notifications.list", "{\"limit\": 0}", "bad_request"},
    {ALICE, "notifications.list", "{\"pending_only\": 1}", "bad_request"},
};

static int world_open(world_t *w) {
  sb_principal_t alice = P("acme", "alice");
  sb_room_fields_t rf = {.name = "acme only"};
  sb_user_ref_t bob = U("acme", "bob");
  sb_model_err_t err;
  json_t *out = NULL, *rooms = NULL, *room;
  size_t i;
  memset(w, 0, sizeof *w);
  if (fixture_open_demo(&w->f) < 0 ||
      sb_model_room_create(w->f.m, &alice, &rf, &bob, 1, &out, &w->f.fx, &err) < 0)
    return -1;
  snprintf(w->local, sizeof w->local, "%s", json_string_value(json_object_get(out, "id")));
  json_decref(out);
  if (sb_model_rooms_list(w->f.m, &alice, &(sb_model_page_t){.limit = 100}, &rooms, &err) < 0)
    return -1;
  json_array_foreach(rooms, i, room) {
    if (!strcmp(json_string_value(json_object_get(room, "kind")), "direct"))
      snprintf(w->dm, sizeof w->dm, "%s", json_string_value(json_object_get(room, "id")));
  }
  json_decref(rooms);
  sb_effects_clear(&w->f.fx);
  return w->dm[0] ? 0 : -1;
}

/* Parses the case's params, replacing $dm and $local, or builds the generated ones. */
static json_t *case_params(world_t *w, const char *text) {
  char buf[1024], *p;
  if (!text)
    return NULL;
  if (!strcmp(text, "@many")) {
    json_t *members = json_array();
    for (int i = 0; i < SB_MODEL_MAX_MEMBERS; i++)
      json_array_append_new(members, json_pack("{s:s}", "user", "bob"));
    return json_pack("{s:s, s:o}", "name", "big", "members", members);
  }
  if (!strcmp(text, "@longname")) {
    char name[130];
    memset(name, 'n', 129);
    name[129] = '\0';
    return json_pack("{s:s}", "name", name);
  }
  snprintf(buf, sizeof buf, "%s", text);
  if ((p = strstr(buf, "$dm")) || (p = strstr(buf, "$local"))) {
    char rest[1024];
    const char *id = p[1] == 'd' ? w->dm : w->local;
    snprintf(rest, sizeof rest, "%s", p + (p[1] == 'd' ? 3 : 6));
    snprintf(p, sizeof buf - (size_t)(p - buf), "%s%s", id, rest);
  }
  return json_loads(buf, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

static int run_case(const api_case_t *c) {
  world_t w;
  sb_api_error_t err = {0};
  json_t *params, *result = NULL, *before, *after;
  char t[80] = "", u[80] = "";
  int rc, ok = 1;
  if (world_open(&w) < 0)
    return 0;
  sscanf(c->who, "%79[^/]/%79[^\n]", t, u);
  sb_principal_t who = P(t, u);
  if (c->pre_method) {
    sb_principal_t alice = P("acme", "alice");
    params = case_params(&w, c->pre_params);
    rc = sb_api_client_call(w.f.m, &alice, c->pre_method, params, &result, &err, &w.f.fx);
    json_decref(params);
    json_decref(result);
    sb_effects_clear(&w.f.fx);
    if (rc < 0) {
      fprintf(stderr, "%s %s: set-up %s failed: %s\n", c->method, c->params, c->pre_method,
              err.message);
      ok = 0;
    }
  }
  params = case_params(&w, c->params);
  before = fixture_snapshot(&w.f);
  rc = sb_api_client_call(w.f.m, &who, c->method, params, &result, &err, &w.f.fx);
  after = fixture_snapshot(&w.f);
  if (!strcmp(c->expect, "ok")) {
    if (rc != 0 || !json_is_object(result) || (c->check && !c->check(&w, result))) {
      fprintf(stderr, "%s %s %s: rc %d (%s) or result check failed\n", c->who, c->method,
              c->params ? c->params : "", rc, rc < 0 ? err.message : "");
      ok = 0;
    }
  } else if (rc >= 0 || !err.code || strcmp(err.code, c->expect) != 0 || result != NULL ||
             !err.message[0] || !json_equal(before, after) || w.f.fx.len != 0) {
    fprintf(stderr, "%s %s %s: want %s, got rc %d code %s (%s)%s\n", c->who, c->method,
            c->params ? c->params : "", c->expect, rc, err.code ? err.code : "-", err.message,
            json_equal(before, after) ? "" : "; state changed");
    ok = 0;
  }
  json_decref(params);
  json_decref(result);
  json_decref(before);
  json_decref(after);
  fixture_close(&w.f);
  return ok;
}

SB_TEST(client_api_table) {
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    failures += !run_case(&cases[i]);
  CHECK_EQ(failures, 0);
}

SB_TEST(every_method_has_a_case) {
  static const char *const methods[] = {
      "rooms.list",          "rooms.get",           "rooms.create",     "rooms.update",
      "rooms.add_member",    "rooms.remove_member", "rooms.grant_master", "rooms.revoke_master",
      "rooms.leave",         "contacts.list",       "contacts.add",     "contacts.update",
      "contacts.remove",     "blocks.list",         "blocks.add",       "blocks.remove",
      "notifications.list"};
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    int ok = 0, bad = 0;
    CHECK(sb_api_client_has(methods[i]));
    for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++) {
      if (strcmp(cases[j].method, methods[i]) != 0)
        continue;
      ok += !strcmp(cases[j].expect, "ok");
      bad += strcmp(cases[j].expect, "ok") != 0;
    }
    CHECK(ok > 0 && bad > 0);
  }
  CHECK(!sb_api_client_has("call.join"));
  CHECK(!sb_api_client_has(NULL));
}

/* Walks `method`'s pages of `limit` for alice; returns the ids in order ("tenant/user" for users)
 * joined by spaces into out, and the number of pages; -1 on an error or a page too long. */
static int walk(world_t *w, const char *method, const char *key, int limit, char *out, size_t cap) {
  sb_principal_t alice = P("acme", "alice");
  char cursor[200] = "";
  int pages = 0;
  out[0] = '\0';
  for (;;) {
    sb_api_error_t err = {0};
    json_t *params = json_pack("{s:i}", "limit", limit), *result = NULL, *item;
    size_t i;
    if (cursor[0])
      json_object_set_new(params, "cursor", json_string(cursor));
    int rc = sb_api_client_call(w->f.m, &alice, method, params, &result, &err, &w->f.fx);
    json_decref(params);
    if (rc < 0 || json_array_size(json_object_get(result, key)) > (size_t)limit) {
      json_decref(result);
      return -1;
    }
    pages++;
    json_array_foreach(json_object_get(result, key), i, item) {
      const char *id = json_string_value(json_object_get(item, "id"));
      size_t n = strlen(out);
      if (id)
        snprintf(out + n, cap - n, "%s ", id);
      else
        snprintf(out + n, cap - n, "%s/%s ", json_string_value(json_object_get(item, "tenant")),
                 json_string_value(json_object_get(item, "user")));
    }
    const char *next = json_string_value(json_object_get(result, "next_cursor"));
    snprintf(cursor, sizeof cursor, "%s", next ? next : "");
    json_decref(result);
    if (!cursor[0])
      return pages;
    if (pages > 100)
      return -1;
  }
}

SB_TEST(list_pages_walk_every_item_once_in_order) {
  world_t w;
  sb_principal_t alice = P("acme", "alice");
  sb_api_error_t err = {0};
  json_t *result = NULL;
  char all[4096], paged[4096];
  CHECK_EQ(world_open(&w), 0);
  /* 3 rooms of the seed + 9: 12 rooms, some created within the same millisecond */
  for (int i = 0; i < 9; i++) {
    json_t *params = json_pack("{s:s}", "name", "page test");
    CHECK_EQ(sb_api_client_call(w.f.m, &alice, "rooms.create", params, &result, &err, &w.f.fx), 0);
    json_decref(params);
    json_decref(result);
  }
  CHECK_EQ(walk(&w, "rooms.list", "rooms", 500, all, sizeof all), 1);
  for (int limit = 1; limit <= 13; limit++) {
    int pages = walk(&w, "rooms.list", "rooms", limit, paged, sizeof paged);
    CHECK_EQ(pages, (12 + limit - 1) / limit);
    CHECK(strcmp(paged, all) == 0);
  }
  /* contacts and blocks: alice adds bob and dave, then blocks carol and dave */
  static const char *const steps[][2] = {
      {"contacts.add", "{\"user\": \"bob\"}"},
      {"contacts.add", "{\"user\": \"dave\", \"tenant\": \"globex\"}"},
      {"blocks.add", "{\"user\": \"carol\", \"tenant\": \"globex\"}"},
      {"blocks.add", "{\"user\": \"dave\", \"tenant\": \"globex\"}"}};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    json_t *params = json_loads(steps[i][1], 0, NULL);
    CHECK_EQ(sb_api_client_call(w.f.m, &alice, steps[i][0], params, &result, &err, &w.f.fx), 0);
    json_decref(params);
    json_decref(result);
  }
  CHECK_EQ(walk(&w, "contacts.list", "contacts", 500, all, sizeof all), 1);
  CHECK(strstr(all, "acme/bob ") && strstr(all, "globex/dave "));
  for (int limit = 1; limit <= 4; limit++) {
    CHECK(walk(&w, "contacts.list", "contacts", limit, paged, sizeof paged) >= 1);
    CHECK(strcmp(paged, all) == 0);
  }
  CHECK_EQ(walk(&w, "blocks.list", "blocks", 500, all, sizeof all), 1);
  CHECK(strcmp(all, "globex/carol globex/dave ") == 0);
  CHECK_EQ(walk(&w, "blocks.list", "blocks", 1, paged, sizeof paged), 2);
  CHECK(strcmp(paged, all) == 0);
  fixture_close(&w.f);
}

/* Admin API: every endpoint, the caller's scope, and each bad input. Every case starts from the
 * demo seed (acme: alice admin, bob; globex: carol admin, dave; connected; "demo" room) plus
 * initech/erin (admin, not connected). A refused request must change no table and add no
 * effects, and answer {"error": {"code", "message"}}. */
#include "model_fixture.h"
#include "sbtest.h"
#include "signaling/api_admin.h"

#include <stdlib.h>

typedef struct {
  fixture_t f;
} world_t;

typedef int (*check_fn)(world_t *w, json_t *response);

typedef struct {
  const char *who; /* "tenant/user", "operator", or NULL (no token) */
  const char *method, *path, *body;
  int status;
  check_fn check;
  const char *pre_method, *pre_path, *pre_body; /* a request by alice that must succeed first */
} admin_case_t;

static size_t array_len(json_t *r, const char *key) {
  return json_array_size(json_object_get(r, key));
}

static int is_member(world_t *w, const char *user, const char *room) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT COUNT(*) AS n FROM room_members x JOIN users u ON u.uid = "
           "x.uid WHERE x.room_id = '%s' AND u.id = '%s'", room, user);
  return fixture_count(&w->f, sql) == 1;
}

static int check_tenants_admin(world_t *w, json_t *r) {
  json_t *t0 = json_array_get(json_object_get(r, "tenants"), 0);
  json_t *t1 = json_array_get(json_object_get(r, "tenants"), 1);
  return array_len(r, "tenants") == 2 && json_object_get(t0, "external_mode") &&
         !strcmp(json_string_value(json_object_get(t1, "id")), "globex") &&
         !json_object_get(t1, "external_mode");
}

static int check_tenants_operator(world_t *w, json_t *r) { return array_len(r, "tenants") == 3; }

static int check_tenant_created(world_t *w, json_t *r) {
  return fixture_count(&w->f, "SELECT COUNT(*) AS n FROM tenants WHERE id = 'hooli'") == 1 &&
         !strcmp(json_string_value(json_object_get(json_object_get(r, "tenant"), "name")),
                 "Hooli");
}

static int check_tenant(world_t *w, json_t *r) {
  json_t *t = json_object_get(r, "tenant");
  return json_integer_value(json_object_get(t, "user_count")) == 2 &&
         !strcmp(json_string_value(json_object_get(t, "external_mode")), "everyone");
}

static int check_mode_excludes(world_t *w, json_t *r) {
  const sb_effect_t *e = fixture_effect(&w->f.fx, SB_EFFECT_REVOKE, "acme", "bob", "demo");
  return e && !strcmp(e->reason, "permission_withdrawn") && !is_member(w, "bob", "demo") &&
         is_member(w, "alice", "demo") &&
         !strcmp(json_string_value(json_object_get(json_object_get(r, "tenant"),
                                                   "external_mode")), "chosen");
}

static int check_users(world_t *w, json_t *r) { return array_len(r, "users") == 2; }

static int check_user_created(world_t *w, json_t *r) {
  json_t *u = json_object_get(r, "user");
  return !strcmp(json_string_value(json_object_get(u, "id")), "eve") &&
         json_is_true(json_object_get(u, "external_allowed")) &&
         json_is_false(json_object_get(u, "admin"));
}

static int check_user(world_t *w, json_t *r) {
  json_t *u = json_object_get(r, "user");
  return !strcmp(json_string_value(json_object_get(u, "name")), "Bob") &&
         json_is_true(json_object_get(u, "external_permitted"));
}

static int check_flag_off_in_everyone_mode(world_t *w, json_t *r) {
  json_t *u = json_object_get(r, "user");
  return json_is_false(json_object_get(u, "external_allowed")) &&
         json_is_true(json_object_get(u, "external_permitted")) && is_member(w, "bob", "demo") &&
         w->f.fx.len == 0;
}

static int check_permission_withdrawn(world_t *w, json_t *r) {
  return !is_member(w, "bob", "demo") &&
         fixture_effect(&w->f.fx, SB_EFFECT_REVOKE, "acme", "bob", "demo") != NULL &&
         fixture_effect(&w->f.fx, SB_EFFECT_EVENT, "globex", "carol", "room.member_removed") &&
         fixture_count(&w->f, "SELECT COUNT(*) AS n FROM audit WHERE action = "
                              "'permission_change' AND user_id = 'bob'") == 1;
}

static int check_connections(world_t *w, json_t *r) {
  json_t *c = json_array_get(json_object_get(r, "connections"), 0);
  return array_len(r, "connections") == 1 && json_is_true(json_object_get(c, "usable")) &&
         !strcmp(json_string_value(json_object_get(c, "peer")), "globex");
}

static int check_revoked(world_t *w, json_t *r) {
  json_t *c = json_object_get(r, "connection");
  const sb_effect_t *e = fixture_effect(&w->f.fx, SB_EFFECT_REVOKE, "globex", "dave", "demo");
  return json_is_false(json_object_get(c, "allowed")) &&
         json_is_true(json_object_get(c, "peer_allowed")) &&
         json_is_false(json_object_get(c, "usable")) && e &&
         !strcmp(e->reason, "connection_revoked") && !is_member(w, "carol", "demo") &&
         is_member(w, "bob", "demo") &&
         fixture_count(&w->f, "SELECT COUNT(*) AS n FROM room_members x JOIN rooms r ON r.id = "
                              "x.room_id WHERE r.kind = 'direct'") == 0;
}

static int check_one_side(world_t *w, json_t *r) {
  json_t *c = json_object_get(r, "connection");
  return json_is_true(json_object_get(c, "allowed")) &&
         json_is_false(json_object_get(c, "usable")) && w->f.fx.len == 0;
}

static int check_usable(world_t *w, json_t *r) {
  return json_is_true(json_object_get(json_object_get(r, "connection"), "usable")) &&
         fixture_effect(&w->f.fx, SB_EFFECT_EVENT, "acme", "bob", "notification") &&
         fixture_effect(&w->f.fx, SB_EFFECT_EVENT, "initech", "erin", "notification");
}

static int check_audit(world_t *w, json_t *r) {
  json_t *e;
  size_t i;
  json_array_foreach(json_object_get(r, "entries"), i, e) {
    if (strcmp(json_string_value(json_object_get(e, "action")), "user_create") != 0)
      return 0;
  }
  return array_len(r, "entries") == 1;
}

static int check_audit_operator(world_t *w, json_t *r) { return array_len(r, "entries") > 3; }

#define ALICE "acme/alice"
#define T "/api/admin/tenants"
#define C "/api/admin/connections"
#define W T "/acme/webhook"

/* ---- webhooks ---- */

#define HOOK_URL "https://hooks.acme.example/switchboard?k=1"

static const char *hook_secret(json_t *r) {
  return json_string_value(json_object_get(json_object_get(r, "webhook"), "secret"));
}

static int stored_secret_is(world_t *w, const char *secret) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT COUNT(*) AS n FROM tenant_webhooks WHERE tenant_id = 'acme' "
           "AND secret = '%s'", secret);
  return fixture_count(&w->f, sql) == 1;
}

static int reload_effect(world_t *w) {
  return w->f.fx.len == 1 && w->f.fx.items[0].kind == SB_EFFECT_WEBHOOKS &&
         !strcmp(w->f.fx.items[0].tenant, "acme");
}

/* whole: the secret shown this once, 64 hex digits after the prefix, as stored */
static int whole_secret(world_t *w, json_t *r) {
  const char *s = hook_secret(r);
  return s && strlen(s) == 6 + 64 && !strncmp(s, "whsec_", 6) &&
         strspn(s + 6, "0123456789abcdef") == 64 && stored_secret_is(w, s);
}

static int masked_secret(json_t *r) {
  const char *s = hook_secret(r);
  return s && !strncmp(s, "whsec_...", 9) && strlen(s) == 9 + 4;
}

static int check_hook_created(world_t *w, json_t *r) {
  json_t *h = json_object_get(r, "webhook");
  return whole_secret(w, r) && reload_effect(w) &&
         !strcmp(json_string_value(json_object_get(h, "url")), HOOK_URL) &&
         !strcmp(json_string_value(json_object_get(h, "tenant")), "acme");
}

static int check_hook_masked(world_t *w, json_t *r) {
  return masked_secret(r) && !strcmp(json_string_value(json_object_get(json_object_get(r,
                                     "webhook"), "url")), HOOK_URL) && w->f.fx.len == 0;
}

static int check_hook_updated(world_t *w, json_t *r) {
  return masked_secret(r) && reload_effect(w) &&
         fixture_count(&w->f, "SELECT COUNT(*) AS n FROM tenant_webhooks WHERE url = "
                              "'http://10.0.0.7:8080/in'") == 1;
}

static int check_hook_rotated(world_t *w, json_t *r) { return whole_secret(w, r) && reload_effect(w); }

static int check_hook_deleted(world_t *w, json_t *r) {
  return json_is_true(json_object_get(r, "deleted")) && reload_effect(w) &&
         fixture_count(&w->f, "SELECT COUNT(*) AS n FROM tenant_webhooks") == 0;
}

/* The connection's webhook events: one to each side, naming the other. */
static int connection_hooks(world_t *w, const char *type, const char *a, const char *b) {
  int seen = 0;
  for (size_t i = 0; i < w->f.fx.len; i++) {
    const sb_effect_t *e = &w->f.fx.items[i];
    const char *peer = json_string_value(json_object_get(json_object_get(e->data, "peer"), "id"));
    if (e->kind != SB_EFFECT_WEBHOOK || strcmp(e->name, type) || !peer)
      continue;
    if (!strcmp(e->tenant, a) && !strcmp(peer, b))
      seen |= 1;
    else if (!strcmp(e->tenant, b) && !strcmp(peer, a))
      seen |= 2;
    else
      return 0;
  }
  return seen == 3;
}

static int check_ended_hooks(world_t *w, json_t *r) {
  return check_revoked(w, r) && connection_hooks(w, "connection.ended", "acme", "globex");
}

static int check_usable_hooks(world_t *w, json_t *r) {
  return check_usable(w, r) && connection_hooks(w, "connection.usable", "initech", "acme");
}

static const admin_case_t cases[] = {
    {ALICE, "GET", T, NULL, 200, check_tenants_admin},
    {"operator", "GET", T, NULL, 200, check_tenants_operator},
    {NULL, "GET", T, NULL, 401},
    {"acme/bob", "GET", T, NULL, 403},
    {"acme/ghost", "GET", T, NULL, 403},
    {ALICE, "GET", T "?x=1", NULL, 400},

    {"operator", "POST", T, "{\"id\": \"hooli\", \"name\": \"Hooli\"}", 201, check_tenant_created},
    {ALICE, "POST", T, "{\"id\": \"hooli\", \"name\": \"Hooli\"}", 403},
    {"operator", "POST", T, "{\"id\": \"acme\", \"name\": \"x\"}", 409},
    {"operator", "POST", T, "{\"id\": \"bad id\", \"name\": \"x\"}", 400},
    {"operator", "POST", T, "{\"name\": \"x\"}", 400},
    {"operator", "POST", T, NULL, 400},
    {"operator", "POST", T, "[]", 400},
    {"operator", "POST", T, "{\"id\": \"x\", \"name\": \"y\", \"z\": 1}", 400},

    {ALICE, "GET", T "/acme", NULL, 200, check_tenant},
    {ALICE, "GET", T "/globex", NULL, 403},
    {"operator", "GET", T "/nope", NULL, 404},
    {"operator", "GET", T "/%ZZ", NULL, 400},
    {"operator", "GET", T "/a%00b", NULL, 400},

    {ALICE, "PATCH", T "/acme", "{\"external_mode\": \"chosen\"}", 200, check_mode_excludes,
     "PATCH", T "/acme/users/bob", "{\"external_allowed\": false}"},
    {ALICE, "PATCH", T "/acme", "{\"external_mode\": \"sometimes\"}", 400},
    {ALICE, "PATCH", T "/acme", "{}", 400},
    {ALICE, "PATCH", T "/acme", "{\"name\": 5}", 400},
    {"globex/carol", "PATCH", T "/acme", "{\"name\": \"x\"}", 403},

    {ALICE, "GET", T "/acme/users", NULL, 200, check_users},
    {ALICE, "GET", T "/globex/users", NULL, 403},
    {"operator", "GET", T "/nope/users", NULL, 404},

    {ALICE, "POST", T "/acme/users", "{\"id\": \"eve\", \"name\": \"Eve\", \"external_allowed\": "
     "true}", 201, check_user_created},
    {ALICE, "POST", T "/acme/users", "{\"id\": \"bob\", \"name\": \"Bob 2\"}", 409},
    {ALICE, "POST", T "/acme/users", "{\"id\": \"eve\"}", 400},
    {ALICE, "POST", T "/acme/users", "{\"id\": \"eve\", \"name\": \"Eve\", \"admin\": \"yes\"}",
     400},
    {ALICE, "POST", T "/acme/users", "{\"id\": \"e/ve\", \"name\": \"Eve\"}", 400},
    {ALICE, "POST", T "/globex/users", "{\"id\": \"eve\", \"name\": \"Eve\"}", 403},
    {"operator", "POST", T "/nope/users", "{\"id\": \"x\", \"name\": \"X\"}", 404},

    {ALICE, "GET", T "/acme/users/bob", NULL, 200, check_user},
    {ALICE, "GET", T "/acme/users/ghost", NULL, 404},
    {ALICE, "GET", T "/acme/users/bad%20id", NULL, 400},
    {ALICE, "GET", T "/globex/users/carol", NULL, 403},

    {ALICE, "PATCH", T "/acme/users/bob", "{\"external_allowed\": false}", 200,
     check_flag_off_in_everyone_mode},
    {ALICE, "PATCH", T "/acme/users/bob", "{\"external_allowed\": false}", 200,
     check_permission_withdrawn, "PATCH", T "/acme", "{\"external_mode\": \"chosen\"}"},
    {ALICE, "PATCH", T "/acme/users/alice", "{\"admin\": false}", 409},
    {ALICE, "PATCH", T "/acme/users/bob", "{\"name\": \"\"}", 400},
    {ALICE, "PATCH", T "/acme/users/bob", "{}", 400},
    {ALICE, "PATCH", T "/acme/users/bob", "{\"admin\": 1}", 400},
    {ALICE, "PATCH", T "/acme/users/ghost", "{\"name\": \"x\"}", 404},

    {ALICE, "GET", C, NULL, 200, check_connections},
    {"operator", "GET", C, NULL, 403},
    {"acme/bob", "GET", C, NULL, 403},

    {ALICE, "POST", C "/globex/revoke", NULL, 200, check_revoked},
    {"globex/carol", "POST", C "/acme/revoke", "{}", 200, NULL},
    {ALICE, "POST", C "/initech/allow", NULL, 200, check_one_side},
    {"initech/erin", "POST", C "/acme/allow", NULL, 200, check_usable, "POST", C "/initech/allow",
     NULL},
    {ALICE, "POST", C "/acme/allow", NULL, 400},
    {ALICE, "POST", C "/nope/allow", NULL, 404},
    {ALICE, "POST", C "/globex/allow", "{\"x\": 1}", 400},
    {ALICE, "GET", C "/globex/allow", NULL, 404},
    {"operator", "POST", C "/globex/allow", NULL, 403},
    {"acme/bob", "POST", C "/globex/revoke", NULL, 403},

    {ALICE, "GET", "/api/admin/audit?action=user_create&limit=5", NULL, 200, check_audit, "POST",
     T "/acme/users", "{\"id\": \"eve\", \"name\": \"Eve\"}"},
    {"operator", "GET", "/api/admin/audit", NULL, 200, check_audit_operator},
    {ALICE, "GET", "/api/admin/audit?user=alice&room=demo&since=0", NULL, 200, NULL},
    {ALICE, "GET", "/api/admin/audit?action=member%5Fadd", NULL, 200, NULL},
    {ALICE, "GET", "/api/admin/audit?limit=abc", NULL, 400},
    {ALICE, "GET", "/api/admin/audit?since=-5", NULL, 400},
    {ALICE, "GET", "/api/admin/audit?foo=1", NULL, 400},
    {ALICE, "GET", "/api/admin/audit?limit=0", NULL, 400},
    {ALICE, "GET", "/api/admin/audit?limit=5000", NULL, 400},
    {ALICE, "GET", "/api/admin/audit?user=a&user=b", NULL, 400},
    {ALICE, "GET", "/api/admin/audit?user", NULL, 400},
    {NULL, "GET", "/api/admin/audit", NULL, 401},
    /* Quoted input that is not UTF-8, or cut inside a character: the answer was NULL (fuzz). */
    {ALICE, "GET", "/api/admin/audit?\xc2l=1", NULL, 400},
    {ALICE, "PATCH", T "/acme",
     "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\": 1}", 400},

    {ALICE, "POST", C "/globex/revoke", NULL, 200, check_ended_hooks},
    {"initech/erin", "POST", C "/acme/allow", NULL, 200, check_usable_hooks, "POST",
     C "/initech/allow", NULL},

    {ALICE, "PUT", W, "{\"url\": \"" HOOK_URL "\"}", 201, check_hook_created},
    {ALICE, "GET", W, NULL, 200, check_hook_masked, "PUT", W, "{\"url\": \"" HOOK_URL "\"}"},
    {ALICE, "PUT", W, "{\"url\": \"http://10.0.0.7:8080/in\"}", 200, check_hook_updated, "PUT",
     W, "{\"url\": \"" HOOK_URL "\"}"},
    {ALICE, "POST", W "/rotate", NULL, 200, check_hook_rotated, "PUT", W,
     "{\"url\": \"" HOOK_URL "\"}"},
    {ALICE, "DELETE", W, NULL, 200, check_hook_deleted, "PUT", W, "{\"url\": \"" HOOK_URL "\"}"},
    {ALICE, "GET", W, NULL, 404},
    {ALICE, "POST", W "/rotate", NULL, 404},
    {ALICE, "DELETE", W, NULL, 404},
    {ALICE, "POST", W "/rotate", "{\"x\": 1}", 400, NULL, "PUT", W, "{\"url\": \"" HOOK_URL "\"}"},
    /* another tenant's administrator, a user, the operator, nobody: not even reading */
    {"globex/carol", "GET", W, NULL, 403, NULL, "PUT", W, "{\"url\": \"" HOOK_URL "\"}"},
    {"globex/carol", "PUT", W, "{\"url\": \"" HOOK_URL "\"}", 403},
    {"globex/carol", "POST", W "/rotate", NULL, 403, NULL, "PUT", W, "{\"url\": \"" HOOK_URL "\"}"},
    {"acme/bob", "GET", W, NULL, 403, NULL, "PUT", W, "{\"url\": \"" HOOK_URL "\"}"},
    {"acme/bob", "PUT", W, "{\"url\": \"" HOOK_URL "\"}", 403},
    {"operator", "GET", W, NULL, 403, NULL, "PUT", W, "{\"url\": \"" HOOK_URL "\"}"},
    {"operator", "DELETE", W, NULL, 403, NULL, "PUT", W, "{\"url\": \"" HOOK_URL "\"}"},
    {NULL, "GET", W, NULL, 401},
    {ALICE, "PUT", W, "{\"url\": \"ftp://hooks.acme.example/x\"}", 400},
    {ALICE, "PUT", W, "{\"url\": \"https://\"}", 400},
    {ALICE, "PUT", W, "{\"url\": \"https://me:pw@hooks.acme.example/x\"}", 400},
    {ALICE, "PUT", W, "{\"url\": \"https://hooks.acme.example/a b\"}", 400},
    {ALICE, "PUT", W, "{\"url\": \"hooks.acme.example\"}", 400},
    {ALICE, "PUT", W, "{\"url\": \"\"}", 400},
    {ALICE, "PUT", W, "{\"url\": 5}", 400},
    {ALICE, "PUT", W, "{}", 400},
    {ALICE, "PUT", W, "{\"url\": \"" HOOK_URL "\", \"secret\": \"mine\"}", 400},

    {ALICE, "GET", "/api/admin/nope", NULL, 404},
    {ALICE, "DELETE", T "/acme", NULL, 404},
    {ALICE, "GET", T "/", NULL, 404},
};

static int world_open(world_t *w) { return fixture_open_demo(&w->f); }

static const char *code_for(int status) {
  switch (status) {
  case 400: return "bad_request";
  case 401: return "unauthenticated";
  case 403: return "forbidden";
  case 404: return "not_found";
  case 409: return "conflict";
  default: return "internal";
  }
}

static int request(world_t *w, const char *who, const char *method, const char *path,
                   const char *body_text, int *status, json_t **response) {
  sb_principal_t p = {0};
  const sb_principal_t *pp = NULL;
  char t[80] = "", u[80] = "";
  json_t *body = body_text ? json_loads(body_text, JSON_DECODE_ANY, NULL) : NULL;
  if (who && !strcmp(who, "operator")) {
    pp = operator_principal();
  } else if (who) {
    sscanf(who, "%79[^/]/%79s", t, u);
    p = P(t, u);
    pp = &p;
  }
  int rc = sb_api_admin_call(w->f.m, pp, method, path, body, status, response, &w->f.fx);
  json_decref(body);
  return rc;
}

static int run_case(const admin_case_t *c) {
  world_t w;
  json_t *resp = NULL, *before, *after;
  int status = 0, rc, ok = 1;
  if (world_open(&w) < 0)
    return 0;
  if (c->pre_method) {
    rc = request(&w, ALICE, c->pre_method, c->pre_path, c->pre_body, &status, &resp);
    json_decref(resp);
    sb_effects_clear(&w.f.fx);
    if (rc < 0) {
      fprintf(stderr, "%s %s: set-up %s %s failed (%d)\n", c->method, c->path, c->pre_method,
              c->pre_path, status);
      ok = 0;
    }
  }
  before = fixture_snapshot(&w.f);
  rc = request(&w, c->who, c->method, c->path, c->body, &status, &resp);
  after = fixture_snapshot(&w.f);
  if (status != c->status || !json_is_object(resp)) {
    char *text = json_dumps(resp, JSON_COMPACT);
    fprintf(stderr, "%s %s %s: status %d, want %d: %s\n", c->who ? c->who : "-", c->method,
            c->path, status, c->status, text ? text : "");
    free(text);
    ok = 0;
  } else if (c->status < 300 && (rc != 0 || (c->check && !c->check(&w, resp)))) {
    fprintf(stderr, "%s %s %s: check failed\n", c->who ? c->who : "-", c->method, c->path);
    ok = 0;
  } else if (c->status >= 300) {
    json_t *e = json_object_get(resp, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    if (rc >= 0 || !code || strcmp(code, code_for(c->status)) || !msg || !msg[0] ||
        !json_equal(before, after) || w.f.fx.len) {
      fprintf(stderr, "%s %s %s %s: error answer wrong or state changed (%s: %s)\n",
              c->who ? c->who : "-", c->method, c->path, c->body ? c->body : "", code ? code : "",
              msg ? msg : "");
      ok = 0;
    }
  }
  json_decref(resp);
  json_decref(before);
  json_decref(after);
  fixture_close(&w.f);
  return ok;
}

SB_TEST(admin_api_table) {
  int failures = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    failures += !run_case(&cases[i]);
  CHECK_EQ(failures, 0);
}

SB_TEST(error_body_shape) {
  json_t *e = sb_api_admin_error("bad_request", "the body is not JSON");
  CHECK_STR(json_string_value(json_object_get(json_object_get(e, "error"), "code")),
            "bad_request");
  CHECK_STR(json_string_value(json_object_get(json_object_get(e, "error"), "message")),
            "the body is not JSON");
  json_decref(e);
}

SB_TEST(webhook_url_limits) {
  char url[SB_MODEL_WEBHOOK_URL_MAX + 2], why[128];
  memset(url, 'a', sizeof url - 1);
  url[sizeof url - 1] = '\0';
  memcpy(url, "https://h.example/", 18);
  CHECK_EQ(sb_model_webhook_url_check(url, why, sizeof why), -1); /* one byte too long */
  url[sizeof url - 2] = '\0';
  CHECK_EQ(sb_model_webhook_url_check(url, why, sizeof why), 0);
  CHECK_EQ(sb_model_webhook_url_check("HTTPS://h.example", why, sizeof why), 0);
  CHECK_EQ(sb_model_webhook_url_check("http://127.0.0.1:9/x?y=1", why, sizeof why), 0);
  CHECK_EQ(sb_model_webhook_url_check("http://[::1]:9/", why, sizeof why), 0);
  CHECK_EQ(sb_model_webhook_url_check("file:///etc/passwd", why, sizeof why), -1);
  CHECK_EQ(sb_model_webhook_url_check("https://h.example/\x01", why, sizeof why), -1);
  CHECK_EQ(sb_model_webhook_url_check(NULL, why, sizeof why), -1);
}

/* What the sender reads (never an API answer): whole secrets, per tenant or all; and the
 * tenants a room's call events go to. */
SB_TEST(webhooks_load_and_room_tenants) {
  world_t w;
  json_t *resp = NULL, *rows = NULL;
  int status = 0;
  CHECK(world_open(&w) == 0);
  CHECK_EQ(request(&w, ALICE, "PUT", W, "{\"url\": \"" HOOK_URL "\"}", &status, &resp), 0);
  CHECK_EQ(status, 201);
  char secret[80];
  snprintf(secret, sizeof secret, "%s", hook_secret(resp));
  json_decref(resp);
  CHECK_EQ(sb_model_webhooks_load(w.f.m, NULL, &rows), 0);
  CHECK_EQ(json_array_size(rows), 1);
  CHECK_STR(json_string_value(json_object_get(json_array_get(rows, 0), "tenant")), "acme");
  CHECK_STR(json_string_value(json_object_get(json_array_get(rows, 0), "secret")), secret);
  json_decref(rows);
  CHECK_EQ(sb_model_webhooks_load(w.f.m, "globex", &rows), 0);
  CHECK_EQ(json_array_size(rows), 0);
  json_decref(rows);
  CHECK_EQ(sb_model_room_tenants(w.f.m, "demo", &rows), 0);
  CHECK_EQ(json_array_size(rows), 2);
  CHECK_STR(json_string_value(json_array_get(rows, 0)), "acme");
  CHECK_STR(json_string_value(json_array_get(rows, 1)), "globex");
  json_decref(rows);
  CHECK_EQ(sb_model_room_tenants(w.f.m, "nope", &rows), 0);
  CHECK_EQ(json_array_size(rows), 0);
  json_decref(rows);
  fixture_close(&w.f);
}

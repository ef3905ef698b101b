#include "signaling/demo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "signaling/token.h"

#define SB_DEMO_TOKEN_TTL (12 * 3600)

static const struct {
  const char *id, *tenant, *name;
  int admin;
} demo_users[] = {
    {"alice", "acme", "Alice", 1},
    {"bob", "acme", "Bob", 0},
    {"carol", "globex", "Carol", 1},
    {"dave", "globex", "Dave", 0},
};

static char *reply(int *status, int code, json_t *j) {
  *status = code;
  char *text = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  return text;
}

static char *fail(int *status, int code, const char *err, const char *msg) {
  return reply(status, code, json_pack("{s:{s:s, s:s}}", "error", "code", err, "message", msg));
}

char *sb_demo_handle(sb_app_t *app, const char *method, const char *sub, const char *body,
                     size_t body_len, int *status) {
  if (strcmp(sub, "users") == 0 && strcmp(method, "GET") == 0) {
    json_t *users = json_array();
    for (size_t i = 0; i < SB_ARRAY_SIZE(demo_users); i++)
      json_array_append_new(users, json_pack("{s:s, s:s, s:s, s:b}", "id", demo_users[i].id, "tenant",
                                             demo_users[i].tenant, "name", demo_users[i].name, "admin",
                                             demo_users[i].admin));
    return reply(status, 200, json_pack("{s:o}", "users", users));
  }
  if (strcmp(sub, "token") != 0 || strcmp(method, "POST") != 0)
    return fail(status, 404, "not_found", "no such endpoint");
  json_t *req = body ? json_loadb(body, body_len, 0, NULL) : NULL;
  const char *user = json_string_value(json_object_get(req, "user"));
  for (size_t i = 0; user && i < SB_ARRAY_SIZE(demo_users); i++) {
    if (strcmp(user, demo_users[i].id) != 0)
      continue;
    sb_token_claims_t c;
    memset(&c, 0, sizeof c);
    snprintf(c.user, sizeof c.user, "%s", demo_users[i].id);
    snprintf(c.tenant, sizeof c.tenant, "%s", demo_users[i].tenant);
    snprintf(c.name, sizeof c.name, "%s", demo_users[i].name);
    c.admin = demo_users[i].admin;
    c.exp = (int64_t)(sb_wall_ms() / 1000) + SB_DEMO_TOKEN_TTL;
    char *token = sb_token_mint(app->secret, app->secret_len, &c);
    json_decref(req);
    if (!token)
      return fail(status, 500, "internal", "cannot mint a token");
    char *out = reply(status, 200, json_pack("{s:s, s:s, s:s}", "token", token, "user", c.user, "tenant", c.tenant));
    free(token);
    return out;
  }
  json_decref(req);
  return fail(status, 400, "bad_request", "body must be {\"user\": <demo user id>}");
}

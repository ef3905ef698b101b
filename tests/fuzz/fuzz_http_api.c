/* libFuzzer target for the HTTP API's requests with bodies: the administrator API
 * (signaling/api_admin.c: routing, path decoding, query and body checks, scopes) and the demo
 * token endpoint (signaling/demo.c), on an in-memory SQLite model with the demo seed.
 *
 * sb_http_api_handle() needs the application (relay, executor, node), so the target runs what it
 * does for these endpoints without them, as admin() and sb_http_api_handle() in
 * signaling/http_api.c do: the body is parsed (duplicate keys refused; not JSON: 400), the
 * bearer token is verified with the secret (an administrator token of tenant "_operator" is the
 * operator), and sb_api_admin_call() runs as the executor would run it. /api/demo/ goes to
 * sb_demo_handle(); the other endpoints (health, metrics, probes, node endpoints) take no body
 * and are left out.
 *
 * Built and run by the fuzz tree (scripts/test.sh, -DSB_FUZZ=ON, clang; tests/fuzz/run.sh); by
 * hand: build-fuzz/tests/fuzz_http_api -max_total_time=60 CORPUS_DIR tests/fuzz/corpus/http_api
 *
 * Input: requests separated by NUL bytes, each "METHOD PATH\nAUTH\nBODY". AUTH "as:NAME" is a
 * valid token of alice or carol (administrators of acme and globex), bob or dave (users), erin
 * (administrator of initech), mallory (acme, no such user) or op (the operator); anything else is
 * sent as the Authorization header itself. Checked besides memory errors and leaks:
 *  - every answer is a JSON object; an error is {"error": {"code", "message"}} whose code goes
 *    with its status (400 bad_request, 401 unauthenticated, 403 forbidden, 404 not_found,
 *    409 conflict, 429 limit_exceeded); never 500 or 503, whatever the input;
 *  - nothing succeeds without a valid token or for a caller who is not an administrator;
 *  - a refused request changes no table and adds no effect;
 *  - a tenant's administrator changes no other tenant's row of tenants or users;
 *  - a demo token verifies to the demo user the body named. */
#include "signaling/api_admin.h"
#include "signaling/app.h"
#include "signaling/demo.h"
#include "signaling/token.h"
#include "common/util.h"
#include "fuzz_model.h"

#include <stddef.h>
#include <stdint.h>

#define SECRET "switchboard-fuzz-secret-0123456789abcdef"

static sb_app_t app; /* the demo endpoint reads only the secret */

typedef struct {
  const char *name, *tenant, *user;
  int admin, operator, valid;
} caller_t;

static const caller_t callers[] = {
    {"alice", "acme", "alice", 1, 0, 1},    {"bob", "acme", "bob", 0, 0, 1},
    {"carol", "globex", "carol", 1, 0, 1},  {"dave", "globex", "dave", 0, 0, 1},
    {"erin", "initech", "erin", 1, 0, 1},   {"mallory", "acme", "mallory", 1, 0, 0},
    {"op", "_operator", "root", 1, 1, 1},
};

static char tokens[SB_ARRAY_SIZE(callers)][SB_TOKEN_MAX_LEN + 8];

static void mint_tokens(void) {
  for (size_t i = 0; i < SB_ARRAY_SIZE(callers); i++) {
    sb_token_claims_t c;
    memset(&c, 0, sizeof c);
    snprintf(c.user, sizeof c.user, "%s", callers[i].user);
    snprintf(c.tenant, sizeof c.tenant, "%s", callers[i].tenant);
    c.admin = callers[i].admin;
    c.exp = (int64_t)(sb_wall_ms() / 1000) + 7 * 86400;
    char *t = sb_token_mint(app.secret, app.secret_len, &c);
    REQUIRE(t);
    snprintf(tokens[i], sizeof tokens[i], "Bearer %s", t);
    free(t);
  }
}

static const char *const error_codes[][2] = {{"400", "bad_request"}, {"401", "unauthenticated"},
                                             {"403", "forbidden"},   {"404", "not_found"},
                                             {"409", "conflict"},    {"429", "limit_exceeded"}};

static void check_error(int status, json_t *resp) {
  char s[8];
  snprintf(s, sizeof s, "%d", status);
  const char *code = json_string_value(json_object_get(json_object_get(resp, "error"), "code"));
  const char *msg = json_string_value(json_object_get(json_object_get(resp, "error"), "message"));
  REQUIRE(code && msg);
  for (size_t i = 0; i < SB_ARRAY_SIZE(error_codes); i++)
    if (strcmp(s, error_codes[i][0]) == 0) {
      REQUIRE(strcmp(code, error_codes[i][1]) == 0);
      return;
    }
  __builtin_trap(); /* 500, 503 or a status the API does not document */
}

/* The rows of tenants and users that belong to other tenants than `tenant`. */
static json_t *others(const char *tenant) {
  json_t *t = NULL, *u = NULL;
  sb_store_exec(st, &t, "SELECT * FROM tenants WHERE id <> ? ORDER BY id", "s", tenant);
  sb_store_exec(st, &u, "SELECT * FROM users WHERE tenant_id <> ? ORDER BY uid", "s", tenant);
  return json_pack("{s:o, s:o}", "tenants", t ? t : json_null(), "users", u ? u : json_null());
}

static void admin_request(const char *method, const char *path, const char *auth,
                          const char *body, size_t body_len) {
  json_t *req = NULL, *resp = NULL;
  if (body_len) {
    json_error_t jerr;
    if (!(req = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &jerr)))
      return; /* answered 400 "body is not valid JSON" before the API */
  }
  sb_principal_t who = {0};
  const caller_t *caller = NULL;
  sb_token_claims_t claims;
  if (strncmp(auth, "Bearer ", 7) == 0 &&
      sb_token_verify(app.secret, app.secret_len, auth + 7, (int64_t)(sb_wall_ms() / 1000),
                      &claims) == 0) {
    snprintf(who.tenant, sizeof who.tenant, "%s", claims.tenant);
    snprintf(who.user, sizeof who.user, "%s", claims.user);
    who.operator = claims.admin && strcmp(claims.tenant, "_operator") == 0;
    for (size_t i = 0; i < SB_ARRAY_SIZE(callers); i++)
      if (strcmp(callers[i].tenant, who.tenant) == 0 && strcmp(callers[i].user, who.user) == 0)
        caller = &callers[i];
    REQUIRE(caller); /* only the harness's tokens verify */
  }
  json_t *before = current_snapshot();
  json_t *other_before = caller && !caller->operator ? others(caller->tenant) : NULL;
  sb_effects_t fx;
  sb_effects_init(&fx);
  int status = 0;
  int rc = sb_api_admin_call(model, caller ? &who : NULL, method, path, req, &status, &resp, &fx);
  REQUIRE(json_is_object(resp));
  char *text = json_dumps(resp, JSON_COMPACT);
  REQUIRE(text);
  free(text);
  if (rc == 0) {
    REQUIRE(status >= 200 && status < 300);
    REQUIRE(caller && caller->valid && caller->admin);
  } else {
    REQUIRE(rc < 0);
    check_error(status, resp);
    REQUIRE(fx.len == 0);
    if (changes() != snap_changes) {
      json_t *after = snapshot();
      REQUIRE(json_equal(before, after));
      json_decref(after);
    }
  }
  if (other_before) {
    json_t *other_after = others(caller->tenant);
    REQUIRE(json_equal(other_before, other_after));
    json_decref(other_after);
    json_decref(other_before);
  }
  sb_effects_free(&fx);
  json_decref(resp);
  json_decref(req);
}

static void demo_request(const char *method, const char *sub, const char *body, size_t body_len) {
  int status = 0;
  char *text = sb_demo_handle(&app, method, sub, body_len ? body : NULL, body_len, &status);
  REQUIRE(text);
  json_t *resp = json_loads(text, 0, NULL);
  REQUIRE(json_is_object(resp));
  if (status == 200 && strcmp(sub, "token") == 0) {
    json_t *req = json_loadb(body, body_len, 0, NULL);
    const char *want = json_string_value(json_object_get(req, "user"));
    const char *tok = json_string_value(json_object_get(resp, "token"));
    sb_token_claims_t c;
    REQUIRE(want && tok);
    REQUIRE(sb_token_verify(app.secret, app.secret_len, tok, (int64_t)(sb_wall_ms() / 1000), &c) ==
            0);
    REQUIRE(strcmp(c.user, want) == 0);
    json_decref(req);
  } else if (status != 200) {
    check_error(status, resp);
  }
  json_decref(resp);
  free(text);
}

/* "METHOD PATH\nAUTH\nBODY" */
static void run_request(const char *p, size_t len) {
  char line[1100], method[16], auth[SB_TOKEN_MAX_LEN + 64];
  const char *nl = memchr(p, '\n', len);
  size_t n = nl ? (size_t)(nl - p) : len;
  if (n >= sizeof line)
    return;
  memcpy(line, p, n);
  line[n] = '\0';
  char *sp = strchr(line, ' ');
  if (!sp || (size_t)(sp - line) >= sizeof method)
    return;
  memcpy(method, line, (size_t)(sp - line));
  method[sp - line] = '\0';
  const char *path = sp + 1;
  const char *rest = nl ? nl + 1 : p + len, *end = p + len;
  const char *nl2 = memchr(rest, '\n', (size_t)(end - rest));
  size_t an = nl2 ? (size_t)(nl2 - rest) : (size_t)(end - rest);
  if (an >= sizeof auth)
    return;
  memcpy(auth, rest, an);
  auth[an] = '\0';
  if (strncmp(auth, "as:", 3) == 0)
    for (size_t i = 0; i < SB_ARRAY_SIZE(callers); i++)
      if (strcmp(auth + 3, callers[i].name) == 0)
        snprintf(auth, sizeof auth, "%s", tokens[i]);
  const char *body = nl2 ? nl2 + 1 : end;
  size_t body_len = (size_t)(end - body);
  if (strncmp(path, "/api/admin/", 11) == 0 || strcmp(path, "/api/admin") == 0) {
    if (strncmp(path, "/api/admin/nodes", 16) != 0) /* node endpoints: node.c, not here */
      admin_request(method, path, auth, body, body_len);
  } else if (strncmp(path, "/api/demo/", 10) == 0) {
    demo_request(method, path + 10, body, body_len);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 64 * 1024)
    return 0;
  if (!st) {
    memcpy(app.secret, SECRET, strlen(SECRET));
    app.secret_len = strlen(SECRET);
    mint_tokens();
    fuzz_model_setup();
  }
  fuzz_model_restore();
  const char *p = (const char *)data, *end = p + size;
  for (int n = 0; p < end && n < 8; n++) {
    const char *z = memchr(p, '\0', (size_t)(end - p));
    size_t len = z ? (size_t)(z - p) : (size_t)(end - p);
    run_request(p, len);
    p += len + 1;
  }
  return 0;
}

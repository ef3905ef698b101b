/* libFuzzer target for the WebSocket JSON-RPC requests of an authenticated client that reach
 * the client API (signaling/api_client.c over the model and SQLite).
 *
 * A session (signaling/session.c) needs libwebsockets, the executor and the whole application,
 * so this target runs the part of its path that has none of them, as handle_frame() and
 * sb_call_dispatch_api() do it: a text frame is parsed (JSON_REJECT_DUPLICATES), must be an
 * object with a string "method" and, if any, object "params"; the session's own methods (auth,
 * ping, call.*) stop there; any other method goes to sb_api_client_call() for the caller, as the
 * executor runs it, on an in-memory SQLite model holding the demo seed (acme: alice, bob;
 * globex: carol, dave; connected; rooms "demo" and alice<->carol) and initech/erin.
 *
 * Built and run by the fuzz tree (scripts/test.sh, -DSB_FUZZ=ON, clang; tests/fuzz/run.sh); by
 * hand: build-fuzz/tests/fuzz_rpc -max_total_time=60 CORPUS_DIR tests/fuzz/corpus/rpc
 *
 * Input: one byte picks the caller (alice, bob, carol, dave, erin, or mallory: a valid token of
 * acme for a user who does not exist), then frames separated by newlines, run in order on the
 * same database (each input starts from the seed again). Checked besides memory errors and
 * leaks: every answer is a result object or an error whose code is one of docs/protocol.md's,
 * never "internal" or "unavailable" (a fault, whatever the input); a refused call leaves every
 * table as it was and adds no effect; the answer serializes as the session sends it. */
#include "signaling/api_client.h"
#include "signaling/effects.h"
#include "fuzz_model.h"

#include <stddef.h>
#include <stdint.h>

static int known_code(const char *code) {
  static const char *const codes[] = {"bad_request",    "unauthenticated", "forbidden",
                                      "not_found",      "conflict",        "limit_exceeded",
                                      "bad_sdp",        "unknown_method",  "unavailable",
                                      "redirect",       "internal",        NULL};
  for (size_t i = 0; code && codes[i]; i++)
    if (strcmp(code, codes[i]) == 0)
      return 1;
  return 0;
}

/* The session answers these itself (signaling/session.c's table). */
static int session_method(const char *m) {
  return strcmp(m, "auth") == 0 || strcmp(m, "ping") == 0 || strncmp(m, "call.", 5) == 0;
}

static void answer(json_t *id, json_t *result, const char *code, const char *message) {
  json_t *msg = code ? json_pack("{s:O, s:{s:s, s:s}}", "id", id ? id : json_null(), "error",
                                 "code", code, "message", message)
                     : json_pack("{s:O, s:O}", "id", id ? id : json_null(), "result", result);
  REQUIRE(msg);
  char *text = json_dumps(msg, JSON_COMPACT);
  REQUIRE(text);
  free(text);
  json_decref(msg);
}

static void run_frame(const sb_principal_t *who, const char *data, size_t len) {
  json_error_t jerr;
  json_t *msg = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
  json_t *id = msg ? json_object_get(msg, "id") : NULL;
  const char *method = msg ? json_string_value(json_object_get(msg, "method")) : NULL;
  json_t *params = msg ? json_object_get(msg, "params") : NULL;
  if (!msg || !json_is_object(msg)) {
    answer(NULL, NULL, "bad_request", "frame is not a JSON object");
    goto Exit;
  }
  if (id && !json_is_integer(id) && !(json_is_string(id) && json_string_length(id) <= 64))
    id = NULL;
  if (!method || (params && !json_is_object(params))) {
    answer(id, NULL, "bad_request", "missing method or bad params");
    goto Exit;
  }
  if (session_method(method))
    goto Exit;
  if (!sb_api_client_has(method) || strlen(method) >= 64) {
    answer(id, NULL, "unknown_method", "unknown method");
    goto Exit;
  }
  json_t *copy = json_deep_copy(params); /* the job's own copy, as sb_call_dispatch_api() */
  json_t *before = current_snapshot(), *result = NULL;
  sb_effects_t fx;
  sb_api_error_t err;
  sb_effects_init(&fx);
  memset(&err, 0, sizeof err);
  int rc = sb_api_client_call(model, who, method, copy, &result, &err, &fx);
  if (rc == 0) {
    REQUIRE(json_is_object(result));
    for (size_t i = 0; i < fx.len; i++) {
      const sb_effect_t *e = &fx.items[i];
      REQUIRE(e->kind >= SB_EFFECT_EVENT && e->kind <= SB_EFFECT_MEDIA);
      REQUIRE(e->kind != SB_EFFECT_EVENT || json_is_object(e->data));
    }
    answer(id, result, NULL, NULL);
  } else {
    REQUIRE(rc < 0 && result == NULL && known_code(err.code));
    REQUIRE(strcmp(err.code, "internal") != 0 && strcmp(err.code, "unavailable") != 0);
    REQUIRE(memchr(err.message, '\0', sizeof err.message));
    REQUIRE(fx.len == 0);
    if (changes() != snap_changes) { /* it wrote and rolled back: the tables must be as before */
      json_t *after = snapshot();
      REQUIRE(json_equal(before, after));
      json_decref(after);
    }
    answer(id, NULL, err.code, err.message);
  }
  json_decref(result);
  json_decref(copy);
  sb_effects_free(&fx);
Exit:
  json_decref(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const callers[][2] = {{"acme", "alice"},  {"acme", "bob"},
                                           {"globex", "carol"}, {"globex", "dave"},
                                           {"initech", "erin"}, {"acme", "mallory"}};
  if (size < 1 || size > 64 * 1024)
    return 0;
  if (!st)
    fuzz_model_setup();
  fuzz_model_restore();
  sb_principal_t who = {0};
  snprintf(who.tenant, sizeof who.tenant, "%s", callers[data[0] % 6][0]);
  snprintf(who.user, sizeof who.user, "%s", callers[data[0] % 6][1]);
  const char *p = (const char *)data + 1, *end = (const char *)data + size;
  for (int frames = 0; p < end && frames < 16; frames++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    run_frame(&who, p, len);
    p += len + 1;
  }
  return 0;
}

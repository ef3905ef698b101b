#include "signaling/http_api.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "signaling/admission.h"
#include "signaling/api_admin.h"
#include "signaling/demo.h"
#include "signaling/node.h"
#include "signaling/token.h"

static char *error_json(int *status, int code, const char *err, const char *msg) {
  *status = code;
  json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code", err, "message", msg);
  char *text = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  return text;
}

static char *ok_json(int *status, json_t *j) {
  *status = 200;
  char *text = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  return text;
}

static char *ok_json_status(json_t *j) {
  char *text = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  return text;
}

static char *health(sb_app_t *app, int *status) {
  json_t *workers = json_array();
  for (int i = 0; i < sb_relay_workers(app->relay); i++) {
    sb_worker_stats_t st;
    sb_relay_stats(app->relay, i, &st);
    json_t *o = json_pack("{s:i, s:i}", "worker", i, "port", sb_relay_port(app->relay, i));
    const struct {
      const char *name;
      uint64_t v;
    } counters[] = {
        {"transports", st.transports},         {"rx_packets", st.rx_packets},
        {"tx_packets", st.tx_packets},         {"rtp_forwarded", st.rtp_forwarded},
        {"rtp_retransmitted", st.rtp_retransmitted}, {"nack_sent", st.nack_sent},
        {"nack_received", st.nack_received},   {"rtx_recovered", st.rtx_recovered},
        {"drop_not_admitted", st.drop_not_admitted}, {"drop_srtp", st.drop_srtp},
        {"drop_unknown_source", st.drop_unknown_source}, {"drop_malformed", st.drop_malformed},
        {"drop_send", st.drop_send},           {"stun_ok", st.stun_ok},
        {"stun_bad", st.stun_bad},             {"test_dropped", st.test_dropped},
        {"bwe_overuse", st.bwe_overuse},       {"bwe_probes", st.bwe_probes},
        {"bwe_probe_ok", st.bwe_probe_ok},     {"probe_packets", st.probe_packets},
        {"nack_over_budget", st.nack_over_budget},
    };
    for (size_t k = 0; k < SB_ARRAY_SIZE(counters); k++)
      json_object_set_new(o, counters[k].name, json_integer((json_int_t)counters[k].v));
    json_array_append_new(workers, o);
  }
  return ok_json(status, json_pack("{s:s, s:I, s:s, s:o}", "status", "ok", "uptime_ms",
                                   (json_int_t)(sb_now_ms() - app->started_ms), "srtp_build",
                                   SB_SRTP_BUILD, "workers", workers));
}

/* The operator (who may create tenants) holds an administrator token of this pseudo-tenant. */
#define SB_OPERATOR_TENANT "_operator"

static char *admin(sb_app_t *app, const char *method, const char *path, const char *auth,
                   const char *body, size_t body_len, int *status) {
  sb_principal_t who;
  sb_token_claims_t c;
  const sb_principal_t *caller = NULL;
  json_t *req = NULL, *resp = NULL;
  sb_effects_t fx;
  memset(&who, 0, sizeof who);
  if (strncmp(auth, "Bearer ", 7) == 0 &&
      sb_token_verify(app->secret, app->secret_len, auth + 7, (int64_t)(sb_wall_ms() / 1000), &c) == 0) {
    snprintf(who.tenant, sizeof who.tenant, "%s", c.tenant);
    snprintf(who.user, sizeof who.user, "%s", c.user);
    who.operator = c.admin && strcmp(c.tenant, SB_OPERATOR_TENANT) == 0;
    caller = &who;
  }
  if (body && body_len) {
    json_error_t jerr;
    req = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
      *status = 400;
      resp = sb_api_admin_error("bad_request", "body is not valid JSON");
      goto Exit;
    }
  }
  sb_effects_init(&fx);
  sb_api_admin_call(app->model, caller, method, path, req, status, &resp, &fx);
  sb_admission_apply(app, &fx);
  sb_effects_free(&fx);
Exit:
  json_decref(req);
  return ok_json_status(resp);
}

char *sb_http_api_handle(sb_app_t *app, const char *method, const char *path, const char *auth,
                         const char *body, size_t body_len, int *status) {
  /* Probes and node endpoints answer on their own, also while stopping (/readyz says so). */
  char *node_reply = sb_node_http_handle(app, method, path, auth, status);
  if (node_reply)
    return node_reply;
  if (app->stopping)
    return error_json(status, 503, "unavailable", "the server is shutting down");
  if (strcmp(path, "/api/health") == 0 && strcmp(method, "GET") == 0)
    return health(app, status);
  if (strncmp(path, "/api/admin/", 11) == 0 || strcmp(path, "/api/admin") == 0)
    return admin(app, method, path, auth, body, body_len, status);
  if (strncmp(path, "/api/demo/", 10) == 0) {
    if (!app->cfg.demo)
      return error_json(status, 404, "not_found", "demo endpoints are off (start with --demo)");
    return sb_demo_handle(app, method, path + 10, body, body_len, status);
  }
  char msg[300];
  snprintf(msg, sizeof msg, "no endpoint %s %s", method, path);
  return error_json(status, 404, "not_found", msg);
}

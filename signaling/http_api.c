#include "signaling/http_api.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/admission.h"
#include "signaling/api_admin.h"
#include "signaling/dbq.h"
#include "signaling/metrics.h"
#include "signaling/demo.h"
#include "signaling/node.h"
#include "signaling/session.h"
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
    json_t *o = json_pack("{s:i, s:i, s:i}", "worker", i, "port", sb_relay_port(app->relay, i),
                          "tcp_port", sb_relay_tcp_port(app->relay, i));
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
        {"stun_bad", st.stun_bad},             {"stun_keepalive", st.stun_keepalive},
        {"test_dropped", st.test_dropped},
        {"bwe_overuse", st.bwe_overuse},       {"bwe_probes", st.bwe_probes},
        {"bwe_probe_ok", st.bwe_probe_ok},     {"probe_packets", st.probe_packets},
        {"nack_over_budget", st.nack_over_budget},
        {"tcp_connections", st.tcp_connections}, {"tcp_accepted", st.tcp_accepted},
        {"tcp_refused", st.tcp_refused},       {"tcp_closed_unauth", st.tcp_closed_unauth},
        {"drop_tcp_backpressure", st.drop_tcp_backpressure},
        {"dtls_handshakes", st.dtls_handshakes}, {"ice_restarts", st.ice_restarts},
        {"ice_restarts_done", st.ice_restarts_done},
    };
    for (size_t k = 0; k < SB_ARRAY_SIZE(counters); k++)
      json_object_set_new(o, counters[k].name, json_integer((json_int_t)counters[k].v));
    json_array_append_new(workers, o);
  }
  int conns = 0;
  for (sb_session_t *s = app->sessions; s; s = s->next)
    conns++;
  int detached = 0;
  for (sb_session_t *s = app->sessions; s; s = s->next)
    detached += s->detached;
  json_t *sig = json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "connections",
                          conns - detached, "detached", detached,
                          "closed_not_reading", (json_int_t)app->ws_closed_slow,
                          "refused_per_address", (json_int_t)app->ws_refused_address,
                          "refused_per_user", (json_int_t)app->ws_refused_user, "rate_limited",
                          (json_int_t)app->ws_rate_limited, "held_over",
                          (json_int_t)app->ws_deferred, "resumed", (json_int_t)app->ws_resumed,
                          "resume_expired", (json_int_t)app->ws_resume_expired);
  /* db_backlog: database jobs not yet answered; read here without touching the database. */
  return ok_json(status, json_pack("{s:s, s:I, s:s, s:s, s:i, s:o, s:o}", "status", "ok", "uptime_ms",
                                   (json_int_t)(sb_now_ms() - app->started_ms), "srtp_build",
                                   SB_SRTP_BUILD, "malloc", sb_malloc_name(), "db_backlog",
                                   (int)sb_dbq_backlog(app->dbq),
                                   "signaling", sig, "workers", workers));
}

/* --- /metrics --- */

#define SB_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static int is_loopback(const char *ip) {
  return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 || strncmp(ip, "::ffff:127.", 11) == 0;
}

/* With --metrics-token: that bearer token, from anywhere. Without: loopback clients only, and not
 * through a proxy on this host (which would make every client look local). */
static char *metrics(sb_app_t *app, const sb_http_request_t *req, int *status) {
  const char *want = app->cfg.metrics_token;
  if (want[0]) {
    const char *got = strncmp(req->auth, "Bearer ", 7) == 0 ? req->auth + 7 : NULL;
    if (!got)
      return error_json(status, 401, "unauthorized", "/metrics needs the bearer token");
    if (strlen(got) != strlen(want) || CRYPTO_memcmp(got, want, strlen(want)) != 0)
      return error_json(status, 403, "forbidden", "wrong metrics token");
  } else if (!is_loopback(req->peer ? req->peer : "") || req->forwarded) {
    return error_json(status, 403, "forbidden",
                      "/metrics answers loopback clients only; set --metrics-token to scrape it "
                      "from elsewhere");
  }
  char *text = sb_metrics_render(app);
  if (!text)
    return error_json(status, 500, "internal", "out of memory");
  *status = 200;
  return text;
}

const char *sb_http_api_content_type(const char *path, int status) {
  return status == 200 && strcmp(path, "/metrics") == 0 ? SB_PROM_CONTENT_TYPE : "application/json";
}

/* The operator (who may create tenants) holds an administrator token of this pseudo-tenant. */
#define SB_OPERATOR_TENANT "_operator"

/* An administrator API request on its way through the executor. */
struct sb_http_call {
  sb_dbq_job_t job;
  sb_app_t *app;
  sb_http_answer_fn answer;
  void *owner; /* NULL once the connection has gone */
  sb_principal_t who;
  int has_caller;
  char method[8];
  char *path;
  json_t *req; /* the parsed body, the job's own */
  int status;
  json_t *resp;
  sb_effects_t fx;
  char drained[SB_CLUSTER_ID_MAX]; /* a node the operator drained (node endpoints) */
};

static int admin_run(sb_model_t *m, sb_dbq_job_t *job) {
  sb_http_call_t *c = (sb_http_call_t *)job;
  json_decref(c->resp); /* a retried run starts over */
  c->resp = NULL;
  if (sb_node_admin_path(c->path)) {
    c->resp = sb_node_admin_run(sb_model_store(m), c->has_caller ? &c->who : NULL, c->method,
                                c->path, &c->status, c->drained, sizeof c->drained);
    return 0;
  }
  return sb_api_admin_call(m, c->has_caller ? &c->who : NULL, c->method, c->path, c->req, &c->status,
                           &c->resp, &c->fx);
}

/* GET /api/admin/tenants/{id}/usage: the model checked the caller and the tenant; the figures
 * are the signaling loop's (metrics.h), added here. */
static void add_usage(sb_http_call_t *c) {
  json_t *usage = json_object_get(c->resp, "usage");
  const char *tenant = json_string_value(json_object_get(usage, "tenant"));
  size_t n = strcspn(c->path, "?");
  if (c->status != 200 || strcmp(c->method, "GET") != 0 || n < 6 ||
      strncmp(c->path + n - 6, "/usage", 6) != 0 || !tenant)
    return;
  sb_metrics_tenant_json(c->app, tenant, usage);
}

static void admin_done(sb_dbq_job_t *job) {
  sb_http_call_t *c = (sb_http_call_t *)job;
  if (job->status == SB_DBQ_ECANCELLED) {
    c->status = 503;
    c->resp = sb_api_admin_error("unavailable", "the server is shutting down");
  }
  /* The effects apply whether or not the caller is still there to read the answer. */
  sb_admission_apply(c->app, &c->fx);
  add_usage(c);
  if (c->drained[0] && c->app->node && strcmp(c->drained, sb_node_id(c->app)) == 0)
    sb_node_drain(c->app, NULL); /* this node: at once, not at its next heartbeat */
  if (c->owner) {
    c->answer(c->owner, c->status, ok_json_status(c->resp));
  } else {
    sb_debug(SB_DBG_SIG, NULL, "%s %s: %d, the caller has gone", c->method, c->path, c->status);
    json_decref(c->resp);
  }
  sb_effects_free(&c->fx);
  json_decref(c->req);
  free(c->path);
  free(c);
}

void sb_http_call_orphan(sb_http_call_t *c) {
  if (c)
    c->owner = NULL;
}

static char *admin(sb_app_t *app, const sb_http_request_t *req, int *status, sb_http_answer_fn answer,
                   void *owner, sb_http_call_t **pending) {
  sb_token_claims_t claims;
  json_t *body = NULL;
  if (req->body && req->body_len) {
    json_error_t jerr;
    body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!body) {
      *status = 400;
      return ok_json_status(sb_api_admin_error("bad_request", "body is not valid JSON"));
    }
  }
  sb_http_call_t *c = calloc(1, sizeof *c);
  if (!c || !(c->path = strdup(req->path))) {
    free(c);
    json_decref(body);
    return error_json(status, 500, "internal", "out of memory");
  }
  c->job.run = admin_run;
  c->job.done = admin_done;
  c->app = app;
  c->answer = answer;
  c->owner = owner;
  c->req = body;
  c->status = 500;
  snprintf(c->method, sizeof c->method, "%s", req->method);
  sb_effects_init(&c->fx);
  /* The token is checked here: it needs the secret, not the database. */
  if (strncmp(req->auth, "Bearer ", 7) == 0 &&
      sb_token_verify(app->secret, app->secret_len, req->auth + 7, (int64_t)(sb_wall_ms() / 1000),
                      &claims) == 0) {
    snprintf(c->who.tenant, sizeof c->who.tenant, "%s", claims.tenant);
    snprintf(c->who.user, sizeof c->who.user, "%s", claims.user);
    c->who.operator = claims.admin && strcmp(claims.tenant, SB_OPERATOR_TENANT) == 0;
    c->has_caller = 1;
  }
  *pending = c;
  sb_dbq_submit(app->dbq, &c->job);
  return NULL;
}

char *sb_http_api_handle(sb_app_t *app, const sb_http_request_t *req, int *status,
                         sb_http_answer_fn answer, void *owner, sb_http_call_t **pending) {
  const char *method = req->method, *path = req->path;
  /* The probes answer without the database, also while stopping (/readyz says so). */
  char *probe = sb_node_http_handle(app, method, path, status);
  *pending = NULL;
  if (probe)
    return probe;
  if (app->stopping)
    return error_json(status, 503, "unavailable", "the server is shutting down");
  if (strcmp(path, "/api/health") == 0 && strcmp(method, "GET") == 0)
    return health(app, status);
  if (strcmp(path, "/metrics") == 0 && strcmp(method, "GET") == 0)
    return metrics(app, req, status);
  if (strncmp(path, "/api/admin/", 11) == 0 || strcmp(path, "/api/admin") == 0)
    return admin(app, req, status, answer, owner, pending);
  if (strncmp(path, "/api/demo/", 10) == 0) {
    if (!app->cfg.demo)
      return error_json(status, 404, "not_found", "demo endpoints are off (start with --demo)");
    /* Minted from the secret and a fixed list: no database, so it answers at once. */
    return sb_demo_handle(app, method, path + 10, req->body, req->body_len, status);
  }
  char msg[300];
  snprintf(msg, sizeof msg, "no endpoint %s %s", method, path);
  return error_json(status, 404, "not_found", msg);
}

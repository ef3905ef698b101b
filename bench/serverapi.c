/* Administrator API provisioning and health counters. */
#include "bench/serverapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/http.h"
#include "signaling/token.h"

#define TIMEOUT_MS 5000
#define OPERATOR_TENANT "_operator" /* the server's operator pseudo-tenant (docs/openapi.yaml) */

/* 201 created or 409 already there are both fine for provisioning. */
static int post(const sb_bench_run_t *run, const char *path, const char *token, json_t *body,
                char *err, size_t errlen) {
  json_t *resp = NULL;
  int st = sb_bench_http_json(&run->url, run->cfg->ca_file, "POST", path, token, body, &resp,
                              TIMEOUT_MS);
  const char *msg = json_string_value(json_object_get(json_object_get(resp, "error"), "message"));
  json_decref(body);
  if (st == 201 || st == 409) {
    json_decref(resp);
    return 0;
  }
  snprintf(err, errlen, "POST %s: %s %s", path, st < 0 ? "no answer" : "status", msg ? msg : "");
  if (st > 0)
    snprintf(err + strlen(err), errlen - strlen(err), " (%d)", st);
  json_decref(resp);
  return st == 404 ? 1 : -1;
}

int sb_bench_provision(const sb_bench_run_t *run, const uint8_t *key, size_t keylen, char *err,
                       size_t errlen) {
  const sb_bench_config_t *cfg = run->cfg;
  sb_token_claims_t op;
  char path[200], *token;
  int r = -1;
  memset(&op, 0, sizeof op);
  snprintf(op.tenant, sizeof op.tenant, OPERATOR_TENANT);
  snprintf(op.user, sizeof op.user, "switchboard-bench");
  op.admin = 1;
  op.exp = (int64_t)time(NULL) + 3600;
  token = sb_token_mint(key, keylen, &op);
  if (!token) {
    snprintf(err, errlen, "cannot mint the operator token");
    return -1;
  }
  r = post(run, "/api/admin/tenants", token,
           json_pack("{s:s,s:s}", "id", cfg->tenant, "name", "Switchboard bench"), err, errlen);
  snprintf(path, sizeof path, "/api/admin/tenants/%s/users", cfg->tenant);
  for (int i = 0; r == 0 && i < run->npeers; i++) {
    char name[64];
    snprintf(name, sizeof name, "Bench %s", run->peers[i].user);
    r = post(run, path, token, json_pack("{s:s,s:s}", "id", run->peers[i].user, "name", name),
             err, errlen);
    if (r > 0)
      r = -1; /* the admin API exists (the tenant was made): a 404 here is an error */
  }
  free(token);
  return r;
}

static uint64_t u64(const json_t *o, const char *k) {
  return (uint64_t)json_integer_value(json_object_get(o, k));
}

/* Adds one node's counters to out; 0, or -1 if it did not answer. */
static int health_add(const sb_bench_url_t *url, const char *ca_file, sb_bench_health_t *out) {
  json_t *resp = NULL, *w;
  size_t i;
  if (sb_bench_http_json(url, ca_file, "GET", "/api/health", NULL, NULL, &resp, 1000) != 200 ||
      !json_is_array(json_object_get(resp, "workers"))) {
    json_decref(resp);
    return -1;
  }
  const char *m = json_string_value(json_object_get(resp, "malloc"));
  if (m && !out->malloc[0])
    snprintf(out->malloc, sizeof out->malloc, "%s", m);
  else if (m && strcmp(out->malloc, m) != 0)
    snprintf(out->malloc, sizeof out->malloc, "mixed");
  json_array_foreach(json_object_get(resp, "workers"), i, w) {
    out->rx_packets += u64(w, "rx_packets");
    out->tx_packets += u64(w, "tx_packets");
    out->rtp_forwarded += u64(w, "rtp_forwarded");
    out->drop_not_admitted += u64(w, "drop_not_admitted");
    out->drop_srtp += u64(w, "drop_srtp");
    out->drop_unknown_source += u64(w, "drop_unknown_source");
    out->drop_malformed += u64(w, "drop_malformed");
    out->bwe_overuse += u64(w, "bwe_overuse");
    out->bwe_probes += u64(w, "bwe_probes");
    out->bwe_probe_ok += u64(w, "bwe_probe_ok");
    out->probe_packets += u64(w, "probe_packets");
    out->nack_over_budget += u64(w, "nack_over_budget");
    out->workers++;
  }
  json_decref(resp);
  return 0;
}

void sb_bench_health(const sb_bench_run_t *run, sb_bench_health_t *out) {
  const sb_bench_config_t *cfg = run->cfg;
  sb_bench_url_t u;
  memset(out, 0, sizeof *out);
  if (cfg->nhealth_urls == 0) {
    out->ok = health_add(&run->url, cfg->ca_file, out) == 0;
    return;
  }
  for (int i = 0; i < cfg->nhealth_urls; i++)
    if (sb_bench_url_parse(cfg->health_urls[i], &u) < 0 || health_add(&u, cfg->ca_file, out) < 0) {
      memset(out, 0, sizeof *out);
      return;
    }
  out->ok = 1;
}

/* Webhooks on the signaling loop: the tenants' configuration, the calls' tenants, the payloads. */
#include "signaling/webhooks.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/dbq.h"
#include "signaling/node.h"
#include "signaling/webhook.h"

typedef struct sb__hook_cfg {
  char tenant[SB_ID_MAX + 1];
  char *url, *secret;
  struct sb__hook_cfg *next;
} sb__hook_cfg_t;

/* A live call on this node: the tenants it concerns. */
typedef struct sb__hook_room {
  char id[SB_ID_MAX + 1];
  json_t *tenants; /* array of ids */
  uint64_t started_ms; /* wall clock */
  char last_reason[48];
  struct sb__hook_room *next;
} sb__hook_room_t;

struct sb_webhooks {
  sb_webhook_sender_t *sender;
  sb__hook_cfg_t *cfgs;
  sb__hook_room_t *rooms;
};

static void sb__cfg_free(sb__hook_cfg_t *c) {
  if (!c)
    return;
  if (c->secret)
    OPENSSL_cleanse(c->secret, strlen(c->secret));
  free(c->secret);
  free(c->url);
  free(c);
}

static sb__hook_cfg_t *sb__cfg_find(struct sb_webhooks *w, const char *tenant) {
  sb__hook_cfg_t *c = w->cfgs;
  while (c && strcmp(c->tenant, tenant) != 0)
    c = c->next;
  return c;
}

static void sb__cfg_drop(struct sb_webhooks *w, const char *tenant) {
  for (sb__hook_cfg_t **cc = &w->cfgs; *cc; cc = &(*cc)->next)
    if (!strcmp((*cc)->tenant, tenant)) {
      sb__hook_cfg_t *c = *cc;
      *cc = c->next;
      sb__cfg_free(c);
      return;
    }
}

/* Replaces the copy of `tenant`'s (NULL: everyone's) configuration with `rows`. */
static void sb__cfg_apply(struct sb_webhooks *w, const char *tenant, json_t *rows) {
  json_t *row;
  size_t i;
  if (tenant) {
    sb__cfg_drop(w, tenant);
  } else {
    while (w->cfgs) {
      sb__hook_cfg_t *c = w->cfgs;
      w->cfgs = c->next;
      sb__cfg_free(c);
    }
  }
  json_array_foreach(rows, i, row) {
    const char *t = json_string_value(json_object_get(row, "tenant"));
    const char *url = json_string_value(json_object_get(row, "url"));
    const char *secret = json_string_value(json_object_get(row, "secret"));
    sb__hook_cfg_t *c = t && url && secret ? calloc(1, sizeof *c) : NULL;
    if (!c || !(c->url = strdup(url)) || !(c->secret = strdup(secret))) {
      sb__cfg_free(c);
      continue;
    }
    snprintf(c->tenant, sizeof c->tenant, "%s", t);
    c->next = w->cfgs;
    w->cfgs = c;
  }
}

/* ---- loading the configuration ---- */

typedef struct {
  sb_dbq_job_t job;
  sb_app_t *app;
  int all;
  char tenant[SB_ID_MAX + 1];
  json_t *rows;
} sb__load_job_t;

static int sb__load_run(sb_model_t *m, sb_dbq_job_t *job) {
  sb__load_job_t *j = (sb__load_job_t *)job;
  json_decref(j->rows);
  j->rows = NULL;
  return sb_model_webhooks_load(m, j->all ? NULL : j->tenant, &j->rows);
}

static void sb__wipe_rows(json_t *rows) {
  json_t *row;
  size_t i;
  json_array_foreach(rows, i, row) {
    const char *s = json_string_value(json_object_get(row, "secret"));
    if (s)
      OPENSSL_cleanse((char *)s, strlen(s));
  }
  json_decref(rows);
}

static void sb__load_done(sb_dbq_job_t *job) {
  sb__load_job_t *j = (sb__load_job_t *)job;
  if (job->status == 0 && j->app->webhooks)
    sb__cfg_apply(j->app->webhooks, j->all ? NULL : j->tenant, j->rows);
  else if (job->status != SB_DBQ_ECANCELLED)
    sb_warn("webhooks", "reading the webhook configuration failed: %s", sb_model_code(job->status));
  sb__wipe_rows(j->rows);
  free(j);
}

void sb_webhooks_reload(sb_app_t *app, const char *tenant) {
  sb__load_job_t *j;
  if (!app->webhooks || !(j = calloc(1, sizeof *j)))
    return;
  j->job.run = sb__load_run;
  j->job.done = sb__load_done;
  j->app = app;
  j->all = tenant == NULL;
  snprintf(j->tenant, sizeof j->tenant, "%s", tenant ? tenant : "");
  sb_dbq_submit(app->dbq, &j->job);
}

static int sb__load_all(sb_model_t *m, void *arg) { return sb_model_webhooks_load(m, NULL, arg); }

int sb_webhooks_start(sb_app_t *app) {
  sb_webhook_config_t cfg;
  json_t *rows = NULL;
  struct sb_webhooks *w;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(w = calloc(1, sizeof *w)))
    return -1;
  sb_webhook_config_defaults(&cfg);
  app->webhooks = w;
  if (!(w->sender = sb_webhook_sender_create(&cfg)))
    return -1;
  if (sb_dbq_call_sync(app->dbq, sb__load_all, &rows) != 0) {
    sb_error("webhooks", "cannot read the webhook configuration");
    json_decref(rows);
    return -1;
  }
  sb__cfg_apply(w, NULL, rows);
  sb__wipe_rows(rows);
  return 0;
}

void sb_webhooks_stop(sb_app_t *app) {
  struct sb_webhooks *w = app->webhooks;
  if (!w)
    return;
  sb_webhook_sender_destroy(w->sender);
  sb__cfg_apply(w, NULL, NULL);
  while (w->rooms) {
    sb__hook_room_t *r = w->rooms;
    w->rooms = r->next;
    json_decref(r->tenants);
    free(r);
  }
  free(w);
  app->webhooks = NULL;
  curl_global_cleanup();
}

/* ---- events ---- */

static void sb__iso_time(uint64_t ms, char *out, size_t len) {
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&s, &tm);
  size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, len - n, ".%03dZ", (int)(ms % 1000));
}

void sb_webhooks_emit(sb_app_t *app, const char *tenant, const char *type, const char *room,
                      json_t *fields) {
  struct sb_webhooks *w = app->webhooks;
  sb__hook_cfg_t *c = w ? sb__cfg_find(w, tenant) : NULL;
  uint8_t raw[12];
  char id[48], hex[2 * sizeof raw + 1], when[40], key[2 * SB_ID_MAX + 8];
  json_t *body;
  char *text = NULL;
  if (!c)
    return; /* no receiver: nothing to build */
  if (sb_random_bytes(raw, sizeof raw) != 0)
    return;
  sb_hex(raw, sizeof raw, hex);
  snprintf(id, sizeof id, "evt_%s", hex);
  sb__iso_time(sb_wall_ms(), when, sizeof when);
  body = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "type", type, "time", when, "tenant", tenant);
  if (body && room && room[0])
    json_object_set_new(body, "room", json_string(room));
  if (body && app->node)
    json_object_set_new(body, "node", json_string(sb_node_id(app)));
  if (body && fields)
    json_object_update_missing(body, fields);
  text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text)
    return;
  /* one lane per tenant and room: a room's events stay in order; others do not wait */
  snprintf(key, sizeof key, "%s\x1f%s", tenant, room ? room : "");
  sb_webhook_msg_t *msg = sb_webhook_msg_new(id, tenant, type, c->url, c->secret, text);
  free(text);
  if (msg)
    sb_webhook_sender_push(w->sender, key, msg);
}

static sb__hook_room_t *sb__room_find(struct sb_webhooks *w, const char *room) {
  sb__hook_room_t *r = w ? w->rooms : NULL;
  while (r && strcmp(r->id, room) != 0)
    r = r->next;
  return r;
}

static void sb__tenant_add(json_t *tenants, const char *t) {
  json_t *v;
  size_t i;
  json_array_foreach(tenants, i, v) if (!strcmp(json_string_value(v), t)) return;
  json_array_append_new(tenants, json_string(t));
}

/* Sends a room's event to each tenant it concerns (the participant's at least). */
static void sb__room_emit(sb_app_t *app, const char *room, const char *tenant, const char *type,
                          json_t *fields) {
  sb__hook_room_t *r = sb__room_find(app->webhooks, room);
  json_t *v;
  size_t i;
  int own = 0;
  json_array_foreach(r ? r->tenants : NULL, i, v) {
    own |= tenant && !strcmp(json_string_value(v), tenant);
    sb_webhooks_emit(app, json_string_value(v), type, room, fields);
  }
  if (tenant && !own)
    sb_webhooks_emit(app, tenant, type, room, fields);
  json_decref(fields);
}

static json_t *sb__user(const char *tenant, const char *user, const char *name) {
  json_t *u = json_pack("{s:s, s:s}", "tenant", tenant, "id", user);
  if (u && name)
    json_object_set_new(u, "name", json_string(name));
  return u;
}

void sb_webhooks_joined(sb_app_t *app, const char *room, json_t *tenants, const char *tenant,
                        const char *user, const char *name) {
  struct sb_webhooks *w = app->webhooks;
  sb__hook_room_t *r = sb__room_find(w, room);
  json_t *v;
  size_t i;
  if (!w)
    return;
  if (!r && (r = calloc(1, sizeof *r))) {
    snprintf(r->id, sizeof r->id, "%s", room);
    r->tenants = json_array();
    r->started_ms = sb_wall_ms();
    json_array_foreach(tenants, i, v) if (json_is_string(v)) sb__tenant_add(r->tenants, json_string_value(v));
    sb__tenant_add(r->tenants, tenant);
    r->next = w->rooms;
    w->rooms = r;
    sb__room_emit(app, room, NULL, "call.started", NULL);
  } else if (r) { /* members of another tenant may have joined the room since */
    json_array_foreach(tenants, i, v) if (json_is_string(v)) sb__tenant_add(r->tenants, json_string_value(v));
    sb__tenant_add(r->tenants, tenant);
  }
  sb__room_emit(app, room, tenant, "participant.joined",
                json_pack("{s:o}", "user", sb__user(tenant, user, name)));
}

void sb_webhooks_left(sb_app_t *app, const char *room, const char *tenant, const char *user,
                      const char *reason) {
  sb__hook_room_t *r = sb__room_find(app->webhooks, room);
  if (!app->webhooks)
    return;
  if (r)
    snprintf(r->last_reason, sizeof r->last_reason, "%s", reason);
  sb__room_emit(app, room, tenant, "participant.left",
                json_pack("{s:o, s:s}", "user", sb__user(tenant, user, NULL), "reason", reason));
}

void sb_webhooks_ended(sb_app_t *app, const char *room) {
  struct sb_webhooks *w = app->webhooks;
  sb__hook_room_t *r = sb__room_find(w, room);
  char started[40];
  if (!r)
    return;
  sb__iso_time(r->started_ms, started, sizeof started);
  sb__room_emit(app, room, NULL, "call.ended",
                json_pack("{s:s, s:I, s:s}", "started", started, "duration_ms",
                          (json_int_t)(sb_wall_ms() - r->started_ms), "reason",
                          r->last_reason[0] ? r->last_reason : "left"));
  for (sb__hook_room_t **rr = &w->rooms; *rr; rr = &(*rr)->next)
    if (*rr == r) {
      *rr = r->next;
      break;
    }
  json_decref(r->tenants);
  free(r);
}

void sb_webhooks_revoked(sb_app_t *app, const char *room, const char *tenant, const char *user,
                         const char *reason) {
  if (app->webhooks)
    sb__room_emit(app, room, tenant, "revocation",
                  json_pack("{s:o, s:s}", "user", sb__user(tenant, user, NULL), "reason", reason));
}

void sb_webhooks_denied(sb_app_t *app, const char *room, const char *tenant, const char *user,
                        const char *code, const char *message) {
  json_t *f;
  if (!app->webhooks)
    return;
  f = json_pack("{s:o, s:s, s:s}", "user", sb__user(tenant, user, NULL), "reason", code,
                "message", message ? message : "");
  sb_webhooks_emit(app, tenant, "admission.denied", room, f); /* the user's tenant only */
  json_decref(f);
}

void sb_webhooks_render(sb_app_t *app, sb_prom_t *p) {
  sb_webhook_stats_t st = {0};
  if (!app->webhooks)
    return;
  sb_webhook_sender_stats(app->webhooks->sender, &st);
  sb_prom_header(p, "switchboard_webhook_delivered_total", "counter",
                 "Webhook events a receiver accepted (2xx).");
  sb_prom_u64(p, "switchboard_webhook_delivered_total", NULL, 0, st.delivered);
  sb_prom_header(p, "switchboard_webhook_failed_attempts_total", "counter",
                 "Webhook sends that failed (no answer, timeout, status not 2xx); retried.");
  sb_prom_u64(p, "switchboard_webhook_failed_attempts_total", NULL, 0, st.failed_attempts);
  sb_prom_header(p, "switchboard_webhook_dropped_total", "counter",
                 "Webhook events dropped: the queue was full, or every attempt failed.");
  sb_prom_u64(p, "switchboard_webhook_dropped_total", &(sb_prom_label_t){"reason", "queue_full"},
              1, st.dropped_full);
  sb_prom_u64(p, "switchboard_webhook_dropped_total", &(sb_prom_label_t){"reason", "gave_up"}, 1,
              st.gave_up);
  sb_prom_header(p, "switchboard_webhook_queue_length", "gauge",
                 "Webhook events waiting or in flight.");
  sb_prom_u64(p, "switchboard_webhook_queue_length", NULL, 0, st.queued);
}

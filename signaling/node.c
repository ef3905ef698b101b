/* This process as a cluster node (node.h): identity, readiness, drain, heartbeat and the probe
 * and node endpoints. */
#include "signaling/node.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/call.h"
#include "signaling/dbq.h"
#include "signaling/server.h"
#include "signaling/token.h"

/* The pseudo-tenant whose administrators are the operator (as in http_api.c). */
#define SB__OPERATOR_TENANT "_operator"
#define SB__DRAIN_CHECK_MS 250

struct sb_node {
  sb_app_t *app;
  char id[SB_CLUSTER_ID_MAX];
  char url[SB_CLUSTER_URL_MAX];
  int draining;
  uint64_t beat_ok_ms;      /* loop clock of the last heartbeat the store accepted; 0 = none */
  int beat_failing;         /* logged once per outage */
  int beat_in_flight;       /* a slow database gets one heartbeat at a time, not a pile */
  uv_timer_t beat_timer, drain_timer;
  uint64_t drain_deadline_ms;
  void (*on_drained)(sb_app_t *app);
  int open_handles;
};

/* ---- identity ---- */

static int sb__id_char(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

/* "<host>-<port>": stable across restarts of the same node, distinct for nodes sharing a host. */
static void sb__default_id(char *out, size_t len, int port) {
  char host[256] = "node";
  if (gethostname(host, sizeof host) != 0 || !host[0])
    snprintf(host, sizeof host, "node");
  host[sizeof host - 1] = '\0';
  host[40] = '\0';
  for (char *p = host; *p; p++)
    if (!sb__id_char((unsigned char)*p))
      *p = '-';
  snprintf(out, len, "%s-%d", host, port);
}

/* The WebSocket URL of --public-url: http(s) becomes ws(s), an empty or "/" path becomes /ws,
 * the query (?node=ID for the load balancer) stays. Default: the listen address (wss with
 * --tls-cert). */
static int sb__ws_url(const char *pub, const char *host, int port, int tls, char *out, size_t len) {
  if (!pub[0])
    return snprintf(out, len, "%s://%s:%d/ws", tls ? "wss" : "ws", host, port) < (int)len ? 0 : -1;
  static const struct {
    const char *given, *ws;
  } schemes[] = {{"https://", "wss"}, {"http://", "ws"}, {"wss://", "wss"}, {"ws://", "ws"}};
  const char *scheme = NULL;
  for (size_t i = 0; i < SB_ARRAY_SIZE(schemes) && !scheme; i++)
    if (strncmp(pub, schemes[i].given, strlen(schemes[i].given)) == 0)
      scheme = schemes[i].ws;
  if (!scheme)
    return -1;
  const char *auth = strstr(pub, "://") + 3;
  size_t alen = strcspn(auth, "/?#");
  const char *path = auth + alen;
  size_t plen = strcspn(path, "?#");
  const char *query = path + plen;
  if (!alen || *query == '#')
    return -1;
  int n = plen <= 1 ? snprintf(out, len, "%s://%.*s/ws%s", scheme, (int)alen, auth, query)
                    : snprintf(out, len, "%s://%s", scheme, auth);
  return n > 0 && n < (int)len ? 0 : -1;
}

const char *sb_node_id(const sb_app_t *app) { return app->node ? app->node->id : ""; }
const char *sb_node_url(const sb_app_t *app) { return app->node ? app->node->url : ""; }

/* ---- readiness ---- */

/* HOOK(database reachability): the store counts as reachable while the last heartbeat write
 * succeeded within two intervals (decision 5). With the database executor the heartbeat's done
 * callback keeps beat_ok_ms fresh, so nothing here needs to change. */
static int sb__node_store_reachable(const struct sb_node *n) {
  return n->beat_ok_ms && sb_now_ms() - n->beat_ok_ms <= 2 * SB_CLUSTER_HEARTBEAT_MS;
}

int sb_node_ready(const sb_app_t *app, const char **reason) {
  const char *why = NULL;
  if (app->stopping || !app->node)
    why = "stopping";
  else if (app->node->draining)
    why = "draining";
  else if (!sb__node_store_reachable(app->node))
    why = "store_unreachable";
  if (reason)
    *reason = why;
  return why == NULL;
}

/* ---- heartbeat ---- */

sb_node_beat_t *sb_node_beat_prepare(sb_app_t *app) {
  struct sb_node *n = app->node;
  sb_node_beat_t *b = calloc(1, sizeof *b);
  size_t rooms = 0, i = 0;
  if (!b)
    return NULL;
  const sb_call_room_t *live = app->calls ? sb_call_sm_rooms(app->calls) : NULL;
  for (const sb_call_room_t *r = live; r; r = r->next)
    rooms++;
  if (rooms && (!(b->rooms = calloc(rooms, sizeof *b->rooms)) || !(b->lost = calloc(rooms, 1)))) {
    free(b->rooms);
    free(b);
    return NULL;
  }
  snprintf(b->row.id, sizeof b->row.id, "%s", n->id);
  snprintf(b->row.signal_url, sizeof b->row.signal_url, "%s", n->url);
  snprintf(b->row.media_ip, sizeof b->row.media_ip, "%s", app->cfg.media_ip);
  b->row.draining = n->draining;
  for (const sb_call_room_t *r = live; r; r = r->next, i++) {
    snprintf(b->rooms[i], sizeof b->rooms[i], "%s", r->id);
    b->row.load += r->count;
  }
  b->nrooms = rooms;
  b->now_ms = (long long)sb_wall_ms();
  return b;
}

void sb_node_beat_run(sb_store_t *st, sb_node_beat_t *b) {
  b->rc = sb_cluster_node_heartbeat(st, &b->row, b->now_ms, &b->draining);
  if (b->rc < 0 || !b->nrooms)
    return;
  const char **ids = calloc(b->nrooms, sizeof *ids);
  if (!ids) {
    b->rc = SB_STORE_ENOMEM;
    return;
  }
  for (size_t i = 0; i < b->nrooms; i++)
    ids[i] = b->rooms[i];
  int rc = sb_cluster_leases_renew(st, b->row.id, ids, b->nrooms, b->now_ms,
                                   SB_CLUSTER_LEASE_TTL_MS, b->lost);
  free(ids);
  if (rc < 0)
    b->rc = rc;
  /* Not renewed is not yet lost: a lease released as a room's last participant left while a
   * new one was joining is free, and this node takes it again. Only another node's unexpired
   * lease takes the room away. */
  for (size_t i = 0; rc >= 0 && i < b->nrooms; i++)
    if (b->lost[i] && (rc = sb_cluster_lease_acquire(st, b->rooms[i], b->row.id, b->now_ms,
                                                     SB_CLUSTER_LEASE_TTL_MS, SB_CLUSTER_LEASE_ANY,
                                                     NULL)) == 1)
      b->lost[i] = 0;
  if (rc < 0)
    b->rc = rc;
}

static void sb__beat_free(sb_node_beat_t *b) {
  if (!b)
    return;
  free(b->rooms);
  free(b->lost);
  free(b);
}

void sb_node_beat_done(sb_app_t *app, sb_node_beat_t *b) {
  struct sb_node *n = app->node;
  if (!n || app->stopping)
    goto Exit;
  if (b->rc < 0) {
    if (!n->beat_failing)
      sb_warn(NULL, "node %s: heartbeat failed (%s); not ready until it succeeds", n->id,
              sb_store_strerror(b->rc));
    n->beat_failing = 1;
    goto Exit;
  }
  if (n->beat_failing)
    sb_info(NULL, "node %s: heartbeat succeeds again", n->id);
  n->beat_failing = 0;
  n->beat_ok_ms = sb_now_ms();
  if (b->draining && !n->draining) {
    sb_info(NULL, "node %s: drained through another node", n->id);
    sb_node_drain(app, NULL);
  }
  /* Another node took a room whose lease expired here (this node could not renew in time): its
   * call here ends with "moved" and its clients rejoin at the room's new home. */
  for (size_t i = 0; i < b->nrooms; i++)
    if (b->lost[i]) {
      sb_warn(NULL, "node %s: lost the lease of room %s; moving its call", n->id, b->rooms[i]);
      sb_call_end_room(app, b->rooms[i], "moved");
    }
Exit:
  sb__beat_free(b);
}

/* The heartbeat as an executor job: prepared on the loop, written on the DB thread, applied in
 * done. */
typedef struct {
  sb_dbq_job_t job;
  sb_app_t *app;
  sb_node_beat_t *beat;
} sb__beat_job_t;

static int sb__beat_run(sb_model_t *m, sb_dbq_job_t *job) {
  sb_node_beat_t *b = ((sb__beat_job_t *)job)->beat;
  sb_node_beat_run(sb_model_store(m), b);
  return b->rc == SB_STORE_ERETRY ? SB_DBQ_ERETRY : 0;
}

static void sb__beat_job_done(sb_dbq_job_t *job) {
  sb__beat_job_t *j = (sb__beat_job_t *)job;
  if (j->app->node)
    j->app->node->beat_in_flight = 0;
  if (job->status == SB_DBQ_ECANCELLED)
    sb__beat_free(j->beat);
  else
    sb_node_beat_done(j->app, j->beat); /* frees the beat */
  free(j);
}

static void sb__beat_tick(uv_timer_t *t) {
  struct sb_node *n = t->data;
  sb__beat_job_t *j;
  if (n->beat_in_flight || !(j = calloc(1, sizeof *j)))
    return;
  if (!(j->beat = sb_node_beat_prepare(n->app))) {
    free(j);
    return;
  }
  j->app = n->app;
  j->job.run = sb__beat_run;
  j->job.done = sb__beat_job_done;
  n->beat_in_flight = 1;
  sb_dbq_submit(n->app->dbq, &j->job);
}

/* Writes the node's draining flag (the others see it before its next heartbeat); nobody waits. */
typedef struct {
  sb_dbq_job_t job;
  char id[SB_CLUSTER_ID_MAX];
} sb__drain_job_t;

static int sb__drain_run(sb_model_t *m, sb_dbq_job_t *job) {
  int rc = sb_cluster_node_set_draining(sb_model_store(m), ((sb__drain_job_t *)job)->id, 1);
  return rc == SB_STORE_ERETRY ? SB_DBQ_ERETRY : rc < 0 ? SB_MODEL_EINTERNAL : 0;
}

static void sb__drain_done(sb_dbq_job_t *job) {
  if (job->status < 0 && job->status != SB_DBQ_ECANCELLED)
    sb_warn(NULL, "node %s: cannot record the drain now; the next heartbeat will",
            ((sb__drain_job_t *)job)->id);
  free(job);
}

int sb_node_draining(const sb_app_t *app) { return app->node && app->node->draining; }

typedef struct {
  sb_dbq_job_t job;
  char room[SB_CLUSTER_ID_MAX + 1];
  char node[SB_CLUSTER_ID_MAX];
} sb__release_job_t;

static int sb__release_run(sb_model_t *m, sb_dbq_job_t *job) {
  sb__release_job_t *j = (sb__release_job_t *)job;
  int rc = sb_cluster_lease_release(sb_model_store(m), j->room, j->node);
  return rc == SB_STORE_ERETRY ? SB_DBQ_ERETRY : rc < 0 ? SB_MODEL_EINTERNAL : 0;
}

static void sb__release_done(sb_dbq_job_t *job) {
  if (job->status < 0 && job->status != SB_DBQ_ECANCELLED)
    sb_warn(NULL, "room %s: lease not released; it expires", ((sb__release_job_t *)job)->room);
  free(job);
}

void sb_node_release_room(sb_app_t *app, const char *room) {
  sb__release_job_t *j = app->node ? calloc(1, sizeof *j) : NULL;
  if (!j)
    return;
  snprintf(j->room, sizeof j->room, "%s", room);
  snprintf(j->node, sizeof j->node, "%s", app->node->id);
  j->job.run = sb__release_run;
  j->job.done = sb__release_done;
  sb_dbq_submit(app->dbq, &j->job);
}

/* ---- drain ---- */

static void sb__drain_check(uv_timer_t *t) {
  struct sb_node *n = t->data;
  sb_app_t *app = n->app;
  const sb_call_room_t *live = app->calls ? sb_call_sm_rooms(app->calls) : NULL;
  if (live && sb_now_ms() < n->drain_deadline_ms)
    return;
  uv_timer_stop(t);
  if (live) {
    sb_info(NULL, "node %s: drain timeout; moving the remaining calls", n->id);
    sb_call_end_all(app, "moved");
  }
  void (*cb)(sb_app_t *) = n->on_drained;
  n->on_drained = NULL;
  if (cb)
    cb(app);
}

void sb_node_drain(sb_app_t *app, void (*on_drained)(sb_app_t *app)) {
  struct sb_node *n = app->node;
  if (!n)
    return;
  if (on_drained)
    n->on_drained = on_drained;
  if (!n->draining) {
    n->draining = 1;
    n->drain_deadline_ms = sb_now_ms() + (uint64_t)app->cfg.drain_timeout_s * 1000;
    sb_info(NULL, "node %s: draining (not ready; calls end or move in %d s)", n->id,
            app->cfg.drain_timeout_s);
    /* Other nodes see the flag now rather than at the next heartbeat. */
    sb__drain_job_t *j = calloc(1, sizeof *j);
    if (j) {
      snprintf(j->id, sizeof j->id, "%s", n->id);
      j->job.run = sb__drain_run;
      j->job.done = sb__drain_done;
      sb_dbq_submit(app->dbq, &j->job);
    }
  }
  uv_timer_start(&n->drain_timer, sb__drain_check, 0, SB__DRAIN_CHECK_MS);
}

/* ---- start and stop ---- */

/* Both timers point at the node; the last one closed frees it (libuv releases a handle's
 * memory only in its close callback). */
static void sb__node_closed(uv_handle_t *h) {
  struct sb_node *n = h->data;
  if (--n->open_handles == 0)
    free(n);
}

/* Registers the node; a restarted node has no calls, so the leases of its previous run go. */
static int sb__register_run(sb_model_t *m, void *arg) {
  sb_node_beat_t *b = arg;
  sb_store_t *st = sb_model_store(m);
  int rc = sb_cluster_node_register(st, &b->row, b->now_ms);
  if (rc >= 0)
    rc = sb_cluster_leases_release_all(st, b->row.id);
  return rc < 0 ? SB_MODEL_EINTERNAL : 0;
}

static int sb__release_all_run(sb_model_t *m, void *arg) {
  return sb_cluster_leases_release_all(sb_model_store(m), arg) < 0 ? SB_MODEL_EINTERNAL : 0;
}

int sb_node_start(sb_app_t *app) {
  struct sb_node *n = calloc(1, sizeof *n);
  int port = sb_server_port(app);
  if (!n)
    return -1;
  n->app = app;
  app->node = n;
  uv_timer_init(app->loop, &n->beat_timer);
  uv_timer_init(app->loop, &n->drain_timer);
  n->beat_timer.data = n->drain_timer.data = n;
  n->open_handles = 2;
  if (app->cfg.node_id[0])
    snprintf(n->id, sizeof n->id, "%s", app->cfg.node_id);
  else
    sb__default_id(n->id, sizeof n->id, port);
  if (sb__ws_url(app->cfg.public_url, app->cfg.http_host, port, app->cfg.tls_cert[0] != '\0', n->url, sizeof n->url) != 0) {
    sb_error(NULL, "--public-url must be an http(s):// or ws(s):// URL: %s", app->cfg.public_url);
    return -1;
  }
  sb_node_beat_t *b = sb_node_beat_prepare(app);
  if (!b)
    return -1;
  /* Start-up, before clients are served: waiting for the DB thread delays nobody. */
  int rc = sb_dbq_call_sync(app->dbq, sb__register_run, b);
  sb__beat_free(b);
  if (rc < 0) {
    sb_error(NULL, "node %s: cannot register in the database", n->id);
    return -1;
  }
  n->beat_ok_ms = sb_now_ms();
  uv_timer_start(&n->beat_timer, sb__beat_tick, SB_CLUSTER_HEARTBEAT_MS, SB_CLUSTER_HEARTBEAT_MS);
  return 0;
}

void sb_node_stop(sb_app_t *app) {
  struct sb_node *n = app->node;
  if (!n)
    return;
  app->node = NULL;
  /* Shut-down: the rooms are free for other nodes at once rather than at the lease expiry. */
  if (app->dbq && n->id[0] && sb_dbq_call_sync(app->dbq, sb__release_all_run, n->id) < 0)
    sb_warn(NULL, "node %s: cannot release its leases (they expire)", n->id);
  if (!n->open_handles) {
    free(n);
    return;
  }
  uv_close((uv_handle_t *)&n->beat_timer, sb__node_closed);
  uv_close((uv_handle_t *)&n->drain_timer, sb__node_closed);
}

/* ---- HTTP: probes and the operator's node endpoints ---- */

static char *sb__reply(int *status, int code, json_t *j) {
  *status = code;
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  return text ? text : strdup("{}");
}

static char *sb__error(int *status, int code, const char *err, const char *msg) {
  return sb__reply(status, code, json_pack("{s:{s:s, s:s}}", "error", "code", err, "message", msg));
}

static char *sb__probe(sb_app_t *app, int ready_probe, int *status) {
  const char *why = NULL, *id = sb_node_id(app);
  if (!ready_probe)
    return sb__reply(status, 200, json_pack("{s:s, s:s}", "status", "alive", "node", id));
  if (sb_node_ready(app, &why))
    return sb__reply(status, 200, json_pack("{s:s, s:s}", "status", "ready", "node", id));
  return sb__reply(status, 503, json_pack("{s:s, s:s, s:s}", "status", "not_ready", "node", id,
                                          "reason", why));
}

char *sb_node_http_handle(sb_app_t *app, const char *method, const char *path, int *status) {
  size_t n = strcspn(path, "?");
  if (!((n == 8 && !strncmp(path, "/healthz", 8)) || (n == 7 && !strncmp(path, "/readyz", 7))))
    return NULL;
  if (strcmp(method, "GET") != 0)
    return sb__error(status, 405, "bad_request", "use GET");
  return sb__probe(app, path[1] == 'r', status);
}

/* ---- the operator's node endpoints (on the DB thread, as admin API jobs) ---- */

static json_t *sb__admin_error(int *status, int code, const char *err, const char *msg) {
  *status = code;
  return json_pack("{s:{s:s, s:s}}", "error", "code", err, "message", msg);
}

int sb_node_admin_path(const char *path) {
  return strncmp(path, "/api/admin/nodes", 16) == 0 && (!path[16] || strchr("/?", path[16]));
}

/* Draining a node sets its flag in the store; the node follows at its next heartbeat, or at once
 * when it is this one (the caller's done sees `drained`). */
static json_t *sb__admin_drain(sb_store_t *st, const char *id, int *status) {
  sb_cluster_node_t row;
  int rc = sb_cluster_node_set_draining(st, id, 1);
  if (rc < 0)
    return sb__admin_error(status, 503, "unavailable", "the database is unreachable");
  if (rc == 0)
    return sb__admin_error(status, 404, "not_found", "no such node");
  if ((rc = sb_cluster_node_get(st, id, &row)) <= 0)
    return sb__admin_error(status, 503, "unavailable", "the database is unreachable");
  *status = 200;
  return json_pack("{s:o}", "node", sb_cluster_node_json(&row));
}

json_t *sb_node_admin_run(sb_store_t *st, const sb_principal_t *who, const char *method,
                          const char *path, int *status, char *drained, size_t len) {
  char clean[256], id[SB_CLUSTER_ID_MAX], tail[16];
  size_t n = strcspn(path, "?");
  json_t *list = NULL;
  drained[0] = '\0';
  if (!who)
    return sb__admin_error(status, 401, "unauthenticated", "node endpoints are for the operator");
  if (!who->operator)
    return sb__admin_error(status, 403, "forbidden", "node endpoints are for the operator");
  if (n >= sizeof clean)
    return sb__admin_error(status, 404, "not_found", "no such node endpoint");
  memcpy(clean, path, n);
  clean[n] = '\0';
  if (!strcmp(clean, "/api/admin/nodes") && !strcmp(method, "GET")) {
    if (sb_cluster_nodes_live(st, (long long)sb_wall_ms(), SB_CLUSTER_NODE_TIMEOUT_MS, &list) < 0)
      return sb__admin_error(status, 503, "unavailable", "the database is unreachable");
    *status = 200;
    return json_pack("{s:o}", "nodes", list);
  }
  if (sscanf(clean, "/api/admin/nodes/%63[A-Za-z0-9._-]/%15s", id, tail) == 2 &&
      !strcmp(tail, "drain") && !strcmp(method, "POST")) {
    json_t *resp = sb__admin_drain(st, id, status);
    if (*status == 200)
      snprintf(drained, len, "%s", id);
    return resp;
  }
  return sb__admin_error(status, 404, "not_found", "no such node endpoint");
}

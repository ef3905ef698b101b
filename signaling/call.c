#include "signaling/call.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/admission.h"
#include "signaling/api_client.h"
#include "signaling/dbq.h"
#include "signaling/metrics.h"
#include "signaling/model.h"
#include "signaling/node.h"
#include "signaling/webhooks.h"

/* Participants of one call ended at once at most (the participant limit is 1000). */
#define SB_CALL_MAX_END 1024

/* ---- carrying out actions ---- */

static void execute(sb_app_t *app, sb_call_action_t *a) {
  sb_session_t *s;
  switch (a->kind) {
  case SB_CALL_RELAY:
    if (app->relay) {
      sb_relay_send(app->relay, a->worker, a->cmd);
      a->cmd = NULL;
    }
    break;
  case SB_CALL_EVENT:
    if (app->node && a->data && !strcmp(a->name, "call.connected"))
      json_object_set_new(a->data, "node", json_string(sb_node_id(app)));
    if ((s = sb_session_find(app, a->session))) { /* else the session is gone: dropped */
      sb_session_event(s, a->name, a->data);
      a->data = NULL;
    }
    break;
  case SB_CALL_REPLY: /* the reply to a request that no longer waits: dropped */
    break;
  case SB_CALL_DETACHED:
    if ((s = sb_session_find(app, a->session)))
      s->participant = NULL;
    sb_webhooks_left(app, a->room, a->tenant, a->user, a->reason);
    break;
  case SB_CALL_AUDIT:
    sb_admission_audit_revocation(app, a->tenant, a->user, a->room, a->reason);
    break;
  case SB_CALL_ROOM_EMPTY:
    sb_debug(SB_DBG_SIG, NULL, "the call in %s has ended", a->room);
    sb_webhooks_ended(app, a->room);
    if (app->node)
      sb_node_release_room(app, a->room);
    break;
  }
}

static void run_later(sb_session_t *s) {
  sb_call_actions_t *later = s->app->call_later;
  for (size_t i = 0; i < later->len; i++)
    execute(s->app, &later->items[i]);
  sb_call_actions_clear(later);
}

/* Carries out a step's actions in order. The first reply to `req` becomes *result; the actions
 * after it wait until session.c has queued that reply (after_reply): a joiner must get the
 * answer before the offer that follows it. */
static void run(sb_app_t *app, sb_call_actions_t *acts, sb_session_t *req, json_t **result) {
  for (size_t i = 0; i < acts->len; i++) {
    sb_call_action_t *a = &acts->items[i];
    if (a->kind == SB_CALL_REPLY && req && result && !*result && a->session == req->id) {
      *result = a->data;
      a->data = NULL;
      if (sb_call_actions_move(app->call_later, acts, i + 1) == 0 && app->call_later->len) {
        req->after_reply = run_later;
        break;
      }
      continue; /* nothing after it, or out of memory: the rest goes now */
    }
    execute(app, a);
  }
  sb_call_actions_clear(acts);
}

/* Ends a request step: runs its actions or turns the machine's error into the reply's. */
static int finish(sb_app_t *app, sb_session_t *s, int rc, sb_call_actions_t *acts,
                  const sb_call_err_t *cerr, json_t **result, sb_rpc_error_t *err) {
  if (rc == 0)
    run(app, acts, s, result);
  else
    sb_rpc_fail(err, cerr->code ? cerr->code : "internal", "%s", cerr->message);
  sb_call_actions_free(acts);
  return rc == 0 ? 0 : -1;
}

/* The machine's periodic step (offer timeouts); freed in its close callback. */
#define SB_CALL_TICK_MS 1000

typedef struct sb_call_clock {
  uv_timer_t timer;
  sb_app_t *app;
} sb_call_clock_t;

static void on_tick(uv_timer_t *t) {
  sb_call_clock_t *c = t->data;
  sb_call_actions_t acts;
  if (!c->app->calls)
    return;
  sb_call_actions_init(&acts);
  sb_call_sm_tick(c->app->calls, sb_now_ms(), &acts);
  run(c->app, &acts, NULL, NULL);
  sb_call_actions_free(&acts);
}

static void on_clock_closed(uv_handle_t *h) { free(h->data); }

static int clock_start(sb_app_t *app) {
  sb_call_clock_t *c = calloc(1, sizeof *c);
  if (!c)
    return -1;
  c->app = app;
  c->timer.data = c;
  uv_timer_init(app->loop, &c->timer);
  uv_timer_start(&c->timer, on_tick, SB_CALL_TICK_MS, SB_CALL_TICK_MS);
  app->call_clock = c;
  return 0;
}

int sb_call_start(sb_app_t *app) {
  sb_call_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  snprintf(cfg.announce_ip, sizeof cfg.announce_ip, "%s", sb_relay_announce_ip(app->relay));
  cfg.workers = sb_relay_workers(app->relay);
  for (int i = 0; i < cfg.workers && i < SB_CALL_MAX_WORKERS; i++) {
    cfg.ports[i] = sb_relay_port(app->relay, i);
    cfg.tcp_ports[i] = sb_relay_tcp_port(app->relay, i);
  }
  snprintf(cfg.fingerprint, sizeof cfg.fingerprint, "%s", sb_dtls_ctx_fingerprint(app->dtls));
  cfg.max_participants = app->cfg.max_participants;
  cfg.max_video_publishers = app->cfg.max_video_publishers;
  cfg.first_id = app->next_id; /* differs across restarts (sb_app_start) */
  app->calls = sb_call_sm_create(&cfg);
  app->call_later = calloc(1, sizeof *app->call_later);
  if (!app->calls || !app->call_later)
    return -1;
  sb_call_actions_init(app->call_later);
  return app->loop ? clock_start(app) : 0;
}

void sb_call_stop(sb_app_t *app) {
  if (app->call_clock) {
    uv_timer_stop(&app->call_clock->timer);
    uv_close((uv_handle_t *)&app->call_clock->timer, on_clock_closed);
    app->call_clock = NULL;
  }
  sb_call_sm_destroy(app->calls);
  app->calls = NULL;
  sb_call_actions_free(app->call_later);
  free(app->call_later);
  app->call_later = NULL;
}

/* ---- call.join ---- */

static int valid_room_id(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n >= SB_ID_LEN)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return 0;
  return 1;
}

/* Parses params.sdp into *out (malloc'd); on failure *out is NULL and code/why say why. */
static void parse_sdp(json_t *params, sb_sdp_t **out, const char **code, char *why, size_t len) {
  const char *text = json_string_value(json_object_get(params, "sdp"));
  *out = NULL;
  *code = NULL;
  if (!text) {
    *code = "bad_request";
    snprintf(why, len, "missing sdp");
    return;
  }
  sb_sdp_t *sdp = sb_sdp_new();
  if (!sdp) {
    *code = "internal";
    snprintf(why, len, "out of memory");
  } else if (sb_sdp_parse(text, strlen(text), sdp, why, len) != 0) {
    *code = "bad_sdp";
    free(sdp);
  } else {
    *out = sdp;
  }
}

/* A join in three parts: prepare (parse, on the loop), load (model reads, on the DB thread),
 * finish (the machine step and its actions, on the loop, the session found again by id). */
typedef struct {
  sb_dbq_job_t job;
  sb_app_t *app;
  uint64_t session;
  char room[SB_ID_LEN];
  char tenant[SB_ID_MAX + 1], user[SB_ID_MAX + 1], name[128];
  sb_sdp_t *offer;
  const char *sdp_code;
  char sdp_why[160];
  sb_admission_join_t adm;
  uint64_t request_ms;           /* the request arrived (join time, metrics.h) */
  /* The room's home (brief §9): this node, or where to send the client. */
  char node[SB_CLUSTER_ID_MAX];  /* this node's id, "" outside a cluster (no node yet) */
  int draining;                  /* this node takes no new room */
  int home_here;                 /* out: this node holds the room's lease */
  char home[SB_CLUSTER_ID_MAX];  /* out: else the node to redirect to, "" if none can take it */
  char home_url[SB_CLUSTER_URL_MAX];
} join_job_t;

static void join_free(join_job_t *j) {
  sb_admission_join_free(&j->adm);
  free(j->offer);
  free(j);
}

/* Takes (or keeps) the room's lease for this node, or finds where the client must go: the
 * holder of an unexpired lease while it is alive, or, when this node drains and the room is
 * free, the least loaded ready node. A holder that stopped beating is waited for: its lease
 * expires within the TTL and the client's retry then takes the room here. */
static int join_home(sb_store_t *st, join_job_t *j) {
  sb_cluster_holder_t h = {0};
  sb_cluster_node_t other;
  long long now = (long long)sb_wall_ms();
  int rc = sb_cluster_lease_acquire(st, j->room, j->node, now, SB_CLUSTER_LEASE_TTL_MS,
                                    j->draining ? SB_CLUSTER_LEASE_RENEW_ONLY : SB_CLUSTER_LEASE_ANY,
                                    &h);
  if (rc != 0)
    return rc;
  if (h.node_id[0]) {
    if (sb_cluster_node_get(st, h.node_id, &other) == 1 &&
        now - other.heartbeat_ms <= SB_CLUSTER_NODE_TIMEOUT_MS && h.signal_url[0]) {
      snprintf(j->home, sizeof j->home, "%s", h.node_id);
      snprintf(j->home_url, sizeof j->home_url, "%s", h.signal_url);
    }
    return 0;
  }
  if ((rc = sb_cluster_node_pick(st, now, SB_CLUSTER_NODE_TIMEOUT_MS, j->node, &other)) == 1) {
    snprintf(j->home, sizeof j->home, "%s", other.id);
    snprintf(j->home_url, sizeof j->home_url, "%s", other.signal_url);
  }
  return rc < 0 ? rc : 0;
}

static int join_run(sb_model_t *m, sb_dbq_job_t *job) {
  join_job_t *j = (join_job_t *)job;
  sb_admission_join_free(&j->adm); /* a retried run starts over */
  j->home_here = 0;
  j->home[0] = j->home_url[0] = '\0';
  sb_admission_load_join(m, j->tenant, j->user, j->room, &j->adm);
  if (j->adm.denied && !strcmp(j->adm.denied, "unavailable"))
    return SB_DBQ_ERETRY; /* a conflict or a lost connection: the executor runs it again */
  if (j->adm.denied || !j->node[0]) {
    j->home_here = 1;
    return 0;
  }
  int rc = join_home(sb_model_store(m), j);
  if (rc == SB_STORE_ERETRY)
    return SB_DBQ_ERETRY;
  j->home_here = rc == 1;
  if (rc < 0)
    j->home[0] = '\0'; /* answered unavailable */
  return 0;
}

/* The client's join goes elsewhere: "redirect" to the room's home, or "unavailable" (retry). */
static void join_elsewhere(join_job_t *j, sb_rpc_error_t *err) {
  if (j->home[0]) {
    sb_rpc_fail(err, "redirect", "the call in this room is on node %s", j->home);
    err->data = json_pack("{s:s, s:s}", "node", j->home, "url", j->home_url);
  } else {
    sb_rpc_fail(err, "unavailable",
                "the room's home node is changing or no node can take it now; try again");
  }
}

static void join_done(sb_dbq_job_t *job) {
  join_job_t *j = (join_job_t *)job;
  sb_app_t *app = j->app;
  sb_session_t *s = sb_session_find(app, j->session);
  sb_call_exclusions_t x = {.pairs = j->adm.pairs, .n = j->adm.npairs, .everyone = j->adm.pairs_failed};
  sb_call_join_t in = {
      .session = j->session, .room = j->room, .tenant = j->tenant, .user = j->user,
      .name = j->name, .denied = j->adm.denied, .denied_why = j->adm.why, .excl = &x,
      .offer = j->offer, .sdp_code = j->sdp_code, .sdp_why = j->sdp_why,
      .request = sb_log_request(), .now_ms = sb_now_ms(),
  };
  sb_call_actions_t acts;
  sb_call_err_t cerr = {0};
  sb_rpc_error_t err = {0};
  json_t *result = NULL;
  int rc = -1;
  if (!s || !app->calls) /* the connection (or the server) went away meanwhile */
    goto Exit;
  if (job->status == SB_DBQ_ECANCELLED) {
    sb_rpc_fail(&err, "unavailable", "the server is shutting down");
  } else if (job->status < 0) {
    sb_rpc_fail(&err, "unavailable", "the database is unavailable; try again");
  } else if (!j->adm.denied && !j->home_here) {
    join_elsewhere(j, &err);
  } else {
    sb_call_actions_init(&acts);
    rc = sb_call_sm_join(app->calls, &in, &acts, &cerr);
    if (rc == 0)
      s->participant = sb_call_sm_participant(app->calls, s->id);
    if (rc == 0 && s->participant) {
      sb_metrics_admitted(app->metrics, j->tenant, s->participant->transport, j->request_ms);
      /* before the step's actions run: call.started and the join precede what follows */
      sb_webhooks_joined(app, j->room, j->adm.tenants, j->tenant, j->user, j->name);
    } else if (j->adm.denied) {
      sb_metrics_denied(app->metrics, j->tenant, j->adm.denied);
      sb_webhooks_denied(app, j->room, j->tenant, j->user, j->adm.denied, j->adm.why);
    }
    rc = finish(app, s, rc, &acts, &cerr, &result, &err);
    if (rc == 0 && app->node) /* which node hosts the call, for clients and operators */
      json_object_set_new(result, "node", json_string(sb_node_id(app)));
  }
  sb_session_complete(s, rc == 0 ? result : NULL, rc == 0 ? NULL : &err);
  json_decref(err.data);
Exit:
  join_free(j);
}

int sb_call_m_join(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  const char *room = json_string_value(json_object_get(params, "room"));
  join_job_t *j;
  if (!valid_room_id(room))
    return sb_rpc_fail(err, "bad_request", "room must be 1-63 characters of [A-Za-z0-9._-]");
  if (s->participant) /* the machine says so too; this spares the model reads */
    return sb_rpc_fail(err, "conflict", "already in a call on this connection");
  if (!(j = calloc(1, sizeof *j)))
    return sb_rpc_fail(err, "internal", "out of memory");
  j->job.run = join_run;
  j->job.done = join_done;
  j->app = s->app;
  j->session = s->id;
  j->request_ms = sb_now_ms();
  snprintf(j->room, sizeof j->room, "%s", room);
  snprintf(j->tenant, sizeof j->tenant, "%s", s->who.tenant);
  snprintf(j->user, sizeof j->user, "%s", s->who.user);
  snprintf(j->name, sizeof j->name, "%s", s->who.name);
  parse_sdp(params, &j->offer, &j->sdp_code, j->sdp_why, sizeof j->sdp_why);
  if (s->app->node) {
    snprintf(j->node, sizeof j->node, "%s", sb_node_id(s->app));
    j->draining = sb_node_draining(s->app);
  }
  sb_dbq_submit(s->app->dbq, &j->job);
  return SB_RPC_PENDING;
}

/* ---- in-call methods ---- */

int sb_call_m_answer(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  json_t *rev = json_object_get(params, "revision");
  sb_call_actions_t acts;
  sb_call_err_t cerr = {0};
  sb_sdp_t *ans = NULL;
  const char *code;
  char why[160] = "";
  if (!s->participant)
    return sb_rpc_fail(err, "not_found", "not in a call");
  if (!json_is_integer(rev))
    return sb_rpc_fail(err, "bad_request", "missing revision");
  parse_sdp(params, &ans, &code, why, sizeof why);
  sb_call_actions_init(&acts);
  int rc = sb_call_sm_answer(s->app->calls, s->id, json_integer_value(rev), ans, code, why, &acts, &cerr);
  free(ans);
  return finish(s->app, s, rc, &acts, &cerr, result, err);
}

int sb_call_m_candidate(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  json_t *cand = json_object_get(params, "candidate");
  sb_call_actions_t acts;
  sb_call_err_t cerr = {0};
  if (!s->participant)
    return sb_rpc_fail(err, "not_found", "not in a call");
  if (!json_is_string(cand))
    return sb_rpc_fail(err, "bad_request", "candidate must be a string");
  sb_call_actions_init(&acts);
  int rc = sb_call_sm_candidate(s->app->calls, s->id, json_string_value(cand), &acts, &cerr);
  return finish(s->app, s, rc, &acts, &cerr, result, err);
}

int sb_call_m_mute(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  const char *kind = json_string_value(json_object_get(params, "kind"));
  json_t *muted = json_object_get(params, "muted");
  sb_call_actions_t acts;
  sb_call_err_t cerr = {0};
  if (!s->participant)
    return sb_rpc_fail(err, "not_found", "not in a call");
  if (!kind || (strcmp(kind, "audio") && strcmp(kind, "video")) || !json_is_boolean(muted))
    return sb_rpc_fail(err, "bad_request", "params: {kind: \"audio\"|\"video\", muted: boolean}");
  sb_call_actions_init(&acts);
  int rc = sb_call_sm_mute(s->app->calls, s->id, strcmp(kind, "audio") == 0 ? SB_KIND_AUDIO : SB_KIND_VIDEO,
                           json_is_true(muted), &acts, &cerr);
  return finish(s->app, s, rc, &acts, &cerr, result, err);
}

int sb_call_m_prefer(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  json_t *w = json_object_get(params, "max_width"), *h = json_object_get(params, "max_height");
  sb_call_actions_t acts;
  sb_call_err_t cerr = {0};
  if (!s->participant)
    return sb_rpc_fail(err, "not_found", "not in a call");
  if (!json_is_integer(w) || !json_is_integer(h) || json_integer_value(w) < 0 ||
      json_integer_value(w) > 16384 || json_integer_value(h) < 0 || json_integer_value(h) > 16384)
    return sb_rpc_fail(err, "bad_request", "params: {max_width: 0-16384, max_height: 0-16384} (0: any)");
  sb_call_actions_init(&acts);
  int rc = sb_call_sm_prefer(s->app->calls, s->id, (int)json_integer_value(w), (int)json_integer_value(h),
                             &acts, &cerr);
  return finish(s->app, s, rc, &acts, &cerr, result, err);
}

int sb_call_m_restart_ice(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  sb_call_actions_t acts;
  sb_call_err_t cerr = {0};
  (void)params;
  sb_call_actions_init(&acts);
  int rc = sb_call_sm_restart_ice(s->app->calls, s->id, &acts, &cerr);
  return finish(s->app, s, rc, &acts, &cerr, result, err);
}

int sb_call_m_leave(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  sb_call_actions_t acts;
  sb_call_err_t cerr = {0};
  sb_call_actions_init(&acts);
  int rc = sb_call_sm_leave(s->app->calls, s->id, &acts, &cerr);
  return finish(s->app, s, rc, &acts, &cerr, result, err);
}

/* ---- server-side steps ---- */

void sb_call_leave(sb_session_t *s, const char *reason) {
  sb_call_actions_t acts;
  if (!s->app->calls)
    return;
  sb_call_actions_init(&acts);
  sb_call_sm_disconnect(s->app->calls, s->id, reason, &acts);
  run(s->app, &acts, NULL, NULL);
  sb_call_actions_free(&acts);
}

void sb_call_revoke(sb_app_t *app, const char *tenant, const char *user, const char *room,
                    const char *reason) {
  sb_call_actions_t acts;
  if (!app->calls)
    return;
  const sb_participant_t *p = sb_call_sm_find(app->calls, room, tenant, user);
  uint64_t transport = p ? p->transport : 0;
  sb_call_actions_init(&acts);
  if (sb_call_sm_revoke(app->calls, tenant, user, room, reason, &acts) == 1) {
    sb_metrics_revoked(app->metrics, tenant, transport, sb_now_ms()); /* before the close goes */
    sb_webhooks_revoked(app, room, tenant, user, reason);             /* before participant.left */
  }
  run(app, &acts, NULL, NULL);
  sb_call_actions_free(&acts);
}

void sb_call_end_room(sb_app_t *app, const char *room, const char *reason) {
  const sb_call_room_t *r = app->calls ? sb_call_sm_rooms(app->calls) : NULL;
  uint64_t sessions[SB_CALL_MAX_END];
  size_t n = 0;
  sb_call_actions_t acts;
  while (r && strcmp(r->id, room) != 0)
    r = r->next;
  /* Ending a participant changes the list: collect first. */
  for (const sb_participant_t *p = r ? r->participants : NULL; p && n < SB_CALL_MAX_END; p = p->next)
    sessions[n++] = p->session;
  sb_call_actions_init(&acts);
  for (size_t i = 0; i < n; i++)
    sb_call_sm_end(app->calls, sessions[i], reason, &acts);
  run(app, &acts, NULL, NULL);
  sb_call_actions_free(&acts);
}

void sb_call_end_all(sb_app_t *app, const char *reason) {
  sb_call_actions_t acts;
  if (!app->calls)
    return;
  sb_call_actions_init(&acts);
  sb_call_sm_end_all(app->calls, reason, &acts);
  run(app, &acts, NULL, NULL);
  sb_call_actions_free(&acts);
}

void sb_call_on_relay_event(sb_event_t *ev, void *arg) {
  sb_app_t *app = arg;
  sb_call_actions_t acts;
  sb_metrics_relay_event(app->metrics, ev, sb_now_ms());
  if (ev->hdr.type == SB_EV_TRANSPORT_BYTES || ev->hdr.type == SB_EV_TRANSPORT_MEDIA) {
    free(ev); /* for the metrics only */
    return;
  }
  /* the transport's lines carry the request id of the call.join that made it */
  sb_log_set_request(sb_call_sm_request_of(app->calls, ev->transport));
  sb_call_actions_init(&acts);
  if (app->calls)
    sb_call_sm_relay_event(app->calls, ev, sb_now_ms(), &acts);
  run(app, &acts, NULL, NULL);
  sb_call_actions_free(&acts);
  sb_log_set_request(NULL);
  free(ev);
}

const sb_participant_t *sb_call_find(sb_app_t *app, const char *room, const char *tenant,
                                     const char *user) {
  return app->calls ? sb_call_sm_find(app->calls, room, tenant, user) : NULL;
}

/* Blocks changed in `room`: one read of its exclusions on the DB thread, re-applied to its live
 * call in the job's done. */
typedef struct {
  sb_dbq_job_t job;
  sb_app_t *app;
  char room[SB_ID_MAX + 1];
  sb_user_pair_t *pairs;
  size_t n;
  int failed;
} media_job_t;

static int media_run(sb_model_t *m, sb_dbq_job_t *job) {
  media_job_t *j = (media_job_t *)job;
  free(j->pairs);
  j->failed = sb_admission_load_exclusions(m, j->room, &j->pairs, &j->n) < 0;
  return 0;
}

static int room_is_live(sb_app_t *app, const char *room) {
  const sb_call_room_t *r = app->calls ? sb_call_sm_rooms(app->calls) : NULL;
  while (r && strcmp(r->id, room) != 0)
    r = r->next;
  return r != NULL;
}

static void media_done(sb_dbq_job_t *job) {
  media_job_t *j = (media_job_t *)job;
  /* Cancelled at shutdown: the calls are ending anyway. Failed reads fail closed. */
  if (job->status != SB_DBQ_ECANCELLED && room_is_live(j->app, j->room)) {
    sb_call_exclusions_t x = {.pairs = j->pairs, .n = j->n, .everyone = j->failed};
    sb_call_actions_t acts;
    sb_call_actions_init(&acts);
    sb_call_sm_refresh_media(j->app->calls, j->room, &x, &acts);
    run(j->app, &acts, NULL, NULL);
    sb_call_actions_free(&acts);
  }
  free(j->pairs);
  free(j);
}

void sb_call_refresh_media(sb_app_t *app, const char *room) {
  media_job_t *j;
  if (!room_is_live(app, room)) /* no live call here: nothing to read */
    return;
  if (!(j = calloc(1, sizeof *j)))
    return;
  j->job.run = media_run;
  j->job.done = media_done;
  j->app = app;
  snprintf(j->room, sizeof j->room, "%s", room);
  sb_dbq_submit(app->dbq, &j->job);
}

/* A client API request (rooms, contacts, blocks, ...) on its way through the executor. */
typedef struct {
  sb_dbq_job_t job;
  sb_app_t *app;
  uint64_t session;
  sb_principal_t who;
  char method[64];
  json_t *params; /* the job's own copy: the DB thread reads it */
  json_t *result;
  sb_api_error_t aerr;
  sb_effects_t fx;
} api_job_t;

static int api_run(sb_model_t *m, sb_dbq_job_t *job) {
  api_job_t *j = (api_job_t *)job;
  memset(&j->aerr, 0, sizeof j->aerr);
  return sb_api_client_call(m, &j->who, j->method, j->params, &j->result, &j->aerr, &j->fx);
}

static void api_done(sb_dbq_job_t *job) {
  api_job_t *j = (api_job_t *)job;
  sb_rpc_error_t err = {0};
  if (job->status == SB_DBQ_ECANCELLED)
    sb_rpc_fail(&err, "unavailable", "the server is shutting down");
  else if (job->status != 0)
    sb_rpc_fail(&err, j->aerr.code ? j->aerr.code : "internal", "%s", j->aerr.message);
  /* Effects first, as the operation's order: revocations cut media now, even when the caller
   * has gone; then the caller's reply. */
  sb_admission_apply(j->app, &j->fx);
  sb_session_t *s = sb_session_find(j->app, j->session);
  if (s)
    sb_session_complete(s, job->status == 0 ? j->result : NULL, job->status == 0 ? NULL : &err);
  else
    json_decref(j->result);
  sb_effects_free(&j->fx);
  json_decref(j->params);
  free(j);
}

int sb_call_dispatch_api(sb_session_t *s, const char *method, json_t *params, json_t **result,
                         sb_rpc_error_t *err) {
  if (!sb_api_client_has(method) || strlen(method) >= sizeof ((api_job_t *)0)->method)
    return sb_rpc_fail(err, "unknown_method", "unknown method \"%.64s\"", method);
  api_job_t *j = calloc(1, sizeof *j);
  if (!j)
    return sb_rpc_fail(err, "internal", "out of memory");
  j->job.run = api_run;
  j->job.done = api_done;
  j->app = s->app;
  j->session = s->id;
  snprintf(j->who.tenant, sizeof j->who.tenant, "%s", s->who.tenant);
  snprintf(j->who.user, sizeof j->who.user, "%s", s->who.user);
  snprintf(j->method, sizeof j->method, "%s", method);
  j->params = json_deep_copy(params);
  sb_effects_init(&j->fx);
  if (params && !j->params) {
    free(j);
    return sb_rpc_fail(err, "internal", "out of memory");
  }
  sb_dbq_submit(s->app->dbq, &j->job);
  return SB_RPC_PENDING;
}

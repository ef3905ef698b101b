#include "signaling/admission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signaling/dbq.h"
#include "signaling/model.h"
#include "signaling/webhooks.h"

void sb_admission_load_join(sb_model_t *m, const char *tenant, const char *user, const char *room,
                            sb_admission_join_t *out) {
  memset(out, 0, sizeof *out);
  int rc = sb_model_admit(m, tenant, user, room, out->why, sizeof out->why);
  if (rc != 0) {
    out->denied = sb_model_code(rc);
    return;
  }
  out->pairs_failed = sb_admission_load_exclusions(m, room, &out->pairs, &out->npairs) < 0;
  if (sb_model_room_tenants(m, room, &out->tenants) < 0) { /* webhooks then go to the joiner's */
    json_decref(out->tenants);
    out->tenants = NULL;
  }
}

void sb_admission_join_free(sb_admission_join_t *j) {
  if (!j)
    return;
  free(j->pairs);
  j->pairs = NULL;
  j->npairs = 0;
  json_decref(j->tenants);
  j->tenants = NULL;
}

int sb_admission_load_exclusions(sb_model_t *m, const char *room, sb_user_pair_t **pairs, size_t *n) {
  *pairs = NULL;
  *n = 0;
  int rc = sb_model_media_exclusions(m, room, pairs, n);
  if (rc < 0) {
    free(*pairs);
    *pairs = NULL;
    *n = 0;
  }
  return rc;
}

/* --- writes nobody waits for: submitted, and their done only frees them --- */

typedef struct {
  sb_dbq_job_t job;
  char tenant[SB_ID_MAX + 1], user[SB_ID_MAX + 1], room[SB_ID_MAX + 1];
  char reason[64];
  long long notification_id;
} note_job_t;

static int delivered_run(sb_model_t *m, sb_dbq_job_t *job) {
  note_job_t *j = (note_job_t *)job;
  return sb_model_notification_delivered(m, j->tenant, j->user, j->notification_id);
}

static int revocation_run(sb_model_t *m, sb_dbq_job_t *job) {
  note_job_t *j = (note_job_t *)job;
  return sb_model_audit_revocation(m, j->tenant, j->user, j->room, j->reason);
}

static void note_done(sb_dbq_job_t *job) {
  note_job_t *j = (note_job_t *)job;
  if (job->status < 0 && job->status != SB_DBQ_ECANCELLED)
    sb_warn(j->tenant, "database write for %s failed: %s", j->user, sb_model_code(job->status));
  free(j);
}

static void submit_note(sb_app_t *app, sb_dbq_run_fn run, const char *tenant, const char *user,
                        const char *room, const char *reason, long long notification_id) {
  note_job_t *j = calloc(1, sizeof *j);
  if (!j)
    return;
  j->job.run = run;
  j->job.done = note_done;
  snprintf(j->tenant, sizeof j->tenant, "%s", tenant);
  snprintf(j->user, sizeof j->user, "%s", user);
  snprintf(j->room, sizeof j->room, "%s", room ? room : "");
  snprintf(j->reason, sizeof j->reason, "%s", reason ? reason : "");
  j->notification_id = notification_id;
  sb_dbq_submit(app->dbq, &j->job);
}

void sb_admission_audit_revocation(sb_app_t *app, const char *tenant, const char *user,
                                   const char *room, const char *reason) {
  submit_note(app, revocation_run, tenant, user, room, reason, 0);
}

static void deliver(sb_app_t *app, const sb_effect_t *e) {
  int delivered = 0;
  for (sb_session_t *s = app->sessions; s; s = s->next) {
    if (!s->authed || strcmp(s->who.tenant, e->tenant) != 0 || strcmp(s->who.user, e->user) != 0)
      continue;
    sb_session_event(s, e->name, json_incref(e->data));
    delivered = 1;
  }
  if (delivered && e->notification_id)
    submit_note(app, delivered_run, e->tenant, e->user, NULL, NULL, e->notification_id);
}

void sb_admission_apply(sb_app_t *app, sb_effects_t *fx) {
  for (size_t i = 0; i < fx->len; i++) {
    const sb_effect_t *e = &fx->items[i];
    switch (e->kind) {
    case SB_EFFECT_EVENT:
      deliver(app, e);
      break;
    case SB_EFFECT_REVOKE:
      sb_call_revoke(app, e->tenant, e->user, e->room, e->reason);
      break;
    case SB_EFFECT_MEDIA:
      sb_call_refresh_media(app, e->room);
      break;
    case SB_EFFECT_WEBHOOK:
      sb_webhooks_emit(app, e->tenant, e->name, e->room, e->data);
      break;
    case SB_EFFECT_WEBHOOKS:
      sb_webhooks_reload(app, e->tenant);
      break;
    }
  }
  sb_effects_clear(fx);
}

/* --- pending notifications of a session that just authenticated --- */

typedef struct {
  sb_dbq_job_t job;
  sb_app_t *app;
  uint64_t session;
  char tenant[SB_ID_MAX + 1], user[SB_ID_MAX + 1];
  json_t *list;
} connect_job_t;

static int connect_run(sb_model_t *m, sb_dbq_job_t *job) {
  connect_job_t *j = (connect_job_t *)job;
  json_decref(j->list);
  j->list = NULL;
  int rc = sb_model_notifications_take(m, j->tenant, j->user, &j->list);
  return rc < 0 ? rc : 0;
}

static void connect_done(sb_dbq_job_t *job) {
  connect_job_t *j = (connect_job_t *)job;
  sb_session_t *s = sb_session_find(j->app, j->session);
  if (s && j->list) {
    size_t i;
    json_t *n;
    json_array_foreach(j->list, i, n) sb_session_event(s, "notification", json_incref(n));
  } else if (!s && json_array_size(j->list)) {
    /* Taken (marked delivered) but the connection closed meanwhile: notifications.list still
     * has them. */
    sb_info(j->tenant, "%s left before %zu notifications reached it", j->user, json_array_size(j->list));
  }
  if (s)
    sb_session_resume(s);
  json_decref(j->list);
  free(j);
}

void sb_admission_on_connect(sb_app_t *app, sb_session_t *s) {
  connect_job_t *j = calloc(1, sizeof *j);
  if (!j)
    return;
  j->job.run = connect_run;
  j->job.done = connect_done;
  j->app = app;
  j->session = s->id;
  snprintf(j->tenant, sizeof j->tenant, "%s", s->who.tenant);
  snprintf(j->user, sizeof j->user, "%s", s->who.user);
  /* The session's next requests wait until the notifications are out, so they come first. */
  sb_session_suspend(s);
  sb_dbq_submit(app->dbq, &j->job);
}

/* --- effects from other nodes, and re-checks after the bus may have missed some --- */

/* A remote change's effects wait their turn behind the jobs submitted before them: a join whose
 * admission was read before the change committed is answered first, so the revocation that
 * follows finds its participant (applying it at once would miss the not yet joined one). */
typedef struct {
  sb_dbq_job_t job;
  sb_app_t *app;
  sb_effects_t fx;
} remote_job_t;

static int remote_run(sb_model_t *m, sb_dbq_job_t *job) { return 0; }

static void remote_done(sb_dbq_job_t *job) {
  remote_job_t *j = (remote_job_t *)job;
  if (job->status != SB_DBQ_ECANCELLED)
    sb_admission_apply(j->app, &j->fx);
  sb_effects_free(&j->fx);
  free(j);
}

void sb_admission_apply_remote(sb_app_t *app, sb_effects_t *fx) {
  remote_job_t *j = calloc(1, sizeof *j);
  if (!j) {
    sb_admission_apply(app, fx); /* out of memory: late order beats losing a revocation */
    return;
  }
  j->job.run = remote_run;
  j->job.done = remote_done;
  j->app = app;
  j->fx = *fx; /* the list is the job's now */
  sb_effects_init(fx);
  sb_dbq_submit(app->dbq, &j->job);
}

typedef struct {
  char tenant[SB_ID_MAX + 1], user[SB_ID_MAX + 1], room[SB_ID_MAX + 1];
  int admitted;
  char why[32];
} recheck_t;

typedef struct {
  sb_dbq_job_t job;
  sb_app_t *app;
  recheck_t *items;
  size_t n;
} resync_job_t;

static int resync_run(sb_model_t *m, sb_dbq_job_t *job) {
  resync_job_t *j = (resync_job_t *)job;
  for (size_t i = 0; i < j->n; i++) {
    recheck_t *r = &j->items[i];
    /* Cannot tell: keep the call; the next resync or revocation decides. */
    r->admitted = sb_model_still_admitted(m, r->tenant, r->user, r->room, r->why, sizeof r->why) != 0;
  }
  return 0;
}

static void resync_done(sb_dbq_job_t *job) {
  resync_job_t *j = (resync_job_t *)job;
  size_t cut = 0;
  for (size_t i = 0; job->status == 0 && i < j->n; i++) {
    recheck_t *r = &j->items[i];
    if (i == 0 || strcmp(r->room, j->items[i - 1].room) != 0)
      sb_call_refresh_media(j->app, r->room); /* blocks may have changed too */
    if (!r->admitted && sb_call_find(j->app, r->room, r->tenant, r->user)) {
      sb_info(r->tenant, "%s: admission to %s ended while this node was not listening (%s)",
              r->user, r->room, r->why);
      sb_call_revoke(j->app, r->tenant, r->user, r->room, r->why);
      cut++;
    }
  }
  sb_info(NULL, "bus: re-checked %zu participant(s), %zu cut", j->n, cut);
  free(j->items);
  free(j);
}

void sb_admission_resync(sb_app_t *app) {
  size_t n = 0, i = 0;
  resync_job_t *j;
  for (const sb_call_room_t *r = app->calls ? sb_call_sm_rooms(app->calls) : NULL; r; r = r->next)
    n += (size_t)r->count;
  if (n == 0 || !(j = calloc(1, sizeof *j)))
    return;
  if (!(j->items = calloc(n, sizeof *j->items))) {
    free(j);
    return;
  }
  for (const sb_call_room_t *r = sb_call_sm_rooms(app->calls); r; r = r->next)
    for (const sb_participant_t *p = r->participants; p && i < n; p = p->next, i++) {
      snprintf(j->items[i].tenant, sizeof j->items[i].tenant, "%s", p->tenant);
      snprintf(j->items[i].user, sizeof j->items[i].user, "%s", p->user);
      snprintf(j->items[i].room, sizeof j->items[i].room, "%s", r->id);
    }
  j->n = i;
  j->app = app;
  j->job.run = resync_run;
  j->job.done = resync_done;
  sb_dbq_submit(app->dbq, &j->job);
}

#include "signaling/admission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signaling/dbq.h"
#include "signaling/model.h"

void sb_admission_load_join(sb_model_t *m, const char *tenant, const char *user, const char *room,
                            sb_admission_join_t *out) {
  memset(out, 0, sizeof *out);
  int rc = sb_model_admit(m, tenant, user, room, out->why, sizeof out->why);
  if (rc != 0) {
    out->denied = sb_model_code(rc);
    return;
  }
  out->pairs_failed = sb_admission_load_exclusions(m, room, &out->pairs, &out->npairs) < 0;
}

void sb_admission_join_free(sb_admission_join_t *j) {
  if (!j)
    return;
  free(j->pairs);
  j->pairs = NULL;
  j->npairs = 0;
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

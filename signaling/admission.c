#include "signaling/admission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signaling/dbq.h"
#include "signaling/model.h"

/* --- the call path: TRANSITIONAL synchronous calls on the DB thread (sb_dbq_call_sync) until
 * the call state machine takes the admission decision and the exclusions as inputs --- */

typedef struct {
  const sb_token_claims_t *who;
  const char *room;
  char *reason;
  size_t len;
} admit_arg_t;

static int admit_on_db(sb_model_t *m, void *arg) {
  admit_arg_t *a = arg;
  return sb_model_admit(m, a->who->tenant, a->who->user, a->room, a->reason, a->len);
}

const char *sb_admission_check(sb_app_t *app, const sb_token_claims_t *who, const char *room,
                               char *reason, size_t len) {
  admit_arg_t a = {.who = who, .room = room, .reason = reason, .len = len};
  int rc = sb_dbq_call_sync(app->dbq, admit_on_db, &a);
  if (rc == SB_DBQ_ECANCELLED) {
    snprintf(reason, len, "the server is shutting down");
    return "unavailable";
  }
  return rc == 0 ? NULL : sb_model_code(rc);
}

typedef struct {
  const char *room;
  sb_user_pair_t *pairs;
  size_t n;
} exclusions_arg_t;

static int exclusions_on_db(sb_model_t *m, void *arg) {
  exclusions_arg_t *a = arg;
  free(a->pairs); /* a retried run starts over */
  a->pairs = NULL;
  a->n = 0;
  return sb_model_media_exclusions(m, a->room, &a->pairs, &a->n);
}

int sb_admission_may_exchange(sb_app_t *app, const sb_participant_t *a, const sb_participant_t *b) {
  exclusions_arg_t ex = {.room = a->room->id};
  int ok = 1;
  if (sb_dbq_call_sync(app->dbq, exclusions_on_db, &ex) < 0) {
    free(ex.pairs);
    return 0; /* cannot tell: fail closed */
  }
  for (size_t i = 0; i < ex.n && ok; i++) {
    const sb_user_ref_t *x = &ex.pairs[i].a, *y = &ex.pairs[i].b;
    int ab = !strcmp(x->tenant, a->tenant) && !strcmp(x->user, a->user) && !strcmp(y->tenant, b->tenant) &&
             !strcmp(y->user, b->user);
    int ba = !strcmp(x->tenant, b->tenant) && !strcmp(x->user, b->user) && !strcmp(y->tenant, a->tenant) &&
             !strcmp(y->user, a->user);
    ok = !(ab || ba);
  }
  free(ex.pairs);
  return ok;
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
    case SB_EFFECT_REVOKE: {
      sb_participant_t *p = sb_call_find(app, e->room, e->tenant, e->user);
      if (p) {
        sb_info(p->ctx, "admission revoked: %s", e->reason);
        sb_call_end(p, e->reason);
      }
      break;
    }
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

#include "signaling/admission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
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

static void deliver(sb_app_t *app, const sb_effect_t *e) {
  int delivered = 0;
  for (sb_session_t *s = app->sessions; s; s = s->next) {
    if (!s->authed || strcmp(s->who.tenant, e->tenant) != 0 || strcmp(s->who.user, e->user) != 0)
      continue;
    sb_session_event(s, e->name, json_incref(e->data));
    delivered = 1;
  }
  if (delivered && e->notification_id)
    sb_model_notification_delivered(app->model, e->tenant, e->user, e->notification_id);
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

void sb_admission_on_connect(sb_app_t *app, sb_session_t *s) {
  json_t *list = NULL;
  if (sb_model_notifications_take(app->model, s->who.tenant, s->who.user, &list) < 0 || !list)
    return;
  size_t i;
  json_t *n;
  json_array_foreach(list, i, n) sb_session_event(s, "notification", json_incref(n));
  json_decref(list);
}

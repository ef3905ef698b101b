#include "signaling/admission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "signaling/model.h"

const char *sb_admission_check(sb_app_t *app, const sb_token_claims_t *who, const char *room,
                               char *reason, size_t len) {
  int rc = sb_model_admit(app->model, who->tenant, who->user, room, reason, len);
  return rc == 0 ? NULL : sb_model_code(rc);
}

int sb_admission_may_exchange(sb_app_t *app, const sb_participant_t *a, const sb_participant_t *b) {
  sb_user_pair_t *pairs = NULL;
  size_t n = 0;
  int ok = 1;
  if (sb_model_media_exclusions(app->model, a->room->id, &pairs, &n) < 0)
    return 0; /* cannot tell: fail closed */
  for (size_t i = 0; i < n && ok; i++) {
    const sb_user_ref_t *x = &pairs[i].a, *y = &pairs[i].b;
    int ab = !strcmp(x->tenant, a->tenant) && !strcmp(x->user, a->user) && !strcmp(y->tenant, b->tenant) &&
             !strcmp(y->user, b->user);
    int ba = !strcmp(x->tenant, b->tenant) && !strcmp(x->user, b->user) && !strcmp(y->tenant, a->tenant) &&
             !strcmp(y->user, a->user);
    ok = !(ab || ba);
  }
  free(pairs);
  return ok;
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

void sb_admission_on_connect(sb_app_t *app, sb_session_t *s) {
  json_t *list = NULL;
  if (sb_model_notifications_take(app->model, s->who.tenant, s->who.user, &list) < 0 || !list)
    return;
  size_t i;
  json_t *n;
  json_array_foreach(list, i, n) sb_session_event(s, "notification", json_incref(n));
  json_decref(list);
}

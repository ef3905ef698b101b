/* The list of effects a model operation leaves for the network side. */
#include "signaling/effects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void sb_effects_init(sb_effects_t *fx) { memset(fx, 0, sizeof *fx); }

void sb_effects_truncate(sb_effects_t *fx, size_t len) {
  while (fx->len > len)
    json_decref(fx->items[--fx->len].data);
}

void sb_effects_clear(sb_effects_t *fx) {
  if (fx)
    sb_effects_truncate(fx, 0);
}

void sb_effects_free(sb_effects_t *fx) {
  if (!fx)
    return;
  sb_effects_clear(fx);
  free(fx->items);
  sb_effects_init(fx);
}

static sb_effect_t *sb__effects_push(sb_effects_t *fx, sb_effect_kind_t kind) {
  sb_effect_t *items = sb_grow(fx->items, &fx->cap, fx->len + 1, sizeof *items, 16);
  if (!items)
    return NULL;
  fx->items = items;
  sb_effect_t *e = &fx->items[fx->len++];
  memset(e, 0, sizeof *e);
  e->kind = kind;
  return e;
}

int sb_effects_event(sb_effects_t *fx, const char *tenant, const char *user, const char *name,
                     json_t *data) {
  sb_effect_t *e = data ? sb__effects_push(fx, SB_EFFECT_EVENT) : NULL;
  if (!e) {
    json_decref(data);
    return -1;
  }
  snprintf(e->tenant, sizeof e->tenant, "%s", tenant);
  snprintf(e->user, sizeof e->user, "%s", user);
  snprintf(e->name, sizeof e->name, "%s", name);
  e->data = data;
  if (strcmp(name, "notification") == 0)
    e->notification_id = json_integer_value(json_object_get(data, "id"));
  return 0;
}

int sb_effects_revoke(sb_effects_t *fx, const char *tenant, const char *user, const char *room,
                      const char *reason) {
  for (size_t i = 0; i < fx->len; i++) {
    sb_effect_t *o = &fx->items[i];
    if (o->kind == SB_EFFECT_REVOKE && !strcmp(o->tenant, tenant) && !strcmp(o->user, user) &&
        !strcmp(o->room, room))
      return 0;
  }
  sb_effect_t *e = sb__effects_push(fx, SB_EFFECT_REVOKE);
  if (!e)
    return -1;
  snprintf(e->tenant, sizeof e->tenant, "%s", tenant);
  snprintf(e->user, sizeof e->user, "%s", user);
  snprintf(e->room, sizeof e->room, "%s", room);
  snprintf(e->reason, sizeof e->reason, "%s", reason);
  return 0;
}

int sb_effects_media(sb_effects_t *fx, const char *room) {
  for (size_t i = 0; i < fx->len; i++)
    if (fx->items[i].kind == SB_EFFECT_MEDIA && !strcmp(fx->items[i].room, room))
      return 0;
  sb_effect_t *e = sb__effects_push(fx, SB_EFFECT_MEDIA);
  if (!e)
    return -1;
  snprintf(e->room, sizeof e->room, "%s", room);
  return 0;
}

int sb_effects_webhook(sb_effects_t *fx, const char *tenant, const char *name, const char *room,
                       json_t *data) {
  sb_effect_t *e = data ? sb__effects_push(fx, SB_EFFECT_WEBHOOK) : NULL;
  if (!e) {
    json_decref(data);
    return -1;
  }
  snprintf(e->tenant, sizeof e->tenant, "%s", tenant);
  snprintf(e->name, sizeof e->name, "%s", name);
  snprintf(e->room, sizeof e->room, "%s", room ? room : "");
  e->data = data;
  return 0;
}

int sb_effects_webhooks_changed(sb_effects_t *fx, const char *tenant) {
  sb_effect_t *e = sb__effects_push(fx, SB_EFFECT_WEBHOOKS);
  if (!e)
    return -1;
  snprintf(e->tenant, sizeof e->tenant, "%s", tenant);
  return 0;
}

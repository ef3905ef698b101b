#include "signaling/call_actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void sb_call_actions_init(sb_call_actions_t *a) { memset(a, 0, sizeof *a); }

static void item_free(sb_call_action_t *it) {
  free(it->cmd);
  json_decref(it->data);
  it->cmd = NULL;
  it->data = NULL;
}

void sb_call_actions_truncate(sb_call_actions_t *a, size_t len) {
  while (a->len > len)
    item_free(&a->items[--a->len]);
}

void sb_call_actions_clear(sb_call_actions_t *a) {
  if (a)
    sb_call_actions_truncate(a, 0);
}

void sb_call_actions_free(sb_call_actions_t *a) {
  if (!a)
    return;
  sb_call_actions_clear(a);
  free(a->items);
  a->items = NULL;
  a->cap = 0;
}

static int reserve(sb_call_actions_t *a, size_t more) {
  if (a->len + more <= a->cap)
    return 0;
  sb_call_action_t *n = sb_grow(a->items, &a->cap, a->len + more, sizeof *n, 16);
  if (!n)
    return -1;
  a->items = n;
  return 0;
}

/* A zeroed item at the end, or NULL if out of memory. */
static sb_call_action_t *push(sb_call_actions_t *a, sb_call_action_kind_t kind) {
  if (reserve(a, 1) != 0)
    return NULL;
  sb_call_action_t *it = &a->items[a->len++];
  memset(it, 0, sizeof *it);
  it->kind = kind;
  return it;
}

int sb_call_actions_move(sb_call_actions_t *to, sb_call_actions_t *from, size_t start) {
  if (start >= from->len)
    return 0;
  size_t n = from->len - start;
  if (reserve(to, n) != 0)
    return -1;
  memcpy(to->items + to->len, from->items + start, n * sizeof *from->items);
  to->len += n;
  from->len = start; /* the items' commands and data now belong to `to` */
  return 0;
}

int sb_call_actions_relay(sb_call_actions_t *a, int worker, sb_cmd_t *cmd) {
  if (!cmd)
    return -1;
  sb_call_action_t *it = push(a, SB_CALL_RELAY);
  if (!it) {
    free(cmd);
    return -1;
  }
  it->worker = worker;
  it->cmd = cmd;
  return 0;
}

int sb_call_actions_event(sb_call_actions_t *a, uint64_t session, const char *name, json_t *data) {
  sb_call_action_t *it = push(a, SB_CALL_EVENT);
  if (!it) {
    json_decref(data);
    return -1;
  }
  it->session = session;
  it->name = name;
  it->data = data;
  return 0;
}

int sb_call_actions_reply(sb_call_actions_t *a, uint64_t session, json_t *data) {
  sb_call_action_t *it = push(a, SB_CALL_REPLY);
  if (!it) {
    json_decref(data);
    return -1;
  }
  it->session = session;
  it->data = data;
  return 0;
}

int sb_call_actions_detached(sb_call_actions_t *a, uint64_t session, const char *room,
                             const char *tenant, const char *user, const char *reason) {
  sb_call_action_t *it = push(a, SB_CALL_DETACHED);
  if (!it)
    return -1;
  it->session = session;
  snprintf(it->room, sizeof it->room, "%s", room);
  snprintf(it->tenant, sizeof it->tenant, "%s", tenant);
  snprintf(it->user, sizeof it->user, "%s", user);
  snprintf(it->reason, sizeof it->reason, "%s", reason);
  return 0;
}

int sb_call_actions_audit(sb_call_actions_t *a, const char *tenant, const char *user,
                          const char *room, const char *reason) {
  sb_call_action_t *it = push(a, SB_CALL_AUDIT);
  if (!it)
    return -1;
  snprintf(it->tenant, sizeof it->tenant, "%s", tenant);
  snprintf(it->user, sizeof it->user, "%s", user);
  snprintf(it->room, sizeof it->room, "%s", room);
  snprintf(it->reason, sizeof it->reason, "%s", reason);
  return 0;
}

int sb_call_actions_room_empty(sb_call_actions_t *a, const char *room) {
  sb_call_action_t *it = push(a, SB_CALL_ROOM_EMPTY);
  if (!it)
    return -1;
  snprintf(it->room, sizeof it->room, "%s", room);
  return 0;
}

/* Actions: what the network side must do after a call state machine step (signaling/call_sm.c).
 *
 * The machine does no I/O; it appends actions here in the order they must happen and its
 * caller (the shell, signaling/call.c) carries them out: relay commands to a worker, events and
 * replies to a session, audit writes to submit to the model. Sessions are named by id; an
 * action for a session that is gone is dropped. */
#ifndef SB_CALL_ACTIONS_H
#define SB_CALL_ACTIONS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/relay.h"
#include "signaling/effects.h"

typedef enum {
  /* Send `cmd` to relay worker `worker` (sb_relay_send takes it; take it out of the action). */
  SB_CALL_RELAY = 1,
  /* Send event `name` with `data` to session `session`. */
  SB_CALL_EVENT,
  /* `data` is the result of session `session`'s current request: send it before the actions
   * that follow (they may be events the client must see after the result, such as an offer). */
  SB_CALL_REPLY,
  /* Session `session` is no longer in a call (in `room`); its participant is freed. */
  SB_CALL_DETACHED,
  /* Write to the audit log a revocation the relay made on its own (tenant, user, room,
   * reason): sb_model_audit_revocation. */
  SB_CALL_AUDIT,
  /* The call in `room` has no participant left (the room's state on this node is gone). */
  SB_CALL_ROOM_EMPTY,
} sb_call_action_kind_t;

typedef struct {
  sb_call_action_kind_t kind;
  uint64_t session;           /* EVENT, REPLY, DETACHED */
  int worker;                 /* RELAY */
  sb_cmd_t *cmd;              /* RELAY: owned by the list until taken (set to NULL) */
  const char *name;           /* EVENT: a string literal ("call.offer", ...) */
  json_t *data;               /* EVENT, REPLY: owned by the list until taken (set to NULL) */
  char tenant[SB_ID_MAX + 1]; /* AUDIT, DETACHED (the participant's) */
  char user[SB_ID_MAX + 1];   /* AUDIT, DETACHED */
  char room[SB_ID_LEN];       /* AUDIT, DETACHED, ROOM_EMPTY */
  char reason[48];            /* AUDIT, DETACHED (why it left, as the others are told) */
} sb_call_action_t;

typedef struct sb_call_actions {
  sb_call_action_t *items;
  size_t len, cap;
} sb_call_actions_t;

/** Makes an empty list. */
void sb_call_actions_init(sb_call_actions_t *a);
/** Frees the items' commands and data; the list stays usable. Accepts NULL. */
void sb_call_actions_clear(sb_call_actions_t *a);
/** sb_call_actions_clear() and release of the array. Accepts NULL. */
void sb_call_actions_free(sb_call_actions_t *a);
/** Drops (and frees) the items from index `len` on: undoes a failed step. */
void sb_call_actions_truncate(sb_call_actions_t *a, size_t len);
/** Moves the items of `from` from index `start` on to the end of `to` (`from` keeps the ones
 * before). 0 or -1 (then `from` is unchanged). */
int sb_call_actions_move(sb_call_actions_t *to, sb_call_actions_t *from, size_t start);

/** Appends a relay command; takes `cmd` (freed on failure; NULL is ignored). 0 or -1. */
int sb_call_actions_relay(sb_call_actions_t *a, int worker, sb_cmd_t *cmd);
/** Appends an event (`name` must outlive the list); takes the reference to `data` (also on
 * failure). 0 or -1. */
int sb_call_actions_event(sb_call_actions_t *a, uint64_t session, const char *name, json_t *data);
/** Appends a request's result; takes the reference to `data` (also on failure). 0 or -1. */
int sb_call_actions_reply(sb_call_actions_t *a, uint64_t session, json_t *data);
/** Appends that `session`, (tenant, user), left its call in `room` for `reason`. 0 or -1. */
int sb_call_actions_detached(sb_call_actions_t *a, uint64_t session, const char *room,
                             const char *tenant, const char *user, const char *reason);
/** Appends an audit write of a revocation. 0 or -1. */
int sb_call_actions_audit(sb_call_actions_t *a, const char *tenant, const char *user,
                          const char *room, const char *reason);
/** Appends that the call in `room` is empty. 0 or -1. */
int sb_call_actions_room_empty(sb_call_actions_t *a, const char *room);

#endif

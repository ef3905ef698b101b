/* Effects: what the network side must do after a model operation.
 *
 * Model operations do no I/O; they append effects here and the caller (the WebSocket server)
 * delivers them once the operation has returned, in order: events to users' sessions,
 * revocations of live call admissions, and media policy refreshes of live calls. A failed
 * operation leaves the list as it found it. */
#ifndef SB_EFFECTS_H
#define SB_EFFECTS_H

#include <jansson.h>
#include <stddef.h>

/* Longest tenant, user or room id (bytes, without the NUL). */
#define SB_ID_MAX 64

typedef enum {
  /* Deliver event `name` with `data` to every session of (tenant, user); if the user has none,
   * drop it (rooms and notifications are read again on connect). */
  SB_EFFECT_EVENT = 1,
  /* End the admission of (tenant, user) in `room` at once: stop forwarding to and from the
   * user's transport in that room, close it and tell the client `reason`. A user who is not in
   * a call there is unaffected. */
  SB_EFFECT_REVOKE = 2,
  /* Blocks in `room` changed: re-read sb_model_media_exclusions() for a live call there. */
  SB_EFFECT_MEDIA = 3,
  /* Send webhook event `name` (docs/operations.md, "Webhooks") with the payload fields `data`
   * to `tenant`'s receiver, and `room` if not "". Only the node that made the change sends it:
   * the bus does not carry it (every node would send it again). */
  SB_EFFECT_WEBHOOK = 4,
  /* `tenant`'s webhook configuration changed: every node reloads it (the bus carries it). */
  SB_EFFECT_WEBHOOKS = 5,
} sb_effect_kind_t;

typedef struct {
  sb_effect_kind_t kind;
  char tenant[SB_ID_MAX + 1]; /* EVENT, WEBHOOK: recipient; REVOKE: whose admission ends */
  char user[SB_ID_MAX + 1];
  char room[SB_ID_MAX + 1];   /* REVOKE, MEDIA */
  char name[48];              /* EVENT: "room.member_added", "notification", ... */
  char reason[32];            /* REVOKE: "member_removed", "left", "permission_withdrawn",
                                 "connection_revoked", "blocked", "not_found" */
  json_t *data;               /* EVENT, WEBHOOK: the event's data object, owned by the list */
  long long notification_id;  /* EVENT "notification": after delivering it to a session, call
                                 sb_model_notification_delivered() with this id */
} sb_effect_t;

typedef struct {
  sb_effect_t *items;
  size_t len, cap;
} sb_effects_t;

/** Makes an empty list. */
void sb_effects_init(sb_effects_t *fx);
/** Frees the items and their data; the list stays usable. Accepts NULL. */
void sb_effects_clear(sb_effects_t *fx);
/** sb_effects_clear() and release of the array. Accepts NULL. */
void sb_effects_free(sb_effects_t *fx);
/** Drops the items from index `len` on (used to undo a failed operation). */
void sb_effects_truncate(sb_effects_t *fx, size_t len);

/** Appends an event; takes the reference to `data` (also on failure). 0 or -1. */
int sb_effects_event(sb_effects_t *fx, const char *tenant, const char *user, const char *name,
                     json_t *data);
/** Appends a revocation unless the same (tenant, user, room) is already listed. 0 or -1. */
int sb_effects_revoke(sb_effects_t *fx, const char *tenant, const char *user, const char *room,
                      const char *reason);
/** Appends a webhook event for `tenant` (room may be NULL); takes the reference to `data`
 * (also on failure). 0 or -1. */
int sb_effects_webhook(sb_effects_t *fx, const char *tenant, const char *name, const char *room,
                       json_t *data);
/** Appends that `tenant`'s webhook configuration changed. 0 or -1. */
int sb_effects_webhooks_changed(sb_effects_t *fx, const char *tenant);
/** Appends a media policy refresh of `room` unless one is already listed. 0 or -1. */
int sb_effects_media(sb_effects_t *fx, const char *room);

#endif

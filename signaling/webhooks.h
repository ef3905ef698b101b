/* Webhooks on the signaling loop: which tenants have a receiver (a copy of their configuration,
 * read through the database executor at start and whenever a node changes one), which tenants
 * a live call concerns, and the events themselves: built here as JSON and handed to the sender
 * thread (webhook.h), so a call never waits for a receiver.
 *
 * Call events concern every tenant of the room's members (a shared external room: both
 * companies), each getting its own copy with its own "tenant"; a denied join concerns the
 * user's tenant only. Everything here runs on the signaling loop. */
#ifndef SB_WEBHOOKS_H
#define SB_WEBHOOKS_H

#include <jansson.h>

#include "signaling/app.h"
#include "signaling/prom.h"

/** Starts the sender thread and loads every tenant's configuration (start-up: waits for the
 * database thread). 0 or -1. */
int sb_webhooks_start(sb_app_t *app);
/** Stops the sender (events due now get a short drain) and frees everything. Accepts an app
 * without webhooks. */
void sb_webhooks_stop(sb_app_t *app);
/** Reads `tenant`'s configuration again (NULL: every tenant's), through the executor. */
void sb_webhooks_reload(sb_app_t *app, const char *tenant);

/** Sends event `type` to `tenant`'s receiver, if it has one: the payload is fields (borrowed;
 * may be NULL) plus id, type, time, tenant and room (NULL: none). */
void sb_webhooks_emit(sb_app_t *app, const char *tenant, const char *type, const char *room,
                      json_t *fields);

/* ---- a call's events (fed by call.c) ---- */

/** A join into `room` was admitted: `tenants` (borrowed array of ids, may be NULL) are its
 * members' tenants, added to those the call concerns. Sends call.started if the call is new
 * here, then participant.joined. */
void sb_webhooks_joined(sb_app_t *app, const char *room, json_t *tenants, const char *tenant,
                        const char *user, const char *name);
/** A participant left the call (reason as the others are told). */
void sb_webhooks_left(sb_app_t *app, const char *room, const char *tenant, const char *user,
                      const char *reason);
/** The call in `room` has no participant left on this node: call.ended, and the room is
 * forgotten. */
void sb_webhooks_ended(sb_app_t *app, const char *room);
/** A live participant's admission was revoked (the cut follows). */
void sb_webhooks_revoked(sb_app_t *app, const char *room, const char *tenant, const char *user,
                         const char *reason);
/** The model refused a join (code and the client's message): the user's tenant only. */
void sb_webhooks_denied(sb_app_t *app, const char *room, const char *tenant, const char *user,
                        const char *code, const char *message);

/** The sender's counters as Prometheus text. */
void sb_webhooks_render(sb_app_t *app, sb_prom_t *p);

#endif

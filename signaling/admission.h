/* Where the policy model meets live calls. Admission of (user, room) to a call — the relay
 * forwards nothing until this says yes (brief §7) — and the effects of model changes on live
 * calls: events to users' sessions, revocations (the participant's transport is closed at once),
 * and refreshed media exclusions (blocks). Audit entries are written by the model. */
#ifndef SB_ADMISSION_H
#define SB_ADMISSION_H

#include "signaling/call.h"
#include "signaling/effects.h"
#include "signaling/model.h"

/* What a join needs from the model, read before the call state machine runs it. */
typedef struct {
  const char *denied;      /* NULL: (user, room) admitted; else the stable error code ("not_found",
                              "forbidden", "internal") with the client's message in `why` */
  char why[160];
  sb_user_pair_t *pairs;   /* the room's media exclusions (malloc'd), read only if admitted */
  size_t npairs;
  int pairs_failed;        /* they could not be read: nobody exchanges media (fail closed) */
  json_t *tenants;         /* the room's members' tenants (webhooks), read only if admitted;
                              NULL if they could not be read */
} sb_admission_join_t;

/** Reads the admission of (tenant, user) to `room`'s call and, if admitted, the room's media
 * exclusions (one read for all pairs). Model reads only, so it may run off the signaling loop;
 * free with sb_admission_join_free. */
void sb_admission_load_join(sb_model_t *m, const char *tenant, const char *user, const char *room,
                            sb_admission_join_t *out);
/** Frees what sb_admission_load_join read; accepts NULL. */
void sb_admission_join_free(sb_admission_join_t *j);
/** Reads `room`'s media exclusions in one read into *pairs (malloc'd, free() it). Returns the
 * count or < 0 (then *pairs is NULL: fail closed). */
int sb_admission_load_exclusions(sb_model_t *m, const char *room, sb_user_pair_t **pairs, size_t *n);
/** Carries out the effects of a model operation, in order, and clears the list. */
void sb_admission_apply(sb_app_t *app, sb_effects_t *fx);
/** Delivers the user's pending notifications to a session that just authenticated: submits a
 * job and suspends s until its done has sent them. */
void sb_admission_on_connect(sb_app_t *app, sb_session_t *s);
/** Writes to the audit log a revocation the network side made on its own (the relay closed a
 * transport); submitted, nobody waits for it. */
void sb_admission_audit_revocation(sb_app_t *app, const char *tenant, const char *user,
                                   const char *room, const char *reason);
/** Applies effects another node published (the bus): they are queued behind the database jobs
 * already submitted, so a join whose admission was read before the change is answered first and
 * then cut. Takes the list's items (fx is left empty). */
void sb_admission_apply_remote(sb_app_t *app, sb_effects_t *fx);
/** Re-checks every participant of this node's live calls against the model and cuts those no
 * longer admitted, and re-reads each room's media exclusions: after the bus (re)connected,
 * since revocations published meanwhile were not heard. */
void sb_admission_resync(sb_app_t *app);

#endif

/* Where the policy model meets live calls. Admission of (user, room) to a call — the relay
 * forwards nothing until this says yes (brief §7) — and the effects of model changes on live
 * calls: events to users' sessions, revocations (the participant's transport is closed at once),
 * and refreshed media exclusions (blocks). Audit entries are written by the model. */
#ifndef SB_ADMISSION_H
#define SB_ADMISSION_H

#include "signaling/call.h"
#include "signaling/effects.h"

/** NULL if the user may join the room's call now; else the stable error code ("not_found",
 * "forbidden", "internal", "unavailable") with the client's message in `reason`.
 * TRANSITIONAL: waits for the DB thread (sb_dbq_call_sync) until the call state machine takes
 * the decision as an input. */
const char *sb_admission_check(sb_app_t *app, const sb_token_claims_t *who, const char *room,
                               char *reason, size_t len);
/** Whether two participants of one call may exchange media (no block between them).
 * TRANSITIONAL: waits for the DB thread (sb_dbq_call_sync), one query per pair, until the call
 * state machine loads a room's exclusions once per change. */
int sb_admission_may_exchange(sb_app_t *app, const sb_participant_t *a, const sb_participant_t *b);
/** Carries out the effects of a model operation, in order, and clears the list. On the loop, in
 * a job's done. Delivered-notification marks are submitted to the executor. */
void sb_admission_apply(sb_app_t *app, sb_effects_t *fx);
/** Delivers the user's pending notifications to a session that just authenticated: submits a
 * job and suspends s until its done has sent them. */
void sb_admission_on_connect(sb_app_t *app, sb_session_t *s);
/** Writes to the audit log a revocation the network side made on its own (the relay closed a
 * transport); submitted, nobody waits for it. */
void sb_admission_audit_revocation(sb_app_t *app, const char *tenant, const char *user,
                                   const char *room, const char *reason);

#endif

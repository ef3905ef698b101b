/* Where the policy model meets live calls. Admission of (user, room) to a call — the relay
 * forwards nothing until this says yes (brief §7) — and the effects of model changes on live
 * calls: events to users' sessions, revocations (the participant's transport is closed at once),
 * and refreshed media exclusions (blocks). Audit entries are written by the model. */
#ifndef SB_ADMISSION_H
#define SB_ADMISSION_H

#include "signaling/call.h"
#include "signaling/effects.h"

/** NULL if the user may join the room's call now; else the stable error code ("not_found",
 * "forbidden", "internal") with the client's message in `reason`. */
const char *sb_admission_check(sb_app_t *app, const sb_token_claims_t *who, const char *room,
                               char *reason, size_t len);
/** Whether two participants of one call may exchange media (no block between them). */
int sb_admission_may_exchange(sb_app_t *app, const sb_participant_t *a, const sb_participant_t *b);
/** Carries out the effects of a model operation, in order, and clears the list. */
void sb_admission_apply(sb_app_t *app, sb_effects_t *fx);
/** Delivers the user's pending notifications to a session that just authenticated. */
void sb_admission_on_connect(sb_app_t *app, sb_session_t *s);

#endif

/* Admission of (user, room) to a call: the relay forwards nothing until this says yes (brief
 * §7). Decisions come from the policy model when one is configured; every admission, denial and
 * revocation is audited. */
#ifndef SB_ADMISSION_H
#define SB_ADMISSION_H

#include "signaling/call.h"

/** 0 if the user may join the room's call; else -1 and a reason (a reason starting with '!'
 * means the room must look non-existent to this user). */
int sb_admission_check(sb_app_t *app, const sb_token_claims_t *who, const char *room, char *reason,
                       size_t len);
/** Whether two participants may exchange media (blocks between them forbid it). */
int sb_admission_may_exchange(sb_app_t *app, const sb_participant_t *a, const sb_participant_t *b);
/** Records an admission event in the audit log. */
void sb_admission_audit(sb_app_t *app, const sb_token_claims_t *who, const char *room,
                        const char *action, const char *reason);

#endif

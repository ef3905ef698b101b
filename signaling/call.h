/* Live calls, the shell around the call state machine (signaling/call_sm.c): the call.* methods
 * parse their parameters, load what the machine needs from the model (admission, media
 * exclusions) through signaling/admission.c, run one machine step and carry out its actions in
 * order (relay commands, events and replies to sessions, audit writes). Everything here runs on
 * the signaling loop. */
#ifndef SB_CALL_H
#define SB_CALL_H

#include "signaling/call_sm.h"
#include "signaling/session.h"

int sb_call_m_join(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_answer(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_candidate(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_mute(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_prefer(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_restart_ice(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_leave(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);

/** Methods outside calls (rooms, contacts, blocks, ...): submits the model operation to the
 * executor and returns SB_RPC_PENDING (its done applies the effects and answers through
 * sb_session_complete()), or -1 with err filled for an unknown method. */
int sb_call_dispatch_api(sb_session_t *s, const char *method, json_t *params, json_t **result,
                         sb_rpc_error_t *err);

/** Creates app->calls from the running relay (worker ports), DTLS context (fingerprint) and
 * configuration (limits). 0 or -1. */
int sb_call_start(sb_app_t *app);
/** Frees the calls without telling anyone (sb_call_end_all first). Accepts a never-started app. */
void sb_call_stop(sb_app_t *app);

/** Re-reads the room's media exclusions (blocks) and re-applies them to its live call. */
void sb_call_refresh_media(sb_app_t *app, const char *room);

/** Ends (tenant, user)'s call in `room`, if any: the model revoked the admission (`reason`). */
void sb_call_revoke(sb_app_t *app, const char *tenant, const char *user, const char *room,
                    const char *reason);

/** Removes s from its call without a request (its connection closed: `reason`), if in one. */
void sb_call_leave(sb_session_t *s, const char *reason);

/** Ends the call in `room` (its clients get call.ended with `reason`), if there is one. */
void sb_call_end_room(sb_app_t *app, const char *room, const char *reason);

/** Ends every call (clients get call.ended with `reason`). */
void sb_call_end_all(sb_app_t *app, const char *reason);

/** Handles an event from a relay worker (owns ev). */
void sb_call_on_relay_event(sb_event_t *ev, void *arg);

/** Finds a participant by user in a room's live call, or NULL (valid until the next step). */
const sb_participant_t *sb_call_find(sb_app_t *app, const char *room, const char *tenant,
                                     const char *user);

#endif

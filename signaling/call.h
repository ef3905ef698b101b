/* Live calls: the participants of each room's call, their transports on the relay, and the
 * negotiation of their descriptions (the client offers first, then only the server offers; see
 * docs/protocol.md). Everything here runs on the signaling loop. */
#ifndef SB_CALL_H
#define SB_CALL_H

#include "relay/sdp.h"
#include "signaling/session.h"

typedef enum { SB_SLOT_ACTIVE = 0, SB_SLOT_REMOVED, SB_SLOT_FREE } sb_slot_state_t;

/* One m-line the server added to a subscriber's description for another participant's track. */
typedef struct {
  char mid[32];
  sb_kind_t kind;
  sb_slot_state_t state;
  int removed_rev;        /* the revision whose offer first showed it inactive */
  int resumed;
  int offered_rev;        /* the revision whose offer first carried this assignment, 0 = none yet */
  uint64_t consumer;
  uint64_t pub_transport;
  uint32_t producer_id;
  uint32_t ssrc;
  uint32_t rtx_ssrc;      /* 0 without RTX */
  char stream[64];        /* msid stream id = the publisher's user id */
  char track[96];
} sb_slot_t;

/* A track the participant publishes (one of its own m-lines). */
typedef struct {
  char mid[32];
  sb_kind_t kind;
  uint32_t producer_id;   /* the first layer's */
  uint8_t nlayers;        /* simulcast layers, 0 without simulcast */
} sb_pub_t;

#define SB_SIMULCAST_LAYERS 3

struct sb_participant {
  sb_session_t *session;
  sb_call_room_t *room;
  char user[64], tenant[64], name[128];
  char ctx[200];
  uint64_t transport;
  int worker;
  int connected;
  char ufrag[8], pwd[32];
  uint64_t sdp_session_id;
  int sdp_version;
  sb_sdp_media_t *own;    /* the answer's sections for the client's m-lines */
  int nown;
  sb_pub_t pubs[SB_MAX_PRODUCERS];
  int npubs;
  uint8_t opus_pt, vp8_pt, rtx_pt;
  sb_ext_ids_t ext;
  sb_slot_t *slots;
  int nslots, capslots;
  int revision;           /* of the last offer or answer */
  int offer_pending;
  int offered_mlines;     /* m-lines in the outstanding offer */
  int dirty;              /* another offer is needed once the pending one is answered */
  uint64_t join_ms;
  sb_participant_t *next;
};

struct sb_call_room {
  char id[SB_ID_LEN];
  int worker;
  uint64_t speaker;       /* transport of the active speaker, 0 if none yet */
  sb_participant_t *participants;
  int count;
  sb_call_room_t *next;
};

int sb_call_m_join(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_answer(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_candidate(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_mute(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_prefer(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);
int sb_call_m_leave(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err);

/** Methods outside calls (rooms, contacts, blocks, ...): submits the model operation to the
 * executor and returns SB_RPC_PENDING (its done applies the effects and answers through
 * sb_session_complete()), or -1 with err filled for an unknown method. */
int sb_call_dispatch_api(sb_session_t *s, const char *method, json_t *params, json_t **result,
                         sb_rpc_error_t *err);

/** Re-applies the room's media exclusions (blocks) to its live call. */
void sb_call_refresh_media(sb_app_t *app, const char *room);

/** Removes p from its call: its transport is closed, the others are told and renegotiated. */
void sb_call_leave(sb_participant_t *p, const char *reason);

/** Ends p's call from the server side: the client gets call.ended with `reason`. */
void sb_call_end(sb_participant_t *p, const char *reason);

/** Ends every call (each room is freed with its last participant). */
void sb_call_end_all(sb_app_t *app, const char *reason);

/** Handles an event from a relay worker (owns ev). */
void sb_call_on_relay_event(sb_event_t *ev, void *arg);

/** Finds a participant by user in a room's live call, or NULL. */
sb_participant_t *sb_call_find(sb_app_t *app, const char *room, const char *tenant, const char *user);

/* negotiate.c: building the server's descriptions. */

/** Builds the answer to a client's first offer, filling p's negotiated state and the relay's
 * create command (producers, extension ids, remote fingerprint). Returns the SDP text
 * (malloc'd) or NULL with a reason in err. */
char *sb_negotiate_answer(sb_app_t *app, sb_participant_t *p, const sb_sdp_t *offer,
                          sb_cmd_t *create, char *err, size_t errlen);
/** Builds the next server offer for p (malloc'd text), or NULL on failure. */
char *sb_negotiate_offer(sb_app_t *app, sb_participant_t *p);
/** Checks a client's answer to a server offer; 0 or -1 with a reason. */
int sb_negotiate_check_answer(const sb_participant_t *p, const sb_sdp_t *answer, char *err, size_t errlen);

#endif

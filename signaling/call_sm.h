/* The call state machine: the live calls of this node (rooms, their participants, the
 * subscription slots of each participant's description) and their renegotiation, with no I/O.
 *
 * Each entry point takes its inputs explicitly (the admission decision and the room's media
 * exclusions already loaded, parsed SDP, relay events, the time) and appends what must happen
 * to an action list (signaling/call_actions.h), which the shell (signaling/call.c) carries out
 * in order. The machine reads no model, sends nothing and never frees a participant from
 * inside a loop over participants: one that cannot be renegotiated is ended after the step.
 * Sessions are named by an opaque id, never a pointer: the shell may feed a step whose inputs
 * were loaded while the session went away. The client offers first, then only the server
 * offers (docs/protocol.md). Used on one thread. */
#ifndef SB_CALL_SM_H
#define SB_CALL_SM_H

#include <stdint.h>

#include "relay/relay.h"
#include "relay/sdp.h"
#include "signaling/call_actions.h"
#include "signaling/model.h"

#define SB_CALL_MAX_WORKERS 64

/* A server offer not answered within this time ends the participant's call with
 * "negotiation_failed": a client that cannot apply it (e.g. cannot change a reused m-line's
 * direction) would otherwise block every later renegotiation of its description. */
#define SB_CALL_OFFER_TIMEOUT_MS 10000

/* What negotiation and admission limits need from the rest of the node. */
typedef struct {
  char announce_ip[64];              /* in the host candidate of every description */
  uint16_t ports[SB_CALL_MAX_WORKERS]; /* worker i's UDP port */
  uint16_t tcp_ports[SB_CALL_MAX_WORKERS]; /* worker i's ICE-TCP port, 0: no TCP candidate */
  int workers;
  char fingerprint[128];             /* sha-256 of the relay's DTLS certificate */
  int max_participants;              /* per call */
  int max_video_publishers;          /* per call */
  uint64_t first_id;                 /* transports and consumers are numbered after it */
} sb_call_config_t;

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

typedef struct sb_call_room sb_call_room_t;
typedef struct sb_participant sb_participant_t;
typedef struct sb_call_sm sb_call_sm_t;

struct sb_participant {
  uint64_t session;       /* the shell's id of the participant's session */
  sb_call_room_t *room;
  char user[64], tenant[64], name[128];
  char ctx[200];
  char request[64];       /* the log request id of its call.join */
  uint64_t transport;
  int worker;
  int connected;
  char ufrag[8], pwd[32]; /* the server's ICE credentials in its descriptions */
  int restart_rev;        /* an ICE restart in flight: -1 until its offer is sent, then that
                             offer's revision, until answered; 0 = none */
  uint64_t sdp_session_id;
  int sdp_version;
  sb_sdp_media_t *own;    /* the answer's sections for the client's m-lines */
  int nown;
  sb_pub_t pubs[SB_MAX_PRODUCERS];
  int npubs;
  uint8_t opus_pt, vp8_pt, rtx_pt;
  sb_ext_ids_t ext;
  sb_slot_t *slots;
  int nslots;
  size_t capslots;
  int revision;           /* of the last offer or answer */
  int offer_pending;
  int offer_seen_rev;     /* the pending offer's revision when the clock first saw it ... */
  uint64_t offer_seen_ms; /* ... and when (sb_call_sm_tick) */
  int offered_mlines;     /* m-lines in the outstanding offer */
  int dirty;              /* another offer is needed once the pending one is answered */
  int failed;             /* no offer could be built: ended at the end of the step */
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

/* A room's media exclusions (pairs of users who must not exchange media: blocks), as loaded
 * from the model in one read. `everyone`: they could not be loaded, so nobody exchanges media
 * (fail closed). Borrowed by the entry points, never kept. */
typedef struct {
  const sb_user_pair_t *pairs;
  size_t n;
  int everyone;
} sb_call_exclusions_t;

/* Why a request failed: a stable code ("not_found", "conflict", ...) and the client's message. */
typedef struct {
  const char *code;
  char message[200];
} sb_call_err_t;

/* The inputs of a join, all loaded before the step. */
typedef struct {
  uint64_t session;
  const char *room, *tenant, *user;
  const char *name;          /* display name, "" or NULL: the user id */
  const char *denied;        /* NULL: the model admitted (user, room); else its error code */
  const char *denied_why;    /* ... and message */
  const sb_call_exclusions_t *excl; /* the room's exclusions, read after the admission */
  const sb_sdp_t *offer;     /* the client's offer; NULL if it did not parse: */
  const char *sdp_code, *sdp_why; /* then the error to answer with */
  const char *request;       /* the join's log request id (NULL or "" = none), kept for the
                                relay events of the participant's transport */
  uint64_t now_ms;
} sb_call_join_t;

/** The log request id of the call.join that made `transport`'s participant, "" if none. */
const char *sb_call_sm_request_of(const sb_call_sm_t *sm, uint64_t transport);

/** Makes an empty machine with a copy of cfg; NULL if out of memory. */
sb_call_sm_t *sb_call_sm_create(const sb_call_config_t *cfg);
/** Frees every room and participant without any action (use sb_call_sm_end_all first to tell
 * clients and the relay). Accepts NULL. */
void sb_call_sm_destroy(sb_call_sm_t *sm);

/* Request steps: 0 with actions appended, the last of which for the requester is an
 * SB_CALL_REPLY (the following ones happen after the reply); or -1 with err set and nothing
 * appended. */

/** call.join: checks (in this order) that the session is in no call, the admission, that the
 * user is not in this call from another session, the participant limit, the offer and the
 * video publisher limit; then answers the offer (negotiate.c), creates the transport on the
 * room's worker with admitted = 1 and exchanges tracks with every participant whom the
 * exclusions allow (consumers paused until each subscriber answers the offer carrying them). */
int sb_call_sm_join(sb_call_sm_t *sm, const sb_call_join_t *in, sb_call_actions_t *out,
                    sb_call_err_t *err);
/** call.answer: the client's answer to the server's offer `revision` (answer NULL if it did not
 * parse: sdp_code/sdp_why). Resumes the consumers that offer carried; sends the next offer if
 * tracks changed meanwhile. */
int sb_call_sm_answer(sb_call_sm_t *sm, uint64_t session, long long revision, const sb_sdp_t *answer,
                      const char *sdp_code, const char *sdp_why, sb_call_actions_t *out,
                      sb_call_err_t *err);
/** call.candidate: checks the line (ICE-lite learns the peer's address from its checks). */
int sb_call_sm_candidate(sb_call_sm_t *sm, uint64_t session, const char *candidate,
                         sb_call_actions_t *out, sb_call_err_t *err);
/** call.mute: pauses or resumes the session's published tracks of `kind`; others are told. */
int sb_call_sm_mute(sb_call_sm_t *sm, uint64_t session, sb_kind_t kind, int muted,
                    sb_call_actions_t *out, sb_call_err_t *err);
/** call.prefer: the largest video size the session wants to receive (0: any). */
int sb_call_sm_prefer(sb_call_sm_t *sm, uint64_t session, int max_width, int max_height,
                      sb_call_actions_t *out, sb_call_err_t *err);
/** call.restart_ice: new server ICE credentials for the session's transport. The relay indexes
 * them beside the old ones (SB_CMD_TRANSPORT_ICE_RESTART), the reply follows, then the next
 * offer carries them (after the answer to an outstanding offer, like any change). One restart
 * at a time: "conflict" until the offer carrying it is answered. */
int sb_call_sm_restart_ice(sb_call_sm_t *sm, uint64_t session, sb_call_actions_t *out, sb_call_err_t *err);
/** call.leave: the session leaves its call ("left"). */
int sb_call_sm_leave(sb_call_sm_t *sm, uint64_t session, sb_call_actions_t *out, sb_call_err_t *err);

/* Server-side steps (no reply). */

/** The session leaves its call without a request, e.g. its connection is gone ("disconnected"):
 * like call.leave without a reply. Returns 1 if it was in one, else 0. */
int sb_call_sm_disconnect(sb_call_sm_t *sm, uint64_t session, const char *reason,
                          sb_call_actions_t *out);
/** Ends the session's call from the server side: its transport is closed, the others are told
 * and renegotiated, the client gets call.ended with `reason`. 1 if it was in one, else 0. */
int sb_call_sm_end(sb_call_sm_t *sm, uint64_t session, const char *reason, sb_call_actions_t *out);
/** The model revoked (tenant, user)'s admission to `room`: ends that participant's call with
 * `reason`. 1 if the user was in the room's call here, else 0. */
int sb_call_sm_revoke(sb_call_sm_t *sm, const char *tenant, const char *user, const char *room,
                      const char *reason, sb_call_actions_t *out);
/** The room's exclusions changed: stops media between each pair they now exclude and starts it
 * between each pair they no longer exclude, in one pass; changed participants get an offer. */
void sb_call_sm_refresh_media(sb_call_sm_t *sm, const char *room, const sb_call_exclusions_t *excl,
                              sb_call_actions_t *out);
/** A relay event (borrowed): connected (call.connected), active speaker (everyone in the room
 * is told), closed by the worker on its own (audit write, then the call ends with its reason). */
void sb_call_sm_relay_event(sb_call_sm_t *sm, const sb_event_t *ev, uint64_t now_ms,
                            sb_call_actions_t *out);
/** Periodic step (the shell calls it about once a second): ends with "negotiation_failed" the
 * call of each participant whose offer has been outstanding for SB_CALL_OFFER_TIMEOUT_MS,
 * counted from the first tick that saw it. */
void sb_call_sm_tick(sb_call_sm_t *sm, uint64_t now_ms, sb_call_actions_t *out);
/** Ends every call with `reason`. */
void sb_call_sm_end_all(sb_call_sm_t *sm, const char *reason, sb_call_actions_t *out);

/* Queries (pointers valid until the next step). */

/** The participant of `session`, or NULL. */
const sb_participant_t *sb_call_sm_participant(const sb_call_sm_t *sm, uint64_t session);
/** The participant of (tenant, user) in `room`'s call, or NULL. */
const sb_participant_t *sb_call_sm_find(const sb_call_sm_t *sm, const char *room, const char *tenant,
                                        const char *user);
/** The live calls (rooms with participants), linked by `next`; NULL if none. */
const sb_call_room_t *sb_call_sm_rooms(const sb_call_sm_t *sm);

/** Whether the exclusions keep (ta, ua) and (tb, ub) from exchanging media, in either
 * direction. A pure function over the loaded pairs. */
int sb_call_excluded(const sb_call_exclusions_t *x, const char *ta, const char *ua, const char *tb,
                     const char *ub);

#endif

/* The server's session descriptions (SDP) for one participant: the answer to the client's first
 * offer and the server's later offers. No I/O: what they need from the node (worker ports,
 * announced address, DTLS fingerprint) comes in the call configuration. */
#ifndef SB_NEGOTIATE_H
#define SB_NEGOTIATE_H

#include <stddef.h>

#include "relay/relay.h"
#include "relay/sdp.h"
#include "signaling/call_sm.h"

/** 1 if the offer's m-line `m` asks to be used: it is in the offer's BUNDLE group with a port,
 * or with port 0 and a=bundle-only (RFC 8843 §6). Anything else is answered as rejected. */
int sb_negotiate_offered(const sb_sdp_t *offer, const sb_sdp_media_t *m);

/** Builds the answer to a client's first offer, filling p's negotiated state and the relay's
 * create command (producers, extension ids, remote fingerprint). p->worker chooses the port of
 * the candidate. Returns the SDP text (malloc'd) or NULL with a reason in err: among them an
 * offer without a BUNDLE group (one transport per participant: BUNDLE is required) and a
 * DTLS fingerprint the relay cannot verify. */
char *sb_negotiate_answer(const sb_call_config_t *cfg, sb_participant_t *p, const sb_sdp_t *offer,
                          sb_cmd_t *create, char *err, size_t errlen);
/** Builds the next server offer for p (malloc'd text), or NULL on failure (too many m-lines,
 * out of memory). */
char *sb_negotiate_offer(const sb_call_config_t *cfg, sb_participant_t *p);
/** Checks a client's answer to a server offer; 0 or -1 with a reason. */
int sb_negotiate_check_answer(const sb_participant_t *p, const sb_sdp_t *answer, char *err, size_t errlen);

#endif

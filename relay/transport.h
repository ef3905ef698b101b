/* One participant's media path on a worker: ICE-lite binding, DTLS, SRTP, its producers
 * (incoming tracks) and consumers (outgoing copies of others' tracks). Nothing is forwarded in
 * or out until signaling admits it (brief §7). */
#ifndef SB_TRANSPORT_H
#define SB_TRANSPORT_H

#include <netinet/in.h>

#include "common/log.h"
#include "relay/bwe.h"
#include "relay/dtls.h"
#include "relay/srtp.h"
#include "relay/twcc.h"
#include "relay/env.h"
#include "relay/ice_index.h"

typedef struct sb_transport sb_transport_t;
typedef struct sb_router sb_router_t;
typedef struct sb_producer sb_producer_t;
typedef struct sb_consumer sb_consumer_t;

typedef enum {
  SB_TRANSPORT_NEW = 0,     /* waiting for a valid connectivity check */
  SB_TRANSPORT_ICE,         /* address bound, DTLS handshaking */
  SB_TRANSPORT_CONNECTED,   /* SRTP keyed */
  SB_TRANSPORT_CLOSED,
} sb_transport_state_t;

/* How often a subscriber's estimate is shared among its consumers and layers are chosen. */
#define SB_ALLOCATE_INTERVAL_MS 500

/* Consent (RFC 7675) and set-up limits. Consent is refreshed by a valid connectivity check from
 * the selected address and by SRTP or SRTCP that authenticates; STUN Binding indications
 * (keepalives, RFC 8445 §11) carry no credentials and refresh nothing. */
#define SB_CONSENT_TIMEOUT_MS 30000
#define SB_SETUP_TIMEOUT_MS 30000

struct sb_transport {
  /* What forwarding a packet to it reads and writes, first and together: this line, the path's
   * head and the estimate's send side (three cache lines in all). */
  sb_relay_env_t *env;
  sb_srtp_t srtp;
  sb_transport_state_t state;
  int admitted;
  int has_addr;
  sb_ext_ids_t ext;
  uint8_t first_media_reported;
  uint64_t tx_bytes;            /* media bytes for per-tenant accounting (SB_EV_TRANSPORT_BYTES) */
  uint64_t first_media_ms;      /* the first media packet forwarded to it, 0 = none yet */

  /* What the worker's tick reads of every transport (sb_transport_tick), in one line. */
  uint64_t created_ms, last_consent_ms, last_rr_ms, last_twcc_ms;
  uint64_t last_alloc_ms;       /* the estimate was last shared among the consumers */
  sb_twcc_t *twcc;              /* transport-cc feedback to the publisher, if negotiated */
  int nproducers, nconsumers;
  int worker_index;             /* its place in the worker's array of transports */

  sb_path_t path;               /* the selected pair: remote address, over UDP or a TCP connection */
  sb_transport_t *next_by_addr; /* the worker's index by path.addr, read with it */
  sb_bwe_t bwe;                 /* what the subscriber can take, from its RTCP */

  uint64_t id;
  sb_router_t *router;          /* the worker's bookkeeping: transport.c never follows it */
  uint64_t speaker;             /* the room's active speaker (a transport id), set by its router */
  char ctx[200];
  /* Local ICE credentials: [0] in use; [1] an ICE restart's new set until a valid check uses
   * it (ufrag "" when none). Both are in the worker's index meanwhile. */
  sb_ice_cred_t ice[2];

  sb_dtls_t *dtls;
  uint32_t rtcp_ssrc;           /* sender SSRC of the relay's RTCP on this transport */

  uint64_t rx_bytes;            /* media bytes received, as tx_bytes */
  sb_producer_t *producers[SB_MAX_PRODUCERS];
  sb_consumer_t **consumers;
  size_t capconsumers;

  uint16_t max_width, max_height; /* the subscriber's size preference for simulcast */
  uint64_t rtx_tokens;            /* bytes of retransmissions allowed now */
  uint64_t rtx_refill_ms;
  sb_ratelimit_t log_rl;
  uint64_t rx_reported, tx_reported;

  sb_transport_t *next_in_router;
};

/** Creates a transport (with its producers) from a create command; `env` is borrowed and must
 * outlive it. The caller indexes it and adds it to its router. NULL on failure, with nothing
 * left allocated. */
sb_transport_t *sb_transport_create(sb_relay_env_t *env, const sb_cmd_t *cmd);
/** Closes: tells the peer (DTLS close_notify), detaches consumers of its producers and frees;
 * emits SB_EV_TRANSPORT_CLOSED with `reason` unless `reason` is NULL. The caller unindexes it
 * first. Accepts NULL and a transport that sb_transport_create left half-built. */
void sb_transport_destroy(sb_transport_t *t, const char *reason);

/** A valid connectivity check arrived on `from` (an address over UDP, or a TCP connection).
 * Returns 1 when the selected pair changed (the caller re-indexes the transport by address),
 * else 0. */
int sb_transport_on_check(sb_transport_t *t, const sb_path_t *from, int use_candidate);
/** ICE restart (RFC 8445 §9): indexes `ufrag`/`pwd` in `x` beside the credentials in use,
 * which keep working until a valid check uses the new ones (sb_transport_ice_checked). A new
 * set that was never used is replaced. The path, DTLS and SRTP stay as they are. 0, or -1 if
 * the credentials do not fit. */
int sb_transport_ice_restart(sb_transport_t *t, sb_ice_index_t *x, const char *ufrag, const char *pwd);
/** A valid check authenticated with `used` (one of t->ice): when it is a restart's new set,
 * the old set is unindexed from `x` and the new one is in use. 1 then, else 0. */
int sb_transport_ice_checked(sb_transport_t *t, sb_ice_index_t *x, const sb_ice_cred_t *used);
/** The selected pair's TCP connection closed: the transport has no path until a check selects
 * one again; its consent runs out unless one does. */
void sb_transport_lose_path(sb_transport_t *t);
void sb_transport_on_dtls(sb_transport_t *t, const uint8_t *data, size_t len);
void sb_transport_on_rtp(sb_transport_t *t, uint8_t *data, size_t len);
void sb_transport_on_rtcp(sb_transport_t *t, uint8_t *data, size_t len);
/** Periodic work: timeouts, DTLS retransmission, receiver reports. Returns a close reason when
 * the transport must be closed, else NULL. */
const char *sb_transport_tick(sb_transport_t *t, uint64_t now_ms);

int sb_transport_add_consumer(sb_transport_t *t, sb_consumer_t *c);
void sb_transport_remove_consumer(sb_transport_t *t, sb_consumer_t *c);
sb_consumer_t *sb_transport_find_consumer(sb_transport_t *t, uint64_t id);
sb_consumer_t *sb_transport_consumer_by_ssrc(sb_transport_t *t, uint32_t ssrc);
/* Retransmissions to a subscriber take at most this share of its estimate: with a congested
 * path, answering every NACK would feed the congestion (the lost packets are NACKed, resent and
 * lost again). */
#define SB_RTX_BUDGET_PCT 25
/** Takes `bytes` from the subscriber's retransmission budget: 1 if allowed, 0 if over it. */
int sb_transport_rtx_allow(sb_transport_t *t, size_t bytes, uint64_t now_ms);
/** Protects and sends an RTCP compound packet (plaintext in `buf`, which needs
 * SB_SRTP_MAX_TRAILER bytes of room after len). */
void sb_transport_send_rtcp(sb_transport_t *t, uint8_t *buf, size_t len);

/** The loudness of the transport's loudest unpaused audio producer now (relay/speaker.h). */
uint32_t sb_transport_loudness(const sb_transport_t *t, uint64_t now_ms);

static inline int sb_transport_can_forward(const sb_transport_t *t) {
  return t->state == SB_TRANSPORT_CONNECTED && t->admitted;
}

#endif

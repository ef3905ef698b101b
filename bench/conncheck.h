/* ICE connectivity checks of a controlling agent toward an ICE-lite server (or either role
 * toward a full agent, see `controlled`), with libnice's STUN
 * usage library: Binding requests with USE-CANDIDATE, short-term credentials
 * ("serverufrag:clientufrag", keyed with the server's ice-pwd), responses validated against the
 * transactions we sent. Also answers a check the server might send (ICE-lite servers do not).
 * No I/O: the caller sends what these functions write. */
#ifndef SB_BENCH_CONNCHECK_H
#define SB_BENCH_CONNCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <stun/stunagent.h>

#define SB_CONNCHECK_RTO_US 100000u /* retransmit an unanswered check after 100 ms, doubling */
#define SB_CONNCHECK_TRIES 8

typedef struct {
  StunAgent agent;
  char username[200];        /* serverufrag:clientufrag */
  char remote_pwd[128];      /* key of our requests */
  char local_ufrag[64];
  char local_pwd[128];       /* key of requests sent to us */
  uint64_t tie;
  uint32_t priority;
  uint8_t req[256];          /* the outstanding request, for retransmission */
  size_t req_len;
  int outstanding;
  int tries;
  uint64_t sent_us;          /* first transmission of the outstanding request */
  uint64_t next_us;          /* next retransmission */
  uint64_t rtt_us;           /* of the last answered check */
  StunTransactionId txid;    /* of the outstanding check */
  uint32_t answered, failed; /* checks answered, validation failures seen */
  uint32_t replied;          /* the server's checks we answered */
  uint32_t indications;      /* Binding indications (keepalives) ignored */
  /* set after init when the server is a full agent that offered (Janus's subscriptions): our
   * checks then carry ICE-CONTROLLED and no USE-CANDIDATE, and the server nominates */
  int controlled;
} sb_bench_ice_t;

typedef enum {
  SB_CONNCHECK_IGNORED = 0,  /* not for us (stale transaction, indication) */
  SB_CONNCHECK_SUCCESS,      /* a valid success response to our check */
  SB_CONNCHECK_REPLY,        /* a request to us: send the reply written to `reply` */
  SB_CONNCHECK_ERROR = -1,   /* invalid message, bad integrity or an error response */
} sb_conncheck_result_t;

/** Sets up the agent with both sides' credentials (copied). Returns 0, or -1 if one is empty or
 * too long. */
int sb_bench_ice_init(sb_bench_ice_t *ice, const char *local_ufrag, const char *local_pwd,
                      const char *remote_ufrag, const char *remote_pwd);

/** Builds a new Binding request (USE-CANDIDATE, ICE-CONTROLLING, PRIORITY) into ice->req and
 * returns its length, or -1. It becomes the outstanding check (an older one is forgotten). */
int sb_bench_ice_start_check(sb_bench_ice_t *ice, uint64_t now_us);

/** Returns 1 when the outstanding check should be sent again now (its bytes are ice->req), 0 if
 * not yet, -1 when it has been tried SB_CONNCHECK_TRIES times without an answer. */
int sb_bench_ice_poll(sb_bench_ice_t *ice, uint64_t now_us);

/** Handles a STUN datagram from the server. `reply` (reply_cap bytes) receives an answer to a
 * request; *reply_len is set for SB_CONNCHECK_REPLY. */
sb_conncheck_result_t sb_bench_ice_handle(sb_bench_ice_t *ice, const uint8_t *buf, size_t len,
                                          const struct sockaddr *from, socklen_t fromlen,
                                          uint8_t *reply, size_t reply_cap, size_t *reply_len,
                                          uint64_t now_us);

#endif

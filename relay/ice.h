/* ICE-lite connectivity checks (RFC 8445 §2.5, RFC 7675 consent) on top of libnice's STUN
 * library: validate a Binding request's short-term credentials, MESSAGE-INTEGRITY and
 * FINGERPRINT, find the transport by the local part of USERNAME, and build the response.
 * No I/O: the caller sends the reply and binds the address. */
#ifndef SB_ICE_H
#define SB_ICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Looks up the password for a local ufrag; returns the transport (opaque) or NULL. */
typedef void *(*sb_ice_lookup_cb)(void *arg, const char *ufrag, size_t ufrag_len, const char **pwd);

typedef struct sb_ice sb_ice_t; /* one per worker */

typedef enum {
  SB_ICE_OK = 0,          /* valid check: reply built, *transport set */
  SB_ICE_NOT_REQUEST,     /* a valid STUN message that is not a Binding request: drop */
  SB_ICE_MALFORMED,       /* not STUN, truncated, bad FINGERPRINT */
  SB_ICE_UNKNOWN_USER,    /* no transport with that ufrag */
  SB_ICE_BAD_INTEGRITY,   /* known ufrag, wrong MESSAGE-INTEGRITY */
  SB_ICE_ROLE_CONFLICT,   /* peer claims the controlled role too: a 487 reply was built */
  SB_ICE_KEEPALIVE,       /* a Binding indication (RFC 8445 §11): no reply, no transport */
} sb_ice_result_t;

typedef struct {
  void *transport;        /* from the lookup */
  int use_candidate;      /* USE-CANDIDATE present: the peer nominates this pair */
  uint32_t priority;
} sb_ice_check_t;

sb_ice_t *sb_ice_create(sb_ice_lookup_cb lookup, void *arg);
void sb_ice_destroy(sb_ice_t *ice);

/** Processes one datagram classified as STUN. On SB_ICE_OK or SB_ICE_ROLE_CONFLICT, `reply`
 * (reply_cap bytes; 1280 is enough) holds *reply_len bytes to send back to `from`. A keepalive
 * carries no credentials, so the caller finds its transport by `from`, if at all. */
sb_ice_result_t sb_ice_process(sb_ice_t *ice, uint8_t *buf, size_t len, const struct sockaddr *from,
                               socklen_t fromlen, sb_ice_check_t *check, uint8_t *reply,
                               size_t reply_cap, size_t *reply_len);

const char *sb_ice_result_str(sb_ice_result_t r);

#endif

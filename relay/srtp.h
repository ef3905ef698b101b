/* SRTP/SRTCP sessions with libsrtp2 (replay protection on). One session per direction. */
#ifndef SB_SRTP_H
#define SB_SRTP_H

#include <stddef.h>

#include "relay/dtls.h"

/* Space the caller must leave after a packet before protecting it in place. */
#define SB_SRTP_MAX_TRAILER 148

/* The pair of libsrtp sessions (srtp_t), held by value where it is used: forwarding reaches a
 * session without another pointer to follow. Zeroed: no sessions. */
typedef struct {
  void *in;  /* inbound: the remote key */
  void *out; /* outbound: the local key */
} sb_srtp_t;

/** Initialises libsrtp once per process; 0 or -1. */
int sb_srtp_global_init(void);

/** Creates the pair of sessions for `keys` in `s`: 0, or -1 with `s` zeroed. */
int sb_srtp_init(sb_srtp_t *s, const sb_srtp_keys_t *keys);
/** Frees the sessions; `s` is zeroed. Accepts a zeroed pair. */
void sb_srtp_clear(sb_srtp_t *s);

/** In-place operations; *len is updated. Return 0, or a negative libsrtp status (e.g. replay,
 * authentication failure) for a packet that must be dropped. */
int sb_srtp_unprotect(sb_srtp_t *s, void *buf, int *len);
int sb_srtp_unprotect_rtcp(sb_srtp_t *s, void *buf, int *len);
int sb_srtp_protect(sb_srtp_t *s, void *buf, int *len);
int sb_srtp_protect_rtcp(sb_srtp_t *s, void *buf, int *len);

const char *sb_srtp_profile_name(int profile);

#endif

/* One participant's SRTP/SRTCP contexts (libsrtp2): outbound with the client keys, inbound with
 * the server keys for every SSRC the relay sends (replay protection on, 1024-packet window). */
#ifndef SB_BENCH_SRTPC_H
#define SB_BENCH_SRTPC_H

#include <stddef.h>
#include <stdint.h>

#include <srtp2/srtp.h>

#include "bench/dtlsc.h"

/* Bytes srtp_protect may append (auth tag; no MKI). */
#define SB_SRTP_TRAILER SRTP_MAX_TRAILER_LEN

typedef struct {
  srtp_t tx, rx;
  uint16_t profile;
} sb_bench_srtp_t;

/** libsrtp's global initialisation; call once before threads start. 0 or -1. */
int sb_bench_srtp_global_init(void);

/** Creates the session from exported keys. 0 or -1. */
int sb_bench_srtp_create(sb_bench_srtp_t *s, const sb_bench_srtp_keys_t *keys);

/** Protects in place; *len grows by the tag. The buffer must have SB_SRTP_TRAILER spare bytes.
 * Returns the libsrtp status (0 = ok). */
int sb_bench_srtp_protect(sb_bench_srtp_t *s, uint8_t *buf, int *len, int rtcp);

/** Verifies and decrypts in place. Returns the libsrtp status: 0, or srtp_err_status_replay_fail /
 * replay_old for replays, auth_fail for forgeries. */
int sb_bench_srtp_unprotect(sb_bench_srtp_t *s, uint8_t *buf, int *len, int rtcp);

/** Frees the session; accepts a zeroed one. */
void sb_bench_srtp_free(sb_bench_srtp_t *s);

/** The profile's SDP/IANA name, e.g. "AES_CM_128_HMAC_SHA1_80". */
const char *sb_bench_srtp_profile_name(uint16_t profile);

#endif

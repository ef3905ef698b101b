/* libsrtp2 sessions for the bench's participants. */
#include "bench/srtpc.h"

#include <pthread.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status = -1;

static void init_library(void) {
  init_status = srtp_init() == srtp_err_status_ok ? 0 : -1;
}

int sb_bench_srtp_global_init(void) {
  /* srtp_init fails when called a second time */
  pthread_once(&init_once, init_library);
  return init_status;
}

static int set_policy(srtp_policy_t *p, uint16_t profile) {
  if (profile == SB_SRTP_PROFILE_AES128_CM_SHA1_80) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
  } else if (profile == SB_SRTP_PROFILE_AEAD_AES_128_GCM) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
  } else {
    return -1;
  }
  return 0;
}

int sb_bench_srtp_create(sb_bench_srtp_t *s, const sb_bench_srtp_keys_t *k) {
  srtp_policy_t out, in;
  uint8_t lkey[32], rkey[32];
  int ret = -1;
  memset(s, 0, sizeof *s);
  memset(&out, 0, sizeof out);
  memset(&in, 0, sizeof in);
  if (k->len > sizeof lkey || set_policy(&out, k->profile) < 0 || set_policy(&in, k->profile) < 0)
    return -1;
  memcpy(lkey, k->local, k->len);
  memcpy(rkey, k->remote, k->len);
  out.ssrc.type = ssrc_any_outbound;
  out.key = lkey;
  in.ssrc.type = ssrc_any_inbound;
  in.key = rkey;
  /* a wide window: the relay may reorder a little, and a replay must read as a duplicate */
  in.window_size = 1024;
  /* libsrtp keeps one "any SSRC" template per session, hence a session per direction */
  if (srtp_create(&s->tx, &out) != srtp_err_status_ok) {
    s->tx = NULL;
  } else if (srtp_create(&s->rx, &in) != srtp_err_status_ok) {
    s->rx = NULL;
    srtp_dealloc(s->tx);
    s->tx = NULL;
  } else {
    s->profile = k->profile;
    ret = 0;
  }
  memset(lkey, 0, sizeof lkey);
  memset(rkey, 0, sizeof rkey);
  return ret;
}

int sb_bench_srtp_protect(sb_bench_srtp_t *s, uint8_t *buf, int *len, int rtcp) {
  return rtcp ? (int)srtp_protect_rtcp(s->tx, buf, len) : (int)srtp_protect(s->tx, buf, len);
}

int sb_bench_srtp_unprotect(sb_bench_srtp_t *s, uint8_t *buf, int *len, int rtcp) {
  return rtcp ? (int)srtp_unprotect_rtcp(s->rx, buf, len) : (int)srtp_unprotect(s->rx, buf, len);
}

void sb_bench_srtp_free(sb_bench_srtp_t *s) {
  if (!s)
    return;
  if (s->tx)
    srtp_dealloc(s->tx);
  if (s->rx)
    srtp_dealloc(s->rx);
  s->tx = s->rx = NULL;
}

const char *sb_bench_srtp_profile_name(uint16_t profile) {
  switch (profile) {
  case SB_SRTP_PROFILE_AES128_CM_SHA1_80: return "AES_CM_128_HMAC_SHA1_80";
  case SB_SRTP_PROFILE_AEAD_AES_128_GCM: return "AEAD_AES_128_GCM";
  default: return "none";
  }
}

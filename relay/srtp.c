#include "relay/srtp.h"

#include <srtp2/srtp.h>
#include <string.h>
#include <uv.h>

#include "common/log.h"

static uv_once_t init_once = UV_ONCE_INIT;
static int init_status = -1;

static void init_srtp(void) { init_status = srtp_init() == srtp_err_status_ok ? 0 : -1; }

int sb_srtp_global_init(void) {
  uv_once(&init_once, init_srtp);
  return init_status;
}

static void policy_for(srtp_policy_t *p, int profile, uint8_t *key, int inbound) {
  memset(p, 0, sizeof *p);
  if (profile == SB_SRTP_AEAD_AES_128_GCM) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
  }
  p->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
  p->key = key;
  /* A video burst after loss can reorder by hundreds of packets. */
  p->window_size = 1024;
  /* Retransmissions (NACK answers without RTX) re-send an already protected index. */
  p->allow_repeat_tx = 1;
}

int sb_srtp_init(sb_srtp_t *s, const sb_srtp_keys_t *keys) {
  uint8_t lkey[32], rkey[32];
  srtp_policy_t pin, pout;
  srtp_t in = NULL, out = NULL; /* libsrtp leaves them NULL when it fails */
  memcpy(lkey, keys->local_key, sizeof lkey);
  memcpy(rkey, keys->remote_key, sizeof rkey);
  policy_for(&pin, keys->profile, rkey, 1);
  policy_for(&pout, keys->profile, lkey, 0);
  int ok = srtp_create(&in, &pin) == srtp_err_status_ok && srtp_create(&out, &pout) == srtp_err_status_ok;
  s->in = in;
  s->out = out;
  if (ok)
    return 0;
  sb_error(NULL, "srtp: cannot create session for %s", sb_srtp_profile_name(keys->profile));
  sb_srtp_clear(s);
  return -1;
}

void sb_srtp_clear(sb_srtp_t *s) {
  if (s->in)
    srtp_dealloc(s->in);
  if (s->out)
    srtp_dealloc(s->out);
  s->in = s->out = NULL;
}

int sb_srtp_unprotect(sb_srtp_t *s, void *buf, int *len) {
  srtp_err_status_t st = srtp_unprotect(s->in, buf, len);
  return st == srtp_err_status_ok ? 0 : -(int)st;
}

int sb_srtp_unprotect_rtcp(sb_srtp_t *s, void *buf, int *len) {
  srtp_err_status_t st = srtp_unprotect_rtcp(s->in, buf, len);
  return st == srtp_err_status_ok ? 0 : -(int)st;
}

int sb_srtp_protect(sb_srtp_t *s, void *buf, int *len) {
  srtp_err_status_t st = srtp_protect(s->out, buf, len);
  return st == srtp_err_status_ok ? 0 : -(int)st;
}

int sb_srtp_protect_rtcp(sb_srtp_t *s, void *buf, int *len) {
  srtp_err_status_t st = srtp_protect_rtcp(s->out, buf, len);
  return st == srtp_err_status_ok ? 0 : -(int)st;
}

const char *sb_srtp_profile_name(int profile) {
  switch (profile) {
  case SB_SRTP_AES128_CM_SHA1_80:
    return "AES_CM_128_HMAC_SHA1_80";
  case SB_SRTP_AEAD_AES_128_GCM:
    return "AEAD_AES_128_GCM";
  default:
    return "unknown";
  }
}

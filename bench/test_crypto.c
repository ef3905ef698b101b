/* The bench's DTLS client, SRTP sessions and ICE checks against the real libraries: a DTLS
 * server built here (as the relay would be), libnice's ICE-lite reply path, libsrtp both ways. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stun/usages/ice.h>

#include "bench/conncheck.h"
#include "bench/dtlsc.h"
#include "bench/srtpc.h"
#include "sbtest.h"

static void fill_keys(sb_bench_srtp_keys_t *a, sb_bench_srtp_keys_t *b, uint16_t profile) {
  memset(a, 0, sizeof *a);
  a->profile = profile;
  a->len = profile == SB_SRTP_PROFILE_AEAD_AES_128_GCM ? 28 : 30;
  for (size_t i = 0; i < a->len; i++) {
    a->local[i] = (uint8_t)(i * 7 + 1);
    a->remote[i] = (uint8_t)(i * 13 + 5);
  }
  /* the other side sees the same keys the other way round */
  *b = *a;
  memcpy(b->local, a->remote, a->len);
  memcpy(b->remote, a->local, a->len);
}

static int roundtrip(uint16_t profile) {
  sb_bench_srtp_keys_t ka, kb;
  sb_bench_srtp_t a, b;
  uint8_t pkt[200 + SB_SRTP_TRAILER] = {0x80, 96, 0x12, 0x34, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef};
  int len = 200, ok;
  fill_keys(&ka, &kb, profile);
  if (sb_bench_srtp_global_init() < 0 || sb_bench_srtp_create(&a, &ka) < 0)
    return -1;
  if (sb_bench_srtp_create(&b, &kb) < 0) {
    sb_bench_srtp_free(&a);
    return -2;
  }
  memset(pkt + 12, 0x5a, 188);
  ok = sb_bench_srtp_protect(&a, pkt, &len, 0) == 0 && len > 200 &&
       sb_bench_srtp_unprotect(&b, pkt, &len, 0) == 0 && len == 200 && pkt[100] == 0x5a;
  sb_bench_srtp_free(&a);
  sb_bench_srtp_free(&b);
  return ok ? 0 : -3;
}

SB_TEST(srtp_roundtrip_aes_cm) {
  CHECK_EQ(roundtrip(SB_SRTP_PROFILE_AES128_CM_SHA1_80), 0);
}

SB_TEST(srtp_roundtrip_gcm) {
  CHECK_EQ(roundtrip(SB_SRTP_PROFILE_AEAD_AES_128_GCM), 0);
}

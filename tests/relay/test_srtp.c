/* SRTP and SRTCP sessions with known keys: what one side protects the other side reads; a
 * changed byte, a replay and the wrong key are refused; both profiles. */
#include "relay_fixture.h"
#include "sbtest.h"

static int roundtrip(int profile) {
  sb_srtp_keys_t a = fx_keys(9, 0), b = fx_keys(9, 1);
  a.profile = b.profile = profile;
  if (profile == SB_SRTP_AEAD_AES_128_GCM)
    a.key_len = b.key_len = 28;
  sb_srtp_t relay_s = {0}, peer_s = {0}, *relay = &relay_s, *peer = &peer_s;
  uint8_t buf[SB_PKT_BUF], copy[SB_PKT_BUF];
  int ok = sb_srtp_init(relay, &a) == 0 && sb_srtp_init(peer, &b) == 0;
  size_t n = fx_vp8(buf, 1234, 1, 90, 1, 1, 1);
  int len = (int)n;
  ok = ok && sb_srtp_protect(relay, buf, &len) == 0 && (size_t)len > n;
  memcpy(copy, buf, (size_t)len);
  int clen = len;
  ok = ok && sb_srtp_unprotect(peer, buf, &len) == 0 && (size_t)len == n && sb_rd16(buf + 2) == 1;
  ok = ok && sb_srtp_unprotect(peer, copy, &clen) != 0; /* replay */
  n = fx_vp8(buf, 1234, 2, 180, 2, 0, 1);
  len = (int)n;
  ok = ok && sb_srtp_protect(relay, buf, &len) == 0;
  buf[SB_RTP_HEADER_SIZE + 3] ^= 1;
  ok = ok && sb_srtp_unprotect(peer, buf, &len) != 0; /* tampered */
  /* SRTCP the other way: a PLI from the peer. */
  len = sb_rtcp_build_pli(buf, 64, 1, 1234);
  ok = ok && sb_srtp_protect_rtcp(peer, buf, &len) == 0 && sb_srtp_unprotect_rtcp(relay, buf, &len) == 0 &&
       len == 12 && buf[1] == SB_RTCP_PSFB;
  /* The wrong direction's key: the relay cannot read what it sent itself. */
  len = (int)fx_vp8(buf, 1234, 3, 270, 3, 0, 1);
  ok = ok && sb_srtp_protect(relay, buf, &len) == 0 && sb_srtp_unprotect(relay, buf, &len) != 0;
  sb_srtp_clear(relay);
  sb_srtp_clear(peer);
  return ok;
}

SB_TEST(aes_cm_roundtrip_replay_tamper) {
  CHECK_EQ(sb_srtp_global_init(), 0);
  CHECK(roundtrip(SB_SRTP_AES128_CM_SHA1_80));
}

SB_TEST(aes_gcm_roundtrip_replay_tamper) {
  CHECK_EQ(sb_srtp_global_init(), 0);
  CHECK(roundtrip(SB_SRTP_AEAD_AES_128_GCM));
}

SB_TEST(clear_accepts_a_zeroed_pair_and_zeroes_what_it_frees) {
  sb_srtp_t none = {0}, s;
  sb_srtp_keys_t k = fx_keys(9, 0);
  CHECK_EQ(sb_srtp_global_init(), 0);
  sb_srtp_clear(&none);
  CHECK(!none.in && !none.out);
  CHECK_EQ(sb_srtp_init(&s, &k), 0);
  CHECK(s.in && s.out);
  sb_srtp_clear(&s);
  CHECK(!s.in && !s.out);
}

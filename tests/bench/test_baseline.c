/* The baseline forwarder's header rewrite: a subscriber's copy gets its own SSRC and starts at
 * its own sequence number and timestamp, and everything after the fixed header is left alone. */
#include <string.h>

#include "bench/baseline.h"
#include "relay/rtp.h"
#include "sbtest.h"

/* A packet with a one-byte extension block (mid "1") and a 5-byte payload. */
static size_t packet(uint8_t *b, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  static const uint8_t tail[] = {0xbe, 0xde, 0x00, 0x01, 0x40, '1', 0x00, 0x00, 1, 2, 3, 4, 5};
  sb_rtp_write_fixed(b, 1, 96, seq, ts, ssrc, 1);
  memcpy(b + 12, tail, sizeof tail);
  return 12 + sizeof tail;
}

SB_TEST(rewrite_first_packet_takes_the_copy_values) {
  sb_bench_rewrite_t rw;
  uint8_t b[64], orig[64];
  size_t n = packet(b, 1000, 5000, 0x11111111);
  memcpy(orig, b, n);
  sb_bench_rewrite_init(&rw, 0xabcdef01, 42, 900000);
  CHECK_EQ(sb_bench_rewrite_apply(&rw, b, n), 0);
  CHECK_EQ(sb_rd16(b + 2), 42);
  CHECK_EQ(sb_rd32(b + 4), 900000);
  CHECK_EQ(sb_rd32(b + 8), 0xabcdef01);
  /* first two bytes (V, P, X, CC, M, PT) and everything after the SSRC unchanged */
  CHECK(memcmp(b, orig, 2) == 0);
  CHECK(memcmp(b + 12, orig + 12, n - 12) == 0);
}

SB_TEST(rewrite_keeps_the_offsets_and_wraps) {
  sb_bench_rewrite_t rw;
  uint8_t b[64];
  sb_bench_rewrite_init(&rw, 7, 65534, 0xfffffff0u);
  CHECK_EQ(sb_bench_rewrite_apply(&rw, b, packet(b, 10, 100, 1)), 0);
  CHECK_EQ(sb_rd16(b + 2), 65534);
  /* the next packets, a gap (loss upstream) and a late one keep their distance */
  CHECK_EQ(sb_bench_rewrite_apply(&rw, b, packet(b, 11, 100 + 3000, 1)), 0);
  CHECK_EQ(sb_rd16(b + 2), 65535);
  CHECK_EQ(sb_rd32(b + 4), 0xfffffff0u + 3000);
  CHECK_EQ(sb_bench_rewrite_apply(&rw, b, packet(b, 14, 100 + 6000, 1)), 0);
  CHECK_EQ(sb_rd16(b + 2), 2);
  CHECK_EQ(sb_rd32(b + 4), (uint32_t)(0xfffffff0u + 6000));
  CHECK_EQ(sb_bench_rewrite_apply(&rw, b, packet(b, 9, 100, 1)), 0);
  CHECK_EQ(sb_rd16(b + 2), 65533);
  CHECK_EQ(sb_rd32(b + 8), 7);
}

SB_TEST(rewrite_refuses_what_is_not_rtp) {
  sb_bench_rewrite_t rw;
  uint8_t b[64], orig[64];
  size_t n = packet(b, 1, 2, 3);
  sb_bench_rewrite_init(&rw, 9, 10, 11);
  CHECK_EQ(sb_bench_rewrite_apply(&rw, b, 11), -1); /* shorter than the fixed header */
  b[0] = 0x40 | (b[0] & 0x3f);                       /* version 1 */
  memcpy(orig, b, n);
  CHECK_EQ(sb_bench_rewrite_apply(&rw, b, n), -1);
  CHECK(memcmp(b, orig, n) == 0);
  CHECK(!rw.synced); /* a refused packet does not fix the offsets */
  b[0] = 0x80 | (b[0] & 0x3f);
  CHECK_EQ(sb_bench_rewrite_apply(&rw, b, n), 0);
  CHECK_EQ(sb_rd16(b + 2), 10);
}

#include "relay/rtcp.h"
#include "relay/rtp.h"
#include "sbtest.h"

/* Iterates `b` and returns the only item, or fails the check. */
static int one_item(const uint8_t *b, size_t len, sb_rtcp_item_t *item) {
  sb_rtcp_iter_t it;
  sb_rtcp_iter_init(&it, b, len);
  if (sb_rtcp_next(&it, item) != 1)
    return -1;
  return sb_rtcp_next(&it, item) == 0 ? 0 : -1;
}

static int expect_bytes(const uint8_t *got, const uint8_t *want, size_t n) {
  return memcmp(got, want, n) == 0;
}

SB_TEST(iterator_walks_compound_packet) {
  uint8_t b[128];
  sb_rtcp_sr_t sr = {.ssrc = 0x11223344, .ntp = 0x0102030405060708ull, .rtp_ts = 90000,
                     .packets = 7, .octets = 7000};
  int n1 = sb_rtcp_build_sr(b, sizeof b, &sr);
  CHECK_EQ(n1, 28);
  int n2 = sb_rtcp_build_sdes_cname(b + n1, sizeof b - n1, 0x11223344, "cname");
  CHECK(n2 > 0);
  int n3 = sb_rtcp_build_pli(b + n1 + n2, sizeof b - n1 - n2, 1, 2);
  CHECK_EQ(n3, 12);
  sb_rtcp_iter_t it;
  sb_rtcp_item_t item;
  sb_rtcp_iter_init(&it, b, (size_t)(n1 + n2 + n3));
  CHECK_EQ(sb_rtcp_next(&it, &item), 1);
  CHECK_EQ(item.pt, SB_RTCP_SR);
  CHECK_EQ(item.len, 28);
  CHECK(item.data == b);
  CHECK_EQ(sb_rtcp_next(&it, &item), 1);
  CHECK_EQ(item.pt, SB_RTCP_SDES);
  CHECK_EQ(item.count, 1);
  CHECK_EQ(sb_rtcp_next(&it, &item), 1);
  CHECK_EQ(item.pt, SB_RTCP_PSFB);
  CHECK_EQ(item.count, 1);
  CHECK_EQ(sb_rtcp_next(&it, &item), 0);
  CHECK_EQ(sb_rtcp_next(&it, &item), 0);
  CHECK_EQ(it.error, 0);
}

SB_TEST(iterator_passes_unknown_types) {
  /* XR (207) with one word of body. */
  uint8_t b[8] = {0x80, 207, 0, 1, 1, 2, 3, 4};
  sb_rtcp_item_t item;
  CHECK_EQ(one_item(b, sizeof b, &item), 0);
  CHECK_EQ(item.pt, 207);
  CHECK_EQ(item.len, 8);
}

SB_TEST(iterator_rejects_truncated_header) {
  uint8_t b[16];
  int n = sb_rtcp_build_pli(b, sizeof b, 1, 2);
  sb_rtcp_iter_t it;
  sb_rtcp_item_t item;
  for (size_t cut = 1; cut < 4; cut++) {
    sb_rtcp_iter_init(&it, b, cut);
    CHECK_EQ(sb_rtcp_next(&it, &item), -1);
    CHECK_EQ(it.error, 1);
  }
  /* A good packet followed by 2 stray bytes. */
  sb_rtcp_iter_init(&it, b, (size_t)n + 2);
  CHECK_EQ(sb_rtcp_next(&it, &item), 1);
  CHECK_EQ(sb_rtcp_next(&it, &item), -1);
  /* The iterator stays stopped. */
  CHECK_EQ(sb_rtcp_next(&it, &item), -1);
  /* Empty input is just the end. */
  sb_rtcp_iter_init(&it, b, 0);
  CHECK_EQ(sb_rtcp_next(&it, &item), 0);
  sb_rtcp_iter_init(&it, NULL, 10);
  CHECK_EQ(sb_rtcp_next(&it, &item), 0);
}

SB_TEST(iterator_rejects_version_not_2) {
  uint8_t b[12];
  sb_rtcp_build_pli(b, sizeof b, 1, 2);
  sb_rtcp_item_t item;
  uint8_t versions[] = {0x01, 0x41, 0xc1};
  for (size_t i = 0; i < sizeof versions; i++) {
    b[0] = versions[i];
    CHECK_EQ(one_item(b, sizeof b, &item), -1);
  }
}

SB_TEST(iterator_rejects_length_past_end) {
  uint8_t b[12];
  sb_rtcp_build_pli(b, sizeof b, 1, 2);
  sb_rtcp_item_t item;
  CHECK_EQ(one_item(b, 11, &item), -1);
  CHECK_EQ(one_item(b, 8, &item), -1);
  b[3] = 3; /* 16 bytes claimed */
  CHECK_EQ(one_item(b, 12, &item), -1);
  sb_wr16(b + 2, 0xffff);
  CHECK_EQ(one_item(b, 12, &item), -1);
}

SB_TEST(iterator_rejects_length_smaller_than_type_needs) {
  uint8_t b[64] = {0};
  sb_rtcp_item_t item;
  /* RR with RC=2 but room for one block: 8 + 24 = 32 bytes, length 7. */
  b[0] = 0x82;
  b[1] = SB_RTCP_RR;
  b[3] = 7;
  CHECK_EQ(one_item(b, 32, &item), -1);
  b[0] = 0x81;
  CHECK_EQ(one_item(b, 32, &item), 0);
  /* SR shorter than its sender info. */
  b[0] = 0x80;
  b[1] = SB_RTCP_SR;
  b[3] = 5;
  CHECK_EQ(one_item(b, 24, &item), -1);
  b[3] = 6;
  CHECK_EQ(one_item(b, 28, &item), 0);
  /* SR with one report block announced but absent. */
  b[0] = 0x81;
  CHECK_EQ(one_item(b, 28, &item), -1);
  /* Feedback without the media SSRC. */
  b[0] = 0x81;
  b[1] = SB_RTCP_PSFB;
  b[3] = 1;
  CHECK_EQ(one_item(b, 8, &item), -1);
  b[1] = SB_RTCP_RTPFB;
  CHECK_EQ(one_item(b, 8, &item), -1);
  /* BYE announcing two SSRCs with room for one. */
  b[0] = 0x82;
  b[1] = SB_RTCP_BYE;
  b[3] = 1;
  CHECK_EQ(one_item(b, 8, &item), -1);
  /* APP without its name. */
  b[0] = 0x80;
  b[1] = SB_RTCP_APP;
  b[3] = 1;
  CHECK_EQ(one_item(b, 8, &item), -1);
}

SB_TEST(sr_layout_and_round_trip) {
  uint8_t b[32];
  sb_rtcp_sr_t sr = {.ssrc = 0xaabbccdd, .ntp = 0x0102030405060708ull, .rtp_ts = 0x11121314,
                     .packets = 0x21222324, .octets = 0x31323334};
  CHECK_EQ(sb_rtcp_build_sr(b, 27, &sr), -1);
  CHECK_EQ(sb_rtcp_build_sr(b, sizeof b, &sr), 28);
  const uint8_t want[28] = {0x80, 200,  0,    6,    0xaa, 0xbb, 0xcc, 0xdd, 1,    2,
                            3,    4,    5,    6,    7,    8,    0x11, 0x12, 0x13, 0x14,
                            0x21, 0x22, 0x23, 0x24, 0x31, 0x32, 0x33, 0x34};
  CHECK(expect_bytes(b, want, 28));
  sb_rtcp_item_t item;
  sb_rtcp_sr_t got;
  CHECK_EQ(one_item(b, 28, &item), 0);
  CHECK_EQ(sb_rtcp_parse_sr(&item, &got), 0);
  CHECK(got.ntp == sr.ntp);
  CHECK_EQ(got.ssrc, sr.ssrc);
  CHECK_EQ(got.rtp_ts, sr.rtp_ts);
  CHECK_EQ(got.packets, sr.packets);
  CHECK_EQ(got.octets, sr.octets);
  sb_rtcp_report_block_t rb;
  CHECK_EQ(sb_rtcp_report_block(&item, 0, &rb), -1);
}

SB_TEST(rr_layout_and_round_trip) {
  uint8_t b[8 + 2 * 24];
  sb_rtcp_report_block_t blocks[2] = {
      {.ssrc = 0x01020304, .fraction_lost = 0x40, .cumulative_lost = 0x0a0b0c,
       .highest_seq = 0x00010005, .jitter = 0x99, .lsr = 0x12345678, .dlsr = 0x10000},
      {.ssrc = 5, .cumulative_lost = -2},
  };
  CHECK_EQ(sb_rtcp_build_rr(b, sizeof b - 1, 0xfeedface, blocks, 2), -1);
  CHECK_EQ(sb_rtcp_build_rr(b, sizeof b, 0xfeedface, blocks, 2), 56);
  const uint8_t want[32] = {0x82, 201,  0,    13,   0xfe, 0xed, 0xfa, 0xce, 1,    2,    3,
                            4,    0x40, 0x0a, 0x0b, 0x0c, 0,    1,    0,    5,    0,    0,
                            0,    0x99, 0x12, 0x34, 0x56, 0x78, 0,    1,    0,    0};
  CHECK(expect_bytes(b, want, 32));
  CHECK_EQ(b[8 + 24 + 5], 0xff); /* -2 in 24-bit two's complement */
  CHECK_EQ(b[8 + 24 + 7], 0xfe);
  sb_rtcp_item_t item;
  sb_rtcp_report_block_t rb;
  CHECK_EQ(one_item(b, sizeof b, &item), 0);
  CHECK_EQ(item.count, 2);
  CHECK_EQ(sb_rtcp_report_block(&item, 0, &rb), 0);
  CHECK_EQ(rb.ssrc, 0x01020304);
  CHECK_EQ(rb.fraction_lost, 0x40);
  CHECK_EQ(rb.cumulative_lost, 0x0a0b0c);
  CHECK_EQ(rb.highest_seq, 0x00010005);
  CHECK_EQ(rb.jitter, 0x99);
  CHECK_EQ(rb.lsr, 0x12345678);
  CHECK_EQ(rb.dlsr, 0x10000);
  CHECK_EQ(sb_rtcp_report_block(&item, 1, &rb), 0);
  CHECK_EQ(rb.ssrc, 5);
  CHECK_EQ(rb.cumulative_lost, -2);
  CHECK_EQ(sb_rtcp_report_block(&item, 2, &rb), -1);
  CHECK_EQ(sb_rtcp_report_block(&item, -1, &rb), -1);
  /* An item whose count claims more blocks than its length holds. */
  sb_rtcp_item_t lying = item;
  lying.count = 3;
  CHECK_EQ(sb_rtcp_report_block(&lying, 2, &rb), -1);
}

SB_TEST(rr_clamps_cumulative_lost_and_limits_blocks) {
  uint8_t b[8 + 32 * 24];
  sb_rtcp_report_block_t blocks[32] = {{.cumulative_lost = 0x1000000}, {.cumulative_lost = -0x1000000}};
  CHECK_EQ(sb_rtcp_build_rr(b, sizeof b, 1, blocks, 32), -1);
  CHECK_EQ(sb_rtcp_build_rr(b, sizeof b, 1, blocks, -1), -1);
  CHECK_EQ(sb_rtcp_build_rr(b, sizeof b, 1, NULL, 0), 8);
  CHECK_EQ(sb_rtcp_build_rr(b, sizeof b, 1, blocks, 31), 8 + 31 * 24);
  sb_rtcp_item_t item;
  sb_rtcp_report_block_t rb;
  CHECK_EQ(one_item(b, 8 + 31 * 24, &item), 0);
  CHECK_EQ(sb_rtcp_report_block(&item, 0, &rb), 0);
  CHECK_EQ(rb.cumulative_lost, 0x7fffff);
  CHECK_EQ(sb_rtcp_report_block(&item, 1, &rb), 0);
  CHECK_EQ(rb.cumulative_lost, -0x800000);
}

SB_TEST(sdes_cname_layout) {
  uint8_t b[300];
  CHECK_EQ(sb_rtcp_build_sdes_cname(b, sizeof b, 0x01020304, "abc"), 16);
  const uint8_t want[16] = {0x81, 202, 0, 3, 1, 2, 3, 4, 1, 3, 'a', 'b', 'c', 0, 0, 0};
  CHECK(expect_bytes(b, want, 16));
  /* Items end exactly on a word boundary: a whole word of nulls must follow. */
  memset(b, 0xff, sizeof b);
  CHECK_EQ(sb_rtcp_build_sdes_cname(b, sizeof b, 0x01020304, "ab"), 16);
  const uint8_t want2[16] = {0x81, 202, 0, 3, 1, 2, 3, 4, 1, 2, 'a', 'b', 0, 0, 0, 0};
  CHECK(expect_bytes(b, want2, 16));
  sb_rtcp_item_t item;
  CHECK_EQ(one_item(b, 16, &item), 0);
  CHECK_EQ(item.pt, SB_RTCP_SDES);
  CHECK_EQ(sb_rtcp_build_sdes_cname(b, 15, 1, "ab"), -1);
  char longname[257];
  memset(longname, 'x', 256);
  longname[256] = 0;
  CHECK_EQ(sb_rtcp_build_sdes_cname(b, sizeof b, 1, longname), -1);
  longname[255] = 0;
  CHECK_EQ(sb_rtcp_build_sdes_cname(b, sizeof b, 1, longname), 4 + 264);
}

SB_TEST(pli_layout) {
  uint8_t b[12];
  CHECK_EQ(sb_rtcp_build_pli(b, 11, 1, 2), -1);
  CHECK_EQ(sb_rtcp_build_pli(b, sizeof b, 0x0a0b0c0d, 0x01020304), 12);
  const uint8_t want[12] = {0x81, 206, 0, 2, 0x0a, 0x0b, 0x0c, 0x0d, 1, 2, 3, 4};
  CHECK(expect_bytes(b, want, 12));
  sb_rtcp_item_t item;
  uint32_t s, m;
  CHECK_EQ(one_item(b, 12, &item), 0);
  CHECK_EQ(sb_rtcp_fb_ssrcs(&item, &s, &m), 0);
  CHECK_EQ(s, 0x0a0b0c0d);
  CHECK_EQ(m, 0x01020304);
}

SB_TEST(fir_layout_and_entries) {
  uint8_t b[20];
  CHECK_EQ(sb_rtcp_build_fir(b, 19, 1, 2, 3), -1);
  CHECK_EQ(sb_rtcp_build_fir(b, sizeof b, 0x0a0b0c0d, 0x01020304, 9), 20);
  const uint8_t want[20] = {0x84, 206, 0, 4, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0,
                            0,    0,   1, 2, 3,    4,    9,    0,    0, 0};
  CHECK(expect_bytes(b, want, 20));
  sb_rtcp_item_t item;
  uint32_t ssrcs[2];
  CHECK_EQ(one_item(b, 20, &item), 0);
  CHECK_EQ(sb_rtcp_fir_entries(&item, ssrcs, 2), 1);
  CHECK_EQ(ssrcs[0], 0x01020304);
  CHECK_EQ(sb_rtcp_fir_entries(&item, ssrcs, 0), 0);
  /* Half an entry, or none. */
  b[3] = 3;
  CHECK_EQ(one_item(b, 16, &item), 0);
  CHECK_EQ(sb_rtcp_fir_entries(&item, ssrcs, 2), -1);
  b[3] = 2;
  CHECK_EQ(one_item(b, 12, &item), 0);
  CHECK_EQ(sb_rtcp_fir_entries(&item, ssrcs, 2), -1);
  /* A PLI is not a FIR. */
  sb_rtcp_build_pli(b, sizeof b, 1, 2);
  CHECK_EQ(one_item(b, 12, &item), 0);
  CHECK_EQ(sb_rtcp_fir_entries(&item, ssrcs, 2), -1);
}

static void collect(uint16_t seq, void *arg) {
  uint16_t *out = arg;
  out[1 + out[0]++] = seq;
}

SB_TEST(nack_packs_unsorted_duplicate_input) {
  uint8_t b[64];
  const uint16_t seqs[] = {5, 3, 100, 4, 3, 21, 20, 5};
  int n = sb_rtcp_build_nack(b, sizeof b, 0x0a0b0c0d, 0x01020304, seqs, 8);
  CHECK_EQ(n, 24);
  const uint8_t want[24] = {0x81, 205, 0, 5,    0x0a, 0x0b, 0x0c, 0x0d, 1, 2, 3, 4,
                            0,    3,   0, 0x03, 0,    20,   0,    1,    0, 100, 0, 0};
  CHECK(expect_bytes(b, want, 24));
  sb_rtcp_item_t item;
  uint16_t got[32] = {0};
  CHECK_EQ(one_item(b, (size_t)n, &item), 0);
  CHECK_EQ(sb_rtcp_nack_foreach(&item, collect, got), 6);
  CHECK_EQ(got[0], 6);
  const uint16_t order[6] = {3, 4, 5, 20, 21, 100};
  for (int i = 0; i < 6; i++)
    CHECK_EQ(got[1 + i], order[i]);
  CHECK_EQ(sb_rtcp_nack_foreach(&item, NULL, NULL), 6);
}

SB_TEST(nack_packs_across_wrap_and_blp_edge) {
  uint8_t b[64];
  const uint16_t wrap[] = {1, 65535, 0, 65534};
  CHECK_EQ(sb_rtcp_build_nack(b, sizeof b, 1, 2, wrap, 4), 16);
  CHECK_EQ(sb_rd16(b + 12), 65534);
  CHECK_EQ(sb_rd16(b + 14), 0x0007);
  /* PID + 16 is the last bit of the BLP; PID + 17 starts a new pair. */
  const uint16_t edge[] = {26, 10};
  CHECK_EQ(sb_rtcp_build_nack(b, sizeof b, 1, 2, edge, 2), 16);
  CHECK_EQ(sb_rd16(b + 12), 10);
  CHECK_EQ(sb_rd16(b + 14), 0x8000);
  const uint16_t apart[] = {27, 10};
  CHECK_EQ(sb_rtcp_build_nack(b, sizeof b, 1, 2, apart, 2), 20);
  CHECK_EQ(sb_rd16(b + 12), 10);
  CHECK_EQ(sb_rd16(b + 14), 0);
  CHECK_EQ(sb_rd16(b + 16), 27);
  /* 10 is 25546 after 40000 modulo 2^16 (and 39990 before it): 40000 is the older. */
  const uint16_t spread[] = {10, 40000};
  CHECK_EQ(sb_rtcp_build_nack(b, sizeof b, 1, 2, spread, 2), 20);
  CHECK_EQ(sb_rd16(b + 12), 40000);
  CHECK_EQ(sb_rd16(b + 16), 10);
  const uint16_t near[] = {30000, 10};
  CHECK_EQ(sb_rtcp_build_nack(b, sizeof b, 1, 2, near, 2), 20);
  CHECK_EQ(sb_rd16(b + 12), 10);
  CHECK_EQ(sb_rd16(b + 16), 30000);
}

SB_TEST(nack_rejects_empty_and_small_buffers) {
  uint8_t b[64];
  const uint16_t seqs[] = {1, 100, 200};
  CHECK_EQ(sb_rtcp_build_nack(b, sizeof b, 1, 2, seqs, 0), -1);
  CHECK_EQ(sb_rtcp_build_nack(b, sizeof b, 1, 2, NULL, 1), -1);
  CHECK_EQ(sb_rtcp_build_nack(b, 23, 1, 2, seqs, 3), -1);
  CHECK_EQ(sb_rtcp_build_nack(b, 24, 1, 2, seqs, 3), 24);
}

SB_TEST(nack_foreach_rejects_malformed) {
  uint8_t b[16] = {0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2};
  sb_rtcp_item_t item;
  CHECK_EQ(one_item(b, 12, &item), 0);
  CHECK_EQ(sb_rtcp_nack_foreach(&item, NULL, NULL), -1); /* no FCI */
  b[3] = 3;
  CHECK_EQ(one_item(b, 16, &item), 0);
  CHECK_EQ(sb_rtcp_nack_foreach(&item, NULL, NULL), 1);
  b[0] = 0x8f; /* transport-cc, not a NACK */
  CHECK_EQ(one_item(b, 16, &item), 0);
  CHECK_EQ(sb_rtcp_nack_foreach(&item, NULL, NULL), -1);
  b[0] = 0x81;
  b[1] = SB_RTCP_PSFB;
  CHECK_EQ(one_item(b, 16, &item), 0);
  CHECK_EQ(sb_rtcp_nack_foreach(&item, NULL, NULL), -1);
}

SB_TEST(remb_layout_and_round_trip) {
  uint8_t b[64];
  const uint32_t ssrcs[2] = {0x01020304, 0x05060708};
  CHECK_EQ(sb_rtcp_build_remb(b, 27, 0x0a0b0c0d, 1000000, ssrcs, 2), -1);
  CHECK_EQ(sb_rtcp_build_remb(b, sizeof b, 0x0a0b0c0d, 1000000, ssrcs, 2), 28);
  /* 1e6 = 250000 << 2: exponent 2, mantissa 0x3d090. */
  const uint8_t want[28] = {0x8f, 206, 0,   6,   0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 0, 'R', 'E',
                            'M',  'B', 2,   0x0b, 0xd0, 0x90, 1,    2,    3, 4, 5, 6, 7,   8};
  CHECK(expect_bytes(b, want, 28));
  sb_rtcp_item_t item;
  uint64_t rate;
  uint32_t got[4];
  int n = -1;
  CHECK_EQ(one_item(b, 28, &item), 0);
  CHECK_EQ(sb_rtcp_parse_remb(&item, &rate, got, &n, 4), 0);
  CHECK(rate == 1000000);
  CHECK_EQ(n, 2);
  CHECK_EQ(got[1], 0x05060708);
  CHECK_EQ(sb_rtcp_parse_remb(&item, &rate, got, &n, 1), 0);
  CHECK_EQ(n, 1);
}

SB_TEST(remb_encoding_rounds_down_and_saturates) {
  uint8_t b[64];
  sb_rtcp_item_t item;
  uint64_t rate;
  int n;
  uint64_t cases[][2] = {{0, 0},
                         {262143, 262143},
                         {262144, 262144},
                         {1000001, 1000000},
                         {UINT64_MAX, 0x3ffffull << 46}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_EQ(sb_rtcp_build_remb(b, sizeof b, 1, cases[i][0], NULL, 0), 20);
    CHECK_EQ(one_item(b, 20, &item), 0);
    CHECK_EQ(sb_rtcp_parse_remb(&item, &rate, NULL, &n, 0), 0);
    CHECK(rate == cases[i][1]);
    CHECK_EQ(n, 0);
  }
  /* Exponent 63 with a mantissa of 2 does not fit 64 bits. */
  b[17] = 63 << 2;
  sb_wr16(b + 18, 2);
  CHECK_EQ(sb_rtcp_parse_remb(&item, &rate, NULL, &n, 0), 0);
  CHECK(rate == UINT64_MAX);
  sb_wr16(b + 18, 1);
  CHECK_EQ(sb_rtcp_parse_remb(&item, &rate, NULL, &n, 0), 0);
  CHECK(rate == 1ull << 63);
}

SB_TEST(remb_rejects_malformed) {
  uint8_t b[64];
  sb_rtcp_item_t item;
  uint64_t rate;
  uint32_t got[4];
  int n;
  const uint32_t ssrcs[1] = {7};
  CHECK_EQ(sb_rtcp_build_remb(b, sizeof b, 1, 5000, ssrcs, 1), 24);
  CHECK_EQ(sb_rtcp_build_remb(b, sizeof b, 1, 5000, ssrcs, 256), -1);
  CHECK_EQ(one_item(b, 24, &item), 0);
  b[16] = 2; /* two SSRCs announced, one present */
  CHECK_EQ(sb_rtcp_parse_remb(&item, &rate, got, &n, 4), -1);
  b[16] = 1;
  b[12] = 'X';
  CHECK_EQ(sb_rtcp_parse_remb(&item, &rate, got, &n, 4), -1);
  b[12] = 'R';
  CHECK_EQ(sb_rtcp_parse_remb(&item, &rate, got, &n, 4), 0);
  /* Too short for the REMB fields. */
  b[3] = 3;
  CHECK_EQ(one_item(b, 16, &item), 0);
  CHECK_EQ(sb_rtcp_parse_remb(&item, &rate, got, &n, 4), -1);
  /* FMT 1 is a PLI. */
  sb_rtcp_build_pli(b, sizeof b, 1, 2);
  CHECK_EQ(one_item(b, 12, &item), 0);
  CHECK_EQ(sb_rtcp_parse_remb(&item, &rate, got, &n, 4), -1);
}

SB_TEST(fb_ssrcs_only_for_feedback) {
  uint8_t b[8];
  CHECK_EQ(sb_rtcp_build_rr(b, sizeof b, 1, NULL, 0), 8);
  sb_rtcp_item_t item;
  uint32_t s, m;
  CHECK_EQ(one_item(b, 8, &item), 0);
  CHECK_EQ(sb_rtcp_fb_ssrcs(&item, &s, &m), -1);
  sb_rtcp_sr_t sr;
  CHECK_EQ(sb_rtcp_parse_sr(&item, &sr), -1);
}

SB_TEST(ntp_from_unix_us) {
  CHECK(sb_ntp_from_unix_us(0) == 2208988800ull << 32);
  CHECK(sb_ntp_from_unix_us(1500000) == ((2208988801ull << 32) | 0x80000000u));
  /* 1 us = 2^32 / 1e6 = 4294.97 fraction units, truncated. */
  CHECK(sb_ntp_from_unix_us(1) == ((2208988800ull << 32) | 4294));
  /* 2026-01-01T00:00:00.25Z */
  uint64_t us = 1767225600ull * 1000000 + 250000;
  CHECK(sb_ntp_from_unix_us(us) == (((1767225600ull + 2208988800ull) << 32) | 0x40000000u));
  CHECK_EQ(sb_ntp_mid32(sb_ntp_from_unix_us(us)), (uint32_t)((((1767225600ull + 2208988800ull) << 32) | 0x40000000u) >> 16));
}

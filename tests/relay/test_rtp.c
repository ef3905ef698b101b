#include "relay/rtp.h"
#include "sbtest.h"

/* A 12-byte header: V=2, PT 96, seq 0x1234, ts 0x01020304, SSRC 0xdeadbeef. */
static size_t fixed(uint8_t *b, uint8_t first) {
  sb_rtp_write_fixed(b, 1, 96, 0x1234, 0x01020304, 0xdeadbeef, 0);
  b[0] = first;
  return 12;
}

SB_TEST(classify_follows_rfc7983_first_byte) {
  uint8_t b[2] = {0, 96};
  for (int v = 0; v < 256; v++) {
    b[0] = (uint8_t)v;
    sb_pkt_kind_t k = sb_pkt_classify(b, 2);
    if (v <= 3)
      CHECK_EQ(k, SB_PKT_STUN);
    else if (v >= 20 && v <= 63)
      CHECK_EQ(k, SB_PKT_DTLS);
    else if (v >= 128 && v <= 191)
      CHECK_EQ(k, SB_PKT_RTP);
    else
      CHECK_EQ(k, SB_PKT_UNKNOWN);
  }
  CHECK_EQ(sb_pkt_classify(b, 0), SB_PKT_UNKNOWN);
  CHECK_EQ(sb_pkt_classify(NULL, 10), SB_PKT_UNKNOWN);
}

SB_TEST(classify_splits_rtp_and_rtcp_by_rfc5761) {
  uint8_t b[2] = {0x80, 0};
  for (int v = 0; v < 256; v++) {
    b[1] = (uint8_t)v;
    CHECK_EQ(sb_pkt_classify(b, 2), (v >= 192 && v <= 223) ? SB_PKT_RTCP : SB_PKT_RTP);
  }
  /* Marker bit with PT 96 (0xe0) is RTP; RR (201) with a report count is RTCP. */
  b[1] = 0xe0;
  CHECK_EQ(sb_pkt_classify(b, 2), SB_PKT_RTP);
  b[0] = 0x81;
  b[1] = 201;
  CHECK_EQ(sb_pkt_classify(b, 2), SB_PKT_RTCP);
  /* One byte is not enough to tell RTP from RTCP. */
  CHECK_EQ(sb_pkt_classify(b, 1), SB_PKT_UNKNOWN);
}

SB_TEST(parse_reads_fixed_header) {
  uint8_t b[32];
  size_t n = fixed(b, 0x80);
  memcpy(b + n, "hello", 5);
  sb_rtp_packet_t p;
  CHECK_EQ(sb_rtp_parse(b, n + 5, &p), 0);
  CHECK_EQ(p.marker, 1);
  CHECK_EQ(p.pt, 96);
  CHECK_EQ(p.seq, 0x1234);
  CHECK_EQ(p.ts, 0x01020304);
  CHECK_EQ(p.ssrc, 0xdeadbeef);
  CHECK_EQ(p.header_len, 12);
  CHECK_EQ(p.payload_len, 5);
  CHECK(p.payload == b + 12);
  CHECK(p.ext == NULL);
  CHECK_EQ(p.ext_profile, 0);
  CHECK_EQ(p.pad_len, 0);
  /* Header only, no payload, is valid. */
  CHECK_EQ(sb_rtp_parse(b, 12, &p), 0);
  CHECK_EQ(p.payload_len, 0);
}

SB_TEST(parse_rejects_truncated_header) {
  uint8_t b[12];
  fixed(b, 0x80);
  sb_rtp_packet_t p;
  for (size_t len = 0; len < 12; len++)
    CHECK_EQ(sb_rtp_parse(b, len, &p), -1);
  CHECK_EQ(sb_rtp_parse(NULL, 12, &p), -1);
}

SB_TEST(parse_rejects_version_not_2) {
  uint8_t b[12];
  sb_rtp_packet_t p;
  uint8_t firsts[] = {0x00, 0x40, 0xc0, 0x3f};
  for (size_t i = 0; i < sizeof firsts; i++) {
    fixed(b, firsts[i]);
    CHECK_EQ(sb_rtp_parse(b, 12, &p), -1);
  }
}

SB_TEST(parse_rejects_csrc_count_past_end) {
  uint8_t b[12 + 15 * 4];
  memset(b, 0, sizeof b);
  sb_rtp_packet_t p;
  fixed(b, 0x82); /* CC = 2 needs 8 more bytes */
  CHECK_EQ(sb_rtp_parse(b, 12, &p), -1);
  CHECK_EQ(sb_rtp_parse(b, 19, &p), -1);
  CHECK_EQ(sb_rtp_parse(b, 20, &p), 0);
  CHECK_EQ(p.csrc_count, 2);
  CHECK_EQ(p.header_len, 20);
  fixed(b, 0x8f); /* CC = 15 */
  CHECK_EQ(sb_rtp_parse(b, 12 + 14 * 4, &p), -1);
  CHECK_EQ(sb_rtp_parse(b, 12 + 15 * 4, &p), 0);
}

SB_TEST(parse_rejects_extension_past_end) {
  uint8_t b[64];
  memset(b, 0, sizeof b);
  sb_rtp_packet_t p;
  fixed(b, 0x90);
  /* The 4-byte extension header itself is cut. */
  CHECK_EQ(sb_rtp_parse(b, 12, &p), -1);
  CHECK_EQ(sb_rtp_parse(b, 15, &p), -1);
  sb_wr16(b + 12, 0xBEDE);
  sb_wr16(b + 14, 2); /* 8 bytes of elements */
  CHECK_EQ(sb_rtp_parse(b, 16, &p), -1);
  CHECK_EQ(sb_rtp_parse(b, 23, &p), -1);
  CHECK_EQ(sb_rtp_parse(b, 24, &p), 0);
  CHECK_EQ(p.header_len, 24);
  CHECK_EQ(p.ext_len, 8);
  CHECK(p.ext == b + 16);
  CHECK_EQ(p.ext_profile, 0xBEDE);
  /* A maximal length field on a short packet. */
  sb_wr16(b + 14, 0xffff);
  CHECK_EQ(sb_rtp_parse(b, sizeof b, &p), -1);
  /* CSRCs and extension together. */
  fixed(b, 0x91);
  sb_wr16(b + 16, 0xBEDE);
  sb_wr16(b + 18, 1);
  CHECK_EQ(sb_rtp_parse(b, 23, &p), -1);
  CHECK_EQ(sb_rtp_parse(b, 24, &p), 0);
  CHECK_EQ(p.header_len, 24);
  /* An empty extension block is valid and has no elements. */
  sb_wr16(b + 18, 0);
  CHECK_EQ(sb_rtp_parse(b, 20, &p), 0);
  CHECK(p.ext == NULL);
  CHECK_EQ(p.ext_len, 0);
}

SB_TEST(parse_rejects_bad_padding) {
  uint8_t b[32];
  memset(b, 0, sizeof b);
  sb_rtp_packet_t p;
  fixed(b, 0xa0); /* P bit */
  /* No byte after the header to hold the count. */
  CHECK_EQ(sb_rtp_parse(b, 12, &p), -1);
  /* Count 0. */
  b[19] = 0;
  CHECK_EQ(sb_rtp_parse(b, 20, &p), -1);
  /* Count larger than the 8 bytes after the header. */
  b[19] = 9;
  CHECK_EQ(sb_rtp_parse(b, 20, &p), -1);
  b[19] = 255;
  CHECK_EQ(sb_rtp_parse(b, 20, &p), -1);
  /* Padding that takes the whole body leaves an empty payload. */
  b[19] = 8;
  CHECK_EQ(sb_rtp_parse(b, 20, &p), 0);
  CHECK_EQ(p.payload_len, 0);
  CHECK_EQ(p.pad_len, 8);
  b[19] = 3;
  CHECK_EQ(sb_rtp_parse(b, 20, &p), 0);
  CHECK_EQ(p.payload_len, 5);
  CHECK_EQ(p.pad_len, 3);
  /* Padding may not reach back into the extension block. */
  fixed(b, 0xb0);
  sb_wr16(b + 12, 0xBEDE);
  sb_wr16(b + 14, 1);
  b[23] = 2; /* only 4 bytes after the 20-byte header */
  CHECK_EQ(sb_rtp_parse(b, 24, &p), 0);
  CHECK_EQ(p.payload_len, 2);
  b[23] = 5;
  CHECK_EQ(sb_rtp_parse(b, 24, &p), -1);
}

/* Builds a packet with the given extension profile and element bytes (multiple of 4). */
static size_t with_ext(uint8_t *b, uint16_t profile, const uint8_t *el, size_t n) {
  fixed(b, 0x90);
  sb_wr16(b + 12, profile);
  sb_wr16(b + 14, (uint16_t)(n / 4));
  memcpy(b + 16, el, n);
  memcpy(b + 16 + n, "PAY", 3);
  return 16 + n + 3;
}

SB_TEST(find_ext_one_byte_form) {
  uint8_t b[64];
  /* id 1 len 1, two padding bytes, id 3 len 2, id 14 len 4 */
  const uint8_t el[] = {0x10, 0xaa, 0x00, 0x00, 0x31, 0xbb, 0xcc, 0xe3, 1, 2, 3, 4};
  size_t n = with_ext(b, 0xBEDE, el, sizeof el);
  sb_rtp_packet_t p;
  const uint8_t *v = NULL;
  CHECK_EQ(sb_rtp_parse(b, n, &p), 0);
  CHECK_EQ(p.payload_len, 3);
  CHECK_EQ(sb_rtp_find_ext(&p, 1, &v), 1);
  CHECK_EQ(v[0], 0xaa);
  CHECK_EQ(sb_rtp_find_ext(&p, 3, &v), 2);
  CHECK_EQ(v[0], 0xbb);
  CHECK_EQ(v[1], 0xcc);
  CHECK_EQ(sb_rtp_find_ext(&p, 14, &v), 4);
  CHECK_EQ(v[3], 4);
  CHECK_EQ(sb_rtp_find_ext(&p, 2, &v), -1);
  CHECK_EQ(sb_rtp_find_ext(&p, 0, &v), -1);
  CHECK_EQ(sb_rtp_find_ext(&p, 15, &v), -1);
}

SB_TEST(find_ext_one_byte_id_15_stops_parsing) {
  uint8_t b[64];
  /* id 1, then id 15 (its length must be ignored), then what looks like id 2 */
  const uint8_t el[] = {0x10, 0xaa, 0xf0, 0x20, 0x55, 0, 0, 0};
  size_t n = with_ext(b, 0xBEDE, el, sizeof el);
  sb_rtp_packet_t p;
  const uint8_t *v;
  CHECK_EQ(sb_rtp_parse(b, n, &p), 0);
  CHECK_EQ(sb_rtp_find_ext(&p, 1, &v), 1);
  CHECK_EQ(sb_rtp_find_ext(&p, 2, &v), -1);
}

SB_TEST(find_ext_rejects_element_past_block) {
  uint8_t b[64];
  /* id 1 claims 16 bytes in a 4-byte block */
  const uint8_t el[] = {0x1f, 1, 2, 3};
  size_t n = with_ext(b, 0xBEDE, el, sizeof el);
  sb_rtp_packet_t p;
  const uint8_t *v;
  CHECK_EQ(sb_rtp_parse(b, n, &p), 0);
  CHECK_EQ(sb_rtp_find_ext(&p, 1, &v), -1);
  /* Exactly filling the block is fine. */
  const uint8_t el2[] = {0x12, 1, 2, 3};
  n = with_ext(b, 0xBEDE, el2, sizeof el2);
  CHECK_EQ(sb_rtp_parse(b, n, &p), 0);
  CHECK_EQ(sb_rtp_find_ext(&p, 1, &v), 3);
  /* ID 0 with a non-zero length is not padding: stop. */
  const uint8_t el3[] = {0x01, 0x00, 0x20, 0x77};
  n = with_ext(b, 0xBEDE, el3, sizeof el3);
  CHECK_EQ(sb_rtp_parse(b, n, &p), 0);
  CHECK_EQ(sb_rtp_find_ext(&p, 2, &v), -1);
}

SB_TEST(find_ext_two_byte_form) {
  uint8_t b[64];
  /* padding, id 1 len 0, id 200 len 3, padding, id 7 len 1, padding to 12 */
  const uint8_t el[] = {0x00, 1, 0, 200, 3, 9, 8, 7, 0, 7, 1, 0x42};
  sb_rtp_packet_t p;
  const uint8_t *v;
  uint16_t profiles[] = {0x1000, 0x100f};
  for (int i = 0; i < 2; i++) {
    size_t n = with_ext(b, profiles[i], el, sizeof el);
    CHECK_EQ(sb_rtp_parse(b, n, &p), 0);
    CHECK_EQ(p.ext_profile, profiles[i]);
    CHECK_EQ(sb_rtp_find_ext(&p, 1, &v), 0);
    CHECK_EQ(sb_rtp_find_ext(&p, 200, &v), 3);
    CHECK_EQ(v[0], 9);
    CHECK_EQ(v[2], 7);
    CHECK_EQ(sb_rtp_find_ext(&p, 7, &v), 1);
    CHECK_EQ(v[0], 0x42);
    CHECK_EQ(sb_rtp_find_ext(&p, 15, &v), -1);
  }
  /* Length past the block, and a lone ID byte at the end. */
  const uint8_t bad[] = {5, 3, 1, 2};
  size_t n = with_ext(b, 0x1000, bad, sizeof bad);
  CHECK_EQ(sb_rtp_parse(b, n, &p), 0);
  CHECK_EQ(sb_rtp_find_ext(&p, 5, &v), -1);
  const uint8_t lone[] = {0, 0, 0, 6};
  n = with_ext(b, 0x1000, lone, sizeof lone);
  CHECK_EQ(sb_rtp_parse(b, n, &p), 0);
  CHECK_EQ(sb_rtp_find_ext(&p, 6, &v), -1);
}

SB_TEST(find_ext_ignores_other_profiles) {
  uint8_t b[64];
  const uint8_t el[] = {0x10, 0xaa, 0, 0};
  sb_rtp_packet_t p;
  const uint8_t *v;
  size_t n = with_ext(b, 0x1234, el, sizeof el);
  CHECK_EQ(sb_rtp_parse(b, n, &p), 0);
  CHECK_EQ(sb_rtp_find_ext(&p, 1, &v), -1);
  n = with_ext(b, 0x1010, el, sizeof el);
  CHECK_EQ(sb_rtp_parse(b, n, &p), 0);
  CHECK_EQ(sb_rtp_find_ext(&p, 1, &v), -1);
  /* No extension at all. */
  fixed(b, 0x80);
  CHECK_EQ(sb_rtp_parse(b, 12, &p), 0);
  CHECK_EQ(sb_rtp_find_ext(&p, 1, &v), -1);
}

SB_TEST(ext_writer_round_trips) {
  uint8_t b[64];
  sb_rtp_ext_writer_t w;
  memset(b, 0xff, sizeof b); /* so that the padding check below means something */
  sb_rtp_write_fixed(b, 0, 111, 65535, 0xffffffff, 42, 1);
  sb_rtp_ext_init(&w, b + 12, sizeof b - 12);
  uint8_t lvl = 0x85, mid[] = {'0'};
  uint8_t abs[4] = {1, 2, 3, 4};
  CHECK_EQ(sb_rtp_ext_add(&w, 1, &lvl, 1), 0);
  CHECK_EQ(sb_rtp_ext_add(&w, 4, mid, 1), 0);
  CHECK_EQ(sb_rtp_ext_add(&w, 3, abs, 4), 0);
  int el = sb_rtp_ext_finish(&w);
  CHECK_EQ(el, 4 + 12); /* 2 + 2 + 5 = 9 bytes of elements, padded to 12 */
  CHECK_EQ(b[12], 0xBE);
  CHECK_EQ(b[13], 0xDE);
  CHECK_EQ(sb_rd16(b + 14), 3);
  /* The padding bytes are zero. */
  CHECK_EQ(b[16 + 9], 0);
  CHECK_EQ(b[16 + 11], 0);
  size_t n = 12 + (size_t)el;
  memcpy(b + n, "xy", 2);
  sb_rtp_packet_t p;
  const uint8_t *v;
  CHECK_EQ(sb_rtp_parse(b, n + 2, &p), 0);
  CHECK_EQ(p.seq, 65535);
  CHECK_EQ(p.ts, 0xffffffff);
  CHECK_EQ(p.pt, 111);
  CHECK_EQ(p.marker, 0);
  CHECK_EQ(p.payload_len, 2);
  CHECK_EQ(sb_rtp_find_ext(&p, 1, &v), 1);
  CHECK_EQ(v[0], 0x85);
  CHECK_EQ(sb_rtp_find_ext(&p, 4, &v), 1);
  CHECK_EQ(v[0], '0');
  CHECK_EQ(sb_rtp_find_ext(&p, 3, &v), 4);
  CHECK_EQ(v[3], 4);
}

SB_TEST(ext_writer_pads_exact_and_empty) {
  uint8_t b[32];
  sb_rtp_ext_writer_t w;
  uint8_t v[16] = {0};
  sb_rtp_ext_init(&w, b, sizeof b);
  CHECK_EQ(sb_rtp_ext_finish(&w), 0); /* nothing added: nothing written */
  sb_rtp_ext_init(&w, b, sizeof b);
  CHECK_EQ(sb_rtp_ext_add(&w, 2, v, 3), 0); /* 4 bytes: no padding */
  CHECK_EQ(sb_rtp_ext_finish(&w), 8);
  CHECK_EQ(sb_rd16(b + 2), 1);
}

SB_TEST(ext_writer_rejects_bad_ids_and_overflow) {
  uint8_t b[12];
  sb_rtp_ext_writer_t w;
  uint8_t v[17] = {0};
  sb_rtp_ext_init(&w, b, sizeof b);
  CHECK_EQ(sb_rtp_ext_add(&w, 0, v, 1), -1);
  CHECK_EQ(sb_rtp_ext_add(&w, 15, v, 1), -1);
  CHECK_EQ(sb_rtp_ext_add(&w, 1, v, 0), -1);
  CHECK_EQ(sb_rtp_ext_add(&w, 1, v, 17), -1);
  CHECK_EQ(w.overflow, 0);
  CHECK_EQ(sb_rtp_ext_add(&w, 1, v, 5), 0); /* 6 of 8 bytes */
  CHECK_EQ(sb_rtp_ext_add(&w, 2, v, 2), -1); /* would need 3 */
  CHECK_EQ(w.overflow, 1);
  CHECK_EQ(sb_rtp_ext_finish(&w), -1);
  /* Elements fit but the padding to 32 bits does not. */
  uint8_t c[4 + 6];
  sb_rtp_ext_init(&w, c, sizeof c);
  CHECK_EQ(sb_rtp_ext_add(&w, 1, v, 5), 0);
  CHECK_EQ(sb_rtp_ext_finish(&w), -1);
  /* A buffer smaller than the block header. */
  sb_rtp_ext_init(&w, c, 3);
  CHECK_EQ(sb_rtp_ext_add(&w, 1, v, 1), -1);
  CHECK_EQ(sb_rtp_ext_finish(&w), -1);
}

SB_TEST(seq_helpers_wrap) {
  CHECK_EQ(sb_seq_diff(0, 65535), 1);
  CHECK_EQ(sb_seq_diff(65535, 0), -1);
  CHECK(sb_seq_lt(65530, 3));
  CHECK(!sb_seq_lt(3, 65530));
  CHECK(!sb_seq_lt(7, 7));
  uint8_t b[4];
  sb_wr24(b, 0xabcdef);
  CHECK_EQ(sb_rd24(b), 0xabcdef);
  sb_wr32(b, 0x80000001u);
  CHECK_EQ(sb_rd32(b), 0x80000001u);
}

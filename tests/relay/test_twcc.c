/* Transport-cc feedback: built packets are decoded here per the draft and compared with what
 * arrived. */
#include <string.h>

#include "relay/rtp.h"
#include "relay/twcc.h"
#include "sbtest.h"

typedef struct {
  uint16_t base;
  int count;
  int received[1100];
  int64_t arrival_us[1100]; /* reconstructed */
  uint8_t fb_count;
} decoded_t;

static int decode(const uint8_t *p, int len, decoded_t *d) {
  if (len < 20 || p[0] != (0x80 | 15) || p[1] != 205 || (sb_rd16(p + 2) + 1) * 4 != len)
    return -1;
  d->base = sb_rd16(p + 12);
  d->count = sb_rd16(p + 14);
  int64_t t = (int64_t)sb_rd24(p + 16) * 64000;
  d->fb_count = p[19];
  int syms[1100], n = 0, off = 20;
  while (n < d->count) {
    uint16_t c = sb_rd16(p + off);
    off += 2;
    if (!(c & 0x8000)) { /* run length */
      for (int k = 0; k < (c & 0x1fff) && n < d->count; k++)
        syms[n++] = (c >> 13) & 3;
    } else if (c & 0x4000) {
      for (int k = 0; k < 7 && n < d->count; k++)
        syms[n++] = (c >> (2 * (6 - k))) & 3;
    } else {
      for (int k = 0; k < 14 && n < d->count; k++)
        syms[n++] = (c >> (13 - k)) & 1;
    }
  }
  for (int i = 0; i < d->count; i++) {
    d->received[i] = syms[i] != 0;
    if (syms[i] == 1) {
      t += p[off++] * 250;
    } else if (syms[i] == 2) {
      t += (int16_t)sb_rd16(p + off) * 250;
      off += 2;
    }
    d->arrival_us[i] = syms[i] ? t : -1;
  }
  return off <= len ? 0 : -1;
}

SB_TEST(reports_arrivals_and_losses) {
  static sb_twcc_t t;
  uint8_t buf[1500];
  decoded_t d;
  sb_twcc_init(&t);
  uint64_t now = 5000000;
  for (int i = 0; i < 30; i++) {
    now += 1000 + (uint64_t)(i % 3) * 500;
    if (i != 4 && i != 17)
      sb_twcc_on_packet(&t, (uint16_t)(65520 + i), now); /* wraps past 65535 */
  }
  int len = sb_twcc_build(&t, buf, sizeof buf, 1, 2);
  CHECK(len > 0);
  CHECK_EQ(decode(buf, len, &d), 0);
  CHECK_EQ(d.base, 65520);
  CHECK_EQ(d.count, 30);
  CHECK_EQ(d.received[4], 0);
  CHECK_EQ(d.received[17], 0);
  CHECK_EQ(d.received[5], 1);
  /* Arrival times come back within one 250 us tick. */
  uint64_t at = 5000000;
  for (int i = 0; i < 30; i++) {
    at += 1000 + (uint64_t)(i % 3) * 500;
    if (d.received[i]) {
      int64_t err = d.arrival_us[i] - (int64_t)at;
      CHECK(err > -250 && err < 250);
    }
  }
  CHECK_EQ(sb_twcc_build(&t, buf, sizeof buf, 1, 2), 0); /* nothing new */
}

SB_TEST(next_feedback_continues_and_counts) {
  static sb_twcc_t t;
  uint8_t buf[1500];
  decoded_t d;
  sb_twcc_init(&t);
  sb_twcc_on_packet(&t, 100, 1000000);
  CHECK(sb_twcc_build(&t, buf, sizeof buf, 1, 2) > 0);
  sb_twcc_on_packet(&t, 99, 1000100);  /* late: already reported lost or received */
  sb_twcc_on_packet(&t, 102, 1300000); /* 101 lost; large delta (300 ms) */
  int len = sb_twcc_build(&t, buf, sizeof buf, 1, 2);
  CHECK_EQ(decode(buf, len, &d), 0);
  CHECK_EQ(d.base, 101);
  CHECK_EQ(d.count, 2);
  CHECK_EQ(d.received[0], 0);
  CHECK_EQ(d.fb_count, 1);
  int64_t err = d.arrival_us[1] - 1300000;
  CHECK(err > -250 && err < 250);
}

SB_TEST(reordered_arrival_gives_negative_delta) {
  static sb_twcc_t t;
  uint8_t buf[1500];
  decoded_t d;
  sb_twcc_init(&t);
  sb_twcc_on_packet(&t, 10, 2000000);
  sb_twcc_on_packet(&t, 12, 2001000);
  sb_twcc_on_packet(&t, 11, 2002000); /* seq 11 arrives after 12 */
  int len = sb_twcc_build(&t, buf, sizeof buf, 1, 2);
  CHECK_EQ(decode(buf, len, &d), 0);
  CHECK_EQ(d.count, 3);
  CHECK(d.arrival_us[1] > d.arrival_us[2]);
}

SB_TEST(small_buffer_is_refused) {
  static sb_twcc_t t;
  uint8_t buf[16];
  sb_twcc_init(&t);
  sb_twcc_on_packet(&t, 1, 1000);
  CHECK_EQ(sb_twcc_build(&t, buf, sizeof buf, 1, 2), -1);
}

/* --- the parser, for the feedback subscribers send --- */

typedef struct {
  int n;
  uint16_t seq[1100];
  int received[1100];
  int64_t arrival_us[1100];
} parsed_t;

static void collect(void *arg, uint16_t seq, int received, int64_t arrival_us) {
  parsed_t *p = arg;
  p->seq[p->n] = seq;
  p->received[p->n] = received;
  p->arrival_us[p->n++] = arrival_us;
}

SB_TEST(parser_reads_back_what_the_builder_wrote) {
  static sb_twcc_t t;
  static parsed_t p;
  uint8_t buf[3000];
  sb_twcc_fb_header_t h;
  sb_twcc_init(&t);
  uint64_t now = 5000000;
  for (int i = 0; i < 40; i++) {
    now += i == 20 ? 400000 : 1000 + 37 * i; /* one large delta */
    if (i % 9 != 4)
      sb_twcc_on_packet(&t, (uint16_t)(65530 + i), now); /* wraps past 65535 */
  }
  int len = sb_twcc_build(&t, buf, sizeof buf, 1, 2);
  CHECK(len > 0);
  p.n = 0;
  CHECK_EQ(sb_twcc_parse(buf, (size_t)len, &h, collect, &p), 40);
  CHECK_EQ(h.base_seq, 65530);
  CHECK_EQ(h.count, 40);
  CHECK_EQ(p.n, 40);
  now = 5000000;
  int64_t first = -1, first_parsed = 0;
  for (int i = 0; i < 40; i++) {
    now += i == 20 ? 400000 : 1000 + 37 * i;
    CHECK_EQ(p.seq[i], (uint16_t)(65530 + i));
    CHECK_EQ(p.received[i], i % 9 != 4);
    if (!p.received[i])
      continue;
    if (first < 0)
      first = (int64_t)now, first_parsed = p.arrival_us[i];
    /* Relative arrival times survive within the 250 us resolution. */
    int64_t err = (p.arrival_us[i] - first_parsed) - ((int64_t)now - first);
    CHECK(err > -250 && err < 250);
  }
}

SB_TEST(parser_reads_run_length_and_one_bit_chunks) {
  /* Hand-written as Chromium writes them: a run of 3 "small delta", a run of 2 lost, then a
   * one-bit status vector of 14 (received, lost alternating), deltas of 1 ms (4 units). */
  uint8_t b[64] = {0x8f, 205, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2};
  sb_wr16(b + 12, 100);  /* base seq */
  sb_wr16(b + 14, 19);   /* statuses */
  sb_wr24(b + 16, 10);   /* reference: 640 ms */
  b[19] = 7;
  sb_wr16(b + 20, 0x2003); /* run: symbol 1, length 3 */
  sb_wr16(b + 22, 0x0002); /* run: symbol 0, length 2 */
  sb_wr16(b + 24, 0xaaaa); /* T=1 S=0, bits 10101010101010 */
  size_t off = 26;
  for (int i = 0; i < 3 + 7; i++)
    b[off++] = 4;
  while (off % 4)
    b[off++] = 0;
  sb_wr16(b + 2, (uint16_t)(off / 4 - 1));
  static parsed_t p;
  sb_twcc_fb_header_t h;
  p.n = 0;
  CHECK_EQ(sb_twcc_parse(b, off, &h, collect, &p), 19);
  CHECK_EQ(h.fb_count, 7);
  CHECK_EQ(h.ref_time, 10);
  CHECK_EQ(p.received[0] + p.received[1] + p.received[2], 3);
  CHECK_EQ(p.received[3] + p.received[4], 0);
  CHECK_EQ(p.arrival_us[0], 641000);
  CHECK_EQ(p.arrival_us[2], 643000);
  CHECK_EQ(p.received[5], 1);
  CHECK_EQ(p.received[6], 0);
  CHECK_EQ(p.arrival_us[5], 644000);
  CHECK_EQ(p.arrival_us[17], 650000);
  CHECK_EQ(p.seq[18], 118);
}

SB_TEST(parser_refuses_malformed_feedback) {
  static sb_twcc_t t;
  uint8_t buf[600], bad[600];
  sb_twcc_fb_header_t h;
  sb_twcc_init(&t);
  for (int i = 0; i < 30; i++)
    sb_twcc_on_packet(&t, (uint16_t)i, 1000000 + 1000u * i);
  int len = sb_twcc_build(&t, buf, sizeof buf, 1, 2);
  CHECK(len > 24);
  CHECK_EQ(sb_twcc_parse(buf, (size_t)len, &h, NULL, NULL), 30);
  for (int cut = 0; cut < 20 + 2 * 5 + 29; cut++) /* every truncation before the last delta */
    CHECK_EQ(sb_twcc_parse(buf, (size_t)cut, &h, NULL, NULL), -1);
  memcpy(bad, buf, (size_t)len);
  bad[1] = 206; /* not RTPFB */
  CHECK_EQ(sb_twcc_parse(bad, (size_t)len, &h, NULL, NULL), -1);
  memcpy(bad, buf, (size_t)len);
  sb_wr16(bad + 20, 0xffff); /* two-bit vector with the reserved symbol 3 */
  CHECK_EQ(sb_twcc_parse(bad, (size_t)len, &h, NULL, NULL), -1);
  memcpy(bad, buf, (size_t)len);
  sb_wr16(bad + 20, 0x0000); /* a run of length 0 */
  CHECK_EQ(sb_twcc_parse(bad, (size_t)len, &h, NULL, NULL), -1);
  memcpy(bad, buf, (size_t)len);
  sb_wr16(bad + 14, 5000); /* more statuses than chunks */
  CHECK_EQ(sb_twcc_parse(bad, (size_t)len, &h, NULL, NULL), -1);
}

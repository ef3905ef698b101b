/* Transport-cc feedback: built packets are decoded here per the draft and compared with what
 * arrived. */
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

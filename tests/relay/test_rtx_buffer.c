#include "relay/rtx_buffer.h"
#include "sbtest.h"

#include <stdlib.h>

/* A recognisable packet body for seq. */
static size_t make(uint8_t *b, uint16_t seq, size_t len) {
  for (size_t i = 0; i < len; i++)
    b[i] = (uint8_t)(seq * 7 + i);
  return len;
}

static int holds(sb_rtx_buffer_t *buf, uint16_t seq, size_t len, uint64_t now) {
  uint8_t want[1500];
  const uint8_t *got = NULL;
  make(want, seq, len);
  int n = sb_rtx_buffer_get(buf, seq, now, &got);
  return n == (int)len && memcmp(got, want, len) == 0;
}

SB_TEST(put_then_get_returns_the_copy) {
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(NULL);
  CHECK(buf != NULL);
  uint8_t p[1500];
  make(p, 42, 1200);
  CHECK_EQ(sb_rtx_buffer_put(buf, 42, p, 1200, 0), 0);
  memset(p, 0, sizeof p); /* the caller's buffer is reused; the copy must not change */
  CHECK(holds(buf, 42, 1200, 10));
  const uint8_t *got;
  CHECK_EQ(sb_rtx_buffer_get(buf, 43, 10, &got), -1);
  CHECK_EQ(sb_rtx_buffer_stats(buf)->hits, 1);
  CHECK_EQ(sb_rtx_buffer_stats(buf)->misses, 1);
  CHECK_EQ(sb_rtx_buffer_stats(buf)->stored, 1);
  sb_rtx_buffer_destroy(buf);
  sb_rtx_buffer_destroy(NULL);
}

SB_TEST(packets_expire_after_max_age) {
  sb_rtx_buffer_config_t cfg = {.max_age_ms = 500};
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(&cfg);
  uint8_t p[100];
  make(p, 1, 100);
  CHECK_EQ(sb_rtx_buffer_put(buf, 1, p, 100, 1000), 0);
  CHECK(holds(buf, 1, 100, 1500));
  CHECK(!holds(buf, 1, 100, 1501));
  sb_rtx_buffer_destroy(buf);
}

SB_TEST(ring_overwrites_oldest_slot) {
  sb_rtx_buffer_config_t cfg = {.slots = 16, .slot_size = 64};
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(&cfg);
  uint8_t p[64];
  for (uint16_t s = 0; s <= 16; s++)
    CHECK_EQ(sb_rtx_buffer_put(buf, s, p, make(p, s, 10 + s), 0), 0);
  CHECK(!holds(buf, 0, 10, 0)); /* slot 0 now holds 16 */
  CHECK(holds(buf, 16, 26, 0));
  for (uint16_t s = 1; s < 16; s++)
    CHECK(holds(buf, s, 10 + s, 0));
  sb_rtx_buffer_destroy(buf);
}

SB_TEST(sequence_wrap_keeps_packets) {
  sb_rtx_buffer_config_t cfg = {.slots = 16, .slot_size = 64};
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(&cfg);
  uint8_t p[64];
  for (uint16_t s = 65530; s != 6; s++)
    CHECK_EQ(sb_rtx_buffer_put(buf, s, p, make(p, s, 20), 0), 0);
  for (uint16_t s = 65530; s != 6; s++)
    CHECK(holds(buf, s, 20, 0));
  /* Slot of 65535 is 15; 65535 - 16 = 65519 was never stored. */
  CHECK(!holds(buf, 65519, 20, 0));
  sb_rtx_buffer_destroy(buf);
}

SB_TEST(late_packet_does_not_evict_newer) {
  sb_rtx_buffer_config_t cfg = {.slots = 16, .slot_size = 64, .max_age_ms = 1000};
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(&cfg);
  uint8_t p[64];
  CHECK_EQ(sb_rtx_buffer_put(buf, 20, p, make(p, 20, 30), 0), 0);
  CHECK_EQ(sb_rtx_buffer_put(buf, 4, p, make(p, 4, 30), 10), -1); /* same slot, older */
  CHECK_EQ(sb_rtx_buffer_stats(buf)->stale_put, 1);
  CHECK(holds(buf, 20, 30, 10));
  /* Across the wrap: 65535 is older than 15 (slot 15 both). */
  CHECK_EQ(sb_rtx_buffer_put(buf, 15, p, make(p, 15, 30), 20), 0);
  CHECK_EQ(sb_rtx_buffer_put(buf, 65535, p, make(p, 65535, 30), 20), -1);
  CHECK(holds(buf, 15, 30, 20));
  /* Once the newer one has expired, the slot is free for anything. */
  CHECK_EQ(sb_rtx_buffer_put(buf, 4, p, make(p, 4, 30), 1001), 0);
  CHECK(holds(buf, 4, 30, 1001));
  /* A duplicate of the same seq replaces it. */
  CHECK_EQ(sb_rtx_buffer_put(buf, 4, p, make(p, 4, 31), 1002), 0);
  CHECK(holds(buf, 4, 31, 1002));
  sb_rtx_buffer_destroy(buf);
}

SB_TEST(same_seq_a_wrap_later_is_not_served_stale) {
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(NULL);
  uint8_t p[64];
  CHECK_EQ(sb_rtx_buffer_put(buf, 7, p, make(p, 7, 40), 0), 0);
  /* 65536 packets later the same number is asked for again: the old copy is too old. */
  CHECK(!holds(buf, 7, 40, 70000));
  sb_rtx_buffer_destroy(buf);
}

SB_TEST(rejects_too_big_and_empty) {
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(NULL);
  static uint8_t p[1501];
  CHECK_EQ(sb_rtx_buffer_put(buf, 1, p, 1501, 0), -1);
  CHECK_EQ(sb_rtx_buffer_stats(buf)->too_big, 1);
  CHECK_EQ(sb_rtx_buffer_put(buf, 1, p, 0, 0), -1);
  CHECK_EQ(sb_rtx_buffer_put(buf, 1, NULL, 10, 0), -1);
  CHECK_EQ(sb_rtx_buffer_put(buf, 1, p, make(p, 1, 1500), 0), 0);
  CHECK(holds(buf, 1, 1500, 0));
  sb_rtx_buffer_destroy(buf);
}

SB_TEST(rejects_bad_config) {
  sb_rtx_buffer_config_t bad[] = {
      {.slots = 1000}, {.slots = 8}, {.slots = 65536}, {.slot_size = 10}, {.slot_size = 70000}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK(sb_rtx_buffer_create(&bad[i]) == NULL);
  sb_rtx_buffer_config_t ok = {.slots = 32768, .slot_size = 64};
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(&ok);
  CHECK(buf != NULL);
  sb_rtx_buffer_destroy(buf);
}

SB_TEST(clear_forgets_everything) {
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(NULL);
  uint8_t p[64];
  for (uint16_t s = 0; s < 100; s++)
    sb_rtx_buffer_put(buf, s, p, make(p, s, 50), 0);
  sb_rtx_buffer_clear(buf);
  for (uint16_t s = 0; s < 100; s++)
    CHECK(!holds(buf, s, 50, 0));
  /* And it works again after. */
  CHECK_EQ(sb_rtx_buffer_put(buf, 3, p, make(p, 3, 50), 0), 0);
  CHECK(holds(buf, 3, 50, 0));
  sb_rtx_buffer_destroy(buf);
}

SB_TEST(long_run_with_loss_serves_only_recent_packets) {
  sb_rtx_buffer_config_t cfg = {.slots = 256, .slot_size = 200, .max_age_ms = 1000};
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(&cfg);
  uint8_t p[200];
  /* 200 packets per second (5 ms apart) over 3 wraps, with 1 in 13 never arriving. */
  for (uint32_t i = 0; i < 3 * 65536; i++) {
    uint16_t s = (uint16_t)i;
    uint64_t now = (uint64_t)i * 5;
    if (i % 13 != 0)
      CHECK_EQ(sb_rtx_buffer_put(buf, s, p, make(p, s, 100 + s % 100), now), 0);
    if (i > 300 && i % 97 == 0) {
      uint16_t back = (uint16_t)(s - 100);
      CHECK_EQ(holds(buf, back, 100 + back % 100, now), (i - 100) % 13 != 0);
      /* 256 behind is overwritten or lost. */
      CHECK(!holds(buf, (uint16_t)(s - 256), 100 + (uint16_t)(s - 256) % 100, now));
    }
  }
  sb_rtx_buffer_destroy(buf);
}

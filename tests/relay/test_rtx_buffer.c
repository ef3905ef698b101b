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
  sb_rtx_buffer_config_t bytes[] = {{.slot_size = 1500, .min_bytes = 1000},
                                    {.min_bytes = 65536, .max_bytes = 32768},
                                    {.max_bytes = 128u * 1024 * 1024}};
  for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++)
    CHECK(sb_rtx_buffer_create(&bytes[i]) == NULL);
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

/* Puts `seconds` of packets of `size` bytes at `pps` from time 0 and sequence number 0; every
 * `check_every` packets checks that what is younger than `hold_ms` (and within the slot count) is
 * served intact. */
static void feed(sb_rtx_buffer_t *buf, uint32_t pps, size_t size, uint32_t seconds, uint32_t hold_ms,
                 uint32_t slots) {
  uint8_t p[1500];
  uint32_t n = pps * seconds, back = (uint32_t)((uint64_t)hold_ms * pps / 1000);
  if (back >= slots)
    back = slots - 1;
  for (uint32_t i = 0; i < n; i++) {
    uint64_t now = (uint64_t)i * 1000 / pps;
    uint16_t s = (uint16_t)i;
    CHECK_EQ(sb_rtx_buffer_put(buf, s, p, make(p, s, size - i % 7), now), 0);
    if (i % 50 == 0 && i >= back)
      for (uint32_t k = 0; k <= back; k += 5)
        CHECK(holds(buf, (uint16_t)(i - k), size - (i - k) % 7, now));
  }
}

SB_TEST(a_low_rate_keeps_the_small_ring) {
  /* 290 kbit/s of 1200-byte packets: a lap of 64 KiB lasts almost two seconds. */
  sb_rtx_buffer_config_t cfg = {.slots = 512, .slot_size = 1400, .max_age_ms = 1000};
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(&cfg);
  feed(buf, 30, 1200, 20, 1000, 512);
  CHECK_EQ(sb_rtx_buffer_capacity(buf), 64 * 1024);
  CHECK_EQ(sb_rtx_buffer_stats(buf)->grown, 0);
  sb_rtx_buffer_destroy(buf);
  /* 500 kbit/s: 64 KiB last just over a second, too close to keep every packet of the last one (the
   * ring grows up to an eighth of a lap early); 128 KiB do. */
  buf = sb_rtx_buffer_create(&cfg);
  feed(buf, 52, 1200, 20, 1000, 512);
  CHECK_EQ(sb_rtx_buffer_capacity(buf), 128 * 1024);
  CHECK_EQ(sb_rtx_buffer_stats(buf)->grown, 1);
  sb_rtx_buffer_destroy(buf);
}

SB_TEST(a_high_rate_doubles_the_ring_and_keeps_what_it_held) {
  /* 300 packets/s of about 1200 bytes (2.9 Mbit/s): 64 -> 128 -> 256 -> 512 KiB, where a lap lasts
   * longer than max_age; every packet of the last second is served throughout. */
  sb_rtx_buffer_config_t cfg = {.slots = 512, .slot_size = 1400, .max_age_ms = 1000};
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(&cfg);
  feed(buf, 300, 1200, 10, 1000, 512);
  CHECK_EQ(sb_rtx_buffer_capacity(buf), 512 * 1024);
  CHECK_EQ(sb_rtx_buffer_stats(buf)->grown, 3);
  sb_rtx_buffer_destroy(buf);
}

SB_TEST(max_bytes_bounds_the_ring_and_what_it_serves) {
  sb_rtx_buffer_config_t cfg = {.slots = 512, .slot_size = 1400, .max_age_ms = 1000, .max_bytes = 100 * 1024};
  sb_rtx_buffer_t *buf = sb_rtx_buffer_create(&cfg);
  /* 300 packets/s of 1200 bytes: 100 KiB hold about 85 packets (280 ms). */
  feed(buf, 300, 1200, 5, 250, 512);
  CHECK_EQ(sb_rtx_buffer_capacity(buf), 100 * 1024);
  CHECK_EQ(sb_rtx_buffer_stats(buf)->grown, 1);
  /* Still in its slot and younger than max_age, but its bytes were written over. */
  uint32_t last = 300 * 5 - 1;
  uint64_t now = (uint64_t)last * 1000 / 300;
  uint16_t old = (uint16_t)(last - 150);
  CHECK(!holds(buf, old, 1200 - (last - 150) % 7, now));
  sb_rtx_buffer_destroy(buf);
}

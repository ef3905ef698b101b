#include "relay/speaker.h"
#include "sbtest.h"

SB_TEST(level_smooths_and_goes_stale) {
  sb_level_t l = {0};
  for (int i = 0; i < 50; i++)
    sb_level_update(&l, 20, 1000 + 20u * i);
  uint32_t loud = sb_level_loudness(&l, 2000);
  CHECK(loud > 100 * 16 && loud <= 107 * 16);
  CHECK_EQ(sb_level_loudness(&l, 2000 + 600), 0); /* no packets for 600 ms */
  sb_level_update(&l, 127, 3000);                 /* silence after a gap restarts from 0 */
  CHECK_EQ(sb_level_loudness(&l, 3000), 0);
}

SB_TEST(first_speaker_is_immediate_then_debounced) {
  sb_speaker_t s;
  uint64_t who = 0;
  sb_speaker_init(&s, 600, 60);
  CHECK_EQ(sb_speaker_update(&s, 7, 100 * 16, 1000, &who), 1);
  CHECK_EQ(who, 7);
  /* Another track is loudest for less than the hold time: no change. */
  CHECK_EQ(sb_speaker_update(&s, 9, 110 * 16, 1100, &who), 0);
  CHECK_EQ(sb_speaker_update(&s, 9, 110 * 16, 1600, &who), 0);
  CHECK_EQ(sb_speaker_update(&s, 7, 100 * 16, 1650, &who), 0); /* 7 again: candidate resets */
  CHECK_EQ(sb_speaker_update(&s, 9, 110 * 16, 1700, &who), 0);
  CHECK_EQ(sb_speaker_update(&s, 9, 110 * 16, 2299, &who), 0);
  CHECK_EQ(sb_speaker_update(&s, 9, 110 * 16, 2300, &who), 1);
  CHECK_EQ(who, 9);
}

SB_TEST(silence_keeps_the_last_speaker) {
  sb_speaker_t s;
  uint64_t who = 0;
  sb_speaker_init(&s, 0, 0);
  CHECK_EQ(sb_speaker_update(&s, 3, 90 * 16, 10, &who), 1);
  CHECK_EQ(sb_speaker_update(&s, 0, 0, 5000, &who), 0);
  CHECK_EQ(sb_speaker_update(&s, 4, 20 * 16, 9000, &who), 0); /* under -60 dBov: not speech */
  CHECK_EQ(s.current, 3);
}

/* Sharing a subscriber's estimate among its consumers (relay/allocate.c). */
#include "relay/allocate.h"
#include "sbtest.h"

#define M 20 /* the layer choice's up margin in these tests, % */

static sb_alloc_item_t audio(uint64_t bps) { return (sb_alloc_item_t){.wanted_bps = bps}; }
static sb_alloc_item_t sim(uint64_t wanted, uint64_t min) {
  return (sb_alloc_item_t){.wanted_bps = wanted, .min_bps = min, .simulcast = 1};
}

SB_TEST(fixed_rates_first_then_equal_shares) {
  sb_alloc_item_t it[4] = {audio(40000), audio(40000), sim(1500000, 150000), sim(1500000, 150000)};
  uint64_t b[4];
  CHECK_EQ(sb_allocate(1080000, it, 4, M, b), 3080000); /* the wanted sum */
  CHECK_EQ(b[0], 40000);
  CHECK_EQ(b[1], 40000);
  CHECK_EQ(b[2], 500000);
  CHECK_EQ(b[3], 500000);
}

SB_TEST(what_one_cannot_use_goes_to_the_others) {
  /* The second asked for a small size: it can use 150k + 20%; the first gets the rest. */
  sb_alloc_item_t it[3] = {sim(1500000, 150000), sim(150000, 150000), sim(500000, 150000)};
  uint64_t b[3];
  sb_allocate(2000000, it, 3, M, b);
  CHECK_EQ(b[1], 180000);
  CHECK_EQ(b[2], 600000);
  CHECK_EQ(b[0], 2000000 - 180000 - 600000);
  /* Plenty for everyone: each is capped at what it can use. */
  sb_allocate(50000000, it, 3, M, b);
  CHECK_EQ(b[0], 1800000);
  CHECK_EQ(b[1], 180000);
  CHECK_EQ(b[2], 600000);
}

SB_TEST(active_speaker_first_others_kept_at_their_lowest) {
  sb_alloc_item_t it[4] = {audio(50000), sim(1500000, 150000), sim(1500000, 150000), sim(1500000, 150000)};
  it[2].priority = 1;
  uint64_t b[4];
  /* 1.2 M for video: the two others keep 150k each, the speaker gets the remaining 900k. */
  sb_allocate(1250000, it, 4, M, b);
  CHECK_EQ(b[1], 150000);
  CHECK_EQ(b[3], 150000);
  CHECK_EQ(b[2], 900000);
  /* More room: the speaker is capped at what it can use; the others share the rest. */
  sb_allocate(3050000, it, 4, M, b);
  CHECK_EQ(b[2], 1800000);
  CHECK_EQ(b[1], 600000);
  CHECK_EQ(b[3], 600000);
  /* Not even the others' lowest layers fit: no favour, equal shares. */
  sb_allocate(250000, it, 4, M, b);
  CHECK_EQ(b[1], 66666);
  CHECK_EQ(b[2], 66666);
  CHECK_EQ(b[3], 66666);
}

SB_TEST(cap_rounds_up_to_pass_the_layer_choice) {
  sb_alloc_item_t it[1] = {sim(1500001, 150000)};
  uint64_t b[1];
  sb_allocate(50000000, it, 1, M, b);
  CHECK(b[0] * 100 >= 1500001ull * (100 + M));
  CHECK(b[0] <= 1800002);
}

SB_TEST(paused_and_empty_and_bad_input) {
  sb_alloc_item_t it[2] = {sim(0, 0), sim(1500000, 150000)};
  uint64_t b[2] = {7, 7};
  sb_allocate(1000000, it, 2, M, b);
  CHECK_EQ(b[0], 0);      /* paused: nothing */
  CHECK_EQ(b[1], 1000000);
  CHECK_EQ(sb_allocate(1000000, it, 0, M, b), 0);
  CHECK_EQ(sb_allocate(1000000, it, -1, M, b), 0);
  CHECK_EQ(sb_allocate(1000000, it, SB_ALLOCATE_MAX + 1, M, b), 0);
  /* The estimate under the fixed rates: simulcast gets nothing (its video pauses). */
  sb_alloc_item_t it2[2] = {audio(60000), sim(1500000, 150000)};
  sb_allocate(50000, it2, 2, M, b);
  CHECK_EQ(b[0], 60000);
  CHECK_EQ(b[1], 0);
}

#include "relay/bwe.h"
#include "sbtest.h"

SB_TEST(low_loss_grows_at_most_every_200ms) {
  sb_bwe_t b;
  sb_bwe_init(&b);
  sb_bwe_on_loss(&b, 0, 1000);
  CHECK_EQ(sb_bwe_estimate(&b, 1000), 3240000);
  sb_bwe_on_loss(&b, 0, 1100); /* too soon */
  CHECK_EQ(sb_bwe_estimate(&b, 1100), 3240000);
  sb_bwe_on_loss(&b, 4, 1300);
  CHECK_EQ(sb_bwe_estimate(&b, 1300), 3499200);
}

SB_TEST(moderate_loss_holds_heavy_loss_shrinks) {
  sb_bwe_t b;
  sb_bwe_init(&b);
  sb_bwe_on_loss(&b, 13, 1000); /* ~5%: hold */
  CHECK_EQ(sb_bwe_estimate(&b, 1000), 3000000);
  sb_bwe_on_loss(&b, 128, 2000); /* 50%: down by a quarter */
  CHECK_EQ(sb_bwe_estimate(&b, 2000), 2250000);
  for (int i = 0; i < 100; i++)
    sb_bwe_on_loss(&b, 255, 3000 + 1000u * i);
  CHECK_EQ(sb_bwe_estimate(&b, 200000), SB_BWE_MIN_BPS); /* floor */
}

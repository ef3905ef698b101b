#include "relay/bwe.h"

#define SB_BWE_INCREASE_INTERVAL_MS 200

void sb_bwe_init(sb_bwe_t *b) {
  b->estimate_bps = SB_BWE_START_BPS;
  b->last_update_ms = 0;
}

void sb_bwe_on_loss(sb_bwe_t *b, uint8_t fraction_lost, uint64_t now_ms) {
  /* fraction_lost is loss * 256: 2% ~ 5, 10% ~ 26. */
  if (fraction_lost < 5) {
    if (b->last_update_ms && now_ms - b->last_update_ms < SB_BWE_INCREASE_INTERVAL_MS)
      return;
    b->estimate_bps = b->estimate_bps * 108 / 100;
  } else if (fraction_lost > 26) {
    b->estimate_bps = b->estimate_bps * (512 - fraction_lost) / 512;
  }
  if (b->estimate_bps < SB_BWE_MIN_BPS)
    b->estimate_bps = SB_BWE_MIN_BPS;
  if (b->estimate_bps > SB_BWE_MAX_BPS)
    b->estimate_bps = SB_BWE_MAX_BPS;
  b->last_update_ms = now_ms;
}

uint64_t sb_bwe_estimate(const sb_bwe_t *b, uint64_t now_ms) { return b->estimate_bps; }

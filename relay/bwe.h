/* A subscriber's bandwidth estimate from the loss in its receiver reports (the loss-based half of
 * GCC, draft-ietf-rmcat-gcc §6). It drives the simulcast layer choice. REMB is not used: the relay
 * does not negotiate goog-remb, and Chromium's REMB without abs-send-time starts low and only
 * ramps with traffic, which would pin subscribers to the lowest layer. No I/O; calls take `now`. */
#ifndef SB_BWE_H
#define SB_BWE_H

#include <stdint.h>

#define SB_BWE_START_BPS 3000000u
#define SB_BWE_MIN_BPS 30000u
#define SB_BWE_MAX_BPS 50000000u

typedef struct {
  uint64_t estimate_bps;
  uint64_t last_update_ms;
} sb_bwe_t;

void sb_bwe_init(sb_bwe_t *b);
/** A receiver report said `fraction_lost` (0..255, RFC 3550) for what the relay sent: under
 * 2% the estimate grows 8% (at most once per 200 ms), over 10% it shrinks by half the loss, in
 * between it holds. */
void sb_bwe_on_loss(sb_bwe_t *b, uint8_t fraction_lost, uint64_t now_ms);
/** The estimate now. */
uint64_t sb_bwe_estimate(const sb_bwe_t *b, uint64_t now_ms);

#endif

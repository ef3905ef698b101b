#include "relay/nack.h"
#include "sbtest.h"

static void feed(sb_nack_gen_t *g, uint16_t from, uint16_t to_incl, uint64_t now) {
  for (uint16_t s = from;; s++) {
    sb_nack_gen_received(g, s, now);
    if (s == to_incl)
      break;
  }
}

SB_TEST(in_order_stream_needs_no_nack) {
  sb_nack_gen_t g;
  uint16_t out[8];
  sb_nack_gen_init(&g, NULL);
  feed(&g, 100, 200, 0);
  CHECK_EQ(sb_nack_gen_poll(&g, 0, out, 8), 0);
  CHECK(sb_nack_gen_next_ms(&g) == UINT64_MAX);
  CHECK_EQ(sb_nack_gen_missing(&g), 0);
  CHECK_EQ(g.stats.received, 101);
  CHECK_EQ(sb_nack_gen_take_keyframe_request(&g), 0);
}

SB_TEST(gap_is_nacked_at_once_then_after_rtt) {
  sb_nack_gen_t g;
  uint16_t out[8];
  sb_nack_gen_init(&g, NULL);
  sb_nack_gen_received(&g, 1, 0);
  sb_nack_gen_received(&g, 2, 0);
  CHECK_EQ(sb_nack_gen_received(&g, 5, 10), SB_NACK_IN_ORDER);
  CHECK_EQ(sb_nack_gen_missing(&g), 2);
  CHECK(sb_nack_gen_next_ms(&g) == 10);
  CHECK_EQ(sb_nack_gen_poll(&g, 10, out, 8), 2);
  CHECK_EQ(out[0], 3);
  CHECK_EQ(out[1], 4);
  CHECK(sb_nack_gen_next_ms(&g) == 110);
  CHECK_EQ(sb_nack_gen_poll(&g, 60, out, 8), 0);
  CHECK_EQ(sb_nack_gen_poll(&g, 109, out, 8), 0);
  CHECK_EQ(sb_nack_gen_poll(&g, 110, out, 8), 2);
  CHECK_EQ(sb_nack_gen_received(&g, 3, 130), SB_NACK_RECOVERED);
  CHECK_EQ(g.stats.recovered, 1);
  CHECK_EQ(sb_nack_gen_poll(&g, 210, out, 8), 1);
  CHECK_EQ(out[0], 4);
  CHECK_EQ(g.stats.nacked, 5);
  CHECK_EQ(sb_nack_gen_received(&g, 4, 220), SB_NACK_RECOVERED);
  CHECK(sb_nack_gen_next_ms(&g) == UINT64_MAX);
  /* A second copy of a recovered packet is just late. */
  CHECK_EQ(sb_nack_gen_received(&g, 4, 230), SB_NACK_LATE);
  CHECK_EQ(sb_nack_gen_received(&g, 5, 230), SB_NACK_LATE);
  CHECK_EQ(g.stats.late, 2);
}

SB_TEST(reordering_before_poll_is_not_nacked) {
  sb_nack_gen_t g;
  uint16_t out[8];
  sb_nack_gen_init(&g, NULL);
  sb_nack_gen_received(&g, 10, 0);
  sb_nack_gen_received(&g, 13, 1);
  sb_nack_gen_received(&g, 12, 2);
  CHECK_EQ(sb_nack_gen_received(&g, 11, 3), SB_NACK_RECOVERED);
  CHECK_EQ(g.stats.reordered, 2);
  CHECK_EQ(g.stats.recovered, 0);
  CHECK_EQ(sb_nack_gen_poll(&g, 3, out, 8), 0);
}

SB_TEST(wraps_around_65535) {
  sb_nack_gen_t g;
  uint16_t out[8];
  sb_nack_gen_init(&g, NULL);
  sb_nack_gen_received(&g, 65533, 0);
  sb_nack_gen_received(&g, 65534, 0);
  sb_nack_gen_received(&g, 2, 0);
  CHECK_EQ(sb_nack_gen_poll(&g, 0, out, 8), 3);
  CHECK_EQ(out[0], 65535);
  CHECK_EQ(out[1], 0);
  CHECK_EQ(out[2], 1);
  CHECK_EQ(sb_nack_gen_received(&g, 0, 5), SB_NACK_RECOVERED);
  CHECK_EQ(sb_nack_gen_received(&g, 65535, 5), SB_NACK_RECOVERED);
  CHECK_EQ(sb_nack_gen_received(&g, 65534, 5), SB_NACK_LATE);
  CHECK_EQ(sb_nack_gen_poll(&g, 100, out, 8), 1);
  CHECK_EQ(out[0], 1);
}

SB_TEST(gives_up_after_max_tries) {
  sb_nack_config_t cfg = {.max_age_ms = 60000};
  sb_nack_gen_t g;
  uint16_t out[8];
  sb_nack_gen_init(&g, &cfg);
  sb_nack_gen_received(&g, 1, 0);
  sb_nack_gen_received(&g, 3, 0);
  int sent = 0;
  for (uint64_t t = 0; t <= 2000; t += 50)
    sent += sb_nack_gen_poll(&g, t, out, 8);
  CHECK_EQ(sent, 10);
  CHECK_EQ(sb_nack_gen_missing(&g), 0);
  CHECK_EQ(g.stats.given_up, 1);
  /* The packet arriving after that is late, not recovered. */
  CHECK_EQ(sb_nack_gen_received(&g, 2, 2100), SB_NACK_LATE);
}

SB_TEST(gives_up_after_max_age) {
  sb_nack_config_t cfg = {.rtt_ms = 300};
  sb_nack_gen_t g;
  uint16_t out[8];
  sb_nack_gen_init(&g, &cfg);
  sb_nack_gen_received(&g, 1, 0);
  sb_nack_gen_received(&g, 3, 0);
  int sent = 0;
  for (uint64_t t = 0; t < 1000; t += 50)
    sent += sb_nack_gen_poll(&g, t, out, 8);
  CHECK_EQ(sent, 4); /* 0, 300, 600, 900 */
  CHECK_EQ(sb_nack_gen_missing(&g), 1);
  /* The retry at 1200 would come after expiry at 1000: no timer needed. */
  CHECK(sb_nack_gen_next_ms(&g) == UINT64_MAX);
  CHECK_EQ(sb_nack_gen_poll(&g, 1000, out, 8), 0);
  CHECK_EQ(sb_nack_gen_missing(&g), 0);
  CHECK_EQ(g.stats.given_up, 1);
}

SB_TEST(rtt_sets_retry_interval_with_clamp) {
  sb_nack_gen_t g;
  uint16_t out[8];
  sb_nack_gen_init(&g, NULL);
  sb_nack_gen_set_rtt(&g, 40);
  sb_nack_gen_received(&g, 1, 0);
  sb_nack_gen_received(&g, 3, 0);
  CHECK_EQ(sb_nack_gen_poll(&g, 0, out, 8), 1);
  CHECK_EQ(sb_nack_gen_poll(&g, 39, out, 8), 0);
  CHECK_EQ(sb_nack_gen_poll(&g, 40, out, 8), 1);
  sb_nack_gen_set_rtt(&g, 0);
  CHECK_EQ(g.cfg.rtt_ms, 10);
  sb_nack_gen_set_rtt(&g, 100000);
  CHECK_EQ(g.cfg.rtt_ms, 1000);
}

SB_TEST(poll_respects_max_and_keeps_the_rest_due) {
  sb_nack_gen_t g;
  uint16_t out[4];
  sb_nack_gen_init(&g, NULL);
  sb_nack_gen_received(&g, 0, 0);
  sb_nack_gen_received(&g, 11, 0); /* 1..10 missing */
  CHECK_EQ(sb_nack_gen_poll(&g, 0, out, 4), 4);
  CHECK_EQ(out[0], 1);
  CHECK_EQ(sb_nack_gen_poll(&g, 0, out, 4), 4);
  CHECK_EQ(out[0], 5);
  CHECK_EQ(sb_nack_gen_poll(&g, 0, out, 4), 2);
  CHECK_EQ(out[1], 10);
  CHECK_EQ(sb_nack_gen_poll(&g, 0, out, 4), 0);
  CHECK_EQ(sb_nack_gen_poll(&g, 0, out, 0), 0);
}

SB_TEST(full_list_drops_oldest_and_asks_keyframe) {
  sb_nack_gen_t g;
  uint16_t out[SB_NACK_MAX_MISSING];
  sb_nack_gen_init(&g, NULL);
  sb_nack_gen_received(&g, 65000, 0);
  sb_nack_gen_received(&g, 65201, 0); /* 200 missing: 65001..65200 */
  CHECK_EQ(sb_nack_gen_take_keyframe_request(&g), 0);
  sb_nack_gen_received(&g, 65302, 1); /* 100 more: 65202..65301 */
  CHECK_EQ(sb_nack_gen_missing(&g), SB_NACK_MAX_MISSING);
  CHECK_EQ(g.stats.overflowed, 44);
  CHECK_EQ(sb_nack_gen_take_keyframe_request(&g), 1);
  CHECK_EQ(sb_nack_gen_take_keyframe_request(&g), 0);
  CHECK_EQ(sb_nack_gen_poll(&g, 1, out, SB_NACK_MAX_MISSING), SB_NACK_MAX_MISSING);
  CHECK_EQ(out[0], 65045);
  CHECK_EQ(out[SB_NACK_MAX_MISSING - 1], 65301);
  /* A dropped seq arriving now is late. */
  CHECK_EQ(sb_nack_gen_received(&g, 65001, 2), SB_NACK_LATE);
  CHECK_EQ(sb_nack_gen_received(&g, 65045, 2), SB_NACK_RECOVERED);
}

SB_TEST(gap_of_exactly_max_fits) {
  sb_nack_gen_t g;
  sb_nack_gen_init(&g, NULL);
  sb_nack_gen_received(&g, 65500, 0);
  CHECK_EQ(sb_nack_gen_received(&g, (uint16_t)(65500 + SB_NACK_MAX_MISSING + 1), 0), SB_NACK_IN_ORDER);
  CHECK_EQ(sb_nack_gen_missing(&g), SB_NACK_MAX_MISSING);
  CHECK_EQ(sb_nack_gen_take_keyframe_request(&g), 0);
}

SB_TEST(huge_forward_jump_resets) {
  sb_nack_gen_t g;
  uint16_t out[8];
  sb_nack_gen_init(&g, NULL);
  sb_nack_gen_received(&g, 100, 0);
  sb_nack_gen_received(&g, 102, 0);
  CHECK_EQ(sb_nack_gen_received(&g, 102 + SB_NACK_MAX_MISSING + 2, 1), SB_NACK_RESET);
  CHECK_EQ(sb_nack_gen_missing(&g), 0);
  CHECK_EQ(g.stats.resets, 1);
  CHECK_EQ(g.stats.overflowed, 1);
  CHECK_EQ(sb_nack_gen_take_keyframe_request(&g), 1);
  /* Tracking continues from the new position. */
  CHECK_EQ(sb_nack_gen_received(&g, 102 + SB_NACK_MAX_MISSING + 4, 2), SB_NACK_IN_ORDER);
  CHECK_EQ(sb_nack_gen_poll(&g, 2, out, 8), 1);
  CHECK_EQ(out[0], 102 + SB_NACK_MAX_MISSING + 3);
  /* +40000 is -25536 modulo 2^16: a restart behind us, also a reset. */
  CHECK_EQ(sb_nack_gen_received(&g, (uint16_t)(102 + SB_NACK_MAX_MISSING + 4 + 40000), 3), SB_NACK_RESET);
  CHECK_EQ(g.stats.resets, 2);
}

SB_TEST(backward_jump_beyond_reset_back_restarts) {
  sb_nack_config_t cfg = {.reset_back = 500};
  sb_nack_gen_t g;
  sb_nack_gen_init(&g, &cfg);
  sb_nack_gen_received(&g, 10000, 0);
  CHECK_EQ(sb_nack_gen_received(&g, 9500, 0), SB_NACK_LATE);
  CHECK_EQ(sb_nack_gen_received(&g, 9499, 0), SB_NACK_RESET);
  CHECK_EQ(sb_nack_gen_received(&g, 9500, 0), SB_NACK_IN_ORDER);
  CHECK_EQ(sb_nack_gen_missing(&g), 0);
}

SB_TEST(entries_out_of_reach_are_dropped_without_polling) {
  sb_nack_gen_t g;
  sb_nack_gen_init(&g, NULL);
  sb_nack_gen_received(&g, 0, 0);
  sb_nack_gen_received(&g, 2, 0); /* 1 missing, never polled */
  for (uint16_t s = 3; s < 40000; s++)
    sb_nack_gen_received(&g, s, s);
  CHECK_EQ(sb_nack_gen_missing(&g), 0);
  CHECK_EQ(g.stats.given_up, 1);
  /* A stream that keeps losing one packet in ten, over several wraps, stays consistent. */
  sb_nack_gen_t h;
  uint16_t out[SB_NACK_MAX_MISSING];
  sb_nack_gen_init(&h, NULL);
  uint64_t now = 0;
  for (uint32_t i = 0; i < 200000; i++, now++) {
    if (i % 10 != 5)
      sb_nack_gen_received(&h, (uint16_t)i, now);
    if (i % 20 == 0)
      sb_nack_gen_poll(&h, now, out, SB_NACK_MAX_MISSING);
    /* the lost packet comes back as a retransmission 30 packets later, every other time */
    if (i % 10 == 5 && i >= 35 && (i / 10) % 2 == 0)
      CHECK_EQ(sb_nack_gen_received(&h, (uint16_t)(i - 30), now), SB_NACK_RECOVERED);
  }
  CHECK(h.stats.recovered > 9000);
  CHECK(sb_nack_gen_missing(&h) <= SB_NACK_MAX_MISSING);
  CHECK_EQ(h.stats.resets, 0);
}

/* Receive statistics and the latency histogram: pure arithmetic, checked against exact values. */
#include <stdlib.h>

#include "bench/hist.h"
#include "bench/rxstats.h"
#include "sbtest.h"

static sb_hist_t h;

SB_TEST(hist_buckets_are_ordered_and_tight) {
  uint64_t prev = 0;
  for (size_t i = 1; i < SB_HIST_BUCKETS; i++) {
    uint64_t lo = sb_hist_bucket_low(i);
    CHECK(lo > prev || i == 0);
    CHECK_EQ(sb_hist_bucket(lo), i);
    CHECK_EQ(sb_hist_bucket(lo - 1), i - 1);
    /* a bucket is never wider than 1/64 of its lower bound (plus one) */
    if (i + 1 < SB_HIST_BUCKETS)
      CHECK(sb_hist_bucket_low(i + 1) - lo <= lo / 64 + 1);
    prev = lo;
  }
  CHECK_EQ(sb_hist_bucket(1ull << 50), SB_HIST_BUCKETS - 1);
}

SB_TEST(hist_quantiles_within_precision) {
  sb_hist_reset(&h);
  for (uint64_t v = 1; v <= 100000; v++)
    sb_hist_add(&h, v * 1000); /* 1 us .. 100 ms */
  CHECK_EQ(h.count, 100000);
  CHECK_EQ(h.min, 1000);
  CHECK_EQ(h.max, 100000000);
  double p50 = (double)sb_hist_quantile(&h, 0.5), p99 = (double)sb_hist_quantile(&h, 0.99);
  CHECK(p50 > 50000000 * 0.984 && p50 < 50000000 * 1.016);
  CHECK(p99 > 99000000 * 0.984 && p99 < 99000000 * 1.016);
  CHECK_EQ(sb_hist_quantile(&h, 1.0), 100000000);
  CHECK_EQ(sb_hist_quantile(&h, 0.0), 1000);
}

SB_TEST(hist_empty_and_merge) {
  static sb_hist_t a, b;
  sb_hist_reset(&a);
  sb_hist_reset(&b);
  CHECK_EQ(sb_hist_quantile(&a, 0.5), 0);
  sb_hist_add(&a, 10);
  sb_hist_add(&b, 5000);
  sb_hist_add(&b, 7);
  sb_hist_merge(&a, &b);
  CHECK_EQ(a.count, 3);
  CHECK_EQ(a.min, 7);
  CHECK_EQ(a.max, 5000);
  CHECK_EQ(a.sum, 5017);
  CHECK_EQ(sb_hist_quantile(&a, 0.5), 10);
}

static sb_rxstats_t st;

static sb_rx_verdict_t add(uint16_t seq, int64_t *total_expected) {
  int64_t d;
  sb_rx_verdict_t v = sb_rxstats_add(&st, seq, (uint32_t)seq * 960u, (uint64_t)seq * 20000u, 100, &d);
  *total_expected += d;
  return v;
}

SB_TEST(rx_in_order_no_loss_across_wrap) {
  int64_t e = 0;
  sb_rxstats_init(&st, 48000);
  for (uint32_t i = 65500; i < 65600; i++)
    CHECK_EQ(add((uint16_t)i, &e), SB_RX_NEW);
  CHECK_EQ(st.received, 100);
  CHECK_EQ(sb_rxstats_expected(&st), 100);
  CHECK_EQ(e, 100);
  CHECK_EQ(sb_rxstats_lost(&st), 0);
  /* arrivals exactly as sent: no jitter */
  CHECK(sb_rxstats_jitter_ms(&st) < 0.001);
}

SB_TEST(rx_loss_reorder_duplicate) {
  int64_t e = 0;
  sb_rxstats_init(&st, 90000);
  CHECK_EQ(add(10, &e), SB_RX_NEW);
  CHECK_EQ(add(11, &e), SB_RX_NEW);
  CHECK_EQ(add(14, &e), SB_RX_NEW);     /* 12, 13 missing */
  CHECK_EQ(sb_rxstats_lost(&st), 2);
  CHECK_EQ(add(12, &e), SB_RX_REORDERED);
  CHECK_EQ(sb_rxstats_lost(&st), 1);
  CHECK_EQ(add(12, &e), SB_RX_DUPLICATE);
  CHECK_EQ(add(14, &e), SB_RX_DUPLICATE);
  CHECK_EQ(st.duplicates, 2);
  CHECK_EQ(st.reordered, 1);
  CHECK_EQ(st.received, 4);
  CHECK_EQ(e, 5);
  CHECK_EQ(add(9, &e), SB_RX_REORDERED); /* before the first packet: the start moves back */
  CHECK_EQ(sb_rxstats_expected(&st), 6);
  CHECK_EQ(e, 6);
  sb_rxstats_add_replay(&st);
  CHECK_EQ(st.duplicates, 3);
}

SB_TEST(rx_too_old_and_big_jump) {
  int64_t e = 0;
  sb_rxstats_init(&st, 90000);
  CHECK_EQ(add(100, &e), SB_RX_NEW);
  CHECK_EQ(add(100 + 3000, &e), SB_RX_NEW); /* a jump larger than the window */
  CHECK_EQ(sb_rxstats_lost(&st), 2999);
  CHECK_EQ(add(101, &e), SB_RX_TOO_OLD);
  CHECK_EQ(st.too_old, 1);
  CHECK_EQ(add(100 + 3000, &e), SB_RX_DUPLICATE); /* the window was reset, not corrupted */
}

SB_TEST(rx_jitter_grows_with_uneven_arrivals) {
  int64_t d;
  sb_rxstats_init(&st, 90000);
  for (uint32_t i = 0; i < 200; i++) {
    uint64_t arrival = (uint64_t)i * 33333u + (i % 2 ? 5000u : 0u); /* every other one 5 ms late */
    sb_rxstats_add(&st, (uint16_t)i, i * 3000u, arrival, 1000, &d);
  }
  /* RFC 3550's estimator converges to the mean deviation: 5 ms here */
  CHECK(sb_rxstats_jitter_ms(&st) > 4.0 && sb_rxstats_jitter_ms(&st) < 5.5);
}

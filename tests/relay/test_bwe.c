#include <string.h>

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

/* --- the delay-based half, driven through a simulated bottleneck ---
 * The relay's side (sb_bwe_on_send) stamps packets; a bottleneck of `capacity_bps` with a FIFO
 * queue and 20 ms propagation delays them; the receiver's side is the relay's own transport-cc
 * builder (relay/twcc.c), which writes a feedback packet every 100 ms, as Chromium does. */
#include "relay/twcc.h"

typedef struct {
  sb_bwe_t b;
  sb_twcc_t rx;
  uint64_t capacity_bps;
  uint64_t link_free_us;       /* when the bottleneck finishes what it holds */
  uint64_t now_us;
  uint64_t next_send_us, next_fb_us;
  int n;                       /* packets in flight: arrival order = send order (FIFO) */
  uint16_t seq[8192];
  uint64_t arrival[8192];
  int head;
  uint64_t first_overuse_us;
} sim_t;

static void sim_init(sim_t *s, uint64_t capacity_bps) {
  memset(s, 0, sizeof *s);
  sb_bwe_init(&s->b);
  sb_twcc_init(&s->rx);
  s->capacity_bps = capacity_bps;
  s->now_us = 10000000;
  s->next_send_us = s->next_fb_us = s->now_us;
}

static void sim_send(sim_t *s, size_t size) {
  uint16_t seq = sb_bwe_on_send(&s->b, size, s->now_us);
  uint64_t start = s->link_free_us > s->now_us ? s->link_free_us : s->now_us;
  s->link_free_us = start + size * 8 * 1000000 / s->capacity_bps;
  s->seq[(s->head + s->n) % 8192] = seq;
  s->arrival[(s->head + s->n) % 8192] = s->link_free_us + 20000;
  s->n++;
}

/* Runs for `ms`, sending `rate_bps` in 1000-byte packets. */
static void sim_run(sim_t *s, uint64_t rate_bps, int ms) {
  uint64_t end = s->now_us + (uint64_t)ms * 1000;
  uint8_t fb[3000];
  for (; s->now_us < end; s->now_us += 500) {
    while (rate_bps && s->next_send_us <= s->now_us) {
      sim_send(s, 1000);
      s->next_send_us += 8000ull * 1000000 / rate_bps;
    }
    if (!rate_bps)
      s->next_send_us = s->now_us;
    while (s->n && s->arrival[s->head] <= s->now_us) {
      sb_twcc_on_packet(&s->rx, s->seq[s->head], s->arrival[s->head]);
      s->head = (s->head + 1) % 8192;
      s->n--;
    }
    if (s->now_us >= s->next_fb_us) {
      s->next_fb_us += 100000;
      int len = sb_twcc_build(&s->rx, fb, sizeof fb, 1, 2);
      if (len > 0)
        CHECK_EQ(sb_bwe_on_feedback(&s->b, fb, (size_t)len, s->now_us / 1000), 0);
      if (s->b.overuses && !s->first_overuse_us)
        s->first_overuse_us = s->now_us;
    }
  }
}

SB_TEST(delay_based_holds_on_a_link_with_room) {
  static sim_t s;
  sim_init(&s, 5000000);
  CHECK_EQ(sb_bwe_enable_delay(&s.b), 0);
  sim_run(&s, 1000000, 6000);
  CHECK_EQ(s.b.overuses, 0);
  /* Delivered 1 Mbit/s: the estimate does not fall, and never drifts past 1.5 x that. */
  CHECK(s.b.acked.bps > 900000 && s.b.acked.bps < 1100000);
  CHECK(sb_bwe_estimate(&s.b, s.now_us / 1000) >= 1500000);
  sb_bwe_free(&s.b);
}

SB_TEST(delay_based_sees_a_queue_building_before_loss) {
  static sim_t s;
  sim_init(&s, 500000);
  CHECK_EQ(sb_bwe_enable_delay(&s.b), 0);
  uint64_t start = s.now_us;
  sim_run(&s, 1000000, 3000);
  CHECK(s.b.overuses >= 1);
  /* The queue grows 50 ms per 100 ms sent; overuse is seen within about a second. */
  CHECK(s.first_overuse_us - start < 1200000);
  uint64_t est = sb_bwe_estimate(&s.b, s.now_us / 1000);
  CHECK(est < 550000);
  CHECK(est > 300000);
  /* Sending under the estimate lets the queue drain; the estimate is not cut further and does
   * not grow past 1.5 x what is delivered. */
  sim_run(&s, 200000, 6000);
  uint64_t later = sb_bwe_estimate(&s.b, s.now_us / 1000);
  CHECK(later >= est * 9 / 10);
  CHECK(later <= s.b.acked.bps * 3 / 2 + 10000 || later <= est);
  sb_bwe_free(&s.b);
}

SB_TEST(probe_measures_the_bottleneck_and_raises_the_estimate) {
  static sim_t s;
  sim_init(&s, 600000);
  CHECK_EQ(sb_bwe_enable_delay(&s.b), 0);
  sim_run(&s, 1200000, 3000); /* congest: the estimate falls under the capacity */
  sim_run(&s, 150000, 5000);  /* the low layer: queue drained */
  uint64_t est = sb_bwe_estimate(&s.b, s.now_us / 1000);
  CHECK(est < 600000);
  /* The subscriber would take 1.5 Mbit/s: a probe is due, aimed above that. */
  uint64_t target = sb_bwe_probe_due(&s.b, 1500000, s.now_us / 1000);
  CHECK(target >= 1500000);
  size_t bytes = sb_bwe_probe_bytes(target);
  sb_bwe_probe_begin(&s.b, target, 1500000, s.now_us / 1000);
  int n = 0;
  for (size_t sent = 0; sent < bytes; sent += 1000, n++)
    sim_send(&s, 1000);
  sb_bwe_probe_end(&s.b, n, s.now_us / 1000);
  CHECK(n >= SB_BWE_PROBE_MIN_PACKETS);
  CHECK_EQ(sb_bwe_probe_due(&s.b, 1500000, s.now_us / 1000), 0); /* one at a time */
  sim_run(&s, 150000, 1000);
  /* The burst left the bottleneck at its rate: the estimate is about the capacity, not the
   * target, and the next probe waits longer. */
  est = sb_bwe_estimate(&s.b, s.now_us / 1000);
  CHECK(est > 500000);
  CHECK(est < 700000);
  CHECK_EQ(s.b.probes_ok, 0);
  CHECK_EQ(s.b.probe_interval_ms, 2 * SB_BWE_PROBE_INTERVAL_MS);
  CHECK_EQ(sb_bwe_probe_due(&s.b, 1500000, s.now_us / 1000 + SB_BWE_PROBE_INTERVAL_MS), 0);

  /* The bottleneck goes away: the next probe proves the target. */
  s.capacity_bps = 100000000;
  sim_run(&s, 150000, 2 * SB_BWE_PROBE_INTERVAL_MS);
  target = sb_bwe_probe_due(&s.b, 1500000, s.now_us / 1000);
  CHECK(target >= 1500000);
  sb_bwe_probe_begin(&s.b, target, 1500000, s.now_us / 1000);
  n = 0;
  for (size_t sent = 0; sent < sb_bwe_probe_bytes(target); sent += 1000, n++)
    sim_send(&s, 1000);
  sb_bwe_probe_end(&s.b, n, s.now_us / 1000);
  sim_run(&s, 150000, 500);
  CHECK_EQ(s.b.probes_ok, 1);
  CHECK(sb_bwe_estimate(&s.b, s.now_us / 1000) >= 1500000);
  sb_bwe_free(&s.b);
}

SB_TEST(malformed_feedback_changes_nothing) {
  static sim_t s;
  uint8_t junk[40] = {0x8f, 205, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 50, 0, 0, 1, 0, 0x00, 0x00};
  sim_init(&s, 500000);
  CHECK_EQ(sb_bwe_enable_delay(&s.b), 0);
  sim_run(&s, 1000000, 2000);
  sb_bwe_t before = s.b;
  CHECK_EQ(sb_bwe_on_feedback(&s.b, junk, sizeof junk, s.now_us / 1000), -1);
  CHECK_EQ(sb_bwe_on_feedback(&s.b, junk, 10, s.now_us / 1000), -1);
  /* Well-formed but claiming 65535 statuses with a few run-length chunks (8 x 8191 lost + 7). */
  uint8_t big[40] = {0x8f, 205, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0xff, 0xff, 0, 0, 1, 0};
  for (int i = 0; i < 8; i++)
    big[20 + 2 * i] = 0x1f, big[21 + 2 * i] = 0xff; /* run: symbol 0 (lost), length 8191 */
  big[36] = 0x00, big[37] = 0x07;
  CHECK_EQ(sb_twcc_parse(big, 40, &(sb_twcc_fb_header_t){0}, NULL, NULL), 65535);
  CHECK_EQ(sb_bwe_on_feedback(&s.b, big, 40, s.now_us / 1000), -1);
  CHECK(memcmp(&before, &s.b, sizeof before) == 0);
  sb_bwe_free(&s.b);
}

SB_TEST(without_transport_cc_only_loss_counts) {
  sb_bwe_t b;
  sb_bwe_init(&b);
  uint8_t fb[32] = {0x8f, 205, 0, 4};
  CHECK_EQ(sb_bwe_on_feedback(&b, fb, sizeof fb, 1000), 0); /* ignored */
  CHECK_EQ(sb_bwe_probe_due(&b, 10000000, 100000), 0);
  sb_bwe_on_loss(&b, 128, 2000);
  CHECK_EQ(sb_bwe_estimate(&b, 2000), 2250000);
}

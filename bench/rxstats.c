/* RFC 3550 receive statistics with a bitmap window for duplicates. */
#include "bench/rxstats.h"

#include <string.h>

void sb_rxstats_init(sb_rxstats_t *s, uint32_t clock_hz) {
  memset(s, 0, sizeof *s);
  s->clock_hz = clock_hz ? clock_hz : 90000;
}

static int seen_test_set(sb_rxstats_t *s, int64_t ext) {
  uint32_t bit = (uint32_t)(ext % SB_RX_WINDOW);
  uint64_t mask = 1ull << (bit % 64);
  int was = (s->seen[bit / 64] & mask) != 0;
  s->seen[bit / 64] |= mask;
  return was;
}

static void seen_clear(sb_rxstats_t *s, int64_t ext) {
  uint32_t bit = (uint32_t)(ext % SB_RX_WINDOW);
  s->seen[bit / 64] &= ~(1ull << (bit % 64));
}

/* Moves the window's top from max_ext to new_max, forgetting the slots it reuses. */
static void advance(sb_rxstats_t *s, int64_t new_max) {
  int64_t e;
  if (new_max - s->max_ext >= SB_RX_WINDOW)
    memset(s->seen, 0, sizeof s->seen);
  else
    for (e = s->max_ext + 1; e <= new_max; e++)
      seen_clear(s, e);
  s->max_ext = new_max;
}

static void update_jitter(sb_rxstats_t *s, uint32_t rtp_ts, uint64_t arrival_us) {
  /* transit in RTP units; only differences matter, so the wrap of 32 bits is harmless */
  int64_t arrival = (int64_t)(arrival_us * s->clock_hz / 1000000u);
  int64_t transit = (int64_t)(uint32_t)((uint32_t)arrival - rtp_ts);
  int64_t d;
  if (s->received > 1) {
    d = (int64_t)(int32_t)(uint32_t)(transit - s->last_transit);
    if (d < 0)
      d = -d;
    s->jitter += ((double)d - s->jitter) / 16.0;
  }
  s->last_transit = transit;
}

sb_rx_verdict_t sb_rxstats_add(sb_rxstats_t *s, uint16_t seq, uint32_t rtp_ts, uint64_t arrival_us,
                               uint32_t bytes, int64_t *expected_delta) {
  int64_t ext;
  *expected_delta = 0;
  if (!s->started) {
    s->started = 1;
    /* start one cycle up so that early reordering below the first packet stays positive */
    ext = 65536 + seq;
    s->base_ext = ext;
    s->max_ext = ext;
    memset(s->seen, 0, sizeof s->seen);
    seen_test_set(s, ext);
    s->received = 1;
    s->bytes = bytes;
    *expected_delta = 1;
    update_jitter(s, rtp_ts, arrival_us);
    return SB_RX_NEW;
  }
  ext = s->max_ext + (int16_t)(uint16_t)(seq - (uint16_t)s->max_ext);
  if (ext > s->max_ext) {
    *expected_delta = ext - s->max_ext;
    advance(s, ext);
    seen_test_set(s, ext);
    s->received++;
    s->bytes += bytes;
    update_jitter(s, rtp_ts, arrival_us);
    return SB_RX_NEW;
  }
  if (s->max_ext - ext >= SB_RX_WINDOW) {
    s->too_old++;
    s->received++;
    s->bytes += bytes;
    return SB_RX_TOO_OLD;
  }
  if (ext < s->base_ext) {
    /* older than the first packet seen: the stream started earlier than we thought */
    *expected_delta = s->base_ext - ext;
    s->base_ext = ext;
  }
  if (seen_test_set(s, ext)) {
    s->duplicates++;
    return SB_RX_DUPLICATE;
  }
  s->reordered++;
  s->received++;
  s->bytes += bytes;
  return SB_RX_REORDERED;
}

void sb_rxstats_add_replay(sb_rxstats_t *s) {
  s->duplicates++;
}

uint64_t sb_rxstats_expected(const sb_rxstats_t *s) {
  return s->started ? (uint64_t)(s->max_ext - s->base_ext + 1) : 0;
}

uint64_t sb_rxstats_lost(const sb_rxstats_t *s) {
  uint64_t e = sb_rxstats_expected(s);
  return e > s->received ? e - s->received : 0;
}

double sb_rxstats_jitter_ms(const sb_rxstats_t *s) {
  return s->jitter * 1000.0 / (double)s->clock_hz;
}

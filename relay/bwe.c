#include "relay/bwe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "relay/rtp.h"
#include "relay/twcc.h"

#define SB_BWE_INCREASE_INTERVAL_MS 200
#define SB_BWE_GROUP_US 5000          /* packets sent within 5 ms form one group */
#define SB_BWE_SMOOTHING 0.9
#define SB_BWE_TREND_GAIN 4.0
#define SB_BWE_MAX_DELTAS 60
#define SB_BWE_THRESHOLD_INIT 12.5    /* ms, adaptive (GCC §5.4) */
#define SB_BWE_K_UP 0.0087
#define SB_BWE_K_DOWN 0.039
#define SB_BWE_OVERUSE_TIME_MS 10.0
#define SB_BWE_BETA 0.85
#define SB_BWE_DECREASE_INTERVAL_MS 300
#define SB_BWE_ACK_WINDOW_US 500000
#define SB_BWE_PROBE_TIMEOUT_MS 1000
#define SB_BWE_PROBE_WINDOW_MS 30     /* a probe carries what the target rate sends in 30 ms */

static uint64_t clamp_bps(uint64_t v) {
  return v < SB_BWE_MIN_BPS ? SB_BWE_MIN_BPS : v > SB_BWE_MAX_BPS ? SB_BWE_MAX_BPS : v;
}

void sb_bwe_init(sb_bwe_t *b) {
  memset(b, 0, sizeof *b);
  b->loss_bps = b->delay_bps = SB_BWE_START_BPS;
  b->threshold = SB_BWE_THRESHOLD_INIT;
  b->time_over_ms = -1;
  b->probe_interval_ms = SB_BWE_PROBE_INTERVAL_MS;
}

int sb_bwe_enable_delay(sb_bwe_t *b) {
  if (!b->history)
    b->history = calloc(SB_BWE_HISTORY, sizeof *b->history);
  return b->history ? 0 : -1;
}

void sb_bwe_free(sb_bwe_t *b) {
  free(b->history);
  b->history = NULL;
}

uint64_t sb_bwe_estimate(const sb_bwe_t *b, uint64_t now_ms) {
  (void)now_ms;
  if (!b->history)
    return b->loss_bps;
  return b->loss_bps < b->delay_bps ? b->loss_bps : b->delay_bps;
}

void sb_bwe_on_loss(sb_bwe_t *b, uint8_t fraction_lost, uint64_t now_ms) {
  /* fraction_lost is loss * 256: 2% ~ 5, 10% ~ 26. */
  if (fraction_lost < 5) {
    if (b->last_loss_ms && now_ms - b->last_loss_ms < SB_BWE_INCREASE_INTERVAL_MS)
      return;
    b->loss_bps = b->loss_bps * 108 / 100;
  } else if (fraction_lost > 26) {
    b->loss_bps = b->loss_bps * (512 - fraction_lost) / 512;
  }
  b->loss_bps = clamp_bps(b->loss_bps);
  b->last_loss_ms = now_ms;
}

/* Adds `bytes` at time t_us; a window of SB_BWE_ACK_WINDOW_US or more closes with a rate sample. */
static void rate_add(sb_bwe_rate_t *r, int64_t t_us, uint64_t bytes) {
  if (!r->start_us || t_us < r->start_us) {
    r->start_us = t_us;
    r->bytes = 0;
  }
  r->bytes += bytes;
  int64_t span = t_us - r->start_us;
  if (span >= SB_BWE_ACK_WINDOW_US) {
    uint64_t sample = r->bytes * 8 * 1000000 / (uint64_t)span;
    r->bps = r->bps ? (r->bps + sample) / 2 : sample;
    r->start_us = t_us;
    r->bytes = 0;
  }
}

uint16_t sb_bwe_on_send(sb_bwe_t *b, size_t size, uint64_t now_us) {
  uint16_t seq = b->next_seq++;
  if (b->history) {
    sb_bwe_sent_t *e = &b->history[seq & (SB_BWE_HISTORY - 1)];
    e->send_us = now_us ? now_us : 1;
    e->seq = seq;
    e->size = size > UINT16_MAX ? UINT16_MAX : (uint16_t)size;
    e->probe = b->sending_probe;
    if (b->sending_probe)
      b->probe.sent++;
    else
      rate_add(&b->sent, (int64_t)e->send_us, size);
  }
  return seq;
}

/* --- delay-based: trendline and overuse detector (GCC §5.3-5.4, libwebrtc's trendline) --- */

static void update_threshold(sb_bwe_t *b, double trend, uint64_t now_ms) {
  if (!b->last_threshold_ms)
    b->last_threshold_ms = now_ms;
  double abs_trend = fabs(trend);
  /* A spike far above the threshold (a sudden large delay) does not drag it up. */
  if (abs_trend > b->threshold + 15.0) {
    b->last_threshold_ms = now_ms;
    return;
  }
  double k = abs_trend < b->threshold ? SB_BWE_K_DOWN : SB_BWE_K_UP;
  double dt = (double)(now_ms - b->last_threshold_ms);
  if (dt > 100)
    dt = 100;
  b->threshold += k * (abs_trend - b->threshold) * dt;
  if (b->threshold < 6)
    b->threshold = 6;
  if (b->threshold > 600)
    b->threshold = 600;
  b->last_threshold_ms = now_ms;
}

static void detect(sb_bwe_t *b, double trend, double send_delta_ms, uint64_t now_ms) {
  if (b->num_deltas < 2) {
    b->usage = SB_BWE_NORMAL;
    return;
  }
  if (trend > b->threshold) {
    b->time_over_ms = b->time_over_ms < 0 ? send_delta_ms / 2 : b->time_over_ms + send_delta_ms;
    b->over_count++;
    if (b->time_over_ms > SB_BWE_OVERUSE_TIME_MS && b->over_count > 1 && trend >= b->prev_trend) {
      b->time_over_ms = 0;
      b->over_count = 0;
      b->usage = SB_BWE_OVERUSE;
    }
  } else {
    b->time_over_ms = -1;
    b->over_count = 0;
    b->usage = trend < -b->threshold ? SB_BWE_UNDERUSE : SB_BWE_NORMAL;
  }
  b->prev_trend = trend;
  update_threshold(b, trend, now_ms);
}

/* One inter-group delay variation: accumulate, smooth, and fit the slope over the window. */
static void trendline(sb_bwe_t *b, double arrival_ms, double delay_var_ms, double send_delta_ms,
                      uint64_t now_ms) {
  if (b->num_deltas < 1000)
    b->num_deltas++;
  b->acc_delay_ms += delay_var_ms;
  b->smoothed_ms = SB_BWE_SMOOTHING * b->smoothed_ms + (1 - SB_BWE_SMOOTHING) * b->acc_delay_ms;
  if (b->ntrend == SB_BWE_TREND_WINDOW) {
    memmove(b->trend_x, b->trend_x + 1, (SB_BWE_TREND_WINDOW - 1) * sizeof b->trend_x[0]);
    memmove(b->trend_y, b->trend_y + 1, (SB_BWE_TREND_WINDOW - 1) * sizeof b->trend_y[0]);
    b->ntrend--;
  }
  b->trend_x[b->ntrend] = arrival_ms;
  b->trend_y[b->ntrend++] = b->smoothed_ms;
  double trend = b->prev_trend;
  if (b->ntrend == SB_BWE_TREND_WINDOW) {
    double mx = 0, my = 0, num = 0, den = 0;
    for (int i = 0; i < b->ntrend; i++)
      mx += b->trend_x[i], my += b->trend_y[i];
    mx /= b->ntrend;
    my /= b->ntrend;
    for (int i = 0; i < b->ntrend; i++) {
      num += (b->trend_x[i] - mx) * (b->trend_y[i] - my);
      den += (b->trend_x[i] - mx) * (b->trend_x[i] - mx);
    }
    double slope = den > 0 ? num / den : 0;
    int n = b->num_deltas < SB_BWE_MAX_DELTAS ? b->num_deltas : SB_BWE_MAX_DELTAS;
    trend = n * slope * SB_BWE_TREND_GAIN;
  }
  detect(b, trend, send_delta_ms, now_ms);
}

/* A packet that arrived: it joins the current send group or closes it. */
static void on_group_packet(sb_bwe_t *b, int64_t send_us, int64_t arrival_us, uint64_t now_ms) {
  sb_bwe_group_t *g = &b->cur;
  if (g->valid && send_us - g->first_send_us <= SB_BWE_GROUP_US) {
    if (send_us > g->last_send_us)
      g->last_send_us = send_us;
    if (arrival_us > g->last_arrival_us)
      g->last_arrival_us = arrival_us;
    return;
  }
  if (g->valid && send_us < g->first_send_us)
    return; /* reordered behind a later group: ignored, as libwebrtc does */
  if (g->valid && b->prev.valid) {
    double send_delta = (double)(g->last_send_us - b->prev.last_send_us) / 1000.0;
    double arrival_delta = (double)(g->last_arrival_us - b->prev.last_arrival_us) / 1000.0;
    if (arrival_delta >= 0 && send_delta > 0)
      trendline(b, (double)(g->last_arrival_us - b->first_arrival_us) / 1000.0,
                arrival_delta - send_delta, send_delta, now_ms);
  }
  if (g->valid)
    b->prev = *g;
  else
    b->first_arrival_us = arrival_us;
  g->valid = 1;
  g->first_send_us = g->last_send_us = send_us;
  g->last_arrival_us = arrival_us;
}

static void on_probe_packet(sb_bwe_t *b, int received, int64_t arrival_us, uint16_t size) {
  sb_bwe_probe_t *p = &b->probe;
  if (!received) {
    p->lost++;
    return;
  }
  if (p->received++ == 0) {
    p->first_arrival_us = p->last_arrival_us = arrival_us;
    return; /* the first packet's size is not part of the rate: it started the measurement */
  }
  if (arrival_us < p->first_arrival_us)
    p->first_arrival_us = arrival_us;
  if (arrival_us > p->last_arrival_us)
    p->last_arrival_us = arrival_us;
  p->bytes += size;
}

typedef struct {
  sb_bwe_t *b;
  uint64_t now_ms;
  int64_t ref_offset_us;          /* unwraps this feedback's arrival times */
} fb_ctx_t;

static void on_status(void *arg, uint16_t seq, int received, int64_t arrival_us) {
  fb_ctx_t *c = arg;
  sb_bwe_t *b = c->b;
  sb_bwe_sent_t *e = &b->history[seq & (SB_BWE_HISTORY - 1)];
  if (!e->send_us || e->seq != seq)
    return; /* not ours, too old, or already reported */
  arrival_us += c->ref_offset_us;
  if (e->probe && e->probe == b->probe.id)
    on_probe_packet(b, received, arrival_us, e->size);
  /* Probe bursts are left out of the delay groups: a burst queues behind itself by design,
   * which says nothing about the rate the media is sent at. */
  if (received && !e->probe) {
    on_group_packet(b, (int64_t)e->send_us, arrival_us, c->now_ms);
    rate_add(&b->acked, arrival_us, e->size);
  }
  e->send_us = 0;
}

/* --- rate control --- */

static void aimd(sb_bwe_t *b, uint64_t now_ms) {
  if (!b->last_increase_ms)
    b->last_increase_ms = now_ms;
  if (b->usage == SB_BWE_OVERUSE) {
    if (b->last_decrease_ms && now_ms - b->last_decrease_ms < SB_BWE_DECREASE_INTERVAL_MS)
      return;
    /* 85 % of what was delivered. When that is about what was sent, the path kept up and the
     * relay simply had little to send: the delivered rate says little about the path, so
     * halve at most. */
    uint64_t next = (uint64_t)(SB_BWE_BETA * (double)(b->acked.bps ? b->acked.bps : b->delay_bps));
    int kept_up = !b->acked.bps || b->sent.bps * 10 <= b->acked.bps * 12;
    if (kept_up && next < b->delay_bps / 2)
      next = b->delay_bps / 2;
    next = clamp_bps(next);
    if (next < b->delay_bps)
      b->delay_bps = next;
    b->last_decrease_ms = b->last_increase_ms = now_ms;
    b->overuses++;
    return;
  }
  if (b->usage == SB_BWE_UNDERUSE) { /* queues are draining: hold */
    b->last_increase_ms = now_ms;
    return;
  }
  uint64_t dt = now_ms - b->last_increase_ms;
  if (dt > 1000)
    dt = 1000;
  uint64_t next = (uint64_t)((double)b->delay_bps * pow(1.08, (double)dt / 1000.0));
  if (b->acked.bps) {
    /* Do not grow past what was delivered; probes, not time, find room above it. */
    uint64_t cap = b->acked.bps * 3 / 2 + 10000;
    if (next > cap)
      next = cap > b->delay_bps ? cap : b->delay_bps;
  }
  b->delay_bps = clamp_bps(next);
  b->last_increase_ms = now_ms;
}

/* --- probing --- */

static void probe_finish(sb_bwe_t *b, uint64_t now_ms) {
  sb_bwe_probe_t *p = &b->probe;
  uint64_t result = 0;
  if (p->received >= SB_BWE_PROBE_MIN_PACKETS && p->received * 5 >= p->sent * 4) {
    int64_t span = p->last_arrival_us - p->first_arrival_us;
    /* Arrivals closer than a millisecond mean the path took the burst at its own pace: the
     * probe proves its target, no more. */
    result = span < 1000 ? p->target_bps : p->bytes * 8 * 1000000 / (uint64_t)span;
    if (result > p->target_bps)
      result = p->target_bps;
  }
  if (result > b->delay_bps)
    b->delay_bps = clamp_bps(result);
  if (result > b->loss_bps)
    b->loss_bps = clamp_bps(result);
  if (result && result >= p->wanted_bps) {
    b->probes_ok++;
    b->probe_interval_ms = SB_BWE_PROBE_INTERVAL_MS;
  } else if (b->probe_interval_ms < SB_BWE_PROBE_MAX_INTERVAL_MS) {
    b->probe_interval_ms *= 2;
    if (b->probe_interval_ms > SB_BWE_PROBE_MAX_INTERVAL_MS)
      b->probe_interval_ms = SB_BWE_PROBE_MAX_INTERVAL_MS;
  }
  b->next_probe_ms = now_ms + b->probe_interval_ms;
  p->id = 0;
}

int sb_bwe_on_feedback(sb_bwe_t *b, const uint8_t *pkt, size_t len, uint64_t now_ms) {
  sb_twcc_fb_header_t hdr;
  fb_ctx_t c = {b, now_ms, 0};
  if (!b->history)
    return 0;
  /* Validate before learning anything: a malformed packet changes nothing. */
  if (sb_twcc_parse(pkt, len, &hdr, NULL, NULL) < 0)
    return -1;
  /* One run-length chunk can claim 8191 statuses: a feedback claiming more than the history
   * holds is no real receiver's, and would cost up to 65535 lookups per packet. */
  if (hdr.count > SB_BWE_HISTORY)
    return -1;
  /* The 24-bit reference time (64 ms units) wraps every 12.4 days: unwrap it. */
  if (b->have_ref) {
    uint32_t d = (hdr.ref_time - b->last_ref) & 0xffffff;
    b->ref_unwrapped += d & 0x800000 ? (int64_t)d - 0x1000000 : (int64_t)d;
  } else {
    b->ref_unwrapped = hdr.ref_time;
  }
  c.ref_offset_us = (b->ref_unwrapped - (int64_t)hdr.ref_time) * 64000;
  b->last_ref = hdr.ref_time;
  b->have_ref = 1;
  sb_twcc_parse(pkt, len, &hdr, on_status, &c);
  aimd(b, now_ms);
  if (b->probe.id && (b->probe.received + b->probe.lost >= b->probe.sent))
    probe_finish(b, now_ms);
  return 0;
}

uint64_t sb_bwe_probe_due(sb_bwe_t *b, uint64_t wanted_bps, uint64_t now_ms) {
  if (!b->history)
    return 0;
  if (b->probe.id) {
    if (now_ms - b->probe.start_ms < SB_BWE_PROBE_TIMEOUT_MS)
      return 0;
    probe_finish(b, now_ms); /* feedback for part of it never came */
  }
  uint64_t est = sb_bwe_estimate(b, now_ms);
  if (wanted_bps <= est || now_ms < b->next_probe_ms)
    return 0;
  if (b->last_decrease_ms && now_ms - b->last_decrease_ms < 1000)
    return 0; /* congested a moment ago */
  uint64_t target = wanted_bps + wanted_bps / 2; /* room for the layer choice's up margin */
  return target > SB_BWE_MAX_BPS ? SB_BWE_MAX_BPS : target;
}

size_t sb_bwe_probe_bytes(uint64_t target_bps) {
  return (size_t)(target_bps * SB_BWE_PROBE_WINDOW_MS / 8000);
}

void sb_bwe_probe_begin(sb_bwe_t *b, uint64_t target_bps, uint64_t wanted_bps, uint64_t now_ms) {
  memset(&b->probe, 0, sizeof b->probe);
  if (++b->last_probe_id == 0)
    b->last_probe_id = 1;
  b->probe.id = b->sending_probe = b->last_probe_id;
  b->probe.target_bps = target_bps;
  b->probe.wanted_bps = wanted_bps;
  b->probe.start_ms = now_ms;
}

void sb_bwe_probe_end(sb_bwe_t *b, int sent, uint64_t now_ms) {
  b->sending_probe = 0;
  if (sent < SB_BWE_PROBE_MIN_PACKETS)
    probe_finish(b, now_ms); /* too few packets to measure anything */
}

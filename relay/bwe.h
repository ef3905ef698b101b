/* A subscriber's bandwidth estimate: what the relay can send it. It drives the simulcast layer
 * choice (and pauses video under the lowest layer). Two halves, as in GCC
 * (draft-ietf-rmcat-gcc-02) and libwebrtc's send-side estimation:
 *
 *  - delay-based, from the subscriber's transport-cc feedback: the relay stamps a transport-wide
 *    sequence number on every RTP packet it sends the subscriber and remembers when and how much
 *    it sent; the feedback says when each arrived. Packets sent within 5 ms form a group; the
 *    growth of one-way delay between groups goes through a trendline filter (slope of the
 *    smoothed accumulated delay over 20 groups) and an overuse detector with an adaptive
 *    threshold. Overuse sets the estimate to 85 % of the acknowledged rate; but when the path
 *    delivered about all that was sent (the relay had little to send: video paused, a low
 *    layer, and the overuse came from a burst), it at most halves it. Otherwise it grows
 *    8 % per second, but never past 1.5 x the acknowledged rate + 10 kbit/s (so it does not drift
 *    above what was actually delivered). Only probes raise it past that.
 *  - loss-based, from receiver reports (and the only one when transport-cc is not negotiated):
 *    under 2 % loss it grows 8 % (at most every 200 ms), over 10 % it shrinks by half the loss.
 *
 * The estimate is the smaller of the two. REMB is not used: the relay does not negotiate
 * goog-remb (Chromium's REMB without abs-send-time starts low and pinned subscribers to the
 * lowest layer).
 *
 * Probing: when the subscriber wants more than the estimate (higher layers it asked for), the
 * transport sends a short burst of RTX copies of recent packets (a probe cluster). The
 * dispersion of their arrivals measures the bottleneck: the estimate may jump to
 * min(measured rate, probe target). After a probe that falls short the next one waits twice as
 * long (3 s up to 15 s).
 *
 * No I/O: every call takes the time. */
#ifndef SB_BWE_H
#define SB_BWE_H

#include <stddef.h>
#include <stdint.h>

#define SB_BWE_START_BPS 3000000u
#define SB_BWE_MIN_BPS 30000u
#define SB_BWE_MAX_BPS 50000000u

/* Packets remembered until their feedback (power of two): 2048 cover 4.5 s at 5 Mbit/s of
 * 1100-byte packets and 450 ms at SB_BWE_MAX_BPS, against feedback every 100 ms; 32 KiB per
 * transport. */
#define SB_BWE_HISTORY 2048
#define SB_BWE_TREND_WINDOW 20      /* packet groups in the trendline regression */
#define SB_BWE_PROBE_MIN_PACKETS 5
#define SB_BWE_PROBE_MAX_PACKETS 20
#define SB_BWE_PROBE_INTERVAL_MS 3000
#define SB_BWE_PROBE_MAX_INTERVAL_MS 15000

typedef enum { SB_BWE_NORMAL = 0, SB_BWE_UNDERUSE, SB_BWE_OVERUSE } sb_bwe_usage_t;

typedef struct {
  uint64_t send_us;               /* 0: free slot */
  uint16_t seq;
  uint16_t size;                  /* bytes on the wire (SRTP included) */
  uint8_t probe;                  /* probe cluster id, 0 for media */
} sb_bwe_sent_t;

typedef struct {
  int valid;
  int64_t first_send_us, last_send_us, last_arrival_us;
} sb_bwe_group_t;

/* A rate over windows of 500 ms, each new window's rate averaged with the previous figure. */
typedef struct {
  int64_t start_us;               /* 0: no window started */
  uint64_t bytes;
  uint64_t bps;                   /* 0 until a window has completed */
} sb_bwe_rate_t;

typedef struct {
  uint8_t id;                     /* 0: no probe under way */
  uint64_t target_bps;
  uint64_t wanted_bps;
  uint64_t start_ms;
  int sent, received, lost;
  uint64_t bytes;                 /* received, first packet excluded */
  int64_t first_arrival_us, last_arrival_us;
} sb_bwe_probe_t;

typedef struct {
  /* What sb_bwe_on_send touches for every packet sent, first and together (one cache line). */
  sb_bwe_sent_t *history;         /* delay-based: NULL without transport-cc */
  uint16_t next_seq;
  uint8_t sending_probe;          /* cluster id while a probe burst is being sent */
  sb_bwe_rate_t sent;             /* what was sent, by send time (media, not probes) */

  uint64_t loss_bps, delay_bps;
  uint64_t last_loss_ms;

  sb_bwe_group_t cur, prev;
  int64_t ref_unwrapped;          /* the 24-bit reference time of the last feedback, unwrapped */
  uint32_t last_ref;
  int have_ref;
  double acc_delay_ms, smoothed_ms;
  int64_t first_arrival_us;
  double trend_x[SB_BWE_TREND_WINDOW], trend_y[SB_BWE_TREND_WINDOW];
  int ntrend, num_deltas;
  double prev_trend, threshold, time_over_ms;
  int over_count;
  uint64_t last_threshold_ms;
  sb_bwe_usage_t usage;
  sb_bwe_rate_t acked;            /* what arrived, by arrival time (media, not probes) */
  uint64_t last_increase_ms, last_decrease_ms;

  /* probing */
  uint8_t last_probe_id;
  sb_bwe_probe_t probe;
  uint64_t next_probe_ms;
  uint32_t probe_interval_ms;

  uint64_t overuses, probes_ok;   /* counters for stats and logs */
} sb_bwe_t;

/** Starts an estimate at SB_BWE_START_BPS, loss-based only. */
void sb_bwe_init(sb_bwe_t *b);
/** Enables the delay-based half (transport-cc negotiated): allocates the send history. 0 or -1. */
int sb_bwe_enable_delay(sb_bwe_t *b);
void sb_bwe_free(sb_bwe_t *b);

/** A packet of `size` bytes is going out now: records it and returns the transport-wide
 * sequence number to stamp on it. Only with the delay-based half enabled. */
uint16_t sb_bwe_on_send(sb_bwe_t *b, size_t size, uint64_t now_us);

/** A receiver report said `fraction_lost` (0..255, RFC 3550) for what the relay sent. */
void sb_bwe_on_loss(sb_bwe_t *b, uint8_t fraction_lost, uint64_t now_ms);

/** A transport-cc feedback packet (whole RTCP RTPFB FMT 15) from the subscriber. Returns 0, or -1
 * if it is malformed or reports more than SB_BWE_HISTORY packets (nothing learnt from it then). */
int sb_bwe_on_feedback(sb_bwe_t *b, const uint8_t *pkt, size_t len, uint64_t now_ms);

/** The estimate now. */
uint64_t sb_bwe_estimate(const sb_bwe_t *b, uint64_t now_ms);

/** Whether a probe should start now, given what the subscriber would take (`wanted_bps`).
 * Returns the probe's target rate, or 0. */
uint64_t sb_bwe_probe_due(sb_bwe_t *b, uint64_t wanted_bps, uint64_t now_ms);
/** Bytes a probe burst for `target_bps` should carry. */
size_t sb_bwe_probe_bytes(uint64_t target_bps);
/** Brackets the burst: packets recorded by sb_bwe_on_send in between belong to the cluster.
 * `sent` is how many went out; a cluster under SB_BWE_PROBE_MIN_PACKETS counts as failed. */
void sb_bwe_probe_begin(sb_bwe_t *b, uint64_t target_bps, uint64_t wanted_bps, uint64_t now_ms);
void sb_bwe_probe_end(sb_bwe_t *b, int sent, uint64_t now_ms);

#endif

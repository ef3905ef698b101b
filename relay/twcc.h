/* Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01)
 * that the relay sends to publishers, so their send-side bandwidth estimation (and so their
 * simulcast layers and bitrates) can work. No I/O: arrivals are fed with their time, feedback is
 * built into a caller's buffer. */
#ifndef SB_TWCC_H
#define SB_TWCC_H

#include <stddef.h>
#include <stdint.h>

#define SB_TWCC_WINDOW 2048       /* packets remembered between two feedbacks */
#define SB_TWCC_MAX_PER_FB 1000   /* packets reported in one feedback at most */

typedef struct {
  int started;
  int64_t base;                   /* first unwrapped sequence number not yet reported */
  int64_t max;                    /* highest unwrapped sequence number seen */
  uint16_t last_seq;
  int64_t last_unwrapped;
  uint8_t fb_count;
  uint64_t arrival_us[SB_TWCC_WINDOW]; /* by unwrapped seq modulo the window; 0 = not received */
} sb_twcc_t;

void sb_twcc_init(sb_twcc_t *t);
/** Records the arrival of the packet with transport-wide sequence number `seq`. */
void sb_twcc_on_packet(sb_twcc_t *t, uint16_t seq, uint64_t arrival_us);
/** Builds one feedback packet (RTCP RTPFB FMT 15) for what arrived since the last one. Returns
 * its length, 0 when there is nothing to report, or -1 if `cap` is too small. */
int sb_twcc_build(sb_twcc_t *t, uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);

/* Reading the feedback a subscriber sends for what the relay sent it. */
typedef struct {
  uint16_t base_seq;
  uint16_t count;                 /* packet statuses in this feedback */
  uint32_t ref_time;              /* 24 bits, in units of 64 ms, sender's clock */
  uint8_t fb_count;
} sb_twcc_fb_header_t;

/** Called for each packet status in sequence order: `arrival_us` is the arrival time in the
 * feedback sender's clock, ref_time * 64 ms plus the deltas so far (meaningful only when
 * `received`). */
typedef void (*sb_twcc_status_fn)(void *arg, uint16_t seq, int received, int64_t arrival_us);

/** Parses one transport-cc feedback packet (the whole RTCP RTPFB FMT 15 packet, `len` bytes):
 * fills `hdr` and calls `fn` (unless NULL: validation only) for every status (run-length and both status-vector chunk kinds).
 * Returns the number of statuses, or -1 if the packet is malformed (truncated chunks or deltas,
 * the reserved symbol, wrong type); on -1 `fn` may have been called for a prefix. */
int sb_twcc_parse(const uint8_t *pkt, size_t len, sb_twcc_fb_header_t *hdr, sb_twcc_status_fn fn,
                  void *arg);

#endif

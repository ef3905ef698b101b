/* Sequence/timestamp rewriter: segments of constant offsets, rebased on a switch. */
#include "relay/seq_rewriter.h"

#include "relay/rtp.h"

#include <string.h>

/* A segment covers at most the last half of the seq space: older packets cannot be told apart
 * from newer ones modulo 2^16, and nothing that old is retransmitted or reordered anyway. */
#define MAX_SPAN 0x7fff

void sb_seq_rewriter_init(sb_seq_rewriter_t *rw, uint32_t clock_rate, uint16_t first_seq,
                          uint32_t first_ts) {
  memset(rw, 0, sizeof *rw);
  rw->clock_rate = clock_rate;
  rw->first_seq = first_seq;
  rw->first_ts = first_ts;
}

void sb_seq_rewriter_switch(sb_seq_rewriter_t *rw) { rw->switch_pending = 1; }

/* Input seq of a segment's first and highest packets. */
static uint16_t in_first(const sb_seq_segment_t *s) { return (uint16_t)(s->out_first - s->seq_offset); }
static uint16_t in_last(const sb_seq_segment_t *s) { return (uint16_t)(s->out_last - s->seq_offset); }

static void start_segment(sb_seq_rewriter_t *rw, uint32_t ssrc, uint16_t seq, uint32_t ts,
                          uint64_t now_us) {
  uint16_t oseq;
  uint32_t ots;
  if (!rw->started) {
    oseq = rw->first_seq;
    ots = rw->first_ts;
  } else {
    /* Continue the output clock by the wall time since the last packet, at least one tick so
     * the new source's first frame never shares a timestamp with the old source's last. */
    uint64_t el = now_us > rw->max_us ? now_us - rw->max_us : 0;
    uint64_t ticks = el * rw->clock_rate / 1000000;
    oseq = (uint16_t)(rw->max_seq + 1);
    ots = rw->max_ts + (uint32_t)(ticks ? ticks : 1);
  }
  if (rw->nseg == SB_SEQ_REWRITER_HISTORY)
    rw->nseg--;
  memmove(rw->seg + 1, rw->seg, rw->nseg * sizeof rw->seg[0]);
  rw->nseg++;
  sb_seq_segment_t *s = &rw->seg[0];
  s->ssrc = ssrc;
  s->seq_offset = (uint16_t)(oseq - seq);
  s->ts_offset = ots - ts;
  s->out_first = oseq;
  s->out_last = oseq;
  rw->started = 1;
  rw->switch_pending = 0;
  rw->max_seq = (uint16_t)(oseq - 1); /* so that the packet itself becomes the highest */
}

/* A packet of an earlier segment's source, no newer than what that segment forwarded, is a
 * straggler from before the switch, not a switch back. */
static int is_straggler(const sb_seq_rewriter_t *rw, uint32_t ssrc, uint16_t seq) {
  for (int i = 1; i < rw->nseg; i++) {
    const sb_seq_segment_t *s = &rw->seg[i];
    if (s->ssrc != ssrc)
      continue;
    int d = sb_seq_diff(seq, in_last(s));
    return d <= 0 && d >= -SB_SEQ_REWRITER_MAX_JUMP;
  }
  return 0;
}

int sb_seq_rewriter_rewrite(sb_seq_rewriter_t *rw, uint32_t ssrc, uint16_t seq, uint32_t ts,
                            uint64_t now_us, uint16_t *out_seq, uint32_t *out_ts) {
  int started = 0;
  sb_seq_segment_t *cur = &rw->seg[0];
  if (!rw->nseg || rw->switch_pending || cur->ssrc != ssrc) {
    if (rw->nseg && !rw->switch_pending && is_straggler(rw, ssrc, seq))
      goto drop;
    start_segment(rw, ssrc, seq, ts, now_us);
    started = 1;
  } else {
    int d = sb_seq_diff(seq, in_last(cur));
    if (d > SB_SEQ_REWRITER_MAX_JUMP || d < -SB_SEQ_REWRITER_MAX_JUMP) {
      start_segment(rw, ssrc, seq, ts, now_us);
      started = 1;
    } else if (d < 0 && sb_seq_lt(seq, in_first(cur))) {
      goto drop;
    }
  }
  cur = &rw->seg[0];
  uint16_t os = (uint16_t)(seq + cur->seq_offset);
  uint32_t ot = ts + cur->ts_offset;
  if (sb_seq_diff(os, rw->max_seq) > 0) {
    rw->max_seq = os;
    rw->max_ts = ot;
    rw->max_us = now_us;
    cur->out_last = os;
    if ((uint16_t)(os - cur->out_first) > MAX_SPAN)
      cur->out_first = (uint16_t)(os - MAX_SPAN);
  }
  *out_seq = os;
  *out_ts = ot;
  return started;

drop:
  rw->dropped++;
  return -1;
}

int sb_seq_rewriter_unmap(const sb_seq_rewriter_t *rw, uint16_t out_seq, uint32_t *ssrc,
                          uint16_t *in_seq, uint32_t *ts_offset) {
  if (!rw->started)
    return -1;
  /* Distances behind the highest output seq order everything within half the seq space. */
  int back = (uint16_t)(rw->max_seq - out_seq);
  if (back > MAX_SPAN)
    return -1;
  for (int i = 0; i < rw->nseg; i++) {
    const sb_seq_segment_t *s = &rw->seg[i];
    int last_back = (uint16_t)(rw->max_seq - s->out_last);
    if (last_back > MAX_SPAN)
      break; /* this one and older ones are out of reach */
    if (back < last_back || back > last_back + (uint16_t)(s->out_last - s->out_first))
      continue;
    if (ssrc)
      *ssrc = s->ssrc;
    if (in_seq)
      *in_seq = (uint16_t)(out_seq - s->seq_offset);
    if (ts_offset)
      *ts_offset = s->ts_offset;
    return 0;
  }
  return -1;
}

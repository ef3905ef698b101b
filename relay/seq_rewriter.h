/* Per-consumer rewriting of RTP sequence numbers and timestamps, so that a subscriber sees one
 * continuous stream while the relay switches the source under it (another simulcast layer's
 * SSRC, or a producer that restarted).
 *
 * Each source run is a segment with fixed offsets: out_seq = in_seq + seq_offset and out_ts =
 * in_ts + ts_offset (modulo 2^16 and 2^32). A new segment starts when the SSRC changes, when
 * sb_seq_rewriter_switch() was called, or when the sequence number jumps by more than
 * SB_SEQ_REWRITER_MAX_JUMP; it continues at the last output seq + 1 and at the last output
 * timestamp plus the wall time elapsed since that packet, in clock-rate ticks. Packets of the
 * current source from before its segment began are dropped (their numbers are taken). The last
 * few segments are kept so that a NACK for an output seq can be mapped back to its source.
 * No I/O and no clock: calls take now_us. A plain struct the caller embeds. */
#ifndef SB_SEQ_REWRITER_H
#define SB_SEQ_REWRITER_H

#include <stdint.h>

#define SB_SEQ_REWRITER_HISTORY 4
/* A same-SSRC jump of more than this many seqs, either way, is a restart of the source. */
#define SB_SEQ_REWRITER_MAX_JUMP 1000

typedef struct {
  uint32_t ssrc;
  uint16_t seq_offset;
  uint32_t ts_offset;
  uint16_t out_first;   /* output seq of the packet that started the segment; follows
                           out_last at 0x7fff behind in a segment longer than that */
  uint16_t out_last;    /* highest output seq of the segment */
} sb_seq_segment_t;

typedef struct {
  uint32_t clock_rate;
  int switch_pending;
  int started;
  uint16_t first_seq;   /* output seq and timestamp of the very first packet */
  uint32_t first_ts;
  uint16_t max_seq;     /* highest output seq so far, its timestamp and when it was seen */
  uint32_t max_ts;
  uint64_t max_us;
  uint8_t nseg;         /* segments in seg[], newest (current) first */
  sb_seq_segment_t seg[SB_SEQ_REWRITER_HISTORY];
  uint64_t dropped;     /* packets refused by sb_seq_rewriter_rewrite() */
} sb_seq_rewriter_t;

/** Initialises `rw` for a stream of `clock_rate` Hz (90000 video, 48000 Opus); the first packet
 * forwarded gets seq `first_seq` and timestamp `first_ts` (pick them at random, RFC 3550). */
void sb_seq_rewriter_init(sb_seq_rewriter_t *rw, uint32_t clock_rate, uint16_t first_seq,
                          uint32_t first_ts);

/** Rewrites one packet from source `ssrc` received at now_us. Returns 0 and sets *out_seq and
 * *out_ts if it is to be forwarded, 1 if so and it started a new segment (a switch: a good
 * moment to need a keyframe), or -1 if it must be dropped: a packet of the current source from
 * before the switch, or a late packet of a previous source. */
int sb_seq_rewriter_rewrite(sb_seq_rewriter_t *rw, uint32_t ssrc, uint16_t seq, uint32_t ts,
                            uint64_t now_us, uint16_t *out_seq, uint32_t *out_ts);

/** Makes the next packet start a new segment even if its SSRC is the current one (the producer
 * behind the same SSRC was replaced). */
void sb_seq_rewriter_switch(sb_seq_rewriter_t *rw);

/** Maps an output seq (from a subscriber's NACK) back to its source: sets *ssrc, *in_seq and
 * *ts_offset (out_ts = in_ts + ts_offset) and returns 0, or -1 if it is not in the kept
 * segments. Any pointer may be NULL. */
int sb_seq_rewriter_unmap(const sb_seq_rewriter_t *rw, uint16_t out_seq, uint32_t *ssrc,
                          uint16_t *in_seq, uint32_t *ts_offset);

#endif

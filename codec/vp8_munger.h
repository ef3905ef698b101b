/* Per-consumer VP8 descriptor rewriting that keeps PictureID and TL0PICIDX continuous for a
 * subscriber while the relay switches it between simulcast layers (sources).
 *
 * - The first picture of a new source gets PictureID last+1 and TL0PICIDX last+1, where "last"
 *   is the newest value this subscriber was sent (any source).
 * - Within a source, the distances between pictures are kept, also across the sender's wrap
 *   (15-bit or 7-bit field, whichever the packet has); output PictureIDs are 15-bit values,
 *   written back in the packet's own field width.
 * - Pictures older than the one a source was switched at are DROPPED (the subscriber cannot
 *   decode them: they precede the keyframe the switch happened at). Late packets of pictures
 *   after it (reordering, retransmission) are mapped consistently by their distance.
 *
 * A source change is a switch, so call this only for packets the simulcast switcher forwards
 * (it forwards one source at a time; late packets of the old source are its to drop). */
#ifndef SB_VP8_MUNGER_H
#define SB_VP8_MUNGER_H

#include <stdint.h>

#include "codec/vp8.h"

typedef struct {
  int source;            /* source of the last packet processed; -1 before the first */
  uint16_t ref_in;       /* newest PictureID seen from the current source */
  uint16_t ref_out;      /* the output PictureID (15 bit) of ref_in: the newest one sent */
  uint16_t switch_in;    /* the current source's PictureID where it was switched to */
  uint8_t ref_bits;      /* field width of ref_in, 7 or 15; 0 = not anchored in this source */
  uint8_t guard;         /* drop pictures before switch_in, until far enough past it */
  uint8_t sent_pid;      /* a PictureID has been sent: ref_out is meaningful */
  uint8_t tl0_anchored;  /* tl0_offset is set for the current source */
  uint8_t sent_tl0;      /* a TL0PICIDX has been sent: last_tl0 is meaningful */
  uint8_t tl0_offset;    /* output TL0PICIDX = input + tl0_offset (mod 256) */
  uint8_t last_tl0;      /* the newest TL0PICIDX sent */
} sb_vp8_munger_t;

/** Starts a munger with no source; the first source's values pass through unchanged. */
void sb_vp8_munger_init(sb_vp8_munger_t *m);

/** Rewrites the PictureID and TL0PICIDX of one parsed payload in place for this subscriber.
 * `source` identifies the sending layer (e.g. its index or SSRC). Returns 1 to forward the
 * (rewritten) packet, 0 to drop it (a picture from before the switch). Fields a packet does not
 * have are left alone. No allocation. */
int sb_vp8_munger_process(sb_vp8_munger_t *m, int source, uint8_t *payload,
                          const sb_vp8_desc_t *d);

#endif

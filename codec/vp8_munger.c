/* VP8 PictureID / TL0PICIDX continuity across simulcast switches (see vp8_munger.h). */
#include "codec/vp8_munger.h"

#include <string.h>

void sb_vp8_munger_init(sb_vp8_munger_t *m) {
  memset(m, 0, sizeof *m);
  m->source = -1;
}

/* Maps the packet's PictureID to the output space; returns the output value or -1 to drop. */
static int32_t map_picture_id(sb_vp8_munger_t *m, const sb_vp8_desc_t *d) {
  uint16_t in = d->picture_id;
  unsigned bits = d->picture_id_bits;
  int32_t delta;
  uint16_t out;
  /* Anchor the source (or re-anchor if its field width changed): its first picture follows
   * the newest one sent. */
  if (m->ref_bits != bits) {
    m->ref_out = m->sent_pid ? (uint16_t)((m->ref_out + 1) & 0x7fff) : in;
    m->ref_in = in;
    m->switch_in = in;
    m->ref_bits = (uint8_t)bits;
    m->guard = 1;
    m->sent_pid = 1;
    return m->ref_out;
  }
  if (m->guard && sb_vp8_picture_id_diff(in, m->switch_in, bits) < 0)
    return -1;
  delta = sb_vp8_picture_id_diff(in, m->ref_in, bits);
  out = (uint16_t)((m->ref_out + delta) & 0x7fff);
  if (delta > 0) {
    m->ref_in = in;
    m->ref_out = out;
    /* Far past the switch, "before the switch" can no longer be told from "after" (the field
     * wraps): stop guarding. 15-bit fields get there after 8192 pictures, 7-bit after 32. */
    if (m->guard && sb_vp8_picture_id_diff(in, m->switch_in, bits) >= (1 << (bits - 2)))
      m->guard = 0;
  }
  return out;
}

static uint8_t map_tl0picidx(sb_vp8_munger_t *m, uint8_t in) {
  uint8_t out;
  if (!m->tl0_anchored) {
    m->tl0_offset = m->sent_tl0 ? (uint8_t)(m->last_tl0 + 1 - in) : 0;
    m->tl0_anchored = 1;
  }
  out = (uint8_t)(in + m->tl0_offset);
  if (!m->sent_tl0 || (int8_t)(uint8_t)(out - m->last_tl0) > 0)
    m->last_tl0 = out;
  m->sent_tl0 = 1;
  return out;
}

int sb_vp8_munger_process(sb_vp8_munger_t *m, int source, uint8_t *payload,
                          const sb_vp8_desc_t *d) {
  int32_t pid = 0;
  if (source != m->source) {
    m->source = source;
    m->ref_bits = 0;
    m->tl0_anchored = 0;
  }
  /* Decide to drop before anything is written or anchored by this packet's TL0PICIDX. */
  if (d->has_picture_id) {
    pid = map_picture_id(m, d);
    if (pid < 0)
      return 0;
    sb_vp8_set_picture_id(payload, d, (uint16_t)pid);
  }
  if (d->has_tl0picidx)
    sb_vp8_set_tl0picidx(payload, d, map_tl0picidx(m, d->tl0picidx));
  return 1;
}

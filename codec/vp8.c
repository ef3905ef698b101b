/* VP8 RTP payload descriptor parsing (RFC 7741 §4.2, §4.3) and keyframe header (RFC 6386 §9). */
#include "codec/vp8.h"

#include <string.h>

/* Reads the 3-byte VP8 payload header and, on a keyframe, the 7 bytes after it:
 * start code 9d 01 2a, then 14-bit width and height, each with 2 scaling bits on top. */
static int vp8_parse_frame_header(const uint8_t *p, size_t len, sb_vp8_desc_t *d) {
  if (len < 3)
    return -1;
  if (p[0] & 0x01)
    return 0; /* P=1: an interframe */
  if (len < 10 || p[3] != 0x9d || p[4] != 0x01 || p[5] != 0x2a)
    return -1;
  d->is_keyframe = 1;
  d->width = (uint16_t)((p[6] | p[7] << 8) & 0x3fff);
  d->hscale = (uint8_t)(p[7] >> 6);
  d->height = (uint16_t)((p[8] | p[9] << 8) & 0x3fff);
  d->vscale = (uint8_t)(p[9] >> 6);
  return 0;
}

int sb_vp8_parse(const uint8_t *payload, size_t len, sb_vp8_desc_t *d) {
  size_t off = 1;
  memset(d, 0, sizeof *d);
  if (len < 1)
    return -1;
  d->has_ext = payload[0] >> 7;
  d->non_reference = (payload[0] >> 5) & 1;
  d->start = (payload[0] >> 4) & 1;
  d->partition = payload[0] & 0x07;
  if (d->has_ext) {
    if (len < 2)
      return -1;
    uint8_t x = payload[1];
    off = 2;
    d->has_picture_id = x >> 7;
    d->has_tl0picidx = (x >> 6) & 1;
    d->has_tid = (x >> 5) & 1;
    d->has_keyidx = (x >> 4) & 1;
    if (d->has_picture_id) {
      if (off >= len)
        return -1;
      d->picture_id_off = (uint8_t)off;
      if (payload[off] & 0x80) {
        if (off + 1 >= len)
          return -1;
        d->picture_id_bits = 15;
        d->picture_id = (uint16_t)((payload[off] & 0x7f) << 8 | payload[off + 1]);
        off += 2;
      } else {
        d->picture_id_bits = 7;
        d->picture_id = payload[off];
        off += 1;
      }
    }
    if (d->has_tl0picidx) {
      if (off >= len)
        return -1;
      d->tl0picidx_off = (uint8_t)off;
      d->tl0picidx = payload[off++];
    }
    if (d->has_tid || d->has_keyidx) {
      if (off >= len)
        return -1;
      uint8_t tk = payload[off++];
      if (d->has_tid) {
        d->tid = tk >> 6;
        d->layer_sync = (tk >> 5) & 1;
      }
      if (d->has_keyidx)
        d->keyidx = tk & 0x1f;
    }
  }
  /* A descriptor with no VP8 data behind it carries nothing to forward. */
  if (off >= len)
    return -1;
  d->desc_len = (uint8_t)off;
  if (d->start && d->partition == 0 &&
      vp8_parse_frame_header(payload + off, len - off, d) < 0)
    return -1;
  return (int)off;
}

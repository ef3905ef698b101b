#include "relay/framing.h"

#include <string.h>

void sb_framer_init(sb_framer_t *f, size_t max_frame) {
  f->start = f->end = f->skip = 0;
  f->max_frame = max_frame < SB_FRAMER_MAX ? max_frame : SB_FRAMER_MAX;
}

/* Moves the unconsumed bytes to the front, so that a whole frame of the limit
 * fits after them. */
static void compact(sb_framer_t *f) {
  if (f->start == 0)
    return;
  memmove(f->buf, f->buf + f->start, f->end - f->start);
  f->end -= f->start;
  f->start = 0;
}

uint8_t *sb_framer_space(sb_framer_t *f, size_t *room) {
  compact(f); /* at most one partial frame: a short move */
  *room = sizeof f->buf - f->end;
  return f->buf + f->end;
}

void sb_framer_wrote(sb_framer_t *f, size_t n) {
  size_t room = sizeof f->buf - f->end;
  f->end += n < room ? n : room;
}

size_t sb_framer_feed(sb_framer_t *f, const uint8_t *data, size_t len) {
  size_t room;
  uint8_t *p = sb_framer_space(f, &room);
  size_t n = len < room ? len : room;
  memcpy(p, data, n);
  sb_framer_wrote(f, n);
  return n;
}

sb_frame_result_t sb_framer_next(sb_framer_t *f, uint8_t **frame, size_t *len) {
  if (f->skip) {
    size_t n = f->end - f->start < f->skip ? f->end - f->start : f->skip;
    f->start += n;
    f->skip -= n;
    if (f->skip)
      return SB_FRAME_MORE;
  }
  size_t have = f->end - f->start;
  if (have < SB_FRAME_HDR)
    return SB_FRAME_MORE;
  const uint8_t *h = f->buf + f->start;
  size_t n = (size_t)h[0] << 8 | h[1];
  if (n > f->max_frame) {
    f->start += SB_FRAME_HDR;
    f->skip = n;
    *len = n;
    return SB_FRAME_OVERSIZE;
  }
  if (have < SB_FRAME_HDR + n)
    return SB_FRAME_MORE;
  *frame = f->buf + f->start + SB_FRAME_HDR;
  *len = n;
  f->start += SB_FRAME_HDR + n;
  return SB_FRAME_OK;
}

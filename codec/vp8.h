/* VP8 RTP payload descriptor (RFC 7741 §4.2) and keyframe header (RFC 6386 §9.1), parsed in
 * place.
 *
 *        0 1 2 3 4 5 6 7
 *       |X|R|N|S|R| PID |   always
 *    X: |I|L|T|K| RSV   |   if X
 *    I: |M| PictureID   |   if I (M=1: 15-bit PictureID, one more byte)
 *    L: |   TL0PICIDX   |   if L
 *  T/K: |TID|Y| KEYIDX  |   if T or K
 *
 * Parsing copies nothing and allocates nothing; the rewrite helpers write the fields in place,
 * keeping the widths the packet already has, so a payload never changes length. */
#ifndef SB_VP8_H
#define SB_VP8_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint8_t has_ext;         /* X */
  uint8_t non_reference;   /* N: the frame can be dropped without hurting others */
  uint8_t start;           /* S: first packet of a partition */
  uint8_t partition;       /* PID, 0..7 */
  uint8_t has_picture_id;  /* I */
  uint8_t picture_id_bits; /* 7 or 15 (M flag); 0 without I */
  uint8_t has_tl0picidx;   /* L */
  uint8_t has_tid;         /* T */
  uint8_t has_keyidx;      /* K */
  uint8_t tid;             /* temporal layer, valid with T */
  uint8_t layer_sync;      /* Y, valid with T */
  uint8_t keyidx;          /* valid with K */
  uint8_t tl0picidx;       /* valid with L */
  uint8_t picture_id_off;  /* offset of the PictureID field in the payload (0 = absent) */
  uint8_t tl0picidx_off;   /* offset of the TL0PICIDX byte (0 = absent) */
  uint8_t desc_len;        /* descriptor length: the VP8 payload starts here; 1..6 */
  uint16_t picture_id;     /* valid with I */
  uint8_t is_keyframe;     /* S=1, PID=0 and the payload header's P bit is 0 */
  uint8_t hscale, vscale;  /* keyframe scaling bits (0..3), valid on a keyframe */
  uint16_t width, height;  /* keyframe size in pixels (14 bits), valid on a keyframe */
} sb_vp8_desc_t;

/** Parses the descriptor at the start of an RTP payload and, on the first packet of a frame,
 * the VP8 payload header (and the keyframe header on a keyframe). Returns the descriptor length,
 * or -1 if the payload is truncated anywhere (descriptor, no VP8 data after it, a payload header
 * shorter than 3 bytes, a keyframe header shorter than 10 bytes) or the keyframe start code is not
 * 9d 01 2a. Nothing is copied; `d` describes `payload`, which must stay alive for the rewrites. */
int sb_vp8_parse(const uint8_t *payload, size_t len, sb_vp8_desc_t *d);

/** Writes `picture_id` into the PictureID field in the width the packet has (a 7-bit field gets
 * the value mod 128, a 15-bit field mod 32768). Returns 0, or -1 if the packet has no PictureID. */
static inline int sb_vp8_set_picture_id(uint8_t *payload, const sb_vp8_desc_t *d,
                                        uint16_t picture_id) {
  uint8_t *p = payload + d->picture_id_off;
  if (d->picture_id_off == 0)
    return -1;
  if (d->picture_id_bits == 15) {
    p[0] = (uint8_t)(0x80 | ((picture_id >> 8) & 0x7f));
    p[1] = (uint8_t)picture_id;
  } else {
    p[0] = (uint8_t)(picture_id & 0x7f);
  }
  return 0;
}

/** Writes TL0PICIDX in place. Returns 0, or -1 if the packet has no TL0PICIDX field. */
static inline int sb_vp8_set_tl0picidx(uint8_t *payload, const sb_vp8_desc_t *d, uint8_t tl0) {
  if (d->tl0picidx_off == 0)
    return -1;
  payload[d->tl0picidx_off] = tl0;
  return 0;
}

/** Picture id arithmetic in a field of `bits` bits (7 or 15): the signed distance a - b,
 * in [-2^(bits-1), 2^(bits-1)). */
static inline int32_t sb_vp8_picture_id_diff(uint16_t a, uint16_t b, unsigned bits) {
  uint32_t mod = 1u << bits;
  uint32_t d = ((uint32_t)a - b) & (mod - 1);
  return d >= mod / 2 ? (int32_t)d - (int32_t)mod : (int32_t)d;
}

#endif

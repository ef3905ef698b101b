/* RFC 4571 framing reader for ICE-TCP (RFC 6544 §3.2): each packet on the
 * stream is preceded by a 16-bit length in network order. Bytes in, frames out,
 * no I/O and no allocation: the caller reads into the framer's own bounded
 * buffer (sb_framer_space, sb_framer_wrote) or copies bytes in
 * (sb_framer_feed), then takes complete frames with sb_framer_next. A frame
 * longer than the framer's limit is skipped whole (its bytes are read and
 * thrown away) and reported, so one oversize frame neither grows the buffer nor
 * loses the stream's framing. */
#ifndef SB_FRAMING_H
#define SB_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#define SB_FRAME_HDR 2
#define SB_FRAMER_MAX                                                          \
  1600 /* the largest frame kept (SB_PKT_BUF: a datagram the relay handles) */

typedef enum {
  SB_FRAME_MORE = 0, /* no complete frame buffered: read more */
  SB_FRAME_OK,       /* a frame: *frame, *len (len may be 0) */
  SB_FRAME_OVERSIZE, /* a frame over the limit was announced: it is being
                        skipped */
} sb_frame_result_t;

typedef struct {
  uint8_t buf[SB_FRAME_HDR + SB_FRAMER_MAX];
  size_t start, end; /* unconsumed bytes are buf[start, end) */
  size_t max_frame;  /* at most SB_FRAMER_MAX */
  size_t skip;       /* bytes of an oversize frame still to throw away */
} sb_framer_t;

/** Resets `f`; frames longer than `max_frame` (capped at SB_FRAMER_MAX) are
 * skipped. */
void sb_framer_init(sb_framer_t *f, size_t max_frame);
/** Where the next bytes of the stream go, and how many fit there: with the
 * frames taken, always room for the rest of a frame of the limit (0 only while
 * a complete frame waits). Moves the unconsumed bytes, so frames taken before
 * are no longer valid. */
uint8_t *sb_framer_space(sb_framer_t *f, size_t *room);
/** `n` bytes were written at sb_framer_space (n <= room). */
void sb_framer_wrote(sb_framer_t *f, size_t n);
/** Copies up to `len` bytes of the stream in; returns how many it took (less
 * than `len` only when the buffer is full: take frames, then feed the rest). */
size_t sb_framer_feed(sb_framer_t *f, const uint8_t *data, size_t len);
/** The next complete frame: SB_FRAME_OK with *frame (inside the framer's
 * buffer, valid until the next sb_framer_space or sb_framer_feed) and *len;
 * SB_FRAME_MORE; or SB_FRAME_OVERSIZE once per frame over the limit (*len is
 * its announced length). */
sb_frame_result_t sb_framer_next(sb_framer_t *f, uint8_t **frame, size_t *len);

/** Writes the 2-byte header of a frame of `len` bytes (len <= 65535) into
 * `hdr`. */
static inline void sb_frame_header(uint8_t hdr[SB_FRAME_HDR], size_t len) {
  hdr[0] = (uint8_t)(len >> 8);
  hdr[1] = (uint8_t)len;
}

#endif

/* libFuzzer target for the ICE-TCP framing reader (relay/framing.c, RFC 4571),
 * as a worker's TCP connection drives it: the stream arrives in reads of
 * arbitrary sizes, straight into the framer's buffer. Input: one byte that sets
 * the read sizes' seed and the frame limit, then the stream. Checked besides
 * memory errors: the frames it yields are exactly those a direct parse of the
 * whole stream finds (same lengths, same bytes, same order), frames over the
 * limit are reported as oversize and skipped, and no read is ever refused while
 * no complete frame waits.
 *
 * Built and run by the fuzz tree (-DSB_FUZZ=ON, clang; tests/fuzz/run.sh); by
 * hand: build-fuzz/tests/fuzz_framing -max_total_time=60 CORPUS_DIR
 * tests/fuzz/corpus/framing */
#include "relay/framing.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define REQUIRE(c)                                                             \
  do {                                                                         \
    if (!(c))                                                                  \
      __builtin_trap();                                                        \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  uint32_t rng = data[0] * 2654435761u + 1;
  size_t limit = data[0] & 1 ? SB_FRAMER_MAX : 16 + (size_t)data[0] * 4;
  const uint8_t *s = data + 1;
  size_t len = size - 1;
  sb_framer_t f;
  sb_framer_init(&f, limit);
  size_t in = 0, ref = 0; /* ref: the direct parse's position */
  int expect_skip = 0;
  while (in < len) {
    rng = rng * 1664525u + 1013904223u;
    size_t step = 1 + (rng >> 16) % 2000, room;
    uint8_t *p = sb_framer_space(&f, &room);
    REQUIRE(p >= f.buf && p + room <= f.buf + sizeof f.buf);
    size_t n = len - in < step ? len - in : step;
    n = n < room ? n : room;
    REQUIRE(n > 0); /* room is there: every complete frame was taken below */
    memcpy(p, s + in, n);
    sb_framer_wrote(&f, n);
    in += n;
    uint8_t *fr;
    size_t flen;
    sb_frame_result_t r;
    while ((r = sb_framer_next(&f, &fr, &flen)) != SB_FRAME_MORE) {
      REQUIRE(ref + SB_FRAME_HDR <= len);
      size_t want = (size_t)s[ref] << 8 | s[ref + 1];
      REQUIRE(flen == want);
      if (r == SB_FRAME_OVERSIZE) {
        REQUIRE(want > limit);
        ref +=
            SB_FRAME_HDR + want; /* may run past the end: the rest is skipped */
        expect_skip = ref > len;
        continue;
      }
      REQUIRE(r == SB_FRAME_OK && want <= limit &&
              ref + SB_FRAME_HDR + want <= in);
      REQUIRE(memcmp(fr, s + ref + SB_FRAME_HDR, want) == 0);
      ref += SB_FRAME_HDR + want;
    }
  }
  /* What is left unparsed is less than one frame (or the tail of a skipped
   * one). */
  if (!expect_skip && ref < len) {
    REQUIRE(len - ref < SB_FRAME_HDR ||
            len - ref < SB_FRAME_HDR + ((size_t)s[ref] << 8 | s[ref + 1]));
  }
  return 0;
}

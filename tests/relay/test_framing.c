/* RFC 4571 framing reader (relay/framing.c): frames split across reads, several
 * in one read, zero-length and oversize frames, garbage, and reads straight
 * into its buffer. */
#include "relay/framing.h"
#include "sbtest.h"

/* Writes a frame of `len` bytes, each byte `fill`, with its header; returns its
 * size. */
static size_t frame(uint8_t *out, size_t len, uint8_t fill) {
  sb_frame_header(out, len);
  memset(out + SB_FRAME_HDR, fill, len);
  return SB_FRAME_HDR + len;
}

/* Feeds `data` in pieces of `step` bytes, collecting the frames' lengths and
 * first bytes. */
typedef struct {
  size_t lens[64];
  uint8_t first[64];
  int n, oversize, bad_fill;
} got_t;

static void drain(sb_framer_t *f, got_t *g) {
  uint8_t *p;
  size_t len;
  sb_frame_result_t r;
  while ((r = sb_framer_next(f, &p, &len)) != SB_FRAME_MORE) {
    if (r == SB_FRAME_OVERSIZE) {
      g->oversize++;
      continue;
    }
    for (size_t i = 1; i < len; i++)
      g->bad_fill += p[i] != p[0];
    g->first[g->n] = len ? p[0] : 0;
    g->lens[g->n++] = len;
  }
}

static void feed_in_steps(sb_framer_t *f, const uint8_t *data, size_t len,
                          size_t step, got_t *g) {
  size_t off = 0;
  while (off < len) {
    size_t n = len - off < step ? len - off : step;
    size_t took = sb_framer_feed(f, data + off, n);
    off += took;
    drain(f, g);
  }
}

SB_TEST(frames_split_across_reads_come_out_whole) {
  uint8_t stream[4000];
  size_t len = frame(stream, 100, 'a');
  len += frame(stream + len, 1200, 'b');
  len += frame(stream + len, 1, 'c');
  for (size_t step = 1; step <= 7; step++) {
    sb_framer_t f;
    got_t g = {0};
    sb_framer_init(&f, SB_FRAMER_MAX);
    feed_in_steps(&f, stream, len, step, &g);
    CHECK_EQ(g.n, 3);
    CHECK_EQ(g.lens[0], 100);
    CHECK_EQ(g.lens[1], 1200);
    CHECK_EQ(g.lens[2], 1);
    CHECK_EQ(g.first[1], 'b');
    CHECK_EQ(g.bad_fill, 0);
  }
}

SB_TEST(frames_coalesced_in_one_read_all_come_out) {
  uint8_t stream[4000];
  size_t len = 0;
  for (int i = 0; i < 20; i++)
    len += frame(stream + len, (size_t)(10 + i), (uint8_t)('A' + i));
  sb_framer_t f;
  got_t g = {0};
  sb_framer_init(&f, SB_FRAMER_MAX);
  CHECK_EQ(sb_framer_feed(&f, stream, len), len);
  drain(&f, &g);
  CHECK_EQ(g.n, 20);
  for (int i = 0; i < 20; i++) {
    CHECK_EQ(g.lens[i], 10 + i);
    CHECK_EQ(g.first[i], 'A' + i);
  }
  CHECK_EQ(g.bad_fill, 0);
}

SB_TEST(full_size_frames_in_big_reads_fill_and_drain_the_buffer) {
  static uint8_t stream[10 * (SB_FRAMER_MAX + SB_FRAME_HDR)];
  size_t len = 0;
  for (int i = 0; i < 10; i++)
    len += frame(stream + len, SB_FRAMER_MAX, (uint8_t)i);
  sb_framer_t f;
  got_t g = {0};
  sb_framer_init(&f, SB_FRAMER_MAX);
  feed_in_steps(&f, stream, len, 5000,
                &g); /* the buffer takes less than asked */
  CHECK_EQ(g.n, 10);
  CHECK_EQ(g.lens[9], SB_FRAMER_MAX);
  CHECK_EQ(g.first[9], 9);
  CHECK_EQ(g.bad_fill, 0);
}

SB_TEST(zero_length_frames_are_frames_of_nothing) {
  uint8_t stream[64];
  size_t len = frame(stream, 0, 0);
  len += frame(stream + len, 3, 'x');
  len += frame(stream + len, 0, 0);
  sb_framer_t f;
  got_t g = {0};
  sb_framer_init(&f, SB_FRAMER_MAX);
  feed_in_steps(&f, stream, len, 1, &g);
  CHECK_EQ(g.n, 3);
  CHECK_EQ(g.lens[0], 0);
  CHECK_EQ(g.lens[1], 3);
  CHECK_EQ(g.lens[2], 0);
}

SB_TEST(oversize_frames_are_skipped_and_framing_goes_on) {
  static uint8_t stream[70000 + 100];
  size_t len = frame(stream, 5, 'a');
  len +=
      frame(stream + len, 65535, 'z');   /* the largest a header can announce */
  len += frame(stream + len, 1301, 'y'); /* over a limit of 1300 */
  len += frame(stream + len, 7, 'b');
  for (size_t step = 1; step <= 4096; step *= 8) {
    sb_framer_t f;
    got_t g = {0};
    sb_framer_init(&f, 1300);
    feed_in_steps(&f, stream, len, step, &g);
    CHECK_EQ(g.oversize, 2);
    CHECK_EQ(g.n, 2);
    CHECK_EQ(g.first[0], 'a');
    CHECK_EQ(g.first[1], 'b');
    CHECK_EQ(g.lens[1], 7);
  }
}

SB_TEST(garbage_yields_bounded_frames_and_never_overruns) {
  /* Random bytes read as headers: every frame it reports is within the limit
   * and inside the stream; the sum of what it reports and skips never exceeds
   * what went in. */
  static uint8_t stream[200000];
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof stream; i++) {
    x = x * 1664525u + 1013904223u;
    stream[i] = (uint8_t)(x >> 24);
  }
  sb_framer_t f;
  sb_framer_init(&f, 1200);
  size_t off = 0, accounted = 0;
  while (off < sizeof stream) {
    x = x * 1664525u + 1013904223u;
    size_t step = 1 + (x >> 20) % 3000;
    if (step > sizeof stream - off)
      step = sizeof stream - off;
    size_t room;
    uint8_t *p = sb_framer_space(&f, &room);
    size_t n = step < room ? step : room;
    memcpy(p, stream + off, n);
    sb_framer_wrote(&f, n);
    off += n;
    uint8_t *fr;
    size_t len;
    sb_frame_result_t r;
    while ((r = sb_framer_next(&f, &fr, &len)) != SB_FRAME_MORE) {
      CHECK(len <= (r == SB_FRAME_OK ? 1200u : 65535u));
      if (r == SB_FRAME_OK)
        CHECK(fr >= f.buf && fr + len <= f.buf + sizeof f.buf);
      accounted += SB_FRAME_HDR + (r == SB_FRAME_OK ? len : 0);
    }
  }
  CHECK(accounted <= sizeof stream);
}

SB_TEST(reading_into_its_space_keeps_room_for_a_whole_frame) {
  uint8_t stream[3 * (1000 + SB_FRAME_HDR)];
  size_t len = 0;
  for (int i = 0; i < 3; i++)
    len += frame(stream + len, 1000, (uint8_t)('p' + i));
  sb_framer_t f;
  got_t g = {0};
  sb_framer_init(&f, SB_FRAMER_MAX);
  size_t off = 0;
  while (off < len) {
    size_t room;
    uint8_t *p = sb_framer_space(&f, &room);
    CHECK(room >= 1);
    size_t n = len - off < 999 ? len - off : 999; /* never a frame boundary */
    n = n < room ? n : room;
    memcpy(p, stream + off, n);
    sb_framer_wrote(&f, n);
    off += n;
    drain(&f, &g);
  }
  CHECK_EQ(g.n, 3);
  CHECK_EQ(g.first[2], 'r');
  CHECK_EQ(g.bad_fill, 0);
}

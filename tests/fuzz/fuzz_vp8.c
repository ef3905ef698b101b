/* libFuzzer target over the VP8 descriptor parser/rewriter, the VP8 munger, the Opus TOC parser
 * and the audio level parser. Build and run from the source root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I. \
 *     tests/fuzz/fuzz_vp8.c codec/vp8.c codec/vp8_munger.c codec/opus.c -o /tmp/fuzz_vp8
 *   mkdir -p /tmp/fuzz_vp8_corpus && /tmp/fuzz_vp8 -max_total_time=30 /tmp/fuzz_vp8_corpus
 *
 * Besides memory errors it traps on broken invariants: a descriptor longer than the packet,
 * a rewrite that changes anything but the rewritten fields, an Opus packet claiming an
 * impossible duration. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codec/opus.h"
#include "codec/vp8.h"
#include "codec/vp8_munger.h"

#define MAX_PKT 1500

static void check(int ok) {
  if (!ok)
    __builtin_trap();
}

static void fuzz_vp8_one(const uint8_t *data, size_t size) {
  uint8_t copy[MAX_PKT];
  sb_vp8_desc_t d, d2;
  int n = sb_vp8_parse(data, size, &d);
  if (n < 0)
    return;
  check((size_t)n == d.desc_len && (size_t)n < size && n <= 6);
  check(!d.is_keyframe || (d.start && d.partition == 0));
  if (size > sizeof copy)
    return;
  memcpy(copy, data, size);
  check((sb_vp8_set_picture_id(copy, &d, 0x5a5a) == 0) == d.has_picture_id);
  check((sb_vp8_set_tl0picidx(copy, &d, 0xa5) == 0) == d.has_tl0picidx);
  check(sb_vp8_parse(copy, size, &d2) == n);
  check(!d.has_picture_id || d2.picture_id == (d.picture_id_bits == 15 ? 0x5a5a : 0x5a));
  check(d2.picture_id_bits == d.picture_id_bits);
  check(!d.has_tl0picidx || d2.tl0picidx == 0xa5);
  check(d2.is_keyframe == d.is_keyframe && d2.width == d.width && d2.height == d.height);
  check(memcmp(copy + n, data + n, size - (size_t)n) == 0);
}

static void fuzz_opus_one(const uint8_t *data, size_t size) {
  sb_opus_toc_t t;
  sb_audio_level_t a;
  if (sb_opus_parse(data, size, &t) == 0) {
    check(t.frames >= 1 && t.frames <= 48);
    check(t.frames * t.frame_us <= 120000);
    check(t.samples == t.frames * t.frame_us * 48 / 1000);
  }
  if (sb_audio_level_parse(data, size, &a) == 0)
    check(a.level <= 127 && a.voice <= 1);
}

/* The rest of the input as a packet sequence for one subscriber: [len][source][payload...]. */
static void fuzz_munger(const uint8_t *data, size_t size) {
  sb_vp8_munger_t m;
  uint8_t pkt[256];
  sb_vp8_munger_init(&m);
  while (size >= 2) {
    size_t len = data[0];
    int source = data[1] & 3;
    sb_vp8_desc_t d;
    data += 2;
    size -= 2;
    if (len > size)
      len = size;
    memcpy(pkt, data, len);
    if (sb_vp8_parse(pkt, len, &d) >= 0) {
      int r = sb_vp8_munger_process(&m, source, pkt, &d);
      check(r == 0 || r == 1);
      check(r == 1 || memcmp(pkt, data, len) == 0); /* a drop writes nothing */
    }
    data += len;
    size -= len;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_vp8_one(data, size);
  fuzz_opus_one(data, size);
  fuzz_munger(data, size);
  return 0;
}

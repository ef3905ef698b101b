#include "codec/encoder.h"
#include "codec/vp8_munger.h"
#include "sbtest.h"

/* A continuation packet (S=0) with I (7- or 15-bit PictureID) and optionally L, and 2 bytes of
 * VP8 data. */
typedef struct {
  uint8_t buf[8];
  size_t len;
  sb_vp8_desc_t d;
} pkt_t;

static int make(pkt_t *p, uint16_t pid, unsigned bits, int tl0) {
  size_t n = 0;
  p->buf[n++] = 0x80;
  p->buf[n++] = (uint8_t)(0x80 | (tl0 >= 0 ? 0x40 : 0));
  if (bits == 15) {
    p->buf[n++] = (uint8_t)(0x80 | pid >> 8);
    p->buf[n++] = (uint8_t)pid;
  } else {
    p->buf[n++] = (uint8_t)(pid & 0x7f);
  }
  if (tl0 >= 0)
    p->buf[n++] = (uint8_t)tl0;
  p->buf[n++] = 0xde;
  p->buf[n++] = 0xad;
  p->len = n;
  return sb_vp8_parse(p->buf, p->len, &p->d);
}

/* Runs one packet through the munger; returns the forward verdict and the output fields. */
static int run(sb_vp8_munger_t *m, int src, uint16_t pid, unsigned bits, int tl0, int *out_pid,
               int *out_tl0) {
  pkt_t p;
  sb_vp8_desc_t o;
  if (make(&p, pid, bits, tl0) < 0)
    return -1;
  int r = sb_vp8_munger_process(m, src, p.buf, &p.d);
  if (sb_vp8_parse(p.buf, p.len, &o) < 0 || p.buf[p.len - 1] != 0xad)
    return -1;
  *out_pid = o.picture_id;
  *out_tl0 = o.has_tl0picidx ? o.tl0picidx : -1;
  return r;
}

SB_TEST(first_source_passes_through) {
  sb_vp8_munger_t m;
  int pid, tl0;
  sb_vp8_munger_init(&m);
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(run(&m, 0, (uint16_t)(100 + i), 15, 7 + i, &pid, &tl0), 1);
    CHECK_EQ(pid, 100 + i);
    CHECK_EQ(tl0, 7 + i);
  }
}

SB_TEST(switch_continues_at_last_plus_one) {
  sb_vp8_munger_t m;
  int pid, tl0;
  sb_vp8_munger_init(&m);
  for (int i = 0; i <= 10; i++)
    CHECK_EQ(run(&m, 0, (uint16_t)(100 + i), 15, 5 + i, &pid, &tl0), 1);
  CHECK_EQ(pid, 110);
  CHECK_EQ(tl0, 15);
  /* Layer 1's keyframe, far away in both numbering spaces. */
  CHECK_EQ(run(&m, 1, 30000, 15, 200, &pid, &tl0), 1);
  CHECK_EQ(pid, 111);
  CHECK_EQ(tl0, 16);
  CHECK_EQ(run(&m, 1, 30000, 15, 200, &pid, &tl0), 1); /* same picture, next packet */
  CHECK_EQ(pid, 111);
  CHECK_EQ(tl0, 16);
  /* Deltas within the source are kept, gaps included (a lost picture stays a gap). */
  CHECK_EQ(run(&m, 1, 30002, 15, 202, &pid, &tl0), 1);
  CHECK_EQ(pid, 113);
  CHECK_EQ(tl0, 18);
  /* And back: the newest sent was 113/18. */
  CHECK_EQ(run(&m, 0, 120, 15, 25, &pid, &tl0), 1);
  CHECK_EQ(pid, 114);
  CHECK_EQ(tl0, 19);
}

SB_TEST(wraps_within_a_source) {
  sb_vp8_munger_t m;
  int pid, tl0;
  sb_vp8_munger_init(&m);
  CHECK_EQ(run(&m, 0, 0x7ff0, 15, 254, &pid, &tl0), 1);
  CHECK_EQ(run(&m, 1, 0x7ffe, 15, 254, &pid, &tl0), 1);
  CHECK_EQ(pid, 0x7ff1);
  CHECK_EQ(tl0, 255);
  const uint16_t in[] = {0x7fff, 0, 1};
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(run(&m, 1, in[i], 15, 255 + i, &pid, &tl0), 1);
    CHECK_EQ(pid, (0x7ff2 + i) & 0x7fff);
    CHECK_EQ(tl0, (uint8_t)(i));
  }
  /* The output wraps in its own 15 bits too. */
  for (int i = 2; i < 0x20; i++)
    CHECK_EQ(run(&m, 1, (uint16_t)i, 15, -1, &pid, &tl0), 1);
  CHECK_EQ(pid, (0x7ff3 + 0x1f) & 0x7fff);
}

SB_TEST(pictures_before_the_switch_are_dropped_later_ones_mapped) {
  sb_vp8_munger_t m;
  pkt_t p;
  int pid, tl0;
  sb_vp8_munger_init(&m);
  CHECK_EQ(run(&m, 0, 10, 15, 1, &pid, &tl0), 1);
  CHECK_EQ(run(&m, 1, 500, 15, 40, &pid, &tl0), 1);
  CHECK_EQ(pid, 11);
  CHECK_EQ(tl0, 2);
  /* A late packet of picture 499 of the new source: dropped and left untouched. */
  CHECK_EQ(make(&p, 499, 15, 39), 5);
  CHECK_EQ(sb_vp8_munger_process(&m, 1, p.buf, &p.d), 0);
  CHECK_EQ(p.d.picture_id, 499);
  CHECK_EQ(p.buf[2], 0x80 | (499 >> 8));
  CHECK_EQ(p.buf[3], 499 & 0xff);
  CHECK_EQ(p.buf[4], 39);
  /* Reordered: 502 before 501; both land where their distance says. */
  CHECK_EQ(run(&m, 1, 502, 15, 42, &pid, &tl0), 1);
  CHECK_EQ(pid, 13);
  CHECK_EQ(tl0, 4);
  CHECK_EQ(run(&m, 1, 501, 15, 41, &pid, &tl0), 1);
  CHECK_EQ(pid, 12);
  CHECK_EQ(tl0, 3);
  CHECK_EQ(run(&m, 1, 503, 15, 43, &pid, &tl0), 1);
  CHECK_EQ(pid, 14);
  CHECK_EQ(tl0, 5);
}

SB_TEST(guard_ends_far_past_the_switch) {
  sb_vp8_munger_t m;
  int pid, tl0;
  sb_vp8_munger_init(&m);
  CHECK_EQ(run(&m, 0, 0, 15, -1, &pid, &tl0), 1);
  /* Walk 20000 pictures in steps of 100: past the point where "before" becomes ambiguous. */
  for (int i = 100; i <= 20000; i += 100)
    CHECK_EQ(run(&m, 0, (uint16_t)i, 15, -1, &pid, &tl0), 1);
  CHECK_EQ(pid, 20000);
  /* Seen from the switch point (0), 19000 reads as 13768 pictures *before* it (the field wraps);
   * with the guard still on it would be dropped; now it is mapped by its distance. */
  CHECK_EQ(run(&m, 0, 19000, 15, -1, &pid, &tl0), 1);
  CHECK_EQ(pid, 19000);
}

/* 7-bit sources: distances are taken mod 128, output is 15-bit and written mod 128. */
SB_TEST(seven_bit_fields) {
  sb_vp8_munger_t m;
  int pid, tl0;
  sb_vp8_munger_init(&m);
  CHECK_EQ(run(&m, 0, 1000, 15, -1, &pid, &tl0), 1);
  CHECK_EQ(run(&m, 1, 126, 7, -1, &pid, &tl0), 1);
  CHECK_EQ(pid, 1001 % 128);
  CHECK_EQ(run(&m, 1, 127, 7, -1, &pid, &tl0), 1);
  CHECK_EQ(pid, 1002 % 128);
  CHECK_EQ(run(&m, 1, 0, 7, -1, &pid, &tl0), 1);
  CHECK_EQ(pid, 1003 % 128);
  CHECK_EQ(run(&m, 1, 120, 7, -1, &pid, &tl0), 0); /* before the switch (126) */
  /* Back to a 15-bit source: it follows the 15-bit output value, not its 7-bit rendering. */
  CHECK_EQ(run(&m, 0, 7, 15, -1, &pid, &tl0), 1);
  CHECK_EQ(pid, 1004);
}

SB_TEST(fields_a_packet_lacks_are_left_alone) {
  sb_vp8_munger_t m;
  sb_vp8_desc_t d;
  uint8_t plain[] = {0x00, 0x11};
  sb_vp8_munger_init(&m);
  CHECK_EQ(sb_vp8_parse(plain, sizeof plain, &d), 1);
  CHECK_EQ(sb_vp8_munger_process(&m, 0, plain, &d), 1);
  CHECK_EQ(plain[0], 0x00);
  CHECK_EQ(plain[1], 0x11);
  /* TL0PICIDX continues across a switch even without PictureIDs. */
  uint8_t l1[] = {0x80, 0x40, 9, 0x00}, l2[] = {0x80, 0x40, 77, 0x00};
  CHECK_EQ(sb_vp8_parse(l1, sizeof l1, &d), 3);
  CHECK_EQ(sb_vp8_munger_process(&m, 0, l1, &d), 1);
  CHECK_EQ(l1[2], 9);
  CHECK_EQ(sb_vp8_parse(l2, sizeof l2, &d), 3);
  CHECK_EQ(sb_vp8_munger_process(&m, 1, l2, &d), 1);
  CHECK_EQ(l2[2], 10);
}

/* Real libvpx layers: switching at layer 1's keyframe gives a continuous output stream that one
 * libvpx decoder decodes through the resolution change. */
SB_TEST(switching_real_layers_decodes) {
  sb_enc_stream_t lo, hi;
  sb_vp8_enc_params_t pl = {.width = 320, .height = 180, .bitrate_kbps = 300, .frames = 60,
                            .keyframe_interval = 30, .picture_id_start = 1000,
                            .with_tl0picidx = 1, .tl0picidx_start = 10};
  sb_vp8_enc_params_t ph = pl;
  sb_vp8_munger_t m;
  sb_vp8_decoder_t *dec = sb_vp8_decoder_create();
  int decoded = 0;
  ph.width = 640;
  ph.height = 360;
  ph.bitrate_kbps = 900;
  ph.picture_id_start = 0x7ff0;
  ph.tl0picidx_start = 250;
  ph.pattern_seed = 1;
  CHECK(dec);
  CHECK(sb_vp8_encode(&pl, &lo) > 0);
  CHECK(sb_vp8_encode(&ph, &hi) > 0);
  sb_vp8_munger_init(&m);
  for (int layer = 0; layer < 2; layer++) {
    sb_enc_stream_t *s = layer ? &hi : &lo;
    for (size_t i = 0; i < s->count; i++) {
      sb_enc_packet_t *pk = &s->pkts[i];
      sb_vp8_desc_t d;
      unsigned w = 0, h = 0;
      if ((layer == 0) != (pk->frame < 30))
        continue;
      CHECK_EQ(sb_vp8_parse(pk->data, pk->len, &d), 6);
      CHECK_EQ(sb_vp8_munger_process(&m, layer, pk->data, &d), 1);
      CHECK_EQ(sb_vp8_parse(pk->data, pk->len, &d), 6);
      CHECK_EQ(d.picture_id, 1000 + pk->frame);
      CHECK_EQ(d.tl0picidx, 10 + pk->frame);
      int r = sb_vp8_decoder_push(dec, pk->data, pk->len, pk->marker, NULL, &w, &h);
      CHECK_EQ(r, pk->marker);
      if (r == 1) {
        CHECK_EQ(w, layer ? 640 : 320);
        decoded++;
      }
    }
  }
  CHECK_EQ(decoded, 60);
  sb_vp8_decoder_destroy(dec);
  sb_enc_stream_free(&lo);
  sb_enc_stream_free(&hi);
}

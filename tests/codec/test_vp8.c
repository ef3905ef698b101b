#include "codec/encoder.h"
#include "codec/vp8.h"
#include "sbtest.h"

/* A keyframe's first packet: X, I (15-bit 0x1234), L, T/K, then payload header + keyframe header
 * for 640x360 with scale bits 1 and 2. */
static const uint8_t full_key[] = {
    0x90,       /* X, S, PID 0 */
    0xf0,       /* I L T K */
    0x92, 0x34, /* M, PictureID 0x1234 */
    0x07,       /* TL0PICIDX */
    0xa5,       /* TID 2, Y 1, KEYIDX 5 */
    0x10, 0x02, 0x00, /* P=0 (key), show_frame */
    0x9d, 0x01, 0x2a,
    0x80, 0x42, /* width 640 (0x280), hscale 1 */
    0x68, 0x81, /* height 360 (0x168), vscale 2 */
    0xaa, 0xbb};

SB_TEST(parses_every_field_of_a_keyframe) {
  sb_vp8_desc_t d;
  CHECK_EQ(sb_vp8_parse(full_key, sizeof full_key, &d), 6);
  CHECK_EQ(d.desc_len, 6);
  CHECK_EQ(d.has_ext, 1);
  CHECK_EQ(d.start, 1);
  CHECK_EQ(d.non_reference, 0);
  CHECK_EQ(d.partition, 0);
  CHECK_EQ(d.has_picture_id, 1);
  CHECK_EQ(d.picture_id_bits, 15);
  CHECK_EQ(d.picture_id, 0x1234);
  CHECK_EQ(d.has_tl0picidx, 1);
  CHECK_EQ(d.tl0picidx, 7);
  CHECK_EQ(d.has_tid, 1);
  CHECK_EQ(d.tid, 2);
  CHECK_EQ(d.layer_sync, 1);
  CHECK_EQ(d.has_keyidx, 1);
  CHECK_EQ(d.keyidx, 5);
  CHECK_EQ(d.is_keyframe, 1);
  CHECK_EQ(d.width, 640);
  CHECK_EQ(d.height, 360);
  CHECK_EQ(d.hscale, 1);
  CHECK_EQ(d.vscale, 2);
}

SB_TEST(parses_short_forms) {
  sb_vp8_desc_t d;
  /* No X: one byte of descriptor; S=0 so the payload header is not looked at. */
  const uint8_t plain[] = {0x23, 0xff};
  CHECK_EQ(sb_vp8_parse(plain, sizeof plain, &d), 1);
  CHECK_EQ(d.non_reference, 1);
  CHECK_EQ(d.start, 0);
  CHECK_EQ(d.partition, 3);
  CHECK_EQ(d.has_picture_id, 0);
  CHECK_EQ(d.picture_id_off, 0);
  CHECK_EQ(d.is_keyframe, 0);
  /* 7-bit PictureID only. */
  const uint8_t pic7[] = {0x80, 0x80, 0x55, 0x00};
  CHECK_EQ(sb_vp8_parse(pic7, sizeof pic7, &d), 3);
  CHECK_EQ(d.picture_id_bits, 7);
  CHECK_EQ(d.picture_id, 0x55);
  CHECK_EQ(d.has_tl0picidx, 0);
  /* L without I, K without T: the T/K byte carries only KEYIDX. */
  const uint8_t lk[] = {0x80, 0x50, 0x09, 0xff, 0x00};
  CHECK_EQ(sb_vp8_parse(lk, sizeof lk, &d), 4);
  CHECK_EQ(d.tl0picidx, 9);
  CHECK_EQ(d.tl0picidx_off, 2);
  CHECK_EQ(d.has_tid, 0);
  CHECK_EQ(d.tid, 0);
  CHECK_EQ(d.keyidx, 31);
}

SB_TEST(interframes_and_later_partitions_are_not_keyframes) {
  sb_vp8_desc_t d;
  const uint8_t inter[] = {0x10, 0x31, 0x00, 0x00}; /* S, PID 0, P=1 */
  CHECK_EQ(sb_vp8_parse(inter, sizeof inter, &d), 1);
  CHECK_EQ(d.is_keyframe, 0);
  /* P=0 but PID 1: the bytes are not a payload header. */
  const uint8_t part1[] = {0x11, 0x00};
  CHECK_EQ(sb_vp8_parse(part1, sizeof part1, &d), 1);
  CHECK_EQ(d.is_keyframe, 0);
  /* P=0 but S=0: a continuation packet. */
  const uint8_t cont[] = {0x00, 0x00};
  CHECK_EQ(sb_vp8_parse(cont, sizeof cont, &d), 1);
  CHECK_EQ(d.is_keyframe, 0);
}

SB_TEST(rejects_every_truncation) {
  sb_vp8_desc_t d;
  /* Every prefix of the full keyframe packet short of the keyframe header is truncated. */
  for (size_t n = 0; n < 16; n++)
    CHECK_EQ(sb_vp8_parse(full_key, n, &d), -1);
  CHECK_EQ(sb_vp8_parse(full_key, 16, &d), 6);
  /* Descriptor only, for each descriptor shape. */
  const uint8_t x_only[] = {0x80, 0x00};
  CHECK_EQ(sb_vp8_parse(x_only, 2, &d), -1);
  CHECK_EQ(sb_vp8_parse(x_only, 1, &d), -1);
  const uint8_t pic15[] = {0x80, 0x80, 0x81};
  CHECK_EQ(sb_vp8_parse(pic15, 3, &d), -1);
  const uint8_t tk[] = {0x80, 0x20};
  CHECK_EQ(sb_vp8_parse(tk, 2, &d), -1);
  /* An interframe's payload header needs 3 bytes. */
  const uint8_t inter[] = {0x10, 0x01, 0x00, 0x00};
  CHECK_EQ(sb_vp8_parse(inter, 3, &d), -1);
  CHECK_EQ(sb_vp8_parse(inter, 4, &d), 1);
}

SB_TEST(rejects_a_bad_start_code) {
  uint8_t p[sizeof full_key];
  sb_vp8_desc_t d;
  for (int i = 9; i < 12; i++) {
    memcpy(p, full_key, sizeof p);
    p[i] ^= 0x01;
    CHECK_EQ(sb_vp8_parse(p, sizeof p, &d), -1);
  }
}

SB_TEST(rewrites_fields_in_place_keeping_widths) {
  uint8_t p[sizeof full_key];
  sb_vp8_desc_t d;
  memcpy(p, full_key, sizeof p);
  CHECK_EQ(sb_vp8_parse(p, sizeof p, &d), 6);
  CHECK_EQ(sb_vp8_set_picture_id(p, &d, 0x7ffe), 0);
  CHECK_EQ(sb_vp8_set_tl0picidx(p, &d, 200), 0);
  CHECK_EQ(sb_vp8_parse(p, sizeof p, &d), 6);
  CHECK_EQ(d.picture_id, 0x7ffe);
  CHECK_EQ(d.picture_id_bits, 15);
  CHECK_EQ(d.tl0picidx, 200);
  CHECK_EQ(d.keyidx, 5);
  CHECK(memcmp(p + 6, full_key + 6, sizeof p - 6) == 0);
  CHECK(memcmp(p, full_key, 2) == 0);
  /* Bit 15 of the value cannot leak into the M flag. */
  CHECK_EQ(sb_vp8_set_picture_id(p, &d, 0xffff), 0);
  CHECK_EQ(sb_vp8_parse(p, sizeof p, &d), 6);
  CHECK_EQ(d.picture_id, 0x7fff);

  /* A 7-bit field gets the value mod 128 and keeps M=0. */
  uint8_t p7[] = {0x80, 0x80, 0x55, 0x00};
  CHECK_EQ(sb_vp8_parse(p7, sizeof p7, &d), 3);
  CHECK_EQ(sb_vp8_set_picture_id(p7, &d, 300), 0);
  CHECK_EQ(p7[2], 300 % 128);
  CHECK_EQ(p7[3], 0x00);

  /* Absent fields are not written. */
  uint8_t plain[] = {0x10, 0x01, 0x00, 0x00};
  CHECK_EQ(sb_vp8_parse(plain, sizeof plain, &d), 1);
  CHECK_EQ(sb_vp8_set_picture_id(plain, &d, 5), -1);
  CHECK_EQ(sb_vp8_set_tl0picidx(plain, &d, 5), -1);
  CHECK_EQ(plain[0], 0x10);
}

SB_TEST(picture_id_diff_wraps) {
  CHECK_EQ(sb_vp8_picture_id_diff(2, 0x7ffe, 15), 4);
  CHECK_EQ(sb_vp8_picture_id_diff(0x7ffe, 2, 15), -4);
  CHECK_EQ(sb_vp8_picture_id_diff(1, 127, 7), 2);
  CHECK_EQ(sb_vp8_picture_id_diff(100, 10, 7), -38);
  CHECK_EQ(sb_vp8_picture_id_diff(0x4000, 0, 15), -0x4000);
}

/* Real libvpx output: keyframe detection agrees with VPX_FRAME_IS_KEY on every frame. */
SB_TEST(libvpx_stream_parses_and_keyframes_match) {
  sb_enc_stream_t s;
  sb_vp8_enc_params_t p = {.width = 320, .height = 180, .bitrate_kbps = 600, .frames = 60,
                           .keyframe_interval = 20, .picture_id_start = 0x7ff0};
  int n = sb_vp8_encode(&p, &s);
  int keyframes = 0, frames = 0;
  CHECK(n > 60);
  CHECK_EQ(s.frames, 60);
  for (size_t i = 0; i < s.count; i++) {
    const sb_enc_packet_t *pk = &s.pkts[i];
    sb_vp8_desc_t d;
    CHECK(pk->len <= 1100);
    CHECK_EQ(sb_vp8_parse(pk->data, pk->len, &d), 4);
    CHECK_EQ(d.picture_id_bits, 15);
    CHECK_EQ(d.picture_id, (0x7ff0 + pk->frame) & 0x7fff);
    int first = i == 0 || s.pkts[i - 1].frame != pk->frame;
    CHECK_EQ(d.start, first);
    CHECK_EQ(d.is_keyframe, first && pk->is_keyframe);
    if (d.is_keyframe) {
      CHECK_EQ(d.width, 320);
      CHECK_EQ(d.height, 180);
      CHECK_EQ(d.hscale, 0);
      CHECK_EQ(d.vscale, 0);
      keyframes++;
    }
    frames += pk->marker;
  }
  CHECK_EQ(keyframes, 3);
  CHECK_EQ(frames, 60);
  sb_enc_stream_free(&s);
}

/* A keyframe larger than one payload is split; only its first packet is detected as key. */
SB_TEST(large_keyframes_span_packets) {
  sb_enc_stream_t s;
  sb_vp8_enc_params_t p = {.width = 640, .height = 360, .bitrate_kbps = 1500, .frames = 2,
                           .with_tl0picidx = 1, .tl0picidx_start = 250};
  CHECK(sb_vp8_encode(&p, &s) > 2);
  CHECK(s.pkts[1].frame == 0); /* the keyframe took at least two packets */
  sb_vp8_desc_t d;
  CHECK_EQ(sb_vp8_parse(s.pkts[0].data, s.pkts[0].len, &d), 6);
  CHECK_EQ(d.is_keyframe, 1);
  CHECK_EQ(d.width, 640);
  CHECK_EQ(d.tl0picidx, 250);
  CHECK_EQ(d.tid, 0);
  CHECK_EQ(d.layer_sync, 1);
  CHECK_EQ(sb_vp8_parse(s.pkts[1].data, s.pkts[1].len, &d), 6);
  CHECK_EQ(d.is_keyframe, 0);
  CHECK_EQ(d.start, 0);
  sb_enc_stream_free(&s);
}

/* Rewriting PictureID and TL0PICIDX in every packet changes only those bytes, and libvpx decodes
 * the rewritten stream to the same pictures as the original. */
SB_TEST(rewritten_stream_decodes_identically) {
  sb_enc_stream_t orig, rw;
  sb_vp8_enc_params_t p = {.width = 320, .height = 240, .bitrate_kbps = 500, .frames = 45,
                           .keyframe_interval = 15, .with_tl0picidx = 1};
  sb_vp8_decoder_t *d1 = sb_vp8_decoder_create(), *d2 = sb_vp8_decoder_create();
  int decoded = 0;
  CHECK(d1 && d2);
  CHECK(sb_vp8_encode(&p, &orig) > 0);
  CHECK_EQ(sb_enc_stream_copy(&rw, &orig), 0);
  for (size_t i = 0; i < rw.count; i++) {
    sb_enc_packet_t *pk = &rw.pkts[i];
    sb_vp8_desc_t d;
    uint16_t want = (uint16_t)((0x7fe0 + pk->frame) & 0x7fff);
    CHECK_EQ(sb_vp8_parse(pk->data, pk->len, &d), 6);
    CHECK_EQ(sb_vp8_set_picture_id(pk->data, &d, want), 0);
    CHECK_EQ(sb_vp8_set_tl0picidx(pk->data, &d, (uint8_t)(pk->frame + 100)), 0);
    CHECK_EQ(sb_vp8_parse(pk->data, pk->len, &d), 6);
    CHECK_EQ(d.picture_id, want);
    CHECK_EQ(d.tl0picidx, (uint8_t)(pk->frame + 100));
    CHECK(memcmp(pk->data + 5, orig.pkts[i].data + 5, pk->len - 5) == 0); /* after L */
    CHECK(memcmp(pk->data, orig.pkts[i].data, 2) == 0);
  }
  for (size_t i = 0; i < rw.count; i++) {
    uint64_t h1 = 0, h2 = 1;
    unsigned w = 0, h = 0;
    int r1 = sb_vp8_decoder_push(d1, orig.pkts[i].data, orig.pkts[i].len, orig.pkts[i].marker,
                                 &h1, NULL, NULL);
    int r2 = sb_vp8_decoder_push(d2, rw.pkts[i].data, rw.pkts[i].len, rw.pkts[i].marker, &h2, &w,
                                 &h);
    CHECK_EQ(r1, rw.pkts[i].marker);
    CHECK_EQ(r2, r1);
    if (r2 == 1) {
      CHECK(h1 == h2);
      CHECK_EQ(w, 320);
      CHECK_EQ(h, 240);
      decoded++;
    }
  }
  CHECK_EQ(decoded, 45);
  sb_vp8_decoder_destroy(d1);
  sb_vp8_decoder_destroy(d2);
  sb_enc_stream_free(&orig);
  sb_enc_stream_free(&rw);
}

/* The decoder is a real check: a corrupted frame fails or decodes to a different picture. */
SB_TEST(decoder_notices_corruption) {
  sb_enc_stream_t s;
  sb_vp8_enc_params_t p = {.width = 176, .height = 144, .bitrate_kbps = 300, .frames = 1};
  sb_vp8_decoder_t *dec = sb_vp8_decoder_create();
  uint64_t good = 0, bad = 0;
  CHECK(dec);
  CHECK(sb_vp8_encode(&p, &s) > 0);
  CHECK_EQ(s.pkts[s.count - 1].marker, 1);
  for (size_t i = 0; i < s.count; i++)
    CHECK(sb_vp8_decoder_push(dec, s.pkts[i].data, s.pkts[i].len, s.pkts[i].marker, &good, NULL,
                              NULL) >= 0);
  /* A continuation with no frame started is refused. */
  const uint8_t cont[] = {0x00, 0x00};
  CHECK_EQ(sb_vp8_decoder_push(dec, cont, sizeof cont, 1, NULL, NULL, NULL), -1);
  s.pkts[s.count - 1].data[s.pkts[s.count - 1].len - 20] ^= 0x5a;
  int r = 0;
  for (size_t i = 0; i < s.count; i++)
    r = sb_vp8_decoder_push(dec, s.pkts[i].data, s.pkts[i].len, s.pkts[i].marker, &bad, NULL,
                            NULL);
  CHECK(r == -1 || bad != good);
  sb_vp8_decoder_destroy(dec);
  sb_enc_stream_free(&s);
}

#include "codec/encoder.h"
#include "codec/opus.h"
#include "sbtest.h"

#include <opus/opus.h>
#include <stdlib.h>

SB_TEST(config_table_gives_mode_bandwidth_and_duration) {
  static const struct {
    uint8_t config, mode;
    uint16_t bw;
    uint32_t us;
  } cases[] = {
      {0, SB_OPUS_SILK, SB_OPUS_NB, 10000},    {3, SB_OPUS_SILK, SB_OPUS_NB, 60000},
      {5, SB_OPUS_SILK, SB_OPUS_MB, 20000},    {11, SB_OPUS_SILK, SB_OPUS_WB, 60000},
      {12, SB_OPUS_HYBRID, SB_OPUS_SWB, 10000}, {13, SB_OPUS_HYBRID, SB_OPUS_SWB, 20000},
      {15, SB_OPUS_HYBRID, SB_OPUS_FB, 20000}, {16, SB_OPUS_CELT, SB_OPUS_NB, 2500},
      {21, SB_OPUS_CELT, SB_OPUS_WB, 5000},    {26, SB_OPUS_CELT, SB_OPUS_SWB, 10000},
      {31, SB_OPUS_CELT, SB_OPUS_FB, 20000},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t pkt[2] = {(uint8_t)(cases[i].config << 3 | 0x04), 0xaa};
    sb_opus_toc_t t;
    CHECK_EQ(sb_opus_parse(pkt, sizeof pkt, &t), 0);
    CHECK_EQ(t.config, cases[i].config);
    CHECK_EQ(t.mode, cases[i].mode);
    CHECK_EQ(t.bandwidth, cases[i].bw);
    CHECK_EQ(t.frame_us, cases[i].us);
    CHECK_EQ(t.stereo, 1);
    CHECK_EQ(t.frames, 1);
    CHECK_EQ(t.samples, cases[i].us * 48 / 1000);
  }
}

SB_TEST(frame_count_codes) {
  sb_opus_toc_t t;
  const uint8_t c1[] = {0xf9, 1, 2, 3, 4}; /* config 31, code 1: two frames of 2 bytes */
  CHECK_EQ(sb_opus_parse(c1, sizeof c1, &t), 0);
  CHECK_EQ(t.code, 1);
  CHECK_EQ(t.frames, 2);
  CHECK_EQ(t.stereo, 0);
  CHECK_EQ(t.samples, 1920);
  const uint8_t c2[] = {0x0a, 2, 1, 2, 3}; /* config 1, code 2: frames of 2 and 1 bytes */
  CHECK_EQ(sb_opus_parse(c2, sizeof c2, &t), 0);
  CHECK_EQ(t.frames, 2);
  CHECK_EQ(t.samples, 1920);
  /* Code 3, CBR, 6 x 20 ms = 120 ms, the longest packet allowed. */
  const uint8_t c3[] = {0x0b, 0x06, 1, 2, 3, 4, 5, 6};
  CHECK_EQ(sb_opus_parse(c3, sizeof c3, &t), 0);
  CHECK_EQ(t.code, 3);
  CHECK_EQ(t.frames, 6);
  CHECK_EQ(t.vbr, 0);
  CHECK_EQ(t.samples, 5760);
  /* Code 3 (config 18, 10 ms), VBR with padding: frames of 1, 2 and 1 bytes, 2 padding bytes. */
  const uint8_t c3v[] = {0x93, 0xc3, 2, 1, 2, 9, 9, 9, 9, 0, 0};
  CHECK_EQ(sb_opus_parse(c3v, sizeof c3v, &t), 0);
  CHECK_EQ(t.vbr, 1);
  CHECK_EQ(t.padding, 1);
  CHECK_EQ(t.frames, 3);
  CHECK_EQ(t.samples, 3 * 480);
}

SB_TEST(rejects_invalid_packets) {
  sb_opus_toc_t t;
  const uint8_t one[] = {0x03};
  CHECK_EQ(sb_opus_parse(one, 0, &t), -1);              /* empty */
  CHECK_EQ(sb_opus_parse(one, 1, &t), -1);              /* code 3 without its count byte */
  const uint8_t zero[] = {0x0b, 0x00, 1};
  CHECK_EQ(sb_opus_parse(zero, sizeof zero, &t), -1);   /* count 0 */
  const uint8_t longp[] = {0x1b, 0x03, 1, 2, 3};        /* 3 x 60 ms = 180 ms */
  CHECK_EQ(sb_opus_parse(longp, sizeof longp, &t), -1);
  const uint8_t longc[] = {0xfb, 0x31};                  /* 49 x 20 ms */
  CHECK_EQ(sb_opus_parse(longc, sizeof longc, &t), -1);
  const uint8_t c1odd[] = {0x01, 1, 2, 3}; /* 3 bytes cannot be two equal frames */
  CHECK_EQ(sb_opus_parse(c1odd, sizeof c1odd, &t), -1);
  const uint8_t c2nolen[] = {0x02};
  CHECK_EQ(sb_opus_parse(c2nolen, sizeof c2nolen, &t), -1);
  const uint8_t c2short[] = {0x02, 3, 1, 2};             /* first frame longer than the rest */
  CHECK_EQ(sb_opus_parse(c2short, sizeof c2short, &t), -1);
  const uint8_t c2two[] = {0x02, 252};                   /* 2-byte length, second byte missing */
  CHECK_EQ(sb_opus_parse(c2two, sizeof c2two, &t), -1);
  const uint8_t pad[] = {0x03, 0x41, 5, 1};              /* 5 padding bytes, 1 present */
  CHECK_EQ(sb_opus_parse(pad, sizeof pad, &t), -1);
  const uint8_t cbr[] = {0x03, 0x02, 1, 2, 3};           /* 3 bytes in 2 equal frames */
  CHECK_EQ(sb_opus_parse(cbr, sizeof cbr, &t), -1);
  uint8_t big[1 + 1276] = {0x00};                        /* a frame over 1275 bytes */
  CHECK_EQ(sb_opus_parse(big, sizeof big, &t), -1);
  CHECK_EQ(sb_opus_parse(big, sizeof big - 1, &t), 0);
}

/* Our verdict, frame count and duration agree with libopus's own parser on every TOC byte over
 * a range of lengths and contents. */
SB_TEST(agrees_with_libopus_parser) {
  uint8_t pkt[1400];
  unsigned seed = 12345;
  int valid = 0, invalid = 0;
  for (int toc = 0; toc < 256; toc++) {
    for (int trial = 0; trial < 200; trial++) {
      size_t len = trial < 20 ? (size_t)trial : 1 + (size_t)rand_r(&seed) % 1399;
      const unsigned char *frames[48];
      opus_int16 sizes[48];
      pkt[0] = (uint8_t)toc;
      for (size_t i = 1; i < len; i++)
        pkt[i] = (uint8_t)rand_r(&seed);
      if (trial % 3 == 0 && len > 1)
        pkt[1] &= 0x83; /* few frames, so code 3 is often valid */
      sb_opus_toc_t t;
      int ours = sb_opus_parse(pkt, len, &t);
      int theirs = opus_packet_parse(pkt, (opus_int32)len, NULL, frames, sizes, NULL);
      CHECK_EQ(ours == 0, theirs > 0);
      if (ours == 0) {
        CHECK_EQ(t.frames, theirs);
        CHECK_EQ(t.samples, opus_packet_get_nb_samples(pkt, (opus_int32)len, 48000));
        CHECK_EQ(t.stereo + 1, opus_packet_get_nb_channels(pkt));
        valid++;
      } else {
        invalid++;
      }
    }
  }
  CHECK(valid > 5000);
  CHECK(invalid > 5000);
}

SB_TEST(libopus_frames_say_20ms_and_channels) {
  for (int ch = 1; ch <= 2; ch++) {
    sb_enc_stream_t s;
    sb_opus_enc_params_t p = {.frames = 25, .channels = ch, .bitrate_bps = 48000};
    CHECK_EQ(sb_opus_encode_tone(&p, &s), 25);
    for (size_t i = 0; i < s.count; i++) {
      sb_opus_toc_t t;
      CHECK_EQ(sb_opus_parse(s.pkts[i].data, s.pkts[i].len, &t), 0);
      CHECK_EQ(t.frame_us * t.frames, 20000);
      CHECK_EQ(t.samples, 960);
      CHECK_EQ(t.stereo, ch == 2);
    }
    sb_enc_stream_free(&s);
  }
  sb_enc_stream_t bad;
  sb_opus_enc_params_t p3 = {.frames = 1, .channels = 3};
  CHECK_EQ(sb_opus_encode_tone(&p3, &bad), -1);
  sb_enc_stream_free(&bad);
}

SB_TEST(audio_level_element) {
  sb_audio_level_t a;
  const uint8_t loud_voice[] = {0x80 | 3};
  CHECK_EQ(sb_audio_level_parse(loud_voice, 1, &a), 0);
  CHECK_EQ(a.voice, 1);
  CHECK_EQ(a.level, 3);
  const uint8_t silence[] = {0x7f, 0x00}; /* padded two-byte-form element */
  CHECK_EQ(sb_audio_level_parse(silence, 2, &a), 0);
  CHECK_EQ(a.voice, 0);
  CHECK_EQ(a.level, 127);
  CHECK_EQ(sb_audio_level_parse(silence, 0, &a), -1);
  CHECK_EQ(sb_audio_level_parse(NULL, 1, &a), -1);
}

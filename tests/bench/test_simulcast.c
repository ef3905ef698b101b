/* The bench's simulcast pieces that need no server: the options, the layer sizes and the clip
 * encoded per layer, and the per-stream frame size bins. */
#include <string.h>

#include "bench/clip.h"
#include "bench/config.h"
#include "bench/sizes.h"
#include "sbtest.h"

static int parse(sb_bench_config_t *c, const char *a1, const char *a2, const char *a3, char *err) {
  char *argv[8] = {"bench", "--spawn-server", "/bin/true"};
  int argc = 3;
  if (a1)
    argv[argc++] = (char *)a1;
  if (a2)
    argv[argc++] = (char *)a2;
  if (a3)
    argv[argc++] = (char *)a3;
  return sb_bench_config_parse(c, argc, argv, err, 200);
}

SB_TEST(simulcast_options) {
  sb_bench_config_t c;
  char err[200];
  CHECK_EQ(parse(&c, NULL, NULL, NULL, err), 0);
  CHECK(!c.simulcast && !c.prefer);
  CHECK_EQ(c.width, 640);
  /* a 720p camera by default, so that the layers are 320x180, 640x360 and 1280x720 */
  CHECK_EQ(parse(&c, "--simulcast", NULL, NULL, err), 0);
  CHECK(c.simulcast);
  CHECK_EQ(c.width, 1280);
  CHECK_EQ(c.height, 720);
  CHECK_EQ(parse(&c, "--simulcast", "--resolution", "640x360", err), 0);
  CHECK_EQ(c.width, 640);
  CHECK_EQ(parse(&c, "--prefer", "320x180", NULL, err), 0);
  CHECK(c.prefer);
  CHECK_EQ(c.prefer_w, 320);
  CHECK_EQ(c.prefer_h, 180);
  CHECK_EQ(parse(&c, "--prefer", "0x0", NULL, err), 0);
  CHECK(c.prefer);
  CHECK_EQ(c.prefer_w, 0);
  CHECK_EQ(parse(&c, "--decode-all", NULL, NULL, err), 0);
  CHECK(c.decode_all);
}

SB_TEST(simulcast_bad_options) {
  sb_bench_config_t c;
  char err[200];
  static const char *const bad_prefer[] = {"320", "320x", "x180", "320x180x1", "-1x180", "320x-5",
                                           "320X180", "99999x180", "320x180 ", ""};
  for (size_t i = 0; i < sizeof bad_prefer / sizeof bad_prefer[0]; i++)
    CHECK_EQ(parse(&c, "--prefer", bad_prefer[i], NULL, err), -1);
  CHECK_EQ(parse(&c, "--resolution", "640x360junk", NULL, err), -1);
  CHECK_EQ(parse(&c, "--simulcast", "--audio-only", NULL, err), -1);
  CHECK(strstr(err, "--simulcast") != NULL);
  /* the low layer would be 8 pixels high */
  CHECK_EQ(parse(&c, "--simulcast", "--resolution", "320x32", err), -1);
  CHECK(strstr(err, "64x64") != NULL);
}

SB_TEST(simulcast_layer_sizes) {
  unsigned w, h, k;
  sb_bench_clip_layer_size(0, 1280, 720, 500, &w, &h, &k);
  CHECK_EQ(w, 320);
  CHECK_EQ(h, 180);
  CHECK_EQ(k, 75);
  sb_bench_clip_layer_size(1, 1280, 720, 500, &w, &h, &k);
  CHECK_EQ(w, 640);
  CHECK_EQ(h, 360);
  CHECK_EQ(k, 150);
  sb_bench_clip_layer_size(2, 1280, 720, 500, &w, &h, &k);
  CHECK_EQ(w, 1280);
  CHECK_EQ(h, 720);
  CHECK_EQ(k, 500);
  /* odd quarters round down to even; a small bitrate keeps a floor */
  sb_bench_clip_layer_size(0, 1000, 562, 100, &w, &h, &k);
  CHECK_EQ(w, 250 & ~1u);
  CHECK_EQ(h, 140);
  CHECK_EQ(k, 20);
}

SB_TEST(simulcast_clip_has_three_layers_lowest_first) {
  sb_bench_clip_t c;
  sb_bench_clip_params_t p;
  char err[200] = "";
  memset(&p, 0, sizeof p);
  p.video = 1;
  p.simulcast = 1;
  p.width = 256;
  p.height = 144;
  p.fps = 10;
  p.kbps = 300;
  p.seconds = 1;
  p.audio_bps = 32000;
  CHECK_EQ(sb_bench_clip_create(&c, &p, err, sizeof err), 0);
  CHECK_EQ(c.nlayers, 3);
  CHECK_STR(c.layers[0].rid, "l");
  CHECK_STR(c.layers[2].rid, "h");
  CHECK_EQ(c.layers[0].width, 64);
  CHECK_EQ(c.layers[0].height, 36);
  CHECK_EQ(c.layers[1].width, 128);
  CHECK_EQ(c.layers[2].width, 256);
  uint32_t frames = 0;
  for (int i = 0; i < 3; i++) {
    const sb_bench_clip_layer_t *l = &c.layers[i];
    CHECK_EQ(l->vframes, 10);
    CHECK(l->video.pkts[0].is_keyframe);
    /* Chromium's simulcast descriptors carry TL0PICIDX, which the bench rewrites per frame */
    CHECK(l->vtl0_off[0] != 0);
    CHECK(l->vpid_off[0] != 0);
    frames += l->vframes;
  }
  CHECK_EQ(c.nhashes, frames);
  CHECK_EQ(c.vframe_ticks, 9000);
  sb_bench_clip_destroy(&c);
  /* without simulcast: one layer at the whole size, no TL0PICIDX */
  p.simulcast = 0;
  CHECK_EQ(sb_bench_clip_create(&c, &p, err, sizeof err), 0);
  CHECK_EQ(c.nlayers, 1);
  CHECK_EQ(c.layers[0].width, 256);
  CHECK_STR(c.layers[0].rid, "");
  CHECK_EQ(c.layers[0].vtl0_off[0], 0);
  sb_bench_clip_destroy(&c);
  sb_bench_clip_destroy(&c); /* a zeroed clip is fine too */
}

SB_TEST(frame_size_bins) {
  sb_bench_sizes_t s;
  memset(&s, 0, sizeof s);
  CHECK(sb_bench_sizes_mode(&s) == NULL);
  CHECK_EQ(sb_bench_sizes_total(&s), 0);
  sb_bench_sizes_add(&s, 320, 180);
  sb_bench_sizes_add(&s, 1280, 720);
  sb_bench_sizes_add(&s, 1280, 720);
  CHECK_EQ(s.nbins, 2);
  CHECK_EQ(sb_bench_sizes_mode(&s)->width, 1280);
  CHECK_EQ(sb_bench_sizes_mode(&s)->frames, 2);
  /* a size differing in height only is another bin */
  sb_bench_sizes_add(&s, 320, 240);
  sb_bench_sizes_add(&s, 640, 360);
  CHECK_EQ(s.nbins, 4);
  sb_bench_sizes_add(&s, 160, 90);
  sb_bench_sizes_add(&s, 70000, 90);
  CHECK_EQ(s.nbins, 4);
  CHECK_EQ(s.other, 2);
  CHECK_EQ(sb_bench_sizes_total(&s), 7);
  /* equal counts: the first seen wins */
  memset(&s, 0, sizeof s);
  sb_bench_sizes_add(&s, 320, 180);
  sb_bench_sizes_add(&s, 640, 360);
  CHECK_EQ(sb_bench_sizes_mode(&s)->width, 320);
}

/* Not simulcast, but the same option parser: transport-cc is on unless --no-twcc. */
SB_TEST(twcc_on_by_default_off_with_no_twcc) {
  sb_bench_config_t c;
  char err[200];
  CHECK_EQ(parse(&c, NULL, NULL, NULL, err), 0);
  CHECK_EQ(c.twcc, 1);
  CHECK_EQ(parse(&c, "--no-twcc", NULL, NULL, err), 0);
  CHECK_EQ(c.twcc, 0);
  CHECK_EQ(parse(&c, "--no-twcc=1", NULL, NULL, err), -1);
}

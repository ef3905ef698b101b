/* Pre-encoded media for the publishers and the reference hashes for the decoding check. */
#include "bench/clip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/vp8.h"

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Decodes one layer once, in order, and appends its picture hashes to c->hashes. */
static int hash_layer(sb_bench_clip_t *c, const sb_bench_clip_layer_t *l, char *err, size_t errlen) {
  sb_vp8_decoder_t *dec = sb_vp8_decoder_create();
  uint32_t first = c->nhashes;
  unsigned w = 0, h = 0;
  int ret = -1, r;
  uint64_t hash;
  size_t i;
  if (!dec) {
    snprintf(err, errlen, "libvpx decoder init failed");
    return -1;
  }
  for (i = 0; i < l->video.count; i++) {
    const sb_enc_packet_t *p = &l->video.pkts[i];
    r = sb_vp8_decoder_push(dec, p->data, p->len, p->marker, &hash, &w, &h);
    if (r < 0) {
      snprintf(err, errlen, "the encoded clip does not decode (%ux%u, packet %zu)", l->width, l->height, i);
      goto exit;
    }
    if (r == 1 && (w != l->width || h != l->height)) {
      snprintf(err, errlen, "the %ux%u clip decoded to %ux%u", l->width, l->height, w, h);
      goto exit;
    }
    if (r == 1 && c->nhashes - first < l->vframes)
      c->hashes[c->nhashes++] = hash;
  }
  if (c->nhashes - first != l->vframes) {
    snprintf(err, errlen, "the %ux%u clip decoded to %u pictures, not %u", l->width, l->height,
             c->nhashes - first, l->vframes);
    goto exit;
  }
  ret = 0;
exit:
  sb_vp8_decoder_destroy(dec);
  return ret;
}

static int index_layer(sb_bench_clip_t *c, sb_bench_clip_layer_t *l, char *err, size_t errlen) {
  size_t i;
  uint32_t f = 0;
  sb_vp8_desc_t d;
  l->vframes = l->video.frames;
  l->vframe_first = calloc(l->vframes + 1, sizeof *l->vframe_first);
  l->vpid_off = calloc(l->video.count ? l->video.count : 1, 1);
  l->vtl0_off = calloc(l->video.count ? l->video.count : 1, 1);
  if (!l->vframe_first || !l->vpid_off || !l->vtl0_off) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (i = 0; i < l->video.count; i++) {
    const sb_enc_packet_t *p = &l->video.pkts[i];
    if (sb_vp8_parse(p->data, p->len, &d) < 0 || p->frame >= l->vframes) {
      snprintf(err, errlen, "encoded VP8 packet %zu does not parse", i);
      return -1;
    }
    l->vpid_off[i] = d.picture_id_bits == 15 ? d.picture_id_off : 0;
    l->vtl0_off[i] = d.tl0picidx_off;
    while (f <= p->frame)
      l->vframe_first[f++] = (uint32_t)i;
    if (p->len > c->max_payload)
      c->max_payload = p->len;
  }
  l->vframe_first[l->vframes] = (uint32_t)l->video.count;
  if (!l->video.count || !l->video.pkts[0].is_keyframe) {
    snprintf(err, errlen, "the clip does not start with a keyframe");
    return -1;
  }
  return 0;
}

void sb_bench_clip_layer_size(int layer, unsigned width, unsigned height, unsigned kbps, unsigned *w,
                              unsigned *h, unsigned *layer_kbps) {
  static const unsigned div[SB_BENCH_MAX_LAYERS] = {4, 2, 1};
  static const unsigned pct[SB_BENCH_MAX_LAYERS] = {15, 30, 100};
  int l = layer < 0 ? 0 : layer >= SB_BENCH_MAX_LAYERS ? SB_BENCH_MAX_LAYERS - 1 : layer;
  *w = width / div[l] & ~1u;
  *h = height / div[l] & ~1u;
  *layer_kbps = kbps * pct[l] / 100;
  if (*layer_kbps < 20)
    *layer_kbps = 20;
}

static int encode_layer(sb_bench_clip_t *c, sb_bench_clip_layer_t *l, const sb_bench_clip_params_t *p,
                        int with_tl0, char *err, size_t errlen) {
  sb_vp8_enc_params_t vp;
  memset(&vp, 0, sizeof vp);
  vp.width = l->width;
  vp.height = l->height;
  vp.bitrate_kbps = l->kbps;
  vp.fps = p->fps;
  vp.frames = p->fps * p->seconds;
  vp.keyframe_interval = 0; /* the loop restarts at the keyframe; PLI restarts it too */
  vp.max_payload = 1100;
  vp.with_tl0picidx = with_tl0; /* Chromium's simulcast layers carry TL0PICIDX */
  if (sb_vp8_encode(&vp, &l->video) <= 0) {
    snprintf(err, errlen, "VP8 encoding failed (%ux%u, %u kbps)", l->width, l->height, l->kbps);
    return -1;
  }
  return index_layer(c, l, err, errlen);
}

static int make_video(sb_bench_clip_t *c, const sb_bench_clip_params_t *p, char *err, size_t errlen) {
  static const char *const rids[SB_BENCH_MAX_LAYERS] = {"l", "m", "h"};
  size_t total = 0;
  c->nlayers = p->simulcast ? SB_BENCH_MAX_LAYERS : 1;
  c->vframe_ticks = 90000 / p->fps;
  for (int i = 0; i < c->nlayers; i++) {
    sb_bench_clip_layer_t *l = &c->layers[i];
    if (p->simulcast) {
      sb_bench_clip_layer_size(i, p->width, p->height, p->kbps, &l->width, &l->height, &l->kbps);
      snprintf(l->rid, sizeof l->rid, "%s", rids[i]);
    } else {
      l->width = p->width;
      l->height = p->height;
      l->kbps = p->kbps;
    }
    if (encode_layer(c, l, p, p->simulcast, err, errlen) < 0)
      return -1;
    total += l->vframes;
  }
  c->hashes = calloc(total ? total : 1, sizeof *c->hashes);
  if (!c->hashes) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (int i = 0; i < c->nlayers; i++)
    if (hash_layer(c, &c->layers[i], err, errlen) < 0)
      return -1;
  qsort(c->hashes, c->nhashes, sizeof *c->hashes, cmp_u64);
  return 0;
}

int sb_bench_clip_create(sb_bench_clip_t *c, const sb_bench_clip_params_t *p, char *err,
                         size_t errlen) {
  sb_opus_enc_params_t ap;
  size_t i;
  memset(c, 0, sizeof *c);
  memset(&ap, 0, sizeof ap);
  ap.frames = 50 * (p->seconds ? p->seconds : 1);
  ap.channels = 2;
  ap.bitrate_bps = p->audio_bps;
  if (sb_opus_encode_tone(&ap, &c->audio) <= 0) {
    snprintf(err, errlen, "Opus encoding failed");
    return -1;
  }
  for (i = 0; i < c->audio.count; i++)
    if (c->audio.pkts[i].len > c->max_payload)
      c->max_payload = c->audio.pkts[i].len;
  if (!p->video)
    return 0;
  return make_video(c, p, err, errlen);
}

void sb_bench_clip_destroy(sb_bench_clip_t *c) {
  if (!c)
    return;
  for (int i = 0; i < SB_BENCH_MAX_LAYERS; i++) {
    sb_enc_stream_free(&c->layers[i].video);
    free(c->layers[i].vframe_first);
    free(c->layers[i].vpid_off);
    free(c->layers[i].vtl0_off);
  }
  sb_enc_stream_free(&c->audio);
  free(c->hashes);
  memset(c, 0, sizeof *c);
}

int sb_bench_clip_hash_known(const sb_bench_clip_t *c, uint64_t hash) {
  return c->nhashes && bsearch(&hash, c->hashes, c->nhashes, sizeof hash, cmp_u64) != NULL;
}

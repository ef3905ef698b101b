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

/* Decodes the clip once, in order, and keeps the sorted picture hashes. */
static int hash_clip(sb_bench_clip_t *c, char *err, size_t errlen) {
  sb_vp8_decoder_t *dec = sb_vp8_decoder_create();
  int ret = -1, r;
  uint64_t h;
  size_t i;
  if (!dec) {
    snprintf(err, errlen, "libvpx decoder init failed");
    return -1;
  }
  c->hashes = calloc(c->vframes ? c->vframes : 1, sizeof *c->hashes);
  if (!c->hashes)
    goto exit;
  for (i = 0; i < c->video.count; i++) {
    const sb_enc_packet_t *p = &c->video.pkts[i];
    r = sb_vp8_decoder_push(dec, p->data, p->len, p->marker, &h, NULL, NULL);
    if (r < 0) {
      snprintf(err, errlen, "the encoded clip does not decode (packet %zu)", i);
      goto exit;
    }
    if (r == 1 && c->nhashes < c->vframes)
      c->hashes[c->nhashes++] = h;
  }
  if (c->nhashes != c->vframes) {
    snprintf(err, errlen, "the clip decoded to %u pictures, not %u", c->nhashes, c->vframes);
    goto exit;
  }
  qsort(c->hashes, c->nhashes, sizeof *c->hashes, cmp_u64);
  ret = 0;
exit:
  sb_vp8_decoder_destroy(dec);
  return ret;
}

static int index_video(sb_bench_clip_t *c, char *err, size_t errlen) {
  size_t i;
  uint32_t f = 0;
  sb_vp8_desc_t d;
  c->vframes = c->video.frames;
  c->vframe_first = calloc(c->vframes + 1, sizeof *c->vframe_first);
  c->vpid_off = calloc(c->video.count ? c->video.count : 1, 1);
  if (!c->vframe_first || !c->vpid_off) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (i = 0; i < c->video.count; i++) {
    const sb_enc_packet_t *p = &c->video.pkts[i];
    if (sb_vp8_parse(p->data, p->len, &d) < 0 || p->frame >= c->vframes) {
      snprintf(err, errlen, "encoded VP8 packet %zu does not parse", i);
      return -1;
    }
    c->vpid_off[i] = d.picture_id_bits == 15 ? d.picture_id_off : 0;
    while (f <= p->frame)
      c->vframe_first[f++] = (uint32_t)i;
    if (p->len > c->max_payload)
      c->max_payload = p->len;
  }
  c->vframe_first[c->vframes] = (uint32_t)c->video.count;
  if (!c->video.count || !c->video.pkts[0].is_keyframe) {
    snprintf(err, errlen, "the clip does not start with a keyframe");
    return -1;
  }
  return 0;
}

int sb_bench_clip_create(sb_bench_clip_t *c, const sb_bench_clip_params_t *p, char *err,
                         size_t errlen) {
  sb_opus_enc_params_t ap;
  sb_vp8_enc_params_t vp;
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
  memset(&vp, 0, sizeof vp);
  vp.width = p->width;
  vp.height = p->height;
  vp.bitrate_kbps = p->kbps;
  vp.fps = p->fps;
  vp.frames = p->fps * p->seconds;
  vp.keyframe_interval = 0; /* the loop restarts at the keyframe; PLI restarts it too */
  vp.max_payload = 1100;
  if (sb_vp8_encode(&vp, &c->video) <= 0) {
    snprintf(err, errlen, "VP8 encoding failed (%ux%u, %u kbps)", p->width, p->height, p->kbps);
    return -1;
  }
  c->vframe_ticks = 90000 / p->fps;
  if (index_video(c, err, errlen) < 0)
    return -1;
  return hash_clip(c, err, errlen);
}

void sb_bench_clip_destroy(sb_bench_clip_t *c) {
  if (!c)
    return;
  sb_enc_stream_free(&c->video);
  sb_enc_stream_free(&c->audio);
  free(c->vframe_first);
  free(c->vpid_off);
  free(c->hashes);
  memset(c, 0, sizeof *c);
}

int sb_bench_clip_hash_known(const sb_bench_clip_t *c, uint64_t hash) {
  return c->nhashes && bsearch(&hash, c->hashes, c->nhashes, sizeof hash, cmp_u64) != NULL;
}

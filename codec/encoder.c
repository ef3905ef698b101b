/* libvpx/libopus wrappers for tests and the bench: real encoded media, packetized as a browser
 * would, and a decoder that proves a (rewritten) stream still decodes. */
#include "codec/encoder.h"

#include "codec/vp8.h"
#include "common/util.h"

#include <math.h>
#include <opus/opus.h>
#include <stdlib.h>
#include <string.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#define SB_ENC_DEFAULT_MAX_PAYLOAD 1100
#define SB_OPUS_FRAME_SAMPLES 960 /* 20 ms at 48 kHz */

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  void *np = sb_grow(*p, cap, need, elem, 16);
  if (!np)
    return -1;
  *p = np;
  return 0;
}

/* Appends head (may be empty) + body as one packet. Data pointers are set when the stream is
 * complete, because the buffer moves while it grows. */
static int stream_add(sb_enc_stream_t *s, const uint8_t *head, size_t hlen, const uint8_t *body,
                      size_t blen, uint32_t frame, int marker, int key) {
  sb_enc_packet_t *pk;
  if (grow((void **)&s->buf, &s->buf_cap, s->buf_len + hlen + blen, 1) < 0 ||
      grow((void **)&s->pkts, &s->cap, s->count + 1, sizeof *s->pkts) < 0)
    return -1;
  pk = &s->pkts[s->count++];
  memset(pk, 0, sizeof *pk);
  pk->offset = s->buf_len;
  pk->len = hlen + blen;
  pk->frame = frame;
  pk->marker = (uint8_t)marker;
  pk->is_keyframe = (uint8_t)key;
  if (hlen)
    memcpy(s->buf + s->buf_len, head, hlen);
  memcpy(s->buf + s->buf_len + hlen, body, blen);
  s->buf_len += hlen + blen;
  return 0;
}

static void stream_fix_pointers(sb_enc_stream_t *s) {
  for (size_t i = 0; i < s->count; i++)
    s->pkts[i].data = s->buf + s->pkts[i].offset;
}

void sb_enc_stream_free(sb_enc_stream_t *s) {
  if (!s)
    return;
  free(s->buf);
  free(s->pkts);
  memset(s, 0, sizeof *s);
}

int sb_enc_stream_copy(sb_enc_stream_t *dst, const sb_enc_stream_t *src) {
  memset(dst, 0, sizeof *dst);
  if (grow((void **)&dst->buf, &dst->buf_cap, src->buf_len ? src->buf_len : 1, 1) < 0 ||
      grow((void **)&dst->pkts, &dst->cap, src->count ? src->count : 1, sizeof *dst->pkts) < 0)
    return -1;
  memcpy(dst->buf, src->buf, src->buf_len);
  memcpy(dst->pkts, src->pkts, src->count * sizeof *src->pkts);
  dst->buf_len = src->buf_len;
  dst->count = src->count;
  dst->frames = src->frames;
  stream_fix_pointers(dst);
  return 0;
}

/* A diagonal texture that scrolls plus a bright square that moves: enough motion and detail for
 * the rate control to spend its bitrate, different per seed. */
static void draw_pattern(vpx_image_t *img, unsigned frame, unsigned seed) {
  unsigned w = img->d_w, h = img->d_h, box = w / 6 + 4;
  unsigned bx = (frame * 5 + seed * 37) % (w > box ? w - box : 1);
  unsigned by = (frame * 3 + seed * 11) % (h > box ? h - box : 1);
  for (unsigned y = 0; y < h; y++) {
    uint8_t *row = img->planes[VPX_PLANE_Y] + (size_t)y * img->stride[VPX_PLANE_Y];
    for (unsigned x = 0; x < w; x++) {
      int inbox = x >= bx && x < bx + box && y >= by && y < by + box;
      row[x] = inbox ? 235 : (uint8_t)(((x + 2 * frame + seed * 9) / 4 * 16 + y / 8 * 8) & 0x7f);
    }
  }
  for (unsigned y = 0; y < (h + 1) / 2; y++) {
    uint8_t *u = img->planes[VPX_PLANE_U] + (size_t)y * img->stride[VPX_PLANE_U];
    uint8_t *v = img->planes[VPX_PLANE_V] + (size_t)y * img->stride[VPX_PLANE_V];
    for (unsigned x = 0; x < (w + 1) / 2; x++) {
      u[x] = (uint8_t)(96 + ((x + frame) & 63));
      v[x] = (uint8_t)(96 + ((y + seed * 13) & 63));
    }
  }
}

/* Splits one encoded frame into payloads of at most max_payload bytes, descriptor included. */
static int packetize_frame(sb_enc_stream_t *s, const sb_vp8_enc_params_t *p, size_t max_payload,
                           const vpx_codec_cx_pkt_t *pkt, uint32_t index) {
  const uint8_t *data = pkt->data.frame.buf;
  size_t left = pkt->data.frame.sz;
  int first = 1;
  int key = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
  uint16_t pic = (uint16_t)((p->picture_id_start + index) & 0x7fff);
  uint8_t desc[6];
  size_t dlen = 4;
  desc[1] = 0x80; /* I */
  desc[2] = (uint8_t)(0x80 | pic >> 8);
  desc[3] = (uint8_t)pic;
  if (p->with_tl0picidx) {
    desc[1] |= 0x60; /* L, T */
    desc[4] = (uint8_t)(p->tl0picidx_start + index);
    desc[5] = 0x20; /* TID 0, Y 1 */
    dlen = 6;
  }
  if (max_payload <= dlen)
    return -1;
  while (left > 0) {
    size_t n = left < max_payload - dlen ? left : max_payload - dlen;
    desc[0] = (uint8_t)(0x80 | (first ? 0x10 : 0));
    if (pkt->data.frame.flags & VPX_FRAME_IS_DROPPABLE)
      desc[0] |= 0x20;
    if (stream_add(s, desc, dlen, data, n, index, left == n, key) < 0)
      return -1;
    data += n;
    left -= n;
    first = 0;
  }
  return 0;
}

static int vp8_encoder_open(vpx_codec_ctx_t *ctx, const sb_vp8_enc_params_t *p, unsigned fps) {
  vpx_codec_enc_cfg_t cfg;
  if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK)
    return -1;
  cfg.g_w = p->width;
  cfg.g_h = p->height;
  cfg.g_timebase.num = 1;
  cfg.g_timebase.den = (int)fps;
  cfg.rc_target_bitrate = p->bitrate_kbps;
  cfg.rc_end_usage = VPX_CBR;
  cfg.g_lag_in_frames = 0;
  cfg.g_threads = 1;
  cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
  cfg.kf_mode = VPX_KF_DISABLED; /* keyframes come only where we force them */
  if (vpx_codec_enc_init(ctx, vpx_codec_vp8_cx(), &cfg, 0) != VPX_CODEC_OK)
    return -1;
  if (vpx_codec_control(ctx, VP8E_SET_CPUUSED, -8) != VPX_CODEC_OK) {
    vpx_codec_destroy(ctx);
    return -1;
  }
  return 0;
}

int sb_vp8_encode(const sb_vp8_enc_params_t *p, sb_enc_stream_t *out) {
  vpx_codec_ctx_t ctx;
  vpx_image_t img;
  int ret = -1, have_img = 0, have_ctx = 0;
  unsigned fps = p->fps ? p->fps : 30;
  size_t max_payload = p->max_payload ? p->max_payload : SB_ENC_DEFAULT_MAX_PAYLOAD;
  memset(out, 0, sizeof *out);
  if (p->width == 0 || p->height == 0 || p->width > 0x3fff || p->height > 0x3fff)
    goto exit;
  if (!vpx_img_alloc(&img, VPX_IMG_FMT_I420, p->width, p->height, 16))
    goto exit;
  have_img = 1;
  if (vp8_encoder_open(&ctx, p, fps) < 0)
    goto exit;
  have_ctx = 1;
  for (unsigned i = 0; i < p->frames; i++) {
    vpx_enc_frame_flags_t flags = 0;
    const vpx_codec_cx_pkt_t *pkt;
    vpx_codec_iter_t iter = NULL;
    if (i == 0 || (p->keyframe_interval && i % p->keyframe_interval == 0))
      flags |= VPX_EFLAG_FORCE_KF;
    draw_pattern(&img, i, p->pattern_seed);
    if (vpx_codec_encode(&ctx, &img, i, 1, flags, VPX_DL_REALTIME) != VPX_CODEC_OK)
      goto exit;
    while ((pkt = vpx_codec_get_cx_data(&ctx, &iter)) != NULL) {
      if (pkt->kind != VPX_CODEC_CX_FRAME_PKT)
        continue;
      if (packetize_frame(out, p, max_payload, pkt, out->frames) < 0)
        goto exit;
      out->frames++;
    }
  }
  stream_fix_pointers(out);
  ret = (int)out->count;
exit:
  if (have_ctx)
    vpx_codec_destroy(&ctx);
  if (have_img)
    vpx_img_free(&img);
  return ret;
}

int sb_opus_encode_tone(const sb_opus_enc_params_t *p, sb_enc_stream_t *out) {
  int16_t pcm[SB_OPUS_FRAME_SAMPLES * 2];
  uint8_t pkt[1500];
  int err, ret = -1;
  OpusEncoder *enc = NULL;
  double hz = p->tone_hz ? p->tone_hz : 440;
  memset(out, 0, sizeof *out);
  if (p->channels != 1 && p->channels != 2)
    goto exit;
  enc = opus_encoder_create(48000, p->channels, OPUS_APPLICATION_VOIP, &err);
  if (!enc || err != OPUS_OK)
    goto exit;
  /* Forced channels: libopus would otherwise code low-bitrate stereo as mono. */
  if (opus_encoder_ctl(enc, OPUS_SET_BITRATE(p->bitrate_bps ? p->bitrate_bps : 32000)) != OPUS_OK ||
      opus_encoder_ctl(enc, OPUS_SET_FORCE_CHANNELS(p->channels)) != OPUS_OK)
    goto exit;
  for (unsigned f = 0; f < p->frames; f++) {
    for (int i = 0; i < SB_OPUS_FRAME_SAMPLES; i++) {
      double t = (double)(f * SB_OPUS_FRAME_SAMPLES + (unsigned)i) / 48000.0;
      int16_t v = (int16_t)(8000.0 * sin(2.0 * M_PI * hz * t));
      for (int c = 0; c < p->channels; c++)
        pcm[i * p->channels + c] = c ? (int16_t)(v / 2) : v; /* the channels differ: real stereo */
    }
    int n = opus_encode(enc, pcm, SB_OPUS_FRAME_SAMPLES, pkt, (opus_int32)sizeof pkt);
    if (n < 0 || stream_add(out, NULL, 0, pkt, (size_t)n, f, 1, 0) < 0)
      goto exit;
    out->frames++;
  }
  stream_fix_pointers(out);
  ret = (int)out->count;
exit:
  if (enc)
    opus_encoder_destroy(enc);
  return ret;
}

struct sb_vp8_decoder {
  vpx_codec_ctx_t ctx;
  uint8_t *frame;
  size_t len, cap;
  int in_frame;
};

sb_vp8_decoder_t *sb_vp8_decoder_create(void) {
  sb_vp8_decoder_t *dec = calloc(1, sizeof *dec);
  if (!dec)
    return NULL;
  if (vpx_codec_dec_init(&dec->ctx, vpx_codec_vp8_dx(), NULL, 0) != VPX_CODEC_OK) {
    free(dec);
    return NULL;
  }
  return dec;
}

void sb_vp8_decoder_destroy(sb_vp8_decoder_t *dec) {
  if (!dec)
    return;
  vpx_codec_destroy(&dec->ctx);
  free(dec->frame);
  free(dec);
}

/* FNV-1a over the visible pixels of the three planes (not the padding between rows). */
static uint64_t image_hash(const vpx_image_t *img) {
  uint64_t h = 1469598103934665603ull;
  for (int pl = 0; pl < 3; pl++) {
    unsigned w = pl ? (img->d_w + img->x_chroma_shift) >> img->x_chroma_shift : img->d_w;
    unsigned rows = pl ? (img->d_h + img->y_chroma_shift) >> img->y_chroma_shift : img->d_h;
    for (unsigned y = 0; y < rows; y++) {
      const uint8_t *row = img->planes[pl] + (size_t)y * img->stride[pl];
      for (unsigned x = 0; x < w; x++)
        h = (h ^ row[x]) * 1099511628211ull;
    }
  }
  return h;
}

static int decode_frame(sb_vp8_decoder_t *dec, uint64_t *hash, unsigned *w, unsigned *h) {
  vpx_codec_iter_t iter = NULL;
  vpx_image_t *img;
  if (vpx_codec_decode(&dec->ctx, dec->frame, (unsigned)dec->len, NULL, 0) != VPX_CODEC_OK)
    return -1;
  img = vpx_codec_get_frame(&dec->ctx, &iter);
  if (!img)
    return -1;
  if (hash)
    *hash = image_hash(img);
  if (w)
    *w = img->d_w;
  if (h)
    *h = img->d_h;
  return 1;
}

int sb_vp8_decoder_push(sb_vp8_decoder_t *dec, const uint8_t *payload, size_t len, int marker,
                        uint64_t *hash, unsigned *w, unsigned *h) {
  sb_vp8_desc_t d;
  size_t n;
  if (sb_vp8_parse(payload, len, &d) < 0)
    return -1;
  if (d.start && d.partition == 0) {
    dec->len = 0;
    dec->in_frame = 1;
  } else if (!dec->in_frame) {
    return -1;
  }
  n = len - d.desc_len;
  if (grow((void **)&dec->frame, &dec->cap, dec->len + n, 1) < 0)
    return -1;
  memcpy(dec->frame + dec->len, payload + d.desc_len, n);
  dec->len += n;
  if (!marker)
    return 0;
  dec->in_frame = 0;
  return decode_frame(dec, hash, w, h);
}

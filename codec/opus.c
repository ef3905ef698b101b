/* Opus TOC and framing (RFC 6716 §3), RFC 6464 audio level. */
#include "codec/opus.h"

#include <string.h>

#define OPUS_MAX_FRAME_BYTES 1275
#define OPUS_MAX_PACKET_US 120000

/* Frame durations per configuration group, in microseconds (RFC 6716 Table 2). */
static const uint32_t silk_us[4] = {10000, 20000, 40000, 60000};
static const uint32_t short_us[4] = {2500, 5000, 10000, 20000}; /* CELT-only */

static void opus_config(uint8_t config, sb_opus_toc_t *t) {
  static const uint16_t silk_bw[3] = {SB_OPUS_NB, SB_OPUS_MB, SB_OPUS_WB};
  static const uint16_t celt_bw[4] = {SB_OPUS_NB, SB_OPUS_WB, SB_OPUS_SWB, SB_OPUS_FB};
  if (config < 12) {
    t->mode = SB_OPUS_SILK;
    t->bandwidth = silk_bw[config / 4];
    t->frame_us = silk_us[config % 4];
  } else if (config < 16) {
    t->mode = SB_OPUS_HYBRID;
    t->bandwidth = config < 14 ? SB_OPUS_SWB : SB_OPUS_FB;
    t->frame_us = config % 2 ? 20000 : 10000;
  } else {
    t->mode = SB_OPUS_CELT;
    t->bandwidth = celt_bw[(config - 16) / 4];
    t->frame_us = short_us[config % 4];
  }
}

/* A frame length in the 1- or 2-byte form of RFC 6716 §3.2.1; returns the bytes it took or -1. */
static int read_frame_len(const uint8_t *p, size_t avail, size_t *out) {
  if (avail < 1)
    return -1;
  if (p[0] < 252) {
    *out = p[0];
    return 1;
  }
  if (avail < 2)
    return -1;
  *out = (size_t)p[1] * 4 + p[0];
  return 2;
}

/* Code 3 (§3.2.5): after the TOC and count bytes come the padding length, then (VBR) M-1 frame
 * lengths or (CBR) M frames of equal size, then the padding. */
static int parse_code3(const uint8_t *data, size_t len, sb_opus_toc_t *t) {
  size_t off = 2, pad = 0, used = 0, flen;
  if (t->padding) {
    uint8_t b;
    do {
      if (off >= len)
        return -1;
      b = data[off++];
      pad += b == 255 ? 254 : b;
    } while (b == 255);
  }
  if (off + pad > len)
    return -1;
  size_t body = len - off - pad;
  if (!t->vbr) {
    if (body % t->frames || body / t->frames > OPUS_MAX_FRAME_BYTES)
      return -1;
    return 0;
  }
  for (unsigned i = 0; i + 1 < t->frames; i++) {
    int n = read_frame_len(data + off, len - pad - off, &flen);
    if (n < 0)
      return -1;
    off += (size_t)n;
    used += flen;
  }
  if (off + pad + used > len || len - pad - off - used > OPUS_MAX_FRAME_BYTES)
    return -1;
  return 0;
}

int sb_opus_parse(const uint8_t *data, size_t len, sb_opus_toc_t *out) {
  size_t flen;
  memset(out, 0, sizeof *out);
  if (len < 1)
    return -1;
  out->config = data[0] >> 3;
  out->stereo = (data[0] >> 2) & 1;
  out->code = data[0] & 3;
  opus_config(out->config, out);
  switch (out->code) {
  case 0:
    out->frames = 1;
    if (len - 1 > OPUS_MAX_FRAME_BYTES)
      return -1;
    break;
  case 1:
    out->frames = 2;
    if ((len - 1) % 2 || (len - 1) / 2 > OPUS_MAX_FRAME_BYTES)
      return -1;
    break;
  case 2: {
    int n = read_frame_len(data + 1, len - 1, &flen);
    out->frames = 2;
    out->vbr = 1;
    if (n < 0 || flen > len - 1 - (size_t)n || len - 1 - (size_t)n - flen > OPUS_MAX_FRAME_BYTES)
      return -1;
    break;
  }
  default:
    if (len < 2)
      return -1;
    out->vbr = data[1] >> 7;
    out->padding = (data[1] >> 6) & 1;
    out->frames = data[1] & 0x3f;
    if (out->frames == 0 || out->frames * out->frame_us > OPUS_MAX_PACKET_US)
      return -1;
    if (parse_code3(data, len, out) < 0)
      return -1;
    break;
  }
  out->samples = out->frames * out->frame_us * 48 / 1000;
  return 0;
}

int sb_audio_level_parse(const uint8_t *val, size_t len, sb_audio_level_t *out) {
  if (!val || len < 1)
    return -1;
  out->voice = val[0] >> 7;
  out->level = val[0] & 0x7f;
  return 0;
}

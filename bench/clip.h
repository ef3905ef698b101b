/* The media every publisher replays: a VP8 clip (a keyframe first, then delta frames) and an
 * Opus tone, encoded once at start with codec/encoder, plus the hash of every picture the clip
 * decodes to, so that receivers can tell a correctly decoded frame from a corrupt one. With
 * simulcast the clip is encoded once per layer (lowest first), each layer at its own size and
 * bitrate. Built before the threads start and read-only afterwards. */
#ifndef SB_BENCH_CLIP_H
#define SB_BENCH_CLIP_H

#include <stddef.h>
#include <stdint.h>

#include "codec/encoder.h"

#define SB_BENCH_MAX_LAYERS 3

/* One encoded video layer (the only one without simulcast). */
typedef struct {
  sb_enc_stream_t video;   /* RTP payloads with the VP8 descriptor */
  uint32_t vframes;        /* frames in the clip */
  uint32_t *vframe_first;  /* index of each frame's first packet; [vframes] = video.count */
  uint8_t *vpid_off;       /* per packet: offset of its 15-bit PictureID (0 = none) */
  uint8_t *vtl0_off;       /* per packet: offset of its TL0PICIDX (0 = none) */
  unsigned width, height, kbps;
  char rid[4];             /* "l", "m", "h" with simulcast; "" without */
} sb_bench_clip_layer_t;

typedef struct {
  sb_bench_clip_layer_t layers[SB_BENCH_MAX_LAYERS]; /* lowest first */
  int nlayers;             /* 0 when audio-only, 1 without simulcast, 3 with */
  uint32_t vframe_ticks;   /* RTP timestamp step per frame (90 kHz) */
  uint64_t *hashes;        /* sorted hashes of the decoded pictures of every layer */
  uint32_t nhashes;
  sb_enc_stream_t audio;   /* one Opus packet per 20 ms */
  size_t max_payload;      /* largest payload of any stream */
} sb_bench_clip_t;

typedef struct {
  int video;               /* 0 for audio-only */
  int simulcast;           /* three layers l, m, h (see sb_bench_clip_layer_size) */
  unsigned width, height, fps, kbps, seconds;
  int audio_bps;
} sb_bench_clip_params_t;

/** Size and bitrate of simulcast layer `layer` (0 = l, 1 = m, 2 = h) of a `width` x `height`,
 * `kbps` publisher: 1/4, 1/2 and the whole size (each side, rounded down to even, as Chromium's
 * scaleResolutionDownBy 4, 2, 1), at 15%, 30% and 100% of the bitrate (at least 20 kbit/s). */
void sb_bench_clip_layer_size(int layer, unsigned width, unsigned height, unsigned kbps, unsigned *w,
                              unsigned *h, unsigned *layer_kbps);

/** Encodes and indexes the clip. Returns 0, or -1 with a reason in err; destroy it either way. */
int sb_bench_clip_create(sb_bench_clip_t *c, const sb_bench_clip_params_t *p, char *err,
                         size_t errlen);

/** Frees what the clip owns; accepts a zeroed or half-built clip. */
void sb_bench_clip_destroy(sb_bench_clip_t *c);

/** 1 if a decoded picture's hash is one the clip produces, else 0. */
int sb_bench_clip_hash_known(const sb_bench_clip_t *c, uint64_t hash);

#endif

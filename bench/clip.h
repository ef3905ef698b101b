/* The media every publisher replays: a VP8 clip (a keyframe first, then delta frames) and an
 * Opus tone, encoded once at start with codec/encoder, plus the hash of every picture the clip
 * decodes to, so that receivers can tell a correctly decoded frame from a corrupt one. Built
 * before the threads start and read-only afterwards. */
#ifndef SB_BENCH_CLIP_H
#define SB_BENCH_CLIP_H

#include <stddef.h>
#include <stdint.h>

#include "codec/encoder.h"

typedef struct {
  sb_enc_stream_t video;   /* RTP payloads with the VP8 descriptor; empty when audio-only */
  uint32_t vframes;        /* frames in the clip */
  uint32_t *vframe_first;  /* index of each frame's first packet; [vframes] = video.count */
  uint32_t vframe_ticks;   /* RTP timestamp step per frame (90 kHz) */
  uint8_t *vpid_off;       /* per packet: offset of its 15-bit PictureID (0 = none) */
  uint64_t *hashes;        /* sorted hashes of the decoded pictures */
  uint32_t nhashes;
  sb_enc_stream_t audio;   /* one Opus packet per 20 ms */
  size_t max_payload;      /* largest payload of either stream */
} sb_bench_clip_t;

typedef struct {
  int video;               /* 0 for audio-only */
  unsigned width, height, fps, kbps, seconds;
  int audio_bps;
} sb_bench_clip_params_t;

/** Encodes and indexes the clip. Returns 0, or -1 with a reason in err; destroy it either way. */
int sb_bench_clip_create(sb_bench_clip_t *c, const sb_bench_clip_params_t *p, char *err,
                         size_t errlen);

/** Frees what the clip owns; accepts a zeroed or half-built clip. */
void sb_bench_clip_destroy(sb_bench_clip_t *c);

/** 1 if a decoded picture's hash is one the clip produces, else 0. */
int sb_bench_clip_hash_known(const sb_bench_clip_t *c, uint64_t hash);

#endif

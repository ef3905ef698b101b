/* Thin libvpx/libopus wrappers that make real media for tests and the bench: a synthetic moving
 * picture encoded with VP8 and packetized into RTP payloads (RFC 7741), an Opus tone, and a VP8
 * depacketizer + decoder that hashes the decoded pictures. Not for the per-packet path: these
 * allocate. */
#ifndef SB_ENCODER_H
#define SB_ENCODER_H

#include <stddef.h>
#include <stdint.h>

/* One RTP payload (no RTP header) of an encoded stream. */
typedef struct {
  uint8_t *data;       /* points into the stream's buffer */
  size_t len;
  size_t offset;       /* of data in the stream's buffer */
  uint32_t frame;      /* index of the encoded frame (Opus: of the 20 ms frame) */
  uint8_t marker;      /* last packet of its frame (the RTP marker bit for video) */
  uint8_t is_keyframe; /* VP8: libvpx flagged the frame VPX_FRAME_IS_KEY */
} sb_enc_packet_t;

/* Packets of one encoded stream; owns all its memory. */
typedef struct {
  uint8_t *buf;
  size_t buf_len, buf_cap;
  sb_enc_packet_t *pkts;
  size_t count, cap;
  uint32_t frames; /* frames libvpx/libopus produced */
} sb_enc_stream_t;

typedef struct {
  unsigned width, height;
  unsigned bitrate_kbps;
  unsigned frames;            /* frames fed to the encoder */
  unsigned keyframe_interval; /* force a keyframe every K frames; 0 = only the first */
  unsigned fps;               /* 0 = 30 */
  uint16_t picture_id_start;  /* first 15-bit PictureID; it counts encoded frames */
  uint8_t tl0picidx_start;
  int with_tl0picidx;         /* also write L and T (TL0PICIDX per frame, TID 0, Y 1), as Chrome
                                 does for simulcast */
  size_t max_payload;         /* bytes per RTP payload, descriptor included; 0 = 1100 */
  unsigned pattern_seed;      /* shifts the synthetic picture, so that streams differ */
} sb_vp8_enc_params_t;

/** Encodes `frames` frames of a moving pattern with libvpx (realtime, CBR) and packetizes each
 * frame into payloads with a descriptor carrying X, I (15-bit PictureID), S on the first packet,
 * PID 0, N on droppable frames, and L/T if asked. Returns the number of packets (out must be
 * freed with sb_enc_stream_free, also on failure) or -1. */
int sb_vp8_encode(const sb_vp8_enc_params_t *p, sb_enc_stream_t *out);

typedef struct {
  unsigned frames;   /* 20 ms frames */
  int channels;      /* 1 or 2 */
  int bitrate_bps;   /* 0 = 32000 */
  unsigned tone_hz;  /* 0 = 440 */
} sb_opus_enc_params_t;

/** Encodes `frames` 20 ms frames of a sine tone at 48 kHz with libopus, one packet per frame.
 * Returns the packet count (free `out` with sb_enc_stream_free) or -1. */
int sb_opus_encode_tone(const sb_opus_enc_params_t *p, sb_enc_stream_t *out);

/** Deep copy, so that one copy can be rewritten and both decoded. 0 or -1 (then free `dst`). */
int sb_enc_stream_copy(sb_enc_stream_t *dst, const sb_enc_stream_t *src);

/** Frees what the stream owns and zeroes it; accepts a zeroed or half-built stream. */
void sb_enc_stream_free(sb_enc_stream_t *s);

typedef struct sb_vp8_decoder sb_vp8_decoder_t;

/** A libvpx VP8 decoder behind a depacketizer; NULL on failure. Destroy with
 * sb_vp8_decoder_destroy. */
sb_vp8_decoder_t *sb_vp8_decoder_create(void);

/** Feeds one RTP payload in order. A packet with S=1 and PID=0 starts a frame (an unfinished one
 * is dropped); the packet with `marker` completes it and decodes it. Returns 1 when a frame was
 * decoded (then *hash is a hash of the picture and *w, *h its size; any may be NULL), 0 when more
 * packets are needed, -1 if the payload does not parse, continues no frame, or libvpx fails. */
int sb_vp8_decoder_push(sb_vp8_decoder_t *dec, const uint8_t *payload, size_t len, int marker,
                        uint64_t *hash, unsigned *w, unsigned *h);

/** Frees the decoder; accepts NULL. */
void sb_vp8_decoder_destroy(sb_vp8_decoder_t *dec);

#endif

/* Opus packet TOC parsing (RFC 6716 §3.1, §3.2) and the RFC 6464 audio level header extension.
 * In place, no allocation: cheap enough to run on every forwarded audio packet. */
#ifndef SB_OPUS_H
#define SB_OPUS_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SB_OPUS_SILK = 0, SB_OPUS_HYBRID = 1, SB_OPUS_CELT = 2 } sb_opus_mode_t;

/* Audio bandwidths; each value is the bandwidth in Hz (RFC 6716 Table 1). */
typedef enum {
  SB_OPUS_NB = 4000,
  SB_OPUS_MB = 6000,
  SB_OPUS_WB = 8000,
  SB_OPUS_SWB = 12000,
  SB_OPUS_FB = 20000,
} sb_opus_bandwidth_t;

typedef struct {
  uint8_t config;           /* 0..31 */
  uint8_t mode;             /* sb_opus_mode_t */
  uint8_t stereo;           /* s bit */
  uint8_t code;             /* frame count code, 0..3 */
  uint8_t frames;           /* frames in the packet, 1..48 */
  uint8_t vbr;              /* code 3: v bit (code 2 is always VBR, 0/1 always CBR) */
  uint8_t padding;          /* code 3: p bit */
  uint16_t bandwidth;       /* sb_opus_bandwidth_t */
  uint32_t frame_us;        /* duration of one frame: 2500, 5000, 10000, 20000, 40000 or 60000 */
  uint32_t samples;         /* samples per channel in the packet at 48 kHz */
} sb_opus_toc_t;

/** Parses the TOC byte and the framing of an Opus packet. Returns 0, or -1 for an invalid packet
 * (RFC 6716 §3.4): empty; a frame longer than 1275 bytes; code 1 with an even length; code 2
 * without room for its length bytes or its first frame; code 3 without a count byte, with 0
 * frames, more than 120 ms of audio, or padding/frame lengths past the end (CBR: a remainder not
 * divisible by the count). */
int sb_opus_parse(const uint8_t *data, size_t len, sb_opus_toc_t *out);

typedef struct {
  uint8_t voice; /* V: the sender's voice activity flag */
  uint8_t level; /* 0..127, in -dBov: 0 is loudest, 127 is silence */
} sb_audio_level_t;

/** Parses an RFC 6464 client-to-mixer audio level element (the value sb_rtp_find_ext returns).
 * Returns 0, or -1 if val is NULL or len is 0. */
int sb_audio_level_parse(const uint8_t *val, size_t len, sb_audio_level_t *out);

#endif

/* RTP (RFC 3550) header parsing in place, header extensions (RFC 8285) and RFC 7983/5761
 * demultiplexing. No allocation; nothing is copied. */
#ifndef SB_RTP_H
#define SB_RTP_H

#include <stddef.h>
#include <stdint.h>

#define SB_RTP_HEADER_SIZE 12    /* the fixed header, without CSRCs or extensions */
#define SB_RTP_EXT_HEADER_SIZE 4 /* an extension block's profile and length words */
#define SB_RTX_OSN_SIZE 2        /* RFC 4588 §4: the original sequence number before the payload */

typedef struct {
  uint8_t *data;          /* the packet, not owned */
  size_t len;
  uint8_t padding;        /* P bit */
  uint8_t extension;      /* X bit */
  uint8_t csrc_count;
  uint8_t marker;
  uint8_t pt;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  size_t header_len;      /* fixed header + CSRCs + extension block (with its 4-byte header) */
  uint16_t ext_profile;   /* 0xBEDE (one-byte) or 0x100x (two-byte); 0 if no extension */
  uint8_t *ext;           /* extension elements, ext_len bytes; NULL if none */
  size_t ext_len;
  uint8_t *payload;
  size_t payload_len;     /* without padding */
  uint8_t pad_len;
} sb_rtp_packet_t;

/** Classification of a datagram by its first byte (RFC 7983) and, for RTP/RTCP, its second
 * byte (RFC 5761). */
typedef enum { SB_PKT_UNKNOWN = 0, SB_PKT_STUN, SB_PKT_DTLS, SB_PKT_RTP, SB_PKT_RTCP } sb_pkt_kind_t;

sb_pkt_kind_t sb_pkt_classify(const uint8_t *data, size_t len);

/** Parses an RTP packet in place. Returns 0, or -1 if it is not valid RTP: version != 2, shorter
 * than its header, CSRC/extension/padding lengths past the end, padding length 0 or larger
 * than the payload. */
int sb_rtp_parse(uint8_t *data, size_t len, sb_rtp_packet_t *out);

/** Finds header extension `id` (1..14 for one-byte, 1..255 for two-byte). Returns its length and
 * sets *val, or -1 if absent or malformed. */
int sb_rtp_find_ext(const sb_rtp_packet_t *p, uint8_t id, const uint8_t **val);

/** Writes one-byte-form (RFC 8285 §4.2) header extensions. Usage: init, add..., finish. */
typedef struct {
  uint8_t *buf;           /* where the 4-byte 0xBEDE header goes */
  size_t cap;
  size_t len;             /* bytes of elements written so far */
  int overflow;
} sb_rtp_ext_writer_t;

void sb_rtp_ext_init(sb_rtp_ext_writer_t *w, uint8_t *buf, size_t cap);
/** Adds element `id` (1..14) of `len` (1..16) bytes; returns 0 or -1 (bad id/len, no room). */
int sb_rtp_ext_add(sb_rtp_ext_writer_t *w, uint8_t id, const void *val, size_t len);
/** Pads to 32 bits and writes the block header; returns the block's total length (0 if no
 * element was added: then nothing is written) or -1 on overflow. */
int sb_rtp_ext_finish(sb_rtp_ext_writer_t *w);

/** Writes a 12-byte fixed header (V=2, no CSRC) with the X bit set if `has_ext`. */
void sb_rtp_write_fixed(uint8_t *out, int marker, uint8_t pt, uint16_t seq, uint32_t ts,
                        uint32_t ssrc, int has_ext);

/* Sequence number arithmetic modulo 2^16 (RFC 1982 style). */
static inline int16_t sb_seq_diff(uint16_t a, uint16_t b) { return (int16_t)(uint16_t)(a - b); }
static inline int sb_seq_lt(uint16_t a, uint16_t b) { return sb_seq_diff(a, b) < 0; }

static inline uint16_t sb_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t sb_rd24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static inline uint32_t sb_rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void sb_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void sb_wr24(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 16); p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)v;
}
static inline void sb_wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif

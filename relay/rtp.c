/* RTP header parsing in place (RFC 3550 §5.1), header extensions (RFC 8285) and demultiplexing
 * (RFC 7983, RFC 5761). Every read is bounded by the datagram length. */
#include "relay/rtp.h"

#include <string.h>

#define RTP_FIXED_LEN 12
#define EXT_PROFILE_ONE_BYTE 0xBEDE
#define EXT_ONE_BYTE_RESERVED_ID 15

sb_pkt_kind_t sb_pkt_classify(const uint8_t *data, size_t len) {
  if (!data || len == 0)
    return SB_PKT_UNKNOWN;
  uint8_t b = data[0];
  if (b <= 3)
    return SB_PKT_STUN;
  if (b >= 20 && b <= 63)
    return SB_PKT_DTLS;
  if (b >= 128 && b <= 191) {
    if (len < 2)
      return SB_PKT_UNKNOWN;
    /* RFC 5761 §4: RTCP packet types 192..223 would collide with RTP payload types 64..95
     * with the marker bit set, which is why those payload types are never used with mux. */
    if (data[1] >= 192 && data[1] <= 223)
      return SB_PKT_RTCP;
    return SB_PKT_RTP;
  }
  return SB_PKT_UNKNOWN;
}

int sb_rtp_parse(uint8_t *data, size_t len, sb_rtp_packet_t *out) {
  if (!data || !out || len < RTP_FIXED_LEN)
    return -1;
  if ((data[0] >> 6) != 2)
    return -1;

  memset(out, 0, sizeof *out);
  out->data = data;
  out->len = len;
  out->padding = (data[0] >> 5) & 1;
  out->extension = (data[0] >> 4) & 1;
  out->csrc_count = data[0] & 0x0f;
  out->marker = data[1] >> 7;
  out->pt = data[1] & 0x7f;
  out->seq = sb_rd16(data + 2);
  out->ts = sb_rd32(data + 4);
  out->ssrc = sb_rd32(data + 8);

  size_t off = RTP_FIXED_LEN + 4u * out->csrc_count;
  if (off > len)
    return -1;
  if (out->extension) {
    if (len - off < 4)
      return -1;
    size_t ext_len = 4u * sb_rd16(data + off + 2);
    if (len - off - 4 < ext_len)
      return -1;
    out->ext_profile = sb_rd16(data + off);
    out->ext = ext_len ? data + off + 4 : NULL;
    out->ext_len = ext_len;
    off += 4 + ext_len;
  }
  out->header_len = off;

  size_t body = len - off;
  if (out->padding) {
    /* The last octet counts the padding including itself (RFC 3550 §5.1). */
    if (body == 0)
      return -1;
    uint8_t pad = data[len - 1];
    if (pad == 0 || pad > body)
      return -1;
    out->pad_len = pad;
    body -= pad;
  }
  out->payload = data + off;
  out->payload_len = body;
  return 0;
}

/* One-byte form (RFC 8285 §4.2): ID 0 bytes are padding; ID 15 ends processing. */
static int find_one_byte(const uint8_t *e, size_t n, uint8_t id, const uint8_t **val) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = e[i];
    if (b == 0) {
      i++;
      continue;
    }
    uint8_t eid = b >> 4;
    size_t l = (size_t)(b & 0x0f) + 1;
    /* ID 0 with a non-zero length is not padding and cannot be skipped safely; stop, as
     * libwebrtc does. */
    if (eid == EXT_ONE_BYTE_RESERVED_ID || eid == 0)
      return -1;
    if (n - i - 1 < l)
      return -1;
    if (eid == id) {
      *val = e + i + 1;
      return (int)l;
    }
    i += 1 + l;
  }
  return -1;
}

/* Two-byte form (RFC 8285 §4.3): ID byte, length byte (may be 0); a 0 ID byte is padding. */
static int find_two_byte(const uint8_t *e, size_t n, uint8_t id, const uint8_t **val) {
  size_t i = 0;
  while (i < n) {
    uint8_t eid = e[i];
    if (eid == 0) {
      i++;
      continue;
    }
    if (n - i < 2)
      return -1;
    size_t l = e[i + 1];
    if (n - i - 2 < l)
      return -1;
    if (eid == id) {
      *val = e + i + 2;
      return (int)l;
    }
    i += 2 + l;
  }
  return -1;
}

int sb_rtp_find_ext(const sb_rtp_packet_t *p, uint8_t id, const uint8_t **val) {
  const uint8_t *tmp;
  if (!p || !p->ext || p->ext_len == 0 || id == 0)
    return -1;
  if (!val)
    val = &tmp;
  if (p->ext_profile == EXT_PROFILE_ONE_BYTE) {
    if (id >= EXT_ONE_BYTE_RESERVED_ID)
      return -1;
    return find_one_byte(p->ext, p->ext_len, id, val);
  }
  /* 0x100x: the low 4 bits are application bits ("appbits") and carry no meaning here. */
  if ((p->ext_profile & 0xfff0) == 0x1000)
    return find_two_byte(p->ext, p->ext_len, id, val);
  return -1;
}

void sb_rtp_ext_init(sb_rtp_ext_writer_t *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->overflow = buf == NULL || cap < 4;
}

int sb_rtp_ext_add(sb_rtp_ext_writer_t *w, uint8_t id, const void *val, size_t len) {
  if (id == 0 || id >= EXT_ONE_BYTE_RESERVED_ID || len == 0 || len > 16 || !val)
    return -1;
  if (w->overflow || w->cap - 4 - w->len < 1 + len) {
    w->overflow = 1;
    return -1;
  }
  uint8_t *p = w->buf + 4 + w->len;
  p[0] = (uint8_t)(id << 4 | (len - 1));
  memcpy(p + 1, val, len);
  w->len += 1 + len;
  return 0;
}

int sb_rtp_ext_finish(sb_rtp_ext_writer_t *w) {
  if (w->overflow)
    return -1;
  if (w->len == 0)
    return 0;
  size_t padded = (w->len + 3) & ~(size_t)3;
  if (w->cap - 4 < padded) {
    w->overflow = 1;
    return -1;
  }
  memset(w->buf + 4 + w->len, 0, padded - w->len);
  sb_wr16(w->buf, EXT_PROFILE_ONE_BYTE);
  sb_wr16(w->buf + 2, (uint16_t)(padded / 4));
  return (int)(4 + padded);
}

void sb_rtp_write_fixed(uint8_t *out, int marker, uint8_t pt, uint16_t seq, uint32_t ts,
                        uint32_t ssrc, int has_ext) {
  out[0] = (uint8_t)(0x80 | (has_ext ? 0x10 : 0));
  out[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
  sb_wr16(out + 2, seq);
  sb_wr32(out + 4, ts);
  sb_wr32(out + 8, ssrc);
}

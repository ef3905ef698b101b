/* RTCP compound parsing (RFC 3550 §6.4, RFC 4585 §6, RFC 5104 §4.3.1, REMB) and builders for
 * the packets the relay sends. Every read is bounded by the item length, which the iterator has
 * already bounded by the datagram. */
#include "relay/rtcp.h"

#include "relay/rtp.h"

#include <string.h>

#define RTCP_HDR_LEN 4
#define SR_INFO_LEN 24 /* sender SSRC + NTP + RTP timestamp + packet and octet counts */
#define REPORT_BLOCK_LEN 24
#define FB_HDR_LEN 12 /* header + sender SSRC + media SSRC */
#define FMT_NACK 1
#define FMT_PLI 1
#define FMT_FIR 4
#define FMT_AFB 15
#define NTP_UNIX_OFFSET 2208988800ull

/* The smallest length a packet of this type and count can have; types we do not know have no
 * constraint beyond the header. */
static size_t min_len(uint8_t pt, uint8_t count) {
  switch (pt) {
  case SB_RTCP_SR:
    return RTCP_HDR_LEN + SR_INFO_LEN + (size_t)count * REPORT_BLOCK_LEN;
  case SB_RTCP_RR:
    return RTCP_HDR_LEN + 4 + (size_t)count * REPORT_BLOCK_LEN;
  case SB_RTCP_BYE:
    return RTCP_HDR_LEN + (size_t)count * 4;
  case SB_RTCP_APP:
    return 12;
  case SB_RTCP_RTPFB:
  case SB_RTCP_PSFB:
    return FB_HDR_LEN;
  default:
    return RTCP_HDR_LEN;
  }
}

void sb_rtcp_iter_init(sb_rtcp_iter_t *it, const uint8_t *data, size_t len) {
  it->data = data;
  it->len = data ? len : 0;
  it->off = 0;
  it->error = 0;
}

int sb_rtcp_next(sb_rtcp_iter_t *it, sb_rtcp_item_t *item) {
  if (it->error)
    return -1;
  if (it->off >= it->len)
    return 0;
  const uint8_t *p = it->data + it->off;
  size_t left = it->len - it->off;
  if (left < RTCP_HDR_LEN || (p[0] >> 6) != 2)
    goto bad;
  size_t plen = ((size_t)sb_rd16(p + 2) + 1) * 4;
  if (plen > left)
    goto bad;
  uint8_t count = p[0] & 0x1f;
  if (plen < min_len(p[1], count))
    goto bad;
  item->pt = p[1];
  item->count = count;
  item->data = p;
  item->len = plen;
  it->off += plen;
  return 1;

bad:
  it->error = 1;
  return -1;
}

int sb_rtcp_parse_sr(const sb_rtcp_item_t *item, sb_rtcp_sr_t *out) {
  if (!item || item->pt != SB_RTCP_SR || item->len < RTCP_HDR_LEN + SR_INFO_LEN)
    return -1;
  const uint8_t *p = item->data;
  out->ssrc = sb_rd32(p + 4);
  out->ntp = (uint64_t)sb_rd32(p + 8) << 32 | sb_rd32(p + 12);
  out->rtp_ts = sb_rd32(p + 16);
  out->packets = sb_rd32(p + 20);
  out->octets = sb_rd32(p + 24);
  return 0;
}

int sb_rtcp_report_block(const sb_rtcp_item_t *item, int i, sb_rtcp_report_block_t *out) {
  size_t base;
  if (!item || i < 0 || i >= item->count)
    return -1;
  if (item->pt == SB_RTCP_SR)
    base = RTCP_HDR_LEN + SR_INFO_LEN;
  else if (item->pt == SB_RTCP_RR)
    base = RTCP_HDR_LEN + 4;
  else
    return -1;
  size_t off = base + (size_t)i * REPORT_BLOCK_LEN;
  if (item->len < off + REPORT_BLOCK_LEN)
    return -1;
  const uint8_t *b = item->data + off;
  uint32_t lost = sb_rd24(b + 5);
  out->ssrc = sb_rd32(b);
  out->fraction_lost = b[4];
  /* 24-bit two's complement (RFC 3550 §6.4.1: it can go negative with duplicates). */
  out->cumulative_lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
  out->highest_seq = sb_rd32(b + 8);
  out->jitter = sb_rd32(b + 12);
  out->lsr = sb_rd32(b + 16);
  out->dlsr = sb_rd32(b + 20);
  return 0;
}

int sb_rtcp_fb_ssrcs(const sb_rtcp_item_t *item, uint32_t *sender, uint32_t *media) {
  if (!item || (item->pt != SB_RTCP_RTPFB && item->pt != SB_RTCP_PSFB) || item->len < FB_HDR_LEN)
    return -1;
  if (sender)
    *sender = sb_rd32(item->data + 4);
  if (media)
    *media = sb_rd32(item->data + 8);
  return 0;
}

int sb_rtcp_nack_foreach(const sb_rtcp_item_t *item, void (*fn)(uint16_t seq, void *arg), void *arg) {
  if (!item || item->pt != SB_RTCP_RTPFB || item->count != FMT_NACK)
    return -1;
  /* RFC 4585 §6.2.1: at least one FCI entry of 4 bytes. */
  if (item->len < FB_HDR_LEN + 4 || (item->len - FB_HDR_LEN) % 4 != 0)
    return -1;
  int n = 0;
  for (size_t off = FB_HDR_LEN; off < item->len; off += 4) {
    uint16_t pid = sb_rd16(item->data + off);
    uint16_t blp = sb_rd16(item->data + off + 2);
    if (fn)
      fn(pid, arg);
    n++;
    for (int b = 0; b < 16; b++) {
      if (blp & (1u << b)) {
        if (fn)
          fn((uint16_t)(pid + b + 1), arg);
        n++;
      }
    }
  }
  return n;
}

int sb_rtcp_fir_entries(const sb_rtcp_item_t *item, uint32_t *ssrcs, int max) {
  if (!item || item->pt != SB_RTCP_PSFB || item->count != FMT_FIR)
    return -1;
  /* RFC 5104 §4.3.1.1: one or more 8-byte entries (SSRC, seq nr, 3 reserved bytes). */
  if (item->len < FB_HDR_LEN + 8 || (item->len - FB_HDR_LEN) % 8 != 0)
    return -1;
  int n = 0;
  for (size_t off = FB_HDR_LEN; off < item->len && n < max; off += 8)
    ssrcs[n++] = sb_rd32(item->data + off);
  return n;
}

int sb_rtcp_parse_remb(const sb_rtcp_item_t *item, uint64_t *bitrate, uint32_t *ssrcs, int *nssrcs,
                       int max) {
  if (!item || item->pt != SB_RTCP_PSFB || item->count != FMT_AFB || item->len < FB_HDR_LEN + 8)
    return -1;
  const uint8_t *p = item->data + FB_HDR_LEN;
  if (memcmp(p, "REMB", 4) != 0)
    return -1;
  int n = p[4];
  if (item->len < FB_HDR_LEN + 8 + (size_t)n * 4)
    return -1;
  unsigned exp = p[5] >> 2;
  uint64_t mantissa = (uint64_t)(p[5] & 3) << 16 | sb_rd16(p + 6);
  /* An 18-bit mantissa shifted by up to 63 can exceed 64 bits; saturate rather than wrap. */
  if (exp > 46 && mantissa >> (64 - exp))
    *bitrate = UINT64_MAX;
  else
    *bitrate = mantissa << exp;
  int k = 0;
  for (; k < n && k < max; k++)
    ssrcs[k] = sb_rd32(p + 8 + 4 * k);
  if (nssrcs)
    *nssrcs = k;
  return 0;
}

/* Writes a common header; `len` is the whole packet in bytes, a multiple of 4. */
static void write_hdr(uint8_t *out, uint8_t count, uint8_t pt, size_t len) {
  out[0] = (uint8_t)(0x80 | (count & 0x1f));
  out[1] = pt;
  sb_wr16(out + 2, (uint16_t)(len / 4 - 1));
}

int sb_rtcp_build_rr(uint8_t *out, size_t cap, uint32_t sender_ssrc,
                     const sb_rtcp_report_block_t *blocks, int nblocks) {
  if (nblocks < 0 || nblocks > 31 || (nblocks > 0 && !blocks))
    return -1;
  size_t len = RTCP_HDR_LEN + 4 + (size_t)nblocks * REPORT_BLOCK_LEN;
  if (!out || cap < len)
    return -1;
  write_hdr(out, (uint8_t)nblocks, SB_RTCP_RR, len);
  sb_wr32(out + 4, sender_ssrc);
  for (int i = 0; i < nblocks; i++) {
    const sb_rtcp_report_block_t *r = &blocks[i];
    uint8_t *b = out + 8 + (size_t)i * REPORT_BLOCK_LEN;
    int32_t lost = r->cumulative_lost;
    if (lost > 0x7fffff)
      lost = 0x7fffff;
    if (lost < -0x800000)
      lost = -0x800000;
    sb_wr32(b, r->ssrc);
    b[4] = r->fraction_lost;
    sb_wr24(b + 5, (uint32_t)lost & 0xffffff);
    sb_wr32(b + 8, r->highest_seq);
    sb_wr32(b + 12, r->jitter);
    sb_wr32(b + 16, r->lsr);
    sb_wr32(b + 20, r->dlsr);
  }
  return (int)len;
}

int sb_rtcp_build_sr(uint8_t *out, size_t cap, const sb_rtcp_sr_t *sr) {
  size_t len = RTCP_HDR_LEN + SR_INFO_LEN;
  if (!out || !sr || cap < len)
    return -1;
  write_hdr(out, 0, SB_RTCP_SR, len);
  sb_wr32(out + 4, sr->ssrc);
  sb_wr32(out + 8, (uint32_t)(sr->ntp >> 32));
  sb_wr32(out + 12, (uint32_t)sr->ntp);
  sb_wr32(out + 16, sr->rtp_ts);
  sb_wr32(out + 20, sr->packets);
  sb_wr32(out + 24, sr->octets);
  return (int)len;
}

int sb_rtcp_build_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname) {
  if (!out || !cname)
    return -1;
  size_t n = strlen(cname);
  if (n > 255)
    return -1;
  /* Chunk: SSRC, CNAME item (type 1, length, text), then at least one null octet that ends
   * the item list, up to the next 32-bit boundary (RFC 3550 §6.5). */
  size_t chunk = 4 + 2 + n;
  size_t padded = (chunk + 1 + 3) & ~(size_t)3;
  size_t len = RTCP_HDR_LEN + padded;
  if (cap < len)
    return -1;
  write_hdr(out, 1, SB_RTCP_SDES, len);
  sb_wr32(out + 4, ssrc);
  out[8] = 1;
  out[9] = (uint8_t)n;
  memcpy(out + 10, cname, n);
  memset(out + 10 + n, 0, len - 10 - n);
  return (int)len;
}

int sb_rtcp_build_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc) {
  if (!out || cap < FB_HDR_LEN)
    return -1;
  write_hdr(out, FMT_PLI, SB_RTCP_PSFB, FB_HDR_LEN);
  sb_wr32(out + 4, sender_ssrc);
  sb_wr32(out + 8, media_ssrc);
  return FB_HDR_LEN;
}

int sb_rtcp_build_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                      uint8_t seqnr) {
  size_t len = FB_HDR_LEN + 8;
  if (!out || cap < len)
    return -1;
  write_hdr(out, FMT_FIR, SB_RTCP_PSFB, len);
  sb_wr32(out + 4, sender_ssrc);
  /* RFC 5104 §4.3.1.2: the header's media SSRC is unused and 0; the target is in the FCI. */
  sb_wr32(out + 8, 0);
  sb_wr32(out + 12, media_ssrc);
  out[16] = seqnr;
  out[17] = out[18] = out[19] = 0;
  return (int)len;
}

/* Next set bit of a 65536-bit map in [from, to), or -1. */
static int next_set(const uint64_t *map, int from, int to) {
  while (from < to) {
    uint64_t w = map[from >> 6] >> (from & 63);
    if (w) {
      int s = from + __builtin_ctzll(w);
      return s < to ? s : -1;
    }
    from = (from | 63) + 1;
  }
  return -1;
}

/* The set bit that follows the widest circular gap: the oldest sequence number when the set
 * straddles the 65535 -> 0 wrap. */
static int oldest_seq(const uint64_t *map) {
  int first = next_set(map, 0, 65536), prev = first, best = first, gap = -1;
  for (int s = next_set(map, first + 1, 65536); s >= 0; s = next_set(map, s + 1, 65536)) {
    if (s - prev > gap) {
      gap = s - prev;
      best = s;
    }
    prev = s;
  }
  if (first + 65536 - prev >= gap)
    best = first;
  return best;
}

/* Packs the bitmap into PID/BLP pairs, starting at `start` and going round once. */
static int pack_nack(const uint64_t *map, int start, uint8_t *fci, size_t cap) {
  size_t len = 0;
  int have = 0;
  uint16_t pid = 0, blp = 0;
  for (int pass = 0; pass < 2; pass++) {
    int from = pass ? 0 : start, to = pass ? start : 65536;
    for (int s = next_set(map, from, to); s >= 0; s = next_set(map, s + 1, to)) {
      uint16_t d = (uint16_t)((uint16_t)s - pid);
      if (have && d >= 1 && d <= 16) {
        blp |= (uint16_t)(1u << (d - 1));
        continue;
      }
      if (have) {
        if (cap - len < 4)
          return -1;
        sb_wr16(fci + len, pid);
        sb_wr16(fci + len + 2, blp);
        len += 4;
      }
      have = 1;
      pid = (uint16_t)s;
      blp = 0;
    }
  }
  if (cap - len < 4)
    return -1;
  sb_wr16(fci + len, pid);
  sb_wr16(fci + len + 2, blp);
  return (int)(len + 4);
}

int sb_rtcp_build_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                       const uint16_t *seqs, int n) {
  /* A bitmap sorts and de-duplicates any input without allocation; NACKs are built per
   * timer tick, not per packet, so clearing 8 KiB is affordable. */
  uint64_t map[65536 / 64];
  if (!out || !seqs || n <= 0 || cap < FB_HDR_LEN + 4)
    return -1;
  memset(map, 0, sizeof map);
  for (int i = 0; i < n; i++)
    map[seqs[i] >> 6] |= 1ull << (seqs[i] & 63);
  size_t fcap = cap - FB_HDR_LEN;
  if (fcap > 4 * 0xfffcu) /* the 16-bit length field bounds the packet */
    fcap = 4 * 0xfffcu;
  int fl = pack_nack(map, oldest_seq(map), out + FB_HDR_LEN, fcap);
  if (fl < 0)
    return -1;
  size_t len = FB_HDR_LEN + (size_t)fl;
  write_hdr(out, FMT_NACK, SB_RTCP_RTPFB, len);
  sb_wr32(out + 4, sender_ssrc);
  sb_wr32(out + 8, media_ssrc);
  return (int)len;
}

int sb_rtcp_build_remb(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
                       const uint32_t *ssrcs, int nssrcs) {
  if (!out || nssrcs < 0 || nssrcs > 255 || (nssrcs > 0 && !ssrcs))
    return -1;
  size_t len = FB_HDR_LEN + 8 + (size_t)nssrcs * 4;
  if (cap < len)
    return -1;
  /* 6-bit exponent, 18-bit mantissa: the smallest exponent that fits, rounding down. */
  unsigned exp = 0;
  while ((bitrate >> exp) > 0x3ffff)
    exp++;
  uint32_t mantissa = (uint32_t)(bitrate >> exp);
  write_hdr(out, FMT_AFB, SB_RTCP_PSFB, len);
  sb_wr32(out + 4, sender_ssrc);
  sb_wr32(out + 8, 0);
  memcpy(out + 12, "REMB", 4);
  out[16] = (uint8_t)nssrcs;
  out[17] = (uint8_t)(exp << 2 | mantissa >> 16);
  sb_wr16(out + 18, (uint16_t)mantissa);
  for (int i = 0; i < nssrcs; i++)
    sb_wr32(out + 20 + 4 * i, ssrcs[i]);
  return (int)len;
}

uint64_t sb_ntp_from_unix_us(uint64_t us) {
  uint64_t sec = us / 1000000 + NTP_UNIX_OFFSET;
  uint64_t frac = ((us % 1000000) << 32) / 1000000;
  return sec << 32 | frac;
}

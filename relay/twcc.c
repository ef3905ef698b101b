#include "relay/twcc.h"

#include <string.h>

#include "relay/rtp.h"

#define SB_TWCC_DELTA_US 250
#define SB_TWCC_REF_US 64000

void sb_twcc_init(sb_twcc_t *t) { memset(t, 0, sizeof *t); }

void sb_twcc_on_packet(sb_twcc_t *t, uint16_t seq, uint64_t arrival_us) {
  int64_t u;
  if (!t->started) {
    t->started = 1;
    u = seq;
    t->base = t->max = u;
  } else {
    u = t->last_unwrapped + sb_seq_diff(seq, t->last_seq);
  }
  if (u < t->base)
    return; /* already reported as lost: too late */
  if (u - t->base >= SB_TWCC_WINDOW) {
    /* A gap longer than the window: report from the new packet's neighbourhood on. */
    int64_t nb = u - SB_TWCC_WINDOW / 2;
    for (int64_t s = t->base; s < nb && s <= t->max; s++)
      t->arrival_us[s % SB_TWCC_WINDOW] = 0;
    t->base = nb;
  }
  t->arrival_us[u % SB_TWCC_WINDOW] = arrival_us ? arrival_us : 1;
  if (u > t->max)
    t->max = u;
  t->last_seq = seq;
  t->last_unwrapped = u;
}

/* Status symbols of the 2-bit status vector chunk. */
enum { SYM_LOST = 0, SYM_SMALL = 1, SYM_LARGE = 2 };

int sb_twcc_build(sb_twcc_t *t, uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc) {
  if (!t->started || t->base > t->max)
    return 0;
  int64_t first_rx = -1;
  int64_t end = t->max + 1;
  if (end - t->base > SB_TWCC_MAX_PER_FB)
    end = t->base + SB_TWCC_MAX_PER_FB;
  for (int64_t s = t->base; s < end && first_rx < 0; s++)
    if (t->arrival_us[s % SB_TWCC_WINDOW])
      first_rx = s;
  if (first_rx < 0)
    return 0; /* only losses so far: wait for an arrival to anchor the reference time */
  int count = (int)(end - t->base);
  size_t nchunks = (size_t)(count + 6) / 7;
  size_t need = 20 + 2 * nchunks + 2 * (size_t)count + 3;
  if (cap < need)
    return -1;
  uint64_t ref = t->arrival_us[first_rx % SB_TWCC_WINDOW] / SB_TWCC_REF_US;
  uint8_t *p = out;
  p[0] = 0x80 | 15;
  p[1] = 205;
  sb_wr32(p + 4, sender_ssrc);
  sb_wr32(p + 8, media_ssrc);
  sb_wr16(p + 12, (uint16_t)t->base);
  sb_wr16(p + 14, (uint16_t)count);
  sb_wr24(p + 16, (uint32_t)(ref & 0xffffff));
  p[19] = t->fb_count++;
  uint8_t *chunks = p + 20, *deltas = chunks + 2 * nchunks;
  size_t dlen = 0;
  int64_t prev_us = (int64_t)(ref * SB_TWCC_REF_US);
  for (size_t c = 0; c < nchunks; c++) {
    uint16_t chunk = 0xC000; /* T=1 (status vector), S=1 (two-bit symbols) */
    for (int k = 0; k < 7; k++) {
      int64_t s = t->base + (int64_t)c * 7 + k;
      int sym = SYM_LOST;
      uint64_t at = s < end ? t->arrival_us[s % SB_TWCC_WINDOW] : 0;
      if (at) {
        int64_t d = ((int64_t)at - prev_us) / SB_TWCC_DELTA_US;
        if (d < -32768)
          d = -32768;
        if (d > 32767)
          d = 32767;
        if (d >= 0 && d <= 255) {
          sym = SYM_SMALL;
          deltas[dlen++] = (uint8_t)d;
        } else {
          sym = SYM_LARGE;
          sb_wr16(deltas + dlen, (uint16_t)(int16_t)d);
          dlen += 2;
        }
        /* Deltas chain on the rounded value so that rounding errors do not add up. */
        prev_us += d * SB_TWCC_DELTA_US;
      }
      chunk |= (uint16_t)(sym << (2 * (6 - k)));
    }
    sb_wr16(chunks + 2 * c, chunk);
  }
  for (int64_t s = t->base; s < end; s++)
    t->arrival_us[s % SB_TWCC_WINDOW] = 0;
  t->base = end;
  size_t len = 20 + 2 * nchunks + dlen;
  while (len % 4)
    out[len++] = 0;
  sb_wr16(p + 2, (uint16_t)(len / 4 - 1));
  return (int)len;
}

/* Expands a status vector chunk into up to `left` symbols; returns how many, or -1. */
static int chunk_symbols(uint16_t chunk, uint8_t *sym, int left) {
  int n = 0;
  if (!(chunk & 0x4000)) { /* status vector, 14 one-bit symbols */
    for (; n < 14 && n < left; n++)
      sym[n] = (uint8_t)((chunk >> (13 - n)) & 1);
  } else { /* status vector, 7 two-bit symbols */
    for (; n < 7 && n < left; n++) {
      sym[n] = (uint8_t)((chunk >> (2 * (6 - n))) & 3);
      if (sym[n] == 3)
        return -1;
    }
  }
  return n;
}

/* Reads the receive delta of one received packet at *off into *at; 0 or -1 (truncated). */
static int read_delta(const uint8_t *pkt, size_t len, size_t *off, uint8_t sym, int64_t *at) {
  if (sym == SYM_SMALL) {
    if (*off + 1 > len)
      return -1;
    *at += (int64_t)pkt[(*off)++] * SB_TWCC_DELTA_US;
    return 0;
  }
  if (*off + 2 > len)
    return -1;
  *at += (int64_t)(int16_t)sb_rd16(pkt + *off) * SB_TWCC_DELTA_US;
  *off += 2;
  return 0;
}

int sb_twcc_parse(const uint8_t *pkt, size_t len, sb_twcc_fb_header_t *hdr, sb_twcc_status_fn fn,
                  void *arg) {
  uint8_t sym[14];
  if (len < 20 || (pkt[0] & 0x1f) != 15 || pkt[1] != 205)
    return -1;
  hdr->base_seq = sb_rd16(pkt + 12);
  hdr->count = sb_rd16(pkt + 14);
  hdr->ref_time = sb_rd24(pkt + 16);
  hdr->fb_count = pkt[19];
  /* Two passes over the chunks: the first finds where the deltas start. */
  size_t off = 20;
  for (int have = 0; have < hdr->count; off += 2) {
    if (off + 2 > len)
      return -1;
    uint16_t chunk = sb_rd16(pkt + off);
    int n = (chunk & 0x8000) ? ((chunk & 0x4000) ? 7 : 14) : (chunk & 0x1fff);
    if (n == 0)
      return -1;
    have += n;
  }
  size_t doff = off;
  int64_t at = (int64_t)hdr->ref_time * SB_TWCC_REF_US;
  int i = 0;
  for (off = 20; i < hdr->count; off += 2) {
    uint16_t chunk = sb_rd16(pkt + off);
    if (!(chunk & 0x8000)) { /* a run may be long: its symbols are not expanded */
      uint8_t s = (uint8_t)((chunk >> 13) & 3);
      if (s == 3)
        return -1;
      for (int k = 0; k < (chunk & 0x1fff) && i < hdr->count; k++, i++) {
        if (s != SYM_LOST && read_delta(pkt, len, &doff, s, &at) < 0)
          return -1;
        if (fn)
          fn(arg, (uint16_t)(hdr->base_seq + i), s != SYM_LOST, s != SYM_LOST ? at : 0);
      }
      continue;
    }
    int n = chunk_symbols(chunk, sym, hdr->count - i);
    if (n < 0)
      return -1;
    for (int k = 0; k < n; k++, i++) {
      if (sym[k] != SYM_LOST && read_delta(pkt, len, &doff, sym[k], &at) < 0)
        return -1;
      if (fn)
        fn(arg, (uint16_t)(hdr->base_seq + i), sym[k] != SYM_LOST, sym[k] != SYM_LOST ? at : 0);
    }
  }
  return hdr->count;
}

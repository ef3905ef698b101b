/* Retransmission buffer. Slot = seq & (slots - 1): because the slot count divides 2^16, a sequence
 * number keeps its slot across the 65535 -> 0 wrap; the stored seq and the age check tell a fresh
 * packet from an overwritten or a 65536-old one.
 *
 * Bytes: `wpos` counts every byte position ever used (never wraps in practice: 2^64); a packet
 * starting at absolute position p lives at data[p % cap]. A packet never straddles the ring's end
 * (the tail that is too short is skipped), and its bytes are intact while wpos - p <= cap. Doubling
 * the ring keeps every absolute position, so intact packets are copied to data'[p % 2cap] and
 * nothing else changes. */
#include "relay/rtx_buffer.h"

#include "relay/rtp.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_SLOTS 1024
#define DEFAULT_SLOT_SIZE 1500
#define DEFAULT_MAX_AGE_MS 1000
#define DEFAULT_MIN_BYTES (64u * 1024)
#define DEFAULT_MAX_BYTES (1024u * 1024)
#define LIMIT_MAX_BYTES (64u * 1024 * 1024)
#define MARKS 8

typedef struct {
  uint64_t stored_ms;
  uint64_t pos; /* absolute position of its first byte */
  uint16_t seq;
  uint16_t len; /* 0 = empty */
} slot_t;

struct sb_rtx_buffer {
  sb_rtx_buffer_config_t cfg;
  uint32_t mask;
  sb_rtx_buffer_stats_t stats;
  slot_t *slots;
  uint8_t *data;
  size_t cap;    /* bytes in data */
  uint64_t wpos; /* next absolute byte position */
  /* When the bytes at some positions were written: a mark every cap / MARKS bytes. */
  struct {
    uint64_t pos, ms;
  } marks[MARKS];
  uint32_t nmarks, last_mark;
};

static int valid_config(const sb_rtx_buffer_config_t *c) {
  if (c->slots < 16 || c->slots > 32768 || (c->slots & (c->slots - 1)) != 0)
    return 0;
  if (c->slot_size < 64 || c->slot_size > 65535)
    return 0;
  return c->min_bytes >= c->slot_size && c->max_bytes >= c->min_bytes && c->max_bytes <= LIMIT_MAX_BYTES;
}

sb_rtx_buffer_t *sb_rtx_buffer_create(const sb_rtx_buffer_config_t *cfg) {
  sb_rtx_buffer_config_t c = {0};
  if (cfg)
    c = *cfg;
  if (!c.slots)
    c.slots = DEFAULT_SLOTS;
  if (!c.slot_size)
    c.slot_size = DEFAULT_SLOT_SIZE;
  if (!c.max_age_ms)
    c.max_age_ms = DEFAULT_MAX_AGE_MS;
  if (!c.max_bytes)
    c.max_bytes = c.min_bytes > DEFAULT_MAX_BYTES ? c.min_bytes : DEFAULT_MAX_BYTES;
  if (!c.min_bytes)
    c.min_bytes = DEFAULT_MIN_BYTES < c.max_bytes ? DEFAULT_MIN_BYTES : c.max_bytes;
  if (!valid_config(&c))
    return NULL;
  sb_rtx_buffer_t *buf = calloc(1, sizeof *buf);
  if (!buf)
    return NULL;
  buf->slots = calloc(c.slots, sizeof *buf->slots);
  /* Untouched bytes of the ring stay unbacked by physical pages until used. */
  buf->data = malloc(c.min_bytes);
  if (!buf->slots || !buf->data) {
    sb_rtx_buffer_destroy(buf);
    return NULL;
  }
  buf->cfg = c;
  buf->mask = c.slots - 1;
  buf->cap = c.min_bytes;
  return buf;
}

void sb_rtx_buffer_destroy(sb_rtx_buffer_t *buf) {
  if (!buf)
    return;
  free(buf->slots);
  free(buf->data);
  free(buf);
}

static int intact(const sb_rtx_buffer_t *buf, const slot_t *s) {
  return s->len != 0 && buf->wpos - s->pos <= buf->cap;
}

static int fresh(const sb_rtx_buffer_t *buf, const slot_t *s, uint64_t now_ms) {
  return intact(buf, s) && (now_ms < s->stored_ms || now_ms - s->stored_ms <= buf->cfg.max_age_ms);
}

/* Doubles the ring, copying the packets still intact to their places in the larger one. */
static void grow(sb_rtx_buffer_t *buf) {
  size_t ncap = buf->cap * 2 > buf->cfg.max_bytes ? buf->cfg.max_bytes : buf->cap * 2;
  uint8_t *ndata = malloc(ncap);
  if (!ndata) {
    buf->stats.grow_failed++;
    return;
  }
  for (uint32_t i = 0; i <= buf->mask; i++) {
    slot_t *s = &buf->slots[i];
    /* A ring clamped to max_bytes is not twice the old one: a packet that would straddle its end is
     * let go. */
    if (!intact(buf, s) || s->pos % ncap + s->len > ncap) {
      s->len = 0;
      continue;
    }
    memcpy(ndata + s->pos % ncap, buf->data + s->pos % buf->cap, s->len);
  }
  free(buf->data);
  buf->data = ndata;
  buf->cap = ncap;
  buf->stats.grown++;
}

/* Whether writing up to absolute position `end` may overwrite bytes younger than max_age_ms. The
 * last byte written over was written before the oldest mark after it: that mark's time is taken for
 * it, so the ring grows up to one mark's distance early, never late. */
static int evicts_fresh(const sb_rtx_buffer_t *buf, uint64_t end, uint64_t now_ms) {
  if (end <= buf->cap)
    return 0;
  uint64_t keep = end - buf->cap, best_pos = UINT64_MAX, best_ms = 0;
  for (uint32_t i = 0; i < buf->nmarks; i++)
    if (buf->marks[i].pos >= keep && buf->marks[i].pos < best_pos) {
      best_pos = buf->marks[i].pos;
      best_ms = buf->marks[i].ms;
    }
  return best_pos != UINT64_MAX && (now_ms < best_ms || now_ms - best_ms < buf->cfg.max_age_ms);
}

static void mark(sb_rtx_buffer_t *buf, uint64_t pos, uint64_t now_ms) {
  if (buf->nmarks && pos < buf->marks[buf->last_mark].pos + buf->cap / MARKS)
    return;
  buf->last_mark = buf->nmarks < MARKS ? buf->nmarks++ : (buf->last_mark + 1) % MARKS;
  buf->marks[buf->last_mark].pos = pos;
  buf->marks[buf->last_mark].ms = now_ms;
}

/* Where a packet of len bytes goes: skips the ring's tail if it does not fit there, and doubles the
 * ring first when it would write over packets younger than max_age_ms. */
static uint64_t place(sb_rtx_buffer_t *buf, size_t len, uint64_t now_ms) {
  for (;;) {
    uint64_t pos = buf->wpos;
    size_t off = (size_t)(pos % buf->cap);
    if (off + len > buf->cap)
      pos += buf->cap - off;
    if (buf->cap >= buf->cfg.max_bytes || !evicts_fresh(buf, pos + len, now_ms)) {
      buf->wpos = pos;
      mark(buf, pos, now_ms);
      return pos;
    }
    size_t before = buf->cap;
    grow(buf);
    if (buf->cap == before) { /* out of memory: write over them */
      buf->wpos = pos;
      return pos;
    }
  }
}

int sb_rtx_buffer_put(sb_rtx_buffer_t *buf, uint16_t seq, const uint8_t *pkt, size_t len, uint64_t now_ms) {
  if (len == 0 || !pkt)
    return -1;
  if (len > buf->cfg.slot_size) {
    buf->stats.too_big++;
    return -1;
  }
  slot_t *s = &buf->slots[seq & buf->mask];
  /* A late or retransmitted packet must not evict the newer one that now owns its slot. */
  if (fresh(buf, s, now_ms) && sb_seq_lt(seq, s->seq)) {
    buf->stats.stale_put++;
    return -1;
  }
  uint64_t pos = place(buf, len, now_ms);
  memcpy(buf->data + pos % buf->cap, pkt, len);
  buf->wpos = pos + len;
  s->seq = seq;
  s->len = (uint16_t)len;
  s->pos = pos;
  s->stored_ms = now_ms;
  buf->stats.stored++;
  return 0;
}

int sb_rtx_buffer_get(sb_rtx_buffer_t *buf, uint16_t seq, uint64_t now_ms, const uint8_t **pkt) {
  const slot_t *s = &buf->slots[seq & buf->mask];
  if (s->seq != seq || !fresh(buf, s, now_ms)) {
    buf->stats.misses++;
    return -1;
  }
  buf->stats.hits++;
  *pkt = buf->data + s->pos % buf->cap;
  return s->len;
}

void sb_rtx_buffer_clear(sb_rtx_buffer_t *buf) {
  memset(buf->slots, 0, (size_t)buf->cfg.slots * sizeof(slot_t));
}

const sb_rtx_buffer_stats_t *sb_rtx_buffer_stats(const sb_rtx_buffer_t *buf) { return &buf->stats; }

size_t sb_rtx_buffer_capacity(const sb_rtx_buffer_t *buf) { return buf->cap; }

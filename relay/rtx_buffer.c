/* Retransmission buffer: slot = seq & (slots - 1). Because the slot count divides 2^16, a
 * sequence number keeps its slot across the 65535 -> 0 wrap; the stored seq and the age check
 * tell a fresh packet from an overwritten or a 65536-old one. */
#include "relay/rtx_buffer.h"

#include "relay/rtp.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_SLOTS 1024
#define DEFAULT_SLOT_SIZE 1500
#define DEFAULT_MAX_AGE_MS 1000

typedef struct {
  uint64_t stored_ms;
  uint16_t seq;
  uint16_t len;         /* 0 = empty */
} slot_t;

struct sb_rtx_buffer {
  sb_rtx_buffer_config_t cfg;
  uint32_t mask;
  sb_rtx_buffer_stats_t stats;
  slot_t *slots;
  uint8_t *data;        /* slots * slot_size bytes, after the slot array */
};

static int valid_config(const sb_rtx_buffer_config_t *c) {
  if (c->slots < 16 || c->slots > 32768 || (c->slots & (c->slots - 1)) != 0)
    return 0;
  return c->slot_size >= 64 && c->slot_size <= 65535;
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
  if (!valid_config(&c))
    return NULL;
  /* One block: the object, the slot table, then the packet bytes (which stay untouched, and so
   * unbacked by physical pages, until used). */
  size_t head = (sizeof(sb_rtx_buffer_t) + 15) & ~(size_t)15;
  size_t table = ((size_t)c.slots * sizeof(slot_t) + 15) & ~(size_t)15;
  sb_rtx_buffer_t *buf = malloc(head + table + (size_t)c.slots * c.slot_size);
  if (!buf)
    return NULL;
  memset(buf, 0, head + table);
  buf->cfg = c;
  buf->mask = c.slots - 1;
  buf->slots = (slot_t *)((uint8_t *)buf + head);
  buf->data = (uint8_t *)buf + head + table;
  return buf;
}

void sb_rtx_buffer_destroy(sb_rtx_buffer_t *buf) { free(buf); }

static int fresh(const sb_rtx_buffer_t *buf, const slot_t *s, uint64_t now_ms) {
  return s->len != 0 && (now_ms < s->stored_ms || now_ms - s->stored_ms <= buf->cfg.max_age_ms);
}

int sb_rtx_buffer_put(sb_rtx_buffer_t *buf, uint16_t seq, const uint8_t *pkt, size_t len,
                      uint64_t now_ms) {
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
  memcpy(buf->data + (size_t)(seq & buf->mask) * buf->cfg.slot_size, pkt, len);
  s->seq = seq;
  s->len = (uint16_t)len;
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
  *pkt = buf->data + (size_t)(seq & buf->mask) * buf->cfg.slot_size;
  return s->len;
}

void sb_rtx_buffer_clear(sb_rtx_buffer_t *buf) {
  memset(buf->slots, 0, (size_t)buf->cfg.slots * sizeof(slot_t));
}

const sb_rtx_buffer_stats_t *sb_rtx_buffer_stats(const sb_rtx_buffer_t *buf) { return &buf->stats; }

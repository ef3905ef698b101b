/* Retransmission buffer of one producer's incoming stream, shared by all its consumers.
 *
 * It keeps copies of the last packets (plaintext RTP, after SRTP unprotect) for max_age_ms. The
 * packets' bytes go one after another into a ring of bytes; a table indexed by sequence number
 * modulo the slot count says where each one is. A put is one copy, a get one index and two
 * comparisons. The ring starts at min_bytes and doubles (keeping what it holds) before it would write
 * over a packet younger than max_age_ms, up to max_bytes: a 500 kbit/s video keeps 128 KiB, not
 * slots x the largest packet. A packet is served while it is the newest one in its slot, its bytes have not
 * been written over and it is younger than max_age_ms. No I/O and no clock: calls take now_ms. */
#ifndef SB_RTX_BUFFER_H
#define SB_RTX_BUFFER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t slots;      /* a power of two, 16..32768; default 1024 */
  uint32_t slot_size;  /* largest packet kept, 64..65535 bytes; default 1500 */
  uint32_t max_age_ms; /* a packet older than this is not served; default 1000 */
  uint32_t min_bytes;  /* the ring's first size, slot_size..max_bytes; default 64 KiB */
  uint32_t max_bytes;  /* it grows up to this, at most 64 MiB; default 1 MiB */
} sb_rtx_buffer_config_t;

typedef struct {
  uint64_t stored;
  uint64_t too_big;   /* packets longer than slot_size, not kept */
  uint64_t stale_put; /* packets older than the one already in their slot, not
                         kept */
  uint64_t hits;
  uint64_t misses;      /* never stored, overwritten or too old */
  uint64_t grown;       /* times the ring doubled */
  uint64_t grow_failed; /* ... and could not (out of memory): it stays as it was */
} sb_rtx_buffer_stats_t;

typedef struct sb_rtx_buffer sb_rtx_buffer_t;

/** Allocates a buffer; `cfg` NULL or zero fields take the defaults. Returns
 * NULL if out of memory or a field is out of range. */
sb_rtx_buffer_t *sb_rtx_buffer_create(const sb_rtx_buffer_config_t *cfg);

/** Frees the buffer; accepts NULL. */
void sb_rtx_buffer_destroy(sb_rtx_buffer_t *buf);

/** Copies packet `pkt` (len bytes, sequence number seq) into the ring. Returns
 * 0 if stored, -1 if it was not: longer than slot_size, or older than the fresh
 * packet in its slot. */
int sb_rtx_buffer_put(sb_rtx_buffer_t *buf, uint16_t seq, const uint8_t *pkt, size_t len, uint64_t now_ms);

/** Finds the packet with sequence number seq. Returns its length and sets *pkt
 * to the stored copy, owned by the buffer and valid until the next put; -1 if
 * absent, written over or older than max_age_ms. */
int sb_rtx_buffer_get(sb_rtx_buffer_t *buf, uint16_t seq, uint64_t now_ms, const uint8_t **pkt);

/** Forgets every packet (the stream restarted); keeps the memory. */
void sb_rtx_buffer_clear(sb_rtx_buffer_t *buf);

/** Counters since create. */
const sb_rtx_buffer_stats_t *sb_rtx_buffer_stats(const sb_rtx_buffer_t *buf);

/** The ring's size now, in bytes (the slot table aside). */
size_t sb_rtx_buffer_capacity(const sb_rtx_buffer_t *buf);

#endif

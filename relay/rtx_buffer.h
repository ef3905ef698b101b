/* Retransmission buffer of one producer's incoming stream, shared by all its consumers.
 *
 * It keeps copies of the last packets (plaintext RTP, after SRTP unprotect) in a fixed ring of
 * slots indexed by sequence number modulo the slot count, allocated once at create: a put is one
 * copy into a slot, a get is one index and one comparison. A packet is served while it is the
 * newest one in its slot and younger than max_age_ms. No I/O and no clock: calls take now_ms. */
#ifndef SB_RTX_BUFFER_H
#define SB_RTX_BUFFER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t slots;       /* a power of two, 16..32768; default 1024 */
  uint32_t slot_size;   /* largest packet kept, 64..65535 bytes; default 1500 */
  uint32_t max_age_ms;  /* a packet older than this is not served; default 1000 */
} sb_rtx_buffer_config_t;

typedef struct {
  uint64_t stored;
  uint64_t too_big;     /* packets longer than slot_size, not kept */
  uint64_t stale_put;   /* packets older than the one already in their slot, not kept */
  uint64_t hits;
  uint64_t misses;      /* never stored, overwritten or too old */
} sb_rtx_buffer_stats_t;

typedef struct sb_rtx_buffer sb_rtx_buffer_t;

/** Allocates a buffer (all memory at once); `cfg` NULL or zero fields take the defaults.
 * Returns NULL if out of memory or a field is out of range. */
sb_rtx_buffer_t *sb_rtx_buffer_create(const sb_rtx_buffer_config_t *cfg);

/** Frees the buffer; accepts NULL. */
void sb_rtx_buffer_destroy(sb_rtx_buffer_t *buf);

/** Copies packet `pkt` (len bytes, sequence number seq) into its slot. Returns 0 if stored, -1
 * if it was not: longer than slot_size, or older than the fresh packet in its slot. */
int sb_rtx_buffer_put(sb_rtx_buffer_t *buf, uint16_t seq, const uint8_t *pkt, size_t len,
                      uint64_t now_ms);

/** Finds the packet with sequence number seq. Returns its length and sets *pkt to the stored
 * copy, owned by the buffer and valid until the next put; -1 if absent or older than max_age_ms. */
int sb_rtx_buffer_get(sb_rtx_buffer_t *buf, uint16_t seq, uint64_t now_ms, const uint8_t **pkt);

/** Forgets every packet (the stream restarted); keeps the memory. */
void sb_rtx_buffer_clear(sb_rtx_buffer_t *buf);

/** Counters since create. */
const sb_rtx_buffer_stats_t *sb_rtx_buffer_stats(const sb_rtx_buffer_t *buf);

#endif

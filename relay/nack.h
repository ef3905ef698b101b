/* NACK generator (RFC 4585 §6.2.1) for one incoming RTP stream.
 *
 * Feed every received sequence number with sb_nack_gen_received(); the generator remembers the
 * ones skipped over. sb_nack_gen_poll() returns those to request now: a new gap right away, then
 * again after about one round-trip time, until the packet arrives, the entry has been requested
 * `max_tries` times, or it is older than `max_age_ms`. No I/O and no clock: every call takes
 * `now_ms`. The object is a plain struct the caller embeds; it never allocates. */
#ifndef SB_NACK_H
#define SB_NACK_H

#include <stddef.h>
#include <stdint.h>

/* Most sequence numbers tracked as missing at once. A gap larger than this resets the
 * generator: that much loss is repaired with a keyframe, not with retransmissions. */
#define SB_NACK_MAX_MISSING 256

typedef struct {
  uint32_t rtt_ms;      /* retry interval until sb_nack_gen_set_rtt(); default 100 */
  uint32_t max_age_ms;  /* give up on a seq this long after it went missing; default 1000 */
  uint8_t max_tries;    /* give up after this many NACKs for one seq; default 10 */
  uint16_t reset_back;  /* a seq this far behind the highest is a restart; default 1000 */
} sb_nack_config_t;

typedef struct {
  uint64_t received;    /* calls to sb_nack_gen_received() */
  uint64_t recovered;   /* missing seqs that arrived after being NACKed */
  uint64_t reordered;   /* missing seqs that arrived before their first NACK */
  uint64_t late;        /* old or duplicate seqs that were not missing */
  uint64_t given_up;    /* dropped after max_tries or max_age_ms */
  uint64_t overflowed;  /* dropped because the list was full (or cleared by a reset) */
  uint64_t resets;      /* huge jumps that restarted tracking */
  uint64_t nacked;      /* seqs returned by sb_nack_gen_poll(), retries included */
} sb_nack_stats_t;

typedef struct {
  uint16_t seq;
  uint8_t tries;        /* NACKs sent so far */
  uint64_t missing_ms;  /* when the gap was seen */
  uint64_t sent_ms;     /* last NACK, valid when tries > 0 */
} sb__nack_entry_t;

typedef struct {
  sb_nack_config_t cfg;
  int started;
  uint16_t highest;     /* highest seq received, modulo 2^16 */
  int keyframe_needed;
  uint16_t n;           /* entries in use, oldest first */
  sb__nack_entry_t missing[SB_NACK_MAX_MISSING];
  sb_nack_stats_t stats;
} sb_nack_gen_t;

/* What sb_nack_gen_received() saw. */
typedef enum {
  SB_NACK_IN_ORDER = 0, /* the next seq, or a forward jump (gaps recorded) */
  SB_NACK_RECOVERED,    /* a seq that was missing */
  SB_NACK_LATE,         /* older than the highest and not missing: duplicate or given up */
  SB_NACK_RESET,        /* a jump too large to repair: tracking restarted at this seq */
} sb_nack_event_t;

/** Initialises `gen`; `cfg` NULL (or any zero field) takes the defaults. */
void sb_nack_gen_init(sb_nack_gen_t *gen, const sb_nack_config_t *cfg);

/** Records seq as received at now_ms and returns what it was (sb_nack_event_t). A forward gap
 * of more than SB_NACK_MAX_MISSING, or a backward jump of more than cfg.reset_back, resets
 * tracking and sets the keyframe flag; so does a gap that does not fit the list (the oldest
 * entries are dropped). */
sb_nack_event_t sb_nack_gen_received(sb_nack_gen_t *gen, uint16_t seq, uint64_t now_ms);

/** Writes up to `max` seqs to NACK now into out_seqs, oldest first, and returns how many.
 * Expired entries are dropped on the way; entries that did not fit stay due. */
int sb_nack_gen_poll(sb_nack_gen_t *gen, uint64_t now_ms, uint16_t *out_seqs, int max);

/** When sb_nack_gen_poll() next has something to return (now_ms or earlier if due already),
 * or UINT64_MAX if nothing is missing: the caller's timer. */
uint64_t sb_nack_gen_next_ms(const sb_nack_gen_t *gen);

/** Sets the retry interval from an RTT estimate (clamped to 10..1000 ms). */
void sb_nack_gen_set_rtt(sb_nack_gen_t *gen, uint32_t rtt_ms);

/** Returns 1 once after loss that NACKs cannot repair (list overflow or reset), then 0 until
 * it happens again: the caller sends a PLI. */
int sb_nack_gen_take_keyframe_request(sb_nack_gen_t *gen);

/** Number of seqs currently tracked as missing. */
static inline int sb_nack_gen_missing(const sb_nack_gen_t *gen) { return gen->n; }

#endif

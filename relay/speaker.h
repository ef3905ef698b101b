/* Active speaker detection from RFC 6464 audio levels: per-track smoothing and a debounced
 * choice of the room's loudest track. No I/O; every call takes `now`. */
#ifndef SB_SPEAKER_H
#define SB_SPEAKER_H

#include <stdint.h>

/* One audio track's smoothed loudness. */
typedef struct {
  uint32_t loudness_q4;   /* 0..127*16: 127 - dBov, exponentially smoothed */
  uint64_t last_ms;       /* last level seen */
} sb_level_t;

/** Feeds one packet's level (0 = loudest .. 127 = silence, in -dBov). */
void sb_level_update(sb_level_t *l, uint8_t dbov, uint64_t now_ms);
/** Smoothed loudness now (0 if no level for 500 ms: the track went silent or stopped). */
uint32_t sb_level_loudness(const sb_level_t *l, uint64_t now_ms);

typedef struct {
  uint32_t hold_ms;       /* a new loudest track must stay loudest this long */
  uint32_t threshold_q4;  /* below this loudness nobody is speaking */
  uint64_t current;       /* id of the active speaker, 0 = none yet */
  uint64_t candidate;
  uint64_t candidate_since;
} sb_speaker_t;

/** hold_ms 0 and threshold 0 take the defaults (600 ms; -60 dBov). */
void sb_speaker_init(sb_speaker_t *s, uint32_t hold_ms, uint8_t threshold_dbov);
/** Feeds the loudest track of this moment (id 0 or loudness under the threshold: silence).
 * Returns 1 and sets *speaker when the active speaker changes, else 0. Silence keeps the last
 * speaker (a pause does not unhighlight them). */
int sb_speaker_update(sb_speaker_t *s, uint64_t loudest, uint32_t loudness_q4, uint64_t now_ms,
                      uint64_t *speaker);

#endif

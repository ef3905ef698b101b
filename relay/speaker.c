#include "relay/speaker.h"

#define SB_LEVEL_STALE_MS 500

void sb_level_update(sb_level_t *l, uint8_t dbov, uint64_t now_ms) {
  uint32_t target = (uint32_t)(127 - (dbov & 0x7f)) * 16;
  if (now_ms - l->last_ms > SB_LEVEL_STALE_MS)
    l->loudness_q4 = 0;
  /* An EMA over about 8 packets (160 ms of 20 ms frames): quick enough, not jittery. */
  l->loudness_q4 = (uint32_t)((int64_t)l->loudness_q4 + ((int64_t)target - (int64_t)l->loudness_q4) / 8);
  l->last_ms = now_ms;
}

uint32_t sb_level_loudness(const sb_level_t *l, uint64_t now_ms) {
  if (l->last_ms == 0 || now_ms - l->last_ms > SB_LEVEL_STALE_MS)
    return 0;
  return l->loudness_q4;
}

void sb_speaker_init(sb_speaker_t *s, uint32_t hold_ms, uint8_t threshold_dbov) {
  s->hold_ms = hold_ms ? hold_ms : 600;
  s->threshold_q4 = (uint32_t)(127 - (threshold_dbov ? threshold_dbov : 60)) * 16;
  s->current = s->candidate = 0;
  s->candidate_since = 0;
}

int sb_speaker_update(sb_speaker_t *s, uint64_t loudest, uint32_t loudness_q4, uint64_t now_ms,
                      uint64_t *speaker) {
  if (loudest == 0 || loudness_q4 < s->threshold_q4 || loudest == s->current) {
    s->candidate = 0;
    return 0;
  }
  if (loudest != s->candidate) {
    s->candidate = loudest;
    s->candidate_since = now_ms;
  }
  /* The first speaker of a call is taken at once; later ones must hold the floor. */
  if (s->current != 0 && now_ms - s->candidate_since < s->hold_ms)
    return 0;
  s->current = loudest;
  s->candidate = 0;
  *speaker = loudest;
  return 1;
}

/* NACK generator: a sorted list of missing sequence numbers, oldest first. New gaps are always
 * newer than everything listed, so they are appended; arrivals remove from the middle, which
 * only reordered or retransmitted packets do. */
#include "relay/nack.h"

#include "relay/rtp.h"

#include <string.h>

#define DEFAULT_RTT_MS 100
#define DEFAULT_MAX_AGE_MS 1000
#define DEFAULT_MAX_TRIES 10
#define DEFAULT_RESET_BACK 1000
#define MIN_RTT_MS 10
#define MAX_RTT_MS 1000

/* Time since `then`, 0 if the caller's clock went backwards. */
static uint64_t since(uint64_t now, uint64_t then) { return now >= then ? now - then : 0; }

void sb_nack_gen_init(sb_nack_gen_t *gen, const sb_nack_config_t *cfg) {
  memset(gen, 0, sizeof *gen);
  if (cfg)
    gen->cfg = *cfg;
  if (!gen->cfg.rtt_ms)
    gen->cfg.rtt_ms = DEFAULT_RTT_MS;
  if (!gen->cfg.max_age_ms)
    gen->cfg.max_age_ms = DEFAULT_MAX_AGE_MS;
  if (!gen->cfg.max_tries)
    gen->cfg.max_tries = DEFAULT_MAX_TRIES;
  if (!gen->cfg.reset_back)
    gen->cfg.reset_back = DEFAULT_RESET_BACK;
  if (gen->cfg.reset_back > 0x7fff) /* beyond that, "behind" is ambiguous modulo 2^16 */
    gen->cfg.reset_back = 0x7fff;
}

static void reset(sb_nack_gen_t *gen, uint16_t seq) {
  gen->stats.overflowed += gen->n;
  gen->stats.resets++;
  gen->n = 0;
  gen->highest = seq;
  gen->keyframe_needed = 1;
}

/* Drops the `k` oldest entries. */
static void drop_oldest(sb_nack_gen_t *gen, int k) {
  memmove(gen->missing, gen->missing + k, (size_t)(gen->n - k) * sizeof gen->missing[0]);
  gen->n = (uint16_t)(gen->n - k);
  gen->stats.overflowed += (uint64_t)k;
  gen->keyframe_needed = 1;
}

/* An entry further behind than reset_back can never be matched (its arrival would count as a
 * restart); dropping it also keeps every entry within half the seq space of `highest`, which
 * find() relies on, even when the caller does not poll. */
static void drop_unreachable(sb_nack_gen_t *gen) {
  int k = 0;
  while (k < gen->n && -sb_seq_diff(gen->missing[k].seq, gen->highest) > gen->cfg.reset_back)
    k++;
  if (k) {
    memmove(gen->missing, gen->missing + k, (size_t)(gen->n - k) * sizeof gen->missing[0]);
    gen->n = (uint16_t)(gen->n - k);
    gen->stats.given_up += (uint64_t)k;
  }
}

static void add_gap(sb_nack_gen_t *gen, uint16_t first, int count, uint64_t now_ms) {
  if (gen->n + count > SB_NACK_MAX_MISSING)
    drop_oldest(gen, gen->n + count - SB_NACK_MAX_MISSING);
  for (int i = 0; i < count; i++) {
    sb__nack_entry_t *e = &gen->missing[gen->n++];
    e->seq = (uint16_t)(first + i);
    e->tries = 0;
    e->missing_ms = now_ms;
    e->sent_ms = 0;
  }
}

/* Index of seq in the list, or -1. Entries are all behind `highest` and sorted, so their
 * distance to it orders them even across the 65535 -> 0 wrap. */
static int find(const sb_nack_gen_t *gen, uint16_t seq) {
  int lo = 0, hi = gen->n - 1, key = sb_seq_diff(seq, gen->highest);
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    int d = sb_seq_diff(gen->missing[mid].seq, gen->highest);
    if (d == key)
      return mid;
    if (d < key)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

sb_nack_event_t sb_nack_gen_received(sb_nack_gen_t *gen, uint16_t seq, uint64_t now_ms) {
  gen->stats.received++;
  if (!gen->started) {
    gen->started = 1;
    gen->highest = seq;
    return SB_NACK_IN_ORDER;
  }
  int d = sb_seq_diff(seq, gen->highest);
  if (d > 0) {
    if (d - 1 > SB_NACK_MAX_MISSING) {
      reset(gen, seq);
      return SB_NACK_RESET;
    }
    add_gap(gen, (uint16_t)(gen->highest + 1), d - 1, now_ms);
    gen->highest = seq;
    drop_unreachable(gen);
    return SB_NACK_IN_ORDER;
  }
  if (-d > gen->cfg.reset_back) {
    reset(gen, seq);
    return SB_NACK_RESET;
  }
  int i = d ? find(gen, seq) : -1;
  if (i < 0) {
    gen->stats.late++;
    return SB_NACK_LATE;
  }
  if (gen->missing[i].tries)
    gen->stats.recovered++;
  else
    gen->stats.reordered++;
  memmove(gen->missing + i, gen->missing + i + 1, (size_t)(gen->n - i - 1) * sizeof gen->missing[0]);
  gen->n--;
  return SB_NACK_RECOVERED;
}

int sb_nack_gen_poll(sb_nack_gen_t *gen, uint64_t now_ms, uint16_t *out_seqs, int max) {
  int count = 0, kept = 0;
  for (int i = 0; i < gen->n; i++) {
    sb__nack_entry_t e = gen->missing[i];
    if (since(now_ms, e.missing_ms) >= gen->cfg.max_age_ms) {
      gen->stats.given_up++;
      continue;
    }
    int due = e.tries == 0 || since(now_ms, e.sent_ms) >= gen->cfg.rtt_ms;
    if (due && e.tries >= gen->cfg.max_tries) {
      gen->stats.given_up++;
      continue;
    }
    if (due && count < max) {
      out_seqs[count++] = e.seq;
      e.tries++;
      e.sent_ms = now_ms;
      gen->stats.nacked++;
    }
    gen->missing[kept++] = e;
  }
  gen->n = (uint16_t)kept;
  return count;
}

uint64_t sb_nack_gen_next_ms(const sb_nack_gen_t *gen) {
  uint64_t next = UINT64_MAX;
  for (int i = 0; i < gen->n; i++) {
    const sb__nack_entry_t *e = &gen->missing[i];
    uint64_t at;
    if (e->tries == 0)
      at = e->missing_ms;
    else if (e->tries >= gen->cfg.max_tries)
      continue;
    else
      at = e->sent_ms + gen->cfg.rtt_ms;
    /* A retry that would fall after the entry expires will never be sent. */
    if (at >= e->missing_ms + gen->cfg.max_age_ms)
      continue;
    if (at < next)
      next = at;
  }
  return next;
}

void sb_nack_gen_set_rtt(sb_nack_gen_t *gen, uint32_t rtt_ms) {
  if (rtt_ms < MIN_RTT_MS)
    rtt_ms = MIN_RTT_MS;
  if (rtt_ms > MAX_RTT_MS)
    rtt_ms = MAX_RTT_MS;
  gen->cfg.rtt_ms = rtt_ms;
}

int sb_nack_gen_take_keyframe_request(sb_nack_gen_t *gen) {
  int k = gen->keyframe_needed;
  gen->keyframe_needed = 0;
  return k;
}

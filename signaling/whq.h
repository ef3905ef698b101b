/* The webhook delivery queue's scheduling, without I/O or clocks (brief §5): events wait in
 * lanes, one lane per (tenant, room) key; a lane sends its events one at a time and in order, so
 * a failing event holds back the later events of its room while other lanes proceed. A failed
 * attempt is retried after an exponential backoff with jitter, up to a number of attempts.
 * The caller (signaling/webhook.c) owns the clock and the sockets: it asks sb_whq_next() what to
 * send at `now` and reports each outcome with sb_whq_done(). Not thread-safe: one lock around it. */
#ifndef SB_WHQ_H
#define SB_WHQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  size_t capacity;      /* events queued at most (in flight included); more are refused */
  int max_attempts;     /* sends of one event, the first included (>= 1) */
  uint64_t base_ms;     /* backoff after the first failure */
  uint64_t max_ms;      /* backoff cap */
} sb_whq_policy_t;

typedef struct sb_whq sb_whq_t;

/* One queued event: `data` is the caller's (freed by the queue's free_data when the event leaves
 * the queue); `attempts` counts the sends made so far. */
typedef struct sb_whq_item {
  void *data;
  int attempts;
  /* the queue's */
  struct sb_whq_item *next;
  struct sb_whq_lane *lane;
} sb_whq_item_t;

typedef enum {
  SB_WHQ_DELIVERED = 0, /* sent: the event left the queue */
  SB_WHQ_RETRY = 1,     /* failed: the lane waits for its backoff, then sends it again */
  SB_WHQ_GAVE_UP = 2,   /* failed the last allowed attempt: the event left the queue */
} sb_whq_outcome_t;

/** A queue with `policy` (copied); free_data releases an event's data (may be NULL). NULL if out
 * of memory. */
sb_whq_t *sb_whq_create(const sb_whq_policy_t *policy, void (*free_data)(void *data));
/** Frees every queued event (in flight ones too: call only once nothing is sending). Accepts
 * NULL. */
void sb_whq_destroy(sb_whq_t *q);
/** Appends an event to the lane `key`. 0, or -1 when the queue is full or out of memory (then
 * `data` stays the caller's). */
int sb_whq_push(sb_whq_t *q, const char *key, void *data);
/** The next event to send at `now`: the head of the first lane that is due and has nothing in
 * flight; it is marked in flight. NULL when none; then *wait_ms (if not NULL) is the time until a
 * lane is due, or UINT64_MAX when no lane waits for its backoff. */
sb_whq_item_t *sb_whq_next(sb_whq_t *q, uint64_t now, uint64_t *wait_ms);
/** Reports the outcome of an event returned by sb_whq_next(): ok, or a failure (retried after
 * sb_whq_backoff(attempts, rnd) from `now` while attempts remain). Returns what became of it;
 * unless SB_WHQ_RETRY, the item is freed. */
sb_whq_outcome_t sb_whq_done(sb_whq_t *q, sb_whq_item_t *it, int ok, uint64_t now, uint32_t rnd);
/** The wait after the `failures`-th failure of an event: base_ms * 2^(failures-1), capped at
 * max_ms, of which a random part (from rnd) in [half, whole] is taken (jitter). */
uint64_t sb_whq_backoff(const sb_whq_policy_t *p, int failures, uint32_t rnd);
/** Events queued (in flight included). */
size_t sb_whq_len(const sb_whq_t *q);

#endif

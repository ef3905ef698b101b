/* Lanes of webhook events: found by key through a small hash table, scanned in creation order
 * so that no lane starves another. */
#include "signaling/whq.h"

#include <stdlib.h>
#include <string.h>

#define SB__WHQ_BUCKETS 256

typedef struct sb_whq_lane {
  char *key;
  sb_whq_item_t *head, *tail;
  uint64_t due_ms;   /* the head may be sent from then on */
  int busy;          /* the head is in flight */
  struct sb_whq_lane *next, *prev; /* scan order */
  struct sb_whq_lane *chain;       /* hash bucket */
} sb_whq_lane_t;

struct sb_whq {
  sb_whq_policy_t p;
  void (*free_data)(void *);
  size_t len;
  sb_whq_lane_t *first, *last;
  sb_whq_lane_t *buckets[SB__WHQ_BUCKETS];
};

static unsigned sb__hash(const char *s) {
  uint32_t h = 2166136261u; /* FNV-1a */
  while (*s)
    h = (h ^ (unsigned char)*s++) * 16777619u;
  return h % SB__WHQ_BUCKETS;
}

sb_whq_t *sb_whq_create(const sb_whq_policy_t *policy, void (*free_data)(void *data)) {
  sb_whq_t *q = calloc(1, sizeof *q);
  if (!q)
    return NULL;
  q->p = *policy;
  if (q->p.max_attempts < 1)
    q->p.max_attempts = 1;
  q->free_data = free_data;
  return q;
}

static void sb__item_free(sb_whq_t *q, sb_whq_item_t *it) {
  if (q->free_data)
    q->free_data(it->data);
  free(it);
  q->len--;
}

static void sb__lane_free(sb_whq_t *q, sb_whq_lane_t *l) {
  sb_whq_lane_t **pp = &q->buckets[sb__hash(l->key)];
  while (*pp != l)
    pp = &(*pp)->chain;
  *pp = l->chain;
  if (l->prev)
    l->prev->next = l->next;
  else
    q->first = l->next;
  if (l->next)
    l->next->prev = l->prev;
  else
    q->last = l->prev;
  free(l->key);
  free(l);
}

void sb_whq_destroy(sb_whq_t *q) {
  if (!q)
    return;
  while (q->first) {
    sb_whq_lane_t *l = q->first;
    while (l->head) {
      sb_whq_item_t *it = l->head;
      l->head = it->next;
      sb__item_free(q, it);
    }
    sb__lane_free(q, l);
  }
  free(q);
}

static sb_whq_lane_t *sb__lane_get(sb_whq_t *q, const char *key) {
  unsigned b = sb__hash(key);
  sb_whq_lane_t *l = q->buckets[b];
  while (l && strcmp(l->key, key) != 0)
    l = l->chain;
  if (l)
    return l;
  if (!(l = calloc(1, sizeof *l)) || !(l->key = strdup(key))) {
    free(l);
    return NULL;
  }
  l->chain = q->buckets[b];
  q->buckets[b] = l;
  l->prev = q->last;
  if (q->last)
    q->last->next = l;
  else
    q->first = l;
  q->last = l;
  return l;
}

int sb_whq_push(sb_whq_t *q, const char *key, void *data) {
  sb_whq_item_t *it;
  sb_whq_lane_t *l;
  if (q->len >= q->p.capacity || !(it = calloc(1, sizeof *it)))
    return -1;
  if (!(l = sb__lane_get(q, key))) {
    free(it);
    return -1;
  }
  it->data = data;
  it->lane = l;
  if (l->tail)
    l->tail->next = it;
  else
    l->head = it; /* a new or emptied lane: due at once (due_ms 0 or in the past) */
  l->tail = it;
  q->len++;
  return 0;
}

sb_whq_item_t *sb_whq_next(sb_whq_t *q, uint64_t now, uint64_t *wait_ms) {
  uint64_t wait = UINT64_MAX;
  for (sb_whq_lane_t *l = q->first; l; l = l->next) {
    if (l->busy || !l->head)
      continue;
    if (l->due_ms <= now) {
      l->busy = 1;
      return l->head;
    }
    if (l->due_ms - now < wait)
      wait = l->due_ms - now;
  }
  if (wait_ms)
    *wait_ms = wait;
  return NULL;
}

uint64_t sb_whq_backoff(const sb_whq_policy_t *p, int failures, uint32_t rnd) {
  uint64_t d = p->base_ms, half;
  for (int i = 1; i < failures && d < p->max_ms; i++)
    d *= 2;
  if (d > p->max_ms)
    d = p->max_ms;
  half = d / 2; /* full jitter over the upper half: [d - d/2, d] */
  return d - half + (half ? rnd % (half + 1) : 0);
}

sb_whq_outcome_t sb_whq_done(sb_whq_t *q, sb_whq_item_t *it, int ok, uint64_t now, uint32_t rnd) {
  sb_whq_lane_t *l = it->lane;
  it->attempts++;
  l->busy = 0;
  if (!ok && it->attempts < q->p.max_attempts) {
    l->due_ms = now + sb_whq_backoff(&q->p, it->attempts, rnd);
    return SB_WHQ_RETRY;
  }
  l->head = it->next;
  if (!l->head)
    l->tail = NULL;
  l->due_ms = 0; /* the next event of the lane goes at once */
  sb__item_free(q, it);
  if (!l->head)
    sb__lane_free(q, l);
  return ok ? SB_WHQ_DELIVERED : SB_WHQ_GAVE_UP;
}

size_t sb_whq_len(const sb_whq_t *q) { return q->len; }

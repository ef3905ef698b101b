#include "relay/router.h"

#include <stdio.h>
#include <stdlib.h>

#include "relay/producer.h"
#include "relay/transport.h"

sb_router_t *sb_router_create(sb_worker_t *w, const char *room) {
  sb_router_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  snprintf(r->room, sizeof r->room, "%s", room);
  r->worker = w;
  sb_speaker_init(&r->speaker, 0, 0);
  return r;
}

void sb_router_add(sb_router_t *r, sb_transport_t *t) {
  t->next_in_router = r->transports;
  r->transports = t;
  r->ntransports++;
}

int sb_router_remove(sb_router_t *r, sb_transport_t *t) {
  for (sb_transport_t **pp = &r->transports; *pp; pp = &(*pp)->next_in_router)
    if (*pp == t) {
      *pp = t->next_in_router;
      r->ntransports--;
      break;
    }
  return r->ntransports;
}

void sb_router_destroy(sb_router_t *r) { free(r); }

uint64_t sb_router_tick(sb_router_t *r, uint64_t now_ms) {
  uint64_t loudest = 0, who = 0;
  uint32_t max = 0;
  if (now_ms - r->last_speaker_ms < SB_SPEAKER_INTERVAL_MS)
    return 0;
  r->last_speaker_ms = now_ms;
  for (sb_transport_t *t = r->transports; t; t = t->next_in_router)
    for (int i = 0; i < t->nproducers; i++) {
      sb_producer_t *p = t->producers[i];
      uint32_t l = p->spec.kind == SB_KIND_AUDIO && !p->paused ? sb_level_loudness(&p->level, now_ms) : 0;
      if (l > max)
        max = l, loudest = t->id;
    }
  return sb_speaker_update(&r->speaker, loudest, max, now_ms, &who) ? who : 0;
}

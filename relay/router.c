#include "relay/router.h"

#include <stdio.h>
#include <stdlib.h>


sb_router_t *sb_router_create(const char *room) {
  sb_router_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  snprintf(r->room, sizeof r->room, "%s", room);
  sb_speaker_init(&r->speaker, 0, 0);
  return r;
}

void sb_router_add(sb_router_t *r, sb_transport_t *t) {
  t->next_in_router = r->transports;
  r->transports = t;
  r->ntransports++;
  t->speaker = r->speaker.current;
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
  for (sb_transport_t *t = r->transports; t; t = t->next_in_router) {
    uint32_t l = sb_transport_loudness(t, now_ms);
    if (l > max)
      max = l, loudest = t->id;
  }
  if (!sb_speaker_update(&r->speaker, loudest, max, now_ms, &who))
    return 0;
  for (sb_transport_t *t = r->transports; t; t = t->next_in_router)
    t->speaker = r->speaker.current;
  return who;
}

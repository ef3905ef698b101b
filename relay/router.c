#include "relay/router.h"

#include <stdio.h>
#include <stdlib.h>

#include "relay/transport.h"

sb_router_t *sb_router_create(sb_worker_t *w, const char *room) {
  sb_router_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  snprintf(r->room, sizeof r->room, "%s", room);
  r->worker = w;
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

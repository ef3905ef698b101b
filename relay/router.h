/* A router is one room on one worker (brief §4). It groups the room's transports so a
 * producer's consumers and the room's teardown stay on one thread; it owns no media. */
#ifndef SB_ROUTER_H
#define SB_ROUTER_H

#include "relay/relay.h"
#include "relay/speaker.h"
#include "relay/transport.h"

#define SB_SPEAKER_INTERVAL_MS 200

struct sb_router {
  char room[SB_ID_LEN];
  sb_transport_t *transports; /* linked by next_in_router */
  int ntransports;
  sb_speaker_t speaker;
  uint64_t last_speaker_ms;
  sb_router_t *next;
};

/** Creates an empty router for `room`; NULL if out of memory. */
sb_router_t *sb_router_create(const char *room);
/** Links t (not owned) and tells it the room's active speaker. */
void sb_router_add(sb_router_t *r, sb_transport_t *t);
/** Unlinks t; returns the number of transports left. */
int sb_router_remove(sb_router_t *r, sb_transport_t *t);
void sb_router_destroy(sb_router_t *r);
/** Picks the room's active speaker and tells the room's transports; returns its transport id
 * when it changed, else 0. */
uint64_t sb_router_tick(sb_router_t *r, uint64_t now_ms);

#endif

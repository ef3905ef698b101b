/* A worker's index of ICE credentials: the local ufrag of a check names its
 * transport (brief §2). A transport has one set of credentials, and two during
 * an ICE restart: the new set is indexed beside the old one, and the first
 * valid check with the new ufrag retires the old (RFC 8445 §9: the peer has
 * applied the restart). No I/O, one thread. */
#ifndef SB_ICE_INDEX_H
#define SB_ICE_INDEX_H

#include <stddef.h>

#define SB_ICE_INDEX_BUCKETS 4096

struct sb_transport;

/* One set of local credentials; embedded in its transport, linked in one
 * bucket. */
typedef struct sb_ice_cred {
  char ufrag[64];
  char pwd[128];
  struct sb_transport *t;
  struct sb_ice_cred *next;
} sb_ice_cred_t;

typedef struct {
  sb_ice_cred_t *buckets[SB_ICE_INDEX_BUCKETS];
} sb_ice_index_t;

/** Indexes `c` (its ufrag and t set). */
void sb_ice_index_add(sb_ice_index_t *x, sb_ice_cred_t *c);
/** Unindexes `c`; nothing if it is not indexed. */
void sb_ice_index_remove(sb_ice_index_t *x, sb_ice_cred_t *c);
/** The credentials with this ufrag, or NULL. */
sb_ice_cred_t *sb_ice_index_find(const sb_ice_index_t *x, const char *ufrag,
                                 size_t len);

#endif

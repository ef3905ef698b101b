#include "relay/ice_index.h"

#include <stdint.h>
#include <string.h>

static size_t bucket(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h % SB_ICE_INDEX_BUCKETS;
}

void sb_ice_index_add(sb_ice_index_t *x, sb_ice_cred_t *c) {
  size_t b = bucket(c->ufrag, strlen(c->ufrag));
  c->next = x->buckets[b];
  x->buckets[b] = c;
}

void sb_ice_index_remove(sb_ice_index_t *x, sb_ice_cred_t *c) {
  for (sb_ice_cred_t **pp = &x->buckets[bucket(c->ufrag, strlen(c->ufrag))];
       *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      c->next = NULL;
      return;
    }
}

sb_ice_cred_t *sb_ice_index_find(const sb_ice_index_t *x, const char *ufrag,
                                 size_t len) {
  for (sb_ice_cred_t *c = x->buckets[bucket(ufrag, len)]; c; c = c->next)
    if (strlen(c->ufrag) == len && memcmp(c->ufrag, ufrag, len) == 0)
      return c;
  return NULL;
}

/* Sharing a subscriber's bandwidth estimate among its consumers (relay/bwe.h gives the
 * estimate; codec/simulcast.h turns each simulcast consumer's budget into a layer).
 *
 * What cannot adapt comes first: audio and video without simulcast take what they use. The rest
 * is shared among simulcast consumers by water-filling: each gets an equal share, but none more
 * than it can use (the rate of the largest layer that fits the size the subscriber asked for,
 * plus the layer choice's up margin); what one cannot use goes to the others. The room's active
 * speaker is served first: after every other simulcast consumer is kept at its lowest layer, it
 * gets what it can use. No I/O, no allocation. */
#ifndef SB_ALLOCATE_H
#define SB_ALLOCATE_H

#include <stdint.h>

#define SB_ALLOCATE_MAX 1024 /* consumers of one subscriber that one call shares among */

typedef struct {
  uint64_t wanted_bps;   /* what it would take with unlimited bandwidth; 0 = paused */
  uint64_t min_bps;      /* simulcast: its lowest active layer's rate */
  uint8_t simulcast;     /* its layer follows its budget */
  uint8_t priority;      /* video of the room's active speaker */
} sb_alloc_item_t;

/** Shares `estimate_bps` among `n` items (at most SB_ALLOCATE_MAX): budget[i] is what item i may
 * use (for items that do not adapt, what they use). `margin_pct` is the layer choice's up margin
 * (a layer of rate r is taken at a budget of r * (100 + margin) / 100). Returns the sum of the
 * wanted rates, or 0 for n outside 0..SB_ALLOCATE_MAX. */
uint64_t sb_allocate(uint64_t estimate_bps, const sb_alloc_item_t *items, int n, uint32_t margin_pct,
                     uint64_t *budget);

#endif

#include "relay/allocate.h"

/* What a simulcast item can use: its wanted rate with the up margin, rounded up so that the
 * layer choice's own test (budget * 100 >= rate * (100 + margin)) holds. */
static uint64_t cap_of(const sb_alloc_item_t *it, uint32_t margin_pct) {
  return (it->wanted_bps * (100 + margin_pct) + 99) / 100;
}

/* Water-fills `avail` over the simulcast items not yet served (served[i] == 0). */
static void water_fill(uint64_t avail, const sb_alloc_item_t *items, int n, uint32_t margin_pct,
                       uint8_t *served, uint64_t *budget) {
  for (;;) {
    int left = 0;
    for (int i = 0; i < n; i++)
      left += items[i].simulcast && !served[i];
    if (left == 0)
      return;
    uint64_t share = avail / (uint64_t)left;
    int capped = 0;
    for (int i = 0; i < n; i++) {
      if (!items[i].simulcast || served[i] || cap_of(&items[i], margin_pct) > share)
        continue;
      budget[i] = cap_of(&items[i], margin_pct);
      avail -= budget[i];
      served[i] = 1;
      capped = 1;
    }
    if (!capped) { /* everyone left can use more than an equal share */
      for (int i = 0; i < n; i++)
        if (items[i].simulcast && !served[i])
          budget[i] = share, served[i] = 1;
      return;
    }
  }
}

uint64_t sb_allocate(uint64_t estimate_bps, const sb_alloc_item_t *items, int n, uint32_t margin_pct,
                     uint64_t *budget) {
  uint8_t served[SB_ALLOCATE_MAX] = {0};
  uint64_t wanted = 0, fixed = 0, reserve = 0;
  int prio = -1;
  if (n < 0 || n > SB_ALLOCATE_MAX)
    return 0;
  for (int i = 0; i < n; i++) {
    wanted += items[i].wanted_bps;
    budget[i] = 0;
    if (!items[i].simulcast) {
      budget[i] = items[i].wanted_bps;
      fixed += items[i].wanted_bps;
    } else if (items[i].priority && items[i].wanted_bps && prio < 0) {
      prio = i;
    } else {
      reserve += items[i].min_bps;
    }
  }
  uint64_t avail = estimate_bps > fixed ? estimate_bps - fixed : 0;
  if (prio >= 0 && avail > reserve) {
    uint64_t cap = cap_of(&items[prio], margin_pct);
    budget[prio] = avail - reserve < cap ? avail - reserve : cap;
    avail -= budget[prio];
    served[prio] = 1;
  }
  water_fill(avail, items, n, margin_pct, served, budget);
  return wanted;
}

/* Log-linear histogram (HdrHistogram's idea, fixed precision). */
#include "bench/hist.h"

#include <string.h>

#define SUB (1u << SB_HIST_SUB_BITS)

void sb_hist_reset(sb_hist_t *h) {
  memset(h, 0, sizeof *h);
}

size_t sb_hist_bucket(uint64_t ns) {
  unsigned e;
  if (ns < SUB)
    return (size_t)ns;
  if (ns >> SB_HIST_MAX_BITS)
    return SB_HIST_BUCKETS - 1;
  e = 63u - (unsigned)__builtin_clzll(ns); /* >= SUB_BITS */
  return (size_t)(e - SB_HIST_SUB_BITS + 1) * SUB + (size_t)((ns >> (e - SB_HIST_SUB_BITS)) - SUB);
}

uint64_t sb_hist_bucket_low(size_t idx) {
  size_t k = idx / SUB, m = idx % SUB;
  if (k == 0)
    return idx;
  return (uint64_t)(SUB + m) << (k - 1);
}

void sb_hist_add(sb_hist_t *h, uint64_t ns) {
  if (h->count == 0 || ns < h->min)
    h->min = ns;
  if (ns > h->max)
    h->max = ns;
  h->count++;
  h->sum += ns;
  h->buckets[sb_hist_bucket(ns)]++;
}

void sb_hist_merge(sb_hist_t *dst, const sb_hist_t *src) {
  size_t i;
  if (src->count == 0)
    return;
  if (dst->count == 0 || src->min < dst->min)
    dst->min = src->min;
  if (src->max > dst->max)
    dst->max = src->max;
  dst->count += src->count;
  dst->sum += src->sum;
  for (i = 0; i < SB_HIST_BUCKETS; i++)
    dst->buckets[i] += src->buckets[i];
}

uint64_t sb_hist_quantile(const sb_hist_t *h, double q) {
  uint64_t rank, seen = 0, lo, hi, mid;
  size_t i;
  if (h->count == 0)
    return 0;
  if (q >= 1.0)
    return h->max;
  if (q <= 0.0)
    return h->min;
  /* the smallest value with at least ceil(q * count) values at or below it */
  rank = (uint64_t)(q * (double)h->count);
  if ((double)rank < q * (double)h->count)
    rank++;
  if (rank == 0)
    rank = 1;
  for (i = 0; i < SB_HIST_BUCKETS; i++) {
    seen += h->buckets[i];
    if (seen >= rank)
      break;
  }
  if (i == SB_HIST_BUCKETS)
    return h->max;
  lo = sb_hist_bucket_low(i);
  hi = i + 1 < SB_HIST_BUCKETS ? sb_hist_bucket_low(i + 1) : lo + 1;
  mid = lo + (hi - lo - 1) / 2;
  if (mid < h->min)
    mid = h->min;
  if (mid > h->max)
    mid = h->max;
  return mid;
}

/* Latency histogram with bounded relative error: 64 linear buckets per power of two (under 1.6%
 * error), values in nanoseconds up to 2^40 (18 minutes). Fixed size, so it can be kept per thread
 * and per second without allocation, and merged by adding counts. */
#ifndef SB_BENCH_HIST_H
#define SB_BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define SB_HIST_SUB_BITS 6
#define SB_HIST_MAX_BITS 40
#define SB_HIST_BUCKETS (((SB_HIST_MAX_BITS - SB_HIST_SUB_BITS + 1) << SB_HIST_SUB_BITS))

typedef struct {
  uint64_t count;
  uint64_t sum;          /* ns, for the mean */
  uint64_t min, max;     /* exact, ns */
  uint32_t buckets[SB_HIST_BUCKETS];
} sb_hist_t;

/** Empties the histogram. */
void sb_hist_reset(sb_hist_t *h);

/** Records one value (ns); values over 2^40 - 1 land in the last bucket but max stays exact. */
void sb_hist_add(sb_hist_t *h, uint64_t ns);

/** Adds the counts of src to dst. */
void sb_hist_merge(sb_hist_t *dst, const sb_hist_t *src);

/** Value at quantile q in [0, 1] (the midpoint of its bucket, clamped to [min, max]); 0 if empty.
 * q = 1 returns max exactly. */
uint64_t sb_hist_quantile(const sb_hist_t *h, double q);

/** Bucket index of a value and the lowest value of a bucket; exposed for the tests. */
size_t sb_hist_bucket(uint64_t ns);
uint64_t sb_hist_bucket_low(size_t idx);

#endif

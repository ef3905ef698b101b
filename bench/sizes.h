/* Frame sizes seen on one received video stream: a handful of (width, height) bins with a frame
 * count each. Fixed size, no allocation, so it is filled on the packet path; a simulcast
 * subscriber sees at most three sizes (plus what a switch brings). */
#ifndef SB_BENCH_SIZES_H
#define SB_BENCH_SIZES_H

#include <stdint.h>

#define SB_BENCH_SIZE_BINS 4

typedef struct {
  uint16_t width, height;
  uint64_t frames;
} sb_bench_size_bin_t;

typedef struct {
  sb_bench_size_bin_t bins[SB_BENCH_SIZE_BINS]; /* in the order sizes were first seen */
  int nbins;
  uint64_t other;          /* frames of sizes past the last bin */
} sb_bench_sizes_t;

/** Counts one frame of width x height (a size already binned, a new bin, or `other`). */
void sb_bench_sizes_add(sb_bench_sizes_t *s, unsigned width, unsigned height);

/** The bin with the most frames (the first of equals), or NULL when nothing was counted. */
const sb_bench_size_bin_t *sb_bench_sizes_mode(const sb_bench_sizes_t *s);

/** Frames counted, `other` included. */
uint64_t sb_bench_sizes_total(const sb_bench_sizes_t *s);

#endif

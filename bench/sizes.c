/* Per-stream frame size bins. */
#include "bench/sizes.h"

#include <stddef.h>

void sb_bench_sizes_add(sb_bench_sizes_t *s, unsigned width, unsigned height) {
  for (int i = 0; i < s->nbins; i++)
    if (s->bins[i].width == width && s->bins[i].height == height) {
      s->bins[i].frames++;
      return;
    }
  if (s->nbins == SB_BENCH_SIZE_BINS || width > UINT16_MAX || height > UINT16_MAX) {
    s->other++;
    return;
  }
  s->bins[s->nbins].width = (uint16_t)width;
  s->bins[s->nbins].height = (uint16_t)height;
  s->bins[s->nbins].frames = 1;
  s->nbins++;
}

const sb_bench_size_bin_t *sb_bench_sizes_mode(const sb_bench_sizes_t *s) {
  const sb_bench_size_bin_t *best = NULL;
  for (int i = 0; i < s->nbins; i++)
    if (!best || s->bins[i].frames > best->frames)
      best = &s->bins[i];
  return best;
}

uint64_t sb_bench_sizes_total(const sb_bench_sizes_t *s) {
  uint64_t n = s->other;
  for (int i = 0; i < s->nbins; i++)
    n += s->bins[i].frames;
  return n;
}

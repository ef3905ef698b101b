/* Capacity mode: the sample of receivers, the ramp's stop rule, CPU lists. */
#include "bench/capacity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_bench_capacity_pick(const sb_bench_sample_room_t *rooms, int nrooms, int limit, int want,
                           uint8_t *sampled) {
  int picked = 0, progress = 1;
  /* round r takes the r-th receiver of every room that has one below the limit */
  for (int r = 0; picked < want && progress; r++) {
    progress = 0;
    for (int k = 0; k < nrooms && picked < want; k++) {
      const sb_bench_sample_room_t *room = &rooms[k];
      int first_rx = room->first + (room->fanout ? 1 : 0);
      int i = first_rx + r;
      if (room->count < 2 || i >= room->first + room->count || i >= limit)
        continue;
      sampled[i] = 1;
      picked++;
      progress = 1;
    }
  }
  return picked;
}

int sb_bench_ramp_step_ok(const sb_bench_step_figures_t *s, double target_p99_ms, double target_loss_pct) {
  return s->latency_samples > 0 && s->p99_us <= target_p99_ms * 1000 && s->loss_pct <= target_loss_pct &&
         s->failed == 0 && s->with_media >= s->participants;
}

int sb_bench_ramp_next(int ok, int retries_left, int active, int step, int max, int steps_done, int max_steps) {
  if (steps_done >= max_steps)
    return 0;
  if (!ok)
    return retries_left > 0 ? active : 0;
  if (active >= max)
    return 0;
  return active + step > max ? max : active + step;
}

int sb_bench_cpulist_parse(const char *s, cpu_set_t *out) {
  const char *p = s;
  CPU_ZERO(out);
  if (!*s)
    return -1;
  for (;;) {
    char *end;
    long lo, hi;
    if (*p < '0' || *p > '9')
      return -1;
    lo = strtol(p, &end, 10);
    hi = lo;
    if (*end == '-') {
      if (end[1] < '0' || end[1] > '9')
        return -1;
      hi = strtol(end + 1, &end, 10);
    }
    if (lo > hi || hi >= CPU_SETSIZE)
      return -1;
    for (long c = lo; c <= hi; c++)
      CPU_SET((int)c, out);
    if (*end == '\0')
      return 0;
    if (*end != ',')
      return -1;
    p = end + 1;
  }
}

int sb_bench_cpus_check(const cpu_set_t *want, const cpu_set_t *have, int *missing) {
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, want) && !CPU_ISSET(c, have)) {
      *missing = c;
      return -1;
    }
  return 0;
}

void sb_bench_cpulist_format(const cpu_set_t *set, char *out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  for (int c = 0; c < CPU_SETSIZE; c++) {
    int hi = c;
    if (!CPU_ISSET(c, set))
      continue;
    while (hi + 1 < CPU_SETSIZE && CPU_ISSET(hi + 1, set))
      hi++;
    int n = hi > c ? snprintf(out + len, cap - len, "%s%d-%d", len ? "," : "", c, hi)
                   : snprintf(out + len, cap - len, "%s%d", len ? "," : "", c);
    if (n < 0 || (size_t)n >= cap - len)
      return;
    len += (size_t)n;
    c = hi;
  }
}

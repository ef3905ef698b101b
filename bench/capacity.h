/* Capacity mode's pure parts: which receivers are sampled (decrypt, decode, measure latency)
 * while the others only count packets, the rule that ends a ramp (the same for the relay and
 * the baseline), and CPU lists for pinning. No I/O, so they are tested without sockets. */
#ifndef SB_BENCH_CAPACITY_H
#define SB_BENCH_CAPACITY_H

#include <sched.h> /* cpu_set_t: _GNU_SOURCE is set for the whole build */
#include <stddef.h>
#include <stdint.h>

/* A room as the sampling sees it: participants [first, first + count); a fan-out room's first
 * participant only publishes, everybody else in any room receives. */
typedef struct {
  int first, count;
  int fanout;
} sb_bench_sample_room_t;

/** Marks `want` receivers in sampled[] (indexed by participant, zeroed by the caller), taking
 * them round-robin over the rooms (the first receiver of each room, then the second, ...) among
 * participants with index < limit, so that the sample is spread over the rooms that run from
 * the start. Returns how many were marked (fewer when there are fewer receivers). */
int sb_bench_capacity_pick(const sb_bench_sample_room_t *rooms, int nrooms, int limit, int want,
                           uint8_t *sampled);

/* What a ramp step measured, and the targets. */
typedef struct {
  int participants;         /* allowed to run in this step */
  int with_media, failed;
  uint64_t latency_samples; /* in the window (capacity mode: from the sampled receivers) */
  double p99_us, loss_pct;
} sb_bench_step_figures_t;

/** 1 if a step is within the targets: latency was measured, p99 <= target_p99_ms, loss <=
 * target_loss_pct, nobody failed and every participant reached media. */
int sb_bench_ramp_step_ok(const sb_bench_step_figures_t *s, double target_p99_ms, double target_loss_pct);

/** The participants of the next step, or 0 when the ramp ends: after a step that missed the
 * targets with no retry left (with `retries_left`, the same load `active` again), at `max`
 * participants, or after `max_steps` steps. */
int sb_bench_ramp_next(int ok, int retries_left, int active, int step, int max, int steps_done, int max_steps);

/** Parses a CPU list as taskset -c takes it ("1", "0,2", "0-3,6"). 0, or -1 if malformed or a
 * CPU number is past CPU_SETSIZE. */
int sb_bench_cpulist_parse(const char *s, cpu_set_t *out);

/** 0 if every CPU of `want` is in `have` (the CPUs this process may run on), else -1 with the
 * first missing CPU in *missing. */
int sb_bench_cpus_check(const cpu_set_t *want, const cpu_set_t *have, int *missing);

/** Writes a set as a CPU list ("0-1,3") into out. */
void sb_bench_cpulist_format(const cpu_set_t *set, char *out, size_t cap);

#endif

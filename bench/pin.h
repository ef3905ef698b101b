/* CPU pinning and limits for capacity runs (--pin-server, --pin-bench, --cpu-limit): the relay's
 * worker threads found by name in /proc/<pid>/task, the bench's own threads, what each ended up
 * on, and each worker's (or the forwarder's) share of a CPU, for the report. */
#ifndef SB_BENCH_PIN_H
#define SB_BENCH_PIN_H

#include <sched.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "bench/sysinfo.h" /* SB_BENCH_WORKER_THREAD_PREFIX */

/** Parses a --pin-* CPU list and checks that every CPU exists here (is one this process may run
 * on). 0, or -1 with a clear reason in err. */
int sb_bench_pin_resolve(const char *opt, const char *list, cpu_set_t *out, char *err, size_t errlen);

/** Pins the threads of `pid`: those named SB_BENCH_WORKER_THREAD_PREFIX* to `workers`, the others
 * to the remaining CPUs this process may use (if any remain); a process without such threads is
 * pinned whole to `workers`. Returns the threads pinned to `workers` (>= 1), or -1 with a reason
 * in err. */
int sb_bench_pin_process(pid_t pid, const cpu_set_t *workers, char *err, size_t errlen);

/** Pins the calling thread (threads it starts later inherit it). 0 or -1 with a reason. */
int sb_bench_pin_self(const cpu_set_t *cpus, char *err, size_t errlen);

/** [{"tid", "name", "cpus"}] of the threads of `pid` as the kernel has them now (new reference;
 * an empty array if the process is gone). */
json_t *sb_bench_pin_describe(pid_t pid);

/* --cpu-limit: the kernel's CFS bandwidth control (cgroup v1 `cpu` controller) gives each relay
 * worker thread, and the baseline forwarder, at most pct% of one CPU: a cgroup of its own per
 * thread, cpu.cfs_quota_us = pct% of SB_BENCH_CPU_LIMIT_PERIOD_US. On a machine where the bench's
 * own core saturates before a worker's, the capacity of a worker at a known share of a core can
 * still be measured (and compared with the forwarder's at the same share). */
#define SB_BENCH_CGROUP_CPU "/sys/fs/cgroup/cpu"
#define SB_BENCH_CPU_LIMIT_PERIOD_US 10000
#define SB_BENCH_CPU_LIMIT_GROUPS (SB_BENCH_MAX_SERVER_WORKERS + 1)

typedef struct {
  int pct;   /* 0: no limit */
  int n;     /* groups made */
  struct {
    pid_t tid;
    char side[16]; /* "relay" or "forwarder" */
    char path[128];
  } g[SB_BENCH_CPU_LIMIT_GROUPS];
} sb_bench_cpulimit_t;

/** Checks that limits can be set here (the cgroup v1 cpu controller, writable). 0, or -1 with a
 * reason in err. */
int sb_bench_cpulimit_check(char *err, size_t errlen);

/** Puts each thread of `pid` named SB_BENCH_WORKER_THREAD_PREFIX* (all its threads if none is)
 * in a cgroup of its own limited to l->pct% of a CPU. `side` labels them in the report. Returns
 * the threads limited (>= 1), or -1 with a reason in err (groups already made stay in l, for
 * sb_bench_cpulimit_release). */
int sb_bench_cpulimit_apply(sb_bench_cpulimit_t *l, pid_t pid, const char *side, char *err, size_t errlen);

/** {"pct", "period_us", "quota_us", "threads": [{"tid", "cgroup", "periods", "throttled_periods",
 * "throttled_ms"}]} of the groups of `side`, from their cpu.stat (cumulative since apply). */
json_t *sb_bench_cpulimit_json(const sb_bench_cpulimit_t *l, const char *side);

/** Moves the threads still alive back to the root group and removes every group made. */
void sb_bench_cpulimit_release(sb_bench_cpulimit_t *l);

#endif

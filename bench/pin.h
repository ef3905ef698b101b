/* CPU pinning for capacity runs (--pin-server, --pin-bench): the relay's worker threads found by
 * name in /proc/<pid>/task, the bench's own threads, and what each ended up on, for the report. */
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

#endif

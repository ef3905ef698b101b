/* The scenario (rooms and participants with their roles, tokens and start times) and the run's
 * control from the main thread: ramp-up, the measured window aligned to whole seconds, the
 * optional ramp steps, server and bench sampling, the live progress line, the stop. */
#ifndef SB_BENCH_RUN_H
#define SB_BENCH_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "bench/report.h"
#include "bench/worker.h"

/** Creates the rooms and participants of cfg's scenario (ramp mode: up to ramp_max), mints
 * their tokens with `key`, and spreads them over the workers. 0 or -1 with a reason in err. */
int sb_bench_run_prepare(sb_bench_run_t *run, sb_bench_worker_t *workers, int nworkers,
                         const uint8_t *key, size_t keylen, char *err, size_t errlen);

/** Runs: starts the workers, waits for joins, measures, stops, joins the threads, and fills the
 * window and timeline parts of `res`. `server_pid` may be 0. Returns 0, or -1 if nobody joined. */
int sb_bench_run_execute(sb_bench_run_t *run, sb_bench_worker_t *workers, int nworkers,
                         int server_pid, sb_bench_results_t *res);

/** Frees the participants and rooms. */
void sb_bench_run_free(sb_bench_run_t *run);

#endif

/* The figures of a run, gathered after the workers ended, and the three ways they are shown: a
 * summary table on stdout, a JSON file with everything, and a self-contained HTML page. */
#ifndef SB_BENCH_REPORT_H
#define SB_BENCH_REPORT_H

#include <stdint.h>

#include <jansson.h>

#include "bench/hist.h"
#include "bench/serverapi.h"
#include "bench/sysinfo.h"
#include "bench/worker.h"

/* One second of the whole run (all workers, the server sample at its end). */
typedef struct {
  double out_pps, in_pps, out_mbps, in_mbps;
  double loss_pct;
  double p50_us, p99_us;
  double server_cpu_pct;     /* of one core */
  double server_rss_mib;
  double bench_cpu_pct;
  int media_peers;
} sb_bench_tick_t;

/* One step of ramp mode. */
typedef struct {
  int participants;
  int with_media;
  double p50_us, p99_us, loss_pct, in_pps, server_us_per_pkt;
  double server_user_us_per_pkt, server_sys_us_per_pkt; /* -1: not known */
  double out_pps;            /* packets the bench's publishers sent */
  uint64_t latency_samples;  /* capacity mode: from the sampled receivers only */
  int ok;
} sb_bench_step_t;

typedef struct {
  const sb_bench_config_t *cfg;
  const sb_bench_run_t *run;
  sb_bench_worker_t *workers;
  int nworkers;
  char url[256];
  char started_at[40];       /* ISO 8601, UTC */
  double wall_s;
  int server_pid;
  int spawned;
  sb_bench_machine_t machine;

  int sec_from, sec_to;      /* measured window [from, to) in seconds since t0 */
  sb_hist_t lat;             /* relay-added latency in the window */
  uint64_t win_pkts_in, win_pkts_out, win_bytes_in, win_bytes_out, win_expected, win_received;
  double server_cpu_s;       /* in the window */
  double server_user_s, server_sys_s; /* its split (-1: not known), user + system == total */
  uint64_t server_rss_max_kib, server_hwm_kib, server_rss_start_kib;
  int server_threads;
  int server_nworkers;       /* relay worker threads seen (sb-worker-<index>), 0: none */
  double server_worker_cpu_s[SB_BENCH_MAX_SERVER_WORKERS]; /* each one's, in the window; -1: unknown */
  /* Wake-ups in the window (times put on a CPU, schedstat): each worker's, and those of the
   * threads that carry media (the workers together, or the process where none is named so, as
   * the forwarder's one thread); -1: unknown. */
  double server_worker_wakeups[SB_BENCH_MAX_SERVER_WORKERS];
  double server_wakeups;
  double bench_user_s, bench_sys_s, bench_window_cpu_s;
  int health_ok;             /* the server's own counters over the window (/api/health) */
  uint64_t srv_rx, srv_tx, srv_forwarded;
  sb_bench_health_t health_end; /* the last reading: drops since the server started */
  sb_bench_cpustat_t machine_win; /* the whole machine's ticks in the window (/proc/stat) */

  sb_bench_tick_t *ticks;    /* per second since t0 */
  int nticks;
  sb_bench_step_t *steps;    /* ramp mode */
  int nsteps;
  int ramp_best;             /* largest participants within the targets, -1 if none */
  int ramp_best_step;        /* its index in steps, -1 if none */
} sb_bench_results_t;

/** Builds the JSON document (parameters, machine, versions, every figure, per stream). */
json_t *sb_bench_report_json(const sb_bench_results_t *r);

/** The value at a dotted path of a report document ("latency_us.p50"), NULL if absent. */
const json_t *sb_bench_report_get(const json_t *doc, const char *path);

/** The number at a dotted path, NAN if absent or not a number. */
double sb_bench_report_num(const json_t *doc, const char *path);

/** Prints the summary table. */
void sb_bench_report_print(const sb_bench_results_t *r, const json_t *doc);

/** Adds the baseline run (its document `bdoc`, not taken) as doc's "baseline" object, with the
 * forwarder's counters `fwd` (taken), and "vs_baseline": the relay's figures over the
 * baseline's, each computed the same way on both sides (report_baseline.c). */
void sb_bench_report_add_baseline(json_t *doc, json_t *bdoc, json_t *fwd);

/** Prints the baseline's lines and the ratios after the summary. */
void sb_bench_report_print_baseline(const json_t *doc);

/** Adds "sampling" (--capacity: the sampled receivers and what each class got) and "capacity"
 * (ramp mode: the largest step within the targets) to doc (report_capacity.c). */
void sb_bench_report_add_capacity(json_t *doc, const sb_bench_results_t *r);

/** Prints doc's sampling and capacity lines, labelled `who` ("relay", "baseline"). */
void sb_bench_report_print_capacity(const json_t *doc, const char *who);

/** Writes the self-contained HTML report (inline SVG). 0 or -1. */
int sb_bench_report_html(const char *path, const json_t *doc);

#endif

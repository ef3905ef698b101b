/* switchboard-bench: load and latency tests of a Switchboard server with real clients. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libwebsockets.h>

#include "bench/baseline.h"
#include "bench/capacity.h"
#include "bench/clip.h"
#include "bench/config.h"
#include "bench/pin.h"
#include "bench/report.h"
#include "bench/run.h"
#include "bench/serverapi.h"
#include "bench/srtpc.h"
#include "bench/sysinfo.h"
#include "bench/worker.h"
#include "common/log.h"
#include "common/util.h"

static int secs_needed(const sb_bench_config_t *c, int npeers) {
  double s = 5 + npeers / c->ramp_rate + c->join_timeout_s + 3 + c->duration_s;
  if (c->ramp_mode) {
    int steps = (c->ramp_max - c->ramp_start) / c->ramp_step + 2;
    s = 5 + steps * (c->ramp_step / c->ramp_rate + c->join_timeout_s + 3 + c->ramp_step_s) + 10;
    s += steps * c->ramp_retries * (c->ramp_step_s + 2); /* at worst every step measured again */
  }
  return (int)s + 30 < 4000 ? (int)s + 30 : 4000;
}

static int write_json(const char *path, json_t *doc) {
  if (json_dump_file(doc, path, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0) {
    fprintf(stderr, "switchboard-bench: cannot write %s\n", path);
    return -1;
  }
  return 0;
}

static void started_at(char *out, size_t cap) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Everything main() sets up, so that set-up, run and teardown are separate steps. */
typedef struct {
  sb_bench_config_t cfg;
  sb_bench_clip_t clip;
  sb_bench_run_t run;
  sb_bench_server_t server;
  sb_bench_results_t res;
  sb_bench_worker_t *ws;
  int nw;
  int spawned;
  uint8_t key[64];
  int keylen;
  int server_stopped, server_stop_rc;
  /* --baseline: the same scenario again, through the bench's own forwarder */
  sb_bench_run_t brun;
  sb_bench_worker_t *bws;
  sb_bench_results_t bres;
  sb_bench_fwd_t fwd;
  int baseline_rc;          /* --baseline-alongside: the forwarder's run, from its thread */
  /* --pin-server, --pin-bench: the CPU sets, the bench's own before pinning, what was done */
  cpu_set_t pin_server, pin_bench, bench_cpus;
  json_t *pinning, *bpinning;
  sb_bench_cpulimit_t limit; /* --cpu-limit: the relay's workers' and the forwarder's groups */
} app_t;

/* The CPU lists of --pin-server and --pin-bench, checked before anything starts. */
static int resolve_pins(app_t *a, char *err, size_t errlen) {
  if (sched_getaffinity(0, sizeof a->bench_cpus, &a->bench_cpus) < 0) {
    snprintf(err, errlen, "cannot read this process's CPUs");
    return -1;
  }
  if (a->cfg.pin_server[0] && sb_bench_pin_resolve("--pin-server", a->cfg.pin_server, &a->pin_server, err, errlen) < 0)
    return -1;
  if (a->cfg.pin_bench[0] && sb_bench_pin_resolve("--pin-bench", a->cfg.pin_bench, &a->pin_bench, err, errlen) < 0)
    return -1;
  a->limit.pct = a->cfg.cpu_limit;
  if (a->cfg.cpu_limit && sb_bench_cpulimit_check(err, errlen) < 0)
    return -1;
  return 0;
}

/* --cpu-limit on the threads of `pid` (the relay's workers, or the forwarder). 0 or -1 with a
 * reason printed. */
static int limit_cpu(app_t *a, pid_t pid, const char *side) {
  char err[300];
  if (!a->cfg.cpu_limit || !pid)
    return 0;
  if (sb_bench_cpulimit_apply(&a->limit, pid, side, err, sizeof err) < 0) {
    fprintf(stderr, "switchboard-bench: %s\n", err);
    return -1;
  }
  return 0;
}

/* The report's pinning object `*pinning` (made if needed) gets the CPU limit of `side`. */
static void report_cpu_limit(app_t *a, json_t **pinning, const char *side) {
  if (!a->cfg.cpu_limit)
    return;
  if (!*pinning)
    *pinning = json_object();
  json_object_set_new(*pinning, "cpu_limit", sb_bench_cpulimit_json(&a->limit, side));
}

/* One summary line per limited thread: how often the kernel held it back. */
static void print_cpu_limit(app_t *a) {
  json_t *sides[2] = {a->pinning, a->bpinning}, *t;
  size_t i;
  for (int s = 0; s < 2; s++) {
    json_t *lim = sides[s] ? json_object_get(sides[s], "cpu_limit") : NULL;
    json_array_foreach(json_object_get(lim, "threads"), i, t) {
      long long periods = json_integer_value(json_object_get(t, "periods"));
      long long thr = json_integer_value(json_object_get(t, "throttled_periods"));
      printf("  cpu limit  %-9s thread %lld: %d%% of a CPU; held back in %lld of %lld periods (%.1f%%), %.0f ms\n",
             s ? "forwarder" : "relay", json_integer_value(json_object_get(t, "tid")), a->cfg.cpu_limit, thr,
             periods, periods > 0 ? 100.0 * (double)thr / (double)periods : 0.0,
             json_real_value(json_object_get(t, "throttled_ms")));
    }
  }
}

/* Pins the server's relay workers right before the run (its threads exist by then), limits their
 * CPU, and records where every thread of it ended up. 0 or -1 with a reason printed. */
static int pin_server(app_t *a) {
  char err[300];
  int n;
  if (limit_cpu(a, a->cfg.server_pid, "relay") < 0)
    return -1;
  if (!a->cfg.pin_server[0] || !a->cfg.server_pid)
    return 0;
  n = sb_bench_pin_process(a->cfg.server_pid, &a->pin_server, err, sizeof err);
  if (n < 0) {
    fprintf(stderr, "switchboard-bench: %s\n", err);
    return -1;
  }
  if (!a->pinning)
    a->pinning = json_object();
  json_object_set_new(a->pinning, "server_cpus", json_string(a->cfg.pin_server));
  json_object_set_new(a->pinning, "server_threads_pinned", json_integer(n));
  json_object_set_new(a->pinning, "server_threads", sb_bench_pin_describe(a->cfg.server_pid));
  return 0;
}

static int make_clip(app_t *a, char *err, size_t errlen) {
  sb_bench_clip_params_t cp;
  memset(&cp, 0, sizeof cp);
  cp.video = !a->cfg.audio_only;
  cp.simulcast = a->cfg.simulcast;
  cp.width = (unsigned)a->cfg.width;
  cp.height = (unsigned)a->cfg.height;
  cp.fps = (unsigned)a->cfg.fps;
  cp.kbps = (unsigned)a->cfg.video_kbps;
  cp.seconds = (unsigned)a->cfg.clip_seconds;
  cp.audio_bps = a->cfg.audio_kbps * 1000;
  return sb_bench_clip_create(&a->clip, &cp, err, errlen);
}

/* The baseline run's own workers and participants (same scenario, tokens unused). */
static int setup_baseline(app_t *a, char *err, size_t errlen) {
  a->brun.cfg = &a->cfg;
  a->brun.clip = &a->clip;
  a->brun.baseline = &a->fwd;
  a->fwd.fd = -1;
  if (!(a->bws = calloc((size_t)a->nw, sizeof *a->bws)))
    return -1;
  int secs = secs_needed(&a->cfg, sb_bench_config_participants(&a->cfg));
  for (int i = 0; i < a->nw; i++)
    if (sb_bench_worker_init(&a->bws[i], i, &a->brun, secs) < 0) {
      snprintf(err, errlen, "worker set-up failed");
      return -1;
    }
  return sb_bench_run_prepare(&a->brun, a->bws, a->nw, a->key, (size_t)a->keylen, err, errlen);
}

/* The profile the relay's participants negotiated, else the first one offered. */
static uint16_t baseline_profile(const app_t *a) {
  for (int i = 0; i < a->run.npeers; i++)
    if (a->run.peers[i].srtp.profile)
      return a->run.peers[i].srtp.profile;
  return strncmp(a->cfg.srtp, "SRTP_AEAD_AES_128_GCM", 21) == 0 ? SB_SRTP_PROFILE_AEAD_AES_128_GCM
                                                                 : SB_SRTP_PROFILE_AES128_CM_SHA1_80;
}

/* Starts the bench's forwarder for the baseline run: on the relay's CPUs with --pin-server, else
 * where the bench could run before --pin-bench, as the relay's spawned server did. 0, or -1 with
 * a reason printed. */
static int baseline_start(app_t *a) {
  sb_bench_results_t *res = &a->bres;
  char err[300];
  int created = sb_bench_fwd_create(&a->fwd, baseline_profile(a), a->brun.npeers);
  a->fwd.pinned = a->cfg.pin_server[0] || a->cfg.pin_bench[0];
  a->fwd.cpus = a->cfg.pin_server[0] ? a->pin_server : a->bench_cpus;
  if (created < 0 || sb_bench_fwd_wire(&a->fwd, &a->brun, err, sizeof err) < 0 || sb_bench_fwd_start(&a->fwd) < 0) {
    fprintf(stderr, "switchboard-bench: baseline set-up failed%s%s\n", a->fwd.cnt ? ": " : "",
            a->fwd.cnt ? err : "");
    return -1;
  }
  if (limit_cpu(a, a->fwd.pid, "forwarder") < 0) {
    sb_bench_fwd_stop(&a->fwd);
    return -1;
  }
  res->cfg = &a->cfg;
  res->run = &a->brun;
  res->workers = a->bws;
  res->nworkers = a->nw;
  res->server_pid = (int)a->fwd.pid;
  snprintf(res->url, sizeof res->url, "baseline udp://127.0.0.1:%d", ntohs(a->fwd.addr.sin_port));
  started_at(res->started_at, sizeof res->started_at);
  sb_bench_machine(&res->machine);
  if (!a->cfg.quiet)
    printf("switchboard-bench: baseline: the same %d participants through the bench's forwarder (pid %d)%s\n",
           a->brun.npeers, (int)a->fwd.pid, a->cfg.baseline_alongside ? ", alongside the relay" : "");
  return 0;
}

/* The baseline's participants through the forwarder; 0, or -1 with a reason printed. */
static int baseline_execute(app_t *a) {
  if (sb_bench_run_execute(&a->brun, a->bws, a->nw, (int)a->fwd.pid, &a->bres) < 0) {
    fprintf(stderr, "switchboard-bench: baseline: no participant reached media\n");
    return -1;
  }
  return 0;
}

/* Reads back the forwarder's pinning (the child pins itself after the fork) and stops it.
 * `ok`: the run reached media. 0, or -1. */
static int baseline_finish(app_t *a, int ok) {
  if (!ok) {
    sb_bench_fwd_stop(&a->fwd);
    return -1;
  }
  if (a->fwd.pinned) {
    char cpus[128];
    sb_bench_cpulist_format(&a->fwd.cpus, cpus, sizeof cpus);
    a->bpinning = json_pack("{s:s,s:o}", "forwarder_cpus", cpus, "forwarder_threads",
                            sb_bench_pin_describe(a->fwd.pid));
    if (a->cfg.pin_bench[0])
      json_object_set_new(a->bpinning, "bench_cpus", json_string(a->cfg.pin_bench));
  }
  if (sb_bench_fwd_stop(&a->fwd) < 0) {
    fprintf(stderr, "switchboard-bench: baseline forwarder did not exit cleanly (status %d)\n",
            a->fwd.exit_status);
    return -1;
  }
  return 0;
}

/* Runs the scenario through the forwarder after the relay; the relay's spawned server is stopped
 * first, so that it takes nothing from the machine's figures. 0, or -1 with a reason printed. */
static int run_baseline(app_t *a) {
  if (a->spawned && !a->server_stopped) {
    a->server_stop_rc = sb_bench_server_stop(&a->server, 0);
    a->server_stopped = 1;
  }
  if (baseline_start(a) < 0)
    return -1;
  return baseline_finish(a, baseline_execute(a) == 0);
}

static void *baseline_thread(void *arg) {
  app_t *a = arg;
  a->baseline_rc = baseline_execute(a);
  return NULL;
}

/* --baseline-alongside: the relay's run and the forwarder's at the same time, from one t0, each
 * waiting for the other to settle before its window (sb_bench_run_t.partner_settled_us). 0 if
 * both reached media, else -1 with the reasons printed. */
static int run_alongside(app_t *a, sb_bench_results_t *res) {
  pthread_t th;
  int rc = 0;
  a->cfg.progress = 0; /* two runs: no progress line */
  if (baseline_start(a) < 0)
    return -1;
  a->run.partner_settled_us = &a->brun.settled_us;
  a->brun.partner_settled_us = &a->run.settled_us;
  a->run.t0_us = a->brun.t0_us = sb_now_us();
  if (pthread_create(&th, NULL, baseline_thread, a) != 0) {
    fprintf(stderr, "switchboard-bench: cannot start the baseline's thread\n");
    baseline_finish(a, 0);
    return -1;
  }
  if (sb_bench_run_execute(&a->run, a->ws, a->nw, a->cfg.server_pid, res) < 0) {
    fprintf(stderr, "switchboard-bench: no participant reached media\n");
    rc = -1;
  }
  pthread_join(th, NULL);
  if (baseline_finish(a, a->baseline_rc == 0) < 0)
    rc = -1;
  return rc;
}

/* Server, secret, media, crypto, workers, participants, provisioning. */
static int setup(app_t *a, char *err, size_t errlen) {
  sb_bench_config_t *cfg = &a->cfg;
  int i;
  if (cfg->spawn_server[0]) {
    if (sb_bench_server_spawn(&a->server, cfg->spawn_server, cfg->server_args, cfg->nserver_args, err, errlen) < 0)
      return -1;
    a->spawned = 1;
    snprintf(cfg->url, sizeof cfg->url, "ws://127.0.0.1:%d/ws", a->server.port);
    snprintf(cfg->secret_file, sizeof cfg->secret_file, "%s", a->server.secret);
    cfg->server_pid = (int)a->server.pid;
  }
  /* after the spawn, so that the server does not inherit the bench's CPUs */
  if (cfg->pin_bench[0]) {
    if (sb_bench_pin_self(&a->pin_bench, err, errlen) < 0)
      return -1;
    a->pinning = json_pack("{s:s}", "bench_cpus", cfg->pin_bench);
  }
  if (!cfg->janus) /* Janus takes no tokens */
    a->keylen = sb_bench_secret_load(cfg->secret_file, a->key, sizeof a->key, err, errlen);
  if (a->keylen < 0 || make_clip(a, err, errlen) < 0)
    return -1;
  a->run.cfg = cfg;
  a->run.clip = &a->clip;
  if (sb_bench_url_parse(cfg->url, &a->run.url) < 0 || sb_bench_cert_create(&a->run.cert, cfg->srtp) < 0 ||
      sb_bench_srtp_global_init() < 0) {
    snprintf(err, errlen, "bad --url or crypto set-up failed");
    return -1;
  }
  a->nw = cfg->threads;
  if (!(a->ws = calloc((size_t)a->nw, sizeof *a->ws)))
    return -1;
  for (i = 0; i < a->nw; i++)
    if (sb_bench_worker_init(&a->ws[i], i, &a->run, secs_needed(cfg, sb_bench_config_participants(cfg))) < 0) {
      snprintf(err, errlen, "worker set-up failed");
      return -1;
    }
  if (sb_bench_run_prepare(&a->run, a->ws, a->nw, a->key, (size_t)a->keylen, err, errlen) < 0)
    return -1;
  if (cfg->baseline && setup_baseline(a, err, errlen) < 0)
    return -1;
  if (!cfg->no_provision && !cfg->janus) {
    i = sb_bench_provision(&a->run, a->key, (size_t)a->keylen, err, errlen);
    if (i < 0)
      return -1;
    a->run.provision = i == 0;
    if (i > 0 && !cfg->quiet)
      printf("switchboard-bench: the server has no administrator API; joining rooms by name\n");
  }
  memset(a->key, 0, sizeof a->key);
  return 0;
}

/* Runs the scenario and writes the reports; returns the exit code. */
static int run_and_report(app_t *a) {
  sb_bench_results_t *res = &a->res;
  const sb_bench_config_t *cfg = &a->cfg;
  json_t *doc;
  int rc = 0;
  res->cfg = cfg;
  res->run = &a->run;
  res->workers = a->ws;
  res->nworkers = a->nw;
  res->server_pid = cfg->server_pid;
  res->spawned = a->spawned;
  snprintf(res->url, sizeof res->url, "%s", cfg->url);
  started_at(res->started_at, sizeof res->started_at);
  sb_bench_machine(&res->machine);
  if (!cfg->quiet)
    printf("switchboard-bench: %d %s in %d rooms, %d threads, against %s%s\n", a->run.npeers,
           cfg->janus ? "connections" : "participants", a->run.nrooms, a->nw,
           cfg->janus ? "Janus VideoRoom at " : "", cfg->url);
  if (pin_server(a) < 0)
    return 1;
  if (cfg->baseline_alongside) {
    if (run_alongside(a, res) < 0)
      rc = 1;
  } else {
    if (sb_bench_run_execute(&a->run, a->ws, a->nw, cfg->server_pid, res) < 0) {
      fprintf(stderr, "switchboard-bench: no participant reached media\n");
      rc = 1;
    }
    if (cfg->baseline && rc == 0 && run_baseline(a) < 0)
      rc = 1;
  }
  report_cpu_limit(a, &a->pinning, "relay");
  report_cpu_limit(a, &a->bpinning, "forwarder");
  doc = sb_bench_report_json(res);
  if (a->pinning)
    json_object_set(doc, "pinning", a->pinning);
  if (cfg->baseline && a->bres.cfg) {
    json_t *bdoc = sb_bench_report_json(&a->bres);
    if (a->bpinning)
      json_object_set(bdoc, "pinning", a->bpinning);
    json_object_set_new(bdoc, "alongside", json_boolean(cfg->baseline_alongside));
    sb_bench_report_add_baseline(doc, bdoc, a->fwd.cnt ? sb_bench_fwd_json(&a->fwd) : json_object());
    json_decref(bdoc);
  }
  if (!cfg->quiet)
    sb_bench_report_print(res, doc);
  if (!cfg->quiet && json_object_get(doc, "baseline"))
    sb_bench_report_print_baseline(doc);
  if (!cfg->quiet)
    print_cpu_limit(a);
  if (cfg->json_file[0] && write_json(cfg->json_file, doc) < 0)
    rc = 1;
  if (cfg->html_file[0] && sb_bench_report_html(cfg->html_file, doc) < 0) {
    fprintf(stderr, "switchboard-bench: cannot write %s\n", cfg->html_file);
    rc = 1;
  }
  json_decref(doc);
  return rc;
}

static void teardown(app_t *a, int rc) {
  if (a->server_stopped && a->server_stop_rc < 0)
    fprintf(stderr, "switchboard-bench: the server did not exit cleanly (wait status %d)\n",
            a->server.exit_status);
  if (a->spawned && !a->server_stopped && sb_bench_server_stop(&a->server, rc != 0) < 0)
    fprintf(stderr, "switchboard-bench: the server did not exit cleanly (wait status %d); log in %s\n",
            a->server.exit_status, a->server.log);
  for (int i = 0; a->ws && i < a->nw; i++)
    sb_bench_worker_destroy(&a->ws[i]);
  free(a->ws);
  sb_bench_run_free(&a->run);
  free(a->res.ticks);
  free(a->res.steps);
  for (int i = 0; a->bws && i < a->nw; i++)
    sb_bench_worker_destroy(&a->bws[i]);
  free(a->bws);
  sb_bench_run_free(&a->brun);
  free(a->bres.ticks);
  free(a->bres.steps);
  sb_bench_fwd_destroy(&a->fwd);
  sb_bench_cpulimit_release(&a->limit);
  json_decref(a->pinning);
  json_decref(a->bpinning);
  sb_bench_cert_destroy(&a->run.cert);
  sb_bench_clip_destroy(&a->clip);
}

int main(int argc, char **argv) {
  static app_t a;
  char err[300];
  int rc = 1, i;
  i = sb_bench_config_parse(&a.cfg, argc, argv, err, sizeof err);
  if (i != 0) {
    if (i < 0)
      fprintf(stderr, "switchboard-bench: %s (see --help)\n", err);
    return i < 0 ? 2 : 0;
  }
  if (sb_log_configure(a.cfg.log_level, a.cfg.debug) < 0) {
    fprintf(stderr, "switchboard-bench: unknown --log-level %s or --debug %s\n", a.cfg.log_level,
            a.cfg.debug);
    return 2;
  }
  if (resolve_pins(&a, err, sizeof err) < 0) {
    fprintf(stderr, "switchboard-bench: %s\n", err);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  lws_set_log_level(LLL_ERR, NULL);
  if (setup(&a, err, sizeof err) < 0)
    fprintf(stderr, "switchboard-bench: %s\n", err);
  else
    rc = run_and_report(&a);
  teardown(&a, rc);
  return rc;
}

/* switchboard-bench: load and latency tests of a Switchboard server with real clients. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "bench/clip.h"
#include "bench/config.h"
#include "bench/report.h"
#include "bench/run.h"
#include "bench/serverapi.h"
#include "bench/srtpc.h"
#include "bench/sysinfo.h"
#include "bench/worker.h"
#include "common/log.h"

static int secs_needed(const sb_bench_config_t *c, int npeers) {
  double s = 5 + npeers / c->ramp_rate + c->join_timeout_s + 3 + c->duration_s;
  if (c->ramp_mode) {
    int steps = (c->ramp_max - c->ramp_start) / c->ramp_step + 2;
    s = 5 + steps * (c->ramp_step / c->ramp_rate + c->join_timeout_s + 3 + c->ramp_step_s) + 10;
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

int main(int argc, char **argv) {
  sb_bench_config_t cfg;
  sb_bench_clip_t clip;
  sb_bench_clip_params_t cp;
  sb_bench_run_t run;
  sb_bench_server_t server;
  sb_bench_results_t res;
  sb_bench_worker_t *ws = NULL;
  uint8_t key[64];
  char err[300];
  int keylen, rc = 1, spawned = 0, nw = 0, i;
  json_t *doc = NULL;

  memset(&clip, 0, sizeof clip);
  memset(&run, 0, sizeof run);
  memset(&res, 0, sizeof res);
  memset(&server, 0, sizeof server);
  i = sb_bench_config_parse(&cfg, argc, argv, err, sizeof err);
  if (i != 0) {
    if (i < 0)
      fprintf(stderr, "switchboard-bench: %s (see --help)\n", err);
    return i < 0 ? 2 : 0;
  }
  if (sb_log_configure(cfg.log_level, cfg.debug) < 0) {
    fprintf(stderr, "switchboard-bench: unknown --log-level %s or --debug %s\n", cfg.log_level, cfg.debug);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  lws_set_log_level(LLL_ERR, NULL);
  if (cfg.spawn_server[0]) {
    if (sb_bench_server_spawn(&server, cfg.spawn_server, err, sizeof err) < 0) {
      fprintf(stderr, "switchboard-bench: %s\n", err);
      goto exit;
    }
    spawned = 1;
    snprintf(cfg.url, sizeof cfg.url, "ws://127.0.0.1:%d/ws", server.port);
    snprintf(cfg.secret_file, sizeof cfg.secret_file, "%s", server.secret);
    cfg.server_pid = (int)server.pid;
  }
  keylen = sb_bench_secret_load(cfg.secret_file, key, sizeof key, err, sizeof err);
  if (keylen < 0) {
    fprintf(stderr, "switchboard-bench: %s\n", err);
    goto exit;
  }
  memset(&cp, 0, sizeof cp);
  cp.video = !cfg.audio_only;
  cp.width = (unsigned)cfg.width;
  cp.height = (unsigned)cfg.height;
  cp.fps = (unsigned)cfg.fps;
  cp.kbps = (unsigned)cfg.video_kbps;
  cp.seconds = (unsigned)cfg.clip_seconds;
  cp.audio_bps = cfg.audio_kbps * 1000;
  if (sb_bench_clip_create(&clip, &cp, err, sizeof err) < 0) {
    fprintf(stderr, "switchboard-bench: media: %s\n", err);
    goto exit;
  }
  run.cfg = &cfg;
  run.clip = &clip;
  if (sb_bench_url_parse(cfg.url, &run.url) < 0 || sb_bench_cert_create(&run.cert, cfg.srtp) < 0 ||
      sb_bench_srtp_global_init() < 0) {
    fprintf(stderr, "switchboard-bench: bad --url or crypto set-up failed\n");
    goto exit;
  }
  nw = cfg.threads;
  ws = calloc((size_t)nw, sizeof *ws);
  if (!ws)
    goto exit;
  for (i = 0; i < nw; i++)
    if (sb_bench_worker_init(&ws[i], i, &run, secs_needed(&cfg, sb_bench_config_participants(&cfg))) < 0) {
      fprintf(stderr, "switchboard-bench: worker set-up failed\n");
      goto exit;
    }
  if (sb_bench_run_prepare(&run, ws, nw, key, (size_t)keylen, err, sizeof err) < 0) {
    fprintf(stderr, "switchboard-bench: %s\n", err);
    goto exit;
  }
  if (!cfg.no_provision) {
    i = sb_bench_provision(&run, key, (size_t)keylen, err, sizeof err);
    if (i < 0) {
      fprintf(stderr, "switchboard-bench: provisioning: %s\n", err);
      goto exit;
    }
    run.provision = i == 0;
    if (i > 0 && !cfg.quiet)
      printf("switchboard-bench: the server has no administrator API; joining rooms by name\n");
  }
  memset(key, 0, sizeof key);
  res.cfg = &cfg;
  res.run = &run;
  res.workers = ws;
  res.nworkers = nw;
  res.server_pid = cfg.server_pid;
  res.spawned = spawned;
  snprintf(res.url, sizeof res.url, "%s", cfg.url);
  started_at(res.started_at, sizeof res.started_at);
  sb_bench_machine(&res.machine);
  if (!cfg.quiet)
    printf("switchboard-bench: %d participants in %d rooms, %d threads, against %s\n", run.npeers,
           run.nrooms, nw, cfg.url);
  if (sb_bench_run_execute(&run, ws, nw, cfg.server_pid, &res) < 0)
    fprintf(stderr, "switchboard-bench: no participant reached media\n");
  else
    rc = 0;
  doc = sb_bench_report_json(&res);
  if (!cfg.quiet)
    sb_bench_report_print(&res, doc);
  if (cfg.json_file[0] && write_json(cfg.json_file, doc) < 0)
    rc = 1;
  if (cfg.html_file[0] && sb_bench_report_html(cfg.html_file, doc) < 0) {
    fprintf(stderr, "switchboard-bench: cannot write %s\n", cfg.html_file);
    rc = 1;
  }
exit:
  json_decref(doc);
  if (spawned && sb_bench_server_stop(&server, rc != 0) < 0) {
    fprintf(stderr, "switchboard-bench: the server did not exit cleanly (wait status %d); log in %s\n",
            server.exit_status, server.log);
    rc = 1;
  }
  for (i = 0; ws && i < nw; i++)
    sb_bench_worker_destroy(&ws[i]);
  free(ws);
  sb_bench_run_free(&run);
  free(res.ticks);
  free(res.steps);
  sb_bench_cert_destroy(&run.cert);
  sb_bench_clip_destroy(&clip);
  return rc;
}

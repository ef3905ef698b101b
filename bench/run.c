/* Scenario building and the main thread's control of a run. */
#include "bench/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/baseline.h"
#include "bench/capacity.h"
#include "bench/serverapi.h"
#include "common/log.h"
#include "common/util.h"
#include "signaling/token.h"

#define SETTLE_US 1500000u   /* after the last join: subscriptions and first keyframes */
#define DRAIN_US 300000u     /* after sending stops: packets in flight arrive */
#define TOKEN_TTL_S (6 * 3600)

enum { PHASE_JOINING, PHASE_SETTLING, PHASE_MEASURING, PHASE_DONE };

/* ---- scenario ------------------------------------------------------------------------------ */

/* --target janus: a VideoRoom participant publishes on one PeerConnection and subscribes on
 * another, so every publisher of a call or group room gets a receive-only twin that takes the
 * other publishers' feeds (bench/janus.c). */
static void add_janus_subscribers(sb_bench_run_t *run, sb_bench_room_t *r, int max_peers) {
  int n = r->count;
  for (int i = 0; i < n && run->npeers < max_peers; i++) {
    sb_bench_peer_t *p = &run->peers[run->npeers], *pub = &run->peers[r->first + i];
    p->index = run->npeers;
    p->room = r;
    p->fd = -1;
    p->own_pub = pub;
    size_t ulen = strnlen(pub->user, sizeof p->user - 2);
    memcpy(p->user, pub->user, ulen); /* "<publisher>s" */
    p->user[ulen] = 's';
    p->user[ulen + 1] = '\0';
    snprintf(p->room_id, sizeof p->room_id, "%s", r->id);
    p->receive_only = 1;
    run->npeers++;
    r->count++;
  }
}

static void add_room(sb_bench_run_t *run, int kind, int size, int max_peers, const char *prefix) {
  sb_bench_room_t *r = &run->rooms[run->nrooms];
  const sb_bench_config_t *cfg = run->cfg;
  if (run->npeers + size > max_peers)
    size = max_peers - run->npeers;
  if (size <= 0)
    return;
  snprintf(r->id, sizeof r->id, "%s-%d", prefix, run->nrooms + 1);
  r->kind = kind;
  r->first = run->npeers;
  r->count = size;
  for (int i = 0; i < size; i++) {
    sb_bench_peer_t *p = &run->peers[run->npeers];
    p->index = run->npeers;
    p->room = r;
    p->fd = -1;
    snprintf(p->user, sizeof p->user, "%s%04d", cfg->user_prefix, p->index + 1);
    snprintf(p->room_id, sizeof p->room_id, "%s", r->id);
    p->receive_only = kind == 2 && i > 0;
    p->publish_audio = !p->receive_only;
    p->publish_video = !p->receive_only && !cfg->audio_only;
    run->npeers++;
  }
  if (cfg->janus && kind != 2)
    add_janus_subscribers(run, r, max_peers);
  run->nrooms++;
}

static void build_rooms(sb_bench_run_t *run, int max_peers, const char *prefix) {
  const sb_bench_config_t *c = run->cfg;
  if (c->ramp_mode) {
    /* the shape of the first group given is repeated until ramp_max participants */
    while (run->npeers < max_peers) {
      if (c->fanout && c->fanout_rooms_given) /* rooms of one publisher and N subscribers */
        add_room(run, 2, c->fanout + 1, max_peers, prefix);
      else if (c->fanout)
        add_room(run, 2, max_peers, max_peers, prefix);
      else if (c->rooms)
        add_room(run, 1, c->room_size, max_peers, prefix);
      else
        add_room(run, 0, 2, max_peers, prefix);
    }
    return;
  }
  for (int i = 0; i < c->calls; i++)
    add_room(run, 0, 2, max_peers, prefix);
  for (int i = 0; i < c->rooms; i++)
    add_room(run, 1, c->room_size, max_peers, prefix);
  for (int i = 0; c->fanout && i < c->fanout_rooms; i++)
    add_room(run, 2, c->fanout + 1, max_peers, prefix);
}

/* --capacity: the receivers that decrypt, decode and measure latency, spread over the rooms
 * that run from the first step; the others only count packets. */
static int pick_sampled(sb_bench_run_t *run) {
  const sb_bench_config_t *c = run->cfg;
  sb_bench_sample_room_t *rooms = calloc((size_t)run->nrooms + 1, sizeof *rooms);
  uint8_t *mark = calloc((size_t)run->npeers + 1, 1);
  int limit = c->ramp_mode && c->ramp_start < run->npeers ? c->ramp_start : run->npeers;
  if (!rooms || !mark) {
    free(rooms);
    free(mark);
    return -1;
  }
  for (int i = 0; i < run->nrooms; i++) {
    rooms[i].first = run->rooms[i].first;
    rooms[i].count = run->rooms[i].count;
    rooms[i].fanout = run->rooms[i].kind == 2;
  }
  sb_bench_capacity_pick(rooms, run->nrooms, limit, c->capacity_sample, mark);
  for (int i = 0; i < run->npeers; i++)
    run->peers[i].sampled = mark[i];
  free(rooms);
  free(mark);
  return 0;
}

/* Whether a participant receives media (Janus's publisher connections receive none). */
static int receives(const sb_bench_run_t *run, const sb_bench_peer_t *p) {
  return p->room->count > 1 && (p->receive_only || (p->room->kind != 2 && !run->cfg->janus));
}

/* Receivers of video spread evenly over the scenario decode what they get (capacity mode: the
 * first --decode-sample of the sampled receivers; the others never see a payload). */
static void pick_decoders(sb_bench_run_t *run) {
  int nrecv = 0, want = run->cfg->decode_sample, k = 0;
  if (run->cfg->audio_only || want <= 0)
    return;
  if (run->cfg->capacity) {
    for (int i = 0; i < run->npeers && k < want; i++)
      if (run->peers[i].sampled) {
        run->peers[i].decode = 1;
        k++;
      }
    return;
  }
  for (int i = 0; i < run->npeers; i++)
    if (receives(run, &run->peers[i]))
      nrecv++;
  if (nrecv == 0)
    return;
  for (int i = 0, seen = 0; i < run->npeers && k < want; i++) {
    sb_bench_peer_t *p = &run->peers[i];
    if (!receives(run, p))
      continue;
    if ((long long)seen * want / nrecv == k) {
      p->decode = 1;
      k++;
    }
    seen++;
  }
}

int sb_bench_run_prepare(sb_bench_run_t *run, sb_bench_worker_t *workers, int nworkers,
                         const uint8_t *key, size_t keylen, char *err, size_t errlen) {
  const sb_bench_config_t *cfg = run->cfg;
  int max = cfg->ramp_mode ? cfg->ramp_max : sb_bench_config_participants(cfg);
  char prefix[48];
  sb_token_claims_t claims;
  if (cfg->ramp_mode && cfg->fanout && cfg->fanout_rooms_given && max > cfg->fanout_rooms * (cfg->fanout + 1))
    max = cfg->fanout_rooms * (cfg->fanout + 1); /* at most K rooms */
  if (!cfg->no_provision &&
      (cfg->room_size > 256 || cfg->fanout > 255 ||
       (cfg->ramp_mode && cfg->fanout && !cfg->fanout_rooms_given && cfg->ramp_max > 256))) {
    snprintf(err, errlen, "rooms hold at most 256 members (docs/api.md rooms.add_member)");
    return -1;
  }
  if (cfg->room_prefix[0])
    snprintf(prefix, sizeof prefix, "%s", cfg->room_prefix);
  else
    snprintf(prefix, sizeof prefix, "bench-%08x", sb_random_u32());
  run->peers = calloc((size_t)max, sizeof *run->peers);
  run->rooms = calloc((size_t)max, sizeof *run->rooms);
  if (!run->peers || !run->rooms) {
    snprintf(err, errlen, "out of memory for %d participants", max);
    return -1;
  }
  build_rooms(run, max, prefix);
  if (cfg->capacity && pick_sampled(run) < 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  pick_decoders(run);
  memset(&claims, 0, sizeof claims);
  snprintf(claims.tenant, sizeof claims.tenant, "%s", cfg->tenant);
  claims.exp = (int64_t)time(NULL) + TOKEN_TTL_S;
  for (int i = 0; i < run->npeers; i++) {
    sb_bench_peer_t *p = &run->peers[i];
    sb_bench_worker_t *w = &workers[i % nworkers];
    snprintf(claims.user, sizeof claims.user, "%s", p->user);
    snprintf(claims.name, sizeof claims.name, "Bench %s", p->user);
    p->token = cfg->janus ? NULL : sb_token_mint(key, keylen, &claims); /* Janus: no tokens */
    if (!p->token && !cfg->janus) {
      snprintf(err, errlen, "cannot mint a token for %s", p->user);
      return -1;
    }
    /* normal mode: a steady ramp from the start; ramp mode sets these per step */
    p->start_at_us = (uint64_t)(200000.0 + 1e6 * i / cfg->ramp_rate);
    p->w = w;
    sb_bench_peer_t **np = realloc(w->peers, (size_t)(w->npeers + 1) * sizeof *np);
    if (!np) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    w->peers = np;
    w->peers[w->npeers++] = p;
  }
  return 0;
}

void sb_bench_run_free(sb_bench_run_t *run) {
  for (int i = 0; i < run->npeers; i++)
    sb_bench_peer_release(&run->peers[i]);
  free(run->peers);
  free(run->rooms);
  run->peers = NULL;
  run->rooms = NULL;
  run->npeers = run->nrooms = 0;
}

/* ---- per-second samples of the server and of the bench itself -------------------------------- */

typedef struct {
  int cap;
  uint64_t *srv_cpu_ns;   /* at the start of each second; 0 = no sample */
  uint64_t *srv_user_ticks, *srv_sys_ticks;
  uint64_t *srv_rss_kib;
  double *self_cpu_s;
  sb_bench_health_t *health; /* relay counters from /api/health (or the baseline's) */
  sb_bench_cpustat_t *machine; /* /proc/stat: the whole machine */
  uint64_t *wrk_ns;       /* cap x SB_BENCH_MAX_SERVER_WORKERS: each relay worker's CPU ns */
  uint64_t *srv_slices;   /* times put on a CPU: all threads, and (cap x workers) each worker */
  uint64_t *wrk_slices;
  int nworkers;
  int last;               /* last second sampled */
} samples_t;

static int samples_init(samples_t *s, int cap) {
  s->cap = cap;
  s->last = -1;
  s->srv_cpu_ns = calloc((size_t)cap, sizeof *s->srv_cpu_ns);
  s->srv_user_ticks = calloc((size_t)cap, sizeof *s->srv_user_ticks);
  s->srv_sys_ticks = calloc((size_t)cap, sizeof *s->srv_sys_ticks);
  s->srv_rss_kib = calloc((size_t)cap, sizeof *s->srv_rss_kib);
  s->self_cpu_s = calloc((size_t)cap, sizeof *s->self_cpu_s);
  s->health = calloc((size_t)cap, sizeof *s->health);
  s->machine = calloc((size_t)cap, sizeof *s->machine);
  s->wrk_ns = calloc((size_t)cap * SB_BENCH_MAX_SERVER_WORKERS, sizeof *s->wrk_ns);
  s->srv_slices = calloc((size_t)cap, sizeof *s->srv_slices);
  s->wrk_slices = calloc((size_t)cap * SB_BENCH_MAX_SERVER_WORKERS, sizeof *s->wrk_slices);
  return s->srv_cpu_ns && s->srv_user_ticks && s->srv_sys_ticks && s->srv_rss_kib && s->self_cpu_s &&
                 s->health && s->machine && s->wrk_ns && s->srv_slices && s->wrk_slices
             ? 0
             : -1;
}

static void samples_free(samples_t *s) {
  free(s->srv_cpu_ns);
  free(s->srv_user_ticks);
  free(s->srv_sys_ticks);
  free(s->srv_rss_kib);
  free(s->self_cpu_s);
  free(s->health);
  free(s->machine);
  free(s->wrk_ns);
  free(s->srv_slices);
  free(s->wrk_slices);
}

static void sample(samples_t *s, int sec, int pid, const sb_bench_run_t *run, sb_bench_results_t *res) {
  sb_bench_proc_t pr;
  double u, sy;
  if (sec >= s->cap || sec <= s->last)
    return;
  s->last = sec;
  sb_bench_proc_sample(pid, &pr);
  if (pr.ok) {
    s->srv_cpu_ns[sec] = pr.cpu_ns ? pr.cpu_ns : 1;
    s->srv_user_ticks[sec] = pr.user_ticks;
    s->srv_sys_ticks[sec] = pr.system_ticks;
    s->srv_rss_kib[sec] = pr.rss_kib;
    if (!res->server_rss_start_kib)
      res->server_rss_start_kib = pr.rss_kib;
    if (pr.rss_kib > res->server_rss_max_kib)
      res->server_rss_max_kib = pr.rss_kib;
    res->server_hwm_kib = pr.hwm_kib;
    res->server_threads = pr.threads;
    memcpy(&s->wrk_ns[(size_t)sec * SB_BENCH_MAX_SERVER_WORKERS], pr.worker_ns, sizeof pr.worker_ns);
    s->srv_slices[sec] = pr.slices;
    memcpy(&s->wrk_slices[(size_t)sec * SB_BENCH_MAX_SERVER_WORKERS], pr.worker_slices,
           sizeof pr.worker_slices);
    if (pr.nworkers > s->nworkers)
      s->nworkers = pr.nworkers;
  }
  sb_bench_cpustat_sample(&s->machine[sec]);
  sb_bench_self_cpu(&u, &sy);
  s->self_cpu_s[sec] = u + sy;
  if (run->baseline)
    sb_bench_fwd_health(run->baseline, &s->health[sec]);
  else if (!run->cfg->janus) /* Janus has no /api/health */
    sb_bench_health(run, &s->health[sec]);
}

/* ---- window figures from the workers' seconds ------------------------------------------------ */

typedef struct {
  sb_hist_t lat;
  uint64_t pkts_in, pkts_out, bytes_in, bytes_out, expected, received;
} window_t;

/* Sums seconds [from, to) of every worker; only seconds already published are read. */
static void window_sum(sb_bench_worker_t *ws, int nw, int from, int to, window_t *out) {
  memset(out, 0, sizeof *out);
  for (int k = 0; k < nw; k++) {
    int done = atomic_load_explicit(&ws[k].secs_done, memory_order_acquire);
    for (int i = 0; i < done; i++) {
      const sb_bench_second_t *s = &ws[k].secs[i];
      if (s->sec < from || s->sec >= to)
        continue;
      sb_hist_merge(&out->lat, &s->lat);
      out->pkts_in += s->pkts_in;
      out->pkts_out += s->pkts_out;
      out->bytes_in += s->bytes_in;
      out->bytes_out += s->bytes_out;
      out->expected += s->expected;
      out->received += s->received;
    }
  }
}

static int all_published(sb_bench_worker_t *ws, int nw, int sec) {
  for (int k = 0; k < nw; k++) {
    int done = atomic_load_explicit(&ws[k].secs_done, memory_order_acquire);
    if (done == 0 || ws[k].secs[done - 1].sec < sec)
      return 0;
  }
  return 1;
}

static double loss_pct(uint64_t expected, uint64_t received) {
  return expected > received && expected ? 100.0 * (double)(expected - received) / (double)expected : 0;
}

static double server_cpu_s(const samples_t *s, int from, int to) {
  if (from < 0 || to >= s->cap || !s->srv_cpu_ns[from] || !s->srv_cpu_ns[to])
    return -1;
  return (double)(s->srv_cpu_ns[to] - s->srv_cpu_ns[from]) / 1e9;
}

/* Each relay worker thread's CPU seconds and wake-ups in [from, to) (-1 where a sample is
 * missing), and the wake-ups of the threads that carry media: the workers' sum, or the whole
 * process's where no thread is named as a worker (the forwarder's one thread). */
static void worker_cpu(const samples_t *s, int from, int to, sb_bench_results_t *r) {
  int known = from >= 0 && to < s->cap && s->srv_cpu_ns[from] && s->srv_cpu_ns[to];
  double sum = 0; /* the workers' wake-ups; -1 once one is unknown */
  r->server_nworkers = s->nworkers;
  for (int w = 0; w < s->nworkers; w++) {
    uint64_t a = 0, b = 0;
    size_t i = (size_t)from * SB_BENCH_MAX_SERVER_WORKERS + (size_t)w;
    size_t j = (size_t)to * SB_BENCH_MAX_SERVER_WORKERS + (size_t)w;
    if (known) {
      a = s->wrk_ns[i];
      b = s->wrk_ns[j];
    }
    int ok = a && b && b >= a; /* the thread was there at both ends */
    r->server_worker_cpu_s[w] = ok ? (double)(b - a) / 1e9 : -1;
    double wk = ok && s->wrk_slices[j] >= s->wrk_slices[i] ? (double)(s->wrk_slices[j] - s->wrk_slices[i]) : -1;
    r->server_worker_wakeups[w] = wk;
    sum = sum < 0 || wk < 0 ? -1 : sum + wk;
  }
  if (s->nworkers)
    r->server_wakeups = sum;
  else
    r->server_wakeups = known && s->srv_slices[to] >= s->srv_slices[from]
                            ? (double)(s->srv_slices[to] - s->srv_slices[from])
                            : -1;
}

/* The server's CPU seconds in [from, to) split into user and system time. The total keeps its
 * nanosecond precision and is divided in the ratio of the utime and stime ticks that passed (the
 * kernel derives stat's own two figures from the same total that way), so user + system is the
 * total. -1 (both) when a sample is missing or no tick passed. */
static void server_cpu_split(const samples_t *s, int from, int to, double *user, double *sys) {
  double total = server_cpu_s(s, from, to);
  uint64_t du, ds;
  *user = *sys = -1;
  if (total < 0 || s->srv_user_ticks[to] < s->srv_user_ticks[from] ||
      s->srv_sys_ticks[to] < s->srv_sys_ticks[from])
    return;
  du = s->srv_user_ticks[to] - s->srv_user_ticks[from];
  ds = s->srv_sys_ticks[to] - s->srv_sys_ticks[from];
  if (du + ds == 0)
    return;
  *user = total * (double)du / (double)(du + ds);
  *sys = total - *user;
}

/* ---- the control loop ------------------------------------------------------------------------ */

typedef struct {
  sb_bench_run_t *run;
  sb_bench_worker_t *ws;
  int nw;
  int pid;
  sb_bench_results_t *res;
  samples_t smp;
  int phase;
  uint64_t phase_until;   /* settle end, or join deadline */
  int win_from, win_to;
  int progress;
  int retries;            /* measurements again of the current ramp step (--ramp-retries) */
} ctl_t;

static int count(sb_bench_worker_t *ws, int nw, int which) {
  int n = 0;
  for (int k = 0; k < nw; k++)
    n += which == 0 ? atomic_load(&ws[k].n_media) : atomic_load(&ws[k].n_failed);
  return n;
}

/* The last complete second: rates, loss and latency, on one rewritten line. */
static void progress_line(ctl_t *c, uint64_t now) {
  static const char *phase[] = {"joining", "settling", "measuring", "done"};
  static window_t w;
  int sec = (int)((now - c->run->t0_us) / 1000000u);
  window_sum(c->ws, c->nw, sec - 1, sec, &w);
  printf("\r[%6.1fs] %-9s media %d/%d failed %d | out %5llu pps in %6llu pps | loss %.3f%% | "
         "p50 %.0f p99 %.0f us   ",
         (double)(now - c->run->t0_us) / 1e6, phase[c->phase], count(c->ws, c->nw, 0),
         atomic_load(&c->run->active), count(c->ws, c->nw, 1), (unsigned long long)w.pkts_out,
         (unsigned long long)w.pkts_in, loss_pct(w.expected, w.received),
         (double)sb_hist_quantile(&w.lat, 0.5) / 1e3, (double)sb_hist_quantile(&w.lat, 0.99) / 1e3);
  fflush(stdout);
}

static int start_step(ctl_t *c, int from, int to, uint64_t now) {
  const sb_bench_config_t *cfg = c->run->cfg;
  for (int i = from; i < to; i++)
    c->run->peers[i].start_at_us = now + (uint64_t)(1e6 * (i - from) / cfg->ramp_rate);
  atomic_store_explicit(&c->run->active, to, memory_order_release);
  if (c->run->baseline) /* the forwarder sends only to participants that run */
    sb_bench_fwd_set_active(c->run->baseline, to);
  c->phase = PHASE_JOINING;
  c->phase_until = now + (uint64_t)(1e6 * (to - from) / cfg->ramp_rate + cfg->join_timeout_s * 1e6);
  return to;
}

/* Ends a ramp step: records it and either raises the load or finishes. */
static void end_step(ctl_t *c, uint64_t now) {
  const sb_bench_config_t *cfg = c->run->cfg;
  sb_bench_results_t *r = c->res;
  sb_bench_step_t *st = &r->steps[r->nsteps++];
  window_t w;
  double cpu = server_cpu_s(&c->smp, c->win_from, c->win_to), secs = c->win_to - c->win_from;
  double cpu_user, cpu_sys;
  int active = atomic_load(&c->run->active), next;
  sb_bench_step_figures_t fig;
  window_sum(c->ws, c->nw, c->win_from, c->win_to, &w);
  st->participants = active;
  st->with_media = count(c->ws, c->nw, 0);
  st->p50_us = (double)sb_hist_quantile(&w.lat, 0.5) / 1e3;
  st->p99_us = (double)sb_hist_quantile(&w.lat, 0.99) / 1e3;
  st->loss_pct = loss_pct(w.expected, w.received);
  st->in_pps = (double)w.pkts_in / secs;
  st->server_us_per_pkt = cpu >= 0 && w.pkts_in ? cpu * 1e6 / (double)w.pkts_in : -1;
  server_cpu_split(&c->smp, c->win_from, c->win_to, &cpu_user, &cpu_sys);
  st->server_user_us_per_pkt = cpu_user >= 0 && w.pkts_in ? cpu_user * 1e6 / (double)w.pkts_in : -1;
  st->server_sys_us_per_pkt = cpu_sys >= 0 && w.pkts_in ? cpu_sys * 1e6 / (double)w.pkts_in : -1;
  st->latency_samples = w.lat.count;
  st->out_pps = (double)w.pkts_out / secs;
  fig.participants = active;
  fig.with_media = st->with_media;
  fig.failed = count(c->ws, c->nw, 1);
  fig.latency_samples = w.lat.count;
  fig.p99_us = st->p99_us;
  fig.loss_pct = st->loss_pct;
  st->ok = sb_bench_ramp_step_ok(&fig, cfg->target_p99_ms, cfg->target_loss_pct);
  next = sb_bench_ramp_next(st->ok, cfg->ramp_retries - c->retries, active, cfg->ramp_step, c->run->npeers,
                            r->nsteps, 1000);
  if (!c->progress && !cfg->quiet)
    printf("ramp step: %d participants, p99 %.0f us, loss %.3f%% -> %s%s\n", active, st->p99_us,
           st->loss_pct, st->ok ? "within target" : "target missed", !st->ok && next ? ", measured again" : "");
  if (st->ok) {
    r->ramp_best = active;
    r->ramp_best_step = r->nsteps - 1;
    r->sec_from = c->win_from;
    r->sec_to = c->win_to;
  }
  if (!next) {
    if (r->ramp_best < 0) {
      r->sec_from = c->win_from;
      r->sec_to = c->win_to;
    }
    c->phase = PHASE_DONE;
    return;
  }
  if (!st->ok) { /* the same participants, a new window from the next second */
    c->retries++;
    c->phase = PHASE_SETTLING;
    c->phase_until = now;
    return;
  }
  c->retries = 0;
  start_step(c, active, next, now);
}

static void control_step(ctl_t *c, uint64_t now) {
  const sb_bench_config_t *cfg = c->run->cfg;
  int sec = (int)((now - c->run->t0_us) / 1000000u), active = atomic_load(&c->run->active);
  switch (c->phase) {
  case PHASE_JOINING:
    if (count(c->ws, c->nw, 0) + count(c->ws, c->nw, 1) >= active || now >= c->phase_until) {
      if (now >= c->phase_until)
        sb_warn("bench", "join timeout: %d of %d participants have media", count(c->ws, c->nw, 0),
                active);
      c->phase = PHASE_SETTLING;
      c->phase_until = now + SETTLE_US;
    }
    break;
  case PHASE_SETTLING:
    if (now >= c->phase_until) {
      uint64_t settled = atomic_load(&c->run->settled_us), last = now;
      if (!settled)
        atomic_store(&c->run->settled_us, settled = now);
      if (c->run->partner_settled_us) {
        /* the same seconds as the run alongside: from the first whole one after both settled
         * (both compute it alike, from the shared t0); alone after a join timeout's wait */
        uint64_t other = atomic_load(c->run->partner_settled_us);
        if (!other && now < settled + (uint64_t)(cfg->join_timeout_s * 1e6))
          break;
        last = !other ? now : other > settled ? other : settled;
      }
      sec = (int)((last - c->run->t0_us) / 1000000u);
      c->win_from = sec + 1;
      c->win_to = c->win_from + (int)ceil(cfg->ramp_mode ? cfg->ramp_step_s : cfg->duration_s);
      c->phase = PHASE_MEASURING;
      /* from first: until `to` follows, the old `to` (earlier) keeps the range empty */
      atomic_store_explicit(&c->run->win_from_us, c->run->t0_us + (uint64_t)c->win_from * 1000000u,
                            memory_order_relaxed);
      atomic_store_explicit(&c->run->win_to_us, c->run->t0_us + (uint64_t)c->win_to * 1000000u,
                            memory_order_relaxed);
    }
    break;
  case PHASE_MEASURING:
    if (sec < c->win_to || !all_published(c->ws, c->nw, c->win_to - 1))
      break;
    if (cfg->ramp_mode) {
      end_step(c, now);
    } else {
      c->res->sec_from = c->win_from;
      c->res->sec_to = c->win_to;
      c->phase = PHASE_DONE;
    }
    break;
  default:
    break;
  }
}

static void sleep_until(uint64_t t) {
  uint64_t now = sb_now_us();
  struct timespec ts;
  if (t <= now)
    return;
  ts.tv_sec = (time_t)((t - now) / 1000000u);
  ts.tv_nsec = (long)((t - now) % 1000000u) * 1000;
  nanosleep(&ts, NULL); /* the main thread's pacing; workers run on their own loops */
}

/* Per-second timeline of the whole run. */
static void build_ticks(ctl_t *c) {
  sb_bench_results_t *r = c->res;
  int last = 0;
  for (int k = 0; k < c->nw; k++) {
    int done = atomic_load(&c->ws[k].secs_done);
    if (done && c->ws[k].secs[done - 1].sec > last)
      last = c->ws[k].secs[done - 1].sec;
  }
  r->nticks = last + 1;
  r->ticks = calloc((size_t)r->nticks, sizeof *r->ticks);
  if (!r->ticks) {
    r->nticks = 0;
    return;
  }
  for (int s = 0; s < r->nticks; s++) {
    sb_bench_tick_t *t = &r->ticks[s];
    window_t w;
    double cpu = server_cpu_s(&c->smp, s, s + 1);
    window_sum(c->ws, c->nw, s, s + 1, &w);
    t->out_pps = (double)w.pkts_out;
    t->in_pps = (double)w.pkts_in;
    t->out_mbps = (double)w.bytes_out * 8 / 1e6;
    t->in_mbps = (double)w.bytes_in * 8 / 1e6;
    t->loss_pct = loss_pct(w.expected, w.received);
    t->p50_us = (double)sb_hist_quantile(&w.lat, 0.5) / 1e3;
    t->p99_us = (double)sb_hist_quantile(&w.lat, 0.99) / 1e3;
    t->server_cpu_pct = cpu >= 0 ? cpu * 100 : -1;
    t->server_rss_mib = s < c->smp.cap ? (double)c->smp.srv_rss_kib[s] / 1024 : 0;
    t->bench_cpu_pct = s + 1 < c->smp.cap && c->smp.self_cpu_s[s + 1] > 0
                           ? (c->smp.self_cpu_s[s + 1] - c->smp.self_cpu_s[s]) * 100
                           : -1;
  }
}

static void finish_window(ctl_t *c) {
  sb_bench_results_t *r = c->res;
  window_t w;
  window_sum(c->ws, c->nw, r->sec_from, r->sec_to, &w);
  r->lat = w.lat;
  r->win_pkts_in = w.pkts_in;
  r->win_pkts_out = w.pkts_out;
  r->win_bytes_in = w.bytes_in;
  r->win_bytes_out = w.bytes_out;
  r->win_expected = w.expected;
  r->win_received = w.received;
  r->server_cpu_s = server_cpu_s(&c->smp, r->sec_from, r->sec_to);
  server_cpu_split(&c->smp, r->sec_from, r->sec_to, &r->server_user_s, &r->server_sys_s);
  worker_cpu(&c->smp, r->sec_from, r->sec_to, r);
  if (r->sec_to < c->smp.cap && r->sec_from >= 0 && c->smp.health[r->sec_from].ok &&
      c->smp.health[r->sec_to].ok) {
    const sb_bench_health_t *a = &c->smp.health[r->sec_from], *b = &c->smp.health[r->sec_to];
    r->health_ok = 1;
    r->srv_rx = b->rx_packets - a->rx_packets;
    r->srv_tx = b->tx_packets - a->tx_packets;
    r->srv_forwarded = b->rtp_forwarded - a->rtp_forwarded;
  }
  for (int s = c->smp.last; s >= 0; s--)
    if (c->smp.health[s].ok) {
      r->health_end = c->smp.health[s];
      break;
    }
  if (r->sec_to < c->smp.cap && r->sec_from >= 0 && c->smp.machine[r->sec_from].ok &&
      c->smp.machine[r->sec_to].ok) {
    const sb_bench_cpustat_t *a = &c->smp.machine[r->sec_from], *b = &c->smp.machine[r->sec_to];
    sb_bench_cpustat_t *d = &r->machine_win;
    d->user = b->user - a->user;
    d->nice = b->nice - a->nice;
    d->system = b->system - a->system;
    d->idle = b->idle - a->idle;
    d->iowait = b->iowait - a->iowait;
    d->irq = b->irq - a->irq;
    d->softirq = b->softirq - a->softirq;
    d->steal = b->steal - a->steal;
    d->ok = 1;
  }
  if (r->sec_to < c->smp.cap && r->sec_from >= 0 && c->smp.self_cpu_s[r->sec_to] > 0)
    r->bench_window_cpu_s = c->smp.self_cpu_s[r->sec_to] - c->smp.self_cpu_s[r->sec_from];
}

int sb_bench_run_execute(sb_bench_run_t *run, sb_bench_worker_t *ws, int nw, int server_pid,
                         sb_bench_results_t *res) {
  const sb_bench_config_t *cfg = run->cfg;
  ctl_t c;
  int cap = 4000, k, sec;
  uint64_t now, next;
  memset(&c, 0, sizeof c);
  c.run = run;
  c.ws = ws;
  c.nw = nw;
  c.pid = server_pid;
  c.res = res;
  c.progress = cfg->progress < 0 ? isatty(1) && !cfg->quiet : cfg->progress;
  res->ramp_best = -1;
  res->ramp_best_step = -1;
  if (samples_init(&c.smp, cap) < 0 || (cfg->ramp_mode && !(res->steps = calloc(1000, sizeof *res->steps))))
    return -1;
  if (!run->partner_settled_us) /* alongside, the caller set one t0 for both */
    run->t0_us = sb_now_us();
  sample(&c.smp, 0, server_pid, run, res);
  atomic_store(&run->sending, 1);
  if (cfg->ramp_mode) {
    start_step(&c, 0, cfg->ramp_start > run->npeers ? run->npeers : cfg->ramp_start, run->t0_us);
  } else {
    for (k = 0; k < run->npeers; k++)
      run->peers[k].start_at_us += run->t0_us;
    atomic_store(&run->active, run->npeers);
    if (run->baseline)
      sb_bench_fwd_set_active(run->baseline, run->npeers);
    c.phase_until = run->t0_us + (uint64_t)(1e6 * run->npeers / cfg->ramp_rate + cfg->join_timeout_s * 1e6);
  }
  for (k = 0; k < nw; k++)
    if (sb_bench_worker_start(&ws[k]) < 0)
      return -1;
  next = run->t0_us;
  while (c.phase != PHASE_DONE) {
    /* wake at each second boundary (for aligned samples) and every 100 ms in between */
    now = sb_now_us();
    sec = (int)((now - run->t0_us) / 1000000u);
    uint64_t boundary = run->t0_us + (uint64_t)(sec + 1) * 1000000u;
    next = now + 100000u < boundary ? now + 100000u : boundary;
    sleep_until(next);
    now = sb_now_us();
    sec = (int)((now - run->t0_us) / 1000000u);
    if (sec >= cap - 2)
      break;
    sample(&c.smp, sec, server_pid, run, res);
    control_step(&c, now);
    if (c.progress)
      progress_line(&c, now);
  }
  if (c.progress)
    printf("\n");
  atomic_store(&run->sending, 0);
  sleep_until(sb_now_us() + DRAIN_US);
  atomic_store(&run->stopping, 1);
  for (k = 0; k < nw; k++)
    sb_bench_worker_join(&ws[k]);
  now = sb_now_us();
  sample(&c.smp, (int)((now - run->t0_us) / 1000000u), server_pid, run, res);
  res->wall_s = (double)(now - run->t0_us) / 1e6;
  sb_bench_self_cpu(&res->bench_user_s, &res->bench_sys_s);
  finish_window(&c);
  build_ticks(&c);
  samples_free(&c.smp);
  for (k = 0; k < run->npeers; k++)
    if (run->peers[k].t_dtls_done)
      return 0;
  return -1;
}

/* --capacity and ramp mode in the report: which receivers were sampled and what each class of
 * receiver got, and the capacity (the largest ramp step within the targets) of the relay and,
 * with --baseline, of the forwarder. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/report.h"

static double r3(double v) {
  return round(v * 1000.0) / 1000.0;
}

/* Receivers: participants who get streams (a fan-out room's publisher gets none). */
static int is_receiver(const sb_bench_peer_t *p) {
  return p->t_start && p->room->count > 1 && !(p->room->kind == 2 && !p->receive_only);
}

static json_t *sampling_json(const sb_bench_results_t *r) {
  const sb_bench_run_t *run = r->run;
  json_t *users = json_array();
  uint64_t pk[2] = {0, 0}, lat[2] = {0, 0}, counted[2] = {0, 0}, exp[2] = {0, 0}, lost[2] = {0, 0};
  int n[2] = {0, 0};
  for (int i = 0; i < run->npeers; i++) {
    const sb_bench_peer_t *p = &run->peers[i];
    int s = p->sampled != 0;
    if (!is_receiver(p))
      continue;
    if (s)
      json_array_append_new(users, json_string(p->user));
    n[s]++;
    pk[s] += p->pkts_recv;
    counted[s] += p->pkts_counted;
    for (int k = 0; k < p->nrx; k++) {
      lat[s] += p->rx[k].lat_count;
      exp[s] += sb_rxstats_expected(&p->rx[k].st);
      lost[s] += sb_rxstats_lost(&p->rx[k].st);
    }
  }
  json_t *o = json_pack("{s:i,s:o}", "requested", r->cfg->capacity_sample, "sampled_receivers", users);
  for (int s = 1; s >= 0; s--)
    json_object_set_new(o, s ? "sampled" : "count_only",
                        json_pack("{s:i,s:I,s:I,s:I,s:I,s:f}", "receivers", n[s], "packets", (json_int_t)pk[s],
                                  "packets_without_srtp", (json_int_t)counted[s], "latency_samples",
                                  (json_int_t)lat[s], "lost", (json_int_t)lost[s], "loss_pct",
                                  exp[s] ? r3(100.0 * (double)lost[s] / (double)exp[s]) : 0.0));
  return o;
}

/* Rooms with at least one of the first `n` participants. */
static int rooms_of(const sb_bench_run_t *run, int n) {
  int k = 0;
  for (int i = 0; i < run->nrooms; i++)
    k += run->rooms[i].first < n;
  return k;
}

/* Packets/s the publishers among the first `n` participants send when the bench keeps pace:
 * 50 Opus packets, and per video layer fps times the clip's packets per frame. */
static double nominal_pps(const sb_bench_results_t *r, int n) {
  const sb_bench_clip_t *clip = r->run->clip;
  double video = 0, pps = 0;
  for (int l = 0; l < clip->nlayers; l++)
    if (clip->layers[l].vframes)
      video += r->cfg->fps * (double)clip->layers[l].video.count / clip->layers[l].vframes;
  for (int i = 0; i < n && i < r->run->npeers; i++)
    pps += (r->run->peers[i].publish_audio ? 50.0 : 0) + (r->run->peers[i].publish_video ? video : 0);
  return pps;
}

/* The server's (or forwarder's) CPU in a step, % of one core; null when not sampled. */
static json_t *cpu_pct(const sb_bench_step_t *s) {
  return s->server_us_per_pkt >= 0 ? json_real(r3(s->server_us_per_pkt * s->in_pps / 1e4)) : json_null();
}

static json_t *capacity_json(const sb_bench_results_t *r) {
  const sb_bench_config_t *c = r->cfg;
  const sb_bench_step_t *s = r->ramp_best_step >= 0 ? &r->steps[r->ramp_best_step] : NULL;
  const sb_bench_step_t *last = &r->steps[r->nsteps - 1];
  json_t *o = json_pack("{s:{s:f,s:f},s:s,s:i}", "targets", "p99_ms", c->target_p99_ms, "loss_pct",
                        c->target_loss_pct, "stopped_by", last->ok ? "ramp_max" : "target_missed",
                        "steps", r->nsteps);
  int again = 0;
  for (int i = 1; i < r->nsteps; i++) /* --ramp-retries: a load measured again after a miss */
    again += r->steps[i].participants == r->steps[i - 1].participants;
  json_object_set_new(o, "steps_measured_again", json_integer(again));
  if (!last->ok) /* the step that ended the ramp: was the server busy, or the p99 noise? */
    json_object_set_new(o, "missed_at", json_pack("{s:i,s:f,s:f,s:I,s:f,s:o}", "participants", last->participants,
                                                  "p99_us", r3(last->p99_us), "loss_pct", r3(last->loss_pct),
                                                  "latency_samples", (json_int_t)last->latency_samples,
                                                  "forwarded_pps", r3(last->in_pps), "cpu_pct_of_one_core",
                                                  cpu_pct(last)));
  if (!s) {
    json_object_set_new(o, "participants", json_integer(0));
    json_object_set_new(o, "forwarded_pps", json_null());
    return o;
  }
  json_object_set_new(o, "participants", json_integer(s->participants));
  json_object_set_new(o, "rooms", json_integer(rooms_of(r->run, s->participants)));
  json_object_set_new(o, "forwarded_pps", json_real(r3(s->in_pps)));
  json_object_set_new(o, "published_pps", json_real(r3(s->out_pps)));
  /* below 100: the bench's publishers fell behind their schedule (the bench was the limit) */
  double nominal = nominal_pps(r, s->participants);
  json_object_set_new(o, "published_pct_of_nominal", nominal > 0 ? json_real(r3(100 * s->out_pps / nominal)) : json_null());
  json_object_set_new(o, "p50_us", json_real(r3(s->p50_us)));
  json_object_set_new(o, "p99_us", json_real(r3(s->p99_us)));
  json_object_set_new(o, "loss_pct", json_real(r3(s->loss_pct)));
  json_object_set_new(o, "latency_samples", json_integer((json_int_t)s->latency_samples));
  json_object_set_new(o, "cpu_us_per_forwarded_packet", s->server_us_per_pkt >= 0 ? json_real(r3(s->server_us_per_pkt))
                                                                                   : json_null());
  json_object_set_new(o, "cpu_pct_of_one_core", cpu_pct(s));
  return o;
}

void sb_bench_report_add_capacity(json_t *doc, const sb_bench_results_t *r) {
  if (r->cfg->capacity)
    json_object_set_new(doc, "sampling", sampling_json(r));
  if (r->nsteps)
    json_object_set_new(doc, "capacity", capacity_json(r));
}

void sb_bench_report_print_capacity(const json_t *d, const char *who) {
  const json_t *s = json_object_get(d, "sampling"), *c = json_object_get(d, "capacity");
  if (s) {
    char *users = json_dumps(json_object_get(s, "sampled_receivers"), JSON_COMPACT);
    printf("  %-8s sampling %.0f sampled receivers %s: %.0f packets, %.0f latency samples; %.0f "
           "count-only: %.0f packets (%.0f without SRTP), %.0f latency samples\n",
           who, sb_bench_report_num(s, "sampled.receivers"), users ? users : "?",
           sb_bench_report_num(s, "sampled.packets"), sb_bench_report_num(s, "sampled.latency_samples"),
           sb_bench_report_num(s, "count_only.receivers"), sb_bench_report_num(s, "count_only.packets"),
           sb_bench_report_num(s, "count_only.packets_without_srtp"),
           sb_bench_report_num(s, "count_only.latency_samples"));
    free(users);
  }
  if (c && sb_bench_report_num(c, "participants") > 0)
    printf("  %-8s capacity %.0f participants in %.0f rooms, %.0f forwarded pkt/s, p99 %.0f us, loss "
           "%.3f%%, %.1f%% of a core (stopped by %s)\n",
           who, sb_bench_report_num(c, "participants"), sb_bench_report_num(c, "rooms"),
           sb_bench_report_num(c, "forwarded_pps"), sb_bench_report_num(c, "p99_us"),
           sb_bench_report_num(c, "loss_pct"), sb_bench_report_num(c, "cpu_pct_of_one_core"),
           json_string_value(json_object_get(c, "stopped_by")));
  else if (c)
    printf("  %-8s capacity none: no step within the targets\n", who);
  if (c && json_object_get(c, "missed_at"))
    printf("  %-8s missed at %.0f participants: p99 %.0f us, loss %.3f%%, %.0f forwarded pkt/s, %.1f%% of a "
           "core\n",
           who, sb_bench_report_num(c, "missed_at.participants"), sb_bench_report_num(c, "missed_at.p99_us"),
           sb_bench_report_num(c, "missed_at.loss_pct"), sb_bench_report_num(c, "missed_at.forwarded_pps"),
           sb_bench_report_num(c, "missed_at.cpu_pct_of_one_core"));
  if (c && sb_bench_report_num(c, "published_pct_of_nominal") < 95)
    printf("  %-8s capacity WARNING: the publishers sent %.1f%% of their nominal rate: the bench, not "
           "the forwarder, was the limit\n",
           who, sb_bench_report_num(c, "published_pct_of_nominal"));
}

/* The JSON document of a run and the summary table printed from it. */
#include "bench/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/srtpc.h"

/* Targets from the bench issue, shown beside the figures. */
#define TARGET_US_PER_PKT 3.3
#define TARGET_P50_US 100.0
#define TARGET_P99_US 1000.0
#define TARGET_JOIN_P50_MS 50.0
#define TARGET_KIB_PER_STREAM 256.0

static double r3(double v) {
  return round(v * 1000.0) / 1000.0;
}

static json_t *hist_json(const sb_hist_t *h, double unit) {
  json_t *o = json_object();
  json_object_set_new(o, "count", json_integer((json_int_t)h->count));
  if (!h->count)
    return o;
  json_object_set_new(o, "min", json_real(r3((double)h->min / unit)));
  json_object_set_new(o, "p50", json_real(r3((double)sb_hist_quantile(h, 0.50) / unit)));
  json_object_set_new(o, "p90", json_real(r3((double)sb_hist_quantile(h, 0.90) / unit)));
  json_object_set_new(o, "p99", json_real(r3((double)sb_hist_quantile(h, 0.99) / unit)));
  json_object_set_new(o, "p999", json_real(r3((double)sb_hist_quantile(h, 0.999) / unit)));
  json_object_set_new(o, "max", json_real(r3((double)h->max / unit)));
  json_object_set_new(o, "mean", json_real(r3((double)h->sum / (double)h->count / unit)));
  return o;
}

/* About 120 points of the cumulative distribution, [value, fraction]. */
static json_t *cdf_json(const sb_hist_t *h, double unit) {
  json_t *a = json_array();
  uint64_t seen = 0;
  double last_frac = -1;
  if (!h->count)
    return a;
  for (size_t i = 0; i < SB_HIST_BUCKETS; i++) {
    double frac;
    if (!h->buckets[i])
      continue;
    seen += h->buckets[i];
    frac = (double)seen / (double)h->count;
    if (frac - last_frac < 0.008 && seen != h->count && frac < 0.99)
      continue;
    last_frac = frac;
    uint64_t hi = i + 1 < SB_HIST_BUCKETS ? sb_hist_bucket_low(i + 1) : h->max;
    json_array_append_new(a, json_pack("[f,f]", r3((double)(hi < h->max ? hi : h->max) / unit), frac));
  }
  return a;
}

static void add_version(const char *name, const char *version, void *arg) {
  json_object_set_new(arg, name, json_string(version));
}

static json_t *params_json(const sb_bench_results_t *r) {
  const sb_bench_config_t *c = r->cfg;
  char res[32];
  snprintf(res, sizeof res, "%dx%d", c->width, c->height);
  json_t *p = json_pack("{s:s,s:{s:i,s:i,s:i,s:i,s:i,s:b},s:f,s:f,s:f,s:i,s:i,s:s,s:i,s:i,s:i,s:i,"
                        "s:s,s:s,s:s,s:s}",
                        "url", r->url, "scenario", "calls", c->calls, "rooms", c->rooms, "room_size",
                        c->room_size, "fanout", c->fanout, "fanout_rooms", c->fanout ? c->fanout_rooms : 0,
                        "audio_only", c->audio_only, "duration_s", c->duration_s, "ramp_rate",
                        c->ramp_rate, "join_timeout_s", c->join_timeout_s, "video_kbps", c->video_kbps,
                        "audio_kbps", c->audio_kbps, "resolution", res, "fps", c->fps, "clip_seconds",
                        c->clip_seconds, "decode_sample", c->decode_sample, "threads", c->threads,
                        "rx_timestamp", c->rx_ts == SB_BENCH_RX_KERNEL ? "kernel" : "user", "srtp_offered",
                        c->srtp, "tenant",
                        c->tenant, "server", r->spawned ? "spawned" : "external");
  json_object_set_new(p, "target", json_string(c->janus ? "janus" : "switchboard"));
  json_object_set_new(p, "simulcast", json_boolean(c->simulcast));
  json_object_set_new(p, "decode_all", json_boolean(c->decode_all));
  json_object_set_new(p, "twcc", json_boolean(c->twcc));
  if (c->prefer)
    json_object_set_new(p, "prefer", json_pack("{s:i,s:i}", "max_width", c->prefer_w, "max_height", c->prefer_h));
  else
    json_object_set_new(p, "prefer", json_null());
  if (c->simulcast) {
    json_t *layers = json_array();
    for (int i = 0; i < r->run->clip->nlayers; i++) {
      const sb_bench_clip_layer_t *l = &r->run->clip->layers[i];
      json_array_append_new(layers, json_pack("{s:s,s:i,s:i,s:i}", "rid", l->rid, "width", (int)l->width,
                                              "height", (int)l->height, "kbps", (int)l->kbps));
    }
    json_object_set_new(p, "simulcast_layers", layers);
  }
  if (r->spawned) {
    json_t *args = json_array();
    for (int i = 0; i < c->nserver_args; i++)
      json_array_append_new(args, json_string(c->server_args[i]));
    json_object_set_new(p, "server_args", args);
  }
  if (c->ramp_mode)
    json_object_set_new(p, "ramp", json_pack("{s:i,s:i,s:i,s:f,s:i,s:f,s:f}", "start", c->ramp_start,
                                             "step", c->ramp_step, "max", c->ramp_max, "step_s",
                                             c->ramp_step_s, "retries", c->ramp_retries, "target_p99_ms",
                                             c->target_p99_ms, "target_loss_pct", c->target_loss_pct));
  return p;
}

/* Streams a participant should receive: the other publishers of its room who started. */
static int expected_streams(const sb_bench_run_t *run, const sb_bench_peer_t *p) {
  int n = 0;
  const sb_bench_room_t *room = p->room;
  if (run->cfg->janus && !p->receive_only) /* a Janus publisher connection receives nothing */
    return 0;
  for (int i = room->first; i < room->first + room->count; i++) {
    const sb_bench_peer_t *o = &run->peers[i];
    if (o != p && o != p->own_pub && o->t_start)
      n += o->publish_audio + o->publish_video;
  }
  return n;
}

/* The participant who publishes a stream, found by the user id in its a=msid. */
static const sb_bench_peer_t *sender_of(const sb_bench_run_t *run, const sb_bench_peer_t *p,
                                        const sb_rx_stream_t *rx) {
  const sb_bench_room_t *room = p->room;
  for (int i = room->first; i < room->first + room->count; i++)
    if (strcmp(run->peers[i].user, rx->o.from_user) == 0)
      return &run->peers[i];
  return NULL;
}

/* Join request to first media of a stream, counted from the later of the two join requests
 * (receiver's and sender's): what a user waits for when joining, or when somebody joins. */
static uint64_t stream_join_us(const sb_bench_run_t *run, const sb_bench_peer_t *p,
                               const sb_rx_stream_t *rx) {
  const sb_bench_peer_t *s = sender_of(run, p, rx);
  uint64_t from = p->t_join_sent;
  if (!rx->first_us || !p->t_join_sent)
    return 0;
  if (s && s->t_join_sent > from)
    from = s->t_join_sent;
  return rx->first_us > from ? rx->first_us - from : 1;
}

typedef struct {
  uint64_t pkts, expected, lost, dups, reordered, too_old, no_time, streams, silent;
  double jitter_sum, jitter_max;
  uint64_t dec_streams, decoded, corrupt, missing, skipped, incomplete, undecodable, plis;
  int decoders;
  json_t *sizes;            /* the "video_sizes" object being summed */
} totals_t;

static void inc(json_t *obj, const char *key, json_int_t by) {
  json_object_set_new(obj, key, json_integer(json_integer_value(json_object_get(obj, key)) + by));
}

/* {"WxH": frames, ...} of one stream; adds the frames to `by_width` (keyed by width). */
static json_t *sizes_obj(const sb_bench_sizes_t *z, json_t *by_width) {
  json_t *o = json_object();
  char key[32];
  for (int i = 0; i < z->nbins; i++) {
    snprintf(key, sizeof key, "%ux%u", z->bins[i].width, z->bins[i].height);
    json_object_set_new(o, key, json_integer((json_int_t)z->bins[i].frames));
    snprintf(key, sizeof key, "%u", z->bins[i].width);
    inc(by_width, key, (json_int_t)z->bins[i].frames);
  }
  if (z->other)
    json_object_set_new(o, "other", json_integer((json_int_t)z->other));
  return o;
}

/* A stream counts once, at the size most of its window frames had; "none" without frames. */
static void count_stream(const sb_bench_sizes_t *z, json_t *streams_by_width, json_t *stream,
                         const char *field) {
  const sb_bench_size_bin_t *m = sb_bench_sizes_mode(z);
  char key[32];
  if (!m) {
    inc(streams_by_width, "none", 1);
    json_object_set_new(stream, field, json_null());
    return;
  }
  snprintf(key, sizeof key, "%u", m->width);
  inc(streams_by_width, key, 1);
  snprintf(key, sizeof key, "%ux%u", m->width, m->height);
  json_object_set_new(stream, field, json_string(key));
}

/* Frame sizes of a video stream in the window: from keyframe headers (every stream) and from
 * the decoder (decoded streams). */
static void stream_sizes(const sb_rx_stream_t *rx, json_t *o, totals_t *t) {
  json_t *z = t->sizes;
  json_object_set_new(o, "frame_sizes", sizes_obj(&rx->sizes, json_object_get(z, "frames_by_width")));
  json_object_set_new(o, "frames_unknown_size", json_integer((json_int_t)rx->frames_unknown_size));
  count_stream(&rx->sizes, json_object_get(z, "streams_by_width"), o, "size");
  inc(z, "streams", 1);
  inc(z, "frames_unknown_size", (json_int_t)rx->frames_unknown_size);
  if (!rx->dec)
    return;
  json_t *d = json_object_get(o, "decode");
  json_object_set_new(d, "frame_sizes", sizes_obj(&rx->dec_sizes, json_object_get(z, "decoded_frames_by_width")));
  count_stream(&rx->dec_sizes, json_object_get(z, "decoded_streams_by_width"), d, "size");
}

static json_t *sizes_new(void) {
  return json_pack("{s:i,s:o,s:o,s:i,s:o,s:o}", "streams", 0, "streams_by_width", json_object(),
                   "frames_by_width", json_object(), "frames_unknown_size", 0, "decoded_streams_by_width",
                   json_object(), "decoded_frames_by_width", json_object());
}

static uint64_t frames_missing(const sb_rx_stream_t *rx, uint32_t ticks) {
  uint64_t span, got = rx->frames_decoded + rx->frames_corrupt;
  if (!rx->dec_have_ts || !ticks)
    return 0;
  span = (uint32_t)(rx->dec_last_ts - rx->dec_first_ts) / ticks + 1;
  return span > got ? span - got : 0;
}

static json_t *stream_json(const sb_bench_run_t *run, const sb_bench_peer_t *p,
                           const sb_rx_stream_t *rx, totals_t *t) {
  const sb_rxstats_t *st = &rx->st;
  uint64_t exp = sb_rxstats_expected(st), lost = sb_rxstats_lost(st);
  json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:b,s:I,s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:f}", "receiver",
                        p->user, "sender", rx->o.from_user, "kind",
                        rx->o.kind == SB_MEDIA_AUDIO ? "audio" : "video", "ssrc",
                        (json_int_t)rx->o.ssrc, "mid", rx->o.mid, "active", rx->o.active, "packets",
                        (json_int_t)st->received, "bytes", (json_int_t)st->bytes, "expected",
                        (json_int_t)exp, "lost", (json_int_t)lost, "loss_pct",
                        exp ? r3(100.0 * (double)lost / (double)exp) : 0.0, "duplicates",
                        (json_int_t)st->duplicates, "reordered", (json_int_t)st->reordered, "too_old",
                        (json_int_t)st->too_old, "jitter_ms", r3(sb_rxstats_jitter_ms(st)));
  json_object_set_new(o, "latency_mean_us",
                      json_real(rx->lat_count ? r3((double)rx->lat_sum_ns / (double)rx->lat_count / 1e3) : 0));
  json_object_set_new(o, "latency_max_us", json_real(r3((double)rx->lat_max_ns / 1e3)));
  json_object_set_new(o, "without_send_time", json_integer((json_int_t)rx->no_time_ext));
  json_object_set_new(o, "latency_count", json_integer((json_int_t)rx->lat_count));
  if (run->cfg->capacity) /* decrypted and measured (sampled), or only counted */
    json_object_set_new(o, "sampled", json_boolean(p->sampled));
  if (stream_join_us(run, p, rx))
    json_object_set_new(o, "join_to_first_packet_ms", json_real(r3((double)stream_join_us(run, p, rx) / 1e3)));
  t->streams++;
  t->pkts += st->received;
  t->expected += exp;
  t->lost += lost;
  t->dups += st->duplicates;
  t->reordered += st->reordered;
  t->too_old += st->too_old;
  t->no_time += rx->no_time_ext;
  t->silent += st->received == 0;
  t->jitter_sum += sb_rxstats_jitter_ms(st);
  if (sb_rxstats_jitter_ms(st) > t->jitter_max)
    t->jitter_max = sb_rxstats_jitter_ms(st);
  if (rx->dec) {
    uint64_t miss = frames_missing(rx, run->clip->vframe_ticks);
    json_object_set_new(o, "decode",
                        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "frames_decoded",
                                  (json_int_t)rx->frames_decoded, "frames_corrupt",
                                  (json_int_t)rx->frames_corrupt, "frames_missing", (json_int_t)miss,
                                  "frames_skipped_waiting_keyframe", (json_int_t)rx->frames_skipped,
                                  "frames_incomplete", (json_int_t)rx->frames_incomplete,
                                  "undecodable_payloads", (json_int_t)rx->undecodable, "pli_sent",
                                  (json_int_t)rx->pli_sent));
    t->dec_streams++;
    t->decoded += rx->frames_decoded;
    t->corrupt += rx->frames_corrupt;
    t->missing += miss;
    t->skipped += rx->frames_skipped;
    t->incomplete += rx->frames_incomplete;
    t->undecodable += rx->undecodable;
    t->plis += rx->pli_sent;
  }
  if (rx->o.kind == SB_MEDIA_VIDEO)
    stream_sizes(rx, o, t);
  return o;
}

static const char *state_name(sb_peer_state_t s) {
  static const char *n[] = {"idle", "connecting", "auth", "room", "joining", "ice", "dtls", "media",
                            "leaving", "done", "failed"};
  return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}

static void add_time(sb_hist_t *h, uint64_t from, uint64_t to) {
  if (from && to >= from)
    sb_hist_add(h, (to - from) * 1000u);
}

static void totals_json(json_t *doc, const totals_t *tp, int exp_streams, uint64_t srtp_fail,
                        uint64_t unknown, uint64_t drops, uint64_t stun_fail, uint64_t plis_recv,
                        uint64_t nacks) {
  totals_t t = *tp;
  json_object_set_new(
      doc, "totals",
      json_pack("{s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:f,s:f,s:I,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
                "packets_received", (json_int_t)t.pkts, "expected", (json_int_t)t.expected, "lost",
                (json_int_t)t.lost, "loss_pct",
                t.expected ? r3(100.0 * (double)t.lost / (double)t.expected) : 0.0, "duplicates",
                (json_int_t)t.dups, "reordered", (json_int_t)t.reordered, "too_old", (json_int_t)t.too_old,
                "jitter_ms_mean", t.streams ? r3(t.jitter_sum / (double)t.streams) : 0.0,
                "jitter_ms_max", r3(t.jitter_max), "streams", (json_int_t)t.streams,
                "streams_expected", exp_streams, "streams_without_packets", (json_int_t)t.silent,
                "packets_without_send_time", (json_int_t)t.no_time, "unknown_ssrc_packets",
                (json_int_t)unknown, "srtp_failures", (json_int_t)srtp_fail, "send_drops",
                (json_int_t)drops, "stun_failures", (json_int_t)stun_fail,
                "keyframe_requests_received", (json_int_t)plis_recv, "nacks_received", (json_int_t)nacks));
  json_object_set_new(
      doc, "decode",
      json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "receivers", t.decoders, "streams",
                (json_int_t)t.dec_streams, "frames_decoded", (json_int_t)t.decoded, "frames_corrupt",
                (json_int_t)t.corrupt, "frames_missing", (json_int_t)t.missing,
                "frames_skipped_waiting_keyframe", (json_int_t)t.skipped, "frames_incomplete",
                (json_int_t)t.incomplete, "undecodable_payloads", (json_int_t)t.undecodable, "pli_sent",
                (json_int_t)t.plis));
}

/* Participants, join/setup times, streams and totals. */
static void peers_json(const sb_bench_results_t *r, json_t *doc) {
  const sb_bench_run_t *run = r->run;
  json_t *streams = json_array(), *errors = json_array(), *reasons = json_object(), *parts;
  json_t *profiles = json_object(), *refusals = json_array(), *nodes = json_object();
  int nrefused = 0, redirects = 0;
  sb_hist_t join, answer, ice, dtls;
  totals_t t;
  int started = 0, media = 0, failed = 0, exp_streams = 0, late = 0, prefer_ok = 0;
  uint64_t srtp_fail = 0, unknown = 0, drops = 0, stun_fail = 0, plis_recv = 0, nacks = 0;
  uint64_t twcc_fb = 0, twcc_no_ext = 0;
  int twcc_accepted = 0;
  memset(&t, 0, sizeof t);
  t.sizes = sizes_new();
  sb_hist_reset(&join);
  sb_hist_reset(&answer);
  sb_hist_reset(&ice);
  sb_hist_reset(&dtls);
  for (int i = 0; i < run->npeers; i++) {
    const sb_bench_peer_t *p = &run->peers[i];
    if (!p->t_start)
      continue;
    started++;
    media += p->t_dtls_done != 0;
    if (p->t_dtls_done) {
      const char *pn = sb_bench_srtp_profile_name(p->srtp.profile);
      json_object_set_new(profiles, pn, json_integer(json_integer_value(json_object_get(profiles, pn)) + 1));
    }
    if (p->state == SB_PEER_FAILED || (p->error[0] && !p->t_dtls_done)) {
      failed++;
      if (json_array_size(errors) < 50)
        json_array_append_new(errors, json_pack("{s:s,s:s,s:s}", "user", p->user, "state",
                                                state_name(p->state), "error", p->error));
      json_int_t n = json_integer_value(json_object_get(reasons, p->error));
      json_object_set_new(reasons, p->error, json_integer(n + 1));
    }
    uint64_t first = 0;
    for (int k = 0; k < p->nrx; k++) {
      uint64_t j = stream_join_us(run, p, &p->rx[k]);
      if (j && (!first || j < first))
        first = j;
    }
    if (first)
      sb_hist_add(&join, first * 1000u);
    late += p->late_joiner;
    prefer_ok += p->prefer_ok;
    redirects += p->join_hops;
    if (p->node[0] && p->t_answer) /* which node's call it joined (several nodes) */
      json_object_set_new(nodes, p->node, json_integer(json_integer_value(json_object_get(nodes, p->node)) + 1));
    add_time(&answer, p->t_join_sent, p->t_answer);
    add_time(&ice, p->t_join_sent, p->t_ice_done);
    add_time(&dtls, p->t_join_sent, p->t_dtls_done);
    exp_streams += expected_streams(run, p);
    t.decoders += p->decode;
    nrefused += p->answers_refused;
    if (p->answers_refused && json_array_size(refusals) < 50)
      json_array_append_new(refusals, json_pack("{s:s,s:i,s:s}", "user", p->user, "count",
                                                p->answers_refused, "first", p->refusal));
    srtp_fail += p->srtp_auth_fail + p->srtp_other_fail;
    unknown += p->unknown_ssrc;
    drops += p->send_drops;
    stun_fail += p->stun_fail;
    plis_recv += p->plis_recv + p->firs_recv;
    nacks += p->nacks_recv;
    twcc_accepted += p->answer.twcc_ext != 0;
    twcc_fb += p->twcc_fb_sent;
    twcc_no_ext += p->twcc_no_ext;
    for (int k = 0; k < p->nrx; k++)
      json_array_append_new(streams, stream_json(run, p, &p->rx[k], &t));
  }
  parts = json_pack("{s:i,s:i,s:i,s:i,s:o,s:o,s:o,s:i,s:o}", "planned", run->npeers, "started",
                    started, "reached_media", media, "failed", failed, "errors", errors, "error_counts",
                    reasons, "srtp_profiles", profiles, "answers_refused", nrefused, "refusals", refusals);
  /* transport-cc: answers that accepted the extension, feedback packets sent, RTP packets
   * received without a transport-wide sequence number on such a transport */
  json_object_set_new(parts, "twcc", json_pack("{s:i,s:I,s:I}", "accepted", twcc_accepted, "feedback_sent",
                                               (json_int_t)twcc_fb, "packets_without_seq", (json_int_t)twcc_no_ext));
  /* call.join redirects followed, and the participants each node's calls took */
  json_object_set_new(parts, "redirects", json_integer(redirects));
  json_object_set_new(parts, "nodes", nodes);
  if (r->cfg->prefer) /* call.prefer requests the server answered with a result */
    json_object_set_new(parts, "prefer_answered", json_integer(prefer_ok));
  json_object_set_new(doc, "participants", parts);
  json_object_set_new(doc, "join_ms", hist_json(&join, 1e6));
  json_object_set_new(json_object_get(doc, "join_ms"), "late_joiners", json_integer(late));
  json_object_set_new(doc, "setup_ms", json_pack("{s:o,s:o,s:o}", "answer", hist_json(&answer, 1e6),
                                                 "ice", hist_json(&ice, 1e6), "dtls", hist_json(&dtls, 1e6)));
  totals_json(doc, &t, exp_streams, srtp_fail, unknown, drops, stun_fail, plis_recv, nacks);
  json_object_set_new(doc, "streams", streams);
  json_object_set_new(doc, "video_sizes", t.sizes);
}

static double tick_value(const sb_bench_tick_t *t, size_t k) {
  switch (k) {
  case 0: return t->out_pps;
  case 1: return t->in_pps;
  case 2: return t->out_mbps;
  case 3: return t->in_mbps;
  case 4: return t->loss_pct;
  case 5: return t->p50_us;
  case 6: return t->p99_us;
  case 7: return t->server_cpu_pct;
  case 8: return t->server_rss_mib;
  default: return t->bench_cpu_pct;
  }
}

static json_t *timeline_json(const sb_bench_results_t *r) {
  json_t *o = json_object();
  const char *names[] = {"out_pps", "in_pps", "out_mbps", "in_mbps", "loss_pct", "p50_us", "p99_us",
                         "server_cpu_pct", "server_rss_mib", "bench_cpu_pct"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    json_t *a = json_array();
    for (int s = 0; s < r->nticks; s++)
      json_array_append_new(a, json_real(r3(tick_value(&r->ticks[s], k))));
    json_object_set_new(o, names[k], a);
  }
  json_object_set_new(o, "window", json_pack("[i,i]", r->sec_from, r->sec_to));
  return o;
}

/* User time is the relay's own code (with libsrtp, OpenSSL, libc); system time is its system
 * calls and, on loopback, the receivers' delivery path that sendmmsg runs in the sender. */
static void cpu_split_json(const sb_bench_results_t *r, json_t *s) {
  if (r->server_user_s < 0 || r->server_sys_s < 0)
    return;
  json_object_set_new(s, "cpu_user_seconds", json_real(r3(r->server_user_s)));
  json_object_set_new(s, "cpu_system_seconds", json_real(r3(r->server_sys_s)));
  if (!r->win_pkts_in)
    return;
  json_object_set_new(s, "cpu_user_us_per_forwarded_packet",
                      json_real(r3(r->server_user_s * 1e6 / (double)r->win_pkts_in)));
  json_object_set_new(s, "cpu_system_us_per_forwarded_packet",
                      json_real(r3(r->server_sys_s * 1e6 / (double)r->win_pkts_in)));
}

/* How often the threads that carry media were put on a CPU in the window: each wake-up is a
 * system call into the kernel's wait and back, and a cold start for the caches. */
static void wakeups_json(const sb_bench_results_t *r, json_t *s, double secs) {
  if (r->server_wakeups < 0)
    return;
  json_t *o = json_pack("{s:f,s:s}", "per_second", r3(r->server_wakeups / secs), "threads",
                        r->server_nworkers ? SB_BENCH_WORKER_THREAD_PREFIX "*" : "all");
  if (r->win_pkts_in)
    json_object_set_new(o, "per_forwarded_packet",
                        json_real(round(1e4 * r->server_wakeups / (double)r->win_pkts_in) / 1e4));
  json_object_set_new(s, "wakeups", o);
}

static void server_json(const sb_bench_results_t *r, json_t *doc) {
  double secs = r->sec_to - r->sec_from;
  json_t *totals = json_object_get(doc, "totals");
  json_int_t streams = json_integer_value(json_object_get(totals, "streams"));
  json_t *s = json_pack("{s:i,s:b}", "pid", r->server_pid, "spawned", r->spawned);
  if (r->server_pid > 0 && r->server_cpu_s >= 0) {
    json_object_set_new(s, "cpu_seconds", json_real(r3(r->server_cpu_s)));
    json_object_set_new(s, "cpu_pct_of_one_core", json_real(r3(100 * r->server_cpu_s / secs)));
    json_object_set_new(s, "rss_max_kib", json_integer((json_int_t)r->server_rss_max_kib));
    json_object_set_new(s, "hwm_kib", json_integer((json_int_t)r->server_hwm_kib));
    json_object_set_new(s, "threads", json_integer(r->server_threads));
    if (r->server_nworkers) {
      json_t *ws = json_array();
      for (int w = 0; w < r->server_nworkers; w++) {
        char name[32];
        double cpu = r->server_worker_cpu_s[w], wk = r->server_worker_wakeups[w];
        snprintf(name, sizeof name, SB_BENCH_WORKER_THREAD_PREFIX "%d", w);
        json_array_append_new(ws, json_pack("{s:s,s:o,s:o,s:o}", "name", name, "cpu_seconds",
                                            cpu >= 0 ? json_real(r3(cpu)) : json_null(), "cpu_pct_of_one_core",
                                            cpu >= 0 ? json_real(r3(100 * cpu / secs)) : json_null(),
                                            "wakeups_per_second",
                                            wk >= 0 ? json_real(r3(wk / secs)) : json_null()));
      }
      json_object_set_new(s, "workers", ws);
    }
    if (r->win_pkts_in)
      json_object_set_new(s, "cpu_us_per_forwarded_packet",
                          json_real(r3(r->server_cpu_s * 1e6 / (double)r->win_pkts_in)));
    cpu_split_json(r, s);
    wakeups_json(r, s, secs);
    json_object_set_new(s, "rss_start_kib", json_integer((json_int_t)r->server_rss_start_kib));
    /* growth over the run per stream: the baseline of an idle server is not per-stream cost */
    if (streams && r->server_rss_max_kib > r->server_rss_start_kib)
      json_object_set_new(s, "rss_growth_kib_per_subscribed_stream",
                          json_real(r3((double)(r->server_rss_max_kib - r->server_rss_start_kib) /
                                       (double)streams)));
  }
  if (r->health_ok) {
    const sb_bench_health_t *h = &r->health_end;
    json_t *cnt = json_pack("{s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:i}",
        "window_rx_packets", (json_int_t)r->srv_rx, "window_tx_packets", (json_int_t)r->srv_tx,
        "window_rtp_forwarded", (json_int_t)r->srv_forwarded, "forwarded_pps",
        r3((double)r->srv_forwarded / secs), "drop_not_admitted", (json_int_t)h->drop_not_admitted,
        "drop_srtp", (json_int_t)h->drop_srtp, "drop_unknown_source", (json_int_t)h->drop_unknown_source,
        "drop_malformed", (json_int_t)h->drop_malformed, "workers", h->workers);
    /* totals at the end of the run: what the subscribers' feedback made the estimator do */
    json_object_set_new(cnt, "bwe_overuse", json_integer((json_int_t)h->bwe_overuse));
    json_object_set_new(cnt, "bwe_probes", json_integer((json_int_t)h->bwe_probes));
    json_object_set_new(cnt, "bwe_probe_ok", json_integer((json_int_t)h->bwe_probe_ok));
    json_object_set_new(cnt, "probe_packets", json_integer((json_int_t)h->probe_packets));
    json_object_set_new(cnt, "nack_over_budget", json_integer((json_int_t)h->nack_over_budget));
    json_object_set_new(s, "counters", cnt);
    if (h->malloc[0])
      json_object_set_new(s, "malloc", json_string(h->malloc));
    if (r->server_pid > 0 && r->server_cpu_s >= 0 && r->srv_forwarded)
      json_object_set_new(s, "cpu_us_per_forwarded_packet_server_count",
                          json_real(r3(r->server_cpu_s * 1e6 / (double)r->srv_forwarded)));
  }
  json_object_set_new(doc, "server", s);
}

/* The whole machine's CPU in the window from /proc/stat: busy = user + nice + system + irq +
 * softirq. It holds the loopback receive path that sendmmsg runs in the sender or in ksoftirqd,
 * the bench's own work and anything else running on the machine. */
static json_t *machine_cpu_json(const sb_bench_results_t *r) {
  const sb_bench_cpustat_t *d = &r->machine_win;
  long hz = sysconf(_SC_CLK_TCK);
  double tick = 1.0 / (double)(hz > 0 ? hz : 100), secs = r->sec_to - r->sec_from;
  double busy = (double)sb_bench_cpustat_busy(d) * tick;
  double all = busy + (double)(d->idle + d->iowait + d->steal) * tick;
  json_t *o;
  if (!d->ok)
    return json_null();
  o = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "busy_seconds", r3(busy), "idle_seconds",
                r3((double)d->idle * tick), "user_seconds", r3((double)d->user * tick), "nice_seconds",
                r3((double)d->nice * tick), "system_seconds", r3((double)d->system * tick), "irq_seconds",
                r3((double)d->irq * tick), "softirq_seconds", r3((double)d->softirq * tick),
                "iowait_seconds", r3((double)d->iowait * tick), "steal_seconds", r3((double)d->steal * tick));
  json_object_set_new(o, "busy_pct_of_machine", json_real(r3(all > 0 ? 100 * busy / all : 0)));
  json_object_set_new(o, "busy_cores", json_real(r3(secs > 0 ? busy / secs : 0)));
  if (r->win_pkts_in)
    json_object_set_new(o, "busy_us_per_forwarded_packet",
                        json_real(r3(busy * 1e6 / (double)r->win_pkts_in)));
  json_object_set_new(o, "bench_cpu_seconds", json_real(r3(r->bench_window_cpu_s)));
  return o;
}

static json_t *bench_cpu_json(const sb_bench_results_t *r) {
  double secs = r->sec_to - r->sec_from;
  json_t *threads = json_array(), *o;
  uint64_t late = 0, fallback = 0;
  static sb_hist_t delay;
  sb_hist_reset(&delay);
  for (int k = 0; k < r->nworkers; k++) {
    json_array_append_new(threads, json_real(r3(r->workers[k].cpu_s)));
    late += r->workers[k].late_ticks;
    fallback += r->workers[k].rx_ts_fallback;
    sb_hist_merge(&delay, &r->workers[k].tick_delay);
  }
  o = json_pack("{s:f,s:f,s:f,s:f,s:f,s:i,s:o,s:I}", "user_s", r3(r->bench_user_s), "sys_s",
                   r3(r->bench_sys_s), "cpu_pct_of_one_core_whole_run",
                   r3(100 * (r->bench_user_s + r->bench_sys_s) / (r->wall_s > 0 ? r->wall_s : 1)),
                   "window_cpu_s", r3(r->bench_window_cpu_s), "window_cpu_pct_of_one_core",
                   r3(secs > 0 ? 100 * r->bench_window_cpu_s / secs : 0), "threads", r->nworkers,
                   "thread_cpu_s", threads, "late_ticks", (json_int_t)late);
  /* how late the bench's own 1 ms timer fired: scheduling noise of the machine that the latency
   * figures share (a busy machine delays the relay's threads just as much) */
  json_object_set_new(o, "tick_delay_us", hist_json(&delay, 1e3));
  json_object_set_new(o, "rx_without_kernel_timestamp", json_integer((json_int_t)fallback));
  return o;
}

json_t *sb_bench_report_json(const sb_bench_results_t *r) {
  json_t *doc = json_object(), *versions = json_object(), *lat;
  double secs = r->sec_to - r->sec_from;
  const sb_bench_machine_t *m = &r->machine;
  sb_bench_versions(add_version, versions);
  json_object_set_new(doc, "tool", json_string("switchboard-bench"));
  json_object_set_new(doc, "started_at", json_string(r->started_at));
  json_object_set_new(doc, "wall_s", json_real(r3(r->wall_s)));
  json_object_set_new(doc, "parameters", params_json(r));
  json_object_set_new(doc, "machine", json_pack("{s:i,s:s,s:s,s:s}", "cores", m->cores, "cpu_model",
                                                m->cpu_model, "kernel", m->kernel, "hostname", m->hostname));
  json_object_set_new(doc, "versions", versions);
  json_object_set_new(doc, "window", json_pack("{s:i,s:i,s:f}", "from_s", r->sec_from, "to_s", r->sec_to,
                                               "seconds", secs));
  lat = hist_json(&r->lat, 1e3);
  json_object_set_new(lat, "cdf", cdf_json(&r->lat, 1e3));
  json_object_set_new(doc, "latency_us", lat);
  peers_json(r, doc);
  json_object_set_new(
      doc, "throughput",
      json_pack("{s:f,s:f,s:f,s:f,s:f}", "out_pps", r3(secs > 0 ? (double)r->win_pkts_out / secs : 0),
                "in_pps", r3(secs > 0 ? (double)r->win_pkts_in / secs : 0), "out_mbps",
                r3(secs > 0 ? (double)r->win_bytes_out * 8 / 1e6 / secs : 0), "in_mbps",
                r3(secs > 0 ? (double)r->win_bytes_in * 8 / 1e6 / secs : 0), "window_loss_pct",
                r->win_expected > r->win_received && r->win_expected
                    ? r3(100.0 * (double)(r->win_expected - r->win_received) / (double)r->win_expected)
                    : 0.0));
  server_json(r, doc);
  json_object_set_new(doc, "bench_cpu", bench_cpu_json(r));
  json_object_set_new(doc, "machine_cpu", machine_cpu_json(r));
  json_object_set_new(doc, "timeline", timeline_json(r));
  if (r->nsteps) {
    json_t *steps = json_array();
    for (int i = 0; i < r->nsteps; i++) {
      const sb_bench_step_t *s = &r->steps[i];
      json_array_append_new(steps, json_pack("{s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:b}", "participants",
                                             s->participants, "with_media", s->with_media, "p50_us",
                                             r3(s->p50_us), "p99_us", r3(s->p99_us), "loss_pct",
                                             r3(s->loss_pct), "in_pps", r3(s->in_pps),
                                             "server_us_per_pkt", r3(s->server_us_per_pkt),
                                             "server_user_us_per_pkt", r3(s->server_user_us_per_pkt),
                                             "server_system_us_per_pkt", r3(s->server_sys_us_per_pkt),
                                             "out_pps", r3(s->out_pps), "latency_samples",
                                             (json_int_t)s->latency_samples, "ok", s->ok));
    }
    const sb_bench_step_t *last = &r->steps[r->nsteps - 1];
    json_object_set_new(doc, "ramp", json_pack("{s:o,s:i,s:s}", "steps", steps, "best_participants",
                                               r->ramp_best, "stopped_by",
                                               last->ok ? "ramp_max" : "target_missed"));
  }
  json_object_set_new(doc, "targets",
                      json_pack("{s:f,s:f,s:f,s:f,s:f}", "cpu_us_per_forwarded_packet", TARGET_US_PER_PKT,
                                "latency_p50_us", TARGET_P50_US, "latency_p99_us", TARGET_P99_US,
                                "join_p50_ms", TARGET_JOIN_P50_MS, "server_kib_per_stream",
                                TARGET_KIB_PER_STREAM));
  sb_bench_report_add_capacity(doc, r);
  return doc;
}

/* ---- summary table ------------------------------------------------------------------------ */

const json_t *sb_bench_report_get(const json_t *doc, const char *path) {
  char buf[128], *save = NULL, *tok;
  snprintf(buf, sizeof buf, "%s", path);
  for (tok = strtok_r(buf, ".", &save); tok && doc; tok = strtok_r(NULL, ".", &save))
    doc = json_object_get(doc, tok);
  return doc;
}

double sb_bench_report_num(const json_t *doc, const char *path) {
  const json_t *v = sb_bench_report_get(doc, path);
  return v && json_is_number(v) ? json_number_value(v) : NAN;
}


/* "320: 6, 1280: 2" from a {"width": count} object. */
static void print_counts(const json_t *o) {
  const char *k;
  json_t *v;
  int first = 1;
  json_object_foreach((json_t *)o, k, v) {
    printf("%s%s: %lld", first ? "" : ", ", k, (long long)json_integer_value(v));
    first = 0;
  }
  if (first)
    printf("none");
}

/* "relay workers    sb-worker-0 4.1% (402 wake-ups/s), sb-worker-1 3.8% (396/s) of a core": how
 * the rooms' load spread. */
static void print_workers(const json_t *d) {
  const json_t *ws = json_object_get(json_object_get(d, "server"), "workers");
  size_t i;
  const json_t *w;
  if (!json_array_size(ws))
    return;
  printf("  relay workers   ");
  json_array_foreach(ws, i, w) {
    const json_t *pct = json_object_get(w, "cpu_pct_of_one_core");
    const json_t *wk = json_object_get(w, "wakeups_per_second");
    printf("%s %s", i ? "," : "", json_string_value(json_object_get(w, "name")));
    if (json_is_number(pct))
      printf(" %.1f%%", json_number_value(pct));
    else
      printf(" -");
    if (json_is_number(wk))
      printf(i ? " (%.0f/s)" : " (%.0f wake-ups/s)", json_number_value(wk));
  }
  printf(" of a core\n");
}

/* Video streams by the width most of their window frames had. */
static void print_sizes(const json_t *d) {
  const json_t *z = json_object_get(d, "video_sizes");
  const json_t *p = json_object_get(d, "parameters");
  if (!z || !json_integer_value(json_object_get(z, "streams")))
    return;
  printf("  video widths     %lld streams by width: ", (long long)json_integer_value(json_object_get(z, "streams")));
  print_counts(json_object_get(z, "streams_by_width"));
  printf("; decoded streams: ");
  print_counts(json_object_get(z, "decoded_streams_by_width"));
  const json_t *pref = json_object_get(p, "prefer");
  if (json_is_true(json_object_get(p, "simulcast")))
    printf(" (simulcast");
  if (json_is_object(pref))
    printf("%s call.prefer %lldx%lld", json_is_true(json_object_get(p, "simulcast")) ? "," : " (",
           (long long)json_integer_value(json_object_get(pref, "max_width")),
           (long long)json_integer_value(json_object_get(pref, "max_height")));
  if (json_is_true(json_object_get(p, "simulcast")) || json_is_object(pref))
    printf(")");
  printf("\n");
}

/* Several nodes: which node's calls the participants joined, and the redirects that took. */
static void print_nodes(const json_t *d) {
  const json_t *nodes = json_object_get(json_object_get(d, "participants"), "nodes");
  const char *id;
  json_t *n;
  if (json_object_size(nodes) == 0)
    return;
  printf("  nodes           ");
  json_object_foreach((json_t *)nodes, id, n)
    printf(" %s %lld", id, (long long)json_integer_value(n));
  printf(" participants, %.0f call.join redirects followed\n", sb_bench_report_num(d, "participants.redirects"));
}

void sb_bench_report_print(const sb_bench_results_t *r, const json_t *d) {
  printf("\nswitchboard-bench: %s, %d cores (%s)\n", r->started_at, r->machine.cores, r->machine.cpu_model);
  if (r->cfg->janus) /* the figures below are Janus's: "relay" and "server" mean it */
    printf("  target           janus: VideoRoom at %s, a connection per publisher and per "
           "subscriber\n", r->url);
  printf("  participants     %4.0f planned, %.0f reached media, %.0f failed, %.0f call.answer refused\n",
         sb_bench_report_num(d, "participants.planned"), sb_bench_report_num(d, "participants.reached_media"), sb_bench_report_num(d, "participants.failed"),
         sb_bench_report_num(d, "participants.answers_refused"));
  printf("  window           %.0f s (seconds %d..%d after start)\n", sb_bench_report_num(d, "window.seconds"), r->sec_from,
         r->sec_to);
  printf("  relay latency    p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f us  (%.0f samples)\n",
         sb_bench_report_num(d, "latency_us.p50"), sb_bench_report_num(d, "latency_us.p90"), sb_bench_report_num(d, "latency_us.p99"),
         sb_bench_report_num(d, "latency_us.p999"), sb_bench_report_num(d, "latency_us.max"), sb_bench_report_num(d, "latency_us.count"));
  printf("  join to media    p50 %.1f  p90 %.1f  p99 %.1f  max %.1f ms  (%.0f participants)\n",
         sb_bench_report_num(d, "join_ms.p50"), sb_bench_report_num(d, "join_ms.p90"), sb_bench_report_num(d, "join_ms.p99"), sb_bench_report_num(d, "join_ms.max"),
         sb_bench_report_num(d, "join_ms.count"));
  print_nodes(d);
  printf("  setup (join->DTLS) p50 %.1f  p99 %.1f ms\n", sb_bench_report_num(d, "setup_ms.dtls.p50"), sb_bench_report_num(d, "setup_ms.dtls.p99"));
  printf("  streams          %.0f received of %.0f expected, %.0f without packets\n", sb_bench_report_num(d, "totals.streams"),
         sb_bench_report_num(d, "totals.streams_expected"), sb_bench_report_num(d, "totals.streams_without_packets"));
  printf("  packets          %.0f received, loss %.3f%%, %.0f duplicates, %.0f reordered, jitter mean %.3f ms\n",
         sb_bench_report_num(d, "totals.packets_received"), sb_bench_report_num(d, "totals.loss_pct"), sb_bench_report_num(d, "totals.duplicates"),
         sb_bench_report_num(d, "totals.reordered"), sb_bench_report_num(d, "totals.jitter_ms_mean"));
  printf("  throughput       out %.0f pps (%.2f Mbit/s), in %.0f pps (%.2f Mbit/s)\n", sb_bench_report_num(d, "throughput.out_pps"),
         sb_bench_report_num(d, "throughput.out_mbps"), sb_bench_report_num(d, "throughput.in_pps"), sb_bench_report_num(d, "throughput.in_mbps"));
  printf("  decoding         %.0f receivers: %.0f frames decoded, %.0f corrupt, %.0f missing\n",
         sb_bench_report_num(d, "decode.receivers"), sb_bench_report_num(d, "decode.frames_decoded"), sb_bench_report_num(d, "decode.frames_corrupt"),
         sb_bench_report_num(d, "decode.frames_missing"));
  print_sizes(d);
  if (!isnan(sb_bench_report_num(d, "server.cpu_seconds"))) {
    const char *malloc_name = json_string_value(sb_bench_report_get(d, "server.malloc"));
    printf("  server           %.2f CPU s (%.1f%% of a core), RSS max %.1f MiB, %.2f us CPU per forwarded packet",
           sb_bench_report_num(d, "server.cpu_seconds"), sb_bench_report_num(d, "server.cpu_pct_of_one_core"),
           sb_bench_report_num(d, "server.rss_max_kib") / 1024, sb_bench_report_num(d, "server.cpu_us_per_forwarded_packet"));
    if (!isnan(sb_bench_report_num(d, "server.cpu_user_us_per_forwarded_packet")))
      printf(" (user %.1f + kernel %.1f)", sb_bench_report_num(d, "server.cpu_user_us_per_forwarded_packet"),
             sb_bench_report_num(d, "server.cpu_system_us_per_forwarded_packet"));
    if (malloc_name)
      printf(", malloc %s", malloc_name);
    printf("\n");
    print_workers(d);
  } else
    printf("  server           no figures (give --server-pid or --spawn-server)\n");
  if (!isnan(sb_bench_report_num(d, "machine_cpu.busy_seconds")))
    printf("  machine CPU      %.2f busy CPU s (%.1f%% of %d cores; softirq %.2f s), %.2f us per forwarded "
           "packet, the bench's %.2f s included\n",
           sb_bench_report_num(d, "machine_cpu.busy_seconds"), sb_bench_report_num(d, "machine_cpu.busy_pct_of_machine"), r->machine.cores,
           sb_bench_report_num(d, "machine_cpu.softirq_seconds"), sb_bench_report_num(d, "machine_cpu.busy_us_per_forwarded_packet"),
           sb_bench_report_num(d, "machine_cpu.bench_cpu_seconds"));
  {
    char *prof = json_dumps(json_object_get(json_object_get(d, "participants"), "srtp_profiles"), JSON_COMPACT);
    printf("  bench            %.1f%% of a core in the window (%d threads); libsrtp2 %s; SRTP %s\n",
           sb_bench_report_num(d, "bench_cpu.window_cpu_pct_of_one_core"), r->nworkers,
           json_string_value(json_object_get(json_object_get(d, "versions"), "libsrtp2_build")),
           prof ? prof : "?");
    free(prof);
  }
  printf("  machine noise    the bench's 1 ms timer ran late by p50 %.0f, p99 %.0f, max %.0f us\n",
         sb_bench_report_num(d, "bench_cpu.tick_delay_us.p50"), sb_bench_report_num(d, "bench_cpu.tick_delay_us.p99"),
         sb_bench_report_num(d, "bench_cpu.tick_delay_us.max"));
  if (r->nsteps)
    printf("  ramp             largest load within p99 < %.1f ms and loss < %.2f%%: %d participants\n",
           r->cfg->target_p99_ms, r->cfg->target_loss_pct, r->ramp_best);
  sb_bench_report_print_capacity(d, "relay");
}

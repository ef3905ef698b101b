/* --baseline in the report: the baseline run's figures beside the relay's, and their ratios. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench/report.h"


static void copy(json_t *to, const json_t *from, const char *key) {
  json_t *v = json_object_get(from, key);
  if (v)
    json_object_set_new(to, key, json_deep_copy(v));
}

/* {"relay": a, "baseline": b, "ratio": a / b}; null where a figure is missing. */
static json_t *pair(const json_t *doc, const json_t *b, const char *path) {
  double x = sb_bench_report_num(doc, path), y = sb_bench_report_num(b, path);
  json_t *o = json_object();
  json_object_set_new(o, "relay", isnan(x) ? json_null() : json_real(x));
  json_object_set_new(o, "baseline", isnan(y) ? json_null() : json_real(y));
  json_object_set_new(o, "ratio", isnan(x) || isnan(y) || y <= 0 ? json_null()
                                                                  : json_real(round(x / y * 1000) / 1000));
  return o;
}

void sb_bench_report_add_baseline(json_t *doc, json_t *bdoc, json_t *fwd) {
  json_t *b = json_object(), *parts = json_object(), *vs = json_object();
  static const char *keys[] = {"started_at", "window", "latency_us", "totals", "throughput", "decode",
                               "server", "machine_cpu", "ramp", "sampling", "capacity", "pinning",
                               "alongside"};
  static const char *pkeys[] = {"planned", "reached_media", "failed", "error_counts", "srtp_profiles"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    copy(b, bdoc, keys[i]);
  for (size_t i = 0; i < sizeof pkeys / sizeof pkeys[0]; i++)
    copy(parts, json_object_get(bdoc, "participants"), pkeys[i]);
  json_object_set_new(b, "participants", parts);
  json_object_set_new(b, "bench_cpu", json_pack("{s:O*,s:O*}", "window_cpu_pct_of_one_core",
                                                sb_bench_report_get(bdoc, "bench_cpu.window_cpu_pct_of_one_core"),
                                                "tick_delay_us", sb_bench_report_get(bdoc, "bench_cpu.tick_delay_us")));
  json_object_set_new(b, "forwarder", fwd);
  /* the same accounting on both sides: the process's CPU (schedstat, split by utime/stime), the
   * machine's busy CPU (/proc/stat), both divided by the packets the bench's receivers got */
  json_object_set_new(vs, "cpu_us_per_forwarded_packet", pair(doc, b, "server.cpu_us_per_forwarded_packet"));
  json_object_set_new(vs, "cpu_user_us_per_forwarded_packet",
                      pair(doc, b, "server.cpu_user_us_per_forwarded_packet"));
  json_object_set_new(vs, "cpu_system_us_per_forwarded_packet",
                      pair(doc, b, "server.cpu_system_us_per_forwarded_packet"));
  json_object_set_new(vs, "machine_busy_us_per_forwarded_packet",
                      pair(doc, b, "machine_cpu.busy_us_per_forwarded_packet"));
  /* the relay's workers against the forwarder's one thread */
  json_object_set_new(vs, "wakeups_per_second", pair(doc, b, "server.wakeups.per_second"));
  json_object_set_new(vs, "latency_p50_us", pair(doc, b, "latency_us.p50"));
  json_object_set_new(vs, "latency_p99_us", pair(doc, b, "latency_us.p99"));
  json_object_set_new(vs, "loss_pct", pair(doc, b, "totals.loss_pct"));
  json_object_set_new(vs, "forwarded_pps", pair(doc, b, "throughput.in_pps"));
  if (json_object_get(doc, "capacity")) { /* ramp mode: the largest step within the targets */
    json_object_set_new(vs, "capacity_participants", pair(doc, b, "capacity.participants"));
    json_object_set_new(vs, "capacity_forwarded_pps", pair(doc, b, "capacity.forwarded_pps"));
  }
  json_object_set_new(doc, "baseline", b);
  json_object_set_new(doc, "vs_baseline", vs);
}

static void ratio_line(const json_t *vs, const char *key, const char *label, const char *unit) {
  const json_t *o = json_object_get(vs, key);
  double x = sb_bench_report_num(o, "relay"), y = sb_bench_report_num(o, "baseline"), q = sb_bench_report_num(o, "ratio");
  printf("  %-34s relay %9.3f  baseline %9.3f %-3s ", label, x, y, unit);
  if (isnan(q))
    printf(" ratio -\n");
  else
    printf(" ratio %.2f\n", q);
}

void sb_bench_report_print_baseline(const json_t *d) {
  const json_t *b = json_object_get(d, "baseline"), *vs = json_object_get(d, "vs_baseline");
  printf("\nbaseline (the bench's forwarder: one thread, recvmmsg, SRTP %s, header rewrite, sendmmsg)%s\n",
         json_string_value(sb_bench_report_get(b, "forwarder.srtp_profile")),
         json_is_true(json_object_get(b, "alongside"))
             ? ",\n  alongside the relay: the same seconds, the machine's CPU is theirs together"
             : "");
  printf("  participants     %4.0f planned, %.0f reached media, %.0f failed\n", sb_bench_report_num(b, "participants.planned"),
         sb_bench_report_num(b, "participants.reached_media"), sb_bench_report_num(b, "participants.failed"));
  printf("  latency          p50 %.1f  p90 %.1f  p99 %.1f  max %.1f us  (%.0f samples)\n",
         sb_bench_report_num(b, "latency_us.p50"), sb_bench_report_num(b, "latency_us.p90"), sb_bench_report_num(b, "latency_us.p99"), sb_bench_report_num(b, "latency_us.max"),
         sb_bench_report_num(b, "latency_us.count"));
  printf("  streams          %.0f received of %.0f expected, %.0f without packets; loss %.3f%%\n",
         sb_bench_report_num(b, "totals.streams"), sb_bench_report_num(b, "totals.streams_expected"), sb_bench_report_num(b, "totals.streams_without_packets"),
         sb_bench_report_num(b, "totals.loss_pct"));
  printf("  decoding         %.0f frames decoded, %.0f corrupt, %.0f missing\n", sb_bench_report_num(b, "decode.frames_decoded"),
         sb_bench_report_num(b, "decode.frames_corrupt"), sb_bench_report_num(b, "decode.frames_missing"));
  const char *fwd_malloc = json_string_value(sb_bench_report_get(b, "server.malloc"));
  printf("  forwarder        %.0f RTP in, %.0f forwarded, %.0f RTCP in, drops: SRTP %.0f, unknown %.0f, "
         "send %.0f; %.2f us CPU per forwarded packet (user %.1f + kernel %.1f), %.0f wake-ups/s, malloc %s\n",
         sb_bench_report_num(b, "forwarder.rx_rtp"), sb_bench_report_num(b, "forwarder.rtp_forwarded"), sb_bench_report_num(b, "forwarder.rx_rtcp"),
         sb_bench_report_num(b, "forwarder.drop_srtp"), sb_bench_report_num(b, "forwarder.drop_unknown"), sb_bench_report_num(b, "forwarder.send_fail"),
         sb_bench_report_num(b, "server.cpu_us_per_forwarded_packet"), sb_bench_report_num(b, "server.cpu_user_us_per_forwarded_packet"),
         sb_bench_report_num(b, "server.cpu_system_us_per_forwarded_packet"),
         sb_bench_report_num(b, "server.wakeups.per_second"), fwd_malloc ? fwd_malloc : "?");
  printf("  machine CPU      %.2f busy CPU s (%.1f%%), %.2f us per forwarded packet\n",
         sb_bench_report_num(b, "machine_cpu.busy_seconds"), sb_bench_report_num(b, "machine_cpu.busy_pct_of_machine"),
         sb_bench_report_num(b, "machine_cpu.busy_us_per_forwarded_packet"));
  sb_bench_report_print_capacity(b, "baseline");
  printf("relay / baseline\n");
  ratio_line(vs, "cpu_us_per_forwarded_packet", "process CPU per forwarded packet", "us");
  ratio_line(vs, "cpu_user_us_per_forwarded_packet", "  user", "us");
  ratio_line(vs, "cpu_system_us_per_forwarded_packet", "  kernel", "us");
  ratio_line(vs, "machine_busy_us_per_forwarded_packet", "machine busy CPU per forwarded pkt", "us");
  ratio_line(vs, "wakeups_per_second", "media threads' wake-ups per second", "");
  ratio_line(vs, "latency_p50_us", "latency p50", "us");
  ratio_line(vs, "latency_p99_us", "latency p99", "us");
  ratio_line(vs, "loss_pct", "loss", "%");
  ratio_line(vs, "forwarded_pps", "forwarded packets/s", "");
  if (json_object_get(vs, "capacity_participants")) {
    ratio_line(vs, "capacity_participants", "capacity: participants", "");
    ratio_line(vs, "capacity_forwarded_pps", "capacity: forwarded packets/s", "");
  }
}

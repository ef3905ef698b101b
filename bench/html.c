/* The HTML report: one self-contained page (inline CSS and SVG, no scripts or external assets)
 * drawn from the JSON document, so both always show the same figures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/report.h"

#define W 760
#define H 260
#define ML 64 /* margins: left, right, top, bottom */
#define MR 16
#define MT 28
#define MB 40

typedef struct {
  const char *name;
  const char *color;
  const json_t *values; /* array of numbers, one per second */
} series_t;

static void esc(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '&': fputs("&amp;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}


/* A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten. */
static double nice_max(double v) {
  double p, m;
  if (!(v > 0))
    return 1;
  p = pow(10, floor(log10(v)));
  m = v / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void axes(FILE *f, const char *title, const char *xlabel, const char *ylabel, double ymax) {
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d'>\n", W, H, W, H);
  fprintf(f, "<text x='%d' y='18' class='t'>", ML);
  esc(f, title);
  fprintf(f, "</text>\n");
  for (int i = 0; i <= 4; i++) {
    double y = MT + (H - MT - MB) * (1 - i / 4.0);
    fprintf(f, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' class='g'/>", ML, W - MR, y, y);
    fprintf(f, "<text x='%d' y='%.1f' class='yl'>%g</text>\n", ML - 6, y + 4, ymax * i / 4);
  }
  fprintf(f, "<text x='%d' y='%d' class='xl'>", (W + ML) / 2, H - 6);
  esc(f, xlabel);
  fprintf(f, "</text><text x='12' y='%d' class='yt' transform='rotate(-90 12 %d)'>", H / 2, H / 2);
  esc(f, ylabel);
  fprintf(f, "</text>\n");
}

/* Values per second as lines; the measured window shaded. */
static void time_chart(FILE *f, const json_t *doc, const char *title, const char *ylabel,
                       const series_t *s, int ns) {
  const json_t *win = sb_bench_report_get(doc, "timeline.window");
  size_t n = json_array_size(s[0].values);
  double ymax = 0, xs;
  if (n < 2)
    return;
  for (int k = 0; k < ns; k++)
    for (size_t i = 0; i < json_array_size(s[k].values); i++) {
      double v = json_number_value(json_array_get(s[k].values, i));
      if (v > ymax)
        ymax = v;
    }
  ymax = nice_max(ymax);
  xs = (double)(W - ML - MR) / (double)(n - 1);
  axes(f, title, "seconds since start", ylabel, ymax);
  if (json_array_size(win) == 2) {
    double a = json_number_value(json_array_get(win, 0)), b = json_number_value(json_array_get(win, 1));
    fprintf(f, "<rect x='%.1f' y='%d' width='%.1f' height='%d' class='w'/>\n", ML + a * xs, MT,
            (b - a) * xs, H - MT - MB);
  }
  for (size_t i = 0; i < n; i += n > 20 ? n / 10 : 2)
    fprintf(f, "<text x='%.1f' y='%d' class='xt'>%zu</text>", ML + (double)i * xs, H - MB + 14, i);
  for (int k = 0; k < ns; k++) {
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", s[k].color);
    for (size_t i = 0; i < json_array_size(s[k].values); i++) {
      double v = json_number_value(json_array_get(s[k].values, i));
      if (v < 0)
        continue; /* no sample that second */
      fprintf(f, "%.1f,%.1f ", ML + (double)i * xs, MT + (H - MT - MB) * (1 - v / ymax));
    }
    fprintf(f, "'/><text x='%d' y='%d' fill='%s' class='lg'>", W - MR - 160, MT + 14 + 14 * k, s[k].color);
    esc(f, s[k].name);
    fprintf(f, "</text>\n");
  }
  fprintf(f, "</svg>\n");
}

/* Cumulative distribution of the relay-added latency, logarithmic in time. */
static void cdf_chart(FILE *f, const json_t *doc) {
  const json_t *cdf = sb_bench_report_get(doc, "latency_us.cdf");
  size_t n = json_array_size(cdf);
  double lo, hi, span;
  if (n < 2)
    return;
  lo = json_number_value(json_array_get(json_array_get(cdf, 0), 0));
  hi = json_number_value(json_array_get(json_array_get(cdf, n - 1), 0));
  lo = pow(10, floor(log10(lo > 0.1 ? lo : 0.1)));
  hi = pow(10, ceil(log10(hi > lo * 10 ? hi : lo * 10)));
  span = log10(hi) - log10(lo);
  axes(f, "Relay-added latency, cumulative distribution", "microseconds (log scale)", "fraction", 1);
  for (double d = lo; d <= hi * 1.001; d *= 10) {
    double x = ML + (W - ML - MR) * (log10(d) - log10(lo)) / span;
    fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' class='g'/><text x='%.1f' y='%d' class='xt'>%g</text>\n",
            x, x, MT, H - MB, x, H - MB + 14, d);
  }
  fprintf(f, "<polyline fill='none' stroke='#1f6feb' stroke-width='2' points='");
  for (size_t i = 0; i < n; i++) {
    const json_t *pt = json_array_get(cdf, i);
    double v = json_number_value(json_array_get(pt, 0)), q = json_number_value(json_array_get(pt, 1));
    double x = ML + (W - ML - MR) * (log10(v > lo ? v : lo) - log10(lo)) / span;
    fprintf(f, "%.1f,%.1f ", x, MT + (H - MT - MB) * (1 - q));
  }
  fprintf(f, "'/>\n");
  const char *marks[] = {"p50", "p99", "p999"};
  for (int k = 0; k < 3; k++) {
    char path[32];
    snprintf(path, sizeof path, "latency_us.%s", marks[k]);
    double v = sb_bench_report_num(doc, path);
    if (isnan(v) || v <= 0)
      continue;
    double x = ML + (W - ML - MR) * (log10(v > lo ? v : lo) - log10(lo)) / span;
    fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%d' y2='%d' class='m'/><text x='%.1f' y='%d' class='lg'>%s %.0f</text>\n",
            x, x, MT, H - MB, x + 3, MT + 12 + 12 * k, marks[k], v);
  }
  fprintf(f, "</svg>\n");
}

static void row(FILE *f, const char *name, const char *fmt, double v) {
  fprintf(f, "<tr><th>");
  esc(f, name);
  fprintf(f, "</th><td>");
  if (isnan(v))
    fprintf(f, "–");
  else
    fprintf(f, fmt, v);
  fprintf(f, "</td></tr>\n");
}

/* Every scalar of a JSON object as a table (parameters, machine, versions). */
static void object_table(FILE *f, const char *title, const json_t *o) {
  const char *k;
  json_t *v;
  fprintf(f, "<h2>");
  esc(f, title);
  fprintf(f, "</h2><table>\n");
  json_object_foreach((json_t *)o, k, v) {
    char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
    fprintf(f, "<tr><th>");
    esc(f, k);
    fprintf(f, "</th><td>");
    esc(f, json_is_string(v) ? json_string_value(v) : text);
    fprintf(f, "</td></tr>\n");
    free(text);
  }
  fprintf(f, "</table>\n");
}

static void summary(FILE *f, const json_t *d) {
  fprintf(f, "<h2>Summary</h2><table>\n");
  row(f, "participants reached media", "%.0f", sb_bench_report_num(d, "participants.reached_media"));
  row(f, "participants failed", "%.0f", sb_bench_report_num(d, "participants.failed"));
  row(f, "latency p50 (µs)", "%.1f", sb_bench_report_num(d, "latency_us.p50"));
  row(f, "latency p90 (µs)", "%.1f", sb_bench_report_num(d, "latency_us.p90"));
  row(f, "latency p99 (µs)", "%.1f", sb_bench_report_num(d, "latency_us.p99"));
  row(f, "latency p99.9 (µs)", "%.1f", sb_bench_report_num(d, "latency_us.p999"));
  row(f, "latency max (µs)", "%.1f", sb_bench_report_num(d, "latency_us.max"));
  row(f, "join to first media p50 (ms)", "%.1f", sb_bench_report_num(d, "join_ms.p50"));
  row(f, "join to first media p99 (ms)", "%.1f", sb_bench_report_num(d, "join_ms.p99"));
  row(f, "loss (%)", "%.3f", sb_bench_report_num(d, "totals.loss_pct"));
  row(f, "jitter mean (ms)", "%.3f", sb_bench_report_num(d, "totals.jitter_ms_mean"));
  row(f, "packets/s to the server", "%.0f", sb_bench_report_num(d, "throughput.out_pps"));
  row(f, "packets/s from the server", "%.0f", sb_bench_report_num(d, "throughput.in_pps"));
  row(f, "server CPU µs per forwarded packet", "%.2f", sb_bench_report_num(d, "server.cpu_us_per_forwarded_packet"));
  row(f, "… user (relay code, libsrtp, OpenSSL, libc)", "%.2f",
      sb_bench_report_num(d, "server.cpu_user_us_per_forwarded_packet"));
  row(f, "… kernel (system calls, loopback delivery)", "%.2f",
      sb_bench_report_num(d, "server.cpu_system_us_per_forwarded_packet"));
  row(f, "server CPU (% of one core)", "%.1f", sb_bench_report_num(d, "server.cpu_pct_of_one_core"));
  row(f, "machine busy CPU µs per forwarded packet (/proc/stat)", "%.2f",
      sb_bench_report_num(d, "machine_cpu.busy_us_per_forwarded_packet"));
  row(f, "machine busy CPU (% of all cores)", "%.1f", sb_bench_report_num(d, "machine_cpu.busy_pct_of_machine"));
  row(f, "server RSS max (MiB)", "%.1f", sb_bench_report_num(d, "server.rss_max_kib") / 1024);
  row(f, "bench CPU in the window (% of one core)", "%.1f", sb_bench_report_num(d, "bench_cpu.window_cpu_pct_of_one_core"));
  row(f, "frames decoded", "%.0f", sb_bench_report_num(d, "decode.frames_decoded"));
  row(f, "frames corrupt", "%.0f", sb_bench_report_num(d, "decode.frames_corrupt"));
  row(f, "frames missing", "%.0f", sb_bench_report_num(d, "decode.frames_missing"));
  if (sb_bench_report_get(d, "ramp"))
    row(f, "ramp: most participants within target", "%.0f", sb_bench_report_num(d, "ramp.best_participants"));
  fprintf(f, "</table>\n");
}

/* --baseline: the relay's figures, the baseline's and their ratio, one row each. */
static void baseline_table(FILE *f, const json_t *d) {
  static const char *rows[][2] = {
      {"cpu_us_per_forwarded_packet", "process CPU µs per forwarded packet"},
      {"cpu_user_us_per_forwarded_packet", "… user"},
      {"cpu_system_us_per_forwarded_packet", "… kernel"},
      {"machine_busy_us_per_forwarded_packet", "machine busy CPU µs per forwarded packet (/proc/stat)"},
      {"wakeups_per_second", "wake-ups per second of the threads that forward"},
      {"latency_p50_us", "latency p50 (µs)"},
      {"latency_p99_us", "latency p99 (µs)"},
      {"loss_pct", "loss (%)"},
      {"forwarded_pps", "forwarded packets/s"}};
  const json_t *vs = sb_bench_report_get(d, "vs_baseline");
  if (!vs)
    return;
  fprintf(f, "<h2>Relay against the baseline</h2><p>The same scenario through the bench's own "
             "forwarder (one thread, recvmmsg, SRTP, header rewrite, sendmmsg), measured the same "
             "way. Forwarder: %.0f packets forwarded, %.0f frames decoded, %.0f corrupt.</p>"
             "<table><tr><th></th><th>relay</th><th>baseline</th><th>relay / baseline</th></tr>\n",
          sb_bench_report_num(d, "baseline.forwarder.rtp_forwarded"), sb_bench_report_num(d, "baseline.decode.frames_decoded"),
          sb_bench_report_num(d, "baseline.decode.frames_corrupt"));
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const json_t *o = json_object_get(vs, rows[i][0]);
    fprintf(f, "<tr><th>%s</th><td>%.3f</td><td>%.3f</td><td>%.2f</td></tr>\n", rows[i][1], sb_bench_report_num(o, "relay"),
            sb_bench_report_num(o, "baseline"), sb_bench_report_num(o, "ratio"));
  }
  fprintf(f, "</table>\n");
}

/* --capacity and ramp mode: what each class of receiver got, and the largest load within the
 * targets of the relay and (with --baseline) of the forwarder. */
static void capacity_table(FILE *f, const json_t *d) {
  const json_t *c = sb_bench_report_get(d, "capacity"), *bc = sb_bench_report_get(d, "baseline.capacity");
  const json_t *s = sb_bench_report_get(d, "sampling");
  static const char *rows[][2] = {{"participants", "participants"},     {"rooms", "rooms"},
                                  {"forwarded_pps", "forwarded packets/s"}, {"published_pct_of_nominal", "publishers' rate (% of nominal)"},
                                  {"p50_us", "latency p50 (µs)"},
                                  {"p99_us", "latency p99 (µs)"},         {"loss_pct", "loss (%)"},
                                  {"cpu_us_per_forwarded_packet", "process CPU µs per forwarded packet"}};
  if (s) {
    char *users = json_dumps(json_object_get(s, "sampled_receivers"), JSON_COMPACT);
    fprintf(f, "<h2>Capacity mode</h2><p>Sampled receivers (decrypt, decode, measure latency): ");
    esc(f, users);
    fprintf(f, ". The others only count packets from the clear RTP header (no SRTP); latency comes "
               "from the sampled ones only, loss from all.</p><table><tr><th></th><th>receivers</th>"
               "<th>packets</th><th>without SRTP</th><th>latency samples</th><th>loss %%</th></tr>\n");
    for (int k = 0; k < 2; k++) {
      const json_t *o = json_object_get(s, k ? "count_only" : "sampled");
      fprintf(f, "<tr><th>%s</th><td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%.3f</td></tr>\n",
              k ? "count-only" : "sampled", sb_bench_report_num(o, "receivers"), sb_bench_report_num(o, "packets"),
              sb_bench_report_num(o, "packets_without_srtp"), sb_bench_report_num(o, "latency_samples"),
              sb_bench_report_num(o, "loss_pct"));
    }
    fprintf(f, "</table>\n");
    free(users);
  }
  if (!c)
    return;
  fprintf(f, "<h2>Capacity</h2><p>The largest ramp step within p99 &le; %.3f ms and loss &le; %.3f%%.</p>"
             "<table><tr><th></th><th>relay</th>%s</tr>\n",
          sb_bench_report_num(c, "targets.p99_ms"), sb_bench_report_num(c, "targets.loss_pct"),
          bc ? "<th>baseline</th><th>relay / baseline</th>" : "");
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    double x = sb_bench_report_num(c, rows[i][0]), y = sb_bench_report_num(bc, rows[i][0]);
    fprintf(f, "<tr><th>%s</th><td>%.3f</td>", rows[i][1], x);
    if (bc)
      fprintf(f, "<td>%.3f</td><td>%.2f</td>", y, y > 0 ? x / y : NAN);
    fprintf(f, "</tr>\n");
  }
  fprintf(f, "</table>\n");
}

static void streams_table(FILE *f, const json_t *d) {
  const json_t *streams = sb_bench_report_get(d, "streams");
  size_t n = json_array_size(streams);
  fprintf(f, "<h2>Streams (%zu%s)</h2><table><tr><th>receiver</th><th>sender</th><th>kind</th>"
             "<th>packets</th><th>lost</th><th>dup</th><th>reord</th><th>jitter ms</th>"
             "<th>mean µs</th><th>max µs</th><th>decoded/corrupt/missing</th></tr>\n",
          n, n > 300 ? ", first 300" : "");
  for (size_t i = 0; i < n && i < 300; i++) {
    const json_t *s = json_array_get(streams, i), *dec = json_object_get(s, "decode");
    fprintf(f, "<tr><td>");
    esc(f, json_string_value(json_object_get(s, "receiver")));
    fprintf(f, "</td><td>");
    esc(f, json_string_value(json_object_get(s, "sender")));
    fprintf(f, "</td><td>%s</td><td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%.3f</td>"
               "<td>%.1f</td><td>%.1f</td><td>",
            json_string_value(json_object_get(s, "kind")), sb_bench_report_num(s, "packets"), sb_bench_report_num(s, "lost"),
            sb_bench_report_num(s, "duplicates"), sb_bench_report_num(s, "reordered"), sb_bench_report_num(s, "jitter_ms"), sb_bench_report_num(s, "latency_mean_us"),
            sb_bench_report_num(s, "latency_max_us"));
    if (dec)
      fprintf(f, "%.0f / %.0f / %.0f", sb_bench_report_num(dec, "frames_decoded"), sb_bench_report_num(dec, "frames_corrupt"),
              sb_bench_report_num(dec, "frames_missing"));
    fprintf(f, "</td></tr>\n");
  }
  fprintf(f, "</table>\n");
}

int sb_bench_report_html(const char *path, const json_t *d) {
  FILE *f = fopen(path, "w");
  const json_t *tl = sb_bench_report_get(d, "timeline");
  if (!f)
    return -1;
  fprintf(f, "<!doctype html>\n<html><head><meta charset='utf-8'><title>switchboard-bench ");
  esc(f, json_string_value(sb_bench_report_get(d, "started_at")));
  fprintf(f, "</title><style>body{font:14px system-ui,sans-serif;margin:24px;max-width:980px}"
             "table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;"
             "text-align:left}th{background:#f6f8fa;font-weight:600}svg{display:block;margin:12px 0}"
             ".t{font:600 14px sans-serif}.g{stroke:#eee}.yl{font:11px sans-serif;text-anchor:end}"
             ".xt{font:11px sans-serif;text-anchor:middle}.xl{font:12px sans-serif;text-anchor:middle}"
             ".yt{font:12px sans-serif;text-anchor:middle}.lg{font:12px sans-serif}"
             ".w{fill:#1f6feb;opacity:.07}.m{stroke:#d73a49;stroke-dasharray:4 3}</style></head><body>\n");
  fprintf(f, "<h1>Switchboard bench report</h1><p>Started ");
  esc(f, json_string_value(sb_bench_report_get(d, "started_at")));
  fprintf(f, " on %.0f cores (", sb_bench_report_num(d, "machine.cores"));
  esc(f, json_string_value(sb_bench_report_get(d, "machine.cpu_model")));
  fprintf(f, "). Relay-added latency is the receive time minus the send time stamped in the "
             "<code>urn:switchboard:rtp-hdrext:send-time</code> extension, on the same host clock. "
             "The shaded band is the measured window.</p>\n");
  summary(f, d);
  baseline_table(f, d);
  capacity_table(f, d);
  cdf_chart(f, d);
  if (tl) {
    series_t thr[] = {{"packets/s to the server", "#1f6feb", sb_bench_report_get(tl, "out_pps")},
                      {"packets/s from the server", "#2da44e", sb_bench_report_get(tl, "in_pps")}};
    series_t lat[] = {{"p50 µs", "#1f6feb", sb_bench_report_get(tl, "p50_us")}, {"p99 µs", "#d73a49", sb_bench_report_get(tl, "p99_us")}};
    series_t loss[] = {{"loss %", "#d73a49", sb_bench_report_get(tl, "loss_pct")}};
    series_t cpu[] = {{"server CPU %", "#8250df", sb_bench_report_get(tl, "server_cpu_pct")},
                      {"bench CPU %", "#bf8700", sb_bench_report_get(tl, "bench_cpu_pct")}};
    time_chart(f, d, "Throughput over time", "packets per second", thr, 2);
    time_chart(f, d, "Relay-added latency over time", "microseconds", lat, 2);
    time_chart(f, d, "Loss over time", "percent", loss, 1);
    time_chart(f, d, "CPU over time (100% = one core)", "percent", cpu, 2);
  }
  if (sb_bench_report_get(d, "ramp")) {
    const json_t *steps = sb_bench_report_get(d, "ramp.steps");
    fprintf(f, "<h2>Ramp steps</h2><table><tr><th>participants</th><th>with media</th><th>p50 µs</th>"
               "<th>p99 µs</th><th>loss %%</th><th>in pps</th><th>server µs/pkt</th><th>user µs/pkt</th>"
               "<th>kernel µs/pkt</th><th>within target</th></tr>\n");
    for (size_t i = 0; i < json_array_size(steps); i++) {
      const json_t *s = json_array_get(steps, i);
      fprintf(f, "<tr><td>%.0f</td><td>%.0f</td><td>%.1f</td><td>%.1f</td><td>%.3f</td><td>%.0f</td>"
                 "<td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%s</td></tr>\n",
              sb_bench_report_num(s, "participants"), sb_bench_report_num(s, "with_media"), sb_bench_report_num(s, "p50_us"), sb_bench_report_num(s, "p99_us"),
              sb_bench_report_num(s, "loss_pct"), sb_bench_report_num(s, "in_pps"), sb_bench_report_num(s, "server_us_per_pkt"),
              sb_bench_report_num(s, "server_user_us_per_pkt"), sb_bench_report_num(s, "server_system_us_per_pkt"),
              json_is_true(json_object_get(s, "ok")) ? "yes" : "no");
    }
    fprintf(f, "</table>\n");
  }
  object_table(f, "Parameters", sb_bench_report_get(d, "parameters"));
  object_table(f, "Machine", sb_bench_report_get(d, "machine"));
  object_table(f, "Versions", sb_bench_report_get(d, "versions"));
  streams_table(f, d);
  fprintf(f, "</body></html>\n");
  return fclose(f) == 0 ? 0 : -1;
}

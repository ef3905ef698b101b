/* Command-line parsing for the bench. */
#include "bench/config.h"

#include "bench/capacity.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

void sb_bench_config_defaults(sb_bench_config_t *c) {
  memset(c, 0, sizeof *c);
  snprintf(c->url, sizeof c->url, "ws://127.0.0.1:8080/ws");
  snprintf(c->local_ip, sizeof c->local_ip, "127.0.0.1");
  snprintf(c->tenant, sizeof c->tenant, "bench");
  snprintf(c->user_prefix, sizeof c->user_prefix, "u");
  c->calls = 0;
  c->room_size = 8;
  c->fanout_rooms = 1;
  c->duration_s = 10;
  c->ramp_rate = 50;
  c->join_timeout_s = 15;
  c->video_kbps = 500;
  c->audio_kbps = 32;
  c->width = 640;
  c->height = 360;
  c->fps = 30;
  c->clip_seconds = 5;
  c->decode_sample = 4;
  snprintf(c->srtp, sizeof c->srtp, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80");
  c->twcc = 1;
  c->threads = 2;
  c->rx_ts = SB_BENCH_RX_KERNEL;
  c->ramp_start = 10;
  c->ramp_step = 10;
  c->ramp_max = 1000;
  c->ramp_step_s = 5;
  c->target_p99_ms = 5;
  c->target_loss_pct = 0.1;
  c->capacity_sample = 4;
  c->progress = -1;
  snprintf(c->log_level, sizeof c->log_level, "warn");
}

void sb_bench_config_usage(const char *prog) {
  printf("Usage: %s [options]\n"
         "Load and latency test of a Switchboard server with real WebRTC-like clients.\n\n"
         "Target:\n"
         "  --url URL              signaling WebSocket (default ws://127.0.0.1:8080/ws); wss://\n"
         "                         for a load balancer that terminates TLS (the admin API is then\n"
         "                         reached over https at the same address). call.join redirects\n"
         "                         to a room's home node are followed (at most 3 in a row)\n"
         "  --ca-file FILE         certificates to verify a wss:// server with (default: the\n"
         "                         system's)\n"
         "  --health-url URL       a node whose /api/health counters the run samples (repeat it\n"
         "                         for several nodes; they are summed); default: --url's address\n"
         "  --target T [URL]       switchboard (default) or janus: the same scenario against\n"
         "                         Janus's VideoRoom plugin through its WebSocket API (URL such\n"
         "                         as ws://127.0.0.1:8188/; no secret, tokens or provisioning;\n"
         "                         a participant who publishes and subscribes is two\n"
         "                         PeerConnections there; --ramp counts connections).\n"
         "                         Not with --baseline, --simulcast, --prefer or --spawn-server\n"
         "  --local-ip IP          IPv4 address the clients' UDP sockets bind to and offer as\n"
         "                         their candidate (default 127.0.0.1; Janus sends only through\n"
         "                         the interface it gathered on, so give an address it reaches\n"
         "                         there, e.g. the machine's own)\n"
         "  --secret-file FILE     HS256 secret used to mint the participants' tokens\n"
         "  --spawn-server PATH    start PATH serve ... on a free loopback port for this run\n"
         "  --server-arg ARG       one more argument for the spawned server (repeat it), e.g.\n"
         "                         --server-arg=--max-participants=200\n"
         "  --server-pid PID       sample this process's CPU and RSS from /proc\n"
         "  --tenant T             tenant of the synthetic users (default bench)\n"
         "  --user-prefix P        user ids are P0001, P0002, ... (default u)\n"
         "  --room-prefix P        room names are P-1, P-2, ... (default bench-<random>)\n"
         "  --no-provision         do not create the tenant, users and rooms (admin API with an\n"
         "                         operator token, then rooms.create / contacts.add); join rooms\n"
         "                         by name, as servers without the room model allowed\n"
         "Scenario (groups run together):\n"
         "  --calls K              K 1:1 calls\n"
         "  --rooms K --room-size M  K group rooms of M participants, all publishing (M default 8)\n"
         "  --fanout N [--fanout-rooms K]  one publisher to N subscribers, K such rooms (with --ramp:\n"
         "                         without K one room grows; with K, rooms of N + 1 are added\n"
         "                         until K rooms or --ramp-max participants)\n"
         "  --audio-only           publish Opus only\n"
         "  --duration S           seconds measured after everybody joined (default 10)\n"
         "  --ramp-rate R          participants started per second (default 50)\n"
         "  --join-timeout S       stop waiting for joins after S seconds (default 15)\n"
         "Media:\n"
         "  --video-kbps N --audio-kbps N   bitrates (default 500, 32)\n"
         "  --resolution WxH --fps N        VP8 picture (default 640x360, 30; with --simulcast\n"
         "                          1280x720, so that the layers are those of a 720p camera)\n"
         "  --simulcast             every video publisher sends three layers, rids l, m, h (a=rid,\n"
         "                          a=simulcast:send l;m;h, mid and rid extensions on every packet):\n"
         "                          1/4, 1/2 and all of --resolution per side (320x180, 640x360,\n"
         "                          1280x720 by default) at 15%%, 30%% and 100%% of --video-kbps\n"
         "  --prefer WxH            every subscriber sends call.prefer {max_width W, max_height H}\n"
         "                          after joining (default: none; 0 = any in that dimension)\n"
         "  --clip-seconds N        length of the pre-encoded loop (default 5)\n"
         "  --decode-sample N       N receivers decode one incoming VP8 stream each (default 4)\n"
         "  --decode-all            the sampled receivers decode every VP8 stream they get (costly;\n"
         "                          for small checks: with --decode-sample >= participants, every\n"
         "                          video stream of the run is decoded)\n"
         "  --srtp both|aes-cm|gcm  DTLS-SRTP profiles offered (default both, GCM first;\n"
         "                          Chromium offers only aes-cm)\n"
         "  --no-twcc               negotiate no transport-wide congestion control (default: the\n"
         "                          transport-cc extension and rtcp-fb, and feedback every 100 ms\n"
         "                          for what each participant receives, as browsers do)\n"
         "Baseline:\n"
         "  --baseline              after the run, run the same scenario (clients, sizes, rates,\n"
         "                          rooms) through the bench's own minimal forwarder (one thread,\n"
         "                          recvmmsg, SRTP, header rewrite, sendmmsg; keys handed to the\n"
         "                          clients, no signaling, ICE or DTLS) and report both runs and\n"
         "                          their ratios; with --ramp, the same ramp through the forwarder\n"
         "                          and both capacities; not with --simulcast\n"
         "  --baseline-alongside    the same, with the forwarder running at the same time as the\n"
         "                          relay (each with its own participants, the same measured\n"
         "                          seconds; with --pin-server on the same CPUs), so that a machine\n"
         "                          whose speed drifts from one minute to the next slows both\n"
         "                          alike; the machine's CPU is then theirs together; implies\n"
         "                          --baseline, not with --ramp\n"
         "Ramp mode (second figure of merit: the largest load within the targets):\n"
         "  --ramp                  run steps of growing load in the group rooms or calls given\n"
         "  --ramp-start N --ramp-step N --ramp-max N --ramp-step-seconds S\n"
         "  --ramp-retries N        a step that misses the targets is measured again, at the same\n"
         "                          load in the next window, up to N times before the ramp stops\n"
         "                          (default 0; for machines whose speed drifts)\n"
         "  --target-p99-ms X       (default 5)   --target-loss-pct X (default 0.1)\n"
         "Capacity (with --ramp: the largest load of the server within the targets):\n"
         "  --capacity              receivers outside a sample only count packets: no SRTP\n"
         "                          unprotect, no payload work; they read the clear RTP header\n"
         "                          (sequence numbers for loss, transport-cc for feedback) and\n"
         "                          still send feedback and receiver reports. Latency comes from\n"
         "                          the sampled receivers only, loss from all\n"
         "  --capacity-sample N     receivers that decrypt, decode and measure latency, spread\n"
         "                          over the rooms of the first step (default 4)\n"
         "  --pin-server CPUS       pin the spawned server's relay worker threads (or --server-pid\n"
         "                          process's; with --baseline also the forwarder) to CPUS, e.g. 1;\n"
         "                          its other threads go to the remaining CPUs\n"
         "  --pin-bench CPUS        pin the bench's threads to CPUS, e.g. 0 or 0,2-3\n"
         "  --cpu-limit PCT         each relay worker thread (and the forwarder) may use at most\n"
         "                          PCT%% (10-99) of one CPU: the kernel's CFS bandwidth control,\n"
         "                          a cgroup per thread (cgroup v1 cpu controller, root), 10 ms\n"
         "                          periods; for a capacity below the bench's own (2-core machines)\n"
         "Machinery and output:\n"
         "  --threads N             event-loop threads (default 2)\n"
         "  --rx-timestamp kernel|user  receive time from SO_TIMESTAMPNS (default) or after recvmmsg\n"
         "  --json FILE --html FILE reports   --quiet   --progress / --no-progress\n"
         "  --log-level L           error, warn, info, debug (default warn)\n"
         "  --debug CATS            debug lines: sig (signaling frames), sdp, all\n",
         prog);
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

static int parse_int(const char *s, int lo, int hi, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < lo || v > hi)
    return -1;
  *out = (int)v;
  return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (*s == '\0' || *end != '\0' || !(v >= lo && v <= hi))
    return -1;
  *out = v;
  return 0;
}

/* "WxH" with both sides in [lo, max]; nothing may follow. */
static int parse_size(const char *s, int lo, int wmax, int hmax, int *w, int *h) {
  char *x, *end;
  long a = strtol(s, &x, 10), b;
  if (x == s || *x != 'x' || x[1] < '0' || x[1] > '9')
    return -1;
  b = strtol(x + 1, &end, 10);
  if (*end != '\0' || a < lo || b < lo || a > wmax || b > hmax)
    return -1;
  *w = (int)a;
  *h = (int)b;
  return 0;
}

static int copy_str(char *dst, size_t cap, const char *src) {
  if (strlen(src) >= cap)
    return -1;
  memcpy(dst, src, strlen(src) + 1);
  return 0;
}

enum {
  O_URL = 256, O_SECRET, O_SPAWN, O_PID, O_TENANT, O_UPREFIX, O_RPREFIX, O_CALLS, O_ROOMS,
  O_ROOMSIZE, O_FANOUT, O_FANOUTROOMS, O_AUDIOONLY, O_DURATION, O_RAMPRATE, O_JOINTO, O_VKBPS,
  O_AKBPS, O_RES, O_FPS, O_CLIP, O_DECODE, O_RAMP, O_RSTART, O_RSTEP, O_RMAX, O_RSTEPS, O_RRETRIES, O_TP99,
  O_TLOSS, O_SRTP, O_SIMULCAST, O_PREFER, O_DECODEALL, O_NOTWCC, O_NOPROV, O_SRVARG, O_CAFILE, O_HEALTHURL, O_THREADS, O_RXTS, O_JSON, O_HTML, O_QUIET, O_PROGRESS, O_NOPROGRESS, O_LOG, O_DEBUG,
  O_HELP, O_BASELINE, O_ALONGSIDE, O_CAPACITY, O_CAPSAMPLE, O_PINSERVER, O_PINBENCH, O_CPULIMIT, O_TARGET, O_LOCALIP,
};

static const struct option options[] = {
    {"url", 1, 0, O_URL}, {"ca-file", 1, 0, O_CAFILE}, {"health-url", 1, 0, O_HEALTHURL},
    {"secret-file", 1, 0, O_SECRET}, {"spawn-server", 1, 0, O_SPAWN},
    {"server-pid", 1, 0, O_PID}, {"tenant", 1, 0, O_TENANT}, {"user-prefix", 1, 0, O_UPREFIX},
    {"room-prefix", 1, 0, O_RPREFIX}, {"calls", 1, 0, O_CALLS}, {"rooms", 1, 0, O_ROOMS},
    {"room-size", 1, 0, O_ROOMSIZE}, {"fanout", 1, 0, O_FANOUT},
    {"fanout-rooms", 1, 0, O_FANOUTROOMS}, {"audio-only", 0, 0, O_AUDIOONLY},
    {"duration", 1, 0, O_DURATION}, {"ramp-rate", 1, 0, O_RAMPRATE},
    {"join-timeout", 1, 0, O_JOINTO}, {"video-kbps", 1, 0, O_VKBPS},
    {"audio-kbps", 1, 0, O_AKBPS}, {"resolution", 1, 0, O_RES}, {"fps", 1, 0, O_FPS},
    {"clip-seconds", 1, 0, O_CLIP}, {"decode-sample", 1, 0, O_DECODE}, {"ramp", 0, 0, O_RAMP},
    {"ramp-start", 1, 0, O_RSTART}, {"ramp-step", 1, 0, O_RSTEP}, {"ramp-max", 1, 0, O_RMAX},
    {"ramp-step-seconds", 1, 0, O_RSTEPS}, {"ramp-retries", 1, 0, O_RRETRIES}, {"target-p99-ms", 1, 0, O_TP99},
    {"target-loss-pct", 1, 0, O_TLOSS}, {"srtp", 1, 0, O_SRTP}, {"no-provision", 0, 0, O_NOPROV},
    {"server-arg", 1, 0, O_SRVARG}, {"threads", 1, 0, O_THREADS},
    {"rx-timestamp", 1, 0, O_RXTS}, {"json", 1, 0, O_JSON}, {"html", 1, 0, O_HTML},
    {"quiet", 0, 0, O_QUIET}, {"progress", 0, 0, O_PROGRESS},
    {"no-progress", 0, 0, O_NOPROGRESS}, {"log-level", 1, 0, O_LOG}, {"debug", 1, 0, O_DEBUG},
    {"simulcast", 0, 0, O_SIMULCAST}, {"prefer", 1, 0, O_PREFER},
    {"decode-all", 0, 0, O_DECODEALL}, {"no-twcc", 0, 0, O_NOTWCC},
    {"baseline", 0, 0, O_BASELINE}, {"baseline-alongside", 0, 0, O_ALONGSIDE},
    {"capacity", 0, 0, O_CAPACITY},
    {"capacity-sample", 1, 0, O_CAPSAMPLE}, {"pin-server", 1, 0, O_PINSERVER},
    {"pin-bench", 1, 0, O_PINBENCH}, {"cpu-limit", 1, 0, O_CPULIMIT}, {"target", 1, 0, O_TARGET},
    {"local-ip", 1, 0, O_LOCALIP}, {"help", 0, 0, O_HELP},
    {0, 0, 0, 0},
};

/* One option; returns 0, 1 for --help, -1 on a bad value. */
static int apply(sb_bench_config_t *c, int opt, const char *a) {
  switch (opt) {
  case O_URL: return copy_str(c->url, sizeof c->url, a);
  case O_CAFILE: return copy_str(c->ca_file, sizeof c->ca_file, a);
  case O_HEALTHURL:
    if (c->nhealth_urls >= (int)(sizeof c->health_urls / sizeof c->health_urls[0]))
      return -1;
    return copy_str(c->health_urls[c->nhealth_urls++], sizeof c->health_urls[0], a);
  case O_SECRET: return copy_str(c->secret_file, sizeof c->secret_file, a);
  case O_SPAWN: return copy_str(c->spawn_server, sizeof c->spawn_server, a);
  case O_PID: return parse_int(a, 1, 1 << 30, &c->server_pid);
  case O_TENANT: return copy_str(c->tenant, sizeof c->tenant, a);
  case O_UPREFIX: return copy_str(c->user_prefix, sizeof c->user_prefix, a);
  case O_RPREFIX: return copy_str(c->room_prefix, sizeof c->room_prefix, a);
  case O_CALLS: return parse_int(a, 0, 100000, &c->calls);
  case O_ROOMS: return parse_int(a, 0, 10000, &c->rooms);
  case O_ROOMSIZE: return parse_int(a, 2, 1000, &c->room_size);
  case O_FANOUT: return parse_int(a, 1, 100000, &c->fanout);
  case O_FANOUTROOMS:
    c->fanout_rooms_given = 1;
    return parse_int(a, 1, 1000, &c->fanout_rooms);
  case O_AUDIOONLY: c->audio_only = 1; return 0;
  case O_NOPROV: c->no_provision = 1; return 0;
  case O_SRVARG:
    if (c->nserver_args >= 16)
      return -1;
    return copy_str(c->server_args[c->nserver_args++], sizeof c->server_args[0], a);
  case O_DURATION: return parse_double(a, 0.5, 86400, &c->duration_s);
  case O_RAMPRATE: return parse_double(a, 0.1, 100000, &c->ramp_rate);
  case O_JOINTO: return parse_double(a, 1, 3600, &c->join_timeout_s);
  case O_VKBPS: return parse_int(a, 30, 20000, &c->video_kbps);
  case O_AKBPS: return parse_int(a, 6, 510, &c->audio_kbps);
  case O_RES:
    c->resolution_given = 1;
    if (parse_size(a, 16, 3840, 2160, &c->width, &c->height) < 0 || (c->width & 1) || (c->height & 1))
      return -1;
    return 0;
  case O_SIMULCAST: c->simulcast = 1; return 0;
  case O_PREFER:
    c->prefer = 1;
    return parse_size(a, 0, 16384, 16384, &c->prefer_w, &c->prefer_h);
  case O_DECODEALL: c->decode_all = 1; return 0;
  case O_NOTWCC: c->twcc = 0; return 0;
  case O_BASELINE: c->baseline = 1; return 0;
  case O_ALONGSIDE: c->baseline = c->baseline_alongside = 1; return 0;
  case O_CAPACITY: c->capacity = 1; return 0;
  case O_CAPSAMPLE: return parse_int(a, 1, 100000, &c->capacity_sample);
  case O_PINSERVER:
  case O_PINBENCH: {
    char *dst = opt == O_PINSERVER ? c->pin_server : c->pin_bench;
    cpu_set_t set;
    if (sb_bench_cpulist_parse(a, &set) < 0)
      return -1;
    return copy_str(dst, sizeof c->pin_server, a);
  }
  case O_CPULIMIT: return parse_int(a, 10, 99, &c->cpu_limit);
  case O_LOCALIP: {
    struct in_addr ia;
    return inet_pton(AF_INET, a, &ia) == 1 ? copy_str(c->local_ip, sizeof c->local_ip, a) : -1;
  }
  case O_TARGET:
    if (strcmp(a, "janus") != 0 && strcmp(a, "switchboard") != 0)
      return -1;
    c->janus = strcmp(a, "janus") == 0;
    return 0;
  case O_FPS: return parse_int(a, 1, 60, &c->fps);
  case O_CLIP: return parse_int(a, 1, 60, &c->clip_seconds);
  case O_DECODE: return parse_int(a, 0, 100000, &c->decode_sample);
  case O_RAMP: c->ramp_mode = 1; return 0;
  case O_RSTART: return parse_int(a, 1, 100000, &c->ramp_start);
  case O_RSTEP: return parse_int(a, 1, 100000, &c->ramp_step);
  case O_RMAX: return parse_int(a, 1, 100000, &c->ramp_max);
  case O_RSTEPS: return parse_double(a, 1, 3600, &c->ramp_step_s);
  case O_RRETRIES: return parse_int(a, 0, 10, &c->ramp_retries);
  case O_TP99: return parse_double(a, 0.001, 10000, &c->target_p99_ms);
  case O_TLOSS: return parse_double(a, 0, 100, &c->target_loss_pct);
  case O_SRTP:
    if (strcmp(a, "both") == 0)
      snprintf(c->srtp, sizeof c->srtp, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80");
    else if (strcmp(a, "aes-cm") == 0)
      snprintf(c->srtp, sizeof c->srtp, "SRTP_AES128_CM_SHA1_80");
    else if (strcmp(a, "gcm") == 0)
      snprintf(c->srtp, sizeof c->srtp, "SRTP_AEAD_AES_128_GCM");
    else
      return -1;
    return 0;
  case O_THREADS: return parse_int(a, 1, 64, &c->threads);
  case O_RXTS:
    if (strcmp(a, "kernel") == 0)
      c->rx_ts = SB_BENCH_RX_KERNEL;
    else if (strcmp(a, "user") == 0)
      c->rx_ts = SB_BENCH_RX_USER;
    else
      return -1;
    return 0;
  case O_JSON: return copy_str(c->json_file, sizeof c->json_file, a);
  case O_HTML: return copy_str(c->html_file, sizeof c->html_file, a);
  case O_QUIET: c->quiet = 1; return 0;
  case O_PROGRESS: c->progress = 1; return 0;
  case O_NOPROGRESS: c->progress = 0; return 0;
  case O_LOG: return copy_str(c->log_level, sizeof c->log_level, a);
  case O_DEBUG: return copy_str(c->debug, sizeof c->debug, a);
  case O_HELP: return 1;
  default: return -1;
  }
}

/* Simulcast needs video, and a low layer (a quarter of each side) that libvpx can encode. */
static int check_simulcast(sb_bench_config_t *c, char *err, size_t errlen) {
  if (!c->simulcast)
    return 0;
  if (c->audio_only)
    return fail(err, errlen, "--simulcast needs video: drop --audio-only");
  if (!c->resolution_given) {
    c->width = 1280;
    c->height = 720;
  }
  if (c->width < 64 || c->height < 64)
    return fail(err, errlen, "--simulcast needs --resolution of at least 64x64 (the low layer is a "
                "quarter of each side)");
  return 0;
}

int sb_bench_config_parse(sb_bench_config_t *c, int argc, char **argv, char *err, size_t errlen) {
  int opt, idx, r;
  sb_bench_config_defaults(c);
  optind = 1;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "h", options, &idx)) != -1) {
    if (opt == 'h')
      opt = O_HELP;
    if (opt == '?' || opt == ':')
      return fail(err, errlen, "unknown option or missing value: %s", argv[optind - 1]);
    r = apply(c, opt, optarg);
    if (r == 1) {
      sb_bench_config_usage(argv[0]);
      return 1;
    }
    if (r < 0)
      return fail(err, errlen, "bad value for --%s: %s", options[idx].name, optarg ? optarg : "");
  }
  if (optind < argc && c->janus && copy_str(c->url, sizeof c->url, argv[optind++]) < 0)
    return fail(err, errlen, "URL too long: %s", argv[optind - 1]);
  if (optind < argc)
    return fail(err, errlen, "unexpected argument: %s", argv[optind]);
  if (c->janus && (c->baseline || c->simulcast || c->prefer || c->spawn_server[0]))
    return fail(err, errlen, "--target janus runs one scenario of single-layer streams: not with "
                "--baseline, --simulcast, --prefer or --spawn-server");
  if (c->calls == 0 && c->rooms == 0 && c->fanout == 0)
    c->calls = 1;
  if (c->secret_file[0] == '\0' && c->spawn_server[0] == '\0' && !c->janus)
    return fail(err, errlen, "--secret-file is required (or --spawn-server, which makes one)");
  if (strncmp(c->url, "ws://", 5) != 0 && strncmp(c->url, "wss://", 6) != 0)
    return fail(err, errlen, "--url must be ws://host:port/path or wss://host:port/path");
  for (int i = 0; i < c->nhealth_urls; i++)
    if (strncmp(c->health_urls[i], "http://", 7) != 0 && strncmp(c->health_urls[i], "https://", 8) != 0)
      return fail(err, errlen, "--health-url must be http://host:port or https://host:port");
  if (c->ramp_mode && c->fanout == 0 && c->rooms == 0 && c->calls == 0)
    return fail(err, errlen, "--ramp needs a scenario to grow");
  if (c->baseline_alongside && c->ramp_mode)
    return fail(err, errlen, "--baseline-alongside measures one window: not with --ramp");
  if (c->baseline && c->simulcast)
    return fail(err, errlen, "--baseline forwards single-layer streams: not with --simulcast");
  if (c->pin_server[0] && !c->spawn_server[0] && !c->server_pid && !c->baseline)
    return fail(err, errlen, "--pin-server needs a server to pin: --spawn-server, --server-pid or --baseline");
  if (c->cpu_limit && !c->spawn_server[0] && !c->server_pid && !c->baseline)
    return fail(err, errlen, "--cpu-limit needs a server to limit: --spawn-server, --server-pid or --baseline");
  if (c->ramp_mode && c->ramp_start > c->ramp_max)
    return fail(err, errlen, "--ramp-start is larger than --ramp-max");
  return check_simulcast(c, err, errlen);
}

int sb_bench_config_participants(const sb_bench_config_t *c) {
  if (c->janus) /* a publisher and a subscriber connection per participant, but in fan-out */
    return 2 * (c->calls * 2 + c->rooms * c->room_size) + c->fanout_rooms * (c->fanout ? c->fanout + 1 : 0);
  return c->calls * 2 + c->rooms * c->room_size + c->fanout_rooms * (c->fanout ? c->fanout + 1 : 0);
}

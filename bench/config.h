/* Bench parameters: the scenario (which rooms, who publishes), media, target server, output.
 * Parsed once in main() and read-only afterwards, so every thread may read it freely. */
#ifndef SB_BENCH_CONFIG_H
#define SB_BENCH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SB_BENCH_RX_KERNEL = 0, SB_BENCH_RX_USER } sb_bench_rxts_t;

typedef struct {
  /* target */
  char url[256];            /* ws[s]://host:port/ws */
  char ca_file[256];        /* certificates a wss:// server is verified against, "" = system's */
  char health_urls[8][128]; /* nodes whose /api/health is summed (--health-url), none = --url's */
  int nhealth_urls;
  char secret_file[256];
  char spawn_server[256];   /* path of a switchboard binary to start, "" = none */
  int server_pid;           /* 0 = unknown: no server CPU/RSS figures */
  char server_args[16][96]; /* extra arguments of a spawned server (--server-arg) */
  int nserver_args;
  char tenant[32];
  char user_prefix[16];
  char room_prefix[48];     /* "" = "bench-<random>" so that runs never share rooms */
  int no_provision;         /* join rooms by name; create no users or rooms */

  /* scenario: these groups are all run at once */
  int calls;                /* 1:1 calls (rooms of 2) */
  int rooms;                /* group rooms ... */
  int room_size;            /* ... of this many participants, all publishing */
  int fanout;               /* subscribers of one publisher (0 = no fan-out room) */
  int fanout_rooms;         /* how many such rooms */
  int fanout_rooms_given;   /* --fanout-rooms was given: ramp mode repeats rooms of fanout + 1 */
  int audio_only;

  /* timing */
  double duration_s;        /* measured window after everybody joined */
  double ramp_rate;         /* participants started per second */
  double join_timeout_s;    /* give up waiting for joins after this */

  /* media */
  int video_kbps;
  int audio_kbps;
  int width, height, fps;
  int clip_seconds;         /* length of the pre-encoded loop (it starts with a keyframe) */
  int decode_sample;        /* receivers that decode (one VP8 stream each) */
  int decode_all;           /* ... every VP8 stream they receive instead */
  int resolution_given;     /* --resolution was given (simulcast has its own default) */
  int simulcast;            /* video publishers send three rid layers l, m, h */
  int prefer_w, prefer_h;   /* call.prefer sent by every subscriber; 0x0 with prefer = 0 */
  int prefer;               /* --prefer was given */
  char srtp[64];            /* use_srtp profiles offered, OpenSSL names, preferred first */
  int twcc;                 /* negotiate transport-cc and send its feedback (browsers do) */

  /* --target janus: the same scenario against Janus's VideoRoom plugin (bench/janus.c) */
  int janus;
  char local_ip[48];        /* the clients' UDP address and host candidate (--local-ip) */

  /* --baseline: after the run, the same scenario through the bench's own minimal forwarder */
  int baseline;
  /* --baseline-alongside: the forwarder runs at the same time as the relay instead of after it */
  int baseline_alongside;

  /* --capacity: receivers outside a sample only count packets (no SRTP, no payload work) */
  int capacity;
  int capacity_sample;      /* receivers that decrypt, decode and measure latency (default 4) */

  /* CPU pinning: "" = none; CPU lists as taskset takes them ("1", "0,2", "0-3") */
  char pin_server[64];      /* the relay's worker threads (or the baseline forwarder) */
  char pin_bench[64];       /* the bench's own threads */
  int cpu_limit;            /* --cpu-limit: % of a CPU per relay worker and forwarder; 0 = none */

  /* machinery */
  int threads;
  sb_bench_rxts_t rx_ts;    /* where the receive time is taken */

  /* ramp mode: raise load step by step until a target is missed */
  int ramp_mode;
  int ramp_start;           /* participants at the first step (rooms are filled in order) */
  int ramp_step;            /* participants added per step */
  int ramp_max;
  double ramp_step_s;       /* seconds measured per step */
  int ramp_retries;         /* a step that missed is measured again this many times */
  double target_p99_ms;
  double target_loss_pct;

  /* output */
  char json_file[256];
  char html_file[256];
  int quiet;
  int progress;             /* -1 = when stdout is a TTY */
  char log_level[16];
  char debug[64];            /* debug categories: sig,sdp,ice,dtls,rtp,rtcp or all */
} sb_bench_config_t;

/** Fills `c` with the defaults (a small 1:1 run against ws://127.0.0.1:8080/ws). */
void sb_bench_config_defaults(sb_bench_config_t *c);

/** Parses argv into `c` (defaults first). Returns 0, 1 when --help was printed, or -1 with a
 * message in err. */
int sb_bench_config_parse(sb_bench_config_t *c, int argc, char **argv, char *err, size_t errlen);

/** Participants the scenario creates (ramp mode: its largest step). */
int sb_bench_config_participants(const sb_bench_config_t *c);

/** Prints the usage text. */
void sb_bench_config_usage(const char *prog);

#endif

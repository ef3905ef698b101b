/* --baseline: the bench's own minimal forwarder, run on the same scenario as the relay so that
 * the relay's figures have a same-run limit to be read against. One process with one thread and
 * one UDP socket: recvmmsg -> srtp_unprotect -> for each subscriber (copy, SSRC/sequence/timestamp
 * rewrite, srtp_protect) -> sendmmsg. No signaling, ICE or DTLS: the bench wires the rooms itself
 * and hands each client its SRTP master keys. RTCP is unprotected and counted, not forwarded.
 * It runs in a child process (forked once its wiring is complete) so that its CPU is measured
 * from /proc exactly as a server's is. */
#ifndef SB_BENCH_BASELINE_H
#define SB_BENCH_BASELINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/types.h>

#include <jansson.h>

#include "bench/serverapi.h"
#include "bench/srtpc.h"
#include "bench/worker.h"

/* One subscriber's copy of a stream: its own SSRC, and sequence numbers and timestamps offset
 * from the source's so that the copy starts at its own random values (as the relay's consumer
 * does: the offsets are fixed at the first packet). */
typedef struct {
  uint32_t ssrc;
  uint16_t next_seq;        /* output seq of the first packet */
  uint32_t next_ts;
  int synced;
  uint16_t seq_delta;
  uint32_t ts_delta;
} sb_bench_rewrite_t;

/** Sets up a copy with output SSRC `ssrc` whose first packet gets `first_seq` and `first_ts`. */
void sb_bench_rewrite_init(sb_bench_rewrite_t *rw, uint32_t ssrc, uint16_t first_seq, uint32_t first_ts);

/** Rewrites SSRC, sequence number and timestamp of the plaintext RTP packet in place (CSRCs,
 * extensions and payload untouched). 0, or -1 (nothing written) if it is not RTP version 2 or
 * shorter than its fixed header. */
int sb_bench_rewrite_apply(sb_bench_rewrite_t *rw, uint8_t *pkt, size_t len);

/* Written by the forwarder only, read by the bench's main thread (shared memory). */
typedef struct {
  _Atomic uint64_t rx_packets, rx_rtp, rx_rtcp, tx_packets, rtp_forwarded;
  _Atomic uint64_t drop_srtp, drop_unknown, drop_malformed, send_fail, wakeups;
  _Atomic int stop;
  _Atomic int active;       /* written by the bench: clients [0, active) run (ramp steps) */
} sb_bench_fwd_counters_t;

typedef struct {
  sb_bench_rewrite_t rw;
  int client;               /* the subscriber */
} sb_bench_fwd_out_t;

typedef struct {
  int client;               /* the publisher */
  uint32_t ssrc;
  sb_bench_fwd_out_t *out;
  int nout;
  size_t cap;
} sb_bench_fwd_source_t;

#define SB_BENCH_FWD_MAX_SOURCES 4 /* streams one client may publish */

typedef struct {
  struct sockaddr_in addr;
  sb_bench_srtp_t srtp;     /* tx: to this client, rx: from it */
  int src[SB_BENCH_FWD_MAX_SOURCES];
  int nsrc;
} sb_bench_fwd_client_t;

typedef struct sb_bench_fwd {
  int fd;
  struct sockaddr_in addr;  /* where the clients send */
  uint16_t profile;
  sb_bench_fwd_client_t *clients;
  int nclients;
  int32_t *by_port;         /* 65536 entries: the client sending from a loopback port, -1 none */
  sb_bench_fwd_source_t *sources;
  int nsources;
  size_t cap;
  sb_bench_fwd_counters_t *cnt; /* MAP_SHARED, seen by both processes */
  pid_t pid;
  int exit_status;
  int pinned;               /* the process runs on `cpus` (--pin-server) */
  cpu_set_t cpus;
} sb_bench_fwd_t;

/** Creates the forwarder's socket (127.0.0.1, a free port) and tables for `nclients`. 0 or -1. */
int sb_bench_fwd_create(sb_bench_fwd_t *f, uint16_t profile, int nclients);

/** Wires the run's participants (their sockets are opened here, on their workers' loops):
 * random SRTP keys per client installed on both sides, each publisher's streams routed to the
 * other members of its room (fan-out: to the subscribers) under fresh SSRCs, and those streams
 * registered with the receivers as a server offer would. 0, or -1 with a reason in err. */
int sb_bench_fwd_wire(sb_bench_fwd_t *f, sb_bench_run_t *run, char *err, size_t errlen);

/** Only clients [0, n) run: packets are copied to those alone, as a relay forwards only to
 * participants that joined (ramp steps raise n; the default is every client). */
void sb_bench_fwd_set_active(sb_bench_fwd_t *f, int n);

/** Forks the forwarder process (on f->cpus if f->pinned). 0 or -1. */
int sb_bench_fwd_start(sb_bench_fwd_t *f);

/** Its counters in the form of a server's /api/health. */
void sb_bench_fwd_health(const sb_bench_fwd_t *f, sb_bench_health_t *out);

/** Its counters as JSON (totals since it started). */
json_t *sb_bench_fwd_json(const sb_bench_fwd_t *f);

/** Stops the process (at most 2 s, then SIGKILL). 0 if it exited cleanly. */
int sb_bench_fwd_stop(sb_bench_fwd_t *f);

/** Frees everything; accepts a zeroed or half-built forwarder. */
void sb_bench_fwd_destroy(sb_bench_fwd_t *f);

#endif

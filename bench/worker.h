/* A worker thread: one libuv loop carrying many participants (their WebSockets through an lws
 * context bound to the loop, their UDP sockets through uv_poll), a 1 ms tick that sends what is
 * due in batches (sendmmsg per participant), and per-second figures the main thread reads. */
#ifndef SB_BENCH_WORKER_H
#define SB_BENCH_WORKER_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "bench/clip.h"
#include "bench/config.h"
#include "bench/dtlsc.h"
#include "bench/hist.h"
#include "bench/peer.h"
#include "bench/sig.h"
#include "relay/sdp.h"

#define SB_BATCH 64
#define SB_PKT_BUF 1600

struct lws_context;
struct sb_bench_fwd;

/* A room of the scenario: its participants are run.peers[first .. first+count). */
typedef struct sb_bench_room {
  char id[64];              /* the bench's label, and the room joined when not provisioning */
  int kind;                 /* 0 call, 1 group room, 2 fan-out */
  int first, count;
  /* with provisioning, the first participant creates the room (rooms.create, or contacts.add
   * for a 1:1 call) and publishes the server's id here for the others */
  char server_id[80];
  _Atomic int ready;        /* 0 not yet, 1 server_id is set, -1 creation failed */
  char error[240];
} sb_bench_room_t;

/* What all threads share: parameters, media, certificate, participants. */
typedef struct {
  const sb_bench_config_t *cfg;
  const sb_bench_clip_t *clip;
  sb_bench_cert_t cert;
  sb_bench_url_t url;
  sb_bench_peer_t *peers;
  int npeers;
  sb_bench_room_t *rooms;
  int nrooms;
  uint64_t t0_us;           /* start of the run (monotonic) */
  int provision;            /* rooms are created through the client API before joining */
  /* --baseline's run: the bench's own forwarder instead of a server; clients skip signaling,
   * ICE and DTLS and use the keys it was given (NULL in a run against a server) */
  struct sb_bench_fwd *baseline;
  _Atomic int active;       /* peers with index < active may start (ramp mode raises it) */
  _Atomic int sending;      /* publishers send media while set */
  _Atomic int stopping;     /* participants leave */
  _Atomic int measuring;    /* latency samples count while set */
  /* the measured window in monotonic µs, [from, to): frame sizes are counted in it (set by the
   * main thread, from first, for each window; ramp mode has one per step) */
  _Atomic uint64_t win_from_us, win_to_us;
  /* --baseline-alongside: the run executing at the same time (relay and forwarder point at each
   * other; NULL otherwise). Both share t0_us, and each one's window starts only once both have
   * settled (settled_us: when this run did, 0 not yet), so that they measure the same seconds. */
  const _Atomic uint64_t *partner_settled_us;
  _Atomic uint64_t settled_us;
} sb_bench_run_t;

/* One second of one worker: what the timeline and the ramp steps are made of. */
typedef struct {
  int sec;                  /* seconds since run->t0 */
  uint64_t pkts_out, pkts_in, bytes_out, bytes_in;
  uint64_t expected, received; /* growth of expected/received over the second (loss) */
  sb_hist_t lat;
} sb_bench_second_t;

typedef struct sb_bench_worker {
  int id;
  sb_bench_run_t *run;
  uv_loop_t loop;
  uv_timer_t tick;
  uv_thread_t thread;
  struct lws_context *lws;
  sb_bench_peer_t **peers;
  int npeers;
  int closing;              /* teardown started */
  uint64_t stop_deadline_us;
  sb_sdp_t *scratch;        /* for SDP parsing and writing on this thread */
  char *sdpbuf;
  size_t sdpcap;

  /* outgoing batch (one participant's socket at a time) */
  struct mmsghdr out_msgs[SB_BATCH];
  struct iovec out_iov[SB_BATCH];
  uint8_t (*out_buf)[SB_PKT_BUF];
  int out_n;
  sb_bench_peer_t *out_peer;

  /* incoming batch */
  struct mmsghdr in_msgs[SB_BATCH];
  struct iovec in_iov[SB_BATCH];
  uint8_t (*in_buf)[SB_PKT_BUF];
  uint8_t (*in_ctl)[64];

  /* latency over the measured window, and per second */
  sb_hist_t lat;
  sb_bench_second_t cur;    /* the second being filled */
  int cur_sec;              /* its index since run->t0 */
  sb_bench_second_t *secs;  /* completed seconds [0, secs_done) */
  int secs_cap;
  _Atomic int secs_done;

  /* live totals, read by the progress line */
  _Atomic uint64_t pkts_out, pkts_in, bytes_out, bytes_in, expected, received;
  _Atomic int n_media, n_failed, n_joined;

  double cpu_s;             /* thread CPU time at the end */
  uint64_t ticks, late_ticks;
  uint64_t last_tick_us;
  sb_hist_t tick_delay;     /* how late the 1 ms tick ran: this machine's scheduling noise */
  uint64_t rx_ts_fallback;  /* packets without a kernel timestamp (user time taken instead) */
} sb_bench_worker_t;

/** Prepares a worker (loop, buffers, lws context); peers are assigned by the caller. 0 or -1. */
int sb_bench_worker_init(sb_bench_worker_t *w, int id, sb_bench_run_t *run, int secs_cap);

/** Starts the thread. 0 or -1. */
int sb_bench_worker_start(sb_bench_worker_t *w);

/** Waits for the thread to end (it ends when the run is stopping and its peers are done). */
void sb_bench_worker_join(sb_bench_worker_t *w);

/** Frees what init allocated. */
void sb_bench_worker_destroy(sb_bench_worker_t *w);

/** Queues one packet (already in w->out_buf[w->out_n], len bytes) for p's socket; flushes when
 * the batch is full or belongs to another peer. */
void sb_bench_worker_queue(sb_bench_worker_t *w, sb_bench_peer_t *p, size_t len);

/** Sends the queued batch. */
void sb_bench_worker_flush(sb_bench_worker_t *w);

/** The next free slot of the outgoing batch (flushing first if it belongs to another peer). */
uint8_t *sb_bench_worker_slot(sb_bench_worker_t *w, sb_bench_peer_t *p);

/** Records a latency sample (ns) in the current second and, while measuring, the total. */
void sb_bench_worker_latency(sb_bench_worker_t *w, uint64_t ns);

#endif

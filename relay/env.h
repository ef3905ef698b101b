/* What the relay's objects (transport, producer, consumer, router) may ask of the worker that
 * runs them, handed to each at create: sending datagrams, the clock, counters and events (after
 * mediasoup's listener interfaces). Objects never reach through a worker or router pointer; the
 * worker provides the real environment (relay/worker.c), unit tests a fake one that records what
 * is sent (tests/relay/fake_env.h). Internal to relay/. */
#ifndef SB_ENV_H
#define SB_ENV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/util.h"
#include "relay/dtls.h"
#include "relay/relay.h"

#define SB_PKT_BUF 1600 /* MTU-sized packet plus the SRTP trailer */

typedef struct sb_tcp_conn sb_tcp_conn_t;

/* Where a peer's datagrams go: its address, over the worker's UDP socket (tcp == NULL) or framed
 * (RFC 4571) onto an ICE-TCP connection (RFC 6544) that the worker owns; objects only pass it
 * back to the environment's send functions. */
typedef struct {
  sb_tcp_conn_t *tcp;
  socklen_t len;
  struct sockaddr_storage addr; /* last: a send reads its first `len` bytes, beside tcp and len */
} sb_path_t;

typedef struct sb_relay_env {
  /* The forwarding path's send slot: a buffer for the next datagram, owned by the caller until
   * it commits it (queued for `to`) or releases it (unsent). Nothing else writes into it
   * meanwhile: control datagrams go through `send`, into their own queue. */
  uint8_t *(*slot)(void *arg);
  void (*commit)(void *arg, size_t len, const sb_path_t *to);
  void (*release)(void *arg);
  /* Queues a copy of a control datagram (STUN, DTLS, RTCP); it goes out at the next flush,
   * i.e. after the fan-out loop that decided it. */
  void (*send)(void *arg, const uint8_t *data, size_t len, const sb_path_t *to);
  /* Reports an event up to signaling. */
  void (*emit)(void *arg, sb_event_type_t type, uint64_t transport, const char *reason,
               const char *srtp_profile);
  void *arg;

  uint64_t now_us, now_ms;  /* the monotonic clock, read once per wake-up (sb_env_clock) */
  sb_worker_stats_t stats;  /* written by the worker's thread only (sb_count) */
  sb_dtls_ctx_t *dtls;      /* process-wide, read-only */
  int test_drop_percent;    /* tests only: share of first transmissions dropped on purpose */
  uint32_t drop_rng;
} sb_relay_env_t;

/* Reads the clock for a wake-up: what the objects handle in it is stamped with this time (a
 * send time for transport-cc too: the packets of one wake-up leave in the same sendmmsg). */
static inline void sb_env_clock(sb_relay_env_t *env) {
  env->now_us = sb_now_us();
  env->now_ms = env->now_us / 1000u;
}

/* Counters have one writer (the worker's thread) and readers on other threads
 * (sb_relay_stats): relaxed atomic loads and stores make that race-free without a locked
 * instruction (on x86 they are plain moves). */
#define sb_count(env, field, n)                                                                    \
  __atomic_store_n(&(env)->stats.field,                                                            \
                   __atomic_load_n(&(env)->stats.field, __ATOMIC_RELAXED) + (uint64_t)(n),         \
                   __ATOMIC_RELAXED)

#endif

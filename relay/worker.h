/* A relay worker: one thread, one libuv loop, one UDP socket for all its media (brief §1-2).
 * Receives with recvmmsg, demultiplexes (RFC 7983), and sends with sendmmsg in batches. */
#ifndef SB_WORKER_H
#define SB_WORKER_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "relay/env.h"
#include "relay/ice.h"
#include "relay/ice_index.h"
#include "relay/relay.h"
#include "relay/tcp.h"

#define SB_BATCH 32
#define SB_HASH_BUCKETS 4096

typedef struct sb_transport sb_transport_t;
typedef struct sb_router sb_router_t;

typedef struct {
  struct mmsghdr msgs[SB_BATCH];
  struct iovec iov[SB_BATCH];
  struct sockaddr_storage addrs[SB_BATCH];
  uint8_t bufs[SB_BATCH][SB_PKT_BUF];
  int count;
} sb_batch_t;

typedef struct sb_worker {
  int index;
  sb_relay_t *relay;
  uv_thread_t thread;
  uv_loop_t loop;
  uv_poll_t poll;
  uv_timer_t timer;
  int has_loop, has_poll, has_timer; /* what sb_worker_init set up: what to undo */
  sb_queue_t *commands;
  int fd;
  uint16_t port;
  uint16_t tcp_port;        /* 0: no ICE-TCP */
  sb_tcp_limits_t tcp_limits;
  sb_tcp_t *tcp;
  sb_ice_t *ice;
  sb_relay_env_t env; /* what its transports, producers and consumers may ask of it */

  /* All transports, dense (the tick walks them with the next ones' memory on its way);
   * t->worker_index is a transport's place. */
  sb_transport_t **transports;
  int ntransports;
  size_t captransports;
  sb_ice_index_t ufrags;       /* local ICE credentials -> transport */
  sb_transport_t *by_addr[SB_HASH_BUCKETS];
  sb_router_t *routers;

  sb_batch_t rx;
  sb_batch_t tx;  /* forwarded media: filled in place through sb_worker_slot */
  sb_batch_t ctl; /* control datagrams (STUN, DTLS, RTCP): copied in by sb_worker_send */
  int stopping;
  uint64_t last_tick_us; /* when the periodic timer last fired (lag measurement) */
  uint64_t ticks;
} sb_worker_t;

/** The forwarding path's buffer for the next media datagram: fill it, then sb_worker_commit, or
 * give it back with sb_worker_release. The caller is its only writer until then. */
uint8_t *sb_worker_slot(sb_worker_t *w);
/** Queues the slot's `len` bytes for `to`; sends the media batch when it is full. */
void sb_worker_commit(sb_worker_t *w, size_t len, const sb_path_t *to);
/** Gives the slot back unsent. */
void sb_worker_release(sb_worker_t *w);
/** Sends every queued datagram now: the control queue, then the media batch (so that no media
 * packet overtakes a control datagram queued before it, e.g. the DTLS flight that completes the
 * peer's handshake). */
void sb_worker_flush(sb_worker_t *w);
/* Over a TCP path (to->tcp) a datagram is framed and written at once instead (commit or send:
 * the stream keeps their order), and media is dropped while the connection is backed up. */
/** Queues a copy of a control datagram (STUN, DTLS, RTCP, e.g. a keyframe request decided while
 * a packet is being forwarded): it goes out at the next flush after the fan-out loop (or when the
 * media batch fills), ahead of the media queued with it, and never touches the media batch or
 * its slot. When the queue is full it is sent at once (only its own buffers). */
void sb_worker_send(sb_worker_t *w, const uint8_t *data, size_t len, const sb_path_t *to);

/** Sets up the worker's loop, ICE agent, command queue and handles on socket `fd` (owned from
 * now on, closed by sb_worker_fini) and, when `tcp_fd` >= 0, its ICE-TCP listener on that
 * bound socket (owned from now on too, w->tcp_limits apply), and starts its thread. 0, or -1 with everything it had set up
 * undone and `fd` closed. `w` comes zeroed but for index, relay, fd and env's data. */
int sb_worker_init(sb_worker_t *w, int fd, int tcp_fd);
/** Undoes sb_worker_init after the thread was joined (or was never started); accepts NULL and a
 * half-initialised worker, and may be called twice. */
void sb_worker_fini(sb_worker_t *w);

/** Reports an event up to signaling. */
void sb_worker_emit(sb_worker_t *w, sb_event_type_t type, uint64_t transport, const char *reason,
                    const char *srtp_profile);

/** Reports a transport's media bytes received and forwarded to it since the last report. */
void sb_worker_emit_bytes(sb_worker_t *w, uint64_t transport, uint64_t rx_bytes, uint64_t tx_bytes);
/** Reports the first media packet forwarded to a transport, at `at_ms` (sb_now_ms()). */
void sb_worker_emit_media(sb_worker_t *w, uint64_t transport, uint64_t at_ms);

/* Hash tables of transports (intrusive chains), and the array of them all. */
uint32_t sb_addr_hash(const struct sockaddr_storage *a);
int sb_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
void sb_worker_index_ufrag(sb_worker_t *w, sb_transport_t *t);
void sb_worker_index_addr(sb_worker_t *w, sb_transport_t *t);
/** Takes `t` out of the indexes and the array (the last transport takes its place). */
void sb_worker_unindex(sb_worker_t *w, sb_transport_t *t);
sb_transport_t *sb_worker_find_transport(sb_worker_t *w, uint64_t id);

sb_router_t *sb_worker_router(sb_worker_t *w, const char *room, int create);

#endif

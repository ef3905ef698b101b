/* A worker's ICE-TCP side (RFC 6544 passive candidates): one listening socket,
 * the connections browsers open to it, RFC 4571 framing both ways
 * (relay/framing.h), and the limits that keep unauthenticated connections
 * cheap. It knows nothing of transports: frames go to a listener (the worker),
 * which authenticates a connection's first STUN check and binds it to a
 * transport (sb_tcp_bind); the worker then sends through it like through its
 * UDP socket. */
#ifndef SB_TCP_H
#define SB_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "relay/env.h"

typedef struct sb_tcp sb_tcp_t;

/* A connection must pass a connectivity check this soon after it was accepted,
 * or is closed. */
#define SB_TCP_AUTH_TIMEOUT_MS 5000
/* Bytes waiting in one connection's write queue beyond which media is dropped
 * (drop_tcp_backpressure) rather than queued; control datagrams get twice as
 * much. */
#define SB_TCP_WRITE_CAP (128 * 1024)

typedef struct {
  /* One frame (a copy the callee may change in place, with SB_SRTP_MAX_TRAILER
   * bytes of room after it) from `c`, bound to `owner` (NULL until
   * sb_tcp_bind). Returns 0, or -1 to close the connection. */
  int (*on_frame)(void *arg, sb_tcp_conn_t *c, void *owner, uint8_t *data,
                  size_t len);
  /* `c`, bound to `owner`, is closing (by the peer, an error or a limit): send
   * nothing more through it. Not called for sb_tcp_close_owner's connections.
   */
  void (*on_close)(void *arg, sb_tcp_conn_t *c, void *owner);
  /* A read's frames were all handled: the worker sends what they made it queue.
   */
  void (*after_read)(void *arg);
  void *arg;
} sb_tcp_listener_t;

typedef struct {
  int max_conns;   /* connections open at once on this worker */
  int max_pending; /* ... of which not yet authenticated */
} sb_tcp_limits_t;

/** Listens on the bound TCP socket `fd` (owned from now on) with `loop`,
 * counting in `env`'s stats. 0, or -1 with fd closed; either way *out (NULL
 * without memory) is undone with sb_tcp_shutdown, a loop run, then
 * sb_tcp_destroy. */
int sb_tcp_create(sb_tcp_t **out, uv_loop_t *loop, int fd, sb_relay_env_t *env,
                  const sb_tcp_limits_t *lim,
                  const sb_tcp_listener_t *listener);
/** Closes the listener and every connection; their memory goes once the loop
 * has run their close callbacks, the rest with sb_tcp_destroy after that. */
void sb_tcp_shutdown(sb_tcp_t *tcp);
/** Frees what sb_tcp_shutdown left, after the loop ran; accepts NULL. */
void sb_tcp_destroy(sb_tcp_t *tcp);

/** Closes connections not authenticated within SB_TCP_AUTH_TIMEOUT_MS. */
void sb_tcp_tick(sb_tcp_t *tcp, uint64_t now_ms);
/** Closes every connection bound to `owner` (it is going away), without
 * on_close. */
void sb_tcp_close_owner(sb_tcp_t *tcp, void *owner);

/** Marks `c` authenticated and bound to `owner`. */
void sb_tcp_bind(sb_tcp_conn_t *c, void *owner);
/** The peer's address as a path through `c`. */
void sb_tcp_path(sb_tcp_conn_t *c, sb_path_t *out);
/** Sends one framed datagram; `media` ones are dropped (counted) while the
 * connection's write queue is over SB_TCP_WRITE_CAP. 0, or -1 when dropped or
 * the connection is closing. */
int sb_tcp_send(sb_tcp_conn_t *c, const uint8_t *data, size_t len, int media);

#endif

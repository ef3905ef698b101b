#include "relay/tcp.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "relay/framing.h"
#include "relay/rtp.h"
#include "relay/srtp.h"

struct sb_tcp_conn {
  uv_tcp_t handle;
  sb_tcp_t *tcp;
  sb_path_t peer; /* peer.tcp is this connection */
  void *owner;    /* bound after a valid check, NULL before */
  uint64_t accepted_ms;
  int closing;
  sb_framer_t rx;
  sb_tcp_conn_t *prev, *next;
};

struct sb_tcp {
  uv_tcp_t listener;
  int has_listener;
  sb_relay_env_t *env;
  sb_tcp_limits_t lim;
  sb_tcp_listener_t l;
  sb_tcp_conn_t *conns; /* every open connection (closing ones are unlinked) */
  int nconns, npending;
};

typedef struct {
  uv_write_t req;
  uint8_t data[];
} write_req_t;

static void on_conn_closed(uv_handle_t *h) { free(h->data); }

/* Unlinks and closes `c`; `notify` tells the listener (a bound connection that
 * went away). */
static void conn_close(sb_tcp_conn_t *c, int notify) {
  sb_tcp_t *tcp = c->tcp;
  if (c->closing)
    return;
  c->closing = 1;
  if (c->prev)
    c->prev->next = c->next;
  else
    tcp->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  tcp->nconns--;
  if (!c->owner) {
    tcp->npending--;
    sb_count(tcp->env, tcp_closed_unauth, 1);
  }
  sb_count(tcp->env, tcp_connections, -1);
  if (notify && c->owner)
    tcp->l.on_close(tcp->l.arg, c, c->owner);
  uv_close((uv_handle_t *)&c->handle, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  sb_tcp_conn_t *c = h->data;
  size_t room;
  (void)suggested;
  buf->base = (char *)sb_framer_space(&c->rx, &room);
  buf->len = room;
}

/* Hands one frame to the listener; -1 closes the connection. An unauthenticated
 * connection may send only STUN (its connectivity check); anything else is
 * garbage. */
static int deliver(sb_tcp_conn_t *c, const uint8_t *frame, size_t len) {
  sb_tcp_t *tcp = c->tcp;
  uint8_t pkt[SB_PKT_BUF];
  sb_count(tcp->env, rx_packets, 1);
  if (!c->owner && sb_pkt_classify(frame, len) != SB_PKT_STUN) {
    sb_count(tcp->env, drop_malformed, 1);
    return -1;
  }
  if (len == 0) {
    sb_count(tcp->env, drop_malformed, 1);
    return 0;
  }
  memcpy(pkt, frame,
         len); /* processed in place, with room after it, like a UDP datagram */
  return tcp->l.on_frame(tcp->l.arg, c, c->owner, pkt, len);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  sb_tcp_conn_t *c = s->data;
  sb_tcp_t *tcp = c->tcp;
  (void)buf;
  if (nread == 0)
    return;
  if (nread < 0) {
    conn_close(c, 1);
    tcp->l.after_read(tcp->l.arg);
    return;
  }
  sb_env_clock(tcp->env);
  sb_count(tcp->env, rx_bytes, nread);
  sb_framer_wrote(&c->rx, (size_t)nread);
  uint8_t *frame;
  size_t len;
  sb_frame_result_t r;
  while (!c->closing &&
         (r = sb_framer_next(&c->rx, &frame, &len)) != SB_FRAME_MORE) {
    if (r == SB_FRAME_OVERSIZE) {
      sb_count(tcp->env, drop_malformed, 1);
      if (!c->owner)
        conn_close(c, 1);
      continue;
    }
    if (deliver(c, frame, len) != 0)
      conn_close(c, 1);
  }
  tcp->l.after_read(tcp->l.arg);
}

static void on_connection(uv_stream_t *server, int status) {
  sb_tcp_t *tcp = server->data;
  sb_tcp_conn_t *c = status == 0 ? calloc(1, sizeof *c) : NULL;
  if (!c)
    return;
  c->tcp = tcp;
  c->handle.data = c;
  if (uv_tcp_init(server->loop, &c->handle) != 0) {
    free(c);
    return;
  }
  int over = tcp->nconns >= tcp->lim.max_conns ||
             tcp->npending >= tcp->lim.max_pending;
  int plen = sizeof c->peer.addr;
  if (uv_accept(server, (uv_stream_t *)&c->handle) != 0 || over ||
      uv_tcp_getpeername(&c->handle, (struct sockaddr *)&c->peer.addr, &plen) !=
          0 ||
      uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read) != 0) {
    if (over)
      sb_count(tcp->env, tcp_refused, 1);
    c->closing = 1;
    uv_close((uv_handle_t *)&c->handle, on_conn_closed);
    return;
  }
  uv_tcp_nodelay(&c->handle, 1);
  c->peer.len = (socklen_t)plen;
  c->peer.tcp = c;
  c->accepted_ms = sb_now_ms();
  sb_framer_init(&c->rx, SB_PKT_BUF - SB_SRTP_MAX_TRAILER);
  c->next = tcp->conns;
  if (c->next)
    c->next->prev = c;
  tcp->conns = c;
  tcp->nconns++;
  tcp->npending++;
  sb_count(tcp->env, tcp_accepted, 1);
  sb_count(tcp->env, tcp_connections, 1);
}

int sb_tcp_create(sb_tcp_t **out, uv_loop_t *loop, int fd, sb_relay_env_t *env,
                  const sb_tcp_limits_t *lim,
                  const sb_tcp_listener_t *listener) {
  sb_tcp_t *tcp = *out = calloc(1, sizeof *tcp);
  if (!tcp)
    goto Fail;
  tcp->env = env;
  tcp->lim = *lim;
  tcp->l = *listener;
  if (uv_tcp_init(loop, &tcp->listener) != 0)
    goto Fail;
  tcp->has_listener = 1;
  tcp->listener.data = tcp;
  if (uv_tcp_open(&tcp->listener, fd) != 0)
    goto Fail;
  fd = -1; /* the handle's now: closed with it */
  if (uv_listen((uv_stream_t *)&tcp->listener, 128, on_connection) != 0)
    goto Fail;
  return 0;
Fail:
  if (fd >= 0)
    close(fd);
  return -1;
}

void sb_tcp_shutdown(sb_tcp_t *tcp) {
  if (!tcp)
    return;
  while (tcp->conns)
    conn_close(tcp->conns, 0);
  if (tcp->has_listener) {
    uv_close((uv_handle_t *)&tcp->listener, NULL);
    tcp->has_listener = 0;
  }
}

void sb_tcp_destroy(sb_tcp_t *tcp) { free(tcp); }

void sb_tcp_tick(sb_tcp_t *tcp, uint64_t now_ms) {
  if (!tcp || tcp->npending == 0)
    return;
  sb_tcp_conn_t *c = tcp->conns;
  while (c) {
    sb_tcp_conn_t *next = c->next;
    if (!c->owner && now_ms - c->accepted_ms > SB_TCP_AUTH_TIMEOUT_MS)
      conn_close(c, 0);
    c = next;
  }
}

void sb_tcp_close_owner(sb_tcp_t *tcp, void *owner) {
  if (!tcp)
    return;
  sb_tcp_conn_t *c = tcp->conns;
  while (c) {
    sb_tcp_conn_t *next = c->next;
    if (c->owner == owner)
      conn_close(c, 0);
    c = next;
  }
}

void sb_tcp_bind(sb_tcp_conn_t *c, void *owner) {
  if (!c->owner)
    c->tcp->npending--;
  c->owner = owner;
}

void sb_tcp_path(sb_tcp_conn_t *c, sb_path_t *out) { *out = c->peer; }

static void on_written(uv_write_t *req, int status) {
  sb_tcp_conn_t *c = req->handle->data;
  free(req->data);
  if (status < 0 && status != UV_ECANCELED)
    conn_close(c, 1);
}

int sb_tcp_send(sb_tcp_conn_t *c, const uint8_t *data, size_t len, int media) {
  sb_relay_env_t *env = c->tcp->env;
  size_t queued = c->handle.write_queue_size, total = SB_FRAME_HDR + len;
  if (c->closing || len > 0xffff)
    return -1;
  if (queued &&
      queued + total > (media ? SB_TCP_WRITE_CAP : 2 * SB_TCP_WRITE_CAP)) {
    sb_count(env, drop_tcp_backpressure, 1);
    return -1;
  }
  uint8_t hdr[SB_FRAME_HDR];
  sb_frame_header(hdr, len);
  size_t done = 0;
  if (!queued) { /* the common case: the kernel takes it at once, nothing is
                    copied */
    uv_buf_t bufs[2] = {uv_buf_init((char *)hdr, SB_FRAME_HDR),
                        uv_buf_init((char *)data, (unsigned)len)};
    int n = uv_try_write((uv_stream_t *)&c->handle, bufs, 2);
    if (n < 0 && n != UV_EAGAIN) {
      conn_close(c, 1);
      return -1;
    }
    done = n > 0 ? (size_t)n : 0;
  }
  sb_count(env, tx_packets, 1);
  sb_count(env, tx_bytes, total);
  if (done == total)
    return 0;
  /* The rest is queued: once a frame has begun it must be finished, or the
   * stream loses its framing. */
  write_req_t *w = malloc(sizeof *w + total - done);
  if (!w) {
    conn_close(c, 1);
    return -1;
  }
  size_t off = 0;
  for (size_t i = done; i < total; i++)
    w->data[off++] = i < SB_FRAME_HDR ? hdr[i] : data[i - SB_FRAME_HDR];
  w->req.data = w;
  uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)off);
  if (uv_write(&w->req, (uv_stream_t *)&c->handle, &b, 1, on_written) != 0) {
    free(w);
    conn_close(c, 1);
    return -1;
  }
  return 0;
}

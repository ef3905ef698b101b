#include "relay/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "relay/consumer.h"
#include "relay/producer.h"
#include "relay/router.h"
#include "relay/transport.h"

#define SB_TICK_MS 20
#define SB_TICK_AHEAD 4   /* the tick asks for a transport's memory this many transports ahead */
#define SB_REPORT_TICKS 50 /* transports' media bytes are reported about once a second */
#define SB_RX_ROUNDS 8 /* batches per wake-up before yielding to timers and commands */

/* --- hashing of transports by remote address and by ufrag --- */

uint32_t sb_addr_hash(const struct sockaddr_storage *a) {
  uint32_t h = 2166136261u;
  const uint8_t *p;
  size_t n;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)a;
    p = (const uint8_t *)&s->sin_addr;
    n = 4;
    h = (h ^ s->sin_port) * 16777619u;
  } else {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
    p = (const uint8_t *)&s->sin6_addr;
    n = 16;
    h = (h ^ s->sin6_port) * 16777619u;
  }
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

int sb_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family)
    return 0;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

void sb_worker_index_ufrag(sb_worker_t *w, sb_transport_t *t) { sb_ice_index_add(&w->ufrags, &t->ice[0]); }

void sb_worker_index_addr(sb_worker_t *w, sb_transport_t *t) {
  uint32_t b = sb_addr_hash(&t->path.addr) % SB_HASH_BUCKETS;
  t->next_by_addr = w->by_addr[b];
  w->by_addr[b] = t;
}

static void unindex_addr(sb_worker_t *w, sb_transport_t *t, const struct sockaddr_storage *addr) {
  sb_transport_t **pp = &w->by_addr[sb_addr_hash(addr) % SB_HASH_BUCKETS];
  for (; *pp; pp = &(*pp)->next_by_addr)
    if (*pp == t) {
      *pp = t->next_by_addr;
      return;
    }
}

void sb_worker_unindex(sb_worker_t *w, sb_transport_t *t) {
  sb_ice_index_remove(&w->ufrags, &t->ice[0]);
  if (t->ice[1].ufrag[0]) /* an ICE restart's new credentials, not used yet */
    sb_ice_index_remove(&w->ufrags, &t->ice[1]);
  if (t->has_addr && !t->path.tcp) /* only UDP paths are found by address */
    unindex_addr(w, t, &t->path.addr);
  sb_transport_t *last = w->transports[--w->ntransports];
  w->transports[t->worker_index] = last;
  last->worker_index = t->worker_index;
}

static sb_transport_t *find_by_addr(sb_worker_t *w, const struct sockaddr_storage *a) {
  for (sb_transport_t *t = w->by_addr[sb_addr_hash(a) % SB_HASH_BUCKETS]; t; t = t->next_by_addr)
    if (sb_addr_equal(&t->path.addr, a))
      return t;
  return NULL;
}

/* The ICE agent's lookup: it hands back the credentials, so a check says which set it used. */
static void *lookup_ufrag(void *arg, const char *ufrag, size_t len, const char **pwd) {
  sb_worker_t *w = arg;
  sb_ice_cred_t *c = sb_ice_index_find(&w->ufrags, ufrag, len);
  if (!c || c->t->state == SB_TRANSPORT_CLOSED)
    return NULL;
  *pwd = c->pwd;
  return c;
}

sb_transport_t *sb_worker_find_transport(sb_worker_t *w, uint64_t id) {
  for (int i = 0; i < w->ntransports; i++)
    if (w->transports[i]->id == id)
      return w->transports[i];
  return NULL;
}

sb_router_t *sb_worker_router(sb_worker_t *w, const char *room, int create) {
  for (sb_router_t *r = w->routers; r; r = r->next)
    if (strcmp(r->room, room) == 0)
      return r;
  if (!create)
    return NULL;
  sb_router_t *r = sb_router_create(room);
  if (r) {
    r->next = w->routers;
    w->routers = r;
  }
  return r;
}

/* --- sending --- */

static void queue(sb_worker_t *w, sb_batch_t *b, size_t len, const struct sockaddr_storage *to,
                  socklen_t tolen) {
  int i = b->count;
  memcpy(&b->addrs[i], to, tolen);
  b->iov[i].iov_base = b->bufs[i];
  b->iov[i].iov_len = len;
  b->msgs[i].msg_hdr.msg_name = &b->addrs[i];
  b->msgs[i].msg_hdr.msg_namelen = tolen;
  b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
  b->msgs[i].msg_hdr.msg_iovlen = 1;
  b->count++;
  sb_count(&w->env, tx_bytes, len);
}

static void send_batch(sb_worker_t *w, sb_batch_t *b) {
  int off = 0;
  while (off < b->count) {
    int n = sendmmsg(w->fd, b->msgs + off, (unsigned)(b->count - off), 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      /* A full socket buffer or an unreachable peer: drop this datagram, count it, go on. */
      sb_count(&w->env, drop_send, 1);
      off++;
      continue;
    }
    sb_count(&w->env, tx_packets, n);
    off += n;
  }
  b->count = 0;
}

/* Sends the media batch, after the control queue: a control datagram queued before a media
 * packet must reach the peer first (the DTLS flight that completes its handshake, before the
 * first SRTP packet it could not read yet). The control queue never uses the slot. */
static void send_media(sb_worker_t *w) {
  send_batch(w, &w->ctl);
  send_batch(w, &w->tx);
}

uint8_t *sb_worker_slot(sb_worker_t *w) {
  if (w->tx.count == SB_BATCH)
    send_media(w);
  return w->tx.bufs[w->tx.count];
}

void sb_worker_release(sb_worker_t *w) { (void)w; /* the slot is simply not counted in */ }

void sb_worker_commit(sb_worker_t *w, size_t len, const sb_path_t *to) {
  if (to->tcp) { /* written from the slot at once: the slot stays free for the next packet */
    sb_tcp_send(to->tcp, w->tx.bufs[w->tx.count], len, 1);
    return;
  }
  if (!to->len) { /* the transport's TCP path closed and no check selected another yet */
    sb_count(&w->env, drop_send, 1);
    return;
  }
  queue(w, &w->tx, len, &to->addr, to->len);
  if (w->tx.count == SB_BATCH)
    send_media(w);
}

void sb_worker_send(sb_worker_t *w, const uint8_t *data, size_t len, const sb_path_t *to) {
  if (to->tcp) {
    sb_tcp_send(to->tcp, data, len, 0);
    return;
  }
  if (len > SB_PKT_BUF || !to->len)
    return;
  if (w->ctl.count == SB_BATCH)
    send_batch(w, &w->ctl);
  memcpy(w->ctl.bufs[w->ctl.count], data, len);
  queue(w, &w->ctl, len, &to->addr, to->len);
}

void sb_worker_flush(sb_worker_t *w) { send_media(w); }

/* The environment its objects see (relay/env.h). */
static uint8_t *env_slot(void *arg) { return sb_worker_slot(arg); }
static void env_release(void *arg) { sb_worker_release(arg); }
static void env_commit(void *arg, size_t len, const sb_path_t *to) { sb_worker_commit(arg, len, to); }
static void env_send(void *arg, const uint8_t *data, size_t len, const sb_path_t *to) {
  sb_worker_send(arg, data, len, to);
}
static void env_emit(void *arg, sb_event_type_t type, uint64_t transport, const char *reason,
                     const char *srtp_profile) {
  sb_worker_emit(arg, type, transport, reason, srtp_profile);
}

/* --- receiving --- */

/* A STUN message from `from` (a UDP address, or a TCP connection bound to `bound` or not yet).
 * Returns the check's result; a valid check binds (TCP) and selects (a nomination) the path. */
static sb_ice_result_t on_stun(sb_worker_t *w, uint8_t *buf, size_t len, const sb_path_t *from,
                               sb_transport_t *bound) {
  sb_ice_check_t check;
  uint8_t reply[1280];
  size_t rlen = 0;
  sb_ice_result_t r = sb_ice_process(w->ice, buf, len, (const struct sockaddr *)&from->addr,
                                     from->len, &check, reply, sizeof reply, &rlen);
  sb_transport_t *t = r == SB_ICE_OK ? ((sb_ice_cred_t *)check.transport)->t : NULL;
  if (r == SB_ICE_OK && from->tcp && bound && t != bound)
    r = SB_ICE_UNKNOWN_USER; /* a connection serves the one transport it authenticated for */
  if (r == SB_ICE_OK || r == SB_ICE_ROLE_CONFLICT)
    sb_worker_send(w, reply, rlen, from);
  if (r == SB_ICE_KEEPALIVE) {
    /* Accepted, not consent: it is unauthenticated (RFC 7675 §5.1); media refreshes consent. */
    if (from->tcp ? bound != NULL : find_by_addr(w, &from->addr) != NULL)
      sb_count(&w->env, stun_keepalive, 1);
    else
      sb_count(&w->env, drop_unknown_source, 1);
    return r;
  }
  if (r != SB_ICE_OK) {
    if (r != SB_ICE_NOT_REQUEST)
      sb_count(&w->env, stun_bad, 1);
    sb_debug(SB_DBG_ICE, NULL, "stun from %s port %u dropped: %s", from->tcp ? "tcp" : "udp",
             ntohs(((const struct sockaddr_in *)&from->addr)->sin_port), sb_ice_result_str(r));
    return r;
  }
  sb_count(&w->env, stun_ok, 1);
  if (sb_transport_ice_checked(t, &w->ufrags, check.transport))
    sb_count(&w->env, ice_restarts_done, 1);
  if (from->tcp && !bound)
    sb_tcp_bind(from->tcp, t);
  sb_path_t old = t->path;
  int had = t->has_addr;
  if (sb_transport_on_check(t, from, check.use_candidate)) {
    if (had && !old.tcp)
      unindex_addr(w, t, &old.addr);
    if (!t->path.tcp)
      sb_worker_index_addr(w, t);
  }
  return r;
}

/* DTLS, RTP and RTCP of transport `t`, whichever path they came on (RFC 7983). */
static void on_media(sb_transport_t *t, uint8_t *buf, size_t len, sb_pkt_kind_t kind) {
  switch (kind) {
  case SB_PKT_DTLS:
    sb_transport_on_dtls(t, buf, len);
    break;
  case SB_PKT_RTP:
    t->rx_bytes += len;
    sb_transport_on_rtp(t, buf, len);
    break;
  case SB_PKT_RTCP:
    t->rx_bytes += len;
    sb_transport_on_rtcp(t, buf, len);
    break;
  default:
    sb_count(t->env, drop_malformed, 1);
  }
}

static void on_datagram(sb_worker_t *w, uint8_t *buf, size_t len, struct sockaddr_storage *from, socklen_t fl) {
  sb_pkt_kind_t kind = sb_pkt_classify(buf, len);
  if (kind == SB_PKT_STUN) {
    sb_path_t path = {.len = fl};
    memcpy(&path.addr, from, fl);
    on_stun(w, buf, len, &path, NULL);
    return;
  }
  sb_transport_t *t = find_by_addr(w, from);
  if (!t) {
    sb_count(&w->env, drop_unknown_source, 1);
    return;
  }
  on_media(t, buf, len, kind);
}

/* The ICE-TCP side's listener (relay/tcp.h): a connection's frames take the same path as
 * datagrams, except that it is already known which transport (if any) it belongs to. */
static int on_tcp_frame(void *arg, sb_tcp_conn_t *c, void *owner, uint8_t *buf, size_t len) {
  sb_worker_t *w = arg;
  sb_pkt_kind_t kind = sb_pkt_classify(buf, len);
  if (kind == SB_PKT_STUN) {
    sb_path_t path;
    sb_tcp_path(c, &path);
    sb_ice_result_t r = on_stun(w, buf, len, &path, owner);
    /* Before its first valid check a connection gets no second chance. */
    return owner || r == SB_ICE_OK || r == SB_ICE_ROLE_CONFLICT ? 0 : -1;
  }
  if (!owner)
    return -1;
  on_media(owner, buf, len, kind);
  return 0;
}

static void on_tcp_close(void *arg, sb_tcp_conn_t *c, void *owner) {
  sb_transport_t *t = owner;
  (void)arg;
  if (t->has_addr && t->path.tcp == c)
    sb_transport_lose_path(t);
}

static void on_tcp_read_done(void *arg) { sb_worker_flush(arg); }

static void on_readable(uv_poll_t *h, int status, int events) {
  sb_worker_t *w = h->data;
  if (status < 0)
    return;
  sb_env_clock(&w->env);
  for (int round = 0; round < SB_RX_ROUNDS; round++) {
    int n = recvmmsg(w->fd, w->rx.msgs, SB_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      break;
    for (int i = 0; i < n; i++) {
      struct msghdr *m = &w->rx.msgs[i].msg_hdr;
      size_t len = w->rx.msgs[i].msg_len;
      sb_count(&w->env, rx_packets, 1);
      sb_count(&w->env, rx_bytes, len);
      if (m->msg_flags & MSG_TRUNC)
        sb_count(&w->env, drop_malformed, 1);
      else
        on_datagram(w, w->rx.bufs[i], len, &w->rx.addrs[i], m->msg_namelen);
      m->msg_namelen = sizeof w->rx.addrs[i]; /* the kernel wrote the sender's length there */
    }
    if (n < SB_BATCH)
      break;
  }
  sb_worker_flush(w);
}

/* --- commands from signaling --- */

static void drop_router(sb_worker_t *w, sb_router_t *r) {
  for (sb_router_t **pp = &w->routers; *pp; pp = &(*pp)->next)
    if (*pp == r) {
      *pp = r->next;
      break;
    }
  sb_router_destroy(r);
}

/* Reports the transport's media bytes since the last report, and its first forwarded packet. */
static void report_transport(sb_worker_t *w, sb_transport_t *t) {
  if (t->first_media_ms && !t->first_media_reported) {
    t->first_media_reported = 1;
    sb_worker_emit_media(w, t->id, t->first_media_ms);
  }
  if (t->rx_bytes == t->rx_reported && t->tx_bytes == t->tx_reported)
    return;
  sb_worker_emit_bytes(w, t->id, t->rx_bytes - t->rx_reported, t->tx_bytes - t->tx_reported);
  t->rx_reported = t->rx_bytes;
  t->tx_reported = t->tx_bytes;
}

static void close_transport(sb_worker_t *w, sb_transport_t *t, const char *reason) {
  sb_router_t *r = t->router;
  report_transport(w, t); /* before the close event: its bytes are counted by then */
  sb_worker_unindex(w, t);
  if (r)
    sb_router_remove(r, t);
  sb_count(&w->env, transports, -1); /* before the close event, which a reader may await */
  sb_transport_destroy(t, reason);    /* its close_notify goes out on a TCP path first */
  sb_tcp_close_owner(w->tcp, t);      /* compares the pointer only */
  if (r && r->ntransports == 0)
    drop_router(w, r);
}

/* The producers a consumer attaches to: the publisher's track and its simulcast layers. */
static sb_consumer_t *create_consumer(sb_worker_t *w, sb_transport_t *sub, const sb_cmd_t *cmd) {
  sb_transport_t *pub = sb_worker_find_transport(w, cmd->u.consumer.producer_transport);
  uint32_t first = cmd->u.consumer.producer_id;
  int nlayers = cmd->u.consumer.nlayers > 1 ? cmd->u.consumer.nlayers : 1;
  if (!pub || nlayers > SB_SIMULCAST_MAX_LAYERS || first + (uint32_t)nlayers > (uint32_t)pub->nproducers)
    return NULL;
  return sb_consumer_create(sub, cmd, &pub->producers[first]);
}

static void cmd_consumer(sb_worker_t *w, sb_cmd_t *cmd) {
  sb_transport_t *sub = sb_worker_find_transport(w, cmd->transport);
  if (!sub)
    return;
  sb_consumer_t *c = sb_transport_find_consumer(sub, cmd->u.consumer.consumer);
  switch (cmd->hdr.type) {
  case SB_CMD_CONSUMER_ADD:
    if (c)
      return;
    c = create_consumer(w, sub, cmd);
    if (c && sb_transport_add_consumer(sub, c) != 0)
      sb_consumer_destroy(c);
    break;
  case SB_CMD_CONSUMER_RESUME:
    if (c)
      sb_consumer_resume(c, w->env.now_ms);
    break;
  case SB_CMD_CONSUMER_REMOVE:
    if (c) {
      sb_transport_remove_consumer(sub, c);
      sb_consumer_destroy(c);
    }
    break;
  default:
    break;
  }
}

/* Creates a transport, adds it to its room's router and indexes it by ufrag. */
static int open_transport(sb_worker_t *w, const sb_cmd_t *cmd) {
  sb_transport_t **all =
      sb_grow(w->transports, &w->captransports, (size_t)w->ntransports + 1, sizeof *all, 64);
  if (!all)
    return -1;
  w->transports = all;
  sb_router_t *r = sb_worker_router(w, cmd->u.create.room, 1);
  sb_transport_t *t = r ? sb_transport_create(&w->env, cmd) : NULL;
  if (!t) {
    if (r && r->ntransports == 0)
      drop_router(w, r);
    return -1;
  }
  t->router = r;
  sb_router_add(r, t);
  t->worker_index = w->ntransports;
  w->transports[w->ntransports++] = t;
  sb_worker_index_ufrag(w, t);
  return 0;
}

static void on_command(sb_msg_t *msg, void *arg) {
  sb_worker_t *w = arg;
  sb_cmd_t *cmd = (sb_cmd_t *)msg;
  sb_transport_t *t;
  sb_env_clock(&w->env);
  switch (cmd->hdr.type) {
  case SB_CMD_TRANSPORT_CREATE:
    if (!w->stopping && !sb_worker_find_transport(w, cmd->transport)) {
      if (open_transport(w, cmd) == 0)
        sb_count(&w->env, transports, 1);
      else
        sb_worker_emit(w, SB_EV_TRANSPORT_CLOSED, cmd->transport, "create_failed", NULL);
    }
    break;
  case SB_CMD_TRANSPORT_CLOSE:
    if ((t = sb_worker_find_transport(w, cmd->transport)))
      close_transport(w, t, cmd->u.close.reason);
    break;
  case SB_CMD_CONSUMER_ADD:
  case SB_CMD_CONSUMER_RESUME:
  case SB_CMD_CONSUMER_REMOVE:
    cmd_consumer(w, cmd);
    break;
  case SB_CMD_PRODUCER_PAUSE:
    if ((t = sb_worker_find_transport(w, cmd->transport)) && cmd->u.pause.producer_id < (uint32_t)t->nproducers) {
      sb_producer_t *p = t->producers[cmd->u.pause.producer_id];
      p->paused = cmd->u.pause.paused;
      if (!p->paused) /* subscribers' decoders restart from a keyframe */
        sb_producer_request_keyframe(p, w->env.now_ms);
    }
    break;
  case SB_CMD_TRANSPORT_ICE_RESTART:
    if ((t = sb_worker_find_transport(w, cmd->transport)) && t->state != SB_TRANSPORT_CLOSED &&
        sb_transport_ice_restart(t, &w->ufrags, cmd->u.ice.ufrag, cmd->u.ice.pwd) == 0)
      sb_count(&w->env, ice_restarts, 1);
    break;
  case SB_CMD_TRANSPORT_PREFER:
    if ((t = sb_worker_find_transport(w, cmd->transport))) {
      t->max_width = cmd->u.prefer.max_width;
      t->max_height = cmd->u.prefer.max_height;
      t->last_alloc_ms = 0; /* share and choose again at the next tick */
    }
    break;
  case SB_CMD_SHUTDOWN:
    w->stopping = 1;
    while (w->ntransports)
      close_transport(w, w->transports[w->ntransports - 1], "server_shutdown");
    uv_stop(&w->loop);
    break;
  }
  free(cmd);
  sb_worker_flush(w);
}

/* How late this tick fired, into the lag histogram. */
static void measure_lag(sb_worker_t *w) {
  uint64_t now_us = sb_now_us();
  if (w->last_tick_us) {
    uint64_t due = w->last_tick_us + SB_TICK_MS * 1000u;
    uint64_t lag = now_us > due ? now_us - due : 0;
    sb_count(&w->env, lag_bucket[sb_lag_bucket(lag)], 1);
    sb_count(&w->env, lag_sum_us, lag);
    sb_count(&w->env, lag_count, 1);
  }
  w->last_tick_us = now_us;
}

static void on_tick(uv_timer_t *h) {
  sb_worker_t *w = h->data;
  measure_lag(w);
  sb_env_clock(&w->env);
  int report = ++w->ticks % SB_REPORT_TICKS == 0;
  /* Last to first: closing one moves the last (already seen) into its place. The lines the
   * tick reads of a transport are asked for a few transports ahead, so the loads overlap. */
  for (int i = w->ntransports - 1; i >= 0; i--) {
    if (i >= SB_TICK_AHEAD) {
      const sb_transport_t *ahead = w->transports[i - SB_TICK_AHEAD];
      __builtin_prefetch(ahead);
      __builtin_prefetch(&ahead->created_ms);
    }
    sb_transport_t *t = w->transports[i];
    const char *why = sb_transport_tick(t, w->env.now_ms);
    if (why)
      close_transport(w, t, why);
    else if (report || (t->first_media_ms && !t->first_media_reported))
      report_transport(w, t);
  }
  sb_tcp_tick(w->tcp, w->env.now_ms);
  for (sb_router_t *r = w->routers; r; r = r->next) {
    uint64_t speaker = sb_router_tick(r, w->env.now_ms);
    if (speaker)
      sb_worker_emit(w, SB_EV_ACTIVE_SPEAKER, speaker, NULL, NULL);
  }
  sb_worker_flush(w);
}

/* --- thread --- */

/* Closes the handles that are open and lets their callbacks run before the loop goes away. */
static void close_handles(sb_worker_t *w) {
  if (w->has_poll) {
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, NULL);
    w->has_poll = 0;
  }
  if (w->has_timer) {
    uv_close((uv_handle_t *)&w->timer, NULL);
    w->has_timer = 0;
  }
  sb_queue_close(w->commands);
  w->commands = NULL;
  sb_tcp_shutdown(w->tcp);
  uv_run(&w->loop, UV_RUN_DEFAULT);
}

static void worker_main(void *arg) {
  sb_worker_t *w = arg;
  char name[16];
  /* named so that tools (top -H, perf, the bench's --pin-server) can find the media threads */
  snprintf(name, sizeof name, "sb-worker-%d", w->index);
  pthread_setname_np(pthread_self(), name);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  close_handles(w);
}

/* The receive batch's headers are set once; recvmmsg writes only each one's name length, flags
 * and msg_len, and on_readable puts the name length back after reading a datagram. */
static void rx_prepare(sb_batch_t *b) {
  for (int i = 0; i < SB_BATCH; i++) {
    b->iov[i].iov_base = b->bufs[i];
    /* Leave room for the SRTP trailer when a packet is re-protected in place. */
    b->iov[i].iov_len = SB_PKT_BUF - SB_SRTP_MAX_TRAILER;
    b->msgs[i].msg_hdr = (struct msghdr){.msg_name = &b->addrs[i], .msg_namelen = sizeof b->addrs[i],
                                         .msg_iov = &b->iov[i], .msg_iovlen = 1};
  }
}

int sb_worker_init(sb_worker_t *w, int fd, int tcp_fd) {
  w->fd = fd;
  rx_prepare(&w->rx);
  w->env.slot = env_slot;
  w->env.commit = env_commit;
  w->env.release = env_release;
  w->env.send = env_send;
  w->env.emit = env_emit;
  w->env.arg = w;
  if (uv_loop_init(&w->loop) != 0)
    goto Fail;
  w->has_loop = 1;
  w->ice = sb_ice_create(lookup_ufrag, w);
  w->commands = sb_queue_create(&w->loop, on_command, w);
  if (!w->ice || !w->commands || uv_poll_init_socket(&w->loop, &w->poll, fd) != 0)
    goto Fail;
  if (tcp_fd >= 0) {
    sb_tcp_listener_t l = {.on_frame = on_tcp_frame, .on_close = on_tcp_close,
                           .after_read = on_tcp_read_done, .arg = w};
    int tfd = tcp_fd;
    tcp_fd = -1; /* sb_tcp_create owns it now, also when it fails */
    if (sb_tcp_create(&w->tcp, &w->loop, tfd, &w->env, &w->tcp_limits, &l) != 0)
      goto Fail;
  }
  w->has_poll = 1;
  w->poll.data = w;
  if (uv_timer_init(&w->loop, &w->timer) != 0)
    goto Fail;
  w->has_timer = 1;
  w->timer.data = w;
  if (uv_poll_start(&w->poll, UV_READABLE, on_readable) != 0 ||
      uv_timer_start(&w->timer, on_tick, SB_TICK_MS, SB_TICK_MS) != 0 ||
      uv_thread_create(&w->thread, worker_main, w) != 0)
    goto Fail;
  return 0;
Fail:
  if (tcp_fd >= 0)
    close(tcp_fd);
  sb_worker_fini(w);
  return -1;
}

void sb_worker_fini(sb_worker_t *w) {
  if (!w)
    return;
  if (w->has_loop) {
    close_handles(w); /* nothing left to close after the thread ran */
    uv_loop_close(&w->loop);
    w->has_loop = 0;
  }
  sb_ice_destroy(w->ice);
  w->ice = NULL;
  sb_tcp_destroy(w->tcp);
  w->tcp = NULL;
  if (w->fd >= 0)
    close(w->fd);
  w->fd = -1;
  free(w->transports); /* empty: the shutdown command closed them */
  w->transports = NULL;
  w->ntransports = w->captransports = 0;

}

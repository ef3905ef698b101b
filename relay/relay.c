#include "relay/relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "relay/worker.h"

struct sb_relay {
  sb_relay_config_t cfg;
  char announce_ip[64];
  sb_queue_t *events;
  int nworkers;
  sb_worker_t **workers;
};

static void on_event(sb_msg_t *msg, void *arg) {
  sb_relay_t *r = arg;
  r->cfg.on_event((sb_event_t *)msg, r->cfg.arg);
}

/* A new event of `type` about `transport` from worker w; NULL without memory. */
static sb_event_t *event_new(const sb_worker_t *w, sb_event_type_t type, uint64_t transport) {
  sb_event_t *ev = calloc(1, sizeof *ev);
  if (ev) {
    ev->hdr.type = (int)type;
    ev->transport = transport;
    ev->worker = w->index;
  }
  return ev;
}

void sb_worker_emit(sb_worker_t *w, sb_event_type_t type, uint64_t transport, const char *reason,
                    const char *srtp_profile) {
  sb_event_t *ev = event_new(w, type, transport);
  if (!ev)
    return;
  snprintf(ev->reason, sizeof ev->reason, "%s", reason ? reason : "");
  snprintf(ev->srtp_profile, sizeof ev->srtp_profile, "%s", srtp_profile ? srtp_profile : "");
  sb_queue_push(w->relay->events, &ev->hdr);
}

void sb_worker_emit_bytes(sb_worker_t *w, uint64_t transport, uint64_t rx_bytes, uint64_t tx_bytes) {
  sb_event_t *ev = event_new(w, SB_EV_TRANSPORT_BYTES, transport);
  if (!ev)
    return;
  ev->rx_bytes = rx_bytes;
  ev->tx_bytes = tx_bytes;
  sb_queue_push(w->relay->events, &ev->hdr);
}

void sb_worker_emit_media(sb_worker_t *w, uint64_t transport, uint64_t at_ms) {
  sb_event_t *ev = event_new(w, SB_EV_TRANSPORT_MEDIA, transport);
  if (!ev)
    return;
  ev->at_ms = at_ms;
  sb_queue_push(w->relay->events, &ev->hdr);
}

static int parse_addr(const char *ip, int port, struct sockaddr_storage *ss, socklen_t *sl) {
  memset(ss, 0, sizeof *ss);
  if (strchr(ip, ':')) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    *sl = sizeof *s6;
    return inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1 ? 0 : -EINVAL;
  }
  struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
  s4->sin_family = AF_INET;
  s4->sin_port = htons((uint16_t)port);
  *sl = sizeof *s4;
  return inet_pton(AF_INET, ip, &s4->sin_addr) == 1 ? 0 : -EINVAL;
}

/* A non-blocking socket of `type` bound to ip:port; its port in *bound. fd or a negative errno.
 * UDP gets large buffers: bursts of video keyframes to many subscribers must not overflow the
 * defaults. */
static int open_socket(int type, const char *ip, int port, uint16_t *bound) {
  struct sockaddr_storage ss;
  socklen_t sl;
  if (parse_addr(ip, port, &ss, &sl) != 0)
    return -EINVAL;
  int fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  int size = 4 << 20, on = 1;
  if (type == SOCK_DGRAM) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  } else {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on); /* restart despite TIME_WAIT */
  }
  if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  getsockname(fd, (struct sockaddr *)&ss, &sl);
  *bound = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
  return fd;
}

/* Worker w's ICE-TCP socket: tcp_port_base + i, or its UDP port's number. When that number
 * was the system's choice (no port configured) and TCP has it taken, any free port will do. */
static int open_tcp(const sb_relay_config_t *cfg, sb_worker_t *w) {
  int port = cfg->tcp_port_base ? cfg->tcp_port_base + w->index : w->port;
  int fd = open_socket(SOCK_STREAM, cfg->bind_ip, port, &w->tcp_port);
  if (fd == -EADDRINUSE && !cfg->tcp_port_base && !cfg->port_base)
    fd = open_socket(SOCK_STREAM, cfg->bind_ip, 0, &w->tcp_port);
  if (fd < 0)
    sb_error(NULL, "relay: cannot bind TCP %s:%d for ICE-TCP: %s", cfg->bind_ip, port,
             strerror(-fd));
  return fd;
}

int sb_relay_start(const sb_relay_config_t *cfg, sb_relay_t **out) {
  int rc = -ENOMEM;
  sb_relay_t *r = calloc(1, sizeof *r);
  *out = NULL;
  if (!r)
    return rc;
  r->cfg = *cfg;
  snprintf(r->announce_ip, sizeof r->announce_ip, "%s", cfg->announce_ip);
  r->events = sb_queue_create(cfg->events_loop, on_event, r);
  r->workers = calloc((size_t)cfg->workers, sizeof *r->workers);
  if (!r->events || !r->workers)
    goto Fail;
  for (int i = 0; i < cfg->workers; i++) {
    sb_worker_t *w = calloc(1, sizeof *w);
    if (!w)
      goto Fail;
    w->index = i;
    w->relay = r;
    w->env.dtls = cfg->dtls;
    w->fd = -1;
    w->env.test_drop_percent = cfg->test_drop_percent;
    w->env.drop_rng = 0x9e3779b9u + (uint32_t)i;
    w->tcp_limits.max_conns = cfg->tcp_max_conns > 0 ? cfg->tcp_max_conns : 1000;
    w->tcp_limits.max_pending = cfg->tcp_max_pending > 0 ? cfg->tcp_max_pending : 64;
    r->workers[i] = w;
    int fd = open_socket(SOCK_DGRAM, cfg->bind_ip, cfg->port_base ? cfg->port_base + i : 0, &w->port);
    if (fd < 0) {
      sb_error(NULL, "relay: cannot bind UDP %s:%d: %s", cfg->bind_ip,
               cfg->port_base ? cfg->port_base + i : 0, strerror(-fd));
      rc = fd;
      goto Fail;
    }
    int tfd = cfg->ice_tcp ? open_tcp(cfg, w) : -1;
    if (tfd < 0 && cfg->ice_tcp) {
      close(fd);
      rc = tfd;
      goto Fail;
    }
    if (sb_worker_init(w, fd, tfd) != 0) /* it closed the sockets and undid its own steps */
      goto Fail;
    r->nworkers++;
    if (w->tcp_port)
      sb_info(NULL, "relay: worker %d on udp %s:%u, ice-tcp %s:%u", i, cfg->bind_ip, w->port,
              cfg->bind_ip, w->tcp_port);
    else
      sb_info(NULL, "relay: worker %d on udp %s:%u", i, cfg->bind_ip, w->port);
  }
  *out = r;
  return 0;
Fail:
  sb_relay_stop(r);
  return rc;
}

void sb_relay_stop(sb_relay_t *r) {
  if (!r)
    return;
  for (int i = 0; i < r->nworkers; i++)
    sb_relay_send(r, i, sb_cmd_new(SB_CMD_SHUTDOWN, 0));
  for (int i = 0; i < r->nworkers; i++) {
    uv_thread_join(&r->workers[i]->thread);
    sb_worker_fini(r->workers[i]);
  }
  if (r->workers)
    for (int i = 0; i < r->cfg.workers; i++)
      free(r->workers[i]);
  free(r->workers);
  /* Deliver the close events the workers emitted while stopping, then free the queue. */
  sb_queue_close(r->events);
  free(r);
}

int sb_relay_workers(const sb_relay_t *r) { return r->nworkers; }
uint16_t sb_relay_port(const sb_relay_t *r, int worker) { return r->workers[worker]->port; }
uint16_t sb_relay_tcp_port(const sb_relay_t *r, int worker) { return r->workers[worker]->tcp_port; }
const char *sb_relay_announce_ip(const sb_relay_t *r) { return r->announce_ip; }

sb_cmd_t *sb_cmd_new(sb_cmd_type_t type, uint64_t transport) {
  sb_cmd_t *c = calloc(1, sizeof *c);
  if (c) {
    c->hdr.type = (int)type;
    c->transport = transport;
  }
  return c;
}

void sb_relay_send(sb_relay_t *r, int worker, sb_cmd_t *cmd) {
  if (!cmd)
    return;
  if (worker < 0 || worker >= r->nworkers) {
    free(cmd);
    return;
  }
  sb_queue_push(r->workers[worker]->commands, &cmd->hdr);
}

void sb_relay_stats(const sb_relay_t *r, int worker, sb_worker_stats_t *out) {
  const uint64_t *src = (const uint64_t *)&r->workers[worker]->env.stats;
  uint64_t *dst = (uint64_t *)out;
  /* Relaxed reads of counters another thread writes: a slightly stale figure is fine. */
  for (size_t i = 0; i < sizeof *out / sizeof(uint64_t); i++)
    dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

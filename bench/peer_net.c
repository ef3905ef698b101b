/* A participant's UDP side: socket, receive batches, demultiplexing (RFC 7983), ICE checks,
 * consent refresh, the DTLS handshake and SRTP set-up. */
#include "bench/peer.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "bench/worker.h"
#include "common/util.h"
#include "relay/rtp.h"

#define CONSENT_INTERVAL_US 2500000u /* a check every 2.5 s keeps consent (RFC 7675) fresh */
#define SOCK_BUF (4 << 20)

static void on_readable(uv_poll_t *h, int status, int events);

static void set_bufsize(int fd, int opt_force, int opt) {
  int v = SOCK_BUF;
  if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof v) < 0)
    setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v);
}

int sb_bench_peer_socket_open(sb_bench_peer_t *p) {
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  int one = 1;
  p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd < 0)
    goto fail;
  set_bufsize(p->fd, SO_RCVBUFFORCE, SO_RCVBUF);
  set_bufsize(p->fd, SO_SNDBUFFORCE, SO_SNDBUF);
  if (p->w->run->cfg->rx_ts == SB_BENCH_RX_KERNEL &&
      setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0)
    goto fail;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  if (inet_pton(AF_INET, p->w->run->cfg->local_ip, &a.sin_addr) != 1) /* checked by config.c */
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(p->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
      getsockname(p->fd, (struct sockaddr *)&a, &alen) < 0)
    goto fail;
  p->local.port = ntohs(a.sin_port);
  if (uv_poll_init(&p->w->loop, &p->poll, p->fd) < 0)
    goto fail;
  p->poll.data = p;
  p->poll_active = 1;
  uv_poll_start(&p->poll, UV_READABLE, on_readable);
  return 0;
fail:
  snprintf(p->error, sizeof p->error, "%s", strerror(errno));
  if (p->fd >= 0 && !p->poll_active) {
    close(p->fd);
    p->fd = -1;
  }
  return -1;
}

void sb_bench_peer_send_now(sb_bench_peer_t *p, const uint8_t *buf, size_t len) {
  if (p->fd >= 0 && p->poll_active)
    (void)send(p->fd, buf, len, MSG_DONTWAIT);
}

static void send_cb(const uint8_t *buf, size_t len, void *arg) {
  sb_bench_peer_send_now(arg, buf, len);
}

int sb_bench_peer_ice_begin(sb_bench_peer_t *p, uint64_t now_us) {
  const sb_bench_answer_t *a = &p->answer;
  memset(&p->server, 0, sizeof p->server);
  p->server.sin_family = AF_INET;
  p->server.sin_port = htons(a->port);
  if (inet_pton(AF_INET, a->ip, &p->server.sin_addr) != 1) {
    snprintf(p->error, sizeof p->error, "candidate address %s is not IPv4", a->ip);
    return -1;
  }
  if (connect(p->fd, (struct sockaddr *)&p->server, sizeof p->server) < 0) {
    snprintf(p->error, sizeof p->error, "connect: %s", strerror(errno));
    return -1;
  }
  int ok = sb_bench_ice_init(&p->ice, p->local.ufrag, p->local.pwd, a->ufrag, a->pwd) == 0;
  /* a full agent that offered (Janus's subscriptions) controls; answering one, we do */
  p->ice.controlled = p->local.full_ice_peer && a->setup == SB_SETUP_ACTPASS;
  if (!ok || sb_bench_ice_start_check(&p->ice, now_us) < 0) {
    snprintf(p->error, sizeof p->error, "cannot build a connectivity check");
    return -1;
  }
  sb_bench_peer_send_now(p, p->ice.req, p->ice.req_len);
  p->next_consent_us = now_us + CONSENT_INTERVAL_US;
  return 0;
}

void sb_bench_peer_net_tick(sb_bench_peer_t *p, uint64_t now_us) {
  int r = sb_bench_ice_poll(&p->ice, now_us);
  if (r == 1)
    sb_bench_peer_send_now(p, p->ice.req, p->ice.req_len);
  else if (r < 0 && p->state == SB_PEER_ICE) {
    sb_bench_peer_fail(p, "ICE: no answer to %d connectivity checks", SB_CONNCHECK_TRIES);
    return;
  } else if (r < 0) {
    p->stun_fail++;
  }
  if (p->state == SB_PEER_DTLS) {
    if (sb_bench_dtls_poll(&p->dtls) < 0) {
      sb_bench_peer_fail(p, "DTLS: %s", p->dtls.error);
      return;
    }
    sb_bench_dtls_flush(&p->dtls, send_cb, p);
  }
  if (p->state == SB_PEER_MEDIA && now_us >= p->next_consent_us && !p->ice.outstanding) {
    if (sb_bench_ice_start_check(&p->ice, now_us) > 0)
      sb_bench_peer_send_now(p, p->ice.req, p->ice.req_len);
    p->next_consent_us = now_us + CONSENT_INTERVAL_US;
  }
}

static void on_stun(sb_bench_peer_t *p, const uint8_t *buf, size_t len, uint64_t now_us) {
  uint8_t reply[512];
  size_t rlen = 0;
  sb_conncheck_result_t r =
      sb_bench_ice_handle(&p->ice, buf, len, (struct sockaddr *)&p->server, sizeof p->server, reply,
                          sizeof reply, &rlen, now_us);
  if (r == SB_CONNCHECK_REPLY)
    sb_bench_peer_send_now(p, reply, rlen);
  else if (r == SB_CONNCHECK_ERROR)
    p->stun_fail++;
  /* a full agent (Janus) takes DTLS only once its own check of the pair succeeded: wait until
   * we have answered one, or the first ClientHello is lost and retransmitted a second later */
  if ((r == SB_CONNCHECK_SUCCESS || r == SB_CONNCHECK_REPLY) && p->state == SB_PEER_ICE &&
      p->ice.answered > 0 && (p->ice.replied > 0 || !p->local.full_ice_peer)) {
    p->t_ice_done = now_us;
    if (sb_bench_dtls_start(&p->dtls, &p->w->run->cert, p->answer.fp_alg, p->answer.fingerprint,
                            now_us) < 0) {
      sb_bench_peer_fail(p, "DTLS: %s", p->dtls.error);
      return;
    }
    sb_bench_peer_set_state(p, SB_PEER_DTLS);
    sb_bench_dtls_flush(&p->dtls, send_cb, p);
  }
}

static void on_dtls(sb_bench_peer_t *p, const uint8_t *buf, size_t len, uint64_t now_us) {
  sb_bench_srtp_keys_t keys;
  int r;
  if (p->state != SB_PEER_DTLS) {
    p->dtls_after_done++;
    if (p->dtls.state == SB_DTLS_CONNECTED) {
      sb_bench_dtls_feed(&p->dtls, buf, len, now_us);
      sb_bench_dtls_flush(&p->dtls, send_cb, p);
      if (p->dtls.state == SB_DTLS_CLOSED && p->state == SB_PEER_MEDIA)
        sb_bench_peer_fail(p, "the server closed DTLS (close_notify)");
    }
    return;
  }
  r = sb_bench_dtls_feed(&p->dtls, buf, len, now_us);
  sb_bench_dtls_flush(&p->dtls, send_cb, p);
  if (r < 0) {
    sb_bench_peer_fail(p, "DTLS: %s", p->dtls.error);
    return;
  }
  if (r == 0)
    return;
  if (sb_bench_dtls_keys(&p->dtls, &keys) < 0) {
    sb_bench_peer_fail(p, "DTLS-SRTP key export failed");
    return;
  }
  if (sb_bench_srtp_create(&p->srtp, &keys) < 0) {
    uint16_t profile = keys.profile;
    memset(&keys, 0, sizeof keys);
    sb_bench_peer_fail(p, "libsrtp session set-up failed (profile %s)", sb_bench_srtp_profile_name(profile));
    return;
  }
  memset(&keys, 0, sizeof keys);
  p->srtp_ready = 1;
  p->t_dtls_done = now_us;
  sb_bench_peer_set_state(p, SB_PEER_MEDIA);
  sb_bench_peer_media_begin(p, now_us);
}

static void on_srtp(sb_bench_peer_t *p, uint8_t *buf, size_t len, int rtcp, uint64_t rx_ns,
                    uint64_t now_us) {
  int n = (int)len, st;
  if (!p->srtp_ready) {
    p->srtp_other_fail++;
    return;
  }
  if (!rtcp && !p->sampled && p->w->run->cfg->capacity) {
    sb_bench_peer_on_rtp_counted(p, buf, len, rx_ns); /* no SRTP, no payload: counted only */
    return;
  }
  st = sb_bench_srtp_unprotect(&p->srtp, buf, &n, rtcp);
  if (st == srtp_err_status_ok) {
    if (rtcp)
      sb_bench_peer_on_rtcp(p, buf, (size_t)n, now_us);
    else
      sb_bench_peer_on_rtp(p, buf, (size_t)n, rx_ns);
  } else if (!rtcp && (st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old)) {
    sb_bench_peer_on_replay(p, buf, len);
  } else if (st == srtp_err_status_auth_fail) {
    p->srtp_auth_fail++;
  } else {
    p->srtp_other_fail++;
  }
}

static void dispatch(sb_bench_peer_t *p, uint8_t *buf, size_t len, uint64_t rx_ns, uint64_t now_us) {
  switch (sb_pkt_classify(buf, len)) {
  case SB_PKT_STUN: on_stun(p, buf, len, now_us); break;
  case SB_PKT_DTLS: on_dtls(p, buf, len, now_us); break;
  case SB_PKT_RTP: on_srtp(p, buf, len, 0, rx_ns, now_us); break;
  case SB_PKT_RTCP: on_srtp(p, buf, len, 1, rx_ns, now_us); break;
  default: p->bad_rtp++; break;
  }
}

static uint64_t ts_ns(const struct timespec *t) {
  return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

/* The kernel stamps arrivals with CLOCK_REALTIME; senders stamp CLOCK_MONOTONIC. */
static uint64_t kernel_rx_ns(sb_bench_worker_t *w, struct msghdr *m, int64_t rt_minus_mono,
                             uint64_t fallback) {
  struct cmsghdr *c;
  for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec t;
      memcpy(&t, CMSG_DATA(c), sizeof t);
      return (uint64_t)((int64_t)ts_ns(&t) - rt_minus_mono);
    }
  w->rx_ts_fallback++;
  return fallback;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  sb_bench_peer_t *p = h->data;
  sb_bench_worker_t *w = p->w;
  struct timespec rt, mono;
  int n, i, kernel = w->run->cfg->rx_ts == SB_BENCH_RX_KERNEL;
  (void)events;
  if (status < 0)
    return;
  for (;;) {
    /* recvmmsg shrinks msg_controllen to what it wrote; the rest was set up once per worker */
    for (i = 0; kernel && i < SB_BATCH; i++)
      w->in_msgs[i].msg_hdr.msg_controllen = sizeof w->in_ctl[i];
    n = recvmmsg(p->fd, w->in_msgs, SB_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &rt);
    uint64_t now_ns = ts_ns(&mono), now_us = now_ns / 1000;
    int64_t off = (int64_t)ts_ns(&rt) - (int64_t)now_ns;
    for (i = 0; i < n && p->poll_active; i++) {
      uint64_t rx_ns = kernel ? kernel_rx_ns(w, &w->in_msgs[i].msg_hdr, off, now_ns) : now_ns;
      dispatch(p, w->in_buf[i], w->in_msgs[i].msg_len, rx_ns, now_us);
    }
    if (n < SB_BATCH || !p->poll_active)
      return;
  }
}

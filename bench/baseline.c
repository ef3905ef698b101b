/* The baseline forwarder: wiring done by the bench, then one process, one thread, one socket. */
#include "bench/baseline.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "bench/offer.h"
#include "bench/peer.h"
#include "common/util.h"
#include "relay/rtp.h"

#define FWD_BATCH 64
#define FWD_BUF 1600
#define FWD_SOCK_BUF (4 << 20)
#define FWD_POLL_US 100000 /* how often a blocked receive looks at the stop flag */

/* ---- header rewrite ------------------------------------------------------------------------- */

void sb_bench_rewrite_init(sb_bench_rewrite_t *rw, uint32_t ssrc, uint16_t first_seq, uint32_t first_ts) {
  memset(rw, 0, sizeof *rw);
  rw->ssrc = ssrc;
  rw->next_seq = first_seq;
  rw->next_ts = first_ts;
}

int sb_bench_rewrite_apply(sb_bench_rewrite_t *rw, uint8_t *pkt, size_t len) {
  uint16_t seq;
  uint32_t ts;
  if (len < SB_RTP_HEADER_SIZE || (pkt[0] >> 6) != 2)
    return -1;
  seq = sb_rd16(pkt + 2);
  ts = sb_rd32(pkt + 4);
  if (!rw->synced) {
    rw->seq_delta = (uint16_t)(rw->next_seq - seq);
    rw->ts_delta = rw->next_ts - ts;
    rw->synced = 1;
  }
  sb_wr16(pkt + 2, (uint16_t)(seq + rw->seq_delta));
  sb_wr32(pkt + 4, ts + rw->ts_delta);
  sb_wr32(pkt + 8, rw->ssrc);
  return 0;
}

/* ---- set-up --------------------------------------------------------------------------------- */

int sb_bench_fwd_create(sb_bench_fwd_t *f, uint16_t profile, int nclients) {
  socklen_t alen = sizeof f->addr;
  int v = FWD_SOCK_BUF;
  memset(f, 0, sizeof *f);
  f->fd = -1;
  f->profile = profile;
  f->clients = calloc((size_t)(nclients > 0 ? nclients : 1), sizeof *f->clients);
  f->by_port = malloc(65536 * sizeof *f->by_port);
  f->cnt = mmap(NULL, sizeof *f->cnt, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (f->cnt == MAP_FAILED)
    f->cnt = NULL;
  if (!f->clients || !f->by_port || !f->cnt)
    return -1;
  memset(f->cnt, 0, sizeof *f->cnt);
  atomic_store(&f->cnt->active, nclients);
  memset(f->by_port, 0xff, 65536 * sizeof *f->by_port);
  f->nclients = nclients;
  f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (f->fd < 0)
    return -1;
  if (setsockopt(f->fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) < 0)
    setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
  if (setsockopt(f->fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof v) < 0)
    setsockopt(f->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
  memset(&f->addr, 0, sizeof f->addr);
  f->addr.sin_family = AF_INET;
  f->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(f->fd, (struct sockaddr *)&f->addr, sizeof f->addr) < 0 ||
      getsockname(f->fd, (struct sockaddr *)&f->addr, &alen) < 0)
    return -1;
  return 0;
}

static int add_route(sb_bench_fwd_t *f, int from, uint32_t ssrc, int to, uint32_t out_ssrc) {
  sb_bench_fwd_client_t *c = &f->clients[from];
  sb_bench_fwd_source_t *s = NULL;
  for (int i = 0; i < c->nsrc; i++)
    if (f->sources[c->src[i]].ssrc == ssrc)
      s = &f->sources[c->src[i]];
  if (!s) {
    if (c->nsrc == SB_BENCH_FWD_MAX_SOURCES)
      return -1;
    sb_bench_fwd_source_t *n = sb_grow(f->sources, &f->cap, (size_t)f->nsources + 1, sizeof *n, 16);
    if (!n)
      return -1;
    f->sources = n;
    s = &f->sources[f->nsources];
    memset(s, 0, sizeof *s);
    s->client = from;
    s->ssrc = ssrc;
    c->src[c->nsrc++] = f->nsources++;
  }
  sb_bench_fwd_out_t *o = sb_grow(s->out, &s->cap, (size_t)s->nout + 1, sizeof *o, 8);
  if (!o)
    return -1;
  s->out = o;
  s->out[s->nout].client = to;
  /* random first sequence number and timestamp, as the relay's consumers (RFC 3550 §5.1) */
  sb_bench_rewrite_init(&s->out[s->nout].rw, out_ssrc, (uint16_t)sb_random_u32(), sb_random_u32());
  s->nout++;
  return 0;
}

/* Keys for both sides of one client: the forwarder's session and the client's. */
static int client_keys(sb_bench_fwd_t *f, int i, sb_bench_srtp_keys_t *theirs) {
  sb_bench_srtp_keys_t ours;
  int r;
  memset(&ours, 0, sizeof ours);
  ours.profile = f->profile;
  ours.len = f->profile == SB_SRTP_PROFILE_AEAD_AES_128_GCM ? 28 : 30;
  if (sb_random_bytes(ours.local, ours.len) < 0 || sb_random_bytes(ours.remote, ours.len) < 0)
    return -1;
  *theirs = ours;
  memcpy(theirs->local, ours.remote, ours.len);
  memcpy(theirs->remote, ours.local, ours.len);
  r = sb_bench_srtp_create(&f->clients[i].srtp, &ours);
  memset(&ours, 0, sizeof ours);
  return r;
}

/* A client as the relay's answer would have set it up: payload types, mid and send-time ids. */
static int client_setup(sb_bench_fwd_t *f, sb_bench_peer_t *p, char *err, size_t errlen) {
  sb_bench_srtp_keys_t keys;
  socklen_t alen = sizeof f->clients[p->index].addr;
  sb_bench_answer_t *a = &p->answer;
  if (sb_bench_peer_socket_open(p) < 0) {
    snprintf(err, errlen, "UDP socket: %s", p->error);
    return -1;
  }
  if (getsockname(p->fd, (struct sockaddr *)&f->clients[p->index].addr, &alen) < 0 ||
      connect(p->fd, (struct sockaddr *)&f->addr, sizeof f->addr) < 0) {
    snprintf(err, errlen, "UDP socket: %s", strerror(errno));
    return -1;
  }
  f->by_port[ntohs(f->clients[p->index].addr.sin_port)] = p->index;
  p->server = f->addr;
  if (client_keys(f, p->index, &keys) < 0 || sb_bench_srtp_create(&p->srtp, &keys) < 0) {
    memset(&keys, 0, sizeof keys);
    snprintf(err, errlen, "libsrtp session set-up failed");
    return -1;
  }
  memset(&keys, 0, sizeof keys);
  p->srtp_ready = 1;
  memset(a, 0, sizeof *a);
  a->audio_pt = p->publish_audio ? SB_BENCH_PT_OPUS : -1;
  a->video_pt = p->publish_video ? SB_BENCH_PT_VP8 : -1;
  a->audio_mid_ext = a->video_mid_ext = SB_BENCH_EXT_ID_MID;
  a->audio_time_ext = a->video_time_ext = SB_BENCH_EXT_ID_SEND_TIME;
  snprintf(a->audio_mid, sizeof a->audio_mid, "0");
  snprintf(a->video_mid, sizeof a->video_mid, "1");
  p->local.audio_ssrc = sb_random_u32();
  do
    p->local.video_ssrc = sb_random_u32();
  while (p->local.video_ssrc == p->local.audio_ssrc);
  p->rtcp_ssrc = sb_random_u32();
  p->start_at_us = 200000; /* everybody at once: nobody waits for signaling */
  return 0;
}

/* Routes one stream of `pub` to `sub` and tells `sub` about it. */
static int route(sb_bench_fwd_t *f, sb_bench_peer_t *pub, sb_bench_peer_t *sub, int video) {
  sb_bench_offered_t o;
  memset(&o, 0, sizeof o);
  o.kind = video ? SB_MEDIA_VIDEO : SB_MEDIA_AUDIO;
  o.active = 1;
  o.ssrc = sb_random_u32();
  o.pt = video ? SB_BENCH_PT_VP8 : SB_BENCH_PT_OPUS;
  o.clock = video ? 90000 : 48000;
  o.time_ext = SB_BENCH_EXT_ID_SEND_TIME;
  snprintf(o.mid, sizeof o.mid, "%d", 2 * sub->nrx + 2);
  snprintf(o.from_user, sizeof o.from_user, "%s", pub->user);
  if (add_route(f, pub->index, video ? pub->local.video_ssrc : pub->local.audio_ssrc, sub->index, o.ssrc) < 0)
    return -1;
  sb_bench_peer_add_streams(sub, &o, 1);
  return 0;
}

int sb_bench_fwd_wire(sb_bench_fwd_t *f, sb_bench_run_t *run, char *err, size_t errlen) {
  for (int i = 0; i < run->npeers; i++)
    if (client_setup(f, &run->peers[i], err, errlen) < 0)
      return -1;
  for (int r = 0; r < run->nrooms; r++) {
    const sb_bench_room_t *room = &run->rooms[r];
    for (int i = room->first; i < room->first + room->count; i++) {
      sb_bench_peer_t *pub = &run->peers[i];
      for (int j = room->first; j < room->first + room->count; j++) {
        sb_bench_peer_t *sub = &run->peers[j];
        if (i == j)
          continue;
        if ((pub->publish_audio && route(f, pub, sub, 0) < 0) ||
            (pub->publish_video && route(f, pub, sub, 1) < 0)) {
          snprintf(err, errlen, "out of memory wiring the baseline");
          return -1;
        }
      }
    }
  }
  return 0;
}

/* ---- the forwarding loop (child process) ---------------------------------------------------- */

typedef struct {
  sb_bench_fwd_t *f;
  struct mmsghdr out[FWD_BATCH];
  struct iovec out_iov[FWD_BATCH];
  uint8_t (*out_buf)[FWD_BUF];
  int nout;
  int active;               /* clients [0, active) run: read once per wake-up */
  uint64_t rx, rtp, rtcp, tx, fwd, drop_srtp, drop_unknown, drop_malformed, send_fail, wakeups;
} fwd_loop_t;

static void flush(fwd_loop_t *l) {
  int sent = 0, r;
  while (sent < l->nout) {
    r = sendmmsg(l->f->fd, l->out + sent, (unsigned)(l->nout - sent), 0);
    if (r <= 0) {
      if (r < 0 && errno == EINTR)
        continue;
      break;
    }
    sent += r;
  }
  l->tx += (uint64_t)sent;
  l->send_fail += (uint64_t)(l->nout - sent);
  l->nout = 0;
}

static void copy_out(fwd_loop_t *l, const sb_bench_fwd_source_t *s, const uint8_t *pkt, int len) {
  for (int i = 0; i < s->nout; i++) {
    sb_bench_fwd_out_t *o = &s->out[i];
    sb_bench_fwd_client_t *to = &l->f->clients[o->client];
    uint8_t *b = l->out_buf[l->nout];
    int n = len;
    if (o->client >= l->active)
      continue;
    memcpy(b, pkt, (size_t)len);
    if (sb_bench_rewrite_apply(&o->rw, b, (size_t)len) < 0) {
      l->drop_malformed++;
      continue;
    }
    if (sb_bench_srtp_protect(&to->srtp, b, &n, 0) != 0) {
      l->drop_srtp++;
      continue;
    }
    l->out_iov[l->nout].iov_base = b;
    l->out_iov[l->nout].iov_len = (size_t)n;
    l->out[l->nout].msg_hdr.msg_name = &to->addr;
    l->fwd++;
    if (++l->nout == FWD_BATCH)
      flush(l);
  }
}

static void handle(fwd_loop_t *l, uint8_t *pkt, int len, const struct sockaddr_in *from) {
  sb_bench_fwd_t *f = l->f;
  int32_t ci = f->by_port[ntohs(from->sin_port)];
  sb_bench_fwd_client_t *c;
  sb_pkt_kind_t kind;
  int n = len;
  l->rx++;
  if (ci < 0 || from->sin_addr.s_addr != f->clients[ci].addr.sin_addr.s_addr) {
    l->drop_unknown++;
    return;
  }
  c = &f->clients[ci];
  kind = sb_pkt_classify(pkt, (size_t)len);
  if (kind == SB_PKT_RTCP) {
    /* reports and keyframe requests are verified and counted; the baseline answers none */
    if (sb_bench_srtp_unprotect(&c->srtp, pkt, &n, 1) != 0)
      l->drop_srtp++;
    else
      l->rtcp++;
    return;
  }
  if (kind != SB_PKT_RTP || len + SB_SRTP_TRAILER > FWD_BUF) {
    l->drop_malformed++;
    return;
  }
  if (sb_bench_srtp_unprotect(&c->srtp, pkt, &n, 0) != 0) {
    l->drop_srtp++;
    return;
  }
  l->rtp++;
  uint32_t ssrc = sb_rd32(pkt + 8);
  for (int i = 0; i < c->nsrc; i++)
    if (f->sources[c->src[i]].ssrc == ssrc) {
      copy_out(l, &f->sources[c->src[i]], pkt, n);
      return;
    }
  l->drop_unknown++;
}

static void publish(fwd_loop_t *l) {
  sb_bench_fwd_counters_t *c = l->f->cnt;
  atomic_store_explicit(&c->rx_packets, l->rx, memory_order_relaxed);
  atomic_store_explicit(&c->rx_rtp, l->rtp, memory_order_relaxed);
  atomic_store_explicit(&c->rx_rtcp, l->rtcp, memory_order_relaxed);
  atomic_store_explicit(&c->tx_packets, l->tx, memory_order_relaxed);
  atomic_store_explicit(&c->rtp_forwarded, l->fwd, memory_order_relaxed);
  atomic_store_explicit(&c->drop_srtp, l->drop_srtp, memory_order_relaxed);
  atomic_store_explicit(&c->drop_unknown, l->drop_unknown, memory_order_relaxed);
  atomic_store_explicit(&c->drop_malformed, l->drop_malformed, memory_order_relaxed);
  atomic_store_explicit(&c->send_fail, l->send_fail, memory_order_relaxed);
  atomic_store_explicit(&c->wakeups, l->wakeups, memory_order_relaxed);
}

static int fwd_main(sb_bench_fwd_t *f) {
  static fwd_loop_t l;
  static struct mmsghdr in[FWD_BATCH];
  static struct iovec in_iov[FWD_BATCH];
  static struct sockaddr_in names[FWD_BATCH];
  static uint8_t in_buf[FWD_BATCH][FWD_BUF];
  struct timeval tv = {0, FWD_POLL_US};
  l.f = f;
  if (!(l.out_buf = malloc(FWD_BATCH * sizeof *l.out_buf)))
    return 1;
  setsockopt(f->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (int i = 0; i < FWD_BATCH; i++) {
    in_iov[i].iov_base = in_buf[i];
    in_iov[i].iov_len = FWD_BUF - SB_SRTP_TRAILER;
    in[i].msg_hdr.msg_iov = &in_iov[i];
    in[i].msg_hdr.msg_iovlen = 1;
    in[i].msg_hdr.msg_name = &names[i];
    l.out[i].msg_hdr.msg_iov = &l.out_iov[i];
    l.out[i].msg_hdr.msg_iovlen = 1;
    l.out[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
  }
  while (!atomic_load_explicit(&f->cnt->stop, memory_order_relaxed)) {
    for (int i = 0; i < FWD_BATCH; i++)
      in[i].msg_hdr.msg_namelen = sizeof names[i];
    /* blocks for the first datagram, then takes what is queued without waiting */
    int n = recvmmsg(f->fd, in, FWD_BATCH, MSG_WAITFORONE, NULL);
    if (n <= 0)
      continue; /* the poll timeout, or a signal */
    l.wakeups++;
    l.active = atomic_load_explicit(&f->cnt->active, memory_order_relaxed);
    for (int i = 0; i < n; i++)
      handle(&l, in_buf[i], (int)in[i].msg_len, &names[i]);
    flush(&l);
    publish(&l);
  }
  publish(&l);
  free(l.out_buf);
  return 0;
}

void sb_bench_fwd_set_active(sb_bench_fwd_t *f, int n) {
  if (f && f->cnt)
    atomic_store_explicit(&f->cnt->active, n, memory_order_relaxed);
}

int sb_bench_fwd_start(sb_bench_fwd_t *f) {
  pid_t parent = getpid(), pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    /* a bench killed before it could set the stop flag takes the forwarder with it */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
      _exit(1);
    /* --pin-server: where the relay's worker ran (the bench checked the CPUs exist) */
    if (f->pinned && sched_setaffinity(0, sizeof f->cpus, &f->cpus) < 0)
      _exit(1);
    prctl(PR_SET_NAME, "sb-baseline", 0, 0, 0);
    /* only its own socket: the clients' copies would keep their ports open after they close */
    if ((f->fd > 3 && close_range(3, (unsigned)f->fd - 1, 0) < 0) ||
        close_range((unsigned)f->fd + 1, ~0u, 0) < 0)
      _exit(1);
    _exit(fwd_main(f)); /* the wiring was copied with the process; nothing of the bench runs here */
  }
  f->pid = pid;
  return 0;
}

void sb_bench_fwd_health(const sb_bench_fwd_t *f, sb_bench_health_t *out) {
  sb_bench_fwd_counters_t *c = f->cnt;
  memset(out, 0, sizeof *out);
  out->rx_packets = atomic_load_explicit(&c->rx_packets, memory_order_relaxed);
  out->tx_packets = atomic_load_explicit(&c->tx_packets, memory_order_relaxed);
  out->rtp_forwarded = atomic_load_explicit(&c->rtp_forwarded, memory_order_relaxed);
  out->drop_srtp = atomic_load_explicit(&c->drop_srtp, memory_order_relaxed);
  out->drop_unknown_source = atomic_load_explicit(&c->drop_unknown, memory_order_relaxed);
  out->drop_malformed = atomic_load_explicit(&c->drop_malformed, memory_order_relaxed);
  out->workers = 1;
  snprintf(out->malloc, sizeof out->malloc, "%s", sb_malloc_name()); /* forked from the bench */
  out->ok = 1;
}

json_t *sb_bench_fwd_json(const sb_bench_fwd_t *f) {
  sb_bench_fwd_counters_t *c = f->cnt;
#define LD(x) (json_int_t) atomic_load_explicit(&c->x, memory_order_relaxed)
  return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:s}", "rx_packets", LD(rx_packets),
                   "rx_rtp", LD(rx_rtp), "rx_rtcp", LD(rx_rtcp), "tx_packets", LD(tx_packets),
                   "rtp_forwarded", LD(rtp_forwarded), "drop_srtp", LD(drop_srtp), "drop_unknown",
                   LD(drop_unknown), "drop_malformed", LD(drop_malformed), "send_fail", LD(send_fail),
                   "wakeups", LD(wakeups), "sources", f->nsources, "clients", f->nclients, "srtp_profile",
                   sb_bench_srtp_profile_name(f->profile));
#undef LD
}

int sb_bench_fwd_stop(sb_bench_fwd_t *f) {
  struct timespec pause = {0, 10 * 1000 * 1000};
  int status = 0, done = 0;
  if (f->pid <= 0)
    return 0;
  atomic_store(&f->cnt->stop, 1);
  for (int i = 0; i < 200 && !done; i++) { /* 2 s: the loop looks at the flag every 100 ms */
    if (waitpid(f->pid, &status, WNOHANG) == f->pid)
      done = 1;
    else
      nanosleep(&pause, NULL);
  }
  if (!done) {
    kill(f->pid, SIGKILL);
    waitpid(f->pid, &status, 0);
  }
  f->pid = 0;
  f->exit_status = status;
  return done && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

void sb_bench_fwd_destroy(sb_bench_fwd_t *f) {
  if (!f)
    return;
  sb_bench_fwd_stop(f);
  if (f->fd > 0) /* 0: a zeroed forwarder that was never created */
    close(f->fd);
  f->fd = -1;
  for (int i = 0; f->clients && i < f->nclients; i++)
    sb_bench_srtp_free(&f->clients[i].srtp);
  for (int i = 0; i < f->nsources; i++)
    free(f->sources[i].out);
  free(f->sources);
  free(f->clients);
  free(f->by_port);
  if (f->cnt)
    munmap(f->cnt, sizeof *f->cnt);
  memset(f, 0, sizeof *f);
  f->fd = -1;
}

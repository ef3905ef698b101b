/* Relay objects without a worker: a fake environment (relay/env.h) that records every datagram
 * sent and lets the test set the clock, transports keyed with known SRTP keys, and the peer's
 * side of those keys (libsrtp) to protect what a browser would send and read what the relay
 * sent. No socket, no thread. */
#ifndef SB_RELAY_FIXTURE_H
#define SB_RELAY_FIXTURE_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/consumer.h"
#include "relay/producer.h"
#include "relay/router.h"
#include "relay/rtcp.h"
#include "relay/rtp.h"
#include "relay/srtp.h"
#include "relay/transport.h"

#define FX_MAX_SENT 512

typedef struct {
  uint8_t data[SB_PKT_BUF];
  size_t len;
  int media; /* 1: through the forwarding slot, 0: a control datagram */
  struct sockaddr_storage to;
  sb_tcp_conn_t *tcp; /* the path's TCP connection, NULL over UDP */
} fx_dgram_t;

typedef struct {
  sb_relay_env_t env;
  uint8_t slot[SB_PKT_BUF];
  int held;             /* the slot was handed out and not yet committed or released */
  int slot_violations;  /* a second slot asked for while one is held: two owners */
  fx_dgram_t sent[FX_MAX_SENT];
  int nsent;
  int events[32];
  uint64_t event_transport[32];
  int nevents;
} fx_env_t;

static uint8_t *fx_slot(void *arg) {
  fx_env_t *f = arg;
  f->slot_violations += f->held;
  f->held = 1;
  return f->slot;
}

static inline void fx_record(fx_env_t *f, const uint8_t *data, size_t len, const sb_path_t *to,
                             int media) {
  if (f->nsent == FX_MAX_SENT)
    return;
  fx_dgram_t *d = &f->sent[f->nsent++];
  memcpy(d->data, data, len);
  d->len = len;
  d->media = media;
  memset(&d->to, 0, sizeof d->to);
  memcpy(&d->to, &to->addr, to->len);
  d->tcp = to->tcp;
}

static inline void fx_commit(void *arg, size_t len, const sb_path_t *to) {
  fx_env_t *f = arg;
  f->held = 0;
  fx_record(f, f->slot, len, to, 1);
}

static inline void fx_release(void *arg) { ((fx_env_t *)arg)->held = 0; }

static inline void fx_send(void *arg, const uint8_t *data, size_t len, const sb_path_t *to) {
  fx_record(arg, data, len, to, 0);
}

static inline void fx_emit(void *arg, sb_event_type_t type, uint64_t transport, const char *reason,
                    const char *srtp_profile) {
  fx_env_t *f = arg;
  (void)reason, (void)srtp_profile;
  if (f->nevents < 32) {
    f->event_transport[f->nevents] = transport;
    f->events[f->nevents++] = (int)type;
  }
}

static inline void fx_env_init(fx_env_t *f) {
  memset(f, 0, sizeof *f);
  f->env.slot = fx_slot;
  f->env.commit = fx_commit;
  f->env.release = fx_release;
  f->env.send = fx_send;
  f->env.emit = fx_emit;
  f->env.arg = f;
  f->env.now_ms = 1000000;
  f->env.now_us = f->env.now_ms * 1000;
  sb_srtp_global_init();
  static sb_dtls_ctx_t *dtls; /* one certificate per test process */
  if (!dtls)
    dtls = sb_dtls_ctx_create();
  f->env.dtls = dtls;
}

/* Known keys: the relay's side of transport `id`, or the peer's (local and remote swapped). */
static inline sb_srtp_keys_t fx_keys(uint64_t id, int peer) {
  sb_srtp_keys_t k = {.profile = SB_SRTP_AES128_CM_SHA1_80, .key_len = 30};
  for (int i = 0; i < 30; i++) {
    uint8_t relay = (uint8_t)(id * 31 + (uint64_t)i), browser = (uint8_t)(id * 57 + 128 + (uint64_t)i);
    k.local_key[i] = peer ? browser : relay;
    k.remote_key[i] = peer ? relay : browser;
  }
  return k;
}

/* A transport create command: audio producer 0 (mid "0", ssrc 1000+id*10) and video producer 1
 * (mid "1", ssrc 2000+id*10, RTX 2001+id*10), or `nlayers` simulcast video layers instead. */
static inline sb_cmd_t *fx_create_cmd(uint64_t id, int nlayers) {
  sb_cmd_t *c = sb_cmd_new(SB_CMD_TRANSPORT_CREATE, id);
  snprintf(c->u.create.room, sizeof c->u.create.room, "room");
  snprintf(c->u.create.log_ctx, sizeof c->u.create.log_ctx, "test/room/u%llu", (unsigned long long)id);
  snprintf(c->u.create.ufrag, sizeof c->u.create.ufrag, "uf%llu", (unsigned long long)id);
  snprintf(c->u.create.pwd, sizeof c->u.create.pwd, "pwdpwdpwdpwdpwdpwdpwdpwd");
  snprintf(c->u.create.fp_alg, sizeof c->u.create.fp_alg, "sha-256");
  memset(c->u.create.fp, 0, sizeof c->u.create.fp);
  for (int i = 0; i < 32; i++)
    sprintf(c->u.create.fp + 3 * i, i < 31 ? "AB:" : "AB");
  c->u.create.ext.mid = 1;
  c->u.create.ext.audio_level = 2;
  c->u.create.admitted = 1;
  sb_producer_spec_t *p = c->u.create.producers;
  p[0] = (sb_producer_spec_t){.id = 0, .kind = SB_KIND_AUDIO, .ssrc = (uint32_t)(1000 + id * 10), .pt = 111,
                              .clock = 48000};
  snprintf(p[0].mid, sizeof p[0].mid, "0");
  int n = nlayers > 1 ? nlayers : 1;
  for (int l = 0; l < n; l++) {
    p[1 + l] = (sb_producer_spec_t){.id = (uint32_t)(1 + l), .kind = SB_KIND_VIDEO,
                                    .ssrc = (uint32_t)(2000 + id * 10 + 2 * (uint64_t)l),
                                    .rtx_ssrc = (uint32_t)(2001 + id * 10 + 2 * (uint64_t)l), .pt = 96,
                                    .rtx_pt = 97, .clock = 90000, .layer = (uint8_t)l};
    snprintf(p[1 + l].mid, sizeof p[1 + l].mid, "1");
  }
  c->u.create.nproducers = 1 + n;
  return c;
}

/* Creates a transport and brings it up as DTLS would: address bound, SRTP keyed, connected. */
static inline sb_transport_t *fx_transport(fx_env_t *f, uint64_t id, int nlayers) {
  sb_cmd_t *cmd = fx_create_cmd(id, nlayers);
  sb_transport_t *t = sb_transport_create(&f->env, cmd);
  free(cmd);
  if (!t)
    return NULL;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(40000 + id)),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  sb_path_t path = {.len = sizeof a};
  memcpy(&path.addr, &a, sizeof a);
  sb_transport_on_check(t, &path, 1);
  sb_srtp_keys_t k = fx_keys(id, 0);
  sb_srtp_init(&t->srtp, &k);
  t->state = SB_TRANSPORT_CONNECTED;
  return t;
}

/* Subscribes `sub` to producer `first` (and `nlayers` simulcast layers) of `pub`. */
static inline sb_consumer_t *fx_consume(sb_transport_t *sub, sb_transport_t *pub, uint32_t first, int nlayers,
                                 uint64_t id, uint32_t ssrc, int rtx) {
  sb_cmd_t *cmd = sb_cmd_new(SB_CMD_CONSUMER_ADD, sub->id);
  cmd->u.consumer.consumer = id;
  cmd->u.consumer.producer_transport = pub->id;
  cmd->u.consumer.producer_id = first;
  cmd->u.consumer.nlayers = (uint8_t)nlayers;
  cmd->u.consumer.ssrc = ssrc;
  cmd->u.consumer.rtx_ssrc = rtx ? ssrc + 1 : 0;
  cmd->u.consumer.pt = pub->producers[first]->spec.pt;
  cmd->u.consumer.rtx_pt = rtx ? 97 : 0;
  snprintf(cmd->u.consumer.mid, sizeof cmd->u.consumer.mid, "%llu", (unsigned long long)id);
  sb_consumer_t *c = sb_consumer_create(sub, cmd, &pub->producers[first]);
  free(cmd);
  if (c && sb_transport_add_consumer(sub, c) != 0) {
    sb_consumer_destroy(c);
    return NULL;
  }
  return c;
}

/* A VP8 RTP packet (RFC 7741 descriptor with a 15-bit picture id); a keyframe carries the
 * 10-byte key frame header with its size. Returns the plaintext length. */
static inline size_t fx_vp8(uint8_t *buf, uint32_t ssrc, uint16_t seq, uint32_t ts, uint16_t picture_id, int key,
                     int start) {
  sb_rtp_write_fixed(buf, 1, 96, seq, ts, ssrc, 0);
  uint8_t *p = buf + SB_RTP_HEADER_SIZE;
  size_t n = 0;
  p[n++] = (uint8_t)(0x80 | (start ? 0x10 : 0)); /* X, S, partition 0 */
  p[n++] = 0x80;                                  /* I */
  p[n++] = (uint8_t)(0x80 | ((picture_id >> 8) & 0x7f));
  p[n++] = (uint8_t)picture_id;
  if (start) {
    /* frame tag: P bit 0 for a keyframe, show_frame, first partition size */
    p[n++] = key ? 0x10 : 0x11;
    p[n++] = 0x02;
    p[n++] = 0x00;
    if (key) {
      p[n++] = 0x9d, p[n++] = 0x01, p[n++] = 0x2a;
      p[n++] = 0x80, p[n++] = 0x02; /* width 640 */
      p[n++] = 0x68, p[n++] = 0x01; /* height 360 */
    }
  }
  for (int i = 0; i < 40; i++)
    p[n++] = (uint8_t)(seq + i);
  return SB_RTP_HEADER_SIZE + n;
}

/* The browser of transport `id`: its SRTP sessions (kept, so indexes and replay checks behave
 * as with a real peer). */
typedef struct {
  uint64_t id;
  sb_srtp_t srtp;
} fx_peer_t;

static inline void fx_peer_init(fx_peer_t *p, uint64_t id) {
  sb_srtp_keys_t k = fx_keys(id, 1);
  p->id = id;
  sb_srtp_init(&p->srtp, &k);
}

static inline void fx_peer_fini(fx_peer_t *p) { sb_srtp_clear(&p->srtp); }

/* Reads an RTP datagram the relay sent to that browser: 0 and the parsed packet, or -1. */
static inline int fx_peer_read(fx_peer_t *p, fx_dgram_t *d, sb_rtp_packet_t *pkt) {
  int n = (int)d->len;
  if (sb_srtp_unprotect(&p->srtp, d->data, &n) != 0)
    return -1;
  d->len = (size_t)n;
  return sb_rtp_parse(d->data, d->len, pkt);
}

static inline int fx_peer_read_rtcp(fx_peer_t *p, fx_dgram_t *d) {
  int n = (int)d->len;
  if (sb_srtp_unprotect_rtcp(&p->srtp, d->data, &n) != 0)
    return -1;
  d->len = (size_t)n;
  return 0;
}

/* The browser sends a plaintext RTP (or RTCP) packet to its transport, protected. */
static inline void fx_peer_send(fx_peer_t *p, sb_transport_t *t, const uint8_t *plain, size_t len, int rtcp) {
  uint8_t buf[SB_PKT_BUF];
  int n = (int)len;
  memcpy(buf, plain, len);
  if ((rtcp ? sb_srtp_protect_rtcp(&p->srtp, buf, &n) : sb_srtp_protect(&p->srtp, buf, &n)) != 0)
    return;
  if (rtcp)
    sb_transport_on_rtcp(t, buf, (size_t)n);
  else
    sb_transport_on_rtp(t, buf, (size_t)n);
}

/* The destination port (read bytewise: sockaddr_in through a sockaddr_storage would break the
 * aliasing rules on a copied datagram). */
static inline uint16_t fx_port(const fx_dgram_t *d) {
  uint16_t port;
  memcpy(&port, (const uint8_t *)&d->to + offsetof(struct sockaddr_in, sin_port), sizeof port);
  return ntohs(port);
}

/* How many datagrams went to the browser of transport `id` since datagram `from`. */
static inline int fx_count_to(const fx_env_t *f, uint64_t id, int from, int media) {
  int n = 0;
  for (int i = from; i < f->nsent; i++)
    n += fx_port(&f->sent[i]) == 40000 + id && f->sent[i].media == media;
  return n;
}

#endif

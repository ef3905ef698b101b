#include "relay/transport.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "relay/allocate.h"
#include "relay/consumer.h"
#include "relay/producer.h"

#define SB_RR_INTERVAL_MS 1000
#define SB_TWCC_INTERVAL_MS 100

static void dtls_send(void *arg, const uint8_t *data, size_t len) {
  sb_transport_t *t = arg;
  if (t->has_addr)
    t->env->send(t->env->arg, data, len, &t->path);
}

/* The producers' listener: their RTCP (NACK, PLI) goes to the publisher on this transport. */
static void producer_send_rtcp(void *arg, uint8_t *buf, size_t len) { sb_transport_send_rtcp(arg, buf, len); }

sb_transport_t *sb_transport_create(sb_relay_env_t *env, const sb_cmd_t *cmd) {
  sb_transport_t *t = sb_calloc_lines(sizeof *t);
  if (!t)
    return NULL;
  t->id = cmd->transport;
  t->env = env;
  snprintf(t->ctx, sizeof t->ctx, "%s", cmd->u.create.log_ctx);
  snprintf(t->ice[0].ufrag, sizeof t->ice[0].ufrag, "%s", cmd->u.create.ufrag);
  snprintf(t->ice[0].pwd, sizeof t->ice[0].pwd, "%s", cmd->u.create.pwd);
  t->ice[0].t = t->ice[1].t = t;
  t->admitted = cmd->u.create.admitted;
  t->ext = cmd->u.create.ext;
  t->rtcp_ssrc = sb_random_u32();
  sb_bwe_init(&t->bwe);
  t->created_ms = t->last_consent_ms = env->now_ms;
  if (t->ext.twcc) {
    t->twcc = malloc(sizeof *t->twcc);
    if (!t->twcc)
      goto Fail;
    sb_twcc_init(t->twcc);
    if (sb_bwe_enable_delay(&t->bwe) != 0)
      goto Fail;
  }
  t->dtls = sb_dtls_create(env->dtls, cmd->u.create.fp_alg, cmd->u.create.fp, dtls_send, t);
  if (!t->dtls) {
    sb_warn(t->ctx, "transport: unusable fingerprint (%s)", cmd->u.create.fp_alg);
    goto Fail;
  }
  sb_producer_listener_t pl = {.send_rtcp = producer_send_rtcp, .arg = t};
  for (int i = 0; i < cmd->u.create.nproducers && i < SB_MAX_PRODUCERS; i++) {
    t->producers[i] = sb_producer_create(env, &pl, &cmd->u.create.producers[i], &t->ext, t->rtcp_ssrc);
    if (!t->producers[i])
      goto Fail;
    t->nproducers++;
  }
  sb_info(t->ctx, "transport %llu created (%d producers)", (unsigned long long)t->id, t->nproducers);
  return t;
Fail:
  sb_transport_destroy(t, NULL);
  return NULL;
}

void sb_transport_destroy(sb_transport_t *t, const char *reason) {
  if (!t)
    return;
  t->state = SB_TRANSPORT_CLOSED;
  if (t->dtls && reason)
    sb_dtls_shutdown(t->dtls);
  for (int i = 0; i < t->nproducers; i++)
    sb_producer_destroy(t->producers[i]);
  for (int i = 0; i < t->nconsumers; i++)
    sb_consumer_destroy(t->consumers[i]);
  free(t->consumers);
  sb_dtls_destroy(t->dtls);
  sb_srtp_clear(&t->srtp);
  free(t->twcc);
  sb_bwe_free(&t->bwe);
  if (reason) {
    sb_info(t->ctx, "transport %llu closed: %s", (unsigned long long)t->id, reason);
    t->env->emit(t->env->arg, SB_EV_TRANSPORT_CLOSED, t->id, reason, NULL);
  }
  free(t);
}

static int addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
  if (a->ss_family != b->ss_family)
    return 0;
  if (a->ss_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

int sb_transport_on_check(sb_transport_t *t, const sb_path_t *from, int use_candidate) {
  if (t->has_addr && t->path.tcp == from->tcp && addr_equal(&t->path.addr, &from->addr)) {
    t->last_consent_ms = t->env->now_ms;
    return 0;
  }
  /* A first valid check binds the address so DTLS can start; a nomination (USE-CANDIDATE) on
   * another address moves the selected pair there. Consent follows the selected pair. */
  if (t->has_addr && !use_candidate)
    return 0;
  t->path = *from;
  t->has_addr = 1;
  t->last_consent_ms = t->env->now_ms;
  if (t->state == SB_TRANSPORT_NEW)
    t->state = SB_TRANSPORT_ICE;
  char ip[64];
  uint16_t port;
  const struct sockaddr_storage *a = &from->addr;
  if (a->ss_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in *)a)->sin_port);
  } else {
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, ip, sizeof ip);
    port = ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
  }
  sb_info(t->ctx, "ice: selected %s %s port %u%s", from->tcp ? "tcp" : "udp", ip, port,
          use_candidate ? " (nominated)" : "");
  return 1;
}

int sb_transport_ice_restart(sb_transport_t *t, sb_ice_index_t *x, const char *ufrag, const char *pwd) {
  sb_ice_cred_t *n = &t->ice[1];
  size_t ul = strlen(ufrag), pl = strlen(pwd);
  if (ul == 0 || ul >= sizeof n->ufrag || pl == 0 || pl >= sizeof n->pwd)
    return -1;
  if (n->ufrag[0]) /* an earlier restart the peer never used */
    sb_ice_index_remove(x, n);
  memcpy(n->ufrag, ufrag, ul + 1);
  memcpy(n->pwd, pwd, pl + 1);
  sb_ice_index_add(x, n);
  sb_info(t->ctx, "ice: restart, new ufrag %s beside %s until a check uses it", n->ufrag, t->ice[0].ufrag);
  return 0;
}

int sb_transport_ice_checked(sb_transport_t *t, sb_ice_index_t *x, const sb_ice_cred_t *used) {
  if (used != &t->ice[1] || !t->ice[1].ufrag[0])
    return 0;
  sb_ice_index_remove(x, &t->ice[0]);
  sb_ice_index_remove(x, &t->ice[1]);
  char old[64];
  snprintf(old, sizeof old, "%s", t->ice[0].ufrag);
  memcpy(t->ice[0].ufrag, t->ice[1].ufrag, sizeof t->ice[0].ufrag);
  memcpy(t->ice[0].pwd, t->ice[1].pwd, sizeof t->ice[0].pwd);
  memset(&t->ice[1], 0, sizeof t->ice[1]);
  t->ice[1].t = t;
  sb_ice_index_add(x, &t->ice[0]);
  sb_info(t->ctx, "ice: restart done, ufrag %s in use, %s retired", t->ice[0].ufrag, old);
  return 1;
}

void sb_transport_lose_path(sb_transport_t *t) {
  if (!t->has_addr)
    return;
  t->has_addr = 0;
  memset(&t->path, 0, sizeof t->path);
  sb_info(t->ctx, "ice: the selected pair's tcp connection closed");
}

void sb_transport_on_dtls(sb_transport_t *t, const uint8_t *data, size_t len) {
  if (t->state == SB_TRANSPORT_CLOSED)
    return;
  sb_dtls_state_t before = sb_dtls_state(t->dtls);
  sb_dtls_state_t st = sb_dtls_feed(t->dtls, data, len);
  if (st == before)
    return;
  if (st == SB_DTLS_FAILED) {
    sb_warn(t->ctx, "dtls: %s", sb_dtls_error(t->dtls));
    t->state = SB_TRANSPORT_CLOSED; /* the next tick closes it with the reason */
    return;
  }
  if (st == SB_DTLS_CLOSED) {
    t->state = SB_TRANSPORT_CLOSED;
    return;
  }
  if (st == SB_DTLS_CONNECTED) {
    const sb_srtp_keys_t *keys = sb_dtls_keys(t->dtls);
    if (sb_srtp_init(&t->srtp, keys) != 0) {
      t->state = SB_TRANSPORT_CLOSED;
      return;
    }
    t->state = SB_TRANSPORT_CONNECTED;
    sb_count(t->env, dtls_handshakes, 1);
    sb_info(t->ctx, "dtls: connected, srtp %s", sb_srtp_profile_name(keys->profile));
    t->env->emit(t->env->arg, SB_EV_TRANSPORT_CONNECTED, t->id, NULL, sb_srtp_profile_name(keys->profile));
    /* Subscribers that were resumed before the transport came up need a keyframe now. */
    for (int i = 0; i < t->nconsumers; i++)
      if (!t->consumers[i]->paused)
        sb_consumer_request_keyframe(t->consumers[i], t->env->now_ms);
  }
}

static int ext_is(const sb_rtp_packet_t *pkt, uint8_t id, const char *want) {
  const uint8_t *val;
  int n = id ? sb_rtp_find_ext(pkt, id, &val) : -1;
  return n > 0 && (size_t)n == strlen(want) && memcmp(val, want, (size_t)n) == 0;
}

/* Unknown SSRC: bind it through the mid and rid extensions (RFC 8843 §9.2, RFC 8852) to a
 * producer (or a simulcast layer's RTX stream) that has none yet. */
static sb_producer_t *bind_ssrc(sb_transport_t *t, const sb_rtp_packet_t *pkt) {
  for (int i = 0; i < t->nproducers; i++) {
    sb_producer_t *p = t->producers[i];
    const uint8_t *mid;
    /* A packet that names its mid must name this producer's; one without may still match by rid. */
    if (t->ext.mid && sb_rtp_find_ext(pkt, t->ext.mid, &mid) > 0 && !ext_is(pkt, t->ext.mid, p->spec.mid))
      continue;
    if (p->spec.rid[0]) {
      if (p->ssrc == 0 && pkt->pt == p->spec.pt && ext_is(pkt, t->ext.rid, p->spec.rid)) {
        p->ssrc = pkt->ssrc;
        sb_info(t->ctx, "rtp: mid %s rid %s bound to ssrc %u", p->spec.mid, p->spec.rid, pkt->ssrc);
        return p;
      }
      if (p->spec.rtx_ssrc == 0 && p->spec.rtx_pt && pkt->pt == p->spec.rtx_pt &&
          ext_is(pkt, t->ext.rrid, p->spec.rid)) {
        p->spec.rtx_ssrc = pkt->ssrc;
        return NULL; /* the caller retries as RTX */
      }
    } else if (p->ssrc == 0 && pkt->pt == p->spec.pt && t->ext.mid && ext_is(pkt, t->ext.mid, p->spec.mid)) {
      p->ssrc = pkt->ssrc;
      sb_info(t->ctx, "rtp: mid %s bound to ssrc %u", p->spec.mid, pkt->ssrc);
      return p;
    }
  }
  return NULL;
}

static sb_producer_t *producer_for(sb_transport_t *t, const sb_rtp_packet_t *pkt) {
  for (int i = 0; i < t->nproducers; i++)
    if (t->producers[i]->ssrc == pkt->ssrc)
      return t->producers[i];
  return bind_ssrc(t, pkt);
}

static sb_producer_t *rtx_producer_for(sb_transport_t *t, uint32_t ssrc) {
  for (int i = 0; i < t->nproducers; i++)
    if (t->producers[i]->spec.rtx_ssrc && t->producers[i]->spec.rtx_ssrc == ssrc)
      return t->producers[i];
  return NULL;
}

void sb_transport_on_rtp(sb_transport_t *t, uint8_t *data, size_t len) {
  sb_relay_env_t *env = t->env;
  sb_rtp_packet_t pkt;
  int n = (int)len;
  if (!sb_transport_can_forward(t)) {
    sb_count(env, drop_not_admitted, 1);
    return;
  }
  if (sb_srtp_unprotect(&t->srtp, data, &n) != 0) {
    sb_count(env, drop_srtp, 1);
    return;
  }
  /* Authenticated media from the selected pair proves the peer still wants it (RFC 7675 §5.1
   * asks for authenticated traffic; a client without consent requests sends only this). */
  t->last_consent_ms = env->now_ms;
  if (sb_rtp_parse(data, (size_t)n, &pkt) != 0) {
    sb_count(env, drop_malformed, 1);
    return;
  }
  if (t->twcc) {
    const uint8_t *val;
    if (sb_rtp_find_ext(&pkt, t->ext.twcc, &val) == 2)
      sb_twcc_on_packet(t->twcc, sb_rd16(val), sb_now_us());
  }
  sb_producer_t *p = rtx_producer_for(t, pkt.ssrc);
  if (p) {
    sb_producer_on_rtx(p, &pkt, env->now_ms);
    return;
  }
  p = producer_for(t, &pkt);
  if (!p && (p = rtx_producer_for(t, pkt.ssrc))) {
    sb_producer_on_rtx(p, &pkt, env->now_ms);
    return;
  }
  if (!p) {
    sb_count(env, drop_malformed, 1);
    if (sb_ratelimit_ok(&t->log_rl, env->now_ms, 3))
      sb_warn(t->ctx, "rtp: no producer for ssrc %u pt %u", pkt.ssrc, pkt.pt);
    return;
  }
  sb_producer_on_rtp(p, &pkt, env->now_ms);
}

/* A NACK packet of 1500 bytes can name 6 375 sequence numbers; a real receiver's names a few
 * dozen. Past this many per packet the rest are ignored (and counted as over budget). */
#define SB_NACK_MAX_PER_PACKET 512

typedef struct {
  sb_consumer_t *c;
  uint64_t now_ms;
  int count;
} nack_ctx_t;

static void on_nack_seq(uint16_t seq, void *arg) {
  nack_ctx_t *n = arg;
  if (n->count++ < SB_NACK_MAX_PER_PACKET)
    sb_consumer_on_nack(n->c, seq, n->now_ms);
  else
    sb_count(n->c->env, nack_over_budget, 1);
}

/* Transport-cc feedback from a subscriber: the delay-based estimate learns from it. */
static void on_transport_feedback(sb_transport_t *t, const sb_rtcp_item_t *it) {
  sb_relay_env_t *env = t->env;
  uint64_t before = sb_bwe_estimate(&t->bwe, env->now_ms), overuses = t->bwe.overuses;
  uint64_t probes_ok = t->bwe.probes_ok;
  if (sb_bwe_on_feedback(&t->bwe, it->data, it->len, env->now_ms) != 0) {
    sb_count(env, drop_malformed, 1);
    return;
  }
  uint64_t after = sb_bwe_estimate(&t->bwe, env->now_ms);
  if (t->bwe.overuses != overuses) {
    sb_count(env, bwe_overuse, 1);
    if (sb_ratelimit_ok(&t->log_rl, env->now_ms, 5))
      sb_info(t->ctx, "bwe: delay overuse, estimate %llu -> %llu bps (acknowledged %llu)",
              (unsigned long long)before, (unsigned long long)after,
              (unsigned long long)t->bwe.acked.bps);
  }
  if (t->bwe.probes_ok != probes_ok) {
    sb_count(env, bwe_probe_ok, 1);
    sb_info(t->ctx, "bwe: probe reached its target, estimate %llu -> %llu bps",
            (unsigned long long)before, (unsigned long long)after);
  }
}

static void on_feedback(sb_transport_t *t, const sb_rtcp_item_t *it) {
  uint32_t sender, media;
  if (sb_rtcp_fb_ssrcs(it, &sender, &media) != 0)
    return;
  if (it->pt == SB_RTCP_RTPFB && it->count == SB_RTCP_RTPFB_TWCC) {
    on_transport_feedback(t, it);
    return;
  }
  if (it->pt == SB_RTCP_RTPFB && it->count == SB_RTCP_RTPFB_NACK) {
    nack_ctx_t n = {sb_transport_consumer_by_ssrc(t, media), t->env->now_ms, 0};
    if (n.c)
      sb_rtcp_nack_foreach(it, on_nack_seq, &n);
    return;
  }
  int keyframe = (it->pt == SB_RTCP_PSFB && (it->count == SB_RTCP_PSFB_PLI || it->count == SB_RTCP_PSFB_FIR));
  if (it->pt == SB_RTCP_PSFB && it->count == SB_RTCP_PSFB_FIR) {
    uint32_t ssrcs[4];
    int n = sb_rtcp_fir_entries(it, ssrcs, 4);
    if (n > 0)
      media = ssrcs[0];
  }
  if (!keyframe)
    return;
  sb_consumer_t *c = sb_transport_consumer_by_ssrc(t, media);
  if (c)
    sb_consumer_request_keyframe(c, t->env->now_ms);
}

/* Loss the subscriber reports for what the relay sends it: the worst stream counts. */
static void on_report_blocks(sb_transport_t *t, const sb_rtcp_item_t *item) {
  sb_rtcp_report_block_t rb;
  int worst = -1;
  for (int i = 0; i < item->count && sb_rtcp_report_block(item, i, &rb) == 0; i++)
    if (sb_transport_consumer_by_ssrc(t, rb.ssrc) && rb.fraction_lost > worst)
      worst = rb.fraction_lost;
  if (worst >= 0) {
    if (worst > 26 && sb_ratelimit_ok(&t->log_rl, t->env->now_ms, 5))
      sb_info(t->ctx, "rtcp: subscriber reports %d/256 lost (estimate %llu bps)", worst,
              (unsigned long long)sb_bwe_estimate(&t->bwe, t->env->now_ms));
    sb_bwe_on_loss(&t->bwe, (uint8_t)worst, t->env->now_ms);
  }
}

void sb_transport_on_rtcp(sb_transport_t *t, uint8_t *data, size_t len) {
  sb_relay_env_t *env = t->env;
  int n = (int)len;
  if (!sb_transport_can_forward(t)) {
    sb_count(env, drop_not_admitted, 1);
    return;
  }
  if (sb_srtp_unprotect_rtcp(&t->srtp, data, &n) != 0) {
    sb_count(env, drop_srtp, 1);
    return;
  }
  t->last_consent_ms = env->now_ms; /* as for SRTP */
  sb_rtcp_iter_t it;
  sb_rtcp_item_t item;
  sb_rtcp_iter_init(&it, data, (size_t)n);
  int r;
  while ((r = sb_rtcp_next(&it, &item)) == 1) {
    if (item.pt == SB_RTCP_SR) {
      sb_rtcp_sr_t sr;
      if (sb_rtcp_parse_sr(&item, &sr) == 0)
        for (int i = 0; i < t->nproducers; i++)
          if (t->producers[i]->ssrc == sr.ssrc)
            sb_producer_on_sr(t->producers[i], &sr, env->now_ms);
      on_report_blocks(t, &item);
    } else if (item.pt == SB_RTCP_RR) {
      on_report_blocks(t, &item);
    } else if (item.pt == SB_RTCP_PSFB || item.pt == SB_RTCP_RTPFB) {
      on_feedback(t, &item);
    }
  }
  if (r < 0)
    sb_count(env, drop_malformed, 1);
}

void sb_transport_send_rtcp(sb_transport_t *t, uint8_t *buf, size_t len) {
  int n = (int)len;
  if (!sb_transport_can_forward(t) || sb_srtp_protect_rtcp(&t->srtp, buf, &n) != 0)
    return;
  if (t->has_addr)
    t->env->send(t->env->arg, buf, (size_t)n, &t->path);
}

static void send_receiver_reports(sb_transport_t *t, uint64_t now_ms) {
  sb_rtcp_report_block_t blocks[SB_MAX_PRODUCERS];
  int nb = 0;
  for (int i = 0; i < t->nproducers; i++)
    if (sb_producer_report(t->producers[i], now_ms, &blocks[nb]) == 0)
      nb++;
  if (nb == 0)
    return;
  uint8_t buf[512 + SB_SRTP_MAX_TRAILER];
  int len = sb_rtcp_build_rr(buf, 512, t->rtcp_ssrc, blocks, nb);
  if (len <= 0)
    return;
  int l2 = sb_rtcp_build_sdes_cname(buf + len, 512 - (size_t)len, t->rtcp_ssrc, "switchboard");
  if (l2 > 0)
    len += l2;
  sb_transport_send_rtcp(t, buf, (size_t)len);
}

/* Sends a probe burst: copies of recent packets of a video consumer, or padding when no
 * consumer has any (its video paused). */
static void probe(sb_transport_t *t, uint64_t target_bps, uint64_t wanted_bps, uint64_t now_ms) {
  uint64_t before = sb_bwe_estimate(&t->bwe, now_ms);
  size_t bytes = sb_bwe_probe_bytes(target_bps);
  int n = 0, padding = 0;
  sb_bwe_probe_begin(&t->bwe, target_bps, wanted_bps, now_ms);
  for (int i = 0; i < t->nconsumers && n == 0; i++)
    n = sb_consumer_send_probe(t->consumers[i], bytes, now_ms);
  for (int i = 0; i < t->nconsumers && n == 0; i++)
    n = padding = sb_consumer_send_padding(t->consumers[i], bytes, now_ms);
  sb_bwe_probe_end(&t->bwe, n, now_ms);
  if (n == 0)
    return;
  sb_count(t->env, bwe_probes, 1);
  sb_info(t->ctx, "bwe: probing at %llu bps with %d %s packets (estimate %llu, wanted %llu)",
          (unsigned long long)target_bps, n, padding ? "padding" : "copied", (unsigned long long)before,
          (unsigned long long)wanted_bps);
}

/* Shares the subscriber's estimate among its consumers (relay/allocate.h; the active speaker's
 * video first) and lets simulcast consumers choose their layers from their budgets. When the
 * subscriber wants more than the estimate, the path is probed. */
static void adapt_to_estimate(sb_transport_t *t, uint64_t now_ms) {
  static _Thread_local sb_alloc_item_t items[SB_ALLOCATE_MAX];
  static _Thread_local uint64_t budget[SB_ALLOCATE_MAX];
  uint64_t est = sb_bwe_estimate(&t->bwe, now_ms), speaker = t->speaker;
  int n = t->nconsumers < SB_ALLOCATE_MAX ? t->nconsumers : SB_ALLOCATE_MAX, nsim = 0;
  for (int i = 0; i < n; i++) {
    sb_consumer_t *c = t->consumers[i];
    sb_consumer_rates(c, now_ms, &items[i].wanted_bps, &items[i].min_bps);
    items[i].simulcast = c->nlayers > 1;
    items[i].priority = speaker && c->producer_transport == speaker;
    nsim += items[i].simulcast && items[i].wanted_bps;
  }
  uint64_t wanted = sb_allocate(est, items, n, SB_SIMULCAST_UP_MARGIN_PCT, budget);
  for (int i = 0; i < t->nconsumers; i++) /* beyond SB_ALLOCATE_MAX: an equal share */
    sb_consumer_choose_layer(t->consumers[i], i < n ? budget[i] : est / (uint64_t)t->nconsumers, now_ms);
  uint64_t target; /* only layers can use what a probe finds */
  if (nsim && sb_transport_can_forward(t) && (target = sb_bwe_probe_due(&t->bwe, wanted, now_ms)))
    probe(t, target, wanted, now_ms);
}

const char *sb_transport_tick(sb_transport_t *t, uint64_t now_ms) {
  if (t->state == SB_TRANSPORT_CLOSED)
    return sb_dtls_state(t->dtls) == SB_DTLS_FAILED ? "dtls_failed" : "dtls_closed";
  if (t->state != SB_TRANSPORT_CONNECTED && now_ms - t->created_ms > SB_SETUP_TIMEOUT_MS)
    return "setup_timeout";
  if (now_ms - t->last_consent_ms > SB_CONSENT_TIMEOUT_MS)
    return "consent_expired";
  if (t->state == SB_TRANSPORT_ICE)
    sb_dtls_tick(t->dtls);
  if (sb_transport_can_forward(t))
    for (int i = 0; i < t->nproducers; i++)
      sb_producer_send_nacks(t->producers[i], now_ms);
  if (t->nconsumers && now_ms - t->last_alloc_ms >= SB_ALLOCATE_INTERVAL_MS) {
    t->last_alloc_ms = now_ms;
    adapt_to_estimate(t, now_ms);
  }
  if (t->twcc && sb_transport_can_forward(t) && now_ms - t->last_twcc_ms >= SB_TWCC_INTERVAL_MS) {
    uint8_t buf[2600 + SB_SRTP_MAX_TRAILER];
    t->last_twcc_ms = now_ms;
    int len = sb_twcc_build(t->twcc, buf, 2600, t->rtcp_ssrc, t->nproducers ? t->producers[0]->ssrc : 0);
    if (len > 0)
      sb_transport_send_rtcp(t, buf, (size_t)len);
  }
  if (t->state == SB_TRANSPORT_CONNECTED && now_ms - t->last_rr_ms >= SB_RR_INTERVAL_MS) {
    t->last_rr_ms = now_ms;
    send_receiver_reports(t, now_ms);
    for (int i = 0; i < t->nproducers; i++)
      if (t->producers[i]->pli_pending)
        sb_producer_request_keyframe(t->producers[i], now_ms);
  }
  return NULL;
}

int sb_transport_add_consumer(sb_transport_t *t, sb_consumer_t *c) {
  sb_consumer_t **n = sb_grow(t->consumers, &t->capconsumers, (size_t)t->nconsumers + 1, sizeof *n, 8);
  if (!n)
    return -1;
  t->consumers = n;
  t->consumers[t->nconsumers++] = c;
  return 0;
}

void sb_transport_remove_consumer(sb_transport_t *t, sb_consumer_t *c) {
  for (int i = 0; i < t->nconsumers; i++)
    if (t->consumers[i] == c) {
      t->consumers[i] = t->consumers[--t->nconsumers];
      return;
    }
}

sb_consumer_t *sb_transport_find_consumer(sb_transport_t *t, uint64_t id) {
  for (int i = 0; i < t->nconsumers; i++)
    if (t->consumers[i]->id == id)
      return t->consumers[i];
  return NULL;
}

sb_consumer_t *sb_transport_consumer_by_ssrc(sb_transport_t *t, uint32_t ssrc) {
  for (int i = 0; i < t->nconsumers; i++)
    if (t->consumers[i]->ssrc == ssrc)
      return t->consumers[i];
  return NULL;
}

int sb_transport_rtx_allow(sb_transport_t *t, size_t bytes, uint64_t now_ms) {
  uint64_t rate = sb_bwe_estimate(&t->bwe, now_ms) * SB_RTX_BUDGET_PCT / 100 / 8; /* bytes/s */
  uint64_t cap = rate / 2 > 3000 ? rate / 2 : 3000; /* half a second's worth, two packets at least */
  if (!t->rtx_refill_ms)
    t->rtx_tokens = cap;
  else
    t->rtx_tokens += rate * (now_ms - t->rtx_refill_ms) / 1000;
  t->rtx_refill_ms = now_ms;
  if (t->rtx_tokens > cap)
    t->rtx_tokens = cap;
  if (t->rtx_tokens < bytes)
    return 0;
  t->rtx_tokens -= bytes;
  return 1;
}

uint32_t sb_transport_loudness(const sb_transport_t *t, uint64_t now_ms) {
  uint32_t max = 0;
  for (int i = 0; i < t->nproducers; i++) {
    uint32_t l = sb_producer_loudness(t->producers[i], now_ms);
    if (l > max)
      max = l;
  }
  return max;
}

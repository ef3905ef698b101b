#include "relay/consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/vp8.h"
#include "common/util.h"

/* What the transport-wide send history counts for SRTP's tag: 10 bytes (AES-CM HMAC-SHA1-80;
 * GCM's is 16). */
#define SB_SRTP_TAG_COUNTED 10

sb_consumer_t *sb_consumer_create(sb_transport_t *sub, const sb_cmd_t *cmd, sb_producer_t *const *layers) {
  int nlayers = cmd->u.consumer.nlayers > 1 ? cmd->u.consumer.nlayers : 1;
  if (nlayers > SB_SIMULCAST_MAX_LAYERS)
    return NULL;
  sb_producer_t *p = layers[0];
  sb_consumer_t *c = sb_calloc_lines(sizeof *c);
  if (!c)
    return NULL;
  c->id = cmd->u.consumer.consumer;
  c->env = sub->env;
  c->transport = sub;
  c->producer = p;
  c->producer_transport = cmd->u.consumer.producer_transport;
  c->producer_id = cmd->u.consumer.producer_id;
  c->kind = p->spec.kind;
  c->ssrc = cmd->u.consumer.ssrc;
  c->pt = cmd->u.consumer.pt;
  c->rtx_ssrc = cmd->u.consumer.rtx_ssrc;
  c->rtx_pt = cmd->u.consumer.rtx_pt;
  c->rtx_seq = (uint16_t)sb_random_u32();
  snprintf(c->mid, sizeof c->mid, "%s", cmd->u.consumer.mid);
  c->midlen = (uint8_t)strlen(c->mid);
  c->paused = cmd->u.consumer.paused;
  /* Random initial sequence number and timestamp (RFC 3550 §5.1). */
  c->last_seq = (uint16_t)sb_random_u32();
  c->last_ts = sb_random_u32();
  if (nlayers > 1) {
    c->nlayers = nlayers;
    sb_simulcast_chooser_init(&c->chooser, NULL);
    sb_simulcast_switch_init(&c->sw);
    sb_simulcast_switch_set_target(&c->sw, 0); /* start small: a quick first frame */
    sb_seq_rewriter_init(&c->rw, 90000, c->last_seq, c->last_ts);
    sb_vp8_munger_init(&c->munger);
  }
  /* Attached one by one, so that a failure leaves destroy exactly the layers to detach. */
  if (c->nlayers) {
    for (int i = 0; i < nlayers; i++) {
      if (sb_producer_attach(layers[i], c) != 0)
        goto Fail;
      c->layers[i] = layers[i];
    }
  } else if (sb_producer_attach(p, c) != 0) {
    c->producer = NULL;
    goto Fail;
  }
  return c;
Fail:
  sb_consumer_destroy(c);
  return NULL;
}

void sb_consumer_forget(sb_consumer_t *c, const sb_producer_t *p) {
  if (c->producer == p)
    c->producer = NULL;
  for (int i = 0; i < c->nlayers; i++)
    if (c->layers[i] == p)
      c->layers[i] = NULL;
}

void sb_consumer_destroy(sb_consumer_t *c) {
  if (!c)
    return;
  if (c->nlayers) {
    for (int i = 0; i < c->nlayers; i++)
      if (c->layers[i])
        sb_producer_detach(c->layers[i], c);
  } else if (c->producer) {
    sb_producer_detach(c->producer, c);
  }
  free(c);
}

void sb_consumer_request_keyframe(sb_consumer_t *c, uint64_t now_ms) {
  sb_producer_t *p = c->producer;
  if (c->nlayers) {
    int l = c->sw.current >= 0 ? c->sw.current : c->sw.target;
    p = l >= 0 && l < c->nlayers ? c->layers[l] : NULL;
  }
  if (p)
    sb_producer_request_keyframe(p, now_ms);
}

void sb_consumer_resume(sb_consumer_t *c, uint64_t now_ms) {
  c->paused = 0;
  if (c->kind == SB_KIND_VIDEO)
    sb_consumer_request_keyframe(c, now_ms);
}

/* Video starts at a keyframe, so the subscriber's decoder never sees a delta frame first. */
static int can_start(sb_consumer_t *c, const sb_vp8_desc_t *vp8, uint64_t now_ms) {
  if (c->kind != SB_KIND_VIDEO || (vp8 && vp8->is_keyframe))
    return 1;
  sb_consumer_request_keyframe(c, now_ms);
  return 0;
}

/* What forwarding to `c` touches first: the consumer's second line and, of its subscriber's
 * transport, the first line, the path's head and the estimate's send side. The consumer's first
 * line must be on its way already. */
static void prefetch_lines(const sb_consumer_t *c) {
  const sb_transport_t *t = c->transport;
  __builtin_prefetch((const char *)c + SB_CACHE_LINE);
  __builtin_prefetch(t);
  __builtin_prefetch(&t->path);
  __builtin_prefetch(&t->bwe);
}

/* What those lines point to: the outbound SRTP session and the send history's next entry. */
static void prefetch_targets(const sb_consumer_t *c) {
  const sb_transport_t *t = c->transport;
  if (t->srtp.out)
    __builtin_prefetch(t->srtp.out);
  if (t->bwe.history)
    __builtin_prefetch(&t->bwe.history[t->bwe.next_seq & (SB_BWE_HISTORY - 1)], 1);
}

/* Writes the subscriber's header extensions (those of `info`'s packet that the subscriber
 * negotiated too; info NULL for padding); *twcc_at gets the offset (from `out`) of the
 * transport-wide sequence number, filled in once the packet is sure to go, or 0. */
static size_t write_extensions(sb_consumer_t *c, const sb_pkt_info_t *info, uint8_t *out, size_t cap,
                               size_t *twcc_at) {
  const sb_ext_ids_t *ox = &c->transport->ext;
  static const uint8_t zero[2];
  sb_rtp_ext_writer_t wr;
  sb_rtp_ext_init(&wr, out, cap);
  *twcc_at = 0;
  if (ox->mid && c->midlen)
    sb_rtp_ext_add(&wr, ox->mid, c->mid, c->midlen);
  if (ox->twcc && c->transport->bwe.history && sb_rtp_ext_add(&wr, ox->twcc, zero, 2) == 0)
    *twcc_at = SB_RTP_EXT_HEADER_SIZE + wr.len - 2; /* the value's offset, after the block header */
  if (info && ox->audio_level && info->audio_level)
    sb_rtp_ext_add(&wr, ox->audio_level, info->audio_level, info->audio_level_len);
  if (info && ox->send_time && info->send_time)
    sb_rtp_ext_add(&wr, ox->send_time, info->send_time, info->send_time_len);
  int n = sb_rtp_ext_finish(&wr);
  return n > 0 ? (size_t)n : 0;
}

/* Finishes a packet in the worker's held send slot `out` (plaintext, `len` bytes): stamps the
 * transport-wide sequence number at `twcc_at` (0: none) and protects it. Returns the protected
 * length, or -1 (counted; the slot is released). */
static int seal(sb_transport_t *sub, uint8_t *out, size_t len, size_t twcc_at) {
  int n = (int)len;
  if (twcc_at)
    sb_wr16(out + SB_RTP_HEADER_SIZE + twcc_at,
            sb_bwe_on_send(&sub->bwe, len + SB_SRTP_TAG_COUNTED, sub->env->now_us));
  if (sb_srtp_protect(&sub->srtp, out, &n) != 0) {
    sb_count(sub->env, drop_srtp, 1);
    sub->env->release(sub->env->arg);
    return -1;
  }
  return n;
}

/* Tests only: a fixed share of first transmissions is dropped to exercise loss recovery. */
static int test_drop(sb_relay_env_t *env) {
  if (!env->test_drop_percent)
    return 0;
  env->drop_rng = env->drop_rng * 1664525u + 1013904223u;
  if ((env->drop_rng >> 16) % 100 >= (uint32_t)env->test_drop_percent)
    return 0;
  sb_count(env, test_dropped, 1);
  return 1;
}

/* Single-layer mapping: a fixed offset set at the first (key)frame. 0 or -1 (not yet). */
static int map_single(sb_consumer_t *c, const sb_rtp_packet_t *pkt, const sb_vp8_desc_t *vp8,
                      uint64_t now_ms, int retransmission, uint16_t *seq, uint32_t *ts) {
  if (!c->synced) {
    if (retransmission || !can_start(c, vp8, now_ms))
      return -1;
    c->seq_delta = (uint16_t)(c->last_seq + 1 - pkt->seq);
    c->ts_delta = c->last_ts + 1 - pkt->ts;
    c->synced = 1;
  }
  *seq = (uint16_t)(pkt->seq + c->seq_delta);
  *ts = pkt->ts + c->ts_delta;
  return 0;
}

int sb_consumer_forward(sb_consumer_t *c, const sb_producer_t *from, const sb_rtp_packet_t *pkt,
                        const sb_pkt_info_t *info, uint64_t now_ms, int why) {
  sb_transport_t *sub = c->transport;
  sb_relay_env_t *env = c->env;
  uint16_t seq;
  uint32_t ts;
  size_t twcc_at;
  int retransmission = why != SB_FWD_MEDIA;
  if (c->paused || !sb_transport_can_forward(sub) || pkt->payload_len == 0)
    return 0;
  int as_rtx = retransmission && c->rtx_ssrc;
  uint8_t *out = env->slot(env->arg);
  size_t cap = SB_PKT_BUF - SB_SRTP_MAX_TRAILER;
  size_t ext = write_extensions(c, info, out + SB_RTP_HEADER_SIZE, cap - SB_RTP_HEADER_SIZE, &twcc_at);
  size_t body = SB_RTP_HEADER_SIZE + ext + (as_rtx ? SB_RTX_OSN_SIZE : 0);
  if (body + pkt->payload_len > cap) {
    sb_count(env, drop_malformed, 1);
    env->release(env->arg);
    return 0;
  }
  /* The payload goes into the slot first: a simulcast consumer rewrites its copy (picture ids)
   * and may still drop it, before a sequence number is spent on it. */
  memcpy(out + body, pkt->payload, pkt->payload_len);
  int mapped = c->nlayers
                   ? sb_consumer_simulcast_map(c, from, pkt, info->vp8, retransmission, now_ms, out + body, &seq, &ts)
                   : map_single(c, pkt, info->vp8, now_ms, retransmission, &seq, &ts);
  if (mapped != 0) {
    env->release(env->arg); /* not committed: the slot is reused by the next packet */
    return 0;
  }
  if (as_rtx) {
    sb_rtp_write_fixed(out, pkt->marker, c->rtx_pt, c->rtx_seq++, ts, c->rtx_ssrc, ext > 0);
    sb_wr16(out + SB_RTP_HEADER_SIZE + ext, seq); /* RFC 4588 §4: the original sequence number first */
  } else {
    sb_rtp_write_fixed(out, pkt->marker, c->pt, seq, ts, c->ssrc, ext > 0);
  }
  int len = seal(sub, out, body + pkt->payload_len, twcc_at);
  if (len < 0)
    return 0;
  if (!retransmission && sb_seq_lt(c->last_seq, seq))
    c->last_seq = seq, c->last_ts = ts;
  c->packets++;
  c->bytes += pkt->payload_len;
  if (why == SB_FWD_NACK)
    sb_count(env, rtp_retransmitted, 1);
  else if (why == SB_FWD_PROBE)
    sb_count(env, probe_packets, 1);
  else
    sb_count(env, rtp_forwarded, 1);
  if (!retransmission && test_drop(env)) {
    env->release(env->arg);
    return 1; /* counted as sent: it is lost on the way */
  }
  sub->tx_bytes += (uint64_t)len;
  if (!sub->first_media_ms)
    sub->first_media_ms = env->now_ms ? env->now_ms : 1;
  env->commit(env->arg, (size_t)len, &sub->path);
  return 1;
}

void sb_consumer_fan_out(sb_consumer_t *const *cs, int n, const sb_producer_t *from,
                         const sb_rtp_packet_t *pkt, const sb_pkt_info_t *info, uint64_t now_ms) {
  for (int i = 0; i < n; i++)
    __builtin_prefetch(cs[i]);
  for (int i = -2; i < n; i++) {
    if (i + 2 < n)
      prefetch_lines(cs[i + 2]);
    if (i + 1 >= 0 && i + 1 < n)
      prefetch_targets(cs[i + 1]);
    if (i >= 0)
      sb_consumer_forward(cs[i], from, pkt, info, now_ms, SB_FWD_MEDIA);
  }
}

/* Sends output packet `seq` again from the producer's buffer; returns its payload size, or 0
 * if it was not sent (no longer there, over the budget, from a layer left behind). */
static size_t resend(sb_consumer_t *c, uint16_t seq, uint64_t now_ms, int why) {
  const uint8_t *data;
  sb_rtp_packet_t pkt;
  sb_producer_t *p = c->producer;
  uint16_t in_seq = (uint16_t)(seq - c->seq_delta);
  if (c->nlayers)
    p = sb_consumer_simulcast_unmap(c, seq, &in_seq);
  else if (!c->synced)
    return 0;
  if (!p || !p->rtx)
    return 0;
  int len = sb_rtx_buffer_get(p->rtx, in_seq, now_ms, &data);
  if (len <= 0)
    return 0;
  /* The stored copy is parsed where it lies; forwarding copies it into a send slot. */
  if (sb_rtp_parse((uint8_t *)data, (size_t)len, &pkt) != 0)
    return 0;
  if (why == SB_FWD_NACK && !sb_transport_rtx_allow(c->transport, (size_t)len, now_ms)) {
    sb_count(c->env, nack_over_budget, 1);
    return 0;
  }
  sb_pkt_info_t info;
  sb_producer_packet_info(p, &pkt, &info);
  return sb_consumer_forward(c, p, &pkt, &info, now_ms, why) ? pkt.payload_len : 0;
}

void sb_consumer_on_nack(sb_consumer_t *c, uint16_t seq, uint64_t now_ms) {
  sb_count(c->env, nack_received, 1);
  resend(c, seq, now_ms, SB_FWD_NACK);
}

int sb_consumer_send_probe(sb_consumer_t *c, size_t bytes, uint64_t now_ms) {
  size_t sent_bytes = 0;
  int n = 0;
  if (c->kind != SB_KIND_VIDEO || !c->rtx_ssrc || c->paused ||
      (c->nlayers ? c->sw.current < 0 : !c->synced))
    return 0;
  /* Oldest first, so the subscriber's RTX stream sees them in order. */
  uint16_t seq = (uint16_t)(c->last_seq - SB_BWE_PROBE_MAX_PACKETS + 1);
  for (int i = 0; i < SB_BWE_PROBE_MAX_PACKETS && sent_bytes < bytes; i++, seq++) {
    size_t len = resend(c, seq, now_ms, SB_FWD_PROBE);
    if (len) {
      sent_bytes += len;
      n++;
    }
  }
  return n;
}

int sb_consumer_send_padding(sb_consumer_t *c, size_t bytes, uint64_t now_ms) {
  sb_transport_t *sub = c->transport;
  sb_relay_env_t *env = c->env;
  size_t twcc_at, sent_bytes = 0;
  int n = 0;
  (void)now_ms;
  if (c->kind != SB_KIND_VIDEO || !c->rtx_ssrc || !sb_transport_can_forward(sub))
    return 0;
  while (n < SB_CONSUMER_PADDING_MAX_PACKETS && sent_bytes < bytes) {
    uint8_t *out = env->slot(env->arg);
    size_t ext = write_extensions(c, NULL, out + SB_RTP_HEADER_SIZE,
                                  SB_PKT_BUF - SB_SRTP_MAX_TRAILER - SB_RTP_HEADER_SIZE, &twcc_at);
    size_t body = SB_RTP_HEADER_SIZE + ext;
    /* RFC 3550 §5.1: padding only; its last byte counts the padding bytes. */
    sb_rtp_write_fixed(out, 0, c->rtx_pt, c->rtx_seq++, c->last_ts, c->rtx_ssrc, ext > 0);
    out[0] |= 0x20;
    memset(out + body, 0, SB_CONSUMER_PADDING_SIZE - 1);
    out[body + SB_CONSUMER_PADDING_SIZE - 1] = SB_CONSUMER_PADDING_SIZE;
    int len = seal(sub, out, body + SB_CONSUMER_PADDING_SIZE, twcc_at);
    if (len < 0)
      break;
    sb_count(env, probe_packets, 1);
    sent_bytes += (size_t)len;
    n++;
    env->commit(env->arg, (size_t)len, &sub->path);
  }
  return n;
}

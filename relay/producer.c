#include "relay/producer.h"

#include <stdlib.h>
#include <string.h>

#include "codec/vp8.h"
#include "common/util.h"
#include "relay/consumer.h"

#define SB_MAX_DROPOUT 3000
#define SB_MAX_MISORDER 100

sb_producer_t *sb_producer_create(sb_relay_env_t *env, const sb_producer_listener_t *listener,
                                  const sb_producer_spec_t *spec, const sb_ext_ids_t *ext, uint32_t rtcp_ssrc) {
  sb_producer_t *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->env = env;
  p->listener = *listener;
  p->ext = *ext;
  p->rtcp_ssrc = rtcp_ssrc;
  p->spec = *spec;
  p->ssrc = spec->ssrc;
  if (spec->kind == SB_KIND_VIDEO) {
    sb_rtx_buffer_config_t rc = {.slots = SB_RTX_SLOTS, .slot_size = SB_RTX_SLOT_SIZE, .max_age_ms = 1000,
                                 .min_bytes = SB_RTX_MIN_BYTES, .max_bytes = SB_RTX_MAX_BYTES};
    p->nack = malloc(sizeof *p->nack);
    p->rtx = sb_rtx_buffer_create(&rc);
    if (!p->nack || !p->rtx) {
      sb_producer_destroy(p);
      return NULL;
    }
    sb_nack_gen_init(p->nack, NULL);
  }
  return p;
}

void sb_producer_destroy(sb_producer_t *p) {
  if (!p)
    return;
  for (int i = 0; i < p->nconsumers; i++)
    sb_consumer_forget(p->consumers[i], p);
  free(p->consumers);
  free(p->nack);
  sb_rtx_buffer_destroy(p->rtx);
  free(p);
}

int sb_producer_attach(sb_producer_t *p, sb_consumer_t *c) {
  sb_consumer_t **n = sb_grow(p->consumers, &p->capconsumers, (size_t)p->nconsumers + 1, sizeof *n, 4);
  if (!n)
    return -1;
  p->consumers = n;
  p->consumers[p->nconsumers++] = c;
  return 0;
}

void sb_producer_detach(sb_producer_t *p, sb_consumer_t *c) {
  for (int i = 0; i < p->nconsumers; i++)
    if (p->consumers[i] == c) {
      p->consumers[i] = p->consumers[--p->nconsumers];
      break;
    }
  sb_consumer_forget(c, p);
}

/* RFC 3550 A.1: sequence number tracking with wrap-around cycles. */
static void update_seq(sb_rx_stats_t *s, uint16_t seq) {
  if (!s->started) {
    s->started = 1;
    s->base_seq = seq;
    s->max_seq = seq;
    s->received = 1;
    return;
  }
  uint16_t delta = (uint16_t)(seq - s->max_seq);
  if (delta < SB_MAX_DROPOUT) {
    if (seq < s->max_seq)
      s->cycles += 1u << 16;
    s->max_seq = seq;
  } else if (delta > (uint16_t)(65536 - SB_MAX_MISORDER)) {
    /* reordered: counted, max unchanged */
  } else {
    /* A large jump: the sender restarted; start over from here. */
    s->base_seq = seq;
    s->max_seq = seq;
    s->cycles = 0;
    s->received = 0;
    s->expected_prior = s->received_prior = 0;
  }
  s->received++;
}

/* RFC 3550 A.8 interarrival jitter, in RTP timestamp units scaled by 16. */
static void update_jitter(sb_rx_stats_t *s, uint32_t rtp_ts, uint64_t now_ms, uint32_t clock) {
  int64_t arrival = (int64_t)(now_ms * (clock / 1000u));
  int64_t transit = arrival - (int64_t)rtp_ts;
  if (s->last_transit != 0) {
    int64_t d = transit - s->last_transit;
    if (d < 0)
      d = -d;
    s->jitter_q4 += (uint32_t)(d - ((s->jitter_q4 + 8) >> 4));
  }
  s->last_transit = transit;
}

void sb_producer_on_rtp(sb_producer_t *p, sb_rtp_packet_t *pkt, uint64_t now_ms) {
  p->packets++;
  p->bytes += pkt->payload_len;
  update_seq(&p->rx, pkt->seq);
  update_jitter(&p->rx, pkt->ts, now_ms, p->spec.clock ? p->spec.clock : 90000);
  if (p->paused)
    return;
  p->last_packet_ms = now_ms;
  p->rate_bytes += pkt->len;
  if (now_ms - p->rate_start_ms >= 1000) {
    p->bitrate_bps = (uint32_t)(p->rate_bytes * 8000 / (now_ms - p->rate_start_ms + 1));
    p->rate_bytes = 0;
    p->rate_start_ms = now_ms;
  }
  sb_pkt_info_t info;
  sb_producer_packet_info(p, pkt, &info);
  if (p->spec.kind == SB_KIND_AUDIO && info.audio_level)
    sb_level_update(&p->level, info.audio_level[0] & 0x7f, now_ms);
  if (p->nack) {
    sb_nack_event_t ev = sb_nack_gen_received(p->nack, pkt->seq, now_ms);
    if (ev == SB_NACK_LATE)
      return; /* a duplicate (both the original and its retransmission arrived) */
    sb_rtx_buffer_put(p->rtx, pkt->seq, pkt->data, pkt->len, now_ms);
  }
  if (info.vp8 && info.vp8->is_keyframe && info.vp8->width)
    p->width = info.vp8->width, p->height = info.vp8->height;
  sb_consumer_fan_out(p->consumers, p->nconsumers, p, pkt, &info, now_ms);
}

void sb_producer_packet_info(const sb_producer_t *p, const sb_rtp_packet_t *pkt, sb_pkt_info_t *out) {
  const sb_ext_ids_t *ext = &p->ext;
  int n;
  out->vp8 = NULL;
  out->audio_level = out->send_time = NULL;
  out->audio_level_len = out->send_time_len = 0;
  /* The VP8 descriptor: keyframe gating, layer switching, picture id rewriting. */
  if (p->spec.kind == SB_KIND_VIDEO && sb_vp8_parse(pkt->payload, pkt->payload_len, &out->vp8_desc) >= 0)
    out->vp8 = &out->vp8_desc;
  if (ext->audio_level && (n = sb_rtp_find_ext(pkt, ext->audio_level, &out->audio_level)) > 0)
    out->audio_level_len = (uint8_t)n;
  else
    out->audio_level = NULL;
  if (ext->send_time && (n = sb_rtp_find_ext(pkt, ext->send_time, &out->send_time)) > 0)
    out->send_time_len = (uint8_t)n;
  else
    out->send_time = NULL;
}

void sb_producer_on_rtx(sb_producer_t *p, sb_rtp_packet_t *pkt, uint64_t now_ms) {
  if (pkt->payload_len < SB_RTX_OSN_SIZE || !p->nack)
    return;
  /* RFC 4588 §4: the payload starts with the original sequence number. Move the header over
   * it and restore the original SSRC, payload type and sequence number in place. */
  uint16_t osn = sb_rd16(pkt->payload);
  memmove(pkt->data + SB_RTX_OSN_SIZE, pkt->data, pkt->header_len);
  uint8_t *d = pkt->data + SB_RTX_OSN_SIZE;
  d[1] = (uint8_t)((d[1] & 0x80) | (p->spec.pt & 0x7f));
  sb_wr16(d + 2, osn); /* the header's sequence number field */
  sb_wr32(d + 8, p->ssrc);
  sb_rtp_packet_t orig;
  if (sb_rtp_parse(d, pkt->len - SB_RTX_OSN_SIZE, &orig) != 0)
    return;
  sb_count(p->env, rtx_recovered, 1);
  sb_producer_on_rtp(p, &orig, now_ms);
}

int sb_producer_send_nacks(sb_producer_t *p, uint64_t now_ms) {
  uint16_t seqs[64];
  if (!p->nack || p->ssrc == 0)
    return 0;
  if (sb_nack_gen_take_keyframe_request(p->nack))
    sb_producer_request_keyframe(p, now_ms);
  int n = sb_nack_gen_poll(p->nack, now_ms, seqs, 64);
  if (n <= 0)
    return 0;
  uint8_t buf[512 + SB_SRTP_MAX_TRAILER];
  int len = sb_rtcp_build_nack(buf, 512, p->rtcp_ssrc, p->ssrc, seqs, n);
  if (len > 0) {
    p->listener.send_rtcp(p->listener.arg, buf, (size_t)len);
    sb_count(p->env, nack_sent, n);
  }
  return n;
}

void sb_producer_on_sr(sb_producer_t *p, const sb_rtcp_sr_t *sr, uint64_t now_ms) {
  p->rx.last_sr_mid = sb_ntp_mid32(sr->ntp);
  p->rx.last_sr_ms = now_ms;
}

void sb_producer_request_keyframe(sb_producer_t *p, uint64_t now_ms) {
  if (p->spec.kind != SB_KIND_VIDEO || p->ssrc == 0)
    return;
  if (p->last_pli_ms && now_ms - p->last_pli_ms < SB_PLI_INTERVAL_MS) {
    p->pli_pending = 1; /* sent by the transport's tick once the interval has passed */
    return;
  }
  uint8_t buf[64 + SB_SRTP_MAX_TRAILER];
  int len = sb_rtcp_build_pli(buf, 64, p->rtcp_ssrc, p->ssrc);
  if (len <= 0)
    return;
  p->last_pli_ms = now_ms;
  p->pli_pending = 0;
  p->listener.send_rtcp(p->listener.arg, buf, (size_t)len);
}

uint32_t sb_producer_loudness(const sb_producer_t *p, uint64_t now_ms) {
  return p->spec.kind == SB_KIND_AUDIO && !p->paused ? sb_level_loudness(&p->level, now_ms) : 0;
}

int sb_producer_report(sb_producer_t *p, uint64_t now_ms, sb_rtcp_report_block_t *out) {
  sb_rx_stats_t *s = &p->rx;
  if (!s->started || p->ssrc == 0)
    return -1;
  uint32_t ext_max = s->cycles + s->max_seq;
  uint32_t expected = ext_max - s->base_seq + 1;
  int64_t lost = (int64_t)expected - (int64_t)s->received;
  uint32_t expected_interval = expected - s->expected_prior;
  uint32_t received_interval = s->received - s->received_prior;
  int64_t lost_interval = (int64_t)expected_interval - (int64_t)received_interval;
  s->expected_prior = expected;
  s->received_prior = s->received;
  memset(out, 0, sizeof *out);
  out->ssrc = p->ssrc;
  out->fraction_lost = (expected_interval == 0 || lost_interval <= 0)
                           ? 0
                           : (uint8_t)((lost_interval << 8) / expected_interval);
  if (lost > 0x7fffff)
    lost = 0x7fffff;
  if (lost < -0x800000)
    lost = -0x800000;
  out->cumulative_lost = (int32_t)lost;
  out->highest_seq = ext_max;
  out->jitter = s->jitter_q4 >> 4;
  if (s->last_sr_ms) {
    out->lsr = s->last_sr_mid;
    out->dlsr = (uint32_t)((now_ms - s->last_sr_ms) * 65536 / 1000);
  }
  return 0;
}

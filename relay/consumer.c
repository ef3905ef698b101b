#include "relay/consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/vp8.h"
#include "common/util.h"

sb_consumer_t *sb_consumer_create(sb_transport_t *sub, const sb_cmd_t *cmd) {
  sb_worker_t *w = sub->worker;
  sb_transport_t *pub = sb_worker_find_transport(w, cmd->u.consumer.producer_transport);
  if (!pub || cmd->u.consumer.producer_id >= (uint32_t)pub->nproducers)
    return NULL;
  sb_producer_t *p = pub->producers[cmd->u.consumer.producer_id];
  sb_consumer_t *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->id = cmd->u.consumer.consumer;
  c->transport = sub;
  c->producer_transport = pub->id;
  c->producer_id = cmd->u.consumer.producer_id;
  c->kind = p->spec.kind;
  c->ssrc = cmd->u.consumer.ssrc;
  c->pt = cmd->u.consumer.pt;
  snprintf(c->mid, sizeof c->mid, "%s", cmd->u.consumer.mid);
  c->midlen = (uint8_t)strlen(c->mid);
  c->paused = cmd->u.consumer.paused;
  /* Random initial sequence number and timestamp (RFC 3550 §5.1). */
  c->last_seq = (uint16_t)sb_random_u32();
  c->last_ts = sb_random_u32();
  if (sb_producer_attach(p, c) != 0) {
    free(c);
    return NULL;
  }
  return c;
}

void sb_consumer_destroy(sb_consumer_t *c) {
  if (!c)
    return;
  if (c->producer)
    sb_producer_detach(c->producer, c);
  free(c);
}

void sb_consumer_resume(sb_consumer_t *c, uint64_t now_ms) {
  c->paused = 0;
  if (c->producer && c->kind == SB_KIND_VIDEO)
    sb_producer_request_keyframe(c->producer, now_ms);
}

/* Video starts at a keyframe, so the subscriber's decoder never sees a delta frame first. */
static int can_start(sb_consumer_t *c, const sb_rtp_packet_t *pkt, uint64_t now_ms) {
  if (c->kind != SB_KIND_VIDEO)
    return 1;
  sb_vp8_desc_t d;
  if (sb_vp8_parse(pkt->payload, pkt->payload_len, &d) >= 0 && d.is_keyframe)
    return 1;
  sb_producer_request_keyframe(c->producer, now_ms);
  return 0;
}

static size_t write_extensions(sb_consumer_t *c, const sb_rtp_packet_t *pkt, uint8_t *out, size_t cap) {
  const sb_ext_ids_t *in = &c->producer->transport->ext, *ox = &c->transport->ext;
  sb_rtp_ext_writer_t wr;
  const uint8_t *val;
  int n;
  sb_rtp_ext_init(&wr, out, cap);
  if (ox->mid && c->midlen)
    sb_rtp_ext_add(&wr, ox->mid, c->mid, c->midlen);
  if (ox->audio_level && in->audio_level && (n = sb_rtp_find_ext(pkt, in->audio_level, &val)) > 0)
    sb_rtp_ext_add(&wr, ox->audio_level, val, (size_t)n);
  if (ox->send_time && in->send_time && (n = sb_rtp_find_ext(pkt, in->send_time, &val)) > 0)
    sb_rtp_ext_add(&wr, ox->send_time, val, (size_t)n);
  n = sb_rtp_ext_finish(&wr);
  return n > 0 ? (size_t)n : 0;
}

void sb_consumer_forward(sb_consumer_t *c, const sb_rtp_packet_t *pkt, uint64_t now_ms) {
  sb_transport_t *sub = c->transport;
  sb_worker_t *w = sub->worker;
  if (c->paused || !sb_transport_can_forward(sub) || pkt->payload_len == 0)
    return;
  if (!c->synced) {
    if (!can_start(c, pkt, now_ms))
      return;
    c->seq_delta = (uint16_t)(c->last_seq + 1 - pkt->seq);
    c->ts_delta = c->last_ts + 1 - pkt->ts;
    c->synced = 1;
  }
  uint16_t seq = (uint16_t)(pkt->seq + c->seq_delta);
  uint32_t ts = pkt->ts + c->ts_delta;
  uint8_t *out = sb_worker_slot(w);
  size_t cap = SB_PKT_BUF - SB_SRTP_MAX_TRAILER;
  size_t ext = write_extensions(c, pkt, out + 12, cap - 12);
  if (12 + ext + pkt->payload_len > cap) {
    w->stats.drop_malformed++;
    return;
  }
  sb_rtp_write_fixed(out, pkt->marker, c->pt, seq, ts, c->ssrc, ext > 0);
  memcpy(out + 12 + ext, pkt->payload, pkt->payload_len);
  int len = (int)(12 + ext + pkt->payload_len);
  if (sb_srtp_protect(sub->srtp, out, &len) != 0) {
    w->stats.drop_srtp++;
    return;
  }
  if (sb_seq_lt(c->last_seq, seq))
    c->last_seq = seq, c->last_ts = ts;
  c->packets++;
  c->bytes += pkt->payload_len;
  w->stats.rtp_forwarded++;
  sb_worker_commit(w, (size_t)len, &sub->addr, sub->addrlen);
}

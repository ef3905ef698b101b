/* The simulcast half of a consumer: layer choice, keyframe-aligned switching, and continuous
 * sequence numbers, timestamps and VP8 picture ids across switches (codec/simulcast.c,
 * relay/seq_rewriter.c, codec/vp8_munger.c do the work; this file wires them). */
#include <stdint.h>
#include <stdio.h>

#include "codec/vp8.h"
#include "common/log.h"
#include "common/util.h"
#include "relay/consumer.h"

static void layer_info(const sb_consumer_t *c, sb_simulcast_layer_t *layers, uint64_t now_ms) {
  for (int i = 0; i < c->nlayers; i++) {
    const sb_producer_t *p = c->layers[i];
    layers[i].active = p && p->last_packet_ms && now_ms - p->last_packet_ms < 1000;
    layers[i].bitrate_bps = p ? p->bitrate_bps : 0;
    layers[i].width = p ? p->width : 0;
    layers[i].height = p ? p->height : 0;
  }
}

void sb_consumer_rates(const sb_consumer_t *c, uint64_t now_ms, uint64_t *wanted_bps, uint64_t *min_bps) {
  sb_simulcast_layer_t layers[SB_SIMULCAST_MAX_LAYERS];
  *wanted_bps = *min_bps = 0;
  if (c->paused)
    return;
  if (c->nlayers < 2) {
    *wanted_bps = c->producer ? c->producer->bitrate_bps : 0;
    return;
  }
  layer_info(c, layers, now_ms);
  *wanted_bps = sb_simulcast_wanted_bps(layers, c->nlayers, c->transport->max_width, c->transport->max_height);
  for (int i = 0; i < c->nlayers && !*min_bps; i++)
    if (layers[i].active)
      *min_bps = layers[i].bitrate_bps;
}

void sb_consumer_choose_layer(sb_consumer_t *c, uint64_t budget_bps, uint64_t now_ms) {
  sb_simulcast_layer_t layers[SB_SIMULCAST_MAX_LAYERS];
  if (c->nlayers < 2)
    return;
  layer_info(c, layers, now_ms);
  int any = 0;
  for (int i = 0; i < c->nlayers; i++)
    any |= layers[i].active;
  if (!any)
    return; /* nothing flows yet (or at all): keep the target, rather than choose a pause that
               would then take the up-hold to leave */
  /* The subscriber's estimate and size preference pick the layer; under the lowest layer's
   * rate the chooser pauses video (audio goes on). */
  int target = sb_simulcast_choose(&c->chooser, layers, c->nlayers, budget_bps, c->transport->max_width,
                                   c->transport->max_height, now_ms);
  if (target != c->sw.target) {
    char rates[16 * SB_SIMULCAST_MAX_LAYERS] = "";
    for (int i = 0, at = 0; i < c->nlayers && at < (int)sizeof rates; i++)
      at += snprintf(rates + at, sizeof rates - (size_t)at, "%s%llu", i ? "/" : "",
                     (unsigned long long)layers[i].bitrate_bps);
    sb_info(c->transport->ctx,
            "simulcast: mid %s layer %d -> %d (budget %llu of estimate %llu bps, layers %s bps, max %ux%u)",
            c->mid, c->sw.target, target, (unsigned long long)budget_bps,
            (unsigned long long)sb_bwe_estimate(&c->transport->bwe, now_ms), rates,
            c->transport->max_width, c->transport->max_height);
    /* Going down because the current layer costs far more than the budget: stop it now rather
     * than keep overloading the path until the lower layer's keyframe comes. */
    int cur = c->sw.current;
    sb_simulcast_switch_set_target(&c->sw, target);
    if (target >= 0 && cur > target && cur < c->nlayers && layers[cur].bitrate_bps > 2 * budget_bps)
      sb_simulcast_switch_stop_current(&c->sw);
  }
}

int sb_consumer_simulcast_map(sb_consumer_t *c, const sb_producer_t *from, const sb_rtp_packet_t *pkt,
                              const sb_vp8_desc_t *vp8, int retransmission, uint64_t now_ms,
                              uint8_t *payload, uint16_t *seq, uint32_t *ts) {
  if (retransmission && from->spec.layer != c->sw.current)
    return -1; /* a layer switched away from: its pictures are of no use to the decoder now */
  if (!retransmission) {
    int r = sb_simulcast_switch_packet(&c->sw, from->spec.layer, vp8 && vp8->is_keyframe, now_ms);
    if ((r & SB_SWITCH_REQUEST_KEYFRAME) && c->sw.target >= 0 && c->sw.target < c->nlayers &&
        c->layers[c->sw.target])
      sb_producer_request_keyframe(c->layers[c->sw.target], now_ms);
    if (!(r & SB_SWITCH_FORWARD))
      return -1;
    /* A new run of output numbers, also when the layer is the one before a pause: otherwise the
     * packets skipped during the pause would read as a gap, i.e. loss to be NACKed. */
    if (r & SB_SWITCH_SWITCHED) {
      sb_seq_rewriter_switch(&c->rw);
      sb_info(c->transport->ctx, "simulcast: mid %s switched to layer %d", c->mid, from->spec.layer);
    }
  }
  /* Picture ids continue across switches; a picture from before the switch is dropped here,
   * before it takes an output sequence number (a gap would read as loss to the subscriber). */
  if (vp8 && !sb_vp8_munger_process(&c->munger, from->spec.layer, payload, vp8))
    return -1;
  return sb_seq_rewriter_rewrite(&c->rw, from->ssrc, pkt->seq, pkt->ts, now_ms * 1000, seq, ts) < 0 ? -1 : 0;
}

sb_producer_t *sb_consumer_simulcast_unmap(sb_consumer_t *c, uint16_t out_seq, uint16_t *in_seq) {
  uint32_t ssrc;
  if (sb_seq_rewriter_unmap(&c->rw, out_seq, &ssrc, in_seq, NULL) != 0)
    return NULL;
  for (int i = 0; i < c->nlayers; i++)
    if (c->layers[i] && c->layers[i]->ssrc == ssrc)
      return c->layers[i];
  return NULL;
}

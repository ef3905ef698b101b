/* A consumer is a subscriber's copy of a producer: its own SSRC, payload type, mid, sequence
 * and timestamp space. It is owned by the subscriber's transport. */
#ifndef SB_CONSUMER_H
#define SB_CONSUMER_H

#include "relay/producer.h"

struct sb_consumer {
  uint64_t id;
  sb_transport_t *transport; /* the subscriber, owner */
  sb_producer_t *producer;   /* NULL once the producer is gone */
  uint64_t producer_transport;
  uint32_t producer_id;
  sb_kind_t kind;
  uint32_t ssrc;
  uint32_t rtx_ssrc;         /* 0: retransmit on the media stream itself */
  uint8_t pt;
  uint8_t rtx_pt;
  uint16_t rtx_seq;
  char mid[32];
  uint8_t midlen;
  int paused;
  int synced;                /* output mapping established (video: at a keyframe) */
  uint16_t seq_delta;        /* out = in + delta */
  uint32_t ts_delta;
  uint16_t last_seq;
  uint32_t last_ts;
  uint64_t packets, bytes;
};

sb_consumer_t *sb_consumer_create(sb_transport_t *sub, const sb_cmd_t *cmd);
void sb_consumer_destroy(sb_consumer_t *c);
/** Starts forwarding (after the subscriber applied the description that carries it) and asks
 * the publisher for a keyframe. */
void sb_consumer_resume(sb_consumer_t *c, uint64_t now_ms);
/** Rewrites and sends one packet of its producer to the subscriber; `retransmission` sends it
 * on the RTX stream when one was negotiated (and never drops it on purpose in tests). */
void sb_consumer_forward(sb_consumer_t *c, const sb_rtp_packet_t *pkt, uint64_t now_ms, int retransmission);
/** The subscriber lost `seq` (its sequence space): resend it from the producer's buffer. */
void sb_consumer_on_nack(sb_consumer_t *c, uint16_t seq, uint64_t now_ms);

#endif

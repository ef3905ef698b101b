/* A consumer is a subscriber's copy of a producer: its own SSRC, payload type, mid, sequence
 * and timestamp space. It is owned by the subscriber's transport. A simulcast consumer listens
 * to every layer of a track and forwards one, switching at keyframes. */
#ifndef SB_CONSUMER_H
#define SB_CONSUMER_H

#include "codec/simulcast.h"
#include "codec/vp8_munger.h"
#include "relay/producer.h"
#include "relay/seq_rewriter.h"


struct sb_consumer {
  /* What forwarding a packet reads and writes, together in the first two cache lines. */
  sb_relay_env_t *env;
  sb_transport_t *transport; /* the subscriber, owner */
  uint64_t packets, bytes;
  uint32_t ssrc;
  uint32_t ts_delta;
  uint32_t last_ts;
  int paused;
  int synced;                /* output mapping established (video: at a keyframe) */
  int nlayers;               /* 0 or 1: no simulcast */
  uint16_t seq_delta;        /* out = in + delta (single-layer consumers) */
  uint16_t last_seq;
  uint8_t pt;
  uint8_t rtx_pt;
  uint8_t midlen;
  char mid[32];
  sb_kind_t kind;
  uint32_t rtx_ssrc;         /* 0: retransmit on the media stream itself */
  uint16_t rtx_seq;

  uint64_t id;
  sb_producer_t *producer;   /* the first (or only) layer; NULL once the producer is gone */
  uint64_t producer_transport;
  uint32_t producer_id;

  /* simulcast */
  sb_producer_t *layers[SB_SIMULCAST_MAX_LAYERS];
  sb_simulcast_chooser_t chooser;
  sb_simulcast_switch_t sw;
  sb_seq_rewriter_t rw;
  sb_vp8_munger_t munger;
};

/** Creates the consumer a SB_CMD_CONSUMER_ADD command describes for subscriber `sub` and
 * attaches it to `layers` (cmd->u.consumer.nlayers producers, or 1 without simulcast: the
 * producer and its simulcast layers, found by the caller). The caller adds it to `sub`. NULL on
 * failure, with nothing left attached or allocated. */
sb_consumer_t *sb_consumer_create(sb_transport_t *sub, const sb_cmd_t *cmd, sb_producer_t *const *layers);
/** Detaches from its producers and frees; accepts NULL and a half-built consumer. */
void sb_consumer_destroy(sb_consumer_t *c);
/** The producer `p` is going away: forget it. */
void sb_consumer_forget(sb_consumer_t *c, const sb_producer_t *p);
/** Starts forwarding (after the subscriber applied the description that carries it) and asks
 * the publisher for a keyframe. */
void sb_consumer_resume(sb_consumer_t *c, uint64_t now_ms);
/* Why a packet goes to the subscriber. */
enum {
  SB_FWD_MEDIA = 0,  /* first transmission */
  SB_FWD_NACK = 1,   /* asked for again by the subscriber */
  SB_FWD_PROBE = 2,  /* a copy sent again to probe the path (relay/bwe.h) */
};

/** Rewrites and sends one packet of producer `from` to the subscriber (`info`: what
 * sb_producer_packet_info found in it). `why` is an SB_FWD_*: resent packets go on the RTX stream when
 * one was negotiated (and are never dropped on purpose in tests). Every packet carries the
 * subscriber's transport-wide sequence number when transport-cc was negotiated. Returns 1 if it
 * went out, 0 if not (paused, not yet started, dropped by the simulcast switch). */
int sb_consumer_forward(sb_consumer_t *c, const sb_producer_t *from, const sb_rtp_packet_t *pkt,
                        const sb_pkt_info_t *info, uint64_t now_ms, int why);
/** Forwards a new packet of `from` to each of its `n` consumers `cs`, in order. Memory is asked
 * for ahead: every consumer's first line at once, then each one's next lines and its
 * subscriber's transport two consumers ahead and what those point to (SRTP session, send
 * history entry) one ahead, so that the loads overlap the SRTP work on the consumers before. */
void sb_consumer_fan_out(sb_consumer_t *const *cs, int n, const sb_producer_t *from,
                         const sb_rtp_packet_t *pkt, const sb_pkt_info_t *info, uint64_t now_ms);
/** The subscriber lost `seq` (its sequence space): resend it from the producer's buffer. */
void sb_consumer_on_nack(sb_consumer_t *c, uint16_t seq, uint64_t now_ms);
/** Sends the last packets this consumer forwarded again, as RTX, back to back, until about
 * `bytes` went out or SB_BWE_PROBE_MAX_PACKETS; returns how many packets. Only video consumers
 * with an RTX stream send anything. */
int sb_consumer_send_probe(sb_consumer_t *c, size_t bytes, uint64_t now_ms);

#define SB_CONSUMER_PADDING_SIZE 224
#define SB_CONSUMER_PADDING_MAX_PACKETS 40
/** Probes with padding-only packets on the RTX stream (when there is nothing recent to send
 * again, e.g. while video is paused): about `bytes`; returns how many packets. */
int sb_consumer_send_padding(sb_consumer_t *c, size_t bytes, uint64_t now_ms);
/** The subscriber asked for a keyframe: ask the layer it receives (or will receive). */
void sb_consumer_request_keyframe(sb_consumer_t *c, uint64_t now_ms);

/* consumer_simulcast.c */
/** Re-chooses the layer from the layers' sizes and rates, the subscriber's preference and
 * `budget_bps`, this consumer's share of the subscriber's estimate. */
void sb_consumer_choose_layer(sb_consumer_t *c, uint64_t budget_bps, uint64_t now_ms);
/** What this consumer would send with unlimited bandwidth (its producer's rate, or the rate of
 * the simulcast layer that fits the subscriber's size preference) and, for simulcast, the rate
 * of its lowest active layer (else 0); both 0 while paused. */
void sb_consumer_rates(const sb_consumer_t *c, uint64_t now_ms, uint64_t *wanted_bps, uint64_t *min_bps);
/** Decides whether a simulcast packet goes out, rewrites the VP8 descriptor of its copy
 * `payload` (same layout as the packet `vp8` describes) and gives its seq/timestamp: 0, or -1 to
 * drop it. */
int sb_consumer_simulcast_map(sb_consumer_t *c, const sb_producer_t *from, const sb_rtp_packet_t *pkt,
                              const sb_vp8_desc_t *vp8, int retransmission, uint64_t now_ms,
                              uint8_t *payload, uint16_t *seq, uint32_t *ts);
/** The layer and its input seq behind an output seq, for NACKs; NULL if unknown. */
sb_producer_t *sb_consumer_simulcast_unmap(sb_consumer_t *c, uint16_t out_seq, uint16_t *in_seq);

#endif

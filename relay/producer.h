/* A producer is one incoming track of a transport. It keeps receive statistics for receiver
 * reports and the fan-out list of its consumers (which it does not own; why here and not in the
 * router: docs/architecture.md). What it sends (NACK, PLI) goes up through its listener. */
#ifndef SB_PRODUCER_H
#define SB_PRODUCER_H

#include "codec/vp8.h"
#include "relay/nack.h"
#include "relay/rtcp.h"
#include "relay/rtp.h"
#include "relay/rtx_buffer.h"
#include "relay/speaker.h"
#include "relay/transport.h"

#define SB_PLI_INTERVAL_MS 1000
/* The retransmission buffer: slots for about one second of 2.5 Mbit/s video (browsers' packets
 * stay under 1200 bytes); its bytes start at 64 KiB and double whenever packets younger than the
 * second a packet is kept would be written over, up to 1 MiB (relay/rtx_buffer.h). */
#define SB_RTX_SLOTS 512
#define SB_RTX_SLOT_SIZE 1400
#define SB_RTX_MIN_BYTES (64u * 1024)
#define SB_RTX_MAX_BYTES (1024u * 1024)

typedef struct {
  uint16_t max_seq;
  uint32_t cycles;
  uint32_t base_seq;
  uint32_t received;
  uint32_t expected_prior, received_prior;
  uint32_t jitter_q4;       /* RFC 3550 A.8, scaled by 16 */
  int64_t last_transit;
  int started;
  uint32_t last_sr_mid;     /* middle 32 bits of the last SR's NTP time */
  uint64_t last_sr_ms;
} sb_rx_stats_t;

/* The producer's way up to its transport (mediasoup's Producer::Listener). */
typedef struct {
  /** Protects and sends an RTCP packet to the publisher: plaintext in `buf`, which has
   * SB_SRTP_MAX_TRAILER bytes of room after `len`. */
  void (*send_rtcp)(void *arg, uint8_t *buf, size_t len);
  void *arg;
} sb_producer_listener_t;

struct sb_producer {
  sb_relay_env_t *env;
  sb_producer_listener_t listener;
  sb_ext_ids_t ext;         /* the publisher's header extension ids */
  uint32_t rtcp_ssrc;       /* sender SSRC of the relay's RTCP to the publisher */
  sb_producer_spec_t spec;
  uint32_t ssrc;            /* learned or signaled */
  sb_consumer_t **consumers;
  int nconsumers;
  size_t capconsumers;
  sb_rx_stats_t rx;
  uint64_t packets, bytes;
  uint64_t last_pli_ms;
  int pli_pending;          /* a keyframe was asked for but rate limiting held it back */
  int paused;               /* muted by its owner: nothing is forwarded */
  sb_level_t level;         /* audio only: RFC 6464 loudness for active speaker detection */
  uint16_t width, height;   /* video: size of the last keyframe */
  uint64_t last_packet_ms;
  uint64_t rate_bytes, rate_start_ms; /* bitrate measurement window */
  uint32_t bitrate_bps;
  sb_nack_gen_t *nack;      /* video only: losses seen from the publisher */
  sb_rtx_buffer_t *rtx;     /* video only: recent packets, shared by all consumers */
};

/** Creates a producer; `env` is borrowed, `listener`, `spec` and `ext` are copied. NULL on
 * failure, with nothing left allocated. */
sb_producer_t *sb_producer_create(sb_relay_env_t *env, const sb_producer_listener_t *listener,
                                  const sb_producer_spec_t *spec, const sb_ext_ids_t *ext, uint32_t rtcp_ssrc);
/** Detaches every consumer (they stop forwarding) and frees. Accepts NULL and a half-built
 * producer. */
void sb_producer_destroy(sb_producer_t *p);

int sb_producer_attach(sb_producer_t *p, sb_consumer_t *c);
void sb_producer_detach(sb_producer_t *p, sb_consumer_t *c);

/** Handles one unprotected RTP packet: statistics, then fan-out to consumers. */
void sb_producer_on_rtp(sb_producer_t *p, sb_rtp_packet_t *pkt, uint64_t now_ms);
/* What every consumer of one packet needs from it, found once per packet rather than once per
 * consumer: the VP8 descriptor and the header extension values passed on to subscribers. */
typedef struct {
  const sb_vp8_desc_t *vp8;       /* NULL for audio, or a payload that is not valid VP8 */
  const uint8_t *audio_level;     /* RFC 6464 value, NULL if absent */
  const uint8_t *send_time;       /* the bench's send-time value, NULL if absent */
  uint8_t audio_level_len, send_time_len;
  sb_vp8_desc_t vp8_desc;         /* where vp8 points when set */
} sb_pkt_info_t;

/** Fills `out` for one packet of this producer (pointers into the packet). */
void sb_producer_packet_info(const sb_producer_t *p, const sb_rtp_packet_t *pkt, sb_pkt_info_t *out);
/** Handles an RTX packet (RFC 4588) of this producer: restores the original and handles it. */
void sb_producer_on_rtx(sb_producer_t *p, sb_rtp_packet_t *pkt, uint64_t now_ms);
/** Sends the NACKs that are due to the publisher; returns how many sequence numbers. */
int sb_producer_send_nacks(sb_producer_t *p, uint64_t now_ms);
void sb_producer_on_sr(sb_producer_t *p, const sb_rtcp_sr_t *sr, uint64_t now_ms);
/** Asks the publisher for a keyframe (PLI), at most once per SB_PLI_INTERVAL_MS. */
void sb_producer_request_keyframe(sb_producer_t *p, uint64_t now_ms);
/** Fills a receiver report block for this producer; returns 0, or -1 before any packet. */
/** Audio: the loudness of the last packets (relay/speaker.h); 0 for video or while paused. */
uint32_t sb_producer_loudness(const sb_producer_t *p, uint64_t now_ms);
int sb_producer_report(sb_producer_t *p, uint64_t now_ms, sb_rtcp_report_block_t *out);

#endif

/* One simulated participant, going through the protocol as a browser would: token ->
 * WebSocket (auth, call.join with an offer) -> ICE checks toward the ICE-lite server -> DTLS
 * client -> SRTP -> RTP/RTCP, answering the server's call.offer events to subscribe. A peer
 * lives on one worker thread; everything here runs on that thread's loop, except the few
 * atomic fields other threads read. */
#ifndef SB_BENCH_PEER_H
#define SB_BENCH_PEER_H

#include <stdatomic.h>
#include <stdint.h>
#include <netinet/in.h>

#include <uv.h>

#include "bench/clip.h"
#include "bench/conncheck.h"
#include "bench/dtlsc.h"
#include "bench/offer.h"
#include "bench/rxstats.h"
#include "bench/sig.h"
#include "bench/sizes.h"
#include "bench/srtpc.h"
#include "codec/encoder.h"
#include "relay/twcc.h"

struct sb_bench_worker;
struct sb_bench_room;

typedef enum {
  SB_PEER_IDLE = 0,  /* not started yet */
  SB_PEER_CONNECTING,/* WebSocket opening */
  SB_PEER_AUTH,      /* auth sent */
  SB_PEER_ROOM,      /* creating the room, or waiting for its creator */
  SB_PEER_JOINING,   /* call.join sent */
  SB_PEER_ICE,       /* connectivity checks */
  SB_PEER_DTLS,      /* handshake */
  SB_PEER_MEDIA,     /* SRTP up */
  SB_PEER_LEAVING,   /* call.leave sent, closing */
  SB_PEER_DONE,
  SB_PEER_FAILED,
} sb_peer_state_t;

/* A stream we publish. */
typedef struct {
  int enabled;
  uint32_t ssrc;
  uint8_t pt;
  uint16_t seq;
  uint32_t ts_base;
  uint32_t frames;          /* frames sent: the RTP timestamp and PictureID count these */
  uint32_t clip_frame;      /* next frame of the clip (restarts at 0, a keyframe, on PLI) */
  uint64_t next_us;         /* when the next frame is due */
  uint64_t period_us;
  int layer;                /* video: the clip layer it replays (0 without simulcast) */
  uint8_t tmpl[48];         /* RTP header + extension block, patched per packet */
  uint8_t tmpl_len;
  uint8_t time_off;         /* offset of the 8-byte send time in tmpl, 0 = none */
  uint8_t time_trailer;     /* the send time follows the payload instead (--target janus) */
  uint64_t packets, bytes;  /* for SR */
  uint32_t last_ts;
  uint64_t restart_after_us;/* throttles keyframe requests */
  uint64_t keyframe_requests;
  uint64_t nacks;
} sb_tx_stream_t;

/* A stream the relay sends us. */
typedef struct {
  sb_bench_offered_t o;     /* from the server's offer */
  sb_rxstats_t st;
  uint64_t lat_count, lat_sum_ns, lat_max_ns;
  uint64_t first_us, last_us;
  uint64_t no_time_ext;     /* packets without a send time */
  uint32_t sr_lsr;          /* middle of the last SR's NTP time, for report blocks */
  uint64_t sr_at_us;
  uint64_t last_expected, last_received; /* at the previous report block */
  /* decoding check (video, sampled receivers only) */
  sb_vp8_decoder_t *dec;
  int dec_need_key;         /* nothing decodable until a keyframe */
  int dec_broken;           /* a packet of the current frame went missing */
  int dec_in_frame;         /* between a frame's first packet and its marker */
  int dec_skip;             /* the current frame is not fed to the decoder */
  int dec_have_seq;
  uint16_t dec_next_seq;
  int dec_have_ts;
  uint32_t dec_first_ts, dec_last_ts;
  uint64_t frames_decoded, frames_corrupt, frames_skipped, frames_incomplete;
  uint64_t pli_sent, last_pli_us;
  uint64_t undecodable;     /* payloads the depacketizer or libvpx refused */
  /* frame sizes in the measured window: of every frame, from the last keyframe header (every
   * video stream), and of decoded pictures as libvpx reports them (decoded streams only) */
  uint16_t cur_width, cur_height;
  sb_bench_sizes_t sizes;
  uint64_t frames_unknown_size; /* window frames before the stream's first keyframe */
  sb_bench_sizes_t dec_sizes;
} sb_rx_stream_t;

#define SB_PEER_MAX_RX 512
#define SB_PEER_MAX_REDIRECTS 3 /* as web/switchboard.js: the lease may move during a join */

typedef struct sb_bench_peer {
  int index;
  struct sb_bench_worker *w;
  struct sb_bench_room *room;
  char user[48];
  char room_id[80];
  char *token;
  int publish_audio, publish_video, receive_only;
  int decode;               /* in the decoding sample */
  int sampled;              /* --capacity: decrypts and measures latency (others only count) */
  int decoding;             /* has its decoder (on the first video stream it receives) */
  int expect_streams;       /* streams it should receive */
  uint64_t start_at_us;     /* planned start (ramp) */

  sb_peer_state_t state;
  char error[240];
  int ended_by_server;
  char end_reason[48];

  /* timing, monotonic µs (0 = not reached) */
  uint64_t t_start, t_ws_open, t_auth_ok, t_room_ready, t_join_sent, t_answer, t_ice_done, t_dtls_done,
      t_first_rx, t_connected_event;
  _Atomic uint64_t t_media_start; /* first packet sent; read by peers on other threads */
  int late_joiner;          /* somebody in the room was already publishing when it joined */

  sb_bench_sig_t sig;
  /* --target janus: its session and handle (bench/janus.c), and for a subscriber connection the
   * same participant's publisher connection, whose feed it does not take */
  struct sb_bench_janus *janus;
  struct sb_bench_peer *own_pub;
  sb_bench_url_t redirect;  /* where the next WebSocket goes (a call.join redirect) */
  int redirecting;          /* the socket is closing to follow `redirect` */
  int join_hops;            /* redirects followed by this join (at most SB_PEER_MAX_REDIRECTS) */
  char node[32];            /* the node whose call it joined (call.join's result), "" = none named */
  long long auth_id, join_id, leave_id, room_id_req, prefer_id;
  int prefer_ok;            /* call.prefer answered with a result */
  int offers, answers;      /* call.offer events and call.answer replies */
  int answers_refused;      /* call.answer errors: subscriptions the server did not take */
  char refusal[200];        /* the first of them */
  int offer_revision;

  sb_bench_local_t local;
  sb_bench_answer_t answer;

  int fd;
  uv_poll_t poll;
  int poll_active;
  struct sockaddr_in server;
  sb_bench_ice_t ice;
  uint64_t next_consent_us;
  sb_bench_dtls_t dtls;
  sb_bench_srtp_t srtp;
  int srtp_ready;
  uint32_t rtcp_ssrc;       /* sender SSRC of our RTCP when we publish nothing */
  uint64_t next_rtcp_us;

  sb_tx_stream_t tx_audio;
  sb_tx_stream_t tx_video[SB_BENCH_MAX_LAYERS]; /* one per simulcast layer, lowest first */
  int ntx_video;
  sb_rx_stream_t *rx;       /* grown on offers (signaling path), never per packet */
  uint32_t *rx_ssrcs;       /* parallel to rx: a compact array to scan */
  int nrx, rx_cap;
  int rx_active;            /* streams of the latest offer that are sendonly */
  /* transport-cc: arrivals of what the relay sends us (by its transport-wide sequence number,
   * at the receive time we measure latency with), reported every 100 ms. Allocated at start
   * when --no-twcc is absent, used only if the answer accepted the extension. */
  sb_twcc_t *twcc;
  uint64_t next_twcc_us;
  uint64_t twcc_fb_sent, twcc_no_ext; /* feedback packets; RTP packets without the sequence */

  /* counters */
  uint64_t pkts_sent, bytes_sent, pkts_recv, bytes_recv, rtcp_sent, rtcp_recv;
  uint64_t pkts_counted;    /* --capacity: RTP packets taken without SRTP (count-only receivers) */
  uint64_t send_drops;      /* sendmmsg could not take them */
  uint64_t srtp_auth_fail, srtp_other_fail, unknown_ssrc, bad_rtp, stun_fail, plis_recv,
      firs_recv, nacks_recv, dtls_after_done;
} sb_bench_peer_t;

/** Moves to a state, keeping the worker's live counts of peers with media and failures. */
void sb_bench_peer_set_state(sb_bench_peer_t *p, sb_peer_state_t st);

/** Begins the session: WebSocket connect. */
void sb_bench_peer_start(sb_bench_peer_t *p, uint64_t now_us);

/** Timers: ICE retransmission, DTLS timer, media due, RTCP, consent; called every tick. */
void sb_bench_peer_tick(sb_bench_peer_t *p, uint64_t now_us, int sending);

/** Sends call.leave and closes (or just closes, if not joined). */
void sb_bench_peer_stop(sb_bench_peer_t *p);

/** 1 when the peer no longer needs the loop (done, failed or never started). */
int sb_bench_peer_finished(const sb_bench_peer_t *p);

/** Marks the peer failed with a reason and closes what it has open. */
void sb_bench_peer_fail(sb_bench_peer_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Closes the UDP socket and the WebSocket; frees DTLS/SRTP state. Safe to call twice. */
void sb_bench_peer_close(sb_bench_peer_t *p);

/** Frees decoders and buffers after the loop ended. */
void sb_bench_peer_release(sb_bench_peer_t *p);

/* peer_net.c */
/** Opens the UDP socket on the loop (bound to 127.0.0.1, any port). 0 or -1. */
int sb_bench_peer_socket_open(sb_bench_peer_t *p);
/** Starts ICE toward the answer's candidate. 0 or -1. */
int sb_bench_peer_ice_begin(sb_bench_peer_t *p, uint64_t now_us);
/** Network timers (ICE retransmit, consent, DTLS). */
void sb_bench_peer_net_tick(sb_bench_peer_t *p, uint64_t now_us);
/** Sends one datagram now (signaling-rate traffic: STUN, DTLS, RTCP). */
void sb_bench_peer_send_now(sb_bench_peer_t *p, const uint8_t *buf, size_t len);

/* peer_media.c */
/** Prepares the RTP header templates once SRTP is up. */
void sb_bench_peer_media_begin(sb_bench_peer_t *p, uint64_t now_us);
/** Sends the frames that are due, batched. */
void sb_bench_peer_media_tick(sb_bench_peer_t *p, uint64_t now_us, int sending);
/** --capacity, count-only receivers: one still-protected RTP packet, read from its clear header
 * (sequence number for loss, transport-cc sequence for feedback), never decrypted. */
void sb_bench_peer_on_rtp_counted(sb_bench_peer_t *p, uint8_t *buf, size_t len, uint64_t rx_ns);
/** Handles one decrypted RTP packet (rx_ns: receive time, monotonic ns). */
void sb_bench_peer_on_rtp(sb_bench_peer_t *p, uint8_t *buf, size_t len, uint64_t rx_ns);
/** Handles one decrypted RTCP compound packet. */
void sb_bench_peer_on_rtcp(sb_bench_peer_t *p, const uint8_t *buf, size_t len, uint64_t now_us);
/** An SRTP replay (duplicate) for the SSRC in this still-protected packet. */
void sb_bench_peer_on_replay(sb_bench_peer_t *p, const uint8_t *buf, size_t len);
/** Registers streams from a server offer (new ones added, known ones updated). */
void sb_bench_peer_add_streams(sb_bench_peer_t *p, const sb_bench_offered_t *st, int n);
/** The rx stream of an SSRC, or NULL. */
sb_rx_stream_t *sb_bench_peer_find_rx(sb_bench_peer_t *p, uint32_t ssrc);

#endif

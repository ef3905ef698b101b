/* The relay as signaling sees it: a set of worker threads, each with its own libuv loop and
 * UDP port, driven by commands (down) and reporting events (up) through queues (brief §1).
 * Signaling never touches relay objects directly. */
#ifndef SB_RELAY_H
#define SB_RELAY_H

#include <stdint.h>
#include <uv.h>

#include "common/queue.h"
#include "relay/dtls.h"

#define SB_MAX_PRODUCERS 8
#define SB_ID_LEN 64

typedef enum { SB_KIND_AUDIO = 0, SB_KIND_VIDEO = 1 } sb_kind_t;

/* Header extension ids negotiated on one transport (0 = not negotiated). */
typedef struct {
  uint8_t mid, rid, rrid, audio_level, abs_send_time, twcc, send_time;
} sb_ext_ids_t;

/* The bench's send-time extension, passed through to subscribers that negotiated it. */
#define SB_EXT_SEND_TIME "urn:switchboard:rtp-hdrext:send-time"

typedef struct {
  uint32_t id;            /* index within the transport */
  sb_kind_t kind;
  uint32_t ssrc;          /* 0 = learn it from the mid extension */
  uint32_t rtx_ssrc;
  uint8_t pt, rtx_pt;
  uint32_t clock;
  char mid[32];
  char rid[16];           /* simulcast layer's RTP stream id, "" without simulcast */
  uint8_t layer;          /* simulcast layer index, 0 = lowest */
} sb_producer_spec_t;

typedef enum {
  SB_CMD_TRANSPORT_CREATE = 1,
  SB_CMD_TRANSPORT_CLOSE,
  SB_CMD_CONSUMER_ADD,
  SB_CMD_CONSUMER_RESUME,
  SB_CMD_CONSUMER_REMOVE,
  SB_CMD_PRODUCER_PAUSE,
  SB_CMD_TRANSPORT_PREFER,
  SB_CMD_SHUTDOWN,
  SB_CMD_TRANSPORT_ICE_RESTART, /* new local ICE credentials; DTLS, SRTP and media stay */
} sb_cmd_type_t;

typedef struct {
  sb_msg_t hdr;           /* hdr.type is an sb_cmd_type_t */
  uint64_t transport;     /* the transport the command is about */
  union {
    struct {
      char room[SB_ID_LEN];
      char log_ctx[200];  /* "tenant/room/user" for the transport's log lines */
      char ufrag[64];
      char pwd[128];
      char fp_alg[16];
      char fp[160];
      sb_ext_ids_t ext;
      int admitted;
      int nproducers;
      sb_producer_spec_t producers[SB_MAX_PRODUCERS];
    } create;
    struct {
      char reason[48];
    } close;
    struct {
      uint32_t producer_id;
      int paused;
    } pause;
    struct {
      uint16_t max_width, max_height; /* 0 = no limit */
    } prefer;
    struct {
      char ufrag[64];
      char pwd[128];
    } ice;
    struct {
      uint64_t consumer;
      uint64_t producer_transport;
      uint32_t producer_id;
      uint8_t nlayers;    /* simulcast: producers producer_id .. +nlayers-1 are its layers */
      uint32_t ssrc;      /* what the subscriber sees */
      uint32_t rtx_ssrc;  /* RFC 4588 retransmission stream, 0 if not negotiated */
      uint8_t pt;
      uint8_t rtx_pt;
      char mid[32];
      int paused;
    } consumer;
  } u;
} sb_cmd_t;

typedef enum {
  SB_EV_TRANSPORT_CONNECTED = 1, /* ICE and DTLS up, SRTP keyed */
  SB_EV_TRANSPORT_CLOSED,        /* the worker closed it (reason) or confirms a close command */
  SB_EV_ACTIVE_SPEAKER,          /* `transport`'s audio is now the loudest of its room */
  SB_EV_TRANSPORT_BYTES,         /* media bytes since the last report (rx_bytes, tx_bytes): about
                                    once a second while they change, and before CLOSED */
  SB_EV_TRANSPORT_MEDIA,         /* the first media packet was forwarded to it (at_ms) */
} sb_event_type_t;

typedef struct {
  sb_msg_t hdr;
  uint64_t transport;
  int worker;
  char reason[48];
  char srtp_profile[32];
  uint64_t rx_bytes, tx_bytes;   /* TRANSPORT_BYTES */
  uint64_t at_ms;                /* TRANSPORT_MEDIA: when, on sb_now_ms()'s clock */
} sb_event_t;

typedef struct sb_relay sb_relay_t;

typedef struct {
  const char *bind_ip;    /* address the UDP sockets bind to */
  const char *announce_ip;/* address put in ICE candidates */
  int port_base;          /* worker i listens on port_base + i (0: any free port) */
  int ice_tcp;            /* also listen for ICE-TCP (RFC 6544), one TCP port per worker */
  int tcp_port_base;      /* worker i's TCP port is tcp_port_base + i (0: its UDP port's number) */
  int tcp_max_conns;      /* ICE-TCP connections per worker */
  int tcp_max_pending;    /* ... of which not yet authenticated */
  int workers;
  sb_dtls_ctx_t *dtls;
  uv_loop_t *events_loop; /* events are delivered on this loop */
  void (*on_event)(sb_event_t *ev, void *arg); /* owns ev: free() it */
  int test_drop_percent;  /* tests only: drop this share of RTP sent to subscribers */
  void *arg;
} sb_relay_config_t;

/** Starts the worker threads and binds their sockets. 0 or a negative errno. */
int sb_relay_start(const sb_relay_config_t *cfg, sb_relay_t **out);
/** Stops and joins every worker; closes every transport. Call on the events loop's thread;
 * safe with NULL. */
void sb_relay_stop(sb_relay_t *r);

int sb_relay_workers(const sb_relay_t *r);
uint16_t sb_relay_port(const sb_relay_t *r, int worker);
/** Worker `worker`'s ICE-TCP port, 0 when ICE-TCP is off. */
uint16_t sb_relay_tcp_port(const sb_relay_t *r, int worker);
const char *sb_relay_announce_ip(const sb_relay_t *r);

/** Allocates a zeroed command of `type` for `transport` (NULL if out of memory). */
sb_cmd_t *sb_cmd_new(sb_cmd_type_t type, uint64_t transport);
/** Sends a command to a worker; the relay takes ownership. */
void sb_relay_send(sb_relay_t *r, int worker, sb_cmd_t *cmd);

/* Upper bounds (microseconds) of the event-loop lag histograms' buckets. */
#define SB_LAG_NBOUNDS 10
#define SB_LAG_BOUNDS_US {1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000}

/** The bucket of a lag of `us` microseconds: 0..SB_LAG_NBOUNDS. */
static inline int sb_lag_bucket(uint64_t us) {
  static const uint64_t bounds[SB_LAG_NBOUNDS] = SB_LAG_BOUNDS_US;
  int i = 0;
  while (i < SB_LAG_NBOUNDS && us > bounds[i])
    i++;
  return i;
}

/* Counters of one worker, read with relaxed atomics from any thread. */
typedef struct {
  uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
  uint64_t rtp_forwarded;       /* packets sent to subscribers */
  uint64_t drop_unknown_source; /* from an address that passed no check */
  uint64_t drop_not_admitted;
  uint64_t drop_srtp;           /* authentication or replay failure */
  uint64_t drop_malformed;
  uint64_t drop_send;           /* the socket refused a send */
  uint64_t stun_ok, stun_bad;
  uint64_t stun_keepalive;      /* Binding indications (keepalives) from a selected address */
  uint64_t nack_sent;           /* sequence numbers asked of publishers */
  uint64_t nack_received;       /* sequence numbers asked by subscribers */
  uint64_t rtp_retransmitted;   /* answered from a retransmission buffer */
  uint64_t nack_over_budget;    /* not answered: over the subscriber's retransmission budget */
  uint64_t rtx_recovered;       /* RTX packets from publishers turned back into media (browsers
                                   also send RTX on their own as bandwidth probes) */
  uint64_t test_dropped;        /* dropped on purpose by --test-drop-percent */
  uint64_t bwe_overuse;         /* subscribers' delay-based estimates cut by overuse */
  uint64_t bwe_probes;          /* probe bursts sent to subscribers */
  uint64_t bwe_probe_ok;        /* ... that proved the rate the subscriber wanted */
  uint64_t probe_packets;       /* packets in those bursts */
  uint64_t transports;
  uint64_t dtls_handshakes;     /* transports whose DTLS handshake completed (SRTP keyed) */
  uint64_t ice_restarts;        /* new credentials indexed beside the old (SB_CMD_TRANSPORT_ICE_RESTART) */
  uint64_t ice_restarts_done;   /* ... and used by a valid check, which retired the old */
  /* ICE-TCP (RFC 6544) on the worker's TCP port. */
  uint64_t tcp_connections;       /* open now (a gauge) */
  uint64_t tcp_accepted;
  uint64_t tcp_refused;           /* over the connection or pending limit: closed at once */
  uint64_t tcp_closed_unauth;     /* closed before a valid check: garbage, a failed check, the
                                     authentication timeout, or the peer gave up */
  uint64_t drop_tcp_backpressure; /* not queued: the connection's write queue was over its cap */
  /* Event-loop lag: how late the worker's periodic timer fired, as a histogram over
   * SB_LAG_BOUNDS_US (the last bucket is above them all). */
  uint64_t lag_bucket[SB_LAG_NBOUNDS + 1];
  uint64_t lag_sum_us, lag_count;
} sb_worker_stats_t;

void sb_relay_stats(const sb_relay_t *r, int worker, sb_worker_stats_t *out);

#endif

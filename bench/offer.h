/* The participant's side of SDP: the initial offer (what it publishes, built as an sb_sdp_t and
 * written with sb_sdp_write), the server's answer reduced to what the client needs, and the
 * answer to a server offer (`call.offer`) together with the list of streams that offer adds. */
#ifndef SB_BENCH_OFFER_H
#define SB_BENCH_OFFER_H

#include <stddef.h>
#include <stdint.h>

#include "relay/sdp.h"

#define SB_EXT_SEND_TIME "urn:switchboard:rtp-hdrext:send-time"
#define SB_BENCH_EXT_ID_MID 4
#define SB_BENCH_EXT_ID_RID 10      /* the ids Chromium uses for mid (4) and rid (10) */
#define SB_BENCH_EXT_ID_SEND_TIME 14
#define SB_BENCH_EXT_ID_TWCC 3     /* Chromium's id for transport-wide-cc */
#define SB_BENCH_MAX_RIDS 3
#define SB_BENCH_PT_OPUS 111
#define SB_BENCH_PT_VP8 96

typedef struct {
  char user[48];
  char cname[20];
  char ufrag[12];
  char pwd[36];
  const char *fingerprint;  /* sha-256, "AB:CD:..." */
  int audio, video;         /* what it publishes (m-lines sendonly) */
  int receive_only;         /* publishes nothing: offer recvonly m-lines instead */
  uint32_t audio_ssrc, video_ssrc;
  /* rid simulcast of the video m-line (RFC 8853): a=rid:X send per layer, lowest first, and
   * a=simulcast:send in that order; no a=ssrc lines (the server learns the SSRCs from the mid
   * and rid extensions, as with browsers). 0 rids: one stream with its a=ssrc. */
  int nrids;
  char rids[SB_BENCH_MAX_RIDS][4];
  /* transport-wide congestion control, as browsers negotiate it: the transport-cc extension and
   * a=rtcp-fb:<pt> transport-cc for Opus and VP8 */
  int twcc;
  char ip[48];
  uint16_t port;            /* our host candidate */
  uint64_t session_id;
  uint64_t session_version; /* raise before writing each new description */
  /* --target janus: the offer says a=setup:active (the bench is always the DTLS client; Janus
   * answers actpass with active), and answers carry our host candidate (a full ICE agent checks
   * toward it) */
  int full_ice_peer;
} sb_bench_local_t;

/* What the client uses from the server's answer. */
typedef struct {
  char ufrag[64], pwd[128];
  char fp_alg[16], fingerprint[128];
  int ice_lite;
  int setup;                /* sb_setup_t of the server, -1 if absent */
  char ip[64];
  uint16_t port;            /* first UDP candidate of the first accepted m-line */
  int audio_pt, video_pt;   /* -1 when that m-line was rejected */
  uint8_t audio_mid_ext, video_mid_ext, audio_time_ext, video_time_ext; /* 0 = not accepted */
  char audio_mid[32], video_mid[32];
  /* simulcast of the video m-line as answered: a=simulcast present, and its recv rids in order */
  int video_simulcast;
  int video_nrids;
  char video_rids[SB_BENCH_MAX_RIDS][16];
  uint8_t video_rid_ext;    /* 0 = not accepted */
  uint8_t twcc_ext;         /* transport-cc extension id of the first accepted m-line, 0 = none */
} sb_bench_answer_t;

/* A stream the server offers us (one sendonly m-line with its SSRC). */
typedef struct {
  char mid[32];
  int kind;                 /* sb_media_kind_t */
  int active;               /* sendonly/sendrecv from the server: media will flow */
  uint32_t ssrc;
  char from_user[48];       /* the stream id of a=msid (the publisher's user id) */
  int pt;
  uint32_t clock;
  uint8_t time_ext;         /* send-time extension id, 0 if the server did not offer it */
} sb_bench_offered_t;

/** Writes the initial offer into out (cap bytes); `scratch` is a caller's sb_sdp_t (large: keep
 * one per thread). Returns the length or -1. */
int sb_bench_offer_write(const sb_bench_local_t *l, sb_sdp_t *scratch, char *out, size_t cap);

/** Parses the server's answer. Returns 0, or -1 with the reason in err. */
int sb_bench_answer_read(const char *sdp, size_t len, sb_sdp_t *scratch, sb_bench_answer_t *a,
                         char *err, size_t errlen);

/** Checks that the answer accepted the simulcast our offer had (`l` with nrids > 0): an
 * a=simulcast on the video m-line with our rids as recv, in our order, and the mid and rid
 * extensions. Returns 0, or -1 with what is missing in err. */
int sb_bench_answer_check_simulcast(const sb_bench_local_t *l, const sb_bench_answer_t *a, char *err,
                                    size_t errlen);

/** Parses a server offer, writes our answer into out, and lists the m-lines that carry a remote
 * participant's media into streams (up to max). Our own published m-lines (mids of `a`) keep
 * their direction. Returns the answer's length and sets *nstreams, or -1 with a reason in err. */
int sb_bench_answer_write(const sb_bench_local_t *l, const sb_bench_answer_t *a, const char *offer,
                          size_t offer_len, sb_sdp_t *scratch, char *out, size_t cap,
                          sb_bench_offered_t *streams, int max, int *nstreams, char *err,
                          size_t errlen);

#endif

/* SDP (RFC 8866) for WebRTC with BUNDLE: a parsed description and its writer.
 *
 * One struct serves both directions: sb_sdp_parse() fills it from a client's offer or answer,
 * sb_sdp_write() produces the server's answer or offer from it. Only what a WebRTC SFU needs is
 * kept (ICE, DTLS, media sections, codecs, header extensions, SSRCs, simulcast); unknown
 * attributes are ignored. Limits are fixed so a description never allocates. */
#ifndef SB_SDP_H
#define SB_SDP_H

#include <stddef.h>
#include <stdint.h>

#define SB_SDP_MAX_MEDIA 64
#define SB_SDP_MAX_CODECS 16
#define SB_SDP_MAX_FB 8
#define SB_SDP_MAX_EXT 16
#define SB_SDP_MAX_SSRC 8
#define SB_SDP_MAX_FID (SB_SDP_MAX_SSRC / 2)
#define SB_SDP_MAX_SIM 3
#define SB_SDP_MAX_RID 4
#define SB_SDP_MAX_CAND 8

typedef enum { SB_MEDIA_AUDIO = 0, SB_MEDIA_VIDEO, SB_MEDIA_APPLICATION, SB_MEDIA_OTHER } sb_media_kind_t;

/* Direction as written in the description that carries it. */
typedef enum { SB_DIR_SENDRECV = 0, SB_DIR_SENDONLY, SB_DIR_RECVONLY, SB_DIR_INACTIVE } sb_dir_t;

typedef enum { SB_SETUP_ACTPASS = 0, SB_SETUP_ACTIVE, SB_SETUP_PASSIVE, SB_SETUP_HOLDCONN } sb_setup_t;

typedef struct {
  uint8_t pt;
  char name[16];          /* "opus", "VP8", "rtx", "red", ... as written */
  uint32_t clock;         /* 48000, 90000 */
  uint8_t channels;       /* 2 for opus; 0 if absent */
  char fmtp[128];         /* the a=fmtp value after the payload type, "" if none */
  int apt;                /* for rtx: the associated payload type from fmtp "apt=", else -1 */
  uint8_t nfb;
  char fb[SB_SDP_MAX_FB][24]; /* a=rtcp-fb values: "nack", "nack pli", "ccm fir", "goog-remb", "transport-cc" */
} sb_sdp_codec_t;

typedef struct {
  uint8_t id;
  char uri[96];
} sb_sdp_ext_t;

typedef struct {
  uint32_t ssrc;
  char cname[64];
  char msid[128];         /* "stream track" from a=ssrc:N msid:..., "" if none */
} sb_sdp_ssrc_t;

typedef struct {
  char id[16];            /* rid value, e.g. "h", "m", "l" or "q", "h", "f" */
  sb_dir_t dir;           /* send or recv as written on a=rid */
} sb_sdp_rid_t;

typedef struct {
  char foundation[33];
  uint32_t component;
  uint32_t priority;
  char ip[64];
  uint16_t port;
  char type[8];           /* host, srflx, prflx, relay */
  int tcp;                /* written only: a TCP candidate (RFC 6544), with its tcptype */
  char tcptype[8];        /* active, passive, so */
} sb_sdp_candidate_t;

typedef struct {
  sb_media_kind_t kind;
  uint16_t port;          /* 0 = rejected m-line, unless bundle_only */
  int bundle_only;        /* a=bundle-only (RFC 8843 §6): port 0, usable only inside the BUNDLE
                           * group; parsed, never written (an answer must not carry it) */
  char mid[32];
  sb_dir_t dir;
  int rtcp_mux;
  int rtcp_rsize;
  char msid[128];         /* a=msid value "stream track", "" if none */

  uint8_t ncodecs;
  sb_sdp_codec_t codecs[SB_SDP_MAX_CODECS]; /* in m-line order (preference) */
  uint8_t nexts;
  sb_sdp_ext_t exts[SB_SDP_MAX_EXT];
  uint8_t nssrcs;
  sb_sdp_ssrc_t ssrcs[SB_SDP_MAX_SSRC];
  /* SSRC groups (RFC 5576). Every SSRC a group names must have an a=ssrc line in the same
   * section and a group must not repeat an SSRC, else sb_sdp_parse fails; a SIM group must name
   * 1..3 SSRCs, and a second SIM group in one section is an error. FID groups past
   * SB_SDP_MAX_FID are ignored, like SSRCs past SB_SDP_MAX_SSRC. The writer writes fid and sim
   * only (what the server's own descriptions carry), not fids[1..]. */
  uint32_t fid[2];        /* the first a=ssrc-group:FID: media rtx, 0 if absent */
  uint8_t nfids;          /* every FID group in order (legacy SSRC simulcast: one per layer) */
  uint32_t fids[SB_SDP_MAX_FID][2];
  uint8_t nsim;           /* a=ssrc-group:SIM ssrcs, low to high (Chromium lists the lowest first) */
  uint32_t sim[SB_SDP_MAX_SIM];
  uint8_t nrids;
  sb_sdp_rid_t rids[SB_SDP_MAX_RID];
  int simulcast;          /* a=simulcast present */

  /* media-level ICE/DTLS (browsers repeat them per m-line); empty if absent */
  char ice_ufrag[64];
  char ice_pwd[128];
  char fingerprint_alg[16];
  char fingerprint[128];  /* "AB:CD:..." upper or lower case as written */
  int setup;              /* sb_setup_t, or -1 if absent */
  uint8_t ncands;
  sb_sdp_candidate_t cands[SB_SDP_MAX_CAND];
  int end_of_candidates;
} sb_sdp_media_t;

typedef struct {
  uint64_t session_id;
  uint64_t session_version;
  char origin_user[32];   /* "-" when empty */
  int ice_lite;
  char ice_ufrag[64];     /* session level; sb_sdp_parse copies media-level values here if absent */
  char ice_pwd[128];
  char fingerprint_alg[16];
  char fingerprint[128];
  int setup;              /* sb_setup_t, or -1 */
  int nbundle;
  char bundle[SB_SDP_MAX_MEDIA][32]; /* mids in a=group:BUNDLE */
  char msid_semantic[32]; /* "WMS" */
  uint8_t nmedia;
  sb_sdp_media_t media[SB_SDP_MAX_MEDIA];
} sb_sdp_t;

/** Allocates a description without media (free() it): its session part is zeroed, the media
 * entries are not. A description is about 660 KiB, almost all of it room for SB_SDP_MAX_MEDIA
 * m-lines, so nothing zeroes it whole: sb_sdp_parse and the writers of an entry initialise each
 * entry as they add it, and only the pages of the m-lines in use are ever touched. NULL if out
 * of memory. */
sb_sdp_t *sb_sdp_new(void);

/** Parses `text` (len bytes, CRLF or LF line ends) into `out` (its session part and every
 * entry it adds zeroed first; entries from media[nmedia] on are left as they were). Returns 0, or -1
 * and a human-readable reason in `err` (errlen bytes): missing v=/o=/m= lines, bad numbers,
 * over a limit, no ICE credentials or fingerprint. Never reads past len. */
int sb_sdp_parse(const char *text, size_t len, sb_sdp_t *out, char *err, size_t errlen);

/** Writes `sdp` as text with CRLF line ends into buf. Returns the length written (excluding the
 * NUL), or -1 if buf is too small. Session-level ICE/DTLS attributes are written at session
 * level and repeated in each m-line (browsers accept both); rejected m-lines (port 0) keep only
 * m=, c= and a=mid. */
int sb_sdp_write(const sb_sdp_t *sdp, char *buf, size_t buflen);

/** 1 if `mid` is in the description's a=group:BUNDLE, else 0. */
int sb_sdp_in_bundle(const sb_sdp_t *sdp, const char *mid);

/** Codec lookup in a media section by name (case-insensitive) and clock; NULL if absent. */
const sb_sdp_codec_t *sb_sdp_find_codec(const sb_sdp_media_t *m, const char *name, uint32_t clock);
/** RTX codec whose apt is `pt`, or NULL. */
const sb_sdp_codec_t *sb_sdp_find_rtx(const sb_sdp_media_t *m, uint8_t pt);
/** Header extension id for `uri`, or 0 if not negotiated. */
uint8_t sb_sdp_find_ext(const sb_sdp_media_t *m, const char *uri);

const char *sb_sdp_dir_str(sb_dir_t dir);

/* Header extension URIs the relay understands. */
#define SB_EXT_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define SB_EXT_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define SB_EXT_RRID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#define SB_EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define SB_EXT_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define SB_EXT_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

#endif

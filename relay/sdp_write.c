/* SDP writer for the server's answers and offers (see relay/sdp.h). Writes into a caller's
 * buffer, never past it; libc only, like the parser in sdp.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "relay/sdp.h"

typedef struct {
  char *buf;
  size_t cap;
  size_t len;
  int overflow;
} out_t;

__attribute__((format(printf, 2, 3))) static void put(out_t *o, const char *fmt, ...) {
  if (o->overflow)
    return;
  size_t room = o->cap - o->len;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->len, room, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= room)
    o->overflow = 1; /* vsnprintf has still NUL-terminated within the buffer */
  else
    o->len += (size_t)n;
}

/* "%.*s" arguments for a fixed-size field, so a field without its NUL is still bounded. */
#define FLD(f) (int)strnlen((f), sizeof(f)), (f)
#define MIN(a, b) ((a) < (b) ? (a) : (b))

static const char *kind_str(sb_media_kind_t kind) {
  /* m-lines of other kinds are always written rejected; the struct keeps no media name */
  return kind == SB_MEDIA_AUDIO ? "audio" : kind == SB_MEDIA_VIDEO ? "video" : "application";
}

static void write_ice_dtls(out_t *o, const sb_sdp_t *sdp, const sb_sdp_media_t *m) {
  const char *ufrag = m && m->ice_ufrag[0] ? m->ice_ufrag : sdp->ice_ufrag;
  const char *pwd = m && m->ice_pwd[0] ? m->ice_pwd : sdp->ice_pwd;
  const char *alg = m && m->fingerprint[0] ? m->fingerprint_alg : sdp->fingerprint_alg;
  const char *fp = m && m->fingerprint[0] ? m->fingerprint : sdp->fingerprint;
  int setup = m && m->setup >= 0 ? m->setup : sdp->setup;
  static const char *setups[] = {"actpass", "active", "passive", "holdconn"};
  if (ufrag[0])
    put(o, "a=ice-ufrag:%.*s\r\n", (int)strnlen(ufrag, sizeof sdp->ice_ufrag), ufrag);
  if (pwd[0])
    put(o, "a=ice-pwd:%.*s\r\n", (int)strnlen(pwd, sizeof sdp->ice_pwd), pwd);
  if (fp[0])
    put(o, "a=fingerprint:%.*s %.*s\r\n", (int)strnlen(alg, sizeof sdp->fingerprint_alg), alg,
        (int)strnlen(fp, sizeof sdp->fingerprint), fp);
  if (setup >= 0 && setup <= SB_SETUP_HOLDCONN)
    put(o, "a=setup:%s\r\n", setups[setup]);
}

static void write_codecs(out_t *o, const sb_sdp_media_t *m) {
  for (int i = 0; i < MIN(m->ncodecs, SB_SDP_MAX_CODECS); i++) {
    const sb_sdp_codec_t *k = &m->codecs[i];
    if (k->name[0] && k->channels)
      put(o, "a=rtpmap:%u %.*s/%u/%u\r\n", k->pt, FLD(k->name), k->clock, k->channels);
    else if (k->name[0])
      put(o, "a=rtpmap:%u %.*s/%u\r\n", k->pt, FLD(k->name), k->clock);
    for (int j = 0; j < MIN(k->nfb, SB_SDP_MAX_FB); j++)
      put(o, "a=rtcp-fb:%u %.*s\r\n", k->pt, FLD(k->fb[j]));
    if (k->fmtp[0])
      put(o, "a=fmtp:%u %.*s\r\n", k->pt, FLD(k->fmtp));
  }
}

static void write_ssrcs(out_t *o, const sb_sdp_media_t *m) {
  if (m->fid[0])
    put(o, "a=ssrc-group:FID %u %u\r\n", m->fid[0], m->fid[1]);
  if (m->nsim > 0) {
    put(o, "a=ssrc-group:SIM");
    for (int i = 0; i < MIN(m->nsim, 3); i++)
      put(o, " %u", m->sim[i]);
    put(o, "\r\n");
  }
  for (int i = 0; i < MIN(m->nssrcs, SB_SDP_MAX_SSRC); i++) {
    const sb_sdp_ssrc_t *s = &m->ssrcs[i];
    if (s->cname[0])
      put(o, "a=ssrc:%u cname:%.*s\r\n", s->ssrc, FLD(s->cname));
    if (s->msid[0])
      put(o, "a=ssrc:%u msid:%.*s\r\n", s->ssrc, FLD(s->msid));
    if (!s->cname[0] && !s->msid[0])
      put(o, "a=ssrc:%u\r\n", s->ssrc);
  }
}

static void write_rids(out_t *o, const sb_sdp_media_t *m) {
  int n = MIN(m->nrids, SB_SDP_MAX_RID);
  for (int i = 0; i < n; i++)
    put(o, "a=rid:%.*s %s\r\n", FLD(m->rids[i].id),
        m->rids[i].dir == SB_DIR_RECVONLY ? "recv" : "send");
  if (!m->simulcast || n == 0)
    return;
  put(o, "a=simulcast:");
  const char *sep = "";
  for (int recv = 0; recv <= 1; recv++) {
    int first = 1;
    for (int i = 0; i < n; i++) {
      if ((m->rids[i].dir == SB_DIR_RECVONLY) != recv)
        continue;
      if (first)
        put(o, "%s%s ", sep, recv ? "recv" : "send");
      put(o, "%s%.*s", first ? "" : ";", FLD(m->rids[i].id));
      first = 0;
      sep = " ";
    }
  }
  put(o, "\r\n");
}

static void write_candidates(out_t *o, const sb_sdp_media_t *m) {
  for (int i = 0; i < MIN(m->ncands, SB_SDP_MAX_CAND); i++) {
    const sb_sdp_candidate_t *k = &m->cands[i];
    put(o, "a=candidate:%.*s %u %s %u %.*s %u typ %.*s", FLD(k->foundation), k->component,
        k->tcp ? "tcp" : "udp", k->priority, FLD(k->ip), k->port, FLD(k->type));
    if (k->tcp)
      put(o, " tcptype %.*s", FLD(k->tcptype));
    put(o, "\r\n");
  }
  if (m->end_of_candidates)
    put(o, "a=end-of-candidates\r\n");
}

static void write_connection(out_t *o, const sb_sdp_media_t *m) {
  if (m->ncands > 0 && m->port != 0 && m->cands[0].ip[0])
    put(o, "c=IN IP%c %.*s\r\n", strchr(m->cands[0].ip, ':') ? '6' : '4', FLD(m->cands[0].ip));
  else
    put(o, "c=IN IP4 0.0.0.0\r\n");
}

static void write_media(out_t *o, const sb_sdp_t *sdp, const sb_sdp_media_t *m) {
  int rtp = m->kind == SB_MEDIA_AUDIO || m->kind == SB_MEDIA_VIDEO;
  int ncodecs = MIN(m->ncodecs, SB_SDP_MAX_CODECS);
  unsigned port = m->kind == SB_MEDIA_OTHER ? 0 : m->port;
  if (!rtp)
    put(o, "m=%s %u UDP/DTLS/SCTP webrtc-datachannel\r\n", kind_str(m->kind), port);
  else if (port == 0)
    put(o, "m=%s 0 UDP/TLS/RTP/SAVPF %u\r\n", kind_str(m->kind), ncodecs ? m->codecs[0].pt : 0);
  else {
    put(o, "m=%s %u UDP/TLS/RTP/SAVPF", kind_str(m->kind), port);
    for (int i = 0; i < ncodecs; i++)
      put(o, " %u", m->codecs[i].pt);
    put(o, "\r\n");
  }
  write_connection(o, m);
  if (port == 0) {
    if (m->mid[0])
      put(o, "a=mid:%.*s\r\n", FLD(m->mid));
    put(o, "a=inactive\r\n");
    return;
  }
  if (rtp)
    put(o, "a=rtcp:9 IN IP4 0.0.0.0\r\n");
  write_ice_dtls(o, sdp, m);
  if (m->mid[0])
    put(o, "a=mid:%.*s\r\n", FLD(m->mid));
  if (!rtp) {
    put(o, "a=sctp-port:5000\r\n");
    write_candidates(o, m);
    return;
  }
  for (int i = 0; i < MIN(m->nexts, SB_SDP_MAX_EXT); i++)
    put(o, "a=extmap:%u %.*s\r\n", m->exts[i].id, FLD(m->exts[i].uri));
  put(o, "a=%s\r\n", sb_sdp_dir_str(m->dir));
  if (m->msid[0])
    put(o, "a=msid:%.*s\r\n", FLD(m->msid));
  if (m->rtcp_mux)
    put(o, "a=rtcp-mux\r\n");
  if (m->rtcp_rsize)
    put(o, "a=rtcp-rsize\r\n");
  write_codecs(o, m);
  write_ssrcs(o, m);
  write_rids(o, m);
  write_candidates(o, m);
}

int sb_sdp_write(const sb_sdp_t *sdp, char *buf, size_t buflen) {
  out_t o = {.buf = buf, .cap = buflen};
  if (!buf || buflen == 0)
    return -1;
  buf[0] = '\0';
  if (!sdp)
    return -1;
  const char *user = sdp->origin_user[0] ? sdp->origin_user : "-";
  put(&o, "v=0\r\no=%.*s %llu %llu IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
      (int)strnlen(user, sizeof sdp->origin_user), user, (unsigned long long)sdp->session_id,
      (unsigned long long)sdp->session_version);
  if (sdp->ice_lite)
    put(&o, "a=ice-lite\r\n");
  if (sdp->nbundle > 0) {
    put(&o, "a=group:BUNDLE");
    for (int i = 0; i < MIN(sdp->nbundle, SB_SDP_MAX_MEDIA); i++)
      put(&o, " %.*s", FLD(sdp->bundle[i]));
    put(&o, "\r\n");
  }
  if (sdp->msid_semantic[0])
    put(&o, "a=msid-semantic: %.*s\r\n", FLD(sdp->msid_semantic));
  else
    put(&o, "a=msid-semantic: WMS *\r\n");
  write_ice_dtls(&o, sdp, NULL);
  for (int i = 0; i < MIN(sdp->nmedia, SB_SDP_MAX_MEDIA); i++)
    write_media(&o, sdp, &sdp->media[i]);
  if (o.overflow || o.len > (size_t)INT32_MAX)
    return -1;
  return (int)o.len;
}


/* SDP of a bench participant: offer, answer reading, answers to server offers. */
#include "bench/offer.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Bounded copy; source and destination may lie in the same description (never overlapping). */
static void set_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n > cap - 1)
    n = cap - 1;
  memmove(dst, src, n);
  dst[n] = '\0';
}

static void add_codec(sb_sdp_media_t *m, uint8_t pt, const char *name, uint32_t clock,
                      uint8_t channels, const char *fmtp) {
  sb_sdp_codec_t *c = &m->codecs[m->ncodecs++];
  memset(c, 0, sizeof *c);
  c->pt = pt;
  set_str(c->name, sizeof c->name, name);
  c->clock = clock;
  c->channels = channels;
  set_str(c->fmtp, sizeof c->fmtp, fmtp);
  c->apt = -1;
}

static void add_fb(sb_sdp_codec_t *c, const char *fb) {
  if (c->nfb < SB_SDP_MAX_FB)
    set_str(c->fb[c->nfb++], sizeof c->fb[0], fb);
}

static void add_ext(sb_sdp_media_t *m, uint8_t id, const char *uri) {
  if (m->nexts >= SB_SDP_MAX_EXT)
    return;
  m->exts[m->nexts].id = id;
  set_str(m->exts[m->nexts].uri, sizeof m->exts[0].uri, uri);
  m->nexts++;
}

static void add_ssrc(sb_sdp_media_t *m, uint32_t ssrc, const char *cname, const char *msid) {
  sb_sdp_ssrc_t *s = &m->ssrcs[m->nssrcs++];
  memset(s, 0, sizeof *s);
  s->ssrc = ssrc;
  set_str(s->cname, sizeof s->cname, cname);
  set_str(s->msid, sizeof s->msid, msid);
}

/* a=rid:X send per layer, lowest first, and a=simulcast:send in the same order. */
static void add_rids(const sb_bench_local_t *l, sb_sdp_media_t *m) {
  m->nrids = 0;
  for (int i = 0; i < l->nrids && i < SB_SDP_MAX_RID; i++) {
    set_str(m->rids[i].id, sizeof m->rids[i].id, l->rids[i]);
    m->rids[i].dir = SB_DIR_SENDONLY;
    m->nrids++;
  }
  m->simulcast = m->nrids > 0;
}

/* The codecs we can send and receive for a kind. */
static void add_codecs(sb_sdp_media_t *m, sb_media_kind_t kind, int twcc) {
  if (kind == SB_MEDIA_AUDIO) {
    add_codec(m, SB_BENCH_PT_OPUS, "opus", 48000, 2, "minptime=10;useinbandfec=1");
    if (twcc)
      add_fb(&m->codecs[m->ncodecs - 1], "transport-cc");
    return;
  }
  add_codec(m, SB_BENCH_PT_VP8, "VP8", 90000, 0, "");
  add_fb(&m->codecs[m->ncodecs - 1], "nack");
  add_fb(&m->codecs[m->ncodecs - 1], "nack pli");
  add_fb(&m->codecs[m->ncodecs - 1], "ccm fir");
  if (twcc)
    add_fb(&m->codecs[m->ncodecs - 1], "transport-cc");
}

static void session_common(const sb_bench_local_t *l, sb_sdp_t *s, int setup) {
  s->session_id = l->session_id;
  s->session_version = l->session_version;
  set_str(s->origin_user, sizeof s->origin_user, "-");
  set_str(s->ice_ufrag, sizeof s->ice_ufrag, l->ufrag);
  set_str(s->ice_pwd, sizeof s->ice_pwd, l->pwd);
  set_str(s->fingerprint_alg, sizeof s->fingerprint_alg, "sha-256");
  set_str(s->fingerprint, sizeof s->fingerprint, l->fingerprint);
  s->setup = setup;
  set_str(s->msid_semantic, sizeof s->msid_semantic, "WMS");
}

static void add_host_candidate(const sb_bench_local_t *l, sb_sdp_media_t *m) {
  sb_sdp_candidate_t *c;
  if (!l->port || m->ncands > 0)
    return;
  c = &m->cands[m->ncands++];
  set_str(c->foundation, sizeof c->foundation, "1");
  c->component = 1;
  c->priority = (126u << 24) | (65535u << 8) | 255u;
  set_str(c->ip, sizeof c->ip, l->ip);
  c->port = l->port;
  set_str(c->type, sizeof c->type, "host");
  m->end_of_candidates = 1;
}

static sb_sdp_media_t *add_media(const sb_bench_local_t *l, sb_sdp_t *s, sb_media_kind_t kind,
                                 sb_dir_t dir, uint32_t ssrc) {
  sb_sdp_media_t *m = &s->media[s->nmedia];
  char msid[128];
  memset(m, 0, sizeof *m);
  m->kind = kind;
  m->port = 9;
  snprintf(m->mid, sizeof m->mid, "%u", s->nmedia);
  m->dir = dir;
  m->rtcp_mux = 1;
  m->rtcp_rsize = 1;
  m->setup = -1;
  add_codecs(m, kind, l->twcc);
  if (l->twcc)
    add_ext(m, SB_BENCH_EXT_ID_TWCC, SB_EXT_TWCC);
  add_ext(m, SB_BENCH_EXT_ID_MID, SB_EXT_MID);
  add_ext(m, SB_BENCH_EXT_ID_SEND_TIME, SB_EXT_SEND_TIME);
  if (kind == SB_MEDIA_VIDEO && l->nrids && dir == SB_DIR_SENDONLY)
    add_ext(m, SB_BENCH_EXT_ID_RID, SB_EXT_RID);
  if (ssrc) {
    snprintf(msid, sizeof msid, "%s %s-%s", l->user, l->user, kind == SB_MEDIA_AUDIO ? "audio" : "video");
    set_str(m->msid, sizeof m->msid, msid);
    if (kind == SB_MEDIA_VIDEO && l->nrids)
      add_rids(l, m);
    else
      add_ssrc(m, ssrc, l->cname, msid);
  }
  add_host_candidate(l, m);
  set_str(s->bundle[s->nbundle++], sizeof s->bundle[0], m->mid);
  s->nmedia++;
  return m;
}

int sb_bench_offer_write(const sb_bench_local_t *l, sb_sdp_t *s, char *out, size_t cap) {
  memset(s, 0, sizeof *s);
  session_common(l, s, l->full_ice_peer ? SB_SETUP_ACTIVE : SB_SETUP_ACTPASS);
  if (l->receive_only) {
    add_media(l, s, SB_MEDIA_AUDIO, SB_DIR_RECVONLY, 0);
    if (l->video)
      add_media(l, s, SB_MEDIA_VIDEO, SB_DIR_RECVONLY, 0);
  } else {
    if (l->audio)
      add_media(l, s, SB_MEDIA_AUDIO, SB_DIR_SENDONLY, l->audio_ssrc);
    if (l->video)
      add_media(l, s, SB_MEDIA_VIDEO, SB_DIR_SENDONLY, l->video_ssrc);
  }
  return sb_sdp_write(s, out, cap);
}

static const sb_sdp_candidate_t *first_udp_candidate(const sb_sdp_t *s) {
  for (int i = 0; i < s->nmedia; i++)
    for (int j = 0; s->media[i].port && j < s->media[i].ncands; j++)
      return &s->media[i].cands[j];
  return NULL;
}

static void read_simulcast(const sb_sdp_media_t *m, sb_bench_answer_t *a) {
  a->video_simulcast = m->simulcast;
  a->video_rid_ext = sb_sdp_find_ext(m, SB_EXT_RID);
  a->video_nrids = 0;
  for (int i = 0; i < m->nrids && a->video_nrids < SB_BENCH_MAX_RIDS; i++)
    if (m->rids[i].dir == SB_DIR_RECVONLY)
      set_str(a->video_rids[a->video_nrids++], sizeof a->video_rids[0], m->rids[i].id);
}

static void read_media(const sb_sdp_media_t *m, int *pt, uint8_t *mid_ext, uint8_t *time_ext,
                       char *mid, size_t midcap) {
  const sb_sdp_codec_t *c = m->kind == SB_MEDIA_AUDIO ? sb_sdp_find_codec(m, "opus", 48000)
                                                      : sb_sdp_find_codec(m, "VP8", 90000);
  *pt = m->port && c ? c->pt : -1;
  *mid_ext = sb_sdp_find_ext(m, SB_EXT_MID);
  *time_ext = sb_sdp_find_ext(m, SB_EXT_SEND_TIME);
  set_str(mid, midcap, m->mid);
}

int sb_bench_answer_read(const char *sdp, size_t len, sb_sdp_t *s, sb_bench_answer_t *a,
                         char *err, size_t errlen) {
  const sb_sdp_candidate_t *c;
  int seen_audio = 0, seen_video = 0;
  memset(a, 0, sizeof *a);
  a->audio_pt = a->video_pt = -1;
  if (sb_sdp_parse(sdp, len, s, err, errlen) < 0)
    return -1;
  set_str(a->ufrag, sizeof a->ufrag, s->ice_ufrag);
  set_str(a->pwd, sizeof a->pwd, s->ice_pwd);
  set_str(a->fp_alg, sizeof a->fp_alg, s->fingerprint_alg);
  set_str(a->fingerprint, sizeof a->fingerprint, s->fingerprint);
  a->ice_lite = s->ice_lite;
  a->setup = s->setup;
  for (int i = 0; i < s->nmedia; i++) {
    const sb_sdp_media_t *m = &s->media[i];
    if (a->setup < 0 && m->setup >= 0)
      a->setup = m->setup;
    if (!a->twcc_ext && m->port) /* one transport (bundle): the relay keeps one id */
      a->twcc_ext = sb_sdp_find_ext(m, SB_EXT_TWCC);
    if (m->kind == SB_MEDIA_AUDIO && !seen_audio++)
      read_media(m, &a->audio_pt, &a->audio_mid_ext, &a->audio_time_ext, a->audio_mid,
                 sizeof a->audio_mid);
    else if (m->kind == SB_MEDIA_VIDEO && !seen_video++) {
      read_media(m, &a->video_pt, &a->video_mid_ext, &a->video_time_ext, a->video_mid,
                 sizeof a->video_mid);
      read_simulcast(m, a);
    }
  }
  c = first_udp_candidate(s);
  if (!c) {
    snprintf(err, errlen, "answer has no candidate");
    return -1;
  }
  set_str(a->ip, sizeof a->ip, c->ip);
  a->port = c->port;
  if (!a->ufrag[0] || !a->pwd[0] || !a->fingerprint[0]) {
    snprintf(err, errlen, "answer lacks ICE credentials or a fingerprint");
    return -1;
  }
  return 0;
}

int sb_bench_answer_check_simulcast(const sb_bench_local_t *l, const sb_bench_answer_t *a, char *err,
                                    size_t errlen) {
  int same = a->video_nrids == l->nrids;
  for (int i = 0; same && i < l->nrids; i++)
    same = strcmp(a->video_rids[i], l->rids[i]) == 0;
  if (!l->nrids)
    return 0;
  if (a->video_pt < 0) {
    snprintf(err, errlen, "the video m-line was rejected");
    return -1;
  }
  if (!a->video_simulcast || !same) {
    snprintf(err, errlen, "no a=simulcast:recv with rids %s;%s;%s on the video m-line (a=simulcast %s, "
             "%d recv rids)", l->rids[0], l->nrids > 1 ? l->rids[1] : "", l->nrids > 2 ? l->rids[2] : "",
             a->video_simulcast ? "present" : "absent", a->video_nrids);
    return -1;
  }
  if (!a->video_rid_ext || !a->video_mid_ext) {
    snprintf(err, errlen, "the %s extension was not accepted on the video m-line",
             !a->video_rid_ext ? SB_EXT_RID : SB_EXT_MID);
    return -1;
  }
  return 0;
}

/* Keeps only the codec we use (with the offer's payload type) and the extensions we know. */
static void trim_media(sb_sdp_media_t *m) {
  const sb_sdp_codec_t *c = m->kind == SB_MEDIA_AUDIO ? sb_sdp_find_codec(m, "opus", 48000)
                                                      : sb_sdp_find_codec(m, "VP8", 90000);
  sb_sdp_ext_t exts[SB_SDP_MAX_EXT];
  uint8_t n = 0;
  if (!c) {
    m->port = 0;
    m->ncodecs = 0;
  } else {
    sb_sdp_codec_t keep = *c;
    m->codecs[0] = keep;
    m->ncodecs = 1;
  }
  for (int i = 0; i < m->nexts; i++)
    if (strcmp(m->exts[i].uri, SB_EXT_MID) == 0 || strcmp(m->exts[i].uri, SB_EXT_SEND_TIME) == 0 ||
        strcmp(m->exts[i].uri, SB_EXT_RID) == 0 || strcmp(m->exts[i].uri, SB_EXT_TWCC) == 0)
      exts[n++] = m->exts[i];
  memcpy(m->exts, exts, n * sizeof exts[0]);
  m->nexts = n;
}

static sb_dir_t answer_dir(sb_dir_t offered) {
  switch (offered) {
  case SB_DIR_SENDONLY: return SB_DIR_RECVONLY;
  case SB_DIR_RECVONLY: return SB_DIR_SENDONLY;
  case SB_DIR_INACTIVE: return SB_DIR_INACTIVE;
  default: return SB_DIR_RECVONLY; /* we publish only on our own m-lines */
  }
}

static void note_stream(const sb_sdp_media_t *m, sb_bench_offered_t *st) {
  const sb_sdp_codec_t *c = m->ncodecs ? &m->codecs[0] : NULL;
  const char *msid = m->msid[0] ? m->msid : (m->nssrcs ? m->ssrcs[0].msid : "");
  size_t ulen = strcspn(msid, " ");
  memset(st, 0, sizeof *st);
  set_str(st->mid, sizeof st->mid, m->mid);
  st->kind = m->kind;
  st->active = m->port && (m->dir == SB_DIR_SENDONLY || m->dir == SB_DIR_SENDRECV);
  st->ssrc = m->nssrcs ? m->ssrcs[0].ssrc : 0;
  if (m->nsim)
    st->ssrc = m->sim[0];
  snprintf(st->from_user, sizeof st->from_user, "%.*s", (int)ulen, msid);
  st->pt = c ? c->pt : -1;
  st->clock = c ? c->clock : 0;
  st->time_ext = sb_sdp_find_ext(m, SB_EXT_SEND_TIME);
}

int sb_bench_answer_write(const sb_bench_local_t *l, const sb_bench_answer_t *a, const char *offer,
                          size_t offer_len, sb_sdp_t *s, char *out, size_t cap,
                          sb_bench_offered_t *streams, int max, int *nstreams, char *err,
                          size_t errlen) {
  int n = 0, len;
  *nstreams = 0;
  if (sb_sdp_parse(offer, offer_len, s, err, errlen) < 0)
    return -1;
  for (int i = 0; i < s->nmedia; i++) {
    sb_sdp_media_t *m = &s->media[i];
    int ours = (a->audio_mid[0] && strcmp(m->mid, a->audio_mid) == 0) ||
               (a->video_mid[0] && strcmp(m->mid, a->video_mid) == 0);
    if (m->kind != SB_MEDIA_AUDIO && m->kind != SB_MEDIA_VIDEO)
      m->port = 0;
    trim_media(m);
    if (!ours && m->port && m->kind != SB_MEDIA_OTHER && n < max)
      note_stream(m, &streams[n++]);
    m->dir = ours && !l->receive_only ? SB_DIR_SENDONLY : answer_dir(m->dir);
    m->nssrcs = 0;
    m->fid[0] = m->fid[1] = 0;
    m->nsim = 0;
    m->nrids = 0;
    m->simulcast = 0;
    m->ncands = 0;
    m->end_of_candidates = 0;
    m->msid[0] = '\0';
    m->ice_ufrag[0] = m->ice_pwd[0] = m->fingerprint[0] = '\0';
    m->setup = -1;
    if (l->full_ice_peer && m->port)
      add_host_candidate(l, m);
    if (ours && !l->receive_only) {
      uint32_t ssrc = m->kind == SB_MEDIA_AUDIO ? l->audio_ssrc : l->video_ssrc;
      char msid[128];
      snprintf(msid, sizeof msid, "%s %s-%s", l->user, l->user,
               m->kind == SB_MEDIA_AUDIO ? "audio" : "video");
      set_str(m->msid, sizeof m->msid, msid);
      if (m->kind == SB_MEDIA_VIDEO && l->nrids)
        add_rids(l, m);
      else
        add_ssrc(m, ssrc, l->cname, msid);
    }
  }
  s->ice_lite = 0;
  session_common(l, s, SB_SETUP_ACTIVE);
  len = sb_sdp_write(s, out, cap);
  if (len < 0) {
    snprintf(err, errlen, "answer does not fit in %zu bytes", cap);
    return -1;
  }
  *nstreams = n;
  return len;
}

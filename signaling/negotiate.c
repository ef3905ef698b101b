#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/negotiate.h"

#define SB_SDP_TEXT_MAX (256 * 1024)

/* Header extensions the relay uses; anything else offered is left out of the answer. */
static const char *const accepted_exts[] = {SB_EXT_MID,       SB_EXT_AUDIO_LEVEL, SB_EXT_SEND_TIME,
                                            SB_EXT_TWCC,      SB_EXT_RID,         SB_EXT_RRID};

/* Candidate priorities (RFC 8445 §5.1.2.1): type preference << 24 | local preference << 8 |
 * (256 - component). The UDP host candidate has the highest there is; the passive TCP host
 * candidate (RFC 6544 §4.2: local preference = direction preference (passive host: 4) << 13 |
 * other preference) gets a lower type preference, so a client prefers UDP whenever it works
 * and falls back to TCP when it does not. */
#define SB_PRIO_UDP_HOST (126u << 24 | 65535u << 8 | 255u)
#define SB_PRIO_TCP_PASSIVE_HOST (90u << 24 | (4u << 13 | 8191u) << 8 | 255u)

static void add_candidate(const sb_call_config_t *cfg, sb_participant_t *p, sb_sdp_media_t *m) {
  sb_sdp_candidate_t *c = &m->cands[0];
  memset(c, 0, sizeof *c);
  snprintf(c->foundation, sizeof c->foundation, "1");
  c->component = 1;
  c->priority = SB_PRIO_UDP_HOST;
  snprintf(c->ip, sizeof c->ip, "%s", cfg->announce_ip);
  c->port = cfg->ports[p->worker];
  snprintf(c->type, sizeof c->type, "host");
  m->ncands = 1;
  m->end_of_candidates = 1;
  m->port = c->port;
  if (!cfg->tcp_ports[p->worker])
    return;
  c = &m->cands[m->ncands++];
  memset(c, 0, sizeof *c);
  snprintf(c->foundation, sizeof c->foundation, "2"); /* another protocol: another foundation */
  c->component = 1;
  c->priority = SB_PRIO_TCP_PASSIVE_HOST;
  snprintf(c->ip, sizeof c->ip, "%s", cfg->announce_ip);
  c->port = cfg->tcp_ports[p->worker];
  snprintf(c->type, sizeof c->type, "host");
  c->tcp = 1;
  snprintf(c->tcptype, sizeof c->tcptype, "passive");
}

static void set_session(const sb_call_config_t *cfg, sb_participant_t *p, sb_sdp_t *d, int setup) {
  d->session_id = p->sdp_session_id;
  d->session_version = (uint64_t)++p->sdp_version;
  snprintf(d->origin_user, sizeof d->origin_user, "switchboard");
  d->ice_lite = 1;
  snprintf(d->ice_ufrag, sizeof d->ice_ufrag, "%s", p->ufrag);
  snprintf(d->ice_pwd, sizeof d->ice_pwd, "%s", p->pwd);
  snprintf(d->fingerprint_alg, sizeof d->fingerprint_alg, "sha-256");
  snprintf(d->fingerprint, sizeof d->fingerprint, "%s", cfg->fingerprint);
  d->setup = setup;
  snprintf(d->msid_semantic, sizeof d->msid_semantic, "WMS");
}

static void keep_exts(const sb_sdp_media_t *in, sb_sdp_media_t *out) {
  out->nexts = 0;
  for (int i = 0; i < in->nexts; i++)
    for (size_t k = 0; k < SB_ARRAY_SIZE(accepted_exts); k++)
      if (strcmp(in->exts[i].uri, accepted_exts[k]) == 0)
        out->exts[out->nexts++] = in->exts[i];
}

static void copy_fb(const sb_sdp_codec_t *in, sb_sdp_codec_t *out, const char *const *want, int nwant) {
  out->nfb = 0;
  for (int i = 0; i < in->nfb; i++)
    for (int k = 0; k < nwant; k++)
      if (strcmp(in->fb[i], want[k]) == 0 && out->nfb < SB_SDP_MAX_FB)
        snprintf(out->fb[out->nfb++], sizeof out->fb[0], "%s", want[k]);
}

/* Chooses the codec for one of the client's m-lines; returns 0 or -1 (m-line rejected). */
static int answer_codec(sb_participant_t *p, const sb_sdp_media_t *in, sb_sdp_media_t *out) {
  static const char *const video_fb[] = {"nack", "nack pli", "ccm fir", "transport-cc"};
  static const char *const audio_fb[] = {"transport-cc"};
  const sb_sdp_codec_t *c;
  if (in->kind == SB_MEDIA_AUDIO && (c = sb_sdp_find_codec(in, "opus", 48000))) {
    out->codecs[0] = *c;
    copy_fb(c, &out->codecs[0], audio_fb, 1);
    if (p->opus_pt && p->opus_pt != c->pt)
      return -1; /* one payload type per codec on a bundled transport */
    p->opus_pt = c->pt;
  } else if (in->kind == SB_MEDIA_VIDEO && (c = sb_sdp_find_codec(in, "VP8", 90000))) {
    out->codecs[0] = *c;
    copy_fb(c, &out->codecs[0], video_fb, 4);
    if (p->vp8_pt && p->vp8_pt != c->pt)
      return -1;
    p->vp8_pt = c->pt;
    const sb_sdp_codec_t *rtx = sb_sdp_find_rtx(in, c->pt);
    if (rtx) { /* RFC 4588 retransmissions, both ways */
      out->codecs[1] = *rtx;
      out->codecs[1].nfb = 0;
      out->ncodecs = 2;
      p->rtx_pt = rtx->pt;
      return 0;
    }
  } else {
    return -1;
  }
  out->ncodecs = 1;
  return 0;
}

static uint32_t primary_ssrc(const sb_sdp_media_t *m) {
  if (m->nsim)
    return m->sim[0];
  if (m->fid[0])
    return m->fid[0];
  return m->nssrcs ? m->ssrcs[0].ssrc : 0;
}

/* The RTX SSRC paired with `ssrc` by an a=ssrc-group:FID, 0 if none. */
static uint32_t rtx_ssrc_of(const sb_sdp_media_t *m, uint32_t ssrc) {
  for (int i = 0; i < m->nfids; i++)
    if (m->fids[i][0] == ssrc)
      return m->fids[i][1];
  return 0;
}

/* A published track's layers, lowest first; one entry without simulcast. */
typedef struct {
  int n;
  const char *rids[SB_SIMULCAST_LAYERS];  /* rid simulcast; NULL otherwise */
  uint32_t ssrcs[SB_SIMULCAST_LAYERS];    /* signalled SSRCs; 0 = learned from mid/rid */
} layers_t;

/* Simulcast (RFC 8853): one layer per send rid, in a=simulcast order; the answer echoes the
 * rids as recv with a=simulcast. Otherwise legacy SSRC simulcast (a=ssrc-group:SIM, as Chromium
 * sends when its offer is munged): one layer per SIM SSRC in group order, which Chromium writes
 * lowest first; the answer stays plain recvonly. rids win when both are present. */
static void choose_layers(const sb_sdp_media_t *in, sb_sdp_media_t *out, layers_t *ly) {
  memset(ly, 0, sizeof *ly);
  if (in->kind == SB_MEDIA_VIDEO && in->simulcast)
    for (int i = 0; i < in->nrids && ly->n < SB_SIMULCAST_LAYERS; i++)
      if (in->rids[i].dir == SB_DIR_SENDONLY) {
        ly->rids[ly->n++] = in->rids[i].id;
        out->rids[out->nrids] = in->rids[i];
        out->rids[out->nrids++].dir = SB_DIR_RECVONLY;
      }
  out->simulcast = ly->n > 1;
  if (out->simulcast)
    return;
  memset(ly, 0, sizeof *ly); /* a single send rid is no simulcast: its SSRC is signalled */
  if (in->kind == SB_MEDIA_VIDEO && in->nsim >= 2) {
    out->nrids = 0;
    memset(out->rids, 0, sizeof out->rids);
    ly->n = in->nsim < SB_SIMULCAST_LAYERS ? in->nsim : SB_SIMULCAST_LAYERS;
    for (int l = 0; l < ly->n; l++)
      ly->ssrcs[l] = in->sim[l];
    return;
  }
  ly->n = 1;
  ly->ssrcs[0] = primary_ssrc(in);
}

/* Adds the track's producers (one per layer) to the create command and records the track. */
static int add_pub(sb_participant_t *p, const sb_sdp_media_t *in, const sb_sdp_media_t *out,
                   sb_cmd_t *create, const layers_t *ly) {
  if (create->u.create.nproducers + ly->n > SB_MAX_PRODUCERS || p->npubs >= SB_MAX_PRODUCERS)
    return -1;
  sb_pub_t *pub = &p->pubs[p->npubs++];
  snprintf(pub->mid, sizeof pub->mid, "%s", in->mid);
  pub->kind = in->kind == SB_MEDIA_AUDIO ? SB_KIND_AUDIO : SB_KIND_VIDEO;
  pub->producer_id = (uint32_t)create->u.create.nproducers;
  pub->nlayers = ly->n > 1 ? (uint8_t)ly->n : 0;
  uint8_t rtx_pt = out->ncodecs > 1 ? out->codecs[1].pt : 0;
  for (int l = 0; l < ly->n; l++) {
    int n = create->u.create.nproducers++;
    sb_producer_spec_t *ps = &create->u.create.producers[n];
    ps->id = (uint32_t)n;
    ps->kind = pub->kind;
    ps->pt = out->codecs[0].pt;
    ps->clock = out->codecs[0].clock;
    snprintf(ps->mid, sizeof ps->mid, "%s", in->mid);
    ps->layer = ly->n > 1 ? (uint8_t)l : 0;
    if (ly->rids[l]) {
      /* SSRCs are learned from the rid extension (browsers send no a=ssrc with rids). */
      snprintf(ps->rid, sizeof ps->rid, "%s", ly->rids[l]);
      ps->rtx_pt = rtx_pt;
      continue;
    }
    ps->ssrc = ly->ssrcs[l]; /* 0: learned from the mid extension */
    ps->rtx_ssrc = rtx_pt && ps->ssrc ? rtx_ssrc_of(in, ps->ssrc) : 0;
    ps->rtx_pt = ps->rtx_ssrc || !ps->ssrc ? rtx_pt : 0;
  }
  return 0;
}

static void set_ext_ids(sb_participant_t *p, const sb_sdp_media_t *m) {
  uint8_t id;
  if ((id = sb_sdp_find_ext(m, SB_EXT_MID)))
    p->ext.mid = id;
  if ((id = sb_sdp_find_ext(m, SB_EXT_AUDIO_LEVEL)))
    p->ext.audio_level = id;
  if ((id = sb_sdp_find_ext(m, SB_EXT_SEND_TIME)))
    p->ext.send_time = id;
  if ((id = sb_sdp_find_ext(m, SB_EXT_TWCC)))
    p->ext.twcc = id;
  if ((id = sb_sdp_find_ext(m, SB_EXT_RID)))
    p->ext.rid = id;
  if ((id = sb_sdp_find_ext(m, SB_EXT_RRID)))
    p->ext.rrid = id;
}

int sb_negotiate_offered(const sb_sdp_t *offer, const sb_sdp_media_t *m) {
  return sb_sdp_in_bundle(offer, m->mid) && (m->port != 0 || m->bundle_only);
}

/* Answers one m-line. An accepted bundle-only m-line gets the bundle's port, candidate and
 * ICE/DTLS attributes like any other (RFC 8843 §7.3: no bundle-only in an answer). */
static int answer_media(const sb_call_config_t *cfg, sb_participant_t *p, const sb_sdp_t *offer,
                        const sb_sdp_media_t *in, sb_sdp_media_t *out, sb_cmd_t *create) {
  memset(out, 0, sizeof *out);
  out->setup = -1; /* the session-level a=setup applies */
  out->kind = in->kind;
  snprintf(out->mid, sizeof out->mid, "%s", in->mid);
  if (!sb_negotiate_offered(offer, in) || answer_codec(p, in, out) != 0) {
    out->port = 0;
    out->dir = SB_DIR_INACTIVE;
    if (in->ncodecs)
      out->codecs[0] = in->codecs[0], out->ncodecs = 1;
    return 0;
  }
  keep_exts(in, out);
  set_ext_ids(p, in);
  out->rtcp_mux = 1;
  out->rtcp_rsize = in->rtcp_rsize;
  add_candidate(cfg, p, out);
  int publishes = in->dir == SB_DIR_SENDONLY || in->dir == SB_DIR_SENDRECV;
  out->dir = publishes ? SB_DIR_RECVONLY : SB_DIR_INACTIVE;
  if (!publishes)
    return 0;
  layers_t ly;
  choose_layers(in, out, &ly);
  return add_pub(p, in, out, create, &ly);
}

char *sb_negotiate_answer(const sb_call_config_t *cfg, sb_participant_t *p, const sb_sdp_t *offer,
                          sb_cmd_t *create, char *err, size_t errlen) {
  sb_sdp_t *ans = sb_sdp_new();
  char *text = malloc(SB_SDP_TEXT_MAX);
  if (!ans || !text)
    goto Fail;
  if (offer->setup == SB_SETUP_PASSIVE) {
    snprintf(err, errlen, "the server is the DTLS server: offer a=setup:actpass or active");
    goto Fail;
  }
  if (offer->nbundle == 0) {
    snprintf(err, errlen, "BUNDLE is required: offer a=group:BUNDLE with every m-line (bundle "
                          "policy max-bundle or balanced)");
    goto Fail;
  }
  /* Checked here so the join is refused; the relay would fail to create the transport. */
  if (!sb_dtls_fingerprint_usable(offer->fingerprint_alg, offer->fingerprint)) {
    snprintf(err, errlen, "unusable a=fingerprint \"%.16s\": sha-256 (or sha-1/384/512) with a "
             "value of that hash's length", offer->fingerprint_alg);
    goto Fail;
  }
  set_session(cfg, p, ans, SB_SETUP_PASSIVE);
  p->own = calloc(offer->nmedia, sizeof *p->own);
  if (!p->own)
    goto Fail;
  for (int i = 0; i < offer->nmedia; i++) {
    if (answer_media(cfg, p, offer, &offer->media[i], &ans->media[i], create) != 0) {
      snprintf(err, errlen, "more than %d published tracks", SB_MAX_PRODUCERS);
      goto Fail;
    }
    if (ans->media[i].port)
      snprintf(ans->bundle[ans->nbundle++], sizeof ans->bundle[0], "%s", ans->media[i].mid);
    p->own[i] = ans->media[i];
  }
  p->nown = offer->nmedia;
  ans->nmedia = offer->nmedia;
  if (ans->nbundle == 0) {
    snprintf(err, errlen, "no usable audio (opus) or video (VP8) m-line");
    goto Fail;
  }
  snprintf(create->u.create.fp_alg, sizeof create->u.create.fp_alg, "%s", offer->fingerprint_alg);
  snprintf(create->u.create.fp, sizeof create->u.create.fp, "%s", offer->fingerprint);
  snprintf(create->u.create.ufrag, sizeof create->u.create.ufrag, "%s", p->ufrag);
  snprintf(create->u.create.pwd, sizeof create->u.create.pwd, "%s", p->pwd);
  create->u.create.ext = p->ext;
  if (sb_sdp_write(ans, text, SB_SDP_TEXT_MAX) < 0) {
    snprintf(err, errlen, "answer too large");
    goto Fail;
  }
  free(ans);
  return text;
Fail:
  if (!err[0])
    snprintf(err, errlen, "out of memory");
  free(ans);
  free(text);
  return NULL;
}

static void slot_media(const sb_call_config_t *cfg, sb_participant_t *p, const sb_slot_t *s,
                       sb_sdp_media_t *m) {
  /* A slot's m-line mirrors the client's own m-line of the same kind: same codec and
   * extension ids, since one bundled transport has one payload-type and id space. */
  const sb_sdp_media_t *tmpl = NULL;
  for (int i = 0; i < p->nown && !tmpl; i++)
    if (p->own[i].port && (int)p->own[i].kind == (int)(s->kind == SB_KIND_AUDIO ? SB_MEDIA_AUDIO : SB_MEDIA_VIDEO))
      tmpl = &p->own[i];
  memset(m, 0, sizeof *m);
  m->setup = -1;
  m->kind = s->kind == SB_KIND_AUDIO ? SB_MEDIA_AUDIO : SB_MEDIA_VIDEO;
  snprintf(m->mid, sizeof m->mid, "%s", s->mid);
  if (tmpl) {
    m->ncodecs = tmpl->ncodecs;
    memcpy(m->codecs, tmpl->codecs, sizeof m->codecs);
    m->nexts = tmpl->nexts;
    memcpy(m->exts, tmpl->exts, sizeof m->exts);
    m->rtcp_rsize = tmpl->rtcp_rsize;
  }
  m->rtcp_mux = 1;
  add_candidate(cfg, p, m);
  m->dir = s->state == SB_SLOT_ACTIVE ? SB_DIR_SENDONLY : SB_DIR_INACTIVE;
  if (s->state == SB_SLOT_ACTIVE) {
    snprintf(m->msid, sizeof m->msid, "%.63s %.63s", s->stream, s->track);
    m->nssrcs = s->rtx_ssrc ? 2 : 1;
    for (int i = 0; i < m->nssrcs; i++) {
      m->ssrcs[i].ssrc = i ? s->rtx_ssrc : s->ssrc;
      snprintf(m->ssrcs[i].cname, sizeof m->ssrcs[i].cname, "%s", s->stream);
      snprintf(m->ssrcs[i].msid, sizeof m->ssrcs[i].msid, "%.63s %.63s", s->stream, s->track);
    }
    if (s->rtx_ssrc) {
      m->fid[0] = s->ssrc;
      m->fid[1] = s->rtx_ssrc;
    }
  }
}

char *sb_negotiate_offer(const sb_call_config_t *cfg, sb_participant_t *p) {
  if (p->nown + p->nslots > SB_SDP_MAX_MEDIA) {
    sb_warn(p->ctx, "negotiate: %d m-lines exceed the limit of %d", p->nown + p->nslots, SB_SDP_MAX_MEDIA);
    return NULL;
  }
  sb_sdp_t *d = sb_sdp_new();
  char *text = malloc(SB_SDP_TEXT_MAX);
  if (!d || !text) {
    free(d);
    free(text);
    return NULL;
  }
  set_session(cfg, p, d, SB_SETUP_ACTPASS);
  for (int i = 0; i < p->nown; i++) {
    d->media[d->nmedia] = p->own[i];
    if (p->own[i].port)
      add_candidate(cfg, p, &d->media[d->nmedia]);
    d->media[d->nmedia].setup = -1;
    d->nmedia++;
  }
  for (int i = 0; i < p->nslots; i++)
    slot_media(cfg, p, &p->slots[i], &d->media[d->nmedia++]);
  for (int i = 0; i < d->nmedia; i++)
    if (d->media[i].port)
      snprintf(d->bundle[d->nbundle++], sizeof d->bundle[0], "%s", d->media[i].mid);
  if (sb_sdp_write(d, text, SB_SDP_TEXT_MAX) < 0) {
    free(text);
    text = NULL;
  }
  free(d);
  return text;
}

int sb_negotiate_check_answer(const sb_participant_t *p, const sb_sdp_t *answer, char *err, size_t errlen) {
  /* Compared with the offer being answered, not with the slots now: tracks may have been added
   * since that offer went out (they follow in the next one). */
  if (answer->nmedia != p->offered_mlines) {
    snprintf(err, errlen, "answer has %d m-lines, the offer had %d", answer->nmedia, p->offered_mlines);
    return -1;
  }
  for (int i = 0; i < p->offered_mlines - p->nown; i++) {
    const sb_sdp_media_t *m = &answer->media[p->nown + i];
    if (strcmp(m->mid, p->slots[i].mid) != 0) {
      snprintf(err, errlen, "m-line %d has mid %s, expected %s", p->nown + i, m->mid, p->slots[i].mid);
      return -1;
    }
  }
  return 0;
}

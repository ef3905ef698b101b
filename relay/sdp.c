/* SDP parser and writer for WebRTC offers and answers (see relay/sdp.h).
 *
 * The parser copies one line at a time into a bounded buffer, so it never reads past `len` and
 * never allocates. What does not fit a fixed limit is dropped where a browser still interoperates
 * without it (extra codecs, extensions, SSRCs, feedback values, long fmtp of exotic codecs) and is
 * an error where dropping it would change the meaning (numbers out of range, too many m-lines,
 * over-long credentials or identifiers). This file depends on libc only, so the fuzz target
 * builds it alone. */
#include "relay/sdp.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SDP_MAX_TEXT (256 * 1024)
#define SDP_MAX_LINE 4096
#define MIN(a, b) ((a) < (b) ? (a) : (b))

typedef struct {
  sb_sdp_t *sdp;
  sb_sdp_media_t *m; /* current media section, NULL at session level */
  char *err;
  size_t errlen;
  unsigned lineno;
  sb_dir_t session_dir; /* a session-level direction is the default of each m-line */
  /* a=simulcast rids of the current media section, reconciled with a=rid at its end because
   * browsers write the two in either order */
  char sim_rids[SB_SDP_MAX_RID][16];
  int nsim_rids;
} parse_ctx_t;

typedef int (*attr_fn)(parse_ctx_t *c, char *value, int arg);

__attribute__((format(printf, 2, 3))) static int fail(parse_ctx_t *c, const char *fmt, ...) {
  if (!c->err || c->errlen == 0)
    return -1;
  size_t off = 0;
  if (c->lineno > 0) {
    int n = snprintf(c->err, c->errlen, "line %u: ", c->lineno);
    off = n < 0 ? 0 : (size_t)n < c->errlen ? (size_t)n : c->errlen - 1;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err + off, c->errlen - off, fmt, ap);
  va_end(ap);
  return -1;
}

/* Decimal digits only, no sign or spaces, at most `max`. */
static int parse_num(const char *s, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  if (!s || !*s)
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    unsigned d = (unsigned)(*s - '0');
    if (v > (max - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

static char *skip_blanks(char *s) {
  return s + strspn(s, " \t");
}

/* Splits off the next blank-separated token in place; NULL when none is left. */
static char *next_tok(char **p) {
  char *t = skip_blanks(*p);
  size_t n = strcspn(t, " \t");
  *p = t[n] ? t + n + 1 : t + n;
  t[n] = '\0';
  return n ? t : NULL;
}

/* Copies src if it fits (with its NUL) into cap bytes; -1 leaves dst unchanged. */
static int copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap)
    return -1;
  memcpy(dst, src, n + 1);
  return 0;
}

/* A number field of an attribute; out of range is an error with the field's name. */
static int parse_field(parse_ctx_t *c, const char *s, uint64_t max, const char *what,
                       uint64_t *v) {
  *v = 0;
  if (parse_num(s, max, v) < 0)
    return fail(c, "%s \"%.16s\" is not a number in 0..%llu", what, s ? s : "",
                (unsigned long long)max);
  return 0;
}

static sb_sdp_codec_t *codec_by_pt(sb_sdp_media_t *m, uint8_t pt) {
  for (int i = 0; i < m->ncodecs; i++)
    if (m->codecs[i].pt == pt)
      return &m->codecs[i];
  return NULL;
}

/* A codec the struct cannot represent is ignored like one over the limit. */
static void drop_codec(sb_sdp_media_t *m, sb_sdp_codec_t *codec) {
  size_t i = (size_t)(codec - m->codecs);
  memmove(&m->codecs[i], &m->codecs[i + 1], (m->ncodecs - i - 1) * sizeof *codec);
  m->ncodecs--;
  memset(&m->codecs[m->ncodecs], 0, sizeof *codec); /* a described struct has no stale slots */
}

/* ---- attributes ---------------------------------------------------------------------------- */

static int attr_group(parse_ctx_t *c, char *v, int arg) {
  char *sem = next_tok(&v);
  if (!sem || strcmp(sem, "BUNDLE") != 0)
    return 0; /* other group semantics (LS) do not matter to an SFU */
  sb_sdp_t *sdp = c->sdp;
  for (char *mid = next_tok(&v); mid; mid = next_tok(&v)) {
    if (sdp->nbundle >= SB_SDP_MAX_MEDIA)
      return fail(c, "more than %d mids in a=group:BUNDLE", SB_SDP_MAX_MEDIA);
    if (copy_str(sdp->bundle[sdp->nbundle], sizeof sdp->bundle[0], mid) < 0)
      return fail(c, "BUNDLE mid longer than %zu characters", sizeof sdp->bundle[0] - 1);
    sdp->nbundle++;
  }
  return 0;
}

static int attr_msid_semantic(parse_ctx_t *c, char *v, int arg) {
  char *sem = next_tok(&v);
  if (sem)
    copy_str(c->sdp->msid_semantic, sizeof c->sdp->msid_semantic, sem);
  return 0;
}

enum { FLAG_ICE_LITE, FLAG_RTCP_MUX, FLAG_RTCP_RSIZE, FLAG_END_OF_CANDIDATES, FLAG_BUNDLE_ONLY };

static int attr_flag(parse_ctx_t *c, char *v, int arg) {
  int *flag[] = {&c->sdp->ice_lite, c->m ? &c->m->rtcp_mux : NULL,
                 c->m ? &c->m->rtcp_rsize : NULL, c->m ? &c->m->end_of_candidates : NULL,
                 c->m ? &c->m->bundle_only : NULL};
  if (flag[arg])
    *flag[arg] = 1;
  return 0;
}

/* arg 0: a=ice-ufrag, 1: a=ice-pwd; media-level values stay in their m-line */
static int attr_ice(parse_ctx_t *c, char *v, int arg) {
  sb_sdp_media_t *m = c->m;
  char *dst = arg ? (m ? m->ice_pwd : c->sdp->ice_pwd) : (m ? m->ice_ufrag : c->sdp->ice_ufrag);
  size_t cap = arg ? sizeof c->sdp->ice_pwd : sizeof c->sdp->ice_ufrag;
  if (!*v || copy_str(dst, cap, v) < 0)
    return fail(c, "a=%s must have 1..%zu characters", arg ? "ice-pwd" : "ice-ufrag", cap - 1);
  return 0;
}

static int attr_fingerprint(parse_ctx_t *c, char *v, int arg) {
  char *alg_dst = c->m ? c->m->fingerprint_alg : c->sdp->fingerprint_alg;
  char *fp_dst = c->m ? c->m->fingerprint : c->sdp->fingerprint;
  char *alg = next_tok(&v), *fp = next_tok(&v);
  if (!alg || !fp || fp[strspn(fp, "0123456789abcdefABCDEF:")] != '\0')
    return fail(c, "malformed a=fingerprint");
  /* Keep the first one that fits; a longer hash (sha-512) beside it is not needed. */
  if (*fp_dst || strlen(alg) >= sizeof c->sdp->fingerprint_alg ||
      strlen(fp) >= sizeof c->sdp->fingerprint)
    return 0;
  copy_str(alg_dst, sizeof c->sdp->fingerprint_alg, alg);
  copy_str(fp_dst, sizeof c->sdp->fingerprint, fp);
  return 0;
}

static int attr_setup(parse_ctx_t *c, char *v, int arg) {
  static const char *names[] = {"actpass", "active", "passive", "holdconn"};
  for (int i = 0; i < 4; i++)
    if (strcmp(v, names[i]) == 0) {
      *(c->m ? &c->m->setup : &c->sdp->setup) = i;
      return 0;
    }
  return fail(c, "unknown a=setup value \"%.16s\"", v);
}

static int attr_mid(parse_ctx_t *c, char *v, int arg) {
  if (!*v || copy_str(c->m->mid, sizeof c->m->mid, v) < 0)
    return fail(c, "a=mid must have 1..%zu characters", sizeof c->m->mid - 1);
  return 0;
}

static int attr_extmap(parse_ctx_t *c, char *v, int arg) {
  sb_sdp_media_t *m = c->m;
  char *id_s = next_tok(&v), *uri = next_tok(&v);
  uint64_t id;
  if (!id_s || !uri)
    return fail(c, "malformed a=extmap");
  id_s[strcspn(id_s, "/")] = '\0'; /* Firefox: a=extmap:N/sendonly uri */
  if (parse_field(c, id_s, 255, "a=extmap id", &id) < 0)
    return -1;
  if (id == 0)
    return fail(c, "a=extmap id 0 is reserved");
  if (m->nexts >= SB_SDP_MAX_EXT || strlen(uri) >= sizeof m->exts[0].uri)
    return 0;
  m->exts[m->nexts].id = (uint8_t)id;
  copy_str(m->exts[m->nexts].uri, sizeof m->exts[0].uri, uri);
  m->nexts++;
  return 0;
}

static int attr_direction(parse_ctx_t *c, char *v, int arg) {
  *(c->m ? &c->m->dir : &c->session_dir) = (sb_dir_t)arg;
  return 0;
}

static int attr_msid(parse_ctx_t *c, char *v, int arg) {
  if (copy_str(c->m->msid, sizeof c->m->msid, v) < 0)
    return fail(c, "a=msid longer than %zu characters", sizeof c->m->msid - 1);
  return 0;
}

static int attr_rtpmap(parse_ctx_t *c, char *v, int arg) {
  char *pt_s = next_tok(&v), *name = next_tok(&v);
  char *clock_s = name ? strchr(name, '/') : NULL, *ch_s = NULL;
  uint64_t pt, clock, ch = 0;
  if (parse_field(c, pt_s, 127, "payload type", &pt) < 0)
    return -1;
  if (!clock_s)
    return fail(c, "malformed a=rtpmap");
  *clock_s++ = '\0';
  if ((ch_s = strchr(clock_s, '/')) != NULL)
    *ch_s++ = '\0';
  if (parse_field(c, clock_s, UINT32_MAX, "clock rate", &clock) < 0 ||
      (ch_s && parse_field(c, ch_s, 255, "channel count", &ch) < 0))
    return -1;
  sb_sdp_codec_t *codec = codec_by_pt(c->m, (uint8_t)pt);
  if (!codec)
    return 0; /* not on the m-line, or over the codec limit */
  if (copy_str(codec->name, sizeof codec->name, name) < 0) {
    drop_codec(c->m, codec);
    return 0;
  }
  codec->clock = (uint32_t)clock;
  codec->channels = (uint8_t)ch;
  return 0;
}

static void add_fb(sb_sdp_codec_t *codec, const char *fb) {
  if (codec->nfb >= SB_SDP_MAX_FB || strlen(fb) >= sizeof codec->fb[0])
    return;
  for (int i = 0; i < codec->nfb; i++)
    if (strcmp(codec->fb[i], fb) == 0)
      return;
  copy_str(codec->fb[codec->nfb++], sizeof codec->fb[0], fb);
}

static int attr_rtcp_fb(parse_ctx_t *c, char *v, int arg) {
  char *pt_s = next_tok(&v), *fb = skip_blanks(v);
  uint64_t pt;
  if (!pt_s || !*fb)
    return fail(c, "malformed a=rtcp-fb");
  if (strcmp(pt_s, "*") == 0) {
    for (int i = 0; i < c->m->ncodecs; i++)
      add_fb(&c->m->codecs[i], fb);
    return 0;
  }
  if (parse_field(c, pt_s, 127, "payload type", &pt) < 0)
    return -1;
  sb_sdp_codec_t *codec = codec_by_pt(c->m, (uint8_t)pt);
  if (codec)
    add_fb(codec, fb);
  return 0;
}

/* The "apt=" parameter of an rtx fmtp, or -1. */
static int fmtp_apt(parse_ctx_t *c, const char *params, int *apt) {
  const char *p = strstr(params, "apt=");
  while (p && p != params && p[-1] != ';' && p[-1] != ' ')
    p = strstr(p + 1, "apt=");
  *apt = -1;
  if (!p)
    return 0;
  char num[8];
  size_t n = strcspn(p + 4, "; ");
  uint64_t v;
  snprintf(num, sizeof num, "%.*s", (int)n, p + 4);
  if (n >= sizeof num || parse_num(num, 127, &v) < 0)
    return fail(c, "rtx apt \"%.16s\" is not a payload type in 0..127", p + 4);
  *apt = (int)v;
  return 0;
}

static int attr_fmtp(parse_ctx_t *c, char *v, int arg) {
  char *pt_s = next_tok(&v), *params = skip_blanks(v);
  uint64_t pt;
  int apt;
  if (parse_field(c, pt_s, 127, "payload type", &pt) < 0 || fmtp_apt(c, params, &apt) < 0)
    return -1;
  sb_sdp_codec_t *codec = codec_by_pt(c->m, (uint8_t)pt);
  if (!codec)
    return 0;
  if (copy_str(codec->fmtp, sizeof codec->fmtp, params) < 0) {
    drop_codec(c->m, codec); /* parameters we cannot echo faithfully: leave the codec out */
    return 0;
  }
  codec->apt = apt;
  return 0;
}

/* Group SSRCs are checked against the a=ssrc lines when the media section ends (finish_media):
 * Chromium writes the groups first, Firefox last. */
static int attr_ssrc_group(parse_ctx_t *c, char *v, int arg) {
  sb_sdp_media_t *m = c->m;
  char *sem = next_tok(&v);
  uint32_t ssrcs[SB_SDP_MAX_SIM + 1];
  int n = 0;
  if (!sem)
    return fail(c, "malformed a=ssrc-group");
  for (char *t = next_tok(&v); t; t = next_tok(&v)) {
    uint64_t s;
    if (parse_field(c, t, UINT32_MAX, "SSRC", &s) < 0)
      return -1;
    if (n < SB_SDP_MAX_SIM + 1)
      ssrcs[n] = (uint32_t)s;
    n++;
  }
  int fid = strcmp(sem, "FID") == 0, sim = strcmp(sem, "SIM") == 0;
  for (int i = 0; (fid || sim) && i < n && i < SB_SDP_MAX_SIM + 1; i++)
    for (int k = 0; k < i; k++)
      if (ssrcs[k] == ssrcs[i])
        return fail(c, "a=ssrc-group:%s names SSRC %u twice", sem, ssrcs[i]);
  if (fid) {
    if (n != 2)
      return fail(c, "a=ssrc-group:FID needs two SSRCs");
    if (m->nfids == 0) { /* fid stays the first pair, as older callers read it */
      m->fid[0] = ssrcs[0];
      m->fid[1] = ssrcs[1];
    }
    if (m->nfids < SB_SDP_MAX_FID) {
      m->fids[m->nfids][0] = ssrcs[0];
      m->fids[m->nfids++][1] = ssrcs[1];
    }
  } else if (sim) {
    /* Refused rather than cut short: forwarding a subset of the layers would pick an arbitrary
     * one, and two groups would leave the layer order ambiguous. */
    if (n < 1 || n > SB_SDP_MAX_SIM)
      return fail(c, "a=ssrc-group:SIM needs 1..%d SSRCs, not %d", SB_SDP_MAX_SIM, n);
    if (m->nsim)
      return fail(c, "more than one a=ssrc-group:SIM in a media section");
    for (int i = 0; i < n; i++)
      m->sim[m->nsim++] = ssrcs[i];
  }
  return 0;
}

static int attr_ssrc(parse_ctx_t *c, char *v, int arg) {
  sb_sdp_media_t *m = c->m;
  uint64_t ssrc;
  if (parse_field(c, next_tok(&v), UINT32_MAX, "SSRC", &ssrc) < 0)
    return -1;
  char *rest = skip_blanks(v);
  sb_sdp_ssrc_t *s = NULL;
  for (int i = 0; i < m->nssrcs && !s; i++)
    if (m->ssrcs[i].ssrc == ssrc)
      s = &m->ssrcs[i];
  if (!s) {
    if (m->nssrcs >= SB_SDP_MAX_SSRC)
      return 0;
    s = &m->ssrcs[m->nssrcs++];
    s->ssrc = (uint32_t)ssrc;
  }
  if (strncmp(rest, "cname:", 6) == 0 && copy_str(s->cname, sizeof s->cname, rest + 6) < 0)
    return fail(c, "a=ssrc cname longer than %zu characters", sizeof s->cname - 1);
  if (strncmp(rest, "msid:", 5) == 0 && copy_str(s->msid, sizeof s->msid, rest + 5) < 0)
    return fail(c, "a=ssrc msid longer than %zu characters", sizeof s->msid - 1);
  return 0;
}

static int valid_rid(const char *id) {
  size_t n = strlen(id);
  return n > 0 && n < sizeof(((sb_sdp_rid_t *)0)->id) &&
         id[strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")] == 0;
}

/* Index of `id` among n rid strings spaced `stride` bytes apart, or -1. */
static int find_rid(const char *ids, size_t stride, int n, const char *id) {
  for (int i = 0; i < n; i++)
    if (strcmp(ids + (size_t)i * stride, id) == 0)
      return i;
  return -1;
}

static int attr_rid(parse_ctx_t *c, char *v, int arg) {
  sb_sdp_media_t *m = c->m;
  char *id = next_tok(&v), *dir = next_tok(&v);
  if (!id || !valid_rid(id))
    return fail(c, "a=rid id must be 1..15 characters of [A-Za-z0-9_-]");
  if (!dir || (strcmp(dir, "send") != 0 && strcmp(dir, "recv") != 0))
    return fail(c, "a=rid direction must be send or recv");
  if (m->nrids >= SB_SDP_MAX_RID || find_rid(m->rids[0].id, sizeof m->rids[0], m->nrids, id) >= 0)
    return 0; /* a repeated rid keeps its first line */
  copy_str(m->rids[m->nrids].id, sizeof m->rids[0].id, id);
  m->rids[m->nrids].dir = dir[0] == 's' ? SB_DIR_SENDONLY : SB_DIR_RECVONLY;
  m->nrids++;
  return 0;
}

/* a=simulcast:send h;~m;l,x recv y: the first alternative of each stream, paused or not. */
static int attr_simulcast(parse_ctx_t *c, char *v, int arg) {
  c->m->simulcast = 1;
  for (char *t = next_tok(&v); t; t = next_tok(&v)) {
    if (strcmp(t, "send") == 0 || strcmp(t, "recv") == 0)
      continue;
    if (strncmp(t, "rid=", 4) == 0) /* the pre-RFC 8853 form */
      t += 4;
    for (char *save = NULL, *s = strtok_r(t, ";", &save); s; s = strtok_r(NULL, ";", &save)) {
      s[strcspn(s, ",")] = '\0';
      if (*s == '~')
        s++;
      if (c->nsim_rids < SB_SDP_MAX_RID && valid_rid(s) &&
          find_rid(c->sim_rids[0], sizeof c->sim_rids[0], c->nsim_rids, s) < 0)
        copy_str(c->sim_rids[c->nsim_rids++], sizeof c->sim_rids[0], s);
    }
  }
  return 0;
}

static int attr_candidate(parse_ctx_t *c, char *v, int arg) {
  sb_sdp_candidate_t cand;
  memset(&cand, 0, sizeof cand);
  char *f[8];
  for (int i = 0; i < 8; i++)
    if (!(f[i] = next_tok(&v)))
      return fail(c, "malformed a=candidate");
  uint64_t comp, prio, port;
  if (copy_str(cand.foundation, sizeof cand.foundation, f[0]) < 0 ||
      parse_num(f[1], UINT32_MAX, &comp) < 0 || parse_num(f[3], UINT32_MAX, &prio) < 0 ||
      copy_str(cand.ip, sizeof cand.ip, f[4]) < 0 || strcmp(f[6], "typ") != 0 ||
      copy_str(cand.type, sizeof cand.type, f[7]) < 0)
    return fail(c, "malformed a=candidate");
  if (parse_field(c, f[5], 65535, "a=candidate port", &port) < 0)
    return -1;
  if (strcasecmp(f[2], "udp") != 0 || c->m->ncands >= SB_SDP_MAX_CAND)
    return 0; /* TCP candidates are of no use to a UDP relay */
  cand.component = (uint32_t)comp;
  cand.priority = (uint32_t)prio;
  cand.port = (uint16_t)port;
  memcpy(&c->m->cands[c->m->ncands++], &cand, sizeof cand); /* padding too: comparable */
  return 0;
}

enum { AT_ANY = 0, AT_SESSION, AT_MEDIA };

static const struct {
  const char *name;
  attr_fn fn;
  int arg;
  int where;
} attr_table[] = {
    {"group", attr_group, 0, AT_SESSION},
    {"msid-semantic", attr_msid_semantic, 0, AT_SESSION},
    {"ice-lite", attr_flag, FLAG_ICE_LITE, AT_ANY},
    {"ice-ufrag", attr_ice, 0, AT_ANY},
    {"ice-pwd", attr_ice, 1, AT_ANY},
    {"fingerprint", attr_fingerprint, 0, AT_ANY},
    {"setup", attr_setup, 0, AT_ANY},
    {"sendrecv", attr_direction, SB_DIR_SENDRECV, AT_ANY},
    {"sendonly", attr_direction, SB_DIR_SENDONLY, AT_ANY},
    {"recvonly", attr_direction, SB_DIR_RECVONLY, AT_ANY},
    {"inactive", attr_direction, SB_DIR_INACTIVE, AT_ANY},
    {"mid", attr_mid, 0, AT_MEDIA},
    {"extmap", attr_extmap, 0, AT_MEDIA},
    {"msid", attr_msid, 0, AT_MEDIA},
    {"rtcp-mux", attr_flag, FLAG_RTCP_MUX, AT_MEDIA},
    {"rtcp-rsize", attr_flag, FLAG_RTCP_RSIZE, AT_MEDIA},
    {"rtpmap", attr_rtpmap, 0, AT_MEDIA},
    {"rtcp-fb", attr_rtcp_fb, 0, AT_MEDIA},
    {"fmtp", attr_fmtp, 0, AT_MEDIA},
    {"ssrc-group", attr_ssrc_group, 0, AT_MEDIA},
    {"ssrc", attr_ssrc, 0, AT_MEDIA},
    {"rid", attr_rid, 0, AT_MEDIA},
    {"simulcast", attr_simulcast, 0, AT_MEDIA},
    {"candidate", attr_candidate, 0, AT_MEDIA},
    {"end-of-candidates", attr_flag, FLAG_END_OF_CANDIDATES, AT_MEDIA},
    {"bundle-only", attr_flag, FLAG_BUNDLE_ONLY, AT_MEDIA},
};

static int parse_attribute(parse_ctx_t *c, char *line) {
  char *value = strchr(line, ':');
  if (value)
    *value++ = '\0';
  else
    value = line + strlen(line);
  for (size_t i = 0; i < sizeof attr_table / sizeof attr_table[0]; i++) {
    if (strcmp(attr_table[i].name, line) != 0)
      continue;
    if ((attr_table[i].where == AT_MEDIA && !c->m) || (attr_table[i].where == AT_SESSION && c->m))
      return 0;
    return attr_table[i].fn(c, value, attr_table[i].arg);
  }
  return 0; /* unknown attributes are ignored (RFC 8866 section 5.13) */
}

/* ---- lines --------------------------------------------------------------------------------- */

static int parse_origin(parse_ctx_t *c, char *v) {
  char *f[6];
  for (int i = 0; i < 6; i++)
    if (!(f[i] = next_tok(&v)))
      return fail(c, "malformed o= line");
  /* The user name is informational; Firefox's is long, so keep what fits. */
  snprintf(c->sdp->origin_user, sizeof c->sdp->origin_user, "%s", f[0]);
  if (parse_num(f[1], UINT64_MAX, &c->sdp->session_id) < 0 ||
      parse_num(f[2], UINT64_MAX, &c->sdp->session_version) < 0)
    return fail(c, "o= session id and version must be decimal numbers");
  return 0;
}

static int has_ssrc_line(const sb_sdp_media_t *m, uint32_t ssrc) {
  for (int i = 0; i < m->nssrcs; i++)
    if (m->ssrcs[i].ssrc == ssrc)
      return 1;
  return 0;
}

/* RFC 5576: the SSRCs of a group are those of the section's a=ssrc lines. One without would
 * give a producer nobody described (an SSRC past the a=ssrc limit counts as missing too). */
static int check_ssrc_groups(parse_ctx_t *c) {
  const sb_sdp_media_t *m = c->m;
  uint32_t missing = 0;
  const char *group = NULL;
  for (int i = 0; i < m->nsim && !group; i++)
    if (!has_ssrc_line(m, m->sim[i]))
      missing = m->sim[i], group = "SIM";
  for (int i = 0; i < m->nfids && !group; i++)
    for (int k = 0; k < 2 && !group; k++)
      if (!has_ssrc_line(m, m->fids[i][k]))
        missing = m->fids[i][k], group = "FID";
  if (!group)
    return 0;
  c->lineno = 0; /* the section has ended: name it instead of a line */
  return fail(c, "m-line %d (mid \"%.31s\"): a=ssrc-group:%s SSRC %u has no a=ssrc line",
              c->sdp->nmedia - 1, m->mid, group, missing);
}

/* Ends a media section: checks its SSRC groups, puts the simulcast layers in a=simulcast order
 * and drops rids it does not name. */
static int finish_media(parse_ctx_t *c) {
  sb_sdp_media_t *m = c->m;
  int nsim_rids = c->nsim_rids;
  c->nsim_rids = 0;
  if (!m)
    return 0;
  if (check_ssrc_groups(c) < 0)
    return -1;
  if (!m->simulcast)
    return 0;
  sb_sdp_rid_t rids[SB_SDP_MAX_RID];
  int n = 0;
  for (int i = 0; i < nsim_rids; i++) {
    int j = find_rid(m->rids[0].id, sizeof m->rids[0], m->nrids, c->sim_rids[i]);
    if (j >= 0)
      rids[n++] = m->rids[j];
  }
  memset(m->rids, 0, sizeof m->rids);
  memcpy(m->rids, rids, (size_t)n * sizeof rids[0]);
  m->nrids = (uint8_t)n;
  return 0;
}

static int parse_media_line(parse_ctx_t *c, char *v) {
  sb_sdp_t *sdp = c->sdp;
  if (finish_media(c) < 0)
    return -1;
  if (sdp->nmedia >= SB_SDP_MAX_MEDIA)
    return fail(c, "more than %d m-lines", SB_SDP_MAX_MEDIA);
  sb_sdp_media_t *m = c->m = &sdp->media[sdp->nmedia++];
  memset(m, 0, sizeof *m);
  m->setup = -1;
  m->dir = c->session_dir;
  char *kind = next_tok(&v), *port_s = next_tok(&v), *proto = next_tok(&v);
  if (!proto)
    return fail(c, "malformed m= line");
  m->kind = strcmp(kind, "audio") == 0         ? SB_MEDIA_AUDIO
            : strcmp(kind, "video") == 0       ? SB_MEDIA_VIDEO
            : strcmp(kind, "application") == 0 ? SB_MEDIA_APPLICATION
                                               : SB_MEDIA_OTHER;
  port_s[strcspn(port_s, "/")] = '\0'; /* "port/count" */
  uint64_t port, pt;
  if (parse_field(c, port_s, 65535, "m= port", &port) < 0)
    return -1;
  m->port = (uint16_t)port;
  if (!strstr(proto, "RTP"))
    return 0; /* SCTP and others: the formats are not payload types */
  for (char *t = next_tok(&v); t; t = next_tok(&v)) {
    if (parse_field(c, t, 127, "payload type", &pt) < 0)
      return -1;
    if (m->ncodecs >= SB_SDP_MAX_CODECS || codec_by_pt(m, (uint8_t)pt))
      continue;
    sb_sdp_codec_t *codec = &m->codecs[m->ncodecs++];
    codec->pt = (uint8_t)pt;
    codec->apt = -1;
  }
  return 0;
}

static int parse_line(parse_ctx_t *c, char *line, int *seen_v, int *seen_o) {
  if (line[0] < 'a' || line[0] > 'z' || line[1] != '=')
    return fail(c, "not a <type>=<value> line");
  char *value = line + 2;
  if (!*seen_v && line[0] != 'v')
    return fail(c, "the first line must be v=");
  switch (line[0]) {
  case 'v':
    if (*seen_v)
      return fail(c, "duplicate v= line");
    *seen_v = 1;
    return strcmp(value, "0") == 0 ? 0 : fail(c, "unsupported SDP version \"%.16s\"", value);
  case 'o':
    if (*seen_o || c->m)
      return fail(c, "o= line out of place");
    *seen_o = 1;
    return parse_origin(c, value);
  case 'm':
    if (!*seen_o)
      return fail(c, "missing o= line before m=");
    return parse_media_line(c, value);
  case 'a':
    return parse_attribute(c, value);
  default:
    return 0; /* s=, t=, c=, b= and the rest carry nothing an SFU uses */
  }
}

/* Firefox and Chromium put ICE and DTLS parameters in each m-line; the session level then
 * takes the first media section's, so callers can read one place. */
static int finish_session(parse_ctx_t *c, int seen_v, int seen_o) {
  sb_sdp_t *sdp = c->sdp;
  c->lineno = 0;
  if (!seen_v)
    return fail(c, "missing v= line");
  if (!seen_o)
    return fail(c, "missing o= line");
  if (sdp->nmedia == 0)
    return fail(c, "no m= line");
  for (int i = 0; i < sdp->nmedia; i++) {
    const sb_sdp_media_t *m = &sdp->media[i];
    if (!sdp->ice_ufrag[0] && m->ice_ufrag[0])
      memcpy(sdp->ice_ufrag, m->ice_ufrag, sizeof sdp->ice_ufrag);
    if (!sdp->ice_pwd[0] && m->ice_pwd[0])
      memcpy(sdp->ice_pwd, m->ice_pwd, sizeof sdp->ice_pwd);
    if (!sdp->fingerprint[0] && m->fingerprint[0]) {
      memcpy(sdp->fingerprint_alg, m->fingerprint_alg, sizeof sdp->fingerprint_alg);
      memcpy(sdp->fingerprint, m->fingerprint, sizeof sdp->fingerprint);
    }
    if (sdp->setup < 0 && m->setup >= 0)
      sdp->setup = m->setup;
  }
  if (!sdp->ice_ufrag[0] || !sdp->ice_pwd[0])
    return fail(c, "no ICE credentials (a=ice-ufrag and a=ice-pwd)");
  if (!sdp->fingerprint[0])
    return fail(c, "no DTLS fingerprint (a=fingerprint)");
  return 0;
}

sb_sdp_t *sb_sdp_new(void) {
  sb_sdp_t *s = malloc(sizeof *s);
  if (s)
    memset(s, 0, offsetof(sb_sdp_t, media));
  return s;
}

int sb_sdp_parse(const char *text, size_t len, sb_sdp_t *out, char *err, size_t errlen) {
  parse_ctx_t c = {.sdp = out, .err = err, .errlen = errlen};
  char line[SDP_MAX_LINE + 1];
  int seen_v = 0, seen_o = 0;
  if (err && errlen)
    err[0] = '\0';
  if (!out)
    return fail(&c, "no output");
  memset(out, 0, offsetof(sb_sdp_t, media));
  out->setup = -1;
  if (!text)
    return fail(&c, "no SDP text");
  if (len > SDP_MAX_TEXT)
    return fail(&c, "SDP longer than %d KiB", SDP_MAX_TEXT / 1024);
  for (size_t pos = 0; pos < len;) {
    const char *start = text + pos;
    const char *nl = memchr(start, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - start) : len - pos;
    pos += n + (nl ? 1 : 0);
    c.lineno++;
    if (n > 0 && start[n - 1] == '\r')
      n--;
    if (n > SDP_MAX_LINE)
      return fail(&c, "line longer than %d bytes", SDP_MAX_LINE);
    if (memchr(start, '\0', n))
      return fail(&c, "NUL byte in SDP");
    while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
      n--;
    if (n == 0)
      continue; /* blank lines (a trailing one is common) */
    memcpy(line, start, n);
    line[n] = '\0';
    if (parse_line(&c, line, &seen_v, &seen_o) < 0)
      return -1;
  }
  if (finish_media(&c) < 0)
    return -1;
  return finish_session(&c, seen_v, seen_o);
}

/* ---- lookups ------------------------------------------------------------------------------- */

int sb_sdp_in_bundle(const sb_sdp_t *sdp, const char *mid) {
  for (int i = 0; sdp && mid && mid[0] && i < MIN(sdp->nbundle, SB_SDP_MAX_MEDIA); i++)
    if (strcmp(sdp->bundle[i], mid) == 0)
      return 1;
  return 0;
}

const sb_sdp_codec_t *sb_sdp_find_codec(const sb_sdp_media_t *m, const char *name, uint32_t clock) {
  for (int i = 0; m && name && i < MIN(m->ncodecs, SB_SDP_MAX_CODECS); i++)
    if (strcasecmp(m->codecs[i].name, name) == 0 && (clock == 0 || m->codecs[i].clock == clock))
      return &m->codecs[i];
  return NULL;
}

const sb_sdp_codec_t *sb_sdp_find_rtx(const sb_sdp_media_t *m, uint8_t pt) {
  for (int i = 0; m && i < MIN(m->ncodecs, SB_SDP_MAX_CODECS); i++)
    if (m->codecs[i].apt == pt && strcasecmp(m->codecs[i].name, "rtx") == 0)
      return &m->codecs[i];
  return NULL;
}

uint8_t sb_sdp_find_ext(const sb_sdp_media_t *m, const char *uri) {
  for (int i = 0; m && uri && i < MIN(m->nexts, SB_SDP_MAX_EXT); i++)
    if (strcmp(m->exts[i].uri, uri) == 0)
      return m->exts[i].id;
  return 0;
}

const char *sb_sdp_dir_str(sb_dir_t dir) {
  static const char *names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
  return (unsigned)dir < 4 ? names[dir] : names[0];
}

#include "relay/sdp.h"
#include "sbtest.h"
#include "sdp_samples.h"

#include <stddef.h>
#include <stdlib.h>

/* A description is ~0.5 MB: keep them out of the stack. */
static sb_sdp_t A, B;
static char text[64 * 1024];
static char err[256];

static int parse_str(const char *s, sb_sdp_t *out) {
  return sb_sdp_parse(s, strlen(s), out, err, sizeof err);
}

/* Parses a minimal valid offer with `media` appended after its session part; the err buffer
 * holds the reason on failure. */
#define MIN_SESSION                                                                                \
  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"                                            \
  "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"                                       \
  "a=fingerprint:sha-256 AA:BB:CC\r\n"
#define MIN_AUDIO "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n"

static int parse_min(const char *media) {
  snprintf(text, sizeof text, "%s%s", MIN_SESSION, media);
  int rc = parse_str(text, &A);
  if (rc != 0)
    fprintf(stderr, "  parse error: %s\n", err);
  return rc;
}

/* Expects a parse error whose message contains `what`. */
static int fails_with(const char *sdp, const char *what) {
  err[0] = '\0';
  if (parse_str(sdp, &A) != -1) {
    fprintf(stderr, "  accepted, expected error \"%s\"\n", what);
    return 0;
  }
  if (!strstr(err, what)) {
    fprintf(stderr, "  error \"%s\", expected \"%s\"\n", err, what);
    return 0;
  }
  return 1;
}

static int media_fails_with(const char *media, const char *what) {
  snprintf(text, sizeof text, "%s%s", MIN_SESSION, media);
  return fails_with(text, what);
}

static const char *fp_chrome = "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:"
                               "C2:43:F0:A1:58:D0:A1:2C:19:08";

SB_TEST(chrome_offer_session_level) {
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, &A), 0);
  CHECK_STR(err, "");
  CHECK(A.session_id == 4215775240449105457ull);
  CHECK_EQ(A.session_version, 2);
  CHECK_STR(A.origin_user, "-");
  CHECK_EQ(A.ice_lite, 0);
  CHECK_EQ(A.nbundle, 3);
  CHECK_STR(A.bundle[0], "0");
  CHECK_STR(A.bundle[2], "2");
  CHECK_STR(A.msid_semantic, "WMS");
  /* Chromium writes ICE and DTLS per m-line only: the session level is filled from them. */
  CHECK_STR(A.ice_ufrag, "Xq3B");
  CHECK_STR(A.ice_pwd, "u6mJ1xV3sW9tQ2bN8yR4pK7d");
  CHECK_STR(A.fingerprint_alg, "sha-256");
  CHECK_STR(A.fingerprint, fp_chrome);
  CHECK_EQ(A.setup, SB_SETUP_ACTPASS);
  CHECK_EQ(A.nmedia, 3);
  for (int i = 0; i < 3; i++) {
    CHECK_STR(A.media[i].ice_ufrag, "Xq3B");
    CHECK_STR(A.media[i].fingerprint, fp_chrome);
    CHECK_EQ(A.media[i].setup, SB_SETUP_ACTPASS);
    CHECK_EQ(A.media[i].port, 9);
    CHECK_EQ(A.media[i].rtcp_mux, 1);
  }
}

SB_TEST(chrome_offer_audio) {
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, &A), 0);
  const sb_sdp_media_t *m = &A.media[0];
  CHECK_EQ(m->kind, SB_MEDIA_AUDIO);
  CHECK_STR(m->mid, "0");
  CHECK_EQ(m->dir, SB_DIR_SENDONLY);
  CHECK_EQ(m->rtcp_rsize, 0);
  CHECK_STR(m->msid, "5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 0e3b8f4c-91d2-4a6e-8c57-3d9f1b2a6e40");
  static const int pts[] = {111, 63, 9, 0, 8, 13, 110, 126};
  CHECK_EQ(m->ncodecs, 8);
  for (int i = 0; i < 8; i++)
    CHECK_EQ(m->codecs[i].pt, pts[i]);
  const sb_sdp_codec_t *opus = sb_sdp_find_codec(m, "OPUS", 48000);
  CHECK(opus == &m->codecs[0]);
  CHECK_EQ(opus->channels, 2);
  CHECK_STR(opus->fmtp, "minptime=10;useinbandfec=1");
  CHECK_EQ(opus->apt, -1);
  CHECK_EQ(opus->nfb, 1);
  CHECK_STR(opus->fb[0], "transport-cc");
  CHECK_STR(m->codecs[1].fmtp, "111/111"); /* red */
  CHECK_STR(sb_sdp_find_codec(m, "telephone-event", 8000)->name, "telephone-event");
  CHECK_EQ(sb_sdp_find_codec(m, "telephone-event", 8000)->pt, 126);
  CHECK_EQ(sb_sdp_find_codec(m, "PCMU", 0)->channels, 0);
  CHECK_EQ(m->nexts, 4);
  CHECK_EQ(sb_sdp_find_ext(m, SB_EXT_AUDIO_LEVEL), 1);
  CHECK_EQ(sb_sdp_find_ext(m, SB_EXT_ABS_SEND_TIME), 2);
  CHECK_EQ(sb_sdp_find_ext(m, SB_EXT_TWCC), 3);
  CHECK_EQ(sb_sdp_find_ext(m, SB_EXT_MID), 4);
  CHECK_EQ(sb_sdp_find_ext(m, SB_EXT_RID), 0);
  CHECK_EQ(m->nssrcs, 1);
  CHECK_EQ(m->ssrcs[0].ssrc, 2718281828u);
  CHECK_STR(m->ssrcs[0].cname, "k4Jb8QzYv2Lw9XcT");
  CHECK_STR(m->ssrcs[0].msid, m->msid);
}

SB_TEST(chrome_offer_candidates_skip_tcp) {
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, &A), 0);
  const sb_sdp_media_t *m = &A.media[0];
  CHECK_EQ(m->ncands, 2);
  CHECK_STR(m->cands[0].foundation, "3442447574");
  CHECK_EQ(m->cands[0].component, 1);
  CHECK_EQ(m->cands[0].priority, 2122260223u);
  CHECK_STR(m->cands[0].ip, "192.0.2.10");
  CHECK_EQ(m->cands[0].port, 54400);
  CHECK_STR(m->cands[0].type, "host");
  CHECK_STR(m->cands[1].type, "srflx");
  CHECK_EQ(m->cands[1].port, 61003);
  CHECK_EQ(m->end_of_candidates, 0);
  CHECK_EQ(A.media[1].ncands, 0);
}

SB_TEST(chrome_offer_video_simulcast) {
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, &A), 0);
  const sb_sdp_media_t *m = &A.media[1];
  CHECK_EQ(m->kind, SB_MEDIA_VIDEO);
  CHECK_STR(m->mid, "1");
  CHECK_EQ(m->rtcp_rsize, 1);
  /* 25 payload types offered; the first 16 are kept in m-line order. */
  CHECK_EQ(m->ncodecs, SB_SDP_MAX_CODECS);
  CHECK_EQ(m->codecs[0].pt, 96);
  CHECK_EQ(m->codecs[15].pt, 46);
  const sb_sdp_codec_t *vp8 = sb_sdp_find_codec(m, "vp8", 90000);
  CHECK(vp8 != NULL);
  CHECK_EQ(vp8->pt, 96);
  CHECK_EQ(vp8->clock, 90000);
  CHECK_EQ(vp8->nfb, 5);
  CHECK_STR(vp8->fb[0], "goog-remb");
  CHECK_STR(vp8->fb[2], "ccm fir");
  CHECK_STR(vp8->fb[4], "nack pli");
  const sb_sdp_codec_t *rtx = sb_sdp_find_rtx(m, 96);
  CHECK(rtx != NULL);
  CHECK_EQ(rtx->pt, 97);
  CHECK_EQ(rtx->apt, 96);
  CHECK_STR(rtx->fmtp, "apt=96");
  CHECK_EQ(sb_sdp_find_rtx(m, 45)->pt, 46);
  CHECK(sb_sdp_find_codec(m, "VP9", 90000) == NULL); /* PT 98 is past the limit */
  CHECK(sb_sdp_find_codec(m, "VP8", 48000) == NULL);
  CHECK(sb_sdp_find_rtx(m, 98) == NULL);
  CHECK_EQ(m->nexts, 11);
  CHECK_EQ(sb_sdp_find_ext(m, SB_EXT_RID), 10);
  CHECK_EQ(sb_sdp_find_ext(m, SB_EXT_RRID), 11);
  CHECK_EQ(sb_sdp_find_ext(m, SB_EXT_MID), 4);
  CHECK_EQ(sb_sdp_find_ext(m, "urn:ietf:params:rtp-hdrext:toffset"), 14);
  CHECK_EQ(m->simulcast, 1);
  CHECK_EQ(m->nrids, 3);
  CHECK_STR(m->rids[0].id, "q");
  CHECK_STR(m->rids[1].id, "h");
  CHECK_STR(m->rids[2].id, "f");
  CHECK_EQ(m->rids[0].dir, SB_DIR_SENDONLY);
  CHECK_EQ(m->nssrcs, 0);
  CHECK_EQ(m->fid[0], 0);
}

SB_TEST(chrome_offer_video_fid) {
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, &A), 0);
  const sb_sdp_media_t *m = &A.media[2];
  CHECK_STR(m->mid, "2");
  CHECK_EQ(m->fid[0], 1414213562u);
  CHECK_EQ(m->fid[1], 1732050807u);
  CHECK_EQ(m->nsim, 0);
  CHECK_EQ(m->nssrcs, 2);
  CHECK_EQ(m->ssrcs[0].ssrc, 1414213562u);
  CHECK_EQ(m->ssrcs[1].ssrc, 1732050807u);
  CHECK_STR(m->ssrcs[1].cname, "k4Jb8QzYv2Lw9XcT");
  CHECK_STR(m->ssrcs[1].msid,
            "5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 c9e1f3a5-2b4d-4c6e-8f0a-1b3d5f7a9c2e");
  CHECK_EQ(m->nrids, 0);
  CHECK_EQ(m->simulcast, 0);
}

SB_TEST(firefox_offer) {
  CHECK_EQ(parse_str(SDP_FIREFOX_OFFER, &A), 0);
  CHECK_STR(A.origin_user, "mozilla...THIS_IS_SDPARTA-99.0");
  CHECK(A.session_id == 5093553011645839470ull);
  CHECK_EQ(A.session_version, 0);
  CHECK_STR(A.msid_semantic, "WMS");
  CHECK_EQ(A.nbundle, 2);
  /* session-level fingerprint stays there; media-level ICE is copied up */
  CHECK_STR(A.fingerprint_alg, "sha-256");
  CHECK_STR(A.fingerprint, "E1:5B:0A:9C:7E:32:44:D8:61:F0:3A:BC:19:8E:27:C5:D4:06:93:AA:5F:E8:12:"
                           "7B:C3:90:4D:66:B1:0F:E2:7A");
  CHECK_STR(A.media[0].fingerprint, "");
  CHECK_STR(A.ice_ufrag, "8a1c3e5f");
  CHECK_STR(A.ice_pwd, "6b2f3c9d1e4a7f8b0c5d2e6f9a1b3c4d");
  CHECK_STR(A.media[1].ice_ufrag, "8a1c3e5f");
  CHECK_EQ(A.setup, SB_SETUP_ACTPASS);
  const sb_sdp_media_t *a = &A.media[0], *v = &A.media[1];
  CHECK_EQ(a->dir, SB_DIR_SENDRECV);
  CHECK_EQ(a->nexts, 3);
  CHECK_EQ(sb_sdp_find_ext(a, "urn:ietf:params:rtp-hdrext:csrc-audio-level"), 2);
  const sb_sdp_codec_t *opus = sb_sdp_find_codec(a, "opus", 48000);
  CHECK(opus != NULL);
  CHECK_EQ(opus->pt, 109);
  CHECK_STR(opus->fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1"); /* fmtp before rtpmap */
  CHECK_EQ(sb_sdp_find_codec(a, "G722", 8000)->channels, 1);
  CHECK_EQ(a->nssrcs, 1);
  CHECK_STR(a->ssrcs[0].cname, "{e2f4a6b8-c0d2-4e4f-a6b8-c0d2e4f6a8b0}");
  CHECK_EQ(v->ncodecs, 11);
  CHECK_EQ(v->codecs[0].pt, 120);
  CHECK_EQ(sb_sdp_find_rtx(v, 120)->pt, 124);
  CHECK_EQ(sb_sdp_find_rtx(v, 122)->pt, 119);
  CHECK_EQ(sb_sdp_find_codec(v, "VP8", 90000)->nfb, 5);
  CHECK_STR(sb_sdp_find_codec(v, "VP8", 90000)->fb[1], "nack pli");
  CHECK_EQ(sb_sdp_find_ext(v, "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"), 6);
  CHECK_EQ(sb_sdp_find_ext(v, SB_EXT_TWCC), 7);
  CHECK_EQ(v->fid[0], 3340536290u);
  CHECK_EQ(v->fid[1], 2896686521u);
  CHECK_EQ(v->nssrcs, 2);
  CHECK_STR(v->msid, "{4a7b9c2d-1e3f-4a5b-8c6d-7e9f0a1b2c3d} {d9e0f1a2-b3c4-4d5e-8f6a-7b8c9d0e1f2a}");
}

SB_TEST(chrome_answer_to_server_offer) {
  CHECK_EQ(parse_str(SDP_CHROME_ANSWER, &A), 0);
  CHECK_EQ(A.nmedia, 3);
  CHECK_EQ(A.setup, SB_SETUP_ACTIVE);
  CHECK_STR(A.msid_semantic, "WMS");
  CHECK_STR(A.ice_ufrag, "p9Vr");
  CHECK_EQ(A.media[0].dir, SB_DIR_RECVONLY);
  CHECK_EQ(A.media[0].ncodecs, 1);
  CHECK_EQ(A.media[1].dir, SB_DIR_RECVONLY);
  CHECK_EQ(sb_sdp_find_rtx(&A.media[1], 96)->pt, 97);
  CHECK_EQ(A.media[2].port, 0);
  CHECK_EQ(A.media[2].dir, SB_DIR_INACTIVE);
  CHECK_STR(A.media[2].mid, "2");
  CHECK_STR(A.media[2].ice_ufrag, "");
  CHECK_EQ(A.media[2].setup, -1);
}

/* ---- writer ---- */

SB_TEST(round_trip_chrome_offer_is_exact) {
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, &A), 0);
  int n = sb_sdp_write(&A, text, sizeof text);
  CHECK(n > 0);
  CHECK_EQ(strlen(text), n);
  CHECK_EQ(sb_sdp_parse(text, (size_t)n, &B, err, sizeof err), 0);
  /* Everything the struct keeps survives a write and a parse, byte for byte. */
  CHECK(memcmp(&A, &B, sizeof A) == 0);
}

static int same_codecs(const sb_sdp_media_t *x, const sb_sdp_media_t *y) {
  if (x->ncodecs != y->ncodecs)
    return 0;
  for (int i = 0; i < x->ncodecs; i++) {
    const sb_sdp_codec_t *a = &x->codecs[i], *b = &y->codecs[i];
    if (a->pt != b->pt || strcmp(a->name, b->name) || a->clock != b->clock ||
        a->channels != b->channels || strcmp(a->fmtp, b->fmtp) || a->apt != b->apt ||
        a->nfb != b->nfb)
      return 0;
    for (int j = 0; j < a->nfb; j++)
      if (strcmp(a->fb[j], b->fb[j]) != 0)
        return 0;
  }
  return 1;
}

/* Field by field: structs built by hand may have other bytes in their padding. */
static int same_media(const sb_sdp_media_t *x, const sb_sdp_media_t *y) {
  return same_codecs(x, y) && x->kind == y->kind && x->port == y->port && strcmp(x->mid, y->mid) == 0 &&
         x->dir == y->dir && x->rtcp_mux == y->rtcp_mux && x->rtcp_rsize == y->rtcp_rsize &&
         strcmp(x->msid, y->msid) == 0 && x->nexts == y->nexts &&
         memcmp(x->exts, y->exts, sizeof x->exts) == 0 && x->nssrcs == y->nssrcs &&
         memcmp(x->ssrcs, y->ssrcs, sizeof x->ssrcs) == 0 && x->fid[0] == y->fid[0] &&
         x->fid[1] == y->fid[1] && x->nrids == y->nrids &&
         memcmp(x->rids, y->rids, sizeof x->rids) == 0 && x->simulcast == y->simulcast;
}

SB_TEST(round_trip_firefox_offer) {
  CHECK_EQ(parse_str(SDP_FIREFOX_OFFER, &A), 0);
  int n = sb_sdp_write(&A, text, sizeof text);
  CHECK(n > 0);
  CHECK_EQ(parse_str(text, &B), 0);
  CHECK_STR(B.origin_user, A.origin_user);
  CHECK(B.session_id == A.session_id);
  CHECK_STR(B.ice_ufrag, A.ice_ufrag);
  CHECK_STR(B.ice_pwd, A.ice_pwd);
  CHECK_STR(B.fingerprint, A.fingerprint);
  CHECK_EQ(B.setup, A.setup);
  CHECK_EQ(B.nbundle, 2);
  CHECK_STR(B.bundle[1], "1");
  CHECK_EQ(B.nmedia, 2);
  CHECK(same_media(&A.media[0], &B.media[0]));
  CHECK(same_media(&A.media[1], &B.media[1]));
  /* the session-level fingerprint is repeated in each m-line */
  CHECK_STR(B.media[1].fingerprint, A.fingerprint);
}

SB_TEST(round_trip_answer_keeps_rejected_line) {
  CHECK_EQ(parse_str(SDP_CHROME_ANSWER, &A), 0);
  int n = sb_sdp_write(&A, text, sizeof text);
  CHECK(n > 0);
  CHECK(strstr(text, "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"
                     "a=inactive\r\n") != NULL);
  CHECK_EQ(text[n - 1], '\n'); /* the rejected line is the last one: nothing else follows */
  CHECK(strstr(text, "a=inactive\r\n") + strlen("a=inactive\r\n") == text + n);
  CHECK_EQ(parse_str(text, &B), 0);
  CHECK(same_media(&A.media[0], &B.media[0]));
  CHECK(same_media(&A.media[1], &B.media[1]));
  CHECK_EQ(B.media[2].port, 0);
  CHECK_STR(B.media[2].mid, "2");
  CHECK_EQ(B.media[2].dir, SB_DIR_INACTIVE);
  CHECK_EQ(B.media[2].codecs[0].pt, 96);
}

/* The server's answer as the relay will build it: ice-lite, passive, one host candidate. */
static void build_server_answer(sb_sdp_t *s) {
  memset(s, 0, sizeof *s);
  s->session_id = 77;
  s->session_version = 3;
  s->ice_lite = 1;
  strcpy(s->ice_ufrag, "srvU");
  strcpy(s->ice_pwd, "srvPassword0123456789xyz");
  strcpy(s->fingerprint_alg, "sha-256");
  strcpy(s->fingerprint, "AA:BB:CC:DD");
  s->setup = SB_SETUP_PASSIVE;
  s->nbundle = 2;
  strcpy(s->bundle[0], "0");
  strcpy(s->bundle[1], "1");
  s->nmedia = 3;
  sb_sdp_media_t *a = &s->media[0];
  a->kind = SB_MEDIA_AUDIO;
  a->port = 40000;
  a->setup = -1;
  strcpy(a->mid, "0");
  a->dir = SB_DIR_RECVONLY;
  a->rtcp_mux = 1;
  a->ncodecs = 1;
  a->codecs[0] = (sb_sdp_codec_t){.pt = 111, .name = "opus", .clock = 48000, .channels = 2,
                                   .fmtp = "minptime=10;useinbandfec=1", .apt = -1, .nfb = 1,
                                   .fb = {"transport-cc"}};
  a->nexts = 1;
  a->exts[0] = (sb_sdp_ext_t){.id = 4, .uri = SB_EXT_MID};
  a->ncands = 1;
  a->cands[0] = (sb_sdp_candidate_t){.foundation = "1", .component = 1, .priority = 2130706431,
                                     .ip = "127.0.0.1", .port = 40000, .type = "host"};
  a->end_of_candidates = 1;
  sb_sdp_media_t *v = &s->media[1];
  v->kind = SB_MEDIA_VIDEO;
  v->port = 40000;
  v->setup = -1;
  strcpy(v->mid, "1");
  v->dir = SB_DIR_SENDONLY;
  strcpy(v->msid, "bob v1");
  v->rtcp_mux = v->rtcp_rsize = 1;
  v->ncodecs = 2;
  v->codecs[0] = (sb_sdp_codec_t){.pt = 96, .name = "VP8", .clock = 90000, .apt = -1, .nfb = 2,
                                   .fb = {"nack", "nack pli"}};
  v->codecs[1] = (sb_sdp_codec_t){.pt = 97, .name = "rtx", .clock = 90000, .apt = 96,
                                   .fmtp = "apt=96"};
  v->nssrcs = 2;
  v->ssrcs[0] = (sb_sdp_ssrc_t){.ssrc = 1111, .cname = "relay", .msid = "bob v1"};
  v->ssrcs[1] = (sb_sdp_ssrc_t){.ssrc = 2222, .cname = "relay", .msid = "bob v1"};
  v->fid[0] = 1111;
  v->fid[1] = 2222;
  sb_sdp_media_t *d = &s->media[2];
  d->kind = SB_MEDIA_APPLICATION;
  d->port = 0;
  strcpy(d->mid, "2");
}

SB_TEST(write_server_answer_text) {
  build_server_answer(&A);
  int n = sb_sdp_write(&A, text, sizeof text);
  CHECK(n > 0);
  CHECK(strncmp(text, "v=0\r\no=- 77 3 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
                      "a=group:BUNDLE 0 1\r\na=msid-semantic: WMS *\r\na=ice-ufrag:srvU\r\n",
                strlen("v=0\r\no=- 77 3 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
                       "a=group:BUNDLE 0 1\r\na=msid-semantic: WMS *\r\na=ice-ufrag:srvU\r\n")) == 0);
  CHECK(strstr(text, "a=setup:passive\r\nm=audio") != NULL); /* session level before m= */
  CHECK(strstr(text, "m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\n"
                     "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:srvU\r\n") != NULL);
  CHECK(strstr(text, "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
                     "a=fmtp:111 minptime=10;useinbandfec=1\r\n") != NULL);
  CHECK(strstr(text, "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"
                     "a=end-of-candidates\r\n") != NULL);
  CHECK(strstr(text, "m=video 40000 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\n") != NULL);
  CHECK(strstr(text, "a=mid:1\r\na=sendonly\r\na=msid:bob v1\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"));
  CHECK(strstr(text, "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n") != NULL);
  CHECK(strstr(text, "a=ssrc-group:FID 1111 2222\r\na=ssrc:1111 cname:relay\r\n"
                     "a=ssrc:1111 msid:bob v1\r\n") != NULL);
  CHECK(strstr(text, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
                     "a=mid:2\r\na=inactive\r\n") != NULL);
  CHECK(strstr(text, "a=setup:passive\r\na=mid:1\r\n") != NULL); /* repeated per m-line */
  /* every line ends in CRLF and no bare LF appears */
  for (int i = 0; i < n; i++)
    if (text[i] == '\n')
      CHECK(i > 0 && text[i - 1] == '\r');
  CHECK_EQ(parse_str(text, &B), 0);
  CHECK_EQ(B.ice_lite, 1);
  CHECK_EQ(B.media[0].setup, SB_SETUP_PASSIVE);
  CHECK(same_media(&A.media[1], &B.media[1]));
}

SB_TEST(write_ipv6_candidate_and_simulcast_recv) {
  build_server_answer(&A);
  sb_sdp_media_t *v = &A.media[1];
  v->ncands = 1;
  v->cands[0] = (sb_sdp_candidate_t){.foundation = "2", .component = 1, .priority = 100,
                                     .ip = "::1", .port = 40001, .type = "host"};
  v->nrids = 2;
  v->rids[0] = (sb_sdp_rid_t){.id = "h", .dir = SB_DIR_RECVONLY};
  v->rids[1] = (sb_sdp_rid_t){.id = "l", .dir = SB_DIR_RECVONLY};
  v->simulcast = 1;
  CHECK(sb_sdp_write(&A, text, sizeof text) > 0);
  CHECK(strstr(text, "m=video 40000 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP6 ::1\r\n") != NULL);
  CHECK(strstr(text, "a=rid:h recv\r\na=rid:l recv\r\na=simulcast:recv h;l\r\n") != NULL);
  v->rids[1].dir = SB_DIR_SENDONLY;
  CHECK(sb_sdp_write(&A, text, sizeof text) > 0);
  CHECK(strstr(text, "a=simulcast:send l recv h\r\n") != NULL);
}

SB_TEST(write_origin_user_and_msid_semantic) {
  build_server_answer(&A);
  strcpy(A.origin_user, "switchboard");
  strcpy(A.msid_semantic, "WMS");
  CHECK(sb_sdp_write(&A, text, sizeof text) > 0);
  CHECK(strncmp(text, "v=0\r\no=switchboard 77 3 IN IP4 ", 31) == 0);
  CHECK(strstr(text, "a=msid-semantic: WMS\r\n") != NULL);
  A.nbundle = 0;
  A.ice_lite = 0;
  CHECK(sb_sdp_write(&A, text, sizeof text) > 0);
  CHECK(strstr(text, "a=group:") == NULL);
  CHECK(strstr(text, "a=ice-lite") == NULL);
}

SB_TEST(write_buffer_too_small) {
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, &A), 0);
  int n = sb_sdp_write(&A, text, sizeof text);
  CHECK(n > 100);
  static char small[64 * 1024];
  /* Every size short of n+1 fails without writing past its end and stays NUL-terminated. */
  for (size_t size = 1; size <= (size_t)n; size += (size < 300 ? 1 : 97)) {
    memset(small, 'Z', sizeof small);
    CHECK_EQ(sb_sdp_write(&A, small, size), -1);
    CHECK(memchr(small, '\0', size) != NULL);
    CHECK_EQ(small[size], 'Z');
  }
  memset(small, 'Z', sizeof small);
  CHECK_EQ(sb_sdp_write(&A, small, (size_t)n), -1);
  CHECK_EQ(small[n], 'Z');
  CHECK_EQ(sb_sdp_write(&A, small, (size_t)n + 1), n);
  CHECK(memcmp(small, text, (size_t)n + 1) == 0);
  CHECK_EQ(sb_sdp_write(&A, small, 0), -1);
  CHECK_EQ(small[0], 'v');
  CHECK_EQ(sb_sdp_write(&A, NULL, 100), -1);
  CHECK_EQ(sb_sdp_write(NULL, small, 100), -1);
  CHECK_EQ(small[0], '\0');
}

/* ---- line ends ---- */

SB_TEST(lf_and_crlf_parse_the_same) {
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, &A), 0);
  static char lf[64 * 1024];
  size_t j = 0;
  for (const char *p = SDP_CHROME_OFFER; *p; p++)
    if (*p != '\r')
      lf[j++] = *p;
  lf[j] = '\0';
  CHECK_EQ(sb_sdp_parse(lf, j, &B, err, sizeof err), 0);
  CHECK(memcmp(&A, &B, sizeof A) == 0);
  /* without the final line end, and with a trailing blank line */
  CHECK_EQ(sb_sdp_parse(lf, j - 1, &B, err, sizeof err), 0);
  CHECK(memcmp(&A, &B, sizeof A) == 0);
  lf[j] = '\n';
  CHECK_EQ(sb_sdp_parse(lf, j + 1, &B, err, sizeof err), 0);
  CHECK(memcmp(&A, &B, sizeof A) == 0);
}

SB_TEST(parse_reads_only_len_bytes) {
  /* The text is not NUL-terminated: a copy in a heap block of exactly len bytes (ASan checks). */
  size_t len = strlen(SDP_FIREFOX_OFFER);
  char *p = malloc(len);
  CHECK(p != NULL);
  memcpy(p, SDP_FIREFOX_OFFER, len);
  int rc = sb_sdp_parse(p, len, &A, err, sizeof err);
  CHECK_EQ(rc, 0);
  CHECK_EQ(A.media[1].nssrcs, 2);
  /* Cut in the middle of the last line, the FID group: the parser sees the RTX SSRC cut short,
   * which no a=ssrc line describes. */
  int rc2 = sb_sdp_parse(p, len - 10, &B, err, sizeof err);
  free(p);
  CHECK_EQ(rc2, -1);
  CHECK(strstr(err, "a=ssrc-group:FID SSRC 28 has no a=ssrc line") != NULL);
}

/* ---- limits that are ignored ---- */

SB_TEST(over_limit_counts_are_ignored) {
  char media[16 * 1024];
  int n = snprintf(media, sizeof media, "m=video 9 UDP/TLS/RTP/SAVPF");
  for (int pt = 96; pt < 116; pt++)
    n += snprintf(media + n, sizeof media - n, " %d", pt);
  n += snprintf(media + n, sizeof media - n, "\r\na=mid:v\r\n");
  for (int pt = 96; pt < 116; pt++)
    n += snprintf(media + n, sizeof media - n, "a=rtpmap:%d VP8/90000\r\n", pt);
  for (int i = 1; i <= 20; i++)
    n += snprintf(media + n, sizeof media - n, "a=extmap:%d urn:x:ext%d\r\n", i, i);
  for (int i = 1; i <= 10; i++)
    n += snprintf(media + n, sizeof media - n, "a=ssrc:%d cname:c\r\n", i);
  for (int i = 1; i <= 10; i++)
    n += snprintf(media + n, sizeof media - n, "a=rtcp-fb:96 fb%d\r\n", i);
  for (int i = 1; i <= 6; i++)
    n += snprintf(media + n, sizeof media - n, "a=rid:r%d send\r\n", i);
  for (int i = 1; i <= 10; i++)
    n += snprintf(media + n, sizeof media - n,
                  "a=candidate:%d 1 udp %d 127.0.0.1 %d typ host\r\n", i, i, 5000 + i);
  CHECK(n < (int)sizeof media);
  CHECK(parse_min(media) == 0);
  const sb_sdp_media_t *m = &A.media[0];
  CHECK_EQ(m->ncodecs, SB_SDP_MAX_CODECS);
  CHECK_EQ(m->codecs[15].pt, 111);
  CHECK_EQ(m->nexts, SB_SDP_MAX_EXT);
  CHECK_EQ(m->exts[15].id, 16);
  CHECK_EQ(m->nssrcs, SB_SDP_MAX_SSRC);
  CHECK_EQ(m->codecs[0].nfb, SB_SDP_MAX_FB);
  CHECK_STR(m->codecs[0].fb[7], "fb8");
  CHECK_EQ(m->nrids, SB_SDP_MAX_RID);
  CHECK_EQ(m->ncands, SB_SDP_MAX_CAND);
  CHECK_EQ(m->cands[7].port, 5008);
}

SB_TEST(unrepresentable_values_are_dropped) {
  char media[2048];
  char fmtp[200];
  memset(fmtp, 'x', sizeof fmtp - 1);
  fmtp[sizeof fmtp - 1] = '\0';
  snprintf(media, sizeof media,
           "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98\r\na=mid:0\r\na=rtpmap:96 VP8/90000\r\n"
           "a=rtpmap:97 a-very-long-codec-name/90000\r\na=rtpmap:98 H264/90000\r\n"
           "a=fmtp:98 %s\r\na=rtcp-fb:96 a-feedback-value-longer-than-the-field\r\n"
           "a=extmap:1 urn:x:%s\r\n"
           "a=fingerprint:sha-512 %s\r\n",
           fmtp, fmtp,
           "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:"
           "23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89");
  CHECK(parse_min(media) == 0);
  const sb_sdp_media_t *m = &A.media[0];
  CHECK_EQ(m->ncodecs, 1); /* long name and long fmtp: left out */
  CHECK_EQ(m->codecs[0].pt, 96);
  CHECK_EQ(m->codecs[0].nfb, 0);
  CHECK_EQ(m->nexts, 0);
  CHECK_STR(m->fingerprint, ""); /* the session's sha-256 is kept */
  CHECK_STR(A.fingerprint, "AA:BB:CC");
}

SB_TEST(unknown_attributes_are_ignored) {
  CHECK(parse_min(MIN_AUDIO "a=x-google-flag:conference\r\na=foo\r\na=maxptime:60\r\n"
                               "a=ptime:20\r\nb=AS:30\r\ni=info\r\na=ssrc-group:FEC-FR 1 2\r\n"
                               "a=group:LS 0\r\n") == 0);
  CHECK_EQ(A.media[0].ncodecs, 1);
  CHECK_EQ(A.media[0].nssrcs, 0);
  CHECK_EQ(A.media[0].fid[0], 0);
}

SB_TEST(rtcp_fb_wildcard_applies_to_all_codecs) {
  CHECK(parse_min("m=video 9 UDP/TLS/RTP/SAVPF 96 97 98\r\na=mid:0\r\n"
                     "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=rtpmap:98 VP9/90000\r\n"
                     "a=rtcp-fb:96 nack\r\na=rtcp-fb:* nack\r\na=rtcp-fb:* ccm fir\r\n") == 0);
  const sb_sdp_media_t *m = &A.media[0];
  for (int i = 0; i < 3; i++)
    CHECK_EQ(m->codecs[i].nfb, 2); /* nack once, then ccm fir */
  CHECK_STR(m->codecs[0].fb[0], "nack");
  CHECK_STR(m->codecs[0].fb[1], "ccm fir");
  CHECK_STR(m->codecs[2].fb[1], "ccm fir");
}

SB_TEST(simulcast_paused_and_alternatives) {
  /* a=simulcast before the a=rid lines (either order is legal); "~" pauses, "," lists
   * alternatives of which the first is kept; rids not named are dropped. */
  CHECK(parse_min("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rtpmap:96 VP8/90000\r\n"
                     "a=simulcast:send l;~m,x;h\r\n"
                     "a=rid:h send max-width=1280\r\na=rid:m send\r\na=rid:x send\r\n"
                     "a=rid:l send\r\n"
                     "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=rid:z recv\r\n"
                     "a=simulcast:recv z\r\n"
                     "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:2\r\n") == 0);
  const sb_sdp_media_t *m = &A.media[0];
  CHECK_EQ(m->simulcast, 1);
  CHECK_EQ(m->nrids, 3);
  CHECK_STR(m->rids[0].id, "l");
  CHECK_STR(m->rids[1].id, "m");
  CHECK_STR(m->rids[2].id, "h");
  CHECK_STR(m->rids[3].id, ""); /* x, an alternative, is gone */
  CHECK_EQ(A.media[1].nrids, 1);
  CHECK_STR(A.media[1].rids[0].id, "z");
  CHECK_EQ(A.media[1].rids[0].dir, SB_DIR_RECVONLY);
  CHECK_EQ(A.media[2].nrids, 0);
  CHECK_EQ(A.media[2].simulcast, 0);
}

SB_TEST(simulcast_repeated_rids_count_once) {
  CHECK(parse_min("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rid:h send\r\n"
                  "a=rid:l send\r\na=rid:h recv\r\na=rid:l send\r\na=simulcast:send h;l;h;~l\r\n") == 0);
  const sb_sdp_media_t *m = &A.media[0];
  CHECK_EQ(m->nrids, 2);
  CHECK_STR(m->rids[0].id, "h");
  CHECK_EQ(m->rids[0].dir, SB_DIR_SENDONLY); /* the first a=rid:h line wins */
  CHECK_STR(m->rids[1].id, "l");
}

SB_TEST(media_level_dtls_per_media_and_session_copy) {
  snprintf(text, sizeof text,
           "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:u1\r\na=ice-pwd:p1\r\n"
           "a=fingerprint:sha-256 01:02\r\na=setup:active\r\n"
           "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=ice-ufrag:u2\r\na=ice-pwd:p2\r\n"
           "a=fingerprint:sha-1 03:04\r\na=setup:passive\r\n");
  CHECK_EQ(parse_str(text, &A), 0);
  CHECK_STR(A.ice_ufrag, "u1");
  CHECK_STR(A.ice_pwd, "p1");
  CHECK_STR(A.fingerprint, "01:02");
  CHECK_EQ(A.setup, SB_SETUP_ACTIVE);
  CHECK_STR(A.media[1].ice_ufrag, "u2");
  CHECK_STR(A.media[1].fingerprint_alg, "sha-1");
  CHECK_EQ(A.media[1].setup, SB_SETUP_PASSIVE);
}

SB_TEST(ice_lite_and_end_of_candidates) {
  CHECK(parse_min(MIN_AUDIO "a=ice-lite\r\na=end-of-candidates\r\n") == 0);
  CHECK_EQ(A.ice_lite, 1);
  CHECK_EQ(A.media[0].end_of_candidates, 1);
  snprintf(text, sizeof text, "%s%s%s", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\na=ice-lite\r\n",
           MIN_SESSION + strlen("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"), MIN_AUDIO);
  CHECK_EQ(parse_str(text, &A), 0);
  CHECK_EQ(A.ice_lite, 1);
}

SB_TEST(session_direction_is_the_default) {
  snprintf(text, sizeof text, "%sa=recvonly\r\n%sm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendrecv\r\n",
           MIN_SESSION, MIN_AUDIO);
  CHECK_EQ(parse_str(text, &A), 0);
  CHECK_EQ(A.media[0].dir, SB_DIR_RECVONLY);
  CHECK_EQ(A.media[1].dir, SB_DIR_SENDRECV);
}

SB_TEST(max_media_is_allowed) {
  int n = snprintf(text, sizeof text, "%s", MIN_SESSION);
  for (int i = 0; i < SB_SDP_MAX_MEDIA; i++)
    n += snprintf(text + n, sizeof text - n, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:%d\r\n", i);
  CHECK_EQ(parse_str(text, &A), 0);
  CHECK_EQ(A.nmedia, SB_SDP_MAX_MEDIA);
  CHECK_STR(A.media[63].mid, "63");
}

/* ---- errors ---- */

SB_TEST(error_too_many_media) {
  int n = snprintf(text, sizeof text, "%s", MIN_SESSION);
  for (int i = 0; i <= SB_SDP_MAX_MEDIA; i++)
    n += snprintf(text + n, sizeof text - n, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:%d\r\n", i);
  CHECK(fails_with(text, "more than 64 m-lines"));
}

SB_TEST(error_missing_required_parts) {
  CHECK(fails_with(MIN_SESSION, "no m= line"));
  CHECK(fails_with("", "missing v= line"));
  CHECK(fails_with("\r\n\r\n", "missing v= line"));
  CHECK(fails_with("v=0\r\ns=-\r\n", "missing o= line"));
  CHECK(fails_with("v=0\r\nm=audio 9 RTP/AVP 0\r\n", "missing o= line before m="));
  CHECK(fails_with("o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n", "line 1: the first line must be v="));
  CHECK(fails_with("v=1\r\n", "unsupported SDP version"));
  CHECK(fails_with("v=0\r\nv=0\r\n", "duplicate v="));
  CHECK(fails_with("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", "o= line"));
  CHECK(fails_with("v=0\r\no=- 1 1 IN\r\n", "malformed o= line"));
  CHECK(fails_with("v=0\r\no=- 1x 1 IN IP4 0.0.0.0\r\n", "session id"));
  CHECK(fails_with("v=0\r\no=- 1 99999999999999999999 IN IP4 0.0.0.0\r\n", "session id"));
}

SB_TEST(error_missing_ice_or_fingerprint) {
  const char *tail = "s=-\r\nt=0 0\r\n" MIN_AUDIO;
  snprintf(text, sizeof text, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\na=ice-pwd:pppp\r\n"
                              "a=fingerprint:sha-256 AA:BB\r\n%s", tail);
  CHECK(fails_with(text, "no ICE credentials"));
  snprintf(text, sizeof text, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\na=ice-ufrag:uuuu\r\n"
                              "a=fingerprint:sha-256 AA:BB\r\n%s", tail);
  CHECK(fails_with(text, "no ICE credentials"));
  snprintf(text, sizeof text, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\na=ice-ufrag:uuuu\r\n"
                              "a=ice-pwd:pppp\r\n%s", tail);
  CHECK(fails_with(text, "no DTLS fingerprint"));
  CHECK(media_fails_with(MIN_AUDIO "a=ice-ufrag:\r\n", "a=ice-ufrag must have 1..63"));
  char media[512];
  char long_pwd[140];
  memset(long_pwd, 'p', sizeof long_pwd - 1);
  long_pwd[sizeof long_pwd - 1] = '\0';
  snprintf(media, sizeof media, MIN_AUDIO "a=ice-pwd:%s\r\n", long_pwd);
  CHECK(media_fails_with(media, "a=ice-pwd must have 1..127"));
  CHECK(media_fails_with(MIN_AUDIO "a=fingerprint:sha-256\r\n", "malformed a=fingerprint"));
  CHECK(media_fails_with(MIN_AUDIO "a=fingerprint:sha-256 ZZ:YY\r\n", "malformed a=fingerprint"));
  CHECK(media_fails_with(MIN_AUDIO "a=setup:sometimes\r\n", "unknown a=setup value"));
}

SB_TEST(error_payload_type_out_of_range) {
  CHECK(media_fails_with("m=audio 9 UDP/TLS/RTP/SAVPF 111 128\r\n", "payload type \"128\""));
  CHECK(media_fails_with("m=audio 9 UDP/TLS/RTP/SAVPF 111 -1\r\n", "payload type"));
  CHECK(media_fails_with("m=audio 9 UDP/TLS/RTP/SAVPF opus\r\n", "payload type"));
  CHECK(media_fails_with(MIN_AUDIO "a=rtpmap:300 opus/48000\r\n", "payload type \"300\""));
  CHECK(media_fails_with(MIN_AUDIO "a=fmtp:128 apt=1\r\n", "payload type \"128\""));
  CHECK(media_fails_with(MIN_AUDIO "a=rtcp-fb:200 nack\r\n", "payload type \"200\""));
  CHECK(media_fails_with(MIN_AUDIO "a=fmtp:111 apt=128\r\n", "rtx apt"));
  CHECK(media_fails_with(MIN_AUDIO "a=fmtp:111 apt=12345678901\r\n", "rtx apt"));
  CHECK(media_fails_with(MIN_AUDIO "a=rtpmap:111 opus\r\n", "malformed a=rtpmap"));
  CHECK(media_fails_with(MIN_AUDIO "a=rtpmap:111 opus/fast\r\n", "clock rate"));
  CHECK(media_fails_with(MIN_AUDIO "a=rtpmap:111 opus/48000/256\r\n", "channel count"));
  CHECK(media_fails_with(MIN_AUDIO "a=rtcp-fb:111\r\n", "malformed a=rtcp-fb"));
}

SB_TEST(error_extmap_id_out_of_range) {
  CHECK(media_fails_with(MIN_AUDIO "a=extmap:0 " SB_EXT_MID "\r\n", "a=extmap id 0"));
  CHECK(media_fails_with(MIN_AUDIO "a=extmap:256 " SB_EXT_MID "\r\n", "a=extmap id \"256\""));
  CHECK(media_fails_with(MIN_AUDIO "a=extmap:x/sendonly " SB_EXT_MID "\r\n", "a=extmap id"));
  CHECK(media_fails_with(MIN_AUDIO "a=extmap:3\r\n", "malformed a=extmap"));
  CHECK(parse_min(MIN_AUDIO "a=extmap:255 " SB_EXT_MID "\r\n") == 0);
  CHECK_EQ(sb_sdp_find_ext(&A.media[0], SB_EXT_MID), 255);
}

SB_TEST(error_port_out_of_range) {
  CHECK(media_fails_with("m=audio 65536 UDP/TLS/RTP/SAVPF 111\r\n", "m= port \"65536\""));
  CHECK(media_fails_with("m=audio 9\r\n", "malformed m= line"));
  CHECK(media_fails_with(MIN_AUDIO "a=candidate:1 1 udp 100 10.0.0.1 70000 typ host\r\n",
                         "a=candidate port \"70000\""));
  CHECK(media_fails_with(MIN_AUDIO "a=candidate:1 1 udp 100 10.0.0.1 7000 host\r\n",
                         "malformed a=candidate"));
  CHECK(media_fails_with(MIN_AUDIO "a=candidate:1 1 udp 4294967296 10.0.0.1 7000 typ host\r\n",
                         "malformed a=candidate"));
  CHECK(parse_min("m=audio 65535/2 UDP/TLS/RTP/SAVPF 111\r\n") == 0);
  CHECK_EQ(A.media[0].port, 65535);
}

SB_TEST(error_ssrc_and_rid) {
  CHECK(media_fails_with(MIN_AUDIO "a=ssrc:4294967296 cname:x\r\n", "SSRC \"4294967296\""));
  CHECK(media_fails_with(MIN_AUDIO "a=ssrc-group:FID 1\r\n", "FID needs two SSRCs"));
  CHECK(media_fails_with(MIN_AUDIO "a=ssrc-group:SIM 1 x\r\n", "SSRC \"x\""));
  CHECK(media_fails_with(MIN_AUDIO "a=rid:h sideways\r\n", "send or recv"));
  CHECK(media_fails_with(MIN_AUDIO "a=rid:h!x send\r\n", "a=rid id"));
  CHECK(media_fails_with(MIN_AUDIO "a=rid:abcdefghijklmnopq send\r\n", "a=rid id"));
  CHECK(parse_min(MIN_AUDIO "a=ssrc:4294967295 cname:x\r\n") == 0);
  CHECK_EQ(A.media[0].ssrcs[0].ssrc, 4294967295u);
}

SB_TEST(error_overlong_identifiers) {
  char media[512];
  snprintf(media, sizeof media, MIN_AUDIO "a=mid:%040d\r\n", 7);
  CHECK(media_fails_with(media, "a=mid must have 1..31"));
  snprintf(text, sizeof text, "%sa=group:BUNDLE %040d\r\n%s", MIN_SESSION, 7, MIN_AUDIO);
  CHECK(fails_with(text, "BUNDLE mid longer"));
  snprintf(media, sizeof media, MIN_AUDIO "a=ssrc:1 cname:%070d\r\n", 7);
  CHECK(media_fails_with(media, "cname longer"));
  snprintf(media, sizeof media, MIN_AUDIO "a=msid:%0140d\r\n", 7);
  CHECK(media_fails_with(media, "a=msid longer"));
}

SB_TEST(error_line_and_text_limits) {
  /* a 4096-byte line is accepted, one byte more is not */
  static char big[300 * 1024];
  int n = snprintf(big, sizeof big, "%s%sa=x-long:", MIN_SESSION, MIN_AUDIO);
  int line_start = n - (int)strlen("a=x-long:");
  memset(big + n, 'y', 4096 - (n - line_start));
  n = line_start + 4096;
  memcpy(big + n, "\r\n", 3);
  CHECK_EQ(parse_str(big, &A), 0);
  memmove(big + n + 1, big + n, 3);
  big[n] = 'y';
  CHECK(fails_with(big, "line longer than 4096 bytes"));
  /* 256 KiB in total is accepted, one byte more is not (blank lines pad to the exact size) */
  n = snprintf(big, sizeof big, "%s%s", MIN_SESSION, MIN_AUDIO);
  while (n + 100 < 256 * 1024)
    n += snprintf(big + n, sizeof big - n, "a=x-filler:0123456789\r\n");
  memset(big + n, '\n', 256 * 1024 - n + 1);
  CHECK_EQ(sb_sdp_parse(big, 256 * 1024, &A, err, sizeof err), 0);
  CHECK_EQ(sb_sdp_parse(big, 256 * 1024 + 1, &A, err, sizeof err), -1);
  CHECK(strstr(err, "SDP longer than 256 KiB") != NULL);
}

SB_TEST(error_malformed_lines) {
  CHECK(media_fails_with(MIN_AUDIO "garbage\r\n", "not a <type>=<value> line"));
  CHECK(media_fails_with(MIN_AUDIO "A=x\r\n", "not a <type>=<value> line"));
  CHECK(media_fails_with(MIN_AUDIO "a\r\n", "not a <type>=<value> line"));
  const char nul[] = MIN_SESSION MIN_AUDIO "a=mid:\0x\r\n";
  CHECK_EQ(sb_sdp_parse(nul, sizeof nul - 1, &A, err, sizeof err), -1);
  CHECK(strstr(err, "NUL byte") != NULL);
  CHECK_EQ(sb_sdp_parse(NULL, 10, &A, err, sizeof err), -1);
  CHECK(strstr(err, "no SDP text") != NULL);
  CHECK_EQ(sb_sdp_parse(MIN_SESSION, 5, NULL, err, sizeof err), -1);
}

SB_TEST(error_message_fits_small_buffers) {
  char small[12];
  memset(small, 'Z', sizeof small);
  CHECK_EQ(sb_sdp_parse("v=1\r\n", 5, &A, small, 8), -1);
  CHECK(memchr(small, '\0', 8) != NULL);
  CHECK_EQ(small[8], 'Z');
  CHECK(strncmp(small, "line 1:", 7) == 0);
  CHECK_EQ(sb_sdp_parse("v=1\r\n", 5, &A, NULL, 0), -1);
  CHECK_EQ(sb_sdp_parse("v=1\r\n", 5, &A, small, 0), -1);
  CHECK_EQ(small[0], 'l');
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, &A), 0);
  CHECK_STR(err, ""); /* cleared on success */
}

SB_TEST(lookups_and_names) {
  CHECK_EQ(parse_str(SDP_CHROME_ANSWER, &A), 0);
  CHECK(sb_sdp_find_codec(NULL, "opus", 48000) == NULL);
  CHECK(sb_sdp_find_codec(&A.media[0], NULL, 48000) == NULL);
  CHECK(sb_sdp_find_codec(&A.media[0], "opus", 8000) == NULL);
  CHECK(sb_sdp_find_codec(&A.media[0], "Opus", 0) != NULL);
  CHECK(sb_sdp_find_rtx(&A.media[0], 111) == NULL);
  CHECK(sb_sdp_find_rtx(NULL, 96) == NULL);
  CHECK_EQ(sb_sdp_find_ext(&A.media[1], SB_EXT_AUDIO_LEVEL), 0);
  CHECK_EQ(sb_sdp_find_ext(NULL, SB_EXT_MID), 0);
  CHECK_STR(sb_sdp_dir_str(SB_DIR_SENDRECV), "sendrecv");
  CHECK_STR(sb_sdp_dir_str(SB_DIR_SENDONLY), "sendonly");
  CHECK_STR(sb_sdp_dir_str(SB_DIR_RECVONLY), "recvonly");
  CHECK_STR(sb_sdp_dir_str(SB_DIR_INACTIVE), "inactive");
}

/* max-bundle (webrtcbin, JSEP): port 0 + a=bundle-only is parsed as such, not as a rejected
 * m-line, and its mid is found in the BUNDLE group. */
SB_TEST(bundle_only_mline_is_parsed) {
  CHECK_EQ(parse_str(SDP_WEBRTCBIN_MAX_BUNDLE_OFFER, &A), 0);
  CHECK_EQ(A.nmedia, 2);
  CHECK_EQ(A.media[0].port, 9);
  CHECK_EQ(A.media[0].bundle_only, 0);
  CHECK_EQ(A.media[1].port, 0);
  CHECK_EQ(A.media[1].bundle_only, 1);
  CHECK_STR(A.media[1].mid, "audio1");
  CHECK_EQ(sb_sdp_in_bundle(&A, "video0"), 1);
  CHECK_EQ(sb_sdp_in_bundle(&A, "audio1"), 1);
  CHECK_EQ(sb_sdp_in_bundle(&A, "audio"), 0);
  CHECK_EQ(sb_sdp_in_bundle(&A, ""), 0);
  /* no transport attributes of its own: the session level has the first m-line's */
  CHECK_STR(A.ice_ufrag, "Kp7cXq0zR2mB5nVw");
  CHECK_EQ(A.setup, SB_SETUP_ACTPASS);
  CHECK_STR(A.fingerprint_alg, "sha-256");
  /* a=bundle-only at session level means nothing */
  CHECK_EQ(parse_str("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=bundle-only\r\n"
                     "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
                     "a=fingerprint:sha-256 AA:BB\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n",
                     &B),
           0);
  CHECK_EQ(B.media[0].bundle_only, 0);
}

/* A description is mostly room for SB_SDP_MAX_MEDIA m-lines: parsing initialises the session
 * part and each entry it adds, so a parse into a dirty description gives exactly what a parse
 * into a zeroed one gives, and leaves the entries after the last m-line untouched (their pages
 * are never written). */
SB_TEST(parse_initialises_what_it_fills_and_touches_no_more) {
  sb_sdp_t *dirty = sb_sdp_new();
  CHECK(dirty != NULL);
  memset(dirty, 0xa5, sizeof *dirty);
  memset(&A, 0, sizeof A);
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, &A), 0);
  CHECK_EQ(parse_str(SDP_CHROME_OFFER, dirty), 0);
  CHECK_EQ(dirty->nmedia, A.nmedia);
  CHECK(A.nmedia > 1 && A.nmedia < SB_SDP_MAX_MEDIA);
  CHECK_EQ(memcmp(dirty, &A, offsetof(sb_sdp_t, media)), 0);
  for (int i = 0; i < A.nmedia; i++)
    CHECK_EQ(memcmp(&dirty->media[i], &A.media[i], sizeof A.media[i]), 0);
  const uint8_t *rest = (const uint8_t *)&dirty->media[A.nmedia];
  size_t untouched = 0, len = (size_t)((const uint8_t *)(dirty + 1) - rest);
  for (size_t i = 0; i < len; i++)
    untouched += rest[i] == 0xa5;
  CHECK_EQ(untouched, len);
  /* a new description: the session part zeroed, so a writer may fill it field by field */
  sb_sdp_t *fresh = sb_sdp_new();
  CHECK(fresh != NULL);
  CHECK_EQ(fresh->nmedia, 0);
  CHECK_EQ(fresh->nbundle, 0);
  CHECK_STR(fresh->ice_ufrag, "");
  free(fresh);
  free(dirty);
}

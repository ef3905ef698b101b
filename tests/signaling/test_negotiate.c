/* The server's answer to a client's first offer (signaling/negotiate.c): which producers the
 * relay is told to create for each published track, and what the answer says. Simulcast comes
 * in two forms: rids (RFC 8853) and legacy SSRC groups (a=ssrc-group:SIM with one FID group per
 * layer, as a munged Chromium offer has). The fingerprint comes from a real DTLS context. */
#include "relay/sdp_samples.h"
#include "sbtest.h"
#include "relay/dtls.h"
#include "signaling/negotiate.h"

#include <stdlib.h>

typedef struct {
  sb_participant_t p;
  sb_cmd_t create;
  sb_sdp_t answer;    /* parsed back from the answer text */
  char text[64 * 1024];
  char err[256];
} result_t;

/* A well-formed client fingerprint (32 bytes, as sha-256 has). */
#define CLIENT_FP                                                                                   \
  "3A:11:C4:9E:0D:72:5B:E8:41:AF:06:93:D7:2C:88:1F:64:B0:5E:E2:17:9A:C3:4D:F0:28:7B:B6:0A:55:E9:13"

static result_t R;
static sb_sdp_t offer;
static char buf[64 * 1024];

/* Answers `offer_text` for a fresh participant; R holds the outcome. Returns what
 * sb_negotiate_answer returned (0 with the answer parsed back into R.answer, or -1). */
static int negotiate(const char *offer_text) {
  int rc = -1;
  sb_call_config_t cfg = {.announce_ip = "127.0.0.1", .ports = {40000}, .workers = 1};
  sb_dtls_ctx_t *dtls = sb_dtls_ctx_create();
  sb_cmd_t *create = sb_cmd_new(SB_CMD_TRANSPORT_CREATE, 1);
  char *text = NULL;
  memset(&R, 0, sizeof R);
  if (!create || !dtls) {
    snprintf(R.err, sizeof R.err, "set-up failed");
    goto Exit;
  }
  snprintf(cfg.fingerprint, sizeof cfg.fingerprint, "%s", sb_dtls_ctx_fingerprint(dtls));
  if (sb_sdp_parse(offer_text, strlen(offer_text), &offer, R.err, sizeof R.err) != 0)
    goto Exit;
  snprintf(R.p.ufrag, sizeof R.p.ufrag, "ufrag");
  snprintf(R.p.pwd, sizeof R.p.pwd, "0123456789abcdefghijklmn");
  text = sb_negotiate_answer(&cfg, &R.p, &offer, create, R.err, sizeof R.err);
  R.create = *create;
  if (!text)
    goto Exit;
  snprintf(R.text, sizeof R.text, "%s", text);
  rc = sb_sdp_parse(R.text, strlen(R.text), &R.answer, R.err, sizeof R.err);
Exit:
  if (rc != 0)
    fprintf(stderr, "  negotiate: %s\n", R.err);
  free(text);
  free(R.p.own);
  R.p.own = NULL;
  free(create);
  sb_dtls_ctx_destroy(dtls);
  return rc;
}

static const sb_producer_spec_t *producer(int i) {
  return &R.create.u.create.producers[i];
}

/* The m-line of the answer text with mid `mid`, up to the next m-line, copied into buf. */
static const char *answer_mline(const char *mid) {
  char want[48];
  snprintf(want, sizeof want, "a=mid:%s\r\n", mid);
  const char *at = strstr(R.text, want), *start = at, *end;
  while (start && start > R.text && strncmp(start, "\r\nm=", 4) != 0)
    start--;
  end = at ? strstr(at, "\r\nm=") : NULL;
  snprintf(buf, sizeof buf, "%.*s", at ? (int)((end ? end : at + strlen(at)) - start) : 0, start);
  return buf;
}

SB_TEST(ssrc_simulcast_offer_creates_one_producer_per_layer) {
  CHECK(sdp_chrome_sim_offer(buf, sizeof buf) > 0);
  static char sim_offer[64 * 1024];
  memcpy(sim_offer, buf, sizeof sim_offer);
  CHECK_EQ(negotiate(sim_offer), 0);
  /* audio, the camera's three layers, the screen share */
  CHECK_EQ(R.create.u.create.nproducers, 5);
  CHECK_EQ(R.p.npubs, 3);
  CHECK_STR(R.p.pubs[1].mid, "1");
  CHECK_EQ(R.p.pubs[1].kind, SB_KIND_VIDEO);
  CHECK_EQ(R.p.pubs[1].producer_id, 1);
  CHECK_EQ(R.p.pubs[1].nlayers, 3);
  static const uint32_t ssrc[3] = {1111111111u, 1222222222u, 1333333333u};
  static const uint32_t rtx[3] = {2111111111u, 2222222222u, 2333333333u};
  for (int l = 0; l < 3; l++) {
    const sb_producer_spec_t *ps = producer(1 + l);
    CHECK_EQ(ps->id, 1 + l);
    CHECK_EQ(ps->kind, SB_KIND_VIDEO);
    CHECK_STR(ps->mid, "1");
    CHECK_STR(ps->rid, "");
    CHECK_EQ(ps->layer, l); /* group order: lowest first */
    CHECK_EQ(ps->ssrc, ssrc[l]);
    CHECK_EQ(ps->rtx_ssrc, rtx[l]);
    CHECK_EQ(ps->pt, 96);
    CHECK_EQ(ps->rtx_pt, 97);
  }
  /* The answer's camera m-line is plain recvonly: no simulcast, rids or SSRCs echoed. */
  CHECK_EQ(R.answer.media[1].dir, SB_DIR_RECVONLY);
  CHECK_EQ(R.answer.media[1].simulcast, 0);
  CHECK_EQ(R.answer.media[1].nrids, 0);
  CHECK_EQ(R.answer.media[1].nssrcs, 0);
  const char *cam = answer_mline("1");
  CHECK(strstr(cam, "m=video ") != NULL);
  CHECK(strstr(cam, "a=recvonly\r\n") != NULL);
  CHECK(strstr(cam, "a=simulcast") == NULL);
  CHECK(strstr(cam, "a=rid") == NULL);
  CHECK(strstr(cam, "a=ssrc") == NULL);
  /* The screen share beside it stays one producer on its SSRC and RTX. */
  CHECK_EQ(R.p.pubs[2].nlayers, 0);
  CHECK_EQ(R.p.pubs[2].producer_id, 4);
  CHECK_EQ(producer(4)->ssrc, 1414213562u);
  CHECK_EQ(producer(4)->rtx_ssrc, 1732050807u);
  CHECK_EQ(producer(4)->layer, 0);
}

SB_TEST(rid_simulcast_offer_is_unchanged) {
  CHECK_EQ(negotiate(SDP_CHROME_OFFER), 0);
  CHECK_EQ(R.create.u.create.nproducers, 5);
  CHECK_EQ(R.p.pubs[1].nlayers, 3);
  static const char *rids[3] = {"q", "h", "f"};
  for (int l = 0; l < 3; l++) {
    CHECK_STR(producer(1 + l)->rid, rids[l]);
    CHECK_EQ(producer(1 + l)->layer, l);
    CHECK_EQ(producer(1 + l)->ssrc, 0); /* learned from the rid extension */
    CHECK_EQ(producer(1 + l)->rtx_ssrc, 0);
    CHECK_EQ(producer(1 + l)->rtx_pt, 97);
  }
  CHECK(strstr(answer_mline("1"), "a=simulcast:recv q;h;f\r\n") != NULL);
}

/* SDP_CHROME_OFFER's camera with a SIM group and its a=ssrc lines added beside the rids. */
static const char *offer_with_rids_and_sim(void) {
  static char text[64 * 1024];
  const char *o = SDP_CHROME_OFFER, *at = strstr(o, "a=simulcast:send q;h;f\r\n");
  if (!at)
    return "";
  snprintf(text, sizeof text, "%.*sa=ssrc-group:SIM 10 20 30\r\na=ssrc:10 cname:c\r\n"
           "a=ssrc:20 cname:c\r\na=ssrc:30 cname:c\r\n%s", (int)(at - o), o, at);
  return text;
}

SB_TEST(rids_win_over_a_sim_group) {
  CHECK_EQ(negotiate(offer_with_rids_and_sim()), 0);
  CHECK_EQ(offer.media[1].nsim, 3);
  CHECK_EQ(R.p.pubs[1].nlayers, 3);
  CHECK_STR(producer(1)->rid, "q");
  CHECK_EQ(producer(1)->ssrc, 0);
  CHECK_STR(producer(3)->rid, "f");
  CHECK(strstr(answer_mline("1"), "a=simulcast:recv q;h;f\r\n") != NULL);
}

/* A minimal offer: one sendonly VP8 m-line with `codecs` (rtpmap lines) and `ssrcs`. */
static const char *video_offer(const char *pts, const char *codecs, const char *ssrcs) {
  static char text[8192];
  snprintf(text, sizeof text,
           "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
           "m=video 9 UDP/TLS/RTP/SAVPF %s\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
           "a=fingerprint:sha-256 " CLIENT_FP "\r\na=setup:actpass\r\na=mid:0\r\na=sendonly\r\n"
           "a=rtcp-mux\r\n%s%s",
           pts, codecs, ssrcs);
  return text;
}

#define VP8_RTX "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
#define TWO_LAYERS "a=ssrc-group:SIM 10 20\r\na=ssrc:10 cname:c\r\na=ssrc:20 cname:c\r\n"

SB_TEST(sim_without_rtx_negotiated) {
  CHECK_EQ(negotiate(video_offer("96", "a=rtpmap:96 VP8/90000\r\n", TWO_LAYERS)), 0);
  CHECK_EQ(R.create.u.create.nproducers, 2);
  CHECK_EQ(R.p.pubs[0].nlayers, 2);
  CHECK_EQ(producer(0)->ssrc, 10);
  CHECK_EQ(producer(1)->ssrc, 20);
  CHECK_EQ(producer(1)->layer, 1);
  CHECK_EQ(producer(0)->rtx_ssrc, 0);
  CHECK_EQ(producer(0)->rtx_pt, 0);
}

SB_TEST(sim_layer_without_fid_has_no_rtx) {
  CHECK_EQ(negotiate(video_offer("96 97", VP8_RTX,
                                 TWO_LAYERS "a=ssrc-group:FID 20 21\r\na=ssrc:21 cname:c\r\n")),
           0);
  CHECK_EQ(producer(0)->ssrc, 10);
  CHECK_EQ(producer(0)->rtx_ssrc, 0);
  CHECK_EQ(producer(0)->rtx_pt, 0);
  CHECK_EQ(producer(1)->ssrc, 20);
  CHECK_EQ(producer(1)->rtx_ssrc, 21); /* matched by SSRC, not by position */
  CHECK_EQ(producer(1)->rtx_pt, 97);
}

SB_TEST(single_sim_ssrc_is_no_simulcast) {
  CHECK_EQ(negotiate(video_offer("96 97", VP8_RTX,
                                 "a=ssrc-group:SIM 10\r\na=ssrc-group:FID 10 11\r\n"
                                 "a=ssrc:10 cname:c\r\na=ssrc:11 cname:c\r\n")),
           0);
  CHECK_EQ(R.create.u.create.nproducers, 1);
  CHECK_EQ(R.p.pubs[0].nlayers, 0);
  CHECK_EQ(producer(0)->ssrc, 10);
  CHECK_EQ(producer(0)->rtx_ssrc, 11);
}

SB_TEST(too_many_layers_in_all_is_refused) {
  /* Three SSRC-simulcast cameras need nine producers, one more than a transport holds. */
  static char text[32 * 1024];
  int n = snprintf(text, sizeof text, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                   "a=group:BUNDLE 0 1 2\r\n"
                   "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
                   "a=fingerprint:sha-256 " CLIENT_FP "\r\n");
  for (int i = 0; i < 3; i++)
    n += snprintf(text + n, sizeof text - (size_t)n,
                  "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:%d\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n"
                  "a=ssrc-group:SIM 1 2 3\r\na=ssrc:1 cname:c\r\na=ssrc:2 cname:c\r\na=ssrc:3 cname:c\r\n",
                  i);
  CHECK(n < (int)sizeof text);
  CHECK_EQ(negotiate(text), -1);
  CHECK(strstr(R.err, "more than 8 published tracks") != NULL);
}

/* webrtcbin's max-bundle offer: the audio m-line is port 0 + a=bundle-only inside the BUNDLE
 * group. It used to be answered as rejected (port 0, inactive, out of the group), and webrtcbin
 * refused the whole answer for the missing a=setup. Now it is accepted into the bundle. */
SB_TEST(bundle_only_mline_is_answered_inside_the_bundle) {
  CHECK_EQ(negotiate(SDP_WEBRTCBIN_MAX_BUNDLE_OFFER), 0);
  CHECK_EQ(R.answer.nmedia, 2);
  CHECK_EQ(R.answer.nbundle, 2);
  CHECK_STR(R.answer.bundle[0], "video0");
  CHECK_STR(R.answer.bundle[1], "audio1");
  for (int m = 0; m < 2; m++) {
    CHECK_EQ(R.answer.media[m].port, 40000);
    CHECK_EQ(R.answer.media[m].bundle_only, 0); /* never in an answer (RFC 8843 §7.3) */
    CHECK_EQ(R.answer.media[m].rtcp_mux, 1);
    CHECK_EQ(R.answer.media[m].dir, SB_DIR_RECVONLY);
  }
  const char *audio = answer_mline("audio1");
  CHECK(strstr(audio, "m=audio 40000 ") != NULL);
  CHECK(strstr(audio, "a=setup:passive\r\n") != NULL);
  CHECK(strstr(audio, "a=ice-ufrag:ufrag\r\n") != NULL);
  CHECK(strstr(audio, "a=fingerprint:sha-256 ") != NULL);
  CHECK(strstr(audio, "a=candidate:") != NULL);
  CHECK(strstr(audio, "a=bundle-only") == NULL);
  /* both tracks are published: VP8 and Opus (webrtcbin writes "OPUS") */
  CHECK_EQ(R.create.u.create.nproducers, 2);
  CHECK_EQ(producer(0)->kind, SB_KIND_VIDEO);
  CHECK_EQ(producer(0)->ssrc, 3484078950u);
  CHECK_EQ(producer(1)->kind, SB_KIND_AUDIO);
  CHECK_STR(producer(1)->mid, "audio1");
  CHECK_EQ(producer(1)->ssrc, 1917441391u);
  CHECK_EQ(producer(1)->pt, 97);
}

/* The same offer without a=bundle-only: port 0 is a rejected m-line, as before. And an m-line
 * outside the offered group is rejected too: the relay has one transport per participant. */
SB_TEST(port_zero_without_bundle_only_or_outside_the_group_is_rejected) {
  static char text[8192];
  const char *o = SDP_WEBRTCBIN_MAX_BUNDLE_OFFER;
  const char *bo = strstr(o, "a=bundle-only\r\n");
  CHECK(bo != NULL);
  snprintf(text, sizeof text, "%.*s%s", (int)(bo - o), o, bo + strlen("a=bundle-only\r\n"));
  CHECK_EQ(negotiate(text), 0);
  CHECK_EQ(R.answer.media[1].port, 0);
  CHECK_EQ(R.answer.nbundle, 1);
  CHECK_STR(R.answer.bundle[0], "video0");
  CHECK_EQ(R.create.u.create.nproducers, 1);

  /* audio1 with a port but left out of the group */
  const char *g = strstr(o, "a=group:BUNDLE video0 audio1\r\n");
  CHECK(g != NULL);
  const char *m0 = strstr(o, "m=audio 0 ");
  snprintf(text, sizeof text, "%.*sa=group:BUNDLE video0\r\n%.*sm=audio 9 %s", (int)(g - o), o,
           (int)(m0 - (g + strlen("a=group:BUNDLE video0 audio1\r\n"))),
           g + strlen("a=group:BUNDLE video0 audio1\r\n"), m0 + strlen("m=audio 0 "));
  CHECK_EQ(negotiate(text), 0);
  CHECK_EQ(R.answer.media[1].port, 0);
  CHECK_EQ(R.answer.nbundle, 1);
  CHECK_EQ(R.create.u.create.nproducers, 1);
}

/* webrtcbin's default policy (none): one transport per m-line and no BUNDLE group. It used to
 * get an answer with a BUNDLE group it never offered; now a clear refusal. */
SB_TEST(offer_without_bundle_group_is_refused) {
  static char text[8192];
  const char *o = SDP_WEBRTCBIN_MAX_BUNDLE_OFFER;
  const char *g = strstr(o, "a=group:BUNDLE video0 audio1\r\n");
  snprintf(text, sizeof text, "%.*s%s", (int)(g - o), o, g + strlen("a=group:BUNDLE video0 audio1\r\n"));
  CHECK_EQ(negotiate(text), -1);
  CHECK(strstr(R.err, "BUNDLE is required") != NULL);
}

/* A fingerprint the relay's DTLS cannot verify is refused when the offer is answered; it used
 * to pass here and end the call afterwards (the relay could not create the transport). */
SB_TEST(unusable_fingerprint_is_refused_at_negotiation) {
  static const char *const bad[] = {
      "md5 3A:11:C4:9E:0D:72:5B:E8:41:AF:06:93:D7:2C:88:1F",
      "sha-256 3A:11:C4:9E:0D:72:5B:E8:41:AF:06:93:D7:2C:88:1F:64:B0:5E:E2:17:9A:C3:4D:F0:28:7B:B6:0A:55:E9",
      "sha-256 3A:11:C4:9E:0D:72:5B:E8:41:AF:06:93:D7:2C:88:1F:64:B0:5E:E2:17:9A:C3:4D:F0:28:7B:B6:0A:55:E9:13:07",
      "sha-256 3A:11:C4:9E:0D:72:5B:E8:41:AF:06:93:D7:2C:88:1F:64:B0:5E:E2:17:9A:C3:4D:F0:28:7B:B6:0A:55:E9:ZZ",
      "sha-384 3A:11:C4:9E:0D:72:5B:E8:41:AF:06:93:D7:2C:88:1F:64:B0:5E:E2:17:9A:C3:4D:F0:28:7B:B6:0A:55:E9:13",
  };
  static const char *const good[] = {
      "sha-256 " CLIENT_FP,
      "SHA-256 3a:11:c4:9e:0d:72:5b:e8:41:af:06:93:d7:2c:88:1f:64:b0:5e:e2:17:9a:c3:4d:f0:28:7b:b6:0a:55:e9:13",
  };
  static char text[8192];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0] + sizeof good / sizeof good[0]; i++) {
    int ok = i >= sizeof bad / sizeof bad[0];
    snprintf(text, sizeof text,
             "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
             "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
             "a=fingerprint:%s\r\na=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n"
             "a=rtpmap:111 opus/48000/2\r\n",
             ok ? good[i - sizeof bad / sizeof bad[0]] : bad[i]);
    CHECK_EQ(negotiate(text), ok ? 0 : -1);
    if (!ok)
      CHECK(strstr(R.err, "fingerprint") != NULL);
  }
}

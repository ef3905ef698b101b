/* The participant's SDP: offer, reading the server's answer, answering server offers. Checked by
 * parsing what we write with relay/sdp.c, as the server does. */
#include <stdlib.h>
#include <string.h>

#include "bench/offer.h"
#include "sbtest.h"

static sb_sdp_t *scratch, *parsed;
static char text[65536], text2[65536];

static void setup(void) {
  if (!scratch) {
    scratch = calloc(1, sizeof *scratch);
    parsed = calloc(1, sizeof *parsed);
  }
}

static void local(sb_bench_local_t *l) {
  memset(l, 0, sizeof *l);
  strcpy(l->user, "u0001");
  strcpy(l->cname, "cname0001");
  strcpy(l->ufrag, "ufrg");
  strcpy(l->pwd, "p4ssw0rdp4ssw0rdp4ssw0rd");
  l->fingerprint = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
  l->audio = l->video = 1;
  l->audio_ssrc = 1111;
  l->video_ssrc = 2222;
  strcpy(l->ip, "127.0.0.1");
  l->port = 50000;
  l->session_id = 77;
  l->session_version = 1;
}

SB_TEST(offer_parses_back_with_what_the_relay_needs) {
  sb_bench_local_t l;
  char err[200];
  int len;
  setup();
  local(&l);
  len = sb_bench_offer_write(&l, scratch, text, sizeof text);
  CHECK(len > 0);
  CHECK_EQ(sb_sdp_parse(text, (size_t)len, parsed, err, sizeof err), 0);
  CHECK_EQ(parsed->nmedia, 2);
  CHECK_EQ(parsed->nbundle, 2);
  CHECK_STR(parsed->ice_ufrag, "ufrg");
  CHECK_EQ(parsed->setup, SB_SETUP_ACTPASS);
  for (int i = 0; i < 2; i++) {
    const sb_sdp_media_t *m = &parsed->media[i];
    CHECK_EQ(m->dir, SB_DIR_SENDONLY);
    CHECK(m->rtcp_mux);
    CHECK_EQ(sb_sdp_find_ext(m, SB_EXT_SEND_TIME), SB_BENCH_EXT_ID_SEND_TIME);
    CHECK_EQ(sb_sdp_find_ext(m, SB_EXT_MID), SB_BENCH_EXT_ID_MID);
    CHECK_EQ(m->nssrcs, 1);
    CHECK_EQ(m->ncands, 1);
    CHECK_EQ(m->cands[0].port, 50000);
  }
  CHECK_EQ(parsed->media[0].kind, SB_MEDIA_AUDIO);
  CHECK(sb_sdp_find_codec(&parsed->media[0], "opus", 48000) != NULL);
  CHECK_EQ(parsed->media[0].ssrcs[0].ssrc, 1111);
  CHECK_STR(parsed->media[0].ssrcs[0].cname, "cname0001");
  CHECK_STR(parsed->media[0].msid, "u0001 u0001-audio");
  CHECK(sb_sdp_find_codec(&parsed->media[1], "VP8", 90000) != NULL);
  CHECK_EQ(parsed->media[1].ssrcs[0].ssrc, 2222);
}

SB_TEST(offer_receive_only_and_audio_only) {
  sb_bench_local_t l;
  char err[200];
  int len;
  setup();
  local(&l);
  l.receive_only = 1;
  len = sb_bench_offer_write(&l, scratch, text, sizeof text);
  CHECK_EQ(sb_sdp_parse(text, (size_t)len, parsed, err, sizeof err), 0);
  CHECK_EQ(parsed->nmedia, 2);
  CHECK_EQ(parsed->media[0].dir, SB_DIR_RECVONLY);
  CHECK_EQ(parsed->media[0].nssrcs, 0);
  local(&l);
  l.video = 0;
  len = sb_bench_offer_write(&l, scratch, text, sizeof text);
  CHECK_EQ(sb_sdp_parse(text, (size_t)len, parsed, err, sizeof err), 0);
  CHECK_EQ(parsed->nmedia, 1);
  CHECK_EQ(sb_bench_offer_write(&l, scratch, text, 100), -1);
}

/* Parses the offer `l` writes into `parsed` and turns it into the server's answer: ICE-lite
 * credentials, passive DTLS, recvonly m-lines without SSRCs, media-level ICE/DTLS left to the
 * session. 0 or -1. */
static int offer_to_answer(const sb_bench_local_t *l, char *out, size_t cap) {
  char err[200];
  int len = sb_bench_offer_write(l, scratch, out, cap);
  if (sb_sdp_parse(out, (size_t)len, parsed, err, sizeof err) < 0)
    return -1;
  parsed->ice_lite = 1;
  strcpy(parsed->ice_ufrag, "SRVU");
  strcpy(parsed->ice_pwd, "serverpasswordserverpass");
  strcpy(parsed->fingerprint, "11:22");
  parsed->setup = SB_SETUP_PASSIVE;
  for (int i = 0; i < parsed->nmedia; i++) {
    sb_sdp_media_t *m = &parsed->media[i];
    m->dir = SB_DIR_RECVONLY;
    m->nssrcs = 0;
    m->setup = -1;
    m->ice_ufrag[0] = m->ice_pwd[0] = m->fingerprint[0] = '\0';
  }
  return 0;
}

/* The server's side, written with the same writer the relay uses. */
static int server_answer(char *out, size_t cap, int with_time_ext) {
  sb_bench_local_t l;
  local(&l);
  if (offer_to_answer(&l, out, cap) < 0)
    return -1;
  for (int i = 0; i < parsed->nmedia; i++) {
    sb_sdp_media_t *m = &parsed->media[i];
    strcpy(m->cands[0].ip, "127.0.0.1");
    m->cands[0].port = 40000;
    if (!with_time_ext)
      m->nexts = 1;
  }
  return sb_sdp_write(parsed, out, cap);
}

SB_TEST(answer_gives_credentials_candidate_and_ids) {
  sb_bench_answer_t a;
  char err[200];
  int len;
  setup();
  len = server_answer(text, sizeof text, 1);
  CHECK(len > 0);
  CHECK_EQ(sb_bench_answer_read(text, (size_t)len, scratch, &a, err, sizeof err), 0);
  CHECK_STR(a.ufrag, "SRVU");
  CHECK_STR(a.pwd, "serverpasswordserverpass");
  CHECK_STR(a.fingerprint, "11:22");
  CHECK_EQ(a.ice_lite, 1);
  CHECK_EQ(a.setup, SB_SETUP_PASSIVE);
  CHECK_STR(a.ip, "127.0.0.1");
  CHECK_EQ(a.port, 40000);
  CHECK_EQ(a.audio_pt, SB_BENCH_PT_OPUS);
  CHECK_EQ(a.video_pt, SB_BENCH_PT_VP8);
  CHECK_EQ(a.audio_time_ext, SB_BENCH_EXT_ID_SEND_TIME);
  CHECK_STR(a.audio_mid, "0");
  CHECK_STR(a.video_mid, "1");
  len = server_answer(text, sizeof text, 0);
  CHECK_EQ(sb_bench_answer_read(text, (size_t)len, scratch, &a, err, sizeof err), 0);
  CHECK_EQ(a.video_time_ext, 0);
  CHECK_EQ(sb_bench_answer_read("v=0\r\n", 5, scratch, &a, err, sizeof err), -1);
}

/* A server offer: our two m-lines plus another participant's audio and video, and a removed one. */
static int server_offer(char *out, size_t cap) {
  const char *extra = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"
                      "a=extmap:14 " SB_EXT_SEND_TIME "\r\na=sendonly\r\na=msid:u0002 u0002-audio\r\n"
                      "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=ssrc:3333 cname:x\r\n"
                      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:3\r\n"
                      "a=extmap:14 " SB_EXT_SEND_TIME "\r\na=sendonly\r\na=msid:u0002 u0002-video\r\n"
                      "a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=ssrc:4444 cname:x\r\n"
                      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:4\r\na=inactive\r\n"
                      "a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=ssrc:5555 cname:y\r\n";
  int len = server_answer(out, cap, 1);
  char *b = strstr(out, "a=group:BUNDLE 0 1");
  if (len < 0 || !b)
    return -1;
  /* extend the bundle group and append the new m-lines */
  memmove(b + 24, b + 18, strlen(b + 18) + 1);
  memcpy(b + 18, " 2 3 4", 6);
  strcat(out, extra);
  return (int)strlen(out);
}

SB_TEST(answer_to_server_offer_subscribes) {
  sb_bench_local_t l;
  sb_bench_answer_t a;
  sb_bench_offered_t st[8];
  char err[200];
  int len, n = 0;
  setup();
  local(&l);
  len = server_answer(text, sizeof text, 1);
  CHECK_EQ(sb_bench_answer_read(text, (size_t)len, scratch, &a, err, sizeof err), 0);
  len = server_offer(text, sizeof text);
  CHECK(len > 0);
  len = sb_bench_answer_write(&l, &a, text, (size_t)len, scratch, text2, sizeof text2, st, 8, &n, err,
                              sizeof err);
  CHECK(len > 0);
  CHECK_EQ(n, 3);
  CHECK_EQ(st[0].ssrc, 3333);
  CHECK_STR(st[0].from_user, "u0002");
  CHECK_EQ(st[0].kind, SB_MEDIA_AUDIO);
  CHECK_EQ(st[0].active, 1);
  CHECK_EQ(st[0].time_ext, 14);
  CHECK_EQ(st[0].clock, 48000);
  CHECK_EQ(st[1].ssrc, 4444);
  CHECK_EQ(st[2].active, 0);
  CHECK_EQ(sb_sdp_parse(text2, (size_t)len, parsed, err, sizeof err), 0);
  CHECK_EQ(parsed->nmedia, 5);
  CHECK_EQ(parsed->setup, SB_SETUP_ACTIVE);
  CHECK_EQ(parsed->ice_lite, 0);
  CHECK_STR(parsed->ice_ufrag, "ufrg");
  CHECK_EQ(parsed->media[0].dir, SB_DIR_SENDONLY);
  CHECK_EQ(parsed->media[0].ssrcs[0].ssrc, 1111);
  CHECK_EQ(parsed->media[2].dir, SB_DIR_RECVONLY);
  CHECK_EQ(parsed->media[2].nssrcs, 0);
  CHECK_EQ(sb_sdp_find_ext(&parsed->media[3], SB_EXT_SEND_TIME), 14);
  CHECK_EQ(parsed->media[4].dir, SB_DIR_INACTIVE);
  CHECK_EQ(sb_bench_answer_write(&l, &a, "garbage", 7, scratch, text2, sizeof text2, st, 8, &n, err,
                                 sizeof err),
           -1);
}

/* ---- simulcast: three rid layers on the video m-line ---------------------------------------- */

static void local_simulcast(sb_bench_local_t *l) {
  local(l);
  l->nrids = 3;
  strcpy(l->rids[0], "l");
  strcpy(l->rids[1], "m");
  strcpy(l->rids[2], "h");
}

SB_TEST(offer_with_simulcast_has_rids_simulcast_and_extensions) {
  sb_bench_local_t l;
  char err[200];
  int len;
  setup();
  local_simulcast(&l);
  len = sb_bench_offer_write(&l, scratch, text, sizeof text);
  CHECK(len > 0);
  /* the lines as a browser writes them, lowest layer first */
  CHECK(strstr(text, "a=rid:l send\r\na=rid:m send\r\na=rid:h send\r\n") != NULL);
  CHECK(strstr(text, "a=simulcast:send l;m;h\r\n") != NULL);
  CHECK(strstr(text, "a=extmap:10 " SB_EXT_RID "\r\n") != NULL);
  CHECK_EQ(sb_sdp_parse(text, (size_t)len, parsed, err, sizeof err), 0);
  const sb_sdp_media_t *v = &parsed->media[1];
  CHECK_EQ(v->kind, SB_MEDIA_VIDEO);
  CHECK(v->simulcast);
  CHECK_EQ(v->nrids, 3);
  CHECK_STR(v->rids[0].id, "l");
  CHECK_STR(v->rids[1].id, "m");
  CHECK_STR(v->rids[2].id, "h");
  for (int i = 0; i < 3; i++)
    CHECK_EQ(v->rids[i].dir, SB_DIR_SENDONLY);
  CHECK_EQ(sb_sdp_find_ext(v, SB_EXT_MID), SB_BENCH_EXT_ID_MID);
  CHECK_EQ(sb_sdp_find_ext(v, SB_EXT_RID), SB_BENCH_EXT_ID_RID);
  CHECK_EQ(sb_sdp_find_ext(v, SB_EXT_SEND_TIME), SB_BENCH_EXT_ID_SEND_TIME);
  /* SSRCs come with the rid extension, as with browsers; the track is still named */
  CHECK_EQ(v->nssrcs, 0);
  CHECK_STR(v->msid, "u0001 u0001-video");
  /* audio is not layered */
  CHECK_EQ(parsed->media[0].nrids, 0);
  CHECK(!parsed->media[0].simulcast);
  CHECK_EQ(sb_sdp_find_ext(&parsed->media[0], SB_EXT_RID), 0);
  CHECK_EQ(parsed->media[0].nssrcs, 1);
}

/* The server's answer to the layered offer: the rids echoed as recv unless `mangle` says
 * otherwise (1: no a=simulcast, 2: no rid extension, 3: rids in another order, 4: two rids). */
static int simulcast_answer(char *out, size_t cap, int mangle) {
  sb_bench_local_t l;
  local_simulcast(&l);
  if (offer_to_answer(&l, out, cap) < 0)
    return -1;
  for (int i = 0; i < parsed->nmedia; i++)
    for (int k = 0; k < parsed->media[i].nrids; k++)
      parsed->media[i].rids[k].dir = SB_DIR_RECVONLY;
  sb_sdp_media_t *v = &parsed->media[1];
  if (mangle == 1)
    v->simulcast = 0, v->nrids = 0;
  if (mangle == 2)
    v->nexts = 2; /* mid and send-time only */
  if (mangle == 3) {
    sb_sdp_rid_t t = v->rids[0];
    v->rids[0] = v->rids[2];
    v->rids[2] = t;
  }
  if (mangle == 4)
    v->nrids = 2;
  return sb_sdp_write(parsed, out, cap);
}

SB_TEST(answer_must_accept_the_simulcast_layers) {
  sb_bench_local_t l;
  sb_bench_answer_t a;
  char err[200];
  int len;
  setup();
  local_simulcast(&l);
  len = simulcast_answer(text, sizeof text, 0);
  CHECK(strstr(text, "a=simulcast:recv l;m;h\r\n") != NULL);
  CHECK_EQ(sb_bench_answer_read(text, (size_t)len, scratch, &a, err, sizeof err), 0);
  CHECK_EQ(a.video_simulcast, 1);
  CHECK_EQ(a.video_nrids, 3);
  CHECK_EQ(a.video_rid_ext, SB_BENCH_EXT_ID_RID);
  CHECK_EQ(sb_bench_answer_check_simulcast(&l, &a, err, sizeof err), 0);
  for (int mangle = 1; mangle <= 4; mangle++) {
    len = simulcast_answer(text, sizeof text, mangle);
    CHECK_EQ(sb_bench_answer_read(text, (size_t)len, scratch, &a, err, sizeof err), 0);
    err[0] = '\0';
    CHECK_EQ(sb_bench_answer_check_simulcast(&l, &a, err, sizeof err), -1);
    CHECK(err[0] != '\0');
  }
  CHECK(strstr(err, "a=simulcast:recv") != NULL);
  /* a plain answer is all a publisher without layers needs */
  local(&l);
  CHECK_EQ(sb_bench_answer_check_simulcast(&l, &a, err, sizeof err), 0);
}

SB_TEST(answer_to_server_offer_keeps_our_layers) {
  sb_bench_local_t l;
  sb_bench_answer_t a;
  sb_bench_offered_t st[8];
  char err[200];
  int len, n = 0;
  setup();
  local_simulcast(&l);
  len = simulcast_answer(text, sizeof text, 0);
  CHECK_EQ(sb_bench_answer_read(text, (size_t)len, scratch, &a, err, sizeof err), 0);
  /* the server re-offers our own m-lines as it answered them (rids recv) */
  len = sb_bench_answer_write(&l, &a, text, (size_t)len, scratch, text2, sizeof text2, st, 8, &n, err,
                              sizeof err);
  CHECK(len > 0);
  CHECK_EQ(n, 0);
  CHECK(strstr(text2, "a=simulcast:send l;m;h\r\n") != NULL);
  CHECK_EQ(sb_sdp_parse(text2, (size_t)len, parsed, err, sizeof err), 0);
  CHECK_EQ(parsed->media[1].dir, SB_DIR_SENDONLY);
  CHECK_EQ(parsed->media[1].nrids, 3);
  CHECK_EQ(parsed->media[1].rids[0].dir, SB_DIR_SENDONLY);
  CHECK_EQ(parsed->media[1].nssrcs, 0);
  CHECK_EQ(sb_sdp_find_ext(&parsed->media[1], SB_EXT_RID), SB_BENCH_EXT_ID_RID);
  CHECK_EQ(parsed->media[0].nssrcs, 1);
}

/* ---- transport-wide congestion control (on by default, --no-twcc) --------------------------- */

static int has_fb(const sb_sdp_codec_t *c, const char *fb) {
  int n = 0;
  for (int i = 0; c && i < c->nfb; i++)
    n += strcmp(c->fb[i], fb) == 0;
  return n;
}

SB_TEST(offer_with_twcc_has_the_extension_and_rtcp_fb_for_opus_and_vp8) {
  sb_bench_local_t l;
  char err[200];
  int len;
  setup();
  for (int ro = 0; ro < 2; ro++) { /* publishers, and receive-only participants alike */
    local(&l);
    l.twcc = 1;
    l.receive_only = ro;
    len = sb_bench_offer_write(&l, scratch, text, sizeof text);
    CHECK(len > 0);
    CHECK(strstr(text, "a=extmap:3 " SB_EXT_TWCC "\r\n") != NULL);
    CHECK(strstr(text, "a=rtcp-fb:111 transport-cc\r\n") != NULL);
    CHECK(strstr(text, "a=rtcp-fb:96 transport-cc\r\n") != NULL);
    CHECK_EQ(sb_sdp_parse(text, (size_t)len, parsed, err, sizeof err), 0);
    CHECK_EQ(parsed->nmedia, 2);
    for (int i = 0; i < 2; i++)
      CHECK_EQ(sb_sdp_find_ext(&parsed->media[i], SB_EXT_TWCC), SB_BENCH_EXT_ID_TWCC);
    CHECK_EQ(has_fb(sb_sdp_find_codec(&parsed->media[0], "opus", 48000), "transport-cc"), 1);
    CHECK_EQ(has_fb(sb_sdp_find_codec(&parsed->media[1], "VP8", 90000), "transport-cc"), 1);
    /* the other feedback stays */
    CHECK_EQ(has_fb(sb_sdp_find_codec(&parsed->media[1], "VP8", 90000), "nack pli"), 1);
  }
}

SB_TEST(offer_without_twcc_has_neither) {
  sb_bench_local_t l;
  char err[200];
  int len;
  setup();
  local(&l);
  l.twcc = 0;
  len = sb_bench_offer_write(&l, scratch, text, sizeof text);
  CHECK(len > 0);
  CHECK(strstr(text, SB_EXT_TWCC) == NULL);
  CHECK(strstr(text, "transport-cc") == NULL);
  CHECK_EQ(sb_sdp_parse(text, (size_t)len, parsed, err, sizeof err), 0);
  CHECK_EQ(sb_sdp_find_ext(&parsed->media[0], SB_EXT_TWCC), 0);
  CHECK_EQ(has_fb(sb_sdp_find_codec(&parsed->media[1], "VP8", 90000), "nack"), 1);
}

SB_TEST(answer_gives_the_twcc_id_and_server_offers_keep_it) {
  sb_bench_local_t l;
  sb_bench_answer_t a;
  sb_bench_offered_t st[4];
  char err[200];
  int len, n = 0;
  setup();
  local(&l);
  l.twcc = 1;
  len = offer_to_answer(&l, text, sizeof text);
  CHECK_EQ(len, 0);
  for (int i = 0; i < parsed->nmedia; i++)
    strcpy(parsed->media[i].cands[0].ip, "127.0.0.1");
  len = sb_sdp_write(parsed, text, sizeof text);
  CHECK(len > 0);
  CHECK_EQ(sb_bench_answer_read(text, (size_t)len, scratch, &a, err, sizeof err), 0);
  CHECK_EQ(a.twcc_ext, SB_BENCH_EXT_ID_TWCC);
  /* a server offer with that extension: our answer keeps it, as browsers do */
  len = sb_bench_answer_write(&l, &a, text, (size_t)len, scratch, text2, sizeof text2, st, 4, &n, err,
                              sizeof err);
  CHECK(len > 0);
  CHECK_EQ(sb_sdp_parse(text2, (size_t)len, parsed, err, sizeof err), 0);
  CHECK_EQ(sb_sdp_find_ext(&parsed->media[1], SB_EXT_TWCC), SB_BENCH_EXT_ID_TWCC);
  /* a server that did not accept it: no id, so no feedback */
  l.twcc = 0;
  CHECK_EQ(offer_to_answer(&l, text, sizeof text), 0);
  for (int i = 0; i < parsed->nmedia; i++)
    strcpy(parsed->media[i].cands[0].ip, "127.0.0.1");
  len = sb_sdp_write(parsed, text, sizeof text);
  CHECK_EQ(sb_bench_answer_read(text, (size_t)len, scratch, &a, err, sizeof err), 0);
  CHECK_EQ(a.twcc_ext, 0);
}

/* ---- toward a full ICE agent (--target janus) ------------------------------------------------ */

SB_TEST(full_ice_peer_offer_is_active_and_answers_carry_our_candidate) {
  sb_bench_local_t l;
  sb_bench_answer_t none;
  sb_bench_offered_t st[8];
  char err[200];
  int len, n = 0;
  setup();
  local(&l);
  l.full_ice_peer = 1;
  /* the bench is always the DTLS client: its offer says active, not actpass */
  len = sb_bench_offer_write(&l, scratch, text, sizeof text);
  CHECK(len > 0);
  CHECK_EQ(sb_sdp_parse(text, (size_t)len, parsed, err, sizeof err), 0);
  CHECK_EQ(parsed->setup, SB_SETUP_ACTIVE);
  /* a subscriber's answer to the server's offer: active, with our host candidate on each m-line */
  l.receive_only = 1;
  memset(&none, 0, sizeof none);
  len = server_offer(text, sizeof text);
  CHECK(len > 0);
  len = sb_bench_answer_write(&l, &none, text, (size_t)len, scratch, text2, sizeof text2, st, 8, &n, err,
                              sizeof err);
  CHECK(len > 0);
  CHECK_EQ(n, 5); /* with no m-line of our own, every m-line is a remote stream */
  CHECK_EQ(sb_sdp_parse(text2, (size_t)len, parsed, err, sizeof err), 0);
  CHECK_EQ(parsed->setup, SB_SETUP_ACTIVE);
  for (int i = 0; i < parsed->nmedia; i++) {
    if (!parsed->media[i].port)
      continue;
    CHECK_EQ(parsed->media[i].ncands, 1);
    CHECK_STR(parsed->media[i].cands[0].ip, "127.0.0.1");
    CHECK_EQ(parsed->media[i].cands[0].port, 50000);
  }
  /* toward the relay (ICE-lite) answers stay without candidates */
  l.full_ice_peer = 0;
  len = server_offer(text, sizeof text);
  len = sb_bench_answer_write(&l, &none, text, (size_t)len, scratch, text2, sizeof text2, st, 8, &n, err,
                              sizeof err);
  CHECK(len > 0);
  CHECK(strstr(text2, "a=candidate") == NULL);
}

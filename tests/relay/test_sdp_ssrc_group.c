/* SSRC groups (RFC 5576) in the SDP parser: legacy SSRC simulcast as Chromium sends it when the
 * page munges its offer (a=ssrc-group:SIM plus one FID group per layer), and each malformed
 * group the parser refuses (see the rules in relay/sdp.h). */
#include "relay/sdp.h"
#include "sbtest.h"
#include "sdp_samples.h"

/* A description is ~0.5 MB: keep them out of the stack. */
static sb_sdp_t A;
static char text[64 * 1024], out[64 * 1024];
static char err[256];

#define SESSION                                                                                    \
  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"                                            \
  "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\na=fingerprint:sha-256 AA:BB:CC\r\n"
#define VIDEO(mid) "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:" mid "\r\n"
/* Six SSRCs with a=ssrc lines: layers 10, 20, 30 and their RTX 11, 21, 31. */
#define SSRC_LINES                                                                                 \
  "a=ssrc:10 cname:c\r\na=ssrc:11 cname:c\r\na=ssrc:20 cname:c\r\na=ssrc:21 cname:c\r\n"           \
  "a=ssrc:30 cname:c\r\na=ssrc:31 cname:c\r\n"

static int parse(const char *media) {
  snprintf(text, sizeof text, "%s%s", SESSION, media);
  int rc = sb_sdp_parse(text, strlen(text), &A, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "  parse error: %s\n", err);
  return rc;
}

/* Expects a parse error whose message contains `what`. */
static int fails_with(const char *media, const char *what) {
  snprintf(text, sizeof text, "%s%s", SESSION, media);
  err[0] = '\0';
  if (sb_sdp_parse(text, strlen(text), &A, err, sizeof err) != -1) {
    fprintf(stderr, "  accepted, expected error \"%s\"\n", what);
    return 0;
  }
  if (!strstr(err, what)) {
    fprintf(stderr, "  error \"%s\", expected \"%s\"\n", err, what);
    return 0;
  }
  return 1;
}

SB_TEST(chrome_munged_offer_has_three_layers_and_three_fid_pairs) {
  int n = sdp_chrome_sim_offer(text, sizeof text);
  CHECK(n > 0);
  CHECK_EQ(sb_sdp_parse(text, (size_t)n, &A, err, sizeof err), 0);
  CHECK_EQ(A.nmedia, 3);
  const sb_sdp_media_t *m = &A.media[1];
  CHECK_STR(m->mid, "1");
  CHECK_EQ(m->dir, SB_DIR_SENDONLY);
  CHECK_EQ(m->nsim, 3);
  CHECK_EQ(m->sim[0], 1111111111u); /* group order: Chromium's own SSRC, the lowest, first */
  CHECK_EQ(m->sim[1], 1222222222u);
  CHECK_EQ(m->sim[2], 1333333333u);
  CHECK_EQ(m->nfids, 3);
  CHECK_EQ(m->fids[0][0], 1111111111u);
  CHECK_EQ(m->fids[0][1], 2111111111u);
  CHECK_EQ(m->fids[1][0], 1222222222u);
  CHECK_EQ(m->fids[1][1], 2222222222u);
  CHECK_EQ(m->fids[2][0], 1333333333u);
  CHECK_EQ(m->fids[2][1], 2333333333u);
  CHECK_EQ(m->fid[0], 1111111111u); /* fid stays the first pair */
  CHECK_EQ(m->fid[1], 2111111111u);
  CHECK_EQ(m->nssrcs, 6);
  CHECK_EQ(m->ssrcs[5].ssrc, 2333333333u);
  CHECK_STR(m->ssrcs[5].msid, "5c1d9a2e-4f6b-4c1e-9b8a-2f0d6e7c3a11 7a6c2d1e-0b9f-4e3a-a5d8-6c4b2f1e9d07");
  CHECK_EQ(m->nrids, 0);
  CHECK_EQ(m->simulcast, 0);
  /* The screen share after it keeps its one FID pair and no SIM group. */
  CHECK_EQ(A.media[2].nsim, 0);
  CHECK_EQ(A.media[2].nfids, 1);
  CHECK_EQ(A.media[2].fids[0][1], 1732050807u);
}

SB_TEST(groups_before_or_after_the_ssrc_lines) {
  /* Chromium writes the groups before the a=ssrc lines, Firefox after: both parse alike. */
  CHECK(parse(VIDEO("0") "a=ssrc-group:SIM 10 20 30\r\na=ssrc-group:FID 10 11\r\n"
                         "a=ssrc-group:FID 20 21\r\na=ssrc-group:FID 30 31\r\n" SSRC_LINES) == 0);
  CHECK_EQ(A.media[0].nsim, 3);
  CHECK_EQ(A.media[0].nfids, 3);
  CHECK(parse(VIDEO("0") SSRC_LINES "a=ssrc-group:FID 30 31\r\na=ssrc-group:FID 20 21\r\n"
                                    "a=ssrc-group:FID 10 11\r\na=ssrc-group:SIM 10 20 30\r\n") == 0);
  const sb_sdp_media_t *m = &A.media[0];
  CHECK_EQ(m->nsim, 3);
  CHECK_EQ(m->sim[0], 10);
  CHECK_EQ(m->nfids, 3);
  CHECK_EQ(m->fids[0][0], 30); /* FID pairs in the order written; fid is the first of them */
  CHECK_EQ(m->fid[0], 30);
  CHECK_EQ(m->fid[1], 31);
  CHECK_EQ(m->fids[2][1], 11);
}

SB_TEST(one_or_two_sim_ssrcs_parse) {
  CHECK(parse(VIDEO("0") "a=ssrc-group:SIM 10\r\na=ssrc:10 cname:c\r\n") == 0);
  CHECK_EQ(A.media[0].nsim, 1);
  CHECK_EQ(A.media[0].nfids, 0);
  CHECK_EQ(A.media[0].fid[0], 0);
  CHECK(parse(VIDEO("0") "a=ssrc-group:SIM 20 10\r\na=ssrc:10 cname:c\r\na=ssrc:20 cname:c\r\n") == 0);
  CHECK_EQ(A.media[0].nsim, 2);
  CHECK_EQ(A.media[0].sim[0], 20);
  CHECK_EQ(A.media[0].sim[1], 10);
}

SB_TEST(fid_groups_past_the_limit_are_ignored) {
  char media[4096];
  int n = snprintf(media, sizeof media, VIDEO("0"));
  for (int i = 1; i <= 2 * (SB_SDP_MAX_FID + 1); i++) /* the last pair's lines are over the limit too */
    n += snprintf(media + n, sizeof media - (size_t)n, "a=ssrc:%d cname:c\r\n", i);
  for (int i = 0; i <= SB_SDP_MAX_FID; i++)
    n += snprintf(media + n, sizeof media - (size_t)n, "a=ssrc-group:FID %d %d\r\n", 2 * i + 1, 2 * i + 2);
  CHECK(n < (int)sizeof media);
  CHECK(parse(media) == 0);
  CHECK_EQ(A.media[0].nfids, SB_SDP_MAX_FID);
  CHECK_EQ(A.media[0].fids[SB_SDP_MAX_FID - 1][1], 2 * SB_SDP_MAX_FID);
  CHECK_EQ(A.media[0].nssrcs, SB_SDP_MAX_SSRC);
}

SB_TEST(unknown_group_semantics_are_not_checked) {
  /* FEC-FR and other groups are ignored whole: no a=ssrc lines needed, repeats allowed. */
  CHECK(parse(VIDEO("0") "a=ssrc-group:FEC-FR 5 5\r\na=ssrc-group:X 1 2 3 4 5 6\r\n") == 0);
  CHECK_EQ(A.media[0].nsim, 0);
  CHECK_EQ(A.media[0].nfids, 0);
}

SB_TEST(writer_keeps_writing_fid_and_sim_only) {
  /* The writer writes what the server's own descriptions carry (fid, sim), as before fids[]. */
  CHECK(parse(VIDEO("0") "a=rtpmap:96 VP8/90000\r\na=sendonly\r\na=ssrc-group:SIM 10 20 30\r\n"
                         "a=ssrc-group:FID 10 11\r\na=ssrc-group:FID 20 21\r\n"
                         "a=ssrc-group:FID 30 31\r\n" SSRC_LINES) == 0);
  CHECK(sb_sdp_write(&A, out, sizeof out) > 0);
  const char *fid = strstr(out, "a=ssrc-group:FID 10 11\r\na=ssrc-group:SIM 10 20 30\r\n");
  CHECK(fid != NULL);
  CHECK(strstr(fid + 1, "a=ssrc-group:FID") == NULL);
}

SB_TEST(error_sim_group_size) {
  CHECK(fails_with(VIDEO("0") "a=ssrc-group:SIM 10 20 30 40\r\n" SSRC_LINES "a=ssrc:40 cname:c\r\n",
                   "line 10: a=ssrc-group:SIM needs 1..3 SSRCs, not 4"));
  CHECK(fails_with(VIDEO("0") "a=ssrc-group:SIM\r\n", "a=ssrc-group:SIM needs 1..3 SSRCs, not 0"));
  CHECK(fails_with(VIDEO("0") "a=ssrc-group:SIM 1 2 3 4 5 6 7 8 9 10\r\n", "not 10"));
}

SB_TEST(error_second_sim_group) {
  CHECK(fails_with(VIDEO("0") "a=ssrc-group:SIM 10 20\r\na=ssrc-group:SIM 20 30\r\n" SSRC_LINES,
                   "line 11: more than one a=ssrc-group:SIM in a media section"));
  /* One per media section: another section may have its own. */
  CHECK(parse(VIDEO("0") "a=ssrc-group:SIM 10 20\r\n" SSRC_LINES VIDEO("1")
                  "a=ssrc-group:SIM 10 20\r\n" SSRC_LINES) == 0);
  CHECK_EQ(A.media[1].nsim, 2);
}

SB_TEST(error_ssrc_named_twice_in_a_group) {
  CHECK(fails_with(VIDEO("0") "a=ssrc-group:SIM 10 20 10\r\n" SSRC_LINES,
                   "a=ssrc-group:SIM names SSRC 10 twice"));
  CHECK(fails_with(VIDEO("0") "a=ssrc-group:FID 11 11\r\n" SSRC_LINES,
                   "a=ssrc-group:FID names SSRC 11 twice"));
}

SB_TEST(error_group_ssrc_without_ssrc_line) {
  /* Checked when the section ends: at the next m-line ... */
  CHECK(fails_with(VIDEO("0") "a=ssrc-group:SIM 10 20 30\r\na=ssrc:10 cname:c\r\na=ssrc:20 cname:c\r\n"
                   VIDEO("1"),
                   "m-line 0 (mid \"0\"): a=ssrc-group:SIM SSRC 30 has no a=ssrc line"));
  /* ... or at the end of the text; an RTX SSRC of a FID group alike. */
  CHECK(fails_with(VIDEO("0") VIDEO("v1") "a=ssrc-group:SIM 10 20\r\na=ssrc-group:FID 20 22\r\n" SSRC_LINES,
                   "m-line 1 (mid \"v1\"): a=ssrc-group:FID SSRC 22 has no a=ssrc line"));
  CHECK(fails_with(VIDEO("0") "a=ssrc-group:FID 10 11\r\n", "a=ssrc-group:FID SSRC 10 has no a=ssrc line"));
  /* An a=ssrc line in another section does not count. */
  CHECK(fails_with(VIDEO("0") SSRC_LINES VIDEO("1") "a=ssrc-group:SIM 10 20\r\n",
                   "m-line 1 (mid \"1\"): a=ssrc-group:SIM SSRC 10 has no a=ssrc line"));
}

SB_TEST(error_group_ssrc_past_the_ssrc_limit) {
  /* An a=ssrc line past SB_SDP_MAX_SSRC is dropped, so a group naming it is refused. */
  char media[2048];
  int n = snprintf(media, sizeof media, VIDEO("0"));
  for (int i = 1; i <= SB_SDP_MAX_SSRC + 1; i++)
    n += snprintf(media + n, sizeof media - (size_t)n, "a=ssrc:%d cname:c\r\n", i);
  n += snprintf(media + n, sizeof media - (size_t)n, "a=ssrc-group:SIM 1 2 %d\r\n", SB_SDP_MAX_SSRC + 1);
  CHECK(n < (int)sizeof media);
  char want[64];
  snprintf(want, sizeof want, "SIM SSRC %d has no a=ssrc line", SB_SDP_MAX_SSRC + 1);
  CHECK(fails_with(media, want));
}

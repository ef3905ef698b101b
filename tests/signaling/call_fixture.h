/* Test fixture of the call state machine (signaling/call_sm.c): one machine with two relay
 * workers and no relay, sockets or threads behind it; participants join room "r1" with real
 * browser offers (tests/relay/sdp_samples.h) answered by the real negotiate.c, and answer the
 * server's offers with the offer's m-lines turned around. Participant i is session 100 + i,
 * user "u<i>" of tenant "t1". Each step's actions are in F.acts until the next step. */
#ifndef SB_TEST_CALL_FIXTURE_H
#define SB_TEST_CALL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "relay/sdp_samples.h"
#include "signaling/call_sm.h"

#define ROOM "r1"
#define MAXP 32
#define FP "5E:3F:A1:09:7C:44:D2:8B:16:E0:5A:93:C7:2D:F8:61:0B:A4:3E:97:52:CD:18:6F:E3:40:B9:7A:25:D6:81:0C"

typedef enum { CHROME, FIREFOX, AUDIO_ONLY } offer_kind_t;

static struct {
  sb_call_sm_t *sm;
  sb_call_actions_t acts;
  sb_call_err_t err;
  sb_sdp_t sdp;               /* scratch: offers in, answers out, offers parsed back */
  int revision[MAXP];         /* of each participant's last server offer, 0 if none */
  char *offer[MAXP];          /* its text */
} F;

static inline uint64_t sid(int i) { return 100 + (uint64_t)i; }

static inline const char *uname(int i) {
  static char names[MAXP][16];
  unsigned k = (unsigned)i % MAXP;
  snprintf(names[k], sizeof names[k], "u%u", k);
  return names[k];
}

static inline void fixture_cleanup(void) {
  sb_call_sm_destroy(F.sm);
  F.sm = NULL;
  sb_call_actions_free(&F.acts);
  for (int i = 0; i < MAXP; i++) {
    free(F.offer[i]);
    F.offer[i] = NULL;
    F.revision[i] = 0;
  }
}

/* A fresh machine (the previous test's, even a failed one's, is freed first). */
static inline void fixture_start(int max_participants, int max_video_publishers) {
  static int registered;
  if (!registered)
    atexit(fixture_cleanup); /* the last test's state is freed before the leak check */
  registered = 1;
  sb_log_level = SB_LOG_WARN; /* one info line per join and leave otherwise */
  fixture_cleanup();
  sb_call_config_t cfg = {.announce_ip = "192.0.2.1", .ports = {40000, 40001}, .workers = 2,
                          .max_participants = max_participants,
                          .max_video_publishers = max_video_publishers, .first_id = 5000};
  snprintf(cfg.fingerprint, sizeof cfg.fingerprint, "%s", FP);
  F.sm = sb_call_sm_create(&cfg);
  sb_call_actions_init(&F.acts);
}

/* Before each step: the last step's actions go, the error is reset. */
static inline void step_begin(void) {
  sb_call_actions_clear(&F.acts);
  memset(&F.err, 0, sizeof F.err);
}

/* After each step: remember the offers the server sent. */
static inline void step_end(void) {
  for (size_t k = 0; k < F.acts.len; k++) {
    const sb_call_action_t *a = &F.acts.items[k];
    if (a->kind != SB_CALL_EVENT || strcmp(a->name, "call.offer") != 0)
      continue;
    int i = (int)(a->session - 100);
    free(F.offer[i]);
    F.offer[i] = strdup(json_string_value(json_object_get(a->data, "sdp")));
    F.revision[i] = (int)json_integer_value(json_object_get(a->data, "revision"));
  }
}

/* A browser's first offer: Chromium (microphone, rid-simulcast camera, screen share), Firefox
 * (microphone and camera, sendrecv) or Chromium's microphone alone. */
static inline int offer_parse(offer_kind_t kind, sb_sdp_t *out) {
  const char *text = kind == FIREFOX ? SDP_FIREFOX_OFFER : SDP_CHROME_OFFER;
  char why[160];
  if (sb_sdp_parse(text, strlen(text), out, why, sizeof why) != 0)
    return -1;
  if (kind == AUDIO_ONLY) {
    out->nmedia = 1;
    out->nbundle = 1;
  }
  return 0;
}

static inline int join_with(int i, offer_kind_t kind, const char *denied, const sb_call_exclusions_t *x) {
  step_begin();
  if (offer_parse(kind, &F.sdp) != 0)
    return -2;
  sb_call_join_t in = {.session = sid(i), .room = ROOM, .tenant = "t1", .user = uname(i), .name = "",
                       .denied = denied, .denied_why = denied ? "denied by the test" : NULL,
                       .excl = x, .offer = &F.sdp, .now_ms = 1000};
  int rc = sb_call_sm_join(F.sm, &in, &F.acts, &F.err);
  step_end();
  return rc;
}

static inline int join(int i, offer_kind_t kind) { return join_with(i, kind, NULL, NULL); }

/* Answers the server's offer `revision` to participant i the way a browser does: the same
 * m-lines, directions turned around, the DTLS client role. */
static inline int answer_rev(int i, int revision) {
  char why[160];
  step_begin();
  if (!F.offer[i] || sb_sdp_parse(F.offer[i], strlen(F.offer[i]), &F.sdp, why, sizeof why) != 0)
    return -2;
  F.sdp.setup = SB_SETUP_ACTIVE;
  F.sdp.ice_lite = 0;
  for (int m = 0; m < F.sdp.nmedia; m++) {
    sb_sdp_media_t *md = &F.sdp.media[m];
    md->dir = md->dir == SB_DIR_SENDONLY ? SB_DIR_RECVONLY
              : md->dir == SB_DIR_RECVONLY ? SB_DIR_SENDONLY : md->dir;
    md->ncands = 0;
  }
  int rc = sb_call_sm_answer(F.sm, sid(i), revision, &F.sdp, NULL, NULL, &F.acts, &F.err);
  step_end();
  return rc;
}

static inline int answer(int i) { return answer_rev(i, F.revision[i]); }

/* Every participant among 0..n-1 answers its outstanding offer until none is left. */
static inline int answer_all(int n) {
  for (int again = 1; again;) {
    again = 0;
    for (int i = 0; i < n; i++)
      if (sb_call_sm_participant(F.sm, 100 + (uint64_t)i) &&
          sb_call_sm_participant(F.sm, 100 + (uint64_t)i)->offer_pending) {
        if (answer(i) != 0)
          return -1;
        again = 1;
      }
  }
  return 0;
}

static inline int leave(int i) {
  step_begin();
  int rc = sb_call_sm_leave(F.sm, sid(i), &F.acts, &F.err);
  step_end();
  return rc;
}

static inline void refresh(const sb_user_pair_t *pairs, size_t n, int everyone) {
  sb_call_exclusions_t x = {.pairs = pairs, .n = n, .everyone = everyone};
  step_begin();
  sb_call_sm_refresh_media(F.sm, ROOM, &x, &F.acts);
  step_end();
}

static inline void relay_event(sb_event_type_t type, uint64_t transport, const char *reason) {
  sb_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.hdr.type = type;
  ev.transport = transport;
  snprintf(ev.reason, sizeof ev.reason, "%s", reason ? reason : "");
  snprintf(ev.srtp_profile, sizeof ev.srtp_profile, "AEAD_AES_128_GCM");
  step_begin();
  sb_call_sm_relay_event(F.sm, &ev, 1500, &F.acts);
  step_end();
}

/* The periodic step at `now_ms` on the fake clock. */
static inline void tick(uint64_t now_ms) {
  step_begin();
  sb_call_sm_tick(F.sm, now_ms, &F.acts);
  step_end();
}

/* ---- what the last step did ---- */

static inline const sb_participant_t *part(int i) { return sb_call_sm_participant(F.sm, sid(i)); }

static inline uint64_t transport(int i) { return part(i) ? part(i)->transport : 0; }

/* Index of the first action of `kind` to session `session` (0: any) named `name` (NULL: any)
 * at or after `from`; -1 if none. */
static inline int find_action(size_t from, sb_call_action_kind_t kind, uint64_t session, const char *name) {
  for (size_t k = from; k < F.acts.len; k++) {
    const sb_call_action_t *a = &F.acts.items[k];
    if (a->kind == kind && (!session || a->session == session) &&
        (!name || (a->name && strcmp(a->name, name) == 0)))
      return (int)k;
  }
  return -1;
}

static inline int find_event(uint64_t session, const char *name) {
  return find_action(0, SB_CALL_EVENT, session, name);
}

static inline json_t *event_data(uint64_t session, const char *name) {
  int k = find_event(session, name);
  return k < 0 ? NULL : F.acts.items[k].data;
}

static inline int count_events(uint64_t session, const char *name) {
  int n = 0;
  for (int k = 0; (k = find_action((size_t)k, SB_CALL_EVENT, session, name)) >= 0; k++)
    n++;
  return n;
}

/* Relay commands of `type` about `transport` (0: any). */
static inline int count_cmds(sb_cmd_type_t type, uint64_t transport) {
  int n = 0;
  for (size_t k = 0; k < F.acts.len; k++) {
    const sb_call_action_t *a = &F.acts.items[k];
    if (a->kind == SB_CALL_RELAY && a->cmd->hdr.type == (int)type &&
        (!transport || a->cmd->transport == transport))
      n++;
  }
  return n;
}

static inline const sb_cmd_t *find_cmd(sb_cmd_type_t type, uint64_t transport) {
  for (size_t k = 0; k < F.acts.len; k++) {
    const sb_call_action_t *a = &F.acts.items[k];
    if (a->kind == SB_CALL_RELAY && a->cmd->hdr.type == (int)type &&
        (!transport || a->cmd->transport == transport))
      return a->cmd;
  }
  return NULL;
}

/* Consumers added on `sub`'s transport that carry `pub`'s tracks. */
static inline int consumers_added(int sub, int pub) {
  int n = 0;
  for (size_t k = 0; k < F.acts.len; k++) {
    const sb_call_action_t *a = &F.acts.items[k];
    if (a->kind == SB_CALL_RELAY && a->cmd->hdr.type == SB_CMD_CONSUMER_ADD &&
        a->cmd->transport == transport(sub) && a->cmd->u.consumer.producer_transport == transport(pub))
      n++;
  }
  return n;
}

/* Participant i's last server offer, parsed into F.sdp; its m-line count or -1. */
static inline int offer_mlines(int i) {
  char why[160];
  if (!F.offer[i] || sb_sdp_parse(F.offer[i], strlen(F.offer[i]), &F.sdp, why, sizeof why) != 0)
    return -1;
  return F.sdp.nmedia;
}

/* The active (sendonly) m-lines of participant i's last offer that carry user `pub`'s tracks. */
static inline int offer_tracks_of(int i, int pub) {
  int n = 0;
  if (offer_mlines(i) < 0)
    return -1;
  size_t len = strlen(uname(pub));
  for (int m = 0; m < F.sdp.nmedia; m++)
    if (F.sdp.media[m].dir == SB_DIR_SENDONLY && strncmp(F.sdp.media[m].msid, uname(pub), len) == 0 &&
        F.sdp.media[m].msid[len] == ' ')
      n++;
  return n;
}

static inline sb_user_pair_t pair(int a, int b) {
  sb_user_pair_t p;
  memset(&p, 0, sizeof p);
  snprintf(p.a.tenant, sizeof p.a.tenant, "t1");
  snprintf(p.a.user, sizeof p.a.user, "u%u", (unsigned)a % MAXP);
  snprintf(p.b.tenant, sizeof p.b.tenant, "t1");
  snprintf(p.b.user, sizeof p.b.user, "u%u", (unsigned)b % MAXP);
  return p;
}

#endif

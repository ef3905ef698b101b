/* ICE restart in the call state machine (call.restart_ice): new server
 * credentials go to the relay and into the next offer, one restart at a time,
 * nobody else notices. No relay behind it (see call_fixture.h). */
#include "call_fixture.h"
#include "sbtest.h"

static int restart(int i) {
  step_begin();
  int rc = sb_call_sm_restart_ice(F.sm, sid(i), &F.acts, &F.err);
  step_end();
  return rc;
}

/* The a=ice-ufrag / a=ice-pwd of participant i's last server offer. */
static void offer_creds(int i, char *ufrag, char *pwd) {
  CHECK(offer_mlines(i) > 0);
  snprintf(ufrag, 64, "%s", F.sdp.ice_ufrag);
  snprintf(pwd, 128, "%s", F.sdp.ice_pwd);
}

/* Lines of a and b that differ, apart from a=ice-* and o= lines; -1 if the
 * counts differ. */
static int other_lines(char *a, char *b) {
  char *sa, *sb, *la = strtok_r(a, "\r\n", &sa), *lb = strtok_r(b, "\r\n", &sb);
  int n = 0;
  for (; la && lb;
       la = strtok_r(NULL, "\r\n", &sa), lb = strtok_r(NULL, "\r\n", &sb))
    if (strcmp(la, lb) != 0 && strncmp(la, "a=ice-", 6) != 0 &&
        strncmp(la, "o=", 2) != 0)
      n++;
  return la || lb ? -1 : n;
}

SB_TEST(
    a_restart_sends_new_credentials_to_the_relay_then_an_offer_with_only_them_changed) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, CHROME), 0);
  CHECK_EQ(answer_all(2), 0);
  char u1[64], p1[128], u2[64], p2[128];
  offer_creds(0, u1, p1);
  CHECK_STR(u1, part(0)->ufrag);
  int rev = F.revision[0], mlines = offer_mlines(0);
  char *before = strdup(F.offer[0]);
  CHECK_EQ(restart(0), 0);
  /* The relay's command, the reply, then the offer: in that order, and only for
   * u0. */
  const sb_cmd_t *cmd = find_cmd(SB_CMD_TRANSPORT_ICE_RESTART, transport(0));
  CHECK(cmd != NULL);
  CHECK_EQ(count_cmds(SB_CMD_TRANSPORT_ICE_RESTART, 0), 1);
  CHECK(strcmp(cmd->u.ice.ufrag, u1) != 0);
  CHECK(strcmp(cmd->u.ice.pwd, p1) != 0);
  CHECK(strlen(cmd->u.ice.ufrag) >= 4 &&
        strlen(cmd->u.ice.pwd) >= 22); /* RFC 8445 §5.3 */
  int reply = find_action(0, SB_CALL_REPLY, sid(0), NULL);
  CHECK(find_action(0, SB_CALL_RELAY, 0, NULL) < reply);
  CHECK(reply < find_event(sid(0), "call.offer"));
  CHECK_EQ(F.acts.len, 3);
  CHECK_EQ(count_events(sid(1), NULL), 0);
  CHECK_EQ(F.revision[0], rev + 1);
  offer_creds(0, u2, p2);
  CHECK_STR(u2, cmd->u.ice.ufrag);
  CHECK_STR(p2, cmd->u.ice.pwd);
  CHECK_EQ(offer_mlines(0), mlines);
  /* Apart from the credentials and the o= version, the offer is the same text.
   */
  char *after = strdup(F.offer[0]);
  int differ = other_lines(before, after);
  free(before);
  free(after);
  CHECK_EQ(differ, 0);
  /* One at a time: a second restart before the answer is a conflict, without
   * actions. */
  CHECK_EQ(restart(0), -1);
  CHECK_STR(F.err.code, "conflict");
  CHECK_EQ(F.acts.len, 0);
  CHECK_EQ(answer(0), 0);
  CHECK_EQ(part(0)->restart_rev, 0);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_RESUME, 0),
           0); /* nothing to resume: no track changed */
  CHECK_EQ(count_events(sid(0), "call.offer"), 0);
  CHECK_EQ(restart(0), 0); /* the next one is allowed again */
  CHECK_EQ(F.revision[0], rev + 2);
}

SB_TEST(a_restart_while_an_offer_is_outstanding_follows_its_answer) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, CHROME), 0); /* u0 has offer 2 outstanding */
  int rev = F.revision[0];
  char u1[64], p1[128], u2[64], p2[128];
  offer_creds(0, u1, p1);
  CHECK_EQ(restart(0), 0);
  CHECK_EQ(count_cmds(SB_CMD_TRANSPORT_ICE_RESTART, transport(0)),
           1); /* the relay at once */
  CHECK_EQ(find_action(0, SB_CALL_REPLY, sid(0), NULL), 1);
  CHECK_EQ(count_events(sid(0), "call.offer"), 0); /* the offer waits */
  CHECK_EQ(part(0)->restart_rev, -1);
  CHECK_EQ(restart(0), -1); /* still one in flight */
  CHECK_STR(F.err.code, "conflict");
  /* The answer to the outstanding offer does not finish the restart: the next
   * offer does. */
  CHECK_EQ(answer_rev(0, rev), 0);
  CHECK(find_action(0, SB_CALL_REPLY, sid(0), NULL) <
        find_event(sid(0), "call.offer"));
  CHECK_EQ(F.revision[0], rev + 1);
  CHECK_EQ(part(0)->restart_rev, rev + 1);
  offer_creds(0, u2, p2);
  CHECK(strcmp(u1, u2) != 0 && strcmp(p1, p2) != 0);
  CHECK_STR(u2, part(0)->ufrag);
  CHECK_EQ(answer(0), 0);
  CHECK_EQ(part(0)->restart_rev, 0);
}

SB_TEST(a_restart_then_leave_closes_the_transport_and_tells_the_others_once) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, CHROME), 0);
  CHECK_EQ(answer_all(2), 0);
  CHECK_EQ(restart(0), 0);
  uint64_t t0 = transport(0);
  CHECK_EQ(leave(0), 0);
  CHECK_EQ(count_cmds(SB_CMD_TRANSPORT_CLOSE, t0), 1);
  CHECK_EQ(count_events(sid(1), "call.participant_left"), 1);
  CHECK(part(0) == NULL);
  CHECK_EQ(answer(1), 0); /* u1's offer without u0's tracks */
  /* u0's restart offer, never answered, times out no call: the participant is
   * gone. */
  tick(1000);
  tick(1000 + SB_CALL_OFFER_TIMEOUT_MS + 1);
  CHECK_EQ(F.acts.len, 0);
}

SB_TEST(a_restart_outside_a_call_is_not_found) {
  fixture_start(10, 10);
  CHECK_EQ(restart(7), -1);
  CHECK_STR(F.err.code, "not_found");
  CHECK_EQ(F.acts.len, 0);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(restart(7), -1); /* another session, in no call */
  CHECK_STR(F.err.code, "not_found");
  CHECK_EQ(F.acts.len, 0);
}

SB_TEST(a_restart_offer_left_unanswered_ends_the_call_like_any_offer) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(restart(0), 0);
  tick(2000);
  tick(2000 + SB_CALL_OFFER_TIMEOUT_MS);
  CHECK(part(0) == NULL);
  json_t *ended = event_data(sid(0), "call.ended");
  CHECK(ended != NULL);
  CHECK_STR(json_string_value(json_object_get(ended, "reason")),
            "negotiation_failed");
}

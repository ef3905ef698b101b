/* The call state machine (signaling/call_sm.c) without relay, sockets or threads: joins,
 * answers, leaves and renegotiation, checked on the actions each step returns (see
 * call_fixture.h). */
#include "call_fixture.h"
#include "sbtest.h"

SB_TEST(first_join_answers_with_one_admitted_transport_and_nothing_else) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(F.acts.len, 2); /* the transport, then the reply: nothing forwarded, nobody told */
  const sb_call_action_t *a = &F.acts.items[0];
  CHECK_EQ(a->kind, SB_CALL_RELAY);
  CHECK_EQ(a->cmd->hdr.type, SB_CMD_TRANSPORT_CREATE);
  CHECK_EQ(a->cmd->transport, transport(0));
  CHECK_EQ(a->cmd->u.create.admitted, 1);
  CHECK_STR(a->cmd->u.create.room, ROOM);
  CHECK_STR(a->cmd->u.create.log_ctx, "t1/r1/u0");
  CHECK_EQ(a->cmd->u.create.nproducers, 5); /* microphone, three camera layers, screen */
  CHECK_EQ(a->worker, part(0)->worker);
  a = &F.acts.items[1];
  CHECK_EQ(a->kind, SB_CALL_REPLY);
  CHECK_EQ(a->session, sid(0));
  CHECK_EQ(json_integer_value(json_object_get(a->data, "call")), transport(0));
  CHECK_EQ(json_integer_value(json_object_get(a->data, "revision")), 1);
  CHECK_EQ(json_array_size(json_object_get(a->data, "participants")), 0);
  /* The answer: ICE-lite on the room's worker port, the relay's fingerprint, all m-lines
   * received. */
  const char *text = json_string_value(json_object_get(a->data, "sdp"));
  char why[160];
  CHECK(text && sb_sdp_parse(text, strlen(text), &F.sdp, why, sizeof why) == 0);
  CHECK_EQ(F.sdp.ice_lite, 1);
  CHECK_STR(F.sdp.fingerprint, FP);
  CHECK_EQ(F.sdp.nmedia, 3);
  for (int m = 0; m < 3; m++) {
    CHECK_EQ(F.sdp.media[m].port, 40000 + part(0)->worker);
    CHECK_EQ(F.sdp.media[m].dir, SB_DIR_RECVONLY);
  }
  CHECK(sb_call_sm_rooms(F.sm) != NULL);
  CHECK_STR(sb_call_sm_rooms(F.sm)->id, ROOM);
}

SB_TEST(second_join_subscribes_both_ways_and_resumes_after_each_answer) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, FIREFOX), 0);
  CHECK_EQ(F.acts.items[0].kind, SB_CALL_RELAY);
  CHECK_EQ(F.acts.items[0].cmd->hdr.type, SB_CMD_TRANSPORT_CREATE);
  CHECK_EQ(F.acts.items[0].cmd->transport, transport(1));
  CHECK_EQ(F.acts.items[0].worker, part(0)->worker); /* a room lives on one worker */
  int reply = find_action(0, SB_CALL_REPLY, sid(1), NULL);
  CHECK_EQ(reply, 1);
  json_t *others = json_object_get(F.acts.items[reply].data, "participants");
  CHECK_EQ(json_array_size(others), 1);
  CHECK_STR(json_string_value(json_object_get(json_array_get(others, 0), "user")), "u0");
  /* After the reply: u0 is told, and each subscribes to the other's tracks, paused. */
  CHECK(find_event(sid(0), "call.participant_joined") > reply);
  CHECK_EQ(consumers_added(0, 1), 2); /* Firefox: microphone and camera */
  CHECK_EQ(consumers_added(1, 0), 3); /* Chromium: microphone, camera, screen */
  for (size_t k = 0; k < F.acts.len; k++)
    if (F.acts.items[k].kind == SB_CALL_RELAY && F.acts.items[k].cmd->hdr.type == SB_CMD_CONSUMER_ADD) {
      CHECK_EQ(F.acts.items[k].cmd->u.consumer.paused, 1);
      CHECK(find_action(0, SB_CALL_RELAY, 0, NULL) < (int)k);
    }
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_RESUME, 0), 0);
  int layers[3] = {-1, -1, -1};
  for (size_t k = 0; k < F.acts.len; k++) {
    const sb_cmd_t *c = F.acts.items[k].cmd;
    if (!c || c->hdr.type != SB_CMD_CONSUMER_ADD || c->transport != transport(1))
      continue;
    uint32_t id = c->u.consumer.producer_id;
    layers[id == 0 ? 0 : id == 1 ? 1 : 2] = c->u.consumer.nlayers;
  }
  CHECK_EQ(layers[0], 0); /* the microphone */
  CHECK_EQ(layers[1], 3); /* the rid-simulcast camera: producers 1-3 */
  CHECK_EQ(layers[2], 0); /* the screen share, producer 4 */
  CHECK(find_event(sid(1), "call.offer") > reply); /* the joiner's offer follows its answer */
  CHECK_EQ(F.revision[0], 2);
  CHECK_EQ(F.revision[1], 2);
  /* Each offer: the participant's own m-lines, then one sendonly m-line per track of the other. */
  CHECK_EQ(offer_mlines(0), 3 + 2);
  CHECK_EQ(offer_tracks_of(0, 1), 2);
  CHECK_EQ(offer_mlines(1), 2 + 3);
  CHECK_EQ(F.sdp.media[2].kind, SB_MEDIA_AUDIO);
  CHECK_STR(F.sdp.media[2].msid, "u0 u0-audio");
  CHECK_EQ(F.sdp.media[3].kind, SB_MEDIA_VIDEO);
  CHECK_EQ(F.sdp.media[4].kind, SB_MEDIA_VIDEO);
  CHECK_EQ(F.sdp.media[3].codecs[0].pt, 120); /* the subscriber's own VP8 payload type */
  /* u0's answer resumes u0's consumers only, each exactly once. */
  CHECK_EQ(answer(0), 0);
  CHECK(find_action(0, SB_CALL_REPLY, sid(0), NULL) >= 0);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_RESUME, 0), 2);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_RESUME, transport(0)), 2);
  for (int i = 0; i < part(0)->nslots; i++)
    CHECK_EQ(part(0)->slots[i].resumed, 1);
  CHECK_EQ(answer(1), 0);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_RESUME, transport(1)), 3);
  CHECK_EQ(count_events(0, "call.offer"), 0);
}

SB_TEST(answers_to_another_revision_or_with_other_mlines_are_refused) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, CHROME), 0);
  CHECK_EQ(answer_rev(0, 1), -1);
  CHECK_STR(F.err.code, "conflict");
  CHECK_EQ(F.acts.len, 0);
  CHECK_EQ(answer_rev(0, 3), -1);
  CHECK_STR(F.err.code, "conflict");
  CHECK_EQ(answer(0), 0);
  CHECK_EQ(answer_rev(0, 2), -1); /* answered already */
  CHECK_STR(F.err.code, "conflict");
  CHECK_STR(F.err.message, "no outstanding offer with revision 2");
  /* An answer without the last m-line of the offer: refused, the offer stays outstanding. */
  CHECK_EQ(join(2, CHROME), 0);
  CHECK_EQ(F.revision[0], 3);
  CHECK_EQ(offer_mlines(0), 9);
  F.sdp.nmedia--;
  step_begin();
  CHECK_EQ(sb_call_sm_answer(F.sm, sid(0), 3, &F.sdp, NULL, NULL, &F.acts, &F.err), -1);
  CHECK_STR(F.err.code, "bad_sdp");
  CHECK_EQ(F.acts.len, 0);
  /* A client SDP that did not parse: the shell's error passes through. */
  CHECK_EQ(sb_call_sm_answer(F.sm, sid(0), 3, NULL, "bad_sdp", "line 4: bad m=", &F.acts, &F.err), -1);
  CHECK_STR(F.err.code, "bad_sdp");
  CHECK_STR(F.err.message, "line 4: bad m=");
  CHECK_EQ(sb_call_sm_answer(F.sm, sid(7), 3, NULL, NULL, NULL, &F.acts, &F.err), -1);
  CHECK_STR(F.err.code, "not_found");
  CHECK_EQ(answer(0), 0);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_RESUME, transport(0)), 3);
}

SB_TEST(leave_renegotiates_the_others_and_frees_slots_for_later_tracks) {
  fixture_start(10, 10);
  for (int i = 0; i < 3; i++)
    CHECK_EQ(join(i, CHROME), 0);
  CHECK_EQ(answer_all(3), 0);
  uint64_t t1 = transport(1);
  char mids[3][32];
  sb_kind_t kinds[3];
  int n = 0;
  for (int i = 0; i < part(0)->nslots; i++)
    if (part(0)->slots[i].pub_transport == t1) {
      snprintf(mids[n], sizeof mids[n], "%s", part(0)->slots[i].mid);
      kinds[n++] = part(0)->slots[i].kind;
    }
  CHECK_EQ(n, 3);
  CHECK_EQ(leave(1), 0);
  const sb_cmd_t *close = find_cmd(SB_CMD_TRANSPORT_CLOSE, t1);
  CHECK(close != NULL);
  CHECK_STR(close->u.close.reason, "left");
  for (int i = 0; i <= 2; i += 2) {
    json_t *left = event_data(sid(i), "call.participant_left");
    CHECK(left != NULL);
    CHECK_STR(json_string_value(json_object_get(left, "user")), "u1");
    CHECK_STR(json_string_value(json_object_get(left, "reason")), "left");
    CHECK_EQ(count_cmds(SB_CMD_CONSUMER_REMOVE, transport(i)), 3);
    /* The offer keeps the m-lines, inactive. */
    CHECK_EQ(offer_mlines(i), 9);
    CHECK_EQ(offer_tracks_of(i, 1), 0);
    int inactive = 0;
    for (int m = 0; m < F.sdp.nmedia; m++)
      inactive += F.sdp.media[m].dir == SB_DIR_INACTIVE;
    CHECK_EQ(inactive, 3);
  }
  CHECK(find_action(0, SB_CALL_DETACHED, sid(1), NULL) >= 0);
  CHECK_EQ(F.acts.items[F.acts.len - 1].kind, SB_CALL_REPLY);
  CHECK_EQ(F.acts.items[F.acts.len - 1].session, sid(1));
  CHECK(part(1) == NULL);
  CHECK_EQ(leave(1), -1);
  CHECK_STR(F.err.code, "not_found");
  /* Once the inactive m-lines are answered, a later joiner's tracks take them by kind. */
  CHECK_EQ(answer_all(3), 0);
  CHECK_EQ(join(3, CHROME), 0);
  CHECK_EQ(consumers_added(0, 3), 3);
  CHECK_EQ(offer_mlines(0), 9);
  CHECK_EQ(offer_tracks_of(0, 3), 3);
  for (int k = 0; k < 3; k++) {
    const sb_slot_t *s = NULL;
    for (int i = 0; i < part(0)->nslots; i++)
      if (strcmp(part(0)->slots[i].mid, mids[k]) == 0)
        s = &part(0)->slots[i];
    CHECK(s != NULL);
    CHECK_EQ(s->state, SB_SLOT_ACTIVE);
    CHECK_EQ(s->pub_transport, transport(3));
    CHECK_EQ(s->kind, kinds[k]);
  }
}

SB_TEST(slots_removed_but_not_yet_answered_are_not_reused) {
  fixture_start(10, 10);
  for (int i = 0; i < 2; i++)
    CHECK_EQ(join(i, CHROME), 0);
  CHECK_EQ(answer_all(2), 0);
  CHECK_EQ(leave(1), 0);
  CHECK_EQ(join(2, CHROME), 0); /* u0 has not answered the offer with u1's m-lines inactive */
  CHECK_EQ(answer_all(3), 0);
  CHECK_EQ(offer_mlines(0), 3 + 3 + 3);
  CHECK_EQ(offer_tracks_of(0, 2), 3);
}

SB_TEST(an_offer_while_one_is_pending_follows_the_answer) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, CHROME), 0);
  CHECK_EQ(F.revision[0], 2);
  CHECK_EQ(join(2, CHROME), 0);
  CHECK_EQ(count_events(sid(0), "call.offer"), 0); /* revision 2 is still outstanding */
  CHECK_EQ(consumers_added(0, 2), 3);
  CHECK_EQ(part(0)->dirty, 1);
  CHECK_EQ(answer(0), 0);
  /* Only the tracks revision 2 carried are resumed; revision 3 follows the reply. */
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_RESUME, transport(0)), 3);
  for (size_t k = 0; k < F.acts.len; k++)
    if (F.acts.items[k].kind == SB_CALL_RELAY && F.acts.items[k].cmd->hdr.type == SB_CMD_CONSUMER_RESUME)
      for (int i = 0; i < part(0)->nslots; i++)
        if (part(0)->slots[i].consumer == F.acts.items[k].cmd->u.consumer.consumer)
          CHECK_EQ(part(0)->slots[i].pub_transport, transport(1));
  CHECK(find_action(0, SB_CALL_REPLY, sid(0), NULL) < find_event(sid(0), "call.offer"));
  CHECK_EQ(F.revision[0], 3);
  CHECK_EQ(offer_tracks_of(0, 1), 3);
  CHECK_EQ(offer_tracks_of(0, 2), 3);
  CHECK_EQ(answer(0), 0);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_RESUME, transport(0)), 3);
  CHECK_EQ(count_events(sid(0), "call.offer"), 0);
}

SB_TEST(limits_on_participants_and_video_publishers) {
  fixture_start(2, 1);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, FIREFOX), -1);
  CHECK_STR(F.err.code, "limit_exceeded");
  CHECK(strstr(F.err.message, "1 video publishers") != NULL);
  CHECK_EQ(F.acts.len, 0);
  CHECK(part(1) == NULL);
  CHECK_EQ(join(1, AUDIO_ONLY), 0);
  CHECK_EQ(join(2, AUDIO_ONLY), -1);
  CHECK_STR(F.err.code, "limit_exceeded");
  CHECK_STR(F.err.message, "the call has 2 participants, the limit");
  CHECK_EQ(F.acts.len, 0);
  CHECK_EQ(leave(1), 0);
  CHECK_EQ(join(2, AUDIO_ONLY), 0);
}

SB_TEST(audio_only_participant_gets_no_video_mline) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, AUDIO_ONLY), 0);
  CHECK_EQ(consumers_added(1, 0), 1); /* u0's microphone only */
  CHECK_EQ(consumers_added(0, 1), 1);
  CHECK_EQ(offer_mlines(1), 2);
  for (int m = 0; m < F.sdp.nmedia; m++)
    CHECK_EQ(F.sdp.media[m].kind, SB_MEDIA_AUDIO);
  CHECK_STR(F.sdp.media[1].msid, "u0 u0-audio");
  CHECK_EQ(offer_mlines(0), 3 + 1);
  CHECK_EQ(F.sdp.media[3].kind, SB_MEDIA_AUDIO);
}

SB_TEST(a_second_join_from_the_same_session_or_user_is_a_conflict) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(0, CHROME), -1);
  CHECK_STR(F.err.code, "conflict");
  CHECK_STR(F.err.message, "already in a call on this connection");
  step_begin();
  CHECK_EQ(offer_parse(CHROME, &F.sdp), 0);
  sb_call_join_t in = {.session = sid(5), .room = ROOM, .tenant = "t1", .user = "u0", .offer = &F.sdp};
  CHECK_EQ(sb_call_sm_join(F.sm, &in, &F.acts, &F.err), -1);
  CHECK_STR(F.err.message, "already in this call from another connection");
  CHECK_EQ(F.acts.len, 0);
  /* A bad offer passes through as the shell parsed it. */
  in.user = "u5";
  in.offer = NULL;
  in.sdp_code = "bad_request";
  in.sdp_why = "missing sdp";
  CHECK_EQ(sb_call_sm_join(F.sm, &in, &F.acts, &F.err), -1);
  CHECK_STR(F.err.code, "bad_request");
  CHECK_STR(F.err.message, "missing sdp");
}

SB_TEST(the_last_leave_empties_the_room) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, FIREFOX), 0);
  CHECK_EQ(leave(0), 0);
  CHECK_EQ(find_action(0, SB_CALL_ROOM_EMPTY, 0, NULL), -1);
  step_begin();
  CHECK_EQ(sb_call_sm_disconnect(F.sm, sid(1), "disconnected", &F.acts), 1);
  CHECK_EQ(find_action(0, SB_CALL_REPLY, 0, NULL), -1); /* no request, no reply */
  int k = find_action(0, SB_CALL_ROOM_EMPTY, 0, NULL);
  CHECK(k >= 0);
  CHECK_STR(F.acts.items[k].room, ROOM);
  CHECK_STR(find_cmd(SB_CMD_TRANSPORT_CLOSE, 0)->u.close.reason, "disconnected");
  CHECK(sb_call_sm_rooms(F.sm) == NULL);
  CHECK_EQ(sb_call_sm_disconnect(F.sm, sid(1), "disconnected", &F.acts), 0);
  /* The room's call starts again with the next join. */
  CHECK_EQ(join(2, CHROME), 0);
  CHECK_EQ(json_array_size(json_object_get(F.acts.items[1].data, "participants")), 0);
}

/* A client that never answers a server offer (e.g. cannot reuse an inactive m-line) used to
 * keep it outstanding forever: no later renegotiation reached it. It now times out. */
SB_TEST(an_unanswered_offer_ends_the_call_with_negotiation_failed) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, CHROME), 0);
  CHECK_EQ(answer(1), 0); /* u1 answers, u0 never does */
  CHECK(part(0)->offer_pending);
  uint64_t t0 = 50000;
  tick(t0); /* the clock first sees the offer */
  CHECK_EQ(F.acts.len, 0);
  tick(t0 + SB_CALL_OFFER_TIMEOUT_MS - 1);
  CHECK_EQ(F.acts.len, 0);
  CHECK(part(0) != NULL);
  uint64_t t_u0 = transport(0);
  tick(t0 + SB_CALL_OFFER_TIMEOUT_MS);
  CHECK(part(0) == NULL);
  CHECK(part(1) != NULL);
  json_t *ended = event_data(sid(0), "call.ended");
  CHECK(ended != NULL);
  CHECK_STR(json_string_value(json_object_get(ended, "reason")), "negotiation_failed");
  CHECK(find_cmd(SB_CMD_TRANSPORT_CLOSE, t_u0) != NULL);
  CHECK_EQ(count_events(sid(1), "call.participant_left"), 1);
  CHECK_EQ(count_events(sid(1), "call.offer"), 1); /* u1 loses u0's tracks */
}

SB_TEST(an_offer_answered_in_time_or_a_new_one_does_not_time_out) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, CHROME), 0);
  tick(1000);
  CHECK_EQ(answer(0), 0);
  CHECK_EQ(answer(1), 0);
  tick(1000 + SB_CALL_OFFER_TIMEOUT_MS * 5);
  CHECK_EQ(F.acts.len, 0);
  /* A newcomer: u0 gets a new offer; its clock starts when a tick first sees it. */
  CHECK_EQ(join(2, CHROME), 0);
  CHECK(part(0)->offer_pending);
  uint64_t t1 = 2000 + SB_CALL_OFFER_TIMEOUT_MS * 5;
  tick(t1);
  tick(t1 + SB_CALL_OFFER_TIMEOUT_MS - 1);
  CHECK_EQ(count_events(sid(0), "call.ended"), 0);
  CHECK_EQ(answer_all(3), 0);
  tick(t1 + SB_CALL_OFFER_TIMEOUT_MS * 2);
  CHECK_EQ(F.acts.len, 0);
  CHECK(part(0) && part(1) && part(2));
}

/* A join whose offer has a fingerprint the relay cannot use is refused with bad_sdp, and no
 * transport is created (it used to be created, fail, and end the call with create_failed). */
SB_TEST(a_join_with_an_unusable_fingerprint_is_refused_with_bad_sdp) {
  fixture_start(10, 10);
  step_begin();
  CHECK_EQ(offer_parse(CHROME, &F.sdp), 0);
  snprintf(F.sdp.fingerprint_alg, sizeof F.sdp.fingerprint_alg, "md5");
  sb_call_join_t in = {.session = sid(0), .room = ROOM, .tenant = "t1", .user = uname(0), .name = "",
                       .offer = &F.sdp, .now_ms = 1000};
  CHECK_EQ(sb_call_sm_join(F.sm, &in, &F.acts, &F.err), -1);
  CHECK_STR(F.err.code, "bad_sdp");
  CHECK(strstr(F.err.message, "fingerprint") != NULL);
  CHECK_EQ(F.acts.len, 0);
  CHECK(part(0) == NULL);
  CHECK(sb_call_sm_rooms(F.sm) == NULL);
}

SB_TEST(a_participants_transport_keeps_the_log_request_id_of_its_join) {
  fixture_start(10, 10);
  step_begin();
  CHECK_EQ(offer_parse(CHROME, &F.sdp), 0);
  sb_call_join_t in = {.session = sid(0), .room = ROOM, .tenant = "t1", .user = uname(0), .name = "",
                       .offer = &F.sdp, .request = "S7.42", .now_ms = 1000};
  CHECK_EQ(sb_call_sm_join(F.sm, &in, &F.acts, &F.err), 0);
  step_end();
  CHECK_STR(sb_call_sm_request_of(F.sm, transport(0)), "S7.42");
  CHECK_EQ(join(1, CHROME), 0); /* a join without one */
  CHECK_STR(sb_call_sm_request_of(F.sm, transport(1)), "");
  CHECK_STR(sb_call_sm_request_of(F.sm, 999999), "");
  CHECK_STR(sb_call_sm_request_of(NULL, transport(0)), "");
}

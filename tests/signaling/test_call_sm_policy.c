/* The call state machine (signaling/call_sm.c) where policy and the relay meet a call:
 * admission denials, revocations, media exclusions (blocks) and their refresh, relay events,
 * in-call controls and server-side ends, checked on the actions each step returns (see
 * call_fixture.h). */
#include "call_fixture.h"
#include "sbtest.h"

SB_TEST(denial_passes_through_and_changes_nothing) {
  fixture_start(10, 10);
  CHECK_EQ(join_with(0, CHROME, "forbidden", NULL), -1);
  CHECK_STR(F.err.code, "forbidden");
  CHECK_STR(F.err.message, "denied by the test");
  CHECK_EQ(F.acts.len, 0);
  CHECK(part(0) == NULL);
  CHECK(sb_call_sm_rooms(F.sm) == NULL);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join_with(1, CHROME, "not_found", NULL), -1);
  CHECK_STR(F.err.code, "not_found");
  CHECK_EQ(F.acts.len, 0);
  CHECK_EQ(sb_call_sm_rooms(F.sm)->count, 1);
}

SB_TEST(exclusions_are_a_pure_check_over_the_loaded_pairs) {
  sb_user_pair_t pairs[2] = {pair(0, 1), pair(3, 2)};
  sb_call_exclusions_t x = {.pairs = pairs, .n = 2};
  CHECK_EQ(sb_call_excluded(&x, "t1", "u0", "t1", "u1"), 1);
  CHECK_EQ(sb_call_excluded(&x, "t1", "u1", "t1", "u0"), 1); /* either way round */
  CHECK_EQ(sb_call_excluded(&x, "t1", "u2", "t1", "u3"), 1);
  CHECK_EQ(sb_call_excluded(&x, "t1", "u0", "t1", "u2"), 0);
  CHECK_EQ(sb_call_excluded(&x, "t2", "u0", "t1", "u1"), 0); /* user ids are per tenant */
  CHECK_EQ(sb_call_excluded(NULL, "t1", "u0", "t1", "u1"), 0);
  x.everyone = 1; /* not loaded: fail closed */
  CHECK_EQ(sb_call_excluded(&x, "t1", "u0", "t1", "u2"), 1);
}

SB_TEST(join_exchanges_tracks_only_where_exclusions_allow) {
  fixture_start(10, 10);
  sb_user_pair_t pairs[1] = {pair(2, 0)};
  sb_call_exclusions_t x = {.pairs = pairs, .n = 1};
  CHECK_EQ(join_with(0, CHROME, NULL, &x), 0);
  CHECK_EQ(join_with(1, CHROME, NULL, &x), 0);
  CHECK_EQ(join_with(2, CHROME, NULL, &x), 0);
  CHECK_EQ(consumers_added(2, 1), 3);
  CHECK_EQ(consumers_added(1, 2), 3);
  CHECK_EQ(consumers_added(2, 0), 0);
  CHECK_EQ(consumers_added(0, 2), 0);
  CHECK_EQ(count_events(sid(0), "call.offer"), 0); /* nothing changed for u0 ... */
  CHECK(find_event(sid(0), "call.participant_joined") >= 0); /* ... but it is told */
}

SB_TEST(media_refresh_removes_a_blocked_pair_both_ways_and_restores_it) {
  fixture_start(10, 10);
  for (int i = 0; i < 3; i++)
    CHECK_EQ(join(i, CHROME), 0);
  CHECK_EQ(answer_all(3), 0);
  sb_user_pair_t pairs[1] = {pair(1, 0)};
  refresh(pairs, 1, 0);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_REMOVE, transport(0)), 3);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_REMOVE, transport(1)), 3);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_REMOVE, transport(2)), 0);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_ADD, 0), 0);
  CHECK_EQ(count_events(sid(2), NULL), 0); /* u2 still sees both */
  CHECK_EQ(offer_tracks_of(0, 1), 0);
  CHECK_EQ(offer_tracks_of(0, 2), 3);
  CHECK_EQ(offer_tracks_of(1, 0), 0);
  /* The same list again changes nothing. */
  CHECK_EQ(answer_all(3), 0);
  refresh(pairs, 1, 0);
  CHECK_EQ(F.acts.len, 0);
  /* Unblocked: the consumers come back both ways, paused until answered. */
  refresh(NULL, 0, 0);
  CHECK_EQ(consumers_added(0, 1), 3);
  CHECK_EQ(consumers_added(1, 0), 3);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_ADD, 0), 6);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_RESUME, 0), 0);
  CHECK_EQ(offer_tracks_of(0, 1), 3);
  CHECK_EQ(offer_mlines(0), 9); /* in the answered inactive m-lines */
  CHECK_EQ(answer(0), 0);
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_RESUME, transport(0)), 3);
}

SB_TEST(media_refresh_that_could_not_load_stops_all_media) {
  fixture_start(10, 10);
  for (int i = 0; i < 3; i++)
    CHECK_EQ(join(i, FIREFOX), 0);
  CHECK_EQ(answer_all(3), 0);
  refresh(NULL, 0, 1);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(count_cmds(SB_CMD_CONSUMER_REMOVE, transport(i)), 4);
    CHECK_EQ(count_events(sid(i), "call.offer"), 1);
  }
  CHECK_EQ(sb_call_sm_rooms(F.sm)->count, 3); /* nobody is ended */
}

SB_TEST(revoke_closes_the_transport_and_ends_the_call_with_the_reason) {
  fixture_start(10, 10);
  for (int i = 0; i < 2; i++)
    CHECK_EQ(join(i, CHROME), 0);
  CHECK_EQ(answer_all(2), 0);
  uint64_t t1 = transport(1);
  step_begin();
  CHECK_EQ(sb_call_sm_revoke(F.sm, "t1", "u1", ROOM, "member_removed", &F.acts), 1);
  step_end();
  const sb_cmd_t *close = find_cmd(SB_CMD_TRANSPORT_CLOSE, t1);
  CHECK(close != NULL);
  CHECK_STR(close->u.close.reason, "member_removed");
  CHECK_EQ(find_action(0, SB_CALL_RELAY, 0, NULL), 0); /* the cut comes first */
  json_t *ended = event_data(sid(1), "call.ended");
  CHECK(ended != NULL);
  CHECK_STR(json_string_value(json_object_get(ended, "reason")), "member_removed");
  CHECK_STR(json_string_value(json_object_get(ended, "room")), ROOM);
  CHECK(find_action(0, SB_CALL_DETACHED, sid(1), NULL) >= 0);
  CHECK_STR(json_string_value(json_object_get(event_data(sid(0), "call.participant_left"), "reason")),
            "member_removed");
  CHECK_EQ(count_cmds(SB_CMD_CONSUMER_REMOVE, transport(0)), 3);
  CHECK_EQ(count_events(sid(0), "call.offer"), 1);
  CHECK_EQ(offer_tracks_of(0, 1), 0);
  CHECK(part(1) == NULL);
  step_begin();
  CHECK_EQ(sb_call_sm_revoke(F.sm, "t1", "u1", ROOM, "member_removed", &F.acts), 0);
  CHECK_EQ(sb_call_sm_revoke(F.sm, "t1", "u0", "other-room", "member_removed", &F.acts), 0);
  CHECK_EQ(sb_call_sm_revoke(F.sm, "t2", "u0", ROOM, "member_removed", &F.acts), 0);
  CHECK_EQ(F.acts.len, 0);
}

SB_TEST(relay_events_connected_speaker_and_closed_with_audit) {
  fixture_start(10, 10);
  for (int i = 0; i < 2; i++)
    CHECK_EQ(join(i, CHROME), 0);
  relay_event(SB_EV_TRANSPORT_CONNECTED, transport(0), NULL);
  CHECK_EQ(F.acts.len, 1);
  json_t *connected = event_data(sid(0), "call.connected");
  CHECK_STR(json_string_value(json_object_get(connected, "srtp")), "AEAD_AES_128_GCM");
  CHECK_EQ(part(0)->connected, 1);
  relay_event(SB_EV_ACTIVE_SPEAKER, transport(1), NULL);
  CHECK_EQ(count_events(0, "call.active_speaker"), 2);
  CHECK_STR(json_string_value(json_object_get(event_data(sid(0), "call.active_speaker"), "user")), "u1");
  CHECK_EQ(join(2, FIREFOX), 0); /* a newcomer learns who speaks */
  CHECK_STR(json_string_value(json_object_get(event_data(sid(2), "call.active_speaker"), "user")), "u1");
  /* The worker closed u1's transport on its own: audit, then the call ends for u1. */
  uint64_t t1 = transport(1);
  relay_event(SB_EV_TRANSPORT_CLOSED, t1, "ice_timeout");
  int k = find_action(0, SB_CALL_AUDIT, 0, NULL);
  CHECK_EQ(k, 0);
  CHECK_STR(F.acts.items[k].tenant, "t1");
  CHECK_STR(F.acts.items[k].user, "u1");
  CHECK_STR(F.acts.items[k].room, ROOM);
  CHECK_STR(F.acts.items[k].reason, "ice_timeout");
  CHECK_STR(json_string_value(json_object_get(event_data(sid(1), "call.ended"), "reason")), "ice_timeout");
  CHECK(event_data(sid(0), "call.participant_left") != NULL);
  CHECK(event_data(sid(2), "call.participant_left") != NULL);
  CHECK(part(1) == NULL);
  /* The worker's confirmation of that close, and events about unknown transports: nothing. */
  relay_event(SB_EV_TRANSPORT_CLOSED, t1, "closed");
  CHECK_EQ(F.acts.len, 0);
  relay_event(SB_EV_TRANSPORT_CONNECTED, 424242, NULL);
  CHECK_EQ(F.acts.len, 0);
}

SB_TEST(a_participant_whose_offer_cannot_be_built_is_ended_after_the_step) {
  fixture_start(40, 40);
  /* 3 m-lines each: the 22nd Chromium participant's offer would need 3 + 21 * 3 = 66 > 64. */
  for (int i = 0; i < 21; i++)
    CHECK_EQ(join(i, CHROME), 0);
  CHECK_EQ(join(21, CHROME), 0);
  int reply = find_action(0, SB_CALL_REPLY, sid(21), NULL);
  CHECK(reply >= 0);
  int ended = find_event(sid(21), "call.ended");
  CHECK(ended > reply);
  CHECK_STR(json_string_value(json_object_get(F.acts.items[ended].data, "reason")), "negotiation_failed");
  CHECK(part(21) == NULL);
  CHECK_EQ(sb_call_sm_rooms(F.sm)->count, 21);
  CHECK(event_data(sid(0), "call.participant_left") != NULL);
}

SB_TEST(mute_pauses_every_layer_and_tells_the_others) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  CHECK_EQ(join(1, AUDIO_ONLY), 0);
  step_begin();
  CHECK_EQ(sb_call_sm_mute(F.sm, sid(0), SB_KIND_VIDEO, 1, &F.acts, &F.err), 0);
  CHECK_EQ(count_cmds(SB_CMD_PRODUCER_PAUSE, transport(0)), 4); /* 3 camera layers, screen */
  for (size_t k = 0; k < 4; k++) {
    CHECK_EQ(F.acts.items[k].cmd->u.pause.producer_id, 1 + k);
    CHECK_EQ(F.acts.items[k].cmd->u.pause.paused, 1);
  }
  json_t *ev = event_data(sid(1), "call.track_muted");
  CHECK_STR(json_string_value(json_object_get(ev, "kind")), "video");
  CHECK(json_is_true(json_object_get(ev, "muted")));
  CHECK_EQ(count_events(sid(0), NULL), 0);
  CHECK_EQ(F.acts.items[F.acts.len - 1].kind, SB_CALL_REPLY);
  step_begin();
  CHECK_EQ(sb_call_sm_mute(F.sm, sid(1), SB_KIND_VIDEO, 1, &F.acts, &F.err), -1);
  CHECK_STR(F.err.code, "not_found");
  CHECK_EQ(F.acts.len, 0);
  CHECK_EQ(sb_call_sm_mute(F.sm, sid(9), SB_KIND_AUDIO, 1, &F.acts, &F.err), -1);
  CHECK_STR(F.err.message, "not in a call");
}

SB_TEST(prefer_and_candidate) {
  fixture_start(10, 10);
  CHECK_EQ(join(0, CHROME), 0);
  step_begin();
  CHECK_EQ(sb_call_sm_prefer(F.sm, sid(0), 640, 360, &F.acts, &F.err), 0);
  const sb_cmd_t *c = find_cmd(SB_CMD_TRANSPORT_PREFER, transport(0));
  CHECK(c != NULL);
  CHECK_EQ(c->u.prefer.max_width, 640);
  CHECK_EQ(c->u.prefer.max_height, 360);
  step_begin();
  CHECK_EQ(sb_call_sm_prefer(F.sm, sid(0), 20000, 0, &F.acts, &F.err), -1);
  CHECK_STR(F.err.code, "bad_request");
  CHECK_EQ(sb_call_sm_candidate(F.sm, sid(0), "candidate:1 1 udp 2122260223 192.0.2.10 54400 typ host",
                                &F.acts, &F.err), 0);
  CHECK_EQ(sb_call_sm_candidate(F.sm, sid(0), "", &F.acts, &F.err), 0); /* end of candidates */
  CHECK_EQ(F.acts.len, 2);
  CHECK_EQ(sb_call_sm_candidate(F.sm, sid(0), "typ host", &F.acts, &F.err), -1);
  CHECK_STR(F.err.code, "bad_request");
  CHECK_EQ(sb_call_sm_candidate(F.sm, sid(1), "", &F.acts, &F.err), -1);
  CHECK_STR(F.err.code, "not_found");
}

SB_TEST(end_and_end_all_tell_every_client_why) {
  fixture_start(10, 10);
  for (int i = 0; i < 3; i++)
    CHECK_EQ(join(i, FIREFOX), 0);
  step_begin();
  CHECK_EQ(sb_call_sm_end(F.sm, sid(0), "moved", &F.acts), 1);
  CHECK_STR(json_string_value(json_object_get(event_data(sid(0), "call.ended"), "reason")), "moved");
  CHECK_EQ(sb_call_sm_end(F.sm, sid(0), "moved", &F.acts), 0);
  step_begin();
  sb_call_sm_end_all(F.sm, "server_shutdown", &F.acts);
  for (int i = 1; i < 3; i++) {
    CHECK_STR(json_string_value(json_object_get(event_data(sid(i), "call.ended"), "reason")),
              "server_shutdown");
    CHECK(find_action(0, SB_CALL_DETACHED, sid(i), NULL) >= 0);
  }
  CHECK_EQ(count_cmds(SB_CMD_TRANSPORT_CLOSE, 0), 2);
  CHECK(find_action(0, SB_CALL_ROOM_EMPTY, 0, NULL) >= 0);
  CHECK(sb_call_sm_rooms(F.sm) == NULL);
}

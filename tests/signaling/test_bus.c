/* The cross-node effects bus: what one node publishes another decodes to the same effects;
 * payloads stay under PostgreSQL's limit; a node ignores its own echo; malformed payloads
 * change nothing. (The LISTEN side against a real PostgreSQL is in tests/cluster/.) */
#include "sbtest.h"
#include "signaling/bus.h"

#include <stdlib.h>

typedef struct {
  char *payloads[64];
  int n;
  int fail_at; /* emit fails on this call (1-based), 0 never */
} sink_t;

static int sink_emit(const char *payload, void *arg) {
  sink_t *s = arg;
  if (s->fail_at && s->n + 1 == s->fail_at)
    return -7;
  if (s->n == 64)
    return -1;
  s->payloads[s->n++] = strdup(payload);
  return 0;
}

static void sink_free(sink_t *s) {
  for (int i = 0; i < s->n; i++)
    free(s->payloads[i]);
  s->n = 0;
}

static void sample(sb_effects_t *fx) {
  sb_effects_init(fx);
  sb_effects_event(fx, "acme", "alice", "room.member_added",
                   json_pack("{s:s, s:s}", "room", "r1", "user", "bob"));
  sb_effects_revoke(fx, "globex", "carol", "r1", "connection_revoked");
  sb_effects_media(fx, "r2");
  sb_effects_event(fx, "globex", "dave", "notification",
                   json_pack("{s:I, s:s}", "id", (json_int_t)42, "kind", "connection_usable"));
}

SB_TEST(round_trip_keeps_every_effect_in_order) {
  sb_effects_t fx, got;
  sink_t s = {0};
  sample(&fx);
  sb_effects_init(&got);
  CHECK_EQ(sb_bus_encode("node-a", &fx, 0, sink_emit, &s), 0);
  CHECK_EQ(s.n, 1);
  CHECK_EQ(sb_bus_decode(s.payloads[0], "node-b", &got), 0);
  CHECK_EQ(got.len, 4);
  CHECK_EQ(got.items[0].kind, SB_EFFECT_EVENT);
  CHECK_STR(got.items[0].tenant, "acme");
  CHECK_STR(got.items[0].user, "alice");
  CHECK_STR(got.items[0].name, "room.member_added");
  CHECK_STR(json_string_value(json_object_get(got.items[0].data, "user")), "bob");
  CHECK_EQ(got.items[1].kind, SB_EFFECT_REVOKE);
  CHECK_STR(got.items[1].room, "r1");
  CHECK_STR(got.items[1].reason, "connection_revoked");
  CHECK_EQ(got.items[2].kind, SB_EFFECT_MEDIA);
  CHECK_STR(got.items[2].room, "r2");
  CHECK_EQ(got.items[3].notification_id, 42); /* the receiver can mark it delivered */
  sink_free(&s);
  sb_effects_free(&fx);
  sb_effects_free(&got);
}

SB_TEST(only_effects_after_the_mark_are_published) {
  sb_effects_t fx, got;
  sink_t s = {0};
  sample(&fx);
  sb_effects_init(&got);
  CHECK_EQ(sb_bus_encode("a", &fx, 2, sink_emit, &s), 0);
  CHECK_EQ(sb_bus_decode(s.payloads[0], "b", &got), 0);
  CHECK_EQ(got.len, 2);
  CHECK_EQ(got.items[0].kind, SB_EFFECT_MEDIA);
  sink_free(&s);
  CHECK_EQ(sb_bus_encode("a", &fx, 4, sink_emit, &s), 0);
  CHECK_EQ(s.n, 0); /* nothing new: nothing sent */
  sb_effects_free(&fx);
  sb_effects_free(&got);
}

SB_TEST(own_echo_is_ignored) {
  sb_effects_t fx, got;
  sink_t s = {0};
  sample(&fx);
  sb_effects_init(&got);
  CHECK_EQ(sb_bus_encode("node-a", &fx, 0, sink_emit, &s), 0);
  CHECK_EQ(sb_bus_decode(s.payloads[0], "node-a", &got), 1);
  CHECK_EQ(got.len, 0);
  sink_free(&s);
  sb_effects_free(&fx);
  sb_effects_free(&got);
}

/* A room broadcast to 256 members is split over several payloads, each under the limit, and
 * the receiver gets all of them in order. */
SB_TEST(large_lists_are_split_under_the_payload_limit) {
  sb_effects_t fx, got;
  sink_t s = {0};
  char user[32];
  sb_effects_init(&fx);
  sb_effects_init(&got);
  for (int i = 0; i < 256; i++) {
    snprintf(user, sizeof user, "user%03d", i);
    sb_effects_event(&fx, "acme", user, "room.updated",
                     json_pack("{s:s, s:s, s:i}", "room", "big", "description",
                               "a description of some length to fill the payload", "i", i));
  }
  CHECK_EQ(sb_bus_encode("a", &fx, 0, sink_emit, &s), 0);
  CHECK(s.n > 1);
  for (int i = 0; i < s.n; i++) {
    CHECK(strlen(s.payloads[i]) < SB_BUS_MAX_PAYLOAD);
    CHECK_EQ(sb_bus_decode(s.payloads[i], "b", &got), 0);
  }
  CHECK_EQ(got.len, 256);
  for (int i = 0; i < 256; i++)
    CHECK_EQ(json_integer_value(json_object_get(got.items[i].data, "i")), i);
  sink_free(&s);
  sb_effects_free(&fx);
  sb_effects_free(&got);
}

SB_TEST(a_failing_emit_stops_and_reports) {
  sb_effects_t fx;
  sink_t s = {.fail_at = 1};
  sample(&fx);
  CHECK_EQ(sb_bus_encode("a", &fx, 0, sink_emit, &s), -7);
  CHECK_EQ(s.n, 0);
  sb_effects_free(&fx);
}

SB_TEST(malformed_payloads_append_nothing) {
  static const char *const bad[] = {
      "",
      "not json",
      "[]",
      "{\"fx\": []}",
      "{\"node\": \"x\"}",
      "{\"node\": \"x\", \"fx\": {}}",
      "{\"node\": \"x\", \"fx\": [{\"k\": \"event\", \"t\": \"a\", \"u\": \"b\", \"n\": \"e\"}]}",
      "{\"node\": \"x\", \"fx\": [{\"k\": \"revoke\", \"t\": \"a\", \"u\": \"b\", \"r\": \"r\"}]}",
      "{\"node\": \"x\", \"fx\": [{\"k\": \"media\"}]}",
      "{\"node\": \"x\", \"fx\": [{\"k\": \"reboot\", \"r\": \"r\"}]}",
      /* a valid effect before a bad one: the payload is refused whole */
      "{\"node\": \"x\", \"fx\": [{\"k\": \"media\", \"r\": \"r\"}, {\"k\": 3}]}",
      /* ids longer than any id may be */
      "{\"node\": \"x\", \"fx\": [{\"k\": \"media\", \"r\": "
      "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}]}",
  };
  sb_effects_t got;
  sb_effects_init(&got);
  sb_effects_media(&got, "kept");
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_EQ(sb_bus_decode(bad[i], "self", &got), -1);
    CHECK_EQ(got.len, 1);
  }
  sb_effects_free(&got);
}

SB_TEST(webhook_events_stay_on_their_node_and_configuration_changes_travel) {
  sb_effects_t fx, got;
  sink_t s = {0};
  sb_effects_init(&fx);
  sb_effects_init(&got);
  sb_effects_webhook(&fx, "acme", "connection.ended", NULL, json_pack("{s:s}", "changed_by", "acme"));
  sb_effects_webhooks_changed(&fx, "globex");
  CHECK_EQ(sb_bus_encode("a", &fx, 0, sink_emit, &s), 0);
  CHECK_EQ(s.n, 1);
  CHECK_EQ(sb_bus_decode(s.payloads[0], "b", &got), 0);
  CHECK_EQ(got.len, 1); /* every node would send the webhook again: only its origin does */
  CHECK_EQ(got.items[0].kind, SB_EFFECT_WEBHOOKS);
  CHECK_STR(got.items[0].tenant, "globex");
  sink_free(&s);
  sb_effects_truncate(&fx, 1);
  CHECK_EQ(sb_bus_encode("a", &fx, 0, sink_emit, &s), 0);
  CHECK_EQ(s.n, 0); /* a webhook alone publishes nothing */
  sb_effects_free(&fx);
  sb_effects_free(&got);
}

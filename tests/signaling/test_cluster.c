/* Nodes and room leases on SQLite: heartbeat, draining, dead nodes, least-loaded choice; lease
 * taken, renewed, refused while held, taken over after expiry, released. */
#include "sbtest.h"
#include "signaling/cluster.h"
#include "signaling/store.h"

#include <string.h>

#define T0 1000000LL
#define TTL SB_CLUSTER_LEASE_TTL_MS
#define TIMEOUT SB_CLUSTER_NODE_TIMEOUT_MS

static sb_store_t *open_store(void) {
  sb_store_t *st = NULL;
  return sb_store_open_sqlite(":memory:", &st, NULL, 0) == 0 ? st : NULL;
}

static sb_cluster_node_t node(const char *id, long long load) {
  sb_cluster_node_t n;
  memset(&n, 0, sizeof n);
  snprintf(n.id, sizeof n.id, "%s", id);
  snprintf(n.signal_url, sizeof n.signal_url, "wss://lb.example/ws?node=%s", id);
  snprintf(n.media_ip, sizeof n.media_ip, "127.0.0.%d", 10 + id[1] - '0');
  n.load = load;
  return n;
}

SB_TEST(register_then_heartbeat_updates_the_row) {
  sb_store_t *st = open_store();
  sb_cluster_node_t a = node("n1", 0), got;
  int draining = -1;
  CHECK(st != NULL);
  CHECK_EQ(sb_cluster_node_get(st, "n1", &got), 0);
  CHECK_EQ(sb_cluster_node_register(st, &a, T0), 0);
  CHECK_EQ(sb_cluster_node_get(st, "n1", &got), 1);
  CHECK_EQ(got.started_ms, T0);
  CHECK_EQ(got.heartbeat_ms, T0);
  CHECK_STR(got.media_ip, "127.0.0.11");
  a.load = 7;
  CHECK_EQ(sb_cluster_node_heartbeat(st, &a, T0 + 2000, &draining), 0);
  CHECK_EQ(draining, 0);
  CHECK_EQ(sb_cluster_node_get(st, "n1", &got), 1);
  CHECK_EQ(got.load, 7);
  CHECK_EQ(got.heartbeat_ms, T0 + 2000);
  CHECK_EQ(got.started_ms, T0);
  sb_store_close(st);
}

SB_TEST(heartbeat_recreates_a_missing_row) {
  sb_store_t *st = open_store();
  sb_cluster_node_t a = node("n1", 3), got;
  CHECK(st != NULL);
  CHECK_EQ(sb_cluster_node_heartbeat(st, &a, T0, NULL), 0);
  CHECK_EQ(sb_cluster_node_get(st, "n1", &got), 1);
  CHECK_EQ(got.load, 3);
  sb_store_close(st);
}

SB_TEST(drain_set_elsewhere_sticks_through_heartbeats_until_restart) {
  sb_store_t *st = open_store();
  sb_cluster_node_t a = node("n1", 0), got;
  int draining = -1;
  CHECK(st != NULL);
  CHECK_EQ(sb_cluster_node_register(st, &a, T0), 0);
  CHECK_EQ(sb_cluster_node_set_draining(st, "n1", 1), 1);
  CHECK_EQ(sb_cluster_node_set_draining(st, "nope", 1), 0);
  /* The node itself does not know yet (a.draining == 0): its heartbeat must not undo it. */
  CHECK_EQ(sb_cluster_node_heartbeat(st, &a, T0 + 2000, &draining), 0);
  CHECK_EQ(draining, 1);
  CHECK_EQ(sb_cluster_node_get(st, "n1", &got), 1);
  CHECK_EQ(got.draining, 1);
  CHECK_EQ(sb_cluster_node_register(st, &a, T0 + 9000), 0);
  CHECK_EQ(sb_cluster_node_get(st, "n1", &got), 1);
  CHECK_EQ(got.draining, 0);
  CHECK_EQ(got.started_ms, T0 + 9000);
  sb_store_close(st);
}

SB_TEST(live_list_excludes_dead_nodes_and_pick_excludes_draining_ones) {
  sb_store_t *st = open_store();
  sb_cluster_node_t n1 = node("n1", 5), n2 = node("n2", 1), n3 = node("n3", 0), got;
  json_t *live = NULL;
  CHECK(st != NULL);
  CHECK_EQ(sb_cluster_node_register(st, &n1, T0), 0);
  CHECK_EQ(sb_cluster_node_register(st, &n2, T0), 0);
  CHECK_EQ(sb_cluster_node_register(st, &n3, T0 - TIMEOUT - 1), 0); /* missed its heartbeats */
  CHECK_EQ(sb_cluster_nodes_live(st, T0, TIMEOUT, &live), 2);
  CHECK_STR(json_string_value(json_object_get(json_array_get(live, 0), "id")), "n1");
  CHECK_STR(json_string_value(json_object_get(json_array_get(live, 1), "id")), "n2");
  json_decref(live);
  /* n3 has the lowest load but is dead; n2 is the least-loaded live one. */
  CHECK_EQ(sb_cluster_node_pick(st, T0, TIMEOUT, NULL, &got), 1);
  CHECK_STR(got.id, "n2");
  CHECK_EQ(sb_cluster_node_pick(st, T0, TIMEOUT, "n2", &got), 1);
  CHECK_STR(got.id, "n1");
  n2.draining = 1;
  CHECK_EQ(sb_cluster_node_heartbeat(st, &n2, T0 + 1, NULL), 0);
  CHECK_EQ(sb_cluster_nodes_live(st, T0 + 1, TIMEOUT, &live), 2); /* draining is still alive */
  CHECK(json_is_false(json_object_get(json_array_get(live, 0), "draining")));
  CHECK(json_is_true(json_object_get(json_array_get(live, 1), "draining")));
  CHECK_EQ(json_integer_value(json_object_get(json_array_get(live, 0), "load")), 5);
  json_decref(live);
  CHECK_EQ(sb_cluster_node_pick(st, T0 + 1, TIMEOUT, NULL, &got), 1);
  CHECK_STR(got.id, "n1");
  CHECK_EQ(sb_cluster_node_pick(st, T0 + 1, TIMEOUT, "n1", &got), 0);
  sb_store_close(st);
}

SB_TEST(pick_breaks_load_ties_by_id) {
  sb_store_t *st = open_store();
  sb_cluster_node_t n1 = node("n1", 2), n2 = node("n2", 2), got;
  CHECK(st != NULL);
  CHECK_EQ(sb_cluster_node_register(st, &n2, T0), 0);
  CHECK_EQ(sb_cluster_node_register(st, &n1, T0), 0);
  CHECK_EQ(sb_cluster_node_pick(st, T0, TIMEOUT, NULL, &got), 1);
  CHECK_STR(got.id, "n1");
  sb_store_close(st);
}

SB_TEST(lease_is_taken_renewed_and_refused_while_held) {
  sb_store_t *st = open_store();
  sb_cluster_node_t n1 = node("n1", 0);
  sb_cluster_holder_t h;
  CHECK(st != NULL);
  CHECK_EQ(sb_cluster_node_register(st, &n1, T0), 0);
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n1", T0, TTL, SB_CLUSTER_LEASE_ANY, &h), 1);
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n1", T0 + 4000, TTL, SB_CLUSTER_LEASE_ANY, &h), 1);
  /* Renewed at T0+4000: still held at T0+TTL+1 when another node tries. */
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n2", T0 + TTL + 1, TTL, SB_CLUSTER_LEASE_ANY, &h), 0);
  CHECK_STR(h.node_id, "n1");
  CHECK_STR(h.signal_url, "wss://lb.example/ws?node=n1");
  CHECK_EQ(h.expires_ms, T0 + 4000 + TTL);
  /* Other rooms are independent. */
  CHECK_EQ(sb_cluster_lease_acquire(st, "other", "n2", T0 + TTL + 1, TTL, SB_CLUSTER_LEASE_ANY, NULL), 1);
  sb_store_close(st);
}

SB_TEST(expired_lease_is_taken_over) {
  sb_store_t *st = open_store();
  sb_cluster_holder_t h;
  CHECK(st != NULL);
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n1", T0, TTL, SB_CLUSTER_LEASE_ANY, &h), 1);
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n2", T0 + TTL - 1, TTL, SB_CLUSTER_LEASE_ANY, &h), 0);
  CHECK_STR(h.node_id, "n1");
  CHECK_STR(h.signal_url, ""); /* n1 never registered */
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n2", T0 + TTL, TTL, SB_CLUSTER_LEASE_ANY, &h), 1);
  /* The old holder has lost it: its renewal and its acquire are refused. */
  const char *rooms[] = {"room"};
  unsigned char lost[1] = {0};
  CHECK_EQ(sb_cluster_leases_renew(st, "n1", rooms, 1, T0 + TTL + 1, TTL, lost), 0);
  CHECK_EQ(lost[0], 1);
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n1", T0 + TTL + 1, TTL, SB_CLUSTER_LEASE_ANY, &h), 0);
  CHECK_STR(h.node_id, "n2");
  sb_store_close(st);
}

SB_TEST(renew_only_takes_no_new_lease) {
  sb_store_t *st = open_store();
  sb_cluster_holder_t h;
  CHECK(st != NULL);
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n1", T0, TTL, SB_CLUSTER_LEASE_RENEW_ONLY, &h), 0);
  CHECK_STR(h.node_id, "");
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n1", T0, TTL, SB_CLUSTER_LEASE_ANY, &h), 1);
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n1", T0 + 1000, TTL, SB_CLUSTER_LEASE_RENEW_ONLY, &h), 1);
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n2", T0 + 1000, TTL, SB_CLUSTER_LEASE_RENEW_ONLY, &h), 0);
  CHECK_STR(h.node_id, "n1");
  sb_store_close(st);
}

SB_TEST(renew_all_extends_only_this_nodes_live_rooms) {
  sb_store_t *st = open_store();
  enum { N = 31 }; /* more than one statement's batch */
  char names[N][16];
  const char *rooms[N];
  unsigned char lost[N];
  sb_cluster_holder_t h;
  CHECK(st != NULL);
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "r%02d", i);
    rooms[i] = names[i];
    /* Every third room belongs to n2. */
    CHECK_EQ(sb_cluster_lease_acquire(st, rooms[i], i % 3 ? "n1" : "n2", T0, TTL,
                                      SB_CLUSTER_LEASE_ANY, NULL), 1);
  }
  CHECK_EQ(sb_cluster_lease_acquire(st, "idle", "n1", T0, TTL, SB_CLUSTER_LEASE_ANY, NULL), 1);
  memset(lost, 9, sizeof lost);
  CHECK_EQ(sb_cluster_leases_renew(st, "n1", rooms, N, T0 + 5000, TTL, lost), N - (N + 2) / 3);
  for (int i = 0; i < N; i++)
    CHECK_EQ(lost[i], i % 3 ? 0 : 1);
  /* Renewed rooms outlive the first expiry; the room not in the set does not. */
  CHECK_EQ(sb_cluster_lease_acquire(st, "r01", "n3", T0 + TTL + 1, TTL, SB_CLUSTER_LEASE_ANY, &h), 0);
  CHECK_STR(h.node_id, "n1");
  CHECK_EQ(sb_cluster_lease_acquire(st, "idle", "n3", T0 + TTL + 1, TTL, SB_CLUSTER_LEASE_ANY, &h), 1);
  CHECK_EQ(sb_cluster_leases_renew(st, "n1", NULL, 0, T0, TTL, NULL), 0);
  sb_store_close(st);
}

SB_TEST(released_lease_is_free_for_another_node) {
  sb_store_t *st = open_store();
  sb_cluster_holder_t h;
  CHECK(st != NULL);
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n1", T0, TTL, SB_CLUSTER_LEASE_ANY, &h), 1);
  CHECK_EQ(sb_cluster_lease_acquire(st, "b", "n1", T0, TTL, SB_CLUSTER_LEASE_ANY, &h), 1);
  CHECK_EQ(sb_cluster_lease_release(st, "room", "n2"), 0); /* not n2's to release */
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n2", T0 + 1, TTL, SB_CLUSTER_LEASE_ANY, &h), 0);
  CHECK_EQ(sb_cluster_lease_release(st, "room", "n1"), 1);
  CHECK_EQ(sb_cluster_lease_acquire(st, "room", "n2", T0 + 1, TTL, SB_CLUSTER_LEASE_ANY, &h), 1);
  CHECK_EQ(sb_cluster_leases_release_all(st, "n1"), 1);
  CHECK_EQ(sb_cluster_lease_acquire(st, "b", "n2", T0 + 1, TTL, SB_CLUSTER_LEASE_ANY, &h), 1);
  sb_store_close(st);
}

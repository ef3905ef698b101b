/* Nodes and room leases in the shared store (docs/architecture.md, "Several nodes").
 *
 * Every node has a row in `nodes` that it upserts with its heartbeat; a room's call has one home
 * node at a time, the holder of the room's row in `room_leases` until its expiry. These are pure
 * storage functions: they take the time as an argument and touch nothing but the store, so they
 * can run on whichever thread owns the store (the database executor) and be tested on SQLite.
 * The SQL is the common subset of SQLite and PostgreSQL (ON CONFLICT ... DO UPDATE ... WHERE,
 * RETURNING, `?` placeholders), so both backends run the same statements. */
#ifndef SB_CLUSTER_H
#define SB_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "signaling/store.h"

#define SB_CLUSTER_ID_MAX 64
#define SB_CLUSTER_URL_MAX 256
#define SB_CLUSTER_IP_MAX 64

/* Defaults of docs/architecture.md: heartbeat every 2 s; a node missing 3 heartbeats is dead;
 * a lease lives 3 heartbeats unless renewed. */
#define SB_CLUSTER_HEARTBEAT_MS 2000
#define SB_CLUSTER_NODE_TIMEOUT_MS 6000
#define SB_CLUSTER_LEASE_TTL_MS 6000

/** One row of `nodes`. */
typedef struct {
  char id[SB_CLUSTER_ID_MAX];
  char signal_url[SB_CLUSTER_URL_MAX]; /* where clients reach this node (the LB's URL + ?node=) */
  char media_ip[SB_CLUSTER_IP_MAX];
  long long load;                      /* participants in calls on the node */
  long long heartbeat_ms;
  int draining;
  long long started_ms;
} sb_cluster_node_t;

/** A node as a new JSON object {id, signal_url, media_ip, load, heartbeat_ms, draining (true or
 * false), started_ms}; the caller owns it. */
json_t *sb_cluster_node_json(const sb_cluster_node_t *node);

/** Registers a node starting now: inserts or replaces its row with draining off, started_ms and
 * heartbeat_ms = now_ms (a restarted node serves again even if its previous run was drained).
 * Returns 0 or a store status < 0. */
int sb_cluster_node_register(sb_store_t *st, const sb_cluster_node_t *node, long long now_ms);

/** The heartbeat of a running node: updates load, URL, media address and heartbeat_ms (inserting
 * the row if it went missing). The draining flag is sticky: `draining` 1 sets it, 0 keeps what
 * the row has, because an operator may drain the node through another node. *draining_out (may
 * be NULL) receives the row's flag after the update. Returns 0 or < 0. */
int sb_cluster_node_heartbeat(sb_store_t *st, const sb_cluster_node_t *node, long long now_ms,
                              int *draining_out);

/** Sets or clears a node's draining flag. Returns 1 if the node exists, 0 if not, or < 0. */
int sb_cluster_node_set_draining(sb_store_t *st, const char *node_id, int draining);

/** Reads one node into *out. Returns 1 if found, 0 if not, or < 0. */
int sb_cluster_node_get(sb_store_t *st, const char *node_id, sb_cluster_node_t *out);

/** Live nodes (heartbeat within timeout_ms of now_ms, draining or not), ordered by id, as a
 * new JSON array of sb_cluster_node_json() objects (caller owns it) in *out. Returns the count
 * or < 0 (then *out is NULL). */
int sb_cluster_nodes_live(sb_store_t *st, long long now_ms, long long timeout_ms, json_t **out);

/** The least-loaded live node that is not draining, ties broken by id, other than
 * `exclude_id` (NULL or "" for none) into *out. Returns 1 if one was found, 0 if none, or < 0. */
int sb_cluster_node_pick(sb_store_t *st, long long now_ms, long long timeout_ms,
                         const char *exclude_id, sb_cluster_node_t *out);

/** Who holds a room's lease (when the acquire was refused). */
typedef struct {
  char node_id[SB_CLUSTER_ID_MAX];
  char signal_url[SB_CLUSTER_URL_MAX]; /* "" if the holder has no node row */
  long long expires_ms;
} sb_cluster_holder_t;

enum {
  SB_CLUSTER_LEASE_ANY = 0,        /* take the lease if free or expired, renew it if ours */
  SB_CLUSTER_LEASE_RENEW_ONLY = 1, /* only renew our own lease (a draining node takes none) */
};

/** Acquires or renews the lease of `room_id` for `node_id` until now_ms + ttl_ms. Returns 1 when
 * the node holds it now; 0 when another node holds an unexpired lease (that node is described
 * in *holder, which may be NULL) or, with SB_CLUSTER_LEASE_RENEW_ONLY, when it is not ours (then
 * holder->node_id is "" if the lease is free); < 0 on a store failure. */
int sb_cluster_lease_acquire(sb_store_t *st, const char *room_id, const char *node_id,
                             long long now_ms, long long ttl_ms, int flags,
                             sb_cluster_holder_t *holder);

/** Renews this node's leases of the `n` rooms (its rooms with a live call) until now_ms + ttl_ms.
 * lost (n entries, may be NULL) receives 1 for each room whose lease this node no longer holds
 * (it expired and another node took it, or it was released): that call must end. Returns the
 * number renewed or < 0. */
int sb_cluster_leases_renew(sb_store_t *st, const char *node_id, const char *const *rooms,
                            size_t n, long long now_ms, long long ttl_ms, unsigned char *lost);

/** Releases this node's lease of a room (its call ended). Returns 1 if released, 0 if it was
 * not ours, or < 0. */
int sb_cluster_lease_release(sb_store_t *st, const char *room_id, const char *node_id);

/** Releases every lease of the node: at start (a restarted node has no calls) and at stop.
 * Returns the number released or < 0. */
int sb_cluster_leases_release_all(sb_store_t *st, const char *node_id);

#endif

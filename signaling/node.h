/* This process as a node of a cluster: its identity, readiness, drain and heartbeat
 * (docs/architecture.md, "Several nodes"; storage side in cluster.h).
 *
 * The heartbeat is split the way the database executor runs jobs: a snapshot taken on the loop
 * (sb_node_beat_prepare), the store work (sb_node_beat_run, any thread that owns the store) and
 * the result applied on the loop (sb_node_beat_done). Until the executor exists the heartbeat
 * timer runs the three in a row on the loop. */
#ifndef SB_NODE_H
#define SB_NODE_H

#include <stddef.h>

#include "signaling/app.h"
#include "signaling/cluster.h"
#include "signaling/model.h"

/** One heartbeat: what the loop knew, and what the store answered. */
typedef struct {
  sb_cluster_node_t row;   /* this node's row as the loop sees it */
  char (*rooms)[SB_CLUSTER_ID_MAX]; /* rooms with a live call on this node */
  size_t nrooms;
  unsigned char *lost;     /* per room: its lease is no longer ours (filled by run) */
  int rc;                  /* 0 or a store status < 0 (filled by run) */
  int draining;            /* the row's draining flag after the write (filled by run) */
  long long now_ms;        /* wall clock of the write, shared by every node */
} sb_node_beat_t;

/** Derives the node id (--node-id, else "<host>-<port>") and the public WebSocket URL,
 * registers the node in the store, releases leases left by an earlier run of the same id and
 * starts the heartbeat timer. Call after the HTTP server listens. Returns 0 or -1. */
int sb_node_start(sb_app_t *app);

/** Stops the timers and releases this node's leases (its calls are ending). Handles are freed
 * in their close callbacks. Accepts a node that never started. */
void sb_node_stop(sb_app_t *app);

/** This node's id ("" before sb_node_start). */
const char *sb_node_id(const sb_app_t *app);
/** The WebSocket URL clients use to reach this node (nodes.signal_url). */
const char *sb_node_url(const sb_app_t *app);

/** 1 when the node takes new rooms and requests: not stopping, not draining and the store
 * reachable; else 0 with a short reason ("draining", "store_unreachable", "stopping"). */
int sb_node_ready(const sb_app_t *app, const char **reason);

/** Starts draining: not ready from now on, no new rooms; when no call is left or after
 * --drain-timeout, the remaining calls end with reason "moved" (clients rejoin through the load
 * balancer) and on_drained (may be NULL) runs. A second call only updates on_drained. */
void sb_node_drain(sb_app_t *app, void (*on_drained)(sb_app_t *app));

/** 1 once this node drains (it takes no new room). */
int sb_node_draining(const sb_app_t *app);

/** Releases this node's lease of `room`, whose call has ended (a job; nobody waits). */
void sb_node_release_room(sb_app_t *app, const char *room);

/** Answers GET /healthz and GET /readyz (no database: they answer while it is slow or down).
 * Returns the JSON body (malloc'd) and sets *status, or NULL for any other path. */
char *sb_node_http_handle(sb_app_t *app, const char *method, const char *path, int *status);

/** 1 if `path` is one of the operator's node endpoints (/api/admin/nodes...). */
int sb_node_admin_path(const char *path);
/** On the DB thread: GET /api/admin/nodes (the live nodes) and POST /api/admin/nodes/ID/drain
 * (sets the node's draining flag; the node follows at its next heartbeat), for the operator
 * only. Returns the answer (new reference) with *status; `drained` gets the id of a node just
 * drained ("" otherwise), so the caller's done can act at once when it is this node. */
json_t *sb_node_admin_run(sb_store_t *st, const sb_principal_t *who, const char *method,
                          const char *path, int *status, char *drained, size_t len);

/** Loop side: a new heartbeat with this node's row and live rooms (caller owns it). */
sb_node_beat_t *sb_node_beat_prepare(sb_app_t *app);
/** Store side: writes the row, renews the leases of the live rooms and reads the draining flag
 * into the beat. Touches only `st` and `b`. */
void sb_node_beat_run(sb_store_t *st, sb_node_beat_t *b);
/** Loop side: applies the result (readiness, a drain set through another node) and frees b. */
void sb_node_beat_done(sb_app_t *app, sb_node_beat_t *b);

#endif

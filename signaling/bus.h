/* The effects bus between nodes that share a PostgreSQL database (brief §9).
 *
 * A model operation's effects (events to users, revocations, media refreshes) must reach the
 * node where the user's WebSocket or call lives, which may not be the node that made the change.
 * The operation publishes them with pg_notify() inside its own transaction, so they are sent
 * exactly when the change commits and never for a change that rolled back; every node LISTENs on
 * its own connection and applies what other nodes published to its local sessions and calls.
 *
 * Publishing runs on the database thread (it is a statement of the model's transaction); the
 * listener runs on a thread of its own, because libpq's connect and reconnect block, and hands
 * what it receives to the signaling loop through an sb_queue. A listener that lost its
 * connection may have missed notifications: after every (re)connection it asks the loop to
 * re-check its live calls (`on_resync`), so a revocation missed meanwhile still cuts media. */
#ifndef SB_BUS_H
#define SB_BUS_H

#include <stddef.h>
#include <uv.h>

#include "signaling/effects.h"
#include "signaling/store.h"

/* The channel every node listens on. */
#define SB_BUS_CHANNEL "sb_effects"
/* PostgreSQL refuses payloads of 8000 bytes or more; effects are packed below this. */
#define SB_BUS_MAX_PAYLOAD 7600

/* ---- Encoding (pure; unit-tested) ---- */

/** Packs fx->items[from..] into JSON texts of at most SB_BUS_MAX_PAYLOAD bytes each,
 * {"node": node, "fx": [...]}, and calls emit for each in order; stops at the first emit that
 * fails. An effect too large for one payload on its own is a programming error: -1.
 * Returns 0 or the failing emit's status (< 0). */
int sb_bus_encode(const char *node, const sb_effects_t *fx, size_t from,
                  int (*emit)(const char *payload, void *arg), void *arg);

/** Appends the effects of one payload to fx (which it does not clear). Returns 0, 1 when the
 * payload came from `self` (nothing appended: the origin applied its own effects already), or
 * -1 when it is malformed (nothing appended). */
int sb_bus_decode(const char *payload, const char *self, sb_effects_t *fx);

/* ---- Publishing (database thread) ---- */

/** Publishes fx->items[from..] on the store's connection with pg_notify(); call inside the
 * operation's outermost transaction, before its commit. A store that is not PostgreSQL
 * publishes nothing (0). Returns 0 or a store status < 0 (the caller rolls back). */
int sb_bus_publish(sb_store_t *st, const char *node, const sb_effects_t *fx, size_t from);

/* ---- Listening (signaling loop) ---- */

typedef struct sb_bus sb_bus_t;

typedef struct {
  const char *conninfo;  /* libpq URL or conninfo of the shared database; copied */
  const char *node;      /* this node's id; copied */
  /* On the loop: effects another node published (the callee applies them; the bus clears
   * the list afterwards). */
  void (*on_effects)(sb_effects_t *fx, void *arg);
  /* On the loop: the listener (re)connected; notifications may have been missed before. */
  void (*on_resync)(void *arg);
  void *arg;
} sb_bus_config_t;

/** Starts the listener thread on `loop`. Returns 0 or -1 (nothing started). The first
 * connection is made in the background; on_resync reports each success. */
int sb_bus_start(uv_loop_t *loop, const sb_bus_config_t *cfg, sb_bus_t **out);

/** 1 while the listener holds a LISTENing connection. */
int sb_bus_connected(const sb_bus_t *b);

/** Stops the thread and frees the bus (queued callbacks are dropped). Call on the loop's
 * thread. Accepts NULL. */
void sb_bus_stop(sb_bus_t *b);

#endif

/* The effects bus against a real PostgreSQL (SB_TEST_PG: a libpq URL or conninfo): a listener
 * receives what another node publishes, only once the publishing transaction commits, never
 * its own echo, and after losing its connection it reconnects, asks for a resync and receives
 * again. Runs only as the [pg] ctest entry, which provides the server. */
#include "sbtest.h"
#include "signaling/bus.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <uv.h>

typedef struct {
  uv_loop_t loop;
  sb_bus_t *bus;
  int resyncs;
  sb_effects_t got;
  int (*until)(void *);
} ctx_t;

static void on_effects(sb_effects_t *fx, void *arg) {
  ctx_t *c = arg;
  for (size_t i = 0; i < fx->len; i++)
    sb_effects_media(&c->got, fx->items[i].room); /* rooms identify what arrived */
}

static void on_resync(void *arg) { ((ctx_t *)arg)->resyncs++; }

static void on_limit(uv_timer_t *t) { uv_timer_stop(t); }

static void on_tick(uv_timer_t *t) {
  ctx_t *c = t->data;
  if (c->until(c))
    uv_stop(&c->loop);
}

/* Runs the loop until cond holds or 10 s pass; returns cond's value. */
static int run_until(ctx_t *c, int (*cond)(void *)) {
  uv_timer_t tick, limit;
  c->until = cond;
  uv_timer_init(&c->loop, &tick);
  uv_timer_init(&c->loop, &limit);
  tick.data = c;
  uv_timer_start(&tick, on_tick, 5, 5);
  uv_timer_start(&limit, on_limit, 10000, 0);
  while (!cond(c) && uv_is_active((uv_handle_t *)&limit))
    uv_run(&c->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_close((uv_handle_t *)&limit, NULL);
  uv_run(&c->loop, UV_RUN_NOWAIT);
  return cond(c);
}

static int one_resync(void *arg) { return ((ctx_t *)arg)->resyncs >= 1; }
static int two_resyncs(void *arg) { return ((ctx_t *)arg)->resyncs >= 2; }
static int has_room(ctx_t *c, const char *room) {
  for (size_t i = 0; i < c->got.len; i++)
    if (!strcmp(c->got.items[i].room, room))
      return 1;
  return 0;
}
static int got_r3(void *arg) { return has_room(arg, "r3"); }
static int got_r5(void *arg) { return has_room(arg, "r5"); }

static PGconn *pg(void) {
  const char *keys[] = {"dbname", NULL}, *vals[] = {getenv("SB_TEST_PG"), NULL};
  PGconn *c = PQconnectdbParams(keys, vals, 1);
  return PQstatus(c) == CONNECTION_OK ? c : (PQfinish(c), NULL);
}

static int sql(PGconn *c, const char *q) {
  PGresult *r = PQexec(c, q);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  return ok ? 0 : -1;
}

static int emit(const char *payload, void *arg) {
  const char *params[] = {payload};
  PGresult *r = PQexecParams(arg, "SELECT pg_notify('" SB_BUS_CHANNEL "', $1)", 1, NULL, params,
                             NULL, NULL, 0);
  int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  return ok ? 0 : -1;
}

/* Publishes a media effect for `room` as node `node` on connection c. */
static int publish(PGconn *c, const char *node, const char *room) {
  sb_effects_t fx;
  sb_effects_init(&fx);
  sb_effects_media(&fx, room);
  int rc = sb_bus_encode(node, &fx, 0, emit, c);
  sb_effects_free(&fx);
  return rc;
}

SB_TEST(effects_cross_nodes_on_commit_only_and_survive_a_lost_connection) {
  ctx_t c;
  memset(&c, 0, sizeof c);
  sb_effects_init(&c.got);
  CHECK(getenv("SB_TEST_PG") != NULL);
  PGconn *db = pg();
  CHECK(db != NULL);
  CHECK_EQ(uv_loop_init(&c.loop), 0);
  sb_bus_config_t cfg = {.conninfo = getenv("SB_TEST_PG"), .node = "node-a",
                         .on_effects = on_effects, .on_resync = on_resync, .arg = &c};
  CHECK_EQ(sb_bus_start(&c.loop, &cfg, &c.bus), 0);
  CHECK(run_until(&c, one_resync));
  CHECK(sb_bus_connected(c.bus));

  /* Rolled back: never sent. Own echo: dropped. Committed by another node: delivered. */
  CHECK_EQ(sql(db, "BEGIN"), 0);
  CHECK_EQ(publish(db, "node-b", "r1"), 0);
  CHECK_EQ(sql(db, "ROLLBACK"), 0);
  CHECK_EQ(publish(db, "node-a", "r2"), 0);
  CHECK_EQ(sql(db, "BEGIN"), 0);
  CHECK_EQ(publish(db, "node-b", "r3"), 0);
  CHECK_EQ(sql(db, "COMMIT"), 0);
  CHECK(run_until(&c, got_r3));
  CHECK_EQ(c.got.len, 1); /* r1 and r2 were sent before r3 and are not there */

  /* The server ends the listener's session: it reconnects, resyncs and receives again. */
  CHECK_EQ(sql(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   "WHERE application_name = 'switchboard-bus'"),
           0);
  CHECK(run_until(&c, two_resyncs));
  CHECK_EQ(publish(db, "node-b", "r5"), 0);
  CHECK(run_until(&c, got_r5));

  sb_bus_stop(c.bus);
  uv_run(&c.loop, UV_RUN_NOWAIT);
  CHECK_EQ(uv_loop_close(&c.loop), 0);
  sb_effects_free(&c.got);
  PQfinish(db);
}

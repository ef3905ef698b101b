/* The effects bus: pg_notify() inside the model's transaction, LISTEN on a thread of its own. */
#include "signaling/bus.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/queue.h"

/* ---- Encoding ---- */

static const char *const sb__kinds[] = {[SB_EFFECT_EVENT] = "event", [SB_EFFECT_REVOKE] = "revoke",
                                        [SB_EFFECT_MEDIA] = "media",
                                        [SB_EFFECT_WEBHOOKS] = "webhooks"};

static json_t *sb__effect_json(const sb_effect_t *e) {
  switch (e->kind) {
  case SB_EFFECT_EVENT:
    return json_pack("{s:s, s:s, s:s, s:s, s:O}", "k", sb__kinds[e->kind], "t", e->tenant, "u",
                     e->user, "n", e->name, "d", e->data ? e->data : json_null());
  case SB_EFFECT_REVOKE:
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "k", sb__kinds[e->kind], "t", e->tenant, "u",
                     e->user, "r", e->room, "why", e->reason);
  case SB_EFFECT_MEDIA:
    return json_pack("{s:s, s:s}", "k", sb__kinds[e->kind], "r", e->room);
  case SB_EFFECT_WEBHOOKS:
    return json_pack("{s:s, s:s}", "k", sb__kinds[e->kind], "t", e->tenant);
  case SB_EFFECT_WEBHOOK: /* sent by the node that made the change only */
    break;
  }
  return NULL;
}

static int sb__emit_batch(const char *node, json_t *batch, int (*emit)(const char *, void *),
                          void *arg) {
  json_t *msg = json_pack("{s:s, s:O}", "node", node, "fx", batch);
  char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  int rc = text ? emit(text, arg) : -1;
  free(text);
  json_decref(msg);
  return rc;
}

int sb_bus_encode(const char *node, const sb_effects_t *fx, size_t from,
                  int (*emit)(const char *payload, void *arg), void *arg) {
  json_t *batch = json_array();
  size_t used = 0, overhead = strlen(node) + 32;
  int rc = batch ? 0 : -1;
  for (size_t i = from; rc == 0 && i < fx->len; i++) {
    if (fx->items[i].kind == SB_EFFECT_WEBHOOK)
      continue;
    json_t *one = sb__effect_json(&fx->items[i]);
    char *text = one ? json_dumps(one, JSON_COMPACT) : NULL;
    size_t len = text ? strlen(text) + 1 : 0;
    free(text);
    if (!text || overhead + len > SB_BUS_MAX_PAYLOAD) {
      sb_error(NULL, "bus: effect %s too large to publish", fx->items[i].name);
      json_decref(one);
      rc = -1;
      break;
    }
    if (overhead + used + len > SB_BUS_MAX_PAYLOAD) {
      rc = sb__emit_batch(node, batch, emit, arg);
      json_array_clear(batch);
      used = 0;
    }
    json_array_append_new(batch, one);
    used += len;
  }
  if (rc == 0 && json_array_size(batch) > 0)
    rc = sb__emit_batch(node, batch, emit, arg);
  json_decref(batch);
  return rc;
}

/* A string member that fits a field of `max` bytes with its NUL, or NULL. */
static const char *sb__field(json_t *o, const char *key, size_t max) {
  const char *s = json_string_value(json_object_get(o, key));
  return s && strlen(s) < max ? s : NULL;
}

static int sb__decode_one(json_t *o, sb_effects_t *fx) {
  const char *k = json_string_value(json_object_get(o, "k"));
  const char *t = sb__field(o, "t", SB_ID_MAX + 1), *u = sb__field(o, "u", SB_ID_MAX + 1);
  const char *r = sb__field(o, "r", SB_ID_MAX + 1);
  if (!k)
    return -1;
  if (!strcmp(k, "event")) {
    const char *n = sb__field(o, "n", sizeof fx->items[0].name);
    json_t *d = json_object_get(o, "d");
    return t && u && n && json_is_object(d) ? sb_effects_event(fx, t, u, n, json_incref(d)) : -1;
  }
  if (!strcmp(k, "revoke")) {
    const char *why = sb__field(o, "why", sizeof fx->items[0].reason);
    return t && u && r && why ? sb_effects_revoke(fx, t, u, r, why) : -1;
  }
  if (!strcmp(k, "media"))
    return r ? sb_effects_media(fx, r) : -1;
  if (!strcmp(k, "webhooks"))
    return t ? sb_effects_webhooks_changed(fx, t) : -1;
  return -1;
}

int sb_bus_decode(const char *payload, const char *self, sb_effects_t *fx) {
  json_error_t jerr;
  json_t *msg = json_loads(payload, JSON_REJECT_DUPLICATES, &jerr);
  json_t *list = json_object_get(msg, "fx"), *o;
  const char *node = json_string_value(json_object_get(msg, "node"));
  size_t mark = fx->len, i;
  int rc = 0;
  if (!node || !json_is_array(list)) {
    rc = -1;
    goto Exit;
  }
  if (self && strcmp(node, self) == 0) {
    rc = 1;
    goto Exit;
  }
  json_array_foreach(list, i, o) {
    if (sb__decode_one(o, fx) < 0) {
      rc = -1;
      break;
    }
  }
Exit:
  if (rc < 0)
    sb_effects_truncate(fx, mark);
  json_decref(msg);
  return rc;
}

/* ---- Publishing ---- */

static int sb__notify(const char *payload, void *arg) {
  return sb_store_exec(arg, NULL, "SELECT pg_notify('" SB_BUS_CHANNEL "', ?)", "s", payload) < 0
             ? -1
             : 0;
}

int sb_bus_publish(sb_store_t *st, const char *node, const sb_effects_t *fx, size_t from) {
  if (!fx || fx->len <= from || strcmp(sb_store_backend(st), "postgresql") != 0)
    return 0;
  return sb_bus_encode(node, fx, from, sb__notify, st) < 0 ? SB_STORE_ERROR : 0;
}

/* ---- Listening ---- */

enum { SB_BUS_MSG_PAYLOAD = 1, SB_BUS_MSG_RESYNC = 2 };

typedef struct {
  sb_msg_t hdr;
  char payload[]; /* NUL-terminated; empty for a resync */
} sb_bus_msg_t;

struct sb_bus {
  sb_bus_config_t cfg;
  char *conninfo;
  char node[SB_ID_MAX + 1];
  sb_queue_t *q;
  uv_thread_t thread;
  int thread_started;
  int wake[2];          /* a byte on wake[1] ends the listener's wait */
  atomic_int stop;
  atomic_int connected;
  int closing;          /* on the loop: drop what is still queued */
};

static void sb__bus_push(sb_bus_t *b, int type, const char *payload) {
  size_t len = payload ? strlen(payload) : 0;
  sb_bus_msg_t *m = malloc(sizeof *m + len + 1);
  if (!m)
    return;
  m->hdr.type = type;
  memcpy(m->payload, payload ? payload : "", len + 1);
  sb_queue_push(b->q, &m->hdr);
}

/* Waits for input on the connection (fd >= 0) or for the stop byte; 1 input, 0 timeout,
 * -1 stop. */
static int sb__bus_wait(sb_bus_t *b, int fd, int timeout_ms) {
  struct pollfd p[2] = {{.fd = b->wake[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
  int n = poll(p, fd >= 0 ? 2 : 1, timeout_ms);
  if (atomic_load(&b->stop) || (n > 0 && p[0].revents))
    return -1;
  return n > 0 ? 1 : 0;
}

static PGconn *sb__bus_connect(sb_bus_t *b) {
  /* expand_dbname lets conninfo be a URL or a key=value string; the timeout bounds how long a
   * stop can wait for a connection attempt. */
  const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
  const char *vals[] = {b->conninfo, "3", "switchboard-bus", NULL};
  PGconn *c = PQconnectdbParams(keys, vals, 1);
  PGresult *r = NULL;
  if (PQstatus(c) == CONNECTION_OK) {
    r = PQexec(c, "LISTEN " SB_BUS_CHANNEL);
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
      PQclear(r);
      return c;
    }
  }
  /* The message never holds the password: libpq does not echo it. */
  sb_warn(NULL, "bus: cannot listen: %s", PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  return NULL;
}

/* Reads what arrived; -1 when the connection is gone. */
static int sb__bus_drain(sb_bus_t *b, PGconn *c) {
  PGnotify *n;
  if (!PQconsumeInput(c))
    return -1;
  while ((n = PQnotifies(c))) {
    sb__bus_push(b, SB_BUS_MSG_PAYLOAD, n->extra);
    PQfreemem(n);
  }
  return 0;
}

static void sb__bus_thread(void *arg) {
  sb_bus_t *b = arg;
  int backoff_ms = 100;
  while (!atomic_load(&b->stop)) {
    PGconn *c = sb__bus_connect(b);
    if (!c) {
      if (sb__bus_wait(b, -1, backoff_ms) < 0)
        break;
      backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
      continue;
    }
    backoff_ms = 100;
    atomic_store(&b->connected, 1);
    sb_info(NULL, "bus: listening on %s", SB_BUS_CHANNEL);
    sb__bus_push(b, SB_BUS_MSG_RESYNC, NULL);
    for (;;) {
      int w = sb__bus_wait(b, PQsocket(c), 1000);
      if (w < 0)
        break;
      if (sb__bus_drain(b, c) < 0) {
        sb_warn(NULL, "bus: connection lost: %s", PQerrorMessage(c));
        break;
      }
    }
    atomic_store(&b->connected, 0);
    PQfinish(c);
  }
}

static void sb__bus_on_msg(sb_msg_t *msg, void *arg) {
  sb_bus_t *b = arg;
  sb_bus_msg_t *m = (sb_bus_msg_t *)msg;
  sb_effects_t fx;
  if (b->closing)
    goto Exit;
  if (m->hdr.type == SB_BUS_MSG_RESYNC) {
    if (b->cfg.on_resync)
      b->cfg.on_resync(b->cfg.arg);
    goto Exit;
  }
  sb_effects_init(&fx);
  int rc = sb_bus_decode(m->payload, b->node, &fx);
  if (rc < 0)
    sb_warn(NULL, "bus: dropped a malformed payload (%zu bytes)", strlen(m->payload));
  else if (rc == 0 && fx.len)
    b->cfg.on_effects(&fx, b->cfg.arg);
  sb_effects_free(&fx);
Exit:
  free(m);
}

int sb_bus_start(uv_loop_t *loop, const sb_bus_config_t *cfg, sb_bus_t **out) {
  sb_bus_t *b = calloc(1, sizeof *b);
  *out = NULL;
  if (!b)
    return -1;
  b->wake[0] = b->wake[1] = -1;
  b->cfg = *cfg;
  b->conninfo = strdup(cfg->conninfo);
  snprintf(b->node, sizeof b->node, "%s", cfg->node);
  if (!b->conninfo || pipe(b->wake) != 0 || !(b->q = sb_queue_create(loop, sb__bus_on_msg, b)))
    goto Fail;
  if (uv_thread_create(&b->thread, sb__bus_thread, b) != 0)
    goto Fail;
  b->thread_started = 1;
  *out = b;
  return 0;
Fail:
  sb_bus_stop(b);
  return -1;
}

int sb_bus_connected(const sb_bus_t *b) { return b && atomic_load(&b->connected); }

void sb_bus_stop(sb_bus_t *b) {
  if (!b)
    return;
  atomic_store(&b->stop, 1);
  if (b->wake[1] >= 0 && write(b->wake[1], "x", 1) < 0 && errno != EAGAIN)
    sb_warn(NULL, "bus: cannot wake the listener: %s", strerror(errno));
  if (b->thread_started)
    uv_thread_join(&b->thread);
  b->closing = 1;
  if (b->q)
    sb_queue_close(b->q); /* hands what is left to sb__bus_on_msg, which drops it */
  for (int i = 0; i < 2; i++)
    if (b->wake[i] >= 0)
      close(b->wake[i]);
  free(b->conninfo);
  free(b);
}

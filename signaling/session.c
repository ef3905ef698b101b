#include "signaling/session.h"

#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/admission.h"
#include "signaling/call.h"
#include "signaling/server.h"

int sb_rpc_fail(sb_rpc_error_t *err, const char *code, const char *fmt, ...) {
  va_list ap;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  sb_utf8_sanitize(err->message); /* quoted input cut short must not stop the reply */
  return -1;
}

struct sb_rxframe {
  sb_rxframe_t *next;
  size_t len;
  char data[];
};

static void free_frames(sb_frame_t *f) {
  while (f) {
    sb_frame_t *next = f->next;
    free(f);
    f = next;
  }
}

static void free_rq(sb_session_t *s) {
  while (s->rq) {
    sb_rxframe_t *f = s->rq;
    s->rq = f->next;
    free(f);
  }
  s->rq_tail = NULL;
  s->rq_count = s->rq_bytes = 0;
}

static void free_txq(sb_session_t *s) {
  free_frames(s->txq);
  s->txq = s->txq_tail = NULL;
  s->txq_bytes = 0;
}

sb_session_t *sb_session_create(sb_app_t *app, struct lws *wsi, const char *peer) {
  sb_session_t *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->id = sb_app_next_id(app);
  s->app = app;
  s->wsi = wsi;
  snprintf(s->peer, sizeof s->peer, "%s", peer);
  s->rate_tokens = app->cfg.max_requests_per_second;
  s->rate_ms = sb_now_ms();
  snprintf(s->ctx, sizeof s->ctx, "-");
  s->next = app->sessions;
  app->sessions = s;
  return s;
}

static void undefer(sb_session_t *s);

void sb_session_destroy(sb_session_t *s) {
  if (!s)
    return;
  if (s->participant)
    sb_call_leave(s, "disconnected");
  for (sb_session_t **pp = &s->app->sessions; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  s->wsi = NULL;
  undefer(s);
  free_txq(s);
  free_frames(s->resumed_txq);
  free_rq(s);
  json_decref(s->pending_id);
  free(s->rx);
  OPENSSL_cleanse(&s->who, sizeof s->who);
  free(s);
}

int sb_session_count_peer(sb_app_t *app, const char *peer) {
  int n = 0;
  for (sb_session_t *s = app->sessions; s; s = s->next)
    n += !s->detached && strcmp(s->peer, peer) == 0;
  return n;
}

/* The client stopped reading: its queue is dropped and the connection closed at the next
 * service (no close frame could reach it); its later frames are ignored. Logged once. */
static void cut_off(sb_session_t *s) {
  s->cut_off = 1;
  s->app->ws_closed_slow++;
  sb_warn(s->ctx, "ws: client from %s is not reading (%zu bytes queued); closing", s->peer,
          s->txq_bytes);
  free_txq(s);
  if (s->wsi)
    lws_set_timeout(s->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* --- resume: a call outlives its participant's socket for resume-grace seconds --- */

static void on_resume_tick(uv_timer_t *t) { sb_session_expire_detached(t->data); }

void sb_session_closed(sb_session_t *s) {
  sb_app_t *app = s->app;
  s->wsi = NULL;
  if (!s->authed || !s->participant || s->cut_off || s->peer_closed || app->stopping ||
      app->cfg.resume_grace_s <= 0 || !app->resume_timer.loop) {
    sb_session_destroy(s);
    return;
  }
  undefer(s);
  free_rq(s); /* requests not run yet are dropped with the socket they came on */
  free(s->rx);
  s->rx = NULL;
  s->rxlen = 0;
  s->detached = 1;
  s->detached_ms = sb_now_ms();
  sb_info(s->ctx, "connection lost; the call is kept %d s for the session to resume",
          app->cfg.resume_grace_s);
  if (!uv_is_active((uv_handle_t *)&app->resume_timer))
    uv_timer_start(&app->resume_timer, on_resume_tick, 500, 500);
}

void sb_session_expire_detached(sb_app_t *app) {
  uint64_t now = sb_now_ms(), grace = app->stopping ? 0 : (uint64_t)app->cfg.resume_grace_s * 1000;
  int left = 0;
  for (sb_session_t *s = app->sessions, *next; s; s = next) {
    next = s->next;
    if (!s->detached)
      continue;
    if (s->cut_off || now - s->detached_ms >= grace) {
      if (!app->stopping) {
        app->ws_resume_expired++;
        sb_info(s->ctx, "session not resumed within %d s", app->cfg.resume_grace_s);
      }
      sb_session_destroy(s); /* leaves the call: "disconnected" */
    } else {
      left++;
    }
  }
  if (!left && app->resume_timer.loop && !uv_is_closing((uv_handle_t *)&app->resume_timer))
    uv_timer_stop(&app->resume_timer);
}

/* The session a resume token names: detached, or still attached to a socket the server has not
 * seen break yet (no pings: a half-open TCP connection after a network change), which the new
 * connection then replaces. */
static sb_session_t *find_resumable(sb_app_t *app, const sb_token_claims_t *c, const char *token) {
  if (!token || strlen(token) != sizeof ((sb_session_t *)0)->resume_token - 1)
    return NULL;
  for (sb_session_t *o = app->sessions; o; o = o->next)
    if (o->authed && o->resume_token[0] && !o->cut_off && strcmp(o->who.tenant, c->tenant) == 0 &&
        strcmp(o->who.user, c->user) == 0 &&
        CRYPTO_memcmp(o->resume_token, token, sizeof o->resume_token - 1) == 0)
      return o;
  return NULL;
}

static void send_resumed_txq(sb_session_t *s) {
  if (!s->resumed_txq)
    return;
  if (s->txq_tail)
    s->txq_tail->next = s->resumed_txq;
  else
    s->txq = s->resumed_txq;
  for (sb_frame_t *f = s->resumed_txq; f; f = f->next) {
    s->txq_bytes += f->len;
    s->txq_tail = f;
  }
  s->resumed_txq = NULL;
  if (s->wsi)
    lws_callback_on_writable(s->wsi);
}

/* s (just authenticated) takes over old: its id (which jobs, calls and the relay's events know
 * it by), its participant, a request waiting on the database and the events queued meanwhile
 * (sent after this auth's reply). old goes without leaving the call. */
static void adopt(sb_session_t *s, sb_session_t *old) {
  uint64_t id = old->id;
  if (old->wsi) { /* its socket is dead to the client: closed, and no longer old's */
    sb_server_release_ws(old->wsi);
    old->wsi = NULL;
  }
  s->participant = old->participant;
  old->participant = NULL;
  s->resumed_txq = old->txq;
  old->txq = old->txq_tail = NULL;
  old->txq_bytes = 0;
  s->pending_id = old->pending_id;
  old->pending_id = NULL;
  s->suspended = old->suspended;
  sb_session_destroy(old);
  s->id = id;
  s->app->ws_resumed++;
  s->after_reply = send_resumed_txq;
}

sb_session_t *sb_session_find(sb_app_t *app, uint64_t id) {
  for (sb_session_t *s = app->sessions; s; s = s->next)
    if (s->id == id)
      return s;
  return NULL;
}

void sb_session_send(sb_session_t *s, json_t *msg) {
  char *text = json_dumps(msg, JSON_COMPACT);
  json_decref(msg);
  if (!text || (!s->wsi && !s->detached) || s->cut_off) {
    free(text);
    return;
  }
  size_t len = strlen(text);
  if (s->txq_bytes + len > SB_MAX_TXQ_BYTES) {
    free(text);
    cut_off(s); /* a detached one is ended at the resume timer's next tick */
    return;
  }
  sb_frame_t *f = malloc(sizeof *f + LWS_PRE + len);
  if (!f) {
    free(text);
    return;
  }
  f->next = NULL;
  f->len = len;
  memcpy(f->data + LWS_PRE, text, len);
  free(text);
  if (s->txq_tail)
    s->txq_tail->next = f;
  else
    s->txq = f;
  s->txq_tail = f;
  s->txq_bytes += len;
  if (s->wsi)
    lws_callback_on_writable(s->wsi);
}

void sb_session_event(sb_session_t *s, const char *name, json_t *data) {
  sb_session_send(s, json_pack("{s:s, s:o}", "event", name, "data", data ? data : json_object()));
}

int sb_session_on_writable(sb_session_t *s) {
  sb_frame_t *f = s->txq;
  if (!f && s->close_after_flush) {
    lws_close_reason(s->wsi, (enum lws_close_status)s->close_code, NULL, 0);
    return -1;
  }
  if (f) {
    s->txq = f->next;
    if (!s->txq)
      s->txq_tail = NULL;
    s->txq_bytes -= f->len;
    int n = lws_write(s->wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT);
    free(f);
    if (n < 0)
      return -1;
  }
  if (s->txq || s->close_after_flush)
    lws_callback_on_writable(s->wsi);
  return 0;
}

/* --- methods --- */

static void sb_admission_on_connect_session(sb_session_t *s) { sb_admission_on_connect(s->app, s); }

static int m_auth(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  const char *token = json_string_value(json_object_get(params, "token"));
  const char *resume = json_string_value(json_object_get(params, "resume"));
  sb_token_claims_t c;
  if (s->authed)
    return sb_rpc_fail(err, "conflict", "already authenticated");
  if (!token)
    return sb_rpc_fail(err, "unauthenticated", "missing token");
  int rc = sb_token_verify(s->app->secret, s->app->secret_len, token, (int64_t)(sb_wall_ms() / 1000), &c);
  if (rc != 0) {
    sb_info(NULL, "auth refused: %s", sb_token_strerror(rc));
    return sb_rpc_fail(err, "unauthenticated", "%s", sb_token_strerror(rc));
  }
  sb_session_t *old = resume ? find_resumable(s->app, &c, resume) : NULL;
  int same = 0;
  for (sb_session_t *o = s->app->sessions; o; o = o->next)
    same += o != old && o->authed && strcmp(o->who.tenant, c.tenant) == 0 &&
            strcmp(o->who.user, c.user) == 0;
  if (same >= s->app->cfg.max_conns_per_user) {
    s->app->ws_refused_user++;
    sb_info(NULL, "auth refused: %s/%s has %d connections (max-conns-per-user)", c.tenant, c.user,
            same);
    OPENSSL_cleanse(&c, sizeof c);
    s->close_after_flush = 1; /* after this answer, with 1008 */
    s->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
    return sb_rpc_fail(err, "limit_exceeded", "this user has %d connections open (the most allowed)",
                       same);
  }
  s->authed = 1;
  lws_set_timeout(s->wsi, NO_PENDING_TIMEOUT, 0);
  s->who = c;
  snprintf(s->ctx, sizeof s->ctx, "%s/%s", c.tenant, c.user);
  if (old) {
    adopt(s, old); /* the connections the user has were told about when it first connected */
    sb_info(s->ctx, "authenticated; session resumed");
  } else {
    sb_info(s->ctx, "authenticated");
    s->after_reply = sb_admission_on_connect_session;
  }
  *result = json_pack("{s:{s:s, s:s, s:s, s:b}}", "user", "id", c.user, "tenant", c.tenant, "name",
                      c.name[0] ? c.name : c.user, "admin", c.admin);
  if (resume)
    json_object_set_new(*result, "resumed", json_boolean(old != NULL));
  uint8_t rnd[32];
  if (s->app->cfg.resume_grace_s > 0 && sb_random_bytes(rnd, sizeof rnd) == 0) {
    sb_hex(rnd, sizeof rnd, s->resume_token);
    OPENSSL_cleanse(rnd, sizeof rnd);
    json_object_set_new(*result, "resume", json_pack("{s:s, s:i}", "token", s->resume_token,
                                                      "grace_s", s->app->cfg.resume_grace_s));
  }
  /* TURN credentials for this user, in RTCPeerConnection's iceServers form (only with TURN). */
  json_t *ice =
      sb_turn_ice_servers(&s->app->turn, c.tenant, c.user, (int64_t)(sb_wall_ms() / 1000));
  if (ice)
    json_object_set_new(*result, "ice_servers", ice);
  return 0;
}

static int m_ping(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  *result = json_pack("{s:I}", "time", (json_int_t)sb_wall_ms());
  return 0;
}

typedef struct {
  const char *name;
  sb_method_fn fn;
  int needs_auth;
} sb_method_t;

static const sb_method_t methods[] = {
    {"auth", m_auth, 0},
    {"ping", m_ping, 1},
    {"call.join", sb_call_m_join, 1},
    {"call.answer", sb_call_m_answer, 1},
    {"call.candidate", sb_call_m_candidate, 1},
    {"call.leave", sb_call_m_leave, 1},
    {"call.mute", sb_call_m_mute, 1},
    {"call.prefer", sb_call_m_prefer, 1},
    {"call.restart_ice", sb_call_m_restart_ice, 1},
};

static void reply(sb_session_t *s, json_t *id, json_t *result, const sb_rpc_error_t *err) {
  json_t *msg;
  if (err && err->data)
    msg = json_pack("{s:O, s:{s:s, s:s, s:O}}", "id", id ? id : json_null(), "error", "code",
                    err->code, "message", err->message, "data", err->data);
  else if (err)
    msg = json_pack("{s:O, s:{s:s, s:s}}", "id", id ? id : json_null(), "error", "code", err->code,
                    "message", err->message);
  else
    msg = json_pack("{s:O, s:o}", "id", id ? id : json_null(), "result", result ? result : json_object());
  sb_session_send(s, msg);
}

static int valid_id(json_t *id) {
  return json_is_integer(id) || (json_is_string(id) && json_string_length(id) <= 64);
}

static void run_after_reply(sb_session_t *s) {
  if (s->after_reply) {
    void (*fn)(sb_session_t *) = s->after_reply;
    s->after_reply = NULL;
    fn(s);
  }
}

static int dispatch(sb_session_t *s, const char *method, json_t *params, json_t **result,
                    sb_rpc_error_t *err) {
  const sb_method_t *m = NULL;
  for (size_t i = 0; i < SB_ARRAY_SIZE(methods); i++)
    if (strcmp(methods[i].name, method) == 0)
      m = &methods[i];
  if (s->app->stopping) /* nothing new is started or changed while the server drains */
    return sb_rpc_fail(err, "unavailable", "the server is shutting down");
  if (!m && s->authed)
    return sb_call_dispatch_api(s, method, params, result, err);
  if (!m || (m->needs_auth && !s->authed))
    return sb_rpc_fail(err, "unauthenticated", "authenticate first");
  return m->fn(s, params, result, err);
}

/* The log request id of a frame: the session and the client's id, so that every line logged
 * while the request is handled (here, on the DB thread, in its completion, and the relay events
 * of a call it joined) can be found with one search. */
static void set_request(sb_session_t *s, json_t *id) {
  if (json_is_integer(id))
    snprintf(s->request, sizeof s->request, "S%llu.%lld", (unsigned long long)s->id,
             (long long)json_integer_value(id));
  else if (json_is_string(id))
    snprintf(s->request, sizeof s->request, "S%llu.%.40s", (unsigned long long)s->id,
             json_string_value(id));
  else
    snprintf(s->request, sizeof s->request, "S%llu.-", (unsigned long long)s->id);
  sb_log_set_request(s->request);
}

static void handle_frame(sb_session_t *s, const char *data, size_t len) {
  json_error_t jerr;
  sb_rpc_error_t err = {0};
  json_t *result = NULL;
  json_t *msg = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
  json_t *id = msg ? json_object_get(msg, "id") : NULL;
  const char *method = msg ? json_string_value(json_object_get(msg, "method")) : NULL;
  json_t *params = msg ? json_object_get(msg, "params") : NULL;
  char outer[64]; /* the request whose completion resumed this session, if any */
  snprintf(outer, sizeof outer, "%s", sb_log_request());
  set_request(s, id && valid_id(id) ? id : NULL);
  if (!msg || !json_is_object(msg)) {
    sb_rpc_fail(&err, "bad_request", "frame is not a JSON object");
    reply(s, NULL, NULL, &err);
    goto Exit;
  }
  if (id && !valid_id(id))
    id = NULL;
  if (!method || (params && !json_is_object(params))) {
    sb_rpc_fail(&err, "bad_request", !method ? "missing method" : "params must be an object");
    reply(s, id, NULL, &err);
    goto Exit;
  }
  if (!params)
    params = json_object(), json_object_set_new(msg, "params", params);
  int rc = dispatch(s, method, params, &result, &err);
  if (rc == SB_RPC_PENDING) {
    sb_debug(SB_DBG_SIG, s->ctx, "%s -> waits on the database", method);
    s->pending_id = json_incref(id ? id : json_null());
    sb_session_suspend(s);
    goto Exit;
  }
  sb_debug(SB_DBG_SIG, s->ctx, "%s -> %s", method, rc == 0 ? "ok" : err.code);
  reply(s, id, rc == 0 ? result : NULL, rc == 0 ? NULL : &err);
  run_after_reply(s);
Exit:
  sb_log_set_request(outer);
  json_decref(msg);
}

/* A suspended session holds its frames, within bounds: a client cannot make the server buffer
 * without limit by sending faster than the database answers. */
static void queue_frame(sb_session_t *s, const char *data, size_t len) {
  sb_rxframe_t *f = NULL;
  if (s->rq_count < SB_SESSION_MAX_QUEUED && s->rq_bytes + len <= SB_SESSION_MAX_QUEUED_BYTES)
    f = malloc(sizeof *f + len);
  if (!f) {
    json_t *msg = json_loadb(data, len, 0, NULL);
    json_t *id = json_object_get(msg, "id");
    sb_rpc_error_t err = {0};
    sb_rpc_fail(&err, "limit_exceeded", "%d requests (or 1 MiB) already wait on this connection",
                SB_SESSION_MAX_QUEUED);
    reply(s, id && valid_id(id) ? id : NULL, NULL, &err);
    json_decref(msg);
    return;
  }
  f->next = NULL;
  f->len = len;
  memcpy(f->data, data, len);
  if (s->rq_tail)
    s->rq_tail->next = f;
  else
    s->rq = f;
  s->rq_tail = f;
  s->rq_count++;
  s->rq_bytes += len;
}

/* Token bucket: max-requests-per-second tokens a second, as many at most. */
static int rate_allows(sb_session_t *s) {
  uint64_t now = sb_now_ms();
  double rate = s->app->cfg.max_requests_per_second;
  s->rate_tokens += (double)(now - s->rate_ms) * rate / 1000.0;
  if (s->rate_tokens > rate)
    s->rate_tokens = rate;
  s->rate_ms = now;
  if (s->rate_tokens < 1.0)
    return 0;
  s->rate_tokens -= 1.0;
  return 1;
}

static void refuse_rate(sb_session_t *s, const char *data, size_t len) {
  json_t *msg = json_loadb(data, len, 0, NULL);
  json_t *id = json_object_get(msg, "id");
  sb_rpc_error_t err = {0};
  s->app->ws_rate_limited++;
  sb_rpc_fail(&err, "rate_limited", "more than %d requests per second on this connection",
              s->app->cfg.max_requests_per_second);
  reply(s, id && valid_id(id) ? id : NULL, NULL, &err);
  json_decref(msg);
}

static int pass_allows(sb_session_t *s) {
  if (!s->app->pass_check.loop)
    return 1; /* no server loop (tests): no passes to spread over */
  if (s->pass != s->app->pass) {
    s->pass = s->app->pass;
    s->pass_frames = 0;
  }
  if (s->pass_frames >= SB_SESSION_PASS_BUDGET)
    return 0;
  s->pass_frames++;
  return 1;
}

static void on_pass_idle(uv_idle_t *h) { sb_session_run_deferred(h->data); }

static void app_deferred(sb_app_t *app, int delta) {
  app->ndeferred += delta;
  if (!app->pass_idle.loop || uv_is_closing((uv_handle_t *)&app->pass_idle))
    return;
  if (app->ndeferred > 0 && !uv_is_active((uv_handle_t *)&app->pass_idle))
    uv_idle_start(&app->pass_idle, on_pass_idle);
  else if (app->ndeferred == 0 && uv_is_active((uv_handle_t *)&app->pass_idle))
    uv_idle_stop(&app->pass_idle);
}

/* Over the pass budget: reading pauses (libwebsockets keeps what it has read) until the held
 * frames have run in later passes. */
static void defer(sb_session_t *s) {
  if (s->deferred)
    return;
  s->deferred = 1;
  s->app->ws_deferred++;
  if (s->wsi)
    lws_rx_flow_control(s->wsi, 0);
  app_deferred(s->app, 1);
}

static void undefer(sb_session_t *s) {
  if (!s->deferred)
    return;
  s->deferred = 0;
  if (s->wsi)
    lws_rx_flow_control(s->wsi, 1);
  app_deferred(s->app, -1);
}

/* Runs queued frames in order within this pass's budget. A suspended session (waiting on the
 * database) reads again and queues, as before; sb_session_complete() brings it back here. */
static void run_queued(sb_session_t *s) {
  while (!s->suspended && s->rq && !s->cut_off) {
    if (!pass_allows(s)) {
      defer(s);
      return;
    }
    sb_rxframe_t *f = s->rq;
    s->rq = f->next;
    if (!s->rq)
      s->rq_tail = NULL;
    s->rq_count--;
    s->rq_bytes -= f->len;
    handle_frame(s, f->data, f->len);
    free(f);
  }
  undefer(s);
}

void sb_session_run_deferred(sb_app_t *app) {
  for (sb_session_t *s = app->sessions; s && app->ndeferred > 0; s = s->next)
    if (s->deferred)
      run_queued(s);
}

void sb_session_on_frame(sb_session_t *s, const char *data, size_t len) {
  if (s->cut_off || s->close_after_flush)
    return;
  if (!rate_allows(s)) {
    refuse_rate(s, data, len);
    return;
  }
  if (s->suspended || s->deferred) {
    queue_frame(s, data, len);
  } else if (!pass_allows(s)) {
    queue_frame(s, data, len);
    defer(s);
  } else {
    handle_frame(s, data, len);
  }
}

void sb_session_suspend(sb_session_t *s) { s->suspended = 1; }

void sb_session_resume(sb_session_t *s) {
  s->suspended = 0;
  run_queued(s);
}

void sb_session_complete(sb_session_t *s, json_t *result, const sb_rpc_error_t *err) {
  json_t *id = s->pending_id;
  char outer[64];
  snprintf(outer, sizeof outer, "%s", sb_log_request());
  s->pending_id = NULL;
  sb_log_set_request(s->request);
  sb_debug(SB_DBG_SIG, s->ctx, "answered after the database: %s", err ? err->code : "ok");
  reply(s, id, err ? NULL : result, err);
  if (err)
    json_decref(result);
  json_decref(id);
  s->suspended = 0;
  run_after_reply(s); /* may suspend s again */
  sb_log_set_request(outer);
  if (!s->suspended)
    sb_session_resume(s);
}

/* Janus's WebSocket API and VideoRoom requests for one bench connection (see
 * janus.h). */
#include "bench/janus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/peer.h"
#include "bench/worker.h"
#include "common/log.h"
#include "common/util.h"

#define KEEPALIVE_US                                                           \
  25000000u /* Janus ends a session after 60 s without a request */
#define PLUGIN "janus.plugin.videoroom"
#define NO_SUCH_FEED 428 /* JANUS_VIDEOROOM_ERROR_NO_SUCH_FEED */
#define FEED_RETRY_US                                                          \
  100000u /* a feed counts once Janus finished its DTLS, a little after ours   \
           */
#define FEED_TRIES 50

typedef struct sb_bench_janus {
  json_int_t session, handle;
  uint64_t next_keepalive_us;
  int answered;           /* a subscriber answered Janus's offer */
  uint64_t join_after_us; /* a subscriber's next join attempt (after "no such
                             feed") */
  int join_tries;
} sb_bench_janus_t;

static void on_open(void *user);
static void on_message(void *user, json_t *msg);
static void on_close(void *user, int code, const char *reason);

static const sb_bench_sig_cb_t janus_cb = {
    on_open, NULL, NULL, on_close, on_message, "janus-protocol"};

uint64_t sb_bench_janus_feed(const sb_bench_peer_t *p) {
  return (uint64_t)p->index + 1;
}

/* The room's number: the bench's random label hashed (FNV-1a) into the integers
 * JSON keeps. */
static json_int_t room_number(const sb_bench_room_t *r) {
  uint64_t h = 1469598103934665603ull;
  for (const char *c = r->id; *c; c++)
    h = (h ^ (uint8_t)*c) * 1099511628211ull;
  return (json_int_t)(h & ((1ull << 52) - 1)) + 1;
}

/* {"janus": what, "transaction": tx, session and handle once known} + `extra`
 * (stolen). */
static void send_janus(sb_bench_peer_t *p, const char *what, const char *tx,
                       json_t *extra) {
  sb_bench_janus_t *j = p->janus;
  json_t *msg = extra ? extra : json_object();
  json_object_set_new(msg, "janus", json_string(what));
  json_object_set_new(msg, "transaction", json_string(tx));
  if (j->session)
    json_object_set_new(msg, "session_id", json_integer(j->session));
  if (j->handle && strcmp(what, "attach") != 0 &&
      strcmp(what, "keepalive") != 0 && strcmp(what, "destroy") != 0)
    json_object_set_new(msg, "handle_id", json_integer(j->handle));
  if (sb_bench_sig_send(&p->sig, msg) < 0)
    sb_bench_peer_fail(p, "Janus: cannot queue %s", what);
}

/* A VideoRoom request: {"janus": "message", "body": body, "jsep": jsep}; both
 * stolen. */
static void send_body(sb_bench_peer_t *p, const char *tx, json_t *body,
                      json_t *jsep) {
  json_t *extra = json_pack("{s:o}", "body", body);
  if (jsep)
    json_object_set_new(extra, "jsep", jsep);
  send_janus(p, "message", tx, extra);
}

void sb_bench_janus_start(sb_bench_peer_t *p) {
  sb_bench_run_t *run = p->w->run;
  if (!p->janus && !(p->janus = calloc(1, sizeof *p->janus))) {
    sb_bench_peer_fail(p, "out of memory");
    return;
  }
  memset(p->janus, 0, sizeof *p->janus);
  sb_bench_peer_set_state(p, SB_PEER_CONNECTING);
  if (sb_bench_sig_connect(&p->sig, p->w->lws, &run->url, &janus_cb, p,
                           p->user) < 0)
    sb_bench_peer_fail(p, "WebSocket connect to Janus at %s:%d failed",
                       run->url.host, run->url.port);
}

static void on_open(void *user) {
  sb_bench_peer_t *p = user;
  p->t_ws_open = sb_now_us();
  p->janus->next_keepalive_us = p->t_ws_open + KEEPALIVE_US;
  sb_bench_peer_set_state(p, SB_PEER_AUTH);
  send_janus(p, "create", "create", NULL);
}

static int publishers_of(const sb_bench_room_t *r, const sb_bench_run_t *run) {
  int n = 0;
  for (int i = r->first; i < r->first + r->count; i++)
    n += !run->peers[i].receive_only;
  return n;
}

/* The room's first connection creates it (a publisher in every scenario); the
 * others wait. */
static void create_room(sb_bench_peer_t *p) {
  const sb_bench_run_t *run = p->w->run;
  sb_bench_room_t *r = p->room;
  sb_bench_peer_set_state(p, SB_PEER_ROOM);
  if (p->index != r->first)
    return;
  send_body(p, "room",
            json_pack("{s:s,s:I,s:s,s:i,s:s,s:s,s:i,s:b,s:b}", "request",
                      "create", "room", room_number(r), "description", r->id,
                      "publishers", publishers_of(r, run), "audiocodec", "opus",
                      "videocodec", "vp8", "bitrate", 0, "permanent", 0,
                      "transport_wide_cc_ext", run->cfg->twcc),
            NULL);
}

static void on_room_created(sb_bench_peer_t *p, json_t *data) {
  sb_bench_room_t *r = p->room;
  json_t *code = json_object_get(data, "error_code");
  if (code || !json_is_integer(json_object_get(data, "room"))) {
    const char *why = json_string_value(json_object_get(data, "error"));
    snprintf(r->error, sizeof r->error, "VideoRoom create refused (%d: %.180s)",
             (int)json_integer_value(code), why ? why : "no room in the reply");
    atomic_store_explicit(&r->ready, -1, memory_order_release);
    sb_bench_peer_fail(p, "%s", r->error);
    return;
  }
  snprintf(r->server_id, sizeof r->server_id, "%lld",
           (long long)room_number(r));
  atomic_store_explicit(&r->ready, 1, memory_order_release);
}

static void join_publisher(sb_bench_peer_t *p) {
  sb_bench_worker_t *w = p->w;
  int len;
  if (p->fd < 0 && sb_bench_peer_socket_open(p) < 0) {
    sb_bench_peer_fail(p, "UDP socket: %s", p->error[0] ? p->error : "failed");
    return;
  }
  len = sb_bench_offer_write(&p->local, w->scratch, w->sdpbuf, w->sdpcap);
  if (len < 0) {
    sb_bench_peer_fail(p, "offer does not fit");
    return;
  }
  p->t_join_sent = sb_now_us();
  sb_bench_peer_set_state(p, SB_PEER_JOINING);
  send_body(
      p, "join",
      json_pack("{s:s,s:s,s:I,s:I,s:s}", "request", "joinandconfigure", "ptype",
                "publisher", "room", room_number(p->room), "id",
                (json_int_t)sb_bench_janus_feed(p), "display", p->user),
      json_pack("{s:s,s:s%}", "type", "offer", "sdp", w->sdpbuf, (size_t)len));
}

/* A subscriber joins once every other publisher of its room has media (or has
 * failed): Janus offers only the streams a feed publishes at that moment. 1
 * when joined, 0 to wait. */
static int join_subscriber(sb_bench_peer_t *p) {
  const sb_bench_run_t *run = p->w->run;
  const sb_bench_room_t *r = p->room;
  json_t *streams = json_array();
  for (int i = r->first; i < r->first + r->count; i++) {
    const sb_bench_peer_t *o = &run->peers[i];
    if (o->receive_only || o == p->own_pub)
      continue;
    if (!atomic_load_explicit(&o->t_media_start, memory_order_relaxed)) {
      if (o->state == SB_PEER_FAILED || o->state == SB_PEER_DONE)
        continue;
      json_decref(streams);
      return 0;
    }
    json_array_append_new(
        streams,
        json_pack("{s:I}", "feed", (json_int_t)sb_bench_janus_feed(o)));
  }
  if (json_array_size(streams) == 0) {
    json_decref(streams);
    sb_bench_peer_fail(p, "no publisher of the room reached media");
    return 1;
  }
  if (p->fd < 0 && sb_bench_peer_socket_open(p) < 0) {
    json_decref(streams);
    sb_bench_peer_fail(p, "UDP socket: %s", p->error[0] ? p->error : "failed");
    return 1;
  }
  if (!p->t_join_sent) /* the join time includes attempts that found no feed yet
                        */
    p->t_join_sent = sb_now_us();
  p->late_joiner =
      1; /* its publishers are sending: the join measures time to media */
  sb_bench_peer_set_state(p, SB_PEER_JOINING);
  send_body(p, "join",
            json_pack("{s:s,s:s,s:I,s:b,s:b,s:o}", "request", "join", "ptype",
                      "subscriber", "room", room_number(p->room), "use_msid", 1,
                      "autoupdate", 0, "streams", streams),
            NULL);
  return 1;
}

/* Our candidate is in the SDP: tell Janus that no more will trickle. */
static void end_of_candidates(sb_bench_peer_t *p) {
  send_janus(p, "trickle", "trickle",
             json_pack("{s:{s:b}}", "candidate", "completed", 1));
}

static void on_answer(sb_bench_peer_t *p, const char *sdp) {
  sb_bench_worker_t *w = p->w;
  char err[200];
  p->t_answer = sb_now_us();
  if (sb_bench_answer_read(sdp, strlen(sdp), w->scratch, &p->answer, err,
                           sizeof err) < 0) {
    sb_bench_peer_fail(p, "Janus answer: %s", err);
    return;
  }
  if (p->answer.setup != SB_SETUP_PASSIVE) {
    sb_bench_peer_fail(p, "Janus answer has a=setup %d, expected passive",
                       p->answer.setup);
    return;
  }
  if ((p->publish_audio && p->answer.audio_pt < 0) ||
      (p->publish_video && p->answer.video_pt < 0)) {
    sb_bench_peer_fail(p, "Janus answer rejected our %s m-line",
                       p->answer.audio_pt < 0 ? "audio" : "video");
    return;
  }
  atomic_fetch_add(&w->n_joined, 1);
  end_of_candidates(p);
  sb_bench_peer_set_state(p, SB_PEER_ICE);
  if (sb_bench_peer_ice_begin(p, p->t_answer) < 0)
    sb_bench_peer_fail(p, "ICE: %s", p->error[0] ? p->error : "cannot start");
}

/* Janus names a stream's publisher by its feed id in a=msid (use_msid): the
 * bench's user. */
static void name_senders(sb_bench_peer_t *p, sb_bench_offered_t *st, int n) {
  const sb_bench_run_t *run = p->w->run;
  for (int i = 0; i < n; i++) {
    char *end;
    unsigned long long feed = strtoull(st[i].from_user, &end, 10);
    if (end != st[i].from_user && *end == '\0' && feed >= 1 &&
        feed <= (unsigned long long)run->npeers)
      snprintf(st[i].from_user, sizeof st[i].from_user, "%s",
               run->peers[feed - 1].user);
  }
}

static void on_offer(sb_bench_peer_t *p, const char *sdp) {
  sb_bench_worker_t *w = p->w;
  sb_bench_answer_t none;
  sb_bench_offered_t streams[64];
  char err[200];
  int n = 0, len;
  p->offers++;
  if (p->janus->answered) {
    sb_warn(p->user,
            "Janus re-offered; the bench answers only the first offer");
    return;
  }
  p->t_answer = sb_now_us();
  if (sb_bench_answer_read(sdp, strlen(sdp), w->scratch, &p->answer, err,
                           sizeof err) < 0) {
    sb_bench_peer_fail(p, "Janus offer: %s", err);
    return;
  }
  memset(&none, 0, sizeof none); /* a subscriber has none of its own m-lines */
  p->local.session_version++;
  len = sb_bench_answer_write(&p->local, &none, sdp, strlen(sdp), w->scratch,
                              w->sdpbuf, w->sdpcap, streams,
                              (int)SB_ARRAY_SIZE(streams), &n, err, sizeof err);
  if (len < 0) {
    sb_bench_peer_fail(p, "cannot answer Janus's offer: %s", err);
    return;
  }
  name_senders(p, streams, n);
  sb_bench_peer_add_streams(p, streams, n);
  p->janus->answered = 1;
  p->answers++;
  send_body(
      p, "start", json_pack("{s:s}", "request", "start"),
      json_pack("{s:s,s:s%}", "type", "answer", "sdp", w->sdpbuf, (size_t)len));
  end_of_candidates(p);
  atomic_fetch_add(&w->n_joined, 1);
  sb_bench_peer_set_state(p, SB_PEER_ICE);
  if (sb_bench_peer_ice_begin(p, p->t_answer) < 0)
    sb_bench_peer_fail(p, "ICE: %s", p->error[0] ? p->error : "cannot start");
}

static void on_plugin_event(sb_bench_peer_t *p, json_t *msg) {
  json_t *data = json_object_get(json_object_get(msg, "plugindata"), "data");
  json_t *jsep = json_object_get(msg, "jsep");
  const char *type = json_string_value(json_object_get(jsep, "type"));
  const char *sdp = json_string_value(json_object_get(jsep, "sdp"));
  int code = (int)json_integer_value(json_object_get(data, "error_code"));
  if (code == NO_SUCH_FEED && p->receive_only && p->state == SB_PEER_JOINING &&
      ++p->janus->join_tries < FEED_TRIES) {
    p->janus->join_after_us = sb_now_us() + FEED_RETRY_US;
    sb_bench_peer_set_state(p,
                            SB_PEER_ROOM); /* sb_bench_janus_tick joins again */
    return;
  }
  if (json_object_get(data, "error_code")) {
    const char *why = json_string_value(json_object_get(data, "error"));
    sb_bench_peer_fail(
        p, "VideoRoom refused (%d: %.180s)",
        (int)json_integer_value(json_object_get(data, "error_code")),
        why ? why : "");
    return;
  }
  if (!type || !sdp || p->state == SB_PEER_LEAVING)
    return;
  if (strcmp(type, "answer") == 0 && !p->receive_only &&
      p->state == SB_PEER_JOINING)
    on_answer(p, sdp);
  else if (strcmp(type, "offer") == 0 && p->receive_only)
    on_offer(p, sdp);
  else
    sb_warn(p->user, "unexpected %s from Janus", type);
}

static void on_success(sb_bench_peer_t *p, const char *tx, json_t *msg) {
  json_t *id = json_object_get(json_object_get(msg, "data"), "id");
  if (strcmp(tx, "create") == 0 && json_is_integer(id)) {
    p->janus->session = json_integer_value(id);
    send_janus(p, "attach", "attach", json_pack("{s:s}", "plugin", PLUGIN));
  } else if (strcmp(tx, "attach") == 0 && json_is_integer(id)) {
    p->janus->handle = json_integer_value(id);
    p->t_auth_ok = sb_now_us();
    create_room(p);
  } else if (strcmp(tx, "room") == 0) {
    on_room_created(
        p, json_object_get(json_object_get(msg, "plugindata"), "data"));
  } else if (strcmp(tx, "destroy") == 0) {
    sb_bench_sig_close(&p->sig);
  } else if (strcmp(tx, "create") == 0 || strcmp(tx, "attach") == 0) {
    sb_bench_peer_fail(p, "Janus: %s succeeded without an id", tx);
  }
}

static void on_message(void *user, json_t *msg) {
  sb_bench_peer_t *p = user;
  const char *what = json_string_value(json_object_get(msg, "janus"));
  const char *tx = json_string_value(json_object_get(msg, "transaction"));
  if (!what) {
    sb_warn(p->user, "Janus frame without \"janus\"");
  } else if (strcmp(what, "success") == 0) {
    on_success(p, tx ? tx : "", msg);
  } else if (strcmp(what, "error") == 0) {
    json_t *e = json_object_get(msg, "error");
    const char *why = json_string_value(json_object_get(e, "reason"));
    if (p->state ==
        SB_PEER_LEAVING) /* e.g. the session went away with the connection */
      sb_bench_sig_close(&p->sig);
    else
      sb_bench_peer_fail(p, "Janus error %d in %s: %.160s",
                         (int)json_integer_value(json_object_get(e, "code")),
                         tx ? tx : "?", why ? why : "");
  } else if (strcmp(what, "event") == 0) {
    on_plugin_event(p, msg);
  } else if (strcmp(what, "webrtcup") == 0) {
    p->t_connected_event = sb_now_us();
  } else if (strcmp(what, "hangup") == 0 || strcmp(what, "timeout") == 0) {
    const char *why = json_string_value(json_object_get(msg, "reason"));
    p->ended_by_server = 1;
    snprintf(p->end_reason, sizeof p->end_reason, "%s", why ? why : what);
    if (p->state != SB_PEER_LEAVING)
      sb_bench_peer_fail(p, "Janus %s (%s)", what, p->end_reason);
  }
  /* ack, media, slowlink, detached: nothing to do */
}

static void on_close(void *user, int code, const char *reason) {
  sb_bench_peer_t *p = user;
  if (p->state == SB_PEER_LEAVING || p->state == SB_PEER_FAILED) {
    if (p->state == SB_PEER_LEAVING)
      sb_bench_peer_set_state(p, SB_PEER_DONE);
    sb_bench_peer_close(p);
    return;
  }
  sb_bench_peer_fail(p, "WebSocket closed by Janus (%d%s%s)", code,
                     reason[0] ? ": " : "", reason);
}

void sb_bench_janus_tick(sb_bench_peer_t *p, uint64_t now_us) {
  sb_bench_janus_t *j = p->janus;
  sb_bench_room_t *r = p->room;
  if (j->session && p->sig.open && now_us >= j->next_keepalive_us &&
      p->state != SB_PEER_LEAVING) {
    j->next_keepalive_us = now_us + KEEPALIVE_US;
    send_janus(p, "keepalive", "keepalive", NULL);
  }
  if (p->state != SB_PEER_ROOM)
    return;
  int ready = atomic_load_explicit(&r->ready, memory_order_acquire);
  if (ready < 0) {
    sb_bench_peer_fail(p, "room not created: %s", r->error);
    return;
  }
  if (ready == 0 || now_us < j->join_after_us)
    return;
  if (!p->t_room_ready)
    p->t_room_ready = now_us;
  if (p->receive_only)
    (void)join_subscriber(p);
  else
    join_publisher(p);
}

void sb_bench_janus_leave(sb_bench_peer_t *p) {
  if (p->janus->session && p->sig.open)
    send_janus(p, "destroy", "destroy", NULL);
  else
    sb_bench_sig_close(&p->sig);
}

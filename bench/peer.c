/* A participant's life cycle and its signaling: auth, call.join with the offer, the server's
 * answer, call.offer/call.answer renegotiation, events, leave. */
#include "bench/peer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/janus.h"
#include "bench/worker.h"
#include "common/log.h"
#include "common/util.h"

static void on_open(void *user);
static void on_reply(void *user, long long id, json_t *result, json_t *error);
static void on_event(void *user, const char *event, json_t *data);
static void on_close(void *user, int code, const char *reason);

static const sb_bench_sig_cb_t sig_cb = {on_open, on_reply, on_event, on_close, NULL, NULL};

void sb_bench_peer_set_state(sb_bench_peer_t *p, sb_peer_state_t st) {
  sb_bench_worker_t *w = p->w;
  if (p->state == st)
    return;
  if (st == SB_PEER_MEDIA)
    atomic_fetch_add(&w->n_media, 1);
  else if (p->state == SB_PEER_MEDIA)
    atomic_fetch_sub(&w->n_media, 1);
  if (st == SB_PEER_FAILED)
    atomic_fetch_add(&w->n_failed, 1);
  p->state = st;
}

void sb_bench_peer_fail(sb_bench_peer_t *p, const char *fmt, ...) {
  va_list ap;
  if (p->state == SB_PEER_FAILED || p->state == SB_PEER_DONE)
    return;
  va_start(ap, fmt);
  vsnprintf(p->error, sizeof p->error, fmt, ap);
  va_end(ap);
  sb_bench_peer_set_state(p, SB_PEER_FAILED);
  sb_bench_peer_close(p);
}

static void poll_closed(uv_handle_t *h) {
  sb_bench_peer_t *p = h->data;
  if (p->fd >= 0)
    close(p->fd);
  p->fd = -1;
}

void sb_bench_peer_close(sb_bench_peer_t *p) {
  if (p->poll_active) {
    p->poll_active = 0;
    uv_poll_stop(&p->poll);
    /* the fd is closed once libuv has let go of the handle */
    uv_close((uv_handle_t *)&p->poll, poll_closed);
  } else if (p->fd >= 0) {
    close(p->fd);
    p->fd = -1;
  }
  if (p->sig.live)
    sb_bench_sig_close(&p->sig);
  sb_bench_dtls_free(&p->dtls);
  sb_bench_srtp_free(&p->srtp);
  p->srtp_ready = 0;
}

int sb_bench_peer_finished(const sb_bench_peer_t *p) {
  if (p->state == SB_PEER_IDLE)
    return 1;
  if (p->state != SB_PEER_DONE && p->state != SB_PEER_FAILED)
    return 0;
  /* wait for the WebSocket and the poll handle to be gone */
  return !p->sig.live && !p->poll_active && p->fd < 0;
}

/* --baseline: the socket, keys, answer and streams were set up by the wiring; media starts now.
 * The join times then measure only the wait for the first packet. */
static void start_baseline(sb_bench_peer_t *p, uint64_t now_us) {
  p->t_join_sent = p->t_answer = p->t_ice_done = p->t_dtls_done = now_us;
  sb_bench_peer_set_state(p, SB_PEER_MEDIA);
  sb_bench_peer_media_begin(p, now_us);
}

void sb_bench_peer_start(sb_bench_peer_t *p, uint64_t now_us) {
  sb_bench_local_t *l = &p->local;
  sb_bench_run_t *run = p->w->run;
  p->t_start = now_us;
  if (run->baseline) {
    start_baseline(p, now_us);
    return;
  }
  p->fd = -1;
  memset(l, 0, sizeof *l);
  snprintf(l->user, sizeof l->user, "%s", p->user);
  if (sb_random_ice_string(l->ufrag, 8) < 0 || sb_random_ice_string(l->pwd, 24) < 0 ||
      sb_random_ice_string(l->cname, 16) < 0) {
    sb_bench_peer_fail(p, "random: no entropy");
    return;
  }
  l->fingerprint = run->cert.fingerprint;
  l->audio = p->publish_audio || p->receive_only;
  l->video = p->publish_video || (p->receive_only && !run->cfg->audio_only);
  l->receive_only = p->receive_only;
  l->audio_ssrc = sb_random_u32();
  l->video_ssrc = sb_random_u32();
  if (p->publish_video && run->clip->nlayers > 1)
    for (int i = 0; i < run->clip->nlayers && i < SB_BENCH_MAX_RIDS; i++)
      snprintf(l->rids[l->nrids++], sizeof l->rids[0], "%s", run->clip->layers[i].rid);
  l->twcc = run->cfg->twcc;
  if (l->twcc && !p->twcc && !(p->twcc = malloc(sizeof *p->twcc))) {
    sb_bench_peer_fail(p, "out of memory");
    return;
  }
  if (p->twcc)
    sb_twcc_init(p->twcc);
  l->session_id = ((uint64_t)sb_random_u32() << 20) ^ sb_random_u32();
  l->session_version = 1;
  snprintf(l->ip, sizeof l->ip, "%s", run->cfg->local_ip);
  p->rtcp_ssrc = sb_random_u32();
  if (run->cfg->janus) { /* Janus's API instead of ours (bench/janus.c) */
    l->full_ice_peer = 1;
    sb_bench_janus_start(p);
    return;
  }
  sb_bench_peer_set_state(p, SB_PEER_CONNECTING);
  if (sb_bench_sig_connect(&p->sig, p->w->lws, &run->url, &sig_cb, p, p->user) < 0)
    sb_bench_peer_fail(p, "WebSocket connect to %s:%d failed", run->url.host, run->url.port);
}

static void on_open(void *user) {
  sb_bench_peer_t *p = user;
  json_t *params = json_pack("{s:s}", "token", p->token);
  p->t_ws_open = sb_now_us();
  p->auth_id = sb_bench_sig_request(&p->sig, "auth", params);
  sb_bench_peer_set_state(p, SB_PEER_AUTH);
}

/* Was anybody else in the room publishing already? Then this join measures time to media. */
static int room_has_media(const sb_bench_peer_t *p) {
  const sb_bench_run_t *run = p->w->run;
  const sb_bench_room_t *r = p->room;
  for (int i = r->first; i < r->first + r->count; i++) {
    const sb_bench_peer_t *o = &run->peers[i];
    if (o != p && (o->publish_audio || o->publish_video) &&
        atomic_load_explicit(&o->t_media_start, memory_order_relaxed) != 0)
      return 1;
  }
  return 0;
}

static void send_join(sb_bench_peer_t *p) {
  sb_bench_worker_t *w = p->w;
  json_t *params;
  int len;
  /* after a redirect the UDP socket (and so the offer's port) is the first attempt's */
  if (p->fd < 0 && sb_bench_peer_socket_open(p) < 0) {
    sb_bench_peer_fail(p, "UDP socket: %s", p->error[0] ? p->error : "failed");
    return;
  }
  len = sb_bench_offer_write(&p->local, w->scratch, w->sdpbuf, w->sdpcap);
  if (len < 0) {
    sb_bench_peer_fail(p, "offer does not fit");
    return;
  }
  params = json_pack("{s:s,s:s%}", "room", p->room_id, "sdp", w->sdpbuf, (size_t)len);
  p->late_joiner = room_has_media(p);
  if (!p->join_hops)
    p->t_join_sent = sb_now_us(); /* join times include the redirects followed */
  p->join_id = sb_bench_sig_request(&p->sig, "call.join", params);
  sb_bench_peer_set_state(p, SB_PEER_JOINING);
}

/* The creator asks for the room; the others wait for its id (sb_bench_peer_tick polls). */
static void create_room(sb_bench_peer_t *p) {
  sb_bench_room_t *r = p->room;
  const sb_bench_run_t *run = p->w->run;
  json_t *params;
  sb_bench_peer_set_state(p, SB_PEER_ROOM);
  if (p->index != r->first)
    return;
  if (r->kind == 0) {
    params = json_pack("{s:s}", "user", run->peers[r->first + 1].user);
    p->room_id_req = sb_bench_sig_request(&p->sig, "contacts.add", params);
    return;
  }
  json_t *members = json_array();
  for (int i = r->first + 1; i < r->first + r->count; i++)
    json_array_append_new(members, json_pack("{s:s}", "user", run->peers[i].user));
  params = json_pack("{s:s,s:s,s:o}", "name", r->id, "description", "switchboard-bench", "members",
                     members);
  p->room_id_req = sb_bench_sig_request(&p->sig, "rooms.create", params);
}

static void on_room_result(sb_bench_peer_t *p, json_t *result, json_t *error, const char *why) {
  sb_bench_room_t *r = p->room;
  const char *id = json_string_value(json_object_get(json_object_get(result, "room"), "id"));
  if (error || !id || strlen(id) >= sizeof r->server_id) {
    snprintf(r->error, sizeof r->error, "%s refused (%.200s)",
             r->kind == 0 ? "contacts.add" : "rooms.create", error ? why : "no room id");
    atomic_store_explicit(&r->ready, -1, memory_order_release);
    sb_bench_peer_fail(p, "%s", r->error);
    return;
  }
  snprintf(r->server_id, sizeof r->server_id, "%s", id);
  atomic_store_explicit(&r->ready, 1, memory_order_release);
}

static void describe_error(json_t *error, char *out, size_t cap) {
  const char *code = json_string_value(json_object_get(error, "code"));
  const char *msg = json_string_value(json_object_get(error, "message"));
  snprintf(out, cap, "%s: %s", code ? code : "?", msg ? msg : "");
}

/* --prefer: every participant that receives video says, once joined, how large it wants it. */
static void send_prefer(sb_bench_peer_t *p) {
  const sb_bench_config_t *cfg = p->w->run->cfg;
  int receives_video = p->receive_only || p->room->kind != 2;
  if (!cfg->prefer || !receives_video)
    return;
  p->prefer_id = sb_bench_sig_request(&p->sig, "call.prefer",
                                      json_pack("{s:i,s:i}", "max_width", cfg->prefer_w, "max_height",
                                                cfg->prefer_h));
}

static void on_join_result(sb_bench_peer_t *p, json_t *result) {
  sb_bench_worker_t *w = p->w;
  const char *sdp = json_string_value(json_object_get(result, "sdp"));
  char err[200];
  json_t *rev = json_object_get(result, "revision");
  p->t_answer = sb_now_us();
  if (!sdp) {
    sb_bench_peer_fail(p, "call.join result has no sdp");
    return;
  }
  if (json_is_integer(rev))
    p->offer_revision = (int)json_integer_value(rev);
  snprintf(p->node, sizeof p->node, "%s", json_string_value(json_object_get(result, "node")) ?
           json_string_value(json_object_get(result, "node")) : "");
  if (sb_bench_answer_read(sdp, strlen(sdp), w->scratch, &p->answer, err, sizeof err) < 0) {
    sb_bench_peer_fail(p, "server answer: %s", err);
    return;
  }
  if (!p->answer.ice_lite)
    sb_warn(p->user, "answer has no a=ice-lite (protocol.md says it must)");
  if (p->answer.setup != SB_SETUP_PASSIVE) {
    sb_bench_peer_fail(p, "server answer has a=setup %d, expected passive", p->answer.setup);
    return;
  }
  if (p->publish_audio && p->answer.audio_pt < 0) {
    sb_bench_peer_fail(p, "server answer rejected our audio m-line");
    return;
  }
  if (p->publish_video && p->answer.video_pt < 0) {
    sb_bench_peer_fail(p, "server answer rejected our video m-line");
    return;
  }
  if (sb_bench_answer_check_simulcast(&p->local, &p->answer, err, sizeof err) < 0) {
    sb_bench_peer_fail(p, "server answer did not accept our simulcast: %s", err);
    return;
  }
  atomic_fetch_add(&w->n_joined, 1);
  send_prefer(p);
  sb_bench_peer_set_state(p, SB_PEER_ICE);
  if (sb_bench_peer_ice_begin(p, p->t_answer) < 0)
    sb_bench_peer_fail(p, "ICE: %s", p->error[0] ? p->error : "cannot start");
}

/* A call.join answered "redirect" (docs/protocol.md "Several nodes"): close this socket and, once
 * it is closed, authenticate on data.url and join again. 0, or -1 if it is not to be followed. */
static int follow_redirect(sb_bench_peer_t *p, json_t *error) {
  const char *code = json_string_value(json_object_get(error, "code"));
  const char *url = json_string_value(json_object_get(json_object_get(error, "data"), "url"));
  if (!code || strcmp(code, "redirect") != 0 || !url || p->join_hops >= SB_PEER_MAX_REDIRECTS ||
      sb_bench_url_parse(url, &p->redirect) < 0)
    return -1;
  if (p->redirect.tls && !p->w->run->url.tls)
    return -1; /* the workers set up TLS only for a wss:// --url */
  p->join_hops++;
  p->redirecting = 1;
  sb_bench_peer_set_state(p, SB_PEER_CONNECTING);
  sb_bench_sig_close(&p->sig);
  return 0;
}

static void on_reply(void *user, long long id, json_t *result, json_t *error) {
  sb_bench_peer_t *p = user;
  char why[200];
  if (error)
    describe_error(error, why, sizeof why);
  if (id == p->auth_id) {
    if (error) {
      sb_bench_peer_fail(p, "auth refused (%s)", why);
      return;
    }
    p->t_auth_ok = sb_now_us();
    if (p->join_hops)
      send_join(p); /* on the node a redirect named: the room exists */
    else if (p->w->run->provision)
      create_room(p);
    else
      send_join(p);
  } else if (id == p->room_id_req && p->state == SB_PEER_ROOM) {
    on_room_result(p, result, error, why);
  } else if (id == p->join_id) {
    if (error && follow_redirect(p, error) == 0)
      return;
    if (error)
      sb_bench_peer_fail(p, "call.join refused (%s)", why);
    else
      on_join_result(p, result);
  } else if (id == p->prefer_id) {
    if (error)
      sb_bench_peer_fail(p, "call.prefer refused (%s)", why);
    else
      p->prefer_ok = 1;
  } else if (id == p->leave_id) {
    sb_bench_sig_close(&p->sig);
  } else if (error) {
    /* call.answer refused: the subscription it carried is lost, which the figures will show */
    sb_warn(p->user, "request %lld refused (%s)", id, why);
    if (!p->answers_refused++)
      snprintf(p->refusal, sizeof p->refusal, "call.answer refused (%.160s)", why);
  } else {
    p->answers++;
  }
}

static void on_offer(sb_bench_peer_t *p, json_t *data) {
  sb_bench_worker_t *w = p->w;
  const char *sdp = json_string_value(json_object_get(data, "sdp"));
  json_t *rev = json_object_get(data, "revision");
  sb_bench_offered_t streams[64];
  char err[200];
  int n = 0, len;
  p->offers++;
  if (p->state == SB_PEER_LEAVING || p->state == SB_PEER_DONE || p->state == SB_PEER_FAILED)
    return; /* an offer crossing our call.leave: answering it would only earn not_found */
  if (!sdp || !json_is_integer(rev)) {
    sb_warn(p->user, "call.offer without sdp or revision");
    return;
  }
  p->local.session_version++;
  len = sb_bench_answer_write(&p->local, &p->answer, sdp, strlen(sdp), w->scratch, w->sdpbuf,
                              w->sdpcap, streams, (int)SB_ARRAY_SIZE(streams), &n, err, sizeof err);
  if (len < 0) {
    sb_warn(p->user, "cannot answer call.offer: %s", err);
    snprintf(p->error, sizeof p->error, "call.offer: %s", err);
    return;
  }
  sb_bench_peer_add_streams(p, streams, n);
  p->offer_revision = (int)json_integer_value(rev);
  sb_bench_sig_request(&p->sig, "call.answer",
                       json_pack("{s:I,s:s%}", "revision", (json_int_t)p->offer_revision, "sdp",
                                 w->sdpbuf, (size_t)len));
}

static void on_event(void *user, const char *event, json_t *data) {
  sb_bench_peer_t *p = user;
  if (strcmp(event, "call.offer") == 0) {
    on_offer(p, data);
  } else if (strcmp(event, "call.connected") == 0) {
    p->t_connected_event = sb_now_us();
  } else if (strcmp(event, "call.ended") == 0) {
    const char *r = json_string_value(json_object_get(data, "reason"));
    p->ended_by_server = 1;
    snprintf(p->end_reason, sizeof p->end_reason, "%s", r ? r : "?");
    if (p->state != SB_PEER_LEAVING)
      sb_bench_peer_fail(p, "call.ended by the server (%s)", p->end_reason);
  } else if (strcmp(event, "bench.bad_frame") == 0) {
    sb_warn(p->user, "server sent a frame that is not a JSON object");
  } else if (strcmp(event, "bench.unsolicited") == 0) {
    char *text = json_dumps(data, JSON_COMPACT);
    sb_warn(p->user, "unsolicited frame: %.200s", text ? text : "?");
    free(text);
  }
}

static void on_close(void *user, int code, const char *reason) {
  sb_bench_peer_t *p = user;
  if (p->redirecting && p->state == SB_PEER_CONNECTING) {
    p->redirecting = 0;
    sb_bench_sig_free(&p->sig);
    if (sb_bench_sig_connect(&p->sig, p->w->lws, &p->redirect, &sig_cb, p, p->user) < 0)
      sb_bench_peer_fail(p, "WebSocket connect to %s:%d (redirect) failed", p->redirect.host,
                         p->redirect.port);
    return;
  }
  if (p->state == SB_PEER_LEAVING || p->state == SB_PEER_FAILED) {
    if (p->state == SB_PEER_LEAVING)
      sb_bench_peer_set_state(p, SB_PEER_DONE);
    sb_bench_peer_close(p);
    return;
  }
  sb_bench_peer_fail(p, "WebSocket closed by the server (%d%s%s)", code, reason[0] ? ": " : "",
                     reason);
}

void sb_bench_peer_stop(sb_bench_peer_t *p) {
  switch (p->state) {
  case SB_PEER_IDLE:
  case SB_PEER_DONE:
  case SB_PEER_FAILED:
  case SB_PEER_LEAVING:
    return;
  case SB_PEER_CONNECTING:
  case SB_PEER_AUTH:
  case SB_PEER_ROOM:
    sb_bench_peer_set_state(p, SB_PEER_LEAVING);
    sb_bench_peer_close(p);
    return;
  default:
    if (p->w->run->baseline) { /* nothing to leave: no signaling */
      sb_bench_peer_set_state(p, SB_PEER_DONE);
      sb_bench_peer_close(p);
      return;
    }
    sb_bench_peer_set_state(p, SB_PEER_LEAVING);
    if (p->janus)
      sb_bench_janus_leave(p);
    else
      p->leave_id = sb_bench_sig_request(&p->sig, "call.leave", NULL);
    /* media stops now; the WebSocket closes when the leave is answered */
    if (p->poll_active) {
      p->poll_active = 0;
      uv_poll_stop(&p->poll);
      uv_close((uv_handle_t *)&p->poll, poll_closed);
    }
    return;
  }
}

/* Joins once the room's creator has published its id. */
static void poll_room(sb_bench_peer_t *p, uint64_t now_us) {
  sb_bench_room_t *r = p->room;
  int ready = atomic_load_explicit(&r->ready, memory_order_acquire);
  if (ready == 0)
    return;
  if (ready < 0) {
    sb_bench_peer_fail(p, "room not created: %s", r->error);
    return;
  }
  snprintf(p->room_id, sizeof p->room_id, "%s", r->server_id);
  p->t_room_ready = now_us;
  send_join(p);
}

void sb_bench_peer_tick(sb_bench_peer_t *p, uint64_t now_us, int sending) {
  if (p->janus)
    sb_bench_janus_tick(p, now_us);
  switch (p->state) {
  case SB_PEER_ROOM:
    if (!p->janus)
      poll_room(p, now_us);
    break;
  case SB_PEER_ICE:
  case SB_PEER_DTLS:
    sb_bench_peer_net_tick(p, now_us);
    break;
  case SB_PEER_MEDIA:
    if (!p->w->run->baseline) /* no ICE consent with the baseline */
      sb_bench_peer_net_tick(p, now_us);
    sb_bench_peer_media_tick(p, now_us, sending);
    break;
  default:
    break;
  }
}

void sb_bench_peer_release(sb_bench_peer_t *p) {
  for (int i = 0; i < p->nrx; i++)
    sb_vp8_decoder_destroy(p->rx[i].dec);
  free(p->rx);
  free(p->rx_ssrcs);
  free(p->twcc);
  p->twcc = NULL;
  free(p->janus);
  p->janus = NULL;
  p->rx = NULL;
  p->rx_ssrcs = NULL;
  p->nrx = p->rx_cap = 0;
  sb_bench_sig_free(&p->sig);
  free(p->token);
  p->token = NULL;
}

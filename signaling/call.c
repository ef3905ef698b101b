#include "signaling/call.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/admission.h"
#include "signaling/api_client.h"
#include "signaling/dbq.h"
#include "signaling/model.h"

static int valid_room_id(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n >= SB_ID_LEN)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return 0;
  return 1;
}

static sb_call_room_t *room_get(sb_app_t *app, const char *id, int create) {
  for (sb_call_room_t *r = app->rooms; r; r = r->next)
    if (strcmp(r->id, id) == 0)
      return r;
  if (!create)
    return NULL;
  sb_call_room_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  snprintf(r->id, sizeof r->id, "%s", id);
  /* A room lives on one worker (brief §1); new rooms go round-robin. */
  r->worker = app->next_worker++ % sb_relay_workers(app->relay);
  r->next = app->rooms;
  app->rooms = r;
  return r;
}

static void room_release(sb_app_t *app, sb_call_room_t *r) {
  if (r->count > 0)
    return;
  for (sb_call_room_t **pp = &app->rooms; *pp; pp = &(*pp)->next)
    if (*pp == r) {
      *pp = r->next;
      break;
    }
  free(r);
}

sb_participant_t *sb_call_find(sb_app_t *app, const char *room, const char *tenant, const char *user) {
  sb_call_room_t *r = room_get(app, room, 0);
  for (sb_participant_t *p = r ? r->participants : NULL; p; p = p->next)
    if (strcmp(p->user, user) == 0 && strcmp(p->tenant, tenant) == 0)
      return p;
  return NULL;
}

static json_t *participant_json(const sb_participant_t *p) {
  return json_pack("{s:s, s:s, s:s, s:s}", "room", p->room->id, "user", p->user, "tenant", p->tenant,
                   "name", p->name);
}

/* Sends the next offer to p unless one is outstanding (then it follows the answer). */
static void renegotiate(sb_participant_t *p) {
  if (p->offer_pending) {
    p->dirty = 1;
    return;
  }
  sb_app_t *app = p->session->app;
  char *sdp = sb_negotiate_offer(app, p);
  if (!sdp) {
    sb_call_end(p, "negotiation_failed");
    return;
  }
  p->revision++;
  p->offer_pending = 1;
  p->offered_mlines = p->nown + p->nslots;
  p->dirty = 0;
  for (int i = 0; i < p->nslots; i++) {
    if (p->slots[i].state == SB_SLOT_REMOVED && p->slots[i].removed_rev == 0)
      p->slots[i].removed_rev = p->revision;
    if (p->slots[i].state == SB_SLOT_ACTIVE && p->slots[i].offered_rev == 0)
      p->slots[i].offered_rev = p->revision;
  }
  sb_session_event(p->session, "call.offer", json_pack("{s:i, s:s}", "revision", p->revision, "sdp", sdp));
  free(sdp);
}

static sb_slot_t *slot_alloc(sb_participant_t *p, sb_kind_t kind) {
  for (int i = 0; i < p->nslots; i++)
    if (p->slots[i].state == SB_SLOT_FREE && p->slots[i].kind == kind)
      return &p->slots[i];
  if (p->nslots == p->capslots) {
    int cap = p->capslots ? 2 * p->capslots : 8;
    sb_slot_t *n = realloc(p->slots, (size_t)cap * sizeof *n);
    if (!n)
      return NULL;
    p->slots = n;
    p->capslots = cap;
  }
  sb_slot_t *s = &p->slots[p->nslots];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  snprintf(s->mid, sizeof s->mid, "%d", p->nown + p->nslots);
  p->nslots++;
  return s;
}

/* Subscribes `sub` to every track `pub` publishes. */
/* Returns how many tracks were added (0: no new offer is needed). */
static int subscribe(sb_participant_t *sub, sb_participant_t *pub) {
  int added = 0;
  sb_app_t *app = sub->session->app;
  for (int i = 0; i < pub->npubs; i++) {
    /* A subscriber that offered no codec of this kind cannot receive it: an m-line without a
     * payload type would make its browser refuse the whole offer. */
    if (!(pub->pubs[i].kind == SB_KIND_AUDIO ? sub->opus_pt : sub->vp8_pt))
      continue;
    sb_slot_t *s = slot_alloc(sub, pub->pubs[i].kind);
    if (!s)
      return added;
    char mid[32];
    snprintf(mid, sizeof mid, "%s", s->mid);
    memset(s, 0, sizeof *s);
    snprintf(s->mid, sizeof s->mid, "%s", mid);
    s->kind = pub->pubs[i].kind;
    s->state = SB_SLOT_ACTIVE;
    s->consumer = sb_app_next_id(app);
    s->pub_transport = pub->transport;
    s->producer_id = pub->pubs[i].producer_id;
    s->ssrc = sb_random_u32();
    s->rtx_ssrc = s->kind == SB_KIND_VIDEO && sub->rtx_pt ? sb_random_u32() : 0;
    snprintf(s->stream, sizeof s->stream, "%s", pub->user);
    snprintf(s->track, sizeof s->track, "%s-%s", pub->user, s->kind == SB_KIND_AUDIO ? "audio" : "video");
    sb_cmd_t *cmd = sb_cmd_new(SB_CMD_CONSUMER_ADD, sub->transport);
    if (!cmd)
      return added;
    cmd->u.consumer.consumer = s->consumer;
    cmd->u.consumer.producer_transport = pub->transport;
    cmd->u.consumer.producer_id = s->producer_id;
    cmd->u.consumer.nlayers = pub->pubs[i].nlayers;
    cmd->u.consumer.ssrc = s->ssrc;
    cmd->u.consumer.pt = s->kind == SB_KIND_AUDIO ? sub->opus_pt : sub->vp8_pt;
    cmd->u.consumer.rtx_ssrc = s->rtx_ssrc;
    cmd->u.consumer.rtx_pt = s->rtx_ssrc ? sub->rtx_pt : 0;
    snprintf(cmd->u.consumer.mid, sizeof cmd->u.consumer.mid, "%s", s->mid);
    cmd->u.consumer.paused = 1; /* resumed once the subscriber has applied the offer */
    sb_relay_send(app->relay, sub->worker, cmd);
    added++;
  }
  return added;
}

/* Removes sub's slots that carry pub's tracks. */
static int unsubscribe(sb_participant_t *sub, uint64_t pub_transport) {
  int changed = 0;
  for (int i = 0; i < sub->nslots; i++) {
    sb_slot_t *s = &sub->slots[i];
    if (s->state != SB_SLOT_ACTIVE || s->pub_transport != pub_transport)
      continue;
    sb_cmd_t *cmd = sb_cmd_new(SB_CMD_CONSUMER_REMOVE, sub->transport);
    if (cmd) {
      cmd->u.consumer.consumer = s->consumer;
      sb_relay_send(sub->session->app->relay, sub->worker, cmd);
    }
    s->state = SB_SLOT_REMOVED;
    s->removed_rev = 0;
    changed = 1;
  }
  return changed;
}

static void participant_free(sb_participant_t *p) {
  free(p->own);
  free(p->slots);
  free(p);
}

static int parse_sdp(json_t *params, sb_sdp_t **out, sb_rpc_error_t *err) {
  const char *text = json_string_value(json_object_get(params, "sdp"));
  char why[160] = "";
  if (!text)
    return sb_rpc_fail(err, "bad_request", "missing sdp");
  *out = calloc(1, sizeof **out);
  if (!*out)
    return sb_rpc_fail(err, "internal", "out of memory");
  if (sb_sdp_parse(text, strlen(text), *out, why, sizeof why) != 0) {
    free(*out);
    *out = NULL;
    return sb_rpc_fail(err, "bad_sdp", "%s", why);
  }
  return 0;
}

static sb_participant_t *participant_new(sb_session_t *s, sb_call_room_t *room) {
  sb_participant_t *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->session = s;
  p->room = room;
  p->worker = room->worker;
  snprintf(p->user, sizeof p->user, "%s", s->who.user);
  snprintf(p->tenant, sizeof p->tenant, "%s", s->who.tenant);
  snprintf(p->name, sizeof p->name, "%s", s->who.name[0] ? s->who.name : s->who.user);
  snprintf(p->ctx, sizeof p->ctx, "%s/%s/%s", p->tenant, room->id, p->user);
  p->transport = sb_app_next_id(s->app);
  p->join_ms = sb_now_ms();
  sb_random_bytes(&p->sdp_session_id, sizeof p->sdp_session_id);
  p->sdp_session_id &= 0x7fffffffffffffffULL;
  if (sb_random_ice_string(p->ufrag, 4 + 3) != 0 || sb_random_ice_string(p->pwd, 24) != 0) {
    free(p);
    return NULL;
  }
  return p;
}

static void after_join(sb_session_t *s);

static int publishes_video(const sb_sdp_t *offer) {
  for (int i = 0; i < offer->nmedia; i++)
    if (offer->media[i].kind == SB_MEDIA_VIDEO && offer->media[i].port &&
        (offer->media[i].dir == SB_DIR_SENDONLY || offer->media[i].dir == SB_DIR_SENDRECV))
      return 1;
  return 0;
}

static int video_publishers(const sb_call_room_t *room) {
  int n = 0;
  for (const sb_participant_t *q = room->participants; q; q = q->next)
    for (int i = 0; i < q->npubs; i++)
      if (q->pubs[i].kind == SB_KIND_VIDEO) {
        n++;
        break;
      }
  return n;
}

int sb_call_m_join(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  sb_app_t *app = s->app;
  const char *room_id = json_string_value(json_object_get(params, "room"));
  sb_sdp_t *offer = NULL;
  sb_participant_t *p = NULL;
  sb_cmd_t *create = NULL;
  char why[160] = "";
  char *answer = NULL;
  int rc = -1;
  if (!valid_room_id(room_id))
    return sb_rpc_fail(err, "bad_request", "room must be 1-63 characters of [A-Za-z0-9._-]");
  if (s->participant)
    return sb_rpc_fail(err, "conflict", "already in a call on this connection");
  const char *denied = sb_admission_check(app, &s->who, room_id, why, sizeof why);
  if (denied)
    return sb_rpc_fail(err, denied, "%s", why);
  sb_call_room_t *room = room_get(app, room_id, 1);
  if (!room)
    return sb_rpc_fail(err, "internal", "out of memory");
  if (sb_call_find(app, room_id, s->who.tenant, s->who.user)) {
    sb_rpc_fail(err, "conflict", "already in this call from another connection");
    goto Exit;
  }
  if (room->count >= app->cfg.max_participants) {
    sb_rpc_fail(err, "limit_exceeded", "the call has %d participants, the limit", room->count);
    goto Exit;
  }
  if (parse_sdp(params, &offer, err) != 0)
    goto Exit;
  if (publishes_video(offer) && video_publishers(room) >= app->cfg.max_video_publishers) {
    sb_rpc_fail(err, "limit_exceeded", "the call has %d video publishers, the limit; join without video",
                app->cfg.max_video_publishers);
    goto Exit;
  }
  p = participant_new(s, room);
  create = sb_cmd_new(SB_CMD_TRANSPORT_CREATE, p ? p->transport : 0);
  if (!p || !create) {
    sb_rpc_fail(err, "internal", "out of memory");
    goto Exit;
  }
  answer = sb_negotiate_answer(app, p, offer, create, why, sizeof why);
  if (!answer) {
    sb_rpc_fail(err, "bad_sdp", "%s", why);
    goto Exit;
  }
  snprintf(create->u.create.room, sizeof create->u.create.room, "%s", room->id);
  snprintf(create->u.create.log_ctx, sizeof create->u.create.log_ctx, "%s", p->ctx);
  create->u.create.admitted = 1; /* sb_admission_check admitted (user, room) above */
  sb_relay_send(app->relay, p->worker, create);
  create = NULL;

  json_t *others = json_array();
  for (sb_participant_t *q = room->participants; q; q = q->next)
    json_array_append_new(others, json_pack("{s:s, s:s, s:s}", "user", q->user, "tenant", q->tenant, "name", q->name));
  p->next = room->participants;
  room->participants = p;
  room->count++;
  s->participant = p;
  p->revision = 1;
  *result = json_pack("{s:I, s:s, s:i, s:o}", "call", (json_int_t)p->transport, "sdp", answer,
                      "revision", p->revision, "participants", others);
  sb_info(p->ctx, "joined the call (%d in room)", room->count);
  s->after_reply = after_join;
  rc = 0;
Exit:
  if (rc != 0) {
    free(create);
    if (p)
      participant_free(p);
    room_release(app, room);
  }
  free(answer);
  free(offer);
  return rc;
}

/* After the join result is queued: tell the others and exchange tracks. */
static void after_join(sb_session_t *s) {
  sb_participant_t *p = s->participant;
  if (!p)
    return;
  int changed = 0;
  for (sb_participant_t *q = p->room->participants; q; q = q->next) {
    if (q == p)
      continue;
    if (q->transport == p->room->speaker) /* the newcomer learns who speaks now */
      sb_session_event(p->session, "call.active_speaker", participant_json(q));
    sb_session_event(q->session, "call.participant_joined", participant_json(p));
    if (sb_admission_may_exchange(p->session->app, p, q)) {
      if (subscribe(q, p))
        renegotiate(q); /* a participant who publishes nothing changes nothing for q */
      changed += subscribe(p, q);
    }
  }
  if (changed)
    renegotiate(p);
}

int sb_call_m_answer(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  sb_participant_t *p = s->participant;
  sb_sdp_t *ans = NULL;
  char why[160];
  if (!p)
    return sb_rpc_fail(err, "not_found", "not in a call");
  json_t *rev = json_object_get(params, "revision");
  if (!json_is_integer(rev))
    return sb_rpc_fail(err, "bad_request", "missing revision");
  if (!p->offer_pending || json_integer_value(rev) != p->revision)
    return sb_rpc_fail(err, "conflict", "no outstanding offer with revision %lld",
                       (long long)json_integer_value(rev));
  if (parse_sdp(params, &ans, err) != 0)
    return -1;
  if (sb_negotiate_check_answer(p, ans, why, sizeof why) != 0) {
    free(ans);
    return sb_rpc_fail(err, "bad_sdp", "%s", why);
  }
  free(ans);
  p->offer_pending = 0;
  for (int i = 0; i < p->nslots; i++) {
    sb_slot_t *sl = &p->slots[i];
    /* Only what the answered offer carried: tracks added since wait for the next offer. */
    if (sl->state == SB_SLOT_ACTIVE && !sl->resumed && sl->offered_rev && sl->offered_rev <= p->revision) {
      sb_cmd_t *cmd = sb_cmd_new(SB_CMD_CONSUMER_RESUME, p->transport);
      if (cmd) {
        cmd->u.consumer.consumer = sl->consumer;
        sb_relay_send(s->app->relay, p->worker, cmd);
      }
      sl->resumed = 1;
    } else if (sl->state == SB_SLOT_REMOVED && sl->removed_rev && sl->removed_rev <= p->revision) {
      sl->state = SB_SLOT_FREE;
    }
  }
  *result = json_object();
  if (p->dirty)
    renegotiate(p);
  return 0;
}

int sb_call_m_candidate(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  json_t *cand = json_object_get(params, "candidate");
  if (!s->participant)
    return sb_rpc_fail(err, "not_found", "not in a call");
  if (!json_is_string(cand))
    return sb_rpc_fail(err, "bad_request", "candidate must be a string");
  const char *c = json_string_value(cand);
  if (c[0] && strncmp(c, "candidate:", 10) != 0 && strncmp(c, "a=candidate:", 12) != 0)
    return sb_rpc_fail(err, "bad_request", "not an ICE candidate line");
  /* ICE-lite: the peer's address is learned from its checks; the candidate is not needed. */
  *result = json_object();
  return 0;
}

int sb_call_m_mute(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  sb_participant_t *p = s->participant;
  const char *kind = json_string_value(json_object_get(params, "kind"));
  json_t *muted = json_object_get(params, "muted");
  if (!p)
    return sb_rpc_fail(err, "not_found", "not in a call");
  if (!kind || (strcmp(kind, "audio") && strcmp(kind, "video")) || !json_is_boolean(muted))
    return sb_rpc_fail(err, "bad_request", "params: {kind: \"audio\"|\"video\", muted: boolean}");
  sb_kind_t k = strcmp(kind, "audio") == 0 ? SB_KIND_AUDIO : SB_KIND_VIDEO;
  int found = 0;
  for (int i = 0; i < p->npubs; i++) {
    if (p->pubs[i].kind != k)
      continue;
    for (int l = 0; l < (p->pubs[i].nlayers ? p->pubs[i].nlayers : 1); l++) {
      sb_cmd_t *cmd = sb_cmd_new(SB_CMD_PRODUCER_PAUSE, p->transport);
      if (cmd) {
        cmd->u.pause.producer_id = p->pubs[i].producer_id + (uint32_t)l;
        cmd->u.pause.paused = json_is_true(muted);
        sb_relay_send(s->app->relay, p->worker, cmd);
      }
    }
    found = 1;
  }
  if (!found)
    return sb_rpc_fail(err, "not_found", "you publish no %s track", kind);
  for (sb_participant_t *q = p->room->participants; q; q = q->next)
    if (q != p)
      sb_session_event(q->session, "call.track_muted",
                       json_pack("{s:s, s:s, s:s, s:s, s:b}", "room", p->room->id, "user", p->user, "tenant",
                                 p->tenant, "kind", kind, "muted", json_is_true(muted)));
  *result = json_object();
  return 0;
}

int sb_call_m_prefer(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  sb_participant_t *p = s->participant;
  json_t *w = json_object_get(params, "max_width"), *h = json_object_get(params, "max_height");
  if (!p)
    return sb_rpc_fail(err, "not_found", "not in a call");
  if (!json_is_integer(w) || !json_is_integer(h) || json_integer_value(w) < 0 ||
      json_integer_value(w) > 16384 || json_integer_value(h) < 0 || json_integer_value(h) > 16384)
    return sb_rpc_fail(err, "bad_request", "params: {max_width: 0-16384, max_height: 0-16384} (0: any)");
  sb_cmd_t *cmd = sb_cmd_new(SB_CMD_TRANSPORT_PREFER, p->transport);
  if (!cmd)
    return sb_rpc_fail(err, "internal", "out of memory");
  cmd->u.prefer.max_width = (uint16_t)json_integer_value(w);
  cmd->u.prefer.max_height = (uint16_t)json_integer_value(h);
  sb_relay_send(s->app->relay, p->worker, cmd);
  *result = json_object();
  return 0;
}

int sb_call_m_leave(sb_session_t *s, json_t *params, json_t **result, sb_rpc_error_t *err) {
  if (!s->participant)
    return sb_rpc_fail(err, "not_found", "not in a call");
  sb_call_leave(s->participant, "left");
  *result = json_object();
  return 0;
}

void sb_call_leave(sb_participant_t *p, const char *reason) {
  sb_app_t *app = p->session->app;
  sb_call_room_t *room = p->room;
  for (sb_participant_t **pp = &room->participants; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      room->count--;
      break;
    }
  sb_cmd_t *cmd = sb_cmd_new(SB_CMD_TRANSPORT_CLOSE, p->transport);
  if (cmd) {
    snprintf(cmd->u.close.reason, sizeof cmd->u.close.reason, "%s", reason);
    sb_relay_send(app->relay, p->worker, cmd);
  }
  for (sb_participant_t *q = room->participants; q; q = q->next) {
    json_t *data = participant_json(p);
    json_object_set_new(data, "reason", json_string(reason));
    sb_session_event(q->session, "call.participant_left", data);
    if (unsubscribe(q, p->transport))
      renegotiate(q);
  }
  sb_info(p->ctx, "left the call: %s", reason);
  p->session->participant = NULL;
  participant_free(p);
  room_release(app, room);
}

void sb_call_end(sb_participant_t *p, const char *reason) {
  sb_session_t *s = p->session;
  json_t *data = json_pack("{s:s, s:s}", "room", p->room->id, "reason", reason);
  sb_call_leave(p, reason);
  sb_session_event(s, "call.ended", data);
}

void sb_call_end_all(sb_app_t *app, const char *reason) {
  for (sb_call_room_t *r = app->rooms; r;) {
    sb_call_room_t *next = r->next;
    int n = r->count;
    for (int i = 0; i < n; i++)
      sb_call_end(r->participants, reason); /* the last one frees r */
    r = next;
  }
}

static sb_participant_t *by_transport(sb_app_t *app, uint64_t id) {
  for (sb_call_room_t *r = app->rooms; r; r = r->next)
    for (sb_participant_t *p = r->participants; p; p = p->next)
      if (p->transport == id)
        return p;
  return NULL;
}

void sb_call_on_relay_event(sb_event_t *ev, void *arg) {
  sb_app_t *app = arg;
  sb_participant_t *p = by_transport(app, ev->transport);
  if (p && ev->hdr.type == SB_EV_TRANSPORT_CONNECTED) {
    p->connected = 1;
    sb_info(p->ctx, "media connected in %llu ms (%s)", (unsigned long long)(sb_now_ms() - p->join_ms),
            ev->srtp_profile);
    sb_session_event(p->session, "call.connected",
                     json_pack("{s:s, s:s}", "room", p->room->id, "srtp", ev->srtp_profile));
  } else if (p && ev->hdr.type == SB_EV_ACTIVE_SPEAKER) {
    p->room->speaker = p->transport;
    for (sb_participant_t *q = p->room->participants; q; q = q->next)
      sb_session_event(q->session, "call.active_speaker", participant_json(p));
  } else if (p && ev->hdr.type == SB_EV_TRANSPORT_CLOSED) {
    /* The worker closed it on its own (timeout, DTLS failure): end the call for the client. */
    const char *why = ev->reason[0] ? ev->reason : "closed";
    sb_admission_audit_revocation(app, p->tenant, p->user, p->room->id, why);
    sb_call_end(p, why);
  }
  free(ev);
}

/* A client API request (rooms, contacts, blocks, ...) on its way through the executor. */
typedef struct {
  sb_dbq_job_t job;
  sb_app_t *app;
  uint64_t session;
  sb_principal_t who;
  char method[64];
  json_t *params; /* the job's own copy: the DB thread reads it */
  json_t *result;
  sb_api_error_t aerr;
  sb_effects_t fx;
} api_job_t;

static int api_run(sb_model_t *m, sb_dbq_job_t *job) {
  api_job_t *j = (api_job_t *)job;
  memset(&j->aerr, 0, sizeof j->aerr);
  return sb_api_client_call(m, &j->who, j->method, j->params, &j->result, &j->aerr, &j->fx);
}

static void api_done(sb_dbq_job_t *job) {
  api_job_t *j = (api_job_t *)job;
  sb_rpc_error_t err = {0};
  if (job->status == SB_DBQ_ECANCELLED)
    sb_rpc_fail(&err, "unavailable", "the server is shutting down");
  else if (job->status != 0)
    sb_rpc_fail(&err, j->aerr.code ? j->aerr.code : "internal", "%s", j->aerr.message);
  /* Effects first, as the operation's order: revocations cut media now, even when the caller
   * has gone; then the caller's reply. */
  sb_admission_apply(j->app, &j->fx);
  sb_session_t *s = sb_session_find(j->app, j->session);
  if (s)
    sb_session_complete(s, job->status == 0 ? j->result : NULL, job->status == 0 ? NULL : &err);
  else
    json_decref(j->result);
  sb_effects_free(&j->fx);
  json_decref(j->params);
  free(j);
}

int sb_call_dispatch_api(sb_session_t *s, const char *method, json_t *params, json_t **result,
                         sb_rpc_error_t *err) {
  if (!sb_api_client_has(method) || strlen(method) >= sizeof ((api_job_t *)0)->method)
    return sb_rpc_fail(err, "unknown_method", "unknown method \"%.64s\"", method);
  api_job_t *j = calloc(1, sizeof *j);
  if (!j)
    return sb_rpc_fail(err, "internal", "out of memory");
  j->job.run = api_run;
  j->job.done = api_done;
  j->app = s->app;
  j->session = s->id;
  snprintf(j->who.tenant, sizeof j->who.tenant, "%s", s->who.tenant);
  snprintf(j->who.user, sizeof j->who.user, "%s", s->who.user);
  snprintf(j->method, sizeof j->method, "%s", method);
  j->params = json_deep_copy(params);
  sb_effects_init(&j->fx);
  if (params && !j->params) {
    free(j);
    return sb_rpc_fail(err, "internal", "out of memory");
  }
  sb_dbq_submit(s->app->dbq, &j->job);
  return SB_RPC_PENDING;
}

/* Blocks changed in `room`: stop or restart media between each pair of its live call. */
void sb_call_refresh_media(sb_app_t *app, const char *room) {
  sb_call_room_t *r = room_get(app, room, 0);
  if (!r)
    return;
  for (sb_participant_t *p = r->participants; p; p = p->next) {
    int changed = 0;
    for (sb_participant_t *q = r->participants; q; q = q->next) {
      if (q == p)
        continue;
      int want = sb_admission_may_exchange(app, p, q), has = 0;
      for (int i = 0; i < p->nslots; i++)
        if (p->slots[i].state == SB_SLOT_ACTIVE && p->slots[i].pub_transport == q->transport)
          has = 1;
      if (want && !has)
        changed |= subscribe(p, q) > 0;
      else if (!want && has)
        changed |= unsubscribe(p, q->transport);
    }
    if (changed)
      renegotiate(p);
  }
}

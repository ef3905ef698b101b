#include "signaling/call_sm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "signaling/negotiate.h"

struct sb_call_sm {
  sb_call_config_t cfg;
  sb_call_room_t *rooms;
  uint64_t next_id;       /* transports, consumers */
  int next_worker;
};

static int fail(sb_call_err_t *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(sb_call_err_t *err, const char *code, const char *fmt, ...) {
  va_list ap;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return -1;
}

sb_call_sm_t *sb_call_sm_create(const sb_call_config_t *cfg) {
  sb_call_sm_t *sm = calloc(1, sizeof *sm);
  if (!sm)
    return NULL;
  sm->cfg = *cfg;
  if (sm->cfg.workers < 1 || sm->cfg.workers > SB_CALL_MAX_WORKERS)
    sm->cfg.workers = 1;
  sm->next_id = cfg->first_id;
  return sm;
}

static void participant_free(sb_participant_t *p) {
  if (!p)
    return;
  free(p->own);
  free(p->slots);
  free(p);
}

void sb_call_sm_destroy(sb_call_sm_t *sm) {
  if (!sm)
    return;
  while (sm->rooms) {
    sb_call_room_t *r = sm->rooms;
    sm->rooms = r->next;
    while (r->participants) {
      sb_participant_t *p = r->participants;
      r->participants = p->next;
      participant_free(p);
    }
    free(r);
  }
  free(sm);
}

/* ---- lookups ---- */

static sb_call_room_t *room_find(const sb_call_sm_t *sm, const char *id) {
  for (sb_call_room_t *r = sm->rooms; r; r = r->next)
    if (strcmp(r->id, id) == 0)
      return r;
  return NULL;
}

static sb_participant_t *in_room(const sb_call_room_t *r, const char *tenant, const char *user) {
  for (sb_participant_t *p = r ? r->participants : NULL; p; p = p->next)
    if (strcmp(p->user, user) == 0 && strcmp(p->tenant, tenant) == 0)
      return p;
  return NULL;
}

static sb_participant_t *by_session(const sb_call_sm_t *sm, uint64_t session) {
  for (sb_call_room_t *r = sm->rooms; r; r = r->next)
    for (sb_participant_t *p = r->participants; p; p = p->next)
      if (p->session == session)
        return p;
  return NULL;
}

static sb_participant_t *by_transport(const sb_call_sm_t *sm, uint64_t transport) {
  for (sb_call_room_t *r = sm->rooms; r; r = r->next)
    for (sb_participant_t *p = r->participants; p; p = p->next)
      if (p->transport == transport)
        return p;
  return NULL;
}

const char *sb_call_sm_request_of(const sb_call_sm_t *sm, uint64_t transport) {
  const sb_participant_t *p = sm ? by_transport(sm, transport) : NULL;
  return p ? p->request : "";
}

const sb_participant_t *sb_call_sm_participant(const sb_call_sm_t *sm, uint64_t session) {
  return by_session(sm, session);
}

const sb_participant_t *sb_call_sm_find(const sb_call_sm_t *sm, const char *room, const char *tenant,
                                        const char *user) {
  return in_room(room_find(sm, room), tenant, user);
}

const sb_call_room_t *sb_call_sm_rooms(const sb_call_sm_t *sm) { return sm->rooms; }

static int same_user(const sb_user_ref_t *r, const char *tenant, const char *user) {
  return strcmp(r->tenant, tenant) == 0 && strcmp(r->user, user) == 0;
}

int sb_call_excluded(const sb_call_exclusions_t *x, const char *ta, const char *ua, const char *tb,
                     const char *ub) {
  if (!x)
    return 0;
  if (x->everyone)
    return 1;
  for (size_t i = 0; i < x->n; i++) {
    const sb_user_pair_t *p = &x->pairs[i];
    if ((same_user(&p->a, ta, ua) && same_user(&p->b, tb, ub)) ||
        (same_user(&p->a, tb, ub) && same_user(&p->b, ta, ua)))
      return 1;
  }
  return 0;
}

static int excluded(const sb_call_exclusions_t *x, const sb_participant_t *a, const sb_participant_t *b) {
  return sb_call_excluded(x, a->tenant, a->user, b->tenant, b->user);
}

static json_t *participant_json(const sb_participant_t *p) {
  return json_pack("{s:s, s:s, s:s, s:s}", "room", p->room->id, "user", p->user, "tenant", p->tenant,
                   "name", p->name);
}

/* ---- negotiation ---- */

/* Sends the next offer to p unless one is outstanding (then it follows the answer). */
static void renegotiate(sb_call_sm_t *sm, sb_participant_t *p, sb_call_actions_t *out) {
  if (p->offer_pending) {
    p->dirty = 1;
    return;
  }
  if (p->failed)
    return;
  char *sdp = sb_negotiate_offer(&sm->cfg, p);
  if (!sdp) {
    p->failed = 1; /* ended once the step is done: the caller may be looping over participants */
    return;
  }
  p->revision++;
  p->offer_pending = 1;
  if (p->restart_rev < 0)
    p->restart_rev = p->revision;
  p->offered_mlines = p->nown + p->nslots;
  p->dirty = 0;
  for (int i = 0; i < p->nslots; i++) {
    if (p->slots[i].state == SB_SLOT_REMOVED && p->slots[i].removed_rev == 0)
      p->slots[i].removed_rev = p->revision;
    if (p->slots[i].state == SB_SLOT_ACTIVE && p->slots[i].offered_rev == 0)
      p->slots[i].offered_rev = p->revision;
  }
  sb_call_actions_event(out, p->session, "call.offer",
                        json_pack("{s:i, s:s}", "revision", p->revision, "sdp", sdp));
  free(sdp);
}

static sb_slot_t *slot_alloc(sb_participant_t *p, sb_kind_t kind) {
  for (int i = 0; i < p->nslots; i++)
    if (p->slots[i].state == SB_SLOT_FREE && p->slots[i].kind == kind)
      return &p->slots[i];
  sb_slot_t *n = sb_grow(p->slots, &p->capslots, (size_t)p->nslots + 1, sizeof *n, 8);
  if (!n)
    return NULL;
  p->slots = n;
  sb_slot_t *s = &p->slots[p->nslots];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  snprintf(s->mid, sizeof s->mid, "%d", p->nown + p->nslots);
  p->nslots++;
  return s;
}

/* Points slot s of `sub` at track i of `pub` and queues its (paused) consumer. */
static void slot_assign(sb_call_sm_t *sm, sb_participant_t *sub, sb_slot_t *s, const sb_participant_t *pub,
                        int i, sb_call_actions_t *out) {
  char mid[32];
  snprintf(mid, sizeof mid, "%s", s->mid);
  memset(s, 0, sizeof *s);
  snprintf(s->mid, sizeof s->mid, "%s", mid);
  s->kind = pub->pubs[i].kind;
  s->state = SB_SLOT_ACTIVE;
  s->consumer = ++sm->next_id;
  s->pub_transport = pub->transport;
  s->producer_id = pub->pubs[i].producer_id;
  s->ssrc = sb_random_u32();
  s->rtx_ssrc = s->kind == SB_KIND_VIDEO && sub->rtx_pt ? sb_random_u32() : 0;
  snprintf(s->stream, sizeof s->stream, "%s", pub->user);
  snprintf(s->track, sizeof s->track, "%s-%s", pub->user, s->kind == SB_KIND_AUDIO ? "audio" : "video");
  sb_cmd_t *cmd = sb_cmd_new(SB_CMD_CONSUMER_ADD, sub->transport);
  if (!cmd)
    return;
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
  sb_call_actions_relay(out, sub->worker, cmd);
}

/* Subscribes `sub` to every track `pub` publishes. Returns how many tracks were added (0: no
 * new offer is needed). */
static int subscribe(sb_call_sm_t *sm, sb_participant_t *sub, const sb_participant_t *pub,
                     sb_call_actions_t *out) {
  int added = 0;
  for (int i = 0; i < pub->npubs; i++) {
    /* A subscriber that offered no codec of this kind cannot receive it: an m-line without a
     * payload type would make its browser refuse the whole offer. */
    if (!(pub->pubs[i].kind == SB_KIND_AUDIO ? sub->opus_pt : sub->vp8_pt))
      continue;
    sb_slot_t *s = slot_alloc(sub, pub->pubs[i].kind);
    if (!s)
      return added;
    slot_assign(sm, sub, s, pub, i, out);
    added++;
  }
  return added;
}

/* Removes sub's slots that carry pub's tracks; 1 if there were any. */
static int unsubscribe(sb_participant_t *sub, uint64_t pub_transport, sb_call_actions_t *out) {
  int changed = 0;
  for (int i = 0; i < sub->nslots; i++) {
    sb_slot_t *s = &sub->slots[i];
    if (s->state != SB_SLOT_ACTIVE || s->pub_transport != pub_transport)
      continue;
    sb_cmd_t *cmd = sb_cmd_new(SB_CMD_CONSUMER_REMOVE, sub->transport);
    if (cmd) {
      cmd->u.consumer.consumer = s->consumer;
      sb_call_actions_relay(out, sub->worker, cmd);
    }
    s->state = SB_SLOT_REMOVED;
    s->removed_rev = 0;
    changed = 1;
  }
  return changed;
}

static int subscribed(const sb_participant_t *sub, uint64_t pub_transport) {
  for (int i = 0; i < sub->nslots; i++)
    if (sub->slots[i].state == SB_SLOT_ACTIVE && sub->slots[i].pub_transport == pub_transport)
      return 1;
  return 0;
}

/* ---- leaving ---- */

/* Removes p from its call: its transport is closed, the others are told and renegotiated; p is
 * freed and so is its room if it was the last. */
static void detach(sb_call_sm_t *sm, sb_participant_t *p, const char *reason, sb_call_actions_t *out) {
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
    sb_call_actions_relay(out, p->worker, cmd);
  }
  for (sb_participant_t *q = room->participants; q; q = q->next) {
    json_t *data = participant_json(p);
    json_object_set_new(data, "reason", json_string(reason));
    sb_call_actions_event(out, q->session, "call.participant_left", data);
    if (unsubscribe(q, p->transport, out))
      renegotiate(sm, q, out);
  }
  if (room->speaker == p->transport)
    room->speaker = 0;
  sb_info(p->ctx, "left the call: %s", reason);
  sb_call_actions_detached(out, p->session, room->id, p->tenant, p->user, reason);
  participant_free(p);
  if (room->count > 0)
    return;
  sb_call_actions_room_empty(out, room->id);
  for (sb_call_room_t **rr = &sm->rooms; *rr; rr = &(*rr)->next)
    if (*rr == room) {
      *rr = room->next;
      break;
    }
  free(room);
}

/* Ends p's call from the server side: the client gets call.ended with `reason`. */
static void end_participant(sb_call_sm_t *sm, sb_participant_t *p, const char *reason,
                            sb_call_actions_t *out) {
  uint64_t session = p->session;
  json_t *data = json_pack("{s:s, s:s}", "room", p->room->id, "reason", reason);
  detach(sm, p, reason, out);
  sb_call_actions_event(out, session, "call.ended", data);
}

/* Ends the calls of participants whose offer could not be built during the step. */
static sb_participant_t *first_failed(const sb_call_sm_t *sm) {
  for (sb_call_room_t *r = sm->rooms; r; r = r->next)
    for (sb_participant_t *p = r->participants; p; p = p->next)
      if (p->failed)
        return p;
  return NULL;
}

static void reap(sb_call_sm_t *sm, sb_call_actions_t *out) {
  sb_participant_t *p;
  /* Each end frees p (and maybe its room) and may fail others: search again from the start. */
  while ((p = first_failed(sm)))
    end_participant(sm, p, "negotiation_failed", out);
}

/* ---- joining ---- */

static int publishes_video(const sb_sdp_t *offer) {
  for (int i = 0; i < offer->nmedia; i++)
    if (offer->media[i].kind == SB_MEDIA_VIDEO && sb_negotiate_offered(offer, &offer->media[i]) &&
        (offer->media[i].dir == SB_DIR_SENDONLY || offer->media[i].dir == SB_DIR_SENDRECV))
      return 1;
  return 0;
}

static int video_publishers(const sb_call_room_t *room) {
  int n = 0;
  for (const sb_participant_t *q = room ? room->participants : NULL; q; q = q->next)
    for (int i = 0; i < q->npubs; i++)
      if (q->pubs[i].kind == SB_KIND_VIDEO) {
        n++;
        break;
      }
  return n;
}

static sb_participant_t *participant_new(sb_call_sm_t *sm, const sb_call_join_t *in, int worker) {
  sb_participant_t *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->session = in->session;
  p->worker = worker;
  snprintf(p->user, sizeof p->user, "%s", in->user);
  snprintf(p->tenant, sizeof p->tenant, "%s", in->tenant);
  snprintf(p->name, sizeof p->name, "%s", in->name && in->name[0] ? in->name : in->user);
  snprintf(p->ctx, sizeof p->ctx, "%s/%s/%s", p->tenant, in->room, p->user);
  snprintf(p->request, sizeof p->request, "%s", in->request ? in->request : "");
  p->transport = ++sm->next_id;
  p->join_ms = in->now_ms;
  sb_random_bytes(&p->sdp_session_id, sizeof p->sdp_session_id);
  p->sdp_session_id &= 0x7fffffffffffffffULL;
  if (sb_random_ice_string(p->ufrag, 4 + 3) != 0 || sb_random_ice_string(p->pwd, 24) != 0) {
    free(p);
    return NULL;
  }
  return p;
}

/* The checks of a join, in the order the client sees their errors. */
static int join_check(const sb_call_sm_t *sm, const sb_call_join_t *in, const sb_call_room_t *room,
                      sb_call_err_t *err) {
  if (by_session(sm, in->session))
    return fail(err, "conflict", "already in a call on this connection");
  if (in->denied)
    return fail(err, in->denied, "%s", in->denied_why ? in->denied_why : "");
  if (in_room(room, in->tenant, in->user))
    return fail(err, "conflict", "already in this call from another connection");
  int count = room ? room->count : 0;
  if (count >= sm->cfg.max_participants)
    return fail(err, "limit_exceeded", "the call has %d participants, the limit", count);
  if (!in->offer)
    return fail(err, in->sdp_code ? in->sdp_code : "bad_sdp", "%s", in->sdp_why ? in->sdp_why : "");
  if (publishes_video(in->offer) && video_publishers(room) >= sm->cfg.max_video_publishers)
    return fail(err, "limit_exceeded",
                "the call has %d video publishers, the limit; join without video",
                sm->cfg.max_video_publishers);
  return 0;
}

/* After the join's reply: tell the others and exchange tracks where the exclusions allow. */
static void exchange(sb_call_sm_t *sm, sb_participant_t *p, const sb_call_exclusions_t *excl,
                     sb_call_actions_t *out) {
  int changed = 0;
  for (sb_participant_t *q = p->room->participants; q; q = q->next) {
    if (q == p)
      continue;
    if (q->transport == p->room->speaker) /* the newcomer learns who speaks now */
      sb_call_actions_event(out, p->session, "call.active_speaker", participant_json(q));
    sb_call_actions_event(out, q->session, "call.participant_joined", participant_json(p));
    if (excluded(excl, p, q))
      continue;
    if (subscribe(sm, q, p, out))
      renegotiate(sm, q, out); /* a participant who publishes nothing changes nothing for q */
    changed += subscribe(sm, p, q, out);
  }
  if (changed)
    renegotiate(sm, p, out);
}

static sb_call_room_t *room_add(sb_call_sm_t *sm, const char *id) {
  sb_call_room_t *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  snprintf(r->id, sizeof r->id, "%s", id);
  /* A room lives on one worker (brief §1); new rooms go round-robin. */
  r->worker = sm->next_worker++ % sm->cfg.workers;
  r->next = sm->rooms;
  sm->rooms = r;
  return r;
}

int sb_call_sm_join(sb_call_sm_t *sm, const sb_call_join_t *in, sb_call_actions_t *out,
                    sb_call_err_t *err) {
  sb_call_room_t *room = room_find(sm, in->room);
  sb_participant_t *p = NULL;
  sb_cmd_t *create = NULL;
  char why[160] = "", *answer = NULL;
  int rc = -1;
  if (join_check(sm, in, room, err) != 0)
    return -1;
  p = participant_new(sm, in, room ? room->worker : sm->next_worker % sm->cfg.workers);
  create = sb_cmd_new(SB_CMD_TRANSPORT_CREATE, p ? p->transport : 0);
  if (!p || !create) {
    fail(err, "internal", "out of memory");
    goto Exit;
  }
  answer = sb_negotiate_answer(&sm->cfg, p, in->offer, create, why, sizeof why);
  if (!answer) {
    fail(err, "bad_sdp", "%s", why);
    goto Exit;
  }
  if (!room && !(room = room_add(sm, in->room))) {
    fail(err, "internal", "out of memory");
    goto Exit;
  }
  snprintf(create->u.create.room, sizeof create->u.create.room, "%s", room->id);
  snprintf(create->u.create.log_ctx, sizeof create->u.create.log_ctx, "%s", p->ctx);
  create->u.create.admitted = 1; /* the model admitted (user, room): in->denied is NULL */
  sb_call_actions_relay(out, p->worker, create);
  create = NULL;

  json_t *others = json_array();
  for (sb_participant_t *q = room->participants; q; q = q->next)
    json_array_append_new(others, json_pack("{s:s, s:s, s:s}", "user", q->user, "tenant", q->tenant,
                                            "name", q->name));
  p->room = room;
  p->next = room->participants;
  room->participants = p;
  room->count++;
  p->revision = 1;
  sb_call_actions_reply(out, p->session,
                        json_pack("{s:I, s:s, s:i, s:o}", "call", (json_int_t)p->transport, "sdp", answer,
                                  "revision", p->revision, "participants", others));
  sb_info(p->ctx, "joined the call (%d in room)", room->count);
  exchange(sm, p, in->excl, out);
  reap(sm, out);
  p = NULL;
  rc = 0;
Exit:
  free(create);
  participant_free(p);
  free(answer);
  return rc;
}

/* ---- in-call requests ---- */

int sb_call_sm_answer(sb_call_sm_t *sm, uint64_t session, long long revision, const sb_sdp_t *answer,
                      const char *sdp_code, const char *sdp_why, sb_call_actions_t *out,
                      sb_call_err_t *err) {
  sb_participant_t *p = by_session(sm, session);
  char why[160];
  if (!p)
    return fail(err, "not_found", "not in a call");
  if (!p->offer_pending || revision != p->revision)
    return fail(err, "conflict", "no outstanding offer with revision %lld", revision);
  if (!answer)
    return fail(err, sdp_code ? sdp_code : "bad_sdp", "%s", sdp_why ? sdp_why : "");
  if (sb_negotiate_check_answer(p, answer, why, sizeof why) != 0)
    return fail(err, "bad_sdp", "%s", why);
  p->offer_pending = 0;
  if (p->restart_rev > 0 && p->restart_rev <= p->revision) {
    p->restart_rev = 0;
    sb_info(p->ctx, "ice restart: offer %d answered", p->revision);
  }
  for (int i = 0; i < p->nslots; i++) {
    sb_slot_t *sl = &p->slots[i];
    /* Only what the answered offer carried: tracks added since wait for the next offer. */
    if (sl->state == SB_SLOT_ACTIVE && !sl->resumed && sl->offered_rev && sl->offered_rev <= p->revision) {
      sb_cmd_t *cmd = sb_cmd_new(SB_CMD_CONSUMER_RESUME, p->transport);
      if (cmd) {
        cmd->u.consumer.consumer = sl->consumer;
        sb_call_actions_relay(out, p->worker, cmd);
      }
      sl->resumed = 1;
    } else if (sl->state == SB_SLOT_REMOVED && sl->removed_rev && sl->removed_rev <= p->revision) {
      sl->state = SB_SLOT_FREE;
    }
  }
  sb_call_actions_reply(out, session, json_object());
  if (p->dirty)
    renegotiate(sm, p, out);
  reap(sm, out);
  return 0;
}

int sb_call_sm_candidate(sb_call_sm_t *sm, uint64_t session, const char *c, sb_call_actions_t *out,
                         sb_call_err_t *err) {
  if (!by_session(sm, session))
    return fail(err, "not_found", "not in a call");
  if (!c)
    return fail(err, "bad_request", "candidate must be a string");
  if (c[0] && strncmp(c, "candidate:", 10) != 0 && strncmp(c, "a=candidate:", 12) != 0)
    return fail(err, "bad_request", "not an ICE candidate line");
  /* ICE-lite: the peer's address is learned from its checks; the candidate is not needed. */
  sb_call_actions_reply(out, session, json_object());
  return 0;
}

int sb_call_sm_mute(sb_call_sm_t *sm, uint64_t session, sb_kind_t kind, int muted,
                    sb_call_actions_t *out, sb_call_err_t *err) {
  sb_participant_t *p = by_session(sm, session);
  const char *name = kind == SB_KIND_AUDIO ? "audio" : "video";
  size_t mark = out->len;
  int found = 0;
  if (!p)
    return fail(err, "not_found", "not in a call");
  for (int i = 0; i < p->npubs; i++) {
    if (p->pubs[i].kind != kind)
      continue;
    for (int l = 0; l < (p->pubs[i].nlayers ? p->pubs[i].nlayers : 1); l++) {
      sb_cmd_t *cmd = sb_cmd_new(SB_CMD_PRODUCER_PAUSE, p->transport);
      if (cmd) {
        cmd->u.pause.producer_id = p->pubs[i].producer_id + (uint32_t)l;
        cmd->u.pause.paused = muted;
        sb_call_actions_relay(out, p->worker, cmd);
      }
    }
    found = 1;
  }
  if (!found) {
    sb_call_actions_truncate(out, mark);
    return fail(err, "not_found", "you publish no %s track", name);
  }
  for (sb_participant_t *q = p->room->participants; q; q = q->next)
    if (q != p)
      sb_call_actions_event(out, q->session, "call.track_muted",
                            json_pack("{s:s, s:s, s:s, s:s, s:b}", "room", p->room->id, "user", p->user,
                                      "tenant", p->tenant, "kind", name, "muted", muted));
  sb_call_actions_reply(out, session, json_object());
  return 0;
}

int sb_call_sm_prefer(sb_call_sm_t *sm, uint64_t session, int max_width, int max_height,
                      sb_call_actions_t *out, sb_call_err_t *err) {
  sb_participant_t *p = by_session(sm, session);
  if (!p)
    return fail(err, "not_found", "not in a call");
  if (max_width < 0 || max_width > 16384 || max_height < 0 || max_height > 16384)
    return fail(err, "bad_request", "params: {max_width: 0-16384, max_height: 0-16384} (0: any)");
  sb_cmd_t *cmd = sb_cmd_new(SB_CMD_TRANSPORT_PREFER, p->transport);
  if (!cmd)
    return fail(err, "internal", "out of memory");
  cmd->u.prefer.max_width = (uint16_t)max_width;
  cmd->u.prefer.max_height = (uint16_t)max_height;
  sb_call_actions_relay(out, p->worker, cmd);
  sb_call_actions_reply(out, session, json_object());
  return 0;
}

int sb_call_sm_restart_ice(sb_call_sm_t *sm, uint64_t session, sb_call_actions_t *out, sb_call_err_t *err) {
  sb_participant_t *p = by_session(sm, session);
  char ufrag[sizeof p->ufrag], pwd[sizeof p->pwd];
  if (!p)
    return fail(err, "not_found", "not in a call");
  if (p->restart_rev)
    return fail(err, "conflict", "an ICE restart is in progress: answer its offer first");
  sb_cmd_t *cmd = sb_cmd_new(SB_CMD_TRANSPORT_ICE_RESTART, p->transport);
  if (!cmd || sb_random_ice_string(ufrag, 4 + 3) != 0 || sb_random_ice_string(pwd, 24) != 0) {
    free(cmd);
    return fail(err, "internal", "out of memory");
  }
  memcpy(p->ufrag, ufrag, sizeof ufrag);
  memcpy(p->pwd, pwd, sizeof pwd);
  snprintf(cmd->u.ice.ufrag, sizeof cmd->u.ice.ufrag, "%s", p->ufrag);
  snprintf(cmd->u.ice.pwd, sizeof cmd->u.ice.pwd, "%s", p->pwd);
  sb_call_actions_relay(out, p->worker, cmd);
  p->restart_rev = -1;
  /* The ufrag is public (it is in every check); the password is never logged. */
  sb_info(p->ctx, "ice restart: new ufrag %s%s", p->ufrag,
          p->offer_pending ? ", offered after the outstanding offer's answer" : "");
  sb_call_actions_reply(out, session, json_object());
  renegotiate(sm, p, out);
  reap(sm, out);
  return 0;
}

int sb_call_sm_leave(sb_call_sm_t *sm, uint64_t session, sb_call_actions_t *out, sb_call_err_t *err) {
  sb_participant_t *p = by_session(sm, session);
  if (!p)
    return fail(err, "not_found", "not in a call");
  detach(sm, p, "left", out);
  reap(sm, out);
  sb_call_actions_reply(out, session, json_object());
  return 0;
}

/* ---- server-side steps ---- */

int sb_call_sm_disconnect(sb_call_sm_t *sm, uint64_t session, const char *reason,
                          sb_call_actions_t *out) {
  sb_participant_t *p = by_session(sm, session);
  if (!p)
    return 0;
  detach(sm, p, reason, out);
  reap(sm, out);
  return 1;
}

int sb_call_sm_end(sb_call_sm_t *sm, uint64_t session, const char *reason, sb_call_actions_t *out) {
  sb_participant_t *p = by_session(sm, session);
  if (!p)
    return 0;
  end_participant(sm, p, reason, out);
  reap(sm, out);
  return 1;
}

int sb_call_sm_revoke(sb_call_sm_t *sm, const char *tenant, const char *user, const char *room,
                      const char *reason, sb_call_actions_t *out) {
  sb_participant_t *p = in_room(room_find(sm, room), tenant, user);
  if (!p)
    return 0;
  sb_info(p->ctx, "admission revoked: %s", reason);
  end_participant(sm, p, reason, out);
  reap(sm, out);
  return 1;
}

void sb_call_sm_refresh_media(sb_call_sm_t *sm, const char *room, const sb_call_exclusions_t *excl,
                              sb_call_actions_t *out) {
  sb_call_room_t *r = room_find(sm, room);
  for (sb_participant_t *p = r ? r->participants : NULL; p; p = p->next) {
    int changed = 0;
    for (sb_participant_t *q = r->participants; q; q = q->next) {
      if (q == p)
        continue;
      int want = !excluded(excl, p, q), has = subscribed(p, q->transport);
      if (want && !has)
        changed |= subscribe(sm, p, q, out) > 0;
      else if (!want && has)
        changed |= unsubscribe(p, q->transport, out);
    }
    if (changed)
      renegotiate(sm, p, out);
  }
  reap(sm, out);
}

void sb_call_sm_relay_event(sb_call_sm_t *sm, const sb_event_t *ev, uint64_t now_ms,
                            sb_call_actions_t *out) {
  sb_participant_t *p = by_transport(sm, ev->transport);
  if (!p) /* e.g. the worker confirming the close of a transport that already left */
    return;
  if (ev->hdr.type == SB_EV_TRANSPORT_CONNECTED) {
    p->connected = 1;
    sb_info(p->ctx, "media connected in %llu ms (%s)", (unsigned long long)(now_ms - p->join_ms),
            ev->srtp_profile);
    sb_call_actions_event(out, p->session, "call.connected",
                          json_pack("{s:s, s:s}", "room", p->room->id, "srtp", ev->srtp_profile));
  } else if (ev->hdr.type == SB_EV_ACTIVE_SPEAKER) {
    p->room->speaker = p->transport;
    for (sb_participant_t *q = p->room->participants; q; q = q->next)
      sb_call_actions_event(out, q->session, "call.active_speaker", participant_json(p));
  } else if (ev->hdr.type == SB_EV_TRANSPORT_CLOSED) {
    /* The worker closed it on its own (timeout, DTLS failure): end the call for the client. */
    const char *why = ev->reason[0] ? ev->reason : "closed";
    sb_call_actions_audit(out, p->tenant, p->user, p->room->id, why);
    end_participant(sm, p, why, out);
    reap(sm, out);
  }
}

void sb_call_sm_tick(sb_call_sm_t *sm, uint64_t now_ms, sb_call_actions_t *out) {
  int expired = 0;
  for (sb_call_room_t *r = sm->rooms; r; r = r->next)
    for (sb_participant_t *p = r->participants; p; p = p->next) {
      if (!p->offer_pending)
        continue;
      if (p->offer_seen_rev != p->revision) {
        p->offer_seen_rev = p->revision;
        p->offer_seen_ms = now_ms;
      } else if (now_ms - p->offer_seen_ms >= SB_CALL_OFFER_TIMEOUT_MS) {
        sb_warn(p->ctx, "offer %d not answered in %d s", p->revision, SB_CALL_OFFER_TIMEOUT_MS / 1000);
        p->failed = 1; /* ended by reap: ending here would change the lists being walked */
        expired = 1;
      }
    }
  if (expired)
    reap(sm, out);
}

void sb_call_sm_end_all(sb_call_sm_t *sm, const char *reason, sb_call_actions_t *out) {
  while (sm->rooms) {
    sb_call_room_t *r = sm->rooms;
    if (!r->participants) { /* not reached: a room goes with its last participant */
      sm->rooms = r->next;
      free(r);
      continue;
    }
    end_participant(sm, r->participants, reason, out); /* the last one frees r */
  }
}

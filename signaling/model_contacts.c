/* Contacts (private details, the 1:1 room) and blocks. */
#include "signaling/policy.h"

#include <stdio.h>
#include <string.h>

/* A contact as its owner sees it; `reachable` says whether the two may talk now. */
#define SB__CONTACT_SQL                                                                       \
  "SELECT u.id, u.tenant_id, u.name, c.display_name, c.phone, c.email, c.memo, "             \
  "(SELECT r.id FROM rooms r WHERE r.dm_low = CASE WHEN c.owner_uid < c.contact_uid THEN "    \
  "c.owner_uid ELSE c.contact_uid END AND r.dm_high = CASE WHEN c.owner_uid < c.contact_uid " \
  "THEN c.contact_uid ELSE c.owner_uid END) AS room, "                                        \
  "(u.tenant_id = ? OR (? = 1 AND " SB__PERMITTED_SQL " AND (SELECT COUNT(*) FROM "           \
  "connections k WHERE k.allowed = 1 AND ((k.tenant_id = ? AND k.peer_id = u.tenant_id) OR "  \
  "(k.tenant_id = u.tenant_id AND k.peer_id = ?))) = 2)) AS reachable "                       \
  "FROM contacts c JOIN users u ON u.uid = c.contact_uid JOIN tenants t ON t.id = u.tenant_id " \
  "WHERE c.owner_uid = ? "

static json_t *sb__contact_from_row(const json_t *row) {
  return json_pack("{s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:b}", "user",
                   sb__row_str(row, "id"), "tenant", sb__row_str(row, "tenant_id"), "name",
                   sb__row_str(row, "name"), "display_name", json_object_get(row, "display_name"),
                   "phone", json_object_get(row, "phone"), "email", json_object_get(row, "email"),
                   "memo", json_object_get(row, "memo"), "room", json_object_get(row, "room"),
                   "reachable", sb__row_bool(row, "reachable"));
}

/* The caller's contacts (only_uid: just that one), by tenant and id: those after `a`, at most
 * `limit` (0 = all). */
static int sb__contacts_query(sb_model_t *m, const sb__user_t *me, long long only_uid,
                              const sb__after_t *a, int limit, json_t **out) {
  static const sb__after_t first = {0};
  json_t *rows = NULL, *row;
  size_t i;
  if (!a)
    a = &first;
  int rc = sb_store_exec(m->st, &rows,
                         SB__CONTACT_SQL "AND (? = 0 OR c.contact_uid = ?) AND (? = 0 OR "
                         "u.tenant_id > ? OR (u.tenant_id = ? AND u.id > ?)) ORDER BY u.tenant_id, "
                         "u.id LIMIT ?", "sbsslllbsssi", me->tenant, me->permitted, me->tenant,
                         me->tenant, me->uid, only_uid, only_uid, a->set, a->tenant, a->tenant,
                         a->id, limit > 0 ? limit : 1 << 30);
  *out = json_array();
  json_array_foreach(rows, i, row) json_array_append_new(*out, sb__contact_from_row(row));
  json_decref(rows);
  return rc;
}

int sb_model_contacts_list(sb_model_t *m, const sb_principal_t *who, sb_model_page_t *page,
                           json_t **out, sb_model_err_t *err) {
  sb__user_t me;
  sb__after_t a;
  int rc;
  *out = NULL;
  page->next[0] = '\0';
  if ((rc = sb__page_start(page, 0, &a, err)) < 0 || (rc = sb__me(m, who, &me, err)) < 0)
    return rc;
  if ((rc = sb__contacts_query(m, &me, 0, &a, page->limit + 1, out)) < 0) {
    json_decref(*out);
    *out = NULL;
    return sb__dbfail(m, err, rc);
  }
  if (sb__page_trim(*out, page->limit)) {
    json_t *last = json_array_get(*out, json_array_size(*out) - 1);
    snprintf(page->next, sizeof page->next, "%s/%s",
             json_string_value(json_object_get(last, "tenant")),
             json_string_value(json_object_get(last, "user")));
  }
  return 0;
}

static int sb__check_contact_fields(const sb_contact_fields_t *f, sb_model_err_t *err) {
  int rc;
  if ((rc = sb__check_text("display_name", f->display_name, SB__NAME_MAX, 0, err)) < 0 ||
      (rc = sb__check_text("phone", f->phone, 64, 0, err)) < 0 ||
      (rc = sb__check_text("email", f->email, 254, 0, err)) < 0 ||
      (rc = sb__check_text("memo", f->memo, SB__TEXT_MAX, 1, err)) < 0)
    return rc;
  if (f->email && !strchr(f->email, '@'))
    return sb__fail(err, SB_MODEL_EBADREQ, "email must contain '@'");
  return 0;
}

/* Writes the fields named in f->set; a NULL value clears one. */
static int sb__contact_write(sb_model_t *m, long long owner, long long contact,
                             const sb_contact_fields_t *f) {
  return sb_store_exec(m->st, NULL,
                       "UPDATE contacts SET display_name = CASE WHEN ? = 1 THEN ? ELSE "
                       "display_name END, phone = CASE WHEN ? = 1 THEN ? ELSE phone END, "
                       "email = CASE WHEN ? = 1 THEN ? ELSE email END, memo = CASE WHEN ? = 1 "
                       "THEN ? ELSE memo END, updated_ms = ? WHERE owner_uid = ? AND "
                       "contact_uid = ?",
                       "bsbsbsbslll", f->set & SB_CONTACT_DISPLAY_NAME, f->display_name,
                       f->set & SB_CONTACT_PHONE, f->phone, f->set & SB_CONTACT_EMAIL, f->email,
                       f->set & SB_CONTACT_MEMO, f->memo, (long long)sb__now(m), owner, contact);
}

/* Finds or creates the 1:1 room of me and u and makes both members again. */
static int sb__direct_room_open(sb_model_t *m, const sb_principal_t *who, const sb__user_t *me,
                                const sb__user_t *u, char *room, size_t len, sb_effects_t *fx,
                                sb_model_err_t *err) {
  long long lo = me->uid < u->uid ? me->uid : u->uid, hi = me->uid < u->uid ? u->uid : me->uid;
  long long now = (long long)sb__now(m);
  const sb__user_t *pair[2] = {me, u};
  json_t *row = NULL;
  int rc = sb_store_get(m->st, &row, "SELECT id FROM rooms WHERE dm_low = ? AND dm_high = ?",
                        "ll", lo, hi);
  if (rc == 1)
    snprintf(room, len, "%s", sb__row_str(row, "id"));
  json_decref(row);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  if (rc == 0) {
    sb__user_t both[2] = {*me, *u};
    if ((rc = sb_policy_check_room(m, NULL, both, 2, err)) < 0)
      return rc;
    if (sb__new_id("d-", room, len) < 0)
      return sb__fail(err, SB_MODEL_EINTERNAL, "no randomness");
    rc = sb_store_exec(m->st, NULL,
                       "INSERT INTO rooms (id, kind, tenant_id, dm_low, dm_high, created_ms, "
                       "updated_ms) VALUES (?, 'direct', ?, ?, ?, ?, ?)", "ssllll", room,
                       me->tenant, lo, hi, now, now);
    if (rc >= 0)
      rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = me->tenant, .user = me->id,
                                       .room = room, .action = "room_create"});
    if (rc < 0)
      return sb__dbfail(m, err, rc);
  } else if ((rc = sb_policy_check_room(m, room, NULL, 0, err)) < 0) {
    return rc;
  }
  for (int i = 0; i < 2; i++) {
    rc = sb_store_get(m->st, &row, "SELECT uid FROM room_members WHERE room_id = ? AND uid = ?",
                      "sl", room, pair[i]->uid);
    json_decref(row);
    if (rc == 0) {
      rc = sb__member_insert(m, room, pair[i], 0, me, i ? SB__NOTIFY_ALL : SB__NOTIFY_NONE, fx);
      if (rc >= 0)
        rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = pair[i]->tenant,
                                         .user = pair[i]->id, .room = room,
                                         .action = "member_add", .reason = "contact_added"});
    }
    if (rc < 0)
      return sb__dbfail(m, err, rc);
  }
  return 0;
}

static int sb__contact_add_tx(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *ref,
                              const sb_contact_fields_t *f, json_t **out, sb_effects_t *fx,
                              sb_model_err_t *err) {
  sb__user_t me, u;
  char room[SB_ID_MAX + 1];
  json_t *list = NULL, *rj = NULL;
  long long now = (long long)sb__now(m);
  int rc;
  if ((rc = sb__me(m, who, &me, err)) < 0 || (rc = sb__check_contact_fields(f, err)) < 0)
    return rc;
  if (!strcmp(ref->tenant, me.tenant) && !strcmp(ref->user, me.id))
    return sb__fail(err, SB_MODEL_EBADREQ, "you cannot add yourself as a contact");
  if ((rc = sb__user_reachable(m, &me, ref, &u, err)) < 0)
    return rc;
  rc = sb_store_exec(m->st, NULL,
                     "INSERT INTO contacts (owner_uid, contact_uid, created_ms, updated_ms) "
                     "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", "llll", me.uid, u.uid, now, now);
  if (rc < 0 || (f->set && (rc = sb__contact_write(m, me.uid, u.uid, f)) < 0))
    return sb__dbfail(m, err, rc);
  if ((rc = sb__direct_room_open(m, who, &me, &u, room, sizeof room, fx, err)) < 0)
    return rc;
  if ((rc = sb__contacts_query(m, &me, u.uid, NULL, 0, &list)) >= 0)
    rc = sb__room_json(m, room, &me, 0, &rj);
  if (rc >= 0)
    *out = json_pack("{s:O, s:o}", "contact", json_array_get(list, 0), "room", rj);
  json_decref(list);
  return rc < 0 ? sb__dbfail(m, err, rc) : 0;
}

int sb_model_contact_add(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *user,
                         const sb_contact_fields_t *f, json_t **out, sb_effects_t *fx,
                         sb_model_err_t *err) {
  size_t mark;
  int rc = sb__begin(m, fx, &mark, err);
  *out = NULL;
  if (rc < 0)
    return rc;
  rc = sb__contact_add_tx(m, who, user, f, out, fx, err);
  rc = sb__finish(m, rc, fx, mark, err);
  if (rc < 0) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}

/* Loads the caller and a user the caller has a relation with (no reachability needed: one may
 * always edit or drop one's own contact or block). */
static int sb__me_and_user(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *ref,
                           sb__user_t *me, sb__user_t *u, sb_model_err_t *err) {
  int rc;
  if ((rc = sb__me(m, who, me, err)) < 0)
    return rc;
  if (!sb_model_valid_id(ref->tenant) || !sb_model_valid_id(ref->user))
    return sb__fail(err, SB_MODEL_EBADREQ, "invalid user or tenant id");
  if ((rc = sb__user_load(m, ref->tenant, ref->user, u)) < 0)
    return sb__dbfail(m, err, rc);
  return 0;
}

int sb_model_contact_update(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *user,
                            const sb_contact_fields_t *f, json_t **out, sb_model_err_t *err) {
  sb__user_t me, u = {0};
  json_t *list = NULL;
  int rc;
  *out = NULL;
  if ((rc = sb__me_and_user(m, who, user, &me, &u, err)) < 0 ||
      (rc = sb__check_contact_fields(f, err)) < 0)
    return rc;
  if (!f->set)
    return sb__fail(err, SB_MODEL_EBADREQ, "nothing to update");
  rc = u.uid ? sb__contact_write(m, me.uid, u.uid, f) : 0;
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  if (rc == 0)
    return sb__fail(err, SB_MODEL_ENOTFOUND, "contact not found");
  if ((rc = sb__contacts_query(m, &me, u.uid, NULL, 0, &list)) < 0) {
    json_decref(list);
    return sb__dbfail(m, err, rc);
  }
  *out = json_incref(json_array_get(list, 0));
  json_decref(list);
  return 0;
}

int sb_model_contact_remove(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *user,
                            sb_model_err_t *err) {
  sb__user_t me, u = {0};
  int rc;
  if ((rc = sb__me_and_user(m, who, user, &me, &u, err)) < 0)
    return rc;
  rc = u.uid ? sb_store_exec(m->st, NULL, "DELETE FROM contacts WHERE owner_uid = ? AND "
                             "contact_uid = ?", "ll", me.uid, u.uid)
             : 0;
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  return rc == 0 ? sb__fail(err, SB_MODEL_ENOTFOUND, "contact not found") : 0;
}

/* ---- blocks ---- */

int sb_model_blocks_list(sb_model_t *m, const sb_principal_t *who, sb_model_page_t *page,
                         json_t **out, sb_model_err_t *err) {
  sb__user_t me;
  sb__after_t a;
  json_t *rows = NULL, *row;
  size_t i;
  int rc;
  *out = NULL;
  page->next[0] = '\0';
  if ((rc = sb__page_start(page, 0, &a, err)) < 0 || (rc = sb__me(m, who, &me, err)) < 0)
    return rc;
  rc = sb_store_exec(m->st, &rows,
                     "SELECT u.id, u.tenant_id, u.name, k.created_ms FROM blocks k JOIN users u "
                     "ON u.uid = k.blocked_uid WHERE k.blocker_uid = ? AND (? = 0 OR u.tenant_id "
                     "> ? OR (u.tenant_id = ? AND u.id > ?)) ORDER BY u.tenant_id, u.id LIMIT ?",
                     "lbsssi", me.uid, a.set, a.tenant, a.tenant, a.id, page->limit + 1);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  if (sb__page_trim(rows, page->limit)) {
    row = json_array_get(rows, json_array_size(rows) - 1);
    snprintf(page->next, sizeof page->next, "%s/%s", sb__row_str(row, "tenant_id"),
             sb__row_str(row, "id"));
  }
  *out = json_array();
  json_array_foreach(rows, i, row) {
    json_array_append_new(*out, json_pack("{s:s, s:s, s:s, s:I}", "user", sb__row_str(row, "id"),
                                          "tenant", sb__row_str(row, "tenant_id"), "name",
                                          sb__row_str(row, "name"), "since",
                                          (json_int_t)sb__row_int(row, "created_ms")));
  }
  json_decref(rows);
  return 0;
}

/* Live calls shared by the two must re-read their media exclusions; a 1:1 call between them
 * ends on a block. The blocked user is told what a vanished room would tell them. */
static int sb__block_effects(sb_model_t *m, const sb__user_t *me, const sb__user_t *u, int block,
                             sb_effects_t *fx) {
  json_t *rooms = NULL, *row;
  size_t i;
  int rc = sb_store_exec(m->st, &rooms,
                         "SELECT r.id, r.kind FROM rooms r WHERE EXISTS (SELECT 1 FROM "
                         "room_members a JOIN room_members b ON b.room_id = a.room_id WHERE "
                         "a.room_id = r.id AND a.uid = ? AND b.uid = ?) ORDER BY r.id", "ll",
                         me->uid, u->uid);
  json_array_foreach(rooms, i, row) {
    const char *room = sb__row_str(row, "id");
    if (rc < 0)
      break;
    if (sb_effects_media(fx, room) < 0)
      rc = SB_STORE_ENOMEM;
    if (rc < 0 || !block || strcmp(sb__row_str(row, "kind"), "direct") != 0)
      continue;
    if (sb_effects_revoke(fx, me->tenant, me->id, room, "blocked") < 0 ||
        sb_effects_revoke(fx, u->tenant, u->id, room, "not_found") < 0)
      rc = SB_STORE_ENOMEM;
    if (rc >= 0)
      rc = sb__audit(m, &(sb__audit_t){.tenant = me->tenant, .user = me->id, .room = room,
                                       .action = "revoke", .reason = "blocked"});
    if (rc >= 0)
      rc = sb__audit(m, &(sb__audit_t){.tenant = u->tenant, .user = u->id, .room = room,
                                       .action = "revoke", .reason = "blocked_by_peer"});
  }
  json_decref(rooms);
  return rc < 0 ? rc : 0;
}

static int sb__block_tx(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *ref,
                        int block, sb_effects_t *fx, sb_model_err_t *err) {
  sb__user_t me, u = {0};
  char target[2 * SB_ID_MAX + 2];
  int rc;
  if (block) {
    if ((rc = sb__me(m, who, &me, err)) < 0)
      return rc;
    if (!strcmp(ref->tenant, me.tenant) && !strcmp(ref->user, me.id))
      return sb__fail(err, SB_MODEL_EBADREQ, "you cannot block yourself");
    if ((rc = sb__user_reachable(m, &me, ref, &u, err)) < 0)
      return rc;
    rc = sb_store_exec(m->st, NULL,
                       "INSERT INTO blocks (blocker_uid, blocked_uid, created_ms) VALUES "
                       "(?, ?, ?) ON CONFLICT DO NOTHING", "lll", me.uid, u.uid,
                       (long long)sb__now(m));
    if (rc == 0)
      return sb__fail(err, SB_MODEL_ECONFLICT, "already blocked");
  } else {
    if ((rc = sb__me_and_user(m, who, ref, &me, &u, err)) < 0)
      return rc;
    rc = u.uid ? sb_store_exec(m->st, NULL, "DELETE FROM blocks WHERE blocker_uid = ? AND "
                               "blocked_uid = ?", "ll", me.uid, u.uid)
               : 0;
    if (rc == 0)
      return sb__fail(err, SB_MODEL_ENOTFOUND, "block not found");
  }
  /* Only the blocker's tenant sees that a block exists. */
  snprintf(target, sizeof target, "%s/%s", u.tenant, u.id);
  if (rc >= 0)
    rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = me.tenant, .user = me.id,
                                     .action = block ? "block" : "unblock", .reason = target});
  if (rc >= 0)
    rc = sb__block_effects(m, &me, &u, block, fx);
  return rc < 0 ? sb__dbfail(m, err, rc) : 0;
}

int sb_model_block_add(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *user,
                       sb_effects_t *fx, sb_model_err_t *err) {
  size_t mark;
  int rc = sb__begin(m, fx, &mark, err);
  if (rc < 0)
    return rc;
  rc = sb__block_tx(m, who, user, 1, fx, err);
  return sb__finish(m, rc, fx, mark, err);
}

int sb_model_block_remove(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *user,
                          sb_effects_t *fx, sb_model_err_t *err) {
  size_t mark;
  int rc = sb__begin(m, fx, &mark, err);
  if (rc < 0)
    return rc;
  rc = sb__block_tx(m, who, user, 0, fx, err);
  return sb__finish(m, rc, fx, mark, err);
}

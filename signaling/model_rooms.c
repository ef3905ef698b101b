/* Rooms: loading, the client's view (external mark, 1:1 peer), listing, creation and updates. */
#include "signaling/policy.h"

#include <stdio.h>
#include <string.h>

/* A room as seen by member mm.uid: for a 1:1 room the peer is the other user of the pair, named
 * by the viewer's private contact name when there is one. */
#define SB__ROOM_VIEW_SQL                                                                     \
  "SELECT r.id, r.kind, r.name, r.photo_url, r.description, r.tenant_id AS home, r.updated_ms, " \
  SB__ROOM_TENANTS_SQL("r.id") " AS ntenants, "                                               \
  "(SELECT COUNT(*) FROM room_members x WHERE x.room_id = r.id) AS nmembers, "                \
  "mm.is_master AS master, p.id AS peer_id, p.tenant_id AS peer_tenant, p.name AS peer_name, " \
  "c.display_name AS contact_name "                                                           \
  "FROM rooms r JOIN room_members mm ON mm.room_id = r.id AND mm.uid = ? "                    \
  "LEFT JOIN users p ON p.uid = CASE WHEN r.dm_low = mm.uid THEN r.dm_high ELSE r.dm_low END " \
  "LEFT JOIN contacts c ON c.owner_uid = mm.uid AND c.contact_uid = p.uid "

static json_t *sb__room_from_row(const json_t *row) {
  int group = strcmp(sb__row_str(row, "kind"), "group") == 0;
  const char *name = sb__row_str(row, "name");
  json_t *o;

  if (!group)
    name = sb__row_str(row, "contact_name") ? sb__row_str(row, "contact_name")
                                            : sb__row_str(row, "peer_name");
  o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I}", "id", sb__row_str(row, "id"), "kind",
                group ? "group" : "direct", "name", name ? name : "", "photo_url",
                sb__row_str(row, "photo_url"), "description", sb__row_str(row, "description"),
                "external", sb__row_int(row, "ntenants") > 1, "member_count",
                (json_int_t)sb__row_int(row, "nmembers"));
  if (!o)
    return NULL;
  if (group)
    json_object_set_new(o, "master", json_boolean(sb__row_bool(row, "master")));
  else if (sb__row_str(row, "peer_id"))
    json_object_set_new(o, "peer",
                        json_pack("{s:s, s:s, s:s}", "user", sb__row_str(row, "peer_id"),
                                  "tenant", sb__row_str(row, "peer_tenant"), "name",
                                  sb__row_str(row, "peer_name")));
  return o;
}

static int sb__room_members_json(sb_model_t *m, const char *room, json_t **out) {
  json_t *rows = NULL, *arr = json_array();
  size_t i;
  json_t *row;
  int rc = sb_store_exec(m->st, &rows,
                         "SELECT u.id, u.tenant_id, u.name, x.is_master FROM room_members x "
                         "JOIN users u ON u.uid = x.uid WHERE x.room_id = ? "
                         "ORDER BY x.joined_ms, u.uid", "s", room);
  json_array_foreach(rows, i, row) {
    json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "user", sb__row_str(row, "id"),
                                         "tenant", sb__row_str(row, "tenant_id"), "name",
                                         sb__row_str(row, "name"), "master",
                                         sb__row_bool(row, "is_master")));
  }
  json_decref(rows);
  if (rc < 0) {
    json_decref(arr);
    arr = NULL;
  }
  *out = arr;
  return rc;
}

int sb__room_json(sb_model_t *m, const char *room, const sb__user_t *viewer, int with_members,
                  json_t **out) {
  json_t *row = NULL, *members = NULL;
  int rc = sb_store_get(m->st, &row, SB__ROOM_VIEW_SQL "WHERE r.id = ?", "ls", viewer->uid, room);
  *out = NULL;
  if (rc <= 0)
    return rc < 0 ? rc : SB_STORE_ERROR;
  *out = sb__room_from_row(row);
  json_decref(row);
  if (with_members && *out) {
    if ((rc = sb__room_members_json(m, room, &members)) < 0)
      return rc;
    json_object_set_new(*out, "members", members);
  }
  return *out ? 0 : SB_STORE_ENOMEM;
}

int sb__room_load(sb_model_t *m, const char *room, const sb__user_t *me, sb__room_t *r,
                  sb_model_err_t *err) {
  json_t *row = NULL;
  int rc;
  if (!sb_model_valid_id(room))
    return sb__fail(err, SB_MODEL_EBADREQ, "invalid room id");
  rc = sb_store_get(m->st, &row,
                    "SELECT r.kind, r.tenant_id, x.is_master FROM rooms r JOIN room_members x "
                    "ON x.room_id = r.id AND x.uid = ? WHERE r.id = ?", "ls", me->uid, room);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  if (rc == 0)
    return sb__fail(err, SB_MODEL_ENOTFOUND, "room not found");
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", room);
  snprintf(r->home, sizeof r->home, "%s", sb__row_str(row, "tenant_id"));
  r->group = strcmp(sb__row_str(row, "kind"), "group") == 0;
  r->is_master = sb__row_bool(row, "is_master");
  json_decref(row);
  return 0;
}

int sb__room_broadcast(sb_model_t *m, const char *room, const char *name, json_t *data,
                       sb_effects_t *fx) {
  json_t *rows = NULL, *row;
  size_t i;
  int rc = sb_store_exec(m->st, &rows,
                         "SELECT u.tenant_id, u.id FROM room_members x JOIN users u "
                         "ON u.uid = x.uid WHERE x.room_id = ?", "s", room);
  json_array_foreach(rows, i, row) {
    if (rc >= 0 && sb_effects_event(fx, sb__row_str(row, "tenant_id"), sb__row_str(row, "id"),
                                    name, json_incref(data)) < 0)
      rc = SB_STORE_ENOMEM;
  }
  json_decref(rows);
  return rc < 0 ? rc : 0;
}

int sb__member_insert(sb_model_t *m, const char *room, const sb__user_t *u, int master,
                      const sb__user_t *by, int notify, sb_effects_t *fx) {
  long long now = (long long)sb__now(m);
  json_t *data;
  int rc = sb_store_exec(m->st, NULL,
                         "INSERT INTO room_members (room_id, uid, is_master, joined_ms) "
                         "VALUES (?, ?, ?, ?)", "slbl", room, u->uid, master, now);
  if (rc >= 0)
    rc = sb_store_exec(m->st, NULL, "UPDATE rooms SET updated_ms = ? WHERE id = ?", "ls", now,
                       room);
  if (rc < 0 || notify == SB__NOTIFY_NONE)
    return rc;
  data = json_pack("{s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s}}", "room", room, "user", u->id,
                   "tenant", u->tenant, "name", u->name, "master", master, "by", "user", by->id,
                   "tenant", by->tenant);
  if (notify == SB__NOTIFY_ALL)
    rc = sb__room_broadcast(m, room, "room.member_added", data, fx);
  else
    rc = sb_effects_event(fx, u->tenant, u->id, "room.member_added", json_incref(data));
  json_decref(data);
  return rc;
}

int sb_model_rooms_list(sb_model_t *m, const sb_principal_t *who, sb_model_page_t *page,
                        json_t **out, sb_model_err_t *err) {
  sb__user_t me;
  sb__after_t a;
  json_t *rows = NULL, *row, *arr;
  size_t i;
  int rc;
  *out = NULL;
  page->next[0] = '\0';
  if ((rc = sb__page_start(page, 1, &a, err)) < 0 || (rc = sb__me(m, who, &me, err)) < 0)
    return rc;
  rc = sb_store_exec(m->st, &rows,
                     SB__ROOM_VIEW_SQL "WHERE (? = 0 OR r.updated_ms < ? OR (r.updated_ms = ? AND "
                     "r.id > ?)) ORDER BY r.updated_ms DESC, r.id LIMIT ?",
                     "lbllsi", me.uid, a.set, a.key_ms, a.key_ms, a.id, page->limit + 1);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  if (sb__page_trim(rows, page->limit)) {
    row = json_array_get(rows, json_array_size(rows) - 1);
    snprintf(page->next, sizeof page->next, "%lld.%s", sb__row_int(row, "updated_ms"),
             sb__row_str(row, "id"));
  }
  arr = json_array();
  json_array_foreach(rows, i, row) json_array_append_new(arr, sb__room_from_row(row));
  json_decref(rows);
  *out = arr;
  return 0;
}

int sb_model_room_get(sb_model_t *m, const sb_principal_t *who, const char *room, json_t **out,
                      sb_model_err_t *err) {
  sb__user_t me;
  sb__room_t r;
  int rc;
  *out = NULL;
  if ((rc = sb__me(m, who, &me, err)) < 0 || (rc = sb__room_load(m, room, &me, &r, err)) < 0)
    return rc;
  if ((rc = sb__room_json(m, room, &me, 1, out)) < 0)
    return sb__dbfail(m, err, rc);
  return 0;
}

static int sb__check_room_fields(const sb_room_fields_t *f, sb_model_err_t *err) {
  int rc;
  if ((rc = sb__check_text("name", f->name, SB__NAME_MAX, 0, err)) < 0 ||
      (rc = sb__check_text("photo_url", f->photo_url, SB__URL_MAX, 1, err)) < 0 ||
      (rc = sb__check_text("description", f->description, SB__TEXT_MAX, 1, err)) < 0)
    return rc;
  if (f->photo_url && f->photo_url[0] && strncmp(f->photo_url, "https://", 8) != 0 &&
      strncmp(f->photo_url, "http://", 7) != 0)
    return sb__fail(err, SB_MODEL_EBADREQ, "photo_url must be an http(s) URL");
  return 0;
}

/* Resolves the initial members of a new room: reachable, distinct, not the creator. */
static int sb__room_resolve_members(sb_model_t *m, const sb__user_t *me,
                                    const sb_user_ref_t *refs, size_t n, sb__user_t *users,
                                    sb_model_err_t *err) {
  int rc;
  for (size_t i = 0; i < n; i++) {
    if ((rc = sb__user_reachable(m, me, &refs[i], &users[i], err)) < 0)
      return rc;
    if (users[i].uid == me->uid)
      return sb__fail(err, SB_MODEL_EBADREQ, "the creator is a member already");
    for (size_t j = 0; j < i; j++)
      if (users[j].uid == users[i].uid)
        return sb__fail(err, SB_MODEL_EBADREQ, "member %s/%s listed twice", users[i].tenant,
                        users[i].id);
  }
  return 0;
}

static int sb__room_create_tx(sb_model_t *m, const sb_principal_t *who, const sb__user_t *me,
                              const sb_room_fields_t *f, const sb__user_t *users, size_t n,
                              json_t **out, sb_effects_t *fx, sb_model_err_t *err) {
  char id[SB_ID_MAX + 1];
  long long now = (long long)sb__now(m);
  int rc;

  if ((rc = sb_policy_check_room(m, NULL, users, n, err)) < 0)
    return rc;
  if (sb__new_id("g-", id, sizeof id) < 0)
    return sb__fail(err, SB_MODEL_EINTERNAL, "no randomness");
  rc = sb_store_exec(m->st, NULL,
                     "INSERT INTO rooms (id, kind, tenant_id, name, photo_url, description, "
                     "created_ms, updated_ms) VALUES (?, 'group', ?, ?, ?, ?, ?, ?)",
                     "sssssll", id, me->tenant, f->name, f->photo_url ? f->photo_url : "",
                     f->description ? f->description : "", now, now);
  if (rc >= 0)
    rc = sb__member_insert(m, id, me, 1, me, SB__NOTIFY_NONE, fx);
  for (size_t i = 0; rc >= 0 && i < n; i++)
    rc = sb__member_insert(m, id, &users[i], 0, me, SB__NOTIFY_SELF, fx);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  if ((rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = me->tenant, .user = me->id,
                                        .room = id, .action = "room_create"})) < 0 ||
      (rc = sb__room_json(m, id, me, 1, out)) < 0)
    return sb__dbfail(m, err, rc);
  return 0;
}

int sb_model_room_create(sb_model_t *m, const sb_principal_t *who, const sb_room_fields_t *f,
                         const sb_user_ref_t *members, size_t n, json_t **out, sb_effects_t *fx,
                         sb_model_err_t *err) {
  sb__user_t me, *users = NULL;
  size_t mark;
  int rc;

  *out = NULL;
  if ((rc = sb__me(m, who, &me, err)) < 0)
    return rc;
  if (!f->name)
    return sb__fail(err, SB_MODEL_EBADREQ, "name is required");
  if ((rc = sb__check_room_fields(f, err)) < 0)
    return rc;
  if (n + 1 > SB_MODEL_MAX_MEMBERS)
    return sb__fail(err, SB_MODEL_ELIMIT, "a room has at most %d members", SB_MODEL_MAX_MEMBERS);
  if (n && !(users = calloc(n, sizeof *users)))
    return sb__fail(err, SB_MODEL_EINTERNAL, "out of memory");
  if ((rc = sb__begin(m, fx, &mark, err)) < 0)
    goto Exit;
  rc = sb__room_resolve_members(m, &me, members, n, users, err);
  if (rc >= 0)
    rc = sb__room_create_tx(m, who, &me, f, users, n, out, fx, err);
  rc = sb__finish(m, rc, fx, mark, err);
Exit:
  free(users);
  if (rc < 0) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}

int sb_model_room_update(sb_model_t *m, const sb_principal_t *who, const char *room,
                         const sb_room_fields_t *f, json_t **out, sb_effects_t *fx,
                         sb_model_err_t *err) {
  sb__user_t me;
  sb__room_t r;
  json_t *data = NULL;
  size_t mark;
  int rc;

  *out = NULL;
  if ((rc = sb__me(m, who, &me, err)) < 0 || (rc = sb__check_room_fields(f, err)) < 0)
    return rc;
  if (!f->name && !f->photo_url && !f->description)
    return sb__fail(err, SB_MODEL_EBADREQ, "nothing to update");
  if ((rc = sb__begin(m, fx, &mark, err)) < 0)
    return rc;
  if ((rc = sb__room_load(m, room, &me, &r, err)) < 0)
    goto Exit;
  if (!r.group || !r.is_master) {
    rc = sb__fail(err, SB_MODEL_EFORBIDDEN, "only a master of a group room may change it");
    goto Exit;
  }
  rc = sb_store_exec(m->st, NULL,
                     "UPDATE rooms SET name = COALESCE(?, name), photo_url = COALESCE(?, "
                     "photo_url), description = COALESCE(?, description), updated_ms = ? "
                     "WHERE id = ?", "sssls", f->name, f->photo_url, f->description,
                     (long long)sb__now(m), room);
  if (rc >= 0)
    rc = sb__room_json(m, room, &me, 0, out);
  if (rc >= 0) {
    data = json_pack("{s:s, s:O, s:O, s:O, s:O}", "room", room, "name",
                     json_object_get(*out, "name"), "photo_url", json_object_get(*out, "photo_url"),
                     "description", json_object_get(*out, "description"), "external",
                     json_object_get(*out, "external"));
    rc = sb__room_broadcast(m, room, "room.updated", data, fx);
  }
  if (rc >= 0)
    rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = me.tenant, .user = me.id,
                                     .room = room, .action = "room_update"});
  if (rc < 0)
    rc = sb__dbfail(m, err, rc);
Exit:
  json_decref(data);
  rc = sb__finish(m, rc, fx, mark, err);
  if (rc < 0) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}

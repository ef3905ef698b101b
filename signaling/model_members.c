/* Room membership: adding and removing members, the master role, leaving. The master rules:
 * only masters manage members and roles, masters of external rooms hold the external permission,
 * and a group room with members always keeps a master. */
#include "signaling/policy.h"

#include <stdio.h>
#include <string.h>

static int sb__count_masters(sb_model_t *m, const char *room) {
  json_t *row = NULL;
  int rc = sb_store_get(m->st, &row,
                        "SELECT COUNT(*) AS n FROM room_members WHERE room_id = ? AND "
                        "is_master = 1", "s", room);
  if (rc == 1)
    rc = (int)sb__row_int(row, "n");
  json_decref(row);
  return rc;
}

/* After an automatic removal: a group room with members but no master gets its longest-standing
 * member as master, so the room stays manageable. */
static int sb__promote_if_masterless(sb_model_t *m, const char *room, sb_effects_t *fx) {
  json_t *row = NULL, *data;
  sb__user_t u;
  int rc = sb_store_get(m->st, &row,
                        "SELECT x.uid FROM room_members x JOIN rooms r ON r.id = x.room_id "
                        "WHERE x.room_id = ? AND r.kind = 'group' AND NOT EXISTS (SELECT 1 FROM "
                        "room_members y WHERE y.room_id = x.room_id AND y.is_master = 1) "
                        "ORDER BY x.joined_ms, x.uid LIMIT 1", "s", room);
  if (rc == 1)
    rc = sb__user_load_uid(m, sb__row_int(row, "uid"), &u);
  json_decref(row);
  if (rc <= 0)
    return rc;
  rc = sb_store_exec(m->st, NULL, "UPDATE room_members SET is_master = 1 WHERE room_id = ? AND "
                     "uid = ?", "sl", room, u.uid);
  if (rc < 0)
    return rc;
  data = json_pack("{s:s, s:s, s:s, s:b, s:s}", "room", room, "user", u.id, "tenant", u.tenant,
                   "master", 1, "reason", "last_master_removed");
  rc = sb__room_broadcast(m, room, "room.member_updated", data, fx);
  json_decref(data);
  if (rc >= 0)
    rc = sb__audit(m, &(sb__audit_t){.tenant = u.tenant, .user = u.id, .room = room,
                                     .action = "master_grant", .reason = "last_master_removed"});
  return rc;
}

int sb__member_delete(sb_model_t *m, const char *room, const sb__user_t *u, const char *reason,
                      const sb_principal_t *actor, sb_effects_t *fx) {
  json_t *data;
  int rc = sb_store_exec(m->st, NULL, "DELETE FROM room_members WHERE room_id = ? AND uid = ?",
                         "sl", room, u->uid);
  if (rc <= 0)
    return rc;
  rc = sb_store_exec(m->st, NULL, "UPDATE rooms SET updated_ms = ? WHERE id = ?", "ls",
                     (long long)sb__now(m), room);
  if (rc < 0)
    return rc;
  data = json_pack("{s:s, s:s, s:s, s:s, s:s}", "room", room, "user", u->id, "tenant", u->tenant,
                   "name", u->name, "reason", reason);
  rc = sb__room_broadcast(m, room, "room.member_removed", data, fx);
  if (rc >= 0 && sb_effects_event(fx, u->tenant, u->id, "room.member_removed", json_incref(data)))
    rc = SB_STORE_ENOMEM;
  json_decref(data);
  if (rc >= 0 && sb_effects_revoke(fx, u->tenant, u->id, room, reason) < 0)
    rc = SB_STORE_ENOMEM;
  if (rc >= 0)
    rc = sb__audit(m, &(sb__audit_t){.actor = actor, .tenant = u->tenant, .user = u->id,
                                     .room = room, .action = "member_remove", .reason = reason});
  if (rc >= 0)
    rc = sb__audit(m, &(sb__audit_t){.actor = actor, .tenant = u->tenant, .user = u->id,
                                     .room = room, .action = "revoke", .reason = reason});
  if (rc >= 0)
    rc = sb__promote_if_masterless(m, room, fx);
  return rc;
}

/* Loads the caller, the room (caller must be a member) and, if ref is given, the target member. */
typedef struct {
  sb__user_t me, target;
  sb__room_t room;
  int target_master;
} sb__member_ctx_t;

static int sb__member_ctx(sb_model_t *m, const sb_principal_t *who, const char *room,
                          const sb_user_ref_t *ref, int need_master, sb__member_ctx_t *c,
                          sb_model_err_t *err) {
  json_t *row = NULL;
  int rc;
  if ((rc = sb__me(m, who, &c->me, err)) < 0 || (rc = sb__room_load(m, room, &c->me, &c->room,
                                                                     err)) < 0)
    return rc;
  if (need_master && (!c->room.group || !c->room.is_master))
    return sb__fail(err, SB_MODEL_EFORBIDDEN, c->room.group ? "only a master may do this"
                                                            : "1:1 rooms have no masters");
  if (!ref)
    return 0;
  if (!sb_model_valid_id(ref->tenant) || !sb_model_valid_id(ref->user))
    return sb__fail(err, SB_MODEL_EBADREQ, "invalid user or tenant id");
  rc = sb_store_get(m->st, &row,
                    "SELECT x.is_master FROM room_members x JOIN users u ON u.uid = x.uid "
                    "WHERE x.room_id = ? AND u.tenant_id = ? AND u.id = ?", "sss", room,
                    ref->tenant, ref->user);
  if (rc == 1) {
    c->target_master = sb__row_bool(row, "is_master");
    rc = sb__user_load(m, ref->tenant, ref->user, &c->target);
  }
  json_decref(row);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  return rc == 1 ? 0 : sb__fail(err, SB_MODEL_ENOTFOUND, "no such member");
}

static int sb__add_member_tx(sb_model_t *m, const sb_principal_t *who, const char *room,
                             const sb_user_ref_t *ref, sb_effects_t *fx, sb_model_err_t *err) {
  sb__member_ctx_t c;
  sb__user_t u;
  json_t *row = NULL;
  int rc;
  if ((rc = sb__member_ctx(m, who, room, NULL, 1, &c, err)) < 0 ||
      (rc = sb__user_reachable(m, &c.me, ref, &u, err)) < 0)
    return rc;
  rc = sb_store_get(m->st, &row,
                    "SELECT COUNT(*) AS n, SUM(CASE WHEN uid = ? THEN 1 ELSE 0 END) AS here "
                    "FROM room_members WHERE room_id = ?", "ls", u.uid, room);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  if (sb__row_int(row, "here") > 0)
    rc = sb__fail(err, SB_MODEL_ECONFLICT, "already a member");
  else if (sb__row_int(row, "n") >= SB_MODEL_MAX_MEMBERS)
    rc = sb__fail(err, SB_MODEL_ELIMIT, "a room has at most %d members", SB_MODEL_MAX_MEMBERS);
  json_decref(row);
  if (rc < 0 || (rc = sb_policy_check_room(m, room, &u, 1, err)) < 0)
    return rc;
  if ((rc = sb__member_insert(m, room, &u, 0, &c.me, SB__NOTIFY_ALL, fx)) < 0 ||
      (rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = u.tenant, .user = u.id,
                                        .room = room, .action = "member_add"})) < 0)
    return sb__dbfail(m, err, rc);
  return 0;
}

int sb_model_room_add_member(sb_model_t *m, const sb_principal_t *who, const char *room,
                             const sb_user_ref_t *user, sb_effects_t *fx, sb_model_err_t *err) {
  size_t mark;
  int rc = sb__begin(m, fx, &mark, err);
  if (rc < 0)
    return rc;
  rc = sb__add_member_tx(m, who, room, user, fx, err);
  return sb__finish(m, rc, fx, mark, err);
}

int sb_model_room_remove_member(sb_model_t *m, const sb_principal_t *who, const char *room,
                                const sb_user_ref_t *user, sb_effects_t *fx,
                                sb_model_err_t *err) {
  sb__member_ctx_t c;
  size_t mark;
  int rc = sb__begin(m, fx, &mark, err);
  if (rc < 0)
    return rc;
  rc = sb__member_ctx(m, who, room, user, 1, &c, err);
  if (rc >= 0 && c.target.uid == c.me.uid)
    rc = sb__fail(err, SB_MODEL_EBADREQ, "use rooms.leave to leave a room");
  if (rc >= 0 && (rc = sb__member_delete(m, room, &c.target, "member_removed", who, fx)) < 0)
    rc = sb__dbfail(m, err, rc);
  return sb__finish(m, rc, fx, mark, err);
}

static int sb__set_master_tx(sb_model_t *m, const sb_principal_t *who, const char *room,
                             const sb_user_ref_t *ref, int master, sb_effects_t *fx,
                             sb_model_err_t *err) {
  sb__member_ctx_t c;
  json_t *data, *row = NULL;
  int rc;
  if ((rc = sb__member_ctx(m, who, room, ref, 1, &c, err)) < 0)
    return rc;
  if (c.target_master == master)
    return sb__fail(err, SB_MODEL_ECONFLICT, master ? "already a master" : "not a master");
  if (master && !c.target.permitted) {
    rc = sb_store_get(m->st, &row, "SELECT " SB__ROOM_TENANTS_SQL("?") " AS n", "s", room);
    int external = rc == 1 && sb__row_int(row, "n") > 1;
    json_decref(row);
    if (rc < 0)
      return sb__dbfail(m, err, rc);
    if (external)
      return sb__fail(err, SB_MODEL_EFORBIDDEN,
                      "masters of an external room need the external permission");
  }
  if (!master && (rc = sb__count_masters(m, room)) <= 1)
    return rc < 0 ? sb__dbfail(m, err, rc)
                  : sb__fail(err, SB_MODEL_ECONFLICT, "a room keeps at least one master");
  rc = sb_store_exec(m->st, NULL, "UPDATE room_members SET is_master = ? WHERE room_id = ? AND "
                     "uid = ?", "bsl", master, room, c.target.uid);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  data = json_pack("{s:s, s:s, s:s, s:b, s:{s:s, s:s}}", "room", room, "user", c.target.id,
                   "tenant", c.target.tenant, "master", master, "by", "user", c.me.id, "tenant",
                   c.me.tenant);
  rc = sb__room_broadcast(m, room, "room.member_updated", data, fx);
  json_decref(data);
  if (rc >= 0)
    rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = c.target.tenant,
                                     .user = c.target.id, .room = room,
                                     .action = master ? "master_grant" : "master_revoke"});
  return rc < 0 ? sb__dbfail(m, err, rc) : 0;
}

int sb_model_room_set_master(sb_model_t *m, const sb_principal_t *who, const char *room,
                             const sb_user_ref_t *user, int master, sb_effects_t *fx,
                             sb_model_err_t *err) {
  size_t mark;
  int rc = sb__begin(m, fx, &mark, err);
  if (rc < 0)
    return rc;
  rc = sb__set_master_tx(m, who, room, user, master ? 1 : 0, fx, err);
  return sb__finish(m, rc, fx, mark, err);
}

int sb_model_room_leave(sb_model_t *m, const sb_principal_t *who, const char *room,
                        sb_effects_t *fx, sb_model_err_t *err) {
  sb__member_ctx_t c;
  json_t *row = NULL;
  size_t mark;
  int rc = sb__begin(m, fx, &mark, err);
  if (rc < 0)
    return rc;
  if ((rc = sb__member_ctx(m, who, room, NULL, 0, &c, err)) < 0)
    goto Exit;
  if (c.room.group && c.room.is_master) {
    rc = sb_store_get(m->st, &row,
                      "SELECT SUM(is_master) AS masters, COUNT(*) AS n FROM room_members "
                      "WHERE room_id = ?", "s", room);
    if (rc >= 0 && sb__row_int(row, "masters") == 1 && sb__row_int(row, "n") > 1)
      rc = sb__fail(err, SB_MODEL_ECONFLICT,
                    "the last master must grant the role to another member before leaving");
    else if (rc < 0)
      rc = sb__dbfail(m, err, rc);
    json_decref(row);
    if (rc < 0)
      goto Exit;
  }
  if ((rc = sb__member_delete(m, room, &c.me, "left", who, fx)) < 0)
    rc = sb__dbfail(m, err, rc);
Exit:
  return sb__finish(m, rc, fx, mark, err);
}

/* The cross-company rules: connections, eligibility of room members, automatic exclusion,
 * admission of calls and the media exclusions of blocks. */
#include "signaling/policy.h"

#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_policy_connected(sb_model_t *m, const char *a, const char *b) {
  json_t *row = NULL;
  int rc = sb_store_get(m->st, &row,
                        "SELECT COUNT(*) AS n FROM connections WHERE allowed = 1 AND "
                        "((tenant_id = ? AND peer_id = ?) OR (tenant_id = ? AND peer_id = ?))",
                        "ssss", a, b, b, a);
  if (rc == 1)
    rc = sb__row_int(row, "n") == 2;
  json_decref(row);
  return rc;
}

/* The distinct tenants of a set of users, at most `cap` kept. */
static size_t sb__tenant_set(const sb__user_t *users, size_t n, const char **set, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < k && strcmp(set[j], users[i].tenant) != 0)
      j++;
    if (j == k && k < cap)
      set[k++] = users[i].tenant;
  }
  return k;
}

static int sb__check_users(sb_model_t *m, const sb__user_t *users, size_t n,
                           sb_model_err_t *err) {
  const char *set[SB_MODEL_MAX_MEMBERS];
  size_t k = sb__tenant_set(users, n, set, SB_ARRAY_SIZE(set));
  int rc;
  if (k < 2)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!users[i].permitted)
      return sb__fail(err, SB_MODEL_EFORBIDDEN,
                      "%s/%s is not permitted to take part in external rooms", users[i].tenant,
                      users[i].id);
  for (size_t i = 0; i < k; i++)
    for (size_t j = i + 1; j < k; j++) {
      if ((rc = sb_policy_connected(m, set[i], set[j])) < 0)
        return sb__dbfail(m, err, rc);
      if (rc == 0)
        return sb__fail(err, SB_MODEL_EFORBIDDEN,
                        "tenants %s and %s of this room are not connected", set[i], set[j]);
    }
  return 0;
}

int sb_policy_check_room(sb_model_t *m, const char *room, const sb__user_t *add, size_t n,
                          sb_model_err_t *err) {
  json_t *rows = NULL, *row;
  sb__user_t *all;
  size_t i, k = 0;
  int rc = 0;

  /* A 1:1 room's pair counts even when one of them left: see the room_tenants view. */
  if (room)
    rc = sb_store_exec(m->st, &rows,
                       SB__USER_SQL "WHERE u.uid IN (SELECT uid FROM room_members WHERE "
                       "room_id = ?) OR u.uid IN (SELECT dm_low FROM rooms WHERE id = ?) OR "
                       "u.uid IN (SELECT dm_high FROM rooms WHERE id = ?)", "sss", room, room,
                       room);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  if (!(all = calloc(json_array_size(rows) + n + 1, sizeof *all))) {
    json_decref(rows);
    return sb__fail(err, SB_MODEL_EINTERNAL, "out of memory");
  }
  json_array_foreach(rows, i, row) sb__user_from_row(row, &all[k++]);
  json_decref(rows);
  for (i = 0; i < n; i++)
    all[k++] = add[i];
  rc = sb__check_users(m, all, k, err);
  free(all);
  return rc;
}

/* ---- automatic exclusion ---- */

static int sb__remove_uids(sb_model_t *m, const char *room, json_t *rows, const char *reason,
                           const sb_principal_t *actor, sb_effects_t *fx) {
  json_t *row;
  size_t i;
  int rc = 0;
  json_array_foreach(rows, i, row) {
    sb__user_t u;
    if (rc >= 0 && (rc = sb__user_load_uid(m, sb__row_int(row, "uid"), &u)) == 1)
      rc = sb__member_delete(m, room, &u, reason, actor, fx);
  }
  return rc < 0 ? rc : 0;
}

int sb_policy_exclude_user(sb_model_t *m, const sb__user_t *u, const sb_principal_t *actor,
                     sb_effects_t *fx) {
  json_t *rooms = NULL, *row;
  size_t i;
  int rc = sb_store_exec(m->st, &rooms,
                         "SELECT x.room_id FROM room_members x WHERE x.uid = ? AND "
                         SB__ROOM_TENANTS_SQL("x.room_id") " > 1 ORDER BY x.room_id", "l",
                         u->uid);
  json_array_foreach(rooms, i, row) {
    if (rc >= 0)
      rc = sb__member_delete(m, sb__row_str(row, "room_id"), u, "permission_withdrawn", actor,
                             fx);
  }
  json_decref(rooms);
  return rc < 0 ? rc : 0;
}

/* Which members leave a room that holds both a and b: everyone in a 1:1 room; in a group room the
 * side that is not the room's home tenant, or both sides when neither is (a room of a third
 * tenant cannot choose between two guests). */
int sb_policy_exclude_connection(sb_model_t *m, const char *a, const char *b,
                           const sb_principal_t *actor, sb_effects_t *fx) {
  json_t *rooms = NULL, *room, *uids = NULL;
  size_t i;
  int rc = sb_store_exec(m->st, &rooms,
                         "SELECT r.id, r.kind, r.tenant_id FROM rooms r WHERE "
                         "EXISTS (SELECT 1 FROM room_tenants x WHERE x.room_id = r.id AND "
                         "x.tenant_id = ?) AND EXISTS (SELECT 1 FROM room_tenants y WHERE "
                         "y.room_id = r.id AND y.tenant_id = ?) ORDER BY r.id", "ss", a, b);
  json_array_foreach(rooms, i, room) {
    const char *id = sb__row_str(room, "id"), *home = sb__row_str(room, "tenant_id");
    const char *t1 = a, *t2 = b;
    if (rc < 0)
      break;
    if (strcmp(sb__row_str(room, "kind"), "group") == 0) {
      if (strcmp(home, a) == 0)
        t1 = t2 = b;
      else if (strcmp(home, b) == 0)
        t1 = t2 = a;
    }
    rc = sb_store_exec(m->st, &uids,
                       "SELECT x.uid FROM room_members x JOIN users u ON u.uid = x.uid WHERE "
                       "x.room_id = ? AND u.tenant_id IN (?, ?) ORDER BY x.joined_ms, x.uid",
                       "sss", id, t1, t2);
    if (rc >= 0)
      rc = sb__remove_uids(m, id, uids, "connection_revoked", actor, fx);
    json_decref(uids);
    uids = NULL;
  }
  json_decref(rooms);
  return rc < 0 ? rc : 0;
}

/* ---- admission ---- */

typedef struct {
  int status;
  const char *client; /* what the client is told */
  char audit[sizeof(((sb_model_err_t *)0)->message)]; /* the real reason */
} sb__verdict_t;

static int sb__verdict(sb__verdict_t *v, int status, const char *client, const char *audit) {
  v->status = status;
  v->client = client;
  snprintf(v->audit, sizeof v->audit, "%s", audit);
  return status;
}

/* Blocks only matter for admission in a 1:1 room: a group call stays open and the pairs are
 * kept apart by sb_model_media_exclusions(). */
static int sb__admit_direct(sb_model_t *m, const sb__user_t *u, const char *room,
                            sb__verdict_t *v) {
  json_t *row = NULL;
  int rc = sb_store_get(m->st, &row,
                        "SELECT SUM(CASE WHEN k.blocker_uid = ? THEN 1 ELSE 0 END) AS mine, "
                        "SUM(CASE WHEN k.blocked_uid = ? THEN 1 ELSE 0 END) AS theirs "
                        "FROM rooms r JOIN blocks k ON (k.blocker_uid = r.dm_low AND "
                        "k.blocked_uid = r.dm_high) OR (k.blocker_uid = r.dm_high AND "
                        "k.blocked_uid = r.dm_low) WHERE r.id = ?", "lls", u->uid, u->uid, room);
  long long mine = sb__row_int(row, "mine"), theirs = sb__row_int(row, "theirs");
  json_decref(row);
  if (rc < 0)
    return sb__verdict(v, SB_MODEL_EINTERNAL, "internal error", "storage failure");
  if (theirs > 0) /* told nothing: the same answer as a room that does not exist */
    return sb__verdict(v, SB_MODEL_ENOTFOUND, "room not found", "blocked_by_peer");
  if (mine > 0)
    return sb__verdict(v, SB_MODEL_EFORBIDDEN, "you blocked this user", "blocked");
  return 0;
}

static int sb__admit_check(sb_model_t *m, const char *tenant, const char *user, const char *room,
                           sb__verdict_t *v) {
  sb__user_t u;
  sb__room_t r;
  sb_model_err_t err;
  int rc;
  if (!sb_model_valid_id(tenant) || !sb_model_valid_id(user) || !sb_model_valid_id(room))
    return sb__verdict(v, SB_MODEL_ENOTFOUND, "room not found", "invalid id");
  if ((rc = sb__user_load(m, tenant, user, &u)) <= 0)
    return rc < 0 ? sb__verdict(v, SB_MODEL_EINTERNAL, "internal error", "storage failure")
                  : sb__verdict(v, SB_MODEL_ENOTFOUND, "room not found", "unknown user");
  if ((rc = sb__room_load(m, room, &u, &r, &err)) < 0)
    return sb__verdict(v, rc, rc == SB_MODEL_ENOTFOUND ? "room not found" : "internal error",
                       rc == SB_MODEL_ENOTFOUND ? "not_member" : "storage failure");
  if ((rc = sb_policy_check_room(m, room, NULL, 0, &err)) < 0) {
    int perm = !u.permitted;
    return sb__verdict(v, rc, rc == SB_MODEL_EFORBIDDEN ? err.message : "internal error",
                       perm ? "permission_withdrawn"
                            : rc == SB_MODEL_EFORBIDDEN ? "connection_revoked" : err.message);
  }
  return r.group ? 0 : sb__admit_direct(m, &u, room, v);
}

int sb_model_admit(sb_model_t *m, const char *tenant, const char *user, const char *room,
                   char *reason, size_t len) {
  sb__verdict_t v = {0};
  sb_principal_t p = {0};
  int rc = sb__admit_check(m, tenant, user, room, &v);
  const char *t = sb_model_valid_id(tenant) ? tenant : NULL;
  snprintf(p.tenant, sizeof p.tenant, "%s", t ? tenant : "");
  snprintf(p.user, sizeof p.user, "%s", sb_model_valid_id(user) ? user : "");
  if (reason && len)
    snprintf(reason, len, "%s", rc < 0 ? v.client : "admitted");
  /* The audit entry is written even for a denial; a failing audit write refuses admission. */
  if (sb__audit(m, &(sb__audit_t){.actor = t ? &p : NULL, .tenant = t, .user = p.user,
                                  .room = sb_model_valid_id(room) ? room : NULL,
                                  .action = rc < 0 ? "deny" : "admit",
                                  .reason = rc < 0 ? v.audit : ""}) < 0 && rc >= 0) {
    if (reason && len)
      snprintf(reason, len, "internal error");
    return SB_MODEL_EINTERNAL;
  }
  return rc < 0 ? rc : 0;
}

int sb_model_still_admitted(sb_model_t *m, const char *tenant, const char *user,
                            const char *room, char *why, size_t len) {
  sb__verdict_t v = {0};
  int rc = sb__admit_check(m, tenant, user, room, &v);
  if (rc < 0 && why && len) /* the revocation reasons of docs/protocol.md */
    snprintf(why, len, "%s",
             !strcmp(v.audit, "not_member")             ? "member_removed"
             : !strcmp(v.audit, "blocked")              ? "blocked"
             : !strcmp(v.audit, "blocked_by_peer")      ? "not_found"
             : !strcmp(v.audit, "permission_withdrawn") ? "permission_withdrawn"
             : !strcmp(v.audit, "connection_revoked")   ? "connection_revoked"
                                                        : "not_found");
  return rc == SB_MODEL_EINTERNAL ? rc : rc < 0 ? 0 : 1;
}

int sb_model_audit_revocation(sb_model_t *m, const char *tenant, const char *user,
                              const char *room, const char *reason) {
  int rc = sb__audit(m, &(sb__audit_t){.tenant = tenant, .user = user, .room = room,
                                       .action = "revoke", .reason = reason});
  return rc < 0 ? SB_MODEL_EINTERNAL : 0;
}

int sb_model_media_exclusions(sb_model_t *m, const char *room, sb_user_pair_t **pairs,
                              size_t *n) {
  json_t *rows = NULL, *row;
  size_t i;
  int rc = sb_store_exec(m->st, &rows,
                         "SELECT a.tenant_id AS at, a.id AS ai, b.tenant_id AS bt, b.id AS bi "
                         "FROM blocks k JOIN room_members ma ON ma.uid = k.blocker_uid "
                         "JOIN room_members mb ON mb.uid = k.blocked_uid AND mb.room_id = "
                         "ma.room_id JOIN users a ON a.uid = k.blocker_uid JOIN users b ON "
                         "b.uid = k.blocked_uid WHERE ma.room_id = ? ORDER BY a.uid, b.uid",
                         "s", room);
  *pairs = NULL;
  *n = 0;
  if (rc < 0)
    return SB_MODEL_EINTERNAL;
  if (json_array_size(rows) && !(*pairs = calloc(json_array_size(rows), sizeof **pairs))) {
    json_decref(rows);
    return SB_MODEL_EINTERNAL;
  }
  json_array_foreach(rows, i, row) {
    sb_user_pair_t *p = &(*pairs)[i];
    snprintf(p->a.tenant, sizeof p->a.tenant, "%s", sb__row_str(row, "at"));
    snprintf(p->a.user, sizeof p->a.user, "%s", sb__row_str(row, "ai"));
    snprintf(p->b.tenant, sizeof p->b.tenant, "%s", sb__row_str(row, "bt"));
    snprintf(p->b.user, sizeof p->b.user, "%s", sb__row_str(row, "bi"));
  }
  *n = json_array_size(rows);
  json_decref(rows);
  return (int)*n;
}

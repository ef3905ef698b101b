/* Notifications: stored per user, sent at once to connected sessions (an event effect) and
 * handed to the next session of a user who was offline. */
#include "signaling/model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *sb__notification_from_row(const json_t *row, int with_delivered) {
  json_t *data = json_loads(sb__row_str(row, "data"), 0, NULL);
  json_t *o = json_pack("{s:I, s:s, s:o, s:I}", "id", (json_int_t)sb__row_int(row, "id"), "kind",
                        sb__row_str(row, "kind"), "data", data ? data : json_object(), "time",
                        (json_int_t)sb__row_int(row, "created_ms"));
  if (o && with_delivered)
    json_object_set_new(o, "delivered", json_boolean(!json_is_null(json_object_get(row,
                                                                               "delivered_ms"))));
  return o;
}

int sb__notify_connection_usable(sb_model_t *m, const char *a, const char *b, sb_effects_t *fx) {
  json_t *users = NULL, *u, *tenants = NULL;
  long long now = (long long)sb__now(m);
  size_t i;
  int rc = sb_store_exec(m->st, &tenants, "SELECT id, name FROM tenants WHERE id IN (?, ?)", "ss",
                         a, b);
  if (rc >= 0)
    rc = sb_store_exec(m->st, &users,
                       "SELECT u.uid, u.tenant_id, u.id FROM users u JOIN tenants t ON "
                       "t.id = u.tenant_id WHERE u.tenant_id IN (?, ?) AND " SB__PERMITTED_SQL
                       " ORDER BY u.uid", "ss", a, b);
  json_array_foreach(users, i, u) {
    const char *mine = sb__row_str(u, "tenant_id");
    json_t *peer = json_array_get(tenants, 0), *row = NULL, *data, *ev;
    if (rc < 0)
      break;
    if (strcmp(sb__row_str(peer, "id"), mine) == 0)
      peer = json_array_get(tenants, 1);
    data = json_pack("{s:s, s:s}", "tenant", sb__row_str(peer, "id"), "name",
                     sb__row_str(peer, "name"));
    char *text = json_dumps(data, JSON_COMPACT);
    rc = sb_store_get(m->st, &row,
                      "INSERT INTO notifications (uid, kind, data, created_ms) VALUES "
                      "(?, 'connection_usable', ?, ?) RETURNING id", "lsl",
                      sb__row_int(u, "uid"), text, now);
    free(text);
    if (rc == 1) {
      ev = json_pack("{s:I, s:s, s:O, s:I}", "id", (json_int_t)sb__row_int(row, "id"), "kind",
                     "connection_usable", "data", data, "time", (json_int_t)now);
      rc = sb_effects_event(fx, mine, sb__row_str(u, "id"), "notification", ev);
    }
    json_decref(row);
    json_decref(data);
  }
  json_decref(users);
  json_decref(tenants);
  return rc < 0 ? rc : 0;
}

int sb_model_notifications_list(sb_model_t *m, const sb_principal_t *who, int pending_only,
                                int limit, json_t **out, sb_model_err_t *err) {
  sb__user_t me;
  json_t *rows = NULL, *row;
  size_t i;
  int rc;
  *out = NULL;
  if ((rc = sb__me(m, who, &me, err)) < 0)
    return rc;
  if (limit < 1 || limit > 500)
    return sb__fail(err, SB_MODEL_EBADREQ, "limit must be 1 to 500");
  rc = sb_store_exec(m->st, &rows,
                     "SELECT id, kind, data, created_ms, delivered_ms FROM notifications WHERE "
                     "uid = ? AND (? = 0 OR delivered_ms IS NULL) ORDER BY id DESC LIMIT ?",
                     "lbi", me.uid, pending_only, limit);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  *out = json_array();
  json_array_foreach(rows, i, row) json_array_append_new(*out, sb__notification_from_row(row, 1));
  json_decref(rows);
  return 0;
}

int sb_model_notifications_take(sb_model_t *m, const char *tenant, const char *user,
                                json_t **out) {
  sb__user_t u;
  json_t *rows = NULL, *row;
  size_t i;
  int rc;
  *out = NULL;
  if (!sb_model_valid_id(tenant) || !sb_model_valid_id(user))
    return SB_MODEL_EBADREQ;
  if ((rc = sb__user_load(m, tenant, user, &u)) < 0)
    return SB_MODEL_EINTERNAL;
  if (rc == 0) /* an unknown user has nothing pending */
    return (*out = json_array()) ? 0 : SB_MODEL_EINTERNAL;
  if (sb_store_begin(m->st) < 0)
    return SB_MODEL_EINTERNAL;
  *out = json_array();
  rc = sb_store_exec(m->st, &rows,
                     "SELECT id, kind, data, created_ms FROM notifications WHERE uid = ? AND "
                     "delivered_ms IS NULL ORDER BY id", "l", u.uid);
  if (rc >= 0)
    rc = sb_store_exec(m->st, NULL, "UPDATE notifications SET delivered_ms = ? WHERE uid = ? "
                       "AND delivered_ms IS NULL", "ll", (long long)sb__now(m), u.uid);
  if (rc >= 0)
    rc = sb_store_commit(m->st);
  else
    sb_store_rollback(m->st);
  json_array_foreach(rows, i, row) json_array_append_new(*out, sb__notification_from_row(row, 0));
  json_decref(rows);
  if (rc < 0) {
    json_decref(*out);
    *out = NULL;
    return SB_MODEL_EINTERNAL;
  }
  return (int)json_array_size(*out);
}

int sb_model_notification_delivered(sb_model_t *m, const char *tenant, const char *user,
                                    long long id) {
  int rc = sb_store_exec(m->st, NULL,
                         "UPDATE notifications SET delivered_ms = ? WHERE id = ? AND "
                         "delivered_ms IS NULL AND uid = (SELECT uid FROM users WHERE "
                         "tenant_id = ? AND id = ?)", "llss", (long long)sb__now(m), id, tenant,
                         user);
  return rc < 0 ? SB_MODEL_EINTERNAL : rc;
}

/* The audit log: who did what to whom, in which room, and why. Each entry is visible to the
 * administrators of every tenant it concerns (audit_tenants), so a query never needs to guess
 * from free text. Entries are written inside the transaction of the change they describe. */
#include "signaling/model_internal.h"

#include <stdio.h>
#include <string.h>

static int sb__audit_tenant(sb_model_t *m, long long id, const char *tenant) {
  if (!tenant || !tenant[0])
    return 0;
  return sb_store_exec(m->st, NULL,
                       "INSERT INTO audit_tenants (audit_id, tenant_id) VALUES (?, ?) "
                       "ON CONFLICT DO NOTHING", "ls", id, tenant);
}

int sb__audit(sb_model_t *m, const sb__audit_t *a) {
  const sb_principal_t *actor = a->actor;
  const char *actor_tenant = actor && !actor->operator ? actor->tenant : NULL;
  json_t *row = NULL;
  long long id;
  int rc = sb_store_get(m->st, &row,
                        "INSERT INTO audit (time_ms, actor_tenant, actor_user, tenant, user_id, "
                        "room_id, action, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        "lsssssss", (long long)sb__now(m), actor ? actor->tenant : NULL,
                        actor ? actor->user : NULL, a->tenant, a->user, a->room, a->action,
                        a->reason ? a->reason : "");
  if (rc <= 0)
    return rc < 0 ? rc : SB_STORE_ERROR;
  id = sb__row_int(row, "id");
  json_decref(row);
  if ((rc = sb__audit_tenant(m, id, actor_tenant)) >= 0 &&
      (rc = sb__audit_tenant(m, id, a->tenant)) >= 0 &&
      (rc = sb__audit_tenant(m, id, a->peer_tenant)) >= 0 && a->room)
    rc = sb_store_exec(m->st, NULL,
                       "INSERT INTO audit_tenants (audit_id, tenant_id) SELECT ?, tenant_id "
                       "FROM room_tenants WHERE room_id = ? ON CONFLICT DO NOTHING", "ls", id,
                       a->room);
  return rc < 0 ? rc : 0;
}

static json_t *sb__audit_from_row(const json_t *row) {
  json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o, s:s, s:s, s:[]}", "id",
                        (json_int_t)sb__row_int(row, "id"), "time",
                        (json_int_t)sb__row_int(row, "time_ms"), "tenant",
                        json_copy(json_object_get(row, "tenant")), "user",
                        json_copy(json_object_get(row, "user_id")), "room",
                        json_copy(json_object_get(row, "room_id")), "action",
                        sb__row_str(row, "action"), "reason", sb__row_str(row, "reason"),
                        "tenants");
  if (o && sb__row_str(row, "actor_user"))
    json_object_set_new(o, "actor", json_pack("{s:s?, s:s}", "tenant",
                                              sb__row_str(row, "actor_tenant"), "user",
                                              sb__row_str(row, "actor_user")));
  else if (o)
    json_object_set_new(o, "actor", json_null());
  return o;
}

/* Fills each entry's "tenants" with one query over the id range of the page. */
static int sb__audit_fill_tenants(sb_model_t *m, json_t *entries, long long lo, long long hi) {
  json_t *rows = NULL, *row, *e;
  size_t i, j = 0;
  int rc = sb_store_exec(m->st, &rows,
                         "SELECT audit_id, tenant_id FROM audit_tenants WHERE audit_id BETWEEN "
                         "? AND ? ORDER BY audit_id DESC, tenant_id", "ll", lo, hi);
  /* both lists are ordered by id descending: walk them together */
  json_array_foreach(rows, i, row) {
    long long id = sb__row_int(row, "audit_id");
    while ((e = json_array_get(entries, j)) && json_integer_value(json_object_get(e, "id")) > id)
      j++;
    if (e && json_integer_value(json_object_get(e, "id")) == id)
      json_array_append(json_object_get(e, "tenants"), json_object_get(row, "tenant_id"));
  }
  json_decref(rows);
  return rc;
}

int sb_model_audit_query(sb_model_t *m, const char *tenant, const sb_audit_filter_t *f,
                         json_t **out, sb_model_err_t *err) {
  json_t *rows = NULL, *row, *arr;
  int limit = f->limit ? f->limit : 100;
  size_t i;
  int rc;

  *out = NULL;
  if (limit < 1 || limit > 1000)
    return sb__fail(err, SB_MODEL_EBADREQ, "limit must be 1 to 1000");
  if (f->since_ms < 0)
    return sb__fail(err, SB_MODEL_EBADREQ, "since must not be negative");
  /* CAST gives PostgreSQL a type for parameters that are only compared with NULL. */
  rc = sb_store_exec(m->st, &rows,
                     "SELECT a.* FROM audit a WHERE (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 "
                     "FROM audit_tenants x WHERE x.audit_id = a.id AND x.tenant_id = ?)) AND "
                     "(CAST(? AS TEXT) IS NULL OR a.user_id = ?) AND "
                     "(CAST(? AS TEXT) IS NULL OR a.room_id = ?) AND "
                     "(CAST(? AS TEXT) IS NULL OR a.action = ?) AND a.time_ms >= ? "
                     "ORDER BY a.id DESC LIMIT ?",
                     "ssssssssli", tenant, tenant, f->user, f->user, f->room, f->room, f->action,
                     f->action, f->since_ms, limit);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  arr = json_array();
  json_array_foreach(rows, i, row) json_array_append_new(arr, sb__audit_from_row(row));
  if (json_array_size(rows) > 0)
    rc = sb__audit_fill_tenants(m, arr, sb__row_int(json_array_get(rows, json_array_size(rows) - 1),
                                                    "id"),
                                sb__row_int(json_array_get(rows, 0), "id"));
  json_decref(rows);
  if (rc < 0) {
    json_decref(arr);
    return sb__dbfail(m, err, rc);
  }
  *out = arr;
  return 0;
}

/* Users as administrators manage them: creation, names, the admin flag and the per-user
 * external permission. */
#include "signaling/policy.h"

#include <stdio.h>
#include <string.h>

static json_t *sb__user_json(const sb__user_t *u) {
  return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "id", u->id, "tenant", u->tenant, "name",
                   u->name, "admin", u->is_admin, "external_allowed", u->external_allowed,
                   "external_permitted", u->permitted);
}

int sb_model_is_admin(sb_model_t *m, const char *tenant, const char *user) {
  sb__user_t u;
  int rc;
  if (!sb_model_valid_id(tenant) || !sb_model_valid_id(user))
    return 0;
  rc = sb__user_load(m, tenant, user, &u);
  return rc < 0 ? SB_MODEL_EINTERNAL : rc == 1 && u.is_admin;
}

int sb_model_users_list(sb_model_t *m, const char *tenant, json_t **out, sb_model_err_t *err) {
  json_t *rows = NULL, *row, *t = NULL;
  size_t i;
  int rc;
  *out = NULL;
  if ((rc = sb_model_tenant_get(m, tenant, &t, err)) < 0)
    return rc;
  json_decref(t);
  rc = sb_store_exec(m->st, &rows, SB__USER_SQL "WHERE u.tenant_id = ? ORDER BY u.id", "s",
                     tenant);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  *out = json_array();
  json_array_foreach(rows, i, row) {
    sb__user_t u;
    sb__user_from_row(row, &u);
    json_array_append_new(*out, sb__user_json(&u));
  }
  json_decref(rows);
  return 0;
}

/* Loads a user of the tenant for the admin API: bad_request for bad ids, not_found if absent. */
static int sb__admin_user(sb_model_t *m, const char *tenant, const char *user, sb__user_t *u,
                          sb_model_err_t *err) {
  int rc;
  if (!sb_model_valid_id(tenant) || !sb_model_valid_id(user))
    return sb__fail(err, SB_MODEL_EBADREQ, "invalid tenant or user id");
  if ((rc = sb__user_load(m, tenant, user, u)) < 0)
    return sb__dbfail(m, err, rc);
  return rc == 1 ? 0 : sb__fail(err, SB_MODEL_ENOTFOUND, "user not found");
}

int sb_model_user_get(sb_model_t *m, const char *tenant, const char *user, json_t **out,
                      sb_model_err_t *err) {
  sb__user_t u;
  int rc;
  *out = NULL;
  if ((rc = sb__admin_user(m, tenant, user, &u, err)) < 0)
    return rc;
  *out = sb__user_json(&u);
  return 0;
}

int sb_model_user_create(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                         const char *id, const sb_user_fields_t *f, json_t **out,
                         sb_model_err_t *err) {
  json_t *t = NULL;
  size_t mark;
  int rc;
  *out = NULL;
  if (!sb_model_valid_id(id))
    return sb__fail(err, SB_MODEL_EBADREQ, "invalid user id");
  if (!f->name)
    return sb__fail(err, SB_MODEL_EBADREQ, "name is required");
  if ((rc = sb__check_text("name", f->name, SB__NAME_MAX, 0, err)) < 0 ||
      (rc = sb_model_tenant_get(m, tenant, &t, err)) < 0)
    return rc;
  json_decref(t);
  if ((rc = sb__begin(m, NULL, &mark, err)) < 0)
    return rc;
  int added = rc = sb_store_exec(m->st, NULL,
                                 "INSERT INTO users (tenant_id, id, name, is_admin, "
                                 "external_allowed, created_ms) VALUES (?, ?, ?, ?, ?, ?) "
                                 "ON CONFLICT DO NOTHING", "sssbbl", tenant, id, f->name,
                                 f->is_admin > 0, f->external_allowed > 0, (long long)sb__now(m));
  if (added > 0)
    rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = tenant, .user = id,
                                     .action = "user_create"});
  if (rc < 0)
    rc = sb__dbfail(m, err, rc);
  else if (added == 0)
    rc = sb__fail(err, SB_MODEL_ECONFLICT, "user exists");
  if ((rc = sb__finish(m, rc, NULL, mark, err)) < 0)
    return rc;
  return sb_model_user_get(m, tenant, id, out, err);
}

static int sb__user_update_tx(sb_model_t *m, const sb_principal_t *who, const sb__user_t *u,
                              const sb_user_fields_t *f, sb_effects_t *fx, sb_model_err_t *err) {
  sb__user_t after;
  json_t *row = NULL;
  int rc;
  if (f->is_admin == 0 && u->is_admin) {
    rc = sb_store_get(m->st, &row, "SELECT COUNT(*) AS n FROM users WHERE tenant_id = ? AND "
                      "is_admin = 1", "s", u->tenant);
    long long admins = sb__row_int(row, "n");
    json_decref(row);
    if (rc < 0)
      return sb__dbfail(m, err, rc);
    if (admins <= 1)
      return sb__fail(err, SB_MODEL_ECONFLICT, "a tenant keeps at least one administrator");
  }
  rc = sb_store_exec(m->st, NULL,
                     "UPDATE users SET name = COALESCE(?, name), is_admin = CASE WHEN ? < 0 "
                     "THEN is_admin ELSE ? END, external_allowed = CASE WHEN ? < 0 THEN "
                     "external_allowed ELSE ? END WHERE uid = ?", "siiiil", f->name, f->is_admin,
                     f->is_admin > 0, f->external_allowed, f->external_allowed > 0, u->uid);
  if (rc >= 0)
    rc = sb__user_load_uid(m, u->uid, &after);
  if (rc >= 0)
    rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = u->tenant, .user = u->id,
                                     .action = "user_update"});
  if (rc >= 0 && after.permitted != u->permitted)
    rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = u->tenant, .user = u->id,
                                     .action = "permission_change",
                                     .reason = after.permitted ? "granted" : "withdrawn"});
  if (rc >= 0 && u->permitted && !after.permitted)
    rc = sb_policy_exclude_user(m, &after, who, fx);
  return rc < 0 ? sb__dbfail(m, err, rc) : 0;
}

int sb_model_user_update(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                         const char *user, const sb_user_fields_t *f, json_t **out,
                         sb_effects_t *fx, sb_model_err_t *err) {
  sb__user_t u;
  size_t mark;
  int rc;
  *out = NULL;
  if ((rc = sb__check_text("name", f->name, SB__NAME_MAX, 0, err)) < 0)
    return rc;
  if (!f->name && f->is_admin < 0 && f->external_allowed < 0)
    return sb__fail(err, SB_MODEL_EBADREQ, "nothing to update");
  if ((rc = sb__begin(m, fx, &mark, err)) < 0)
    return rc;
  if ((rc = sb__admin_user(m, tenant, user, &u, err)) >= 0)
    rc = sb__user_update_tx(m, who, &u, f, fx, err);
  if ((rc = sb__finish(m, rc, fx, mark, err)) < 0)
    return rc;
  return sb_model_user_get(m, tenant, user, out, err);
}

/* Tenants, their external mode, and the external connections between them. */
#include "signaling/policy.h"

#include <stdio.h>
#include <string.h>

static json_t *sb__tenant_from_row(const json_t *row) {
  return json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", sb__row_str(row, "id"), "name",
                   sb__row_str(row, "name"), "external_mode", sb__row_str(row, "external_mode"),
                   "user_count", (json_int_t)sb__row_int(row, "users"), "created",
                   (json_int_t)sb__row_int(row, "created_ms"));
}

#define SB__TENANT_SQL                                                                        \
  "SELECT t.id, t.name, t.external_mode, t.created_ms, (SELECT COUNT(*) FROM users u WHERE "  \
  "u.tenant_id = t.id) AS users FROM tenants t "

int sb_model_tenants_list(sb_model_t *m, const sb_principal_t *who, json_t **out,
                          sb_model_err_t *err) {
  const char *own = who->operator ? NULL : who->tenant;
  json_t *rows = NULL, *row;
  size_t i;
  /* An administrator sees the other tenants only by id and name, and only those a connection
   * (asked for by either side) relates to their own. */
  int rc = sb_store_exec(m->st, &rows,
                         SB__TENANT_SQL "WHERE CAST(? AS TEXT) IS NULL OR t.id = ? OR t.id IN "
                         "(SELECT peer_id FROM connections WHERE tenant_id = ?) OR t.id IN "
                         "(SELECT tenant_id FROM connections WHERE peer_id = ?) ORDER BY t.id",
                         "ssss", own, own, own, own);
  *out = NULL;
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  *out = json_array();
  json_array_foreach(rows, i, row) {
    if (!own || !strcmp(own, sb__row_str(row, "id")))
      json_array_append_new(*out, sb__tenant_from_row(row));
    else
      json_array_append_new(*out, json_pack("{s:s, s:s}", "id", sb__row_str(row, "id"), "name",
                                            sb__row_str(row, "name")));
  }
  json_decref(rows);
  return 0;
}

int sb_model_tenant_get(sb_model_t *m, const char *tenant, json_t **out, sb_model_err_t *err) {
  json_t *row = NULL;
  int rc;
  *out = NULL;
  if (!sb_model_valid_id(tenant))
    return sb__fail(err, SB_MODEL_EBADREQ, "invalid tenant id");
  if ((rc = sb_store_get(m->st, &row, SB__TENANT_SQL "WHERE t.id = ?", "s", tenant)) < 0)
    return sb__dbfail(m, err, rc);
  if (rc == 0)
    return sb__fail(err, SB_MODEL_ENOTFOUND, "tenant not found");
  *out = sb__tenant_from_row(row);
  json_decref(row);
  return 0;
}

int sb_model_tenant_create(sb_model_t *m, const sb_principal_t *who, const char *id,
                           const char *name, json_t **out, sb_model_err_t *err) {
  size_t mark;
  int rc;
  *out = NULL;
  if (!sb_model_valid_id(id))
    return sb__fail(err, SB_MODEL_EBADREQ, "invalid tenant id");
  if (!name)
    return sb__fail(err, SB_MODEL_EBADREQ, "name is required");
  if ((rc = sb__check_text("name", name, SB__NAME_MAX, 0, err)) < 0 ||
      (rc = sb__begin(m, NULL, &mark, err)) < 0)
    return rc;
  int added = rc = sb_store_exec(m->st, NULL, "INSERT INTO tenants (id, name, created_ms) VALUES "
                                 "(?, ?, ?) ON CONFLICT DO NOTHING", "ssl", id, name,
                                 (long long)sb__now(m));
  if (added > 0)
    rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = id, .action = "tenant_create"});
  if (rc < 0)
    rc = sb__dbfail(m, err, rc);
  else if (added == 0)
    rc = sb__fail(err, SB_MODEL_ECONFLICT, "tenant exists");
  if ((rc = sb__finish(m, rc, NULL, mark, err)) < 0)
    return rc;
  return sb_model_tenant_get(m, id, out, err);
}

/* Switching to "chosen" withdraws the permission of everyone without their own flag. */
static int sb__tenant_mode_tx(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                              const char *mode, sb_effects_t *fx) {
  json_t *rows = NULL, *row;
  size_t i;
  int rc = sb_store_exec(m->st, &rows,
                         SB__USER_SQL "WHERE u.tenant_id = ? AND " SB__PERMITTED_SQL
                         " AND u.external_allowed = 0 AND ? = 'chosen' ORDER BY u.uid", "ss",
                         tenant, mode);
  if (rc >= 0)
    rc = sb_store_exec(m->st, NULL, "UPDATE tenants SET external_mode = ? WHERE id = ?", "ss",
                       mode, tenant);
  json_array_foreach(rows, i, row) {
    sb__user_t u;
    sb__user_from_row(row, &u);
    if (rc >= 0)
      rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = tenant, .user = u.id,
                                       .action = "permission_change", .reason = "withdrawn"});
    if (rc >= 0)
      rc = sb_policy_exclude_user(m, &u, who, fx);
  }
  json_decref(rows);
  if (rc >= 0)
    rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = tenant, .action = "tenant_update",
                                     .reason = mode});
  return rc;
}

int sb_model_tenant_update(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                           const char *name, const char *mode, json_t **out, sb_effects_t *fx,
                           sb_model_err_t *err) {
  json_t *cur = NULL;
  size_t mark;
  int rc;
  *out = NULL;
  if ((rc = sb__check_text("name", name, SB__NAME_MAX, 0, err)) < 0)
    return rc;
  if (mode && strcmp(mode, "everyone") != 0 && strcmp(mode, "chosen") != 0)
    return sb__fail(err, SB_MODEL_EBADREQ, "external_mode must be \"everyone\" or \"chosen\"");
  if (!name && !mode)
    return sb__fail(err, SB_MODEL_EBADREQ, "nothing to update");
  if ((rc = sb__begin(m, fx, &mark, err)) < 0)
    return rc;
  if ((rc = sb_model_tenant_get(m, tenant, &cur, err)) < 0)
    goto Exit;
  if (name && (rc = sb_store_exec(m->st, NULL, "UPDATE tenants SET name = ? WHERE id = ?", "ss",
                                  name, tenant)) < 0)
    goto Fail;
  if (mode && strcmp(mode, json_string_value(json_object_get(cur, "external_mode"))) != 0 &&
      (rc = sb__tenant_mode_tx(m, who, tenant, mode, fx)) < 0)
    goto Fail;
  goto Exit;
Fail:
  rc = sb__dbfail(m, err, rc);
Exit:
  json_decref(cur);
  if ((rc = sb__finish(m, rc, fx, mark, err)) < 0)
    return rc;
  return sb_model_tenant_get(m, tenant, out, err);
}

/* ---- connections ---- */

#define SB__CONNECTION_SQL                                                                    \
  "SELECT t.id AS peer, t.name, COALESCE(mine.allowed, 0) AS allowed, "                       \
  "COALESCE(theirs.allowed, 0) AS peer_allowed FROM tenants t "                               \
  "LEFT JOIN connections mine ON mine.tenant_id = ? AND mine.peer_id = t.id "                 \
  "LEFT JOIN connections theirs ON theirs.tenant_id = t.id AND theirs.peer_id = ? "           \
  "WHERE t.id <> ? AND (mine.tenant_id IS NOT NULL OR theirs.tenant_id IS NOT NULL) "

static json_t *sb__connection_from_row(const json_t *row) {
  int a = sb__row_bool(row, "allowed"), b = sb__row_bool(row, "peer_allowed");
  return json_pack("{s:s, s:s, s:b, s:b, s:b}", "peer", sb__row_str(row, "peer"), "name",
                   sb__row_str(row, "name"), "allowed", a, "peer_allowed", b, "usable", a && b);
}

int sb_model_connections_list(sb_model_t *m, const char *tenant, json_t **out,
                              sb_model_err_t *err) {
  json_t *rows = NULL, *row;
  size_t i;
  int rc = sb_store_exec(m->st, &rows, SB__CONNECTION_SQL "ORDER BY t.id", "sss", tenant, tenant,
                         tenant);
  *out = NULL;
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  *out = json_array();
  json_array_foreach(rows, i, row) json_array_append_new(*out, sb__connection_from_row(row));
  json_decref(rows);
  return 0;
}

static int sb__connection_set_tx(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                                 const char *peer, int allow, json_t **out, sb_effects_t *fx,
                                 sb_model_err_t *err) {
  json_t *t = NULL, *row = NULL;
  int before, after, rc;
  if ((rc = sb_model_tenant_get(m, peer, &t, err)) < 0)
    return rc == SB_MODEL_ENOTFOUND ? sb__fail(err, rc, "peer tenant not found") : rc;
  json_decref(t);
  if ((before = sb_policy_connected(m, tenant, peer)) < 0)
    return sb__dbfail(m, err, before);
  rc = sb_store_exec(m->st, NULL,
                     "INSERT INTO connections (tenant_id, peer_id, allowed, changed_ms) VALUES "
                     "(?, ?, ?, ?) ON CONFLICT (tenant_id, peer_id) DO UPDATE SET allowed = "
                     "excluded.allowed, changed_ms = excluded.changed_ms WHERE "
                     "connections.allowed <> excluded.allowed", "ssbl", tenant, peer, allow,
                     (long long)sb__now(m));
  if (rc > 0 && (rc = after = sb_policy_connected(m, tenant, peer)) >= 0) {
    const char *state = after ? "usable" : before ? "ended" : "one_side";
    rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = tenant, .peer_tenant = peer,
                                     .action = allow ? "connection_allow" : "connection_revoke",
                                     .reason = state});
    if (rc >= 0 && !before && after)
      rc = sb__notify_connection_usable(m, tenant, peer, fx);
    if (rc >= 0 && before && !after)
      rc = sb_policy_exclude_connection(m, tenant, peer, who, fx);
    if (rc >= 0 && before != after)
      rc = sb__webhook_connection(m, tenant, peer, after, fx);
  }
  if (rc >= 0)
    rc = sb_store_get(m->st, &row, SB__CONNECTION_SQL "AND t.id = ?", "ssss", tenant, tenant,
                      tenant, peer);
  if (rc < 0)
    return sb__dbfail(m, err, rc);
  *out = sb__connection_from_row(row);
  json_decref(row);
  return 0;
}

int sb_model_connection_set(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                            const char *peer, int allow, json_t **out, sb_effects_t *fx,
                            sb_model_err_t *err) {
  size_t mark;
  int rc;
  *out = NULL;
  if (!sb_model_valid_id(tenant) || !sb_model_valid_id(peer))
    return sb__fail(err, SB_MODEL_EBADREQ, "invalid tenant id");
  if (!strcmp(tenant, peer))
    return sb__fail(err, SB_MODEL_EBADREQ, "a tenant cannot connect to itself");
  if ((rc = sb__begin(m, fx, &mark, err)) < 0)
    return rc;
  rc = sb__connection_set_tx(m, who, tenant, peer, allow ? 1 : 0, out, fx, err);
  rc = sb__finish(m, rc, fx, mark, err);
  if (rc < 0) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}

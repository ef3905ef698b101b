/* Per-tenant webhooks as administrators configure them: the receiver's URL (http or https) and
 * a signing secret the server generates, shown whole only when it is made (creation, rotation)
 * and masked everywhere else. Delivery is signaling/webhook.c's. */
#include "signaling/policy.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

#define SB__SECRET_PREFIX "whsec_"

int sb_model_webhook_url_check(const char *url, char *why, size_t len) {
  CURLU *u = NULL;
  char *scheme = NULL, *host = NULL, *user = NULL;
  int rc = -1;
  snprintf(why, len, "url must be an http:// or https:// URL of at most %d bytes",
           SB_MODEL_WEBHOOK_URL_MAX);
  if (!url || !*url || strlen(url) > SB_MODEL_WEBHOOK_URL_MAX)
    goto Exit;
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == 0x7f)
      goto Exit;
  if (!(u = curl_url()) || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
    goto Exit;
  if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
    snprintf(why, len, "url must name a host");
    goto Exit;
  }
  if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
    snprintf(why, len, "url must not carry credentials: the signature authenticates requests");
    goto Exit;
  }
  rc = 0;
Exit:
  curl_free(user);
  curl_free(host);
  curl_free(scheme);
  curl_url_cleanup(u);
  return rc;
}

static json_t *sb__webhook_json(const json_t *row, const char *whole_secret) {
  const char *secret = sb__row_str(row, "secret");
  char masked[64];
  size_t n = strlen(secret);
  snprintf(masked, sizeof masked, SB__SECRET_PREFIX "...%s", n >= 4 ? secret + n - 4 : "");
  return json_pack("{s:s, s:s, s:s, s:I, s:I}", "tenant", sb__row_str(row, "tenant_id"), "url",
                   sb__row_str(row, "url"), "secret", whole_secret ? whole_secret : masked,
                   "created", (json_int_t)sb__row_int(row, "created_ms"), "updated",
                   (json_int_t)sb__row_int(row, "updated_ms"));
}

static int sb__webhook_row(sb_model_t *m, const char *tenant, json_t **row) {
  return sb_store_get(m->st, row,
                      "SELECT tenant_id, url, secret, created_ms, updated_ms FROM tenant_webhooks "
                      "WHERE tenant_id = ?",
                      "s", tenant);
}

/* The tenant must exist (its id was checked against the caller's by the API). */
static int sb__webhook_tenant(sb_model_t *m, const char *tenant, sb_model_err_t *err) {
  json_t *t = NULL;
  int rc = sb_model_tenant_get(m, tenant, &t, err);
  json_decref(t);
  return rc;
}

int sb_model_webhook_get(sb_model_t *m, const char *tenant, json_t **out, sb_model_err_t *err) {
  json_t *row = NULL;
  int rc;
  *out = NULL;
  if ((rc = sb__webhook_tenant(m, tenant, err)) < 0)
    return rc;
  if ((rc = sb__webhook_row(m, tenant, &row)) < 0)
    return sb__dbfail(m, err, rc);
  if (rc == 0)
    return sb__fail(err, SB_MODEL_ENOTFOUND, "no webhook is configured");
  *out = sb__webhook_json(row, NULL);
  json_decref(row);
  return 0;
}

static int sb__new_secret(char *out, size_t len) {
  uint8_t raw[32];
  char hex[2 * sizeof raw + 1];
  if (sb_random_bytes(raw, sizeof raw) != 0)
    return -1;
  sb_hex(raw, sizeof raw, hex);
  snprintf(out, len, SB__SECRET_PREFIX "%s", hex);
  OPENSSL_cleanse(raw, sizeof raw);
  return 0;
}

/* What sb__webhook_write does: url NULL rotates the secret, "" deletes, else sets the URL. */
static const char *sb__webhook_action(const char *url, int had) {
  return !url ? "webhook_rotate" : !url[0] ? "webhook_delete" : had ? "webhook_update"
                                                                     : "webhook_create";
}

static int sb__webhook_write_tx(sb_model_t *m, const char *tenant, const char *url, int had,
                                const char *secret) {
  long long now = (long long)sb__now(m);
  if (!url)
    return sb_store_exec(m->st, NULL,
                         "UPDATE tenant_webhooks SET secret = ?, updated_ms = ? WHERE tenant_id = ?",
                         "sls", secret, now, tenant);
  if (!url[0])
    return sb_store_exec(m->st, NULL, "DELETE FROM tenant_webhooks WHERE tenant_id = ?", "s",
                         tenant);
  if (had)
    return sb_store_exec(m->st, NULL,
                         "UPDATE tenant_webhooks SET url = ?, updated_ms = ? WHERE tenant_id = ?",
                         "sls", url, now, tenant);
  return sb_store_exec(m->st, NULL,
                       "INSERT INTO tenant_webhooks (tenant_id, url, secret, created_ms, "
                       "updated_ms) VALUES (?, ?, ?, ?, ?)",
                       "sssll", tenant, url, secret, now, now);
}

/* Set, rotate or delete in one transaction, with its audit entry and the effect that makes every
 * node reload the tenant's configuration. A new webhook and a rotation get a new secret, which
 * *out shows whole this once. */
static int sb__webhook_write(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                             const char *url, int *created, json_t **out, sb_effects_t *fx,
                             sb_model_err_t *err) {
  char secret[80] = "";
  json_t *row = NULL;
  size_t mark;
  int rc, had;
  if ((rc = sb__webhook_tenant(m, tenant, err)) < 0 || (rc = sb__begin(m, fx, &mark, err)) < 0)
    return rc;
  if ((had = rc = sb__webhook_row(m, tenant, &row)) < 0) {
    rc = sb__dbfail(m, err, rc);
    goto Exit;
  }
  json_decref(row);
  row = NULL;
  if (!had && (!url || !url[0])) {
    rc = sb__fail(err, SB_MODEL_ENOTFOUND, "no webhook is configured");
    goto Exit;
  }
  if ((!url || !had) && sb__new_secret(secret, sizeof secret) != 0) {
    rc = sb__fail(err, SB_MODEL_EINTERNAL, "no random bytes for a secret");
    goto Exit;
  }
  /* the audit says what changed, never the secret nor the URL (it may carry a token) */
  if ((rc = sb__webhook_write_tx(m, tenant, url, had, secret)) >= 0)
    rc = sb__audit(m, &(sb__audit_t){.actor = who, .tenant = tenant,
                                     .action = sb__webhook_action(url, had)});
  if (rc >= 0 && sb_effects_webhooks_changed(fx, tenant) < 0)
    rc = SB_STORE_ENOMEM;
  if (rc >= 0 && out && (rc = sb__webhook_row(m, tenant, &row)) == 1)
    *out = sb__webhook_json(row, secret[0] ? secret : NULL);
  if (rc < 0)
    rc = sb__dbfail(m, err, rc);
  else if (out && !*out)
    rc = sb__fail(err, SB_MODEL_EINTERNAL, "out of memory");
  if (created)
    *created = !had;
Exit:
  json_decref(row);
  OPENSSL_cleanse(secret, sizeof secret);
  return sb__finish(m, rc < 0 ? rc : 0, fx, mark, err);
}

int sb_model_webhook_set(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                         const char *url, int *created, json_t **out, sb_effects_t *fx,
                         sb_model_err_t *err) {
  char why[128];
  int rc;
  *out = NULL;
  if (!url)
    return sb__fail(err, SB_MODEL_EBADREQ, "url is required");
  if (sb_model_webhook_url_check(url, why, sizeof why) < 0)
    return sb__fail(err, SB_MODEL_EBADREQ, "%s", why);
  if ((rc = sb__webhook_write(m, who, tenant, url, created, out, fx, err)) < 0) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}

int sb_model_webhook_rotate(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                            json_t **out, sb_effects_t *fx, sb_model_err_t *err) {
  int rc;
  *out = NULL;
  if ((rc = sb__webhook_write(m, who, tenant, NULL, NULL, out, fx, err)) < 0) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}

int sb_model_webhook_delete(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                            sb_effects_t *fx, sb_model_err_t *err) {
  return sb__webhook_write(m, who, tenant, "", NULL, NULL, fx, err);
}

int sb_model_webhooks_load(sb_model_t *m, const char *tenant, json_t **out) {
  int rc = sb_store_exec(m->st, out,
                         "SELECT tenant_id AS tenant, url, secret FROM tenant_webhooks WHERE "
                         "CAST(? AS TEXT) IS NULL OR tenant_id = ? ORDER BY tenant_id",
                         "ss", tenant, tenant);
  sb_model_err_t err = {0};
  return rc < 0 ? sb__dbfail(m, &err, rc) : 0;
}

int sb_model_room_tenants(sb_model_t *m, const char *room, json_t **out) {
  json_t *rows = NULL, *row;
  size_t i;
  int rc = sb_store_exec(m->st, &rows,
                         "SELECT DISTINCT tenant_id FROM room_tenants WHERE room_id = ? ORDER BY "
                         "tenant_id",
                         "s", room);
  *out = NULL;
  if (rc < 0) {
    sb_model_err_t err = {0};
    return sb__dbfail(m, &err, rc);
  }
  *out = json_array();
  json_array_foreach(rows, i, row) json_array_append_new(*out, json_string(sb__row_str(row, "tenant_id")));
  json_decref(rows);
  return 0;
}

int sb__webhook_connection(sb_model_t *m, const char *tenant, const char *peer, int usable,
                           sb_effects_t *fx) {
  const char *type = usable ? "connection.usable" : "connection.ended";
  json_t *rows = NULL, *row;
  size_t i;
  /* each side hears of the other by id and name, as its connection list shows it */
  int rc = sb_store_exec(m->st, &rows, "SELECT id, name FROM tenants WHERE id IN (?, ?)", "ss",
                         tenant, peer);
  json_array_foreach(rows, i, row) {
    const char *id = sb__row_str(row, "id"), *to = strcmp(id, tenant) ? tenant : peer;
    if (rc >= 0 && sb_effects_webhook(fx, to, type, NULL,
                                      json_pack("{s:{s:s, s:s}, s:s}", "peer", "id", id, "name",
                                                sb__row_str(row, "name"), "changed_by",
                                                tenant)) < 0)
      rc = SB_STORE_ENOMEM;
  }
  json_decref(rows);
  return rc;
}

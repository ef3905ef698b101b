/* Administrator API: a route table of (method, path pattern, handler, scope). The router matches
 * the path, checks the caller's scope, and the handler validates its body or query and calls the
 * model. */
#include "signaling/api_admin.h"

#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB__MAX_SEGS 8
#define SB__SEG_MAX 130

typedef struct {
  const sb_principal_t *who;
  json_t *body;
  char args[2][SB__SEG_MAX]; /* the path's captured segments, in order */
  char query[512];
  sb_effects_t *fx;
  sb_model_err_t err;
} sb__req_t;

typedef int (*sb__admin_fn)(sb_model_t *m, sb__req_t *r, json_t **out, int *status);

/* Who may call a route: any administrator or the operator; only the operator; only a tenant's
 * administrator acting for their tenant (connections; with the tenant in the path: webhooks,
 * whose secret is the tenant's alone). Routes with a tenant in the path also need that
 * tenant to be the caller's (the operator may name any). */
enum { SB__ANY, SB__OPERATOR, SB__TENANT_ADMIN, SB__OWN_ADMIN };

static int sb__req_fail(sb__req_t *r, int status, const char *fmt, const char *arg) {
  r->err.status = status;
  snprintf(r->err.message, sizeof r->err.message, fmt, arg);
  return status;
}

/* ---- body and query helpers ---- */

static int sb__body_only(sb__req_t *r, const char *const *keys) {
  const char *key;
  json_t *v;
  if (!json_is_object(r->body))
    return sb__req_fail(r, SB_MODEL_EBADREQ, "%s", "the body must be a JSON object");
  json_object_foreach(r->body, key, v) {
    size_t i = 0;
    while (keys[i] && strcmp(keys[i], key) != 0)
      i++;
    if (!keys[i])
      return sb__req_fail(r, SB_MODEL_EBADREQ, "unknown field \"%.64s\"", key);
  }
  return 0;
}

static int sb__body_str(sb__req_t *r, const char *key, const char **out) {
  json_t *v = json_object_get(r->body, key);
  *out = NULL;
  if (!v)
    return 0;
  if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
    return sb__req_fail(r, SB_MODEL_EBADREQ, "field \"%s\" must be a string", key);
  *out = json_string_value(v);
  return 0;
}

/* A boolean field as 0/1, or -1 when absent. */
static int sb__body_bool(sb__req_t *r, const char *key, int *out) {
  json_t *v = json_object_get(r->body, key);
  *out = -1;
  if (v && !json_is_boolean(v))
    return sb__req_fail(r, SB_MODEL_EBADREQ, "field \"%s\" must be true or false", key);
  if (v)
    *out = json_is_true(v);
  return 0;
}

static int sb__hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes [s, s+n) into out; -1 on a bad escape, a NUL, or overflow. */
static int sb__decode(const char *s, size_t n, char *out, size_t len, int plus_is_space) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)s[i];
    if (c == '%') {
      int hi = i + 2 < n ? sb__hexval(s[i + 1]) : -1, lo = hi >= 0 ? sb__hexval(s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return -1;
      c = hi * 16 + lo;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == 0 || k + 1 >= len)
      return -1;
    out[k++] = (char)c;
  }
  out[k] = '\0';
  return 0;
}

/* Parses the query into filter strings kept in `store`; refuses unknown or repeated keys. */
static int sb__audit_filter(sb__req_t *r, sb_audit_filter_t *f, char store[5][SB__SEG_MAX]) {
  static const char *const keys[] = {"user", "room", "action", "since", "limit"};
  const char *p = r->query;
  memset(f, 0, sizeof *f);
  for (int k = 0; k < 5; k++)
    store[k][0] = '\0';
  while (*p) {
    const char *amp = strchr(p, '&'), *eq;
    size_t n = amp ? (size_t)(amp - p) : strlen(p), i;
    char key[16];
    eq = memchr(p, '=', n);
    if (!eq || sb__decode(p, (size_t)(eq - p), key, sizeof key, 1) < 0)
      return sb__req_fail(r, SB_MODEL_EBADREQ, "%s", "malformed query string");
    for (i = 0; i < 5 && strcmp(keys[i], key) != 0; i++)
      ;
    if (i == 5)
      return sb__req_fail(r, SB_MODEL_EBADREQ, "unknown query parameter \"%s\"", key);
    if (store[i][0] || sb__decode(eq + 1, n - (size_t)(eq + 1 - p), store[i], SB__SEG_MAX, 1) < 0 ||
        !store[i][0])
      return sb__req_fail(r, SB_MODEL_EBADREQ, "bad query parameter \"%s\"", key);
    p += n + (amp ? 1 : 0);
  }
  f->user = store[0][0] ? store[0] : NULL;
  f->room = store[1][0] ? store[1] : NULL;
  f->action = store[2][0] ? store[2] : NULL;
  for (int k = 3; k < 5; k++) {
    char *end;
    if (!store[k][0])
      continue;
    errno = 0;
    long long v = strtoll(store[k], &end, 10);
    if (*end || errno || v < 0 || (k == 4 && v > 1000000))
      return sb__req_fail(r, SB_MODEL_EBADREQ, "query parameter \"%s\" must be an integer", keys[k]);
    if (k == 3)
      f->since_ms = v;
    else
      f->limit = v == 0 ? -1 : (int)v; /* limit=0 is refused by the model */
  }
  return 0;
}

/* ---- handlers ---- */

static int sb__wrap(json_t **out, const char *key, json_t *v) {
  *out = json_pack("{s:o}", key, v);
  return 0;
}

static int sb__tenants_list(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  json_t *v = NULL;
  int rc = sb_model_tenants_list(m, r->who, &v, &r->err);
  return rc < 0 ? rc : sb__wrap(out, "tenants", v);
}

static int sb__tenants_create(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  static const char *const keys[] = {"id", "name", NULL};
  const char *id, *name;
  json_t *v = NULL;
  int rc;
  if ((rc = sb__body_only(r, keys)) < 0 || (rc = sb__body_str(r, "id", &id)) < 0 ||
      (rc = sb__body_str(r, "name", &name)) < 0 ||
      (rc = sb_model_tenant_create(m, r->who, id, name, &v, &r->err)) < 0)
    return rc;
  *status = 201;
  return sb__wrap(out, "tenant", v);
}

static int sb__tenant_get(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  json_t *v = NULL;
  int rc = sb_model_tenant_get(m, r->args[0], &v, &r->err);
  return rc < 0 ? rc : sb__wrap(out, "tenant", v);
}

/* The figures themselves live on the signaling loop (metrics.h): http_api.c adds them to this
 * answer there, once the caller's scope and the tenant were checked here. */
static int sb__tenant_usage(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  json_t *v = NULL;
  int rc = sb_model_tenant_get(m, r->args[0], &v, &r->err);
  if (rc < 0)
    return rc;
  json_decref(v);
  return sb__wrap(out, "usage", json_pack("{s:s}", "tenant", r->args[0]));
}

static int sb__tenant_update(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  static const char *const keys[] = {"name", "external_mode", NULL};
  const char *name, *mode;
  json_t *v = NULL;
  int rc;
  if ((rc = sb__body_only(r, keys)) < 0 || (rc = sb__body_str(r, "name", &name)) < 0 ||
      (rc = sb__body_str(r, "external_mode", &mode)) < 0 ||
      (rc = sb_model_tenant_update(m, r->who, r->args[0], name, mode, &v, r->fx, &r->err)) < 0)
    return rc;
  return sb__wrap(out, "tenant", v);
}

static int sb__users_list(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  json_t *v = NULL;
  int rc = sb_model_users_list(m, r->args[0], &v, &r->err);
  return rc < 0 ? rc : sb__wrap(out, "users", v);
}

static int sb__user_fields(sb__req_t *r, sb_user_fields_t *f) {
  int rc;
  if ((rc = sb__body_str(r, "name", &f->name)) < 0 ||
      (rc = sb__body_bool(r, "admin", &f->is_admin)) < 0 ||
      (rc = sb__body_bool(r, "external_allowed", &f->external_allowed)) < 0)
    return rc;
  return 0;
}

static int sb__users_create(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  static const char *const keys[] = {"id", "name", "admin", "external_allowed", NULL};
  sb_user_fields_t f;
  const char *id;
  json_t *v = NULL;
  int rc;
  if ((rc = sb__body_only(r, keys)) < 0 || (rc = sb__body_str(r, "id", &id)) < 0 ||
      (rc = sb__user_fields(r, &f)) < 0 ||
      (rc = sb_model_user_create(m, r->who, r->args[0], id, &f, &v, &r->err)) < 0)
    return rc;
  *status = 201;
  return sb__wrap(out, "user", v);
}

static int sb__user_get(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  json_t *v = NULL;
  int rc = sb_model_user_get(m, r->args[0], r->args[1], &v, &r->err);
  return rc < 0 ? rc : sb__wrap(out, "user", v);
}

static int sb__user_update(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  static const char *const keys[] = {"name", "admin", "external_allowed", NULL};
  sb_user_fields_t f;
  json_t *v = NULL;
  int rc;
  if ((rc = sb__body_only(r, keys)) < 0 || (rc = sb__user_fields(r, &f)) < 0 ||
      (rc = sb_model_user_update(m, r->who, r->args[0], r->args[1], &f, &v, r->fx, &r->err)) <
          0)
    return rc;
  return sb__wrap(out, "user", v);
}

static int sb__connections_list(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  json_t *v = NULL;
  int rc = sb_model_connections_list(m, r->who->tenant, &v, &r->err);
  return rc < 0 ? rc : sb__wrap(out, "connections", v);
}

static int sb__connection_set(sb_model_t *m, sb__req_t *r, json_t **out, int allow) {
  json_t *v = NULL;
  int rc;
  if (r->body && !(json_is_object(r->body) && json_object_size(r->body) == 0))
    return sb__req_fail(r, SB_MODEL_EBADREQ, "%s", "this request takes no body");
  rc = sb_model_connection_set(m, r->who, r->who->tenant, r->args[0], allow, &v, r->fx, &r->err);
  return rc < 0 ? rc : sb__wrap(out, "connection", v);
}

static int sb__connection_allow(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  return sb__connection_set(m, r, out, 1);
}

static int sb__connection_revoke(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  return sb__connection_set(m, r, out, 0);
}

static int sb__audit_list(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  char store[5][SB__SEG_MAX];
  sb_audit_filter_t f;
  json_t *v = NULL;
  int rc;
  if ((rc = sb__audit_filter(r, &f, store)) < 0 ||
      (rc = sb_model_audit_query(m, r->who->operator ? NULL : r->who->tenant, &f, &v, &r->err)) <
          0)
    return rc;
  return sb__wrap(out, "entries", v);
}

/* A webhook's answer; a new one is 201 (with the secret shown this once). */
static int sb__webhook_get(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  json_t *v = NULL;
  int rc = sb_model_webhook_get(m, r->args[0], &v, &r->err);
  return rc < 0 ? rc : sb__wrap(out, "webhook", v);
}

static int sb__webhook_set(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  static const char *const keys[] = {"url", NULL};
  const char *url;
  json_t *v = NULL;
  int rc, created = 0;
  if ((rc = sb__body_only(r, keys)) < 0 || (rc = sb__body_str(r, "url", &url)) < 0 ||
      (rc = sb_model_webhook_set(m, r->who, r->args[0], url, &created, &v, r->fx, &r->err)) < 0)
    return rc;
  *status = created ? 201 : 200;
  return sb__wrap(out, "webhook", v);
}

static int sb__webhook_rotate(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  json_t *v = NULL;
  int rc;
  if (r->body && !(json_is_object(r->body) && json_object_size(r->body) == 0))
    return sb__req_fail(r, SB_MODEL_EBADREQ, "%s", "this request takes no body");
  rc = sb_model_webhook_rotate(m, r->who, r->args[0], &v, r->fx, &r->err);
  return rc < 0 ? rc : sb__wrap(out, "webhook", v);
}

static int sb__webhook_delete(sb_model_t *m, sb__req_t *r, json_t **out, int *status) {
  int rc;
  if (r->body && !(json_is_object(r->body) && json_object_size(r->body) == 0))
    return sb__req_fail(r, SB_MODEL_EBADREQ, "%s", "this request takes no body");
  rc = sb_model_webhook_delete(m, r->who, r->args[0], r->fx, &r->err);
  return rc < 0 ? rc : sb__wrap(out, "deleted", json_true());
}

static const struct {
  const char *method, *pattern;
  sb__admin_fn fn;
  int scope;
} sb__routes[] = {
    {"GET", "/api/admin/tenants", sb__tenants_list, SB__ANY},
    {"POST", "/api/admin/tenants", sb__tenants_create, SB__OPERATOR},
    {"GET", "/api/admin/tenants/:tenant", sb__tenant_get, SB__ANY},
    {"PATCH", "/api/admin/tenants/:tenant", sb__tenant_update, SB__ANY},
    {"GET", "/api/admin/tenants/:tenant/usage", sb__tenant_usage, SB__ANY},
    {"GET", "/api/admin/tenants/:tenant/users", sb__users_list, SB__ANY},
    {"POST", "/api/admin/tenants/:tenant/users", sb__users_create, SB__ANY},
    {"GET", "/api/admin/tenants/:tenant/users/:user", sb__user_get, SB__ANY},
    {"PATCH", "/api/admin/tenants/:tenant/users/:user", sb__user_update, SB__ANY},
    {"GET", "/api/admin/connections", sb__connections_list, SB__TENANT_ADMIN},
    {"POST", "/api/admin/connections/:peer/allow", sb__connection_allow, SB__TENANT_ADMIN},
    {"POST", "/api/admin/connections/:peer/revoke", sb__connection_revoke, SB__TENANT_ADMIN},
    {"GET", "/api/admin/audit", sb__audit_list, SB__ANY},
    {"GET", "/api/admin/tenants/:tenant/webhook", sb__webhook_get, SB__OWN_ADMIN},
    {"PUT", "/api/admin/tenants/:tenant/webhook", sb__webhook_set, SB__OWN_ADMIN},
    {"DELETE", "/api/admin/tenants/:tenant/webhook", sb__webhook_delete, SB__OWN_ADMIN},
    {"POST", "/api/admin/tenants/:tenant/webhook/rotate", sb__webhook_rotate, SB__OWN_ADMIN},
};

/* ---- routing ---- */

/* Matches path (without query) against pattern; captures ":name" segments into r->args.
 * Returns 1 on a match, 0 if not, -1 for a segment that cannot be decoded. */
static int sb__match(const char *pattern, const char *path, sb__req_t *r) {
  int nargs = 0;
  while (*pattern && *path) {
    const char *pe = strchr(pattern + 1, '/'), *se = strchr(path + 1, '/');
    size_t pn = pe ? (size_t)(pe - pattern) : strlen(pattern);
    size_t sn = se ? (size_t)(se - path) : strlen(path);
    if (*pattern != '/' || *path != '/')
      return 0;
    if (pattern[1] == ':') {
      if (sn < 2 || nargs == 2)
        return 0;
      if (sb__decode(path + 1, sn - 1, r->args[nargs++], SB__SEG_MAX, 0) < 0)
        return -1;
    } else if (pn != sn || strncmp(pattern, path, pn) != 0) {
      return 0;
    }
    pattern += pn;
    path += sn;
  }
  return !*pattern && !*path;
}

static int sb__scope(sb_model_t *m, sb__req_t *r, int scope, int has_tenant) {
  const sb_principal_t *who = r->who;
  int admin;
  if (!who)
    return sb__req_fail(r, SB_MODEL_EUNAUTH, "%s", "an administrator token is required");
  if (who->operator && scope == SB__OWN_ADMIN)
    return sb__req_fail(r, SB_MODEL_EFORBIDDEN, "%s",
                        "webhooks are configured by each tenant's administrators");
  if (who->operator)
    return scope == SB__TENANT_ADMIN
               ? sb__req_fail(r, SB_MODEL_EFORBIDDEN, "%s",
                          "connections are decided by each tenant's administrator")
               : 0;
  if ((admin = sb_model_is_admin(m, who->tenant, who->user)) < 0)
    return sb__req_fail(r, SB_MODEL_EINTERNAL, "%s", "storage failure");
  if (!admin)
    return sb__req_fail(r, SB_MODEL_EFORBIDDEN, "%s", "administrators only");
  if (scope == SB__OPERATOR)
    return sb__req_fail(r, SB_MODEL_EFORBIDDEN, "%s", "only the operator may do this");
  if (has_tenant && strcmp(r->args[0], who->tenant) != 0)
    return sb__req_fail(r, SB_MODEL_EFORBIDDEN, "%s", "administrators act on their own tenant only");
  return 0;
}

static int sb__http_status(int rc) {
  switch (rc) {
  case SB_MODEL_EBADREQ: return 400;
  case SB_MODEL_EUNAUTH: return 401;
  case SB_MODEL_EFORBIDDEN: return 403;
  case SB_MODEL_ENOTFOUND: return 404;
  case SB_MODEL_ECONFLICT: return 409;
  case SB_MODEL_ELIMIT: return 429;
  case SB_MODEL_ERETRY:
  case SB_MODEL_EUNAVAILABLE: return 503; /* nothing changed: the client may try again */
  case SB_MODEL_ESTORAGE_FULL: return 507; /* Insufficient Storage (RFC 4918): nothing changed */
  default: return 500;
  }
}

json_t *sb_api_admin_error(const char *code, const char *message) {
  /* Messages quote the request (a query key, a field) cut at a byte count: without this, one
   * that is not UTF-8 made the answer NULL and the server answered nothing useful. */
  char text[512];
  snprintf(text, sizeof text, "%s", message);
  return json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", sb_utf8_sanitize(text));
}

static int sb__route(sb_model_t *m, sb__req_t *r, const char *method, const char *path,
                     json_t **out, int *status) {
  char clean[1024];
  const char *q = strchr(path, '?');
  size_t n = q ? (size_t)(q - path) : strlen(path);
  int rc;
  if (n >= sizeof clean || (q && strlen(q + 1) >= sizeof r->query))
    return sb__req_fail(r, SB_MODEL_EBADREQ, "%s", "path too long");
  memcpy(clean, path, n);
  clean[n] = '\0';
  snprintf(r->query, sizeof r->query, "%s", q ? q + 1 : "");
  for (size_t i = 0; i < SB_ARRAY_SIZE(sb__routes); i++) {
    if (strcmp(sb__routes[i].method, method) != 0)
      continue;
    if ((rc = sb__match(sb__routes[i].pattern, clean, r)) < 0)
      return sb__req_fail(r, SB_MODEL_EBADREQ, "%s", "malformed path");
    if (rc == 0)
      continue;
    if ((rc = sb__scope(m, r, sb__routes[i].scope, strstr(sb__routes[i].pattern, ":tenant") !=
                                                       NULL)) < 0)
      return rc;
    if (q && sb__routes[i].fn != sb__audit_list)
      return sb__req_fail(r, SB_MODEL_EBADREQ, "%s", "this request takes no query string");
    return sb__routes[i].fn(m, r, out, status);
  }
  return sb__req_fail(r, SB_MODEL_ENOTFOUND, "%s", "no such endpoint");
}

int sb_api_admin_call(sb_model_t *m, const sb_principal_t *who, const char *method,
                      const char *path, json_t *body, int *status, json_t **response,
                      sb_effects_t *fx) {
  sb__req_t r = {.who = who, .body = body, .fx = fx};
  size_t mark = fx->len;
  json_t *out = NULL;
  int rc;
  *status = 200;
  rc = sb__route(m, &r, method ? method : "", path ? path : "", &out, status);
  if (rc >= 0 && !out)
    rc = sb__req_fail(&r, SB_MODEL_EINTERNAL, "%s", "out of memory");
  if (rc < 0) {
    json_decref(out);
    sb_effects_truncate(fx, mark);
    *status = sb__http_status(rc);
    *response = sb_api_admin_error(sb_model_code(rc), r.err.message);
    return rc;
  }
  *response = out;
  return 0;
}

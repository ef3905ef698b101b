/* The model object, shared helpers (errors, transactions, users) and the demo seed. */
#include "signaling/policy.h"

#include "common/log.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const sb__codes[] = {
    "ok", "bad_request", "unauthenticated", "forbidden", "not_found",
    "conflict", "limit_exceeded", "internal", "unavailable", "unavailable", "storage_full",
};

const char *sb_model_code(int status) {
  int i = -status;
  return i >= 0 && i < (int)SB_ARRAY_SIZE(sb__codes) ? sb__codes[i] : "internal";
}

int sb_model_retryable(int status) { return status == SB_MODEL_ERETRY; }

/* The backoff is random so that two nodes that collided do not collide again in step. */
static void sb__backoff(int attempt) {
  uint32_t r = 0;
  long cap_us = 1000L << (attempt < 6 ? attempt : 6); /* 1 ms .. 64 ms */
  if (sb_random_bytes(&r, sizeof r) != 0)
    r = (uint32_t)attempt * 2654435761u;
  long us = cap_us / 2 + (long)(r % (uint32_t)(cap_us / 2 + 1));
  struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

int sb_model_run_retry(sb_model_t *m, int (*op)(sb_model_t *m, void *arg), void *arg,
                       int max_attempts) {
  int rc = op(m, arg);
  for (int attempt = 1; attempt < max_attempts && sb_model_retryable(rc); attempt++) {
    sb__backoff(attempt - 1);
    rc = op(m, arg);
  }
  return rc;
}

int sb_model_valid_id(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > SB_ID_MAX || s[0] == '.' || s[0] == '-')
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '@' || c == '-'))
      return 0;
  }
  return 1;
}

static uint64_t sb__wall_clock(void *ctx) { return sb_wall_ms(); }

int sb_model_create(sb_store_t *store, sb_model_t **out) {
  sb_model_t *m = calloc(1, sizeof *m);
  *out = NULL;
  if (!m)
    return SB_MODEL_EINTERNAL;
  m->st = store;
  m->now_ms = sb__wall_clock;
  *out = m;
  return 0;
}

void sb_model_destroy(sb_model_t *m) { free(m); }

void sb_model_set_clock(sb_model_t *m, uint64_t (*now_ms)(void *ctx), void *ctx) {
  m->now_ms = now_ms ? now_ms : sb__wall_clock;
  m->now_ctx = ctx;
}

void sb_model_set_publisher(sb_model_t *m,
                            int (*publish)(sb_store_t *st, const sb_effects_t *fx, size_t from,
                                           void *arg),
                            void *arg) {
  m->publish = publish;
  m->publish_arg = arg;
}

sb_store_t *sb_model_store(sb_model_t *m) { return m->st; }

uint64_t sb__now(sb_model_t *m) { return m->now_ms(m->now_ctx); }

int sb__fail(sb_model_err_t *err, int status, const char *fmt, ...) {
  va_list ap;
  if (err) {
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return status;
}

int sb__dbfail(sb_model_t *m, sb_model_err_t *err, int rc) {
  if (rc == SB_STORE_ECONSTRAINT)
    return sb__fail(err, SB_MODEL_ECONFLICT, "the change conflicts with stored data");
  if (rc == SB_STORE_ERETRY) /* expected under concurrency: the caller runs it again */
    return sb__fail(err, SB_MODEL_ERETRY, "a concurrent change conflicted; try again");
  if (rc == SB_STORE_EUNAVAILABLE) {
    sb_warn("-", "store: %s (%s)", sb_store_strerror(rc), sb_store_errmsg(m->st));
    return sb__fail(err, SB_MODEL_EUNAVAILABLE, "the database is unavailable; try again later");
  }
  if (rc == SB_STORE_EFULL) {
    /* The operator's problem, not a fault of the request: each refusal is one warning. */
    sb_warn("-", "store: %s (%s); changes are refused until space is freed",
            sb_store_strerror(rc), sb_store_errmsg(m->st));
    return sb__fail(err, SB_MODEL_ESTORAGE_FULL,
                    "the server's database disk is full; nothing was changed, try again later");
  }
  sb_error("-", "store: %s (%s)", sb_store_strerror(rc), sb_store_errmsg(m->st));
  if (rc == SB_STORE_EIO)
    return sb__fail(err, SB_MODEL_EINTERNAL, "storage failure (disk I/O error)");
  return sb__fail(err, SB_MODEL_EINTERNAL, "storage failure");
}

int sb__begin(sb_model_t *m, sb_effects_t *fx, size_t *mark, sb_model_err_t *err) {
  int rc = sb_store_begin(m->st);
  *mark = fx ? fx->len : 0;
  return rc < 0 ? sb__dbfail(m, err, rc) : 0;
}

int sb__finish(sb_model_t *m, int rc, sb_effects_t *fx, size_t mark, sb_model_err_t *err) {
  int abort;
  /* Only the outermost level publishes: inner levels are savepoints of the same change, whose
   * effects go out with it. */
  if (rc >= 0 && fx && m->publish && m->st->tx_depth == 1 && fx->len > mark) {
    int prc = m->publish(m->st, fx, mark, m->publish_arg);
    if (prc < 0) {
      sb_store_rollback(m->st);
      sb_effects_truncate(fx, mark);
      return sb__dbfail(m, err, prc);
    }
  }
  if (rc >= 0) {
    int crc = sb_store_commit(m->st);
    if (crc >= 0)
      return rc;
    rc = sb__dbfail(m, err, crc);
  } else {
    sb_store_rollback(m->st);
  }
  /* Once PostgreSQL aborted the transaction (conflict, lost connection), whatever the operation
   * concluded from its later statements is moot: report why it really failed. Only for the
   * outermost level, which is where the abort ends. */
  abort = sb_store_tx_abort(m->st);
  if (abort && m->st->tx_depth == 0 && rc != SB_MODEL_ERETRY && rc != SB_MODEL_EUNAVAILABLE &&
      rc != SB_MODEL_ESTORAGE_FULL)
    rc = sb__dbfail(m, err, abort);
  if (fx)
    sb_effects_truncate(fx, mark);
  return rc;
}

int sb__row_bool(const json_t *row, const char *key) {
  const json_t *v = json_object_get(row, key);
  return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
}

const char *sb__row_str(const json_t *row, const char *key) {
  return json_string_value(json_object_get(row, key));
}

long long sb__row_int(const json_t *row, const char *key) {
  return json_integer_value(json_object_get(row, key));
}

void sb__user_from_row(const json_t *row, sb__user_t *u) {
  memset(u, 0, sizeof *u);
  u->uid = sb__row_int(row, "uid");
  snprintf(u->tenant, sizeof u->tenant, "%s", sb__row_str(row, "tenant_id"));
  snprintf(u->id, sizeof u->id, "%s", sb__row_str(row, "id"));
  snprintf(u->name, sizeof u->name, "%s", sb__row_str(row, "name"));
  u->is_admin = sb__row_bool(row, "is_admin");
  u->external_allowed = sb__row_bool(row, "external_allowed");
  u->permitted = sb__row_bool(row, "permitted");
}

int sb__user_load(sb_model_t *m, const char *tenant, const char *id, sb__user_t *u) {
  json_t *row = NULL;
  int rc = sb_store_get(m->st, &row, SB__USER_SQL "WHERE u.tenant_id = ? AND u.id = ?", "ss",
                        tenant, id);
  if (rc == 1)
    sb__user_from_row(row, u);
  json_decref(row);
  return rc;
}

int sb__user_load_uid(sb_model_t *m, long long uid, sb__user_t *u) {
  json_t *row = NULL;
  int rc = sb_store_get(m->st, &row, SB__USER_SQL "WHERE u.uid = ?", "l", uid);
  if (rc == 1)
    sb__user_from_row(row, u);
  json_decref(row);
  return rc;
}

int sb__me(sb_model_t *m, const sb_principal_t *who, sb__user_t *me, sb_model_err_t *err) {
  int rc;
  if (!who || !sb_model_valid_id(who->tenant) || !sb_model_valid_id(who->user))
    return sb__fail(err, SB_MODEL_EUNAUTH, "not authenticated");
  if ((rc = sb__user_load(m, who->tenant, who->user, me)) < 0)
    return sb__dbfail(m, err, rc);
  return rc == 1 ? 0 : sb__fail(err, SB_MODEL_EUNAUTH, "unknown user");
}

int sb__user_reachable(sb_model_t *m, const sb__user_t *me, const sb_user_ref_t *ref,
                       sb__user_t *out, sb_model_err_t *err) {
  int rc, same;
  if (!sb_model_valid_id(ref->tenant) || !sb_model_valid_id(ref->user))
    return sb__fail(err, SB_MODEL_EBADREQ, "invalid user or tenant id");
  same = strcmp(ref->tenant, me->tenant) == 0;
  if (!same && !me->permitted)
    return sb__fail(err, SB_MODEL_EFORBIDDEN, "external features are not permitted for you");
  if ((rc = sb__user_load(m, ref->tenant, ref->user, out)) < 0)
    return sb__dbfail(m, err, rc);
  if (rc == 0)
    return sb__fail(err, SB_MODEL_ENOTFOUND, "user not found");
  if (same)
    return 0;
  if ((rc = sb_policy_connected(m, me->tenant, out->tenant)) < 0)
    return sb__dbfail(m, err, rc);
  if (rc == 0 || !out->permitted)
    return sb__fail(err, SB_MODEL_ENOTFOUND, "user not found");
  return 0;
}

json_t *sb__user_ref_json(const sb__user_t *u) {
  return json_pack("{s:s, s:s, s:s}", "user", u->id, "tenant", u->tenant, "name", u->name);
}

int sb__check_text(const char *what, const char *s, size_t max, int allow_empty,
                   sb_model_err_t *err) {
  if (!s)
    return 0;
  size_t n = strlen(s);
  if ((n == 0 && !allow_empty) || n > max)
    return sb__fail(err, SB_MODEL_EBADREQ, "%s must be %s%zu bytes", what,
                    allow_empty ? "at most " : "1 to ", max);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')
      return sb__fail(err, SB_MODEL_EBADREQ, "%s contains control characters", what);
  return 0;
}

int sb__new_id(const char *prefix, char *out, size_t len) {
  uint8_t raw[8];
  char hex[2 * sizeof raw + 1];
  if (sb_random_bytes(raw, sizeof raw) != 0)
    return -1;
  sb_hex(raw, sizeof raw, hex);
  snprintf(out, len, "%s%s", prefix, hex);
  return 0;
}

/* ---- demo seed ---- */

static int sb__seed_rows(sb_model_t *m) {
  static const char *const tenants[][2] = {{"acme", "Acme Corp"}, {"globex", "Globex"}};
  static const char *const users[][4] = {
      {"acme", "alice", "Alice", "1"}, {"acme", "bob", "Bob", "0"},
      {"globex", "carol", "Carol", "1"}, {"globex", "dave", "Dave", "0"}};
  long long now = (long long)sb__now(m);
  int rc = 0;
  for (size_t i = 0; rc >= 0 && i < SB_ARRAY_SIZE(tenants); i++)
    rc = sb_store_exec(m->st, NULL, "INSERT INTO tenants (id, name, created_ms) VALUES (?, ?, ?) "
                       "ON CONFLICT DO NOTHING", "ssl", tenants[i][0], tenants[i][1], now);
  for (size_t i = 0; rc >= 0 && i < SB_ARRAY_SIZE(users); i++)
    rc = sb_store_exec(m->st, NULL,
                       "INSERT INTO users (tenant_id, id, name, is_admin, external_allowed, "
                       "created_ms) VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT DO NOTHING",
                       "sssil", users[i][0], users[i][1], users[i][2], users[i][3][0] == '1',
                       now);
  if (rc >= 0)
    rc = sb_store_exec(m->st, NULL,
                       "INSERT INTO connections (tenant_id, peer_id, allowed, changed_ms) "
                       "VALUES ('acme', 'globex', 1, ?), ('globex', 'acme', 1, ?) "
                       "ON CONFLICT DO NOTHING", "ll", now, now);
  return rc;
}

static int sb__seed_demo_room(sb_model_t *m, sb_effects_t *fx, sb_model_err_t *err) {
  static const char *const others[][2] = {{"acme", "bob"}, {"globex", "carol"},
                                          {"globex", "dave"}};
  sb__user_t alice, u;
  json_t *row = NULL;
  long long now = (long long)sb__now(m);
  int rc = sb_store_get(m->st, &row, "SELECT id FROM rooms WHERE id = 'demo'", "");
  json_decref(row);
  if (rc != 0)
    return rc < 0 ? sb__dbfail(m, err, rc) : 0;
  if ((rc = sb__user_load(m, "acme", "alice", &alice)) != 1)
    return rc < 0 ? sb__dbfail(m, err, rc) : sb__fail(err, SB_MODEL_EINTERNAL, "no alice");
  rc = sb_store_exec(m->st, NULL,
                     "INSERT INTO rooms (id, kind, tenant_id, name, description, created_ms, "
                     "updated_ms) VALUES ('demo', 'group', 'acme', 'demo', "
                     "'Demo room of acme and globex', ?, ?)", "ll", now, now);
  if (rc < 0 || (rc = sb__member_insert(m, "demo", &alice, 1, &alice, SB__NOTIFY_NONE, fx)) < 0)
    return sb__dbfail(m, err, rc);
  for (size_t i = 0; i < SB_ARRAY_SIZE(others); i++) {
    if ((rc = sb__user_load(m, others[i][0], others[i][1], &u)) != 1)
      return rc < 0 ? sb__dbfail(m, err, rc) : sb__fail(err, SB_MODEL_EINTERNAL, "no user");
    if ((rc = sb__member_insert(m, "demo", &u, 0, &alice, SB__NOTIFY_NONE, fx)) < 0)
      return sb__dbfail(m, err, rc);
  }
  return 0;
}

int sb_model_seed_demo(sb_model_t *m) {
  sb_principal_t alice = {.tenant = "acme", .user = "alice"};
  sb_user_ref_t carol = {.tenant = "globex", .user = "carol"};
  sb_contact_fields_t none = {0};
  sb_model_err_t err = {0};
  sb_effects_t fx;
  json_t *out = NULL;
  size_t mark;
  int rc;

  sb_effects_init(&fx); /* nobody is connected while seeding: the effects are dropped */
  if ((rc = sb__begin(m, &fx, &mark, &err)) < 0)
    goto Exit;
  rc = sb__seed_rows(m);
  if (rc < 0)
    rc = sb__dbfail(m, &err, rc);
  if (rc >= 0)
    rc = sb_model_contact_add(m, &alice, &carol, &none, &out, &fx, &err);
  if (rc >= 0)
    rc = sb__seed_demo_room(m, &fx, &err);
  rc = sb__finish(m, rc, &fx, mark, &err);
Exit:
  if (rc < 0)
    sb_error("-", "demo seed failed: %s", err.message);
  json_decref(out);
  sb_effects_free(&fx);
  return rc < 0 ? rc : 0;
}

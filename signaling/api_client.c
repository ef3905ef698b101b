/* Client API: one handler per method in a table; each checks its parameters, calls the model and
 * shapes the result. Parameters are strict (unknown keys and wrong types are bad_request), so a
 * client's typo is reported instead of silently ignored. */
#include "signaling/api_client.h"

#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef int (*sb__client_fn)(sb_model_t *m, const sb_principal_t *who, json_t *params,
                             json_t **result, sb_model_err_t *err, sb_effects_t *fx);

/* ---- parameter helpers ---- */

/* Refuses keys other than the NULL-terminated list. */
static int sb__params_only(json_t *params, sb_model_err_t *err, ...) {
  const char *key;
  json_t *v;
  json_object_foreach(params, key, v) {
    va_list ap;
    const char *ok;
    va_start(ap, err);
    while ((ok = va_arg(ap, const char *)) && strcmp(ok, key) != 0)
      ;
    va_end(ap);
    if (!ok) {
      err->status = SB_MODEL_EBADREQ;
      snprintf(err->message, sizeof err->message, "unknown parameter \"%.64s\"", key);
      return SB_MODEL_EBADREQ;
    }
  }
  return 0;
}

static int sb__bad(sb_model_err_t *err, const char *fmt, const char *key) {
  err->status = SB_MODEL_EBADREQ;
  snprintf(err->message, sizeof err->message, fmt, key);
  return SB_MODEL_EBADREQ;
}

/* A string parameter: *out NULL when absent and optional. Strings with NUL bytes are refused. */
static int sb__param_str(json_t *params, const char *key, int required, const char **out,
                         sb_model_err_t *err) {
  json_t *v = json_object_get(params, key);
  *out = NULL;
  if (!v)
    return required ? sb__bad(err, "missing parameter \"%s\"", key) : 0;
  if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
    return sb__bad(err, "parameter \"%s\" must be a string", key);
  *out = json_string_value(v);
  return 0;
}

/* {"user": id, "tenant": id}; the tenant defaults to the caller's. */
static int sb__param_user_obj(json_t *obj, const sb_principal_t *who, sb_user_ref_t *u,
                              sb_model_err_t *err) {
  const char *user, *tenant;
  int rc;
  if ((rc = sb__param_str(obj, "user", 1, &user, err)) < 0 ||
      (rc = sb__param_str(obj, "tenant", 0, &tenant, err)) < 0)
    return rc;
  if (!sb_model_valid_id(user) || (tenant && !sb_model_valid_id(tenant)))
    return sb__bad(err, "%s", "invalid user or tenant id");
  snprintf(u->user, sizeof u->user, "%s", user);
  snprintf(u->tenant, sizeof u->tenant, "%s", tenant ? tenant : who->tenant);
  return 0;
}

static int sb__param_room(json_t *params, const char **room, sb_model_err_t *err) {
  int rc = sb__param_str(params, "room", 1, room, err);
  if (rc == 0 && !sb_model_valid_id(*room))
    return sb__bad(err, "%s", "invalid room id");
  return rc;
}

static int sb__param_bool(json_t *params, const char *key, int *out, sb_model_err_t *err) {
  json_t *v = json_object_get(params, key);
  if (v && !json_is_boolean(v))
    return sb__bad(err, "parameter \"%s\" must be true or false", key);
  if (v)
    *out = json_is_true(v);
  return 0;
}

static int sb__param_int(json_t *params, const char *key, int *out, sb_model_err_t *err) {
  json_t *v = json_object_get(params, key);
  if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > 1000000))
    return sb__bad(err, "parameter \"%s\" must be a small non-negative integer", key);
  if (v)
    *out = (int)json_integer_value(v);
  return 0;
}

static int sb__wrap(json_t **result, const char *key, json_t *value) {
  *result = json_pack("{s:o}", key, value);
  return 0;
}

/* A list's page parameters: "limit" (default SB_MODEL_PAGE_DEFAULT) and "cursor". */
static int sb__param_page(json_t *params, sb_model_page_t *page, sb_model_err_t *err) {
  int rc;
  memset(page, 0, sizeof *page);
  page->limit = SB_MODEL_PAGE_DEFAULT;
  if ((rc = sb__params_only(params, err, "limit", "cursor", NULL)) < 0 ||
      (rc = sb__param_int(params, "limit", &page->limit, err)) < 0)
    return rc;
  return sb__param_str(params, "cursor", 0, &page->cursor, err);
}

/* {key: list} and, when more follow, "next_cursor". */
static int sb__wrap_page(json_t **result, const char *key, json_t *list, const sb_model_page_t *page) {
  *result = json_pack("{s:o}", key, list);
  if (*result && page->next[0])
    json_object_set_new(*result, "next_cursor", json_string(page->next));
  return 0;
}

/* ---- rooms ---- */

static int sb__rooms_list(sb_model_t *m, const sb_principal_t *who, json_t *params,
                          json_t **result, sb_model_err_t *err, sb_effects_t *fx) {
  json_t *rooms = NULL;
  sb_model_page_t page;
  int rc = sb__param_page(params, &page, err);
  if (rc < 0 || (rc = sb_model_rooms_list(m, who, &page, &rooms, err)) < 0)
    return rc;
  return sb__wrap_page(result, "rooms", rooms, &page);
}

static int sb__rooms_get(sb_model_t *m, const sb_principal_t *who, json_t *params,
                         json_t **result, sb_model_err_t *err, sb_effects_t *fx) {
  const char *room;
  json_t *r = NULL;
  int rc = sb__params_only(params, err, "room", NULL);
  if (rc < 0 || (rc = sb__param_room(params, &room, err)) < 0 ||
      (rc = sb_model_room_get(m, who, room, &r, err)) < 0)
    return rc;
  return sb__wrap(result, "room", r);
}

static int sb__room_fields(json_t *params, sb_room_fields_t *f, sb_model_err_t *err) {
  int rc;
  if ((rc = sb__param_str(params, "name", 0, &f->name, err)) < 0 ||
      (rc = sb__param_str(params, "photo_url", 0, &f->photo_url, err)) < 0 ||
      (rc = sb__param_str(params, "description", 0, &f->description, err)) < 0)
    return rc;
  return 0;
}

static int sb__rooms_create(sb_model_t *m, const sb_principal_t *who, json_t *params,
                            json_t **result, sb_model_err_t *err, sb_effects_t *fx) {
  sb_room_fields_t f = {0};
  sb_user_ref_t members[SB_MODEL_MAX_MEMBERS];
  json_t *list = json_object_get(params, "members"), *v, *r = NULL;
  size_t i;
  int rc = sb__params_only(params, err, "name", "photo_url", "description", "members", NULL);
  if (rc < 0 || (rc = sb__room_fields(params, &f, err)) < 0)
    return rc;
  if (list && !json_is_array(list))
    return sb__bad(err, "parameter \"%s\" must be an array", "members");
  if (json_array_size(list) >= SB_MODEL_MAX_MEMBERS) {
    err->status = SB_MODEL_ELIMIT;
    snprintf(err->message, sizeof err->message, "a room has at most %d members",
             SB_MODEL_MAX_MEMBERS);
    return SB_MODEL_ELIMIT;
  }
  json_array_foreach(list, i, v) {
    if (!json_is_object(v))
      return sb__bad(err, "%s", "each member must be {\"user\": ..., \"tenant\": ...}");
    if ((rc = sb__params_only(v, err, "user", "tenant", NULL)) < 0 ||
        (rc = sb__param_user_obj(v, who, &members[i], err)) < 0)
      return rc;
  }
  rc = sb_model_room_create(m, who, &f, members, json_array_size(list), &r, fx, err);
  return rc < 0 ? rc : sb__wrap(result, "room", r);
}

static int sb__rooms_update(sb_model_t *m, const sb_principal_t *who, json_t *params,
                            json_t **result, sb_model_err_t *err, sb_effects_t *fx) {
  sb_room_fields_t f = {0};
  const char *room;
  json_t *r = NULL;
  int rc = sb__params_only(params, err, "room", "name", "photo_url", "description", NULL);
  if (rc < 0 || (rc = sb__param_room(params, &room, err)) < 0 ||
      (rc = sb__room_fields(params, &f, err)) < 0 ||
      (rc = sb_model_room_update(m, who, room, &f, &r, fx, err)) < 0)
    return rc;
  return sb__wrap(result, "room", r);
}

/* The member methods share their parameters: room, user, tenant. */
static int sb__member_params(json_t *params, const sb_principal_t *who, const char **room,
                             sb_user_ref_t *u, sb_model_err_t *err) {
  int rc = sb__params_only(params, err, "room", "user", "tenant", NULL);
  if (rc < 0 || (rc = sb__param_room(params, room, err)) < 0)
    return rc;
  return sb__param_user_obj(params, who, u, err);
}

#define SB__MEMBER_METHOD(fn, call)                                                           \
  static int fn(sb_model_t *m, const sb_principal_t *who, json_t *params, json_t **result,    \
                sb_model_err_t *err, sb_effects_t *fx) {                                      \
    const char *room;                                                                         \
    sb_user_ref_t u;                                                                          \
    int rc = sb__member_params(params, who, &room, &u, err);                                  \
    if (rc < 0 || (rc = (call)) < 0)                                                          \
      return rc;                                                                              \
    *result = json_object();                                                                  \
    return 0;                                                                                 \
  }

SB__MEMBER_METHOD(sb__rooms_add_member, sb_model_room_add_member(m, who, room, &u, fx, err))
SB__MEMBER_METHOD(sb__rooms_remove_member,
                  sb_model_room_remove_member(m, who, room, &u, fx, err))
SB__MEMBER_METHOD(sb__rooms_grant_master, sb_model_room_set_master(m, who, room, &u, 1, fx, err))
SB__MEMBER_METHOD(sb__rooms_revoke_master,
                  sb_model_room_set_master(m, who, room, &u, 0, fx, err))

static int sb__rooms_leave(sb_model_t *m, const sb_principal_t *who, json_t *params,
                           json_t **result, sb_model_err_t *err, sb_effects_t *fx) {
  const char *room;
  int rc = sb__params_only(params, err, "room", NULL);
  if (rc < 0 || (rc = sb__param_room(params, &room, err)) < 0 ||
      (rc = sb_model_room_leave(m, who, room, fx, err)) < 0)
    return rc;
  *result = json_object();
  return 0;
}

/* ---- contacts, blocks, notifications ---- */

static int sb__contact_fields(json_t *params, sb_contact_fields_t *f, sb_model_err_t *err) {
  static const char *const keys[] = {"display_name", "phone", "email", "memo"};
  const char **vals[] = {&f->display_name, &f->phone, &f->email, &f->memo};
  int rc;
  for (unsigned i = 0; i < SB_ARRAY_SIZE(keys); i++) {
    json_t *v = json_object_get(params, keys[i]);
    if (!v)
      continue;
    f->set |= 1u << i; /* SB_CONTACT_* follow the order of keys */
    if (!json_is_null(v) && (rc = sb__param_str(params, keys[i], 1, vals[i], err)) < 0)
      return sb__bad(err, "parameter \"%s\" must be a string or null", keys[i]);
  }
  return 0;
}

static int sb__contacts_list(sb_model_t *m, const sb_principal_t *who, json_t *params,
                             json_t **result, sb_model_err_t *err, sb_effects_t *fx) {
  json_t *list = NULL;
  sb_model_page_t page;
  int rc = sb__param_page(params, &page, err);
  if (rc < 0 || (rc = sb_model_contacts_list(m, who, &page, &list, err)) < 0)
    return rc;
  return sb__wrap_page(result, "contacts", list, &page);
}

static int sb__contacts_add_or_update(sb_model_t *m, const sb_principal_t *who, json_t *params,
                                      json_t **result, sb_model_err_t *err, sb_effects_t *fx,
                                      int add) {
  sb_contact_fields_t f = {0};
  sb_user_ref_t u;
  json_t *out = NULL;
  int rc = sb__params_only(params, err, "user", "tenant", "display_name", "phone", "email",
                           "memo", NULL);
  if (rc < 0 || (rc = sb__param_user_obj(params, who, &u, err)) < 0 ||
      (rc = sb__contact_fields(params, &f, err)) < 0)
    return rc;
  rc = add ? sb_model_contact_add(m, who, &u, &f, &out, fx, err)
           : sb_model_contact_update(m, who, &u, &f, &out, err);
  if (rc < 0)
    return rc;
  if (add) {
    *result = out;
    return 0;
  }
  return sb__wrap(result, "contact", out);
}

static int sb__contacts_add(sb_model_t *m, const sb_principal_t *who, json_t *params,
                            json_t **result, sb_model_err_t *err, sb_effects_t *fx) {
  return sb__contacts_add_or_update(m, who, params, result, err, fx, 1);
}

static int sb__contacts_update(sb_model_t *m, const sb_principal_t *who, json_t *params,
                               json_t **result, sb_model_err_t *err, sb_effects_t *fx) {
  return sb__contacts_add_or_update(m, who, params, result, err, fx, 0);
}

/* Methods that name one user and answer {}. */
static int sb__user_params(json_t *params, const sb_principal_t *who, sb_user_ref_t *u,
                           sb_model_err_t *err) {
  int rc = sb__params_only(params, err, "user", "tenant", NULL);
  return rc < 0 ? rc : sb__param_user_obj(params, who, u, err);
}

#define SB__USER_METHOD(fn, call)                                                             \
  static int fn(sb_model_t *m, const sb_principal_t *who, json_t *params, json_t **result,    \
                sb_model_err_t *err, sb_effects_t *fx) {                                      \
    sb_user_ref_t u;                                                                          \
    int rc = sb__user_params(params, who, &u, err);                                           \
    if (rc < 0 || (rc = (call)) < 0)                                                          \
      return rc;                                                                              \
    *result = json_object();                                                                  \
    return 0;                                                                                 \
  }

SB__USER_METHOD(sb__contacts_remove, sb_model_contact_remove(m, who, &u, err))
SB__USER_METHOD(sb__blocks_add, sb_model_block_add(m, who, &u, fx, err))
SB__USER_METHOD(sb__blocks_remove, sb_model_block_remove(m, who, &u, fx, err))

static int sb__blocks_list(sb_model_t *m, const sb_principal_t *who, json_t *params,
                           json_t **result, sb_model_err_t *err, sb_effects_t *fx) {
  json_t *list = NULL;
  sb_model_page_t page;
  int rc = sb__param_page(params, &page, err);
  if (rc < 0 || (rc = sb_model_blocks_list(m, who, &page, &list, err)) < 0)
    return rc;
  return sb__wrap_page(result, "blocks", list, &page);
}

static int sb__notifications_list(sb_model_t *m, const sb_principal_t *who, json_t *params,
                                  json_t **result, sb_model_err_t *err, sb_effects_t *fx) {
  int pending = 0, limit = 50, rc;
  json_t *list = NULL;
  if ((rc = sb__params_only(params, err, "pending_only", "limit", NULL)) < 0 ||
      (rc = sb__param_bool(params, "pending_only", &pending, err)) < 0 ||
      (rc = sb__param_int(params, "limit", &limit, err)) < 0 ||
      (rc = sb_model_notifications_list(m, who, pending, limit, &list, err)) < 0)
    return rc;
  return sb__wrap(result, "notifications", list);
}

static const struct {
  const char *method;
  sb__client_fn fn;
} sb__client_methods[] = {
    {"rooms.list", sb__rooms_list},
    {"rooms.get", sb__rooms_get},
    {"rooms.create", sb__rooms_create},
    {"rooms.update", sb__rooms_update},
    {"rooms.add_member", sb__rooms_add_member},
    {"rooms.remove_member", sb__rooms_remove_member},
    {"rooms.grant_master", sb__rooms_grant_master},
    {"rooms.revoke_master", sb__rooms_revoke_master},
    {"rooms.leave", sb__rooms_leave},
    {"contacts.list", sb__contacts_list},
    {"contacts.add", sb__contacts_add},
    {"contacts.update", sb__contacts_update},
    {"contacts.remove", sb__contacts_remove},
    {"blocks.list", sb__blocks_list},
    {"blocks.add", sb__blocks_add},
    {"blocks.remove", sb__blocks_remove},
    {"notifications.list", sb__notifications_list},
};

static sb__client_fn sb__client_find(const char *method) {
  for (size_t i = 0; method && i < SB_ARRAY_SIZE(sb__client_methods); i++)
    if (strcmp(sb__client_methods[i].method, method) == 0)
      return sb__client_methods[i].fn;
  return NULL;
}

int sb_api_client_has(const char *method) { return sb__client_find(method) != NULL; }

int sb_api_client_call(sb_model_t *m, const sb_principal_t *who, const char *method,
                       json_t *params, json_t **result, sb_api_error_t *err, sb_effects_t *fx) {
  sb__client_fn fn = sb__client_find(method);
  sb_model_err_t merr = {0};
  json_t *empty = NULL;
  size_t mark = fx->len;
  int rc;

  *result = NULL;
  if (!fn) {
    err->code = "unknown_method";
    snprintf(err->message, sizeof err->message, "unknown method \"%.64s\"",
             method ? method : "");
    sb_utf8_sanitize(err->message);
    return SB_MODEL_EBADREQ;
  }
  if (!params || json_is_null(params))
    params = empty = json_object();
  if (!json_is_object(params)) {
    rc = sb__bad(&merr, "%s", "params must be an object");
  } else {
    rc = fn(m, who, params, result, &merr, fx);
    if (rc >= 0 && !*result) {
      merr.status = rc = SB_MODEL_EINTERNAL;
      snprintf(merr.message, sizeof merr.message, "out of memory");
    }
  }
  json_decref(empty);
  if (rc < 0) {
    sb_effects_truncate(fx, mark);
    json_decref(*result);
    *result = NULL;
    err->code = sb_model_code(rc);
    /* Messages quote parameters cut at a byte count: keep them valid UTF-8 for the reply. */
    snprintf(err->message, sizeof err->message, "%s", sb_utf8_sanitize(merr.message));
    return rc;
  }
  return 0;
}

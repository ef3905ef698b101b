/* Internals shared by the model's files (model*.c, policy.c, audit.c); not for other callers. */
#ifndef SB_MODEL_INTERNAL_H
#define SB_MODEL_INTERNAL_H

#include "signaling/model.h"

struct sb_model {
  sb_store_t *st;
  uint64_t (*now_ms)(void *ctx);
  void *now_ctx;
  /* Publishes an operation's effects inside its transaction (the cross-node bus), or NULL. */
  int (*publish)(sb_store_t *st, const sb_effects_t *fx, size_t from, void *arg);
  void *publish_arg;
};

/* A loaded user; `permitted` is the effective external permission (tenant mode or own flag). */
typedef struct {
  long long uid;
  char tenant[SB_ID_MAX + 1];
  char id[SB_ID_MAX + 1];
  char name[256];
  int is_admin, external_allowed, permitted;
} sb__user_t;

/* A loaded room, with the caller's membership. */
typedef struct {
  char id[SB_ID_MAX + 1];
  char home[SB_ID_MAX + 1];
  int group;       /* 1: group room, 0: 1:1 */
  int is_master;   /* the loading user's role */
} sb__room_t;

/* The effective external permission as SQL over users u joined with tenants t. */
#define SB__PERMITTED_SQL "(t.external_mode = 'everyone' OR u.external_allowed = 1)"
#define SB__USER_SQL                                                                          \
  "SELECT u.uid, u.tenant_id, u.id, u.name, u.is_admin, u.external_allowed, " SB__PERMITTED_SQL \
  " AS permitted FROM users u JOIN tenants t ON t.id = u.tenant_id "
/* Number of distinct tenants of room r (see the room_tenants view). */
#define SB__ROOM_TENANTS_SQL(r)                                                               \
  "(SELECT COUNT(DISTINCT rt.tenant_id) FROM room_tenants rt WHERE rt.room_id = " r ")"

/* Max lengths of free text (bytes). */
#define SB__NAME_MAX 128
#define SB__TEXT_MAX 2048
#define SB__URL_MAX 1024

/* ---- model_page.c: keyset pages of lists (sb_model_page_t) ---- */
/** A page's position, decoded from its cursor: after (key_ms, tenant, id) in the list's order. */
typedef struct {
  int set;               /* 0: the first page */
  long long key_ms;      /* rooms: updated_ms */
  char tenant[SB_ID_MAX + 1], id[SB_ID_MAX + 1];
} sb__after_t;
/** Checks the limit and decodes the cursor: rooms' "MS.ID" (with_ms) or users' "TENANT/ID". */
int sb__page_start(const sb_model_page_t *page, int with_ms, sb__after_t *after,
                   sb_model_err_t *err);
/** Rows were read with LIMIT limit + 1: drops the extra row and returns 1 if there was one
 * (more follow), else 0. */
int sb__page_trim(json_t *rows, int limit);

/* ---- model.c ---- */
uint64_t sb__now(sb_model_t *m);
/** Sets err and returns status. */
int sb__fail(sb_model_err_t *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Reports a store failure `rc` as internal (or conflict for a constraint) and logs it. */
int sb__dbfail(sb_model_t *m, sb_model_err_t *err, int rc);
/** Begins a write transaction; remembers where fx stood. */
int sb__begin(sb_model_t *m, sb_effects_t *fx, size_t *mark, sb_model_err_t *err);
/** Commits if rc >= 0, else rolls back and drops the effects added since the mark. */
int sb__finish(sb_model_t *m, int rc, sb_effects_t *fx, size_t mark, sb_model_err_t *err);
/** Integer or boolean column as 0/1 (SQLite answers integers, PostgreSQL booleans). */
int sb__row_bool(const json_t *row, const char *key);
const char *sb__row_str(const json_t *row, const char *key);
long long sb__row_int(const json_t *row, const char *key);
void sb__user_from_row(const json_t *row, sb__user_t *u);
/** Loads a user: 1 found, 0 not, < 0 store failure. */
int sb__user_load(sb_model_t *m, const char *tenant, const char *id, sb__user_t *u);
int sb__user_load_uid(sb_model_t *m, long long uid, sb__user_t *u);
/** Loads the caller; unauthenticated if the principal names no user. */
int sb__me(sb_model_t *m, const sb_principal_t *who, sb__user_t *me, sb_model_err_t *err);
/** Finds a user the caller may reach: same tenant, or a permitted user of a tenant connected
 * to the caller's while the caller is permitted. Anything else is not_found (or forbidden when
 * the caller lacks the permission), so other tenants' users are never revealed. */
int sb__user_reachable(sb_model_t *m, const sb__user_t *me, const sb_user_ref_t *ref,
                       sb__user_t *out, sb_model_err_t *err);
/** {"user", "tenant", "name"} of a user. */
json_t *sb__user_ref_json(const sb__user_t *u);
/** Checks a free text field (NULL passes). */
int sb__check_text(const char *what, const char *s, size_t max, int allow_empty,
                   sb_model_err_t *err);
/** Writes `prefix` and 16 random hex digits into out. */
int sb__new_id(const char *prefix, char *out, size_t len);

/* ---- model_rooms.c ---- */
/** Loads a room the user is a member of; not_found otherwise. */
int sb__room_load(sb_model_t *m, const char *room, const sb__user_t *me, sb__room_t *r,
                  sb_model_err_t *err);
/** The room as the viewer sees it (members included if with_members). */
int sb__room_json(sb_model_t *m, const char *room, const sb__user_t *viewer, int with_members,
                  json_t **out);
/** Sends event `name` with `data` (borrowed) to every member of the room. */
int sb__room_broadcast(sb_model_t *m, const char *room, const char *name, json_t *data,
                       sb_effects_t *fx);
/* Who hears of a new member. */
enum { SB__NOTIFY_NONE, SB__NOTIFY_SELF, SB__NOTIFY_ALL };
/** Makes u a member and sends room.member_added to nobody, u, or every member. */
int sb__member_insert(sb_model_t *m, const char *room, const sb__user_t *u, int master,
                      const sb__user_t *by, int notify, sb_effects_t *fx);
/** Removes u from the room: membership events to the others and u, revocation of u's
 * admission with `reason`, an audit entry, and a new master if the group lost its last one. */
int sb__member_delete(sb_model_t *m, const char *room, const sb__user_t *u, const char *reason,
                      const sb_principal_t *actor, sb_effects_t *fx);

/* ---- model_notify.c ---- */
/** Stores a notification for every permitted user of tenants a and b and queues its event. */
int sb__notify_connection_usable(sb_model_t *m, const char *a, const char *b, sb_effects_t *fx);

/* ---- audit.c ---- */
typedef struct {
  const sb_principal_t *actor; /* NULL: the system (automatic exclusion) */
  const char *tenant, *user, *room, *action, *reason;
  const char *peer_tenant; /* another tenant concerned, or NULL */
} sb__audit_t;
/** Appends the webhook events of a connection between tenant and peer that became usable
 * (usable = 1) or ended (0): one to each side, naming the other (model_webhooks.c). */
int sb__webhook_connection(sb_model_t *m, const char *tenant, const char *peer, int usable,
                           sb_effects_t *fx);
/** Appends an audit entry, visible to the tenants of the actor, the user, the peer tenant and
 * the room. */
int sb__audit(sb_model_t *m, const sb__audit_t *a);

#endif

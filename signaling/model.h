/* The signaling data model: tenants, users, external connections, rooms, contacts, blocks,
 * notifications and the audit log, with the cross-company rules of docs/model.md.
 *
 * Every operation does its reads and writes in one store transaction: it either happens whole or
 * not at all, and a failure leaves `fx` as it was. Operations do no network I/O: what the network
 * side must do afterwards (events, revocations) is appended to an sb_effects_t.
 *
 * Results are jansson objects owned by the caller. Errors are sb_model_status_t values with a
 * message that never reveals objects of another tenant (those answer SB_MODEL_ENOTFOUND).
 * A model is used from one thread at a time. With PostgreSQL, an operation may fail with
 * SB_MODEL_ERETRY when another node changed the same data at once: run it again. */
#ifndef SB_MODEL_H
#define SB_MODEL_H

#include "signaling/effects.h"
#include "signaling/store.h"

#include <jansson.h>
#include <stdint.h>

/* Statuses; each maps to one stable error code of docs/protocol.md (sb_model_code()). */
typedef enum {
  SB_MODEL_OK = 0,
  SB_MODEL_EBADREQ = -1,    /* bad_request */
  SB_MODEL_EUNAUTH = -2,    /* unauthenticated */
  SB_MODEL_EFORBIDDEN = -3, /* forbidden */
  SB_MODEL_ENOTFOUND = -4,  /* not_found */
  SB_MODEL_ECONFLICT = -5,  /* conflict */
  SB_MODEL_ELIMIT = -6,     /* limit_exceeded */
  SB_MODEL_EINTERNAL = -7,  /* internal */
  SB_MODEL_ERETRY = -8,     /* unavailable: a concurrent change conflicted (PostgreSQL aborted
                             * the transaction); nothing was changed and running the operation
                             * again may succeed (sb_model_run_retry()) */
  SB_MODEL_EUNAVAILABLE = -9, /* unavailable: the database cannot be reached; nothing changed */
  SB_MODEL_ESTORAGE_FULL = -10, /* storage_full: the database's disk is full; nothing changed */
} sb_model_status_t;

/* Members of one room at most (limit_exceeded beyond). */
#define SB_MODEL_MAX_MEMBERS 256

typedef struct {
  int status;
  char message[256];
} sb_model_err_t;

/* Who is asking: the user of a verified token. `operator` marks the server operator's token
 * (admin API only: may create tenants and read any tenant, acts as no tenant's administrator). */
typedef struct {
  char tenant[SB_ID_MAX + 1];
  char user[SB_ID_MAX + 1];
  int operator;
} sb_principal_t;

/* A user named by tenant and id (user ids are unique within a tenant only). */
typedef struct {
  char tenant[SB_ID_MAX + 1];
  char user[SB_ID_MAX + 1];
} sb_user_ref_t;

/* A pair of users who must not exchange media (a blocked them, or the other way round). */
typedef struct {
  sb_user_ref_t a, b;
} sb_user_pair_t;

typedef struct sb_model sb_model_t;

/** The stable error code of a status: "bad_request", "forbidden", ... ("internal" if unknown). */
const char *sb_model_code(int status);
/** 1 if an operation that failed with `status` may be run again as is (SB_MODEL_ERETRY). */
int sb_model_retryable(int status);

/** Runs op(m, arg) and runs it again while it fails with SB_MODEL_ERETRY, at most max_attempts
 * times in all (< 1 counts as 1), sleeping a short random backoff (1 ms doubling to 64 ms) in
 * between. op must be a whole model operation (its failure undid everything it did and dropped
 * its effects), so running it again is safe. Blocks the calling thread: for a thread that owns
 * the model, never the signaling loop. Returns op's last result. */
int sb_model_run_retry(sb_model_t *m, int (*op)(sb_model_t *m, void *arg), void *arg,
                       int max_attempts);
/** 1 if `s` is a valid tenant, user or room id: 1..64 of [A-Za-z0-9._@-], not starting with
 * '.' or '-'. */
int sb_model_valid_id(const char *s);

/** Creates a model over an open store (borrowed: the caller closes it after the model). */
int sb_model_create(sb_store_t *store, sb_model_t **out);
/** Destroys the model. Accepts NULL. */
void sb_model_destroy(sb_model_t *m);
/** Replaces the wall clock (ms since the epoch) used for timestamps; for tests. */
void sb_model_set_clock(sb_model_t *m, uint64_t (*now_ms)(void *ctx), void *ctx);
/** Sets the function that publishes each operation's effects (fx->items[from..]) inside the
 * operation's outermost transaction, right before its commit; a failure rolls the operation
 * back. NULL publishes nothing (one node). Used for the cross-node bus (signaling/bus.h). */
void sb_model_set_publisher(sb_model_t *m,
                            int (*publish)(sb_store_t *st, const sb_effects_t *fx, size_t from,
                                           void *arg),
                            void *arg);
/** The store the model works on. */
sb_store_t *sb_model_store(sb_model_t *m);

/** Creates the demo data (tenants acme and globex connected both ways; alice, bob in acme with
 * alice its admin; carol, dave in globex with carol its admin; all external-permitted; a 1:1
 * room alice<->carol and a group room "demo" mastered by alice with all four). Idempotent. */
int sb_model_seed_demo(sb_model_t *m);

/* ---- Client side: rooms (model_rooms.c, model_members.c) ---- */

/* Room fields; NULL leaves a field unchanged (update) or empty (create). */
typedef struct {
  const char *name, *photo_url, *description;
} sb_room_fields_t;

/* One page of a list (rooms.list, contacts.list, blocks.list): at most `limit` items (1 to
 * SB_MODEL_PAGE_MAX) after `cursor` (NULL or "" = from the start; otherwise the `next` of the
 * previous page, opaque to clients). `next` is set to the cursor of the following page, "" when
 * this page is the last. */
#define SB_MODEL_PAGE_MAX 500
#define SB_MODEL_PAGE_DEFAULT 100
typedef struct {
  int limit;
  const char *cursor;
  char next[160];
} sb_model_page_t;

/** The caller's rooms, most recently changed first (then by id), each with its external mark.
 * *out: array of one page. */
int sb_model_rooms_list(sb_model_t *m, const sb_principal_t *who, sb_model_page_t *page,
                        json_t **out, sb_model_err_t *err);
/** One room of the caller with its members. */
int sb_model_room_get(sb_model_t *m, const sb_principal_t *who, const char *room, json_t **out,
                      sb_model_err_t *err);
/** Creates a group room with the caller as master and `members` (may be 0) added. */
int sb_model_room_create(sb_model_t *m, const sb_principal_t *who, const sb_room_fields_t *f,
                         const sb_user_ref_t *members, size_t n, json_t **out, sb_effects_t *fx,
                         sb_model_err_t *err);
/** Changes name, photo or description of a group room; masters only. */
int sb_model_room_update(sb_model_t *m, const sb_principal_t *who, const char *room,
                         const sb_room_fields_t *f, json_t **out, sb_effects_t *fx,
                         sb_model_err_t *err);
/** Adds a member to a group room; masters only; the room's tenants must stay pairwise connected
 * and, if the room is external, every member permitted. */
int sb_model_room_add_member(sb_model_t *m, const sb_principal_t *who, const char *room,
                             const sb_user_ref_t *user, sb_effects_t *fx, sb_model_err_t *err);
/** Removes another member; masters only. Revokes the member's admission ("member_removed"). */
int sb_model_room_remove_member(sb_model_t *m, const sb_principal_t *who, const char *room,
                                const sb_user_ref_t *user, sb_effects_t *fx,
                                sb_model_err_t *err);
/** Grants (master = 1) or takes (0) the master role; masters only; a room keeps one master. */
int sb_model_room_set_master(sb_model_t *m, const sb_principal_t *who, const char *room,
                             const sb_user_ref_t *user, int master, sb_effects_t *fx,
                             sb_model_err_t *err);
/** The caller leaves a room; the last master of a group with other members must hand over
 * the role first (conflict). */
int sb_model_room_leave(sb_model_t *m, const sb_principal_t *who, const char *room,
                        sb_effects_t *fx, sb_model_err_t *err);

/* ---- Client side: contacts and blocks (model_contacts.c) ---- */

/* Private contact details. `set` says which fields the call sets (SB_CONTACT_* bits); a set
 * field with a NULL value is cleared. */
enum {
  SB_CONTACT_DISPLAY_NAME = 1,
  SB_CONTACT_PHONE = 2,
  SB_CONTACT_EMAIL = 4,
  SB_CONTACT_MEMO = 8,
};
typedef struct {
  unsigned set;
  const char *display_name, *phone, *email, *memo;
} sb_contact_fields_t;

/** The caller's contacts with their private details, by tenant and id. *out: array of one page. */
int sb_model_contacts_list(sb_model_t *m, const sb_principal_t *who, sb_model_page_t *page,
                           json_t **out, sb_model_err_t *err);
/** Adds (or, if present, updates) a contact and creates or reopens the 1:1 room with them.
 * *out: {"contact": {...}, "room": {...}}. */
int sb_model_contact_add(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *user,
                         const sb_contact_fields_t *f, json_t **out, sb_effects_t *fx,
                         sb_model_err_t *err);
/** Changes the private details of an existing contact. */
int sb_model_contact_update(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *user,
                            const sb_contact_fields_t *f, json_t **out, sb_model_err_t *err);
/** Removes a contact; the 1:1 room stays. */
int sb_model_contact_remove(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *user,
                            sb_model_err_t *err);
/** The users the caller blocked, by tenant and id. *out: array of one page. */
int sb_model_blocks_list(sb_model_t *m, const sb_principal_t *who, sb_model_page_t *page,
                         json_t **out, sb_model_err_t *err);
/** Blocks a user: their 1:1 call ends, group calls stop exchanging media between the two. */
int sb_model_block_add(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *user,
                       sb_effects_t *fx, sb_model_err_t *err);
/** Unblocks a user. */
int sb_model_block_remove(sb_model_t *m, const sb_principal_t *who, const sb_user_ref_t *user,
                          sb_effects_t *fx, sb_model_err_t *err);

/* ---- Notifications (model_notify.c) ---- */

/** The caller's notifications, newest first (limit 1..500; pending_only: not yet delivered). */
int sb_model_notifications_list(sb_model_t *m, const sb_principal_t *who, int pending_only,
                                int limit, json_t **out, sb_model_err_t *err);
/** For a session that just connected: the user's undelivered notifications, oldest first, now
 * marked delivered. *out: array of event data objects for "notification" events (NULL on
 * failure). Returns the count or < 0. */
int sb_model_notifications_take(sb_model_t *m, const char *tenant, const char *user,
                                json_t **out);
/** Marks one notification delivered (after its event reached a session). */
int sb_model_notification_delivered(sb_model_t *m, const char *tenant, const char *user,
                                    long long id);

/* ---- Admission and media policy (policy.c) ---- */

/** Decides whether (tenant, user) may take part in a call in `room` now: membership, the
 * user's external permission, every pair of the room's tenants connected, and for a 1:1 room no
 * block either way. Returns 0 (admitted) or SB_MODEL_ENOTFOUND / SB_MODEL_EFORBIDDEN /
 * SB_MODEL_EINTERNAL with the message for the client in `reason`. A user blocked by the other
 * member of a 1:1 room gets exactly the answer of a room that does not exist. Admissions and
 * denials are written to the audit log with the real reason. */
int sb_model_admit(sb_model_t *m, const char *tenant, const char *user, const char *room,
                   char *reason, size_t len);
/** The same decision as sb_model_admit() for a participant already in a call, without an audit
 * entry (its admission and any revocation were audited when they happened): 1 still admitted,
 * 0 not (the revocation reason for call.ended in `why`: "member_removed", "blocked",
 * "permission_withdrawn", "connection_revoked", "not_found"), < 0 when it cannot tell.
 * Used to re-check live calls after this node may have missed revocations. */
int sb_model_still_admitted(sb_model_t *m, const char *tenant, const char *user,
                            const char *room, char *why, size_t len);
/** The pairs of members of `room` who must not exchange media (blocks). *pairs is malloc'ed
 * (free() it; NULL when *n is 0). Returns the count or < 0. */
int sb_model_media_exclusions(sb_model_t *m, const char *room, sb_user_pair_t **pairs,
                              size_t *n);
/** Writes a revocation that the network side made on its own (call ended by the relay) to the
 * audit log. */
int sb_model_audit_revocation(sb_model_t *m, const char *tenant, const char *user,
                              const char *room, const char *reason);

/* ---- Administration (model_tenants.c, model_users.c) ---- */

/* User fields for create/update: NULL or -1 leaves a field unchanged (update) or default. */
typedef struct {
  const char *name;
  int is_admin;         /* 0, 1, or -1 */
  int external_allowed; /* 0, 1, or -1 */
} sb_user_fields_t;

/* Audit query filters; NULL / 0 means no filter. */
typedef struct {
  const char *user, *room, *action;
  long long since_ms;
  int limit; /* 1..1000, default 100 */
} sb_audit_filter_t;

/** Tenants visible to `who`: their own and those with a connection to it (operator: all). */
int sb_model_tenants_list(sb_model_t *m, const sb_principal_t *who, json_t **out,
                          sb_model_err_t *err);
/** One tenant with its external mode and user count. */
int sb_model_tenant_get(sb_model_t *m, const char *tenant, json_t **out, sb_model_err_t *err);
/** Creates a tenant (operator action). */
int sb_model_tenant_create(sb_model_t *m, const sb_principal_t *who, const char *id,
                           const char *name, json_t **out, sb_model_err_t *err);
/** Renames a tenant and/or sets its external mode ("everyone" or "chosen"; NULL: unchanged).
 * Users who lose their permission are excluded from external rooms. */
int sb_model_tenant_update(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                           const char *name, const char *mode, json_t **out, sb_effects_t *fx,
                           sb_model_err_t *err);
/** Users of a tenant. *out: array. */
int sb_model_users_list(sb_model_t *m, const char *tenant, json_t **out, sb_model_err_t *err);
/** One user: {id, tenant, name, admin, external_allowed, external_permitted}. */
int sb_model_user_get(sb_model_t *m, const char *tenant, const char *user, json_t **out,
                      sb_model_err_t *err);
/** Creates a user in a tenant. */
int sb_model_user_create(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                         const char *id, const sb_user_fields_t *f, json_t **out,
                         sb_model_err_t *err);
/** Updates a user; withdrawing the external permission excludes the user from external rooms.
 * A tenant keeps at least one administrator. */
int sb_model_user_update(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                         const char *user, const sb_user_fields_t *f, json_t **out,
                         sb_effects_t *fx, sb_model_err_t *err);
/** A tenant's external connections: [{peer, name, allowed, peer_allowed, usable}]. */
int sb_model_connections_list(sb_model_t *m, const char *tenant, json_t **out,
                              sb_model_err_t *err);
/** Sets `tenant`'s side of the connection toward `peer`. Allowing one that thereby becomes
 * usable notifies the permitted users of both; revoking a usable one excludes the users it
 * separates from their shared rooms. *out: the connection as listed. */
int sb_model_connection_set(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                            const char *peer, int allow, json_t **out, sb_effects_t *fx,
                            sb_model_err_t *err);
/** Audit entries visible to `tenant` (NULL: all), newest first. *out: array. */
int sb_model_audit_query(sb_model_t *m, const char *tenant, const sb_audit_filter_t *f,
                         json_t **out, sb_model_err_t *err);
/* ---- Webhooks (model_webhooks.c; delivery: webhook.h) ---- */

/* Longest webhook URL (bytes). */
#define SB_MODEL_WEBHOOK_URL_MAX 1024

/** 0 if `url` may be a webhook receiver: http:// or https://, a host, no credentials, no
 * spaces or control characters, at most SB_MODEL_WEBHOOK_URL_MAX bytes; else -1 with why. */
int sb_model_webhook_url_check(const char *url, char *why, size_t len);
/** A tenant's webhook: {tenant, url, secret (masked: "whsec_...abcd"), created, updated};
 * not_found when none is configured. */
int sb_model_webhook_get(sb_model_t *m, const char *tenant, json_t **out, sb_model_err_t *err);
/** Sets the URL of the tenant's webhook. Creates it if there is none (*created = 1), with a new
 * signing secret that *out holds whole: the only time it is shown. */
int sb_model_webhook_set(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                         const char *url, int *created, json_t **out, sb_effects_t *fx,
                         sb_model_err_t *err);
/** Replaces the signing secret; *out holds the new one whole (this once). */
int sb_model_webhook_rotate(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                            json_t **out, sb_effects_t *fx, sb_model_err_t *err);
/** Removes the tenant's webhook. */
int sb_model_webhook_delete(sb_model_t *m, const sb_principal_t *who, const char *tenant,
                            sb_effects_t *fx, sb_model_err_t *err);
/** The webhooks of every tenant (tenant NULL) or of one, with whole secrets: *out is an array
 * of {tenant, url, secret}, for the sender (webhooks.c) only, never an API answer. */
int sb_model_webhooks_load(sb_model_t *m, const char *tenant, json_t **out);
/** The tenants of `room`'s members (an array of ids; empty if none). 0 or < 0. */
int sb_model_room_tenants(sb_model_t *m, const char *room, json_t **out);

/** 1 if (tenant, user) exists and is an administrator of the tenant, 0 if not, < 0 on error. */
int sb_model_is_admin(sb_model_t *m, const char *tenant, const char *user);

#endif

/* Model behaviour beyond the policy table: effects, atomicity, admission and its audit,
 * notifications, the demo seed, private contact details. */
#include "model_fixture.h"
#include "sbtest.h"

#include <stdlib.h>

static int connect_tenants(fixture_t *f, const char *a, const char *admin_a, const char *b,
                           const char *admin_b) {
  sb_principal_t pa = P(a, admin_a), pb = P(b, admin_b);
  sb_model_err_t err;
  json_t *out = NULL;
  int rc = sb_model_connection_set(f->m, &pa, a, b, 1, &out, &f->fx, &err);
  json_decref(out);
  if (rc >= 0)
    rc = sb_model_connection_set(f->m, &pb, b, a, 1, &out, &f->fx, &err);
  json_decref(out);
  return rc;
}

static const char *group(fixture_t *f, const char *tenant, const char *user,
                         const sb_user_ref_t *members, size_t n, char *id, size_t len) {
  sb_principal_t p = P(tenant, user);
  sb_room_fields_t rf = {.name = "team"};
  sb_model_err_t err;
  json_t *out = NULL;
  if (sb_model_room_create(f->m, &p, &rf, members, n, &out, &f->fx, &err) < 0)
    return NULL;
  snprintf(id, len, "%s", json_string_value(json_object_get(out, "id")));
  json_decref(out);
  return id;
}

static long long audit_count(fixture_t *f, const char *action, const char *reason) {
  json_t *row = NULL;
  if (sb_store_get(f->st, &row, "SELECT COUNT(*) AS n FROM audit WHERE action = ? AND "
                   "(CAST(? AS TEXT) IS NULL OR reason = ?)", "sss", action, reason, reason) != 1)
    return -1;
  long long n = json_integer_value(json_object_get(row, "n"));
  json_decref(row);
  return n;
}

SB_TEST(effects_list_owns_data_and_deduplicates) {
  sb_effects_t fx;
  sb_effects_init(&fx);
  json_t *data = json_object();
  CHECK_EQ(sb_effects_event(&fx, "acme", "alice", "room.updated", json_incref(data)), 0);
  CHECK_EQ(sb_effects_event(&fx, "acme", "bob", "notification", json_pack("{s:I}", "id", 42)), 0);
  CHECK_EQ(sb_effects_event(&fx, "acme", "bob", "x", NULL), -1);
  CHECK_EQ(sb_effects_revoke(&fx, "acme", "bob", "r1", "left"), 0);
  CHECK_EQ(sb_effects_revoke(&fx, "acme", "bob", "r1", "member_removed"), 0);
  CHECK_EQ(sb_effects_media(&fx, "r1"), 0);
  CHECK_EQ(sb_effects_media(&fx, "r1"), 0);
  CHECK_EQ(fx.len, 4);
  CHECK_EQ(fx.items[1].notification_id, 42);
  CHECK_EQ(fx.items[0].notification_id, 0);
  CHECK_STR(fx.items[2].reason, "left");
  CHECK_EQ(data->refcount, 2);
  sb_effects_truncate(&fx, 0);
  CHECK_EQ(data->refcount, 1);
  for (int i = 0; i < 100; i++)
    CHECK_EQ(sb_effects_media(&fx, i % 2 ? "a" : "b"), 0);
  CHECK_EQ(fx.len, 2);
  json_decref(data);
  sb_effects_free(&fx);
  sb_effects_free(NULL);
}

/* A failure late in an operation (here: the audit write) undoes its earlier writes and effects. */
SB_TEST(failed_operation_changes_nothing_and_adds_no_effects) {
  fixture_t f;
  sb_model_err_t err;
  char id[80];
  sb_user_ref_t bob = U("acme", "bob");
  sb_principal_t alice = P("acme", "alice");
  CHECK_EQ(fixture_open(&f), 0);
  CHECK(group(&f, "acme", "alice", &bob, 1, id, sizeof id));
  /* with the audit table renamed away every audit insert fails with a plain SQL error (on both
   * backends: the statement names a table that does not exist) */
  CHECK_EQ(sb_store_exec(f.st, NULL, "ALTER TABLE audit RENAME TO audit_gone", ""), 0);
  sb_effects_clear(&f.fx);
  CHECK_EQ(sb_effects_media(&f.fx, "earlier"), 0);
  json_t *before = fixture_snapshot(&f);
  CHECK_EQ(sb_model_room_remove_member(f.m, &alice, id, &bob, &f.fx, &err), SB_MODEL_EINTERNAL);
  CHECK_STR(sb_model_code(err.status), "internal");
  json_t *after = fixture_snapshot(&f);
  CHECK(json_equal(before, after));
  CHECK_EQ(f.fx.len, 1);
  json_decref(before);
  json_decref(after);
  fixture_close(&f);
}

SB_TEST(admission_and_denial_are_audited_with_the_real_reason) {
  fixture_t f;
  char id[80], reason[128], dm[80];
  sb_user_ref_t carol = U("globex", "carol"), alice_ref = U("acme", "alice");
  sb_principal_t alice = P("acme", "alice"), carol_p = P("globex", "carol");
  sb_contact_fields_t none = {0};
  sb_model_err_t err;
  json_t *out = NULL;
  CHECK_EQ(fixture_open(&f), 0);
  CHECK(connect_tenants(&f, "acme", "alice", "globex", "carol") >= 0);
  CHECK(group(&f, "acme", "alice", &carol, 1, id, sizeof id));
  CHECK_EQ(sb_model_admit(f.m, "acme", "alice", id, reason, sizeof reason), 0);
  CHECK_STR(reason, "admitted");
  CHECK_EQ(audit_count(&f, "admit", NULL), 1);
  CHECK_EQ(sb_model_admit(f.m, "acme", "bob", id, reason, sizeof reason), SB_MODEL_ENOTFOUND);
  CHECK_STR(reason, "room not found");
  CHECK_EQ(audit_count(&f, "deny", "not_member"), 1);
  CHECK_EQ(sb_model_admit(f.m, "acme", "nobody", id, reason, sizeof reason), SB_MODEL_ENOTFOUND);
  CHECK_EQ(sb_model_admit(f.m, "acme", "alice", "../x", reason, sizeof reason),
           SB_MODEL_ENOTFOUND);
  CHECK_EQ(audit_count(&f, "deny", NULL), 3);

  /* blocked: the client hears "room not found", the audit log says why */
  CHECK_EQ(sb_model_contact_add(f.m, &alice, &carol, &none, &out, &f.fx, &err), 0);
  snprintf(dm, sizeof dm, "%s", json_string_value(json_object_get(json_object_get(out, "room"),
                                                                  "id")));
  json_decref(out);
  CHECK_EQ(sb_model_block_add(f.m, &carol_p, &alice_ref, &f.fx, &err), 0);
  CHECK_EQ(sb_model_admit(f.m, "acme", "alice", dm, reason, sizeof reason), SB_MODEL_ENOTFOUND);
  CHECK_STR(reason, "room not found");
  CHECK_EQ(audit_count(&f, "deny", "blocked_by_peer"), 1);
  CHECK_EQ(audit_count(&f, "revoke", "blocked_by_peer"), 1);
  CHECK_EQ(audit_count(&f, "revoke", "blocked"), 1);
  /* revocations the relay makes on its own are audited too */
  CHECK_EQ(sb_model_audit_revocation(f.m, "acme", "alice", id, "consent_expired"), 0);
  CHECK_EQ(audit_count(&f, "revoke", "consent_expired"), 1);
  fixture_close(&f);
}

SB_TEST(removal_is_audited_as_member_remove_and_revoke) {
  fixture_t f;
  char id[80];
  sb_user_ref_t bob = U("acme", "bob");
  sb_principal_t alice = P("acme", "alice");
  sb_model_err_t err;
  CHECK_EQ(fixture_open(&f), 0);
  CHECK(group(&f, "acme", "alice", &bob, 1, id, sizeof id));
  CHECK_EQ(sb_model_room_remove_member(f.m, &alice, id, &bob, &f.fx, &err), 0);
  CHECK_EQ(audit_count(&f, "member_remove", "member_removed"), 1);
  CHECK_EQ(audit_count(&f, "revoke", "member_removed"), 1);
  fixture_close(&f);
}

SB_TEST(audit_query_filters_and_tenant_scope) {
  fixture_t f;
  char id[80], reason[64];
  sb_user_ref_t carol = U("globex", "carol");
  sb_audit_filter_t flt = {0};
  sb_model_err_t err;
  json_t *out = NULL;
  CHECK_EQ(fixture_open(&f), 0);
  CHECK(connect_tenants(&f, "acme", "alice", "globex", "carol") >= 0);
  CHECK(group(&f, "acme", "alice", &carol, 1, id, sizeof id));
  uint64_t mark = f.now;
  CHECK_EQ(sb_model_admit(f.m, "globex", "carol", id, reason, sizeof reason), 0);
  CHECK_EQ(sb_model_admit(f.m, "acme", "bob", id, reason, sizeof reason), SB_MODEL_ENOTFOUND);

  flt.action = "admit";
  CHECK_EQ(sb_model_audit_query(f.m, "globex", &flt, &out, &err), 0);
  CHECK_EQ(json_array_size(out), 1);
  json_t *e = json_array_get(out, 0);
  CHECK_STR(json_string_value(json_object_get(e, "user")), "carol");
  CHECK_STR(json_string_value(json_object_get(e, "room")), id);
  CHECK_EQ(json_array_size(json_object_get(e, "tenants")), 2);
  json_decref(out);

  /* bob's denial concerns acme and the room's tenants */
  flt = (sb_audit_filter_t){.user = "bob", .since_ms = (long long)mark};
  CHECK_EQ(sb_model_audit_query(f.m, "acme", &flt, &out, &err), 0);
  CHECK_EQ(json_array_size(out), 1);
  CHECK_STR(json_string_value(json_object_get(json_array_get(out, 0), "action")), "deny");
  json_decref(out);

  /* initech sees nothing of acme and globex */
  flt = (sb_audit_filter_t){0};
  CHECK_EQ(sb_model_audit_query(f.m, "initech", &flt, &out, &err), 0);
  size_t n = json_array_size(out);
  json_t *it;
  size_t i;
  json_array_foreach(out, i, it) CHECK(json_object_get(it, "room") == NULL ||
                                       json_is_null(json_object_get(it, "room")));
  json_decref(out);
  CHECK(n <= 2); /* its own tenant_create and erin's user_create */

  flt = (sb_audit_filter_t){.room = id, .limit = 1};
  CHECK_EQ(sb_model_audit_query(f.m, NULL, &flt, &out, &err), 0);
  CHECK_EQ(json_array_size(out), 1);
  CHECK_STR(json_string_value(json_object_get(json_array_get(out, 0), "action")), "deny");
  json_decref(out);

  flt = (sb_audit_filter_t){.limit = 1001};
  CHECK_EQ(sb_model_audit_query(f.m, NULL, &flt, &out, &err), SB_MODEL_EBADREQ);
  CHECK(out == NULL);
  flt = (sb_audit_filter_t){.since_ms = -1};
  CHECK_EQ(sb_model_audit_query(f.m, NULL, &flt, &out, &err), SB_MODEL_EBADREQ);
  fixture_close(&f);
}

SB_TEST(usable_connection_notifies_permitted_users_of_both_tenants) {
  fixture_t f;
  sb_principal_t alice = P("acme", "alice"), carol = P("globex", "carol");
  sb_principal_t bob = P("acme", "bob");
  sb_user_fields_t off = {.is_admin = -1, .external_allowed = 0};
  sb_model_err_t err;
  json_t *out = NULL;
  CHECK_EQ(fixture_open(&f), 0);
  /* bob is not permitted: acme chooses, and only alice is chosen */
  sb_user_fields_t on = {.is_admin = -1, .external_allowed = 1};
  CHECK_EQ(sb_model_user_update(f.m, &alice, "acme", "alice", &on, &out, &f.fx, &err), 0);
  json_decref(out);
  CHECK_EQ(sb_model_user_update(f.m, &alice, "acme", "bob", &off, &out, &f.fx, &err), 0);
  json_decref(out);
  CHECK_EQ(sb_model_tenant_update(f.m, &alice, "acme", NULL, "chosen", &out, &f.fx, &err), 0);
  json_decref(out);

  sb_effects_clear(&f.fx);
  CHECK_EQ(sb_model_connection_set(f.m, &alice, "acme", "globex", 1, &out, &f.fx, &err), 0);
  CHECK(!json_is_true(json_object_get(out, "usable")));
  json_decref(out);
  CHECK(fixture_effect(&f.fx, SB_EFFECT_EVENT, NULL, NULL, "notification") == NULL);
  CHECK_EQ(sb_model_connection_set(f.m, &carol, "globex", "acme", 1, &out, &f.fx, &err), 0);
  CHECK(json_is_true(json_object_get(out, "usable")));
  json_decref(out);
  const sb_effect_t *e = fixture_effect(&f.fx, SB_EFFECT_EVENT, "acme", "alice", "notification");
  CHECK(e != NULL);
  CHECK(e->notification_id > 0);
  CHECK_STR(json_string_value(json_object_get(e->data, "kind")), "connection_usable");
  CHECK_STR(json_string_value(json_object_get(json_object_get(e->data, "data"), "tenant")),
            "globex");
  CHECK(fixture_effect(&f.fx, SB_EFFECT_EVENT, "globex", "carol", "notification") != NULL);
  CHECK(fixture_effect(&f.fx, SB_EFFECT_EVENT, "globex", "dave", "notification") != NULL);
  CHECK(fixture_effect(&f.fx, SB_EFFECT_EVENT, "acme", "bob", "notification") == NULL);
  CHECK(fixture_effect(&f.fx, SB_EFFECT_EVENT, "initech", "erin", "notification") == NULL);

  /* alice's session got it; dave was offline and gets it on connect, once */
  CHECK_EQ(sb_model_notification_delivered(f.m, "acme", "alice", e->notification_id), 1);
  CHECK_EQ(sb_model_notification_delivered(f.m, "acme", "alice", e->notification_id), 0);
  CHECK_EQ(sb_model_notifications_list(f.m, &alice, 1, 50, &out, &err), 0);
  CHECK_EQ(json_array_size(out), 0);
  json_decref(out);
  CHECK_EQ(sb_model_notifications_take(f.m, "globex", "dave", &out), 1);
  CHECK_STR(json_string_value(json_object_get(json_array_get(out, 0), "kind")),
            "connection_usable");
  json_decref(out);
  CHECK_EQ(sb_model_notifications_take(f.m, "globex", "dave", &out), 0);
  CHECK_EQ(json_array_size(out), 0);
  json_decref(out);
  CHECK_EQ(sb_model_notifications_take(f.m, "globex", "ghost", &out), 0);
  CHECK(json_is_array(out));
  json_decref(out);
  CHECK_EQ(sb_model_notifications_take(f.m, "globex", "bad id", &out), SB_MODEL_EBADREQ);
  CHECK(out == NULL);
  CHECK_EQ(sb_model_notifications_list(f.m, &bob, 0, 50, &out, &err), 0);
  CHECK_EQ(json_array_size(out), 0);
  json_decref(out);
  CHECK_EQ(sb_model_notifications_list(f.m, &carol, 0, 0, &out, &err), SB_MODEL_EBADREQ);

  /* a connection that is usable again notifies again; a repeated allow does not */
  sb_effects_clear(&f.fx);
  CHECK_EQ(sb_model_connection_set(f.m, &carol, "globex", "acme", 1, &out, &f.fx, &err), 0);
  json_decref(out);
  CHECK_EQ(f.fx.len, 0);
  fixture_close(&f);
}

SB_TEST(demo_seed_is_complete_and_idempotent) {
  fixture_t f;
  sb_principal_t dave = P("globex", "dave");
  sb_model_err_t err;
  json_t *out = NULL, *snap;
  char reason[64];
  CHECK_EQ(sbt_store_open(&f.st), 0);
  CHECK_EQ(sb_model_create(f.st, &f.m), 0);
  sb_effects_init(&f.fx);
  CHECK_EQ(sb_model_seed_demo(f.m), 0);
  snap = fixture_snapshot(&f);
  CHECK_EQ(sb_model_seed_demo(f.m), 0);
  json_t *again = fixture_snapshot(&f);
  CHECK(json_equal(snap, again));
  json_decref(snap);
  json_decref(again);

  CHECK_EQ(sb_model_is_admin(f.m, "acme", "alice"), 1);
  CHECK_EQ(sb_model_is_admin(f.m, "globex", "carol"), 1);
  CHECK_EQ(sb_model_is_admin(f.m, "acme", "bob"), 0);
  CHECK_EQ(fixture_count(&f, "SELECT COUNT(*) AS n FROM room_members WHERE room_id = 'demo'"), 4);
  CHECK_EQ(fixture_count(&f, "SELECT COUNT(*) AS n FROM room_members x JOIN users u ON u.uid = "
                             "x.uid WHERE x.room_id = 'demo' AND x.is_master = 1 AND "
                             "u.id = 'alice'"), 1);
  CHECK_EQ(fixture_count(&f, "SELECT COUNT(*) AS n FROM rooms WHERE kind = 'direct'"), 1);
  CHECK_EQ(sb_model_admit(f.m, "globex", "dave", "demo", reason, sizeof reason), 0);
  CHECK_EQ(sb_model_rooms_list(f.m, &dave, &(sb_model_page_t){.limit = 100}, &out, &err), 0);
  CHECK_EQ(json_array_size(out), 1);
  CHECK(json_is_true(json_object_get(json_array_get(out, 0), "external")));
  json_decref(out);
  fixture_close(&f);
}

SB_TEST(contact_details_are_private_and_name_the_room) {
  fixture_t f;
  sb_principal_t alice = P("acme", "alice"), carol = P("globex", "carol");
  sb_user_ref_t carol_ref = U("globex", "carol");
  sb_contact_fields_t cf = {.set = SB_CONTACT_DISPLAY_NAME | SB_CONTACT_MEMO,
                            .display_name = "Carol (Globex sales)", .memo = "likes tea"};
  sb_model_err_t err;
  json_t *out = NULL;
  CHECK_EQ(fixture_open(&f), 0);
  CHECK(connect_tenants(&f, "acme", "alice", "globex", "carol") >= 0);
  CHECK_EQ(sb_model_contact_add(f.m, &alice, &carol_ref, &cf, &out, &f.fx, &err), 0);
  json_decref(out);
  CHECK_EQ(sb_model_rooms_list(f.m, &alice, &(sb_model_page_t){.limit = 100}, &out, &err), 0);
  json_t *room = json_array_get(out, 0);
  CHECK_STR(json_string_value(json_object_get(room, "kind")), "direct");
  CHECK_STR(json_string_value(json_object_get(room, "name")), "Carol (Globex sales)");
  CHECK(json_is_true(json_object_get(room, "external")));
  json_decref(out);
  /* carol sees alice's own name and none of alice's notes */
  CHECK_EQ(sb_model_rooms_list(f.m, &carol, &(sb_model_page_t){.limit = 100}, &out, &err), 0);
  CHECK_STR(json_string_value(json_object_get(json_array_get(out, 0), "name")), "Alice");
  json_decref(out);
  CHECK_EQ(sb_model_contacts_list(f.m, &carol, &(sb_model_page_t){.limit = 100}, &out, &err), 0);
  CHECK_EQ(json_array_size(out), 0);
  json_decref(out);
  CHECK_EQ(fixture_count(&f, "SELECT COUNT(*) AS n FROM audit WHERE reason LIKE '%tea%'"), 0);
  fixture_close(&f);
}

SB_TEST(media_exclusions_list_blocked_pairs_of_the_room_only) {
  fixture_t f;
  char id[80];
  sb_user_ref_t members[] = {U("acme", "bob"), U("globex", "carol"), U("globex", "dave")};
  sb_principal_t bob = P("acme", "bob"), dave = P("globex", "dave");
  sb_user_ref_t carol_ref = U("globex", "carol"), bob_ref = U("acme", "bob");
  sb_user_ref_t alice_ref = U("acme", "alice");
  sb_user_pair_t *pairs = NULL;
  size_t n = 0;
  sb_model_err_t err;
  CHECK_EQ(fixture_open(&f), 0);
  CHECK(connect_tenants(&f, "acme", "alice", "globex", "carol") >= 0);
  CHECK(group(&f, "acme", "alice", members, 2, id, sizeof id));
  CHECK_EQ(sb_model_media_exclusions(f.m, id, &pairs, &n), 0);
  CHECK(pairs == NULL);
  sb_effects_clear(&f.fx);
  CHECK_EQ(sb_model_block_add(f.m, &bob, &carol_ref, &f.fx, &err), 0);
  CHECK(fixture_effect(&f.fx, SB_EFFECT_MEDIA, NULL, NULL, id) != NULL);
  CHECK_EQ(sb_model_block_add(f.m, &dave, &bob_ref, &f.fx, &err), 0);   /* dave not in room */
  CHECK_EQ(sb_model_block_add(f.m, &dave, &alice_ref, &f.fx, &err), 0); /* dave not in room */
  CHECK_EQ(sb_model_media_exclusions(f.m, id, &pairs, &n), 1);
  CHECK_STR(pairs[0].a.user, "bob");
  CHECK_STR(pairs[0].b.tenant, "globex");
  CHECK_STR(pairs[0].b.user, "carol");
  free(pairs);
  fixture_close(&f);
}

static int always_retry(sb_model_t *m, void *arg) {
  (void)m;
  return ++*(int *)arg < 3 ? SB_MODEL_ERETRY : 0;
}

static int never_done(sb_model_t *m, void *arg) {
  (void)m;
  ++*(int *)arg;
  return SB_MODEL_ERETRY;
}

static int refused(sb_model_t *m, void *arg) {
  (void)m;
  ++*(int *)arg;
  return SB_MODEL_EFORBIDDEN;
}

/* A conflict is retried (bounded); any other answer is final at once. */
SB_TEST(retry_reruns_only_conflicts_and_is_bounded) {
  int calls = 0;
  CHECK_STR(sb_model_code(SB_MODEL_ERETRY), "unavailable");
  CHECK_STR(sb_model_code(SB_MODEL_EUNAVAILABLE), "unavailable");
  CHECK_EQ(sb_model_retryable(SB_MODEL_ERETRY), 1);
  CHECK_EQ(sb_model_retryable(SB_MODEL_EUNAVAILABLE), 0);
  CHECK_EQ(sb_model_retryable(SB_MODEL_ECONFLICT), 0);
  CHECK_EQ(sb_model_run_retry(NULL, always_retry, &calls, 10), 0);
  CHECK_EQ(calls, 3);
  calls = 0;
  CHECK_EQ(sb_model_run_retry(NULL, never_done, &calls, 4), SB_MODEL_ERETRY);
  CHECK_EQ(calls, 4);
  calls = 0;
  CHECK_EQ(sb_model_run_retry(NULL, never_done, &calls, 0), SB_MODEL_ERETRY);
  CHECK_EQ(calls, 1);
  calls = 0;
  CHECK_EQ(sb_model_run_retry(NULL, refused, &calls, 10), SB_MODEL_EFORBIDDEN);
  CHECK_EQ(calls, 1);
}

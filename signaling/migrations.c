/* Schemas of both backends, step by step. Users have an integer surrogate key (uid) because user
 * ids are unique only within a tenant; the API always speaks (tenant, id). Booleans are 0/1
 * integers and times are milliseconds since the epoch, so PostgreSQL's steps mirror SQLite's with
 * the same versions, names, columns and constraints; only the types of keys differ (BIGINT
 * identity columns for SQLite's INTEGER PRIMARY KEY rowids). */
#include "signaling/migrations.h"

#include "common/util.h"

static const char sb__mig1_core[] =
    "CREATE TABLE tenants ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  external_mode TEXT NOT NULL DEFAULT 'everyone'"
    "    CHECK (external_mode IN ('everyone', 'chosen')),"
    "  created_ms BIGINT NOT NULL);"
    "CREATE TABLE users ("
    "  uid INTEGER PRIMARY KEY,"
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),"
    "  external_allowed INTEGER NOT NULL DEFAULT 0 CHECK (external_allowed IN (0, 1)),"
    "  created_ms BIGINT NOT NULL,"
    "  UNIQUE (tenant_id, id));"
    /* One row per side: the side's own decision toward the peer. */
    "CREATE TABLE connections ("
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  peer_id TEXT NOT NULL REFERENCES tenants(id),"
    "  allowed INTEGER NOT NULL CHECK (allowed IN (0, 1)),"
    "  changed_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (tenant_id, peer_id),"
    "  CHECK (tenant_id <> peer_id));"
    /* tenant_id is the home tenant (the creator's); a 1:1 room names its pair, low uid first, so
     * that adding a contact finds the existing room. */
    "CREATE TABLE rooms ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),"
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  name TEXT NOT NULL DEFAULT '',"
    "  photo_url TEXT NOT NULL DEFAULT '',"
    "  description TEXT NOT NULL DEFAULT '',"
    "  dm_low INTEGER REFERENCES users(uid),"
    "  dm_high INTEGER REFERENCES users(uid),"
    "  created_ms BIGINT NOT NULL,"
    "  updated_ms BIGINT NOT NULL,"
    "  UNIQUE (dm_low, dm_high),"
    "  CHECK ((kind = 'group' AND dm_low IS NULL AND dm_high IS NULL)"
    "      OR (kind = 'direct' AND dm_low < dm_high)));"
    "CREATE TABLE room_members ("
    "  room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
    "  uid INTEGER NOT NULL REFERENCES users(uid),"
    "  is_master INTEGER NOT NULL DEFAULT 0 CHECK (is_master IN (0, 1)),"
    "  joined_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (room_id, uid));"
    "CREATE INDEX room_members_uid ON room_members(uid);"
    "CREATE TABLE contacts ("
    "  owner_uid INTEGER NOT NULL REFERENCES users(uid),"
    "  contact_uid INTEGER NOT NULL REFERENCES users(uid),"
    "  display_name TEXT,"
    "  phone TEXT,"
    "  email TEXT,"
    "  memo TEXT,"
    "  created_ms BIGINT NOT NULL,"
    "  updated_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (owner_uid, contact_uid),"
    "  CHECK (owner_uid <> contact_uid));"
    "CREATE TABLE blocks ("
    "  blocker_uid INTEGER NOT NULL REFERENCES users(uid),"
    "  blocked_uid INTEGER NOT NULL REFERENCES users(uid),"
    "  created_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (blocker_uid, blocked_uid),"
    "  CHECK (blocker_uid <> blocked_uid));"
    "CREATE INDEX blocks_blocked ON blocks(blocked_uid);"
    "CREATE TABLE notifications ("
    "  id INTEGER PRIMARY KEY,"
    "  uid INTEGER NOT NULL REFERENCES users(uid),"
    "  kind TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  delivered_ms BIGINT);"
    "CREATE INDEX notifications_user ON notifications(uid, delivered_ms);"
    /* Audit rows name users and rooms by id, not by key: they must outlive what they describe. */
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  time_ms BIGINT NOT NULL,"
    "  actor_tenant TEXT,"
    "  actor_user TEXT,"
    "  tenant TEXT,"
    "  user_id TEXT,"
    "  room_id TEXT,"
    "  action TEXT NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE audit_tenants ("
    "  audit_id INTEGER NOT NULL REFERENCES audit(id) ON DELETE CASCADE,"
    "  tenant_id TEXT NOT NULL,"
    "  PRIMARY KEY (audit_id, tenant_id));"
    /* The tenants of a room: its members' and, for a 1:1 room, its pair's even after one left,
     * so a 1:1 room stays external and keeps its rules. */
    "CREATE VIEW room_tenants AS"
    "  SELECT m.room_id AS room_id, u.tenant_id AS tenant_id"
    "    FROM room_members m JOIN users u ON u.uid = m.uid"
    "  UNION"
    "  SELECT r.id, u.tenant_id FROM rooms r JOIN users u ON u.uid IN (r.dm_low, r.dm_high);";

/* PostgreSQL: the same tables and view (see the comments above). */
static const char sb__pg1_core[] =
    "CREATE TABLE tenants ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  external_mode TEXT NOT NULL DEFAULT 'everyone'"
    "    CHECK (external_mode IN ('everyone', 'chosen')),"
    "  created_ms BIGINT NOT NULL);"
    "CREATE TABLE users ("
    "  uid BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),"
    "  external_allowed INTEGER NOT NULL DEFAULT 0 CHECK (external_allowed IN (0, 1)),"
    "  created_ms BIGINT NOT NULL,"
    "  UNIQUE (tenant_id, id));"
    "CREATE TABLE connections ("
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  peer_id TEXT NOT NULL REFERENCES tenants(id),"
    "  allowed INTEGER NOT NULL CHECK (allowed IN (0, 1)),"
    "  changed_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (tenant_id, peer_id),"
    "  CHECK (tenant_id <> peer_id));"
    "CREATE TABLE rooms ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),"
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  name TEXT NOT NULL DEFAULT '',"
    "  photo_url TEXT NOT NULL DEFAULT '',"
    "  description TEXT NOT NULL DEFAULT '',"
    "  dm_low BIGINT REFERENCES users(uid),"
    "  dm_high BIGINT REFERENCES users(uid),"
    "  created_ms BIGINT NOT NULL,"
    "  updated_ms BIGINT NOT NULL,"
    "  UNIQUE (dm_low, dm_high),"
    "  CHECK ((kind = 'group' AND dm_low IS NULL AND dm_high IS NULL)"
    "      OR (kind = 'direct' AND dm_low < dm_high)));"
    "CREATE TABLE room_members ("
    "  room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,"
    "  uid BIGINT NOT NULL REFERENCES users(uid),"
    "  is_master INTEGER NOT NULL DEFAULT 0 CHECK (is_master IN (0, 1)),"
    "  joined_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (room_id, uid));"
    "CREATE INDEX room_members_uid ON room_members(uid);"
    "CREATE TABLE contacts ("
    "  owner_uid BIGINT NOT NULL REFERENCES users(uid),"
    "  contact_uid BIGINT NOT NULL REFERENCES users(uid),"
    "  display_name TEXT,"
    "  phone TEXT,"
    "  email TEXT,"
    "  memo TEXT,"
    "  created_ms BIGINT NOT NULL,"
    "  updated_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (owner_uid, contact_uid),"
    "  CHECK (owner_uid <> contact_uid));"
    "CREATE TABLE blocks ("
    "  blocker_uid BIGINT NOT NULL REFERENCES users(uid),"
    "  blocked_uid BIGINT NOT NULL REFERENCES users(uid),"
    "  created_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (blocker_uid, blocked_uid),"
    "  CHECK (blocker_uid <> blocked_uid));"
    "CREATE INDEX blocks_blocked ON blocks(blocked_uid);"
    "CREATE TABLE notifications ("
    "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  uid BIGINT NOT NULL REFERENCES users(uid),"
    "  kind TEXT NOT NULL,"
    "  data TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  delivered_ms BIGINT);"
    "CREATE INDEX notifications_user ON notifications(uid, delivered_ms);"
    "CREATE TABLE audit ("
    "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    "  time_ms BIGINT NOT NULL,"
    "  actor_tenant TEXT,"
    "  actor_user TEXT,"
    "  tenant TEXT,"
    "  user_id TEXT,"
    "  room_id TEXT,"
    "  action TEXT NOT NULL,"
    "  reason TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE audit_tenants ("
    "  audit_id BIGINT NOT NULL REFERENCES audit(id) ON DELETE CASCADE,"
    "  tenant_id TEXT NOT NULL,"
    "  PRIMARY KEY (audit_id, tenant_id));"
    "CREATE VIEW room_tenants AS"
    "  SELECT m.room_id AS room_id, u.tenant_id AS tenant_id"
    "    FROM room_members m JOIN users u ON u.uid = m.uid"
    "  UNION"
    "  SELECT r.id, u.tenant_id FROM rooms r JOIN users u ON u.uid IN (r.dm_low, r.dm_high);";

/* The audit query filters by tenant, user, room and time. */
static const char sb__mig2_audit_indexes[] =
    "CREATE INDEX audit_time ON audit(time_ms);"
    "CREATE INDEX audit_user ON audit(user_id);"
    "CREATE INDEX audit_room ON audit(room_id);"
    "CREATE INDEX audit_tenants_tenant ON audit_tenants(tenant_id, audit_id);";

/* Nodes and room leases (signaling/cluster.c). Valid on SQLite and PostgreSQL alike (TEXT and
 * BIGINT only, no foreign keys: a lease may outlive its node's row), so both lists use it. */
const char sb_migration_cluster_sql[] =
    "CREATE TABLE nodes ("
    "  id TEXT PRIMARY KEY,"
    "  signal_url TEXT NOT NULL,"
    "  media_ip TEXT NOT NULL,"
    "  load BIGINT NOT NULL DEFAULT 0,"
    "  heartbeat_ms BIGINT NOT NULL,"
    "  draining BIGINT NOT NULL DEFAULT 0 CHECK (draining IN (0, 1)),"
    "  started_ms BIGINT NOT NULL);"
    "CREATE TABLE room_leases ("
    "  room_id TEXT PRIMARY KEY,"
    "  node_id TEXT NOT NULL,"
    "  expires_ms BIGINT NOT NULL);"
    "CREATE INDEX room_leases_node ON room_leases(node_id);";

/* Per-tenant webhooks (signaling/model_webhooks.c): the receiver's URL and the signing secret the
 * server generated. Plain SQL on both backends. */
static const char sb__mig4_webhooks[] =
    "CREATE TABLE tenant_webhooks ("
    "  tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),"
    "  url TEXT NOT NULL,"
    "  secret TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  updated_ms BIGINT NOT NULL);";

const sb_migration_t sb_migrations_sqlite[] = {
    {1, "core", sb__mig1_core},
    {2, "audit_indexes", sb__mig2_audit_indexes},
    {3, "cluster", sb_migration_cluster_sql},
    {4, "webhooks", sb__mig4_webhooks},
};

const size_t sb_migrations_sqlite_count = SB_ARRAY_SIZE(sb_migrations_sqlite);

/* The indexes of step 2 and the cluster tables of step 3 are plain SQL on both backends. */
const sb_migration_t sb_migrations_pg[] = {
    {1, "core", sb__pg1_core},
    {2, "audit_indexes", sb__mig2_audit_indexes},
    {3, "cluster", sb_migration_cluster_sql},
    {4, "webhooks", sb__mig4_webhooks},
};

const size_t sb_migrations_pg_count = SB_ARRAY_SIZE(sb_migrations_pg);

/* Nodes and room leases (cluster.h). Each operation is one statement, or two in a transaction,
 * so that it is atomic on both backends and cheap enough to run with every heartbeat. */
#include "signaling/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Rooms renewed per statement: the store binds at most 16 parameters (two are node and time). */
#define SB__RENEW_BATCH 14

/* A BIGINT column: an integer from SQLite; accept its text form too, whatever a backend gives. */
static long long sb__int(const json_t *row, const char *key) {
  const json_t *v = json_object_get(row, key);
  if (json_is_integer(v))
    return (long long)json_integer_value(v);
  if (json_is_string(v))
    return strtoll(json_string_value(v), NULL, 10);
  return 0;
}

static void sb__str(char *out, size_t len, const json_t *row, const char *key) {
  const char *s = json_string_value(json_object_get(row, key));
  snprintf(out, len, "%s", s ? s : "");
}

static void sb__node_from_row(sb_cluster_node_t *n, const json_t *row) {
  memset(n, 0, sizeof *n);
  sb__str(n->id, sizeof n->id, row, "id");
  sb__str(n->signal_url, sizeof n->signal_url, row, "signal_url");
  sb__str(n->media_ip, sizeof n->media_ip, row, "media_ip");
  n->load = sb__int(row, "load");
  n->heartbeat_ms = sb__int(row, "heartbeat_ms");
  n->draining = sb__int(row, "draining") != 0;
  n->started_ms = sb__int(row, "started_ms");
}

#define SB__NODE_COLUMNS "id, signal_url, media_ip, load, heartbeat_ms, draining, started_ms"

int sb_cluster_node_register(sb_store_t *st, const sb_cluster_node_t *node, long long now_ms) {
  int rc = sb_store_exec(
      st, NULL,
      "INSERT INTO nodes (" SB__NODE_COLUMNS ") VALUES (?, ?, ?, ?, ?, 0, ?)"
      " ON CONFLICT (id) DO UPDATE SET signal_url = excluded.signal_url,"
      " media_ip = excluded.media_ip, load = excluded.load, heartbeat_ms = excluded.heartbeat_ms,"
      " draining = 0, started_ms = excluded.started_ms",
      "ssslll", node->id, node->signal_url, node->media_ip, node->load, now_ms, now_ms);
  return rc < 0 ? rc : 0;
}

int sb_cluster_node_heartbeat(sb_store_t *st, const sb_cluster_node_t *node, long long now_ms,
                              int *draining_out) {
  json_t *row = NULL;
  /* The CASE keeps a drain set by another node; RETURNING tells this node about it. */
  int rc = sb_store_get(
      st, &row,
      "INSERT INTO nodes (" SB__NODE_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT (id) DO UPDATE SET signal_url = excluded.signal_url,"
      " media_ip = excluded.media_ip, load = excluded.load, heartbeat_ms = excluded.heartbeat_ms,"
      " draining = CASE WHEN excluded.draining = 1 THEN 1 ELSE nodes.draining END"
      " RETURNING draining",
      "sssllbl", node->id, node->signal_url, node->media_ip, node->load, now_ms, node->draining,
      now_ms);
  if (rc >= 0 && draining_out)
    *draining_out = row ? sb__int(row, "draining") != 0 : node->draining;
  json_decref(row);
  return rc < 0 ? rc : 0;
}

int sb_cluster_node_set_draining(sb_store_t *st, const char *node_id, int draining) {
  int rc = sb_store_exec(st, NULL, "UPDATE nodes SET draining = ? WHERE id = ?", "bs", draining,
                         node_id);
  return rc < 0 ? rc : rc > 0;
}

int sb_cluster_node_get(sb_store_t *st, const char *node_id, sb_cluster_node_t *out) {
  json_t *row = NULL;
  int rc = sb_store_get(st, &row, "SELECT " SB__NODE_COLUMNS " FROM nodes WHERE id = ?", "s",
                        node_id);
  if (rc == 1)
    sb__node_from_row(out, row);
  json_decref(row);
  return rc;
}

json_t *sb_cluster_node_json(const sb_cluster_node_t *n) {
  return json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:I}", "id", n->id, "signal_url",
                   n->signal_url, "media_ip", n->media_ip, "load", (json_int_t)n->load,
                   "heartbeat_ms", (json_int_t)n->heartbeat_ms, "draining", n->draining,
                   "started_ms", (json_int_t)n->started_ms);
}

int sb_cluster_nodes_live(sb_store_t *st, long long now_ms, long long timeout_ms, json_t **out) {
  json_t *rows = NULL, *row;
  size_t i;
  *out = NULL;
  int rc = sb_store_exec(st, &rows,
                         "SELECT " SB__NODE_COLUMNS " FROM nodes WHERE heartbeat_ms >= ?"
                         " ORDER BY id",
                         "l", now_ms - timeout_ms);
  if (rc < 0)
    return rc;
  /* The same shape whatever types the backend returned. */
  if (!(*out = json_array()))
    rc = SB_STORE_ENOMEM;
  json_array_foreach(rows, i, row) {
    sb_cluster_node_t n;
    sb__node_from_row(&n, row);
    if (rc >= 0 && json_array_append_new(*out, sb_cluster_node_json(&n)) != 0)
      rc = SB_STORE_ENOMEM;
  }
  json_decref(rows);
  if (rc < 0) {
    json_decref(*out);
    *out = NULL;
    return rc;
  }
  return (int)json_array_size(*out);
}

int sb_cluster_node_pick(sb_store_t *st, long long now_ms, long long timeout_ms,
                         const char *exclude_id, sb_cluster_node_t *out) {
  json_t *row = NULL;
  /* Node ids are never empty, so "" excludes nothing (an untyped NULL parameter would need a
   * cast on PostgreSQL). */
  int rc = sb_store_get(st, &row,
                        "SELECT " SB__NODE_COLUMNS " FROM nodes WHERE heartbeat_ms >= ?"
                        " AND draining = 0 AND id <> ? ORDER BY load, id LIMIT 1",
                        "ls", now_ms - timeout_ms, exclude_id ? exclude_id : "");
  if (rc == 1)
    sb__node_from_row(out, row);
  json_decref(row);
  return rc;
}

/* Fills *holder with the lease row of the room; 1 if there is one, 0 if the room is free. */
static int sb__lease_holder(sb_store_t *st, const char *room_id, sb_cluster_holder_t *holder) {
  json_t *row = NULL;
  int rc = sb_store_get(st, &row,
                        "SELECT l.node_id AS node_id, l.expires_ms AS expires_ms,"
                        " COALESCE(n.signal_url, '') AS signal_url"
                        " FROM room_leases l LEFT JOIN nodes n ON n.id = l.node_id"
                        " WHERE l.room_id = ?",
                        "s", room_id);
  if (rc == 1) {
    sb__str(holder->node_id, sizeof holder->node_id, row, "node_id");
    sb__str(holder->signal_url, sizeof holder->signal_url, row, "signal_url");
    holder->expires_ms = sb__int(row, "expires_ms");
  }
  json_decref(row);
  return rc;
}

/* One attempt: the upsert takes the lease when free, expired or ours, and RETURNING says whether
 * it did. */
static int sb__lease_try(sb_store_t *st, const char *room_id, const char *node_id,
                         long long now_ms, long long ttl_ms, int flags) {
  json_t *row = NULL;
  int rc;
  if (flags & SB_CLUSTER_LEASE_RENEW_ONLY)
    rc = sb_store_get(st, &row,
                      "UPDATE room_leases SET expires_ms = ? WHERE room_id = ? AND node_id = ?"
                      " RETURNING node_id",
                      "lss", now_ms + ttl_ms, room_id, node_id);
  else
    rc = sb_store_get(st, &row,
                      "INSERT INTO room_leases (room_id, node_id, expires_ms) VALUES (?, ?, ?)"
                      " ON CONFLICT (room_id) DO UPDATE SET node_id = excluded.node_id,"
                      " expires_ms = excluded.expires_ms"
                      " WHERE room_leases.node_id = excluded.node_id"
                      " OR room_leases.expires_ms <= ?"
                      " RETURNING node_id",
                      "ssll", room_id, node_id, now_ms + ttl_ms, now_ms);
  json_decref(row);
  return rc;
}

int sb_cluster_lease_acquire(sb_store_t *st, const char *room_id, const char *node_id,
                             long long now_ms, long long ttl_ms, int flags,
                             sb_cluster_holder_t *holder) {
  sb_cluster_holder_t scratch;
  int rc;
  if (!holder)
    holder = &scratch;
  memset(holder, 0, sizeof *holder);
  if ((rc = sb_store_begin(st)) < 0)
    return rc;
  rc = sb__lease_try(st, room_id, node_id, now_ms, ttl_ms, flags);
  if (rc == 0) {
    /* Refused: say who holds it, so the caller can redirect the client there. */
    rc = sb__lease_holder(st, room_id, holder);
    if (rc >= 0)
      rc = 0;
  }
  if (rc < 0) {
    sb_store_rollback(st);
    return rc;
  }
  int crc = sb_store_commit(st);
  return crc < 0 ? crc : rc;
}

/* Renews one batch; marks in lost[] the rooms the UPDATE did not return. */
static int sb__renew_batch(sb_store_t *st, const char *node_id, const char *const *rooms,
                           size_t n, long long expires_ms, unsigned char *lost) {
  sb_store_arg_t args[SB__RENEW_BATCH + 2];
  char sql[160 + SB__RENEW_BATCH * 3];
  int len = snprintf(sql, sizeof sql,
                     "UPDATE room_leases SET expires_ms = ? WHERE node_id = ? AND room_id IN (");
  args[0] = (sb_store_arg_t){.type = 'i', .i = expires_ms};
  args[1] = (sb_store_arg_t){.type = 's', .s = node_id};
  for (size_t i = 0; i < n; i++) {
    args[2 + i] = (sb_store_arg_t){.type = 's', .s = rooms[i]};
    len += snprintf(sql + len, sizeof sql - (size_t)len, i ? ", ?" : "?");
  }
  snprintf(sql + len, sizeof sql - (size_t)len, ") RETURNING room_id");
  json_t *out = json_array();
  if (!out)
    return SB_STORE_ENOMEM;
  /* The varargs front end takes a fixed format; a batch of variable size goes to the backend's
   * exec directly, which is the documented backend contract (store.h). */
  int rc = st->ops->exec(st, sql, args, (int)n + 2, out);
  if (rc >= 0 && lost) {
    for (size_t i = 0; i < n; i++) {
      size_t k;
      json_t *r;
      lost[i] = 1;
      json_array_foreach(out, k, r) {
        const char *id = json_string_value(json_object_get(r, "room_id"));
        if (id && strcmp(id, rooms[i]) == 0)
          lost[i] = 0;
      }
    }
  }
  json_decref(out);
  return rc;
}

int sb_cluster_leases_renew(sb_store_t *st, const char *node_id, const char *const *rooms,
                            size_t n, long long now_ms, long long ttl_ms, unsigned char *lost) {
  int total = 0;
  for (size_t at = 0; at < n; at += SB__RENEW_BATCH) {
    size_t k = n - at < SB__RENEW_BATCH ? n - at : SB__RENEW_BATCH;
    int rc = sb__renew_batch(st, node_id, rooms + at, k, now_ms + ttl_ms, lost ? lost + at : NULL);
    if (rc < 0)
      return rc;
    total += rc;
  }
  return total;
}

int sb_cluster_lease_release(sb_store_t *st, const char *room_id, const char *node_id) {
  int rc = sb_store_exec(st, NULL, "DELETE FROM room_leases WHERE room_id = ? AND node_id = ?",
                         "ss", room_id, node_id);
  return rc < 0 ? rc : rc > 0;
}

int sb_cluster_leases_release_all(sb_store_t *st, const char *node_id) {
  return sb_store_exec(st, NULL, "DELETE FROM room_leases WHERE node_id = ?", "s", node_id);
}

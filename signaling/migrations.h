/* Numbered schema steps of each storage backend (see sb_store_migrate() in store.h). A step is
 * never edited once released: a change of schema is a new step with the next number. */
#ifndef SB_MIGRATIONS_H
#define SB_MIGRATIONS_H

#include "signaling/store.h"

/** The SQLite schema steps, in ascending version order. */
extern const sb_migration_t sb_migrations_sqlite[];
/** Number of entries in sb_migrations_sqlite. */
extern const size_t sb_migrations_sqlite_count;
/** The PostgreSQL schema steps: the same versions and names as SQLite's. */
extern const sb_migration_t sb_migrations_pg[];
/** Number of entries in sb_migrations_pg. */
extern const size_t sb_migrations_pg_count;

/** Step 3 ("cluster": nodes, room_leases), the same SQL on every backend. */
extern const char sb_migration_cluster_sql[];

#endif

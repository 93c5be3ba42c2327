// The SQLite schema as numbered migrations. Migration N takes the database from
// PRAGMA user_version N-1 to N; they are append-only: never edit a released migration,
// add a new one.
#pragma once

#include <sqlite3.h>

#include "daemon/status.h"

namespace mailreqd {

// The schema version this binary writes and understands.
int LatestSchemaVersion();

// Brings `db` up to LatestSchemaVersion(), each migration in its own IMMEDIATE
// transaction (so two processes opening a fresh file at once cannot both apply it).
// A database newer than this binary -> Fatal; SQLITE_BUSY -> Transient.
Status MigrateSchema(sqlite3* db);

// The same, up to `version` only (at most LatestSchemaVersion()): for tests that build
// a database as an older mailreqd left it.
Status MigrateSchemaTo(sqlite3* db, int version);

}  // namespace mailreqd

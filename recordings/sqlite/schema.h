// The database schema and its migrations. Each migration takes the database from version N-1
// to N (PRAGMA user_version) in one transaction; a database is migrated forward on open and
// never backward.
//
//   1  sessions, events, snapshots
//   2  exchanges (recorded provider calls); sessions.redact (the session's --redact patterns)
#pragma once

#include "engine/status.h"
#include "recordings/sqlite/connection.h"

namespace scaffold::recordings {

inline constexpr int kSchemaVersion = 2;
inline constexpr int32_t kApplicationId = 0x53434146;  // "SCAF"

// Brings a fresh (version 0) or older scaffold database to kSchemaVersion.
Status MigrateSchema(Connection& db, int from_version, const std::string& path);

// The SQL of one migration (for tests that build old databases).
const char* MigrationSql(int to_version);

}  // namespace scaffold::recordings

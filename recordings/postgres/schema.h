// The PostgreSQL schema: tables, their version, and the checks done before anything is written.
#pragma once

#include "recordings/postgres/connection.h"

namespace scaffold::recordings::pg {

inline constexpr int kSchemaVersion = 1;

// The database's clock in Unix ms, as SQL: leases and node heartbeats are compared on one clock,
// whatever the nodes' clocks say.
inline constexpr const char* kDbNow = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

// Checks that the database is scaffold's (or empty) and of a version this build reads, and
// creates or migrates the tables unless `read_only`. Several nodes starting at once serialize
// on an advisory lock, so the tables are created once. A database with tables of its own and
// no scaffold_meta, or of a newer schema, is refused without writing. kNotFound when
// `read_only` and there are no scaffold tables yet.
Status PrepareSchema(Connection& db, bool read_only);

}  // namespace scaffold::recordings::pg

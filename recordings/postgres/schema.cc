#include "recordings/postgres/schema.h"

namespace scaffold::recordings::pg {
namespace {

// pg_advisory_xact_lock key: "scaf" as a number.
constexpr const char* kMigrationLock = "1935893350";

const char* kV1 = R"sql(
CREATE TABLE scaffold_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE sessions (
  seq bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  owner text NOT NULL DEFAULT '',
  workflow_name text NOT NULL,
  workflow_source text NOT NULL,
  workflow_sha256 text NOT NULL,
  input text NOT NULL,
  status text NOT NULL,
  parent_id text,
  fork_position bigint NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  event_count bigint NOT NULL DEFAULT 0,
  last_event_at bigint NOT NULL DEFAULT 0,
  redact text NOT NULL DEFAULT '[]',
  lease_owner text,
  lease_until bigint NOT NULL DEFAULT 0,
  lease_epoch bigint NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_owner ON sessions (owner, created_at);
CREATE INDEX sessions_to_drive ON sessions (lease_until) WHERE status IN ('running', 'waiting');
CREATE TABLE events (
  session bigint NOT NULL REFERENCES sessions (seq) ON DELETE CASCADE,
  position bigint NOT NULL,
  name text NOT NULL,
  data text NOT NULL,
  PRIMARY KEY (session, position)
);
CREATE TABLE snapshots (
  session bigint NOT NULL REFERENCES sessions (seq) ON DELETE CASCADE,
  position bigint NOT NULL,
  PRIMARY KEY (session, position)
);
CREATE TABLE exchanges (
  session bigint NOT NULL REFERENCES sessions (seq) ON DELETE CASCADE,
  seq bigint NOT NULL,
  key text NOT NULL,
  occurrence bigint NOT NULL,
  agent text NOT NULL,
  request text NOT NULL,
  response text NOT NULL,
  PRIMARY KEY (session, seq)
);
CREATE UNIQUE INDEX exchanges_by_session_key ON exchanges (session, key, occurrence);
CREATE INDEX exchanges_by_key ON exchanges (key, occurrence);
CREATE TABLE nodes (
  id text PRIMARY KEY,
  started_at bigint NOT NULL,
  seen_at bigint NOT NULL
);
CREATE TABLE node_messages (
  id bigserial PRIMARY KEY,
  to_node text NOT NULL,
  from_node text NOT NULL,
  kind text NOT NULL,
  body text NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX node_messages_by_node ON node_messages (to_node, id);
CREATE TABLE tool_clients (
  node text NOT NULL,
  connection text NOT NULL,
  owner text NOT NULL,
  seq bigint NOT NULL,
  tools text NOT NULL,
  PRIMARY KEY (node, connection)
);
CREATE INDEX tool_clients_by_owner ON tool_clients (owner, seq);
)sql";

}  // namespace

Status PrepareSchema(Connection& db, bool read_only) {
  return db.Transaction([&]() -> Status {
    if (!read_only) {
      auto lock = db.Exec(std::string("SELECT pg_advisory_xact_lock(") + kMigrationLock + ")");
      if (!lock.ok()) return lock.status();
    }
    auto meta = db.Exec("SELECT to_regclass('scaffold_meta') IS NOT NULL");
    if (!meta.ok()) return meta.status();
    std::string where = DescribeUrl(db.url());
    if (meta->Text(0, 0) != "t") {
      auto tables =
          db.Exec("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()");
      if (!tables.ok()) return tables.status();
      if (tables->Int(0, 0) > 0) {
        return Status(ErrorCode::kDataLoss,
                      where + " is not a scaffold database (it has tables of its own); it was " +
                          "left untouched");
      }
      if (read_only) return Status(ErrorCode::kNotFound, where + " holds no scaffold data yet");
      Status created = db.ExecScript(kV1);
      if (!created.ok()) return created.WithContext("cannot create the tables in " + where);
      auto stamped = db.Exec(
          "INSERT INTO scaffold_meta (key, value) VALUES ('application', 'scaffold'), "
          "('schema_version', $1)",
          {std::to_string(kSchemaVersion)});
      return stamped.ok() ? Status::Ok() : stamped.status();
    }
    auto rows = db.Exec(
        "SELECT (SELECT value FROM scaffold_meta WHERE key = 'application'), "
        "(SELECT value FROM scaffold_meta WHERE key = 'schema_version')");
    if (!rows.ok()) return rows.status();
    if (rows->IsNull(0, 0) || rows->Text(0, 0) != "scaffold") {
      return Status(ErrorCode::kDataLoss,
                    where + " has a scaffold_meta table that is not scaffold's; it was left untouched");
    }
    int64_t version = rows->IsNull(0, 1) ? 0 : rows->Int(0, 1);
    if (version > kSchemaVersion) {
      return Status(ErrorCode::kFailedPrecondition,
                    where + " was written by a newer scaffold (schema version " +
                        std::to_string(version) + "; this build reads up to " +
                        std::to_string(kSchemaVersion) +
                        "); it was left untouched. Upgrade scaffold to use it");
    }
    return Status::Ok();  // version 1 is the first: nothing to migrate yet
  });
}

}  // namespace scaffold::recordings::pg

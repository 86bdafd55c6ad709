#include "recordings/sqlite/schema.h"

namespace scaffold::recordings {
namespace {

const char* kV1 = R"sql(
CREATE TABLE sessions (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL DEFAULT '',
  workflow_name TEXT NOT NULL,
  workflow_source TEXT NOT NULL,
  workflow_sha256 TEXT NOT NULL,
  input TEXT NOT NULL,
  status TEXT NOT NULL,
  parent_id TEXT,
  fork_position INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  event_count INTEGER NOT NULL DEFAULT 0,
  last_event_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_owner ON sessions(owner, created_at);
CREATE TABLE events (
  session INTEGER NOT NULL,
  position INTEGER NOT NULL,
  name TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (session, position)
) WITHOUT ROWID;
CREATE TABLE snapshots (
  session INTEGER NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (session, position)
) WITHOUT ROWID;
)sql";

const char* kV2 = R"sql(
ALTER TABLE sessions ADD COLUMN redact TEXT NOT NULL DEFAULT '[]';
CREATE TABLE exchanges (
  session INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  key TEXT NOT NULL,
  occurrence INTEGER NOT NULL,
  agent TEXT NOT NULL,
  request TEXT NOT NULL,
  response TEXT NOT NULL,
  PRIMARY KEY (session, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX exchanges_by_session_key ON exchanges(session, key, occurrence);
CREATE INDEX exchanges_by_key ON exchanges(key, occurrence);
)sql";

}  // namespace

const char* MigrationSql(int to_version) {
  switch (to_version) {
    case 1:
      return kV1;
    case 2:
      return kV2;
    default:
      return nullptr;
  }
}

Status MigrateSchema(Connection& db, int from_version, const std::string& path) {
  for (int v = from_version + 1; v <= kSchemaVersion; ++v) {
    std::string sql = std::string("BEGIN IMMEDIATE;") + MigrationSql(v) +
                      "PRAGMA application_id=" + std::to_string(kApplicationId) + ";" +
                      "PRAGMA user_version=" + std::to_string(v) + ";COMMIT;";
    Status s = db.Exec(sql);
    if (!s.ok()) {
      db.Exec("ROLLBACK");
      // Another process may have migrated it at the same moment; accept its work.
      auto now = db.QueryInt("PRAGMA user_version");
      if (now.ok() && *now >= v) continue;
      return s.WithContext("cannot upgrade " + path + " to schema version " + std::to_string(v));
    }
  }
  return Status::Ok();
}

}  // namespace scaffold::recordings

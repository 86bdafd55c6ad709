#include "recordings/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tests/support/conformance.h"
#include "tests/support/temp_dir.h"

using scaffold::ErrorCode;
using scaffold::recordings::SqliteStore;

// The behaviour every store shares is tested on both in store_conformance_test.cc; these
// cases are about SQLite files.

TEST_CASE("a file that is not SQLite is refused and left untouched", "[store]") {
  scaffold::testing::TempDir dir;
  std::string path = dir.path() + "/notes.txt";
  std::ofstream(path) << "these are my notes, not a database\n";
  std::string before = scaffold::testing::ReadFile(path);
  auto store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == ErrorCode::kDataLoss);
  CHECK_THAT(store.status().message(), Catch::Contains("is not a scaffold database"));
  CHECK(scaffold::testing::ReadFile(path) == before);
}

TEST_CASE("a version 1 database is upgraded to the current schema with its sessions kept", "[store]") {
  scaffold::testing::TempDir dir;
  std::string path = dir.path() + "/v1.db";
  sqlite3* db;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string v1 = std::string(scaffold::recordings::MigrationSql(1)) +
                                      "PRAGMA application_id=" + std::to_string(scaffold::recordings::kApplicationId) +
                   "; PRAGMA user_version=1;"

                   "INSERT INTO sessions (id, workflow_name, workflow_source, workflow_sha256, input, status, "
                   "created_at, updated_at) VALUES ('old', 'wf', '{}', 'x', '\"hi\"', 'completed', 1, 2);";
  REQUIRE(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

    auto store = SqliteStore::Open(path);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  auto info = (*store)->GetSession("old");

  REQUIRE(info.ok());
  CHECK(info->input == "hi");
  CHECK(info->redact.empty());
  CHECK((*store)->ListExchanges("old")->empty());
  sqlite3* check;
  REQUIRE(sqlite3_open(path.c_str(), &check) == SQLITE_OK);
  sqlite3_stmt* stmt;
  sqlite3_prepare_v2(check, "PRAGMA user_version", -1, &stmt, nullptr);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(sqlite3_column_int(stmt, 0) == scaffold::recordings::kSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_close(check);
}

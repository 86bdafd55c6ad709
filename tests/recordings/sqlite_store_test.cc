#include "recordings/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/uuid.h"
#include "tests/support/conformance.h"
#include "tests/support/temp_dir.h"

using scaffold::ErrorCode;
using scaffold::Json;
using scaffold::recordings::SqliteStore;
namespace engine = scaffold::engine;

namespace {

engine::SessionInfo NewSession(const std::string& id = engine::NewUuid()) {
  engine::SessionInfo info;
  info.id = id;
  info.workflow_name = "wf";
  info.workflow_source = "{\"scaffold\": 1}";
  info.input = "hello";
  info.created_at = info.updated_at = 1000;
  return info;
}

engine::EventPtr MakeEvent(int64_t position, const std::string& name,
                           Json payload = Json::object()) {
  auto e = std::make_shared<engine::Event>();
  e->id = engine::NewUuid();
  e->position = position;
  e->name = name;
  e->payload = std::move(payload);
  e->timestamp = 2000 + position;
  e->Serialize();
  return e;
}

}  // namespace

TEST_CASE("a new database is created with the schema and reopened with its data", "[store]") {
  scaffold::testing::TempDir dir;
  std::string path = dir.path() + "/s.db";
  std::string id;
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    auto info = NewSession();
    id = info.id;
    REQUIRE((*store)->CreateSession(info).ok());
    std::vector<engine::EventPtr> batch = {MakeEvent(1, "workflow:started"),
                                           MakeEvent(2, "phase:entered")};
    REQUIRE((*store)->Append(id, batch).ok());
  }
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  auto info = (*store)->GetSession(id);
  REQUIRE(info.ok());
  CHECK(info->event_count == 2);
  CHECK(info->last_event_at == 2002);
  CHECK(info->input == "hello");
  CHECK(info->workflow_sha256.size() == 64);
  auto events = (*store)->ReadEvents(id, 0, 100);
  REQUIRE(events->size() == 2);
  CHECK((*events)[1]->name == "phase:entered");
}

TEST_CASE("appends must continue the log: a gap or a taken position stores nothing", "[store]") {
  auto store = std::move(SqliteStore::Open(":memory:").value());
  auto info = NewSession();
  REQUIRE(store->CreateSession(info).ok());
  std::vector<engine::EventPtr> first = {MakeEvent(1, "workflow:started")};
  REQUIRE(store->Append(info.id, first).ok());
  std::vector<engine::EventPtr> taken = {MakeEvent(2, "a"), MakeEvent(1, "b")};
  auto s = store->Append(info.id, taken);
  CHECK(s.code() == ErrorCode::kFailedPrecondition);
  CHECK_THAT(s.message(), Catch::Contains("another writer"));
  std::vector<engine::EventPtr> gap = {MakeEvent(3, "a")};
  CHECK(store->Append(info.id, gap).code() == ErrorCode::kFailedPrecondition);
  CHECK(store->ReadEvents(info.id, 0, 100)->size() == 1);
  CHECK(store->GetSession(info.id)->event_count == 1);
}

TEST_CASE("the session status follows the events appended", "[store]") {
  auto store = std::move(SqliteStore::Open(":memory:").value());
  auto info = NewSession();
  REQUIRE(store->CreateSession(info).ok());
  auto status_after = [&](int64_t pos, const char* name) {
    std::vector<engine::EventPtr> batch = {MakeEvent(pos, name)};
    REQUIRE(store->Append(info.id, batch).ok());
    return store->GetSession(info.id)->status;
  };
  CHECK(status_after(1, "workflow:started") == engine::SessionStatus::kRunning);
  CHECK(status_after(2, "input:requested") == engine::SessionStatus::kWaiting);
  CHECK(status_after(3, "session:paused") == engine::SessionStatus::kPaused);
  CHECK(status_after(4, "session:resumed") == engine::SessionStatus::kRunning);
  CHECK(status_after(5, "workflow:error") == engine::SessionStatus::kFailed);
}

TEST_CASE("checkpoints are indexed so the latest one before a position is found", "[store]") {
  auto store = std::move(SqliteStore::Open(":memory:").value());
  auto info = NewSession();
  REQUIRE(store->CreateSession(info).ok());
  std::vector<engine::EventPtr> batch = {
      MakeEvent(1, "workflow:started"), MakeEvent(2, "state:checkpoint", {{"state", {{"n", 1}}}}),
      MakeEvent(3, "state:intent"), MakeEvent(4, "state:checkpoint", {{"state", {{"n", 2}}}})};
  REQUIRE(store->Append(info.id, batch).ok());
  CHECK(!store->LatestCheckpoint(info.id, 1).value());
  CHECK((*store->LatestCheckpoint(info.id, 3).value())->position == 2);
  CHECK((*store->LatestCheckpoint(info.id, 9).value())->payload["state"]["n"] == 2);
}

TEST_CASE("sessions are listed newest first, by owner, and deleted with their events", "[store]") {
  auto store = std::move(SqliteStore::Open(":memory:").value());
  auto a = NewSession();
  a.owner = "ada";
  a.created_at = 1;
  auto b = NewSession();
  b.owner = "bob";
  b.created_at = 2;
  REQUIRE(store->CreateSession(a).ok());
  REQUIRE(store->CreateSession(b).ok());
  CHECK(store->CreateSession(a).code() == ErrorCode::kAlreadyExists);
  auto all = store->ListSessions({});
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].id == b.id);
  engine::SessionFilter only_ada;
  only_ada.owner = "ada";
  CHECK(store->ListSessions(only_ada)->size() == 1);
  std::vector<engine::EventPtr> batch = {MakeEvent(1, "workflow:started")};
  REQUIRE(store->Append(a.id, batch).ok());
  REQUIRE(store->DeleteSession(a.id).ok());
  CHECK(store->GetSession(a.id).status().code() == ErrorCode::kNotFound);
  CHECK(store->ReadEvents(a.id, 0, 10).status().code() == ErrorCode::kNotFound);
  CHECK(store->DeleteSession(a.id).code() == ErrorCode::kNotFound);
}

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

TEST_CASE("another application's SQLite database is refused and left untouched", "[store]") {
  scaffold::testing::TempDir dir;
  std::string path = dir.path() + "/other.db";
  sqlite3* db;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  sqlite3_close(db);
  std::string before = scaffold::testing::ReadFile(path);
  auto store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK_THAT(store.status().message(), Catch::Contains("not a scaffold one"));
  CHECK(scaffold::testing::ReadFile(path) == before);
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST_CASE("a database from a newer schema version is refused and left untouched", "[store]") {
  scaffold::testing::TempDir dir;
  std::string path = dir.path() + "/future.db";
  { REQUIRE(SqliteStore::Open(path).ok()); }
  sqlite3* db;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA user_version=99;", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  sqlite3_close(db);
  std::string before = scaffold::testing::ReadFile(path);
  auto store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK_THAT(store.status().message(), Catch::Contains("newer scaffold (schema version 99"));
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

TEST_CASE("two connections to one file append concurrently without losing events", "[store]") {

  scaffold::testing::TempDir dir;
  std::string path = dir.path() + "/shared.db";
  auto first = std::move(SqliteStore::Open(path).value());
  auto second = std::move(SqliteStore::Open(path).value());
  auto a = NewSession(), b = NewSession();
  REQUIRE(first->CreateSession(a).ok());
  REQUIRE(second->CreateSession(b).ok());
  constexpr int kBatches = 200;
  auto writer = [&](SqliteStore* store, const std::string& id) {
    for (int i = 0; i < kBatches; ++i) {
      std::vector<engine::EventPtr> batch = {MakeEvent(2 * i + 1, "x"), MakeEvent(2 * i + 2, "y")};
      REQUIRE(store->Append(id, batch).ok());
    }
  };
  std::thread t1(writer, first.get(), a.id);
  std::thread t2(writer, second.get(), b.id);
  t1.join();
  t2.join();
  CHECK(first->ReadEvents(b.id, 0, 100000)->size() == 2 * kBatches);
  CHECK(second->ReadEvents(a.id, 0, 100000)->size() == 2 * kBatches);
}

// One behaviour suite, two stores: every case runs against an SQLite file and against a database
// on the tests' PostgreSQL server (tests/support/postgres.h). The cases on PostgreSQL are named
// "... - OnPostgres" and need ctest's "postgres" fixture; they fail, never skip, without it.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "engine/uuid.h"
#include "recordings/postgres/postgres_store.h"
#include "recordings/store.h"
#include "tests/support/conformance.h"
#include "tests/support/postgres.h"
#include "tests/support/temp_dir.h"

using scaffold::ErrorCode;
using scaffold::Json;
using scaffold::recordings::Exchange;
using scaffold::recordings::OpenStore;
using scaffold::recordings::Store;
namespace engine = scaffold::engine;

// Fails with the status's message when `expr` (a Status) is not ok.
#define REQUIRE_OK(expr)                  \
  do {                                    \
    const scaffold::Status status_ = (expr); \
    INFO(status_.ToString());             \
    REQUIRE(status_.ok());                \
  } while (0)

namespace {

void SqliteExec(const std::string& path, const std::string& sql) {
  sqlite3* db;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
}

// An SQLite file in a temporary directory.
struct OnSqlite {
  scaffold::testing::TempDir dir;
  std::string location() const { return dir.path() + "/store.db"; }
  void MakeForeign() const { SqliteExec(location(), "CREATE TABLE t(x); INSERT INTO t VALUES (1);"); }
  void SetSchemaVersion(int v) const {
    SqliteExec(location(), "PRAGMA journal_mode=DELETE; PRAGMA user_version=" + std::to_string(v));
  }
  // What a refused open must leave as it was.
  std::string Fingerprint() const {
    std::string out = std::filesystem::exists(location())
                          ? scaffold::testing::ReadFile(location())
                          : std::string("(none)");
    return out + (std::filesystem::exists(location() + "-wal") ? "+wal" : "");
  }
};

// A database of its own on the tests' PostgreSQL server.
struct OnPostgres {
  scaffold::testing::TempDatabase db;
  std::string location() const { return db.url(); }
  void MakeForeign() const { db.Sql("CREATE TABLE t (x int); INSERT INTO t VALUES (1)"); }
  void SetSchemaVersion(int v) const {
    db.Sql("UPDATE scaffold_meta SET value = '" + std::to_string(v) +
           "' WHERE key = 'schema_version'");
  }
  std::string Fingerprint() const {
    std::string tables = db.Sql(
        "SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '(none)') FROM pg_tables "
        "WHERE schemaname = 'public'");
    if (db.Sql("SELECT to_regclass('scaffold_meta') IS NOT NULL") != "t") return tables;
    return tables + " " +
           db.Sql("SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM scaffold_meta");
  }
};

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

std::unique_ptr<Store> Open(const std::string& location,
                            Store::Access access = Store::Access::kReadWrite) {
  auto store = OpenStore(location, access);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

Exchange MakeExchange(const std::string& session, const std::string& agent, int n) {
  Exchange x;
  x.session_id = session;
  x.agent = agent;
  x.request = {{"agent", agent}, {"n", n}};
  x.key = scaffold::recordings::ExchangeKey(x.request);
  x.response = {{"outcome", "complete"}, {"stream", Json::array()}};
  return x;
}

}  // namespace

TEMPLATE_TEST_CASE("store: a new store is created with its schema and reopened with its data",
                   "[store]", OnSqlite, OnPostgres) {
  TestType backend;
  std::string id;
  {
    auto store = Open(backend.location());
    auto info = NewSession();
    info.redact = {"sk-[a-z]+"};
    id = info.id;
    REQUIRE_OK(store->CreateSession(info));
    std::vector<engine::EventPtr> batch = {MakeEvent(1, "workflow:started"),
                                           MakeEvent(2, "phase:entered")};
    REQUIRE_OK(store->Append(id, batch));
  }
  auto store = Open(backend.location());
  auto info = store->GetSession(id);
  REQUIRE(info.ok());
  CHECK(info->event_count == 2);
  CHECK(info->last_event_at == 2002);
  CHECK(info->input == "hello");
  CHECK(info->redact == std::vector<std::string>{"sk-[a-z]+"});
  CHECK(info->workflow_sha256.size() == 64);
  auto events = store->ReadEvents(id, 0, 100);
  REQUIRE(events->size() == 2);
  CHECK((*events)[1]->name == "phase:entered");
  CHECK(store->ReadEvents(id, 1, 100)->size() == 1);
  CHECK(store->ReadEvents(id, 0, 1)->size() == 1);
  CHECK(*store->FindEvent(id, (*events)[1]->id).value() == 2);
  CHECK_FALSE(store->FindEvent(id, "no-such-event").value());
  CHECK(store->GetSession("nope").status().code() == ErrorCode::kNotFound);
}

TEMPLATE_TEST_CASE("store: appends must continue the log: a gap or a taken position stores nothing",
                   "[store]", OnSqlite, OnPostgres) {
  TestType backend;
  auto store = Open(backend.location());
  auto info = NewSession();
  REQUIRE_OK(store->CreateSession(info));
  std::vector<engine::EventPtr> first = {MakeEvent(1, "workflow:started")};
  REQUIRE_OK(store->Append(info.id, first));
  std::vector<engine::EventPtr> taken = {MakeEvent(2, "a"), MakeEvent(1, "b")};
  auto s = store->Append(info.id, taken);
  CHECK(s.code() == ErrorCode::kFailedPrecondition);
  CHECK_THAT(s.message(), Catch::Contains("another writer"));
  std::vector<engine::EventPtr> gap = {MakeEvent(3, "a")};
  CHECK(store->Append(info.id, gap).code() == ErrorCode::kFailedPrecondition);
  CHECK(store->ReadEvents(info.id, 0, 100)->size() == 1);
  CHECK(store->GetSession(info.id)->event_count == 1);
  std::vector<engine::EventPtr> orphan = {MakeEvent(1, "a")};
  CHECK(store->Append("no-such-session", orphan).code() == ErrorCode::kNotFound);
}

TEMPLATE_TEST_CASE("store: the session status follows the events appended", "[store]", OnSqlite,
                   OnPostgres) {
  TestType backend;
  auto store = Open(backend.location());
  auto info = NewSession();
  REQUIRE_OK(store->CreateSession(info));
  auto status_after = [&](int64_t pos, const char* name) {
    std::vector<engine::EventPtr> batch = {MakeEvent(pos, name)};
    REQUIRE_OK(store->Append(info.id, batch));
    return store->GetSession(info.id)->status;
  };
  CHECK(status_after(1, "workflow:started") == engine::SessionStatus::kRunning);
  CHECK(status_after(2, "input:requested") == engine::SessionStatus::kWaiting);
  CHECK(status_after(3, "session:paused") == engine::SessionStatus::kPaused);
  CHECK(status_after(4, "session:resumed") == engine::SessionStatus::kRunning);
  CHECK(status_after(5, "workflow:error") == engine::SessionStatus::kFailed);
  auto counts = store->CountSessions({}).value();
  CHECK(counts[engine::SessionStatus::kFailed] == 1);
}

TEMPLATE_TEST_CASE("store: the latest checkpoint at or before a position is found", "[store]",
                   OnSqlite, OnPostgres) {
  TestType backend;
  auto store = Open(backend.location());
  auto info = NewSession();
  REQUIRE_OK(store->CreateSession(info));
  std::vector<engine::EventPtr> batch = {
      MakeEvent(1, "workflow:started"), MakeEvent(2, "state:checkpoint", {{"state", {{"n", 1}}}}),
      MakeEvent(3, "state:intent"), MakeEvent(4, "state:checkpoint", {{"state", {{"n", 2}}}})};
  REQUIRE_OK(store->Append(info.id, batch));
  CHECK(!store->LatestCheckpoint(info.id, 1).value());
  CHECK((*store->LatestCheckpoint(info.id, 3).value())->position == 2);
  CHECK((*store->LatestCheckpoint(info.id, 9).value())->payload["state"]["n"] == 2);
}

TEMPLATE_TEST_CASE("store: sessions are listed newest first, by owner, and deleted with all they hold",
                   "[store]", OnSqlite, OnPostgres) {
  TestType backend;
  auto store = Open(backend.location());
  auto a = NewSession();
  a.owner = "ada";
  a.created_at = 1;
  auto b = NewSession();
  b.owner = "bob";
  b.created_at = 2;
  b.parent_id = a.id;
  b.fork_position = 1;
  REQUIRE_OK(store->CreateSession(a));
  REQUIRE_OK(store->CreateSession(b));
  CHECK(store->CreateSession(a).code() == ErrorCode::kAlreadyExists);
  auto all = store->ListSessions({});
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].id == b.id);
  CHECK((*all)[0].parent_id == a.id);
  CHECK((*all)[0].fork_position == 1);
  engine::SessionFilter only_ada;
  only_ada.owner = "ada";
  CHECK(store->ListSessions(only_ada)->size() == 1);
  CHECK(store->CountSessions(only_ada)->at(engine::SessionStatus::kRunning) == 1);
  engine::SessionFilter one;
  one.limit = 1;
  CHECK(store->ListSessions(one)->size() == 1);
  std::vector<engine::EventPtr> batch = {MakeEvent(1, "workflow:started"),
                                         MakeEvent(2, "state:checkpoint", {{"state", {}}})};
  REQUIRE_OK(store->Append(a.id, batch));
  REQUIRE_OK(store->AppendExchange(MakeExchange(a.id, "writer", 1)));
  REQUIRE_OK(store->DeleteSession(a.id));
  CHECK(store->GetSession(a.id).status().code() == ErrorCode::kNotFound);
  CHECK(store->ReadEvents(a.id, 0, 10).status().code() == ErrorCode::kNotFound);
  CHECK(store->ListExchanges(a.id)->empty());
  CHECK(store->DeleteSession(a.id).code() == ErrorCode::kNotFound);
  CHECK(store->GetSession(b.id).ok());
}

TEMPLATE_TEST_CASE("store: provider exchanges are recorded in order and found by key and occurrence",
                   "[store]", OnSqlite, OnPostgres) {
  TestType backend;
  auto store = Open(backend.location());
  auto s1 = NewSession(), s2 = NewSession();
  REQUIRE_OK(store->CreateSession(s1));
  REQUIRE_OK(store->CreateSession(s2));
  auto x = MakeExchange(s1.id, "writer", 1);
  REQUIRE_OK(store->AppendExchange(x));
  auto again = x;
  again.occurrence = 2;
  again.response["outcome"] = "error";
  REQUIRE_OK(store->AppendExchange(again));
  REQUIRE_OK(store->AppendExchange(MakeExchange(s1.id, "critic", 2)));
  auto elsewhere = MakeExchange(s2.id, "writer", 1);
  elsewhere.response["outcome"] = "timeout";
  REQUIRE_OK(store->AppendExchange(elsewhere));

  CHECK(store->CountExchanges(s1.id, x.key).value() == 2);
  CHECK(store->CountExchanges(s2.id, x.key).value() == 1);
  auto second = store->FindExchange(x.key, 2, s1.id).value();
  REQUIRE(second);
  CHECK(second->response["outcome"] == "error");
  CHECK(second->request == x.request);
  CHECK_FALSE(store->FindExchange(x.key, 3, s1.id).value());
  // In any session: the most recent recording.
  CHECK(store->FindExchange(x.key, 1, std::nullopt).value()->response["outcome"] == "timeout");
  auto listed = store->ListExchanges(s1.id).value();
  REQUIRE(listed.size() == 3);
  CHECK(listed[0].seq == 1);
  CHECK(listed[2].agent == "critic");
  CHECK(store->ExchangesForAgent("writer", std::nullopt, 10)->size() == 3);
  CHECK(store->ExchangesForAgent("writer", s1.id, 1)->size() == 1);
}

TEMPLATE_TEST_CASE("store: an import stores the whole session or nothing", "[store]", OnSqlite,
                   OnPostgres) {
  TestType backend;
  auto store = Open(backend.location());
  auto info = NewSession();
  info.status = engine::SessionStatus::kCompleted;
  std::vector<engine::EventPtr> events = {MakeEvent(1, "workflow:started"),
                                          MakeEvent(2, "workflow:completed")};
  std::vector<Exchange> exchanges = {MakeExchange(info.id, "writer", 1)};
  exchanges[0].seq = 1;
  REQUIRE_OK(store->ImportSession(info, events, exchanges));
  CHECK(store->GetSession(info.id)->status == engine::SessionStatus::kCompleted);
  CHECK(store->GetSession(info.id)->event_count == 2);
  CHECK(store->ListExchanges(info.id)->size() == 1);
  CHECK(store->ImportSession(info, events, exchanges).code() == ErrorCode::kAlreadyExists);

  auto broken = NewSession();
  std::vector<engine::EventPtr> gap = {MakeEvent(1, "workflow:started"), MakeEvent(3, "x")};
  CHECK_FALSE(store->ImportSession(broken, gap, {}).ok());
  CHECK(store->GetSession(broken.id).status().code() == ErrorCode::kNotFound);
}

TEMPLATE_TEST_CASE("store: read-only access never creates, migrates or writes", "[store]", OnSqlite,
                   OnPostgres) {
  TestType backend;
  std::string before = backend.Fingerprint();
  auto missing = OpenStore(backend.location(), Store::Access::kReadOnly);
  CHECK_FALSE(missing.ok());
  CHECK(backend.Fingerprint() == before);
  std::string id;
  {
    auto store = Open(backend.location());
    auto info = NewSession();
    id = info.id;
    REQUIRE_OK(store->CreateSession(info));
  }
  auto reader = Open(backend.location(), Store::Access::kReadOnly);
  CHECK(reader->GetSession(id).ok());
  std::vector<engine::EventPtr> batch = {MakeEvent(1, "workflow:started")};
  CHECK_FALSE(reader->Append(id, batch).ok());
  CHECK(reader->GetSession(id)->event_count == 0);
}

TEMPLATE_TEST_CASE("store: another application's database is refused and left untouched", "[store]",
                   OnSqlite, OnPostgres) {
  TestType backend;
  backend.MakeForeign();
  std::string before = backend.Fingerprint();
  auto store = OpenStore(backend.location());
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == ErrorCode::kDataLoss);
  CHECK_THAT(store.status().message(), Catch::Contains("not a scaffold"));
  CHECK(backend.Fingerprint() == before);
}

TEMPLATE_TEST_CASE("store: a store of a newer schema version is refused and left untouched",
                   "[store]", OnSqlite, OnPostgres) {
  TestType backend;
  { Open(backend.location()); }
  backend.SetSchemaVersion(99);
  std::string before = backend.Fingerprint();
  for (auto access : {Store::Access::kReadWrite, Store::Access::kReadOnly}) {
    auto store = OpenStore(backend.location(), access);
    REQUIRE_FALSE(store.ok());
    CHECK_THAT(store.status().message(), Catch::Contains("newer scaffold (schema version 99"));
  }
  CHECK(backend.Fingerprint() == before);
}

TEMPLATE_TEST_CASE("store: several processes opening a new store at once all get it", "[store]",
                   OnSqlite, OnPostgres) {
  TestType backend;
  constexpr int kOpeners = 6;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kOpeners);
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      auto store = OpenStore(backend.location());
      if (!store.ok()) {
        errors[static_cast<size_t>(i)] = store.status().ToString();
        return;
      }
      auto info = NewSession();
      auto s = (*store)->CreateSession(info);
      if (!s.ok()) errors[static_cast<size_t>(i)] = s.ToString();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) CHECK(e == "");
  CHECK(Open(backend.location())->ListSessions({})->size() == kOpeners);
}

TEMPLATE_TEST_CASE("store: two connections append concurrently without losing events", "[store]",
                   OnSqlite, OnPostgres) {
  TestType backend;
  auto first = Open(backend.location());
  auto second = Open(backend.location());
  auto a = NewSession(), b = NewSession();
  REQUIRE_OK(first->CreateSession(a));
  REQUIRE_OK(second->CreateSession(b));
  constexpr int kBatches = 100;
  // Catch's assertions are not thread-safe: the writers keep their first error for the checks.
  auto writer = [&](Store* store, const std::string& id, scaffold::Status* error) {
    for (int i = 0; i < kBatches && error->ok(); ++i) {
      std::vector<engine::EventPtr> batch = {MakeEvent(2 * i + 1, "x"), MakeEvent(2 * i + 2, "y")};
      *error = store->Append(id, batch);
    }
  };
  scaffold::Status first_error, second_error;
  std::thread t1(writer, first.get(), a.id, &first_error);
  std::thread t2(writer, second.get(), b.id, &second_error);
  t1.join();
  t2.join();
  REQUIRE_OK(first_error);
  REQUIRE_OK(second_error);
  CHECK(first->ReadEvents(b.id, 0, 100000)->size() == 2 * kBatches);
  CHECK(second->ReadEvents(a.id, 0, 100000)->size() == 2 * kBatches);
}

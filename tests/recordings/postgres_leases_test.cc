// PostgresStore's leases against a holder that stopped where the database cannot time it out:
// in the middle of sending a statement, its transaction holding the session's row lock.
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "engine/lazy_library.h"
#include "engine/uuid.h"
#include "recordings/postgres/postgres_store.h"
#include "tests/support/postgres.h"

using scaffold::ErrorCode;
using scaffold::Json;
using scaffold::recordings::PostgresStore;
using scaffold::recordings::Store;
using scaffold::testing::TempDatabase;
namespace engine = scaffold::engine;

namespace {

// libpq calls scaffold itself never makes (its shim forwards only those it does).
template <typename F>
F Libpq(const char* name) {
  static scaffold::engine::LazyLibrary library({"libpq.so.5"});
  F f = library.template Function<F>(name);
  REQUIRE(f != nullptr);
  return f;
}

std::unique_ptr<PostgresStore> OpenNode(const TempDatabase& db, const std::string& name,
                                        int64_t lease_ms = 600) {
  PostgresStore::Options options;
  options.node_id = name;
  options.lease_ms = lease_ms;
  auto store = PostgresStore::Open(db.url(), Store::Access::kReadWrite, options);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

engine::SessionInfo RunningSession() {
  engine::SessionInfo info;
  info.id = engine::NewUuid();
  info.workflow_name = "wf";
  info.workflow_source = "{}";
  info.status = engine::SessionStatus::kRunning;
  info.created_at = info.updated_at = 1000;
  return info;
}

engine::EventPtr StartEvent() {
  auto e = std::make_shared<engine::Event>();
  e->id = engine::NewUuid();
  e->position = 1;
  e->name = "workflow:started";
  e->payload = Json::object();
  e->timestamp = 2000;
  e->Serialize();
  return e;
}

// A connection that locks `session`'s row, then sends the first part of a long statement and
// stops: the server has the statement's first message and waits for the rest.
class StalledHolder {
 public:
  StalledHolder(const TempDatabase& db, const std::string& session) {
    conn_ = PQconnectdb(db.url().c_str());
    REQUIRE(PQstatus(conn_) == CONNECTION_OK);
    PGresult* r = PQexec(conn_, "SELECT pg_backend_pid()");
    REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
    pid_ = std::atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    Exec("BEGIN");
    Exec("SELECT 1 FROM sessions WHERE id = '" + session + "' FOR UPDATE");
    REQUIRE(Libpq<decltype(&PQsetnonblocking)>("PQsetnonblocking")(conn_, 1) == 0);
    static const std::string big(4 << 20, 'x');
    const char* values[] = {big.c_str()};
    REQUIRE(Libpq<decltype(&PQsendQueryParams)>("PQsendQueryParams")(conn_, "SELECT length($1)", 1, nullptr, values, nullptr, nullptr,
                              0) == 1);
    // Never flushed again: most of the 4 MiB stays in this process.
  }
  ~StalledHolder() { PQfinish(conn_); }
  int pid() const { return pid_; }

 private:
  void Exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    INFO(PQerrorMessage(conn_));
    REQUIRE((PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK));
    PQclear(r);
  }
  PGconn* conn_ = nullptr;
  int pid_ = 0;
};

std::string BackendState(const TempDatabase& db, int pid) {
  return db.Sql("SELECT coalesce((SELECT state || ' ' || coalesce(wait_event, '') FROM "
                "pg_stat_activity WHERE pid = " +
                std::to_string(pid) + "), 'gone')");
}

}  // namespace

TEST_CASE("a lease holder stalled in the middle of a statement is ended and its session taken over",
          "[postgres][leases]") {
  TempDatabase db;
  auto a = OpenNode(db, "a");
  engine::SessionInfo info = RunningSession();
  REQUIRE(a->CreateSession(info).ok());  // a holds the lease
  a->StopRenewingForTest();              // and stalls: its lease runs out

  StalledHolder stalled(db, info.id);
  // Waiting for the rest of a statement is not idle in a transaction: the server's own timeout
  // (half the lease) does not end it.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  REQUIRE(BackendState(db, stalled.pid()) == "active ClientRead");

  auto b = OpenNode(db, "b");
  bool taken = false;
  for (int i = 0; i < 100 && !taken; ++i) {
    auto claimed = b->ClaimOrphans(10);
    REQUIRE(claimed.ok());
    taken = !claimed->empty() && claimed->front() == info.id;
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(taken);
  CHECK(BackendState(db, stalled.pid()) == "gone");
  CHECK(db.Sql("SELECT lease_owner || ' ' || lease_epoch FROM sessions") == "b 2");
  // The old holder is fenced out; the new one appends.
  engine::EventPtr first = StartEvent();
  auto refused = a->Append(info.id, std::span(&first, 1));
  CHECK(refused.code() == ErrorCode::kFailedPrecondition);
  CHECK(b->Append(info.id, std::span(&first, 1)).ok());
}

TEST_CASE("a lease holder in the middle of a statement keeps its session while its lease is live",
          "[postgres][leases]") {
  TempDatabase db;
  // A minute's lease, so it stays live without renewal (renewal would wait for the row).
  auto a = OpenNode(db, "a", 60000);
  engine::SessionInfo info = RunningSession();
  REQUIRE(a->CreateSession(info).ok());
  StalledHolder slow(db, info.id);  // a slow statement on a session whose lease is live
  auto b = OpenNode(db, "b");  // ends stalled holders after 300 ms
  for (int i = 0; i < 15; ++i) {
    auto claimed = b->ClaimOrphans(10);
    REQUIRE(claimed.ok());
    CHECK(claimed->empty());
    auto one = b->ClaimLease(info.id);  // does not wait for the row
    REQUIRE(one.ok());
    CHECK_FALSE(*one);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(BackendState(db, slow.pid()) == "active ClientRead");
}

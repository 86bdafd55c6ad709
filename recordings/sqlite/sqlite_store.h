// SqliteStore: the EventStore on one SQLite database file (DESIGN §5).
//
// Layout (schema version 1, PRAGMA user_version; application_id 'SCAF'):
//   sessions   one row per session: id, owner, workflow name/text/sha256, input, status,
//              parent and fork position, timestamps, event count
//   events     (session, position) -> name and the event's wire JSON, exactly as delivered
//   snapshots  positions of state:checkpoint events, so the state at any position is the
//              nearest snapshot's state plus the patches after it
// WAL mode; writes use BEGIN IMMEDIATE with a busy timeout, so several scaffold processes can
// share one file, one writer at a time. Every Append is one transaction (group commit).
//
// Open() refuses, without writing anything, a file that is not SQLite, an SQLite database that
// is not scaffold's, and a scaffold database of a newer schema version. A database that cannot
// be written (permissions, a read-only mount) is refused for writing with that reason, and can
// still be opened for reading (Access::kReadOnly), from a read-only mount too. Two processes
// creating the same new file at once both succeed: identification reads one snapshot.
//
// Thread-safe: one connection behind a mutex.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "recordings/sqlite/connection.h"
#include "recordings/sqlite/schema.h"
#include "recordings/store.h"

namespace scaffold::recordings {

class SqliteStore : public Store {
 public:
  // Opens or creates the database at `path` (":memory:" for a private in-memory one). The
  // parent directory must exist. kReadOnly never creates, migrates or writes; kNotFound when
  // there is no file.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   Access access = Access::kReadWrite);
  ~SqliteStore() override;

  Status CreateSession(const engine::SessionInfo& info) override;
  Status Append(const std::string& session_id, std::span<const engine::EventPtr> events) override;
  Result<std::vector<engine::EventPtr>> ReadEvents(const std::string& session_id, int64_t after,
                                                   int64_t limit) override;
  Result<std::optional<int64_t>> FindEvent(const std::string& session_id,
                                           const std::string& event_id) override;
  Result<std::optional<engine::EventPtr>> LatestCheckpoint(const std::string& session_id,
                                                           int64_t position) override;
  Result<engine::SessionInfo> GetSession(const std::string& id) override;
  Result<std::vector<engine::SessionInfo>> ListSessions(
      const engine::SessionFilter& filter) override;
  Result<std::map<engine::SessionStatus, int64_t>> CountSessions(
      const engine::SessionFilter& filter) override;
  Status DeleteSession(const std::string& id) override;

  // Recorded provider exchanges (exchanges.cc).
  Status AppendExchange(const Exchange& exchange) override;
  Result<int64_t> CountExchanges(const std::string& session_id, const std::string& key) override;
  Result<std::optional<Exchange>> FindExchange(
      const std::string& key, int64_t occurrence,
      const std::optional<std::string>& session_id) override;
  Result<std::vector<Exchange>> ListExchanges(const std::string& session_id) override;
  Result<std::vector<Exchange>> ExchangesForAgent(const std::string& agent,
                                                  const std::optional<std::string>& session_id,
                                                  int64_t limit) override;
  Status ImportSession(const engine::SessionInfo& info, std::span<const engine::EventPtr> events,
                       const std::vector<Exchange>& exchanges) override;

  std::string Describe() const override { return path_; }
  const std::string& path() const { return path_; }

 private:
  struct Statements;
  SqliteStore(std::string path, std::unique_ptr<Connection> db);
  Status Prepare();
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back on failure.
  Status Transaction(const std::function<Status()>& body);
  Result<int64_t> SessionSeq(const std::string& id);
  Status InsertSession(const engine::SessionInfo& info);
  Status AppendLocked(const std::string& session_id, std::span<const engine::EventPtr> events);
  Status InsertExchange(int64_t session_seq, int64_t seq, const Exchange& exchange);
  // The statement for `sql`, prepared on first use and kept (reset, bindings cleared) for the
  // next: a replay looks an exchange up for every model call. Called with mu_ held.
  Result<Statement*> Cached(const std::string& sql);

  const std::string path_;
  std::mutex mu_;
  // Protected by mu_.
  std::unique_ptr<Connection> db_;
  std::unique_ptr<Statements> stmts_;
  std::map<std::string, Statement, std::less<>> cached_;
};

}  // namespace scaffold::recordings

// PostgresStore: the Store on PostgreSQL (--db postgresql://...), for several `scaffold serve`
// nodes sharing one database (DESIGN §5). Same tables and semantics as the SQLite store, plus
// what several writers need:
//
// Leases. A session that runs (status running or waiting) is driven by exactly one process, the
// holder of its lease: sessions.lease_owner (a node id), lease_until (database clock, ms) and
// lease_epoch (incremented at every claim). The process that creates a session holds its lease;
// another claims it only once it is free or expired. Every Append is fenced by the lease: the
// session row is locked and the append refused (kFailedPrecondition) unless this process holds
// the lease with the epoch it claimed, so a process that lost its lease (stalled, partitioned,
// declared dead) can never write another event into the session. A session that stops running
// (paused, completed, failed) gives its lease up in the same transaction. Held leases are
// renewed by a thread of the store every lease_ms / 3 on a connection of its own; leases that
// could not be renewed are reported to OnLeaseLost.
//
// A stalled holder's row lock. The database ends a transaction left idle for half a lease
// (idle_in_transaction_session_timeout), but not one whose client stopped in the middle of
// sending a statement (libpq sends long statements in 8 KiB pieces): before claiming, a node
// ends (pg_terminate_backend) a backend that has waited that way for more than half a lease
// while locking a session whose lease expired. This needs the nodes to connect as the same role
// (or one with pg_signal_backend); without it, such a session waits for its node to wake up.
//
// Commit notifications. Every Append sends NOTIFY scaffold_events '<session id>:<last
// position>:<last event's timestamp>' in its transaction, so every node can follow every session (cluster.h).
//
// Thread-safe: one connection behind a mutex for the store's calls, one for lease renewal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "recordings/postgres/connection.h"
#include "recordings/store.h"

namespace scaffold::recordings {

class PostgresStore : public Store {
 public:
  struct Options {
    std::string node_id;    // this process's name in leases; a random one when empty
    int64_t lease_ms = 15000;
  };

  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url, Access access,
                                                     Options options);
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url, Access access) {
    return Open(url, access, Options());
  }
  ~PostgresStore() override;

  // engine::EventStore.
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

  // Recorded provider exchanges (postgres/exchanges.cc).
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

  std::string Describe() const override;

  // ---- Leases ----
  const std::string& node_id() const { return options_.node_id; }
  int64_t lease_ms() const { return options_.lease_ms; }
  // Claims the session's lease for this process if it is free or expired: true when held now.
  // False, without waiting, while another transaction locks the session's row (its driver is
  // appending, or another node is claiming it).
  Result<bool> ClaimLease(const std::string& session_id);
  // Claims up to `max` sessions that run but have no live lease (a dead node's, or new ones
  // queued while every node was full), oldest first, skipping rows other nodes are claiming
  // (FOR UPDATE SKIP LOCKED). Returns their ids.
  Result<std::vector<std::string>> ClaimOrphans(int max);
  // Gives a lease up (the session stays running: another node takes it over at once).
  Status ReleaseLease(const std::string& session_id);
  Status ReleaseAll();
  // The sessions this process holds leases on.
  std::vector<std::string> HeldLeases() const;
  // The node driving a session ("" when none holds a live lease).
  Result<std::string> LeaseHolder(const std::string& session_id);
  // Called (on the renewal thread) for each session whose lease could not be renewed.
  void OnLeaseLost(std::function<void(const std::string& session_id)> callback);
  // Stops renewing (as a stalled process would): for tests of fencing.
  void StopRenewingForTest();

 private:
  PostgresStore(std::string url, Options options, std::unique_ptr<pg::Connection> db,
                std::unique_ptr<pg::Connection> lease_db);
  Result<int64_t> SessionSeq(const std::string& id);
  // Ends the backends of stalled lease holders (see the top of this file). Best effort: a role
  // without the right to do so leaves them. Called with mu_ held.
  void EndStalledHoldersLocked();
  Status InsertSession(const engine::SessionInfo& info, bool leased);
  Status AppendLocked(const std::string& session_id, std::span<const engine::EventPtr> events,
                      bool fenced);
  Status InsertExchange(int64_t session_seq, int64_t seq, const Exchange& x);
  void RenewLoop();

  // Constant after construction.
  const std::string url_;
  const Options options_;

  mutable std::mutex mu_;
  std::unique_ptr<pg::Connection> db_;  // protected by mu_

  mutable std::mutex leases_mu_;
  std::map<std::string, int64_t> leases_;  // session id -> epoch; protected by leases_mu_
  std::function<void(const std::string&)> on_lease_lost_;  // protected by leases_mu_
  std::unique_ptr<pg::Connection> lease_db_;                // the renewal thread's
  std::condition_variable renew_cv_;
  bool stopping_ = false;  // protected by leases_mu_
  std::atomic<bool> renewing_{true};
  std::thread renewer_;
};

}  // namespace scaffold::recordings

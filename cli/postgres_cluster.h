// PostgresCluster: net::Cluster over the PostgreSQL store. Leases are the store's; commits and
// lease hand-overs arrive by LISTEN scaffold_events / scaffold_leases; requests between nodes are
// rows of node_messages addressed to a node, announced by NOTIFY on the node's channel and also
// polled, so a lost notification only delays. One connection of its own, one thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "net/server/cluster.h"
#include "recordings/postgres/connection.h"
#include "recordings/postgres/postgres_store.h"

namespace scaffold::cli {

class PostgresCluster : public net::Cluster {
 public:
  // `store` is borrowed and must outlive this.
  static Result<std::unique_ptr<PostgresCluster>> Open(recordings::PostgresStore* store,
                                                       const std::string& url);
  ~PostgresCluster() override;

  const std::string& node_id() const override { return store_->node_id(); }
  int64_t lease_ms() const override { return store_->lease_ms(); }
  Status Start(Handlers handlers) override;
  void Stop() override;
  Result<bool> Claim(const std::string& session_id) override;
  Result<std::vector<std::string>> ClaimOrphans(int max) override;
  Status Release(const std::string& session_id) override;
  Status ReleaseAll() override;
  Result<std::string> Holder(const std::string& session_id) override;
  int64_t LeasesHeld() const override;
  void Send(const std::string& node, Json request, int64_t timeout_ms,
            std::function<void(Result<Json>)> done) override;
  Status PublishTools(const Json& offers) override;
  Result<std::string> ToolNode(const std::string& owner, const std::string& tool) override;
  Status Ready() override;

 private:
  struct Pending {
    std::function<void(Result<Json>)> done;
    int64_t deadline_ms;
    std::string node;
  };
  PostgresCluster(recordings::PostgresStore* store, std::unique_ptr<recordings::pg::Connection> db);
  void Loop();
  Status Listen();
  // Takes this node's messages out of the table and handles them. Called with mu_ held.
  void DrainMessages();
  Status Post(const std::string& to, const std::string& kind, const Json& body);
  // Says this node is alive (nodes.seen_at), for ToolNode. Called with mu_ held.
  void Heartbeat();

  recordings::PostgresStore* const store_;
  const std::string channel_;  // this node's NOTIFY channel

  std::mutex mu_;  // the connection, handlers_ and pending_
  std::unique_ptr<recordings::pg::Connection> db_;
  Handlers handlers_;
  std::map<int64_t, Pending> pending_;  // request id -> its caller
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace scaffold::cli

// Cluster: what one `scaffold serve` node needs from the others when several share one
// PostgreSQL database (README "Running several nodes"). The SessionHub uses it when it is given
// one; a single node (SQLite) has none.
//
// - Leases: a running session is driven by exactly one node, the holder of its lease. Claims,
//   renewals and fencing live in the store (recordings/postgres/postgres_store.h).
// - Commits: every node hears of every other node's appends ("session S now ends at position
//   P"), so it can feed its own subscribers of sessions driven elsewhere. Notifications may be
//   lost; the hub also polls, so a lost one only delays.
// - Requests: operations on a session driven by another node (input, pause, delete, tool calls)
//   are sent to that node, which answers as it would answer its own client.
//
// Handlers run on the cluster's own thread and must return quickly (post the work elsewhere).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold::net {

class Cluster {
 public:
  struct Handlers {
    // Another node committed events of `session_id` up to `last_position`; `lag_ms` is how long
    // after the last event's timestamp the news arrived.
    std::function<void(const std::string& session_id, int64_t last_position, int64_t lag_ms)>
        commit;
    // This node's lease on a session could not be renewed: another node may drive it now.
    std::function<void(const std::string& session_id)> lease_lost;
    // Sessions may be waiting for a driver (a node gave its leases up, or every half lease).
    std::function<void()> claim_orphans;
    // Every second: the polling behind the commit notifications.
    std::function<void()> tick;
    // A request from another node; `reply` may be called from any thread, once.
    std::function<void(const Json& request, std::function<void(Json reply)> reply)> request;
  };

  virtual ~Cluster() = default;

  virtual const std::string& node_id() const = 0;
  virtual int64_t lease_ms() const = 0;

  // Starts listening and calling `handlers`. Call once, before anything else.
  virtual Status Start(Handlers handlers) = 0;
  // Stops listening; no handler runs after it returns.
  virtual void Stop() = 0;

  // Leases. Claim takes a session's lease if it is free or expired (true when held now).
  virtual Result<bool> Claim(const std::string& session_id) = 0;
  // Claims up to `max` running sessions that no node drives; their ids.
  virtual Result<std::vector<std::string>> ClaimOrphans(int max) = 0;
  // Gives leases up so another node takes the sessions over at once.
  virtual Status Release(const std::string& session_id) = 0;
  virtual Status ReleaseAll() = 0;
  // The node driving the session, "" when none holds a live lease.
  virtual Result<std::string> Holder(const std::string& session_id) = 0;
  virtual int64_t LeasesHeld() const = 0;

  // Sends `request` to `node`; `done` gets its reply, or kUnavailable when it does not answer
  // within `timeout_ms`. `done` runs on the cluster's thread.
  virtual void Send(const std::string& node, Json request, int64_t timeout_ms,
                    std::function<void(Result<Json>)> done) = 0;

  // Client tools: replaces what this node's connected desktop clients offer (a JSON array of
  // {owner, registeredMs, tools: [names]}), and finds the live node other than this one whose
  // client of `owner` offering `tool` registered last ("" when none).
  virtual Status PublishTools(const Json& offers) = 0;
  virtual Result<std::string> ToolNode(const std::string& owner, const std::string& tool) = 0;

  // The database answers (for /readyz).
  virtual Status Ready() = 0;
};

}  // namespace scaffold::net

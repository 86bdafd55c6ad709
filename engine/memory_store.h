// MemoryEventStore: an EventStore that keeps everything in memory, for runs whose log is
// thrown away afterwards (a replay's re-run, compared with the recording and discarded).
// Same contract as the SQLite store, without durability. Not thread-safe: one executor only.
#pragma once

#include <map>

#include "engine/event_store.h"

namespace scaffold::engine {

class MemoryEventStore : public EventStore {
 public:
  // With `keep_events` false, appends are checked and counted but the events are not kept
  // (reading them back fails): a run whose events are consumed by a sink as they come.
  explicit MemoryEventStore(bool keep_events = true) : keep_events_(keep_events) {}

  Status CreateSession(const SessionInfo& info) override;
  Status Append(const std::string& session_id, std::span<const EventPtr> events) override;
  Result<std::vector<EventPtr>> ReadEvents(const std::string& session_id, int64_t after,
                                           int64_t limit) override;
  Result<std::optional<int64_t>> FindEvent(const std::string& session_id,
                                           const std::string& event_id) override;
  Result<std::optional<EventPtr>> LatestCheckpoint(const std::string& session_id,
                                                   int64_t position) override;
  Result<SessionInfo> GetSession(const std::string& id) override;
  Result<std::vector<SessionInfo>> ListSessions(const SessionFilter& filter) override;
  Result<std::map<SessionStatus, int64_t>> CountSessions(const SessionFilter& filter) override;
  Status DeleteSession(const std::string& id) override;

 private:
  struct Stored {
    SessionInfo info;
    std::vector<EventPtr> events;  // events[i] is position i + 1
  };
  Result<Stored*> Find(const std::string& id);

  std::map<std::string, Stored> sessions_;
  bool keep_events_;
};

}  // namespace scaffold::engine

#include "engine/memory_store.h"

#include <algorithm>

namespace scaffold::engine {

Result<MemoryEventStore::Stored*> MemoryEventStore::Find(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return Status(ErrorCode::kNotFound, "no session " + id);
  return &it->second;
}

Status MemoryEventStore::CreateSession(const SessionInfo& info) {
  if (sessions_.count(info.id))
    return Status(ErrorCode::kAlreadyExists, "session " + info.id + " exists");
  sessions_[info.id].info = info;
  sessions_[info.id].info.event_count = 0;
  return Status::Ok();
}

Status MemoryEventStore::Append(const std::string& session_id, std::span<const EventPtr> events) {
  auto s = Find(session_id);
  if (!s.ok()) return s.status();
  Stored& stored = **s;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i]->position != stored.info.event_count + static_cast<int64_t>(i) + 1) {
      return FailedPrecondition("position " + std::to_string(events[i]->position) +
                                " does not continue session " + session_id);
    }
  }
  for (const auto& e : events) {
    if (keep_events_) stored.events.push_back(e);
    stored.info.status = StatusAfter(stored.info.status, *e);
    stored.info.last_event_at = e->timestamp;
    stored.info.updated_at = e->timestamp;
  }
  stored.info.event_count += static_cast<int64_t>(events.size());
  return Status::Ok();
}

Result<std::vector<EventPtr>> MemoryEventStore::ReadEvents(const std::string& session_id,
                                                           int64_t after, int64_t limit) {
  if (!keep_events_) return FailedPrecondition("this store keeps no events");
  auto s = Find(session_id);
  if (!s.ok()) return s.status();
  const auto& events = (*s)->events;
  size_t begin = static_cast<size_t>(std::clamp<int64_t>(after, 0, events.size()));
  size_t end =
      static_cast<size_t>(std::min<int64_t>(events.size(), begin + std::max<int64_t>(limit, 0)));
  return std::vector<EventPtr>(events.begin() + begin, events.begin() + end);
}

Result<std::optional<int64_t>> MemoryEventStore::FindEvent(const std::string& session_id,
                                                            const std::string& event_id) {
  if (!keep_events_) return FailedPrecondition("this store keeps no events");
  auto s = Find(session_id);
  if (!s.ok()) return s.status();
  for (const auto& e : (*s)->events) {
    if (e->id == event_id) return std::optional<int64_t>(e->position);
  }
  return std::optional<int64_t>();
}

Result<std::optional<EventPtr>> MemoryEventStore::LatestCheckpoint(const std::string& session_id,
                                                                   int64_t position) {
  if (!keep_events_) return FailedPrecondition("this store keeps no events");
  auto s = Find(session_id);
  if (!s.ok()) return s.status();
  const auto& events = (*s)->events;
  for (int64_t p = std::min<int64_t>(position, events.size()); p >= 1; --p) {
    if (events[p - 1]->name == events::kStateCheckpoint) return std::optional(events[p - 1]);
  }
  return std::optional<EventPtr>();
}

Result<SessionInfo> MemoryEventStore::GetSession(const std::string& id) {
  auto s = Find(id);
  if (!s.ok()) return s.status();
  return (*s)->info;
}

Result<std::vector<SessionInfo>> MemoryEventStore::ListSessions(const SessionFilter& filter) {
  std::vector<SessionInfo> out;
  for (const auto& [id, s] : sessions_) {
    if (!filter.owner || s.info.owner == *filter.owner) out.push_back(s.info);
  }
  std::sort(out.begin(), out.end(),
            [](const SessionInfo& a, const SessionInfo& b) { return a.created_at > b.created_at; });
  if (static_cast<int64_t>(out.size()) > filter.limit) out.resize(filter.limit);
  return out;
}

Result<std::map<SessionStatus, int64_t>> MemoryEventStore::CountSessions(
    const SessionFilter& filter) {
  std::map<SessionStatus, int64_t> out;
  for (const auto& [id, s] : sessions_) {
    if (!filter.owner || s.info.owner == *filter.owner) ++out[s.info.status];
  }
  return out;
}

Status MemoryEventStore::DeleteSession(const std::string& id) {
  if (!sessions_.erase(id)) return Status(ErrorCode::kNotFound, "no session " + id);
  return Status::Ok();
}

}  // namespace scaffold::engine

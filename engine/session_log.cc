#include "engine/session_log.h"

#include <algorithm>

#include "engine/uuid.h"

namespace scaffold::engine {

SessionLog::SessionLog(EventStore* store, Executor* executor, const Clock* clock,
                       std::string session_id, int64_t last_position)
    : store_(store),
      executor_(executor),
      clock_(clock),
      session_id_(std::move(session_id)),
      last_position_(last_position),
      alive_(std::make_shared<bool>(true)) {}

SessionLog::~SessionLog() {
  *alive_ = false;
}

int64_t SessionLog::Emit(const char* name, Json payload) {
  auto event = std::make_shared<Event>();
  event->id = NewUuid();
  event->position = ++last_position_;
  event->name = name;
  event->payload = redactor_ && !redactor_->empty() ? redactor_->Apply(payload) : std::move(payload);
  event->timestamp = clock_->NowMillis();
  event->Serialize();
  last_event_bytes_ = event->wire.size();
  if (pending_.empty()) first_pending_at_ = event->timestamp;
  pending_.push_back(std::move(event));
  ScheduleFlush();
  return last_position_;
}

void SessionLog::ScheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // Runs after the current task, so every event that task emits shares one transaction.
  executor_->Post([this, alive = alive_] {
    if (!*alive) return;
    flush_scheduled_ = false;
    if (held_ && pending_.size() < kMaxHeldEvents &&
        clock_->NowMillis() - first_pending_at_ < kMaxHeldMillis) {
      return;  // EndHold() schedules the commit again
    }
    Status s = Flush();
    if (!s.ok() && on_error_) on_error_(s);
  });
}

void SessionLog::EndHold() {
  held_ = false;
  if (!pending_.empty()) ScheduleFlush();
}

Status SessionLog::Flush() {
  if (!error_.ok()) {
    pending_.clear();
    return error_;
  }
  if (pending_.empty()) return Status::Ok();
  std::vector<EventPtr> batch;
  batch.swap(pending_);
  Status s = store_->Append(session_id_, batch);
  if (!s.ok()) {
    error_ = s.WithContext("could not store events of session " + session_id_);
    return error_;
  }
  // A sink may remove itself (or another) while handling events.
  std::vector<EventSink*> sinks = sinks_;
  for (EventSink* sink : sinks) {
    if (std::find(sinks_.begin(), sinks_.end(), sink) != sinks_.end()) sink->OnEvents(batch);
  }
  // The list's buffer is kept for the next batch: allocating and freeing it at every commit
  // made the allocator merge its free lists each time (a few percent of a loop of `set` phases).
  batch.clear();
  if (pending_.empty()) pending_.swap(batch);
  return Status::Ok();
}

void SessionLog::AddSink(EventSink* sink) {
  sinks_.push_back(sink);
}

void SessionLog::RemoveSink(EventSink* sink) {
  sinks_.erase(std::remove(sinks_.begin(), sinks_.end(), sink), sinks_.end());
}

}  // namespace scaffold::engine

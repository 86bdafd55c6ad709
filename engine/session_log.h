// SessionLog: the one writer of a session's event log.
//
// It stamps events (uuid, next position, timestamp), serializes each once, commits them to the
// EventStore in batches (group commit: everything emitted while one executor task runs lands in
// one transaction), and only then hands them to the sinks. So anything a sink (the terminal, an
// SSE stream) has seen is durable, and a crash loses only events nobody saw.
//
// Steps that follow each other without waiting on anything outside the process (the runner
// moving from one `set` phase to the next) share a transaction too: while the runner holds the
// log open with HoldOpen(), the commit at the end of a task is skipped, up to kMaxHeldEvents
// events or kMaxHeldMillis since the first of them. Events are still committed before any sink
// sees them, and the runner commits (Flush) before it starts anything that leaves the process.
//
// Lives on the session's executor; not thread-safe.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "engine/event_store.h"
#include "engine/executor.h"
#include "engine/redactor.h"

namespace scaffold::engine {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called on the session's executor with newly committed events, in position order.
  virtual void OnEvents(std::span<const EventPtr> events) = 0;
};

class SessionLog {
 public:
  // `store`, `executor` and `clock` are borrowed and must outlive the log. `last_position` is
  // the position of the session's last committed event (0 for a new session).
  SessionLog(EventStore* store, Executor* executor, const Clock* clock, std::string session_id,
             int64_t last_position);
  ~SessionLog();

  // Masks every string of every later event's payload (borrowed; may be null).
  void SetRedactor(const Redactor* redactor) { redactor_ = redactor; }

  // Queues an event for the next commit and returns its position.
  int64_t Emit(const char* name, Json payload);

  // Serialized size of the last emitted event.
  size_t last_event_bytes() const { return last_event_bytes_; }

  // Position the next emitted event will get.
  int64_t next_position() const { return last_position_ + 1; }

  // Most events and the longest time queued events wait while the log is held open.
  static constexpr size_t kMaxHeldEvents = 1024;
  static constexpr int64_t kMaxHeldMillis = 10;

  // The next task continues this one without leaving the process: skip the commit between them
  // (within the bounds above). The hold ends when that task calls EndHold().
  void HoldOpen() { held_ = true; }
  // Ends a hold: queued events are committed at the end of the current task (or earlier by
  // Flush).
  void EndHold();

  // Commits queued events now and delivers them. A failed commit is permanent: the log refuses
  // further events and error() says why.
  Status Flush();

  // Sinks are borrowed; remove them before destroying them.
  void AddSink(EventSink* sink);
  void RemoveSink(EventSink* sink);

  // Called when a commit made in the background (not by an explicit Flush) fails.
  void SetErrorHandler(std::function<void(const Status&)> handler) {
    on_error_ = std::move(handler);
  }

  const Status& error() const { return error_; }
  const std::string& session_id() const { return session_id_; }

 private:
  void ScheduleFlush();

  EventStore* const store_;
  Executor* const executor_;
  const Clock* const clock_;
  const std::string session_id_;

  int64_t last_position_;
  std::vector<EventPtr> pending_;
  std::vector<EventSink*> sinks_;
  const Redactor* redactor_ = nullptr;
  bool flush_scheduled_ = false;
  bool held_ = false;
  size_t last_event_bytes_ = 0;
  int64_t first_pending_at_ = 0;  // clock time of the oldest queued event
  Status error_;
  std::function<void(const Status&)> on_error_;
  std::shared_ptr<bool> alive_;
};

}  // namespace scaffold::engine

// SessionLog: the one writer of a session's event log.
//
// It stamps events (uuid, next position, timestamp), serializes each once, commits them to the
// EventStore in batches (group commit: everything emitted while one executor task runs lands in
// one transaction), and only then hands them to the sinks. So anything a sink (the terminal, an
// SSE stream) has seen is durable, and a crash loses only events nobody saw.
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

  // Position the next emitted event will get.
  int64_t next_position() const { return last_position_ + 1; }

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
  Status error_;
  std::function<void(const Status&)> on_error_;
  std::shared_ptr<bool> alive_;
};

}  // namespace scaffold::engine

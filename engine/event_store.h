// EventStore: where sessions and their event logs live. The engine sees storage only through
// this interface; recordings/ implements it on SQLite, and a PostgreSQL implementation can
// follow without touching the engine.
//
// Implementations are thread-safe. Every call is synchronous and durable on return.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/event.h"
#include "engine/status.h"

namespace scaffold::engine {

// A session's status, kept by the store from the events it appends.
enum class SessionStatus { kRunning, kWaiting, kPaused, kCompleted, kFailed };
const char* SessionStatusName(SessionStatus status);
std::optional<SessionStatus> ParseSessionStatus(std::string_view name);
// The status after appending `event` to a session in status `current`.
SessionStatus StatusAfter(SessionStatus current, const Event& event);


struct SessionInfo {
  std::string id;
  std::string owner;  // the user (JWT `sub`) who owns it; empty for local runs
  std::string workflow_name;
  std::string workflow_source;  // the workflow file's text, byte for byte
  std::string workflow_sha256;  // hex; computed by the store when empty
  Json input;
  SessionStatus status = SessionStatus::kRunning;
  std::string parent_id;  // set for forks
  int64_t fork_position = 0;
  int64_t created_at = 0;  // unix ms
  int64_t updated_at = 0;
  int64_t event_count = 0;  // == the last position
  int64_t last_event_at = 0;
  std::vector<std::string> redact;  // --redact patterns in force for this session
};

struct SessionFilter {
  std::optional<std::string> owner;  // only this owner's sessions
  int64_t limit = 1000;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Stores a new session with no events. Fails with kAlreadyExists for a known id.
  virtual Status CreateSession(const SessionInfo& info) = 0;

  // Appends `events` (serialized, positions continuing the log with no gap) in one
  // transaction, and updates the session's status and counters. All or nothing: a position
  // that is already taken (another writer) fails with kFailedPrecondition and stores nothing.
  virtual Status Append(const std::string& session_id, std::span<const EventPtr> events) = 0;

  // Events with position > `after`, in order, at most `limit`.
  virtual Result<std::vector<EventPtr>> ReadEvents(const std::string& session_id, int64_t after,
                                                   int64_t limit) = 0;

  // The position of the event whose id is `event_id` in the session, if it has one (a client
  // resuming with Last-Event-ID: <event id>).
  virtual Result<std::optional<int64_t>> FindEvent(const std::string& session_id,
                                                   const std::string& event_id) = 0;

  // The latest state:checkpoint event at or before `position`, if any.
  virtual Result<std::optional<EventPtr>> LatestCheckpoint(const std::string& session_id,
                                                           int64_t position) = 0;

  // kNotFound for an unknown id.
  virtual Result<SessionInfo> GetSession(const std::string& id) = 0;

  // Newest first.
  virtual Result<std::vector<SessionInfo>> ListSessions(const SessionFilter& filter) = 0;

    // How many sessions there are in each status (only `filter.owner`'s when set).
  virtual Result<std::map<SessionStatus, int64_t>> CountSessions(const SessionFilter& filter) = 0;

  // Removes a session and everything stored for it. kNotFound for an unknown id.

  virtual Status DeleteSession(const std::string& id) = 0;
};

}  // namespace scaffold::engine

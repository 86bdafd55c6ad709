// Where a stored session stands, read from its event log, so the Runner can continue it.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "engine/event_store.h"

namespace scaffold::engine {

struct ResumePoint {
  enum class Where {
    kStart,      // no phase entered yet: enter the entry phase
    kInPhase,    // `phase` was entered and not exited: run it again
    kEnterNext,  // `phase` exited towards `next`, which was not entered yet
    kComplete,   // `phase` (terminal) exited; workflow:completed is missing
    kFinished,   // workflow:completed or workflow:error is in the log
  };
  Where where = Where::kStart;
  bool started = false;  // workflow:started is in the log
  Json overrides = Json::object();  // the --provider/--model the session was started with
  Json state = Json::object();
  int64_t last_position = 0;
  std::map<std::string, int> visits;  // phase:entered counts
  std::string phase;
  std::string next;
  std::string final_event;  // kFinished

  // What the interrupted visit of `phase` had already recorded (kInPhase):
  std::map<std::string, Json> agent_outputs;  // ReuseKey(agent, index) -> agent:completed output
  std::optional<Json> input_requested;        // input:requested payload
  int64_t input_requested_at = 0;             // its timestamp
  std::optional<Json> input_received;         // input:received payload
  std::optional<Json> tool_result;            // a tool phase's tool:result payload

  int intents_since_checkpoint = 0;
  int64_t intent_bytes_since_checkpoint = 0;  // their serialized size
  int64_t last_checkpoint_bytes = 0;          // the last checkpoint's serialized size
};

// "writer" or "writer#3" (inside `each`).
std::string ReuseKey(const std::string& agent, std::optional<int> index);

// Reads the whole log of `session_id`.
Result<ResumePoint> ReadResumePoint(EventStore* store, const std::string& session_id);

}  // namespace scaffold::engine

#include "engine/event_store.h"

namespace scaffold::engine {

const char* SessionStatusName(SessionStatus status) {
  switch (status) {
    case SessionStatus::kRunning:
      return "running";
    case SessionStatus::kWaiting:
      return "waiting";
    case SessionStatus::kPaused:
      return "paused";
    case SessionStatus::kCompleted:
      return "completed";
    case SessionStatus::kFailed:
      return "failed";
  }
  return "running";
}

std::optional<SessionStatus> ParseSessionStatus(std::string_view name) {
  for (auto s : {SessionStatus::kRunning, SessionStatus::kWaiting, SessionStatus::kPaused,
                 SessionStatus::kCompleted, SessionStatus::kFailed}) {
    if (name == SessionStatusName(s)) return s;
  }
  return std::nullopt;
}

SessionStatus StatusAfter(SessionStatus current, const Event& e) {
  std::string_view event = e.name;
  // Resumed at an ask still unanswered: waiting again, without a new input:requested.
  if (event == events::kSessionResumed && e.payload.contains("waitingFor")) return SessionStatus::kWaiting;

  if (event == events::kWorkflowCompleted) return SessionStatus::kCompleted;
  if (event == events::kWorkflowError) return SessionStatus::kFailed;
  // A fork is a paused copy until someone resumes it.
  if (event == events::kSessionPaused || event == events::kSessionForked)
    return SessionStatus::kPaused;
  if (event == events::kInputRequested) return SessionStatus::kWaiting;
  if (event == events::kInputReceived || event == events::kSessionResumed) {
    return SessionStatus::kRunning;
  }
  return current;
}

}  // namespace scaffold::engine

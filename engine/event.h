// Events: the append-only log every session is made of (DESIGN §4).
//
// Wire shape: {"id": uuid-v4, "position": N, "name": "text:delta", "payload": {...},
// "timestamp": unix-ms}. `position` counts from 1 within a session and is the one cursor used
// everywhere. An Event is immutable once committed and is shared (EventPtr) between the store,
// the terminal renderer and every server subscriber; `wire` holds its serialized form, computed
// once.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold::engine {

namespace events {
inline constexpr const char* kWorkflowStarted = "workflow:started";
inline constexpr const char* kWorkflowCompleted = "workflow:completed";
inline constexpr const char* kWorkflowError = "workflow:error";
inline constexpr const char* kPhaseEntered = "phase:entered";
inline constexpr const char* kPhaseExited = "phase:exited";
inline constexpr const char* kAgentStarted = "agent:started";
inline constexpr const char* kAgentCompleted = "agent:completed";
inline constexpr const char* kAgentRetry = "agent:retry";
inline constexpr const char* kTextDelta = "text:delta";
inline constexpr const char* kTextComplete = "text:complete";
inline constexpr const char* kThinkingDelta = "thinking:delta";
inline constexpr const char* kThinkingComplete = "thinking:complete";
inline constexpr const char* kToolCalled = "tool:called";
inline constexpr const char* kToolResult = "tool:result";
inline constexpr const char* kToolListed = "tool:listed";
inline constexpr const char* kStateIntent = "state:intent";
inline constexpr const char* kStateCheckpoint = "state:checkpoint";
inline constexpr const char* kInputRequested = "input:requested";
inline constexpr const char* kInputReceived = "input:received";
inline constexpr const char* kSessionPaused = "session:paused";
inline constexpr const char* kSessionResumed = "session:resumed";
inline constexpr const char* kSessionForked = "session:forked";
}  // namespace events

struct Event {
  std::string id;
  int64_t position = 0;
  std::string name;
  Json payload = Json::object();
  int64_t timestamp = 0;
  std::string wire;  // serialized wire JSON; see Serialize()

  // Fills `wire` from the other fields.
  void Serialize();

  // Parses one event in wire form, filling `wire` with `text` unchanged.
  static Result<Event> Parse(std::string_view text);
};

using EventPtr = std::shared_ptr<const Event>;

// Parses events in wire form, as Event::Parse, on several threads when there are many (a whole
// long log read at once: kEventsPerParseThread or more per thread); `out` gets them in order. On a
// problem, returns it and sets `*bad` to the index of the first text that has one.
inline constexpr size_t kEventsPerParseThread =
    8192;  // fewer, and a thread costs more than it saves
Status ParseEvents(std::span<const std::string_view> texts, std::vector<EventPtr>* out,
                   size_t* bad);

// What can be read of an event's wire text without parsing it, when the text has exactly the
// layout Serialize writes: {"id":"<id>","position":<n>,"name":"<name>","payload":<payload>,
// "timestamp":<ms>}, the id and the name in printable ASCII with no escapes, the numbers plain
// decimal. The payload's text is not checked: it is a valid payload only when it equals one that
// Serialize wrote. Nothing when the text has any other layout (then parse it).
struct WireView {
  int64_t position = 0;
  std::string_view name;
  std::string_view payload;
};
std::optional<WireView> ViewWire(std::string_view wire);

// True for the two events after which a session runs no more.
bool IsFinalEvent(std::string_view name);

// True for tool:called / tool:result of a call made through the server's tool route
// ("via": "api"): outside every phase, so resume and replay pass over them.
bool IsExternalToolEvent(const Event& event);

}  // namespace scaffold::engine

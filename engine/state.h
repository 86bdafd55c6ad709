// Deriving a session's state from its event log (DESIGN §4): the state at position N is the
// initial state (from workflow:started) with the patches of state:intent events 1..N applied;
// a state:checkpoint stands in for everything before it.
#pragma once

#include <optional>
#include <span>

#include "engine/event_store.h"

namespace scaffold::engine {

// Applies one event's effect on the state, if it has one.
Status FoldEvent(const Event& event, Json* state);

struct StateAtPosition {
  Json state;
  int64_t position = 0;         // the position the state is at
  int64_t events_replayed = 0;  // events folded after the checkpoint used (or from the start)
};

// The state of a stored session at `position` (default: its last event). kInvalidArgument for
// a position outside 1..last.
Result<StateAtPosition> StateAt(EventStore* store, const std::string& session_id,
                                std::optional<int64_t> position);

}  // namespace scaffold::engine

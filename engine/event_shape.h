// The payload fields of each event in the catalog (DESIGN §4), checked where events come from
// outside the process: recording files (replay, import) and the event streams `scaffold attach`
// reads from a server. Every field scaffold reads from a payload is checked for its type here,
// so the readers of a stored log (resume, replay, state, the renderer) can rely on it. Unknown
// event names and extra fields are allowed: a newer scaffold may write them.
#pragma once

#include "engine/event.h"
#include "engine/status.h"

namespace scaffold::engine {

// kDataLoss naming the event and the field ("event 12 (agent:completed): /payload/index:
// expected an integer, got a string"); Ok when the payload has the catalog's shape.
Status CheckEventShape(const Event& event);

}  // namespace scaffold::engine

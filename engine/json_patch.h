// State updates as RFC 6902 JSON Patch.
//
// An update assigns values to JSON pointers in the state. ApplyAssignments applies them in
// order, all or nothing, and returns the patch that did it and the inverse patch that undoes
// it; both go into the `state:intent` event, from which any later reader re-derives the state.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold::engine {

struct Assignment {
  std::string pointer;  // "/draft", "/notes/-" (append), "/items/0"
  Json value;
};

struct StatePatch {
  Json patches = Json::array();  // RFC 6902 operations, in order
  Json inverse = Json::array();  // undoes `patches` when applied in order
};

// Applies `assignments` to `*state` in order. On failure (a parent that does not exist or is
// not a container, an index out of range) `*state` is left unchanged and the error's path is
// the offending pointer.
Result<StatePatch> ApplyAssignments(Json* state, const std::vector<Assignment>& assignments);

// Applies an RFC 6902 patch (as recorded in a state:intent) to `*state`.
Status ApplyPatch(Json* state, const Json& patch);

}  // namespace scaffold::engine

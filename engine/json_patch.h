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

// Applies `assignments` to `*state` in order. A value that replaces an array with a longer one
// starting with all of its elements is recorded as the elements added ("add" at each new
// index, undone by "remove"), so a list grown step by step costs what was added, not the whole
// list each time. Strings are replaced whole: RFC 6902 has no operation that appends to one,
// and every client applies these patches with a standard library. On failure (a parent that does not exist or is
// not a container, an index out of range) `*state` is left unchanged and the error's path is
// the offending pointer.
Result<StatePatch> ApplyAssignments(Json* state, const std::vector<Assignment>& assignments);

// Rewrites a recorded intent's "replace" of an array by a longer copy (its old value read from
// the inverse patch) the way ApplyAssignments records it now, so recordings made before lists
// were recorded as what was added still compare equal in replay. Anything else is unchanged.
void CompactRecordedIntent(Json* patches, Json* inverse);

// Applies an RFC 6902 patch (as recorded in a state:intent) to `*state`.
Status ApplyPatch(Json* state, const Json& patch);

}  // namespace scaffold::engine

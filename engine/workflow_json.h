#pragma once
// A workflow file's text read into a JSON tree that keeps the file's key order: syntax errors with
// their line and column, and duplicate keys and nesting past kMaxJsonDepth with their JSON pointer.
//
// n log n in the keys of an object, linear in the rest of the text. nlohmann's own builders are
// not: ordered_json finds a key by scanning its object, and the builder that takes a callback
// scans an object again each time one of its members closes, so a 3.5 MB file of 200,000 keys
// took 35 s and one of 8,000 phases 0.25 s. The tree is built from the parser's events here,
// each open object's keys in a sorted map.

#include <optional>
#include <string_view>
#include <vector>

#include "engine/json.h"
#include "engine/workflow.h"

namespace scaffold::engine {

// The tree, or nullopt with the diagnostics that say why: a syntax error (the only diagnostic
// then), or nesting too deep (the parse stops there; duplicate keys before it are told too).
// Duplicate keys are diagnostics but leave a tree: the last value of a key is kept, at the place
// of its first appearance.
std::optional<OrderedJson> ParseWorkflowJson(std::string_view text, std::vector<Diagnostic>* diags);

}  // namespace scaffold::engine

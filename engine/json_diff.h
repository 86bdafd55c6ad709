// Differences between two JSON values, for replay reports and missing-exchange explanations.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/json.h"

namespace scaffold::engine {

struct JsonChange {
  enum class Kind { kChanged, kAdded, kRemoved };
  Kind kind;
  std::string path;  // JSON pointer
  Json before;       // kChanged, kRemoved
  Json after;        // kChanged, kAdded
  // "/messages/1/content/0/text: \"…old…\" → \"…new…\"", with long strings shortened around
  // the change, or "/x: added 3" / "/y: removed \"a\"".
  std::string ToString(size_t width = 60) const;
};

// Every difference between `before` and `after`, depth first, object keys in order. Arrays are
// compared element by element.
std::vector<JsonChange> DiffJson(const Json& before, const Json& after);

// The first difference only, or nothing when equal (cheaper than DiffJson).
std::optional<JsonChange> FirstDifference(const Json& before, const Json& after);

// Two strings shortened to `width` around where they first differ: "…nd the " vs "…nd a ".
std::pair<std::string, std::string> ShortenAroundChange(const std::string& a, const std::string& b, size_t width);

}  // namespace scaffold::engine

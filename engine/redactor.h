// Redaction (--redact): regular expressions (RE2 syntax, matched in linear time; see regex.h)
// whose matches are replaced with "[REDACTED]" in every string scaffold stores: event payloads,
// the session input and recorded provider exchanges. The workflow itself runs on the real
// values; only what is written down is masked. A secret a model streams split across two text
// deltas is masked in the complete text and the recording, but its pieces can remain in the
// individual text:delta events.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/regex.h"
#include "engine/status.h"

namespace scaffold::engine {

inline constexpr const char* kRedacted = "[REDACTED]";

class Redactor {
 public:
  Redactor() = default;
  // Fails naming the first pattern that is not a valid RE2 expression.
  static Result<Redactor> Compile(const std::vector<std::string>& patterns);

  bool empty() const { return regexes_.empty(); }
  const std::vector<std::string>& patterns() const { return patterns_; }

  std::string Apply(const std::string& text) const;
  // Applies to every string value (not object keys) inside `value`.
  Json Apply(const Json& value) const;

 private:
  std::vector<std::string> patterns_;
  std::vector<std::shared_ptr<const RE2>> regexes_;  // immutable; shared by copies
};

}  // namespace scaffold::engine
